/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TIMELINE_H
#define GP_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/*
 * The GIL timeline: per thread, the intervals it held the GIL, waited for
 * it, ran without it and was idle, and the hand-offs between threads.
 *
 * During the recording it collects, in arrival order, the exact GIL
 * acquisitions and releases (GP_EV_GIL) and wall mode's switch records;
 * gp_timeline_finish() then replays them per thread:
 *
 *   holding   from an acquisition to the thread's next release;
 *   waiting   from a switch-out inside a futex on the GIL (take_gil,
 *             drop_gil's hand-off wait) to the next acquisition, the
 *             runs in between included (it is still in take_gil);
 *   idle      switched out blocked on anything else;
 *   released  the rest: on CPU, or preempted, without the GIL.
 *
 * A hand-off is an acquisition by another thread than the last holder,
 * with the acquiring thread's Python stack (walked in the kernel as it
 * acquires). Times are CLOCK_MONOTONIC ns.
 */

/* Raw records kept at most (~24 bytes each); later ones end the timeline. */
#define GP_TIMELINE_MAX_EVENTS (4u << 20)
/*
 * An estimated timeline's (gp_timeline_new_estimate) cap, ~0.8 MiB: it is
 * in every wall-mode recording, so it stays small and levels off early. It
 * keeps only records that change a thread's state: two GIL-bound threads
 * fill it in a minute or two, 50 busy threads in seconds; the report says
 * what the estimates cover.
 */
#define GP_TIMELINE_MAX_ESTIMATED (32u << 10)

enum gp_tl_kind {
	GP_TL_ACQUIRE = 0,
	GP_TL_RELEASE,
	GP_TL_OFF,      /* switched out, with its GIL state (snapshot: off at the start) */
	GP_TL_ON,       /* switched in */
	GP_TL_EXIT,
	GP_TL_STATE,    /* a CPU sample's state: the first says if it held the GIL */
};

struct gp_tl_event {
	uint64_t ts;
	uint32_t thread;    /* gp_thread.idx */
	uint32_t stack;     /* 0, or a stack id (acquisitions after a hand-off, switch-outs) */
	uint32_t seq;       /* arrival order: ties in ts keep it */
	uint8_t kind;       /* enum gp_tl_kind */
	uint8_t state;      /* GP_TL_OFF, GP_TL_STATE: enum gp_gil_state */
	uint8_t snapshot;   /* GP_TL_OFF, GP_TL_ON from the start snapshot */
};

/* One interval of one thread in one state. */
struct gp_tl_slice {
	uint64_t start, end;
	uint32_t thread;
	uint32_t stack;     /* where it began, if known: acquisition, switch-out */
	uint8_t state;      /* enum gp_gil_state */
};

/* The GIL went from one thread to another. */
struct gp_tl_handoff {
	uint64_t ts;
	uint32_t from, to;  /* gp_thread.idx */
	uint32_t stack;     /* the acquiring thread's Python stack; 0 if unknown */
};

/* Threads waiting for the GIL from ts on. */
struct gp_tl_waiters {
	uint64_t ts;
	uint32_t n;
};

struct gp_tl_stack {
	uint32_t n;
	uint32_t *locs;     /* location ids, root first */
};

struct gp_tl_stack_entry;

/* Per thread, what an estimated timeline believes (gp_timeline_guess). */
struct gp_tl_guess {
	uint64_t on_ts;             /* its last switch-in, while pending */
	bool known, holds, pending;
	uint8_t last;               /* the GIL state of its last record */
};

struct gp_timeline {
	const char *source;         /* how transitions were traced: "uprobes", "watchpoint" */
	/*
	 * No GIL trace: acquisitions and releases are estimated from the
	 * records' GIL states (gp_timeline_guess), for the report's durations.
	 */
	bool estimated;
	size_t max_events;
	struct gp_tl_guess *guess;  /* by thread */
	size_t nguess;
	uint64_t t0, t_end;         /* the recording's window */
	/* collected */
	struct gp_tl_event *ev;
	size_t nev, capev;
	bool truncated;             /* GP_TIMELINE_MAX_EVENTS reached at t_end */
	bool exec_cut;              /* the target exec'd at t_end (gp_timeline_end_at_exec) */
	uint8_t *seen;              /* per thread: 1 once its first state is known */
	size_t nseen;
	/* stacks (id = index + 1), interned */
	struct gp_tl_stack *stacks;
	size_t nstacks, capstacks;
	struct gp_tl_stack_entry *stack_index;
	/* built by gp_timeline_finish */
	struct gp_tl_slice *slices; /* by thread, then time */
	size_t nslices, capslices;
	struct gp_tl_handoff *handoffs;
	size_t nhandoffs, caphandoffs;
	struct gp_tl_waiters *waiters;
	size_t nwaiters;
	uint64_t missed_releases;   /* a holder's release never seen (another acquired) */
	uint64_t missed_acquires;   /* a release by a thread whose acquire was never seen */
};

/* NULL on ENOMEM. source: a static string. */
struct gp_timeline *gp_timeline_new(const char *source, uint64_t t0);
/* A timeline of estimated transitions (wall mode without a GIL trace). */
struct gp_timeline *gp_timeline_new_estimate(uint64_t t0);
void gp_timeline_free(struct gp_timeline *tl);

/*
 * An estimated timeline: before each of thread's records goes in (with
 * gp_timeline_add), the transition it shows. A record whose GIL state
 * differs from what the thread was believed to do is a transition:
 * acquired at the thread's last switch-in when this is its first record
 * since (a woken waiter takes the GIL as it runs again; so does a thread
 * back from I/O), else at the record; released at the record (a switch-out
 * waiting or blocked follows the release within microseconds; a sample, up
 * to a period late). Waits that never left the CPU are not seen. kind:
 * GP_TL_STATE, GP_TL_OFF, GP_TL_ON or GP_TL_EXIT. 1: the record itself
 * goes in (it changes what the replay sees), 0: it adds nothing (a
 * switch-in; a switch-out in the state the thread was already in, as a
 * waiter's wake-ups in take_gil are), -1 on ENOMEM.
 */
int gp_timeline_guess(struct gp_timeline *tl, enum gp_tl_kind kind, uint32_t thread, uint64_t ts,
		      enum gp_gil_state state, bool snapshot);

/*
 * Record one event of thread (gp_thread.idx); locs/n: its Python stack,
 * root first, or n = 0. -1 on ENOMEM (a full timeline is not an error).
 */
int gp_timeline_add(struct gp_timeline *tl, enum gp_tl_kind kind, uint32_t thread, uint64_t ts,
		    enum gp_gil_state state, bool snapshot, const uint32_t *locs, uint32_t n);

/*
 * The target exec'd at ts: its GIL and threads' states are gone with the old
 * program (a thread that exec'd holding the GIL would hold it for ever, and
 * a watchpoint does not survive exec), so the timeline ends there.
 */
void gp_timeline_end_at_exec(struct gp_timeline *tl, uint64_t ts);

/*
 * After the recording (and gp_wall_finish, which sets every thread's
 * lifetime in prof): build slices, hand-offs and waiter counts, then drop
 * the raw events. t_end: end of the recording. -1 on ENOMEM.
 */
int gp_timeline_finish(struct gp_timeline *tl, const struct gp_profile *prof, uint64_t t_end);

static inline const struct gp_tl_stack *gp_tl_stack(const struct gp_timeline *tl, uint32_t id)
{
	return id && id <= tl->nstacks ? &tl->stacks[id - 1] : NULL;
}

#endif
