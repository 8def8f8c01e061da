#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# VM plan for the debug kernel: the KUnit suite twheel_simd (scalar against
# AVX2 on random batches, inside kernel_fpu_begin/end), then the selftests
# that arm and expire in batches, under lockdep, KASAN and UBSAN, with
# simd=auto and then simd=off, then the checks of simd_vm_bench.

. /lib/twheel/guest-lib.sh

report_kunit twheel_simd
for mode in auto off; do
	echo "$mode" > /sys/module/twheel/parameters/simd
	echo "# simd=$(cat /sys/module/twheel/parameters/simd)"
	for t in arm_test expiry_test stress_test counters_test; do
		echo "# selftest $t"
		timeout -s KILL 300 "/selftests/twheel/$t" > /tmp/selftest.out 2>&1
		rc=$?
		cat /tmp/selftest.out
		# A program that fails without a failing case must not pass.
		if ! grep -qE '^(not )?ok ' /tmp/selftest.out; then
			echo "not ok 0 $t (simd=$mode): reported no results (status $rc)"
		elif [ $rc -ne 0 ] && [ $rc -ne 4 ] &&
		     ! grep -q '^not ok' /tmp/selftest.out; then
			echo "not ok 0 $t (simd=$mode): exited with status $rc"
		fi
	done
done
echo auto > /sys/module/twheel/parameters/simd
/tests/simd/simd_vm_bench 1 > /tmp/simd_vm_bench.out 2>&1
rc=$?
grep -E '^(not )?ok ' /tmp/simd_vm_bench.out
[ $rc -eq 0 ] || echo "not ok 0 simd_vm_bench: exited with status $rc"
