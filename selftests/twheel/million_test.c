// SPDX-License-Identifier: GPL-2.0
/*
 * A million timers in one file: armed in batches, re-armed, fired and read
 * exactly once, and given back on close. Prints what it costs.
 */

#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"

#define MILLION		(1U << 20)

/* kB of memory the kernel reports as available, or -1. */
static long mem_available_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The module's memory_bytes counter in debugfs, or -1. */
static long counter_memory_bytes(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/sys/kernel/debug/twheel/counters", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memory_bytes %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

FIXTURE(million) {
	int fd;
	struct twheel_arm *a;
	struct twheel_event *ev;
	unsigned char *seen;
};

FIXTURE_SETUP(million)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->a = NULL;
	self->ev = NULL;
	self->seen = NULL;
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (hs.quota_timers < MILLION || hs.max_timers < MILLION)
		SKIP(return, "the quota is below a million timers");
	self->a = calloc(MILLION, sizeof(*self->a));
	self->ev = calloc(65536, sizeof(*self->ev));
	self->seen = calloc(MILLION, 1);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->ev);
	ASSERT_NE(NULL, self->seen);
}

FIXTURE_TEARDOWN(million)
{
	free(self->a);
	free(self->ev);
	free(self->seen);
	if (self->fd >= 0)
		close(self->fd);
}

/* Arms self->a in batches of 65536; returns the total found. */
static uint64_t arm_all(struct __test_metadata *_metadata,
			FIXTURE_DATA(million) *self)
{
	struct twheel_batch b;
	uint64_t found = 0;

	for (unsigned int i = 0; i < MILLION; i += 65536) {
		EXPECT_EQ(65536, tw_arm_batch(self->fd, self->a + i, 65536, &b));
		found += b.found;
	}
	return found;
}

TEST_F_TIMEOUT(million, a_million_timers_arm_fire_once_and_close, 600)
{
	long kb_before, kb_armed, bytes_before, bytes_armed;
	uint64_t t0, t_arm, t_rearm, t_read, t_close, deadline0;
	struct twheel_stats st;
	unsigned int got = 0;

	if (tw_setup_skipped(_metadata))
		return;

	/* Ids spread over 64 bits, as a daemon's random connection ids. */
	for (unsigned int i = 0; i < MILLION; i++) {
		self->a[i].conn_id = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		self->a[i].kind = TWHEEL_KIND_IDLE;
		self->a[i].timeout_ns = 600 * NSEC_PER_SEC;
		self->a[i].user_data = i;
	}
	/* Every page this test writes is touched before the baseline. */
	memset(self->ev, 0, 65536 * sizeof(*self->ev));
	memset(self->seen, 0, MILLION);
	kb_before = mem_available_kb();
	bytes_before = counter_memory_bytes();
	t0 = tw_now();
	ASSERT_EQ(0, arm_all(_metadata, self));
	t_arm = tw_now() - t0;
	kb_armed = mem_available_kb();
	bytes_armed = counter_memory_bytes();
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	ASSERT_EQ(MILLION, st.armed);
	ASSERT_EQ(MILLION, st.conns);

	/* Re-arm every one to fire within the next one to two seconds. */
	deadline0 = tw_now() + NSEC_PER_SEC;
	for (unsigned int i = 0; i < MILLION; i++) {
		self->a[i].timeout_ns = deadline0 + (uint64_t)(i % 1000) * NSEC_PER_MSEC;
		self->a[i].flags = TWHEEL_ARM_ABS;
	}
	t0 = tw_now();
	ASSERT_EQ(MILLION, arm_all(_metadata, self));
	t_rearm = tw_now() - t0;

	t0 = tw_now();
	while (got < MILLION) {
		int n = tw_read_events(self->fd, self->ev, 65536, 10000);

		ASSERT_LT(0, n) TH_LOG("%u of %u events came", got, MILLION);
		for (int j = 0; j < n; j++) {
			uint64_t u = self->ev[j].user_data;

			ASSERT_LT(u, MILLION);
			ASSERT_EQ(0, self->seen[u]);
			self->seen[u] = 1;
			ASSERT_LE(self->ev[j].deadline_ns, self->ev[j].fired_ns);
			ASSERT_EQ(self->a[u].timeout_ns, self->ev[j].deadline_ns);
		}
		got += n;
	}
	t_read = tw_now() - t0;
	EXPECT_EQ(0, tw_read_events(self->fd, self->ev, 1, 200));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(MILLION, st.fired);
	EXPECT_EQ(MILLION, st.read);
	EXPECT_EQ(0, st.conns);

	/* A million armed again, then closed with all of them armed. */
	for (unsigned int i = 0; i < MILLION; i++) {
		self->a[i].timeout_ns = 600 * NSEC_PER_SEC;
		self->a[i].flags = 0;
	}
	ASSERT_EQ(0, arm_all(_metadata, self));
	t0 = tw_now();
	ASSERT_EQ(0, close(self->fd));
	t_close = tw_now() - t0;
	self->fd = -1;

	tw_report("1M timers: armed in %ju ms (%ju ns each), re-armed in %ju ms, fired and read in %ju ms, closed in %ju ms\n",
		  (uintmax_t)t_arm / 1000000, (uintmax_t)t_arm / MILLION,
		  (uintmax_t)t_rearm / 1000000, (uintmax_t)t_read / 1000000,
		  (uintmax_t)t_close / 1000000);
	tw_report("1M timers: %ld bytes each by MemAvailable (everything: slabs, hash table, memcg), %ld bytes each by the module's own count (objects)\n",
		  kb_before > 0 && kb_armed > 0 ?
		  (kb_before - kb_armed) * 1024 / (long)MILLION : -1L,
		  bytes_before >= 0 && bytes_armed >= 0 ?
		  (bytes_armed - bytes_before) / (long)MILLION : -1L);
}

TEST_HARNESS_MAIN
