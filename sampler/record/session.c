// SPDX-License-Identifier: BSD-2-Clause
/*
 * session.c — one recording: load and attach the sampler, drain its ring
 * buffer into the profile until a stop condition, then detach and drain
 * what is left so nothing collected is lost. In wall mode the off-CPU
 * records go to the wall-clock accounting (wallclock.c).
 */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpfload.h"
#include "../common/exitcodes.h"
#include "giltrace.h"
#include "../common/gp_log.h"
#include "../target/interpreters.h"
#include "privileges.h"
#include "processes.h"
#include "ringsize.h"
#include "symbolize.h"
#include "../account/blame.h"
#include "../account/grow.h"
#include "../account/timeline.h"
#include "../account/trust.h"
#include "../account/wallclock.h"
#include "../common/gp_clock.h"

#define POLL_MS 100
/* While the interpreter (and so its GIL) does not exist yet, look often. */
#define POLL_MS_STARTING 5
#define STATUS_INTERVAL_NS (250ULL * 1000 * 1000)

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the poll must return so the loop sees the signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

struct gp_session {
	const struct gp_options *o;
	struct gp_target *t;
	struct gp_profile *prof;
	struct gp_processes ps;    /* the target (ps.main) and followed children */
	bool searching;            /* an address or an interpreter is still looked for */
	uint64_t clock;            /* latest record time (CLOCK_MONOTONIC, as mono_ns) */
	struct gp_native_ctx native;  /* with --native / --kernel */
	bool has_native;
	struct gp_session_result *res; /* &own_res */
	struct gp_session_result own_res;
	uint32_t locs[GP_STACK_MAX];
	struct gp_interps subinterps;
	struct gp_bpf *b;          /* &bpf */
	struct gp_bpf bpf;
	struct ring_buffer *rb;
	uint64_t t0;               /* sampling started (CLOCK_MONOTONIC) */
	uint64_t wall_t0;          /* wall mode: switch tracking started */
	bool running;              /* between start and stop */
	uint64_t switches0;        /* the GIL's switch_number when first read ... */
	uint64_t switches0_ns;     /* ... at this time; 0: not read yet */
	bool stopped;              /* a stop condition was met (res->reason) */
	bool stop_requested;       /* by the front end */
	gp_session_stack_fn observe; /* gp_session_observe */
	void *observe_ctx;
	bool wall;                 /* wall mode: off-CPU records expected */
	struct gp_wall wallclock;
	/*
	 * Snapshot records read in [resnap_from, resnap_to] are of a snapshot
	 * taken when a GIL was found (resnapshot_found_gils), not of the first.
	 */
	uint64_t resnap_from, resnap_to;
	uint64_t samples;          /* CPU-clock samples read (for the status line) */
	struct gp_giltrace gil;    /* with a timeline: GIL transitions traced */
	struct gp_timeline *tl;    /* with a timeline, once recording */
	bool drop_pending;         /* privileges kept until the GIL watchpoint is attached */
	struct tstate_owner *owners; /* thread states seen -> their threads (blame holders) */
	struct gp_stack **waiting; /* by thread: waiting stack whose holder record is next */
	size_t nwaiting;
	struct tstate_owner **owned; /* by thread: the entry it last set (no lookup while it holds) */
	size_t nowned;
	struct gp_trust trust;     /* records with and without their Python stack */
};

/* A thread state and the thread last seen with it (a holder's identity). */
struct tstate_owner {
	struct {
		uint64_t tstate;
		uint32_t pid;
		uint32_t pad;
	} key;
	uint32_t thread;           /* gp_thread.idx */
	UT_hash_handle hh;
};

_Static_assert((int)GP_GIL_HOLDING == (int)GP_STATE_HOLDING &&
		       (int)GP_GIL_WAITING == (int)GP_STATE_WAITING &&
		       (int)GP_GIL_RELEASED == (int)GP_STATE_RELEASED &&
		       (int)GP_GIL_IDLE == (int)GP_STATE_IDLE,
	       "enum gp_gil and enum gp_gil_state differ");

static enum gp_gil_state state_of(const struct gp_sample *s)
{
	return s->gil <= GP_GIL_IDLE ? (enum gp_gil_state)s->gil : GP_STATE_NONE;
}

static bool well_formed(const struct gp_session *r, const struct gp_sample *s, size_t size)
{
	if (size < GP_SAMPLE_HDR_SIZE || s->nframes > GP_MAX_FRAMES ||
	    size < GP_SAMPLE_HDR_SIZE + s->nframes * sizeof(struct gp_frame))
		return false;
	return s->type == GP_EV_SAMPLE || s->type == GP_EV_BLAME ||
	       (r->tl && s->type == GP_EV_GIL) ||
	       (r->wall && (s->type == GP_EV_OFF_CPU || s->type == GP_EV_ON_CPU ||
			    s->type == GP_EV_EXIT));
}

/* The timeline's view of a record (after the profile's). -1 on ENOMEM. */
static int to_timeline(struct gp_session *r, const struct gp_sample *s, const struct gp_thread *th,
		       uint32_t n)
{
	static const uint8_t kinds[] = {
		[GP_EV_SAMPLE] = GP_TL_STATE, [GP_EV_OFF_CPU] = GP_TL_OFF,
		[GP_EV_ON_CPU] = GP_TL_ON,    [GP_EV_EXIT] = GP_TL_EXIT,
	};
	enum gp_tl_kind kind;

	if (!r->tl)
		return 0;
	if (s->type == GP_EV_GIL)
		kind = (s->flags & GP_SAMPLE_ACQUIRED) ? GP_TL_ACQUIRE : GP_TL_RELEASE;
	else
		kind = (enum gp_tl_kind)kinds[s->type];
	if (r->tl->estimated) {
		/*
		 * Kept small: only records that change a thread's state go in,
		 * and of the stacks only a waiting switch-out's, the one that
		 * acquires next; once full, records cost nothing more here.
		 */
		int keep;

		if (r->tl->truncated)
			return 0;
		keep = gp_timeline_guess(r->tl, kind, th->idx, s->ts, state_of(s),
					 s->flags & GP_SAMPLE_SNAPSHOT);
		if (keep <= 0)
			return keep;
		if (kind != GP_TL_OFF || s->gil != GP_GIL_WAITING)
			n = 0;
	}
	/* Stacks of samples are not kept: only their state is. */
	return gp_timeline_add(r->tl, kind, th->idx, s->ts, state_of(s),
			       s->flags & GP_SAMPLE_SNAPSHOT, r->locs,
			       s->type == GP_EV_SAMPLE ? 0 : n);
}

/* A stack was accounted: tell the front end that asked. */
static void notify(struct gp_session *r, const struct gp_sample *s, size_t size,
		   const struct gp_thread *th, uint32_t n)
{
	struct gp_session_stack st = {
		.thread = th,
		.type = s->type,
		.state = state_of(s),
		.snapshot = s->flags & GP_SAMPLE_SNAPSHOT,
		.gc = s->flags & GP_SAMPLE_GC,
		.walk_end = s->walk_end,
		.ts = s->ts,
		.locs = r->locs,
		.n = n,
		.raw = s,
		.raw_size = size,
	};

	if (r->observe)
		r->observe(r->observe_ctx, &st);
}

/* Every record with a thread state says whose it is now (tids are reused, so are they). */
static int note_owner(struct gp_session *r, const struct gp_sample *s, const struct gp_thread *th)
{
	struct tstate_owner *o, probe = { 0 };

	if (!(s->flags & GP_SAMPLE_HAS_TSTATE) || !s->tstate)
		return 0;
	if (GP_GROW_INDEX(r->owned, r->nowned, th->idx, 16))
		return -1;
	/* Most records: the same thread with the same thread state as before. */
	o = r->owned[th->idx];
	if (o && o->key.tstate == s->tstate && o->thread == th->idx)
		return 0;
	probe.key.tstate = s->tstate;
	probe.key.pid = s->pid;
	HASH_FIND(hh, r->owners, &probe.key, sizeof(probe.key), o);
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return -1;
		o->key = probe.key;
		HASH_ADD(hh, r->owners, key, sizeof(o->key), o);
	}
	o->thread = th->idx;
	r->owned[th->idx] = o;
	return 0;
}

/* The holder's gp_thread.idx + 1, 0 if its thread state was never seen with a thread. */
static uint32_t holder_of(const struct gp_session *r, const struct gp_sample *s)
{
	struct tstate_owner *o, probe = { 0 };

	probe.key.tstate = s->tstate;
	probe.key.pid = s->pid;
	HASH_FIND(hh, r->owners, &probe.key, sizeof(probe.key), o);
	return o ? o->thread + 1 : 0;
}

static void free_owners(struct gp_session *r)
{
	struct tstate_owner *o, *tmp;

	HASH_ITER(hh, r->owners, o, tmp) {
		HASH_DEL(r->owners, o);
		free(o);
	}
	free(r->waiting);
	free(r->owned);
}

/* A waiting stack of thread: its holder's record comes next (bpf/blame.bpf.h). */
static int expect_holder(struct gp_session *r, uint32_t thread, struct gp_stack *st)
{
	if (GP_GROW_INDEX(r->waiting, r->nwaiting, thread, 16))
		return -1;
	r->waiting[thread] = st;
	return 0;
}

/*
 * The GIL's holder while thread th waited (GP_EV_BLAME, after th's waiting
 * record). Python frames: the holder's, read by the kernel at that moment.
 * A waiting interval off CPU gets its length when it ends; a sample stands
 * for one period.
 */
static int handle_blame(struct gp_session *r, const struct gp_sample *s, struct gp_thread *th,
			struct gp_tracked *tr, uint64_t now)
{
	struct gp_stack *ws = th->idx < r->nwaiting ? r->waiting[th->idx] : NULL;
	uint32_t holder = 0, n = 0;
	struct gp_blame *b;
	bool asleep;

	if (!ws || !r->prof->blames) {
		r->res->blame_unpaired++;
		return 0;
	}
	r->waiting[th->idx] = NULL;
	if (s->gil == GP_GIL_HOLDING) {
		n = gp_symbolize_python(&tr->sym, s, now, r->locs);
		holder = holder_of(r, s);
	} else if (s->gil == GP_GIL_RELEASED) {
		holder = GP_BLAME_NOBODY;
	}
	asleep = holder && holder != GP_BLAME_NOBODY && r->wall && gp_wall_holding_asleep(&r->wallclock, holder - 1);
	b = gp_blame_get(r->prof->blames, ws, holder, asleep, s->flags & GP_SAMPLE_GC, r->locs,
			 n);
	if (!b)
		return -1;
	if (s->reserved == GP_EV_OFF_CPU && r->wall && gp_wall_blame(&r->wallclock, th->idx, b))
		return 0;
	b->samples++;
	b->wait_ns += r->prof->period_ns;
	return 0;
}

/* s's stack into r->locs: merged with its native part when it has one. */
static uint32_t symbolize(struct gp_session *r, const struct gp_sample *s, size_t size,
			  struct gp_tracked *tr, uint64_t now)
{
	if (r->has_native && (s->flags & GP_SAMPLE_HAS_NATIVE)) {
		r->native.sym = &tr->sym; /* Python frames are read from their process */
		return gp_native_symbolize(&r->native, s, size, now, r->locs);
	}
	return gp_symbolize_python(&tr->sym, s, now, r->locs);
}

/*
 * A GIL acquisition or release (timeline). A hand-off carries the
 * acquiring thread's Python stack and, with --native, its native one.
 */
static int handle_gil(struct gp_session *r, const struct gp_sample *s, size_t size,
		      struct gp_thread *th, struct gp_tracked *tr, uint64_t now)
{
	uint32_t n = 0;

	if (!(s->flags & GP_SAMPLE_HANDOFF))
		return to_timeline(r, s, th, 0);
	if ((r->has_native && (s->flags & GP_SAMPLE_HAS_NATIVE)) ||
	    (s->flags & GP_SAMPLE_HAS_TSTATE))
		n = symbolize(r, s, size, tr, now);
	return to_timeline(r, s, th, n);
}

/* A waiting record's stack, for the holder's record that follows it. */
static int wait_stack(struct gp_session *r, uint32_t thread, const struct gp_sample *s, uint32_t n)
{
	struct gp_stack *st = gp_profile_stack(r->prof, thread, GP_STATE_WAITING,
					       s->flags & GP_SAMPLE_GC, r->locs, n);

	return st ? expect_holder(r, thread, st) : -1;
}

/*
 * A record of a snapshot taken once the GIL was found: it only tells the
 * GIL state of threads that left the CPU before (gp_wall_resnapshot); the
 * first snapshot and the switches told the rest, to the front ends and the
 * timeline too.
 */
static int handle_resnapshot(struct gp_session *r, const struct gp_sample *s,
			     struct gp_thread *th, struct gp_tracked *tr, uint64_t now)
{
	bool on = s->type == GP_EV_ON_CPU;
	uint32_t n = on ? 0 : gp_symbolize_python(&tr->sym, s, now, r->locs);
	int rc;

	rc = gp_wall_resnapshot(&r->wallclock, th->idx, s->ts, on, state_of(s),
				s->flags & GP_SAMPLE_GC, r->locs, n);
	if (rc <= 0 || on)
		return rc;
	if (s->flags & GP_SAMPLE_BLOCKED)
		gp_wall_blocked(&r->wallclock, th->idx);
	return s->gil == GP_GIL_WAITING ? wait_stack(r, th->idx, s, n) : 0;
}

/* Off-CPU records and marks (wall mode). */
static int handle_wall(struct gp_session *r, const struct gp_sample *s, struct gp_thread *th,
		       struct gp_tracked *tr, uint64_t now)
{
	bool snap = s->flags & GP_SAMPLE_SNAPSHOT;
	uint32_t n = 0;
	int rc;

	if (snap && s->type != GP_EV_EXIT && r->resnap_to && s->ts >= r->resnap_from &&
	    s->ts <= r->resnap_to)
		return handle_resnapshot(r, s, th, tr, now);
	switch (s->type) {
	case GP_EV_OFF_CPU:
		n = gp_symbolize_python(&tr->sym, s, now, r->locs);
		rc = gp_wall_off_cpu(&r->wallclock, th->idx, s->ts, snap, state_of(s),
				     s->flags & GP_SAMPLE_GC, r->locs, n);
		if (!rc && (s->flags & GP_SAMPLE_BLOCKED))
			gp_wall_blocked(&r->wallclock, th->idx);
		if (!rc && s->gil == GP_GIL_WAITING)
			rc = wait_stack(r, th->idx, s, n);
		/* Header and frames: the size well_formed() checked it has. */
		notify(r, s, GP_SAMPLE_HDR_SIZE + s->nframes * sizeof(struct gp_frame), th, n);
		break;
	case GP_EV_ON_CPU:
		rc = gp_wall_on_cpu(&r->wallclock, th->idx, s->ts, snap);
		break;
	default:
		rc = gp_wall_exit(&r->wallclock, th->idx, s->ts);
		break;
	}
	return rc ? rc : to_timeline(r, s, th, n);
}

/* The target's exec ends its GIL timeline (see gp_timeline_end_at_exec). */
static void exec_ends_timeline(struct gp_session *r, const void *data, size_t size)
{
	const struct gp_proc_event *e = data;

	if (r->tl && size >= sizeof(*e) && e->type == GP_EV_EXEC &&
	    (pid_t)e->pid == r->t->pid)
		gp_timeline_end_at_exec(r->tl, e->ts);
}

static int handle_sample(void *ctx, void *data, size_t size)
{
	struct gp_session *r = ctx;
	const struct gp_sample *s = data;
	struct gp_tracked *tr;
	struct gp_thread *th;
	uint64_t now;
	uint32_t n;

	if (size >= sizeof(s->type) && s->type >= GP_EV_FORK && s->type <= GP_EV_PROC_EXIT) {
		exec_ends_timeline(r, data, size);
		gp_processes_event(&r->ps, data, size, gp_mono_ns());
		return 0;
	}
	if (!well_formed(r, s, size)) {
		r->res->malformed++;
		return 0;
	}
	/*
	 * The records' own time (bpf_ktime_get_ns: mono_ns's clock), never
	 * going back, times the code objects' re-checks: reading the clock per
	 * record was a tenth of gil-prof's time at 3k switches/s.
	 */
	if (s->ts > r->clock)
		r->clock = s->ts;
	now = r->clock;
	/* Records of a process that exec'd and was not found again are dropped. */
	tr = gp_processes_get(&r->ps, (pid_t)s->pid, now);
	if (!tr)
		return 0;
	th = gp_profile_thread(r->prof, (pid_t)s->pid, (pid_t)s->tid);
	if (!th)
		return -ENOMEM;
	if (!th->first_ns) {
		th->first_ns = s->ts;
		gp_processes_name_thread(&r->ps, th, false, gp_mono_ns());
	}
	th->last_ns = s->ts;
	if (s->type == GP_EV_BLAME)
		return handle_blame(r, s, th, tr, now) ? -ENOMEM : 0;
	if ((s->type == GP_EV_SAMPLE || s->type == GP_EV_OFF_CPU) &&
	    gp_trust_add(&r->trust, th->idx, th->pid,
			 (s->flags & GP_SAMPLE_HAS_TSTATE) && s->nframes))
		return -ENOMEM;
	if (note_owner(r, s, th))
		return -ENOMEM;
	if (s->type == GP_EV_GIL)
		return handle_gil(r, s, size, th, tr, now) ? -ENOMEM : 0;
	if (s->type != GP_EV_SAMPLE)
		return handle_wall(r, s, th, tr, now) ? -ENOMEM : 0;
	r->samples++;
	n = symbolize(r, s, size, tr, now);
	notify(r, s, size, th, n);
	/* Wall mode: the sample's share of its run is known when the run ends. */
	if (r->wall) {
		struct gp_stack *st = gp_profile_stack(r->prof, th->idx, state_of(s),
						       s->flags & GP_SAMPLE_GC, r->locs, n);

		if (st && s->gil == GP_GIL_WAITING && expect_holder(r, th->idx, st))
			return -ENOMEM;
		return !st || gp_wall_sample(&r->wallclock, th->idx, s->ts, st) ||
				       to_timeline(r, s, th, n)
			       ? -ENOMEM
			       : 0;
	}
	if (gp_profile_add(r->prof, th->idx, state_of(s), s->flags & GP_SAMPLE_GC, r->locs, n, 1,
			   r->prof->period_ns, r->prof->period_ns))
		return -ENOMEM;
	if (s->gil == GP_GIL_WAITING)
		return wait_stack(r, th->idx, s, n) ? -ENOMEM : 0;
	return 0;
}

/*
 * A watchpoint needs the GIL's address, which a launched 3.12+ creates
 * after it starts: attach once the process's addresses show it.
 */
static void attach_late_gil(struct gp_session *r)
{
	uint64_t gil = r->ps.main->proc.gil;

	if (!r->tl || r->tl->estimated || gp_giltrace_active(&r->gil) || !gil)
		return;
	if (gp_giltrace_attach(&r->gil, r->b, gil, r->t->layout->gil_locked)) {
		gp_warn("%s; the timeline has no GIL transitions", r->gil.why);
		/* Threads already watched would pay a debug exception per transition. */
		gp_giltrace_detach(&r->gil);
		gp_timeline_free(r->tl);
		r->tl = NULL;
	}
	/* Held back for this attachment (see gp_session_start). */
	if (r->drop_pending) {
		if (!r->o->keep_privileges)
			gp_drop_privileges();
		r->drop_pending = false;
	}
}

/*
 * Threads that left the CPU before their process's GIL was found have an
 * unknown GIL state until they come back, which for a thread blocked all
 * along is never (a launched target's threads blocked early in its start):
 * a snapshot taken once the GIL is found tells it. The ring is drained
 * before and after, so that the snapshot's records, and only they, are
 * read inside its window.
 */
static void resnapshot_found_gils(struct gp_session *r)
{
	struct gp_tracked *tr, *tmp;

	HASH_ITER(hh, r->ps.by_pid, tr, tmp) {
		if (!tr->gil_found)
			continue;
		tr->gil_found = false;
		if (!r->wall || tr->state != GP_PROC_LIVE)
			continue;
		ring_buffer__consume(r->rb);
		r->resnap_from = gp_mono_ns();
		r->resnap_to = 0;
		if (gp_bpf_snapshot(r->b, (uint32_t)tr->pid))
			gp_debug("no snapshot of process %d's threads once its GIL was found",
				 (int)tr->pid);
		r->resnap_to = gp_mono_ns();
		ring_buffer__consume(r->rb);
		r->resnap_to = 0;
		gp_debug("process %d's GIL found: its threads' states snapshot again",
			 (int)tr->pid);
	}
}

/*
 * The interpreter's own count of GIL switches (gil->switch_number: one per
 * acquisition by another thread than the last holder), read when the GIL is
 * first known, then at every poll tick and at the stop (8 bytes each): the
 * whole run's hand-offs for nothing.
 */
static bool read_switches(struct gp_session *r, uint64_t *out)
{
	struct gp_mem mem = gp_mem_process(&r->ps.main->mem_pid);
	int32_t off = r->t->layout ? r->t->layout->gil_switch_number : GP_ABSENT;
	uint64_t gil = r->ps.main->proc.gil;

	/* 0 is the GIL's interval: a row without the field. */
	return gil && off > 0 && !gp_mem_read_u64(&mem, gil + (uint64_t)off, out);
}

static void first_switches(struct gp_session *r)
{
	if (!r->switches0_ns && read_switches(r, &r->switches0))
		r->switches0_ns = gp_mono_ns();
}

static void last_switches(struct gp_session *r)
{
	uint64_t n;

	if (!r->switches0_ns || !read_switches(r, &n) || n < r->switches0)
		return;
	r->prof->gil_switches = n - r->switches0;
	r->prof->gil_switches_ns = gp_mono_ns() - r->switches0_ns;
	r->prof->gil_switches_known = true;
}

/* Sub-interpreters, looked for at the start and at the end of a recording. */
static void scan_interpreters(struct gp_session *r)
{
	struct gp_mem mem = gp_mem_process(&r->ps.main->mem_pid);

	gp_interps_scan(r->t->layout, &mem, r->t->runtime, &r->subinterps);
}

static void warn_interpreters(const struct gp_session *r)
{
	char ids[256];

	if (!r->subinterps.n)
		return;
	gp_interps_format(&r->subinterps, ids, sizeof(ids));
	gp_warn("process %d also runs sub-interpreters (ids %s): a thread that entered one "
		"is shown with the main-interpreter stack that entered it; threads started "
		"inside one are shown with their own",
		(int)r->t->pid, ids);
}

/* Intervals and hand-offs from what was collected; the profile keeps them. */
static int finish_timeline(struct gp_session *r, uint64_t t_end)
{
	struct gp_timeline *tl = r->tl;

	if (gp_timeline_finish(tl, r->prof, t_end))
		return -1;
	r->prof->timeline = tl;
	r->tl = NULL;
	if (tl->exec_cut)
		gp_warn("the GIL %s ends %.1f s into the recording, where the target exec'd",
			tl->estimated ? "hold and wait estimates' window" : "timeline",
			(tl->t_end - tl->t0) / 1e9);
	if (tl->truncated && tl->estimated)
		gp_note("the GIL hold and wait estimates cover the first %.1f s (%zu changes of "
			"state kept; a GIL timeline, -o FILE.trace.json, measures the whole recording)",
			(tl->t_end - tl->t0) / 1e9, tl->max_events);
	else if (tl->truncated)
		gp_warn("the GIL timeline ends %.1f s into the recording: more than %zu GIL "
			"transitions and switches were recorded",
			(tl->t_end - tl->t0) / 1e9, tl->max_events);
	gp_debug("timeline: %zu intervals, %zu hand-offs, %" PRIu64 " releases and %" PRIu64
		 " acquisitions not seen (GIL events from %s)",
		 tl->nslices, tl->nhandoffs, tl->missed_releases, tl->missed_acquires, tl->source);
	return 0;
}

static void finish_threads(struct gp_session *r)
{
	for (size_t i = 0; i < r->prof->nthreads; i++) {
		struct gp_thread *th = r->prof->threads[i];
		char before[64];

		/* Threads may have renamed themselves since first seen. */
		snprintf(before, sizeof(before), "%s", th->name);
		gp_processes_name_thread(&r->ps, th, i == 0, gp_mono_ns());
		if (!th->name[0])
			snprintf(th->name, sizeof(th->name), "%s", before);
	}
}

/* The ring for this recording's rate on the CPUs sampled (ringsize.c). */
static uint32_t default_ring_bytes(const struct gp_options *o)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct gp_ring_params p = {
		.rate_hz = o->rate_hz,
		.ncpus = ncpus > 0 ? (unsigned int)ncpus : 1,
		.stack_bytes = o->native ? o->stack_bytes : 0,
		.kernel_stack = o->kernel,
	};
	uint32_t bytes = gp_ring_bytes(&p);

	gp_debug("ring buffer %u MiB (%u Hz x %u CPUs x %" PRIu64 " bytes per sample)",
		 bytes >> 20, p.rate_hz, p.ncpus, gp_ring_record_bytes(&p));
	return bytes;
}

static void set_profile_header(struct gp_session *r)
{
	struct gp_profile *prof = r->prof;

	prof->pid = r->t->pid;
	prof->mode = r->o->mode;
	prof->gil_tracked = true;
	prof->rate_hz = r->o->rate_hz;
	prof->period_ns = 1000000000ULL / r->o->rate_hz;
	snprintf(prof->python_version, sizeof(prof->python_version), "%s", r->t->version);
	snprintf(prof->comm, sizeof(prof->comm), "%s", r->t->comm);
}

/* What the sampler is built with: rate, buffers, which programs. */
static void bpf_config(const struct gp_options *o, const struct gp_target *t,
		       struct gp_bpf_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->btf_path = o->btf_path;
	cfg->layout = t->layout;
	cfg->rate_hz = o->rate_hz;
	cfg->max_frames = GP_MAX_FRAMES;
	cfg->ringbuf_bytes = o->ring_bytes ? o->ring_bytes : default_ring_bytes(o);
	cfg->stack_bytes = o->native ? o->stack_bytes : 0;
	cfg->kernel_stack = o->kernel;
	cfg->follow_children = o->subprocesses;
	cfg->wall = o->mode == GP_MODE_WALL;
	cfg->no_blame = o->no_blame;
}

/* Load the programs and register the target: nothing is sampled yet. */
static int load(struct gp_session *r, struct gp_bpf_config *cfg)
{
	const struct gp_options *o = r->o;
	int rc;

	if (gp_processes_init(&r->ps, r->prof, r->b, r->t, cfg->max_frames, o->subprocesses)) {
		gp_error("out of memory");
		return GP_EXIT_FAILURE;
	}
	r->searching = !r->ps.main->proc_done;
	if (o->native || o->kernel) {
		if (gp_native_init(&r->native, &r->ps.main->sym, o->native, o->kernel,
				   o->native_all)) {
			gp_error("out of memory");
			return GP_EXIT_FAILURE;
		}
		r->has_native = true;
	}
	if (o->timeline) {
		rc = gp_giltrace_choose(&r->gil, r->t, o->gil_trace);
		if (rc) {
			gp_error("%s", r->gil.why);
			return rc;
		}
		cfg->gil_events = r->gil.kind;
	}
	rc = gp_bpf_load(r->b, cfg);
	/* Forks, execs and exits are watched before the target is registered. */
	if (!rc)
		rc = gp_bpf_attach_procs(r->b);
	if (rc)
		return rc;
	if (gp_bpf_add_proc(r->b, (uint32_t)r->t->pid, &r->ps.main->proc)) {
		gp_error("cannot register process %d with the sampler: %s", (int)r->t->pid,
			 strerror(errno));
		return GP_EXIT_FAILURE;
	}
	r->rb = ring_buffer__new(gp_bpf_ringbuf_fd(r->b), handle_sample, r, NULL);
	if (!r->rb) {
		gp_error("cannot open the sample ring buffer: %s", strerror(errno));
		return GP_EXIT_FAILURE;
	}
	return 0;
}

/* GIL tracing, switches and the snapshot, then the sampling timer. */
static int attach(struct gp_session *r)
{
	const struct gp_options *o = r->o;
	int rc;

	/* GIL transitions first: the timeline starts knowing every one. */
	if (o->timeline) {
		rc = gp_giltrace_attach(&r->gil, r->b, r->ps.main->proc.gil,
					r->t->layout->gil_locked);
		if (rc) {
			gp_error("%s", r->gil.why);
			return rc;
		}
	}
	if (r->wall) {
		/* Switches first, then the snapshot: no thread falls between. */
		r->wall_t0 = gp_mono_ns();
		gp_wall_init(&r->wallclock, r->prof, r->wall_t0);
		r->wallclock.blames = r->prof->blames;
		if (o->timeline)
			r->tl = gp_timeline_new(gp_giltrace_name(&r->gil), r->wall_t0);
		else if (o->estimate_gil)
			r->tl = gp_timeline_new_estimate(r->wall_t0);
		if ((o->timeline || o->estimate_gil) && !r->tl) {
			gp_error("out of memory");
			return GP_EXIT_FAILURE;
		}
		rc = gp_bpf_attach_switch(r->b);
		if (!rc)
			rc = gp_bpf_snapshot(r->b, (uint32_t)r->t->pid);
		if (rc)
			return rc;
	}
	return gp_bpf_attach(r->b, o->rate_hz);
}

int gp_session_start(const struct gp_options *o, struct gp_target *t, struct gp_profile *prof,
		     struct gp_session **out)
{
	struct gp_bpf_config cfg;
	struct gp_session *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		gp_error("out of memory");
		return GP_EXIT_FAILURE;
	}
	r->o = o;
	r->t = t;
	r->prof = prof;
	r->res = &r->own_res;
	r->b = &r->bpf;
	r->wall = o->mode == GP_MODE_WALL;
	set_profile_header(r);
	prof->blames = o->no_blame ? NULL : calloc(1, sizeof(*prof->blames));
	if (!prof->blames && !o->no_blame) {
		gp_error("out of memory");
		free(r);
		return GP_EXIT_FAILURE;
	}
	bpf_config(o, t, &cfg);
	rc = load(r, &cfg);
	if (!rc) {
		install_signals();
		rc = attach(r);
	}
	if (!rc && !t->launched && gp_target_exited(t)) {
		gp_error("process %d exited before it could be attached", (int)t->pid);
		rc = GP_EXIT_TARGET_GONE;
	}
	if (rc) {
		gp_session_free(r);
		return rc;
	}
	/*
	 * Attached: what loaded and attached the sampler is needed no more
	 * (processes added later need only what is kept: ptrace, BPF); unless
	 * a GIL watchpoint still waits for the GIL to exist.
	 */
	r->drop_pending = o->timeline && !gp_giltrace_active(&r->gil);
	/* The agent keeps them: it starts a session for every process it finds. */
	if (!r->drop_pending && !o->keep_privileges)
		gp_drop_privileges();
	prof->start_unix_ns = gp_unix_ns();
	scan_interpreters(r);
	first_switches(r);
	gp_target_resume(t);
	r->t0 = gp_mono_ns();
	r->running = true;
	gp_debug("sampling started");
	*out = r;
	return 0;
}

int gp_session_add_process(struct gp_session *r, pid_t pid, pid_t ppid)
{
	char why[512];
	int rc;

	if (!r->running || !r->o->subprocesses)
		return GP_EXIT_USAGE;
	rc = gp_processes_attach(&r->ps, pid, ppid, why, sizeof(why));
	if (rc) {
		gp_debug("process %d not profiled: %s", (int)pid, why);
		return rc;
	}
	/* Its threads already off CPU are in a state the switches did not see. */
	if (r->wall && gp_bpf_snapshot(r->b, (uint32_t)pid))
		gp_debug("no snapshot of process %d's threads", (int)pid);
	return 0;
}

size_t gp_session_add_descendants(struct gp_session *r)
{
	pid_t pids[GP_MAX_PROCS], ppids[GP_MAX_PROCS];
	size_t n, added = 0;

	if (!r->running || !r->o->subprocesses)
		return 0;
	n = gp_list_descendants(r->t->pid, pids, ppids, GP_MAX_PROCS);
	for (size_t i = 0; i < n; i++)
		if (!gp_session_add_process(r, pids[i], ppids[i]))
			added++;
	gp_debug("%zu of %zu processes below %d profiled", added, n, (int)r->t->pid);
	return added;
}

int gp_session_snapshot(struct gp_session *r)
{
	struct gp_tracked *tr, *tmp;
	int rc = 0;

	if (!r->running || !r->wall)
		return GP_EXIT_USAGE;
	HASH_ITER(hh, r->ps.by_pid, tr, tmp)
		if (tr->state == GP_PROC_LIVE && !rc)
			rc = gp_bpf_snapshot(r->b, (uint32_t)tr->pid);
	return rc;
}

/* Why the recording should stop now, if it should. */
static bool stop_condition(struct gp_session *r, int err)
{
	if (err < 0 && err != -EINTR) {
		gp_error("reading samples failed: %s", strerror(-err));
		r->res->reason = GP_STOP_ERROR;
	} else if (stop_signal) {
		r->res->reason = GP_STOP_SIGNAL;
		r->res->signal = stop_signal;
	} else if (r->stop_requested) {
		r->res->reason = GP_STOP_REQUESTED;
	} else if (gp_target_exited(r->t)) {
		r->res->reason = GP_STOP_TARGET_EXIT;
	} else if (r->ps.main_gone) {
		r->res->reason = GP_STOP_TARGET_EXEC;
	} else if (r->o->duration_ns && gp_mono_ns() - r->t0 >= r->o->duration_ns) {
		r->res->reason = GP_STOP_DURATION;
	} else {
		return false;
	}
	return true;
}

bool gp_session_poll(struct gp_session *r, int timeout_ms)
{
	int err;

	if (!r->running || r->stopped)
		return true;
	/* While an interpreter (and so its GIL) does not exist yet, look often. */
	if (r->searching && timeout_ms > POLL_MS_STARTING)
		timeout_ms = POLL_MS_STARTING;
	if (timeout_ms < 0 || timeout_ms > POLL_MS)
		timeout_ms = POLL_MS;
	/*
	 * Records are submitted without wakeups (see gilprof.bpf.c): the poll
	 * returns early only when the ring is filling up, so drain it on every
	 * tick too, while the target's memory is readable.
	 */
	err = ring_buffer__poll(r->rb, timeout_ms);
	if (err >= 0)
		err = ring_buffer__consume(r->rb);
	/*
	 * The GIL of an interpreter still starting, the interpreter of a
	 * process that exec'd: looked for until found.
	 */
	r->searching = gp_processes_tick(&r->ps, gp_mono_ns());
	resnapshot_found_gils(r);
	attach_late_gil(r);
	first_switches(r);
	/* Every tick: a target that exits keeps its count up to its last tick. */
	last_switches(r);
	r->stopped = stop_condition(r, err);
	return r->stopped;
}

void gp_session_request_stop(struct gp_session *r)
{
	r->stop_requested = true;
}

uint32_t gp_session_symbolize(struct gp_session *r, const struct gp_sample *rec, size_t size,
			      uint32_t *locs)
{
	struct gp_tracked *tr;

	if (!well_formed(r, rec, size))
		return 0;
	tr = gp_processes_get(&r->ps, (pid_t)rec->pid, gp_mono_ns());
	if (!tr)
		return 0;
	if (r->has_native && (rec->flags & GP_SAMPLE_HAS_NATIVE)) {
		r->native.sym = &tr->sym;
		return gp_native_symbolize(&r->native, rec, size, gp_mono_ns(), locs);
	}
	return gp_symbolize_python(&tr->sym, rec, gp_mono_ns(), locs);
}

void gp_session_observe(struct gp_session *r, gp_session_stack_fn fn, void *ctx)
{
	r->observe = fn;
	r->observe_ctx = ctx;
}

void gp_session_peek(struct gp_session *r, struct gp_session_view *v)
{
	memset(v, 0, sizeof(*v));
	v->prof = r->prof;
	v->elapsed_ns = r->running ? gp_mono_ns() - r->t0 : r->prof->duration_ns;
	v->samples = r->samples;
	v->nthreads = r->prof->nthreads;
	v->nprocs = HASH_COUNT(r->ps.by_pid);
	v->wall = r->wall;
	v->wallclock = r->wall && r->running ? &r->wallclock : NULL;
	v->gil = r->ps.main ? r->ps.main->proc.gil : 0;
	if (r->b->skel) {
		struct gp_prog_stats progs[GP_PROG__MAX];

		gp_bpf_counters(r->b, v->counters);
		v->lost = v->counters[GP_CNT_RB_FULL] + v->counters[GP_CNT_NO_SCRATCH];
		gp_bpf_all_prog_stats(r->b, progs);
		for (int i = 0; i < GP_PROG__MAX; i++) {
			v->bpf_run_ns += progs[i].run_ns;
			v->bpf_runs += progs[i].runs;
		}
	}
}

/* Sampling stopped: the records still in the ring buffer, then the accounting. */
static int finish(struct gp_session *r, uint64_t t_end)
{
	struct gp_session_result *res = r->res;
	struct gp_profile *prof = r->prof;

	ring_buffer__consume(r->rb);
	if (r->wall) {
		if (gp_wall_finish(&r->wallclock)) {
			gp_error("out of memory while accounting off-CPU time");
			return GP_EXIT_FAILURE;
		}
		if (gp_blames_apportion(r->prof->blames)) {
			gp_error("out of memory while accounting who held the GIL");
			return GP_EXIT_FAILURE;
		}
		prof->duration_ns = t_end - r->wall_t0;
		gp_debug("wall-clock window %" PRIu64 " to %" PRIu64 " ns (CLOCK_MONOTONIC)",
			 r->wall_t0, t_end);
	}
	if (r->tl && finish_timeline(r, t_end)) {
		gp_error("out of memory while building the GIL timeline");
		return GP_EXIT_FAILURE;
	}
	finish_threads(r);
	gp_processes_report(&r->ps);
	gp_bpf_counters(r->b, res->counters);
	gp_bpf_prog_stats(r->b, &res->bpf_run_ns, &res->bpf_runs);
	gp_bpf_all_prog_stats(r->b, res->progs);
	gp_trust_judge(&r->trust, &res->trust);
	prof->lost = res->counters[GP_CNT_RB_FULL] + res->counters[GP_CNT_NO_SCRATCH];
	if (r->has_native)
		res->native = *gp_native_finish(&r->native);
	gp_profile_sort_stacks(prof);
	return 0;
}

int gp_session_stop(struct gp_session *r, struct gp_session_result *res)
{
	uint64_t t_end;
	int rc;

	if (!r->running) {
		memset(res, 0, sizeof(*res));
		return GP_EXIT_FAILURE;
	}
	r->running = false;
	r->prof->duration_ns = gp_mono_ns() - r->t0;
	last_switches(r);
	scan_interpreters(r);
	warn_interpreters(r);
	/* Stop sampling, then take everything still in the ring buffer. */
	t_end = gp_mono_ns();
	if (r->wall)
		gp_wall_stop(&r->wallclock, t_end);
	gp_giltrace_detach(&r->gil);
	gp_bpf_detach(r->b);
	gp_debug("sampling stopped");
	rc = finish(r, t_end);
	*res = *r->res;
	return rc;
}

void gp_session_free(struct gp_session *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->b->skel)
		gp_bpf_destroy(r->b);
	if (r->has_native)
		gp_native_free(&r->native);
	gp_processes_free(&r->ps);
	gp_wall_free(&r->wallclock);
	gp_giltrace_detach(&r->gil);
	gp_timeline_free(r->tl);
	gp_trust_free(&r->trust);
	free_owners(r);
	free(r);
}
