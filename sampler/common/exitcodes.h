/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_EXITCODES_H
#define GP_EXITCODES_H

#include <errno.h>

/*
 * gil-prof's exit codes: one per cause, so scripts can tell them apart.
 * Listed in README.md ("Exit codes"); keep the two in step. The man page's
 * EXIT STATUS is generated from the comments here (packaging/gen_manpage.py).
 */
enum gp_exit {
	GP_EXIT_OK = 0,             /* profile written (also when the target exited) */
	GP_EXIT_FAILURE = 1,        /* unexpected internal error */
	GP_EXIT_USAGE = 2,          /* bad command line */
	GP_EXIT_NO_PROCESS = 3,     /* no such process */
	GP_EXIT_NOT_PYTHON = 4,     /* the process is not a CPython interpreter */
	GP_EXIT_UNSUPPORTED = 5,    /* a CPython version or build not supported */
	GP_EXIT_PERMISSION = 6,     /* missing privileges (root or CAP_BPF+CAP_PERFMON) */
	GP_EXIT_KERNEL = 7,         /* kernel lacks BTF or a BPF feature gil-prof needs */
	GP_EXIT_OUTPUT = 8,         /* the profile cannot be written */
	GP_EXIT_LAUNCH = 9,         /* the command to profile could not be started */
	GP_EXIT_TARGET_GONE = 10,   /* the target exited before it could be attached */
	GP_EXIT_VERIFIER = 11,      /* the kernel's BPF verifier refused a program (-v shows its log) */
	GP_EXIT_UNTRUSTED = 12,     /* profile written, but most samples have no Python stack: not to be trusted */
	GP_EXIT_LISTEN = 13,        /* the agent cannot serve metrics at --listen */
};

/* The exit code for a failed kernel request: privileges, or the kernel. */
static inline int gp_exit_for_errno(int err)
{
	return (err == EPERM || err == EACCES) ? GP_EXIT_PERMISSION : GP_EXIT_KERNEL;
}

#endif
