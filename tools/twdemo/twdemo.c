// SPDX-License-Identifier: GPL-2.0
/*
 * twdemo: show what /dev/twheel offers.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/twheel.h>

int main(void)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	int fd;

	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "twdemo: /dev/twheel: %s%s\n", strerror(errno),
			errno == ENOENT ? " (is the module loaded?)" : "");
		return 1;
	}
	if (ioctl(fd, TWHEEL_IOC_HANDSHAKE, &hs)) {
		fprintf(stderr, "twdemo: handshake: %s\n", strerror(errno));
		return 1;
	}
	printf("twheel api version %u, features %#llx\n", hs.api_version,
	       (unsigned long long)hs.features);
	printf("  tick              %llu ns\n", (unsigned long long)hs.tick_ns);
	printf("  longest timeout   %llu ns\n",
	       (unsigned long long)hs.max_timeout_ns);
	printf("  timer kinds       %u\n", hs.nr_kinds);
	printf("  batch limit       %u entries\n", hs.max_batch);
	printf("  quota per file    %llu timers\n",
	       (unsigned long long)hs.quota_timers);
	printf("  system-wide cap   %llu timers\n",
	       (unsigned long long)hs.max_timers);
	printf("  served by CPU     %u\n", hs.cpu);
	printf("  event record      %u bytes\n", hs.event_size);
	close(fd);
	return 0;
}
