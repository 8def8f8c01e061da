// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: when the batch computations use SIMD, and how.
 */

/**
 * DOC: SIMD batch paths
 *
 * One loop of the module works on whole batches of plain numbers: the
 * expiry thread turns the next deadline of every connection it queues
 * again into a tick (twheel_ticks_up_scalar()). The tick is a run-time
 * value, so each conversion is a 64-bit division. The loop has an AVX2
 * version in twheel_simd_avx2.c that divides four lanes at a time in double
 * precision and corrects the quotient with an exact integer remainder, so
 * that its results are bit for bit those of the scalar reference (the KUnit
 * suite twheel_simd checks this on thousands of random batches).
 *
 * The vector code runs only when all of these hold:
 *
 * - the kernel is x86-64 and the CPU has AVX2 with its register state
 *   enabled by the OS (checked once at load time);
 * - the module parameter ``simd`` is ``auto`` (the default; ``off`` keeps
 *   every batch scalar, and it can be switched at any time);
 * - the batch is at least as long as the measured threshold, which is
 *   higher when kernel_fpu_begin() would first have to save the calling
 *   task's user registers than when it has none to save (the expiry
 *   thread) or saved them already. Below it, the FPU section costs more
 *   than the vectors save (Documentation/simd.rst has the measurements);
 * - irq_fpu_usable() says the FPU may be used here.
 *
 * The arm ioctl's entries are checked and converted by the scalar code
 * alone (twheel_cmd.c): an ioctl's first FPU section must save the
 * caller's registers, which costs more than a whole chunk of entries
 * saves, so a vector version of that loop never ran.
 *
 * The vector code then runs between kernel_fpu_begin() and
 * kernel_fpu_end(), which disable preemption; a long batch is split into
 * sections of at most %TWHEEL_SIMD_FPU_CHUNK items, so preemption is never
 * off for longer than a few hundred nanoseconds of arithmetic. Nothing in
 * a section sleeps, allocates, takes a lock or touches user memory.
 * Everything else (non-x86 kernels, ``simd=off``, short batches) runs the
 * scalar reference. debugfs counts the expiry batches that used SIMD and
 * those that did not (Documentation/stats.rst).
 */

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "twheel_simd.h"
#include "twheel_counters.h"

#if TWHEEL_HAVE_AVX2
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#endif

/*
 * The shortest batches worth an FPU section (Documentation/simd.rst): a
 * section costs a few ns when there are no user registers to save (a kernel
 * thread) or they were saved already, but much more when
 * kernel_fpu_begin() must save them first ("cold").
 */
#define TWHEEL_SIMD_TICKS_MIN		16
#define TWHEEL_SIMD_TICKS_MIN_COLD	192
/* The most items between one kernel_fpu_begin() and its kernel_fpu_end(). */
#define TWHEEL_SIMD_FPU_CHUNK	256

enum twheel_simd_mode {
	TWHEEL_SIMD_OFF,
	TWHEEL_SIMD_AUTO,
};

static const char * const twheel_simd_modes[] = {
	[TWHEEL_SIMD_OFF]	= "off",
	[TWHEEL_SIMD_AUTO]	= "auto",
};

static int twheel_simd_mode = TWHEEL_SIMD_AUTO;
/* The CPU can run the vector code; set once at load time. */
static bool twheel_simd_capable __read_mostly;

static int twheel_simd_mode_set(const char *val, const struct kernel_param *kp)
{
	int mode = sysfs_match_string(twheel_simd_modes, val);

	if (mode < 0)
		return -EINVAL;
	WRITE_ONCE(twheel_simd_mode, mode);
	return 0;
}

static int twheel_simd_mode_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  twheel_simd_modes[READ_ONCE(twheel_simd_mode)]);
}

static const struct kernel_param_ops twheel_simd_mode_ops = {
	.set = twheel_simd_mode_set,
	.get = twheel_simd_mode_get,
};

module_param_cb(simd, &twheel_simd_mode_ops, NULL, 0644);
MODULE_PARM_DESC(simd,
		 "SIMD for batch computations: auto (where the CPU has AVX2 and it pays) or off (default auto)");

/**
 * twheel_simd_init() - find out once whether the CPU can run the vector code
 *
 * Context: module init.
 */
void twheel_simd_init(void)
{
#if TWHEEL_HAVE_AVX2
	twheel_simd_capable = boot_cpu_has(X86_FEATURE_AVX) &&
			      boot_cpu_has(X86_FEATURE_AVX2) &&
			      cpu_has_xfeatures(XFEATURE_MASK_SSE |
						XFEATURE_MASK_YMM, NULL);
#endif
	pr_debug("twheel: SIMD batch paths %s\n",
		 twheel_simd_capable ? "available (AVX2)" : "not available");
}

#if TWHEEL_HAVE_AVX2
/*
 * Would kernel_fpu_begin() have user registers to save? Not in a kernel
 * thread or an io_uring worker, which have none, nor once the task's have
 * been saved during this entry into the kernel (they are restored on the
 * way back to user space). Only the cost depends on this, never the result.
 */
static bool twheel_simd_fpu_cold(void)
{
	return !(current->flags & (PF_KTHREAD | PF_IO_WORKER)) &&
	       !test_thread_flag(TIF_NEED_FPU_LOAD);
}
#endif

/*
 * Whether a batch of @n items takes the vector path: @min items at least,
 * or @min_cold if the FPU section would first save the user's registers.
 */
static bool twheel_simd_use(unsigned int n, unsigned int min,
			    unsigned int min_cold)
{
#if TWHEEL_HAVE_AVX2
	return n >= min && twheel_simd_capable &&
	       READ_ONCE(twheel_simd_mode) == TWHEEL_SIMD_AUTO &&
	       (n >= min_cold || !twheel_simd_fpu_cold()) &&
	       irq_fpu_usable();
#else
	return false;
#endif
}

/**
 * twheel_batch_ticks_up() - twheel_ticks_up_scalar(), with SIMD if it pays
 * @ns: the deadlines
 * @tick: out: their ticks, rounded up; may be @ns itself
 * @n: how many
 * @tick_ns: the wheel tick in ns
 *
 * Context: any; may disable preemption for a short bounded time.
 * Return: true if SIMD was used.
 */
bool twheel_batch_ticks_up(const u64 *ns, u64 *tick, unsigned int n,
			   u64 tick_ns)
{
#if TWHEEL_HAVE_AVX2
	if (twheel_simd_use(n, TWHEEL_SIMD_TICKS_MIN,
			    TWHEEL_SIMD_TICKS_MIN_COLD)) {
		unsigned int done, len;

		for (done = 0; done < n; done += len) {
			len = min(n - done, (unsigned int)TWHEEL_SIMD_FPU_CHUNK);
			/* Bounded: len items of arithmetic, nothing else. */
			kernel_fpu_begin();
			twheel_ticks_up_avx2(&ns[done], &tick[done], len,
					     tick_ns);
			kernel_fpu_end();
		}
		return true;
	}
#endif
	twheel_ticks_up_scalar(ns, tick, n, tick_ns);
	return false;
}
