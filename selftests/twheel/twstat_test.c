// SPDX-License-Identifier: GPL-2.0
/*
 * The debugfs counters and twstat against the live module: a known
 * workload shows up exactly, the totals are the sums of the CPUs, and
 * twstat tells a user without debugfs or without the right to read it.
 *
 * twstat is run from $TWSTAT, by default /tools/twstat/twstat.
 */

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <grp.h>
#include <linux/magic.h>

#include "twheel_test.h"

#define DEBUGFS		"/sys/kernel/debug"
#define COUNTERS_DIR	DEBUGFS "/twheel"
#define OUT_MAX		(64 * 1024)

enum twstat_as {
	AS_ROOT,
	AS_NOBODY,
	WITHOUT_DEBUGFS,
};

static const char *twstat_path(void)
{
	const char *p = getenv("TWSTAT");

	return p ? p : "/tools/twstat/twstat";
}

/*
 * Runs twstat with @args (NULL-terminated, without argv[0]); its stdout and
 * stderr end up in @out. Returns its exit status, or -1.
 */
static int run_twstat(enum twstat_as as, char *out, const char *const *args)
{
	const char *argv[16] = { "twstat" };
	size_t len = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	for (int i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		/* A private mount namespace: the VM's debugfs stays. */
		if (as == WITHOUT_DEBUGFS &&
		    (unshare(CLONE_NEWNS) ||
		     mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		     umount2(DEBUGFS, MNT_DETACH)))
			_exit(126);
		if (as == AS_NOBODY &&
		    (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		     setresuid(65534, 65534, 65534)))
			_exit(126);
		execv(twstat_path(), (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len < OUT_MAX - 1 &&
	       (n = read(pfd[0], out + len, OUT_MAX - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The value of "name" in twstat --json output (its "counters" come first). */
static int64_t json_value(const char *json, const char *name)
{
	char key[80];
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(json, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : INT64_MIN;
}

/* The value of "name" in a counters file's text, INT64_MIN if absent. */
static int64_t file_value(const char *text, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
	return INT64_MIN;
}

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(fd);
	return 0;
}

static int64_t hist_sum(const char *json, const char *prefix)
{
	char name[64];
	int64_t sum = 0, v;

	for (int k = 0; k < 64; k++) {
		snprintf(name, sizeof(name), "%s%d", prefix, k);
		v = json_value(json, name);
		if (v != INT64_MIN)
			sum += v;
	}
	return sum;
}

FIXTURE(live) {
	int fd;
	char *before;
	char *after;
};

FIXTURE_SETUP(live)
{
	struct statfs st;

	self->before = calloc(1, OUT_MAX);
	self->after = calloc(1, OUT_MAX);
	ASSERT_NE(NULL, self->before);
	ASSERT_NE(NULL, self->after);
	self->fd = tw_open_or_skip(O_RDWR);
	if (access(twstat_path(), X_OK))
		SKIP(return, "no twstat at %s (set TWSTAT)", twstat_path());
	if (statfs(DEBUGFS, &st) || st.f_type != DEBUGFS_MAGIC)
		SKIP(return, "debugfs is not mounted on " DEBUGFS);
	/* The module is loaded and debugfs is there: so must the counters be. */
	ASSERT_EQ(0, access(COUNTERS_DIR "/counters", R_OK));
}

FIXTURE_TEARDOWN(live)
{
	close(self->fd);
	free(self->before);
	free(self->after);
}

#define NR_CONNS	100
#define NR_KINDS	4

TEST_F(live, a_known_workload_is_counted_exactly)
{
	static const char *const json[] = { "--json", NULL };
	struct twheel_arm arms[NR_CONNS * NR_KINDS];
	struct twheel_cancel cancels[NR_CONNS / 2];
	struct twheel_event ev[NR_CONNS * 3];
	uint64_t conn_ids[NR_CONNS];
	struct twheel_batch b;
	unsigned int i, n;

	ASSERT_EQ(0, run_twstat(AS_ROOT, self->before, json)) TH_LOG("%s", self->before);

	/* 400 timers a minute away: nothing fires. */
	for (i = 0; i < NR_CONNS * NR_KINDS; i++)
		arms[i] = (struct twheel_arm){
			.conn_id = 1000 + i / NR_KINDS, .kind = i % NR_KINDS,
			.timeout_ns = 60 * NSEC_PER_SEC, .user_data = i,
		};
	ASSERT_EQ(NR_CONNS * NR_KINDS, tw_arm_batch(self->fd, arms, NR_CONNS * NR_KINDS, &b));
	/*
	 * Kinds 0-2 re-armed for 30 ms from now: 300 re-arms. Only the first
	 * of each connection moves its timer (a connection waits in the
	 * wheel once, at its earliest deadline); the other 200 are in place.
	 */
	for (i = 0, n = 0; i < NR_CONNS * NR_KINDS; i++)
		if (arms[i].kind != 3) {
			arms[n] = arms[i];
			arms[n++].timeout_ns = 30 * NSEC_PER_MSEC;
		}
	ASSERT_EQ(300, n);
	ASSERT_EQ(n, tw_arm_batch(self->fd, arms, n, &b));
	EXPECT_EQ(n, b.found);
	/*
	 * Kind 3 of the last 50 connections re-armed for later: their
	 * connection's timer is due earlier anyway, so it stays where it is.
	 */
	for (i = 0; i < NR_CONNS / 2; i++)
		arms[i] = (struct twheel_arm){
			.conn_id = 1000 + NR_CONNS / 2 + i, .kind = 3,
			.timeout_ns = 61 * NSEC_PER_SEC,
		};
	ASSERT_EQ(NR_CONNS / 2, tw_arm_batch(self->fd, arms, NR_CONNS / 2, &b));
	/* Kind 3 of the first 50 connections cancelled. */
	for (i = 0; i < NR_CONNS / 2; i++)
		cancels[i] = (struct twheel_cancel){ .conn_id = 1000 + i, .kind = 3 };
	ASSERT_EQ(NR_CONNS / 2, tw_batch(self->fd, TWHEEL_IOC_CANCEL, cancels,
					 NR_CONNS / 2, sizeof(cancels[0]), &b));
	EXPECT_EQ(NR_CONNS / 2, b.found);

	/* The 300 fire and are read. */
	ASSERT_EQ(300, tw_read_n(self->fd, ev, 300, 5000));
	/* Then every connection goes: 50 kind-3 timers left. */
	for (i = 0; i < NR_CONNS; i++)
		conn_ids[i] = 1000 + i;
	ASSERT_EQ(NR_CONNS, tw_batch(self->fd, TWHEEL_IOC_CANCEL_CONN, conn_ids,
				     NR_CONNS, sizeof(conn_ids[0]), &b));
	EXPECT_EQ(NR_CONNS / 2, b.found);

	ASSERT_EQ(0, run_twstat(AS_ROOT, self->after, json)) TH_LOG("%s", self->after);

#define DELTA(name) (json_value(self->after, name) - json_value(self->before, name))
	EXPECT_EQ(400, DELTA("arms"));
	EXPECT_EQ(350, DELTA("rearms"));
	EXPECT_EQ(200 + 50, DELTA("rearms_in_place"));
	EXPECT_EQ(100, DELTA("cancels"));
	EXPECT_EQ(300, DELTA("expiries"));
	EXPECT_EQ(300, DELTA("events_queued"));
	EXPECT_EQ(300, DELTA("events_read"));
	EXPECT_EQ(0, DELTA("quota_refusals"));
	/* every expiry has a lateness */
	EXPECT_EQ(300, hist_sum(self->after, "lateness_us_log2_") -
		       hist_sum(self->before, "lateness_us_log2_"));
	/* the 300 came in one batch or more, each counted once */
	EXPECT_LE(1, DELTA("wakeups"));
	EXPECT_LE(1, hist_sum(self->after, "batch_log2_") -
		     hist_sum(self->before, "batch_log2_"));
	EXPECT_EQ(hist_sum(self->after, "batch_log2_") -
		  hist_sum(self->before, "batch_log2_"),
		  DELTA("batches_simd") + DELTA("batches_scalar"));
	EXPECT_LE(1, json_value(self->after, "batch_max"));
	/* nothing armed is left, and this file is still open */
	EXPECT_EQ(0, DELTA("timers_armed"));
	EXPECT_EQ(0, DELTA("contexts"));
#undef DELTA
}

TEST_F(live, the_contexts_gauge_follows_open_files)
{
	static const char *const json[] = { "--json", NULL };
	int fds[3];

	ASSERT_EQ(0, run_twstat(AS_ROOT, self->before, json));
	for (int i = 0; i < 3; i++)
		ASSERT_LE(0, fds[i] = open("/dev/twheel", O_RDWR | O_CLOEXEC));
	ASSERT_EQ(0, run_twstat(AS_ROOT, self->after, json));
	EXPECT_EQ(3, json_value(self->after, "contexts") -
		     json_value(self->before, "contexts"));
	EXPECT_LT(json_value(self->before, "memory_bytes"),
		  json_value(self->after, "memory_bytes"));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	ASSERT_EQ(0, run_twstat(AS_ROOT, self->after, json));
	EXPECT_EQ(json_value(self->before, "contexts"),
		  json_value(self->after, "contexts"));
	EXPECT_EQ(json_value(self->before, "memory_bytes"),
		  json_value(self->after, "memory_bytes"));
}

TEST_F(live, the_totals_are_the_sums_of_the_cpus)
{
	static const char *const cpu_json[] = { "--json", "--cpu", NULL };
	char *total = self->before, *cpu = self->after;
	char path[PATH_MAX], name[64];
	int64_t sum, max, v;
	int ncpu = 0;
	const char *p;

	/* Nothing moves while this runs: the sums are exact. */
	ASSERT_EQ(0, read_text(COUNTERS_DIR "/counters", total, OUT_MAX));
	for (p = total; *p; p = strchr(p, '\n') + 1) {
		ASSERT_EQ(1, sscanf(p, "%63s", name));
		sum = 0;
		max = 0;
		for (ncpu = 0; ncpu < 4096; ncpu++) {
			snprintf(path, sizeof(path), COUNTERS_DIR "/cpu%d/counters",
				 ncpu);
			if (read_text(path, cpu, OUT_MAX))
				break;
			v = file_value(cpu, name);
			ASSERT_NE(INT64_MIN, v) TH_LOG("cpu%d lacks %s", ncpu, name);
			sum += v;
			max = v > max ? v : max;
		}
		ASSERT_LE(1, ncpu);
		if (!strcmp(name, "batch_max")) {
			EXPECT_EQ(max, file_value(total, name));
		} else {
			EXPECT_EQ(sum, file_value(total, name)) TH_LOG("%s", name);
		}
	}
	/* and twstat reads the same numbers */
	ASSERT_EQ(0, run_twstat(AS_ROOT, cpu, cpu_json)) TH_LOG("%s", cpu);
	EXPECT_EQ(file_value(total, "arms"), json_value(cpu, "arms"));
	EXPECT_EQ(file_value(total, "expiries"), json_value(cpu, "expiries"));
	snprintf(name, sizeof(name), "\"cpus\":%d,", ncpu);
	EXPECT_NE(NULL, strstr(cpu, name)) TH_LOG("%d CPUs: %.80s", ncpu, cpu);
}

TEST_F(live, snapshot_shows_the_file_values)
{
	static const char *const none[] = { NULL };
	char *text = self->before, *out = self->after;
	char line[128];

	ASSERT_EQ(0, read_text(COUNTERS_DIR "/counters", text, OUT_MAX));
	ASSERT_EQ(0, run_twstat(AS_ROOT, out, none)) TH_LOG("%s", out);
	snprintf(line, sizeof(line), "\n  %-28s %16lld\n", "arms",
		 (long long)file_value(text, "arms"));
	EXPECT_NE(NULL, strstr(out, line)) TH_LOG("%s", out);
	snprintf(line, sizeof(line), "\n  %-28s %16lld\n", "expiries",
		 (long long)file_value(text, "expiries"));
	EXPECT_NE(NULL, strstr(out, line)) TH_LOG("%s", out);
	/* every counter of this module is known: no "-", no unknown section */
	EXPECT_EQ(NULL, strstr(out, " -\n")) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "not known")) TH_LOG("%s", out);
}

TEST_F(live, interval_lines_show_the_gauges)
{
	static const char *const args[] = { "-i", "0.2", "-c", "2", NULL };
	char *out = self->after, *text = self->before;
	const char *p;
	char want[32];
	int lines = 0;

	ASSERT_EQ(0, read_text(COUNTERS_DIR "/counters", text, OUT_MAX));
	ASSERT_EQ(0, run_twstat(AS_ROOT, out, args)) TH_LOG("%s", out);
	ASSERT_EQ(0, strncmp(out, " timers ", 8)) TH_LOG("%s", out);
	/* nothing is armed by anyone: the timers column is 0, rates 0 */
	EXPECT_EQ(0, file_value(text, "timers_armed"));
	snprintf(want, sizeof(want), "\n%7d ", 0);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	/* the header and two lines */
	for (p = out; (p = strchr(p, '\n')); p++)
		lines++;
	EXPECT_EQ(3, lines) TH_LOG("%s", out);
}

TEST_F(live, without_debugfs_twstat_exits_3)
{
	static const char *const none[] = { NULL };
	char *out = self->after;

	EXPECT_EQ(3, run_twstat(WITHOUT_DEBUGFS, out, none)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "debugfs is not mounted")) TH_LOG("%s", out);
}

TEST_F(live, a_user_who_may_not_read_debugfs_is_told_so)
{
	static const char *const none[] = { NULL };
	char *out = self->after;

	EXPECT_EQ(5, run_twstat(AS_NOBODY, out, none)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "Permission denied")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "run twstat as root")) TH_LOG("%s", out);
}

/*
 * The object of "files" in twstat --files --json output whose pid and fd
 * are @pid and @fd: the value of @name in it, INT64_MIN if there is none.
 */
static int64_t files_value(const char *json, int pid, int fd, const char *name)
{
	char head[64], obj[512];
	const char *p, *end;

	snprintf(head, sizeof(head), "{\"pid\":%d,", pid);
	for (p = strstr(json, head); p; p = strstr(p + 1, head)) {
		end = strchr(p, '}');
		if (!end || end - p >= (long)sizeof(obj))
			break;
		memcpy(obj, p, end - p);
		obj[end - p] = '\0';
		if (json_value(obj, "fd") == fd)
			return json_value(obj, name);
	}
	return INT64_MIN;
}

TEST_F(live, files_shows_which_process_holds_how_many_timers)
{
	static const char *const files[] = { "--files", "--json", NULL };
	static const char *const table[] = { "--files", NULL };
	struct twheel_arm arms[123];
	struct twheel_batch b;
	char line[64];
	int other, pid = getpid();
	long quota;

	other = open("/dev/twheel", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	for (int i = 0; i < 123; i++)
		arms[i] = (struct twheel_arm){
			.conn_id = i / 3, .kind = i % 3,
			.timeout_ns = 60 * NSEC_PER_SEC,
		};
	ASSERT_EQ(123, tw_arm_batch(self->fd, arms, 123, &b));
	ASSERT_EQ(7, tw_arm_batch(other, arms, 7, &b));
	quota = tw_read_param("/sys/module/twheel/parameters/quota");
	ASSERT_LT(0, quota);

	ASSERT_EQ(0, run_twstat(AS_ROOT, self->after, files)) TH_LOG("%s", self->after);
	EXPECT_EQ(quota, json_value(self->after, "quota"));
	EXPECT_EQ(123, files_value(self->after, pid, self->fd, "armed"));
	EXPECT_EQ(41, files_value(self->after, pid, self->fd, "conns"));
	EXPECT_EQ(0, files_value(self->after, pid, self->fd, "queued"));
	EXPECT_EQ(1, files_value(self->after, pid, self->fd, "descriptors"));
	EXPECT_EQ(7, files_value(self->after, pid, other, "armed"));
	EXPECT_EQ(3, files_value(self->after, pid, other, "conns"));
	/* Most timers first. */
	snprintf(line, sizeof(line), "{\"pid\":%d,", pid);
	ASSERT_NE(NULL, strstr(self->after, line));
	EXPECT_EQ(123, json_value(strstr(self->after, line), "armed"));

	/* The table: our row, with its share of the quota. */
	ASSERT_EQ(0, run_twstat(AS_ROOT, self->after, table)) TH_LOG("%s", self->after);
	snprintf(line, sizeof(line), "%7d ", pid);
	EXPECT_NE(NULL, strstr(self->after, line)) TH_LOG("%s", self->after);
	EXPECT_NE(NULL, strstr(self->after, "%")) TH_LOG("%s", self->after);

	/* Another user sees neither of our files, and is told why. */
	ASSERT_EQ(0, run_twstat(AS_NOBODY, self->after, files)) TH_LOG("%s", self->after);
	EXPECT_EQ(INT64_MIN, files_value(self->after, pid, self->fd, "armed"));
	EXPECT_LT(0, json_value(self->after, "unreadable_processes"));
	close(other);
}

TEST_HARNESS_MAIN
