// SPDX-License-Identifier: GPL-2.0
/*
 * No call holds a CPU with preemption off for more than a small bounded
 * amount of work. A hostile caller keeps re-arming the earliest of a slot
 * of connections for later and asking TWHEEL_IOC_NEXT, which must then
 * look at the whole slot again; a SCHED_FIFO thread on the same CPU, waking
 * every millisecond, measures how late it gets the CPU. Its worst delay
 * must be a small part of what one NEXT takes: the search lets the CPU go.
 */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "twheel_test.h"

struct probe {
	volatile int stop;
	int ready;
	uint64_t worst_ns;
	unsigned int wakeups;
	int err;
};

/* On CPU 0 at real-time priority: sleep 1 ms, note how late it woke. */
static void *probe_run(void *arg)
{
	struct sched_param sp = { .sched_priority = 50 };
	struct probe *p = arg;

	if (tw_run_on(0) || sched_setscheduler(0, SCHED_FIFO, &sp)) {
		p->err = errno;
		__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&p->ready, 1, __ATOMIC_RELEASE);
	while (!p->stop) {
		uint64_t want = tw_now() + NSEC_PER_MSEC, late;
		struct timespec ts = {
			.tv_sec = want / NSEC_PER_SEC,
			.tv_nsec = want % NSEC_PER_SEC,
		};

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		late = tw_now() - want;
		if (late > p->worst_ns)
			p->worst_ns = late;
		p->wakeups++;
	}
	return NULL;
}

static int next_ns(int fd, uint64_t *ns)
{
	struct twheel_next next = { .size = sizeof(next) };

	if (ioctl(fd, TWHEEL_IOC_NEXT, &next))
		return -1;
	*ns = next.next_ns;
	return 0;
}

/* A fixture only for the time limit: the work is long under qemu. */
FIXTURE(latency) {
	int unused;
};

FIXTURE_SETUP(latency)
{
}

FIXTURE_TEARDOWN(latency)
{
}

TEST_F_TIMEOUT(latency, a_long_next_lets_a_realtime_thread_on_its_cpu_run, 180)
{
	unsigned int n = tw_debug_kernel() ? 150000 : 400000, rounds = 6;
	uint64_t base = tw_now() + 3600 * NSEC_PER_SEC, got, slowest = 0;
	struct probe p = { 0 };
	struct twheel_arm *a;
	struct twheel_batch b;
	pthread_t thread;
	int fd;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: the probe would share it with the test's own reads");
	fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, tw_run_on(0));
	ASSERT_EQ(0, tw_set_cpu(fd, 0));

	/* One slot: a nanosecond apart, an hour from now. */
	a = calloc(n, sizeof(*a));
	ASSERT_NE(NULL, a);
	for (unsigned int i = 0; i < n; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = base + i;
		a[i].flags = TWHEEL_ARM_ABS;
	}
	for (unsigned int i = 0; i < n; i += 65536) {
		unsigned int k = n - i < 65536 ? n - i : 65536;

		ASSERT_EQ((int)k, tw_arm_batch(fd, a + i, k, &b));
	}

	ASSERT_EQ(0, pthread_create(&thread, NULL, probe_run, &p));
	while (!__atomic_load_n(&p.ready, __ATOMIC_ACQUIRE))
		sched_yield();
	ASSERT_EQ(0, p.err);

	/* Re-arm the earliest for later: the next NEXT looks at them all. */
	for (unsigned int r = 0; r < rounds; r++) {
		uint64_t t0;

		ASSERT_EQ(1, tw_arm(fd, r, TWHEEL_KIND_IDLE,
				    base + 2 * 3600 * NSEC_PER_SEC, 0,
				    TWHEEL_ARM_ABS));
		t0 = tw_now();
		ASSERT_EQ(0, next_ns(fd, &got));
		if (tw_now() - t0 > slowest)
			slowest = tw_now() - t0;
		EXPECT_EQ(base + r + 1, got);
	}
	p.stop = 1;
	pthread_join(thread, NULL);
	free(a);
	close(fd);

	tw_report("NEXT over %u connections took up to %llu us; the probe woke %u times, at worst %llu us late\n",
		  n, (unsigned long long)slowest / 1000, p.wakeups,
		  (unsigned long long)p.worst_ns / 1000);
	/* Only a search long enough to see is a test of anything. */
	ASSERT_LT(2 * NSEC_PER_MSEC, slowest);
	EXPECT_LT(p.worst_ns * 4, slowest);
}

TEST_HARNESS_MAIN
