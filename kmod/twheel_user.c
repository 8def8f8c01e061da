// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: what each user holds, against limits per user.
 */

/**
 * DOC: Users
 *
 * /dev/twheel is open to every local user, so limits per file are not
 * enough: a user who opens a few files would hold the whole system-wide cap
 * and make every other user's arms fail. As epoll counts
 * ``max_user_watches`` and inotify ``max_user_instances``, the module counts
 * per user (the effective uid that opened the file) its open files, their
 * connections and their timers, armed or fired and unread, and refuses
 * what is over its limits:
 *
 * - ``max_user_files``: an open() beyond it fails with -EMFILE;
 * - ``max_user_timers``: an arm beyond it fails with -ENOSPC, as over the
 *   per-file quota;
 * - ``max_user_ring_pages``: pages of shared rings (TWHEEL_IOC_RING_SETUP)
 *   its files may hold; a set-up beyond it fails with -ENOSPC.
 *
 * All three are module parameters, writable at run time. A file opened by a task
 * with %CAP_SYS_RESOURCE is exempt from them, and counted all the same. The
 * system-wide cap ``max_timers`` stays, as a backstop that no user can
 * reach alone with the defaults (``max_user_timers`` is a quarter of it).
 * Connections exist only while they hold a timer or an event (the blocks
 * they come from, Documentation/device.rst, may keep their places a
 * while), so the timer limit bounds them too; they are counted so that an
 * administrator can see them.
 *
 * A timer counts against its file's user from the moment it is armed until
 * it is cancelled, its event is read or the file is closed, whichever
 * process arms or reads it: the file's user answers for what is done
 * through it. ``/sys/kernel/debug/twheel/users`` lists every user with
 * open files: uid, files, connections, timers, ring pages.
 */

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "twheel.h"
#include "twheel_user.h"

unsigned long twheel_max_user_timers = 1UL << 20;
module_param_named(max_user_timers, twheel_max_user_timers, ulong, 0644);
MODULE_PARM_DESC(max_user_timers,
		 "Most timers (armed or fired and unread) the files of one user may hold, unless opened with CAP_SYS_RESOURCE (default 1048576)");

unsigned int twheel_max_user_files = 1024;
module_param_named(max_user_files, twheel_max_user_files, uint, 0644);
MODULE_PARM_DESC(max_user_files,
		 "Most files of /dev/twheel one user may have open, unless opened with CAP_SYS_RESOURCE (default 1024)");

unsigned long twheel_max_user_ring_pages = 16384;
module_param_named(max_user_ring_pages, twheel_max_user_ring_pages, ulong,
		   0644);
MODULE_PARM_DESC(max_user_ring_pages,
		 "Most pages of shared rings the files of one user may hold, unless opened with CAP_SYS_RESOURCE (default 16384)");

/* Users with open files, by uid; taken at open and close only. */
static DEFINE_HASHTABLE(twheel_users, 6);
static DEFINE_MUTEX(twheel_users_lock);

/**
 * twheel_user_open() - count one more open file of a user
 * @uid: the user
 * @unlimited: the file is exempt from the limits per user
 *
 * Context: process context; takes &twheel_users_lock.
 * Return: the user, or ERR_PTR(-EMFILE) over ``max_user_files``, or
 * ERR_PTR(-ENOMEM).
 */
struct twheel_user *twheel_user_open(kuid_t uid, bool unlimited)
{
	struct twheel_user *user;

	mutex_lock(&twheel_users_lock);
	hash_for_each_possible(twheel_users, user, node, __kuid_val(uid)) {
		if (uid_eq(user->uid, uid))
			goto found;
	}
	user = kzalloc(sizeof(*user), GFP_KERNEL_ACCOUNT);
	if (!user) {
		user = ERR_PTR(-ENOMEM);
		goto out;
	}
	user->uid = uid;
	hash_add(twheel_users, &user->node, __kuid_val(uid));
found:
	if (!unlimited && user->files >= READ_ONCE(twheel_max_user_files)) {
		if (!user->files) {
			hash_del(&user->node);
			kfree(user);
		}
		user = ERR_PTR(-EMFILE);
		goto out;
	}
	user->files++;
out:
	mutex_unlock(&twheel_users_lock);
	return user;
}

/**
 * twheel_user_close() - count one open file of a user fewer
 * @user: the user, whose file has given back its timers and connections
 *
 * Context: process context; takes &twheel_users_lock.
 */
void twheel_user_close(struct twheel_user *user)
{
	mutex_lock(&twheel_users_lock);
	if (!--user->files) {
		WARN_ON_ONCE(atomic_long_read(&user->timers) ||
			     atomic_long_read(&user->conns));
		hash_del(&user->node);
		kfree(user);
	}
	mutex_unlock(&twheel_users_lock);
}

/**
 * twheel_user_charge() - count more timers of a user
 * @user: the user
 * @nr: how many
 * @unlimited: the file is exempt from the limits per user
 *
 * Context: any.
 * Return: false, counting nothing, if they would be over
 * ``max_user_timers``.
 */
bool twheel_user_charge(struct twheel_user *user, unsigned long nr,
			bool unlimited)
{
	if (atomic_long_add_return(nr, &user->timers) >
	    READ_ONCE(twheel_max_user_timers) && !unlimited) {
		atomic_long_sub(nr, &user->timers);
		return false;
	}
	return true;
}

/**
 * twheel_user_uncharge() - give back what twheel_user_charge() counted
 * @user: the user
 * @nr: timers cancelled, or events read
 *
 * Context: any.
 */
void twheel_user_uncharge(struct twheel_user *user, unsigned long nr)
{
	atomic_long_sub(nr, &user->timers);
}

/**
 * twheel_user_charge_pages() - count the pages of a file's rings
 * @user: the user
 * @nr: pages
 * @unlimited: the file is exempt from the limits per user
 *
 * Context: any.
 * Return: false, counting nothing, if it is over ``max_user_ring_pages``.
 */
bool twheel_user_charge_pages(struct twheel_user *user, unsigned long nr,
			      bool unlimited)
{
	if (atomic_long_add_return(nr, &user->ring_pages) >
	    READ_ONCE(twheel_max_user_ring_pages) && !unlimited) {
		atomic_long_sub(nr, &user->ring_pages);
		return false;
	}
	return true;
}

/**
 * twheel_user_uncharge_pages() - give back what twheel_user_charge_pages()
 *	counted
 * @user: the user
 * @nr: pages
 *
 * Context: any.
 */
void twheel_user_uncharge_pages(struct twheel_user *user, unsigned long nr)
{
	atomic_long_sub(nr, &user->ring_pages);
}

static int twheel_users_show(struct seq_file *m, void *unused)
{
	struct twheel_user *user;
	unsigned int bkt;

	seq_puts(m, "uid files conns timers ring_pages\n");
	mutex_lock(&twheel_users_lock);
	hash_for_each(twheel_users, bkt, user, node)
		seq_printf(m, "%u %u %ld %ld %ld\n",
			   from_kuid_munged(&init_user_ns, user->uid),
			   user->files, atomic_long_read(&user->conns),
			   atomic_long_read(&user->timers),
			   atomic_long_read(&user->ring_pages));
	mutex_unlock(&twheel_users_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(twheel_users);

/**
 * twheel_users_debugfs_init() - create the users file
 * @dir: the module's debugfs directory, removed with everything in it
 *
 * Context: module init.
 */
void twheel_users_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("users", 0444, dir, NULL, &twheel_users_fops);
}
