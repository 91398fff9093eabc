// SPDX-License-Identifier: BSD-2-Clause
/*
 * output.c — picks the writer for a format and writes files atomically.
 */
#define _GNU_SOURCE
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../sampler/account/profile.h"

/* Less free space than this is no space for a profile. */
#define MIN_FREE_BYTES (64u << 10)

struct format_desc {
	enum gp_format format;
	const char *name;
	const char *extensions[4]; /* the first one names default files */
	int (*write)(const struct gp_profile *p, FILE *out);
};

/* One row per format; a path takes the format of the longest extension it ends with. */
static const struct format_desc formats[] = {
	{ GP_FORMAT_FOLDED, "folded", { ".folded", ".txt" }, gp_write_folded },
	{ GP_FORMAT_PPROF, "pprof", { ".pb.gz", ".pprof" }, gp_write_pprof },
	{ GP_FORMAT_SPEEDSCOPE, "speedscope", { ".speedscope.json", ".speedscope" },
	  gp_write_speedscope },
	{ GP_FORMAT_SVG, "svg", { ".svg" }, gp_write_svg },
	{ GP_FORMAT_HTML, "html", { ".html", ".htm" }, gp_write_html },
	{ GP_FORMAT_REPORT, "report", { ".report" }, gp_write_report },
	{ GP_FORMAT_CHROMETRACE, "chrometrace", { ".trace.json" }, gp_write_chrometrace },
	{ GP_FORMAT_BLAME, "blame", { ".blame.folded" }, gp_write_blame },
};

#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static const struct format_desc *desc(enum gp_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].format == f)
			return &formats[i];
	return NULL;
}

enum gp_format gp_format_from_name(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i].name, name))
			return formats[i].format;
	return GP_FORMAT_NONE;
}

void gp_format_list(char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NFORMATS && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", formats[i].name);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

enum gp_format gp_format_from_path(const char *path)
{
	enum gp_format f = GP_FORMAT_NONE;
	size_t best = 0;

	for (size_t i = 0; i < NFORMATS; i++)
		for (size_t e = 0; e < 4 && formats[i].extensions[e]; e++)
			if (ends_with(path, formats[i].extensions[e]) &&
			    strlen(formats[i].extensions[e]) > best) {
				best = strlen(formats[i].extensions[e]);
				f = formats[i].format;
			}
	return f;
}

const char *gp_format_name(enum gp_format f)
{
	const struct format_desc *d = desc(f);

	return d ? d->name : "none";
}

const char *gp_format_extension(enum gp_format f)
{
	const struct format_desc *d = desc(f);

	return d ? d->extensions[0] : "";
}

static void dir_of(const char *path, char *dir, size_t len)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(dir, len, "%s", dirname(tmp));
}

/*
 * A file system with no free block (or no free inode) takes no profile:
 * say so now rather than after the recording. (Space running out during
 * the recording is caught when writing; see gp_output_rescue.)
 */
static int check_space(const char *dir, char *why, size_t whylen)
{
	struct statvfs v;
	uint64_t blocks;

	if (statvfs(dir, &v))
		return 0; /* cannot tell: the write will */
	/* root may use the blocks reserved for it */
	blocks = geteuid() ? v.f_bavail : v.f_bfree;
	if (blocks * v.f_frsize >= MIN_FREE_BYTES && (v.f_favail || !v.f_files))
		return 0;
	snprintf(why, whylen, "no space left on the file system of %s", dir);
	errno = ENOSPC;
	return -1;
}

int gp_output_check(const char *path, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	struct stat st;

	if (strlen(path) >= PATH_MAX - 16) {
		snprintf(why, whylen, "path too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "it is a directory");
		errno = EISDIR;
		return -1;
	}
	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "directory %s does not exist", dir);
		errno = ENOENT;
		return -1;
	}
	if (access(dir, W_OK | X_OK)) {
		snprintf(why, whylen, "directory %s is not writable (%s)", dir, strerror(errno));
		return -1;
	}
	return check_space(dir, why, whylen);
}

int gp_output_write(const struct gp_profile *p, const char *path, enum gp_format f)
{
	const struct format_desc *d = desc(f);
	char dir[PATH_MAX], tmp[PATH_MAX + 32], *base, pathcopy[PATH_MAX];
	FILE *out = NULL;
	int fd = -1, err;

	if (!d) {
		errno = EINVAL;
		return -1;
	}
	dir_of(path, dir, sizeof(dir));
	snprintf(pathcopy, sizeof(pathcopy), "%s", path);
	base = basename(pathcopy);
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	/* mkstemp makes 0600; a profile is an ordinary file. */
	if (fchmod(fd, 0644))
		goto fail;
	out = fdopen(fd, "w");
	if (!out)
		goto fail;
	fd = -1;
	if (d->write(p, out) || fflush(out) || ferror(out) || fsync(fileno(out)))
		goto fail;
	if (fclose(out)) {
		out = NULL;
		goto fail;
	}
	out = NULL;
	if (rename(tmp, path))
		goto fail;
	return 0;
fail:
	err = errno ? errno : EIO;
	if (out)
		fclose(out);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = err;
	return -1;
}

int gp_output_rescue(const struct gp_profile *p, const char *path, enum gp_format f, char *out,
		     size_t outlen)
{
	const char *tmp = getenv("TMPDIR");
	char copy[PATH_MAX];

	if (!tmp || tmp[0] != '/')
		tmp = "/tmp";
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(out, outlen, "%s/gil-prof-rescued-%d-%s", tmp, (int)getpid(), basename(copy));
	return gp_output_write(p, out, f);
}

/* path with ".STATE" before the format's extension (or at the end). */
static void split_path(const char *path, const struct format_desc *d, const char *state,
		       char *buf, size_t len)
{
	size_t n = strlen(path);

	for (size_t e = 0; e < 4 && d->extensions[e]; e++) {
		size_t k = strlen(d->extensions[e]);

		if (ends_with(path, d->extensions[e])) {
			snprintf(buf, len, "%.*s.%s%s", (int)(n - k), path, state, d->extensions[e]);
			return;
		}
	}
	snprintf(buf, len, "%s.%s", path, state);
}

int gp_output_write_split(const struct gp_profile *p, const char *path, enum gp_format f,
			  void (*done)(const char *path), char *failed, size_t failedlen)
{
	const struct format_desc *d = desc(f);
	struct gp_stack **mine;
	struct gp_profile view;
	char out[PATH_MAX + 32];

	if (!d) {
		errno = EINVAL;
		return -1;
	}
	mine = calloc(p->nstacks ? p->nstacks : 1, sizeof(*mine));
	if (!mine)
		return -1;
	for (int st = 0; st < GP_STATE__MAX; st++) {
		bool always = st >= GP_STATE_HOLDING && st <= GP_STATE_IDLE;

		/* A read-only view of the profile with this state's stacks. */
		view = *p;
		view.stacks = mine;
		view.nstacks = 0;
		for (size_t i = 0; i < p->nstacks; i++)
			if (p->stacks[i]->state == st)
				mine[view.nstacks++] = p->stacks[i];
		if (!always && !view.nstacks)
			continue;
		split_path(path, d, gp_state_name((enum gp_gil_state)st), out, sizeof(out));
		if (gp_output_write(&view, out, f)) {
			int err = errno;

			snprintf(failed, failedlen, "%s", out);
			free(mine);
			errno = err;
			return -1;
		}
		if (done)
			done(out);
	}
	free(mine);
	return 0;
}
