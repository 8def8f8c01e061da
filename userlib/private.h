/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libtwheel internals shared by its source files; not installed.
 */
#ifndef LIBTWHEEL_PRIVATE_H
#define LIBTWHEEL_PRIVATE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libtwheel.h"

/* CLOCK_MONOTONIC in ns, the clock the timeouts of the wait calls run on. */
static inline int64_t twheel_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The open connections of a struct twheel, by id (conn.c). */
struct twheel_conn_table {
	struct twheel_conn **buckets;	/* chains through twheel_conn.next */
	unsigned int mask;		/* number of buckets - 1 */
	unsigned int nr;		/* connections open */
	uint64_t last_token;		/* user_data of the latest arming */
	unsigned int dispatch_mark;	/* changes at every twheel_dispatch() */
	uint64_t *ready;		/* ids twheel_dispatch() calls back */
	unsigned int ready_size;
};

/*
 * The rings shared with the kernel (sq.c), mapped at open when the module
 * offers them; map is NULL otherwise. Pointers into the mapping are the
 * fields both sides write; the masks are read once at set-up.
 */
struct twheel_shm {
	void *map;
	size_t map_size;
	uint32_t *sq_head, *sq_tail, *sq_flags, sq_mask;
	uint32_t sq_local_tail;		/* entries written, published or not */
	uint64_t *look_ns;
	struct twheel_sqe *sqes;
	uint32_t *ev_head, *ev_tail, *ev_flags, *ev_queued, ev_mask;
	struct twheel_event *events;
};

struct twheel {
	int fd;
	struct twheel_handshake info;
	struct twheel_conn_table conns;
	struct twheel_shm shm;
	uint64_t syscalls;		/* made on this handle, for twdemo */
};

/*
 * Every function that makes a system call or allocates keeps the caller's
 * errno in saved_errno on entry and puts it back before returning.
 */

/* Runs ioctl @cmd on @tw and returns its result, or -errno. */
long twheel_do_ioctl(struct twheel *tw, unsigned long cmd, void *arg);

/*
 * Sends @nr entries of @size bytes with batch ioctl @cmd (libtwheel.c),
 * after what the shared ring holds; *@refused (if given) tells whether an
 * error is the device's refusal of the entry at res->applied.
 */
int twheel_send(struct twheel *tw, unsigned long cmd, const void *entries,
		size_t size, unsigned int nr, struct twheel_batch_result *res,
		bool *refused);

/*
 * The shared rings (sq.c). setup asks for @sq_entries and @ev_entries (0:
 * the library's default, within the handshake's limits) and maps them.
 * pending: entries published and not taken yet. flush: the doorbell if
 * anything is pending, so that an ioctl after it comes after them in the
 * device. make_sqe: the entry of an arm or cancel as the ring takes it,
 * with a relative timeout made absolute (*@now, read once per batch: 0
 * until read), or -EINVAL/-ERANGE for what the device would refuse but
 * the entry cannot carry. push: publishes one entry, ringing the doorbell
 * if the ring is full; -EAGAIN if it stays full (stalled: reap first).
 * needs_enter / ring: whether the entry just published needs the
 * doorbell, by look_ns, and ringing it if so. ev_*: the event ring.
 */
int twheel_sq_setup(struct twheel *tw, unsigned int sq_entries,
		    unsigned int ev_entries);
void twheel_sq_free(struct twheel *tw);
int twheel_sq_pending(const struct twheel *tw);
int twheel_sq_enter(struct twheel *tw, unsigned int flags,
		    struct twheel_ring_enter *en);
int twheel_sq_flush(struct twheel *tw);
int twheel_sq_stalled(const struct twheel *tw);
int twheel_sq_make_sqe(struct twheel *tw, struct twheel_sqe *e,
		       unsigned int op, uint64_t conn_id, unsigned int kind,
		       uint64_t timeout_ns, uint64_t user_data,
		       unsigned int flags, int64_t *now);
int twheel_sq_full(const struct twheel *tw);
int twheel_sq_push(struct twheel *tw, const struct twheel_sqe *e);
int twheel_sq_needs_enter(struct twheel *tw, const struct twheel_sqe *e);
int twheel_sq_ring(struct twheel *tw, const struct twheel_sqe *e);
unsigned int twheel_ev_take(struct twheel *tw, struct twheel_event *events,
			    unsigned int max);
uint32_t twheel_ev_queued(const struct twheel *tw);
void twheel_ev_sleeping(struct twheel *tw, int sleeping);

/*
 * The connection layer's side of batch buffers (conn.c): a token for a new
 * arming of @kind of @conn (with room for the kind), and the state change
 * of an arm or a cancel the device applied at a flush, for @conn.
 */
int twheel_conn_prepare(struct twheel_conn *conn, unsigned int kind,
			uint64_t *token);
void twheel_conn_applied(struct twheel_conn *conn, unsigned int kind,
			 uint64_t token);
/* An arming (@token) the kernel refused: unarmed, if still current. */
void twheel_conn_refused(struct twheel_conn *conn, unsigned int kind,
			 uint64_t token);
struct twheel *twheel_conn_tw(const struct twheel_conn *conn);
int twheel_conn_idle_timeout(const struct twheel_conn *conn,
			     uint64_t *timeout_ns);

/* Frees every connection of @tw without telling the device (conn.c). */
void twheel_conns_free(struct twheel *tw);

#endif /* LIBTWHEEL_PRIVATE_H */
