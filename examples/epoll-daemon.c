// SPDX-License-Identifier: MIT
/*
 * epoll-daemon: libtwheel's connection API in an epoll loop.
 *
 * A protocol daemon sleeps in epoll_wait() on its sockets. Its timers add
 * one descriptor to that set: twheel_fd() becomes readable when a timer has
 * fired, and twheel_process_events() hands each event to its connection.
 *
 * Five connections, and a scripted network standing in for the sockets:
 *
 *   conn 1  its data is acked in time: the retransmission timer is cancelled
 *   conn 2  a packet comes: its idle timer starts over
 *   conn 3  it migrates and the new path never answers: path validation
 *           times out, then the connection goes idle
 *   conn 4  the peer closes it: every timer of the connection is cancelled
 *   conn 5  its data is never acked: one retransmission with the timeout
 *           doubled, then it gives up and closes
 *
 * Each event prints "conn N KIND fired X ms after it was due"; the test plan
 * checks the lines and that X is never negative. It ends with no timer left.
 *
 * Build: cc epoll-daemon.c $(pkg-config --cflags --libs libtwheel)
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include <libtwheel.h>

#define MS		1000000ULL
#define NR_CONNS	5
#define IDLE_TIMEOUT	(2500 * MS)
#define PATH_TIMEOUT	(1000 * MS)
#define RTO		(500 * MS)	/* first retransmission timeout */
#define NR_PACKETS	(sizeof(network) / sizeof(network[0]))

/* The daemon's own state of a connection; the timers live in the kernel. */
struct conn {
	unsigned int id;
	unsigned int retries;
	uint64_t due[TWHEEL_NR_KINDS];	/* only to show how late events are */
	struct twheel_conn *timers;	/* NULL once closed */
};

/* What the network does, and when (ms after the start). */
static const struct packet {
	unsigned int at_ms, conn;
	const char *what;
} network[] = {
	{ 100, 1, "ack" },
	{ 200, 4, "close" },
	{ 400, 2, "data" },
};

static const char *const kind_name[] = {	/* by TWHEEL_KIND_* */
	"idle", "connect", "path-validation", "retransmit",
};

static struct conn conns[NR_CONNS + 1];

static void check(int ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "epoll-daemon: %s: %s\n", what, strerror(-ret));
		exit(1);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Arm a timer, remembering when it is due (no earlier than this). */
static void arm(struct conn *c, unsigned int kind, uint64_t timeout)
{
	c->due[kind] = now_ns() + timeout;
	if (kind == TWHEEL_KIND_IDLE)
		check(twheel_conn_set_idle_timeout(c->timers, timeout), "arm");
	else
		check(twheel_conn_set_timeout(c->timers, kind, timeout), "arm");
}

static void close_conn(struct conn *c, const char *why)
{
	printf("conn %u closed: %s\n", c->id, why);
	twheel_conn_close(c->timers);	/* cancels what is still armed */
	c->timers = NULL;
}

/* Called by twheel_process_events() for each connection with events. */
static void on_timeout(struct twheel_conn *timers,
		       void *arg __attribute__((unused)))
{
	struct conn *c = twheel_conn_user(timers);
	struct twheel_event ev[TWHEEL_NR_KINDS];
	int i, n;

	n = twheel_conn_check_events(timers, ev, TWHEEL_NR_KINDS);
	for (i = 0; i < n && c->timers; i++) {
		unsigned int kind = ev[i].kind;
		int64_t late = now_ns() - c->due[kind];

		printf("conn %u %s fired %.1f ms after it was due\n",
		       c->id, kind_name[kind], late / 1e6);
		if (kind == TWHEEL_KIND_IDLE)
			close_conn(c, "idle");
		else if (kind == TWHEEL_KIND_RETRANSMIT && c->retries++)
			close_conn(c, "no ack");	/* it retransmitted once */
		else if (kind == TWHEEL_KIND_RETRANSMIT)	/* send again, back off */
			arm(c, TWHEEL_KIND_RETRANSMIT, RTO << c->retries);
		/* A failed path validation: stay on the old path. */
	}
}

static void receive(const struct packet *p)
{
	struct conn *c = &conns[p->conn];

	printf("conn %u received %s\n", c->id, p->what);
	if (!strcmp(p->what, "close")) {
		close_conn(c, "by the peer");
		return;
	}
	/* Any packet starts the idle timeout over. */
	c->due[TWHEEL_KIND_IDLE] = now_ns() + IDLE_TIMEOUT;
	check(twheel_conn_reset_idle_timeout(c->timers), "reset idle");
	if (!strcmp(p->what, "ack"))
		check(twheel_conn_cancel(c->timers, TWHEEL_KIND_RETRANSMIT), "cancel");
}

static int timers_left(void)
{
	for (int i = 1; i <= NR_CONNS; i++)
		if (twheel_conn_armed(conns[i].timers))
			return 1;
	return 0;
}

int main(void)
{
	/* EPOLLRDBAND: events in the shared event ring, if it has one. */
	struct epoll_event ee = { .events = EPOLLIN | EPOLLRDBAND };
	unsigned int next = 0, i;
	struct twheel *tw;
	uint64_t start = now_ns();
	int ep, ret;

	check(twheel_open(&tw, TWHEEL_OPEN_NONBLOCK, TWHEEL_CPU_ANY), "open");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, twheel_fd(tw), &ee)) {
		perror("epoll-daemon: epoll");
		return 1;
	}

	for (i = 1; i <= NR_CONNS; i++) {
		struct conn *c = &conns[i];

		c->id = i;
		check(twheel_conn_open(tw, i, c, &c->timers), "open connection");
		arm(c, TWHEEL_KIND_IDLE, IDLE_TIMEOUT);
		if (i != 2 && i != 3)	/* they have data in flight */
			arm(c, TWHEEL_KIND_RETRANSMIT, RTO);
	}
	arm(&conns[3], TWHEEL_KIND_PATH_VALIDATION, PATH_TIMEOUT);

	while (timers_left()) {
		int timeout = 5000;	/* nothing should take this long */

		if (next < NR_PACKETS) {
			int64_t wait = start + network[next].at_ms * MS - now_ns();

			timeout = wait > 0 ? (wait + MS - 1) / MS : 0;
		}
		ret = epoll_wait(ep, &ee, 1, timeout);
		if (ret < 0) {
			perror("epoll-daemon: epoll_wait");
			return 1;
		}
		if (ret > 0) {
			check(twheel_process_events(tw, on_timeout, NULL), "reap");
		} else if (next < NR_PACKETS) {
			receive(&network[next++]);
		} else {
			fprintf(stderr, "epoll-daemon: no event for 5 s\n");
			return 1;
		}
	}
	printf("no timers left\n");
	twheel_close(tw);
	return 0;
}
