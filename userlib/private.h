/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libtwheel internals shared by its source files; not installed.
 */
#ifndef LIBTWHEEL_PRIVATE_H
#define LIBTWHEEL_PRIVATE_H

#include <errno.h>
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

struct twheel {
	int fd;
	struct twheel_handshake info;
	struct twheel_conn_table conns;
};

/*
 * Every function that makes a system call or allocates keeps the caller's
 * errno in saved_errno on entry and puts it back before returning.
 */

/* Runs ioctl @cmd on @tw and returns its result, or -errno. */
long twheel_do_ioctl(struct twheel *tw, unsigned long cmd, void *arg);

/*
 * The connection layer's side of batch buffers (conn.c): a token for a new
 * arming of @kind of @conn (with room for the kind), and the state change
 * of an arm or a cancel the device applied at a flush, for @conn.
 */
int twheel_conn_prepare(struct twheel_conn *conn, unsigned int kind,
			uint64_t *token);
void twheel_conn_applied(struct twheel_conn *conn, unsigned int kind,
			 uint64_t token);
struct twheel *twheel_conn_tw(const struct twheel_conn *conn);
int twheel_conn_idle_timeout(const struct twheel_conn *conn,
			     uint64_t *timeout_ns);

/* Frees every connection of @tw without telling the device (conn.c). */
void twheel_conns_free(struct twheel *tw);

#endif /* LIBTWHEEL_PRIVATE_H */
