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
