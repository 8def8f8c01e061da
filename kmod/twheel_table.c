// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the connection table of one open file.
 */

/**
 * DOC: The connection table
 *
 * A file finds its connections by the daemon's 64-bit id in a chained hash
 * table (&struct twheel_table). Only the ioctls use it, under the file's
 * mutex, and the expiry thread never does, so it needs no lock, no RCU and
 * no deferred work of its own: a lookup is one hash, one bucket load and a
 * short chain walk, an insert or remove a pointer swap.
 *
 * **Hashing.** A key is mixed with a random per-table seed by the MurmurHash3
 * finaliser and the top bits of the result name the bucket. Sequential ids,
 * pointers and random ids all spread evenly; ids chosen to collide need the
 * seed, and even then slow down only the file that chose them.
 *
 * **Resizing without a pause.** The table doubles when it holds more entries
 * than buckets (quadruples while it has fewer than 2^%TWHEEL_TABLE_QUAD_BITS
 * buckets) and halves when it is less than one-eighth full, never below
 * %TWHEEL_TABLE_MIN_BITS. Resizing allocates the new bucket array and then
 * moves the old one over a few buckets at a time (%TWHEEL_TABLE_MIGRATE while
 * growing, %TWHEEL_TABLE_MIGRATE_SHRINK, mostly empty, while shrinking), on
 * every insert and remove that follows. Meanwhile a key lives in the old table if
 * its old bucket has not been moved yet, in the new one otherwise, so every
 * lookup still walks exactly one chain. A growth started at N entries is
 * finished N / %TWHEEL_TABLE_MIGRATE inserts later, long before the new
 * table fills up, and a halving started at N entries N / 2 operations later,
 * before the entries can run out; so no call ever rehashes the whole table:
 * at a million connections that would be a million cache misses in one
 * ioctl. Each entry moved is still one cache miss in a large table (its
 * new bucket is not: the buckets of old bucket i are 2i and 2i + 1 (4i to
 * 4i + 3), or i / 2, next to the last ones written), so a call that moves
 * buckets warms the first entries of those it will move
 * %TWHEEL_TABLE_AHEAD calls later: their misses overlap with the work in
 * between instead of stalling the move (make bench-kernel: the insertions
 * of a first arm of a million timers took about half as long).
 *
 * **Batches.** A file with many connections (%TWHEEL_LOOKUP_BULK_MIN) looks
 * up a batch's chunk of ids at once (twheel_table_lookup_bulk()): every
 * bucket is prefetched, then every chain's first entry, then the chains
 * are walked, so that the chunk's cache misses overlap instead of queueing
 * one behind the other (``make bench-table`` measures the gain; the figures
 * are in Documentation/device.rst). A smaller file, whose table and
 * connections stay in the cache, looks its ids up one by one: a first arm
 * then costs one lookup, not a bulk one and another when the connection is
 * created. In a large file the
 * chunk's cancels, and its re-arms that move a timer, also warm the wheel
 * neighbours they will write before they start
 * (twheel_timer_prefetch_unlink()).
 *
 * **Memory.** Bucket arrays come from kvcalloc() with %GFP_KERNEL_ACCOUNT,
 * charged to the memory cgroup of the caller that made the table grow; 8 to
 * 16 bytes per entry between resizes. A resize that cannot get memory is
 * not an error: the table keeps its size, its chains grow longer (or it
 * stays larger than it needs), and it tries again after a quarter as many
 * inserts and removes as it holds entries.
 */

#include <linux/bug.h>
#include <linux/minmax.h>
#include <linux/prefetch.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "twheel_table.h"

#ifndef twheel_table_alloc
/* A hook for the KUnit suite, which makes it fail on request. */
#define twheel_table_alloc(table, nr)					\
	kvcalloc(nr, sizeof(struct twheel_table_node *),		\
		 (table)->gfp | __GFP_NOWARN)
#endif

static u64 twheel_table_hash(const struct twheel_table *table, u64 key)
{
	u64 h = key ^ table->seed;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The chain that holds, or would hold, @hash. */
static struct twheel_table_node **
twheel_table_chain(const struct twheel_table *table, u64 hash)
{
	if (table->old) {
		unsigned long idx = hash >> (64 - table->old_bits);

		if (idx >= table->migrated)
			return &table->old[idx];
	}
	return &table->buckets[hash >> (64 - table->bits)];
}

/* Moves the next few buckets of the old table. */
static void twheel_table_migrate(struct twheel_table *table)
{
	unsigned long step = table->bits > table->old_bits ?
			     TWHEEL_TABLE_MIGRATE : TWHEEL_TABLE_MIGRATE_SHRINK;
	unsigned long end = min(table->migrated + step,
				1UL << table->old_bits);

	if (table->old_bits >= TWHEEL_TABLE_PREFETCH_BITS) {
		unsigned long i, ahead = min(end + TWHEEL_TABLE_AHEAD * step,
					     1UL << table->old_bits);

		for (i = ahead - min(ahead, step); i < ahead; i++) {
			if (table->old[i])
				prefetch(table->old[i]);
		}
	}

	table->gen++;
	for (; table->migrated < end; table->migrated++) {
		struct twheel_table_node *node = table->old[table->migrated];

		table->old[table->migrated] = NULL;
		while (node) {
			struct twheel_table_node *next = node->next;
			struct twheel_table_node **chain;

			chain = &table->buckets[twheel_table_hash(table,
								  node->key) >>
						(64 - table->bits)];
			node->next = *chain;
			*chain = node;
			node = next;
		}
	}
	if (table->migrated == 1UL << table->old_bits) {
		table->bytes -= sizeof(*table->old) << table->old_bits;
		kvfree(table->old);
		table->old = NULL;
	}
}

/* Starts moving to a table of 1 << @bits buckets. */
static void twheel_table_resize(struct twheel_table *table, unsigned int bits)
{
	struct twheel_table_node **buckets;

	buckets = twheel_table_alloc(table, 1UL << bits);
	if (!buckets) {
		table->backoff = table->nr / 4 + 1;
		return;
	}
	table->old = table->buckets;
	table->old_bits = table->bits;
	table->migrated = 0;
	table->buckets = buckets;
	table->bits = bits;
	table->bytes += sizeof(*buckets) << bits;
}

/* After a failed resize, waits out the backoff before trying again. */
static void twheel_table_try_resize(struct twheel_table *table,
				    unsigned int bits)
{
	if (table->backoff)
		table->backoff--;
	else
		twheel_table_resize(table, bits);
}

/**
 * twheel_table_init() - set up an empty table
 * @table: the table
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int twheel_table_init(struct twheel_table *table)
{
	*table = (struct twheel_table){
		.bits = TWHEEL_TABLE_MIN_BITS,
		.gfp = GFP_KERNEL_ACCOUNT,
	};
	table->buckets = twheel_table_alloc(table,
					    1UL << TWHEEL_TABLE_MIN_BITS);
	if (!table->buckets)
		return -ENOMEM;
	table->bytes = sizeof(*table->buckets) << TWHEEL_TABLE_MIN_BITS;
	table->seed = get_random_u64();
	return 0;
}

/**
 * twheel_table_lookup() - find the entry of a key
 * @table: the table
 * @key: the key
 *
 * Return: the entry, or NULL if there is none.
 */
struct twheel_table_node *twheel_table_lookup(const struct twheel_table *table,
					      u64 key)
{
	struct twheel_table_node *node;

	node = *twheel_table_chain(table, twheel_table_hash(table, key));
	while (node && node->key != key)
		node = node->next;
	return node;
}

/**
 * twheel_table_lookup_link() - find the entry of a key, or where it would go
 * @table: the table
 * @key: the key
 *
 * For a caller that adds the key if it is not there: the chain is walked
 * once, and twheel_table_insert_link() adds the entry at its end.
 *
 * Return: the link that points to the entry of @key, or if there is none,
 * the NULL link at the end of the chain that would hold it; valid until the
 * table next changes.
 */
struct twheel_table_node **twheel_table_lookup_link(struct twheel_table *table,
						    u64 key)
{
	struct twheel_table_node **link;

	link = twheel_table_chain(table, twheel_table_hash(table, key));
	return twheel_table_lookup_from(link, key);
}

/**
 * twheel_table_lookup_from() - go on looking a key up from a link
 * @link: a link of the chain of @key: one twheel_table_lookup_link() or
 *	twheel_table_lookup_bulk_link() returned for it, with &twheel_table.gen
 *	unchanged since
 * @key: the key
 *
 * For a caller that looked a key up, added other entries since (which may
 * have gone after that link), and now adds the key if it is still not
 * there.
 *
 * Return: as twheel_table_lookup_link().
 */
struct twheel_table_node **twheel_table_lookup_from(struct twheel_table_node **link,
						    u64 key)
{
	while (*link && (*link)->key != key)
		link = &(*link)->next;
	return link;
}

/**
 * twheel_table_lookup_bulk() - find the entries of many keys
 * @table: the table
 * @n: keys
 * @key: the first key; key i is @stride bytes after key i - 1
 * @stride: bytes from one key to the next
 * @nodes: where the entry of each key goes, or NULL if it has none
 *
 * Same result as twheel_table_lookup() on each key, in three passes over
 * the keys: the first prefetches every key's bucket, the second loads the
 * buckets and prefetches the first entry of each chain, the third walks the
 * chains. The cache misses of different keys overlap instead of following
 * one another (make bench-table). The hash is computed twice rather than
 * kept: it is a few multiplies.
 */
void twheel_table_lookup_bulk(const struct twheel_table *table,
			      unsigned int n, const u64 *key, size_t stride,
			      struct twheel_table_node **nodes)
{
	const u64 *k;
	unsigned int i;

	for (i = 0, k = key; i < n; i++, k = twheel_table_next_key(k, stride))
		prefetch(twheel_table_chain(table,
					    twheel_table_hash(table, *k)));
	for (i = 0, k = key; i < n; i++, k = twheel_table_next_key(k, stride)) {
		nodes[i] = *twheel_table_chain(table,
					       twheel_table_hash(table, *k));
		prefetch(nodes[i]);
	}
	for (i = 0, k = key; i < n; i++, k = twheel_table_next_key(k, stride)) {
		struct twheel_table_node *node = nodes[i];

		while (node && node->key != *k)
			node = node->next;
		nodes[i] = node;
	}
}

/* Counts the entry just added, and resizes or goes on resizing. */
static void twheel_table_added(struct twheel_table *table)
{
	table->nr++;
	if (table->old)
		twheel_table_migrate(table);
	else if (table->nr > 1UL << table->bits &&
		 table->bits < TWHEEL_TABLE_MAX_BITS)
		twheel_table_try_resize(table, table->bits +
					(table->bits < TWHEEL_TABLE_QUAD_BITS ?
					 2 : 1));
}

/**
 * twheel_table_lookup_bulk_link() - find the entries of many keys, or where
 *	they would go
 * @table: the table
 * @n: keys
 * @key: the first key; key i is @stride bytes after key i - 1
 * @stride: bytes from one key to the next
 * @links: what twheel_table_lookup_link() would return for each key
 *
 * twheel_table_lookup_bulk() for a caller that adds the keys it does not
 * find (twheel_table_lookup_from(), twheel_table_insert_link()).
 */
void twheel_table_lookup_bulk_link(struct twheel_table *table, unsigned int n,
				   const u64 *key, size_t stride,
				   struct twheel_table_node ***links)
{
	const u64 *k;
	unsigned int i;

	for (i = 0, k = key; i < n; i++, k = twheel_table_next_key(k, stride)) {
		links[i] = twheel_table_chain(table,
					      twheel_table_hash(table, *k));
		prefetch(links[i]);
	}
	for (i = 0; i < n; i++)
		prefetch(*links[i]);
	for (i = 0, k = key; i < n; i++, k = twheel_table_next_key(k, stride))
		links[i] = twheel_table_lookup_from(links[i], *k);
}

/**
 * twheel_table_insert() - add an entry
 * @table: the table
 * @node: the entry, its key set and not in the table yet
 *
 * Never fails: a table that cannot grow holds longer chains.
 *
 * Context: process context (it may allocate, GFP_KERNEL).
 */
void twheel_table_insert(struct twheel_table *table,
			 struct twheel_table_node *node)
{
	struct twheel_table_node **chain;

	chain = twheel_table_chain(table, twheel_table_hash(table, node->key));
	node->next = *chain;
	*chain = node;
	twheel_table_added(table);
}

/**
 * twheel_table_insert_link() - add an entry where a lookup found room for it
 * @table: the table
 * @link: what twheel_table_lookup_link() returned for the entry's key, the
 *	table unchanged since
 * @node: the entry, its key set and not in the table yet
 *
 * Context: process context (it may allocate, GFP_KERNEL).
 */
void twheel_table_insert_link(struct twheel_table *table,
			      struct twheel_table_node **link,
			      struct twheel_table_node *node)
{
	node->next = NULL;
	*link = node;
	twheel_table_added(table);
}

/**
 * twheel_table_remove() - take an entry out
 * @table: the table
 * @node: an entry of @table
 *
 * Context: process context (it may allocate, GFP_KERNEL).
 */
void twheel_table_remove(struct twheel_table *table,
			 struct twheel_table_node *node)
{
	struct twheel_table_node **link;

	link = twheel_table_chain(table, twheel_table_hash(table, node->key));
	while (*link && *link != node)
		link = &(*link)->next;
	if (WARN_ON_ONCE(!*link))
		return;
	*link = node->next;
	node->next = NULL;
	table->nr--;
	table->gen++;

	if (table->old)
		twheel_table_migrate(table);
	else if (table->bits > TWHEEL_TABLE_MIN_BITS &&
		 table->nr < 1UL << (table->bits - 3))
		twheel_table_try_resize(table, table->bits - 1);
}

static void twheel_table_free_chains(struct twheel_table_node **chains,
				     unsigned long from, unsigned long to,
				     void (*free_fn)(struct twheel_table_node *))
{
	for (; from < to; from++) {
		struct twheel_table_node *node = chains[from];

		/* A million entries are freed with chances to reschedule. */
		if (!(from % 1024))
			cond_resched();
		while (node) {
			struct twheel_table_node *next = node->next;

			free_fn(node);
			node = next;
		}
	}
}

/**
 * twheel_table_destroy() - free a table and every entry in it
 * @table: the table
 * @free_fn: called once for every entry
 *
 * Context: process context.
 */
void twheel_table_destroy(struct twheel_table *table,
			  void (*free_fn)(struct twheel_table_node *node))
{
	if (table->old) {
		twheel_table_free_chains(table->old, table->migrated,
					 1UL << table->old_bits, free_fn);
		kvfree(table->old);
	}
	twheel_table_free_chains(table->buckets, 0, 1UL << table->bits,
				 free_fn);
	kvfree(table->buckets);
	table->buckets = NULL;
	table->old = NULL;
	table->nr = 0;
	table->bytes = 0;
}
