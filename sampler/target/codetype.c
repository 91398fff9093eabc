// SPDX-License-Identifier: BSD-2-Clause
/*
 * codetype.c — PyCode_Type without symbols. The BPF walk checks each
 * frame's code object against &PyCode_Type; a binary stripped of its
 * exports (3.14+ still has _PyRuntime in its .PyRuntime section) gives no
 * address for it, so it is read off the target itself:
 *
 *   _PyRuntime -> main interpreter -> each thread state -> its frames ->
 *   the frame's code reference -> ob_type, whose tp_name is "code"
 *
 * Every read is bounded and checked; a torn chain just ends the search.
 */
#include "codetype.h"

#include "../../bpf/gilprof.h"
#include "../../unwind/pylocals.h"

#define MAX_THREADS 256
#define MAX_FRAMES 64

/* The code type seen in the chain of frames from frame, or 0. */
static uint64_t from_frames(const struct gp_pyobj *r, uint64_t frame)
{
	const struct py_layout *L = r->L;
	uint64_t code, type;

	for (int i = 0; i < MAX_FRAMES && frame; i++) {
		if (gp_mem_read_u64(&r->mem, frame + (uint64_t)L->frame_code, &code))
			return 0;
		code &= ~(uint64_t)L->frame_code_tag_bits;
		if (code && !gp_mem_read_u64(&r->mem, code + (uint64_t)L->ob_type, &type) &&
		    gp_pyobj_type_is(r, code, "code"))
			return type;
		if (gp_mem_read_u64(&r->mem, frame + (uint64_t)L->frame_previous, &frame))
			return 0;
	}
	return 0;
}

uint64_t gp_find_code_type(const struct gp_pyobj *r, uint64_t runtime)
{
	const struct py_layout *L = r->L;
	uint64_t interp, ts, type;

	if (gp_mem_read_u64(&r->mem, runtime + (uint64_t)L->rt_interp_main, &interp) || !interp ||
	    gp_mem_read_u64(&r->mem, interp + (uint64_t)L->interp_threads_head, &ts))
		return 0;
	for (int i = 0; i < MAX_THREADS && ts; i++) {
		type = from_frames(r, gp_pythread_frame(r, ts));
		if (type)
			return type;
		if (gp_mem_read_u64(&r->mem, ts + (uint64_t)L->ts_next, &ts))
			return 0;
	}
	return 0;
}
