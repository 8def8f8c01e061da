// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: io_uring.
 *
 * The device opens its files FMODE_NOWAIT, so an io_uring read of it is
 * first tried without blocking and, when no event is queued, parked on the
 * file's poll queue rather than on a worker thread. A read completes as
 * soon as one event is there, with every event that fits.
 *
 * The simple mode keeps a fixed number of such reads in flight in a ring
 * of its own. Completed reads wait in a FIFO until their events are all
 * handed out, then go back in flight; this keeps the order in which reads
 * completed, and a caller array smaller than a read loses nothing.
 */

#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "private.h"

int twheel_prep_read(struct io_uring_sqe *sqe, struct twheel *tw, void *buf,
		     unsigned int len)
{
	if (!sqe || !tw || !buf || len < sizeof(struct twheel_event))
		return -EINVAL;
	/*
	 * A read takes the kernel queue only: with shared rings, events go
	 * to the event ring, and a read would wait for ever.
	 */
	if (tw->shm.map)
		return -EOPNOTSUPP;
	/* The device is a stream: the offset is not used. */
	io_uring_prep_read(sqe, tw->fd, buf, len, 0);
	return 0;
}

int twheel_cqe_events(const struct io_uring_cqe *cqe, void *buf,
		      struct twheel_event **events)
{
	if (!cqe || !buf || !events)
		return -EINVAL;
	if (cqe->res < 0)
		return cqe->res;
	if (cqe->res % sizeof(struct twheel_event))
		return -EPROTO;
	*events = buf;
	return cqe->res / sizeof(struct twheel_event);
}

#define TWHEEL_RING_READS	4
#define TWHEEL_RING_EVENTS	64
#define TWHEEL_RING_MAX_READS	64
#define TWHEEL_RING_MAX_EVENTS	4096

struct twheel_ring_read {
	struct twheel_event *buf;
	int nr;			/* events it completed with, or -errno */
	unsigned int taken;	/* of them, handed out */
};

struct twheel_ring {
	struct io_uring ring;
	struct twheel *tw;
	unsigned int nr_reads, per_read;
	unsigned int in_flight;
	struct twheel_ring_read *reads;
	struct twheel_event *bufs;
	/* Completed reads, oldest first; a circle of nr_reads indexes. */
	unsigned int *fifo;
	unsigned int head, count;
};

static int twheel_ring_submit_read(struct twheel_ring *r, unsigned int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	/* The ring has an entry for each read: one is always free. */
	if (!sqe)
		return -EBUSY;
	twheel_prep_read(sqe, r->tw, r->reads[i].buf,
			 r->per_read * sizeof(struct twheel_event));
	io_uring_sqe_set_data64(sqe, i);
	r->reads[i].nr = 0;
	r->reads[i].taken = 0;
	r->in_flight++;
	return 0;
}

static void twheel_ring_free(struct twheel_ring *r)
{
	free(r->fifo);
	free(r->bufs);
	free(r->reads);
	free(r);
}

int twheel_ring_init(struct twheel_ring **ringp, struct twheel *tw,
		     unsigned int nr_reads, unsigned int events_per_read)
{
	struct twheel_ring *r;
	int saved_errno = errno;
	unsigned int i;
	int ret;

	if (!ringp || !tw)
		return -EINVAL;
	/* Its reads would never see the event ring (twheel_prep_read()). */
	if (tw->shm.map)
		return -EOPNOTSUPP;
	if (!nr_reads)
		nr_reads = TWHEEL_RING_READS;
	if (!events_per_read)
		events_per_read = TWHEEL_RING_EVENTS;
	if (nr_reads > TWHEEL_RING_MAX_READS ||
	    events_per_read > TWHEEL_RING_MAX_EVENTS)
		return -EINVAL;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto err_nomem;
	r->tw = tw;
	r->nr_reads = nr_reads;
	r->per_read = events_per_read;
	r->reads = calloc(nr_reads, sizeof(*r->reads));
	r->bufs = calloc((size_t)nr_reads * events_per_read,
			 sizeof(*r->bufs));
	r->fifo = calloc(nr_reads, sizeof(*r->fifo));
	if (!r->reads || !r->bufs || !r->fifo)
		goto err_free;
	for (i = 0; i < nr_reads; i++)
		r->reads[i].buf = r->bufs + (size_t)i * events_per_read;

	/* liburing returns -errno and leaves errno alone. */
	ret = io_uring_queue_init(nr_reads, &r->ring, 0);
	if (ret < 0) {
		twheel_ring_free(r);
		errno = saved_errno;
		return ret;
	}
	for (i = 0; i < nr_reads; i++)
		twheel_ring_submit_read(r, i);
	ret = io_uring_submit(&r->ring);
	if (ret < 0) {
		io_uring_queue_exit(&r->ring);
		twheel_ring_free(r);
		errno = saved_errno;
		return ret;
	}
	errno = saved_errno;
	*ringp = r;
	return 0;

err_free:
	twheel_ring_free(r);
err_nomem:
	errno = saved_errno;
	return -ENOMEM;
}

/* Moves every completion that is there into the FIFO. */
static void twheel_ring_collect(struct twheel_ring *r)
{
	struct io_uring_cqe *cqe;
	struct twheel_event *ev;
	unsigned int i;
	int n;

	while (!io_uring_peek_cqe(&r->ring, &cqe)) {
		i = (unsigned int)io_uring_cqe_get_data64(cqe);
		n = twheel_cqe_events(cqe, r->reads[i].buf, &ev);
		io_uring_cqe_seen(&r->ring, cqe);
		r->in_flight--;
		r->reads[i].nr = n;
		r->reads[i].taken = 0;
		r->fifo[(r->head + r->count++) % r->nr_reads] = i;
	}
}

/*
 * Hands out up to @max events of completed reads, oldest first, and puts
 * every drained read back in flight. Returns the number handed out, or the
 * -errno of a failed read met before any event.
 */
static int twheel_ring_take(struct twheel_ring *r, struct twheel_event *events,
			    unsigned int max)
{
	struct twheel_ring_read *rd;
	unsigned int n = 0, take, i;
	int err = 0;

	while (r->count && n < max && !err) {
		i = r->fifo[r->head];
		rd = &r->reads[i];
		if (rd->nr < 0) {
			/* Report a failed read unless events come first. */
			if (n)
				break;
			err = rd->nr;
		} else {
			take = rd->nr - rd->taken;
			if (take > max - n)
				take = max - n;
			memcpy(events + n, rd->buf + rd->taken,
			       take * sizeof(*events));
			rd->taken += take;
			n += take;
			if (rd->taken < (unsigned int)rd->nr)
				break;
		}
		r->head = (r->head + 1) % r->nr_reads;
		r->count--;
		twheel_ring_submit_read(r, i);
	}
	if (r->in_flight)
		io_uring_submit(&r->ring);
	return n ? (int)n : err;
}

int twheel_ring_wait(struct twheel_ring *ring, struct twheel_event *events,
		     unsigned int max, int timeout_ms)
{
	int saved_errno = errno;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int64_t end = 0, left;
	int ret;

	if (!ring || !events || !max || timeout_ms < -1)
		return -EINVAL;
	if (timeout_ms > 0)
		end = twheel_now_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		twheel_ring_collect(ring);
		ret = twheel_ring_take(ring, events, max);
		/* A read may complete empty when another reader was first. */
		if (ret)
			break;
		if (timeout_ms < 0) {
			ret = io_uring_wait_cqe(&ring->ring, &cqe);
		} else {
			left = timeout_ms ? end - twheel_now_ns() : 0;
			if (left < 0)
				left = 0;
			ts.tv_sec = left / 1000000000;
			ts.tv_nsec = left % 1000000000;
			ret = io_uring_wait_cqe_timeout(&ring->ring, &cqe, &ts);
		}
		if (ret < 0)
			break;
	}
	errno = saved_errno;
	return ret;
}

int twheel_ring_fd(const struct twheel_ring *ring)
{
	return ring ? ring->ring.ring_fd : -EINVAL;
}

void twheel_ring_exit(struct twheel_ring *ring)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int saved_errno = errno;

	if (!ring)
		return;
	/*
	 * Cancel the reads in flight and wait for their completions before
	 * freeing the buffers they would write to.
	 */
	twheel_ring_collect(ring);
	if (ring->in_flight) {
		sqe = io_uring_get_sqe(&ring->ring);
		if (sqe) {
			io_uring_prep_cancel_fd(sqe, ring->tw->fd,
						IORING_ASYNC_CANCEL_ALL);
			io_uring_sqe_set_data64(sqe, UINT64_MAX);
			io_uring_submit(&ring->ring);
		}
	}
	while (ring->in_flight &&
	       !io_uring_wait_cqe(&ring->ring, &cqe)) {
		if (io_uring_cqe_get_data64(cqe) != UINT64_MAX)
			ring->in_flight--;
		io_uring_cqe_seen(&ring->ring, cqe);
	}
	io_uring_queue_exit(&ring->ring);
	twheel_ring_free(ring);
	errno = saved_errno;
}
