// SPDX-License-Identifier: GPL-2.0
/*
 * The KUnit suite twheel_wheel (kmod/twheel_wheel_test.c), built as a native
 * program: shim/kunit/test.h stands in for KUnit and prints TAP.
 */
#include <kunit/test.h>

#include "twheel_wheel_test.c"

int main(void)
{
	return kunit_shim_run(kunit_shim_suite);
}
