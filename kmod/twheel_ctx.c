// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the timer context of one open file: its life, the batches applied
 * to it, its expiry, the earliest deadline and the events read() takes.
 */

/**
 * DOC: The file context
 *
 * Each open file of /dev/twheel has a &struct twheel_ctx: its connections
 * (twheel_conn.c), a wheel of them by the tick of their earliest deadline,
 * the list of connections with events to read, and the counters it reports.
 * It lives from open() to the last of release() and the expiry thread's
 * reference.
 *
 * **Batches.** An arm batch is applied in chunks of %TWHEEL_BATCH_CHUNK
 * entries, each checked first in one place (twheel_cmd.c); then, without
 * the spinlock, every valid entry's connection is found or created
 * (twheel_ctx_arm_find()) and given room for a new kind
 * (twheel_ctx_arm_reserve()); then the chunk is applied under the spinlock,
 * the file's CPU timer updated once, and connections the chunk created but
 * did not arm are given back (__twheel_ctx_arm_apply()). An entry that
 * fails stops the batch; the entries before it stay applied.
 *
 * **Expiry.** The expiry thread of the file's CPU calls twheel_ctx_expire()
 * when the file's wheel has work: it advances the wheel a budget at a time,
 * fires what is due, queues again the connections with kinds left armed,
 * and wakes the readers once per lock hold.
 *
 * **The earliest deadline.** __twheel_ctx_next() answers TWHEEL_IOC_NEXT
 * exactly, from a cached answer that arming keeps up to date and anything
 * that removes the timer it names invalidates.
 */

#include <linux/err.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "twheel_counters.h"
#include "twheel_cpu.h"
#include "twheel_ctx.h"

/*
 * Connections the thread delivers before it looks whether someone waits for
 * the file's lock or its CPU: a batch this size is one lock hold and one
 * wake-up, a larger one lets readers and ioctls in between chunks.
 */
#define TWHEEL_EXPIRE_CHUNK	256

/*
 * Connections delivered, or timers moved by the wheel, in one turn of the
 * thread for one file: past that, the other files due on the CPU go first.
 */
#define TWHEEL_EXPIRE_TURN	1024

/* Connections NEXT looks at between two chances to let the lock go. */
#define TWHEEL_NEXT_BUDGET	256

/**
 * __twheel_ctx_charge() - count more timers against the limits
 * @ctx: the file
 * @nr: how many
 *
 * Context: @ctx->wqh.lock held.
 * Return: true if they fit in the file's quota, its user's limit (unless
 * the file is exempt) and the system's cap; false, counting nothing, if
 * not.
 */
bool __twheel_ctx_charge(struct twheel_ctx *ctx, unsigned long nr)
{
	lockdep_assert_held(&ctx->wqh.lock);

	if (ctx->nr_armed + ctx->nr_queued + nr > READ_ONCE(twheel_quota))
		return false;
	if (!twheel_user_charge(ctx->user, nr, ctx->unlimited))
		return false;
	if (atomic_long_add_return(nr, &twheel_nr_timers) >
	    READ_ONCE(twheel_max_timers)) {
		atomic_long_sub(nr, &twheel_nr_timers);
		twheel_user_uncharge(ctx->user, nr);
		return false;
	}
	return true;
}

/**
 * twheel_ctx_uncharge() - give back what __twheel_ctx_charge() counted
 * @ctx: the file
 * @nr: timers cancelled, or events read
 *
 * Context: any.
 */
void twheel_ctx_uncharge(struct twheel_ctx *ctx, unsigned long nr)
{
	atomic_long_sub(nr, &twheel_nr_timers);
	twheel_user_uncharge(ctx->user, nr);
}

/*
 * Adds a chunk's cancels to the counters and gives back their timers, in
 * the lock hold that cancelled them: the gauges then move with the file's
 * state, as the expiry thread's do.
 */
static void twheel_ctx_tally_cancels(struct twheel_ctx *ctx,
				     const struct twheel_tally *tally)
{
	if (tally->removed)
		twheel_ctx_uncharge(ctx, tally->removed);
	if (tally->cancels) {
		twheel_counter_add(TWHEEL_CTR_CANCELS, tally->cancels);
		twheel_counter_add(TWHEEL_CTR_TIMERS_ARMED,
				   -(long)tally->cancels);
	}
}

/*
 * Finds or creates the connection of each of the chunk's @n valid arm
 * entries and notes the kind each may gain. Returns how many it found; if
 * fewer than @n, *@err says why the next one was not.
 */
static unsigned int twheel_ctx_arm_find(struct twheel_ctx *ctx,
					unsigned int n,
					struct twheel_tally *tally, int *err)
{
	const struct twheel_arm *arms = ctx->chunk.arm;
	struct twheel_table_node ***links = ctx->chunk.links;
	struct twheel_conn **conns = ctx->chunk.conns;
	unsigned long gen = 0;
	unsigned int i;
	bool bulk;

	lockdep_assert_held(&ctx->mutex);

	/*
	 * With many connections, look the chunk's up at once, and create the
	 * new ones where the lookup ended while no resize moved them; with
	 * few, twheel_conn_get() alone.
	 */
	bulk = twheel_conn_many(ctx);
	if (bulk)
		gen = twheel_conn_find_bulk(ctx, n, &arms[0].conn_id,
					    sizeof(*arms), conns, links);
	for (i = 0; i < n; i++) {
		/* Not found yet: new, or created by an earlier entry. */
		if (!bulk || !conns[i])
			conns[i] = twheel_conn_get(ctx, arms[i].conn_id,
						   bulk && gen == ctx->conns.gen ?
						   links[i] : NULL, tally, err);
		if (!conns[i])
			break;
		/* Read by a shrink under the spinlock: a whole store. */
		WRITE_ONCE(conns[i]->want, conns[i]->want | BIT(arms[i].kind));
	}
	if (tally->created) {
		twheel_counter_add(TWHEEL_CTR_CONNECTIONS, tally->created);
		twheel_user_conns_add(ctx->user, tally->created);
	}
	return i;
}

/*
 * Gives each of the chunk's first @n connections room for the kinds it may
 * gain: one lock hold finds those that lack it, their arrays are allocated
 * without the lock, and one more hold moves them there. Returns how many
 * have room; if fewer than @n, *@err says why.
 */
static unsigned int twheel_ctx_arm_reserve(struct twheel_ctx *ctx,
					   unsigned int n, int *err)
{
	struct twheel_chunk *chunk = &ctx->chunk;
	unsigned int i, nr_grow = 0;

	lockdep_assert_held(&ctx->mutex);

	spin_lock(&ctx->wqh.lock);
	for (i = 0; i < n; i++)
		chunk->cap[i] = __twheel_conn_room(chunk->conns[i]);
	spin_unlock(&ctx->wqh.lock);

	for (i = 0; i < n; i++) {
		chunk->slots[i] = NULL;
		if (!chunk->cap[i])
			continue;
		chunk->slots[i] = kmalloc_array(chunk->cap[i],
						sizeof(struct twheel_slot),
						ctx->gfp);
		if (!chunk->slots[i]) {
			*err = -ENOMEM;
			break;
		}
		nr_grow++;
	}
	n = i;
	if (!nr_grow)
		return n;

	spin_lock(&ctx->wqh.lock);
	for (i = 0; i < n; i++) {
		if (chunk->slots[i])
			chunk->slots[i] = __twheel_conn_grow(chunk->conns[i],
							     chunk->slots[i],
							     chunk->cap[i]);
	}
	spin_unlock(&ctx->wqh.lock);
	for (i = 0; i < n; i++)
		kfree(chunk->slots[i]);
	return n;
}

/*
 * Counts the new timers the chunk's first @n arm entries may add against
 * the limits at once, if they all fit: as many as entries whose kind is
 * neither armed nor fired (more if the chunk names a kind twice; what is
 * left over goes back after the chunk). If they do not all fit, the
 * entries are charged one by one and the first that does not fit stops
 * the chunk, as without this.
 */
static void __twheel_ctx_arm_charge(struct twheel_ctx *ctx, unsigned int n,
				    struct twheel_tally *tally)
{
	struct twheel_chunk *chunk = &ctx->chunk;
	unsigned int i, nr = 0;

	for (i = 0; i < n; i++)
		nr += !(twheel_conn_used(chunk->conns[i]) &
			BIT(chunk->arm[i].kind));
	if (nr && __twheel_ctx_charge(ctx, nr))
		tally->charged = nr;
}

/*
 * Adds a chunk's arms to the counters and gives back what it did not use,
 * in the lock hold that armed them.
 */
static void twheel_ctx_tally_arms(struct twheel_ctx *ctx,
				  const struct twheel_tally *tally,
				  struct twheel_batch_res *res)
{
	if (tally->charged)
		twheel_ctx_uncharge(ctx, tally->charged);
	if (tally->arms) {
		twheel_counter_add(TWHEEL_CTR_ARMS, tally->arms);
		twheel_counter_add(TWHEEL_CTR_TIMERS_ARMED, tally->arms);
	}
	if (tally->rearms)
		twheel_counter_add(TWHEEL_CTR_REARMS, tally->rearms);
	if (tally->in_place)
		twheel_counter_add(TWHEEL_CTR_REARMS_IN_PLACE,
				   tally->in_place);
	res->found += tally->found;
}

/*
 * Applies the chunk's first @n arm entries, whose connections have room,
 * and settles the first @nr_found connections. Returns how many it applied;
 * if fewer than @n, *@err says why the next one was not.
 */
static unsigned int __twheel_ctx_arm_apply(struct twheel_ctx *ctx,
					   unsigned int n,
					   unsigned int nr_found,
					   struct twheel_tally *tally,
					   int *err)
{
	struct twheel_chunk *chunk = &ctx->chunk;
	unsigned int i, applied;
	int ret;

	lockdep_assert_held(&ctx->mutex);
	lockdep_assert_held(&ctx->wqh.lock);

	__twheel_catch_up(&ctx->wheel, &ctx->expired);
	__twheel_conn_prefetch_unlink(ctx, n, chunk->conns, chunk->tick);
	__twheel_ctx_arm_charge(ctx, n, tally);
	for (i = 0; i < n; i++) {
		ret = __twheel_conn_arm(ctx, chunk->conns[i], &chunk->arm[i],
					chunk->deadline[i], chunk->tick[i],
					tally);
		if (ret) {
			*err = ret;
			break;
		}
	}
	applied = i;
	if (applied)
		__twheel_cpu_schedule(ctx);

	/* Give back the connections this chunk created but did not arm. */
	for (i = 0; i < nr_found; i++)
		__twheel_conn_settle(ctx, chunk->conns[i]);
	return applied;
}

/**
 * twheel_ctx_arm() - apply a chunk of arm entries
 * @ctx: the file
 * @n: valid entries in @ctx->chunk.arm, with their deadlines and ticks in
 *	@ctx->chunk (twheel_cmd_prep())
 * @res: the batch's outcome, to which this chunk adds; its error is set if
 *	an entry could not be applied
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_arm(struct twheel_ctx *ctx, unsigned int n,
		    struct twheel_batch_res *res)
{
	unsigned int nr_found, nr_ready, applied;
	struct twheel_tally tally = {};
	int err = 0;

	lockdep_assert_held(&ctx->mutex);

	nr_found = twheel_ctx_arm_find(ctx, n, &tally, &err);
	nr_ready = twheel_ctx_arm_reserve(ctx, nr_found, &err);

	spin_lock(&ctx->wqh.lock);
	applied = __twheel_ctx_arm_apply(ctx, nr_ready, nr_found, &tally,
					 &err);
	twheel_ctx_tally_arms(ctx, &tally, res);
	spin_unlock(&ctx->wqh.lock);
	res->applied += applied;
	if (applied < n)
		res->error = err;
}

/**
 * twheel_ctx_cancel() - apply a chunk of cancel entries
 * @ctx: the file
 * @n: valid entries in @ctx->chunk.cancel (twheel_cmd_prep())
 * @res: the batch's outcome, to which this chunk adds
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_cancel(struct twheel_ctx *ctx, unsigned int n,
		       struct twheel_batch_res *res)
{
	const struct twheel_cancel *cancels = ctx->chunk.cancel;
	struct twheel_conn **conns = ctx->chunk.conns;
	struct twheel_tally tally = {};
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	/* Cancels free nothing before the next twheel_conn_reap(). */
	twheel_conn_lookup_bulk(ctx, n, &cancels[0].conn_id, sizeof(*cancels),
				conns);

	spin_lock(&ctx->wqh.lock);
	__twheel_conn_prefetch_unlink(ctx, n, conns, NULL);
	for (i = 0; i < n; i++) {
		if (conns[i] && __twheel_conn_cancel(ctx, conns[i],
						     BIT(cancels[i].kind),
						     &tally))
			res->found++;
	}
	res->applied += n;
	__twheel_cpu_schedule(ctx);
	twheel_ctx_tally_cancels(ctx, &tally);
	spin_unlock(&ctx->wqh.lock);
}

/**
 * twheel_ctx_cancel_conn() - apply a chunk of cancel-connection entries
 * @ctx: the file
 * @n: entries in @ctx->chunk.conn_id
 * @res: the batch's outcome, to which this chunk adds
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_cancel_conn(struct twheel_ctx *ctx, unsigned int n,
			    struct twheel_batch_res *res)
{
	struct twheel_conn **conns = ctx->chunk.conns;
	struct twheel_tally tally = {};
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	twheel_conn_lookup_bulk(ctx, n, ctx->chunk.conn_id,
				sizeof(ctx->chunk.conn_id[0]), conns);
	spin_lock(&ctx->wqh.lock);
	__twheel_conn_prefetch_unlink(ctx, n, conns, NULL);
	for (i = 0; i < n; i++) {
		if (conns[i] && __twheel_conn_cancel(ctx, conns[i], U16_MAX,
						     &tally))
			res->found++;
	}
	res->applied += n;
	__twheel_cpu_schedule(ctx);
	twheel_ctx_tally_cancels(ctx, &tally);
	spin_unlock(&ctx->wqh.lock);
}

/*
 * Queues again the first @nr connections of @requeue, each at the tick of
 * its earliest deadline left. Returns true if that used SIMD.
 */
static bool __twheel_ctx_requeue(struct twheel_ctx *ctx,
				 struct twheel_requeue *requeue,
				 unsigned int nr)
{
	unsigned int i;
	bool simd;

	lockdep_assert_held(&ctx->wqh.lock);

	simd = twheel_batch_ticks_up(requeue->next, requeue->next, nr,
				     twheel_tick_ns);
	for (i = 0; i < nr; i++)
		twheel_wheel_arm(&ctx->wheel, &requeue->conns[i]->timer,
				 requeue->next[i]);
	return simd;
}

/*
 * @nr events were queued since the last wake-up. A file with rings has
 * them moved into its event ring first.
 */
static void __twheel_ctx_wake(struct twheel_ctx *ctx, unsigned int nr)
{
	lockdep_assert_held(&ctx->wqh.lock);

	twheel_counter_add(TWHEEL_CTR_EXPIRIES, nr);
	twheel_counter_add(TWHEEL_CTR_EVENTS_QUEUED, nr);
	twheel_counter_add(TWHEEL_CTR_TIMERS_ARMED, -(long)nr);
	if (ctx->ring) {
		__twheel_ring_wake(ctx, __twheel_ring_post(ctx));
		return;
	}
	ctx->stats.wakeups++;
	wake_up_locked_poll(&ctx->wqh, EPOLLIN | EPOLLRDNORM);
}

/* Advances @ctx's wheel to @tick, or by its budget if that comes first. */
static void __twheel_ctx_advance(struct twheel_ctx *ctx, u64 tick)
{
	u64 cascades = ctx->wheel.cascades;

	lockdep_assert_held(&ctx->wqh.lock);

	twheel_wheel_advance_budget(&ctx->wheel, tick, &ctx->expired,
				    TWHEEL_ADVANCE_BUDGET);
	twheel_counter_add(TWHEEL_CTR_CASCADES,
			   ctx->wheel.cascades - cascades);
	/* Whether it moved timers into @ctx->expired or between levels. */
	if (twheel_wheel_busy(&ctx->wheel))
		twheel_counter_inc(TWHEEL_CTR_ADVANCE_STOPS);
}

/**
 * twheel_ctx_expire() - give a file a turn of its CPU's expiry thread
 * @ctx: the file, pinned by a reference
 * @requeue: the calling thread's scratch
 * @simd: set to true if the batch used SIMD, left alone otherwise
 *
 * Called by the expiry thread of the file's CPU. Fires what is due, up to
 * %TWHEEL_EXPIRE_TURN connections or wheel moves in one turn; a file with
 * more due goes back to its CPU for another turn after every other file
 * that is due had one (__twheel_cpu_again()), so one file with a million
 * timers due does not hold up the others' for the whole of it. Wakes the
 * file's readers once per turn, or once per lock break. Connections with
 * kinds left armed are queued again in groups of up to
 * %TWHEEL_REQUEUE_BATCH, all before the lock is dropped. The wheel advances
 * %TWHEEL_ADVANCE_BUDGET timers at a time, with a lock break in between if
 * someone waits for the lock or the CPU.
 *
 * twheel_ctx_expire_at() is the same, firing only what was due at @at.
 *
 * Context: process context; takes @ctx->wqh.lock.
 * Return: the number of timers fired.
 */
unsigned int twheel_ctx_expire(struct twheel_ctx *ctx,
			       struct twheel_requeue *requeue, bool *simd)
{
	return twheel_ctx_expire_at(ctx, requeue, simd, ktime_get_ns());
}

unsigned int twheel_ctx_expire_at(struct twheel_ctx *ctx,
				  struct twheel_requeue *requeue, bool *simd,
				  u64 at)
{
	unsigned int nr = 0, work = 0, fired = 0, queued = 0, nr_requeue = 0;
	struct twheel_conn *conn;
	u64 now, tick, due_by;

	spin_lock(&ctx->wqh.lock);
	if (ctx->closed)
		goto out;

	ctx->expiry_gen++;
	now = at;
	tick = twheel_ns_to_tick(now);
	due_by = twheel_tick_to_ns(tick);
	__twheel_ctx_advance(ctx, tick);
	for (;;) {
		if (!hlist_empty(&ctx->expired)) {
			conn = hlist_entry(ctx->expired.first,
					   struct twheel_conn, timer.node);
			hlist_del_init(&conn->timer.node);
			queued += __twheel_conn_expire(ctx, conn, due_by, now,
					&requeue->next[nr_requeue]);
			if (conn->armed)
				requeue->conns[nr_requeue++] = conn;
			if (nr_requeue == TWHEEL_REQUEUE_BATCH) {
				*simd |= __twheel_ctx_requeue(ctx, requeue,
							      nr_requeue);
				nr_requeue = 0;
			}
			work++;
			if (++nr % TWHEEL_EXPIRE_CHUNK)
				continue;
		} else if (twheel_wheel_busy(&ctx->wheel)) {
			/* The advance stopped on its budget. */
			work += TWHEEL_ADVANCE_BUDGET;
		} else {
			break;
		}

		/* After a chunk or a budget: the turn may be over. */
		if (work >= TWHEEL_EXPIRE_TURN)
			break;
		/* Let in whoever waits. */
		if (need_resched() || spin_needbreak(&ctx->wqh.lock)) {
			*simd |= __twheel_ctx_requeue(ctx, requeue, nr_requeue);
			nr_requeue = 0;
			if (queued)
				__twheel_ctx_wake(ctx, queued);
			fired += queued;
			queued = 0;
			spin_unlock(&ctx->wqh.lock);
			cond_resched();
			spin_lock(&ctx->wqh.lock);
			if (ctx->closed)
				goto out;
			ctx->expiry_gen++;
			now = ktime_get_ns();
		}
		if (hlist_empty(&ctx->expired))
			__twheel_ctx_advance(ctx, tick);
	}
	*simd |= __twheel_ctx_requeue(ctx, requeue, nr_requeue);
	if (queued)
		__twheel_ctx_wake(ctx, queued);
	fired += queued;
	if (work >= TWHEEL_EXPIRE_TURN)
		__twheel_cpu_again(ctx);
	else
		__twheel_cpu_schedule(ctx);
out:
	spin_unlock(&ctx->wqh.lock);
	return fired;
}

/**
 * __twheel_ctx_work_tick() - when a file next has work for its thread
 * @ctx: the file
 *
 * Context: @ctx->wqh.lock held.
 * Return: the tick, 0 if there is work now (connections handed out and not
 * delivered, or an advance stopped part-way), U64_MAX if nothing is armed.
 */
u64 __twheel_ctx_work_tick(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	if (!hlist_empty(&ctx->expired) || twheel_wheel_busy(&ctx->wheel))
		return 0;
	return twheel_wheel_next(&ctx->wheel);
}

/*
 * Lets @ctx->wqh.lock go if someone waits for it or for the CPU, once
 * every %TWHEEL_NEXT_BUDGET connections the search looked at. Returns
 * -EINTR if a signal came meanwhile, -EAGAIN if the expiry thread worked
 * on the file meanwhile (the search starts over), else 0.
 */
static int __twheel_ctx_next_pause(struct twheel_ctx *ctx, unsigned int *seen)
{
	u64 gen = ctx->expiry_gen;

	lockdep_assert_held(&ctx->wqh.lock);

	if (++*seen % TWHEEL_NEXT_BUDGET ||
	    (!need_resched() && !spin_needbreak(&ctx->wqh.lock)))
		return 0;
	spin_unlock(&ctx->wqh.lock);
	cond_resched();
	spin_lock(&ctx->wqh.lock);
	if (signal_pending(current))
		return -EINTR;
	return ctx->expiry_gen == gen ? 0 : -EAGAIN;
}

/*
 * One search for the earliest deadline (see twheel_ctx_next()). Returns 0
 * with the answer in @next_ns, or what __twheel_ctx_next_pause() said.
 */
static int __twheel_ctx_next(struct twheel_ctx *ctx, u64 *next_ns)
{
	unsigned int lvl, way, seen = 0, done = 0;
	struct twheel_conn *conn;
	struct hlist_head *first;
	struct hlist_node *tmp;
	u64 next = U64_MAX, start;
	int ret;

	lockdep_assert_held(&ctx->mutex);
	lockdep_assert_held(&ctx->wqh.lock);

	/*
	 * The thread let the lock go in the middle of an advance: finish it
	 * for the thread, which delivers what it hands out. A budget at a
	 * time, letting in whoever waits in between, as the thread does.
	 */
	while (!ctx->next_valid && twheel_wheel_busy(&ctx->wheel)) {
		__twheel_ctx_advance(ctx, 0);
		cond_resched_lock(&ctx->wqh.lock);
	}
	if (ctx->next_valid) {
		*next_ns = ctx->next_ns;
		return 0;
	}

	hlist_for_each_entry(conn, &ctx->expired, timer.node) {
		next = min(next, __twheel_conn_next(conn));
		ret = __twheel_ctx_next_pause(ctx, &seen);
		if (ret)
			return ret;
	}

	while ((first = twheel_wheel_first(&ctx->wheel, done, &lvl, &start))) {
		if (next != U64_MAX && start > twheel_ns_to_tick_up(next))
			break;
		for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
			hlist_for_each_entry_safe(conn, tmp, &first[way],
						  timer.node) {
				u64 earliest = __twheel_conn_next(conn);
				u64 tick = twheel_ns_to_tick_up(earliest);

				if (tick > conn->timer.expires)
					twheel_wheel_arm(&ctx->wheel,
							 &conn->timer, tick);
				next = min(next, earliest);
				ret = __twheel_ctx_next_pause(ctx, &seen);
				if (ret)
					return ret;
			}
		}
		/*
		 * Whatever is left in the slot waits at its own tick, before
		 * the level's next slot starts: the level is done. If every
		 * timer moved away, its next slot may still be early enough.
		 */
		for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
			if (!hlist_empty(&first[way]))
				done |= BIT(lvl);
		}
	}

	ctx->next_ns = next;
	ctx->next_valid = true;
	*next_ns = next;
	return 0;
}

/**
 * twheel_ctx_next() - the earliest deadline armed in a file
 * @ctx: the file
 * @next_ns: out: the deadline, CLOCK_MONOTONIC ns, or U64_MAX if nothing
 *	is armed
 * @armed: out: the timers armed, at that moment
 * @queued: out: the events waiting to be read, at that moment
 *
 * Exact, not a bound: the deadline as it was armed, which is when the next
 * event becomes due. Arming keeps the answer up to date at no cost; after
 * the timer it names is cancelled, re-armed for later or fires, the next
 * call finds it again. A connection waits in the file's wheel at the tick
 * of its earliest deadline or earlier (a kind re-armed for later moves it
 * only when that tick comes), so the search walks the connections the
 * expiry thread has handed out and not yet delivered, then the wheel's
 * slots in the order of their first tick (twheel_wheel_first()), until a
 * slot starts after the tick of the earliest deadline found: nothing in it
 * or after it can be earlier. Usually that is one slot; a slot of a higher
 * level that starts at the present, and overlaps the level-0 slots of its
 * range, adds its level's. A connection found queued too early is queued
 * at its true tick on the way, work its timer would otherwise cost when it
 * came due.
 *
 * The search holds the file's mutex, so no arm or cancel changes the
 * wheel under it, and lets the spinlock go every %TWHEEL_NEXT_BUDGET
 * connections if someone waits: a slot of a million connections never
 * holds the lock, or the CPU with preemption off, for more than that. If
 * the expiry thread worked on the file meanwhile, the search starts over.
 *
 * Context: process context; takes @ctx->mutex and @ctx->wqh.lock.
 * O(1) while the answer stands; otherwise O(connections handed out +
 * connections in the slots walked).
 * Return: 0, or -EINTR if a signal came first.
 */
int twheel_ctx_next(struct twheel_ctx *ctx, u64 *next_ns, u64 *armed,
		    u64 *queued)
{
	int ret;

	if (mutex_lock_interruptible(&ctx->mutex))
		return -EINTR;
	spin_lock(&ctx->wqh.lock);
	do {
		ret = __twheel_ctx_next(ctx, next_ns);
	} while (ret == -EAGAIN);
	*armed = ctx->nr_armed;
	*queued = ctx->nr_queued;
	spin_unlock(&ctx->wqh.lock);
	twheel_ring_unlock(ctx);
	return ret;
}

/**
 * __twheel_ctx_peek() - the events at the head of a file's ready list
 * @ctx: the file
 * @ev: where to put them
 * @max: room in @ev
 *
 * Changes nothing: read() copies the events out and, in the same lock
 * hold, takes those it could copy with __twheel_ctx_take(). So an event
 * leaves the file exactly when it reaches the reader, and a cancel either
 * comes before (the event is gone) or after (it finds nothing).
 *
 * Context: @ctx->wqh.lock held.
 * Return: the number of events put in @ev.
 */
unsigned int __twheel_ctx_peek(struct twheel_ctx *ctx, struct twheel_event *ev,
			       unsigned int max)
{
	struct twheel_conn *conn;
	unsigned int n = 0;

	lockdep_assert_held(&ctx->wqh.lock);

	list_for_each_entry(conn, &ctx->ready, link) {
		if (n == max)
			break;
		n += __twheel_conn_events(conn, &ev[n], max - n);
	}
	return n;
}

/**
 * __twheel_ctx_take() - deliver the events at the head of a file's ready list
 * @ctx: the file
 * @n: how many, at most what __twheel_ctx_peek() gave in this lock hold
 *
 * The events taken are gone from the file: their timers are no longer armed
 * or fired, and a cancel that comes after finds nothing.
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_ctx_take(struct twheel_ctx *ctx, unsigned int n)
{
	unsigned int left = n;

	lockdep_assert_held(&ctx->wqh.lock);

	while (left && !list_empty(&ctx->ready)) {
		struct twheel_conn *conn = list_first_entry(&ctx->ready,
							    struct twheel_conn,
							    link);
		unsigned int k = min_t(unsigned int, left,
				       hweight16(conn->fired));

		__twheel_conn_take(ctx, conn, k);
		left -= k;
	}
	n -= left;
	ctx->nr_queued -= n;
	if (ctx->ring)
		__twheel_ring_sync_queued(ctx);
	ctx->stats.read += n;
	twheel_ctx_uncharge(ctx, n);
	twheel_counter_add(TWHEEL_CTR_EVENTS_READ, n);
}

/**
 * __twheel_ctx_pop() - take events off a file's ready list
 * @ctx: the file
 * @ev: where to put them
 * @max: room in @ev
 *
 * __twheel_ctx_peek(), then __twheel_ctx_take() of everything it gave.
 *
 * Context: @ctx->wqh.lock held.
 * Return: the number of events put in @ev.
 */
unsigned int __twheel_ctx_pop(struct twheel_ctx *ctx, struct twheel_event *ev,
			      unsigned int max)
{
	unsigned int n = __twheel_ctx_peek(ctx, ev, max);

	__twheel_ctx_take(ctx, n);
	return n;
}

/**
 * twheel_ctx_create() - a new, empty timer context
 * @uid: the user who opens it, who answers for its timers
 * @unlimited: exempt from the limits per user (opened with
 *	%CAP_SYS_RESOURCE)
 *
 * Context: process context.
 * Return: the context, holding one reference, or ERR_PTR(-EMFILE) if the
 * user has as many files open as it may, or ERR_PTR(-ENOMEM).
 */
struct twheel_ctx *twheel_ctx_create(kuid_t uid, bool unlimited)
{
	struct twheel_user *user;
	struct twheel_ctx *ctx;
	int ret;

	user = twheel_user_open(uid, unlimited);
	if (IS_ERR(user))
		return ERR_CAST(user);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx) {
		twheel_user_close(user);
		return ERR_PTR(-ENOMEM);
	}
	ctx->user = user;
	ctx->unlimited = unlimited;

	init_waitqueue_head(&ctx->wqh);
	twheel_wheel_init(&ctx->wheel, twheel_ns_to_tick(ktime_get_ns()));
	INIT_HLIST_HEAD(&ctx->expired);
	INIT_LIST_HEAD(&ctx->ready);
	INIT_LIST_HEAD(&ctx->dead);
	INIT_LIST_HEAD(&ctx->conn_blocks);
	INIT_LIST_HEAD(&ctx->conn_partial);
	INIT_LIST_HEAD(&ctx->list);
	ctx->next_ns = U64_MAX;
	ctx->next_valid = true;
	twheel_timer_init(&ctx->cpu_timer);
	refcount_set(&ctx->refs, 1);
	mutex_init(&ctx->mutex);
	ctx->gfp = GFP_KERNEL_ACCOUNT;
	ret = twheel_table_init(&ctx->conns);
	if (ret) {
		mutex_destroy(&ctx->mutex);
		kfree(ctx);
		twheel_user_close(user);
		return ERR_PTR(ret);
	}
	twheel_counter_inc(TWHEEL_CTR_CONTEXTS);
	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
			   sizeof(*ctx) + ctx->conns.bytes);
	return ctx;
}

/**
 * twheel_ctx_put() - drop a reference to a context
 * @ctx: the context
 *
 * Context: process context.
 */
void twheel_ctx_put(struct twheel_ctx *ctx)
{
	if (!refcount_dec_and_test(&ctx->refs))
		return;
	twheel_ring_free(ctx);
	twheel_counter_dec(TWHEEL_CTR_CONTEXTS);
	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES, -(long)sizeof(*ctx));
	mutex_destroy(&ctx->mutex);
	kfree(ctx);
}

/**
 * twheel_ctx_close() - cancel everything a file owns and drop its reference
 * @ctx: the context of the file being released
 *
 * Context: process context, no system call using the file; its expiry
 * thread may still be working on it.
 */
void twheel_ctx_close(struct twheel_ctx *ctx)
{
	u64 timers, armed;

	spin_lock(&ctx->wqh.lock);
	/* Read without the lock by a drain of the file's ring. */
	WRITE_ONCE(ctx->closed, true);
	__twheel_cpu_unschedule(ctx);
	spin_unlock(&ctx->wqh.lock);
	twheel_cpu_detach(ctx);

	/*
	 * No thread looks at the connections of a closed file, but one may
	 * still be applying its ring's entries: wait for it. After that
	 * nothing changes what the file holds.
	 */
	mutex_lock(&ctx->mutex);
	spin_lock(&ctx->wqh.lock);
	armed = ctx->nr_armed;
	timers = armed + ctx->nr_queued;
	spin_unlock(&ctx->wqh.lock);

	/* Closing cancels what is armed. */
	twheel_counter_add(TWHEEL_CTR_CANCELS, armed);
	twheel_counter_add(TWHEEL_CTR_TIMERS_ARMED, -(long)armed);
	twheel_conn_destroy_all(ctx);
	mutex_unlock(&ctx->mutex);
	twheel_ctx_uncharge(ctx, timers);
	twheel_ring_uncharge(ctx);
	twheel_user_close(ctx->user);
	twheel_ctx_put(ctx);
}
