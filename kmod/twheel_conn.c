// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the timers of one open file, by connection.
 */

/**
 * DOC: Connections and events
 *
 * An open file (&struct twheel_ctx) keeps its connections in a hash table
 * keyed by the daemon's 64-bit id (&struct twheel_table, in
 * twheel_table.c: O(1) lookups whatever the ids look like, on 32-bit
 * kernels too, where an xarray index would be truncated to 32 bits). A
 * connection (&struct twheel_conn) holds one slot per kind in use; its
 * single wheel timer waits at the tick of its earliest
 * armed deadline, or earlier: re-arming a kind for later does not move it,
 * and when it fires for nothing it is queued again for the new earliest
 * deadline.
 *
 * **Events are state, not copies.** When a kind falls due its slot moves
 * from the connection's @armed mask to its @fired mask, and the connection
 * joins the file's ready list if it was not on it; read() turns fired slots
 * into &struct twheel_event records and frees them. An unread event is thus
 * the timer itself: cancelling or re-arming the kind clears its fired bit
 * under the same lock read() takes, and the event is gone. Once a cancel or
 * re-arm has returned, no event of the earlier arming can be read; if it
 * reports the timer not found, the event had already been read. The number
 * of unread events is bounded by the number of timers, and the per-file
 * quota counts both: a file that does not read cannot arm more, nothing is
 * dropped.
 *
 * **Memory.** A connection with one kind in use is 96 bytes from a
 * %SLAB_ACCOUNT cache, plus its share of the table (8 to 16 bytes, by the
 * table's load). Its second kind moves its slots to an array sized for 2,
 * 4, 8 or 16 kinds, kept until the connection is freed. New connections
 * are allocated in bulk, as many as the rest of the chunk may need (at
 * least %TWHEEL_SPARE_MIN), and up to %TWHEEL_BATCH_CHUNK allocated or
 * freed ones are kept as spares for the next: one slab call, and one
 * memory-cgroup charge, per chunk instead of one per connection. So an arm
 * fails with -ENOMEM only when it needs a connection and the file has no
 * spare left. A connection with nothing armed or fired is put on
 * the file's dead list by whoever emptied it (the thread never does: it
 * only fires timers) and freed by whoever next holds the file's mutex: the
 * ioctl that emptied it, or the read() that did if the mutex is free.
 * Lookups run under that mutex, so they never see freed memory.
 *
 * **Batches.** An arm batch is applied in chunks: first, without the
 * spinlock, every entry of the chunk is checked and its connection found or
 * created (and given room for a new kind); then the chunk is applied under
 * the spinlock, the file's CPU timer updated once, and connections the
 * chunk created but did not arm are given back. An entry that fails stops
 * the batch; the entries before it stay applied.
 */

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/log2.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "twheel.h"
#include "twheel_simd.h"
#include "twheel_stats.h"

/*
 * Connections the thread delivers before it looks whether someone waits for
 * the file's lock or its CPU: a batch this size is one lock hold and one
 * wake-up, a larger one lets readers and ioctls in between chunks.
 */
#define TWHEEL_EXPIRE_CHUNK	256

/*
 * Timers one advance of a file's wheel moves (expires, cascades) before the
 * thread looks whether someone waits: a slot of a million timers is then
 * never moved in one lock hold.
 */
#define TWHEEL_ADVANCE_BUDGET	1024

/* Connections allocated at least by one kmem_cache_alloc_bulk() call. */
#define TWHEEL_SPARE_MIN	8

/* Connections freed with one kmem_cache_free_bulk() call. */
#define TWHEEL_REAP_BATCH	16

static struct kmem_cache *twheel_conn_cache;

static inline u16 twheel_conn_used(const struct twheel_conn *conn)
{
	return conn->armed | conn->fired;
}

static inline unsigned int twheel_conn_capacity(const struct twheel_conn *conn)
{
	return conn->nr_alloc ?: 1;
}

static inline struct twheel_slot *twheel_conn_slots(struct twheel_conn *conn)
{
	return conn->nr_alloc ? conn->many : &conn->one;
}

/* The index of the slot of @kind among the kinds in @used. */
static __always_inline unsigned int twheel_slot_idx(u16 used,
						    unsigned int kind)
{
	return hweight16(used & (BIT(kind) - 1));
}

static struct twheel_slot *__twheel_conn_slot(struct twheel_conn *conn,
					      unsigned int kind)
{
	return &twheel_conn_slots(conn)[twheel_slot_idx(twheel_conn_used(conn),
							kind)];
}

/* The earliest deadline among the kinds of @conn in @kinds, U64_MAX if none. */
static u64 __twheel_conn_min(struct twheel_conn *conn, u16 kinds)
{
	struct twheel_slot *slots = twheel_conn_slots(conn);
	u16 used = twheel_conn_used(conn);
	u64 min = U64_MAX;

	for (; kinds; kinds &= kinds - 1) {
		u64 deadline = slots[twheel_slot_idx(used, __ffs(kinds))].deadline;

		if (deadline < min)
			min = deadline;
	}
	return min;
}

/* Makes room for @kind, not in use; the caller then marks it armed. */
static struct twheel_slot *__twheel_conn_slot_insert(struct twheel_conn *conn,
						     unsigned int kind)
{
	u16 used = twheel_conn_used(conn);
	struct twheel_slot *slots = twheel_conn_slots(conn);
	unsigned int idx = twheel_slot_idx(used, kind);
	unsigned int nr = hweight16(used);

	/* Usually nothing moves: one kind in use, or the highest armed. */
	if (idx < nr)
		memmove(&slots[idx + 1], &slots[idx],
			(nr - idx) * sizeof(*slots));
	return &slots[idx];
}

/* Closes the slot of @kind, in use in @used; the caller clears its bit. */
static void __twheel_conn_slot_remove(struct twheel_conn *conn, u16 used,
				      unsigned int kind)
{
	struct twheel_slot *slots = twheel_conn_slots(conn);
	unsigned int idx = twheel_slot_idx(used, kind);
	unsigned int nr = hweight16(used);

	if (idx + 1 < nr)
		memmove(&slots[idx], &slots[idx + 1],
			(nr - idx - 1) * sizeof(*slots));
}

/* Moves the slots to @slots, room for @cap kinds; returns the old array. */
static struct twheel_slot *__twheel_conn_grow(struct twheel_conn *conn,
					      struct twheel_slot *slots,
					      unsigned int cap)
{
	struct twheel_slot *old = conn->nr_alloc ? conn->many : NULL;

	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
			(long)(cap - conn->nr_alloc) * sizeof(*slots));
	memcpy(slots, twheel_conn_slots(conn),
	       hweight16(twheel_conn_used(conn)) * sizeof(*slots));
	conn->many = slots;
	conn->nr_alloc = cap;
	return old;
}

static struct twheel_conn *twheel_conn_alloc(struct twheel_ctx *ctx, u64 id,
					     unsigned int hint)
{
	struct twheel_conn *conn;

	if (!ctx->nr_spare) {
		/* Even one entry at a time pays one slab call per eight. */
		unsigned int nr = clamp_t(unsigned int, hint, TWHEEL_SPARE_MIN,
					  ARRAY_SIZE(ctx->spare));
		int got = kmem_cache_alloc_bulk(twheel_conn_cache,
						GFP_KERNEL_ACCOUNT, nr,
						(void **)ctx->spare);

		if (!got)
			return NULL;
		ctx->nr_spare = got;
		twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
				(long)got * sizeof(*conn));
	}
	conn = ctx->spare[--ctx->nr_spare];
	twheel_timer_init(&conn->timer);
	conn->node.key = id;
	INIT_LIST_HEAD(&conn->link);
	conn->armed = 0;
	conn->fired = 0;
	conn->want = 0;
	conn->nr_alloc = 0;
	conn->fresh = 1;
	twheel_stat_inc(TWHEEL_STAT_CONNECTIONS);
	return conn;
}

/*
 * Undoes twheel_conn_alloc(). Returns true if @conn was kept as a spare of
 * @ctx; otherwise the caller gives it back to the cache.
 */
static bool twheel_conn_recycle(struct twheel_ctx *ctx,
				struct twheel_conn *conn)
{
	twheel_stat_dec(TWHEEL_STAT_CONNECTIONS);
	if (conn->nr_alloc) {
		twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
				-(long)(conn->nr_alloc *
					sizeof(struct twheel_slot)));
		kfree(conn->many);
	}
	if (ctx && ctx->nr_spare < ARRAY_SIZE(ctx->spare)) {
		ctx->spare[ctx->nr_spare++] = conn;
		return true;
	}
	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES, -(long)sizeof(*conn));
	return false;
}

/* The file is closing: nothing to keep spares for. */
static void twheel_conn_free_fn(struct twheel_table_node *node)
{
	struct twheel_conn *conn = container_of(node, struct twheel_conn, node);

	twheel_conn_recycle(NULL, conn);
	kmem_cache_free(twheel_conn_cache, conn);
}

/* Adds to the memory counter what the table's last change took or gave. */
static void twheel_conn_table_account(struct twheel_ctx *ctx, size_t before)
{
	if (unlikely(ctx->conns.bytes != before))
		twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
				(long)ctx->conns.bytes - (long)before);
}

static struct twheel_conn *twheel_conn_lookup(struct twheel_ctx *ctx, u64 id)
{
	struct twheel_table_node *node = twheel_table_lookup(&ctx->conns, id);

	return node ? container_of(node, struct twheel_conn, node) : NULL;
}

/*
 * Whether @ctx has enough connections for their table and themselves to
 * fall out of the cache, so that a chunk's lookups are worth overlapping.
 */
static bool twheel_conn_many(const struct twheel_ctx *ctx)
{
	return ctx->conns.nr >= TWHEEL_LOOKUP_BULK_MIN;
}

/*
 * The connections of @n ids, NULL where there is none. @id points to the
 * first id; the next one is @stride bytes on. With many connections their
 * cache misses overlap (twheel_table_lookup_bulk()); with few it finds them
 * one by one.
 */
static void twheel_conn_lookup_bulk(struct twheel_ctx *ctx, unsigned int n,
				    const u64 *id, size_t stride,
				    struct twheel_conn **conns)
{
	struct twheel_table_node **nodes = ctx->chunk_nodes;
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	if (!twheel_conn_many(ctx)) {
		for (i = 0; i < n; i++, id = twheel_table_next_key(id, stride))
			conns[i] = twheel_conn_lookup(ctx, *id);
		return;
	}
	twheel_table_lookup_bulk(&ctx->conns, n, id, stride, nodes);
	for (i = 0; i < n; i++)
		conns[i] = nodes[i] ? container_of(nodes[i], struct twheel_conn,
						   node) : NULL;
}

/*
 * Before a chunk's cancels or moves in a file with many connections: warms
 * the wheel neighbours they will write, all at once. @tick is NULL for
 * cancels, which may take every timer off; for arms it holds each entry's
 * tick, and only the timers that an entry moves earlier are warmed.
 */
static void __twheel_conn_prefetch_unlink(struct twheel_ctx *ctx,
					  unsigned int n,
					  struct twheel_conn **conns,
					  const u64 *tick)
{
	unsigned int i;

	lockdep_assert_held(&ctx->wqh.lock);

	if (!twheel_conn_many(ctx))
		return;
	for (i = 0; i < n; i++) {
		if (conns[i] && (!tick || tick[i] < conns[i]->timer.expires))
			twheel_timer_prefetch_unlink(&conns[i]->timer);
	}
}

/* The connection @id, created if it does not exist yet. */
static struct twheel_conn *twheel_conn_get(struct twheel_ctx *ctx, u64 id,
					   unsigned int hint, int *err)
{
	struct twheel_conn *conn;
	size_t before;

	lockdep_assert_held(&ctx->mutex);

	conn = twheel_conn_lookup(ctx, id);
	if (conn)
		return conn;

	conn = twheel_conn_alloc(ctx, id, hint);
	if (!conn) {
		*err = -ENOMEM;
		return NULL;
	}
	before = ctx->conns.bytes;
	twheel_table_insert(&ctx->conns, &conn->node);
	twheel_conn_table_account(ctx, before);
	return conn;
}

/* One more timer for @ctx, within the file's and the system's quota. */
static bool __twheel_charge(struct twheel_ctx *ctx)
{
	if (ctx->nr_armed + ctx->nr_queued >= READ_ONCE(twheel_quota))
		return false;
	if (atomic_long_inc_return(&twheel_nr_timers) >
	    READ_ONCE(twheel_max_timers)) {
		atomic_long_dec(&twheel_nr_timers);
		return false;
	}
	return true;
}

static void twheel_uncharge(unsigned long nr)
{
	atomic_long_sub(nr, &twheel_nr_timers);
}

/* Takes the events of @bits off the ready list; their slots stay. */
static void __twheel_conn_unqueue(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u16 bits)
{
	conn->fired &= ~bits;
	ctx->nr_queued -= hweight16(bits);
	if (!conn->fired)
		list_del_init(&conn->link);
}

/* Queues a connection left with nothing armed or fired for freeing. */
static void __twheel_conn_retire(struct twheel_ctx *ctx,
				 struct twheel_conn *conn)
{
	ctx->nr_conns--;
	list_add_tail(&conn->link, &ctx->dead);
}

/* @deadline and its @tick come from twheel_batch_arm_prep(). */
static int __twheel_conn_arm(struct twheel_ctx *ctx, struct twheel_conn *conn,
			     const struct twheel_arm *arm, u64 deadline,
			     u64 tick, bool *found)
{
	u16 bit = BIT(arm->kind);
	u16 used = twheel_conn_used(conn);
	bool rearm, moved = false;
	struct twheel_slot *slot;

	lockdep_assert_held(&ctx->wqh.lock);

	if (!(used & bit)) {
		/* The batch made room for every kind it arms. */
		if (WARN_ON_ONCE(hweight16(used) >= twheel_conn_capacity(conn)))
			return -ENOMEM;
		if (!__twheel_charge(ctx)) {
			twheel_stat_inc(TWHEEL_STAT_QUOTA_REFUSALS);
			return -ENOSPC;
		}
		if (!used) {
			/* Off the dead list, if it was waiting there. */
			if (!list_empty(&conn->link))
				list_del_init(&conn->link);
			ctx->nr_conns++;
		}
		slot = __twheel_conn_slot_insert(conn, arm->kind);
		ctx->stats.arms++;
	} else {
		slot = __twheel_conn_slot(conn, arm->kind);
		*found = true;
		if (conn->fired & bit)
			__twheel_conn_unqueue(ctx, conn, bit);
		else
			ctx->nr_armed--;
		ctx->stats.rearms++;
	}
	rearm = conn->armed & bit;
	if (ctx->next_valid) {
		if (deadline <= ctx->next_ns)
			ctx->next_ns = deadline;
		else if (rearm && slot->deadline == ctx->next_ns)
			ctx->next_valid = false;
	}
	slot->deadline = deadline;
	slot->user_data = arm->user_data;
	conn->armed |= bit;
	ctx->nr_armed++;

	if (twheel_timer_pending(&conn->timer)) {
		if (tick < conn->timer.expires) {
			twheel_wheel_arm(&ctx->wheel, &conn->timer, tick);
			moved = true;
		}
	} else if (hlist_unhashed(&conn->timer.node)) {
		twheel_wheel_arm(&ctx->wheel, &conn->timer, tick);
	}
	/* Otherwise it is on ctx->expired: the thread looks at every slot. */

	if (rearm) {
		twheel_stat_inc(TWHEEL_STAT_REARMS);
		if (!moved)
			twheel_stat_inc(TWHEEL_STAT_REARMS_IN_PLACE);
	} else {
		twheel_stat_inc(TWHEEL_STAT_ARMS);
		twheel_stat_inc(TWHEEL_STAT_TIMERS_ARMED);
	}
	return 0;
}

/* Cancels the kinds in @bits; returns how many were armed or fired. */
static unsigned int __twheel_conn_cancel(struct twheel_ctx *ctx,
					 struct twheel_conn *conn, u16 bits)
{
	u16 used = twheel_conn_used(conn);
	unsigned int nr, nr_armed;
	u16 left;

	lockdep_assert_held(&ctx->wqh.lock);

	bits &= used;
	if (!bits)
		return 0;
	nr = hweight16(bits);
	if (ctx->next_valid &&
	    __twheel_conn_min(conn, conn->armed & bits) == ctx->next_ns)
		ctx->next_valid = false;

	for (left = bits; left; left &= left - 1) {
		unsigned int kind = __ffs(left);

		__twheel_conn_slot_remove(conn, used, kind);
		used &= ~BIT(kind);
	}
	if (conn->fired & bits)
		__twheel_conn_unqueue(ctx, conn, conn->fired & bits);
	nr_armed = hweight16(conn->armed & bits);
	ctx->nr_armed -= nr_armed;
	conn->armed &= ~bits;
	twheel_stat_add(TWHEEL_STAT_CANCELS, nr_armed);
	twheel_stat_add(TWHEEL_STAT_TIMERS_ARMED, -(long)nr_armed);

	if (!conn->armed) {
		/* Out of the wheel, or off ctx->expired if handed out. */
		if (!twheel_wheel_cancel(&ctx->wheel, &conn->timer))
			hlist_del_init(&conn->timer.node);
		if (!conn->fired)
			__twheel_conn_retire(ctx, conn);
	}
	twheel_uncharge(nr);
	ctx->stats.cancels += nr;
	return nr;
}

/**
 * twheel_ctx_arm() - apply a chunk of arm entries
 * @ctx: the file
 * @n: entries in @ctx->chunk.arm
 * @now: the time the batch was called at, CLOCK_MONOTONIC ns
 * @res: the batch's outcome, to which this chunk adds
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_arm(struct twheel_ctx *ctx, unsigned int n, u64 now,
		    struct twheel_batch_res *res)
{
	const struct twheel_arm *arms = ctx->chunk.arm;
	struct twheel_conn **conns = ctx->chunk_conns;
	struct twheel_arm_clock clock = {
		.now = now,
		.tick_ns = twheel_tick_ns,
		.max_timeout_ns = twheel_max_timeout_ns,
	};
	unsigned int i, nr_valid, nr_found, nr_ready;
	bool bulk;
	int err;

	lockdep_assert_held(&ctx->mutex);

	/* Check every entry, then find or create its connection. */
	nr_valid = twheel_batch_arm_prep(arms, n, &clock, ctx->chunk_deadline,
					 ctx->chunk_tick, &err);
	/*
	 * With many connections, look the chunk's up at once; with few,
	 * twheel_conn_get() alone, without a lookup first for the new ones.
	 */
	bulk = twheel_conn_many(ctx);
	if (bulk)
		twheel_conn_lookup_bulk(ctx, nr_valid, &arms[0].conn_id,
					sizeof(*arms), conns);
	for (i = 0; i < nr_valid; i++) {
		/* Not found yet: new, or created by an earlier entry. */
		if (!bulk || !conns[i])
			conns[i] = twheel_conn_get(ctx, arms[i].conn_id,
						   nr_valid - i, &err);
		if (!conns[i])
			break;
		conns[i]->want |= BIT(arms[i].kind);
	}
	nr_found = i;

	/*
	 * Give each connection room for the kinds it may gain. Only this
	 * mutex adds kinds, so what is in use can only shrink meanwhile.
	 */
	for (i = 0; i < nr_found; i++) {
		struct twheel_conn *conn = conns[i];
		struct twheel_slot *slots, *old;
		unsigned int need, cap;
		u16 armed;

		if (!conn->want)
			continue;
		/*
		 * Lockless: the thread may be moving kinds from armed to
		 * fired. It sets them fired first; reading armed first sees
		 * each kind in one of the two masks at least.
		 */
		armed = READ_ONCE(conn->armed);
		smp_rmb();	/* pairs with __twheel_conn_expire() */
		need = hweight16(armed | READ_ONCE(conn->fired) | conn->want);
		conn->want = 0;
		if (need <= twheel_conn_capacity(conn))
			continue;
		cap = roundup_pow_of_two(need);
		slots = kmalloc_array(cap, sizeof(*slots), GFP_KERNEL_ACCOUNT);
		if (!slots) {
			err = -ENOMEM;
			break;
		}
		spin_lock(&ctx->wqh.lock);
		old = __twheel_conn_grow(conn, slots, cap);
		spin_unlock(&ctx->wqh.lock);
		kfree(old);
	}
	nr_ready = i;

	spin_lock(&ctx->wqh.lock);
	__twheel_wheel_catch_up(&ctx->wheel, &ctx->expired);
	__twheel_conn_prefetch_unlink(ctx, nr_ready, conns, ctx->chunk_tick);
	for (i = 0; i < nr_ready; i++) {
		bool found = false;
		int ret;

		ret = __twheel_conn_arm(ctx, conns[i], &arms[i],
					ctx->chunk_deadline[i],
					ctx->chunk_tick[i], &found);
		if (ret) {
			err = ret;
			break;
		}
		res->found += found;
	}
	res->applied += i;
	if (i)
		__twheel_ctx_schedule(ctx);

	/* Give back the connections this chunk created but did not arm. */
	for (i = 0; i < nr_found; i++) {
		struct twheel_conn *conn = conns[i];

		conn->want = 0;
		if (!conn->fresh)
			continue;
		conn->fresh = 0;
		if (!twheel_conn_used(conn) && list_empty(&conn->link))
			list_add_tail(&conn->link, &ctx->dead);
	}
	spin_unlock(&ctx->wqh.lock);
	res->error = err;
}

/**
 * twheel_ctx_cancel() - apply a chunk of cancel entries
 * @ctx: the file
 * @n: entries in @ctx->chunk.cancel
 * @res: the batch's outcome, to which this chunk adds
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_cancel(struct twheel_ctx *ctx, unsigned int n,
		       struct twheel_batch_res *res)
{
	const struct twheel_cancel *cancels = ctx->chunk.cancel;
	struct twheel_conn **conns = ctx->chunk_conns;
	unsigned int i, nr_valid;
	int err = 0;

	lockdep_assert_held(&ctx->mutex);

	for (nr_valid = 0; nr_valid < n; nr_valid++) {
		if (cancels[nr_valid].kind >= TWHEEL_NR_KINDS ||
		    cancels[nr_valid].flags) {
			err = -EINVAL;
			break;
		}
	}
	/* Cancels free nothing before the next twheel_ctx_reap(). */
	twheel_conn_lookup_bulk(ctx, nr_valid, &cancels[0].conn_id,
				sizeof(*cancels), conns);

	spin_lock(&ctx->wqh.lock);
	__twheel_conn_prefetch_unlink(ctx, nr_valid, conns, NULL);
	for (i = 0; i < nr_valid; i++) {
		if (conns[i] && __twheel_conn_cancel(ctx, conns[i],
						     BIT(cancels[i].kind)))
			res->found++;
	}
	res->applied += nr_valid;
	__twheel_ctx_schedule(ctx);
	spin_unlock(&ctx->wqh.lock);
	res->error = err;
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
	struct twheel_conn **conns = ctx->chunk_conns;
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	twheel_conn_lookup_bulk(ctx, n, ctx->chunk.conn_id,
				sizeof(ctx->chunk.conn_id[0]), conns);
	spin_lock(&ctx->wqh.lock);
	__twheel_conn_prefetch_unlink(ctx, n, conns, NULL);
	for (i = 0; i < n; i++) {
		if (conns[i] && __twheel_conn_cancel(ctx, conns[i], U16_MAX))
			res->found++;
	}
	res->applied += n;
	__twheel_ctx_schedule(ctx);
	spin_unlock(&ctx->wqh.lock);
}

/**
 * twheel_ctx_reap() - free the connections left with nothing armed or fired
 * @ctx: the file
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ctx_reap(struct twheel_ctx *ctx)
{
	struct twheel_conn *conn, *tmp;
	void *batch[TWHEEL_REAP_BATCH];
	unsigned int nr = 0;
	LIST_HEAD(dead);

	lockdep_assert_held(&ctx->mutex);

	spin_lock(&ctx->wqh.lock);
	list_splice_init(&ctx->dead, &dead);
	spin_unlock(&ctx->wqh.lock);

	/* Unused: in no wheel, on no list but ours, seen by no lookup. */
	list_for_each_entry_safe(conn, tmp, &dead, link) {
		size_t before = ctx->conns.bytes;

		twheel_table_remove(&ctx->conns, &conn->node);
		twheel_conn_table_account(ctx, before);
		if (twheel_conn_recycle(ctx, conn))
			continue;
		batch[nr++] = conn;
		if (nr == ARRAY_SIZE(batch)) {
			kmem_cache_free_bulk(twheel_conn_cache, nr, batch);
			nr = 0;
		}
	}
	if (nr)
		kmem_cache_free_bulk(twheel_conn_cache, nr, batch);
}

/*
 * Fires the kinds of @conn that are due at @now and puts the earliest
 * deadline left in @next_deadline (U64_MAX if none); if a kind is left
 * armed, the caller queues the timer again. Returns how many it fired.
 */
static unsigned int __twheel_conn_expire(struct twheel_ctx *ctx,
					 struct twheel_conn *conn, u64 now,
					 u64 *next_deadline)
{
	struct twheel_slot *slots = twheel_conn_slots(conn);
	u16 used = twheel_conn_used(conn);
	u16 armed = conn->armed, due = 0;
	u64 next = U64_MAX;
	unsigned int nr = 0;

	lockdep_assert_held(&ctx->wqh.lock);

	for (; armed; armed &= armed - 1) {
		unsigned int kind = __ffs(armed);
		struct twheel_slot *slot = &slots[twheel_slot_idx(used, kind)];

		if (slot->deadline <= now) {
			slot->fired = now;
			due |= BIT(kind);
			twheel_stat_lateness(now - slot->deadline);
		} else if (slot->deadline < next) {
			next = slot->deadline;
		}
	}

	if (due) {
		/* What fired may have been the file's earliest deadline. */
		ctx->next_valid = false;
		nr = hweight16(due);
		if (!conn->fired)
			list_add_tail(&conn->link, &ctx->ready);
		WRITE_ONCE(conn->fired, conn->fired | due);
		smp_wmb();	/* fired, then no longer armed: twheel_ctx_arm() */
		WRITE_ONCE(conn->armed, conn->armed & ~due);
		ctx->nr_armed -= nr;
		ctx->nr_queued += nr;
		ctx->stats.fired += nr;
	}
	*next_deadline = next;
	return nr;
}

/*
 * Queues again the @nr connections of @ctx->requeue, each at the tick of
 * its @ctx->requeue_next deadline. Returns true if that used SIMD.
 */
static bool __twheel_ctx_requeue(struct twheel_ctx *ctx, unsigned int nr)
{
	unsigned int i;
	bool simd;

	lockdep_assert_held(&ctx->wqh.lock);

	simd = twheel_batch_ticks_up(ctx->requeue_next, ctx->requeue_next, nr,
				     twheel_tick_ns);
	for (i = 0; i < nr; i++)
		twheel_wheel_arm(&ctx->wheel, &ctx->requeue[i]->timer,
				 ctx->requeue_next[i]);
	return simd;
}

/* @nr events were queued since the last wake-up. */
static void __twheel_ctx_wake(struct twheel_ctx *ctx, unsigned int nr)
{
	twheel_stat_add(TWHEEL_STAT_EXPIRIES, nr);
	twheel_stat_add(TWHEEL_STAT_EVENTS_QUEUED, nr);
	twheel_stat_add(TWHEEL_STAT_TIMERS_ARMED, -(long)nr);
	ctx->stats.wakeups++;
	wake_up_locked_poll(&ctx->wqh, EPOLLIN | EPOLLRDNORM);
}

/* Advances @ctx's wheel to @tick, or by its budget if that comes first. */
static void __twheel_ctx_advance(struct twheel_ctx *ctx, u64 tick)
{
	u64 cascades = ctx->wheel.cascades;

	twheel_wheel_advance_budget(&ctx->wheel, tick, &ctx->expired,
				    TWHEEL_ADVANCE_BUDGET);
	twheel_stat_add(TWHEEL_STAT_CASCADES, ctx->wheel.cascades - cascades);
}

/**
 * twheel_ctx_expire() - fire every timer of a file that is due
 * @ctx: the file, pinned by a reference
 * @simd: set to true if the batch used SIMD, left alone otherwise
 *
 * Called by the expiry thread of the file's CPU. Wakes the file's readers
 * once, or once per lock break when there is a great deal to fire.
 * Connections with kinds left armed are queued again in groups of up to
 * %TWHEEL_REQUEUE_BATCH, all before the lock is dropped. The wheel advances
 * %TWHEEL_ADVANCE_BUDGET timers at a time, with a lock break in between if
 * someone waits for the lock or the CPU.
 *
 * Context: process context; takes @ctx->wqh.lock.
 * Return: the number of timers fired.
 */
unsigned int twheel_ctx_expire(struct twheel_ctx *ctx, bool *simd)
{
	unsigned int nr = 0, fired = 0, queued = 0, requeue = 0;
	struct twheel_conn *conn;
	u64 now, tick;

	spin_lock(&ctx->wqh.lock);
	if (ctx->closed)
		goto out;

	now = ktime_get_ns();
	tick = twheel_ns_to_tick(now);
	__twheel_ctx_advance(ctx, tick);
	for (;;) {
		if (!hlist_empty(&ctx->expired)) {
			conn = hlist_entry(ctx->expired.first,
					   struct twheel_conn, timer.node);
			hlist_del_init(&conn->timer.node);
			queued += __twheel_conn_expire(ctx, conn, now,
					&ctx->requeue_next[requeue]);
			if (conn->armed)
				ctx->requeue[requeue++] = conn;
			if (requeue == TWHEEL_REQUEUE_BATCH) {
				*simd |= __twheel_ctx_requeue(ctx, requeue);
				requeue = 0;
			}
			if (++nr % TWHEEL_EXPIRE_CHUNK)
				continue;
		} else if (twheel_wheel_busy(&ctx->wheel)) {
			/* The advance stopped on its budget. */
			twheel_stat_inc(TWHEEL_STAT_ADVANCE_STOPS);
		} else {
			break;
		}

		/* After a chunk or a budget: let in whoever waits. */
		if (need_resched() || spin_needbreak(&ctx->wqh.lock)) {
			*simd |= __twheel_ctx_requeue(ctx, requeue);
			requeue = 0;
			if (queued)
				__twheel_ctx_wake(ctx, queued);
			fired += queued;
			queued = 0;
			spin_unlock(&ctx->wqh.lock);
			cond_resched();
			spin_lock(&ctx->wqh.lock);
			if (ctx->closed)
				goto out;
			now = ktime_get_ns();
		}
		if (hlist_empty(&ctx->expired))
			__twheel_ctx_advance(ctx, tick);
	}
	*simd |= __twheel_ctx_requeue(ctx, requeue);
	if (queued)
		__twheel_ctx_wake(ctx, queued);
	fired += queued;
	__twheel_ctx_schedule(ctx);
out:
	spin_unlock(&ctx->wqh.lock);
	return fired;
}

/**
 * __twheel_ctx_next() - the earliest deadline armed in a file
 * @ctx: the file
 *
 * Exact, not a bound: the deadline as it was armed, which is when the next
 * event becomes due. Arming keeps the answer up to date at no cost; after
 * the timer it names is cancelled, re-armed for later or fires, the next
 * call finds it again. A connection waits in the file's wheel at the tick
 * of its earliest deadline or earlier (a kind re-armed for later moves it
 * only when that tick comes), so the search walks the connections the
 * expiry thread has handed out and not yet delivered, then the wheel's
 * earliest slot, where every other slot holds later ticks. A connection
 * found there too early is queued at its true tick on the way, work its
 * timer would otherwise cost when it came due; if that empties the slot, the
 * search goes on with the next one.
 *
 * Context: process context, @ctx->wqh.lock held; it may be let go and
 * taken again while an advance the thread stopped part-way is finished.
 * O(1) while the answer stands; otherwise O(connections handed out +
 * connections in the earliest slot + the number of them that moved).
 * Return: the deadline, CLOCK_MONOTONIC ns, or U64_MAX if nothing is armed.
 */
u64 __twheel_ctx_next(struct twheel_ctx *ctx)
{
	struct twheel_conn *conn;
	struct hlist_head *first;
	struct hlist_node *tmp;
	u64 next = U64_MAX;

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
	if (ctx->next_valid)
		return ctx->next_ns;

	hlist_for_each_entry(conn, &ctx->expired, timer.node)
		next = min(next, __twheel_conn_min(conn, conn->armed));

	while ((first = twheel_wheel_first(&ctx->wheel))) {
		u64 in_slot = U64_MAX;
		unsigned int way;

		for (way = 0; way < TWHEEL_WHEEL_WAYS; way++) {
			hlist_for_each_entry_safe(conn, tmp, &first[way],
						  timer.node) {
				u64 earliest = __twheel_conn_min(conn,
								 conn->armed);
				u64 tick = twheel_ns_to_tick_up(earliest);
				u32 idx = conn->timer.idx;

				if (tick > conn->timer.expires) {
					twheel_wheel_arm(&ctx->wheel,
							 &conn->timer, tick);
					/* Gone to a later slot? */
					if (conn->timer.idx != idx)
						continue;
				}
				in_slot = min(in_slot, earliest);
			}
		}
		if (in_slot != U64_MAX) {
			next = min(next, in_slot);
			break;
		}
	}

	ctx->next_ns = next;
	ctx->next_valid = true;
	return next;
}

/**
 * __twheel_ctx_pop() - take events off a file's ready list
 * @ctx: the file
 * @ev: where to put them
 * @max: room in @ev
 *
 * The events taken are gone from the file: their timers are no longer armed
 * or fired, and a cancel that comes after finds nothing.
 *
 * Context: @ctx->wqh.lock held.
 * Return: the number of events put in @ev.
 */
unsigned int __twheel_ctx_pop(struct twheel_ctx *ctx, struct twheel_event *ev,
			      unsigned int max)
{
	struct twheel_conn *conn;
	unsigned int n = 0;

	lockdep_assert_held(&ctx->wqh.lock);

	while (n < max && !list_empty(&ctx->ready)) {
		conn = list_first_entry(&ctx->ready, struct twheel_conn, link);
		while (n < max && conn->fired) {
			unsigned int kind = __ffs(conn->fired);
			u16 used = twheel_conn_used(conn);
			struct twheel_slot *slot;

			slot = &twheel_conn_slots(conn)[twheel_slot_idx(used,
									kind)];
			ev[n].conn_id = conn->node.key;
			ev[n].user_data = slot->user_data;
			ev[n].deadline_ns = slot->deadline;
			ev[n].fired_ns = slot->fired;
			ev[n].kind = kind;
			ev[n].flags = 0;
			n++;
			__twheel_conn_slot_remove(conn, used, kind);
			conn->fired &= ~BIT(kind);
		}
		if (!conn->fired) {
			list_del_init(&conn->link);
			if (!conn->armed)
				__twheel_conn_retire(ctx, conn);
		}
	}
	ctx->nr_queued -= n;
	ctx->stats.read += n;
	twheel_uncharge(n);
	twheel_stat_add(TWHEEL_STAT_EVENTS_READ, n);
	return n;
}

/**
 * twheel_ctx_create() - a new, empty timer context
 *
 * Context: process context.
 * Return: the context, holding one reference, or an ERR_PTR().
 */
struct twheel_ctx *twheel_ctx_create(void)
{
	struct twheel_ctx *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);

	init_waitqueue_head(&ctx->wqh);
	twheel_wheel_init(&ctx->wheel, twheel_ns_to_tick(ktime_get_ns()));
	INIT_HLIST_HEAD(&ctx->expired);
	INIT_LIST_HEAD(&ctx->ready);
	INIT_LIST_HEAD(&ctx->dead);
	INIT_LIST_HEAD(&ctx->list);
	ctx->next_ns = U64_MAX;
	ctx->next_valid = true;
	twheel_timer_init(&ctx->cpu_timer);
	refcount_set(&ctx->refs, 1);
	mutex_init(&ctx->mutex);
	ret = twheel_table_init(&ctx->conns);
	if (ret) {
		mutex_destroy(&ctx->mutex);
		kfree(ctx);
		return ERR_PTR(ret);
	}
	twheel_stat_inc(TWHEEL_STAT_CONTEXTS);
	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
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
	twheel_stat_dec(TWHEEL_STAT_CONTEXTS);
	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES, -(long)sizeof(*ctx));
	mutex_destroy(&ctx->mutex);
	kfree(ctx);
}

/**
 * twheel_ctx_close() - cancel everything a file owns and drop its reference
 * @ctx: the context of the file being released
 *
 * Context: process context, nothing else using the file.
 */
void twheel_ctx_close(struct twheel_ctx *ctx)
{
	u64 timers, armed;

	spin_lock(&ctx->wqh.lock);
	ctx->closed = true;
	__twheel_ctx_unschedule(ctx);
	armed = ctx->nr_armed;
	timers = armed + ctx->nr_queued;
	spin_unlock(&ctx->wqh.lock);

	/* Closing cancels what is armed. */
	twheel_stat_add(TWHEEL_STAT_CANCELS, armed);
	twheel_stat_add(TWHEEL_STAT_TIMERS_ARMED, -(long)armed);

	twheel_cpu_detach(ctx);
	/* No thread looks at the connections of a closed file. */
	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES, -(long)ctx->conns.bytes);
	twheel_table_destroy(&ctx->conns, twheel_conn_free_fn);
	twheel_stat_add(TWHEEL_STAT_MEMORY_BYTES,
			-(long)(ctx->nr_spare * sizeof(struct twheel_conn)));
	kmem_cache_free_bulk(twheel_conn_cache, ctx->nr_spare,
			     (void **)ctx->spare);
	twheel_uncharge(timers);
	twheel_ctx_put(ctx);
}

/**
 * twheel_conn_cache_init() - create the connection cache
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int twheel_conn_cache_init(void)
{
	BUILD_BUG_ON(sizeof(struct twheel_conn) > 96);

	twheel_conn_cache = KMEM_CACHE(twheel_conn, SLAB_ACCOUNT);
	return twheel_conn_cache ? 0 : -ENOMEM;
}

/**
 * twheel_conn_cache_exit() - destroy the connection cache
 *
 * Context: module exit, every connection freed.
 */
void twheel_conn_cache_exit(void)
{
	kmem_cache_destroy(twheel_conn_cache);
}
