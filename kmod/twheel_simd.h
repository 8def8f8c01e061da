/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: batch computations with a scalar reference and an AVX2 version.
 * The theory of operation is the DOC block at the top of twheel_simd.c.
 *
 * twheel_simd_scalar.c and twheel_simd_avx2.c also build as user-space
 * objects (through twheel_compat.h) for the native test and benchmark.
 */
#ifndef _TWHEEL_SIMD_H
#define _TWHEEL_SIMD_H

#ifdef __KERNEL__
#include <linux/math64.h>
#include <linux/types.h>
#else
#include "twheel_compat.h"

typedef int s32;
typedef long long s64;

static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}
#endif

#include <linux/twheel.h>

/**
 * struct twheel_arm_clock - what checking and converting an arm entry needs
 * @now: the time of the batch call, CLOCK_MONOTONIC ns
 * @tick_ns: the wheel tick in ns, not zero
 * @max_timeout_ns: the longest timeout accepted
 */
struct twheel_arm_clock {
	u64 now;
	u64 tick_ns;
	u64 max_timeout_ns;
};

/*
 * The pure batch computations, each in two versions that give bit-identical
 * results: the scalar reference (twheel_simd_scalar.c) and the AVX2 one
 * (twheel_simd_avx2.c, only between kernel_fpu_begin() and kernel_fpu_end()
 * in the kernel).
 */
unsigned int twheel_arm_prep_scalar(const struct twheel_arm *arms,
				    unsigned int n,
				    const struct twheel_arm_clock *clock,
				    u64 *deadline, u64 *tick, int *err);
void twheel_ticks_up_scalar(const u64 *ns, u64 *tick, unsigned int n,
			    u64 tick_ns);

#if defined(CONFIG_X86_64) || (!defined(__KERNEL__) && defined(__x86_64__))
#define TWHEEL_HAVE_AVX2 1
unsigned int twheel_arm_prep_avx2(const struct twheel_arm *arms,
				  unsigned int n,
				  const struct twheel_arm_clock *clock,
				  u64 *deadline, u64 *tick, int *err);
void twheel_ticks_up_avx2(const u64 *ns, u64 *tick, unsigned int n,
			  u64 tick_ns);
#else
#define TWHEEL_HAVE_AVX2 0
#endif

#ifdef __KERNEL__
/* The dispatchers (twheel_simd.c): SIMD when allowed and worth it. */
unsigned int twheel_batch_arm_prep(const struct twheel_arm *arms,
				   unsigned int n,
				   const struct twheel_arm_clock *clock,
				   u64 *deadline, u64 *tick, int *err);
bool twheel_batch_ticks_up(const u64 *ns, u64 *tick, unsigned int n,
			   u64 tick_ns);
void twheel_simd_init(void);
#endif

#endif /* _TWHEEL_SIMD_H */
