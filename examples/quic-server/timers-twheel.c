// SPDX-License-Identifier: MIT
/*
 * --timers=twheel: every connection's timers in one /dev/twheel context.
 *
 * The connection's id is twheel's conn_id; EXPIRY and CLOSE are the kinds
 * TWHEEL_KIND_USER and TWHEEL_KIND_USER + 1, armed with absolute deadlines
 * (ngtcp2's are absolute: a relative timeout would drift by the time from
 * the computation to the ioctl) and the arming's token as user_data.
 * update() queues the changes in a libtwheel batch buffer and flush()
 * sends a whole loop pass' changes in as few ioctls as their order allows
 * (one per run of arms, cancels or connection cancels). The context is
 * readable in the server's epoll set; ready() reaps every waiting event
 * with non-blocking reads.
 *
 * This uses libtwheel's device and batch layers, not its connection layer:
 * the connection layer arms relative timeouts and drops stale events
 * itself, where this server wants absolute deadlines and to count what it
 * drops.
 *
 * libtwheel's system calls are counted by wrapping ioctl() and preadv2()
 * at link time (-Wl,--wrap): the counts are what reached the kernel.
 *
 * The context is opened without the shared rings: the check at exit holds
 * every cancel sent against the device's count of cancels that found
 * something, which the ioctl path guarantees. With the rings, an event
 * moved into the event ring has left the device, and a cancel after it
 * finds nothing while the server still counts it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include <libtwheel.h>

#include "quic-server.h"

#define KIND(k)		(TWHEEL_KIND_USER + (k))
#define REAP_MAX	64

struct tw_state {
	struct twheel *tw;
	struct twheel_batch_buf *batch;
	/* what was sent and read, to hold against the device's counters */
	uint64_t arms_sent, cancels_sent, reaped;
};

static uint64_t *syscalls;

int __real_ioctl(int fd, unsigned long cmd, void *arg);
ssize_t __real_preadv2(int fd, const struct iovec *iov, int iovcnt,
		       off_t offset, int flags);

int __wrap_ioctl(int fd, unsigned long cmd, void *arg)
{
	if (syscalls)
		(*syscalls)++;
	return __real_ioctl(fd, cmd, arg);
}

ssize_t __wrap_preadv2(int fd, const struct iovec *iov, int iovcnt,
		       off_t offset, int flags)
{
	if (syscalls)
		(*syscalls)++;
	return __real_preadv2(fd, iov, iovcnt, offset, flags);
}

static int tw_init(struct qs_server *s)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct tw_state *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -1;
	s->timers_priv = t;
	syscalls = &s->n.timer_syscalls;
	ret = twheel_open(&t->tw, TWHEEL_OPEN_NONBLOCK | TWHEEL_OPEN_NO_RINGS,
			  s->cfg.cpu >= 0 ? s->cfg.cpu : TWHEEL_CPU_ANY);
	if (ret < 0) {
		qs_warn("twheel: /dev/twheel: %s%s", strerror(-ret),
			ret == -ENOENT ? " (is the module loaded?)" : "");
		return -1;
	}
	ret = twheel_batch_new(t->tw, &t->batch);
	if (ret < 0) {
		qs_warn("twheel: batch buffer: %s", strerror(-ret));
		return -1;
	}
	ee.data.u64 = QS_TAG_TIMERS;
	s->n.timer_syscalls++;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, twheel_fd(t->tw), &ee)) {
		qs_warn("twheel: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void tw_fini(struct qs_server *s)
{
	struct tw_state *t = s->timers_priv;

	if (!t)
		return;
	twheel_batch_free(t->batch);
	twheel_close(t->tw);
	syscalls = NULL;
	free(t);
	s->timers_priv = NULL;
}

static int tw_conn_init(struct qs_server *s, struct qs_conn *c)
{
	(void)s; (void)c;
	return 0;
}

static int tw_queue_fail(int ret)
{
	qs_warn("twheel: batch: %s", strerror(-ret));
	return -1;
}

static void tw_conn_fini(struct qs_server *s, struct qs_conn *c)
{
	struct tw_state *t = s->timers_priv;
	unsigned int armed = 0;
	int ret;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++) {
		if (c->armed[k].deadline != QS_NONE)
			armed++;
		c->armed[k].deadline = QS_NONE;
		c->armed[k].token = 0;
	}
	if (!armed)
		return;
	ret = twheel_batch_cancel_conn(t->batch, c->id);
	if (ret < 0) {
		tw_queue_fail(ret);
		exit(1);
	}
	t->cancels_sent += armed;
}

static int tw_update(struct qs_server *s, struct qs_conn *c)
{
	struct tw_state *t = s->timers_priv;
	int ret = 0;

	for (unsigned int k = 0; k < QS_NR_TIMERS; k++) {
		struct qs_timer *want = &c->timers[k], *have = &c->armed[k];

		if (want->deadline == have->deadline && want->token == have->token)
			continue;
		if (want->deadline != QS_NONE) {
			ret = twheel_batch_arm(t->batch, c->id, KIND(k),
					       want->deadline, want->token,
					       TWHEEL_ARM_ABS);
			t->arms_sent++;
		} else if (have->deadline != QS_NONE) {
			ret = twheel_batch_cancel(t->batch, c->id, KIND(k));
			t->cancels_sent++;
		}
		if (ret < 0)
			return tw_queue_fail(ret);
		*have = *want;
	}
	return 0;
}

static int tw_flush(struct qs_server *s)
{
	struct tw_state *t = s->timers_priv;
	struct twheel_batch_result res;
	int ret;

	if (!twheel_batch_count(t->batch))
		return 0;
	ret = twheel_batch_flush(t->batch, &res);
	if (ret < 0) {
		qs_warn("twheel: flush: entry %u: %s", res.applied,
			strerror(-res.error ? -res.error : -ret));
		return -1;
	}
	return 0;
}

static int tw_ready(struct qs_server *s, uint64_t data)
{
	struct tw_state *t = s->timers_priv;
	struct twheel_event ev[REAP_MAX];
	int n;

	(void)data;
	do {
		n = twheel_reap(t->tw, ev, REAP_MAX);
		if (n < 0) {
			qs_warn("twheel: reap: %s", strerror(-n));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			unsigned int kind = ev[i].kind - TWHEEL_KIND_USER;
			struct qs_conn *c = qs_conn_find(s, ev[i].conn_id);

			t->reaped++;
			if (ev[i].fired_ns < ev[i].deadline_ns)
				s->n.timer_early_device++;
			qs_record(&s->late_dev, &s->nr_late_dev,
				  &s->cap_late_dev,
				  ev[i].fired_ns - ev[i].deadline_ns);
			/* The device holds this arming no more. */
			if (c && kind < QS_NR_TIMERS &&
			    c->armed[kind].token == ev[i].user_data) {
				c->armed[kind].deadline = QS_NONE;
				c->armed[kind].token = 0;
			}
			qs_timer_fired(s, ev[i].conn_id, kind, ev[i].user_data);
		}
	} while (n == REAP_MAX);
	return 0;
}

static void tw_report(struct qs_server *s, FILE *f, const char *prefix)
{
	struct tw_state *t = s->timers_priv;
	struct twheel_stats st;

	fprintf(f, "%stwheel_fd %d\n", prefix, twheel_fd(t->tw));
	if (twheel_get_stats(t->tw, &st)) {
		fprintf(f, "%stwheel_stats unavailable\n", prefix);
		return;
	}
	fprintf(f, "%stwheel_armed %llu\n", prefix, (unsigned long long)st.armed);
	fprintf(f, "%stwheel_queued %llu\n", prefix, (unsigned long long)st.queued);
	fprintf(f, "%stwheel_conns %llu\n", prefix, (unsigned long long)st.conns);
	fprintf(f, "%stwheel_arms %llu\n", prefix,
		(unsigned long long)(st.arms + st.rearms));
	fprintf(f, "%stwheel_cancels %llu\n", prefix, (unsigned long long)st.cancels);
	fprintf(f, "%stwheel_fired %llu\n", prefix, (unsigned long long)st.fired);
	fprintf(f, "%stwheel_read %llu\n", prefix, (unsigned long long)st.read);
}

/*
 * The device's per-file counters against what this server sent and read:
 * every arm entry armed or re-armed, every cancel found its timer (the
 * server cancels only what it holds armed), every event read was reaped.
 */
static int tw_check(struct qs_server *s, FILE *f)
{
	struct tw_state *t = s->timers_priv;
	struct twheel_stats st;
	int bad = 0;

	if (twheel_get_stats(t->tw, &st)) {
		fprintf(f, "check twheel_stats unavailable\n");
		return 1;
	}
#define AGREE(what, ours, theirs) do {					\
		int ok = (uint64_t)(ours) == (uint64_t)(theirs);	\
		fprintf(f, "check %s %s server %llu device %llu\n", what,	\
			ok ? "ok" : "MISMATCH", (unsigned long long)(ours), \
			(unsigned long long)(theirs));			\
		bad |= !ok;						\
	} while (0)
	AGREE("arms", t->arms_sent, st.arms + st.rearms);
	AGREE("cancels", t->cancels_sent, st.cancels);
	AGREE("events_read", t->reaped, st.read);
	AGREE("armed_left", 0, st.armed);
	AGREE("queued_left", 0, st.queued);
	AGREE("conns_left", 0, st.conns);
#undef AGREE
	return bad;
}

const struct qs_timer_ops qs_timers_twheel = {
	.name = "twheel",
	.init = tw_init,
	.fini = tw_fini,
	.conn_init = tw_conn_init,
	.conn_fini = tw_conn_fini,
	.update = tw_update,
	.flush = tw_flush,
	.ready = tw_ready,
	.report = tw_report,
	.check = tw_check,
};
