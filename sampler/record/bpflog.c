// SPDX-License-Identifier: BSD-2-Clause
/*
 * bpflog.c — libbpf's messages. Shown only with -v (libbpf's debug level
 * never); a failed program load is remembered by name, errno and the last
 * line of its verifier log, which says why ("invalid access to map value
 * ...", "failed to resolve CO-RE relocation ...", "BPF program is too
 * large ..."), so the error message can name it in one line.
 */
#define _GNU_SOURCE
#include "bpflog.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "../common/gp_log.h"

static struct gp_bpf_rejection rejection;
static bool rejected;

/* Lines of a verifier log that say nothing about why it refused. */
static bool uninformative(const char *line, size_t n)
{
	static const char *const skip[] = {
		"processed ", "verification time", "stack depth", "mark_precise",
		"-- END", "-- BEGIN", "libbpf:", "R0", "R1", "R2", "R3", "R4", "R5",
		"R6", "R7", "R8", "R9", "R10", "func#", "last_idx", "parent ",
		"regs=", "from ", "; ",
	};

	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (!n)
		return true;
	/* Instructions ("123: (85) call ...") and paths ("from 12 to 14"). */
	if (*line >= '0' && *line <= '9')
		return true;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
		size_t k = strlen(skip[i]);

		if (n >= k && !strncmp(line, skip[i], k)) {
			/* "R2 min value is outside ..." is a reason, "R2=..." is state. */
			if (skip[i][0] == 'R' && n > k && line[k] == ' ')
				return false;
			return true;
		}
	}
	return false;
}

void gp_bpflog_reason(const char *log, char *out, unsigned long len)
{
	const char *best = NULL, *p = log;
	size_t best_n = 0;

	out[0] = '\0';
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (!uninformative(p, n)) {
			best = p;
			best_n = n;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!best)
		return;
	while (best_n && (*best == ' ' || *best == '\t')) {
		best++;
		best_n--;
	}
	snprintf(out, len, "%.*s", (int)best_n, best);
}

/*
 * libbpf 1.x: "prog 'NAME': BPF program load failed: STRERR" then
 * "prog 'NAME': -- BEGIN PROG LOAD LOG --\nLOG-- END PROG LOAD LOG --".
 */
static void remember(const char *msg)
{
	const char *q, *log;
	char name[64];

	if (strncmp(msg, "libbpf: prog '", 14))
		return;
	q = strchr(msg + 14, '\'');
	if (!q || (size_t)(q - msg - 14) >= sizeof(name))
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(q - msg - 14), msg + 14);
	if (strstr(q, "BPF program load failed")) {
		rejected = true;
		snprintf(rejection.prog, sizeof(rejection.prog), "%s", name);
		rejection.reason[0] = '\0';
		return;
	}
	log = strstr(q, "-- BEGIN PROG LOAD LOG --");
	if (log && rejected && !strcmp(name, rejection.prog))
		gp_bpflog_reason(log + 25, rejection.reason, sizeof(rejection.reason));
}

static int print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *msg = NULL;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vasprintf(&msg, fmt, args);
	if (n < 0)
		return 0;
	/* libbpf's own prefix is in the format: "libbpf: prog ...". */
	remember(msg);
	if (gp_log_verbose)
		fputs(msg, stderr);
	free(msg);
	return n;
}

void gp_bpflog_install(void)
{
	memset(&rejection, 0, sizeof(rejection));
	rejected = false;
	libbpf_set_print(print);
}

const struct gp_bpf_rejection *gp_bpflog_rejection(void)
{
	return rejected ? &rejection : NULL;
}
