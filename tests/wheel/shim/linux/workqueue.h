/* SPDX-License-Identifier: GPL-2.0 */
/* A user-space stand-in for <linux/workqueue.h>: see twheel_kernel.h. */
#include "../twheel_kernel.h"
