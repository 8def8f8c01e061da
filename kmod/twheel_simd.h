/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: batch computations with a scalar reference and an AVX2 version.
 * The theory of operation is the DOC block at the top of twheel_simd.c.
 *
 * twheel_simd_scalar.c and twheel_simd_avx2.c also build as user-space
 * objects for the native test and benchmark (tests/wheel/).
 */
#ifndef _TWHEEL_SIMD_H
#define _TWHEEL_SIMD_H

#include <linux/math64.h>
#include <linux/types.h>

/**
 * twheel_tick_up() - the tick a deadline falls due at: rounded up, never early
 * @ns: the deadline, CLOCK_MONOTONIC ns
 * @tick_ns: the tick in ns, not zero
 *
 * Modulo 2^64: a deadline within a tick of U64_MAX wraps to a small tick,
 * which the arm paths' limits never let through. The one definition every
 * path rounds with, the vector one included.
 *
 * Return: ceil(@ns / @tick_ns).
 */
static inline u64 twheel_tick_up(u64 ns, u64 tick_ns)
{
	return div64_u64(ns + tick_ns - 1, tick_ns);
}

/*
 * The expiry thread's batch computation in two versions that give
 * bit-identical results: the scalar reference (twheel_simd_scalar.c) and
 * the AVX2 one (twheel_simd_avx2.c, only between kernel_fpu_begin() and
 * kernel_fpu_end() in the kernel).
 */
void twheel_ticks_up_scalar(const u64 *ns, u64 *tick, unsigned int n,
			    u64 tick_ns);

/* User-Mode Linux is x86-64 without kernel_fpu_begin(): no AVX2 there. */
#if defined(CONFIG_X86_64) && !defined(CONFIG_UML)
#define TWHEEL_HAVE_AVX2 1
void twheel_ticks_up_avx2(const u64 *ns, u64 *tick, unsigned int n,
			  u64 tick_ns);
#else
#define TWHEEL_HAVE_AVX2 0
#endif

/* The dispatcher (twheel_simd.c): SIMD when allowed and worth it. */
bool twheel_batch_ticks_up(const u64 *ns, u64 *tick, unsigned int n,
			   u64 tick_ns);
void twheel_simd_init(void);

#endif /* _TWHEEL_SIMD_H */
