/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PROCINFO_H
#define GP_PROCINFO_H

#include <stdbool.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/targetmem.h"

/*
 * Fill in the addresses of proc that live in the main interpreter: its GIL
 * (embedded in _PyRuntime up to 3.11, behind interp->ceval.gil from 3.12)
 * and its gc.collecting flag. proc->runtime must be set. Fields that cannot
 * be found yet (the interpreter is created after a launched program starts)
 * stay 0. Returns true once every field is known.
 */
bool gp_procinfo_resolve(const struct py_layout *L, const struct gp_mem *mem,
			 struct gp_proc *proc);

#endif
