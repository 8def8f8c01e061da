// SPDX-License-Identifier: GPL-2.0
/*
 * EAGAIN: an arm entry that needs a new connection while the file's
 * connection table is being resized stops the batch with -EAGAIN at that
 * entry; the entries before it stay applied, nothing else changes, and the
 * same entries succeed when tried again. A resize cannot be timed from user
 * space, so the test uses the module's fault injection point
 * (debugfs twheel/fail_conn_insert, on kernels with fault injection).
 */

#include "twheel_test.h"

#define FAIL_INSERT "/sys/kernel/debug/twheel/fail_conn_insert/"

FIXTURE(eagain) {
	int fd;
	int fail_fd;
};

FIXTURE_SETUP(eagain)
{
	self->fd = -1;
	self->fail_fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	if (access(FAIL_INSERT "probability", W_OK))
		SKIP(return, "no fault injection in this kernel");
	/* Once, for this thread only, while it asks for it. */
	ASSERT_EQ(0, tw_fault_setup(FAIL_INSERT, "1"));
	self->fail_fd = open("/proc/thread-self/make-it-fail", O_WRONLY);
	ASSERT_LE(0, self->fail_fd);
}

FIXTURE_TEARDOWN(eagain)
{
	if (self->fail_fd >= 0) {
		if (write(self->fail_fd, "0", 1) != 1)
			TH_LOG("could not switch fault injection off");
		close(self->fail_fd);
		tw_write_str(FAIL_INSERT "probability", "0");
	}
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(eagain, a_busy_connection_table_stops_the_batch_at_the_new_connection)
{
	struct twheel_arm arms[3] = {
		/* An existing connection: no insert. */
		{ .conn_id = 1, .kind = TWHEEL_KIND_RETRANSMIT,
		  .timeout_ns = 60 * NSEC_PER_SEC },
		/* A new one: its insert fails. */
		{ .conn_id = 2, .kind = TWHEEL_KIND_IDLE,
		  .timeout_ns = 60 * NSEC_PER_SEC },
		{ .conn_id = 3, .kind = TWHEEL_KIND_IDLE,
		  .timeout_ns = 60 * NSEC_PER_SEC },
	};
	struct twheel_next next = { .size = sizeof(next) };
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));

	ASSERT_EQ(1, write(self->fail_fd, "1", 1));
	EXPECT_EQ(1, tw_batch(self->fd, TWHEEL_IOC_ARM, arms, 3, sizeof(arms[0]), &b));
	ASSERT_EQ(1, write(self->fail_fd, "0", 1));
	EXPECT_EQ(1, b.applied);
	EXPECT_EQ(-EAGAIN, b.error);
	EXPECT_EQ(0, b.found);

	/* Connection 1 has both kinds, 2 and 3 do not exist. */
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_NEXT, &next));
	EXPECT_EQ(2, next.armed);
	EXPECT_EQ(0, tw_cancel_conn(self->fd, 2));
	EXPECT_EQ(0, tw_cancel_conn(self->fd, 3));

	/* Tried again, the rest goes through. */
	EXPECT_EQ(2, tw_batch(self->fd, TWHEEL_IOC_ARM, &arms[1], 2, sizeof(arms[0]), &b));
	EXPECT_EQ(0, b.error);
	next = (struct twheel_next){ .size = sizeof(next) };
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_NEXT, &next));
	EXPECT_EQ(4, next.armed);
}

TEST_HARNESS_MAIN
