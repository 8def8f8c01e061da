// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the hierarchical timing wheel.
 *
 * This file builds both into the module and, against the stand-in kernel
 * headers of tests/wheel/shim/, as a user-space object for the native
 * tests, fuzzer and benchmark.
 */

/**
 * DOC: Theory of operation
 *
 * The wheel keeps timers on an abstract u64 tick counter; its owner decides
 * what a tick is (twheel's tick is a module parameter, 1 ms by default). It
 * has %TWHEEL_WHEEL_LEVELS (7) levels of 64 slots. A slot of level n covers
 * 64^n consecutive ticks starting at a multiple of 64^n, and a 64-bit
 * bitmap per level records which slots hold timers. Timers are intrusive
 * (&struct twheel_timer is embedded in its owner's structure), so the wheel
 * never allocates.
 *
 * **Placement.** Write ticks in base 64. A timer waits in the level of the
 * most significant digit in which its expiry differs from the first
 * unprocessed tick (``wheel->now``), in the slot named by that digit of its
 * expiry. Finding the level is one fls64() of ``expires ^ now``; queueing is
 * one hlist insertion and one bit set, and cancelling is one hlist deletion
 * and, if the slot became empty, one bit clear: O(1) whatever the number of
 * timers. Each level then reaches 64 times further than the one below it:
 *
 * =====  ==============  ===============  ==================  ==================
 * level  granularity     reaches          at a 1 ms tick      at a 10 us tick
 * =====  ==============  ===============  ==================  ==================
 * 0      1 tick          2^6 ticks        1 ms / 64 ms        10 us / 640 us
 * 1      2^6 ticks       2^12 ticks       64 ms / 4.1 s       640 us / 41 ms
 * 2      2^12 ticks      2^18 ticks       4.1 s / 4.4 min     41 ms / 2.6 s
 * 3      2^18 ticks      2^24 ticks       4.4 min / 4.7 h     2.6 s / 2.8 min
 * 4      2^24 ticks      2^30 ticks       4.7 h / 12.4 days   2.8 min / 3 h
 * 5      2^30 ticks      2^36 ticks       12.4 days / 2.2 y   3 h / 8 days
 * 6      2^36 ticks      2^42 ticks       2.2 y / 139 y       8 days / 1.39 y
 * =====  ==============  ===============  ==================  ==================
 *
 * **Cascading.** A slot above level 0 is processed when time reaches its
 * first tick. Each of its timers then either expires (its tick has been
 * reached) or moves down to the level of the digit in which it now differs
 * from the clock. A timer therefore always ends in the level-0 slot of its
 * own tick: it never expires early, and the wheel adds no lateness at all
 * (a timer is handed out by the advance() call that reaches its tick). The
 * price is that a timer can move up to six times during its life. Timers
 * that are cancelled or re-armed before their slot comes due, the common
 * case for retransmission and idle timeouts, never move; those that do pay
 * for the precision the daemon asked for. Linux's own timer wheel made the
 * other choice (no cascading, timers late by up to about 12.5% of their
 * timeout), which suits kernel timeouts but not a protocol's
 * retransmission timer.
 *
 * **Two chains per slot.** A slot is two lists, filled in turn. Walking a
 * list is a chain of dependent loads; with a million timers each one is a
 * cache miss, and a slot's timers are cascaded and expired one chain after
 * the other. Walking two chains in step keeps two misses in flight, which
 * is where the time goes when a large wheel cascades (measured in
 * ``make bench-wheel``, see Documentation/wheel.rst). Arming, cancelling and
 * the bitmaps are unchanged: a slot's bit is set while either list holds a
 * timer.
 *
 * **Invariant.** Every queued timer waits in a slot whose first tick has not
 * been processed, and within one level the queued timers span at most 64
 * consecutive slot-sized ranges, starting with the first unprocessed one.
 * A slot index therefore names exactly one range of ticks, and bitmaps can
 * be read as rotated by the position of the first unprocessed slot.
 *
 * **Next expiry.** For each level, rotate the bitmap so that bit 0 is the
 * first unprocessed slot and take its lowest set bit: the first tick of that
 * slot is the earliest tick at which the level has work (an expiry at level
 * 0, a cascade above). The minimum over the levels is never later than the
 * earliest expiry. That is seven bit scans: no slot is walked and there is
 * no cached value that could go stale.
 *
 * **Advancing over a gap.** At each level, the slots whose first tick lies in
 * the interval being processed form one cyclic run of bits, computed as a
 * mask. Only the set bits of ``pending & mask`` are visited and each of them
 * holds at least one timer that moves, so advancing costs O(levels + timers
 * expired + timers cascaded), whether the gap is one tick or ten years.
 * Timers whose tick lies in the gap are handed out directly, without
 * cascading first.
 *
 * **Advancing on a budget.** One slot can hold a great many timers (a
 * million connections whose timeouts fall in the same level-2 slot), and
 * moving them is work done under the wheel owner's lock.
 * twheel_wheel_advance_budget() therefore stops after a given number of
 * timers, keeping where it was in the wheel (the level, the slots still to
 * take, the timers of the slot it was taking), and carries on at the next
 * call; the owner lets its lock go in between. The clock has already moved
 * on, so a timer armed meanwhile is queued as if the advance were done. It
 * can still land in a slot the advance has yet to take, when the interval
 * is long enough for a slot index to name two of its ranges: then the
 * advance expires it if its tick was in the interval (it was due) and
 * queues it again otherwise. twheel_wheel_next() reports the work as due
 * now until the advance is finished.
 *
 * **Range and clamping.** A timer more than %TWHEEL_WHEEL_MAX_DELTA
 * (2^42 - 1) ticks away waits in the top level as if it expired at
 * ``now + TWHEEL_WHEEL_MAX_DELTA``, keeping its true expiry; when that slot
 * comes due it is queued again from the new ``now``. It is never wrapped,
 * shortened or dropped. A timer armed for a tick that has already been
 * processed is queued for ``now`` and expires at the next advance. Tick
 * U64_MAX is never processed (advance stops at U64_MAX - 1), so a timer
 * armed for U64_MAX stays pending until it is cancelled: it means "never".
 */

#include "twheel_wheel.h"

static_assert(sizeof(struct twheel_timer) <= 32,
	      "struct twheel_timer is embedded in every connection's timers");
static_assert(TWHEEL_WHEEL_LEVELS * TWHEEL_WHEEL_LVL_SLOTS < TWHEEL_TIMER_IDLE,
	      "slot indices must not collide with the idle marker");
static_assert(TWHEEL_WHEEL_RANGE_BITS < 64,
	      "the top level must not cover the whole tick space");
static_assert(TWHEEL_WHEEL_WAYS == 2,
	      "twheel_wheel_advance() walks a slot's two lists in step");

/*
 * The tick whose slot a timer armed for @expires waits in: @expires itself,
 * or wheel->now for a tick already processed, or the farthest tick the top
 * level can hold without ambiguity.
 */
static u64 twheel_wheel_key(const struct twheel_wheel *wheel, u64 expires)
{
	u64 now = wheel->now;

	if (expires <= now)
		return now;
	if (expires - now > TWHEEL_WHEEL_MAX_DELTA)
		return now + TWHEEL_WHEEL_MAX_DELTA;
	return expires;
}

/* Level and slot, as a twheel_timer.idx, of @key (>= @now) seen from @now. */
static unsigned int twheel_wheel_idx(u64 now, u64 key)
{
	unsigned int lvl;

	/* OR-ing the low digit in puts keys of the current 64-tick block at level 0. */
	lvl = (fls64((key ^ now) | TWHEEL_WHEEL_LVL_MASK) - 1) /
	      TWHEEL_WHEEL_LVL_BITS;
	if (lvl >= TWHEEL_WHEEL_LEVELS)
		lvl = TWHEEL_WHEEL_LEVELS - 1;

	return lvl * TWHEEL_WHEEL_LVL_SLOTS +
	       ((key >> TWHEEL_WHEEL_LVL_SHIFT(lvl)) & TWHEEL_WHEEL_LVL_MASK);
}

/* Level and slot, as a twheel_timer.idx, of a timer armed for @expires now. */
static unsigned int twheel_wheel_place(const struct twheel_wheel *wheel,
				       u64 expires)
{
	return twheel_wheel_idx(wheel->now, twheel_wheel_key(wheel, expires));
}

/*
 * The first slot-sized range of level @lvl that starts at or after @now,
 * numbered from tick 0: ceil(now / 64^lvl). Its slot is the first one not
 * yet processed.
 */
static u64 twheel_wheel_first_range(u64 now, unsigned int lvl)
{
	unsigned int shift = TWHEEL_WHEEL_LVL_SHIFT(lvl);

	return (now >> shift) + !!(now & (BIT_ULL(shift) - 1));
}

static void twheel_wheel_enqueue(struct twheel_wheel *wheel,
				 struct twheel_timer *timer, unsigned int idx)
{
	unsigned int lvl = idx / TWHEEL_WHEEL_LVL_SLOTS;
	unsigned int slot = idx % TWHEEL_WHEEL_LVL_SLOTS;

	/* Alternate between the slot's chains: they stay equally long. */
	hlist_add_head(&timer->node,
		       &wheel->slots[lvl][slot][wheel->turn++ % TWHEEL_WHEEL_WAYS]);
	wheel->pending[lvl] |= BIT_ULL(slot);
	timer->idx = idx;
}

static bool twheel_wheel_slot_empty(const struct hlist_head *ways)
{
	unsigned int way;

	for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
		if (!hlist_empty(&ways[way]))
			return false;
	}
	return true;
}

/* Unlinks @timer from its slot; the caller sets its new idx. */
static void twheel_wheel_dequeue(struct twheel_wheel *wheel,
				 struct twheel_timer *timer)
{
	unsigned int lvl = timer->idx / TWHEEL_WHEEL_LVL_SLOTS;
	unsigned int slot = timer->idx % TWHEEL_WHEEL_LVL_SLOTS;

	__hlist_del(&timer->node);
	if (twheel_wheel_slot_empty(wheel->slots[lvl][slot]))
		wheel->pending[lvl] &= ~BIT_ULL(slot);
}

/**
 * twheel_wheel_init() - initialise an empty wheel
 * @wheel: the wheel
 * @now: the first tick to be processed
 *
 * Context: any; the wheel must not be in use. O(levels x slots).
 */
void twheel_wheel_init(struct twheel_wheel *wheel, u64 now)
{
	unsigned int lvl, slot, way;

	wheel->now = now;
	wheel->count = 0;
	wheel->cascades = 0;
	wheel->turn = 0;
	wheel->busy = false;
	for (way = 0; way < TWHEEL_WHEEL_WAYS; way++)
		INIT_HLIST_HEAD(&wheel->batch[way]);
	INIT_HLIST_HEAD(&wheel->requeue);
	for (lvl = 0; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
		wheel->pending[lvl] = 0;
		for (slot = 0; slot < TWHEEL_WHEEL_LVL_SLOTS; slot++) {
			for (way = 0; way < TWHEEL_WHEEL_WAYS; way++)
				INIT_HLIST_HEAD(&wheel->slots[lvl][slot][way]);
		}
	}
}

/**
 * twheel_wheel_arm() - arm or re-arm a timer
 * @wheel: the wheel
 * @timer: the timer, initialised with twheel_timer_init(); if it is pending,
 *	on @wheel; if twheel_wheel_advance() handed it out, already taken off
 *	the caller's list (hlist_del_init())
 * @expires: the tick at which it expires; a tick before or at ``wheel->now``
 *	means "at the next advance"
 *
 * Re-arming a pending timer replaces its expiry; if the new expiry falls in
 * the slot the timer already waits in, only the expiry is updated.
 *
 * Context: the wheel's lock held. O(1): a level computation and at most one
 * hlist deletion and one insertion.
 * Return: true if @timer was pending (it has been re-armed), false if it
 * was idle.
 */
bool twheel_wheel_arm(struct twheel_wheel *wheel, struct twheel_timer *timer,
		      u64 expires)
{
	unsigned int idx = twheel_wheel_place(wheel, expires);
	bool was_pending = twheel_timer_pending(timer);

	timer->expires = expires;
	if (was_pending) {
		if (timer->idx == idx)
			return true;
		twheel_wheel_dequeue(wheel, timer);
	} else {
		wheel->count++;
	}
	twheel_wheel_enqueue(wheel, timer, idx);

	return was_pending;
}

/**
 * twheel_wheel_cancel() - cancel a timer
 * @wheel: the wheel
 * @timer: the timer; if it is pending, on @wheel
 *
 * An idle timer is left untouched; in particular a timer that
 * twheel_wheel_advance() handed out stays on the caller's list.
 *
 * Context: the wheel's lock held. O(1): one hlist deletion.
 * Return: true if @timer was pending (it will not expire), false if not.
 */
bool twheel_wheel_cancel(struct twheel_wheel *wheel,
			 struct twheel_timer *timer)
{
	if (!twheel_timer_pending(timer))
		return false;

	twheel_wheel_dequeue(wheel, timer);
	INIT_HLIST_NODE(&timer->node);
	timer->idx = TWHEEL_TIMER_IDLE;
	wheel->count--;

	return true;
}

/*
 * The slot with the earliest work among the levels not in @skip (a bit per
 * level), as level * TWHEEL_WHEEL_LVL_SLOTS + slot, and its first tick in
 * @tick; TWHEEL_TIMER_IDLE and U64_MAX if none.
 */
static unsigned int twheel_wheel_first_slot(const struct twheel_wheel *wheel,
					    unsigned int skip, u64 *tick)
{
	unsigned int lvl, idx = TWHEEL_TIMER_IDLE;
	u64 next = U64_MAX;

	for (lvl = 0; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
		u64 pending = wheel->pending[lvl];
		u64 first, range;

		if (!pending || (skip & BIT(lvl)))
			continue;

		first = twheel_wheel_first_range(wheel->now, lvl);
		range = first + __ffs64(ror64(pending, first &
						      TWHEEL_WHEEL_LVL_MASK));
		range <<= TWHEEL_WHEEL_LVL_SHIFT(lvl);
		if (range < next) {
			next = range;
			idx = lvl * TWHEEL_WHEEL_LVL_SLOTS +
			      ((range >> TWHEEL_WHEEL_LVL_SHIFT(lvl)) &
			       TWHEEL_WHEEL_LVL_MASK);
		}
	}

	*tick = next;
	return idx;
}

/**
 * twheel_wheel_next() - the next tick at which the wheel has work
 * @wheel: the wheel
 *
 * The result is the earliest tick whose processing by twheel_wheel_advance()
 * expires a timer or moves one down a level. It is never later than the
 * earliest expiry (nor earlier than ``wheel->now``); sleeping until it and
 * advancing to it therefore never makes a timer late. While an advance is
 * stopped part-way (twheel_wheel_busy()), it is the last tick that advance
 * processes, which has passed: the work is due now.
 *
 * Context: the wheel's lock held. O(levels): one bit scan per level.
 * Return: that tick, or U64_MAX when no timer is pending (or when the only
 * work left is at tick U64_MAX, which is never processed).
 */
u64 twheel_wheel_next(const struct twheel_wheel *wheel)
{
	u64 next;

	if (wheel->busy)
		return wheel->busy_to;
	twheel_wheel_first_slot(wheel, 0, &next);
	return next;
}

/**
 * twheel_wheel_first() - the earliest slot with timers, among some levels
 * @wheel: the wheel
 * @skip: levels to leave out, one bit per level
 * @lvl: out: the level of the slot
 * @tick: out: the first tick of the slot
 *
 * Of the first pending slot of each level not in @skip, the one whose first
 * tick comes first: no timer of those levels expires before @tick. Slots of
 * different levels overlap, though: a slot of level 1 that starts at the
 * present may hold timers later than a slot of level 0 within the same 64
 * ticks. So the earliest timer is in the slot returned, or in a slot
 * returned when the call is repeated with that level skipped, up to the
 * first one whose @tick is past the earliest expiry found. The caller may
 * walk a slot's lists and re-arm or cancel the timers it finds (with the
 * walk's _safe form): a timer re-armed for a later tick leaves the slot.
 *
 * Context: the wheel's lock held, and no advance stopped part-way (the
 * slots it names would not hold the earliest timers). O(levels): one bit
 * scan per level.
 * Return: the slot's %TWHEEL_WHEEL_WAYS lists, or NULL when no level
 * outside @skip has a timer pending (or only timers armed for tick
 * U64_MAX, which never expire).
 */
struct hlist_head *twheel_wheel_first(struct twheel_wheel *wheel,
				      unsigned int skip, unsigned int *lvl,
				      u64 *tick)
{
	unsigned int idx;

	idx = twheel_wheel_first_slot(wheel, skip, tick);
	if (idx == TWHEEL_TIMER_IDLE)
		return NULL;
	*lvl = idx / TWHEEL_WHEEL_LVL_SLOTS;
	return wheel->slots[*lvl][idx % TWHEEL_WHEEL_LVL_SLOTS];
}

/*
 * Takes the first timer off @batch, a slot of level @lvl being processed:
 * onto @expired if it is due by @now (returns 1), else down a level, or
 * onto the wheel's requeue list if it comes back to @lvl (a clamped timer
 * in the top level).
 */
static __always_inline unsigned int
twheel_wheel_move(struct twheel_wheel *wheel, struct hlist_head *batch,
		  unsigned int lvl, u64 now, struct hlist_head *expired)
{
	struct twheel_timer *timer = hlist_entry(batch->first,
						 struct twheel_timer, node);
	unsigned int idx;

	__hlist_del(&timer->node);
	if (timer->expires <= now) {
		timer->idx = TWHEEL_TIMER_IDLE;
		hlist_add_head(&timer->node, expired);
		wheel->count--;
		return 1;
	}

	wheel->cascades++;
	idx = twheel_wheel_place(wheel, timer->expires);
	/*
	 * Only a clamped timer can come back to the level being processed
	 * (the top one); queue it once this level is done so that it cannot
	 * be seen twice.
	 */
	if (idx / TWHEEL_WHEEL_LVL_SLOTS < lvl)
		twheel_wheel_enqueue(wheel, timer, idx);
	else
		hlist_add_head(&timer->node, &wheel->requeue);
	return 0;
}

/*
 * The slots of @lvl whose first tick lies in [@from, @to] and that hold
 * timers, in @due. Returns false if neither @lvl nor any level above has a
 * slot starting there: every slot start of a higher level is one of this
 * level too.
 */
static __always_inline bool twheel_wheel_due(const struct twheel_wheel *wheel,
					     u64 from, u64 to,
					     unsigned int lvl, u64 *due)
{
	u64 first = twheel_wheel_first_range(from, lvl);
	u64 last = to >> TWHEEL_WHEEL_LVL_SHIFT(lvl);
	u64 mask;

	if (last < first)
		return false;
	*due = 0;
	if (!wheel->pending[lvl])
		return true;
	if (last - first >= TWHEEL_WHEEL_LVL_MASK)
		mask = ~0ULL;
	else
		mask = rol64(BIT_ULL(last - first + 1) - 1,
			     first & TWHEEL_WHEEL_LVL_MASK);
	*due = mask & wheel->pending[lvl];
	return true;
}

/* Queues again the clamped timers an advance took, at most @left of them. */
static unsigned int twheel_wheel_requeue(struct twheel_wheel *wheel,
					 unsigned int left)
{
	struct twheel_timer *timer;

	while (!hlist_empty(&wheel->requeue) && left) {
		timer = hlist_entry(wheel->requeue.first, struct twheel_timer,
				    node);
		__hlist_del(&timer->node);
		twheel_wheel_enqueue(wheel, timer,
				     twheel_wheel_place(wheel, timer->expires));
		left--;
	}
	return left;
}

/*
 * Carries on the advance described by @wheel->busy_*, moving at most
 * @*budget timers; clears @wheel->busy when it is done. Returns the number
 * of timers moved onto @expired.
 */
static unsigned int twheel_wheel_run(struct twheel_wheel *wheel,
				     struct hlist_head *expired,
				     unsigned int *budget)
{
	struct hlist_head *batch = wheel->batch;
	unsigned int lvl = wheel->busy_lvl, left = *budget, moved = 0;
	u64 now = wheel->busy_to, due = wheel->busy_due;

	while (lvl < TWHEEL_WHEEL_LEVELS) {
		/*
		 * Walk the two chains in step: the next timer of each is an
		 * independent load, so their cache misses overlap instead of
		 * adding up.
		 */
		while (batch[0].first && batch[1].first && left >= 2) {
			moved += twheel_wheel_move(wheel, &batch[0], lvl, now,
						   expired);
			moved += twheel_wheel_move(wheel, &batch[1], lvl, now,
						   expired);
			left -= 2;
		}
		while (batch[0].first && left) {
			moved += twheel_wheel_move(wheel, &batch[0], lvl, now,
						   expired);
			left--;
		}
		while (batch[1].first && left) {
			moved += twheel_wheel_move(wheel, &batch[1], lvl, now,
						   expired);
			left--;
		}
		if (batch[0].first || batch[1].first)
			goto out;

		if (due) {
			unsigned int slot = __ffs64(due);

			due &= due - 1;
			hlist_move_list(&wheel->slots[lvl][slot][0], &batch[0]);
			hlist_move_list(&wheel->slots[lvl][slot][1], &batch[1]);
			/* An arm while the advance was stopped may have set it. */
			wheel->pending[lvl] &= ~BIT_ULL(slot);
			continue;
		}
		if (++lvl == TWHEEL_WHEEL_LEVELS)
			break;
		if (!twheel_wheel_due(wheel, wheel->busy_from, now, lvl,
				      &due)) {
			lvl = TWHEEL_WHEEL_LEVELS;
			break;
		}
		wheel->pending[lvl] &= ~due;
	}

	left = twheel_wheel_requeue(wheel, left);
	if (hlist_empty(&wheel->requeue))
		wheel->busy = false;
out:
	wheel->busy_lvl = lvl;
	wheel->busy_due = due;
	*budget = left;
	return moved;
}

/**
 * twheel_wheel_advance_budget() - process ticks up to @now, or some of them
 * @wheel: the wheel
 * @now: the last tick to process; U64_MAX is treated as U64_MAX - 1
 * @expired: list onto which expired timers are moved
 * @budget: the most timers to move (expire, cascade or queue again); at
 *	least one
 *
 * As twheel_wheel_advance(), but it stops once it has moved @budget timers,
 * with ``wheel->now`` already past @now and twheel_wheel_busy() true. The
 * wheel stays usable meanwhile: timers can be armed, re-armed and
 * cancelled, and twheel_wheel_next() says the work is due now (but
 * twheel_wheel_first() must not be called). Every later call carries on the
 * stopped advance first, whatever its @now, then starts the next one if
 * @now is further. So a caller that holds the wheel's lock can let it go
 * between calls, and a slot of a million timers is never moved in one go.
 *
 * Context: the wheel's lock held. O(levels + @budget).
 * Return: the number of timers moved onto @expired.
 */
unsigned int twheel_wheel_advance_budget(struct twheel_wheel *wheel, u64 now,
					 struct hlist_head *expired,
					 unsigned int budget)
{
	unsigned int moved = 0;

	if (now == U64_MAX)
		now = U64_MAX - 1;
	if (!budget)
		budget = 1;

	for (;;) {
		if (!wheel->busy) {
			if (now < wheel->now)
				break;
			wheel->busy = true;
			wheel->busy_from = wheel->now;
			wheel->busy_to = now;
			wheel->busy_lvl = 0;
			/* Everything below queues relative to the new clock. */
			wheel->now = now + 1;
			twheel_wheel_due(wheel, wheel->busy_from, now, 0,
					 &wheel->busy_due);
			wheel->pending[0] &= ~wheel->busy_due;
		}
		moved += twheel_wheel_run(wheel, expired, &budget);
		if (wheel->busy)
			break;
	}
	return moved;
}

/**
 * twheel_wheel_advance() - process every tick up to and including @now
 * @wheel: the wheel
 * @now: the last tick to process; U64_MAX is treated as U64_MAX - 1
 * @expired: list onto which expired timers are moved
 *
 * Moves every pending timer whose expiry is at or before @now onto the head
 * of @expired, in no particular order; the caller then owns them and they
 * are no longer pending. Timers that are not due yet but whose slot was
 * reached move down a level (or, beyond the range, are queued again).
 * Afterwards ``wheel->now`` is @now + 1. Going back in time (@now before
 * ``wheel->now``) does nothing, except finish an advance that
 * twheel_wheel_advance_budget() left part-way.
 *
 * Context: the wheel's lock held. O(levels + expired + cascaded): the length
 * of the interval does not matter, only the timers that move.
 * Return: the number of timers moved onto @expired.
 */
unsigned int twheel_wheel_advance(struct twheel_wheel *wheel, u64 now,
				  struct hlist_head *expired)
{
	unsigned int moved = 0;

	do {
		moved += twheel_wheel_advance_budget(wheel, now, expired,
						     U32_MAX);
	} while (twheel_wheel_busy(wheel));
	return moved;
}
