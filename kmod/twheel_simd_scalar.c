// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the scalar reference of the batch computations. Every other
 * version must give exactly what these give, for every input.
 */

#include "twheel_simd.h"

#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#endif

/**
 * twheel_arm_prep_scalar() - check arm entries and compute their deadlines
 * @arms: the entries
 * @n: how many
 * @clock: the time of the call and the limits
 * @deadline: out, per entry: the deadline in CLOCK_MONOTONIC ns
 * @tick: out, per entry: the wheel tick the deadline falls due at, rounded
 *	up (ceil((deadline + tick_ns - 1) / tick_ns), modulo 2^64 as in
 *	twheel_ns_to_tick_up())
 * @err: out: 0 if every entry is valid, else the errno of the first
 *	invalid one: -EINVAL for an unknown kind or flag, -ERANGE for a
 *	timeout beyond @clock->max_timeout_ns
 *
 * Context: any; no locks, no allocation. O(n).
 * Return: the number of leading valid entries; @deadline and @tick are
 * written for those only.
 */
unsigned int twheel_arm_prep_scalar(const struct twheel_arm *arms,
				    unsigned int n,
				    const struct twheel_arm_clock *clock,
				    u64 *deadline, u64 *tick, int *err)
{
	u64 tick_ns = clock->tick_ns;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct twheel_arm *arm = &arms[i];
		u64 d;

		if (arm->kind >= TWHEEL_NR_KINDS ||
		    arm->flags & ~TWHEEL_ARM_ABS) {
			*err = -EINVAL;
			return i;
		}
		if (arm->flags & TWHEEL_ARM_ABS) {
			if (arm->timeout_ns > clock->now + clock->max_timeout_ns)
				goto range;
			d = arm->timeout_ns;
		} else {
			if (arm->timeout_ns > clock->max_timeout_ns)
				goto range;
			d = clock->now + arm->timeout_ns;
		}
		deadline[i] = d;
		tick[i] = div64_u64(d + tick_ns - 1, tick_ns);
	}
	*err = 0;
	return n;

range:
	*err = -ERANGE;
	return i;
}

/**
 * twheel_ticks_up_scalar() - the ticks a batch of deadlines fall due at
 * @ns: the deadlines, CLOCK_MONOTONIC ns
 * @tick: out: ceil(ns / tick_ns) per deadline, as twheel_ns_to_tick_up()
 *	computes it (modulo 2^64); may be @ns itself
 * @n: how many
 * @tick_ns: the wheel tick in ns, not zero
 *
 * Context: any; no locks, no allocation. O(n).
 */
void twheel_ticks_up_scalar(const u64 *ns, u64 *tick, unsigned int n,
			    u64 tick_ns)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		tick[i] = div64_u64(ns[i] + tick_ns - 1, tick_ns);
}
