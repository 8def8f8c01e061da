# SPDX-License-Identifier: GPL-2.0
#
# Shell functions for the plans that run inside the twheel test VM.

# run_selftests DIR: run every program named in DIR/list, each bounded in
# time. Their TAP goes to stdout as it is. A program that fails without
# reporting a failing case (a crash, a timeout) gets a failing line of its
# own so that it cannot pass by saying nothing.
run_selftests() {
	dir=$1
	limit=${SELFTEST_TIMEOUT:-300}
	for t in $(cat "$dir/list"); do
		echo "# selftest $t"
		timeout -s KILL "$limit" "$dir/$t" > /tmp/selftest.out 2>&1
		rc=$?
		cat /tmp/selftest.out
		if ! grep -qE '^(not )?ok ' /tmp/selftest.out; then
			# A program that reports nothing is not a pass.
			echo "not ok 0 $t: reported no results (status $rc)"
		elif [ $rc -ne 0 ] && [ $rc -ne 4 ] &&
		     ! grep -q '^not ok' /tmp/selftest.out; then
			echo "not ok 0 $t: exited with status $rc"
		fi
	done
}

# report_kunit SUITE: the KTAP results of a KUnit suite that a loaded test
# module ran, one TAP line per case (KUnit indents them under the suite).
report_kunit() {
	r=/sys/kernel/debug/kunit/$1/results
	if [ ! -r "$r" ]; then
		echo "not ok 0 kunit: $1: no results in $r"
		return
	fi
	echo "# kunit suite $1"
	sed -n 's/^[[:space:]]\{1,\}\(\(not \)\{0,1\}ok [0-9].*\)$/\1/p' "$r"
	grep -E '^(not )?ok [0-9]' "$r" | sed 's/^/# suite: /'
	if ! grep -qE '^[[:space:]]+(not )?ok [0-9]' "$r"; then
		echo "not ok 0 kunit: $1: reported no cases"
	fi
}

# The demo daemon at a small size: every timer due fired exactly once,
# none early, nothing cancelled came back, and the device's counters agree
# (its exit status), with the verdict line to prove it ran to the end.
run_twdemo() {
	timeout -s KILL 120 /tools/twdemo -n 5000 -d 4 -s 1 > /tmp/twdemo.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/twdemo.out
	if [ $rc -eq 0 ] && grep -qx 'exactness: PASS' /tmp/twdemo.out; then
		echo "ok 1 twdemo: 5000 simulated connections for 4 s, every timer due fired exactly once, none early, none cancelled came back"
	else
		echo "not ok 1 twdemo: 5000 simulated connections for 4 s, every timer due fired exactly once, none early, none cancelled came back (status $rc)"
	fi
}

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

# What both check plans run: the selftests, again as 32-bit programs (the
# compat ioctl path), libtwheel's tests, twdemo and the example daemons.
run_common_checks() {
	run_selftests /selftests/twheel
	run_selftests /selftests/twheel32
	run_selftests /tests/userlib
	run_twdemo
	check_example epoll-daemon
	check_example uring-daemon
}
