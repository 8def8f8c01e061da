#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# quic-server against Debian's unmodified HTTP/3 client, gtlsclient, in the
# test VM: the test `make check` runs (TAP on stdout), and with --bench the
# measurement `make bench-quic` runs.
#
# usage: quic-test.sh              the test, on every timer back-end
#        quic-test.sh --bench DIR  the benchmark; results in DIR
#
# The test, for each back-end (twheel, timerfd, heap):
# 1. CLIENTS gtlsclients at once, each fetching two files while it drops
#    LOSS of the packets the server sends it (gtlsclient's --rx-loss), so
#    that the server's loss detection and probe timeouts must fire for the
#    transfers to finish; the clients then stay connected, idle, until the
#    idle timeout. The clients start at most WINDOW ahead of the
#    handshakes the server reports (--print-handshakes): fifty started at
#    once starve each other of the emulated CPUs until some handshakes
#    take longer than the idle timeout. Loss the other way (--tx-loss) is
#    left at 0: a
#    client's lost handshake Finished is retransmitted on the client's
#    probe timeout, which a starved guest inflates past any idle timeout
#    short enough for a test (measured: Documentation/quic-server.rst). Every
#    client must exit 0 and every file arrive intact (sha256: gtlsclient
#    exits 0 even when nothing answered). The server must have held all
#    the connections at once, closed every one by its idle timeout (none
#    early, none later than the allowance), and then hold nothing:
#    no connection, no timer, in its own counts, the back-end's, and the
#    kernel's (twheel's per-file counters and debugfs counters, fdinfo
#    when the module has it; the timerfds the process holds).
# 2. DRAINERS lossless clients that close their connections when done:
#    each connection must end by the server's draining period, and the
#    server hold nothing again.
# 3. A client that offers only a key exchange group the server does not
#    take: the server closes the connection (CONNECTION_CLOSE) and must
#    forget it at the end of its closing period.
# 4. SIGTERM: the server's final counts must add up (connections,
#    requests, bytes) and agree with the kernel's (its exit status).
#
# Clients and server assume an initial RTT of 100 ms rather than RFC
# 9002's 333 ms, and give a handshake 30 s rather than 10: the first probe
# timeout of a handshake is then 0.3 s, not 1 s, so that a handshake
# whose first flight is lost gets through before a loaded guest's idle or
# handshake timeout.
#
# The benchmark runs step 1 ROUNDS times per back-end, back-ends in turn,
# with clients that close when done, all started at once (QUIC_WINDOW, by
# default the number of clients) and a 10 s idle timeout, and keeps each
# run's counters. With
# QUIC_PIN=S:C (its default is 0:1 when the guest has two CPUs) the server
# runs on CPU S (--cpu: with twheel, that CPU's wheel serves it) and the
# clients on CPUs C, so that the clients' load does not decide when the
# server runs.
#
# Environment: QUIC_BACKENDS (twheel timerfd heap), QUIC_CLIENTS (50),
# QUIC_DRAINERS (10), QUIC_LOSS (0.1), QUIC_IDLE_MS (20000), QUIC_WINDOW
# (10), QUIC_LATE_MS
# (1000: how much later than its period an idle close may come),
# QUIC_RTT_MS (100), QUIC_HANDSHAKE_MS (30000), QUIC_ROUNDS (3, --bench
# only).

here=$(cd "$(dirname "$0")" && pwd)
server=$here/quic-server
client=${QUIC_CLIENT:-/usr/bin/gtlsclient}
backends=${QUIC_BACKENDS:-twheel timerfd heap}
clients=${QUIC_CLIENTS:-50}
drainers=${QUIC_DRAINERS:-10}
loss=${QUIC_LOSS:-0.1}
idle_ms=${QUIC_IDLE_MS:-20000}
window=${QUIC_WINDOW:-10}
late_ms=${QUIC_LATE_MS:-1000}
rtt_ms=${QUIC_RTT_MS:-100}
handshake_ms=${QUIC_HANDSHAKE_MS:-30000}
rounds=${QUIC_ROUNDS:-3}
pin=${QUIC_PIN-}
work=/tmp/quic
port=4433
bench=

if [ "$1" = --bench ]; then
	bench=$2
	mkdir -p "$bench" || exit 1
	[ -n "${QUIC_PIN+set}" ] || [ "$(nproc)" -lt 2 ] || pin=0:1
	# As measured in Documentation/quic-server.rst: all clients at once.
	[ -n "${QUIC_IDLE_MS+set}" ] || idle_ms=10000
	[ -n "${QUIC_WINDOW+set}" ] || window=$clients
fi
# The server reports its handshakes only when the clients are paced.
print_hs=
[ "$window" -ge "$clients" ] || print_hs=--print-handshakes
server_pin=
client_pin=
pinned="not pinned to CPUs"
if [ -n "$pin" ]; then
	server_pin="--cpu=${pin%%:*}"
	client_pin="taskset -c ${pin#*:}"
	pinned="server on CPU ${pin%%:*}, clients on CPU ${pin#*:}"
fi

n=0 shown=0
tap() {
	rc=$1
	shift
	n=$((n + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $n quic-server: $*"
	else
		echo "not ok $n quic-server: $*"
	fi
}

now_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# The last "name value" of NAME inside the last block WHAT of FILE.
block_val() {
	awk -v w="$1" -v k="$2" '
		$0 == w " begin" { split("", v); inb = 1; next }
		$0 == w " end" { inb = 0; next }
		inb && $1 == k { v[k] = $2 }
		END { print (k in v) ? v[k] : "missing" }' "$3"
}

# Lines from the server (fd 3) into $out until one that is, or starts
# with, WORD; fails when no line came for SECONDS.
read_until() {
	while IFS= read -r -t "$2" line <&3; do
		echo "$line" >> "$out"
		case $line in
		"$1" | "$1 "*) return 0 ;;
		esac
	done
	return 1
}

start_server() {
	rm -f $work/srv.fifo
	mkfifo $work/srv.fifo
	out=$work/$1.out
	: > "$out"
	hs_seen=0
	# shellcheck disable=SC2086
	"$server" $server_pin $print_hs --timers="$1" --idle-timeout="$idle_ms" \
		--handshake-timeout="$handshake_ms" --initial-rtt="$rtt_ms" \
		-d $work/www 127.0.0.1 $port > $work/srv.fifo 2> $work/$1.err &
	spid=$!
	exec 3< $work/srv.fifo
	read_until ready 30
}

# run_clients TAG COUNT FLAGS URL...: COUNT gtlsclients, each in its own
# download directory, started at most $window ahead of the handshakes the
# server has reported; $failed is how many exited other than 0.
run_clients() {
	tag=$1 count=$2 flags=$3
	shift 3
	urls=
	for u in "$@"; do
		urls="$urls https://127.0.0.1:$port/$u"
	done
	pids=
	i=0
	hs_base=$hs_seen
	while [ $i -lt "$count" ]; do
		# A handshake that never completes stops the pacing, not the test.
		while [ $((i - (hs_seen - hs_base))) -ge "$window" ] &&
		      read_until handshake 60; do
			hs_seen=${line#handshake }
		done
		d=$work/dl/$tag-$i
		mkdir -p "$d"
		# shellcheck disable=SC2086
		timeout -s KILL 180 $client_pin "$client" -q $flags \
			--initial-rtt="${rtt_ms}ms" \
			--handshake-timeout="$((handshake_ms / 1000))s" --download="$d" \
			127.0.0.1 $port $urls > "$d.log" 2>&1 &
		pids="$pids $!"
		i=$((i + 1))
	done
	failed=0 i=0
	for p in $pids; do
		if ! wait "$p"; then
			failed=$((failed + 1))
			show_client "$tag-$i" "exit status not 0"
		fi
		i=$((i + 1))
	done
}

# The end of a failed client's log, for the first few.
show_client() {
	shown=$((shown + 1))
	[ $shown -le 3 ] || return
	echo "# client $1: $2; the end of its log:"
	tail -n 8 "$work/dl/$1.log" | sed 's/^/#   /'
}

# check_downloads TAG COUNT FILE...: $bad is how many files are missing or
# differ from the served ones.
check_downloads() {
	tag=$1 count=$2
	shift 2
	bad=0
	i=0
	while [ $i -lt "$count" ]; do
		for f in "$@"; do
			got=$(sha256sum < "$work/dl/$tag-$i/$f" 2>/dev/null)
			if [ "$got" != "$(cat $work/sums/$f)" ]; then
				bad=$((bad + 1))
				show_client "$tag-$i" "$f missing or not the file served"
			fi
		done
		i=$((i + 1))
	done
}

# What the kernel says the server holds, checked against "nothing".
# Sets $held (a description) and returns non-zero if anything is held.
kernel_holds_nothing() {
	b=$1
	held=
	case $b in
	twheel)
		c=/sys/kernel/debug/twheel/counters
		held="debugfs timers_armed $(awk '$1 == "timers_armed" { print $2 }' $c)"
		held="$held connections $(awk '$1 == "connections" { print $2 }' $c)"
		awk '$1 == "timers_armed" || $1 == "connections" { if ($2 != 0) bad = 1 }
		     END { exit bad }' $c || return 1
		;;
	timerfd | heap)
		nt=0
		for l in /proc/$spid/fd/*; do
			[ "$(readlink "$l")" = "anon_inode:[timerfd]" ] || continue
			nt=$((nt + 1))
			# The heap's one timerfd must be disarmed.
			grep -q '^it_value: (0, 0)' /proc/$spid/fdinfo/${l##*/} || return 1
		done
		held="timerfds $nt, disarmed"
		want=0
		[ "$b" = heap ] && want=1
		[ $nt -eq $want ] || return 1
		;;
	esac
	return 0
}

# The server's own view from its last quiescent block: nothing held.
server_holds_nothing() {
	for k in open timers_wanted $2; do
		v=$(block_val quiescent $k "$out")
		[ "$v" = 0 ] || { held="$held $k=$v"; return 1; }
	done
	return 0
}

backend_keys() {
	case $1 in
	twheel) echo twheel_armed twheel_queued twheel_conns ;;
	timerfd) echo timerfd_open timerfd_armed ;;
	heap) echo heap_entries heap_timerfd_armed ;;
	esac
}

# fdinfo of the server's twheel file, where the module prints it.
check_fdinfo() {
	fd=$(block_val quiescent twheel_fd "$out")
	f=/proc/$spid/fdinfo/$fd
	if ! grep -q '^twheel-' "$f" 2>/dev/null; then
		echo "ok $((n += 1)) quic-server: $1: fdinfo of the server's twheel file shows nothing armed, queued or connected # SKIP fdinfo has no twheel- lines in this module"
		return
	fi
	sed 's/^/# fdinfo: /' "$f"
	awk '$1 == "twheel-armed:" || $1 == "twheel-queued:" || $1 == "twheel-conns:" {
		seen++; if ($2 != 0) bad = 1 }
	     END { exit (bad || seen != 3) }' "$f"
	tap $? "$1: fdinfo of the server's twheel file shows nothing armed, queued or connected"
}

counter() {
	block_val counters "$1" "$out"
}

setup() {
	ip link set lo up
	rm -rf $work
	mkdir -p $work/www $work/dl $work/sums
	dd if=/dev/urandom of=$work/www/a bs=1024 count=64 2>/dev/null
	dd if=/dev/urandom of=$work/www/b bs=1024 count=128 2>/dev/null
	dd if=/dev/urandom of=$work/www/c bs=1024 count=256 2>/dev/null
	for f in a b c; do
		sha256sum < $work/www/$f > $work/sums/$f
	done
	if [ ! -x "$client" ] || [ ! -x "$server" ]; then
		tap 1 "gtlsclient ($client) and the server ($server) are in the VM"
		return 1
	fi
}

test_backend() {
	b=$1
	lossy="--rx-loss=$loss"
	start_server "$b"
	rc=$?
	tap $rc "$b: the server starts (--timers=$b, idle timeout $idle_ms ms)"
	if [ $rc -ne 0 ]; then
		sed 's/^/# stderr: /' $work/$b.err
		kill -KILL $spid 2>/dev/null
		return
	fi

	t0=$(now_ms)
	run_clients "$b-lossy" "$clients" "$lossy" a b
	t1=$(now_ms)
	tap $failed "$b: $clients gtlsclients fetching 2 files each, dropping $loss of the server's packets, all exit 0 ($failed did not; $((t1 - t0)) ms)"
	check_downloads "$b-lossy" "$clients" a b
	tap $bad "$b: every file they downloaded matches its sha256 ($bad did not)"

	# The clients left their connections idle; the server's idle timeout
	# ends them, the last one at most idle + allowance after the clients.
	read_until "quiescent end" $((idle_ms / 1000 + late_ms / 1000 + 30))
	rc=$?
	held=
	[ $rc -eq 0 ] && server_holds_nothing "$b" "$(backend_keys $b)" || rc=1
	[ $rc -eq 0 ] && kernel_holds_nothing "$b" || rc=1
	tap $rc "$b: once idle, the server holds no connection and no timer (its counts, the back-end's; the kernel's: $held)"
	[ "$b" = twheel ] && check_fdinfo "$b"

	run_clients "$b-drain" "$drainers" "--exit-on-all-streams-close" c
	check_downloads "$b-drain" "$drainers" c
	tap $((failed + bad)) "$b: $drainers gtlsclients that close when done exit 0 with their file intact ($failed failed, $bad bad files)"
	read_until "quiescent end" 30
	rc=$?
	held=
	[ $rc -eq 0 ] && server_holds_nothing "$b" "$(backend_keys $b)" || rc=1
	[ $rc -eq 0 ] && kernel_holds_nothing "$b" || rc=1
	tap $rc "$b: after their draining periods the server holds nothing again ($held)"

	run_clients "$b-refused" 1 "--groups=-GROUP-ALL:+GROUP-FFDHE2048 --exit-on-all-streams-close" a
	read_until "quiescent end" 30
	rc=$?
	held=
	[ $rc -eq 0 ] && server_holds_nothing "$b" "$(backend_keys $b)" || rc=1
	[ $rc -eq 0 ] && kernel_holds_nothing "$b" || rc=1
	tap $rc "$b: a client whose key exchange the server refuses is closed, and after the closing period the server holds nothing ($held)"

	kill -TERM $spid
	read_until "counters end" 30
	# The "check" lines follow the counters.
	while IFS= read -r -t 10 line <&3; do
		echo "$line" >> "$out"
	done
	wait $spid
	src=$?
	exec 3<&-
	sed -n '/^counters begin/,$p' "$out" | grep -vE '^(counters|bytes_rx|bytes_tx)' |
		tr '\n' ' ' | fold -w 200 | sed 's/^/# /'
	echo
	sed 's/^/# stderr: /' $work/$b.err

	all=$((clients + drainers + 1))
	[ "$(counter connections_max_open)" -ge "$clients" ] 2>/dev/null
	tap $? "$b: the server held all $clients lossy connections at once (at most $(counter connections_max_open))"
	[ "$(counter timer_expiries_loss)" -gt 0 ] 2>/dev/null &&
		[ "$(counter timer_ptos)" -gt 0 ] 2>/dev/null
	tap $? "$b: loss detection timers fired and sent probes ($(counter timer_expiries_loss) expiries with loss detection due, $(counter timer_ptos) PTO probes)"
	[ "$(counter timer_early)" = 0 ] && [ "$(counter timer_early_device)" = 0 ]
	tap $? "$b: no timer event came before its deadline ($(counter timer_early) by the server's clock, $(counter timer_early_device) by twheel's; $(counter timer_expiries) handled, lateness p50 $(($(counter lateness_p50_ns) / 1000)) us, p99 $(($(counter lateness_p99_ns) / 1000)) us)"
	margin=$(counter idle_min_margin_ns)
	lateness=$(counter idle_max_late_ns)
	[ "$(counter closes_idle)" = "$clients" ] &&
		[ "$margin" -ge 0 ] 2>/dev/null &&
		[ "$lateness" -le $((late_ms * 1000000)) ] 2>/dev/null
	tap $? "$b: the idle timeout closed all $clients idle connections, none early and none later than $late_ms ms after its period ($(counter closes_idle) closed; earliest $((margin / 1000)) us after the timeout, latest $((lateness / 1000)) us after the period)"
	[ "$(counter closes_draining)" = "$drainers" ]
	tap $? "$b: the $drainers closed connections ended with the draining period ($(counter closes_draining))"
	[ "$(counter closes_closing)" = 1 ] && [ "$(counter handshakes)" = $((all - 1)) ]
	tap $? "$b: the refused connection ended with the closing period, without a handshake ($(counter closes_closing) closed)"
	[ "$(counter connections)" = "$all" ] &&
		[ "$(counter requests)" = $((2 * clients + drainers)) ] &&
		[ "$(counter responses_200)" = $((2 * clients + drainers)) ] &&
		[ "$(counter bytes_body)" = $(((64 + 128) * 1024 * clients + 256 * 1024 * drainers)) ] &&
		[ "$(counter closes_shutdown)" = 0 ] &&
		[ "$(counter timer_expiries)" -gt 0 ] 2>/dev/null
	tap $? "$b: the server's counts add up: $all connections, $((2 * clients + drainers)) requests answered 200, every body byte, none left at exit"
	grep '^check ' "$out" | sed 's/^/# /'
	[ $src -eq 0 ] && grep -q '^check ' "$out" && ! grep -q '^check .*MISMATCH' "$out"
	tap $? "$b: at exit nothing is held, and the back-end's counts agree with the kernel's (status $src)"
	port=$((port + 1))
}

# --- the benchmark ---------------------------------------------------------

twheel_counter() {
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/twheel/counters 2>/dev/null
}

bench_run() {
	b=$1 r=$2
	start_server "$b" || { tap 1 "bench: $b round $r: the server starts"; return; }
	run0=$(twheel_counter run_ns) wake0=$(twheel_counter wakeups)
	t0=$(now_ms)
	run_clients "$b-$r" "$clients" "--rx-loss=$loss --exit-on-all-streams-close" a b
	t1=$(now_ms)
	check_downloads "$b-$r" "$clients" a b
	rm -rf $work/dl/$b-$r*
	# Connections whose close was lost end by the idle timeout.
	read_until "quiescent end" $((idle_ms / 1000 + 30))
	run1=$(twheel_counter run_ns) wake1=$(twheel_counter wakeups)
	kill -TERM $spid
	read_until "counters end" 30
	wait $spid
	src=$?
	exec 3<&-
	f=$bench/$b-$r.txt
	sed -n '/^counters begin/,/^counters end/p' "$out" | sed '1d;$d' > "$f"
	{
		echo "clients_failed $failed"
		echo "downloads_bad $bad"
		echo "clients_ms $((t1 - t0))"
		echo "server_status $src"
		# twheel's expiry threads (all CPUs) during the run: work the
		# server's own CPU time does not show.
		[ -n "$run0" ] && echo "kthread_run_ns $((run1 - run0))"
		[ -n "$wake0" ] && echo "kthread_wakeups $((wake1 - wake0))"
	} >> "$f"
	tap $((failed + bad + src)) "bench: $b round $r: $clients clients, all exit 0 with intact files, server exit 0 ($((t1 - t0)) ms)"
	port=$((port + 1))
}

# One line per run, then a row per back-end: the median of its rounds.
bench_table() {
	for f in "$bench"/*-*.txt; do
		name=${f##*/}
		name=${name%.txt}
		awk -v b="${name%-*}" -v r="${name##*-}" '
			{ v[$1] = $2 }
			END {
				pk = v["packets_rx"] + v["packets_tx"]
				printf "%s,%s,%.1f,%.1f,%.1f,%.1f,%.1f,%d,%d,%d,%d,%d,%.1f,%d,%d,%d,%d,%d\n",
					b, r, v["cpu_us"] / v["requests"],
					v["timer_ns"] / 1000 / v["requests"],
					v["timer_syscalls"] * 1000 / pk,
					(v["timer_arms"] + v["timer_cancels"]) * 1000 / pk,
					v["timer_wakeups"] * 1000 / pk,
					v["lateness_p50_ns"] / 1000,
					v["lateness_p99_ns"] / 1000,
					v["lateness_max_ns"] / 1000,
					v["lateness_device_p50_ns"] / 1000,
					v["lateness_device_p99_ns"] / 1000,
					("kthread_run_ns" in v) ? v["kthread_run_ns"] / 1000 / v["requests"] : 0,
					v["timer_expiries"],
					v["timer_stale_gone"] + v["timer_stale_token"] + v["timer_stale_not_due"],
					pk, v["requests"], v["clients_ms"]
			}' "$f"
	done > "$bench/runs.body"
	{
		echo "backend,round,cpu_us_per_request,timer_code_us_per_request,timer_syscalls_per_1000_packets,timer_changes_per_1000_packets,timer_wakeups_per_1000_packets,lateness_p50_us,lateness_p99_us,lateness_max_us,device_lateness_p50_us,device_lateness_p99_us,kthread_us_per_request,expiries_handled,stale_dropped,packets,requests,clients_ms"
		cat "$bench/runs.body"
	} > "$bench/runs.csv"
	rm -f "$bench/runs.body"
	{
		echo "quic-server: $clients gtlsclients at once, 2 files each (64 + 128 KiB),"
		echo "each dropping $loss of the server's packets; $pinned;"
		echo "the median of $rounds rounds per back-end"
		echo
		printf "%-8s %8s %8s %9s %9s %9s %8s %8s %8s %8s\n" back-end \
			"CPU us" "timer us" "timer sys" "timer chg" "timer wk" \
			"late p50" "late p99" "late max" "kthread"
		printf "%-8s %8s %8s %9s %9s %9s %8s %8s %8s %8s\n" "" \
			"/request" "/request" "/1k pkt" "/1k pkt" "/1k pkt" \
			"us" "us" "us" "us/req"
		for b in $backends; do
			awk -F, -v b="$b" '
				$1 == b { rows++; for (i = 3; i <= 13; i++) col[i, rows] = $i }
				function median(i,   a, k, j, t, m) {
					for (k = 1; k <= rows; k++) a[k] = col[i, k] + 0
					for (k = 1; k <= rows; k++)
						for (j = k + 1; j <= rows; j++)
							if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
					m = int((rows + 1) / 2)
					return (rows % 2) ? a[m] : (a[m] + a[m + 1]) / 2
				}
				END {
					if (!rows) exit
					printf "%-8s %8.0f %8.0f %9.1f %9.1f %9.1f %8.0f %8.0f %8.0f %8.0f\n",
						b, median(3), median(4), median(5), median(6),
						median(7), median(8), median(9), median(10),
						median(13)
				}' "$bench/runs.csv"
		done
	} > "$bench/tables.txt"
	sed 's/^/# /' "$bench/tables.txt"
}

# --- main --------------------------------------------------------------------

setup || exit 1
if [ -n "$bench" ]; then
	{
		echo "kernel $(uname -r)"
		echo "cpus $(nproc)"
		echo "accel ${TWHEEL_ACCEL:-unknown}"
		echo "clients $clients"
		echo "loss $loss"
		echo "idle_ms $idle_ms"
		echo "rounds $rounds"
		echo "backends $backends"
		echo "pinned $pinned"
		echo "client $client"
	} > "$bench/meta.txt"
	r=1
	while [ $r -le "$rounds" ]; do
		for b in $backends; do
			bench_run "$b" $r
		done
		r=$((r + 1))
	done
	bench_table
	exit 0
fi
for b in $backends; do
	test_backend "$b"
done
