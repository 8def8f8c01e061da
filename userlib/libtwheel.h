/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libtwheel: the C library over /dev/twheel.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure, and leaves errno alone.
 */
#ifndef LIBTWHEEL_H
#define LIBTWHEEL_H

#include <linux/twheel.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open /dev/twheel: one isolated timer context. */
struct twheel;

/* Flags for twheel_open(). */
#define TWHEEL_OPEN_NONBLOCK	(1U << 0)	/* reads never block */

int twheel_open(struct twheel **twp, unsigned int flags);
void twheel_close(struct twheel *tw);
int twheel_fd(const struct twheel *tw);
int twheel_get_info(struct twheel *tw, struct twheel_handshake *info);

#ifdef __cplusplus
}
#endif

#endif /* LIBTWHEEL_H */
