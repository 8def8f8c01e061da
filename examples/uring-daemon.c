// SPDX-License-Identifier: MIT
/*
 * uring-daemon: timer events reaped in the daemon's own io_uring.
 *
 * A daemon built around io_uring waits in one place, its completion queue.
 * twheel_prep_read() puts a read of /dev/twheel in the ring like any other
 * request; it completes once timers have fired, and twheel_cqe_events()
 * turns the completion into events. Arms and cancels go into a batch
 * buffer that each turn of the loop sends with one flush.
 *
 * Connections, network and output are those of epoll-daemon.c. Without the
 * connection API, the daemon picks each arming's user_data and drops events
 * of armings it has replaced or cancelled since: a read may have completed
 * with one just before the cancel reached the kernel.
 *
 * Build: cc uring-daemon.c $(pkg-config --cflags --libs libtwheel liburing)
 */

#include <errno.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libtwheel.h>

#define MS		1000000ULL
#define NR_CONNS	5
#define IDLE_TIMEOUT	(2500 * MS)
#define PATH_TIMEOUT	(1000 * MS)
#define RTO		(500 * MS)	/* first retransmission timeout */
#define NR_READS	2		/* reads kept in flight */
#define NR_PACKETS	(sizeof(network) / sizeof(network[0]))

struct conn {
	unsigned int id, retries;
	uint64_t deadline[TWHEEL_NR_KINDS];	/* 0: not armed */
	uint64_t user_data[TWHEEL_NR_KINDS];	/* of the current arming, or 0 */
};

/* What the network does, and when (ms after the start). */
static const struct packet {
	unsigned int at_ms, conn;
	const char *what;
} network[] = { { 100, 1, "ack" }, { 200, 4, "close" }, { 400, 2, "data" } };

static const char *const kind_name[] = {	/* by TWHEEL_KIND_* */
	"idle", "connect", "path-validation", "retransmit",
};

static struct conn conns[NR_CONNS + 1];
static struct twheel_event buf[NR_READS][16];	/* one per read in flight */
static struct twheel_batch_buf *batch;
static uint64_t last_user_data;
static unsigned int nr_armed;

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "uring-daemon: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
}

/* Queue read number @i into buf[@i]; io_uring_submit() sends it. */
static void queue_read(struct io_uring *ring, struct twheel *tw, unsigned int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	check(twheel_prep_read(sqe, tw, buf[i], sizeof(buf[i])), "read");
	io_uring_sqe_set_data64(sqe, i);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Forget a timer: it fired, or is being cancelled. */
static void forget(struct conn *c, unsigned int kind)
{
	nr_armed -= !!c->deadline[kind];
	c->deadline[kind] = c->user_data[kind] = 0;
}

/* Queue an arming; it reaches the kernel with the next flush. */
static void arm(struct conn *c, unsigned int kind, uint64_t timeout)
{
	forget(c, kind);	/* re-arming replaces the earlier arming */
	c->deadline[kind] = now_ns() + timeout;
	c->user_data[kind] = ++last_user_data;
	nr_armed++;
	check(twheel_batch_arm(batch, c->id, kind, c->deadline[kind],
			       c->user_data[kind], TWHEEL_ARM_ABS), "arm");
}

static void close_conn(struct conn *c, const char *why)
{
	printf("conn %u closed: %s\n", c->id, why);
	for (unsigned int kind = 0; kind < TWHEEL_NR_KINDS; kind++)
		forget(c, kind);
	check(twheel_batch_cancel_conn(batch, c->id), "close");
}

static void on_event(const struct twheel_event *ev)
{
	struct conn *c = ev->conn_id <= NR_CONNS ? &conns[ev->conn_id] : NULL;
	unsigned int kind = ev->kind;

	if (!c || ev->user_data != c->user_data[kind])
		return;		/* stale: replaced or cancelled since */
	printf("conn %u %s fired %.1f ms after it was due\n", c->id,
	       kind_name[kind], (int64_t)(now_ns() - c->deadline[kind]) / 1e6);
	forget(c, kind);
	if (kind == TWHEEL_KIND_IDLE)
		close_conn(c, "idle");
	else if (kind == TWHEEL_KIND_RETRANSMIT && c->retries++)
		close_conn(c, "no ack");	/* it retransmitted once */
	else if (kind == TWHEEL_KIND_RETRANSMIT)	/* send again, back off */
		arm(c, TWHEEL_KIND_RETRANSMIT, RTO << c->retries);
	/* A failed path validation: stay on the old path. */
}

static void receive(const struct packet *p)
{
	struct conn *c = &conns[p->conn];

	printf("conn %u received %s\n", c->id, p->what);
	if (!strcmp(p->what, "close")) {
		close_conn(c, "by the peer");
		return;
	}
	arm(c, TWHEEL_KIND_IDLE, IDLE_TIMEOUT);	/* any packet: idle again */
	if (!strcmp(p->what, "ack")) {
		forget(c, TWHEEL_KIND_RETRANSMIT);
		check(twheel_batch_cancel(batch, c->id, TWHEEL_KIND_RETRANSMIT), "cancel");
	}
}

int main(void)
{
	uint64_t start = now_ns();
	struct io_uring ring;
	unsigned int next = 0, i;
	struct twheel *tw;

	/* Reads see the kernel queue only, not the shared event ring. */
	check(twheel_open(&tw, TWHEEL_OPEN_NO_RINGS, TWHEEL_CPU_ANY), "open");
	check(twheel_batch_new(tw, &batch), "batch");
	check(io_uring_queue_init(8, &ring, 0), "io_uring");
	for (i = 0; i < NR_READS; i++)
		queue_read(&ring, tw, i);
	for (i = 1; i <= NR_CONNS; i++) {
		conns[i].id = i;
		arm(&conns[i], TWHEEL_KIND_IDLE, IDLE_TIMEOUT);
		if (i != 2 && i != 3)	/* they have data in flight */
			arm(&conns[i], TWHEEL_KIND_RETRANSMIT, RTO);
	}
	arm(&conns[3], TWHEEL_KIND_PATH_VALIDATION, PATH_TIMEOUT);

	while (nr_armed) {
		struct __kernel_timespec ts = { .tv_sec = 5 };
		struct twheel_event *ev;
		struct io_uring_cqe *cqe;
		int n;

		/* Send the arms and cancels of the last turn, then the reads. */
		check(twheel_batch_flush(batch, NULL), "flush");
		check(io_uring_submit(&ring), "submit");
		if (next < NR_PACKETS) {	/* the network's next packet */
			int64_t wait = start + network[next].at_ms * MS - now_ns();

			if (wait < 0)
				wait = 0;
			/* io_uring refuses a tv_nsec of a second or more. */
			ts = (struct __kernel_timespec){
				.tv_sec = wait / 1000000000,
				.tv_nsec = wait % 1000000000,
			};
		}
		n = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (n == -ETIME && next < NR_PACKETS) {
			receive(&network[next++]);
			continue;
		}
		check(n == -ETIME ? -ETIMEDOUT : n, "wait");
		i = io_uring_cqe_get_data64(cqe);
		n = twheel_cqe_events(cqe, buf[i], &ev);
		io_uring_cqe_seen(&ring, cqe);
		check(n, "read");
		for (int j = 0; j < n; j++)
			on_event(&ev[j]);
		/* The buffer is read: put the read back in flight. */
		queue_read(&ring, tw, i);
	}
	printf("no timers left\n");
	io_uring_queue_exit(&ring);	/* cancels the reads in flight */
	twheel_batch_free(batch);
	twheel_close(tw);
	return 0;
}
