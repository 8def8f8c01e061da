// SPDX-License-Identifier: GPL-2.0
/*
 * poll() and epoll: a file is readable exactly while an event waits, and a
 * waiter is woken when a timer fires.
 */

#include <pthread.h>
#include <sys/epoll.h>

#include "twheel_test.h"

FIXTURE(poll) {
	int fd;
};

FIXTURE_SETUP(poll)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(poll)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(poll, a_file_with_nothing_fired_is_not_readable)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN | POLLOUT };

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(0, poll(&pfd, 1, 50));
}

TEST_F(poll, poll_wakes_when_a_timer_fires_and_stays_readable_until_read)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct twheel_event ev[2];
	uint64_t deadline = tw_now() + 40 * NSEC_PER_MSEC;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, deadline, 0, TWHEEL_ARM_ABS));
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN, pfd.revents);
	EXPECT_LE(deadline, tw_now());
	/* Still readable: polling does not consume. */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(poll, epoll_reports_readiness_edge_and_level)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = 77 };
	struct epoll_event out[2];
	struct twheel_event ev;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &e));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 5000));
	EXPECT_EQ(77, out[0].data.u64);
	EXPECT_EQ(EPOLLIN, out[0].events);
	/* Level-triggered: reported again until read. */
	EXPECT_EQ(1, epoll_wait(ep, out, 2, 0));
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 0));

	/* Edge-triggered: one report per batch of new events. */
	e.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &e));
	ASSERT_EQ(0, tw_arm(self->fd, 2, TWHEEL_KIND_IDLE, 20 * NSEC_PER_MSEC, 0, 0));
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 5000));
	EXPECT_EQ(0, epoll_wait(ep, out, 2, 50));
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(2, ev.conn_id);
	close(ep);
}

TEST_F(poll, cancelling_the_only_waiting_event_ends_readiness)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ(1, tw_cancel(self->fd, 1, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(poll, a_reader_blocked_in_another_thread_is_woken_by_the_expiry)
{
	struct tw_blocked_read br = { .fd = self->fd, .cpu = -1 };
	uint64_t deadline = tw_now() + 100 * NSEC_PER_MSEC;
	pthread_t th;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, pthread_create(&th, NULL, tw_blocking_read, &br));
	ASSERT_EQ(0, tw_arm(self->fd, 3, TWHEEL_KIND_CONNECT, deadline, 5, TWHEEL_ARM_ABS));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(sizeof(br.ev), br.ret);
	EXPECT_EQ(5, br.ev.user_data);
	EXPECT_LE(deadline, br.when);
}

TEST_HARNESS_MAIN
