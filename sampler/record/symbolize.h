/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_SYMBOLIZE_H
#define GP_SYMBOLIZE_H

#include <stdint.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/pycode.h"
#include "../account/profile.h"
#include "stackmemo.h"

/*
 * Locations per stack: the Python frames, native and kernel frames
 * (unwind/native.h's GP_MAX_NATIVE_FRAMES, GP_MAX_KERNEL_FRAMES), markers.
 */
#define GP_STACK_MAX (GP_MAX_FRAMES + 256 + GP_MAX_KERNEL_FRAMES + 16)

enum gp_marker {
	GP_MARK_NO_TSTATE,   /* thread has no PyThreadState */
	GP_MARK_NO_FRAME,    /* thread state, but no Python frame running */
	GP_MARK_TRUNCATED,   /* deeper than the frame limit: outer frames lost */
	GP_MARK_READ_FAULT,  /* frame memory unreadable: outer frames lost */
	GP_MARK_LOOP,        /* frame chain loops: outer frames lost */
	GP_MARK_GARBAGE,     /* frames hold garbage: outer frames lost */
	GP_MARK_NO_BASE,     /* chain ended before the base frame (3.15+) */
	GP_MARK_BAD_CODE,    /* a frame's code object could not be read */
	GP_MARK_NATIVE_CUT,  /* native unwinding stopped early: frames missing */
	GP_MARK_NO_NATIVE,   /* the sample has no copy of the native stack */
	GP_MARK_MISMATCH,    /* native and Python stacks do not line up */
	GP_MARK_NATIVE_PART, /* in a mismatch: the native stack follows */
	GP_MARK__MAX,
};

struct gp_symbolizer {
	struct gp_profile *prof;
	const struct py_layout *L;
	struct gp_code_cache codes;
	uint32_t markers[GP_MARK__MAX]; /* location ids, made on first use */
	uint32_t max_frames;
	uint64_t frames_skipped;        /* incomplete frames dropped */
	struct gp_stack_memo memo;      /* recent stacks (stackmemo.c) */
	/* Of the frames symbolized since gp_symbolize_python began: */
	uint64_t oldest_check_ns;       /* the oldest code-object check */
	bool uncacheable;               /* a code object unreadable, or out of memory */
};

void gp_symbolizer_init(struct gp_symbolizer *s, struct gp_profile *prof,
			const struct py_layout *L, struct gp_mem mem, uint64_t code_type,
			uint32_t max_frames);
void gp_symbolizer_free(struct gp_symbolizer *s);

/* Longest loop (in frames) whose repeated copies are trimmed. */
#define GP_LOOP_TRIM_PERIOD 64

/* Frames of a looping chain (innermost first) to keep: one turn of the loop. */
uint32_t gp_loop_trim(const struct gp_frame *f, uint32_t n);

/*
 * Locations of sample's Python stack, root first, into locs[GP_STACK_MAX].
 * Returns the count. Never fails: what cannot be read becomes a marker.
 */
uint32_t gp_symbolize_python(struct gp_symbolizer *s, const struct gp_sample *sample,
			     uint64_t now_ns, uint32_t *locs);

/*
 * Location of one Python frame; a marker if its code object is unreadable,
 * 0 if the frame is not shown (pushed but not started yet).
 */
uint32_t gp_symbolize_frame(struct gp_symbolizer *s, const struct gp_frame *f, uint64_t now_ns);

/* Location of a marker frame (made on first use); 0 on allocation failure. */
uint32_t gp_symbolizer_marker(struct gp_symbolizer *s, enum gp_marker m);

/* Marker for how a Python walk ended early (enum gp_walk_end); 0 if it did not. */
uint32_t gp_symbolizer_walk_end(struct gp_symbolizer *s, uint16_t walk_end);

#endif
