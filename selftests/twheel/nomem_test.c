// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures (failslab, on kernels with fault injection): an arm
 * that cannot allocate fails with ENOMEM at its entry, the entries before it
 * stay applied, nothing else changes, and everything works once memory is
 * back.
 */

#include <stdio.h>
#include <stdlib.h>

#include <dirent.h>

#include "twheel_test.h"
#include "ring_tw.h"

#define FAILSLAB "/sys/kernel/debug/failslab/"

FIXTURE(nomem) {
	int fd;
	int fail_fd;
};

FIXTURE_SETUP(nomem)
{
	self->fd = -1;
	self->fail_fd = -1;
	if (access(FAILSLAB "probability", W_OK))
		SKIP(return, "no failslab fault injection in this kernel");
	self->fd = tw_open_or_skip(O_RDWR);
	/* Every slab allocation of this thread fails while it asks for it. */
	ASSERT_EQ(0, tw_write_str(FAILSLAB "ignore-gfp-wait", "N"));
	ASSERT_EQ(0, tw_write_str(FAILSLAB "space", "0"));
	ASSERT_EQ(0, tw_fault_setup(FAILSLAB, "-1"));
	/* Opened now: nothing may allocate between switching on and off. */
	self->fail_fd = open("/proc/thread-self/make-it-fail", O_WRONLY);
	ASSERT_LE(0, self->fail_fd);
}

FIXTURE_TEARDOWN(nomem)
{
	if (self->fail_fd >= 0) {
		if (write(self->fail_fd, "0", 1) != 1)
			TH_LOG("could not switch fault injection off");
		close(self->fail_fd);
		tw_write_str(FAILSLAB "probability", "0");
	}
	if (self->fd >= 0)
		close(self->fd);
}

static void failing(struct __test_metadata *_metadata, int fail_fd, int on)
{
	ASSERT_EQ(1, pwrite(fail_fd, on ? "1" : "0", 1, 0));
}

/*
 * A file allocates its connections in blocks of 42 (and keeps one empty
 * block), so a batch of more new connections than 64 must reach one that
 * needs memory.
 */
#define NEW_CONNS	200

TEST_F(nomem, a_new_connection_that_cannot_be_allocated_is_enomem_at_its_entry)
{
	struct twheel_arm a[3 + NEW_CONNS];
	struct twheel_batch b;
	struct twheel_stats st;
	struct twheel_event ev[4];
	unsigned int made;
	int ret;

	if (tw_setup_skipped(_metadata))
		return;

	/* Connections 0-2 exist; 3 onwards would be new. */
	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < 3 + NEW_CONNS; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	ASSERT_EQ(3, tw_arm_batch(self->fd, a, 3, &b));
	for (unsigned int i = 0; i < 3; i++)
		a[i].timeout_ns = 20 * NSEC_PER_MSEC;

	failing(_metadata, self->fail_fd, 1);
	ret = tw_arm_batch(self->fd, a, 3 + NEW_CONNS, &b);
	failing(_metadata, self->fail_fd, 0);
	ASSERT_LE(3, ret);
	made = ret - 3;
	EXPECT_GE(64, made) TH_LOG("more new connections than a block holds without memory");
	EXPECT_EQ(-ENOMEM, b.error);
	EXPECT_EQ(3, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(3 + made, st.conns);
	EXPECT_EQ(3 + made, st.armed);

	/* The three re-armed ones fire, and nothing else. */
	ASSERT_EQ(3, tw_read_n(self->fd, ev, 3, 5000));
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 4, 100));
	/* With memory back, the entry that failed can be armed. */
	EXPECT_EQ(0, tw_arm(self->fd, ret, TWHEEL_KIND_IDLE, 0, 0, 0));
	EXPECT_EQ(1, tw_read_events(self->fd, ev, 4, 5000));
}

TEST_F(nomem, a_second_kind_that_cannot_get_room_is_enomem_and_the_first_stays)
{
	struct twheel_event ev[2];
	int ret;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 30 * NSEC_PER_MSEC, 7, 0));
	failing(_metadata, self->fail_fd, 1);
	ret = tw_arm(self->fd, 1, TWHEEL_KIND_RETRANSMIT, 0, 8, 0);
	failing(_metadata, self->fail_fd, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOMEM, errno);
	ASSERT_EQ(1, tw_read_events(self->fd, ev, 2, 5000));
	EXPECT_EQ(7, ev[0].user_data);
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 2, 100));
}

TEST_F(nomem, an_open_that_cannot_allocate_is_enomem)
{
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	failing(_metadata, self->fail_fd, 1);
	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	failing(_metadata, self->fail_fd, 0);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(ENOMEM, errno);
	if (fd >= 0)
		close(fd);
}

/* The pid of the kernel thread named @comm, or -1. */
static int kthread_pid(const char *comm)
{
	char path[300], line[64];
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int pid = -1;

	while (proc && pid < 0 && (de = readdir(proc))) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) &&
		    !strncmp(line, comm, strlen(comm)) &&
		    line[strlen(comm)] == '\n')
			pid = atoi(de->d_name);
		fclose(f);
	}
	if (proc)
		closedir(proc);
	return pid;
}

/*
 * The expiry thread takes a ring without sleeping for memory; when an arm
 * needs memory it cannot get that way, a worker applies the rest (where it
 * may sleep, and be throttled by the file's cgroup, without holding up the
 * CPU's other files), and nothing is lost, refused or fired early.
 */
TEST_F(nomem, arms_the_expiry_thread_cannot_allocate_for_go_to_a_worker)
{
	enum { N = 100 };
	long long punted = tw_counter("ring_punted");
	struct twheel_event ev[N + 1];
	unsigned char seen[N + 1] = { 0 };
	struct twheel_ring_enter en;
	unsigned int got = 0, i;
	struct pollfd p = { .fd = self->fd, .events = POLLIN | POLLRDBAND };
	struct twheel_sqe e;
	struct tw_ring r;
	char path[64];
	uint64_t first;
	int pid, kfd;

	if (tw_setup_skipped(_metadata))
		return;
	if (tw_ring_init(self->fd, 256, 256, &r))
		SKIP(return, "the module has no rings");
	ASSERT_EQ(0, tw_set_cpu(self->fd, 0));
	pid = kthread_pid("twheel/0");
	ASSERT_LT(0, pid);
	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
	kfd = open(path, O_WRONLY);
	ASSERT_LE(0, kfd);

	/* One timer through the doorbell: the thread looks by its tick. */
	first = tw_now() + 150 * NSEC_PER_MSEC;
	e = tw_sqe_arm(N, 0, first, N);
	ASSERT_EQ(0, tw_ring_push(&r, &e));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	ASSERT_EQ(1, en.applied);
	/* From now on every slab allocation of the thread fails. */
	ASSERT_EQ(1, write(kfd, "1", 1));
	for (i = 0; i < N; i++) {
		e = tw_sqe_arm(i, 0, first + (1 + i % 10) * NSEC_PER_MSEC, i);
		ASSERT_EQ(0, tw_ring_push(&r, &e));
		ASSERT_FALSE(tw_ring_needs_enter(&r, e.timeout_ns));
	}
	while (got < N + 1 && poll(&p, 1, 3000) > 0) {
		unsigned int n = tw_ring_reap(&r, ev, N + 1);

		for (unsigned int j = 0; j < n; j++) {
			ASSERT_EQ(0, ev[j].flags)
				TH_LOG("error record %lld for entry %llu",
				       (long long)ev[j].error,
				       (unsigned long long)ev[j].user_data);
			ASSERT_GE(N, ev[j].user_data);
			EXPECT_EQ(0, seen[ev[j].user_data]);
			seen[ev[j].user_data] = 1;
			EXPECT_LE(ev[j].deadline_ns, ev[j].fired_ns);
		}
		got += n;
	}
	EXPECT_EQ(1, write(kfd, "0", 1));
	close(kfd);
	EXPECT_EQ(N + 1, got);
	if (punted != TW_NO_COUNTER)
		EXPECT_LT(punted, tw_counter("ring_punted"));
	tw_ring_exit(&r);
}

TEST_HARNESS_MAIN
