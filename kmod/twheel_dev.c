// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the /dev/twheel character device.
 */

/**
 * DOC: The device
 *
 * Each open file is an isolated timer context (&struct twheel_ctx): nothing
 * one file does is visible through another, and closing it cancels
 * everything it owned. A file descriptor that is dup()ed or inherited across
 * fork() refers to the same open file, so it shares the context: the events
 * go to whichever process reads first, each to exactly one reader.
 *
 * **Ioctls.** Every argument is a struct that starts with its size, read
 * with copy_struct_from_user(): an older caller's shorter struct is
 * zero-extended, a newer caller's longer one is accepted when the tail is
 * zero (-E2BIG otherwise). Commands are matched by direction, type and
 * number, not by the size bits, so a command keeps its number when its
 * struct grows. Batches are copied in %TWHEEL_BATCH_CHUNK entries at a time
 * under the file's mutex; they report how far they got like a short
 * writev().
 *
 * **read().** Returns whole &struct twheel_event records, as many as fit
 * and are queued; blocks until one is queued unless the file is
 * %O_NONBLOCK or the read is %IOCB_NOWAIT (-EAGAIN). The file is opened
 * %FMODE_NOWAIT, so io_uring first tries a non-blocking read and, on
 * -EAGAIN, waits for poll() readiness instead of parking a worker thread.
 * Events are copied to user space a few at a time under the spinlock, with
 * page faults off, and taken off the queue in the same lock hold: only the
 * whole records that reached the buffer leave the file. A buffer that is
 * not in memory is faulted in without the lock and the copy goes on; one
 * that cannot be ends the read with what was copied (-EFAULT if nothing
 * was), and no event is lost.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/nsproxy.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/time_namespace.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include <linux/twheel.h>
#include "twheel.h"
#include "twheel_cmd.h"
#include "twheel_conn.h"
#include "twheel_cpu.h"
#include "twheel_ctx.h"
#include "twheel_ring.h"
#include "twheel_trace.h"

/* Events read() takes off the queue per lock hold (on the stack). */
#define TWHEEL_READ_CHUNK	16

/* The command without its size bits: argument structs carry their size. */
#define TWHEEL_IOC_NOSIZE(cmd)	((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

/*
 * What the calling task's CLOCK_MONOTONIC adds to the host's: its time
 * namespace's monotonic offset (containers, checkpoint/restore). Every
 * time the uapi takes or gives is on the caller's clock, as timerfd's.
 */
static s64 twheel_caller_offset(void)
{
#ifdef CONFIG_TIME_NS
	return timespec64_to_ns(&current->nsproxy->time_ns->offsets.monotonic);
#else
	return 0;
#endif
}

/* A host CLOCK_MONOTONIC time as the caller's clock shows it. */
static u64 twheel_to_caller(u64 ns, s64 offset)
{
	return ns == U64_MAX ? ns : ns + offset;
}

static int twheel_open(struct inode *inode, struct file *file)
{
	struct twheel_ctx *ctx;

	/* The limits per user bind whoever cannot raise resource limits. */
	ctx = twheel_ctx_create(current_euid(),
				ns_capable_noaudit(&init_user_ns,
						   CAP_SYS_RESOURCE));
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	twheel_cpu_attach(ctx);
	file->private_data = ctx;
	stream_open(inode, file);
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

static int twheel_release(struct inode *inode, struct file *file)
{
	twheel_ctx_close(file->private_data);
	return 0;
}

static ssize_t twheel_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct twheel_ctx *ctx = iocb->ki_filp->private_data;
	struct twheel_event ev[TWHEEL_READ_CHUNK];
	size_t room = iov_iter_count(to) / sizeof(ev[0]);
	s64 offset = twheel_caller_offset();
	unsigned int i, n, want;
	ssize_t done = 0;
	size_t size;
	int ret;

	if (!room)
		return -EINVAL;

	spin_lock(&ctx->wqh.lock);
	if (list_empty(&ctx->ready)) {
		if ((iocb->ki_filp->f_flags & O_NONBLOCK) ||
		    (iocb->ki_flags & IOCB_NOWAIT)) {
			spin_unlock(&ctx->wqh.lock);
			return -EAGAIN;
		}
		__twheel_cpu_follow(ctx);
		ret = wait_event_interruptible_locked(ctx->wqh,
						      !list_empty(&ctx->ready));
		if (ret) {
			spin_unlock(&ctx->wqh.lock);
			return ret;
		}
	}

	while (room) {
		want = __twheel_ctx_peek(ctx, ev, min_t(size_t, room,
							ARRAY_SIZE(ev)));
		if (!want)
			break;
		for (i = 0; offset && i < want; i++) {
			ev[i].deadline_ns = twheel_to_caller(ev[i].deadline_ns,
							     offset);
			ev[i].fired_ns = twheel_to_caller(ev[i].fired_ns,
							  offset);
		}
		/*
		 * Copied under the lock, so that the events that leave the
		 * file are exactly those that reach the reader. With page
		 * faults off, a buffer that is not in memory makes the copy
		 * short instead of sleeping: whole records count, the rest
		 * stay queued.
		 */
		pagefault_disable();
		size = copy_to_iter(ev, want * sizeof(ev[0]), to);
		pagefault_enable();
		iov_iter_revert(to, size % sizeof(ev[0]));
		n = size / sizeof(ev[0]);
		__twheel_ctx_take(ctx, n);
		done += n * sizeof(ev[0]);
		room -= n;
		if (n < want) {
			/* Bring the buffer in without the lock, or stop. */
			spin_unlock(&ctx->wqh.lock);
			if (fault_in_iov_iter_writeable(to, sizeof(ev[0]))) {
				if (!done)
					done = -EFAULT;
				goto reap;
			}
			spin_lock(&ctx->wqh.lock);
			continue;
		}
		cond_resched_lock(&ctx->wqh.lock);
	}
	spin_unlock(&ctx->wqh.lock);

reap:
	/*
	 * Free the connections this read left empty, unless an ioctl holds
	 * the mutex: then it frees them itself when it is done.
	 */
	if (!list_empty_careful(&ctx->dead) && mutex_trylock(&ctx->mutex)) {
		twheel_conn_reap(ctx);
		twheel_ring_unlock(ctx);
	}
	return done;
}

static __poll_t twheel_poll(struct file *file, poll_table *wait)
{
	struct twheel_ctx *ctx = file->private_data;
	__poll_t events = 0;

	poll_wait(file, &ctx->wqh, wait);
	spin_lock(&ctx->wqh.lock);
	/*
	 * EPOLLIN only for what read() would return: an io_uring read that
	 * waits for it would otherwise retry at once, forever.
	 */
	if (!list_empty(&ctx->ready))
		events |= EPOLLIN | EPOLLRDNORM;
	if (ctx->ring && __twheel_ring_readable(ctx))
		events |= EPOLLRDBAND;
	if (!events)
		__twheel_cpu_follow(ctx);
	spin_unlock(&ctx->wqh.lock);
	return events;
}

/*
 * Copies in an extensible struct that starts with its __u32 size, which
 * must be at least @min_size and at most a page. Returns the caller's size,
 * or a negative errno.
 */
static long twheel_copy_arg(void *dst, size_t ksize, const void __user *uarg,
			    size_t min_size)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (usize < min_size)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, uarg, usize);
	if (ret)
		return ret;
	return usize;
}

/*
 * For the ioctls whose struct is all output after @size: checks that the
 * rest is zero, and returns how much of the answer fits the caller's size.
 */
static long twheel_copy_out_arg(void *dst, size_t ksize,
				const void __user *uarg, size_t min_size)
{
	long usize = twheel_copy_arg(dst, ksize, uarg, min_size);

	if (usize < 0)
		return usize;
	if (memchr_inv(dst + sizeof(u32), 0, ksize - sizeof(u32)))
		return -EINVAL;
	return min_t(size_t, usize, ksize);
}

static long twheel_ioc_handshake(struct twheel_ctx *ctx,
				 struct twheel_handshake __user *uarg)
{
	struct twheel_handshake hs;
	long size;

	BUILD_BUG_ON(sizeof(hs) != TWHEEL_HANDSHAKE_SIZE_VER0);

	size = twheel_copy_out_arg(&hs, sizeof(hs), uarg,
				   offsetofend(struct twheel_handshake,
					       features));
	if (size < 0)
		return size;

	memset(&hs, 0, sizeof(hs));
	hs.size = size;
	hs.api_version = TWHEEL_API_VERSION;
	hs.features = TWHEEL_FEAT_HANDSHAKE | TWHEEL_FEAT_TIMERS |
		      TWHEEL_FEAT_POLL | TWHEEL_FEAT_NEXT | TWHEEL_FEAT_STATS |
		      TWHEEL_FEAT_SET_CPU | TWHEEL_FEAT_RINGS;
	hs.tick_ns = twheel_tick_ns;
	hs.max_timeout_ns = twheel_max_timeout_ns;
	hs.nr_kinds = TWHEEL_NR_KINDS;
	hs.max_batch = TWHEEL_MAX_BATCH;
	hs.quota_timers = READ_ONCE(twheel_quota);
	hs.max_timers = READ_ONCE(twheel_max_timers);
	spin_lock(&ctx->wqh.lock);
	hs.cpu = ctx->cpu;
	spin_unlock(&ctx->wqh.lock);
	hs.event_size = sizeof(struct twheel_event);
	hs.max_sq_entries = TWHEEL_RING_MAX_SQ;
	hs.max_ev_entries = TWHEEL_RING_MAX_EV;
	if (copy_to_user(uarg, &hs, size))
		return -EFAULT;
	return 0;
}

/*
 * Copies up to @n entries of @usize bytes from @src into @dst as entries of
 * @ksize bytes. Returns the number copied; if fewer than @n, *@err says why
 * the next one was not.
 */
static unsigned int twheel_copy_entries(void *dst, size_t ksize,
					const void __user *src, size_t usize,
					unsigned int n, int *err)
{
	unsigned int i;
	int ret;

	/*
	 * Entries of our own size are read a word at a time, one
	 * user_access_begin() for the chunk. copy_from_user() would do as well
	 * natively; under qemu's TCG, where the benchmarks run, its rep movsb
	 * is emulated byte by byte (Documentation/bench.rst).
	 */
	if (usize == ksize) {
		const u64 __user *from = src;
		size_t words = n * ksize / sizeof(u64), w = 0;
		u64 *to = dst;

		BUILD_BUG_ON(sizeof(struct twheel_arm) % sizeof(u64) ||
			     sizeof(struct twheel_cancel) % sizeof(u64));
		if (!user_access_begin(from, words * sizeof(u64)))
			goto fault;
		for (; w < words; w++)
			unsafe_get_user(to[w], &from[w], fault_end);
		user_access_end();
		return n;
fault_end:
		user_access_end();
fault:
		*err = -EFAULT;
		return w * sizeof(u64) / ksize;
	}

	for (i = 0; i < n; i++) {
		ret = copy_struct_from_user(dst + i * ksize, ksize,
					    src + i * usize, usize);
		if (ret) {
			*err = ret;
			return i;
		}
	}
	return n;
}

static long twheel_ioc_batch(struct twheel_ctx *ctx,
			     struct twheel_batch __user *uarg,
			     enum twheel_cmd cmd)
{
	size_t ksize = twheel_cmd_defs[cmd].entry_size;
	struct twheel_batch_res res = {};
	const void __user *entries;
	struct twheel_clock clock;
	struct twheel_batch b;
	unsigned int n, got;
	long ret;
	int err;

	ret = twheel_copy_arg(&b, sizeof(b), uarg, TWHEEL_BATCH_SIZE_VER0);
	if (ret < 0)
		return ret;
	ret = twheel_cmd_check_batch(&b, cmd);
	if (ret)
		return ret;

	entries = u64_to_user_ptr(b.entries);
	clock.now = ktime_get_ns();
	clock.offset = twheel_caller_offset();
	if (mutex_lock_interruptible(&ctx->mutex))
		return -EINTR;
	while (res.applied < b.count && !res.error) {
		n = min_t(u32, b.count - res.applied, TWHEEL_BATCH_CHUNK);
		got = twheel_copy_entries(&ctx->chunk, ksize,
					  entries + (size_t)res.applied *
						    b.entry_size,
					  b.entry_size, n, &err);
		twheel_cmd_apply(ctx, cmd, got, &clock, &res);
		if (!res.error && got < n)
			res.error = err;
		cond_resched();
	}
	twheel_conn_reap(ctx);
	twheel_ring_unlock(ctx);

	if (put_user(res.applied, &uarg->applied) ||
	    put_user(res.error, &uarg->error) ||
	    put_user(res.found, &uarg->found))
		return -EFAULT;
	return res.applied;
}

static long twheel_ioc_next(struct twheel_ctx *ctx,
			    struct twheel_next __user *uarg)
{
	struct twheel_next next;
	long size;
	int ret;

	BUILD_BUG_ON(sizeof(next) != TWHEEL_NEXT_SIZE_VER0);

	size = twheel_copy_out_arg(&next, sizeof(next), uarg,
				   offsetofend(struct twheel_next, next_ns));
	if (size < 0)
		return size;

	memset(&next, 0, sizeof(next));
	next.size = size;
	ret = twheel_ctx_next(ctx, &next.next_ns, &next.armed, &next.queued);
	if (ret)
		return ret;
	next.next_ns = twheel_to_caller(next.next_ns, twheel_caller_offset());

	if (copy_to_user(uarg, &next, size))
		return -EFAULT;
	return 0;
}

static long twheel_ioc_stats(struct twheel_ctx *ctx,
			     struct twheel_stats __user *uarg)
{
	struct twheel_stats st;
	long size;

	BUILD_BUG_ON(sizeof(st) != TWHEEL_STATS_SIZE_VER1);

	size = twheel_copy_out_arg(&st, sizeof(st), uarg,
				   offsetofend(struct twheel_stats, cpu));
	if (size < 0)
		return size;

	memset(&st, 0, sizeof(st));
	st.size = size;
	spin_lock(&ctx->wqh.lock);
	st.cpu = ctx->cpu;
	st.armed = ctx->nr_armed;
	st.queued = ctx->nr_queued;
	st.conns = ctx->nr_conns;
	st.arms = ctx->stats.arms;
	st.rearms = ctx->stats.rearms;
	st.cancels = ctx->stats.cancels;
	st.fired = ctx->stats.fired;
	st.read = ctx->stats.read;
	st.wakeups = ctx->stats.wakeups;
	st.ring_entries = ctx->stats.ring_entries;
	st.ring_errors = ctx->stats.ring_errors;
	st.ring_events = ctx->stats.ring_events;
	st.ring_enters = ctx->stats.ring_enters;
	st.ring_drain_ns = ctx->stats.ring_drain_ns;
	spin_unlock(&ctx->wqh.lock);

	if (copy_to_user(uarg, &st, size))
		return -EFAULT;
	return 0;
}

static long twheel_ioc_set_cpu(struct twheel_ctx *ctx,
			       struct twheel_set_cpu __user *uarg)
{
	struct twheel_set_cpu arg;
	long ret;

	BUILD_BUG_ON(sizeof(arg) != TWHEEL_SET_CPU_SIZE_VER0);

	ret = twheel_copy_arg(&arg, sizeof(arg), uarg,
			      TWHEEL_SET_CPU_SIZE_VER0);
	if (ret < 0)
		return ret;
	if (arg.flags || arg.reserved)
		return -EINVAL;
	return twheel_cpu_set(ctx, arg.cpu);
}

static long twheel_ioc_ring_setup(struct twheel_ctx *ctx,
				  struct twheel_ring_setup __user *uarg)
{
	struct twheel_ring_setup arg;
	long size;
	int ret;

	size = twheel_copy_arg(&arg, sizeof(arg), uarg,
			       TWHEEL_RING_SETUP_SIZE_VER0);
	if (size < 0)
		return size;
	/* Outputs must come in zero, as in every struct of the uapi. */
	if (arg.mmap_size || arg.sqe_size || arg.event_size ||
	    memchr_inv(&arg.sq_off, 0, sizeof(arg.sq_off)) ||
	    memchr_inv(&arg.ev_off, 0, sizeof(arg.ev_off)))
		return -EINVAL;
	ret = twheel_ring_setup(ctx, &arg, twheel_caller_offset());
	if (ret)
		return ret;
	if (copy_to_user(uarg, &arg, min_t(size_t, size, sizeof(arg))))
		return -EFAULT;
	return 0;
}

static long twheel_ioc_ring_enter(struct twheel_ctx *ctx,
				  struct twheel_ring_enter __user *uarg)
{
	struct twheel_ring_res res = {};
	struct twheel_ring_enter arg;
	long size;
	int ret;

	size = twheel_copy_arg(&arg, sizeof(arg), uarg,
			       TWHEEL_RING_ENTER_SIZE_VER0);
	if (size < 0)
		return size;
	if (arg.applied || arg.found || arg.error || arg.errors ||
	    arg.user_data || arg.moved || arg.reserved0 || arg.reserved[0] ||
	    arg.reserved[1])
		return -EINVAL;
	ret = twheel_ring_enter(ctx, arg.flags, &res, &arg.moved);
	if (ret)
		return ret;
	arg.applied = res.applied;
	arg.found = res.found;
	arg.error = res.error;
	arg.errors = res.errors;
	arg.user_data = res.user_data;
	if (copy_to_user(uarg, &arg, min_t(size_t, size, sizeof(arg))))
		return -EFAULT;
	return 0;
}

static long twheel_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct twheel_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (TWHEEL_IOC_NOSIZE(cmd)) {
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_HANDSHAKE):
		return twheel_ioc_handshake(ctx, uarg);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_ARM):
		return twheel_ioc_batch(ctx, uarg, TWHEEL_CMD_ARM);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_CANCEL):
		return twheel_ioc_batch(ctx, uarg, TWHEEL_CMD_CANCEL);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_CANCEL_CONN):
		return twheel_ioc_batch(ctx, uarg, TWHEEL_CMD_CANCEL_CONN);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_NEXT):
		return twheel_ioc_next(ctx, uarg);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_STATS):
		return twheel_ioc_stats(ctx, uarg);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_SET_CPU):
		return twheel_ioc_set_cpu(ctx, uarg);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_RING_SETUP):
		return twheel_ioc_ring_setup(ctx, uarg);
	case TWHEEL_IOC_NOSIZE(TWHEEL_IOC_RING_ENTER):
		return twheel_ioc_ring_enter(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * /proc/<pid>/fdinfo/<fd> of a twheel file, for administrators and tools
 * (twstat's per-file view): one consistent snapshot, taken under the
 * file's spinlock and printed after it is dropped. Lines are only ever
 * added; a line for the file's rings appears when the device has them.
 * twheel-id is the file's id in its tracepoint records (twheel_trace.c).
 */
static void twheel_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct twheel_ctx *ctx = file->private_data;
	u32 sq_entries = 0, ev_entries = 0;
	u64 armed, queued, conns;
	unsigned int cpu;
	bool pinned;

	spin_lock(&ctx->wqh.lock);
	if (ctx->ring) {
		sq_entries = ctx->ring->sq_mask + 1;
		ev_entries = ctx->ring->ev_mask + 1;
	}
	cpu = ctx->cpu;
	pinned = ctx->cpu_pinned;
	armed = ctx->nr_armed;
	queued = ctx->nr_queued;
	conns = ctx->nr_conns;
	spin_unlock(&ctx->wqh.lock);

	seq_printf(m, "twheel-id:\t%016llx\n", twheel_file_id(ctx));
	seq_printf(m, "twheel-cpu:\t%u\n", cpu);
	seq_printf(m, "twheel-pinned:\t%u\n", pinned);
	seq_printf(m, "twheel-armed:\t%llu\n", armed);
	seq_printf(m, "twheel-queued:\t%llu\n", queued);
	seq_printf(m, "twheel-conns:\t%llu\n", conns);
	if (sq_entries)
		seq_printf(m, "twheel-rings:\t%u %u\n", sq_entries, ev_entries);
}

static int twheel_mmap(struct file *file, struct vm_area_struct *vma)
{
	return twheel_ring_mmap(file->private_data, vma);
}

static const struct file_operations twheel_fops = {
	.owner		= THIS_MODULE,
	.open		= twheel_open,
	.release	= twheel_release,
	.read_iter	= twheel_read_iter,
	.poll		= twheel_poll,
	.unlocked_ioctl	= twheel_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= twheel_mmap,
	.llseek		= no_llseek,
	.show_fdinfo	= twheel_show_fdinfo,
};

struct miscdevice twheel_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "twheel",
	.fops	= &twheel_fops,
	.mode	= 0666,
};
