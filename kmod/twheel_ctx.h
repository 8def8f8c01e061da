/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: the timer context of one open file. The theory of operation is
 * the DOC block at the top of twheel_ctx.c.
 */
#ifndef _TWHEEL_CTX_H
#define _TWHEEL_CTX_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/twheel.h>
#include "twheel.h"
#include "twheel_conn.h"
#include "twheel_ring.h"
#include "twheel_table.h"
#include "twheel_user.h"
#include "twheel_wheel.h"

/* Connections the expiry thread queues again in one go (twheel_simd.c). */
#define TWHEEL_REQUEUE_BATCH	64

/**
 * struct twheel_ctx_stats - per-file counters (see struct twheel_stats)
 * @arms: arm entries that armed an idle kind
 * @rearms: arm entries that replaced an armed or fired kind
 * @cancels: timers and events removed by a cancel
 * @fired: timers that fired
 * @read: events read
 * @wakeups: times the expiry thread woke the readers
 * @ring_entries: submission ring entries taken
 * @ring_errors: error records written for them
 * @ring_events: events put in the event ring
 * @ring_enters: TWHEEL_IOC_RING_ENTER calls
 * @ring_drain_ns: the expiry thread's time taking submission entries
 */
struct twheel_ctx_stats {
	u64 arms;
	u64 rearms;
	u64 cancels;
	u64 fired;
	u64 read;
	u64 wakeups;
	u64 ring_entries;
	u64 ring_errors;
	u64 ring_events;
	u64 ring_enters;
	u64 ring_drain_ns;
};

/**
 * struct twheel_chunk - a chunk of a batch, copied in and being applied
 * @arm: the entries of an arm batch, in kernel memory
 * @cancel: the entries of a cancel batch
 * @conn_id: the entries of a cancel-connection batch
 * @nodes: the table entry of each entry, before it is known as a connection
 * @links: for arm entries, where each entry's id is or would go in the table
 * @conns: the connection of each entry, NULL where there is none
 * @deadline: per arm entry, its deadline (twheel_cmd_prep())
 * @tick: per arm entry, the tick of its deadline (twheel_cmd_prep())
 * @cap: per arm entry, the capacity its connection must grow to, or 0
 * @slots: per arm entry, the array it grows into, then the one to free
 *
 * Scratch of the batch being applied: used only under &twheel_ctx.mutex.
 */
struct twheel_chunk {
	union {
		struct twheel_arm arm[TWHEEL_BATCH_CHUNK];
		struct twheel_cancel cancel[TWHEEL_BATCH_CHUNK];
		u64 conn_id[TWHEEL_BATCH_CHUNK];
	};
	union {
		struct twheel_table_node *nodes[TWHEEL_BATCH_CHUNK];
		struct twheel_table_node **links[TWHEEL_BATCH_CHUNK];
	};
	struct twheel_conn *conns[TWHEEL_BATCH_CHUNK];
	u64 deadline[TWHEEL_BATCH_CHUNK];
	u64 tick[TWHEEL_BATCH_CHUNK];
	u8 cap[TWHEEL_BATCH_CHUNK];
	struct twheel_slot *slots[TWHEEL_BATCH_CHUNK];
};

/**
 * struct twheel_requeue - connections the expiry thread is about to queue
 *	again
 * @conns: the connections
 * @next: the earliest deadline left armed in each, then its tick
 *
 * Scratch of one expiry: one per CPU, used only by that CPU's thread, and
 * emptied before it lets go of the file's lock (twheel_ctx_expire()).
 */
struct twheel_requeue {
	struct twheel_conn *conns[TWHEEL_REQUEUE_BATCH];
	u64 next[TWHEEL_REQUEUE_BATCH];
};

/**
 * struct twheel_ctx - one open file of /dev/twheel: an isolated timer context
 * @wqh: readers and pollers wait here; its lock, @wqh.lock, is the file's
 *	spinlock
 * @wheel: the file's connections, by the tick of their earliest deadline;
 *	@wqh.lock
 * @expired: connections the expiry thread took off @wheel and has not
 *	delivered yet; an ioctl may change them meanwhile; @wqh.lock
 * @ready: connections with events to read, in the order they first fired;
 *	@wqh.lock
 * @dead: connections with nothing armed or fired, freed by the next holder
 *	of @mutex; @wqh.lock
 * @cpu: the CPU whose wheel and thread serve this file; @wqh.lock
 * @cpu_pinned: TWHEEL_IOC_SET_CPU chose @cpu: readers do not move the file;
 *	@wqh.lock
 * @closed: the file is being released: the thread leaves it alone;
 *	@wqh.lock
 * @nr_armed: timers armed; @wqh.lock
 * @nr_queued: events waiting to be read; @wqh.lock
 * @nr_conns: connections with a timer armed or an event waiting; @wqh.lock
 * @next_ns: while @next_valid, the earliest armed deadline (U64_MAX: none);
 *	@wqh.lock
 * @next_valid: @next_ns is exact; arming keeps it so, removing the timer it
 *	names (a cancel, a re-arm for later, a firing) clears it; @wqh.lock
 * @stats: counters for TWHEEL_IOC_STATS; @wqh.lock
 * @expiry_gen: counts the expiry thread's lock holds on the file, for a
 *	NEXT that let the lock go to see whether the wheel changed; @wqh.lock
 * @ring: the shared rings, NULL until TWHEEL_IOC_RING_SETUP; set once
 *	under @mutex and @wqh.lock, freed with the file (twheel_ring.c)
 * @cpu_timer: waits in the wheel of CPU @cpu at the tick when @wheel has
 *	work next; that CPU's &twheel_cpu.lock
 * @refs: the file holds one reference, the expiry thread one while it works
 *	on the file
 * @user: the user that opened the file, who answers for its timers and
 *	connections (twheel_user.c); set at open
 * @unlimited: opened with %CAP_SYS_RESOURCE: exempt from the limits per
 *	user; set at open
 * @mutex: serialises the calls that change connections
 * @gfp: how connections and their slots are allocated: %GFP_KERNEL_ACCOUNT,
 *	or without sleeping while the expiry thread applies a ring; @mutex
 * @conns: connections by id; @mutex
 * @chunk: the chunk of the batch being applied; @mutex
 * @conn_blocks: the blocks of connections the file allocated
 *	(&struct twheel_conn_block); @mutex
 * @conn_partial: the blocks with a free connection, those emptied last at
 *	the end; @mutex
 * @nr_empty_blocks: blocks with no connection in use, at most one; @mutex
 * @list: in the list of open files; &twheel_ctx_list_lock
 */
struct twheel_ctx {
	wait_queue_head_t wqh;
	struct twheel_wheel wheel;
	struct hlist_head expired;
	struct list_head ready;
	struct list_head dead;
	unsigned int cpu;
	bool cpu_pinned;
	bool closed;
	u64 nr_armed;
	u64 nr_queued;
	u64 nr_conns;
	u64 next_ns;
	bool next_valid;
	struct twheel_ctx_stats stats;
	u64 expiry_gen;
	struct twheel_ring *ring;

	struct twheel_timer cpu_timer;
	refcount_t refs;
	struct twheel_user *user;
	bool unlimited;

	/* taken before @wqh.lock, never inside it */
	struct mutex mutex;
	gfp_t gfp;
	struct twheel_table conns;
	struct twheel_chunk chunk;
	struct list_head conn_blocks;
	struct list_head conn_partial;
	unsigned int nr_empty_blocks;

	struct list_head list;
};

/**
 * struct twheel_batch_res - the outcome of a batch so far
 * @applied: entries applied
 * @found: applied entries that found their timer armed or fired
 * @error: 0, or the errno of entry @applied
 */
struct twheel_batch_res {
	u32 applied;
	u32 found;
	int error;
};

struct twheel_ctx *twheel_ctx_create(kuid_t uid, bool unlimited);
void twheel_ctx_close(struct twheel_ctx *ctx);
void twheel_ctx_put(struct twheel_ctx *ctx);

bool __twheel_ctx_charge(struct twheel_ctx *ctx, unsigned long nr);
void twheel_ctx_uncharge(struct twheel_ctx *ctx, unsigned long nr);

void twheel_ctx_arm(struct twheel_ctx *ctx, unsigned int n,
		    struct twheel_batch_res *res);
void twheel_ctx_cancel(struct twheel_ctx *ctx, unsigned int n,
		       struct twheel_batch_res *res);
void twheel_ctx_cancel_conn(struct twheel_ctx *ctx, unsigned int n,
			    struct twheel_batch_res *res);

unsigned int twheel_ctx_expire(struct twheel_ctx *ctx,
			       struct twheel_requeue *requeue, bool *simd);
unsigned int twheel_ctx_expire_at(struct twheel_ctx *ctx,
				  struct twheel_requeue *requeue, bool *simd,
				  u64 at);
u64 __twheel_ctx_work_tick(struct twheel_ctx *ctx);
int twheel_ctx_next(struct twheel_ctx *ctx, u64 *next_ns, u64 *armed,
		    u64 *queued);
unsigned int __twheel_ctx_peek(struct twheel_ctx *ctx, struct twheel_event *ev,
			       unsigned int max);
void __twheel_ctx_take(struct twheel_ctx *ctx, unsigned int n);
unsigned int __twheel_ctx_pop(struct twheel_ctx *ctx, struct twheel_event *ev,
			      unsigned int max);

#endif /* _TWHEEL_CTX_H */
