/* SPDX-License-Identifier: GPL-2.0 */
/* A user-space stand-in for <linux/random.h>: see twheel_compat.h. */
#include "../twheel_compat.h"
