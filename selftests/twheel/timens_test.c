// SPDX-License-Identifier: GPL-2.0
/*
 * Time namespaces: inside one whose CLOCK_MONOTONIC is a day ahead of the
 * host's, absolute deadlines, TWHEEL_IOC_NEXT and the times of events are
 * on that clock, as timerfd's are.
 */

#include <sched.h>
#include <sys/wait.h>

#include "twheel_test.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif

#define DAY_NS	(86400ULL * NSEC_PER_SEC)

/* What the child found wrong, as its exit status. */
enum {
	TIMENS_OK,
	TIMENS_CLOCK,
	TIMENS_OPEN,
	TIMENS_ARM,
	TIMENS_NEXT,
	TIMENS_READ,
	TIMENS_EVENT,
};

/* In the namespace: arm, ask NEXT, read both events, check every time. */
static int timens_child(void)
{
	struct twheel_next next = { .size = sizeof(next) };
	struct twheel_event ev[2];
	uint64_t now, late;
	int fd;

	now = tw_now();
	fd = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return TIMENS_OPEN;
	/* An absolute deadline on this clock, and a relative one earlier. */
	if (tw_arm(fd, 1, TWHEEL_KIND_IDLE, now + 50 * NSEC_PER_MSEC, 1,
		   TWHEEL_ARM_ABS) ||
	    tw_arm(fd, 2, TWHEEL_KIND_IDLE, 30 * NSEC_PER_MSEC, 2, 0))
		return TIMENS_ARM;
	if (ioctl(fd, TWHEEL_IOC_NEXT, &next) ||
	    next.next_ns < now + 30 * NSEC_PER_MSEC ||
	    next.next_ns > tw_now() + 30 * NSEC_PER_MSEC)
		return TIMENS_NEXT;
	/* Were the deadline taken as the host's, it would be a day away. */
	if (tw_read_n(fd, ev, 2, 5000) != 2)
		return TIMENS_READ;
	late = tw_now();
	for (int i = 0; i < 2; i++) {
		uint64_t want = ev[i].conn_id == 1 ? now + 50 * NSEC_PER_MSEC :
						     now + 30 * NSEC_PER_MSEC;

		if (ev[i].deadline_ns < want || ev[i].deadline_ns > want +
		    (ev[i].conn_id == 2 ? late - now : 0) ||
		    ev[i].fired_ns < ev[i].deadline_ns || ev[i].fired_ns > late)
			return TIMENS_EVENT;
	}
	close(fd);
	return TIMENS_OK;
}

TEST(times_are_on_the_clock_of_the_callers_time_namespace)
{
	int fd = tw_open_or_skip(O_RDWR);
	int status;
	pid_t pid;

	close(fd);
	if (unshare(CLONE_NEWTIME))
		SKIP(return, "no time namespaces: %s", strerror(errno));
	/* Before any task is in it: its monotonic clock a day ahead. */
	ASSERT_EQ(0, tw_write_str("/proc/self/timens_offsets",
				  "monotonic 86400 0"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child is in the namespace, a day ahead of its parent. */
		if (tw_now() < DAY_NS)
			_exit(TIMENS_CLOCK);
		_exit(timens_child());
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(TIMENS_OK, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
