// SPDX-License-Identifier: MIT
/*
 * What the three timer back-ends share.
 *
 * A connection's wanted timers are c->timers[]: a deadline and a token per
 * kind. They change in two places only: at the end of a loop pass, when
 * qs_timers_retime() takes ngtcp2's expiry (or the end of the closing
 * period) of each connection that had packets in or out, and when a timer
 * fires or the connection starts closing. Each change that arms gets a new
 * token, unique in the server. The back-end then makes its own state
 * match (update(), flush()), so that however many packets a connection
 * had in a pass, its timers change at most once per pass, and not at all
 * when ngtcp2's deadline stayed where it was.
 *
 * An event is acted on only if it is still wanted: its connection is
 * there, its token is the kind's current one, and for EXPIRY ngtcp2 agrees
 * that the deadline has passed. Anything else is a stale event of an
 * arming since superseded (or of a connection since gone): it is counted
 * and dropped. twheel guarantees that no event of an arming is read after
 * the call that replaced or cancelled it returned; the tokens catch what
 * it cannot see, the events read before, in the same pass.
 */
#include <stdlib.h>

#include "quic-server.h"

void qs_timer_set(struct qs_server *s, struct qs_conn *c, unsigned int kind,
		  uint64_t deadline)
{
	struct qs_timer *t = &c->timers[kind];

	if (t->deadline == deadline)
		return;
	if (deadline == QS_NONE) {
		s->n.timer_cancels++;
		t->token = 0;
	} else {
		s->n.timer_arms++;
		t->token = ++s->next_token;
	}
	t->deadline = deadline;
}

/* At the end of a pass, after the writes: what ngtcp2 wants now. */
void qs_timers_retime(struct qs_server *s, struct qs_conn *c)
{
	uint64_t expiry = QS_NONE, close = QS_NONE;

	if (c->state == QS_OPEN)
		expiry = ngtcp2_conn_get_expiry(c->conn);
	else if (c->state == QS_CLOSING || c->state == QS_DRAINING)
		close = c->close_deadline;
	uint64_t t0;
	int ret;

	qs_timer_set(s, c, QS_TIMER_EXPIRY, expiry);
	qs_timer_set(s, c, QS_TIMER_CLOSE, close);
	t0 = qs_now();
	ret = s->cfg.timers->update(s, c);
	s->n.timer_ns += qs_now() - t0;
	if (ret < 0)
		exit(1);
}

/* The connection goes: whatever is armed is cancelled with it. */
void qs_timers_forget(struct qs_server *s, struct qs_conn *c)
{
	uint64_t t0;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++)
		qs_timer_set(s, c, k, QS_NONE);
	t0 = qs_now();
	s->cfg.timers->conn_fini(s, c);
	s->n.timer_ns += qs_now() - t0;
}

int qs_timers_conn_init(struct qs_server *s, struct qs_conn *c)
{
	uint64_t t0 = qs_now();
	int ret = s->cfg.timers->conn_init(s, c);

	s->n.timer_ns += qs_now() - t0;
	return ret;
}

int qs_timers_flush(struct qs_server *s)
{
	uint64_t t0 = qs_now();
	int ret = s->cfg.timers->flush(s);

	s->n.timer_ns += qs_now() - t0;
	return ret;
}

/* The handling of what fired is the server's work, not the back-end's. */
int qs_timers_ready(struct qs_server *s, uint64_t data)
{
	uint64_t t0 = qs_now(), fired = s->n.fired_ns;
	int ret = s->cfg.timers->ready(s, data);

	s->n.timer_ns += qs_now() - t0 - (s->n.fired_ns - fired);
	return ret;
}

static void timer_fired(struct qs_server *s, uint64_t conn_id,
			unsigned int kind, uint64_t token, uint64_t now)
{
	struct qs_conn *c = qs_conn_find(s, conn_id);
	uint64_t deadline;
	struct qs_timer *t;

	if (!c) {
		s->n.timer_stale_gone++;
		return;
	}
	if (kind >= QS_NR_TIMERS) {
		s->n.timer_stale_token++;
		return;
	}
	t = &c->timers[kind];
	if (t->deadline == QS_NONE || t->token != token) {
		s->n.timer_stale_token++;
		return;
	}
	deadline = t->deadline;
	/* It fired: the back-end holds it no more. */
	t->deadline = QS_NONE;
	t->token = 0;
	qs_conn_mark_dirty(s, c);
	if (now < deadline) {
		/* No back-end may do this; count it and re-arm. */
		s->n.timer_early++;
		return;
	}
	if (kind == QS_TIMER_EXPIRY && ngtcp2_conn_get_expiry(c->conn) > now) {
		/* Packets this pass moved it; the end of the pass re-arms. */
		s->n.timer_stale_not_due++;
		return;
	}
	s->n.timer_expiries++;
	qs_record(&s->late, &s->nr_late, &s->cap_late, now - deadline);
	if (kind == QS_TIMER_EXPIRY) {
		qs_conn_on_expiry(s, c);
	} else {
		s->n.timer_expiries_close++;
		qs_conn_on_close_timer(s, c);
	}
}

void qs_timer_fired(struct qs_server *s, uint64_t conn_id, unsigned int kind,
		    uint64_t token)
{
	uint64_t now = qs_now();

	timer_fired(s, conn_id, kind, token, now);
	s->n.fired_ns += qs_now() - now;
}
