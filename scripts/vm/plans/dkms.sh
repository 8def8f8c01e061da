#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The plan for the module DKMS built (make dkms-check): it loaded (a line
# of /init's own), and a few selftests show that it is the whole module:
# the handshake, arming and expiry, fdinfo and the tracepoints.

. /lib/twheel/guest-lib.sh

printf '%s\n' handshake_test arm_test expiry_test fdinfo_test trace_test \
	> /tmp/dkms-list
mkdir -p /tmp/dkms
for t in $(cat /tmp/dkms-list); do
	ln -s "/selftests/twheel/$t" "/tmp/dkms/$t"
done
cp /tmp/dkms-list /tmp/dkms/list
run_selftests /tmp/dkms
