/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_BPFLOG_H
#define GP_BPFLOG_H

#include <stdbool.h>

/*
 * What libbpf says while loading: shown with -v, and kept so that a
 * program the verifier refused is named in one line with the verifier's
 * own reason, rather than "Invalid argument" after a page of log.
 */
struct gp_bpf_rejection {
	char prog[64];         /* the program refused; "" if none was */
	char reason[256];      /* the verifier log's last meaningful line */
};

/* Route libbpf's messages here; forgets any earlier rejection. */
void gp_bpflog_install(void);
/* The last program load libbpf reported as failed, or NULL. */
const struct gp_bpf_rejection *gp_bpflog_rejection(void);
/*
 * Pick the reason out of a verifier log: its last line that is not a
 * statistic or a register dump. Exposed for the unit test.
 */
void gp_bpflog_reason(const char *log, char *out, unsigned long len);

#endif
