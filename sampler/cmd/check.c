// SPDX-License-Identifier: BSD-2-Clause
/*
 * check.c — the `check` command: will profiling work here, and if not,
 * why and what to do. Each probe is an entry of a list (probes[] for the
 * machine, target_probes[] for -p PID) that says ok, a note, or a failure
 * with the exit code `record` would end with; the kernel's BPF features
 * come from record/kfeatures.c, as record's own check. The decisive probe
 * loads and attaches the sampler itself, as `record` would, and detaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "commands.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../record/bpfload.h"
#include "../record/giltrace.h"
#include "../record/kfeatures.h"
#include "../record/privileges.h"
#include "../target/pyversion.h"
#include "../target/target.h"
#include "../../unwind/targetmem.h"

/* Capability numbers (linux/capability.h), some newer than old headers. */
#define CAP_SYS_PTRACE_NR 19
#define CAP_SYS_ADMIN_NR 21
#define CAP_PERFMON_NR 38
#define CAP_BPF_NR 39
#define HAS_CAP(caps, nr) (((caps) >> (nr)) & 1)

/* Python row the sampler is loaded with when no target is given. */
#define CHECK_LAYOUT_HEX 0x030c00f0

enum verdict { CHECK_OK = 0, CHECK_NOTE, CHECK_FAIL };

struct check {
	const struct gp_options *o;
	struct gp_target t;        /* with -p, once attached */
	bool attached;
	int exit_code;             /* of the first failure */
	int failures;
	char text[512];            /* the line's text, set by the probe */
	int fail_code;             /* a failing probe's exit code */
	bool cpu_only;             /* the kernel lacks what wall mode needs */
};

__attribute__((format(printf, 2, 3))) static void say(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

/* A failure: what is wrong and what to do, and the exit code it means. */
__attribute__((format(printf, 3, 4))) static enum verdict fail(struct check *c, int code,
								const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	c->fail_code = code;
	return CHECK_FAIL;
}

static int read_int_file(const char *path, long *v)
{
	char buf[64];

	if (gp_read_proc(path, buf, sizeof(buf)) <= 0)
		return -1;
	*v = strtol(buf, NULL, 10);
	return 0;
}

static enum verdict probe_kernel(struct check *c)
{
	struct utsname u;

	if (uname(&u))
		return fail(c, GP_EXIT_KERNEL, "kernel: uname failed: %s", strerror(errno));
	say(c, "kernel %s (%s)", u.release, u.machine);
	if (strcmp(u.machine, "x86_64"))
		return fail(c, GP_EXIT_KERNEL, "kernel %s on %s: gil-prof samples x86-64 only",
			    u.release, u.machine);
	return CHECK_OK;
}

static enum verdict probe_btf(struct check *c)
{
	const char *path = c->o->btf_path ? c->o->btf_path : "/sys/kernel/btf/vmlinux";

	if (access(path, R_OK))
		return fail(c, GP_EXIT_KERNEL,
			    "BTF: %s: %s; the kernel needs CONFIG_DEBUG_INFO_BTF=y (or give "
			    "--btf FILE)",
			    path, strerror(errno));
	say(c, "BTF: %s", path);
	return CHECK_OK;
}

static enum verdict probe_privileges(struct check *c)
{
	uint64_t caps = gp_effective_capabilities();
	char missing[128] = "";
	bool load = (HAS_CAP(caps, CAP_BPF_NR) && HAS_CAP(caps, CAP_PERFMON_NR)) ||
		    HAS_CAP(caps, CAP_SYS_ADMIN_NR);

	if (!load && !HAS_CAP(caps, CAP_BPF_NR))
		strcat(missing, " CAP_BPF");
	if (!load && !HAS_CAP(caps, CAP_PERFMON_NR))
		strcat(missing, " CAP_PERFMON");
	if (!HAS_CAP(caps, CAP_SYS_PTRACE_NR))
		strcat(missing, " CAP_SYS_PTRACE");
	if (missing[0])
		return fail(c, GP_EXIT_PERMISSION,
			    "privileges: uid %d lacks%s (CapEff %#" PRIx64 "); run with sudo, or "
			    "grant CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE",
			    (int)geteuid(), missing, caps);
	say(c, "privileges: %s with CAP_BPF, CAP_PERFMON%s and CAP_SYS_PTRACE",
	    geteuid() ? "non-root" : "root",
	    HAS_CAP(caps, CAP_SYS_ADMIN_NR) ? ", CAP_SYS_ADMIN" : "");
	return CHECK_OK;
}

static enum verdict probe_paranoid(struct check *c)
{
	uint64_t caps = gp_effective_capabilities();
	long v;

	if (read_int_file("/proc/sys/kernel/perf_event_paranoid", &v))
		return say(c, "perf_event_paranoid: unreadable"), CHECK_NOTE;
	if (v > 2 && !HAS_CAP(caps, CAP_PERFMON_NR) && !HAS_CAP(caps, CAP_SYS_ADMIN_NR))
		return fail(c, GP_EXIT_PERMISSION,
			    "perf_event_paranoid = %ld: CPU-clock events need CAP_PERFMON (or "
			    "sysctl kernel.perf_event_paranoid=2)",
			    v);
	say(c, "perf_event_paranoid = %ld%s", v,
	    HAS_CAP(caps, CAP_PERFMON_NR) ? " (CAP_PERFMON: not limited by it)" : "");
	return CHECK_OK;
}

static enum verdict probe_lockdown(struct check *c)
{
	char buf[128], *mode, *end;

	if (gp_read_proc("/sys/kernel/security/lockdown", buf, sizeof(buf)) <= 0)
		return say(c, "lockdown: not available (no lockdown LSM)"), CHECK_OK;
	mode = strchr(buf, '[');
	end = mode ? strchr(mode, ']') : NULL;
	if (!mode || !end)
		return say(c, "lockdown: %s", buf), CHECK_NOTE;
	*end = '\0';
	mode++;
	/* confidentiality forbids BPF reads of kernel memory (bpf_probe_read_kernel). */
	if (!strcmp(mode, "confidentiality"))
		return fail(c, GP_EXIT_KERNEL,
			    "lockdown = confidentiality: BPF may not read kernel memory; boot "
			    "with lockdown=integrity or none");
	say(c, "lockdown = %s", mode);
	return CHECK_OK;
}

static enum verdict probe_ptrace_scope(struct check *c)
{
	long v;

	if (read_int_file("/proc/sys/kernel/yama/ptrace_scope", &v))
		return say(c, "ptrace_scope: no Yama (reading other processes is up to "
			      "CAP_SYS_PTRACE)"),
		       CHECK_OK;
	if (v >= 3)
		return fail(c, GP_EXIT_PERMISSION,
			    "ptrace_scope = 3: no process may read another's memory, not even "
			    "root, until reboot (set kernel.yama.ptrace_scope below 3 at boot)");
	say(c, "ptrace_scope = %ld (CAP_SYS_PTRACE reads any process)", v);
	return CHECK_OK;
}

static bool can_load_bpf(void)
{
	uint64_t caps = gp_effective_capabilities();

	return (HAS_CAP(caps, CAP_BPF_NR) && HAS_CAP(caps, CAP_PERFMON_NR)) ||
	       HAS_CAP(caps, CAP_SYS_ADMIN_NR);
}

static void report(struct check *c, enum verdict v);

/*
 * One line per BPF feature the sampler uses (record/kfeatures.c): what it
 * is for, and when absent what that costs and what to do. The probe's own
 * line sums them up.
 */
static enum verdict probe_features(struct check *c)
{
	struct gp_feature_needs basic = { .native = false, .wall = false },
				native = { .native = true }, wall = { .wall = true };
	struct gp_features f;
	bool none_works = false, wall_missing = false;
	int absent = 0;

	/* Without them every probe fails: it would blame the kernel. */
	if (!can_load_bpf())
		return say(c, "BPF features: not probed (loading BPF needs the privileges "
			      "above)"),
		       CHECK_NOTE;
	gp_features_probe(&f, c->o->btf_path);
	for (int i = 0; i < GP_FEAT__MAX; i++) {
		const char *name = gp_feature_name(i), *since = gp_feature_since(i);

		if (f.has[i]) {
			say(c, "feature %s: present (%s)", name, gp_feature_use(i));
			report(c, CHECK_OK);
			continue;
		}
		absent++;
		if (!f.has[GP_FEAT_BTF] && gp_feature_from_btf(i)) {
			/* Read from the kernel's BTF, which is missing: unknown. */
			say(c, "feature %s: not probed (it is read from the kernel's BTF)", name);
			report(c, CHECK_NOTE);
		} else if (gp_feature_needed(i, &basic)) {
			none_works = true;
			report(c, fail(c, GP_EXIT_KERNEL,
				       "feature %s: absent; every recording needs it (%s): run a "
				       "kernel %s or newer, or one with it backported",
				       name, gp_feature_use(i), since));
		} else if (gp_feature_needed(i, &native)) {
			say(c, "feature %s: absent; --native is unavailable (%s), the rest works: "
			       "a kernel %s or newer has it", name, gp_feature_use(i), since);
			report(c, CHECK_NOTE);
		} else if (gp_feature_needed(i, &wall)) {
			wall_missing = true;
			say(c, "feature %s: absent; wall mode is unavailable (%s), --mode cpu works: "
			       "a kernel %s or newer has it", name, gp_feature_use(i), since);
			report(c, CHECK_NOTE);
		} else {
			say(c, "feature %s: absent; a fallback is used (%s; %s+)", name,
			    gp_feature_use(i), since);
			report(c, CHECK_NOTE);
		}
	}
	if (none_works)
		return fail(c, GP_EXIT_KERNEL, "BPF features: no recording works here");
	c->cpu_only = wall_missing;
	if (!absent)
		return say(c, "BPF features: all %d gil-prof uses", GP_FEAT__MAX), CHECK_OK;
	return say(c, "BPF features: %d of %d absent (the lines above)", absent, GP_FEAT__MAX),
	       CHECK_NOTE;
}

/* In a container (its own PID namespace or a runtime's marker file)? */
static enum verdict probe_container(struct check *c)
{
	char line[256];
	int levels = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "NSpid:", 6))
				for (char *p = line + 6; *p; p++)
					levels += (*p == '\t' || *p == ' ') && p[1] >= '0' && p[1] <= '9';
		fclose(f);
	}
	if (levels > 1 || !access("/.dockerenv", F_OK) || !access("/run/.containerenv", F_OK)) {
		say(c, "container: yes%s; it needs CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and "
		       "the host's /sys/kernel/btf; it sees the processes of its PID namespace",
		    levels > 1 ? " (own PID namespace)" : "");
		return CHECK_NOTE;
	}
	say(c, "container: no (the host's PID namespace)");
	return CHECK_OK;
}

/* The decisive one: load and attach the sampler as record would, then detach. */
static enum verdict probe_sampler(struct check *c)
{
	const struct py_layout *L = c->attached ? c->t.layout
						: gp_layout_for(CHECK_LAYOUT_HEX, false);
	struct gp_bpf_config cfg = {
		.btf_path = c->o->btf_path,
		.layout = L,
		.rate_hz = GP_DEFAULT_RATE,
		.max_frames = GP_MAX_FRAMES,
		.ringbuf_bytes = 1u << 20,
		/* As record would load it here: cpu mode where wall mode cannot be. */
		.wall = !c->cpu_only,
	};
	struct gp_bpf b = { 0 };
	int rc;

	if (!L)
		return fail(c, GP_EXIT_FAILURE, "sampler: no layout row to load it with");
	rc = gp_bpf_load(&b, &cfg);
	if (!rc)
		rc = gp_bpf_attach_procs(&b);
	if (!rc && !c->cpu_only)
		rc = gp_bpf_attach_switch(&b);
	if (!rc)
		rc = gp_bpf_attach(&b, GP_DEFAULT_RATE);
	if (b.skel)
		gp_bpf_destroy(&b);
	if (rc)
		return fail(c, rc,
			    "sampler: the kernel refused it (gil-prof's error on stderr says "
			    "how)%s",
			    rc == GP_EXIT_PERMISSION ? "; run with sudo" : "");
	if (c->cpu_only) {
		say(c, "sampler: loads and attaches in cpu mode (CPU-clock sampling, process "
		       "events); wall mode needs the features above");
		return CHECK_NOTE;
	}
	say(c, "sampler: loads and attaches (CPU-clock sampling, sched_switch, task "
	       "iterator, process events)");
	return CHECK_OK;
}

/* --- with -p PID ------------------------------------------------------------ */

static enum verdict probe_target(struct check *c)
{
	int rc = gp_target_attach(c->o->pid, &c->t);

	if (rc)
		return fail(c, rc,
			    "process %d: cannot be profiled (gil-prof's error on stderr says "
			    "why)",
			    (int)c->o->pid);
	c->attached = true;
	say(c, "process %d: %s, CPython %s (%s), supported", (int)c->t.pid, c->t.comm,
	    c->t.version, c->t.python_path);
	return CHECK_OK;
}

static enum verdict probe_memory(struct check *c)
{
	struct gp_mem mem;
	pid_t pid;
	uint64_t word;

	if (!c->attached)
		return say(c, "memory: not checked"), CHECK_NOTE;
	pid = c->t.pid;
	mem = gp_mem_process(&pid);
	if (gp_mem_read_u64(&mem, c->t.runtime, &word))
		return fail(c, GP_EXIT_PERMISSION,
			    "memory: _PyRuntime at %#" PRIx64 " unreadable: %s (ptrace_scope, "
			    "CAP_SYS_PTRACE, or another PID namespace)",
			    c->t.runtime, strerror(errno));
	say(c, "memory: readable (_PyRuntime at %#" PRIx64 ")", c->t.runtime);
	return CHECK_OK;
}

static enum verdict probe_giltrace(struct check *c)
{
	struct gp_giltrace g = { 0 };

	if (!c->attached)
		return say(c, "GIL timeline: not checked"), CHECK_NOTE;
	if (gp_giltrace_choose(&g, &c->t, GP_GIL_TRACE_AUTO))
		return say(c, "GIL timeline: %s", g.why), CHECK_NOTE;
	if (g.kind == GP_GIL_EVENTS_UPROBES) {
		say(c, "GIL timeline: uprobes on take_gil/drop_gil (native symbols present)");
		gp_giltrace_detach(&g);
		return CHECK_OK;
	}
	gp_giltrace_detach(&g);
	say(c, "GIL timeline: a hardware watchpoint (no take_gil/drop_gil symbols: a "
	       "stripped build; --native shows fewer native names)");
	return CHECK_NOTE;
}

typedef enum verdict (*probe_fn)(struct check *c);

static const probe_fn probes[] = {
	probe_kernel,   probe_btf,      probe_privileges,   probe_features,
	probe_paranoid, probe_lockdown, probe_ptrace_scope, probe_container,
};

static const probe_fn target_probes[] = {
	probe_target,
	probe_memory,
	probe_giltrace,
};

/* Prints the line a probe set (c->text) with its verdict; counts failures. */
static void report(struct check *c, enum verdict v)
{
	static const char *const words[] = { "ok  ", "note", "FAIL" };

	printf("  %s  %s\n", words[v], c->text);
	fflush(stdout);
	if (v == CHECK_FAIL && !c->failures++)
		c->exit_code = c->fail_code ? c->fail_code : GP_EXIT_FAILURE;
	c->text[0] = '\0';
	c->fail_code = 0;
}

static void run(struct check *c, probe_fn fn)
{
	c->text[0] = '\0';
	c->fail_code = 0;
	report(c, fn(c));
}

int gp_cmd_check(struct gp_options *o)
{
	struct check c = { .o = o };

	printf("gil-prof check%s\n", o->pid ? " (and the target)" : "");
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		run(&c, probes[i]);
	if (o->pid)
		for (size_t i = 0; i < sizeof(target_probes) / sizeof(target_probes[0]); i++)
			run(&c, target_probes[i]);
	/* Last: with the target's layout when there is one. */
	if (!c.failures || !o->pid || c.attached)
		run(&c, probe_sampler);
	if (c.failures)
		printf("result: a recording would fail (exit status %d)\n", c.exit_code);
	else
		printf("result: profiling works here\n");
	if (c.attached)
		gp_target_close(&c.t);
	return c.failures ? c.exit_code : GP_EXIT_OK;
}
