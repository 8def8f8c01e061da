// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress with an exact oracle. Worker threads arm, re-arm,
 * cancel, cancel whole connections and move it to other CPUs (SET_CPU) on
 * one shared file while three readers (poll + read(RWF_NOWAIT), a blocking
 * read(), io_uring) drain it; the workers also open, use and close files
 * of their own, and a forked process works on a file of its own with the
 * same connection ids.
 *
 * The oracle is exact despite the concurrency because each connection
 * belongs to one worker, which therefore knows which arming of each kind is
 * live, and because a cancel or re-arm says whether it found its timer:
 *
 *   found == 1: the earlier arming was removed, so it is never read;
 *   found == 0: its event had been read, by a read that began before the
 *               cancel returned;
 *   never ended: it fires and is read exactly once.
 *
 * A cancel of a whole connection with several live kinds only says whether
 * it found any of them; for those the oracle checks "at most once each, all
 * read if nothing was found, not all read if something was".
 *
 * Readers only log events; everything is checked at the end, once every
 * timer has fired or been cancelled. Every arming carries a unique
 * user_data, so an event of a stale arming is recognisable.
 */

#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "twheel_test.h"

#define NR_WORKERS	3
#define CONNS		48		/* per worker */
#define KINDS		4		/* kinds 0..3 of each connection */
#define CONN_BASE	1000
#define MAX_ARMINGS	(1 << 19)
#define MAX_GROUPS	(1 << 16)
#define MAX_FAILS	20

/* user_data tags: which file an event was armed on. */
#define TAG_SHIFT	48
#define TAG_MASK	(0xffffULL << TAG_SHIFT)
#define TAG_MAIN	(0x7a11ULL << TAG_SHIFT)
#define TAG_SIDE	(0x51deULL << TAG_SHIFT)
#define TAG_CHILD	(0xc41dULL << TAG_SHIFT)

/*
 * Lateness bound on the stock kernel: one tick plus the expiry thread's
 * wake-up latency. Here that latency is not the module's alone: under TCG
 * six busy threads and a child process compete for two vCPUs, and on a
 * build machine shared with other VMs the vCPUs themselves stall; runs
 * there measured a worst case of 380 ms with a median of a few ms. One
 * second is generous for that and still catches a lost wake-up or a timer
 * left on a higher level of the wheel (those come seconds late, or never:
 * a missing event fails the exactly-once check in any case).
 */
#define LATENESS_BOUND_NS	(1000 * NSEC_PER_MSEC)

enum end { END_OPEN, END_REMOVED, END_AFTER_READ, END_GROUP };

struct arming {
	uint64_t conn;
	uint64_t timeout;
	uint64_t t_call;	/* before the arm ioctl */
	uint64_t t_ret;		/* after it returned */
	uint64_t t_end;		/* after the call that ended it returned */
	uint32_t kind;
	uint32_t flags;
	uint32_t end;
	uint32_t group;
	atomic_uint events;
	/* Written by the reader that logged its (first) event. */
	uint64_t ev_deadline;
	uint64_t ev_fired;
	uint64_t ev_read_start;
	uint64_t ev_read_end;
	uint64_t ev_conn;
	uint32_t ev_kind;
	uint32_t ev_flags;
};

struct group {
	uint32_t found;
	uint32_t n;
};

struct stress {
	int fd;
	uint64_t tick_ns;
	unsigned int nr_cpus;
	uint64_t run_ns;
	unsigned int max_ops;
	unsigned int seed;

	struct arming *armings;
	atomic_uint nr_armings;
	struct group *groups;
	atomic_uint nr_groups;

	atomic_int stop_workers;
	atomic_int stop_readers;
	atomic_uint fails;
	pthread_mutex_t fail_lock;

	/* Counts, printed at the end. */
	atomic_ulong ops[8];
	atomic_ulong logged[3];
	atomic_ulong side_files, side_events;
	atomic_ulong max_late;
	uint64_t *late;		/* of every event read, for percentiles */
	unsigned int nr_late;
	atomic_int blocking_exited;
};

enum {
	OP_ARM, OP_ARM_BATCH, OP_ARM_ABS, OP_CANCEL, OP_CANCEL_CONN, OP_SET_CPU,
	OP_SIDE,
};

static const char * const op_names[] = {
	"arm", "arm_batch", "arm_abs", "cancel", "cancel_conn", "set_cpu",
	"side_file",
};

static void fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;
	unsigned int n = atomic_fetch_add(&s->fails, 1);

	if (n >= MAX_FAILS)
		return;
	pthread_mutex_lock(&s->fail_lock);
	printf("# FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	pthread_mutex_unlock(&s->fail_lock);
}

static uint32_t rnd(unsigned int *state)
{
	/* xorshift32: per-thread, reproducible from the printed seed. */
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* ---- readers: log events, check nothing yet ---- */

static void log_events(struct stress *s, const struct twheel_event *ev,
		       unsigned int n, uint64_t t_start, int reader)
{
	uint64_t t_end = tw_now();

	for (unsigned int i = 0; i < n; i++) {
		uint64_t id = ev[i].user_data & ~TAG_MASK;
		struct arming *a;

		if ((ev[i].user_data & TAG_MASK) != TAG_MAIN ||
		    id >= atomic_load(&s->nr_armings)) {
			fail(s, "read an event of no arming of this file: conn %ju kind %u user_data %#jx",
			     (uintmax_t)ev[i].conn_id, ev[i].kind,
			     (uintmax_t)ev[i].user_data);
			continue;
		}
		a = &s->armings[id];
		if (atomic_fetch_add(&a->events, 1)) {
			fail(s, "arming %ju (conn %ju kind %u) read a second time",
			     (uintmax_t)id, (uintmax_t)a->conn, a->kind);
			continue;
		}
		a->ev_deadline = ev[i].deadline_ns;
		a->ev_fired = ev[i].fired_ns;
		a->ev_read_start = t_start;
		a->ev_read_end = t_end;
		a->ev_conn = ev[i].conn_id;
		a->ev_kind = ev[i].kind;
		a->ev_flags = ev[i].flags;
	}
	atomic_fetch_add(&s->logged[reader], n);
}

/* Reader 0: poll(), then a non-blocking read with RWF_NOWAIT. */
static void *poll_reader(void *arg)
{
	struct stress *s = arg;
	struct twheel_event ev[16];
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	while (!atomic_load(&s->stop_readers)) {
		struct iovec iov = { ev, sizeof(ev) };
		uint64_t t;
		ssize_t n;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		t = tw_now();
		n = preadv2(s->fd, &iov, 1, -1, RWF_NOWAIT);
		if (n < 0) {
			if (errno != EAGAIN)
				fail(s, "poll reader: read failed: %s (expected records or EAGAIN)",
				     strerror(errno));
			continue;
		}
		if (n % sizeof(ev[0]))
			fail(s, "read returned %zd bytes, not whole records", n);
		log_events(s, ev, n / sizeof(ev[0]), t, 0);
	}
	return NULL;
}

static void on_sigusr1(int sig)
{
}

/* Reader 1: a blocking read(), woken by SIGUSR1 at the end. */
static void *blocking_reader(void *arg)
{
	struct stress *s = arg;
	struct twheel_event ev[7];

	while (!atomic_load(&s->stop_readers)) {
		uint64_t t = tw_now();
		ssize_t n = read(s->fd, ev, sizeof(ev));

		if (n < 0) {
			if (errno != EINTR)
				fail(s, "blocking reader: read failed: %s (expected records or EINTR)",
				     strerror(errno));
			continue;
		}
		if (n == 0 || n % sizeof(ev[0]))
			fail(s, "blocking read returned %zd bytes, not whole records", n);
		log_events(s, ev, n / sizeof(ev[0]), t, 1);
	}
	atomic_store(&s->blocking_exited, 1);
	return NULL;
}

#define URING_READS	4

/* Reader 2: io_uring, several reads in flight. */
static void *uring_reader(void *arg)
{
	struct stress *s = arg;
	struct twheel_event ev[URING_READS][5];
	uint64_t t_sub[URING_READS];
	struct io_uring ring;
	unsigned int inflight = 0;
	int cancelled = 0, ret;

	ret = io_uring_queue_init(16, &ring, 0);
	if (ret) {
		fail(s, "io_uring_queue_init: %s", strerror(-ret));
		return NULL;
	}
	for (unsigned int i = 0; i < URING_READS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, s->fd, ev[i], sizeof(ev[i]), -1);
		io_uring_sqe_set_data64(sqe, i);
		t_sub[i] = tw_now();
		inflight++;
	}
	io_uring_submit(&ring);

	while (inflight) {
		struct __kernel_timespec ts = { .tv_nsec = 20 * 1000000L };
		struct io_uring_cqe *cqe;
		unsigned int i;
		int res;

		if (atomic_load(&s->stop_readers) && !cancelled) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY |
					       IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, 100);
			io_uring_submit(&ring);
			cancelled = 1;
		}
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret == -ETIME && cancelled)
			cancelled = 0;	/* cancel again what is still in flight */
		if (ret == -ETIME || ret == -EINTR)
			continue;
		if (ret) {
			fail(s, "io_uring_wait_cqe: %s", strerror(-ret));
			break;
		}
		i = io_uring_cqe_get_data64(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (i == 100)
			continue;
		inflight--;
		if (res > 0) {
			if (res % sizeof(ev[0][0]))
				fail(s, "io_uring read returned %d bytes, not whole records", res);
			log_events(s, ev[i], res / sizeof(ev[0][0]), t_sub[i], 2);
		} else if (res != -ECANCELED && res != -EINTR) {
			fail(s, "io_uring read completed with %d (expected records, or -ECANCELED at the end)",
			     res);
		}
		if (!atomic_load(&s->stop_readers)) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_read(sqe, s->fd, ev[i], sizeof(ev[i]), -1);
			io_uring_sqe_set_data64(sqe, i);
			t_sub[i] = tw_now();
			io_uring_submit(&ring);
			inflight++;
		}
	}
	io_uring_queue_exit(&ring);
	return NULL;
}

/* ---- workers ---- */

struct worker {
	struct stress *s;
	int id;
	unsigned int rng;
	int64_t live[CONNS][KINDS];	/* the kind's open arming, or -1 */
};

static uint64_t conn_id(int worker, int c)
{
	return CONN_BASE + worker * CONNS + c;
}

static int64_t new_arming(struct stress *s, uint64_t conn, uint32_t kind,
			  uint64_t timeout, uint32_t flags)
{
	unsigned int id = atomic_fetch_add(&s->nr_armings, 1);
	struct arming *a;

	if (id >= MAX_ARMINGS) {
		atomic_store(&s->stop_workers, 1);
		return -1;
	}
	a = &s->armings[id];
	a->conn = conn;
	a->kind = kind;
	a->timeout = timeout;
	a->flags = flags;
	a->end = END_OPEN;
	return id;
}

/* The call that replaced or cancelled arming @id returned @found. */
static void end_arming(struct stress *s, int64_t id, int found, uint64_t t)
{
	s->armings[id].end = found ? END_REMOVED : END_AFTER_READ;
	s->armings[id].t_end = t;
}

static uint64_t pick_timeout(struct worker *w, uint32_t *flags)
{
	uint32_t r = rnd(&w->rng) % 20;

	*flags = 0;
	if (r < 2)
		return 0;
	if (r < 4)
		return 20 * NSEC_PER_MSEC + rnd(&w->rng) % (180 * NSEC_PER_MSEC);
	/* Due within a tick or two: cancels race with expiry and reads. */
	if (r < 12)
		return rnd(&w->rng) % (2 * NSEC_PER_MSEC);
	return rnd(&w->rng) % (20 * NSEC_PER_MSEC);
}

static void op_arm(struct worker *w, int abs)
{
	struct stress *s = w->s;
	int c = rnd(&w->rng) % CONNS, k = rnd(&w->rng) % KINDS;
	int64_t prev = w->live[c][k], id;
	struct twheel_arm a = { .conn_id = conn_id(w->id, c), .kind = k };
	struct twheel_batch b;
	uint64_t t0, t1;
	int ret;

	a.timeout_ns = pick_timeout(w, &a.flags);
	t0 = tw_now();
	if (abs) {
		/* Half in the past (due at once), half up to 20 ms ahead. */
		a.flags = TWHEEL_ARM_ABS;
		if (rnd(&w->rng) & 1)
			a.timeout_ns = t0 - rnd(&w->rng) % (5 * NSEC_PER_MSEC);
		else
			a.timeout_ns = t0 + rnd(&w->rng) % (20 * NSEC_PER_MSEC);
	}
	id = new_arming(s, a.conn_id, k, a.timeout_ns, a.flags);
	if (id < 0)
		return;
	a.user_data = TAG_MAIN | id;
	s->armings[id].t_call = t0;
	ret = tw_arm_batch(s->fd, &a, 1, &b);
	t1 = tw_now();
	s->armings[id].t_ret = t1;
	if (ret != 1) {
		fail(s, "arm conn %ju kind %d: returned %d, error %d (expected 1 entry applied)",
		     (uintmax_t)a.conn_id, k, ret, b.error);
		s->armings[id].end = END_REMOVED;	/* never armed */
		return;
	}
	if (prev >= 0)
		end_arming(s, prev, b.found, t1);
	else if (b.found)
		fail(s, "arm of idle conn %ju kind %d found a timer (expected found 0)",
		     (uintmax_t)a.conn_id, k);
	w->live[c][k] = id;
}

/* Arms up to eight idle kinds in one batch: none may be found. */
static void op_arm_batch(struct worker *w)
{
	struct stress *s = w->s;
	struct twheel_arm a[8];
	int cs[8], ks[8], n = 0;
	int64_t ids[8];
	struct twheel_batch b;
	uint64_t t0, t1;
	int ret;

	for (int i = 0; i < 8; i++) {
		int c = rnd(&w->rng) % CONNS, k = rnd(&w->rng) % KINDS, dup = 0;

		if (w->live[c][k] >= 0)
			continue;
		for (int j = 0; j < n; j++)
			dup |= cs[j] == c && ks[j] == k;
		if (dup)
			continue;
		cs[n] = c;
		ks[n] = k;
		n++;
	}
	if (!n)
		return;
	t0 = tw_now();
	for (int i = 0; i < n; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].conn_id = conn_id(w->id, cs[i]);
		a[i].kind = ks[i];
		a[i].timeout_ns = pick_timeout(w, &a[i].flags);
		ids[i] = new_arming(s, a[i].conn_id, ks[i], a[i].timeout_ns,
				    a[i].flags);
		if (ids[i] < 0) {
			/* Out of records: the armings so far never happen. */
			while (i--)
				s->armings[ids[i]].end = END_REMOVED;
			return;
		}
		a[i].user_data = TAG_MAIN | ids[i];
		s->armings[ids[i]].t_call = t0;
	}
	ret = tw_arm_batch(s->fd, a, n, &b);
	t1 = tw_now();
	for (int i = 0; i < n; i++) {
		s->armings[ids[i]].t_ret = t1;
		if (i < ret)
			w->live[cs[i]][ks[i]] = ids[i];
		else	/* never armed */
			s->armings[ids[i]].end = END_REMOVED;
	}
	if (ret != n)
		fail(s, "batch of %d arms: returned %d, error %d (expected all applied)",
		     n, ret, b.error);
	if (b.found)
		fail(s, "batch of %d arms of idle kinds found %u (expected 0)",
		     n, b.found);
}

static void op_cancel(struct worker *w)
{
	struct stress *s = w->s;
	int c = rnd(&w->rng) % CONNS, k = rnd(&w->rng) % KINDS;
	int64_t prev = w->live[c][k];
	int found = tw_cancel(s->fd, conn_id(w->id, c), k);
	uint64_t t = tw_now();

	if (found < 0) {
		fail(s, "cancel conn %ju kind %d: %s (expected success)",
		     (uintmax_t)conn_id(w->id, c), k, strerror(errno));
		return;
	}
	if (prev >= 0)
		end_arming(s, prev, found, t);
	else if (found)
		fail(s, "cancel of idle conn %ju kind %d found a timer (expected 0)",
		     (uintmax_t)conn_id(w->id, c), k);
	w->live[c][k] = -1;
}

static void op_cancel_conn(struct worker *w)
{
	struct stress *s = w->s;
	int c = rnd(&w->rng) % CONNS, nlive = 0, last = -1;
	int found = tw_cancel_conn(s->fd, conn_id(w->id, c));
	uint64_t t = tw_now();
	unsigned int g;

	if (found < 0) {
		fail(s, "cancel_conn %ju: %s (expected success)",
		     (uintmax_t)conn_id(w->id, c), strerror(errno));
		return;
	}
	for (int k = 0; k < KINDS; k++) {
		if (w->live[c][k] >= 0) {
			nlive++;
			last = k;
		}
	}
	if (!nlive) {
		if (found)
			fail(s, "cancel_conn of idle conn %ju found it (expected 0)",
			     (uintmax_t)conn_id(w->id, c));
		return;
	}
	if (nlive == 1) {
		end_arming(s, w->live[c][last], found, t);
		w->live[c][last] = -1;
		return;
	}
	g = atomic_fetch_add(&s->nr_groups, 1);
	if (g >= MAX_GROUPS) {
		/* Out of room for the weak check: leave them ungrouped. */
		atomic_store(&s->stop_workers, 1);
		g = MAX_GROUPS;
	} else {
		s->groups[g].found = found;
		s->groups[g].n = nlive;
	}
	for (int k = 0; k < KINDS; k++) {
		int64_t id = w->live[c][k];

		if (id < 0)
			continue;
		s->armings[id].t_end = t;
		s->armings[id].end = g < MAX_GROUPS ? END_GROUP : END_REMOVED;
		s->armings[id].group = g;
		w->live[c][k] = -1;
	}
}

/* Moves the shared file, with everything it holds, to another CPU. */
static void op_set_cpu(struct worker *w)
{
	struct stress *s = w->s;
	struct twheel_set_cpu sc = {
		.size = sizeof(sc), .cpu = rnd(&w->rng) % s->nr_cpus,
	};

	char path[64];
	FILE *f;
	int online = 1;

	if (!ioctl(s->fd, TWHEEL_IOC_SET_CPU, &sc))
		return;
	/* EINVAL is right for a CPU that is offline. */
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online",
		 sc.cpu);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &online) != 1)
			online = 1;
		fclose(f);
	}
	if (errno != EINVAL || online)
		fail(s, "SET_CPU to online CPU %u: %s (expected success)",
		     sc.cpu, strerror(errno));
}

/*
 * A file of the worker's own, with the same connection ids as its share of
 * the main file: arm, read some, leave some fired unread and some armed,
 * close. None of it may show up on the main file.
 */
static void op_side_file(struct worker *w)
{
	struct stress *s = w->s;
	struct twheel_arm a[16];
	struct twheel_event ev[8];
	struct twheel_batch b;
	unsigned int got;
	int fd, ret;

	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail(s, "open a side file: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < 16; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].conn_id = conn_id(w->id, i % CONNS);
		a[i].kind = i / CONNS;
		a[i].user_data = TAG_SIDE | i;
		/* 0-7 due at once, 8-11 due at once but never read, 12-15 later. */
		a[i].timeout_ns = i < 12 ? 0 : 10 * NSEC_PER_SEC;
	}
	ret = tw_arm_batch(fd, a, 8, &b);
	if (ret != 8)
		fail(s, "side file: arm 8: returned %d, error %d", ret, b.error);
	got = tw_read_n(fd, ev, 8, 5000);
	if (got != 8)
		fail(s, "side file: read %u of 8 events due at once (expected 8)",
		     got);
	for (unsigned int i = 0; i < got; i++) {
		if ((ev[i].user_data & TAG_MASK) != TAG_SIDE ||
		    (ev[i].user_data & ~TAG_MASK) >= 8 ||
		    ev[i].conn_id != a[ev[i].user_data & 7].conn_id)
			fail(s, "side file read conn %ju user_data %#jx (expected one of its own 8)",
			     (uintmax_t)ev[i].conn_id,
			     (uintmax_t)ev[i].user_data);
	}
	atomic_fetch_add(&s->side_events, got);
	ret = tw_arm_batch(fd, a + 8, 8, &b);
	if (ret != 8)
		fail(s, "side file: arm 8 more: returned %d, error %d", ret,
		     b.error);
	close(fd);
	atomic_fetch_add(&s->side_files, 1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	uint64_t end = tw_now() + s->run_ns;

	for (unsigned int n = 0; n < s->max_ops; n++) {
		uint32_t r = rnd(&w->rng) % 400;
		int op;

		if (atomic_load(&s->stop_workers) || (!(n & 63) && tw_now() > end))
			break;
		if (r < 190)
			op = OP_ARM;
		else if (r < 220)
			op = OP_ARM_BATCH;
		else if (r < 250)
			op = OP_ARM_ABS;
		else if (r < 350)
			op = OP_CANCEL;
		else if (r < 397)
			op = OP_CANCEL_CONN;
		else if (r < 399)
			op = OP_SET_CPU;
		else
			op = OP_SIDE;
		switch (op) {
		case OP_ARM:
			op_arm(w, 0);
			break;
		case OP_ARM_ABS:
			op_arm(w, 1);
			break;
		case OP_ARM_BATCH:
			op_arm_batch(w);
			break;
		case OP_CANCEL:
			op_cancel(w);
			break;
		case OP_CANCEL_CONN:
			op_cancel_conn(w);
			break;
		case OP_SET_CPU:
			op_set_cpu(w);
			break;
		default:
			op_side_file(w);
			break;
		}
		atomic_fetch_add(&s->ops[op], 1);
	}
	return NULL;
}

/* ---- the forked process: a file of its own, same connection ids ---- */

static int child_main(unsigned int seed, unsigned int n)
{
	unsigned int rng = seed | 1, expected = 0, got = 0, bad = 0;
	unsigned int nconns = NR_WORKERS * CONNS;
	/* per arming: 1 live, 2 cancelled or replaced, 3 read */
	unsigned char *state = calloc(n, 1);
	int *live = malloc(nconns * 16 * sizeof(*live));
	struct twheel_event ev[64];
	struct twheel_arm a[16];
	struct twheel_batch b;
	int fd;

	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (fd < 0 || !state || !live) {
		printf("# child: open: %s\n", strerror(errno));
		return 1;
	}
	memset(live, 0xff, nconns * 16 * sizeof(*live));
	for (unsigned int i = 0; i + 16 <= n; i += 16) {
		unsigned int c = (i / 16) % nconns, prev = 0;

		/* The sixteen kinds of one connection per batch. */
		for (unsigned int j = 0; j < 16; j++) {
			memset(&a[j], 0, sizeof(a[j]));
			a[j].conn_id = CONN_BASE + c;
			a[j].kind = j;
			a[j].user_data = TAG_CHILD | (i + j);
			a[j].timeout_ns = rnd(&rng) % (30 * NSEC_PER_MSEC);
			prev += live[c * 16 + j] >= 0;
		}
		if (tw_arm_batch(fd, a, 16, &b) != 16) {
			printf("# child: arm batch failed: error %d\n", b.error);
			bad++;
			break;
		}
		/* Nothing reads before the end: every live kind is found. */
		if (b.found != prev) {
			printf("# child: re-arming conn %ju found %u timers (expected %u)\n",
			       (uintmax_t)a[0].conn_id, b.found, prev);
			bad++;
		}
		for (unsigned int j = 0; j < 16; j++) {
			if (live[c * 16 + j] >= 0)
				state[live[c * 16 + j]] = 2;
			live[c * 16 + j] = i + j;
			state[i + j] = 1;
		}
		if ((rnd(&rng) & 3) == 0) {
			unsigned int k = rnd(&rng) % 16;

			if (tw_cancel(fd, a[0].conn_id, k) != 1) {
				printf("# child: cancel of conn %ju kind %u did not find it (expected found 1)\n",
				       (uintmax_t)a[0].conn_id, k);
				bad++;
			}
			state[i + k] = 2;
			live[c * 16 + k] = -1;
		}
	}
	for (unsigned int i = 0; i < n; i++)
		expected += state[i] == 1;
	while (got < expected) {
		int r = tw_read_events(fd, ev, 64, 5000);

		if (r <= 0)
			break;
		for (int i = 0; i < r; i++) {
			uint64_t id = ev[i].user_data & ~TAG_MASK;

			if ((ev[i].user_data & TAG_MASK) != TAG_CHILD ||
			    id >= n || state[id] != 1 ||
			    ev[i].fired_ns < ev[i].deadline_ns) {
				printf("# child: unexpected event conn %ju kind %u user_data %#jx (expected one of its own live armings, not early)\n",
				       (uintmax_t)ev[i].conn_id, ev[i].kind,
				       (uintmax_t)ev[i].user_data);
				bad++;
				continue;
			}
			state[id] = 3;
		}
		got += r;
	}
	if (got != expected || tw_read_events(fd, ev, 64, 100) != 0) {
		printf("# child: read %u events, expected exactly %u\n", got,
		       expected);
		bad++;
	}
	printf("# child: %u armings, %u events read, %u expected, %u problems\n",
	       n, got, expected, bad);
	fflush(stdout);
	close(fd);
	free(state);
	free(live);
	return bad ? 1 : 0;
}

/* ---- the final check ---- */

static void check_arming(struct stress *s, unsigned int id, int bounded)
{
	struct arming *a = &s->armings[id];
	unsigned int events = atomic_load(&a->events);
	uint64_t due, late;

	switch (a->end) {
	case END_OPEN:
		if (events != 1)
			fail(s, "arming %u (conn %ju kind %u, timeout %ju ns, flags %u) never cancelled: read %u times (expected exactly once)",
			     id, (uintmax_t)a->conn, a->kind,
			     (uintmax_t)a->timeout, a->flags, events);
		break;
	case END_REMOVED:
		if (events)
			fail(s, "arming %u (conn %ju kind %u) was removed by a cancel or re-arm that found it, yet read %u times (expected never)",
			     id, (uintmax_t)a->conn, a->kind, events);
		break;
	case END_AFTER_READ:
		if (events != 1)
			fail(s, "arming %u (conn %ju kind %u): a cancel or re-arm did not find it, so it must have been read once, but was read %u times",
			     id, (uintmax_t)a->conn, a->kind, events);
		break;
	case END_GROUP:
		if (events > 1)
			fail(s, "arming %u (conn %ju kind %u) read %u times (expected at most once)",
			     id, (uintmax_t)a->conn, a->kind, events);
		break;
	}
	if (!events)
		return;
	if (a->end != END_OPEN && a->ev_read_start > a->t_end)
		fail(s, "arming %u (conn %ju kind %u) was read by a read that began %ju ns after the call that ended it returned (expected never)",
		     id, (uintmax_t)a->conn, a->kind,
		     (uintmax_t)(a->ev_read_start - a->t_end));
	if (a->ev_conn != a->conn || a->ev_kind != a->kind || a->ev_flags)
		fail(s, "arming %u: event says conn %ju kind %u flags %u (expected conn %ju kind %u flags 0)",
		     id, (uintmax_t)a->ev_conn, a->ev_kind, a->ev_flags,
		     (uintmax_t)a->conn, a->kind);
	if (a->flags & TWHEEL_ARM_ABS) {
		if (a->ev_deadline != a->timeout)
			fail(s, "arming %u: absolute deadline %ju, event says %ju",
			     id, (uintmax_t)a->timeout,
			     (uintmax_t)a->ev_deadline);
	} else if (a->ev_deadline < a->t_call + a->timeout ||
		   a->ev_deadline > a->t_ret + a->timeout) {
		fail(s, "arming %u: deadline %ju outside [%ju, %ju], the call's start and end plus the timeout",
		     id, (uintmax_t)a->ev_deadline,
		     (uintmax_t)(a->t_call + a->timeout),
		     (uintmax_t)(a->t_ret + a->timeout));
	}
	if (a->ev_fired < a->ev_deadline)
		fail(s, "arming %u fired %ju ns early (fired %ju, deadline %ju)",
		     id, (uintmax_t)(a->ev_deadline - a->ev_fired),
		     (uintmax_t)a->ev_fired, (uintmax_t)a->ev_deadline);
	if (a->ev_read_end < a->ev_deadline || a->ev_read_end < a->ev_fired)
		fail(s, "arming %u was read at %ju, before its deadline %ju or firing %ju",
		     id, (uintmax_t)a->ev_read_end,
		     (uintmax_t)a->ev_deadline, (uintmax_t)a->ev_fired);
	/* A deadline already past when armed is due when the call started. */
	due = a->ev_deadline > a->t_call ? a->ev_deadline : a->t_call;
	late = a->ev_fired > due ? a->ev_fired - due : 0;
	if (late > atomic_load(&s->max_late))
		atomic_store(&s->max_late, late);
	s->late[s->nr_late++] = late;
	if (bounded && late > LATENESS_BOUND_NS)
		fail(s, "arming %u fired %ju us late (bound %ju us)", id,
		     (uintmax_t)late / 1000,
		     (uintmax_t)LATENESS_BOUND_NS / 1000);
}

static void check_groups(struct stress *s)
{
	unsigned int nr = atomic_load(&s->nr_groups), n;
	unsigned int *read = calloc(nr, sizeof(*read));

	if (nr > MAX_GROUPS)
		nr = MAX_GROUPS;
	if (!read) {
		fail(s, "out of memory");
		return;
	}
	n = atomic_load(&s->nr_armings);
	for (unsigned int i = 0; i < n && i < MAX_ARMINGS; i++) {
		struct arming *a = &s->armings[i];

		if (a->end == END_GROUP)
			read[a->group] += atomic_load(&a->events) == 1;
	}
	for (unsigned int g = 0; g < nr; g++) {
		if (!s->groups[g].found && read[g] != s->groups[g].n)
			fail(s, "cancel_conn %u found nothing, so its %u armings must all have been read, but %u were",
			     g, s->groups[g].n, read[g]);
		if (s->groups[g].found && read[g] == s->groups[g].n)
			fail(s, "cancel_conn %u found its connection, so not all %u armings can have been read, but all were",
			     g, s->groups[g].n);
	}
	free(read);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

FIXTURE(stress) {
	int fd;
	struct stress *s;
};

FIXTURE_SETUP(stress)
{
	self->fd = -1;
	self->s = NULL;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->s) {
		free(self->s->armings);
		free(self->s->late);
		free(self->s->groups);
		free(self->s);
	}
}

TEST_F_TIMEOUT(stress, concurrent_arms_cancels_reads_and_closes_keep_every_guarantee, 240)
{
	pthread_t workers[NR_WORKERS], readers[3];
	struct worker *w;
	struct twheel_handshake hs = { .size = sizeof(hs) };
	struct twheel_stats st;
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct stress *s;
	const char *env = getenv("TWHEEL_STRESS_SEED");
	int debug = tw_debug_kernel(), status;
	uint64_t t_start, t_quiet, t_wait_end, total_logged, total_ops = 0;
	unsigned int n;
	pid_t child;

	if (tw_setup_skipped(_metadata))
		return;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	self->s = s;
	s->armings = calloc(MAX_ARMINGS, sizeof(*s->armings));
	s->groups = calloc(MAX_GROUPS, sizeof(*s->groups));
	s->late = calloc(MAX_ARMINGS, sizeof(*s->late));
	ASSERT_NE(NULL, s->late);
	w = calloc(NR_WORKERS, sizeof(*w));
	ASSERT_NE(NULL, s->armings);
	ASSERT_NE(NULL, s->groups);
	ASSERT_NE(NULL, w);
	pthread_mutex_init(&s->fail_lock, NULL);
	s->fd = self->fd;
	ASSERT_EQ(0, ioctl(s->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	s->tick_ns = hs.tick_ns;
	s->nr_cpus = sysconf(_SC_NPROCESSORS_CONF);
	s->seed = env ? strtoul(env, NULL, 0) : (unsigned int)tw_now();
	if (!s->seed)
		s->seed = 1;
	/* The debug kernel runs the kernel side 10-50x slower under TCG. */
	s->run_ns = (debug ? 3 : 4) * NSEC_PER_SEC;
	s->max_ops = debug ? 30000 : 200000;
	tw_report("seed %u (replay with TWHEEL_STRESS_SEED=%u), %d workers x %d connections x %d kinds, %s kernel, tick %ju us\n",
		  s->seed, s->seed, NR_WORKERS, CONNS, KINDS,
		  debug ? "debug" : "stock", (uintmax_t)hs.tick_ns / 1000);

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	fflush(stdout);
	child = fork();
	ASSERT_LE(0, child);
	if (!child)
		_exit(child_main(s->seed * 7 + 1, debug ? 512 : 4096));

	t_start = tw_now();
	ASSERT_EQ(0, pthread_create(&readers[0], NULL, poll_reader, s));
	ASSERT_EQ(0, pthread_create(&readers[1], NULL, blocking_reader, s));
	ASSERT_EQ(0, pthread_create(&readers[2], NULL, uring_reader, s));
	for (int i = 0; i < NR_WORKERS; i++) {
		w[i].s = s;
		w[i].id = i;
		w[i].rng = s->seed * (i + 2) | 1;
		memset(w[i].live, 0xff, sizeof(w[i].live));
		ASSERT_EQ(0, pthread_create(&workers[i], NULL, worker_main, &w[i]));
	}
	for (int i = 0; i < NR_WORKERS; i++)
		pthread_join(workers[i], NULL);
	t_quiet = tw_now();

	/* Wait until everything armed has fired and been read. */
	t_wait_end = t_quiet + (debug ? 120 : 20) * NSEC_PER_SEC;
	for (;;) {
		ASSERT_EQ(0, tw_stats(s->fd, &st));
		if (!st.armed && !st.queued)
			break;
		if (tw_now() > t_wait_end)
			break;
		poll(NULL, 0, 10);
	}
	EXPECT_EQ(0, st.armed) TH_LOG("timers still armed long after every deadline");
	EXPECT_EQ(0, st.queued) TH_LOG("events still unread with three readers running");

	atomic_store(&s->stop_readers, 1);
	/* Interrupt the blocking read until its thread has seen the flag. */
	while (!atomic_load(&s->blocking_exited)) {
		pthread_kill(readers[1], SIGUSR1);
		poll(NULL, 0, 5);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(readers[i], NULL);

	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the forked process's own file misbehaved (see its messages)");

	n = atomic_load(&s->nr_armings);
	if (n > MAX_ARMINGS)
		n = MAX_ARMINGS;
	for (unsigned int i = 0; i < n; i++)
		check_arming(s, i, !debug);
	check_groups(s);

	total_logged = s->logged[0] + s->logged[1] + s->logged[2];
	ASSERT_EQ(0, tw_stats(s->fd, &st));
	EXPECT_EQ(total_logged, st.read) TH_LOG("the readers logged %ju events, the file says it gave %ju",
						 (uintmax_t)total_logged, (uintmax_t)st.read);
	EXPECT_EQ(0, st.armed + st.queued);
	EXPECT_EQ(st.arms, st.cancels + st.read)
		TH_LOG("every timer armed is cancelled or read: arms %ju, cancels %ju, read %ju",
		       (uintmax_t)st.arms, (uintmax_t)st.cancels, (uintmax_t)st.read);
	EXPECT_EQ(0, st.conns);

	for (int i = 0; i <= OP_SIDE; i++) {
		tw_report("%s: %lu\n", op_names[i], atomic_load(&s->ops[i]));
		total_ops += s->ops[i];
	}
	tw_report("%u armings, %u cancel_conn groups, %ju ops in %ju ms (then %ju ms until all fired and were read)\n",
		  n, atomic_load(&s->nr_groups), (uintmax_t)total_ops,
		  (uintmax_t)(t_quiet - t_start) / NSEC_PER_MSEC,
		  (uintmax_t)(tw_now() - t_quiet) / NSEC_PER_MSEC);
	tw_report("events read: %lu by poll+read, %lu by blocking read, %lu by io_uring; file: arms %ju rearms %ju cancels %ju fired %ju read %ju wakeups %ju\n",
		  atomic_load(&s->logged[0]), atomic_load(&s->logged[1]),
		  atomic_load(&s->logged[2]), (uintmax_t)st.arms,
		  (uintmax_t)st.rearms, (uintmax_t)st.cancels,
		  (uintmax_t)st.fired, (uintmax_t)st.read,
		  (uintmax_t)st.wakeups);
	tw_report("side files opened, used and closed: %lu (%lu events read on them)\n",
		  atomic_load(&s->side_files), atomic_load(&s->side_events));
	if (s->nr_late) {
		qsort(s->late, s->nr_late, sizeof(*s->late), cmp_u64);
		tw_report("lateness over %u events: median %ju us, p99 %ju us, max %ju us; %s\n",
			  s->nr_late, (uintmax_t)s->late[s->nr_late / 2] / 1000,
			  (uintmax_t)s->late[s->nr_late * 99ULL / 100] / 1000,
			  (uintmax_t)s->late[s->nr_late - 1] / 1000,
			  debug ? "not bounded on the debug kernel" :
			  "bound 1000000 us");
	}
	EXPECT_LT(0, st.fired);
	EXPECT_LT(0, st.cancels);
	EXPECT_EQ(0, atomic_load(&s->fails)) TH_LOG("seed %u", s->seed);
	free(w);
}

TEST_HARNESS_MAIN
