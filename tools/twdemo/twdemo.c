// SPDX-License-Identifier: GPL-2.0
/*
 * twdemo: a simulated protocol daemon on libtwheel.
 *
 * N connections each hold up to three timers (idle, path validation,
 * retransmission), driven for D seconds by synthetic traffic:
 *
 * - packets arrive at random connections and push their idle timeout back;
 *   a connection that gets none for its idle timeout closes when it fires;
 * - data is sent and arms the retransmission timer, acks cancel it; when it
 *   fires the daemon retransmits with the timeout doubled, and closes the
 *   connection after MAX_RETRIES retransmissions;
 * - now and then a connection migrates and validates its new path: most
 *   validations complete (the timer is cancelled), some time out;
 * - peers close connections (every timer of the connection is cancelled);
 *   some peers are gone without a word, and their connections end by
 *   their idle timeout or after their last retransmission.
 *
 * A closed connection is replaced by a new one with a new id, so the
 * number of connections stays at N. Arms and cancels go to the device
 * through a libtwheel batch buffer, sent once per turn of the loop. With
 * the shared rings (the default when the module offers them) the buffer is
 * submitted into the submission ring (twheel_batch_submit()) and events
 * come from the event ring (twheel_reap(), and the loop's poll() when
 * there is nothing); with -i, the buffer is flushed by ioctls and events
 * come from reads kept in flight in the demo's own io_uring
 * (twheel_prep_read()). The summary gives the system calls per 1 000
 * timer operations (arms and cancels sent), the library's
 * (twheel_get_syscalls()), with the rings apart from the loop's waits, and
 * with -i the demo's own io_uring_enter()s besides.
 *
 * An oracle records, for each timer, the arming the device should hold
 * (its user_data and absolute deadline) and checks every event reaped:
 * it is that arming, seen once, and due by the daemon's own clock. An
 * event of an arming that was cancelled or replaced is an error unless the
 * read that returned it completed before the cancel or re-arm returned
 * (the CQE came before the CQ tail read just after the flush); with the
 * rings, unless it was due within a tick of the submit that cancelled or
 * replaced it, give or take a tick (the kernel took the entry in the
 * tick the arming fired in, or wrote the event into the ring before the
 * submit). When the
 * traffic stops the daemon waits for every timer due by then, stops its
 * reads, closes every connection, and checks that nothing is left to read
 * and that the device's counters agree with its own. The exit status is 0
 * only if every check held.
 */

#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libtwheel.h>

#define MS			1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* The traffic, per connection and second, and the timeouts. */
#define PACKET_RATE		0.2	/* packets received: idle starts over */
#define SEND_RATE		0.5	/* data sent: retransmission armed */
#define ACK_RATE		5.0	/* acks, while data is unacked */
#define MIGRATE_RATE		0.01	/* path validations started */
#define VALIDATE_RATE		2.0	/* validations completed, while pending */
#define CLOSE_RATE		0.01	/* closed by the peer */
#define DEAD_PERCENT		5	/* peers gone: nothing comes back */
#define IDLE_MIN_MS		2000	/* idle timeout: 2 to 6 s */
#define IDLE_SPAN_MS		4000
#define RTO_MIN_MS		200	/* first retransmission timeout */
#define RTO_SPAN_MS		200
#define PATH_RTOS		3	/* path validation: 3 RTOs */
#define MAX_RETRIES		3

#define STEP_NS			(10 * MS)	/* traffic is made every 10 ms */
#define MAX_STEP_NS		(100 * MS)	/* and never more at once */
#define GRACE_NS		(10 * NSEC_PER_SEC)	/* wait for due timers */
#define NR_READS		8
#define EVENTS_PER_READ		512
#define REAP_ROUNDS		8	/* resubmissions per reap, at most */
#define CANCEL_TAG		(~0ULL)
#define FLUSH_RING		64	/* CQ tails of the last flushes kept */

enum { T_IDLE, T_PATH, T_RTX, NR_TIMERS };

static const unsigned int timer_kind[NR_TIMERS] = {
	[T_IDLE] = TWHEEL_KIND_IDLE,
	[T_PATH] = TWHEEL_KIND_PATH_VALIDATION,
	[T_RTX] = TWHEEL_KIND_RETRANSMIT,
};

/*
 * What the oracle knows of one timer of one connection. user_data grows
 * with every arming, so the armings a flush cancels or replaces for one
 * timer are a range.
 */
struct timer {
	uint64_t user_data;	/* the arming the device holds, 0 if none */
	uint64_t deadline;
	uint64_t fired;		/* the last arming that fired */
	uint64_t gone_lo, gone_hi;	/* armings cancelled or replaced by */
	uint64_t gone_flush;		/* this flush, the last one that did */
};

/* A fired timer the daemon reacts to once the events of a reap are checked. */
struct reaction {
	uint32_t i, gen, k;
};

struct conn {
	uint32_t gen;		/* conn_id is gen << 32 | index */
	uint16_t retries;
	uint16_t dead;		/* the peer is gone: no packets, no acks */
	uint32_t idle_ms, rto_ms;
	struct timer t[NR_TIMERS];
};

struct lateness {
	uint64_t *ns;
	size_t n, cap;
};

static struct {
	unsigned int nconn;
	double duration;
	uint64_t seed;
	int ioctl;		/* -i: ioctls and io_uring reads, no rings */
} opt = { 100000, 10.0, 1, 0 };

/* The shared rings are in use (not -i, and the module offers them). */
static int rings;
static uint64_t tick_ns;
/* Entries sent (arms and cancels), and io_uring_enter() calls at most. */
static uint64_t timer_ops, uring_calls, loop_waits;

static struct twheel *tw;
static struct twheel_batch_buf *batch;
static struct io_uring ring;
static struct twheel_event bufs[NR_READS][EVENTS_PER_READ];
static struct conn *conns;
static uint64_t rng_state, last_user_data;

/*
 * The time arms count from: one clock read per turn of the loop, not per
 * arm, because reading the clock is slow in a VM.
 */
static uint64_t arm_base;

/*
 * Flushes done, and the CQ tail read just after each of the last ones, or
 * with the rings the time just after each.
 */
static uint64_t flushes;
static unsigned int flush_tail[FLUSH_RING];
static uint64_t flush_ns[FLUSH_RING];

static int stopping;		/* traffic over: no reactions, no arms */
static uint64_t stop_ns;
static uint64_t owed;		/* timers due by stop_ns not yet fired */

static struct {
	uint64_t arms, new_arms, rearms;
	uint64_t cancels, conn_cancels, exit_cancels;
	uint64_t fired[NR_TIMERS], events_read, dropped;
	uint64_t early, repeated, came_back, unknown, wrong_deadline;
	uint64_t closed_idle, closed_peer, closed_retries, opened;
	uint64_t fired_not_due;	/* fired after the traffic, due after it */
} st;

static struct lateness kernel_late, reap_late;
static struct reaction *reactions;
static size_t nr_reactions, reactions_cap;

static void die(const char *what, int err)
{
	fprintf(stderr, "twdemo: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* xorshift64*: the traffic depends only on the seed and the timing. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned int rnd_below(unsigned int n)
{
	return (rnd() >> 32) * n >> 32;
}

/* How many times something of rate @per_sec happens in @dt_ns on N conns. */
static unsigned int how_many(double per_sec, uint64_t dt_ns)
{
	double x = per_sec * opt.nconn * dt_ns / 1e9;
	unsigned int n = x;

	return n + ((rnd() >> 11) * 0x1p-53 < x - n);
}

static void late_add(struct lateness *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 65536;
		l->ns = realloc(l->ns, l->cap * sizeof(*l->ns));
		if (!l->ns)
			die("lateness", ENOMEM);
	}
	l->ns[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t conn_id(unsigned int i)
{
	return (uint64_t)conns[i].gen << 32 | i;
}

/* --- the oracle's side of arming and cancelling ---------------------- */

/* The live arming of @t will never be read once the next flush is done. */
static void retire(struct timer *t)
{
	if (t->gone_flush != flushes + 1) {
		t->gone_flush = flushes + 1;
		t->gone_lo = t->user_data;
	}
	t->gone_hi = t->user_data;
	t->user_data = 0;
}

static void arm(unsigned int i, unsigned int k, uint64_t timeout_ns)
{
	struct timer *t = &conns[i].t[k];
	int ret;

	if (t->user_data) {
		retire(t);
		st.rearms++;
	} else {
		st.new_arms++;
	}
	st.arms++;
	t->user_data = ++last_user_data;
	t->deadline = arm_base + timeout_ns;
	ret = twheel_batch_arm(batch, conn_id(i), timer_kind[k], t->deadline,
			       t->user_data, TWHEEL_ARM_ABS);
	if (ret < 0)
		die("batch", ret);
}

static void cancel(unsigned int i, unsigned int k)
{
	struct timer *t = &conns[i].t[k];
	int ret;

	if (!t->user_data)
		return;
	retire(t);
	st.cancels++;
	ret = twheel_batch_cancel(batch, conn_id(i), timer_kind[k]);
	if (ret < 0)
		die("batch", ret);
}

/* A new connection in slot @i, with its idle timer armed. */
static void open_conn(unsigned int i)
{
	struct conn *c = &conns[i];

	c->gen++;
	c->retries = 0;
	c->dead = rnd_below(100) < DEAD_PERCENT;
	c->idle_ms = IDLE_MIN_MS + rnd_below(IDLE_SPAN_MS);
	c->rto_ms = RTO_MIN_MS + rnd_below(RTO_SPAN_MS);
	st.opened++;
	arm(i, T_IDLE, c->idle_ms * MS);
}

/* Close connection @i (one CANCEL_CONN for all its timers). */
static uint64_t close_conn(unsigned int i)
{
	uint64_t n = 0;
	int ret;

	for (int k = 0; k < NR_TIMERS; k++) {
		struct timer *t = &conns[i].t[k];

		if (t->user_data) {
			retire(t);
			n++;
		}
	}
	ret = twheel_batch_cancel_conn(batch, conn_id(i));
	if (ret < 0)
		die("batch", ret);
	return n;
}

static void replace_conn(unsigned int i, uint64_t *reason)
{
	st.conn_cancels += close_conn(i);
	(*reason)++;
	open_conn(i);
}

/* Sends the batch; with @sync, applied by the kernel before it returns. */
static void flush_mode(int sync)
{
	struct twheel_batch_result res;
	int ret;

	if (rings)
		ret = twheel_batch_submit(batch, sync ? TWHEEL_SUBMIT_SYNC : 0,
					  &res);
	else
		ret = twheel_batch_flush(batch, &res);
	if (ret < 0) {
		fprintf(stderr, "twdemo: flush failed at entry %u: %s\n",
			res.applied, strerror(-ret));
		exit(2);
	}
	timer_ops += res.applied;
	flushes++;
	if (rings) {
		/* The entries were published before this time. */
		flush_ns[flushes % FLUSH_RING] = now_ns();
		return;
	}
	/* CQEs before this index may hold events read before the flush. */
	flush_tail[flushes % FLUSH_RING] = io_uring_smp_load_acquire(ring.cq.ktail);
}

static void flush(void)
{
	flush_mode(0);
}

/* --- events ------------------------------------------------------------ */

/*
 * An event of an arming cancelled or replaced since: was it read before
 * the flush that sent the cancel returned? @cqe_index is the CQ index of
 * the read that returned it, or -1 for a read outside the ring.
 *
 * Only the last flush that cancelled something of @t is remembered. That
 * is enough because reap() checks every completion there is before the
 * daemon reacts to any, and the traffic comes after: every read that
 * completed before a flush returned is checked before the next flush
 * cancels anything more.
 */
static int read_before_cancel(const struct timer *t,
			      const struct twheel_event *ev, int64_t cqe_index)
{
	uint64_t user_data = ev->user_data;

	if (user_data < t->gone_lo || user_data > t->gone_hi)
		return 0;
	if (t->gone_flush > flushes)
		return 1;	/* the cancel has not even been sent */
	if (flushes - t->gone_flush >= FLUSH_RING)
		return 0;
	/*
	 * With the rings: an entry published before the tick in which the
	 * arming is due is applied before it can fire, so only an arming due
	 * within a tick of the submit may still come (two ticks: the deadline
	 * is rounded up to one).
	 */
	if (rings)
		return ev->deadline_ns < flush_ns[t->gone_flush % FLUSH_RING] +
					 2 * tick_ns;
	if (cqe_index < 0)
		return 0;
	return (int32_t)((uint32_t)cqe_index -
			 flush_tail[t->gone_flush % FLUSH_RING]) < 0;
}

/*
 * Check one event against the oracle. @now was read after the read that
 * returned it completed; @cqe_index is the CQ index of that read, or -1.
 */
static void on_event(const struct twheel_event *ev, uint64_t now,
		     int64_t cqe_index)
{
	unsigned int i = (uint32_t)ev->conn_id, k;
	struct conn *c;
	struct timer *t;

	st.events_read++;
	/* An entry the kernel refused: none of the demo's should be. */
	if (ev->flags & TWHEEL_EVENT_ERROR) {
		st.unknown++;
		return;
	}
	for (k = 0; k < NR_TIMERS && timer_kind[k] != ev->kind; k++)
		;
	if (i >= opt.nconn || k == NR_TIMERS) {
		st.unknown++;
		return;
	}
	c = &conns[i];
	t = &c->t[k];
	if (ev->conn_id != conn_id(i) || ev->user_data != t->user_data) {
		if (ev->user_data && ev->user_data == t->fired)
			st.repeated++;
		else if (ev->user_data &&
			 read_before_cancel(t, ev, cqe_index))
			st.dropped++;	/* the daemon drops it, as it should */
		else if (ev->user_data && ev->user_data <= last_user_data)
			st.came_back++;
		else
			st.unknown++;
		return;
	}
	if (ev->deadline_ns != t->deadline)
		st.wrong_deadline++;
	if (now < t->deadline || ev->fired_ns < t->deadline) {
		st.early++;
		return;
	}
	t->fired = t->user_data;
	t->user_data = 0;
	st.fired[k]++;
	late_add(&kernel_late, ev->fired_ns - ev->deadline_ns);
	late_add(&reap_late, now - t->deadline);
	if (stopping) {
		if (t->deadline <= stop_ns)
			owed--;
		else
			st.fired_not_due++;
		return;
	}
	if (nr_reactions == reactions_cap) {
		reactions_cap = reactions_cap ? 2 * reactions_cap : 4096;
		reactions = realloc(reactions, reactions_cap * sizeof(*reactions));
		if (!reactions)
			die("reactions", ENOMEM);
	}
	reactions[nr_reactions++] = (struct reaction){ i, c->gen, k };
}

/* What the daemon does when a timer fires. */
static void react(const struct reaction *r)
{
	struct conn *c = &conns[r->i];

	if (c->gen != r->gen)
		return;		/* closed since, by another of its timers */
	switch (r->k) {
	case T_IDLE:
		replace_conn(r->i, &st.closed_idle);
		break;
	case T_RTX:
		if (++c->retries > MAX_RETRIES)
			replace_conn(r->i, &st.closed_retries);
		else	/* retransmit, back off */
			arm(r->i, T_RTX, (c->rto_ms * MS) << c->retries);
		break;
	case T_PATH:
		break;	/* the new path failed: stay on the old one */
	}
}

static void queue_read(unsigned int r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	int ret;

	if (!sqe)
		die("io_uring_get_sqe", EBUSY);
	ret = twheel_prep_read(sqe, tw, bufs[r], sizeof(bufs[r]));
	if (ret)
		die("twheel_prep_read", ret);
	io_uring_sqe_set_data64(sqe, r);
}

/*
 * Check the events of every completion there is, waiting up to @wait_ns
 * for the first, then react to the timers that fired. With @requeue, each
 * read goes back in flight, and while reads complete the ring is entered
 * again (up to REAP_ROUNDS times) so that a backlog is reaped at once;
 * without, the reads are left alone. Returns the number of reads that
 * completed.
 */
static unsigned int reap(uint64_t wait_ns, int requeue)
{
	struct __kernel_timespec ts = {
		.tv_sec = wait_ns / NSEC_PER_SEC, .tv_nsec = wait_ns % NSEC_PER_SEC,
	};
	struct io_uring_cqe *cqe;
	unsigned int reads = 0, round, got;
	int ret;

	ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	uring_calls++;
	if (ret < 0 && ret != -ETIME && ret != -EINTR)
		die("io_uring_wait_cqe", ret);
	for (round = 0; round < REAP_ROUNDS; round++) {
		for (got = 0; io_uring_peek_cqe(&ring, &cqe) == 0; got++) {
			uint64_t r = io_uring_cqe_get_data64(cqe), now = now_ns();
			int64_t index = *ring.cq.khead;
			struct twheel_event *ev;
			int n;

			if (r == CANCEL_TAG) {
				io_uring_cqe_seen(&ring, cqe);
				continue;
			}
			n = twheel_cqe_events(cqe, bufs[r], &ev);
			if (n < 0 && n != -ECANCELED && n != -EINTR)
				die("read", n);
			for (int j = 0; j < n; j++)
				on_event(&ev[j], now, index);
			io_uring_cqe_seen(&ring, cqe);
			reads++;
			if (requeue)
				queue_read(r);
		}
		if (!got || !requeue)
			break;
		ret = io_uring_submit(&ring);
		uring_calls++;
		if (ret < 0)
			die("io_uring_submit", ret);
	}
	arm_base = now_ns();
	for (size_t j = 0; j < nr_reactions; j++)
		react(&reactions[j]);
	nr_reactions = 0;
	return reads;
}

/*
 * reap() with the rings: takes what there is (up to REAP_ROUNDS arrays
 * full), waiting up to @wait_ns for it if there is nothing, then reacts.
 * The wait is the loop's own poll(), which a daemon makes anyway (its
 * epoll_wait() on its sockets and this descriptor), so it is counted apart
 * from the library's system calls for the timers.
 */
static unsigned int reap_rings(uint64_t wait_ns)
{
	struct pollfd pfd = {
		.fd = twheel_fd(tw), .events = POLLIN | POLLRDBAND,
	};
	struct twheel_event *ev = bufs[0];
	int timeout_ms = (wait_ns + MS - 1) / MS, n;
	unsigned int round, events = 0;
	uint64_t now;

	/* A reap that finds nothing asks to be woken by the next record. */
	n = twheel_reap(tw, ev, EVENTS_PER_READ);
	if (!n && timeout_ms) {
		loop_waits++;
		if (poll(&pfd, 1, timeout_ms) > 0)
			n = twheel_reap(tw, ev, EVENTS_PER_READ);
	}
	for (round = 0; n > 0 && round < REAP_ROUNDS; round++) {
		now = now_ns();
		for (int j = 0; j < n; j++)
			on_event(&ev[j], now, -1);
		events += n;
		if (n < EVENTS_PER_READ)
			break;
		n = twheel_reap(tw, ev, EVENTS_PER_READ);
	}
	if (n < 0 && n != -ETIME && n != -EINTR)
		die("twheel_wait", n);
	arm_base = now_ns();
	for (size_t j = 0; j < nr_reactions; j++)
		react(&reactions[j]);
	nr_reactions = 0;
	return events;
}

/* --- traffic ------------------------------------------------------------ */

static void traffic(uint64_t now, uint64_t dt)
{
	unsigned int n, i;

	arm_base = now;
	for (n = how_many(PACKET_RATE, dt); n; n--) {
		i = rnd_below(opt.nconn);
		if (!conns[i].dead)
			arm(i, T_IDLE, conns[i].idle_ms * MS);
	}
	for (n = how_many(SEND_RATE, dt); n; n--) {
		i = rnd_below(opt.nconn);
		if (!conns[i].t[T_RTX].user_data) {
			conns[i].retries = 0;
			arm(i, T_RTX, conns[i].rto_ms * MS);
		}
	}
	for (n = how_many(ACK_RATE, dt); n; n--) {
		i = rnd_below(opt.nconn);
		if (!conns[i].dead)
			cancel(i, T_RTX);
	}
	for (n = how_many(MIGRATE_RATE, dt); n; n--) {
		i = rnd_below(opt.nconn);
		if (!conns[i].t[T_PATH].user_data)
			arm(i, T_PATH, (uint64_t)PATH_RTOS * conns[i].rto_ms * MS);
	}
	for (n = how_many(VALIDATE_RATE, dt); n; n--) {
		i = rnd_below(opt.nconn);
		if (!conns[i].dead)
			cancel(i, T_PATH);
	}
	for (n = how_many(CLOSE_RATE, dt); n; n--)
		replace_conn(rnd_below(opt.nconn), &st.closed_peer);
}

/* --- progress and summary ------------------------------------------------ */

static uint64_t total_fired(void)
{
	return st.fired[T_IDLE] + st.fired[T_PATH] + st.fired[T_RTX];
}

static void progress(uint64_t start, int tty, int last)
{
	static uint64_t prev_ns, prev_fired, prev_arms, prev_cancels;
	uint64_t now = now_ns(), cancels = st.cancels + st.conn_cancels;
	double dt = (now - prev_ns) / 1e9;

	if (!prev_ns) {
		prev_ns = start;
		dt = (now - start) / 1e9;
	}
	printf("%s%5.1f s %-8s %8.0f arms/s %8.0f cancels/s %8.0f events/s %9llu fired%s",
	       tty ? "\r" : "twdemo: ", (now - start) / 1e9,
	       stopping ? "draining" : "traffic",
	       (st.arms - prev_arms) / dt, (cancels - prev_cancels) / dt,
	       (total_fired() - prev_fired) / dt,
	       (unsigned long long)total_fired(), tty && !last ? "" : "\n");
	fflush(stdout);
	prev_ns = now;
	prev_fired = total_fired();
	prev_arms = st.arms;
	prev_cancels = cancels;
}

static void percentiles(const char *what, struct lateness *l)
{
	if (!l->n) {
		printf("  %-30s no events\n", what);
		return;
	}
	qsort(l->ns, l->n, sizeof(*l->ns), cmp_u64);
	printf("  %-30s p50 %8.3f ms   p99 %8.3f ms   max %8.3f ms\n", what,
	       l->ns[l->n / 2] / 1e6, l->ns[(l->n - 1) * 99 / 100] / 1e6,
	       l->ns[l->n - 1] / 1e6);
}

/* One line per check; returns 1 if it failed. */
static int verdict(int ok, const char *fmt, unsigned long long a,
		   unsigned long long b)
{
	printf("  %s  ", ok ? "ok  " : "FAIL");
	printf(fmt, a, b);
	printf("\n");
	return !ok;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: twdemo [-i] [-n connections] [-d seconds] [-s seed]\n"
		"\n"
		"A simulated protocol daemon on /dev/twheel: N connections with idle,\n"
		"path-validation and retransmission timers driven by synthetic traffic\n"
		"for the given time, arms and cancels sent through the shared rings and\n"
		"events reaped from them, every event checked against an oracle. Exit\n"
		"status 0 if every timer due fired exactly once, none early, and nothing\n"
		"cancelled came back; 1 if not; 2 on errors.\n"
		"\n"
		"  -i     ioctls and io_uring reads instead of the shared rings\n"
		"  -n N   connections (default 100000)\n"
		"  -d S   seconds of traffic (default 10)\n"
		"  -s N   seed of the traffic (default 1)\n"
		"  -h, --help\n");
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "ioctl", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "in:d:s:h", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'n':
			opt.nconn = strtoul(optarg, &end, 0);
			if (*end || errno || !opt.nconn || opt.nconn > 1U << 24)
				goto bad;
			break;
		case 'd':
			opt.duration = strtod(optarg, &end);
			if (*end || errno || !(opt.duration > 0) || opt.duration > 86400)
				goto bad;
			break;
		case 's':
			opt.seed = strtoull(optarg, &end, 0);
			if (*end || errno)
				goto bad;
			break;
		case 'i':
			opt.ioctl = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind == argc)
		return;
	fprintf(stderr, "twdemo: unexpected argument '%s'\n", argv[optind]);
	exit(2);
bad:
	fprintf(stderr, "twdemo: invalid value '%s' for -%c\n", optarg, c);
	exit(2);
}

int main(int argc, char **argv)
{
	struct twheel_handshake info;
	struct twheel_stats stats = { .size = sizeof(stats) };
	struct twheel_next next = { .size = sizeof(next) };
	struct twheel_event ev[64];
	uint64_t start, end, last_step, last_progress, t, left = 0;
	uint64_t dropped, nr_syscalls = 0;
	int tty = isatty(STDOUT_FILENO), ret, failed = 0;
	unsigned int i, k, in_flight;

	parse_args(argc, argv);
	rng_state = opt.seed * 0x9E3779B97F4A7C15ULL + 1;

	ret = twheel_open(&tw, TWHEEL_OPEN_NONBLOCK |
			  (opt.ioctl ? TWHEEL_OPEN_NO_RINGS : 0), TWHEEL_CPU_ANY);
	if (ret)
		die(ret == -ENOENT ? "/dev/twheel (is the module loaded?)" :
		    "/dev/twheel", ret);
	twheel_get_info(tw, &info);
	rings = twheel_has_rings(tw) == 1;
	tick_ns = info.tick_ns;
	printf("twdemo: %u connections, %.1f s of traffic, seed %llu; twheel api %u, tick %llu ns, cpu %u, %s\n",
	       opt.nconn, opt.duration, (unsigned long long)opt.seed,
	       info.api_version, (unsigned long long)info.tick_ns, info.cpu,
	       rings ? "shared rings" : opt.ioctl ? "ioctls (-i)" :
	       "ioctls (the module has no rings)");
	if ((uint64_t)opt.nconn * NR_TIMERS > info.quota_timers) {
		fprintf(stderr, "twdemo: %u connections may need more timers than the quota of %llu\n",
			opt.nconn, (unsigned long long)info.quota_timers);
		return 2;
	}
	ret = twheel_batch_new(tw, &batch);
	if (ret)
		die("twheel_batch_new", ret);
	if (!rings) {
		ret = io_uring_queue_init(2 * NR_READS, &ring, 0);
		if (ret)
			die("io_uring_queue_init", ret);
	}
	conns = calloc(opt.nconn, sizeof(*conns));
	if (!conns)
		die("connections", ENOMEM);

	start = arm_base = now_ns();
	for (i = 0; i < opt.nconn; i++)
		open_conn(i);
	st.opened = 0;		/* count replacements only */
	for (i = 0; !rings && i < NR_READS; i++)
		queue_read(i);
	flush();
	last_step = last_progress = now_ns();

	/* The traffic, for the duration. */
	while ((t = now_ns()) - start < opt.duration * 1e9) {
		uint64_t wait = last_step + STEP_NS > t ? last_step + STEP_NS - t : 0;

		if (rings) {
			reap_rings(wait);
		} else {
			ret = io_uring_submit(&ring);
			uring_calls++;
			if (ret < 0)
				die("io_uring_submit", ret);
			reap(wait, 1);
		}
		t = now_ns();
		if (t - last_step >= STEP_NS) {
			traffic(t, t - last_step > MAX_STEP_NS ? MAX_STEP_NS : t - last_step);
			last_step = t;
		}
		flush();
		if (t - last_progress >= (tty ? 250 : 1000) * MS) {
			progress(start, tty, 0);
			last_progress = t;
		}
	}

	/* Every timer due by now must fire; nothing new is armed. */
	stopping = 1;
	stop_ns = now_ns();
	for (i = 0; i < opt.nconn; i++)
		for (k = 0; k < NR_TIMERS; k++)
			owed += conns[i].t[k].user_data &&
				conns[i].t[k].deadline <= stop_ns;
	while (owed && now_ns() - stop_ns < GRACE_NS) {
		if (rings) {
			reap_rings(100 * MS);
		} else {
			io_uring_submit(&ring);
			uring_calls++;
			reap(100 * MS, 1);
		}
		if (now_ns() - last_progress >= (tty ? 250 : 1000) * MS) {
			progress(start, tty, 0);
			last_progress = now_ns();
		}
	}
	end = now_ns();
	progress(start, tty, 1);

	/* Stop the reads, handling what they still bring. */
	for (i = 0; !rings && i < NR_READS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_cancel64(sqe, i, 0);
		io_uring_sqe_set_data64(sqe, CANCEL_TAG);
	}
	if (!rings) {
		io_uring_submit(&ring);
		uring_calls++;
	}
	for (in_flight = rings ? 0 : NR_READS, t = now_ns();
	     in_flight && now_ns() - t < 5 * NSEC_PER_SEC;)
		in_flight -= reap(100 * MS, 0);
	if (in_flight)
		die("reads still in flight after their cancel", ETIMEDOUT);

	/*
	 * Close every connection, the cancels applied before the flush
	 * returns; then nothing may be read but, with the rings, events
	 * already in the event ring that the oracle accepts.
	 */
	for (i = 0; i < opt.nconn; i++)
		st.exit_cancels += close_conn(i);
	flush_mode(1);
	dropped = st.dropped;
	while ((ret = twheel_reap(tw, ev, 64)) > 0) {
		left += ret;
		for (int j = 0; j < ret; j++)
			on_event(&ev[j], now_ns(), -1);
	}
	left -= st.dropped - dropped;
	if (ret < 0)
		die("twheel_reap", ret);
	ret = twheel_get_next(tw, &next);
	if (!ret)
		ret = twheel_get_stats(tw, &stats);
	if (ret)
		die("twheel_get_next/stats", ret);
	twheel_get_syscalls(tw, &nr_syscalls);

	printf("\ntwdemo: %u connections, %.1f s of traffic, %.2f s to drain (seed %llu)\n",
	       opt.nconn, (stop_ns - start) / 1e9, (end - stop_ns) / 1e9,
	       (unsigned long long)opt.seed);
	printf("  timers armed        %10llu  (%llu new, %llu re-armed)\n",
	       (unsigned long long)st.arms, (unsigned long long)st.new_arms,
	       (unsigned long long)st.rearms);
	printf("  timers cancelled    %10llu  (%llu by acks and validations, %llu with their connection, %llu at exit)\n",
	       (unsigned long long)(st.cancels + st.conn_cancels + st.exit_cancels),
	       (unsigned long long)st.cancels, (unsigned long long)st.conn_cancels,
	       (unsigned long long)st.exit_cancels);
	printf("  timers fired        %10llu  (%llu idle, %llu path validation, %llu retransmission)\n",
	       (unsigned long long)total_fired(),
	       (unsigned long long)st.fired[T_IDLE], (unsigned long long)st.fired[T_PATH],
	       (unsigned long long)st.fired[T_RTX]);
	printf("  connections         %10llu  replaced (%llu idle, %llu closed by the peer, %llu after %u retransmissions)\n",
	       (unsigned long long)st.opened, (unsigned long long)st.closed_idle,
	       (unsigned long long)st.closed_peer, (unsigned long long)st.closed_retries,
	       MAX_RETRIES);
	printf("  events per second   %10.0f  (%llu events in %.2f s; %.0f arms and cancels per second)\n",
	       total_fired() / ((end - start) / 1e9), (unsigned long long)total_fired(),
	       (end - start) / 1e9,
	       (st.arms + st.cancels + st.conn_cancels) / ((end - start) / 1e9));
	if (rings)
		printf("  system calls        %10.1f  per 1000 timer operations (%llu by the library for %llu arms and cancels sent, shared rings); besides, the loop's waits: %llu, %.1f per 1000\n",
		       timer_ops ? nr_syscalls * 1000.0 / timer_ops : 0.0,
		       (unsigned long long)nr_syscalls,
		       (unsigned long long)timer_ops,
		       (unsigned long long)loop_waits,
		       timer_ops ? loop_waits * 1000.0 / timer_ops : 0.0);
	else
		printf("  system calls        %10.1f  per 1000 timer operations (%llu by the library, %llu io_uring_enter at most, the loop's waits among them; %llu arms and cancels sent; ioctls)\n",
		       timer_ops ? (nr_syscalls + uring_calls) * 1000.0 / timer_ops : 0.0,
		       (unsigned long long)nr_syscalls,
		       (unsigned long long)uring_calls,
		       (unsigned long long)timer_ops);
	printf("  lateness\n");
	percentiles("fired_ns - deadline (kernel)", &kernel_late);
	percentiles("reaped - deadline (daemon)", &reap_late);

	printf("exactness:\n");
	failed |= verdict(!owed, "every timer due fired: %llu due by the end of the traffic, %llu missing",
			  total_fired() - st.fired_not_due + owed, owed);
	failed |= verdict(!st.early && !st.wrong_deadline,
			  "none early: %llu fired early, %llu with a wrong deadline",
			  st.early, st.wrong_deadline);
	failed |= verdict(!st.repeated && !st.unknown,
			  "each exactly once: %llu repeated, %llu unknown", st.repeated,
			  st.unknown);
	failed |= verdict(!st.came_back,
			  "nothing cancelled came back: %llu did (%llu read before their cancel returned)",
			  st.came_back, st.dropped);
	failed |= verdict(!left && !next.armed && !next.queued,
			  "nothing left after closing every connection: %llu read, %llu armed or queued",
			  left, next.armed + next.queued);
	failed |= verdict(stats.read == st.events_read,
			  "the device counted every event read: %llu, the daemon %llu",
			  stats.read, st.events_read);
	failed |= verdict(stats.arms + stats.rearms == st.arms,
			  "the device counted every arm: %llu, the daemon %llu",
			  stats.arms + stats.rearms, st.arms);
	printf("exactness: %s\n", failed ? "FAIL" : "PASS");

	if (!rings)
		io_uring_queue_exit(&ring);
	twheel_batch_free(batch);
	twheel_close(tw);
	return failed;
}
