// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_reap() and twheel_wait(): events come back never early, each
 * once, into arrays of any size; reaping never blocks, waiting times out
 * with -ETIME.
 */

#include <fcntl.h>

#include "lib_test.h"

TEST(reap_returns_0_at_once_on_a_blocking_file_with_nothing_queued)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev[4];

	errno = ERRNO_CANARY;
	EXPECT_EQ(0, twheel_reap(tw, ev, 4));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The file's own flags are left as they were. */
	EXPECT_FALSE(fcntl(twheel_fd(tw), F_GETFL) & O_NONBLOCK);
	twheel_close(tw);
}

TEST(a_small_array_takes_events_in_turns_and_loses_none)
{
	struct twheel *tw = tl_open_or_skip(TWHEEL_OPEN_NONBLOCK);
	struct twheel_event ev[2];
	unsigned int seen = 0;
	int n, calls = 0;

	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, 0, 10 * NSEC_PER_MSEC, 100 + i, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 5, 5000));
	while ((n = twheel_reap(tw, ev, 2)) > 0) {
		EXPECT_GE(2, n);
		for (int i = 0; i < n; i++) {
			ASSERT_GT(5, ev[i].conn_id);
			EXPECT_EQ(100 + ev[i].conn_id, ev[i].user_data);
			/* Each connection once. */
			EXPECT_FALSE(seen & (1U << ev[i].conn_id));
			seen |= 1U << ev[i].conn_id;
		}
		calls++;
	}
	EXPECT_EQ(0, n);
	EXPECT_EQ(3, calls);
	EXPECT_EQ(0x1f, seen);
	twheel_close(tw);
}

TEST(events_are_never_early_and_come_exactly_once)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev[16];
	struct twheel_stats st;
	uint64_t t0 = tw_now(), now;
	unsigned int got = 0;
	int n;

	for (int i = 0; i < 8; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, TWHEEL_KIND_RETRANSMIT,
					(5 + 5 * i) * NSEC_PER_MSEC, i, 0));
	while (got < 8) {
		n = twheel_wait(tw, ev, 16, 5000);
		ASSERT_LT(0, n);
		now = tw_now();
		for (int i = 0; i < n; i++) {
			uint64_t timeout = (5 + 5 * ev[i].user_data) * NSEC_PER_MSEC;

			EXPECT_LE(t0 + timeout, ev[i].deadline_ns);
			EXPECT_LE(ev[i].deadline_ns, ev[i].fired_ns);
			EXPECT_LE(ev[i].fired_ns, now);
			EXPECT_EQ(ev[i].user_data, ev[i].conn_id);
		}
		got += n;
	}
	EXPECT_EQ(8, got);
	/* Nothing more: nothing armed, nothing queued, eight fired and read. */
	EXPECT_EQ(-ETIME, twheel_wait(tw, ev, 16, 0));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(8, st.fired);
	EXPECT_EQ(8, st.read);
	twheel_close(tw);
}

TEST(wait_times_out_with_etime_after_the_time_given)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev;
	uint64_t t0;

	errno = ERRNO_CANARY;
	EXPECT_EQ(-ETIME, twheel_wait(tw, &ev, 1, 0));
	t0 = tw_now();
	EXPECT_EQ(-ETIME, twheel_wait(tw, &ev, 1, 30));
	EXPECT_LE(t0 + 30 * NSEC_PER_MSEC, tw_now());
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* A timer due before the timeout ends the wait. */
	ASSERT_EQ(0, twheel_arm(tw, 9, 0, 10 * NSEC_PER_MSEC, 0, 0));
	EXPECT_EQ(1, twheel_wait(tw, &ev, 1, -1));
	EXPECT_EQ(9, ev.conn_id);
	twheel_close(tw);
}

TEST(bad_arguments_give_einval)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev;

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_reap(NULL, &ev, 1));
	EXPECT_EQ(-EINVAL, twheel_reap(tw, NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_reap(tw, &ev, 0));
	EXPECT_EQ(-EINVAL, twheel_wait(NULL, &ev, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_wait(tw, NULL, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_wait(tw, &ev, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_wait(tw, &ev, 1, -2));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST(a_buffer_the_kernel_cannot_write_is_efault)
{
	struct twheel *tw = tl_open_or_skip(0);

	ASSERT_EQ(0, twheel_arm(tw, 1, 0, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 1, 5000));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EFAULT, twheel_reap(tw, (struct twheel_event *)8, 1));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
