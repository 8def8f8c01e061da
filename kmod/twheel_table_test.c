// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite twheel_table: the connection table of twheel_table.c.
 *
 * The suite compiles its own copy of the table, with an allocator it can
 * make fail, so it runs without twheel.ko and can look at the table's
 * internals.
 */
#include <kunit/test.h>
#include <linux/slab.h>

static bool twheel_table_test_nomem;

static void *twheel_table_test_alloc(unsigned long nr)
{
	if (twheel_table_test_nomem)
		return NULL;
	return kvcalloc(nr, sizeof(void *), GFP_KERNEL);
}

#define twheel_table_alloc(table, nr)	twheel_table_test_alloc(nr)
#include "twheel_table.c"

#define TWHEEL_TEST_NODES	4096
#define TWHEEL_TEST_OPS		40000

struct twheel_table_test {
	struct twheel_table table;
	struct twheel_table_node nodes[TWHEEL_TEST_NODES];
	struct twheel_table_node *bulk[TWHEEL_TEST_NODES];
	struct twheel_table_node **links[TWHEEL_TEST_NODES];
	bool in[TWHEEL_TEST_NODES];
	unsigned long nr_in;
	unsigned int freed;
};

static int twheel_table_test_init(struct kunit *test)
{
	struct twheel_table_test *t;
	unsigned int i;

	t = kvzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	/* Keys no case inserts, so that every node's key is its own. */
	for (i = 0; i < TWHEEL_TEST_NODES; i++)
		t->nodes[i].key = 0xa5a5000000000000ULL | i;
	twheel_table_test_nomem = false;
	if (twheel_table_init(&t->table)) {
		kvfree(t);
		return -ENOMEM;
	}
	test->priv = t;
	return 0;
}

static void twheel_table_test_no_free(struct twheel_table_node *node)
{
}

static void twheel_table_test_exit(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;

	twheel_table_test_nomem = false;
	twheel_table_destroy(&t->table, twheel_table_test_no_free);
	kvfree(t);
}

/* A small deterministic generator (xorshift64*), the same on every run. */
static u64 twheel_test_random(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/*
 * Checks every property the table keeps: each entry sits in the one chain
 * that twheel_table_chain() names for it, and only once; the count, the
 * memory figure and the migration cursor agree with what is there; the
 * moved part of the old table is empty. Returns the longest chain.
 */
static unsigned int twheel_table_test_check(struct kunit *test,
					    struct twheel_table *table)
{
	unsigned long i, count = 0, nr_old = 0;
	unsigned int longest = 0;
	size_t bytes;

	if (table->old) {
		nr_old = 1UL << table->old_bits;
		KUNIT_EXPECT_LT(test, table->migrated, nr_old);
		for (i = 0; i < table->migrated; i++)
			KUNIT_EXPECT_PTR_EQ(test, table->old[i], NULL);
		for (i = table->migrated; i < nr_old; i++) {
			struct twheel_table_node *node;
			unsigned int len = 0;

			for (node = table->old[i]; node; node = node->next) {
				u64 hash = twheel_table_hash(table, node->key);

				KUNIT_EXPECT_PTR_EQ(test,
						    twheel_table_chain(table, hash),
						    &table->old[i]);
				count++;
				len++;
			}
			longest = max(longest, len);
		}
	}
	for (i = 0; i < 1UL << table->bits; i++) {
		struct twheel_table_node *node;
		unsigned int len = 0;

		for (node = table->buckets[i]; node; node = node->next) {
			u64 hash = twheel_table_hash(table, node->key);

			KUNIT_EXPECT_PTR_EQ(test, twheel_table_chain(table, hash),
					    &table->buckets[i]);
			count++;
			len++;
		}
		longest = max(longest, len);
	}
	KUNIT_EXPECT_EQ(test, count, table->nr);
	bytes = (nr_old + (1UL << table->bits)) * sizeof(void *);
	KUNIT_EXPECT_EQ(test, table->bytes, bytes);
	KUNIT_EXPECT_GE(test, table->bits, TWHEEL_TABLE_MIN_BITS);
	KUNIT_EXPECT_LE(test, table->bits, TWHEEL_TABLE_MAX_BITS);
	return longest;
}

/* Half of the entries by twheel_table_insert(), half where a lookup ended. */
static void twheel_table_test_insert(struct twheel_table_test *t,
				     unsigned int i, u64 key)
{
	t->nodes[i].key = key;
	if (i % 2)
		twheel_table_insert_link(&t->table,
					 twheel_table_lookup_link(&t->table,
								  key),
					 &t->nodes[i]);
	else
		twheel_table_insert(&t->table, &t->nodes[i]);
	t->in[i] = true;
	t->nr_in++;
}

static void twheel_table_test_remove(struct twheel_table_test *t,
				     unsigned int i)
{
	twheel_table_remove(&t->table, &t->nodes[i]);
	t->in[i] = false;
	t->nr_in--;
}

/*
 * Every entry in the model is found, as itself; every other is not; by
 * one lookup at a time and by one bulk lookup of every key.
 */
static void twheel_table_test_match(struct kunit *test,
				    struct twheel_table_test *t)
{
	unsigned int i;

	twheel_table_lookup_bulk(&t->table, TWHEEL_TEST_NODES,
				 &t->nodes[0].key, sizeof(t->nodes[0]),
				 t->bulk);
	twheel_table_lookup_bulk_link(&t->table, TWHEEL_TEST_NODES,
				      &t->nodes[0].key, sizeof(t->nodes[0]),
				      t->links);
	for (i = 0; i < TWHEEL_TEST_NODES; i++) {
		struct twheel_table_node *found;

		found = twheel_table_lookup(&t->table, t->nodes[i].key);
		if (t->in[i])
			KUNIT_EXPECT_PTR_EQ(test, found, &t->nodes[i]);
		else
			KUNIT_EXPECT_PTR_EQ(test, found, NULL);
		KUNIT_EXPECT_PTR_EQ(test, t->bulk[i], found);
		KUNIT_EXPECT_PTR_EQ(test, *t->links[i], found);
		KUNIT_EXPECT_PTR_EQ(test, t->links[i],
				    twheel_table_lookup_link(&t->table,
							     t->nodes[i].key));
	}
	KUNIT_EXPECT_EQ(test, t->table.nr, t->nr_in);
}

static void twheel_table_starts_empty_at_its_smallest(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, t->table.nr, 0UL);
	KUNIT_EXPECT_EQ(test, t->table.bits, TWHEEL_TABLE_MIN_BITS);
	KUNIT_EXPECT_PTR_EQ(test, t->table.old, NULL);
	KUNIT_EXPECT_PTR_EQ(test, twheel_table_lookup(&t->table, 0), NULL);
	KUNIT_EXPECT_PTR_EQ(test, twheel_table_lookup(&t->table, U64_MAX),
			    NULL);
	twheel_table_test_check(test, &t->table);
}

static void twheel_table_finds_each_key_and_only_its_own(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;

	/* Both ends of the key space and a neighbour of each. */
	twheel_table_test_insert(t, 0, 0);
	twheel_table_test_insert(t, 1, U64_MAX);
	twheel_table_test_insert(t, 2, 1);
	t->nodes[3].key = U64_MAX - 1;
	twheel_table_test_match(test, t);

	twheel_table_test_remove(t, 1);
	twheel_table_test_match(test, t);
	KUNIT_EXPECT_PTR_EQ(test, t->nodes[1].next, NULL);

	/* A removed entry can come back. */
	twheel_table_test_insert(t, 1, U64_MAX);
	twheel_table_test_match(test, t);
	twheel_table_test_check(test, &t->table);
}

/*
 * Random inserts and removes, half of the keys sequential and half random,
 * against a model, with the whole table checked as it grows and shrinks.
 */
static void twheel_table_random_operations_match_a_model(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	u64 state = 0x9e3779b97f4a7c15ULL;
	unsigned int op, resizes = 0;
	u8 bits = t->table.bits;

	for (op = 0; op < TWHEEL_TEST_NODES; op++)
		t->nodes[op].key = op % 2 ? twheel_test_random(&state) :
			    1000 + op;

	for (op = 0; op < TWHEEL_TEST_OPS; op++) {
		u64 r = twheel_test_random(&state);
		unsigned int i = r % TWHEEL_TEST_NODES;
		/* Phases that fill the table, then drain it, then churn. */
		unsigned int phase = op / (TWHEEL_TEST_OPS / 4);
		bool fill = phase == 0 || (phase == 2 && r % 8 < 5) ||
			    (phase == 3 && r % 2);

		if (t->in[i] && !fill)
			twheel_table_test_remove(t, i);
		else if (!t->in[i] && fill)
			twheel_table_test_insert(t, i, t->nodes[i].key);
		if (t->table.bits != bits) {
			resizes++;
			bits = t->table.bits;
		}
		KUNIT_EXPECT_PTR_EQ(test,
				    twheel_table_lookup(&t->table,
							t->nodes[i].key),
				    t->in[i] ? &t->nodes[i] : NULL);
		if (op % 997 == 0) {
			twheel_table_test_check(test, &t->table);
			twheel_table_test_match(test, t);
		}
	}
	twheel_table_test_check(test, &t->table);
	twheel_table_test_match(test, t);
	/*
	 * Three growths to 4096 buckets (four times larger each, below
	 * 2^TWHEEL_TABLE_QUAD_BITS), at least one halving when drained.
	 */
	KUNIT_EXPECT_GE(test, resizes, 4U);
}

/*
 * Growing moves TWHEEL_TABLE_MIGRATE buckets per call, never the whole
 * table; every lookup works while a resize is half done; emptied, the table
 * shrinks back.
 */
static void twheel_table_resizes_a_few_buckets_at_a_time(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	unsigned int i, mid_resize = 0;

	for (i = 0; i < TWHEEL_TEST_NODES; i++) {
		unsigned long before = t->table.migrated;
		bool resizing = t->table.old;

		twheel_table_test_insert(t, i, (u64)i << 32);
		if (resizing && t->table.old)
			KUNIT_EXPECT_EQ(test, t->table.migrated - before,
					(unsigned long)TWHEEL_TABLE_MIGRATE);
		if (t->table.old && t->table.migrated && !mid_resize) {
			mid_resize = i;
			twheel_table_test_match(test, t);
			twheel_table_test_check(test, &t->table);
		}
		/* Never more entries than twice the buckets. */
		KUNIT_EXPECT_LE(test, t->table.nr, 2UL << t->table.bits);
	}
	KUNIT_EXPECT_GT(test, mid_resize, 0U);
	twheel_table_test_match(test, t);

	for (i = 0; i < TWHEEL_TEST_NODES; i++) {
		twheel_table_test_remove(t, i);
		KUNIT_EXPECT_PTR_EQ(test,
				    twheel_table_lookup(&t->table,
							(u64)i << 32), NULL);
	}
	/*
	 * Emptied, it is back to its smallest, with at most the last step of
	 * a halving still to finish.
	 */
	KUNIT_EXPECT_EQ(test, t->table.bits, TWHEEL_TABLE_MIN_BITS);
	KUNIT_EXPECT_LE(test, t->table.bytes,
			(size_t)(3 * sizeof(void *)) << TWHEEL_TABLE_MIN_BITS);
	twheel_table_test_check(test, &t->table);
}

/* Sequential ids, the common case, spread over the buckets. */
static void twheel_table_spreads_sequential_keys(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	unsigned int i, longest;

	for (i = 0; i < TWHEEL_TEST_NODES; i++)
		twheel_table_test_insert(t, i, i);
	longest = twheel_table_test_check(test, &t->table);
	/*
	 * 4096 keys in 4096 or more buckets: a perfect spread is 1, a random
	 * one about 7; only a hash that clusters reaches 16.
	 */
	KUNIT_EXPECT_LT(test, longest, 16U);
	twheel_table_test_match(test, t);
}

/* Without memory for a bigger table it keeps working, then grows later. */
static void twheel_table_works_when_it_cannot_grow(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	unsigned int i, extra;

	twheel_table_test_nomem = true;
	for (i = 0; i < 1000; i++)
		twheel_table_test_insert(t, i, i * 7919ULL);
	KUNIT_EXPECT_EQ(test, t->table.bits, TWHEEL_TABLE_MIN_BITS);
	KUNIT_EXPECT_PTR_EQ(test, t->table.old, NULL);
	twheel_table_test_match(test, t);
	twheel_table_test_check(test, &t->table);

	/* Memory again: it grows within the backoff of its last failure. */
	twheel_table_test_nomem = false;
	extra = t->table.backoff + 1;
	for (i = 1000; i < 1000 + extra; i++)
		twheel_table_test_insert(t, i, i * 7919ULL);
	KUNIT_EXPECT_GT(test, t->table.bits, TWHEEL_TABLE_MIN_BITS);
	twheel_table_test_match(test, t);
	twheel_table_test_check(test, &t->table);
}

static struct twheel_table_test *twheel_table_test_freeing;

static void twheel_table_test_count_free(struct twheel_table_node *node)
{
	struct twheel_table_test *t = twheel_table_test_freeing;
	unsigned int i = node - t->nodes;

	/* Counted only if it was in the table and not freed before. */
	if (i < TWHEEL_TEST_NODES && t->in[i]) {
		t->in[i] = false;
		t->freed++;
	}
}

/* Destroying hands every entry to the callback once, mid-resize too. */
static void twheel_table_destroy_frees_every_entry_once(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	unsigned int i;

	for (i = 0; i < 300; i++)
		twheel_table_test_insert(t, i, i);
	/* 300 entries: on the way from 256 to 512 buckets. */
	KUNIT_ASSERT_NOT_NULL(test, t->table.old);

	twheel_table_test_freeing = t;
	twheel_table_destroy(&t->table, twheel_table_test_count_free);
	KUNIT_EXPECT_EQ(test, t->freed, 300U);
	KUNIT_EXPECT_EQ(test, t->table.nr, 0UL);
	KUNIT_EXPECT_EQ(test, t->table.bytes, (size_t)0);
	/* The exit handler destroys again: give it an empty table. */
	KUNIT_ASSERT_EQ(test, twheel_table_init(&t->table), 0);
}

/*
 * A batch looked up at once, then added where the lookup ended while the
 * generation holds, as a chunk of first arms adds its new connections:
 * through resizes, with keys that share chains and a key named twice.
 */
static void twheel_table_bulk_links_add_each_key_once(struct kunit *test)
{
	struct twheel_table_test *t = test->priv;
	unsigned int i, b, from, batch = 64, reused = 0;
	u64 keys[64];

	for (from = 0; from + batch <= TWHEEL_TEST_NODES; from += batch) {
		unsigned long gen;

		for (b = 0; b < batch; b++)
			keys[b] = t->nodes[from + b].key;
		/* The last one names the first one's key again. */
		keys[batch - 1] = keys[0];
		twheel_table_lookup_bulk_link(&t->table, batch, keys,
					      sizeof(keys[0]), t->links);
		gen = t->table.gen;
		for (b = 0; b < batch; b++) {
			struct twheel_table_node **link;

			i = from + b;
			if (gen == t->table.gen) {
				link = twheel_table_lookup_from(t->links[b],
								keys[b]);
				reused++;
			} else {
				link = twheel_table_lookup_link(&t->table,
								keys[b]);
			}
			if (*link) {
				KUNIT_EXPECT_EQ(test, b, batch - 1);
				KUNIT_EXPECT_PTR_EQ(test, *link,
						    &t->nodes[from]);
				continue;
			}
			twheel_table_insert_link(&t->table, link,
						 &t->nodes[i]);
			t->in[i] = true;
			t->nr_in++;
		}
		twheel_table_test_check(test, &t->table);
	}
	twheel_table_test_match(test, t);
	/* Most entries were added through a link of the batch's lookup. */
	KUNIT_EXPECT_GT(test, reused, TWHEEL_TEST_NODES / 2);
}

static struct kunit_case twheel_table_test_cases[] = {
	KUNIT_CASE(twheel_table_starts_empty_at_its_smallest),
	KUNIT_CASE(twheel_table_finds_each_key_and_only_its_own),
	KUNIT_CASE(twheel_table_random_operations_match_a_model),
	KUNIT_CASE(twheel_table_bulk_links_add_each_key_once),
	KUNIT_CASE(twheel_table_resizes_a_few_buckets_at_a_time),
	KUNIT_CASE(twheel_table_spreads_sequential_keys),
	KUNIT_CASE(twheel_table_works_when_it_cannot_grow),
	KUNIT_CASE(twheel_table_destroy_frees_every_entry_once),
	{}
};

static struct kunit_suite twheel_table_test_suite = {
	.name = "twheel_table",
	.init = twheel_table_test_init,
	.exit = twheel_table_test_exit,
	.test_cases = twheel_table_test_cases,
};

kunit_test_suite(twheel_table_test_suite);

MODULE_DESCRIPTION("KUnit tests for twheel's connection table");
MODULE_LICENSE("GPL");
