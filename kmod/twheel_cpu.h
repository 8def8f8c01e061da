/* SPDX-License-Identifier: GPL-2.0 */
/*
 * twheel: the per-CPU wheels of files and their expiry threads. The theory
 * of operation is the DOC block at the top of twheel_cpu.c.
 */
#ifndef _TWHEEL_CPU_H
#define _TWHEEL_CPU_H

struct twheel_ctx;

int twheel_cpu_init(void);
void twheel_cpu_exit(void);
void twheel_cpu_attach(struct twheel_ctx *ctx);
void twheel_cpu_detach(struct twheel_ctx *ctx);
int twheel_cpu_set(struct twheel_ctx *ctx, unsigned int cpu);
void __twheel_cpu_schedule(struct twheel_ctx *ctx);
void __twheel_cpu_again(struct twheel_ctx *ctx);
void __twheel_cpu_now(struct twheel_ctx *ctx);
void __twheel_cpu_unschedule(struct twheel_ctx *ctx);
void __twheel_cpu_follow(struct twheel_ctx *ctx);

#endif /* _TWHEEL_CPU_H */
