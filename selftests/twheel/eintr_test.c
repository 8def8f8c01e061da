// SPDX-License-Identifier: GPL-2.0
/*
 * EINTR: a batch ioctl that waits for another batch on the same file comes
 * back with EINTR when a signal arrives, having changed nothing.
 *
 * The first batch is held inside the kernel, with the file's batch mutex
 * taken, by pointing its entries at a page that userfaultfd leaves missing
 * until the test supplies it. The test knows the batch is held from the
 * page-fault message; no timing is involved.
 */

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#include "twheel_test.h"

struct held_batch {
	int fd;
	struct twheel_arm *entries;	/* in the missing page */
	struct twheel_batch b;
	int ret;
	int err;
};

static void *held_batch_run(void *arg)
{
	struct held_batch *h = arg;

	h->ret = ioctl(h->fd, TWHEEL_IOC_ARM, &h->b);
	h->err = errno;
	return NULL;
}

struct waiter {
	int fd;
	struct twheel_arm arm;
	struct twheel_batch b;
	volatile int done;
	int ret;
	int err;
};

static void *waiter_run(void *arg)
{
	struct waiter *w = arg;

	w->ret = ioctl(w->fd, TWHEEL_IOC_ARM, &w->b);
	w->err = errno;
	w->done = 1;
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

FIXTURE(eintr) {
	int fd;
	int uffd;
	void *page;
	long page_size;
};

FIXTURE_SETUP(eintr)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	self->fd = -1;
	self->uffd = -1;
	self->page = MAP_FAILED;
	self->fd = tw_open_or_skip(O_RDWR);
	self->page_size = sysconf(_SC_PAGESIZE);

	self->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (self->uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_API, &api));
	self->page = mmap(NULL, self->page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	reg.range.start = (unsigned long)self->page;
	reg.range.len = self->page_size;
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_REGISTER, &reg));
}

FIXTURE_TEARDOWN(eintr)
{
	if (self->page != MAP_FAILED)
		munmap(self->page, self->page_size);
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(eintr, a_batch_waiting_for_another_is_interrupted_by_a_signal)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct held_batch h = { .fd = self->fd };
	struct waiter w = { .fd = self->fd };
	struct pollfd pfd = { .fd = self->uffd, .events = POLLIN };
	struct uffdio_copy copy = { 0 };
	struct uffd_msg msg;
	struct twheel_arm *src;
	struct twheel_next next = { .size = sizeof(next) };
	pthread_t ht, wt;
	unsigned int signals = 0;

	if (tw_setup_skipped(_metadata))
		return;

	/* The held batch: one entry, in the missing page. */
	h.entries = self->page;
	h.b.size = sizeof(h.b);
	h.b.entries = (uintptr_t)h.entries;
	h.b.count = 1;
	h.b.entry_size = sizeof(struct twheel_arm);
	ASSERT_EQ(0, pthread_create(&ht, NULL, held_batch_run, &h));

	/* Its copy of the entries faults: it now holds the batch mutex. */
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(sizeof(msg), read(self->uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* No SA_RESTART: the waiting ioctl returns EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	w.arm = (struct twheel_arm){ .conn_id = 2, .kind = TWHEEL_KIND_IDLE,
				     .timeout_ns = 60 * NSEC_PER_SEC };
	w.b.size = sizeof(w.b);
	w.b.entries = (uintptr_t)&w.arm;
	w.b.count = 1;
	w.b.entry_size = sizeof(w.arm);
	ASSERT_EQ(0, pthread_create(&wt, NULL, waiter_run, &w));

	/*
	 * The mutex is not released until the page is supplied, so the
	 * waiter cannot finish but by a signal. A signal that comes before it
	 * is in the ioctl only runs the handler; keep sending.
	 */
	while (!w.done && signals < 10000) {
		pthread_kill(wt, SIGUSR1);
		signals++;
		usleep(1000);
	}
	ASSERT_EQ(0, pthread_join(wt, NULL));
	EXPECT_EQ(-1, w.ret);
	EXPECT_EQ(EINTR, w.err);
	TH_LOG("the waiter returned after %u signals", signals);

	/* Supply the page: the held batch goes on and arms its entry. */
	src = aligned_alloc(self->page_size, self->page_size);
	ASSERT_NE(NULL, src);
	memset(src, 0, self->page_size);
	src[0] = (struct twheel_arm){ .conn_id = 1, .kind = TWHEEL_KIND_IDLE,
				      .timeout_ns = 60 * NSEC_PER_SEC };
	copy.dst = (unsigned long)self->page;
	copy.src = (unsigned long)src;
	copy.len = self->page_size;
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(ht, NULL));
	free(src);
	EXPECT_EQ(1, h.ret);
	EXPECT_EQ(1, h.b.applied);
	EXPECT_EQ(0, h.b.error);

	/* The interrupted batch changed nothing: one timer, connection 1's. */
	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_NEXT, &next));
	EXPECT_EQ(1, next.armed);
	EXPECT_EQ(0, tw_cancel_conn(self->fd, 2));
	EXPECT_EQ(1, tw_cancel_conn(self->fd, 1));
}

TEST_HARNESS_MAIN
