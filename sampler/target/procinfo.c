// SPDX-License-Identifier: BSD-2-Clause
/*
 * procinfo.c — the per-process addresses the BPF programs use to decide a
 * thread's GIL state: where the GIL is and where gc.collecting is. Found
 * from the layout row and the target's memory, so the kernel side never
 * chases these pointers itself.
 */
#include "procinfo.h"

/* Anything the target says is a pointer is checked before it is used. */
static bool plausible(uint64_t p)
{
	return p >= 4096 && !(p & 7) && p < (1ULL << 47);
}

bool gp_procinfo_resolve(const struct py_layout *L, const struct gp_mem *mem,
			 struct gp_proc *proc)
{
	uint64_t interp = 0, gil = 0;

	if (L->rt_gil >= 0)
		proc->gil = proc->runtime + (uint64_t)L->rt_gil;
	if (gp_mem_read_u64(mem, proc->runtime + (uint64_t)L->rt_interp_main, &interp) ||
	    !plausible(interp))
		return false;
	if (L->interp_gil_ptr >= 0 && !proc->gil &&
	    !gp_mem_read_u64(mem, interp + (uint64_t)L->interp_gil_ptr, &gil) && plausible(gil))
		proc->gil = gil;
	if (L->interp_gc_collecting >= 0)
		proc->gc_collecting = interp + (uint64_t)L->interp_gc_collecting;
	return proc->gil && (proc->gc_collecting || L->interp_gc_collecting < 0);
}
