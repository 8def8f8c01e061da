// SPDX-License-Identifier: GPL-2.0
/*
 * timerfd-cost: what timerfd_settime() costs on this machine, natively,
 * beside the in-kernel figures of make bench-kernel (scripts/uml.mk).
 *
 * usage: timerfd-cost [SIZES [RUNS [OPS]]]
 *
 * At each size N (default 1000,10000,100000,1000000) and in each run: N
 * timerfds (timerfd_create(CLOCK_MONOTONIC)), each armed once for an
 * absolute deadline spread over [60 s, 120 s) from now, then OPS random
 * ones (default 4096, at most N) re-armed 5 s later, then OPS random ones
 * disarmed, each loop timed as a whole: the same workload as twbench's
 * timerfd method and as twheel_kbench's loops. It leaves the machine's
 * limits alone (twbench raises fs.nr_open and fs.file-max): where N
 * timerfds do not fit in its RLIMIT_NOFILE, helper processes hold the
 * rest, armed the same way, all on the same CPU, so that every timer is in
 * the same CPU's hrtimer tree; the loops then time the timerfds of the
 * process itself (as many as fit), with N live in all. Also: a null system
 * call (getppid); a small ioctl (FIONREAD on an empty pipe: the file lookup
 * and dispatch every ioctl pays); and a load from a random line of 128 MiB,
 * each address from the load before, in memory mapped with 4 KiB pages and
 * with transparent huge pages (what a TLB miss adds to a cold line:
 * User-Mode Linux maps its memory with 4 KiB pages, the kernel's direct
 * map with huge ones).
 *
 * Prints one line per figure, as twheel_kbench does, with each loop's
 * time by the wall clock and by the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID, which leaves out the time it waited for a CPU
 * of a busy machine; probes are in CPU time):
 *   native: WHAT live=N run=R ops=K ns=WALL cpu_ns=CPU
 *   native: probe NAME_ps=PICOSECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC	1000000000ULL

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
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

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* A loop's time by the wall clock and by the thread's CPU time. */
struct span {
	uint64_t wall, cpu;
};

static void span_start(struct span *s)
{
	s->cpu = cpu_ns();
	s->wall = now_ns();
}

static void span_stop(struct span *s)
{
	s->wall = now_ns() - s->wall;
	s->cpu = cpu_ns() - s->cpu;
}

static void report(const char *what, unsigned long n, int run,
		   unsigned long ops, const struct span *s)
{
	printf("native: %s live=%lu run=%d ops=%lu ns=%llu cpu_ns=%llu\n",
	       what, n, run, ops, (unsigned long long)s->wall,
	       (unsigned long long)s->cpu);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "timerfd-cost: out of memory\n");
		exit(1);
	}
	return p;
}

/* k distinct random indexes below n, in perm[0..k). */
static void pick(uint32_t *perm, unsigned long n, unsigned long k)
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

static int settime(int fd, uint64_t deadline)
{
	struct itimerspec its = {
		.it_value.tv_sec = deadline / NSEC_PER_SEC,
		.it_value.tv_nsec = deadline % NSEC_PER_SEC,
	};

	return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* As many descriptors as fs.nr_open allows this process, without changing it. */
static unsigned long raise_nofile(void)
{
	unsigned long nr_open = 1024;
	struct rlimit rl;
	FILE *f;

	f = fopen("/proc/sys/fs/nr_open", "r");
	if (f) {
		if (fscanf(f, "%lu", &nr_open) != 1)
			nr_open = 1024;
		fclose(f);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < nr_open) {
		struct rlimit want = { .rlim_cur = nr_open, .rlim_max = nr_open };

		/* Only with CAP_SYS_RESOURCE; otherwise the hard limit stays. */
		if (!setrlimit(RLIMIT_NOFILE, &want))
			rl = want;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/* One run on @n of this process's timerfds, with @live armed in all. */
static int size_run(unsigned long live, unsigned long n, int run,
		    unsigned long k, uint32_t *perm, uint64_t *deadline, int *fd)
{
	uint64_t base = now_ns() + 60 * NSEC_PER_SEC;
	unsigned long i;
	struct span s;
	int ret = -1;

	for (i = 0; i < n; i++) {
		deadline[i] = base + rng() % (60 * NSEC_PER_SEC);
		fd[i] = -1;
	}
	span_start(&s);
	for (i = 0; i < n; i++) {
		fd[i] = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (fd[i] < 0) {
			fprintf(stderr, "timerfd-cost: timerfd_create #%lu: %s\n",
				i, strerror(errno));
			goto out;
		}
	}
	span_stop(&s);
	report("timerfd_create", live, run, n, &s);

	span_start(&s);
	for (i = 0; i < n; i++)
		if (settime(fd[i], deadline[i]))
			goto fail;
	span_stop(&s);
	report("timerfd_arm", live, run, n, &s);

	pick(perm, n, k);
	span_start(&s);
	for (i = 0; i < k; i++)
		if (settime(fd[perm[i]], deadline[perm[i]] + 5 * NSEC_PER_SEC))
			goto fail;
	span_stop(&s);
	report("timerfd_rearm", live, run, k, &s);

	pick(perm, n, k);
	span_start(&s);
	for (i = 0; i < k; i++)
		if (settime(fd[perm[i]], 0))
			goto fail;
	span_stop(&s);
	report("timerfd_disarm", live, run, k, &s);
	ret = 0;
	goto out;
fail:
	fprintf(stderr, "timerfd-cost: timerfd_settime: %s\n", strerror(errno));
out:
	for (i = 0; i < n && fd[i] >= 0; i++)
		close(fd[i]);
	fflush(stdout);
	return ret;
}

/*
 * Helper processes holding @n more armed timerfds, @per each at most, on
 * this process's CPU. Returns the write end of a pipe whose closing lets
 * them go, or -1.
 */
static int start_helpers(unsigned long n, unsigned long per)
{
	int ready[2], release[2];
	unsigned long left = n, nr = 0, i;
	char c;

	if (pipe(ready) || pipe(release))
		return -1;
	while (left) {
		unsigned long m = left < per ? left : per;
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (!pid) {
			uint64_t base = now_ns() + 60 * NSEC_PER_SEC;

			close(ready[0]);
			close(release[1]);
			for (i = 0; i < m; i++) {
				int fd = timerfd_create(CLOCK_MONOTONIC, 0);

				if (fd < 0 || settime(fd, base + rng() % (60 * NSEC_PER_SEC)))
					_exit(1);
			}
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			while (read(release[0], &c, 1) > 0)
				;
			_exit(0);
		}
		/* Each helper draws other deadlines. */
		rng();
		left -= m;
		nr++;
	}
	close(ready[1]);
	close(release[0]);
	for (i = 0; i < nr; i++) {
		if (read(ready[0], &c, 1) != 1) {
			fprintf(stderr, "timerfd-cost: a helper failed\n");
			close(release[1]);
			return -1;
		}
	}
	close(ready[0]);
	return release[1];
}

static void stop_helpers(int release)
{
	close(release);
	while (wait(NULL) > 0)
		;
}

/* ps per load from a random line of @bytes, each address from the last. */
static uint64_t line_ps(size_t bytes, int advice)
{
	size_t lines = bytes / 64, i, loads = 1 << 22, pos = 0;
	uint64_t t0, t1;
	size_t *mem;

	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 0;
	madvise(mem, bytes, advice);
	for (i = 0; i < lines; i++)
		mem[i * 8] = i;
	/* Sattolo's shuffle: one cycle through every line. */
	for (i = lines - 1; i > 0; i--) {
		size_t j = rng() % i, x = mem[i * 8];

		mem[i * 8] = mem[j * 8];
		mem[j * 8] = x;
	}
	t0 = cpu_ns();
	for (i = 0; i < loads; i++)
		pos = *(volatile size_t *)&mem[pos * 8];
	t1 = cpu_ns();
	munmap(mem, bytes);
	return (t1 - t0) * 1000 / loads + (pos & 0);
}

int main(int argc, char **argv)
{
	const char *sizes = argc > 1 ? argv[1] : "1000,10000,100000,1000000";
	int runs = argc > 2 ? atoi(argv[2]) : 5, run, i;
	unsigned long ops = argc > 3 ? strtoul(argv[3], NULL, 0) : 4096;
	unsigned long nofile = raise_nofile(), max_n = 0, n;
	uint64_t t0;
	char *list, *tok, *save;
	uint32_t *perm;
	uint64_t *deadline;
	unsigned long per;
	cpu_set_t cpus;
	int *fd, pfd[2];

	if (runs < 1)
		runs = 1;
	t0 = cpu_ns();
	for (i = 0; i < 100000; i++)
		syscall(SYS_getppid);
	printf("native: probe null_syscall_ps=%llu\n",
	       (unsigned long long)((cpu_ns() - t0) * 1000 / 100000));
	if (!pipe(pfd)) {
		int avail;

		t0 = cpu_ns();
		for (i = 0; i < 100000; i++)
			ioctl(pfd[0], FIONREAD, &avail);
		printf("native: probe ioctl_ps=%llu\n",
		       (unsigned long long)((cpu_ns() - t0) * 1000 / 100000));
		close(pfd[0]);
		close(pfd[1]);
	}
	printf("native: probe cold_line_4k_ps=%llu\n",
	       (unsigned long long)line_ps(128 << 20, MADV_NOHUGEPAGE));
	printf("native: probe cold_line_huge_ps=%llu\n",
	       (unsigned long long)line_ps(128 << 20, MADV_HUGEPAGE));
	/* Room for stdio and the pipes besides the timerfds. */
	per = nofile > 1088 ? nofile - 64 : 1024;
	printf("native: probe nofile=%lu\n", nofile);
	fflush(stdout);

	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		n = strtoul(tok, NULL, 0);
		if (n > max_n)
			max_n = n;
	}
	perm = xcalloc(max_n, sizeof(*perm));
	deadline = xcalloc(max_n, sizeof(*deadline));
	fd = xcalloc(max_n, sizeof(*fd));
	free(list);
	/* Every timerfd, this process's and the helpers', on one CPU. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	list = strdup(sizes);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long own, release = -1;

		n = strtoul(tok, NULL, 0);
		if (!n)
			continue;
		own = n < per ? n : per;
		if (own < n) {
			release = start_helpers(n - own, per);
			if ((int)release < 0)
				return 1;
		}
		for (run = 0; run < runs; run++)
			if (size_run(n, own, run, ops < own ? ops : own, perm,
				     deadline, fd))
				return 1;
		if (own < n)
			stop_helpers(release);
	}
	free(list);
	return 0;
}
