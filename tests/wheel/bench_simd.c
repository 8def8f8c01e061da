// SPDX-License-Identifier: GPL-2.0
/*
 * Native benchmark of the batch computation of kmod/twheel_simd_*.c: the
 * scalar reference against the AVX2 version, at batch sizes 8, 64, 512 and
 * 4096, in ns per item: the tick of each of a batch of deadlines (1 ms to
 * 30 s ahead, a 1 ms tick), as expiry does for the connections it queues
 * again.
 *
 * Each figure is the median over several runs; a run repeats the batch
 * until about 20 ms have passed. The last two lines estimate the fixed
 * cost of the kernel's FPU section, which this benchmark cannot see:
 * LDMXCSR, the one instruction of kernel_fpu_begin() that touches the FPU
 * when there are no user registers to save (a kernel thread), and XSAVE
 * plus XRSTOR of the whole enabled register state, which kernel_fpu_begin()
 * and the return to user space add when a task's user registers are live.
 *
 * Usage: bench_simd [runs]
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "twheel_simd.h"
#include "bench.h"

#define BENCH_MAX_RUNS	31
#define BENCH_RUN_NS	20000000ULL
#define BENCH_MAX_N	4096

static const unsigned int bench_sizes[] = { 8, 64, 512, 4096 };
#define BENCH_NR_SIZES	(sizeof(bench_sizes) / sizeof(bench_sizes[0]))

static u64 ns_in[BENCH_MAX_N], tick[BENCH_MAX_N];
static u64 sink;

enum bench_fn { TICKS_SCALAR, TICKS_AVX2, NR_FNS };

static const char *const bench_fn_names[NR_FNS] = {
	"ticks, scalar", "ticks, AVX2",
};

/* One run: ns per item of @fn on batches of @n. */
static double bench_run(enum bench_fn fn, unsigned int n, u64 tick_ns)
{
	u64 start = bench_now(), elapsed, reps = 0;

	do {
		unsigned int r;

		for (r = 0; r < 64; r++) {
			if (fn == TICKS_SCALAR)
				twheel_ticks_up_scalar(ns_in, tick, n, tick_ns);
			else
				twheel_ticks_up_avx2(ns_in, tick, n, tick_ns);
			sink += tick[n - 1];
		}
		reps += 64;
		elapsed = bench_now() - start;
	} while (elapsed < BENCH_RUN_NS);

	return (double)elapsed / (double)(reps * n);
}

/* ns for one XSAVE plus one XRSTOR of every state component XCR0 enables. */
static double bench_xsave(void)
{
	unsigned int eax, ebx, ecx, edx, size, i;
	u64 start, reps = 100000;
	unsigned char *area;

	__cpuid_count(0xd, 0, eax, ebx, ecx, edx);
	size = ebx;
	area = aligned_alloc(64, (size + 63) & ~63U);
	if (!area)
		return -1;
	memset(area, 0, size);
	start = bench_now();
	for (i = 0; i < reps; i++)
		asm volatile("xsave64 %0\n\txrstor64 %0"
			     : "+m" (*(unsigned char (*)[size])area)
			     : "a" (~0U), "d" (~0U)
			     : "memory");
	start = bench_now() - start;
	free(area);
	printf("# XSAVE area: %u bytes\n", size);
	return (double)start / reps;
}

/* ns for one LDMXCSR of the default control word. */
static double bench_ldmxcsr(void)
{
	unsigned int mxcsr = 0x1f80, i, reps = 10000000;
	u64 start = bench_now();

	for (i = 0; i < reps; i++)
		asm volatile("ldmxcsr %0" : : "m" (mxcsr));
	return (double)(bench_now() - start) / reps;
}

int main(int argc, char **argv)
{
	unsigned int runs = argc > 1 ? atoi(argv[1]) : 7;
	static double v[NR_FNS][BENCH_NR_SIZES][BENCH_MAX_RUNS];
	/* A machine up for a day, a 1 ms tick. */
	const u64 now = 86400ULL * 1000000000ULL, tick_ns = 1000000;
	u64 state = 0x62656e63;
	unsigned int i, s, r, f;
	double xsave;

	if (runs < 1 || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "usage: %s [runs, 1..%d]\n", argv[0],
			BENCH_MAX_RUNS);
		return 2;
	}
	if (!__builtin_cpu_supports("avx2")) {
		printf("bench_simd: no AVX2 on this CPU\n");
		return 0;
	}

	for (i = 0; i < BENCH_MAX_N; i++)
		ns_in[i] = now + 1000000 + bench_xorshift(&state) %
					   30000000000ULL;

	/* Interleaved, so that a slow moment of the machine hits all alike. */
	for (r = 0; r < runs; r++)
		for (s = 0; s < BENCH_NR_SIZES; s++)
			for (f = 0; f < NR_FNS; f++)
				v[f][s][r] = bench_run(f, bench_sizes[s],
						       tick_ns);

	printf("twheel batch computation: ns per item, median of %u runs\n",
	       runs);
	printf("%-20s", "batch size");
	for (s = 0; s < BENCH_NR_SIZES; s++)
		printf("%10u", bench_sizes[s]);
	printf("\n");
	for (f = 0; f < NR_FNS; f++) {
		printf("%-20s", bench_fn_names[f]);
		for (s = 0; s < BENCH_NR_SIZES; s++)
			printf("%10.2f", bench_median(v[f][s], runs));
		printf("\n");
	}
	printf("%-20s", "ticks speed-up");
	for (s = 0; s < BENCH_NR_SIZES; s++)
		printf("%9.2fx", bench_median(v[TICKS_SCALAR][s], runs) /
				 bench_median(v[TICKS_AVX2][s], runs));
	printf("\nLDMXCSR, ns: %.1f\n", bench_ldmxcsr());
	xsave = bench_xsave();
	printf("XSAVE+XRSTOR, ns: %.1f\n", xsave);
	return sink == 42;
}
