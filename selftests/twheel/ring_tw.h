/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shared rings of a twheel file, driven the way the uapi describes them
 * (Documentation/uapi.rst): for the tests that use them.
 */
#ifndef _TWHEEL_RING_TW_H
#define _TWHEEL_RING_TW_H

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/twheel.h>

struct tw_ring {
	void *map;
	size_t size;
	uint32_t *sq_head, *sq_tail, *sq_flags, sq_mask;
	uint64_t *look_ns;
	struct twheel_sqe *sqes;
	uint32_t *ev_head, *ev_tail, *ev_flags, *ev_queued, ev_mask;
	struct twheel_event *events;
	struct twheel_ring_setup setup;
	uint32_t sq_local_tail;
};

/* Sets up and maps the rings of @fd; -1 with errno on failure. */
static inline int tw_ring_init(int fd, unsigned int sq, unsigned int ev,
			       struct tw_ring *r)
{
	struct twheel_ring_setup *s = &r->setup;
	char *m;

	memset(r, 0, sizeof(*r));
	s->size = sizeof(*s);
	s->sq_entries = sq;
	s->ev_entries = ev;
	if (ioctl(fd, TWHEEL_IOC_RING_SETUP, s))
		return -1;
	m = mmap(NULL, s->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	r->map = m;
	r->size = s->mmap_size;
	r->sq_head = (uint32_t *)(m + s->sq_off.head);
	r->sq_tail = (uint32_t *)(m + s->sq_off.tail);
	r->sq_flags = (uint32_t *)(m + s->sq_off.flags);
	r->sq_mask = *(uint32_t *)(m + s->sq_off.ring_mask);
	r->look_ns = (uint64_t *)(m + s->sq_off.look_ns);
	r->sqes = (struct twheel_sqe *)(m + s->sq_off.entries);
	r->ev_head = (uint32_t *)(m + s->ev_off.head);
	r->ev_tail = (uint32_t *)(m + s->ev_off.tail);
	r->ev_flags = (uint32_t *)(m + s->ev_off.flags);
	r->ev_queued = (uint32_t *)(m + s->ev_off.queued);
	r->ev_mask = *(uint32_t *)(m + s->ev_off.ring_mask);
	r->events = (struct twheel_event *)(m + s->ev_off.events);
	r->sq_local_tail = *r->sq_tail;
	return 0;
}

static inline void tw_ring_exit(struct tw_ring *r)
{
	if (r->map)
		munmap(r->map, r->size);
	r->map = NULL;
}

/* Room for one more entry? */
static inline int tw_ring_sq_full(const struct tw_ring *r)
{
	return r->sq_local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >
	       r->sq_mask;
}

/* Writes one entry and publishes it; 0, or -1 if the ring is full. */
static inline int tw_ring_push(struct tw_ring *r, const struct twheel_sqe *e)
{
	if (tw_ring_sq_full(r))
		return -1;
	r->sqes[r->sq_local_tail & r->sq_mask] = *e;
	r->sq_local_tail++;
	__atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Does an arming at @deadline (absolute) published now need the doorbell?
 * The full barrier orders the tail just published before the promise read.
 */
static inline int tw_ring_needs_enter(struct tw_ring *r, uint64_t deadline)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return deadline < __atomic_load_n(r->look_ns, __ATOMIC_RELAXED);
}

static inline struct twheel_sqe tw_sqe_arm(uint64_t conn, uint8_t kind,
					   uint64_t deadline, uint64_t ud)
{
	struct twheel_sqe e = {
		.conn_id = conn, .timeout_ns = deadline, .user_data = ud,
		.op = TWHEEL_OP_ARM, .kind = kind, .flags = TWHEEL_ARM_ABS,
	};
	return e;
}

static inline struct twheel_sqe tw_sqe_cancel(uint64_t conn, uint8_t kind,
					      uint64_t ud)
{
	struct twheel_sqe e = {
		.conn_id = conn, .user_data = ud, .op = TWHEEL_OP_CANCEL,
		.kind = kind,
	};
	return e;
}

static inline int tw_ring_enter(int fd, uint32_t flags,
				struct twheel_ring_enter *en)
{
	memset(en, 0, sizeof(*en));
	en->size = sizeof(*en);
	en->flags = flags;
	return ioctl(fd, TWHEEL_IOC_RING_ENTER, en);
}

/* Takes up to @max records out of the event ring. */
static inline unsigned int tw_ring_reap(struct tw_ring *r,
					struct twheel_event *ev,
					unsigned int max)
{
	uint32_t head = *r->ev_head;
	uint32_t tail = __atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (head != tail && n < max)
		ev[n++] = r->events[head++ & r->ev_mask];
	__atomic_store_n(r->ev_head, head, __ATOMIC_RELEASE);
	return n;
}

/*
 * Waits up to @ms for records in the event ring (POLLRDBAND), or events
 * left in the kernel queue (POLLIN): says it sleeps, looks once more, then
 * polls.
 */
static inline int tw_ring_wait(int fd, struct tw_ring *r, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDBAND };
	int ret = 1;

	__atomic_store_n(r->ev_flags, TWHEEL_EV_NEED_WAKEUP, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE) == *r->ev_head &&
	    !__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED))
		ret = poll(&p, 1, ms);
	__atomic_store_n(r->ev_flags, 0, __ATOMIC_RELAXED);
	return ret;
}

#endif /* _TWHEEL_RING_TW_H */
