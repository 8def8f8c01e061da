// SPDX-License-Identifier: GPL-2.0
/*
 * The module's debugfs counters follow what the device does, and every
 * gauge (contexts, connections, timers, memory) returns to where it was once
 * a file is closed: nothing leaks.
 */

#include <stdio.h>
#include <stdlib.h>

#include "twheel_test.h"

FIXTURE(counters) {
	int fd;
};

FIXTURE_SETUP(counters)
{
	self->fd = -1;
	if (access(TW_COUNTERS, R_OK))
		SKIP(return, "%s is missing: no debugfs", TW_COUNTERS);
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(counters)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(counters, the_gauges_count_what_a_file_holds_and_drop_back_when_it_closes)
{
	long long contexts, conns, armed, memory;
	struct twheel_arm a[13];
	struct twheel_batch b;
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	close(self->fd);
	self->fd = -1;
	contexts = tw_counter("contexts");
	conns = tw_counter("connections");
	armed = tw_counter("timers_armed");
	memory = tw_counter("memory_bytes");

	fd = tw_open_or_skip(O_RDWR);
	EXPECT_EQ(contexts + 1, tw_counter("contexts"));
	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < 13; i++) {
		/* Ten connections with one kind, one with three. */
		a[i].conn_id = i < 10 ? i : 10;
		a[i].kind = i < 10 ? 0 : i - 10;
		a[i].timeout_ns = 60 * NSEC_PER_SEC;
	}
	ASSERT_EQ(13, tw_arm_batch(fd, a, 13, &b));
	EXPECT_EQ(conns + 11, tw_counter("connections"));
	EXPECT_EQ(armed + 13, tw_counter("timers_armed"));
	EXPECT_LE(memory + 11 * 96, tw_counter("memory_bytes"));

	/* Closing with timers armed gives everything back. */
	close(fd);
	EXPECT_EQ(contexts, tw_counter("contexts"));
	EXPECT_EQ(conns, tw_counter("connections"));
	EXPECT_EQ(armed, tw_counter("timers_armed"));
	EXPECT_EQ(memory, tw_counter("memory_bytes"));
}

TEST_F(counters, expiries_events_and_cancels_are_counted)
{
	long long exp = tw_counter("expiries"), queued = tw_counter("events_queued");
	long long rd = tw_counter("events_read"), canc = tw_counter("cancels");
	long long arms = tw_counter("arms"), rearms = tw_counter("rearms");
	long long armed = tw_counter("timers_armed");
	struct twheel_event ev[8];

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int i = 0; i < 5; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 9, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(1, tw_arm(self->fd, 9, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 5, 5000));
	EXPECT_EQ(exp + 5, tw_counter("expiries"));
	EXPECT_EQ(queued + 5, tw_counter("events_queued"));
	EXPECT_EQ(arms + 6, tw_counter("arms"));
	EXPECT_EQ(rearms + 1, tw_counter("rearms"));
	EXPECT_EQ(armed + 1, tw_counter("timers_armed"));

	ASSERT_EQ(5 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(rd + 5, tw_counter("events_read"));
	ASSERT_EQ(1, tw_cancel(self->fd, 9, TWHEEL_KIND_IDLE));
	EXPECT_EQ(canc + 1, tw_counter("cancels"));
	EXPECT_EQ(armed, tw_counter("timers_armed"));
}

TEST_F(counters, connections_emptied_by_read_are_freed_by_it)
{
	long long conns = tw_counter("connections");
	struct twheel_event ev[16];

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int i = 0; i < 10; i++)
		ASSERT_EQ(0, tw_arm(self->fd, 100 + i, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 10, 5000));
	EXPECT_EQ(conns + 10, tw_counter("connections"));
	/* No ioctl after the read: the read itself gave them back. */
	ASSERT_EQ(10 * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(conns, tw_counter("connections"));
}

TEST_F(counters, the_threads_do_not_wake_while_nothing_is_armed)
{
	long long wakeups;
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(1, tw_read_events(self->fd, &ev, 1, 5000));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, 50 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(1, tw_cancel(self->fd, 2, TWHEEL_KIND_IDLE));
	wakeups = tw_counter("wakeups");
	EXPECT_EQ(0, tw_read_events(self->fd, &ev, 1, 300));
	EXPECT_EQ(wakeups, tw_counter("wakeups"));
}

TEST_HARNESS_MAIN
