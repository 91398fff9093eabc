/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_KALLSYMS_H
#define GP_KALLSYMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "strpool.h"

/* Kernel symbols from /proc/kallsyms, sorted for address lookups. */
struct gp_ksym {
	uint64_t addr;    /* first: sorted and searched on */
	uint32_t name;    /* offset into gp_kallsyms.names */
	uint32_t module;  /* offset of the module name, or of "" for the kernel */
};

struct gp_kallsyms {
	struct gp_ksym *v;
	size_t n;
	struct gp_strpool names;
};

/* Parse a kallsyms file (text, functions only). 0, or -1 (no memory). */
int gp_kallsyms_parse(struct gp_kallsyms *k, FILE *f);
/* /proc/kallsyms; -1 if unreadable. Addresses all zero (kptr_restrict): empty. */
int gp_kallsyms_load(struct gp_kallsyms *k);
void gp_kallsyms_free(struct gp_kallsyms *k);

/* Symbol containing addr (the last at or below it), or NULL. */
const struct gp_ksym *gp_kallsyms_lookup(const struct gp_kallsyms *k, uint64_t addr);

static inline const char *gp_ksym_name(const struct gp_kallsyms *k, const struct gp_ksym *s)
{
	return gp_strpool_at(&k->names, s->name);
}

static inline const char *gp_ksym_module(const struct gp_kallsyms *k, const struct gp_ksym *s)
{
	return gp_strpool_at(&k->names, s->module);
}

#endif
