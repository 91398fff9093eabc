/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * offcpu.h — wall mode: where the threads are while they are off CPU.
 * Included at the end of gilprof.bpf.c (one object, one skeleton).
 *
 * on_switch (tp_btf/sched_switch) records the stack and GIL state of every
 * target thread leaving a CPU (the outgoing task is still current there,
 * so its memory is readable), and a header-only mark when one comes back:
 * user space turns each pair into an off-CPU interval of measured length.
 * snapshot (a sleepable task iterator, run once after on_switch is
 * attached) records the threads that were already off CPU, whose intervals
 * began before the recording.
 *
 * Records are submitted without waking the consumer: a wakeup is itself a
 * context switch, which would run on_switch again (a feedback loop).
 */
#ifndef GILPROF_OFFCPU_H
#define GILPROF_OFFCPU_H

#define GP_PF_EXITING 0x00000004 /* task->flags: in do_exit() */

/* One record for the iterator, which may sleep and so cannot use a CPU's slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gp_scratch);
} iter_scratch SEC(".maps");

/* A header-only record: GP_EV_ON_CPU or GP_EV_EXIT. */
static __always_inline void emit_mark(struct task_struct *task, __u32 type, __u32 flags)
{
	struct gp_sample *r = bpf_ringbuf_reserve(&events, GP_SAMPLE_HDR_SIZE, 0);

	if (!r) {
		count(GP_CNT_RB_FULL);
		return;
	}
	fill_header(r, task, type);
	r->flags = flags;
	bpf_ringbuf_submit(r, wakeup_flag());
	count(GP_CNT_EMITTED);
}

/* BPF_PROG's generated wrapper leaves its ctx argument unused. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u32 ptgid = prev->tgid, ntgid = next->tgid;
	struct gp_scratch *sc;
	struct gil_view g;
	struct gp_proc *proc;
	bool in = false;

	if (!cfg.wall)
		return 0;
	if (bpf_map_lookup_elem(&procs, &ntgid)) {
		in = true;
		count(GP_CNT_SWITCH_IN);
		emit_mark(next, GP_EV_ON_CPU, 0);
	}
	proc = bpf_map_lookup_elem(&procs, &ptgid);
	if (!proc) {
		if (!in)
			count(GP_CNT_SWITCH_OTHER);
		return 0;
	}
	/* No Python stack to speak of any more; ends the thread's lifetime. */
	if (prev->flags & GP_PF_EXITING) {
		count(GP_CNT_THREAD_EXIT);
		emit_mark(prev, GP_EV_EXIT, 0);
		return 0;
	}
	count(GP_CNT_SWITCH_OUT);
	sc = cpu_scratch();
	if (!sc)
		return 0;
	/* Preempted (still runnable) is not idle: it wants the CPU back. */
	capture(sc, proc, prev, NULL, GP_EV_OFF_CPU,
		!preempt && prev_state != GP_TASK_RUNNING, &g);
	emit(&sc->sample, 0, sizeof(*sc));
	blame_holder(sc, proc, &g, NULL);
	return 0;
}
#pragma clang diagnostic pop

SEC("iter.s/task")
int snapshot(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct gp_scratch *sc;
	struct gil_view g;
	struct gp_proc *proc;
	__u32 tgid, key = 0;

	if (!task)
		return 0;
	tgid = task->tgid;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc) {
		count(GP_CNT_ITER_OTHER);
		return 0;
	}
	count(GP_CNT_SNAPSHOT);
	/*
	 * A running thread's saved registers and stack are stale: only say it
	 * exists; its CPU samples and next switch-out describe it.
	 */
	if (task_on_cpu(task) || (task->flags & GP_PF_EXITING)) {
		emit_mark(task, GP_EV_ON_CPU, GP_SAMPLE_SNAPSHOT);
		return 0;
	}
	sc = bpf_map_lookup_elem(&iter_scratch, &key);
	if (!sc) {
		count(GP_CNT_NO_SCRATCH);
		return 0;
	}
	capture(sc, proc, task, task, GP_EV_OFF_CPU, task_state(task) != GP_TASK_RUNNING,
		&g);
	sc->sample.flags |= GP_SAMPLE_SNAPSHOT;
	emit(&sc->sample, 0, sizeof(*sc));
	blame_holder(sc, proc, &g, task);
	return 0;
}

#endif
