/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_WALLCLOCK_H
#define GP_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

struct gp_blame;
struct gp_blames;

/*
 * Wall-mode accounting. The kernel's switch-out records and switch-in
 * marks cut every thread's life into runs (on CPU) and off-CPU intervals,
 * both measured exactly. An off-CPU interval goes to the stack and GIL
 * state the thread left the CPU with; a thread's runs add up to its on-CPU
 * time, shared equally by all its CPU-clock samples (unbiased: each stands
 * for one timer period of CPU time, whatever the length of its run). Then
 * every thread's time is turned into equivalent samples
 * (gp_profile_apportion), so its samples add up to its lifetime x rate
 * even when the sampling timer loses periods on a busy machine. The time
 * in which at least one thread waited for the GIL is swept along (off-CPU
 * waits exactly, on-CPU waits estimated from the samples).
 * Times are CLOCK_MONOTONIC ns (bpf_ktime_get_ns).
 */

struct gp_wall_thread {
	uint64_t born;            /* start of the thread's life in the recording, 0: unseen */
	uint64_t died;            /* exit time, 0: alive */
	uint64_t off_since;       /* open off-CPU interval, 0: none */
	uint64_t on_since;        /* open run, 0: none */
	uint8_t off_state;        /* enum gp_gil_state of the open interval */
	bool off_gc;
	bool off_blocked;         /* the open interval is a sleep, not a preemption */
	struct gp_blame *blame;   /* waiting in the open interval: its holder (blame.h) */
	uint64_t off_contended;   /* the sweep's contended_ns when the interval opened */
	uint32_t n, cap;          /* stack of the open interval, root first */
	uint32_t *locs;
	uint32_t nrun;            /* samples in the open run */
	uint64_t nsamples;        /* CPU-clock samples of the thread */
	uint64_t on_ns;           /* its runs' time, shared by its samples at the end */
	uint64_t nwait_alone;     /* samples waiting on CPU while no thread waited off CPU */
	struct gp_stack *last;    /* latest stack seen: a run without samples or switch-out goes here */
	/*
	 * The profile's stacks of locs in off_state and in the state it ran
	 * as (NULL: not looked up yet): a thread that blocks in the same call
	 * again looks neither up again.
	 */
	struct gp_stack *off_stack, *ran_stack;
};

struct gp_wall {
	struct gp_profile *prof;
	uint64_t t0;              /* off-CPU tracking started */
	uint64_t t_end;           /* tracking stopped (0: still running); later times are clamped */
	struct gp_wall_thread *th;/* by gp_thread.idx */
	size_t nth;
	int waiters;              /* threads now off CPU waiting for the GIL */
	uint64_t clock;           /* latest time seen by the contention sweep */
	uint64_t contended_ns;
	struct gp_blames *blames; /* where holders asleep holding the GIL go (NULL: nowhere) */
};

void gp_wall_init(struct gp_wall *w, struct gp_profile *prof, uint64_t t0);
void gp_wall_free(struct gp_wall *w);

/*
 * A thread left the CPU at ts (or, snapshot, was off CPU at the start) with
 * this stack and state. -1 on ENOMEM.
 */
int gp_wall_off_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot,
		    enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n);
/*
 * A later snapshot (read at ts, once the GIL is known) found the thread on
 * a CPU or off it with this stack and state. A thread already seen keeps
 * its birth and intervals; only an open off-CPU interval whose state was
 * unknown takes this one (and stack), its time still counted once. A
 * thread not seen yet is taken as the first snapshot would. 1 if the
 * thread's open interval now has this state and stack (a waiting one then
 * expects its GIL holder: gp_wall_blame), 0 if nothing changed, -1 on
 * ENOMEM.
 */
int gp_wall_resnapshot(struct gp_wall *w, uint32_t thread, uint64_t ts, bool on_cpu,
		       enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n);
/* A thread came on a CPU at ts (snapshot: was on a CPU at the start). */
int gp_wall_on_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot);
/* A thread exited at ts. */
int gp_wall_exit(struct gp_wall *w, uint32_t thread, uint64_t ts);
/* A CPU-clock sample of a thread at ts, with its stack (state and gc in it). */
int gp_wall_sample(struct gp_wall *w, uint32_t thread, uint64_t ts, struct gp_stack *stack);

/*
 * The thread's open off-CPU interval is a sleep (it blocked; else it was
 * preempted). Set after gp_wall_off_cpu.
 */
void gp_wall_blocked(struct gp_wall *w, uint32_t thread);
/* The thread is off CPU asleep while it holds the GIL. */
bool gp_wall_holding_asleep(const struct gp_wall *w, uint32_t thread);
/*
 * The waiting in thread's open off-CPU interval is caused by holder entry b:
 * its time goes to b when the interval ends. False if no waiting interval is
 * open (the record was a sample on CPU) or one has its holder already.
 */
bool gp_wall_blame(struct gp_wall *w, uint32_t thread, struct gp_blame *b);

/* Tracking stops at t_end: records still to be read are clamped to it. */
void gp_wall_stop(struct gp_wall *w, uint64_t t_end);

/*
 * After the last record: close open runs and intervals at the stop time,
 * set every thread's first_ns/last_ns to its lifetime, store the contention
 * and turn the time into samples (gp_profile_apportion). -1 on ENOMEM.
 */
int gp_wall_finish(struct gp_wall *w);

/*
 * While recording (the agent's metrics): each thread's time by GIL state
 * up to now (out[thread idx][state], nout threads), as gp_wall_finish
 * would account it if tracking stopped at now; nothing is changed. A
 * later peek may move a little time between on-CPU states (the samples'
 * shares change); the total only grows.
 */
int gp_wall_peek(const struct gp_wall *w, uint64_t now, uint64_t (*out)[GP_STATE__MAX],
		 size_t nout);
/* The GIL contention (ns in which at least one thread waited) up to now. */
uint64_t gp_wall_contended_now(const struct gp_wall *w, uint64_t now);

#endif
