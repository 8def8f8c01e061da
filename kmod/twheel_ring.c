// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: rings shared with user space, to arm, cancel and reap without a
 * system call.
 */

/**
 * DOC: Shared rings
 *
 * A file may have two rings in memory it shares with its user space, set up
 * by TWHEEL_IOC_RING_SETUP and mapped by mmap(), laid out as io_uring's:
 * a submission ring of &struct twheel_sqe entries that user space produces
 * and the kernel consumes, and an event ring of &struct twheel_event
 * records that the kernel produces and user space consumes. Each has a
 * free-running head and tail; the producer writes entries, then its index
 * with release semantics; the consumer reads the index with acquire
 * semantics, then the entries.
 *
 * **Draining.** The file's expiry thread takes the submission ring at the
 * start of every turn it gives the file, before it advances the file's
 * wheel (twheel_ring_begin()), and again at the end (twheel_ring_end()).
 * A turn fires only if it took everything published when it began: past
 * %TWHEEL_RING_DRAIN_BUDGET entries the file has another turn after the
 * other files of the CPU; an arm that needs memory the thread may not
 * sleep for (reclaim, or the file's memory cgroup throttling it) goes to a
 * worker, which takes the ring in process context and then gives the file
 * its turn; a stalled ring (below) waits for ENTER.
 * Each entry is copied into kernel memory once, checked there, and applied
 * by the batch commands of twheel_cmd.c, exactly as the entries of the
 * batch ioctls are: a chunk of entries of one op at a time. An entry that
 * the batch ioctl would have refused is taken off the ring and answered
 * with an error record in the event ring; the entries after it are applied.
 * TWHEEL_IOC_RING_ENTER drains the ring at once, the doorbell; with
 * %TWHEEL_ENTER_SYNC it stops at a bad entry and reports it in the call.
 *
 * **When to ring the doorbell.** After every turn (and every ENTER) the
 * kernel writes into the header ``look_ns``: the start of the tick at
 * which the thread next serves the file, the latest time at which it takes
 * what is in the ring. That is the tick of the file's next work, or, if
 * the turn took entries, the next tick: while user space publishes, the
 * thread looks every tick, and applies what comes without a doorbell. The
 * file's thread is woken by then even if what it was due for went away
 * meanwhile (a cancel or a re-arm for later by an ioctl): the promise is
 * only ever moved by the thread itself, or by ENTER, when it has just
 * drained. So an arming whose deadline is at or
 * after ``look_ns`` needs no system call: the thread takes it before the
 * tick in which it would fire. An earlier deadline needs ENTER, as does
 * anything when ``look_ns`` is U64_MAX (the file has nothing armed).
 * Between the header's update and the thread's sleep, an entry published
 * against the previous promise is caught by a second look at the ring
 * after the update (a full barrier on both sides: user space publishes its
 * tail, then reads ``look_ns``).
 *
 * **What a cancel guarantees.** A cancel or re-arm published in the ring
 * before the tick in which the old arming is due is applied before that
 * arming can fire. An event already written into the event ring cannot be
 * recalled: a cancel that comes after it finds nothing, and user space
 * drops the event (libtwheel's per-connection layer does).
 *
 * **Events.** The thread writes fired timers into the event ring after each
 * turn. When the ring is full they wait in the kernel queue, as without
 * rings; read() takes them from there, and each turn or ENTER moves them in
 * as room frees. The header counts them (``queued``). poll() reports
 * EPOLLIN for the kernel queue, what read() returns, and EPOLLRDBAND for
 * records in the ring. Readers are woken when events stay in the kernel
 * queue, or when events reach the ring and the reader said it sleeps
 * (%TWHEEL_EV_NEED_WAKEUP).
 *
 * **Hostile memory.** Everything in the shared pages may change at any
 * time. The kernel keeps its own head of the submission ring and tail of
 * the event ring and only ever writes them out; it reads user space's tail
 * and head once per pass, bounds what they claim by the ring's size and
 * masks every index; each entry is read once into kernel memory. A process
 * that scribbles over its rings loses its own entries or events, nothing
 * more. Nothing in the pages is a kernel pointer or state the kernel needs.
 *
 * **Memory.** The rings are pages charged to the memory cgroup of the task
 * that set them up and counted against its user's ``max_user_ring_pages``.
 * What the expiry thread allocates while applying entries is charged to
 * that cgroup as well (set_active_memcg()). The pages live until the file
 * is released and the last mapping is gone.
 */

#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "twheel_cmd.h"
#include "twheel_counters.h"
#include "twheel_cpu.h"
#include "twheel_ctx.h"
#include "twheel_ring.h"

/*
 * How many times the end of a turn looks at the ring again after promising
 * a later look: past that, the file gets another turn at once.
 */
#define TWHEEL_RING_SETTLE_TRIES	4

/* How a drain applies what it takes, and who asked for it. */
enum twheel_ring_mode {
	/* The expiry thread: a budget, and no allocation that sleeps. */
	TWHEEL_RING_THREAD,
	/* ENTER, or the worker the thread hands a drain to. */
	TWHEEL_RING_ENTER,
	/* ENTER with %TWHEEL_ENTER_SYNC: stop at a bad entry, report it. */
	TWHEEL_RING_SYNC,
};

static void twheel_ring_settle(struct twheel_ctx *ctx,
			       enum twheel_ring_mode mode, bool drain);
static void twheel_ring_work(struct work_struct *work);

/* The workqueue of drains the expiry thread could not finish. */
static struct workqueue_struct *twheel_ring_wq;

static_assert(sizeof(struct twheel_sqe) == TWHEEL_SQE_SIZE);
static_assert(sizeof(struct twheel_ring_setup) ==
	      TWHEEL_RING_SETUP_SIZE_VER0);
static_assert(sizeof(struct twheel_ring_enter) ==
	      TWHEEL_RING_ENTER_SIZE_VER0);
static_assert(sizeof(struct twheel_ring_hdr) == 256);

/* A time of the kernel's clock, as the task that set the rings up sees it. */
static u64 twheel_ring_to_user(const struct twheel_ring *ring, u64 ns)
{
	if (ns == U64_MAX)
		return U64_MAX;
	return ns + ring->offset;
}

static unsigned int twheel_ring_layout(u32 sq_entries, u32 ev_entries,
				       size_t *sq_off, size_t *ev_off)
{
	size_t size;

	*sq_off = sizeof(struct twheel_ring_hdr);
	size = *sq_off + (size_t)sq_entries * sizeof(struct twheel_sqe);
	*ev_off = ALIGN(size, 64);
	size = *ev_off + (size_t)ev_entries * sizeof(struct twheel_event);
	return PAGE_ALIGN(size) >> PAGE_SHIFT;
}

static void twheel_ring_free_pages(struct page **pages, unsigned int nr)
{
	while (nr--)
		put_page(pages[nr]);
	kvfree(pages);
}

/**
 * twheel_ring_setup() - give a file its shared rings
 * @ctx: the file
 * @arg: the caller's request, its outputs filled on success
 * @offset: the caller's time namespace offset
 *
 * Context: process context; takes @ctx->mutex.
 * Return: 0, -EINVAL for sizes that are not powers of two within the
 * limits or non-zero flags, -EBUSY if the file has rings, -ENOSPC over the
 * user's ``max_user_ring_pages``, -ENOMEM, or -EINTR.
 */
int twheel_ring_setup(struct twheel_ctx *ctx, struct twheel_ring_setup *arg,
		      s64 offset)
{
	struct twheel_ring *ring;
	size_t sq_off, ev_off;
	unsigned int nr, i;
	int ret;

	if (arg->flags || arg->reserved[0] || arg->reserved[1])
		return -EINVAL;
	if (!arg->sq_entries || arg->sq_entries > TWHEEL_RING_MAX_SQ ||
	    !is_power_of_2(arg->sq_entries) || !arg->ev_entries ||
	    arg->ev_entries > TWHEEL_RING_MAX_EV ||
	    !is_power_of_2(arg->ev_entries))
		return -EINVAL;
	/* Checked again under the mutex: this spares the allocation. */
	if (READ_ONCE(ctx->ring))
		return -EBUSY;
	nr = twheel_ring_layout(arg->sq_entries, arg->ev_entries, &sq_off,
				&ev_off);

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	ring->pages = kvcalloc(nr, sizeof(*ring->pages), GFP_KERNEL_ACCOUNT);
	if (!ring->pages) {
		ret = -ENOMEM;
		goto free_ring;
	}
	for (i = 0; i < nr; i++) {
		ring->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!ring->pages[i]) {
			ret = -ENOMEM;
			goto free_pages;
		}
	}
	ring->nr_pages = nr;
	ring->base = vmap(ring->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!ring->base) {
		ret = -ENOMEM;
		goto free_pages;
	}
	ring->hdr = ring->base;
	ring->sqes = ring->base + sq_off;
	ring->events = ring->base + ev_off;
	ring->sq_mask = arg->sq_entries - 1;
	ring->ev_mask = arg->ev_entries - 1;
	ring->offset = offset;
	ring->look_tick = U64_MAX;
	ring->ctx = ctx;
	INIT_WORK(&ring->work, twheel_ring_work);
	ring->hdr->sq.mask = ring->sq_mask;
	ring->hdr->sq.entries = arg->sq_entries;
	ring->hdr->sq.look_ns = U64_MAX;
	ring->hdr->ev.mask = ring->ev_mask;
	ring->hdr->ev.entries = arg->ev_entries;

	if (mutex_lock_interruptible(&ctx->mutex)) {
		ret = -EINTR;
		goto unmap;
	}
	if (ctx->ring) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!twheel_user_charge_pages(ctx->user, nr, ctx->unlimited)) {
		ret = -ENOSPC;
		goto unlock;
	}
	ring->memcg = get_mem_cgroup_from_mm(current->mm);
	spin_lock(&ctx->wqh.lock);
	/* The thread reads the pointer without the lock (twheel_ring_begin). */
	smp_store_release(&ctx->ring, ring);
	spin_unlock(&ctx->wqh.lock);
	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
			   ((long)nr << PAGE_SHIFT) + sizeof(*ring));
	twheel_ring_settle(ctx, TWHEEL_RING_ENTER, false);
	twheel_ring_unlock(ctx);

	memset(&arg->sq_off, 0, sizeof(arg->sq_off));
	memset(&arg->ev_off, 0, sizeof(arg->ev_off));
	arg->mmap_size = (u64)nr << PAGE_SHIFT;
	arg->sqe_size = sizeof(struct twheel_sqe);
	arg->event_size = sizeof(struct twheel_event);
	arg->sq_off.head = offsetof(struct twheel_ring_hdr, sq.head);
	arg->sq_off.tail = offsetof(struct twheel_ring_hdr, sq_user.tail);
	arg->sq_off.ring_mask = offsetof(struct twheel_ring_hdr, sq.mask);
	arg->sq_off.ring_entries = offsetof(struct twheel_ring_hdr, sq.entries);
	arg->sq_off.flags = offsetof(struct twheel_ring_hdr, sq.flags);
	arg->sq_off.entries = sq_off;
	arg->sq_off.look_ns = offsetof(struct twheel_ring_hdr, sq.look_ns);
	arg->ev_off.head = offsetof(struct twheel_ring_hdr, ev_user.head);
	arg->ev_off.tail = offsetof(struct twheel_ring_hdr, ev.tail);
	arg->ev_off.ring_mask = offsetof(struct twheel_ring_hdr, ev.mask);
	arg->ev_off.ring_entries = offsetof(struct twheel_ring_hdr, ev.entries);
	arg->ev_off.flags = offsetof(struct twheel_ring_hdr, ev_user.flags);
	arg->ev_off.events = ev_off;
	arg->ev_off.queued = offsetof(struct twheel_ring_hdr, ev.queued);
	return 0;

unlock:
	twheel_ring_unlock(ctx);
unmap:
	vunmap(ring->base);
free_pages:
	twheel_ring_free_pages(ring->pages, i);
free_ring:
	kfree(ring);
	return ret;
}

/**
 * twheel_ring_uncharge() - stop counting a file's rings against its user
 * @ctx: the file, being released
 *
 * The pages stay until twheel_ring_free() and the last mapping; the user
 * answers for them while the file is open.
 *
 * Context: process context.
 */
void twheel_ring_uncharge(struct twheel_ctx *ctx)
{
	if (ctx->ring)
		twheel_user_uncharge_pages(ctx->user, ctx->ring->nr_pages);
}

/**
 * twheel_ring_free() - free a file's rings
 * @ctx: the file, which no one else uses any more
 *
 * Mappings that outlive the file keep their own references to the pages.
 *
 * Context: process context.
 */
void twheel_ring_free(struct twheel_ctx *ctx)
{
	struct twheel_ring *ring = ctx->ring;

	if (!ring)
		return;
	twheel_counter_add(TWHEEL_CTR_MEMORY_BYTES,
			   -(((long)ring->nr_pages << PAGE_SHIFT) +
			     (long)sizeof(*ring)));
	mem_cgroup_put(ring->memcg);
	vunmap(ring->base);
	twheel_ring_free_pages(ring->pages, ring->nr_pages);
	kfree(ring);
	ctx->ring = NULL;
}

/* Room in the event ring, as far as user space's head can be believed. */
static u32 __twheel_ring_room(struct twheel_ring *ring)
{
	u32 used = ring->ev_tail - READ_ONCE(ring->hdr->ev_user.head);

	/* A head ahead of the tail, or too far behind: count it full. */
	if (used > ring->ev_mask + 1)
		return 0;
	return ring->ev_mask + 1 - used;
}

/* Publishes the records written up to @ring->ev_tail. */
static void __twheel_ring_publish_events(struct twheel_ctx *ctx)
{
	struct twheel_ring *ring = ctx->ring;

	/* The records before the tail that says they are there. */
	smp_store_release(&ring->hdr->ev.tail, ring->ev_tail);
	WRITE_ONCE(ring->hdr->ev.queued,
		   (u32)min_t(u64, ctx->nr_queued, U32_MAX));
}

/*
 * Answers a bad entry with an error record. Returns false if the event ring
 * has no room for it.
 */
static bool twheel_ring_error(struct twheel_ctx *ctx,
			      const struct twheel_sqe *sqe, int err, u64 now)
{
	struct twheel_ring *ring = ctx->ring;
	struct twheel_event *ev;

	spin_lock(&ctx->wqh.lock);
	if (!__twheel_ring_room(ring)) {
		spin_unlock(&ctx->wqh.lock);
		return false;
	}
	ev = &ring->events[ring->ev_tail & ring->ev_mask];
	ev->conn_id = sqe->conn_id;
	ev->user_data = sqe->user_data;
	ev->error = err;
	ev->fired_ns = twheel_ring_to_user(ring, now);
	ev->kind = sqe->kind;
	ev->flags = TWHEEL_EVENT_ERROR |
		    (u32)sqe->op << TWHEEL_EVENT_OP_SHIFT;
	ring->ev_tail++;
	ctx->stats.ring_errors++;
	__twheel_ring_publish_events(ctx);
	spin_unlock(&ctx->wqh.lock);
	twheel_counter_inc(TWHEEL_CTR_RING_ERRORS);
	return true;
}

/* The checks of an entry that its batch command's prep does not make. */
static int twheel_ring_check(const struct twheel_sqe *sqe)
{
	if (sqe->reserved)
		return -EINVAL;
	switch (sqe->op) {
	case TWHEEL_OP_ARM:
		return 0;
	case TWHEEL_OP_CANCEL:
		return sqe->timeout_ns ? -EINVAL : 0;
	case TWHEEL_OP_CANCEL_CONN:
		return sqe->timeout_ns || sqe->kind || sqe->flags ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

static const enum twheel_cmd twheel_ring_cmds[] = {
	[TWHEEL_OP_ARM]		= TWHEEL_CMD_ARM,
	[TWHEEL_OP_CANCEL]	= TWHEEL_CMD_CANCEL,
	[TWHEEL_OP_CANCEL_CONN]	= TWHEEL_CMD_CANCEL_CONN,
};

/* Puts the first @n entries of the scratch, all of one op, in the chunk. */
static void twheel_ring_to_chunk(struct twheel_ctx *ctx, unsigned int n)
{
	const struct twheel_sqe *sqe = ctx->ring->scratch;
	struct twheel_chunk *chunk = &ctx->chunk;
	unsigned int i;

	for (i = 0; i < n; i++, sqe++) {
		switch (sqe->op) {
		case TWHEEL_OP_ARM:
			chunk->arm[i].conn_id = sqe->conn_id;
			chunk->arm[i].timeout_ns = sqe->timeout_ns;
			chunk->arm[i].user_data = sqe->user_data;
			chunk->arm[i].kind = sqe->kind;
			chunk->arm[i].flags = sqe->flags;
			break;
		case TWHEEL_OP_CANCEL:
			chunk->cancel[i].conn_id = sqe->conn_id;
			chunk->cancel[i].kind = sqe->kind;
			chunk->cancel[i].flags = sqe->flags;
			break;
		default:
			chunk->conn_id[i] = sqe->conn_id;
			break;
		}
	}
}

/*
 * Copies the next entries of one op, at most a chunk, out of the ring into
 * the scratch, once each. Returns how many, 0 if the first is bad (then
 * *@err says why).
 */
static unsigned int twheel_ring_fetch(struct twheel_ring *ring, u32 head,
				      unsigned int avail, int *err)
{
	unsigned int n, max = min_t(unsigned int, avail, TWHEEL_BATCH_CHUNK);
	struct twheel_sqe *sqe = ring->scratch;

	for (n = 0; n < max; n++) {
		memcpy(&sqe[n], &ring->sqes[(head + n) & ring->sq_mask],
		       sizeof(sqe[n]));
		*err = twheel_ring_check(&sqe[n]);
		if (*err || (n && sqe[n].op != sqe[0].op))
			break;
	}
	/* A bad entry is answered on its own, after those before it. */
	if (!n && *err)
		return 0;
	*err = 0;
	return n;
}

/*
 * Takes what user space published in the submission ring: at most a ring's
 * worth, and for the thread at most %TWHEEL_RING_DRAIN_BUDGET entries. A
 * bad entry is answered with an error record and the drain goes on; with
 * %TWHEEL_RING_SYNC it stops there and reports it in @res instead. An
 * error record that finds no room stalls the ring: the entry stays, and
 * nothing more is taken before ENTER. An arm the thread cannot allocate for
 * without sleeping stays too, for the worker (twheel_ring_work()).
 *
 * Return: true if everything published when the drain began was taken.
 */
static bool twheel_ring_drain(struct twheel_ctx *ctx, enum twheel_ring_mode mode,
			      struct twheel_ring_res *res)
{
	struct twheel_ring *ring = ctx->ring;
	struct twheel_sqe *scratch = ring->scratch;
	struct mem_cgroup *old_memcg;
	struct twheel_clock clock;
	u32 head = ring->sq_head;
	unsigned int avail, budget, n;
	bool done = false;
	int err;

	lockdep_assert_held(&ctx->mutex);

	if (READ_ONCE(ctx->closed))
		return true;
	if (ring->stalled || ring->punted)
		return false;
	/* Pairs with user space's release of its tail: entries after it. */
	avail = smp_load_acquire(&ring->hdr->sq_user.tail) - head;
	/* A tail that claims more than a ring holds: take one ring. */
	avail = min(avail, ring->sq_mask + 1);
	if (!avail)
		return true;
	budget = mode == TWHEEL_RING_THREAD ? TWHEEL_RING_DRAIN_BUDGET : avail;

	clock.now = ktime_get_ns();
	clock.offset = ring->offset;
	old_memcg = set_active_memcg(ring->memcg);
	if (mode == TWHEEL_RING_THREAD) {
		/* Reclaim or a cgroup's throttling would stall every file. */
		ctx->gfp = GFP_NOWAIT | __GFP_NOWARN | __GFP_ACCOUNT;
		ctx->conns.gfp = ctx->gfp;
	}
	while (avail && budget) {
		struct twheel_batch_res br = {};
		enum twheel_cmd cmd;

		n = twheel_ring_fetch(ring, head, min(avail, budget), &err);
		if (n) {
			cmd = twheel_ring_cmds[scratch[0].op];
			twheel_ring_to_chunk(ctx, n);
			twheel_cmd_apply(ctx, cmd, n, &clock, &br);
			res->applied += br.applied;
			res->found += br.found;
			head += br.applied;
			avail -= br.applied;
			budget -= br.applied;
			cond_resched();
			if (!br.error)
				continue;
			err = br.error;
			if (err == -ENOMEM && mode == TWHEEL_RING_THREAD) {
				/* Not an answer yet: the worker may sleep. */
				ring->punted = true;
				break;
			}
			/* Bring the bad entry to the front of the scratch. */
			scratch[0] = scratch[br.applied];
		}
		/* scratch[0] is a bad entry, err its errno. */
		if (mode == TWHEEL_RING_SYNC) {
			res->error = err;
			res->user_data = scratch[0].user_data;
			head++;
			break;
		}
		if (!twheel_ring_error(ctx, &scratch[0], err, clock.now)) {
			ring->stalled = true;
			break;
		}
		res->errors++;
		head++;
		avail--;
		budget--;
	}
	done = !avail;
	ctx->gfp = GFP_KERNEL_ACCOUNT;
	ctx->conns.gfp = GFP_KERNEL_ACCOUNT;
	set_active_memcg(old_memcg);

	spin_lock(&ctx->wqh.lock);
	ctx->stats.ring_entries += head - ring->sq_head;
	spin_unlock(&ctx->wqh.lock);
	twheel_counter_add(TWHEEL_CTR_RING_ENTRIES, head - ring->sq_head);
	if (head != ring->sq_head)
		ring->busy = true;
	ring->sq_head = head;
	WRITE_ONCE(ring->hdr->sq.flags, ring->stalled ? TWHEEL_SQ_STALLED : 0);
	/* The entries were read before user space may reuse their slots. */
	smp_store_release(&ring->hdr->sq.head, head);
	twheel_conn_reap(ctx);
	return done;
}

/* Moves up to @max queued events into the event ring; returns how many. */
static unsigned int __twheel_ring_move(struct twheel_ctx *ctx,
				       unsigned int max)
{
	struct twheel_ring *ring = ctx->ring;
	u32 room = min(__twheel_ring_room(ring), max);
	unsigned int moved = 0, n, i, idx;

	lockdep_assert_held(&ctx->wqh.lock);

	while (room && ctx->nr_queued) {
		struct twheel_event *ev;

		idx = ring->ev_tail & ring->ev_mask;
		ev = &ring->events[idx];
		n = __twheel_ctx_peek(ctx, ev,
				      min(room, ring->ev_mask + 1 - idx));
		if (!n)
			break;
		for (i = 0; ring->offset && i < n; i++) {
			ev[i].deadline_ns = twheel_ring_to_user(ring,
								ev[i].deadline_ns);
			ev[i].fired_ns = twheel_ring_to_user(ring,
							     ev[i].fired_ns);
		}
		__twheel_ctx_take(ctx, n);
		ring->ev_tail += n;
		room -= n;
		moved += n;
	}
	__twheel_ring_publish_events(ctx);
	if (moved) {
		ctx->stats.ring_events += moved;
		twheel_counter_add(TWHEEL_CTR_RING_EVENTS, moved);
	}
	return moved;
}

/*
 * Whom to wake after @moved events reached the ring: readers of the kernel
 * queue while it holds events (EPOLLIN), readers of the ring if they said
 * they sleep (EPOLLRDBAND).
 */
static __poll_t __twheel_ring_wake_key(struct twheel_ctx *ctx,
				       unsigned int moved)
{
	__poll_t key = 0;

	if (ctx->nr_queued)
		key |= EPOLLIN | EPOLLRDNORM;
	if (moved) {
		/* Pairs with the reader's barrier between its flag and look. */
		smp_mb();
		if (READ_ONCE(ctx->ring->hdr->ev_user.flags) &
		    TWHEEL_EV_NEED_WAKEUP)
			key |= EPOLLRDBAND;
	}
	return key;
}

/**
 * __twheel_ring_post() - move a file's queued events into its event ring
 * @ctx: the file, with rings
 *
 * Moves at most %TWHEEL_RING_POST_CHUNK events: the end of the turn or
 * ENTER moves the rest, with lock breaks.
 *
 * Context: @ctx->wqh.lock held.
 * Return: the poll key to wake readers with, 0 for none.
 */
__poll_t __twheel_ring_post(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	return __twheel_ring_wake_key(ctx,
				      __twheel_ring_move(ctx,
							 TWHEEL_RING_POST_CHUNK));
}

/**
 * __twheel_ring_wake() - wake a file's readers, now or at the end of the turn
 * @ctx: the file, with rings
 * @key: whom to wake, 0 for none
 *
 * During a turn of the expiry thread the readers are woken once, at its
 * end, after the thread let go of the file's mutex (twheel_ring_end()): a
 * reader on the thread's CPU would otherwise preempt the thread in the
 * middle of its turn, with the mutex held, and each wake-up of the reader
 * cost it more (under TCG, one event per wake-up: 93 to 105 us of the
 * reader's CPU against 40 to 45 us woken at the end).
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_ring_wake(struct twheel_ctx *ctx, __poll_t key)
{
	lockdep_assert_held(&ctx->wqh.lock);

	if (!key)
		return;
	if (ctx->ring->in_turn) {
		ctx->ring->wake_key |= key;
		return;
	}
	ctx->stats.wakeups++;
	wake_up_locked_poll(&ctx->wqh, key);
}

/**
 * __twheel_ring_sync_queued() - tell user space how many events wait in
 *	the kernel
 * @ctx: the file, with rings
 *
 * Context: @ctx->wqh.lock held.
 */
void __twheel_ring_sync_queued(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	WRITE_ONCE(ctx->ring->hdr->ev.queued,
		   (u32)min_t(u64, ctx->nr_queued, U32_MAX));
}

/**
 * __twheel_ring_readable() - does a file's event ring hold unread records?
 * @ctx: the file, with rings
 *
 * Context: @ctx->wqh.lock held.
 * Return: as far as user space's head says.
 */
bool __twheel_ring_readable(struct twheel_ctx *ctx)
{
	struct twheel_ring *ring = ctx->ring;

	lockdep_assert_held(&ctx->wqh.lock);

	return __twheel_ring_room(ring) != ring->ev_mask + 1;
}

/* Writes the promise of when the thread takes the ring next. */
static void __twheel_ring_promise(struct twheel_ring *ring, u64 tick)
{
	ring->look_tick = tick;
	WRITE_ONCE(ring->hdr->sq.look_ns,
		   tick == U64_MAX ? U64_MAX :
		   twheel_ring_to_user(ring, twheel_tick_to_ns(tick)));
}

/* The worker takes the ring; it holds a reference to the file. */
static void __twheel_ring_punt(struct twheel_ctx *ctx)
{
	lockdep_assert_held(&ctx->wqh.lock);

	twheel_counter_inc(TWHEEL_CTR_RING_PUNTED);
	refcount_inc(&ctx->refs);
	if (!queue_work(twheel_ring_wq, &ctx->ring->work))
		refcount_dec(&ctx->refs);
}

/*
 * Moves queued events in and writes the new promise of when the thread
 * looks at the ring next; then, since user space may have published
 * entries against the old promise meanwhile, looks at the ring again, as
 * @mode may. With @drain false (a synchronous ENTER that stopped at a bad
 * entry, or the set-up), entries may be left behind, and the promise is
 * not moved later than it was.
 */
static void twheel_ring_settle(struct twheel_ctx *ctx,
			       enum twheel_ring_mode mode, bool drain)
{
	struct twheel_ring *ring = ctx->ring;
	struct twheel_ring_res res = {};
	unsigned int tries = 0, moved;
	__poll_t key;
	u64 tick;

	lockdep_assert_held(&ctx->mutex);

	for (;;) {
		spin_lock(&ctx->wqh.lock);
		key = 0;
		do {
			moved = __twheel_ring_move(ctx, TWHEEL_RING_POST_CHUNK);
			key |= __twheel_ring_wake_key(ctx, moved);
			if (moved == TWHEEL_RING_POST_CHUNK)
				cond_resched_lock(&ctx->wqh.lock);
		} while (moved == TWHEEL_RING_POST_CHUNK && !ctx->closed);
		if (ctx->closed) {
			spin_unlock(&ctx->wqh.lock);
			return;
		}
		__twheel_ring_wake(ctx, key);
		tick = __twheel_ctx_work_tick(ctx);
		/*
		 * While user space publishes, the thread looks every tick, so
		 * that it, not a doorbell, applies what comes: only the first
		 * arming after a quiet spell, or one due within a tick, needs
		 * the system call.
		 */
		if (ring->busy)
			tick = min(tick, twheel_ns_to_tick(ktime_get_ns()) + 1);
		if (ring->punted && mode == TWHEEL_RING_THREAD)
			__twheel_ring_punt(ctx);
		if (ring->stalled || ring->punted) {
			/* Nothing is taken before ENTER, or the worker. */
			tick = U64_MAX;
		} else if (!drain) {
			if (READ_ONCE(ring->hdr->sq_user.tail) != ring->sq_head)
				tick = min(tick, ring->look_tick);
		} else if (tries == TWHEEL_RING_SETTLE_TRIES) {
			/* User space keeps publishing: another turn now. */
			tick = 0;
			__twheel_cpu_now(ctx);
		}
		__twheel_ring_promise(ring, tick);
		ring->busy = false;
		__twheel_cpu_schedule(ctx);
		spin_unlock(&ctx->wqh.lock);

		if (!drain || ring->stalled || ring->punted ||
		    tries++ == TWHEEL_RING_SETTLE_TRIES)
			break;
		/* Pairs with user space's barrier between its tail and look. */
		smp_mb();
		if (READ_ONCE(ring->hdr->sq_user.tail) == ring->sq_head)
			break;
		twheel_ring_drain(ctx, mode, &res);
	}
	/* Connections the events moved into the ring left empty. */
	twheel_conn_reap(ctx);
}

/*
 * A drain that needs to allocate, in process context, where allocating may
 * sleep and be throttled by the file's memory cgroup without holding up the
 * expiry thread and every other file of its CPU. Then the file's turn.
 */
static void twheel_ring_work(struct work_struct *work)
{
	struct twheel_ring *ring = container_of(work, struct twheel_ring,
						work);
	struct twheel_ctx *ctx = ring->ctx;
	struct twheel_ring_res res = {};

	mutex_lock(&ctx->mutex);
	ring->punted = false;
	twheel_ring_drain(ctx, TWHEEL_RING_ENTER, &res);
	twheel_ring_settle(ctx, TWHEEL_RING_ENTER, true);
	spin_lock(&ctx->wqh.lock);
	__twheel_cpu_now(ctx);
	spin_unlock(&ctx->wqh.lock);
	twheel_ring_unlock(ctx);
	/* May free the ring, and this work with it. */
	twheel_ctx_put(ctx);
}

/**
 * twheel_ring_init() - create the workqueue of the rings' drains
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int twheel_ring_init(void)
{
	twheel_ring_wq = alloc_workqueue("twheel_ring", WQ_UNBOUND, 0);
	return twheel_ring_wq ? 0 : -ENOMEM;
}

/**
 * twheel_ring_exit() - wait for the drains queued and destroy their
 *	workqueue
 *
 * Context: module exit, every file released.
 */
void twheel_ring_exit(void)
{
	destroy_workqueue(twheel_ring_wq);
}

/**
 * twheel_ring_begin() - the expiry thread's start of a turn of a file
 * @ctx: the file, pinned by the thread's reference
 * @now: set to the time of the turn: the turn fires nothing due after it
 * @locked: set to true if the file has rings and the turn holds
 *	@ctx->mutex: then twheel_ring_end() must follow
 *
 * Takes the submission ring, so that what user space published before this
 * turn is applied before anything fires in it. That is why the turn's time
 * is read before the ring: an entry published after it may come too late
 * for this turn, but then so does every timer due after it. If the ring
 * cannot be taken whole, the turn fires nothing: past the thread's budget
 * it goes on in another turn after the other files', an arm that needs
 * memory goes to the worker, and a stalled ring waits for ENTER.
 *
 * Needs @ctx->mutex: if an ioctl holds it, the turn is left to that ioctl,
 * which gives the file back to the thread when it lets go
 * (twheel_ring_unlock()). A file that gets its rings during the turn has
 * had nothing published in them before it began; it is served as a file
 * without rings until the next turn.
 *
 * Context: the expiry thread of the file's CPU.
 * Return: true if the turn may go on, false if it may not fire now.
 */
bool twheel_ring_begin(struct twheel_ctx *ctx, u64 *now, bool *locked)
{
	struct twheel_ring_res res = {};
	struct twheel_ring *ring;
	u64 start;
	bool done;

	*locked = false;
	*now = ktime_get_ns();
	/* Pairs with the release in twheel_ring_setup(): a whole ring. */
	ring = smp_load_acquire(&ctx->ring);
	if (!ring)
		return true;
	WRITE_ONCE(ring->deferred, 1);
	/* Pairs with the barrier in twheel_ring_unlock(). */
	smp_mb();
	if (!mutex_trylock(&ctx->mutex)) {
		twheel_counter_inc(TWHEEL_CTR_RING_DEFERRED);
		return false;
	}
	WRITE_ONCE(ring->deferred, 0);
	start = ktime_get_ns();
	done = twheel_ring_drain(ctx, TWHEEL_RING_THREAD, &res);
	spin_lock(&ctx->wqh.lock);
	ctx->stats.ring_drain_ns += ktime_get_ns() - start;
	ring->in_turn = done;
	if (!done) {
		if (ring->punted)
			__twheel_ring_punt(ctx);
		else if (!ring->stalled)
			__twheel_cpu_again(ctx);
		if (ring->punted || ring->stalled)
			__twheel_ring_promise(ring, U64_MAX);
	}
	spin_unlock(&ctx->wqh.lock);
	if (done) {
		*locked = true;
		return true;
	}
	twheel_ring_unlock(ctx);
	return false;
}

/**
 * twheel_ring_end() - the expiry thread's end of a turn of a file
 * @ctx: the file, for which twheel_ring_begin() took the mutex
 *
 * Moves what the event ring has room for, promises the next look, lets go
 * of the mutex, and only then wakes the readers the turn found asleep.
 *
 * Context: the expiry thread of the file's CPU, @ctx->mutex held.
 */
void twheel_ring_end(struct twheel_ctx *ctx)
{
	u64 start;

	lockdep_assert_held(&ctx->mutex);

	start = ktime_get_ns();
	twheel_ring_settle(ctx, TWHEEL_RING_THREAD, true);
	spin_lock(&ctx->wqh.lock);
	ctx->stats.ring_drain_ns += ktime_get_ns() - start;
	spin_unlock(&ctx->wqh.lock);
	twheel_ring_unlock(ctx);
}

/**
 * twheel_ring_unlock() - let go of a file's mutex
 * @ctx: the file
 *
 * If the expiry thread found the mutex held meanwhile and left the file's
 * turn, gives the file back to the thread for a turn at once. At the end of
 * a turn of the thread, wakes the readers the turn found asleep, after the
 * mutex is free, in the same hold of @ctx->wqh.lock that tells user space
 * how many events wait in the kernel.
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_ring_unlock(struct twheel_ctx *ctx)
{
	struct twheel_ring *ring = ctx->ring;
	__poll_t key;

	mutex_unlock(&ctx->mutex);
	if (!ring)
		return;
	/* Pairs with the barrier in twheel_ring_begin(). */
	smp_mb();
	if (READ_ONCE(ring->deferred) && xchg(&ring->deferred, 0)) {
		spin_lock(&ctx->wqh.lock);
		__twheel_cpu_now(ctx);
		spin_unlock(&ctx->wqh.lock);
	}
	spin_lock(&ctx->wqh.lock);
	/* read() and cancels change it without a look at the ring. */
	__twheel_ring_sync_queued(ctx);
	/* The readers a turn of the thread found asleep, now it let go. */
	ring->in_turn = false;
	key = ring->wake_key;
	ring->wake_key = 0;
	__twheel_ring_wake(ctx, key);
	spin_unlock(&ctx->wqh.lock);
}

/**
 * twheel_ring_enter() - the doorbell: take the submission ring now
 * @ctx: the file
 * @flags: TWHEEL_ENTER_* bits
 * @res: what the drain did
 * @moved: events moved from the kernel queue into the event ring
 *
 * Context: process context; takes @ctx->mutex.
 * Return: 0, -ENXIO if the file has no rings, -EINVAL for unknown flags,
 * or -EINTR.
 */
int twheel_ring_enter(struct twheel_ctx *ctx, u32 flags,
		      struct twheel_ring_res *res, u32 *moved)
{
	struct twheel_ring *ring;
	u64 read;

	if (flags & ~TWHEEL_ENTER_SYNC)
		return -EINVAL;
	if (mutex_lock_interruptible(&ctx->mutex))
		return -EINTR;
	ring = ctx->ring;
	if (!ring) {
		mutex_unlock(&ctx->mutex);
		return -ENXIO;
	}
	ring->stalled = false;
	ring->punted = false;
	twheel_ring_drain(ctx, flags & TWHEEL_ENTER_SYNC ? TWHEEL_RING_SYNC :
			  TWHEEL_RING_ENTER, res);
	spin_lock(&ctx->wqh.lock);
	read = ctx->stats.ring_events;
	ctx->stats.ring_enters++;
	spin_unlock(&ctx->wqh.lock);
	/* A synchronous call leaves what follows a bad entry in the ring. */
	twheel_ring_settle(ctx, TWHEEL_RING_ENTER, !res->error);
	spin_lock(&ctx->wqh.lock);
	*moved = ctx->stats.ring_events - read;
	spin_unlock(&ctx->wqh.lock);
	twheel_counter_inc(TWHEEL_CTR_RING_ENTERS);
	twheel_ring_unlock(ctx);
	return 0;
}

/**
 * twheel_ring_mmap() - map a file's rings
 * @ctx: the file
 * @vma: a shared mapping at offset 0, at most the rings' size
 *
 * Context: process context, the mm's mmap lock held.
 * Return: 0, -ENXIO if the file has no rings, -EINVAL for a private
 * mapping, another offset or a larger size, or what vm_insert_pages()
 * returns.
 */
int twheel_ring_mmap(struct twheel_ctx *ctx, struct vm_area_struct *vma)
{
	/* Pairs with the release in twheel_ring_setup(): a whole ring. */
	struct twheel_ring *ring = smp_load_acquire(&ctx->ring);
	unsigned long nr = vma_pages(vma);

	if (!ring)
		return -ENXIO;
	if (vma->vm_pgoff || nr > ring->nr_pages ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTEXPAND;
	return vm_insert_pages(vma, vma->vm_start, ring->pages, &nr);
}
