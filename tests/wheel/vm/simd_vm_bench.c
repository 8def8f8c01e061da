// SPDX-License-Identifier: GPL-2.0
/*
 * In the test VM: the whole batch arm ioctl and batch expiry with the module
 * parameter simd=auto against simd=off, in one run, at batch sizes 8, 64,
 * 512 and 4096. Under TCG only the ratios mean something.
 *
 * - arm: one TWHEEL_IOC_ARM of N entries (re-arming N connections, far
 *   deadlines, so nothing fires), repeated; ns per entry.
 * - expiry: N connections each with a far kind and a kind due at one
 *   absolute deadline at least 100 ticks ahead, read back once all N
 *   have fired;
 *   the CPU time the expiry threads ("twheel/N", from
 *   /proc/PID/schedstat) spent meanwhile, per connection (on a kernel
 *   without schedstat, the time from the deadline to the last read). Every
 *   connection is queued again for its far kind, which is the batch the
 *   vector code computes.
 *
 * The two modes alternate, each going first in every other round, so that
 * neither a slow moment of the host nor the order favours one; each figure
 * is the median of the rounds. The debugfs counters must show that expiry
 * under simd=auto took the vector path (when the CPU has AVX2) and under
 * simd=off never did: the output is TAP and those are its checks. The arm
 * ioctl has no vector path (an ioctl's first FPU section costs more than a
 * chunk saves), so the arm figures compare the same code: they show the
 * noise.
 *
 * Usage: simd_vm_bench [rounds]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/twheel.h>

#define PARAM		"/sys/module/twheel/parameters/simd"
#define COUNTERS	"/sys/kernel/debug/twheel/counters"
#define MAX_N		4096
#define MAX_ROUNDS	31
#define FAR_NS		(3600ULL * 1000000000ULL)

static const unsigned int sizes[] = { 8, 64, 512, 4096 };
#define NR_SIZES	(sizeof(sizes) / sizeof(sizes[0]))

static struct twheel_arm arms[MAX_N];
static struct twheel_event events[MAX_N];
static unsigned int tap;
static int wall_clock;
static int failed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void check(int ok, const char *what)
{
	printf("%sok %u %s\n", ok ? "" : "not ", ++tap, what);
	failed |= !ok;
}

/* The expiry threads, found once. */
static int thread_pids[64];
static unsigned int nr_threads;

static void find_threads(void)
{
	struct dirent *d;
	char path[300], comm[64];
	DIR *dir = opendir("/proc");
	FILE *f;

	while (dir && (d = readdir(dir)) && nr_threads < 64) {
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "twheel/", 7))
			thread_pids[nr_threads++] = atoi(d->d_name);
		fclose(f);
	}
	if (dir)
		closedir(dir);
}

/* ns of CPU time all expiry threads have used, or -1. */
static long long threads_runtime(void)
{
	long long sum = 0, v;
	unsigned int i;
	char path[64];
	FILE *f;

	for (i = 0; i < nr_threads; i++) {
		snprintf(path, sizeof(path), "/proc/%d/schedstat",
			 thread_pids[i]);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%lld", &v) != 1)
			v = -1;
		if (f)
			fclose(f);
		if (v < 0)
			return -1;
		sum += v;
	}
	return nr_threads ? sum : -1;
}

static int set_mode(const char *mode)
{
	int fd = open(PARAM, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, mode, strlen(mode));
	close(fd);
	return n == (ssize_t)strlen(mode) ? 0 : -1;
}

static long long counter(const char *name)
{
	char key[64];
	long long v, found = -1;
	FILE *f = fopen(COUNTERS, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

/*
 * The thread counts its batch after it has woken the reader: wait up to
 * 2 s for counter @name to pass @old, and return its value.
 */
static long long counter_after(const char *name, long long old)
{
	uint64_t end = now_ns() + 2000000000ULL;
	long long v;

	while ((v = counter(name)) <= old && now_ns() < end)
		usleep(1000);
	return v;
}

static int arm_batch(int fd, unsigned int n)
{
	struct twheel_batch b = {
		.size = sizeof(b),
		.entries = (uintptr_t)arms,
		.count = n,
		.entry_size = sizeof(arms[0]),
	};
	int ret = ioctl(fd, TWHEEL_IOC_ARM, &b);

	return ret == (int)n && b.applied == n && !b.error ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per entry of @reps arm ioctls of @n entries. */
static double bench_arm(int fd, unsigned int n, unsigned int reps)
{
	uint64_t start;
	unsigned int r, i;

	for (i = 0; i < n; i++) {
		arms[i].conn_id = i;
		arms[i].kind = 0;
		arms[i].flags = 0;
		arms[i].user_data = i;
		arms[i].timeout_ns = FAR_NS + i * 1000;
	}
	start = now_ns();
	for (r = 0; r < reps; r++)
		if (arm_batch(fd, n))
			return -1;
	return (double)(now_ns() - start) / ((double)reps * n);
}

/* ns of expiry thread time per timer, @n timers due at one deadline. */
static double bench_expiry(int fd, unsigned int n, uint64_t tick_ns)
{
	long long before, after;
	unsigned int i, got = 0;
	uint64_t deadline, took;

	for (i = 0; i < n; i++) {
		arms[i].conn_id = 1000000 + i;
		arms[i].kind = 1;
		arms[i].flags = 0;
		arms[i].user_data = i;
		arms[i].timeout_ns = FAR_NS + i * tick_ns;
	}
	took = now_ns();
	if (arm_batch(fd, n))
		return -1;
	took = now_ns() - took;
	/*
	 * One deadline on a tick boundary for all of them, 100 ticks ahead or
	 * four times what arming them took, whichever is later.
	 */
	deadline = (now_ns() + 4 * took) / tick_ns * tick_ns + 100 * tick_ns;
	for (i = 0; i < n; i++) {
		arms[i].kind = 0;
		arms[i].flags = TWHEEL_ARM_ABS;
		arms[i].timeout_ns = deadline;
	}
	before = threads_runtime();
	if (arm_batch(fd, n) || now_ns() >= deadline)
		return -1;
	while (got < n) {
		ssize_t r = read(fd, events, sizeof(events));

		if (r <= 0)
			return -1;
		got += r / sizeof(events[0]);
	}
	after = threads_runtime();
	if (before >= 0 && after >= 0)
		return (double)(after - before) / n;
	/* No schedstat (a kernel without SCHED_INFO): deadline to read. */
	wall_clock = 1;
	return (double)(now_ns() - deadline) / n;
}

int main(int argc, char **argv)
{
	static double arm_ns[2][NR_SIZES][MAX_ROUNDS];
	static double exp_ns[2][NR_SIZES][MAX_ROUNDS];
	static const char *const modes[2] = { "off", "auto" };
	unsigned int rounds = argc > 1 ? atoi(argv[1]) : 7;
	long long simd0, simd1, scalar0;
	unsigned int r, s, m, i;
	uint64_t tick_ns = 1000000;
	int fd, avx2;
	FILE *f;

	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = 7;
	f = fopen("/sys/module/twheel/parameters/tick_us", "r");
	if (f) {
		unsigned long us;

		if (fscanf(f, "%lu", &us) == 1)
			tick_ns = us * 1000;
		fclose(f);
	}
	avx2 = !system("grep -qw avx2 /proc/cpuinfo");
	find_threads();

	printf("TAP version 13\n");
	printf("# guest CPU %s AVX2\n", avx2 ? "has" : "has no");
	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (fd < 0 || set_mode("off")) {
		printf("1..1\nnot ok 1 open /dev/twheel and set simd=off: %s\n",
		       strerror(errno));
		return 1;
	}
	printf("1..4\n# %u expiry threads\n", nr_threads);

	/* simd=off: not one vector batch, once the thread has counted it. */
	simd0 = counter("batches_simd");
	scalar0 = counter("batches_scalar");
	bench_expiry(fd, 512, tick_ns);
	counter_after("batches_scalar", scalar0);
	simd1 = counter("batches_simd");
	check(simd0 >= 0 && simd1 == simd0,
	      "simd=off: no expiry batch used SIMD");

	/* simd=auto: the requeue batches of expiry do, if the CPU can. */
	set_mode("auto");
	simd0 = simd1;
	bench_expiry(fd, 512, tick_ns);
	simd1 = avx2 ? counter_after("batches_simd", simd0) :
		       counter("batches_simd");
	check(avx2 ? simd1 > simd0 : simd1 == simd0,
	      "simd=auto: expiry batches used SIMD exactly when the CPU has AVX2");
	check(bench_arm(fd, 4096, 4) > 0,
	      "simd=auto: 4096-entry arm batches are applied whole");

	for (r = 0; r < rounds; r++)
		for (s = 0; s < NR_SIZES; s++)
			for (i = 0; i < 2; i++) {
				/* Each mode goes first in every other round. */
				unsigned int n = sizes[s];

				m = i ^ (r & 1);

				set_mode(modes[m]);
				arm_ns[m][s][r] = bench_arm(fd, n,
							    4 * MAX_N / n);
				exp_ns[m][s][r] = bench_expiry(fd, n, tick_ns);
			}
	set_mode("auto");

	for (s = 0; s < NR_SIZES; s++)
		for (m = 0; m < 2; m++)
			for (r = 0; r < rounds; r++)
				if (arm_ns[m][s][r] < 0 || exp_ns[m][s][r] < 0)
					failed = 2;
	check(failed != 2, "every benchmark round armed and read what it should");

	printf("# simd=auto against simd=off, median of %u rounds (ratio < 1: auto is faster)\n",
	       rounds);
	printf("# %-28s", "batch size");
	for (s = 0; s < NR_SIZES; s++)
		printf("%9u", sizes[s]);
	printf("\n# %-28s", "arm ioctl, per entry");
	for (s = 0; s < NR_SIZES; s++)
		printf("%9.3f", median(arm_ns[1][s], rounds) /
				median(arm_ns[0][s], rounds));
	printf("\n# %-28s", wall_clock ? "expiry, deadline to read" :
					  "expiry, thread CPU per timer");
	for (s = 0; s < NR_SIZES; s++)
		printf("%9.3f", median(exp_ns[1][s], rounds) /
				median(exp_ns[0][s], rounds));
	printf("\n# raw TCG medians, ns (not comparable to native):");
	for (m = 0; m < 2; m++)
		for (s = 0; s < NR_SIZES; s++) {
			printf(" %s/%u arm %.0f expiry %.0f;", modes[m], sizes[s],
			       median(arm_ns[m][s], rounds),
			       median(exp_ns[m][s], rounds));
		}
	printf("\n");
	close(fd);
	return failed ? 1 : 0;
}
