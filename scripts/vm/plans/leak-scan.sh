#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# After the modules are unloaded: ask kmemleak for everything the run left
# unreferenced. An object must have been unreferenced for a few seconds
# before kmemleak reports it, so scan, wait past that age, and scan again.

k=/sys/kernel/debug/kmemleak
if [ ! -e $k ]; then
	echo "ok 1 kmemleak: no leaks # SKIP kernel without kmemleak"
	exit 0
fi
echo scan > $k
sleep 6
echo scan > $k
if [ -s $k ]; then
	echo "not ok 1 kmemleak: no leaks"
	sed 's/^/# /' $k | head -n 60
else
	echo "ok 1 kmemleak: no leaks"
fi
