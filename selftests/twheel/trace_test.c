// SPDX-License-Identifier: GPL-2.0
/*
 * The module's tracepoints, read through tracefs: arm, re-arm, cancel, fire
 * and read each leave one record with the file, connection, kind and
 * user_data of the timer; fire records carry the lateness and the CPU
 * that serves the file; every expiry-thread wake-up leaves one record; and
 * nothing is recorded while the events are off.
 *
 * Each test records into a trace instance of its own (instances/), so it
 * sees only what it enabled. Without tracefs (a kernel without event
 * tracing) the tests skip.
 */

#include <dirent.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "twheel_test.h"

#define TRACE_MAX	(4 << 20)
/* Fires of retransmission timers (kind 3), counted per connection. */
#define FIRE_HIST	"hist:keys=conn_id:vals=hitcount:sort=hitcount.descending if kind == 3"

/* One record of the trace, the fields the module's events print. */
struct tw_rec {
	char event[24];		/* "twheel_arm", ... */
	int cpu;
	char file[32];
	unsigned long long conn, user_data, deadline, lateness, fired;
	char kind[24];
	int unread;
	unsigned int turns, nfired;
};

/* Where tracefs is: mounted already, or mounted here by us. */
static const char *tw_tracefs(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	struct stat st;
	char path[128];

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", roots[i]);
		if (!stat(path, &st))
			return roots[i];
	}
	/* An initramfs mounts nothing by itself. */
	if (!stat(roots[0], &st) &&
	    !mount("tracefs", roots[0], "tracefs", 0, NULL) &&
	    !stat("/sys/kernel/tracing/events", &st))
		return roots[0];
	return NULL;
}

/* The value after "@key=" in @line, or @dflt. */
static unsigned long long tw_field(const char *line, const char *key,
				   unsigned long long dflt)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return dflt;
	return strtoull(p + strlen(pat), NULL, 0);
}

static void tw_field_str(const char *line, const char *key, char *out,
			 size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return;
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/*
 * Parses the text of a trace file into at most @max records of the
 * module's events. Returns how many.
 */
static unsigned int tw_parse(char *text, struct tw_rec *rec, unsigned int max)
{
	unsigned int n = 0;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct tw_rec *r = &rec[n];
		char *ev = strstr(line, " twheel_"), *colon, *cpu;

		if (line[0] == '#' || !ev)
			continue;
		colon = strchr(ev + 1, ':');
		if (!colon || colon - ev - 1 >= (long)sizeof(r->event))
			continue;
		memset(r, 0, sizeof(*r));
		memcpy(r->event, ev + 1, colon - ev - 1);
		/* "  task-pid  [001] ....  123.456: twheel_x: fields" */
		cpu = strchr(line, '[');
		r->cpu = cpu && cpu < ev ? atoi(cpu + 1) : -1;
		tw_field_str(colon, "file", r->file, sizeof(r->file));
		tw_field_str(colon, "kind", r->kind, sizeof(r->kind));
		r->conn = tw_field(colon, "conn", ~0ULL);
		r->user_data = tw_field(colon, "user_data", ~0ULL);
		r->deadline = tw_field(colon, "deadline", ~0ULL);
		r->lateness = tw_field(colon, "lateness_ns", ~0ULL);
		r->fired = tw_field(colon, "fired", ~0ULL);
		r->unread = strstr(colon, " unread") != NULL;
		r->turns = tw_field(colon, "turns", 0);
		r->nfired = tw_field(colon, "fired", 0);
		n++;
	}
	return n;
}

/* The twheel-id line of our own file's fdinfo. */
static int tw_fdinfo_id(int fd, char *id, size_t len)
{
	char path[64], line[256];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "twheel-id: %31s", id) == 1)
			ret = 0;
	}
	fclose(f);
	return ret;
}

FIXTURE(trace) {
	int fd;
	char record_cmd[512];	/* the top level's record-cmd option */
	long record_cmd_was;
	char inst[256];
	char id[32];
	char *text;
	struct tw_rec *rec;
	unsigned int nrec;
};

static int tw_inst_write(FIXTURE_DATA(trace) *self, const char *file,
			 const char *s)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", self->inst, file);
	return tw_write_str(path, s);
}

/* Reads the instance's trace into self->rec. */
static void tw_collect(FIXTURE_DATA(trace) *self)
{
	char path[512];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/trace", self->inst);
	fd = open(path, O_RDONLY);
	self->nrec = 0;
	if (fd < 0)
		return;
	while (len < TRACE_MAX - 1 &&
	       (n = read(fd, self->text + len, TRACE_MAX - 1 - len)) > 0)
		len += n;
	close(fd);
	self->text[len] = '\0';
	self->nrec = tw_parse(self->text, self->rec, TRACE_MAX / 64);
}

/* The @nth record of @event for our file and connection @conn, or NULL. */
static struct tw_rec *tw_find(FIXTURE_DATA(trace) *self, const char *event,
			      unsigned long long conn, const char *kind,
			      unsigned int nth)
{
	for (unsigned int i = 0; i < self->nrec; i++) {
		struct tw_rec *r = &self->rec[i];

		if (strcmp(r->event, event) || strcmp(r->file, self->id) ||
		    r->conn != conn || (kind && strcmp(r->kind, kind)))
			continue;
		if (!nth--)
			return r;
	}
	return NULL;
}

static unsigned int tw_count(FIXTURE_DATA(trace) *self, const char *event)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < self->nrec; i++)
		n += !strcmp(self->rec[i].event, event) &&
		     (!self->rec[i].file[0] || !strcmp(self->rec[i].file, self->id));
	return n;
}

/*
 * The expiry thread records its wake-up after it woke the reader: waits up
 * to @timeout_ms for a wake-up record on @cpu (-1: any) that fired
 * something.
 */
static struct tw_rec *tw_wait_wakeup(FIXTURE_DATA(trace) *self, int cpu,
				     int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		tw_collect(self);
		for (unsigned int i = 0; i < self->nrec; i++) {
			struct tw_rec *r = &self->rec[i];

			if (!strcmp(r->event, "twheel_wakeup") && r->nfired &&
			    (cpu < 0 || r->cpu == cpu))
				return r;
		}
		poll(NULL, 0, 10);
	}
	return NULL;
}

FIXTURE_SETUP(trace)
{
	const char *root;
	char path[512];
	struct stat st;

	self->fd = -1;
	self->record_cmd_was = -1;
	self->inst[0] = '\0';
	self->fd = tw_open_or_skip(O_RDWR);
	root = tw_tracefs();
	if (!root)
		SKIP(return, "no tracefs: the kernel has no event tracing");
	snprintf(path, sizeof(path), "%s/events/twheel", root);
	ASSERT_EQ(0, stat(path, &st)) {
		TH_LOG("%s is missing: the module has no tracepoints", path);
	}
	/*
	 * No task names: recording them hooks sched_switch and sched_wakeup,
	 * and under QEMU TCG patching those tracepoints in __schedule() while
	 * the other vCPU runs it hung that vCPU now and then (make check, the
	 * 32-bit trace_test). The records are matched by their fields alone.
	 * The option is the top level's, which an instance copies when it is
	 * made; it is put back in the teardown.
	 */
	snprintf(self->record_cmd, sizeof(self->record_cmd),
		 "%s/options/record-cmd", root);
	self->record_cmd_was = tw_read_param(self->record_cmd);
	if (self->record_cmd_was > 0)
		tw_write_str(self->record_cmd, "0");
	snprintf(self->inst, sizeof(self->inst), "%s/instances/twheel_test.%d",
		 root, getpid());
	ASSERT_EQ(0, mkdir(self->inst, 0700)) {
		TH_LOG("mkdir %s: %s", self->inst, strerror(errno));
		self->inst[0] = '\0';
	}
	self->text = malloc(TRACE_MAX);
	self->rec = calloc(TRACE_MAX / 64, sizeof(*self->rec));
	ASSERT_TRUE(self->text && self->rec);
	ASSERT_EQ(0, tw_fdinfo_id(self->fd, self->id, sizeof(self->id)));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->inst[0]) {
		/* A trigger left by a failed test would keep the instance busy. */
		tw_inst_write(self, "events/twheel/twheel_fire/trigger",
			      "!" FIRE_HIST);
		tw_inst_write(self, "events/twheel/enable", "0");
		rmdir(self->inst);
	}
	if (self->record_cmd_was > 0)
		tw_write_str(self->record_cmd, "1");
	free(self->text);
	free(self->rec);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(trace, every_operation_is_recorded_with_its_connection_kind_and_user_data)
{
	struct twheel_event ev;
	struct tw_rec *arm, *rearm, *cancel, *fire, *rd, *arm2;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_inst_write(self, "events/twheel/enable", "1"));
	ASSERT_EQ(0, tw_arm(self->fd, 101, TWHEEL_KIND_RETRANSMIT, NSEC_PER_MSEC, 0xabc, 0));
	ASSERT_EQ(0, tw_arm(self->fd, 102, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0x1, 0));
	ASSERT_EQ(1, tw_arm(self->fd, 102, TWHEEL_KIND_IDLE, 60 * NSEC_PER_SEC, 0x2, 0));
	ASSERT_EQ(1, tw_cancel(self->fd, 102, TWHEEL_KIND_IDLE));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	ASSERT_EQ(101, ev.conn_id);
	ASSERT_NE(NULL, tw_wait_wakeup(self, -1, 5000));

	arm = tw_find(self, "twheel_arm", 101, "retransmit", 0);
	ASSERT_NE(NULL, arm);
	EXPECT_EQ(0xabc, arm->user_data);
	EXPECT_EQ(ev.deadline_ns, arm->deadline);

	arm2 = tw_find(self, "twheel_arm", 102, "idle", 0);
	ASSERT_NE(NULL, arm2);
	EXPECT_EQ(0x1, arm2->user_data);
	rearm = tw_find(self, "twheel_rearm", 102, "idle", 0);
	ASSERT_NE(NULL, rearm);
	EXPECT_EQ(0x2, rearm->user_data);
	EXPECT_GE(rearm->deadline, arm2->deadline);
	cancel = tw_find(self, "twheel_cancel", 102, "idle", 0);
	ASSERT_NE(NULL, cancel);
	EXPECT_EQ(0x2, cancel->user_data);
	EXPECT_EQ(0, cancel->unread);

	fire = tw_find(self, "twheel_fire", 101, "retransmit", 0);
	ASSERT_NE(NULL, fire);
	EXPECT_EQ(0xabc, fire->user_data);
	EXPECT_EQ(ev.deadline_ns, fire->deadline);
	EXPECT_EQ(ev.fired_ns - ev.deadline_ns, fire->lateness);

	rd = tw_find(self, "twheel_read", 101, "retransmit", 0);
	ASSERT_NE(NULL, rd);
	EXPECT_EQ(0xabc, rd->user_data);
	EXPECT_EQ(ev.fired_ns, rd->fired);

	/* In the order they happened, each once. */
	EXPECT_LT(arm, fire);
	EXPECT_LT(fire, rd);
	EXPECT_LT(arm2, rearm);
	EXPECT_LT(rearm, cancel);
	EXPECT_EQ(NULL, tw_find(self, "twheel_fire", 101, NULL, 1));
	EXPECT_EQ(NULL, tw_find(self, "twheel_fire", 102, NULL, 0));
	EXPECT_EQ(NULL, tw_find(self, "twheel_read", 101, NULL, 1));
	EXPECT_EQ(2, tw_count(self, "twheel_arm"));
	EXPECT_EQ(1, tw_count(self, "twheel_rearm"));
	EXPECT_EQ(1, tw_count(self, "twheel_cancel"));
}

TEST_F(trace, cancelling_a_connection_records_each_kind_with_its_own_user_data)
{
	static const struct { unsigned int kind; const char *name; } k[] = {
		{ TWHEEL_KIND_IDLE, "idle" },
		{ TWHEEL_KIND_PATH_VALIDATION, "path_validation" },
		{ TWHEEL_KIND_RETRANSMIT, "retransmit" },
		{ 7, "user7" },
	};
	struct tw_rec *r;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_inst_write(self, "events/twheel/enable", "1"));
	/* The retransmission timer fires and waits, unread. */
	for (unsigned int i = 0; i < 4; i++)
		ASSERT_EQ(0, tw_arm(self->fd, 5, k[i].kind,
				    k[i].kind == TWHEEL_KIND_RETRANSMIT ? 0 : 60 * NSEC_PER_SEC,
				    0x10 + k[i].kind, 0));
	ASSERT_EQ(0, tw_wait_queued(self->fd, 1, 5000));
	ASSERT_EQ(1, tw_cancel_conn(self->fd, 5));
	tw_collect(self);

	EXPECT_EQ(4, tw_count(self, "twheel_cancel"));
	for (unsigned int i = 0; i < 4; i++) {
		r = tw_find(self, "twheel_cancel", 5, k[i].name, 0);
		ASSERT_NE(NULL, r) {
			TH_LOG("no cancel record of kind %s", k[i].name);
		}
		EXPECT_EQ(0x10 + k[i].kind, r->user_data);
		EXPECT_EQ(k[i].kind == TWHEEL_KIND_RETRANSMIT, r->unread);
	}
}

TEST_F(trace, fire_records_carry_the_cpu_that_serves_the_file)
{
	struct twheel_event ev;
	struct tw_rec *r;

	if (tw_setup_skipped(_metadata))
		return;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU online");

	ASSERT_EQ(0, tw_inst_write(self, "events/twheel/enable", "1"));
	for (int cpu = 0; cpu < 2; cpu++) {
		ASSERT_EQ(0, tw_set_cpu(self->fd, cpu));
		ASSERT_EQ(0, tw_arm(self->fd, 200 + cpu, TWHEEL_KIND_IDLE, NSEC_PER_MSEC, cpu, 0));
		ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
		ASSERT_NE(NULL, tw_wait_wakeup(self, cpu, 5000)) {
			TH_LOG("no wake-up record on cpu %d", cpu);
		}
		r = tw_find(self, "twheel_fire", 200 + cpu, "idle", 0);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(cpu, r->cpu);
	}
}

TEST_F(trace, nothing_is_recorded_while_the_events_are_off)
{
	struct twheel_event ev;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, tw_arm(self->fd, 300, TWHEEL_KIND_IDLE, 0, 1, 0));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	tw_collect(self);
	EXPECT_EQ(0, self->nrec);

	/* One event on: only its records. */
	ASSERT_EQ(0, tw_inst_write(self,
				   "events/twheel/twheel_fire/enable", "1"));
	ASSERT_EQ(0, tw_arm(self->fd, 301, TWHEEL_KIND_IDLE, 0, 2, 0));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	tw_collect(self);
	EXPECT_EQ(1, self->nrec);
	EXPECT_EQ(1, tw_count(self, "twheel_fire"));
	ASSERT_NE(NULL, tw_find(self, "twheel_fire", 301, "idle", 0));
}

TEST_F(trace, each_file_has_its_own_id_the_one_its_fdinfo_shows)
{
	struct twheel_event ev;
	char other_id[32];
	int other;

	if (tw_setup_skipped(_metadata))
		return;

	other = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, tw_fdinfo_id(other, other_id, sizeof(other_id)));
	EXPECT_STRNE(self->id, other_id);

	ASSERT_EQ(0, tw_inst_write(self, "events/twheel/enable", "1"));
	ASSERT_EQ(0, tw_arm(self->fd, 400, TWHEEL_KIND_IDLE, 0, 1, 0));
	ASSERT_EQ(0, tw_arm(other, 400, TWHEEL_KIND_IDLE, 0, 2, 0));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	ASSERT_EQ(1, tw_read_n(other, &ev, 1, 5000));
	tw_collect(self);

	/* tw_find() looks at our file's records only. */
	ASSERT_NE(NULL, tw_find(self, "twheel_fire", 400, "idle", 0));
	EXPECT_EQ(1, tw_find(self, "twheel_fire", 400, "idle", 0)->user_data);
	EXPECT_EQ(NULL, tw_find(self, "twheel_fire", 400, "idle", 1));
	memcpy(self->id, other_id, sizeof(self->id));
	ASSERT_NE(NULL, tw_find(self, "twheel_fire", 400, "idle", 0));
	EXPECT_EQ(2, tw_find(self, "twheel_fire", 400, "idle", 0)->user_data);
	close(other);
}

/* The hitcount of connection @conn in a hist file's text, or 0. */
static unsigned long long tw_hist_count(const char *text, unsigned long long conn)
{
	const char *p;

	/* "{ conn_id:        500 } hitcount:          3", one per key */
	for (p = strstr(text, "{ conn_id:"); p; p = strstr(p + 1, "{ conn_id:")) {
		if (strtoull(p + 10, NULL, 10) != conn)
			continue;
		p = strstr(p, "hitcount:");
		return p ? strtoull(p + 9, NULL, 10) : 0;
	}
	return 0;
}

TEST_F(trace, a_hist_trigger_counts_each_connections_retransmission_fires)
{
	struct twheel_event ev;
	char path[512];
	int fd;

	if (tw_setup_skipped(_metadata))
		return;

	/*
	 * The one-liner of Documentation/observe.rst, in tracefs alone. An
	 * event has a hist file where the kernel has hist triggers; there,
	 * the trigger must be accepted.
	 */
	snprintf(path, sizeof(path), "%s/events/twheel/twheel_fire/hist",
		 self->inst);
	if (access(path, F_OK))
		SKIP(return, "no hist triggers (CONFIG_HIST_TRIGGERS)");
	ASSERT_EQ(0, tw_inst_write(self, "events/twheel/twheel_fire/trigger",
				   FIRE_HIST)) {
		TH_LOG("writing the trigger: %s", strerror(errno));
	}
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, tw_arm(self->fd, 500, TWHEEL_KIND_RETRANSMIT, 0, i, 0));
		ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	}
	ASSERT_EQ(0, tw_arm(self->fd, 501, TWHEEL_KIND_RETRANSMIT, 0, 0, 0));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));
	ASSERT_EQ(0, tw_arm(self->fd, 502, TWHEEL_KIND_IDLE, 0, 0, 0));
	ASSERT_EQ(1, tw_read_n(self->fd, &ev, 1, 5000));

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ssize_t n = read(fd, self->text, TRACE_MAX - 1);

	close(fd);
	ASSERT_LT(0, n);
	self->text[n] = '\0';
	EXPECT_EQ(3, tw_hist_count(self->text, 500)) TH_LOG("%s", self->text);
	EXPECT_EQ(1, tw_hist_count(self->text, 501));
	EXPECT_EQ(0, tw_hist_count(self->text, 502));
	EXPECT_EQ(0, tw_inst_write(self, "events/twheel/twheel_fire/trigger",
				   "!" FIRE_HIST));
}

TEST_HARNESS_MAIN
