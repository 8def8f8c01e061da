// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the vector unit of the KUnit suite twheel_simd, a copy of
 * twheel_simd_avx2.c built with the same flags into the test module.
 */
#include "twheel_simd_avx2.c"
