#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs in the VM, after /init has loaded the
# modules and before it unloads them.

. /lib/twheel/guest-lib.sh

run_selftests /selftests/twheel
# The same tests as 32-bit programs: the compat ioctl path.
run_selftests /selftests/twheel32
run_selftests /tests/userlib

# The demo daemon at a small size: every timer due fired exactly once,
# none early, nothing cancelled came back, and the device's counters agree
# (its exit status), with the verdict line to prove it ran to the end.
timeout -s KILL 120 /tools/twdemo -n 5000 -d 4 -s 1 > /tmp/twdemo.out 2>&1
rc=$?
sed 's/^/# /' /tmp/twdemo.out
if [ $rc -eq 0 ] && grep -qx 'exactness: PASS' /tmp/twdemo.out; then
	echo "ok 1 twdemo: 5000 simulated connections for 4 s, every timer due fired exactly once, none early, none cancelled came back"
else
	echo "not ok 1 twdemo: 5000 simulated connections for 4 s, every timer due fired exactly once, none early, none cancelled came back (status $rc)"
fi

# check_example NAME: run an example daemon; it must print the lines of
# expected.txt, each once (in any order: timers due together come in one
# read, either way round), exit with status 0, and every "fired X ms after
# it was due" must have X >= 0, by the example's own clock.
check_example() {
	timeout -s KILL 60 "/examples/$1" > "/tmp/$1.out" 2>&1
	rc=$?
	sed 's/^/# /' "/tmp/$1.out"
	sed 's/ fired -\{0,1\}[0-9.]* ms after it was due$/ fired/' "/tmp/$1.out" |
		sort > "/tmp/$1.got"
	sort /examples/expected.txt > /tmp/expected.sorted
	diff /tmp/expected.sorted "/tmp/$1.got" > "/tmp/$1.diff"
	same=$?
	if [ $rc -eq 0 ] && [ $same -eq 0 ]; then
		echo "ok 1 examples: $1 fires exactly the expected timers, once each"
	else
		sed 's/^/# /' "/tmp/$1.diff"
		echo "not ok 1 examples: $1 fires exactly the expected timers, once each (status $rc)"
	fi
	if grep -q 'fired [0-9.]* ms after it was due$' "/tmp/$1.out" &&
	   ! grep -q 'fired -' "/tmp/$1.out"; then
		echo "ok 2 examples: $1: no timer fired before it was due"
	else
		echo "not ok 2 examples: $1: no timer fired before it was due"
	fi
}

check_example epoll-daemon
check_example uring-daemon
