// SPDX-License-Identifier: GPL-2.0
/*
 * twstat --files: which processes hold twheel files, and how many timers
 * each file holds, from /proc/<pid>/fdinfo (Documentation/observe.rst).
 *
 * A descriptor is a twheel file when /proc/<pid>/fd/<fd> names a device
 * called twheel and its fdinfo has twheel-* lines. Descriptors that
 * dup() or fork() share are one file: they show the same twheel-id, and
 * the file is listed once, under the first process that holds it, with
 * the number of descriptors that share it.
 */

/* scandir() in the order of process ids: versionsort() */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twstat.h"

/* Reads a small file into @buf; returns its length, or -1 (errno). */
static ssize_t twstat_slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	return n;
}

static bool twstat_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * Parses the twheel-* lines of one fdinfo into @file. Returns true if it
 * is a twheel file's (twheel-id and twheel-armed at least).
 */
bool twstat_parse_fdinfo(const char *text, struct twstat_file *file)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "twheel-cpu:",	offsetof(struct twstat_file, cpu) },
		{ "twheel-pinned:",	offsetof(struct twstat_file, pinned) },
		{ "twheel-armed:",	offsetof(struct twstat_file, armed) },
		{ "twheel-queued:",	offsetof(struct twstat_file, queued) },
		{ "twheel-conns:",	offsetof(struct twstat_file, conns) },
	};
	const char *line = text, *end;

	file->id[0] = '\0';
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*(int64_t *)((char *)file + fields[i].off) = -1;

	while (*line) {
		if (sscanf(line, "twheel-id: %31s", file->id) != 1) {
			for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
				size_t len = strlen(fields[i].name);

				if (!strncmp(line, fields[i].name, len))
					*(int64_t *)((char *)file + fields[i].off) =
						strtoll(line + len, NULL, 10);
			}
		}
		end = strchr(line, '\n');
		if (!end)
			break;
		line = end + 1;
	}
	return file->id[0] && file->armed >= 0;
}

/* Adds @file to @files, or counts it as one more holder of a known one. */
static int twstat_files_add(struct twstat_files *files,
			    const struct twstat_file *file)
{
	for (size_t i = 0; i < files->n; i++) {
		if (!strcmp(files->v[i].id, file->id)) {
			files->v[i].holders++;
			return 0;
		}
	}
	if (files->n == files->cap) {
		size_t cap = files->cap ? 2 * files->cap : 16;
		struct twstat_file *v = realloc(files->v, cap * sizeof(*v));

		if (!v)
			return -1;
		files->v = v;
		files->cap = cap;
	}
	files->v[files->n] = *file;
	files->v[files->n].holders = 1;
	files->n++;
	return 0;
}

/* The twheel files of process @pid. */
static int twstat_scan_pid(const char *proc, const char *pid,
			   struct twstat_files *files)
{
	char path[4096], target[256], text[4096], comm[64] = "?";
	struct twstat_file file;
	bool denied = false;
	struct dirent *de;
	unsigned int uid = 0;
	ssize_t len;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/fd", proc, pid);
	d = opendir(path);
	if (!d) {
		/* Gone meanwhile, or not ours to look at. */
		if (errno == EACCES || errno == EPERM)
			files->denied++;
		return 0;
	}
	while ((de = readdir(d))) {
		if (!twstat_all_digits(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd/%s", proc, pid, de->d_name);
		len = readlink(path, target, sizeof(target) - 1);
		if (len < 0) {
			denied |= errno == EACCES || errno == EPERM;
			continue;
		}
		target[len] = '\0';
		/* The device node, wherever /dev is and whatever it is called. */
		len = strlen(target);
		if (len < 6 || strcmp(target + len - 6, "twheel") ||
		    (len > 6 && target[len - 7] != '/'))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fdinfo/%s", proc, pid,
			 de->d_name);
		if (twstat_slurp(path, text, sizeof(text)) < 0) {
			denied |= errno == EACCES || errno == EPERM;
			continue;
		}
		memset(&file, 0, sizeof(file));
		if (!twstat_parse_fdinfo(text, &file))
			continue;
		file.pid = atoi(pid);
		file.fd = atoi(de->d_name);
		if (comm[0] == '?') {
			snprintf(path, sizeof(path), "%s/%s/comm", proc, pid);
			if (twstat_slurp(path, comm, sizeof(comm)) > 0)
				comm[strcspn(comm, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s/%s/status", proc, pid);
			if (twstat_slurp(path, text, sizeof(text)) > 0) {
				const char *u = strstr(text, "\nUid:");

				if (u)
					uid = strtoul(u + 5, NULL, 10);
			}
		}
		snprintf(file.comm, sizeof(file.comm), "%s", comm);
		file.uid = uid;
		if (twstat_files_add(files, &file))
			break;
	}
	closedir(d);
	files->denied += denied;
	return 0;
}

static int twstat_file_cmp(const void *a, const void *b)
{
	const struct twstat_file *x = a, *y = b;
	int64_t tx = x->armed + x->queued, ty = y->armed + y->queued;

	if (tx != ty)
		return tx > ty ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd - y->fd;
}

/**
 * twstat_scan_files() - every twheel file open in the system
 * @proc: where proc is mounted
 * @files: out: the files, most timers first; free with twstat_files_free()
 * @err: out: why not, on failure
 * @errlen: size of @err
 *
 * Processes are scanned in the order of their ids, so a file shared by
 * several is listed under the one with the lowest id.
 *
 * Return: 0, or a TWSTAT_EXIT_* status.
 */
int twstat_scan_files(const char *proc, struct twstat_files *files,
		      char *err, size_t errlen)
{
	struct dirent **pids;
	int n;

	memset(files, 0, sizeof(*files));
	n = scandir(proc, &pids, NULL, versionsort);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", proc, strerror(errno));
		return TWSTAT_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++) {
		if (twstat_all_digits(pids[i]->d_name))
			twstat_scan_pid(proc, pids[i]->d_name, files);
		free(pids[i]);
	}
	free(pids);
	qsort(files->v, files->n, sizeof(files->v[0]), twstat_file_cmp);
	return 0;
}

void twstat_files_free(struct twstat_files *files)
{
	free(files->v);
	memset(files, 0, sizeof(*files));
}

/**
 * twstat_print_files() - the files as a table, most timers first
 * @f: where to
 * @files: from twstat_scan_files()
 * @quota: the module's per-file quota, or -1 if unknown
 */
void twstat_print_files(FILE *f, const struct twstat_files *files,
			int64_t quota)
{
	int64_t armed = 0, queued = 0, conns = 0;
	size_t procs = 0;

	for (size_t i = 0; i < files->n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = files->v[j].pid == files->v[i].pid;
		procs += !seen;
		armed += files->v[i].armed;
		queued += files->v[i].queued;
		conns += files->v[i].conns;
	}
	fprintf(f, "twheel files: %zu, in %zu processes; %" PRId64
		" timers armed, %" PRId64 " events queued, %" PRId64
		" connections", files->n, procs, armed, queued, conns);
	if (quota >= 0)
		fprintf(f, "; quota %" PRId64 " timers per file", quota);
	fprintf(f, "\n");
	fprintf(f, "%7s %-15s %5s %6s %4s %3s %10s %10s %10s %6s\n", "PID",
		"COMMAND", "UID", "FD", "CPU", "PIN", "ARMED", "QUEUED",
		"CONNS", "QUOTA");
	for (size_t i = 0; i < files->n; i++) {
		const struct twstat_file *x = &files->v[i];
		char fd[16], share[8] = "-";

		if (x->holders > 1)
			snprintf(fd, sizeof(fd), "%d+%u", x->fd, x->holders - 1);
		else
			snprintf(fd, sizeof(fd), "%d", x->fd);
		if (quota > 0)
			snprintf(share, sizeof(share), "%.0f%%",
				 100.0 * (x->armed + x->queued) / quota);
		fprintf(f, "%7d %-15.15s %5u %6s %4" PRId64 " %3s %10" PRId64
			" %10" PRId64 " %10" PRId64 " %6s\n", x->pid, x->comm,
			x->uid, fd, x->cpu, x->pinned > 0 ? "yes" : "no",
			x->armed, x->queued, x->conns, share);
	}
	if (files->denied)
		fprintf(f, "(processes whose descriptors could not be read: %u; run as root to see them)\n",
			files->denied);
}

/**
 * twstat_print_files_json() - the files as one line of JSON
 * @f: where to
 * @files: from twstat_scan_files()
 * @quota: the module's per-file quota, or -1 if unknown
 */
void twstat_print_files_json(FILE *f, const struct twstat_files *files,
			     int64_t quota)
{
	fprintf(f, "{\"quota\":");
	if (quota >= 0)
		fprintf(f, "%" PRId64, quota);
	else
		fprintf(f, "null");
	fprintf(f, ",\"unreadable_processes\":%u,\"files\":[", files->denied);
	for (size_t i = 0; i < files->n; i++) {
		const struct twstat_file *x = &files->v[i];

		fprintf(f, "%s{\"pid\":%d,\"comm\":", i ? "," : "", x->pid);
		twstat_json_string(f, x->comm);
		fprintf(f, ",\"uid\":%u,\"fd\":%d,\"descriptors\":%u,\"cpu\":%"
			PRId64 ",\"pinned\":%s,\"armed\":%" PRId64 ",\"queued\":%"
			PRId64 ",\"conns\":%" PRId64 "}", x->uid, x->fd,
			x->holders, x->cpu, x->pinned > 0 ? "true" : "false",
			x->armed, x->queued, x->conns);
	}
	fprintf(f, "]}\n");
}
