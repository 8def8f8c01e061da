// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the tracepoints' definitions, and the id of a file.
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
 *   (``file_id``), the connection id (``conn_id``), the kind and the
 *   ``user_data`` of its arming; ``twheel_fire`` adds ``lateness_ns``,
 *   ``twheel_read`` how long the event waited to be read (``waited_ns``);
 * - ``twheel_wakeup``, one record per wake-up of an expiry thread: the turns
 *   it gave files, the timers it fired, its wake-up latency and how long it
 *   ran.
 *
 * They are the kernel's tracepoints: a disabled one costs a no-op
 * instruction where the kernel has jump labels (Debian's does), and what a
 * record holds is computed only when it is enabled. The calls made once
 * per timer (arm, re-arm, cancel, fire, read) are behind their
 * trace_twheel_*_enabled() test: where finding the slot takes work, that
 * work is skipped, and on a kernel with lockdep a disabled tracepoint
 * called directly would still check its RCU context on every timer. The
 * records of arm, re-arm, cancel, fire and read are taken under the file's
 * spinlock, in the order they happen to the file.
 *
 * **The file's id.** ``file_id`` is twheel_file_id(): the same in every
 * record of one open file and in its fdinfo (``twheel-id``), and
 * different for every file open at the same time. It is a keyed hash of
 * the file's context, not its address, which would tell an unprivileged
 * reader of fdinfo where the kernel keeps its objects. The kernel's own
 * hashed pointers (``%p``) would do the same, but print as
 * ``(____ptrval____)`` until the random number generator is seeded, which
 * in a VM can be long after the module is in use: every file would then
 * look the same.
 *
 * This file is the one place that defines them (%CREATE_TRACE_POINTS); the
 * others include twheel_trace.h and call trace_twheel_*().
 */

#include <linux/once.h>
#include <linux/random.h>
#include <linux/siphash.h>

#define CREATE_TRACE_POINTS
#include "twheel_trace.h"

static siphash_key_t twheel_file_id_key __read_mostly;

/**
 * twheel_file_id() - the id of an open file, for fdinfo and trace records
 * @ctx: the file's context
 *
 * Context: any.
 * Return: a keyed hash of @ctx, the same for the file's life.
 */
u64 twheel_file_id(const struct twheel_ctx *ctx)
{
	get_random_once(&twheel_file_id_key, sizeof(twheel_file_id_key));
	return siphash_1u64((unsigned long)ctx, &twheel_file_id_key);
}
