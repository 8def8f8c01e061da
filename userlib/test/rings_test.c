// SPDX-License-Identifier: GPL-2.0
/*
 * The shared rings through the library: used when offered and refused by
 * TWHEEL_OPEN_NO_RINGS; the connection layer arms and cancels with few
 * system calls, drops events of superseded armings already in the event
 * ring and surfaces error records; twheel_batch_submit() in both forms;
 * ioctls come after what was published; a tiny event ring loses nothing;
 * the kernel frees connections whose last event went into the ring.
 */

#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include "lib_test.h"

static uint64_t syscalls(struct twheel *tw)
{
	uint64_t n = UINT64_MAX;

	twheel_get_syscalls(tw, &n);
	return n;
}

/* Waits for something to read (the event ring, or the kernel queue). */
static int readable(struct twheel *tw, int timeout_ms)
{
	struct pollfd pfd = {
		.fd = twheel_fd(tw), .events = POLLIN | POLLRDBAND,
	};

	return poll(&pfd, 1, timeout_ms) == 1;
}

struct seen {
	unsigned int calls;
	struct twheel_event ev[64];
	unsigned int nr;
};

static void collect(struct twheel_conn *conn, void *arg)
{
	struct seen *s = arg;
	int n;

	s->calls++;
	n = twheel_conn_check_events(conn, s->ev + s->nr, 64 - s->nr);
	if (n > 0)
		s->nr += n;
}

TEST(rings_are_used_when_offered_and_refused_on_request)
{
	struct twheel *tw = tl_open_or_skip(0), *r;
	struct twheel_handshake info;
	struct io_uring_sqe sqe;
	struct twheel_event ev;
	uint64_t before;

	ASSERT_EQ(0, twheel_get_info(tw, &info));
	twheel_close(tw);
	ASSERT_EQ(0, twheel_open(&r, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(!!(info.features & TWHEEL_FEAT_RINGS), twheel_has_rings(r));
	twheel_close(r);

	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_has_rings(NULL));
	EXPECT_EQ(-EINVAL, twheel_get_syscalls(NULL, &before));
	EXPECT_EQ(-EINVAL, twheel_open_rings(&r, TWHEEL_OPEN_NO_RINGS,
					     TWHEEL_CPU_ANY, 8, 8));
	EXPECT_EQ(ERRNO_CANARY, errno);
	if (!(info.features & TWHEEL_FEAT_RINGS))
		SKIP(return, "the module offers no shared rings");
	/* Sizes the caller chose are not fallen back from. */
	EXPECT_EQ(-EINVAL, twheel_open_rings(&r, 0, TWHEEL_CPU_ANY, 3, 8));
	EXPECT_EQ(-EINVAL, twheel_open_rings(&r, 0, TWHEEL_CPU_ANY, 8,
					     info.max_ev_entries * 2));
	EXPECT_EQ(ERRNO_CANARY, errno);

	/* The fallback still does everything, one ioctl per call. */
	tw = tl_open_or_skip(0);
	before = syscalls(tw);
	ASSERT_EQ(0, twheel_arm(tw, 1, 0, 0, 5, 0));
	EXPECT_EQ(before + 1, syscalls(tw));
	ASSERT_EQ(1, twheel_wait(tw, &ev, 1, 5000));
	EXPECT_EQ(5, ev.user_data);
	twheel_close(tw);

	/* And io_uring reads, which would never see the event ring. */
	r = tl_open_rings_or_skip(0, 8, 8);
	EXPECT_EQ(-EOPNOTSUPP, twheel_prep_read(&sqe, r, &ev, sizeof(ev)));
	twheel_close(r);
}

TEST(connection_timers_cost_few_system_calls_and_fire_once)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 0, 0);
	enum { N = 200 };
	struct twheel_conn *c[N];
	struct twheel_event ev[64];
	unsigned char fired[N] = { 0 };
	unsigned int got = 0, dup = 0;
	uint64_t before;
	int n;

	for (int i = 0; i < N; i++)
		ASSERT_EQ(0, twheel_conn_open(tw, 1000 + i, NULL, &c[i]));
	/*
	 * Far deadlines, latest first: the first arming rings the doorbell
	 * (nothing armed, look_ns at U64_MAX), the others are at or after
	 * the look it promised and are published only.
	 */
	before = syscalls(tw);
	for (int i = 0; i < N; i++)
		ASSERT_EQ(0, twheel_conn_set_idle_timeout(c[i],
				(60 + i) * NSEC_PER_SEC));
	for (int i = 0; i < N; i++)
		ASSERT_EQ(1, twheel_conn_cancel(c[i], TWHEEL_KIND_IDLE));
	tw_report("%llu system calls for %d arms and %d cancels\n",
		  (unsigned long long)(syscalls(tw) - before), N, N);
	EXPECT_GE(2, syscalls(tw) - before);
	EXPECT_EQ(0, twheel_conn_armed(c[0]));

	/* Short ones fire, each once, never early. */
	for (int i = 0; i < N; i++)
		ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c[i],
				(i % 20) * NSEC_PER_MSEC));
	while (got < N) {
		n = twheel_wait(tw, ev, 64, 5000);
		ASSERT_LT(0, n);
		ASSERT_EQ(n, twheel_dispatch(tw, ev, n, NULL, NULL));
		for (int i = 0; i < n; i++) {
			struct twheel_event out;
			unsigned int k = ev[i].conn_id - 1000;

			ASSERT_GT(N, k);
			ASSERT_EQ(1, twheel_conn_check_events(c[k], &out, 1));
			EXPECT_EQ(0, out.flags);
			EXPECT_LE(out.deadline_ns, out.fired_ns);
			dup += fired[k];
			fired[k] = 1;
		}
		got += n;
	}
	EXPECT_EQ(0, dup);
	EXPECT_EQ(-ETIME, twheel_wait(tw, ev, 64, 50));
	twheel_close(tw);
}

TEST(events_already_in_the_event_ring_of_superseded_armings_are_dropped)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 0, 0);
	struct twheel_conn *c, *d;
	struct twheel_event out[4];
	struct twheel_stats st;
	struct seen s = { 0 };

	ASSERT_EQ(0, twheel_conn_open(tw, 1, NULL, &c));
	ASSERT_EQ(0, twheel_conn_open(tw, 2, NULL, &d));

	/* A re-arm after the event reached the ring. */
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 0));
	ASSERT_TRUE(readable(tw, 5000));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	/* In the ring, not the kernel queue: the kernel cannot recall it. */
	EXPECT_EQ(1, st.ring_events);
	EXPECT_EQ(0, st.queued);
	ASSERT_EQ(0, twheel_conn_set_retransmit_timeout(c, 60 * NSEC_PER_SEC));
	EXPECT_EQ(0, twheel_process_events(tw, collect, &s));
	EXPECT_EQ(0, s.calls);
	EXPECT_EQ(1U << TWHEEL_KIND_RETRANSMIT, twheel_conn_armed(c));

	/* A cancel. */
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(c, 0));
	ASSERT_TRUE(readable(tw, 5000));
	EXPECT_EQ(1, twheel_conn_cancel(c, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, twheel_process_events(tw, collect, &s));

	/* A close, and the same id open again. */
	ASSERT_EQ(0, twheel_conn_set_connect_timeout(d, 0));
	ASSERT_TRUE(readable(tw, 5000));
	ASSERT_EQ(0, twheel_conn_close(d));
	ASSERT_EQ(0, twheel_conn_open(tw, 2, NULL, &d));
	EXPECT_EQ(0, twheel_process_events(tw, collect, &s));
	EXPECT_EQ(0, s.calls);

	/* What was not superseded is delivered, once. */
	ASSERT_EQ(0, twheel_conn_set_idle_timeout(d, 0));
	ASSERT_TRUE(readable(tw, 5000));
	EXPECT_EQ(1, twheel_process_events(tw, collect, &s));
	EXPECT_EQ(1, s.calls);
	ASSERT_EQ(1, s.nr);
	EXPECT_EQ(2, s.ev[0].conn_id);
	EXPECT_EQ(TWHEEL_KIND_IDLE, s.ev[0].kind);
	EXPECT_EQ(0, twheel_conn_check_events(d, out, 4));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(4, st.ring_events);
	twheel_close(tw);
}

TEST(an_ioctl_comes_after_the_entries_published_before_it)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 0, 0);
	struct twheel_batch_buf *b;
	struct twheel_next next;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	ASSERT_EQ(0, twheel_batch_arm(b, 1, 0, 60 * NSEC_PER_SEC, 7, 0));
	ASSERT_EQ(1, twheel_batch_submit(b, 0, NULL));
	/* Later than the promised look: published, not taken yet. */
	ASSERT_EQ(0, twheel_batch_cancel(b, 1, 0));
	ASSERT_EQ(1, twheel_batch_submit(b, 0, NULL));
	/* The cancel is applied before this arm: the kind was idle. */
	EXPECT_EQ(0, twheel_arm(tw, 1, 0, 60 * NSEC_PER_SEC, 8, 0));
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(1, next.armed);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(submit_publishes_or_answers_at_once)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 0, 0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;
	struct twheel_next next;
	uint64_t before;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, i, 1, (60 + i) * NSEC_PER_SEC,
					      i, 0));
	/* Asynchronous: one doorbell (nothing was armed), nothing found. */
	before = syscalls(tw);
	EXPECT_EQ(10, twheel_batch_submit(b, 0, &res));
	EXPECT_GE(1, syscalls(tw) - before);
	EXPECT_EQ(10, res.applied);
	EXPECT_EQ(0, res.error);
	EXPECT_EQ(0, res.found);
	EXPECT_EQ(0, twheel_batch_count(b));
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(10, next.armed);

	/* Synchronous: the kernel's count of what the entries found. */
	for (int i = 0; i < 6; i++)
		ASSERT_LE(0, twheel_batch_cancel(b, i * 2, 1));
	EXPECT_EQ(6, twheel_batch_submit(b, TWHEEL_SUBMIT_SYNC, &res));
	EXPECT_EQ(6, res.applied);
	EXPECT_EQ(5, res.found);
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(5, next.armed);

	/* What an entry cannot carry stops the submit there. */
	ASSERT_EQ(0, twheel_batch_arm(b, 20, 0, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, twheel_batch_arm(b, 21, 256, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(2, twheel_batch_arm(b, 22, 0, NSEC_PER_SEC, 0, 0));
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EINVAL, twheel_batch_submit(b, 0, &res));
	EXPECT_EQ(1, res.applied);
	EXPECT_EQ(-EINVAL, res.error);
	ASSERT_EQ(0, twheel_batch_arm(b, 22, 0, 1ULL << 63, 0, 0));
	EXPECT_EQ(-ERANGE, twheel_batch_submit(b, 0, &res));
	EXPECT_EQ(0, res.applied);
	EXPECT_EQ(-EINVAL, twheel_batch_submit(b, 1U << 5, &res));
	EXPECT_EQ(-EINVAL, twheel_batch_submit(NULL, 0, &res));
	EXPECT_EQ(ERRNO_CANARY, errno);
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(6, next.armed);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(connections_emptied_into_the_event_ring_are_freed_without_a_call)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 0, 0);
	struct twheel_batch_buf *b;
	struct twheel_event ev[16];
	long long before = tw_counter("connections");
	unsigned int got = 0;
	int n;

	if (before == TW_NO_COUNTER) {
		twheel_close(tw);
		SKIP(return, "no %s", TW_COUNTERS);
	}
	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, 500 + i, 0,
					      500 * NSEC_PER_MSEC, i + 1, 0));
	ASSERT_EQ(10, twheel_batch_submit(b, 0, NULL));
	EXPECT_EQ(before + 10, tw_counter("connections"));
	/*
	 * Reaped from the event ring with no read() or ioctl: the turn that
	 * moved each connection's last event there freed the connection.
	 */
	while (got < 10) {
		n = twheel_wait(tw, ev, 16, 5000);
		ASSERT_LT(0, n);
		got += n;
	}
	EXPECT_EQ(before, tw_counter("connections"));
	twheel_batch_free(b);
	twheel_close(tw);
}

FIXTURE(quota) {
	long quota;
};

FIXTURE_SETUP(quota)
{
	self->quota = tw_read_param(QUOTA_PARAM);
	if (self->quota < 0 || access(QUOTA_PARAM, W_OK))
		SKIP(return, "no writable %s: module not loaded", QUOTA_PARAM);
}

FIXTURE_TEARDOWN(quota)
{
	if (self->quota >= 0)
		tw_write_param(QUOTA_PARAM, self->quota);
}

TEST_F(quota, error_records_reach_the_connection_and_the_reaper)
{
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;
	struct twheel_conn *c[3];
	struct twheel_event ev[4];
	struct twheel_next next;
	struct seen s = { 0 };
	struct twheel *tw;
	int n;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_write_param(QUOTA_PARAM, 2));
	tw = tl_open_rings_or_skip(0, 0, 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, twheel_conn_open(tw, i, NULL, &c[i]));
	/* Earliest last, so that each rings the doorbell at once. */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, twheel_conn_set_path_validation_timeout(c[i],
				(60 - i) * NSEC_PER_SEC));
	/* Whatever look_ns promised, an ioctl takes what was published. */
	ASSERT_EQ(0, twheel_get_next(tw, &next));
	EXPECT_EQ(2, next.armed);
	/* The third found no room: its error record comes as its event. */
	EXPECT_EQ(1U << TWHEEL_KIND_PATH_VALIDATION, twheel_conn_armed(c[2]));
	n = twheel_wait(tw, ev, 4, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(1, twheel_dispatch(tw, ev, n, collect, &s));
	EXPECT_EQ(1, s.calls);
	ASSERT_EQ(1, s.nr);
	EXPECT_EQ(2, s.ev[0].conn_id);
	EXPECT_EQ(TWHEEL_KIND_PATH_VALIDATION, s.ev[0].kind);
	EXPECT_TRUE(s.ev[0].flags & TWHEEL_EVENT_ERROR);
	EXPECT_EQ(TWHEEL_OP_ARM, TWHEEL_EVENT_OP(s.ev[0].flags));
	EXPECT_EQ(-ENOSPC, s.ev[0].error);
	EXPECT_EQ(0, twheel_conn_armed(c[2]));
	EXPECT_EQ(1U << TWHEEL_KIND_PATH_VALIDATION, twheel_conn_armed(c[1]));

	/* A raw entry's record is the reaper's, flags and all. */
	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	ASSERT_EQ(0, twheel_batch_arm(b, 50, 0, NSEC_PER_SEC, 77, 0));
	EXPECT_EQ(1, twheel_batch_submit(b, 0, &res));
	n = twheel_wait(tw, ev, 4, 5000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(50, ev[0].conn_id);
	EXPECT_EQ(77, ev[0].user_data);
	EXPECT_TRUE(ev[0].flags & TWHEEL_EVENT_ERROR);
	EXPECT_EQ(-ENOSPC, ev[0].error);

	/*
	 * Synchronously, the refusal is the call's; the entries after it
	 * are applied (a re-arm needs no room).
	 */
	ASSERT_EQ(0, twheel_batch_conn_set_timeout(b, c[2], TWHEEL_KIND_IDLE,
						   NSEC_PER_SEC));
	ASSERT_EQ(1, twheel_batch_conn_set_timeout(b, c[0],
			TWHEEL_KIND_PATH_VALIDATION, 30 * NSEC_PER_SEC));
	EXPECT_EQ(-ENOSPC, twheel_batch_submit(b, TWHEEL_SUBMIT_SYNC, &res));
	EXPECT_EQ(-ENOSPC, res.error);
	EXPECT_EQ(1, res.applied);
	EXPECT_EQ(1, res.found);
	EXPECT_EQ(0, twheel_conn_armed(c[2]));
	EXPECT_EQ(1U << TWHEEL_KIND_PATH_VALIDATION, twheel_conn_armed(c[0]));
	EXPECT_EQ(0, twheel_reap(tw, ev, 4));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(a_tiny_event_ring_loses_nothing)
{
	struct twheel *tw = tl_open_rings_or_skip(0, 4, 2);
	enum { N = 300 };
	struct twheel_batch_buf *b;
	unsigned char fired[N] = { 0 };
	struct twheel_event ev[16];
	struct twheel_stats st;
	unsigned int got = 0, dup = 0;
	int n;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	for (int i = 0; i < N; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, i, i % TWHEEL_NR_KINDS,
					      (i % 10) * NSEC_PER_MSEC,
					      i + 1, 0));
	/* A ring of 4 entries takes 300 by ringing when it is full. */
	ASSERT_EQ(N, twheel_batch_submit(b, 0, NULL));
	/* Let them all fire before reaping: most wait in the kernel. */
	usleep(100 * 1000);
	while (got < N) {
		n = twheel_wait(tw, ev, 16, 5000);
		ASSERT_LT(0, n);
		for (int i = 0; i < n; i++) {
			ASSERT_EQ(0, ev[i].flags);
			ASSERT_GT(N, ev[i].conn_id);
			ASSERT_EQ(ev[i].conn_id + 1, ev[i].user_data);
			dup += fired[ev[i].conn_id];
			fired[ev[i].conn_id] = 1;
		}
		got += n;
	}
	EXPECT_EQ(0, dup);
	EXPECT_EQ(-ETIME, twheel_wait(tw, ev, 16, 50));
	ASSERT_EQ(0, twheel_get_stats(tw, &st));
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(N, st.fired);
	/* Both ways out were taken: the ring, and the kernel queue. */
	EXPECT_LT(0, st.ring_events);
	EXPECT_GT(N, st.ring_events);
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
