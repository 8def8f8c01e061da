#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows in the VM: twdemo at its full size (100 000
# connections, 10 s of traffic), with the module's counters beside it from
# twstat every 2 seconds, then twstat's snapshot and histograms.

echo "# /dev/twheel: $(ls -l /dev/twheel)"
/tools/twstat/twstat -n 2 &
twstat_pid=$!
# Through a pipe: the results channel is a serial port, a terminal, on
# which twdemo would redraw one progress line in place.
{ /tools/twdemo; echo $? > /tmp/twdemo.status; } | cat
kill "$twstat_pid"
wait "$twstat_pid" 2>/dev/null
echo "# twdemo exited with status $(cat /tmp/twdemo.status)"
/tools/twstat/twstat
/tools/twstat/twstat --hist
