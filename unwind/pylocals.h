/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYLOCALS_H
#define GP_PYLOCALS_H

#include <stddef.h>
#include <stdint.h>

#include "pyobj.h"

/*
 * The arguments and local variables of one stopped thread's Python frames
 * (`dump --locals`), read by walking its frame chain from its thread state
 * in user space: the BPF walk keeps no frame addresses, and the thread is
 * stopped (ptrace) so the chain holds still. Every read is bounded and
 * checked; a corrupt chain ends the walk.
 */
#define GP_LOCALS_FRAMES 512   /* frames walked at most */
#define GP_LOCALS_VARS 256     /* slots of one frame read at most */
#define GP_LOCALS_REPR 512     /* bytes of one value's repr */

enum gp_var_kind {
	GP_VAR_ARG = 0,            /* a parameter */
	GP_VAR_LOCAL,
	GP_VAR_CELL,               /* a local that inner functions share */
	GP_VAR_FREE,               /* a variable of an enclosing function */
};

const char *gp_var_kind_name(enum gp_var_kind k);

struct gp_var {
	char name[64];
	enum gp_var_kind kind;
	char *repr;                /* UTF-8, capped (unwind/pyrepr.h) */
};

struct gp_pyframe_vars {
	char name[128];            /* co_name */
	int32_t firstlineno;
	size_t n;                  /* bound variables (unbound ones are left out) */
	size_t cut;                /* slots not read (more than GP_LOCALS_VARS) */
	struct gp_var *v;
};

/*
 * The frames of the thread whose thread state says native_tid (3.11+) or
 * pthread, its pthread_self() (3.9, 3.10), innermost first, into out[0..max). Returns how many, 0 if the thread has no Python
 * frame or cannot be found.
 */
/* The innermost Python frame of thread state ts (ts_frame, or 3.11-3.12's cframe), 0 if none. */
uint64_t gp_pythread_frame(const struct gp_pyobj *r, uint64_t ts);

size_t gp_pylocals_read(const struct gp_pyobj *r, uint64_t runtime, int64_t native_tid,
			uint64_t pthread, struct gp_pyframe_vars *out, size_t max);
void gp_pylocals_free(struct gp_pyframe_vars *f, size_t n);

#endif
