/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * twheel: a timing-wheel timer service for user-space protocol daemons.
 *
 * Each open file of /dev/twheel is an isolated timer context. User space
 * arms and cancels per-connection timers through ioctls and reads fired
 * timers back as fixed-size struct twheel_event records.
 *
 * All times are nanoseconds on CLOCK_MONOTONIC. Structs are naturally
 * aligned, grow only by appending, and carry their size in their first
 * field; reserved fields must be zero. Documentation/uapi.rst describes
 * every ioctl and error code.
 */
#ifndef _UAPI_LINUX_TWHEEL_H
#define _UAPI_LINUX_TWHEEL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TWHEEL_API_VERSION	1

/* Timer kinds: a connection holds at most one armed timer of each kind. */
#define TWHEEL_KIND_IDLE		0
#define TWHEEL_KIND_CONNECT		1
#define TWHEEL_KIND_PATH_VALIDATION	2
#define TWHEEL_KIND_RETRANSMIT		3
/* Kinds TWHEEL_KIND_USER .. TWHEEL_NR_KINDS - 1 are the daemon's own. */
#define TWHEEL_KIND_USER		4
#define TWHEEL_NR_KINDS			16

/* Feature bits reported by TWHEEL_IOC_HANDSHAKE in twheel_handshake.features. */
#define TWHEEL_FEAT_HANDSHAKE		(1ULL << 0)
/* TWHEEL_IOC_ARM, TWHEEL_IOC_CANCEL, TWHEEL_IOC_CANCEL_CONN and read() */
#define TWHEEL_FEAT_TIMERS		(1ULL << 1)
/* poll()/epoll, and reads that honour IOCB_NOWAIT (io_uring) */
#define TWHEEL_FEAT_POLL		(1ULL << 2)
#define TWHEEL_FEAT_NEXT		(1ULL << 3)	/* TWHEEL_IOC_NEXT */
#define TWHEEL_FEAT_STATS		(1ULL << 4)	/* TWHEEL_IOC_STATS */
#define TWHEEL_FEAT_SET_CPU		(1ULL << 5)	/* TWHEEL_IOC_SET_CPU */
/* TWHEEL_IOC_RING_SETUP, TWHEEL_IOC_RING_ENTER and mmap() */
#define TWHEEL_FEAT_RINGS		(1ULL << 6)

/**
 * struct twheel_handshake - what this device offers, for TWHEEL_IOC_HANDSHAKE
 * @size: in: sizeof(struct twheel_handshake) as the caller knows it; out: the
 *	number of bytes the kernel filled (the smaller of the two sizes)
 * @api_version: out: TWHEEL_API_VERSION of the running module
 * @features: out: TWHEEL_FEAT_* bits
 * @tick_ns: out: the wheel's tick, the granularity of expiry
 * @max_timeout_ns: out: the longest timeout accepted
 * @nr_kinds: out: number of timer kinds (TWHEEL_NR_KINDS)
 * @max_batch: out: the most entries one batch ioctl accepts
 * @quota_timers: out: the most timers one open file may have armed
 * @max_timers: out: the most timers all open files together may have armed
 * @cpu: out: the CPU whose wheel serves this file
 * @event_size: out: sizeof(struct twheel_event)
 * @max_sq_entries: out: the largest submission ring TWHEEL_IOC_RING_SETUP
 *	accepts (with %TWHEEL_FEAT_RINGS)
 * @max_ev_entries: out: the largest event ring it accepts
 * @reserved: must be zero
 *
 * Everything after @size is output; on input it must be zero.
 */
struct twheel_handshake {
	__u32 size;
	__u32 api_version;
	__u64 features;
	__u64 tick_ns;
	__u64 max_timeout_ns;
	__u32 nr_kinds;
	__u32 max_batch;
	__u64 quota_timers;
	__u64 max_timers;
	__u32 cpu;
	__u32 event_size;
	__u32 max_sq_entries;
	__u32 max_ev_entries;
	__u64 reserved[3];
};

#define TWHEEL_HANDSHAKE_SIZE_VER0	96

/* twheel_arm.flags */
#define TWHEEL_ARM_ABS		(1U << 0)	/* timeout_ns is a deadline */

/**
 * struct twheel_arm - one entry of a TWHEEL_IOC_ARM batch
 * @conn_id: the connection, any 64-bit value the daemon chooses
 * @timeout_ns: nanoseconds from the call, or with %TWHEEL_ARM_ABS the
 *	absolute CLOCK_MONOTONIC deadline (one in the past fires at once)
 * @user_data: returned untouched in the timer's event
 * @kind: which of the connection's timers, below TWHEEL_NR_KINDS
 * @flags: TWHEEL_ARM_* bits
 *
 * Arming a kind that is armed, or that fired and whose event is still
 * unread, replaces it: the earlier arming will never be read.
 */
struct twheel_arm {
	__u64 conn_id;
	__u64 timeout_ns;
	__u64 user_data;
	__u32 kind;
	__u32 flags;
};

#define TWHEEL_ARM_SIZE_VER0	32

/**
 * struct twheel_cancel - one entry of a TWHEEL_IOC_CANCEL batch
 * @conn_id: the connection
 * @kind: which of its timers
 * @flags: must be zero
 *
 * Cancelling removes an armed timer, or the unread event of one that fired.
 * A timer that is neither is not an error (it counts as not found).
 */
struct twheel_cancel {
	__u64 conn_id;
	__u32 kind;
	__u32 flags;
};

#define TWHEEL_CANCEL_SIZE_VER0	16

/*
 * The entries of a TWHEEL_IOC_CANCEL_CONN batch are __u64 connection ids:
 * each entry cancels every timer and unread event of that connection.
 */
#define TWHEEL_CANCEL_CONN_SIZE_VER0	8

/**
 * struct twheel_batch - argument of the batch ioctls
 * @size: in: sizeof(struct twheel_batch) as the caller knows it
 * @flags: in: must be zero
 * @entries: in: user pointer to the first entry
 * @count: in: number of entries, at most twheel_handshake.max_batch
 * @entry_size: in: size of one entry as the caller knows it (at least the
 *	VER0 size of the entry; bytes past the kernel's size must be zero)
 * @applied: out: number of entries applied, from the first one on
 * @error: out: 0 if every entry was applied, otherwise the negative errno
 *	of entry @applied, the first one that was not; entries after it were
 *	not looked at
 * @found: out: among the applied entries, those that found their timer
 *	armed or waiting to be read (re-armed it, or cancelled it)
 * @reserved0: must be zero
 * @reserved: must be zero
 *
 * A batch is processed in order, like a short writev(): the ioctl returns
 * the number of entries applied (which is @count unless @error is set), and
 * the entries before the first bad one stay applied.
 */
struct twheel_batch {
	__u32 size;
	__u32 flags;
	__u64 entries;
	__u32 count;
	__u32 entry_size;
	__u32 applied;
	__s32 error;
	__u32 found;
	__u32 reserved0;
	__u64 reserved[2];
};

#define TWHEEL_BATCH_SIZE_VER0	56

/* twheel_event.flags */
/* An error record of the event ring: a submission entry was not applied. */
#define TWHEEL_EVENT_ERROR	(1U << 0)
/* In an error record, the op of the entry (TWHEEL_OP_*), in bits 8-15. */
#define TWHEEL_EVENT_OP_SHIFT	8
#define TWHEEL_EVENT_OP(flags)	(((flags) >> TWHEEL_EVENT_OP_SHIFT) & 0xff)

/**
 * struct twheel_event - a fired timer, as read() and the event ring give it
 * @conn_id: the connection
 * @user_data: twheel_arm.user_data of the arming that fired
 * @deadline_ns: when it was due
 * @error: in an error record (%TWHEEL_EVENT_ERROR), the negative errno
 *	that the batch ioctl would have returned for the entry
 * @fired_ns: when the kernel found it due (never before @deadline_ns); in
 *	an error record, when the kernel read the entry
 * @kind: which of the connection's timers
 * @flags: zero for a fired timer; %TWHEEL_EVENT_ERROR and the entry's op
 *	for an error record, whose other fields are the entry's
 */
struct twheel_event {
	__u64 conn_id;
	__u64 user_data;
	union {
		__u64 deadline_ns;
		__s64 error;
	};
	__u64 fired_ns;
	__u32 kind;
	__u32 flags;
};

#define TWHEEL_EVENT_SIZE	40

/**
 * struct twheel_next - argument of TWHEEL_IOC_NEXT
 * @size: in: sizeof(struct twheel_next) as the caller knows it; out: the
 *	number of bytes the kernel filled
 * @flags: in: must be zero
 * @next_ns: out: the earliest deadline armed in this file, CLOCK_MONOTONIC
 *	ns, exactly as it was armed (its event becomes due then and is
 *	delivered at the next tick boundary); U64_MAX when nothing is armed
 * @armed: out: timers armed
 * @queued: out: events waiting to be read
 */
struct twheel_next {
	__u32 size;
	__u32 flags;
	__u64 next_ns;
	__u64 armed;
	__u64 queued;
};

#define TWHEEL_NEXT_SIZE_VER0	32

/**
 * struct twheel_stats - argument of TWHEEL_IOC_STATS: this file's counters
 * @size: in: sizeof(struct twheel_stats) as the caller knows it; out: the
 *	number of bytes the kernel filled
 * @cpu: out: the CPU whose wheel serves this file
 * @armed: out: timers armed now
 * @queued: out: events waiting to be read now
 * @conns: out: connections with a timer armed or an event waiting now
 * @arms: out: arm entries that armed a kind that was idle
 * @rearms: out: arm entries that replaced an armed or fired kind
 * @cancels: out: timers and unread events removed by a cancel
 * @fired: out: timers that fired
 * @read: out: events read
 * @wakeups: out: times the expiry thread woke this file's readers; one
 *	batch of expiries wakes them once
 * @ring_entries: out: submission ring entries the kernel took
 * @ring_errors: out: error records the kernel wrote for them
 * @ring_events: out: events the kernel put in the event ring
 * @ring_enters: out: TWHEEL_IOC_RING_ENTER calls
 * @ring_drain_ns: out: time the file's expiry thread spent taking
 *	submission entries, on the daemon's behalf
 *
 * Everything after @size is output; on input it must be zero.
 */
struct twheel_stats {
	__u32 size;
	__u32 cpu;
	__u64 armed;
	__u64 queued;
	__u64 conns;
	__u64 arms;
	__u64 rearms;
	__u64 cancels;
	__u64 fired;
	__u64 read;
	__u64 wakeups;
	__u64 ring_entries;
	__u64 ring_errors;
	__u64 ring_events;
	__u64 ring_enters;
	__u64 ring_drain_ns;
};

#define TWHEEL_STATS_SIZE_VER0	80
#define TWHEEL_STATS_SIZE_VER1	120

/**
 * struct twheel_set_cpu - argument of TWHEEL_IOC_SET_CPU
 * @size: in: sizeof(struct twheel_set_cpu) as the caller knows it
 * @cpu: in: the online CPU whose wheel should serve this file
 * @flags: in: must be zero
 * @reserved: in: must be zero
 */
struct twheel_set_cpu {
	__u32 size;
	__u32 cpu;
	__u32 flags;
	__u32 reserved;
};

#define TWHEEL_SET_CPU_SIZE_VER0	16

/* Ops of submission ring entries (twheel_sqe.op). */
#define TWHEEL_OP_ARM		0	/* as an entry of TWHEEL_IOC_ARM */
#define TWHEEL_OP_CANCEL	1	/* as an entry of TWHEEL_IOC_CANCEL */
#define TWHEEL_OP_CANCEL_CONN	2	/* as TWHEEL_IOC_CANCEL_CONN */

/**
 * struct twheel_sqe - an entry of the submission ring
 * @conn_id: the connection
 * @timeout_ns: %TWHEEL_OP_ARM: as twheel_arm.timeout_ns, but a relative
 *	timeout counts from when the kernel takes the entry (use
 *	%TWHEEL_ARM_ABS); otherwise zero
 * @user_data: %TWHEEL_OP_ARM: returned in the timer's event; every op: in
 *	the error record if the entry is not applied
 * @op: TWHEEL_OP_*
 * @kind: which of the connection's timers; zero for %TWHEEL_OP_CANCEL_CONN
 * @flags: %TWHEEL_OP_ARM: TWHEEL_ARM_* bits; otherwise zero
 * @reserved: must be zero
 */
struct twheel_sqe {
	__u64 conn_id;
	__u64 timeout_ns;
	__u64 user_data;
	__u8 op;
	__u8 kind;
	__u16 flags;
	__u32 reserved;
};

#define TWHEEL_SQE_SIZE		32

/* twheel_ring_setup.sq_off.flags bits, written by the kernel */
/* An error record found no room: the ring waits for TWHEEL_IOC_RING_ENTER. */
#define TWHEEL_SQ_STALLED	(1U << 0)

/* twheel_ring_setup.ev_off.flags bits, written by user space */
/* The reader is about to sleep: wake it when events come into the ring. */
#define TWHEEL_EV_NEED_WAKEUP	(1U << 0)

/**
 * struct twheel_sq_offsets - where the submission ring is in the mapping
 * @head: __u32, written by the kernel: entries taken (free-running)
 * @tail: __u32, written by user space: entries published (free-running)
 * @ring_mask: __u32, @ring_entries - 1
 * @ring_entries: __u32, the number of entries
 * @flags: __u32, written by the kernel: TWHEEL_SQ_* bits
 * @entries: the array of &struct twheel_sqe, indexed by an index masked
 *	with @ring_mask
 * @look_ns: __u64, written by the kernel: the expiry thread takes every
 *	entry published before this time (CLOCK_MONOTONIC ns) at the latest;
 *	U64_MAX when it may not look again before TWHEEL_IOC_RING_ENTER
 * @reserved: zero
 */
struct twheel_sq_offsets {
	__u32 head;
	__u32 tail;
	__u32 ring_mask;
	__u32 ring_entries;
	__u32 flags;
	__u32 entries;
	__u32 look_ns;
	__u32 reserved;
};

/**
 * struct twheel_ev_offsets - where the event ring is in the mapping
 * @head: __u32, written by user space: events consumed (free-running)
 * @tail: __u32, written by the kernel: events published (free-running)
 * @ring_mask: __u32, @ring_entries - 1
 * @ring_entries: __u32, the number of events
 * @flags: __u32, written by user space: TWHEEL_EV_* bits
 * @events: the array of &struct twheel_event
 * @queued: __u32, written by the kernel: events that found the ring full
 *	and wait in the kernel (read() or TWHEEL_IOC_RING_ENTER takes them;
 *	saturates at U32_MAX)
 * @reserved: zero
 */
struct twheel_ev_offsets {
	__u32 head;
	__u32 tail;
	__u32 ring_mask;
	__u32 ring_entries;
	__u32 flags;
	__u32 events;
	__u32 queued;
	__u32 reserved;
};

/**
 * struct twheel_ring_setup - argument of TWHEEL_IOC_RING_SETUP
 * @size: in: sizeof(struct twheel_ring_setup) as the caller knows it
 * @flags: in: must be zero
 * @sq_entries: in: submission ring entries, a power of two up to
 *	twheel_handshake.max_sq_entries
 * @ev_entries: in: event ring entries, a power of two up to
 *	twheel_handshake.max_ev_entries
 * @mmap_size: out: the bytes to mmap() at offset 0 of the file
 * @sqe_size: out: sizeof(struct twheel_sqe)
 * @event_size: out: sizeof(struct twheel_event)
 * @sq_off: out: the submission ring, as offsets into the mapping
 * @ev_off: out: the event ring, as offsets into the mapping
 * @reserved: must be zero
 */
struct twheel_ring_setup {
	__u32 size;
	__u32 flags;
	__u32 sq_entries;
	__u32 ev_entries;
	__u64 mmap_size;
	__u32 sqe_size;
	__u32 event_size;
	struct twheel_sq_offsets sq_off;
	struct twheel_ev_offsets ev_off;
	__u64 reserved[2];
};

#define TWHEEL_RING_SETUP_SIZE_VER0	112

/* twheel_ring_enter.flags */
/*
 * Stop at the first bad entry and report it in the call, like a batch
 * ioctl, instead of writing an error record for it.
 */
#define TWHEEL_ENTER_SYNC	(1U << 0)

/**
 * struct twheel_ring_enter - argument of TWHEEL_IOC_RING_ENTER
 * @size: in: sizeof(struct twheel_ring_enter) as the caller knows it
 * @flags: in: TWHEEL_ENTER_* bits
 * @applied: out: submission entries applied by this call
 * @found: out: among them, those that found their timer armed or fired
 * @error: out: with %TWHEEL_ENTER_SYNC, 0 or the negative errno of the
 *	entry that stopped the call (taken off the ring, not applied)
 * @errors: out: error records this call wrote (without %TWHEEL_ENTER_SYNC)
 * @user_data: out: the user_data of the entry that stopped the call
 * @moved: out: events this call moved from the kernel into the event ring
 * @reserved0: must be zero
 * @reserved: must be zero
 */
struct twheel_ring_enter {
	__u32 size;
	__u32 flags;
	__u32 applied;
	__u32 found;
	__s32 error;
	__u32 errors;
	__u64 user_data;
	__u32 moved;
	__u32 reserved0;
	__u64 reserved[2];
};

#define TWHEEL_RING_ENTER_SIZE_VER0	56

/*
 * ioctl magic 0xE7, numbers 0x00-0x1F (see Documentation/uapi.rst). The
 * kernel matches the direction, type and number of a command and takes the
 * size of its argument from the struct's size field, so a command keeps
 * working when its struct grows.
 */
#define TWHEEL_IOC_MAGIC		0xE7
#define TWHEEL_IOC_HANDSHAKE		_IOWR(TWHEEL_IOC_MAGIC, 0x00, struct twheel_handshake)
#define TWHEEL_IOC_ARM			_IOWR(TWHEEL_IOC_MAGIC, 0x01, struct twheel_batch)
#define TWHEEL_IOC_CANCEL		_IOWR(TWHEEL_IOC_MAGIC, 0x02, struct twheel_batch)
#define TWHEEL_IOC_CANCEL_CONN		_IOWR(TWHEEL_IOC_MAGIC, 0x03, struct twheel_batch)
#define TWHEEL_IOC_NEXT			_IOWR(TWHEEL_IOC_MAGIC, 0x04, struct twheel_next)
#define TWHEEL_IOC_STATS		_IOWR(TWHEEL_IOC_MAGIC, 0x05, struct twheel_stats)
#define TWHEEL_IOC_SET_CPU		_IOW(TWHEEL_IOC_MAGIC, 0x06, struct twheel_set_cpu)
#define TWHEEL_IOC_RING_SETUP		_IOWR(TWHEEL_IOC_MAGIC, 0x07, struct twheel_ring_setup)
#define TWHEEL_IOC_RING_ENTER		_IOWR(TWHEEL_IOC_MAGIC, 0x08, struct twheel_ring_enter)

#endif /* _UAPI_LINUX_TWHEEL_H */
