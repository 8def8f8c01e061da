/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers the twheel selftests share: opening the device, batch
 * ioctls of one entry, reading events with a bounded wait.
 */
#ifndef TWHEEL_TEST_H
#define TWHEEL_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/twheel.h>

#include "kselftest_harness.h"

/*
 * Prints a measurement as a TAP comment. Tests run in a child that ends
 * with _exit(), so stdout is flushed here.
 */
#define tw_report(fmt, ...) do {					\
	ksft_print_msg(fmt, ##__VA_ARGS__);				\
	fflush(stdout);							\
} while (0)

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/*
 * The uapi has one layout for 64-bit and 32-bit programs (no compat
 * structs): the tests are also built with -m32, where these would catch a
 * field that i386's 4-byte alignment of __u64 moved.
 */
_Static_assert(sizeof(struct twheel_handshake) == TWHEEL_HANDSHAKE_SIZE_VER0, "handshake");
_Static_assert(sizeof(struct twheel_arm) == TWHEEL_ARM_SIZE_VER0, "arm");
_Static_assert(sizeof(struct twheel_cancel) == TWHEEL_CANCEL_SIZE_VER0, "cancel");
_Static_assert(sizeof(struct twheel_batch) == TWHEEL_BATCH_SIZE_VER0, "batch");
_Static_assert(sizeof(struct twheel_event) == TWHEEL_EVENT_SIZE, "event");
_Static_assert(sizeof(struct twheel_next) == TWHEEL_NEXT_SIZE_VER0, "next");
_Static_assert(sizeof(struct twheel_stats) == TWHEEL_STATS_SIZE_VER1, "stats");
_Static_assert(sizeof(struct twheel_set_cpu) == TWHEEL_SET_CPU_SIZE_VER0, "set_cpu");
_Static_assert(sizeof(struct twheel_sqe) == TWHEEL_SQE_SIZE, "sqe");
_Static_assert(sizeof(struct twheel_ring_setup) == TWHEEL_RING_SETUP_SIZE_VER0, "ring_setup");
_Static_assert(sizeof(struct twheel_ring_enter) == TWHEEL_RING_ENTER_SIZE_VER0, "ring_enter");

/*
 * Opens /dev/twheel; SKIPs the test when the module is not loaded. SKIP
 * returns before the result is assigned, so a fixture sets its descriptor
 * to -1 first, for its teardown.
 */
#define tw_open_or_skip(flags) ({					\
	int __fd = open("/dev/twheel", (flags) | O_CLOEXEC);		\
	if (__fd < 0 && errno == ENOENT)				\
		SKIP(return, "/dev/twheel is missing: module not loaded"); \
	ASSERT_LE(0, __fd);						\
	__fd;								\
})

/*
 * The harness of Linux 6.1 still runs a test whose FIXTURE_SETUP called
 * SKIP() (later ones do not), so every test with such a setup starts with
 * "if (tw_setup_skipped(_metadata)) return;".
 */
static inline int tw_setup_skipped(const struct __test_metadata *m)
{
	return m->skip;
}

/*
 * Is this the project's debug kernel (KASAN, lockdep, kmemleak: release
 * "*-twheel-debug")? Under TCG it runs the kernel side ten to fifty times
 * slower, so tests measure there but bound times only elsewhere.
 */
static inline int tw_debug_kernel(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.release, "-debug");
}

/* The module's counters in debugfs (Documentation/stats.rst). */
#define TW_COUNTERS	"/sys/kernel/debug/twheel/counters"
/* What a missing counter reads as: below any value, and safe to add to. */
#define TW_NO_COUNTER	(-(1LL << 62))

/* Module-wide counter @name, or TW_NO_COUNTER (no debugfs, no such name). */
static inline long long tw_counter(const char *name)
{
	FILE *f = fopen(TW_COUNTERS, "r");
	long long v, ret = TW_NO_COUNTER;
	char key[64];

	if (!f)
		return TW_NO_COUNTER;
	while (fscanf(f, "%63s %lld", key, &v) == 2) {
		if (!strcmp(key, name)) {
			ret = v;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Moves the calling thread to @cpu alone. */
static inline int tw_run_on(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static inline uint64_t tw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * A read() of one event, for a thread of its own (pthread_create()): the
 * thread first moves to @cpu unless it is -1. Afterwards @ret is what
 * read() returned (-2 if the thread could not move) and @when the clock
 * when it returned.
 */
struct tw_blocked_read {
	int fd;
	int cpu;
	ssize_t ret;
	uint64_t when;
	struct twheel_event ev;
};

static inline void *tw_blocking_read(void *arg)
{
	struct tw_blocked_read *br = arg;

	if (br->cpu >= 0 && tw_run_on(br->cpu)) {
		br->ret = -2;
		return NULL;
	}
	br->ret = read(br->fd, &br->ev, sizeof(br->ev));
	br->when = tw_now();
	return NULL;
}

static inline int tw_batch(int fd, unsigned long cmd, const void *entries,
			   unsigned int count, unsigned int entry_size,
			   struct twheel_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->entries = (uintptr_t)entries;
	b->count = count;
	b->entry_size = entry_size;
	return ioctl(fd, cmd, b);
}

static inline int tw_arm_batch(int fd, const struct twheel_arm *arms,
			       unsigned int n, struct twheel_batch *b)
{
	return tw_batch(fd, TWHEEL_IOC_ARM, arms, n, sizeof(*arms), b);
}

/*
 * A batch of one entry: returns -1 with errno set to the entry's error, or
 * whether the entry found its timer (0 or 1).
 */
static inline int tw_batch_one(int fd, unsigned long cmd, const void *entry,
			       unsigned int entry_size)
{
	struct twheel_batch b;
	int ret = tw_batch(fd, cmd, entry, 1, entry_size, &b);

	if (ret < 0)
		return ret;
	if (ret != 1) {
		errno = -b.error;
		return -1;
	}
	return b.found;
}

/* Arms one timer; returns -1 (errno) or the batch's found count (0 or 1). */
static inline int tw_arm(int fd, uint64_t conn, uint32_t kind,
			 uint64_t timeout_ns, uint64_t user_data,
			 uint32_t flags)
{
	struct twheel_arm a = {
		.conn_id = conn, .kind = kind, .timeout_ns = timeout_ns,
		.user_data = user_data, .flags = flags,
	};

	return tw_batch_one(fd, TWHEEL_IOC_ARM, &a, sizeof(a));
}

/* Cancels one kind; returns -1 (errno) or whether it was found (0 or 1). */
static inline int tw_cancel(int fd, uint64_t conn, uint32_t kind)
{
	struct twheel_cancel c = { .conn_id = conn, .kind = kind };

	return tw_batch_one(fd, TWHEEL_IOC_CANCEL, &c, sizeof(c));
}

/* Cancels a connection; returns -1 (errno) or whether it was found. */
static inline int tw_cancel_conn(int fd, uint64_t conn)
{
	return tw_batch_one(fd, TWHEEL_IOC_CANCEL_CONN, &conn, sizeof(conn));
}

/* TWHEEL_IOC_SET_CPU: serves the file from @cpu and pins it there. */
static inline int tw_set_cpu(int fd, unsigned int cpu)
{
	struct twheel_set_cpu arg = { .size = sizeof(arg), .cpu = cpu };

	return ioctl(fd, TWHEEL_IOC_SET_CPU, &arg);
}

static inline int tw_stats(int fd, struct twheel_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, TWHEEL_IOC_STATS, st);
}

/*
 * Waits up to @timeout_ms for events and reads up to @max of them without
 * blocking. Returns the number read, 0 if none came in time, -1 on error.
 */
static inline int tw_read_events(int fd, struct twheel_event *ev,
				  unsigned int max, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = ev, .iov_len = max * sizeof(*ev) };
	ssize_t n;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret <= 0)
		return ret;
	/*
	 * Another reader of the same file may take the events first. Not
	 * blocking is asked per call: O_NONBLOCK belongs to the open file,
	 * which a forked reader shares, and toggling it would race.
	 */
	n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	return n / sizeof(*ev);
}

/*
 * Reads events until @want have come or @timeout_ms passed without any.
 * Returns the number read.
 */
static inline unsigned int tw_read_n(int fd, struct twheel_event *ev,
				     unsigned int want, int timeout_ms)
{
	unsigned int got = 0;
	int n;

	while (got < want) {
		n = tw_read_events(fd, ev + got, want - got, timeout_ms);
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/*
 * Waits until @n events are queued, polling the file's counters for at most
 * about @timeout_ms. Returns 0, or -1 if they did not come.
 */
static inline int tw_wait_queued(int fd, uint64_t n, int timeout_ms)
{
	struct twheel_stats st;

	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (tw_stats(fd, &st))
			return -1;
		if (st.queued == n)
			return 0;
		poll(NULL, 0, 10);
	}
	return -1;
}

/* A number read from a file such as a module parameter, or -1. */
static inline long tw_read_param(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Writes @s to the file @path; 0 or -1. */
static inline int tw_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * Sets the fault-injection attribute in the debugfs directory @dir to fail
 * @times times (a string, "-1" for no limit), every time it is asked,
 * silently, but only for tasks that ask through their make-it-fail file.
 * Returns 0, or -1 if a knob could not be written.
 */
static inline int tw_fault_setup(const char *dir, const char *times)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" }, { "verbose", "0" }, { "interval", "1" },
		{ "times", NULL }, { "probability", "100" },
	};
	char path[256];

	for (unsigned int i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, knobs[i][0]);
		if (tw_write_str(path, knobs[i][1] ?: times))
			return -1;
	}
	return 0;
}

/* Writes a number to a file such as a module parameter: 0 or -1. */
static inline int tw_write_param(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) > 0 ? 0 : -1;
	if (fclose(f))
		ret = -1;
	return ret;
}

#endif /* TWHEEL_TEST_H */
