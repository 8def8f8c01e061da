// SPDX-License-Identifier: GPL-2.0
/*
 * A million timers in one file: armed in batches, re-armed, fired and read
 * exactly once, and given back on close. Prints what it costs. On the debug
 * kernel, where a million take longer than a test may run, 64k do.
 */

#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"

#define BATCH		65536U

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

FIXTURE(many) {
	int fd;
	unsigned int n;
	struct twheel_arm *a;
	struct twheel_event *ev;
	unsigned char *seen;
};

FIXTURE_VARIANT(many) {
	unsigned int n;
	int on_debug_kernel;
};

FIXTURE_VARIANT_ADD(many, million) {
	.n = 1U << 20,
	.on_debug_kernel = 0,
};

FIXTURE_VARIANT_ADD(many, k64) {
	.n = 1U << 16,
	.on_debug_kernel = 1,
};

FIXTURE_SETUP(many)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->fd = -1;
	self->n = variant->n;
	self->a = NULL;
	self->ev = NULL;
	self->seen = NULL;
	if (tw_debug_kernel() && !variant->on_debug_kernel)
		SKIP(return, "too slow for a test on the debug kernel; k64 runs there");
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (hs.quota_timers < self->n || hs.max_timers < self->n)
		SKIP(return, "the quota is below %u timers", self->n);
	self->a = calloc(self->n, sizeof(*self->a));
	self->ev = calloc(BATCH, sizeof(*self->ev));
	self->seen = calloc(self->n, 1);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->ev);
	ASSERT_NE(NULL, self->seen);
}

FIXTURE_TEARDOWN(many)
{
	free(self->a);
	free(self->ev);
	free(self->seen);
	if (self->fd >= 0)
		close(self->fd);
}

/* Arms self->a in batches of BATCH; returns the total found. */
static uint64_t arm_all(struct __test_metadata *_metadata,
			FIXTURE_DATA(many) *self)
{
	struct twheel_batch b;
	uint64_t found = 0;

	for (unsigned int i = 0; i < self->n; i += BATCH) {
		EXPECT_EQ(BATCH, tw_arm_batch(self->fd, self->a + i, BATCH, &b));
		found += b.found;
	}
	return found;
}

TEST_F_TIMEOUT(many, timers_arm_fire_once_and_close, 600)
{
	long long bytes_before, bytes_armed;
	long kb_before, kb_armed;
	uint64_t t0, t_arm, t_rearm, t_read, t_close, deadline0;
	struct twheel_stats st;
	unsigned int got = 0;

	if (tw_setup_skipped(_metadata))
		return;

	/* Ids spread over 64 bits, as a daemon's random connection ids. */
	for (unsigned int i = 0; i < self->n; i++) {
		self->a[i].conn_id = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		self->a[i].kind = TWHEEL_KIND_IDLE;
		self->a[i].timeout_ns = 600 * NSEC_PER_SEC;
		self->a[i].user_data = i;
	}
	/* Every page this test writes is touched before the baseline. */
	memset(self->ev, 0, BATCH * sizeof(*self->ev));
	memset(self->seen, 0, self->n);
	kb_before = mem_available_kb();
	bytes_before = tw_counter("memory_bytes");
	t0 = tw_now();
	ASSERT_EQ(0, arm_all(_metadata, self));
	t_arm = tw_now() - t0;
	kb_armed = mem_available_kb();
	bytes_armed = tw_counter("memory_bytes");
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	ASSERT_EQ(self->n, st.armed);
	ASSERT_EQ(self->n, st.conns);

	/* Re-arm every one to fire within the next one to two seconds. */
	deadline0 = tw_now() + NSEC_PER_SEC;
	for (unsigned int i = 0; i < self->n; i++) {
		self->a[i].timeout_ns = deadline0 + (uint64_t)(i % 1000) * NSEC_PER_MSEC;
		self->a[i].flags = TWHEEL_ARM_ABS;
	}
	t0 = tw_now();
	ASSERT_EQ(self->n, arm_all(_metadata, self));
	t_rearm = tw_now() - t0;

	t0 = tw_now();
	while (got < self->n) {
		int n = tw_read_events(self->fd, self->ev, BATCH, 10000);

		ASSERT_LT(0, n) TH_LOG("%u of %u events came", got, self->n);
		for (int j = 0; j < n; j++) {
			uint64_t u = self->ev[j].user_data;

			ASSERT_LT(u, self->n);
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
	EXPECT_EQ(self->n, st.fired);
	EXPECT_EQ(self->n, st.read);
	EXPECT_EQ(0, st.conns);

	/* A million armed again, then closed with all of them armed. */
	for (unsigned int i = 0; i < self->n; i++) {
		self->a[i].timeout_ns = 600 * NSEC_PER_SEC;
		self->a[i].flags = 0;
	}
	ASSERT_EQ(0, arm_all(_metadata, self));
	t0 = tw_now();
	ASSERT_EQ(0, close(self->fd));
	t_close = tw_now() - t0;
	self->fd = -1;

	tw_report("%u timers: armed in %ju ms (%ju ns each), re-armed in %ju ms, fired and read in %ju ms, closed in %ju ms\n",
		  self->n, (uintmax_t)t_arm / 1000000, (uintmax_t)t_arm / self->n,
		  (uintmax_t)t_rearm / 1000000, (uintmax_t)t_read / 1000000,
		  (uintmax_t)t_close / 1000000);
	/*
	 * MemAvailable sees memory the slabs take from the system, not what
	 * they reuse: it means something for the first, largest run only.
	 */
	if (self->n >= 1U << 20)
		tw_report("%u timers: %ld bytes each by MemAvailable (everything: slabs, hash table, memcg), %lld bytes each by the module's own count (objects)\n",
			  self->n, kb_before > 0 && kb_armed > 0 ?
			  (kb_before - kb_armed) * 1024 / (long)self->n : -1L,
			  bytes_before != TW_NO_COUNTER &&
			  bytes_armed != TW_NO_COUNTER ?
			  (bytes_armed - bytes_before) / self->n : -1LL);
}

TEST_HARNESS_MAIN
