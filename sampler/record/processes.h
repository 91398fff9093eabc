/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PROCESSES_H
#define GP_PROCESSES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "../../bpf/gilprof.h"
#include "bpfload.h"
#include "../account/profile.h"
#include "../target/pythreads.h"
#include "symbolize.h"
#include "../target/target.h"

/*
 * The processes being profiled: the target and, with --subprocesses, the
 * children it forks (and theirs). Each has its own view of memory (code
 * objects, thread names, the addresses the kernel side uses). Forks, execs
 * and exits come from the kernel (bpf/procevents.h): a forked child is a
 * copy of its parent; a process that exec'd is looked at again and
 * followed if it runs a CPython the sampler can read, else dropped; what
 * happened is told at the end (gp_processes_report).
 */

enum gp_proc_state {
	GP_PROC_LIVE = 0,          /* sampled */
	GP_PROC_FINDING,           /* exec'd: looking for its new interpreter */
	GP_PROC_DROPPED,           /* exec'd into something not followed */
	GP_PROC_EXITED,
};

struct gp_tracked {
	pid_t pid;
	pid_t mem_pid;             /* its memory is read through gp_mem_process(&mem_pid) */
	enum gp_proc_state state;
	struct gp_target t;        /* its interpreter (layout points to t.live) */
	struct gp_proc proc;       /* as registered with the kernel */
	bool proc_done;            /* every address in proc is known */
	bool gil_found;            /* its GIL became known at the last tick (the session's to clear) */
	bool ready;                /* sym and pythreads set up */
	struct gp_symbolizer sym;
	struct gp_pythreads pythreads;
	uint64_t pythreads_ns;     /* last read of threading._active */
	uint64_t find_until_ns;    /* GP_PROC_FINDING: give up then */
	uint64_t next_probe_ns;    /* ... and look next at this time */
	UT_hash_handle hh;
};

/* Notes kept for the end of the recording. */
#define GP_PROC_NOTES_MAX 64

struct gp_processes {
	struct gp_profile *prof;
	struct gp_bpf *b;
	struct gp_target *target;  /* the target (main.c's): its exit status goes here */
	struct gp_tracked *main;
	struct gp_tracked *by_pid;
	const struct py_layout *layout; /* the sampler's: a process must match it */
	uint32_t max_frames;
	bool follow;               /* --subprocesses */
	uint64_t forks;            /* children started by profiled processes */
	uint64_t followed;         /* ... sampled too */
	uint64_t exits;            /* profiled children that exited */
	char *notes[GP_PROC_NOTES_MAX];
	size_t nnotes;
	uint64_t notes_dropped;
	bool main_gone;            /* the target exec'd into something not followed */
};

/*
 * Start with the target t (attached, its layout the sampler's). The
 * kernel side is told about processes through b. -1 on ENOMEM.
 */
int gp_processes_init(struct gp_processes *ps, struct gp_profile *prof, struct gp_bpf *b,
		      struct gp_target *t, uint32_t max_frames, bool follow);
void gp_processes_free(struct gp_processes *ps);

/*
 * Follow pid too, a process that already runs (a descendant of the target
 * found when attaching; ppid its parent): its interpreter is looked for,
 * and it is registered with the kernel side if it is laid out like the
 * target's. 0, or an exit code with the reason in why.
 */
int gp_processes_attach(struct gp_processes *ps, pid_t pid, pid_t ppid, char *why, size_t len);

/*
 * The descendants of pid running now, parents before children (breadth
 * first, from /proc/PID/task/TID/children): at most max into pids (their
 * parents into ppids). Returns how many.
 */
size_t gp_list_descendants(pid_t pid, pid_t *pids, pid_t *ppids, size_t max);

/*
 * The process a record of pid belongs to, or NULL if it is not profiled.
 * A pid the kernel samples but user space never heard of (its fork record
 * was lost) is taken in as a child of its parent.
 */
struct gp_tracked *gp_processes_get(struct gp_processes *ps, pid_t pid, uint64_t now_ns);

/* A fork, exec or exit record (struct gp_proc_event) of size bytes. */
void gp_processes_event(struct gp_processes *ps, const void *data, size_t size,
			uint64_t now_ns);

/*
 * Called on every tick of the recording: find the addresses not known yet
 * (the GIL of an interpreter still starting) and the interpreters of
 * processes that exec'd. True while something is still being looked for
 * (the caller ticks faster then).
 */
bool gp_processes_tick(struct gp_processes *ps, uint64_t now_ns);

/*
 * Name th: Python's name for it (threading) where it has one; else the
 * main thread's comm, and other threads' only if they set their own. force:
 * read threading._active again even if it was read a moment ago.
 */
void gp_processes_name_thread(struct gp_processes *ps, struct gp_thread *th, bool force,
			      uint64_t now_ns);

/* Print what happened to the processes and put it in the profile's comments. */
void gp_processes_report(struct gp_processes *ps);

/* "exited with status 3", "was killed by signal 11 (Segmentation fault)". */
void gp_describe_status(int status, char *buf, size_t len);

/* Command line of pid, NULs as spaces, cut to len ("" if gone). */
void gp_read_cmdline(pid_t pid, char *buf, size_t len);

#endif
