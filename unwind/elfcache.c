// SPDX-License-Identifier: BSD-2-Clause
/*
 * elfcache.c — ELF files of profiled processes, opened once per build-id.
 * Files come from the target: they are opened through /proc (never a path
 * the target chose outside its root), must be regular files, and are only
 * parsed through libelf.
 */
#define _GNU_SOURCE
#include "elfcache.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmaps.h"

void gp_elf_cache_init(struct gp_elf_cache *c)
{
	memset(c, 0, sizeof(*c));
	c->debug_dir = "/usr/lib/debug";
	elf_version(EV_CURRENT);
}

static void file_free(struct gp_elf_file *f)
{
	gp_symtab_free(&f->syms);
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->key);
	free(f->name);
	free(f);
}

void gp_elf_cache_free(struct gp_elf_cache *c)
{
	struct gp_elf_file *f, *tmp;

	HASH_ITER(hh, c->files, f, tmp) {
		HASH_DEL(c->files, f);
		file_free(f);
	}
}

static void build_id_hex(Elf *e, char out[41])
{
	const void *id = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(e, &id);

	out[0] = '\0';
	if (n <= 0 || n > 20 || !id)
		return;
	for (ssize_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", ((const uint8_t *)id)[i]);
}

static bool has_section(Elf *e, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return false;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want))
			return true;
	}
	return false;
}

/*
 * Symbols of a stripped file from its build-id debug file, if installed:
 * on the host, or in the root of the process that maps it (a container's
 * or a chroot's own debug packages: Debian's python3.14-dbg installs the
 * symbols of python3.14 there, the only names of the eval loop's cold
 * part). Returns true if they were loaded.
 */
static bool debug_symbols_from(struct gp_elf_file *f, int fd)
{
	bool loaded = false;
	struct gp_symtab t;
	char id[41];
	Elf *e;

	if (fd < 0)
		return false;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF) {
		build_id_hex(e, id);
		if (!strcmp(id, f->build_id) && !gp_symtab_load(&t, e)) {
			if (t.from_symtab && t.n) {
				gp_symtab_free(&f->syms);
				f->syms = t;
				loaded = true;
			} else {
				gp_symtab_free(&t);
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return loaded;
}

/* Where a root keeps its build-id debug files. */
#define ROOT_DEBUG_DIR "/usr/lib/debug"

static void load_debug_symbols(struct gp_elf_cache *c, struct gp_elf_file *f, pid_t pid)
{
	char rel[128], path[512];

	if (strlen(f->build_id) < 4)
		return;
	snprintf(rel, sizeof(rel), "/.build-id/%.2s/%s.debug", f->build_id, f->build_id + 2);
	if (c->debug_dir) {
		snprintf(path, sizeof(path), "%s%s", c->debug_dir, rel);
		if (debug_symbols_from(f, open(path, O_RDONLY | O_CLOEXEC)))
			return;
	}
	if (pid > 0) {
		snprintf(path, sizeof(path), "%s%s", ROOT_DEBUG_DIR, rel);
		debug_symbols_from(f, gp_open_in_root(pid, path));
	}
}

static char *identity_key(int fd, const char *build_id)
{
	struct stat st;
	char *key = NULL;

	if (build_id[0])
		return strdup(build_id);
	if (fstat(fd, &st))
		return NULL;
	if (asprintf(&key, "%" PRIu64 ":%" PRIu64 ":%" PRId64 ":%" PRId64 ".%09ld",
		     (uint64_t)st.st_dev, (uint64_t)st.st_ino, (int64_t)st.st_size,
		     (int64_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec) < 0)
		return NULL;
	return key;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Takes fd (closed on failure or when the file is already cached). */
static struct gp_elf_file *cache_fd(struct gp_elf_cache *c, int fd, const char *target_path,
				    pid_t pid)
{
	struct gp_elf_file *f = NULL, *found;
	char build_id[41];
	struct stat st;
	GElf_Ehdr eh;
	Elf *e = NULL;
	char *key;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto fail;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		goto fail;
	build_id_hex(e, build_id);
	key = identity_key(fd, build_id);
	if (!key)
		goto fail;
	HASH_FIND_STR(c->files, key, found);
	if (found) {
		free(key);
		elf_end(e);
		close(fd);
		return found;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(key);
		goto fail;
	}
	f->key = key;
	f->fd = fd;
	f->elf = e;
	f->name = strdup(base_name(target_path));
	memcpy(f->build_id, build_id, sizeof(build_id));
	f->is_exec = eh.e_type == ET_EXEC;
	f->has_dwarf = has_section(e, ".debug_info");
	if (!f->name || gp_symtab_load(&f->syms, e)) {
		file_free(f);
		return NULL;
	}
	if (!f->syms.from_symtab)
		load_debug_symbols(c, f, pid);
	HASH_ADD_KEYPTR(hh, c->files, f->key, strlen(f->key), f);
	return f;
fail:
	if (e)
		elf_end(e);
	close(fd);
	return NULL;
}

struct gp_elf_file *gp_elf_cache_open_fd(struct gp_elf_cache *c, int fd, const char *target_path,
				      pid_t pid)
{
	if (fd < 0)
		return NULL;
	return cache_fd(c, fd, target_path, pid);
}

struct gp_elf_file *gp_elf_cache_open(struct gp_elf_cache *c, const char *open_path,
				      const char *target_path)
{
	int fd = open(open_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	return cache_fd(c, fd, target_path, 0);
}

/* Size of our own [vdso] mapping. */
static size_t vdso_size(uint64_t base)
{
	struct gp_maps maps;
	size_t size = 0;

	if (gp_maps_read(getpid(), &maps))
		return 0;
	for (size_t i = 0; i < maps.n; i++)
		if (maps.v[i].vdso && maps.v[i].start == base)
			size = (size_t)(maps.v[i].end - maps.v[i].start);
	gp_maps_free(&maps);
	return size;
}

struct gp_elf_file *gp_elf_cache_vdso(struct gp_elf_cache *c)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR);
	size_t size;
	int fd;

	if (c->vdso_tried)
		return c->vdso;
	c->vdso_tried = true;
	if (!base || !(size = vdso_size(base)))
		return NULL;
	/* A file for libelf and libdw: the image copied into a memfd. */
	fd = memfd_create("gil-prof-vdso", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (write(fd, (const void *)(uintptr_t)base, size) != (ssize_t)size) {
		close(fd);
		return NULL;
	}
	c->vdso = cache_fd(c, fd, "[vdso]", 0);
	return c->vdso;
}
