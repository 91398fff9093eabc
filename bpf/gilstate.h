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

	/* regs is a trusted pointer (bpf_task_pt_regs): plain loads, no helper call. */
	if (regs->orig_ax != GP_NR_FUTEX)
		return false;
	uaddr = regs->di;
	return cfg.py.gil_size > 0 && uaddr - proc->gil < (__u64)cfg.py.gil_size;
}

/*
 * The GIL's fields a record needs, from one read: struct _gil_runtime_state
 * starts with them in every version (the row's offsets say where), and one
 * copy of its first bytes costs what one of its fields did.
 */
#define GP_GIL_HDR 32

struct gil_view {
	__u64 holder;            /* last_holder: the holder, while locked == 1 */
	__s32 locked;
	__s32 fault;             /* the GIL could not be read */
};

static __always_inline bool gil_hdr_fits(void)
{
	return cfg.py.gil_last_holder >= 0 && cfg.py.gil_last_holder + 8 <= GP_GIL_HDR &&
	       cfg.py.gil_locked >= 0 && cfg.py.gil_locked + 4 <= GP_GIL_HDR;
}

/* proc->gil must be set. */
static __always_inline void read_gil(const struct gp_proc *proc, struct task_struct *rtask,
				     struct gil_view *g)
{
	__u8 b[GP_GIL_HDR];

	g->holder = 0;
	g->locked = 0;
	g->fault = 0;
	if (gil_hdr_fits()) {
		if (uread(b, sizeof(b), proc->gil, rtask)) {
			g->fault = 1;
			return;
		}
		g->locked = *(const __s32 *)(b + cfg.py.gil_locked);
		/* last_holder is not cleared on release: only meaningful when locked. */
		if (g->locked == 1)
			g->holder = *(const __u64 *)(b + cfg.py.gil_last_holder);
		return;
	}
	/* A row whose fields lie further apart: one read each. */
	if (uread(&g->locked, sizeof(g->locked), proc->gil + cfg.py.gil_locked, rtask) ||
	    (g->locked == 1 && read_ptr(&g->holder, proc->gil + cfg.py.gil_last_holder, rtask)))
		g->fault = 1;
}

static __always_inline bool view_holds(const struct gil_view *g, __u64 tstate)
{
	return tstate && !g->fault && g->locked == 1 && g->holder == tstate;
}

static __always_inline bool holds_gil(const struct gp_proc *proc, __u64 tstate,
				      struct task_struct *rtask)
{
	struct gil_view g;

	if (!tstate)
		return false;
	read_gil(proc, rtask, &g);
	return view_holds(&g, tstate);
}

/*
 * enum gp_gil of a thread; blocked: it is going to sleep (not preempted).
 * *g: the GIL as read for it (fault set when it was not read), which the
 * holder's record of a waiting one reuses (blame.bpf.h).
 */
static __always_inline __u32 gil_state(const struct gp_proc *proc, struct pt_regs *regs,
				       __u64 tstate, bool blocked, struct task_struct *rtask,
				       struct gil_view *g)
{
	if (!proc->gil) {
		g->fault = 1;
		count(GP_CNT_GIL_UNKNOWN);
		return GP_GIL_UNKNOWN;
	}
	read_gil(proc, rtask, g);
	if (view_holds(g, tstate))
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
