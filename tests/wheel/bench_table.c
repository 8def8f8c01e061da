// SPDX-License-Identifier: GPL-2.0
/*
 * Native benchmark of the connection table's lookups: one key at a time
 * (twheel_table_lookup()) against a chunk of keys at once
 * (twheel_table_lookup_bulk(), what the module's batched ioctls call).
 *
 * For each population size (1k, 64k, 1M connections with sequential ids, as
 * a daemon numbers them) the entries live in 96-byte objects allocated in
 * one array and inserted in a random order, so that neighbouring ids are
 * not neighbours in memory; then chunks of 64 random live ids are looked up
 * both ways, the two ways alternating chunk by chunk. Each figure is the
 * median over several runs, in ns per lookup.
 *
 * Usage: bench_table [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "twheel_compat.h"
#include "bench.h"

#define twheel_table_alloc(table, nr)	calloc(nr, sizeof(struct twheel_table_node *))

static u64 bench_state = 0x9e3779b97f4a7c15ULL;

static u64 bench_random(void)
{
	return bench_xorshift(&bench_state);
}

static u64 get_random_u64(void)
{
	return bench_random();
}

#include "twheel_table.c"

#define BENCH_CHUNK	64	/* TWHEEL_BATCH_CHUNK */
#define BENCH_LOOKUPS	(1 << 20)
#define BENCH_MAX_RUNS	31

/* About the size of the module's struct twheel_conn. */
struct bench_conn {
	u64 before[4];
	struct twheel_table_node node;
	u64 after[6];
};

/* The entries are freed with their array. */
static void bench_keep(struct twheel_table_node *node __attribute__((unused)))
{
}

/* One run at @n entries: ns per lookup, each way. */
static int bench_run(unsigned int n, double *one, double *bulk)
{
	struct twheel_table_node *found[BENCH_CHUNK];
	struct bench_conn *conns;
	struct twheel_table table;
	u64 keys[BENCH_CHUNK];
	u64 t_one = 0, t_bulk = 0, t0;
	unsigned int *order;
	unsigned int i, j, done;

	conns = calloc(n, sizeof(*conns));
	order = calloc(n, sizeof(*order));
	if (!conns || !order || twheel_table_init(&table))
		return -1;
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		unsigned int k = bench_random() % (i + 1), tmp = order[i];

		order[i] = order[k];
		order[k] = tmp;
	}
	/* Id i + 1 lives at a random place in the array. */
	for (i = 0; i < n; i++) {
		conns[order[i]].node.key = i + 1;
		twheel_table_insert(&table, &conns[order[i]].node);
	}

	for (done = 0; done < BENCH_LOOKUPS; done += 2 * BENCH_CHUNK) {
		for (j = 0; j < BENCH_CHUNK; j++)
			keys[j] = bench_random() % n + 1;
		t0 = bench_now();
		for (j = 0; j < BENCH_CHUNK; j++)
			found[j] = twheel_table_lookup(&table, keys[j]);
		t_one += bench_now() - t0;
		for (j = 0; j < BENCH_CHUNK; j++)
			if (!found[j] || found[j]->key != keys[j])
				return -1;

		for (j = 0; j < BENCH_CHUNK; j++)
			keys[j] = bench_random() % n + 1;
		t0 = bench_now();
		twheel_table_lookup_bulk(&table, BENCH_CHUNK, keys,
					 sizeof(keys[0]), found);
		t_bulk += bench_now() - t0;
		for (j = 0; j < BENCH_CHUNK; j++)
			if (!found[j] || found[j]->key != keys[j])
				return -1;
	}
	*one = (double)t_one / (BENCH_LOOKUPS / 2);
	*bulk = (double)t_bulk / (BENCH_LOOKUPS / 2);

	twheel_table_destroy(&table, bench_keep);
	free(order);
	free(conns);
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int sizes[] = { 1000, 64 * 1024, 1024 * 1024 };
	unsigned int runs = argc > 1 ? atoi(argv[1]) : 7;
	unsigned int s, r;

	if (runs < 1 || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "usage: %s [runs, 1 to %d]\n", argv[0],
			BENCH_MAX_RUNS);
		return 2;
	}
	printf("connection table lookups, ns per lookup, median of %u runs\n",
	       runs);
	printf("%-10s %12s %12s %8s\n", "entries", "one by one", "bulk (64)",
	       "ratio");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double one[BENCH_MAX_RUNS], bulk[BENCH_MAX_RUNS], m1, mb;

		for (r = 0; r < runs; r++) {
			if (bench_run(sizes[s], &one[r], &bulk[r])) {
				fprintf(stderr, "bench_table: run failed\n");
				return 1;
			}
		}
		m1 = bench_median(one, runs);
		mb = bench_median(bulk, runs);
		printf("%-10u %12.1f %12.1f %8.2f\n", sizes[s], m1, mb,
		       mb / m1);
	}
	return 0;
}
