/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: per-CPU counters, shown in debugfs. The format is documented in
 * Documentation/stats.rst; the DOC block is at the top of twheel_counters.c.
 */
#ifndef _TWHEEL_COUNTERS_H
#define _TWHEEL_COUNTERS_H

#include <linux/compiler.h>
#include <linux/percpu.h>
#include <linux/types.h>

/**
 * enum twheel_counter - the counters, in the order debugfs shows them
 * @TWHEEL_CTR_ARMS: timers armed that were not armed (an unread event of
 *	the same timer does not count as armed)
 * @TWHEEL_CTR_REARMS: timers armed again while armed
 * @TWHEEL_CTR_REARMS_IN_PLACE: the part of @TWHEEL_CTR_REARMS that moved
 *	nothing on a wheel
 * @TWHEEL_CTR_CANCELS: armed timers cancelled, one per timer
 * @TWHEEL_CTR_EXPIRIES: timers that expired (fired)
 * @TWHEEL_CTR_CASCADES: timers moved from an upper wheel level to a lower one
 * @TWHEEL_CTR_EVENTS_QUEUED: events queued for user space
 * @TWHEEL_CTR_EVENTS_READ: events user space has read
 * @TWHEEL_CTR_WAKEUPS: wake-ups of the per-CPU threads
 * @TWHEEL_CTR_WAKEUPS_IDLE: the part of @TWHEEL_CTR_WAKEUPS that found
 *	nothing to expire
 * @TWHEEL_CTR_BATCHES_SIMD: expiry batches that used SIMD
 * @TWHEEL_CTR_BATCHES_SCALAR: expiry batches that did not use SIMD
 * @TWHEEL_CTR_QUOTA_REFUSALS: arms refused because a quota was reached
 * @TWHEEL_CTR_HRTIMER_LATE_NS: sum over wake-ups of the time from the
 *	instant the thread's hrtimer was programmed for to its callback, in ns
 * @TWHEEL_CTR_WAKEUP_NS: sum over wake-ups of the time from that instant
 *	to the thread starting its work (includes the hrtimer part), in ns
 * @TWHEEL_CTR_RUN_NS: sum over wake-ups of the time the thread then worked
 *	(advancing wheels and delivering events), in ns
 * @TWHEEL_CTR_RUN_PREEMPTED: wake-ups during whose work the thread was
 *	switched out for another task
 * @TWHEEL_CTR_ADVANCE_STOPS: times a file's wheel advance stopped on its
 *	budget, so that the thread could let the file's lock go
 * @TWHEEL_CTR_FILE_MOVES: files moved to another CPU's wheel (by a reader
 *	about to wait, TWHEEL_IOC_SET_CPU or CPU hotplug)
 * @TWHEEL_CTR_RING_ENTRIES: submission ring entries taken
 * @TWHEEL_CTR_RING_ERRORS: error records written for bad ring entries
 * @TWHEEL_CTR_RING_EVENTS: events written into event rings
 * @TWHEEL_CTR_RING_ENTERS: TWHEEL_IOC_RING_ENTER calls
 * @TWHEEL_CTR_RING_DEFERRED: turns the expiry thread left to an ioctl that
 *	held the file's mutex
 * @TWHEEL_CTR_RING_PUNTED: drains the expiry thread handed to a worker, for
 *	memory it may not sleep for
 * @TWHEEL_CTR_TIMERS_ARMED: gauge, timers armed now
 * @TWHEEL_CTR_CONTEXTS: gauge, open files of /dev/twheel
 * @TWHEEL_CTR_CONNECTIONS: gauge, connections that exist now
 * @TWHEEL_CTR_MEMORY_BYTES: gauge, bytes the module has allocated for
 *	contexts, connections, timers and events
 * @TWHEEL_NR_COUNTERS: the number of counters
 *
 * The counters before %TWHEEL_CTR_TIMERS_ARMED only ever grow. The gauges
 * from %TWHEEL_CTR_TIMERS_ARMED on go up and down, and the CPU that takes
 * one down need not be the CPU that put it up: only their sum over all
 * CPUs means something. New counters are added before %TWHEEL_NR_COUNTERS
 * and their names appended to the table in twheel_counters.c.
 */
enum twheel_counter {
	TWHEEL_CTR_ARMS,
	TWHEEL_CTR_REARMS,
	TWHEEL_CTR_REARMS_IN_PLACE,
	TWHEEL_CTR_CANCELS,
	TWHEEL_CTR_EXPIRIES,
	TWHEEL_CTR_CASCADES,
	TWHEEL_CTR_EVENTS_QUEUED,
	TWHEEL_CTR_EVENTS_READ,
	TWHEEL_CTR_WAKEUPS,
	TWHEEL_CTR_WAKEUPS_IDLE,
	TWHEEL_CTR_BATCHES_SIMD,
	TWHEEL_CTR_BATCHES_SCALAR,
	TWHEEL_CTR_QUOTA_REFUSALS,
	TWHEEL_CTR_HRTIMER_LATE_NS,
	TWHEEL_CTR_WAKEUP_NS,
	TWHEEL_CTR_RUN_NS,
	TWHEEL_CTR_RUN_PREEMPTED,
	TWHEEL_CTR_ADVANCE_STOPS,
	TWHEEL_CTR_FILE_MOVES,
	TWHEEL_CTR_RING_ENTRIES,
	TWHEEL_CTR_RING_ERRORS,
	TWHEEL_CTR_RING_EVENTS,
	TWHEEL_CTR_RING_ENTERS,
	TWHEEL_CTR_RING_DEFERRED,
	TWHEEL_CTR_RING_PUNTED,
	TWHEEL_CTR_TIMERS_ARMED,
	TWHEEL_CTR_CONTEXTS,
	TWHEEL_CTR_CONNECTIONS,
	TWHEEL_CTR_MEMORY_BYTES,
	TWHEEL_NR_COUNTERS
};

/* The first gauge: counters from here on may go down. */
#define TWHEEL_CTR_FIRST_GAUGE	TWHEEL_CTR_TIMERS_ARMED

/*
 * Histogram buckets: bucket 0 counts the value 0, bucket k > 0 the values
 * in [2^(k-1), 2^k), and the last bucket everything from 2^(k-1) up. The
 * lateness histogram is in microseconds (its last bucket starts at 2^30 us,
 * about 18 minutes); the batch histogram in timers per batch (its last
 * bucket starts at 2^22 timers); the wake-up and run histograms of the
 * expiry threads in microseconds, like lateness.
 */
#define TWHEEL_COUNTERS_LATE_BUCKETS	32
#define TWHEEL_COUNTERS_BATCH_BUCKETS	24
#define TWHEEL_COUNTERS_WAKE_BUCKETS	32

/**
 * struct twheel_counters_cpu - the counters of one CPU
 * @count: indexed by &enum twheel_counter
 * @late_us: histogram of expiry lateness, log2 of microseconds
 * @batch: histogram of expiry batch sizes, log2 of timers per batch
 * @batch_max: the largest batch seen on this CPU
 * @hrtimer_late_us: histogram of the expiry thread's hrtimer lateness
 *	(from the instant it was programmed for to its callback), log2 of
 *	microseconds
 * @wakeup_us: histogram of the expiry thread's wake-up latency (from the
 *	instant its hrtimer was programmed for to the thread starting work),
 *	log2 of microseconds
 * @run_us: histogram of the time one wake-up of the expiry thread works,
 *	log2 of microseconds
 *
 * No lock: each CPU writes only its own copy with this_cpu operations,
 * which are safe against preemption and interrupts; readers sum all copies
 * and may see a sum that is a few updates old.
 */
struct twheel_counters_cpu {
	long count[TWHEEL_NR_COUNTERS];
	unsigned long late_us[TWHEEL_COUNTERS_LATE_BUCKETS];
	unsigned long batch[TWHEEL_COUNTERS_BATCH_BUCKETS];
	unsigned long batch_max;
	unsigned long hrtimer_late_us[TWHEEL_COUNTERS_WAKE_BUCKETS];
	unsigned long wakeup_us[TWHEEL_COUNTERS_WAKE_BUCKETS];
	unsigned long run_us[TWHEEL_COUNTERS_WAKE_BUCKETS];
};

extern struct twheel_counters_cpu __percpu *twheel_counters_pcpu;

/**
 * twheel_counter_add() - add to a counter of the current CPU
 * @s: the counter
 * @v: the amount, negative only for gauges
 *
 * Safe in any context, between twheel_counters_init() and twheel_counters_exit().
 */
static inline void twheel_counter_add(enum twheel_counter s, long v)
{
	this_cpu_add(twheel_counters_pcpu->count[s], v);
}

/**
 * twheel_counter_inc() - add one to a counter of the current CPU
 * @s: the counter
 *
 * Safe in any context, between twheel_counters_init() and twheel_counters_exit().
 */
static inline void twheel_counter_inc(enum twheel_counter s)
{
	this_cpu_inc(twheel_counters_pcpu->count[s]);
}

/**
 * twheel_counter_dec() - take one from a gauge of the current CPU
 * @s: the gauge
 *
 * Safe in any context, between twheel_counters_init() and twheel_counters_exit().
 */
static inline void twheel_counter_dec(enum twheel_counter s)
{
	this_cpu_dec(twheel_counters_pcpu->count[s]);
}

void twheel_counter_batch(unsigned int expired);
void twheel_counter_lateness(u64 late_ns);
void twheel_counter_wakeup(u64 hrtimer_late_ns, u64 wakeup_ns, u64 run_ns);
int twheel_counters_init(void);
void twheel_counters_exit(void);

#endif /* _TWHEEL_COUNTERS_H */
