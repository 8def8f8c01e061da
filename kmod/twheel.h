/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: private declarations shared by the module's files.
 */
#ifndef _TWHEEL_H
#define _TWHEEL_H

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/twheel.h>
#include "twheel_table.h"
#include "twheel_wheel.h"

/**
 * DOC: Locking
 *
 * Four locks, always taken in this order (a lock may be skipped, never
 * taken out of order):
 *
 * 1. &twheel_ctx.mutex, per open file: serialises the ioctls that change
 *    the file's connections (its hash table, allocations, slot arrays).
 * 2. &twheel_ctx_list_lock, global mutex: the list of open files, walked
 *    when a CPU goes offline. Taken inside cpus_read_lock() (open) or the
 *    hotplug lock (offline); never together with 1.
 * 3. &twheel_ctx.wqh.lock, per open file: everything about its timers (its
 *    wheel, every connection's slots and masks, the ready list, counters,
 *    the CPU serving it). It is the lock of the file's wait queue, so a
 *    wake-up under it costs no second lock (as in fs/timerfd.c).
 * 4. &twheel_cpu.lock, per CPU: that CPU's wheel of files, its list of files
 *    handed out for expiry, and its hrtimer's programmed tick.
 *
 * The expiry thread holds 4 while it advances its wheel, then drops it
 * before taking a file's 3: a file it took off its list is pinned by a
 * reference, not by the lock. Nothing is ever taken from interrupt context:
 * the hrtimer callback only wakes the thread, so 3 and 4 are plain spinlocks.
 */

/* Entries a batch ioctl copies in and applies under one lock hold. */
#define TWHEEL_BATCH_CHUNK	64
/*
 * Connections from which a file looks up a chunk's ids at once: about a
 * megabyte of them, more than a core's L2 cache holds (twheel_table.c).
 */
#define TWHEEL_LOOKUP_BULK_MIN	8192
/* Connections the expiry thread queues again in one go (twheel_simd.c). */
#define TWHEEL_REQUEUE_BATCH	64
/* The largest batch, reported as twheel_handshake.max_batch. */
#define TWHEEL_MAX_BATCH	65536

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
 *	when nothing is armed
 * @node: in &twheel_ctx.conns, keyed by the connection id the daemon chose
 * @link: on &twheel_ctx.ready while @fired is not zero; on &twheel_ctx.dead
 *	while nothing is armed or fired; empty otherwise
 * @armed: kinds armed
 * @fired: kinds fired whose events wait to be read (never also armed)
 * @want: kinds the batch being prepared may arm (under the mutex only)
 * @nr_alloc: capacity of @many, or 0 while the one slot is inline
 * @fresh: created by the batch being prepared (under the mutex only)
 * @one: the slot of the only used kind, while @nr_alloc is 0
 * @many: the slots of the used kinds, in kind order
 *
 * Only the earliest deadline of a connection waits in the wheel (the
 * MsQuic/ngtcp2 model): re-arming a kind for a later time costs no wheel
 * operation, the timer simply fires early for nothing and is queued again
 * for the new earliest deadline. With one kind in use a connection takes
 * 96 bytes and no other allocation.
 *
 * Everything but @node, @want and @fresh is protected by the file's
 * wqh.lock.
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

/**
 * struct twheel_ctx_stats - per-file counters (see struct twheel_stats)
 * @arms: arm entries that armed an idle kind
 * @rearms: arm entries that replaced an armed or fired kind
 * @cancels: timers and events removed by a cancel
 * @fired: timers that fired
 * @read: events read
 * @wakeups: times the expiry thread woke the readers
 */
struct twheel_ctx_stats {
	u64 arms;
	u64 rearms;
	u64 cancels;
	u64 fired;
	u64 read;
	u64 wakeups;
};

/**
 * struct twheel_ctx - one open file of /dev/twheel: an isolated timer context
 * @wqh: readers and pollers wait here; @wqh.lock protects the members up to
 *	and including @requeue_next
 * @wheel: the file's connections, by the tick of their earliest deadline
 * @expired: connections the expiry thread took off @wheel and has not
 *	delivered yet; an ioctl may change them meanwhile
 * @ready: connections with events to read, in the order they first fired
 * @dead: connections with nothing armed or fired, freed by the next ioctl
 * @cpu: the CPU whose wheel and thread serve this file
 * @cpu_pinned: TWHEEL_IOC_SET_CPU chose @cpu: readers do not move the file
 * @closed: the file is being released: the thread leaves it alone
 * @nr_armed: timers armed
 * @nr_queued: events waiting to be read
 * @nr_conns: connections with a timer armed or an event waiting
 * @next_ns: while @next_valid, the earliest armed deadline (U64_MAX: none)
 * @next_valid: @next_ns is exact; arming keeps it so, removing the timer it
 *	names (a cancel, a re-arm for later, a firing) clears it
 * @stats: counters for TWHEEL_IOC_STATS
 * @requeue: connections the expiry thread is about to queue again
 * @requeue_next: the earliest deadline left of each, then its tick
 * @cpu_timer: waits in the wheel of CPU @cpu at the tick when @wheel has
 *	work next; protected by that CPU's &twheel_cpu.lock
 * @refs: the file holds one reference, the expiry thread one while it works
 *	on the file
 * @mutex: serialises the ioctls that change connections; protects @conns
 *	@spare and the chunk buffers
 * @conns: connections by id
 * @list: in the list of open files (&twheel_ctx_list_lock)
 * @chunk: a chunk of batch entries copied from user space
 * @chunk_nodes: the table entry of each entry of @chunk, before it is known
 *	as a connection
 * @chunk_conns: the connection of each entry of @chunk
 * @spare: connections allocated in bulk, or freed, kept for the next ones
 * @nr_spare: entries of @spare in use
 * @chunk_deadline: the deadline of each entry of @chunk
 * @chunk_tick: the tick of each entry of @chunk
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
	struct twheel_conn *requeue[TWHEEL_REQUEUE_BATCH];
	u64 requeue_next[TWHEEL_REQUEUE_BATCH];

	struct twheel_timer cpu_timer;
	refcount_t refs;

	/* serialises the ioctls that change connections */
	struct mutex mutex;
	struct twheel_table conns;
	struct list_head list;
	union {
		struct twheel_arm arm[TWHEEL_BATCH_CHUNK];
		struct twheel_cancel cancel[TWHEEL_BATCH_CHUNK];
		u64 conn_id[TWHEEL_BATCH_CHUNK];
	} chunk;
	struct twheel_table_node *chunk_nodes[TWHEEL_BATCH_CHUNK];
	struct twheel_conn *chunk_conns[TWHEEL_BATCH_CHUNK];
	struct twheel_conn *spare[TWHEEL_BATCH_CHUNK];
	unsigned int nr_spare;
	u64 chunk_deadline[TWHEEL_BATCH_CHUNK];
	u64 chunk_tick[TWHEEL_BATCH_CHUNK];
};

/**
 * struct twheel_batch_res - the outcome of a batch ioctl so far
 * @applied: entries applied
 * @found: applied entries that found their timer armed or fired
 * @error: 0, or the errno of entry @applied
 */
struct twheel_batch_res {
	u32 applied;
	u32 found;
	int error;
};

/* Module parameters and global state (twheel_main.c) */
extern u64 twheel_tick_ns;
extern u64 twheel_max_timeout_ns;
extern unsigned long twheel_quota;
extern unsigned long twheel_max_timers;
extern atomic_long_t twheel_nr_timers;
extern struct miscdevice twheel_miscdev;

/* The tick that a deadline of @ns falls due at: rounded up, never early. */
static inline u64 twheel_ns_to_tick_up(u64 ns)
{
	return div64_u64(ns + twheel_tick_ns - 1, twheel_tick_ns);
}

/* The last tick that has fully begun at time @ns. */
static inline u64 twheel_ns_to_tick(u64 ns)
{
	return div64_u64(ns, twheel_tick_ns);
}

static inline u64 twheel_tick_to_ns(u64 tick)
{
	if (tick > div64_u64(KTIME_MAX, twheel_tick_ns))
		return KTIME_MAX;
	return tick * twheel_tick_ns;
}

/*
 * An empty wheel can be moved to the present for free; then arming it
 * queues by the distance from now, not from when it was last used.
 */
static inline void __twheel_wheel_catch_up(struct twheel_wheel *wheel,
					   struct hlist_head *expired)
{
	u64 tick;

	if (wheel->count)
		return;
	tick = twheel_ns_to_tick(ktime_get_ns());
	if (tick > wheel->now)
		twheel_wheel_advance(wheel, tick - 1, expired);
}

/* Connections and contexts (twheel_conn.c) */
int twheel_conn_cache_init(void);
void twheel_conn_cache_exit(void);
struct twheel_ctx *twheel_ctx_create(void);
void twheel_ctx_close(struct twheel_ctx *ctx);
void twheel_ctx_put(struct twheel_ctx *ctx);
void twheel_ctx_arm(struct twheel_ctx *ctx, unsigned int n, u64 now,
		    struct twheel_batch_res *res);
void twheel_ctx_cancel(struct twheel_ctx *ctx, unsigned int n,
		       struct twheel_batch_res *res);
void twheel_ctx_cancel_conn(struct twheel_ctx *ctx, unsigned int n,
			    struct twheel_batch_res *res);
void twheel_ctx_reap(struct twheel_ctx *ctx);
unsigned int twheel_ctx_expire(struct twheel_ctx *ctx, bool *simd);
u64 __twheel_ctx_next(struct twheel_ctx *ctx);
unsigned int __twheel_ctx_pop(struct twheel_ctx *ctx, struct twheel_event *ev,
			      unsigned int max);

/* Per-CPU wheels and threads (twheel_cpu.c) */
int twheel_cpu_init(void);
void twheel_cpu_exit(void);
void twheel_cpu_attach(struct twheel_ctx *ctx);
void twheel_cpu_detach(struct twheel_ctx *ctx);
void __twheel_ctx_schedule(struct twheel_ctx *ctx);
void __twheel_ctx_unschedule(struct twheel_ctx *ctx);
int twheel_ctx_set_cpu(struct twheel_ctx *ctx, unsigned int cpu);
void __twheel_ctx_follow(struct twheel_ctx *ctx);

#endif /* _TWHEEL_H */
