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
# A million timers under KASAN and lockdep in an emulated CPU take longer
# than the run is given; the stock kernel runs that test at full size.
SELFTEST_EXCLUDE=million_test \
SELFTEST_EXCLUDE_WHY="too slow under KASAN in TCG; runs on the stock kernel" \
	run_selftests /selftests/twheel
run_selftests /tests/userlib
