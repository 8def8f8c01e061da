// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite twheel_simd: the batch computation of twheel_simd_*.c.
 *
 * The scalar reference is checked against its definition, then the AVX2
 * version against the scalar one on thousands of random batches, which must
 * agree bit for bit (every output word, and nothing written past the
 * batch). The suite compiles its own copy of both
 * (twheel_simd_test_avx2.c is the vector unit, with the same flags as the
 * module's), so it runs without twheel.ko. tests/wheel/ builds this same
 * file natively against a stand-in for <kunit/test.h>.
 */
#include <kunit/test.h>

#include "twheel_simd_scalar.c"

#ifdef __KERNEL__
#include <linux/module.h>
#include <linux/string.h>
#if TWHEEL_HAVE_AVX2
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#endif
#endif

#define TWHEEL_SIMD_TEST_BATCHES	4000
#define TWHEEL_SIMD_TEST_MAX_N		300
/* What the tests fill outputs with, to see writes past the valid entries. */
#define TWHEEL_SIMD_TEST_POISON		0x5a5a5a5a5a5a5a5aULL

struct twheel_simd_test_buf {
	u64 ns[TWHEEL_SIMD_TEST_MAX_N];
	u64 t_ref[TWHEEL_SIMD_TEST_MAX_N];
	u64 t_vec[TWHEEL_SIMD_TEST_MAX_N];
};

static int twheel_simd_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct twheel_simd_test_buf),
				   GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

/* A small deterministic generator (xorshift64*), the same on every run. */
static u64 twheel_simd_test_random(u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* A value of random magnitude: every bit length from 0 to 64 is as likely. */
static u64 twheel_simd_test_magnitude(u64 *state)
{
	unsigned int bits = twheel_simd_test_random(state) % 65;
	u64 v = twheel_simd_test_random(state);

	return bits ? v >> (64 - bits) : 0;
}

/*
 * A tick as the module allows (1 us to 1 s, mostly round numbers), or now
 * and then one beyond 2^32 ns, where the vector code must step aside.
 */
static u64 twheel_simd_test_tick_ns(u64 *state)
{
	u64 r = twheel_simd_test_random(state);

	switch (r % 8) {
	case 0:
		return 1000;
	case 1:
		return 1000000;
	case 2:
		return 1000000000;
	case 3:
		return (r >> 8) % 5000000000ULL + 1;
	case 4:
		return 1;
	default:
		return 1000 * ((r >> 8) % 1000000 + 1);
	}
}

#if TWHEEL_HAVE_AVX2
static bool twheel_simd_test_have_avx2(void)
{
#ifdef __KERNEL__
	return boot_cpu_has(X86_FEATURE_AVX2) &&
	       boot_cpu_has(X86_FEATURE_OSXSAVE);
#else
	return __builtin_cpu_supports("avx2");
#endif
}

/*
 * The FPU section around one call of the vector code, as the module has
 * it: a batch of at most TWHEEL_SIMD_TEST_MAX_N entries, nothing that sleeps.
 */
static void twheel_simd_test_fpu_begin(void)
{
#ifdef __KERNEL__
	kernel_fpu_begin();
#endif
}

static void twheel_simd_test_fpu_end(void)
{
#ifdef __KERNEL__
	kernel_fpu_end();
#endif
}

static void twheel_simd_test_poison(u64 *a, u64 *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		a[i] = TWHEEL_SIMD_TEST_POISON;
		b[i] = TWHEEL_SIMD_TEST_POISON;
	}
}
#endif /* TWHEEL_HAVE_AVX2 */

/* The scalar reference, against the definition of a tick rounded up. */
static void twheel_simd_test_scalar_ticks_round_up(struct kunit *test)
{
	struct twheel_simd_test_buf *b = test->priv;
	u64 state = 0x7469636b;
	unsigned int batch, i;

	for (batch = 0; batch < TWHEEL_SIMD_TEST_BATCHES; batch++) {
		u64 t = twheel_simd_test_tick_ns(&state);
		unsigned int n = twheel_simd_test_random(&state) %
				 TWHEEL_SIMD_TEST_MAX_N;

		for (i = 0; i < n; i++)
			b->ns[i] = twheel_simd_test_magnitude(&state) >> 1;
		twheel_ticks_up_scalar(b->ns, b->t_ref, n, t);
		for (i = 0; i < n; i++) {
			/* ns < 2^63 and t < 2^33: nothing below wraps. */
			KUNIT_ASSERT_GE(test, b->t_ref[i] * t, b->ns[i]);
			if (b->t_ref[i])
				KUNIT_ASSERT_LT(test, (b->t_ref[i] - 1) * t,
						b->ns[i]);
		}
	}
}

/* AVX2 and scalar agree on every random batch of deadlines. */
static void twheel_simd_test_avx2_ticks_match_scalar(struct kunit *test)
{
#if TWHEEL_HAVE_AVX2
	struct twheel_simd_test_buf *b = test->priv;
	u64 state = 0x61767832;
	unsigned int batch, i, vector_lanes = 0;

	if (!twheel_simd_test_have_avx2())
		kunit_skip(test, "no AVX2");

	for (batch = 0; batch < TWHEEL_SIMD_TEST_BATCHES; batch++) {
		u64 t = twheel_simd_test_tick_ns(&state);
		u64 base = twheel_simd_test_random(&state) % 4 ?
			   twheel_simd_test_magnitude(&state) >> 2 :
			   twheel_simd_test_random(&state);
		unsigned int n = twheel_simd_test_random(&state) %
				 TWHEEL_SIMD_TEST_MAX_N;

		/*
		 * Runs of nearby deadlines, as in a real batch; deadlines next
		 * to a multiple of the tick, with quotients up to the largest
		 * the vectors take (where their estimate is least exact); and
		 * outliers.
		 */
		for (i = 0; i < n; i++) {
			u64 r = twheel_simd_test_random(&state);

			if (r % 8 == 0)
				b->ns[i] = twheel_simd_test_random(&state);
			else if (r % 8 < 4)
				b->ns[i] = (twheel_simd_test_magnitude(&state) >>
					    13) * t + 1 - (r >> 8) % 3;
			else
				b->ns[i] = base + twheel_simd_test_magnitude(&state) %
						  (4 * t);
		}
		twheel_simd_test_poison(b->t_ref, b->t_vec,
					TWHEEL_SIMD_TEST_MAX_N);
		twheel_ticks_up_scalar(b->ns, b->t_ref, n, t);
		twheel_simd_test_fpu_begin();
		twheel_ticks_up_avx2(b->ns, b->t_vec, n, t);
		twheel_simd_test_fpu_end();
		for (i = 0; i < TWHEEL_SIMD_TEST_MAX_N; i++)
			KUNIT_ASSERT_EQ(test, b->t_vec[i], b->t_ref[i]);
		if (!(t >> 32))
			vector_lanes += n & ~3U;

		/* In place, as the module calls it. */
		memcpy(b->t_vec, b->ns, n * sizeof(u64));
		twheel_simd_test_fpu_begin();
		twheel_ticks_up_avx2(b->t_vec, b->t_vec, n, t);
		twheel_simd_test_fpu_end();
		for (i = 0; i < n; i++)
			KUNIT_ASSERT_EQ(test, b->t_vec[i], b->t_ref[i]);
	}
	/* The comparison meant something only if the vectors did the work. */
	KUNIT_EXPECT_GT(test, vector_lanes, 100000);
#else
	kunit_skip(test, "not x86-64");
#endif
}

static struct kunit_case twheel_simd_test_cases[] = {
	KUNIT_CASE(twheel_simd_test_scalar_ticks_round_up),
	KUNIT_CASE(twheel_simd_test_avx2_ticks_match_scalar),
	{}
};

static struct kunit_suite twheel_simd_test_suite = {
	.name = "twheel_simd",
	.init = twheel_simd_test_init,
	.test_cases = twheel_simd_test_cases,
};

kunit_test_suite(twheel_simd_test_suite);

MODULE_DESCRIPTION("KUnit tests for the twheel batch computation");
MODULE_LICENSE("GPL");
