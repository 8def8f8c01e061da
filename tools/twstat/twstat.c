// SPDX-License-Identifier: GPL-2.0
/*
 * twstat: show the twheel module's counters, once or every interval, the
 * way vmstat shows the rest of the kernel. See twstat(8).
 */

#include <errno.h>
#include <getopt.h>
#include <linux/magic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "twstat.h"

#define TWSTAT_DEBUGFS		"/sys/kernel/debug"
#define TWSTAT_SYS_MODULE	"/sys/module"
#define TWSTAT_PROC		"/proc"
#define TWSTAT_QUOTA		TWSTAT_SYS_MODULE "/twheel/parameters/quota"

struct twstat_opts {
	double interval;	/* seconds; 0 for one snapshot */
	unsigned long count;	/* intervals; 0 for no end */
	bool per_cpu;
	bool hist;
	bool json;
	bool header_once;
	bool files;		/* -f: the open files instead of the counters */
	const char *dir;	/* -d, or NULL for debugfs */
	const char *proc;	/* -p, or NULL for /proc */
};

static const char twstat_usage[] =
"usage: twstat [options] [interval [count]]\n"
"\n"
"Show the counters of the twheel timer module (debugfs, twheel/counters).\n"
"Without an interval: one snapshot. With one: a line of per-second rates\n"
"every interval seconds, count times or until interrupted. With --files:\n"
"the open twheel files instead, and the processes that hold them.\n"
"\n"
"  -i, --interval SEC   seconds between lines (fractions allowed)\n"
"  -c, --count N        stop after N lines (default: never; -c alone\n"
"                       means an interval of 1 second)\n"
"  -C, --cpu            per-CPU columns (snapshot) or rows (intervals)\n"
"  -H, --hist           lateness, batch-size and expiry-thread histograms as bars\n"
"  -j, --json           one JSON object per snapshot or interval\n"
"  -n, --header-once    print the interval header only once\n"
"  -d, --dir DIR        read DIR instead of <debugfs>/twheel\n"
"  -f, --files          every open twheel file: the process holding it,\n"
"                       its CPU, timers, events and connections (fdinfo)\n"
"  -p, --proc DIR       with --files, read DIR instead of /proc\n"
"  -h, --help           show this help\n"
"\n"
"Exit status: 0 success, 1 unreadable or malformed counters, 2 usage,\n"
"3 debugfs not mounted, 4 module not loaded (or no counters in DIR),\n"
"5 permission denied. See twstat(8).\n";

static void __attribute__((noreturn)) twstat_usage_error(const char *fmt,
							  const char *arg)
{
	fprintf(stderr, "twstat: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'twstat --help' for more information.\n");
	exit(TWSTAT_EXIT_USAGE);
}

static double twstat_parse_interval(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v <= 0 || v > 1e6)
		twstat_usage_error("invalid interval '%s': seconds above 0", arg);
	return v;
}

static unsigned long twstat_parse_count(const char *arg)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v == 0)
		twstat_usage_error("invalid count '%s': a number above 0", arg);
	return v;
}

static void twstat_parse_args(int argc, char **argv, struct twstat_opts *o)
{
	static const struct option longopts[] = {
		{ "interval",	 required_argument, NULL, 'i' },
		{ "count",	 required_argument, NULL, 'c' },
		{ "cpu",	 no_argument,	    NULL, 'C' },
		{ "hist",	 no_argument,	    NULL, 'H' },
		{ "json",	 no_argument,	    NULL, 'j' },
		{ "header-once", no_argument,	    NULL, 'n' },
		{ "dir",	 required_argument, NULL, 'd' },
		{ "files",	 no_argument,	    NULL, 'f' },
		{ "proc",	 required_argument, NULL, 'p' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_interval = false, have_count = false;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "i:c:CHjnd:fp:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->interval = twstat_parse_interval(optarg);
			have_interval = true;
			break;
		case 'c':
			o->count = twstat_parse_count(optarg);
			have_count = true;
			break;
		case 'C':
			o->per_cpu = true;
			break;
		case 'H':
			o->hist = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'n':
			o->header_once = true;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'f':
			o->files = true;
			break;
		case 'p':
			o->proc = optarg;
			break;
		case 'h':
			fputs(twstat_usage, stdout);
			exit(TWSTAT_EXIT_OK);
		default:
			fprintf(stderr, "Try 'twstat --help' for more information.\n");
			exit(TWSTAT_EXIT_USAGE);
		}
	}
	if (optind < argc) {
		if (have_interval)
			twstat_usage_error("interval given twice ('%s')", argv[optind]);
		o->interval = twstat_parse_interval(argv[optind++]);
		have_interval = true;
	}
	if (optind < argc) {
		if (have_count)
			twstat_usage_error("count given twice ('%s')", argv[optind]);
		o->count = twstat_parse_count(argv[optind++]);
		have_count = true;
	}
	if (optind < argc)
		twstat_usage_error("unexpected argument '%s'", argv[optind]);
	if (have_count && !have_interval)
		o->interval = 1;
	if (o->proc && !o->files)
		twstat_usage_error("%s needs --files", "--proc");
	if (o->files && (o->per_cpu || o->hist || o->dir))
		twstat_usage_error("%s goes with --json, --proc and an interval only",
				   "--files");
}

/* Undo the octal escapes (\040 for a space) of a /proc/self/mounts field. */
static void twstat_unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0');
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/*
 * Where debugfs is mounted: the conventional place if it is there, else the
 * first other debugfs mount. Without /proc, ask the conventional place.
 */
static bool twstat_find_debugfs(char *mnt, size_t len)
{
	char line[4096], dev[1024], path[1024], type[64];
	bool found = false;
	struct statfs st;
	FILE *m;

	m = fopen("/proc/self/mounts", "re");
	if (m) {
		while (fgets(line, sizeof(line), m)) {
			if (sscanf(line, "%1023s %1023s %63s", dev, path, type) != 3 ||
			    strcmp(type, "debugfs"))
				continue;
			twstat_unescape(path);
			if (!found || !strcmp(path, TWSTAT_DEBUGFS))
				snprintf(mnt, len, "%s", path);
			found = true;
		}
		fclose(m);
		if (found)
			return true;
	}
	if (!statfs(TWSTAT_DEBUGFS, &st) && st.f_type == DEBUGFS_MAGIC) {
		snprintf(mnt, len, "%s", TWSTAT_DEBUGFS);
		return true;
	}
	return false;
}

/* True only if sysfs is there to ask and says the module is not loaded. */
static bool twstat_module_absent(void)
{
	struct stat st;

	return !stat(TWSTAT_SYS_MODULE, &st) &&
	       stat(TWSTAT_SYS_MODULE "/twheel", &st) && errno == ENOENT;
}

/*
 * The first reading decides what the user is told: in debugfs, a missing
 * or unreadable file is explained in terms of the module and permissions.
 */
static int twstat_explain(int ret, const char *err, const struct twstat_opts *o)
{
	if (o->dir) {
		fprintf(stderr, "twstat: %s\n", err);
		if (ret == TWSTAT_EXIT_PERM)
			fprintf(stderr, "twstat: you may not read %s\n", o->dir);
		return ret;
	}
	if ((ret == TWSTAT_EXIT_NO_MODULE || ret == TWSTAT_EXIT_PERM) &&
	    twstat_module_absent()) {
		fprintf(stderr,
			"twstat: the twheel module is not loaded (no %s/twheel); load it with: modprobe twheel\n",
			TWSTAT_SYS_MODULE);
		return TWSTAT_EXIT_NO_MODULE;
	}
	fprintf(stderr, "twstat: %s\n", err);
	if (ret == TWSTAT_EXIT_PERM)
		fprintf(stderr,
			"twstat: debugfs is readable only by root: run twstat as root\n");
	else if (ret == TWSTAT_EXIT_NO_MODULE)
		fprintf(stderr,
			"twstat: twheel is loaded but has no counters in debugfs (is the kernel's debugfs restricted?)\n");
	return ret;
}

/* Lines between two headers: the terminal's height, as vmstat does. */
static unsigned int twstat_header_every(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) &&
	    ws.ws_row > 7)
		return ws.ws_row - 2;
	return 20;
}

static void twstat_sleep_until(double t)
{
	struct timespec ts = {
		.tv_sec = (time_t)t,
		.tv_nsec = (long)((t - floor(t)) * 1e9),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void twstat_print_interval(const struct twstat_opts *o, const char *dir,
				  const struct twstat_snap *cur,
				  const struct twstat_snap *delta, double secs,
				  unsigned long n, unsigned int *lines)
{
	char label[32];

	if (o->json) {
		twstat_print_json(stdout, cur, delta, secs, dir, o->per_cpu);
	} else if (o->hist) {
		printf("--- interval %lu, %.3f s ---\n", n, secs);
		twstat_print_hists(stdout, &delta->total, "all CPUs");
		for (size_t c = 0; o->per_cpu && c < delta->ncpu; c++) {
			snprintf(label, sizeof(label), "cpu%u", delta->cpu_id[c]);
			twstat_print_hists(stdout, &delta->cpu[c], label);
		}
	} else if (o->per_cpu) {
		if (n > 1)
			printf("\n");
		twstat_print_header(stdout, true);
		for (size_t c = 0; c < delta->ncpu; c++) {
			snprintf(label, sizeof(label), "%u", delta->cpu_id[c]);
			twstat_print_rates(stdout, &cur->cpu[c], &delta->cpu[c],
					   secs, label);
		}
		twstat_print_rates(stdout, &cur->total, &delta->total, secs,
				   "all");
	} else {
		if (*lines && !o->header_once && *lines % twstat_header_every() == 0)
			twstat_print_header(stdout, false);
		twstat_print_rates(stdout, &cur->total, &delta->total, secs, NULL);
		(*lines)++;
	}
}

/*
 * The per-file quota in force, or -1: unknown when reading a recorded
 * tree (-p), or when the module is not loaded.
 */
static int64_t twstat_quota(const struct twstat_opts *o)
{
	long long v;
	FILE *f;

	if (o->proc)
		return -1;
	f = fopen(TWSTAT_QUOTA, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* --files: once, or every interval. */
static int twstat_files_main(const struct twstat_opts *o)
{
	const char *proc = o->proc ? o->proc : TWSTAT_PROC;
	struct twstat_files files;
	struct timespec ts;
	char err[4352];
	double start;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = ts.tv_sec + ts.tv_nsec / 1e9;
	for (unsigned long n = 1;; n++) {
		ret = twstat_scan_files(proc, &files, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "twstat: %s\n", err);
			return ret;
		}
		if (o->json)
			twstat_print_files_json(stdout, &files, twstat_quota(o));
		else
			twstat_print_files(stdout, &files, twstat_quota(o));
		twstat_files_free(&files);
		if (fflush(stdout))
			return TWSTAT_EXIT_ERROR;
		if (!o->interval || (o->count && n >= o->count))
			return TWSTAT_EXIT_OK;
		if (!o->json)
			printf("\n");
		twstat_sleep_until(start + n * o->interval);
	}
}

int main(int argc, char **argv)
{
	struct twstat_snap prev, cur, delta;
	struct twstat_opts o;
	char dir[4096], err[4352];
	unsigned int lines = 0;
	double start;
	bool reset;
	int ret;

	twstat_parse_args(argc, argv, &o);
	if (o.files)
		return twstat_files_main(&o);

	if (o.dir) {
		snprintf(dir, sizeof(dir), "%s", o.dir);
	} else {
		if (!twstat_find_debugfs(dir, sizeof(dir) - sizeof("/twheel"))) {
			fprintf(stderr,
				"twstat: debugfs is not mounted; mount it with: mount -t debugfs none %s\n",
				TWSTAT_DEBUGFS);
			return TWSTAT_EXIT_NO_DEBUGFS;
		}
		strcat(dir, "/twheel");
	}

	ret = twstat_read_dir(dir, &prev, o.per_cpu, err, sizeof(err));
	if (ret)
		return twstat_explain(ret, err, &o);

	if (!o.interval) {
		if (o.json) {
			twstat_print_json(stdout, &prev, NULL, 0, dir, o.per_cpu);
		} else if (o.hist) {
			twstat_print_hists(stdout, &prev.total, "all CPUs");
			for (size_t c = 0; o.per_cpu && c < prev.ncpu; c++) {
				snprintf(err, sizeof(err), "cpu%u", prev.cpu_id[c]);
				twstat_print_hists(stdout, &prev.cpu[c], err);
			}
		} else {
			twstat_print_snapshot(stdout, &prev, dir, o.per_cpu);
		}
		twstat_snap_free(&prev);
		return fflush(stdout) ? TWSTAT_EXIT_ERROR : TWSTAT_EXIT_OK;
	}

	if (!o.json && !o.hist && !o.per_cpu)
		twstat_print_header(stdout, false);
	fflush(stdout);
	start = prev.time;
	for (unsigned long n = 1; !o.count || n <= o.count; n++) {
		twstat_sleep_until(start + n * o.interval);
		ret = twstat_read_dir(dir, &cur, o.per_cpu, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "twstat: %s\n", err);
			break;
		}
		twstat_snap_delta(&delta, &prev, &cur, &reset);
		if (reset)
			fprintf(stderr,
				"twstat: counters went backwards: the module was reloaded\n");
		twstat_print_interval(&o, dir, &cur, &delta, cur.time - prev.time,
				      n, &lines);
		twstat_snap_free(&delta);
		twstat_snap_free(&prev);
		prev = cur;
		if (fflush(stdout)) {
			ret = TWSTAT_EXIT_ERROR;
			break;
		}
	}
	twstat_snap_free(&prev);
	return ret;
}
