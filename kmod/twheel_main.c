// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: module entry and exit, parameters and limits.
 */

#include <linux/atomic.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/time64.h>

#include "twheel.h"
#include "twheel_conn.h"
#include "twheel_counters.h"
#include "twheel_cpu.h"
#include "twheel_ring.h"

static unsigned int tick_us = 1000;
module_param(tick_us, uint, 0444);
MODULE_PARM_DESC(tick_us,
		 "Wheel tick in microseconds, the granularity of expiry (1-1000000, default 1000)");

unsigned long twheel_quota = 1UL << 20;
module_param_named(quota, twheel_quota, ulong, 0644);
MODULE_PARM_DESC(quota,
		 "Most timers (armed or fired and unread) one open file may hold (default 1048576)");

unsigned long twheel_max_timers = 1UL << 22;
module_param_named(max_timers, twheel_max_timers, ulong, 0644);
MODULE_PARM_DESC(max_timers,
		 "Most timers all open files together may hold (default 4194304)");

/* The tick in nanoseconds, fixed at load time. */
u64 twheel_tick_ns;
/* The longest timeout: the wheel's direct range, capped at 2^62 ns. */
u64 twheel_max_timeout_ns;
/* Timers (armed or fired and unread) held by all open files. */
atomic_long_t twheel_nr_timers = ATOMIC_LONG_INIT(0);

static int __init twheel_init(void)
{
	int ret;

	if (!tick_us || tick_us > USEC_PER_SEC)
		return -EINVAL;
	twheel_tick_ns = (u64)tick_us * NSEC_PER_USEC;
	twheel_max_timeout_ns = min_t(u64, TWHEEL_WHEEL_MAX_DELTA,
				      div64_u64(1ULL << 62, twheel_tick_ns)) *
				twheel_tick_ns;
	twheel_simd_init();

	ret = twheel_counters_init();
	if (ret)
		goto err;
	ret = twheel_cpu_init();
	if (ret)
		goto err_stats;
	ret = twheel_ring_init();
	if (ret)
		goto err_cpu;
	ret = misc_register(&twheel_miscdev);
	if (ret)
		goto err_ring;
	return 0;

err_ring:
	twheel_ring_exit();
err_cpu:
	twheel_cpu_exit();
err_stats:
	twheel_counters_exit();
err:
	return ret;
}

static void __exit twheel_exit(void)
{
	misc_deregister(&twheel_miscdev);
	twheel_ring_exit();
	twheel_cpu_exit();
	twheel_counters_exit();
}

module_init(twheel_init);
module_exit(twheel_exit);

MODULE_DESCRIPTION("Timing-wheel timer service for user-space protocol daemons");
MODULE_LICENSE("GPL");
