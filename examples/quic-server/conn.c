// SPDX-License-Identifier: MIT
/*
 * A QUIC connection of the server: datagrams in, packets out, HTTP/3 on
 * top, and the end of it (idle timeout, closing and draining periods).
 *
 * A connection is found two ways. Datagrams carry a destination
 * connection id: every id we issued to the peer (and the one the client
 * chose for its first Initial) is in a chained hash table. Timer events
 * carry a 64-bit id, generation << 20 | slot, which names a slot of an
 * array: a slot reused by a new connection has a new generation, so an
 * event of a connection gone never reaches its successor.
 *
 * A connection is deleted (out of both tables, timers cancelled) at once,
 * but freed only at the end of the loop pass, since events and list
 * entries read earlier in the pass may still point at it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include "quic-server.h"

#define QS_SLOT_BITS		20
#define QS_MAX_SLOTS		(1U << QS_SLOT_BITS)
#define QS_MAX_STREAMS_BIDI	100
#define QS_PATH_MAX		1024

struct qs_cid {
	ngtcp2_cid cid;
	struct qs_conn *c;
	struct qs_cid *next;		/* in its hash bucket */
	struct qs_cid *conn_next;	/* among its connection's ids */
};

/* A request stream and the file that answers it. */
struct qs_stream {
	int64_t id;
	struct qs_stream *next;
	char path[QS_PATH_MAX];
	char method[16];
	bool path_too_long;
	unsigned int status;
	uint8_t *body;		/* mmap()ed file, unmapped when the stream closes */
	size_t bodylen;
	uint64_t acked;
};

static void fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			qs_warn("getrandom: %s", strerror(errno));
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
}

/* --- the tables ---------------------------------------------------------- */

static uint32_t cid_hash(const uint8_t *data, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 16777619u;
	return h;
}

static struct qs_conn *cid_find(struct qs_server *s, const uint8_t *data,
				size_t len)
{
	struct qs_cid *e;

	if (!s->cid_buckets)
		return NULL;
	for (e = s->cid_buckets[cid_hash(data, len) & s->cid_mask]; e; e = e->next)
		if (e->cid.datalen == len && !memcmp(e->cid.data, data, len))
			return e->c;
	return NULL;
}

static int cid_grow(struct qs_server *s)
{
	uint32_t nr = s->cid_buckets ? (s->cid_mask + 1) * 2 : 256;
	struct qs_cid **b = calloc(nr, sizeof(*b));

	if (!b)
		return -1;
	for (uint32_t i = 0; s->cid_buckets && i <= s->cid_mask; i++) {
		struct qs_cid *e = s->cid_buckets[i], *next;

		for (; e; e = next) {
			uint32_t h = cid_hash(e->cid.data, e->cid.datalen) & (nr - 1);

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	free(s->cid_buckets);
	s->cid_buckets = b;
	s->cid_mask = nr - 1;
	return 0;
}

static int cid_add(struct qs_server *s, const ngtcp2_cid *cid,
		   struct qs_conn *c)
{
	struct qs_cid *e;
	uint32_t h;

	if (cid_find(s, cid->data, cid->datalen))
		return 0;	/* a client may reuse its first id; first come wins */
	if ((!s->cid_buckets || s->nr_cids > s->cid_mask) && cid_grow(s))
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	e->cid = *cid;
	e->c = c;
	h = cid_hash(cid->data, cid->datalen) & s->cid_mask;
	e->next = s->cid_buckets[h];
	s->cid_buckets[h] = e;
	e->conn_next = c->cids;
	c->cids = e;
	s->nr_cids++;
	return 0;
}

static void cid_unlink(struct qs_server *s, struct qs_cid *e)
{
	struct qs_cid **pp;

	pp = &s->cid_buckets[cid_hash(e->cid.data, e->cid.datalen) & s->cid_mask];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	s->nr_cids--;
}

static void cid_remove(struct qs_server *s, struct qs_conn *c,
		       const ngtcp2_cid *cid)
{
	struct qs_cid **pp;

	for (pp = &c->cids; *pp; pp = &(*pp)->conn_next) {
		struct qs_cid *e = *pp;

		if (e->cid.datalen == cid->datalen &&
		    !memcmp(e->cid.data, cid->data, cid->datalen)) {
			*pp = e->conn_next;
			cid_unlink(s, e);
			free(e);
			return;
		}
	}
}

static int slot_alloc(struct qs_server *s, struct qs_conn *c)
{
	uint32_t slot;

	if (!s->nr_free) {
		uint32_t nr = s->nr_slots ? s->nr_slots * 2 : 1024, i;
		struct qs_conn **slots;
		uint32_t *gen, *free_slots;

		if (nr > QS_MAX_SLOTS)
			return -1;
		slots = realloc(s->slots, nr * sizeof(*slots));
		if (slots)
			s->slots = slots;
		gen = realloc(s->slot_gen, nr * sizeof(*gen));
		if (gen)
			s->slot_gen = gen;
		free_slots = realloc(s->free_slots, nr * sizeof(*free_slots));
		if (free_slots)
			s->free_slots = free_slots;
		if (!slots || !gen || !free_slots)
			return -1;
		for (i = s->nr_slots; i < nr; i++) {
			s->slots[i] = NULL;
			s->slot_gen[i] = 0;
		}
		/* Hand out the low slots first. */
		for (i = nr; i > s->nr_slots; i--)
			s->free_slots[s->nr_free++] = i - 1;
		s->nr_slots = nr;
	}
	slot = s->free_slots[--s->nr_free];
	s->slots[slot] = c;
	c->id = (uint64_t)++s->slot_gen[slot] << QS_SLOT_BITS | slot;
	return 0;
}

struct qs_conn *qs_conn_find(struct qs_server *s, uint64_t id)
{
	uint32_t slot = id & (QS_MAX_SLOTS - 1);
	struct qs_conn *c;

	if (slot >= s->nr_slots)
		return NULL;
	c = s->slots[slot];
	return c && c->id == id ? c : NULL;
}

void qs_conn_mark_dirty(struct qs_server *s, struct qs_conn *c)
{
	if (c->dirty || c->state == QS_DEAD)
		return;
	c->dirty = true;
	c->dirty_next = s->dirty;
	s->dirty = c;
}

/* --- sending ------------------------------------------------------------- */

static void send_datagram(struct qs_server *s, struct qs_conn *c,
			  const ngtcp2_addr *to, const uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = sendto(s->fd, buf, len, MSG_DONTWAIT,
			   (const struct sockaddr *)to->addr, to->addrlen);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		/* A full socket buffer is a lost packet: ngtcp2 recovers. */
		s->n.send_errors++;
		return;
	}
	s->n.packets_tx++;
	s->n.bytes_tx += len;
	if (c)
		c->last_tx_ns = qs_now();
}

static void send_version_negotiation(struct qs_server *s,
				     const ngtcp2_version_cid *vc,
				     const struct sockaddr *remote,
				     socklen_t remotelen)
{
	const uint32_t versions[] = { NGTCP2_PROTO_VER_V1 };
	ngtcp2_addr to = { (ngtcp2_sockaddr *)remote, remotelen };
	uint8_t buf[NGTCP2_MAX_UDP_PAYLOAD_SIZE], unused;
	ngtcp2_ssize n;

	fill_random(&unused, 1);
	n = ngtcp2_pkt_write_version_negotiation(buf, sizeof(buf), unused,
						 vc->scid, vc->scidlen,
						 vc->dcid, vc->dcidlen,
						 versions, 1);
	if (n > 0)
		send_datagram(s, NULL, &to, buf, (size_t)n);
}

/*
 * Writes what ngtcp2 and nghttp3 have to send, at most a send quantum's
 * worth of packets; a connection stopped there is written again at the
 * next pass (c->write_more), so that one connection cannot hold the loop.
 */
void qs_conn_write(struct qs_server *s, struct qs_conn *c)
{
	uint8_t buf[QS_MAX_UDP];
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	uint64_t now = qs_now();
	size_t max_pkts, npkts = 0;

	c->write_more = false;
	if (c->state != QS_OPEN)
		return;
	max_pkts = ngtcp2_conn_get_send_quantum(c->conn) / QS_MAX_UDP;
	if (max_pkts < 1)
		max_pkts = 1;
	if (max_pkts > 64)
		max_pkts = 64;
	ngtcp2_path_storage_zero(&ps);
	for (;;) {
		int64_t stream_id = -1;
		int fin = 0;
		nghttp3_vec vec[16];
		nghttp3_ssize nvec = 0;
		ngtcp2_ssize nwrite, ndatalen = -1;
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;

		if (c->h3 && ngtcp2_conn_get_max_data_left(c->conn)) {
			nvec = nghttp3_conn_writev_stream(c->h3, &stream_id, &fin,
							  vec, 16);
			if (nvec < 0) {
				ngtcp2_connection_close_error_set_application_error(
					&c->ccerr,
					nghttp3_err_infer_quic_app_error_code((int)nvec),
					NULL, 0);
				c->ccerr_set = true;
				qs_conn_start_closing(s, c);
				return;
			}
		}
		if (fin)
			flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		nwrite = ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, buf,
						   sizeof(buf), &ndatalen, flags,
						   stream_id,
						   (const ngtcp2_vec *)vec,
						   (size_t)nvec, now);
		if (nwrite < 0) {
			switch (nwrite) {
			case NGTCP2_ERR_STREAM_DATA_BLOCKED:
				nghttp3_conn_block_stream(c->h3, stream_id);
				continue;
			case NGTCP2_ERR_STREAM_SHUT_WR:
				nghttp3_conn_shutdown_stream_write(c->h3, stream_id);
				continue;
			case NGTCP2_ERR_WRITE_MORE:
				if (nghttp3_conn_add_write_offset(c->h3, stream_id,
								  (size_t)ndatalen))
					break;
				continue;
			}
			if (!c->ccerr_set) {
				ngtcp2_connection_close_error_set_transport_error_liberr(
					&c->ccerr, (int)nwrite, NULL, 0);
				c->ccerr_set = true;
			}
			qs_conn_start_closing(s, c);
			return;
		}
		if (ndatalen >= 0 &&
		    nghttp3_conn_add_write_offset(c->h3, stream_id,
						  (size_t)ndatalen)) {
			ngtcp2_connection_close_error_set_application_error(
				&c->ccerr, NGHTTP3_H3_INTERNAL_ERROR, NULL, 0);
			c->ccerr_set = true;
			qs_conn_start_closing(s, c);
			return;
		}
		if (nwrite == 0)
			break;	/* nothing more, or congestion limited */
		send_datagram(s, c, &ps.path.remote, buf, (size_t)nwrite);
		if (++npkts == max_pkts) {
			c->write_more = true;
			break;
		}
	}
	ngtcp2_conn_update_pkt_tx_time(c->conn, now);
}

/* --- the end of a connection --------------------------------------------- */

/*
 * The closing and draining periods last three PTOs (RFC 9000, 10.2), on
 * the connection's second timer.
 */
static void start_period(struct qs_server *s, struct qs_conn *c,
			 enum qs_conn_state state)
{
	c->state = state;
	c->close_deadline = qs_now() + 3 * ngtcp2_conn_get_pto(c->conn);
	qs_timer_set(s, c, QS_TIMER_EXPIRY, QS_NONE);
	qs_timer_set(s, c, QS_TIMER_CLOSE, c->close_deadline);
	qs_conn_mark_dirty(s, c);
}

void qs_conn_start_closing(struct qs_server *s, struct qs_conn *c)
{
	ngtcp2_path_storage ps;
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n;

	if (c->state != QS_OPEN)
		return;
	if (ngtcp2_conn_is_in_draining_period(c->conn)) {
		start_period(s, c, QS_DRAINING);
		return;
	}
	if (!c->ccerr_set)
		ngtcp2_connection_close_error_set_transport_error_liberr(
			&c->ccerr, NGTCP2_ERR_INTERNAL, NULL, 0);
	c->close_pkt = malloc(QS_MAX_UDP);
	if (!c->close_pkt) {
		qs_conn_delete(s, c);
		return;
	}
	ngtcp2_path_storage_zero(&ps);
	n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi,
					       c->close_pkt, QS_MAX_UDP,
					       &c->ccerr, qs_now());
	if (n <= 0) {
		/* Nothing to close it with (no keys yet): forget it. */
		s->n.closes_dropped++;
		qs_conn_delete(s, c);
		return;
	}
	c->close_pktlen = (size_t)n;
	send_datagram(s, c, &ps.path.remote, c->close_pkt, c->close_pktlen);
	start_period(s, c, QS_CLOSING);
}

void qs_conn_on_close_timer(struct qs_server *s, struct qs_conn *c)
{
	if (c->state == QS_CLOSING)
		s->n.closes_closing++;
	else
		s->n.closes_draining++;
	qs_conn_delete(s, c);
}

/*
 * ngtcp2 closes an idle connection once max(idle timeout, 3 PTO) has passed
 * since the last packet received and processed, or the first ack-eliciting
 * packet sent after it. For an established connection every datagram that
 * reaches it is such a packet (a handshake's may be one ngtcp2 cannot
 * decrypt, and restart nothing), so the close comes no earlier than the
 * idle timeout after the last datagram received, and no later than the
 * period after the last datagram either way, plus the timer's lateness:
 * main.c reports both margins over the established connections.
 */
static void on_idle_close(struct qs_server *s, struct qs_conn *c, uint64_t now)
{
	uint64_t timeout = s->cfg.idle_timeout_ns, period = timeout;
	uint64_t pto3 = 3 * ngtcp2_conn_get_pto(c->conn);
	uint64_t last = c->last_rx_ns > c->last_tx_ns ? c->last_rx_ns :
							c->last_tx_ns;
	int64_t margin = (int64_t)(now - c->last_rx_ns) - (int64_t)timeout;
	int64_t late;

	qs_conn_delete(s, c);
	if (!ngtcp2_conn_get_handshake_completed(c->conn)) {
		s->n.closes_idle_handshake++;
		return;
	}
	if (pto3 > period)
		period = pto3;
	late = (int64_t)(now - last) - (int64_t)period;
	if (!s->n.closes_idle || margin < s->n.idle_min_margin_ns)
		s->n.idle_min_margin_ns = margin;
	if (!s->n.closes_idle || late > s->n.idle_max_late_ns)
		s->n.idle_max_late_ns = late;
	if (period > s->n.idle_period_max_ns)
		s->n.idle_period_max_ns = period;
	s->n.closes_idle++;
}

void qs_conn_on_expiry(struct qs_server *s, struct qs_conn *c)
{
	ngtcp2_conn_stat st;
	uint64_t now = qs_now();
	size_t ptos;
	int rv;

	ngtcp2_conn_get_conn_stat(c->conn, &st);
	if (st.loss_detection_timer <= now)
		s->n.timer_expiries_loss++;
	ptos = st.pto_count;
	rv = ngtcp2_conn_handle_expiry(c->conn, now);
	if (rv == NGTCP2_ERR_IDLE_CLOSE) {
		on_idle_close(s, c, now);
		return;
	}
	if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		s->n.closes_handshake_timeout++;
		qs_conn_delete(s, c);
		return;
	}
	if (rv) {
		ngtcp2_connection_close_error_set_transport_error_liberr(
			&c->ccerr, rv, NULL, 0);
		c->ccerr_set = true;
		qs_conn_start_closing(s, c);
		return;
	}
	ngtcp2_conn_get_conn_stat(c->conn, &st);
	if (st.pto_count > ptos)
		s->n.timer_ptos++;
	qs_conn_mark_dirty(s, c);
}

static void stream_free(struct qs_stream *st)
{
	if (st->body)
		munmap(st->body, st->bodylen);
	free(st);
}

void qs_conn_delete(struct qs_server *s, struct qs_conn *c)
{
	uint32_t slot = c->id & (QS_MAX_SLOTS - 1);

	if (c->state == QS_DEAD)
		return;
	c->state = QS_DEAD;
	qs_timers_forget(s, c);
	while (c->cids) {
		struct qs_cid *e = c->cids;

		c->cids = e->conn_next;
		cid_unlink(s, e);
		free(e);
	}
	s->slots[slot] = NULL;
	s->free_slots[s->nr_free++] = slot;
	s->n.connections_open--;
	c->dead_next = s->dead;
	s->dead = c;
}

void qs_conn_free_dead(struct qs_server *s)
{
	struct qs_conn **pp = &s->dirty;

	/* Dirty again after it died in this pass: off the next pass' list. */
	while (*pp) {
		if ((*pp)->state == QS_DEAD)
			*pp = (*pp)->dirty_next;
		else
			pp = &(*pp)->dirty_next;
	}
	while (s->dead) {
		struct qs_conn *c = s->dead;

		s->dead = c->dead_next;
		while (c->streams) {
			struct qs_stream *st = c->streams;

			c->streams = st->next;
			stream_free(st);
		}
		nghttp3_conn_del(c->h3);
		ngtcp2_conn_del(c->conn);
		if (c->tls)
			gnutls_deinit(c->tls);
		free(c->close_pkt);
		free(c);
	}
}

void qs_conn_close_all(struct qs_server *s)
{
	for (uint32_t i = 0; i < s->nr_slots; i++) {
		if (s->slots[i]) {
			s->n.closes_shutdown++;
			qs_conn_delete(s, s->slots[i]);
		}
	}
}

/* --- HTTP/3 -------------------------------------------------------------- */

static void h3_fail(struct qs_conn *c, int liberr)
{
	ngtcp2_connection_close_error_set_application_error(
		&c->ccerr, nghttp3_err_infer_quic_app_error_code(liberr), NULL, 0);
	c->ccerr_set = true;
}

static nghttp3_ssize h3_read_body(nghttp3_conn *h3, int64_t stream_id,
				  nghttp3_vec *vec, size_t veccnt,
				  uint32_t *pflags, void *conn_user_data,
				  void *stream_user_data)
{
	struct qs_stream *st = stream_user_data;

	(void)h3; (void)stream_id; (void)veccnt; (void)conn_user_data;
	/* The whole file at once: it stays mapped until the stream closes. */
	vec[0].base = st->body;
	vec[0].len = st->bodylen;
	*pflags |= NGHTTP3_DATA_FLAG_EOF;
	return 1;
}

/*
 * Opens @path under the served directory: only regular files, no "..";
 * *@size is the file's. Returns the descriptor or -1.
 */
static int open_file(struct qs_server *s, const char *path, size_t *size)
{
	const char *p = path + 1;
	size_t len = strlen(path);
	struct stat sb;
	int fd;

	if (path[0] != '/' || !*p || strstr(path, "/../") ||
	    (len >= 3 && !strcmp(path + len - 3, "/..")))
		return -1;
	fd = openat(s->dirfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	*size = (size_t)sb.st_size;
	return fd;
}

static int respond(struct qs_server *s, struct qs_conn *c, struct qs_stream *st)
{
	static const nghttp3_data_reader reader = { h3_read_body };
	char status[4], length[24];
	bool head = !strcmp(st->method, "HEAD");
	int fd = -1;
	char *q;

	s->n.requests++;
	q = strchr(st->path, '?');
	if (q)
		*q = '\0';
	if (!head && strcmp(st->method, "GET")) {
		st->status = 405;
	} else if (st->path_too_long ||
		   (fd = open_file(s, st->path, &st->bodylen)) < 0) {
		st->status = 404;
	} else {
		st->status = 200;
		if (st->bodylen && !head) {
			st->body = mmap(NULL, st->bodylen, PROT_READ, MAP_PRIVATE,
					fd, 0);
			if (st->body == MAP_FAILED) {
				st->body = NULL;
				st->status = 500;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	if (st->status == 200)
		s->n.responses_200++;
	else if (st->status == 404)
		s->n.responses_404++;
	else
		s->n.responses_other++;
	if (st->status != 200)
		st->bodylen = 0;
	if (st->body)
		s->n.bytes_body += st->bodylen;
	snprintf(status, sizeof(status), "%u", st->status);
	snprintf(length, sizeof(length), "%zu", st->bodylen);

	const nghttp3_nv nva[] = {
#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), \
		   NGHTTP3_NV_FLAG_NONE }
		NV(":status", status),
		NV("server", "twheel-quic-server"),
		NV("content-type", "application/octet-stream"),
		NV("content-length", length),
#undef NV
	};
	return nghttp3_conn_submit_response(c->h3, st->id, nva,
					    sizeof(nva) / sizeof(nva[0]),
					    st->body ? &reader : NULL);
}

static int h3_begin_headers(nghttp3_conn *h3, int64_t stream_id,
			    void *conn_user_data, void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;
	struct qs_stream *st;

	(void)stream_user_data;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	st->id = stream_id;
	st->next = c->streams;
	c->streams = st;
	return nghttp3_conn_set_stream_user_data(h3, stream_id, st);
}

static void copy_field(char *dst, size_t size, nghttp3_rcbuf *value,
		       bool *too_long)
{
	nghttp3_vec v = nghttp3_rcbuf_get_buf(value);

	if (v.len >= size) {
		if (too_long)
			*too_long = true;
		v.len = size - 1;
	}
	memcpy(dst, v.base, v.len);
	dst[v.len] = '\0';
}

static int h3_recv_header(nghttp3_conn *h3, int64_t stream_id, int32_t token,
			  nghttp3_rcbuf *name, nghttp3_rcbuf *value,
			  uint8_t flags, void *conn_user_data,
			  void *stream_user_data)
{
	struct qs_stream *st = stream_user_data;

	(void)h3; (void)stream_id; (void)name; (void)flags; (void)conn_user_data;
	if (!st)
		return 0;
	if (token == NGHTTP3_QPACK_TOKEN__PATH)
		copy_field(st->path, sizeof(st->path), value, &st->path_too_long);
	else if (token == NGHTTP3_QPACK_TOKEN__METHOD)
		copy_field(st->method, sizeof(st->method), value, NULL);
	return 0;
}

static int h3_end_stream(nghttp3_conn *h3, int64_t stream_id,
			 void *conn_user_data, void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;

	(void)h3; (void)stream_id;
	if (!stream_user_data)
		return 0;
	if (respond(c->s, c, stream_user_data))
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	return 0;
}

static int h3_acked_stream_data(nghttp3_conn *h3, int64_t stream_id,
				uint64_t datalen, void *conn_user_data,
				void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;
	struct qs_stream *st = stream_user_data;

	(void)h3; (void)stream_id;
	if (st)
		st->acked += datalen;
	c->s->n.bytes_acked += datalen;
	return 0;
}

static int h3_stream_close(nghttp3_conn *h3, int64_t stream_id,
			   uint64_t app_error_code, void *conn_user_data,
			   void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;
	struct qs_stream *st = stream_user_data, **pp;

	(void)h3;
	if (!(stream_id & 0x2))	/* a client's bidirectional stream */
		ngtcp2_conn_extend_max_streams_bidi(c->conn, 1);
	if (!st)
		return 0;
	if (st->status == 200 && app_error_code == NGHTTP3_H3_NO_ERROR &&
	    st->acked == st->bodylen)
		c->s->n.responses_acked++;
	for (pp = &c->streams; *pp != st; pp = &(*pp)->next)
		;
	*pp = st->next;
	stream_free(st);
	return 0;
}

static int h3_stop_sending(nghttp3_conn *h3, int64_t stream_id,
			   uint64_t app_error_code, void *conn_user_data,
			   void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;

	(void)h3; (void)stream_user_data;
	if (ngtcp2_conn_shutdown_stream_read(c->conn, stream_id, app_error_code))
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	return 0;
}

static int h3_reset_stream(nghttp3_conn *h3, int64_t stream_id,
			   uint64_t app_error_code, void *conn_user_data,
			   void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;

	(void)h3; (void)stream_user_data;
	if (ngtcp2_conn_shutdown_stream_write(c->conn, stream_id, app_error_code))
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	return 0;
}

/* Request bodies are not wanted: give their flow control credit back. */
static int h3_consume(nghttp3_conn *h3, int64_t stream_id, size_t n,
		      void *conn_user_data, void *stream_user_data)
{
	struct qs_conn *c = conn_user_data;

	(void)h3; (void)stream_user_data;
	ngtcp2_conn_extend_max_stream_offset(c->conn, stream_id, n);
	ngtcp2_conn_extend_max_offset(c->conn, n);
	return 0;
}

static int h3_recv_data(nghttp3_conn *h3, int64_t stream_id,
			const uint8_t *data, size_t datalen,
			void *conn_user_data, void *stream_user_data)
{
	(void)data;
	return h3_consume(h3, stream_id, datalen, conn_user_data,
			  stream_user_data);
}

/* HTTP/3 starts once the peer allows our three unidirectional streams. */
static int ensure_h3(struct qs_conn *c)
{
	static const nghttp3_callbacks callbacks = {
		.acked_stream_data = h3_acked_stream_data,
		.stream_close = h3_stream_close,
		.recv_data = h3_recv_data,
		.deferred_consume = h3_consume,
		.begin_headers = h3_begin_headers,
		.recv_header = h3_recv_header,
		.stop_sending = h3_stop_sending,
		.end_stream = h3_end_stream,
		.reset_stream = h3_reset_stream,
	};
	nghttp3_settings settings;
	int64_t ctrl, qenc, qdec;

	if (c->h3)
		return 0;
	if (ngtcp2_conn_get_max_local_streams_uni(c->conn) < 3)
		return -1;
	nghttp3_settings_default(&settings);
	settings.qpack_max_dtable_capacity = 4096;
	settings.qpack_blocked_streams = 100;
	if (nghttp3_conn_server_new(&c->h3, &callbacks, &settings, NULL, c))
		return -1;
	nghttp3_conn_set_max_client_streams_bidi(c->h3, QS_MAX_STREAMS_BIDI);
	if (ngtcp2_conn_open_uni_stream(c->conn, &ctrl, NULL) ||
	    nghttp3_conn_bind_control_stream(c->h3, ctrl) ||
	    ngtcp2_conn_open_uni_stream(c->conn, &qenc, NULL) ||
	    ngtcp2_conn_open_uni_stream(c->conn, &qdec, NULL) ||
	    nghttp3_conn_bind_qpack_streams(c->h3, qenc, qdec))
		return -1;
	return 0;
}

/* --- ngtcp2's callbacks -------------------------------------------------- */

static int on_handshake_completed(ngtcp2_conn *conn, void *user_data)
{
	struct qs_conn *c = user_data;

	(void)conn;
	c->s->n.handshakes++;
	qs_record(&c->s->hs, &c->s->nr_hs, &c->s->cap_hs,
		  qs_now() - c->created_ns);
	if (c->s->cfg.print_handshakes)
		printf("handshake %llu\n", (unsigned long long)c->s->n.handshakes);
	return ensure_h3(c) ? NGTCP2_ERR_CALLBACK_FAILURE : 0;
}

static int on_recv_stream_data(ngtcp2_conn *conn, uint32_t flags,
			       int64_t stream_id, uint64_t offset,
			       const uint8_t *data, size_t datalen,
			       void *user_data, void *stream_user_data)
{
	struct qs_conn *c = user_data;
	nghttp3_ssize n;

	(void)offset; (void)stream_user_data;
	if (ensure_h3(c))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	n = nghttp3_conn_read_stream(c->h3, stream_id, data, datalen,
				     flags & NGTCP2_STREAM_DATA_FLAG_FIN);
	if (n < 0) {
		h3_fail(c, (int)n);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	ngtcp2_conn_extend_max_stream_offset(conn, stream_id, (uint64_t)n);
	ngtcp2_conn_extend_max_offset(conn, (uint64_t)n);
	return 0;
}

static int on_acked_stream_data_offset(ngtcp2_conn *conn, int64_t stream_id,
				       uint64_t offset, uint64_t datalen,
				       void *user_data, void *stream_user_data)
{
	struct qs_conn *c = user_data;
	int rv;

	(void)conn; (void)offset; (void)stream_user_data;
	if (!c->h3)
		return 0;
	rv = nghttp3_conn_add_ack_offset(c->h3, stream_id, datalen);
	if (rv) {
		h3_fail(c, rv);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_close(ngtcp2_conn *conn, uint32_t flags,
			   int64_t stream_id, uint64_t app_error_code,
			   void *user_data, void *stream_user_data)
{
	struct qs_conn *c = user_data;
	int rv;

	(void)stream_user_data;
	if (!c->h3)
		return 0;
	if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
		app_error_code = NGHTTP3_H3_NO_ERROR;
	rv = nghttp3_conn_close_stream(c->h3, stream_id, app_error_code);
	if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
		if (!(stream_id & 0x2))
			ngtcp2_conn_extend_max_streams_bidi(conn, 1);
	} else if (rv) {
		h3_fail(c, rv);
		return NGTCP2_ERR_CALLBACK_FAILURE;
	}
	return 0;
}

static int on_stream_reset(ngtcp2_conn *conn, int64_t stream_id,
			   uint64_t final_size, uint64_t app_error_code,
			   void *user_data, void *stream_user_data)
{
	struct qs_conn *c = user_data;

	(void)conn; (void)final_size; (void)app_error_code; (void)stream_user_data;
	if (c->h3 && nghttp3_conn_shutdown_stream_read(c->h3, stream_id))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_stream_stop_sending(ngtcp2_conn *conn, int64_t stream_id,
				  uint64_t app_error_code, void *user_data,
				  void *stream_user_data)
{
	return on_stream_reset(conn, stream_id, 0, app_error_code, user_data,
			       stream_user_data);
}

static int on_extend_max_remote_streams_bidi(ngtcp2_conn *conn,
					     uint64_t max_streams,
					     void *user_data)
{
	struct qs_conn *c = user_data;

	(void)conn;
	if (c->h3)
		nghttp3_conn_set_max_client_streams_bidi(c->h3, max_streams);
	return 0;
}

static int on_extend_max_stream_data(ngtcp2_conn *conn, int64_t stream_id,
				     uint64_t max_data, void *user_data,
				     void *stream_user_data)
{
	struct qs_conn *c = user_data;

	(void)conn; (void)max_data; (void)stream_user_data;
	if (c->h3 && nghttp3_conn_unblock_stream(c->h3, stream_id))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static void on_rand(uint8_t *dest, size_t destlen, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	fill_random(dest, destlen);
}

static int on_get_new_connection_id(ngtcp2_conn *conn, ngtcp2_cid *cid,
				    uint8_t *token, size_t cidlen,
				    void *user_data)
{
	struct qs_conn *c = user_data;

	(void)conn;
	cid->datalen = cidlen;
	do
		fill_random(cid->data, cidlen);
	while (cid_find(c->s, cid->data, cidlen));
	if (ngtcp2_crypto_generate_stateless_reset_token(
		    token, c->s->reset_secret, QS_SECRETLEN, cid) ||
	    cid_add(c->s, cid, c))
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int on_remove_connection_id(ngtcp2_conn *conn, const ngtcp2_cid *cid,
				   void *user_data)
{
	struct qs_conn *c = user_data;

	(void)conn;
	cid_remove(c->s, c, cid);
	return 0;
}

static const ngtcp2_callbacks callbacks = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.handshake_completed = on_handshake_completed,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_stream_data = on_recv_stream_data,
	.acked_stream_data_offset = on_acked_stream_data_offset,
	.stream_close = on_stream_close,
	.rand = on_rand,
	.get_new_connection_id = on_get_new_connection_id,
	.remove_connection_id = on_remove_connection_id,
	.update_key = ngtcp2_crypto_update_key_cb,
	.stream_reset = on_stream_reset,
	.extend_max_remote_streams_bidi = on_extend_max_remote_streams_bidi,
	.extend_max_stream_data = on_extend_max_stream_data,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.stream_stop_sending = on_stream_stop_sending,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static void log_printf(void *user_data, const char *fmt, ...)
{
	va_list ap;

	(void)user_data;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- datagrams in -------------------------------------------------------- */

static struct qs_conn *conn_new(struct qs_server *s, const ngtcp2_pkt_hd *hd,
				const struct sockaddr *remote,
				socklen_t remotelen)
{
	ngtcp2_transport_params params;
	ngtcp2_settings settings;
	struct qs_conn *c;
	ngtcp2_cid scid;

	c = calloc(1, sizeof(*c));
	if (!c || slot_alloc(s, c)) {
		free(c);
		return NULL;
	}
	c->s = s;
	c->tfd = -1;
	c->tfd_deadline = QS_NONE;
	for (unsigned int k = 0; k < QS_NR_TIMERS; k++) {
		c->timers[k].deadline = QS_NONE;
		c->armed[k].deadline = QS_NONE;
	}
	c->created_ns = c->last_rx_ns = c->last_tx_ns = qs_now();
	ngtcp2_connection_close_error_default(&c->ccerr);
	s->n.connections++;
	s->n.connections_open++;
	if (s->n.connections_open > s->n.connections_max_open)
		s->n.connections_max_open = s->n.connections_open;
	s->seen_conns = true;

	scid.datalen = QS_CIDLEN;
	do
		fill_random(scid.data, QS_CIDLEN);
	while (cid_find(s, scid.data, QS_CIDLEN));

	ngtcp2_settings_default(&settings);
	settings.initial_ts = qs_now();
	settings.cc_algo = NGTCP2_CC_ALGO_CUBIC;
	settings.max_tx_udp_payload_size = QS_MAX_UDP;
	settings.no_pmtud = 1;
	settings.initial_rtt = s->cfg.initial_rtt_ns;
	if (s->cfg.handshake_timeout_ns)
		settings.handshake_timeout = s->cfg.handshake_timeout_ns;
	if (s->cfg.verbose)
		settings.log_printf = log_printf;

	ngtcp2_transport_params_default(&params);
	params.initial_max_stream_data_bidi_local = 256 * 1024;
	params.initial_max_stream_data_bidi_remote = 256 * 1024;
	params.initial_max_stream_data_uni = 256 * 1024;
	params.initial_max_data = 1024 * 1024;
	params.initial_max_streams_bidi = QS_MAX_STREAMS_BIDI;
	params.initial_max_streams_uni = 3;
	params.max_idle_timeout = s->cfg.idle_timeout_ns;
	params.active_connection_id_limit = 7;
	params.original_dcid = hd->dcid;
	params.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(
		    params.stateless_reset_token, s->reset_secret, QS_SECRETLEN,
		    &scid))
		goto fail;

	ngtcp2_path_storage_init(&c->ps, (ngtcp2_sockaddr *)&s->local,
				 s->locallen, (const ngtcp2_sockaddr *)remote,
				 remotelen, NULL);
	if (ngtcp2_conn_server_new(&c->conn, &hd->scid, &scid, &c->ps.path,
				   hd->version, &callbacks, &settings, &params,
				   NULL, c))
		goto fail;
	if (qs_tls_session(s, c) || cid_add(s, &scid, c) ||
	    cid_add(s, &hd->dcid, c) || qs_timers_conn_init(s, c))
		goto fail;
	return c;
fail:
	qs_conn_delete(s, c);
	return NULL;
}

void qs_on_datagram(struct qs_server *s, const struct sockaddr *remote,
		    socklen_t remotelen, const uint8_t *pkt, size_t len)
{
	ngtcp2_path path = {
		.local = { (ngtcp2_sockaddr *)&s->local, s->locallen },
		.remote = { (ngtcp2_sockaddr *)remote, remotelen },
	};
	ngtcp2_pkt_info pi = { 0 };
	ngtcp2_version_cid vc;
	struct qs_conn *c;
	int rv;

	s->n.packets_rx++;
	s->n.bytes_rx += len;
	rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, QS_CIDLEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		if (len >= NGTCP2_MAX_UDP_PAYLOAD_SIZE)
			send_version_negotiation(s, &vc, remote, remotelen);
		return;
	}
	if (rv) {
		s->n.packets_dropped++;
		return;
	}
	c = cid_find(s, vc.dcid, vc.dcidlen);
	if (!c) {
		ngtcp2_pkt_hd hd;

		if (ngtcp2_accept(&hd, pkt, len)) {
			s->n.packets_dropped++;
			return;
		}
		c = conn_new(s, &hd, remote, remotelen);
		if (!c) {
			s->n.packets_dropped++;
			return;
		}
	}
	if (c->state == QS_DRAINING)
		return;
	if (c->state == QS_CLOSING) {
		/* Answer with the close again, ever more sparingly. */
		c->close_rx++;
		if (!(c->close_rx & (c->close_rx - 1)))
			send_datagram(s, c, &c->ps.path.remote, c->close_pkt,
				      c->close_pktlen);
		return;
	}
	c->last_rx_ns = qs_now();
	rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, c->last_rx_ns);
	if (rv == 0) {
		qs_conn_mark_dirty(s, c);
		return;
	}
	switch (rv) {
	case NGTCP2_ERR_DRAINING:
		start_period(s, c, QS_DRAINING);
		return;
	case NGTCP2_ERR_RETRY:
	case NGTCP2_ERR_DROP_CONN:
		s->n.closes_dropped++;
		qs_conn_delete(s, c);
		return;
	case NGTCP2_ERR_CRYPTO:
		if (!c->ccerr_set)
			ngtcp2_connection_close_error_set_transport_error_tls_alert(
				&c->ccerr, ngtcp2_conn_get_tls_alert(c->conn),
				NULL, 0);
		c->ccerr_set = true;
		break;
	default:
		if (!c->ccerr_set)
			ngtcp2_connection_close_error_set_transport_error_liberr(
				&c->ccerr, rv, NULL, 0);
		c->ccerr_set = true;
		break;
	}
	qs_conn_start_closing(s, c);
}

int qs_conn_global_init(struct qs_server *s)
{
	fill_random(s->reset_secret, sizeof(s->reset_secret));
	return 0;
}

/* The tables, once every connection is freed. */
void qs_conn_global_fini(struct qs_server *s)
{
	free(s->slots);
	free(s->slot_gen);
	free(s->free_slots);
	free(s->cid_buckets);
}
