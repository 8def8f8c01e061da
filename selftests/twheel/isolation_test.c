// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation: every open() is a context of its own, in one process or two;
 * closing a file cancels what it held; a descriptor shared by dup() or
 * fork() is the same context, and each event is read exactly once.
 */

#include <stdlib.h>
#include <sys/wait.h>

#include "twheel_test.h"

FIXTURE(isolation) {
	int a, b;
};

FIXTURE_SETUP(isolation)
{
	self->a = -1;
	self->b = -1;
	self->a = tw_open_or_skip(O_RDWR);
	self->b = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(isolation)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

TEST_F(isolation, the_same_connection_id_in_two_files_is_two_connections)
{
	struct twheel_event ev;
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->a, 7, TWHEEL_KIND_IDLE, 30 * NSEC_PER_MSEC, 1, 0));
	ASSERT_EQ(0, tw_arm(self->b, 7, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 2, 0));
	/* Neither file sees, re-arms or cancels the other's timer. */
	ASSERT_EQ(0, tw_stats(self->b, &st));
	EXPECT_EQ(1, st.armed);
	EXPECT_EQ(1, st.arms);
	EXPECT_EQ(0, st.rearms);
	EXPECT_EQ(1, tw_cancel(self->b, 7, TWHEEL_KIND_IDLE));
	EXPECT_EQ(0, tw_cancel(self->b, 7, TWHEEL_KIND_IDLE));

	ASSERT_EQ(1, tw_read_events(self->a, &ev, 1, 5000));
	EXPECT_EQ(1, ev.user_data);
	EXPECT_EQ(0, tw_read_events(self->b, &ev, 1, 100));
}

TEST_F(isolation, events_go_only_to_the_file_that_armed_them)
{
	struct twheel_event ev[4];

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->a, 1, TWHEEL_KIND_IDLE, 0, 10, 0));
	ASSERT_EQ(0, tw_arm(self->b, 2, TWHEEL_KIND_IDLE, 0, 20, 0));
	ASSERT_EQ(1, tw_read_events(self->a, ev, 4, 5000));
	EXPECT_EQ(10, ev[0].user_data);
	ASSERT_EQ(1, tw_read_events(self->b, ev, 4, 5000));
	EXPECT_EQ(20, ev[0].user_data);
	EXPECT_EQ(0, tw_read_events(self->a, ev, 4, 100));
}

TEST_F(isolation, closing_a_file_with_armed_and_fired_timers_leaves_the_other_alone)
{
	struct twheel_event ev;
	int c = tw_open_or_skip(O_RDWR);

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int i = 0; i < 100; i++)
		ASSERT_EQ(0, tw_arm(c, i, i % TWHEEL_NR_KINDS,
				    i % 2 ? 0 : 60 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, tw_arm(self->a, 1, TWHEEL_KIND_IDLE, 40 * NSEC_PER_MSEC, 5, 0));
	ASSERT_EQ(0, tw_wait_queued(c, 50, 5000));
	ASSERT_EQ(0, close(c));

	ASSERT_EQ(1, tw_read_events(self->a, &ev, 1, 5000));
	EXPECT_EQ(5, ev.user_data);
	EXPECT_EQ(0, tw_read_events(self->a, &ev, 1, 100));
	EXPECT_EQ(0, tw_read_events(self->b, &ev, 1, 0));
}

TEST_F(isolation, another_process_cannot_reach_this_files_timers)
{
	struct twheel_event ev;
	pid_t pid;
	int status;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->a, 3, TWHEEL_KIND_IDLE, 50 * NSEC_PER_MSEC, 9, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Its own open: the same id is nothing there. */
		int fd = open("/dev/twheel", O_RDWR);

		if (fd < 0 || tw_cancel(fd, 3, TWHEEL_KIND_IDLE) != 0 ||
		    tw_cancel_conn(fd, 3) != 0 ||
		    tw_read_events(fd, &ev, 1, 200) != 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(1, tw_read_events(self->a, &ev, 1, 5000));
	EXPECT_EQ(9, ev.user_data);
}

TEST_F(isolation, a_dup_shares_the_context)
{
	struct twheel_event ev;
	int d = dup(self->a);

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_LE(0, d);
	ASSERT_EQ(0, tw_arm(d, 4, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 1, 0));
	EXPECT_EQ(1, tw_arm(self->a, 4, TWHEEL_KIND_IDLE, 0, 2, 0));
	ASSERT_EQ(1, tw_read_events(d, &ev, 1, 5000));
	EXPECT_EQ(2, ev.user_data);
	/* Closing the copy closes nothing: the open file lives on. */
	ASSERT_EQ(0, close(d));
	ASSERT_EQ(0, tw_arm(self->a, 4, TWHEEL_KIND_IDLE, 0, 3, 0));
	ASSERT_EQ(1, tw_read_events(self->a, &ev, 1, 5000));
	EXPECT_EQ(3, ev.user_data);
}

TEST_F(isolation, a_timer_a_forked_child_arms_fires_in_the_parents_file)
{
	struct twheel_event ev;
	int status;
	pid_t pid;

	if (tw_setup_skipped(_metadata))
		return;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(tw_arm(self->a, 12, TWHEEL_KIND_CONNECT, 0, 34, 0) != 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The child is gone; the open file and its timer are not. */
	ASSERT_EQ(1, tw_read_events(self->a, &ev, 1, 5000));
	EXPECT_EQ(12, ev.conn_id);
	EXPECT_EQ(34, ev.user_data);
}

TEST_F(isolation, a_forked_child_shares_the_context_and_each_event_is_read_once)
{
	enum { N = 400 };
	struct twheel_arm arms[N];
	struct twheel_batch b;
	struct twheel_stats st;
	struct twheel_event ev[64];
	int pipefd[2], status;
	unsigned int mine = 0, theirs = 0;
	unsigned char seen[N] = { 0 };
	pid_t pid;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child reads through the inherited descriptor. */
		unsigned int got = 0;

		close(pipefd[0]);
		for (;;) {
			int n = tw_read_events(self->a, ev, 64, 500);

			if (n <= 0)
				break;
			if (write(pipefd[1], ev, n * sizeof(ev[0])) < 0)
				_exit(1);
			got += n;
		}
		_exit(got ? 0 : 2);
	}
	close(pipefd[1]);

	memset(arms, 0, sizeof(arms));
	for (unsigned int i = 0; i < N; i++) {
		arms[i].conn_id = i;
		arms[i].timeout_ns = (i % 40) * NSEC_PER_MSEC;
		arms[i].user_data = i;
	}
	ASSERT_EQ(N, tw_arm_batch(self->a, arms, N, &b));
	/* The parent reads too; each event goes to one of them. */
	for (;;) {
		int n = tw_read_events(self->a, ev, 64, 500);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			ASSERT_EQ(0, seen[ev[i].user_data]);
			seen[ev[i].user_data] = 1;
		}
		mine += n;
	}
	for (;;) {
		ssize_t r = read(pipefd[0], ev, sizeof(ev));

		if (r <= 0)
			break;
		for (unsigned int i = 0; i < r / sizeof(ev[0]); i++) {
			ASSERT_EQ(0, seen[ev[i].user_data]);
			seen[ev[i].user_data] = 1;
		}
		theirs += r / sizeof(ev[0]);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(N, mine + theirs);
	ASSERT_EQ(0, tw_stats(self->a, &st));
	EXPECT_EQ(N, st.read);
	tw_report("%u events: %u read by the parent, %u by the child\n",
		  N, mine, theirs);
}

TEST_HARNESS_MAIN
