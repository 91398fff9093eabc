/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_LOG_H
#define GP_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* One-line messages on stderr, prefixed "gil-prof: error: " etc. */
void gp_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gp_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with --verbose. */
void gp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * While a buffer is set, errors and warnings are kept there (the first one
 * wins) instead of printed: a step whose failure the caller reports in its
 * own words (a child process that is not Python). NULL: print again.
 */
void gp_log_capture(char *buf, size_t len);

extern bool gp_log_verbose;
extern bool gp_log_quiet;

#endif
