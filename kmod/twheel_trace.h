/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: tracepoints, and the id that names a file in them and in its
 * fdinfo. The theory of operation is the DOC block at the top of
 * twheel_trace.c; Documentation/observe.rst shows how to use them.
 */
#ifndef _TWHEEL_TRACE_ID_H
#define _TWHEEL_TRACE_ID_H

#include <linux/types.h>

struct twheel_ctx;

u64 twheel_file_id(const struct twheel_ctx *ctx);

#endif /* _TWHEEL_TRACE_ID_H */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM twheel

#if !defined(_TWHEEL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TWHEEL_TRACE_H

#include <linux/types.h>

#include <linux/twheel.h>
#include "twheel_conn.h"

struct twheel_ctx;

#ifdef TWHEEL_NO_TRACEPOINTS
/*
 * The KUnit suite twheel_ctx and its native build compile the context and
 * its connections into a program of their own, without the module's
 * tracepoints.
 */
static inline bool trace_twheel_arm_enabled(void)
{
	return false;
}

static inline bool trace_twheel_rearm_enabled(void)
{
	return false;
}

static inline bool trace_twheel_fire_enabled(void)
{
	return false;
}

static inline void trace_twheel_arm(const struct twheel_ctx *ctx,
				    const struct twheel_conn *conn,
				    unsigned int kind,
				    const struct twheel_slot *slot) { }
static inline void trace_twheel_rearm(const struct twheel_ctx *ctx,
				      const struct twheel_conn *conn,
				      unsigned int kind,
				      const struct twheel_slot *slot) { }
static inline bool trace_twheel_cancel_enabled(void)
{
	return false;
}

static inline void trace_twheel_cancel(const struct twheel_ctx *ctx,
				       const struct twheel_conn *conn,
				       unsigned int kind,
				       const struct twheel_slot *slot) { }
static inline void trace_twheel_fire(const struct twheel_ctx *ctx,
				     const struct twheel_conn *conn,
				     unsigned int kind,
				     const struct twheel_slot *slot) { }
static inline bool trace_twheel_read_enabled(void)
{
	return false;
}

static inline void trace_twheel_read(const struct twheel_ctx *ctx,
				     const struct twheel_conn *conn,
				     unsigned int kind,
				     const struct twheel_slot *slot) { }
static inline void trace_twheel_wakeup(unsigned int turns, unsigned int fired,
				       u64 expires_ns, u64 start_ns) { }
#else

#include <linux/ktime.h>
#include <linux/tracepoint.h>

/* The kinds the uapi names, by name; a daemon's own kinds as user4..15. */
#define twheel_show_kind(kind)						\
	__print_symbolic(kind,						\
		{ TWHEEL_KIND_IDLE,		"idle" },		\
		{ TWHEEL_KIND_CONNECT,		"connect" },		\
		{ TWHEEL_KIND_PATH_VALIDATION,	"path_validation" },	\
		{ TWHEEL_KIND_RETRANSMIT,	"retransmit" },		\
		{ 4, "user4" }, { 5, "user5" }, { 6, "user6" },		\
		{ 7, "user7" }, { 8, "user8" }, { 9, "user9" },		\
		{ 10, "user10" }, { 11, "user11" }, { 12, "user12" },	\
		{ 13, "user13" }, { 14, "user14" }, { 15, "user15" })

DECLARE_EVENT_CLASS(twheel_timer_class,

	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),

	TP_ARGS(ctx, conn, kind, slot),

	TP_STRUCT__entry(
		__field(u64,		file_id)
		__field(u64,		conn_id)
		__field(u64,		user_data)
		__field(u64,		deadline_ns)
		__field(unsigned int,	kind)
	),

	TP_fast_assign(
		__entry->file_id	= twheel_file_id(ctx);
		__entry->conn_id	= conn->node.key;
		__entry->user_data	= slot->user_data;
		__entry->deadline_ns	= slot->deadline;
		__entry->kind		= kind;
	),

	TP_printk("file=%016llx conn=%llu kind=%s user_data=0x%llx deadline=%llu",
		  __entry->file_id, __entry->conn_id, twheel_show_kind(__entry->kind),
		  __entry->user_data, __entry->deadline_ns)
);

/**
 * twheel_arm - a kind that was not armed is armed
 * @ctx: the file
 * @conn: the connection
 * @kind: the kind
 * @slot: its slot, with the new deadline and user_data
 *
 * Arming a kind whose event waits to be read counts here too (the event is
 * dropped), as in the ``arms`` counter.
 */
DEFINE_EVENT(twheel_timer_class, twheel_arm,
	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),
	TP_ARGS(ctx, conn, kind, slot)
);

/**
 * twheel_rearm - an armed kind is armed again, for a new deadline
 * @ctx: the file
 * @conn: the connection
 * @kind: the kind
 * @slot: its slot, with the new deadline and user_data
 */
DEFINE_EVENT(twheel_timer_class, twheel_rearm,
	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),
	TP_ARGS(ctx, conn, kind, slot)
);

/**
 * twheel_cancel - a kind is cancelled, armed or fired and unread
 * @ctx: the file
 * @conn: the connection
 * @kind: the kind
 * @slot: its slot, about to be closed
 *
 * One record per kind, so cancelling a connection records each of its
 * timers. @unread tells a dropped event from a cancelled timer.
 */
TRACE_EVENT(twheel_cancel,

	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),

	TP_ARGS(ctx, conn, kind, slot),

	TP_STRUCT__entry(
		__field(u64,		file_id)
		__field(u64,		conn_id)
		__field(u64,		user_data)
		__field(u64,		deadline_ns)
		__field(unsigned int,	kind)
		__field(bool,		unread)
	),

	TP_fast_assign(
		__entry->file_id	= twheel_file_id(ctx);
		__entry->conn_id	= conn->node.key;
		__entry->user_data	= slot->user_data;
		__entry->deadline_ns	= slot->deadline;
		__entry->kind		= kind;
		__entry->unread		= conn->fired & BIT(kind);
	),

	TP_printk("file=%016llx conn=%llu kind=%s user_data=0x%llx deadline=%llu%s",
		  __entry->file_id, __entry->conn_id, twheel_show_kind(__entry->kind),
		  __entry->user_data, __entry->deadline_ns,
		  __entry->unread ? " unread" : "")
);

/**
 * twheel_fire - a kind falls due and its event is queued
 * @ctx: the file
 * @conn: the connection
 * @kind: the kind
 * @slot: its slot, with the deadline and the time it fired
 *
 * Recorded by the expiry thread of the CPU that serves the file, so the
 * record's CPU is that CPU. @lateness_ns is what Documentation/uapi.rst
 * bounds: from the deadline to the expiry thread's clock read.
 */
TRACE_EVENT(twheel_fire,

	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),

	TP_ARGS(ctx, conn, kind, slot),

	TP_STRUCT__entry(
		__field(u64,		file_id)
		__field(u64,		conn_id)
		__field(u64,		user_data)
		__field(u64,		deadline_ns)
		__field(u64,		lateness_ns)
		__field(unsigned int,	kind)
	),

	TP_fast_assign(
		__entry->file_id	= twheel_file_id(ctx);
		__entry->conn_id	= conn->node.key;
		__entry->user_data	= slot->user_data;
		__entry->deadline_ns	= slot->deadline;
		__entry->lateness_ns	= slot->fired - slot->deadline;
		__entry->kind		= kind;
	),

	TP_printk("file=%016llx conn=%llu kind=%s user_data=0x%llx deadline=%llu lateness_ns=%llu",
		  __entry->file_id, __entry->conn_id, twheel_show_kind(__entry->kind),
		  __entry->user_data, __entry->deadline_ns,
		  __entry->lateness_ns)
);

/**
 * twheel_read - an event is delivered to read()
 * @ctx: the file
 * @conn: the connection
 * @kind: the kind
 * @slot: its slot, with the deadline and the time it fired
 *
 * @waited_ns is how long the event waited to be read after it fired.
 */
TRACE_EVENT(twheel_read,

	TP_PROTO(const struct twheel_ctx *ctx, const struct twheel_conn *conn,
		 unsigned int kind, const struct twheel_slot *slot),

	TP_ARGS(ctx, conn, kind, slot),

	TP_STRUCT__entry(
		__field(u64,		file_id)
		__field(u64,		conn_id)
		__field(u64,		user_data)
		__field(u64,		deadline_ns)
		__field(u64,		fired_ns)
		__field(u64,		waited_ns)
		__field(unsigned int,	kind)
	),

	TP_fast_assign(
		__entry->file_id	= twheel_file_id(ctx);
		__entry->conn_id	= conn->node.key;
		__entry->user_data	= slot->user_data;
		__entry->deadline_ns	= slot->deadline;
		__entry->fired_ns	= slot->fired;
		__entry->waited_ns	= ktime_get_ns() - slot->fired;
		__entry->kind		= kind;
	),

	TP_printk("file=%016llx conn=%llu kind=%s user_data=0x%llx deadline=%llu fired=%llu waited_ns=%llu",
		  __entry->file_id, __entry->conn_id, twheel_show_kind(__entry->kind),
		  __entry->user_data, __entry->deadline_ns, __entry->fired_ns,
		  __entry->waited_ns)
);

/**
 * twheel_wakeup - an expiry thread is done with one wake-up
 * @turns: the turns it gave files (a file with more than a turn of work
 *	due gets another after the others, and counts once per turn)
 * @fired: the timers it fired
 * @expires_ns: the instant its hrtimer was programmed for
 * @start_ns: when the thread started its work
 *
 * One record per wake-up, at its end, on the thread's CPU: the per-wake-up
 * view of the ``wakeups``, ``wakeup_ns`` and ``run_ns`` counters.
 */
TRACE_EVENT(twheel_wakeup,

	TP_PROTO(unsigned int turns, unsigned int fired, u64 expires_ns,
		 u64 start_ns),

	TP_ARGS(turns, fired, expires_ns, start_ns),

	TP_STRUCT__entry(
		__field(unsigned int,	turns)
		__field(unsigned int,	fired)
		__field(u64,		wakeup_ns)
		__field(u64,		run_ns)
	),

	TP_fast_assign(
		__entry->turns		= turns;
		__entry->fired		= fired;
		__entry->wakeup_ns	= start_ns > expires_ns ?
					  start_ns - expires_ns : 0;
		__entry->run_ns		= ktime_get_ns() - start_ns;
	),

	TP_printk("turns=%u fired=%u wakeup_ns=%llu run_ns=%llu",
		  __entry->turns, __entry->fired, __entry->wakeup_ns,
		  __entry->run_ns)
);

#endif /* TWHEEL_NO_TRACEPOINTS */
#endif /* _TWHEEL_TRACE_H */

#ifndef TWHEEL_NO_TRACEPOINTS
/* The module's directory, with -I$(src) in Kbuild for twheel_trace.o. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE twheel_trace
#include <trace/define_trace.h>
#endif
