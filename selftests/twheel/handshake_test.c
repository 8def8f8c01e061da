// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_HANDSHAKE: the device says what it offers, and rejects what it
 * does not understand.
 */

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/twheel.h>

#include "kselftest_harness.h"

FIXTURE(handshake) {
	int fd;
};

FIXTURE_SETUP(handshake)
{
	self->fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "/dev/twheel is missing: module not loaded");
	ASSERT_GE(self->fd, 0);
}

/*
 * The harness of Linux 6.1 still runs the test after its setup skipped:
 * every test starts by returning if that happened.
 */
#define RETURN_IF_SKIPPED() do { if (_metadata->skip) return; } while (0)

FIXTURE_TEARDOWN(handshake)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(handshake, reports_the_api_version_and_features)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(sizeof(hs), hs.size);
	EXPECT_EQ(TWHEEL_API_VERSION, hs.api_version);
	EXPECT_TRUE(hs.features & TWHEEL_FEAT_HANDSHAKE);
	EXPECT_EQ(TWHEEL_NR_KINDS, hs.nr_kinds);
	EXPECT_GT(sysconf(_SC_NPROCESSORS_CONF), hs.cpu);
	for (unsigned int i = 0; i < sizeof(hs.reserved) / sizeof(hs.reserved[0]); i++)
		EXPECT_EQ(0, hs.reserved[i]);
}

TEST_F(handshake, reports_the_limits_and_features_in_force)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	__u64 all = TWHEEL_FEAT_HANDSHAKE | TWHEEL_FEAT_TIMERS |
		    TWHEEL_FEAT_POLL | TWHEEL_FEAT_NEXT | TWHEEL_FEAT_STATS |
		    TWHEEL_FEAT_SET_CPU;

	RETURN_IF_SKIPPED();

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(all, hs.features & all);
	EXPECT_LT(0, hs.tick_ns);
	/* The default tick is 1 ms; the module parameter allows 1 us to 1 s. */
	EXPECT_GE(1000000000ULL, hs.tick_ns);
	EXPECT_LE(3600ULL * 1000000000ULL, hs.max_timeout_ns);
	EXPECT_LE(4096, hs.max_batch);
	EXPECT_LE(1U << 20, hs.quota_timers);
	EXPECT_LE(hs.quota_timers, hs.max_timers);
	EXPECT_EQ(sizeof(struct twheel_event), hs.event_size);
	EXPECT_EQ(TWHEEL_EVENT_SIZE, hs.event_size);
}

TEST_F(handshake, fills_only_what_an_older_caller_knows)
{
	unsigned char buf[sizeof(struct twheel_handshake) + 16];
	struct twheel_handshake *hs = (void *)buf;
	size_t small = offsetof(struct twheel_handshake, tick_ns);

	RETURN_IF_SKIPPED();

	memset(buf, 0, sizeof(buf));
	memset(buf + small, 0xa5, sizeof(buf) - small);
	hs->size = small;
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, hs));
	EXPECT_EQ(small, hs->size);
	EXPECT_EQ(TWHEEL_API_VERSION, hs->api_version);
	/* Nothing past the caller's size was written. */
	for (size_t i = small; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
}

TEST_F(handshake, accepts_a_newer_callers_zeroed_tail)
{
	unsigned char buf[sizeof(struct twheel_handshake) + 64];
	struct twheel_handshake *hs = (void *)buf;

	RETURN_IF_SKIPPED();

	memset(buf, 0, sizeof(buf));
	hs->size = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, hs));
	/* The kernel says how much it filled: its own size. */
	EXPECT_EQ(sizeof(struct twheel_handshake), hs->size);
	EXPECT_EQ(TWHEEL_API_VERSION, hs->api_version);
}

TEST_F(handshake, rejects_a_newer_callers_nonzero_tail_with_e2big)
{
	unsigned char buf[sizeof(struct twheel_handshake) + 8];
	struct twheel_handshake *hs = (void *)buf;

	RETURN_IF_SKIPPED();

	memset(buf, 0, sizeof(buf));
	hs->size = sizeof(buf);
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, hs));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(handshake, rejects_nonzero_input_fields_with_einval)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	RETURN_IF_SKIPPED();

	hs.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(EINVAL, errno);

	memset(&hs, 0, sizeof(hs));
	hs.size = sizeof(hs);
	hs.features = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(handshake, rejects_a_size_too_small_to_answer_with_einval)
{
	struct twheel_handshake hs = { .size = 0 };

	RETURN_IF_SKIPPED();

	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(EINVAL, errno);
	hs.size = offsetof(struct twheel_handshake, features);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(handshake, rejects_a_size_beyond_a_page_with_e2big)
{
	struct twheel_handshake hs = { .size = 1 << 20 };

	RETURN_IF_SKIPPED();

	/* The rest of that megabyte is not ours: the size alone decides. */
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(handshake, reports_efault_for_bad_pointers)
{
	void *unmapped;
	long pagesz = sysconf(_SC_PAGESIZE);

	RETURN_IF_SKIPPED();

	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, NULL));
	EXPECT_EQ(EFAULT, errno);

	unmapped = mmap(NULL, pagesz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, unmapped));
	EXPECT_EQ(EFAULT, errno);
	munmap(unmapped, pagesz);

	/* A kernel address is never the caller's memory. */
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE,
			    (void *)0xffffffff81000000UL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(handshake, rejects_unknown_commands_with_enotty)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	RETURN_IF_SKIPPED();

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(TWHEEL_IOC_MAGIC, 0x1f,
					    struct twheel_handshake), &hs));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', 0), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
