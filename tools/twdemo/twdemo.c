// SPDX-License-Identifier: GPL-2.0
/*
 * twdemo: a small simulated protocol daemon on /dev/twheel.
 *
 * N connections each arm an idle timeout and a retransmission timeout.
 * Then traffic arrives: some connections get packets (their idle timeout
 * is re-armed), some get their data acknowledged (the retransmission timer
 * is cancelled), some close (everything cancelled). The daemon then reaps
 * events with poll() and read() until every timer it still expects has
 * fired, and checks that each fired exactly once, never early, and that
 * nothing it cancelled or replaced came back.
 *
 * usage: twdemo [connections]   (default 10000)
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/twheel.h>

#define MS		1000000ULL
#define BATCH		1024

/* What the daemon expects of each kind of each connection. */
struct expect {
	uint64_t user_data;	/* the live arming, 0 if none */
	uint64_t deadline;
	unsigned int seen;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Apply a batch; exit on any error, the demo has none to expect. */
static void batch(int fd, unsigned long cmd, const void *entries,
		  unsigned int n, unsigned int size)
{
	struct twheel_batch b = {
		.size = sizeof(b), .entries = (uintptr_t)entries,
		.count = n, .entry_size = size,
	};

	if (n && ioctl(fd, cmd, &b) != (int)n) {
		fprintf(stderr, "twdemo: batch failed at entry %u: %s\n",
			b.applied, strerror(b.error ? -b.error : errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	unsigned int nconn = argc > 1 ? strtoul(argv[1], NULL, 0) : 10000;
	unsigned int i, n, pending = 0, fired = 0, bad = 0, late_n = 0;
	struct twheel_arm *arm;
	struct twheel_event ev[256];
	struct expect *ex;
	uint64_t *late, serial = 0, start;
	unsigned int armed = 0, cancelled = 0, rearmed = 0;
	int fd, tty = isatty(STDOUT_FILENO);

	fd = open("/dev/twheel", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "twdemo: /dev/twheel: %s%s\n", strerror(errno),
			errno == ENOENT ? " (is the module loaded?)" : "");
		return 1;
	}
	if (ioctl(fd, TWHEEL_IOC_HANDSHAKE, &hs)) {
		fprintf(stderr, "twdemo: handshake: %s\n", strerror(errno));
		return 1;
	}
	printf("twheel api %u: tick %llu ns, %u kinds, batches of up to %u, quota %llu timers per file\n",
	       hs.api_version, (unsigned long long)hs.tick_ns, hs.nr_kinds,
	       hs.max_batch, (unsigned long long)hs.quota_timers);

	ex = calloc((size_t)nconn * 2, sizeof(*ex));
	late = calloc((size_t)nconn * 2, sizeof(*late));
	arm = calloc(BATCH, sizeof(*arm));
	if (!ex || !late || !arm)
		return 1;
	srand(42);

	/* Every connection: idle in 200-700 ms, retransmission in 50-300 ms. */
	start = now_ns();
	for (i = 0, n = 0; i < nconn * 2; i++) {
		unsigned int kind = i & 1 ? TWHEEL_KIND_RETRANSMIT : TWHEEL_KIND_IDLE;
		uint64_t t = kind == TWHEEL_KIND_IDLE ?
			200 * MS + rand() % (500 * MS) : 50 * MS + rand() % (250 * MS);

		arm[n] = (struct twheel_arm){ .conn_id = i / 2, .kind = kind,
			.timeout_ns = start + t, .user_data = ++serial,
			.flags = TWHEEL_ARM_ABS };
		ex[i] = (struct expect){ .user_data = serial, .deadline = start + t };
		armed++;
		if (++n == BATCH || i == nconn * 2 - 1) {
			batch(fd, TWHEEL_IOC_ARM, arm, n, sizeof(*arm));
			n = 0;
		}
	}

	/* Traffic: packets re-arm idle timers, acks cancel retransmissions. */
	for (i = 0; i < nconn; i++) {
		int r = rand() % 10;
		struct twheel_cancel c = { .conn_id = i, .kind = TWHEEL_KIND_RETRANSMIT };

		if (r < 3) {		/* a packet: idle starts over */
			uint64_t d = now_ns() + 300 * MS + rand() % (300 * MS);

			arm[0] = (struct twheel_arm){ .conn_id = i,
				.kind = TWHEEL_KIND_IDLE, .timeout_ns = d,
				.user_data = ++serial, .flags = TWHEEL_ARM_ABS };
			batch(fd, TWHEEL_IOC_ARM, arm, 1, sizeof(*arm));
			ex[2 * i] = (struct expect){ .user_data = serial, .deadline = d };
			rearmed++;
		} else if (r < 8) {	/* an ack: no retransmission */
			batch(fd, TWHEEL_IOC_CANCEL, &c, 1, sizeof(c));
			ex[2 * i + 1].user_data = 0;
			cancelled++;
		} else if (r == 9) {	/* the connection closes */
			uint64_t id = i;

			batch(fd, TWHEEL_IOC_CANCEL_CONN, &id, 1, sizeof(id));
			ex[2 * i].user_data = 0;
			ex[2 * i + 1].user_data = 0;
			cancelled += 2;
		}
	}
	for (i = 0; i < nconn * 2; i++)
		pending += !!ex[i].user_data;

	/* Reap until everything expected has fired, or 5 s past the last. */
	while (fired < pending) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&p, 1, 5000) <= 0)
			break;
		got = read(fd, ev, sizeof(ev));
		if (got < 0)
			continue;
		for (i = 0; i < got / sizeof(ev[0]); i++) {
			struct twheel_event *e = &ev[i];
			unsigned int k = e->conn_id * 2 +
				(e->kind == TWHEEL_KIND_RETRANSMIT);

			if (e->conn_id >= nconn || ex[k].user_data != e->user_data ||
			    ex[k].seen++ || e->fired_ns < ex[k].deadline) {
				bad++;
				continue;
			}
			late[late_n++] = e->fired_ns - e->deadline_ns;
			fired++;
		}
		if (tty) {
			printf("\r  reaped %u of %u events", fired, pending);
			fflush(stdout);
		}
	}
	if (tty)
		printf("\n");

	qsort(late, late_n, sizeof(*late), cmp_u64);
	printf("connections %u: armed %u, re-armed %u, cancelled %u, fired %u in %.2f s\n",
	       nconn, armed, rearmed, cancelled, fired,
	       (now_ns() - start) / 1e9);
	if (late_n)
		printf("lateness: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
		       late[late_n / 2] / 1e6, late[late_n * 99 / 100] / 1e6,
		       late[late_n - 1] / 1e6);
	printf("exactly once: %s (%u expected, %u fired, %u wrong, early or repeated)\n",
	       fired == pending && !bad ? "yes" : "NO", pending, fired, bad);
	close(fd);
	return fired == pending && !bad ? 0 : 1;
}
