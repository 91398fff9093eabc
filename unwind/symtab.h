/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_SYMTAB_H
#define GP_SYMTAB_H

#include <libelf.h>
#include <stddef.h>
#include <stdint.h>

#include "strpool.h"

/*
 * The function symbols of one ELF file, sorted by address for binary
 * search: .symtab when the file has one (local functions included), else
 * .dynsym. One entry per address (the best of its aliases); names are
 * copied, so the table outlives the Elf it was read from.
 */
struct gp_sym {
	uint64_t start, end;   /* ELF virtual addresses, end exclusive; start first */
	uint32_t name;         /* offset in gp_symtab.names */
};

struct gp_symtab {
	struct gp_sym *v;
	size_t n;
	struct gp_strpool names;
	int from_symtab;       /* 1: .symtab, 0: .dynsym only */
};

/* Load from e. 0 (possibly with no symbols), -1 on allocation failure. */
int gp_symtab_load(struct gp_symtab *t, Elf *e);
void gp_symtab_free(struct gp_symtab *t);

/* Name of the function containing vaddr, or NULL; *start its address. */
const char *gp_symtab_lookup(const struct gp_symtab *t, uint64_t vaddr, uint64_t *start);

/*
 * Length of the function's own name inside a symbol name: GCC's split-off
 * parts "f.cold" and "f.cold.3" belong to f; "f@@GLIBC_2.2.5" is f.
 */
size_t gp_symbol_func_len(const char *name);

#endif
