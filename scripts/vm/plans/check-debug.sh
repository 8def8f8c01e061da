#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs on the debug kernel: the KUnit suites the
# loaded test modules ran, then every selftest, under lockdep, KASAN, UBSAN
# and DEBUG_OBJECTS.

. /lib/twheel/guest-lib.sh

# What the kernel itself left unreferenced while booting is not ours: start
# the leak scan after the end of the run from a clean slate.
if [ -e /sys/kernel/debug/kmemleak ]; then
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
fi

report_kunit twheel_wheel
report_kunit twheel_table
report_kunit twheel_ctx
report_kunit twheel_simd
run_common_checks
