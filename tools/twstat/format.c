// SPDX-License-Identifier: GPL-2.0
/*
 * twstat: output. Every function writes to a FILE so that the tests can
 * compare what it wrote.
 */

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "twstat.h"

/* The columns of the interval line: gauges first, then rates. */
struct twstat_column {
	const char *head;
	const char *name;
	bool rate;
	bool bytes;
};

static const struct twstat_column twstat_columns[] = {
	{ "timers",	"timers_armed",		false,	false },
	{ "ctx",	"contexts",		false,	false },
	{ "conns",	"connections",		false,	false },
	{ "mem",	"memory_bytes",		false,	true },
	{ "arm/s",	"arms",			true,	false },
	{ "rearm/s",	"rearms",		true,	false },
	{ "cncl/s",	"cancels",		true,	false },
	{ "exp/s",	"expiries",		true,	false },
	{ "casc/s",	"cascades",		true,	false },
	{ "evq/s",	"events_queued",	true,	false },
	{ "evrd/s",	"events_read",		true,	false },
	{ "wake/s",	"wakeups",		true,	false },
	{ "idle/s",	"wakeups_idle",		true,	false },
	{ "quota/s",	"quota_refusals",	true,	false },
};

#define TWSTAT_NR_COLUMNS (sizeof(twstat_columns) / sizeof(twstat_columns[0]))
#define TWSTAT_COL_WIDTH	7
#define TWSTAT_CPU_WIDTH	12
#define TWSTAT_BAR_WIDTH	40

/**
 * twstat_format_num() - a number in at most 7 characters
 * @buf: receives the text
 * @len: size of @buf
 * @v: the number
 * @bytes: use binary units (K = 1024) instead of decimal ones (M = 10^6)
 *
 * Small rates keep one decimal so that a timer a second is not shown as 0.
 *
 * Return: @buf.
 */
const char *twstat_format_num(char *buf, size_t len, double v, bool bytes)
{
	const char *unit = bytes ? "KMGTPE" : "MGTPE";
	double base = bytes ? 1024 : 1000;
	double a = fabs(v), scaled;

	if (a < 10 && v != (int64_t)v) {
		snprintf(buf, len, "%.1f", v);
		return buf;
	}
	if (a < (bytes ? 10240 : 1e7)) {
		snprintf(buf, len, "%.0f", v);
		return buf;
	}
	scaled = bytes ? a / 1024 : a / 1e6;
	while (scaled >= 999.95 && unit[1]) {
		scaled /= base;
		unit++;
	}
	snprintf(buf, len, "%s%.1f%c", v < 0 ? "-" : "", scaled, *unit);
	return buf;
}

/* A counter that this twstat does not know (from a newer module). */
static bool twstat_is_other(const char *name)
{
	return twstat_kind_of(name) == TWSTAT_UNKNOWN;
}

/* "< 2^k" for bucket k, ">= 2^(k-1)" for the last, open-ended one. */
static const char *twstat_bucket_bound(char *buf, size_t len, size_t k,
				       size_t n, const char *unit)
{
	if (k == n - 1 && k > 0)
		snprintf(buf, len, ">= %" PRIu64 "%s", (uint64_t)1 << (k - 1),
			 unit);
	else
		snprintf(buf, len, "< %" PRIu64 "%s", (uint64_t)1 << k, unit);
	return buf;
}

/* The bucket holding the q-quantile, or -1 for an empty histogram. */
static long twstat_quantile(const uint64_t *b, size_t n, double q)
{
	uint64_t total = 0, sum = 0;

	for (size_t k = 0; k < n; k++)
		total += b[k];
	if (!total)
		return -1;
	for (size_t k = 0; k < n; k++) {
		sum += b[k];
		if ((double)sum >= q * (double)total)
			return k;
	}
	return n - 1;
}

static void twstat_print_quantiles(FILE *f, const struct twstat_set *set,
				   const char *prefix, const char *what,
				   const char *unit)
{
	static const struct { const char *name; double q; } qs[] = {
		{ "p50", 0.50 }, { "p99", 0.99 }, { "max", 1.0 },
	};
	uint64_t b[TWSTAT_HIST_MAX];
	size_t n = twstat_hist(set, prefix, b, TWSTAT_HIST_MAX);
	char label[64], bound[48];

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		long k = n ? twstat_quantile(b, n, qs[i].q) : -1;

		snprintf(label, sizeof(label), "%s %s", what, qs[i].name);
		fprintf(f, "  %-28s %16s\n", label,
			k < 0 ? "-" : twstat_bucket_bound(bound, sizeof(bound),
							  k, n, unit));
	}
}

static void twstat_print_value(FILE *f, const struct twstat_set *set,
			       const char *name, const char *label)
{
	int64_t v;

	if (twstat_get(set, name, &v))
		fprintf(f, "  %-28s %16" PRId64 "\n", label, v);
	else
		fprintf(f, "  %-28s %16s\n", label, "-");
}

static void twstat_print_kind(FILE *f, const struct twstat_set *set,
			      bool gauges)
{
	for (size_t i = 0; i < twstat_nr_known; i++)
		if ((twstat_known[i].kind == TWSTAT_GAUGE) == gauges)
			twstat_print_value(f, set, twstat_known[i].name,
					   twstat_known[i].label);
}

static void twstat_print_cpu_row(FILE *f, const struct twstat_snap *s,
				 const char *name, const char *label,
				 bool gauge)
{
	int64_t v;

	fprintf(f, "%-28s", label);
	/* A CPU's share of a gauge is no count of anything: left blank. */
	for (size_t c = 0; c < s->ncpu; c++) {
		if (gauge)
			fprintf(f, " %*s", TWSTAT_CPU_WIDTH, "");
		else if (twstat_get(&s->cpu[c], name, &v))
			fprintf(f, " %*" PRId64, TWSTAT_CPU_WIDTH, v);
		else
			fprintf(f, " %*s", TWSTAT_CPU_WIDTH, "-");
	}
	if (twstat_get(&s->total, name, &v))
		fprintf(f, " %*" PRId64 "\n", TWSTAT_CPU_WIDTH, v);
	else
		fprintf(f, " %*s\n", TWSTAT_CPU_WIDTH, "-");
}

static void twstat_print_cpu_table(FILE *f, const struct twstat_snap *s)
{
	char head[32];

	fprintf(f, "%-28s", "");
	for (size_t c = 0; c < s->ncpu; c++) {
		snprintf(head, sizeof(head), "cpu%u", s->cpu_id[c]);
		fprintf(f, " %*s", TWSTAT_CPU_WIDTH, head);
	}
	fprintf(f, " %*s\n", TWSTAT_CPU_WIDTH, "total");

	for (size_t i = 0; i < twstat_nr_known; i++)
		twstat_print_cpu_row(f, s, twstat_known[i].name,
				     twstat_known[i].label,
				     twstat_known[i].kind == TWSTAT_GAUGE);
	for (size_t i = 0; i < s->total.n; i++)
		if (twstat_is_other(s->total.v[i].name))
			twstat_print_cpu_row(f, s, s->total.v[i].name,
					     s->total.v[i].name, false);
}

/**
 * twstat_print_snapshot() - the human-readable view of one reading
 * @f: where to write
 * @s: the reading
 * @dir: the directory it was read from, for the title
 * @per_cpu: one column per CPU instead of sections of totals
 *
 * Known counters the file lacks (an older module) show as "-"; counters
 * this twstat does not know (a newer module) are listed at the end.
 */
void twstat_print_snapshot(FILE *f, const struct twstat_snap *s,
			   const char *dir, bool per_cpu)
{
	bool other = false;

	fprintf(f, "twheel counters in %s", dir);
	if (s->ncpu)
		fprintf(f, ", %zu CPU%s", s->ncpu, s->ncpu == 1 ? "" : "s");
	fprintf(f, "\n\n");
	if (per_cpu) {
		twstat_print_cpu_table(f, s);
		return;
	}
	fprintf(f, "now:\n");
	twstat_print_kind(f, &s->total, true);
	fprintf(f, "since the module was loaded:\n");
	twstat_print_kind(f, &s->total, false);
	twstat_print_quantiles(f, &s->total, TWSTAT_HIST_LATENESS,
			       "lateness", " us");
	twstat_print_quantiles(f, &s->total, TWSTAT_HIST_BATCH,
			       "batch size", "");
	twstat_print_quantiles(f, &s->total, TWSTAT_HIST_HRTIMER,
			       "thread hrtimer lateness", " us");
	twstat_print_quantiles(f, &s->total, TWSTAT_HIST_WAKEUP,
			       "thread wake-up", " us");
	twstat_print_quantiles(f, &s->total, TWSTAT_HIST_RUN,
			       "thread work", " us");
	for (size_t i = 0; i < s->total.n; i++) {
		const struct twstat_counter *c = &s->total.v[i];

		if (!twstat_is_other(c->name))
			continue;
		if (!other)
			fprintf(f, "not known to this twstat:\n");
		other = true;
		twstat_print_value(f, &s->total, c->name, c->name);
	}
}

static void twstat_print_hist(FILE *f, const char *title, const char *unit,
			      const uint64_t *b, size_t n)
{
	size_t first = n, last = 0;
	uint64_t max = 0;
	char range[48];

	fprintf(f, "%s\n", title);
	for (size_t k = 0; k < n; k++) {
		if (!b[k])
			continue;
		if (first == n)
			first = k;
		last = k;
		if (b[k] > max)
			max = b[k];
	}
	if (first == n) {
		fprintf(f, "  (empty)\n\n");
		return;
	}
	fprintf(f, "%24s : %-12s %s\n", unit, "count", "distribution");
	for (size_t k = first; k <= last; k++) {
		/* Round up so that a count above zero never draws nothing. */
		size_t bar = (b[k] * TWSTAT_BAR_WIDTH + max - 1) / max;

		if (k == 0)
			snprintf(range, sizeof(range), "0");
		else if (k == n - 1)
			snprintf(range, sizeof(range), ">= %" PRIu64,
				 (uint64_t)1 << (k - 1));
		else if (k == 1)
			snprintf(range, sizeof(range), "1");
		else
			snprintf(range, sizeof(range), "%" PRIu64 " - %" PRIu64,
				 (uint64_t)1 << (k - 1), ((uint64_t)1 << k) - 1);
		fprintf(f, "%24s : %-12" PRIu64 " |%-*.*s|\n", range, b[k],
			TWSTAT_BAR_WIDTH, (int)bar,
			"########################################");
	}
	fprintf(f, "\n");
}

/**
 * twstat_print_hists() - the lateness and batch histograms as bars
 * @f: where to write
 * @set: the counters holding the buckets
 * @what: whose they are ("all CPUs", "cpu0", ...), for the titles
 */
void twstat_print_hists(FILE *f, const struct twstat_set *set, const char *what)
{
	uint64_t b[TWSTAT_HIST_MAX];
	char title[96];
	size_t n;

	n = twstat_hist(set, TWSTAT_HIST_LATENESS, b, TWSTAT_HIST_MAX);
	snprintf(title, sizeof(title), "lateness of expiries, %s", what);
	twstat_print_hist(f, title, "microseconds", b, n);
	n = twstat_hist(set, TWSTAT_HIST_BATCH, b, TWSTAT_HIST_MAX);
	snprintf(title, sizeof(title), "expiry batch sizes, %s", what);
	twstat_print_hist(f, title, "timers per batch", b, n);
	/* Modules before these histograms have none: nothing to show. */
	n = twstat_hist(set, TWSTAT_HIST_HRTIMER, b, TWSTAT_HIST_MAX);
	snprintf(title, sizeof(title),
		 "expiry thread hrtimer lateness (expiry to callback), %s", what);
	if (n)
		twstat_print_hist(f, title, "microseconds", b, n);
	n = twstat_hist(set, TWSTAT_HIST_WAKEUP, b, TWSTAT_HIST_MAX);
	snprintf(title, sizeof(title),
		 "expiry thread wake-up (hrtimer expiry to work), %s", what);
	if (n)
		twstat_print_hist(f, title, "microseconds", b, n);
	n = twstat_hist(set, TWSTAT_HIST_RUN, b, TWSTAT_HIST_MAX);
	snprintf(title, sizeof(title), "expiry thread work per wake-up, %s", what);
	if (n)
		twstat_print_hist(f, title, "microseconds", b, n);
}

/**
 * twstat_print_header() - the column header of the interval lines
 * @f: where to write
 * @per_cpu: the per-CPU layout: a CPU column and rates only
 */
void twstat_print_header(FILE *f, bool per_cpu)
{
	const char *sep = "";

	if (per_cpu) {
		fprintf(f, "%4s", "cpu");
		sep = " ";
	}
	for (size_t i = 0; i < TWSTAT_NR_COLUMNS; i++) {
		if (per_cpu && !twstat_columns[i].rate)
			continue;
		fprintf(f, "%s%*s", sep, TWSTAT_COL_WIDTH,
			twstat_columns[i].head);
		sep = " ";
	}
	fprintf(f, "\n");
}

/**
 * twstat_print_rates() - one interval line
 * @f: where to write
 * @cur: the counters at the end of the interval, for the gauges
 * @delta: what changed during the interval (twstat_delta())
 * @secs: the length of the interval
 * @cpu: the CPU label for the per-CPU layout, or NULL for the totals
 */
void twstat_print_rates(FILE *f, const struct twstat_set *cur,
			const struct twstat_set *delta, double secs,
			const char *cpu)
{
	const char *sep = "";
	char num[32];
	int64_t v;

	if (cpu) {
		fprintf(f, "%4s", cpu);
		sep = " ";
	}
	for (size_t i = 0; i < TWSTAT_NR_COLUMNS; i++) {
		const struct twstat_column *col = &twstat_columns[i];
		const char *text = "-";

		if (cpu && !col->rate)
			continue;
		if (col->rate && twstat_get(delta, col->name, &v))
			text = twstat_format_num(num, sizeof(num),
						 secs > 0 ? v / secs : 0, false);
		else if (!col->rate && twstat_get(cur, col->name, &v))
			text = twstat_format_num(num, sizeof(num), v,
						 col->bytes);
		fprintf(f, "%s%*s", sep, TWSTAT_COL_WIDTH, text);
		sep = " ";
	}
	fprintf(f, "\n");
}

void twstat_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void twstat_json_counters(FILE *f, const struct twstat_set *set)
{
	fprintf(f, "{");
	for (size_t i = 0; i < set->n; i++)
		fprintf(f, "%s\"%s\":%" PRId64, i ? "," : "", set->v[i].name,
			set->v[i].value);
	fprintf(f, "}");
}

/* Per second, for the counters that only grow. */
static void twstat_json_rates(FILE *f, const struct twstat_set *delta,
			      double secs)
{
	const char *sep = "";

	fprintf(f, "{");
	for (size_t i = 0; i < delta->n; i++) {
		if (twstat_kind_of(delta->v[i].name) != TWSTAT_COUNTER)
			continue;
		fprintf(f, "%s\"%s\":%.3f", sep, delta->v[i].name,
			secs > 0 ? delta->v[i].value / secs : 0.0);
		sep = ",";
	}
	fprintf(f, "}");
}

/**
 * twstat_print_json() - one reading, or one interval, as one line of JSON
 * @f: where to write
 * @cur: the reading (at the end of the interval)
 * @delta: what changed during the interval, or NULL for a snapshot
 * @secs: the length of the interval
 * @dir: the directory the counters came from
 * @per_cpu: add a "per_cpu" array
 *
 * "counters" holds every counter of the file, known or not, under its own
 * name; "rates" (intervals only) the per-second rates of the counters that
 * only grow.
 */
void twstat_print_json(FILE *f, const struct twstat_snap *cur,
		       const struct twstat_snap *delta, double secs,
		       const char *dir, bool per_cpu)
{
	fprintf(f, "{\"dir\":");
	twstat_json_string(f, dir);
	fprintf(f, ",\"cpus\":%zu", cur->ncpu);
	if (delta)
		fprintf(f, ",\"interval_s\":%.6f", secs);
	fprintf(f, ",\"counters\":");
	twstat_json_counters(f, &cur->total);
	if (delta) {
		fprintf(f, ",\"rates\":");
		twstat_json_rates(f, &delta->total, secs);
	}
	if (per_cpu) {
		fprintf(f, ",\"per_cpu\":[");
		for (size_t c = 0; c < cur->ncpu; c++) {
			fprintf(f, "%s{\"cpu\":%u,\"counters\":", c ? "," : "",
				cur->cpu_id[c]);
			twstat_json_counters(f, &cur->cpu[c]);
			if (delta && c < delta->ncpu) {
				fprintf(f, ",\"rates\":");
				twstat_json_rates(f, &delta->cpu[c], secs);
			}
			fprintf(f, "}");
		}
		fprintf(f, "]");
	}
	fprintf(f, "}\n");
}
