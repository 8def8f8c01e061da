// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: module entry and exit.
 */

#include <linux/miscdevice.h>
#include <linux/module.h>

#include "twheel.h"

static int __init twheel_init(void)
{
	int ret;

	ret = misc_register(&twheel_miscdev);
	if (ret)
		goto err_misc;

	return 0;

err_misc:
	return ret;
}

static void __exit twheel_exit(void)
{
	misc_deregister(&twheel_miscdev);
}

module_init(twheel_init);
module_exit(twheel_exit);

MODULE_DESCRIPTION("Timing-wheel timer service for user-space protocol daemons");
MODULE_LICENSE("GPL");
