// SPDX-License-Identifier: GPL-2.0
/*
 * Memory per timer stays what Documentation/device.rst says whatever a
 * connection's history: a connection that once had sixteen kinds and keeps
 * one costs what a connection of one kind costs, whether its other kinds
 * were cancelled or fired and were read. Measured by the module's own
 * memory_bytes counter in debugfs.
 */

#include "twheel_test.h"

#define CONNS		512
/* A connection: its share of its block of 42, and of the table. */
#define MAX_BYTES_PER_TIMER	128

FIXTURE(memory) {
	int fd;
	long long before;
};

FIXTURE_SETUP(memory)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
	self->before = tw_counter("memory_bytes");
	if (self->before == TW_NO_COUNTER)
		SKIP(return, "no debugfs counters");
}

FIXTURE_TEARDOWN(memory)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Arms every kind of every connection; kinds below @due fire in 1 ms. */
static int arm_all_kinds(int fd, unsigned int due)
{
	static struct twheel_arm a[CONNS * TWHEEL_NR_KINDS];
	struct twheel_batch b;
	unsigned int n = 0;

	for (unsigned int c = 0; c < CONNS; c++) {
		for (unsigned int k = 0; k < TWHEEL_NR_KINDS; k++) {
			a[n] = (struct twheel_arm){
				.conn_id = c, .kind = k, .user_data = k,
				.timeout_ns = k < due ? NSEC_PER_MSEC :
						3600 * NSEC_PER_SEC,
			};
			n++;
		}
	}
	return tw_arm_batch(fd, a, n, &b) == (int)n ? 0 : -1;
}

TEST_F(memory, a_connection_that_lost_fifteen_kinds_to_cancels_costs_one_timer)
{
	static struct twheel_cancel c[CONNS * (TWHEEL_NR_KINDS - 1)];
	struct twheel_batch b;
	long long per_timer;
	unsigned int n = 0;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, arm_all_kinds(self->fd, 0));
	for (unsigned int i = 0; i < CONNS; i++)
		for (unsigned int k = 1; k < TWHEEL_NR_KINDS; k++)
			c[n++] = (struct twheel_cancel){ .conn_id = i, .kind = k };
	ASSERT_EQ((int)n, tw_batch(self->fd, TWHEEL_IOC_CANCEL, c, n,
				   sizeof(c[0]), &b));
	per_timer = (tw_counter("memory_bytes") - self->before) / CONNS;
	tw_report("%lld bytes per timer after 15 of 16 kinds were cancelled\n",
		  per_timer);
	EXPECT_LE(per_timer, MAX_BYTES_PER_TIMER);
}

TEST_F(memory, a_connection_that_lost_fourteen_kinds_to_reads_costs_two_timers)
{
	static struct twheel_event ev[CONNS * 14];
	long long per_timer;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, arm_all_kinds(self->fd, 14));
	ASSERT_EQ(CONNS * 14, tw_read_n(self->fd, ev, CONNS * 14, 5000));
	per_timer = (tw_counter("memory_bytes") - self->before) / (2 * CONNS);
	tw_report("%lld bytes per timer after 14 of 16 kinds fired and were read\n",
		  per_timer);
	EXPECT_LE(per_timer, MAX_BYTES_PER_TIMER);
}

TEST_HARNESS_MAIN
