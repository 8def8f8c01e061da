// SPDX-License-Identifier: GPL-2.0
/*
 * Quotas: a file cannot hold more timers (armed, or fired and unread) than
 * its quota, all files together no more than the system-wide cap; the arm
 * that would go over fails with ENOSPC and changes nothing else.
 */

#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"

#define QUOTA "/sys/module/twheel/parameters/quota"
#define MAX_TIMERS "/sys/module/twheel/parameters/max_timers"

FIXTURE(quota) {
	int fd;
	long quota, max_timers;
};

FIXTURE_SETUP(quota)
{
	self->fd = -1;
	self->quota = tw_read_param(QUOTA);
	self->max_timers = tw_read_param(MAX_TIMERS);
	if (self->quota < 0 || access(QUOTA, W_OK))
		SKIP(return, "cannot change %s", QUOTA);
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(quota)
{
	if (self->quota >= 0) {
		tw_write_param(QUOTA, self->quota);
		tw_write_param(MAX_TIMERS, self->max_timers);
	}
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(quota, the_default_quota_allows_a_million_timers_per_file)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_LE(1 << 20, hs.quota_timers);
	EXPECT_LE(hs.quota_timers, hs.max_timers);
	EXPECT_EQ(self->quota, hs.quota_timers);
}

TEST_F(quota, an_arm_over_the_quota_is_enospc_and_changes_nothing)
{
	struct twheel_arm a[12];
	struct twheel_batch b;
	struct twheel_stats before, after;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_write_param(QUOTA, 10));
	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < 12; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	ASSERT_EQ(10, tw_arm_batch(self->fd, a, 12, &b));
	EXPECT_EQ(-ENOSPC, b.error);
	ASSERT_EQ(0, tw_stats(self->fd, &before));
	EXPECT_EQ(10, before.armed);
	EXPECT_EQ(10, before.conns);

	/* Another kind of an existing connection is a new timer too. */
	ASSERT_EQ(-1, tw_arm(self->fd, 0, TWHEEL_KIND_CONNECT, NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, tw_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	/* Re-arming what the file holds needs no quota. */
	ASSERT_EQ(10, tw_arm_batch(self->fd, a, 10, &b));
	EXPECT_EQ(10, b.found);
	/* Cancelling makes room. */
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 3));
	EXPECT_EQ(0, tw_arm(self->fd, 0, TWHEEL_KIND_CONNECT, NSEC_PER_SEC, 0, 0));
}

TEST_F(quota, unread_events_count_until_they_are_read)
{
	struct twheel_event ev[8];

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_write_param(QUOTA, 4));
	for (unsigned int i = 0; i < 4; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 4, 5000));
	/* Nothing is armed, but four events wait: no room. */
	ASSERT_EQ(-1, tw_arm(self->fd, 9, TWHEEL_KIND_IDLE, 0, 0, 0));
	EXPECT_EQ(ENOSPC, errno);
	/* Nothing was dropped to make room either. */
	ASSERT_EQ(4 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(0, tw_arm(self->fd, 9, TWHEEL_KIND_IDLE, 0, 0, 0));
}

TEST_F(quota, the_system_wide_cap_counts_every_file)
{
	int other = tw_open_or_skip(O_RDWR);
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_write_param(MAX_TIMERS, 5));
	for (unsigned int i = 0; i < 3; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	for (unsigned int i = 0; i < 2; i++)
		ASSERT_EQ(0, tw_arm(other, i, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-1, tw_arm(other, 7, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, tw_arm(self->fd, 7, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(ENOSPC, errno);

	/* Closing a file gives its timers back to everyone. */
	close(other);
	EXPECT_EQ(0, tw_arm(self->fd, 7, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(0, tw_arm(self->fd, 8, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(5, st.armed);
}

TEST_HARNESS_MAIN
