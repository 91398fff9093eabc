/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_MERGE_H
#define GP_MERGE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Merging a native stack with the Python frames the interpreter was running.
 *
 * Every native frame of the eval function (_PyEval_EvalFrameDefault) is one
 * C-level eval call; the Python frames of that call are the frames up to
 * and including the next entry frame (GP_FRAME_ENTRY). Replacing each eval
 * frame by its Python frames gives the true call order for
 * Python -> C -> Python chains. Pure logic over indices: no I/O.
 */

enum gp_native_kind {
	GP_NK_OTHER = 0,
	GP_NK_EVAL,        /* the interpreter's eval function */
	GP_NK_PLUMBING,    /* call machinery between frames: hidden by default */
};

struct gp_merge_in {
	/* native frames, innermost first */
	const uint8_t *native_kind;   /* enum gp_native_kind per frame */
	uint32_t nnative;
	bool native_complete;         /* unwound to the thread's first frame */
	/* Python frames, innermost first */
	const bool *py_entry;         /* outermost frame of its eval call */
	uint32_t npy;
	bool py_complete;             /* walked to the thread's first frame */
	bool show_plumbing;
};

enum gp_merge_item_kind {
	GP_MI_NATIVE = 0,       /* idx: native frame */
	GP_MI_PYTHON,           /* idx: Python frame */
	GP_MI_NATIVE_CUT,       /* marker: native frames missing here */
	GP_MI_PYTHON_CUT,       /* marker: Python frames missing here */
	GP_MI_MISMATCH,         /* marker at the root: stacks do not line up */
	GP_MI_NATIVE_PART,      /* marker: the unmerged native stack follows */
};

struct gp_merge_item {
	uint8_t kind;           /* enum gp_merge_item_kind */
	uint32_t idx;
};

/*
 * The merged stack, root first, into out[max] (max >= nnative + npy + 4
 * holds any result). When the number of eval frames and of eval calls in
 * the Python frames disagree (and neither walk was cut short, which
 * explains it), nothing is guessed: the result is the mismatch marker, the
 * Python frames, the native-part marker and the native frames, and
 * *mismatch is set. Returns the number of items.
 */
uint32_t gp_merge(const struct gp_merge_in *in, struct gp_merge_item *out, uint32_t max,
		  bool *mismatch);

#endif
