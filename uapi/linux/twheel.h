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
 * field; reserved fields must be zero.
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

/* ioctl magic 0xE7, numbers 0x00-0x1F (see Documentation/uapi.rst) */
#define TWHEEL_IOC_MAGIC		0xE7
#define TWHEEL_IOC_HANDSHAKE		_IOWR(TWHEEL_IOC_MAGIC, 0x00, struct twheel_handshake)

#endif /* _UAPI_LINUX_TWHEEL_H */
