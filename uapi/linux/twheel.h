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
	__u64 reserved[4];
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

/**
 * struct twheel_event - a fired timer, as read() returns it
 * @conn_id: the connection
 * @user_data: twheel_arm.user_data of the arming that fired
 * @deadline_ns: when it was due
 * @fired_ns: when the kernel found it due (never before @deadline_ns)
 * @kind: which of the connection's timers
 * @flags: zero
 */
struct twheel_event {
	__u64 conn_id;
	__u64 user_data;
	__u64 deadline_ns;
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
};

#define TWHEEL_STATS_SIZE_VER0	80

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

#endif /* _UAPI_LINUX_TWHEEL_H */
