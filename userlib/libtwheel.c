// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libtwheel: opening the device and the handshake.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libtwheel.h"

struct twheel {
	int fd;
	struct twheel_handshake info;
};

#define TWHEEL_OPEN_FLAGS	TWHEEL_OPEN_NONBLOCK

/* Run an ioctl and return its result as 0 or -errno, keeping errno. */
static int twheel_ioctl(int fd, unsigned long cmd, void *arg)
{
	int saved = errno, ret;

	ret = ioctl(fd, cmd, arg) < 0 ? -errno : 0;
	errno = saved;
	return ret;
}

int twheel_open(struct twheel **twp, unsigned int flags, int cpu)
{
	int saved = errno, oflags = O_RDWR | O_CLOEXEC, ret;
	struct twheel *tw;

	if (!twp || (flags & ~TWHEEL_OPEN_FLAGS) || cpu < TWHEEL_CPU_ANY)
		return -EINVAL;
	if (flags & TWHEEL_OPEN_NONBLOCK)
		oflags |= O_NONBLOCK;

	tw = calloc(1, sizeof(*tw));
	if (!tw)
		return -ENOMEM;
	tw->fd = open("/dev/twheel", oflags);
	if (tw->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	tw->info.size = sizeof(tw->info);
	ret = twheel_ioctl(tw->fd, TWHEEL_IOC_HANDSHAKE, &tw->info);
	if (ret)
		goto err_close;
	/* A module older than this library's uapi is refused, not guessed at. */
	if (tw->info.api_version < TWHEEL_API_VERSION) {
		ret = -EPROTO;
		goto err_close;
	}
	errno = saved;
	*twp = tw;
	return 0;

err_close:
	close(tw->fd);
err_free:
	free(tw);
	errno = saved;
	return ret;
}

void twheel_close(struct twheel *tw)
{
	int saved = errno;

	if (!tw)
		return;
	close(tw->fd);
	free(tw);
	errno = saved;
}

int twheel_fd(const struct twheel *tw)
{
	return tw ? tw->fd : -EINVAL;
}

int twheel_get_info(struct twheel *tw, struct twheel_handshake *info)
{
	if (!tw || !info)
		return -EINVAL;
	memcpy(info, &tw->info, sizeof(*info));
	return 0;
}
