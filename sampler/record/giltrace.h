/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_GILTRACE_H
#define GP_GILTRACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpfload.h"
#include "../cli/cli.h"
#include "../target/target.h"

/*
 * Tracing every GIL acquisition and release of the target, for the
 * timeline (the BPF side is bpf/gilevents.h):
 *
 *   uprobes     a uretprobe on take_gil and a uprobe on drop_gil, found in
 *               the interpreter's symbol table (pyenv and other unstripped
 *               builds): about 1.5 us per transition;
 *   watchpoint  a hardware write watchpoint on gil->locked in every thread
 *               (inherited by the threads they start): no symbols needed,
 *               so it works on stripped builds (Debian's python3.11), but
 *               each transition costs a debug exception (~10 us in a VM).
 *
 * auto picks uprobes when both symbols are there, else the watchpoint.
 */
struct gp_giltrace {
	enum gp_gil_events kind;
	pid_t pid;
	/* uprobes: the interpreter's file (open until attached), its path as
	 * /proc/self/fd/N, and the functions' file offsets */
	int fd;
	char path[64];
	uint64_t take_off, drop_off;
	/* watchpoint: the watched word, the threads watched */
	uint64_t addr;
	pid_t *tids;
	size_t ntids, captids;
	struct bpf_link **links;
	size_t nlinks, caplinks;
	char why[PATH_MAX + 256];  /* why the last call failed */
};

/*
 * Pick the mechanism for t (want: --gil-trace). Returns 0, or an exit code
 * with the reason in g->why (uprobes asked for, symbols missing).
 */
int gp_giltrace_choose(struct gp_giltrace *g, const struct gp_target *t, enum gp_gil_trace want);

/* "uprobes" or "watchpoint". */
const char *gp_giltrace_name(const struct gp_giltrace *g);

/*
 * Start tracing. gil: &gil of the main interpreter, 0 while unknown (a
 * watchpoint then waits: call again once it is known). Returns 0, or an
 * exit code with the reason in g->why.
 */
int gp_giltrace_attach(struct gp_giltrace *g, struct gp_bpf *b, uint64_t gil, int32_t locked_off);

/* Attached (a watchpoint waits for the GIL's address)? */
bool gp_giltrace_active(const struct gp_giltrace *g);

/* Stop tracing and free everything. */
void gp_giltrace_detach(struct gp_giltrace *g);

#endif
