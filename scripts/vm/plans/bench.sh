#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The plan `make bench` runs in the VM: twbench at the sizes, run counts and
# workloads the host passes on the kernel command line (TWBENCH_SIZES,
# TWBENCH_RUNS, TWBENCH_WORKLOADS, TWBENCH_PIN), then its results, as a base64-encoded tar
# stream, on the third serial port (run-vm --collect unpacks them on the
# host).

sizes=${TWBENCH_SIZES:-1000,10000,100000,1000000}
runs=${TWBENCH_RUNS:-5}
workloads=${TWBENCH_WORKLOADS:-ops,expiry,mixed}
out=/tmp/twbench

mkdir -p $out
only=
case ",$workloads," in *,ops,*) ;; *) only="$only --no-ops" ;; esac
case ",$workloads," in *,expiry,*) ;; *) only="$only --no-expiry" ;; esac
case ",$workloads," in *,mixed,*) ;; *) only="$only --no-mixed" ;; esac
# TWBENCH_PIN=R,F: the reapers on CPU R, their twheel files on CPU F.
[ -n "$TWBENCH_PIN" ] && only="$only --pin $TWBENCH_PIN"
start=$(cut -d. -f1 /proc/uptime)
/tools/twbench --sizes "$sizes" --runs "$runs" --out $out $only \
	--accel "${TWHEEL_ACCEL:-unknown}" > $out/twbench.log 2>&1
rc=$?
secs=$(( $(cut -d. -f1 /proc/uptime) - start ))
echo "guest_seconds: $secs" >> $out/meta.txt
sed 's/^/# /' $out/twbench.log
if [ $rc -eq 0 ]; then
	echo "ok 1 twbench: sizes $sizes, $runs runs, every count matched (${secs}s)"
else
	echo "not ok 1 twbench: sizes $sizes, $runs runs, every count matched (status $rc)"
fi
if /tools/twbench-check $out > /tmp/twbench-check.out 2>&1; then
	echo "ok 2 twbench-check: every method and size present, counts consistent, CSV well-formed"
else
	echo "not ok 2 twbench-check: every method and size present, counts consistent, CSV well-formed"
fi
sed 's/^/# /' /tmp/twbench-check.out
tar -C $out -cf - . | base64 > /dev/ttyS2
