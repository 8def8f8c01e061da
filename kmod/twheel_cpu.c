// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the per-CPU wheels and their expiry threads.
 */

/**
 * DOC: Per-CPU expiry
 *
 * Every CPU has a &struct twheel_cpu: a wheel, an hrtimer and a kernel
 * thread ("twheel/N", an smpboot thread, so CPU hotplug parks and unparks
 * it). An open file is served by one CPU; the CPU's wheel holds one timer
 * per file (&twheel_ctx.cpu_timer), queued at the tick when that file's own
 * wheel has work next. Timers therefore live in two levels: a connection's
 * earliest deadline in its file's wheel, the file's earliest tick in its
 * CPU's wheel. Arming and re-arming a connection touches only the file's
 * wheel and lock, and the CPU's lock only when the file's earliest tick
 * moves.
 *
 * **Sleeping.** The thread sleeps until the hrtimer fires at the CPU wheel's
 * next tick. There is no periodic tick: with nothing armed the hrtimer is
 * cancelled and the thread never wakes. Whoever queues a file earlier than
 * the hrtimer is programmed for reprograms it on the spot, so an earlier
 * deadline wakes the thread early without a detour through the thread.
 *
 * **Batch expiry.** Woken, the thread advances its wheel to the current
 * tick, which hands out every file with work due, then gives each of them
 * a turn (twheel_ctx_expire()): it advances the file's wheel, moves every
 * kind that is due to the file's ready list, re-queues what is left, and
 * wakes the file's readers once for the whole turn. A turn ends after
 * %TWHEEL_EXPIRE_TURN connections or wheel moves; a file with more due
 * waits on the CPU's @again list for its next turn, which comes once every
 * file due meanwhile had one, so one file with a million timers due at
 * once delays another's by a turn, not by its whole batch. Files handed
 * out sit on the CPU's @expired list under its lock until the thread takes
 * them, so closing or moving a file can take it back at any time. The
 * CPU's own wheel of files advances on a budget too. The file's wheel advances
 * %TWHEEL_ADVANCE_BUDGET timers at a time (twheel_wheel_advance_budget());
 * between two, and every %TWHEEL_EXPIRE_CHUNK connections delivered, the
 * thread lets the file's lock and its CPU go if a reader, an ioctl or
 * another task waits, so a slot of a million timers cascading or expiring
 * at once never holds them for the whole of it.
 *
 * **Lateness.** A timer is due at its deadline and its tick is the first
 * tick at or after it, so the thread is programmed to wake up to one tick
 * after the deadline. The thread then needs W, its wake-up latency (the
 * hrtimer interrupt, then the scheduler switching to it: the counters
 * ``hrtimer_late_ns``, ``wakeup_ns`` and ``wakeup_us_log2_*``), and the
 * work it does before it reads the clock to stamp that tick's events: the
 * files handed out before this one in the same wake-up and the advance of
 * the file's wheel, which at the first tick of a slot above level 0 moves
 * that slot's timers down (see twheel_wheel.c). How long a wake-up works
 * is in ``run_ns`` and ``run_us_log2_*``; ``run_preempted`` counts the
 * wake-ups during which another task took the CPU from the thread.
 *
 * **Following the reader.** A file starts on the CPU it is opened on. When
 * read() or poll() finds nothing to read on another CPU, the reader is
 * about to wait there, and the file moves to that CPU (one timer, see
 * __twheel_cpu_follow()): its thread then wakes the reader on its own CPU,
 * with no inter-processor interrupt, and runs on the CPU the reader leaves
 * idle. Readers that wait on several CPUs move the file each time one of
 * them waits. TWHEEL_IOC_SET_CPU pins a file: it then stays where it was
 * put, until that CPU goes offline.
 *
 * **Hotplug.** When a CPU goes offline (%CPUHP_AP_ONLINE_DYN teardown, on the
 * CPU itself, before its thread is parked) every file it serves moves to
 * another online CPU and its timers keep their deadlines. A CPU that comes
 * back gets its thread back from smpboot and serves files opened on it
 * from then on.
 */

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/isolation.h>
#include <linux/smpboot.h>

#include "twheel_counters.h"
#include "twheel_cpu.h"
#include "twheel_ctx.h"
#include "twheel_trace.h"

/**
 * struct twheel_cpu - the wheel of files one CPU serves
 * @lock: the lock of the members that name it, and of the cpu_timer of
 *	every file this CPU serves
 * @wheel: the files, by the tick when their own wheel has work; @lock
 * @expired: files handed out by @wheel that the thread has not taken yet;
 *	@lock
 * @again: files the thread served a turn of and that have more due, for
 *	their next turn once every file in @expired had one; @lock
 * @hrtimer: wakes the thread at @hrtimer_tick
 * @hrtimer_tick: the tick @hrtimer is programmed for, U64_MAX if none; @lock
 * @kicked: the thread has work (set by @hrtimer, cleared by the thread);
 *	no lock, READ_ONCE()/WRITE_ONCE()
 * @kick_expires_ns: the instant @hrtimer last fired for, and
 * @kick_ns: when its callback ran; statistics, written by the callback and
 *	read by the thread without a lock (a value from the next kick is as
 *	good as any)
 * @requeue: the thread's scratch while it works on a file; the thread only
 * @cpu: this CPU
 */
struct twheel_cpu {
	/* taken inside a file's wqh.lock */
	spinlock_t lock;
	struct twheel_wheel wheel;
	struct hlist_head expired;
	struct hlist_head again;
	struct hrtimer hrtimer;
	u64 hrtimer_tick;
	bool kicked;
	u64 kick_expires_ns;
	u64 kick_ns;
	struct twheel_requeue requeue;
	unsigned int cpu;
};

static struct twheel_cpu __percpu *twheel_cpus;
static DEFINE_PER_CPU(struct task_struct *, twheel_threads);
static int twheel_hp_state;

/* Every open file, for CPU hotplug to find those of a dying CPU. */
static LIST_HEAD(twheel_ctx_list);
static DEFINE_MUTEX(twheel_ctx_list_lock);

static enum hrtimer_restart twheel_cpu_hrtimer_fn(struct hrtimer *hrtimer)
{
	struct twheel_cpu *base = container_of(hrtimer, struct twheel_cpu,
					       hrtimer);
	struct task_struct *thread = per_cpu(twheel_threads, base->cpu);

	WRITE_ONCE(base->kick_expires_ns, ktime_to_ns(hrtimer_get_expires(hrtimer)));
	WRITE_ONCE(base->kick_ns, ktime_get_ns());
	WRITE_ONCE(base->kicked, true);
	if (thread)
		wake_up_process(thread);
	return HRTIMER_NORESTART;
}

/* Makes sure the thread wakes by @tick. */
static void __twheel_cpu_kick(struct twheel_cpu *base, u64 tick)
{
	lockdep_assert_held(&base->lock);

	if (tick >= base->hrtimer_tick)
		return;
	base->hrtimer_tick = tick;
	hrtimer_start(&base->hrtimer, ns_to_ktime(twheel_tick_to_ns(tick)),
		      HRTIMER_MODE_ABS);
}

/*
 * A file's timer left the CPU's wheel or moved later: if the hrtimer is
 * programmed before the wheel's next work, program it for that work, so
 * that the thread does not wake for nothing (and never wakes with nothing
 * armed). The hrtimer may be programmed for a file's tick (by
 * __twheel_cpu_kick()) or for the start of a slot (by the thread), so it is
 * the wheel that is asked, not the tick the file left.
 */
static void __twheel_cpu_relax(struct twheel_cpu *base)
{
	u64 next;

	lockdep_assert_held(&base->lock);

	next = twheel_wheel_next(&base->wheel);
	if (next <= base->hrtimer_tick)
		return;
	base->hrtimer_tick = U64_MAX;
	if (next == U64_MAX)
		hrtimer_try_to_cancel(&base->hrtimer);
	else
		__twheel_cpu_kick(base, next);
}

/**
 * __twheel_cpu_schedule() - queue a file on its CPU for its next work
 * @ctx: the file
 *
 * Queues &twheel_ctx.cpu_timer at the tick when the file's wheel has work
 * next, or takes it off the CPU's wheel when nothing is armed, and makes
 * sure the CPU's thread wakes in time.
 *
 * Context: @ctx->wqh.lock held; takes the CPU's lock.
 */
void __twheel_cpu_schedule(struct twheel_ctx *ctx)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, ctx->cpu);
	struct twheel_timer *timer = &ctx->cpu_timer;
	u64 next;

	lockdep_assert_held(&ctx->wqh.lock);

	/* A ring's drain may arm after close() took the file off. */
	if (ctx->closed)
		return;
	next = __twheel_ctx_work_tick(ctx);
	/* By the time it promised to look at its ring, at the latest. */
	if (ctx->ring)
		next = min(next, ctx->ring->look_tick);
	spin_lock(&base->lock);
	if (twheel_timer_pending(timer)) {
		u64 old = timer->expires;

		if (next == U64_MAX)
			twheel_wheel_cancel(&base->wheel, timer);
		else if (next != old)
			twheel_wheel_arm(&base->wheel, timer, next);
		if (next < old)
			__twheel_cpu_kick(base, next);
		else if (next > old)
			__twheel_cpu_relax(base);
	} else if (hlist_unhashed(&timer->node) && next != U64_MAX) {
		__twheel_catch_up(&base->wheel, &base->expired);
		twheel_wheel_arm(&base->wheel, timer, next);
		__twheel_cpu_kick(base, next);
	}
	/*
	 * Otherwise the file waits on base->expired: the thread is about to
	 * work on it and will queue it again.
	 */
	spin_unlock(&base->lock);
}

/**
 * __twheel_cpu_again() - give a file another turn of its CPU's thread
 * @ctx: the file, which its thread served a turn of and left work due
 *
 * The file waits on its CPU's list of files for another turn, behind every
 * file that comes due meanwhile; the thread serving that CPU takes it
 * before it sleeps. If the file moved to another CPU during its turn, that
 * CPU's thread is woken for it.
 *
 * Context: @ctx->wqh.lock held; takes the CPU's lock.
 */
void __twheel_cpu_again(struct twheel_ctx *ctx)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, ctx->cpu);
	struct twheel_timer *timer = &ctx->cpu_timer;

	lockdep_assert_held(&ctx->wqh.lock);

	if (ctx->closed)
		return;
	spin_lock(&base->lock);
	/* Queued by an arm during the turn: the turn comes first. */
	if (twheel_timer_pending(timer))
		twheel_wheel_cancel(&base->wheel, timer);
	if (hlist_unhashed(&timer->node)) {
		hlist_add_head(&timer->node, &base->again);
		if (ctx->cpu != raw_smp_processor_id())
			__twheel_cpu_kick(base, 0);
	}
	spin_unlock(&base->lock);
}

/**
 * __twheel_cpu_now() - give a file a turn of its CPU's thread at once
 * @ctx: the file
 *
 * As __twheel_cpu_again(), from any context: the thread is woken.
 *
 * Context: @ctx->wqh.lock held; takes the CPU's lock.
 */
void __twheel_cpu_now(struct twheel_ctx *ctx)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, ctx->cpu);
	struct twheel_timer *timer = &ctx->cpu_timer;

	lockdep_assert_held(&ctx->wqh.lock);

	if (ctx->closed)
		return;
	spin_lock(&base->lock);
	if (twheel_timer_pending(timer))
		twheel_wheel_cancel(&base->wheel, timer);
	if (hlist_unhashed(&timer->node))
		hlist_add_head(&timer->node, &base->again);
	__twheel_cpu_kick(base, 0);
	spin_unlock(&base->lock);
}

/**
 * __twheel_cpu_unschedule() - take a file off its CPU
 * @ctx: the file
 *
 * Afterwards the CPU's thread will not hand the file out again; a thread
 * that already took it still holds its reference and works on it once.
 *
 * Context: @ctx->wqh.lock held; takes the CPU's lock.
 */
void __twheel_cpu_unschedule(struct twheel_ctx *ctx)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, ctx->cpu);

	lockdep_assert_held(&ctx->wqh.lock);

	spin_lock(&base->lock);
	if (twheel_wheel_cancel(&base->wheel, &ctx->cpu_timer))
		__twheel_cpu_relax(base);
	else
		hlist_del_init(&ctx->cpu_timer.node);
	spin_unlock(&base->lock);
}

/*
 * May @cpu do expiry work for files? Not if it is isolated from the
 * scheduler's domains or from the tick (isolcpus=, nohz_full=): that work
 * would disturb what the CPU was set apart for.
 */
static bool twheel_cpu_housekeeping(unsigned int cpu)
{
	return !cpu_is_isolated(cpu);
}

/* An active CPU that may do expiry work, @cpu itself if it can. */
static unsigned int twheel_cpu_fallback(unsigned int cpu)
{
	unsigned int other;

	if (cpu_active(cpu) && twheel_cpu_housekeeping(cpu))
		return cpu;
	for_each_cpu(other, cpu_active_mask) {
		if (twheel_cpu_housekeeping(other))
			return other;
	}
	return cpumask_any(cpu_active_mask);
}

static void __twheel_cpu_move(struct twheel_ctx *ctx, unsigned int cpu)
{
	lockdep_assert_held(&ctx->wqh.lock);

	if (ctx->cpu == cpu)
		return;
	__twheel_cpu_unschedule(ctx);
	ctx->cpu = cpu;
	__twheel_cpu_schedule(ctx);
	twheel_counter_inc(TWHEEL_CTR_FILE_MOVES);
}

/**
 * __twheel_cpu_follow() - serve a file from the CPU of a reader about to wait
 * @ctx: the file
 *
 * Called by read() and poll() when they find nothing to read. Unless
 * TWHEEL_IOC_SET_CPU pinned the file or the caller's CPU is isolated
 * (isolcpus=, nohz_full=), it moves to the caller's CPU, so that
 * the thread that queues its events and the reader it wakes share a CPU and
 * the wake-up needs no inter-processor interrupt. A CPU that is no longer
 * active is left alone: twheel_cpu_offline() runs after the CPU stopped
 * being active and takes @ctx->wqh.lock, so it either sees the file here
 * and moves it away, or this call sees the CPU inactive.
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_cpu_follow(struct twheel_ctx *ctx)
{
	unsigned int cpu = raw_smp_processor_id();

	lockdep_assert_held(&ctx->wqh.lock);

	if (likely(ctx->cpu == cpu) || ctx->cpu_pinned || ctx->closed ||
	    !cpu_active(cpu) || !twheel_cpu_housekeeping(cpu))
		return;
	__twheel_cpu_move(ctx, cpu);
}

/**
 * twheel_cpu_set() - serve a file from another CPU
 * @ctx: the file
 * @cpu: the CPU: online, one the calling task may run on, and not isolated
 *
 * The caller's confinement holds for the work it asks for: a task that
 * sched_setaffinity() or its cpuset keeps off a CPU cannot put its expiry
 * work there, and nobody can put it on a CPU isolated from the scheduler or
 * the tick.
 *
 * Context: process context; takes the hotplug read lock and @ctx->wqh.lock.
 * Return: 0, -EINVAL if @cpu is not an online CPU, or -EPERM if the caller
 * may not run there or it is isolated.
 */
int twheel_cpu_set(struct twheel_ctx *ctx, unsigned int cpu)
{
	int ret = -EINVAL;

	cpus_read_lock();
	if (cpu < nr_cpu_ids) {
		cpu = array_index_nospec(cpu, nr_cpu_ids);
		if (!cpu_online(cpu)) {
			ret = -EINVAL;
		} else if (!cpumask_test_cpu(cpu, current->cpus_ptr) ||
			   !twheel_cpu_housekeeping(cpu)) {
			ret = -EPERM;
		} else {
			spin_lock(&ctx->wqh.lock);
			ctx->cpu_pinned = true;
			__twheel_cpu_move(ctx, cpu);
			spin_unlock(&ctx->wqh.lock);
			ret = 0;
		}
	}
	cpus_read_unlock();
	return ret;
}

/**
 * twheel_cpu_attach() - serve a new file from the CPU it is opened on
 * @ctx: the file, not yet visible to anyone
 *
 * No hotplug lock: open() runs under misc_open()'s global mutex, which a
 * CPU going up or down must not hold up. twheel_cpu_offline() runs after
 * the CPU stopped being active and takes the same list lock, so either it
 * finds the file on the list and moves it, or the file sees the CPU
 * inactive here and takes an active one. A file opened on an isolated CPU
 * is served by one that is not.
 *
 * Context: process context; takes the file list's mutex.
 */
void twheel_cpu_attach(struct twheel_ctx *ctx)
{
	unsigned int cpu;

	mutex_lock(&twheel_ctx_list_lock);
	cpu = twheel_cpu_fallback(raw_smp_processor_id());
	ctx->cpu = cpu;
	list_add_tail(&ctx->list, &twheel_ctx_list);
	mutex_unlock(&twheel_ctx_list_lock);
}

/**
 * twheel_cpu_detach() - forget a file that is being released
 * @ctx: the file, already unscheduled
 *
 * Context: process context.
 */
void twheel_cpu_detach(struct twheel_ctx *ctx)
{
	mutex_lock(&twheel_ctx_list_lock);
	list_del(&ctx->list);
	mutex_unlock(&twheel_ctx_list_lock);
}

static int twheel_cpu_should_run(unsigned int cpu)
{
	return READ_ONCE(per_cpu_ptr(twheel_cpus, cpu)->kicked);
}

/* The expiry thread's work, each time it is woken. */
static void twheel_cpu_run(unsigned int cpu)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, cpu);
	unsigned int fired = 0;
	unsigned int turns = 0;
	u64 next, cascades, start, expires, kick, now;
	unsigned long nivcsw = current->nivcsw;
	struct twheel_ctx *ctx;
	bool simd = false, locked;

	WRITE_ONCE(base->kicked, false);
	start = ktime_get_ns();
	expires = READ_ONCE(base->kick_expires_ns);
	kick = READ_ONCE(base->kick_ns);
	spin_lock(&base->lock);
	for (;;) {
		/*
		 * Files that came due meanwhile go first; files with more
		 * than a turn of work wait in @again until every file that
		 * is due had its turn.
		 */
		cascades = base->wheel.cascades;
		twheel_wheel_advance_budget(&base->wheel,
					    twheel_ns_to_tick(ktime_get_ns()),
					    &base->expired,
					    TWHEEL_ADVANCE_BUDGET);
		twheel_counter_add(TWHEEL_CTR_CASCADES,
				   base->wheel.cascades - cascades);
		if (hlist_empty(&base->expired))
			hlist_move_list(&base->again, &base->expired);
		if (!hlist_empty(&base->expired)) {
			ctx = hlist_entry(base->expired.first,
					  struct twheel_ctx, cpu_timer.node);
			hlist_del_init(&ctx->cpu_timer.node);
			/* Closing the file may now happen behind our back. */
			refcount_inc(&ctx->refs);
			spin_unlock(&base->lock);

			/* A file with rings takes them first and last. */
			if (twheel_ring_begin(ctx, &now, &locked)) {
				fired += twheel_ctx_expire_at(ctx,
							      &base->requeue,
							      &simd, now);
				if (locked)
					twheel_ring_end(ctx);
			}
			turns++;
			twheel_ctx_put(ctx);
			cond_resched();

			spin_lock(&base->lock);
			continue;
		}
		if (twheel_wheel_busy(&base->wheel)) {
			/* The advance stopped on its budget. */
			cond_resched_lock(&base->lock);
			continue;
		}

		next = twheel_wheel_next(&base->wheel);
		if (next == U64_MAX) {
			hrtimer_try_to_cancel(&base->hrtimer);
			base->hrtimer_tick = U64_MAX;
			break;
		}
		if (twheel_tick_to_ns(next) > ktime_get_ns()) {
			base->hrtimer_tick = next;
			hrtimer_start(&base->hrtimer,
				      ns_to_ktime(twheel_tick_to_ns(next)),
				      HRTIMER_MODE_ABS_PINNED);
			break;
		}
	}
	spin_unlock(&base->lock);

	/* Three clock reads per wake-up, nothing per timer. */
	twheel_counter_wakeup(kick > expires ? kick - expires : 0,
			      start > expires ? start - expires : 0,
			      ktime_get_ns() - start);
	if (current->nivcsw != nivcsw)
		twheel_counter_inc(TWHEEL_CTR_RUN_PREEMPTED);
	twheel_counter_inc(TWHEEL_CTR_WAKEUPS);
	if (!fired)
		twheel_counter_inc(TWHEEL_CTR_WAKEUPS_IDLE);
	twheel_counter_inc(simd ? TWHEEL_CTR_BATCHES_SIMD :
			       TWHEEL_CTR_BATCHES_SCALAR);
	twheel_counter_batch(fired);
	trace_twheel_wakeup(turns, fired, expires, start);
}

/* Also when the thread stops: no wake-up may reach it after that. */
static void twheel_cpu_park(unsigned int cpu)
{
	struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, cpu);

	hrtimer_cancel(&base->hrtimer);
	spin_lock(&base->lock);
	base->hrtimer_tick = U64_MAX;
	spin_unlock(&base->lock);
}

static void twheel_cpu_cleanup(unsigned int cpu, bool online)
{
	twheel_cpu_park(cpu);
}

static struct smp_hotplug_thread twheel_cpu_threads = {
	.store			= &twheel_threads,
	.thread_should_run	= twheel_cpu_should_run,
	.thread_fn		= twheel_cpu_run,
	.park			= twheel_cpu_park,
	.cleanup		= twheel_cpu_cleanup,
	.thread_comm		= "twheel/%u",
};

/* A CPU is going offline: its files move to another CPU. */
static int twheel_cpu_offline(unsigned int cpu)
{
	unsigned int target = cpumask_any_but(cpu_online_mask, cpu);
	struct twheel_ctx *ctx;

	if (target >= nr_cpu_ids)
		return 0;
	target = twheel_cpu_fallback(target);

	mutex_lock(&twheel_ctx_list_lock);
	list_for_each_entry(ctx, &twheel_ctx_list, list) {
		spin_lock(&ctx->wqh.lock);
		if (!ctx->closed && ctx->cpu == cpu)
			__twheel_cpu_move(ctx, target);
		spin_unlock(&ctx->wqh.lock);
	}
	mutex_unlock(&twheel_ctx_list_lock);
	return 0;
}

/**
 * twheel_cpu_init() - set up the per-CPU wheels and start their threads
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int twheel_cpu_init(void)
{
	u64 tick = twheel_ns_to_tick(ktime_get_ns());
	unsigned int cpu;
	int ret;

	twheel_cpus = alloc_percpu(struct twheel_cpu);
	if (!twheel_cpus)
		return -ENOMEM;

	for_each_possible_cpu(cpu) {
		struct twheel_cpu *base = per_cpu_ptr(twheel_cpus, cpu);

		spin_lock_init(&base->lock);
		twheel_wheel_init(&base->wheel, tick);
		INIT_HLIST_HEAD(&base->expired);
		INIT_HLIST_HEAD(&base->again);
		hrtimer_init(&base->hrtimer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
		base->hrtimer.function = twheel_cpu_hrtimer_fn;
		base->hrtimer_tick = U64_MAX;
		base->cpu = cpu;
	}

	ret = smpboot_register_percpu_thread(&twheel_cpu_threads);
	if (ret)
		goto err_percpu;

	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "twheel:online",
					NULL, twheel_cpu_offline);
	if (ret < 0)
		goto err_threads;
	twheel_hp_state = ret;
	return 0;

err_threads:
	smpboot_unregister_percpu_thread(&twheel_cpu_threads);
err_percpu:
	free_percpu(twheel_cpus);
	return ret;
}

/**
 * twheel_cpu_exit() - stop the threads and free the per-CPU wheels
 *
 * Context: module exit, with no file open.
 */
void twheel_cpu_exit(void)
{
	unsigned int cpu;

	cpuhp_remove_state_nocalls(twheel_hp_state);
	/*
	 * With no file open the wheels are empty and no thread programs its
	 * hrtimer again; a thread that is running cancels it on its way out
	 * (twheel_cpu_cleanup()). So none fires for a thread that is gone.
	 */
	for_each_possible_cpu(cpu)
		hrtimer_cancel(&per_cpu_ptr(twheel_cpus, cpu)->hrtimer);
	smpboot_unregister_percpu_thread(&twheel_cpu_threads);
	free_percpu(twheel_cpus);
}
