// SPDX-License-Identifier: GPL-2.0
/*
 * Opening and closing /dev/twheel: every open is a context of its own, and
 * closing gives everything back.
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/twheel.h>

#include "kselftest_harness.h"

/*
 * Opens /dev/twheel, or marks the test skipped and returns -1. The harness of
 * Linux 6.1 does not end the test on SKIP() outside its body, so the callers
 * return when _metadata->skip is set.
 */
static int open_twheel(struct __test_metadata *_metadata, int flags)
{
	int fd = open("/dev/twheel", flags | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		SKIP(return -1, "/dev/twheel is missing: module not loaded");
	return fd;
}

TEST(the_device_is_a_character_device_anyone_may_open)
{
	struct stat st;

	if (stat("/dev/twheel", &st) && errno == ENOENT)
		SKIP(return, "/dev/twheel is missing: module not loaded");
	ASSERT_EQ(0, stat("/dev/twheel", &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* misc devices live on major 10 */
	EXPECT_EQ(10, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 0777);
}

TEST(open_and_close_succeed_in_every_access_mode)
{
	int modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR | O_NONBLOCK };

	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		int fd = open_twheel(_metadata, modes[i]);

		if (_metadata->skip)
			return;
		ASSERT_GE(fd, 0) TH_LOG("open mode %#x: %s", modes[i],
					strerror(errno));
		EXPECT_EQ(0, close(fd));
	}
}

TEST(each_open_file_answers_the_handshake_on_its_own)
{
	struct twheel_handshake a = { .size = sizeof(a) };
	struct twheel_handshake b = { .size = sizeof(b) };
	int fa, fb;

	fa = open_twheel(_metadata, O_RDWR);
	if (_metadata->skip)
		return;
	ASSERT_GE(fa, 0);
	fb = open_twheel(_metadata, O_RDWR);
	ASSERT_GE(fb, 0);
	ASSERT_NE(fa, fb);
	ASSERT_EQ(0, ioctl(fa, TWHEEL_IOC_HANDSHAKE, &a));
	close(fa);
	/* Closing one file leaves the other working. */
	ASSERT_EQ(0, ioctl(fb, TWHEEL_IOC_HANDSHAKE, &b));
	EXPECT_EQ(a.api_version, b.api_version);
	close(fb);
}

TEST(thousands_of_files_open_and_close)
{
	struct rlimit rl = { 4200, 4200 };
	int fds[4000];
	int n;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (n = 0; n < 4000; n++) {
		fds[n] = open_twheel(_metadata, O_RDWR);
		if (_metadata->skip)
			return;
		ASSERT_GE(fds[n], 0) TH_LOG("open #%d: %s", n, strerror(errno));
	}
	for (n = 0; n < 4000; n++)
		ASSERT_EQ(0, close(fds[n]));
}

TEST_HARNESS_MAIN
