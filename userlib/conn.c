// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: per-connection timer sets.
 *
 * The original design gave each connection a TimerManager: register or
 * reset its idle timeout, register path-validation and retransmission
 * timeouts, cancel one kind or all, and "check timer events" to collect
 * what fired for it. Here the device already keeps one timer per kind per
 * connection, so a struct twheel_conn only has to remember what it armed
 * and route events back:
 *
 * - Each arming's user_data is a token, unique within the struct twheel
 *   (a 64-bit counter). The connection keeps the token of the current
 *   arming of each kind. An event is delivered only if its token is still
 *   current, then the token is forgotten: the device never lets a cancelled
 *   or replaced arming be read, and the token covers the gap it cannot see,
 *   events already read into a buffer (a reap, a completed io_uring read)
 *   before the reset or cancel.
 * - Connections are found by id in a chained hash table that doubles when
 *   it holds more connections than buckets.
 * - A connection grows its per-kind slots to the highest kind it uses, so
 *   one that uses the four standard kinds costs four slots, not sixteen.
 * - twheel_dispatch() delivers every event first and calls back after,
 *   looking each connection up again before its call, so that a callback
 *   may close any connection.
 *
 * With the shared rings, arms and cancels are published in the submission
 * ring and the state changes when they are published, not when the
 * kernel takes them: the token of an arming is current from then on, so
 * an event of the arming it replaces, or of one cancelled, is stale even
 * if the kernel wrote it into the event ring before it took the entry (it
 * cannot recall it from there). An entry the kernel refuses comes back as
 * an error record with the entry's token; if the token is still current,
 * the kind goes back to unarmed and the record is delivered as the kind's
 * event, with TWHEEL_EVENT_ERROR in its flags and the -errno in its error.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct twheel_conn_slot {
	uint64_t token;		/* user_data of the current arming, 0 if none */
	uint64_t deadline_ns;	/* of the delivered event; its -errno if an */
	uint64_t fired_ns;	/* error record (flags) */
	uint32_t flags;
};

struct twheel_conn {
	struct twheel_conn *next;	/* in its hash bucket */
	struct twheel *tw;
	uint64_t id;
	void *user;
	uint64_t idle_timeout_ns;
	bool idle_set;
	uint16_t armed;			/* kinds with a current token */
	uint16_t fired;			/* kinds with an event not taken */
	unsigned int dispatch_mark;	/* twheel_dispatch() saw it */
	unsigned int nr_slots;
	struct twheel_conn_slot *slots;
};

static int twheel_conn_sq(struct twheel_conn *conn, unsigned int op,
			  unsigned int kind, uint64_t timeout_ns,
			  uint64_t token);

static unsigned int twheel_conn_hash(const struct twheel_conn_table *t,
				     uint64_t id)
{
	/* splitmix64's finaliser: every bit of the id moves the bucket. */
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (unsigned int)id & t->mask;
}

struct twheel_conn *twheel_conn_find(struct twheel *tw, uint64_t conn_id)
{
	struct twheel_conn *conn;

	if (!tw || !tw->conns.buckets)
		return NULL;
	conn = tw->conns.buckets[twheel_conn_hash(&tw->conns, conn_id)];
	while (conn && conn->id != conn_id)
		conn = conn->next;
	return conn;
}

static int twheel_conn_table_grow(struct twheel_conn_table *t)
{
	unsigned int size = t->buckets ? (t->mask + 1) * 2 : 64, i, h;
	struct twheel_conn **buckets, *conn, *next;
	struct twheel_conn_table grown = *t;
	int saved_errno = errno;

	buckets = calloc(size, sizeof(*buckets));
	errno = saved_errno;
	if (!buckets)
		return -ENOMEM;
	grown.buckets = buckets;
	grown.mask = size - 1;
	for (i = 0; t->buckets && i <= t->mask; i++) {
		for (conn = t->buckets[i]; conn; conn = next) {
			next = conn->next;
			h = twheel_conn_hash(&grown, conn->id);
			conn->next = buckets[h];
			buckets[h] = conn;
		}
	}
	free(t->buckets);
	*t = grown;
	return 0;
}

static void twheel_conn_unlink(struct twheel_conn *conn)
{
	struct twheel_conn_table *t = &conn->tw->conns;
	struct twheel_conn **pp = &t->buckets[twheel_conn_hash(t, conn->id)];

	while (*pp != conn)
		pp = &(*pp)->next;
	*pp = conn->next;
	t->nr--;
}

int twheel_conn_open(struct twheel *tw, uint64_t conn_id, void *user,
		     struct twheel_conn **connp)
{
	struct twheel_conn_table *t;
	struct twheel_conn *conn;
	int saved_errno = errno;
	unsigned int h;
	int ret;

	if (!tw || !connp)
		return -EINVAL;
	t = &tw->conns;
	if (twheel_conn_find(tw, conn_id))
		return -EEXIST;
	if (!t->buckets || t->nr > t->mask) {
		ret = twheel_conn_table_grow(t);
		if (ret)
			return ret;
	}
	conn = calloc(1, sizeof(*conn));
	errno = saved_errno;
	if (!conn)
		return -ENOMEM;
	conn->tw = tw;
	conn->id = conn_id;
	conn->user = user;
	h = twheel_conn_hash(t, conn_id);
	conn->next = t->buckets[h];
	t->buckets[h] = conn;
	t->nr++;
	*connp = conn;
	return 0;
}

static void twheel_conn_free(struct twheel_conn *conn)
{
	free(conn->slots);
	free(conn);
}

int twheel_conn_close(struct twheel_conn *conn)
{
	int ret;

	if (!conn)
		return -EINVAL;
	if (conn->tw->shm.map)
		ret = twheel_conn_sq(conn, TWHEEL_OP_CANCEL_CONN, 0, 0, 0);
	else
		ret = twheel_cancel_conn(conn->tw, conn->id);
	twheel_conn_unlink(conn);
	twheel_conn_free(conn);
	return ret < 0 ? ret : 0;
}

void twheel_conns_free(struct twheel *tw)
{
	struct twheel_conn_table *t = &tw->conns;
	struct twheel_conn *conn, *next;
	unsigned int i;

	for (i = 0; t->buckets && i <= t->mask; i++) {
		for (conn = t->buckets[i]; conn; conn = next) {
			next = conn->next;
			twheel_conn_free(conn);
		}
	}
	free(t->buckets);
	free(t->ready);
	memset(t, 0, sizeof(*t));
}

uint64_t twheel_conn_id(const struct twheel_conn *conn)
{
	return conn ? conn->id : 0;
}

void *twheel_conn_user(const struct twheel_conn *conn)
{
	return conn ? conn->user : NULL;
}

unsigned int twheel_conn_armed(const struct twheel_conn *conn)
{
	return conn ? conn->armed : 0;
}

static int twheel_conn_slots(struct twheel_conn *conn, unsigned int kind)
{
	struct twheel_conn_slot *slots;
	int saved_errno = errno;
	unsigned int nr;

	if (kind < conn->nr_slots)
		return 0;
	/* Grow to 4, 8 or 16 slots, as the device grows its own. */
	for (nr = 4; nr <= kind; nr *= 2)
		;
	slots = realloc(conn->slots, nr * sizeof(*slots));
	errno = saved_errno;
	if (!slots)
		return -ENOMEM;
	memset(slots + conn->nr_slots, 0,
	       (nr - conn->nr_slots) * sizeof(*slots));
	conn->slots = slots;
	conn->nr_slots = nr;
	return 0;
}

int twheel_conn_prepare(struct twheel_conn *conn, unsigned int kind,
			uint64_t *token)
{
	int ret;

	if (!conn || kind >= TWHEEL_NR_KINDS)
		return -EINVAL;
	ret = twheel_conn_slots(conn, kind);
	if (ret)
		return ret;
	*token = ++conn->tw->conns.last_token;
	return 0;
}

/* What an applied arming (@token) or cancel (@token 0) does to @conn. */
static void twheel_conn_update(struct twheel_conn *conn, unsigned int kind,
			       uint64_t token)
{
	if (kind < conn->nr_slots) {
		conn->slots[kind].token = token;
		conn->slots[kind].flags = 0;
	}
	if (token)
		conn->armed |= 1U << kind;
	else
		conn->armed &= ~(1U << kind);
	conn->fired &= ~(1U << kind);
}

/* What an applied cancel of every kind does to @conn. */
static void twheel_conn_forget(struct twheel_conn *conn)
{
	unsigned int i;

	conn->armed = 0;
	conn->fired = 0;
	for (i = 0; i < conn->nr_slots; i++)
		conn->slots[i].token = 0;
}

void twheel_conn_applied(struct twheel_conn *conn, unsigned int kind,
			 uint64_t token)
{
	if (kind < TWHEEL_NR_KINDS)
		twheel_conn_update(conn, kind, token);
}

void twheel_conn_refused(struct twheel_conn *conn, unsigned int kind,
			 uint64_t token)
{
	if (kind < conn->nr_slots && token && conn->slots[kind].token == token)
		twheel_conn_update(conn, kind, 0);
}

struct twheel *twheel_conn_tw(const struct twheel_conn *conn)
{
	return conn->tw;
}

int twheel_conn_idle_timeout(const struct twheel_conn *conn,
			     uint64_t *timeout_ns)
{
	if (!conn->idle_set)
		return -ENOENT;
	*timeout_ns = conn->idle_timeout_ns;
	return 0;
}

/*
 * Publishes one entry for @conn in the shared ring, takes it into the
 * connection's state at once (an arming's @token is current from now on)
 * and rings the doorbell if the entry needs it. Once published, an entry
 * is made: an error of the doorbell is returned with the state changed.
 */
static int twheel_conn_sq(struct twheel_conn *conn, unsigned int op,
			  unsigned int kind, uint64_t timeout_ns,
			  uint64_t token)
{
	struct twheel *tw = conn->tw;
	struct twheel_sqe e;
	int64_t now = 0;
	int ret;

	ret = twheel_sq_make_sqe(tw, &e, op, conn->id, kind, timeout_ns, token,
				 0, &now);
	if (!ret)
		ret = twheel_sq_push(tw, &e);
	if (ret)
		return ret;
	if (op == TWHEEL_OP_CANCEL_CONN)
		twheel_conn_forget(conn);
	else
		twheel_conn_update(conn, kind, op == TWHEEL_OP_ARM ? token : 0);
	return twheel_sq_ring(tw, &e);
}

int twheel_conn_set_timeout(struct twheel_conn *conn, unsigned int kind,
			    uint64_t timeout_ns)
{
	uint64_t token;
	int ret;

	ret = twheel_conn_prepare(conn, kind, &token);
	if (ret)
		return ret;
	if (conn->tw->shm.map)
		return twheel_conn_sq(conn, TWHEEL_OP_ARM, kind, timeout_ns,
				      token);
	ret = twheel_arm(conn->tw, conn->id, kind, timeout_ns, token, 0);
	/* On failure the device changed nothing: neither do we. */
	if (ret < 0)
		return ret;
	twheel_conn_update(conn, kind, token);
	return 0;
}

int twheel_conn_set_idle_timeout(struct twheel_conn *conn, uint64_t timeout_ns)
{
	int ret;

	if (!conn)
		return -EINVAL;
	ret = twheel_conn_set_timeout(conn, TWHEEL_KIND_IDLE, timeout_ns);
	if (ret)
		return ret;
	conn->idle_timeout_ns = timeout_ns;
	conn->idle_set = true;
	return 0;
}

int twheel_conn_reset_idle_timeout(struct twheel_conn *conn)
{
	if (!conn)
		return -EINVAL;
	if (!conn->idle_set)
		return -ENOENT;
	return twheel_conn_set_timeout(conn, TWHEEL_KIND_IDLE,
				       conn->idle_timeout_ns);
}

int twheel_conn_set_connect_timeout(struct twheel_conn *conn,
				    uint64_t timeout_ns)
{
	return twheel_conn_set_timeout(conn, TWHEEL_KIND_CONNECT, timeout_ns);
}

int twheel_conn_set_path_validation_timeout(struct twheel_conn *conn,
					    uint64_t timeout_ns)
{
	return twheel_conn_set_timeout(conn, TWHEEL_KIND_PATH_VALIDATION,
				       timeout_ns);
}

int twheel_conn_set_retransmit_timeout(struct twheel_conn *conn,
				       uint64_t timeout_ns)
{
	return twheel_conn_set_timeout(conn, TWHEEL_KIND_RETRANSMIT,
				       timeout_ns);
}

int twheel_conn_cancel(struct twheel_conn *conn, unsigned int kind)
{
	bool had;
	int ret;

	if (!conn || kind >= TWHEEL_NR_KINDS)
		return -EINVAL;
	if (conn->tw->shm.map) {
		/* The kernel answers later: what the library knows is all. */
		had = ((conn->armed | conn->fired) >> kind) & 1;
		ret = twheel_conn_sq(conn, TWHEEL_OP_CANCEL, kind, 0, 0);
		return ret < 0 ? ret : had;
	}
	ret = twheel_cancel(conn->tw, conn->id, kind);
	if (ret < 0)
		return ret;
	had = (conn->fired >> kind) & 1;
	twheel_conn_update(conn, kind, 0);
	return ret || had;
}

int twheel_conn_cancel_all(struct twheel_conn *conn)
{
	bool had;
	int ret;

	if (!conn)
		return -EINVAL;
	if (conn->tw->shm.map) {
		had = conn->armed || conn->fired;
		ret = twheel_conn_sq(conn, TWHEEL_OP_CANCEL_CONN, 0, 0, 0);
		return ret < 0 ? ret : had;
	}
	ret = twheel_cancel_conn(conn->tw, conn->id);
	if (ret < 0)
		return ret;
	had = conn->fired;
	twheel_conn_forget(conn);
	return ret || had;
}

int twheel_conn_check_events(struct twheel_conn *conn,
			     struct twheel_event *events, unsigned int max)
{
	unsigned int kind, n = 0;
	struct twheel_event *ev;

	if (!conn || (!events && max))
		return -EINVAL;
	for (kind = 0; kind < conn->nr_slots && n < max; kind++) {
		if (!((conn->fired >> kind) & 1))
			continue;
		ev = &events[n++];
		memset(ev, 0, sizeof(*ev));
		ev->conn_id = conn->id;
		ev->kind = kind;
		ev->deadline_ns = conn->slots[kind].deadline_ns;
		ev->fired_ns = conn->slots[kind].fired_ns;
		ev->flags = conn->slots[kind].flags;
		conn->fired &= ~(1U << kind);
	}
	return n;
}

/* Delivers @ev if it is the current arming of an open connection. */
static struct twheel_conn *twheel_conn_deliver(struct twheel *tw,
					       const struct twheel_event *ev)
{
	struct twheel_conn *conn;
	struct twheel_conn_slot *slot;

	if (ev->kind >= TWHEEL_NR_KINDS || !ev->user_data)
		return NULL;
	/* Only arm entries carry a token; a refused cancel has none. */
	if ((ev->flags & TWHEEL_EVENT_ERROR) &&
	    TWHEEL_EVENT_OP(ev->flags) != TWHEEL_OP_ARM)
		return NULL;
	conn = twheel_conn_find(tw, ev->conn_id);
	if (!conn || ev->kind >= conn->nr_slots)
		return NULL;
	slot = &conn->slots[ev->kind];
	if (slot->token != ev->user_data)
		return NULL;
	slot->token = 0;
	slot->deadline_ns = ev->deadline_ns;
	slot->fired_ns = ev->fired_ns;
	slot->flags = ev->flags;
	conn->armed &= ~(1U << ev->kind);
	conn->fired |= 1U << ev->kind;
	return conn;
}

int twheel_dispatch(struct twheel *tw, const struct twheel_event *events,
		    unsigned int nr, twheel_conn_fn fn, void *arg)
{
	struct twheel_conn_table *t;
	unsigned int i, nr_ready = 0;
	struct twheel_conn *conn;
	int saved_errno = errno;
	uint64_t *ready;
	int delivered = 0;

	if (!tw || (!events && nr))
		return -EINVAL;
	t = &tw->conns;
	if (fn && t->ready_size < nr) {
		ready = realloc(t->ready, nr * sizeof(*ready));
		errno = saved_errno;
		if (!ready)
			return -ENOMEM;
		t->ready = ready;
		t->ready_size = nr;
	}
	t->dispatch_mark++;
	for (i = 0; i < nr; i++) {
		conn = twheel_conn_deliver(tw, &events[i]);
		if (!conn)
			continue;
		delivered++;
		if (fn && conn->dispatch_mark != t->dispatch_mark) {
			conn->dispatch_mark = t->dispatch_mark;
			t->ready[nr_ready++] = conn->id;
		}
	}
	for (i = 0; i < nr_ready; i++) {
		/* An earlier callback may have closed it. */
		conn = twheel_conn_find(tw, t->ready[i]);
		if (conn && conn->fired)
			fn(conn, arg);
	}
	return delivered;
}

int twheel_process_events(struct twheel *tw, twheel_conn_fn fn, void *arg)
{
	struct twheel_event events[64];
	int n, ret, delivered = 0;

	if (!tw)
		return -EINVAL;
	do {
		n = twheel_reap(tw, events, 64);
		if (n < 0)
			return n;
		ret = twheel_dispatch(tw, events, n, fn, arg);
		if (ret < 0)
			return ret;
		delivered += ret;
	} while (n == 64);
	return delivered;
}
