// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_STATS: a file's counters follow what it does, and the struct
 * is extensible like every other.
 */

#include "twheel_test.h"

FIXTURE(stats) {
	int fd;
};

FIXTURE_SETUP(stats)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(stats)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(stats, a_new_file_counts_nothing)
{
	struct twheel_stats st;
	struct twheel_handshake hs = { .size = sizeof(hs) };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(sizeof(st), st.size);
	EXPECT_EQ(0, st.armed + st.queued + st.conns + st.arms + st.rearms +
		     st.cancels + st.fired + st.read + st.wakeups);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(hs.cpu, st.cpu);
}

TEST_F(stats, the_counters_follow_arms_rearms_cancels_expiries_and_reads)
{
	struct twheel_stats st;
	struct twheel_event ev[4];

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 0, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, tw_arm(self->fd, 3, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 2, 5000));

	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(2, st.armed);
	EXPECT_EQ(2, st.queued);
	EXPECT_EQ(3, st.conns);
	EXPECT_EQ(4, st.arms);
	EXPECT_EQ(1, st.rearms);
	EXPECT_EQ(2, st.fired);
	EXPECT_EQ(0, st.read);
	EXPECT_LE(1, st.wakeups);

	ASSERT_EQ(2 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 3));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.cancels);
	EXPECT_EQ(2, st.read);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(1, st.conns);
}

TEST_F(stats, an_older_caller_gets_only_what_it_knows)
{
	unsigned char buf[sizeof(struct twheel_stats)];
	struct twheel_stats *st = (void *)buf;

	if (tw_setup_skipped(_metadata))
		return;

	memset(buf, 0, sizeof(buf));
	st->size = 24;
	memset(buf + 24, 0xa5, sizeof(buf) - 24);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_STATS, st));
	EXPECT_EQ(24, st->size);
	for (unsigned int i = 24; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
}

TEST_F(stats, nonzero_input_or_a_tiny_size_is_einval)
{
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	st.fired = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	memset(&st, 0, sizeof(st));
	st.size = 4;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
