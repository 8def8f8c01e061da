// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: connections, the timers of one id in one open file.
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
 * **Memory.** A connection with one kind in use is 96 bytes of a block of
 * %TWHEEL_CONN_PER_BLOCK that its file allocates (4 KiB, charged to the
 * memory cgroup once for the whole block), plus its share of the table
 * (Documentation/device.rst has the sizes). Its second kind moves its
 * slots to an array sized for 2, 4, 8 or 16 kinds; when kinds leave
 * (cancelled, or read) and at most a quarter of the array is in use, the
 * slots move to a smaller array or, for one, back inline, so that a
 * timer's cost does not depend on how many kinds its connection once had.
 * New connections take the first free one of the blocks that have one, so
 * blocks fill before another is allocated; a block whose last connection
 * is freed is freed too, but for one empty block the file keeps for the
 * next ones. So an arm fails with -ENOMEM only when it needs a connection,
 * every block is full and a new one cannot be allocated. Blocks are not
 * compacted: a file whose connections were created together and then
 * mostly freed, one here and there, keeps the blocks the rest are in.
 * A connection with nothing armed or fired is put on
 * the file's dead list by whoever emptied it (the thread never does: it
 * only fires timers) and freed by whoever next holds the file's mutex: the
 * ioctl that emptied it, or the read() that did if the mutex is free.
 * Lookups run under that mutex, so they never see freed memory.
 */

#include <linux/bitops.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "twheel.h"
#include "twheel_conn.h"
#include "twheel_counters.h"
#include "twheel_ctx.h"
#include "twheel_trace.h"

/*
 * Connections from which a file looks up a chunk's ids at once: enough of
 * them, with their table, to fall out of a core's L2 cache
 * (twheel_table.c).
 */
#define TWHEEL_LOOKUP_BULK_MIN	8192

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
static u64 twheel_conn_min(struct twheel_conn *conn, u16 kinds)
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

/* The slots @conn must have room for: in use, or wanted by a chunk. */
static unsigned int __twheel_conn_need(const struct twheel_conn *conn)
{
	return hweight16(twheel_conn_used(conn) | READ_ONCE(conn->want));
}

/*
 * Moves the slots in use to @slots, room for @cap kinds, or inline if
 * @slots is NULL (at most one in use); returns the old array, or NULL.
 */
static struct twheel_slot *__twheel_conn_move(struct twheel_conn *conn,
					      struct twheel_slot *slots,
					      unsigned int cap)
{
	struct twheel_slot *old = conn->nr_alloc ? conn->many : NULL;
	unsigned int nr = hweight16(twheel_conn_used(conn));

	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
			   ((long)cap - conn->nr_alloc) * sizeof(*slots));
	if (!slots) {
		/* @one and @many share their memory: copy, then store. */
		struct twheel_slot one = nr ? old[0] : (struct twheel_slot){ 0 };

		conn->one = one;
		conn->nr_alloc = 0;
		return old;
	}
	memcpy(slots, twheel_conn_slots(conn), nr * sizeof(*slots));
	conn->many = slots;
	conn->nr_alloc = cap;
	return old;
}

/*
 * After kinds left @conn: when at most a quarter of its array is in use
 * (and not wanted by a chunk being prepared), moves the slots to an array
 * twice their number, or inline for one, so that what a timer costs does
 * not depend on how many kinds its connection once had. The smaller array
 * is taken without sleeping; if there is none to be had, the slots stay
 * where they are.
 */
static void __twheel_conn_shrink(struct twheel_conn *conn)
{
	unsigned int need = __twheel_conn_need(conn);
	struct twheel_slot *slots = NULL;
	unsigned int cap = 0;

	if (!conn->nr_alloc || need * 4 > conn->nr_alloc)
		return;
	if (need > 1) {
		cap = roundup_pow_of_two(need) * 2;
		slots = kmalloc_array(cap, sizeof(*slots),
				      GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT);
		if (!slots)
			return;
	}
	kfree(__twheel_conn_move(conn, slots, cap));
}

/* The block that holds @conn: blocks are aligned to their size. */
static struct twheel_conn_block *twheel_conn_block(struct twheel_conn *conn)
{
	return (struct twheel_conn_block *)((unsigned long)conn &
					    ~(TWHEEL_CONN_BLOCK_SIZE - 1UL));
}

static struct twheel_conn *twheel_block_conns(struct twheel_conn_block *block)
{
	return (struct twheel_conn *)((char *)block + TWHEEL_CONN_BLOCK_HDR);
}

/*
 * A free connection from the file's blocks, from a new block if none has
 * one: one allocation and one memory-cgroup charge per
 * %TWHEEL_CONN_PER_BLOCK connections.
 */
static struct twheel_conn *twheel_conn_take(struct twheel_ctx *ctx)
{
	struct twheel_conn_block *block;
	unsigned int i;

	BUILD_BUG_ON(sizeof(struct twheel_conn) > 96);
	BUILD_BUG_ON(sizeof(*block) > TWHEEL_CONN_BLOCK_HDR);
	BUILD_BUG_ON(TWHEEL_CONN_PER_BLOCK > 64);

	block = list_first_entry_or_null(&ctx->conn_partial,
					 struct twheel_conn_block, partial);
	if (!block) {
		/* A power-of-two kmalloc() is aligned to its size. */
		block = kmalloc(TWHEEL_CONN_BLOCK_SIZE, ctx->gfp);
		if (!block)
			return NULL;
		block->free = TWHEEL_CONN_BLOCK_FREE;
		list_add(&block->all, &ctx->conn_blocks);
		list_add(&block->partial, &ctx->conn_partial);
		ctx->nr_empty_blocks++;
		twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
				   TWHEEL_CONN_BLOCK_SIZE);
	}
	if (block->free == TWHEEL_CONN_BLOCK_FREE)
		ctx->nr_empty_blocks--;
	i = __ffs64(block->free);
	block->free &= ~BIT_ULL(i);
	if (!block->free)
		list_del(&block->partial);
	return &twheel_block_conns(block)[i];
}

/*
 * Gives @conn back to its block. A block left empty is freed if the file
 * keeps another empty one already: one is kept, so that a file that
 * creates and frees a few connections at a time does not allocate a block
 * for each; it goes last, so that new connections fill the blocks in use
 * first.
 */
static void twheel_conn_give(struct twheel_ctx *ctx, struct twheel_conn *conn)
{
	struct twheel_conn_block *block = twheel_conn_block(conn);

	if (!block->free)
		list_add(&block->partial, &ctx->conn_partial);
	block->free |= BIT_ULL(conn - twheel_block_conns(block));
	if (block->free != TWHEEL_CONN_BLOCK_FREE)
		return;
	if (ctx->nr_empty_blocks) {
		list_del(&block->partial);
		list_del(&block->all);
		kfree(block);
		twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
				   -TWHEEL_CONN_BLOCK_SIZE);
		return;
	}
	ctx->nr_empty_blocks++;
	list_move_tail(&block->partial, &ctx->conn_partial);
}

static struct twheel_conn *twheel_conn_alloc(struct twheel_ctx *ctx, u64 id)
{
	struct twheel_conn *conn = twheel_conn_take(ctx);

	if (!conn)
		return NULL;
	twheel_timer_init(&conn->timer);
	conn->node.key = id;
	INIT_LIST_HEAD(&conn->link);
	conn->armed = 0;
	conn->fired = 0;
	conn->want = 0;
	conn->nr_alloc = 0;
	conn->fresh = 1;
	return conn;
}

/*
 * Frees what @conn holds besides its place in its block; the caller counts
 * it out of the connections of the module and of the file's user.
 */
static void twheel_conn_release(struct twheel_conn *conn)
{
	if (conn->nr_alloc) {
		twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
				   -(long)(conn->nr_alloc *
					   sizeof(struct twheel_slot)));
		kfree(conn->many);
	}
}

/* The file is closing: its blocks go at once, after every connection. */
static void twheel_conn_free_fn(struct twheel_table_node *node)
{
	twheel_conn_release(container_of(node, struct twheel_conn, node));
}

/* Adds to the memory counter what the table's last change took or gave. */
static void twheel_conn_table_account(struct twheel_ctx *ctx, size_t before)
{
	if (unlikely(ctx->conns.bytes != before))
		twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
				   (long)ctx->conns.bytes - (long)before);
}

/*
 * A lookup read the line of a connection that holds its id; the chunk's
 * work also reads its timer's links and its masks and slot, which may be
 * on the line before or after (96 bytes span two lines). Warming both now
 * overlaps their misses, before __twheel_conn_prefetch_unlink() follows
 * the timer's links.
 */
static void twheel_conn_prefetch(struct twheel_conn *conn)
{
	prefetchw(&conn->timer);
	prefetchw(&conn->armed);
}

static struct twheel_conn *twheel_conn_lookup(struct twheel_ctx *ctx, u64 id)
{
	struct twheel_table_node *node = twheel_table_lookup(&ctx->conns, id);

	return node ? container_of(node, struct twheel_conn, node) : NULL;
}

/**
 * twheel_conn_many() - are a file's connections too many to stay cached?
 * @ctx: the file
 *
 * Whether @ctx has enough connections for their table and themselves to
 * fall out of the cache, so that a chunk's lookups are worth overlapping.
 *
 * Context: @ctx->mutex or @ctx->wqh.lock held (a hint either way).
 * Return: true if so.
 */
bool twheel_conn_many(const struct twheel_ctx *ctx)
{
	return ctx->conns.nr >= TWHEEL_LOOKUP_BULK_MIN;
}

/**
 * twheel_conn_lookup_bulk() - the connections of a chunk's ids
 * @ctx: the file
 * @n: how many ids
 * @id: the first id; the next one is @stride bytes on
 * @stride: bytes from one id to the next
 * @conns: out: the connection of each id, NULL where there is none
 *
 * With many connections their cache misses overlap
 * (twheel_table_lookup_bulk()); with few it finds them one by one.
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_conn_lookup_bulk(struct twheel_ctx *ctx, unsigned int n,
			     const u64 *id, size_t stride,
			     struct twheel_conn **conns)
{
	struct twheel_table_node **nodes = ctx->chunk.nodes;
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	if (!twheel_conn_many(ctx)) {
		for (i = 0; i < n; i++, id = twheel_table_next_key(id, stride))
			conns[i] = twheel_conn_lookup(ctx, *id);
		return;
	}
	twheel_table_lookup_bulk(&ctx->conns, n, id, stride, nodes);
	for (i = 0; i < n; i++) {
		conns[i] = nodes[i] ? container_of(nodes[i], struct twheel_conn,
						   node) : NULL;
		if (conns[i])
			twheel_conn_prefetch(conns[i]);
	}
}

/**
 * twheel_conn_find_bulk() - the connections of a chunk's arm ids, and where
 *	the missing ones go
 * @ctx: the file, with many connections (twheel_conn_many())
 * @n: how many ids
 * @id: the first id; the next one is @stride bytes on
 * @stride: bytes from one id to the next
 * @conns: out: the connection of each id, NULL where there is none
 * @links: out: where each id is, or would go, in the table
 *
 * Looks the ids up at once, as twheel_conn_lookup_bulk() does, for
 * twheel_conn_get() to create the missing ones without looking them up
 * again while the table's generation stays the same.
 *
 * Context: process context, @ctx->mutex held.
 * Return: the table's generation.
 */
unsigned long twheel_conn_find_bulk(struct twheel_ctx *ctx, unsigned int n,
				    const u64 *id, size_t stride,
				    struct twheel_conn **conns,
				    struct twheel_table_node ***links)
{
	unsigned int i;

	lockdep_assert_held(&ctx->mutex);

	twheel_table_lookup_bulk_link(&ctx->conns, n, id, stride, links);
	for (i = 0; i < n; i++) {
		conns[i] = *links[i] ? container_of(*links[i],
						    struct twheel_conn, node) :
				       NULL;
		if (conns[i])
			twheel_conn_prefetch(conns[i]);
	}
	return ctx->conns.gen;
}

/**
 * __twheel_conn_prefetch_unlink() - warm the wheel neighbours a chunk writes
 * @ctx: the file
 * @n: how many connections
 * @conns: the chunk's connections, NULL where there is none
 * @tick: NULL for cancels, which may take every timer off; for arms, each
 *	entry's tick: only the timers that an entry moves earlier are warmed
 *
 * Before a chunk's cancels or moves in a file with many connections, so
 * that their cache misses overlap. Only a hint: it changes nothing.
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_conn_prefetch_unlink(struct twheel_ctx *ctx, unsigned int n,
				   struct twheel_conn **conns, const u64 *tick)
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

/**
 * twheel_conn_get() - the connection of an id, created if there is none
 * @ctx: the file
 * @id: the connection id
 * @link: NULL, or where twheel_conn_find_bulk() found @id would go, the
 *	table's generation unchanged since
 * @tally: the chunk's tally, whose @created counts the connection if new
 * @err: out: -ENOMEM if there was none and none could be allocated
 *
 * A new connection is marked fresh: the chunk that created it gives it
 * back with __twheel_conn_settle() unless it armed a kind. It goes at the
 * end of the chain the lookup walked, which is not walked again; with
 * @link, the lookup goes on from there (the chunk may have added entries
 * after it, @id among them).
 *
 * Context: process context, @ctx->mutex held.
 * Return: the connection, or NULL.
 */
struct twheel_conn *twheel_conn_get(struct twheel_ctx *ctx, u64 id,
				    struct twheel_table_node **link,
				    struct twheel_tally *tally, int *err)
{
	struct twheel_conn *conn;
	size_t before;

	lockdep_assert_held(&ctx->mutex);

	if (link)
		link = twheel_table_lookup_from(link, id);
	else
		link = twheel_table_lookup_link(&ctx->conns, id);
	if (*link)
		return container_of(*link, struct twheel_conn, node);

	conn = twheel_conn_alloc(ctx, id);
	if (!conn) {
		*err = -ENOMEM;
		return NULL;
	}
	before = ctx->conns.bytes;
	twheel_table_insert_link(&ctx->conns, link, &conn->node);
	twheel_conn_table_account(ctx, before);
	tally->created++;
	return conn;
}

/**
 * __twheel_conn_room() - the room a connection lacks for the kinds it may gain
 * @conn: a connection of the chunk being prepared, with the kinds the chunk
 *	may arm in @conn->want
 *
 * Only the file's mutex adds kinds, and a shrink (after kinds left, maybe
 * by a read() without the mutex) keeps room for @conn->want, which stays
 * set until __twheel_conn_settle(): room found or made now is still there
 * when the chunk is applied.
 *
 * Context: the file's mutex and wqh.lock held.
 * Return: 0 if it has room, else the capacity to grow to.
 */
unsigned int __twheel_conn_room(const struct twheel_conn *conn)
{
	unsigned int need = __twheel_conn_need(conn);

	return need <= twheel_conn_capacity(conn) ? 0 : roundup_pow_of_two(need);
}

/**
 * __twheel_conn_grow() - move a connection's slots to a larger array
 * @conn: the connection
 * @slots: room for @cap kinds, allocated after __twheel_conn_room() said so
 * @cap: what __twheel_conn_room() said
 *
 * Context: the file's mutex and wqh.lock held.
 * Return: what the caller frees: the old array, or @slots if kinds left
 * meanwhile and it is not needed.
 */
struct twheel_slot *__twheel_conn_grow(struct twheel_conn *conn,
				       struct twheel_slot *slots,
				       unsigned int cap)
{
	if (__twheel_conn_need(conn) <= twheel_conn_capacity(conn))
		return slots;
	return __twheel_conn_move(conn, slots, cap);
}

/**
 * __twheel_conn_settle() - end a chunk's work on a connection
 * @ctx: the file
 * @conn: a connection the chunk found or created
 *
 * Forgets what the chunk noted in @conn and, if the chunk created it but
 * armed nothing in it, queues it for freeing.
 *
 * Context: @ctx->mutex and @ctx->wqh.lock held.
 */
void __twheel_conn_settle(struct twheel_ctx *ctx, struct twheel_conn *conn)
{
	lockdep_assert_held(&ctx->mutex);
	lockdep_assert_held(&ctx->wqh.lock);

	conn->want = 0;
	if (!conn->fresh)
		return;
	conn->fresh = 0;
	if (!twheel_conn_used(conn) && list_empty(&conn->link))
		list_add_tail(&conn->link, &ctx->dead);
}

/* Takes the events of @bits off the ready list; their slots stay. */
static void __twheel_conn_unqueue(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u16 bits)
{
	lockdep_assert_held(&ctx->wqh.lock);

	conn->fired &= ~bits;
	ctx->nr_queued -= hweight16(bits);
	if (!conn->fired)
		list_del_init(&conn->link);
}

/* Queues a connection left with nothing armed or fired for freeing. */
static void __twheel_conn_retire(struct twheel_ctx *ctx,
				 struct twheel_conn *conn)
{
	lockdep_assert_held(&ctx->wqh.lock);

	ctx->nr_conns--;
	list_add_tail(&conn->link, &ctx->dead);
}

/**
 * __twheel_conn_arm() - arm or re-arm one kind of a connection
 * @ctx: the file
 * @conn: the connection, with room for @arm's kind (__twheel_conn_room())
 * @arm: the entry, checked by twheel_cmd_prep()
 * @deadline: its deadline, from twheel_cmd_prep()
 * @tick: the tick of @deadline, from twheel_cmd_prep()
 * @tally: the chunk's tally: what the entry did is added to it, and a new
 *	timer uses one of its @charged timers if it has any
 *
 * Context: @ctx->wqh.lock held.
 * Return: 0, or -ENOSPC when a quota is reached.
 */
int __twheel_conn_arm(struct twheel_ctx *ctx, struct twheel_conn *conn,
		      const struct twheel_arm *arm, u64 deadline, u64 tick,
		      struct twheel_tally *tally)
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
		if (tally->charged) {
			tally->charged--;
		} else if (!__twheel_ctx_charge(ctx, 1)) {
			twheel_counter_inc(TWHEEL_CTR_QUOTA_REFUSALS);
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
		tally->found++;
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
		if (trace_twheel_rearm_enabled())
			trace_twheel_rearm(ctx, conn, arm->kind, slot);
		tally->rearms++;
		tally->in_place += !moved;
	} else {
		if (trace_twheel_arm_enabled())
			trace_twheel_arm(ctx, conn, arm->kind, slot);
		tally->arms++;
	}
	return 0;
}

/**
 * __twheel_conn_cancel() - cancel kinds of a connection, armed or fired
 * @ctx: the file
 * @conn: the connection
 * @bits: the kinds
 * @tally: the chunk's tally, to which the timers cancelled are added; the
 *	caller gives them back (twheel_ctx_tally_cancels())
 *
 * Context: @ctx->wqh.lock held.
 * Return: how many of @bits were armed or fired.
 */
unsigned int __twheel_conn_cancel(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u16 bits,
				  struct twheel_tally *tally)
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
	    twheel_conn_min(conn, conn->armed & bits) == ctx->next_ns)
		ctx->next_valid = false;

	for (left = bits; left; left &= left - 1) {
		unsigned int kind = __ffs(left);

		if (trace_twheel_cancel_enabled())
			trace_twheel_cancel(ctx, conn, kind,
					    &twheel_conn_slots(conn)[twheel_slot_idx(used, kind)]);
		__twheel_conn_slot_remove(conn, used, kind);
		used &= ~BIT(kind);
	}
	if (conn->fired & bits)
		__twheel_conn_unqueue(ctx, conn, conn->fired & bits);
	nr_armed = hweight16(conn->armed & bits);
	ctx->nr_armed -= nr_armed;
	conn->armed &= ~bits;
	tally->cancels += nr_armed;
	tally->removed += nr;

	if (!conn->armed) {
		/* Out of the wheel, or off ctx->expired if handed out. */
		if (!twheel_wheel_cancel(&ctx->wheel, &conn->timer))
			hlist_del_init(&conn->timer.node);
		if (!conn->fired)
			__twheel_conn_retire(ctx, conn);
	}
	__twheel_conn_shrink(conn);
	ctx->stats.cancels += nr;
	return nr;
}

/**
 * twheel_conn_reap() - free the connections left with nothing armed or fired
 * @ctx: the file
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_conn_reap(struct twheel_ctx *ctx)
{
	struct twheel_conn *conn, *tmp;
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
		twheel_conn_release(conn);
		twheel_conn_give(ctx, conn);
		/* A large read can leave a great many to free. */
		if (!(++nr % TWHEEL_BATCH_CHUNK))
			cond_resched();
	}
	if (nr) {
		twheel_counter_add(TWHEEL_CTR_CONNECTIONS, -(long)nr);
		twheel_user_conns_add(ctx->user, -(long)nr);
	}
}

/**
 * __twheel_conn_expire() - fire the kinds of a connection that are due
 * @ctx: the file
 * @conn: the connection, handed out by the file's wheel
 * @due_by: the start of the turn's tick, CLOCK_MONOTONIC ns: kinds whose
 *	tick has come by then fire
 * @now: the time they fire at, not before @due_by
 * @next_deadline: out: the earliest deadline left armed, U64_MAX if none;
 *	if there is one, the caller queues the timer again
 *
 * A kind fires in the tick its deadline rounds up to, as a connection's
 * earliest does, never in an earlier turn because another kind of its
 * connection came due: an entry of the ring published before that tick
 * must find it armed. A kind due after @due_by waits for a later turn, even
 * if it is due by @now.
 *
 * Context: @ctx->wqh.lock held.
 * Return: how many kinds it fired.
 */
unsigned int __twheel_conn_expire(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u64 due_by,
				  u64 now, u64 *next_deadline)
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

		if (slot->deadline <= due_by) {
			slot->fired = now;
			due |= BIT(kind);
			twheel_counter_lateness(now - slot->deadline);
			if (trace_twheel_fire_enabled())
				trace_twheel_fire(ctx, conn, kind, slot);
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
		conn->fired |= due;
		conn->armed &= ~due;
		ctx->nr_armed -= nr;
		ctx->nr_queued += nr;
		ctx->stats.fired += nr;
	}
	*next_deadline = next;
	return nr;
}

/**
 * __twheel_conn_next() - the earliest deadline armed in a connection
 * @conn: the connection
 *
 * Context: the file's wqh.lock held.
 * Return: the deadline, CLOCK_MONOTONIC ns, or U64_MAX if nothing is armed.
 */
u64 __twheel_conn_next(struct twheel_conn *conn)
{
	return twheel_conn_min(conn, conn->armed);
}

/**
 * __twheel_conn_events() - the events of a connection's fired kinds
 * @conn: a connection on its file's ready list
 * @ev: where to put them
 * @max: room in @ev
 *
 * Changes nothing: __twheel_conn_take() then removes what was delivered.
 *
 * Context: the file's wqh.lock held.
 * Return: the number of events put in @ev, in kind order.
 */
unsigned int __twheel_conn_events(struct twheel_conn *conn,
				  struct twheel_event *ev, unsigned int max)
{
	struct twheel_slot *slots = twheel_conn_slots(conn);
	u16 used = twheel_conn_used(conn);
	u16 fired = conn->fired;
	unsigned int n = 0;

	for (; n < max && fired; fired &= fired - 1) {
		unsigned int kind = __ffs(fired);
		struct twheel_slot *slot = &slots[twheel_slot_idx(used, kind)];

		ev[n].conn_id = conn->node.key;
		ev[n].user_data = slot->user_data;
		ev[n].deadline_ns = slot->deadline;
		ev[n].fired_ns = slot->fired;
		ev[n].kind = kind;
		ev[n].flags = 0;
		n++;
	}
	return n;
}

/**
 * __twheel_conn_take() - remove a connection's first fired kinds
 * @ctx: the file
 * @conn: a connection on @ctx's ready list
 * @n: how many, at most its number of fired kinds
 *
 * The events of the @n lowest fired kinds, as __twheel_conn_events() gave
 * them, are delivered: their kinds are no longer armed or fired. A
 * connection with no event left leaves the ready list, and one with nothing
 * armed either is queued for freeing. The caller accounts for the events.
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_conn_take(struct twheel_ctx *ctx, struct twheel_conn *conn,
			unsigned int n)
{
	lockdep_assert_held(&ctx->wqh.lock);

	for (; n && conn->fired; n--) {
		unsigned int kind = __ffs(conn->fired);

		if (trace_twheel_read_enabled())
			trace_twheel_read(ctx, conn, kind, __twheel_conn_slot(conn, kind));
		__twheel_conn_slot_remove(conn, twheel_conn_used(conn), kind);
		conn->fired &= ~BIT(kind);
	}
	__twheel_conn_shrink(conn);
	if (!conn->fired) {
		list_del_init(&conn->link);
		if (!conn->armed)
			__twheel_conn_retire(ctx, conn);
	}
}

/**
 * twheel_conn_destroy_all() - free every connection of a file, and its blocks
 * @ctx: the file, closed: no thread looks at its connections any more
 *
 * Context: process context, nothing else using the file.
 */
void twheel_conn_destroy_all(struct twheel_ctx *ctx)
{
	struct twheel_conn_block *block, *tmp;

	twheel_user_conns_add(ctx->user, -(long)ctx->conns.nr);
	twheel_counter_add(TWHEEL_CTR_CONNECTIONS, -(long)ctx->conns.nr);
	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES, -(long)ctx->conns.bytes);
	twheel_table_destroy(&ctx->conns, twheel_conn_free_fn);
	list_for_each_entry_safe(block, tmp, &ctx->conn_blocks, all) {
		kfree(block);
		twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
				   -TWHEEL_CONN_BLOCK_SIZE);
	}
	INIT_LIST_HEAD(&ctx->conn_blocks);
	INIT_LIST_HEAD(&ctx->conn_partial);
	ctx->nr_empty_blocks = 0;
}
