/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_NATIVE_H
#define GP_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../bpf/gilprof.h"
#include "elfcache.h"

/* Native frames unwound per sample. */
#define GP_MAX_NATIVE_FRAMES 256

struct gp_native_frame {
	uint64_t pc;
	bool activation;         /* where the thread was (innermost frame or a
				    signal frame), not a return address */
};

/* How an unwind ended. */
enum gp_unwind_end {
	GP_UNWIND_COMPLETE = 0,  /* reached the outermost frame (thread start) */
	GP_UNWIND_CUT,           /* no further: outside the stack copy, no CFI... */
	GP_UNWIND_DEPTH,         /* GP_MAX_NATIVE_FRAMES reached */
	GP_UNWIND_BAD,           /* stack pointer went backwards: corrupt data */
};

/* An executable mapping of the process. */
struct gp_native_map {
	uint64_t start, end, offset;
	char *path;              /* as the target names it; NULL if anonymous */
	struct gp_elf_file *file;/* NULL: not an ELF file we could open */
	uint64_t bias;           /* runtime address - ELF virtual address */
};

struct gp_unwinder;

/*
 * An unwinder for process pid: its executable mappings, their files (from
 * files, shared between unwinders) and a libdw session over them. NULL if
 * the process cannot be read.
 */
struct gp_unwinder *gp_unwinder_new(pid_t pid, struct gp_elf_cache *files);
void gp_unwinder_free(struct gp_unwinder *u);

/*
 * Unwind one thread from its registers (DWARF order) and a copy of its
 * stack from regs[GP_REG_SP], innermost frame first, into out[max]. Only
 * the copy is read, never the live process. Returns the number of frames.
 */
uint32_t gp_unwind(struct gp_unwinder *u, pid_t tid, const __u64 regs[GP_NATIVE_REGS],
		   const uint8_t *stack, uint32_t len, struct gp_native_frame *out, uint32_t max,
		   enum gp_unwind_end *end);

/* All executable mappings, sorted by address. */
const struct gp_native_map *gp_unwinder_maps(const struct gp_unwinder *u, size_t *n);

/* The executable mapping containing addr, or NULL. */
const struct gp_native_map *gp_unwinder_map(struct gp_unwinder *u, uint64_t addr);

/*
 * Name of the function containing addr from the DWARF of its file, when
 * the file has DWARF (symbol tables come first; this is the fallback).
 * Copied to buf; 0, or -1 if there is none.
 */
int gp_unwinder_dwarf_name(struct gp_unwinder *u, uint64_t addr, char *buf, size_t len);

/* Unwinding from cached CFI rules (default) or through libdw for every frame. */
void gp_unwinder_set_fast(struct gp_unwinder *u, bool fast);
/* Samples unwound from cached rules, and through libdw. */
void gp_unwinder_paths(const struct gp_unwinder *u, uint64_t *fast, uint64_t *slow);

/* How often the mappings were re-read (new libraries appeared). */
uint64_t gp_unwinder_refreshes(const struct gp_unwinder *u);

#endif
