#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The plan `make bench-quic` runs in the VM: quic-server on each timer
# back-end under the same gtlsclient workload, QUIC_ROUNDS rounds (from the
# kernel command line), then the results, as a base64-encoded tar stream,
# on the third serial port (run-vm --collect unpacks them on the host).

out=/tmp/quic-bench
start=$(cut -d. -f1 /proc/uptime)
/examples/quic-server/quic-test.sh --bench $out
echo "guest_seconds $(( $(cut -d. -f1 /proc/uptime) - start ))" >> $out/meta.txt
tar -C $out -cf - . | base64 > /dev/ttyS2
