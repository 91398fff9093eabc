// SPDX-License-Identifier: BSD-2-Clause
/*
 * procmaps.c — the target's memory mappings, from /proc/PID/maps.
 */
#define _GNU_SOURCE
#include "procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* glibc names syscalls newer than itself only through the kernel's headers:
 * 2.31 (the self-contained binary's baseline) predates openat2. */
#ifndef SYS_openat2
#define SYS_openat2 __NR_openat2
#endif

#define MAPS_MAX_BYTES (64u << 20)

static int parse_line(char *line, struct gp_map *m)
{
	unsigned long long start, end, off, inode;
	char perms[8], dev[32];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", &start, &end, perms, &off, dev,
		   &inode, &pos) < 6)
		return -1;
	if (end < start)
		return -1;
	memset(m, 0, sizeof(*m));
	m->start = start;
	m->end = end;
	m->offset = off;
	m->inode = inode;
	snprintf(m->perms, sizeof(m->perms), "%.4s", perms);
	m->vdso = pos > 0 && !strncmp(line + pos, "[vdso]", 6);
	if (pos > 0 && line[pos] == '/') {
		char *path = line + pos;
		size_t len = strlen(path);

		/* A file replaced on disk keeps its mapping, marked so. */
		if (len > 10 && !strcmp(path + len - 10, " (deleted)"))
			path[len - 10] = '\0';
		m->path = strdup(path);
		if (!m->path)
			return -1;
	}
	return 0;
}

int gp_maps_parse(const char *text, struct gp_maps *out)
{
	char *copy = strdup(text), *save = NULL, *line;
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	if (!copy)
		return -1;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct gp_map *v = realloc(out->v, ncap * sizeof(*v));

			if (!v)
				goto fail;
			out->v = v;
			cap = ncap;
		}
		if (parse_line(line, &out->v[out->n]))
			goto fail;
		out->n++;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	gp_maps_free(out);
	return -1;
}

int gp_maps_read(pid_t pid, struct gp_maps *out)
{
	char path[64], *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	for (;;) {
		size_t n;

		if (cap - len < 4097) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > MAPS_MAX_BYTES) {
				errno = EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (!n)
			break;
	}
	if (ferror(f)) {
		/* Reading maps of a process that just exited fails with ESRCH. */
		errno = ESRCH;
		goto out;
	}
	buf[len] = '\0';
	rc = gp_maps_parse(buf, out);
	if (rc)
		errno = EINVAL;
out:
	free(buf);
	fclose(f);
	return rc;
}

void gp_maps_free(struct gp_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int gp_maps_bias(const struct gp_maps *m, const char *path, uint64_t seg_offset,
		 uint64_t seg_vaddr, uint64_t *bias)
{
	const uint64_t page = 4096;

	for (size_t i = 0; i < m->n; i++) {
		const struct gp_map *e = &m->v[i];

		if (!e->path || strcmp(e->path, path) || e->offset != (seg_offset & ~(page - 1)))
			continue;
		*bias = e->start - (seg_vaddr & ~(page - 1));
		return 0;
	}
	return -1;
}

const struct gp_map *gp_maps_find_prefix(const struct gp_maps *m, const char *prefix)
{
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < m->n; i++) {
		const char *base;

		if (!m->v[i].path)
			continue;
		base = strrchr(m->v[i].path, '/');
		base = base ? base + 1 : m->v[i].path;
		if (!strncmp(base, prefix, plen))
			return &m->v[i];
	}
	return NULL;
}

/* O_PATH fd of path relative to the target's root, never leaving it. */
static int open_in_root(pid_t pid, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int dirfd, fd, err;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	err = errno;
	close(dirfd);
	errno = err;
	return fd;
}

/* A read-only fd of the regular file behind O_PATH fd pfd (closed). */
static int open_regular(int pfd)
{
	char path[64];
	struct stat st;
	int fd;

	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) || !S_ISREG(st.st_mode)) {
		close(pfd);
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	close(pfd);
	return fd;
}

int gp_maps_open(pid_t pid, const struct gp_map *map)
{
	char path[64];
	int pfd;

	/* O_PATH first: nothing is opened for reading before it is known to be a file. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid,
		 map->start, map->end);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0 && map->path && map->path[0] == '/')
		pfd = open_in_root(pid, map->path);
	return open_regular(pfd);
}

int gp_open_in_root(pid_t pid, const char *path)
{
	return open_regular(open_in_root(pid, path));
}
