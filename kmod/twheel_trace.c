// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the tracepoints' definitions.
 */

/**
 * DOC: Tracepoints
 *
 * The module's tracepoints are in the ``twheel`` system of the kernel's
 * event tracing (tracefs ``events/twheel/``, ``perf record -e 'twheel:*'``,
 * ``trace-cmd``, ``bpftrace``):
 *
 * - ``twheel_arm``, ``twheel_rearm``, ``twheel_cancel``, ``twheel_fire``
 *   and ``twheel_read``, one record per timer, each with the file
 *   (``ctx``), the connection id (``conn_id``), the kind and the
 *   ``user_data`` of its arming; ``twheel_fire`` adds ``lateness_ns``,
 *   ``twheel_read`` how long the event waited to be read (``waited_ns``);
 * - ``twheel_wakeup``, one record per wake-up of an expiry thread: the turns
 *   it gave files, the timers it fired, its wake-up latency and how long it
 *   ran.
 *
 * They are the kernel's tracepoints: a disabled one costs a no-op
 * instruction where the kernel has jump labels (Debian's does), and what a
 * record holds is computed only when it is enabled. Arguments are pointers
 * and values the caller already holds; the one call whose argument would
 * take work, a cancel's slot, is behind trace_twheel_cancel_enabled(). The
 * records of arm, re-arm, cancel, fire and read are taken under the file's
 * spinlock, in the order they happen to the file; ``ctx`` prints as a
 * hashed pointer, the same in every record of one file until it is
 * closed, and the same as ``twheel-ctx`` in the file's fdinfo.
 *
 * This file is the one place that defines them (%CREATE_TRACE_POINTS); the
 * others include twheel_trace.h and call trace_twheel_*().
 */

#define CREATE_TRACE_POINTS
#include "twheel_trace.h"
