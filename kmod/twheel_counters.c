// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: per-CPU counters, shown in debugfs.
 */

/**
 * DOC: counters
 *
 * The module counts what it does so that an operator can watch it the way
 * vmstat shows the rest of the kernel: timers armed, re-armed, cancelled
 * and expired, wheel cascades, events queued and read, wake-ups of the
 * per-CPU threads, batch sizes and the lateness of expiries, and how long
 * the expiry threads take to wake up and to work once woken.
 *
 * The counters sit on the hot paths of arming and expiry, so each CPU has
 * its own copy and updates it with a this_cpu operation: one instruction
 * on x86, no lock, no shared cache line, safe against preemption and
 * interrupts. Nothing is ever summed on the hot path; a reader of
 * debugfs sums the copies of all possible CPUs. A sum read while the
 * counters move is a few updates old, never torn: each copy is one word.
 *
 * Gauges (timers armed now, contexts, connections, memory) are taken down
 * on whichever CPU the code runs when the object goes away, which need not
 * be the CPU that put it up: a CPU's copy of a gauge may be negative, and
 * only the sum is meaningful. It is exact once the counters are still.
 *
 * The histograms use log2 buckets: bucket 0 counts the value 0, bucket
 * k > 0 the values from 2^(k-1) to 2^k - 1, and the last bucket also
 * everything above. Lateness is counted in whole microseconds, so an expiry
 * less than 1 us late lands in bucket 0; so are the wake-up latency and the
 * work of the expiry threads, which cost three clock reads per wake-up and
 * nothing per timer.
 *
 * The counters live as long as the module: twheel_counters_init() allocates
 * them zeroed and creates the debugfs files, twheel_counters_exit() removes
 * the files (waiting for readers that are inside them) and frees them.
 * The file format is in Documentation/stats.rst.
 */

#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/time64.h>

#include "twheel_counters.h"
#include "twheel_user.h"

/* Read-mostly: written once at init, read by every update. */
struct twheel_counters_cpu __percpu *twheel_counters_pcpu __read_mostly;

static struct dentry *twheel_counters_dir;

/* Names in debugfs: stable, never renamed or reused (Documentation/stats.rst). */
static const char * const twheel_counter_names[] = {
	[TWHEEL_CTR_ARMS]		= "arms",
	[TWHEEL_CTR_REARMS]		= "rearms",
	[TWHEEL_CTR_REARMS_IN_PLACE]	= "rearms_in_place",
	[TWHEEL_CTR_CANCELS]		= "cancels",
	[TWHEEL_CTR_EXPIRIES]		= "expiries",
	[TWHEEL_CTR_CASCADES]		= "cascades",
	[TWHEEL_CTR_EVENTS_QUEUED]	= "events_queued",
	[TWHEEL_CTR_EVENTS_READ]	= "events_read",
	[TWHEEL_CTR_WAKEUPS]		= "wakeups",
	[TWHEEL_CTR_WAKEUPS_IDLE]	= "wakeups_idle",
	[TWHEEL_CTR_BATCHES_SIMD]	= "batches_simd",
	[TWHEEL_CTR_BATCHES_SCALAR]	= "batches_scalar",
	[TWHEEL_CTR_QUOTA_REFUSALS]	= "quota_refusals",
	[TWHEEL_CTR_HRTIMER_LATE_NS]	= "hrtimer_late_ns",
	[TWHEEL_CTR_WAKEUP_NS]		= "wakeup_ns",
	[TWHEEL_CTR_RUN_NS]		= "run_ns",
	[TWHEEL_CTR_RUN_PREEMPTED]	= "run_preempted",
	[TWHEEL_CTR_ADVANCE_STOPS]	= "advance_stops",
	[TWHEEL_CTR_FILE_MOVES]	= "file_moves",
	[TWHEEL_CTR_RING_ENTRIES]	= "ring_entries",
	[TWHEEL_CTR_RING_ERRORS]	= "ring_errors",
	[TWHEEL_CTR_RING_EVENTS]	= "ring_events",
	[TWHEEL_CTR_RING_ENTERS]	= "ring_enters",
	[TWHEEL_CTR_RING_DEFERRED]	= "ring_deferred",
	[TWHEEL_CTR_RING_PUNTED]	= "ring_punted",
	[TWHEEL_CTR_TIMERS_ARMED]	= "timers_armed",
	[TWHEEL_CTR_CONTEXTS]		= "contexts",
	[TWHEEL_CTR_CONNECTIONS]	= "connections",
	[TWHEEL_CTR_MEMORY_BYTES]	= "memory_bytes",
};

static_assert(ARRAY_SIZE(twheel_counter_names) == TWHEEL_NR_COUNTERS);

/*
 * Raise a maximum of the current CPU without disabling preemption: if the
 * task moves to another CPU between the read and the cmpxchg, the cmpxchg
 * fails or raises that CPU's maximum instead, which is just as good, since
 * readers take the maximum over all CPUs.
 */
static void twheel_counter_raise_max(unsigned long __percpu *max, unsigned long v)
{
	unsigned long old = this_cpu_read(*max), prev;

	while (v > old) {
		prev = this_cpu_cmpxchg(*max, old, v);
		if (prev == old)
			break;
		old = prev;
	}
}

/* Count @v in the current CPU's copy of a log2 histogram of @nr buckets. */
static void twheel_counter_hist(unsigned long __percpu *hist, unsigned int nr,
				u64 v)
{
	this_cpu_inc(hist[min_t(unsigned int, fls64(v), nr - 1)]);
}

/**
 * twheel_counter_batch() - count one expiry batch
 * @expired: the number of timers the batch expired
 *
 * Adds the batch to the current CPU's size histogram and raises its
 * maximum. Safe in any context, between twheel_counters_init() and
 * twheel_counters_exit().
 */
void twheel_counter_batch(unsigned int expired)
{
	twheel_counter_hist(twheel_counters_pcpu->batch, TWHEEL_COUNTERS_BATCH_BUCKETS,
			    expired);
	twheel_counter_raise_max(&twheel_counters_pcpu->batch_max, expired);
}

/**
 * twheel_counter_wakeup() - count one wake-up of an expiry thread
 * @hrtimer_late_ns: from the instant the thread's hrtimer was programmed
 *	for to its callback
 * @wakeup_ns: from that instant to the thread starting its work
 * @run_ns: how long the thread then worked before going back to sleep
 *
 * Adds to the current CPU's sums and histograms. Safe in any
 * context, between twheel_counters_init() and twheel_counters_exit().
 */
void twheel_counter_wakeup(u64 hrtimer_late_ns, u64 wakeup_ns, u64 run_ns)
{
	twheel_counter_add(TWHEEL_CTR_HRTIMER_LATE_NS, hrtimer_late_ns);
	twheel_counter_add(TWHEEL_CTR_WAKEUP_NS, wakeup_ns);
	twheel_counter_add(TWHEEL_CTR_RUN_NS, run_ns);
	twheel_counter_hist(twheel_counters_pcpu->hrtimer_late_us,
			    TWHEEL_COUNTERS_WAKE_BUCKETS,
			    div_u64(hrtimer_late_ns, NSEC_PER_USEC));
	twheel_counter_hist(twheel_counters_pcpu->wakeup_us,
			    TWHEEL_COUNTERS_WAKE_BUCKETS,
			    div_u64(wakeup_ns, NSEC_PER_USEC));
	twheel_counter_hist(twheel_counters_pcpu->run_us, TWHEEL_COUNTERS_WAKE_BUCKETS,
			    div_u64(run_ns, NSEC_PER_USEC));
}

/**
 * twheel_counter_lateness() - count the lateness of one expiry
 * @late_ns: how long after its deadline the timer expired, in nanoseconds
 *
 * Adds the expiry to the current CPU's lateness histogram, in
 * microseconds. Safe in any context, between twheel_counters_init() and
 * twheel_counters_exit().
 */
void twheel_counter_lateness(u64 late_ns)
{
	twheel_counter_hist(twheel_counters_pcpu->late_us, TWHEEL_COUNTERS_LATE_BUCKETS,
			    div_u64(late_ns, NSEC_PER_USEC));
}

/* Add one CPU's counters to @sum; a max is a max, everything else adds. */
static void twheel_counters_add_cpu(struct twheel_counters_cpu *sum, unsigned int cpu)
{
	const struct twheel_counters_cpu *pc = per_cpu_ptr(twheel_counters_pcpu, cpu);
	unsigned int i;

	for (i = 0; i < TWHEEL_NR_COUNTERS; i++)
		sum->count[i] += READ_ONCE(pc->count[i]);
	for (i = 0; i < TWHEEL_COUNTERS_LATE_BUCKETS; i++)
		sum->late_us[i] += READ_ONCE(pc->late_us[i]);
	for (i = 0; i < TWHEEL_COUNTERS_BATCH_BUCKETS; i++)
		sum->batch[i] += READ_ONCE(pc->batch[i]);
	sum->batch_max = max(sum->batch_max, READ_ONCE(pc->batch_max));
	for (i = 0; i < TWHEEL_COUNTERS_WAKE_BUCKETS; i++) {
		sum->hrtimer_late_us[i] += READ_ONCE(pc->hrtimer_late_us[i]);
		sum->wakeup_us[i] += READ_ONCE(pc->wakeup_us[i]);
		sum->run_us[i] += READ_ONCE(pc->run_us[i]);
	}
}

static void twheel_counters_print(struct seq_file *m,
				  const struct twheel_counters_cpu *st)
{
	unsigned int i;

	for (i = 0; i < TWHEEL_CTR_FIRST_GAUGE; i++)
		seq_printf(m, "%s %lu\n", twheel_counter_names[i],
			   (unsigned long)st->count[i]);
	for (; i < TWHEEL_NR_COUNTERS; i++)
		seq_printf(m, "%s %ld\n", twheel_counter_names[i], st->count[i]);
	for (i = 0; i < TWHEEL_COUNTERS_LATE_BUCKETS; i++)
		seq_printf(m, "lateness_us_log2_%u %lu\n", i, st->late_us[i]);
	for (i = 0; i < TWHEEL_COUNTERS_BATCH_BUCKETS; i++)
		seq_printf(m, "batch_log2_%u %lu\n", i, st->batch[i]);
	seq_printf(m, "batch_max %lu\n", st->batch_max);
	for (i = 0; i < TWHEEL_COUNTERS_WAKE_BUCKETS; i++)
		seq_printf(m, "hrtimer_late_us_log2_%u %lu\n", i,
			   st->hrtimer_late_us[i]);
	for (i = 0; i < TWHEEL_COUNTERS_WAKE_BUCKETS; i++)
		seq_printf(m, "wakeup_us_log2_%u %lu\n", i, st->wakeup_us[i]);
	for (i = 0; i < TWHEEL_COUNTERS_WAKE_BUCKETS; i++)
		seq_printf(m, "run_us_log2_%u %lu\n", i, st->run_us[i]);
}

/* twheel/counters: the sums over all possible CPUs */
static int twheel_counters_total_show(struct seq_file *m, void *unused)
{
	/* Over a kilobyte: not on the stack. */
	struct twheel_counters_cpu *sum = kzalloc(sizeof(*sum), GFP_KERNEL);
	unsigned int cpu;

	if (!sum)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		twheel_counters_add_cpu(sum, cpu);
	twheel_counters_print(m, sum);
	kfree(sum);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(twheel_counters_total);

/* twheel/cpu<N>/counters: the copy of CPU N, whose number is m->private */
static int twheel_counters_cpu_show(struct seq_file *m, void *unused)
{
	struct twheel_counters_cpu *one = kzalloc(sizeof(*one), GFP_KERNEL);

	if (!one)
		return -ENOMEM;
	twheel_counters_add_cpu(one, (unsigned long)m->private);
	twheel_counters_print(m, one);
	kfree(one);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(twheel_counters_cpu);

/**
 * twheel_counters_init() - allocate the counters and create their debugfs files
 *
 * Creates /sys/kernel/debug/twheel/counters and one cpu<N>/counters per
 * possible CPU. A kernel without debugfs, or with debugfs switched off,
 * only loses the files: that is not an error.
 *
 * Return: 0, or -ENOMEM if the counters cannot be allocated.
 */
int twheel_counters_init(void)
{
	struct dentry *cpu_dir;
	char name[16];
	unsigned int cpu;

	twheel_counters_pcpu = alloc_percpu(struct twheel_counters_cpu);
	if (!twheel_counters_pcpu)
		return -ENOMEM;

	/* debugfs functions take an error parent and then do nothing. */
	twheel_counters_dir = debugfs_create_dir("twheel", NULL);
	twheel_users_debugfs_init(twheel_counters_dir);
	debugfs_create_file("counters", 0444, twheel_counters_dir, NULL,
			    &twheel_counters_total_fops);
	for_each_possible_cpu(cpu) {
		snprintf(name, sizeof(name), "cpu%u", cpu);
		cpu_dir = debugfs_create_dir(name, twheel_counters_dir);
		debugfs_create_file("counters", 0444, cpu_dir,
				    (void *)(unsigned long)cpu,
				    &twheel_counters_cpu_fops);
	}
	return 0;
}

/**
 * twheel_counters_exit() - remove the debugfs files and free the counters
 *
 * Waits for readers that are inside the files. No counter may be updated
 * once this has been called.
 */
void twheel_counters_exit(void)
{
	debugfs_remove_recursive(twheel_counters_dir);
	twheel_counters_dir = NULL;
	free_percpu(twheel_counters_pcpu);
	twheel_counters_pcpu = NULL;
}
