// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/<pid>/fdinfo/<fd> of a twheel file: its CPU, whether it is pinned,
 * its armed timers, queued events and connections, as TWHEEL_IOC_STATS
 * reports them, readable by whoever may look at the process's files.
 */

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "twheel_test.h"

/* The fields of a twheel file's fdinfo; -1 where a line is missing. */
struct tw_fdinfo {
	long long cpu;
	long long pinned;
	long long armed;
	long long queued;
	long long conns;
	char id[32];
	int lines;		/* twheel-* lines seen */
};

/* Parses /proc/@pid/fdinfo/@fd. Returns 0, or -1 if it cannot be read. */
static int tw_read_fdinfo(pid_t pid, int fd, struct tw_fdinfo *fi)
{
	static const char *const names[] = {
		"twheel-cpu:", "twheel-pinned:", "twheel-armed:",
		"twheel-queued:", "twheel-conns:",
	};
	long long *vals[] = {
		&fi->cpu, &fi->pinned, &fi->armed, &fi->queued, &fi->conns,
	};
	char path[64], line[256];
	FILE *f;

	memset(fi, 0, sizeof(*fi));
	for (unsigned int i = 0; i < 5; i++)
		*vals[i] = -1;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "twheel-", 7))
			continue;
		fi->lines++;
		if (sscanf(line, "twheel-id: %31s", fi->id) == 1)
			continue;
		for (unsigned int i = 0; i < 5; i++) {
			size_t len = strlen(names[i]);

			if (!strncmp(line, names[i], len))
				*vals[i] = strtoll(line + len, NULL, 10);
		}
	}
	fclose(f);
	return 0;
}

FIXTURE(fdinfo) {
	int fd;
};

FIXTURE_SETUP(fdinfo)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(fdinfo)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(fdinfo, a_new_file_shows_its_cpu_and_nothing_armed)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	struct tw_fdinfo fi;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	EXPECT_EQ(6, fi.lines);
	EXPECT_EQ(hs.cpu, fi.cpu);
	EXPECT_EQ(0, fi.pinned);
	EXPECT_EQ(0, fi.armed);
	EXPECT_EQ(0, fi.queued);
	EXPECT_EQ(0, fi.conns);
	EXPECT_NE(0, fi.id[0]);
}

TEST_F(fdinfo, armed_queued_and_conns_follow_arms_expiries_and_reads)
{
	struct twheel_event ev[2];
	struct twheel_stats st;
	struct tw_fdinfo fi;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	EXPECT_EQ(3, fi.armed);
	EXPECT_EQ(0, fi.queued);
	EXPECT_EQ(2, fi.conns);

	/* One fires at once and waits to be read. */
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_CONNECT, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(3, fi.armed);
	EXPECT_EQ(1, fi.queued);
	EXPECT_EQ(3, fi.conns);
	EXPECT_EQ(st.armed, fi.armed);
	EXPECT_EQ(st.queued, fi.queued);
	EXPECT_EQ(st.conns, fi.conns);
	EXPECT_EQ(st.cpu, fi.cpu);

	ASSERT_EQ(sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 1));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	EXPECT_EQ(1, fi.armed);
	EXPECT_EQ(0, fi.queued);
	EXPECT_EQ(1, fi.conns);
}

TEST_F(fdinfo, set_cpu_shows_the_file_pinned_on_that_cpu)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct twheel_handshake hs = { .size = sizeof(hs) };
	struct tw_fdinfo fi;
	unsigned int cpu;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (!(hs.features & TWHEEL_FEAT_SET_CPU))
		SKIP(return, "TWHEEL_IOC_SET_CPU is not offered");
	/* Another CPU than the one serving it, when there is one. */
	cpu = ncpus > 1 ? (hs.cpu + 1) % ncpus : hs.cpu;
	ASSERT_EQ(0, tw_set_cpu(self->fd, cpu));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	EXPECT_EQ(cpu, fi.cpu);
	EXPECT_EQ(1, fi.pinned);
}

TEST_F(fdinfo, another_process_sees_what_a_daemon_holds)
{
	int ready[2], done[2];
	struct tw_fdinfo fi;
	pid_t pid;
	char c;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The daemon: its own file, five timers on five connections. */
		int fd = open("/dev/twheel", O_RDWR);

		/* The parent's close of done[1] must reach us as end of file. */
		close(done[1]);

		for (int i = 0; fd >= 0 && i < 5; i++)
			if (tw_arm(fd, 100 + i, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0))
				_exit(1);
		if (fd < 0 || dprintf(ready[1], "%d\n", fd) < 0)
			_exit(1);
		/* Holds the file until the parent has looked. */
		if (read(done[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(done[0]);

	char buf[16] = "";
	int child_fd = -1;

	if (read(ready[0], buf, sizeof(buf) - 1) > 0)
		child_fd = atoi(buf);
	ASSERT_LE(0, child_fd);
	EXPECT_EQ(0, tw_read_fdinfo(pid, child_fd, &fi));
	EXPECT_EQ(5, fi.armed);
	EXPECT_EQ(5, fi.conns);
	EXPECT_EQ(0, fi.queued);

	/* The parent's own file is another file: nothing of the child's. */
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &fi));
	EXPECT_EQ(0, fi.armed);

	close(done[1]);
	int status;

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
}

TEST_F(fdinfo, dup_and_fork_share_one_file_and_one_id)
{
	struct tw_fdinfo a, b;
	int fd2;

	if (tw_setup_skipped(_metadata))
		return;

	fd2 = dup(self->fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tw_arm(self->fd, 7, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), self->fd, &a));
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), fd2, &b));
	EXPECT_STREQ(a.id, b.id);
	EXPECT_EQ(1, b.armed);
	close(fd2);

	/* A file of its own has another id. */
	fd2 = open("/dev/twheel", O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tw_read_fdinfo(getpid(), fd2, &b));
	EXPECT_STRNE(a.id, b.id);
	close(fd2);
}

TEST_HARNESS_MAIN
