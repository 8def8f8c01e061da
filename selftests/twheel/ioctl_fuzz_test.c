// SPDX-License-Identifier: GPL-2.0
/*
 * Random ioctls and reads: valid command numbers with random sizes and
 * directions, their neighbours, random numbers; random argument sizes,
 * flags, reserved fields, counts, entry sizes; pointers that are NULL,
 * unmapped, kernel addresses, straddling into a PROT_NONE page, or
 * read-only where the kernel writes. Every call must succeed or fail with
 * an errno Documentation/uapi.rst lists for it; afterwards the file's
 * counters must add up and the file must still work.
 *
 * The seed is printed; TWHEEL_FUZZ_SEED=<n> replays a run.
 */

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "twheel_test.h"

#define PAGE		4096UL
#define MAX_ERRNO_REPORTS	20

/* Where a pointer argument points. */
enum ptr_kind {
	PTR_GOOD,	/* read-write memory holding the built argument */
	PTR_NULL,
	PTR_UNMAPPED,
	PTR_KERNEL,
	PTR_STRADDLE,	/* the argument runs into a PROT_NONE page */
	PTR_READONLY,	/* the built argument on a read-only page */
	PTR_RANDOM,
	NR_PTR_KINDS,
};

struct fuzz {
	uint64_t rng;
	int fd;
	/* The rings' ioctls go to a file of their own (-1: left out). */
	int ring_fd;
	unsigned int nr_cpus;
	uint32_t max_batch;
	/* Two read-write pages, then a PROT_NONE page. */
	unsigned char *rw;
	unsigned char *none;
	unsigned char *ro;
	unsigned char *unmapped;
	/* Entries: a buffer that ends at a PROT_NONE page. */
	unsigned char *entries;
	size_t entries_len;
	unsigned long calls, ok, errors[160];
	unsigned long applied_entries, entry_errors;
	unsigned int bad;
};

static uint64_t rnd64(struct fuzz *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static uint32_t rnd(struct fuzz *f, uint32_t n)
{
	return n ? rnd64(f) % n : 0;
}

/* Mostly zero, sometimes one bit, sometimes anything. */
static uint64_t rnd_flags(struct fuzz *f)
{
	switch (rnd(f, 8)) {
	case 0:
		return 1ULL << rnd(f, 64);
	case 1:
		return rnd64(f);
	default:
		return 0;
	}
}

static void bad_result(struct fuzz *f, const char *what, unsigned long cmd,
		       long ret, int err, const char *expected)
{
	if (f->bad++ < MAX_ERRNO_REPORTS)
		tw_report("FAIL: %s cmd %#lx returned %ld errno %d (%s); expected %s\n",
			  what, cmd, ret, err, strerror(err), expected);
}

static int in_set(int err, const int *set, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (err == set[i])
			return 1;
	return 0;
}

/*
 * Counts a call. If it failed, checks its errno against @errs (what the
 * documentation allows, @expected in words), counts the errno and returns
 * true; otherwise counts a success and returns false.
 */
static bool call_failed(struct fuzz *f, const char *what, unsigned long cmd,
			long ret, int err, const int *errs, unsigned int n,
			const char *expected)
{
	f->calls++;
	if (ret >= 0) {
		f->ok++;
		return false;
	}
	if (!in_set(err, errs, n))
		bad_result(f, what, cmd, ret, err, expected);
	if (err < 160)
		f->errors[err]++;
	return true;
}

/*
 * Copies @len bytes of @arg where the pointer kind says and returns the
 * pointer to pass; *@checkable says whether the kernel's output may be read
 * back from @arg afterwards (only for PTR_GOOD).
 */
static void *place(struct fuzz *f, enum ptr_kind k, void *arg, size_t len,
		   void **out)
{
	unsigned char *p;

	*out = NULL;
	switch (k) {
	case PTR_GOOD:
		p = f->rw + PAGE * 2 - len - rnd(f, 64) * 8;
		memcpy(p, arg, len);
		*out = p;
		return p;
	case PTR_NULL:
		return NULL;
	case PTR_UNMAPPED:
		return f->unmapped + rnd(f, PAGE);
	case PTR_KERNEL: {
		static const uint64_t kaddr[] = {
			0xffffffff81000000ULL, 0xffff888000000000ULL,
			0xffffc90000000000ULL, 0xfffffffffffff000ULL,
			0x8000000000000000ULL, 0x00007ffffffff000ULL,
		};
		return (void *)(uintptr_t)(kaddr[rnd(f, 6)] + rnd(f, 64));
	}
	case PTR_STRADDLE: {
		size_t in = len > 1 ? 1 + rnd(f, len - 1) : 0;

		p = f->none - in;
		memcpy(p, arg, in);
		return p;
	}
	case PTR_READONLY:
		p = f->ro + rnd(f, 8) * 8;
		mprotect(f->ro, PAGE, PROT_READ | PROT_WRITE);
		memcpy(p, arg, len < PAGE - 64 ? len : PAGE - 64);
		mprotect(f->ro, PAGE, PROT_READ);
		return p;
	default:
		return (void *)(uintptr_t)rnd64(f);
	}
}

static enum ptr_kind rnd_ptr_kind(struct fuzz *f)
{
	/* Half the calls get good memory so that they reach deeper checks. */
	if (rnd(f, 2))
		return PTR_GOOD;
	return rnd(f, NR_PTR_KINDS);
}

/* A size field: right, first version, a little off, huge, random. */
static uint32_t rnd_size(struct fuzz *f, uint32_t right, uint32_t ver0)
{
	switch (rnd(f, 10)) {
	case 0:
		return 0;
	case 1:
		return ver0 - 1 - rnd(f, ver0 - 1 ? ver0 - 1 : 1);
	case 2:
		return right + 1 + rnd(f, 64);
	case 3:
		return PAGE + rnd(f, 2);
	case 4:
		return rnd64(f);
	case 5:
		return ver0;
	default:
		return right;
	}
}

static uint64_t rnd_timeout(struct fuzz *f, uint32_t *flags)
{
	switch (rnd(f, 10)) {
	case 0:
		return rnd64(f);			/* mostly ERANGE */
	case 1:
		return 1ULL << rnd(f, 64);
	case 2:
		*flags |= TWHEEL_ARM_ABS;
		return tw_now() + rnd(f, 20 * NSEC_PER_MSEC) - 5 * NSEC_PER_MSEC;
	case 3:
		return 100 * NSEC_PER_MSEC + rnd(f, NSEC_PER_SEC);
	default:
		return rnd(f, 10 * NSEC_PER_MSEC);
	}
}

/* Fills @n entries of @esize bytes for @cmd; mostly valid. */
static void fill_entries(struct fuzz *f, unsigned long cmd, unsigned char *e,
			 unsigned int n, uint32_t esize)
{
	for (unsigned int i = 0; i < n; i++, e += esize) {
		unsigned char ent[64];
		uint32_t k = rnd(f, 20) ? rnd(f, TWHEEL_NR_KINDS) : rnd64(f);
		uint64_t conn = rnd(f, 16) ? rnd(f, 64) : rnd64(f);

		memset(ent, 0, sizeof(ent));
		if (cmd == TWHEEL_IOC_ARM) {
			struct twheel_arm *a = (void *)ent;

			a->conn_id = conn;
			a->kind = k;
			a->flags = rnd(f, 10) ? 0 : rnd_flags(f);
			a->timeout_ns = rnd_timeout(f, &a->flags);
			a->user_data = rnd64(f);
			/* Long timeouts only on few connections: memory stays bounded. */
			if (a->timeout_ns > 10 * NSEC_PER_MSEC && !(a->flags & TWHEEL_ARM_ABS))
				a->conn_id = rnd(f, 64);
		} else if (cmd == TWHEEL_IOC_CANCEL) {
			struct twheel_cancel *c = (void *)ent;

			c->conn_id = conn;
			c->kind = k;
			c->flags = rnd(f, 10) ? 0 : rnd_flags(f);
		} else {
			memcpy(ent, &conn, 8);
		}
		/* Sometimes a non-zero byte past the kernel's entry. */
		if (esize > 32 && !rnd(f, 8))
			ent[32 + rnd(f, esize - 32 < 32 ? esize - 32 : 32)] = 1;
		memcpy(e, ent, esize < sizeof(ent) ? esize : sizeof(ent));
		if (esize > sizeof(ent))
			memset(e + sizeof(ent), 0, esize - sizeof(ent));
	}
}

static void fuzz_batch(struct fuzz *f, unsigned long cmd, unsigned long nr_cmd)
{
	static const int call_errs[] = { EFAULT, EINVAL, E2BIG };
	static const int arm_errs[] = {
		-EFAULT, -E2BIG, -EINVAL, -ERANGE, -ENOSPC, -ENOMEM,
	};
	static const int cancel_errs[] = { -EFAULT, -E2BIG, -EINVAL };
	static const int conn_errs[] = { -EFAULT, -E2BIG };
	uint32_t ver0 = cmd == TWHEEL_IOC_ARM ? TWHEEL_ARM_SIZE_VER0 :
			cmd == TWHEEL_IOC_CANCEL ? TWHEEL_CANCEL_SIZE_VER0 :
			TWHEEL_CANCEL_CONN_SIZE_VER0;
	unsigned char big[PAGE + 64];
	struct twheel_batch *b = (void *)big, *out;
	uint32_t esize, count;
	unsigned int fit;
	unsigned char *e;
	void *p;
	long ret;
	int err;

	switch (rnd(f, 8)) {
	case 0:
		esize = rnd_size(f, ver0, ver0);
		break;
	case 1:
		esize = ver0 + 8 * rnd(f, 8);
		break;
	default:
		esize = ver0;
	}
	switch (rnd(f, 10)) {
	case 0:
		count = 0;
		break;
	case 1:
		count = f->max_batch + rnd(f, 2);
		break;
	case 2:
		count = rnd64(f);
		break;
	case 3:
		count = 64 + rnd(f, 4096);
		break;
	default:
		count = 1 + rnd(f, 16);
	}

	/* The entries end where the buffer meets the PROT_NONE page. */
	fit = esize && esize <= PAGE ? f->entries_len / esize : 0;
	/* Mostly short batches, sometimes one that runs into the guard page. */
	if (rnd(f, 32) && fit > 64)
		fit = 64;
	if (fit > count)
		fit = count;
	e = f->entries + f->entries_len - (size_t)fit * esize;
	if (fit)
		fill_entries(f, cmd, e, fit, esize);

	memset(big, 0, sizeof(big));
	b->size = rnd_size(f, sizeof(*b), TWHEEL_BATCH_SIZE_VER0);
	b->flags = rnd(f, 10) ? 0 : rnd_flags(f);
	b->count = count;
	b->entry_size = esize;
	switch (rnd(f, 12)) {
	case 0:
		b->entries = 0;
		break;
	case 1:
		b->entries = (uintptr_t)f->unmapped;
		break;
	case 2:
		b->entries = 0xffff888000000000ULL;
		break;
	case 3:
		b->entries = (uintptr_t)f->ro;
		break;
	default:
		b->entries = (uintptr_t)e;
	}
	if (!rnd(f, 10))
		b->reserved0 = rnd64(f);
	if (!rnd(f, 10))
		b->reserved[rnd(f, 2)] = rnd64(f);
	/* Output fields hold garbage on input: the kernel ignores them. */
	b->applied = rnd64(f);
	b->error = rnd64(f);
	b->found = rnd64(f);
	/* Bytes past the struct, for a size that claims more. */
	if (!rnd(f, 4))
		big[sizeof(*b) + rnd(f, 64)] = rnd(f, 256);

	p = place(f, rnd_ptr_kind(f), big,
		  b->size > sizeof(*b) && b->size <= sizeof(big) ? b->size : sizeof(*b),
		  (void **)&out);
	errno = 0;
	ret = ioctl(f->fd, nr_cmd, p);
	err = errno;
	if (call_failed(f, "batch", nr_cmd, ret, err, call_errs, 3,
			"EFAULT, EINVAL or E2BIG"))
		return;
	if (ret > count) {
		bad_result(f, "batch", nr_cmd, ret, 0, "at most count entries applied");
		return;
	}
	if (!out)
		return;
	f->applied_entries += ret;
	if (out->applied != ret)
		bad_result(f, "batch: applied field differs from the return value", nr_cmd,
			   ret, 0, "applied == return value");
	if ((out->error == 0) != (ret == count))
		bad_result(f, "batch: error field and count disagree", nr_cmd,
			   out->error, 0, "error 0 exactly when every entry was applied");
	if (out->found > ret)
		bad_result(f, "batch: more found than applied", nr_cmd, out->found,
			   0, "found <= applied");
	if (out->error) {
		const int *set = cmd == TWHEEL_IOC_ARM ? arm_errs :
				 cmd == TWHEEL_IOC_CANCEL ? cancel_errs : conn_errs;
		unsigned int n = cmd == TWHEEL_IOC_ARM ? 7 :
				 cmd == TWHEEL_IOC_CANCEL ? 3 : 2;

		f->entry_errors++;
		if (!in_set(out->error, set, n))
			bad_result(f, "batch: entry error", nr_cmd, out->error,
				   -out->error, "an entry errno uapi.rst lists for this ioctl");
	}
}

/* HANDSHAKE, NEXT, STATS, SET_CPU: a sized struct. */
static void fuzz_sized(struct fuzz *f, unsigned long cmd, unsigned long nr_cmd)
{
	static const int call_errs[] = { EFAULT, EINVAL, E2BIG };
	unsigned char big[PAGE + 64];
	uint32_t right, ver0;
	void *p, *out;
	long ret;
	int err;

	memset(big, 0, sizeof(big));
	if (cmd == TWHEEL_IOC_HANDSHAKE) {
		right = sizeof(struct twheel_handshake);
		ver0 = offsetof(struct twheel_handshake, tick_ns);
	} else if (cmd == TWHEEL_IOC_NEXT) {
		right = sizeof(struct twheel_next);
		ver0 = offsetof(struct twheel_next, armed);
	} else if (cmd == TWHEEL_IOC_STATS) {
		right = sizeof(struct twheel_stats);
		ver0 = offsetof(struct twheel_stats, armed);
	} else {
		struct twheel_set_cpu *sc = (void *)big;

		right = ver0 = sizeof(*sc);
		sc->cpu = rnd(f, 4) ? rnd(f, f->nr_cpus) : rnd64(f);
		sc->flags = rnd(f, 10) ? 0 : rnd_flags(f);
		sc->reserved = rnd(f, 10) ? 0 : rnd_flags(f);
	}
	*(uint32_t *)big = rnd_size(f, right, ver0);
	/* Input that must be zero: sometimes not. */
	if (!rnd(f, 6))
		big[4 + rnd(f, right + 60)] = 1 + rnd(f, 255);
	p = place(f, rnd_ptr_kind(f), big, right + 64, &out);
	errno = 0;
	ret = ioctl(f->fd, nr_cmd, p);
	err = errno;
	if (call_failed(f, "sized", nr_cmd, ret, err, call_errs, 3,
			"EFAULT, EINVAL or E2BIG"))
		return;
	if (ret != 0)
		bad_result(f, "sized", nr_cmd, ret, 0, "0 on success");
	if (out && cmd != TWHEEL_IOC_SET_CPU && *(uint32_t *)out > right)
		bad_result(f, "sized: size written back", nr_cmd,
			   *(uint32_t *)out, 0, "at most the kernel's struct size");
}

/*
 * RING_SETUP (once per file: then EBUSY) and RING_ENTER (ENXIO before
 * it): sizes that are or are not powers of two, flags, non-zero outputs.
 * On a file of their own, since a file with rings delivers its events
 * there instead of to read().
 */
static void fuzz_ring(struct fuzz *f, unsigned long cmd, unsigned long nr_cmd)
{
	static const int setup_errs[] = {
		EFAULT, EINVAL, E2BIG, EBUSY, ENOSPC, ENOMEM,
	};
	static const int enter_errs[] = { EFAULT, EINVAL, E2BIG, ENXIO };
	unsigned char big[PAGE + 64];
	uint32_t right;
	void *p, *out;
	long ret;
	int err;

	memset(big, 0, sizeof(big));
	if (cmd == TWHEEL_IOC_RING_SETUP) {
		struct twheel_ring_setup *s = (void *)big;

		right = sizeof(*s);
		s->sq_entries = rnd(f, 3) ? 1U << rnd(f, 10) : rnd(f, 5000);
		s->ev_entries = rnd(f, 3) ? 1U << rnd(f, 10) : rnd(f, 5000);
		s->flags = rnd(f, 10) ? 0 : rnd_flags(f);
	} else {
		struct twheel_ring_enter *en = (void *)big;

		right = sizeof(*en);
		en->flags = rnd(f, 4) ? rnd(f, 2) : rnd_flags(f);
	}
	*(uint32_t *)big = rnd_size(f, right, right);
	if (!rnd(f, 6))
		big[4 + rnd(f, right + 60)] = 1 + rnd(f, 255);
	p = place(f, rnd_ptr_kind(f), big, right + 64, &out);
	if (f->ring_fd < 0)
		return;
	errno = 0;
	ret = ioctl(f->ring_fd, nr_cmd, p);
	err = errno;
	if (cmd == TWHEEL_IOC_RING_SETUP) {
		if (call_failed(f, "ring setup", nr_cmd, ret, err, setup_errs,
				6, "EFAULT, EINVAL, E2BIG, EBUSY, ENOSPC or ENOMEM"))
			return;
	} else if (call_failed(f, "ring enter", nr_cmd, ret, err, enter_errs,
			       4, "EFAULT, EINVAL, E2BIG or ENXIO")) {
		return;
	}
	if (ret != 0)
		bad_result(f, "ring", nr_cmd, ret, 0, "0 on success");
}

static void fuzz_read(struct fuzz *f)
{
	static const int errs[] = { EINVAL, EAGAIN, EFAULT };
	size_t len;
	void *p, *out;
	unsigned char zero[PAGE];
	ssize_t ret;
	int err;

	switch (rnd(f, 4)) {
	case 0:
		len = rnd(f, 2 * sizeof(struct twheel_event));
		break;
	case 1:
		len = rnd(f, PAGE);
		break;
	default:
		len = sizeof(struct twheel_event) * (1 + rnd(f, 100));
	}
	memset(zero, 0, sizeof(zero));
	p = place(f, rnd_ptr_kind(f), zero, len < PAGE ? len : PAGE, &out);
	errno = 0;
	if (rnd(f, 2)) {
		ret = read(f->fd, p, len);
	} else {
		struct iovec iov = { p, len };

		ret = preadv2(f->fd, &iov, 1, -1, RWF_NOWAIT);
	}
	err = errno;
	if (call_failed(f, "read", 0, ret, err, errs, 3,
			"EINVAL, EAGAIN or EFAULT"))
		return;
	if (ret % sizeof(struct twheel_event) || (size_t)ret > len)
		bad_result(f, "read", 0, ret, 0, "whole records that fit");
}

static const unsigned long valid_cmds[] = {
	TWHEEL_IOC_HANDSHAKE, TWHEEL_IOC_ARM, TWHEEL_IOC_CANCEL,
	TWHEEL_IOC_CANCEL_CONN, TWHEEL_IOC_NEXT, TWHEEL_IOC_STATS,
	TWHEEL_IOC_SET_CPU, TWHEEL_IOC_RING_SETUP, TWHEEL_IOC_RING_ENTER,
};

#define NR_VALID_CMDS	(sizeof(valid_cmds) / sizeof(valid_cmds[0]))

/*
 * The command a number means to the driver (dir, type and nr, not size), or
 * 0 if none. Not a signed type: with -m32 the commands are negative longs.
 */
static unsigned long match_cmd(unsigned long nr_cmd)
{
	for (unsigned int i = 0; i < NR_VALID_CMDS; i++) {
		unsigned long c = valid_cmds[i];

		if (_IOC_DIR(c) == _IOC_DIR(nr_cmd) &&
		    _IOC_TYPE(c) == _IOC_TYPE(nr_cmd) &&
		    _IOC_NR(c) == _IOC_NR(nr_cmd))
			return c;
	}
	return 0;
}

/* Ioctl types the VFS itself answers before the driver sees them. */
static int vfs_type(unsigned int type)
{
	return type == 0x00 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94;
}

static void fuzz_unknown(struct fuzz *f, unsigned long nr_cmd)
{
	void *out;
	unsigned char arg[64] = { 0 };
	long ret;
	int err;

	errno = 0;
	ret = ioctl(f->fd, nr_cmd, place(f, rnd_ptr_kind(f), arg, sizeof(arg), &out));
	err = errno;
	f->calls++;
	if (ret != -1 || err != ENOTTY)
		bad_result(f, "unknown command", nr_cmd, ret, err, "ENOTTY");
	else
		f->errors[ENOTTY]++;
}

static void fuzz_one(struct fuzz *f)
{
	unsigned long c = valid_cmds[rnd(f, NR_VALID_CMDS)], nr_cmd, match;

	switch (rnd(f, 16)) {
	case 0:		/* another size */
		nr_cmd = _IOC(_IOC_DIR(c), _IOC_TYPE(c), _IOC_NR(c),
			      rnd(f, 1 << _IOC_SIZEBITS));
		break;
	case 1:		/* another direction */
		nr_cmd = _IOC(rnd(f, 4), _IOC_TYPE(c), _IOC_NR(c),
			      _IOC_SIZE(c));
		break;
	case 2:		/* a neighbouring number, up to the range's end */
		nr_cmd = _IOC(_IOC_DIR(c), _IOC_TYPE(c), rnd(f, 0x24),
			      _IOC_SIZE(c));
		break;
	case 3:		/* a neighbouring type */
		nr_cmd = c + ((rnd(f, 2) ? 1UL : -1UL) << _IOC_TYPESHIFT);
		break;
	case 4:		/* anything */
		do {
			nr_cmd = (uint32_t)rnd64(f);
		} while (vfs_type(_IOC_TYPE(nr_cmd)));
		break;
	case 5:
	case 6:
		fuzz_read(f);
		return;
	default:
		nr_cmd = c;
	}
	match = match_cmd(nr_cmd);
	if (!match) {
		fuzz_unknown(f, nr_cmd);
		return;
	}
	if (match == TWHEEL_IOC_ARM || match == TWHEEL_IOC_CANCEL ||
	    match == TWHEEL_IOC_CANCEL_CONN)
		fuzz_batch(f, match, nr_cmd);
	else if (match == TWHEEL_IOC_RING_SETUP ||
		 match == TWHEEL_IOC_RING_ENTER)
		fuzz_ring(f, match, nr_cmd);
	else
		fuzz_sized(f, match, nr_cmd);
}

FIXTURE(fuzz) {
	int fd;
	void *map;
};

FIXTURE_SETUP(fuzz)
{
	self->map = MAP_FAILED;
	self->fd = -1;
	self->fd = tw_open_or_skip(O_RDWR | O_NONBLOCK);
}

FIXTURE_TEARDOWN(fuzz)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, 80 * PAGE);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(fuzz, random_ioctls_get_documented_errnos_and_the_file_still_works, 240)
{
	struct twheel_handshake hs = { .size = sizeof(hs) };
	const char *env = getenv("TWHEEL_FUZZ_SEED");
	struct fuzz f = {
		.fd = self->fd,
		.ring_fd = open("/dev/twheel", O_RDWR | O_CLOEXEC),
	};
	struct twheel_stats st;
	struct twheel_event ev[64];
	unsigned long iters, i;
	uint64_t seed, t0, t1, deadline, user_data;
	unsigned char *m;
	int got;

	if (tw_setup_skipped(_metadata))
		return;

	ASSERT_EQ(0, ioctl(self->fd, TWHEEL_IOC_HANDSHAKE, &hs));
	f.max_batch = hs.max_batch;
	f.nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	seed = env ? strtoull(env, NULL, 0) : tw_now();
	f.rng = seed ? seed : 1;
	iters = tw_debug_kernel() ? 100000 : 200000;
	tw_report("seed %ju (replay with TWHEEL_FUZZ_SEED=%ju), %lu iterations\n",
		  (uintmax_t)seed, (uintmax_t)seed, iters);

	/*
	 * Layout: [0,2) read-write, [2] PROT_NONE, [3] read-only,
	 * [4] unmapped, [5,79) entries, [79] PROT_NONE.
	 */
	self->map = mmap(NULL, 80 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	m = self->map;
	f.rw = m;
	f.none = m + 2 * PAGE;
	f.ro = m + 3 * PAGE;
	f.unmapped = m + 4 * PAGE;
	f.entries = m + 5 * PAGE;
	f.entries_len = 74 * PAGE;
	ASSERT_EQ(0, mprotect(f.none, PAGE, PROT_NONE));
	ASSERT_EQ(0, mprotect(f.ro, PAGE, PROT_READ));
	ASSERT_EQ(0, mprotect(m + 79 * PAGE, PAGE, PROT_NONE));
	/* A hole: unmapped, and nothing else will be mapped there meanwhile. */
	ASSERT_EQ(0, mprotect(f.unmapped, PAGE, PROT_NONE));

	t0 = tw_now();
	for (i = 0; i < iters && !f.bad; i++)
		fuzz_one(&f);
	t1 = tw_now();

	tw_report("%lu calls in %ju ms: %lu succeeded, %lu entries applied, %lu batches stopped at an entry error\n",
		  f.calls, (uintmax_t)(t1 - t0) / NSEC_PER_MSEC, f.ok,
		  f.applied_entries, f.entry_errors);
	tw_report("errnos: EFAULT %lu, EINVAL %lu, E2BIG %lu, ENOTTY %lu, EAGAIN %lu\n",
		  f.errors[EFAULT], f.errors[EINVAL], f.errors[E2BIG],
		  f.errors[ENOTTY], f.errors[EAGAIN]);
	EXPECT_EQ(0, f.bad) TH_LOG("seed %ju: %u calls had an undocumented result",
				   (uintmax_t)seed, f.bad);

	/* The counters add up. */
	ASSERT_EQ(0, tw_stats(self->fd, &st));
	tw_report("stats: armed %ju queued %ju conns %ju arms %ju rearms %ju cancels %ju fired %ju read %ju\n",
		  (uintmax_t)st.armed, (uintmax_t)st.queued,
		  (uintmax_t)st.conns, (uintmax_t)st.arms,
		  (uintmax_t)st.rearms, (uintmax_t)st.cancels,
		  (uintmax_t)st.fired, (uintmax_t)st.read);
	EXPECT_EQ(st.arms, st.armed + st.queued + st.cancels + st.read)
		TH_LOG("each timer armed is armed, queued, cancelled or read");
	EXPECT_LE(st.read + st.queued, st.fired)
		TH_LOG("only fired timers are queued or read");
	EXPECT_LE(st.fired, st.arms + st.rearms)
		TH_LOG("each arming fires at most once");
	EXPECT_LE(st.conns, st.armed + st.queued)
		TH_LOG("a connection exists only with a timer armed or queued");
	EXPECT_LT(0, st.arms) TH_LOG("the fuzzer armed nothing: it tests too little");

	/* Cancel everything it left on its 64 connections, drain the rest. */
	for (uint64_t c = 0; c < 64; c++)
		ASSERT_LE(0, tw_cancel_conn(self->fd, c));
	while (tw_read_events(self->fd, ev, 64, 0) > 0)
		;

	/* And the file still works. */
	user_data = seed ^ 0x5eed;
	deadline = tw_now() + 5 * NSEC_PER_MSEC;
	ASSERT_EQ(0, tw_arm(self->fd, 1ULL << 60, TWHEEL_KIND_USER, deadline,
			    user_data, TWHEEL_ARM_ABS));
	do {
		got = tw_read_events(self->fd, ev, 1, 5000);
		ASSERT_LT(0, got) TH_LOG("the timer armed after fuzzing never fired");
	} while (ev[0].conn_id != 1ULL << 60);	/* stragglers with random ids */
	EXPECT_EQ(user_data, ev[0].user_data);
	EXPECT_EQ(deadline, ev[0].deadline_ns);
	EXPECT_LE(deadline, ev[0].fired_ns);
	EXPECT_EQ(TWHEEL_KIND_USER, ev[0].kind);
	if (f.ring_fd >= 0)
		close(f.ring_fd);
}

TEST_HARNESS_MAIN
