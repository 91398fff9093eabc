/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_SYMBOLIZE_H
#define GP_SYMBOLIZE_H

#include <stdint.h>

#include "../bpf/gilprof.h"
#include "../unwind/pycode.h"
#include "profile.h"

/* Locations per stack: the Python frames plus a few markers. */
#define GP_STACK_MAX (GP_MAX_FRAMES + 8)

enum gp_marker {
	GP_MARK_NO_TSTATE,   /* thread has no PyThreadState */
	GP_MARK_NO_FRAME,    /* thread state, but no Python frame running */
	GP_MARK_TRUNCATED,   /* deeper than the frame limit: outer frames lost */
	GP_MARK_READ_FAULT,  /* frame memory unreadable: outer frames lost */
	GP_MARK_LOOP,        /* frame chain loops: outer frames lost */
	GP_MARK_GARBAGE,     /* frames hold garbage: outer frames lost */
	GP_MARK_BAD_CODE,    /* a frame's code object could not be read */
	GP_MARK__MAX,
};

struct gp_symbolizer {
	struct gp_profile *prof;
	const struct py_layout *L;
	struct gp_code_cache codes;
	uint32_t markers[GP_MARK__MAX]; /* location ids, made on first use */
	uint32_t max_frames;
	uint64_t frames_skipped;        /* incomplete frames dropped */
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

#endif
