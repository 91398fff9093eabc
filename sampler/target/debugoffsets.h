/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_DEBUGOFFSETS_H
#define GP_DEBUGOFFSETS_H

#include <stdint.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/pyobj.h"
#include "../../unwind/targetmem.h"

/* Largest _Py_DebugOffsets block read (3.13: 584 bytes, 3.14: 760, 3.15: 888). */
#define GP_DEBUG_BLOCK_MAX 4096

enum gp_dbg_verdict {
	GP_DBG_NONE = 0,      /* the row's version has no debug offsets (< 3.13) */
	GP_DBG_OK,            /* checked; *out holds the live offsets */
	GP_DBG_FREE_THREADED, /* the process is a free-threaded build */
	GP_DBG_MISMATCH,      /* reads would go wrong: why says what disagreed */
};

struct gp_dbg_report {
	uint32_t version;     /* the block's PY_VERSION_HEX (GP_DBG_OK) */
	unsigned int checked; /* offsets compared with the row */
	unsigned int differ;  /* of those, how many the process has elsewhere */
	char first_diff[64];  /* name of the first that differs */
	char why[192];        /* for GP_DBG_MISMATCH */
};

/*
 * Reads the _Py_DebugOffsets block at the start of _PyRuntime (3.13+) and
 * checks it against the generated row: the cookie, the version, the build
 * kind and the sizes of the structures whose undescribed fields the sampler
 * reads must agree; every offset it describes is bounds-checked and then
 * used in *out (a copy of row) in place of the row's value. The process's
 * sys.modules offset replaces obj's (the object row), unless obj is NULL.
 * On any verdict but GP_DBG_OK, *out is row and *obj is left as it was.
 */
enum gp_dbg_verdict gp_debug_offsets_apply(const struct py_layout *row, const struct gp_mem *m,
					   uint64_t runtime, struct py_layout *out,
					   struct py_objlayout *obj, struct gp_dbg_report *r);

#endif
