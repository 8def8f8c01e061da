// SPDX-License-Identifier: GPL-2.0
/*
 * twbench: timers kept inside the daemon's own process, the rivals twheel
 * has to beat. Each is what a daemon author would build instead of using
 * /dev/twheel; twbench measures them on the same workloads:
 *
 * libev	ev_timer (Debian's libev-dev, linked statically): a 4-ary heap
 *		of deadlines in the loop, expiry by ev_run(). An ev_timer
 *		counts from the loop's cached time (mn_now), so inproc_clock()
 *		refreshes it (ev_now_update(), one clock read) before a run of
 *		arms and a timeout is taken from twbench's clock read just
 *		before: the timer then never fires before its deadline. A
 *		re-arm of a running timer is ev_timer_again() with ->repeat set
 *		to the new timeout and cleared after (one heap adjustment, as
 *		libev's manual advises for timeouts that move); a first arm is
 *		ev_timer_set() and ev_timer_start(); a cancel ev_timer_stop().
 * libuv	uv_timer_t (Debian's libuv1-dev, libuv_a.a): a binary heap of
 *		handles, expiry by uv_run(UV_RUN_ONCE). Its timeouts are whole
 *		milliseconds from the loop's time, also whole milliseconds; a
 *		deadline is rounded up to its millisecond, so it never fires
 *		early and fires up to a millisecond late by design.
 *		uv_timer_start() re-arms a running timer (a removal and an
 *		insertion); uv_timer_stop() cancels.
 * inproc-wheel	kmod/twheel_wheel.c built in user space, keyed by ticks
 *		of tick_ns (the module's tick), with one timerfd for the
 *		wheel's next tick. A deadline is armed at the first tick at or
 *		after it, as the module does; a cancel only takes the timer
 *		off the wheel. The timerfd is set again when an arm moves the
 *		earliest tick earlier, and after each expiry to
 *		twheel_wheel_next(): every timerfd_settime() is counted. A
 *		timerfd that fires for a tick whose timers were cancelled, or
 *		for a cascade, wakes the daemon for nothing; that is part of
 *		its cost.
 *
 * The timers are an array of n, armed and cancelled by index; expiry runs
 * only in inproc_run(), which writes the indices of the timers that fired
 * into the caller's array (room for n). Nothing here reads the clock for
 * the caller: twbench reads it after inproc_run() returns, as it does for
 * every other reaper.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <uv.h>

#include "inproc.h"
#include "twheel_wheel.h"

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

struct inproc {
	enum inproc_kind kind;
	unsigned long n;
	uint32_t *fired;		/* the caller's, room for n */
	unsigned long nr_fired;
	uint64_t base_ns;		/* twbench's clock, read before the loop's */
	uint64_t step_ns;		/* the step timer's deadline, 0 if none */
	bool step_fired;

	struct ev_loop *ev;
	ev_timer *evt;
	ev_timer ev_step;

	uv_loop_t uv;
	bool uv_ok;
	uv_timer_t *uvt;
	uv_timer_t uv_step;

	struct twheel_wheel *wheel;
	struct twheel_timer *wt;
	uint64_t tick_ns;
	int tfd;
	u64 programmed;			/* tick the timerfd is set for, U64_MAX if none */
	uint64_t settimes;		/* timerfd_settime() calls */
	unsigned long errors;		/* of them, failed */
};

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* A poll() timeout for @until_ns, rounded up to the millisecond; -1: none. */
static int poll_ms(uint64_t until_ns)
{
	uint64_t now = clock_ns();

	if (until_ns == UINT64_MAX)
		return -1;
	if (until_ns <= now)
		return 0;
	return (int)((until_ns - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

/* --- libev ---------------------------------------------------------------- */

static void ev_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct inproc *ip = ev_userdata(loop);

	(void)revents;
	ip->fired[ip->nr_fired++] = w - ip->evt;
}

static void ev_stepped(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct inproc *ip = ev_userdata(loop);

	(void)w;
	(void)revents;
	ip->step_fired = true;
}

static double ev_after(const struct inproc *ip, uint64_t deadline_ns)
{
	return deadline_ns > ip->base_ns ?
	       (double)(deadline_ns - ip->base_ns) / NSEC_PER_SEC : 0.;
}

static bool libev_arm(struct inproc *ip, unsigned long i, uint64_t deadline_ns)
{
	ev_timer *w = &ip->evt[i];
	double after = ev_after(ip, deadline_ns);
	bool was = ev_is_active(w);

	if (was && after > 0.) {
		w->repeat = after;
		ev_timer_again(ip->ev, w);
		w->repeat = 0.;
		return true;
	}
	if (was)
		ev_timer_stop(ip->ev, w);
	ev_timer_set(w, after, 0.);
	ev_timer_start(ip->ev, w);
	return was;
}

static void libev_run(struct inproc *ip, uint64_t until_ns)
{
	if (!until_ns) {
		ev_run(ip->ev, EVRUN_NOWAIT);
		return;
	}
	if (until_ns != UINT64_MAX &&
	    (until_ns != ip->step_ns || !ev_is_active(&ip->ev_step))) {
		uint64_t now = clock_ns();

		ev_timer_stop(ip->ev, &ip->ev_step);
		ev_timer_set(&ip->ev_step, until_ns > now ?
			     (double)(until_ns - now) / NSEC_PER_SEC : 0., 0.);
		ev_timer_start(ip->ev, &ip->ev_step);
		ip->step_ns = until_ns;
	}
	ev_run(ip->ev, EVRUN_ONCE);
}

/* --- libuv ---------------------------------------------------------------- */

static void uv_fired(uv_timer_t *t)
{
	struct inproc *ip = t->loop->data;

	ip->fired[ip->nr_fired++] = t - ip->uvt;
}

static void uv_stepped(uv_timer_t *t)
{
	struct inproc *ip = t->loop->data;

	ip->step_fired = true;
}

/* Whole milliseconds from the loop's time to the millisecond of @ns, rounded up. */
static uint64_t uv_timeout(struct inproc *ip, uint64_t ns)
{
	uint64_t due_ms = (ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	uint64_t now_ms = uv_now(&ip->uv);

	return due_ms > now_ms ? due_ms - now_ms : 0;
}

static bool libuv_arm(struct inproc *ip, unsigned long i, uint64_t deadline_ns)
{
	uv_timer_t *t = &ip->uvt[i];
	bool was = uv_is_active((uv_handle_t *)t);

	uv_timer_start(t, uv_fired, uv_timeout(ip, deadline_ns), 0);
	return was;
}

static void libuv_run(struct inproc *ip, uint64_t until_ns)
{
	if (!until_ns) {
		uv_run(&ip->uv, UV_RUN_NOWAIT);
		return;
	}
	if (until_ns != UINT64_MAX &&
	    (until_ns != ip->step_ns || !uv_is_active((uv_handle_t *)&ip->uv_step))) {
		uv_timer_start(&ip->uv_step, uv_stepped, uv_timeout(ip, until_ns), 0);
		ip->step_ns = until_ns;
	}
	uv_run(&ip->uv, UV_RUN_ONCE);
}

/* --- the wheel, with a timerfd ------------------------------------------- */

/* Sets the timerfd for @tick (U64_MAX: disarms it, which also clears it). */
static void wheel_program(struct inproc *ip, u64 tick)
{
	struct itimerspec its = { 0 };

	if (tick != U64_MAX) {
		uint64_t ns = tick * ip->tick_ns;

		its.it_value.tv_sec = ns / NSEC_PER_SEC;
		its.it_value.tv_nsec = ns % NSEC_PER_SEC;
		/* Tick 0 would disarm it: the clock is long past it anyway. */
		if (!ns)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(ip->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		ip->errors++;
	ip->settimes++;
	ip->programmed = tick;
}

static bool wheel_arm(struct inproc *ip, unsigned long i, uint64_t deadline_ns)
{
	u64 tick = (deadline_ns + ip->tick_ns - 1) / ip->tick_ns;
	bool was = twheel_wheel_arm(ip->wheel, &ip->wt[i], tick);

	if (tick < ip->wheel->now)
		tick = ip->wheel->now;
	if (tick < ip->programmed)
		wheel_program(ip, tick);
	return was;
}

/*
 * Sleeps on the timerfd until it fires or @until_ns; if it has fired,
 * advances the wheel to the current tick, hands out what expired and sets
 * the timerfd for the next tick with work.
 */
static void wheel_run(struct inproc *ip, uint64_t until_ns)
{
	uint64_t due_ns = ip->programmed == U64_MAX ? UINT64_MAX :
			  ip->programmed * ip->tick_ns;
	uint64_t now = clock_ns();
	struct hlist_head expired = { NULL };

	if (now < due_ns) {
		struct pollfd pfd = { .fd = ip->tfd, .events = POLLIN };

		if (!until_ns || (until_ns == UINT64_MAX && due_ns == UINT64_MAX))
			return;
		poll(&pfd, 1, poll_ms(until_ns));
		now = clock_ns();
		if (now < due_ns)
			return;
	}
	twheel_wheel_advance(ip->wheel, now / ip->tick_ns, &expired);
	while (expired.first) {
		struct twheel_timer *t = hlist_entry(expired.first,
						     struct twheel_timer, node);

		hlist_del_init(&t->node);
		ip->fired[ip->nr_fired++] = t - ip->wt;
	}
	wheel_program(ip, twheel_wheel_next(ip->wheel));
}

/* --- the interface ------------------------------------------------------- */

/*
 * A loop and @n idle timers of @kind; the wheel ticks every @tick_ns.
 * Indices of fired timers go to @fired. NULL, with errno, on failure.
 */
struct inproc *inproc_new(enum inproc_kind kind, unsigned long n,
			  uint64_t tick_ns, uint32_t *fired)
{
	struct inproc *ip = calloc(1, sizeof(*ip));
	unsigned long i;

	if (!ip)
		return NULL;
	ip->kind = kind;
	ip->n = n;
	ip->fired = fired;
	ip->tfd = -1;
	switch (kind) {
	case INPROC_LIBEV:
		ip->ev = ev_loop_new(EVFLAG_AUTO);
		ip->evt = calloc(n, sizeof(*ip->evt));
		if (!ip->ev || !ip->evt)
			goto fail;
		ev_set_userdata(ip->ev, ip);
		for (i = 0; i < n; i++)
			ev_timer_init(&ip->evt[i], ev_fired, 0., 0.);
		ev_timer_init(&ip->ev_step, ev_stepped, 0., 0.);
		break;
	case INPROC_LIBUV:
		if (uv_loop_init(&ip->uv))
			goto fail;
		ip->uv_ok = true;
		ip->uv.data = ip;
		ip->uvt = calloc(n, sizeof(*ip->uvt));
		if (!ip->uvt)
			goto fail;
		for (i = 0; i < n; i++)
			uv_timer_init(&ip->uv, &ip->uvt[i]);
		uv_timer_init(&ip->uv, &ip->uv_step);
		break;
	case INPROC_WHEEL:
		ip->tick_ns = tick_ns;
		ip->wheel = malloc(sizeof(*ip->wheel));
		ip->wt = calloc(n, sizeof(*ip->wt));
		ip->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (!ip->wheel || !ip->wt || ip->tfd < 0)
			goto fail;
		twheel_wheel_init(ip->wheel, clock_ns() / tick_ns);
		for (i = 0; i < n; i++)
			twheel_timer_init(&ip->wt[i]);
		ip->programmed = U64_MAX;
		break;
	}
	return ip;
fail:
	i = errno ? errno : ENOMEM;
	inproc_free(ip);
	errno = (int)i;
	return NULL;
}

void inproc_free(struct inproc *ip)
{
	unsigned long i;

	if (!ip)
		return;
	if (ip->ev)
		ev_loop_destroy(ip->ev);
	free(ip->evt);
	if (ip->uv_ok) {
		/* A handle is gone only once the loop has run its close. */
		for (i = 0; ip->uvt && i < ip->n; i++)
			uv_close((uv_handle_t *)&ip->uvt[i], NULL);
		if (ip->uvt)
			uv_close((uv_handle_t *)&ip->uv_step, NULL);
		uv_run(&ip->uv, UV_RUN_DEFAULT);
		uv_loop_close(&ip->uv);
	}
	free(ip->uvt);
	free(ip->wheel);
	free(ip->wt);
	if (ip->tfd >= 0)
		close(ip->tfd);
	free(ip);
}

/*
 * Before a run of arms, with the caller's clock read just before: what a
 * deadline counts from. For libev that clock first, then the loop's
 * (ev_now_update()), so that a timeout taken from the first and added by
 * the loop to the second is never short. libuv's timeouts are taken from
 * the loop's own time, whatever it is; the wheel's deadlines are ticks.
 */
void inproc_clock(struct inproc *ip, uint64_t now_ns)
{
	if (ip->kind != INPROC_LIBEV)
		return;
	ip->base_ns = now_ns;
	ev_now_update(ip->ev);
}

/* Arms or re-arms timer @i for @deadline_ns; returns whether it was armed. */
bool inproc_arm(struct inproc *ip, unsigned long i, uint64_t deadline_ns)
{
	switch (ip->kind) {
	case INPROC_LIBEV:
		return libev_arm(ip, i, deadline_ns);
	case INPROC_LIBUV:
		return libuv_arm(ip, i, deadline_ns);
	case INPROC_WHEEL:
		return wheel_arm(ip, i, deadline_ns);
	}
	return false;
}

/* Cancels timer @i; returns whether it was armed. */
bool inproc_cancel(struct inproc *ip, unsigned long i)
{
	bool was;

	switch (ip->kind) {
	case INPROC_LIBEV:
		was = ev_is_active(&ip->evt[i]);
		ev_timer_stop(ip->ev, &ip->evt[i]);
		return was;
	case INPROC_LIBUV:
		was = uv_is_active((uv_handle_t *)&ip->uvt[i]);
		uv_timer_stop(&ip->uvt[i]);
		return was;
	case INPROC_WHEEL:
		return twheel_wheel_cancel(ip->wheel, &ip->wt[i]);
	}
	return false;
}

/*
 * Runs the loop once: waits until a timer is due or until @until_ns (0:
 * does not wait; UINT64_MAX: until a timer fires, or not at all if none is
 * armed), then fires what is due. Returns how many fired, their indices in
 * the caller's array. A wait bounded by @until_ns is a timer of the loop's
 * own for libev and libuv (restarted only when @until_ns changes), a
 * poll() timeout for the wheel.
 */
unsigned long inproc_run(struct inproc *ip, uint64_t until_ns)
{
	ip->nr_fired = 0;
	ip->step_fired = false;
	switch (ip->kind) {
	case INPROC_LIBEV:
		libev_run(ip, until_ns);
		break;
	case INPROC_LIBUV:
		libuv_run(ip, until_ns);
		break;
	case INPROC_WHEEL:
		wheel_run(ip, until_ns);
		break;
	}
	return ip->nr_fired;
}

/* How many timers are armed, counted one by one. */
unsigned long inproc_pending(const struct inproc *ip)
{
	unsigned long i, k = 0;

	for (i = 0; i < ip->n; i++) {
		switch (ip->kind) {
		case INPROC_LIBEV:
			k += !!ev_is_active(&ip->evt[i]);
			break;
		case INPROC_LIBUV:
			k += !!uv_is_active((const uv_handle_t *)&ip->uvt[i]);
			break;
		case INPROC_WHEEL:
			k += twheel_timer_pending(&ip->wt[i]);
			break;
		}
	}
	return k;
}

/* The wheel's timerfd_settime() calls so far; 0 for the others. */
uint64_t inproc_timerfd_settimes(const struct inproc *ip)
{
	return ip->settimes;
}

/* Calls that failed (the wheel's timerfd_settime()); 0 if none. */
unsigned long inproc_errors(const struct inproc *ip)
{
	return ip->errors;
}

/* The libraries' versions and libev's backend, for the results' metadata. */
const char *inproc_versions(void)
{
	static char buf[128];
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	unsigned int backend = loop ? ev_backend(loop) : 0;

	if (loop)
		ev_loop_destroy(loop);
	snprintf(buf, sizeof(buf), "libev %d.%d (backend %s), libuv %s",
		 ev_version_major(), ev_version_minor(),
		 backend == EVBACKEND_EPOLL ? "epoll" :
		 backend == EVBACKEND_IOURING ? "io_uring" :
		 backend == EVBACKEND_LINUXAIO ? "linuxaio" :
		 backend == EVBACKEND_POLL ? "poll" : "other",
		 uv_version_string());
	return buf;
}
