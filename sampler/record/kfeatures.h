/* SPDX-License-Identifier: BSD-2-Clause */
/* kfeatures.h: not features.h, which glibc's headers include as <features.h>. */
#ifndef GP_KFEATURES_H
#define GP_KFEATURES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The kernel features gil-prof's BPF programs use, probed before loading
 * (libbpf's feature probes, the kernel's BTF), never guessed from the
 * version string: distributions backport. A kernel that lacks what a
 * recording needs is refused in one line that names the feature and the
 * mainline version that brought it. Usable by any command (`check`).
 */
enum gp_feature {
	GP_FEAT_BTF = 0,             /* kernel BTF (CONFIG_DEBUG_INFO_BTF) */
	GP_FEAT_RINGBUF,             /* BPF ring buffer */
	GP_FEAT_LOOP,                /* bpf_loop: the thread scan and the frame walk */
	GP_FEAT_CURRENT_TASK_BTF,    /* bpf_get_current_task_btf */
	GP_FEAT_TASK_PT_REGS,        /* bpf_task_pt_regs: a thread's user registers */
	GP_FEAT_FIND_VMA,            /* bpf_find_vma: the user stack's size (--native) */
	GP_FEAT_COPY_FROM_USER_TASK, /* bpf_copy_from_user_task: the start snapshot (wall) */
	GP_FEAT_SWITCH_STATE,        /* sched_switch's prev_state argument (wall) */
	GP_FEAT_ITER_TASK_PID,       /* task iterator of one process (else: all tasks) */
	GP_FEAT__MAX,
};

struct gp_features {
	bool has[GP_FEAT__MAX];
	char release[65];          /* uname -r */
};

/*
 * Probe the running kernel. btf_path: BTF to read when the kernel's own
 * (/sys/kernel/btf/vmlinux) is not there (NULL: none). Never fails: what
 * cannot be probed is absent.
 */
void gp_features_probe(struct gp_features *f, const char *btf_path);
/* "bpf_loop" */
const char *gp_feature_name(enum gp_feature feat);
/* The mainline version that brought it: "5.17" */
const char *gp_feature_since(enum gp_feature feat);
/* What gil-prof does with it: "the thread scan and the Python frame walk" */
const char *gp_feature_use(enum gp_feature feat);

/* What a recording needs (the rest is optional, with a fallback). */
struct gp_feature_needs {
	bool native;               /* --native: user stack copies */
	bool wall;                 /* wall mode: switches and the start snapshot */
};

/*
 * The features of needs that f lacks, as one sentence in buf ("this
 * kernel (5.10.0-32-amd64) lacks bpf_loop (5.17+), ..."). Returns how
 * many are missing (0: buf is "").
 */
int gp_features_refusal(const struct gp_features *f, const struct gp_feature_needs *needs,
			char *buf, size_t len);
/* Does a recording with needs require feat (else it has a fallback)? */
bool gp_feature_needed(enum gp_feature feat, const struct gp_feature_needs *needs);
/* Is feat probed from the kernel's BTF (so unknown without it)? */
bool gp_feature_from_btf(enum gp_feature feat);

#endif
