// SPDX-License-Identifier: BSD-2-Clause
/*
 * gp_log.c — messages to the user. Errors are one line each; warnings and
 * notes are silenced by --quiet, debug lines need --verbose.
 */
#include "gp_log.h"

#include <stdarg.h>
#include <stdio.h>

bool gp_log_verbose;
bool gp_log_quiet;

static char *capture_buf;
static size_t capture_len;

void gp_log_capture(char *buf, size_t len)
{
	capture_buf = len ? buf : NULL;
	capture_len = len;
	if (capture_buf)
		capture_buf[0] = '\0';
}

/* Kept for the caller instead of printed (see gp_log_capture)? */
static bool captured(const char *fmt, va_list ap)
{
	if (!capture_buf)
		return false;
	if (!capture_buf[0])
		vsnprintf(capture_buf, capture_len, fmt, ap);
	return true;
}

static void vline(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "gil-prof: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void gp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!captured(fmt, ap)) {
		va_end(ap);
		va_start(ap, fmt);
		vline("error: ", fmt, ap);
	}
	va_end(ap);
}

void gp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (captured(fmt, ap) || gp_log_quiet) {
		va_end(ap);
		return;
	}
	va_end(ap);
	va_start(ap, fmt);
	vline("warning: ", fmt, ap);
	va_end(ap);
}

void gp_note(const char *fmt, ...)
{
	va_list ap;

	if (gp_log_quiet)
		return;
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void gp_debug(const char *fmt, ...)
{
	va_list ap;

	if (!gp_log_verbose)
		return;
	va_start(ap, fmt);
	vline("debug: ", fmt, ap);
	va_end(ap);
}
