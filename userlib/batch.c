// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: batch buffers.
 *
 * Entries are kept in the order they were added, all three types in one
 * array. A flush walks the array in runs of one type; each run is packed
 * into a scratch array of that type's uapi entries and sent by
 * twheel_*_array(), which cuts it at max_batch. The device applies entries
 * in order and stops at the first bad one, and so does the flush: keeping
 * the order matters (an arm then a cancel of the same timer is not the
 * cancel then the arm), so runs are never merged across types.
 *
 * Entries of the connection layer carry their token in user_data; once the
 * device has answered, the flush hands the applied ones to the connection
 * layer in order, so that its state follows the device's.
 *
 * twheel_batch_submit() publishes the entries in the shared submission
 * ring instead, in the order they were added, all types together, and
 * rings the doorbell once at the end if an arming needs it. Connection
 * entries are taken into their connection's state as they are published;
 * one the kernel refuses comes back through the connection layer. With
 * TWHEEL_SUBMIT_SYNC it sends them by the batch ioctls instead, to have
 * the kernel's answer for each.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

enum twheel_entry_type {
	TWHEEL_ENTRY_ARM,
	TWHEEL_ENTRY_CANCEL,
	TWHEEL_ENTRY_CANCEL_CONN,
};

struct twheel_batch_entry {
	enum twheel_entry_type type;
	bool conn;		/* queued by twheel_batch_conn_*() */
	struct twheel_conn *c;	/* its connection, found by the flush */
	struct twheel_arm arm;	/* a cancel uses conn_id and kind only */
};

struct twheel_batch_buf {
	struct twheel *tw;
	struct twheel_batch_entry *entries;
	unsigned int nr, size;
	/* One run at a time, packed for the ioctl. */
	union {
		struct twheel_arm *arms;
		struct twheel_cancel *cancels;
		uint64_t *conn_ids;
		void *p;
	} scratch;
	unsigned int scratch_size;	/* in entries of the largest type */
};

int twheel_batch_new(struct twheel *tw, struct twheel_batch_buf **bp)
{
	struct twheel_batch_buf *b;
	int saved_errno = errno;

	if (!tw || !bp)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	errno = saved_errno;
	if (!b)
		return -ENOMEM;
	b->tw = tw;
	*bp = b;
	return 0;
}

void twheel_batch_free(struct twheel_batch_buf *b)
{
	if (!b)
		return;
	free(b->entries);
	free(b->scratch.p);
	free(b);
}

static struct twheel_batch_entry *twheel_batch_add(struct twheel_batch_buf *b)
{
	struct twheel_batch_entry *e;
	int saved_errno = errno;
	unsigned int size;

	if (b->nr == b->size) {
		if (b->size > (INT32_MAX >> 1))
			return NULL;
		size = b->size ? b->size * 2 : 64;
		e = realloc(b->entries, size * sizeof(*e));
		errno = saved_errno;
		if (!e)
			return NULL;
		b->entries = e;
		b->size = size;
	}
	e = &b->entries[b->nr];
	memset(e, 0, sizeof(*e));
	return e;
}

int twheel_batch_arm(struct twheel_batch_buf *b, uint64_t conn_id,
		     unsigned int kind, uint64_t timeout_ns,
		     uint64_t user_data, unsigned int flags)
{
	struct twheel_batch_entry *e;

	if (!b)
		return -EINVAL;
	e = twheel_batch_add(b);
	if (!e)
		return -ENOMEM;
	e->type = TWHEEL_ENTRY_ARM;
	e->arm.conn_id = conn_id;
	e->arm.kind = kind;
	e->arm.timeout_ns = timeout_ns;
	e->arm.user_data = user_data;
	e->arm.flags = flags;
	return b->nr++;
}

int twheel_batch_cancel(struct twheel_batch_buf *b, uint64_t conn_id,
			unsigned int kind)
{
	struct twheel_batch_entry *e;

	if (!b)
		return -EINVAL;
	e = twheel_batch_add(b);
	if (!e)
		return -ENOMEM;
	e->type = TWHEEL_ENTRY_CANCEL;
	e->arm.conn_id = conn_id;
	e->arm.kind = kind;
	return b->nr++;
}

int twheel_batch_cancel_conn(struct twheel_batch_buf *b, uint64_t conn_id)
{
	struct twheel_batch_entry *e;

	if (!b)
		return -EINVAL;
	e = twheel_batch_add(b);
	if (!e)
		return -ENOMEM;
	e->type = TWHEEL_ENTRY_CANCEL_CONN;
	e->arm.conn_id = conn_id;
	return b->nr++;
}

int twheel_batch_conn_set_timeout(struct twheel_batch_buf *b,
				  struct twheel_conn *conn, unsigned int kind,
				  uint64_t timeout_ns)
{
	struct twheel_batch_entry *e;
	uint64_t token;
	int ret;

	if (!b || !conn || twheel_conn_tw(conn) != b->tw)
		return -EINVAL;
	ret = twheel_conn_prepare(conn, kind, &token);
	if (ret)
		return ret;
	ret = twheel_batch_arm(b, twheel_conn_id(conn), kind, timeout_ns,
			       token, 0);
	if (ret < 0)
		return ret;
	e = &b->entries[ret];
	e->conn = true;
	return ret;
}

int twheel_batch_conn_reset_idle_timeout(struct twheel_batch_buf *b,
					 struct twheel_conn *conn)
{
	uint64_t timeout_ns;
	int ret;

	if (!b || !conn)
		return -EINVAL;
	ret = twheel_conn_idle_timeout(conn, &timeout_ns);
	if (ret)
		return ret;
	return twheel_batch_conn_set_timeout(b, conn, TWHEEL_KIND_IDLE,
					     timeout_ns);
}

int twheel_batch_conn_cancel(struct twheel_batch_buf *b,
			     struct twheel_conn *conn, unsigned int kind)
{
	int ret;

	if (!b || !conn || twheel_conn_tw(conn) != b->tw ||
	    kind >= TWHEEL_NR_KINDS)
		return -EINVAL;
	ret = twheel_batch_cancel(b, twheel_conn_id(conn), kind);
	if (ret < 0)
		return ret;
	b->entries[ret].conn = true;
	return ret;
}

int twheel_batch_count(const struct twheel_batch_buf *b)
{
	return b ? (int)b->nr : -EINVAL;
}

int twheel_batch_reset(struct twheel_batch_buf *b)
{
	if (!b)
		return -EINVAL;
	b->nr = 0;
	return 0;
}

/*
 * Finds each entry's connection once: nothing closes one until the flush
 * returns. An arm for a connection closed since it was queued becomes a
 * cancel.
 */
static void twheel_batch_find_conns(struct twheel_batch_buf *b)
{
	struct twheel_batch_entry *e;
	unsigned int i;

	for (i = 0; i < b->nr; i++) {
		e = &b->entries[i];
		if (!e->conn)
			continue;
		e->c = twheel_conn_find(b->tw, e->arm.conn_id);
		if (!e->c && e->type == TWHEEL_ENTRY_ARM)
			e->type = TWHEEL_ENTRY_CANCEL;
	}
}

/*
 * Packs the run of entries [@from, @to), all of one type, and sends it;
 * *@refused as twheel_send() sets it.
 */
static int twheel_batch_send_run(struct twheel_batch_buf *b, unsigned int from,
				 unsigned int to,
				 struct twheel_batch_result *res, bool *refused)
{
	const struct twheel_batch_entry *e = &b->entries[from];
	unsigned int i, n = to - from;

	switch (e->type) {
	case TWHEEL_ENTRY_ARM:
		for (i = 0; i < n; i++)
			b->scratch.arms[i] = e[i].arm;
		return twheel_send(b->tw, TWHEEL_IOC_ARM, b->scratch.arms,
				   sizeof(*b->scratch.arms), n, res, refused);
	case TWHEEL_ENTRY_CANCEL:
		for (i = 0; i < n; i++) {
			memset(&b->scratch.cancels[i], 0,
			       sizeof(b->scratch.cancels[i]));
			b->scratch.cancels[i].conn_id = e[i].arm.conn_id;
			b->scratch.cancels[i].kind = e[i].arm.kind;
		}
		return twheel_send(b->tw, TWHEEL_IOC_CANCEL, b->scratch.cancels,
				   sizeof(*b->scratch.cancels), n, res,
				   refused);
	default:
		for (i = 0; i < n; i++)
			b->scratch.conn_ids[i] = e[i].arm.conn_id;
		return twheel_send(b->tw, TWHEEL_IOC_CANCEL_CONN,
				   b->scratch.conn_ids,
				   sizeof(*b->scratch.conn_ids), n, res,
				   refused);
	}
}

/* The scratch array holds the longest run: at most every entry. */
static int twheel_batch_scratch(struct twheel_batch_buf *b)
{
	int saved_errno = errno;
	void *p;

	if (b->scratch_size >= b->nr)
		return 0;
	p = realloc(b->scratch.p, b->size * sizeof(struct twheel_arm));
	errno = saved_errno;
	if (!p)
		return -ENOMEM;
	b->scratch.p = p;
	b->scratch_size = b->size;
	return 0;
}

/* Takes an entry the device applied into its connection's state. */
static void twheel_batch_applied(const struct twheel_batch_entry *e)
{
	if (e->c)
		twheel_conn_applied(e->c, e->arm.kind,
				    e->type == TWHEEL_ENTRY_ARM ?
				    e->arm.user_data : 0);
}

static const unsigned int twheel_entry_op[] = {
	[TWHEEL_ENTRY_ARM] = TWHEEL_OP_ARM,
	[TWHEEL_ENTRY_CANCEL] = TWHEEL_OP_CANCEL,
	[TWHEEL_ENTRY_CANCEL_CONN] = TWHEEL_OP_CANCEL_CONN,
};

/*
 * Sends the batch by the batch ioctls, in runs of one type. A flush stops
 * at the first entry the device refuses. With @past_refusals it skips it
 * and sends the entries after it, as the ring would have applied them: that
 * is TWHEEL_SUBMIT_SYNC on a file with rings, whose published entries the
 * expiry thread could take before a synchronous doorbell and answer with
 * error records instead of in the call (the batch ioctls come after what
 * was published and answer for every entry); a refused arming of the
 * connection layer then leaves its kind unarmed, as in the ring. A call
 * that fails (a signal, a fault) sends nothing more.
 */
static int twheel_batch_send(struct twheel_batch_buf *b, bool past_refusals,
			     struct twheel_batch_result *res)
{
	struct twheel_batch_result total = { 0 }, run;
	const struct twheel_batch_entry *e;
	unsigned int from, to, i;
	bool refused;
	int ret;

	ret = twheel_batch_scratch(b);
	if (ret)
		return ret;
	twheel_batch_find_conns(b);
	for (from = 0; from < b->nr; from = to) {
		for (to = from + 1; to < b->nr; to++)
			if (b->entries[to].type != b->entries[from].type)
				break;
		ret = twheel_batch_send_run(b, from, to, &run, &refused);
		total.applied += run.applied;
		total.found += run.found;
		for (i = from; i < from + run.applied; i++)
			twheel_batch_applied(&b->entries[i]);
		if (ret >= 0)
			continue;
		if (!total.error)
			total.error = ret;
		if (!past_refusals || !refused)
			break;
		e = &b->entries[from + run.applied];
		twheel_batch_applied(e);
		if (e->c && e->type == TWHEEL_ENTRY_ARM)
			twheel_conn_refused(e->c, e->arm.kind, e->arm.user_data);
		to = from + run.applied + 1;
	}
	b->nr = 0;
	if (res)
		*res = total;
	return total.error ? total.error : (int)total.applied;
}

int twheel_batch_flush(struct twheel_batch_buf *b,
		       struct twheel_batch_result *res)
{
	if (!b)
		return -EINVAL;
	return twheel_batch_send(b, false, res);
}

int twheel_batch_submit(struct twheel_batch_buf *b, unsigned int flags,
			struct twheel_batch_result *res)
{
	struct twheel_batch_result total = { 0 };
	struct twheel_batch_entry *e;
	struct twheel_ring_enter en;
	struct twheel_sqe sqe;
	struct twheel *tw;
	int64_t now = 0;
	int ret = 0, ring = 0, err;
	unsigned int i;

	if (!b || (flags & ~TWHEEL_SUBMIT_SYNC))
		return -EINVAL;
	tw = b->tw;
	if (!tw->shm.map)
		return twheel_batch_flush(b, res);
	if (flags & TWHEEL_SUBMIT_SYNC)
		return twheel_batch_send(b, true, res);
	twheel_batch_find_conns(b);
	for (i = 0; !ret && i < b->nr; i++) {
		e = &b->entries[i];
		ret = twheel_sq_make_sqe(tw, &sqe, twheel_entry_op[e->type],
					 e->arm.conn_id, e->arm.kind,
					 e->arm.timeout_ns, e->arm.user_data,
					 e->arm.flags, &now);
		if (!ret)
			ret = twheel_sq_push(tw, &sqe);
		if (ret)
			break;
		total.applied++;
		twheel_batch_applied(e);
		ring |= twheel_sq_needs_enter(tw, &sqe);
	}
	/* Published entries are made, whatever stopped the loop. */
	if (ring) {
		err = twheel_sq_enter(tw, 0, &en);
		if (err && !ret)
			ret = err;
	}
	if (ret)
		total.error = ret;
	b->nr = 0;
	if (res)
		*res = total;
	return total.error ? total.error : (int)total.applied;
}
