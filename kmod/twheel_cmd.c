// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the batch commands, and the one place that checks what user space
 * sends.
 */

/**
 * DOC: Batch commands
 *
 * Arm, cancel and cancel-connection are batch commands: a caller sends an
 * array of entries, which the module copies into kernel memory a chunk of
 * %TWHEEL_BATCH_CHUNK entries at a time and applies in order. One table,
 * &twheel_cmd_defs, indexed by &enum twheel_cmd, says for each command how
 * large an entry is, how small a caller's entry may be, how its entries are
 * checked (``prep``) and how they are applied (``apply``), as io_uring's
 * opdef.c does for its operations.
 *
 * Everything user space sends is checked here, before anything is applied
 * and before any lock is taken: the batch header (twheel_cmd_check_batch())
 * and every entry (the ``prep`` of its command). A ``prep`` stops at the
 * first invalid entry; the entries before it are applied, and the batch
 * reports the errno of the one that stopped it, like a short writev(). An
 * entry is read from kernel memory only, once it has been copied there, so
 * what is checked is what is applied. Absolute deadlines are on the
 * caller's CLOCK_MONOTONIC, which inside a time namespace is offset from
 * the host's (&struct twheel_clock). The errnos are the uapi's
 * (Documentation/uapi.rst): -EINVAL for an unknown kind, flag or non-zero
 * reserved field or a bad entry size, -ERANGE for a timeout beyond
 * &twheel_handshake.max_timeout_ns, -E2BIG for a batch beyond
 * %TWHEEL_MAX_BATCH entries.
 */

#include <linux/errno.h>
#include <linux/mm.h>

#include "twheel.h"
#include "twheel_cmd.h"
#include "twheel_ctx.h"

/*
 * Checks arm entries and computes their deadlines and ticks: an entry's
 * deadline is the time of the call plus its timeout, or with
 * %TWHEEL_ARM_ABS its timeout itself, on the caller's clock; a deadline
 * before the host's clock began is due at once.
 */
static unsigned int twheel_cmd_arm_prep(struct twheel_chunk *chunk,
					unsigned int n,
					const struct twheel_clock *clock,
					int *err)
{
	u64 max = twheel_max_timeout_ns, now = clock->now;
	u64 caller_now = now + clock->offset;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct twheel_arm *arm = &chunk->arm[i];
		u64 deadline;

		if (arm->kind >= TWHEEL_NR_KINDS ||
		    arm->flags & ~TWHEEL_ARM_ABS) {
			*err = -EINVAL;
			return i;
		}
		if (arm->flags & TWHEEL_ARM_ABS) {
			if (arm->timeout_ns > caller_now + max)
				goto range;
			deadline = arm->timeout_ns - clock->offset;
			/* Before the host's clock began: past, due now. */
			if (clock->offset > 0 && arm->timeout_ns < clock->offset)
				deadline = 0;
		} else {
			if (arm->timeout_ns > max)
				goto range;
			deadline = now + arm->timeout_ns;
		}
		chunk->deadline[i] = deadline;
		chunk->tick[i] = twheel_ns_to_tick_up(deadline);
	}
	return n;

range:
	*err = -ERANGE;
	return i;
}

static unsigned int twheel_cmd_cancel_prep(struct twheel_chunk *chunk,
					   unsigned int n,
					   const struct twheel_clock *clock,
					   int *err)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (chunk->cancel[i].kind >= TWHEEL_NR_KINDS ||
		    chunk->cancel[i].flags) {
			*err = -EINVAL;
			return i;
		}
	}
	return n;
}

/* Every connection id is valid: one that does not exist is not found. */
static unsigned int twheel_cmd_cancel_conn_prep(struct twheel_chunk *chunk,
						unsigned int n,
						const struct twheel_clock *clock,
						int *err)
{
	return n;
}

const struct twheel_cmd_def twheel_cmd_defs[TWHEEL_NR_CMDS] = {
	[TWHEEL_CMD_ARM] = {
		.entry_size	= sizeof(struct twheel_arm),
		.min_entry_size	= TWHEEL_ARM_SIZE_VER0,
		.prep		= twheel_cmd_arm_prep,
		.apply		= twheel_ctx_arm,
	},
	[TWHEEL_CMD_CANCEL] = {
		.entry_size	= sizeof(struct twheel_cancel),
		.min_entry_size	= TWHEEL_CANCEL_SIZE_VER0,
		.prep		= twheel_cmd_cancel_prep,
		.apply		= twheel_ctx_cancel,
	},
	[TWHEEL_CMD_CANCEL_CONN] = {
		.entry_size	= sizeof(u64),
		.min_entry_size	= TWHEEL_CANCEL_CONN_SIZE_VER0,
		.prep		= twheel_cmd_cancel_conn_prep,
		.apply		= twheel_ctx_cancel_conn,
	},
};

static_assert(sizeof(struct twheel_batch) == TWHEEL_BATCH_SIZE_VER0);
static_assert(sizeof(struct twheel_arm) == TWHEEL_ARM_SIZE_VER0);
static_assert(sizeof(struct twheel_cancel) == TWHEEL_CANCEL_SIZE_VER0);
static_assert(sizeof(u64) == TWHEEL_CANCEL_CONN_SIZE_VER0);

/**
 * twheel_cmd_check_batch() - check the header of a batch
 * @b: the header, in kernel memory
 * @cmd: the command of its entries
 *
 * Context: any.
 * Return: 0, -EINVAL for flags, a non-zero reserved field or an entry size
 * out of range, or -E2BIG for more than %TWHEEL_MAX_BATCH entries.
 */
int twheel_cmd_check_batch(const struct twheel_batch *b, enum twheel_cmd cmd)
{
	const struct twheel_cmd_def *def = &twheel_cmd_defs[cmd];

	if (b->flags || b->reserved0 || b->reserved[0] || b->reserved[1])
		return -EINVAL;
	if (b->entry_size < def->min_entry_size || b->entry_size > PAGE_SIZE)
		return -EINVAL;
	if (b->count > TWHEEL_MAX_BATCH)
		return -E2BIG;
	return 0;
}

/**
 * twheel_cmd_apply() - check and apply a chunk of entries
 * @ctx: the file, with the entries in @ctx->chunk
 * @cmd: their command
 * @n: how many
 * @clock: the time of the batch call
 * @res: the batch's outcome, to which this chunk adds; its error is set if
 *	an entry was invalid or could not be applied
 *
 * Context: process context, @ctx->mutex held.
 */
void twheel_cmd_apply(struct twheel_ctx *ctx, enum twheel_cmd cmd,
		      unsigned int n, const struct twheel_clock *clock,
		      struct twheel_batch_res *res)
{
	const struct twheel_cmd_def *def = &twheel_cmd_defs[cmd];
	unsigned int valid;
	int err = 0;

	lockdep_assert_held(&ctx->mutex);

	valid = def->prep(&ctx->chunk, n, clock, &err);
	if (valid)
		def->apply(ctx, valid, res);
	if (!res->error && valid < n)
		res->error = err;
}
