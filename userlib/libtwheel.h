/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libtwheel: the C library over /dev/twheel.
 *
 * Rules that hold for every function below:
 * - Every public name starts with twheel_ (types, functions) or TWHEEL_
 *   (constants). The uapi types (struct twheel_arm, twheel_event, ...) come
 *   from <linux/twheel.h>, included here.
 * - A function returns 0, or a count, on success and a negative errno on
 *   failure. It never sets errno: errno has the same value after the call as
 *   before it, whatever happened.
 * - A NULL handle, or a NULL pointer where an object is required, is
 *   -EINVAL. A handle that was closed must not be used again.
 * - Times are nanoseconds on CLOCK_MONOTONIC.
 * - A struct twheel is not locked: use one from one thread at a time (open
 *   one per thread; each is an isolated timer context of the device). This
 *   makes the library the one producer of the handle's submission ring, as
 *   the kernel requires; a handle shared by threads needs the caller's lock
 *   around every call on it, its connections and batch buffers included.
 *
 * When the module offers shared rings (TWHEEL_FEAT_RINGS), twheel_open()
 * maps them: the connection layer and twheel_batch_submit() publish arms
 * and cancels in the submission ring, and twheel_reap(), twheel_wait() and
 * twheel_process_events() take events from the event ring, with a system
 * call only when the kernel needs one. Everything else uses the ioctls, as
 * without rings. Documentation/libtwheel.rst says which guarantee holds on
 * which path.
 *
 * There are four layers, each usable without the next:
 * 1. the device: open, arm, cancel, reap, next deadline, stats;
 * 2. batches: many arms and cancels in as few ioctls as possible;
 * 3. connections: a timer set per connection (idle, connect, path
 *    validation, retransmission, and kinds of the daemon's own) with the
 *    events of each connection delivered to it;
 * 4. io_uring: reads of the device in the caller's ring, or in a small
 *    ring the library owns.
 */
#ifndef LIBTWHEEL_H
#define LIBTWHEEL_H

#include <stdint.h>
#include <linux/twheel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* liburing's types, used only through pointers: no need for liburing.h. */
struct io_uring_sqe;
struct io_uring_cqe;

/* --- 1. The device ------------------------------------------------------ */

/* An open /dev/twheel: one isolated timer context. Opaque. */
struct twheel;

/* Flags for twheel_open(). */
#define TWHEEL_OPEN_NONBLOCK	(1U << 0)	/* read() on twheel_fd() never blocks */
#define TWHEEL_OPEN_NO_RINGS	(1U << 1)	/* ioctls only, even with rings */

/* twheel_open()'s cpu argument when any CPU will do (the device's choice). */
#define TWHEEL_CPU_ANY		(-1)

/*
 * Opens /dev/twheel, checks the module's API version with the handshake and,
 * if @cpu is not TWHEEL_CPU_ANY, asks for the wheel of CPU @cpu to serve it
 * (TWHEEL_IOC_SET_CPU). @flags is a mask of TWHEEL_OPEN_*. The descriptor
 * is close-on-exec. On success *@twp is the new handle.
 * Errors: -EINVAL (NULL @twp, unknown flag, @cpu < -1, or the CPU is not
 * online), -ENOENT (no /dev/twheel: module not loaded), -EPROTO (module too
 * old), -EOPNOTSUPP (@cpu given, module without SET_CPU), -ENOMEM,
 * -EMFILE, -ENFILE, -EACCES and whatever open(2) reports.
 */
int twheel_open(struct twheel **twp, unsigned int flags, int cpu);

/*
 * twheel_open() with the sizes of the shared rings: @sq_entries submission
 * entries and @ev_entries event records, powers of two within the
 * handshake's max_sq_entries and max_ev_entries; 0 picks the library's
 * default for that ring. twheel_open() uses the defaults, and falls back
 * to the ioctls when the module has no rings or refuses them (EINVAL,
 * ENOTTY, ENOSPC); with a size given, the set-up's error is returned
 * instead. Errors of twheel_open(), and -EINVAL (a size with
 * TWHEEL_OPEN_NO_RINGS, or one the module refuses), -ENOSPC (the user's
 * max_user_ring_pages), -ENOMEM, -EPROTO (entries of another size).
 */
int twheel_open_rings(struct twheel **twp, unsigned int flags, int cpu,
		      unsigned int sq_entries, unsigned int ev_entries);

/* 1 if @tw uses the shared rings, 0 if only ioctls, -EINVAL. */
int twheel_has_rings(const struct twheel *tw);

/*
 * *@count is the number of system calls the library made on @tw since it
 * was opened: open, ioctls, mmap, reads, polls. Returns 0 or -EINVAL.
 */
int twheel_get_syscalls(const struct twheel *tw, uint64_t *count);

/*
 * Closes the device: every timer and unread event of it is gone. Frees the
 * connections (layer 3) still open on it; batch buffers and rings made on
 * it must be freed first. A NULL @tw is ignored.
 */
void twheel_close(struct twheel *tw);

/*
 * The file descriptor, to watch with poll()/epoll (readable when an event
 * is waiting) or to read with read(2). Do not close it. Returns the fd or
 * -EINVAL.
 */
int twheel_fd(const struct twheel *tw);

/*
 * Copies the device's handshake (tick, limits, features, serving CPU) as
 * taken at open or at the last twheel_set_cpu(). Returns 0 or -EINVAL.
 */
int twheel_get_info(struct twheel *tw, struct twheel_handshake *info);

/*
 * Moves this context to the wheel of CPU @cpu (TWHEEL_IOC_SET_CPU); armed
 * timers move with it. Returns 0, -EINVAL (CPU offline or out of range),
 * -EOPNOTSUPP (module without SET_CPU), -EBADF.
 */
int twheel_set_cpu(struct twheel *tw, unsigned int cpu);

/*
 * Arms timer @kind of connection @conn_id to fire @timeout_ns from now, or
 * at the absolute deadline @timeout_ns with TWHEEL_ARM_ABS in @flags. A
 * timer of that kind that is armed, or has fired and not been read, is
 * replaced: its earlier arming will never be read. @user_data comes back in
 * the event. Returns 0 if the kind was idle, 1 if an arming was replaced,
 * or -EINVAL (kind >= TWHEEL_NR_KINDS, unknown flag), -ERANGE (timeout
 * further than the handshake's max_timeout_ns), -ENOSPC (the file's quota
 * or the system-wide cap of timers is reached), -ENOMEM, -EBADF, -EINTR.
 */
int twheel_arm(struct twheel *tw, uint64_t conn_id, unsigned int kind,
	       uint64_t timeout_ns, uint64_t user_data, unsigned int flags);

/*
 * Cancels timer @kind of @conn_id, armed or fired and unread. Once it
 * returns, no event of it will be read. Returns 1 if there was one, 0 if
 * there was none (not an error), -EINVAL (bad kind), -EBADF, -EINTR.
 */
int twheel_cancel(struct twheel *tw, uint64_t conn_id, unsigned int kind);

/*
 * Cancels every timer and unread event of @conn_id. Returns 1 if the
 * connection had any, 0 if not, -EBADF, -EINTR.
 */
int twheel_cancel_conn(struct twheel *tw, uint64_t conn_id);

/*
 * The outcome of a batch, reported the way the device reports it: entries
 * are applied in order; @applied is how many were, from the first; if one
 * failed, it is entry number @applied (from 0), @error is its -errno, and
 * the entries after it were not looked at.
 */
struct twheel_batch_result {
	unsigned int applied;	/* entries applied, from the first on */
	int error;		/* 0, or the -errno of entry @applied */
	unsigned int found;	/* applied entries that found their timer */
};

/*
 * Arrays of entries, applied in order with as few ioctls as the device's
 * max_batch allows. @res may be NULL. Return the number of entries applied
 * (@nr) when all were, otherwise the -errno of the first that was not
 * (then @res says which). A device error that is not about one entry
 * (-EBADF, -EFAULT on the array itself, -EINTR) is returned the same way,
 * with @res->applied the entries applied before it. @nr == 0 returns 0.
 */
int twheel_arm_array(struct twheel *tw, const struct twheel_arm *arms,
		     unsigned int nr, struct twheel_batch_result *res);
int twheel_cancel_array(struct twheel *tw, const struct twheel_cancel *cancels,
			unsigned int nr, struct twheel_batch_result *res);
int twheel_cancel_conn_array(struct twheel *tw, const uint64_t *conn_ids,
			     unsigned int nr, struct twheel_batch_result *res);

/*
 * TWHEEL_IOC_NEXT: @next->next_ns is the earliest deadline armed in this
 * context, exactly as armed (UINT64_MAX when none is armed); also the number
 * armed and the number of events waiting. Returns 0, -EINVAL, -EBADF.
 */
int twheel_get_next(struct twheel *tw, struct twheel_next *next);

/*
 * TWHEEL_IOC_STATS: this context's counters. Returns 0, -EINVAL, -EBADF.
 */
int twheel_get_stats(struct twheel *tw, struct twheel_stats *stats);

/*
 * Reads up to @max waiting events into @events without ever blocking,
 * whatever TWHEEL_OPEN_NONBLOCK says. Returns the number read (0 if none
 * was waiting), or -EINVAL (@max == 0, NULL @events), -EFAULT, -EBADF.
 * Events beyond @max stay queued for the next call. With rings, records
 * come from the event ring first (no system call), then from the kernel
 * queue if events found the ring full; an error record of an entry the
 * kernel refused has TWHEEL_EVENT_ERROR in its flags.
 */
int twheel_reap(struct twheel *tw, struct twheel_event *events,
		unsigned int max);

/*
 * Waits up to @timeout_ms milliseconds (-1: forever, 0: not at all) for at
 * least one event, then reaps up to @max like twheel_reap(). Returns the
 * number read, -ETIME if none came in time, -EINTR on a signal, or the
 * errors of twheel_reap().
 */
int twheel_wait(struct twheel *tw, struct twheel_event *events,
		unsigned int max, int timeout_ms);

/* --- 2. Batches --------------------------------------------------------- */

/*
 * A batch buffer: arms and cancels queued by many calls and sent by one
 * flush. Consecutive entries of the same type go to the device in one
 * ioctl (up to max_batch entries), so a flush costs one ioctl per run of
 * same-typed entries; the order in which entries were added is the order
 * in which they are applied. Opaque; tied to one struct twheel.
 */
struct twheel_batch_buf;

/*
 * Makes an empty batch buffer for @tw; it grows as entries are added.
 * Returns 0 and *@bp, -EINVAL, -ENOMEM.
 */
int twheel_batch_new(struct twheel *tw, struct twheel_batch_buf **bp);

/* Frees a batch buffer, dropping entries not flushed. NULL is ignored. */
void twheel_batch_free(struct twheel_batch_buf *b);

/*
 * Queue one entry; nothing reaches the device before twheel_batch_flush().
 * Arguments as twheel_arm(), twheel_cancel(), twheel_cancel_conn(); they
 * are checked by the device at flush time. Return the entry's index in the
 * buffer (from 0), -EINVAL (NULL @b), -ENOMEM.
 */
int twheel_batch_arm(struct twheel_batch_buf *b, uint64_t conn_id,
		     unsigned int kind, uint64_t timeout_ns,
		     uint64_t user_data, unsigned int flags);
int twheel_batch_cancel(struct twheel_batch_buf *b, uint64_t conn_id,
			unsigned int kind);
int twheel_batch_cancel_conn(struct twheel_batch_buf *b, uint64_t conn_id);

/* Number of entries queued and not flushed, or -EINVAL. */
int twheel_batch_count(const struct twheel_batch_buf *b);

/* Drops the queued entries without sending them. Returns 0 or -EINVAL. */
int twheel_batch_reset(struct twheel_batch_buf *b);

/*
 * Sends the queued entries in order and empties the buffer. Relative
 * timeouts count from the flush, not from the add. Returns the number
 * applied when all were; otherwise the -errno of the first that failed,
 * with @res->applied its index in the buffer (entries after it are
 * dropped, not applied). @res may be NULL. An empty buffer returns 0.
 */
int twheel_batch_flush(struct twheel_batch_buf *b,
		       struct twheel_batch_result *res);

/* twheel_batch_submit()'s flags. */
#define TWHEEL_SUBMIT_SYNC	(1U << 0)	/* the kernel's answer at once */

/*
 * Sends the queued entries through the shared submission ring and empties
 * the buffer; without rings, it is twheel_batch_flush(). Relative timeouts
 * become deadlines at the submit. Without TWHEEL_SUBMIT_SYNC, the entries
 * are published and the doorbell is rung only if an arming needs it: the
 * return value is the number published, @res->found is 0, and an entry the
 * kernel refuses comes back as an error record (through the connection
 * layer for its entries, from twheel_reap() for the others). With it,
 * TWHEEL_IOC_RING_ENTER applies them at once: @res->found counts what they
 * found, @res->error is the -errno of the first refused entry, which is
 * dropped while the entries after it are applied, and @res->applied the
 * entries applied. Either way an entry the library refuses (a kind or flag
 * the entry cannot carry, -EINVAL; -ERANGE) stops the submit there, as a
 * flush stops, with @res->applied its index. -EAGAIN: the ring is full and
 * stalled on error records (reap, then submit again).
 */
int twheel_batch_submit(struct twheel_batch_buf *b, unsigned int flags,
			struct twheel_batch_result *res);

/* --- 3. Connections ----------------------------------------------------- */

/*
 * A connection's timer set, after the original design's TimerManager: one
 * timer per kind (TWHEEL_KIND_IDLE, _CONNECT, _PATH_VALIDATION,
 * _RETRANSMIT, and TWHEEL_KIND_USER.. of the daemon's own), set, reset and
 * cancelled by kind, and the events that fired for it collected on it.
 *
 * The library keeps the open connections of a struct twheel in a hash table
 * keyed by id. twheel_dispatch() (or twheel_process_events()) takes events
 * reaped by any means (twheel_reap(), a ring) and delivers each to its
 * connection; twheel_conn_check_events() returns what was delivered. Each
 * arming carries a library-chosen token in user_data, so an event reaped
 * before a later reset or cancel of the same kind (still in a caller's
 * buffer or a completed ring read) is recognised as stale and dropped:
 * each arming is delivered at most once, and only if it is still the
 * current one. Events for ids with no open connection are dropped (raw
 * twheel_arm() users should not dispatch).
 *
 * With rings, arms and cancels are published in the submission ring, and
 * the calls below succeed once they are; the token covers the events the
 * kernel wrote into the event ring before it took a later reset or cancel.
 * An arming the kernel refuses (-ENOSPC, -ENOMEM) comes back as an error
 * record: the kind goes back to unarmed and the record is delivered as the
 * kind's event, TWHEEL_EVENT_ERROR in flags and the -errno in error.
 */
struct twheel_conn;

/*
 * Opens connection @conn_id on @tw, with @user for the caller's own state
 * (see twheel_conn_user()). Nothing is armed. Returns 0 and *@connp,
 * -EINVAL, -EEXIST (@conn_id is open on @tw already), -ENOMEM.
 */
int twheel_conn_open(struct twheel *tw, uint64_t conn_id, void *user,
		     struct twheel_conn **connp);

/*
 * Cancels every timer of the connection (one TWHEEL_IOC_CANCEL_CONN) and
 * frees it, with its undelivered events. It is freed even if the cancel
 * fails. Returns 0, -EINVAL (NULL), or the cancel's -errno.
 */
int twheel_conn_close(struct twheel_conn *conn);

/* The open connection @conn_id of @tw, or NULL if there is none. */
struct twheel_conn *twheel_conn_find(struct twheel *tw, uint64_t conn_id);

/* The connection's id, and the pointer given to twheel_conn_open(). */
uint64_t twheel_conn_id(const struct twheel_conn *conn);
void *twheel_conn_user(const struct twheel_conn *conn);

/*
 * Arms (or re-arms) timer @kind of the connection to fire @timeout_ns from
 * now. Returns 0, or the errors of twheel_arm(). An undelivered event of
 * the kind is discarded.
 */
int twheel_conn_set_timeout(struct twheel_conn *conn, unsigned int kind,
			    uint64_t timeout_ns);

/*
 * The idle timeout: set_ remembers @timeout_ns and arms TWHEEL_KIND_IDLE;
 * reset_ re-arms it with the remembered value (call it on every packet).
 * reset_ without a set_ before is -ENOENT. Errors of twheel_arm() besides.
 */
int twheel_conn_set_idle_timeout(struct twheel_conn *conn, uint64_t timeout_ns);
int twheel_conn_reset_idle_timeout(struct twheel_conn *conn);

/*
 * Arm TWHEEL_KIND_CONNECT, TWHEEL_KIND_PATH_VALIDATION and
 * TWHEEL_KIND_RETRANSMIT: twheel_conn_set_timeout() with that kind.
 */
int twheel_conn_set_connect_timeout(struct twheel_conn *conn,
				    uint64_t timeout_ns);
int twheel_conn_set_path_validation_timeout(struct twheel_conn *conn,
					    uint64_t timeout_ns);
int twheel_conn_set_retransmit_timeout(struct twheel_conn *conn,
				       uint64_t timeout_ns);

/*
 * Cancels timer @kind of the connection, and its undelivered event.
 * Returns 1 if it was armed or had fired undelivered, 0 if not, -EINVAL,
 * or the errors of twheel_cancel().
 */
int twheel_conn_cancel(struct twheel_conn *conn, unsigned int kind);

/*
 * Cancels every timer of the connection and drops its undelivered events;
 * the connection stays open. Returns 1 if anything was armed or waiting, 0
 * if not, or -errno.
 */
int twheel_conn_cancel_all(struct twheel_conn *conn);

/*
 * The same through a batch buffer of the connection's struct twheel, for a
 * loop that changes many connections' timers per iteration: queued now,
 * sent by twheel_batch_flush() in its one ioctl per run, and taken into the
 * connection's state at the flush for the entries the device applied (an
 * entry not applied changes nothing). A connection closed before the flush
 * has its queued arms sent as cancels, so that nothing of it stays armed.
 * Return the entry's index in the buffer, -EINVAL (NULL, kind out of
 * range, a buffer of another struct twheel), -ENOENT (reset without an idle
 * timeout set), -ENOMEM.
 */
int twheel_batch_conn_set_timeout(struct twheel_batch_buf *b,
				  struct twheel_conn *conn, unsigned int kind,
				  uint64_t timeout_ns);
int twheel_batch_conn_reset_idle_timeout(struct twheel_batch_buf *b,
					 struct twheel_conn *conn);
int twheel_batch_conn_cancel(struct twheel_batch_buf *b,
			     struct twheel_conn *conn, unsigned int kind);

/*
 * The kinds armed and not yet fired (as far as the events dispatched so
 * far tell), as a mask of (1U << kind); 0 for a NULL @conn.
 */
unsigned int twheel_conn_armed(const struct twheel_conn *conn);

/*
 * Takes the events delivered to the connection and not taken yet, at most
 * @max, ordered by kind, into @events; a kind has at most one (a kind that
 * fired, was re-armed and fired again before this call shows its latest).
 * Returns the number taken (0 if none), -EINVAL. Events beyond @max stay.
 */
int twheel_conn_check_events(struct twheel_conn *conn,
			     struct twheel_event *events, unsigned int max);

/* Called by twheel_dispatch() for each connection that got an event. */
typedef void (*twheel_conn_fn)(struct twheel_conn *conn, void *arg);

/*
 * Delivers @nr reaped events to their connections, dropping stale ones and
 * those of ids with no open connection; then, if @fn is not NULL, calls
 * @fn once per connection that got at least one, in the order of their
 * first event. @fn may close any connection, itself included. Returns the
 * number of events delivered, -EINVAL.
 */
int twheel_dispatch(struct twheel *tw, const struct twheel_event *events,
		    unsigned int nr, twheel_conn_fn fn, void *arg);

/*
 * Reaps every waiting event (twheel_reap() until none is left) and
 * dispatches them with @fn and @arg. The handler for epoll's EPOLLIN.
 * Returns the number of events delivered, or the -errno of the reap.
 */
int twheel_process_events(struct twheel *tw, twheel_conn_fn fn, void *arg);

/* --- 4. io_uring -------------------------------------------------------- */

/*
 * A read of the device takes events from the kernel queue; with shared
 * rings they go to the event ring instead, so these calls want a handle
 * opened with TWHEEL_OPEN_NO_RINGS and refuse others with -EOPNOTSUPP.
 */

/*
 * Prepares @sqe to read events of @tw into @buf (@len bytes: room for
 * len / sizeof(struct twheel_event) events) in the caller's ring, like
 * io_uring_prep_read(). The read completes when at least one event is
 * there, with cqe->res bytes (a multiple of the event size) or -errno;
 * pass the cqe to twheel_cqe_events(). Returns 0, -EINVAL (NULL, or @len
 * too small for one event).
 */
int twheel_prep_read(struct io_uring_sqe *sqe, struct twheel *tw, void *buf,
		     unsigned int len);

/*
 * Turns the completion of a twheel_prep_read() into events: *@events
 * points at the first in @buf. Returns the number of events, the -errno
 * the read completed with (cqe->res), or -EINVAL (NULL), -EPROTO (a
 * result that is not whole events).
 */
int twheel_cqe_events(const struct io_uring_cqe *cqe, void *buf,
		      struct twheel_event **events);

/*
 * The simple mode, for callers without a ring: a small ring owned by the
 * library with @nr_reads reads of @events_per_read events each kept in
 * flight on @tw. Opaque.
 */
struct twheel_ring;

/*
 * Sets up the ring and submits its reads. @nr_reads is 1 to 64 and
 * @events_per_read 1 to 4096 (0 for either picks 4 and 64). Returns 0 and
 * *@ringp, -EINVAL, -ENOMEM, or the -errno of io_uring_queue_init().
 */
int twheel_ring_init(struct twheel_ring **ringp, struct twheel *tw,
		     unsigned int nr_reads, unsigned int events_per_read);

/*
 * Waits up to @timeout_ms milliseconds (-1: forever, 0: not at all) for
 * completed reads and copies up to @max events into @events; a read's
 * events that did not fit are kept for the next call, and a read whose
 * events are all taken is submitted again. Returns the number of events
 * (at least 1), -ETIME if none came in time, -EINTR, -EINVAL, or the
 * -errno a read completed with.
 */
int twheel_ring_wait(struct twheel_ring *ring, struct twheel_event *events,
		     unsigned int max, int timeout_ms);

/*
 * The ring's own file descriptor (readable in epoll when a completion is
 * waiting), or -EINVAL.
 */
int twheel_ring_fd(const struct twheel_ring *ring);

/* Cancels the reads in flight and frees the ring. NULL is ignored. */
void twheel_ring_exit(struct twheel_ring *ring);

#ifdef __cplusplus
}
#endif

#endif /* LIBTWHEEL_H */
