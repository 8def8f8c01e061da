// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: the rings a file shares with the kernel (TWHEEL_FEAT_RINGS),
 * driven as Documentation/uapi.rst describes them.
 *
 * The library is the one producer of the submission ring: a struct twheel
 * is used by one thread at a time (libtwheel.h), so the ring needs no lock
 * of its own, as the kernel requires of a ring with several users.
 *
 * Publishing: an entry is written at the local tail, and the tail is
 * stored with release semantics once per entry, so the expiry thread can
 * take it at any time after. Whether an arming needs the doorbell is
 * decided after the store and a full barrier, against look_ns: a deadline
 * before it, or look_ns at U64_MAX, needs TWHEEL_IOC_RING_ENTER; callers
 * publish all their entries first and ring once.
 *
 * A relative timeout would count from when the kernel takes the entry,
 * which may be as late as look_ns: the library turns it into an absolute
 * deadline on CLOCK_MONOTONIC, the clock of the task that set the rings up.
 */

#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "private.h"

/* What twheel_open() asks for when the caller leaves the sizes at 0. */
#define TWHEEL_SQ_DEFAULT_ENTRIES	1024
#define TWHEEL_EV_DEFAULT_ENTRIES	4096

static unsigned int twheel_pow2_at_most(unsigned int want, unsigned int max)
{
	unsigned int n = 1;

	if (want > max)
		want = max;
	while (n * 2 <= want)
		n *= 2;
	return n;
}

int twheel_sq_setup(struct twheel *tw, unsigned int sq_entries,
		    unsigned int ev_entries)
{
	struct twheel_ring_setup s;
	struct twheel_shm *r = &tw->shm;
	int saved_errno = errno;
	char *m;
	int ret;

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.sq_entries = sq_entries ? sq_entries :
		twheel_pow2_at_most(TWHEEL_SQ_DEFAULT_ENTRIES,
				    tw->info.max_sq_entries);
	s.ev_entries = ev_entries ? ev_entries :
		twheel_pow2_at_most(TWHEEL_EV_DEFAULT_ENTRIES,
				    tw->info.max_ev_entries);
	ret = twheel_do_ioctl(tw, TWHEEL_IOC_RING_SETUP, &s);
	if (ret)
		return ret;
	/* A kernel whose entries are not this library's is not guessed at. */
	if (s.sqe_size != sizeof(struct twheel_sqe) ||
	    s.event_size != sizeof(struct twheel_event))
		return -EPROTO;
	tw->syscalls++;
	m = mmap(NULL, s.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 tw->fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		errno = saved_errno;
		return ret;
	}
	r->map = m;
	r->map_size = s.mmap_size;
	r->sq_head = (uint32_t *)(m + s.sq_off.head);
	r->sq_tail = (uint32_t *)(m + s.sq_off.tail);
	r->sq_flags = (uint32_t *)(m + s.sq_off.flags);
	r->sq_mask = *(uint32_t *)(m + s.sq_off.ring_mask);
	r->look_ns = (uint64_t *)(m + s.sq_off.look_ns);
	r->sqes = (struct twheel_sqe *)(m + s.sq_off.entries);
	r->ev_head = (uint32_t *)(m + s.ev_off.head);
	r->ev_tail = (uint32_t *)(m + s.ev_off.tail);
	r->ev_flags = (uint32_t *)(m + s.ev_off.flags);
	r->ev_queued = (uint32_t *)(m + s.ev_off.queued);
	r->ev_mask = *(uint32_t *)(m + s.ev_off.ring_mask);
	r->events = (struct twheel_event *)(m + s.ev_off.events);
	r->sq_local_tail = *r->sq_tail;
	/* Until the first reap, a caller's poll() must be woken. */
	twheel_ev_sleeping(tw, 1);
	return 0;
}

void twheel_sq_free(struct twheel *tw)
{
	int saved_errno = errno;

	if (!tw->shm.map)
		return;
	munmap(tw->shm.map, tw->shm.map_size);
	tw->syscalls++;
	memset(&tw->shm, 0, sizeof(tw->shm));
	errno = saved_errno;
}

int twheel_sq_pending(const struct twheel *tw)
{
	const struct twheel_shm *r = &tw->shm;

	return r->map && __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) !=
			 r->sq_local_tail;
}

int twheel_sq_enter(struct twheel *tw, unsigned int flags,
		    struct twheel_ring_enter *en)
{
	memset(en, 0, sizeof(*en));
	en->size = sizeof(*en);
	en->flags = flags;
	return twheel_do_ioctl(tw, TWHEEL_IOC_RING_ENTER, en);
}

int twheel_sq_flush(struct twheel *tw)
{
	struct twheel_ring_enter en;

	if (!twheel_sq_pending(tw))
		return 0;
	return twheel_sq_enter(tw, 0, &en);
}

int twheel_sq_stalled(const struct twheel *tw)
{
	return tw->shm.map &&
	       (__atomic_load_n(tw->shm.sq_flags, __ATOMIC_ACQUIRE) &
		TWHEEL_SQ_STALLED);
}

int twheel_sq_make_sqe(struct twheel *tw, struct twheel_sqe *e,
		       unsigned int op, uint64_t conn_id, unsigned int kind,
		       uint64_t timeout_ns, uint64_t user_data,
		       unsigned int flags, int64_t *now)
{
	memset(e, 0, sizeof(*e));
	/*
	 * The entry's kind and flags are narrower than the ioctls': what
	 * would not fit is refused here, as the device would refuse it.
	 */
	if (kind >= TWHEEL_NR_KINDS)
		return -EINVAL;
	e->op = op;
	e->conn_id = conn_id;
	e->user_data = user_data;
	if (op == TWHEEL_OP_CANCEL_CONN)
		return 0;
	e->kind = kind;
	if (op != TWHEEL_OP_ARM)
		return 0;
	if (flags & ~TWHEEL_ARM_ABS)
		return -EINVAL;
	e->flags = TWHEEL_ARM_ABS;
	if (flags & TWHEEL_ARM_ABS) {
		e->timeout_ns = timeout_ns;
		return 0;
	}
	if (timeout_ns > tw->info.max_timeout_ns)
		return -ERANGE;
	if (!*now)
		*now = twheel_now_ns();
	e->timeout_ns = (uint64_t)*now + timeout_ns;
	return 0;
}

int twheel_sq_full(const struct twheel *tw)
{
	const struct twheel_shm *r = &tw->shm;

	return r->sq_local_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) >
	       r->sq_mask;
}

int twheel_sq_push(struct twheel *tw, const struct twheel_sqe *e)
{
	struct twheel_shm *r = &tw->shm;
	struct twheel_ring_enter en;
	int ret;

	if (twheel_sq_full(tw)) {
		/* Full: the doorbell takes every entry and makes room. */
		ret = twheel_sq_enter(tw, 0, &en);
		if (ret)
			return ret;
		/*
		 * Still full: the ring stalled on an error record that found
		 * the event ring full. Only a reap makes room for it.
		 */
		if (twheel_sq_full(tw))
			return -EAGAIN;
	}
	r->sqes[r->sq_local_tail & r->sq_mask] = *e;
	r->sq_local_tail++;
	__atomic_store_n(r->sq_tail, r->sq_local_tail, __ATOMIC_RELEASE);
	return 0;
}

int twheel_sq_needs_enter(struct twheel *tw, const struct twheel_sqe *e)
{
	const struct twheel_shm *r = &tw->shm;

	/* Orders the tail just stored before the promise is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/*
	 * A stalled ring takes nothing before the doorbell, not even a
	 * cancel due before an arming already in the wheel.
	 */
	if (__atomic_load_n(r->sq_flags, __ATOMIC_RELAXED) & TWHEEL_SQ_STALLED)
		return 1;
	if (e->op != TWHEEL_OP_ARM)
		return 0;
	return e->timeout_ns < __atomic_load_n(r->look_ns, __ATOMIC_RELAXED);
}

int twheel_sq_ring(struct twheel *tw, const struct twheel_sqe *e)
{
	struct twheel_ring_enter en;

	if (!twheel_sq_needs_enter(tw, e))
		return 0;
	return twheel_sq_enter(tw, 0, &en);
}

unsigned int twheel_ev_take(struct twheel *tw, struct twheel_event *events,
			    unsigned int max)
{
	struct twheel_shm *r = &tw->shm;
	uint32_t head = *r->ev_head;
	uint32_t tail = __atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (head != tail && n < max)
		events[n++] = r->events[head++ & r->ev_mask];
	if (n)
		__atomic_store_n(r->ev_head, head, __ATOMIC_RELEASE);
	return n;
}

uint32_t twheel_ev_queued(const struct twheel *tw)
{
	return __atomic_load_n(tw->shm.ev_queued, __ATOMIC_RELAXED);
}

void twheel_ev_sleeping(struct twheel *tw, int sleeping)
{
	uint32_t flags = sleeping ? TWHEEL_EV_NEED_WAKEUP : 0;

	/* Stored only when it changes: the line is shared with the kernel. */
	if (__atomic_load_n(tw->shm.ev_flags, __ATOMIC_RELAXED) != flags)
		__atomic_store_n(tw->shm.ev_flags, flags, __ATOMIC_RELAXED);
	/* The flag is seen before the second look at the ring. */
	if (sleeping)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int twheel_has_rings(const struct twheel *tw)
{
	if (!tw)
		return -EINVAL;
	return tw->shm.map != NULL;
}

int twheel_get_syscalls(const struct twheel *tw, uint64_t *count)
{
	if (!tw || !count)
		return -EINVAL;
	*count = tw->syscalls;
	return 0;
}
