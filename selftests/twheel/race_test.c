// SPDX-License-Identifier: GPL-2.0
/*
 * Race-free cancel: once a cancel or re-arm has returned, no event of the
 * earlier arming is ever read, even if the timer had fired and its event
 * was waiting; and a cancel that finds nothing means the event was read.
 */

#include <pthread.h>
#include <stdlib.h>

#include "twheel_test.h"

FIXTURE(race) {
	int fd;
};

FIXTURE_SETUP(race)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(race)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(race, a_fired_unread_timer_that_is_cancelled_is_never_read)
{
	struct twheel_event ev;
	struct twheel_stats st;
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(1, poll(&pfd, 1, 0));

	EXPECT_EQ(1, tw_cancel(self->fd, 1, TWHEEL_KIND_RETRANSMIT));
	/* Gone from the queue: not readable, nothing to read. */
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, tw_read_events(self->fd, &ev, 1, 200));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.fired);
	EXPECT_EQ(0, st.read);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(1, st.cancels);
}

TEST_F(race, a_fired_unread_timer_that_is_rearmed_is_read_once_as_rearmed)
{
	struct twheel_event ev[2];
	uint64_t t1;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 100, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	t1 = tw_now();
	ASSERT_EQ(1, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 50 * NSEC_PER_MSEC, 200, 0));

	ASSERT_EQ(1, tw_read_events(self->fd, ev, 2, 5000));
	EXPECT_EQ(200, ev[0].user_data);
	EXPECT_LE(t1 + 50 * NSEC_PER_MSEC, ev[0].deadline_ns);
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 2, 200));
}

TEST_F(race, cancelling_a_connection_drops_its_unread_events)
{
	struct twheel_event ev;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int k = 0; k < 4; k++)
		ASSERT_EQ(0, tw_arm(self->fd, 8, k, 0, k, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 9, TWHEEL_KIND_IDLE, 0, 99, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 5, 5000));

	EXPECT_EQ(1, tw_cancel_conn(self->fd, 8));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 1000));
	EXPECT_EQ(9, ev.conn_id);
	EXPECT_EQ(0, tw_read_events(self->fd, &ev, 1, 200));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(4, st.cancels);
	EXPECT_EQ(0, st.conns);
}

TEST_F(race, an_event_read_before_the_cancel_is_not_found_by_it)
{
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(0, tw_cancel(self->fd, 1, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, tw_cancel_conn(self->fd, 1));
}

#define RACE_TIMERS	20000

/*
 * The reader reads while @reading is set and waits on @cond while it is
 * not: phases without a reader make sure that fired, unread events meet
 * cancels and re-arms however fast the reader would be.
 */
struct race_reader {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int reading;
	int stop;
	unsigned int limit;		/* user_data below it */
	unsigned char *read_count;
	unsigned int nr_read;
	unsigned int bad;
};

/* A reader of @fd, reading, that counts each event with user_data < @limit. */
static struct race_reader race_reader_new(int fd, unsigned int limit)
{
	return (struct race_reader){
		.fd = fd,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
		.reading = 1,
		.limit = limit,
		.read_count = calloc(limit, 1),
	};
}

static void race_set(struct race_reader *r, int reading, int stop)
{
	pthread_mutex_lock(&r->lock);
	r->reading = reading;
	r->stop = stop;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *race_read(void *arg)
{
	struct race_reader *r = arg;
	struct twheel_event ev[64];

	for (;;) {
		int n;

		pthread_mutex_lock(&r->lock);
		while (!r->reading && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);

		n = tw_read_events(r->fd, ev, 64, 20);

		for (int i = 0; i < n; i++) {
			if (ev[i].user_data >= r->limit) {
				r->bad++;
				continue;
			}
			r->read_count[ev[i].user_data]++;
			r->nr_read++;
		}
	}
	return NULL;
}

/*
 * Polls the file's counters, at most @polls times 10 ms, until nothing is
 * armed or queued; @st holds the last reading. Returns -1 if a read failed.
 */
static int race_drain(int fd, struct twheel_stats *st, unsigned int polls)
{
	while (polls--) {
		if (tw_stats(fd, st))
			return -1;
		if (!st->armed && !st->queued)
			break;
		poll(NULL, 0, 10);
	}
	return 0;
}

/*
 * A reader thread reads while the main thread arms timers due within a
 * couple of ticks, re-arms their slots and cancels some, racing the expiry
 * thread and the reader. An arming is killed when a later re-arm or cancel
 * of its slot reports it found; every arming must end up either killed and
 * never read, or not killed and read exactly once.
 */
#define RACE_SLOTS	(97 * TWHEEL_NR_KINDS)

TEST_F_TIMEOUT(race, each_timer_is_either_cancelled_or_read_exactly_once, 120)
{
	unsigned char *killed = calloc(RACE_TIMERS, 1);
	struct race_reader r = race_reader_new(self->fd, RACE_TIMERS);
	int last[RACE_SLOTS];
	unsigned int nr_killed = 0, i;
	struct twheel_stats st;
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_NE(NULL, killed);
	ASSERT_NE(NULL, r.read_count);
	for (i = 0; i < RACE_SLOTS; i++)
		last[i] = -1;
	ASSERT_EQ(0, pthread_create(&th, NULL, race_read, &r));

	srandom(2);
	for (i = 0; i < RACE_TIMERS; i++) {
		/* Slot (i % 97, i % 16) comes back every 1552 armings. */
		unsigned int slot = i % RACE_SLOTS;
		int ret;

		/* Every other 1000 armings, the reader pauses. */
		if (i % 1000 == 0)
			race_set(&r, !(i / 1000 % 2), 0);

		ret = tw_arm(self->fd, slot % 97, slot % TWHEEL_NR_KINDS,
			     random() % (2 * NSEC_PER_MSEC), i, 0);
		ASSERT_LE(0, ret);
		if (ret == 1) {
			ASSERT_LE(0, last[slot]);
			ASSERT_EQ(0, killed[last[slot]]);
			killed[last[slot]] = 1;
		}
		last[slot] = i;

		/* Now and then, cancel a slot armed a few hundred ago. */
		if (i >= 300 && random() % 2) {
			unsigned int s = (i - 300 + random() % 200) % RACE_SLOTS;

			ret = tw_cancel(self->fd, s % 97, s % TWHEEL_NR_KINDS);
			ASSERT_LE(0, ret);
			if (ret == 1) {
				ASSERT_LE(0, last[s]);
				ASSERT_EQ(0, killed[last[s]]);
				killed[last[s]] = 1;
			}
		}
	}

	/* Bounded wait until everything still armed has fired and been read. */
	race_set(&r, 1, 0);
	ASSERT_EQ(0, race_drain(self->fd, &st, 1000));
	race_set(&r, 0, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(0, r.bad);

	for (i = 0; i < RACE_TIMERS; i++) {
		ASSERT_EQ(!killed[i], r.read_count[i])
			TH_LOG("arming %u: killed %d, read %d times", i,
			       killed[i], r.read_count[i]);
		nr_killed += killed[i];
	}
	tw_report("%u armings: %u read, %u cancelled or re-armed before being read (%ju fired)\n",
		       RACE_TIMERS, r.nr_read, nr_killed, (uintmax_t)st.fired);
	EXPECT_EQ(st.read, r.nr_read);
	/* Some timers were caught after firing, before being read. */
	EXPECT_LT(st.read, st.fired);
	free(killed);
	free(r.read_count);
}

#define PIECES_CONNS	20480	/* a multiple of the batch, 64 */
#define PIECES_OPS	8000
/* In killed[]: the index of a cancel, which armed nothing. */
#define PIECES_NO_ARMING	2

/*
 * PIECES_CONNS timers fall due at the same tick, more than the expiry thread
 * moves in one go (1024), so it advances the file's wheel in pieces, letting
 * the lock go between them to whoever waits for it; the main thread
 * re-arms and cancels random ones of them as they fall due, and a reader
 * reads. An arming is killed when a later re-arm or cancel of its timer
 * reports it found; every arming must end up either killed and never read,
 * or read exactly once.
 */
TEST_F_TIMEOUT(race, timers_expired_in_pieces_are_each_cancelled_or_read_once, 180)
{
	const unsigned int nr = PIECES_CONNS + PIECES_OPS;
	unsigned char *killed = calloc(nr, 1);
	struct race_reader r = race_reader_new(self->fd, nr);
	unsigned int *last = calloc(PIECES_CONNS, sizeof(*last));
	struct twheel_arm *arms = calloc(64, sizeof(*arms));
	long long stops = tw_counter("advance_stops");
	unsigned int nr_killed = 0, i, j;
	struct twheel_stats st;
	struct twheel_batch b;
	uint64_t start, batch_ns, deadline;
	struct timespec ts;
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_NE(NULL, killed);
	ASSERT_NE(NULL, r.read_count);
	ASSERT_NE(NULL, last);
	ASSERT_NE(NULL, arms);
	ASSERT_EQ(0, pthread_create(&th, NULL, race_read, &r));

	/*
	 * All due at one deadline, far enough ahead to be armed before it:
	 * a batch of timers that never fire says how long arming takes here
	 * (a kernel with every debugging option takes much longer).
	 */
	for (j = 0; j < 64; j++)
		arms[j] = (struct twheel_arm){
			.conn_id = nr + j, .kind = TWHEEL_KIND_IDLE,
			.timeout_ns = 3600 * NSEC_PER_SEC,
		};
	start = tw_now();
	ASSERT_EQ(64, tw_arm_batch(self->fd, arms, 64, &b));
	batch_ns = tw_now() - start;
	for (j = 0; j < 64; j++)
		ASSERT_EQ(1, tw_cancel_conn(self->fd, nr + j));
	start = tw_now();
	deadline = start + 100 * NSEC_PER_MSEC +
		   2 * batch_ns * (PIECES_CONNS / 64);
	if (deadline < start + 300 * NSEC_PER_MSEC)
		deadline = start + 300 * NSEC_PER_MSEC;
	for (i = 0; i < PIECES_CONNS; i += 64) {
		for (j = 0; j < 64; j++) {
			arms[j] = (struct twheel_arm){
				.conn_id = i + j, .kind = TWHEEL_KIND_IDLE,
				.timeout_ns = deadline, .user_data = i + j,
				.flags = TWHEEL_ARM_ABS,
			};
			last[i + j] = i + j;
		}
		ASSERT_EQ(64, tw_arm_batch(self->fd, arms, 64, &b))
			TH_LOG("batch at %u: error %d", i, b.error);
	}
	/* Otherwise they did not all fall due at once. */
	ASSERT_LT(tw_now(), deadline);

	/* The operations begin as the timers fall due, not long before. */
	ts.tv_sec = (deadline - 2 * NSEC_PER_MSEC) / NSEC_PER_SEC;
	ts.tv_nsec = (deadline - 2 * NSEC_PER_MSEC) % NSEC_PER_SEC;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;

	/* Then, while they fall due, re-arm some for the same tick, cancel some. */
	srandom(3);
	for (i = PIECES_CONNS; i < nr; i++) {
		unsigned int conn = random() % PIECES_CONNS;
		int ret;

		if (random() % 2) {
			ret = tw_arm(self->fd, conn, TWHEEL_KIND_IDLE, deadline,
				     i, TWHEEL_ARM_ABS);
		} else {
			ret = tw_cancel(self->fd, conn, TWHEEL_KIND_IDLE);
			killed[i] = PIECES_NO_ARMING;
		}
		ASSERT_LE(0, ret);
		if (ret == 1) {
			ASSERT_EQ(0, killed[last[conn]]);
			killed[last[conn]] = 1;
		}
		last[conn] = i;
	}

	/* Bounded wait until everything has fired and been read. */
	ASSERT_EQ(0, race_drain(self->fd, &st, 2000));
	race_set(&r, 0, 1);
	pthread_join(th, NULL);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(0, r.bad);

	for (i = 0; i < nr; i++) {
		if (killed[i] == PIECES_NO_ARMING) {
			ASSERT_EQ(0, r.read_count[i]);
			continue;
		}
		ASSERT_EQ(!killed[i], r.read_count[i])
			TH_LOG("arming %u: killed %d, read %d times", i,
			       killed[i], r.read_count[i]);
		nr_killed += killed[i];
	}
	EXPECT_EQ(st.read, r.nr_read);
	if (stops != TW_NO_COUNTER) {
		/* The thread did stop its advance on the budget. */
		EXPECT_LT(stops, tw_counter("advance_stops"));
	}
	tw_report("%u timers due at once, %llu ms after they were first armed, %u re-arms and cancels: %u read, %u killed, advance stops %lld\n",
		  PIECES_CONNS,
		  (unsigned long long)(deadline - start) / NSEC_PER_MSEC,
		  PIECES_OPS, r.nr_read, nr_killed,
		  stops != TW_NO_COUNTER ? tw_counter("advance_stops") - stops : -1);
	free(killed);
	free(r.read_count);
	free(last);
	free(arms);
}

/*
 * The counters a file reports are one snapshot: while the expiry thread
 * moves timers from armed to queued and the test re-arms them back, a
 * thread that keeps asking for them always finds every timer in one of the
 * two, never in neither.
 */
struct race_counts {
	int fd;
	unsigned int n;
	volatile int stop;
	unsigned int reads, torn;
};

static void *race_count(void *arg)
{
	struct race_counts *rc = arg;
	struct twheel_stats st;

	while (!rc->stop) {
		if (tw_stats(rc->fd, &st) || st.armed + st.queued != rc->n)
			rc->torn++;
		rc->reads++;
	}
	return NULL;
}

TEST_F_TIMEOUT(race, the_counters_are_one_snapshot_while_timers_fire, 120)
{
	struct race_counts rc = { .fd = self->fd, .n = 256 };
	struct twheel_arm a[256];
	struct twheel_batch b;
	pthread_t thread;
	uint64_t end;

	if (tw_setup_skipped(_metadata))
		return;

	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < rc.n; i++)
		a[i].conn_id = i;
	ASSERT_EQ((int)rc.n, tw_arm_batch(self->fd, a, rc.n, &b));
	ASSERT_EQ(0, pthread_create(&thread, NULL, race_count, &rc));
	/* Due now and again: every round fires them and re-arms them. */
	end = tw_now() + 2 * NSEC_PER_SEC;
	while (tw_now() < end) {
		for (unsigned int i = 0; i < rc.n; i++)
			a[i].timeout_ns = i % 2 * NSEC_PER_MSEC;
		ASSERT_EQ((int)rc.n, tw_arm_batch(self->fd, a, rc.n, &b));
		poll(NULL, 0, 1);
	}
	rc.stop = 1;
	pthread_join(thread, NULL);
	tw_report("%u snapshots of the counters while timers fired\n", rc.reads);
	EXPECT_LT(100, rc.reads);
	EXPECT_EQ(0, rc.torn);
}

TEST_HARNESS_MAIN
