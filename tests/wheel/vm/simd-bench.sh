#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM plan: the SIMD benchmark of tests/wheel/vm/simd_vm_bench.c, with the
# guest's CPU flags for the record.

. /lib/twheel/guest-lib.sh

echo "# guest CPU flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -ow 'avx\|avx2\|fma\|avx512f' | tr '\n' ' ')"
/tests/simd/simd_vm_bench "${SIMD_BENCH_ROUNDS:-21}"
