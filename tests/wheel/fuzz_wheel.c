// SPDX-License-Identifier: GPL-2.0
/*
 * Differential fuzz target for the timing wheel (libFuzzer).
 *
 * The input is an operation stream: arm, re-arm, cancel, advance by small,
 * large and huge steps, advance to twheel_wheel_next(). It drives the wheel
 * and a model that is correct by inspection (an array of expiries scanned
 * in full at every step), and every result is compared: the return values,
 * the exact set of timers each advance hands out, the clock, the count, and
 * that twheel_wheel_next() is a lower bound on the earliest expiry at which
 * advancing always finds work. Some advances run on a small budget, with
 * arms and cancels between the pieces. The wheel's invariants are walked
 * after every operation. Any difference aborts, which libFuzzer reports as
 * a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "twheel_wheel.h"

#define FUZZ_TIMERS	64

#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_wheel: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* The model: the first unprocessed tick and each timer's expiry. */
struct fuzz_model {
	u64 now;
	bool armed[FUZZ_TIMERS];
	u64 expires[FUZZ_TIMERS];
};

struct fuzz_input {
	const u8 *data;
	size_t size;
};

static struct twheel_wheel wheel;
static struct twheel_timer timers[FUZZ_TIMERS];
static struct fuzz_model model;
/* Armed while a budgeted advance was stopped: not part of that advance. */
static bool fresh[FUZZ_TIMERS];

/* Little-endian bytes from the input; zeros once it is used up. */
static u64 fuzz_take(struct fuzz_input *in, unsigned int bytes)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->size; i++, in->data++, in->size--)
		v |= (u64)*in->data << (8 * i);
	return v;
}

static u64 fuzz_add_sat(u64 a, u64 b)
{
	return a > U64_MAX - b ? U64_MAX : a + b;
}

static u64 fuzz_sub_sat(u64 a, u64 b)
{
	return a < b ? 0 : a - b;
}

/* A tick near a slot boundary of some level, seen from @now. */
static u64 fuzz_boundary(struct fuzz_input *in, u64 now)
{
	unsigned int shift = TWHEEL_WHEEL_LVL_SHIFT(fuzz_take(in, 1) % 8);
	u64 steps = fuzz_take(in, 1) % 66;
	u64 base = (shift < 64 ? now >> shift : 0) + steps;
	u64 tick = shift < 64 && base <= U64_MAX >> shift ? base << shift : U64_MAX;
	int wiggle = (int)(fuzz_take(in, 1) % 5) - 2;

	return wiggle < 0 ? fuzz_sub_sat(tick, -wiggle) : fuzz_add_sat(tick, wiggle);
}

static u64 fuzz_start(struct fuzz_input *in)
{
	u64 v = fuzz_take(in, 8);

	switch (fuzz_take(in, 1) % 6) {
	case 0:
		return v % 4096;
	case 1:	/* just before a big boundary */
		return fuzz_sub_sat(BIT_ULL(6 * (1 + v % 7)), v >> 60);
	case 2:
		return fuzz_sub_sat(U64_MAX, v % (1ULL << 44));
	case 3:
		return U64_MAX - v % 200;
	default:
		return v;
	}
}

static u64 fuzz_expiry(struct fuzz_input *in, u64 now)
{
	switch (fuzz_take(in, 1) % 9) {
	case 0:
		return fuzz_add_sat(now, fuzz_take(in, 1));
	case 1:
		return fuzz_add_sat(now, fuzz_take(in, 2));
	case 2:
		return fuzz_add_sat(now, fuzz_take(in, 4));
	case 3: {
		u64 v = fuzz_take(in, 8);

		return fuzz_add_sat(now, v >> (fuzz_take(in, 1) % 64));
	}
	case 4:	/* in the past, or now */
		return fuzz_sub_sat(now, fuzz_take(in, 1));
	case 5: {	/* around the clamping distance */
		u64 d = TWHEEL_WHEEL_MAX_DELTA - 4 + fuzz_take(in, 1) % 9;

		return fuzz_add_sat(now, d);
	}
	case 6:
		return U64_MAX - fuzz_take(in, 1) % 4;
	case 7:
		return fuzz_boundary(in, now);
	default:
		return fuzz_take(in, 8);
	}
}

static u64 fuzz_earliest(void)
{
	u64 earliest = U64_MAX;
	unsigned int i;

	for (i = 0; i < FUZZ_TIMERS; i++)
		if (model.armed[i] && model.expires[i] < earliest)
			earliest = model.expires[i];
	return earliest;
}

static unsigned int fuzz_armed(void)
{
	unsigned int i, n = 0;

	for (i = 0; i < FUZZ_TIMERS; i++)
		n += model.armed[i];
	return n;
}

/* Counts the timers of a list an advance holds; checks they are armed. */
static unsigned int fuzz_check_list(const struct hlist_head *head)
{
	struct hlist_node *node;
	unsigned int n = 0;

	for (node = head->first; node; node = node->next) {
		struct twheel_timer *timer =
			hlist_entry(node, struct twheel_timer, node);
		unsigned int id = timer - timers;

		FUZZ_CHECK(id < FUZZ_TIMERS && model.armed[id]);
		FUZZ_CHECK(timer->expires == model.expires[id]);
		FUZZ_CHECK(twheel_timer_pending(timer));
		n++;
	}
	return n;
}

static void fuzz_check_wheel(void)
{
	unsigned int lvl, slot, way, count = 0;

	FUZZ_CHECK(wheel.busy || (!wheel.batch[0].first &&
				  !wheel.batch[1].first &&
				  !wheel.requeue.first));
	for (way = 0; way < TWHEEL_WHEEL_WAYS; way++)
		count += fuzz_check_list(&wheel.batch[way]);
	count += fuzz_check_list(&wheel.requeue);

	for (lvl = 0; lvl < TWHEEL_WHEEL_LEVELS; lvl++) {
		for (slot = 0; slot < TWHEEL_WHEEL_LVL_SLOTS; slot++) {
			unsigned int in_slot = 0;

			for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
				struct hlist_node *node = wheel.slots[lvl][slot][way].first;

				for (; node; node = node->next) {
					struct twheel_timer *timer =
						hlist_entry(node, struct twheel_timer, node);
					unsigned int id = timer - timers;

					FUZZ_CHECK(id < FUZZ_TIMERS && model.armed[id]);
					FUZZ_CHECK(timer->expires == model.expires[id]);
					FUZZ_CHECK(timer->idx == lvl * TWHEEL_WHEEL_LVL_SLOTS + slot);
					in_slot++;
				}
			}
			/* Slots a stopped advance has yet to take are off the bitmap. */
			if (wheel.busy && lvl == wheel.busy_lvl &&
			    (wheel.busy_due & BIT_ULL(slot)))
				FUZZ_CHECK(!(wheel.pending[lvl] & BIT_ULL(slot)) ||
					   in_slot);
			else
				FUZZ_CHECK(!!in_slot ==
					   !!(wheel.pending[lvl] & BIT_ULL(slot)));
			count += in_slot;
		}
	}
	FUZZ_CHECK(count == wheel.count);
	FUZZ_CHECK(count == fuzz_armed());
}

static void fuzz_advance(u64 now)
{
	u64 last = now == U64_MAX ? U64_MAX - 1 : now;
	u64 before = wheel.cascades;
	unsigned int queued = wheel.count;
	unsigned int i, moved, due = 0;
	bool to_next = now == twheel_wheel_next(&wheel);
	HLIST_HEAD(expired);

	if (last >= model.now) {
		for (i = 0; i < FUZZ_TIMERS; i++)
			due += model.armed[i] && model.expires[i] <= last;
	}

	moved = twheel_wheel_advance(&wheel, now, &expired);
	FUZZ_CHECK(moved == due);
	while (!hlist_empty(&expired)) {
		struct twheel_timer *timer =
			hlist_entry(expired.first, struct twheel_timer, node);

		i = timer - timers;
		FUZZ_CHECK(i < FUZZ_TIMERS && model.armed[i]);
		FUZZ_CHECK(model.expires[i] <= last);
		FUZZ_CHECK(!twheel_timer_pending(timer));
		model.armed[i] = false;
		hlist_del_init(&timer->node);
		due--;
	}
	FUZZ_CHECK(due == 0);

	/* Each timer moves at most once per advance, whatever the gap. */
	FUZZ_CHECK(moved + (wheel.cascades - before) <= queued);

	/* Waking up at next() is never a wasted wake-up. */
	if (to_next && now != U64_MAX)
		FUZZ_CHECK(moved + (wheel.cascades - before) > 0);

	if (last >= model.now)
		model.now = last + 1;
	FUZZ_CHECK(wheel.now == model.now);
}

/*
 * Hands out what an advance moved to @expired; each was due by @last (a
 * timer armed in the past while the advance was stopped may be among them).
 */
static unsigned int fuzz_collect(struct hlist_head *expired, u64 last)
{
	unsigned int n = 0;

	while (!hlist_empty(expired)) {
		struct twheel_timer *timer =
			hlist_entry(expired->first, struct twheel_timer, node);
		unsigned int i = timer - timers;

		FUZZ_CHECK(i < FUZZ_TIMERS && model.armed[i]);
		FUZZ_CHECK(model.expires[i] <= last);
		FUZZ_CHECK(!twheel_timer_pending(timer));
		model.armed[i] = false;
		hlist_del_init(&timer->node);
		n++;
	}
	return n;
}

/*
 * An advance to @now in pieces of @budget timers, with an arm, a cancel or
 * nothing between the pieces. It hands out every timer armed before it
 * that was due by @now and was not cancelled or re-armed meanwhile, and
 * nothing that was not due by @now.
 */
static void fuzz_advance_budget(struct fuzz_input *in, u64 now,
				unsigned int budget)
{
	u64 last = now == U64_MAX ? U64_MAX - 1 : now;
	bool forward = last >= model.now;
	HLIST_HEAD(expired);
	unsigned int i, moved;

	for (i = 0; i < FUZZ_TIMERS; i++)
		fresh[i] = false;
	moved = twheel_wheel_advance_budget(&wheel, now, &expired, budget);
	FUZZ_CHECK(fuzz_collect(&expired, last) == moved);
	if (last >= model.now)
		model.now = last + 1;
	FUZZ_CHECK(wheel.now == model.now);

	while (twheel_wheel_busy(&wheel)) {
		unsigned int id = fuzz_take(in, 1) % FUZZ_TIMERS;

		/* The work is due: waking up at next() finds it. */
		FUZZ_CHECK(twheel_wheel_next(&wheel) < wheel.now);
		switch (fuzz_take(in, 1) % 3) {
		case 0: {
			u64 expires = fuzz_expiry(in, wheel.now);

			FUZZ_CHECK(twheel_wheel_arm(&wheel, &timers[id], expires) ==
				   model.armed[id]);
			model.armed[id] = true;
			model.expires[id] = expires;
			fresh[id] = true;
			break;
		}
		case 1:
			FUZZ_CHECK(twheel_wheel_cancel(&wheel, &timers[id]) ==
				   model.armed[id]);
			model.armed[id] = false;
			break;
		}
		fuzz_check_wheel();
		/* An earlier tick only carries the stopped advance on. */
		moved = twheel_wheel_advance_budget(&wheel, fuzz_sub_sat(last, 1),
						    &expired, budget);
		FUZZ_CHECK(fuzz_collect(&expired, last) == moved);
		FUZZ_CHECK(wheel.now == model.now);
	}

	/* Nothing that was due and armed before it is left. */
	for (i = 0; forward && i < FUZZ_TIMERS; i++)
		FUZZ_CHECK(!model.armed[i] || fresh[i] || model.expires[i] > last);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_input in = { data, size };
	unsigned int i;

	model.now = fuzz_start(&in);
	twheel_wheel_init(&wheel, model.now);
	for (i = 0; i < FUZZ_TIMERS; i++) {
		twheel_timer_init(&timers[i]);
		model.armed[i] = false;
	}

	while (in.size) {
		unsigned int op = fuzz_take(&in, 1);
		unsigned int id = fuzz_take(&in, 1) % FUZZ_TIMERS;
		u64 now = wheel.now, next, earliest;

		switch (op % 8) {
		case 0:
		case 1: {
			u64 expires = fuzz_expiry(&in, now);

			FUZZ_CHECK(twheel_wheel_arm(&wheel, &timers[id], expires) ==
				   model.armed[id]);
			FUZZ_CHECK(timers[id].expires == expires);
			model.armed[id] = true;
			model.expires[id] = expires;
			break;
		}
		case 2:
			FUZZ_CHECK(twheel_wheel_cancel(&wheel, &timers[id]) ==
				   model.armed[id]);
			model.armed[id] = false;
			break;
		case 3: {
			u64 to = fuzz_add_sat(now, fuzz_take(&in, 1));
			unsigned int budget = fuzz_take(&in, 1);

			if (budget % 2)
				fuzz_advance(to);
			else
				fuzz_advance_budget(&in, to, 1 + budget / 2 % 8);
			break;
		}
		case 4:
			fuzz_advance(fuzz_add_sat(now, fuzz_take(&in, 2)));
			break;
		case 5: {
			u64 v = fuzz_take(&in, 8);
			u64 to = fuzz_add_sat(now, v >> (fuzz_take(&in, 1) % 64));
			unsigned int budget = fuzz_take(&in, 1);

			if (budget % 2)
				fuzz_advance(to);
			else
				fuzz_advance_budget(&in, to, 1 + budget / 2 % 8);
			break;
		}
		case 6:
			fuzz_advance(twheel_wheel_next(&wheel));
			break;
		default:
			/* Includes going back in time, which must do nothing. */
			fuzz_advance(fuzz_sub_sat(fuzz_boundary(&in, now), 1));
			break;
		}

		/* next(): U64_MAX when idle, else between now and the earliest due tick. */
		next = twheel_wheel_next(&wheel);
		earliest = fuzz_earliest();
		if (!fuzz_armed()) {
			FUZZ_CHECK(next == U64_MAX);
		} else {
			FUZZ_CHECK(next >= wheel.now);
			FUZZ_CHECK(next <= (earliest > wheel.now ? earliest : wheel.now));
		}
		fuzz_check_wheel();
	}
	return 0;
}
