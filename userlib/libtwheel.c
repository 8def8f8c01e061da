// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: the device itself. Opening and the handshake, arming and
 * cancelling one timer or an array of them, the next deadline, the
 * counters, and reaping events without blocking.
 *
 * Every call that can fail returns -errno and puts errno back as it found
 * it; see private.h.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

#define TWHEEL_OPEN_FLAGS	(TWHEEL_OPEN_NONBLOCK | TWHEEL_OPEN_NO_RINGS)

long twheel_do_ioctl(struct twheel *tw, unsigned long cmd, void *arg)
{
	int saved_errno = errno;
	long ret;

	tw->syscalls++;
	ret = ioctl(tw->fd, cmd, arg);
	if (ret < 0)
		ret = -errno;
	errno = saved_errno;
	return ret;
}

static int twheel_handshake(struct twheel *tw)
{
	memset(&tw->info, 0, sizeof(tw->info));
	tw->info.size = sizeof(tw->info);
	return twheel_do_ioctl(tw, TWHEEL_IOC_HANDSHAKE, &tw->info);
}

/*
 * Gives @tw its rings if the module offers them and the caller did not
 * refuse them. With the default sizes, a module that refuses the set-up
 * as such (EINVAL, ENOTTY: a module that does not know it, whatever its
 * feature bits say) or the user's ring pages spent (ENOSPC) leave the
 * handle on the ioctls, which do everything the rings do; sizes the
 * caller chose are its to get right, and their errors are returned.
 */
static int twheel_open_shm(struct twheel *tw, unsigned int flags,
			   unsigned int sq_entries, unsigned int ev_entries)
{
	int ret;

	if ((flags & TWHEEL_OPEN_NO_RINGS) ||
	    !(tw->info.features & TWHEEL_FEAT_RINGS))
		return 0;
	ret = twheel_sq_setup(tw, sq_entries, ev_entries);
	if (ret && !sq_entries && !ev_entries &&
	    (ret == -EINVAL || ret == -ENOTTY || ret == -ENOSPC))
		return 0;
	return ret;
}

int twheel_open_rings(struct twheel **twp, unsigned int flags, int cpu,
		      unsigned int sq_entries, unsigned int ev_entries)
{
	int oflags = O_RDWR | O_CLOEXEC, ret;
	int saved_errno = errno;
	struct twheel *tw;

	if (!twp || (flags & ~TWHEEL_OPEN_FLAGS) || cpu < TWHEEL_CPU_ANY ||
	    ((flags & TWHEEL_OPEN_NO_RINGS) && (sq_entries || ev_entries)))
		return -EINVAL;
	if (flags & TWHEEL_OPEN_NONBLOCK)
		oflags |= O_NONBLOCK;

	tw = calloc(1, sizeof(*tw));
	if (!tw) {
		errno = saved_errno;
		return -ENOMEM;
	}
	tw->syscalls++;
	tw->fd = open("/dev/twheel", oflags);
	if (tw->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = twheel_handshake(tw);
	if (ret)
		goto err_close;
	/* A module older than this library's uapi is refused, not guessed at. */
	if (tw->info.api_version < TWHEEL_API_VERSION) {
		ret = -EPROTO;
		goto err_close;
	}
	if (cpu != TWHEEL_CPU_ANY) {
		ret = twheel_set_cpu(tw, cpu);
		if (ret)
			goto err_close;
	}
	ret = twheel_open_shm(tw, flags, sq_entries, ev_entries);
	if (ret)
		goto err_close;
	errno = saved_errno;
	*twp = tw;
	return 0;

err_close:
	close(tw->fd);
err_free:
	free(tw);
	errno = saved_errno;
	return ret;
}

int twheel_open(struct twheel **twp, unsigned int flags, int cpu)
{
	return twheel_open_rings(twp, flags, cpu, 0, 0);
}

void twheel_close(struct twheel *tw)
{
	int saved_errno = errno;

	if (!tw)
		return;
	twheel_conns_free(tw);
	twheel_sq_free(tw);
	close(tw->fd);
	free(tw);
	errno = saved_errno;
}

int twheel_fd(const struct twheel *tw)
{
	return tw ? tw->fd : -EINVAL;
}

int twheel_get_info(struct twheel *tw, struct twheel_handshake *info)
{
	if (!tw || !info)
		return -EINVAL;
	memcpy(info, &tw->info, sizeof(*info));
	return 0;
}

int twheel_set_cpu(struct twheel *tw, unsigned int cpu)
{
	struct twheel_set_cpu arg = { .size = sizeof(arg), .cpu = cpu };
	int ret;

	if (!tw)
		return -EINVAL;
	if (!(tw->info.features & TWHEEL_FEAT_SET_CPU))
		return -EOPNOTSUPP;
	ret = twheel_do_ioctl(tw, TWHEEL_IOC_SET_CPU, &arg);
	if (ret)
		return ret;
	/*
	 * twheel_get_info() reports the serving CPU: keep it current without
	 * a second ioctl, which could fail after the move was made.
	 */
	tw->info.cpu = cpu;
	return 0;
}

/*
 * Sends @nr entries of @size bytes with batch ioctl @cmd, at most max_batch
 * per ioctl, stopping at the first entry that fails. If @refused is given,
 * it tells whether the error is the device's answer to an entry (the one at
 * res->applied) rather than a failure of the call.
 */
int twheel_send(struct twheel *tw, unsigned long cmd, const void *entries,
		size_t size, unsigned int nr, struct twheel_batch_result *res,
		bool *refused)
{
	struct twheel_batch_result r = { 0 };
	unsigned int max = tw->info.max_batch ? tw->info.max_batch : 1;
	struct twheel_batch b;
	long ret;

	if (refused)
		*refused = false;
	/* Entries published in the ring come first, as they were made first. */
	ret = twheel_sq_flush(tw);
	if (ret < 0) {
		r.error = ret;
		nr = 0;
	}
	while (r.applied < nr) {
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.entries = (uintptr_t)((const char *)entries +
					(size_t)r.applied * size);
		b.count = nr - r.applied < max ? nr - r.applied : max;
		b.entry_size = size;
		ret = twheel_do_ioctl(tw, cmd, &b);
		if (ret < 0) {
			r.error = ret;
			break;
		}
		r.applied += b.applied;
		r.found += b.found;
		if (b.error) {
			r.error = b.error;
			if (refused)
				*refused = true;
			break;
		}
	}
	if (res)
		*res = r;
	return r.error ? r.error : (int)r.applied;
}

int twheel_arm_array(struct twheel *tw, const struct twheel_arm *arms,
		     unsigned int nr, struct twheel_batch_result *res)
{
	if (!tw || (!arms && nr))
		return -EINVAL;
	return twheel_send(tw, TWHEEL_IOC_ARM, arms, sizeof(*arms), nr, res,
			   NULL);
}

int twheel_cancel_array(struct twheel *tw, const struct twheel_cancel *cancels,
			unsigned int nr, struct twheel_batch_result *res)
{
	if (!tw || (!cancels && nr))
		return -EINVAL;
	return twheel_send(tw, TWHEEL_IOC_CANCEL, cancels, sizeof(*cancels),
			   nr, res, NULL);
}

int twheel_cancel_conn_array(struct twheel *tw, const uint64_t *conn_ids,
			     unsigned int nr, struct twheel_batch_result *res)
{
	if (!tw || (!conn_ids && nr))
		return -EINVAL;
	return twheel_send(tw, TWHEEL_IOC_CANCEL_CONN, conn_ids,
			   sizeof(*conn_ids), nr, res, NULL);
}

int twheel_arm(struct twheel *tw, uint64_t conn_id, unsigned int kind,
	       uint64_t timeout_ns, uint64_t user_data, unsigned int flags)
{
	struct twheel_arm arm = {
		.conn_id = conn_id,
		.timeout_ns = timeout_ns,
		.user_data = user_data,
		.kind = kind,
		.flags = flags,
	};
	struct twheel_batch_result res;
	int ret;

	ret = twheel_arm_array(tw, &arm, 1, &res);
	return ret < 0 ? ret : (int)res.found;
}

int twheel_cancel(struct twheel *tw, uint64_t conn_id, unsigned int kind)
{
	struct twheel_cancel cancel = { .conn_id = conn_id, .kind = kind };
	struct twheel_batch_result res;
	int ret;

	ret = twheel_cancel_array(tw, &cancel, 1, &res);
	return ret < 0 ? ret : (int)res.found;
}

int twheel_cancel_conn(struct twheel *tw, uint64_t conn_id)
{
	struct twheel_batch_result res;
	int ret;

	ret = twheel_cancel_conn_array(tw, &conn_id, 1, &res);
	return ret < 0 ? ret : (int)res.found;
}

int twheel_get_next(struct twheel *tw, struct twheel_next *next)
{
	int ret;

	if (!tw || !next)
		return -EINVAL;
	/* The answer counts every entry published before the call. */
	ret = twheel_sq_flush(tw);
	if (ret)
		return ret;
	memset(next, 0, sizeof(*next));
	next->size = sizeof(*next);
	return twheel_do_ioctl(tw, TWHEEL_IOC_NEXT, next);
}

int twheel_get_stats(struct twheel *tw, struct twheel_stats *stats)
{
	if (!tw || !stats)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	stats->size = sizeof(*stats);
	return twheel_do_ioctl(tw, TWHEEL_IOC_STATS, stats);
}

/* The most events one read asks for, so that the byte count fits an int. */
#define TWHEEL_REAP_MAX	(1U << 20)

/* Reads events that wait in the kernel queue, never blocking. */
static int twheel_read_queue(struct twheel *tw, struct twheel_event *events,
			     unsigned int max)
{
	int saved_errno = errno;
	struct iovec iov;
	ssize_t n;
	int ret;

	iov.iov_base = events;
	iov.iov_len = (size_t)max * sizeof(*events);
	/*
	 * RWF_NOWAIT makes this one read non-blocking (the device honours
	 * IOCB_NOWAIT) without changing the file's O_NONBLOCK, which other
	 * readers of a shared file may rely on.
	 */
	tw->syscalls++;
	n = preadv2(tw->fd, &iov, 1, -1, RWF_NOWAIT);
	if (n >= 0)
		ret = n / sizeof(*events);
	else if (errno == EAGAIN)
		ret = 0;
	else
		ret = -errno;
	errno = saved_errno;
	return ret;
}

int twheel_reap(struct twheel *tw, struct twheel_event *events,
		unsigned int max)
{
	unsigned int n;
	int ret;

	if (!tw || !events || !max)
		return -EINVAL;
	if (max > TWHEEL_REAP_MAX)
		max = TWHEEL_REAP_MAX;
	if (!tw->shm.map)
		return twheel_read_queue(tw, events, max);
	/*
	 * The event ring first: what found it full waits in the kernel
	 * queue, and came after. The queue costs a read() only when its
	 * count says it holds something.
	 *
	 * The kernel wakes pollers of the file for records it puts in the
	 * ring only while TWHEEL_EV_NEED_WAKEUP is set. A reap that leaves
	 * the ring empty sets it, then looks once more (records written
	 * before the kernel saw the flag), so that whoever polls twheel_fd()
	 * next, the library or the caller's epoll, is woken by the next
	 * record. A reap that fills @events clears it: the caller comes back
	 * without sleeping, and the kernel saves the wake-ups meanwhile.
	 */
	n = twheel_ev_take(tw, events, max);
	if (n < max) {
		twheel_ev_sleeping(tw, 1);
		n += twheel_ev_take(tw, events + n, max - n);
	} else {
		twheel_ev_sleeping(tw, 0);
	}
	if (n < max && twheel_ev_queued(tw)) {
		ret = twheel_read_queue(tw, events + n, max - n);
		if (ret < 0 && !n)
			return ret;
		if (ret > 0)
			n += ret;
	}
	/*
	 * A submission ring stalled on an error record that found no room
	 * takes nothing more until the doorbell: now there is room.
	 */
	if (n && twheel_sq_stalled(tw))
		twheel_sq_flush(tw);
	return n;
}

int twheel_wait(struct twheel *tw, struct twheel_event *events,
		unsigned int max, int timeout_ms)
{
	int64_t end = 0, left;
	struct pollfd pfd;
	int saved_errno = errno;
	int ret;

	if (!tw || !events || !max || timeout_ms < -1)
		return -EINVAL;
	if (timeout_ms > 0)
		end = twheel_now_ns() + (int64_t)timeout_ms * 1000000;
	for (;;) {
		/* Another reader of a shared file may take what poll saw. */
		ret = twheel_reap(tw, events, max);
		if (ret)
			break;
		left = timeout_ms;
		if (timeout_ms > 0) {
			/* Rounded up: the wait never ends before its time. */
			left = end - twheel_now_ns();
			left = left > 0 ? (left + 999999) / 1000000 : 0;
		}
		/*
		 * With rings, the reap that found nothing left
		 * TWHEEL_EV_NEED_WAKEUP set after its last look: poll
		 * wakes for the next record, and for the kernel queue.
		 */
		pfd.fd = tw->fd;
		/* POLLRDBAND: records in the event ring; POLLIN: the queue. */
		pfd.events = POLLIN | POLLRDBAND;
		tw->syscalls++;
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0) {
			ret = -errno;
			break;
		}
		if (!ret) {
			ret = -ETIME;
			break;
		}
	}
	errno = saved_errno;
	return ret;
}
