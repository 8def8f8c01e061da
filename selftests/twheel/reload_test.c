// SPDX-License-Identifier: GPL-2.0
/*
 * The module cannot be unloaded while a file is open, and unloads and
 * loads again cleanly, twenty times, with timers armed and files closed in
 * between. Runs last: it leaves the module loaded with default parameters.
 */

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "twheel_test.h"

/* Where the test VM keeps the modules it loads (scripts/vm/run-vm). */
#define DEFAULT_KO "/lib/twheel/twheel.ko"

static const char *ko_path(void)
{
	const char *p = getenv("TWHEEL_KO");

	return p ? p : DEFAULT_KO;
}

static int load(const char *params)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, params, 0);
	close(fd);
	return ret;
}

static int unload(void)
{
	return syscall(SYS_delete_module, "twheel", O_NONBLOCK);
}

FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
	if (access("/sys/module/twheel", F_OK))
		SKIP(return, "the twheel module is not loaded");
	if (access(ko_path(), R_OK))
		SKIP(return, "%s is missing (set TWHEEL_KO)", ko_path());
}

FIXTURE_TEARDOWN(reload)
{
	/* Whatever happened, leave the module loaded for what comes next. */
	if (access("/sys/module/twheel", F_OK))
		load("");
}

TEST_F(reload, an_open_file_keeps_the_module_loaded)
{
	int fd = tw_open_or_skip(O_RDWR);

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-1, unload());
	if (errno == EPERM)
		SKIP(close(fd); return, "not allowed to unload modules");
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(0, access("/sys/module/twheel", F_OK));
	close(fd);
}

TEST_F_TIMEOUT(reload, twenty_unloads_and_loads_with_timers_in_between, 300)
{
	struct twheel_arm a[1000];
	struct twheel_event ev[1000];
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int round = 0; round < 20; round++) {
		const char *params = round % 2 ? "tick_us=250" : "";
		struct twheel_handshake hs = { .size = sizeof(hs) };
		int fd;

		ASSERT_EQ(0, unload()) TH_LOG("round %u: %s", round, strerror(errno));
		ASSERT_NE(0, access("/sys/module/twheel", F_OK));
		ASSERT_EQ(0, load(params)) TH_LOG("round %u: %s", round, strerror(errno));

		fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ioctl(fd, TWHEEL_IOC_HANDSHAKE, &hs));
		EXPECT_EQ(round % 2 ? 250000 : 1000000, hs.tick_ns);

		/* Half fire at once and are read, half stay armed at close. */
		memset(a, 0, sizeof(a));
		for (unsigned int i = 0; i < 1000; i++) {
			a[i].conn_id = i / 2;
			a[i].kind = i % 2;
			a[i].timeout_ns = i % 2 ? 60 * NSEC_PER_SEC : 0;
		}
		ASSERT_EQ(1000, tw_arm_batch(fd, a, 1000, &b));
		ASSERT_EQ(500, tw_read_n(fd, ev, 500, 5000));
		ASSERT_EQ(0, close(fd));
	}
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
}

TEST_HARNESS_MAIN
