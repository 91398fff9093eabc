// SPDX-License-Identifier: BSD-2-Clause
/*
 * symtab.c — function symbols of an ELF file for address lookups. The file
 * comes from the target (possibly hostile): libelf bounds the parsing, and
 * every entry is checked before it is used.
 */
#include "symtab.h"

#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct raw_sym {
	uint64_t start, size;
	uint32_t name;
	uint8_t bind;
};

static Elf_Scn *find_section(Elf *e, Elf64_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, sh) && sh->sh_type == type && sh->sh_entsize &&
		    sh->sh_size / sh->sh_entsize > 1)
			return scn;
	return NULL;
}

static int read_syms(struct gp_symtab *t, Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
		     struct raw_sym **out, size_t *nout)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count, n = 0;
	struct raw_sym *v;

	*out = NULL;
	*nout = 0;
	if (!data)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	v = calloc(count ? count : 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 1; i < count; i++) {
		const char *name;
		GElf_Sym s;
		int type;

		if (!gelf_getsym(data, (int)i, &s) || !s.st_name || s.st_shndx == SHN_UNDEF ||
		    !s.st_value)
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type != STT_FUNC && type != STT_GNU_IFUNC)
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name || !name[0])
			continue;
		if (gp_strpool_add(&t->names, name, &v[n].name)) {
			free(v);
			return -1;
		}
		v[n].start = s.st_value;
		v[n].size = s.st_size;
		v[n].bind = (uint8_t)GELF_ST_BIND(s.st_info);
		n++;
	}
	*out = v;
	*nout = n;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct raw_sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Lower is better: global, weak, then local; sized; fewer leading '_'. */
static int rank(const struct gp_symtab *t, const struct raw_sym *s)
{
	const char *name = gp_strpool_at(&t->names, s->name);
	int r = s->bind == STB_GLOBAL ? 0 : s->bind == STB_WEAK ? 1 : 2;

	r = r * 2 + (s->size ? 0 : 1);
	return r * 16 + (int)(strspn(name, "_") < 15 ? strspn(name, "_") : 15);
}

static bool better(const struct gp_symtab *t, const struct raw_sym *a, const struct raw_sym *b)
{
	const char *na = gp_strpool_at(&t->names, a->name), *nb = gp_strpool_at(&t->names, b->name);
	int ra = rank(t, a), rb = rank(t, b);

	if (ra != rb)
		return ra < rb;
	if (strlen(na) != strlen(nb))
		return strlen(na) < strlen(nb);
	return strcmp(na, nb) < 0;
}

/* One entry per address; zero-sized symbols reach the next symbol. */
static int build(struct gp_symtab *t, struct raw_sym *raw, size_t n)
{
	size_t m = 0;

	if (n)
		qsort(raw, n, sizeof(*raw), cmp_start);
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	if (!t->v)
		return -1;
	for (size_t i = 0; i < n;) {
		size_t best = i, j = i + 1;

		for (; j < n && raw[j].start == raw[i].start; j++)
			if (better(t, &raw[j], &raw[best]))
				best = j;
		/* An alias with a size tells the extent even if its name lost. */
		for (size_t k = i; k < j; k++)
			if (raw[k].size > raw[best].size)
				raw[best].size = raw[k].size;
		t->v[m].start = raw[best].start;
		t->v[m].end = raw[best].start + raw[best].size;
		t->v[m].name = raw[best].name;
		m++;
		i = j;
	}
	for (size_t i = 0; i < m; i++) {
		if (t->v[i].end > t->v[i].start)
			continue;
		t->v[i].end = i + 1 < m ? t->v[i + 1].start : t->v[i].start + 1;
	}
	t->n = m;
	return 0;
}

int gp_symtab_load(struct gp_symtab *t, Elf *e)
{
	struct raw_sym *raw = NULL;
	Elf_Scn *scn;
	GElf_Shdr sh;
	size_t n = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	scn = find_section(e, SHT_SYMTAB, &sh);
	t->from_symtab = scn != NULL;
	if (!scn)
		scn = find_section(e, SHT_DYNSYM, &sh);
	if (!scn)
		return 0;
	if (read_syms(t, e, scn, &sh, &raw, &n))
		goto fail;
	rc = build(t, raw, n);
	free(raw);
	if (rc)
		goto fail;
	return 0;
fail:
	gp_symtab_free(t);
	return -1;
}

void gp_symtab_free(struct gp_symtab *t)
{
	free(t->v);
	gp_strpool_free(&t->names);
	memset(t, 0, sizeof(*t));
}

const char *gp_symtab_lookup(const struct gp_symtab *t, uint64_t vaddr, uint64_t *start)
{
	/* Just past the last symbol starting at or before vaddr. */
	size_t lo = gp_count_le(t->v, t->n, sizeof(*t->v), vaddr);

	/* A few entries back: a symbol nested inside a larger one. */
	for (size_t k = 0; k < 4 && lo > k; k++) {
		const struct gp_sym *s = &t->v[lo - 1 - k];

		if (vaddr < s->end) {
			if (start)
				*start = s->start;
			return gp_strpool_at(&t->names, s->name);
		}
	}
	return NULL;
}

/* Length of name without a ".lto_priv.N" ending (within its first len bytes). */
static size_t without_lto_priv(const char *name, size_t len)
{
	static const char tag[] = ".lto_priv.";
	size_t digits = 0;

	while (digits < len && name[len - 1 - digits] >= '0' && name[len - 1 - digits] <= '9')
		digits++;
	if (!digits || len < digits + strlen(tag) ||
	    memcmp(name + len - digits - strlen(tag), tag, strlen(tag)))
		return len;
	return len - digits - strlen(tag);
}

size_t gp_symbol_func_len(const char *name)
{
	size_t at = strcspn(name, "@"); /* "memcpy@@GLIBC_2.14": symbol version */
	const char *cold = strstr(name, ".cold");

	if (name[at])
		return at;
	/*
	 * ".cold" at the end, or ".cold.N"; then ".lto_priv.N", the name LTO
	 * gives a static function it keeps local (take_gil.lto_priv.0 in
	 * Debian's 3.14): the same function. Clones (.isra, .constprop, .part)
	 * are other functions and keep their names.
	 */
	while (cold) {
		const char *rest = cold + 5;

		if (!*rest || (rest[0] == '.' && rest[1] && strspn(rest + 1, "0123456789") ==
								  strlen(rest + 1)))
			return without_lto_priv(name, (size_t)(cold - name));
		cold = strstr(cold + 1, ".cold");
	}
	return without_lto_priv(name, strlen(name));
}
