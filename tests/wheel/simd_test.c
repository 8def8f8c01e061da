// SPDX-License-Identifier: GPL-2.0
/*
 * The KUnit suite twheel_simd (kmod/twheel_simd_test.c), built as a native
 * program: shim/kunit/test.h stands in for KUnit and prints TAP. The AVX2
 * unit is linked in from kmod/twheel_simd_avx2.c, built with -mavx2.
 */
#include <kunit/test.h>

#include "twheel_simd_test.c"

int main(void)
{
	return kunit_shim_run(kunit_shim_suite);
}
