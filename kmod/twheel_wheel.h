/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: the hierarchical timing wheel. Its theory of operation is the
 * DOC block at the top of twheel_wheel.c.
 */
#ifndef _TWHEEL_WHEEL_H
#define _TWHEEL_WHEEL_H

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/prefetch.h>
#include <linux/types.h>

/* Geometry: TWHEEL_WHEEL_LEVELS levels of 64 slots, level n slots 64^n ticks wide. */
#define TWHEEL_WHEEL_LVL_BITS	6
#define TWHEEL_WHEEL_LVL_SLOTS	BIT(TWHEEL_WHEEL_LVL_BITS)
#define TWHEEL_WHEEL_LVL_MASK	(TWHEEL_WHEEL_LVL_SLOTS - 1)
#define TWHEEL_WHEEL_LEVELS	7
/* Each slot is this many lists, filled in turn and walked in step. */
#define TWHEEL_WHEEL_WAYS	2
#define TWHEEL_WHEEL_LVL_SHIFT(lvl)	((lvl) * TWHEEL_WHEEL_LVL_BITS)
#define TWHEEL_WHEEL_LVL_GRAN(lvl)	BIT_ULL(TWHEEL_WHEEL_LVL_SHIFT(lvl))
/* 2^42 ticks: 139 years at a 1 ms tick, 1.39 years at a 10 us tick. */
#define TWHEEL_WHEEL_RANGE_BITS	(TWHEEL_WHEEL_LEVELS * TWHEEL_WHEEL_LVL_BITS)
/*
 * The longest distance from wheel->now that is queued directly. A timer
 * further away waits in the top level at now + TWHEEL_WHEEL_MAX_DELTA and is
 * queued again from there; its expiry is kept, never wrapped or shortened.
 */
#define TWHEEL_WHEEL_MAX_DELTA	(BIT_ULL(TWHEEL_WHEEL_RANGE_BITS) - 1)

/* twheel_timer.idx of a timer that is not queued on any wheel */
#define TWHEEL_TIMER_IDLE	U32_MAX

/**
 * struct twheel_timer - a timer, embedded in its owner's structure
 * @node: links the timer into a wheel slot while it is pending; once
 *	twheel_wheel_advance() has expired it, into the caller's list of
 *	expired timers
 * @expires: absolute tick at which the timer expires
 * @idx: the slot it waits in (level * %TWHEEL_WHEEL_LVL_SLOTS + slot), or
 *	%TWHEEL_TIMER_IDLE when it is not queued on a wheel
 *
 * A timer belongs to at most one wheel at a time and is protected by the
 * lock that protects that wheel. The wheel never allocates: the memory of a
 * timer is its owner's.
 */
struct twheel_timer {
	struct hlist_node node;
	u64 expires;
	u32 idx;
};

/**
 * struct twheel_wheel - a hierarchical timing wheel over a u64 tick counter
 * @now: the first tick not yet processed: every tick < @now has been
 *	processed by twheel_wheel_advance()
 * @pending: per level, bit n is set if and only if slot n of that level is
 *	not empty
 * @count: number of timers queued on the wheel
 * @cascades: number of times a timer was moved to a lower level (or queued
 *	again after clamping) instead of expiring; a statistic
 * @turn: which of a slot's lists the next timer queued goes to
 * @busy: an advance stopped part-way, on its budget; the fields below
 *	describe it and twheel_wheel_advance_budget() carries it on
 * @busy_lvl: the level it was processing
 * @busy_from: the first tick it processes
 * @busy_to: the last tick it processes (``now`` is already past it)
 * @busy_due: the slots of @busy_lvl still to be taken
 * @batch: the timers of the slot it was taking, still to be moved; they
 *	keep the idx of that slot
 * @requeue: clamped timers it took from the top level, queued again last
 * @slots: per level and slot, the lists of the timers waiting there
 *
 * The wheel does no locking and never sleeps or allocates: every call on a
 * wheel, and on the timers queued on it, must be serialised by its owner.
 * twheel keeps one wheel per CPU and protects it with that CPU's lock.
 */
struct twheel_wheel {
	u64 now;
	u64 pending[TWHEEL_WHEEL_LEVELS];
	unsigned int count;
	u64 cascades;
	unsigned int turn;
	bool busy;
	unsigned int busy_lvl;
	u64 busy_from;
	u64 busy_to;
	u64 busy_due;
	struct hlist_head batch[TWHEEL_WHEEL_WAYS];
	struct hlist_head requeue;
	struct hlist_head slots[TWHEEL_WHEEL_LEVELS][TWHEEL_WHEEL_LVL_SLOTS]
			       [TWHEEL_WHEEL_WAYS];
};

/**
 * twheel_wheel_busy() - did an advance stop part-way on its budget?
 * @wheel: the wheel
 *
 * Context: the wheel's lock held.
 * Return: true until twheel_wheel_advance_budget() has finished it.
 */
static inline bool twheel_wheel_busy(const struct twheel_wheel *wheel)
{
	return wheel->busy;
}

/**
 * twheel_timer_init() - prepare a timer for its first arming
 * @timer: the timer
 *
 * Context: any; O(1).
 */
static inline void twheel_timer_init(struct twheel_timer *timer)
{
	INIT_HLIST_NODE(&timer->node);
	timer->expires = 0;
	timer->idx = TWHEEL_TIMER_IDLE;
}

/**
 * twheel_timer_pending() - is the timer queued on a wheel?
 * @timer: the timer
 *
 * A timer that twheel_wheel_advance() moved to the caller's list is no
 * longer pending.
 *
 * Context: the wheel's lock if the timer may be queued; O(1).
 * Return: true if @timer is armed and has not expired or been cancelled.
 */
static inline bool twheel_timer_pending(const struct twheel_timer *timer)
{
	return timer->idx != TWHEEL_TIMER_IDLE;
}

/**
 * twheel_timer_prefetch_unlink() - warm what taking a timer off its list writes
 * @timer: a timer, hot in the cache
 *
 * Cancelling or moving a pending timer writes its two neighbours on its
 * slot's list: two cache misses per timer among many. A caller with a batch
 * of timers to take off calls this on each first, so that the misses of
 * the whole batch overlap. Only a hint: it changes nothing.
 *
 * Context: the wheel's lock (it reads @timer's links).
 */
static inline void twheel_timer_prefetch_unlink(const struct twheel_timer *timer)
{
	if (twheel_timer_pending(timer)) {
		prefetchw(timer->node.next);
		prefetchw(timer->node.pprev);
	}
}

void twheel_wheel_init(struct twheel_wheel *wheel, u64 now);
bool twheel_wheel_arm(struct twheel_wheel *wheel, struct twheel_timer *timer,
		      u64 expires);
bool twheel_wheel_cancel(struct twheel_wheel *wheel,
			 struct twheel_timer *timer);
u64 twheel_wheel_next(const struct twheel_wheel *wheel);
struct hlist_head *twheel_wheel_first(struct twheel_wheel *wheel,
				      unsigned int skip, unsigned int *lvl,
				      u64 *tick);
unsigned int twheel_wheel_advance(struct twheel_wheel *wheel, u64 now,
				  struct hlist_head *expired);
unsigned int twheel_wheel_advance_budget(struct twheel_wheel *wheel, u64 now,
					 struct hlist_head *expired,
					 unsigned int budget);

#endif /* _TWHEEL_WHEEL_H */
