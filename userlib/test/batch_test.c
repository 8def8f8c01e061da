// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_arm_array(), twheel_cancel_array(), twheel_cancel_conn_array()
 * and the batch buffer (twheel_batch_*): entries are applied in order, in
 * one ioctl per run of one type (counted by wrapping ioctl() at link
 * time), cut at the device's max_batch, and a bad entry stops the batch
 * and is reported by index.
 */

#include "lib_test.h"

/* Linked with -Wl,--wrap=ioctl: every ioctl the library makes is counted. */
static unsigned int nr_ioctls;
int __real_ioctl(int fd, unsigned long cmd, void *arg);

int __wrap_ioctl(int fd, unsigned long cmd, void *arg)
{
	nr_ioctls++;
	return __real_ioctl(fd, cmd, arg);
}

static uint64_t armed(struct twheel *tw)
{
	struct twheel_stats st;

	if (twheel_get_stats(tw, &st))
		return UINT64_MAX;
	return st.armed;
}

TEST(arrays_apply_every_entry_and_count_what_they_found)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_arm a[8];
	struct twheel_cancel c[3];
	uint64_t ids[3] = { 5, 6, 100 };

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 8; i++) {
		a[i].conn_id = i;
		a[i].kind = i % 2;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	nr_ioctls = 0;
	EXPECT_EQ(8, twheel_arm_array(tw, a, 8, &res));
	EXPECT_EQ(1, nr_ioctls);
	EXPECT_EQ(8, res.applied);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(0, res.found);
	EXPECT_EQ(4, twheel_arm_array(tw, a, 4, &res));
	EXPECT_EQ(4, res.found);

	memset(c, 0, sizeof(c));
	c[0].conn_id = 0;
	c[1].conn_id = 1;		/* armed as kind 1, not 0 */
	c[2].conn_id = 2;
	EXPECT_EQ(3, twheel_cancel_array(tw, c, 3, &res));
	EXPECT_EQ(2, res.found);
	EXPECT_EQ(3, twheel_cancel_conn_array(tw, ids, 3, &res));
	EXPECT_EQ(2, res.found);
	EXPECT_EQ(8 - 4, armed(tw));

	/* Nothing to do is not an error and costs no ioctl. */
	nr_ioctls = 0;
	EXPECT_EQ(0, twheel_arm_array(tw, NULL, 0, &res));
	EXPECT_EQ(0, twheel_cancel_array(tw, NULL, 0, NULL));
	EXPECT_EQ(0, twheel_cancel_conn_array(tw, NULL, 0, NULL));
	EXPECT_EQ(0, nr_ioctls);
	EXPECT_EQ(0, res.applied);
	twheel_close(tw);
}

TEST(a_bad_entry_stops_the_array_and_is_reported_by_index)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_arm a[5];

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 5; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	a[2].kind = TWHEEL_NR_KINDS;
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_arm_array(tw, a, 5, &res));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(2, res.applied);
	EXPECT_EQ(-EINVAL, res.error);
	/* The two before it stay armed, the two after were not looked at. */
	EXPECT_EQ(2, armed(tw));
	EXPECT_EQ(0, twheel_cancel(tw, 3, 0));
	twheel_close(tw);
}

TEST(arrays_longer_than_max_batch_are_cut_and_still_report_the_index)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_handshake info;
	struct twheel_cancel *c;
	unsigned int n, bad;

	/*
	 * Cancels of connections that do not exist: a lookup each, cheap
	 * enough for two max_batch and more on the debug kernel. Three of
	 * them, one in each ioctl, find a timer.
	 */
	ASSERT_EQ(0, twheel_get_info(tw, &info));
	ASSERT_LT(0, info.max_batch);
	n = info.max_batch * 2 + 10;
	c = calloc(n, sizeof(*c));
	ASSERT_NE(NULL, c);
	for (unsigned int i = 0; i < n; i++)
		c[i].conn_id = 1000000 + i;
	for (unsigned int i = 0; i < 3; i++) {
		c[i * info.max_batch + 1].conn_id = i;
		ASSERT_EQ(0, twheel_arm(tw, i, 0, 60 * NSEC_PER_SEC, 0, 0));
	}
	nr_ioctls = 0;
	EXPECT_EQ(n, twheel_cancel_array(tw, c, n, &res));
	EXPECT_EQ(3, nr_ioctls);
	EXPECT_EQ(n, res.applied);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(3, res.found);
	EXPECT_EQ(0, armed(tw));

	/* A bad entry in the second ioctl: its index counts from the array. */
	for (unsigned int i = 0; i < 3; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, 0, 60 * NSEC_PER_SEC, 0, 0));
	bad = info.max_batch + 5;
	c[bad].kind = TWHEEL_NR_KINDS;
	nr_ioctls = 0;
	EXPECT_EQ(-EINVAL, twheel_cancel_array(tw, c, n, &res));
	EXPECT_EQ(2, nr_ioctls);
	EXPECT_EQ(bad, res.applied);
	EXPECT_EQ(-EINVAL, res.error);
	/* Those of the first and second ioctls before it; not the third. */
	EXPECT_EQ(2, res.found);
	EXPECT_EQ(1, armed(tw));
	free(c);
	twheel_close(tw);
}

TEST(a_batch_buffer_applies_entries_in_the_order_they_were_added)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	/* Arm then cancel X; cancel then arm Y: only Y stays armed. */
	EXPECT_EQ(0, twheel_batch_arm(b, 1, 0, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(1, twheel_batch_cancel(b, 1, 0));
	EXPECT_EQ(2, twheel_batch_cancel(b, 2, 0));
	EXPECT_EQ(3, twheel_batch_arm(b, 2, 0, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(4, twheel_batch_arm(b, 3, 1, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(5, twheel_batch_cancel_conn(b, 3));
	EXPECT_EQ(6, twheel_batch_count(b));
	/* Nothing reaches the device before the flush. */
	EXPECT_EQ(0, armed(tw));
	nr_ioctls = 0;
	EXPECT_EQ(6, twheel_batch_flush(b, &res));
	/* Runs: arm, cancel x2, arm x2, cancel_conn. */
	EXPECT_EQ(4, nr_ioctls);
	EXPECT_EQ(6, res.applied);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(2, res.found);
	EXPECT_EQ(0, twheel_batch_count(b));
	EXPECT_EQ(1, armed(tw));
	EXPECT_EQ(1, twheel_cancel(tw, 2, 0));
	/* Flushing an empty buffer does nothing. */
	nr_ioctls = 0;
	EXPECT_EQ(0, twheel_batch_flush(b, &res));
	EXPECT_EQ(0, nr_ioctls);
	EXPECT_EQ(0, res.applied);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(a_run_of_many_entries_is_one_ioctl)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	for (int i = 0; i < 1000; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, i, i % TWHEEL_NR_KINDS,
					      60 * NSEC_PER_SEC, i, 0));
	for (int i = 0; i < 500; i++)
		ASSERT_EQ(1000 + i, twheel_batch_cancel_conn(b, 2 * i));
	nr_ioctls = 0;
	EXPECT_EQ(1500, twheel_batch_flush(b, &res));
	EXPECT_EQ(2, nr_ioctls);
	EXPECT_EQ(500, res.found);
	EXPECT_EQ(500, armed(tw));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(a_bad_entry_stops_the_flush_at_its_index_and_empties_the_buffer)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	twheel_batch_arm(b, 1, 0, 60 * NSEC_PER_SEC, 0, 0);
	twheel_batch_arm(b, 2, 0, 60 * NSEC_PER_SEC, 0, 0);
	twheel_batch_cancel(b, 1, 0);
	twheel_batch_cancel(b, 2, TWHEEL_NR_KINDS);
	twheel_batch_arm(b, 3, 0, 60 * NSEC_PER_SEC, 0, 0);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_batch_flush(b, &res));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(3, res.applied);
	EXPECT_EQ(-EINVAL, res.error);
	EXPECT_EQ(1, res.found);
	EXPECT_EQ(0, twheel_batch_count(b));
	/* 1 armed and cancelled, 2 armed, 3 never sent. */
	EXPECT_EQ(1, armed(tw));
	EXPECT_EQ(1, twheel_cancel(tw, 2, 0));
	EXPECT_EQ(0, twheel_cancel(tw, 3, 0));
	/* A flush without a result to fill works the same. */
	twheel_batch_arm(b, 4, TWHEEL_NR_KINDS, 0, 0, 0);
	EXPECT_EQ(-EINVAL, twheel_batch_flush(b, NULL));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(reset_drops_what_was_queued)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_buf *b;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	twheel_batch_arm(b, 1, 0, 60 * NSEC_PER_SEC, 0, 0);
	twheel_batch_arm(b, 2, 0, 60 * NSEC_PER_SEC, 0, 0);
	EXPECT_EQ(0, twheel_batch_reset(b));
	EXPECT_EQ(0, twheel_batch_count(b));
	EXPECT_EQ(0, twheel_batch_arm(b, 3, 0, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(1, twheel_batch_flush(b, NULL));
	EXPECT_EQ(1, armed(tw));
	EXPECT_EQ(1, twheel_cancel(tw, 3, 0));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(bad_handles_give_einval_and_a_closed_fd_ebadf)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;
	struct twheel_arm a = { 0 };

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_batch_new(NULL, &b));
	EXPECT_EQ(-EINVAL, twheel_batch_new(tw, NULL));
	EXPECT_EQ(-EINVAL, twheel_batch_arm(NULL, 1, 0, 0, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_cancel(NULL, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_cancel_conn(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_batch_count(NULL));
	EXPECT_EQ(-EINVAL, twheel_batch_reset(NULL));
	EXPECT_EQ(-EINVAL, twheel_batch_flush(NULL, &res));
	EXPECT_EQ(-EINVAL, twheel_arm_array(NULL, &a, 1, &res));
	EXPECT_EQ(-EINVAL, twheel_arm_array(tw, NULL, 1, &res));
	EXPECT_EQ(-EINVAL, twheel_cancel_array(tw, NULL, 1, &res));
	EXPECT_EQ(-EINVAL, twheel_cancel_conn_array(tw, NULL, 1, &res));
	twheel_batch_free(NULL);
	EXPECT_EQ(ERRNO_CANARY, errno);

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	twheel_batch_arm(b, 1, 0, NSEC_PER_SEC, 0, 0);
	ASSERT_EQ(0, close(twheel_fd(tw)));
	EXPECT_EQ(-EBADF, twheel_batch_flush(b, &res));
	EXPECT_EQ(0, res.applied);
	EXPECT_EQ(-EBADF, res.error);
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
