// SPDX-License-Identifier: GPL-2.0
/*
 * TWHEEL_IOC_ARM: arms and re-arms batches of timers, stops at the first bad
 * entry and says which and why, and leaves the entries before it applied.
 */

#include <stdlib.h>
#include <sys/mman.h>

#include "twheel_test.h"

FIXTURE(arm) {
	int fd;
	struct twheel_handshake hs;
};

FIXTURE_SETUP(arm)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	memset(&self->hs, 0, sizeof(self->hs));
	self->hs.size = sizeof(self->hs);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &self->hs));
	ASSERT_TRUE(self->hs.features & TWHEEL_FEAT_TIMERS);
}

FIXTURE_TEARDOWN(arm)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void fill_arms(struct twheel_arm *a, unsigned int n, uint64_t conn0,
		      uint64_t timeout_ns)
{
	for (unsigned int i = 0; i < n; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].conn_id = conn0 + i;
		a[i].kind = i % TWHEEL_NR_KINDS;
		a[i].timeout_ns = timeout_ns;
		a[i].user_data = i;
	}
}

TEST_F(arm, a_batch_arms_every_entry_and_returns_their_count)
{
	struct twheel_arm a[100];
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(a, 100, 1, 60 * NSEC_PER_SEC);
	ASSERT_EQ(100, tw_arm_batch(self->fd, a, 100, &b));
	EXPECT_EQ(100, b.applied);
	EXPECT_EQ(0, b.error);
	EXPECT_EQ(0, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(100, st.armed);
	EXPECT_EQ(100, st.conns);
	EXPECT_EQ(100, st.arms);
	EXPECT_EQ(0, st.rearms);
}

TEST_F(arm, every_kind_of_one_connection_is_a_timer_of_its_own)
{
	struct twheel_arm a[TWHEEL_NR_KINDS];
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(a, TWHEEL_NR_KINDS, 7, 60 * NSEC_PER_SEC);
	for (unsigned int i = 0; i < TWHEEL_NR_KINDS; i++)
		a[i].conn_id = 7;
	ASSERT_EQ(TWHEEL_NR_KINDS, tw_arm_batch(self->fd, a, TWHEEL_NR_KINDS, &b));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(TWHEEL_NR_KINDS, st.armed);
	EXPECT_EQ(1, st.conns);
}

TEST_F(arm, arming_an_armed_kind_replaces_it_and_counts_as_found)
{
	struct twheel_event ev[4];
	struct twheel_stats st;
	uint64_t t0 = tw_now();

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 111, 0));
	ASSERT_EQ(1, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 222, 0));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.arms);
	EXPECT_EQ(1, st.rearms);

	/* Only the second arming fires, and only once. */
	ASSERT_EQ(1, tw_read_events(self->fd, ev, 4, 5000));
	EXPECT_EQ(222, ev[0].user_data);
	EXPECT_LE(t0 + 20 * NSEC_PER_MSEC, ev[0].deadline_ns);
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 4, 100));
}

TEST_F(arm, an_absolute_deadline_is_kept_as_given)
{
	struct twheel_event ev;
	uint64_t deadline = tw_now() + 30 * NSEC_PER_MSEC;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 5, TWHEEL_KIND_CONNECT, deadline, 9,
			    TWHEEL_ARM_ABS));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(deadline, ev.deadline_ns);
	EXPECT_EQ(5, ev.conn_id);
	EXPECT_EQ(TWHEEL_KIND_CONNECT, ev.kind);
	EXPECT_EQ(9, ev.user_data);
	EXPECT_LE(deadline, ev.fired_ns);
}

TEST_F(arm, an_absolute_deadline_in_the_past_fires_at_once)
{
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 5, TWHEEL_KIND_USER, 1, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	EXPECT_EQ(1, ev.deadline_ns);
}

TEST_F(arm, a_bad_kind_stops_the_batch_with_einval_and_keeps_what_came_before)
{
	struct twheel_arm a[3];
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(a, 3, 1, 60 * NSEC_PER_SEC);
	a[1].kind = TWHEEL_NR_KINDS;
	ASSERT_EQ(1, tw_arm_batch(self->fd, a, 3, &b));
	EXPECT_EQ(1, b.applied);
	EXPECT_EQ(-EINVAL, b.error);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.conns);
}

TEST_F(arm, unknown_entry_flags_stop_the_batch_with_einval)
{
	struct twheel_arm a[2];
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(a, 2, 1, 60 * NSEC_PER_SEC);
	a[0].flags = 1U << 31;
	ASSERT_EQ(0, tw_arm_batch(self->fd, a, 2, &b));
	EXPECT_EQ(0, b.applied);
	EXPECT_EQ(-EINVAL, b.error);
	a[0].flags = 1U << 1;
	ASSERT_EQ(0, tw_arm_batch(self->fd, a, 2, &b));
	EXPECT_EQ(-EINVAL, b.error);
}

TEST_F(arm, a_timeout_beyond_the_longest_stops_the_batch_with_erange)
{
	struct twheel_arm a;
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(&a, 1, 1, self->hs.max_timeout_ns + 1);
	ASSERT_EQ(0, tw_arm_batch(self->fd, &a, 1, &b));
	EXPECT_EQ(-ERANGE, b.error);

	a.flags = TWHEEL_ARM_ABS;
	a.timeout_ns = UINT64_MAX;
	ASSERT_EQ(0, tw_arm_batch(self->fd, &a, 1, &b));
	EXPECT_EQ(-ERANGE, b.error);

	/* The longest timeout itself is fine. */
	a.flags = 0;
	a.timeout_ns = self->hs.max_timeout_ns;
	ASSERT_EQ(1, tw_arm_batch(self->fd, &a, 1, &b));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
}

TEST_F(arm, nonzero_batch_flags_or_reserved_fields_are_einval)
{
	struct twheel_arm a;
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(&a, 1, 1, NSEC_PER_SEC);
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.entries = (uintptr_t)&a;
	b.count = 1;
	b.entry_size = sizeof(a);
	b.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, &b));
	EXPECT_EQ(EINVAL, errno);
	b.flags = 0;
	b.reserved0 = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, &b));
	EXPECT_EQ(EINVAL, errno);
	b.reserved0 = 0;
	b.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, &b));
	EXPECT_EQ(EINVAL, errno);
	b.reserved[1] = 0;
	/* Output fields left over from an earlier call do not matter. */
	b.applied = 5;
	b.error = -1;
	b.found = 3;
	EXPECT_EQ(1, ioctl(self->fd, TWHEEL_IOC_ARM, &b));
	EXPECT_EQ(0, b.error);
	EXPECT_EQ(0, b.found);
}

TEST_F(arm, a_batch_struct_smaller_than_its_first_version_is_einval)
{
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	memset(&b, 0, sizeof(b));
	b.size = TWHEEL_BATCH_SIZE_VER0 - 8;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, &b));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(arm, a_batch_struct_with_a_nonzero_unknown_tail_is_e2big)
{
	unsigned char buf[sizeof(struct twheel_batch) + 8];
	struct twheel_batch *b = (void *)buf;

	if (tw_setup_skipped(_metadata))
		return;

	memset(buf, 0, sizeof(buf));
	b->size = sizeof(buf);
	b->entry_size = sizeof(struct twheel_arm);
	EXPECT_EQ(0, ioctl(self->fd, TWHEEL_IOC_ARM, b));
	buf[sizeof(buf) - 1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, b));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(arm, an_entry_size_below_the_first_version_is_einval)
{
	struct twheel_arm a[2];
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(a, 2, 1, NSEC_PER_SEC);
	EXPECT_EQ(-1, tw_batch(self->fd, TWHEEL_IOC_ARM, a, 2,
			       TWHEEL_ARM_SIZE_VER0 - 8, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, tw_batch(self->fd, TWHEEL_IOC_ARM, a, 2, 0, &b));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(arm, longer_entries_with_a_zero_tail_are_accepted_and_a_nonzero_tail_is_e2big)
{
	struct wide_arm {
		struct twheel_arm a;
		uint64_t future;
	} w[3];
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	memset(w, 0, sizeof(w));
	for (unsigned int i = 0; i < 3; i++) {
		w[i].a.conn_id = i + 1;
		w[i].a.timeout_ns = 60 * NSEC_PER_SEC;
	}
	w[2].future = 1;
	ASSERT_EQ(2, tw_batch(self->fd, TWHEEL_IOC_ARM, w, 3, sizeof(w[0]), &b));
	EXPECT_EQ(2, b.applied);
	EXPECT_EQ(-E2BIG, b.error);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(2, st.armed);
}

TEST_F(arm, a_batch_over_the_maximum_is_e2big_and_arms_nothing)
{
	struct twheel_arm a;
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	fill_arms(&a, 1, 1, NSEC_PER_SEC);
	EXPECT_EQ(-1, tw_batch(self->fd, TWHEEL_IOC_ARM, &a,
			       self->hs.max_batch + 1, sizeof(a), &b));
	EXPECT_EQ(E2BIG, errno);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(0, st.armed);
}

TEST_F_TIMEOUT(arm, a_batch_of_the_maximum_size_is_applied_whole, 120)
{
	unsigned int n = self->hs.max_batch;
	struct twheel_arm *a;
	struct twheel_batch b;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_LE(4096, n);
	a = calloc(n, sizeof(*a));
	ASSERT_NE(NULL, a);
	fill_arms(a, n, 1000, 60 * NSEC_PER_SEC);
	ASSERT_EQ(n, tw_arm_batch(self->fd, a, n, &b));
	EXPECT_EQ(n, b.applied);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(n, st.armed);
	EXPECT_EQ(n, st.conns);

	/* The same batch again re-arms every entry. */
	ASSERT_EQ(n, tw_arm_batch(self->fd, a, n, &b));
	EXPECT_EQ(n, b.found);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(n, st.armed);
	free(a);
}

/*
 * Batches that name the same connection more than once, new and existing
 * connections mixed, on a file that already holds @filler connections
 * (ids from 100000): each entry applies in order, as if it came alone.
 */
static void arm_repeated_ids(struct __test_metadata *_metadata, int fd,
			     unsigned int filler)
{
	struct twheel_arm a[64];
	struct twheel_cancel c[7];
	uint64_t ids[3] = { 2, 2, 99999 };
	struct twheel_batch b;
	struct twheel_stats st;
	unsigned int i;

	for (i = 0; i < filler; i += 64) {
		fill_arms(a, 64, 100000 + i, 3600 * NSEC_PER_SEC);
		ASSERT_EQ(64, tw_arm_batch(fd, a, 64, &b));
	}
	/* Connections 1 to 32, kind idle. */
	fill_arms(a, 32, 1, 3600 * NSEC_PER_SEC);
	for (i = 0; i < 32; i++)
		a[i].kind = TWHEEL_KIND_IDLE;
	ASSERT_EQ(32, tw_arm_batch(fd, a, 32, &b));
	EXPECT_EQ(0, b.found);

	fill_arms(a, 64, 1, 3600 * NSEC_PER_SEC);
	for (i = 0; i < 64; i++)
		a[i].kind = TWHEEL_KIND_IDLE;
	a[0].conn_id = 1;		/* existing: found */
	a[1].conn_id = 1000;		/* new */
	a[2].conn_id = 1000;		/* the one entry 1 armed: found */
	a[3].conn_id = 1000;
	a[3].kind = TWHEEL_KIND_CONNECT;	/* a kind of its own */
	a[4].conn_id = 1;		/* found again */
	a[5].conn_id = 1000;		/* found again */
	for (i = 6; i < 64; i++)
		a[i].conn_id = i - 4;	/* 2 to 32 exist, 33 to 59 are new */
	ASSERT_EQ(64, tw_arm_batch(fd, a, 64, &b));
	EXPECT_EQ(4 + 31, b.found);
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_EQ(filler + 32 + 2 + 27, st.armed);
	EXPECT_EQ(filler + 59 + 1, st.conns);

	c[0] = (struct twheel_cancel){ .conn_id = 1000, .kind = TWHEEL_KIND_IDLE };
	c[1] = c[0];			/* already cancelled */
	c[2] = (struct twheel_cancel){ .conn_id = 1000, .kind = TWHEEL_KIND_CONNECT };
	c[3] = (struct twheel_cancel){ .conn_id = 77777, .kind = TWHEEL_KIND_IDLE };
	c[4] = (struct twheel_cancel){ .conn_id = 1, .kind = TWHEEL_KIND_IDLE };
	c[5] = c[4];
	c[6] = (struct twheel_cancel){ .conn_id = 1, .kind = TWHEEL_KIND_CONNECT };
	ASSERT_EQ(7, tw_batch(fd, TWHEEL_IOC_CANCEL, c, 7, sizeof(c[0]), &b));
	EXPECT_EQ(3, b.found);

	ASSERT_EQ(3, tw_batch(fd, TWHEEL_IOC_CANCEL_CONN, ids, 3,
			      sizeof(ids[0]), &b));
	EXPECT_EQ(1, b.found);
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_EQ(filler + 61 - 3 - 1, st.armed);
	EXPECT_EQ(filler + 60 - 3, st.conns);

	/* Connections cancelled whole are new again. */
	a[0].conn_id = 1000;
	a[1].conn_id = 1;
	a[2].conn_id = 2;
	ASSERT_EQ(3, tw_arm_batch(fd, a, 3, &b));
	EXPECT_EQ(0, b.found);
	ASSERT_EQ(0, tw_stats(fd, &st));
	EXPECT_EQ(filler + 60, st.armed);
}

TEST_F(arm, a_batch_that_repeats_a_connection_applies_its_entries_in_order)
{
	if (tw_setup_skipped(_metadata))
		return;

	arm_repeated_ids(_metadata, self->fd, 0);
}

/* Where the file looks up a chunk's connections all at once. */
TEST_F(arm, a_batch_that_repeats_a_connection_applies_its_entries_in_order_in_a_large_file)
{
	if (tw_setup_skipped(_metadata))
		return;

	arm_repeated_ids(_metadata, self->fd, 10048);
}

TEST_F(arm, an_empty_batch_does_nothing)
{
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(0, tw_batch(self->fd, TWHEEL_IOC_ARM, NULL, 0,
			      sizeof(struct twheel_arm), &b));
	EXPECT_EQ(0, b.applied);
	EXPECT_EQ(0, b.error);
}

TEST_F(arm, an_unreadable_batch_struct_is_efault)
{
	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, (void *)0xffffffff81000000UL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(arm, an_unreadable_entry_stops_the_batch_with_efault_after_the_readable_ones)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	unsigned int fit = pagesz / sizeof(struct twheel_arm);
	struct twheel_arm *a;
	struct twheel_batch b;
	struct twheel_stats st;
	char *map;

	if (tw_setup_skipped(_metadata))
		return;

	/* One readable page of entries followed by an unreadable one. */
	map = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + pagesz, pagesz, PROT_NONE));
	a = (struct twheel_arm *)map;
	fill_arms(a, fit, 1, 60 * NSEC_PER_SEC);

	ASSERT_EQ(fit, tw_arm_batch(self->fd, a, fit + 10, &b));
	EXPECT_EQ(fit, b.applied);
	EXPECT_EQ(-EFAULT, b.error);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(fit, st.armed);

	/* A null entries pointer applies nothing. */
	ASSERT_EQ(0, tw_arm_batch(self->fd, NULL, 3, &b));
	EXPECT_EQ(-EFAULT, b.error);
	munmap(map, 2 * pagesz);
}

TEST_F(arm, an_unwritable_result_is_efault_after_the_batch_was_applied)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	struct twheel_arm a;
	struct twheel_batch *b;
	struct twheel_stats st;
	char *map;

	if (tw_setup_skipped(_metadata))
		return;

	map = mmap(NULL, pagesz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	b = (struct twheel_batch *)map;
	fill_arms(&a, 1, 1, 60 * NSEC_PER_SEC);
	memset(b, 0, sizeof(*b));
	b->size = sizeof(*b);
	b->entries = (uintptr_t)&a;
	b->count = 1;
	b->entry_size = sizeof(a);
	ASSERT_EQ(0, mprotect(map, pagesz, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_ARM, b));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.armed);
	munmap(map, pagesz);
}

TEST_F(arm, unknown_commands_are_enotty)
{
	struct twheel_batch b = { .size = sizeof(b) };

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(TWHEEL_IOC_MAGIC, 0x1e,
					    struct twheel_batch), &b));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number in the wrong direction is another command. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(TWHEEL_IOC_MAGIC, 0x01,
					   struct twheel_batch), &b));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
