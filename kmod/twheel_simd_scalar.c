// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the scalar reference of the batch computations. Every other
 * version must give exactly what these give, for every input.
 */

#include "twheel_simd.h"

/**
 * twheel_ticks_up_scalar() - the ticks a batch of deadlines fall due at
 * @ns: the deadlines, CLOCK_MONOTONIC ns
 * @tick: out: twheel_tick_up() of each deadline; may be @ns itself
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
		tick[i] = twheel_tick_up(ns[i], tick_ns);
}
