// SPDX-License-Identifier: BSD-2-Clause
/*
 * agent_profiles.c — the agent's periodic profiles on disk: names, the
 * atomic write (output.c's), and the retention by count and bytes.
 */
#define _GNU_SOURCE
#include "agent_profiles.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../output/output.h"

#define SUFFIX ".pb.gz"

/* A process name as a file name part: [A-Za-z0-9._] kept, the rest '_'. */
static void file_part(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 1 < len && o < 32; s++)
		buf[o++] = (isalnum((unsigned char)*s) || *s == '.' || *s == '_') ? *s : '_';
	if (!o)
		buf[o++] = '_';
	buf[o] = '\0';
}

int gp_agent_profile_write(const char *dir, const struct gp_profile *prof, pid_t pid,
			   const char *process, uint64_t unix_ns, char *path, size_t len)
{
	time_t secs = (time_t)(unix_ns / 1000000000ULL);
	char name[40];
	struct tm tm;

	gmtime_r(&secs, &tm);
	file_part(process, name, sizeof(name));
	snprintf(path, len, "%s/%04d%02d%02dT%02d%02d%02d.%03dZ-%s-%d" SUFFIX, dir,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(unix_ns / 1000000ULL % 1000), name, (int)pid);
	return gp_output_write(prof, path, GP_FORMAT_PPROF);
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool gp_agent_profile_named(const char *name)
{
	size_t n = strlen(name), k = strlen(SUFFIX);
	const char *dash;

	/* 20261202T150800.123Z-NAME-PID.pb.gz */
	if (n < 21 + 3 + k || !digits(name, 8) || name[8] != 'T' || !digits(name + 9, 6) ||
	    name[15] != '.' || !digits(name + 16, 3) || strncmp(name + 19, "Z-", 2) ||
	    strcmp(name + n - k, SUFFIX))
		return false;
	dash = name + n - k;
	while (dash > name + 21 && isdigit((unsigned char)dash[-1]))
		dash--;
	return dash < name + n - k && dash > name + 22 && dash[-1] == '-';
}

struct entry {
	char *name;
	uint64_t bytes;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

size_t gp_agent_profile_retain(const char *dir, unsigned long keep, uint64_t max_bytes)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0, removed = 0;
	uint64_t total = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (!gp_agent_profile_named(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct entry *nv = realloc(v, (cap ? cap * 2 : 64) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
			cap = cap ? cap * 2 : 64;
		}
		v[n].name = strdup(de->d_name);
		if (!v[n].name)
			break;
		v[n++].bytes = (uint64_t)st.st_size;
		total += (uint64_t)st.st_size;
	}
	/* Oldest first: names begin with their time. */
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++) {
		if (n - removed <= keep && total <= max_bytes)
			break;
		if (!unlinkat(dirfd(d), v[i].name, 0)) {
			removed++;
			total -= v[i].bytes;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
	return removed;
}
