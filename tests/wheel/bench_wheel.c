// SPDX-License-Identifier: GPL-2.0
/*
 * Native benchmark of the timing wheel against a 4-ary min-heap.
 *
 * For each population size (1k, 64k, 1M live timers with expiries spread
 * over one minute of 1 ms ticks) a batch of further timers, like the timers
 * of connections that just saw traffic, is armed, re-armed within its slot,
 * re-armed elsewhere and cancelled; a second batch cancels randomly chosen
 * live timers (cold in the cache), and a third other ones, 64 at a time,
 * each group first warmed by twheel_timer_prefetch_unlink() as the
 * module's batched cancels do (the heap cancels the same ones plainly);
 * finally every timer is expired by waking
 * at each next deadline. Both structures get the same expiries in the same
 * order. Each figure is the median over several runs, in ns per operation.
 *
 * Usage: bench_wheel [runs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "twheel_wheel.h"
#include "bench.h"

#define BENCH_BATCH	1024
#define BENCH_CYCLES	64
#define BENCH_SPREAD	60000	/* ticks: one minute at 1 ms */
#define BENCH_MAX_RUNS	31

enum bench_op {
	OP_ARM,
	OP_REARM_SAME,
	OP_REARM_OTHER,
	OP_CANCEL,
	OP_CANCEL_COLD,
	OP_CANCEL_COLD_PF,
	OP_EXPIRE,
	OP_COUNT
};

static const char *const bench_op_names[OP_COUNT] = {
	[OP_ARM]	 = "arm",
	[OP_REARM_SAME]	 = "re-arm, same slot",
	[OP_REARM_OTHER] = "re-arm, other slot",
	[OP_CANCEL]	 = "cancel",
	[OP_CANCEL_COLD] = "cancel, random live",
	[OP_CANCEL_COLD_PF] = "same, 64 prefetched",
	[OP_EXPIRE]	 = "expire (per timer)",
};

/* ---- the heap: 4-ary, indexed so that cancel and re-arm are O(log n) ---- */

struct heap_entry {
	u64 key;
	u32 id;
};

struct heap {
	struct heap_entry *entries;
	u32 *pos;	/* pos[id]: index of id in entries, or U32_MAX */
	u32 size;
};

static void heap_set(struct heap *h, u32 i, struct heap_entry e)
{
	h->entries[i] = e;
	h->pos[e.id] = i;
}

static void heap_sift_up(struct heap *h, u32 i)
{
	struct heap_entry e = h->entries[i];

	while (i) {
		u32 parent = (i - 1) / 4;

		if (h->entries[parent].key <= e.key)
			break;
		heap_set(h, i, h->entries[parent]);
		i = parent;
	}
	heap_set(h, i, e);
}

static void heap_sift_down(struct heap *h, u32 i)
{
	struct heap_entry e = h->entries[i];

	for (;;) {
		u32 c = 4 * i + 1, best = i, end = c + 4, j;
		u64 best_key = e.key;

		if (end > h->size)
			end = h->size;
		for (j = c; j < end; j++) {
			if (h->entries[j].key < best_key) {
				best = j;
				best_key = h->entries[j].key;
			}
		}
		if (best == i)
			break;
		heap_set(h, i, h->entries[best]);
		i = best;
	}
	heap_set(h, i, e);
}

static void heap_push(struct heap *h, u32 id, u64 key)
{
	h->entries[h->size] = (struct heap_entry){ .key = key, .id = id };
	heap_sift_up(h, h->size++);
}

static void heap_update(struct heap *h, u32 id, u64 key)
{
	u32 i = h->pos[id];
	u64 old = h->entries[i].key;

	h->entries[i].key = key;
	if (key < old)
		heap_sift_up(h, i);
	else
		heap_sift_down(h, i);
}

static void heap_remove(struct heap *h, u32 id)
{
	u32 i = h->pos[id];
	u64 key;

	h->pos[id] = U32_MAX;
	if (i == --h->size)
		return;
	key = h->entries[i].key;
	heap_set(h, i, h->entries[h->size]);
	if (h->entries[i].key < key)
		heap_sift_up(h, i);
	else
		heap_sift_down(h, i);
}

static u32 heap_pop(struct heap *h)
{
	u32 id = h->entries[0].id;

	heap_remove(h, id);
	return id;
}

/* ---- harness ---- */

static u64 bench_rng = 0x9e3779b97f4a7c15ULL;
/* What consumers of expired timers read, so that the reads are not elided. */
static volatile u64 bench_sink;

static u64 bench_random(void)
{
	return bench_xorshift(&bench_rng);
}

/* The clock, as a double for the sums of many small intervals. */
static double bench_ns(void)
{
	return (double)bench_now();
}

/* Everything one run needs, allocated once per size. */
struct bench_state {
	u32 live;		/* population size */
	u32 total;		/* live + batch */
	struct twheel_wheel wheel;
	struct twheel_timer *timers;
	struct heap heap;
	u64 *arm;		/* per cycle and batch slot: expiries */
	u64 *same;		/* ...the same slot, for the wheel's idea of a slot */
	u64 *other;		/* ...anywhere */
	u32 *victims;		/* per cycle: distinct live timers to cancel cold */
	u32 *victims2;		/* ...others, for the prefetched cancels */
	u32 *perm;		/* a random permutation of the live timers */
	u64 *live_expiry;
};

static void *bench_alloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		perror("bench_wheel");
		exit(2);
	}
	return p;
}

/* A tick in the same wheel slot as @expires, when the wheel holds it at @idx. */
static u64 bench_same_slot(u64 expires, u32 idx)
{
	u64 gran = TWHEEL_WHEEL_LVL_GRAN(idx / TWHEEL_WHEEL_LVL_SLOTS);

	return (expires & ~(gran - 1)) + bench_random() % gran;
}

/* One run over both structures; adds ns per op to wheel_ns[] and heap_ns[]. */
static void bench_run(struct bench_state *s, double *wheel_ns, double *heap_ns)
{
	const u32 base = s->live, n = BENCH_BATCH * BENCH_CYCLES;
	/* With fewer live timers than a batch, cancel each of them once. */
	const u32 cold = base < BENCH_BATCH ? base : BENCH_BATCH;
	double t0, t[OP_COUNT] = { 0 }, h[OP_COUNT] = { 0 };
	u32 i, c, expired;
	u64 now = 1000;
	HLIST_HEAD(list);

	/* The live population, identical in both. */
	twheel_wheel_init(&s->wheel, now);
	s->heap.size = 0;
	for (i = 0; i < s->total; i++) {
		twheel_timer_init(&s->timers[i]);
		s->heap.pos[i] = U32_MAX;
	}
	for (i = 0; i < base; i++) {
		s->live_expiry[i] = now + 1 + bench_random() % BENCH_SPREAD;
		twheel_wheel_arm(&s->wheel, &s->timers[i], s->live_expiry[i]);
		heap_push(&s->heap, i, s->live_expiry[i]);
	}
	for (i = 0; i < n; i++) {
		s->arm[i] = now + 1 + bench_random() % BENCH_SPREAD;
		s->other[i] = now + 1 + bench_random() % BENCH_SPREAD;
	}
	/* Distinct within a batch: consecutive stretches of a random permutation. */
	for (i = 0; i < base; i++)
		s->perm[i] = i;
	for (i = base - 1; i > 0; i--) {
		u32 j = bench_random() % (i + 1), tmp = s->perm[i];

		s->perm[i] = s->perm[j];
		s->perm[j] = tmp;
	}
	for (i = 0; i < n; i++) {
		s->victims[i] = s->perm[i % base];
		s->victims2[i] = s->perm[(i + base / 2) % base];
	}

	for (c = 0; c < BENCH_CYCLES; c++) {
		const u64 *arm = s->arm + c * BENCH_BATCH;
		const u64 *same = s->same + c * BENCH_BATCH;
		const u64 *other = s->other + c * BENCH_BATCH;
		const u32 *victims = s->victims + c * cold;
		const u32 *victims2 = s->victims2 + c * cold;

		/* The wheel. */
		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			twheel_wheel_arm(&s->wheel, &s->timers[base + i], arm[i]);
		t[OP_ARM] += bench_ns() - t0;

		/* Same-slot targets depend on where the wheel put each timer. */
		for (i = 0; i < BENCH_BATCH; i++)
			s->same[c * BENCH_BATCH + i] =
				bench_same_slot(arm[i], s->timers[base + i].idx);

		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			twheel_wheel_arm(&s->wheel, &s->timers[base + i], same[i]);
		t[OP_REARM_SAME] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			twheel_wheel_arm(&s->wheel, &s->timers[base + i], other[i]);
		t[OP_REARM_OTHER] += bench_ns() - t0;

		/* Cancel in another order than armed: stride through the batch. */
		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			twheel_wheel_cancel(&s->wheel,
					    &s->timers[base + (i * 277) % BENCH_BATCH]);
		t[OP_CANCEL] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < cold; i++)
			twheel_wheel_cancel(&s->wheel, &s->timers[victims[i]]);
		t[OP_CANCEL_COLD] += bench_ns() - t0;
		/* Put them back, untimed, so that the population stays the same. */
		for (i = 0; i < cold; i++)
			twheel_wheel_arm(&s->wheel, &s->timers[victims[i]],
					 s->live_expiry[victims[i]]);

		/* Others, 64 at a time, as a batched ioctl takes them off. */
		t0 = bench_ns();
		for (i = 0; i < cold; i += 64) {
			u32 j, end = i + 64 < cold ? i + 64 : cold;

			for (j = i; j < end; j++)
				twheel_timer_prefetch_unlink(&s->timers[victims2[j]]);
			for (j = i; j < end; j++)
				twheel_wheel_cancel(&s->wheel,
						    &s->timers[victims2[j]]);
		}
		t[OP_CANCEL_COLD_PF] += bench_ns() - t0;
		for (i = 0; i < cold; i++)
			twheel_wheel_arm(&s->wheel, &s->timers[victims2[i]],
					 s->live_expiry[victims2[i]]);

		/* The heap, same operations, same keys. */
		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			heap_push(&s->heap, base + i, arm[i]);
		h[OP_ARM] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			heap_update(&s->heap, base + i, same[i]);
		h[OP_REARM_SAME] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			heap_update(&s->heap, base + i, other[i]);
		h[OP_REARM_OTHER] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < BENCH_BATCH; i++)
			heap_remove(&s->heap, base + (i * 277) % BENCH_BATCH);
		h[OP_CANCEL] += bench_ns() - t0;

		t0 = bench_ns();
		for (i = 0; i < cold; i++)
			heap_remove(&s->heap, victims[i]);
		h[OP_CANCEL_COLD] += bench_ns() - t0;
		for (i = 0; i < cold; i++)
			heap_push(&s->heap, victims[i], s->live_expiry[victims[i]]);

		/* The heap has nothing to prefetch: the same cancels. */
		t0 = bench_ns();
		for (i = 0; i < cold; i++)
			heap_remove(&s->heap, victims2[i]);
		h[OP_CANCEL_COLD_PF] += bench_ns() - t0;
		for (i = 0; i < cold; i++)
			heap_push(&s->heap, victims2[i], s->live_expiry[victims2[i]]);
	}

	/*
	 * Expire everything, waking at each next deadline, and hand each timer
	 * to its consumer (which reads it): the heap must do that through the
	 * id it stores, the wheel hands out the timer itself.
	 */
	expired = 0;
	t0 = bench_ns();
	for (;;) {
		u64 next = twheel_wheel_next(&s->wheel);
		struct hlist_node *node;

		if (next == U64_MAX)
			break;
		expired += twheel_wheel_advance(&s->wheel, next, &list);
		for (node = list.first; node; node = node->next)
			bench_sink += hlist_entry(node, struct twheel_timer, node)->expires;
		list.first = NULL;	/* the timers are not reused in this run */
	}
	t[OP_EXPIRE] = bench_ns() - t0;
	if (expired != base || s->wheel.count) {
		fprintf(stderr, "bench_wheel: wheel expired %u of %u\n", expired, base);
		exit(1);
	}

	expired = 0;
	t0 = bench_ns();
	while (s->heap.size) {
		u64 next = s->heap.entries[0].key;

		while (s->heap.size && s->heap.entries[0].key <= next) {
			bench_sink += s->timers[heap_pop(&s->heap)].expires;
			expired++;
		}
	}
	h[OP_EXPIRE] = bench_ns() - t0;
	if (expired != base) {
		fprintf(stderr, "bench_wheel: heap expired %u of %u\n", expired, base);
		exit(1);
	}

	for (i = 0; i < OP_CANCEL_COLD; i++) {
		wheel_ns[i] = t[i] / n;
		heap_ns[i] = h[i] / n;
	}
	for (i = OP_CANCEL_COLD; i <= OP_CANCEL_COLD_PF; i++) {
		wheel_ns[i] = t[i] / (cold * BENCH_CYCLES);
		heap_ns[i] = h[i] / (cold * BENCH_CYCLES);
	}
	wheel_ns[OP_EXPIRE] = t[OP_EXPIRE] / base;
	heap_ns[OP_EXPIRE] = h[OP_EXPIRE] / base;
}

int main(int argc, char **argv)
{
	static const u32 sizes[] = { 1000, 64000, 1000000 };
	static double wheel_ns[3][OP_COUNT], heap_ns[3][OP_COUNT];
	unsigned int runs = argc > 1 ? atoi(argv[1]) : 7;
	unsigned int z, r, op;
	bool met;

	if (runs < 1 || runs > BENCH_MAX_RUNS) {
		fprintf(stderr, "usage: %s [runs, 1..%d]\n", argv[0], BENCH_MAX_RUNS);
		return 2;
	}

	for (z = 0; z < 3; z++) {
		static double w[OP_COUNT][BENCH_MAX_RUNS], h[OP_COUNT][BENCH_MAX_RUNS];
		u32 batch = BENCH_BATCH * BENCH_CYCLES;
		struct bench_state *s = bench_alloc(1, sizeof(*s));

		s->live = sizes[z];
		s->total = sizes[z] + BENCH_BATCH;
		s->timers = bench_alloc(s->total, sizeof(*s->timers));
		s->heap.entries = bench_alloc(s->total, sizeof(*s->heap.entries));
		s->heap.pos = bench_alloc(s->total, sizeof(*s->heap.pos));
		s->arm = bench_alloc(batch, sizeof(u64));
		s->same = bench_alloc(batch, sizeof(u64));
		s->other = bench_alloc(batch, sizeof(u64));
		s->victims = bench_alloc(batch, sizeof(u32));
		s->victims2 = bench_alloc(batch, sizeof(u32));
		s->live_expiry = bench_alloc(s->live, sizeof(u64));
		s->perm = bench_alloc(s->live, sizeof(u32));

		for (r = 0; r < runs; r++) {
			double wr[OP_COUNT], hr[OP_COUNT];

			bench_run(s, wr, hr);
			for (op = 0; op < OP_COUNT; op++) {
				w[op][r] = wr[op];
				h[op][r] = hr[op];
			}
		}
		for (op = 0; op < OP_COUNT; op++) {
			wheel_ns[z][op] = bench_median(w[op], runs);
			heap_ns[z][op] = bench_median(h[op], runs);
		}

		free(s->timers);
		free(s->heap.entries);
		free(s->heap.pos);
		free(s->arm);
		free(s->same);
		free(s->other);
		free(s->victims);
		free(s->victims2);
		free(s->live_expiry);
		free(s->perm);
		free(s);
	}

	printf("twheel wheel vs 4-ary heap: ns per operation, median of %u runs\n", runs);
	printf("(batches of %u timers, %u batches per run; expiries uniform over %u ticks)\n\n",
	       BENCH_BATCH, BENCH_CYCLES, BENCH_SPREAD);
	printf("%-22s %8s %9s %9s %11s\n", "operation", "live", "wheel", "heap",
	       "heap/wheel");
	for (op = 0; op < OP_COUNT; op++) {
		for (z = 0; z < 3; z++)
			printf("%-22s %8u %9.1f %9.1f %10.2fx\n",
			       z ? "" : bench_op_names[op], sizes[z],
			       wheel_ns[z][op], heap_ns[z][op],
			       heap_ns[z][op] / wheel_ns[z][op]);
	}

	printf("\nwheel cost at 1M / at 1k live timers:");
	for (op = 0; op < OP_COUNT; op++)
		printf("%s %s %.2f", op ? "," : "", bench_op_names[op],
		       wheel_ns[2][op] / wheel_ns[0][op]);
	printf("\n\ntargets:\n");
	printf("  arm under 30 ns at 1M live: %.1f ns, %s\n", wheel_ns[2][OP_ARM],
	       wheel_ns[2][OP_ARM] < 30 ? "met" : "NOT met");
	printf("  cancel under 30 ns at 1M live: %.1f ns, %s\n",
	       wheel_ns[2][OP_CANCEL],
	       wheel_ns[2][OP_CANCEL] < 30 ? "met" : "NOT met");
	printf("  arm and cancel 1M/1k ratio at most 1.5: %.2f and %.2f, %s\n",
	       wheel_ns[2][OP_ARM] / wheel_ns[0][OP_ARM],
	       wheel_ns[2][OP_CANCEL] / wheel_ns[0][OP_CANCEL],
	       wheel_ns[2][OP_ARM] / wheel_ns[0][OP_ARM] <= 1.5 &&
	       wheel_ns[2][OP_CANCEL] / wheel_ns[0][OP_CANCEL] <= 1.5 ?
	       "met" : "NOT met");
	met = true;
	for (z = 0; z < 3; z++)
		for (op = 0; op < OP_COUNT; op++)
			met &= wheel_ns[z][op] < heap_ns[z][op];
	printf("  faster than the heap for every operation and size: %s\n",
	       met ? "met" : "NOT met");
	return 0;
}
