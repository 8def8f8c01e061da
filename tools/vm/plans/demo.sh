#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows in the VM.

echo "# /dev/twheel: $(ls -l /dev/twheel)"
/tools/twdemo 10000
echo "# twdemo exited with status $?"
/tools/twstat/twstat
/tools/twstat/twstat --hist
