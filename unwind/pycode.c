// SPDX-License-Identifier: BSD-2-Clause
/*
 * pycode.c — code objects of the target: name, qualified name, file name
 * and line table, read once and cached by address. Entries are checked
 * against the first line number the sampler saw and, every few seconds,
 * against the object's own pointers, because code objects die and their
 * addresses are reused by other code.
 */
#include "pycode.h"

#include <stdlib.h>
#include <string.h>

#include "../bpf/gilprof.h"
#include "linetable.h"
#include "pystr.h"

#define CODE_HDR_MAX 512
#define NAME_MAX_UTF8 (GP_STR_MAX_CHARS * 4 + 1)
/* Distinct instruction offsets remembered per code object. */
#define LINES_MAX 4096

void gp_code_cache_init(struct gp_code_cache *c, const struct py_layout *L,
			struct gp_mem mem, uint64_t code_type)
{
	memset(c, 0, sizeof(*c));
	c->L = L;
	c->mem = mem;
	c->code_type = code_type;
}

static void free_lines(struct gp_code *code)
{
	struct gp_lasti *e, *tmp;

	HASH_ITER(hh, code->lines, e, tmp) {
		HASH_DEL(code->lines, e);
		free(e);
	}
	code->nlines = 0;
}

static void clear_code(struct gp_code *code)
{
	free(code->name);
	free(code->qualname);
	free(code->filename);
	free(code->linetable);
	free_lines(code);
	code->name = code->qualname = code->filename = NULL;
	code->linetable = NULL;
	code->linetable_len = 0;
	code->func_id = 0;
}

void gp_code_cache_free(struct gp_code_cache *c)
{
	struct gp_code *e, *tmp;

	HASH_ITER(hh, c->by_addr, e, tmp) {
		HASH_DEL(c->by_addr, e);
		clear_code(e);
		free(e);
	}
	c->count = 0;
}

static uint64_t hdr_u64(const uint8_t *hdr, int32_t off)
{
	uint64_t v;

	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

static int32_t hdr_s32(const uint8_t *hdr, int32_t off)
{
	int32_t v;

	memcpy(&v, hdr + off, sizeof(v));
	return v;
}

static char *read_name(struct gp_code_cache *c, uint64_t addr)
{
	char buf[NAME_MAX_UTF8];

	if (!addr || gp_read_pystr(c->L, &c->mem, addr, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

static int read_linetable(struct gp_code_cache *c, struct gp_code *code, uint64_t bytes)
{
	uint64_t size;

	if (!bytes || gp_mem_read_u64(&c->mem, bytes + c->L->bytes_size, &size) ||
	    size > GP_LINETABLE_MAX)
		return -1;
	code->linetable = malloc(size ? size : 1);
	if (!code->linetable)
		return -1;
	if (gp_mem_read(&c->mem, bytes + c->L->bytes_data, code->linetable, size))
		return -1;
	code->linetable_len = size;
	return 0;
}

static int read_header(struct gp_code_cache *c, uint64_t addr, uint8_t *hdr)
{
	size_t size = (size_t)c->L->code_size;

	if (size > CODE_HDR_MAX || gp_mem_read(&c->mem, addr, hdr, size))
		return -1;
	if (hdr_u64(hdr, c->L->ob_type) != c->code_type)
		return -1;
	return 0;
}

static int load_code(struct gp_code_cache *c, struct gp_code *code)
{
	const struct py_layout *L = c->L;
	uint8_t hdr[CODE_HDR_MAX];

	clear_code(code);
	if (read_header(c, code->addr, hdr))
		return -1;
	code->firstlineno = hdr_s32(hdr, L->code_firstlineno);
	code->firsttraceable = L->code_firsttraceable >= 0 ? hdr_s32(hdr, L->code_firsttraceable)
							    : -1;
	code->ptrs[0] = hdr_u64(hdr, L->code_name);
	code->ptrs[1] = hdr_u64(hdr, L->code_filename);
	code->ptrs[2] = hdr_u64(hdr, L->code_linetable);
	code->name = read_name(c, code->ptrs[0]);
	code->filename = read_name(c, code->ptrs[1]);
	if (L->code_qualname >= 0)
		code->qualname = read_name(c, hdr_u64(hdr, L->code_qualname));
	if (!code->name || !code->filename)
		return -1;
	/* A code object without a readable line table still has a name. */
	if (read_linetable(c, code, code->ptrs[2])) {
		free(code->linetable);
		code->linetable = NULL;
		code->linetable_len = 0;
	}
	return 0;
}

/*
 * Same object as when it was loaded? One read of its header. When it
 * cannot be read at all the process is gone (samples are read after the
 * target exited): the entry stands, since the sample's firstlineno, read
 * while the process lived, still matched it.
 */
static int still_same(struct gp_code_cache *c, const struct gp_code *code)
{
	const struct py_layout *L = c->L;
	uint8_t hdr[CODE_HDR_MAX];

	if (read_header(c, code->addr, hdr))
		return 1;
	return hdr_u64(hdr, L->code_name) == code->ptrs[0] &&
	       hdr_u64(hdr, L->code_filename) == code->ptrs[1] &&
	       hdr_u64(hdr, L->code_linetable) == code->ptrs[2] &&
	       hdr_s32(hdr, L->code_firstlineno) == code->firstlineno;
}

static struct gp_code *insert(struct gp_code_cache *c, uint64_t addr)
{
	struct gp_code *code;

	if (c->count >= GP_CODE_CACHE_MAX) {
		gp_code_cache_free(c);
		c->resets++;
	}
	code = calloc(1, sizeof(*code));
	if (!code)
		return NULL;
	code->addr = addr;
	HASH_ADD(hh, c->by_addr, addr, sizeof(code->addr), code);
	c->count++;
	return code;
}

static void drop(struct gp_code_cache *c, struct gp_code *code)
{
	HASH_DEL(c->by_addr, code);
	clear_code(code);
	free(code);
	c->count--;
}

struct gp_code *gp_code_get(struct gp_code_cache *c, uint64_t addr, int32_t firstlineno,
			    uint64_t now_ns)
{
	struct gp_code *code;

	HASH_FIND(hh, c->by_addr, &addr, sizeof(addr), code);
	if (code) {
		if (code->firstlineno == firstlineno &&
		    now_ns - code->checked_ns < GP_CODE_RECHECK_NS)
			return code;
		if (code->firstlineno == firstlineno && still_same(c, code)) {
			code->checked_ns = now_ns;
			return code;
		}
		c->reloads++;
	} else {
		code = insert(c, addr);
		if (!code)
			return NULL;
		c->loads++;
	}
	if (load_code(c, code)) {
		c->failures++;
		drop(c, code);
		return NULL;
	}
	code->checked_ns = now_ns;
	return code;
}

struct gp_lasti *gp_code_lasti(struct gp_code *code, int format, int32_t lasti)
{
	struct gp_lasti *e;

	HASH_FIND(hh, code->lines, &lasti, sizeof(lasti), e);
	if (e)
		return e;
	if (code->nlines >= LINES_MAX)
		free_lines(code);
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->lasti = lasti;
	e->line = gp_line_for(format, code->linetable, code->linetable_len, code->firstlineno,
			      lasti);
	HASH_ADD(hh, code->lines, lasti, sizeof(e->lasti), e);
	code->nlines++;
	return e;
}

const char *gp_code_display_name(const struct gp_code *code)
{
	size_t qn, n;

	if (!code->qualname)
		return code->name;
	qn = strlen(code->qualname);
	n = strlen(code->name);
	if (qn == n && !strcmp(code->qualname, code->name))
		return code->qualname;
	if (qn > n && code->qualname[qn - n - 1] == '.' &&
	    !strcmp(code->qualname + qn - n, code->name))
		return code->qualname;
	return code->name;
}
