/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PRIVILEGES_H
#define GP_PRIVILEGES_H

#include <stdint.h>

/*
 * Once the sampler is attached, gil-prof keeps only the capabilities the
 * rest of the recording needs (see README, "Reliability and security"):
 *   CAP_SYS_PTRACE        read the target's memory and /proc/PID/{maps,root}
 *   CAP_DAC_OVERRIDE,
 *   CAP_DAC_READ_SEARCH   read the target's files, write the profile where asked
 *   CAP_CHECKPOINT_RESTORE  open /proc/PID/map_files (CAP_SYS_ADMIN where the
 *                         kernel has no CAP_CHECKPOINT_RESTORE)
 *   CAP_BPF               map operations on the sampler's own maps (kernels
 *                         before 6.5 check it on every bpf() call; CAP_SYS_ADMIN
 *                         where there is no CAP_BPF)
 * Every other capability leaves the effective, permitted, inheritable,
 * ambient and bounding sets, and no_new_privs is set: nothing gil-prof could
 * be tricked into running later gains privileges. 0, or -1 with errno.
 */
int gp_drop_privileges(void);

/* The effective capabilities of gil-prof now (CapEff), 0 if unknown. */
uint64_t gp_effective_capabilities(void);

/*
 * Has gil-prof what loading the sampler and reading a target need: root,
 * or CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN) and CAP_SYS_PTRACE? 0, or
 * GP_EXIT_PERMISSION after saying what is missing.
 */
int gp_require_privileges(void);

/* The capabilities kept, as a bit mask of CAP_* numbers (for the tests). */
uint64_t gp_kept_capabilities(void);

#endif
