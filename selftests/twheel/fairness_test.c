// SPDX-License-Identifier: GPL-2.0
/*
 * Files on one CPU are served in bounded turns: while one file has a great
 * many timers due at once, another file's timer on the same CPU fires
 * within a few ticks of its deadline, not after the whole batch (which
 * takes tens of milliseconds under qemu, more on the debug kernel).
 */

#include <stdlib.h>

#include "twheel_test.h"

/* A fixture only for the time limit: the work is long under qemu. */
FIXTURE(fairness) {
	int unused;
};

FIXTURE_SETUP(fairness)
{
}

FIXTURE_TEARDOWN(fairness)
{
}

TEST_F_TIMEOUT(fairness, a_files_timer_fires_on_time_while_another_expires_a_great_many, 300)
{
	unsigned int n = tw_debug_kernel() ? 100000 : 1000000, got = 0;
	uint64_t due, last = 0, span, late;
	struct twheel_event victim, *ev;
	struct twheel_arm *a;
	struct twheel_batch b;
	int big, small;

	big = tw_open_or_skip(O_RDWR);
	small = tw_open_or_skip(O_RDWR);
	/* Both served by CPU 0, whatever CPU reads them. */
	ASSERT_EQ(0, tw_run_on(0));
	ASSERT_EQ(0, tw_set_cpu(big, 0));
	ASSERT_EQ(0, tw_set_cpu(small, 0));

	a = calloc(n, sizeof(*a));
	ev = calloc(n, sizeof(*ev));
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, ev);
	/*
	 * Everything must be armed before it is due: time one batch, on
	 * connections the real ones then re-arm, and leave three times
	 * what the rest should take.
	 */
	for (unsigned int i = 0; i < n; i++) {
		a[i].conn_id = i;
		a[i].timeout_ns = 3600 * NSEC_PER_SEC;
	}
	due = tw_now();
	ASSERT_EQ(65536, tw_arm_batch(big, a, 65536, &b));
	due = tw_now() + 3 * (tw_now() - due) * (n / 65536) + NSEC_PER_SEC;
	/* Due a tick after the great many. */
	ASSERT_EQ(0, tw_arm(small, 1, TWHEEL_KIND_IDLE,
			    due + NSEC_PER_MSEC, 1, TWHEEL_ARM_ABS));
	for (unsigned int i = 0; i < n; i++) {
		a[i].timeout_ns = due;
		a[i].flags = TWHEEL_ARM_ABS;
	}
	for (unsigned int i = 0; i < n; i += 65536) {
		unsigned int k = n - i < 65536 ? n - i : 65536;

		ASSERT_EQ((int)k, tw_arm_batch(big, a + i, k, &b));
	}
	ASSERT_LT(tw_now(), due);

	/* Waits until it is due, and a minute more. */
	ASSERT_EQ(1, tw_read_n(small, &victim, 1,
			       (due - tw_now()) / NSEC_PER_MSEC + 60000));
	/* The great many are read once they are all out. */
	ASSERT_EQ(0, tw_wait_queued(big, n, 120000));
	while (got < n) {
		int k = tw_read_events(big, ev + got, n - got, 60000);

		ASSERT_LT(0, k);
		got += k;
	}
	for (unsigned int i = 0; i < n; i++)
		if (ev[i].fired_ns > last)
			last = ev[i].fired_ns;
	span = last - due;
	late = victim.fired_ns - victim.deadline_ns;
	free(a);
	free(ev);
	close(big);
	close(small);

	tw_report("%u timers due at once took %llu us to expire; the other file's timer fired %llu us late\n",
		  n, (unsigned long long)span / 1000,
		  (unsigned long long)late / 1000);
	/* A few ticks: a turn of the other file, and the thread's wake-up. */
	EXPECT_LT(late, 10 * NSEC_PER_MSEC);
}

TEST_HARNESS_MAIN
