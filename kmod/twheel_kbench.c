// SPDX-License-Identifier: GPL-2.0
/*
 * twheel_kbench: what the module's own work costs, timed inside the kernel
 * (make bench-kernel; Documentation/bench.rst).
 *
 * Like the KUnit suite twheel_ctx (twheel_ctx_test.c), this module compiles
 * its own copy of the file context, its connections, table and wheel, the
 * batch commands, the counters and the limits per user, and stands in for
 * the rest: the CPU's wheel of files is one wheel of the benchmark's, kept
 * as twheel_cpu.c keeps it but without the hrtimer that would wake the
 * expiry thread, and the batch computation is the scalar one. So it runs
 * without twheel.ko and without the device, and its loops drive that code
 * the way the device does: a batch call applies one chunk of 64 entries
 * (twheel_cmd_apply() under the file's mutex, then twheel_conn_reap()), the
 * expiry thread calls twheel_ctx_expire() at each tick with work, read()
 * takes events 16 at a time. Each loop is timed as a whole with
 * ktime_get_ns(), never one call at a time. In the same run it times the
 * kernel's own hrtimers, armed, re-armed and cancelled one by one: what
 * each timerfd and each io_uring timeout costs inside the kernel.
 *
 * The benchmark runs when the module is loaded and prints one line per
 * figure (make bench-kernel reads them from the kernel log); then the
 * module stays loaded and idle. It is built for User-Mode Linux, where
 * kernel code runs at the host's native speed (kmod/Kbuild).
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>

/*
 * The clock the module's copy reads: the real one, moved forward by
 * @twheel_kbench_skew, so that the expiry loop can make a second of
 * deadlines come due tick by tick without waiting for them and every read
 * still costs what a real one does. The benchmark times itself with the
 * real clock.
 */
static u64 twheel_kbench_skew;

static inline u64 twheel_kbench_ns(void)
{
	return ktime_get_ns();
}

#define ktime_get_ns()	(twheel_kbench_ns() + twheel_kbench_skew)

/*
 * The CPU time of the host thread that runs this kernel, in ns, or 0 where
 * there is no host to ask. The wall clock also counts the time the kernel
 * waited for a CPU of a host shared with other work, and a loop of a
 * million entries always waits somewhere; the host's CPU time of the
 * thread does not. A User-Mode Linux kernel is a host program whose memory
 * is the host's, so it asks with a system call of the host's own:
 * clock_gettime(CLOCK_THREAD_CPUTIME_ID), numbers 228 and 3 on x86-64.
 */
static u64 twheel_kbench_cpu_ns(void)
{
#if defined(CONFIG_UML) && defined(CONFIG_X86_64)
	struct {
		long sec;
		long nsec;
	} ts = {};
	long ret;

	asm volatile ("syscall"
		      : "=a" (ret)
		      : "0" (228L), "D" (3L), "S" (&ts)
		      : "rcx", "r11", "memory");
	return ret ? 0 : ts.sec * NSEC_PER_SEC + ts.nsec;
#else
	return 0;
#endif
}

/* A loop's time: by the wall clock, and by the host's CPU time (or 0). */
struct twheel_kbench_time {
	u64 wall;
	u64 cpu;
};

static void twheel_kbench_start(struct twheel_kbench_time *t)
{
	t->cpu = twheel_kbench_cpu_ns();
	t->wall = twheel_kbench_ns();
}

static void twheel_kbench_stop(struct twheel_kbench_time *t)
{
	t->wall = twheel_kbench_ns() - t->wall;
	t->cpu = t->cpu ? twheel_kbench_cpu_ns() - t->cpu : 0;
}

#include "twheel_cmd.c"
#include "twheel_conn.c"
#include "twheel_counters.c"
#include "twheel_ctx.c"
#include "twheel_simd_scalar.c"
#include "twheel_table.c"
#include "twheel_user.c"
#include "twheel_wheel.c"

/* What twheel_main.c holds. */
unsigned long twheel_quota = 1UL << 20;
unsigned long twheel_max_timers = 1UL << 22;
u64 twheel_tick_ns;
u64 twheel_max_timeout_ns;
atomic_long_t twheel_nr_timers = ATOMIC_LONG_INIT(0);

/* What twheel_simd.c does on a CPU without AVX2, and on User-Mode Linux. */
bool twheel_batch_ticks_up(const u64 *ns, u64 *tick, unsigned int n,
			   u64 tick_ns)
{
	twheel_ticks_up_scalar(ns, tick, n, tick_ns);
	return false;
}

/*
 * The CPU's wheel of files (twheel_cpu.c): the functions below keep a
 * file's place in it as the module does, under a lock of its own; nothing
 * programs an hrtimer, so the thread's wake-up is not in the figures.
 */
static DEFINE_SPINLOCK(twheel_kbench_cpu_lock);
static struct twheel_wheel twheel_kbench_cpu_wheel;
static struct hlist_head twheel_kbench_cpu_expired;
/* The file asked for another turn of its thread (__twheel_cpu_again()). */
static bool twheel_kbench_again;

void __twheel_cpu_schedule(struct twheel_ctx *ctx)
{
	struct twheel_timer *timer = &ctx->cpu_timer;
	u64 next;

	lockdep_assert_held(&ctx->wqh.lock);

	next = __twheel_ctx_work_tick(ctx);
	spin_lock(&twheel_kbench_cpu_lock);
	if (twheel_timer_pending(timer)) {
		if (next == U64_MAX)
			twheel_wheel_cancel(&twheel_kbench_cpu_wheel, timer);
		else if (next != timer->expires)
			twheel_wheel_arm(&twheel_kbench_cpu_wheel, timer, next);
	} else if (hlist_unhashed(&timer->node) && next != U64_MAX) {
		__twheel_catch_up(&twheel_kbench_cpu_wheel,
				  &twheel_kbench_cpu_expired);
		twheel_wheel_arm(&twheel_kbench_cpu_wheel, timer, next);
	}
	spin_unlock(&twheel_kbench_cpu_lock);
}

void __twheel_cpu_again(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	spin_lock(&twheel_kbench_cpu_lock);
	if (twheel_timer_pending(&ctx->cpu_timer))
		twheel_wheel_cancel(&twheel_kbench_cpu_wheel, &ctx->cpu_timer);
	twheel_kbench_again = true;
	spin_unlock(&twheel_kbench_cpu_lock);
}

void __twheel_cpu_unschedule(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	spin_lock(&twheel_kbench_cpu_lock);
	if (!twheel_wheel_cancel(&twheel_kbench_cpu_wheel, &ctx->cpu_timer))
		hlist_del_init(&ctx->cpu_timer.node);
	spin_unlock(&twheel_kbench_cpu_lock);
}

void twheel_cpu_detach(struct twheel_ctx *ctx)
{
}

/* Files here have no rings. */
#include "twheel_ring_none.h"

/* --- parameters ------------------------------------------------------------ */

static unsigned int sizes[8] = { 1000, 10000, 100000, 1000000 };
static unsigned int nr_sizes = 4;
module_param_array(sizes, uint, &nr_sizes, 0444);
MODULE_PARM_DESC(sizes, "Live timers to measure at (default 1000,10000,100000,1000000)");

static unsigned int runs = 5;
module_param(runs, uint, 0444);
MODULE_PARM_DESC(runs, "Runs per size; the report takes the median (default 5)");

static unsigned int ops = 4096;
module_param(ops, uint, 0444);
MODULE_PARM_DESC(ops, "Random timers re-armed, cancelled and whose connections are cancelled per run, at most the size (default 4096, as twbench)");

static unsigned int next_calls = 1000;
module_param(next_calls, uint, 0444);
MODULE_PARM_DESC(next_calls, "TWHEEL_IOC_NEXT calls timed per run (default 1000)");

static unsigned int window_ms = 1000;
module_param(window_ms, uint, 0444);
MODULE_PARM_DESC(window_ms, "The expiry loop's timers fall due within this window (default 1000)");

static unsigned int tick_us = 1000;
module_param(tick_us, uint, 0444);
MODULE_PARM_DESC(tick_us, "The wheel's tick in microseconds, as twheel.ko's (default 1000)");

/* --- the loops ------------------------------------------------------------- */

/* Entries of one batch call, as twbench's twheel-64 sends them. */
#define TWHEEL_KBENCH_BATCH	TWHEEL_BATCH_CHUNK
/* Events read() takes per lock hold (twheel_dev.c). */
#define TWHEEL_KBENCH_READ	16
/* The seconds from now within which the operations' deadlines lie. */
#define TWHEEL_KBENCH_FAR_NS	(60 * NSEC_PER_SEC)
/* How much later a re-arm moves a timer (twbench's). */
#define TWHEEL_KBENCH_SHIFT_NS	(5 * NSEC_PER_SEC)
/* The longest a run of NEXT calls goes on. */
#define TWHEEL_KBENCH_NEXT_NS	(200 * NSEC_PER_MSEC)

/* What a run works on; the arrays hold one entry per live timer. */
struct twheel_kbench {
	unsigned int n;
	unsigned int run;
	u64 *deadline;
	u32 *perm;
	struct twheel_arm *arms;
	struct twheel_cancel *cancels;
	u64 *conn_ids;
	struct hrtimer *hrtimers;
	struct twheel_requeue requeue;
	struct twheel_event ev[TWHEEL_KBENCH_READ];
	unsigned int early;
	u64 rng;
};

/*
 * One line per figure: what, at how many live timers, which run, how many
 * operations, and their total time by the wall clock and the host's CPU.
 */
static void twheel_kbench_report(const struct twheel_kbench *b,
				 const char *what, unsigned long nr,
				 const struct twheel_kbench_time *t)
{
	pr_info("twheel_kbench: %s live=%u run=%u ops=%lu ns=%llu cpu_ns=%llu\n",
		what, b->n, b->run, nr, t->wall, t->cpu);
}

/* A small deterministic generator (xorshift64*), the same on every run. */
static u64 twheel_kbench_random(struct twheel_kbench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1dULL;
}

/* @k distinct random timers of @b->n, in @b->perm[0..k). */
static void twheel_kbench_pick(struct twheel_kbench *b, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		b->perm[i] = i;
	for (i = 0; i < k; i++) {
		unsigned int j = i + twheel_kbench_random(b) % (b->n - i);

		swap(b->perm[i], b->perm[j]);
	}
}

/*
 * Deadlines spread over [60 s, 120 s) from now, so that nothing falls due
 * while the operations are timed (twbench's far_deadlines()).
 */
static void twheel_kbench_far_deadlines(struct twheel_kbench *b)
{
	u64 base = ktime_get_ns() + TWHEEL_KBENCH_FAR_NS;
	unsigned int i;

	for (i = 0; i < b->n; i++)
		b->deadline[i] = base + twheel_kbench_random(b) %
					TWHEEL_KBENCH_FAR_NS;
}

/* Arm entries for the first @k timers of @b->perm, or of 0..n-1. */
static void twheel_kbench_arms(struct twheel_kbench *b, unsigned int k,
			       bool perm, u64 shift)
{
	unsigned int i;

	for (i = 0; i < k; i++) {
		u32 x = perm ? b->perm[i] : i;

		b->arms[i] = (struct twheel_arm){
			.conn_id = x,
			.timeout_ns = b->deadline[x] + shift,
			.user_data = x,
			.kind = TWHEEL_KIND_IDLE,
			.flags = TWHEEL_ARM_ABS,
		};
	}
}

/*
 * What one batch call does once its header is read: copy the entries in,
 * take the file's mutex, check and apply them, free the connections left
 * empty. The entries are copied from kernel memory here, where the ioctl
 * copies them from user space.
 */
static void twheel_kbench_batch(struct twheel_ctx *ctx, enum twheel_cmd cmd,
				const void *entries, unsigned int n,
				struct twheel_batch_res *res)
{
	struct twheel_clock clock = { .now = ktime_get_ns() };

	mutex_lock(&ctx->mutex);
	memcpy(&ctx->chunk, entries, n * twheel_cmd_defs[cmd].entry_size);
	twheel_cmd_apply(ctx, cmd, n, &clock, res);
	twheel_conn_reap(ctx);
	mutex_unlock(&ctx->mutex);
	cond_resched();
}

/*
 * Applies @k entries in batch calls of 64 and puts the time taken in @t.
 * Returns false if an entry failed, or found (or did not find) its timer
 * unexpectedly.
 */
static bool twheel_kbench_batches(struct twheel_ctx *ctx, enum twheel_cmd cmd,
				  const void *entries, unsigned int k,
				  unsigned int want_found,
				  struct twheel_kbench_time *t)
{
	size_t size = twheel_cmd_defs[cmd].entry_size;
	struct twheel_batch_res res = {};
	struct twheel_kbench_time unused;
	unsigned int i, n;

	if (!t)
		t = &unused;
	twheel_kbench_start(t);
	for (i = 0; i < k; i += n) {
		n = min_t(unsigned int, k - i, TWHEEL_KBENCH_BATCH);
		twheel_kbench_batch(ctx, cmd, entries + i * size, n, &res);
		if (res.error)
			break;
	}
	twheel_kbench_stop(t);
	if (res.error || res.applied != k || res.found != want_found) {
		pr_err("twheel_kbench: command %d: %u of %u applied, %u found (want %u), error %d\n",
		       cmd, res.applied, k, res.found, want_found, res.error);
		return false;
	}
	return true;
}

/*
 * A chunk waited for the host's CPU if its wall time exceeds its CPU time
 * by more than this: a step timed by the wall clock (a clock read per step
 * costs the host no system call, a CPU time read does) then holds that
 * wait, so the chunk is left out of the steps' figures.
 */
#define TWHEEL_KBENCH_WAITED_NS	(20 * NSEC_PER_USEC)

/* The steps of one operation, summed over the chunks that did not wait. */
struct twheel_kbench_steps {
	u64 ns[10];
	unsigned int entries;
	unsigned int dropped;
};

/* Adds a chunk's @nr step times, from its clock reads @t, unless it waited. */
static void twheel_kbench_steps_add(struct twheel_kbench_steps *st,
				    const u64 *t, unsigned int nr,
				    unsigned int entries, u64 cpu0, u64 cpu1)
{
	unsigned int j;

	if (cpu0 && t[nr] - t[0] > cpu1 - cpu0 + TWHEEL_KBENCH_WAITED_NS) {
		st->dropped++;
		return;
	}
	for (j = 0; j < nr; j++)
		st->ns[j] += t[j + 1] - t[j];
	st->entries += entries;
}

static void twheel_kbench_steps_report(const struct twheel_kbench *b,
				       const struct twheel_kbench_steps *st,
				       const char *const *names,
				       unsigned int nr)
{
	struct twheel_kbench_time t = {};
	unsigned int j;

	for (j = 0; j < nr; j++) {
		t.wall = st->ns[j];
		twheel_kbench_report(b, names[j], st->entries, &t);
	}
	pr_info("twheel_kbench: %s live=%u run=%u chunks_dropped=%u\n",
		names[0], b->n, b->run, st->dropped);
}

/*
 * twheel_ctx_arm_find() in steps, clock reads in @t: the chunk's lookups
 * at once (with many connections), each entry's own lookup
 * (twheel_conn_get()'s: with many connections, on from where the chunk's
 * lookup ended), the new connections' allocation and their insertion into
 * the table. twheel_conn_get() takes these steps entry by entry, and
 * inserts where its lookup ended (with many connections, after a resize
 * moved buckets, it looks the rest of the chunk up from the start); the
 * chunk's ids are distinct, so here each step can take the whole chunk,
 * and the insertion looks its chain up again. Returns how many entries
 * have their connection.
 */
static unsigned int twheel_kbench_arm_find(struct twheel_ctx *ctx,
					   unsigned int n,
					   struct twheel_tally *tally, u64 *t)
{
	const struct twheel_arm *arms = ctx->chunk.arm;
	struct twheel_table_node ***links = ctx->chunk.links;
	struct twheel_conn **conns = ctx->chunk.conns;
	bool bulk = twheel_conn_many(ctx), fresh[TWHEEL_BATCH_CHUNK];
	unsigned int i;

	if (bulk)
		twheel_conn_find_bulk(ctx, n, &arms[0].conn_id, sizeof(*arms),
				      conns, links);
	t[0] = twheel_kbench_ns();
	for (i = 0; i < n; i++) {
		if (!bulk)
			conns[i] = twheel_conn_lookup(ctx, arms[i].conn_id);
		else if (!conns[i] &&
			 *twheel_table_lookup_from(links[i], arms[i].conn_id))
			conns[i] = twheel_conn_lookup(ctx, arms[i].conn_id);
	}
	t[1] = twheel_kbench_ns();
	for (i = 0; i < n; i++) {
		fresh[i] = !conns[i];
		if (!fresh[i])
			continue;
		conns[i] = twheel_conn_alloc(ctx, arms[i].conn_id);
		if (!conns[i])
			return i;
	}
	t[2] = twheel_kbench_ns();
	for (i = 0; i < n; i++) {
		size_t before = ctx->conns.bytes;

		if (!fresh[i])
			continue;
		twheel_table_insert(&ctx->conns, &conns[i]->node);
		twheel_conn_table_account(ctx, before);
		tally->created++;
	}
	if (tally->created) {
		twheel_counter_add(TWHEEL_CTR_CONNECTIONS, tally->created);
		twheel_user_conns_add(ctx->user, tally->created);
	}
	t[3] = twheel_kbench_ns();
	for (i = 0; i < n; i++)
		WRITE_ONCE(conns[i]->want, conns[i]->want | BIT(arms[i].kind));
	return n;
}

/*
 * twheel_conn_reap() in steps, clock reads in @t: the connections left
 * empty taken out of the table, then given back to their blocks.
 */
static void twheel_kbench_reap(struct twheel_ctx *ctx, u64 *t)
{
	struct twheel_conn *conn, *tmp;
	unsigned int nr = 0;
	LIST_HEAD(dead);

	spin_lock(&ctx->wqh.lock);
	list_splice_init(&ctx->dead, &dead);
	spin_unlock(&ctx->wqh.lock);
	list_for_each_entry(conn, &dead, link) {
		size_t before = ctx->conns.bytes;

		twheel_table_remove(&ctx->conns, &conn->node);
		twheel_conn_table_account(ctx, before);
	}
	t[0] = twheel_kbench_ns();
	list_for_each_entry_safe(conn, tmp, &dead, link) {
		twheel_conn_release(conn);
		twheel_conn_give(ctx, conn);
		nr++;
	}
	if (nr) {
		twheel_counter_add(TWHEEL_CTR_CONNECTIONS, -(long)nr);
		twheel_user_conns_add(ctx->user, -(long)nr);
	}
}

/*
 * The first arm again, step by step, as twheel_ctx_arm() takes it: the
 * entries copied in and checked; each one's connection found or created
 * (twheel_kbench_arm_find()); room made for its kind; the chunk applied
 * under the spinlock; the connections left empty freed. Each step is
 * timed by the wall clock, chunk by chunk; the clock reads between steps
 * cost a few ns per entry more than the loops without steps.
 */
static int twheel_kbench_arm_steps(struct twheel_kbench *b)
{
	static const char *const names[] = {
		"arm.copy_prep", "arm.lookup_bulk", "arm.lookup", "arm.alloc",
		"arm.insert", "arm.reserve", "arm.apply", "arm.reap",
	};
	struct twheel_kbench_steps st = {};
	struct twheel_batch_res res = {};
	u64 t[ARRAY_SIZE(names) + 1];
	struct twheel_ctx *ctx;
	unsigned int i, n;

	ctx = twheel_ctx_create(GLOBAL_ROOT_UID, true);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	twheel_kbench_arms(b, b->n, false, 0);
	for (i = 0; i < b->n && !res.error; i += n) {
		struct twheel_clock clock = { .now = ktime_get_ns() };
		unsigned int nr_found, nr_ready, applied, valid;
		struct twheel_tally tally = {};
		u64 cpu0, cpu1;
		int err = 0;

		n = min_t(unsigned int, b->n - i, TWHEEL_KBENCH_BATCH);
		mutex_lock(&ctx->mutex);
		cpu0 = twheel_kbench_cpu_ns();
		t[0] = twheel_kbench_ns();
		memcpy(ctx->chunk.arm, &b->arms[i], n * sizeof(b->arms[0]));
		valid = twheel_cmd_defs[TWHEEL_CMD_ARM].prep(&ctx->chunk, n,
							     &clock, &err);
		t[1] = twheel_kbench_ns();
		nr_found = twheel_kbench_arm_find(ctx, valid, &tally, &t[2]);
		if (nr_found < valid)
			err = -ENOMEM;
		nr_ready = twheel_ctx_arm_reserve(ctx, nr_found, &err);
		t[6] = twheel_kbench_ns();
		spin_lock(&ctx->wqh.lock);
		applied = __twheel_ctx_arm_apply(ctx, nr_ready, nr_found,
						 &tally, &err);
		twheel_ctx_tally_arms(ctx, &tally, &res);
		spin_unlock(&ctx->wqh.lock);
		t[7] = twheel_kbench_ns();
		twheel_conn_reap(ctx);
		t[8] = twheel_kbench_ns();
		cpu1 = twheel_kbench_cpu_ns();
		mutex_unlock(&ctx->mutex);
		cond_resched();
		res.applied += applied;
		if (applied < n)
			res.error = err ?: -EIO;
		twheel_kbench_steps_add(&st, t, ARRAY_SIZE(names), n, cpu0,
					cpu1);
	}
	twheel_ctx_close(ctx);
	if (res.error) {
		pr_err("twheel_kbench: arm in steps: %u of %u applied, error %d\n",
		       res.applied, b->n, res.error);
		return res.error;
	}
	twheel_kbench_steps_report(b, &st, names, ARRAY_SIZE(names));
	return 0;
}

/*
 * Cancels, step by step, as twheel_ctx_cancel() and twheel_conn_reap()
 * take them: the entries copied in and looked up; cancelled under the
 * spinlock; the connections left empty taken out of the table
 * (twheel_kbench_reap()); given back. Returns how many found their timer.
 */
static unsigned int twheel_kbench_cancel_steps(struct twheel_ctx *ctx,
					       struct twheel_kbench *b,
					       unsigned int k)
{
	static const char *const names[] = {
		"cancel.copy_lookup", "cancel.apply", "cancel.unhash",
		"cancel.free",
	};
	struct twheel_conn **conns = ctx->chunk.conns;
	struct twheel_kbench_steps st = {};
	unsigned int i, j, n, found = 0;
	u64 t[ARRAY_SIZE(names) + 1];

	for (i = 0; i < k; i += n) {
		struct twheel_tally tally = {};
		u64 cpu0, cpu1;

		n = min_t(unsigned int, k - i, TWHEEL_KBENCH_BATCH);
		mutex_lock(&ctx->mutex);
		cpu0 = twheel_kbench_cpu_ns();
		t[0] = twheel_kbench_ns();
		memcpy(ctx->chunk.cancel, &b->cancels[i],
		       n * sizeof(b->cancels[0]));
		twheel_conn_lookup_bulk(ctx, n, &ctx->chunk.cancel[0].conn_id,
					sizeof(ctx->chunk.cancel[0]), conns);
		t[1] = twheel_kbench_ns();
		spin_lock(&ctx->wqh.lock);
		__twheel_conn_prefetch_unlink(ctx, n, conns, NULL);
		for (j = 0; j < n; j++) {
			if (conns[j])
				found += __twheel_conn_cancel(ctx, conns[j],
							      BIT(TWHEEL_KIND_IDLE),
							      &tally);
		}
		__twheel_cpu_schedule(ctx);
		twheel_ctx_tally_cancels(ctx, &tally);
		spin_unlock(&ctx->wqh.lock);
		t[2] = twheel_kbench_ns();
		twheel_kbench_reap(ctx, &t[3]);
		t[4] = twheel_kbench_ns();
		cpu1 = twheel_kbench_cpu_ns();
		mutex_unlock(&ctx->mutex);
		cond_resched();
		twheel_kbench_steps_add(&st, t, ARRAY_SIZE(names), n, cpu0,
					cpu1);
	}
	twheel_kbench_steps_report(b, &st, names, ARRAY_SIZE(names));
	return found;
}

/* Cancel entries, and connection ids, for the first @k timers of @b->perm. */
static void twheel_kbench_cancels(struct twheel_kbench *b, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < k; i++) {
		b->cancels[i] = (struct twheel_cancel){
			.conn_id = b->perm[i],
			.kind = TWHEEL_KIND_IDLE,
		};
		b->conn_ids[i] = b->perm[i];
	}
}

/*
 * NEXT, @next_calls times or for 200 ms of wall time, whichever ends
 * first; with @search, its cached answer dropped before each call. Puts
 * the time taken in @t and returns the number of calls, 0 on a signal.
 */
static unsigned int twheel_kbench_next(struct twheel_ctx *ctx, bool search,
				       u64 *last, struct twheel_kbench_time *t)
{
	u64 next, armed, queued, start;
	unsigned int i;

	/* The first call after the arms may search: not timed. */
	if (twheel_ctx_next(ctx, &next, &armed, &queued))
		return 0;
	twheel_kbench_start(t);
	start = t->wall;
	for (i = 0; i < next_calls; i++) {
		/* No other thread uses this file: no lock needed to drop it. */
		if (search)
			ctx->next_valid = false;
		if (twheel_ctx_next(ctx, &next, &armed, &queued))
			return 0;
		if (i % 16 == 15 &&
		    twheel_kbench_ns() - start > TWHEEL_KBENCH_NEXT_NS) {
			i++;
			break;
		}
	}
	twheel_kbench_stop(t);
	*last = next;
	return i;
}

/*
 * The operations at @b->n live timers: the first arm of every timer, then
 * re-arms, NEXT, cancels and cancels of connections of random timers, each
 * loop timed as a whole.
 */
static int twheel_kbench_ops(struct twheel_kbench *b)
{
	unsigned int k = min(ops, b->n), i, calls;
	u64 next, earliest = U64_MAX;
	struct twheel_kbench_time t;
	struct twheel_ctx *ctx;

	ctx = twheel_ctx_create(GLOBAL_ROOT_UID, true);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);

	twheel_kbench_arms(b, b->n, false, 0);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_ARM, b->arms, b->n, 0, &t))
		goto out;
	twheel_kbench_report(b, "arm", b->n, &t);

	twheel_kbench_pick(b, k);
	twheel_kbench_arms(b, k, true, TWHEEL_KBENCH_SHIFT_NS);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_ARM, b->arms, k, k, &t))
		goto out;
	twheel_kbench_report(b, "rearm", k, &t);

	for (i = 0; i < b->n; i++)
		earliest = min(earliest, b->deadline[i]);
	calls = twheel_kbench_next(ctx, false, &next, &t);
	if (!calls)
		goto out;
	twheel_kbench_report(b, "next_cached", calls, &t);
	calls = twheel_kbench_next(ctx, true, &next, &t);
	if (!calls)
		goto out;
	twheel_kbench_report(b, "next_search", calls, &t);
	/* Re-arms only move deadlines later: NEXT is never before the first. */
	if (next < earliest) {
		pr_err("twheel_kbench: NEXT said %llu, before the earliest deadline %llu\n",
		       next, earliest);
		goto out;
	}

	twheel_kbench_pick(b, k);
	twheel_kbench_cancels(b, k);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_CANCEL, b->cancels, k, k,
				   &t))
		goto out;
	twheel_kbench_report(b, "cancel", k, &t);

	/* Those timers back; then cancels of other random ones, in steps. */
	twheel_kbench_arms(b, k, true, 0);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_ARM, b->arms, k, 0, NULL))
		goto out;
	twheel_kbench_pick(b, k);
	twheel_kbench_cancels(b, k);
	if (twheel_kbench_cancel_steps(ctx, b, k) != k) {
		pr_err("twheel_kbench: cancel in steps did not find every timer\n");
		goto out;
	}

	/* Those back too; then the connections of random timers. */
	twheel_kbench_arms(b, k, true, 0);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_ARM, b->arms, k, 0, NULL))
		goto out;
	twheel_kbench_pick(b, k);
	twheel_kbench_cancels(b, k);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_CANCEL_CONN, b->conn_ids, k,
				   k, &t))
		goto out;
	twheel_kbench_report(b, "cancel_conn", k, &t);

	/* Closing cancels and frees every timer left. */
	twheel_kbench_start(&t);
	twheel_ctx_close(ctx);
	twheel_kbench_stop(&t);
	if (b->n > k)
		twheel_kbench_report(b, "close", b->n - k, &t);
	return 0;
out:
	twheel_ctx_close(ctx);
	return -EIO;
}

/* The module's clock moved to @ns (never backwards). */
static void twheel_kbench_clock_at(u64 ns)
{
	u64 now = twheel_kbench_ns();

	if (ns > now + twheel_kbench_skew)
		twheel_kbench_skew = ns - now;
}

/*
 * Takes every event queued, as read() does: 16 per turn under the
 * spinlock, then the connections left empty are freed.
 */
static unsigned int twheel_kbench_read(struct twheel_ctx *ctx,
				       struct twheel_kbench *b)
{
	unsigned int i, n, got = 0;

	spin_lock(&ctx->wqh.lock);
	while ((n = __twheel_ctx_pop(ctx, b->ev, ARRAY_SIZE(b->ev)))) {
		got += n;
		for (i = 0; i < n; i++)
			b->early += b->ev[i].fired_ns < b->ev[i].deadline_ns;
		cond_resched_lock(&ctx->wqh.lock);
	}
	spin_unlock(&ctx->wqh.lock);
	if (!list_empty_careful(&ctx->dead) && mutex_trylock(&ctx->mutex)) {
		twheel_conn_reap(ctx);
		mutex_unlock(&ctx->mutex);
	}
	return got;
}

/*
 * Expiry: @b->n timers due within @window_ms, in random order, fired by
 * twheel_ctx_expire() at each tick with work, as the expiry thread does
 * when it keeps up; with @read, the events are also read after each tick,
 * as a reader that keeps up does; without, they wait and are read at the
 * end, not timed. Puts the time taken in @t; returns false if an event
 * was lost, doubled or early.
 */
static bool twheel_kbench_expiry(struct twheel_kbench *b, bool read,
				 struct twheel_kbench_time *t)
{
	u64 window = (u64)window_ms * NSEC_PER_MSEC, first;
	unsigned int i, fired = 0, got = 0;
	struct twheel_ctx *ctx;
	bool simd = false, ok = false;

	twheel_kbench_skew = 0;
	b->early = 0;
	ctx = twheel_ctx_create(GLOBAL_ROOT_UID, true);
	if (IS_ERR(ctx))
		return false;
	first = ktime_get_ns() + NSEC_PER_SEC;
	twheel_kbench_pick(b, b->n);
	for (i = 0; i < b->n; i++)
		b->deadline[i] = first + div_u64((u64)b->perm[i] * window, b->n);
	twheel_kbench_arms(b, b->n, false, 0);
	if (!twheel_kbench_batches(ctx, TWHEEL_CMD_ARM, b->arms, b->n, 0, NULL))
		goto out;

	twheel_kbench_start(t);
	for (;;) {
		u64 tick;

		spin_lock(&ctx->wqh.lock);
		tick = __twheel_ctx_work_tick(ctx);
		spin_unlock(&ctx->wqh.lock);
		if (tick == U64_MAX)
			break;
		twheel_kbench_clock_at(twheel_tick_to_ns(tick));
		do {
			twheel_kbench_again = false;
			fired += twheel_ctx_expire(ctx, &b->requeue, &simd);
		} while (twheel_kbench_again);
		if (read)
			got += twheel_kbench_read(ctx, b);
	}
	twheel_kbench_stop(t);
	if (!read)
		got = twheel_kbench_read(ctx, b);
	ok = fired == b->n && got == b->n && !b->early &&
	     !atomic_long_read(&twheel_nr_timers);
	if (!ok)
		pr_err("twheel_kbench: expiry of %u: %u fired, %u read, %u early, %ld timers left\n",
		       b->n, fired, got, b->early,
		       atomic_long_read(&twheel_nr_timers));
out:
	twheel_ctx_close(ctx);
	twheel_kbench_skew = 0;
	return ok;
}

static enum hrtimer_restart twheel_kbench_hrtimer_fn(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

/*
 * The kernel's hrtimers at @b->n live timers, with the deadlines the
 * operations above used: a first start of each, restarts and cancels of
 * random ones. timerfd_settime() and an io_uring timeout each do one such
 * start (a re-arm or a disarm one such cancel first) besides the system
 * call and their own bookkeeping.
 */
static int twheel_kbench_hrtimers(struct twheel_kbench *b)
{
	unsigned int i, k = min(ops, b->n), active = 0;
	struct hrtimer *h = b->hrtimers;
	struct twheel_kbench_time t;

	for (i = 0; i < b->n; i++) {
		hrtimer_init(&h[i], CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
		h[i].function = twheel_kbench_hrtimer_fn;
	}

	twheel_kbench_start(&t);
	for (i = 0; i < b->n; i++) {
		hrtimer_start_range_ns(&h[i], ns_to_ktime(b->deadline[i]), 0,
				       HRTIMER_MODE_ABS);
		if (!(i % TWHEEL_KBENCH_BATCH))
			cond_resched();
	}
	twheel_kbench_stop(&t);
	twheel_kbench_report(b, "hrtimer_start", b->n, &t);

	twheel_kbench_pick(b, k);
	twheel_kbench_start(&t);
	for (i = 0; i < k; i++) {
		u32 x = b->perm[i];

		hrtimer_start_range_ns(&h[x],
				       ns_to_ktime(b->deadline[x] +
						   TWHEEL_KBENCH_SHIFT_NS),
				       0, HRTIMER_MODE_ABS);
		if (!(i % TWHEEL_KBENCH_BATCH))
			cond_resched();
	}
	twheel_kbench_stop(&t);
	twheel_kbench_report(b, "hrtimer_restart", k, &t);

	twheel_kbench_pick(b, k);
	twheel_kbench_start(&t);
	for (i = 0; i < k; i++) {
		active += hrtimer_try_to_cancel(&h[b->perm[i]]) == 1;
		if (!(i % TWHEEL_KBENCH_BATCH))
			cond_resched();
	}
	twheel_kbench_stop(&t);
	twheel_kbench_report(b, "hrtimer_cancel", k, &t);

	for (i = 0; i < b->n; i++)
		hrtimer_cancel(&h[i]);
	if (active != k) {
		pr_err("twheel_kbench: %u of %u hrtimers were active when cancelled\n",
		       active, k);
		return -EIO;
	}
	return 0;
}

/* --- what the machine costs ------------------------------------------------ */

/* Picoseconds per operation: by the host's CPU time where there is one. */
static u64 twheel_kbench_ps(const struct twheel_kbench_time *t, u64 nr)
{
	return div64_u64((t->cpu ?: t->wall) * 1000, nr);
}

/*
 * A load from a random line of @bytes: with @chase each address comes from
 * the load before (no two misses overlap); without, the addresses come
 * from an array read in order, so that the CPU may have several misses in
 * flight, as a chunk of lookups does. Returns ps per load, 0 without
 * memory.
 */
static u64 twheel_kbench_line_ps(struct twheel_kbench *b, size_t bytes,
				 bool chase)
{
	size_t lines = bytes / 64, i, loads = 1 << 22;
	unsigned long *mem, pos = 0, sum = 0;
	struct twheel_kbench_time t;
	u32 *idx = NULL;
	u64 ps = 0;

	mem = kvmalloc(bytes, GFP_KERNEL);
	if (!mem)
		return 0;
	/* A random cycle through every line: Sattolo's shuffle. */
	for (i = 0; i < lines; i++)
		mem[i * 8] = i;
	for (i = lines - 1; i > 0; i--) {
		size_t j = twheel_kbench_random(b) % i;

		swap(mem[i * 8], mem[j * 8]);
	}
	if (!chase) {
		idx = kvmalloc_array(loads, sizeof(*idx), GFP_KERNEL);
		if (!idx)
			goto out;
		for (i = 0; i < loads; i++)
			idx[i] = twheel_kbench_random(b) % lines;
	}
	twheel_kbench_start(&t);
	if (chase) {
		for (i = 0; i < loads; i++)
			pos = READ_ONCE(mem[pos * 8]);
	} else {
		for (i = 0; i < loads; i++)
			sum += READ_ONCE(mem[idx[i] * 8]);
	}
	twheel_kbench_stop(&t);
	/* Keep the loads. */
	WRITE_ONCE(mem[0], pos + sum);
	ps = twheel_kbench_ps(&t, loads);
out:
	kvfree(idx);
	kvfree(mem);
	return ps;
}

/*
 * The costs every figure above is made of, in this kernel: a clock read,
 * a connection's allocation (from a file's blocks, 64 taken and given
 * back at a time as a first arm's chunk and a cancel's take them), zeroing
 * a connection, and memory.
 */
static void twheel_kbench_probes(struct twheel_kbench *b)
{
	struct twheel_conn *objs[TWHEEL_KBENCH_BATCH];
	size_t size = sizeof(struct twheel_conn);
	unsigned int i, j, rounds = 20000;
	struct twheel_kbench_time t;
	struct twheel_ctx *ctx;

	twheel_kbench_start(&t);
	for (i = 0; i < 100000; i++)
		twheel_kbench_ns();
	twheel_kbench_stop(&t);
	pr_info("twheel_kbench: probe clock_ps=%llu\n",
		twheel_kbench_ps(&t, 100000));

	twheel_kbench_start(&t);
	for (i = 0; i < 10000; i++)
		twheel_kbench_cpu_ns();
	twheel_kbench_stop(&t);
	pr_info("twheel_kbench: probe host_cpu_clock_ps=%llu\n",
		t.cpu ? twheel_kbench_ps(&t, 10000) : 0);

	ctx = twheel_ctx_create(GLOBAL_ROOT_UID, true);
	if (IS_ERR(ctx))
		return;
	mutex_lock(&ctx->mutex);
	twheel_kbench_start(&t);
	for (i = 0; i < rounds; i++) {
		for (j = 0; j < ARRAY_SIZE(objs); j++) {
			objs[j] = twheel_conn_alloc(ctx, j);
			if (!objs[j])
				break;
		}
		while (j--) {
			twheel_conn_release(objs[j]);
			twheel_conn_give(ctx, objs[j]);
		}
	}
	twheel_kbench_stop(&t);
	mutex_unlock(&ctx->mutex);
	twheel_ctx_close(ctx);
	pr_info("twheel_kbench: probe conn_alloc_free_ps=%llu\n",
		twheel_kbench_ps(&t, rounds * ARRAY_SIZE(objs)));

	/* Zeroing a connection, as init_on_alloc does: a memset() call. */
	OPTIMIZER_HIDE_VAR(size);
	twheel_kbench_start(&t);
	for (i = 0; i < 1000000; i++) {
		memset(objs, 0, size);
		barrier();
	}
	twheel_kbench_stop(&t);
	pr_info("twheel_kbench: probe zero_conn_ps=%llu\n",
		twheel_kbench_ps(&t, 1000000));

	/* One of the module's per-CPU counters, and one atomic counter. */
	twheel_kbench_start(&t);
	for (i = 0; i < 1000000; i++)
		twheel_counter_inc(TWHEEL_CTR_ARMS);
	twheel_kbench_stop(&t);
	twheel_counter_add(TWHEEL_CTR_ARMS, -1000000);
	pr_info("twheel_kbench: probe counter_ps=%llu\n",
		twheel_kbench_ps(&t, 1000000));
	twheel_kbench_start(&t);
	for (i = 0; i < 1000000; i++)
		atomic_long_inc(&twheel_nr_timers);
	twheel_kbench_stop(&t);
	atomic_long_sub(1000000, &twheel_nr_timers);
	pr_info("twheel_kbench: probe atomic_ps=%llu\n",
		twheel_kbench_ps(&t, 1000000));

	pr_info("twheel_kbench: probe warm_line_ps=%llu\n",
		twheel_kbench_line_ps(b, 64 << 10, true));
	pr_info("twheel_kbench: probe cold_line_ps=%llu\n",
		twheel_kbench_line_ps(b, 128 << 20, true));
	pr_info("twheel_kbench: probe cold_line_overlapped_ps=%llu\n",
		twheel_kbench_line_ps(b, 128 << 20, false));
}

/* --- the run --------------------------------------------------------------- */

static void twheel_kbench_free(struct twheel_kbench *b)
{
	kvfree(b->deadline);
	kvfree(b->perm);
	kvfree(b->arms);
	kvfree(b->cancels);
	kvfree(b->conn_ids);
	kvfree(b->hrtimers);
}

static int twheel_kbench_alloc(struct twheel_kbench *b, unsigned int n)
{
	b->deadline = kvmalloc_array(n, sizeof(*b->deadline), GFP_KERNEL);
	b->perm = kvmalloc_array(n, sizeof(*b->perm), GFP_KERNEL);
	b->arms = kvmalloc_array(n, sizeof(*b->arms), GFP_KERNEL);
	b->cancels = kvmalloc_array(n, sizeof(*b->cancels), GFP_KERNEL);
	b->conn_ids = kvmalloc_array(n, sizeof(*b->conn_ids), GFP_KERNEL);
	b->hrtimers = kvmalloc_array(n, sizeof(*b->hrtimers), GFP_KERNEL);
	if (b->deadline && b->perm && b->arms && b->cancels && b->conn_ids &&
	    b->hrtimers)
		return 0;
	twheel_kbench_free(b);
	return -ENOMEM;
}

static int twheel_kbench_size(struct twheel_kbench *b, unsigned int n)
{
	struct twheel_kbench_time t;
	int ret;

	b->n = n;
	ret = twheel_kbench_alloc(b, n);
	if (ret)
		return ret;
	for (b->run = 0; b->run < runs; b->run++) {
		twheel_kbench_far_deadlines(b);
		ret = twheel_kbench_ops(b);
		if (ret)
			break;
		ret = twheel_kbench_hrtimers(b);
		if (ret)
			break;
		ret = -EIO;
		if (!twheel_kbench_expiry(b, false, &t))
			break;
		twheel_kbench_report(b, "expire", n, &t);
		if (!twheel_kbench_expiry(b, true, &t))
			break;
		twheel_kbench_report(b, "expire_read", n, &t);
		twheel_kbench_far_deadlines(b);
		ret = twheel_kbench_arm_steps(b);
		if (ret)
			break;
	}
	twheel_kbench_free(b);
	return ret;
}

static int __init twheel_kbench_init(void)
{
	struct twheel_kbench *b;
	unsigned int i;
	int ret;

	if (!tick_us || tick_us > USEC_PER_SEC || !runs || !window_ms)
		return -EINVAL;
	twheel_tick_ns = (u64)tick_us * NSEC_PER_USEC;
	twheel_max_timeout_ns = min_t(u64, TWHEEL_WHEEL_MAX_DELTA,
				      div64_u64(1ULL << 62, twheel_tick_ns)) *
				twheel_tick_ns;
	twheel_wheel_init(&twheel_kbench_cpu_wheel,
			  twheel_ns_to_tick(ktime_get_ns()));
	INIT_HLIST_HEAD(&twheel_kbench_cpu_expired);

	b = kvzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->rng = 0x9e3779b97f4a7c15ULL;
	ret = twheel_counters_init();
	if (ret)
		goto err_free;

	pr_info("twheel_kbench: start tick_ns=%llu runs=%u ops=%u next_calls=%u window_ms=%u batch=%u\n",
		twheel_tick_ns, runs, ops, next_calls, window_ms,
		TWHEEL_KBENCH_BATCH);
	twheel_kbench_probes(b);
	for (i = 0; i < nr_sizes; i++) {
		if (!sizes[i] || sizes[i] > twheel_quota) {
			pr_err("twheel_kbench: size %u is not in 1..%lu\n",
			       sizes[i], twheel_quota);
			ret = -EINVAL;
			break;
		}
		ret = twheel_kbench_size(b, sizes[i]);
		if (ret)
			break;
	}
	if (ret)
		pr_err("twheel_kbench: failed: %d\n", ret);
	else
		pr_info("twheel_kbench: done\n");

	twheel_counters_exit();
err_free:
	kvfree(b);
	/* The figures are in the log; a failure is not a reason to stay. */
	return ret;
}

static void __exit twheel_kbench_exit(void)
{
}

module_init(twheel_kbench_init);
module_exit(twheel_kbench_exit);

MODULE_DESCRIPTION("twheel's costs timed inside the kernel");
MODULE_LICENSE("GPL");
