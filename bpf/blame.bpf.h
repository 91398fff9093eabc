/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * blame.bpf.h — who held the GIL while a thread waited for it. Included by
 * gilprof.bpf.c after gilstate.h (needs walk_python, emit and count).
 *
 * A record that finds its thread waiting for the GIL (a CPU-clock sample,
 * a switch-out in wall mode, a thread of the start snapshot) is followed by
 * a GP_EV_BLAME record about the GIL's holder at that moment: the waiter's
 * header (pid, tid, ts: user space pairs them), the holder's thread state
 * (gil->last_holder while gil->locked is 1, as read for the waiter's own
 * state: the same instant) and the holder's Python stack,
 * walked from that thread state; or that nobody held it (released, the
 * next holder not running yet: a hand-off under way). The holder is another thread of the same
 * process, so its frames are read in the waiter's address space with the
 * same bounded walk as the waiter's own. Its native and kernel frames are
 * not read: they are in the registers and stack of a task that is not the
 * one interrupted, so blame stacks are Python frames only (README).
 *
 * The waiter's record was copied into the ring buffer already, so its
 * slot (the CPU's scratch, or the iterator's) is reused for the holder's.
 */
#ifndef GILPROF_BLAME_BPF_H
#define GILPROF_BLAME_BPF_H

/*
 * sc->sample: the waiter's record, already sent; becomes the holder's. g: the GIL as
 * read for the waiter's state, at the moment of its record: its holder then.
 */
static __always_inline void blame_holder(struct gp_scratch *sc, const struct gp_proc *proc,
					 const struct gil_view *g, struct task_struct *rtask)
{
	struct gp_sample *s = &sc->sample;
	__u64 holder = g->holder, waiter = s->tstate;
	int fault = g->fault;

	if (cfg.no_blame || s->gil != GP_GIL_WAITING)
		return;
	count(GP_CNT_BLAME);
	s->reserved = s->type; /* which record of the waiter this follows */
	s->type = GP_EV_BLAME;
	s->user_ip = 0;
	s->user_sp = 0;
	s->nframes = 0;
	s->walk_end = GP_WALK_NO_FRAME;
	s->flags &= GP_SAMPLE_SNAPSHOT;
	s->tstate = holder;
	if (fault) {
		count(GP_CNT_BLAME_UNREADABLE);
		s->gil = GP_GIL_UNKNOWN;
	} else if (!holder || holder == waiter) {
		/* Released and not taken yet: the waiters wait for a hand-off. */
		count(GP_CNT_BLAME_NO_HOLDER);
		s->gil = GP_GIL_RELEASED;
	} else {
		s->gil = GP_GIL_HOLDING;
		s->flags |= GP_SAMPLE_HAS_TSTATE;
		if (gc_running(proc, rtask))
			s->flags |= GP_SAMPLE_GC;
		if (!ts_hdr_fits())
			walk_python(s, proc, rtask, true, NULL);
		else if (read_ts_hdr(sc->tstate_hdr, holder, rtask))
			walk_python(s, proc, rtask, true, sc->tstate_hdr);
	}
	if (s->gil != GP_GIL_HOLDING)
		s->tstate = 0;
	emit(s, 0, sizeof(*s));
}

#endif
