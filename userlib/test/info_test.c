// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_open(), twheel_get_info(), twheel_fd(), twheel_set_cpu(),
 * twheel_close(): the library opens the device on the CPU asked for,
 * answers from the handshake, and reports errors as negative errno values
 * without touching errno.
 */

#include <fcntl.h>
#include <sys/resource.h>

#include "lib_test.h"

TEST(open_reports_the_modules_handshake)
{
	struct twheel_handshake info, raw;
	struct twheel *tw = tl_open_or_skip(0);

	ASSERT_EQ(0, twheel_get_info(tw, &info));
	EXPECT_EQ(TWHEEL_API_VERSION, info.api_version);
	EXPECT_EQ(TWHEEL_NR_KINDS, info.nr_kinds);
	EXPECT_EQ(sizeof(struct twheel_event), info.event_size);
	EXPECT_NE(0, info.features & TWHEEL_FEAT_TIMERS);
	ASSERT_LE(0, twheel_fd(tw));
	/* The same answers as the device gives to a handshake of our own. */
	memset(&raw, 0, sizeof(raw));
	raw.size = sizeof(raw);
	ASSERT_EQ(0, ioctl(twheel_fd(tw), TWHEEL_IOC_HANDSHAKE, &raw));
	EXPECT_EQ(0, memcmp(&raw, &info, sizeof(raw)));
	twheel_close(tw);
}

TEST(nonblock_open_gives_a_nonblocking_close_on_exec_fd)
{
	struct twheel *tw = tl_open_or_skip(TWHEEL_OPEN_NONBLOCK);

	EXPECT_TRUE(fcntl(twheel_fd(tw), F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(twheel_fd(tw), F_GETFD) & FD_CLOEXEC);
	twheel_close(tw);
	tw = tl_open_or_skip(0);
	EXPECT_FALSE(fcntl(twheel_fd(tw), F_GETFL) & O_NONBLOCK);
	twheel_close(tw);
}

TEST(open_on_each_online_cpu_is_served_by_that_cpu)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct twheel_handshake info;
	struct twheel_stats st;
	struct twheel *tw;
	int cpu, ret;

	ASSERT_LE(1, cpus);
	for (cpu = 0; cpu < cpus; cpu++) {
		ret = twheel_open(&tw, 0, cpu);
		if (ret == -ENOENT)
			SKIP(return, "/dev/twheel is missing: module not loaded");
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, twheel_get_info(tw, &info));
		EXPECT_EQ(cpu, info.cpu);
		ASSERT_EQ(0, twheel_get_stats(tw, &st));
		EXPECT_EQ(cpu, st.cpu);
		twheel_close(tw);
	}
}

TEST(set_cpu_moves_the_context_and_the_handshake_follows)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_handshake info;
	struct twheel_stats st;
	unsigned int target;

	ASSERT_EQ(0, twheel_get_info(tw, &info));
	target = cpus > 1 ? !info.cpu : 0;
	ASSERT_EQ(0, twheel_set_cpu(tw, target));
	ASSERT_EQ(0, twheel_get_info(tw, &info));
	EXPECT_EQ(target, info.cpu);
	/* The device agrees with what the library reports. */
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(target, st.cpu);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_set_cpu(tw, 1U << 30));
	EXPECT_EQ(-EINVAL, twheel_set_cpu(NULL, 0));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* A failed move leaves the context where it was. */
	ASSERT_EQ(0, twheel_get_info(tw, &info));
	EXPECT_EQ(target, info.cpu);
	twheel_close(tw);
}

TEST(open_on_a_cpu_that_does_not_exist_fails_and_leaks_nothing)
{
	struct twheel *tw = (struct twheel *)0x1;
	int fds_before, fds_after;

	if (access("/dev/twheel", F_OK))
		SKIP(return, "/dev/twheel is missing: module not loaded");
	fds_before = dup(0);
	ASSERT_LE(0, fds_before);
	close(fds_before);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_open(&tw, 0, 1 << 30));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The handle is not written on failure. */
	EXPECT_EQ((struct twheel *)0x1, tw);
	/* The descriptor it opened was closed: the next one is the same. */
	fds_after = dup(0);
	EXPECT_EQ(fds_before, fds_after);
	close(fds_after);
}

TEST(bad_arguments_give_einval_and_leave_errno_alone)
{
	struct twheel_handshake info;
	struct twheel *tw;

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_open(NULL, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(-EINVAL, twheel_open(&tw, 1U << 31, TWHEEL_CPU_ANY));
	EXPECT_EQ(-EINVAL, twheel_open(&tw, 0, -2));
	EXPECT_EQ(-EINVAL, twheel_get_info(NULL, &info));
	EXPECT_EQ(-EINVAL, twheel_fd(NULL));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(NULL);
	EXPECT_EQ(ERRNO_CANARY, errno);

	tw = tl_open_or_skip(0);
	EXPECT_EQ(-EINVAL, twheel_get_info(tw, NULL));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST(open_failure_is_a_negative_errno_not_errno)
{
	struct rlimit rl = { 0, 0 };
	struct twheel *tw;

	if (access("/dev/twheel", F_OK))
		SKIP(return, "/dev/twheel is missing: module not loaded");
	/* With no descriptor left, the open fails with -EMFILE. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EMFILE, twheel_open(&tw, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST_HARNESS_MAIN
