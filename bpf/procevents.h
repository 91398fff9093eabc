/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * procevents.h — the life of profiled processes: fork, exec and exit.
 * Included at the end of gilprof.bpf.c (one object, one skeleton).
 *
 * on_fork: a profiled process made a child. With --subprocesses the child
 * is added to procs right here, before it can run (the tracepoint fires
 * before wake_up_new_task), with its parent's addresses: a forked child
 * is a copy of its parent. Either way user space hears of it.
 * on_exec: a profiled process replaced its program. Its addresses mean
 * nothing any more: it leaves procs until user space has found the new
 * program's interpreter (and put it back), or for good.
 * on_exit: the last thread of a profiled process exited. It leaves procs
 * at once, so a reused pid is never sampled as the old process; the wait
 * status tells user space how it ended (a crash: the signal).
 * With cfg.host_procs (the agent's discovery object, which samples
 * nothing) every fork and exec on the host is reported instead: user space
 * looks at the new program, or at a child of a Python it already knows.
 */
#ifndef GILPROF_PROCEVENTS_H
#define GILPROF_PROCEVENTS_H

static __always_inline void emit_proc_event(__u32 type, __u32 pid, struct task_struct *task,
					    __u32 ppid, __s32 status, __u32 followed)
{
	struct gp_proc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(GP_CNT_RB_FULL);
		return;
	}
	e->type = type;
	e->pid = pid;
	e->tid = BPF_CORE_READ(task, pid);
	e->cpu = bpf_get_smp_processor_id();
	e->ts = bpf_ktime_get_ns();
	e->ppid = ppid;
	e->status = status;
	e->followed = followed;
	e->reserved = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	bpf_ringbuf_submit(e, wakeup_flag());
	count(GP_CNT_EMITTED);
}

/* BPF_PROG's generated wrapper leaves its ctx argument unused. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wunused-parameter"
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, followed = 0;
	struct gp_proc *proc;

	/* A new thread of the same process is no news here. */
	if (ptgid == ctgid)
		return 0;
	if (cfg.host_procs) {
		count(GP_CNT_HOST_PROC);
		emit_proc_event(GP_EV_FORK, ctgid, child, ptgid, 0, 0);
		return 0;
	}
	proc = bpf_map_lookup_elem(&procs, &ptgid);
	if (!proc) {
		count(GP_CNT_PROC_OTHER);
		return 0;
	}
	count(GP_CNT_FORK);
	if (cfg.follow_children) {
		if (bpf_map_update_elem(&procs, &ctgid, proc, BPF_NOEXIST))
			count(GP_CNT_FORK_FULL);
		else
			followed = 1;
	}
	emit_proc_event(GP_EV_FORK, ctgid, child, ptgid, 0, followed);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid)
{
	__u32 tgid = p->tgid, tid = p->pid, old = (__u32)old_pid;

	if (cfg.host_procs) {
		count(GP_CNT_HOST_PROC);
		emit_proc_event(GP_EV_EXEC, tgid, p, 0, 0, 0);
		return 0;
	}
	if (!bpf_map_lookup_elem(&procs, &tgid)) {
		count(GP_CNT_PROC_OTHER);
		return 0;
	}
	count(GP_CNT_EXEC);
	bpf_map_delete_elem(&procs, &tgid);
	bpf_map_delete_elem(&threads, &tid);
	bpf_map_delete_elem(&threads, &old);
	/* Wall mode: the thread's Python life ends here (it may begin again). */
	if (cfg.wall)
		emit_mark(p, GP_EV_EXIT, 0);
	emit_proc_event(GP_EV_EXEC, tgid, p, 0, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;

	if (!bpf_map_lookup_elem(&procs, &tgid)) {
		count(GP_CNT_PROC_OTHER);
		return 0;
	}
	/* Its cached thread state goes with it: tids are reused. */
	bpf_map_delete_elem(&threads, &tid);
	/* signal->live counts the threads not yet in do_exit: 0 for the last one. */
	if (BPF_CORE_READ(p, signal, live.counter))
		return 0;
	count(GP_CNT_PROC_EXIT);
	/*
	 * Wall mode: the last switch-out of this thread comes after the entry
	 * is gone, so its end is marked here.
	 */
	if (cfg.wall)
		emit_mark(p, GP_EV_EXIT, 0);
	bpf_map_delete_elem(&procs, &tgid);
	emit_proc_event(GP_EV_PROC_EXIT, tgid, p, 0, BPF_CORE_READ(p, exit_code), 0);
	return 0;
}
#pragma clang diagnostic pop

#endif
