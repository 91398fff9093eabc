// SPDX-License-Identifier: BSD-2-Clause
/*
 * kallsyms.c — kernel function names for --kernel, read once from
 * /proc/kallsyms (about 120k lines) into one sorted array.
 */
#include "kallsyms.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int cmp_addr(const void *a, const void *b)
{
	const struct gp_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add_sym(struct gp_kallsyms *k, size_t *cap, uint64_t addr, const char *name,
		   const char *module, uint32_t *last_module, char *last_module_name)
{
	struct gp_ksym *s;

	if (k->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		struct gp_ksym *v = realloc(k->v, ncap * sizeof(*v));

		if (!v)
			return -1;
		k->v = v;
		*cap = ncap;
	}
	s = &k->v[k->n];
	s->addr = addr;
	if (gp_strpool_add(&k->names, name, &s->name))
		return -1;
	/* Module names repeat line after line: store each run once. */
	if (strcmp(module, last_module_name)) {
		if (gp_strpool_add(&k->names, module, last_module))
			return -1;
		snprintf(last_module_name, 64, "%s", module);
	}
	s->module = *last_module;
	k->n++;
	return 0;
}

int gp_kallsyms_parse(struct gp_kallsyms *k, FILE *f)
{
	char line[512], name[256], module[64], last_module_name[64] = "";
	uint32_t last_module = 0;
	bool any_addr = false;
	size_t cap = 0;

	memset(k, 0, sizeof(*k));
	if (gp_strpool_add(&k->names, "", &last_module))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type;
		int n;

		module[0] = '\0';
		n = sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type, name, module);
		if (n < 3 || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		any_addr |= addr != 0;
		if (add_sym(k, &cap, addr, name, module, &last_module, last_module_name)) {
			gp_kallsyms_free(k);
			return -1;
		}
	}
	if (!any_addr)
		k->n = 0; /* kptr_restrict hides the addresses: nothing to look up */
	if (k->n)
		qsort(k->v, k->n, sizeof(*k->v), cmp_addr);
	return 0;
}

int gp_kallsyms_load(struct gp_kallsyms *k)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	int rc;

	memset(k, 0, sizeof(*k));
	if (!f)
		return -1;
	rc = gp_kallsyms_parse(k, f);
	fclose(f);
	return rc;
}

void gp_kallsyms_free(struct gp_kallsyms *k)
{
	free(k->v);
	gp_strpool_free(&k->names);
	memset(k, 0, sizeof(*k));
}

const struct gp_ksym *gp_kallsyms_lookup(const struct gp_kallsyms *k, uint64_t addr)
{
	size_t n = gp_count_le(k->v, k->n, sizeof(*k->v), addr);

	return n ? &k->v[n - 1] : NULL;
}
