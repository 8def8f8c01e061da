/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: the connection table of one open file.
 */
#ifndef _TWHEEL_TABLE_H
#define _TWHEEL_TABLE_H

#include <linux/types.h>

/* The smallest table: 64 buckets, 512 bytes. */
#define TWHEEL_TABLE_MIN_BITS	6
/* The largest: 2^28 buckets, far above any quota the module accepts. */
#define TWHEEL_TABLE_MAX_BITS	28
/*
 * Below 2^14 buckets (128 KiB) the table grows four times larger at once,
 * above it twice: a file's first connections are moved a third as often,
 * for at most 128 KiB of buckets more.
 */
#define TWHEEL_TABLE_QUAD_BITS	14
/*
 * Buckets of the old table moved by each insert or remove while the table
 * grows, and while it shrinks (when most of them are empty).
 */
#define TWHEEL_TABLE_MIGRATE		4
#define TWHEEL_TABLE_MIGRATE_SHRINK	16
/*
 * From an old table of 2^13 buckets up, where the entries moved are no
 * longer in a core's L2 cache, each insert or remove that moves buckets
 * also warms the entries of the buckets it will move %TWHEEL_TABLE_AHEAD
 * calls later.
 */
#define TWHEEL_TABLE_PREFETCH_BITS	13
#define TWHEEL_TABLE_AHEAD		4

/**
 * struct twheel_table_node - an entry of a &struct twheel_table
 * @next: the next entry of the same bucket
 * @key: the entry's key, unique in its table
 */
struct twheel_table_node {
	struct twheel_table_node *next;
	u64 key;
};

/**
 * struct twheel_table - a hash table of nodes keyed by a u64
 * @buckets: the table, 1 << @bits chains
 * @old: while resizing, the table being emptied into @buckets; else NULL
 * @migrated: buckets of @old already moved (those below this index)
 * @nr: entries
 * @backoff: after a failed resize, resizes to skip before trying again
 * @gen: changes whenever an entry leaves its chain (a remove, a resize
 *	moving buckets): the links a lookup returned before may be stale
 * @seed: per-table secret, mixed into every hash
 * @bytes: memory held by @buckets and @old
 * @bits: log2 of the number of buckets
 * @old_bits: log2 of the size of @old
 * @gfp: how a resize allocates: %GFP_KERNEL_ACCOUNT, or without sleeping
 *	when the owner may not (a failed resize only waits for a later one)
 *
 * Not locked: the owner serialises every call (twheel: the file's mutex).
 */
struct twheel_table {
	struct twheel_table_node **buckets;
	struct twheel_table_node **old;
	unsigned long migrated;
	unsigned long nr;
	unsigned long backoff;
	unsigned long gen;
	u64 seed;
	size_t bytes;
	u8 bits;
	u8 old_bits;
	gfp_t gfp;
};

/* The key @stride bytes after @key, for twheel_table_lookup_bulk()'s callers. */
static inline const u64 *twheel_table_next_key(const u64 *key, size_t stride)
{
	return (const u64 *)((const char *)key + stride);
}

int twheel_table_init(struct twheel_table *table);
struct twheel_table_node *twheel_table_lookup(const struct twheel_table *table,
					      u64 key);
void twheel_table_lookup_bulk(const struct twheel_table *table,
			      unsigned int n, const u64 *key, size_t stride,
			      struct twheel_table_node **nodes);
struct twheel_table_node **twheel_table_lookup_link(struct twheel_table *table,
						    u64 key);
struct twheel_table_node **twheel_table_lookup_from(struct twheel_table_node **link,
						    u64 key);
void twheel_table_lookup_bulk_link(struct twheel_table *table, unsigned int n,
				   const u64 *key, size_t stride,
				   struct twheel_table_node ***links);
void twheel_table_insert(struct twheel_table *table,
			 struct twheel_table_node *node);
void twheel_table_insert_link(struct twheel_table *table,
			      struct twheel_table_node **link,
			      struct twheel_table_node *node);
void twheel_table_remove(struct twheel_table *table,
			 struct twheel_table_node *node);
void twheel_table_destroy(struct twheel_table *table,
			  void (*free_fn)(struct twheel_table_node *node));

#endif /* _TWHEEL_TABLE_H */
