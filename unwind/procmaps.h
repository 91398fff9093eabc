/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PROCMAPS_H
#define GP_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct gp_map {
	uint64_t start, end, offset;
	uint64_t inode;
	char perms[5];
	char *path; /* as the target sees it; NULL for anonymous mappings */
	bool vdso;  /* the kernel's [vdso] */
};

struct gp_maps {
	struct gp_map *v;
	size_t n;
};

/* Parse the text of a /proc/PID/maps file. Returns 0 or -1 (bad input). */
int gp_maps_parse(const char *text, struct gp_maps *out);
/* Read /proc/PID/maps; -1 with errno set (ENOENT/ESRCH: no such process). */
int gp_maps_read(pid_t pid, struct gp_maps *out);
void gp_maps_free(struct gp_maps *m);

/*
 * Load bias of the file mapped as path: runtime address minus ELF virtual
 * address, from the mapping of the PT_LOAD segment at (seg_offset,
 * seg_vaddr). Holds for the whole segment, .bss past the file pages too.
 * 0 on success, -1 if that segment is not mapped.
 */
int gp_maps_bias(const struct gp_maps *m, const char *path, uint64_t seg_offset,
		 uint64_t seg_vaddr, uint64_t *bias);

/* First mapping of a file whose basename starts with prefix, or NULL. */
const struct gp_map *gp_maps_find_prefix(const struct gp_maps *m, const char *prefix);

/*
 * Open the file mapped at map, read-only: through /proc/PID/map_files/
 * START-END, which reaches the exact file mapped even across mount
 * namespaces, else by its path inside the target's root (/proc/PID/root,
 * resolved with RESOLVE_IN_ROOT, so no symlink or ".." the target planted
 * leads outside it). Only a regular file is opened (a device is never
 * opened at all). Returns an fd, or -1 with errno set.
 */
int gp_maps_open(pid_t pid, const struct gp_map *map);

/* The regular file at path inside the target's root, read-only, as above. */
int gp_open_in_root(pid_t pid, const char *path);

#endif
