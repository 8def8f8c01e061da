/* SPDX-License-Identifier: GPL-2.0 */
/* A user-space stand-in for <linux/ktime.h>: see twheel_kernel.h. */
#ifndef _TWHEEL_KTIME_SHIM_H
#define _TWHEEL_KTIME_SHIM_H

#include <time.h>

#include "../twheel_kernel.h"

static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif /* _TWHEEL_KTIME_SHIM_H */
