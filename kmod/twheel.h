/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: what every file of the module shares: its parameters and limits,
 * the tick, and the order of its locks.
 */
#ifndef _TWHEEL_H
#define _TWHEEL_H

#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/types.h>

#include "twheel_simd.h"
#include "twheel_wheel.h"

/**
 * DOC: Locking
 *
 * Four locks, always taken in this order (a lock may be skipped, never
 * taken out of order):
 *
 * 1. &twheel_ctx.mutex, per open file: serialises the ioctls that change
 *    the file's connections (its hash table, allocations, slot arrays).
 *    The expiry thread takes it too, to apply a file's submission ring,
 *    but only with mutex_trylock(): a file whose mutex is held is left to
 *    the holder (twheel_ring.c), never waited for.
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
 *
 * Each struct member names the lock that protects it; a function whose name
 * starts with ``__`` expects the lock of the object it takes held, and says
 * so with lockdep_assert_held().
 */

/* Entries a batch copies in and applies under one lock hold. */
#define TWHEEL_BATCH_CHUNK	64
/* The largest batch, reported as twheel_handshake.max_batch. */
#define TWHEEL_MAX_BATCH	65536
/*
 * Timers one advance of a wheel (a file's or a CPU's) moves, expires or
 * cascades, before whoever holds its lock looks whether someone waits: a
 * slot of a million timers is never moved in one lock hold.
 */
#define TWHEEL_ADVANCE_BUDGET	1024

/**
 * struct twheel_clock - the time of a call, as the module and its caller see it
 * @now: CLOCK_MONOTONIC ns
 * @offset: what the caller's CLOCK_MONOTONIC adds to @now: not zero inside
 *	a time namespace with a monotonic offset
 *
 * Timers are kept in the host's CLOCK_MONOTONIC, which the expiry threads
 * read; every time that crosses the uapi is the caller's, as timerfd's are.
 */
struct twheel_clock {
	u64 now;
	s64 offset;
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
	return twheel_tick_up(ns, twheel_tick_ns);
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
 * queues by the distance from now, not from when it was last used. The
 * caller holds the wheel's lock.
 */
static inline void __twheel_catch_up(struct twheel_wheel *wheel,
				     struct hlist_head *expired)
{
	u64 tick;

	if (wheel->count)
		return;
	tick = twheel_ns_to_tick(ktime_get_ns());
	if (tick > wheel->now)
		twheel_wheel_advance(wheel, tick - 1, expired);
}

#endif /* _TWHEEL_H */
