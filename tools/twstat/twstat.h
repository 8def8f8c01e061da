/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twstat: read and show the twheel module's debugfs counters.
 *
 * The counter files hold one "name value" per line (Documentation/stats.rst).
 * This header is shared by the tool and its tests: parsing and arithmetic
 * in counters.c, output in format.c, the per-file view (--files, from
 * /proc/<pid>/fdinfo) in files.c, options and the loop in twstat.c.
 */
#ifndef TWSTAT_H
#define TWSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses, documented in twstat(8). */
enum twstat_exit {
	TWSTAT_EXIT_OK = 0,
	TWSTAT_EXIT_ERROR = 1,		/* unreadable or malformed counters */
	TWSTAT_EXIT_USAGE = 2,
	TWSTAT_EXIT_NO_DEBUGFS = 3,
	TWSTAT_EXIT_NO_MODULE = 4,	/* or no counters file in -d DIR */
	TWSTAT_EXIT_PERM = 5,
};

/* Longest counter name accepted; names are [a-z0-9_]. */
#define TWSTAT_NAME_MAX		63
/* Most histogram buckets a file may have (values are 64-bit). */
#define TWSTAT_HIST_MAX		65

#define TWSTAT_HIST_LATENESS	"lateness_us_log2_"
#define TWSTAT_HIST_BATCH	"batch_log2_"
#define TWSTAT_HIST_HRTIMER	"hrtimer_late_us_log2_"
#define TWSTAT_HIST_WAKEUP	"wakeup_us_log2_"
#define TWSTAT_HIST_RUN		"run_us_log2_"

struct twstat_counter {
	char name[TWSTAT_NAME_MAX + 1];
	int64_t value;
};

/* The counters of one file, in file order. */
struct twstat_set {
	struct twstat_counter *v;
	size_t n;
	size_t cap;
};

/* What a counters directory held at one moment. */
struct twstat_snap {
	struct twstat_set total;	/* DIR/counters */
	size_t ncpu;			/* DIR/cpu<N>/counters, by N */
	unsigned int *cpu_id;
	struct twstat_set *cpu;
	double time;			/* CLOCK_MONOTONIC seconds */
};

enum twstat_kind {
	TWSTAT_COUNTER,		/* only grows: shown as a rate */
	TWSTAT_GAUGE,		/* goes up and down: shown as is */
	TWSTAT_MAXIMUM,		/* largest value seen: shown as is */
	TWSTAT_UNKNOWN,		/* not known to this twstat */
};

/* A counter this version of twstat knows. */
struct twstat_known {
	const char *name;
	const char *label;
	enum twstat_kind kind;
};

extern const struct twstat_known twstat_known[];
extern const size_t twstat_nr_known;

/* One open twheel file, from the fdinfo of a descriptor that holds it. */
struct twstat_file {
	char id[32];		/* twheel-id: tells files apart */
	int pid;		/* the first process that holds it */
	int fd;			/* its descriptor there */
	unsigned int uid;	/* that process's real uid */
	char comm[17];
	unsigned int holders;	/* descriptors that share it */
	int64_t cpu, pinned, armed, queued, conns;	/* -1: no such line */
};

struct twstat_files {
	struct twstat_file *v;
	size_t n;
	size_t cap;
	unsigned int denied;	/* processes whose descriptors we may not read */
};

/* counters.c */
int twstat_parse(struct twstat_set *set, const char *buf, size_t len,
		 char *err, size_t errlen);
int twstat_read_file(const char *path, struct twstat_set *set,
		     char *err, size_t errlen);
int twstat_read_dir(const char *dir, struct twstat_snap *snap, bool need_cpu,
		    char *err, size_t errlen);
void twstat_set_free(struct twstat_set *set);
void twstat_snap_free(struct twstat_snap *snap);
const struct twstat_counter *twstat_find(const struct twstat_set *set,
					 const char *name);
bool twstat_get(const struct twstat_set *set, const char *name, int64_t *v);
enum twstat_kind twstat_kind_of(const char *name);
size_t twstat_hist(const struct twstat_set *set, const char *prefix,
		   uint64_t *bucket, size_t max);
bool twstat_delta(struct twstat_set *delta, const struct twstat_set *prev,
		  const struct twstat_set *cur);
void twstat_snap_delta(struct twstat_snap *delta, const struct twstat_snap *prev,
		       const struct twstat_snap *cur, bool *reset);

/* format.c */
void twstat_print_snapshot(FILE *f, const struct twstat_snap *s,
			   const char *dir, bool per_cpu);
void twstat_print_hists(FILE *f, const struct twstat_set *set,
			const char *what);
void twstat_print_header(FILE *f, bool per_cpu);
void twstat_print_rates(FILE *f, const struct twstat_set *cur,
			const struct twstat_set *delta, double secs,
			const char *cpu);
void twstat_print_json(FILE *f, const struct twstat_snap *cur,
		       const struct twstat_snap *delta, double secs,
		       const char *dir, bool per_cpu);
const char *twstat_format_num(char *buf, size_t len, double v, bool bytes);
void twstat_json_string(FILE *f, const char *s);

/* files.c */
bool twstat_parse_fdinfo(const char *text, struct twstat_file *file);
int twstat_scan_files(const char *proc, struct twstat_files *files,
		      char *err, size_t errlen);
void twstat_files_free(struct twstat_files *files);
void twstat_print_files(FILE *f, const struct twstat_files *files,
			int64_t quota);
void twstat_print_files_json(FILE *f, const struct twstat_files *files,
			     int64_t quota);

#endif /* TWSTAT_H */
