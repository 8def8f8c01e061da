// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_open(), twheel_get_info(), twheel_fd(), twheel_close(): the
 * library opens the device, answers from the handshake, and reports errors
 * as negative errno values without touching errno.
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "libtwheel.h"

#include "kselftest_harness.h"

TEST(open_reports_the_modules_handshake)
{
	struct twheel_handshake info;
	struct twheel *tw;
	int ret;

	ret = twheel_open(&tw, 0, TWHEEL_CPU_ANY);
	if (ret == -ENOENT)
		SKIP(return, "/dev/twheel is missing: module not loaded");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, twheel_get_info(tw, &info));
	EXPECT_EQ(TWHEEL_API_VERSION, info.api_version);
	EXPECT_EQ(TWHEEL_NR_KINDS, info.nr_kinds);
	EXPECT_GE(twheel_fd(tw), 0);
	twheel_close(tw);
}

TEST(nonblock_open_gives_a_nonblocking_fd)
{
	struct twheel *tw;

	ASSERT_EQ(0, twheel_open(&tw, TWHEEL_OPEN_NONBLOCK, TWHEEL_CPU_ANY));
	EXPECT_TRUE(fcntl(twheel_fd(tw), F_GETFL) & O_NONBLOCK);
	EXPECT_TRUE(fcntl(twheel_fd(tw), F_GETFD) & FD_CLOEXEC);
	twheel_close(tw);
}

TEST(bad_arguments_give_einval_and_leave_errno_alone)
{
	struct twheel *tw;
	struct twheel_handshake info;

	errno = 1234;
	EXPECT_EQ(-EINVAL, twheel_open(NULL, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(-EINVAL, twheel_open(&tw, 1U << 31, TWHEEL_CPU_ANY));
	EXPECT_EQ(-EINVAL, twheel_get_info(NULL, &info));
	EXPECT_EQ(-EINVAL, twheel_fd(NULL));
	EXPECT_EQ(1234, errno);
	twheel_close(NULL);
	EXPECT_EQ(1234, errno);
}

TEST(open_failure_is_a_negative_errno_not_errno)
{
	struct rlimit rl = { 0, 0 };
	struct twheel *tw;

	/* With no descriptor left, the open fails with -EMFILE. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	errno = 1234;
	EXPECT_EQ(-EMFILE, twheel_open(&tw, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(1234, errno);
}

TEST_HARNESS_MAIN
