// SPDX-License-Identifier: GPL-2.0
/*
 * The library's errors that the device cannot be made to cause: a module
 * older than the library (-EPROTO) and allocations that fail (-ENOMEM).
 * Each must come back as a negative errno, leave errno alone, leak no
 * descriptor and leave what existed before the call as it was.
 */

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib_test.h"

/*
 * Linked with -Wl,--wrap=ioctl,--wrap=calloc,--wrap=realloc: the library's
 * ioctls and allocations go through here first.
 */
int __real_ioctl(int fd, unsigned long cmd, void *arg);
void *__real_calloc(size_t nmemb, size_t size);
void *__real_realloc(void *ptr, size_t size);

/* If set, the api_version every handshake reports. */
static bool fake_handshake;
static uint32_t fake_api_version;
/* Allocations to let through before one fails; -1: never fail. */
static int allocs_before_failure = -1;
static unsigned int nr_refused;

int __wrap_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = __real_ioctl(fd, cmd, arg);

	if (!ret && fake_handshake && cmd == TWHEEL_IOC_HANDSHAKE)
		((struct twheel_handshake *)arg)->api_version = fake_api_version;
	return ret;
}

static bool alloc_refused(void)
{
	if (allocs_before_failure < 0)
		return false;
	if (allocs_before_failure--)
		return false;
	nr_refused++;
	errno = ENOMEM;
	return true;
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	return alloc_refused() ? NULL : __real_calloc(nmemb, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	return alloc_refused() ? NULL : __real_realloc(ptr, size);
}

/* Makes allocation number @n (from 0) from now on fail, and only that one. */
static void fail_alloc(int n)
{
	allocs_before_failure = n;
	nr_refused = 0;
}

/* The descriptor the next open() would get. */
static int next_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static uint64_t armed(struct twheel *tw)
{
	struct twheel_stats st;

	if (twheel_get_stats(tw, &st))
		return UINT64_MAX;
	return st.armed;
}

TEST(open_refuses_a_module_older_than_the_library)
{
	struct twheel *tw = (struct twheel *)0x1;
	int fd;

	if (access("/dev/twheel", F_OK))
		SKIP(return, "/dev/twheel is missing: module not loaded");
	fd = next_fd();
	fake_handshake = true;
	fake_api_version = TWHEEL_API_VERSION - 1;
	errno = ERRNO_CANARY;
	EXPECT_EQ(-EPROTO, twheel_open(&tw, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ((struct twheel *)0x1, tw);
	EXPECT_EQ(fd, next_fd());

	/* A newer module is fine: its uapi only grew. */
	fake_api_version = TWHEEL_API_VERSION + 1;
	ASSERT_EQ(0, twheel_open(&tw, 0, TWHEEL_CPU_ANY));
	twheel_close(tw);
}

TEST(open_without_memory_gives_enomem_and_leaks_no_descriptor)
{
	struct twheel *tw = (struct twheel *)0x1;
	int fd;

	if (access("/dev/twheel", F_OK))
		SKIP(return, "/dev/twheel is missing: module not loaded");
	fd = next_fd();
	fail_alloc(0);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ENOMEM, twheel_open(&tw, 0, TWHEEL_CPU_ANY));
	EXPECT_EQ(1, nr_refused);
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ((struct twheel *)0x1, tw);
	EXPECT_EQ(fd, next_fd());
}

TEST(batch_that_cannot_grow_keeps_the_entries_it_had)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_buf *b = (struct twheel_batch_buf *)0x1;
	struct twheel_batch_result res;
	int i;

	fail_alloc(0);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ENOMEM, twheel_batch_new(tw, &b));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ((struct twheel_batch_buf *)0x1, b);
	fail_alloc(-1);
	ASSERT_EQ(0, twheel_batch_new(tw, &b));

	/* The first entry allocates room for 64, the 65th for 128. */
	fail_alloc(0);
	EXPECT_EQ(-ENOMEM, twheel_batch_arm(b, 1, TWHEEL_KIND_IDLE,
					    60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(0, twheel_batch_count(b));
	fail_alloc(-1);
	for (i = 0; i < 64; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, i, TWHEEL_KIND_IDLE,
					      60 * NSEC_PER_SEC, 0, 0));
	errno = ERRNO_CANARY;
	fail_alloc(0);
	EXPECT_EQ(-ENOMEM, twheel_batch_arm(b, 64, TWHEEL_KIND_IDLE,
					    60 * NSEC_PER_SEC, 0, 0));
	fail_alloc(0);
	EXPECT_EQ(-ENOMEM, twheel_batch_cancel(b, 0, TWHEEL_KIND_IDLE));
	fail_alloc(0);
	EXPECT_EQ(-ENOMEM, twheel_batch_cancel_conn(b, 0));
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(64, twheel_batch_count(b));

	/* Nothing reached the device, and the 64 still do. */
	fail_alloc(-1);
	EXPECT_EQ(0, armed(tw));
	EXPECT_EQ(64, twheel_batch_flush(b, &res));
	EXPECT_EQ(64, armed(tw));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(flush_that_cannot_allocate_sends_nothing_and_keeps_the_entries)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_batch_result res;
	struct twheel_batch_buf *b;
	int i;

	ASSERT_EQ(0, twheel_batch_new(tw, &b));
	for (i = 0; i < 10; i++)
		ASSERT_EQ(i, twheel_batch_arm(b, i, TWHEEL_KIND_IDLE,
					      60 * NSEC_PER_SEC, 0, 0));
	/* Its scratch array, for the entries packed as the device wants them. */
	fail_alloc(0);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ENOMEM, twheel_batch_flush(b, &res));
	EXPECT_EQ(1, nr_refused);
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(10, twheel_batch_count(b));
	EXPECT_EQ(0, armed(tw));

	fail_alloc(-1);
	EXPECT_EQ(10, twheel_batch_flush(b, &res));
	EXPECT_EQ(10, armed(tw));
	twheel_batch_free(b);
	twheel_close(tw);
}

TEST(connection_that_cannot_be_allocated_does_not_exist)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_conn *conn;
	int n;

	/* The first connection allocates the table, then itself. */
	for (n = 0; n < 2; n++) {
		conn = (struct twheel_conn *)0x1;
		fail_alloc(n);
		errno = ERRNO_CANARY;
		EXPECT_EQ(-ENOMEM, twheel_conn_open(tw, 7, NULL, &conn));
		EXPECT_EQ(1, nr_refused);
		EXPECT_EQ(ERRNO_CANARY, errno);
		EXPECT_EQ((struct twheel_conn *)0x1, conn);
		EXPECT_EQ(NULL, twheel_conn_find(tw, 7));
	}
	fail_alloc(-1);
	ASSERT_EQ(0, twheel_conn_open(tw, 7, NULL, &conn));
	EXPECT_EQ(conn, twheel_conn_find(tw, 7));
	twheel_close(tw);
}

TEST(kind_that_cannot_get_a_slot_is_not_armed)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_conn *conn;

	ASSERT_EQ(0, twheel_conn_open(tw, 7, NULL, &conn));
	fail_alloc(0);
	errno = ERRNO_CANARY;
	EXPECT_EQ(-ENOMEM, twheel_conn_set_idle_timeout(conn,
							60 * NSEC_PER_SEC));
	EXPECT_EQ(1, nr_refused);
	EXPECT_EQ(ERRNO_CANARY, errno);
	EXPECT_EQ(0, twheel_conn_armed(conn));
	EXPECT_EQ(0, armed(tw));

	fail_alloc(-1);
	EXPECT_EQ(0, twheel_conn_set_idle_timeout(conn, 60 * NSEC_PER_SEC));
	EXPECT_EQ(1U << TWHEEL_KIND_IDLE, twheel_conn_armed(conn));
	EXPECT_EQ(1, armed(tw));
	twheel_close(tw);
}

TEST(ring_without_memory_gives_enomem_and_leaks_no_descriptor)
{
	struct twheel *tw = tl_open_or_skip(0);
	struct twheel_ring *ring;
	int n, fd = next_fd();

	/* Its state, then its reads, buffers and FIFO. */
	for (n = 0; n < 4; n++) {
		ring = (struct twheel_ring *)0x1;
		fail_alloc(n);
		errno = ERRNO_CANARY;
		EXPECT_EQ(-ENOMEM, twheel_ring_init(&ring, tw, 0, 0));
		EXPECT_EQ(1, nr_refused);
		EXPECT_EQ(ERRNO_CANARY, errno);
		EXPECT_EQ((struct twheel_ring *)0x1, ring);
		EXPECT_EQ(fd, next_fd());
	}
	fail_alloc(-1);
	ASSERT_EQ(0, twheel_ring_init(&ring, tw, 0, 0));
	twheel_ring_exit(ring);
	twheel_close(tw);
}

TEST_HARNESS_MAIN
