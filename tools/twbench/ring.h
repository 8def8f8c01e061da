/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twbench: the shared rings of a twheel file (Documentation/uapi.rst,
 * "Shared rings"), driven over the raw uapi: publish entries, ring the
 * doorbell only when the protocol says, take records out of the event
 * ring, sleep on it. Every system call these helpers make is counted.
 */
#ifndef TWBENCH_RING_H
#define TWBENCH_RING_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/twheel.h>

struct bring {
	void *map;
	size_t size;
	uint32_t *sq_head, *sq_tail, sq_mask;
	uint64_t *look_ns;
	struct twheel_sqe *sqes;
	uint32_t *ev_head, *ev_tail, *ev_flags, *ev_queued, ev_mask;
	struct twheel_event *events;
	uint32_t tail;			/* our submission tail */
	/* What the doorbell did, summed over the calls. */
	unsigned long enters;		/* TWHEEL_IOC_RING_ENTER calls */
	unsigned long enter_taken;	/* entries they took (applied or refused) */
	unsigned long enter_errors;	/* error records they wrote */
	unsigned long enter_failed;	/* calls that failed */
	uint64_t enter_ns;		/* the time they took, by CLOCK_MONOTONIC */
	unsigned long polls;		/* poll() calls waiting for records */
};

/* Sets up and maps the rings of @fd; 0 or -errno. */
static inline int bring_init(int fd, unsigned int sq, unsigned int ev,
			     struct bring *r)
{
	struct twheel_ring_setup s = {
		.size = sizeof(s), .sq_entries = sq, .ev_entries = ev,
	};
	char *m;

	memset(r, 0, sizeof(*r));
	if (ioctl(fd, TWHEEL_IOC_RING_SETUP, &s))
		return -errno;
	m = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	r->map = m;
	r->size = s.mmap_size;
	r->sq_head = (uint32_t *)(m + s.sq_off.head);
	r->sq_tail = (uint32_t *)(m + s.sq_off.tail);
	r->sq_mask = *(uint32_t *)(m + s.sq_off.ring_mask);
	r->look_ns = (uint64_t *)(m + s.sq_off.look_ns);
	r->sqes = (struct twheel_sqe *)(m + s.sq_off.entries);
	r->ev_head = (uint32_t *)(m + s.ev_off.head);
	r->ev_tail = (uint32_t *)(m + s.ev_off.tail);
	r->ev_flags = (uint32_t *)(m + s.ev_off.flags);
	r->ev_queued = (uint32_t *)(m + s.ev_off.queued);
	r->ev_mask = *(uint32_t *)(m + s.ev_off.ring_mask);
	r->events = (struct twheel_event *)(m + s.ev_off.events);
	r->tail = *r->sq_tail;
	return 0;
}

static inline void bring_exit(struct bring *r)
{
	if (r->map)
		munmap(r->map, r->size);
	r->map = NULL;
}

/* The doorbell: takes every published entry now; 0 or -errno. */
static inline int bring_enter(int fd, struct bring *r)
{
	struct twheel_ring_enter en = { .size = sizeof(en) };
	struct timespec t0, t1;
	int ret;

	r->enters++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ioctl(fd, TWHEEL_IOC_RING_ENTER, &en);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->enter_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
				  (t1.tv_nsec - t0.tv_nsec));
	if (ret) {
		r->enter_failed++;
		return -errno;
	}
	r->enter_taken += en.applied + en.errors;
	r->enter_errors += en.errors;
	return 0;
}

/* Entries published and not yet taken by the kernel. */
static inline uint32_t bring_pending(const struct bring *r)
{
	return r->tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
}

/*
 * Writes one entry and publishes it (a release of the tail). A full ring
 * is the one case where publishing needs the doorbell first.
 */
static inline int bring_push(int fd, struct bring *r, const struct twheel_sqe *e)
{
	int ret;

	if (bring_pending(r) > r->sq_mask) {
		ret = bring_enter(fd, r);
		if (ret)
			return ret;
	}
	r->sqes[r->tail & r->sq_mask] = *e;
	r->tail++;
	__atomic_store_n(r->sq_tail, r->tail, __ATOMIC_RELEASE);
	return 0;
}

/*
 * After publishing an arming due at @deadline (absolute): the full barrier
 * orders the published tail before the read of the promise; a deadline
 * before look_ns (U64_MAX: the thread may not look) needs the doorbell.
 */
static inline int bring_check(int fd, struct bring *r, uint64_t deadline)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (deadline < __atomic_load_n(r->look_ns, __ATOMIC_RELAXED))
		return bring_enter(fd, r);
	return 0;
}

/* Records waiting in the event ring. */
static inline uint32_t bring_ready(const struct bring *r)
{
	return __atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE) - *r->ev_head;
}

/* Copies up to @max records out of the event ring and gives their slots back. */
static inline unsigned int bring_reap(struct bring *r, struct twheel_event *ev,
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
 * Waits up to @ms for records: says it sleeps, looks once more (records in
 * the ring, or events left in the kernel queue), then polls. 1 if there
 * may be something, 0 on a timeout, -1 on an error.
 */
static inline int bring_wait(int fd, struct bring *r, int ms)
{
	/* Records in the ring are POLLRDBAND; POLLIN is the kernel queue. */
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDBAND };
	int ret = 1;

	__atomic_store_n(r->ev_flags, TWHEEL_EV_NEED_WAKEUP, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!bring_ready(r) && !__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED)) {
		r->polls++;
		ret = poll(&p, 1, ms);
	}
	__atomic_store_n(r->ev_flags, 0, __ATOMIC_RELAXED);
	return ret;
}

static inline struct twheel_sqe bring_sqe_arm(uint64_t conn, unsigned int kind,
					      uint64_t deadline, uint64_t ud)
{
	struct twheel_sqe e = {
		.conn_id = conn, .timeout_ns = deadline, .user_data = ud,
		.op = TWHEEL_OP_ARM, .kind = kind, .flags = TWHEEL_ARM_ABS,
	};
	return e;
}

static inline struct twheel_sqe bring_sqe_cancel(uint64_t conn, unsigned int kind,
						 uint64_t ud)
{
	struct twheel_sqe e = {
		.conn_id = conn, .user_data = ud, .op = TWHEEL_OP_CANCEL,
		.kind = kind,
	};
	return e;
}

static inline struct twheel_sqe bring_sqe_cancel_conn(uint64_t conn, uint64_t ud)
{
	struct twheel_sqe e = {
		.conn_id = conn, .user_data = ud, .op = TWHEEL_OP_CANCEL_CONN,
	};
	return e;
}

#endif /* TWBENCH_RING_H */
