/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYTHREADS_H
#define GP_PYTHREADS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../unwind/pyobj.h"

/* Python threads whose names are kept; more are left to /proc names. */
#define GP_PYTHREADS_MAX 4096

struct gp_pythread {
	int64_t native_id;         /* Thread._native_id: tid in the target's namespace */
	char name[64];             /* Thread._name, cut to fit */
};

/*
 * The names Python's threading module gives the target's threads, read from
 * threading._active ({ident: Thread}) through the interpreter's sys.modules.
 */
struct gp_pythreads {
	struct gp_pyobj r;
	uint64_t runtime;          /* &_PyRuntime */
	uint64_t active;           /* threading._active once found */
	struct gp_pythread *v;
	size_t n;
};

/* Ready to read; disabled (every lookup fails) if O is NULL. */
void gp_pythreads_init(struct gp_pythreads *pt, const struct py_layout *L,
		       const struct py_objlayout *O, struct gp_mem mem, uint64_t runtime);
void gp_pythreads_free(struct gp_pythreads *pt);

/*
 * Read the current names. 0, or -1 if threading is not imported (yet) or
 * its state cannot be read; the previous names are kept then.
 */
int gp_pythreads_refresh(struct gp_pythreads *pt);

/* The name of the thread with that native id, or NULL. */
const char *gp_pythreads_name(const struct gp_pythreads *pt, int64_t native_id);

/*
 * The id of host thread tid of process pid in the target's own pid
 * namespace (the last NSpid of /proc/PID/task/TID/status), which is what
 * Python reports as native_id; tid itself if it cannot be told.
 */
int64_t gp_ns_tid(pid_t pid, pid_t tid);

#endif
