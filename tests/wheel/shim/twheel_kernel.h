/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: user-space stand-ins for the process-context kernel services the
 * file context (twheel_ctx.c, twheel_conn.c, twheel_cmd.c) uses, so that
 * its KUnit suite also runs natively, single-threaded, under the
 * sanitizers. Locks record whether they are held, so lockdep_assert_held()
 * still checks something; the allocators are malloc()'s; nothing sleeps or
 * is ever preempted. The <linux/...> headers of this directory that these
 * stand for include this one.
 */
#ifndef _TWHEEL_KERNEL_SHIM_H
#define _TWHEEL_KERNEL_SHIM_H

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "twheel_compat.h"

#define __user
#define __percpu
#define __read_mostly
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define READ_ONCE(x)	(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))
#define smp_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)

#define U16_MAX		((u16)~0U)
#define KTIME_MAX	((long long)(~0ULL >> 1))
#define PAGE_SIZE	4096UL

#define min_t(type, a, b)	min((type)(a), (type)(b))
#define clamp_t(type, v, lo, hi)	min_t(type, max_t(type, v, lo), hi)
#define max_t(type, a, b)	max((type)(a), (type)(b))

#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)

static inline unsigned int hweight16(unsigned int w)
{
	return __builtin_popcount(w & 0xffff);
}

static inline unsigned long __ffs(unsigned long word)
{
	return __builtin_ctzl(word);
}

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1 : 1UL << (64 - __builtin_clzl(n - 1));
}

/* Errors in pointers, as include/linux/err.h. */
#define MAX_ERRNO	4095
#define IS_ERR_VALUE(x)	((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)

static inline void *ERR_PTR(long error)
{
	return (void *)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)ptr;
}

static inline void *ERR_CAST(const void *ptr)
{
	return (void *)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return IS_ERR_VALUE(ptr);
}

/* Circular doubly linked lists, as include/linux/list.h. */
struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void __list_add(struct list_head *entry, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = entry;
	entry->next = next;
	entry->prev = prev;
	prev->next = entry;
}

static inline void list_add(struct list_head *entry, struct list_head *head)
{
	__list_add(entry, head, head->next);
}

static inline void list_add_tail(struct list_head *entry,
				 struct list_head *head)
{
	__list_add(entry, head->prev, head);
}

static inline void list_del_init(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	INIT_LIST_HEAD(entry);
}

static inline void list_del(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	entry->next = NULL;
	entry->prev = NULL;
}

static inline int list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void list_move_tail(struct list_head *entry,
				  struct list_head *head)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	list_add_tail(entry, head);
}

#define list_empty_careful(head)	list_empty(head)

static inline void list_splice_init(struct list_head *list,
				    struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev;

		first->prev = head;
		last->next = head->next;
		head->next->prev = last;
		head->next = first;
		INIT_LIST_HEAD(list);
	}
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) \
	list_entry((ptr)->next, type, member)
#define list_first_entry_or_null(ptr, type, member) \
	(list_empty(ptr) ? NULL : list_first_entry(ptr, type, member))
#define list_next_entry(pos, member) \
	list_entry((pos)->member.next, typeof(*(pos)), member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_first_entry(head, typeof(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_next_entry(pos, member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_first_entry(head, typeof(*pos), member),	\
	     n = list_next_entry(pos, member);				\
	     &pos->member != (head);					\
	     pos = n, n = list_next_entry(n, member))

#define hlist_entry_safe(ptr, type, member) \
	({ typeof(ptr) ____ptr = (ptr); \
	   ____ptr ? hlist_entry(____ptr, type, member) : NULL; })
#define hlist_for_each_entry(pos, head, member)				\
	for (pos = hlist_entry_safe((head)->first, typeof(*(pos)), member); \
	     pos;							\
	     pos = hlist_entry_safe((pos)->member.next, typeof(*(pos)), member))
#define hlist_for_each_entry_safe(pos, n, head, member)			\
	for (pos = hlist_entry_safe((head)->first, typeof(*pos), member); \
	     pos && ({ n = pos->member.next; 1; });			\
	     pos = hlist_entry_safe(n, typeof(*pos), member))

/* Locks that know whether they are held: one thread, nothing waits. */
typedef struct {
	int held;
} spinlock_t;

struct mutex {
	int held;
};

#define lockdep_assert_held(l)	assert((l)->held)

static inline void spin_lock_init(spinlock_t *lock)
{
	lock->held = 0;
}

static inline void spin_lock(spinlock_t *lock)
{
	assert(!lock->held);
	lock->held = 1;
}

static inline void spin_unlock(spinlock_t *lock)
{
	assert(lock->held);
	lock->held = 0;
}

static inline int spin_needbreak(spinlock_t *lock)
{
	return 0;
}

static inline int cond_resched_lock(spinlock_t *lock)
{
	return 0;
}

static inline int need_resched(void)
{
	return 0;
}

static inline void cond_resched(void)
{
}

/* No task to signal. */
#define current			NULL
#define signal_pending(task)	0

static inline void mutex_init(struct mutex *lock)
{
	lock->held = 0;
}

static inline void mutex_destroy(struct mutex *lock)
{
	assert(!lock->held);
}

static inline void mutex_lock(struct mutex *lock)
{
	assert(!lock->held);
	lock->held = 1;
}

static inline int mutex_trylock(struct mutex *lock)
{
	if (lock->held)
		return 0;
	lock->held = 1;
	return 1;
}

static inline int mutex_lock_interruptible(struct mutex *lock)
{
	mutex_lock(lock);
	return 0;
}

static inline void mutex_unlock(struct mutex *lock)
{
	assert(lock->held);
	lock->held = 0;
}

/* A wait queue whose lock is the file's spinlock; nobody waits on it. */
typedef struct {
	spinlock_t lock;
} wait_queue_head_t;

#define EPOLLIN		0x00000001
#define EPOLLRDNORM	0x00000040
#define EPOLLRDBAND	0x00000080
typedef unsigned int __poll_t;

/* Files here never have rings, whose drains a worker may take. */
struct work_struct {
	int unused;
};

static inline void init_waitqueue_head(wait_queue_head_t *wq)
{
	spin_lock_init(&wq->lock);
}

static inline void wake_up_locked_poll(wait_queue_head_t *wq,
				       __poll_t events)
{
	lockdep_assert_held(&wq->lock);
}

/* Counters, as include/linux/{refcount,atomic}.h, without contention. */
typedef struct {
	int refs;
} refcount_t;

static inline void refcount_set(refcount_t *r, int n)
{
	r->refs = n;
}

static inline void refcount_inc(refcount_t *r)
{
	assert(r->refs > 0);
	r->refs++;
}

static inline bool refcount_dec_and_test(refcount_t *r)
{
	assert(r->refs > 0);
	return --r->refs == 0;
}

typedef struct {
	long counter;
} atomic_long_t;

#define ATOMIC_LONG_INIT(i)	{ (i) }

static inline long atomic_long_read(const atomic_long_t *v)
{
	return v->counter;
}

static inline void atomic_long_set(atomic_long_t *v, long i)
{
	v->counter = i;
}

static inline long atomic_long_inc_return(atomic_long_t *v)
{
	return ++v->counter;
}

static inline long atomic_long_add_return(long i, atomic_long_t *v)
{
	return v->counter += i;
}

static inline void atomic_long_dec(atomic_long_t *v)
{
	v->counter--;
}

static inline void atomic_long_sub(long i, atomic_long_t *v)
{
	v->counter -= i;
}

/* One CPU: a per-CPU variable is one copy. */
#define alloc_percpu(type)	((type *)calloc(1, sizeof(type)))
#define free_percpu(p)		free(p)
#define this_cpu_add(var, v)	((var) += (v))
#define this_cpu_inc(var)	((var)++)
#define this_cpu_dec(var)	((var)--)

/* The allocators, as include/linux/slab.h, on malloc(). */
#define SLAB_ACCOUNT	0UL

struct kmem_cache {
	size_t size;
};

static inline struct kmem_cache *kmem_cache_create(const char *name,
						   unsigned int size,
						   unsigned int align,
						   unsigned long flags,
						   void (*ctor)(void *))
{
	struct kmem_cache *cache = malloc(sizeof(*cache));

	if (cache)
		cache->size = size;
	return cache;
}

static inline void kmem_cache_destroy(struct kmem_cache *cache)
{
	free(cache);
}

static inline void kmem_cache_free(struct kmem_cache *cache, void *p)
{
	free(p);
}

static inline int kmem_cache_alloc_bulk(struct kmem_cache *cache, gfp_t gfp,
					size_t nr, void **p)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		p[i] = malloc(cache->size);
		if (!p[i])
			break;
	}
	return i;
}

static inline void kmem_cache_free_bulk(struct kmem_cache *cache, size_t nr,
					void **p)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(p[i]);
}

/* Power-of-two sizes are aligned to their size, as the kernel's kmalloc(). */
static inline void *kmalloc(size_t size, gfp_t gfp)
{
	size_t align = size & (size - 1) ? sizeof(void *) : size;

	return aligned_alloc(align, (size + align - 1) & ~(align - 1));
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	return calloc(n, size);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return calloc(1, size);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

struct miscdevice;
struct dentry;

/* Users, as include/linux/uidgid.h: only the type and root. */
typedef struct {
	unsigned int val;
} kuid_t;

#define GLOBAL_ROOT_UID	((kuid_t){ 0 })

static inline void atomic_long_add(long i, atomic_long_t *v)
{
	v->counter += i;
}

#endif /* _TWHEEL_KERNEL_SHIM_H */
