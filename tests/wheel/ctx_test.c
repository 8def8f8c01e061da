// SPDX-License-Identifier: GPL-2.0
/*
 * The KUnit suite twheel_ctx (kmod/twheel_ctx_test.c), built as a native
 * program: shim/kunit/test.h stands in for KUnit and prints TAP, and
 * shim/twheel_kernel.h for the locks, lists and allocators of the file
 * context.
 */
#include <kunit/test.h>

#include "twheel_compat.h"

/* Fixed, so that a failure repeats; the kernel's is random per table. */
static u64 get_random_u64(void)
{
	return 0x13198a2e03707344ULL;
}

#include "twheel_ctx_test.c"

int main(void)
{
	return kunit_shim_run(kunit_shim_suite);
}
