/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_ELFSYMS_H
#define GP_ELFSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One symbol asked for by name; filled in by gp_elf_lookup. */
struct gp_elf_sym {
	const char *name;
	const char *section; /* if no symbol has the name: the start of this
				section, when the file has one (NULL: none) */
	bool found;
	uint64_t value;    /* st_value (virtual address) */
	uint64_t size;
	uint64_t seg_vaddr;  /* p_vaddr of the PT_LOAD containing value */
	uint64_t seg_offset; /* p_offset of that PT_LOAD */
};

struct gp_elf_info {
	bool is_exec;      /* ET_EXEC (non-PIE executable) */
	bool has_symtab;   /* a .symtab section (not stripped) */
	char soname[128];  /* DT_SONAME if any */
};

/*
 * Look up syms[0..n) in the ELF file at path: .symtab first (local symbols
 * included), then .dynsym. Returns 0 if the file is a readable ELF file
 * (whether or not the symbols exist), -1 otherwise.
 */
int gp_elf_lookup(const char *path, struct gp_elf_sym *syms, size_t n,
		  struct gp_elf_info *info);
/* The same for an open file (left open). */
int gp_elf_lookup_fd(int fd, struct gp_elf_sym *syms, size_t n, struct gp_elf_info *info);

#endif
