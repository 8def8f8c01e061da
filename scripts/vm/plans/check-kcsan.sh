#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs on the race-detector kernel (KCSAN): the
# file context's KUnit suite, then the selftests where the expiry threads,
# readers, ioctls, CPU moves and hotplug meet. A data race KCSAN sees is a
# "BUG: KCSAN:" report in the kernel log, which fails the run.

. /lib/twheel/guest-lib.sh

report_kunit twheel_ctx

mkdir -p /tmp/kcsan
for t in race_test stress_test expiry_test read_test poll_test next_test \
	 set_cpu_test hotplug_test uring_test memory_test users_test \
	 ring_test; do
	ln -s "/selftests/twheel/$t" "/tmp/kcsan/$t"
	echo "$t" >> /tmp/kcsan/list
done
run_selftests /tmp/kcsan
