/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space stand-in for the allocators of <linux/slab.h>: those of
 * twheel_kernel.h, and the kv*() ones the connection table uses. Never
 * fails by itself.
 */
#ifndef _TWHEEL_SLAB_SHIM_H
#define _TWHEEL_SLAB_SHIM_H

#include <stdlib.h>

#include "../twheel_kernel.h"

static inline void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(n, size);
}

static inline void *kvzalloc(size_t size, gfp_t gfp)
{
	(void)gfp;
	return calloc(1, size);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif /* _TWHEEL_SLAB_SHIM_H */
