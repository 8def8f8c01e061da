#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# usage: cli_test.sh TWSTAT DATA_DIR MAN_PAGE HEADER
#
# twstat as a program: options, exit statuses and messages, output against
# the recorded files in DATA_DIR, the timing of interval mode, and the man
# page (it renders, and documents every option and exit status of --help
# and HEADER). The debugfs cases run as root in a private mount namespace,
# so the machine's own mounts are never touched; without root or unshare
# they are skipped. Prints TAP.

set -u

twstat=$1 data=$2 man=$3 header=$4
n=0
failed=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
		[ -s "$out/err" ] && sed 's/^/# stderr: /' "$out/err" | head -n 5
		[ -s "$out/out" ] && sed 's/^/# stdout: /' "$out/out" | head -n 10
	fi
}

skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

# run CMD...: status in $rc, output in $out/out and $out/err
run() {
	"$@" > "$out/out" 2> "$out/err"
	rc=$?
}

# value LABEL: the number after a snapshot label
value() {
	sed -n "s/^  $1  *\([^ ].*\)\$/\1/p" "$out/out"
}

echo "TAP version 13"

# --- options --------------------------------------------------------------

run "$twstat" --help
opts_ok=0
for o in --interval --count --cpu --hist --json --header-once --dir --help; do
	grep -q -- "$o" "$out/out" || opts_ok=1
done
[ $rc -eq 0 ] && [ $opts_ok -eq 0 ] && [ ! -s "$out/err" ]
ok $? "--help lists every option on stdout and exits 0"

for args in "--bogus" "-i 0" "-i -1" "-i abc" "-i 1e9" "-c 0" "-c -2" "-c x" \
	    "1 2 3" "-i 1 2" "-c 2 1 3" "-d"; do
	# shellcheck disable=SC2086
	run "$twstat" -d "$data/live-2cpu" $args
	[ $rc -eq 2 ] && grep -q "twstat --help" "$out/err" && [ ! -s "$out/out" ]
	ok $? "usage error '$args' exits 2 with a hint on stderr"
done

# --- errors in recorded directories ---------------------------------------

run "$twstat" -d "$data/no-such-dir"
[ $rc -eq 4 ] && grep -q "no-such-dir/counters: No such file or directory" "$out/err"
ok $? "a directory without counters exits 4 and names the file"

run "$twstat" -d "$data/malformed"
[ $rc -eq 1 ] && grep -q "malformed/counters: line 3: not a 'name value' line: 'cancels twelve'" "$out/err" &&
	[ ! -s "$out/out" ]
ok $? "a malformed file exits 1 and names the line"

run "$twstat" -d "$data/empty"
[ $rc -eq 1 ] && grep -q "no counters in it" "$out/err"
ok $? "an empty file exits 1"

run "$twstat" -d "$data/duplicate"
[ $rc -eq 1 ] && grep -q "line 3: 'arms' appears twice" "$out/err"
ok $? "a counter given twice exits 1"

run "$twstat" -d "$data/older" --cpu
[ $rc -eq 1 ] && grep -q "no per-CPU counters" "$out/err"
ok $? "--cpu without per-CPU files exits 1"

# --- snapshots of recorded directories ------------------------------------

run "$twstat" -d "$data/live-2cpu"
[ $rc -eq 0 ] && [ "$(value cancels)" = 400000 ] &&
	[ "$(value 'thread wake-ups')" = 784 ] && [ "$(value 'timers armed')" = 5 ] &&
	[ "$(value 'largest batch')" = 5000 ] &&
	head -n 1 "$out/out" | grep -q "^twheel counters in .*live-2cpu, 2 CPUs\$"
ok $? "the snapshot of the live recording shows its sums"

run "$twstat" -d "$data/older"
[ $rc -eq 0 ] && [ "$(value 're-arms in place')" = - ] &&
	[ "$(value 'memory in use (bytes)')" = - ] && [ "$(value arms)" = 500 ]
ok $? "counters an older module lacks are shown as -"

run "$twstat" -d "$data/newer"
[ $rc -eq 0 ] && grep -q "^not known to this twstat:\$" "$out/out" &&
	[ "$(value timers_migrated)" = 12 ] && [ "$(value deadline_slack_ns)" = 4096 ]
ok $? "counters of a newer module are listed as unknown"

run "$twstat" -d "$data/live-2cpu" --cpu
[ $rc -eq 0 ] && grep -Eq '^ +cpu0 +cpu1 +total$' "$out/out" &&
	grep -Eq '^arms +10 +20 +30$' "$out/out" &&
	grep -Eq '^cancels +200000 +200000 +400000$' "$out/out"
ok $? "--cpu shows a column per CPU and the total"

run "$twstat" -d "$data/live-2cpu" --hist
[ $rc -eq 0 ] && grep -q "^lateness of expiries, all CPUs\$" "$out/out" &&
	grep -q "^expiry batch sizes, all CPUs\$" "$out/out" &&
	grep -Eq '^ +4096 - 8191 : 1 +\|#{20} {20}\|$' "$out/out" &&
	! grep -q "cpu1" "$out/out"
ok $? "--hist draws both histograms"

run "$twstat" -d "$data/live-2cpu" --hist --cpu
[ $rc -eq 0 ] && grep -q "^lateness of expiries, cpu1\$" "$out/out" &&
	grep -q "^expiry batch sizes, cpu0\$" "$out/out"
ok $? "--hist --cpu adds one pair per CPU"

run "$twstat" -d "$data/newer" --json --cpu
lines=$(wc -l < "$out/out")
if [ $rc -eq 0 ] && [ "$lines" -eq 1 ] && command -v python3 > /dev/null; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cpus"] == 2
assert d["counters"]["timers_migrated"] == 12
assert d["counters"]["arms"] == 100
assert [c["counters"]["arms"] for c in d["per_cpu"]] == [70, 30]
' "$out/out" 2> "$out/err"
	ok $? "--json prints one line of JSON with every counter"
elif [ $rc -eq 0 ] && [ "$lines" -eq 1 ]; then
	grep -q '"timers_migrated":12' "$out/out"
	ok $? "--json prints one line with every counter (python3 missing: not parsed)"
else
	ok 1 "--json prints one line of JSON with every counter"
fi

# --- interval mode ------------------------------------------------------------

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start=$(now_ms)
run "$twstat" -d "$data/busy-t0" -i 0.1 -c 3
took=$(( $(now_ms) - start ))
[ $rc -eq 0 ] && [ "$(wc -l < "$out/out")" -eq 4 ] &&
	[ "$(grep -c '^ timers ' "$out/out")" -eq 1 ] &&
	[ "$(grep -Ec '^ +5000 +2 +2000 +768.0K( +0){10}$' "$out/out")" -eq 3 ]
ok $? "-i 0.1 -c 3 prints a header and three lines of zero rates"
[ "$took" -ge 300 ] && [ "$took" -lt 3000 ]
ok $? "-i 0.1 -c 3 takes three intervals (${took} ms)"

run "$twstat" -d "$data/busy-t0" 0.05 2
[ $rc -eq 0 ] && [ "$(wc -l < "$out/out")" -eq 3 ]
ok $? "'twstat 0.05 2' is -i 0.05 -c 2"

run "$twstat" -d "$data/busy-t0" -i 0.01 -c 41
[ $rc -eq 0 ] && [ "$(grep -c '^ timers ' "$out/out")" -eq 3 ] &&
	[ "$(sed -n 22p "$out/out" | cut -c1-7)" = " timers" ] &&
	[ "$(wc -l < "$out/out")" -eq 44 ]
ok $? "the header comes again every 20 lines when not on a terminal"

run "$twstat" -d "$data/busy-t0" -n -i 0.01 -c 41
[ $rc -eq 0 ] && [ "$(grep -c '^ timers ' "$out/out")" -eq 1 ]
ok $? "-n prints the header once"

run "$twstat" -d "$data/busy-t0" --cpu 0.05 2
[ $rc -eq 0 ] && [ "$(grep -c '^ cpu ' "$out/out")" -eq 2 ] &&
	[ "$(grep -Ec '^ +(0|1|all)( +0){10}$' "$out/out")" -eq 6 ]
ok $? "--cpu intervals print a block of rows per CPU"

# intervals N SUM: N numbers on stdin, each above 0, adding up to SUM at
# least (each reading is timed; together they span the whole run, give or
# take the printed precision)
intervals() {
	awk -v want="$1" -v sum="$2" '
		{ n++; s += $1; if ($1 + 0 <= 0) bad = 1 }
		END { exit !(n == want && !bad && s >= sum) }'
}

run "$twstat" -d "$data/busy-t0" --json 0.05 2
[ $rc -eq 0 ] && [ "$(grep -c '^{"dir":.*"interval_s":[0-9.]*,.*"rates":{"arms":0.000,' "$out/out")" -eq 2 ] &&
	sed -n 's/.*"interval_s":\([0-9.]*\),.*/\1/p' "$out/out" | intervals 2 0.09999
ok $? "--json intervals print one object per interval with rates"

run "$twstat" -d "$data/busy-t0" --hist 0.05 1
[ $rc -eq 0 ] && [ "$(grep -c '(empty)' "$out/out")" -eq 2 ] &&
	sed -n 's/^--- interval 1, \([0-9.]*\) s ---$/\1/p' "$out/out" | intervals 1 0.0499
ok $? "--hist intervals draw what happened in the interval"

# Readings that change: DIR/counters is a FIFO, so each reading twstat
# takes is exactly the next file the test writes into it. Once twstat has
# opened the FIFO, the writer puts a fresh one in its place before writing,
# so that the next reading cannot open the same FIFO and run two files
# together.
fifo_dir=$out/fifo
mkdir "$fifo_dir"

# feed FILE...: in the background, give twstat's readings these files, one
# each; fed: stop a writer that twstat left waiting.
feed() {
	rm -f "$fifo_dir/counters" && mkfifo "$fifo_dir/counters"
	(
		for f in "$@"; do
			exec 3> "$fifo_dir/counters"
			mkfifo "$fifo_dir/next" && mv "$fifo_dir/next" "$fifo_dir/counters"
			cat "$f" >&3
			exec 3>&-
		done
	) &
	feeder=$!
}
fed() {
	kill "$feeder" 2> /dev/null
	wait "$feeder" 2> /dev/null
}

feed "$data/busy-t0/counters" "$data/busy-t1/counters"
run timeout 20 "$twstat" -d "$fifo_dir" --json 0.05 1
fed
if [ $rc -eq 0 ] && command -v python3 > /dev/null; then
	python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
# the rate is the increase over the measured interval, not the nominal one
assert abs(d["rates"]["arms"] * d["interval_s"] - 2000) < 2, d["rates"]["arms"]
assert abs(d["rates"]["expiries"] * d["interval_s"] - 3000) < 3
assert d["counters"]["arms"] == 202000 and d["counters"]["timers_armed"] == 3300
assert "timers_armed" not in d["rates"] and "batch_max" not in d["rates"]
' "$out/out" 2> "$out/err"
	ok $? "rates are the increase between two readings per measured second"
elif [ $rc -eq 0 ]; then
	skip "rates are the increase between two readings per measured second" "no python3"
else
	ok 1 "rates are the increase between two readings per measured second"
fi

feed "$data/busy-t0/counters" "$data/busy-t1/counters"
run timeout 20 "$twstat" -d "$fifo_dir" 0.05 1
fed
[ $rc -eq 0 ] && sed -n 2p "$out/out" | grep -Eq '^ +3300 +2 +2000 +704\.0K( +[1-9][0-9.]*[kMG]?){10}$'
ok $? "an interval line shows the gauges of the second reading and rates above 0"

feed "$data/busy-t1/counters" "$data/busy-t0/counters"
run timeout 20 "$twstat" -d "$fifo_dir" 0.05 1
fed
[ $rc -eq 0 ] && grep -q "counters went backwards: the module was reloaded" "$out/err"
ok $? "counters that go backwards are reported"

feed "$data/busy-t0/counters" "$data/malformed/counters"
run timeout 20 "$twstat" -d "$fifo_dir" 0.05 5
fed
[ $rc -eq 1 ] && [ "$(wc -l < "$out/out")" -eq 1 ] && grep -q "line 3" "$out/err"
ok $? "a reading that fails in interval mode ends twstat with its status"

# --- the open files (--files) ------------------------------------------------

run "$twstat" --files --proc "$data/proc-files"
cat > "$out/want" <<'WANT'
twheel files: 3, in 2 processes; 1298610 timers armed, 18 events queued, 624308 connections
    PID COMMAND           UID     FD  CPU PIN      ARMED     QUEUED      CONNS  QUOTA
   1200 rpcd                0      9    0  no    1048570          6     524288      -
    812 quicd             998    5+1    1  no     250000         12     100000      -
    812 quicd             998      6    0 yes         40          0         20      -
WANT
[ $rc -eq 0 ] && diff -u "$out/want" "$out/out" > "$out/diff" && [ ! -s "$out/err" ]
ok $? "--files lists each open file once, most timers first, under the first process holding it" ||
	sed 's/^/# /' "$out/diff"

run "$twstat" --files --json --proc "$data/proc-files"
if [ $rc -eq 0 ] && command -v python3 > /dev/null; then
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["quota"] is None and d["unreadable_processes"] == 0
f = d["files"]
assert [(x["pid"], x["fd"], x["descriptors"]) for x in f] == [(1200, 9, 1), (812, 5, 2), (812, 6, 1)]
assert f[0]["comm"] == "rpcd" and f[0]["armed"] == 1048570 and f[0]["conns"] == 524288
assert f[2]["pinned"] is True and f[1]["pinned"] is False and f[1]["uid"] == 998
' "$out/out" 2> "$out/err"
	ok $? "--files --json gives the same files as one line of JSON"
else
	skip "--files --json gives the same files as one line of JSON" "needs python3"
fi

run "$twstat" --files --proc "$data/no-such-dir"
[ $rc -eq 1 ] && grep -q "no-such-dir: No such file or directory" "$out/err"
ok $? "--files on a missing /proc exits 1 and names it"

run "$twstat" --files --proc "$data/proc-files" 0.05 2
[ $rc -eq 0 ] && [ "$(grep -c '^twheel files: 3,' "$out/out")" -eq 2 ]
ok $? "--files with an interval and a count prints the table count times"

for args in "--proc /proc" "--files --cpu" "--files --hist" "--files -d /tmp"; do
	# shellcheck disable=SC2086
	run "$twstat" $args
	[ $rc -eq 2 ] && grep -q "twstat --help" "$out/err"
	ok $? "usage error '$args' exits 2"
done

# --- the man page -----------------------------------------------------------

if ! command -v man > /dev/null || ! command -v groff > /dev/null; then
	for t in "the man page renders with man -l" \
		 "groff has no warnings about the man page" \
		 "the man page documents every exit status" \
		 "the man page documents every option of --help"; do
		skip "$t" "needs man-db and groff-base"
	done
else
MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$man" > "$out/man.txt" 2> "$out/err"
[ $? -eq 0 ] && [ ! -s "$out/err" ] && grep -q "^EXIT STATUS" "$out/man.txt"
ok $? "the man page renders with man -l"
groff -man -ww -z "$man" > "$out/err" 2>&1 && [ ! -s "$out/err" ]
ok $? "groff has no warnings about the man page"

sed -n '/^EXIT STATUS/,/^[A-Z]/p' "$out/man.txt" > "$out/exit.txt"
codes=$(sed -n 's/^\tTWSTAT_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$header")
all=0
for c in $codes; do
	grep -Eq "^ +$c +[A-Za-z]" "$out/exit.txt" || all=1
done
[ -n "$codes" ] && [ "$(echo "$codes" | wc -l)" -eq 6 ] && [ $all -eq 0 ]
ok $? "the man page documents every exit status ($(echo $codes))"

all=0
"$twstat" --help | grep -o -- '--[a-z][a-z-]*' | sort -u > "$out/opts"
while read -r o; do
	grep -q -- "$o" "$out/man.txt" || { echo "# $o is not in the man page"; all=1; }
done < "$out/opts"
[ -s "$out/opts" ] && [ $all -eq 0 ]
ok $? "the man page documents every option of --help"
fi

# --- debugfs, the module and permissions ------------------------------------

# A copy that user nobody can run, wherever the build tree is.
bin=$out/bin
mkdir -p "$bin" && cp "$twstat" "$bin/twstat" && chmod 755 "$out" "$bin" "$bin/twstat"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare > /dev/null; then
	for t in "without debugfs, twstat exits 3" \
		 "without the module, twstat exits 4" \
		 "without the module, a user who may not read debugfs is told so" \
		 "an unreadable directory exits 5"; do
		skip "$t" "needs root and unshare"
	done
elif [ -e /sys/module/twheel ]; then
	skip "debugfs cases" "twheel is loaded on this machine"
else
	run unshare -m sh -c '
		for m in $(awk "\$3 == \"debugfs\" { print \$2 }" /proc/mounts); do
			umount -l "$m"
		done
		exec "$1"' sh "$bin/twstat"
	[ $rc -eq 3 ] && grep -q "debugfs is not mounted; mount it with: mount -t debugfs none /sys/kernel/debug" "$out/err"
	ok $? "without debugfs, twstat exits 3"

	run unshare -m sh -c 'mount -t debugfs none /sys/kernel/debug && exec "$1"' sh "$bin/twstat"
	[ $rc -eq 4 ] && grep -q "the twheel module is not loaded" "$out/err"
	ok $? "without the module, twstat exits 4"

	run unshare -m sh -c 'mount -t debugfs -o mode=0700 none /sys/kernel/debug &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$1"' sh "$bin/twstat"
	[ $rc -eq 4 ] && grep -q "the twheel module is not loaded" "$out/err"
	ok $? "without the module, a user who may not read debugfs is told so"

	mkdir "$out/private" && cp -r "$data/live-2cpu/." "$out/private/" && chmod 700 "$out/private"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$bin/twstat" -d "$out/private"
	[ $rc -eq 5 ] && grep -q "Permission denied" "$out/err"
	ok $? "an unreadable directory exits 5"
fi

echo "1..$n"
[ $failed -eq 0 ]
