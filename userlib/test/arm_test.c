// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_arm(), twheel_cancel(), twheel_cancel_conn(), twheel_get_next(),
 * twheel_get_stats(): single timers through the library, what each call
 * returns, and every error it can report.
 */

#include "lib_test.h"

TEST(arm_returns_0_for_a_new_timer_and_1_when_it_replaces_one)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_stats st;

	EXPECT_EQ(0, twheel_arm(tw, 7, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 1, 0));
	EXPECT_EQ(1, twheel_arm(tw, 7, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 2, 0));
	EXPECT_EQ(1, twheel_arm(tw, 7, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 3, 0));
	/* Another kind of the same connection is idle: it is armed. */
	EXPECT_EQ(0, twheel_arm(tw, 7, TWHEEL_KIND_RETRANSMIT,
				NSEC_PER_SEC, 4, 0));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(2, st.armed);
	EXPECT_EQ(1, st.conns);
	EXPECT_EQ(2, st.arms);
	EXPECT_EQ(2, st.rearms);
	twheel_close(tw);
}

TEST(cancel_returns_whether_the_timer_was_there)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_stats st;

	ASSERT_EQ(0, twheel_arm(tw, 1, TWHEEL_KIND_CONNECT, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, twheel_arm(tw, 1, TWHEEL_KIND_USER, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, twheel_arm(tw, 2, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(1, twheel_cancel(tw, 1, TWHEEL_KIND_CONNECT));
	EXPECT_EQ(0, twheel_cancel(tw, 1, TWHEEL_KIND_CONNECT));
	EXPECT_EQ(0, twheel_cancel(tw, 99, TWHEEL_KIND_IDLE));
	EXPECT_EQ(1, twheel_cancel_conn(tw, 1));
	EXPECT_EQ(0, twheel_cancel_conn(tw, 1));
	EXPECT_EQ(0, twheel_cancel_conn(tw, 99));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.conns);
	EXPECT_EQ(2, st.cancels);
	twheel_close(tw);
}

TEST(a_cancelled_timer_never_fires)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev[4];
	struct twheel_stats st;

	ASSERT_EQ(0, twheel_arm(tw, 1, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 1, 0));
	ASSERT_EQ(0, twheel_arm(tw, 2, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 2, 0));
	ASSERT_EQ(0, twheel_arm(tw, 3, TWHEEL_KIND_IDLE, 40 * NSEC_PER_MSEC, 3, 0));
	ASSERT_EQ(1, twheel_cancel(tw, 1, TWHEEL_KIND_IDLE));
	ASSERT_EQ(1, twheel_cancel_conn(tw, 2));
	/* Connection 3 fires last: by then 1 and 2 would have. */
	ASSERT_EQ(1, twheel_wait(tw, ev, 4, 5000));
	EXPECT_EQ(3, ev[0].conn_id);
	EXPECT_EQ(3, ev[0].user_data);
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(1, st.fired);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	twheel_close(tw);
}

TEST(an_absolute_deadline_comes_back_exactly)
{
	struct twheel *tw = tl_open_or_skip(0);
	uint64_t deadline = tw_now() + 30 * NSEC_PER_MSEC;
	struct twheel_event ev;

	ASSERT_EQ(0, twheel_arm(tw, 5, TWHEEL_KIND_PATH_VALIDATION, deadline,
				55, TWHEEL_ARM_ABS));
	ASSERT_EQ(1, twheel_wait(tw, &ev, 1, 5000));
	EXPECT_LE(deadline, tw_now());
	EXPECT_EQ(deadline, ev.deadline_ns);
	EXPECT_LE(ev.deadline_ns, ev.fired_ns);
	EXPECT_EQ(5, ev.conn_id);
	EXPECT_EQ(TWHEEL_KIND_PATH_VALIDATION, ev.kind);
	EXPECT_EQ(55, ev.user_data);
	twheel_close(tw);
}

TEST(next_deadline_is_never_after_the_earliest_timer)
{
	struct twheel *tw = tl_open_or_skip(0);
	uint64_t tick = tl_tick_ns(tw), t0;
	struct twheel_next next;

	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(UINT64_MAX, next.next_ns);
	EXPECT_EQ(0, next.armed);
	EXPECT_EQ(0, next.queued);

	t0 = tw_now();
	ASSERT_EQ(0, twheel_arm(tw, 1, TWHEEL_KIND_IDLE, 10 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, twheel_arm(tw, 2, TWHEEL_KIND_IDLE, 2 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(2, next.armed);
	EXPECT_LE(next.next_ns, tw_now() + 2 * NSEC_PER_SEC + tick);
	EXPECT_LT(t0, next.next_ns);
	EXPECT_EQ(sizeof(next), next.size);
	twheel_close(tw);
}

TEST(bad_entries_give_einval_or_erange_and_change_nothing)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_handshake info;
	struct twheel_stats st;

	ASSERT_EQ(0, twheel_get_info(tw, &info));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_arm(tw, 1, TWHEEL_NR_KINDS, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_arm(tw, 1, 0, NSEC_PER_SEC, 0, 1U << 31));
	EXPECT_EQ(-ERANGE, twheel_arm(tw, 1, 0, info.max_timeout_ns + 1, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_arm(tw, 1, ~0U, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_cancel(tw, 1, TWHEEL_NR_KINDS));
	EXPECT_EQ(ERRNO_CANARY, errno);
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.conns);
	twheel_close(tw);
}

TEST(a_null_handle_or_argument_is_einval)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_next next;
	struct twheel_stats st;

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_arm(NULL, 1, 0, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_cancel(NULL, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_cancel_conn(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_get_next(NULL, &next));
	EXPECT_EQ(-EINVAL, twheel_get_next(tw, NULL));
	EXPECT_EQ(-EINVAL, twheel_get_stats(NULL, &st));
	EXPECT_EQ(-EINVAL, twheel_get_stats(tw, NULL));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST(a_handle_whose_fd_was_closed_gives_ebadf_everywhere)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_event ev;
	struct twheel_next next;
	struct twheel_stats st;
	uint64_t id = 1;

	ASSERT_EQ(0, close(twheel_fd(tw)));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EBADF, twheel_arm(tw, 1, 0, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-EBADF, twheel_cancel(tw, 1, 0));
	EXPECT_EQ(-EBADF, twheel_cancel_conn(tw, 1));
	EXPECT_EQ(-EBADF, twheel_cancel_conn_array(tw, &id, 1, &res));
	EXPECT_EQ(0, res.applied);
	EXPECT_EQ(-EBADF, res.error);
	EXPECT_EQ(-EBADF, twheel_get_next(tw, &next));
	EXPECT_EQ(-EBADF, twheel_get_stats(tw, &st));
	EXPECT_EQ(-EBADF, twheel_set_cpu(tw, 0));
	EXPECT_EQ(-EBADF, twheel_reap(tw, &ev, 1));
	EXPECT_EQ(-EBADF, twheel_wait(tw, &ev, 1, 0));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
	EXPECT_EQ(ERRNO_CANARY, errno);
}

FIXTURE(quota) {
	long quota;
};

FIXTURE_SETUP(quota)
{
	self->quota = tw_read_param(QUOTA_PARAM);
	if (self->quota < 0 || access(QUOTA_PARAM, W_OK))
		SKIP(return, "no writable %s: module not loaded", QUOTA_PARAM);
}

FIXTURE_TEARDOWN(quota)
{
	if (self->quota >= 0)
		tw_write_param(QUOTA_PARAM, self->quota);
}

TEST_F(quota, an_arm_over_the_quota_is_enospc_and_a_rearm_is_not)
{
	struct twheel_batch_result res;
	struct twheel_arm a[3];
	struct twheel_stats st;
	struct twheel *tw;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_write_param(QUOTA_PARAM, 4));
	tw = tl_open_or_skip(0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, 0, 60 * NSEC_PER_SEC, 0, 0));
	/* One left: the array applies one entry and stops at the second. */
	memset(a, 0, sizeof(a));
	for (int i = 0; i < 3; i++) {
		a[i].conn_id = 10 + i;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ENOSPC, twheel_arm_array(tw, a, 3, &res));
	EXPECT_EQ(1, res.applied);
	EXPECT_EQ(-ENOSPC, res.error);
	EXPECT_EQ(0, res.found);
	EXPECT_EQ(-ENOSPC, twheel_arm(tw, 99, 0, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* Re-arming a timer the file holds needs no room. */
	EXPECT_EQ(1, twheel_arm(tw, 0, 0, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(4, st.armed);
	/* Cancelling makes room. */
	EXPECT_EQ(1, twheel_cancel(tw, 1, 0));
	EXPECT_EQ(0, twheel_arm(tw, 99, 0, NSEC_PER_SEC, 0, 0));
	twheel_close(tw);
}

TEST_HARNESS_MAIN
