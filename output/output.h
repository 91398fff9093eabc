/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_OUTPUT_H
#define GP_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

struct gp_profile;

/*
 * Output formats. A new format is a value here, its writer below and one
 * row in output.c's format table (name, extensions, writer).
 */
enum gp_format {
	GP_FORMAT_NONE = 0,
	GP_FORMAT_FOLDED,
	GP_FORMAT_PPROF,
	GP_FORMAT_SPEEDSCOPE,
	GP_FORMAT_SVG,
	GP_FORMAT_HTML,
	GP_FORMAT_REPORT,
	GP_FORMAT_CHROMETRACE,  /* the GIL timeline; needs the recording to trace the GIL */
	GP_FORMAT_BLAME,        /* folded stacks of the GIL's holders, weighted by the waiting */
};

/* The format that names default output files. */
#define GP_FORMAT_DEFAULT GP_FORMAT_SVG

/* "folded", "pprof", ... -> the format; GP_FORMAT_NONE if unknown. */
enum gp_format gp_format_from_name(const char *name);
/* By extension (".pb.gz", ".svg", ...); GP_FORMAT_NONE if none matches. */
enum gp_format gp_format_from_path(const char *path);
const char *gp_format_name(enum gp_format f);
/* Extension for default file names, with the dot. */
const char *gp_format_extension(enum gp_format f);
/* "folded, pprof, ..." into buf, for messages. */
void gp_format_list(char *buf, size_t len);

/*
 * Can path be created? Checked before recording starts so a bad path never
 * costs a recording. 0, or -1 with errno set and a reason in why.
 */
int gp_output_check(const char *path, char *why, size_t whylen);

/*
 * Write the profile to path atomically: into a temporary file beside it,
 * flushed and synced, then renamed over path. On any error nothing is left
 * at path (nor the temporary). Returns 0, or -1 with errno set.
 */
int gp_output_write(const struct gp_profile *p, const char *path, enum gp_format f);

/*
 * After writing path failed (a full disk, a directory gone meanwhile):
 * write the profile to the temporary directory instead ($TMPDIR, else
 * /tmp) as gil-prof-rescued-PID-BASENAME, atomically too, so a recording
 * is not lost with one of its files. 0 with the path written in out, or -1.
 */
int gp_output_rescue(const struct gp_profile *p, const char *path, enum gp_format f, char *out,
		     size_t outlen);

/*
 * --split-gil: write one file per GIL state, each with that state's stacks,
 * named by inserting the state before the extension (out.folded ->
 * out.holding.folded). The four states are always written (maybe empty);
 * others only when present. Calls done(path) after each file written.
 * Returns 0, or -1 with errno set (path of the failed file in failed).
 */
int gp_output_write_split(const struct gp_profile *p, const char *path, enum gp_format f,
			  void (*done)(const char *path), char *failed, size_t failedlen);

/* Writers: each writes the whole profile to out; 0 or -1 (errno set). */
int gp_write_folded(const struct gp_profile *p, FILE *out);
/* Who held the GIL while others waited, as folded stacks (folded.c). */
int gp_write_blame(const struct gp_profile *p, FILE *out);
int gp_write_pprof(const struct gp_profile *p, FILE *out);
int gp_write_speedscope(const struct gp_profile *p, FILE *out);
int gp_write_svg(const struct gp_profile *p, FILE *out);
int gp_write_html(const struct gp_profile *p, FILE *out);
/* The end-of-run summary: per-thread GIL table, contention, top waiting stacks. */
int gp_write_report(const struct gp_profile *p, FILE *out);
/* The GIL timeline (p->timeline) as Chrome Trace Event JSON, for Perfetto. */
int gp_write_chrometrace(const struct gp_profile *p, FILE *out);

#endif
