// SPDX-License-Identifier: MIT
/*
 * --timers=timerfd: one timerfd per connection, in the server's epoll set.
 *
 * A connection never has EXPIRY and CLOSE armed at once, and even if it
 * had, the earlier of the two is the one to wake up for: the timerfd is
 * programmed (TFD_TIMER_ABSTIME) for the earliest of the connection's
 * deadlines, and only when that changes. When it fires, every kind whose
 * deadline has passed is handed on. A read that finds nothing (the timer
 * was reprogrammed after epoll reported it) is a stale event.
 *
 * Its cost is the one DESIGN.md names: a descriptor and an hrtimer per
 * connection, a timerfd_create(), epoll_ctl() and close() per connection,
 * and a timerfd_settime() per change, each counted here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "quic-server.h"

struct tfd_state {
	uint64_t open, armed;	/* timerfds open, and armed, now */
};

static int tfd_init(struct qs_server *s)
{
	s->timers_priv = calloc(1, sizeof(struct tfd_state));
	return s->timers_priv ? 0 : -1;
}

static void tfd_fini(struct qs_server *s)
{
	free(s->timers_priv);
	s->timers_priv = NULL;
}

static int tfd_conn_init(struct qs_server *s, struct qs_conn *c)
{
	struct tfd_state *t = s->timers_priv;
	struct epoll_event ee = { .events = EPOLLIN };

	s->n.timer_syscalls++;
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->tfd < 0) {
		qs_warn("timerfd_create: %s", strerror(errno));
		return -1;
	}
	t->open++;
	ee.data.u64 = c->id << QS_TAG_BITS | QS_TAG_CONN_TIMER;
	s->n.timer_syscalls++;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, c->tfd, &ee)) {
		qs_warn("timerfd: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void tfd_conn_fini(struct qs_server *s, struct qs_conn *c)
{
	struct tfd_state *t = s->timers_priv;

	if (c->tfd < 0)
		return;
	/* Closing it disarms it and takes it out of the epoll set. */
	s->n.timer_syscalls++;
	close(c->tfd);
	c->tfd = -1;
	t->open--;
	if (c->tfd_deadline != QS_NONE)
		t->armed--;
	c->tfd_deadline = QS_NONE;
}

static int tfd_update(struct qs_server *s, struct qs_conn *c)
{
	struct tfd_state *t = s->timers_priv;
	struct itimerspec its = { 0 };
	uint64_t first = QS_NONE;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++)
		if (c->timers[k].deadline < first)
			first = c->timers[k].deadline;
	if (first == c->tfd_deadline)
		return 0;
	if (first != QS_NONE) {
		its.it_value.tv_sec = (time_t)(first / 1000000000);
		its.it_value.tv_nsec = (long)(first % 1000000000);
		if (!first)
			its.it_value.tv_nsec = 1;	/* 0 would disarm */
	}
	s->n.timer_syscalls++;
	if (timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		qs_warn("timerfd_settime: %s", strerror(errno));
		return -1;
	}
	t->armed += (first != QS_NONE) - (c->tfd_deadline != QS_NONE);
	c->tfd_deadline = first;
	return 0;
}

static int tfd_flush(struct qs_server *s)
{
	(void)s;
	return 0;
}

static int tfd_ready(struct qs_server *s, uint64_t data)
{
	struct tfd_state *t = s->timers_priv;
	struct qs_conn *c = qs_conn_find(s, QS_TAG_ID(data));
	uint64_t expirations, now;
	bool due = false;
	ssize_t n;

	if (!c) {
		/* Reported by this epoll_wait(), closed since. */
		s->n.timer_stale_gone++;
		return 0;
	}
	s->n.timer_syscalls++;
	n = read(c->tfd, &expirations, sizeof(expirations));
	if (n < 0) {
		if (errno != EAGAIN) {
			qs_warn("timerfd: read: %s", strerror(errno));
			return -1;
		}
		s->n.timer_stale_token++;
		return 0;
	}
	/* A one-shot timerfd that fired is disarmed. */
	if (c->tfd_deadline != QS_NONE)
		t->armed--;
	c->tfd_deadline = QS_NONE;
	qs_conn_mark_dirty(s, c);
	now = qs_now();
	for (unsigned int k = 0; k < QS_NR_TIMERS; k++) {
		if (c->timers[k].deadline <= now) {
			due = true;
			/* It may delete c; c stays readable until the pass ends. */
			qs_timer_fired(s, c->id, k, c->timers[k].token);
		}
	}
	if (!due)	/* it fired for a deadline wanted no more */
		s->n.timer_stale_token++;
	return 0;
}

static void tfd_report(struct qs_server *s, FILE *f, const char *prefix)
{
	struct tfd_state *t = s->timers_priv;

	fprintf(f, "%stimerfd_open %llu\n", prefix, (unsigned long long)t->open);
	fprintf(f, "%stimerfd_armed %llu\n", prefix, (unsigned long long)t->armed);
}

static int tfd_check(struct qs_server *s, FILE *f)
{
	struct tfd_state *t = s->timers_priv;
	int bad = t->open || t->armed;

	fprintf(f, "check timerfds_left %s open %llu armed %llu\n",
		bad ? "MISMATCH" : "ok", (unsigned long long)t->open,
		(unsigned long long)t->armed);
	return bad;
}

const struct qs_timer_ops qs_timers_timerfd = {
	.name = "timerfd",
	.init = tfd_init,
	.fini = tfd_fini,
	.conn_init = tfd_conn_init,
	.conn_fini = tfd_conn_fini,
	.update = tfd_update,
	.flush = tfd_flush,
	.ready = tfd_ready,
	.report = tfd_report,
	.check = tfd_check,
};
