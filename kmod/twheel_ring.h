/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: rings shared with user space, to arm, cancel and reap without a
 * system call. The theory of operation is the DOC block at the top of
 * twheel_ring.c.
 */
#ifndef _TWHEEL_RING_H
#define _TWHEEL_RING_H

#include <linux/poll.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <linux/twheel.h>
#include "twheel.h"

struct mem_cgroup;
struct page;
struct twheel_ctx;
struct twheel_user;
struct vm_area_struct;

/*
 * The largest rings TWHEEL_IOC_RING_SETUP accepts: 4 MiB of submission
 * entries, room for a first arm of a hundred thousand connections at once,
 * and 2 MiB of events.
 */
#define TWHEEL_RING_MAX_SQ	131072
#define TWHEEL_RING_MAX_EV	65536
/* Entries the expiry thread takes in one turn of a file. */
#define TWHEEL_RING_DRAIN_BUDGET	1024
/* Events moved into an event ring in one hold of the file's spinlock. */
#define TWHEEL_RING_POST_CHUNK	256

/*
 * The start of the shared mapping. Each line has one writer: the kernel
 * writes the first and third, user space the second and fourth. The kernel
 * reads nothing here but the two indices and the flags user space writes,
 * and never trusts them (twheel_ring.c).
 */
struct twheel_ring_hdr {
	struct {
		u32 head;
		u32 flags;
		u32 mask;
		u32 entries;
		u64 look_ns;
	} sq __aligned(64);
	struct {
		u32 tail;
	} sq_user __aligned(64);
	struct {
		u32 tail;
		u32 queued;
		u32 mask;
		u32 entries;
	} ev __aligned(64);
	struct {
		u32 head;
		u32 flags;
	} ev_user __aligned(64);
};

/**
 * struct twheel_ring - the rings of one file
 * @hdr: the shared header, in @base
 * @sqes: the shared submission entries, in @base
 * @events: the shared event records, in @base
 * @sq_mask: submission entries - 1
 * @ev_mask: event records - 1
 * @offset: the time namespace offset of the task that set the rings up:
 *	what absolute times in the rings are measured by
 * @memcg: the memory cgroup of that task, charged for what the expiry
 *	thread allocates when it applies entries
 * @base: the kernel's mapping of @pages
 * @pages: the pages of the rings, which user space maps
 * @nr_pages: how many
 * @sq_head: the entries taken; the kernel's own copy; &twheel_ctx.mutex
 * @stalled: an error record found no room, the entry at @sq_head waits;
 *	&twheel_ctx.mutex
 * @punted: the entry at @sq_head needs memory the expiry thread may not
 *	sleep for: @work takes it; &twheel_ctx.mutex
 * @busy: a drain took entries since the last promise: the next one is a
 *	tick away, while user space keeps publishing; &twheel_ctx.mutex
 * @work: takes the ring in process context for the thread
 * @ctx: the file, for @work
 * @scratch: the entries being applied, copied out of the ring;
 *	&twheel_ctx.mutex
 * @ev_tail: the records written; the kernel's own copy;
 *	&twheel_ctx.wqh.lock
 * @look_tick: the tick whose start the header promises as the latest time
 *	the expiry thread takes entries (U64_MAX: no promise); the file's
 *	thread wakes by then; &twheel_ctx.wqh.lock
 * @in_turn: the expiry thread is in a turn of the file, between
 *	twheel_ring_begin() and twheel_ring_end(); &twheel_ctx.wqh.lock
 * @wake_key: the readers to wake at the end of that turn;
 *	&twheel_ctx.wqh.lock
 * @deferred: the expiry thread found &twheel_ctx.mutex held and left the
 *	file to whoever holds it; atomic
 */
struct twheel_ring {
	struct twheel_ring_hdr *hdr;
	struct twheel_sqe *sqes;
	struct twheel_event *events;
	u32 sq_mask;
	u32 ev_mask;
	s64 offset;
	struct mem_cgroup *memcg;
	void *base;
	struct page **pages;
	unsigned int nr_pages;

	u32 sq_head;
	bool stalled;
	bool punted;
	bool busy;
	struct work_struct work;
	struct twheel_ctx *ctx;
	struct twheel_sqe scratch[TWHEEL_BATCH_CHUNK];

	u32 ev_tail;
	u64 look_tick;
	bool in_turn;
	__poll_t wake_key;

	int deferred;
};

/**
 * struct twheel_ring_res - what one drain of a submission ring did
 * @applied: entries applied
 * @found: among them, those that found their timer armed or fired
 * @errors: error records written
 * @error: with a synchronous drain, the errno of the entry that stopped it
 * @user_data: that entry's user_data
 */
struct twheel_ring_res {
	u32 applied;
	u32 found;
	u32 errors;
	int error;
	u64 user_data;
};

int twheel_ring_setup(struct twheel_ctx *ctx, struct twheel_ring_setup *arg,
		      s64 offset);
int twheel_ring_enter(struct twheel_ctx *ctx, u32 flags,
		      struct twheel_ring_res *res, u32 *moved);
int twheel_ring_mmap(struct twheel_ctx *ctx, struct vm_area_struct *vma);
void twheel_ring_uncharge(struct twheel_ctx *ctx);
void twheel_ring_free(struct twheel_ctx *ctx);

bool twheel_ring_begin(struct twheel_ctx *ctx, u64 *now, bool *locked);
void twheel_ring_end(struct twheel_ctx *ctx);
void twheel_ring_unlock(struct twheel_ctx *ctx);

int twheel_ring_init(void);
void twheel_ring_exit(void);

__poll_t __twheel_ring_post(struct twheel_ctx *ctx);
void __twheel_ring_wake(struct twheel_ctx *ctx, __poll_t key);
void __twheel_ring_sync_queued(struct twheel_ctx *ctx);
bool __twheel_ring_readable(struct twheel_ctx *ctx);

#endif /* _TWHEEL_RING_H */
