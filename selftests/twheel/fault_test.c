// SPDX-License-Identifier: GPL-2.0
/*
 * Faults: a file that never reads while its timers keep firing fills up to
 * its quota and no further, loses nothing and stops growing; files closed
 * just as their CPU's thread expires a tick's worth of their timers leave
 * nothing behind.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"

#define QUOTA		"/sys/module/twheel/parameters/quota"
/* Waits up to @ms for a gauge to come back to @want; returns its value. */
static long long wait_counter(const char *name, long long want, int ms)
{
	long long v = tw_counter(name);

	for (int waited = 0; v != want && waited < ms; waited += 10) {
		poll(NULL, 0, 10);
		v = tw_counter(name);
	}
	return v;
}

FIXTURE(fault) {
	int fd;
	long quota;
};

FIXTURE_SETUP(fault)
{
	self->fd = -1;
	self->quota = tw_read_param(QUOTA);
	self->fd = tw_open_or_skip(O_RDWR | O_NONBLOCK);
}

FIXTURE_TEARDOWN(fault)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->quota >= 0)
		tw_write_param(QUOTA, self->quota);
}

TEST_F_TIMEOUT(fault, a_file_that_never_reads_fills_its_quota_and_loses_nothing, 180)
{
	unsigned int quota = tw_debug_kernel() ? 2000 : 20000;
	struct twheel_event *ev = calloc(quota + 1, sizeof(*ev));
	unsigned char *seen = calloc(quota, 1);
	struct twheel_arm a[256];
	struct twheel_batch b;
	struct twheel_stats st;
	unsigned int armed = 0, got = 0, refused = 0;
	long long mem0, mem1, mem_half = 0, mem2;
	unsigned int rng = 12345;
	int ret;

	if (tw_setup_skipped(_metadata))
		return;
	if (self->quota < 0 || access(QUOTA, W_OK))
		SKIP(return, "cannot change %s", QUOTA);
	ASSERT_NE(NULL, ev);
	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, tw_write_param(QUOTA, quota));
	mem0 = tw_counter("memory_bytes");

	/* Keep arming short timers, never reading, until the quota says no. */
	for (;;) {
		for (unsigned int i = 0; i < 256; i++) {
			unsigned int id = armed + i;

			rng = rng * 1103515245 + 12345;
			memset(&a[i], 0, sizeof(a[i]));
			a[i].conn_id = id / 8;
			a[i].kind = id % 8;
			a[i].user_data = id;
			a[i].timeout_ns = (rng >> 8) % (2 * NSEC_PER_MSEC);
		}
		ret = tw_arm_batch(self->fd, a, 256, &b);
		ASSERT_LE(0, ret);
		armed += ret;
		if (ret < 256) {
			EXPECT_EQ(-ENOSPC, b.error);
			break;
		}
		ASSERT_GE(quota, armed) TH_LOG("armed beyond the quota");
	}
	EXPECT_EQ(quota, armed) TH_LOG("nothing read or cancelled: the quota is exactly what fits");
	ASSERT_EQ(0, tw_wait_queued(self->fd, armed, tw_debug_kernel() ? 60000 : 20000))
		TH_LOG("every timer fires and waits, none is dropped");
	mem1 = tw_counter("memory_bytes");

	/*
	 * Full: more arms are refused and take no memory, however many. The
	 * first may take a block of connections (4 KiB), which the file
	 * keeps empty for the next when the refused ones give theirs back.
	 */
	for (unsigned int r = 0; r < 200; r++) {
		if (r == 100)
			mem_half = tw_counter("memory_bytes");
		for (unsigned int i = 0; i < 8; i++) {
			a[i].conn_id = 1000000 + r * 8 + i;
			a[i].kind = i;
		}
		ret = tw_arm_batch(self->fd, a, 8, &b);
		EXPECT_EQ(0, ret);
		EXPECT_EQ(-ENOSPC, b.error);
		refused += ret == 0;
	}
	mem2 = tw_counter("memory_bytes");
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(quota, st.queued);
	EXPECT_EQ(0, st.armed);
	if (mem0 != TW_NO_COUNTER) {
		EXPECT_GE(64 * 96, mem_half - mem1)
			TH_LOG("refused arms took more than a block of connections");
		EXPECT_GE(mem_half, mem2)
			TH_LOG("refused arms must not grow memory");
		tw_report("%u timers fired and unread hold %lld bytes (%lld per timer); %u refused batches added %lld bytes, the last 100 %lld\n",
			  quota, mem1 - mem0, (mem1 - mem0) / quota, refused,
			  mem2 - mem1, mem2 - mem_half);
		EXPECT_GE(1024 * (long long)quota, mem1 - mem0)
			TH_LOG("more than 1 KiB per waiting event");
	}

	/* Every event is there, exactly once, never early. */
	for (;;) {
		ssize_t n = read(self->fd, ev + got, (quota + 1 - got) * sizeof(*ev));

		if (n < 0) {
			EXPECT_EQ(EAGAIN, errno);
			break;
		}
		ASSERT_EQ(0, n % sizeof(*ev));
		got += n / sizeof(*ev);
		if (got > quota)
			break;
	}
	EXPECT_EQ(quota, got);
	for (unsigned int i = 0; i < got; i++) {
		uint64_t id = ev[i].user_data;

		ASSERT_GT(quota, id);
		EXPECT_EQ(0, seen[id]) TH_LOG("event %ju read twice", (uintmax_t)id);
		seen[id] = 1;
		EXPECT_EQ(id / 8, ev[i].conn_id);
		EXPECT_EQ(id % 8, ev[i].kind);
		EXPECT_LE(ev[i].deadline_ns, ev[i].fired_ns);
	}
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(quota, st.read);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(0, st.conns);
	/* Reading made room. */
	EXPECT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, NSEC_PER_SEC, 0, 0));
	if (mem0 != TW_NO_COUNTER)
		tw_report("after reading: %lld bytes above the start (one timer armed)\n",
			  tw_counter("memory_bytes") - mem0);
	free(ev);
	free(seen);
}

TEST_F_TIMEOUT(fault, files_closed_while_their_timers_expire_leave_nothing_behind, 180)
{
	unsigned int rounds = tw_debug_kernel() ? 20 : 100;
	unsigned int per_round = tw_debug_kernel() ? 512 : 4096;
	struct twheel_arm *a = calloc(per_round, sizeof(*a));
	long long armed0, conns0, ctx0, mem0;
	struct twheel_event ev;
	struct twheel_batch b;
	struct twheel_stats st;
	unsigned int rng = 777, early = 0, late = 0;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_NE(NULL, a);
	/* A bystander: its timers must come through the close storm. */
	ASSERT_EQ(0, tw_arm(self->fd, 42, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 1, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 42, TWHEEL_KIND_CONNECT, 0, 2, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	armed0 = tw_counter("timers_armed");
	conns0 = tw_counter("connections");
	ctx0 = tw_counter("contexts");
	mem0 = tw_counter("memory_bytes");

	for (unsigned int r = 0; r < rounds; r++) {
		int fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
		uint64_t deadline, close_at;
		int jitter;

		ASSERT_LE(0, fd);
		/* All due on the same tick, a few ticks from now. */
		deadline = tw_now() + 3 * NSEC_PER_MSEC;
		for (unsigned int i = 0; i < per_round; i++) {
			a[i].conn_id = i / 4;
			a[i].kind = i % 4;
			a[i].timeout_ns = deadline;
			a[i].flags = TWHEEL_ARM_ABS;
			a[i].user_data = i;
		}
		ASSERT_EQ(per_round, tw_arm_batch(fd, a, per_round, &b));
		/* Close from 300 us before the deadline to 700 us after it. */
		rng = rng * 1103515245 + 12345;
		jitter = (int)((rng >> 8) % 1000) - 300;
		close_at = deadline + (int64_t)jitter * 1000;
		while (tw_now() < close_at)
			;
		if (jitter < 0)
			early++;
		else
			late++;
		ASSERT_EQ(0, close(fd));
	}

	tw_report("%u files with %u timers each closed around their deadline (%u before it, %u after)\n",
		  rounds, per_round, early, late);
	if (armed0 == TW_NO_COUNTER) {
		tw_report("no debugfs counters: leaks not checked\n");
	} else {
		/* Everything the closed files held is freed, now or soon after. */
		EXPECT_EQ(armed0, wait_counter("timers_armed", armed0, 5000));
		EXPECT_EQ(conns0, wait_counter("connections", conns0, 5000));
		EXPECT_EQ(ctx0, wait_counter("contexts", ctx0, 5000));
		EXPECT_EQ(mem0, wait_counter("memory_bytes", mem0, 5000));
	}

	/* The bystander is untouched: one armed, one waiting. */
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.queued);
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(2, ev.user_data);
	EXPECT_EQ(1, tw_cancel(self->fd, 42, TWHEEL_KIND_IDLE));
	free(a);
}

TEST_HARNESS_MAIN
