// SPDX-License-Identifier: BSD-2-Clause
/*
 * record_cost — the user-space cost of one sample record, from the record
 * to its count in the profile (symbolization and aggregation, as
 * session.c does them for a Python-only sample), on a synthetic stream:
 *
 *   record_cost N [THREADS] [DEPTH]
 *
 * Code objects stand in fake target memory (the 3.12 layout); N records
 * come from THREADS threads (default 8), each with 16 stacks DEPTH frames
 * deep (default 30) that share their outer frames, and a thread repeats
 * its previous stack 7 times out of 10 (a thread blocked or looping in the
 * same place), as a deterministic sequence, 10 us apart. Prints the stacks
 * and samples aggregated. Instructions per record: callgrind's totals of
 * two runs, their difference over the difference of their record counts:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null record_cost 0
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null record_cost 200000
 *
 * (9,900 per record before the memo of recent stacks and the profile's
 * own stack hash, 1,990 after, at the defaults.)
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyversion.h"
#include "symbolize.h"
#include "../unit/fake_target.h"

#define BASE 0x100000
#define MEMSZ (1u << 20)
#define CODE_TYPE 0xc0de
#define NCODES 256
#define CODE_SPAN 0x200
#define STRS (BASE + NCODES * CODE_SPAN)
#define STACKS_PER_THREAD 16

static uint8_t mem[MEMSZ];
static struct fake_target fake = { mem, BASE, STRS, NULL };

static uint64_t code_addr(unsigned int i)
{
	return BASE + (uint64_t)i * CODE_SPAN;
}

/* A code object with 8 lines (2 code units each) from line 10 * i. */
static void code_obj(const struct py_layout *L, unsigned int i)
{
	uint8_t tab[16];
	char name[32];
	uint64_t at = code_addr(i);

	for (int k = 0; k < 8; k++) {
		tab[2 * k] = 0x80 | 13 << 3 | 1; /* no column, 2 units */
		tab[2 * k + 1] = k ? 2 : 0;      /* line +1 (zigzag), first +0 */
	}
	snprintf(name, sizeof(name), "func_%u", i);
	fake_put64(&fake, at + L->ob_type, CODE_TYPE);
	fake_put32(&fake, at + L->code_firstlineno, (int32_t)(10 * i + 1));
	fake_put32(&fake, at + L->code_firsttraceable, 0);
	fake_put64(&fake, at + L->code_name, fake_ascii_str(&fake, name));
	fake_put64(&fake, at + L->code_qualname, fake_ascii_str(&fake, name));
	fake_put64(&fake, at + L->code_filename, fake_ascii_str(&fake, "app.py"));
	fake_put64(&fake, at + L->code_linetable, fake_bytes(&fake, tab, sizeof(tab)));
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Stack k of thread t: shared outer frames, then the thread's own. */
static void fill_stack(struct gp_sample *s, unsigned int t, unsigned int k, unsigned int depth)
{
	s->nframes = (uint16_t)depth;
	for (unsigned int d = 0; d < depth; d++) {
		/* frames[] is innermost first: d = depth - 1 is the root. */
		unsigned int outer = depth - 1 - d;
		unsigned int code = outer < depth / 2 ? outer % NCODES
						       : (t * 31 + k * 7 + outer) % NCODES;

		s->frames[d] = (struct gp_frame){ .code = code_addr(code),
						  .lasti = (int32_t)(2 * ((k + d) % 8)),
						  .firstlineno = (int32_t)(10 * code + 1) };
	}
}

/* The session's path for a Python-only sample in cpu mode (session.c, handle_record). */
static int aggregate(struct gp_profile *prof, struct gp_symbolizer *sym, const struct gp_sample *s,
		     uint64_t now, uint32_t *locs)
{
	struct gp_thread *th = gp_profile_thread(prof, (pid_t)s->pid, (pid_t)s->tid);
	uint32_t n;

	if (!th)
		return -1;
	n = gp_symbolize_python(sym, s, now, locs);
	return gp_profile_add(prof, th->idx, GP_STATE_HOLDING, false, locs, n, 1, prof->period_ns,
			      prof->period_ns);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 0;
	unsigned int threads = argc > 2 ? (unsigned int)atoi(argv[2]) : 8;
	unsigned int depth = argc > 3 ? (unsigned int)atoi(argv[3]) : 30;
	struct gp_mem_buf membuf = { BASE, mem, MEMSZ };
	struct gp_sample **stacks;
	unsigned int *last;
	static uint32_t locs[GP_STACK_MAX];
	const struct py_layout *L = gp_layout_for(0x030c0000, false);
	struct gp_symbolizer sym;
	struct gp_profile prof;

	if (argc < 2 || !threads || !depth || depth > GP_MAX_FRAMES || !L) {
		fprintf(stderr, "usage: record_cost N [THREADS] [DEPTH<=%d]\n", GP_MAX_FRAMES);
		return 2;
	}
	stacks = calloc((size_t)threads * STACKS_PER_THREAD, sizeof(*stacks));
	last = calloc(threads, sizeof(*last));
	if (!stacks || !last)
		return 1;
	fake.L = L;
	for (unsigned int i = 0; i < NCODES; i++)
		code_obj(L, i);
	/* The records, made before: the loop below costs what gil-prof does. */
	for (unsigned int t = 0; t < threads; t++)
		for (unsigned int k = 0; k < STACKS_PER_THREAD; k++) {
			struct gp_sample *s = calloc(1, GP_SAMPLE_HDR_SIZE +
							       depth * sizeof(struct gp_frame));

			if (!s)
				return 1;
			s->type = GP_EV_SAMPLE;
			s->pid = 1000;
			s->tid = 1000 + t;
			s->flags = GP_SAMPLE_HAS_TSTATE;
			s->gil = GP_GIL_HOLDING;
			s->walk_end = GP_WALK_COMPLETE;
			fill_stack(s, t, k, depth);
			stacks[t * STACKS_PER_THREAD + k] = s;
		}
	gp_profile_init(&prof);
	prof.period_ns = 10000000;
	gp_symbolizer_init(&sym, &prof, L, gp_mem_buffer(&membuf), CODE_TYPE, GP_MAX_FRAMES);
	for (unsigned long i = 0; i < n; i++) {
		unsigned int t = next_rand() % threads;
		uint64_t now = 1000 + i * 10000; /* 10 us apart */

		if (next_rand() % 10 >= 7)
			last[t] = next_rand() % STACKS_PER_THREAD;
		if (aggregate(&prof, &sym, stacks[t * STACKS_PER_THREAD + last[t]], now, locs))
			return 1;
	}
	printf("%lu records, %zu threads, %zu stacks, %" PRIu64 " samples, %" PRIu64
	       " found in the memo of recent stacks\n",
	       n, prof.nthreads, prof.nstacks, prof.samples, sym.memo.hits);
	gp_symbolizer_free(&sym);
	gp_profile_free(&prof);
	for (unsigned int i = 0; i < threads * STACKS_PER_THREAD; i++)
		free(stacks[i]);
	free(stacks);
	free(last);
	return 0;
}
