// SPDX-License-Identifier: MIT
/*
 * --timers=heap: every connection's timers in a binary min-heap in the
 * server, and one timerfd programmed for the heap's earliest deadline,
 * the way libev and libuv keep timers.
 *
 * Arming, re-arming and cancelling are O(log n) in the heap with no system
 * call; flush() reprograms the timerfd once per loop pass, and only when
 * the earliest deadline changed. When it fires, every entry whose deadline
 * has passed is popped and handed on. Entries point at their connection
 * and each connection knows its entries' positions, so a connection that
 * goes takes its entries out with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "quic-server.h"

struct heap_entry {
	uint64_t deadline;
	struct qs_conn *c;
	unsigned int kind;
};

struct heap_state {
	struct heap_entry *h;
	size_t nr, cap;
	int tfd;
	uint64_t programmed;	/* the timerfd's deadline, QS_NONE if disarmed */
};

static void heap_place(struct heap_state *t, size_t i, struct heap_entry e)
{
	t->h[i] = e;
	e.c->heap_pos[e.kind] = (uint32_t)i + 1;
}

static void sift_up(struct heap_state *t, size_t i)
{
	struct heap_entry e = t->h[i];

	while (i) {
		size_t parent = (i - 1) / 2;

		if (t->h[parent].deadline <= e.deadline)
			break;
		heap_place(t, i, t->h[parent]);
		i = parent;
	}
	heap_place(t, i, e);
}

static void sift_down(struct heap_state *t, size_t i)
{
	struct heap_entry e = t->h[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= t->nr)
			break;
		if (child + 1 < t->nr &&
		    t->h[child + 1].deadline < t->h[child].deadline)
			child++;
		if (e.deadline <= t->h[child].deadline)
			break;
		heap_place(t, i, t->h[child]);
		i = child;
	}
	heap_place(t, i, e);
}

static void heap_remove(struct heap_state *t, size_t i)
{
	struct heap_entry gone = t->h[i];

	gone.c->heap_pos[gone.kind] = 0;
	if (i == --t->nr)
		return;
	heap_place(t, i, t->h[t->nr]);
	if (i && t->h[(i - 1) / 2].deadline > t->h[i].deadline)
		sift_up(t, i);
	else
		sift_down(t, i);
}

static int heap_init(struct qs_server *s)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct heap_state *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	s->timers_priv = t;
	t->programmed = QS_NONE;
	s->n.timer_syscalls++;
	t->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->tfd < 0) {
		qs_warn("timerfd_create: %s", strerror(errno));
		return -1;
	}
	ee.data.u64 = QS_TAG_TIMERS;
	s->n.timer_syscalls++;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, t->tfd, &ee)) {
		qs_warn("heap: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void heap_fini(struct qs_server *s)
{
	struct heap_state *t = s->timers_priv;

	if (!t)
		return;
	close(t->tfd);
	free(t->h);
	free(t);
	s->timers_priv = NULL;
}

static int heap_conn_init(struct qs_server *s, struct qs_conn *c)
{
	(void)s; (void)c;
	return 0;
}

static void heap_conn_fini(struct qs_server *s, struct qs_conn *c)
{
	struct heap_state *t = s->timers_priv;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++)
		if (c->heap_pos[k])
			heap_remove(t, c->heap_pos[k] - 1);
}

static int heap_update(struct qs_server *s, struct qs_conn *c)
{
	struct heap_state *t = s->timers_priv;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++) {
		uint64_t want = c->timers[k].deadline;
		size_t i;

		if (!c->heap_pos[k]) {
			if (want == QS_NONE)
				continue;
			if (t->nr == t->cap) {
				size_t cap = t->cap ? 2 * t->cap : 1024;
				struct heap_entry *h = realloc(t->h, cap * sizeof(*h));

				if (!h)
					return -1;
				t->h = h;
				t->cap = cap;
			}
			i = t->nr++;
			heap_place(t, i, (struct heap_entry){ want, c, k });
			sift_up(t, i);
			continue;
		}
		i = c->heap_pos[k] - 1;
		if (want == QS_NONE) {
			heap_remove(t, i);
		} else if (want < t->h[i].deadline) {
			t->h[i].deadline = want;
			sift_up(t, i);
		} else if (want > t->h[i].deadline) {
			t->h[i].deadline = want;
			sift_down(t, i);
		}
	}
	return 0;
}

static int heap_flush(struct qs_server *s)
{
	struct heap_state *t = s->timers_priv;
	uint64_t first = t->nr ? t->h[0].deadline : QS_NONE;
	struct itimerspec its = { 0 };

	if (first == t->programmed)
		return 0;
	if (first != QS_NONE) {
		its.it_value.tv_sec = (time_t)(first / 1000000000);
		its.it_value.tv_nsec = (long)(first % 1000000000);
		if (!first)
			its.it_value.tv_nsec = 1;
	}
	s->n.timer_syscalls++;
	if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		qs_warn("timerfd_settime: %s", strerror(errno));
		return -1;
	}
	t->programmed = first;
	return 0;
}

static int heap_ready(struct qs_server *s, uint64_t data)
{
	struct heap_state *t = s->timers_priv;
	uint64_t expirations, now;
	ssize_t n;

	(void)data;
	s->n.timer_syscalls++;
	n = read(t->tfd, &expirations, sizeof(expirations));
	if (n < 0) {
		if (errno != EAGAIN) {
			qs_warn("heap: read: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	t->programmed = QS_NONE;	/* fired: disarmed */
	now = qs_now();
	while (t->nr && t->h[0].deadline <= now) {
		struct heap_entry e = t->h[0];

		heap_remove(t, 0);
		/* It may close the connection, which takes its entries out. */
		qs_timer_fired(s, e.c->id, e.kind, e.c->timers[e.kind].token);
	}
	return 0;
}

static void heap_report(struct qs_server *s, FILE *f, const char *prefix)
{
	struct heap_state *t = s->timers_priv;

	fprintf(f, "%sheap_entries %zu\n", prefix, t->nr);
	fprintf(f, "%sheap_timerfd_armed %d\n", prefix, t->programmed != QS_NONE);
}

static int heap_check(struct qs_server *s, FILE *f)
{
	struct heap_state *t = s->timers_priv;
	struct itimerspec its;
	int bad;

	/* The kernel's word on the one timerfd, not only the heap's. */
	if (timerfd_gettime(t->tfd, &its)) {
		fprintf(f, "check heap_timerfd unavailable: %s\n", strerror(errno));
		return 1;
	}
	bad = t->nr || its.it_value.tv_sec || its.it_value.tv_nsec;
	fprintf(f, "check heap_left %s entries %zu timerfd_armed %d\n",
		bad ? "MISMATCH" : "ok", t->nr,
		its.it_value.tv_sec || its.it_value.tv_nsec);
	return bad;
}

const struct qs_timer_ops qs_timers_heap = {
	.name = "heap",
	.init = heap_init,
	.fini = heap_fini,
	.conn_init = heap_conn_init,
	.conn_fini = heap_conn_fini,
	.update = heap_update,
	.flush = heap_flush,
	.ready = heap_ready,
	.report = heap_report,
	.check = heap_check,
};
