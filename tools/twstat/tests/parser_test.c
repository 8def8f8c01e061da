// SPDX-License-Identifier: GPL-2.0
/*
 * twstat's parser, arithmetic and output, against the recorded counter
 * files in tests/data (described in tests/data/README).
 *
 * TWSTAT_DATA names the data directory (default: tests/data, relative to
 * tools/twstat).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "twstat.h"

static const char *data_dir(void)
{
	const char *d = getenv("TWSTAT_DATA");

	return d ? d : "tests/data";
}

static int read_data(const char *name, struct twstat_snap *snap, bool need_cpu)
{
	char dir[PATH_MAX], err[512];
	int ret;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir(), name);
	ret = twstat_read_dir(dir, snap, need_cpu, err, sizeof(err));
	if (ret)
		fprintf(stderr, "# %s\n", err);
	return ret;
}

static int64_t value(const struct twstat_set *set, const char *name)
{
	int64_t v = INT64_MIN;

	twstat_get(set, name, &v);
	return v;
}

static int parse_str(struct twstat_set *set, const char *text, char *err,
		     size_t errlen)
{
	return twstat_parse(set, text, strlen(text), err, errlen);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* What an output function wrote, as a string the caller frees. */
#define CAPTURE(buf, call) do {						\
	size_t __len;							\
	FILE *f = open_memstream(&(buf), &__len);			\
	ASSERT_NE(NULL, f);						\
	call;								\
	ASSERT_EQ(0, fclose(f));					\
} while (0)

TEST(parse_keeps_names_values_and_order)
{
	struct twstat_set set = {};
	char err[128];

	/* No newline at the end: the last line still counts. */
	ASSERT_EQ(0, parse_str(&set, "arms 12\ntimers_armed -3\n\nx_9 0", err,
			       sizeof(err)));
	ASSERT_EQ(3, set.n);
	EXPECT_STREQ("arms", set.v[0].name);
	EXPECT_EQ(12, set.v[0].value);
	EXPECT_STREQ("timers_armed", set.v[1].name);
	EXPECT_EQ(-3, set.v[1].value);
	EXPECT_STREQ("x_9", set.v[2].name);
	EXPECT_EQ(0, set.v[2].value);
	twstat_set_free(&set);
}

TEST(parse_accepts_the_64_bit_limits)
{
	struct twstat_set set = {};
	char err[128];

	ASSERT_EQ(0, parse_str(&set, "a 9223372036854775807\n"
				     "b -9223372036854775808\n", err, sizeof(err)));
	EXPECT_EQ(INT64_MAX, value(&set, "a"));
	EXPECT_EQ(INT64_MIN, value(&set, "b"));
	twstat_set_free(&set);
}

TEST(parse_rejects_what_is_not_a_counter_line)
{
	static const char * const bad[] = {
		"arms\n",			/* no value */
		"arms \n",			/* empty value */
		"arms  1\n",			/* two spaces */
		"arms\t1\n",			/* a tab */
		"Arms 1\n",			/* upper case */
		"arms 1x\n",			/* trailing junk */
		"arms 1 2\n",
		"arms -\n",
		"arms +1\n",
		"arms 9223372036854775808\n",	/* overflow */
		"arms -9223372036854775809\n",
		" arms 1\n",
		"arms 0x10\n",
	};
	struct twstat_set set = {};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		/* The bad line is line 2: the message must say so. */
		snprintf(text, sizeof(text), "cancels 1\n%s", bad[i]);
		EXPECT_EQ(-1, parse_str(&set, text, err, sizeof(err)))
			TH_LOG("accepted '%s'", bad[i]);
		EXPECT_EQ(0, strncmp(err, "line 2:", 7)) TH_LOG("%s", err);
	}
	twstat_set_free(&set);
}

TEST(parse_rejects_duplicates_names_too_long_and_empty_files)
{
	struct twstat_set set = {};
	char err[128], name[TWSTAT_NAME_MAX + 8];

	EXPECT_EQ(-1, parse_str(&set, "arms 1\nexpiries 2\narms 3\n", err,
				sizeof(err)));
	EXPECT_STREQ("line 3: 'arms' appears twice", err);

	memset(name, 'a', sizeof(name));
	snprintf(name + TWSTAT_NAME_MAX + 1, 7, " 1\n");
	EXPECT_EQ(-1, parse_str(&set, name, err, sizeof(err)));
	EXPECT_EQ(0, strncmp(err, "line 1: name longer", 19)) TH_LOG("%s", err);
	/* exactly TWSTAT_NAME_MAX characters is fine */
	snprintf(name + TWSTAT_NAME_MAX, 7, " 1\n");
	EXPECT_EQ(0, parse_str(&set, name, err, sizeof(err)));

	EXPECT_EQ(-1, parse_str(&set, "", err, sizeof(err)));
	EXPECT_STREQ("no counters in it", err);
	EXPECT_EQ(-1, parse_str(&set, "\n\n", err, sizeof(err)));
	twstat_set_free(&set);
}

TEST(read_file_maps_failures_to_exit_statuses)
{
	struct twstat_set set = {};
	char path[PATH_MAX], err[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/no-such-dir/counters", data_dir());
	EXPECT_EQ(TWSTAT_EXIT_NO_MODULE, twstat_read_file(path, &set, err,
							  sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "No such file or directory")) TH_LOG("%s", err);

	snprintf(path, sizeof(path), "%s/malformed/counters", data_dir());
	EXPECT_EQ(TWSTAT_EXIT_ERROR, twstat_read_file(path, &set, err,
						      sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "malformed/counters: line 3: ")) TH_LOG("%s", err);

	/* A directory is not a counter file. */
	snprintf(path, sizeof(path), "%s/live-2cpu", data_dir());
	EXPECT_EQ(TWSTAT_EXIT_ERROR, twstat_read_file(path, &set, err,
						      sizeof(err)));
	twstat_set_free(&set);
}

TEST(read_file_says_permission_denied)
{
	char path[] = "/tmp/twstat-perm-XXXXXX";
	struct twstat_set set = {};
	char err[256];
	int fd, status;
	pid_t pid;

	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, write(fd, "arms 1\n\n", 8));
	close(fd);
	ASSERT_EQ(0, chmod(path, 0600));
	if (geteuid() != 0) {
		/* Nobody may read a file of mode 000, its owner included. */
		ASSERT_EQ(0, chmod(path, 0));
		EXPECT_EQ(TWSTAT_EXIT_PERM,
			  twstat_read_file(path, &set, err, sizeof(err)));
		unlink(path);
		return;
	}
	/* root reads everything: ask as nobody instead */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(100);
		_exit(twstat_read_file(path, &set, err, sizeof(err)));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	unlink(path);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(TWSTAT_EXIT_PERM, WEXITSTATUS(status));
}

TEST(live_recording_has_every_counter_and_cpu)
{
	struct twstat_snap s;

	ASSERT_EQ(0, read_data("live-2cpu", &s, true));
	ASSERT_EQ(2, s.ncpu);
	EXPECT_EQ(0, s.cpu_id[0]);
	EXPECT_EQ(1, s.cpu_id[1]);
	for (size_t i = 0; i < twstat_nr_known; i++) {
		EXPECT_NE(NULL, twstat_find(&s.total, twstat_known[i].name))
			TH_LOG("%s missing", twstat_known[i].name);
	}
	/* what the recording module fed in (tests/data/README) */
	EXPECT_EQ(30, value(&s.total, "arms"));
	EXPECT_EQ(10, value(&s.cpu[0], "arms"));
	EXPECT_EQ(20, value(&s.cpu[1], "arms"));
	EXPECT_EQ(400000, value(&s.total, "cancels"));
	EXPECT_EQ(784, value(&s.total, "wakeups"));
	EXPECT_EQ(5, value(&s.total, "timers_armed"));
	EXPECT_EQ(-199995, value(&s.cpu[1], "timers_armed"));
	EXPECT_EQ(5000, value(&s.total, "batch_max"));
	EXPECT_EQ(100, value(&s.cpu[0], "batch_max"));
	for (size_t i = 0; i < twstat_nr_known; i++) {
		EXPECT_EQ(twstat_kind_of(twstat_known[i].name),
			  twstat_known[i].kind);
	}
	EXPECT_EQ(TWSTAT_COUNTER, twstat_kind_of("lateness_us_log2_31"));
	EXPECT_EQ(TWSTAT_COUNTER, twstat_kind_of("batch_log2_0"));
	EXPECT_EQ(TWSTAT_COUNTER, twstat_kind_of("wakeup_us_log2_31"));
	EXPECT_EQ(TWSTAT_COUNTER, twstat_kind_of("run_us_log2_0"));
	EXPECT_EQ(TWSTAT_UNKNOWN, twstat_kind_of("run_us_log2_"));
	EXPECT_EQ(TWSTAT_UNKNOWN, twstat_kind_of("batch_log2_01"));
	EXPECT_EQ(TWSTAT_UNKNOWN, twstat_kind_of("batch_log2_"));
	EXPECT_EQ(TWSTAT_UNKNOWN, twstat_kind_of("batch_log2_99"));
	twstat_snap_free(&s);
}

TEST(live_recording_totals_are_the_sums_of_the_cpus)
{
	struct twstat_snap s;

	ASSERT_EQ(0, read_data("live-2cpu", &s, true));
	ASSERT_EQ(182, s.total.n);
	for (size_t i = 0; i < s.total.n; i++) {
		const char *name = s.total.v[i].name;
		int64_t sum = 0, max = 0;

		for (size_t c = 0; c < s.ncpu; c++) {
			int64_t v = value(&s.cpu[c], name);

			sum += v;
			max = v > max ? v : max;
		}
		if (twstat_kind_of(name) == TWSTAT_MAXIMUM) {
			EXPECT_EQ(max, s.total.v[i].value) TH_LOG("%s", name);
		} else {
			EXPECT_EQ(sum, s.total.v[i].value) TH_LOG("%s", name);
		}
	}
	twstat_snap_free(&s);
}

TEST(histograms_gather_buckets_by_number)
{
	uint64_t b[TWSTAT_HIST_MAX];
	struct twstat_snap s;

	ASSERT_EQ(0, read_data("live-2cpu", &s, false));
	ASSERT_EQ(32, twstat_hist(&s.total, TWSTAT_HIST_LATENESS, b,
				  TWSTAT_HIST_MAX));
	EXPECT_EQ(4, b[0]);
	EXPECT_EQ(2, b[1]);
	EXPECT_EQ(2, b[2]);
	EXPECT_EQ(2, b[3]);
	EXPECT_EQ(0, b[4]);
	EXPECT_EQ(2, b[31]);
	ASSERT_EQ(24, twstat_hist(&s.total, TWSTAT_HIST_BATCH, b,
				  TWSTAT_HIST_MAX));
	EXPECT_EQ(2, b[7]);
	EXPECT_EQ(1, b[13]);
	/* a smaller array gets the buckets that fit */
	EXPECT_EQ(8, twstat_hist(&s.total, TWSTAT_HIST_BATCH, b, 8));
	EXPECT_EQ(2, b[7]);
	twstat_snap_free(&s);
}

TEST(older_module_lacks_counters_buckets_and_cpus)
{
	uint64_t b[TWSTAT_HIST_MAX];
	struct twstat_snap s;
	int64_t v;

	/* no cpu<N> directories: fine unless per-CPU data is asked for */
	EXPECT_EQ(TWSTAT_EXIT_ERROR, read_data("older", &s, true));
	twstat_snap_free(&s);
	ASSERT_EQ(0, read_data("older", &s, false));
	EXPECT_EQ(0, s.ncpu);
	EXPECT_FALSE(twstat_get(&s.total, "rearms_in_place", &v));
	EXPECT_FALSE(twstat_get(&s.total, "memory_bytes", &v));
	EXPECT_EQ(500, value(&s.total, "arms"));
	EXPECT_EQ(16, twstat_hist(&s.total, TWSTAT_HIST_LATENESS, b,
				  TWSTAT_HIST_MAX));
	EXPECT_EQ(5, b[15]);
	EXPECT_EQ(12, twstat_hist(&s.total, TWSTAT_HIST_BATCH, b,
				  TWSTAT_HIST_MAX));
	twstat_snap_free(&s);
}

TEST(older_module_snapshot_shows_missing_counters_as_dashes)
{
	struct twstat_snap s;
	char *out = NULL;

	ASSERT_EQ(0, read_data("older", &s, false));
	CAPTURE(out, twstat_print_snapshot(f, &s, "older", false));
	EXPECT_TRUE(starts_with(out, "twheel counters in older\n\nnow:\n")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\n  re-arms in place                            -\n"));
	EXPECT_NE(NULL, strstr(out, "\n  memory in use (bytes)                       -\n"));
	EXPECT_NE(NULL, strstr(out, "\n  re-arms                                    40\n"));
	/* the last bucket a file has is open-ended: 15 is ">= 2^14" */
	EXPECT_NE(NULL, strstr(out, "\n  lateness max                      >= 16384 us\n"));
	EXPECT_NE(NULL, strstr(out, "\n  lateness p50                           < 1 us\n"));
	EXPECT_NE(NULL, strstr(out, "\n  batch size p99                            < 8\n"));
	EXPECT_EQ(NULL, strstr(out, "not known")) TH_LOG("%s", out);
	free(out);
	twstat_snap_free(&s);
}

TEST(newer_module_unknown_counters_are_kept_and_shown)
{
	uint64_t b[TWSTAT_HIST_MAX];
	struct twstat_snap s;
	char *out = NULL;

	ASSERT_EQ(0, read_data("newer", &s, true));
	EXPECT_EQ(TWSTAT_UNKNOWN, twstat_kind_of("timers_migrated"));
	EXPECT_EQ(12, value(&s.total, "timers_migrated"));
	EXPECT_EQ(4096, value(&s.total, "deadline_slack_ns"));
	/* a 33rd lateness bucket: read, and the new last one */
	EXPECT_EQ(33, twstat_hist(&s.total, TWSTAT_HIST_LATENESS, b,
				  TWSTAT_HIST_MAX));
	EXPECT_EQ(10, b[32]);

	CAPTURE(out, twstat_print_snapshot(f, &s, "newer", false));
	EXPECT_NE(NULL, strstr(out, "\nnot known to this twstat:\n"
				    "  timers_migrated                            12\n"
				    "  deadline_slack_ns                        4096\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\n  arms                                      100\n"));
	EXPECT_NE(NULL, strstr(out, "lateness max                 >= 2147483648 us\n"));
	free(out);

	CAPTURE(out, twstat_print_snapshot(f, &s, "newer", true));
	EXPECT_NE(NULL, strstr(out, "\ntimers_migrated                        12            0           12\n"))
		TH_LOG("%s", out);
	free(out);
	twstat_snap_free(&s);
}

TEST(cpu_table_has_a_column_per_cpu_and_blank_gauges)
{
	struct twstat_snap s;
	char *out = NULL;

	ASSERT_EQ(0, read_data("live-2cpu", &s, true));
	CAPTURE(out, twstat_print_snapshot(f, &s, "live", true));
	EXPECT_NE(NULL, strstr(out, "twheel counters in live, 2 CPUs\n\n"
				    "                                     cpu0         cpu1        total\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\narms                                   10           20           30\n"));
	EXPECT_NE(NULL, strstr(out, "\nlargest batch                         100         5000         5000\n"));
	/* -199995 on cpu1 is no count of anything: not shown */
	EXPECT_NE(NULL, strstr(out, "\ntimers armed                                                      5\n"));
	EXPECT_EQ(NULL, strstr(out, "199995"));
	free(out);
	twstat_snap_free(&s);
}

TEST(delta_of_two_readings_gives_increases_and_current_gauges)
{
	struct twstat_snap t0, t1, d;
	bool reset = true;

	ASSERT_EQ(0, read_data("busy-t0", &t0, true));
	ASSERT_EQ(0, read_data("busy-t1", &t1, true));
	twstat_snap_delta(&d, &t0, &t1, &reset);
	EXPECT_FALSE(reset);
	EXPECT_EQ(2000, value(&d.total, "arms"));
	EXPECT_EQ(3000, value(&d.total, "expiries"));
	EXPECT_EQ(2510, value(&d.total, "events_read"));
	EXPECT_EQ(1000, value(&d.total, "lateness_us_log2_0"));
	EXPECT_EQ(1, value(&d.total, "lateness_us_log2_11"));
	/* gauges and the maximum are the current values */
	EXPECT_EQ(3300, value(&d.total, "timers_armed"));
	EXPECT_EQ(720896, value(&d.total, "memory_bytes"));
	EXPECT_EQ(120, value(&d.total, "batch_max"));
	ASSERT_EQ(2, d.ncpu);
	EXPECT_EQ(1000, value(&d.cpu[1], "arms"));
	EXPECT_EQ(4, value(&d.cpu[1], "quota_refusals"));
	twstat_snap_free(&d);

	/* backwards: the module was reloaded; count from zero */
	twstat_snap_delta(&d, &t1, &t0, &reset);
	EXPECT_TRUE(reset);
	EXPECT_EQ(200000, value(&d.total, "arms"));
	twstat_snap_free(&d);
	twstat_snap_free(&t0);
	twstat_snap_free(&t1);
}

TEST(interval_line_shows_gauges_and_per_second_rates)
{
	struct twstat_snap t0, t1, d;
	char *out = NULL;
	bool reset;

	ASSERT_EQ(0, read_data("busy-t0", &t0, true));
	ASSERT_EQ(0, read_data("busy-t1", &t1, true));
	twstat_snap_delta(&d, &t0, &t1, &reset);

	CAPTURE(out, twstat_print_header(f, false));
	EXPECT_STREQ(" timers     ctx   conns     mem   arm/s rearm/s  cncl/s   exp/s  casc/s   evq/s  evrd/s  wake/s  idle/s quota/s\n",
		     out);
	free(out);
	/* two seconds between the readings */
	CAPTURE(out, twstat_print_rates(f, &t1.total, &d.total, 2.0, NULL));
	EXPECT_STREQ("   3300       2    2000  704.0K    1000     200     100    1500       5    1250    1255     150      10       2\n",
		     out);
	free(out);

	CAPTURE(out, twstat_print_header(f, true));
	EXPECT_STREQ(" cpu   arm/s rearm/s  cncl/s   exp/s  casc/s   evq/s  evrd/s  wake/s  idle/s quota/s\n",
		     out);
	free(out);
	CAPTURE(out, twstat_print_rates(f, &t1.cpu[1], &d.cpu[1], 4.0, "1"));
	EXPECT_STREQ("   1     250       0       0     125       0       0       0      25       0       1\n",
		     out);
	free(out);
	twstat_snap_free(&d);
	twstat_snap_free(&t0);
	twstat_snap_free(&t1);
}

TEST(interval_line_shows_missing_counters_as_dashes)
{
	struct twstat_snap s, d;
	char *out = NULL;
	bool reset;

	ASSERT_EQ(0, read_data("older", &s, false));
	twstat_snap_delta(&d, &s, &s, &reset);
	CAPTURE(out, twstat_print_rates(f, &s.total, &d.total, 1.0, NULL));
	EXPECT_STREQ("     50       1      25       -       0       0       0       0       0       0       0       0       0       -\n",
		     out);
	free(out);
	twstat_snap_free(&d);
	twstat_snap_free(&s);
}

TEST(numbers_fit_in_seven_characters)
{
	static const struct { double v; bool bytes; const char *text; } cases[] = {
		{ 0, false, "0" },
		{ 5, false, "5" },
		{ 0.5, false, "0.5" },
		{ 9.94, false, "9.9" },
		{ 12.6, false, "13" },
		{ 9999999, false, "9999999" },
		{ 12345678, false, "12.3M" },
		{ 999.96e6, false, "1.0G" },
		{ 2.5e12, false, "2.5T" },
		{ -3, false, "-3" },
		{ -12345678, false, "-12.3M" },
		{ 10239, true, "10239" },
		{ 10240, true, "10.0K" },
		{ 720896, true, "704.0K" },
		{ 1610612736, true, "1.5G" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		twstat_format_num(buf, sizeof(buf), cases[i].v, cases[i].bytes);
		EXPECT_STREQ(cases[i].text, buf) TH_LOG("case %zu", i);
		EXPECT_GE(7, strlen(buf));
	}
}

TEST(histogram_bars_scale_to_the_largest_bucket)
{
	struct twstat_snap s;
	char *out = NULL;
	size_t rows = 0;

	ASSERT_EQ(0, read_data("live-2cpu", &s, false));
	CAPTURE(out, twstat_print_hists(f, &s.total, "all CPUs"));
	EXPECT_TRUE(starts_with(out, "lateness of expiries, all CPUs\n"
				     "            microseconds : count        distribution\n"
				     "                       0 : 4            |########################################|\n"
				     "                       1 : 2            |####################                    |\n"
				     "                   2 - 3 : 2            |####################                    |\n"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\n           >= 1073741824 : 2            |####################                    |\n\n"
				    "expiry batch sizes, all CPUs\n"));
	EXPECT_NE(NULL, strstr(out, "\n             4096 - 8191 : 1            |####################                    |\n"));
	/* rows from the first to the last bucket that is not empty */
	for (char *p = out; (p = strstr(p, "|\n")); p++)
		rows++;
	EXPECT_EQ(32 + 14, rows);
	free(out);
	twstat_snap_free(&s);
}

TEST(histogram_of_nothing_says_empty)
{
	struct twstat_set set = {};
	char *out = NULL, err[64];

	ASSERT_EQ(0, parse_str(&set, "lateness_us_log2_0 0\nlateness_us_log2_1 0\n",
			       err, sizeof(err)));
	CAPTURE(out, twstat_print_hists(f, &set, "cpu3"));
	EXPECT_STREQ("lateness of expiries, cpu3\n  (empty)\n\n"
		     "expiry batch sizes, cpu3\n  (empty)\n\n", out);
	free(out);
	twstat_set_free(&set);
}

TEST(expiry_thread_histograms_are_shown_when_the_module_has_them)
{
	struct twstat_set set = {};
	char *out = NULL, err[64];

	ASSERT_EQ(0, parse_str(&set, "wakeup_us_log2_0 0\nwakeup_us_log2_7 3\n"
				     "wakeup_us_log2_31 0\n"
				     "run_us_log2_0 0\nrun_us_log2_12 2\n",
			       err, sizeof(err)));
	CAPTURE(out, twstat_print_hists(f, &set, "cpu1"));
	EXPECT_NE(NULL, strstr(out, "expiry thread wake-up (hrtimer expiry to work), cpu1\n"
				    "            microseconds : count        distribution\n"
				    "                64 - 127 : 3            |"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "expiry thread work per wake-up, cpu1\n"
				    "            microseconds : count        distribution\n"
				    "                 >= 2048 : 2            |"))
		TH_LOG("%s", out);
	free(out);
	twstat_set_free(&set);
}

TEST(histogram_bar_of_a_small_count_is_not_empty)
{
	struct twstat_set set = {};
	char *out = NULL, err[64];

	ASSERT_EQ(0, parse_str(&set, "batch_log2_0 0\nbatch_log2_1 1000\n"
				     "batch_log2_2 1\nbatch_log2_3 0\n",
			       err, sizeof(err)));
	CAPTURE(out, twstat_print_hists(f, &set, "all CPUs"));
	EXPECT_NE(NULL, strstr(out, "\n                       1 : 1000         |########################################|\n"
				    "                   2 - 3 : 1            |#                                       |\n\n"))
		TH_LOG("%s", out);
	free(out);
	twstat_set_free(&set);
}

/* Braces and brackets balance outside strings, and nothing follows the end. */
static bool json_balanced(const char *s)
{
	int depth = 0;
	bool in_str = false;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\')
				s++;
			else if (*s == '"')
				in_str = false;
			continue;
		}
		if (*s == '"')
			in_str = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
			depth--;
		if (depth < 0)
			return false;
		if (depth == 0 && *s == '}')
			return !strcmp(s, "}\n");
	}
	return false;
}

TEST(json_snapshot_has_every_counter_under_its_own_name)
{
	struct twstat_snap s;
	char *out = NULL;

	ASSERT_EQ(0, read_data("newer", &s, true));
	CAPTURE(out, twstat_print_json(f, &s, NULL, 0, "dir \"x\"", true));
	EXPECT_TRUE(json_balanced(out)) TH_LOG("%s", out);
	EXPECT_TRUE(starts_with(out, "{\"dir\":\"dir \\\"x\\\"\",\"cpus\":2,\"counters\":{\"arms\":100,"))
		TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, ",\"timers_migrated\":12,\"deadline_slack_ns\":4096}"));
	EXPECT_NE(NULL, strstr(out, "\"lateness_us_log2_32\":10,"));
	EXPECT_NE(NULL, strstr(out, ",\"per_cpu\":[{\"cpu\":0,\"counters\":{\"arms\":70,"));
	EXPECT_NE(NULL, strstr(out, "{\"cpu\":1,\"counters\":{\"arms\":30,"));
	EXPECT_EQ(NULL, strstr(out, "rates"));
	free(out);
	twstat_snap_free(&s);
}

TEST(json_interval_has_rates_of_growing_counters_only)
{
	struct twstat_snap t0, t1, d;
	char *out = NULL;
	bool reset;

	ASSERT_EQ(0, read_data("busy-t0", &t0, true));
	ASSERT_EQ(0, read_data("busy-t1", &t1, true));
	twstat_snap_delta(&d, &t0, &t1, &reset);
	CAPTURE(out, twstat_print_json(f, &t1, &d, 2.0, "busy", false));
	EXPECT_TRUE(json_balanced(out)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, ",\"interval_s\":2.000000,"));
	EXPECT_NE(NULL, strstr(out, ",\"rates\":{\"arms\":1000.000,\"rearms\":200.000,"));
	EXPECT_NE(NULL, strstr(out, "\"quota_refusals\":2.000,\"lateness_us_log2_0\":500.000,"))
		TH_LOG("%s", out);
	/* gauges and the maximum are no rates */
	EXPECT_EQ(NULL, strstr(strstr(out, "\"rates\""), "timers_armed"));
	EXPECT_EQ(NULL, strstr(strstr(out, "\"rates\""), "batch_max"));
	EXPECT_EQ(NULL, strstr(out, "per_cpu"));
	free(out);
	twstat_snap_free(&d);
	twstat_snap_free(&t0);
	twstat_snap_free(&t1);
}

TEST_HARNESS_MAIN
