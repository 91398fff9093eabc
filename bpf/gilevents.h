/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gilevents.h — exact GIL transitions, for the timeline (.trace.json).
 * Loaded only when a timeline is asked for; included at the end of
 * gilprof.bpf.c (one object, one skeleton).
 *
 * Every acquisition and release of the main interpreter's GIL becomes a
 * GP_EV_GIL record, from one of two sources (user space picks one):
 *
 *   uprobes     gil_taken on take_gil's return, gil_dropping on drop_gil's
 *               entry: cheap, but these are local functions, found only
 *               in interpreters with a symbol table;
 *   watchpoint  gil_written on a hardware write watchpoint on gil->locked,
 *               per thread: take_gil stores 1, drop_gil stores 0, so every
 *               transition is seen on any build, stripped ones included,
 *               at the cost of a debug exception per transition.
 *
 * Either runs in the thread that changes the GIL, so the record's tid is
 * the holder's. A thread acquiring the GIL after another thread held it
 * (a hand-off) also sends its Python stack, the code it resumes, and with
 * --native a copy of its user stack: the C call that had released the GIL.
 */
#ifndef GILPROF_GILEVENTS_H
#define GILPROF_GILEVENTS_H

/*
 * One record per CPU for hand-off stacks. Not the sampler's scratch: a
 * uprobe program may be interrupted by the CPU-clock program, and even
 * preempted by another task running it on the same CPU, so the slot is
 * claimed atomically and a hand-off that finds it taken goes without
 * its stack (counted).
 */
struct gil_slot {
	__u64 busy;
	struct gp_scratch sc; /* a sample and room for its native trailer */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct gil_slot);
} gil_slots SEC(".maps");

/* Host tgid -> tid of the thread that acquired the GIL last. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_PROCS);
	__type(key, __u32);
	__type(value, __u32);
} gil_owner SEC(".maps");

/* Did another thread acquire the GIL last? Records this one as the owner. */
static __always_inline bool handed_over(__u32 tgid, __u32 tid)
{
	__u32 *last = bpf_map_lookup_elem(&gil_owner, &tgid);

	if (last && *last == tid)
		return false;
	bpf_map_update_elem(&gil_owner, &tgid, &tid, BPF_ANY);
	return true;
}

/*
 * An acquisition by another thread than the last holder: with its stack.
 * tstate: the thread's, when the caller found it already (else 0). ctx:
 * the program's, for copy_native.
 */
static __always_inline void emit_handoff(void *ctx, const struct gp_proc *proc,
					 struct task_struct *task, __u64 tstate)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct gil_slot *slot = bpf_map_lookup_elem(&gil_slots, &cpu);
	struct gp_sample *s;
	__u32 extra = 0;

	if (!slot || __sync_lock_test_and_set(&slot->busy, 1)) {
		count(GP_CNT_GIL_NO_SLOT);
		emit_mark(task, GP_EV_GIL, GP_SAMPLE_ACQUIRED | GP_SAMPLE_HANDOFF);
		return;
	}
	s = &slot->sc.sample;
	fill_header(s, task, GP_EV_GIL);
	s->flags = GP_SAMPLE_ACQUIRED | GP_SAMPLE_HANDOFF;
	s->gil = GP_GIL_HOLDING;
	s->tstate = tstate ? tstate : find_tstate(proc, task, s->tid, NULL, NULL);
	if (s->tstate) {
		s->flags |= GP_SAMPLE_HAS_TSTATE;
		walk_python(s, proc, NULL, false, NULL);
	}
	if (cfg.stack_bytes)
		extra = copy_native(ctx, &slot->sc, task, s->tid, false);
	emit(s, extra, sizeof(slot->sc));
	slot->busy = 0;
}

/*
 * The current thread (task, its tstate if known, else 0) acquired, or is
 * releasing, the main GIL of proc.
 */
static __always_inline void gil_event(void *ctx, const struct gp_proc *proc,
				      struct task_struct *task, __u64 tstate, bool acquired)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!acquired) {
		count(GP_CNT_GIL_RELEASED);
		emit_mark(task, GP_EV_GIL, 0);
		return;
	}
	count(GP_CNT_GIL_ACQUIRED);
	if (handed_over(id >> 32, (__u32)id))
		emit_handoff(ctx, proc, task, tstate);
	else
		emit_mark(task, GP_EV_GIL, GP_SAMPLE_ACQUIRED);
}

static __always_inline const struct gp_proc *gil_proc(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	const struct gp_proc *proc = bpf_map_lookup_elem(&procs, &tgid);

	if (!proc || !proc->gil) {
		count(GP_CNT_GIL_OTHER);
		return NULL;
	}
	return proc;
}

/*
 * Uprobes fire for every GIL of the process: a sub-interpreter with its
 * own GIL (3.12+) uses the same take_gil/drop_gil. The thread holds the
 * main GIL right after take_gil returns and right before drop_gil
 * releases it only if that call was about the main GIL.
 */
static __always_inline void gil_probe(void *ctx, bool acquired)
{
	const struct gp_proc *proc = gil_proc();
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 tstate;

	if (!proc)
		return;
	/* Kept for a hand-off record, which would look it up again. */
	tstate = find_tstate(proc, task, tid, NULL, NULL);
	if (!holds_gil(proc, tstate, NULL)) {
		count(GP_CNT_GIL_NOT_MAIN);
		return;
	}
	gil_event(ctx, proc, task, tstate, acquired);
}

SEC("uretprobe")
int gil_taken(void *ctx)
{
	if (cfg.gil_events == GP_GIL_EVENTS_UPROBES)
		gil_probe(ctx, true);
	return 0;
}

SEC("uprobe")
int gil_dropping(void *ctx)
{
	if (cfg.gil_events == GP_GIL_EVENTS_UPROBES)
		gil_probe(ctx, false);
	return 0;
}

/*
 * The watchpoint traps right after the store, still under gil->mutex
 * (take_gil and drop_gil both write locked holding it), so the word read
 * here is the value just written.
 */
SEC("perf_event")
int gil_written(struct bpf_perf_event_data *ctx)
{
	const struct gp_proc *proc;
	__s32 locked = -1;

	if (cfg.gil_events != GP_GIL_EVENTS_WATCHPOINT)
		return 0;
	proc = gil_proc();
	if (!proc)
		return 0;
	if (uread(&locked, sizeof(locked), proc->gil + cfg.py.gil_locked, NULL) ||
	    (locked != 0 && locked != 1)) {
		count(GP_CNT_GIL_NOT_MAIN);
		return 0;
	}
	gil_event(ctx, proc, bpf_get_current_task_btf(), 0, locked == 1);
	return 0;
}

#endif
