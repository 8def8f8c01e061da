// SPDX-License-Identifier: GPL-2.0
/*
 * The connection layer (twheel_conn_*, twheel_dispatch(),
 * twheel_process_events()) end to end on real timers: every kind fires
 * once and never early, resets postpone, cancels stop, events read before
 * a reset or a close are dropped, and callbacks may close connections.
 */

#include <poll.h>

#include "lib_test.h"

struct seen {
	unsigned int calls;
	struct twheel_event ev[64];
	unsigned int nr;
	int close_all;			/* callback closes every connection */
	struct twheel_conn **conns;
	unsigned int nr_conns;
};

static void collect(struct twheel_conn *conn, void *arg)
{
	struct seen *s = arg;
	int n;

	s->calls++;
	n = twheel_conn_check_events(conn, s->ev + s->nr, 64 - s->nr);
	if (n > 0)
		s->nr += n;
	if (s->close_all) {
		for (unsigned int i = 0; i < s->nr_conns; i++) {
			if (s->conns[i])
				twheel_conn_close(s->conns[i]);
			s->conns[i] = NULL;
		}
	}
}

/*
 * Processes events as they come until @want were delivered or @timeout_ms
 * passed without any. Returns the number delivered.
 */
static int pump(struct twheel *tw, twheel_conn_fn fn, void *arg,
		int want, int timeout_ms)
{
	struct pollfd pfd = { .fd = twheel_fd(tw), .events = POLLIN };
	int got = 0, n;

	while (got < want) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		n = twheel_process_events(tw, fn, arg);
		if (n < 0)
			return n;
		got += n;
	}
	return got;
}

TEST(open_find_and_close_connections)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_conn *a, *b, *c;
	int owner;

	ASSERT_EQ(0, twheel_conn_open(tw, 1, &owner, &a));
	ASSERT_EQ(0, twheel_conn_open(tw, 2, NULL, &b));
	EXPECT_EQ(-EEXIST, twheel_conn_open(tw, 1, NULL, &c));
	EXPECT_EQ(a, twheel_conn_find(tw, 1));
	EXPECT_EQ(b, twheel_conn_find(tw, 2));
	EXPECT_EQ(NULL, twheel_conn_find(tw, 3));
	EXPECT_EQ(1, twheel_conn_id(a));
	EXPECT_EQ(&owner, twheel_conn_user(a));
	EXPECT_EQ(0, twheel_conn_armed(a));
	EXPECT_EQ(0, twheel_conn_close(a));
	EXPECT_EQ(NULL, twheel_conn_find(tw, 1));
	/* The id is free again. */
	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &a));
	/* twheel_close() frees the connections left open. */
	twheel_close(tw);
}

TEST(every_kind_fires_once_never_early_in_kind_order)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct seen s = { 0 };
	struct twheel_conn *c;
	uint64_t t0;

	ASSERT_EQ(0, twheel_conn_open(tw, 42, NULL, &c));
	t0 = tw_now();
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 10 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_path_validation_timeout(c, 20 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_connect_timeout(c, 30 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 40 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_timeout(c, TWHEEL_KIND_USER + 3,
					     50 * NSEC_PER_MSEC));
	EXPECT_EQ((1U << TWHEEL_KIND_IDLE) | (1U << TWHEEL_KIND_CONNECT) |
		  (1U << TWHEEL_KIND_PATH_VALIDATION) |
		  (1U << TWHEEL_KIND_RETRANSMIT) |
		  (1U << (TWHEEL_KIND_USER + 3)), twheel_conn_armed(c));
	ASSERT_EQ(5, pump(tw, collect, &s, 5, 5000));
	EXPECT_EQ(5, s.nr);
	EXPECT_EQ(0, twheel_conn_armed(c));
	for (unsigned int i = 0; i < s.nr; i++) {
		uint64_t timeout;

		switch (s.ev[i].kind) {
		case TWHEEL_KIND_RETRANSMIT:
			timeout = 10;
			break;
		case TWHEEL_KIND_PATH_VALIDATION:
			timeout = 20;
			break;
		case TWHEEL_KIND_CONNECT:
			timeout = 30;
			break;
		case TWHEEL_KIND_IDLE:
			timeout = 40;
			break;
		default:
			EXPECT_EQ(TWHEEL_KIND_USER + 3, s.ev[i].kind);
			timeout = 50;
		}
		EXPECT_EQ(42, s.ev[i].conn_id);
		EXPECT_LE(t0 + timeout * NSEC_PER_MSEC, s.ev[i].deadline_ns);
		EXPECT_LE(s.ev[i].deadline_ns, s.ev[i].fired_ns);
		EXPECT_LE(s.ev[i].fired_ns, tw_now());
	}
	/* One call per connection and round: never more than one per event. */
	EXPECT_LE(1, s.calls);
	EXPECT_GE(5, s.calls);
	/* Nothing more comes, and nothing is left to check. */
	EXPECT_EQ(0, pump(tw, collect, &s, 1, 100));
	EXPECT_EQ(0, twheel_conn_check_events(c, s.ev, 64));
	twheel_close(tw);
}

TEST(resetting_the_idle_timeout_postpones_it)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct seen s = { 0 };
	struct twheel_conn *c;
	uint64_t last;

	ASSERT_EQ(0, twheel_conn_open(tw, 7, NULL, &c));
	EXPECT_EQ(-ENOENT, twheel_conn_reset_idle_timeout(c));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 200 * NSEC_PER_MSEC));
	last = tw_now();
	/* "Packets" every 20 ms for 100 ms: the 200 ms idle never fires. */
	for (int i = 0; i < 5; i++) {
		EXPECT_EQ(0, pump(tw, collect, &s, 1, 20));
		last = tw_now();
		ASSERT_EQ(0, twheel_conn_reset_idle_timeout(c));
	}
	EXPECT_EQ(0, s.nr);
	ASSERT_EQ(1, pump(tw, collect, &s, 1, 5000));
	ASSERT_EQ(1, s.nr);
	EXPECT_EQ(TWHEEL_KIND_IDLE, s.ev[0].kind);
	EXPECT_LE(last + 200 * NSEC_PER_MSEC, s.ev[0].deadline_ns);
	EXPECT_LE(s.ev[0].deadline_ns, s.ev[0].fired_ns);
	twheel_close(tw);
}

TEST(cancelling_one_kind_or_all_of_them_stops_them)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct seen s = { 0 };
	struct twheel_conn *a, *b, *sentinel;

	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &a));
	ASSERT_EQ(0, twheel_conn_open(tw, 2, NULL, &b));
	ASSERT_EQ(0, twheel_conn_open(tw, 3, NULL, &sentinel));
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(a, 10 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(a, 20 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(b, 10 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_connect_timeout(b, 10 * NSEC_PER_MSEC));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(sentinel, 60 * NSEC_PER_MSEC));

	EXPECT_EQ(1, twheel_conn_cancel(a, TWHEEL_KIND_RETRANSMIT));
	EXPECT_EQ(0, twheel_conn_cancel(a, TWHEEL_KIND_RETRANSMIT));
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(a));
	EXPECT_EQ(1, twheel_conn_cancel_all(b));
	EXPECT_EQ(0, twheel_conn_cancel_all(b));
	EXPECT_EQ(0, twheel_conn_armed(b));

	/* a's idle, then the sentinel: everything due by then has come. */
	ASSERT_EQ(2, pump(tw, collect, &s, 2, 5000));
	ASSERT_EQ(2, s.nr);
	EXPECT_EQ(1, s.ev[0].conn_id);
	EXPECT_EQ(TWHEEL_KIND_IDLE, s.ev[0].kind);
	EXPECT_EQ(3, s.ev[1].conn_id);
	/* b stays open and can be armed again. */
	EXPECT_EQ(b, twheel_conn_find(tw, 2));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(b, 0));
	ASSERT_EQ(1, pump(tw, collect, &s, 1, 5000));
	EXPECT_EQ(2, s.ev[2].conn_id);
	twheel_close(tw);
}

TEST(an_event_read_before_a_reset_or_close_is_dropped)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event ev[4], out[4];
	struct seen s = { 0 };
	struct twheel_conn *c, *d;

	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &c));
	ASSERT_EQ(0, twheel_conn_open(tw, 2, NULL, &d));
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 0));
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(d, 0));
	/* A timer armed without the connection layer. */
	ASSERT_EQ(0, twheel_arm(tw, 3, 0, 0, 77, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 3, 5000));
	ASSERT_EQ(3, twheel_reap(tw, ev, 4));

	/* Now c re-arms its retransmission and d closes. */
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 60 * NSEC_PER_SEC));
	ASSERT_EQ(0, twheel_conn_close(d));
	EXPECT_EQ(0, twheel_dispatch(tw, ev, 3, collect, &s));
	EXPECT_EQ(0, s.calls);
	EXPECT_EQ(0, twheel_conn_check_events(c, out, 4));
	EXPECT_EQ(1U << TWHEEL_KIND_RETRANSMIT, twheel_conn_armed(c));

	/* A cancel too makes an event in hand stale. */
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 1, 5000));
	ASSERT_EQ(1, twheel_reap(tw, ev, 4));
	EXPECT_EQ(0, twheel_conn_cancel(c, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, twheel_dispatch(tw, ev, 1, NULL, NULL));
	/* The same event delivered once is not delivered twice. */
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 1, 5000));
	ASSERT_EQ(1, twheel_reap(tw, ev, 4));
	EXPECT_EQ(1, twheel_dispatch(tw, ev, 1, NULL, NULL));
	EXPECT_EQ(0, twheel_dispatch(tw, ev, 1, NULL, NULL));
	EXPECT_EQ(1, twheel_conn_check_events(c, out, 4));
	EXPECT_EQ(TWHEEL_KIND_IDLE, out[0].kind);
	twheel_close(tw);
}

TEST(a_callback_may_close_every_connection)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_conn *conns[3];
	struct seen s = { 0 };
	int n;

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, twheel_conn_open(tw, i, NULL, &conns[i]));
		ASSERT_EQ(0, twheel_conn_set_idle_timeout(conns[i], 0));
	}
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 3, 5000));
	s.close_all = 1;
	s.conns = conns;
	s.nr_conns = 3;
	n = twheel_process_events(tw, collect, &s);
	EXPECT_EQ(3, n);
	/* The first callback closed all three: no callback for the others. */
	EXPECT_EQ(1, s.calls);
	EXPECT_EQ(1, s.nr);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(NULL, twheel_conn_find(tw, i));
	twheel_close(tw);
}

TEST(check_events_hands_out_what_fits_and_keeps_the_rest)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event out[2];
	struct twheel_conn *c;

	ASSERT_EQ(0, twheel_conn_open(tw, 5, NULL, &c));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 0));
	ASSERT_EQ(0, twheel_conn_set_connect_timeout(c, 0));
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 3, 5000));
	EXPECT_EQ(3, twheel_process_events(tw, NULL, NULL));
	EXPECT_EQ(0, twheel_conn_check_events(c, out, 0));
	ASSERT_EQ(2, twheel_conn_check_events(c, out, 2));
	EXPECT_EQ(TWHEEL_KIND_IDLE, out[0].kind);
	EXPECT_EQ(TWHEEL_KIND_CONNECT, out[1].kind);
	ASSERT_EQ(1, twheel_conn_check_events(c, out, 2));
	EXPECT_EQ(TWHEEL_KIND_RETRANSMIT, out[0].kind);
	EXPECT_EQ(0, twheel_conn_check_events(c, out, 2));
	twheel_close(tw);
}

static void count_calls(struct twheel_conn *conn, void *arg)
{
	struct twheel_event ev;
	unsigned int *calls = arg;

	if (twheel_conn_check_events(conn, &ev, 1) == 1 &&
	    ev.conn_id == twheel_conn_id(conn))
		(*calls)++;
}

TEST(process_events_takes_everything_waiting_in_one_call)
{
	struct twheel *tw = tl_open_or_skip(0);
	unsigned int calls = 0;
	struct twheel_conn *c;

	/* More than the 64 events one of its reaps takes. */
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(0, twheel_conn_open(tw, i, NULL, &c));
		ASSERT_EQ(0, twheel_conn_set_connect_timeout(c, 0));
	}
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 200, 5000));
	EXPECT_EQ(200, twheel_process_events(tw, count_calls, &calls));
	EXPECT_EQ(200, calls);
	EXPECT_EQ(0, twheel_process_events(tw, count_calls, &calls));
	twheel_close(tw);
}

TEST(setting_a_kind_again_discards_its_event_not_yet_taken)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_event out[2];
	struct twheel_conn *c;

	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &c));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 0));
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 0));
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 2, 5000));
	ASSERT_EQ(2, twheel_process_events(tw, NULL, NULL));
	/* The idle timeout is reset before its event was looked at. */
	ASSERT_EQ(0, twheel_conn_reset_idle_timeout(c));
	ASSERT_EQ(1, twheel_conn_check_events(c, out, 2));
	EXPECT_EQ(TWHEEL_KIND_RETRANSMIT, out[0].kind);
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(c));
	/* And cancelling one that was delivered counts as having one. */
	ASSERT_EQ(0, tw_wait_queued(twheel_fd(tw), 1, 5000));
	ASSERT_EQ(1, twheel_process_events(tw, NULL, NULL));
	EXPECT_EQ(1, twheel_conn_cancel(c, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, twheel_conn_check_events(c, out, 2));
	twheel_close(tw);
}

TEST(batched_connection_changes_take_effect_at_the_flush)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_conn *c[5], *other_conn;
	struct twheel_batch_buf *b, *other_b;
	struct twheel *other;
	struct seen s = { 0 };

	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, twheel_conn_open(tw, i, NULL, &c[i]));
	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	EXPECT_EQ(-ENOENT, twheel_batch_conn_reset_idle_timeout(b, c[3]));
	EXPECT_EQ(0, twheel_batch_conn_set_timeout(b, c[0], TWHEEL_KIND_RETRANSMIT, 0));
	EXPECT_EQ(1, twheel_batch_conn_set_timeout(b, c[1], TWHEEL_KIND_RETRANSMIT, 0));
	EXPECT_EQ(2, twheel_batch_conn_set_timeout(b, c[2], TWHEEL_KIND_RETRANSMIT, 0));
	EXPECT_EQ(3, twheel_batch_conn_cancel(b, c[0], TWHEEL_KIND_RETRANSMIT));
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c[3], 60 * NSEC_PER_SEC));
	EXPECT_EQ(4, twheel_batch_conn_reset_idle_timeout(b, c[3]));
	/* Nothing changes before the flush. */
	EXPECT_EQ(0, twheel_conn_armed(c[0]));
	EXPECT_EQ(0, twheel_conn_armed(c[1]));
	EXPECT_EQ(5, twheel_batch_flush(b, &res));
	/* The cancel of c[0] and the reset of c[3] found their timer. */
	EXPECT_EQ(2, res.found);
	EXPECT_EQ(0, twheel_conn_armed(c[0]));
	EXPECT_EQ(1U << TWHEEL_KIND_RETRANSMIT, twheel_conn_armed(c[1]));
	EXPECT_EQ(1U << TWHEEL_KIND_RETRANSMIT, twheel_conn_armed(c[2]));
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(c[3]));
	/* c[1] and c[2] fire; c[0]'s cancelled arming never does. */
	ASSERT_EQ(2, pump(tw, collect, &s, 2, 5000));
	EXPECT_EQ(0, pump(tw, collect, &s, 1, 50));
	ASSERT_EQ(2, s.nr);
	EXPECT_NE(0, s.ev[0].conn_id);
	EXPECT_NE(0, s.ev[1].conn_id);

	/* An entry the device refuses stops the flush: later ones change nothing. */
	EXPECT_EQ(0, twheel_batch_conn_set_timeout(b, c[1], TWHEEL_KIND_CONNECT,
						   60 * NSEC_PER_SEC));
	EXPECT_EQ(1, twheel_batch_arm(b, 99, 0, 0, 0, 1U << 31));
	EXPECT_EQ(2, twheel_batch_conn_set_timeout(b, c[2], TWHEEL_KIND_CONNECT,
						   60 * NSEC_PER_SEC));
	EXPECT_EQ(-EINVAL, twheel_batch_flush(b, &res));
	EXPECT_EQ(1, res.applied);
	EXPECT_EQ(1U << TWHEEL_KIND_CONNECT, twheel_conn_armed(c[1]));
	EXPECT_EQ(0, twheel_conn_armed(c[2]));
	EXPECT_EQ(0, twheel_cancel(tw, 2, TWHEEL_KIND_CONNECT));

	/* A connection closed before the flush leaves nothing armed. */
	EXPECT_EQ(0, twheel_batch_conn_set_timeout(b, c[4], TWHEEL_KIND_IDLE,
						   60 * NSEC_PER_SEC));
	ASSERT_EQ(0, twheel_conn_close(c[4]));
	EXPECT_EQ(1, twheel_batch_flush(b, &res));
	EXPECT_EQ(0, twheel_cancel_conn(tw, 4));

	/* Bad arguments, and a connection of another context. */
	other = tl_open_or_skip(0);
	ASSERT_EQ(0, twheel_batch_new(other, &other_b));
	ASSERT_EQ(0, twheel_conn_open(other, 1, NULL, &other_conn));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_batch_conn_set_timeout(b, other_conn, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_cancel(other_b, c[0], 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_set_timeout(NULL, c[0], 0, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_set_timeout(b, NULL, 0, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_set_timeout(b, c[0],
							 TWHEEL_NR_KINDS, 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_cancel(b, c[0], TWHEEL_NR_KINDS));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_cancel(NULL, c[0], 0));
	EXPECT_EQ(-EINVAL, twheel_batch_conn_reset_idle_timeout(b, NULL));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(0, twheel_batch_count(b));
	twheel_batch_free(other_b);
	twheel_close(other);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(thousands_of_connections_each_fire_once)
{
	struct twheel *tw = tl_open_or_skip(0);
	enum { N = 3000 };
	struct twheel_event ev[256];
	unsigned char *fired = calloc(N, 1);
	struct twheel_conn *c;
	unsigned int got = 0, dup = 0;
	int n;

	ASSERT_NE(NULL, fired);
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(0, twheel_conn_open(tw, 1000000 + i * 7919ULL,
					      &fired[i], &c));
		ASSERT_EQ(0, twheel_conn_set_idle_timeout(c,
					(i % 50) * NSEC_PER_MSEC));
	}
	while (got < N) {
		n = twheel_wait(tw, ev, 256, 5000);
		ASSERT_LT(0, n);
		ASSERT_EQ(n, twheel_dispatch(tw, ev, n, NULL, NULL));
		for (int i = 0; i < n; i++) {
			struct twheel_event out;
			unsigned char *mark;

			c = twheel_conn_find(tw, ev[i].conn_id);
			ASSERT_NE(NULL, c);
			ASSERT_EQ(1, twheel_conn_check_events(c, &out, 1));
			EXPECT_LE(out.deadline_ns, out.fired_ns);
			mark = twheel_conn_user(c);
			dup += *mark;
			*mark = 1;
		}
		got += n;
	}
	EXPECT_EQ(N, got);
	EXPECT_EQ(0, dup);
	free(fired);
	twheel_close(tw);
}

TEST(errors_are_negative_errno_and_leave_state_alone)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_handshake info;
	struct twheel_event ev;
	struct twheel_conn *c;

	ASSERT_EQ(0, twheel_get_info(tw, &info));
	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &c));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_conn_open(NULL, 1, NULL, &c));
	EXPECT_EQ(-EINVAL, twheel_conn_open(tw, 2, NULL, NULL));
	EXPECT_EQ(-EINVAL, twheel_conn_close(NULL));
	EXPECT_EQ(NULL, twheel_conn_find(NULL, 1));
	EXPECT_EQ(0, twheel_conn_id(NULL));
	EXPECT_EQ(NULL, twheel_conn_user(NULL));
	EXPECT_EQ(0, twheel_conn_armed(NULL));
	EXPECT_EQ(-EINVAL, twheel_conn_set_timeout(NULL, 0, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_set_timeout(c, TWHEEL_NR_KINDS, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_set_idle_timeout(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_reset_idle_timeout(NULL));
	EXPECT_EQ(-EINVAL, twheel_conn_set_connect_timeout(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_set_path_validation_timeout(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_set_retransmit_timeout(NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_cancel(NULL, 0));
	EXPECT_EQ(-EINVAL, twheel_conn_cancel(c, TWHEEL_NR_KINDS));
	EXPECT_EQ(-EINVAL, twheel_conn_cancel_all(NULL));
	EXPECT_EQ(-EINVAL, twheel_conn_check_events(NULL, &ev, 1));
	EXPECT_EQ(-EINVAL, twheel_conn_check_events(c, NULL, 1));
	EXPECT_EQ(-EINVAL, twheel_dispatch(NULL, &ev, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, twheel_dispatch(tw, NULL, 1, NULL, NULL));
	EXPECT_EQ(-EINVAL, twheel_process_events(NULL, NULL, NULL));
	EXPECT_EQ(ERRNO_CANARY, errno);

	/* A failed arm changes nothing, not even a remembered idle timeout. */
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, NSEC_PER_SEC));
	EXPECT_EQ(-ERANGE, twheel_conn_set_idle_timeout(c,
						info.max_timeout_ns + 1));
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(c));
	EXPECT_EQ(0, twheel_conn_reset_idle_timeout(c));

	/* With the fd gone, calls that reach the device fail with -EBADF. */
	ASSERT_EQ(0, close(twheel_fd(tw)));
	EXPECT_EQ(-EBADF, twheel_conn_set_retransmit_timeout(c, 1));
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(c));
	EXPECT_EQ(-EBADF, twheel_conn_cancel(c, TWHEEL_KIND_IDLE));
	EXPECT_EQ(-EBADF, twheel_conn_cancel_all(c));
	EXPECT_EQ(-EBADF, twheel_process_events(tw, NULL, NULL));
	/* Closing still frees the connection. */
	EXPECT_EQ(-EBADF, twheel_conn_close(c));
	EXPECT_EQ(NULL, twheel_conn_find(tw, 1));
	EXPECT_EQ(ERRNO_CANARY, errno);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
