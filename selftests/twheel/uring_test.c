// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: reads of /dev/twheel through liburing, several in flight, each
 * completing with whole records once timers fire.
 */

#include <dirent.h>
#include <liburing.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"
#include "ring_tw.h"

FIXTURE(uring) {
	int fd;
	struct io_uring ring;
	int ring_ok;
};

FIXTURE_SETUP(uring)
{
	int ret;

	self->fd = -1;
	self->ring_ok = 0;
	self->fd = tw_open_or_skip(O_RDWR);
	ret = io_uring_queue_init(32, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring is not available: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_ok = 1;
}

FIXTURE_TEARDOWN(uring)
{
	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	if (self->fd >= 0)
		close(self->fd);
}

static int wait_cqe(struct io_uring *ring, struct io_uring_cqe **cqe,
		    unsigned int ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L,
	};

	return io_uring_wait_cqe_timeout(ring, cqe, &ts);
}

TEST_F(uring, a_read_completes_when_a_timer_fires)
{
	struct twheel_event ev[4];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	uint64_t deadline = tw_now() + 50 * NSEC_PER_MSEC;

	if (tw_setup_skipped(_metadata))
		return;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, ev, sizeof(ev), 0);
	sqe->user_data = 1;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	/* Nothing fired yet: the read waits (on poll, not in a worker). */
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, &cqe, 20));

	ASSERT_EQ(0, tw_arm(self->fd, 9, TWHEEL_KIND_RETRANSMIT, deadline, 3, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
	EXPECT_EQ(1, cqe->user_data);
	ASSERT_EQ(sizeof(ev[0]), cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(9, ev[0].conn_id);
	EXPECT_EQ(3, ev[0].user_data);
	EXPECT_LE(deadline, ev[0].fired_ns);
}

/*
 * A file with shared rings: the events that find its event ring full wait
 * in the kernel, and an io_uring read, waiting on poll, takes them.
 */
TEST_F(uring, a_read_of_a_file_with_rings_takes_what_the_event_ring_left)
{
	struct twheel_event ev[8], rev[4];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	uint64_t deadline = tw_now() + 50 * NSEC_PER_MSEC;
	struct tw_ring r;
	unsigned int i;

	if (tw_setup_skipped(_metadata))
		return;
	if (tw_ring_init(self->fd, 8, 2, &r))
		SKIP(return, "the module has no rings");

	/* Five due at once: two fit the event ring, three wait in the kernel. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, deadline,
				    100 + i, TWHEEL_ARM_ABS));
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, ev, sizeof(ev), 0);
	sqe->user_data = 7;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
	EXPECT_EQ(7, cqe->user_data);
	ASSERT_LT(0, cqe->res);
	EXPECT_EQ(0, cqe->res % sizeof(ev[0]));
	i = cqe->res / sizeof(ev[0]);
	io_uring_cqe_seen(&self->ring, cqe);
	/* The ring holds two; the reads take the other three, once each. */
	ASSERT_EQ(2, tw_ring_reap(&r, rev, 4));
	i += tw_read_n(self->fd, ev + i, 8 - i, 500);
	EXPECT_EQ(3, i);
	for (unsigned int j = 0; j < 2; j++)
		for (unsigned int k = 0; k < i; k++)
			EXPECT_NE(rev[j].user_data, ev[k].user_data);
	tw_ring_exit(&r);
}

/*
 * A read that finds nothing waits on poll, armed by the submitting task:
 * the file follows it to its CPU, and the read completes there.
 */
TEST_F(uring, a_waiting_read_brings_the_file_to_the_submitters_cpu)
{
	struct twheel_event ev[4];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct twheel_stats st;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU only");

	ASSERT_EQ(0, tw_run_on(0));
	fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, tw_stats(fd, &st));
	ASSERT_EQ(0, st.cpu);
	ASSERT_EQ(0, tw_run_on(1));
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_read(sqe, fd, ev, sizeof(ev), 0);
	sqe->user_data = 1;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_EQ(1, st.cpu);

	ASSERT_EQ(0, tw_arm(fd, 5, TWHEEL_KIND_IDLE, 0, 55, 0));
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
	ASSERT_EQ(sizeof(ev[0]), cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
	EXPECT_EQ(5, ev[0].conn_id);
	EXPECT_EQ(55, ev[0].user_data);
	close(fd);
}

/* The number of io_uring worker threads ("iou-wrk-*") of this process. */
static int io_workers(void)
{
	char path[300], comm[64];
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk", 7))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

TEST_F(uring, pending_reads_wait_on_poll_not_in_worker_threads)
{
	struct twheel_event ev[4][4];
	struct io_uring_cqe *cqe;
	unsigned int got = 0;

	if (tw_setup_skipped(_metadata))
		return;

	for (int i = 0; i < 4; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		io_uring_prep_read(sqe, self->fd, ev[i], sizeof(ev[i]), 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(4, io_uring_submit(&self->ring));
	EXPECT_EQ(-ETIME, wait_cqe(&self->ring, &cqe, 50));
	/* Four reads wait, and no worker thread blocks in read() for them. */
	EXPECT_EQ(0, io_workers());

	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, 0, 0, 0));
	while (got < 4) {
		ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
		ASSERT_LT(0, cqe->res);
		got += cqe->res / sizeof(ev[0][0]);
		io_uring_cqe_seen(&self->ring, cqe);
	}
	EXPECT_EQ(4, got);
	/*
	 * Nor did a worker do the reads once the events came: a file that
	 * could not be read without blocking would have had each read retried
	 * by a worker, and workers stay around for seconds when idle.
	 */
	EXPECT_EQ(0, io_workers());
}

TEST_F(uring, several_reads_in_flight_share_the_events_exactly_once)
{
	enum { READS = 8, TIMERS = 200 };
	static struct twheel_event buf[READS][64];
	unsigned char seen[TIMERS] = { 0 };
	struct twheel_arm a[TIMERS];
	struct twheel_batch b;
	unsigned int got = 0, completions = 0;
	struct io_uring_cqe *cqe;
	int i;

	if (tw_setup_skipped(_metadata))
		return;

	for (i = 0; i < READS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

		io_uring_prep_read(sqe, self->fd, buf[i], sizeof(buf[i]), 0);
		sqe->user_data = i;
	}
	ASSERT_EQ(READS, io_uring_submit(&self->ring));

	memset(a, 0, sizeof(a));
	for (i = 0; i < TIMERS; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = (10 + i % 50) * NSEC_PER_MSEC;
		a[i].user_data = i;
	}
	ASSERT_EQ(TIMERS, tw_arm_batch(self->fd, a, TIMERS, &b));

	while (got < TIMERS) {
		unsigned int r;

		ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000))
			TH_LOG("%u of %u events came", got, TIMERS);
		r = cqe->user_data;
		ASSERT_LT(r, READS);
		ASSERT_LT(0, cqe->res);
		/* Whole records only. */
		ASSERT_EQ(0, cqe->res % sizeof(struct twheel_event));
		for (unsigned int j = 0; j < cqe->res / sizeof(struct twheel_event); j++) {
			uint64_t u = buf[r][j].user_data;

			ASSERT_LT(u, TIMERS);
			ASSERT_EQ(0, seen[u]);
			seen[u] = 1;
			got++;
		}
		io_uring_cqe_seen(&self->ring, cqe);
		completions++;
		/* Put the read back in flight. */
		if (got < TIMERS) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

			io_uring_prep_read(sqe, self->fd, buf[r], sizeof(buf[r]), 0);
			sqe->user_data = r;
			ASSERT_EQ(1, io_uring_submit(&self->ring));
		}
	}
	EXPECT_EQ(TIMERS, got);
	tw_report("%u events in %u read completions\n", got, completions);
}

TEST_F(uring, a_read_smaller_than_a_record_completes_with_einval)
{
	char small[sizeof(struct twheel_event) - 1];
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	if (tw_setup_skipped(_metadata))
		return;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, small, sizeof(small), 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
	EXPECT_EQ(-EINVAL, cqe->res);
	io_uring_cqe_seen(&self->ring, cqe);
}

TEST_F(uring, a_pending_read_can_be_cancelled)
{
	struct twheel_event ev;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int seen_read = 0, seen_cancel = 0;

	if (tw_setup_skipped(_metadata))
		return;

	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, &ev, sizeof(ev), 0);
	sqe->user_data = 1;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	sqe = io_uring_get_sqe(&self->ring);
	io_uring_prep_cancel64(sqe, 1, 0);
	sqe->user_data = 2;
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, wait_cqe(&self->ring, &cqe, 5000));
		if (cqe->user_data == 1) {
			EXPECT_EQ(-ECANCELED, cqe->res);
			seen_read = 1;
		} else {
			EXPECT_EQ(0, cqe->res);
			seen_cancel = 1;
		}
		io_uring_cqe_seen(&self->ring, cqe);
	}
	EXPECT_TRUE(seen_read && seen_cancel);
}

TEST_HARNESS_MAIN
