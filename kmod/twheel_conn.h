/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: a connection, the timers of one id in one open file. The theory of
 * operation is the DOC block at the top of twheel_conn.c.
 */
#ifndef _TWHEEL_CONN_H
#define _TWHEEL_CONN_H

#include <linux/list.h>
#include <linux/types.h>

#include <linux/twheel.h>
#include "twheel_table.h"
#include "twheel_wheel.h"

struct twheel_ctx;

/**
 * struct twheel_tally - what a chunk's entries did, counted once per chunk
 * @created: connections created
 * @found: arm entries that found their kind armed or fired
 * @arms: arm entries that armed a kind not armed (idle, or fired)
 * @rearms: arm entries that re-armed an armed kind
 * @in_place: of @rearms, those that did not move the connection's timer
 * @charged: timers counted against the limits ahead, for the chunk's new
 *	timers, and not used yet
 * @cancels: armed kinds cancelled
 * @removed: kinds cancelled, armed or fired: timers given back
 *
 * The module's counters and the limits are shared (per CPU, or atomic):
 * a chunk adds to them once, not once per entry.
 */
struct twheel_tally {
	unsigned int created;
	unsigned int found;
	unsigned int arms;
	unsigned int rearms;
	unsigned int in_place;
	unsigned int charged;
	unsigned int cancels;
	unsigned int removed;
};

/**
 * struct twheel_slot - one armed or fired kind of a connection
 * @deadline: when it is due, CLOCK_MONOTONIC ns
 * @user_data: returned in its event
 * @fired: when the expiry thread found it due (valid while it is queued)
 *
 * Slots are not tagged with their kind: a connection stores the slots of
 * its used kinds (armed or fired) in kind order, so the slot of kind k is
 * at index hweight16(used & (BIT(k) - 1)).
 */
struct twheel_slot {
	u64 deadline;
	u64 user_data;
	u64 fired;
};

/**
 * struct twheel_conn - a connection: the timers of one id in one file
 * @timer: waits in &twheel_ctx.wheel at a tick no later than the earliest
 *	armed deadline, or on &twheel_ctx.expired once handed out, or nowhere
 *	when nothing is armed; &twheel_ctx.wqh.lock
 * @node: in &twheel_ctx.conns, keyed by the connection id the daemon chose;
 *	&twheel_ctx.mutex
 * @link: on &twheel_ctx.ready while @fired is not zero; on &twheel_ctx.dead
 *	while nothing is armed or fired; empty otherwise; &twheel_ctx.wqh.lock
 * @armed: kinds armed; &twheel_ctx.wqh.lock
 * @fired: kinds fired whose events wait to be read (never also armed);
 *	&twheel_ctx.wqh.lock
 * @want: kinds the chunk being prepared may arm; set under &twheel_ctx.mutex
 *	(WRITE_ONCE()), cleared under both, read by a shrink under
 *	&twheel_ctx.wqh.lock alone, which keeps room for them
 * @nr_alloc: capacity of @many, or 0 while the one slot is inline;
 *	&twheel_ctx.wqh.lock
 * @fresh: created by the chunk being prepared; &twheel_ctx.mutex
 * @one: the slot of the only used kind, while @nr_alloc is 0;
 *	&twheel_ctx.wqh.lock
 * @many: the slots of the used kinds, in kind order; as @nr_alloc
 *
 * Only the earliest deadline of a connection waits in the wheel (the
 * MsQuic/ngtcp2 model): re-arming a kind for a later time costs no wheel
 * operation, the timer simply fires early for nothing and is queued again
 * for the new earliest deadline. With one kind in use a connection takes
 * its place in a block of its file (&struct twheel_conn_block) and no
 * other allocation; with more, an array of slots that shrinks again when
 * kinds leave.
 */
struct twheel_conn {
	struct twheel_timer timer;
	struct twheel_table_node node;
	struct list_head link;
	u16 armed;
	u16 fired;
	u16 want;
	u8 nr_alloc;
	u8 fresh;
	union {
		struct twheel_slot one;
		struct twheel_slot *many;
	};
};

/* The memory of a block of connections, and of its header. */
#define TWHEEL_CONN_BLOCK_SIZE	4096
#define TWHEEL_CONN_BLOCK_HDR	64
/* Connections per block: 42. */
#define TWHEEL_CONN_PER_BLOCK						\
	((TWHEEL_CONN_BLOCK_SIZE - TWHEEL_CONN_BLOCK_HDR) /		\
	 sizeof(struct twheel_conn))
#define TWHEEL_CONN_BLOCK_FREE	GENMASK_ULL(TWHEEL_CONN_PER_BLOCK - 1, 0)

/**
 * struct twheel_conn_block - the header of a block of connections
 * @all: in &twheel_ctx.conn_blocks; &twheel_ctx.mutex
 * @partial: in &twheel_ctx.conn_partial while a connection of the block is
 *	free; &twheel_ctx.mutex
 * @free: bit i set if connection i of the block is free; &twheel_ctx.mutex
 *
 * A file takes its connections from blocks of %TWHEEL_CONN_BLOCK_SIZE bytes
 * that it allocates, aligned to their size: this header, then
 * %TWHEEL_CONN_PER_BLOCK connections from offset %TWHEEL_CONN_BLOCK_HDR.
 */
struct twheel_conn_block {
	struct list_head all;
	struct list_head partial;
	u64 free;
};

/* The kinds of @conn that hold a slot: armed or fired. */
static inline u16 twheel_conn_used(const struct twheel_conn *conn)
{
	return conn->armed | conn->fired;
}

bool twheel_conn_many(const struct twheel_ctx *ctx);
void twheel_conn_lookup_bulk(struct twheel_ctx *ctx, unsigned int n,
			     const u64 *id, size_t stride,
			     struct twheel_conn **conns);
unsigned long twheel_conn_find_bulk(struct twheel_ctx *ctx, unsigned int n,
				    const u64 *id, size_t stride,
				    struct twheel_conn **conns,
				    struct twheel_table_node ***links);
struct twheel_conn *twheel_conn_get(struct twheel_ctx *ctx, u64 id,
				    struct twheel_table_node **link,
				    struct twheel_tally *tally, int *err);
unsigned int __twheel_conn_room(const struct twheel_conn *conn);
struct twheel_slot *__twheel_conn_grow(struct twheel_conn *conn,
				       struct twheel_slot *slots,
				       unsigned int cap);
void twheel_conn_reap(struct twheel_ctx *ctx);
void twheel_conn_destroy_all(struct twheel_ctx *ctx);

void __twheel_conn_prefetch_unlink(struct twheel_ctx *ctx, unsigned int n,
				   struct twheel_conn **conns, const u64 *tick);
int __twheel_conn_arm(struct twheel_ctx *ctx, struct twheel_conn *conn,
		      const struct twheel_arm *arm, u64 deadline, u64 tick,
		      struct twheel_tally *tally);
void __twheel_conn_settle(struct twheel_ctx *ctx, struct twheel_conn *conn);
unsigned int __twheel_conn_cancel(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u16 bits,
				  struct twheel_tally *tally);
unsigned int __twheel_conn_expire(struct twheel_ctx *ctx,
				  struct twheel_conn *conn, u64 due_by,
				  u64 now, u64 *next_deadline);
u64 __twheel_conn_next(struct twheel_conn *conn);
unsigned int __twheel_conn_events(struct twheel_conn *conn,
				  struct twheel_event *ev, unsigned int max);
void __twheel_conn_take(struct twheel_ctx *ctx, struct twheel_conn *conn,
			unsigned int n);

#endif /* _TWHEEL_CONN_H */
