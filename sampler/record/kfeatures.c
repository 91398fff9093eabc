// SPDX-License-Identifier: BSD-2-Clause
/*
 * kfeatures.c — what the running kernel offers gil-prof's BPF programs.
 * Helpers are probed the way libbpf-tools do (libbpf_probe_bpf_helper:
 * the kernel verifies a two-instruction program calling the helper), for
 * the program type that calls them. Helpers of sleepable programs cannot
 * be probed that way (a perf_event program may never call them), nor can
 * tracepoint arguments or attach options: those come from the kernel's
 * BTF, which describes exactly what the kernel was built with.
 */
#include "kfeatures.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../common/gp_log.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

static const struct {
	const char *name, *since, *use;
} table[GP_FEAT__MAX] = {
	[GP_FEAT_BTF] = { "BTF (CONFIG_DEBUG_INFO_BTF)", "5.4",
			  "CO-RE: the programs fit this kernel's structures" },
	[GP_FEAT_RINGBUF] = { "the BPF ring buffer", "5.8", "samples reach gil-prof through it" },
	[GP_FEAT_LOOP] = { "bpf_loop", "5.17", "the thread scan and the Python frame walk" },
	[GP_FEAT_CURRENT_TASK_BTF] = { "bpf_get_current_task_btf", "5.11",
				       "the interrupted thread's task" },
	[GP_FEAT_TASK_PT_REGS] = { "bpf_task_pt_regs", "5.15",
				   "a thread's user registers: the GIL wait it sleeps in" },
	[GP_FEAT_FIND_VMA] = { "bpf_find_vma", "5.17", "--native: the user stack's extent" },
	[GP_FEAT_COPY_FROM_USER_TASK] = { "bpf_copy_from_user_task", "5.18",
					  "wall mode: the stacks of threads already blocked" },
	[GP_FEAT_SWITCH_STATE] = { "sched_switch's prev_state argument", "5.18",
				   "wall mode: blocked or preempted at each switch" },
	[GP_FEAT_ITER_TASK_PID] = { "task iterators of one process", "6.1",
				    "the start snapshot visits only the target's threads; "
				    "without it, every task" },
};

const char *gp_feature_name(enum gp_feature feat)
{
	return (unsigned int)feat < GP_FEAT__MAX ? table[feat].name : "?";
}

const char *gp_feature_since(enum gp_feature feat)
{
	return (unsigned int)feat < GP_FEAT__MAX ? table[feat].since : "?";
}

const char *gp_feature_use(enum gp_feature feat)
{
	return (unsigned int)feat < GP_FEAT__MAX ? table[feat].use : "?";
}

/* 1 if the kernel lets a perf_event program call helper. */
static bool perf_helper(enum bpf_func_id helper)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, helper, NULL) == 1;
}

/* Does enum bpf_func_id of this kernel name the helper (BPF_FUNC_...)? */
static bool btf_helper(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, "bpf_func_id", BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
			return true;
	return false;
}

/* Does the named struct or union have the member? */
static bool btf_member(const struct btf *btf, const char *type, int kind, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, kind);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id < 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

/* Parameters of a tracepoint's BTF prototype (btf_trace_NAME), ctx included. */
static int tracepoint_args(const struct btf *btf, const char *name)
{
	char tname[128];
	int id;
	const struct btf_type *t;

	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

void gp_features_probe(struct gp_features *f, const char *btf_path)
{
	const char *path = access(KERNEL_BTF, R_OK) == 0 ? KERNEL_BTF : btf_path;
	struct btf *btf = path ? btf__parse(path, NULL) : NULL;
	struct utsname u;

	memset(f, 0, sizeof(*f));
	if (!uname(&u))
		snprintf(f->release, sizeof(f->release), "%s", u.release);
	f->has[GP_FEAT_BTF] = btf != NULL;
	f->has[GP_FEAT_RINGBUF] = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	f->has[GP_FEAT_LOOP] = perf_helper(BPF_FUNC_loop);
	f->has[GP_FEAT_CURRENT_TASK_BTF] = perf_helper(BPF_FUNC_get_current_task_btf);
	f->has[GP_FEAT_TASK_PT_REGS] = perf_helper(BPF_FUNC_task_pt_regs);
	f->has[GP_FEAT_FIND_VMA] = perf_helper(BPF_FUNC_find_vma);
	if (btf) {
		f->has[GP_FEAT_COPY_FROM_USER_TASK] =
			btf_helper(btf, "BPF_FUNC_copy_from_user_task");
		/* ctx, preempt, prev, next, prev_state (5.18); prev_state last. */
		f->has[GP_FEAT_SWITCH_STATE] = tracepoint_args(btf, "sched_switch") >= 5;
		f->has[GP_FEAT_ITER_TASK_PID] =
			btf_member(btf, "bpf_iter_link_info", BTF_KIND_UNION, "task");
	}
	btf__free(btf);
	if (gp_log_verbose) {
		char line[512] = "";
		size_t at = 0;

		for (int i = 0; i < GP_FEAT__MAX && at < sizeof(line); i++)
			if (!f->has[i])
				at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s",
						       at ? ", " : "", table[i].name);
		gp_debug("kernel %s: BPF features probed; missing: %s", f->release,
			 at ? line : "none");
	}
}

bool gp_feature_from_btf(enum gp_feature feat)
{
	return feat == GP_FEAT_COPY_FROM_USER_TASK || feat == GP_FEAT_SWITCH_STATE ||
	       feat == GP_FEAT_ITER_TASK_PID;
}

bool gp_feature_needed(enum gp_feature feat, const struct gp_feature_needs *needs)
{
	switch (feat) {
	case GP_FEAT_BTF:
	case GP_FEAT_RINGBUF:
	case GP_FEAT_LOOP:
	case GP_FEAT_CURRENT_TASK_BTF:
	case GP_FEAT_TASK_PT_REGS:
		return true;
	case GP_FEAT_FIND_VMA:
		return needs->native;
	case GP_FEAT_COPY_FROM_USER_TASK:
	case GP_FEAT_SWITCH_STATE:
		return needs->wall;
	default:
		return false;
	}
}

int gp_features_refusal(const struct gp_features *f, const struct gp_feature_needs *needs,
			char *buf, size_t len)
{
	int missing = 0;
	size_t at;

	buf[0] = '\0';
	at = (size_t)snprintf(buf, len, "this kernel (%s) lacks ", f->release);
	for (int i = 0; i < GP_FEAT__MAX && at < len; i++) {
		if (!gp_feature_needed(i, needs) || f->has[i])
			continue;
		at += (size_t)snprintf(buf + at, len - at, "%s%s (%s+)", missing ? ", " : "",
				       table[i].name, table[i].since);
		missing++;
	}
	if (!missing)
		buf[0] = '\0';
	return missing;
}
