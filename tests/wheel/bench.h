/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the native benchmarks of tests/wheel share: a clock, a generator
 * and the median of several runs.
 */
#ifndef _TWHEEL_BENCH_H
#define _TWHEEL_BENCH_H

#include <stdlib.h>

/* The stand-in for the kernel's clock: CLOCK_MONOTONIC in ns. */
#include <linux/ktime.h>

#define bench_now()	ktime_get_ns()

/* xorshift64*: the same sequence on every run, nothing more. */
static inline u64 bench_xorshift(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n figures; sorts @v. */
static inline double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* _TWHEEL_BENCH_H */
