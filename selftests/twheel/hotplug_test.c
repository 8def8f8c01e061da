// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug: when the CPU serving a file goes offline, the file moves to
 * a live CPU and its timers still fire, each once and never early; when the
 * CPU comes back, so does its thread.
 */

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"
#include "ring_tw.h"

#define CPU1_ONLINE "/sys/devices/system/cpu/cpu1/online"

static int write_online(int on)
{
	int fd = open(CPU1_ONLINE, O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, on ? "1" : "0", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

/* Is the thread "twheel/1" there, and not parked? */
static int thread1_state(char *state)
{
	char path[300], line[128];
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int found = 0;

	if (!proc)
		return 0;
	while (!found && (de = readdir(proc))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		found = fgets(line, sizeof(line), f) && !strcmp(line, "twheel/1\n");
		fclose(f);
		if (!found)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (f) {
			/* "pid (comm) S ..." */
			if (fscanf(f, "%*d (%*[^)]) %c", state) != 1)
				*state = '?';
			fclose(f);
		}
	}
	closedir(proc);
	return found;
}

FIXTURE(hotplug) {
	int fd;
};

FIXTURE_SETUP(hotplug)
{
	self->fd = -1;
	if (access(CPU1_ONLINE, W_OK))
		SKIP(return, "cpu1 cannot be taken offline here");
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, tw_set_cpu(self->fd, 1));
}

FIXTURE_TEARDOWN(hotplug)
{
	write_online(1);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(hotplug, a_file_moves_off_a_cpu_going_offline_and_its_timers_fire)
{
	struct twheel_stats st;
	struct twheel_event ev[3];
	uint64_t t0 = tw_now();

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 2 * NSEC_PER_SEC, 1, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, 0, 2, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(0, write_online(0));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_NE(1, st.cpu);
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.queued);
	/* A CPU that is offline cannot be chosen. */
	EXPECT_EQ(-1, tw_set_cpu(self->fd, 1));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(2, tw_read_n(self->fd, ev, 2, 5000));
	EXPECT_LE(t0 + 2 * NSEC_PER_SEC, ev[1].deadline_ns);
	EXPECT_LE(ev[1].deadline_ns, ev[1].fired_ns);
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 3, 100));
}

TEST_F(hotplug, a_file_that_follows_its_reader_leaves_and_returns_with_the_cpu)
{
	struct pollfd pfd = { .events = POLLIN };
	struct twheel_stats st;
	struct twheel_event ev;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	/* Unpinned, unlike the fixture's file. */
	ASSERT_EQ(0, tw_run_on(1));
	fd = tw_open_or_skip(O_RDWR);
	pfd.fd = fd;
	ASSERT_EQ(0, tw_stats(fd, &st));
	ASSERT_EQ(1, st.cpu);
	ASSERT_EQ(0, tw_arm(fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 1, 0));

	/* Offline, CPU 1 sends the file elsewhere; this thread waits on 0. */
	ASSERT_EQ(0, tw_run_on(0));
	ASSERT_EQ(0, write_online(0));
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_NE(1, st.cpu);
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_NE(1, st.cpu);

	/* Back online, a reader waiting there brings the file back. */
	ASSERT_EQ(0, write_online(1));
	ASSERT_EQ(0, tw_run_on(1));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_EQ(1, st.cpu);
	EXPECT_EQ(1, st.armed);
	/* The timer armed before it all is still there, and CPU 1 fires. */
	EXPECT_EQ(1, tw_cancel(fd, 1, TWHEEL_KIND_IDLE));
	ASSERT_EQ(0, tw_arm(fd, 2, TWHEEL_KIND_IDLE, 0, 2, 0));
	ASSERT_EQ(1, tw_read_n(fd, &ev, 1, 5000));
	EXPECT_LE(ev.deadline_ns, ev.fired_ns);
	EXPECT_EQ(2, ev.user_data);
	close(fd);
}

TEST_F(hotplug, the_thread_parks_with_its_cpu_and_comes_back_with_it)
{
	struct twheel_event ev;
	char state = 0;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_TRUE(thread1_state(&state));
	ASSERT_EQ(0, write_online(0));
	ASSERT_TRUE(thread1_state(&state));
	EXPECT_EQ('P', state);
	ASSERT_EQ(0, write_online(1));
	ASSERT_TRUE(thread1_state(&state));
	EXPECT_NE('P', state);

	/* Served by cpu1 again, timers fire. */
	fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, tw_set_cpu(fd, 1));
	ASSERT_EQ(0, tw_arm(fd, 1, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(1, tw_read_events(fd, &ev, 1, 5000));
	close(fd);
}

struct arm_load {
	int fd;
	volatile int stop;
	unsigned int armed;
	int err;
};

/* Arms timers due within 0-300 ms, in batches, until told to stop. */
static void *arm_loop(void *arg)
{
	struct arm_load *l = arg;
	struct twheel_arm a[64];
	struct twheel_batch b;

	while (!l->stop) {
		memset(a, 0, sizeof(a));
		for (unsigned int i = 0; i < 64; i++) {
			a[i].conn_id = l->armed + i;
			a[i].timeout_ns = (random() % 300) * NSEC_PER_MSEC;
			a[i].user_data = l->armed + i;
		}
		if (tw_arm_batch(l->fd, a, 64, &b) != 64) {
			l->err = 1;
			break;
		}
		l->armed += 64;
		if (l->armed >= 60000)
			break;
	}
	return NULL;
}

TEST_F_TIMEOUT(hotplug, offline_and_online_under_load_lose_nothing, 240)
{
	struct arm_load l = { .fd = self->fd };
	struct twheel_event *ev = calloc(64, sizeof(*ev));
	unsigned char *seen = calloc(60000 + 64, 1);
	struct twheel_stats st;
	unsigned int got = 0, cycles = 0;
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_NE(NULL, ev);
	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, pthread_create(&th, NULL, arm_loop, &l));
	for (unsigned int round = 0; round < 6; round++) {
		ASSERT_EQ(0, write_online(0));
		/* Read for a while with cpu1 gone, then bring it back. */
		for (unsigned int i = 0; i < 10; i++) {
			int n = tw_read_events(self->fd, ev, 64, 20);

			ASSERT_LE(0, n);
			for (int j = 0; j < n; j++) {
				ASSERT_EQ(0, seen[ev[j].user_data]);
				seen[ev[j].user_data] = 1;
				ASSERT_LE(ev[j].deadline_ns, ev[j].fired_ns);
			}
			got += n;
		}
		ASSERT_EQ(0, write_online(1));
		/* Back on cpu1 for the next round. */
		ASSERT_EQ(0, tw_set_cpu(self->fd, 1));
		cycles++;
	}
	l.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, l.err);

	/* Everything armed fires and is read, once. */
	for (;;) {
		int n = tw_read_events(self->fd, ev, 64, 1000);

		if (n <= 0)
			break;
		for (int j = 0; j < n; j++) {
			ASSERT_EQ(0, seen[ev[j].user_data]);
			seen[ev[j].user_data] = 1;
			ASSERT_LE(ev[j].deadline_ns, ev[j].fired_ns);
		}
		got += n;
	}
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(l.armed, got);
	EXPECT_EQ(l.armed, st.fired);
	tw_report("%u offline/online cycles, %u timers armed, %u fired and read\n",
		  cycles, l.armed, got);
	free(ev);
	free(seen);
}

/* Arms through the shared ring, 0-300 ms ahead, until told to stop. */
struct ring_load {
	int fd;
	struct tw_ring *r;
	volatile int stop;
	unsigned int armed, enters;
	int err;
};

static void *ring_arm_loop(void *arg)
{
	struct ring_load *l = arg;
	struct twheel_ring_enter en;

	while (!l->stop && l->armed < 20000) {
		uint64_t d = tw_now() + (random() % 300) * NSEC_PER_MSEC;
		struct twheel_sqe e = tw_sqe_arm(l->armed, 0, d, l->armed);

		if (tw_ring_push(l->r, &e)) {
			/* Full: the doorbell takes it all now. */
			if (tw_ring_enter(l->fd, 0, &en) || en.errors) {
				l->err = 1;
				break;
			}
			l->enters++;
			continue;
		}
		l->armed++;
		if (tw_ring_needs_enter(l->r, d)) {
			if (tw_ring_enter(l->fd, 0, &en) || en.errors) {
				l->err = 2;
				break;
			}
			l->enters++;
		}
		if (!(l->armed % 64))
			poll(NULL, 0, 1);
	}
	return NULL;
}

static int ring_take(int fd, struct tw_ring *r, unsigned char *seen,
		     unsigned int *got, int ms)
{
	struct twheel_event ev[64];
	struct twheel_ring_enter en;
	unsigned int n;

	n = tw_ring_reap(r, ev, 64);
	if (!n) {
		if (__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED))
			return tw_ring_enter(fd, 0, &en) ? -1 : 1;
		return tw_ring_wait(fd, r, ms);
	}
	for (unsigned int j = 0; j < n; j++) {
		if (ev[j].flags || ev[j].user_data >= 20000 ||
		    seen[ev[j].user_data] || ev[j].fired_ns < ev[j].deadline_ns)
			return -2;
		seen[ev[j].user_data] = 1;
	}
	*got += n;
	return 1;
}

TEST_F_TIMEOUT(hotplug, a_file_with_rings_loses_nothing_across_offline_and_online, 240)
{
	unsigned char *seen = calloc(20000, 1);
	struct ring_load l = { .fd = self->fd };
	struct twheel_stats st;
	unsigned int got = 0;
	struct tw_ring r;
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, tw_ring_init(self->fd, 1024, 1024, &r));
	l.r = &r;
	ASSERT_EQ(0, pthread_create(&th, NULL, ring_arm_loop, &l));
	for (unsigned int round = 0; round < 4; round++) {
		uint64_t until = tw_now() + 200 * NSEC_PER_MSEC;

		ASSERT_EQ(0, write_online(0));
		while (tw_now() < until)
			ASSERT_LE(0, ring_take(self->fd, &r, seen, &got, 20));
		ASSERT_EQ(0, write_online(1));
		ASSERT_EQ(0, tw_set_cpu(self->fd, 1));
		until = tw_now() + 200 * NSEC_PER_MSEC;
		while (tw_now() < until)
			ASSERT_LE(0, ring_take(self->fd, &r, seen, &got, 20));
	}
	l.stop = 1;
	pthread_join(th, NULL);
	ASSERT_EQ(0, l.err);
	/* Everything armed fires once, into the ring or the kernel queue. */
	while (got < l.armed && ring_take(self->fd, &r, seen, &got, 2000) > 0)
		;
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(l.armed, got);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	tw_report("%u timers armed through the ring across 4 offline/online cycles, %u doorbells, %u fired into it\n",
		  l.armed, l.enters, got);
	tw_ring_exit(&r);
	free(seen);
}

struct open_load {
	volatile int stop;
	volatile unsigned int opened;
	int err;		/* 0, or the step that failed */
};

/*
 * Opens files on cpu1 while it may be going away, each with a timer that
 * must fire. Waiting through the file's counters, not poll() or read(),
 * leaves the file on the CPU open() gave it.
 */
static void *open_loop(void *arg)
{
	struct open_load *l = arg;

	while (!l->stop && !l->err) {
		int fd;

		tw_run_on(1);	/* fails while cpu1 is offline: any CPU will do */
		fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			l->err = 1;
			break;
		}
		if (tw_arm(fd, 1, 0, NSEC_PER_MSEC, 0, 0) != 0)
			l->err = 2;
		else if (tw_wait_queued(fd, 1, 5000))
			l->err = 3;
		close(fd);
		l->opened++;
	}
	return NULL;
}

TEST_F_TIMEOUT(hotplug, files_opened_while_the_cpu_goes_and_comes_are_served, 240)
{
	struct open_load l = { 0 };
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, pthread_create(&th, NULL, open_loop, &l));
	for (unsigned int round = 0; round < 6 && !l.err; round++) {
		unsigned int before = l.opened;

		ASSERT_EQ(0, write_online(0));
		ASSERT_EQ(0, write_online(1));
		/* Some opens in between, so that the next cycle races them. */
		for (int i = 0; i < 500 && l.opened < before + 3 && !l.err; i++)
			poll(NULL, 0, 10);
	}
	l.stop = 1;
	pthread_join(th, NULL);
	EXPECT_EQ(0, l.err);
	EXPECT_LE(6, l.opened);
	tw_report("%u files opened across 6 offline/online cycles\n", l.opened);
}

TEST_HARNESS_MAIN
