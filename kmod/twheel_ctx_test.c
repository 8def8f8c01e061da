// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite twheel_ctx: the timer context of one open file (twheel_ctx.c),
 * its connections (twheel_conn.c) and the checks of what user space sends
 * (twheel_cmd.c).
 *
 * The suite compiles its own copy of those files, with the wheel and the
 * table, and stands in for the rest of the module: the clock is the suite's
 * (so that every expiry happens at a time a case chose), there is no CPU
 * wheel (a case calls twheel_ctx_expire() itself, as the expiry thread
 * would), and the counters are the suite's. So it runs without twheel.ko,
 * and tests/wheel/ builds this same file natively against stand-ins for the
 * kernel headers it uses.
 */
#include <kunit/test.h>
#include <linux/ktime.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>

/* The suite's clock, CLOCK_MONOTONIC ns as the module would read it. */
static u64 twheel_ctx_test_ns;
#define ktime_get_ns()	(twheel_ctx_test_ns)

/* Set by a case to have the next look at need_resched() say yes, once. */
static bool twheel_ctx_test_resched;

static bool twheel_ctx_test_need_resched(void)
{
	bool resched = twheel_ctx_test_resched;

	twheel_ctx_test_resched = false;
	return resched || need_resched();
}

#define need_resched()	twheel_ctx_test_need_resched()

/* The suite has no tracepoints of its own (twheel_trace.h). */
#define TWHEEL_NO_TRACEPOINTS

#include "twheel_cmd.c"
#include "twheel_conn.c"
#include "twheel_ctx.c"
#include "twheel_simd_scalar.c"
#include "twheel_table.c"
#include "twheel_wheel.c"

/* What twheel_main.c, twheel_counters.c, twheel_cpu.c and twheel_simd.c hold. */
u64 twheel_tick_ns;
u64 twheel_max_timeout_ns;
unsigned long twheel_quota;
unsigned long twheel_max_timers;
atomic_long_t twheel_nr_timers;
struct twheel_counters_cpu __percpu *twheel_counters_pcpu;

void twheel_counter_lateness(u64 late_ns)
{
}

bool twheel_batch_ticks_up(const u64 *ns, u64 *tick, unsigned int n,
			   u64 tick_ns)
{
	twheel_ticks_up_scalar(ns, tick, n, tick_ns);
	return false;
}

void __twheel_cpu_schedule(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);
}

/* The file asked for another turn of its thread. */
static bool twheel_ctx_test_again;

void __twheel_cpu_again(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);
	twheel_ctx_test_again = true;
}

void __twheel_cpu_unschedule(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);
}

void twheel_cpu_detach(struct twheel_ctx *ctx)
{
}

/* Files here have no rings. */
#include "twheel_ring_none.h"

/* One user for every file of the suite, with a limit it can set. */
static struct twheel_user twheel_ctx_test_user;
unsigned long twheel_max_user_timers;

struct twheel_user *twheel_user_open(kuid_t uid, bool unlimited)
{
	twheel_ctx_test_user.files++;
	return &twheel_ctx_test_user;
}

void twheel_user_close(struct twheel_user *user)
{
	user->files--;
}

bool twheel_user_charge(struct twheel_user *user, unsigned long nr,
			bool unlimited)
{
	if (atomic_long_add_return(nr, &user->timers) >
	    twheel_max_user_timers && !unlimited) {
		atomic_long_sub(nr, &user->timers);
		return false;
	}
	return true;
}

void twheel_user_uncharge(struct twheel_user *user, unsigned long nr)
{
	atomic_long_sub(nr, &user->timers);
}

#define TWHEEL_CTX_TEST_TICK	1000000ULL
/* A day of uptime, on a tick. */
#define TWHEEL_CTX_TEST_START	(86400ULL * 1000000000ULL)
#define TWHEEL_CTX_TEST_CONNS	48
#define TWHEEL_CTX_TEST_KINDS	5
#define TWHEEL_CTX_TEST_STEPS	3000

struct twheel_ctx_test {
	struct twheel_ctx *ctx;
	struct twheel_requeue *requeue;
	struct twheel_event ev[TWHEEL_BATCH_CHUNK];
};

static int twheel_ctx_test_init(struct kunit *test)
{
	struct twheel_ctx_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->requeue = kunit_kzalloc(test, sizeof(*t->requeue), GFP_KERNEL);
	if (!t->requeue)
		return -ENOMEM;
	twheel_tick_ns = TWHEEL_CTX_TEST_TICK;
	twheel_max_timeout_ns = TWHEEL_WHEEL_MAX_DELTA * TWHEEL_CTX_TEST_TICK;
	twheel_quota = 1UL << 20;
	twheel_max_timers = 1UL << 22;
	twheel_max_user_timers = 1UL << 20;
	memset(&twheel_ctx_test_user, 0, sizeof(twheel_ctx_test_user));
	atomic_long_set(&twheel_nr_timers, 0);
	twheel_ctx_test_ns = TWHEEL_CTX_TEST_START;
	twheel_counters_pcpu = alloc_percpu(struct twheel_counters_cpu);
	if (!twheel_counters_pcpu)
		return -ENOMEM;
	t->ctx = twheel_ctx_create(GLOBAL_ROOT_UID, false);
	if (IS_ERR(t->ctx)) {
		free_percpu(twheel_counters_pcpu);
		return PTR_ERR(t->ctx);
	}
	test->priv = t;
	return 0;
}

static void twheel_ctx_test_exit(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;

	twheel_ctx_close(t->ctx);
	/* Closing gave back every timer and connection the file held. */
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_nr_timers), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_ctx_test_user.timers), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_ctx_test_user.conns), 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_user.files, 0);
	free_percpu(twheel_counters_pcpu);
}

/* Applies the first @n entries of the chunk, as one batch ioctl would. */
static struct twheel_batch_res twheel_ctx_test_apply(struct twheel_ctx *ctx,
						     enum twheel_cmd cmd,
						     unsigned int n)
{
	struct twheel_clock clock = { .now = ktime_get_ns() };
	struct twheel_batch_res res = {};

	mutex_lock(&ctx->mutex);
	twheel_cmd_apply(ctx, cmd, n, &clock, &res);
	twheel_conn_reap(ctx);
	mutex_unlock(&ctx->mutex);
	return res;
}

/* One arm entry, applied alone; returns whether it found the kind in use. */
static bool twheel_ctx_test_arm(struct kunit *test, u64 conn_id,
				unsigned int kind, u64 timeout_ns,
				u64 user_data)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	struct twheel_arm *arm = &ctx->chunk.arm[0];
	struct twheel_batch_res res;

	memset(arm, 0, sizeof(*arm));
	arm->conn_id = conn_id;
	arm->kind = kind;
	arm->timeout_ns = timeout_ns;
	arm->user_data = user_data;
	res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_ARM, 1);
	KUNIT_EXPECT_EQ(test, res.applied, 1);
	KUNIT_EXPECT_EQ(test, res.error, 0);
	return res.found;
}

static bool twheel_ctx_test_cancel(struct kunit *test, u64 conn_id,
				   unsigned int kind)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	struct twheel_batch_res res;

	memset(&ctx->chunk.cancel[0], 0, sizeof(ctx->chunk.cancel[0]));
	ctx->chunk.cancel[0].conn_id = conn_id;
	ctx->chunk.cancel[0].kind = kind;
	res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_CANCEL, 1);
	KUNIT_EXPECT_EQ(test, res.applied, 1);
	KUNIT_EXPECT_EQ(test, res.error, 0);
	return res.found;
}

/*
 * Moves the clock to @ns and does what the expiry thread does then: as
 * many turns of the file as it asks for.
 */
static unsigned int twheel_ctx_test_expire_at(struct kunit *test, u64 ns)
{
	struct twheel_ctx_test *t = test->priv;
	unsigned int fired = 0;
	bool simd = false;

	twheel_ctx_test_ns = ns;
	do {
		twheel_ctx_test_again = false;
		fired += twheel_ctx_expire(t->ctx, t->requeue, &simd);
	} while (twheel_ctx_test_again);
	return fired;
}

/* Reads up to @max events into the suite's buffer, as read() would. */
static unsigned int twheel_ctx_test_read(struct kunit *test, unsigned int max)
{
	struct twheel_ctx_test *t = test->priv;
	unsigned int n;

	spin_lock(&t->ctx->wqh.lock);
	n = __twheel_ctx_pop(t->ctx, t->ev, min_t(unsigned int, max,
						  ARRAY_SIZE(t->ev)));
	spin_unlock(&t->ctx->wqh.lock);
	return n;
}

static u64 twheel_ctx_test_next(struct twheel_ctx *ctx)
{
	u64 next, armed, queued;

	if (twheel_ctx_next(ctx, &next, &armed, &queued))
		return 0;
	return next;
}

/* A small deterministic generator (xorshift64*), the same on every run. */
static u64 twheel_ctx_test_random(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static unsigned int twheel_ctx_test_prep_at(struct twheel_chunk *chunk,
					    unsigned int n,
					    const struct twheel_clock *clock,
					    int *err)
{
	return twheel_cmd_defs[TWHEEL_CMD_ARM].prep(chunk, n, clock, err);
}

static unsigned int twheel_ctx_test_arm_prep(struct twheel_chunk *chunk,
					     unsigned int n, u64 now, int *err)
{
	struct twheel_clock clock = { .now = now };

	return twheel_ctx_test_prep_at(chunk, n, &clock, err);
}

/* Arm entries get deadlines and ticks, and a chunk stops at a bad entry. */
static void twheel_ctx_test_arm_checks_stop_at_the_first_invalid_entry(struct kunit *test)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	struct twheel_chunk *c = &ctx->chunk;
	u64 now = TWHEEL_CTX_TEST_START + 5000000000ULL;
	unsigned int i, n = 12;
	int err = 1;

	twheel_max_timeout_ns = 1000000000000ULL;
	for (i = 0; i < n; i++) {
		memset(&c->arm[i], 0, sizeof(c->arm[i]));
		c->arm[i].kind = i % TWHEEL_NR_KINDS;
		c->arm[i].timeout_ns = 1000001 * i;
	}
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_arm_prep(c, n, now, &err), n);
	KUNIT_EXPECT_EQ(test, err, 1);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, c->deadline[i], now + 1000001 * i);
		/* i * 1.000001 ms after a whole ms, rounded up to a whole ms. */
		KUNIT_EXPECT_EQ(test, c->tick[i],
				now / TWHEEL_CTX_TEST_TICK + i + (i ? 1 : 0));
	}

	c->arm[7].flags = TWHEEL_ARM_ABS;
	c->arm[7].timeout_ns = now + twheel_max_timeout_ns + 1;
	c->arm[9].kind = TWHEEL_NR_KINDS;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_arm_prep(c, n, now, &err), 7);
	KUNIT_EXPECT_EQ(test, err, -ERANGE);
	c->arm[7].timeout_ns = now + twheel_max_timeout_ns;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_arm_prep(c, n, now, &err), 9);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	KUNIT_EXPECT_EQ(test, c->deadline[7], now + twheel_max_timeout_ns);
	c->arm[9].kind = 0;
	c->arm[3].flags = 4;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_arm_prep(c, n, now, &err), 3);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	c->arm[3].flags = 0;
	c->arm[4].timeout_ns = twheel_max_timeout_ns + 1;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_arm_prep(c, n, now, &err), 4);
	KUNIT_EXPECT_EQ(test, err, -ERANGE);
}

/* In a time namespace, absolute deadlines are on the caller's clock. */
static void twheel_ctx_test_absolute_deadlines_are_on_the_callers_clock(struct kunit *test)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	struct twheel_chunk *c = &ctx->chunk;
	struct twheel_clock clock = {
		.now = TWHEEL_CTX_TEST_START,
		.offset = 86400LL * 1000000000LL,
	};
	u64 caller_now = clock.now + clock.offset;
	int err = 0;

	memset(c->arm, 0, 4 * sizeof(c->arm[0]));
	c->arm[0].flags = TWHEEL_ARM_ABS;
	c->arm[0].timeout_ns = caller_now + 5000000;
	c->arm[1].timeout_ns = 5000000;
	/* Before the host's clock began: due at once. */
	c->arm[2].flags = TWHEEL_ARM_ABS;
	c->arm[2].timeout_ns = 1000;
	c->arm[3].flags = TWHEEL_ARM_ABS;
	c->arm[3].timeout_ns = caller_now + twheel_max_timeout_ns + 1;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_prep_at(c, 4, &clock, &err), 3);
	KUNIT_EXPECT_EQ(test, err, -ERANGE);
	KUNIT_EXPECT_EQ(test, c->deadline[0], clock.now + 5000000);
	KUNIT_EXPECT_EQ(test, c->deadline[1], clock.now + 5000000);
	KUNIT_EXPECT_EQ(test, c->deadline[2], 0);

	/* A clock behind the host's: the other way. */
	clock.offset = -1000000000LL;
	c->arm[0].timeout_ns = clock.now - 1000000000ULL + 5000000;
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_prep_at(c, 1, &clock, &err), 1);
	KUNIT_EXPECT_EQ(test, c->deadline[0], clock.now + 5000000);
}

/* A batch applies the entries before a bad one and reports its errno. */
static void twheel_ctx_test_a_bad_entry_stops_the_batch_after_the_good_ones(struct kunit *test)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	struct twheel_batch_res res;
	unsigned int i;

	for (i = 0; i < 8; i++) {
		memset(&ctx->chunk.cancel[i], 0, sizeof(ctx->chunk.cancel[i]));
		ctx->chunk.cancel[i].conn_id = i;
	}
	ctx->chunk.cancel[5].flags = 1;
	res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_CANCEL, 8);
	KUNIT_EXPECT_EQ(test, res.applied, 5);
	KUNIT_EXPECT_EQ(test, res.error, -EINVAL);

	for (i = 0; i < 8; i++) {
		memset(&ctx->chunk.arm[i], 0, sizeof(ctx->chunk.arm[i]));
		ctx->chunk.arm[i].conn_id = i;
		ctx->chunk.arm[i].timeout_ns = 1000000;
	}
	ctx->chunk.arm[6].kind = TWHEEL_NR_KINDS;
	res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_ARM, 8);
	KUNIT_EXPECT_EQ(test, res.applied, 6);
	KUNIT_EXPECT_EQ(test, res.error, -EINVAL);
	KUNIT_EXPECT_EQ(test, ctx->nr_armed, 6);
}

/* A timer fires once, at the first expiry at or after its deadline. */
static void twheel_ctx_test_a_timer_fires_once_never_before_its_deadline(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns, deadline = start + 2500000;

	KUNIT_EXPECT_FALSE(test, twheel_ctx_test_arm(test, 7, 2, 2500000, 77));
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(t->ctx), deadline);

	/* At the tick before, and a nanosecond before the deadline. */
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 2000000), 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, deadline - 1), 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 16), 0);

	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 3000000), 1);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 9000000), 0);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].conn_id, 7);
	KUNIT_EXPECT_EQ(test, t->ev[0].kind, 2);
	KUNIT_EXPECT_EQ(test, t->ev[0].user_data, 77);
	KUNIT_EXPECT_EQ(test, t->ev[0].deadline_ns, deadline);
	KUNIT_EXPECT_EQ(test, t->ev[0].fired_ns, start + 3000000);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 16), 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(t->ctx), U64_MAX);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_armed + t->ctx->nr_queued, 0);
}

/* Once a cancel has returned, an event of the arming it cancelled is gone. */
static void twheel_ctx_test_cancel_takes_back_a_fired_unread_event(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns;

	twheel_ctx_test_arm(test, 1, 0, 1000000, 10);
	twheel_ctx_test_arm(test, 1, 3, 1000000, 13);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 1000000), 2);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_queued, 2);

	KUNIT_EXPECT_TRUE(test, twheel_ctx_test_cancel(test, 1, 0));
	KUNIT_EXPECT_EQ(test, t->ctx->nr_queued, 1);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].user_data, 13);
	/* Read already: there is nothing left to cancel. */
	KUNIT_EXPECT_FALSE(test, twheel_ctx_test_cancel(test, 1, 3));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_nr_timers), 0);
}

/* A re-arm replaces an unread event: only the new arming fires. */
static void twheel_ctx_test_rearm_replaces_a_fired_unread_event(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns;

	twheel_ctx_test_arm(test, 5, 4, 1000000, 1);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 1000000), 1);
	KUNIT_EXPECT_TRUE(test, twheel_ctx_test_arm(test, 5, 4, 4000000, 2));
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 16), 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(t->ctx), start + 5000000);

	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 5000000), 1);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].user_data, 2);
	KUNIT_EXPECT_EQ(test, t->ev[0].deadline_ns, start + 5000000);
}

/* Cancelling a connection cancels its armed kinds and its unread events. */
static void twheel_ctx_test_cancel_conn_takes_every_kind(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	struct twheel_batch_res res;
	u64 start = twheel_ctx_test_ns;
	unsigned int kind;

	for (kind = 0; kind < TWHEEL_NR_KINDS; kind++)
		twheel_ctx_test_arm(test, 9, kind, (kind + 1) * 1000000, kind);
	twheel_ctx_test_arm(test, 10, 0, 1000000, 100);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 3000000), 4);

	t->ctx->chunk.conn_id[0] = 9;
	t->ctx->chunk.conn_id[1] = 11;
	res = twheel_ctx_test_apply(t->ctx, TWHEEL_CMD_CANCEL_CONN, 2);
	KUNIT_EXPECT_EQ(test, res.applied, 2);
	KUNIT_EXPECT_EQ(test, res.found, 1);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_conns, 1);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_armed, 0);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].conn_id, 10);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 60000000000ULL), 0);
}

/* The quota refuses an arm with -ENOSPC; reading an event makes room. */
static void twheel_ctx_test_quota_counts_unread_events(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	struct twheel_arm *arm = &t->ctx->chunk.arm[0];
	struct twheel_batch_res res;
	u64 start = twheel_ctx_test_ns;

	twheel_quota = 2;
	twheel_ctx_test_arm(test, 1, 0, 1000000, 0);
	twheel_ctx_test_arm(test, 2, 0, 1000000, 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 1000000), 2);

	memset(arm, 0, sizeof(*arm));
	arm->conn_id = 3;
	arm->timeout_ns = 1000000;
	res = twheel_ctx_test_apply(t->ctx, TWHEEL_CMD_ARM, 1);
	KUNIT_EXPECT_EQ(test, res.applied, 0);
	KUNIT_EXPECT_EQ(test, res.error, -ENOSPC);
	/* Re-arming a timer the file holds needs no quota. */
	KUNIT_EXPECT_TRUE(test, twheel_ctx_test_arm(test, 1, 0, 1000000, 0));

	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 1), 1);
	KUNIT_EXPECT_FALSE(test, twheel_ctx_test_arm(test, 3, 0, 1000000, 0));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_ctx_test_user.timers), 2);

	/* The user's limit refuses too, and gives back what it counted. */
	twheel_quota = 100;
	twheel_max_user_timers = 2;
	memset(arm, 0, sizeof(*arm));
	arm->conn_id = 4;
	arm->timeout_ns = 1000000;
	res = twheel_ctx_test_apply(t->ctx, TWHEEL_CMD_ARM, 1);
	KUNIT_EXPECT_EQ(test, res.error, -ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_ctx_test_user.timers), 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_nr_timers), 2);
}

/* A connection's slots shrink as its kinds leave, by cancel or by read. */
static void twheel_ctx_test_slots_shrink_when_kinds_leave(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns;
	struct twheel_conn *conn;
	unsigned int kind;

	for (kind = 0; kind < TWHEEL_NR_KINDS; kind++)
		twheel_ctx_test_arm(test, 3, kind, kind < 14 ? 1000000 :
				    60000000000ULL, kind);
	conn = twheel_conn_lookup(t->ctx, 3);
	KUNIT_ASSERT_NOT_NULL(test, conn);
	KUNIT_EXPECT_EQ(test, conn->nr_alloc, TWHEEL_NR_KINDS);

	/* Twelve cancelled: four of sixteen left, half the array. */
	for (kind = 2; kind < 14; kind++)
		KUNIT_EXPECT_TRUE(test, twheel_ctx_test_cancel(test, 3, kind));
	KUNIT_EXPECT_EQ(test, conn->nr_alloc, 8);

	/* Two fire and are read: two left, a quarter of eight. */
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 1000000), 2);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 16), 2);
	KUNIT_EXPECT_EQ(test, conn->nr_alloc, 4);

	/* One left: back inline, with what it held. */
	KUNIT_EXPECT_TRUE(test, twheel_ctx_test_cancel(test, 3, 14));
	KUNIT_EXPECT_EQ(test, conn->nr_alloc, 0);
	KUNIT_EXPECT_EQ(test, conn->armed, BIT(15));
	KUNIT_EXPECT_EQ(test, conn->one.user_data, 15);
	KUNIT_EXPECT_EQ(test, conn->one.deadline, start + 60000000000ULL);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(t->ctx),
			start + 60000000000ULL);
}

/*
 * A kind fires in the tick its deadline rounds up to, not in a turn that
 * a kind of its connection due a tick before gave the connection, even if
 * the turn came after its deadline: until its tick, a cancel published in
 * the ring must find it armed.
 */
static void twheel_ctx_test_a_kind_fires_in_its_own_tick(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns;

	twheel_ctx_test_arm(test, 9, 0, 1000000, 1);
	twheel_ctx_test_arm(test, 9, 1, 1500000, 2);
	/* The turn of tick 1, 0.7 ms late: past the second deadline. */
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 1700000), 1);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].kind, 0);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_armed, 1);
	/* Its tick: it fires, its time and deadline its own. */
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 2000000), 1);
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_read(test, 16), 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].kind, 1);
	KUNIT_EXPECT_EQ(test, t->ev[0].deadline_ns, start + 1500000);
	KUNIT_EXPECT_EQ(test, t->ev[0].fired_ns, start + 2000000);
}

/*
 * A turn fires only what was due at its time, even after a lock break let
 * the clock run on: what user space published in the file's ring after the
 * turn took it may cancel what came due since.
 */
static void twheel_ctx_test_a_turn_fires_nothing_due_after_its_time(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	u64 start = twheel_ctx_test_ns;
	unsigned int i, n = 2 * TWHEEL_EXPIRE_CHUNK;
	bool simd = false;

	for (i = 0; i < n; i++) {
		twheel_ctx_test_arm(test, i, 0, 1000000, i);
		twheel_ctx_test_arm(test, i, 1, 2500000, n + i);
	}
	/* A turn of time 2 ms; after the lock break the clock reads 3 ms. */
	twheel_ctx_test_ns = start + 3000000;
	twheel_ctx_test_resched = true;
	KUNIT_EXPECT_EQ(test, twheel_ctx_expire_at(t->ctx, t->requeue, &simd,
						   start + 2000000), n);
	/* The break came, after the first chunk. */
	KUNIT_EXPECT_FALSE(test, twheel_ctx_test_resched);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_queued, n);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_armed, n);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(t->ctx), start + 2500000);
	/* The next turn fires the rest. */
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 3000000), n);
	KUNIT_EXPECT_EQ(test, t->ctx->nr_armed, 0);
}

/*
 * A file with more due than a turn gets one turn at a time and asks for
 * the next; no event is lost or doubled on the way.
 */
static void twheel_ctx_test_a_turn_is_bounded_and_asks_for_the_next(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	struct twheel_arm *a = t->ctx->chunk.arm;
	u64 start = twheel_ctx_test_ns;
	unsigned int i, c, turns = 0, fired = 0, read = 0, got;
	bool simd = false;

	for (c = 0; c < 3000; c += TWHEEL_BATCH_CHUNK) {
		for (i = 0; i < TWHEEL_BATCH_CHUNK; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].conn_id = c + i;
			a[i].timeout_ns = 1000000;
		}
		KUNIT_ASSERT_EQ(test, twheel_ctx_test_apply(t->ctx,
							    TWHEEL_CMD_ARM,
							    TWHEEL_BATCH_CHUNK).applied,
				TWHEEL_BATCH_CHUNK);
	}
	twheel_ctx_test_ns = start + 1000000;
	do {
		unsigned int n;

		twheel_ctx_test_again = false;
		n = twheel_ctx_expire(t->ctx, t->requeue, &simd);
		KUNIT_EXPECT_LE(test, n, TWHEEL_EXPIRE_TURN);
		fired += n;
		turns++;
	} while (twheel_ctx_test_again && turns < 100);
	KUNIT_EXPECT_EQ(test, fired, c);
	KUNIT_EXPECT_GE(test, turns, c / TWHEEL_EXPIRE_TURN);
	while ((got = twheel_ctx_test_read(test, TWHEEL_BATCH_CHUNK)))
		read += got;
	KUNIT_EXPECT_EQ(test, read, c);
}

/* NEXT follows arms, cancels, re-arms for later and expiries exactly. */
static void twheel_ctx_test_next_is_the_exact_earliest_deadline(struct kunit *test)
{
	struct twheel_ctx *ctx = ((struct twheel_ctx_test *)test->priv)->ctx;
	u64 start = twheel_ctx_test_ns;

	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), U64_MAX);
	twheel_ctx_test_arm(test, 1, 0, 5000001, 0);
	twheel_ctx_test_arm(test, 2, 0, 3000001, 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 3000001);
	twheel_ctx_test_cancel(test, 2, 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 5000001);
	/* Later than it was: the timer stays at the old tick, NEXT does not. */
	twheel_ctx_test_arm(test, 1, 0, 9000001, 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 9000001);
	twheel_ctx_test_arm(test, 1, 6, 700000001, 0);
	twheel_ctx_test_arm(test, 3, 1, 1000001, 0);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 1000001);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 2000000), 1);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 9000001);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_expire_at(test, start + 10000000), 1);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_next(ctx), start + 700000001);
}

/* The suite's model of one kind of one connection. */
enum twheel_ctx_test_state { TW_IDLE, TW_ARMED, TW_FIRED };

/*
 * @due: the tick whose expiry fires it: its deadline's, or the first tick
 * not yet processed when it was armed (a deadline already past, or in a
 * tick that was processed, fires with the next tick; at most a tick late).
 */
struct twheel_ctx_test_timer {
	enum twheel_ctx_test_state state;
	u64 deadline;
	u64 due;
	u64 user_data;
	u64 fired;
};

/* @unprocessed: the first tick no expiry has processed yet. */
struct twheel_ctx_test_model {
	struct twheel_ctx_test_timer timer[TWHEEL_CTX_TEST_CONNS]
					  [TWHEEL_CTX_TEST_KINDS];
	u64 armed, queued, unprocessed;
};

/* The kinds the model uses: the first few, and the last. */
static unsigned int twheel_ctx_test_kind(unsigned int k)
{
	return k == TWHEEL_CTX_TEST_KINDS - 1 ? TWHEEL_NR_KINDS - 1 : k;
}

static u64 twheel_ctx_test_model_next(const struct twheel_ctx_test_model *m)
{
	u64 next = U64_MAX;
	unsigned int c, k;

	for (c = 0; c < TWHEEL_CTX_TEST_CONNS; c++)
		for (k = 0; k < TWHEEL_CTX_TEST_KINDS; k++)
			if (m->timer[c][k].state == TW_ARMED &&
			    m->timer[c][k].deadline < next)
				next = m->timer[c][k].deadline;
	return next;
}

/* A timeout: mostly short, now and then past a wheel level, or zero. */
static u64 twheel_ctx_test_timeout(u64 *state)
{
	u64 r = twheel_ctx_test_random(state);

	switch (r % 16) {
	case 0:
		return 0;
	case 1:
		return (r >> 8) % 600000000000ULL;
	case 2:
	case 3:
		return (r >> 8) % 5000000000ULL;
	default:
		return (r >> 8) % 80000000;
	}
}

/*
 * Reads up to @n events and checks each against the model: it is of an
 * arming the model has fired, with its deadline, data and firing time.
 * Returns how many it read, which must be all it could.
 */
static unsigned int twheel_ctx_test_model_read(struct kunit *test,
					       struct twheel_ctx_test_model *m,
					       unsigned int n)
{
	struct twheel_ctx_test *t = test->priv;
	u64 queued = m->queued;
	unsigned int got, i, k;

	got = twheel_ctx_test_read(test, n);
	for (i = 0; i < got; i++) {
		struct twheel_event *ev = &t->ev[i];
		struct twheel_ctx_test_timer *tm;

		KUNIT_ASSERT_LT(test, ev->conn_id, TWHEEL_CTX_TEST_CONNS);
		k = ev->kind == TWHEEL_NR_KINDS - 1 ?
		    TWHEEL_CTX_TEST_KINDS - 1 : ev->kind;
		KUNIT_ASSERT_LT(test, k, TWHEEL_CTX_TEST_KINDS);
		tm = &m->timer[ev->conn_id][k];
		KUNIT_ASSERT_EQ(test, tm->state, TW_FIRED);
		KUNIT_ASSERT_EQ(test, ev->user_data, tm->user_data);
		KUNIT_ASSERT_EQ(test, ev->deadline_ns, tm->deadline);
		KUNIT_ASSERT_EQ(test, ev->fired_ns, tm->fired);
		KUNIT_ASSERT_GE(test, ev->fired_ns, ev->deadline_ns);
		tm->state = TW_IDLE;
		m->queued--;
	}
	KUNIT_ASSERT_EQ(test, got, min_t(u64, queued,
					 min_t(unsigned int, n,
					       TWHEEL_BATCH_CHUNK)));
	return got;
}

/*
 * Random batches of arms, re-arms, cancels and connection cancels,
 * expiries on whole ticks and partial reads, against a model: after every
 * step the counts and NEXT agree with it, every event read is of an arming
 * the model has fired (so never early, never superseded, never twice), and
 * at the end every arming that was not cancelled or replaced was read once.
 */
static void twheel_ctx_test_random_operations_deliver_each_arming_once(struct kunit *test)
{
	struct twheel_ctx_test *t = test->priv;
	struct twheel_ctx *ctx = t->ctx;
	struct twheel_ctx_test_model *m;
	u64 state = 0x63747874, seq = 0, delivered = 0;
	unsigned int step, i, c, k;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->unprocessed = twheel_ctx_test_ns / TWHEEL_CTX_TEST_TICK;

	for (step = 0; step < TWHEEL_CTX_TEST_STEPS; step++) {
		u64 r = twheel_ctx_test_random(&state);
		unsigned int n = 1 + (r >> 8) % TWHEEL_BATCH_CHUNK;
		struct twheel_batch_res res;
		u32 found = 0;

		switch (r % 8) {
		case 0:
		case 1:
		case 2: {
			/* Arm: distinct timers, so the batch's order is moot. */
			u8 seen[TWHEEL_CTX_TEST_CONNS] = { 0 };
			unsigned int used = 0;

			for (i = 0; i < n; i++) {
				struct twheel_arm *a = &ctx->chunk.arm[used];
				struct twheel_ctx_test_timer *tm;
				u64 now = twheel_ctx_test_ns;

				c = twheel_ctx_test_random(&state) %
				    TWHEEL_CTX_TEST_CONNS;
				k = twheel_ctx_test_random(&state) %
				    TWHEEL_CTX_TEST_KINDS;
				if (seen[c] & BIT(k))
					continue;
				seen[c] |= BIT(k);
				tm = &m->timer[c][k];
				memset(a, 0, sizeof(*a));
				a->conn_id = c;
				a->kind = twheel_ctx_test_kind(k);
				a->user_data = ++seq;
				a->timeout_ns = twheel_ctx_test_timeout(&state);
				if (twheel_ctx_test_random(&state) % 8 == 0) {
					/* Absolute, up to a second in the past. */
					a->flags = TWHEEL_ARM_ABS;
					a->timeout_ns = now - 1000000000ULL +
							a->timeout_ns % 3000000000ULL;
				}
				found += tm->state != TW_IDLE;
				m->armed += tm->state != TW_ARMED;
				m->queued -= tm->state == TW_FIRED;
				tm->state = TW_ARMED;
				tm->user_data = a->user_data;
				tm->deadline = a->flags ? a->timeout_ns :
						now + a->timeout_ns;
				tm->due = max(twheel_tick_up(tm->deadline,
							     TWHEEL_CTX_TEST_TICK),
					      m->unprocessed);
				used++;
			}
			res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_ARM, used);
			KUNIT_ASSERT_EQ(test, res.error, 0);
			KUNIT_ASSERT_EQ(test, res.applied, used);
			KUNIT_ASSERT_EQ(test, res.found, found);
			break;
		}
		case 3: {
			/* Cancel: repeats allowed, only the first finds. */
			for (i = 0; i < n; i++) {
				struct twheel_cancel *e = &ctx->chunk.cancel[i];
				struct twheel_ctx_test_timer *tm;

				c = twheel_ctx_test_random(&state) %
				    TWHEEL_CTX_TEST_CONNS;
				k = twheel_ctx_test_random(&state) %
				    TWHEEL_CTX_TEST_KINDS;
				tm = &m->timer[c][k];
				memset(e, 0, sizeof(*e));
				e->conn_id = c;
				e->kind = twheel_ctx_test_kind(k);
				found += tm->state != TW_IDLE;
				m->armed -= tm->state == TW_ARMED;
				m->queued -= tm->state == TW_FIRED;
				tm->state = TW_IDLE;
			}
			res = twheel_ctx_test_apply(ctx, TWHEEL_CMD_CANCEL, n);
			KUNIT_ASSERT_EQ(test, res.applied, n);
			KUNIT_ASSERT_EQ(test, res.found, found);
			break;
		}
		case 4: {
			/* Cancel a few connections. */
			n = 1 + n % 3;
			for (i = 0; i < n; i++) {
				c = twheel_ctx_test_random(&state) %
				    TWHEEL_CTX_TEST_CONNS;
				ctx->chunk.conn_id[i] = c;
				for (k = 0; k < TWHEEL_CTX_TEST_KINDS; k++) {
					struct twheel_ctx_test_timer *tm =
						&m->timer[c][k];

					m->armed -= tm->state == TW_ARMED;
					m->queued -= tm->state == TW_FIRED;
					tm->state = TW_IDLE;
				}
			}
			twheel_ctx_test_apply(ctx, TWHEEL_CMD_CANCEL_CONN, n);
			break;
		}
		case 5:
		case 6: {
			/* Expire on a whole tick, a little or a long way on. */
			u64 tick = twheel_ctx_test_ns / TWHEEL_CTX_TEST_TICK;
			u64 ns, fired = 0;

			tick += r % 64 ? (r >> 8) % 40 : (r >> 8) % 200000;
			ns = tick * TWHEEL_CTX_TEST_TICK;
			for (c = 0; c < TWHEEL_CTX_TEST_CONNS; c++) {
				for (k = 0; k < TWHEEL_CTX_TEST_KINDS; k++) {
					struct twheel_ctx_test_timer *tm =
						&m->timer[c][k];

					if (tm->state != TW_ARMED ||
					    tm->due > tick)
						continue;
					KUNIT_ASSERT_LE(test, tm->deadline, ns);
					tm->state = TW_FIRED;
					tm->fired = ns;
					m->armed--;
					m->queued++;
					fired++;
				}
			}
			KUNIT_ASSERT_EQ(test,
					twheel_ctx_test_expire_at(test, ns),
					fired);
			m->unprocessed = max(m->unprocessed, tick + 1);
			break;
		}
		default:
			delivered += twheel_ctx_test_model_read(test, m, n);
			break;
		}
		KUNIT_ASSERT_EQ(test, ctx->nr_armed, m->armed);
		KUNIT_ASSERT_EQ(test, ctx->nr_queued, m->queued);
		KUNIT_ASSERT_EQ(test, twheel_ctx_test_next(ctx),
				twheel_ctx_test_model_next(m));
	}

	/* Everything fires and is read: each live arming exactly once. */
	twheel_ctx_test_ns += 700000000000ULL;
	for (c = 0; c < TWHEEL_CTX_TEST_CONNS; c++) {
		for (k = 0; k < TWHEEL_CTX_TEST_KINDS; k++) {
			struct twheel_ctx_test_timer *tm = &m->timer[c][k];

			if (tm->state != TW_ARMED)
				continue;
			tm->state = TW_FIRED;
			tm->fired = twheel_ctx_test_ns;
			m->queued++;
		}
	}
	KUNIT_ASSERT_EQ(test, twheel_ctx_test_expire_at(test,
							twheel_ctx_test_ns),
			m->armed);
	m->armed = 0;
	while (m->queued)
		delivered += twheel_ctx_test_model_read(test, m,
							TWHEEL_BATCH_CHUNK);
	KUNIT_EXPECT_EQ(test, twheel_ctx_test_read(test, 1), 0);
	KUNIT_EXPECT_EQ(test, ctx->nr_armed + ctx->nr_queued, 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&twheel_nr_timers), 0);
	/* The walk meant something only if much was delivered on the way. */
	KUNIT_EXPECT_GT(test, delivered, TWHEEL_CTX_TEST_STEPS / 2);
}

static struct kunit_case twheel_ctx_test_cases[] = {
	KUNIT_CASE(twheel_ctx_test_arm_checks_stop_at_the_first_invalid_entry),
	KUNIT_CASE(twheel_ctx_test_absolute_deadlines_are_on_the_callers_clock),
	KUNIT_CASE(twheel_ctx_test_a_bad_entry_stops_the_batch_after_the_good_ones),
	KUNIT_CASE(twheel_ctx_test_a_timer_fires_once_never_before_its_deadline),
	KUNIT_CASE(twheel_ctx_test_cancel_takes_back_a_fired_unread_event),
	KUNIT_CASE(twheel_ctx_test_rearm_replaces_a_fired_unread_event),
	KUNIT_CASE(twheel_ctx_test_cancel_conn_takes_every_kind),
	KUNIT_CASE(twheel_ctx_test_quota_counts_unread_events),
	KUNIT_CASE(twheel_ctx_test_slots_shrink_when_kinds_leave),
	KUNIT_CASE(twheel_ctx_test_a_turn_is_bounded_and_asks_for_the_next),
	KUNIT_CASE(twheel_ctx_test_a_turn_fires_nothing_due_after_its_time),
	KUNIT_CASE(twheel_ctx_test_a_kind_fires_in_its_own_tick),
	KUNIT_CASE(twheel_ctx_test_next_is_the_exact_earliest_deadline),
	KUNIT_CASE(twheel_ctx_test_random_operations_deliver_each_arming_once),
	{}
};

static struct kunit_suite twheel_ctx_test_suite = {
	.name = "twheel_ctx",
	.init = twheel_ctx_test_init,
	.exit = twheel_ctx_test_exit,
	.test_cases = twheel_ctx_test_cases,
};

kunit_test_suite(twheel_ctx_test_suite);

MODULE_DESCRIPTION("KUnit tests for twheel's file context");
MODULE_LICENSE("GPL");
