// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_SET_CPU: a file can be served by another online CPU the caller
 * may run on; its timers move with it and fire on time. Unpinned, a file
 * follows the CPU of a reader that is about to wait for it.
 */

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>

#include "twheel_test.h"

FIXTURE(set_cpu) {
	int fd;
	int ncpus;
};

FIXTURE_SETUP(set_cpu)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (!(hs.features & TWHEEL_FEAT_SET_CPU))
		SKIP(return, "TWHEEL_IOC_SET_CPU is not offered");
	self->ncpus = sysconf(_SC_NPROCESSORS_CONF);
}

FIXTURE_TEARDOWN(set_cpu)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Arms @n connections, one timer each, due over the next 300 ms. */
static int arm_over_300ms(int fd, struct twheel_arm *a, unsigned int n)
{
	struct twheel_batch b;

	memset(a, 0, n * sizeof(*a));
	for (unsigned int i = 0; i < n; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = (i % 300) * NSEC_PER_MSEC;
		a[i].user_data = i;
	}
	return tw_arm_batch(fd, a, n, &b);
}

static int file_cpu(int fd)
{
	struct twheel_stats st;

	if (tw_stats(fd, &st))
		return -1;
	return st.cpu;
}

/* Waits up to about 5 s for @fd to be served by @cpu. */
static int wait_file_cpu(int fd, int cpu)
{
	for (int i = 0; i < 5000; i++) {
		if (file_cpu(fd) == cpu)
			return 0;
		usleep(1000);
	}
	return -1;
}

TEST_F(set_cpu, a_file_starts_on_the_cpu_it_was_opened_on)
{
	cpu_set_t set;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	fd = tw_open_or_skip(O_RDWR);
	EXPECT_EQ(0, file_cpu(fd));
	close(fd);
}

TEST_F(set_cpu, each_cpu_the_caller_may_use_can_serve_the_file_and_its_timers_follow)
{
	uint64_t t0 = tw_now();
	struct twheel_event ev[64];
	unsigned int got = 0, n = 0;
	cpu_set_t allowed;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	for (int cpu = 0; cpu < self->ncpus; cpu++) {
		int ret = tw_set_cpu(self->fd, cpu);

		if (!CPU_ISSET(cpu, &allowed)) {
			/* Offline CPUs are in no task's mask either. */
			EXPECT_EQ(-1, ret);
			continue;
		}
		ASSERT_EQ(0, ret);
		EXPECT_EQ(cpu, file_cpu(self->fd));
		/* Armed here, fires wherever the file is served later. */
		ASSERT_EQ(0, tw_arm(self->fd, cpu, TWHEEL_KIND_IDLE,
				    (50 + 10 * cpu) * NSEC_PER_MSEC, cpu, 0));
		n++;
	}
	ASSERT_LE(1, n);
	ASSERT_EQ(0, tw_set_cpu(self->fd, 0));
	got = tw_read_n(self->fd, ev, n, 5000);
	ASSERT_EQ(n, got);
	for (unsigned int i = 0; i < got; i++) {
		EXPECT_LE(t0 + 50 * NSEC_PER_MSEC, ev[i].deadline_ns);
		EXPECT_LE(ev[i].deadline_ns, ev[i].fired_ns);
	}
}

TEST_F(set_cpu, moving_a_file_with_thousands_of_timers_loses_none)
{
	enum { N = 5000 };
	static struct twheel_arm a[N];
	static struct twheel_event ev[N + 1];
	static unsigned char seen[N];
	unsigned int got;

	if (tw_setup_skipped(_metadata))
		return;

	if (self->ncpus < 2)
		SKIP(return, "one CPU only");
	ASSERT_EQ(N, arm_over_300ms(self->fd, a, N));
	for (unsigned int i = 0; i < 20; i++)
		ASSERT_EQ(0, tw_set_cpu(self->fd, i % 2));
	got = tw_read_n(self->fd, ev, N + 1, 5000);
	ASSERT_EQ(N, got);
	for (unsigned int i = 0; i < got; i++) {
		ASSERT_EQ(0, seen[ev[i].user_data]);
		seen[ev[i].user_data] = 1;
		ASSERT_LE(ev[i].deadline_ns, ev[i].fired_ns);
	}
}

/*
 * Files that follow their reader: opened on CPU 0, unpinned, with a second
 * CPU to follow a reader to.
 */
FIXTURE(follow) {
	int fd;
};

FIXTURE_SETUP(follow)
{
	self->fd = -1;
	if (sysconf(_SC_NPROCESSORS_CONF) < 2)
		SKIP(return, "one CPU only");
	ASSERT_EQ(0, tw_run_on(0));
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, file_cpu(self->fd));
}

FIXTURE_TEARDOWN(follow)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(follow, a_poller_that_finds_nothing_brings_the_file_to_its_cpu)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	long long moves = tw_counter("file_moves");

	if (tw_setup_skipped(_metadata))
		return;

	for (int i = 1; i <= 4; i++) {
		ASSERT_EQ(0, tw_run_on(i % 2));
		ASSERT_EQ(0, poll(&pfd, 1, 0));
		EXPECT_EQ(i % 2, file_cpu(self->fd));
	}
	if (moves != TW_NO_COUNTER)
		EXPECT_LE(moves + 4, tw_counter("file_moves"));
}

TEST_F(follow, epoll_brings_the_file_to_the_cpu_of_its_waiter)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct twheel_event ev;
	int ep;

	if (tw_setup_skipped(_metadata))
		return;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	/* Adding the file polls it once, from CPU 0. */
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ee));
	EXPECT_EQ(0, file_cpu(self->fd));
	/* An event wakes the waiter; re-checking it finds nothing left. */
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 1, 0));
	ASSERT_EQ(0, tw_run_on(1));
	ASSERT_EQ(1, epoll_wait(ep, &ee, 1, 5000));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 0));
	ASSERT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	EXPECT_EQ(1, file_cpu(self->fd));
	close(ep);
}

TEST_F(follow, a_blocking_reader_brings_the_file_to_its_cpu)
{
	struct tw_blocked_read r = { .fd = self->fd, .cpu = 1 };
	pthread_t t;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, pthread_create(&t, NULL, tw_blocking_read, &r));
	/* Nothing is armed: the reader blocks, and moves the file first. */
	EXPECT_EQ(0, wait_file_cpu(r.fd, 1));
	ASSERT_EQ(0, tw_arm(r.fd, 7, TWHEEL_KIND_IDLE, 0, 77, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(sizeof(r.ev), r.ret);
	EXPECT_EQ(7, r.ev.conn_id);
	EXPECT_EQ(77, r.ev.user_data);
}

TEST_F(follow, a_pinned_file_stays_where_it_was_put)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	if (tw_setup_skipped(_metadata))
		return;

	/* Pinned from CPU 0, where the caller may run, then polled from 1. */
	ASSERT_EQ(0, tw_set_cpu(self->fd, 0));
	ASSERT_EQ(0, tw_run_on(1));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, file_cpu(self->fd));
}

TEST_F(follow, a_poller_with_events_to_read_leaves_the_file_where_it_is)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 1, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(0, tw_run_on(1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(0, file_cpu(self->fd));
}

TEST_F(follow, a_reader_that_changes_cpu_as_it_reads_loses_no_event)
{
	enum { N = 5000 };
	static struct twheel_arm a[N];
	static struct twheel_event ev[N + 1];
	static unsigned char seen[N];
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	unsigned int got = 0, reads = 0, waits = 0;
	int n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(N, arm_over_300ms(self->fd, a, N));
	while (got <= N) {
		int cpu = reads++ % 2;

		ASSERT_EQ(0, tw_run_on(cpu));
		/* Finding nothing, the reader moves the file to its CPU. */
		n = poll(&pfd, 1, 0);
		ASSERT_LE(0, n);
		if (!n) {
			waits++;
			ASSERT_EQ(cpu, file_cpu(self->fd));
		}
		n = tw_read_events(self->fd, ev + got, 64, 5000);
		ASSERT_LE(0, n);
		if (!n)
			break;
		got += n;
	}
	ASSERT_EQ(N, got);
	for (unsigned int i = 0; i < got; i++) {
		ASSERT_EQ(0, seen[ev[i].user_data]);
		seen[ev[i].user_data] = 1;
		ASSERT_LE(ev[i].deadline_ns, ev[i].fired_ns);
	}
	/* The last read found nothing more, on the CPU it ran on. */
	EXPECT_EQ((reads - 1) % 2, file_cpu(self->fd));
	tw_report("%u reads from alternating CPUs, %u found nothing and moved the file\n",
		  reads, waits);
}

TEST_F(set_cpu, a_cpu_outside_the_callers_affinity_is_eperm)
{
	if (tw_setup_skipped(_metadata))
		return;
	if (tw_set_cpu(self->fd, 1))
		SKIP(return, "no CPU 1 to use");

	/* Confined to CPU 0: its expiry work may not go elsewhere. */
	ASSERT_EQ(0, tw_run_on(0));
	EXPECT_EQ(-1, tw_set_cpu(self->fd, 1));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(1, file_cpu(self->fd));
	EXPECT_EQ(0, tw_set_cpu(self->fd, 0));
	EXPECT_EQ(0, file_cpu(self->fd));
}

TEST_F(set_cpu, a_cpu_that_does_not_exist_or_bad_input_is_einval)
{
	struct twheel_set_cpu arg = { .size = sizeof(arg) };

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(-1, tw_set_cpu(self->fd, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, tw_set_cpu(self->fd, UINT32_MAX));
	EXPECT_EQ(EINVAL, errno);
	arg.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_SET_CPU, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.flags = 0;
	arg.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_SET_CPU, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.reserved = 0;
	arg.size = 8;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_SET_CPU, &arg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_SET_CPU, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
