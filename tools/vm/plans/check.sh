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

# The demo daemon at a small size, and the two example daemons.
run_twdemo
check_example epoll-daemon
check_example uring-daemon
