// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite twheel_wheel: the timing wheel of twheel_wheel.c.
 *
 * The suite compiles its own copy of the wheel, so it runs without twheel.ko
 * and can look at the wheel's internals. tests/wheel/ builds this same file
 * as a native program against a small stand-in for <kunit/test.h>, so the
 * kernel run and the sanitizer run check exactly the same behaviours.
 */
#include <kunit/test.h>

#include "twheel_wheel.c"

#define TWHEEL_TEST_RANDOM_TIMERS	1024
#define TWHEEL_TEST_RANDOM_OPS		20000

static int twheel_wheel_test_init(struct kunit *test)
{
	struct twheel_wheel *wheel;

	wheel = kunit_kzalloc(test, sizeof(*wheel), GFP_KERNEL);
	if (!wheel)
		return -ENOMEM;
	twheel_wheel_init(wheel, 0);
	test->priv = wheel;
	return 0;
}

/* A small deterministic generator (xorshift64*), the same on every run. */
static u64 twheel_test_random(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/*
 * Advances @wheel to @now, as the per-CPU thread does, and takes the expired
 * timers off the list. Checks that each of them was due and is idle.
 * Returns how many expired.
 */
static unsigned int twheel_test_advance(struct kunit *test,
					struct twheel_wheel *wheel, u64 now)
{
	unsigned int moved, seen = 0;
	HLIST_HEAD(expired);

	moved = twheel_wheel_advance(wheel, now, &expired);
	while (!hlist_empty(&expired)) {
		struct twheel_timer *timer = hlist_entry(expired.first,
							 struct twheel_timer, node);

		KUNIT_EXPECT_FALSE(test, twheel_timer_pending(timer));
		KUNIT_EXPECT_LE(test, timer->expires, now);
		hlist_del_init(&timer->node);
		seen++;
	}
	KUNIT_EXPECT_EQ(test, seen, moved);
	return moved;
}

/*
 * Wakes up at each twheel_wheel_next() until @timer, the only timer on
 * @wheel, expires, and checks that this happens exactly at tick @due.
 */
static void twheel_test_follow_next(struct kunit *test,
				    struct twheel_wheel *wheel,
				    struct twheel_timer *timer, u64 due)
{
	unsigned int wakeups;

	for (wakeups = 0; wakeups < 64; wakeups++) {
		u64 next = twheel_wheel_next(wheel);

		KUNIT_ASSERT_LE(test, next, due);
		if (twheel_test_advance(test, wheel, next)) {
			KUNIT_EXPECT_EQ(test, next, due);
			return;
		}
		KUNIT_ASSERT_TRUE(test, twheel_timer_pending(timer));
	}
	KUNIT_FAIL(test, "not expired after %u wake-ups", wakeups);
}

/*
 * Checks one timer found in slot @slot of level @lvl, whose range of ticks
 * starts at @range (in units of the level's granularity).
 */
static void twheel_test_check_timer(struct kunit *test,
				    const struct twheel_wheel *wheel,
				    const struct hlist_node *node,
				    unsigned int lvl, unsigned int slot, u64 range)
{
	const struct twheel_timer *timer = hlist_entry(node, struct twheel_timer,
						       node);

	KUNIT_ASSERT_EQ(test, timer->idx, lvl * TWHEEL_WHEEL_LVL_SLOTS + slot);
	if (timer->expires < wheel->now) {
		/* Armed for a tick already processed. */
		KUNIT_ASSERT_EQ(test, lvl, 0U);
		KUNIT_ASSERT_EQ(test, range, wheel->now);
	} else if (lvl < TWHEEL_WHEEL_LEVELS - 1) {
		KUNIT_ASSERT_EQ(test, range,
				timer->expires >> TWHEEL_WHEEL_LVL_SHIFT(lvl));
	} else {
		KUNIT_ASSERT_LE(test, range,
				timer->expires >> TWHEEL_WHEEL_LVL_SHIFT(lvl));
	}
}

/*
 * Walks every slot and checks the wheel's invariants: a pending bit for
 * exactly the non-empty slots, each timer's idx naming its slot, the count,
 * and every timer waiting in an unprocessed slot no later than its expiry.
 */
static void twheel_test_check_wheel(struct kunit *test,
				    const struct twheel_wheel *wheel)
{
	unsigned int lvl, slot, count = 0;

	for (lvl = 0; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
		u64 first = twheel_wheel_first_range(wheel->now, lvl);

		for (slot = 0; slot < TWHEEL_WHEEL_LVL_SLOTS; slot++) {
			const struct hlist_head *ways = wheel->slots[lvl][slot];
			u64 range = first + ((slot - first) & TWHEEL_WHEEL_LVL_MASK);
			const struct hlist_node *node;
			unsigned int way, in_slot = 0;

			for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
				for (node = ways[way].first; node; node = node->next) {
					twheel_test_check_timer(test, wheel, node,
								lvl, slot, range);
					in_slot++;
				}
			}
			KUNIT_ASSERT_EQ(test, in_slot != 0,
					!!(wheel->pending[lvl] & BIT_ULL(slot)));
			count += in_slot;
		}
	}
	KUNIT_ASSERT_EQ(test, count, wheel->count);
}

static void twheel_wheel_test_new_wheel_has_nothing_to_do(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;

	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 1000), 0U);
	KUNIT_EXPECT_EQ(test, wheel->now, 1001ULL);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
}

static void twheel_wheel_test_arm_makes_an_idle_timer_pending(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;

	twheel_timer_init(&timer);
	KUNIT_EXPECT_FALSE(test, twheel_timer_pending(&timer));
	KUNIT_EXPECT_FALSE(test, twheel_wheel_arm(wheel, &timer, 500));
	KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&timer));
	KUNIT_EXPECT_EQ(test, timer.expires, 500ULL);
	KUNIT_EXPECT_EQ(test, wheel->count, 1U);
	twheel_test_check_wheel(test, wheel);
}

static void twheel_wheel_test_rearm_moves_the_only_copy(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;

	twheel_timer_init(&timer);
	twheel_wheel_arm(wheel, &timer, 5000);
	/* Re-armed to another level, then to another slot of level 0. */
	KUNIT_EXPECT_TRUE(test, twheel_wheel_arm(wheel, &timer, 70));
	KUNIT_EXPECT_TRUE(test, twheel_wheel_arm(wheel, &timer, 40));
	KUNIT_EXPECT_EQ(test, wheel->count, 1U);
	twheel_test_check_wheel(test, wheel);

	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 39), 0U);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 40), 1U);
	/* The earlier armings left nothing behind. */
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 10000), 0U);
}

static void twheel_wheel_test_rearm_within_a_slot_leaves_the_timer_in_place(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer a, b, c;

	/*
	 * Ticks 64..127 share one slot of level 1. Its two lists are filled
	 * in turn: a and c in the first, b in the second.
	 */
	twheel_timer_init(&a);
	twheel_timer_init(&b);
	twheel_timer_init(&c);
	twheel_wheel_arm(wheel, &a, 100);
	twheel_wheel_arm(wheel, &b, 110);
	twheel_wheel_arm(wheel, &c, 105);
	KUNIT_ASSERT_PTR_EQ(test, wheel->slots[1][1][0].first, &c.node);
	KUNIT_ASSERT_PTR_EQ(test, c.node.next, &a.node);
	KUNIT_ASSERT_PTR_EQ(test, wheel->slots[1][1][1].first, &b.node);

	/* Re-queueing a would put it first in the second list. */
	KUNIT_EXPECT_TRUE(test, twheel_wheel_arm(wheel, &a, 120));
	KUNIT_EXPECT_PTR_EQ(test, wheel->slots[1][1][0].first, &c.node);
	KUNIT_EXPECT_PTR_EQ(test, c.node.next, &a.node);
	KUNIT_EXPECT_PTR_EQ(test, wheel->slots[1][1][1].first, &b.node);
	KUNIT_EXPECT_PTR_EQ(test, b.node.next, NULL);
	KUNIT_EXPECT_EQ(test, a.expires, 120ULL);

	/* Tick 130 is in the next slot: now it moves. */
	KUNIT_EXPECT_TRUE(test, twheel_wheel_arm(wheel, &a, 130));
	KUNIT_EXPECT_EQ(test, a.idx, TWHEEL_WHEEL_LVL_SLOTS + 2);
	KUNIT_EXPECT_PTR_EQ(test, c.node.next, NULL);
	twheel_test_check_wheel(test, wheel);
}

static void twheel_wheel_test_cancel_reports_whether_the_timer_was_pending(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;

	twheel_timer_init(&timer);
	KUNIT_EXPECT_FALSE(test, twheel_wheel_cancel(wheel, &timer));
	twheel_wheel_arm(wheel, &timer, 3);
	KUNIT_EXPECT_TRUE(test, twheel_wheel_cancel(wheel, &timer));
	KUNIT_EXPECT_FALSE(test, twheel_timer_pending(&timer));
	KUNIT_EXPECT_FALSE(test, twheel_wheel_cancel(wheel, &timer));
	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
	KUNIT_EXPECT_EQ(test, wheel->pending[0], 0ULL);
}

static void twheel_wheel_test_cancelled_timer_never_expires(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer near, far;

	twheel_timer_init(&near);
	twheel_timer_init(&far);
	twheel_wheel_arm(wheel, &near, 10);
	twheel_wheel_arm(wheel, &far, 1000000);
	twheel_wheel_cancel(wheel, &near);
	twheel_wheel_cancel(wheel, &far);

	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 10), 0U);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, U64_MAX), 0U);
}

static void twheel_wheel_test_timer_never_expires_before_its_tick(struct kunit *test)
{
	static const u64 starts[] = { 0, 63, 64, 4095, 1000003, 1ULL << 41 };
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	unsigned int i, lvl;

	twheel_timer_init(&timer);
	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		for (lvl = 0; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
			u64 expires = starts[i] + TWHEEL_WHEEL_LVL_GRAN(lvl) + 1;

			twheel_wheel_init(wheel, starts[i]);
			twheel_wheel_arm(wheel, &timer, expires);
			/* One jump to the tick before, then the tick itself. */
			KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, expires - 1), 0U);
			KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&timer));
			twheel_test_check_wheel(test, wheel);
			KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, expires), 1U);
		}
	}
}

static void twheel_wheel_test_timer_expires_at_its_exact_tick(struct kunit *test)
{
	static const u64 starts[] = { 0, 37, 4095, 262143 - 20 };
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	unsigned int i;
	u64 delta, t;

	twheel_timer_init(&timer);
	for (i = 0; i < ARRAY_SIZE(starts); i++) {
		for (delta = 1; delta <= 3 * TWHEEL_WHEEL_LVL_SLOTS + 5; delta++) {
			u64 expires = starts[i] + delta;

			twheel_wheel_init(wheel, starts[i]);
			twheel_wheel_arm(wheel, &timer, expires);
			/* Tick by tick, as a thread that never oversleeps. */
			for (t = starts[i]; t < expires; t++)
				KUNIT_ASSERT_EQ(test, twheel_test_advance(test, wheel, t), 0U);
			KUNIT_ASSERT_EQ(test, twheel_test_advance(test, wheel, expires), 1U);
		}
	}
}

static void twheel_wheel_test_timers_due_at_one_tick_expire_in_one_batch(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timers[8];
	unsigned int i;

	/* Armed from different distances, so from different levels. */
	for (i = 0; i < ARRAY_SIZE(timers); i++) {
		twheel_timer_init(&timers[i]);
		twheel_test_advance(test, wheel, i * 9000);
		twheel_wheel_arm(wheel, &timers[i], 100000);
	}
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 99999), 0U);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 100000), 8U);
	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
}

static void twheel_wheel_test_past_expiry_fires_at_the_next_advance(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer late, now;

	twheel_wheel_init(wheel, 5000);
	twheel_timer_init(&late);
	twheel_timer_init(&now);
	twheel_wheel_arm(wheel, &late, 17);
	twheel_wheel_arm(wheel, &now, 5000);
	KUNIT_EXPECT_EQ(test, late.expires, 17ULL);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), 5000ULL);
	twheel_test_check_wheel(test, wheel);

	/* A backwards call is no advance. */
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 4000), 0U);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 5000), 2U);
}

static void twheel_wheel_test_going_back_in_time_does_nothing(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;

	twheel_timer_init(&timer);
	twheel_test_advance(test, wheel, 999);
	twheel_wheel_arm(wheel, &timer, 1500);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 10), 0U);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 998), 0U);
	KUNIT_EXPECT_EQ(test, wheel->now, 1000ULL);
	KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&timer));
	twheel_test_follow_next(test, wheel, &timer, 1500);
}

/*
 * From a wheel started at @start, @timer expires at @expires: both when the
 * thread wakes at each twheel_wheel_next() and when it wakes once at the
 * tick before and once at the tick.
 */
static void twheel_test_expires_exactly(struct kunit *test,
					struct twheel_wheel *wheel,
					struct twheel_timer *timer,
					u64 start, u64 expires)
{
	twheel_wheel_init(wheel, start);
	twheel_wheel_arm(wheel, timer, expires);
	twheel_test_check_wheel(test, wheel);
	twheel_test_follow_next(test, wheel, timer, expires);

	twheel_wheel_init(wheel, start);
	twheel_wheel_arm(wheel, timer, expires);
	KUNIT_ASSERT_EQ(test, twheel_test_advance(test, wheel, expires - 1), 0U);
	twheel_test_check_wheel(test, wheel);
	KUNIT_ASSERT_EQ(test, twheel_test_advance(test, wheel, expires), 1U);
}

static void twheel_wheel_test_cascades_are_exact_across_every_level_boundary(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	unsigned int lvl, s, d;

	twheel_timer_init(&timer);
	for (lvl = 1; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
		u64 gran = TWHEEL_WHEEL_LVL_GRAN(lvl);
		/* Clocks on, just before and just after a boundary of this level. */
		u64 starts[] = { 0, gran - 1, gran + 1, 3 * gran, 5 * gran - 7 };
		/* Distances that end on, before and after a boundary. */
		u64 deltas[] = { 1, gran - 1, gran, gran + 1, 2 * gran,
				 (gran << TWHEEL_WHEEL_LVL_BITS) - 1,
				 gran << TWHEEL_WHEEL_LVL_BITS };

		for (s = 0; s < ARRAY_SIZE(starts); s++) {
			for (d = 0; d < ARRAY_SIZE(deltas); d++) {
				u64 expires = starts[s] + deltas[d];

				if (deltas[d] <= TWHEEL_WHEEL_MAX_DELTA)
					twheel_test_expires_exactly(test, wheel, &timer,
								    starts[s], expires);
			}
		}
	}
}

static void twheel_wheel_test_max_delta_is_queued_without_clamping(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	u64 start = 12345, expires = start + TWHEEL_WHEEL_MAX_DELTA;

	twheel_wheel_init(wheel, start);
	twheel_timer_init(&timer);
	twheel_wheel_arm(wheel, &timer, expires);
	KUNIT_EXPECT_EQ(test, timer.idx / TWHEEL_WHEEL_LVL_SLOTS,
			TWHEEL_WHEEL_LEVELS - 1U);
	twheel_test_check_wheel(test, wheel);

	/* From the top level down, one level per wake-up at most. */
	twheel_test_follow_next(test, wheel, &timer, expires);
	KUNIT_EXPECT_LE(test, wheel->cascades, TWHEEL_WHEEL_LEVELS - 1ULL);
}

static void twheel_wheel_test_far_timeouts_are_clamped_and_requeued_until_due(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	u64 expires = 5 * TWHEEL_WHEEL_MAX_DELTA + 777;

	twheel_timer_init(&timer);
	twheel_wheel_arm(wheel, &timer, expires);
	/* The true expiry is kept, not the clamped one. */
	KUNIT_EXPECT_EQ(test, timer.expires, expires);
	KUNIT_EXPECT_LE(test, twheel_wheel_next(wheel), TWHEEL_WHEEL_MAX_DELTA);
	twheel_test_check_wheel(test, wheel);

	/* Five clamped waits, then the cascade down to the tick. */
	twheel_test_follow_next(test, wheel, &timer, expires);
	KUNIT_EXPECT_GE(test, wheel->cascades, 5ULL);

	/* And with one jump just short of the expiry. */
	twheel_wheel_init(wheel, 0);
	twheel_wheel_arm(wheel, &timer, expires);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, expires - 1), 0U);
	twheel_test_check_wheel(test, wheel);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, expires), 1U);
}

static void twheel_wheel_test_tick_u64_max_is_never_reached(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer never, last;

	twheel_wheel_init(wheel, U64_MAX - 100);
	twheel_timer_init(&never);
	twheel_timer_init(&last);
	twheel_wheel_arm(wheel, &never, U64_MAX);
	twheel_wheel_arm(wheel, &last, U64_MAX - 1);

	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, U64_MAX), 1U);
	KUNIT_EXPECT_FALSE(test, twheel_timer_pending(&last));
	KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&never));
	KUNIT_EXPECT_EQ(test, wheel->now, U64_MAX);
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, U64_MAX), 0U);
	KUNIT_EXPECT_TRUE(test, twheel_wheel_cancel(wheel, &never));
}

static void twheel_wheel_test_next_is_exact_within_the_first_level(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer a, b;

	twheel_wheel_init(wheel, 130);
	twheel_timer_init(&a);
	twheel_timer_init(&b);
	twheel_wheel_arm(wheel, &a, 190);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), 190ULL);
	twheel_wheel_arm(wheel, &b, 131);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), 131ULL);
	twheel_wheel_cancel(wheel, &b);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), 190ULL);
	twheel_test_advance(test, wheel, 160);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), 190ULL);
}

/*
 * One random operation on a few timers (a cancel, an advance by up to 3000
 * ticks, or an arm at distances up to the whole range), then the earliest
 * expiry among them, U64_MAX if none is pending.
 */
static u64 twheel_test_random_step(struct kunit *test,
				   struct twheel_wheel *wheel,
				   struct twheel_timer *timers, unsigned int n,
				   u64 *state)
{
	struct twheel_timer *timer = &timers[twheel_test_random(state) % n];
	u64 r = twheel_test_random(state);
	u64 earliest = U64_MAX;
	unsigned int i;

	if (r % 4 == 0)
		twheel_wheel_cancel(wheel, timer);
	else if (r % 4 == 1)
		twheel_test_advance(test, wheel, wheel->now + (r >> 8) % 3000);
	else
		twheel_wheel_arm(wheel, timer,
				 wheel->now + (r >> 8) % (1ULL << (r >> 58)));

	for (i = 0; i < n; i++) {
		if (twheel_timer_pending(&timers[i]) &&
		    timers[i].expires < earliest)
			earliest = timers[i].expires;
	}
	return earliest;
}

static void twheel_wheel_test_next_never_passes_the_earliest_expiry(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer *timers;
	unsigned int i, op, n = 64;
	u64 state = 42;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	for (i = 0; i < n; i++)
		twheel_timer_init(&timers[i]);

	for (op = 0; op < 5000; op++) {
		u64 earliest = twheel_test_random_step(test, wheel, timers, n,
						       &state);

		if (earliest == U64_MAX) {
			KUNIT_ASSERT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
			continue;
		}
		/* A timer armed in the past is due at wheel->now. */
		if (earliest < wheel->now)
			earliest = wheel->now;
		KUNIT_ASSERT_LE(test, twheel_wheel_next(wheel), earliest);
		KUNIT_ASSERT_GE(test, twheel_wheel_next(wheel), wheel->now);
	}
}

/*
 * The earliest expiry of the wheel, found as twheel_wheel_first() says:
 * slots in the order of their first tick, a level at a time, until one
 * starts after the earliest expiry found. Every timer of a slot waits at or
 * after its first tick.
 */
static u64 twheel_test_first_walk(struct kunit *test,
				  struct twheel_wheel *wheel)
{
	struct hlist_head *first;
	unsigned int lvl, way, skip = 0;
	u64 start, best = U64_MAX;

	while ((first = twheel_wheel_first(wheel, skip, &lvl, &start))) {
		if (start > best)
			break;
		KUNIT_EXPECT_FALSE(test, skip & BIT(lvl));
		for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
			struct hlist_node *node;

			for (node = first[way].first; node; node = node->next) {
				struct twheel_timer *timer =
					hlist_entry(node, struct twheel_timer,
						    node);

				KUNIT_EXPECT_GE(test, timer->expires, start);
				if (timer->expires < best)
					best = timer->expires;
			}
		}
		skip |= BIT(lvl);
	}
	return best;
}

static void twheel_wheel_test_first_slots_in_order_hold_the_earliest_timer(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer *timers;
	unsigned int i, lvl, op, n = 64;
	u64 state = 99, start;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	for (i = 0; i < n; i++)
		twheel_timer_init(&timers[i]);
	KUNIT_ASSERT_NULL(test, twheel_wheel_first(wheel, 0, &lvl, &start));

	for (op = 0; op < 5000; op++) {
		u64 earliest = twheel_test_random_step(test, wheel, timers, n,
						       &state);

		if (earliest == U64_MAX) {
			KUNIT_ASSERT_NULL(test, twheel_wheel_first(wheel, 0,
								   &lvl,
								   &start));
			continue;
		}
		/* A timer armed in the past waits at wheel->now. */
		KUNIT_ASSERT_EQ(test, twheel_test_first_walk(test, wheel),
				max(earliest, wheel->now));
	}
}

/*
 * A slot of level 1 that starts at the present overlaps the level-0 slots
 * of its 64 ticks: the slot that starts first need not hold the earliest
 * timer, and the walk must go on to the next level.
 */
static void twheel_wheel_test_a_slot_that_starts_first_may_hold_later_timers(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer late, early;
	struct hlist_head expired = { };
	unsigned int lvl;
	u64 start;

	twheel_timer_init(&late);
	twheel_timer_init(&early);
	twheel_wheel_init(wheel, 564);
	/* From 564, tick 591 is in the next 64-tick block: level 1. */
	twheel_wheel_arm(wheel, &late, 591);
	KUNIT_EXPECT_EQ(test, late.idx / TWHEEL_WHEEL_LVL_SLOTS, 1);
	/* Up to 575: the level-1 slot of 576..639 has not come due. */
	KUNIT_EXPECT_EQ(test, twheel_wheel_advance(wheel, 575, &expired), 0);
	twheel_wheel_arm(wheel, &early, 585);
	KUNIT_EXPECT_EQ(test, early.idx / TWHEEL_WHEEL_LVL_SLOTS, 0);

	KUNIT_ASSERT_NOT_NULL(test, twheel_wheel_first(wheel, 0, &lvl, &start));
	KUNIT_EXPECT_EQ(test, lvl, 1);
	KUNIT_EXPECT_EQ(test, start, 576);
	KUNIT_ASSERT_NOT_NULL(test, twheel_wheel_first(wheel, BIT(1), &lvl,
						       &start));
	KUNIT_EXPECT_EQ(test, lvl, 0);
	KUNIT_EXPECT_EQ(test, start, 585);
	KUNIT_EXPECT_EQ(test, twheel_test_first_walk(test, wheel), 585);
}

static void twheel_wheel_test_advancing_to_next_always_finds_work(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer *timers;
	unsigned int i, wakeups = 0, n = 256;
	u64 state = 7, next;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	for (i = 0; i < n; i++) {
		twheel_timer_init(&timers[i]);
		twheel_wheel_arm(wheel, &timers[i], twheel_test_random(&state) >> 24);
	}

	/* Each wake-up must expire or cascade something: none is wasted. */
	while ((next = twheel_wheel_next(wheel)) != U64_MAX) {
		u64 cascades = wheel->cascades;

		KUNIT_ASSERT_GT(test, twheel_test_advance(test, wheel, next) +
				wheel->cascades - cascades, 0ULL);
		/* Each timer cascades at most once per level above 0. */
		KUNIT_ASSERT_LE(test, ++wakeups, n * TWHEEL_WHEEL_LEVELS);
	}
	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
}

static void twheel_wheel_test_huge_gap_expires_everything_without_cascading(struct kunit *test)
{
	struct twheel_wheel *wheel;
	struct twheel_timer *timers;
	u64 state = 99;
	unsigned int i, n = 1000;

	wheel = test->priv;
	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	for (i = 0; i < n; i++) {
		twheel_timer_init(&timers[i]);
		/* Spread over every level. */
		twheel_wheel_arm(wheel, &timers[i],
				 twheel_test_random(&state) >> (23 + i % 40));
	}

	/* The thread slept for 2^41 ticks: every timer moves exactly once. */
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 1ULL << 41), n);
	KUNIT_EXPECT_EQ(test, wheel->cascades, 0ULL);
	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
}

static void twheel_wheel_test_a_gap_moves_each_timer_at_most_once(struct kunit *test)
{
	static const u64 gaps[] = { 1ULL << 12, 1ULL << 24, 1ULL << 36, 1ULL << 41 };
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer *timers;
	unsigned int i, g, n = 1000;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	for (g = 0; g < ARRAY_SIZE(gaps); g++) {
		u64 state = 5, expired;

		twheel_wheel_init(wheel, 0);
		for (i = 0; i < n; i++) {
			twheel_timer_init(&timers[i]);
			twheel_wheel_arm(wheel, &timers[i],
					 twheel_test_random(&state) >> (22 + i % 40));
		}
		/* Whatever the gap, the work is bounded by the timers, once. */
		expired = twheel_test_advance(test, wheel, gaps[g]);
		KUNIT_EXPECT_LE(test, expired + wheel->cascades, (u64)n);
		twheel_test_check_wheel(test, wheel);
	}
}

static void twheel_wheel_test_clamped_timers_are_requeued_once_per_advance(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	unsigned int i, top_lvl = (TWHEEL_WHEEL_LEVELS - 1) * TWHEEL_WHEEL_LVL_SLOTS;
	u64 top = TWHEEL_WHEEL_LVL_GRAN(TWHEEL_WHEEL_LEVELS - 1);
	struct twheel_timer clamped[8], other;

	/* Top-level slot 1 holds clamped timers, slot 10 another timer. */
	twheel_wheel_init(wheel, 2 * top);
	for (i = 0; i < ARRAY_SIZE(clamped); i++) {
		twheel_timer_init(&clamped[i]);
		twheel_wheel_arm(wheel, &clamped[i], 10 * TWHEEL_WHEEL_MAX_DELTA);
	}
	twheel_timer_init(&other);
	twheel_wheel_arm(wheel, &other, 10 * top + 5);
	KUNIT_ASSERT_EQ(test, clamped[0].idx, top_lvl + 1);
	KUNIT_ASSERT_EQ(test, other.idx, top_lvl + 10);

	/*
	 * A gap past every top-level slot: slot 1 is processed first and its
	 * timers go back to the top level, into slot 10, which this same call
	 * then processes. They must be seen once, not twice.
	 */
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 75 * top - 1), 1U);
	KUNIT_EXPECT_EQ(test, clamped[0].idx, top_lvl + 10);
	KUNIT_EXPECT_EQ(test, wheel->cascades, (u64)ARRAY_SIZE(clamped));
	KUNIT_EXPECT_EQ(test, wheel->count, (unsigned int)ARRAY_SIZE(clamped));
	twheel_test_check_wheel(test, wheel);
}

static void twheel_wheel_test_expired_timer_is_idle_and_can_be_rearmed(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer timer;
	HLIST_HEAD(expired);

	twheel_timer_init(&timer);
	twheel_wheel_arm(wheel, &timer, 20);
	KUNIT_ASSERT_EQ(test, twheel_wheel_advance(wheel, 20, &expired), 1U);
	KUNIT_EXPECT_PTR_EQ(test, expired.first, &timer.node);
	KUNIT_EXPECT_FALSE(test, twheel_timer_pending(&timer));
	/* Cancel leaves it on the caller's list. */
	KUNIT_EXPECT_FALSE(test, twheel_wheel_cancel(wheel, &timer));
	KUNIT_EXPECT_PTR_EQ(test, expired.first, &timer.node);

	hlist_del_init(&timer.node);
	KUNIT_EXPECT_FALSE(test, twheel_wheel_arm(wheel, &timer, 30));
	KUNIT_EXPECT_EQ(test, twheel_test_advance(test, wheel, 30), 1U);
}

static void twheel_wheel_test_random_operations_match_a_reference_model(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	struct twheel_timer *timers;
	u64 *ref;	/* expiry of each armed timer, U64_MAX if idle */
	u64 state = 2024;
	unsigned int i, op, n = TWHEEL_TEST_RANDOM_TIMERS;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	ref = kunit_kcalloc(test, n, sizeof(*ref), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	KUNIT_ASSERT_NOT_NULL(test, ref);
	for (i = 0; i < n; i++) {
		twheel_timer_init(&timers[i]);
		ref[i] = U64_MAX;
	}

	for (op = 0; op < TWHEEL_TEST_RANDOM_OPS; op++) {
		u64 r = twheel_test_random(&state);
		unsigned int id = (r >> 32) % n;
		unsigned int kind = r % 16;
		u64 arg = twheel_test_random(&state);

		if (kind < 7) {
			/* Distances from the past to beyond the range. */
			u64 expires = wheel->now - 8 + (arg >> (arg % 64));

			if (expires == U64_MAX)
				expires--;
			KUNIT_ASSERT_EQ(test, twheel_wheel_arm(wheel, &timers[id], expires),
					ref[id] != U64_MAX);
			ref[id] = expires;
		} else if (kind < 10) {
			KUNIT_ASSERT_EQ(test, twheel_wheel_cancel(wheel, &timers[id]),
					ref[id] != U64_MAX);
			ref[id] = U64_MAX;
		} else {
			unsigned int moved, due = 0;
			HLIST_HEAD(expired);
			u64 now;

			if (kind < 14)
				now = wheel->now + arg % 100;
			else if (kind == 14)
				now = wheel->now + (arg >> (20 + arg % 44));
			else
				now = twheel_wheel_next(wheel);
			if (now == U64_MAX)
				continue;

			for (i = 0; i < n; i++)
				due += ref[i] <= now;
			moved = twheel_wheel_advance(wheel, now, &expired);
			KUNIT_ASSERT_EQ(test, moved, due);
			while (!hlist_empty(&expired)) {
				struct twheel_timer *timer =
					hlist_entry(expired.first, struct twheel_timer, node);

				id = timer - timers;
				KUNIT_ASSERT_LE(test, ref[id], now);
				ref[id] = U64_MAX;
				hlist_del_init(&timer->node);
			}
		}

		if (op % 64 == 0)
			twheel_test_check_wheel(test, wheel);
	}
	twheel_test_check_wheel(test, wheel);
}

/*
 * A slot of many timers, advanced on a small budget: each call moves at most
 * the budget, the wheel says it is busy and that the work is due, and in
 * the end every timer has expired exactly once.
 */
static void twheel_wheel_test_budget_splits_a_big_slot(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	const unsigned int n = 300, budget = 16;
	struct twheel_timer *timers;
	unsigned int i, calls = 0, total = 0;
	bool *seen;

	timers = kunit_kcalloc(test, n, sizeof(*timers), GFP_KERNEL);
	seen = kunit_kcalloc(test, n, sizeof(*seen), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	/* Before: all in the level-1 slot of ticks 64-127. */
	for (i = 0; i < n; i++) {
		twheel_timer_init(&timers[i]);
		twheel_wheel_arm(wheel, &timers[i], 64 + i % 64);
	}
	KUNIT_ASSERT_EQ(test, wheel->pending[1], BIT_ULL(1));

	do {
		u64 cascades = wheel->cascades;
		unsigned int moved;
		HLIST_HEAD(expired);

		moved = twheel_wheel_advance_budget(wheel, 127, &expired,
						    budget);
		KUNIT_EXPECT_LE(test, moved + (wheel->cascades - cascades),
				(u64)budget);
		KUNIT_EXPECT_EQ(test, wheel->now, 128ULL);
		if (twheel_wheel_busy(wheel))
			KUNIT_EXPECT_LT(test, twheel_wheel_next(wheel),
					wheel->now);
		while (!hlist_empty(&expired)) {
			struct twheel_timer *timer =
				hlist_entry(expired.first, struct twheel_timer,
					    node);

			KUNIT_EXPECT_FALSE(test, seen[timer - timers]);
			seen[timer - timers] = true;
			hlist_del_init(&timer->node);
		}
		total += moved;
		KUNIT_ASSERT_LT(test, ++calls, 1000U);
	} while (twheel_wheel_busy(wheel));

	/* After: each once, over as many calls as the budget says. */
	KUNIT_EXPECT_EQ(test, total, n);
	KUNIT_EXPECT_GE(test, calls, (n + budget - 1) / budget);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, seen[i]);
	KUNIT_EXPECT_EQ(test, wheel->count, 0U);
	KUNIT_EXPECT_EQ(test, twheel_wheel_next(wheel), U64_MAX);
}

/*
 * Between two calls of a stopped advance the wheel is in use: a cancelled
 * timer never expires, one re-armed for later waits for its new tick, one
 * armed in the past expires once, and nothing is lost or early.
 */
static void twheel_wheel_test_wheel_is_usable_while_an_advance_is_stopped(struct kunit *test)
{
	struct twheel_wheel *wheel = test->priv;
	unsigned int i, cancelled, rearmed, moved;
	struct twheel_timer *timers, past;
	HLIST_HEAD(expired);

	timers = kunit_kcalloc(test, 64, sizeof(*timers), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, timers);
	/* Before: 64 timers in the level-1 slot of ticks 64-127. */
	for (i = 0; i < 64; i++) {
		twheel_timer_init(&timers[i]);
		twheel_wheel_arm(wheel, &timers[i], 100);
	}
	twheel_timer_init(&past);
	moved = twheel_wheel_advance_budget(wheel, 200, &expired, 2);
	KUNIT_ASSERT_TRUE(test, twheel_wheel_busy(wheel));
	KUNIT_EXPECT_EQ(test, moved, 2U);

	for (cancelled = 0; !twheel_timer_pending(&timers[cancelled]);)
		cancelled++;
	KUNIT_EXPECT_TRUE(test, twheel_wheel_cancel(wheel, &timers[cancelled]));
	for (rearmed = cancelled + 1; !twheel_timer_pending(&timers[rearmed]);)
		rearmed++;
	KUNIT_EXPECT_TRUE(test, twheel_wheel_arm(wheel, &timers[rearmed], 5000));
	/* Already processed: it waits for the next advance. */
	KUNIT_EXPECT_FALSE(test, twheel_wheel_arm(wheel, &past, 150));

	/* After: the other 60 expire, then the past one; never the two. */
	moved += twheel_wheel_advance(wheel, 0, &expired);
	KUNIT_EXPECT_FALSE(test, twheel_wheel_busy(wheel));
	KUNIT_EXPECT_EQ(test, moved, 62U);
	KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&past));
	moved += twheel_wheel_advance(wheel, 201, &expired);
	KUNIT_EXPECT_EQ(test, moved, 63U);
	while (!hlist_empty(&expired)) {
		struct twheel_timer *timer =
			hlist_entry(expired.first, struct twheel_timer, node);

		KUNIT_EXPECT_LE(test, timer->expires, 200ULL);
		KUNIT_EXPECT_PTR_NE(test, timer, &timers[cancelled]);
		KUNIT_EXPECT_PTR_NE(test, timer, &timers[rearmed]);
		hlist_del_init(&timer->node);
	}
	KUNIT_EXPECT_FALSE(test, twheel_timer_pending(&past));
	KUNIT_EXPECT_TRUE(test, twheel_timer_pending(&timers[rearmed]));
	KUNIT_EXPECT_EQ(test, wheel->count, 1U);
	KUNIT_EXPECT_LE(test, twheel_wheel_next(wheel), 5000ULL);
	KUNIT_EXPECT_GE(test, twheel_wheel_next(wheel), wheel->now);
}

static struct kunit_case twheel_wheel_test_cases[] = {
	KUNIT_CASE(twheel_wheel_test_new_wheel_has_nothing_to_do),
	KUNIT_CASE(twheel_wheel_test_arm_makes_an_idle_timer_pending),
	KUNIT_CASE(twheel_wheel_test_rearm_moves_the_only_copy),
	KUNIT_CASE(twheel_wheel_test_rearm_within_a_slot_leaves_the_timer_in_place),
	KUNIT_CASE(twheel_wheel_test_cancel_reports_whether_the_timer_was_pending),
	KUNIT_CASE(twheel_wheel_test_cancelled_timer_never_expires),
	KUNIT_CASE(twheel_wheel_test_timer_never_expires_before_its_tick),
	KUNIT_CASE(twheel_wheel_test_timer_expires_at_its_exact_tick),
	KUNIT_CASE(twheel_wheel_test_timers_due_at_one_tick_expire_in_one_batch),
	KUNIT_CASE(twheel_wheel_test_past_expiry_fires_at_the_next_advance),
	KUNIT_CASE(twheel_wheel_test_going_back_in_time_does_nothing),
	KUNIT_CASE(twheel_wheel_test_cascades_are_exact_across_every_level_boundary),
	KUNIT_CASE(twheel_wheel_test_max_delta_is_queued_without_clamping),
	KUNIT_CASE(twheel_wheel_test_far_timeouts_are_clamped_and_requeued_until_due),
	KUNIT_CASE(twheel_wheel_test_tick_u64_max_is_never_reached),
	KUNIT_CASE(twheel_wheel_test_next_is_exact_within_the_first_level),
	KUNIT_CASE(twheel_wheel_test_next_never_passes_the_earliest_expiry),
	KUNIT_CASE(twheel_wheel_test_first_slots_in_order_hold_the_earliest_timer),
	KUNIT_CASE(twheel_wheel_test_a_slot_that_starts_first_may_hold_later_timers),
	KUNIT_CASE(twheel_wheel_test_advancing_to_next_always_finds_work),
	KUNIT_CASE(twheel_wheel_test_huge_gap_expires_everything_without_cascading),
	KUNIT_CASE(twheel_wheel_test_a_gap_moves_each_timer_at_most_once),
	KUNIT_CASE(twheel_wheel_test_clamped_timers_are_requeued_once_per_advance),
	KUNIT_CASE(twheel_wheel_test_expired_timer_is_idle_and_can_be_rearmed),
	KUNIT_CASE(twheel_wheel_test_random_operations_match_a_reference_model),
	KUNIT_CASE(twheel_wheel_test_budget_splits_a_big_slot),
	KUNIT_CASE(twheel_wheel_test_wheel_is_usable_while_an_advance_is_stopped),
	{}
};

static struct kunit_suite twheel_wheel_test_suite = {
	.name = "twheel_wheel",
	.init = twheel_wheel_test_init,
	.test_cases = twheel_wheel_test_cases,
};

kunit_test_suite(twheel_wheel_test_suite);

MODULE_DESCRIPTION("KUnit tests for the twheel timing wheel");
MODULE_LICENSE("GPL");
