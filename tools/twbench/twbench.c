// SPDX-License-Identifier: GPL-2.0
/*
 * twbench: twheel against timerfd, io_uring timeouts and the timers a
 * daemon keeps in its own process, side by side in one process on one
 * kernel.
 *
 * For each number of live timers N, each run, and each method (twheel with
 * one entry per ioctl, twheel with 64 per ioctl, twheel through its shared
 * rings, one timerfd per timer, io_uring IORING_OP_TIMEOUT with
 * submissions of 64, and in the process: libev's ev_timer, libuv's
 * uv_timer_t, twheel's wheel with one timerfd; inproc.c), it measures:
 *
 *   setup   what a method pays per timer before the first arm (timerfd:
 *           timerfd_create; twheel and io_uring: one open for all N; in
 *           the process: the loop and N initialised timers);
 *   arm     arming N idle timers, deadlines spread over a minute;
 *   memory  MemAvailable, Slab and the process's heap (mallinfo2) deltas
 *           across setup and arm, per timer;
 *   rearm   moving randomly chosen armed timers to a new deadline
 *           (io_uring: TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE);
 *   cancel  cancelling randomly chosen, distinct armed timers
 *           (timerfd: disarm; io_uring: TIMEOUT_REMOVE).
 *
 * Re-arm and cancel run on a sample of the armed timers (--ops, cut short
 * by --budget-ms on a method whose cost grows with N) with all N armed.
 *
 * Then the expiry workload arms N timers due evenly within one second and
 * reaps them: twheel by read() and by io_uring reads, timerfd by epoll and
 * read() and by io_uring POLL_ADD, io_uring timeouts by their completions,
 * the in-process timers by running their loop. It reports events reaped per
 * second of the window, the lateness seen by the reaper (clock read after
 * the wait returned, minus the deadline) at p50/p99/max, and for twheel the
 * kernel's own lateness (fired_ns minus deadline_ns) and, from the module's
 * debugfs counters read around each twheel run, its expiry thread's wake-up
 * latency and work per wake-up. Whether twheel's lateness p99 is within the
 * bound of Documentation/uapi.rst (one tick plus W, W the p99 lateness of
 * the hrtimer-driven reapers of the same run) is judged at every size.
 *
 * Last, the mixed workload: N connections with twdemo's traffic (arms,
 * re-arms, cancels and expiries at its rates) for a while, and the CPU time
 * all of it cost per timer operation: the process's, and for twheel also
 * that of its expiry threads, which work on the daemon's behalf.
 *
 * twheel-ring publishes its entries in the submission ring and rings the
 * doorbell (TWHEEL_IOC_RING_ENTER) only when the protocol says: a full
 * ring, a deadline before look_ns. What the daemon pays is timed; what is
 * left in the ring when a workload ends is applied by one more ENTER,
 * timed apart, and the file's counters (TWHEEL_IOC_STATS) must then show
 * every entry applied and none refused. Its system calls and the expiry
 * thread's cost per entry it took (ring_drain_ns) go to ring.csv.
 *
 * Every count is checked (each arm, re-arm and cancel found its timer, each
 * timer fired exactly once and never early); a mismatch is reported and
 * makes the exit status 1. Results go to CSV files and tables in --out;
 * every file starts with comment lines naming the kernel, the CPU model, the
 * accelerator (--accel, or TWHEEL_ACCEL in the environment) and the number
 * of vCPUs.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <liburing.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/twheel.h>

#include "inproc.h"
#include "ring.h"

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL
#define MAX_SIZES	8
#define MAX_RUNS	15
#define BATCH		64
#define CDF_POINTS	200
#define NA		(-1.0)

enum method {
	M_TW1, M_TW64, M_TIMERFD, M_URING,
	M_LIBEV, M_LIBUV, M_WHEEL,	/* in the process (inproc.c) */
	M_RING,				/* twheel's shared rings (ring.h) */
	NR_METHODS
};

static const char *const method_name[NR_METHODS] = {
	"twheel-1", "twheel-64", "timerfd", "io_uring",
	"libev", "libuv", "inproc-wheel", "twheel-ring",
};

static bool is_twheel(enum method m)
{
	return m == M_TW1 || m == M_TW64 || m == M_RING;
}

static bool is_inproc(enum method m)
{
	return m == M_LIBEV || m == M_LIBUV || m == M_WHEEL;
}

/* The mixed workload is run by twheel and the timers in the process. */
static bool runs_mixed(enum method m)
{
	return is_twheel(m) || is_inproc(m);
}

static enum inproc_kind inproc_kind(enum method m)
{
	return m == M_LIBEV ? INPROC_LIBEV : m == M_LIBUV ? INPROC_LIBUV : INPROC_WHEEL;
}

enum workload {
	W_SETUP, W_ARM, W_ARM_CPU, W_REARM, W_CANCEL, W_MEM, W_SLAB, W_HEAP,
	W_MIXED, W_MIXED_THREADS, NR_WORKLOADS
};

static const char *const workload_name[NR_WORKLOADS] = {
	"setup", "arm", "arm-cpu", "rearm", "cancel", "memory", "slab", "heap",
	"mixed", "mixed-threads",
};

static const char *const workload_unit[NR_WORKLOADS] = {
	"ns/timer", "ns/op", "cpu-ns/op", "ns/op", "ns/op", "bytes/timer",
	"bytes/timer", "bytes/timer", "cpu-ns/op", "cpu-ns/op",
};

enum reaper {
	R_TW_READ, R_TW_URING, R_TFD_READ, R_TFD_URING, R_URING,
	R_LIBEV, R_LIBUV, R_WHEEL, R_TW_RING, NR_REAPERS
};

static const char *const reaper_name[NR_REAPERS] = {
	"twheel/read", "twheel/io_uring", "timerfd/epoll+read",
	"timerfd/io_uring-poll", "io_uring-timeout/cqe",
	"libev/ev_run", "libuv/uv_run", "inproc-wheel/timerfd", "twheel/ring",
};

static const enum method reaper_arms[NR_REAPERS] = {
	M_TW64, M_TW64, M_TIMERFD, M_TIMERFD, M_URING,
	M_LIBEV, M_LIBUV, M_WHEEL, M_RING,
};

struct expiry {
	int valid;
	unsigned long events;	/* distinct timers reaped */
	unsigned long dups;	/* timers reaped more than once */
	unsigned long early;	/* reaped before their deadline */
	int overran;		/* arming ended after the first deadline */
	double per_s;		/* events / (last reap - first deadline) */
	double cpu_ns;		/* process CPU time per event while reaping */
	double p50, p99, max;	/* reaper's lateness, ns */
	double kp50, kp99, kmax; /* twheel: fired_ns - deadline_ns */
	double cdf[CDF_POINTS + 1];
	/* twheel, from the module's counters across the run; NA if unreadable */
	double wakeups;		/* expiry thread wake-ups */
	double w_mean, w_p99;	/* their wake-up latency, ns (p99: bucket bound) */
	double hr_p99;		/* the hrtimer part of it, ns (bucket bound) */
	double run_p99;		/* work per wake-up, ns (bucket bound) */
	double preempted;	/* wake-ups preempted while working, per 1000 */
	double moves;		/* files moved between CPUs (file_moves) */
	double settimes;	/* inproc-wheel: timerfd_settime() calls per 1000 events */
	double thread_cpu_ns;	/* twheel: its expiry threads' CPU time per event */
	double syscalls;	/* twheel/read, twheel/ring: system calls per 1000 events */
};

/* One mixed run: N connections' traffic, what it did and what it cost. */
struct mixed {
	int valid;
	double seconds;		/* the measured window */
	unsigned long arms, rearms, cancels, expiries;	/* in the window */
	double cpu_ns;		/* the process's CPU time in the window */
	double thread_ns;	/* twheel's expiry threads' (schedstat), NA if unread */
	double run_ns;		/* the same by the module's run_ns, NA if unread */
	unsigned long calls;	/* twheel: batch ioctls; inproc-wheel: timerfd_settime */
	unsigned long waits;	/* the loop's waits for a timer or the next step */
	unsigned long live;	/* timers armed at the end */
	unsigned long early, dups;
	double p50, p99, max;	/* reaper's lateness, ns */
};

/*
 * twheel-ring's own figures, per phase, size and run: the system calls of
 * what was timed, the closing doorbell of what the ring still held, and
 * the expiry thread's part (entries it took, ring_drain_ns).
 */
enum ring_phase { RP_ARM, RP_REARM, RP_CANCEL, RP_MIXED, RP_EXPIRY, NR_RING_PHASES };

static const char *const ring_phase_name[NR_RING_PHASES] = {
	"arm", "rearm", "cancel", "mixed", "expiry",
};

struct ringres {
	int valid;
	unsigned long ops;		/* timer operations (expiry: events reaped) */
	unsigned long enters;		/* TWHEEL_IOC_RING_ENTER calls while timed */
	double enter_ns;		/* the time they took */
	unsigned long waits;		/* poll() calls while timed */
	unsigned long flush_entries;	/* entries the closing ENTER took */
	double flush_ns;		/* and what it took */
	unsigned long thread_entries;	/* entries the expiry thread took */
	double drain_ns;		/* its ring_drain_ns meanwhile */
	double wakeups;			/* the expiry threads' wake-ups meanwhile, NA if unread */
	unsigned long stale;		/* mixed: events of superseded armings dropped */
};

/*
 * The rings' sizes, within what the handshake allows: a submission ring as
 * large as the module takes (131072), as a daemon that arms in bursts would
 * ask for, so that a burst of up to that many needs no doorbell to make
 * room.
 */
#define RING_SQ		131072
#define RING_EV		16384

/* The module's counters this benchmark reads, from debugfs. */
#define KC_BUCKETS 32
struct kcounters {
	int have;	/* the module keeps the expiry threads' figures */
	int have_moves;	/* and counts files moved between CPUs */
	int have_run;	/* and sums the threads' work (run_ns) */
	double wakeups, wakeup_ns, preempted, moves, run_ns;
	double hrtimer_us[KC_BUCKETS], wakeup_us[KC_BUCKETS], run_us[KC_BUCKETS];
};
static const char *counters_path = "/sys/kernel/debug/twheel/counters";

/* Options. */
static unsigned long sizes[MAX_SIZES] = { 1000, 10000, 100000, 1000000 };
static int nr_sizes = 4;
static int runs = 5;
static unsigned long opt_ops = 4096;
static uint64_t opt_budget_ns = 2000 * NSEC_PER_MSEC;
static uint64_t opt_window_ns = NSEC_PER_SEC;
static const char *out_dir = "/tmp/twbench";
static char accel[32] = "unknown";
static int pin_reaper = -1, pin_file = -1;	/* --pin: CPUs, -1 if not */
static int do_ops = 1, do_expiry = 1, do_mixed = 1, opt_probe;
static uint64_t opt_mixed_ns;			/* 0: the expiry window */
static bool method_on[NR_METHODS] = { true, true, true, true, true, true, true, true };
static char ring_note[160];			/* why twheel-ring was left out */

/* Results. */
static double res[NR_WORKLOADS][NR_METHODS][MAX_SIZES][MAX_RUNS];
static unsigned long res_ops[NR_WORKLOADS][NR_METHODS][MAX_SIZES][MAX_RUNS];
static struct expiry exp_res[NR_REAPERS][MAX_SIZES][MAX_RUNS];
static struct mixed mix_res[NR_METHODS][MAX_SIZES][MAX_RUNS];
static struct ringres ring_res[NR_RING_PHASES][MAX_SIZES][MAX_RUNS];
static unsigned int ring_sq = RING_SQ, ring_ev = RING_EV;
static const char *thread_cpu_source = "-";	/* what mixed-threads counts */
static uint64_t wheel_arm_settimes[MAX_SIZES];	/* inproc-wheel, arming N */
static unsigned long mixed_twheel_stop;		/* twheel left out of mixed from here */
static double arm_estimate_ns[NR_METHODS];	/* per timer, latest run */
static uint64_t expiry_lead_ns[NR_REAPERS];
static double module_bytes[MAX_SIZES];		/* twheel's memory_bytes / N */
static int failures;

/* What the guest allowed for timerfd. */
static unsigned long tfd_limit;			/* 0: no limit hit */
static char tfd_limit_why[160];
static char limits_note[512];

/* Metadata. */
static char kernel_rel[128], cpu_model[160];
static double null_syscall_ns, clock_read_ns;
static double warm_line_ns, cold_line_ns, cold_overlap_ns, stosb_ns, stosq_ns;
static struct twheel_handshake hs;

/* Buffers sized for the largest N, allocated and touched once. */
static unsigned long max_n;
static uint64_t *deadline;
static uint32_t *perm;
static struct twheel_arm *arms;
static struct __kernel_timespec *uts;
static int *tfd;
static double *late, *klate;
static unsigned char *seen;
static uint32_t *fired;		/* in-process timers that fired, 3 per connection */

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "twbench: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	failures++;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "twbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The calling thread's CPU time: what it ran, not what ran in its place. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* xorshift64*: the same sequence for every method of a run. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		die("out of memory for %zu x %zu bytes", n, size);
	return p;
}

/* --- environment --------------------------------------------------------- */

static long meminfo_kb(const char *key)
{
	char line[160];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * What the process has taken from malloc(), mapped chunks included: the
 * memory of timers kept in the process, which MemAvailable cannot see
 * until it outgrows the per-CPU page lists and pages freed earlier.
 */
static long heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long)(mi.uordblks + mi.hblkhd);
}

/* The guest kernel's command line, which results depend on; "?" if unread. */
static const char *kernel_cmdline(void)
{
	static char line[1024];
	FILE *f = fopen("/proc/cmdline", "r");
	size_t len;

	if (!f)
		return "?";
	if (!fgets(line, sizeof(line), f))
		strcpy(line, "?");
	fclose(f);
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	return line;
}

static int write_proc(const char *path, unsigned long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%lu\n", v) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static unsigned long read_proc(const char *path)
{
	unsigned long v = 0;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * One fd per timer: raise nr_open (the ceiling of RLIMIT_NOFILE) as far as
 * the kernel accepts, file-max and the epoll watch limit likewise, then
 * RLIMIT_NOFILE to nr_open. What stuck is recorded for the report.
 */
static void raise_fd_limits(void)
{
	unsigned long want = 1UL << 31, nr_open;
	struct rlimit rl;

	while (want > 1024 && write_proc("/proc/sys/fs/nr_open", want))
		want >>= 1;
	nr_open = read_proc("/proc/sys/fs/nr_open");
	write_proc("/proc/sys/fs/file-max", 1UL << 40);
	write_proc("/proc/sys/fs/epoll/max_user_watches", 1UL << 31);
	rl.rlim_cur = rl.rlim_max = nr_open;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fail("setrlimit(RLIMIT_NOFILE, %lu): %s", nr_open, strerror(errno));
	getrlimit(RLIMIT_NOFILE, &rl);
	snprintf(limits_note, sizeof(limits_note),
		 "fs.nr_open=%lu fs.file-max=%lu fs.epoll.max_user_watches=%lu RLIMIT_NOFILE=%lu",
		 nr_open, read_proc("/proc/sys/fs/file-max"),
		 read_proc("/proc/sys/fs/epoll/max_user_watches"),
		 (unsigned long)rl.rlim_cur);
}

/*
 * The cost of one load from a random line of @bytes, in ns. With @chase
 * each load's address comes from the one before, so no two misses can
 * overlap; without, the addresses are known ahead (eight loads at a time
 * from a shuffled list), as in a chunk of lookups, and a CPU that overlaps
 * misses does.
 */
static double line_ns(size_t bytes, bool chase)
{
	enum { LINE_WORDS = 64 / sizeof(uint64_t), LOADS = 200000 };
	size_t n = bytes / 64, i;
	uint64_t *line = aligned_alloc(64, n * 64), at, t0;
	uint32_t *order = xcalloc(n, sizeof(*order));

	if (!line)
		die("out of memory for a %zu-byte probe", bytes);
	for (i = 0; i < n; i++)
		order[i] = i;
	rng_state = 0x2545F4914F6CDD1DULL;
	for (i = n - 1; i > 0; i--) {
		size_t j = rng() % (i + 1);
		uint32_t x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	/* One cycle through every line, in random order. */
	for (i = 0; i < n; i++)
		line[(size_t)order[i] * LINE_WORDS] = order[(i + 1) % n];
	at = order[0];
	for (i = 0; i < n; i++)	/* warm what fits */
		at = line[at * LINE_WORDS];
	t0 = now_ns();
	if (chase) {
		for (i = 0; i < LOADS; i++)
			at = line[at * LINE_WORDS];
	} else {
		for (i = 0; i < LOADS; i += 8) {
			const uint32_t *o = &order[i % (n - 7)];
			size_t k;

			for (k = 0; k < 8; k++)
				at += line[(size_t)o[k] * LINE_WORDS];
			at %= n;
		}
	}
	t0 = now_ns() - t0;
	if (at >= n)
		die("probe: the chase left its cycle");
	free(order);
	free(line);
	return (double)t0 / LOADS;
}

/*
 * The cost of zeroing a twheel connection's 96 bytes the way the kernel's
 * memset() does it with and without the CPU's fast-string flag (ERMS): a
 * byte-wise rep stosb, and a word-wise rep stosq.
 */
static void probe_zeroing(void)
{
#if defined(__x86_64__)
	enum { ROUNDS = 100000 };
	static uint64_t obj[12] __attribute__((aligned(64)));
	uint64_t t0;
	int i;

	t0 = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		void *d = obj;
		unsigned long c = sizeof(obj);

		asm volatile("rep stosb" : "+D" (d), "+c" (c) : "a" (0) : "memory");
	}
	stosb_ns = (double)(now_ns() - t0) / ROUNDS;
	t0 = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		void *d = obj;
		unsigned long c = sizeof(obj) / 8;

		asm volatile("rep stosq" : "+D" (d), "+c" (c) : "a" (0) : "memory");
	}
	stosq_ns = (double)(now_ns() - t0) / ROUNDS;
#endif
}

/* What the machine's basic operations cost: the figures every result names. */
static void probe_costs(void)
{
	uint64_t t0;
	int i;

	/* Baselines: under TCG a syscall costs several times what it does natively. */
	t0 = now_ns();
	for (i = 0; i < 100000; i++)
		syscall(SYS_getppid);
	null_syscall_ns = (double)(now_ns() - t0) / 100000;
	t0 = now_ns();
	for (i = 0; i < 10000; i++)
		now_ns();
	clock_read_ns = (double)(now_ns() - t0) / 10000;
	/*
	 * What cache misses cost here: the state of a random one of a
	 * million timers (about 100 MB) is in a cold line, of a thousand in a
	 * warm one. Under TCG every cold line is also a miss in QEMU's
	 * software TLB, and misses do not overlap.
	 */
	warm_line_ns = line_ns(64 << 10, true);
	cold_line_ns = line_ns(128 << 20, true);
	cold_overlap_ns = line_ns(128 << 20, false);
	probe_zeroing();
}

static void print_costs(void)
{
	printf("# null syscall %.0f ns, clock_gettime %.0f ns\n"
	       "# random line: warm (64 KiB) %.1f ns, cold (128 MiB) %.1f ns, cold with eight known ahead %.1f ns\n"
	       "# zero 96 B: rep stosb %.1f ns, rep stosq %.1f ns\n",
	       null_syscall_ns, clock_read_ns, warm_line_ns, cold_line_ns,
	       cold_overlap_ns, stosb_ns, stosq_ns);
	fflush(stdout);
}

static void probe_environment(void)
{
	struct utsname u;
	char line[256];
	const char *env = getenv("TWHEEL_ACCEL");
	FILE *f;
	int fd;

	if (env && strcmp(accel, "unknown") == 0)
		snprintf(accel, sizeof(accel), "%s", env);
	if (!uname(&u))
		snprintf(kernel_rel, sizeof(kernel_rel), "%s", u.release);
	snprintf(cpu_model, sizeof(cpu_model), "unknown");
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && p) {
			p += 1 + strspn(p + 1, " \t");
			p[strcspn(p, "\n")] = 0;
			/* Commas would split the CSV header comments' fields. */
			for (char *c = p; *c; c++)
				if (*c == ',')
					*c = ';';
			snprintf(cpu_model, sizeof(cpu_model), "%s", p);
			break;
		}
	}
	if (f)
		fclose(f);

	probe_costs();

	if (method_on[M_TW1] || method_on[M_TW64] || method_on[M_RING]) {
		fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("/dev/twheel: %s (is the module loaded?)", strerror(errno));
		hs.size = sizeof(hs);
		if (ioctl(fd, TWHEEL_IOC_HANDSHAKE, &hs))
			die("TWHEEL_IOC_HANDSHAKE: %s", strerror(errno));
		close(fd);
		if (hs.max_batch < BATCH)
			die("max_batch %u is below %u", hs.max_batch, BATCH);
		if (method_on[M_RING] && !(hs.features & TWHEEL_FEAT_RINGS)) {
			method_on[M_RING] = false;
			snprintf(ring_note, sizeof(ring_note),
				 "twheel-ring skipped: the module lacks TWHEEL_FEAT_RINGS");
			fprintf(stderr, "twbench: %s\n", ring_note);
		} else if (method_on[M_RING]) {
			while (ring_sq > hs.max_sq_entries)
				ring_sq >>= 1;
			while (ring_ev > hs.max_ev_entries)
				ring_ev >>= 1;
		}
	} else {
		/* The in-process wheel then ticks as the module does by default. */
		hs.tick_ns = NSEC_PER_MSEC;
	}
	/* Only a timerfd per timer needs the machine's limits raised. */
	if (method_on[M_TIMERFD])
		raise_fd_limits();
	else
		snprintf(limits_note, sizeof(limits_note), "not raised (no timerfd method)");
}

static FILE *open_result(const char *name, const char *header)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "# twbench %s\n", name);
	fprintf(f, "# kernel: %s\n# cpu: %s\n# accel: %s\n# vcpus: %ld\n",
		kernel_rel, cpu_model, accel, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "# null syscall: %.0f ns; clock_gettime: %.0f ns; twheel tick: %" PRIu64 " ns\n",
		null_syscall_ns, clock_read_ns, (uint64_t)hs.tick_ns);
	if (header)
		fprintf(f, "%s\n", header);
	return f;
}

/* --- one method's timers -------------------------------------------------- */

struct timers {
	enum method m;
	unsigned long n;
	int fd;			/* twheel */
	unsigned long nr_tfd;	/* timerfds created */
	struct io_uring ring;
	int ring_ok;
	unsigned long pending;	/* io_uring completions still to come */
	struct inproc *ip;	/* in the process */
	struct bring sr;	/* twheel-ring */
};

static int ring_init(struct io_uring *ring)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP,
		.cq_entries = 65536,
	};

	return io_uring_queue_init_params(4096, ring, &p);
}

/* Returns 0, or -errno; for timerfd records how many it could create. */
static int timers_setup(struct timers *t, enum method m, unsigned long n)
{
	unsigned long i;
	int ret;

	memset(t, 0, sizeof(*t));
	t->m = m;
	t->n = n;
	t->fd = -1;
	switch (m) {
	case M_TW1:
	case M_TW64:
		t->fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		return t->fd < 0 ? -errno : 0;
	case M_RING:
		t->fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		if (t->fd < 0)
			return -errno;
		return bring_init(t->fd, ring_sq, ring_ev, &t->sr);
	case M_TIMERFD:
		for (i = 0; i < n; i++) {
			tfd[i] = timerfd_create(CLOCK_MONOTONIC,
						TFD_CLOEXEC | TFD_NONBLOCK);
			if (tfd[i] < 0) {
				ret = -errno;
				if (!tfd_limit || i < tfd_limit) {
					tfd_limit = i;
					snprintf(tfd_limit_why, sizeof(tfd_limit_why),
						 "timerfd_create failed after %lu timers: %s",
						 i, strerror(-ret));
				}
				t->nr_tfd = i;
				return ret;
			}
		}
		t->nr_tfd = n;
		return 0;
	case M_URING:
		ret = ring_init(&t->ring);
		t->ring_ok = !ret;
		return ret;
	case M_LIBEV:
	case M_LIBUV:
	case M_WHEEL:
		t->ip = inproc_new(inproc_kind(m), n, hs.tick_ns, fired);
		return t->ip ? 0 : -errno;
	default:
		return -EINVAL;
	}
}

static void timers_teardown(struct timers *t)
{
	unsigned long i;

	bring_exit(&t->sr);
	if (t->fd >= 0)
		close(t->fd);
	for (i = 0; i < t->nr_tfd; i++)
		close(tfd[i]);
	if (t->ring_ok)
		io_uring_queue_exit(&t->ring);
	inproc_free(t->ip);
	t->fd = -1;
	t->nr_tfd = 0;
	t->ring_ok = 0;
	t->ip = NULL;
}

/* A twheel batch ioctl; returns the entries that found their timer, or -errno. */
static long tw_batch(int fd, unsigned long cmd, const void *ent,
		     unsigned int count, unsigned int esize)
{
	struct twheel_batch b = {
		.size = sizeof(b), .entries = (uintptr_t)ent,
		.count = count, .entry_size = esize,
	};

	if (ioctl(fd, cmd, &b) < 0)
		return -errno;
	if (b.applied != count)
		return b.error ? b.error : -EIO;
	return b.found;
}

static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			die("io_uring: no SQE after a submit");
	}
	return sqe;
}

/*
 * Reaps the completions of removes and updates. Returns the number of
 * completions whose result was not the expected one.
 */
#define TAG_CTL		(1ULL << 63)

static unsigned long uring_reap(struct timers *t, int wait_all)
{
	struct io_uring_cqe *cqes[256], *cqe;
	struct __kernel_timespec ts = { .tv_sec = 10 };
	unsigned long bad = 0;
	unsigned int i, got;

	while (t->pending) {
		got = io_uring_peek_batch_cqe(&t->ring, cqes, 256);
		if (!got) {
			if (!wait_all)
				break;
			/* A completion that never comes is a failure, not a hang. */
			if (io_uring_wait_cqe_timeout(&t->ring, &cqe, &ts)) {
				bad += t->pending;
				t->pending = 0;
				break;
			}
			continue;
		}
		for (i = 0; i < got; i++) {
			int r = cqes[i]->res;

			/* A control SQE succeeds; a removed timeout says so. */
			if (cqes[i]->user_data & TAG_CTL ? r != 0 : r != -ECANCELED)
				bad++;
		}
		io_uring_cq_advance(&t->ring, got);
		t->pending -= got;
	}
	return bad;
}

/* Arms timer i for deadline[i] (absolute). Returns ns taken, or 0 on error. */
static uint64_t timers_arm(struct timers *t)
{
	unsigned long n = t->n, i, j;
	uint64_t t0, t1;
	long found = 0, r = 0;

	for (i = 0; i < n; i++) {
		arms[i] = (struct twheel_arm){
			.conn_id = i, .timeout_ns = deadline[i], .user_data = i,
			.kind = TWHEEL_KIND_IDLE, .flags = TWHEEL_ARM_ABS,
		};
		uts[i].tv_sec = deadline[i] / NSEC_PER_SEC;
		uts[i].tv_nsec = deadline[i] % NSEC_PER_SEC;
	}
	t0 = now_ns();
	switch (t->m) {
	case M_TW1:
		for (i = 0; i < n; i++) {
			r = tw_batch(t->fd, TWHEEL_IOC_ARM, &arms[i], 1, sizeof(*arms));
			if (r < 0)
				break;
			found += r;
		}
		break;
	case M_TW64:
		for (i = 0; i < n; i += j) {
			j = n - i < BATCH ? n - i : BATCH;
			r = tw_batch(t->fd, TWHEEL_IOC_ARM, &arms[i], j, sizeof(*arms));
			if (r < 0)
				break;
			found += r;
		}
		break;
	case M_RING:
		/* One arming at a time: publish, then the doorbell if it must. */
		for (i = 0; i < n; i++) {
			struct twheel_sqe e = bring_sqe_arm(i, TWHEEL_KIND_IDLE,
							    deadline[i], i);

			r = bring_push(t->fd, &t->sr, &e);
			if (!r)
				r = bring_check(t->fd, &t->sr, deadline[i]);
			if (r < 0)
				break;
		}
		break;
	case M_TIMERFD:
		for (i = 0; i < n; i++) {
			struct itimerspec its = {
				.it_value.tv_sec = uts[i].tv_sec,
				.it_value.tv_nsec = uts[i].tv_nsec,
			};

			r = timerfd_settime(tfd[i], TFD_TIMER_ABSTIME, &its, NULL);
			if (r < 0) {
				r = -errno;
				break;
			}
		}
		break;
	case M_URING:
		for (i = 0; i < n; i++) {
			struct io_uring_sqe *sqe = get_sqe(&t->ring);

			io_uring_prep_timeout(sqe, &uts[i], 0, IORING_TIMEOUT_ABS);
			sqe->user_data = i;
			if ((i + 1) % BATCH == 0 || i + 1 == n) {
				r = io_uring_submit(&t->ring);
				if (r < 0)
					break;
			}
		}
		r = i == n ? 0 : r;
		break;
	case M_LIBEV:
	case M_LIBUV:
	case M_WHEEL:
		inproc_clock(t->ip, now_ns());
		for (i = 0; i < n; i++)
			found += inproc_arm(t->ip, i, deadline[i]);
		break;
	default:
		r = -EINVAL;
	}
	t1 = now_ns();
	if (t->ip && inproc_errors(t->ip))
		r = -EIO;
	if (r < 0) {
		fail("%s: arming %lu timers: %s", method_name[t->m], n, strerror((int)-r));
		return 0;
	}
	if (found) {
		fail("%s: %ld of %lu first armings found a timer armed", method_name[t->m], found, n);
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

/* k distinct random timers of n, in perm[0..k). */
static void pick_random(unsigned long n, unsigned long k)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = 0; i < k; i++) {
		unsigned long j = i + rng() % (n - i);
		uint32_t x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
}

/*
 * Re-arms (cancel == 0) or cancels up to k random armed timers, in batches
 * of BATCH for the batched methods, stopping after the time budget. Stores
 * the number done in *done; returns ns taken, or 0 on error.
 */
static uint64_t timers_modify(struct timers *t, unsigned long k, int cancel,
			      unsigned long *done)
{
	static struct twheel_arm ra[BATCH];
	static struct twheel_cancel rc[BATCH];
	static struct __kernel_timespec rts[BATCH];
	const char *what = cancel ? "cancel" : "rearm";
	unsigned long i = 0, j, found = 0, bad = 0;
	uint64_t t0, t1, shift = 5 * NSEC_PER_SEC;
	long r = 0;

	pick_random(t->n, k);
	t0 = now_ns();
	if (t->ip)
		inproc_clock(t->ip, now_ns());
	while (i < k) {
		unsigned long c = t->m == M_TW64 || t->m == M_URING ? BATCH : 1;

		if (c > k - i)
			c = k - i;
		for (j = 0; j < c; j++) {
			uint32_t x = perm[i + j];
			uint64_t d = deadline[x] + shift;

			switch (t->m) {
			case M_TW1:
			case M_TW64:
				if (cancel)
					rc[j] = (struct twheel_cancel){ .conn_id = x };
				else
					ra[j] = (struct twheel_arm){
						.conn_id = x, .timeout_ns = d,
						.user_data = x, .flags = TWHEEL_ARM_ABS,
					};
				break;
			case M_RING: {
				/*
				 * A cancel, or a re-arm for later of a timer
				 * still armed: only a full ring rings the bell.
				 * The file's counters check them afterwards.
				 */
				struct twheel_sqe e = cancel ?
					bring_sqe_cancel(x, TWHEEL_KIND_IDLE, x) :
					bring_sqe_arm(x, TWHEEL_KIND_IDLE, d, x);

				long ret = bring_push(t->fd, &t->sr, &e);

				if (ret)
					r = ret;
				else
					found++;
				break;
			}
			case M_TIMERFD: {
				struct itimerspec its = { 0 };

				if (!cancel) {
					its.it_value.tv_sec = d / NSEC_PER_SEC;
					its.it_value.tv_nsec = d % NSEC_PER_SEC;
				}
				if (timerfd_settime(tfd[x], TFD_TIMER_ABSTIME, &its, NULL))
					r = -errno;
				else
					found++;
				break;
			}
			case M_URING: {
				struct io_uring_sqe *sqe = get_sqe(&t->ring);

				if (cancel) {
					io_uring_prep_timeout_remove(sqe, x, 0);
					t->pending += 2;
				} else {
					rts[j].tv_sec = d / NSEC_PER_SEC;
					rts[j].tv_nsec = d % NSEC_PER_SEC;
					io_uring_prep_timeout_update(sqe, &rts[j], x,
								     IORING_TIMEOUT_ABS);
					t->pending += 1;
				}
				sqe->user_data = TAG_CTL | x;
				break;
			}
			case M_LIBEV:
			case M_LIBUV:
			case M_WHEEL:
				found += cancel ? inproc_cancel(t->ip, x)
						: inproc_arm(t->ip, x, d);
				break;
			default:
				break;
			}
		}
		switch (t->m) {
		case M_TW1:
		case M_TW64:
			r = cancel ? tw_batch(t->fd, TWHEEL_IOC_CANCEL, rc, c, sizeof(rc[0]))
				   : tw_batch(t->fd, TWHEEL_IOC_ARM, ra, c, sizeof(ra[0]));
			if (r >= 0) {
				found += r;
				r = 0;
			}
			break;
		case M_URING:
			/* The timespecs are read when the SQEs are submitted. */
			r = io_uring_submit(&t->ring);
			if (r >= 0) {
				r = 0;
				bad += uring_reap(t, 0);
			}
			break;
		default:
			break;
		}
		if (r < 0)
			break;
		i += c;
		/* A method whose cost grows with N stops early, on a batch boundary. */
		if (i >= 4 * BATCH && i % BATCH == 0 && now_ns() - t0 > opt_budget_ns)
			break;
	}
	if (t->m == M_URING && r >= 0) {
		/* A removed timeout completes from task work: wait for all. */
		bad += uring_reap(t, 1);
		found = i - bad / (cancel ? 2 : 1);
	}
	t1 = now_ns();
	*done = i;
	if (t->ip && inproc_errors(t->ip))
		r = -EIO;
	if (r < 0) {
		fail("%s: %s of %lu timers: %s", method_name[t->m], what, k, strerror((int)-r));
		return 0;
	}
	if (found != i || bad) {
		fail("%s: %s: %lu of %lu found their timer, %lu bad completions",
		     method_name[t->m], what, found, i, bad);
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

/* A twheel file's counters; -1 with errno if they cannot be read. */
static int tw_stats(int fd, struct twheel_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, TWHEEL_IOC_STATS, st);
}

/* Where a timed twheel-ring workload starts: the counters and the doorbell's. */
struct ring_mark {
	struct twheel_stats st;
	unsigned long enters, taken;
	uint64_t enter_ns;
};

static bool ring_mark(const struct timers *t, struct ring_mark *k)
{
	k->enters = t->sr.enters;
	k->taken = t->sr.enter_taken;
	k->enter_ns = t->sr.enter_ns;
	if (tw_stats(t->fd, &k->st)) {
		fail("twheel-ring: TWHEEL_IOC_STATS: %s", strerror(errno));
		return false;
	}
	return true;
}

/*
 * The end of a timed twheel-ring workload of @ops operations: what the
 * ring still holds is applied by one more ENTER, timed apart; then the
 * file's counters must show the arms, re-arms and cancels asked for since
 * @k, no entry refused, nothing left in the ring and no record in the
 * event ring. Fills @rr; false on a mismatch.
 */
static bool ring_close_phase(struct timers *t, const char *what, const struct ring_mark *k,
			     unsigned long ops, unsigned long want_arms,
			     unsigned long want_rearms, unsigned long want_cancels,
			     struct ringres *rr)
{
	unsigned long taken0 = t->sr.enter_taken;
	struct twheel_stats s1;
	uint64_t f0;

	memset(rr, 0, sizeof(*rr));
	rr->wakeups = NA;
	rr->ops = ops;
	rr->enters = t->sr.enters - k->enters;
	rr->enter_ns = (double)(t->sr.enter_ns - k->enter_ns);
	if (bring_pending(&t->sr)) {
		f0 = now_ns();
		if (bring_enter(t->fd, &t->sr)) {
			fail("twheel-ring: %s: TWHEEL_IOC_RING_ENTER: %s", what, strerror(errno));
			return false;
		}
		rr->flush_ns = (double)(now_ns() - f0);
		rr->flush_entries = t->sr.enter_taken - taken0;
	}
	if (tw_stats(t->fd, &s1)) {
		fail("twheel-ring: %s: TWHEEL_IOC_STATS: %s", what, strerror(errno));
		return false;
	}
	rr->thread_entries = (s1.ring_entries - k->st.ring_entries) - (t->sr.enter_taken - k->taken);
	rr->drain_ns = (double)(s1.ring_drain_ns - k->st.ring_drain_ns);
	if (s1.arms - k->st.arms != want_arms || s1.rearms - k->st.rearms != want_rearms ||
	    s1.cancels - k->st.cancels != want_cancels || s1.ring_errors != k->st.ring_errors ||
	    t->sr.enter_errors || t->sr.enter_failed || bring_pending(&t->sr) ||
	    bring_ready(&t->sr) || *t->sr.ev_queued) {
		fail("twheel-ring: %s of %lu: arms %llu, re-arms %llu, cancels %llu (wanted %lu, %lu, %lu), "
		     "%llu error records, %u entries not taken, %u records in the event ring",
		     what, ops, (unsigned long long)(s1.arms - k->st.arms),
		     (unsigned long long)(s1.rearms - k->st.rearms),
		     (unsigned long long)(s1.cancels - k->st.cancels), want_arms, want_rearms,
		     want_cancels, (unsigned long long)(s1.ring_errors - k->st.ring_errors),
		     bring_pending(&t->sr), bring_ready(&t->sr));
		return false;
	}
	rr->valid = 1;
	return true;
}

static long twheel_memory_bytes(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/sys/kernel/debug/twheel/counters", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memory_bytes %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * Memory a method gives back returns late: closed files are released from
 * task work and RCU callbacks, io_uring rings from a workqueue. Before a
 * baseline, wait until MemAvailable has held still (within 256 kB) for
 * three readings 100 ms apart, or 10 s at most.
 */
static void memory_settle(void)
{
	const struct timespec pause = { .tv_nsec = 100 * NSEC_PER_MSEC };
	long prev = meminfo_kb("MemAvailable"), cur;
	int i, still = 0;

	for (i = 0; i < 100 && still < 3; i++) {
		nanosleep(&pause, NULL);
		cur = meminfo_kb("MemAvailable");
		still = labs(cur - prev) < 256 ? still + 1 : 0;
		prev = cur;
	}
}

/* Deadlines spread over [60 s, 120 s) from now: none fires during a run. */
static void far_deadlines(unsigned long n)
{
	uint64_t base = now_ns() + 60 * NSEC_PER_SEC;
	unsigned long i;

	for (i = 0; i < n; i++)
		deadline[i] = base + rng() % (60 * NSEC_PER_SEC);
}

static void ops_run(enum method m, int si, int run)
{
	unsigned long n = sizes[si], k = opt_ops < n ? opt_ops : n, done;
	long avail0, slab0, avail1, slab1, heap0;
	struct ring_mark rk;
	struct timers t;
	uint64_t t0, ns, c0;
	int ret;

	if (m == M_TIMERFD && tfd_limit && n > tfd_limit)
		return;
	far_deadlines(n);
	memory_settle();
	avail0 = meminfo_kb("MemAvailable");
	slab0 = meminfo_kb("Slab");
	heap0 = heap_bytes();
	t0 = now_ns();
	ret = timers_setup(&t, m, n);
	ns = now_ns() - t0;
	if (ret) {
		if (m != M_TIMERFD)
			fail("%s: setup for %lu timers: %s", method_name[m], n, strerror(-ret));
		else
			fprintf(stderr, "twbench: %s\n", tfd_limit_why);
		timers_teardown(&t);
		return;
	}
	res[W_SETUP][m][si][run] = (double)ns / n;
	res_ops[W_SETUP][m][si][run] = n;

	if (m == M_RING && !ring_mark(&t, &rk))
		goto out;
	c0 = thread_cpu_ns();
	ns = timers_arm(&t);
	c0 = thread_cpu_ns() - c0;
	if (!ns)
		goto out;
	/* Before the memory is read: what the ring still held, applied. */
	if (m == M_RING && !ring_close_phase(&t, "arm", &rk, n, n, 0, 0,
					     &ring_res[RP_ARM][si][run]))
		goto out;
	res[W_ARM][m][si][run] = (double)ns / n;
	res_ops[W_ARM][m][si][run] = n;
	res[W_ARM_CPU][m][si][run] = (double)c0 / n;
	res_ops[W_ARM_CPU][m][si][run] = n;
	arm_estimate_ns[m] = (double)ns / n;
	if (m == M_WHEEL)
		wheel_arm_settimes[si] = inproc_timerfd_settimes(t.ip);

	avail1 = meminfo_kb("MemAvailable");
	slab1 = meminfo_kb("Slab");
	res[W_MEM][m][si][run] = (double)(avail0 - avail1) * 1024 / n;
	res[W_SLAB][m][si][run] = (double)(slab1 - slab0) * 1024 / n;
	res[W_HEAP][m][si][run] = (double)(heap_bytes() - heap0) / n;
	res_ops[W_MEM][m][si][run] = res_ops[W_SLAB][m][si][run] = n;
	res_ops[W_HEAP][m][si][run] = n;
	if (m == M_TW64 && run == 0) {
		long mb = twheel_memory_bytes();

		if (mb >= 0)
			module_bytes[si] = (double)mb / n;
	}

	if (m == M_RING && !ring_mark(&t, &rk))
		goto out;
	ns = timers_modify(&t, k, 0, &done);
	if (!ns)
		goto out;
	if (m == M_RING && !ring_close_phase(&t, "rearm", &rk, done, 0, done, 0,
					     &ring_res[RP_REARM][si][run]))
		goto out;
	res[W_REARM][m][si][run] = (double)ns / done;
	res_ops[W_REARM][m][si][run] = done;

	if (m == M_RING && !ring_mark(&t, &rk))
		goto out;
	ns = timers_modify(&t, k, 1, &done);
	if (!ns)
		goto out;
	if (m == M_RING && !ring_close_phase(&t, "cancel", &rk, done, 0, 0, done,
					     &ring_res[RP_CANCEL][si][run]))
		goto out;
	res[W_CANCEL][m][si][run] = (double)ns / done;
	res_ops[W_CANCEL][m][si][run] = done;
out:
	timers_teardown(&t);
}

/* --- expiry --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, unsigned long n, double q)
{
	unsigned long i;

	if (!n)
		return NA;
	i = (unsigned long)(q * (n - 1) + 0.5);
	return sorted[i];
}

/* One reaped timer: checks it, records its lateness. */
static void reaped(struct expiry *e, uint64_t idx, uint64_t now, unsigned long n,
		   const __u64 *fired)
{
	if (idx >= n) {
		fail("reaped an unknown timer %" PRIu64, idx);
		return;
	}
	if (seen[idx]++) {
		e->dups++;
		return;
	}
	/* Early by the reaper's clock or by the kernel's: one timer, once. */
	if (now < deadline[idx] || (fired && *fired < deadline[idx]))
		e->early++;
	late[e->events] = now >= deadline[idx] ? (double)(now - deadline[idx]) : 0;
	if (fired) {
		klate[e->events] = *fired >= deadline[idx] ? (double)(*fired - deadline[idx]) : 0;
	}
	e->events++;
}

/* One expiry run: the timers, what reaps them, and what it found. */
struct expiry_ctx {
	enum reaper rp;
	unsigned long n;
	struct expiry *e;
	struct timers t;
	struct io_uring ring;	/* reads of twheel, polls of timerfds */
	int ring_ok;
	int ep;			/* epoll of the timerfds */
	unsigned long calls;	/* twheel/read: read() and poll() calls */
};

enum { READS = 4, READ_EVENTS = 256 };
static struct twheel_event evbuf[READS][READ_EVENTS];	/* io_uring reads */
static struct twheel_event readbuf[READS * READ_EVENTS];	/* read() */

/* Sets up what reaps: it has to be in place before anything fires. */
static int reaper_setup(struct expiry_ctx *c)
{
	unsigned long i;
	int ret;

	if (c->rp == R_TW_READ && fcntl(c->t.fd, F_SETFL, O_NONBLOCK)) {
		fail("%s: O_NONBLOCK: %s", reaper_name[c->rp], strerror(errno));
		return -1;
	}
	if (c->rp == R_TFD_READ) {
		c->ep = epoll_create1(EPOLL_CLOEXEC);
		if (c->ep < 0) {
			fail("%s: epoll_create1: %s", reaper_name[c->rp], strerror(errno));
			return -1;
		}
		for (i = 0; i < c->n; i++) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };

			if (epoll_ctl(c->ep, EPOLL_CTL_ADD, tfd[i], &ev)) {
				fail("%s: epoll_ctl for timer %lu: %s", reaper_name[c->rp], i,
				     strerror(errno));
				return -1;
			}
		}
	}
	if (c->rp != R_TW_URING && c->rp != R_TFD_URING)
		return 0;
	ret = ring_init(&c->ring);
	if (ret) {
		fail("%s: io_uring setup: %s", reaper_name[c->rp], strerror(-ret));
		return -1;
	}
	c->ring_ok = 1;
	if (c->rp == R_TW_URING) {
		/* Several reads in flight, each put back when it completes. */
		for (i = 0; i < READS; i++) {
			struct io_uring_sqe *sqe = get_sqe(&c->ring);

			io_uring_prep_read(sqe, c->t.fd, evbuf[i], sizeof(evbuf[i]), 0);
			sqe->user_data = i;
		}
		io_uring_submit(&c->ring);
		return 0;
	}
	/* One poll per timerfd. */
	for (i = 0; i < c->n; i++) {
		struct io_uring_sqe *sqe = get_sqe(&c->ring);

		io_uring_prep_poll_add(sqe, tfd[i], POLLIN);
		sqe->user_data = i;
		if ((i + 1) % BATCH == 0 || i + 1 == c->n)
			io_uring_submit(&c->ring);
	}
	return 0;
}

/*
 * Deadlines evenly over the window, armed in random order, starting once
 * arming is surely over: twice what arming N took in the last run of the
 * arm workload (more if that was not enough last time). Returns the first
 * deadline.
 */
static uint64_t expiry_deadlines(enum reaper rp, unsigned long n)
{
	enum method m = reaper_arms[rp];
	uint64_t lead = (uint64_t)(2 * arm_estimate_ns[m] * n), first;
	unsigned long i;

	if (!arm_estimate_ns[m])
		lead = n * 20000ULL;
	if (lead < expiry_lead_ns[rp])
		lead = expiry_lead_ns[rp];
	if (lead < 300 * NSEC_PER_MSEC)
		lead = 300 * NSEC_PER_MSEC;
	expiry_lead_ns[rp] = lead;
	first = now_ns() + lead;
	pick_random(n, n);
	for (i = 0; i < n; i++)
		deadline[i] = first + perm[i] * opt_window_ns / n;
	return first;
}

/*
 * Each reap_*() waits up to a second for fired timers and takes what is
 * there; it returns -1 on an error that ends the run, else 0, and sets
 * *now to the clock read once the events were in hand.
 */
static int reap_twheel_read(struct expiry_ctx *c, uint64_t *now)
{
	struct twheel_event *ev = readbuf;
	struct pollfd pfd = { .fd = c->t.fd, .events = POLLIN };
	ssize_t r;
	size_t j;

	c->calls++;
	r = read(c->t.fd, readbuf, sizeof(readbuf));
	if (r < 0 && errno == EAGAIN) {
		c->calls++;
		poll(&pfd, 1, 1000);
		return 0;
	}
	if (r < 0) {
		fail("%s: read: %s", reaper_name[c->rp], strerror(errno));
		return -1;
	}
	*now = now_ns();
	for (j = 0; j < (size_t)r / sizeof(*ev); j++)
		reaped(c->e, ev[j].user_data, *now, c->n, &ev[j].fired_ns);
	return 0;
}

/*
 * From the event ring: what is there, without a system call; when it is
 * empty, ENTER if events wait in the kernel for room, else sleep in poll()
 * with TWHEEL_EV_NEED_WAKEUP set.
 */
static int reap_twheel_ring(struct expiry_ctx *c, uint64_t *now)
{
	struct bring *r = &c->t.sr;
	unsigned int got, j;

	got = bring_reap(r, readbuf, READS * READ_EVENTS);
	if (!got) {
		if (__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED)) {
			if (bring_enter(c->t.fd, r)) {
				fail("%s: TWHEEL_IOC_RING_ENTER: %s", reaper_name[c->rp],
				     strerror(errno));
				return -1;
			}
		} else if (bring_wait(c->t.fd, r, 1000) < 0 && errno != EINTR) {
			fail("%s: poll: %s", reaper_name[c->rp], strerror(errno));
			return -1;
		}
		return 0;
	}
	*now = now_ns();
	for (j = 0; j < got; j++) {
		const struct twheel_event *ev = &readbuf[j];

		if (ev->flags) {
			fail("%s: an error record: op %u, error %lld, timer %llu", reaper_name[c->rp],
			     TWHEEL_EVENT_OP(ev->flags), (long long)ev->error,
			     (unsigned long long)ev->user_data);
			continue;
		}
		reaped(c->e, ev->user_data, *now, c->n, &ev->fired_ns);
	}
	return 0;
}

static int reap_uring(struct expiry_ctx *c, uint64_t *now)
{
	struct io_uring *r = c->rp == R_URING ? &c->t.ring : &c->ring;
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqes[1024], *cqe;
	unsigned int got, j, i;
	int ret;

	ret = io_uring_wait_cqe_timeout(r, &cqe, &ts);
	if (ret == -ETIME || ret == -EINTR)
		return 0;
	if (ret) {
		fail("%s: wait: %s", reaper_name[c->rp], strerror(-ret));
		return -1;
	}
	/* The clock after the peek: it may take newer completions. */
	got = io_uring_peek_batch_cqe(r, cqes, 1024);
	*now = now_ns();
	for (j = 0; j < got; j++) {
		uint64_t ud = cqes[j]->user_data;
		int res = cqes[j]->res;
		struct io_uring_sqe *sqe;

		switch (c->rp) {
		case R_URING:
			if (res != -ETIME)
				fail("%s: timeout completed with %d", reaper_name[c->rp], res);
			reaped(c->e, ud, *now, c->n, NULL);
			break;
		case R_TFD_URING:
			if (res < 0 || !(res & POLLIN))
				fail("%s: poll completed with %d", reaper_name[c->rp], res);
			reaped(c->e, ud, *now, c->n, NULL);
			break;
		default:
			if (ud >= READS || res < 0 || res % sizeof(struct twheel_event)) {
				fail("%s: read completed with %d", reaper_name[c->rp], res);
				return -1;
			}
			for (i = 0; i < res / sizeof(struct twheel_event); i++)
				reaped(c->e, evbuf[ud][i].user_data, *now, c->n,
				       &evbuf[ud][i].fired_ns);
			sqe = get_sqe(r);
			io_uring_prep_read(sqe, c->t.fd, evbuf[ud], sizeof(evbuf[ud]), 0);
			sqe->user_data = ud;
			break;
		}
	}
	io_uring_cq_advance(r, got);
	if (c->rp == R_TW_URING)
		io_uring_submit(r);
	return 0;
}

static int reap_epoll(struct expiry_ctx *c, uint64_t *now)
{
	static struct epoll_event eev[1024];
	int nev = epoll_wait(c->ep, eev, 1024, 1000), j;

	if (nev < 0 && errno != EINTR) {
		fail("%s: epoll_wait: %s", reaper_name[c->rp], strerror(errno));
		return -1;
	}
	*now = now_ns();
	for (j = 0; j < nev; j++) {
		uint64_t idx = eev[j].data.u64, exp;

		if (idx >= c->n || read(tfd[idx], &exp, sizeof(exp)) != sizeof(exp)) {
			fail("%s: read of timer %" PRIu64 ": %s", reaper_name[c->rp],
			     idx, strerror(errno));
			return -1;
		}
		reaped(c->e, idx, *now, c->n, NULL);
	}
	return 0;
}

/*
 * In the process: the loop runs once, waiting until a timer is due, and
 * what fired is in hand when it returns.
 */
static int reap_inproc(struct expiry_ctx *c, uint64_t *now)
{
	unsigned long got = inproc_run(c->t.ip, UINT64_MAX), j;

	*now = now_ns();
	if (inproc_errors(c->t.ip)) {
		fail("%s: timerfd_settime failed", reaper_name[c->rp]);
		return -1;
	}
	for (j = 0; j < got; j++)
		reaped(c->e, fired[j], *now, c->n, NULL);
	return 0;
}

/* Lateness quantiles of what was reaped. */
static void expiry_summarise(struct expiry *e, enum reaper rp)
{
	int i;

	qsort(late, e->events, sizeof(*late), cmp_double);
	e->p50 = quantile(late, e->events, 0.50);
	e->p99 = quantile(late, e->events, 0.99);
	e->max = quantile(late, e->events, 1.0);
	for (i = 0; i <= CDF_POINTS; i++)
		e->cdf[i] = quantile(late, e->events, (double)i / CDF_POINTS);
	e->kp50 = e->kp99 = e->kmax = NA;
	if (is_twheel(reaper_arms[rp])) {
		qsort(klate, e->events, sizeof(*klate), cmp_double);
		e->kp50 = quantile(klate, e->events, 0.50);
		e->kp99 = quantile(klate, e->events, 0.99);
		e->kmax = quantile(klate, e->events, 1.0);
	}
	e->valid = 1;
}

/* Reads the module's counters; -1 if they cannot be read (no debugfs). */
static int kcounters_read(struct kcounters *k)
{
	char name[64];
	double v;
	unsigned int b;
	FILE *f = fopen(counters_path, "r");

	if (!f)
		return -1;
	memset(k, 0, sizeof(*k));
	while (fscanf(f, "%63s %lf", name, &v) == 2) {
		if (!strcmp(name, "wakeups")) {
			k->wakeups = v;
		} else if (!strcmp(name, "wakeup_ns")) {
			k->wakeup_ns = v;
			k->have = 1;
		} else if (!strcmp(name, "run_preempted")) {
			k->preempted = v;
		} else if (!strcmp(name, "file_moves")) {
			k->moves = v;
			k->have_moves = 1;
		} else if (!strcmp(name, "run_ns")) {
			k->run_ns = v;
			k->have_run = 1;
		} else if (sscanf(name, "hrtimer_late_us_log2_%u", &b) == 1) {
			if (b < KC_BUCKETS)
				k->hrtimer_us[b] = v;
		} else if (sscanf(name, "wakeup_us_log2_%u", &b) == 1) {
			if (b < KC_BUCKETS)
				k->wakeup_us[b] = v;
		} else if (sscanf(name, "run_us_log2_%u", &b) == 1) {
			if (b < KC_BUCKETS)
				k->run_us[b] = v;
		}
	}
	fclose(f);
	return 0;
}

/*
 * The p99 of a log2 histogram in microseconds (bucket k > 0 holds
 * [2^(k-1), 2^k) us), as the upper bound of its bucket, in ns; the
 * difference of two readings. NA if empty or open-ended.
 */
static double kc_p99(const double *after, const double *before)
{
	double total = 0, sum = 0;
	int k;

	for (k = 0; k < KC_BUCKETS; k++)
		total += after[k] - before[k];
	if (total <= 0)
		return NA;
	for (k = 0; k < KC_BUCKETS; k++) {
		sum += after[k] - before[k];
		if (sum >= 0.99 * total)
			return k == KC_BUCKETS - 1 ? NA : (double)(1ULL << k) * 1000;
	}
	return NA;
}

/* The expiry thread's figures across one run, from two readings. */
static void kcounters_summarise(struct expiry *e, const struct kcounters *b,
				const struct kcounters *a)
{
	e->wakeups = a->wakeups - b->wakeups;
	if (e->wakeups <= 0 || !a->have || !b->have) {
		e->wakeups = e->w_mean = e->w_p99 = e->hr_p99 = e->run_p99 = NA;
		e->preempted = e->moves = NA;
		return;
	}
	e->moves = a->have_moves && b->have_moves ? a->moves - b->moves : NA;
	e->w_mean = (a->wakeup_ns - b->wakeup_ns) / e->wakeups;
	e->w_p99 = kc_p99(a->wakeup_us, b->wakeup_us);
	e->hr_p99 = kc_p99(a->hrtimer_us, b->hrtimer_us);
	e->run_p99 = kc_p99(a->run_us, b->run_us);
	e->preempted = 1000 * (a->preempted - b->preempted) / e->wakeups;
}

/* The expiry threads ("twheel/N"), found once; their CPU time from schedstat. */
static pid_t twheel_threads[256];
static int nr_twheel_threads = -1;

static void find_twheel_threads(void)
{
	char path[300], comm[32];
	struct dirent *d;
	DIR *dir = opendir("/proc");

	nr_twheel_threads = 0;
	while (dir && (d = readdir(dir)) &&
	       nr_twheel_threads < (int)(sizeof(twheel_threads) / sizeof(twheel_threads[0]))) {
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "twheel/", 7))
			twheel_threads[nr_twheel_threads++] = atoi(d->d_name);
		fclose(f);
	}
	if (dir)
		closedir(dir);
}

/* The expiry threads' CPU time so far, ns (sum_exec_runtime); NA if unread. */
static double twheel_threads_ns(void)
{
	double sum = 0;
	int i;

	if (nr_twheel_threads < 0)
		find_twheel_threads();
	if (!nr_twheel_threads)
		return NA;
	for (i = 0; i < nr_twheel_threads; i++) {
		char path[64];
		unsigned long long ns;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)twheel_threads[i]);
		f = fopen(path, "r");
		if (!f)
			return NA;
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
		sum += ns;
	}
	return sum;
}

static void expiry_run(enum reaper rp, int si, int run)
{
	struct kcounters kc_before, kc_after;
	int have_kc = 0;
	struct expiry_ctx c = {
		.rp = rp, .n = sizes[si], .e = &exp_res[rp][si][run], .ep = -1,
	};
	struct expiry *e = c.e;
	unsigned long n = c.n;
	uint64_t first, t_armed, t_last = 0, guard, c0;
	unsigned long enters0, polls0;
	uint64_t enter_ns0;
	double threads0, threads1;
	struct ring_mark rk;
	int ret;

	memset(e, 0, sizeof(*e));
	if (reaper_arms[rp] == M_TIMERFD && tfd_limit && n > tfd_limit)
		return;
	ret = timers_setup(&c.t, reaper_arms[rp], n);
	if (ret) {
		if (reaper_arms[rp] != M_TIMERFD)
			fail("%s: setup for %lu timers: %s", reaper_name[rp], n, strerror(-ret));
		goto out;
	}
	memset(seen, 0, n);
	if (pin_file >= 0 && is_twheel(reaper_arms[rp])) {
		struct twheel_set_cpu sc = { .size = sizeof(sc), .cpu = pin_file };
		cpu_set_t set;

		/* A file goes only where its caller may run: go there first. */
		CPU_ZERO(&set);
		CPU_SET(pin_file, &set);
		if (sched_setaffinity(0, sizeof(set), &set) ||
		    ioctl(c.t.fd, TWHEEL_IOC_SET_CPU, &sc))
			die("TWHEEL_IOC_SET_CPU %d: %s", pin_file, strerror(errno));
		CPU_ZERO(&set);
		CPU_SET(pin_reaper, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("--pin: CPU %d: %s", pin_reaper, strerror(errno));
	}
	if (reaper_setup(&c))
		goto out;

	/* Only twheel's runs wake its threads; nothing else runs meanwhile. */
	if (is_twheel(reaper_arms[rp]))
		have_kc = !kcounters_read(&kc_before);
	if (rp == R_TW_RING && !ring_mark(&c.t, &rk))
		goto out;
	first = expiry_deadlines(rp, n);
	if (!timers_arm(&c.t))
		goto out;
	t_armed = now_ns();
	if (t_armed > first) {
		e->overran = 1;
		expiry_lead_ns[rp] *= 2;
		fprintf(stderr, "twbench: %s at %lu: arming ended %.0f ms after the first deadline\n",
			reaper_name[rp], n, (double)(t_armed - first) / 1e6);
	}

	guard = first + opt_window_ns + 120 * NSEC_PER_SEC;
	threads0 = is_twheel(reaper_arms[rp]) ? twheel_threads_ns() : NA;
	enters0 = c.t.sr.enters;
	enter_ns0 = c.t.sr.enter_ns;
	polls0 = c.t.sr.polls;
	c0 = cpu_ns();
	while (e->events + e->dups < n) {
		unsigned long before = e->events + e->dups;
		uint64_t now = 0;

		if (now_ns() > guard) {
			fail("%s at %lu: %lu of %lu timers reaped within 2 minutes",
			     reaper_name[rp], n, e->events, n);
			break;
		}
		if (rp == R_TW_READ)
			ret = reap_twheel_read(&c, &now);
		else if (rp == R_TW_RING)
			ret = reap_twheel_ring(&c, &now);
		else if (rp == R_TFD_READ)
			ret = reap_epoll(&c, &now);
		else if (is_inproc(reaper_arms[rp]))
			ret = reap_inproc(&c, &now);
		else
			ret = reap_uring(&c, &now);
		if (ret)
			goto out;
		if (e->events + e->dups > before)
			t_last = now;
	}
	e->cpu_ns = (double)(cpu_ns() - c0) / (e->events ? e->events : 1);
	threads1 = threads0 != NA ? twheel_threads_ns() : NA;
	e->thread_cpu_ns = threads1 != NA ? (threads1 - threads0) / (e->events ? e->events : 1) : NA;
	if (e->events != n || e->dups || e->early)
		fail("%s at %lu: %lu of %lu reaped, %lu more than once, %lu early",
		     reaper_name[rp], n, e->events, n, e->dups, e->early);
	e->per_s = t_last > first ? e->events / ((double)(t_last - first) / NSEC_PER_SEC) : NA;
	e->settimes = rp == R_WHEEL && e->events ?
		      1000.0 * inproc_timerfd_settimes(c.t.ip) / e->events : NA;
	e->syscalls = !e->events ? NA :
		      rp == R_TW_READ ? 1000.0 * c.calls / e->events :
		      rp == R_TW_RING ? 1000.0 * (c.t.sr.enters - enters0 + c.t.sr.polls - polls0) /
					e->events : NA;
	if (rp == R_TW_RING) {
		struct ringres *rr = &ring_res[RP_EXPIRY][si][run];
		unsigned long enters = c.t.sr.enters - enters0, polls = c.t.sr.polls - polls0;
		double enter_ns = (double)(c.t.sr.enter_ns - enter_ns0);

		/* Every event reaped: the counters must show every arm, none refused. */
		if (ring_close_phase(&c.t, "expiry", &rk, e->events, n, 0, 0, rr)) {
			rr->enters = enters;
			rr->enter_ns = enter_ns;
			rr->waits = polls;
		}
	}
	expiry_summarise(e, rp);
	if (have_kc && !kcounters_read(&kc_after))
		kcounters_summarise(e, &kc_before, &kc_after);
	else
		e->wakeups = e->w_mean = e->w_p99 = e->hr_p99 = e->run_p99 = e->preempted = e->moves = NA;
	if (rp == R_TW_RING && ring_res[RP_EXPIRY][si][run].valid)
		ring_res[RP_EXPIRY][si][run].wakeups = e->wakeups;
out:
	if (c.ring_ok)
		io_uring_queue_exit(&c.ring);
	if (c.ep >= 0)
		close(c.ep);
	timers_teardown(&c.t);
}

/* --- mixed: a daemon's traffic, everything charged ------------------------ */

/*
 * tools/twdemo's traffic, per connection and second: packets push the idle
 * timeout back (a re-arm); data sent arms the retransmission timer when it
 * is not armed, acks cancel it; a retransmission timeout re-arms it with
 * the timeout doubled, and closes the connection after MX_MAX_RETRIES; now
 * and then a path validation is armed, and mostly cancelled when it
 * completes; peers close connections, and some are gone without a word:
 * their connections end by their idle timeout. A closed connection is
 * replaced by a new one (a new conn_id for twheel), so there are always N.
 * Each connection then sees about 0.8 arms, 0.2 re-arms, 0.45 cancels and
 * 0.35 expiries a second (most of them idle timeouts: a packet every five
 * seconds does not always come within a 2 to 6 s timeout) and holds 1.1
 * armed timers; mixed-runs.csv has the counts of every run.
 *
 * The daemon's loop, the same for every method: make the traffic of the
 * time since the last step (every MX_STEP_NS), then wait for the timers
 * until the next step and react to those that fired. twheel's arms and
 * cancels go out in one ioctl per run of same-typed entries, as
 * libtwheel's batch buffers send them (64 entries at most for twheel-64,
 * one for twheel-1); the traffic is ordered so that a turn makes few runs.
 * In the process every call applies at once.
 */
#define MX_PACKET_RATE		0.2	/* packets received: idle starts over */
#define MX_SEND_RATE		0.5	/* data sent: retransmission armed */
#define MX_ACK_RATE		5.0	/* acks, while data is unacked */
#define MX_MIGRATE_RATE		0.01	/* path validations started */
#define MX_VALIDATE_RATE	2.0	/* validations completed, while pending */
#define MX_CLOSE_RATE		0.01	/* closed by the peer */
#define MX_DEAD_PERCENT		5	/* peers gone: nothing comes back */
#define MX_IDLE_MIN_MS		2000	/* idle timeout: 2 to 6 s */
#define MX_IDLE_SPAN_MS		4000
#define MX_RTO_MIN_MS		200	/* first retransmission timeout */
#define MX_RTO_SPAN_MS		200
#define MX_PATH_RTOS		3	/* path validation: 3 RTOs */
#define MX_MAX_RETRIES		3
#define MX_STEP_NS		(10 * NSEC_PER_MSEC)	/* traffic every 10 ms */
#define MX_MAX_STEP_NS		(100 * NSEC_PER_MSEC)	/* and never more at once */

enum { MX_IDLE, MX_PATH, MX_RTX, MX_KINDS };

static const unsigned int mx_kind[MX_KINDS] = {
	[MX_IDLE] = TWHEEL_KIND_IDLE,
	[MX_PATH] = TWHEEL_KIND_PATH_VALIDATION,
	[MX_RTX] = TWHEEL_KIND_RETRANSMIT,
};

/* What the daemon knows of one timer: the arming it holds, 0 if none. */
struct mx_timer {
	uint64_t user_data;
	uint64_t deadline;
	uint32_t sup_turn;	/* twheel-ring: the turn of its last re-arm or cancel */
};

/* twheel-ring: when each of the last turns began, for the events it drops. */
#define MX_TURNS	256

struct mx_conn {
	uint32_t gen;		/* twheel's conn_id is gen << 32 | index */
	uint16_t retries;
	uint8_t dead;		/* the peer is gone: no packets, no acks */
	uint8_t closed;		/* closed in this turn, reopened at its end */
	uint32_t idle_ms, rto_ms;
};

struct mx_reaction {
	uint32_t i, gen, k;
};

static struct mx_timer *mx_timers;	/* MX_KINDS per connection */
static struct mx_conn *mx_conns;
static struct mx_reaction *mx_reactions;
static uint32_t *mx_opened;		/* connections to reopen this turn */

enum { Q_ARM = 1, Q_CANCEL, Q_CANCEL_CONN };

/* One mixed run of one method. */
struct mx {
	enum method m;
	unsigned long n;		/* connections */
	struct timers t;
	struct mixed *r;
	/* twheel: the run of same-typed entries being filled */
	int qtype;
	unsigned int qn, qmax;
	unsigned long qwant;		/* entries that should find their timer */
	struct twheel_arm qarm[BATCH];
	struct twheel_cancel qcancel[BATCH];
	__u64 qconn[BATCH];
	uint64_t arm_base;		/* deadlines count from here */
	uint64_t last_ud;
	/* twheel-ring */
	uint64_t ring_check;		/* earliest deadline published since the last look */
	uint32_t turn;			/* turns of the loop */
	uint64_t turn_ns[MX_TURNS];	/* when each began */
	unsigned long stale;		/* events of superseded armings, dropped */
	unsigned long arms, rearms, cancels, expiries, calls, waits;
	unsigned long nr_reactions, nr_opened, nr_late;
	bool measuring, failed;
};

static void mx_fail(struct mx *x, const char *what, unsigned long a, unsigned long b)
{
	fail("%s: mixed at %lu connections: %s (%lu, %lu)", method_name[x->m], x->n,
	     what, a, b);
	x->failed = true;
}

static unsigned long mx_below(unsigned long n)
{
	return (rng() >> 32) * n >> 32;
}

/* How many times something of @per_sec per connection happens in @dt_ns. */
static unsigned long mx_how_many(const struct mx *x, double per_sec, uint64_t dt_ns)
{
	double f = per_sec * x->n * dt_ns / 1e9;
	unsigned long k = (unsigned long)f;

	return k + ((rng() >> 11) * 0x1p-53 < f - k);
}

static uint64_t mx_conn_id(unsigned long i)
{
	return (uint64_t)mx_conns[i].gen << 32 | i;
}

static void mx_flush(struct mx *x)
{
	long r;

	/*
	 * twheel-ring: the entries are published; one barrier and one look at
	 * look_ns for the earliest deadline among them.
	 */
	if (x->m == M_RING) {
		if (x->ring_check != UINT64_MAX &&
		    bring_check(x->t.fd, &x->t.sr, x->ring_check))
			mx_fail(x, "TWHEEL_IOC_RING_ENTER failed: errno, 0", errno, 0);
		x->ring_check = UINT64_MAX;
		return;
	}
	if (!x->qn)
		return;
	switch (x->qtype) {
	case Q_ARM:
		r = tw_batch(x->t.fd, TWHEEL_IOC_ARM, x->qarm, x->qn, sizeof(x->qarm[0]));
		break;
	case Q_CANCEL:
		r = tw_batch(x->t.fd, TWHEEL_IOC_CANCEL, x->qcancel, x->qn,
			     sizeof(x->qcancel[0]));
		break;
	default:
		r = tw_batch(x->t.fd, TWHEEL_IOC_CANCEL_CONN, x->qconn, x->qn,
			     sizeof(x->qconn[0]));
		break;
	}
	x->calls++;
	if (r < 0)
		mx_fail(x, "a batch failed: -errno, entries", -r, x->qn);
	else if ((unsigned long)r != x->qwant)
		mx_fail(x, "a batch found timers: found, expected", r, x->qwant);
	x->qn = 0;
	x->qwant = 0;
}

/* The next entry of a twheel batch of @type; sends the run before if it must. */
static unsigned int mx_queue(struct mx *x, int type, bool want_found)
{
	if (x->qn && (x->qtype != type || x->qn == x->qmax))
		mx_flush(x);
	x->qtype = type;
	x->qwant += want_found;
	return x->qn++;
}

/* twheel-ring: publishes one entry (the doorbell first if the ring is full). */
static void mx_push(struct mx *x, const struct twheel_sqe *e)
{
	if (bring_push(x->t.fd, &x->t.sr, e))
		mx_fail(x, "TWHEEL_IOC_RING_ENTER on a full ring failed: errno, 0", errno, 0);
}

static void mx_arm(struct mx *x, unsigned long i, unsigned int k, uint64_t timeout_ns)
{
	struct mx_timer *t = &mx_timers[i * MX_KINDS + k];
	bool was = t->user_data;

	if (was)
		x->rearms++;
	else
		x->arms++;
	t->user_data = ++x->last_ud;
	t->deadline = x->arm_base + timeout_ns;
	if (x->m == M_RING) {
		struct twheel_sqe e = bring_sqe_arm(mx_conn_id(i), mx_kind[k], t->deadline,
						    t->user_data);

		if (was)
			t->sup_turn = x->turn;
		mx_push(x, &e);
		if (t->deadline < x->ring_check)
			x->ring_check = t->deadline;
	} else if (is_twheel(x->m)) {
		unsigned int q = mx_queue(x, Q_ARM, was);

		x->qarm[q] = (struct twheel_arm){
			.conn_id = mx_conn_id(i), .timeout_ns = t->deadline,
			.user_data = t->user_data, .kind = mx_kind[k],
			.flags = TWHEEL_ARM_ABS,
		};
	} else if (inproc_arm(x->t.ip, i * MX_KINDS + k, t->deadline) != was) {
		mx_fail(x, "an arm found the timer armed or not: timer, expected", i * MX_KINDS + k, was);
	}
}

static void mx_cancel(struct mx *x, unsigned long i, unsigned int k)
{
	struct mx_timer *t = &mx_timers[i * MX_KINDS + k];

	x->cancels++;
	t->user_data = 0;
	if (x->m == M_RING) {
		struct twheel_sqe e = bring_sqe_cancel(mx_conn_id(i), mx_kind[k], 0);

		t->sup_turn = x->turn;
		mx_push(x, &e);
	} else if (is_twheel(x->m)) {
		unsigned int q = mx_queue(x, Q_CANCEL, true);

		x->qcancel[q] = (struct twheel_cancel){
			.conn_id = mx_conn_id(i), .kind = mx_kind[k],
		};
	} else if (!inproc_cancel(x->t.ip, i * MX_KINDS + k)) {
		mx_fail(x, "a cancel did not find its timer: timer, kind", i * MX_KINDS + k, k);
	}
}

/* Closes connection @i and makes it a new one, whose idle timer waits for mx_reopen(). */
static void mx_close(struct mx *x, unsigned long i)
{
	struct mx_conn *c = &mx_conns[i];
	unsigned int k, armed = 0;

	for (k = 0; k < MX_KINDS; k++) {
		struct mx_timer *t = &mx_timers[i * MX_KINDS + k];

		if (!t->user_data)
			continue;
		armed++;
		t->user_data = 0;
		t->sup_turn = x->turn;
		if (!is_twheel(x->m) && !inproc_cancel(x->t.ip, i * MX_KINDS + k))
			mx_fail(x, "a close did not find a timer: timer, kind", i * MX_KINDS + k, k);
	}
	x->cancels += armed;
	if (x->m == M_RING) {
		struct twheel_sqe e = bring_sqe_cancel_conn(mx_conn_id(i), 0);

		mx_push(x, &e);
	} else if (is_twheel(x->m)) {
		unsigned int q = mx_queue(x, Q_CANCEL_CONN, armed > 0);

		x->qconn[q] = mx_conn_id(i);
	}
	c->gen++;
	c->retries = 0;
	c->dead = mx_below(100) < MX_DEAD_PERCENT;
	c->idle_ms = MX_IDLE_MIN_MS + mx_below(MX_IDLE_SPAN_MS);
	c->rto_ms = MX_RTO_MIN_MS + mx_below(MX_RTO_SPAN_MS);
	c->closed = 1;
	mx_opened[x->nr_opened++] = i;
}

/* The new connections' idle timers. */
static void mx_reopen(struct mx *x)
{
	unsigned long j;

	for (j = 0; j < x->nr_opened; j++) {
		unsigned long i = mx_opened[j];

		mx_conns[i].closed = 0;
		mx_arm(x, i, MX_IDLE, mx_conns[i].idle_ms * NSEC_PER_MSEC);
	}
	x->nr_opened = 0;
}

/*
 * The traffic of @dt_ns, in twdemo's order except that the path
 * validations start before the acks come: arms, then cancels, then closes
 * and the new connections' arms (four runs of same-typed entries).
 */
static void mx_traffic(struct mx *x, uint64_t dt_ns)
{
	unsigned long k, i;

	for (k = mx_how_many(x, MX_PACKET_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_conns[i].dead)
			mx_arm(x, i, MX_IDLE, mx_conns[i].idle_ms * NSEC_PER_MSEC);
	}
	for (k = mx_how_many(x, MX_SEND_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_timers[i * MX_KINDS + MX_RTX].user_data) {
			mx_conns[i].retries = 0;
			mx_arm(x, i, MX_RTX, mx_conns[i].rto_ms * NSEC_PER_MSEC);
		}
	}
	for (k = mx_how_many(x, MX_MIGRATE_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_timers[i * MX_KINDS + MX_PATH].user_data)
			mx_arm(x, i, MX_PATH, (uint64_t)MX_PATH_RTOS *
			       mx_conns[i].rto_ms * NSEC_PER_MSEC);
	}
	for (k = mx_how_many(x, MX_ACK_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_conns[i].dead && mx_timers[i * MX_KINDS + MX_RTX].user_data)
			mx_cancel(x, i, MX_RTX);
	}
	for (k = mx_how_many(x, MX_VALIDATE_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_conns[i].dead && mx_timers[i * MX_KINDS + MX_PATH].user_data)
			mx_cancel(x, i, MX_PATH);
	}
	for (k = mx_how_many(x, MX_CLOSE_RATE, dt_ns); k; k--) {
		i = mx_below(x->n);
		if (!mx_conns[i].closed)
			mx_close(x, i);
	}
	mx_reopen(x);
}

/*
 * twheel-ring: an event of an arming that a re-arm, cancel or close in the
 * ring superseded is user space's to drop if the arming was due before
 * that entry was published (its tick could begin before the thread took
 * the entry): published before the next turn of the loop began, or before
 * @now in this one. One due later is an event the ring's guarantee
 * excludes, and a failure.
 */
static bool mx_ring_stale(const struct mx *x, const struct mx_timer *t, uint64_t due,
			  uint64_t now)
{
	uint32_t s = t->sup_turn;
	uint64_t published = now;

	if (s != x->turn && x->turn - s < MX_TURNS)
		published = x->turn_ns[(s + 1) % MX_TURNS];
	return due < published + 2 * hs.tick_ns;
}

/*
 * One timer fired, reaped at @now: it must be the arming the daemon holds
 * (twheel: its connection and user_data), due, and seen once.
 */
static void mx_event(struct mx *x, unsigned long i, unsigned int k, uint64_t gen,
		     uint64_t user_data, uint64_t now, const __u64 *fired_ns, uint64_t due)
{
	struct mx_timer *t;

	if (i >= x->n || k >= MX_KINDS) {
		mx_fail(x, "an event of no timer: connection, kind", i, k);
		return;
	}
	t = &mx_timers[i * MX_KINDS + k];
	if (!t->user_data || (is_twheel(x->m) &&
			      (gen != mx_conns[i].gen || user_data != t->user_data))) {
		if (x->m == M_RING && mx_ring_stale(x, t, due, now)) {
			x->stale++;
			return;
		}
		x->r->dups++;
		mx_fail(x, "an event of an arming cancelled, replaced or reaped: timer, kind",
			i * MX_KINDS + k, k);
		return;
	}
	if (now < t->deadline || (fired_ns && *fired_ns < t->deadline)) {
		x->r->early++;
		mx_fail(x, "an event before its deadline: timer, kind", i * MX_KINDS + k, k);
	}
	if (x->measuring && x->nr_late < max_n)
		late[x->nr_late++] = now >= t->deadline ? (double)(now - t->deadline) : 0;
	t->user_data = 0;
	x->expiries++;
	mx_reactions[x->nr_reactions++] = (struct mx_reaction){ i, mx_conns[i].gen, k };
}

/* The events of an event ring's records, which must not be error records. */
static void mx_ring_events(struct mx *x, unsigned int got, uint64_t now)
{
	unsigned int j, k;

	for (j = 0; j < got; j++) {
		const struct twheel_event *ev = &readbuf[j];

		if (ev->flags) {
			mx_fail(x, "an error record in the event ring: op, errno",
				TWHEEL_EVENT_OP(ev->flags), (unsigned long)-ev->error);
			continue;
		}
		for (k = 0; k < MX_KINDS && mx_kind[k] != ev->kind; k++)
			;
		mx_event(x, (uint32_t)ev->conn_id, k, ev->conn_id >> 32, ev->user_data,
			 now, &ev->fired_ns, ev->deadline_ns);
	}
}

/*
 * twheel-ring: what the event ring holds; if nothing, ENTER when events
 * wait in the kernel for room, else sleep in poll() with
 * TWHEEL_EV_NEED_WAKEUP set until @until_ns, and look again.
 */
static void mx_reap_ring(struct mx *x, uint64_t until_ns, uint64_t *now)
{
	struct bring *r = &x->t.sr;
	unsigned int got = bring_reap(r, readbuf, READS * READ_EVENTS);

	if (!got) {
		uint64_t t = now_ns();

		if (__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED)) {
			if (bring_enter(x->t.fd, r))
				mx_fail(x, "TWHEEL_IOC_RING_ENTER failed: errno, 0", errno, 0);
		} else {
			x->waits++;
			if (bring_wait(x->t.fd, r, until_ns <= t ? 0 :
				       (int)((until_ns - t + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC)) < 0 &&
			    errno != EINTR)
				mx_fail(x, "poll: errno, 0", errno, 0);
		}
		got = bring_reap(r, readbuf, READS * READ_EVENTS);
	}
	*now = now_ns();
	mx_ring_events(x, got, *now);
}

/* Waits for the timers until @until_ns and takes what fired; the clock after, in *@now. */
static void mx_reap(struct mx *x, uint64_t until_ns, uint64_t *now)
{
	ssize_t r, j;

	if (!is_twheel(x->m)) {
		unsigned long got = inproc_run(x->t.ip, until_ns), g;

		x->waits++;
		*now = now_ns();
		if (inproc_errors(x->t.ip))
			mx_fail(x, "timerfd_settime failed: calls, errors",
				inproc_timerfd_settimes(x->t.ip), inproc_errors(x->t.ip));
		for (g = 0; g < got; g++)
			mx_event(x, fired[g] / MX_KINDS, fired[g] % MX_KINDS, 0, 0, *now, NULL, 0);
		return;
	}
	if (x->m == M_RING) {
		mx_reap_ring(x, until_ns, now);
		return;
	}
	r = read(x->t.fd, readbuf, sizeof(readbuf));
	if (r < 0 && errno == EAGAIN) {
		struct pollfd pfd = { .fd = x->t.fd, .events = POLLIN };
		uint64_t t = now_ns();

		x->waits++;
		poll(&pfd, 1, until_ns <= t ? 0 :
		     (int)((until_ns - t + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC));
		r = read(x->t.fd, readbuf, sizeof(readbuf));
	}
	*now = now_ns();
	if (r < 0) {
		if (errno != EAGAIN)
			mx_fail(x, "read: errno, 0", errno, 0);
		return;
	}
	for (j = 0; j < r / (ssize_t)sizeof(readbuf[0]); j++) {
		const struct twheel_event *ev = &readbuf[j];
		unsigned int k;

		for (k = 0; k < MX_KINDS && mx_kind[k] != ev->kind; k++)
			;
		mx_event(x, (uint32_t)ev->conn_id, k, ev->conn_id >> 32, ev->user_data,
			 *now, &ev->fired_ns, ev->deadline_ns);
	}
}

/*
 * What the daemon does when timers fire, in two runs: first the
 * connections that close (an idle timeout, a retransmission beyond the
 * last), then the new connections' and the retransmissions' arms.
 */
static void mx_react(struct mx *x)
{
	unsigned long j;

	for (j = 0; j < x->nr_reactions; j++) {
		const struct mx_reaction *r = &mx_reactions[j];
		struct mx_conn *c = &mx_conns[r->i];

		if (c->gen != r->gen)
			continue;
		if (r->k == MX_IDLE || (r->k == MX_RTX && c->retries + 1 > MX_MAX_RETRIES))
			mx_close(x, r->i);
	}
	mx_reopen(x);
	for (j = 0; j < x->nr_reactions; j++) {
		const struct mx_reaction *r = &mx_reactions[j];
		struct mx_conn *c = &mx_conns[r->i];

		if (c->gen != r->gen || r->k != MX_RTX)
			continue;
		c->retries++;
		mx_arm(x, r->i, MX_RTX, ((uint64_t)c->rto_ms * NSEC_PER_MSEC) << c->retries);
	}
	x->nr_reactions = 0;
}

/* The figures the window is measured by, read at one of its ends. */
struct mx_mark {
	uint64_t t, cpu;
	double threads, run_ns, wakeups;
	unsigned long arms, rearms, cancels, expiries, calls, waits, polls;
	struct ring_mark ring;		/* twheel-ring: the file's counters */
	bool have_ring;
};

/*
 * The process's CPU time is read last at the start of the window and first
 * at its end, so that reading the threads' figures is not charged to it.
 */
static void mx_mark(const struct mx *x, struct mx_mark *k, bool end)
{
	struct kcounters kc;

	if (end)
		k->cpu = cpu_ns();
	k->threads = k->run_ns = k->wakeups = NA;
	if (is_twheel(x->m)) {
		k->threads = twheel_threads_ns();
		if (!kcounters_read(&kc) && kc.have_run)
			k->run_ns = kc.run_ns;
		if (kc.have)
			k->wakeups = kc.wakeups;
	}
	if (x->m == M_RING)
		k->have_ring = ring_mark(&x->t, &k->ring);
	k->arms = x->arms;
	k->rearms = x->rearms;
	k->cancels = x->cancels;
	k->expiries = x->expiries;
	k->calls = x->m == M_RING ? x->t.sr.enters : is_twheel(x->m) ? x->calls :
		   x->t.ip ? inproc_timerfd_settimes(x->t.ip) : 0;
	k->waits = x->waits;
	k->polls = x->t.sr.polls;
	k->t = now_ns();
	if (!end)
		k->cpu = cpu_ns();
}

/*
 * twheel-ring at the end of a run: everything published applied (one
 * ENTER); then the timers the file holds: armed or fired and waiting in
 * the kernel (TWHEEL_IOC_NEXT, with the event ring empty and still across
 * it), and fired into the event ring, whose records are taken and counted
 * as held if they are of the arming the daemon holds (as read() leaves
 * them counted in queued), dropped if superseded. -1 if that never
 * settles.
 */
static long mx_ring_live(struct mx *x)
{
	struct bring *r = &x->t.sr;
	long in_ring = 0;
	int tries;

	if (bring_pending(r) && bring_enter(x->t.fd, r)) {
		mx_fail(x, "TWHEEL_IOC_RING_ENTER failed: errno, 0", errno, 0);
		return -1;
	}
	for (tries = 0; tries < 1000; tries++) {
		struct twheel_next nx = { .size = sizeof(nx) };
		unsigned int got = bring_reap(r, readbuf, READS * READ_EVENTS), j, k;
		uint64_t now = now_ns();
		uint32_t tail;

		for (j = 0; j < got; j++) {
			const struct twheel_event *ev = &readbuf[j];
			unsigned long i = (uint32_t)ev->conn_id;
			const struct mx_timer *t;

			for (k = 0; k < MX_KINDS && mx_kind[k] != ev->kind; k++)
				;
			if (ev->flags || i >= x->n || k == MX_KINDS) {
				mx_fail(x, "an error record or an event of no timer: connection, kind",
					i, k);
				return -1;
			}
			t = &mx_timers[i * MX_KINDS + k];
			if (t->user_data && t->user_data == ev->user_data &&
			    ev->conn_id >> 32 == mx_conns[i].gen && now >= t->deadline)
				in_ring++;
			else if (mx_ring_stale(x, t, ev->deadline_ns, now))
				x->stale++;
			else
				mx_fail(x, "an event of an arming cancelled, replaced or early: timer, kind",
					i * MX_KINDS + k, k);
		}
		if (got)
			continue;
		tail = __atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE);
		if (ioctl(x->t.fd, TWHEEL_IOC_NEXT, &nx))
			return -1;
		if (tail == *r->ev_head && __atomic_load_n(r->ev_tail, __ATOMIC_ACQUIRE) == tail)
			return (long)(nx.armed + nx.queued) + in_ring;
	}
	return -1;
}

/* The timers the method holds (twheel: armed or fired and unread). */
static long mx_method_live(struct mx *x)
{
	struct twheel_next nx = { .size = sizeof(nx) };

	if (!is_twheel(x->m))
		return (long)inproc_pending(x->t.ip);
	if (x->m == M_RING)
		return mx_ring_live(x);
	if (ioctl(x->t.fd, TWHEEL_IOC_NEXT, &nx))
		return -1;
	return (long)(nx.armed + nx.queued);
}

static void mixed_run(enum method m, int si, int run)
{
	uint64_t window = opt_mixed_ns ? opt_mixed_ns : opt_window_ns;
	struct mx *x = xcalloc(1, sizeof(*x));
	struct mixed *r = &mix_res[m][si][run];
	struct mx_mark k0 = { 0 }, k1;
	uint64_t start, warm_end, end, next_step, last_traffic, now;
	unsigned long n = sizes[si], i, live = 0;
	struct ring_mark rk0;
	double ops;
	long held;
	int ret;

	memset(r, 0, sizeof(*r));
	x->m = m;
	x->n = n;
	x->r = r;
	x->qmax = m == M_TW64 ? BATCH : 1;
	x->ring_check = UINT64_MAX;
	ret = timers_setup(&x->t, m, is_twheel(m) ? n : n * MX_KINDS);
	if (ret) {
		fail("%s: mixed: setup for %lu connections: %s", method_name[m], n, strerror(-ret));
		goto out;
	}
	if (is_twheel(m) && fcntl(x->t.fd, F_SETFL, O_NONBLOCK)) {
		fail("%s: mixed: O_NONBLOCK: %s", method_name[m], strerror(errno));
		goto out;
	}
	if (m == M_RING && !ring_mark(&x->t, &rk0))
		goto out;
	memset(mx_timers, 0, n * MX_KINDS * sizeof(*mx_timers));
	memset(mx_conns, 0, n * sizeof(*mx_conns));

	/* N connections, each idle timer at a random point of its timeout. */
	x->arm_base = now_ns();
	if (x->t.ip)
		inproc_clock(x->t.ip, x->arm_base);
	for (i = 0; i < n; i++) {
		struct mx_conn *c = &mx_conns[i];

		c->gen = 1;
		c->dead = mx_below(100) < MX_DEAD_PERCENT;
		c->idle_ms = MX_IDLE_MIN_MS + mx_below(MX_IDLE_SPAN_MS);
		c->rto_ms = MX_RTO_MIN_MS + mx_below(MX_RTO_SPAN_MS);
		mx_arm(x, i, MX_IDLE, 1 + mx_below(c->idle_ms) * NSEC_PER_MSEC);
	}
	mx_flush(x);

	/* A warm-up of half the window, then the window. */
	start = now_ns();
	warm_end = start + window / 2;
	end = warm_end + window;
	next_step = last_traffic = start;
	while (!x->failed) {
		now = now_ns();
		x->turn++;
		x->turn_ns[x->turn % MX_TURNS] = now;
		if (!x->measuring && now >= warm_end) {
			x->measuring = true;
			mx_mark(x, &k0, false);
		}
		if (now >= end)
			break;
		if (now >= next_step) {
			uint64_t dt = now - last_traffic;

			x->arm_base = now;
			if (x->t.ip)
				inproc_clock(x->t.ip, now);
			mx_traffic(x, dt < MX_MAX_STEP_NS ? dt : MX_MAX_STEP_NS);
			last_traffic = now;
			next_step += MX_STEP_NS;
			if (next_step <= now)
				next_step = now + MX_STEP_NS;
			mx_flush(x);
		}
		mx_reap(x, next_step < end ? next_step : end, &now);
		if (x->nr_reactions) {
			x->arm_base = now;
			if (x->t.ip)
				inproc_clock(x->t.ip, now);
			mx_react(x);
			mx_flush(x);
		}
	}
	if (x->failed)
		goto out;
	mx_mark(x, &k1, true);

	/* Every arming ended once: what the method holds is what the daemon armed. */
	x->measuring = false;
	held = mx_method_live(x);
	for (i = 0; i < n * MX_KINDS; i++)
		live += !!mx_timers[i].user_data;
	if (held != (long)live) {
		mx_fail(x, "timers held at the end: by the method, by the daemon", held, live);
		goto out;
	}
	if (m == M_RING) {
		struct ringres *rr = &ring_res[RP_MIXED][si][run];
		struct twheel_stats st;

		/* Every arming in the ring applied, none refused. */
		if (tw_stats(x->t.fd, &st) ||
		    st.arms + st.rearms - rk0.st.arms - rk0.st.rearms != x->arms + x->rearms ||
		    st.ring_errors != rk0.st.ring_errors || x->t.sr.enter_errors ||
		    x->t.sr.enter_failed) {
			mx_fail(x, "the file's arms and re-arms, the daemon's",
				(unsigned long)(st.arms + st.rearms - rk0.st.arms - rk0.st.rearms),
				x->arms + x->rearms);
			goto out;
		}
		memset(rr, 0, sizeof(*rr));
		if (k0.have_ring && k1.have_ring) {
			rr->valid = 1;
			rr->ops = (k1.arms - k0.arms) + (k1.rearms - k0.rearms) +
				  (k1.cancels - k0.cancels) + (k1.expiries - k0.expiries);
			rr->enters = k1.calls - k0.calls;
			rr->enter_ns = (double)(k1.ring.enter_ns - k0.ring.enter_ns);
			rr->waits = k1.polls - k0.polls;
			rr->thread_entries = (k1.ring.st.ring_entries - k0.ring.st.ring_entries) -
					     (k1.ring.taken - k0.ring.taken);
			rr->drain_ns = (double)(k1.ring.st.ring_drain_ns - k0.ring.st.ring_drain_ns);
			rr->wakeups = k1.wakeups != NA && k0.wakeups != NA ? k1.wakeups - k0.wakeups : NA;
			rr->stale = x->stale;
		}
	}
	r->seconds = (double)(k1.t - k0.t) / NSEC_PER_SEC;
	/* twheel-ring's last events were taken after the window: not in it. */
	r->arms = k1.arms - k0.arms;
	r->rearms = k1.rearms - k0.rearms;
	r->cancels = k1.cancels - k0.cancels;
	r->expiries = k1.expiries - k0.expiries;
	r->calls = k1.calls - k0.calls;
	r->waits = k1.waits - k0.waits;
	r->cpu_ns = (double)(k1.cpu - k0.cpu);
	r->thread_ns = k1.threads != NA && k0.threads != NA ? k1.threads - k0.threads : NA;
	r->run_ns = k1.run_ns != NA && k0.run_ns != NA ? k1.run_ns - k0.run_ns : NA;
	r->live = live;
	qsort(late, x->nr_late, sizeof(*late), cmp_double);
	r->p50 = quantile(late, x->nr_late, 0.50);
	r->p99 = quantile(late, x->nr_late, 0.99);
	r->max = quantile(late, x->nr_late, 1.0);
	ops = r->arms + r->rearms + r->cancels + r->expiries;
	if (!ops) {
		mx_fail(x, "no timer operation in the window: connections, window ms", n,
			window / NSEC_PER_MSEC);
		goto out;
	}
	r->valid = 1;
	res_ops[W_MIXED][m][si][run] = (unsigned long)ops;
	if (is_twheel(m)) {
		double threads = r->thread_ns != NA ? r->thread_ns : r->run_ns;

		thread_cpu_source = r->thread_ns != NA ? "the threads' schedstat (sum_exec_runtime)" :
				    r->run_ns != NA ? "the module's run_ns" : "-";
		if (threads == NA) {
			/* No figure for the threads: the total would not be one. */
			res_ops[W_MIXED][m][si][run] = 0;
		} else {
			res[W_MIXED_THREADS][m][si][run] = threads / ops;
			res_ops[W_MIXED_THREADS][m][si][run] = (unsigned long)ops;
			res[W_MIXED][m][si][run] = (r->cpu_ns + threads) / ops;
		}
	} else {
		res[W_MIXED][m][si][run] = r->cpu_ns / ops;
	}
out:
	timers_teardown(&x->t);
	free(x);
}

/* --- output --------------------------------------------------------------- */

static double median(const double *v, int nr)
{
	double s[MAX_RUNS];
	int i, k = 0;

	for (i = 0; i < nr; i++)
		if (v[i] != NA)
			s[k++] = v[i];
	if (!k)
		return NA;
	qsort(s, k, sizeof(*s), cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

static void fmt_cell(char *buf, size_t len, double v, double base)
{
	if (v == NA)
		snprintf(buf, len, "-");
	else if (base > 0)
		snprintf(buf, len, "%.0f (%.2fx)", v, v / base);
	else
		snprintf(buf, len, "%.0f", v);
}

static double expiry_field(const struct expiry *e, int f)
{
	if (!e->valid)
		return NA;
	switch (f) {
	case 0: return e->per_s;
	case 1: return e->p50;
	case 2: return e->p99;
	case 3: return e->max;
	case 4: return e->kp50;
	case 5: return e->kp99;
	case 6: return e->kmax;
	case 7: return e->cpu_ns;
	case 8: return e->wakeups;
	case 9: return e->w_mean;
	case 10: return e->w_p99;
	case 11: return e->hr_p99;
	case 12: return e->run_p99;
	case 13: return e->preempted;
	case 14: return e->moves;
	case 15: return e->settimes;
	case 16: return e->thread_cpu_ns;
	case 17: return e->syscalls;
	default: return NA;
	}
}

static double expiry_median(int rp, int si, int f)
{
	double v[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		v[r] = expiry_field(&exp_res[rp][si][r], f);
	return median(v, runs);
}

/*
 * The bound of Documentation/uapi.rst on twheel's lateness at size @si:
 * one tick plus W, W being what an hrtimer-woken thread needs in this run:
 * the larger of the p99 lateness of the two reapers driven by hrtimers
 * (timerfd/io_uring-poll and io_uring-timeout/cqe), medians over the runs.
 * NA if neither ran.
 */
static double late_bound(int si)
{
	double w = NA, v;
	int rp;

	for (rp = 0; rp < NR_REAPERS; rp++) {
		if (rp != R_TFD_URING && rp != R_URING)
			continue;
		v = expiry_median(rp, si, 2);
		if (v != NA && (w == NA || v > w))
			w = v;
	}
	return w == NA ? NA : (double)hs.tick_ns + w;
}

static void write_bound_table(FILE *tab)
{
	char cell[64];
	int si, rp;

	fprintf(tab, "\nexpiry lateness bound (Documentation/uapi.rst): kernel lateness p99 <= tick + W\n"
		"W: the larger p99 lateness of the hrtimer-driven reapers (timerfd/io_uring-poll,\n"
		"io_uring-timeout/cqe) in this run; tick %" PRIu64 " ns; thread W: the expiry\n"
		"thread's own wake-up latency p99 from the module's counters (bucket bound)\n%-12s %12s %12s",
		(uint64_t)hs.tick_ns, "live", "W (ns)", "bound (ns)");
	for (rp = 0; rp < NR_REAPERS; rp++)
		if (is_twheel(reaper_arms[rp]) && method_on[reaper_arms[rp]])
			fprintf(tab, " %22s %7s %14s", reaper_name[rp], "within", "thread W (ns)");
	fprintf(tab, "\n");
	for (si = 0; si < nr_sizes; si++) {
		double bound = late_bound(si);

		fprintf(tab, "%-12lu", sizes[si]);
		fmt_cell(cell, sizeof(cell), bound == NA ? NA : bound - (double)hs.tick_ns, 0);
		fprintf(tab, " %12s", cell);
		fmt_cell(cell, sizeof(cell), bound, 0);
		fprintf(tab, " %12s", cell);
		for (rp = 0; rp < NR_REAPERS; rp++) {
			double kp99 = expiry_median(rp, si, 5);

			if (!is_twheel(reaper_arms[rp]) || !method_on[reaper_arms[rp]])
				continue;
			fmt_cell(cell, sizeof(cell), kp99, 0);
			fprintf(tab, " %22s %7s", cell,
				bound == NA || kp99 == NA ? "-" : kp99 <= bound ? "yes" : "NO");
			fmt_cell(cell, sizeof(cell), expiry_median(rp, si, 10), 0);
			fprintf(tab, " %14s", cell);
		}
		fprintf(tab, "\n");
	}
}

/* The median over the runs of workload @w of method @m at size @si; NA if none. */
static double method_median(int w, int m, int si)
{
	double v[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		v[r] = res_ops[w][m][si][r] ? res[w][m][si][r] : NA;
	return median(v, runs);
}

/* One figure of twheel-ring's runs; NA where it does not apply. */
static double ring_field(const struct ringres *rr, int f)
{
	if (!rr->valid || !rr->ops)
		return NA;
	switch (f) {
	case 0: return 1000.0 * rr->enters / rr->ops;
	case 1: return 1000.0 * rr->waits / rr->ops;
	case 2: return rr->flush_entries ? rr->flush_ns / rr->flush_entries : NA;
	case 3: return rr->thread_entries ? rr->drain_ns / rr->thread_entries : NA;
	case 4: return rr->thread_entries;
	case 5: return rr->flush_entries;
	case 6: return rr->wakeups > 0 ? rr->drain_ns / rr->wakeups : NA;
	default: return NA;
	}
}

static double ring_median(int ph, int si, int f)
{
	double v[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++)
		v[r] = ring_field(&ring_res[ph][si][r], f);
	return median(v, runs);
}

/*
 * The daemon's cost per operation of workload @w: @how 1, with what the
 * closing ENTER applied added (what it would pay if it had to see every
 * entry applied at once); @how 0, without the ENTERs made while timed
 * (the pushes alone).
 */
static double ring_cost_median(int ph, int w, int si, int how)
{
	double v[MAX_RUNS];
	int r;

	for (r = 0; r < runs; r++) {
		const struct ringres *rr = &ring_res[ph][si][r];
		unsigned long ops = res_ops[w][M_RING][si][r];

		v[r] = !rr->valid || !ops ? NA :
		       how ? res[w][M_RING][si][r] + rr->flush_ns / ops :
		       res[w][M_RING][si][r] - rr->enter_ns / ops;
	}
	return median(v, runs);
}

/* The median of twheel-64's batch ioctls per 1000 operations of the mixed workload. */
static double mixed_calls_median(int m, int si)
{
	double v[MAX_RUNS], ops;
	int r;

	for (r = 0; r < runs; r++) {
		const struct mixed *x = &mix_res[m][si][r];

		ops = x->arms + x->rearms + x->cancels + x->expiries;
		v[r] = x->valid && ops ? 1000.0 * x->calls / ops : NA;
	}
	return median(v, runs);
}

static void ring_target(FILE *tab, FILE *csv, const char *metric, unsigned long size,
			double v, double target, bool below)
{
	int met = v == NA ? -1 : below ? v < target : v <= target;
	char cell[32];

	fmt_cell(cell, sizeof(cell), v, 0);
	if (v != NA && v < 10)
		snprintf(cell, sizeof(cell), "%.3f", v);
	fprintf(tab, "%-34s %-10lu %12s  %s %-8g %s\n", metric, size, cell,
		below ? "< " : "<=", target, met < 0 ? "-" : met ? "met" : "MISSED");
	fprintf(csv, "%s,%lu,%d,%.4f,ratio,%g,%d\n", metric, size, runs, v, target, met);
}

/*
 * twheel-ring's own figures and the targets of its issue, as ratios in this
 * run: tables.txt, ring.csv (medians) and ring-runs.csv (every run).
 */
static void write_ring_results(FILE *tab)
{
	static const char *const rf_name[] = {
		"enters_per_1000_ops", "waits_per_1000_ops", "flush_ns_per_entry",
		"thread_drain_ns_per_entry", "thread_entries", "flush_entries",
		"thread_drain_ns_per_wakeup",
	};
	enum { NR_RF = sizeof(rf_name) / sizeof(rf_name[0]) };
	static const int phase_w[NR_RING_PHASES] = { W_ARM, W_REARM, W_CANCEL, W_MIXED, -1 };
	FILE *raw, *sum;
	char cell[64];
	int ph, si, r, f;

	raw = open_result("ring-runs.csv",
			  "phase,live_timers,run,ops,enters,enter_ns,waits,flush_entries,flush_ns,"
			  "thread_entries,thread_drain_ns,thread_wakeups,stale_events");
	sum = open_result("ring.csv", "metric,live_timers,runs,median,unit,target,met");
	for (ph = 0; ph < NR_RING_PHASES; ph++)
		for (si = 0; si < nr_sizes; si++) {
			int k = 0;

			for (r = 0; r < runs; r++) {
				const struct ringres *rr = &ring_res[ph][si][r];

				if (!rr->valid)
					continue;
				k++;
				fprintf(raw, "%s,%lu,%d,%lu,%lu,%.0f,%lu,%lu,%.0f,%lu,%.0f,%.0f,%lu\n",
					ring_phase_name[ph], sizes[si], r + 1, rr->ops, rr->enters,
					rr->enter_ns, rr->waits, rr->flush_entries, rr->flush_ns,
					rr->thread_entries, rr->drain_ns, rr->wakeups, rr->stale);
			}
			if (!k)
				continue;
			for (f = 0; f < NR_RF; f++) {
				double v = ring_median(ph, si, f);

				if (v != NA)
					fprintf(sum, "%s_%s,%lu,%d,%.1f,%s,-1,-1\n", ring_phase_name[ph],
						rf_name[f], sizes[si], k, v,
						f == 2 || f == 3 || f == 6 ? "ns" :
						f < 2 ? "per_1000_ops" : "entries");
			}
			if (phase_w[ph] >= 0 && ph != RP_MIXED) {
				double v = ring_cost_median(ph, phase_w[ph], si, 1);

				if (v != NA)
					fprintf(sum, "%s_applied_ns_per_op,%lu,%d,%.1f,ns,-1,-1\n",
						ring_phase_name[ph], sizes[si], k, v);
				v = ring_cost_median(ph, phase_w[ph], si, 0);
				if (v != NA)
					fprintf(sum, "%s_push_ns_per_op,%lu,%d,%.1f,ns,-1,-1\n",
						ring_phase_name[ph], sizes[si], k, v);
			}
		}

	fprintf(tab, "\ntwheel-ring (shared rings), medians over the runs: per operation as the\n"
		"daemon sees it (ns/op, the ops tables' column; mixed: CPU ns per operation,\n"
		"threads included; expiry: the reaper's CPU ns per event); pushes: the same\n"
		"without the time of its ENTERs; +flush: with the closing ENTER that applied\n"
		"what the ring still held; ENTER and poll() calls per 1000 operations;\n"
		"drain: the expiry thread's ring_drain_ns per entry it took, and per wake-up\n"
		"of the expiry threads (module-wide counter)\n"
		"%-8s %-10s %10s %10s %10s %11s %10s %13s %13s\n", "phase", "live", "ns/op",
		"pushes", "+flush", "ENTER/1000", "poll/1000", "drain ns/ent", "drain ns/wake");
	for (ph = 0; ph < NR_RING_PHASES; ph++)
		for (si = 0; si < nr_sizes; si++) {
			double v;

			if (ring_median(ph, si, 0) == NA)
				continue;
			fprintf(tab, "%-8s %-10lu", ring_phase_name[ph], sizes[si]);
			v = phase_w[ph] >= 0 ? method_median(phase_w[ph], M_RING, si) : NA;
			if (ph == RP_EXPIRY)
				v = expiry_median(R_TW_RING, si, 7);
			fmt_cell(cell, sizeof(cell), v, 0);
			fprintf(tab, " %10s", cell);
			for (f = 0; f < 2; f++) {
				v = phase_w[ph] >= 0 && ph != RP_MIXED ?
				    ring_cost_median(ph, phase_w[ph], si, f) : NA;
				fmt_cell(cell, sizeof(cell), v, 0);
				fprintf(tab, " %10s", cell);
			}
			v = ring_median(ph, si, 0);
			snprintf(cell, sizeof(cell), v == NA ? "-" : "%.2f", v);
			fprintf(tab, " %11s", cell);
			v = ring_median(ph, si, 1);
			snprintf(cell, sizeof(cell), v == NA ? "-" : "%.2f", v);
			fprintf(tab, " %10s", cell);
			fmt_cell(cell, sizeof(cell), ring_median(ph, si, 3), 0);
			fprintf(tab, " %13s", cell);
			fmt_cell(cell, sizeof(cell), ring_median(ph, si, 6), 0);
			fprintf(tab, " %13s\n", cell);
		}

	fprintf(tab, "\ntwheel-ring targets (ratios in this run; mixed: twbench's mixed workload,\n"
		"which models a daemon's traffic; system calls: ENTER, the timer calls;\n"
		"the loop's poll() waits, which every method makes, apart)\n"
		"%-34s %-10s %12s  %-11s %s\n", "target", "live", "measured", "wanted", "");
	for (si = 0; si < nr_sizes; si++) {
		double ring = method_median(W_ARM, M_RING, si);
		double tfd = method_median(W_ARM, M_TIMERFD, si);
		double wheel = method_median(W_ARM, M_WHEEL, si);
		double ring_c = method_median(W_ARM_CPU, M_RING, si);
		double tfd_c = method_median(W_ARM_CPU, M_TIMERFD, si);
		double wheel_c = method_median(W_ARM_CPU, M_WHEEL, si);
		double er = expiry_median(R_TW_RING, si, 7), ed = expiry_median(R_TW_READ, si, 7);
		double tr = expiry_median(R_TW_RING, si, 16), td = expiry_median(R_TW_READ, si, 16);

		ring_target(tab, sum, "arm_ring_over_timerfd", sizes[si],
			    ring != NA && tfd > 0 ? ring / tfd : NA, 0.05, false);
		ring_target(tab, sum, "arm_ring_over_inproc-wheel", sizes[si],
			    ring != NA && wheel > 0 ? ring / wheel : NA, 2, false);
		ring_target(tab, sum, "arm_cpu_ring_over_timerfd", sizes[si],
			    ring_c != NA && tfd_c > 0 ? ring_c / tfd_c : NA, 0.05, false);
		ring_target(tab, sum, "arm_cpu_ring_over_inproc-wheel", sizes[si],
			    ring_c != NA && wheel_c > 0 ? ring_c / wheel_c : NA, 2, false);
		ring_target(tab, sum, "mixed_enters_per_1000_ops", sizes[si],
			    ring_median(RP_MIXED, si, 0), 1, false);
		ring_target(tab, sum, "reap_cpu_ring_over_read", sizes[si],
			    er != NA && ed > 0 ? er / ed : NA, 1, true);
		ring_target(tab, sum, "reap_cpu+threads_ring_over_read", sizes[si],
			    er != NA && ed > 0 && tr != NA && td != NA ?
			    (er + tr) / (ed + td) : NA, 1, true);
	}
	fprintf(tab, "\nmixed, system calls per 1000 operations (twheel-1, twheel-64: batch\n"
		"ioctls; twheel-ring: ENTER; poll() waits apart)\n%-12s %12s %12s %12s %12s\n",
		"live", "twheel-1", "twheel-64", "twheel-ring", "ring poll()");
	for (si = 0; si < nr_sizes; si++) {
		int ms[3] = { M_TW1, M_TW64, M_RING }, i;

		fprintf(tab, "%-12lu", sizes[si]);
		for (i = 0; i < 3; i++) {
			double v = mixed_calls_median(ms[i], si);

			snprintf(cell, sizeof(cell), v == NA ? "-" : "%.2f", v);
			fprintf(tab, " %12s", cell);
		}
		snprintf(cell, sizeof(cell), ring_median(RP_MIXED, si, 1) == NA ? "-" : "%.2f",
			 ring_median(RP_MIXED, si, 1));
		fprintf(tab, " %12s\n", cell);
	}
	fclose(raw);
	fclose(sum);
}

static void write_results(void)
{
	static const char *const ef_name[] = {
		"events_per_s", "late_p50_ns", "late_p99_ns", "late_max_ns",
		"kernel_late_p50_ns", "kernel_late_p99_ns", "kernel_late_max_ns",
		"cpu_ns_per_event", "thread_wakeups", "thread_wakeup_mean_ns",
		"thread_wakeup_p99_ns", "thread_hrtimer_late_p99_ns",
		"thread_run_p99_ns", "thread_preempted_per_1000",
		"thread_file_moves", "timerfd_settime_per_1000_events",
		"thread_cpu_ns_per_event", "syscalls_per_1000_events",
	};
	enum { NR_EF = sizeof(ef_name) / sizeof(ef_name[0]) };
	FILE *raw, *sum, *tab, *ex, *exs, *cdf, *meta, *mix;
	char cell[64];
	int w, m, si, r, rp, f, i;

	meta = open_result("meta.txt", NULL);
	fprintf(meta, "kernel: %s\ncpu: %s\naccel: %s\ncpus: %ld\nmem_total_kb: %ld\n",
		kernel_rel, cpu_model, accel, sysconf(_SC_NPROCESSORS_ONLN),
		meminfo_kb("MemTotal"));
	fprintf(meta, "null_syscall_ns: %.1f\nclock_gettime_ns: %.1f\n", null_syscall_ns,
		clock_read_ns);
	fprintf(meta, "warm_line_ns: %.1f\ncold_line_ns: %.1f\ncold_line_overlapped_ns: %.1f\n",
		warm_line_ns, cold_line_ns, cold_overlap_ns);
	fprintf(meta, "zero_96_stosb_ns: %.1f\nzero_96_stosq_ns: %.1f\n", stosb_ns,
		stosq_ns);
	fprintf(meta, "twheel: api %u tick_ns %" PRIu64 " quota %" PRIu64 " max_timers %" PRIu64 " max_batch %u\n",
		hs.api_version, (uint64_t)hs.tick_ns, (uint64_t)hs.quota_timers,
		(uint64_t)hs.max_timers, hs.max_batch);
	fprintf(meta, "fd limits: %s\n", limits_note);
	fprintf(meta, "cmdline: %s\n", kernel_cmdline());
	for (si = 0; si < nr_sizes; si++)
		if (module_bytes[si] > 0)
			fprintf(meta, "twheel memory_bytes counter at %lu timers: %.1f bytes/timer\n",
				sizes[si], module_bytes[si]);
	fprintf(meta, "timerfd: %s\n", tfd_limit ? tfd_limit_why : "no limit reached");
	if (ring_note[0])
		fprintf(meta, "%s\n", ring_note);
	else if (method_on[M_RING])
		fprintf(meta, "twheel-ring: %u submission entries, %u event entries\n", ring_sq,
			ring_ev);
	if (pin_reaper >= 0)
		fprintf(meta, "pinned: twbench on CPU %d, twheel files on CPU %d\n",
			pin_reaper, pin_file);
	fprintf(meta, "workloads:%s%s%s\n", do_ops ? " ops" : "",
		do_expiry ? " expiry" : "", do_mixed ? " mixed" : "");
	fprintf(meta, "methods:");
	for (m = 0; m < NR_METHODS; m++)
		if (method_on[m])
			fprintf(meta, " %s", method_name[m]);
	fprintf(meta, "\nin-process: %s; inproc-wheel tick_ns %" PRIu64 "\n",
		inproc_versions(), (uint64_t)hs.tick_ns);
	for (si = 0; si < nr_sizes; si++)
		if (method_on[M_WHEEL] && do_ops)
			fprintf(meta, "inproc-wheel timerfd_settime calls arming %lu timers: %" PRIu64 "\n",
				sizes[si], wheel_arm_settimes[si]);
	if (do_mixed) {
		uint64_t mixed_ms = (opt_mixed_ns ? opt_mixed_ns : opt_window_ns) / NSEC_PER_MSEC;

		fprintf(meta, "mixed_ms: %" PRIu64 " after a warm-up of %" PRIu64 "\n",
			mixed_ms, mixed_ms / 2);
		fprintf(meta, "mixed thread CPU: %s\n", thread_cpu_source);
		if (mixed_twheel_stop)
			fprintf(meta, "mixed: twheel left out from %lu connections: quota %" PRIu64
				" timers per file, %" PRIu64 " in all\n", mixed_twheel_stop,
				(uint64_t)hs.quota_timers, (uint64_t)hs.max_timers);
	}
	fprintf(meta, "runs: %d\nops per sample: %lu\nbudget_ms: %" PRIu64 "\nwindow_ms: %" PRIu64 "\nsizes:",
		runs, opt_ops, (uint64_t)(opt_budget_ns / NSEC_PER_MSEC),
		(uint64_t)(opt_window_ns / NSEC_PER_MSEC));
	for (si = 0; si < nr_sizes; si++)
		fprintf(meta, " %lu", sizes[si]);
	fprintf(meta, "\nfailures: %d\n", failures);
	fclose(meta);

	raw = open_result("ops-runs.csv", "workload,method,live_timers,run,ops,value,unit");
	sum = open_result("ops.csv",
			  "workload,method,live_timers,runs,median,min,max,unit,ratio_to_twheel-64");
	tab = open_result("tables.txt", NULL);
	fprintf(tab, "# medians over %d runs; in brackets the ratio to twheel-64 (batched)\n", runs);
	fprintf(tab, "# null syscall (getppid) %.0f ns, clock_gettime %.0f ns in this run\n",
		null_syscall_ns, clock_read_ns);
	fprintf(tab, "# a dependent load from a random line of 64 KiB %.1f ns, of 128 MiB %.1f ns\n"
		"# (%.1f ns when eight addresses are known ahead);\n"
		"# zeroing 96 bytes with rep stosb %.1f ns, with rep stosq %.1f ns\n",
		warm_line_ns, cold_line_ns, cold_overlap_ns, stosb_ns, stosq_ns);
	for (w = 0; w < NR_WORKLOADS; w++) {
		fprintf(tab, "\n%s (%s)\n%-12s", workload_name[w], workload_unit[w], "live");
		for (m = 0; m < NR_METHODS; m++)
			fprintf(tab, " %20s", method_name[m]);
		fprintf(tab, "\n");
		for (si = 0; si < nr_sizes; si++) {
			double base, med[NR_METHODS], lo[NR_METHODS], hi[NR_METHODS];
			int k[NR_METHODS];

			for (m = 0; m < NR_METHODS; m++) {
				double v[MAX_RUNS];

				k[m] = 0;
				for (r = 0; r < runs; r++) {
					v[r] = res_ops[w][m][si][r] ? res[w][m][si][r] : NA;
					if (v[r] == NA)
						continue;
					fprintf(raw, "%s,%s,%lu,%d,%lu,%.1f,%s\n", workload_name[w],
						method_name[m], sizes[si], r + 1,
						res_ops[w][m][si][r], v[r], workload_unit[w]);
					lo[m] = k[m] && lo[m] < v[r] ? lo[m] : v[r];
					hi[m] = k[m] && hi[m] > v[r] ? hi[m] : v[r];
					k[m]++;
				}
				med[m] = median(v, runs);
			}
			base = med[M_TW64];
			for (m = 0; m < NR_METHODS; m++)
				if (med[m] != NA)
					fprintf(sum, "%s,%s,%lu,%d,%.1f,%.1f,%.1f,%s,%.3f\n",
						workload_name[w], method_name[m], sizes[si], k[m],
						med[m], lo[m], hi[m], workload_unit[w],
						base > 0 ? med[m] / base : NA);
			fprintf(tab, "%-12lu", sizes[si]);
			for (m = 0; m < NR_METHODS; m++) {
				fmt_cell(cell, sizeof(cell), med[m], base);
				fprintf(tab, " %20s", cell);
			}
			fprintf(tab, "\n");
		}
	}
	fclose(raw);
	fclose(sum);

	ex = open_result("expiry-runs.csv",
			 "reaper,live_timers,run,events,dups,early,arming_overran,events_per_s,late_p50_ns,late_p99_ns,late_max_ns,kernel_late_p50_ns,kernel_late_p99_ns,kernel_late_max_ns,cpu_ns_per_event");
	exs = open_result("expiry.csv", "reaper,live_timers,runs,metric,median,ratio_to_twheel/read");
	cdf = open_result("lateness-cdf.csv", "reaper,live_timers,quantile,late_ns");
	for (rp = 0; rp < NR_REAPERS; rp++)
		for (si = 0; si < nr_sizes; si++) {
			int k = 0, last = -1;

			for (r = 0; r < runs; r++) {
				struct expiry *e = &exp_res[rp][si][r];

				if (!e->valid)
					continue;
				k++;
				last = r;
				fprintf(ex, "%s,%lu,%d,%lu,%lu,%lu,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f\n",
					reaper_name[rp], sizes[si], r + 1, e->events, e->dups,
					e->early, e->overran, e->per_s, e->p50, e->p99, e->max,
					e->kp50, e->kp99, e->kmax, e->cpu_ns);
			}
			if (!k)
				continue;
			for (f = 0; f < NR_EF; f++) {
				double v = expiry_median(rp, si, f), b = expiry_median(R_TW_READ, si, f);

				if (v == NA)
					continue;
				fprintf(exs, "%s,%lu,%d,%s,%.0f,%.3f\n", reaper_name[rp], sizes[si], k,
					ef_name[f], v, b > 0 ? v / b : NA);
			}
			if (is_twheel(reaper_arms[rp])) {
				double bound = late_bound(si), kp99 = expiry_median(rp, si, 5);

				if (bound != NA && kp99 != NA) {
					fprintf(exs, "%s,%lu,%d,late_bound_ns,%.0f,%.3f\n",
						reaper_name[rp], sizes[si], k, bound, 1.0);
					fprintf(exs, "%s,%lu,%d,kernel_late_p99_within_bound,%d,%.3f\n",
						reaper_name[rp], sizes[si], k, kp99 <= bound, 1.0);
				}
			}
			/* The distribution of the last run. */
			for (i = 0; i <= CDF_POINTS; i++)
				fprintf(cdf, "%s,%lu,%.3f,%.0f\n", reaper_name[rp], sizes[si],
					(double)i / CDF_POINTS, exp_res[rp][si][last].cdf[i]);
		}
	fclose(ex);
	fclose(exs);
	fclose(cdf);

	mix = open_result("mixed-runs.csv",
			  "method,connections,run,seconds,arms,rearms,cancels,expiries,"
			  "process_cpu_ns,thread_cpu_ns,thread_run_ns,cpu_ns_per_op,calls,waits,"
			  "live_timers,early,dups,late_p50_ns,late_p99_ns,late_max_ns");
	for (m = 0; m < NR_METHODS; m++)
		for (si = 0; si < nr_sizes; si++)
			for (r = 0; r < runs; r++) {
				const struct mixed *x = &mix_res[m][si][r];

				if (!x->valid)
					continue;
				fprintf(mix, "%s,%lu,%d,%.3f,%lu,%lu,%lu,%lu,%.0f,%.0f,%.0f,%.1f,%lu,%lu,%lu,%lu,%lu,%.0f,%.0f,%.0f\n",
					method_name[m], sizes[si], r + 1, x->seconds, x->arms,
					x->rearms, x->cancels, x->expiries, x->cpu_ns,
					x->thread_ns, x->run_ns,
					res_ops[W_MIXED][m][si][r] ? res[W_MIXED][m][si][r] : NA,
					x->calls, x->waits, x->live, x->early, x->dups,
					x->p50, x->p99, x->max);
			}
	fclose(mix);

	for (f = 0; f < NR_EF; f++) {
		static const char *const unit[] = {
			"events/s", "ns", "ns", "ns", "ns", "ns", "ns", "CPU ns/event",
			"wake-ups", "ns", "ns, bucket bound", "ns, bucket bound",
			"ns, bucket bound", "per 1000 wake-ups", "files moved",
			"calls per 1000 events", "CPU ns/event", "per 1000 events",
		};

		fprintf(tab, "\nexpiry %s (%s), N timers due within %" PRIu64 " ms\n%-12s",
			ef_name[f], unit[f], (uint64_t)(opt_window_ns / NSEC_PER_MSEC), "live");
		for (rp = 0; rp < NR_REAPERS; rp++)
			fprintf(tab, " %22s", reaper_name[rp]);
		fprintf(tab, "\n");
		for (si = 0; si < nr_sizes; si++) {
			double b = expiry_median(R_TW_READ, si, f);

			fprintf(tab, "%-12lu", sizes[si]);
			for (rp = 0; rp < NR_REAPERS; rp++) {
				fmt_cell(cell, sizeof(cell), expiry_median(rp, si, f), b);
				fprintf(tab, " %22s", cell);
			}
			fprintf(tab, "\n");
		}
	}
	write_bound_table(tab);
	if (method_on[M_RING])
		write_ring_results(tab);
	fprintf(tab, "\ntimerfd: %s\nfd limits: %s\n",
		tfd_limit ? tfd_limit_why : "no limit reached", limits_note);
	fclose(tab);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: twbench [--sizes N,N,...] [--runs R] [--ops K] [--budget-ms MS]\n"
		"               [--window-ms MS] [--mixed-ms MS] [--out DIR] [--accel kvm|tcg]\n"
		"               [--no-ops] [--no-expiry] [--no-mixed] [--methods M,M,...]\n"
		"               [--pin REAPER_CPU,TWHEEL_CPU]\n"
		"       twbench --probe\n"
		"methods: twheel-1 twheel-64 timerfd io_uring libev libuv inproc-wheel\n"
		"         twheel-ring\n"
		"(all by default; libev, libuv and inproc-wheel need no module)\n");
	exit(status);
}

static void parse_methods(const char *s)
{
	int m;

	memset(method_on, 0, sizeof(method_on));
	while (*s) {
		size_t len = strcspn(s, ",");

		for (m = 0; m < NR_METHODS; m++)
			if (strlen(method_name[m]) == len && !strncmp(s, method_name[m], len))
				break;
		if (m == NR_METHODS)
			usage(2);
		method_on[m] = true;
		s += len + (s[len] == ',');
	}
}

/* twheel's mixed run needs its timers within the quotas, with room to spare. */
static bool mixed_fits(unsigned long n)
{
	uint64_t want = n + n / 4;

	return want <= hs.quota_timers && want <= hs.max_timers;
}

static void parse_sizes(const char *s)
{
	char *end;

	nr_sizes = 0;
	while (*s) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || !v || nr_sizes == MAX_SIZES)
			usage(2);
		sizes[nr_sizes++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			usage(2);
	}
	if (!nr_sizes)
		usage(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "ops", required_argument, NULL, 'k' },
		{ "budget-ms", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "accel", required_argument, NULL, 'a' },
		{ "window-ms", required_argument, NULL, 'w' },
		{ "no-expiry", no_argument, NULL, 'E' },
		{ "no-ops", no_argument, NULL, 'O' },
		{ "pin", required_argument, NULL, 'p' },
		{ "probe", no_argument, NULL, 'P' },
		{ "no-mixed", no_argument, NULL, 'X' },
		{ "mixed-ms", required_argument, NULL, 'x' },
		{ "methods", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, si, r, m, rp;
	uint64_t start = now_ns(), t0;

	while ((c = getopt_long(argc, argv, "s:r:k:b:w:o:a:", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			parse_sizes(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'k':
			opt_ops = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			opt_budget_ns = strtoull(optarg, NULL, 10) * NSEC_PER_MSEC;
			break;
		case 'w':
			opt_window_ns = strtoull(optarg, NULL, 10) * NSEC_PER_MSEC;
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'a':
			snprintf(accel, sizeof(accel), "%s", optarg);
			break;
		case 'E':
			do_expiry = 0;
			break;
		case 'O':
			do_ops = 0;
			break;
		case 'P':
			opt_probe = 1;
			break;
		case 'X':
			do_mixed = 0;
			break;
		case 'x':
			opt_mixed_ns = strtoull(optarg, NULL, 10) * NSEC_PER_MSEC;
			if (!opt_mixed_ns)
				usage(2);
			break;
		case 'm':
			parse_methods(optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'p':
			if (sscanf(optarg, "%d,%d", &pin_reaper, &pin_file) != 2 ||
			    pin_reaper < 0 || pin_file < 0)
				usage(2);
			break;
		default:
			usage(2);
		}
	}
	if (runs < 1 || runs > MAX_RUNS || !opt_ops || !opt_window_ns || optind != argc)
		usage(2);
	if (opt_probe) {
		/* The machine's costs alone: no module needed, nothing written. */
		probe_costs();
		print_costs();
		return 0;
	}
	if (pin_reaper >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(pin_reaper, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			die("--pin: CPU %d: %s", pin_reaper, strerror(errno));
	}
	mkdir(out_dir, 0755);
	probe_environment();

	for (si = 0; si < nr_sizes; si++)
		max_n = sizes[si] > max_n ? sizes[si] : max_n;
	deadline = xcalloc(max_n, sizeof(*deadline));
	perm = xcalloc(max_n, sizeof(*perm));
	arms = xcalloc(max_n, sizeof(*arms));
	uts = xcalloc(max_n, sizeof(*uts));
	tfd = xcalloc(max_n, sizeof(*tfd));
	late = xcalloc(max_n, sizeof(*late));
	klate = xcalloc(max_n, sizeof(*klate));
	seen = xcalloc(max_n, 1);
	fired = xcalloc(max_n * MX_KINDS, sizeof(*fired));
	if (do_mixed) {
		mx_timers = xcalloc(max_n * MX_KINDS, sizeof(*mx_timers));
		mx_conns = xcalloc(max_n, sizeof(*mx_conns));
		mx_reactions = xcalloc(max_n * MX_KINDS, sizeof(*mx_reactions));
		mx_opened = xcalloc(max_n, sizeof(*mx_opened));
		memset(mx_timers, 1, max_n * MX_KINDS * sizeof(*mx_timers));
		memset(mx_conns, 1, max_n * sizeof(*mx_conns));
		memset(mx_reactions, 1, max_n * MX_KINDS * sizeof(*mx_reactions));
		memset(mx_opened, 1, max_n * sizeof(*mx_opened));
	}
	/* Touch everything now so that the memory deltas see only the kernel. */
	memset(deadline, 1, max_n * sizeof(*deadline));
	memset(perm, 1, max_n * sizeof(*perm));
	memset(arms, 1, max_n * sizeof(*arms));
	memset(uts, 1, max_n * sizeof(*uts));
	memset(tfd, 1, max_n * sizeof(*tfd));
	memset(late, 1, max_n * sizeof(*late));
	memset(klate, 1, max_n * sizeof(*klate));
	memset(seen, 1, max_n);
	memset(fired, 1, max_n * MX_KINDS * sizeof(*fired));

	printf("# twbench: kernel %s, cpu %s, accel %s\n", kernel_rel, cpu_model, accel);
	print_costs();
	printf("# %s\n", limits_note);
	fflush(stdout);
	for (si = 0; si < nr_sizes; si++) {
		t0 = now_ns();
		for (r = 0; r < runs; r++) {
			uint64_t seed = 0x9E3779B97F4A7C15ULL * (r + 1) + sizes[si];

			/*
			 * Each run starts with a different method; every
			 * method of a run draws the same deadlines and picks.
			 */
			for (m = 0; do_ops && m < NR_METHODS; m++) {
				if (!method_on[(m + r) % NR_METHODS])
					continue;
				rng_state = seed;
				ops_run((m + r) % NR_METHODS, si, r);
			}
			for (rp = 0; do_expiry && rp < NR_REAPERS; rp++) {
				if (!method_on[reaper_arms[(rp + r) % NR_REAPERS]])
					continue;
				rng_state = seed;
				expiry_run((rp + r) % NR_REAPERS, si, r);
			}
			for (m = 0; do_mixed && m < NR_METHODS; m++) {
				enum method mm = (m + r) % NR_METHODS;

				if (!method_on[mm] || !runs_mixed(mm))
					continue;
				if (is_twheel(mm) && !mixed_fits(sizes[si])) {
					if (!mixed_twheel_stop || sizes[si] < mixed_twheel_stop)
						mixed_twheel_stop = sizes[si];
					continue;
				}
				rng_state = seed;
				mixed_run(mm, si, r);
			}
		}
		printf("# %lu live timers: %d runs in %.1f s\n", sizes[si], runs,
		       (double)(now_ns() - t0) / NSEC_PER_SEC);
		fflush(stdout);
	}
	write_results();
	printf("# total %.1f s, %d failures\n", (double)(now_ns() - start) / NSEC_PER_SEC,
	       failures);
	return failures ? 1 : 0;
}
