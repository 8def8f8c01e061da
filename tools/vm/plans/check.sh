#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The test plan `make check` runs in the VM, after /init has loaded the
# modules and before it unloads them.

. /lib/twheel/guest-lib.sh

run_selftests /selftests/twheel
run_selftests /tests/userlib
