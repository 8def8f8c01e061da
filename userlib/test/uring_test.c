// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_prep_read() and twheel_cqe_events() in the caller's ring, and the
 * library's own ring (twheel_ring_*): several reads in flight, events each
 * delivered once and never early, small caller arrays, timeouts, errors.
 */

#include <liburing.h>
#include <poll.h>

#include "lib_test.h"

#define READS	4
#define PER	2

TEST(several_reads_in_flight_in_the_callers_ring)
{
	struct twheel *tw = tl_open_or_skip(0);
	static struct twheel_event buf[READS][PER];
	struct __kernel_timespec ts = { .tv_sec = 5 };
	struct twheel_event *ev;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	unsigned int seen = 0, got = 0;
	uint64_t t0;
	int n, r;

	ASSERT_EQ(0, io_uring_queue_init(8, &ring, 0));
	for (r = 0; r < READS; r++) {
		sqe = io_uring_get_sqe(&ring);
		ASSERT_NE(NULL, sqe);
		ASSERT_EQ(0, twheel_prep_read(sqe, tw, buf[r], sizeof(buf[r])));
		io_uring_sqe_set_data64(sqe, r);
	}
	ASSERT_EQ(READS, io_uring_submit(&ring));
	/* Nothing armed: no read completes. */
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));

	t0 = tw_now();
	for (int i = 0; i < 6; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, TWHEEL_KIND_RETRANSMIT,
					(10 + 10 * i) * NSEC_PER_MSEC, i, 0));
	/* Six events, at most two per read. */
	while (got < 6) {
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
		r = io_uring_cqe_get_data64(cqe);
		ASSERT_GT(READS, r);
		n = twheel_cqe_events(cqe, buf[r], &ev);
		io_uring_cqe_seen(&ring, cqe);
		ASSERT_LT(0, n);
		ASSERT_GE(PER, n);
		EXPECT_TRUE(ev == buf[r]);
		for (int i = 0; i < n; i++) {
			EXPECT_LE(t0 + (10 + 10 * ev[i].user_data) * NSEC_PER_MSEC,
				  ev[i].deadline_ns);
			EXPECT_LE(ev[i].deadline_ns, ev[i].fired_ns);
			EXPECT_FALSE(seen & (1U << ev[i].conn_id));
			seen |= 1U << ev[i].conn_id;
		}
		got += n;
		/* Put the read back in flight. */
		sqe = io_uring_get_sqe(&ring);
		ASSERT_NE(NULL, sqe);
		ASSERT_EQ(0, twheel_prep_read(sqe, tw, buf[r], sizeof(buf[r])));
		io_uring_sqe_set_data64(sqe, r);
		ASSERT_EQ(1, io_uring_submit(&ring));
	}
	EXPECT_EQ(0x3f, seen);
	EXPECT_EQ(6, got);
	/* Every read is in flight again and waits: one more timer ends one. */
	EXPECT_EQ(-EAGAIN, io_uring_peek_cqe(&ring, &cqe));
	ASSERT_EQ(0, twheel_arm(tw, 9, 0, 0, 9, 0));
	ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
	r = io_uring_cqe_get_data64(cqe);
	ASSERT_GT(READS, r);
	EXPECT_EQ(1, twheel_cqe_events(cqe, buf[r], &ev));
	EXPECT_EQ(9, ev[0].conn_id);
	io_uring_cqe_seen(&ring, cqe);
	/*
	 * Cancel the other reads and wait for them: a ring torn down with
	 * reads in flight keeps the device open until its exit work runs.
	 */
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_cancel_fd(sqe, twheel_fd(tw), IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	ASSERT_EQ(1, io_uring_submit(&ring));
	for (int left = READS - 1; left > 0; left--) {
		ASSERT_EQ(0, io_uring_wait_cqe_timeout(&ring, &cqe, &ts));
		if (io_uring_cqe_get_data64(cqe) == UINT64_MAX) {
			/* The cancel itself: how many it cancelled. */
			EXPECT_EQ(READS - 1, cqe->res);
			left++;
		} else {
			EXPECT_EQ(-ECANCELED, cqe->res);
		}
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	twheel_close(tw);
}

TEST(cqe_events_passes_errors_through_and_rejects_partial_events)
{
	struct twheel_event buf[2], *ev = NULL;
	struct io_uring_cqe cqe = { 0 };
	struct io_uring_sqe sqe;

	errno = ERRNO_CANARY;
	cqe.res = -ECANCELED;
	EXPECT_EQ(-ECANCELED, twheel_cqe_events(&cqe, buf, &ev));
	cqe.res = sizeof(buf[0]) + 1;
	EXPECT_EQ(-EPROTO, twheel_cqe_events(&cqe, buf, &ev));
	cqe.res = 0;
	EXPECT_EQ(0, twheel_cqe_events(&cqe, buf, &ev));
	cqe.res = sizeof(buf);
	EXPECT_EQ(2, twheel_cqe_events(&cqe, buf, &ev));
	EXPECT_TRUE(ev == buf);
	EXPECT_EQ(-EINVAL, twheel_cqe_events(NULL, buf, &ev));
	EXPECT_EQ(-EINVAL, twheel_cqe_events(&cqe, NULL, &ev));
	EXPECT_EQ(-EINVAL, twheel_cqe_events(&cqe, buf, NULL));
	EXPECT_EQ(-EINVAL, twheel_prep_read(NULL, NULL, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, twheel_prep_read(&sqe, NULL, buf, sizeof(buf)));
	EXPECT_EQ(ERRNO_CANARY, errno);
}

TEST(prep_read_rejects_a_buffer_too_small_for_one_event)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event buf;
	struct io_uring_sqe sqe;

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_prep_read(&sqe, tw, &buf, sizeof(buf) - 1));
	EXPECT_EQ(-EINVAL, twheel_prep_read(&sqe, tw, NULL, sizeof(buf)));
	EXPECT_EQ(0, twheel_prep_read(&sqe, tw, &buf, sizeof(buf)));
	EXPECT_EQ(twheel_fd(tw), sqe.fd);
	EXPECT_EQ(sizeof(buf), sqe.len);
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST(the_librarys_ring_delivers_every_event_once_into_small_arrays)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_ring *ring;
	struct twheel_event ev[3];
	unsigned int got = 0, seen = 0;
	uint64_t t0;
	int n;

	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 2, 8));
	t0 = tw_now();
	/* Ten at the same time: one read takes eight, our array three. */
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(0, twheel_arm(tw, i, 0, 20 * NSEC_PER_MSEC, i, 0));
	while (got < 10) {
		n = twheel_ring_wait(ring, ev, 3, 5000);
		ASSERT_LT(0, n);
		ASSERT_GE(3, n);
		for (int i = 0; i < n; i++) {
			EXPECT_LE(t0 + 20 * NSEC_PER_MSEC, ev[i].deadline_ns);
			EXPECT_LE(ev[i].deadline_ns, ev[i].fired_ns);
			EXPECT_FALSE(seen & (1U << ev[i].conn_id));
			seen |= 1U << ev[i].conn_id;
		}
		got += n;
	}
	EXPECT_EQ(10, got);
	EXPECT_EQ(0x3ff, seen);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ETIME, twheel_ring_wait(ring, ev, 3, 0));
	t0 = tw_now();
	EXPECT_EQ(-ETIME, twheel_ring_wait(ring, ev, 3, 30));
	EXPECT_LE(t0 + 30 * NSEC_PER_MSEC, tw_now());
	EXPECT_EQ(ERRNO_CANARY, errno);
	/* The reads went back in flight: a new timer still comes. */
	ASSERT_EQ(0, twheel_arm(tw, 11, 0, 0, 0, 0));
	ASSERT_EQ(1, twheel_ring_wait(ring, ev, 3, -1));
	EXPECT_EQ(11, ev[0].conn_id);
	twheel_ring_exit(ring);
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST(the_rings_fd_is_readable_when_a_read_completed)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_ring *ring;
	struct twheel_event ev;
	struct pollfd pfd = { .events = POLLIN };

	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 0, 0));
	pfd.fd = twheel_ring_fd(ring);
	ASSERT_LE(0, pfd.fd);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, twheel_arm(tw, 1, 0, 10 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(1, twheel_ring_wait(ring, &ev, 1, 0));
	EXPECT_EQ(1, ev.conn_id);
	twheel_ring_exit(ring);
	twheel_close(tw);
}

TEST(exit_with_reads_in_flight_then_events_still_reach_read)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_ring *ring;
	struct twheel_event ev;

	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 4, 4));
	twheel_ring_exit(ring);
	/* The cancelled reads took nothing: the next event is read plainly. */
	ASSERT_EQ(0, twheel_arm(tw, 3, 0, 0, 0, 0));
	EXPECT_EQ(1, twheel_wait(tw, &ev, 1, 5000));
	EXPECT_EQ(3, ev.conn_id);
	twheel_close(tw);
}

TEST(ring_errors_are_negative_errno)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_ring *ring;
	struct twheel_event ev;
	int pipefd[2];

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_ring_init(NULL, tw, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_init(&ring, NULL, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_init(&ring, tw, 65, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_init(&ring, tw, 0, 4097));
	EXPECT_EQ(-EINVAL, twheel_ring_wait(NULL, &ev, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_fd(NULL));
	twheel_ring_exit(NULL);
	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 1, 1));
	EXPECT_EQ(-EINVAL, twheel_ring_wait(ring, NULL, 1, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_wait(ring, &ev, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_ring_wait(ring, &ev, 1, -2));
	twheel_ring_exit(ring);
	EXPECT_EQ(ERRNO_CANARY, errno);

	/*
	 * A read of a descriptor not open for reading completes with -EBADF:
	 * put a pipe's write end in the place of the device.
	 */
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(twheel_fd(tw), dup2(pipefd[1], twheel_fd(tw)));
	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 1, 1));
	EXPECT_EQ(-EBADF, twheel_ring_wait(ring, &ev, 1, 5000));
	twheel_ring_exit(ring);
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
