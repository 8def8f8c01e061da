// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_SET_CPU: a file can be served by another online CPU; its
 * timers move with it and fire on time.
 */

#include <sched.h>

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

static int set_cpu(int fd, unsigned int cpu)
{
	struct twheel_set_cpu arg = { .size = sizeof(arg), .cpu = cpu };

	return ioctl(fd, TWHEEL_IOC_SET_CPU, &arg);
}

static int file_cpu(int fd)
{
	struct twheel_stats st;

	if (tw_stats(fd, &st))
		return -1;
	return st.cpu;
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

TEST_F(set_cpu, each_online_cpu_can_serve_the_file_and_its_timers_follow)
{
	uint64_t t0 = tw_now();
	struct twheel_event ev[64];
	unsigned int got = 0, n = 0;

	if (tw_setup_skipped(_metadata))
		return;

	for (int cpu = 0; cpu < self->ncpus; cpu++) {
		if (set_cpu(self->fd, cpu))
			continue;
		EXPECT_EQ(cpu, file_cpu(self->fd));
		/* Armed here, fires wherever the file is served later. */
		ASSERT_EQ(0, tw_arm(self->fd, cpu, TWHEEL_KIND_IDLE,
				    (50 + 10 * cpu) * NSEC_PER_MSEC, cpu, 0));
		n++;
	}
	ASSERT_LE(1, n);
	ASSERT_EQ(0, set_cpu(self->fd, 0));
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
	struct twheel_batch b;
	unsigned int got;

	if (tw_setup_skipped(_metadata))
		return;

	if (self->ncpus < 2)
		SKIP(return, "one CPU only");
	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < N; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = (i % 300) * NSEC_PER_MSEC;
		a[i].user_data = i;
	}
	ASSERT_EQ(N, tw_arm_batch(self->fd, a, N, &b));
	for (unsigned int i = 0; i < 20; i++)
		ASSERT_EQ(0, set_cpu(self->fd, i % 2));
	got = tw_read_n(self->fd, ev, N + 1, 5000);
	ASSERT_EQ(N, got);
	for (unsigned int i = 0; i < got; i++) {
		ASSERT_EQ(0, seen[ev[i].user_data]);
		seen[ev[i].user_data] = 1;
		ASSERT_LE(ev[i].deadline_ns, ev[i].fired_ns);
	}
}

TEST_F(set_cpu, a_cpu_that_does_not_exist_or_bad_input_is_einval)
{
	struct twheel_set_cpu arg = { .size = sizeof(arg) };

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(-1, set_cpu(self->fd, 4096));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_cpu(self->fd, UINT32_MAX));
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
