// SPDX-License-Identifier: GPL-2.0
/*
 * The KUnit suite twheel_table (kmod/twheel_table_test.c), built as a native
 * program: shim/kunit/test.h stands in for KUnit and prints TAP.
 */
#include <kunit/test.h>

#include "twheel_compat.h"

/* Fixed, so that a failure repeats; the kernel's is random per table. */
static u64 get_random_u64(void)
{
	return 0x243f6a8885a308d3ULL;
}

#include "twheel_table_test.c"

int main(void)
{
	return kunit_shim_run(kunit_shim_suite);
}
