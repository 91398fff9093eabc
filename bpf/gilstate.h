/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gilstate.h — what a thread is doing with the GIL, decided in the kernel
 * from the target's memory and the thread's saved registers. Included by
 * gilprof.bpf.c (needs cfg, count() and uread()).
 *
 *   holding   gil->locked == 1 && gil->last_holder == the thread's tstate
 *             (checked first: a thread switched out holding it still holds it)
 *   waiting   in a futex(2) call on a word of the GIL struct: only take_gil
 *             and drop_gil make those. That is a thread blocked on gil->cond
 *             or gil->mutex in take_gil, and also one that dropped the GIL on
 *             request and sits in drop_gil until the hand-off is done (the
 *             switch_cond wait, or preempted by the thread it just woke):
 *             it cannot run Python again before take_gil returns.
 *   released  on CPU, or preempted, without the GIL
 *   idle      blocked in the kernel on anything else
 *
 * The futex test costs the target nothing: no syscall probe, just the
 * registers saved when the thread entered the kernel (pt_regs). For a
 * thread inside a syscall orig_ax is the syscall number and di its first
 * argument; interrupts and exceptions store -1 in orig_ax, so a thread
 * interrupted in user mode never matches. This is only valid while the
 * thread is in the kernel: at a perf sample (which enters the kernel), at
 * sched_switch, and for a task that is not running (the iterator).
 */
#ifndef GILPROF_GILSTATE_H
#define GILPROF_GILSTATE_H

static __always_inline bool in_gil_futex(const struct gp_proc *proc, struct pt_regs *regs)
{
	__u64 uaddr;

	if (BPF_CORE_READ(regs, orig_ax) != GP_NR_FUTEX)
		return false;
	uaddr = BPF_CORE_READ(regs, di);
	return cfg.py.gil_size > 0 && uaddr - proc->gil < (__u64)cfg.py.gil_size;
}

static __always_inline bool holds_gil(const struct gp_proc *proc, __u64 tstate,
				      struct task_struct *rtask)
{
	__s32 locked = 0;
	__u64 holder = 0;

	if (!tstate || uread(&locked, sizeof(locked), proc->gil + cfg.py.gil_locked, rtask) ||
	    locked != 1)
		return false;
	/* last_holder is not cleared on release: only meaningful when locked. */
	if (read_ptr(&holder, proc->gil + cfg.py.gil_last_holder, rtask))
		return false;
	return holder == tstate;
}

/* enum gp_gil of a thread; blocked: it is going to sleep (not preempted). */
static __always_inline __u32 gil_state(const struct gp_proc *proc, struct pt_regs *regs,
				       __u64 tstate, bool blocked, struct task_struct *rtask)
{
	if (!proc->gil) {
		count(GP_CNT_GIL_UNKNOWN);
		return GP_GIL_UNKNOWN;
	}
	if (holds_gil(proc, tstate, rtask))
		return GP_GIL_HOLDING;
	if (in_gil_futex(proc, regs))
		return GP_GIL_WAITING;
	return blocked ? GP_GIL_IDLE : GP_GIL_RELEASED;
}

/* A collection is running in the main interpreter. */
static __always_inline bool gc_running(const struct gp_proc *proc, struct task_struct *rtask)
{
	__s32 collecting = 0;

	if (!proc->gc_collecting ||
	    uread(&collecting, sizeof(collecting), proc->gc_collecting, rtask))
		return false;
	return collecting == 1;
}

#endif
