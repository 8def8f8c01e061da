// SPDX-License-Identifier: GPL-2.0
/*
 * Shared rings: arming, re-arming and cancelling through the submission
 * ring, reaping from the event ring; the doorbell only when the kernel's
 * promise says so; error records; overflow into the kernel queue; a hostile
 * writer that hurts only its own file.
 */

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "twheel_test.h"
#include "ring_tw.h"

#define MS	1000000ULL

FIXTURE(ring) {
	int fd;
	struct tw_ring r;
	uint64_t tick_ns;
};

FIXTURE_SETUP(ring)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	self->fd = -1;
	self->r.map = NULL;
	self->fd = tw_open_or_skip(O_RDWR);
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	if (!(hs.features & TWHEEL_FEAT_RINGS))
		SKIP(return, "the module has no rings");
	self->tick_ns = hs.tick_ns;
}

FIXTURE_TEARDOWN(ring)
{
	tw_ring_exit(&self->r);
	if (self->fd >= 0)
		close(self->fd);
}

/* Reaps until @want records came or @ms passed without one. */
static unsigned int reap_n(int fd, struct tw_ring *r, struct twheel_event *ev,
			   unsigned int want, int ms)
{
	struct twheel_ring_enter en;
	unsigned int got = 0;

	while (got < want) {
		unsigned int n = tw_ring_reap(r, ev + got, want - got);

		got += n;
		if (n)
			continue;
		/* Events that found the ring full wait in the kernel. */
		if (__atomic_load_n(r->ev_queued, __ATOMIC_RELAXED)) {
			if (tw_ring_enter(fd, 0, &en))
				break;
			continue;
		}
		if (tw_ring_wait(fd, r, ms) <= 0)
			break;
	}
	return got;
}

TEST_F(ring, the_handshake_offers_rings_and_their_limits)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_TRUE(hs.features & TWHEEL_FEAT_RINGS);
	EXPECT_LE(1024, hs.max_sq_entries);
	EXPECT_LE(1024, hs.max_ev_entries);
	EXPECT_EQ(0, hs.max_sq_entries & (hs.max_sq_entries - 1));
	EXPECT_EQ(0, hs.max_ev_entries & (hs.max_ev_entries - 1));
}

TEST_F(ring, setup_rejects_bad_sizes_and_flags_and_a_second_setup)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	struct twheel_ring_setup s;
	const uint32_t bad[][2] = {
		{ 0, 64 }, { 64, 0 }, { 3, 64 }, { 64, 100 },
	};

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		s.sq_entries = bad[i][0];
		s.ev_entries = bad[i][1];
		EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_RING_SETUP, &s));
		EXPECT_EQ(EINVAL, errno);
	}
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.sq_entries = hs.max_sq_entries * 2;
	s.ev_entries = 64;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_RING_SETUP, &s));
	EXPECT_EQ(EINVAL, errno);
	s.sq_entries = 64;
	s.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_RING_SETUP, &s));
	EXPECT_EQ(EINVAL, errno);
	s.flags = 0;
	s.mmap_size = 1;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_RING_SETUP, &s));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, tw_ring_init(self->fd, 64, 64, &self->r));
	EXPECT_EQ(63, self->r.sq_mask);
	EXPECT_EQ(63, self->r.ev_mask);
	EXPECT_EQ(sizeof(struct twheel_sqe), self->r.setup.sqe_size);
	EXPECT_EQ(sizeof(struct twheel_event), self->r.setup.event_size);
	/* Nothing armed: every arming needs the doorbell. */
	EXPECT_EQ(UINT64_MAX, *self->r.look_ns);

	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.sq_entries = 64;
	s.ev_entries = 64;
	EXPECT_EQ(-1, ioctl(self->fd, TWHEEL_IOC_RING_SETUP, &s));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(ring, mmap_needs_rings_a_shared_mapping_at_offset_zero)
{
	struct twheel_ring_enter en;
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if (tw_setup_skipped(_metadata))
		return;
	m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(ENXIO, errno);

	ASSERT_EQ(0, tw_ring_init(self->fd, 64, 64, &self->r));
	m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, page, PROT_READ, MAP_SHARED, self->fd, page);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, self->r.size + page, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, page, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, tw_ring_enter(self->fd, 2, &en));
	EXPECT_EQ(EINVAL, errno);
}

/* The "twheel-rings:" line of fdinfo, or -1 if there is none. */
static int fdinfo_rings(int fd, unsigned int *sq, unsigned int *ev)
{
	char path[64], line[128];
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "twheel-rings: %u %u", sq, ev) == 2)
			found = 0;
	fclose(f);
	return found;
}

TEST_F(ring, fdinfo_shows_the_rings_once_they_exist)
{
	unsigned int sq = 0, ev = 0;

	if (tw_setup_skipped(_metadata))
		return;
	EXPECT_EQ(-1, fdinfo_rings(self->fd, &sq, &ev));
	ASSERT_EQ(0, tw_ring_init(self->fd, 128, 512, &self->r));
	ASSERT_EQ(0, fdinfo_rings(self->fd, &sq, &ev));
	EXPECT_EQ(128, sq);
	EXPECT_EQ(512, ev);
}

TEST_F(ring, an_arm_in_the_ring_fires_once_into_the_event_ring_never_early)
{
	struct twheel_ring_enter en;
	struct twheel_event ev[4];
	struct twheel_sqe e;
	uint64_t deadline;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 64, 64, &self->r));
	deadline = tw_now() + 30 * MS;
	e = tw_sqe_arm(7, TWHEEL_KIND_IDLE, deadline, 1007);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	EXPECT_TRUE(tw_ring_needs_enter(&self->r, deadline));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(1, en.applied);
	EXPECT_EQ(0, en.errors);
	EXPECT_EQ(1, *self->r.sq_head);
	/*
	 * Now the thread looks by the start of the timer's tick at the
	 * latest (earlier if its wheel has a slot to cascade first).
	 */
	EXPECT_GT(deadline + self->tick_ns, *self->r.look_ns);

	ASSERT_EQ(1, reap_n(self->fd, &self->r, ev, 1, 2000));
	EXPECT_EQ(7, ev[0].conn_id);
	EXPECT_EQ(1007, ev[0].user_data);
	EXPECT_EQ(deadline, ev[0].deadline_ns);
	EXPECT_LE(deadline, ev[0].fired_ns);
	EXPECT_EQ(0, ev[0].flags);
	EXPECT_GE(tw_now(), ev[0].fired_ns);
	/* Once: nothing more in the ring, nothing for read(). */
	EXPECT_EQ(0, tw_ring_wait(self->fd, &self->r, 100));
	EXPECT_EQ(0, tw_read_events(self->fd, ev, 4, 0));
}

/*
 * After one doorbell, arms due after the promise, re-arms for later and
 * cancels all go in without a system call, and the cancels win.
 */
TEST_F(ring, entries_after_the_promise_need_no_system_call_and_cancels_win)
{
	enum { N = 64 };
	struct twheel_event ev[3 * N];
	struct twheel_ring_enter en;
	struct twheel_stats st;
	uint64_t first, look;
	struct twheel_sqe e;
	unsigned int got, i, late = 0, early = 0;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 8 * N, 4 * N, &self->r));
	first = tw_now() + 200 * MS;
	/* Conns 1, 2 and 3 due at once; 2 and 3 changed below. */
	for (i = 1; i <= 3; i++) {
		e = tw_sqe_arm(i, TWHEEL_KIND_IDLE, first, i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	}
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	look = *self->r.look_ns;
	ASSERT_GE(first + self->tick_ns, look);

	/*
	 * Changed in the very tick they are due, with no system call: the
	 * thread takes the ring before it fires anything in that tick.
	 */
	e = tw_sqe_cancel(2, TWHEEL_KIND_IDLE, 0);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	e = tw_sqe_arm(3, TWHEEL_KIND_IDLE, first + 100 * MS, 3003);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	ASSERT_FALSE(tw_ring_needs_enter(&self->r, first + 100 * MS));

	for (i = 0; i < N; i++) {
		uint64_t d = first + (10 + i) * MS;

		/* Conn 100+i: armed at d, re-armed for d + 50 ms. */
		e = tw_sqe_arm(100 + i, TWHEEL_KIND_RETRANSMIT, d, 100 + i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
		ASSERT_FALSE(tw_ring_needs_enter(&self->r, d));
		e = tw_sqe_arm(100 + i, TWHEEL_KIND_RETRANSMIT, d + 50 * MS,
			       1100 + i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
		/* Conn 200+i: armed at d, then cancelled. */
		e = tw_sqe_arm(200 + i, TWHEEL_KIND_CONNECT, d, 200 + i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
		e = tw_sqe_cancel(200 + i, TWHEEL_KIND_CONNECT, 0);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	}
	/*
	 * The doorbell took entries, so the thread looks again within a
	 * tick, and takes these without one.
	 */
	for (i = 0; i < 1000 && *self->r.sq_head != self->r.sq_local_tail; i++)
		poll(NULL, 0, 2);
	EXPECT_EQ(self->r.sq_local_tail, *self->r.sq_head);

	got = reap_n(self->fd, &self->r, ev, 2 + N, 3000);
	ASSERT_EQ(2 + N, got);
	for (i = 0; i < got; i++) {
		EXPECT_EQ(0, ev[i].flags);
		if (ev[i].fired_ns < ev[i].deadline_ns)
			early++;
		/* Not conn 2, and conn 3 only as re-armed. */
		ASSERT_NE(2, ev[i].conn_id);
		if (ev[i].conn_id == 1) {
			EXPECT_EQ(first, ev[i].deadline_ns);
			continue;
		}
		if (ev[i].conn_id == 3) {
			EXPECT_EQ(3003, ev[i].user_data);
			EXPECT_EQ(first + 100 * MS, ev[i].deadline_ns);
			continue;
		}
		/* Only the re-armings fire; no cancelled one. */
		ASSERT_LE(100, ev[i].conn_id);
		ASSERT_GT(100 + N, ev[i].conn_id);
		EXPECT_EQ(1000 + ev[i].conn_id, ev[i].user_data);
		EXPECT_EQ(first + (10 + ev[i].conn_id - 100 + 50) * MS,
			  ev[i].deadline_ns);
		if (ev[i].fired_ns > ev[i].deadline_ns + 500 * MS)
			late++;
	}
	EXPECT_EQ(0, early);
	if (!tw_debug_kernel())
		EXPECT_EQ(0, late);
	EXPECT_EQ(0, tw_ring_wait(self->fd, &self->r, 100));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.ring_enters);
	EXPECT_EQ(5 + 4 * N, st.ring_entries);
	EXPECT_EQ(0, st.armed);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(2 + N, st.ring_events);
	tw_report("%u entries, 1 doorbell, thread's draining %llu ns in all\n",
		  5 + 4 * N, (unsigned long long)st.ring_drain_ns);
}

TEST_F(ring, bad_entries_get_error_records_and_the_rest_is_applied)
{
	struct twheel_event ev[16];
	struct twheel_ring_enter en;
	struct twheel_stats st;
	struct twheel_sqe e[8];
	uint64_t far = tw_now() + 60000 * MS;
	unsigned int i, n;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 16, &self->r));
	e[0] = tw_sqe_arm(1, 0, far, 10);
	e[1] = tw_sqe_arm(2, TWHEEL_NR_KINDS, far, 11);		/* kind */
	e[2] = tw_sqe_arm(3, 0, far, 12);
	e[3] = tw_sqe_cancel(1, 0, 13);
	e[3].timeout_ns = 1;					/* unused */
	e[4] = tw_sqe_arm(4, 0, far, 14);
	e[4].op = 9;						/* op */
	e[5] = tw_sqe_arm(5, 0, far, 15);
	e[5].reserved = 1;					/* reserved */
	e[6] = tw_sqe_arm(6, 0, tw_now() + (1ULL << 62), 16);	/* range */
	e[7] = tw_sqe_cancel(3, 0, 17);
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, tw_ring_push(&self->r, &e[i]));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(3, en.applied);
	EXPECT_EQ(1, en.found);
	EXPECT_EQ(5, en.errors);
	EXPECT_EQ(0, en.error);
	EXPECT_EQ(8, *self->r.sq_head);

	n = tw_ring_reap(&self->r, ev, 16);
	ASSERT_EQ(5, n);
	const struct { uint64_t ud; int err; uint8_t op; } want[] = {
		{ 11, -EINVAL, TWHEEL_OP_ARM }, { 13, -EINVAL, TWHEEL_OP_CANCEL },
		{ 14, -EINVAL, 9 }, { 15, -EINVAL, TWHEEL_OP_ARM },
		{ 16, -ERANGE, TWHEEL_OP_ARM },
	};
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(ev[i].flags & TWHEEL_EVENT_ERROR);
		EXPECT_EQ(want[i].ud, ev[i].user_data);
		EXPECT_EQ(want[i].err, ev[i].error);
		EXPECT_EQ(want[i].op, TWHEEL_EVENT_OP(ev[i].flags));
	}
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(5, st.ring_errors);
	/* Conn 1 armed (its bad cancel not applied), conn 3 cancelled. */
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, tw_cancel(self->fd, 1, 0));
}

/*
 * A bad entry whose error record finds the event ring full stalls the
 * ring; the entries behind it wait, and so does the file's expiry, so that
 * a cancel behind it still wins. The doorbell, once there is room, goes on.
 */
TEST_F(ring, a_stalled_ring_holds_its_files_expiry_until_the_doorbell)
{
	struct twheel_event ev[4];
	struct twheel_ring_enter en;
	struct twheel_stats st;
	struct twheel_sqe e;
	uint64_t t;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 2, &self->r));
	/* Two events fill the event ring; the reader is behind. */
	t = tw_now() + 20 * MS;
	for (unsigned int i = 0; i < 2; i++) {
		e = tw_sqe_arm(i, 0, t, i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	}
	/* Conn 9 due a little later, through the same doorbell. */
	e = tw_sqe_arm(9, 0, t + 150 * MS, 9);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	ASSERT_EQ(3, en.applied);
	while (*self->r.ev_tail - *self->r.ev_head < 2 && tw_now() < t + 5000 * MS)
		poll(NULL, 0, 5);
	ASSERT_EQ(2, *self->r.ev_tail - *self->r.ev_head);

	/* A bad entry, then the cancel of conn 9, with no system call. */
	e = tw_sqe_arm(5, TWHEEL_NR_KINDS, t, 55);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	e = tw_sqe_cancel(9, 0, 0);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	/* Past conn 9's deadline: stalled, nothing taken, nothing fired. */
	while (tw_now() < t + 300 * MS)
		poll(NULL, 0, 20);
	EXPECT_EQ(TWHEEL_SQ_STALLED, *self->r.sq_flags);
	EXPECT_EQ(UINT64_MAX, *self->r.look_ns);
	EXPECT_EQ(3, *self->r.sq_head);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(2, st.fired);

	/* Room, then the doorbell: the record, and the cancel applied. */
	ASSERT_EQ(2, tw_ring_reap(&self->r, ev, 4));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(1, en.applied);
	EXPECT_EQ(1, en.found);
	EXPECT_EQ(1, en.errors);
	EXPECT_EQ(0, *self->r.sq_flags);
	ASSERT_EQ(1, tw_ring_reap(&self->r, ev, 4));
	EXPECT_EQ(55, ev[0].user_data);
	EXPECT_EQ(-EINVAL, ev[0].error);
	EXPECT_EQ(0, tw_ring_wait(self->fd, &self->r, 200));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(2, st.fired);
	EXPECT_EQ(0, st.armed);
}

TEST_F(ring, a_synchronous_enter_stops_at_a_bad_entry_and_reports_it)
{
	struct twheel_stats st;
	struct twheel_event ev[4];
	struct twheel_ring_enter en;
	uint64_t far = tw_now() + 60000 * MS;
	struct twheel_sqe e;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 16, &self->r));
	e = tw_sqe_arm(1, 0, far, 1);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	e = tw_sqe_arm(2, 0, far, 77);
	e.flags = 0x100;
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	e = tw_sqe_arm(3, 0, far, 3);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));

	ASSERT_EQ(0, tw_ring_enter(self->fd, TWHEEL_ENTER_SYNC, &en));
	EXPECT_EQ(1, en.applied);
	EXPECT_EQ(-EINVAL, en.error);
	EXPECT_EQ(77, en.user_data);
	EXPECT_EQ(0, en.errors);
	/*
	 * The bad entry is taken without a record; the one after it stays
	 * for the next call, or the thread, which looks within a tick.
	 */
	EXPECT_LE(2, *self->r.sq_head);
	ASSERT_EQ(0, tw_ring_enter(self->fd, TWHEEL_ENTER_SYNC, &en));
	EXPECT_EQ(0, en.error);
	EXPECT_EQ(3, *self->r.sq_head);
	EXPECT_EQ(0, tw_ring_reap(&self->r, ev, 4));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(2, st.armed);
}

static int write_param(const char *name, unsigned long v, unsigned long *old)
{
	char path[128], buf[32];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/twheel/parameters/%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	*old = strtoul(buf, NULL, 10);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%lu\n", v);
	return fclose(f);
}

TEST_F(ring, an_arm_over_the_quota_gets_enospc_in_its_record)
{
	struct twheel_event ev[4];
	struct twheel_ring_enter en;
	uint64_t far = tw_now() + 60000 * MS;
	unsigned long old;
	struct twheel_sqe e;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 16, &self->r));
	if (write_param("quota", 2, &old))
		SKIP(return, "cannot set the quota");
	for (unsigned int i = 0; i < 3; i++) {
		e = tw_sqe_arm(i, 0, far, 40 + i);
		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	}
	EXPECT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	write_param("quota", old, &old);
	EXPECT_EQ(2, en.applied);
	EXPECT_EQ(1, en.errors);
	ASSERT_EQ(1, tw_ring_reap(&self->r, ev, 4));
	EXPECT_EQ(42, ev[0].user_data);
	EXPECT_EQ(-ENOSPC, ev[0].error);
}

TEST_F(ring, the_rings_count_against_their_users_page_limit)
{
	struct twheel_ring_setup s = { .size = sizeof(s) };
	long long before = tw_counter("memory_bytes");
	unsigned long old;
	int fd2, status;
	pid_t pid;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 1024, 1024, &self->r));
	if (before != TW_NO_COUNTER)
		EXPECT_LE(before + (long long)self->r.size,
			  tw_counter("memory_bytes"));
	/* Root is exempt: drop the capability in a child to see the limit. */
	if (write_param("max_user_ring_pages", self->r.size / 4096 + 1, &old))
		SKIP(return, "cannot set max_user_ring_pages");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* uid 65534 without CAP_SYS_RESOURCE, its own file. */
		int fd3;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		fd3 = open("/dev/twheel", O_RDWR);
		if (fd3 < 0)
			_exit(3);
		s.sq_entries = 1024;
		s.ev_entries = 1024;
		if (ioctl(fd3, TWHEEL_IOC_RING_SETUP, &s))
			_exit(4);
		fd2 = open("/dev/twheel", O_RDWR);
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		s.sq_entries = 1024;
		s.ev_entries = 1024;
		if (!ioctl(fd2, TWHEEL_IOC_RING_SETUP, &s) || errno != ENOSPC)
			_exit(5);
		close(fd3);
		/* Closing the first file gives its pages back. */
		fd3 = open("/dev/twheel", O_RDWR);
		memset(&s, 0, sizeof(s));
		s.size = sizeof(s);
		s.sq_entries = 1024;
		s.ev_entries = 1024;
		_exit(ioctl(fd3, TWHEEL_IOC_RING_SETUP, &s) ? 6 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	write_param("max_user_ring_pages", old, &old);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static long long read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(s, f);
	return fclose(f);
}

#define CG	"/sys/fs/cgroup"
#define CG_TEST	CG "/twheel-ring-test"

TEST_F(ring, the_rings_are_charged_to_the_memory_cgroup)
{
	long long before, after;
	int status, fd;
	pid_t pid;
	char buf[32];

	if (tw_setup_skipped(_metadata))
		return;
	if (access(CG "/cgroup.controllers", R_OK))
		mount("none", CG, "cgroup2", 0, NULL);
	if (write_str(CG "/cgroup.subtree_control", "+memory") ||
	    (mkdir(CG_TEST, 0755) && errno != EEXIST) ||
	    access(CG_TEST "/memory.current", R_OK))
		SKIP(return, "no cgroup v2 memory controller here");

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct tw_ring r;

		snprintf(buf, sizeof(buf), "%d", getpid());
		if (write_str(CG_TEST "/cgroup.procs", buf))
			_exit(2);
		fd = open("/dev/twheel", O_RDWR);
		if (fd < 0)
			_exit(3);
		before = read_ll(CG_TEST "/memory.current");
		if (tw_ring_init(fd, 32768, 65536, &r))
			_exit(4);
		after = read_ll(CG_TEST "/memory.current");
		/*
		 * Every page of the rings, at least. The cgroup is new and
		 * holds this process alone; what was charged before may be a
		 * batch taken ahead (memcg's per-CPU stock), so the rings
		 * may not show in full as a difference.
		 */
		_exit(after >= (long long)r.size && after > before ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	rmdir(CG_TEST);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(ring, events_that_find_the_ring_full_wait_in_the_kernel_none_lost)
{
	enum { N = 200 };
	struct twheel_event ev[N + 8];
	struct twheel_ring_enter en;
	struct twheel_stats st;
	struct twheel_arm arms[N];
	struct twheel_batch b;
	unsigned char seen[N] = { 0 };
	unsigned int got, i, by_read;
	uint64_t deadline = tw_now() + 30 * MS;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 8, &self->r));
	/* Armed by the ioctl: rings and batches work side by side. */
	for (i = 0; i < N; i++) {
		arms[i] = (struct twheel_arm){
			.conn_id = i, .timeout_ns = deadline, .user_data = i,
			.flags = TWHEEL_ARM_ABS,
		};
	}
	ASSERT_EQ(N, tw_arm_batch(self->fd, arms, N, &b));
	for (int waited = 0; waited < 5000; waited += 10) {
		ASSERT_EQ(0, tw_stats(self->fd, &st));
		if (st.fired == N)
			break;
		poll(NULL, 0, 10);
	}
	ASSERT_EQ(N, st.fired);
	/* The ring holds 8, the kernel the rest, and says so. */
	EXPECT_EQ(8, *self->r.ev_tail - *self->r.ev_head);
	EXPECT_EQ(N - 8, *self->r.ev_queued);
	EXPECT_EQ(N - 8, st.queued);

	/* read() takes from the kernel queue. */
	got = tw_read_events(self->fd, ev, 10, 0);
	ASSERT_EQ(10, got);
	by_read = got;
	/* And the header says so at once, for a reader about to sleep. */
	EXPECT_EQ(N - 8 - 10, *self->r.ev_queued);
	/* ENTER moves what fits into the ring as room frees. */
	got += tw_ring_reap(&self->r, ev + got, 8);
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(8, en.moved);
	got += reap_n(self->fd, &self->r, ev + got, N - got, 1000);
	ASSERT_EQ(N, got);
	for (i = 0; i < got; i++) {
		ASSERT_GT(N, ev[i].user_data);
		EXPECT_EQ(0, seen[ev[i].user_data]);
		seen[ev[i].user_data] = 1;
		EXPECT_LE(deadline, ev[i].fired_ns);
	}
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(N - by_read, st.ring_events);
	EXPECT_EQ(0, *self->r.ev_queued);
}

TEST_F(ring, poll_sees_the_event_ring_and_a_sleeper_that_asked_is_woken)
{
	struct pollfd p = { .events = POLLIN | POLLRDBAND };
	struct twheel_ring_enter en;
	struct twheel_event ev;
	struct twheel_sqe e;
	uint64_t deadline;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 16, &self->r));
	p.fd = self->fd;
	EXPECT_EQ(0, poll(&p, 1, 0));
	deadline = tw_now() + 100 * MS;
	e = tw_sqe_arm(5, 0, deadline, 5);
	ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	/* A sleeper that set TWHEEL_EV_NEED_WAKEUP is woken by the record. */
	EXPECT_EQ(1, tw_ring_wait(self->fd, &self->r, 5000));
	EXPECT_LE(deadline, tw_now());
	/* Records in the ring are POLLRDBAND; POLLIN is what read() takes. */
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLRDBAND, p.revents);
	ASSERT_EQ(1, tw_ring_reap(&self->r, &ev, 1));
	EXPECT_EQ(0, poll(&p, 1, 0));
}

/*
 * A turn that fires many timers wakes a reader asleep on the event ring
 * once, at its end, with every record of the turn already in the ring: not
 * once per chunk of records moved, and not while the thread is still in
 * the middle of the turn.
 */
TEST_F(ring, a_turn_wakes_a_sleeping_reader_once_with_all_its_records)
{
	enum { N = 1000 };	/* one turn: fewer than its 1024 connections */
	static struct twheel_event ev[N];
	static struct twheel_arm arms[N];
	static unsigned char seen[N];
	struct twheel_stats st0, st1;
	struct twheel_batch b;
	unsigned int i, got = 0;
	uint64_t deadline = tw_now() + 300 * MS;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 16, 1024, &self->r));
	for (i = 0; i < N; i++)
		arms[i] = (struct twheel_arm){
			.conn_id = i, .timeout_ns = deadline, .user_data = i,
			.flags = TWHEEL_ARM_ABS,
		};
	ASSERT_EQ(N, tw_arm_batch(self->fd, arms, N, &b));
	ASSERT_EQ(0, tw_stats(self->fd, &st0));
	if (tw_now() >= deadline - 50 * MS)
		SKIP(return, "arming took too long to sleep before the deadline");
	while (got < N) {
		unsigned int n = tw_ring_reap(&self->r, ev + got, N - got);

		if (n) {
			got += n;
			continue;
		}
		ASSERT_LT(0, tw_ring_wait(self->fd, &self->r, 5000));
	}
	ASSERT_EQ(0, tw_stats(self->fd, &st1));
	EXPECT_EQ(1, st1.wakeups - st0.wakeups);
	EXPECT_EQ(N, st1.ring_events - st0.ring_events);
	for (i = 0; i < N; i++) {
		ASSERT_GT(N, ev[i].user_data);
		EXPECT_EQ(0, seen[ev[i].user_data]++);
		EXPECT_LE(deadline, ev[i].fired_ns);
	}
}

/*
 * The oracle: random arms, re-arms, cancels and connection cancels through
 * the ring, with the doorbell only where the promise asks for it. Every
 * arming that nothing superseded fires exactly once, never early; a
 * superseded one fires only if what superseded it was published after the
 * tick in which it was due began; nothing is lost when the event ring is
 * small.
 */
#define ORACLE_CONNS	256
#define ORACLE_KINDS	4
#define ORACLE_OPS	6000

struct oracle_arming {
	uint64_t deadline;
	uint64_t superseded;	/* when, 0: current */
	int fired;
};

static void oracle(struct __test_metadata *_metadata, int fd,
		   struct tw_ring *r, uint64_t tick_ns)
{
	static struct oracle_arming arming[ORACLE_OPS + 1];
	uint64_t current[ORACLE_CONNS][ORACLE_KINDS] = { { 0 } };
	struct twheel_event ev[256];
	struct twheel_ring_enter en;
	unsigned int seed = 12345, enters = 0, ud = 0, i, n;
	unsigned int fired = 0, superseded_fired = 0, due = 0;
	uint64_t last = 0, t;

	for (unsigned int op = 0; op < ORACLE_OPS; op++) {
		unsigned int conn = rand_r(&seed) % ORACLE_CONNS;
		unsigned int kind = rand_r(&seed) % ORACLE_KINDS;
		unsigned int what = rand_r(&seed) % 10;
		struct twheel_sqe e;
		uint64_t d = 0;

		if (what < 6) {
			d = tw_now() + (rand_r(&seed) % 300) * MS / 2;
			e = tw_sqe_arm(conn, kind, d, ++ud);
		} else if (what < 9) {
			e = tw_sqe_cancel(conn, kind, 0);
		} else {
			e = (struct twheel_sqe){ .conn_id = conn,
						 .op = TWHEEL_OP_CANCEL_CONN };
		}
		while (tw_ring_push(r, &e)) {
			ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
			enters++;
		}
		/* Supersede in the model: published by now. */
		t = tw_now();
		for (unsigned int k = 0; k < ORACLE_KINDS; k++) {
			uint64_t *c = &current[conn][k];

			if (e.op == TWHEEL_OP_CANCEL_CONN ||
			    (k == kind)) {
				if (*c)
					arming[*c].superseded = t;
				*c = 0;
			}
		}
		if (e.op == TWHEEL_OP_ARM) {
			arming[ud].deadline = d;
			current[conn][kind] = ud;
			if (d > last)
				last = d;
			if (tw_ring_needs_enter(r, d)) {
				ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
				ASSERT_EQ(0, en.errors);
				enters++;
			}
		}
		/* Reap as a daemon would, now and then. */
		if (!(op % 64)) {
			while ((n = tw_ring_reap(r, ev, 256))) {
				for (i = 0; i < n; i++) {
					ASSERT_EQ(0, ev[i].flags);
					ASSERT_GE(ud, ev[i].user_data);
					ASSERT_EQ(0, arming[ev[i].user_data].fired);
					arming[ev[i].user_data].fired = 1;
					ASSERT_EQ(arming[ev[i].user_data].deadline,
						  ev[i].deadline_ns);
					ASSERT_LE(ev[i].deadline_ns,
						  ev[i].fired_ns);
				}
			}
			if (*r->ev_queued) {
				ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
				enters++;
			}
		}
		if (!(op % 16))
			poll(NULL, 0, 1);
	}
	/* Wait past the last deadline, then take everything. */
	while (tw_now() < last + 20 * MS)
		poll(NULL, 0, 20);
	for (;;) {
		n = tw_ring_reap(r, ev, 256);
		if (!n && *r->ev_queued) {
			ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
			continue;
		}
		if (!n && tw_ring_wait(fd, r, 300) <= 0)
			break;
		for (i = 0; i < n; i++) {
			ASSERT_EQ(0, ev[i].flags);
			ASSERT_EQ(0, arming[ev[i].user_data].fired);
			arming[ev[i].user_data].fired = 1;
			ASSERT_EQ(arming[ev[i].user_data].deadline,
				  ev[i].deadline_ns);
			ASSERT_LE(ev[i].deadline_ns, ev[i].fired_ns);
		}
	}
	for (i = 1; i <= ud; i++) {
		struct oracle_arming *a = &arming[i];
		/* The start of the tick in which it was due. */
		uint64_t tick_start = (a->deadline + tick_ns - 1) / tick_ns *
				      tick_ns;

		if (!a->superseded) {
			due++;
			EXPECT_EQ(1, a->fired)
				TH_LOG("arming %u (deadline %llu) never fired",
				       i, (unsigned long long)a->deadline);
		} else if (a->fired) {
			superseded_fired++;
			EXPECT_LE(tick_start, a->superseded)
				TH_LOG("arming %u fired though superseded %lld ns before its tick",
				       i, (long long)(tick_start - a->superseded));
		}
		fired += a->fired;
	}
	EXPECT_EQ(0, tw_ring_reap(r, ev, 1));
	tw_report("%u ring ops, %u doorbells, %u armings due fired once, %u superseded ones had fired first\n",
		  ORACLE_OPS, enters, due, superseded_fired);
}

TEST_F_TIMEOUT(ring, random_traffic_fires_exactly_what_is_due, 120)
{
	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 1024, 4096, &self->r));
	oracle(_metadata, self->fd, &self->r, self->tick_ns);
}

TEST_F_TIMEOUT(ring, random_traffic_through_a_small_event_ring_loses_nothing, 120)
{
	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 64, 16, &self->r));
	oracle(_metadata, self->fd, &self->r, self->tick_ns);
}

/* --- a hostile writer -------------------------------------------------- */

struct scribbler {
	struct tw_ring *r;
	volatile int stop;
	unsigned int seed;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint32_t *words = s->r->map;
	size_t nr = s->r->size / sizeof(*words);

	while (!s->stop) {
		size_t i = rand_r(&s->seed) % nr;

		words[i] = rand_r(&s->seed) * 2654435761u;
		/* The indices and entries most of the time. */
		if (rand_r(&s->seed) % 4 == 0)
			*s->r->sq_tail = *s->r->sq_head + rand_r(&s->seed);
	}
	return NULL;
}

/* Counts the events of @fd's timers armed by the ioctl, read or ringed. */
static unsigned int good_file_round(struct __test_metadata *_metadata,
				    int fd, struct tw_ring *r, unsigned int n,
				    uint64_t base_ud)
{
	struct twheel_event ev[64];
	struct twheel_ring_enter en;
	uint64_t d = tw_now() + 20 * MS;
	unsigned int got = 0, i;
	struct twheel_sqe e;

	for (i = 0; i < n; i++) {
		e = tw_sqe_arm(i, 0, d, base_ud + i);
		ASSERT_EQ(0, tw_ring_push(r, &e));
	}
	ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
	EXPECT_EQ(n, en.applied);
	got = reap_n(fd, r, ev, n, 3000);
	for (i = 0; i < got; i++) {
		EXPECT_EQ(base_ud + ev[i].conn_id, ev[i].user_data);
		EXPECT_LE(d, ev[i].fired_ns);
	}
	return got;
}

TEST_F_TIMEOUT(ring, scribbling_over_the_rings_hurts_only_their_file, 120)
{
	long long armed0 = tw_counter("timers_armed");
	struct scribbler s = { .seed = 99 };
	struct twheel_ring_enter en;
	struct tw_ring good;
	pthread_t th;
	int fd2;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 256, 64, &self->r));
	fd2 = open("/dev/twheel", O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tw_ring_init(fd2, 64, 64, &good));
	/* The bad file keeps its thread busy: something is always due soon. */
	ASSERT_EQ(0, tw_arm(self->fd, 1, 0, 1 * MS, 0, 0));

	s.r = &self->r;
	ASSERT_EQ(0, pthread_create(&th, NULL, scribble, &s));
	for (unsigned int round = 0; round < 10; round++) {
		uint64_t until = tw_now() + 30 * MS;

		/* Doorbells on garbage: whatever they apply, no harm. */
		while (tw_now() < until) {
			if (tw_ring_enter(self->fd, round & 1 ?
					  TWHEEL_ENTER_SYNC : 0, &en))
				EXPECT_EQ(EINTR, errno);
			tw_arm(self->fd, 1000000 + round, 0, 1 * MS, 0, 0);
		}
		/* The other file works throughout, exactly. */
		EXPECT_EQ(32, good_file_round(_metadata, fd2, &good, 32,
					      round * 100));
	}
	s.stop = 1;
	pthread_join(th, NULL);
	/* Both files close cleanly and give back every timer they held. */
	tw_ring_exit(&self->r);
	close(self->fd);
	self->fd = -1;
	tw_ring_exit(&good);
	close(fd2);
	if (armed0 != TW_NO_COUNTER)
		EXPECT_EQ(armed0, tw_counter("timers_armed"));
}

TEST_F_TIMEOUT(ring, unmapped_rings_and_a_close_during_draining_are_safe, 120)
{
	long long armed0 = tw_counter("timers_armed");
	struct twheel_ring_enter en;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;
	/* Unmapped: the kernel works on its own mapping of the pages. */
	ASSERT_EQ(0, tw_ring_init(self->fd, 1024, 64, &self->r));
	for (unsigned int i = 0; i < 1000; i++) {
		struct twheel_sqe e = tw_sqe_arm(i, 0, tw_now() + 60000 * MS, i);

		ASSERT_EQ(0, tw_ring_push(&self->r, &e));
	}
	tw_ring_exit(&self->r);
	ASSERT_EQ(0, tw_ring_enter(self->fd, 0, &en));
	EXPECT_EQ(1000, en.applied);
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1000, st.armed);

	/* Closed while the thread takes a full ring, again and again. */
	for (unsigned int round = 0; round < 40; round++) {
		struct tw_ring r;
		int fd = open("/dev/twheel", O_RDWR);

		ASSERT_LE(0, fd);
		ASSERT_EQ(0, tw_ring_init(fd, 1024, 64, &r));
		/* One doorbell makes the thread look in a millisecond. */
		struct twheel_sqe e = tw_sqe_arm(0, 0, tw_now() + 1 * MS, 0);

		ASSERT_EQ(0, tw_ring_push(&r, &e));
		ASSERT_EQ(0, tw_ring_enter(fd, 0, &en));
		for (unsigned int i = 1; i < 1024; i++) {
			e = tw_sqe_arm(i, i % 4, tw_now() + (i % 3) * MS, i);
			if (tw_ring_push(&r, &e))
				break;
		}
		poll(NULL, 0, round % 3);
		if (round & 1)
			tw_ring_exit(&r);
		close(fd);
		tw_ring_exit(&r);
	}
	tw_ring_exit(&self->r);
	close(self->fd);
	self->fd = -1;
	/* The mappings and files are gone: so is every timer. */
	if (armed0 != TW_NO_COUNTER) {
		for (int waited = 0; waited < 2000 &&
		     tw_counter("timers_armed") != armed0; waited += 10)
			poll(NULL, 0, 10);
		EXPECT_EQ(armed0, tw_counter("timers_armed"));
	}
}

TEST_F_TIMEOUT(ring, a_forked_child_shares_the_mapping_and_the_file, 60)
{
	struct twheel_event ev[64];
	unsigned char seen[32] = { 0 };
	unsigned int got, i;
	int status;
	pid_t pid;

	if (tw_setup_skipped(_metadata))
		return;
	ASSERT_EQ(0, tw_ring_init(self->fd, 64, 64, &self->r));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child arms through the shared mapping, then scribbles. */
		struct twheel_ring_enter en;
		uint64_t d = tw_now() + 20 * MS;

		for (i = 0; i < 32; i++) {
			struct twheel_sqe e = tw_sqe_arm(i, 1, d, 500 + i);

			if (tw_ring_push(&self->r, &e))
				_exit(2);
		}
		if (tw_ring_enter(self->fd, 0, &en) || en.applied != 32)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The parent reaps what the child armed: one file, one ring. */
	got = reap_n(self->fd, &self->r, ev, 32, 3000);
	ASSERT_EQ(32, got);
	for (i = 0; i < got; i++) {
		ASSERT_LE(500, ev[i].user_data);
		ASSERT_GT(532, ev[i].user_data);
		EXPECT_EQ(0, seen[ev[i].user_data - 500]);
		seen[ev[i].user_data - 500] = 1;
	}
	/* A child that scribbles and dies leaves a working file. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		memset(self->r.map, 0xa5, self->r.size);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* The kernel kept its own indices: put back ours. */
	*self->r.sq_tail = *self->r.sq_head = 32;
	self->r.sq_local_tail = 32;
	*self->r.ev_head = 32;
	EXPECT_EQ(8, good_file_round(_metadata, self->fd, &self->r, 8, 900));
}

TEST_HARNESS_MAIN
