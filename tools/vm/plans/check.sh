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

# The demo daemon at a small size: every timer it expects fires exactly
# once, never early, and nothing it cancelled comes back.
if /tools/twdemo 2000 > /tmp/twdemo.out 2>&1; then
	echo "ok 1 twdemo: 2000 simulated connections, every expected timer fired exactly once"
else
	echo "not ok 1 twdemo: 2000 simulated connections, every expected timer fired exactly once"
fi
sed 's/^/# /' /tmp/twdemo.out
