// SPDX-License-Identifier: GPL-2.0
/*
 * Limits per user: every local user may open /dev/twheel, so one user at
 * its limit of timers or files must leave every other user able to arm and
 * open. A file opened with CAP_SYS_RESOURCE is exempt from the limits per
 * user, not from the system-wide cap, which stays a backstop.
 */

#include <sys/wait.h>

#include "twheel_test.h"

#define PARAMS		"/sys/module/twheel/parameters/"
#define NOBODY		65534
#define OTHER		65533

FIXTURE(users) {
	long max_user_timers, max_user_files, max_timers;
	int held[2], release[2];
	pid_t holder;
};

FIXTURE_SETUP(users)
{
	int fd = tw_open_or_skip(O_RDWR);

	close(fd);
	self->holder = -1;
	self->max_user_timers = tw_read_param(PARAMS "max_user_timers");
	self->max_user_files = tw_read_param(PARAMS "max_user_files");
	self->max_timers = tw_read_param(PARAMS "max_timers");
	ASSERT_LE(0, self->max_timers);
	ASSERT_EQ(0, pipe(self->held));
	ASSERT_EQ(0, pipe(self->release));
}

FIXTURE_TEARDOWN(users)
{
	if (self->holder > 0) {
		close(self->release[1]);
		waitpid(self->holder, NULL, 0);
	}
	if (self->max_user_timers >= 0)
		tw_write_param(PARAMS "max_user_timers", self->max_user_timers);
	if (self->max_user_files >= 0)
		tw_write_param(PARAMS "max_user_files", self->max_user_files);
	tw_write_param(PARAMS "max_timers", self->max_timers);
}

/* Becomes @uid, with no capability left. */
static int become(uid_t uid)
{
	return setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ? -1 : 0;
}

/* Arms @n timers in @fd, one per connection from @first on; how many. */
static int arm_n(int fd, unsigned int first, unsigned int n)
{
	struct twheel_arm a[256];
	struct twheel_batch b;
	unsigned int done = 0;

	while (done < n) {
		unsigned int k = n - done < 256 ? n - done : 256;
		int ret;

		for (unsigned int i = 0; i < k; i++)
			a[i] = (struct twheel_arm){
				.conn_id = first + done + i,
				.timeout_ns = 3600 * NSEC_PER_SEC,
			};
		ret = tw_arm_batch(fd, a, k, &b);
		if (ret < 0)
			return -1;
		done += ret;
		if (ret < (int)k) {
			errno = -b.error;
			break;
		}
	}
	return done;
}

/*
 * A child that becomes NOBODY and arms all it can in four files, until it
 * is refused with ENOSPC; reports on @self->held how many it holds (in
 * thousands, 255 if anything was off), and holds them until released.
 */
static void hold_all_a_user_may(struct _test_data_users *self)
{
	unsigned char held = 255;
	int fd, n, total = 0;

	self->holder = fork();
	if (self->holder)
		return;
	if (!become(NOBODY)) {
		for (int i = 0; i < 4; i++) {
			fd = open("/dev/twheel", O_RDWR);
			n = fd < 0 ? -1 : arm_n(fd, 0, 2000);
			if (n < 0 || (n < 2000 && errno != ENOSPC))
				break;
			total += n;
			if (i == 3)
				held = total / 1000;
		}
	}
	if (write(self->held[1], &held, 1) != 1)
		_exit(1);
	/* Until the test closes its end of the pipe. */
	close(self->release[1]);
	if (read(self->release[0], &held, 1) < 0)
		_exit(1);
	_exit(0);
}

/* Runs @fn as @uid in a child; returns its exit status, or -1. */
static int as_user(uid_t uid, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(become(uid) ? 100 : fn());
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Another user arms its own limit of a thousand: 0 if it could. */
static int arm_a_thousand(void)
{
	int fd = open("/dev/twheel", O_RDWR);

	return fd >= 0 && arm_n(fd, 0, 1000) == 1000 ? 0 : 1;
}

/* The users file lists @uid with @files files and @timers timers. */
static int users_file_has(unsigned int uid, unsigned int files, long timers)
{
	FILE *f = fopen("/sys/kernel/debug/twheel/users", "r");
	unsigned int u, nf;
	long conns, t;
	char line[128];
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u %ld %ld", &u, &nf, &conns, &t) == 4 &&
		    u == uid)
			found = nf == files && t == timers && conns == timers;
	fclose(f);
	return found;
}

TEST_F(users, a_user_who_arms_all_it_may_leaves_others_able_to_arm)
{
	unsigned char held;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	/* Four thousand for everyone, a thousand for each user. */
	ASSERT_EQ(0, tw_write_param(PARAMS "max_timers", 4000));
	if (self->max_user_timers >= 0)
		ASSERT_EQ(0, tw_write_param(PARAMS "max_user_timers", 1000));
	hold_all_a_user_may(self);
	ASSERT_EQ(1, read(self->held[0], &held, 1));
	tw_report("a user arming all it may in four files holds %u000 timers\n",
		  held);
	EXPECT_EQ(1, held);
	if (users_file_has(NOBODY, 4, 1000) >= 0)
		EXPECT_EQ(1, users_file_has(NOBODY, 4, 1000));

	/* Another user is not held up by the first one's timers. */
	EXPECT_EQ(0, as_user(OTHER, arm_a_thousand));
	/* Root, with CAP_SYS_RESOURCE, is not bound by the limit per user. */
	fd = open("/dev/twheel", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1500, arm_n(fd, 0, 1500));
	close(fd);
}

TEST_F(users, the_system_wide_cap_stays_a_backstop)
{
	unsigned char held;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;
	if (self->max_user_timers < 0)
		SKIP(return, "the module has no limits per user");

	ASSERT_EQ(0, tw_write_param(PARAMS "max_user_timers", 1000));
	ASSERT_EQ(0, tw_write_param(PARAMS "max_timers", 1500));
	hold_all_a_user_may(self);
	ASSERT_EQ(1, read(self->held[0], &held, 1));
	ASSERT_EQ(1, held);
	/* Exempt from the limit per user, not from the cap on everyone. */
	fd = open("/dev/twheel", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(500, arm_n(fd, 0, 600));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
}

/* Opens as many files as it may: 0 if that was two, then EMFILE. */
static int open_past_two(void)
{
	int a = open("/dev/twheel", O_RDWR), b = open("/dev/twheel", O_RDWR);
	int c = open("/dev/twheel", O_RDWR);

	return a >= 0 && b >= 0 && c < 0 && errno == EMFILE ? 0 : 1;
}

TEST_F(users, a_user_at_its_limit_of_files_cannot_open_more)
{
	int fd[3];

	if (tw_setup_skipped(_metadata))
		return;
	if (self->max_user_files < 0)
		SKIP(return, "the module has no limits per user");

	ASSERT_EQ(0, tw_write_param(PARAMS "max_user_files", 2));
	EXPECT_EQ(0, as_user(NOBODY, open_past_two));
	/* Root is exempt; and the files of the child were given back. */
	for (int i = 0; i < 3; i++) {
		fd[i] = open("/dev/twheel", O_RDWR);
		EXPECT_LE(0, fd[i]);
	}
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	EXPECT_EQ(0, as_user(NOBODY, open_past_two));
}

TEST_HARNESS_MAIN
