/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: private declarations shared by the module's files.
 */
#ifndef _TWHEEL_H
#define _TWHEEL_H

#include <linux/miscdevice.h>
#include <linux/types.h>

/**
 * struct twheel_ctx - one open file of /dev/twheel
 * @cpu: the CPU whose wheel serves this context
 */
struct twheel_ctx {
	unsigned int cpu;
};

extern struct miscdevice twheel_miscdev;

#endif /* _TWHEEL_H */
