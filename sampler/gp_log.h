/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_LOG_H
#define GP_LOG_H

#include <stdbool.h>

/* One-line messages on stderr, prefixed "gil-prof: error: " etc. */
void gp_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gp_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with --verbose. */
void gp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern bool gp_log_verbose;
extern bool gp_log_quiet;

#endif
