// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the AVX2 version of the expiry thread's deadline-to-tick batch.
 *
 * This file is compiled with AVX2 code generation on (see kmod/Kbuild), so
 * the compiler may put vector instructions anywhere in it: in the kernel,
 * every function here runs only between kernel_fpu_begin() and
 * kernel_fpu_end(), called from twheel_simd.c, and nothing else may be
 * added here. The vectors are GCC vector extensions plus two AVX builtins,
 * with no header of the compiler's (its intrinsics headers need libc).
 *
 * It gives exactly what its scalar reference in twheel_simd_scalar.c
 * gives; where a group of four lanes is outside the range the vector
 * arithmetic is exact for, that group is handed to the scalar reference.
 */

#include "twheel_simd.h"

/*
 * sparse does not know GCC's vector extensions or the x86 builtins: it
 * checks the declarations in twheel_simd.h and skips the vector code.
 */
#ifndef __CHECKER__

/*
 * GCC vector types (there is no other way to name them than a typedef).
 * Loads and stores go through them: unaligned, and they may alias u64.
 */
typedef u64 __attribute__((vector_size(32), may_alias)) __aligned(8)
	twheel_v4u;
typedef s64 __attribute__((vector_size(32), may_alias)) __aligned(8)
	twheel_v4s;
typedef double __attribute__((vector_size(32), may_alias)) __aligned(8)
	twheel_v4d;
typedef s32 __attribute__((vector_size(32))) twheel_v8si;

/* @x in every lane. */
static inline twheel_v4u twheel_v4(u64 x)
{
	twheel_v4u v = { x, x, x, x };

	return v;
}

/* Bits of the doubles 2^52 and 2^84: x | these is 2^52 + x, 2^84 + x 2^32. */
#define TWHEEL_F64_2P52	0x4330000000000000ULL
#define TWHEEL_F64_2P84	0x4530000000000000ULL

/* One bit per lane: the sign bits of @mask. */
static inline int twheel_v4_movemask(twheel_v4s mask)
{
	return __builtin_ia32_movmskpd256((twheel_v4d)mask);
}

/*
 * The lanes whose quotient twheel_v4_div() computes exactly: x / t below
 * 2^50, that is x >> 50 < t (both below 2^63: a signed compare is right).
 * Returns a lane mask, all ones where exact.
 */
static inline twheel_v4s twheel_v4_div_exact(twheel_v4u x, twheel_v4u t)
{
	return (twheel_v4s)(x >> 50) < (twheel_v4s)t;
}

/*
 * floor(x / t) per lane, for t below 2^32 and lanes where
 * twheel_v4_div_exact() holds.
 *
 * x goes to double exactly in two halves and is rounded once when they are
 * added; times the rounded 1/t, the quotient estimate is within 3 * 2^-53
 * of x / t relative, so under 0.375 absolute since x / t < 2^50. Adding
 * 2^52 rounds it to the nearest integer, held in the low mantissa bits:
 * the true floor or one more. The remainder x - q t, exact in 64-bit
 * integers and within (-t, t) as a signed number, says which.
 */
static inline twheel_v4u twheel_v4_div(twheel_v4u x, twheel_v4u t,
				       twheel_v4d inv_t)
{
	twheel_v4u lo = (x & twheel_v4(0xffffffffULL)) | twheel_v4(TWHEEL_F64_2P52);
	twheel_v4u hi = (x >> 32) | twheel_v4(TWHEEL_F64_2P84);
	twheel_v4u q, qt;
	twheel_v4d qd;

	/* 2^84 + 2^52: what the two halves' bias bits add up to. */
	qd = (((twheel_v4d)hi - 0x1.00000001p84) + (twheel_v4d)lo) * inv_t;
	q = (twheel_v4u)(qd + 0x1p52) - twheel_v4(TWHEEL_F64_2P52);

	/* q t modulo 2^64 in two 32 x 32 bit products, t being below 2^32. */
	qt = (twheel_v4u)__builtin_ia32_pmuludq256((twheel_v8si)q,
						   (twheel_v8si)t) +
	     ((twheel_v4u)__builtin_ia32_pmuludq256((twheel_v8si)(q >> 32),
						    (twheel_v8si)t) << 32);
	/* All ones (minus one) where q is one too big. */
	return q + (twheel_v4u)((twheel_v4s)(x - qt) < 0);
}

/**
 * twheel_ticks_up_avx2() - twheel_ticks_up_scalar(), four at a time
 * @ns: the deadlines
 * @tick: out: their ticks, rounded up; may be @ns itself
 * @n: how many
 * @tick_ns: the wheel tick in ns, not zero
 *
 * Context: in the kernel, between kernel_fpu_begin() and kernel_fpu_end();
 * no locks, no allocation, no sleeping. O(n).
 */
void twheel_ticks_up_avx2(const u64 *ns, u64 *tick, unsigned int n,
			  u64 tick_ns)
{
	twheel_v4u t = twheel_v4(tick_ns);
	twheel_v4d inv_t;
	unsigned int i = 0;

	if (tick_ns >> 32)
		goto scalar;
	inv_t = (twheel_v4d){ 1.0, 1.0, 1.0, 1.0 } / (double)tick_ns;

	for (; i + 4 <= n; i += 4) {
		twheel_v4u x = *(const twheel_v4u *)&ns[i] + t - 1;

		if (twheel_v4_movemask(~twheel_v4_div_exact(x, t)))
			twheel_ticks_up_scalar(&ns[i], &tick[i], 4, tick_ns);
		else
			*(twheel_v4u *)&tick[i] = twheel_v4_div(x, t, inv_t);
	}
scalar:
	twheel_ticks_up_scalar(&ns[i], &tick[i], n - i, tick_ns);
}

#endif /* __CHECKER__ */
