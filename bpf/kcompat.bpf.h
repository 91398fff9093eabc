/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kcompat.bpf.h — reads of kernel fields that kernels add, move, rename
 * or retype. Included by gilprof.bpf.c after count().
 *
 * A plain `task->field` is a CO-RE relocation libbpf must resolve, or the
 * whole object is refused ("failed to resolve CO-RE relocation"): 7.2 made
 * task_struct.on_cpu a u8 (an int before), and a 4-byte load cannot be
 * narrowed. Fields read here are read at whatever size and offset the
 * running kernel has (the bitfield relocations work for any integer
 * field), and only if it has them (bpf_core_field_exists; the read of a
 * missing field is dead code the verifier drops). Where a field is
 * missing, a fallback answers and GP_CNT_KFIELD_FALLBACK counts what it
 * may have got wrong.
 */
#ifndef GILPROF_KCOMPAT_BPF_H
#define GILPROF_KCOMPAT_BPF_H

/* The integer field ptr->field at its running-kernel size, 0 if absent. */
#define GP_KFIELD(ptr, field)                                                   \
	(bpf_core_field_exists((ptr)->field) ? (__u64)BPF_CORE_READ_BITFIELD_PROBED( \
						       ptr, field)                  \
					     : 0ULL)

/* Before 5.14 task_struct.__state was `long state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

#define GP_TASK_RUNNING 0

/* task->__state: TASK_RUNNING (0) for a runnable or running task. */
static __always_inline __u64 task_state(struct task_struct *task)
{
	struct task_struct___pre514 *old = (void *)task;

	if (bpf_core_field_exists(task->__state))
		return GP_KFIELD(task, __state);
	if (bpf_core_field_exists(old->state))
		return GP_KFIELD(old, state);
	/* Unknown: said runnable, so a sleeper shows as released, not idle. */
	count(GP_CNT_KFIELD_FALLBACK);
	return GP_TASK_RUNNING;
}

/*
 * Is task on a CPU right now (its saved registers stale)? Without
 * task_struct.on_cpu, any runnable task is taken to be: a preempted
 * thread is then shown without its stack until it runs.
 */
static __always_inline bool task_on_cpu(struct task_struct *task)
{
	if (bpf_core_field_exists(task->on_cpu))
		return GP_KFIELD(task, on_cpu) != 0;
	count(GP_CNT_KFIELD_FALLBACK);
	return task_state(task) == GP_TASK_RUNNING;
}

/*
 * Verifiers differ too. Up to 6.6 the verifier checks a bpf_loop callback
 * once, with the state the caller's context struct has at the call, and
 * removes what that state makes look dead: a scan that starts from
 * `ts = 0, phase = 0` lost its walk of the thread list on 6.1 (every scan
 * ran into its limit, silently: no thread state, no stack), and the frame
 * walk lost its depth test. 6.7+ verify the callback for every iteration
 * until the states converge, so a known start value costs them one pass
 * per value. Every field of a callback context that the callback reads and
 * changes starts from unknown_zero(): 0 at run time, unknown to every
 * verifier (a load from .bss, which is not frozen), so all branches stay
 * and the first pass already covers the rest.
 */
volatile __u64 gp_zero = 0;

static __always_inline __u64 unknown_zero(void)
{
	return gp_zero;
}

/*
 * A copy of v that the verifier does not link to v. A plain copy shares
 * v's scalar id, and the verifier then tells states apart by which values
 * were copied from which: a loop callback that remembers a value of one
 * iteration for the next (the frame walk's loop mark, its last good
 * step, the scan's main interpreter) multiplied its states; 6.19 checked
 * 3.13's walk in 700 k instructions where 6.18 needed 40 k. An ALU
 * operation (xor 0, hidden from clang) gives the copy an id of its own.
 */
static __always_inline __u64 gp_fresh(__u64 v)
{
	asm volatile("%[v] ^= 0" : [v] "+r"(v));
	return v;
}

/*
 * v = min(v, max) in a form every verifier tracks: a compare with an
 * immediate on v's own register. Written in C, clang may load max into a
 * register and compare two registers, which 6.1 cannot decide: it then
 * explores the unclamped path ("invalid access to map value, ... size=
 * 160976"). max must fit in an s32.
 */
#define GP_CLAMP(v, max)                                                    \
	asm volatile("if %[x] <= %[m] goto +1\n\t%[x] = %[m]"                 \
		     : [x] "+r"(v)                                          \
		     : [m] "i"(max))

#endif /* GILPROF_KCOMPAT_BPF_H */
