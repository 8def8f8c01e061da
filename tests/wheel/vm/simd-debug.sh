#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM plan for the debug kernel: the KUnit suite twheel_simd (scalar against
# AVX2 on random batches, inside kernel_fpu_begin/end), then the selftests
# that arm and expire in batches, under lockdep, KASAN and UBSAN, with
# simd=auto and then simd=off.

. /lib/twheel/guest-lib.sh

report_kunit twheel_simd
for mode in auto off; do
	echo "$mode" > /sys/module/twheel/parameters/simd
	echo "# simd=$(cat /sys/module/twheel/parameters/simd)"
	for t in arm_test expiry_test stress_test counters_test; do
		echo "# selftest $t"
		timeout -s KILL 300 /selftests/twheel/$t
	done
done
echo auto > /sys/module/twheel/parameters/simd
/tests/simd/simd_vm_bench 1 | sed -n 's/^\(not \)\{0,1\}ok /&/p'
