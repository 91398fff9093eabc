/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_SESSION_H
#define GP_SESSION_H

#include "bpfload.h"
#include "../cli/cli.h"
#include "nativestack.h"
#include "../account/profile.h"
#include "../account/trust.h"
#include "../target/target.h"

struct gp_wall;

enum gp_stop_reason {
	GP_STOP_DURATION = 0,
	GP_STOP_SIGNAL,
	GP_STOP_TARGET_EXIT,
	GP_STOP_TARGET_EXEC,       /* the target exec'd a program that is not followed */
	GP_STOP_REQUESTED,         /* the front end asked (gp_session_request_stop) */
	GP_STOP_ERROR,
};

struct gp_session_result {
	enum gp_stop_reason reason;
	int signal;                /* for GP_STOP_SIGNAL */
	uint64_t counters[GP_CNT__MAX];
	uint64_t bpf_run_ns, bpf_runs;
	struct gp_prog_stats progs[GP_PROG__MAX]; /* every program's run time */
	uint64_t malformed;        /* records user space could not decode */
	uint64_t blame_unpaired;   /* GIL holder records without their waiting record */
	struct gp_native_stats native; /* with --native / --kernel */
	struct gp_trust_verdict trust; /* did most records come with their Python stack? */
};

/*
 * A recording in steps, for front ends (record, top, dump, agent):
 *
 *	gp_session_start(o, t, prof, &s);     load, attach, resume a launched target
 *	gp_session_add_process(s, pid, ppid); (--subprocesses) a process already running
 *	while (!gp_session_poll(s, 100))      drain the samples into prof
 *		gp_session_peek(s, &view);    look at what is collected so far
 *	gp_session_stop(s, &res);             detach, drain the rest, finish prof
 *	gp_session_free(s);
 *
 * Everything runs in the caller's thread: between two polls the live
 * profile does not change, so what peek shows is consistent. SIGINT,
 * SIGTERM and SIGHUP make the next poll report GP_STOP_SIGNAL.
 */
struct gp_session;

/* What the session has collected so far (gp_session_peek). */
struct gp_session_view {
	const struct gp_profile *prof; /* the live profile: valid until the next poll */
	uint64_t elapsed_ns;       /* since sampling started */
	uint64_t samples;          /* CPU-clock samples read */
	uint64_t lost;             /* samples the kernel could not hand over */
	size_t nthreads;
	size_t nprocs;             /* processes followed (the target included) */
	bool wall;                 /* wall mode: stacks get their off-CPU time at stop */
	uint64_t counters[GP_CNT__MAX];
	/* Wall mode, while sampling: the accounting so far, for gp_wall_peek. */
	const struct gp_wall *wallclock;
	uint64_t gil;              /* the target's main GIL (0 until it exists) */
	uint64_t bpf_run_ns, bpf_runs; /* every program's run time (0 without bpf_stats) */
};

/* One stack as the session accounted it (gp_session_observe). */
struct gp_session_stack {
	const struct gp_thread *thread; /* in the live profile */
	uint32_t type;             /* GP_EV_SAMPLE (on CPU) or GP_EV_OFF_CPU */
	enum gp_gil_state state;
	bool snapshot;             /* from the start snapshot: off CPU when attached */
	bool gc;
	uint16_t walk_end;         /* enum gp_walk_end */
	uint64_t ts;               /* CLOCK_MONOTONIC ns */
	const uint32_t *locs;      /* location ids of the profile, root first */
	uint32_t n;
	const struct gp_sample *raw; /* the record as the kernel sent it */
	size_t raw_size;
};

typedef void (*gp_session_stack_fn)(void *ctx, const struct gp_session_stack *st);

/*
 * Load and attach the sampler for target t (attached or launched), the
 * profile prof (initialised) receiving the samples. Returns 0 with *s set,
 * or an exit code after printing why (nothing is left attached).
 */
int gp_session_start(const struct gp_options *o, struct gp_target *t, struct gp_profile *prof,
		     struct gp_session **s);

/*
 * With --subprocesses: also profile pid (a descendant of the target that
 * already runs; ppid its parent). 0, or an exit code if it cannot be
 * (gone, not the same Python); the recording goes on either way.
 */
int gp_session_add_process(struct gp_session *s, pid_t pid, pid_t ppid);

/*
 * With --subprocesses: add every descendant of the target running now
 * (children, grandchildren, ...; those that run the same Python). Returns
 * how many are profiled.
 */
size_t gp_session_add_descendants(struct gp_session *s);

/*
 * Wall mode: read the stack and GIL state of every thread off CPU again,
 * now (the start snapshot's task iterator; dump --pause, once the threads
 * are stopped). The records come with the next poll. 0 or an exit code.
 */
int gp_session_snapshot(struct gp_session *s);

/*
 * Wait up to timeout_ms (-1: the default tick, 100 ms) for samples and
 * account them. True once a stop condition was met (duration, signal,
 * target exit or exec, error): then call gp_session_stop.
 */
bool gp_session_poll(struct gp_session *s, int timeout_ms);

/* Make the next poll report GP_STOP_REQUESTED (a front end's quit key). */
void gp_session_request_stop(struct gp_session *s);

/*
 * Call fn for every stack accounted from now on (samples, and off-CPU
 * records in wall mode, the start snapshot's included: they are read at
 * the first poll). NULL stops it.
 */
void gp_session_observe(struct gp_session *s, gp_session_stack_fn fn, void *ctx);

/*
 * The stack of a record (struct gp_sample of size bytes) of a profiled
 * process, through the session's symbolizers: Python frames, merged with
 * native ones when it carries a native trailer and --native or --kernel
 * is on (dump --pause --native builds one for a stopped thread). Into
 * locs[GP_STACK_MAX], root first; returns how many (0 for a process not
 * profiled).
 */
uint32_t gp_session_symbolize(struct gp_session *s, const struct gp_sample *rec, size_t size,
			      uint32_t *locs);

/* A snapshot of what is collected, for a live view. */
void gp_session_peek(struct gp_session *s, struct gp_session_view *v);

/*
 * Detach, account what is still in the ring buffer and finish prof (wall
 * time apportioned, timeline, thread names, sorted stacks). Returns 0 or
 * an exit code; res is filled either way.
 */
int gp_session_stop(struct gp_session *s, struct gp_session_result *res);
void gp_session_free(struct gp_session *s);

#endif
