// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_NEXT: the time the file next has work, a bound that no timer
 * fires before and that is never later than the earliest deadline.
 */

#include "twheel_test.h"

FIXTURE(next) {
	int fd;
	uint64_t tick;
};

FIXTURE_SETUP(next)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (!(hs.features & TWHEEL_FEAT_NEXT))
		SKIP(return, "TWHEEL_IOC_NEXT is not offered");
	self->tick = hs.tick_ns;
}

FIXTURE_TEARDOWN(next)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int get_next(int fd, struct twheel_next *n)
{
	memset(n, 0, sizeof(*n));
	n->size = sizeof(*n);
	return ioctl(fd, TWHEEL_IOC_NEXT, n);
}

static uint64_t round_up(uint64_t ns, uint64_t tick)
{
	return (ns + tick - 1) / tick * tick;
}

TEST_F(next, nothing_armed_is_never)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(sizeof(n), n.size);
	EXPECT_EQ(UINT64_MAX, n.next_ns);
	EXPECT_EQ(0, n.armed);
	EXPECT_EQ(0, n.queued);
}

TEST_F(next, it_bounds_the_earliest_deadline_from_below)
{
	uint64_t now = tw_now();
	uint64_t d1 = now + 3 * NSEC_PER_SEC, d2 = now + 200 * NSEC_PER_MSEC;
	struct twheel_next n;
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, d1, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(1, n.armed);
	EXPECT_GE(round_up(d1, self->tick), n.next_ns);
	EXPECT_LE(now - self->tick, n.next_ns);

	/* An earlier deadline brings it forward. */
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, d2, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(2, n.armed);
	EXPECT_GE(round_up(d2, self->tick), n.next_ns);

	/* Nothing fires before it. */
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_LE(n.next_ns, ev.fired_ns);
	EXPECT_EQ(2, ev.conn_id);
}

TEST_F(next, a_lone_timer_due_in_the_current_block_is_reported_to_the_tick)
{
	uint64_t d, t0, t1, block;
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	/*
	 * A timer due in the same block of 64 ticks as the wheel's clock
	 * waits in the wheel's first level, where the bound is exact. Start
	 * early enough in a block (at most 64 ticks of waiting) that the
	 * deadline, 8 ticks on, falls in it.
	 */
	for (unsigned int i = 0; i < 64; i++) {
		if (tw_now() / self->tick % 64 < 48)
			break;
		poll(NULL, 0, self->tick / NSEC_PER_MSEC ?: 1);
	}
	t0 = tw_now();
	d = t0 + 8 * self->tick;
	block = (d + self->tick - 1) / self->tick / 64;
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, d, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	t1 = tw_now();
	/* The wheel's clock is the tick the arm happened in, t0 to t1. */
	if (t0 / self->tick / 64 != block || t1 / self->tick / 64 != block ||
	    t1 >= d)
		SKIP(return, "the arm did not happen in its deadline's block of ticks");
	EXPECT_EQ(round_up(d, self->tick), n.next_ns);
}

TEST_F(next, queued_events_are_counted_and_no_longer_armed)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(0, n.armed);
	EXPECT_EQ(1, n.queued);
	EXPECT_EQ(UINT64_MAX, n.next_ns);
}

TEST_F(next, cancelling_everything_makes_it_never_again)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 1));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(UINT64_MAX, n.next_ns);
}

TEST_F(next, bad_input_is_refused)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	memset(&n, 0, sizeof(n));
	n.size = sizeof(n);
	n.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, &n));
	EXPECT_EQ(EINVAL, errno);
	memset(&n, 0, sizeof(n));
	n.size = 8;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, &n));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(next, an_older_caller_gets_only_what_it_knows)
{
	unsigned char buf[sizeof(struct twheel_next) + 8];
	struct twheel_next *n = (void *)buf;

	if (tw_setup_skipped(_metadata))
		return;

	memset(buf, 0, sizeof(buf));
	n->size = 16;
	memset(buf + 16, 0xa5, sizeof(buf) - 16);
	/* Input past the caller's size is not the kernel's to check. */
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_NEXT, n));
	EXPECT_EQ(16, n->size);
	EXPECT_EQ(UINT64_MAX, n->next_ns);
	for (unsigned int i = 16; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
}

TEST_HARNESS_MAIN
