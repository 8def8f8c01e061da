/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twbench: timers kept inside the daemon's own process, what a daemon
 * author would use instead of twheel. The theory is at the top of
 * inproc.c.
 */
#ifndef TWBENCH_INPROC_H
#define TWBENCH_INPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum inproc_kind {
	INPROC_LIBEV,	/* libev's ev_timer: a 4-ary heap */
	INPROC_LIBUV,	/* libuv's uv_timer_t: a binary heap */
	INPROC_WHEEL,	/* kmod/twheel_wheel.c, one timerfd for its next tick */
};

struct inproc;

struct inproc *inproc_new(enum inproc_kind kind, unsigned long n,
			  uint64_t tick_ns, uint32_t *fired);
void inproc_free(struct inproc *ip);
void inproc_clock(struct inproc *ip, uint64_t now_ns);
bool inproc_arm(struct inproc *ip, unsigned long i, uint64_t deadline_ns);
bool inproc_cancel(struct inproc *ip, unsigned long i);
unsigned long inproc_run(struct inproc *ip, uint64_t until_ns);
unsigned long inproc_pending(const struct inproc *ip);
uint64_t inproc_timerfd_settimes(const struct inproc *ip);
unsigned long inproc_errors(const struct inproc *ip);
const char *inproc_versions(void);

#endif /* TWBENCH_INPROC_H */
