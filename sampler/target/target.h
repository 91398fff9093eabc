/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TARGET_H
#define GP_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/pyobj.h"

/* A CPython process being profiled. */
struct gp_target {
	pid_t pid;                 /* host pid */
	int pidfd;                 /* readable once the process has exited */
	bool launched;             /* started by gil-prof: reap it */
	bool exited;
	int wait_status;           /* valid when status_known */
	bool status_known;         /* how it ended: from waitpid, or the kernel's exit event */
	char comm[64];
	char python_path[PATH_MAX];/* libpython or executable, as the target sees it */
	uint64_t runtime;          /* &_PyRuntime */
	uint64_t code_type;        /* &PyCode_Type */
	uint32_t version_hex;
	char version[32];
	const struct py_layout *layout; /* = &live once attached */
	struct py_layout live;     /* the row, with the process's own offsets (3.13+) */
	const struct py_objlayout *objects; /* = &objects_live, or NULL: no object row */
	struct py_objlayout objects_live;
};

/*
 * Find the CPython runtime of process pid. Returns 0 or an exit code after
 * printing a one-line error (no such process, not Python, unsupported).
 */
int gp_target_attach(pid_t pid, struct gp_target *t);

/*
 * Start argv as a child and attach to it once its interpreter is loaded.
 * The child is left stopped (SIGSTOP) so nothing runs unprofiled while the
 * sampler loads; gp_target_resume() lets it go. Returns 0 or an exit code.
 */
int gp_target_launch(char **argv, struct gp_target *t);
void gp_target_resume(struct gp_target *t);

/* gp_target_probe(): no interpreter in the process (yet). */
#define GP_TARGET_NOT_YET (-1)

/*
 * Look for the CPython runtime of pid quietly (a child process that forked
 * or exec'd): 0 when found, GP_TARGET_NOT_YET while nothing Python is
 * mapped (unless final), or an exit code with the reason in why.
 */
int gp_target_probe(pid_t pid, struct gp_target *t, bool final, char *why, size_t len);

/* Has the target exited? Reaps a launched child. */
bool gp_target_exited(struct gp_target *t);
/* Thread name from /proc (comm); "" if gone. */
/* A small /proc file into buf (NUL-terminated, cut to len - 1): its length, or -1. */
ssize_t gp_read_proc(const char *path, char *buf, size_t len);
void gp_target_thread_name(pid_t pid, pid_t tid, char *buf, size_t len);
/* Kill a launched child that must not outlive a failed start. */
void gp_target_abandon(struct gp_target *t);
void gp_target_close(struct gp_target *t);

#endif
