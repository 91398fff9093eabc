// SPDX-License-Identifier: BSD-2-Clause
/*
 * symbolize.c — Python frames of a sample (code object + instruction offset,
 * as the BPF program copied them) to profile locations: function name, file
 * and the line being executed.
 */
#include "symbolize.h"

#include <stdio.h>
#include <string.h>

void gp_symbolizer_init(struct gp_symbolizer *s, struct gp_profile *prof,
			const struct py_layout *L, struct gp_mem mem, uint64_t code_type,
			uint32_t max_frames)
{
	memset(s, 0, sizeof(*s));
	s->prof = prof;
	s->L = L;
	s->max_frames = max_frames;
	gp_code_cache_init(&s->codes, L, mem, code_type);
}

void gp_symbolizer_free(struct gp_symbolizer *s)
{
	gp_code_cache_free(&s->codes);
	gp_memo_free(&s->memo);
}

uint32_t gp_symbolizer_marker(struct gp_symbolizer *s, enum gp_marker m)
{
	char name[96];
	uint32_t func;

	if (s->markers[m])
		return s->markers[m];
	switch (m) {
	case GP_MARK_NO_TSTATE:
		snprintf(name, sizeof(name), "[no Python thread state]");
		break;
	case GP_MARK_NO_FRAME:
		snprintf(name, sizeof(name), "[no Python frame]");
		break;
	case GP_MARK_TRUNCATED:
		snprintf(name, sizeof(name), "[truncated: deeper than %u frames]",
			 s->max_frames);
		break;
	case GP_MARK_READ_FAULT:
		snprintf(name, sizeof(name), "[stack cut: unreadable frame]");
		break;
	case GP_MARK_LOOP:
		snprintf(name, sizeof(name), "[stack cut: frame chain loops]");
		break;
	case GP_MARK_GARBAGE:
		snprintf(name, sizeof(name), "[stack cut: garbage frame]");
		break;
	case GP_MARK_NO_BASE:
		snprintf(name, sizeof(name), "[stack cut: chain ends before the base frame]");
		break;
	case GP_MARK_NATIVE_CUT:
		snprintf(name, sizeof(name), "[native stack cut]");
		break;
	case GP_MARK_NO_NATIVE:
		snprintf(name, sizeof(name), "[no native stack]");
		break;
	case GP_MARK_MISMATCH:
		snprintf(name, sizeof(name), "[unmerged: native and Python stacks disagree]");
		break;
	case GP_MARK_NATIVE_PART:
		snprintf(name, sizeof(name), "[native stack]");
		break;
	default:
		snprintf(name, sizeof(name), "[unreadable code object]");
		break;
	}
	func = gp_profile_function(s->prof, GP_FUNC_MARKER, name, name, "", 0);
	if (func)
		s->markers[m] = gp_profile_location(s->prof, func, 0, 0, 0);
	return s->markers[m];
}

/* A frame pushed but not yet started (before its RESUME) is not shown. */
static int incomplete(const struct gp_code *code, const struct gp_frame *f)
{
	if (code->firsttraceable < 0 || (f->flags & GP_FRAME_GENERATOR))
		return 0;
	return f->lasti < 0 || f->lasti / 2 < code->firsttraceable;
}

static uint32_t python_location(struct gp_symbolizer *s, struct gp_code *code,
				const struct gp_frame *f)
{
	struct gp_lasti *e = gp_code_lasti(code, s->L->code_linetable_format, f->lasti);

	if (!e)
		return 0;
	if (e->user)
		return e->user;
	if (!code->func_id)
		code->func_id = gp_profile_function(s->prof, GP_FUNC_PYTHON,
						    gp_code_display_name(code), code->name,
						    code->filename, code->firstlineno);
	if (!code->func_id)
		return 0;
	e->user = gp_profile_location(s->prof, code->func_id, e->line > 0 ? e->line : 0, 0, 0);
	return e->user;
}

uint32_t gp_symbolizer_walk_end(struct gp_symbolizer *s, uint16_t end)
{
	switch (end) {
	case GP_WALK_DEPTH:
		return gp_symbolizer_marker(s, GP_MARK_TRUNCATED);
	case GP_WALK_READ_FAULT:
		return gp_symbolizer_marker(s, GP_MARK_READ_FAULT);
	case GP_WALK_LOOP:
		return gp_symbolizer_marker(s, GP_MARK_LOOP);
	case GP_WALK_BAD_CODE:
		return gp_symbolizer_marker(s, GP_MARK_GARBAGE);
	case GP_WALK_NO_BASE:
		return gp_symbolizer_marker(s, GP_MARK_NO_BASE);
	default:
		return 0;
	}
}

static int same_frame(const struct gp_frame *a, const struct gp_frame *b)
{
	return a->code == b->code && a->lasti == b->lasti && a->flags == b->flags;
}

/*
 * A chain that loops is caught a cycle or two after it closes (Brent's
 * check in the BPF walk), so the frames of the loop were copied more than
 * once. Keep one turn: for each period p, find where the frames start
 * repeating with that period up to the end; where at least one frame
 * repeats, everything after the first turn is a copy. The shortest stack
 * kept wins.
 */
uint32_t gp_loop_trim(const struct gp_frame *f, uint32_t n)
{
	uint32_t best = n;

	for (uint32_t p = 1; p <= GP_LOOP_TRIM_PERIOD && 2 * p <= n; p++) {
		uint32_t s = n - p; /* periodic from s on */

		while (s > 0 && same_frame(&f[s - 1], &f[s - 1 + p]))
			s--;
		if (n - s > p && s + p < best)
			best = s + p;
	}
	return best;
}

uint32_t gp_symbolize_frame(struct gp_symbolizer *s, const struct gp_frame *f, uint64_t now_ns)
{
	struct gp_code *code = gp_code_get(&s->codes, f->code, f->firstlineno, now_ns);
	uint32_t loc;

	if (!code) {
		s->uncacheable = true; /* it may be readable next time */
		return gp_symbolizer_marker(s, GP_MARK_BAD_CODE);
	}
	if (code->checked_ns < s->oldest_check_ns)
		s->oldest_check_ns = code->checked_ns;
	if (incomplete(code, f)) {
		s->frames_skipped++;
		return 0;
	}
	loc = python_location(s, code, f);
	if (!loc)
		s->uncacheable = true;
	return loc;
}

uint32_t gp_symbolize_python(struct gp_symbolizer *s, const struct gp_sample *sample,
			     uint64_t now_ns, uint32_t *locs)
{
	uint32_t n = 0, nframes = sample->nframes, m;
	const struct gp_memo_slot *seen;
	uint64_t skipped0 = s->frames_skipped, hash;

	if (!(sample->flags & GP_SAMPLE_HAS_TSTATE)) {
		locs[n++] = gp_symbolizer_marker(s, GP_MARK_NO_TSTATE);
		return locs[0] ? 1 : 0;
	}
	if (nframes > GP_MAX_FRAMES)
		nframes = GP_MAX_FRAMES;
	if (sample->walk_end == GP_WALK_LOOP)
		nframes = gp_loop_trim(sample->frames, nframes);
	/* The same frames a moment ago: the same locations (stackmemo.c). */
	hash = gp_memo_hash(sample->frames, nframes, sample->walk_end);
	seen = gp_memo_find(&s->memo, sample->frames, nframes, sample->walk_end, hash, now_ns);
	if (seen) {
		memcpy(locs, seen->locs, seen->nlocs * sizeof(*locs));
		s->frames_skipped += seen->skipped;
		return seen->nlocs;
	}
	s->oldest_check_ns = UINT64_MAX;
	s->uncacheable = false;
	/* Outer frames were lost: say so at the root. */
	m = gp_symbolizer_walk_end(s, sample->walk_end);
	if (m)
		locs[n++] = m;
	/* frames[] is innermost first; profiles are root first. */
	for (uint32_t i = nframes; i-- > 0;) {
		uint32_t loc = gp_symbolize_frame(s, &sample->frames[i], now_ns);

		if (loc)
			locs[n++] = loc;
	}
	if (!n) {
		m = gp_symbolizer_marker(s, GP_MARK_NO_FRAME);
		if (m)
			locs[n++] = m;
	}
	/* Valid until its oldest code object is due for a re-check. */
	if (nframes && !s->uncacheable && s->oldest_check_ns != UINT64_MAX)
		gp_memo_store(&s->memo, sample->frames, nframes, sample->walk_end, hash, locs, n,
			      (uint32_t)(s->frames_skipped - skipped0),
			      s->oldest_check_ns + GP_CODE_RECHECK_NS);
	return n;
}
