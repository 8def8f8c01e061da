/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space stand-in for the part of <kunit/test.h> that
 * kmod/twheel_wheel_test.c uses, so that the KUnit suite also runs natively
 * under the sanitizers. It prints plain TAP, one line per case.
 *
 * Expectations record a failure and go on; assertions end the case, as in
 * KUnit. Memory from kunit_kzalloc() and friends is freed after each case.
 */
#ifndef _TWHEEL_KUNIT_SHIM_H
#define _TWHEEL_KUNIT_SHIM_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../twheel_compat.h"

#define MODULE_DESCRIPTION(s)
#define MODULE_LICENSE(s)

struct kunit_allocation {
	struct kunit_allocation *next;
};

struct kunit {
	const char *name;
	void *priv;
	bool failed;
	const char *skipped;
	jmp_buf abort;
	struct kunit_allocation *allocations;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn)	{ .run_case = fn, .name = #fn }

/* The suite to run; main() passes it to kunit_shim_run(). */
#define kunit_test_suite(suite) \
	static struct kunit_suite *const kunit_shim_suite = &(suite)

static inline void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	struct kunit_allocation *a;

	(void)gfp;
	a = calloc(1, sizeof(*a) + size);
	if (!a)
		return NULL;
	a->next = test->allocations;
	test->allocations = a;
	return a + 1;
}

static inline void *kunit_kcalloc(struct kunit *test, size_t n, size_t size,
				  gfp_t gfp)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	return kunit_kzalloc(test, n * size, gfp);
}

static inline __attribute__((format(printf, 5, 6)))
void kunit_shim_fail(struct kunit *test, bool assertion, const char *file,
		     int line, const char *fmt, ...)
{
	va_list ap;

	test->failed = true;
	printf("# %s: %s failed at %s:%d: ", test->name,
	       assertion ? "assertion" : "expectation", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (assertion)
		longjmp(test->abort, 1);
}

#define KUNIT_SHIM_CHECK(test, assertion, cond, text)			\
	do {								\
		if (!(cond))						\
			kunit_shim_fail(test, assertion, __FILE__,	\
					__LINE__, "%s", text);		\
	} while (0)

/* Both sides evaluated once; values shown as unsigned 64-bit numbers. */
#define KUNIT_SHIM_BINARY(test, assertion, left, op, right)		\
	do {								\
		__typeof__(left) _left = (left);			\
		__typeof__(right) _right = (right);			\
		if (!(_left op _right))					\
			kunit_shim_fail(test, assertion, __FILE__,	\
					__LINE__,			\
					"%s %s %s (%llu %s %llu)",	\
					#left, #op, #right,		\
					(unsigned long long)_left, #op,	\
					(unsigned long long)_right);	\
	} while (0)

#define KUNIT_SHIM_PTR(test, assertion, left, op, right)		\
	do {								\
		const void *_left = (left), *_right = (right);		\
		if (!(_left op _right))					\
			kunit_shim_fail(test, assertion, __FILE__,	\
					__LINE__, "%s %s %s (%p, %p)",	\
					#left, #op, #right,		\
					_left, _right);			\
	} while (0)

#define KUNIT_EXPECT_TRUE(t, c)		KUNIT_SHIM_CHECK(t, false, c, #c)
#define KUNIT_EXPECT_FALSE(t, c)	KUNIT_SHIM_CHECK(t, false, !(c), "!(" #c ")")
#define KUNIT_EXPECT_EQ(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, ==, r)
#define KUNIT_EXPECT_NE(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, !=, r)
#define KUNIT_EXPECT_LT(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, <, r)
#define KUNIT_EXPECT_LE(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, <=, r)
#define KUNIT_EXPECT_GT(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, >, r)
#define KUNIT_EXPECT_GE(t, l, r)	KUNIT_SHIM_BINARY(t, false, l, >=, r)
#define KUNIT_EXPECT_PTR_EQ(t, l, r)	KUNIT_SHIM_PTR(t, false, l, ==, r)
#define KUNIT_EXPECT_PTR_NE(t, l, r)	KUNIT_SHIM_PTR(t, false, l, !=, r)
#define KUNIT_ASSERT_TRUE(t, c)		KUNIT_SHIM_CHECK(t, true, c, #c)
#define KUNIT_ASSERT_FALSE(t, c)	KUNIT_SHIM_CHECK(t, true, !(c), "!(" #c ")")
#define KUNIT_ASSERT_EQ(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, ==, r)
#define KUNIT_ASSERT_NE(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, !=, r)
#define KUNIT_ASSERT_LT(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, <, r)
#define KUNIT_ASSERT_LE(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, <=, r)
#define KUNIT_ASSERT_GT(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, >, r)
#define KUNIT_ASSERT_GE(t, l, r)	KUNIT_SHIM_BINARY(t, true, l, >=, r)
#define KUNIT_ASSERT_PTR_EQ(t, l, r)	KUNIT_SHIM_PTR(t, true, l, ==, r)
#define KUNIT_ASSERT_NOT_NULL(t, p)	KUNIT_SHIM_CHECK(t, true, (p) != NULL, #p " != NULL")
#define KUNIT_ASSERT_NULL(t, p)		KUNIT_SHIM_CHECK(t, true, (p) == NULL, #p " == NULL")
/* Ends the case as skipped; the reason is a plain string here. */
#define kunit_skip(t, reason)					\
	do {								\
		(t)->skipped = (reason);				\
		longjmp((t)->abort, 1);					\
	} while (0)
#define KUNIT_FAIL(t, fmt, ...) \
	kunit_shim_fail(t, false, __FILE__, __LINE__, fmt, ##__VA_ARGS__)

/*
 * Runs one case; returns true if it passed or was skipped, and sets
 * @skipped to the reason of a skip.
 */
static inline bool kunit_shim_run_case(const struct kunit_suite *suite,
				       const struct kunit_case *c,
				       const char **skipped)
{
	/* Static, so that nothing of it lives in a register across longjmp(). */
	static struct kunit test;
	struct kunit *t = &test;

	memset(t, 0, sizeof(*t));
	t->name = c->name;
	if (suite->init && suite->init(t))
		kunit_shim_fail(t, false, __FILE__, __LINE__, "suite init failed");
	else if (!setjmp(t->abort))
		c->run_case(t);
	if (suite->exit)
		suite->exit(t);
	while (t->allocations) {
		struct kunit_allocation *a = t->allocations;

		t->allocations = a->next;
		free(a);
	}
	*skipped = t->failed ? NULL : t->skipped;
	return !t->failed;
}

/* Runs every case of @suite; prints TAP; returns the exit status. */
static inline int kunit_shim_run(const struct kunit_suite *suite)
{
	const struct kunit_case *c;
	unsigned int n = 0, i = 0, failed = 0;

	for (c = suite->test_cases; c->run_case; c++)
		n++;
	printf("TAP version 13\n");
	printf("# KUnit suite %s, built natively\n", suite->name);
	printf("1..%u\n", n);
	fflush(stdout);

	for (c = suite->test_cases; c->run_case; c++) {
		const char *skipped;
		bool passed = kunit_shim_run_case(suite, c, &skipped);

		printf("%sok %u %s.%s%s%s\n", passed ? "" : "not ", ++i,
		       suite->name, c->name, skipped ? " # SKIP " : "",
		       skipped ? skipped : "");
		fflush(stdout);
		failed += !passed;
	}
	printf("# Totals: pass:%u fail:%u\n", n - failed, failed);
	return failed ? 1 : 0;
}

#endif /* _TWHEEL_KUNIT_SHIM_H */
