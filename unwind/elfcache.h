/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_ELFCACHE_H
#define GP_ELFCACHE_H

#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "symtab.h"

/*
 * The ELF files mapped by profiled processes, opened once and keyed by
 * build-id (or, without one, by device, inode, size and mtime), so the same
 * library in several processes, or mapped again, is read once.
 */
struct gp_elf_file {
	char *key;
	char build_id[41];       /* hex; "" if the file has none */
	char *name;              /* basename as the target names it */
	int fd;                  /* kept open; unwinders get a dup */
	Elf *elf;
	bool is_exec;            /* ET_EXEC: addresses are absolute */
	bool has_dwarf;          /* .debug_info in the file itself */
	struct gp_symtab syms;
	UT_hash_handle hh;
};

struct gp_elf_cache {
	struct gp_elf_file *files;
	const char *debug_dir;   /* build-id debug files: "/usr/lib/debug" */
	struct gp_elf_file *vdso;
	bool vdso_tried;
};

void gp_elf_cache_init(struct gp_elf_cache *c);
void gp_elf_cache_free(struct gp_elf_cache *c);

/*
 * The file at open_path (a /proc/PID/map_files or /proc/PID/root path),
 * shown under the basename of target_path. NULL if it is not a readable
 * ELF file. Symbols of a stripped file come from a debug file with the same
 * build-id under debug_dir when there is one.
 */
struct gp_elf_file *gp_elf_cache_open(struct gp_elf_cache *c, const char *open_path,
				      const char *target_path);

/*
 * The same for an open file fd (taken: closed on failure or when cached
 * already) mapped by process pid: its debug file is also looked for in
 * pid's root (/usr/lib/debug/.build-id there), unless pid is 0.
 */
struct gp_elf_file *gp_elf_cache_open_fd(struct gp_elf_cache *c, int fd, const char *target_path,
				      pid_t pid);

/* The kernel's vDSO image (the same for every process), or NULL. */
struct gp_elf_file *gp_elf_cache_vdso(struct gp_elf_cache *c);

#endif
