// SPDX-License-Identifier: GPL-2.0
/*
 * read(): whole struct twheel_event records only, as many as fit; blocks
 * until an event fires unless O_NONBLOCK; -EINVAL for a buffer smaller than
 * one record; a buffer that faults loses no event.
 */

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "twheel_test.h"

FIXTURE(read) {
	int fd;
};

FIXTURE_SETUP(read)
{
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR);
}

FIXTURE_TEARDOWN(read)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(read, the_record_is_the_size_the_handshake_reports)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	EXPECT_EQ(sizeof(struct twheel_event), hs.event_size);
	EXPECT_EQ(TWHEEL_EVENT_SIZE, hs.event_size);
}

TEST_F(read, a_buffer_smaller_than_one_record_is_einval)
{
	char buf[sizeof(struct twheel_event) - 1];

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->fd, buf, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(read, an_empty_nonblocking_file_is_eagain)
{
	struct twheel_event ev;
	int fd = tw_open_or_skip(O_RDWR | O_NONBLOCK);

	if (tw_setup_skipped(_metadata))
		return;

	EXPECT_EQ(-1, read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	/* Armed but not due yet: still nothing to read. */
	ASSERT_EQ(0, tw_arm(fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	EXPECT_EQ(-1, read(fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

TEST_F(read, a_blocking_read_returns_once_the_timer_fires)
{
	struct twheel_event ev;
	uint64_t t0 = tw_now();

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 50 * NSEC_PER_MSEC, 7, 0));
	ASSERT_EQ(sizeof(ev), read(self->fd, &ev, sizeof(ev)));
	EXPECT_LE(t0 + 50 * NSEC_PER_MSEC, tw_now());
	EXPECT_EQ(7, ev.user_data);
}

TEST_F(read, only_whole_records_are_returned)
{
	struct twheel_event ev[3];
	struct twheel_stats st;

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int i = 0; i < 3; i++)
		ASSERT_EQ(0, tw_arm(self->fd, i, TWHEEL_KIND_IDLE, 0, i, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 3, 5000));
	/* Room for two and a half: two come, the third stays queued. */
	ASSERT_EQ(2 * sizeof(ev[0]),
		  read(self->fd, ev, 2 * sizeof(ev[0]) + sizeof(ev[0]) / 2));
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	EXPECT_EQ(1, st.queued);
	EXPECT_EQ(sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
}

TEST_F(read, one_read_returns_every_queued_event_that_fits)
{
	const unsigned int n = 300;
	struct twheel_event ev[400];
	struct twheel_arm a[300];
	struct twheel_batch b;

	if (tw_setup_skipped(_metadata))
		return;

	memset(a, 0, sizeof(a));
	for (unsigned int i = 0; i < n; i++)
		a[i] = (struct twheel_arm){ .conn_id = i / 3, .kind = i % 3 };
	ASSERT_EQ(n, tw_arm_batch(self->fd, a, n, &b));
	ASSERT_EQ(0, tw_wait_queued(self->fd, n, 5000));
	ASSERT_EQ(n * sizeof(ev[0]), read(self->fd, ev, sizeof(ev)));
	/* A connection's events come together, in kind order. */
	for (unsigned int i = 0; i < n; i += 3) {
		EXPECT_EQ(ev[i].conn_id, ev[i + 2].conn_id);
		EXPECT_EQ(0, ev[i].kind);
		EXPECT_EQ(1, ev[i + 1].kind);
		EXPECT_EQ(2, ev[i + 2].kind);
	}
}

TEST_F(read, readv_fills_several_buffers_with_records)
{
	struct twheel_event ev[4];
	struct iovec iov[2] = {
		{ .iov_base = &ev[0], .iov_len = sizeof(ev[0]) },
		{ .iov_base = &ev[1], .iov_len = 3 * sizeof(ev[0]) },
	};

	if (tw_setup_skipped(_metadata))
		return;

	for (unsigned int i = 0; i < 4; i++)
		ASSERT_EQ(0, tw_arm(self->fd, 100 + i, TWHEEL_KIND_IDLE, 0, i, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 4, 5000));
	ASSERT_EQ(4 * sizeof(ev[0]), readv(self->fd, iov, 2));
	for (unsigned int i = 0; i < 4; i++)
		EXPECT_LE(100, ev[i].conn_id);
}

/* Queues @n events, of connections 0 to @n - 1, and waits for them. */
static int queue_events(int fd, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (tw_arm(fd, i, TWHEEL_KIND_IDLE, 0, 100 + i, 0))
			return -1;
	}
	return tw_wait_queued(fd, n, 5000);
}

/* Adds the events of @ev to @seen, one bit per connection; -1 on a repeat. */
static int note_events(const struct twheel_event *ev, unsigned int n,
		       uint32_t *seen)
{
	for (unsigned int i = 0; i < n; i++) {
		if (ev[i].conn_id >= 32 || (*seen & (1U << ev[i].conn_id)) ||
		    ev[i].user_data != 100 + ev[i].conn_id)
			return -1;
		*seen |= 1U << ev[i].conn_id;
	}
	return 0;
}

TEST_F(read, a_buffer_that_faults_part_way_loses_no_event)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t rec = sizeof(struct twheel_event);
	struct twheel_event rest[32];
	uint32_t seen = 0;
	char *map, *buf;
	ssize_t n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, queue_events(self->fd, 20));
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	/* Two records fit before the hole; the third crosses into it. */
	buf = map + page - 2 * rec - rec / 2;
	n = read(self->fd, buf, 20 * rec);
	EXPECT_EQ((ssize_t)(2 * rec), n);
	if (n > 0)
		EXPECT_EQ(0, note_events((struct twheel_event *)buf, n / rec,
					 &seen));
	/* The other eighteen are still there, each once. */
	n = read(self->fd, rest, sizeof(rest));
	EXPECT_EQ((ssize_t)(18 * rec), n);
	if (n > 0)
		EXPECT_EQ(0, note_events(rest, n / rec, &seen));
	EXPECT_EQ((1U << 20) - 1, seen);
	munmap(map, page);
}

TEST_F(read, a_buffer_not_yet_in_memory_is_faulted_in)
{
	size_t rec = sizeof(struct twheel_event);
	struct twheel_event *buf;
	uint32_t seen = 0;
	ssize_t n;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, queue_events(self->fd, 20));
	/* Untouched anonymous memory: no page behind it yet. */
	buf = mmap(NULL, 20 * rec, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	n = read(self->fd, buf, 20 * rec);
	EXPECT_EQ((ssize_t)(20 * rec), n);
	if (n > 0)
		EXPECT_EQ(0, note_events(buf, n / rec, &seen));
	EXPECT_EQ((1U << 20) - 1, seen);
	munmap(buf, 20 * rec);
}

TEST_F(read, an_unwritable_buffer_is_efault)
{
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	/* An address no process can write: the kernel's own. */
	EXPECT_EQ(-1, read(self->fd, (void *)0xffffffff81000000UL,
			   sizeof(struct twheel_event)));
	EXPECT_EQ(EFAULT, errno);
	/* The event is still there. */
	EXPECT_EQ(1, tw_read_events(self->fd, &ev, 1, 0));
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST_F(read, a_signal_interrupts_a_blocking_read)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	/* No SA_RESTART: the read comes back with EINTR. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, tw_arm(self->fd, 1, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0, 0));
	alarm(1);
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EINTR, errno);
}

TEST_HARNESS_MAIN
