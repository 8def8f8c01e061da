// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_CANCEL and TWHEEL_IOC_CANCEL_CONN: a cancelled timer never
 * fires, cancelling what is not armed is not an error, and one call
 * cancels a whole connection.
 */

#include <sys/mman.h>

#include "twheel_test.h"

FIXTURE(cancel) {
	int fd;
};

FIXTURE_SETUP(cancel)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(cancel)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(cancel, a_cancelled_timer_is_found_and_never_fires)
{
	struct twheel_event ev;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 50 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_RETRANSMIT, 50 * NSEC_PER_MSEC, 0, 0));
	EXPECT_EQ(1, tw_cancel(self->fd, 1, TWHEEL_KIND_RETRANSMIT));

	/* Connection 2 fires; by then connection 1 would have too. */
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(2, ev.conn_id);
	EXPECT_EQ(0, tw_read_events(self->fd, &ev, 1, 100));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.cancels);
	EXPECT_EQ(1, st.fired);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.conns);
}

TEST_F(cancel, cancelling_one_kind_leaves_the_others_armed)
{
	struct twheel_event ev[4];

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 40 * NSEC_PER_MSEC, 10, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 20 * NSEC_PER_MSEC, 11, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_USER + 3, 30 * NSEC_PER_MSEC, 12, 0));
	EXPECT_EQ(1, tw_cancel(self->fd, 1, TWHEEL_KIND_RETRANSMIT));

	/* In either order: both may fire in one batch under a slow VM. */
	ASSERT_EQ(2, tw_read_n(self->fd, ev, 2, 5000));
	EXPECT_EQ(22, ev[0].user_data + ev[1].user_data);
	EXPECT_NE(ev[0].user_data, ev[1].user_data);
	EXPECT_NE(11, ev[0].user_data);
	EXPECT_NE(11, ev[1].user_data);
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 4, 100));
}

TEST_F(cancel, cancelling_what_is_not_armed_is_not_an_error)
{
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(0, tw_cancel(self->fd, 42, TWHEEL_KIND_IDLE));
	ASSERT_EQ(0, tw_arm(self->fd, 42, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(0, tw_cancel(self->fd, 42, TWHEEL_KIND_CONNECT));
	EXPECT_EQ(1, tw_cancel(self->fd, 42, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, tw_cancel(self->fd, 42, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, tw_cancel_conn(self->fd, 42));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.cancels);
	EXPECT_EQ(0, st.conns);
}

TEST_F(cancel, a_bad_kind_or_flags_stop_a_cancel_batch_with_einval)
{
	struct twheel_cancel c[3] = {
		{ .conn_id = 1, .kind = TWHEEL_KIND_IDLE },
		{ .conn_id = 2, .kind = TWHEEL_NR_KINDS },
		{ .conn_id = 3, .kind = TWHEEL_KIND_IDLE },
	};
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, tw_batch(self->fd, TWHEEL_IOC_CANCEL, c, 3, sizeof(c[0]), &b));
	EXPECT_EQ(1, b.applied);
	EXPECT_EQ(-EINVAL, b.error);
	EXPECT_EQ(1, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);

	c[1].kind = TWHEEL_KIND_IDLE;
	c[1].flags = 1;
	ASSERT_EQ(1, tw_batch(self->fd, TWHEEL_IOC_CANCEL, c, 3, sizeof(c[0]), &b));
	EXPECT_EQ(-EINVAL, b.error);
	EXPECT_EQ(0, b.found);
}

TEST_F(cancel, cancelling_a_connection_removes_every_kind_it_holds)
{
	struct twheel_event ev;
	struct twheel_stats st;
	uint64_t ids[2] = { 9, 10 };
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int k = 0; k < TWHEEL_NR_KINDS; k++)
		ASSERT_EQ(0, tw_arm(self->fd, 9, k, (20 + k) * NSEC_PER_MSEC, k, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 11, TWHEEL_KIND_IDLE, 60 * NSEC_PER_MSEC, 0, 0));

	ASSERT_EQ(2, tw_batch(self->fd, TWHEEL_IOC_CANCEL_CONN, ids, 2,
			      sizeof(ids[0]), &b));
	EXPECT_EQ(1, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(TWHEEL_NR_KINDS, st.cancels);
	EXPECT_EQ(1, st.conns);

	/* Only connection 11 fires. */
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(11, ev.conn_id);
	EXPECT_EQ(0, tw_read_events(self->fd, &ev, 1, 100));
}

TEST_F(cancel, a_connection_can_be_armed_again_after_it_was_cancelled)
{
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 1, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_CONNECT, 60 * NSEC_PER_SEC, 1, 0));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 3));
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_CONNECT, 10 * NSEC_PER_MSEC, 2, 0));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(3, ev.conn_id);
	EXPECT_EQ(TWHEEL_KIND_CONNECT, ev.kind);
	EXPECT_EQ(2, ev.user_data);
}

TEST_F(cancel, an_unreadable_cancel_entry_stops_the_batch_with_efault)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	unsigned int fit = pagesz / sizeof(uint64_t);
	struct twheel_batch b;
	struct twheel_stats st;
	uint64_t *ids;
	char *map;

	if (tw_setup_skipped(_metadata))
		return;

	map = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + pagesz, pagesz, PROT_NONE));
	ids = (uint64_t *)map;
	for (unsigned int i = 0; i < fit; i++)
		ids[i] = i;
	ASSERT_EQ(0, tw_arm(self->fd, fit - 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));

	ASSERT_EQ(fit, tw_batch(self->fd, TWHEEL_IOC_CANCEL_CONN, ids, fit + 1,
				sizeof(ids[0]), &b));
	EXPECT_EQ(-EFAULT, b.error);
	EXPECT_EQ(1, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(0, st.armed);
	munmap(map, 2 * pagesz);
}

TEST_HARNESS_MAIN
