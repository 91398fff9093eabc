/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_OUTPUT_H
#define GP_OUTPUT_H

#include <stdio.h>

struct gp_profile;

enum gp_format {
	GP_FORMAT_NONE = 0,
	GP_FORMAT_FOLDED,
};

/* "folded" -> GP_FORMAT_FOLDED; GP_FORMAT_NONE if unknown. */
enum gp_format gp_format_from_name(const char *name);
/* By extension: ".folded", ".txt" -> GP_FORMAT_FOLDED; else GP_FORMAT_NONE. */
enum gp_format gp_format_from_path(const char *path);
const char *gp_format_name(enum gp_format f);
/* Extension for default file names, with the dot. */
const char *gp_format_extension(enum gp_format f);

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

/* Writers: each writes the whole profile to out; 0 or -1 (errno set). */
int gp_write_folded(const struct gp_profile *p, FILE *out);

#endif
