#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs in the VM, after /init has loaded the
# modules and before it unloads them.

. /lib/twheel/guest-lib.sh

run_common_checks

# twbench at tiny sizes: it runs, every method is measured, every count
# matches and the files are well-formed (`make bench` is the benchmark).
if /tools/twbench --sizes 100,1000 --runs 1 --window-ms 100 \
	--out /tmp/twbench-smoke > /tmp/twbench.out 2>&1 &&
   /tools/twbench-check /tmp/twbench-smoke >> /tmp/twbench.out 2>&1; then
	echo "ok 1 twbench: a small run measures every method and its counts add up"
else
	echo "not ok 1 twbench: a small run measures every method and its counts add up"
fi
sed 's/^/# /' /tmp/twbench.out

# quic-server, an HTTP/3 server on ngtcp2, against Debian's gtlsclient on
# each timer back-end (examples/quic-server/quic-test.sh).
if [ -x /examples/quic-server/quic-test.sh ]; then
	/examples/quic-server/quic-test.sh
else
	echo "not ok 1 quic-server: its test is in the VM"
fi
