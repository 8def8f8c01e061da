/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: per-CPU counters, shown in debugfs. The format is documented in
 * Documentation/stats.rst; the DOC block is at the top of twheel_stats.c.
 */
#ifndef _TWHEEL_STATS_H
#define _TWHEEL_STATS_H

#include <linux/compiler.h>
#include <linux/percpu.h>
#include <linux/types.h>

/**
 * enum twheel_stat - the counters, in the order debugfs shows them
 * @TWHEEL_STAT_ARMS: timers armed that were not armed (an unread event of
 *	the same timer does not count as armed)
 * @TWHEEL_STAT_REARMS: timers armed again while armed
 * @TWHEEL_STAT_REARMS_IN_PLACE: the part of @TWHEEL_STAT_REARMS that moved
 *	nothing on a wheel
 * @TWHEEL_STAT_CANCELS: armed timers cancelled, one per timer
 * @TWHEEL_STAT_EXPIRIES: timers that expired (fired)
 * @TWHEEL_STAT_CASCADES: timers moved from an upper wheel level to a lower one
 * @TWHEEL_STAT_EVENTS_QUEUED: events queued for user space
 * @TWHEEL_STAT_EVENTS_READ: events user space has read
 * @TWHEEL_STAT_WAKEUPS: wake-ups of the per-CPU threads
 * @TWHEEL_STAT_WAKEUPS_IDLE: the part of @TWHEEL_STAT_WAKEUPS that found
 *	nothing to expire
 * @TWHEEL_STAT_BATCHES_SIMD: expiry batches that used SIMD
 * @TWHEEL_STAT_BATCHES_SCALAR: expiry batches that did not use SIMD
 * @TWHEEL_STAT_QUOTA_REFUSALS: arms refused because a quota was reached
 * @TWHEEL_STAT_HRTIMER_LATE_NS: sum over wake-ups of the time from the
 *	instant the thread's hrtimer was programmed for to its callback, in ns
 * @TWHEEL_STAT_WAKEUP_NS: sum over wake-ups of the time from that instant
 *	to the thread starting its work (includes the hrtimer part), in ns
 * @TWHEEL_STAT_RUN_NS: sum over wake-ups of the time the thread then worked
 *	(advancing wheels and delivering events), in ns
 * @TWHEEL_STAT_RUN_PREEMPTED: wake-ups during whose work the thread was
 *	switched out for another task
 * @TWHEEL_STAT_ADVANCE_STOPS: times a file's wheel advance stopped on its
 *	budget, so that the thread could let the file's lock go
 * @TWHEEL_STAT_FILE_MOVES: files moved to another CPU's wheel (by a reader
 *	about to wait, TWHEEL_IOC_SET_CPU or CPU hotplug)
 * @TWHEEL_STAT_TIMERS_ARMED: gauge, timers armed now
 * @TWHEEL_STAT_CONTEXTS: gauge, open files of /dev/twheel
 * @TWHEEL_STAT_CONNECTIONS: gauge, connections that exist now
 * @TWHEEL_STAT_MEMORY_BYTES: gauge, bytes the module has allocated for
 *	contexts, connections, timers and events
 * @TWHEEL_NR_STATS: the number of counters
 *
 * The counters before %TWHEEL_STAT_TIMERS_ARMED only ever grow. The gauges
 * from %TWHEEL_STAT_TIMERS_ARMED on go up and down, and the CPU that takes
 * one down need not be the CPU that put it up: only their sum over all
 * CPUs means something. New counters are added before %TWHEEL_NR_STATS
 * and their names appended to the table in twheel_stats.c.
 */
enum twheel_stat {
	TWHEEL_STAT_ARMS,
	TWHEEL_STAT_REARMS,
	TWHEEL_STAT_REARMS_IN_PLACE,
	TWHEEL_STAT_CANCELS,
	TWHEEL_STAT_EXPIRIES,
	TWHEEL_STAT_CASCADES,
	TWHEEL_STAT_EVENTS_QUEUED,
	TWHEEL_STAT_EVENTS_READ,
	TWHEEL_STAT_WAKEUPS,
	TWHEEL_STAT_WAKEUPS_IDLE,
	TWHEEL_STAT_BATCHES_SIMD,
	TWHEEL_STAT_BATCHES_SCALAR,
	TWHEEL_STAT_QUOTA_REFUSALS,
	TWHEEL_STAT_HRTIMER_LATE_NS,
	TWHEEL_STAT_WAKEUP_NS,
	TWHEEL_STAT_RUN_NS,
	TWHEEL_STAT_RUN_PREEMPTED,
	TWHEEL_STAT_ADVANCE_STOPS,
	TWHEEL_STAT_FILE_MOVES,
	TWHEEL_STAT_TIMERS_ARMED,
	TWHEEL_STAT_CONTEXTS,
	TWHEEL_STAT_CONNECTIONS,
	TWHEEL_STAT_MEMORY_BYTES,
	TWHEEL_NR_STATS
};

/* The first gauge: counters from here on may go down. */
#define TWHEEL_STAT_FIRST_GAUGE	TWHEEL_STAT_TIMERS_ARMED

/*
 * Histogram buckets: bucket 0 counts the value 0, bucket k > 0 the values
 * in [2^(k-1), 2^k), and the last bucket everything from 2^(k-1) up. The
 * lateness histogram is in microseconds (its last bucket starts at 2^30 us,
 * about 18 minutes); the batch histogram in timers per batch (its last
 * bucket starts at 2^22 timers); the wake-up and run histograms of the
 * expiry threads in microseconds, like lateness.
 */
#define TWHEEL_STATS_LATE_BUCKETS	32
#define TWHEEL_STATS_BATCH_BUCKETS	24
#define TWHEEL_STATS_WAKE_BUCKETS	32

/**
 * struct twheel_stats_cpu - the counters of one CPU
 * @count: indexed by &enum twheel_stat
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
struct twheel_stats_cpu {
	long count[TWHEEL_NR_STATS];
	unsigned long late_us[TWHEEL_STATS_LATE_BUCKETS];
	unsigned long batch[TWHEEL_STATS_BATCH_BUCKETS];
	unsigned long batch_max;
	unsigned long hrtimer_late_us[TWHEEL_STATS_WAKE_BUCKETS];
	unsigned long wakeup_us[TWHEEL_STATS_WAKE_BUCKETS];
	unsigned long run_us[TWHEEL_STATS_WAKE_BUCKETS];
};

extern struct twheel_stats_cpu __percpu *twheel_stats_pcpu;

/**
 * twheel_stat_add() - add to a counter of the current CPU
 * @s: the counter
 * @v: the amount, negative only for gauges
 *
 * Safe in any context, between twheel_stats_init() and twheel_stats_exit().
 */
static inline void twheel_stat_add(enum twheel_stat s, long v)
{
	this_cpu_add(twheel_stats_pcpu->count[s], v);
}

/**
 * twheel_stat_inc() - add one to a counter of the current CPU
 * @s: the counter
 *
 * Safe in any context, between twheel_stats_init() and twheel_stats_exit().
 */
static inline void twheel_stat_inc(enum twheel_stat s)
{
	this_cpu_inc(twheel_stats_pcpu->count[s]);
}

/**
 * twheel_stat_dec() - take one from a gauge of the current CPU
 * @s: the gauge
 *
 * Safe in any context, between twheel_stats_init() and twheel_stats_exit().
 */
static inline void twheel_stat_dec(enum twheel_stat s)
{
	this_cpu_dec(twheel_stats_pcpu->count[s]);
}

void twheel_stat_batch(unsigned int expired);
void twheel_stat_lateness(u64 late_ns);
void twheel_stat_wakeup(u64 hrtimer_late_ns, u64 wakeup_ns, u64 run_ns);
int twheel_stats_init(void);
void twheel_stats_exit(void);

#endif /* _TWHEEL_STATS_H */
