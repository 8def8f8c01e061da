/* SPDX-License-Identifier: MIT */
/*
 * quic-server: an HTTP/3 file server on ngtcp2 and nghttp3 whose
 * connection timers run on twheel, on one timerfd per connection, or on a
 * binary heap behind one timerfd (--timers=twheel|timerfd|heap).
 *
 * The files:
 *   main.c            options, the event loop, counters and reports
 *   conn.c            a QUIC connection: packets in and out, HTTP/3,
 *                     closing and draining, the tables that find it
 *   tls.c             GnuTLS: the certificate (made at start-up or read)
 *   timers.c          what every timer back-end shares: the armed state
 *                     of each connection, stale events, lateness
 *   timers-twheel.c   the back-ends
 *   timers-timerfd.c
 *   timers-heap.c
 *
 * Documentation/quic-server.rst describes the design.
 */
#ifndef QUIC_SERVER_H
#define QUIC_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <nghttp3/nghttp3.h>

#define QS_NONE		UINT64_MAX	/* no deadline: the timer is idle */
#define QS_CIDLEN	18		/* the connection ids we issue */
#define QS_MAX_UDP	1452		/* the largest datagram we send */
#define QS_SECRETLEN	32		/* the stateless reset secret */

/*
 * A connection's timers. EXPIRY is ngtcp2_conn_get_expiry(): loss
 * detection, ACK delay, idle and handshake timeouts, pacing, folded into
 * one deadline by ngtcp2. CLOSE ends the closing or draining period, after
 * which the connection is forgotten. A connection never has both armed:
 * EXPIRY is cancelled when the period starts.
 */
enum qs_timer_kind {
	QS_TIMER_EXPIRY,
	QS_TIMER_CLOSE,
	QS_NR_TIMERS,
};

/* Tags in the low bits of epoll_event.data.u64; the rest is a conn id. */
enum qs_tag {
	QS_TAG_SOCKET = 1,
	QS_TAG_SIGNAL,
	QS_TAG_TIMERS,		/* the back-end's one descriptor */
	QS_TAG_CONN_TIMER,	/* a connection's own timerfd */
};
#define QS_TAG_BITS	4
#define QS_TAG(u64)	((unsigned int)((u64) & ((1U << QS_TAG_BITS) - 1)))
#define QS_TAG_ID(u64)	((u64) >> QS_TAG_BITS)

/* A timer as the server wants it: its deadline, and the arming's token. */
struct qs_timer {
	uint64_t deadline;	/* CLOCK_MONOTONIC ns, or QS_NONE */
	uint64_t token;		/* unique per arming; 0 when idle */
};

enum qs_conn_state {
	QS_OPEN,
	QS_CLOSING,	/* we sent CONNECTION_CLOSE: resend it, then forget */
	QS_DRAINING,	/* the peer closed: say nothing, then forget */
	QS_DEAD,	/* out of every table; freed at the end of the loop pass */
};

struct qs_stream;
struct qs_cid;

struct qs_conn {
	uint64_t id;			/* generation << 20 | slot; twheel's conn_id */
	struct qs_server *s;
	enum qs_conn_state state;
	ngtcp2_conn *conn;
	nghttp3_conn *h3;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref conn_ref;
	ngtcp2_path_storage ps;
	struct qs_cid *cids;		/* the ids that lead here */
	struct qs_stream *streams;
	ngtcp2_connection_close_error ccerr;
	bool ccerr_set;
	uint8_t *close_pkt;		/* CONNECTION_CLOSE, resent while closing */
	size_t close_pktlen;
	unsigned int close_rx;		/* datagrams received while closing */
	uint64_t close_deadline;	/* end of the closing or draining period */

	uint64_t created_ns;
	uint64_t last_rx_ns, last_tx_ns;	/* for the idle timeout's check */

	struct qs_timer timers[QS_NR_TIMERS];	/* what the server wants */
	/* back-end state */
	struct qs_timer armed[QS_NR_TIMERS];	/* twheel: what the device has */
	uint32_t heap_pos[QS_NR_TIMERS];	/* heap: index + 1, 0 if out */
	int tfd;				/* timerfd: the connection's */
	uint64_t tfd_deadline;			/* timerfd: as programmed */

	bool dirty;			/* on the list to write and re-time */
	bool write_more;		/* stopped at the burst limit */
	struct qs_conn *dirty_next;
	struct qs_conn *dead_next;
};

/* The counters a run ends with (main.c prints them by name). */
struct qs_counters {
	uint64_t connections, connections_open, connections_max_open;
	uint64_t handshakes, requests, responses_200, responses_404,
		 responses_other;
	/*
	 * Responses whose whole body the client acknowledged before its
	 * connection ended (a client that closes at once, or loss that
	 * outlasts the idle timeout, leaves the last ones unacknowledged).
	 */
	uint64_t responses_acked;
	uint64_t bytes_body, bytes_acked;
	uint64_t packets_rx, packets_tx, bytes_rx, bytes_tx, packets_dropped,
		 send_errors;
	/* closes_idle: established connections; _handshake: before that */
	uint64_t closes_idle, closes_idle_handshake, closes_draining, closes_closing,
		 closes_handshake_timeout, closes_dropped, closes_shutdown;
	/* idle closes: smallest (close - last receipt - idle timeout) */
	int64_t idle_min_margin_ns;
	/* ... and largest (close - last packet either way - period) */
	int64_t idle_max_late_ns;
	uint64_t idle_period_max_ns;	/* the longest period, max(timeout, 3 PTO) */

	uint64_t timer_arms, timer_cancels;
	uint64_t timer_expiries;	/* events acted on, every kind */
	uint64_t timer_expiries_loss;	/* ... of them with loss detection due */
	uint64_t timer_ptos;		/* ... of them that sent a probe */
	uint64_t timer_expiries_close;	/* CLOSE events (end of a period) */
	uint64_t timer_stale_gone;	/* event of a connection gone */
	uint64_t timer_stale_token;	/* event of a superseded arming */
	uint64_t timer_stale_not_due;	/* ngtcp2's expiry moved later */
	uint64_t timer_early;		/* came before its deadline: a bug */
	uint64_t timer_early_device;	/* twheel: fired_ns < deadline_ns */
	uint64_t timer_syscalls;	/* system calls made for timers only */
	/*
	 * Wall time in the back-end's code (conn_init, conn_fini, update,
	 * flush, ready), less the handling of the timers that fired.
	 */
	uint64_t timer_ns;
	uint64_t fired_ns;		/* ... the handling left out of it */
	uint64_t timer_wakeups;		/* loop passes a timer woke */
	uint64_t epoll_waits;
};

struct qs_server;

/*
 * A timer back-end. update() makes the back-end hold what c->timers says
 * (called once per connection per loop pass, after the writes); flush()
 * sends what update() queued; ready() handles the readiness of a
 * descriptor tagged QS_TAG_TIMERS or QS_TAG_CONN_TIMER, calling
 * qs_timer_fired() for every timer due. conn_init()/conn_fini() bracket a
 * connection's life; conn_fini() cancels whatever it still holds.
 */
struct qs_timer_ops {
	const char *name;
	int (*init)(struct qs_server *s);
	void (*fini)(struct qs_server *s);
	int (*conn_init)(struct qs_server *s, struct qs_conn *c);
	void (*conn_fini)(struct qs_server *s, struct qs_conn *c);
	int (*update)(struct qs_server *s, struct qs_conn *c);
	int (*flush)(struct qs_server *s);
	int (*ready)(struct qs_server *s, uint64_t data);
	/* "name value" lines about what the back-end holds now. */
	void (*report)(struct qs_server *s, FILE *f, const char *prefix);
	/* At exit: its own counts agree with the kernel's. */
	int (*check)(struct qs_server *s, FILE *f);
};

extern const struct qs_timer_ops qs_timers_twheel, qs_timers_timerfd,
	qs_timers_heap;

struct qs_config {
	const char *dir;
	const char *cert_file, *key_file;
	int cpu;			/* -1, or the CPU to run on */
	const struct qs_timer_ops *timers;
	uint64_t idle_timeout_ns;
	uint64_t handshake_timeout_ns;
	uint64_t initial_rtt_ns;
	bool verbose;
	bool print_handshakes;		/* "handshake N" on stdout for each */
};

struct qs_server {
	struct qs_config cfg;
	int ep;			/* epoll */
	int fd;			/* the UDP socket */
	int dirfd;		/* the directory served */
	struct sockaddr_storage local;
	socklen_t locallen;
	gnutls_certificate_credentials_t cred;
	uint8_t reset_secret[QS_SECRETLEN];

	/* connections by id: a slot array with generations */
	struct qs_conn **slots;
	uint32_t *slot_gen;
	uint32_t nr_slots, *free_slots, nr_free;

	/* connections by connection id: chained hash */
	struct qs_cid **cid_buckets;
	uint32_t cid_mask, nr_cids;

	struct qs_conn *dirty;	/* to write and re-time this pass */
	struct qs_conn *dead;	/* to free at the end of this pass */
	bool write_more;	/* some connection stopped at the burst limit */
	bool seen_conns;	/* a connection opened since the last quiet report */
	uint64_t next_token;

	struct qs_counters n;
	/* lateness of handled expiries (ns), and for twheel the device's own */
	uint64_t *late, *late_dev;
	size_t nr_late, nr_late_dev, cap_late, cap_late_dev;
	/* how long handshakes took, from the first Initial (ns) */
	uint64_t *hs;
	size_t nr_hs, cap_hs;

	void *timers_priv;	/* the back-end's own state */
};

/* main.c */
uint64_t qs_now(void);
void qs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void qs_record(uint64_t **arr, size_t *nr, size_t *cap, uint64_t v);

/* conn.c */
int qs_conn_global_init(struct qs_server *s);
void qs_conn_global_fini(struct qs_server *s);
void qs_on_datagram(struct qs_server *s, const struct sockaddr *remote,
		    socklen_t remotelen, const uint8_t *pkt, size_t len);
struct qs_conn *qs_conn_find(struct qs_server *s, uint64_t id);
void qs_conn_mark_dirty(struct qs_server *s, struct qs_conn *c);
void qs_conn_write(struct qs_server *s, struct qs_conn *c);
void qs_conn_on_expiry(struct qs_server *s, struct qs_conn *c);
void qs_conn_start_closing(struct qs_server *s, struct qs_conn *c);
void qs_conn_on_close_timer(struct qs_server *s, struct qs_conn *c);
void qs_conn_delete(struct qs_server *s, struct qs_conn *c);
void qs_conn_free_dead(struct qs_server *s);
void qs_conn_close_all(struct qs_server *s);

/* tls.c */
int qs_tls_init(struct qs_server *s);
int qs_tls_session(struct qs_server *s, struct qs_conn *c);

/* timers.c: the back-end's calls, timed into n.timer_ns */
int qs_timers_conn_init(struct qs_server *s, struct qs_conn *c);
int qs_timers_flush(struct qs_server *s);
int qs_timers_ready(struct qs_server *s, uint64_t data);
void qs_timer_set(struct qs_server *s, struct qs_conn *c, unsigned int kind,
		  uint64_t deadline);
void qs_timers_retime(struct qs_server *s, struct qs_conn *c);
void qs_timers_forget(struct qs_server *s, struct qs_conn *c);
void qs_timer_fired(struct qs_server *s, uint64_t conn_id, unsigned int kind,
		    uint64_t token);

#endif /* QUIC_SERVER_H */
