/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: what a file context calls of twheel_ring.c, for the builds of
 * the context without it (the KUnit suite, the in-kernel benchmark), whose
 * files never have rings. Included once, by the file that builds them.
 */
#ifndef _TWHEEL_RING_NONE_H
#define _TWHEEL_RING_NONE_H

#include "twheel_ctx.h"

__poll_t __twheel_ring_post(struct twheel_ctx *ctx)
{
	return EPOLLIN | EPOLLRDNORM;
}

void __twheel_ring_wake(struct twheel_ctx *ctx, __poll_t key)
{
}

void __twheel_ring_sync_queued(struct twheel_ctx *ctx)
{
}

void twheel_ring_unlock(struct twheel_ctx *ctx)
{
	mutex_unlock(&ctx->mutex);
}

void twheel_ring_uncharge(struct twheel_ctx *ctx)
{
}

void twheel_ring_free(struct twheel_ctx *ctx)
{
}

#endif /* _TWHEEL_RING_NONE_H */
