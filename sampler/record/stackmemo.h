/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_STACKMEMO_H
#define GP_STACKMEMO_H

#include <stdint.h>

#include "../../bpf/gilprof.h"

/* Recent stacks remembered per process: a power of two. */
#define GP_MEMO_SLOTS 256
/* Deeper stacks are symbolized each time (bounds the memo's memory). */
#define GP_MEMO_MAX_FRAMES 256

/* One remembered stack: the frames as sent and the locations they gave. */
struct gp_memo_slot {
	uint64_t hash;
	uint64_t until_ns;       /* valid before this (the code objects' next re-check); 0: empty */
	struct gp_frame *frames; /* nframes, as the record had them */
	uint32_t *locs;          /* nlocs, root first */
	uint32_t nframes, nlocs, cap;
	uint32_t skipped;        /* incomplete frames left out of locs */
	uint16_t walk_end;
};

struct gp_stack_memo {
	struct gp_memo_slot *slots; /* GP_MEMO_SLOTS, allocated on first store */
	uint64_t hits, misses;
};

uint64_t gp_memo_hash(const struct gp_frame *f, uint32_t nframes, uint16_t walk_end);
/* The slot remembering exactly these frames, valid at now_ns; NULL if none. */
const struct gp_memo_slot *gp_memo_find(struct gp_stack_memo *m, const struct gp_frame *f,
					uint32_t nframes, uint16_t walk_end, uint64_t hash,
					uint64_t now_ns);
/* Remember what the frames gave until until_ns (nothing if out of memory). */
void gp_memo_store(struct gp_stack_memo *m, const struct gp_frame *f, uint32_t nframes,
		   uint16_t walk_end, uint64_t hash, const uint32_t *locs, uint32_t nlocs,
		   uint32_t skipped, uint64_t until_ns);
void gp_memo_free(struct gp_stack_memo *m);

#endif
