// SPDX-License-Identifier: MIT
/*
 * quic-server: options, the event loop, and what the server reports.
 *
 * One thread, one epoll set: the UDP socket, a signalfd, and the timer
 * back-end's descriptors. A loop pass handles what epoll_wait() returned
 * (datagrams, timer events, signals), then, for each connection that had
 * anything happen, writes what it has to send and takes its new deadline
 * from ngtcp2, and then lets the back-end apply the pass' timer changes at
 * once. Connections deleted in the pass are freed last.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "quic-server.h"

#define MS		1000000ULL
#define RECV_BATCH	32
#define RECV_ROUNDS	8	/* at most 256 datagrams per pass */
#define RECV_BUFSIZE	4096

static const char usage[] =
"NAME\n"
"    quic-server - an HTTP/3 file server whose connection timers run on\n"
"    twheel, on a timerfd per connection, or on a heap\n"
"\n"
"SYNOPSIS\n"
"    quic-server [OPTION]... ADDRESS PORT\n"
"\n"
"DESCRIPTION\n"
"    Serves the regular files under a directory over HTTP/3 (QUIC v1,\n"
"    TLS 1.3 through GnuTLS, ngtcp2 and nghttp3) on UDP ADDRESS:PORT,\n"
"    ADDRESS being a numeric IPv4 or IPv6 address (not a wildcard: it is\n"
"    the local address of every path). GET and HEAD only; a path is\n"
"    a file name under the directory, without percent-decoding; \"..\" and\n"
"    symbolic links as the last component are refused (404).\n"
"\n"
"    Each connection has two timers: ngtcp2's expiry (loss detection, ACK\n"
"    delay, idle and handshake timeouts, pacing: ngtcp2_conn_get_expiry())\n"
"    and the end of its closing or draining period. Both are re-armed at\n"
"    most once per loop pass, after the connection's packets were read and\n"
"    written, and cancelled with the connection. Timer events that are no\n"
"    longer wanted (their connection gone, their arming superseded) are\n"
"    counted and dropped.\n"
"\n"
"OPTIONS\n"
"    -d, --dir=DIR\n"
"        Serve DIR (default: the current directory).\n"
"    -t, --timers=twheel|timerfd|heap\n"
"        twheel (default): every timer in one /dev/twheel context, changes\n"
"        sent in batches, events reaped in the epoll loop. timerfd: one\n"
"        timerfd per connection. heap: a binary heap in the server and one\n"
"        timerfd for its earliest deadline.\n"
"    -i, --idle-timeout=MS\n"
"        The idle timeout offered to clients (default 30000). ngtcp2 closes\n"
"        a connection silently once max(timeout, 3 PTO) has passed without\n"
"        a packet from the peer.\n"
"    --handshake-timeout=MS\n"
"        Give up a handshake after MS (default 10000).\n"
"    --initial-rtt=MS\n"
"        The RTT assumed before the first sample (default 333, RFC 9002's),\n"
"        which sets the first probe timeout of the handshake.\n"
"    --cert=FILE, --key=FILE\n"
"        A PEM certificate and its key. Without them the server makes a\n"
"        self-signed P-256 certificate for localhost, 127.0.0.1 and ::1 at\n"
"        start-up. One made with openssl works as well:\n"
"          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \\\n"
"            -nodes -keyout key.pem -out cert.pem -days 3650 \\\n"
"            -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1\n"
"    --cpu=N\n"
"        Run on CPU N only; with twheel, have CPU N's wheel serve the\n"
"        server's timers (twheel_open() on that CPU) rather than the wheel\n"
"        of whichever CPU the server last waited on.\n"
"    --print-handshakes\n"
"        Print \"handshake N\" (N: handshakes completed so far) as each one\n"
"        completes, for a test that paces its clients by them.\n"
"    -v, --verbose\n"
"        ngtcp2's debug log on stderr.\n"
"    -h, --help\n"
"        This text.\n"
"\n"
"OUTPUT\n"
"    On standard output, line-buffered, \"name value\" lines:\n"
"    - \"ready ADDRESS PORT\" with the pid and back-end, once listening;\n"
"    - with --print-handshakes, \"handshake N\" as each handshake completes;\n"
"    - a block from \"quiescent begin\" to \"quiescent end\" each time the\n"
"      last open connection goes: what is still held (connections, timers\n"
"      wanted, the back-end's own view: twheel's per-file counters, the\n"
"      timerfds open, the heap's entries);\n"
"    - the same block for SIGUSR1, as \"status begin\" .. \"status end\";\n"
"    - at exit, \"counters begin\" .. \"counters end\": connections,\n"
"      requests, bytes, packets, closes by cause, timer arms, cancels,\n"
"      expiries handled (and of them with loss detection due, and PTO\n"
"      probes), stale events dropped, timer system calls, loop passes,\n"
"      the server's CPU time, the lateness of handled expiries (ns:\n"
"      p50, p90, p99, max) and how idle closes kept their schedule; then\n"
"      \"check\" lines comparing the back-end's counts with the kernel's.\n"
"\n"
"SIGNALS\n"
"    SIGINT, SIGTERM: close every connection, print the counters, exit.\n"
"    SIGUSR1: print the status block.\n"
"\n"
"EXIT STATUS\n"
"    0 when every check agreed, 1 otherwise or on an error, 2 on a usage\n"
"    error.\n"
"\n"
"SEE ALSO\n"
"    Documentation/quic-server.rst, gtlsclient(1) from ngtcp2-client.\n";

uint64_t qs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void qs_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("quic-server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void qs_record(uint64_t **arr, size_t *nr, size_t *cap, uint64_t v)
{
	if (*nr == *cap) {
		size_t n = *cap ? 2 * *cap : 4096;
		uint64_t *a = realloc(*arr, n * sizeof(*a));

		if (!a)
			return;	/* a sample lost is no reason to stop */
		*arr = a;
		*cap = n;
	}
	(*arr)[(*nr)++] = v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* NAME_count, and NAME_p50_ns .. NAME_max_ns of @v (sorted here). */
static void print_lateness(FILE *f, const char *name, uint64_t *v, size_t nr)
{
	static const struct { const char *suffix; unsigned int permille; } q[] = {
		{ "p50", 500 }, { "p90", 900 }, { "p99", 990 }, { "max", 1000 },
	};

	fprintf(f, "%s_count %zu\n", name, nr);
	if (!nr)
		return;
	qsort(v, nr, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		size_t at = (nr * q[i].permille + 999) / 1000;

		fprintf(f, "%s_%s_ns %llu\n", name, q[i].suffix,
			(unsigned long long)v[at ? at - 1 : 0]);
	}
}

static void print_held(struct qs_server *s, const char *what)
{
	uint64_t wanted = 0;

	for (uint32_t i = 0; i < s->nr_slots; i++)
		for (unsigned int k = 0; s->slots[i] && k < QS_NR_TIMERS; k++)
			wanted += s->slots[i]->timers[k].deadline != QS_NONE;
	printf("%s begin\n", what);
	printf("served %llu\n", (unsigned long long)s->n.connections);
	printf("open %llu\n", (unsigned long long)s->n.connections_open);
	printf("timers_wanted %llu\n", (unsigned long long)wanted);
	printf("pid %d\n", (int)getpid());
	s->cfg.timers->report(s, stdout, "");
	printf("%s end\n", what);
	fflush(stdout);
}

static int open_socket(struct qs_server *s, const char *addr, const char *port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&s->local;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&s->local;
	char *end;
	long p = strtol(port, &end, 10);
	int one = 1;

	if (*end || p <= 0 || p > 65535) {
		qs_warn("bad port '%s'", port);
		return -1;
	}
	memset(&s->local, 0, sizeof(s->local));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		s->locallen = sizeof(*in);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		s->locallen = sizeof(*in6);
	} else {
		qs_warn("bad address '%s' (a numeric IPv4 or IPv6 address)", addr);
		return -1;
	}
	if (in->sin_family == AF_INET ? in->sin_addr.s_addr == INADDR_ANY :
	    !memcmp(&in6->sin6_addr, &in6addr_any, sizeof(in6addr_any))) {
		qs_warn("'%s' is a wildcard: give the address to serve on", addr);
		return -1;
	}
	s->fd = socket(s->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (struct sockaddr *)&s->local, s->locallen)) {
		qs_warn("%s:%s: %s", addr, port, strerror(errno));
		return -1;
	}
	return 0;
}

static void read_socket(struct qs_server *s)
{
	static uint8_t bufs[RECV_BATCH][RECV_BUFSIZE];
	struct sockaddr_storage from[RECV_BATCH];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];

	for (int round = 0; round < RECV_ROUNDS; round++) {
		int n;

		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], RECV_BUFSIZE };
			msgs[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &from[i],
				.msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i],
				.msg_iovlen = 1,
			} };
		}
		n = recvmmsg(s->fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				qs_warn("recvmmsg: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				s->n.packets_dropped++;
				continue;
			}
			qs_on_datagram(s, (struct sockaddr *)&from[i],
				       msgs[i].msg_hdr.msg_namelen, bufs[i],
				       msgs[i].msg_len);
		}
		if (n < RECV_BATCH)
			return;
	}
}

/*
 * The end of a pass: write and re-time every connection that had anything
 * happen, each once, apply the timer changes, free what died.
 */
static void end_pass(struct qs_server *s)
{
	struct qs_conn *c = s->dirty, *next;

	s->dirty = NULL;
	s->write_more = false;
	for (; c; c = next) {
		next = c->dirty_next;
		c->dirty = false;
		if (c->state == QS_DEAD)
			continue;
		qs_conn_write(s, c);
		if (c->state == QS_DEAD)
			continue;
		qs_timers_retime(s, c);
		if (c->write_more) {
			qs_conn_mark_dirty(s, c);
			s->write_more = true;
		}
	}
	if (qs_timers_flush(s))
		exit(1);
	qs_conn_free_dead(s);
	if (s->seen_conns && !s->n.connections_open) {
		s->seen_conns = false;
		print_held(s, "quiescent");
	}
}

static uint64_t cpu_us(const struct rusage *ru, bool sys)
{
	const struct timeval *tv = sys ? &ru->ru_stime : &ru->ru_utime;

	return (uint64_t)tv->tv_sec * 1000000 + (uint64_t)tv->tv_usec;
}

static void print_counters(struct qs_server *s, const struct rusage *r0,
			   uint64_t t0)
{
	struct rusage r1;
	uint64_t user, sys;

	getrusage(RUSAGE_SELF, &r1);
	user = cpu_us(&r1, false) - cpu_us(r0, false);
	sys = cpu_us(&r1, true) - cpu_us(r0, true);
	printf("counters begin\n");
	printf("timers %s\n", s->cfg.timers->name);
#define P(name) printf(#name " %llu\n", (unsigned long long)s->n.name)
	P(connections); P(connections_max_open); P(handshakes);
	P(requests); P(responses_200); P(responses_404); P(responses_other);
	P(responses_acked); P(bytes_body); P(bytes_acked);
	P(packets_rx); P(packets_tx); P(bytes_rx); P(bytes_tx);
	P(packets_dropped); P(send_errors);
	P(closes_idle); P(closes_idle_handshake); P(closes_draining);
	P(closes_closing);
	P(closes_handshake_timeout); P(closes_dropped); P(closes_shutdown);
	P(timer_arms); P(timer_cancels); P(timer_expiries);
	P(timer_expiries_loss); P(timer_ptos); P(timer_expiries_close);
	P(timer_stale_gone); P(timer_stale_token); P(timer_stale_not_due);
	P(timer_early); P(timer_early_device);
	P(timer_syscalls); P(timer_ns); P(timer_wakeups); P(epoll_waits);
#undef P
	printf("idle_timeout_ns %llu\n", (unsigned long long)s->cfg.idle_timeout_ns);
	printf("handshake_timeout_ns %llu\n",
	       (unsigned long long)s->cfg.handshake_timeout_ns);
	printf("initial_rtt_ns %llu\n", (unsigned long long)s->cfg.initial_rtt_ns);
	if (s->n.closes_idle) {
		printf("idle_min_margin_ns %lld\n", (long long)s->n.idle_min_margin_ns);
		printf("idle_max_late_ns %lld\n", (long long)s->n.idle_max_late_ns);
		printf("idle_period_max_ns %llu\n",
		       (unsigned long long)s->n.idle_period_max_ns);
	}
	printf("cpu_user_us %llu\n", (unsigned long long)user);
	printf("cpu_sys_us %llu\n", (unsigned long long)sys);
	printf("cpu_us %llu\n", (unsigned long long)(user + sys));
	printf("wall_us %llu\n", (unsigned long long)((qs_now() - t0) / 1000));
	print_lateness(stdout, "handshake", s->hs, s->nr_hs);
	print_lateness(stdout, "lateness", s->late, s->nr_late);
	if (s->nr_late_dev)
		print_lateness(stdout, "lateness_device", s->late_dev,
			       s->nr_late_dev);
	printf("counters end\n");
}

static uint64_t parse_ms(const char *arg, const char *opt)
{
	char *end;
	unsigned long long v = strtoull(arg, &end, 10);

	if (*end || !*arg || v > 3600 * 1000ULL) {
		qs_warn("%s: bad duration '%s' (milliseconds)", opt, arg);
		exit(2);
	}
	return v * MS;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "timers", required_argument, NULL, 't' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "initial-rtt", required_argument, NULL, 'R' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "print-handshakes", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct qs_server srv = { .fd = -1 }, *s = &srv;
	struct epoll_event ee = { .events = EPOLLIN }, evs[64];
	struct rusage r0;
	sigset_t sigs;
	bool stop = false;
	uint64_t t0;
	int sfd, opt, bad;

	s->cfg.dir = ".";
	s->cfg.timers = &qs_timers_twheel;
	s->cfg.idle_timeout_ns = 30000 * MS;
	s->cfg.handshake_timeout_ns = 10000 * MS;
	s->cfg.initial_rtt_ns = 333 * MS;
	s->cfg.cpu = -1;
	while ((opt = getopt_long(argc, argv, "d:t:i:C:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			s->cfg.dir = optarg;
			break;
		case 't':
			if (!strcmp(optarg, "twheel"))
				s->cfg.timers = &qs_timers_twheel;
			else if (!strcmp(optarg, "timerfd"))
				s->cfg.timers = &qs_timers_timerfd;
			else if (!strcmp(optarg, "heap"))
				s->cfg.timers = &qs_timers_heap;
			else {
				qs_warn("--timers: twheel, timerfd or heap, not '%s'",
					optarg);
				return 2;
			}
			break;
		case 'i':
			s->cfg.idle_timeout_ns = parse_ms(optarg, "--idle-timeout");
			break;
		case 'H':
			s->cfg.handshake_timeout_ns =
				parse_ms(optarg, "--handshake-timeout");
			break;
		case 'R':
			s->cfg.initial_rtt_ns = parse_ms(optarg, "--initial-rtt");
			if (!s->cfg.initial_rtt_ns) {
				qs_warn("--initial-rtt: at least 1 ms");
				return 2;
			}
			break;
		case 'c':
			s->cfg.cert_file = optarg;
			break;
		case 'k':
			s->cfg.key_file = optarg;
			break;
		case 'C':
			s->cfg.cpu = atoi(optarg);
			if (s->cfg.cpu < 0 || s->cfg.cpu >= CPU_SETSIZE) {
				qs_warn("--cpu: bad CPU '%s'", optarg);
				return 2;
			}
			break;
		case 'P':
			s->cfg.print_handshakes = true;
			break;
		case 'v':
			s->cfg.verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'quic-server --help'.\n");
			return 2;
		}
	}
	if (argc - optind != 2 || !s->cfg.cert_file != !s->cfg.key_file) {
		fprintf(stderr, "usage: quic-server [OPTION]... ADDRESS PORT\n"
			"       (--cert and --key go together; --help for more)\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (s->cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			qs_warn("--cpu %d: %s", s->cfg.cpu, strerror(errno));
			return 1;
		}
	}

	s->dirfd = open(s->cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		qs_warn("%s: %s", s->cfg.dir, strerror(errno));
		return 1;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->ep < 0 || sfd < 0 || qs_conn_global_init(s) || qs_tls_init(s) ||
	    open_socket(s, argv[optind], argv[optind + 1]))
		return 1;
	ee.data.u64 = QS_TAG_SOCKET;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->fd, &ee))
		return 1;
	ee.data.u64 = QS_TAG_SIGNAL;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, sfd, &ee))
		return 1;
	if (s->cfg.timers->init(s))
		return 1;

	printf("ready %s %s pid %d timers %s\n", argv[optind], argv[optind + 1],
	       (int)getpid(), s->cfg.timers->name);
	getrusage(RUSAGE_SELF, &r0);
	t0 = qs_now();
	while (!stop) {
		bool timer = false;
		int n;

		n = epoll_wait(s->ep, evs, 64, s->write_more ? 0 : -1);
		s->n.epoll_waits++;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			qs_warn("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			uint64_t data = evs[i].data.u64;
			struct signalfd_siginfo si;

			switch (QS_TAG(data)) {
			case QS_TAG_SOCKET:
				read_socket(s);
				break;
			case QS_TAG_SIGNAL:
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						print_held(s, "status");
					else
						stop = true;
				}
				break;
			case QS_TAG_TIMERS:
			case QS_TAG_CONN_TIMER:
				timer = true;
				if (qs_timers_ready(s, data))
					return 1;
				break;
			}
		}
		s->n.timer_wakeups += timer;
		end_pass(s);
	}

	/* Every connection goes, and every timer with it. */
	qs_conn_close_all(s);
	s->seen_conns = false;
	end_pass(s);
	print_counters(s, &r0, t0);
	bad = s->cfg.timers->check(s, stdout);
	s->cfg.timers->fini(s);
	qs_conn_global_fini(s);
	gnutls_certificate_free_credentials(s->cred);
	free(s->late);
	free(s->late_dev);
	free(s->hs);
	close(s->fd);
	close(sfd);
	close(s->ep);
	close(s->dirfd);
	fflush(stdout);
	return bad ? 1 : 0;
}
