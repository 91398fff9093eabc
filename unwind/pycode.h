/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYCODE_H
#define GP_PYCODE_H

#include <stddef.h>
#include <stdint.h>
#include <uthash.h>

#include "targetmem.h"

struct py_layout;

/* Line tables larger than this are treated as unreadable. */
#define GP_LINETABLE_MAX (256u * 1024)
/* Code objects cached at once; the cache starts over when it is full. */
#define GP_CODE_CACHE_MAX 65536
/* Cached code objects are re-checked against target memory this often. */
#define GP_CODE_RECHECK_NS (2ULL * 1000 * 1000 * 1000)

/* One cached instruction offset -> line (and whatever the caller attaches). */
struct gp_lasti {
	int32_t lasti;
	int32_t line;
	uint32_t user; /* the symbolizer's location id, 0 = not yet assigned */
	UT_hash_handle hh;
};

struct gp_code {
	uint64_t addr;
	int32_t firstlineno;
	int32_t firsttraceable; /* code units; -1 if the version has none */
	char *name, *qualname, *filename;
	uint8_t *linetable;
	size_t linetable_len;
	uint64_t ptrs[3];       /* name, filename, line table: identity check */
	uint64_t checked_ns;
	uint32_t func_id;       /* the symbolizer's function id, 0 = not yet */
	struct gp_lasti *lines;
	size_t nlines;
	UT_hash_handle hh;
};

struct gp_code_cache {
	const struct py_layout *L;
	struct gp_mem mem;
	uint64_t code_type;     /* &PyCode_Type in the target */
	struct gp_code *by_addr;
	size_t count;
	uint64_t loads, reloads, failures, resets;
};

void gp_code_cache_init(struct gp_code_cache *c, const struct py_layout *L,
			struct gp_mem mem, uint64_t code_type);
void gp_code_cache_free(struct gp_code_cache *c);

/*
 * The code object at addr, read from the target on first use and again when
 * firstlineno (as seen by the sampler) or its identity pointers changed: code
 * objects are freed and their addresses reused. NULL if unreadable.
 */
struct gp_code *gp_code_get(struct gp_code_cache *c, uint64_t addr, int32_t firstlineno,
			    uint64_t now_ns);

/* Cached line entry for instruction byte offset lasti (created on first use). */
struct gp_lasti *gp_code_lasti(struct gp_code *code, int format, int32_t lasti);

/* Name to show: co_qualname when it ends in co_name, else co_name. */
const char *gp_code_display_name(const struct gp_code *code);

#endif
