// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_NEXT: the earliest deadline armed in the file, exactly, after
 * every kind of change (arms, re-arms for earlier and later, cancels of one
 * kind and of a connection, firing), checked against a model.
 */

#include <stdlib.h>
#include <unistd.h>

#include "twheel_test.h"

FIXTURE(next) {
	int fd;
	uint64_t tick;
};

FIXTURE_SETUP(next)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (!(hs.features & TWHEEL_FEAT_NEXT))
		SKIP(return, "TWHEEL_IOC_NEXT is not offered");
	self->tick = hs.tick_ns;
}

FIXTURE_TEARDOWN(next)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int get_next(int fd, struct twheel_next *n)
{
	memset(n, 0, sizeof(*n));
	n->size = sizeof(*n);
	return ioctl(fd, TWHEEL_IOC_NEXT, n);
}

TEST_F(next, nothing_armed_is_never)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(sizeof(n), n.size);
	EXPECT_EQ(UINT64_MAX, n.next_ns);
	EXPECT_EQ(0, n.armed);
	EXPECT_EQ(0, n.queued);
}

TEST_F(next, it_is_the_earliest_deadline_exactly)
{
	uint64_t now = tw_now() + 100 * NSEC_PER_SEC;
	/* Far apart and far away: in the wheel's higher levels, not due. */
	uint64_t d_idle = now + 30 * NSEC_PER_SEC + 17;
	uint64_t d_other = now + 20 * NSEC_PER_SEC + 3;
	uint64_t d_rtx = now + 25 * NSEC_PER_SEC + 999;
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, d_idle, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_idle, n.next_ns);
	EXPECT_EQ(1, n.armed);

	/* An earlier deadline on another connection. */
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, d_other, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_other, n.next_ns);

	/* A later one changes nothing. */
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, d_rtx, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_other, n.next_ns);
	EXPECT_EQ(3, n.armed);

	/* Cancelling the earliest uncovers the next one. */
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 2));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_rtx, n.next_ns);

	/* Re-arming the earliest for later: its connection's other kind. */
	ASSERT_EQ(1, tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, d_idle + 5, 0,
			    TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_idle, n.next_ns);

	/* Cancelling one kind. */
	ASSERT_EQ(1, tw_cancel(self->fd, 1, TWHEEL_KIND_IDLE));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d_idle + 5, n.next_ns);
	EXPECT_EQ(1, n.armed);
}

TEST_F(next, it_moves_on_when_a_timer_fires)
{
	uint64_t now = tw_now();
	uint64_t d1 = now + 200 * NSEC_PER_MSEC, d2 = now + 3 * NSEC_PER_SEC + 1;
	struct twheel_next n;
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, d2, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_CONNECT, d1, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d1, n.next_ns);

	/* Nothing fires before it; then the other deadline is next. */
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(2, ev.conn_id);
	EXPECT_LE(n.next_ns, ev.fired_ns);
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(d2, n.next_ns);
	EXPECT_EQ(1, n.armed);
}

#define NEXT_MODEL_CONNS	97
#define NEXT_MODEL_KINDS	4
#define NEXT_MODEL_OPS		4000

static uint64_t next_model_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST_F(next, random_operations_match_a_model)
{
	static uint64_t model[NEXT_MODEL_CONNS][NEXT_MODEL_KINDS];
	uint64_t seed = tw_now() | 1, s = seed;
	/* A minute or more away, so that nothing fires during the test. */
	uint64_t base = tw_now() + 60 * NSEC_PER_SEC;
	unsigned int op, c, k, checked = 0;
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;
	tw_report("seed %llu\n", (unsigned long long)seed);
	memset(model, 0xff, sizeof(model));

	for (op = 0; op < NEXT_MODEL_OPS; op++) {
		uint64_t r = next_model_random(&s), want = UINT64_MAX, armed = 0;

		c = r % NEXT_MODEL_CONNS;
		k = (r >> 8) % NEXT_MODEL_KINDS;
		switch ((r >> 16) % 8) {
		case 0:
			ASSERT_LE(0, tw_cancel(self->fd, c, k));
			model[c][k] = UINT64_MAX;
			break;
		case 1:
			ASSERT_LE(0, tw_cancel_conn(self->fd, c));
			memset(model[c], 0xff, sizeof(model[c]));
			break;
		default: {
			/* Spread over seconds to hours, to the nanosecond. */
			uint64_t d = base + (r >> 24) % (1ULL << (20 + (r >> 59)));

			ASSERT_LE(0, tw_arm(self->fd, c, k, d, op, TWHEEL_ARM_ABS));
			model[c][k] = d;
			break;
		}
		}

		for (c = 0; c < NEXT_MODEL_CONNS; c++) {
			for (k = 0; k < NEXT_MODEL_KINDS; k++) {
				if (model[c][k] == UINT64_MAX)
					continue;
				armed++;
				if (model[c][k] < want)
					want = model[c][k];
			}
		}
		/* Ask after most operations, not all: the answer is kept. */
		if (r >> 63)
			continue;
		ASSERT_EQ(0, get_next(self->fd, &n));
		ASSERT_EQ(armed, n.armed);
		ASSERT_EQ(want, n.next_ns) {
			TH_LOG("operation %u, seed %llu", op, (unsigned long long)seed);
		}
		checked++;
	}
	tw_report("%u answers checked against the model\n", checked);
}

TEST_F(next, queued_events_are_counted_and_no_longer_armed)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(0, n.armed);
	EXPECT_EQ(1, n.queued);
	EXPECT_EQ(UINT64_MAX, n.next_ns);
}

TEST_F(next, cancelling_everything_makes_it_never_again)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 1));
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(UINT64_MAX, n.next_ns);
}

/*
 * Asked again and again while the thread expires a slot far larger than its
 * advance budget, every answer is exact and agrees with the counts it comes
 * with: with N / 2 due at once and N / 2 later, the earliest deadline is the
 * early one as long as any of those is still armed, and the late one after.
 * Nothing is lost or delivered twice. (Whether an answer falls in the middle
 * of the expiry, where the thread let the lock go, is up to the scheduler;
 * the log says how many did.)
 */
TEST_F_TIMEOUT(next, a_large_expiry_is_answered_exactly_while_it_runs, 300)
{
	enum { N = 40000, CHUNK = 1000 };
	struct twheel_arm *a = calloc(N, sizeof(*a));
	struct twheel_event *ev = calloc(N / 2, sizeof(*ev));
	unsigned char *seen = calloc(N / 2, 1);
	uint64_t early = tw_now() + 200 * NSEC_PER_MSEC + 11;
	uint64_t late = early + 60 * NSEC_PER_SEC + 5;
	uint64_t calls = 0, during = 0, start;
	struct twheel_next n;
	struct twheel_batch b;
	unsigned int got;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, ev);
	ASSERT_NE(NULL, seen);

	for (unsigned int i = 0; i < N; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = i < N / 2 ? early : late;
		a[i].user_data = i;
		a[i].flags = TWHEEL_ARM_ABS;
	}
	/* With two CPUs, ask from one while the other's thread expires. */
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		ASSERT_EQ(0, tw_set_cpu(self->fd, 0));
		ASSERT_EQ(0, tw_run_on(1));
	}
	for (unsigned int i = 0; i < N; i += CHUNK)
		ASSERT_EQ(CHUNK, tw_arm_batch(self->fd, a + i, CHUNK, &b));

	start = tw_now();
	do {
		ASSERT_EQ(0, get_next(self->fd, &n));
		calls++;
		ASSERT_EQ(N, n.armed + n.queued);
		if (n.armed > N / 2) {
			ASSERT_EQ(early, n.next_ns);
			during += n.queued > 0;
		} else {
			ASSERT_EQ(N / 2, n.armed);
			ASSERT_EQ(late, n.next_ns);
		}
		ASSERT_LT(tw_now() - start, 30 * NSEC_PER_SEC);
	} while (n.queued < N / 2);
	TH_LOG("%llu answers, %llu of them with the expiry part-way",
	       (unsigned long long)calls, (unsigned long long)during);

	got = tw_read_n(self->fd, ev, N / 2, 5000);
	ASSERT_EQ(N / 2, got);
	for (unsigned int i = 0; i < got; i++) {
		ASSERT_LT(ev[i].conn_id, N / 2);
		EXPECT_EQ(0, seen[ev[i].conn_id]);
		seen[ev[i].conn_id] = 1;
		EXPECT_EQ(early, ev[i].deadline_ns);
		EXPECT_LE(early, ev[i].fired_ns);
	}
	ASSERT_EQ(0, get_next(self->fd, &n));
	EXPECT_EQ(late, n.next_ns);
	EXPECT_EQ(N / 2, n.armed);
	EXPECT_EQ(0, n.queued);
	free(seen);
	free(ev);
	free(a);
}

TEST_F(next, bad_input_is_refused)
{
	struct twheel_next n;

	if (tw_setup_skipped(_metadata))
		return;

	memset(&n, 0, sizeof(n));
	n.size = sizeof(n);
	n.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, &n));
	EXPECT_EQ(EINVAL, errno);
	memset(&n, 0, sizeof(n));
	n.size = 8;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, &n));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_NEXT, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(next, an_older_caller_gets_only_what_it_knows)
{
	unsigned char buf[sizeof(struct twheel_next) + 8];
	struct twheel_next *n = (void *)buf;

	if (tw_setup_skipped(_metadata))
		return;

	memset(buf, 0, sizeof(buf));
	n->size = 16;
	memset(buf + 16, 0xa5, sizeof(buf) - 16);
	/* Input past the caller's size is not the kernel's to check. */
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_NEXT, n));
	EXPECT_EQ(16, n->size);
	EXPECT_EQ(UINT64_MAX, n->next_ns);
	for (unsigned int i = 16; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
}

TEST_HARNESS_MAIN
