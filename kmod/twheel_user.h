/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: what each user holds, against limits per user. The theory of
 * operation is the DOC block at the top of twheel_user.c.
 */
#ifndef _TWHEEL_USER_H
#define _TWHEEL_USER_H

#include <linux/atomic.h>
#include <linux/dcache.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/uidgid.h>

/**
 * struct twheel_user - what the files of one user hold
 * @node: in the table of users, by @uid; &twheel_users_lock
 * @uid: the user (the effective uid that opened the files)
 * @files: open files; &twheel_users_lock (the user lives while it has any)
 * @conns: connections of its files; atomic
 * @timers: timers armed, and events unread, in its files; atomic
 * @ring_pages: pages of its files' shared rings; atomic
 */
struct twheel_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned int files;
	atomic_long_t conns;
	atomic_long_t timers;
	atomic_long_t ring_pages;
};

extern unsigned long twheel_max_user_timers;
extern unsigned int twheel_max_user_files;
extern unsigned long twheel_max_user_ring_pages;

struct twheel_user *twheel_user_open(kuid_t uid, bool unlimited);
void twheel_user_close(struct twheel_user *user);
bool twheel_user_charge(struct twheel_user *user, unsigned long nr,
			bool unlimited);
void twheel_user_uncharge(struct twheel_user *user, unsigned long nr);
bool twheel_user_charge_pages(struct twheel_user *user, unsigned long nr,
			      bool unlimited);
void twheel_user_uncharge_pages(struct twheel_user *user, unsigned long nr);
void twheel_users_debugfs_init(struct dentry *dir);

/* A connection of @user's files was created (@nr 1) or freed (-1). */
static inline void twheel_user_conns_add(struct twheel_user *user, long nr)
{
	atomic_long_add(nr, &user->conns);
}

#endif /* _TWHEEL_USER_H */
