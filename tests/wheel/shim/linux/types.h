/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space stand-in for <linux/types.h>: the uapi types (__u64 and
 * friends) from the system's header, the kernel's from twheel_compat.h.
 */
#include_next <linux/types.h>
#include "../twheel_compat.h"
