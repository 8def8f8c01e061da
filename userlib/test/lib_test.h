/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libtwheel tests share, on top of the selftests' helpers
 * (twheel_test.h: clock, module parameters, raw ioctls to cross-check the
 * library against the device).
 */
#ifndef LIB_TEST_H
#define LIB_TEST_H

#include <errno.h>
#include <stdlib.h>

#include "libtwheel.h"
#include "twheel_test.h"

#define QUOTA_PARAM	"/sys/module/twheel/parameters/quota"

/* A value errno never has: a test sets it and checks it survived. */
#define ERRNO_CANARY	4321

/*
 * Opens a context through the library; SKIPs the test when the module is
 * not loaded. The tests that use it are about the ioctl path, so it opens
 * without shared rings (rings_test.c has the ring path).
 */
#define tl_open_or_skip(flags) ({					\
	struct twheel *__tw = NULL;					\
	int __ret = twheel_open(&__tw, (flags) | TWHEEL_OPEN_NO_RINGS,	\
				TWHEEL_CPU_ANY);			\
	if (__ret == -ENOENT)						\
		SKIP(return, "/dev/twheel is missing: module not loaded"); \
	ASSERT_EQ(0, __ret);						\
	ASSERT_EQ(0, twheel_has_rings(__tw));				\
	__tw;								\
})

/*
 * Opens a context with shared rings of @sq and @ev entries (0: the
 * library's default); SKIPs the test when the module is not loaded or
 * offers no rings.
 */
#define tl_open_rings_or_skip(flags, sq, ev) ({				\
	struct twheel *__tw = NULL;					\
	int __ret = twheel_open_rings(&__tw, (flags), TWHEEL_CPU_ANY,	\
				      (sq), (ev));			\
	if (__ret == -ENOENT)						\
		SKIP(return, "/dev/twheel is missing: module not loaded"); \
	ASSERT_EQ(0, __ret);						\
	if (!twheel_has_rings(__tw)) {					\
		twheel_close(__tw);					\
		SKIP(return, "the module offers no shared rings");	\
	}								\
	__tw;								\
})

/* The device's tick, for bounds that are whole ticks. */
static inline uint64_t tl_tick_ns(struct twheel *tw)
{
	struct twheel_handshake info;

	if (twheel_get_info(tw, &info))
		return 0;
	return info.tick_ns;
}

#endif /* LIB_TEST_H */
