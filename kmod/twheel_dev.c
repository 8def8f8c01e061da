// SPDX-License-Identifier: GPL-2.0
/*
 * twheel: the /dev/twheel character device.
 *
 * Each open file is an isolated timer context (struct twheel_ctx): nothing
 * one file does is visible through another.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>

#include <linux/twheel.h>
#include "twheel.h"

static int twheel_open(struct inode *inode, struct file *file)
{
	struct twheel_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	ctx->cpu = raw_smp_processor_id();
	file->private_data = ctx;
	return 0;
}

static int twheel_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static long twheel_ioc_handshake(struct twheel_ctx *ctx,
				 struct twheel_handshake __user *uarg)
{
	struct twheel_handshake hs;
	u32 usize;
	int ret;

	BUILD_BUG_ON(sizeof(hs) != TWHEEL_HANDSHAKE_SIZE_VER0);

	if (get_user(usize, &uarg->size))
		return -EFAULT;
	/* Don't let a caller make us scan megabytes of its memory for zeroes. */
	if (usize > PAGE_SIZE)
		return -E2BIG;
	/* Reserved input (everything after @size) must be zero. */
	ret = copy_struct_from_user(&hs, sizeof(hs), uarg, usize);
	if (ret)
		return ret;
	if (usize < offsetofend(struct twheel_handshake, features))
		return -EINVAL;
	if (memchr_inv((u8 *)&hs + sizeof(hs.size), 0,
		       sizeof(hs) - sizeof(hs.size)))
		return -EINVAL;

	memset(&hs, 0, sizeof(hs));
	hs.size = min_t(u32, usize, sizeof(hs));
	hs.api_version = TWHEEL_API_VERSION;
	hs.features = TWHEEL_FEAT_HANDSHAKE;
	hs.nr_kinds = TWHEEL_NR_KINDS;
	hs.cpu = ctx->cpu;
	if (copy_to_user(uarg, &hs, hs.size))
		return -EFAULT;
	return 0;
}

static long twheel_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct twheel_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case TWHEEL_IOC_HANDSHAKE:
		return twheel_ioc_handshake(ctx, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations twheel_fops = {
	.owner		= THIS_MODULE,
	.open		= twheel_open,
	.release	= twheel_release,
	.unlocked_ioctl	= twheel_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

struct miscdevice twheel_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "twheel",
	.fops	= &twheel_fops,
	.mode	= 0666,
};
