// SPDX-License-Identifier: GPL-2.0
/*
 * twstat: reading counter files and doing arithmetic on them.
 *
 * A counter file is one "name value" per line: a name of [a-z0-9_] and a
 * signed 64-bit decimal value, separated by one space. Names this version
 * does not know are kept (and shown as such): the format promises that
 * counters are added over time, never renamed, so a newer module is not an
 * error. Anything else in a file is, with the line number in the message.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "twstat.h"

const struct twstat_known twstat_known[] = {
	{ "timers_armed",	"timers armed",		TWSTAT_GAUGE },
	{ "contexts",		"contexts (open files)", TWSTAT_GAUGE },
	{ "connections",	"connections",		TWSTAT_GAUGE },
	{ "memory_bytes",	"memory in use (bytes)",	TWSTAT_GAUGE },
	{ "arms",		"arms",			TWSTAT_COUNTER },
	{ "rearms",		"re-arms",		TWSTAT_COUNTER },
	{ "rearms_in_place",	"re-arms in place",	TWSTAT_COUNTER },
	{ "cancels",		"cancels",		TWSTAT_COUNTER },
	{ "expiries",		"expiries",		TWSTAT_COUNTER },
	{ "cascades",		"cascades",		TWSTAT_COUNTER },
	{ "events_queued",	"events queued",	TWSTAT_COUNTER },
	{ "events_read",	"events read",		TWSTAT_COUNTER },
	{ "wakeups",		"thread wake-ups",	TWSTAT_COUNTER },
	{ "wakeups_idle",	"idle wake-ups",	TWSTAT_COUNTER },
	{ "batches_simd",	"SIMD batches",		TWSTAT_COUNTER },
	{ "batches_scalar",	"scalar batches",	TWSTAT_COUNTER },
	{ "quota_refusals",	"quota refusals",	TWSTAT_COUNTER },
	{ "hrtimer_late_ns",	"hrtimer lateness (ns)", TWSTAT_COUNTER },
	{ "wakeup_ns",		"thread wake-up (ns)",	TWSTAT_COUNTER },
	{ "run_ns",		"thread work (ns)",	TWSTAT_COUNTER },
	{ "run_preempted",	"work preempted",	TWSTAT_COUNTER },
	{ "advance_stops",	"advances stopped",	TWSTAT_COUNTER },
	{ "file_moves",		"files moved",		TWSTAT_COUNTER },
	{ "ring_entries",	"ring entries taken",	TWSTAT_COUNTER },
	{ "ring_errors",	"ring error records",	TWSTAT_COUNTER },
	{ "ring_events",	"events into rings",	TWSTAT_COUNTER },
	{ "ring_enters",	"ring doorbells",	TWSTAT_COUNTER },
	{ "ring_deferred",	"ring turns deferred",	TWSTAT_COUNTER },
	{ "ring_punted",	"ring drains to worker", TWSTAT_COUNTER },
	{ "batch_max",		"largest batch",	TWSTAT_MAXIMUM },
};
const size_t twstat_nr_known = sizeof(twstat_known) / sizeof(twstat_known[0]);

static void twstat_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void twstat_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A command-line tool has nothing better to do when memory runs out. */
static void *twstat_realloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fputs("twstat: out of memory\n", stderr);
		exit(TWSTAT_EXIT_ERROR);
	}
	return p;
}

static bool twstat_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* A signed decimal of [p, end) that fits in int64_t, and nothing else. */
static bool twstat_parse_value(const char *p, const char *end, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0, limit = INT64_MAX;

	if (p < end && *p == '-') {
		neg = true;
		limit = (uint64_t)INT64_MAX + 1;
		p++;
	}
	if (p == end)
		return false;
	for (; p < end; p++) {
		unsigned int d;

		if (*p < '0' || *p > '9')
			return false;
		d = *p - '0';
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

static void twstat_append(struct twstat_set *set, const char *name, size_t len,
			  int64_t value)
{
	struct twstat_counter *c;

	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 128;
		set->v = twstat_realloc(set->v, set->cap * sizeof(*c));
	}
	c = &set->v[set->n++];
	memcpy(c->name, name, len);
	c->name[len] = '\0';
	c->value = value;
}

/**
 * twstat_parse() - parse the text of one counter file into @set
 * @set: emptied, then filled in file order
 * @buf: the text
 * @len: its length
 * @err: where a message goes on failure, naming the line
 * @errlen: size of @err
 *
 * Return: 0, or -1 if the text is not a counter file.
 */
int twstat_parse(struct twstat_set *set, const char *buf, size_t len,
		 char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	unsigned int line = 0;

	set->n = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *q = p;
		int64_t value;
		size_t nlen;

		if (!eol)
			eol = end;
		line++;
		if (eol == p) {		/* an empty line says nothing */
			p = eol + 1;
			continue;
		}
		while (q < eol && twstat_name_char(*q))
			q++;
		nlen = q - p;
		if (nlen == 0 || q == eol || *q != ' ' ||
		    !twstat_parse_value(q + 1, eol, &value)) {
			twstat_err(err, errlen,
				   "line %u: not a 'name value' line: '%.*s'",
				   line, (int)(eol - p > 60 ? 60 : eol - p), p);
			return -1;
		}
		if (nlen > TWSTAT_NAME_MAX) {
			twstat_err(err, errlen, "line %u: name longer than %d",
				   line, TWSTAT_NAME_MAX);
			return -1;
		}
		for (size_t i = 0; i < set->n; i++) {
			if (strlen(set->v[i].name) == nlen &&
			    !memcmp(set->v[i].name, p, nlen)) {
				twstat_err(err, errlen,
					   "line %u: '%.*s' appears twice",
					   line, (int)nlen, p);
				return -1;
			}
		}
		twstat_append(set, p, nlen, value);
		p = eol + 1;
	}
	if (!set->n) {
		twstat_err(err, errlen, "no counters in it");
		return -1;
	}
	return 0;
}

/* The exit status for a file that cannot be opened or read. */
static int twstat_errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return TWSTAT_EXIT_NO_MODULE;
	case EACCES:
	case EPERM:
		return TWSTAT_EXIT_PERM;
	default:
		return TWSTAT_EXIT_ERROR;
	}
}

/**
 * twstat_read_file() - read and parse one counter file
 * @path: the file
 * @set: receives its counters
 * @err: where a message goes on failure, starting with @path
 * @errlen: size of @err
 *
 * Return: %TWSTAT_EXIT_OK, or the exit status that fits the failure:
 * %TWSTAT_EXIT_NO_MODULE when the file does not exist, %TWSTAT_EXIT_PERM
 * when it may not be read, %TWSTAT_EXIT_ERROR otherwise.
 */
int twstat_read_file(const char *path, struct twstat_set *set,
		     char *err, size_t errlen)
{
	size_t len = 0, cap = 8192;
	char *buf = NULL, msg[160];
	int fd, ret = TWSTAT_EXIT_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		twstat_err(err, errlen, "%s: %s", path, strerror(errno));
		return twstat_errno_status(errno);
	}
	/* A seq_file: read until EOF, the whole text in one buffer. */
	for (;;) {
		ssize_t n;

		if (!buf || len == cap)
			buf = twstat_realloc(buf, buf ? cap *= 2 : cap);
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			twstat_err(err, errlen, "%s: %s", path, strerror(errno));
			ret = twstat_errno_status(errno);
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (twstat_parse(set, buf, len, msg, sizeof(msg))) {
		twstat_err(err, errlen, "%s: %s", path, msg);
		ret = TWSTAT_EXIT_ERROR;
	}
out:
	free(buf);
	close(fd);
	return ret;
}

/* "cpu<N>" with N a decimal number, nothing else */
static bool twstat_cpu_name(const char *name, unsigned int *cpu)
{
	int64_t v;

	if (strncmp(name, "cpu", 3) || !name[3] ||
	    (name[3] == '0' && name[4]) ||
	    !twstat_parse_value(name + 3, name + strlen(name), &v) ||
	    v < 0 || v > 1 << 20)
		return false;
	*cpu = (unsigned int)v;
	return true;
}

static int twstat_cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* The CPU numbers of DIR/cpu<N>, sorted; NULL with *n == 0 if none. */
static unsigned int *twstat_list_cpus(const char *dir, size_t *n)
{
	unsigned int *ids = NULL, cpu;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*n = 0;
	d = opendir(dir);
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!twstat_cpu_name(de->d_name, &cpu))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			ids = twstat_realloc(ids, cap * sizeof(*ids));
		}
		ids[(*n)++] = cpu;
	}
	closedir(d);
	if (ids)
		qsort(ids, *n, sizeof(*ids), twstat_cmp_uint);
	return ids;
}

static double twstat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * twstat_read_dir() - read the counters of a directory
 * @dir: holds counters and, for each CPU N, cpuN/counters
 * @snap: an empty or freed snapshot; filled in
 * @need_cpu: fail if @dir has no per-CPU files
 * @err: where a message goes on failure
 * @errlen: size of @err
 *
 * Return: %TWSTAT_EXIT_OK or the exit status of twstat_read_file().
 */
int twstat_read_dir(const char *dir, struct twstat_snap *snap, bool need_cpu,
		    char *err, size_t errlen)
{
	char path[4096];
	int ret;

	memset(snap, 0, sizeof(*snap));
	snap->time = twstat_now();
	snprintf(path, sizeof(path), "%s/counters", dir);
	ret = twstat_read_file(path, &snap->total, err, errlen);
	if (ret)
		return ret;

	snap->cpu_id = twstat_list_cpus(dir, &snap->ncpu);
	if (!snap->ncpu && need_cpu) {
		twstat_err(err, errlen, "%s: no per-CPU counters (cpu<N>/counters)",
			   dir);
		return TWSTAT_EXIT_ERROR;
	}
	if (!snap->ncpu)
		return TWSTAT_EXIT_OK;
	snap->cpu = twstat_realloc(NULL, snap->ncpu * sizeof(*snap->cpu));
	memset(snap->cpu, 0, snap->ncpu * sizeof(*snap->cpu));
	for (size_t i = 0; i < snap->ncpu; i++) {
		snprintf(path, sizeof(path), "%s/cpu%u/counters", dir,
			 snap->cpu_id[i]);
		ret = twstat_read_file(path, &snap->cpu[i], err, errlen);
		if (ret)
			return ret;
	}
	return TWSTAT_EXIT_OK;
}

/**
 * twstat_set_free() - free the counters of a set and empty it
 * @set: the set
 */
void twstat_set_free(struct twstat_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/**
 * twstat_snap_free() - free a snapshot's memory and empty it
 * @snap: the snapshot
 */
void twstat_snap_free(struct twstat_snap *snap)
{
	twstat_set_free(&snap->total);
	for (size_t i = 0; snap->cpu && i < snap->ncpu; i++)
		twstat_set_free(&snap->cpu[i]);
	free(snap->cpu);
	free(snap->cpu_id);
	memset(snap, 0, sizeof(*snap));
}

/**
 * twstat_find() - look a counter up by name
 * @set: the counters
 * @name: the name
 *
 * Return: the counter, or NULL if @set does not have it.
 */
const struct twstat_counter *twstat_find(const struct twstat_set *set,
					 const char *name)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name))
			return &set->v[i];
	return NULL;
}

/**
 * twstat_get() - the value of a counter
 * @set: the counters
 * @name: the name
 * @v: receives the value
 *
 * Return: false if @set does not have the counter.
 */
bool twstat_get(const struct twstat_set *set, const char *name, int64_t *v)
{
	const struct twstat_counter *c = twstat_find(set, name);

	if (c)
		*v = c->value;
	return c;
}

/* The bucket number of a histogram counter "<prefix><k>", or -1. */
static int twstat_bucket(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);
	int64_t k;

	if (strncmp(name, prefix, plen) || !name[plen] ||
	    (name[plen] == '0' && name[plen + 1]) ||
	    !twstat_parse_value(name + plen, name + strlen(name), &k) ||
	    k < 0 || k >= TWSTAT_HIST_MAX)
		return -1;
	return (int)k;
}

/**
 * twstat_kind_of() - what kind of counter a name is
 * @name: the name
 *
 * Return: the kind of a known counter or histogram bucket, else
 * %TWSTAT_UNKNOWN.
 */
enum twstat_kind twstat_kind_of(const char *name)
{
	for (size_t i = 0; i < twstat_nr_known; i++)
		if (!strcmp(twstat_known[i].name, name))
			return twstat_known[i].kind;
	if (twstat_bucket(name, TWSTAT_HIST_LATENESS) >= 0 ||
	    twstat_bucket(name, TWSTAT_HIST_BATCH) >= 0 ||
	    twstat_bucket(name, TWSTAT_HIST_HRTIMER) >= 0 ||
	    twstat_bucket(name, TWSTAT_HIST_WAKEUP) >= 0 ||
	    twstat_bucket(name, TWSTAT_HIST_RUN) >= 0)
		return TWSTAT_COUNTER;
	return TWSTAT_UNKNOWN;
}

/**
 * twstat_hist() - gather the buckets of one histogram
 * @set: the counters
 * @prefix: %TWSTAT_HIST_LATENESS, %TWSTAT_HIST_BATCH, %TWSTAT_HIST_HRTIMER,
 *	%TWSTAT_HIST_WAKEUP or %TWSTAT_HIST_RUN
 * @bucket: receives bucket k at index k; buckets the file lacks are zero
 * @max: size of @bucket
 *
 * Return: the number of buckets: one more than the highest bucket present,
 * 0 if the file has none.
 */
size_t twstat_hist(const struct twstat_set *set, const char *prefix,
		   uint64_t *bucket, size_t max)
{
	size_t n = 0;

	memset(bucket, 0, max * sizeof(*bucket));
	for (size_t i = 0; i < set->n; i++) {
		int k = twstat_bucket(set->v[i].name, prefix);

		if (k < 0 || (size_t)k >= max)
			continue;
		bucket[k] = set->v[i].value > 0 ? set->v[i].value : 0;
		if ((size_t)k + 1 > n)
			n = k + 1;
	}
	return n;
}

/**
 * twstat_delta() - what changed between two readings of one file
 * @delta: emptied, then filled with @cur's counters
 * @prev: the earlier reading
 * @cur: the later reading
 *
 * Counters that only grow become their increase; gauges, maxima and
 * unknown counters keep @cur's value. A counter that shrank or appeared
 * (the module was reloaded in between) counts from zero.
 *
 * Return: true if some counter shrank.
 */
bool twstat_delta(struct twstat_set *delta, const struct twstat_set *prev,
		  const struct twstat_set *cur)
{
	bool reset = false;

	delta->n = 0;
	for (size_t i = 0; i < cur->n; i++) {
		const struct twstat_counter *c = &cur->v[i];
		int64_t v = c->value, old;

		if (twstat_kind_of(c->name) == TWSTAT_COUNTER &&
		    twstat_get(prev, c->name, &old)) {
			if (v >= old)
				v -= old;
			else
				reset = true;
		}
		twstat_append(delta, c->name, strlen(c->name), v);
	}
	return reset;
}

/**
 * twstat_snap_delta() - twstat_delta() of a whole snapshot
 * @delta: an empty or freed snapshot; receives the changes
 * @prev: the earlier snapshot
 * @cur: the later snapshot
 * @reset: set to true if some counter shrank
 *
 * CPUs are matched by number; a CPU that @prev lacks counts from zero.
 */
void twstat_snap_delta(struct twstat_snap *delta, const struct twstat_snap *prev,
		      const struct twstat_snap *cur, bool *reset)
{
	static const struct twstat_set none;

	memset(delta, 0, sizeof(*delta));
	delta->time = cur->time;
	*reset = twstat_delta(&delta->total, &prev->total, &cur->total);
	if (!cur->ncpu)
		return;
	delta->cpu = twstat_realloc(NULL, cur->ncpu * sizeof(*delta->cpu));
	delta->cpu_id = twstat_realloc(NULL, cur->ncpu * sizeof(*delta->cpu_id));
	memset(delta->cpu, 0, cur->ncpu * sizeof(*delta->cpu));
	delta->ncpu = cur->ncpu;
	for (size_t i = 0; i < cur->ncpu; i++) {
		const struct twstat_set *p = &none;

		for (size_t j = 0; j < prev->ncpu; j++)
			if (prev->cpu_id[j] == cur->cpu_id[i])
				p = &prev->cpu[j];
		delta->cpu_id[i] = cur->cpu_id[i];
		if (twstat_delta(&delta->cpu[i], p, &cur->cpu[i]))
			*reset = true;
	}
}
