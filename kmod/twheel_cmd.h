/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: the batch commands, and the one place that checks what user space
 * sends. The theory of operation is the DOC block at the top of twheel_cmd.c.
 */
#ifndef _TWHEEL_CMD_H
#define _TWHEEL_CMD_H

#include <linux/types.h>

#include <linux/twheel.h>

struct twheel_batch_res;
struct twheel_chunk;
struct twheel_clock;
struct twheel_ctx;

/* The batch commands, indexing &twheel_cmd_defs. */
enum twheel_cmd {
	TWHEEL_CMD_ARM,
	TWHEEL_CMD_CANCEL,
	TWHEEL_CMD_CANCEL_CONN,
	TWHEEL_NR_CMDS
};

/**
 * struct twheel_cmd_def - how the entries of one batch command are applied
 * @entry_size: the size of an entry in the kernel
 * @min_entry_size: the smallest entry a caller may send (its first version)
 * @prep: checks the first @n entries of @chunk and computes what @apply
 *	needs, without a lock, at the time @clock of the call; returns the
 *	number of leading valid entries and, if that is fewer than @n, puts
 *	the next one's errno in @err
 * @apply: applies the first @n entries of the file's chunk, all valid
 */
struct twheel_cmd_def {
	size_t entry_size;
	size_t min_entry_size;
	unsigned int (*prep)(struct twheel_chunk *chunk, unsigned int n,
			     const struct twheel_clock *clock, int *err);
	void (*apply)(struct twheel_ctx *ctx, unsigned int n,
		      struct twheel_batch_res *res);
};

extern const struct twheel_cmd_def twheel_cmd_defs[TWHEEL_NR_CMDS];

int twheel_cmd_check_batch(const struct twheel_batch *b, enum twheel_cmd cmd);
void twheel_cmd_apply(struct twheel_ctx *ctx, enum twheel_cmd cmd,
		      unsigned int n, const struct twheel_clock *clock,
		      struct twheel_batch_res *res);

#endif /* _TWHEEL_CMD_H */
