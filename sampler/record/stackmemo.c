// SPDX-License-Identifier: BSD-2-Clause
/*
 * stackmemo.c — the recent stacks of a process and the locations they gave.
 *
 * Most records repeat a stack seen a moment ago: a thread that blocks in
 * the same call again, a loop sampled at the same line. Symbolizing one
 * costs a code-cache and a line lookup per frame (~300 instructions each);
 * finding it here costs a hash and a compare of the frames as the kernel
 * sent them (code object, instruction offset, first line, flags), which
 * decide the locations alone. An entry lasts only until the oldest of its
 * code objects is due for its re-check against target memory (pycode.c),
 * so an address reused by other code is noticed exactly as without it.
 * Direct-mapped: a new stack replaces whatever held its slot.
 */
#include "stackmemo.h"

#include <stdlib.h>
#include <string.h>

#define MIX 0x9e3779b97f4a7c15ULL

uint64_t gp_memo_hash(const struct gp_frame *f, uint32_t nframes, uint16_t walk_end)
{
	uint64_t h = (uint64_t)nframes << 16 | walk_end;

	for (uint32_t i = 0; i < nframes; i++) {
		h = (h ^ f[i].code) * MIX;
		h = (h ^ ((uint64_t)(uint32_t)f[i].lasti << 32 | (uint32_t)f[i].firstlineno)) * MIX;
		h ^= f[i].flags;
	}
	return h ^ h >> 29;
}

static struct gp_memo_slot *slot_of(struct gp_stack_memo *m, uint64_t hash)
{
	return &m->slots[hash & (GP_MEMO_SLOTS - 1)];
}

const struct gp_memo_slot *gp_memo_find(struct gp_stack_memo *m, const struct gp_frame *f,
					uint32_t nframes, uint16_t walk_end, uint64_t hash,
					uint64_t now_ns)
{
	const struct gp_memo_slot *e;

	if (!m->slots || nframes > GP_MEMO_MAX_FRAMES)
		return NULL;
	e = slot_of(m, hash);
	if (e->hash != hash || now_ns >= e->until_ns || e->nframes != nframes ||
	    e->walk_end != walk_end || memcmp(e->frames, f, nframes * sizeof(*f))) {
		m->misses++;
		return NULL;
	}
	m->hits++;
	return e;
}

void gp_memo_store(struct gp_stack_memo *m, const struct gp_frame *f, uint32_t nframes,
		   uint16_t walk_end, uint64_t hash, const uint32_t *locs, uint32_t nlocs,
		   uint32_t skipped, uint64_t until_ns)
{
	struct gp_memo_slot *e;
	uint32_t need = nframes > nlocs ? nframes : nlocs;

	if (nframes > GP_MEMO_MAX_FRAMES || nlocs > GP_MEMO_MAX_FRAMES + 1)
		return;
	if (!m->slots && !(m->slots = calloc(GP_MEMO_SLOTS, sizeof(*m->slots))))
		return;
	e = slot_of(m, hash);
	e->until_ns = 0;
	if (need > e->cap) {
		struct gp_frame *nf = realloc(e->frames, need * sizeof(*nf));
		uint32_t *nl;

		if (!nf)
			return;
		e->frames = nf;
		nl = realloc(e->locs, need * sizeof(*nl));
		if (!nl)
			return;
		e->locs = nl;
		e->cap = need;
	}
	memcpy(e->frames, f, nframes * sizeof(*f));
	memcpy(e->locs, locs, nlocs * sizeof(*locs));
	e->hash = hash;
	e->nframes = nframes;
	e->nlocs = nlocs;
	e->walk_end = walk_end;
	e->skipped = skipped;
	e->until_ns = until_ns;
}

void gp_memo_free(struct gp_stack_memo *m)
{
	if (m->slots)
		for (size_t i = 0; i < GP_MEMO_SLOTS; i++) {
			free(m->slots[i].frames);
			free(m->slots[i].locs);
		}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
