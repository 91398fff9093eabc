/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_NATIVESTACK_H
#define GP_NATIVESTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/elfcache.h"
#include "../../unwind/kallsyms.h"
#include "symbolize.h"

/* Per-sample cost histogram: 0.25 µs buckets up to 10 ms, then one more. */
#define GP_COST_BUCKETS 40001

/* What happened to the native stacks of a recording (for the summary). */
struct gp_native_stats {
	uint64_t samples;        /* samples with a native trailer */
	uint64_t unwound;        /* ... whose user stack was unwound */
	uint64_t complete;       /* ... to the thread's first frame */
	uint64_t no_copy;        /* no stack copy (see the BPF counters) */
	uint64_t mismatched;     /* native and Python frames did not line up */
	uint64_t malformed;      /* trailer did not fit the record */
	uint64_t frames;         /* native frames unwound */
	uint64_t refreshes;      /* mappings re-read (new libraries) */
	uint64_t by_rules;       /* unwound from cached CFI rules */
	uint64_t by_libdw;       /* ... frame by frame through libdw */
	double median_us, p99_us, max_us; /* user-space cost per sample */
};

struct gp_native_proc;
struct gp_kpc_entry;
struct gp_func_loc;
struct gp_merge_scratch;

/* The native half of the symbolizer: unwinding, native names, merging. */
struct gp_native_ctx {
	struct gp_symbolizer *sym;
	struct gp_profile *prof;
	bool user;               /* user stacks (--native) */
	bool kernel;             /* kernel frames (--kernel) */
	bool show_plumbing;      /* --native-all */
	struct gp_elf_cache files;
	struct gp_kallsyms ksyms;
	struct gp_kpc_entry *kpcs; /* kernel pc -> location */
	struct gp_func_loc *func_locs; /* native/kernel function -> its location */
	struct gp_native_proc *procs;
	uint32_t *cost_hist;     /* GP_COST_BUCKETS */
	struct gp_merge_scratch *scratch;
	struct gp_native_stats stats;
};

int gp_native_init(struct gp_native_ctx *c, struct gp_symbolizer *sym, bool user, bool kernel,
		   bool show_plumbing);
void gp_native_free(struct gp_native_ctx *c);

/*
 * The whole stack of a sample with a native trailer (GP_SAMPLE_HAS_NATIVE;
 * size is the record's), root first, into locs[GP_STACK_MAX]: Python and
 * native frames merged in call order, kernel frames at the leaf. Never
 * fails: what cannot be unwound or named becomes a marker or module+offset.
 */
uint32_t gp_native_symbolize(struct gp_native_ctx *c, const struct gp_sample *s, size_t size,
			     uint64_t now_ns, uint32_t *locs);

/* Fill c->stats' cost percentiles; returns the stats. */
const struct gp_native_stats *gp_native_finish(struct gp_native_ctx *c);

/* One line of advice per notable count (called with the recording's BPF counters). */
void gp_native_advise(const struct gp_native_stats *st, const uint64_t *counters);

#endif
