// SPDX-License-Identifier: BSD-2-Clause
/*
 * discovery.c — every CPython process on the host, for the agent. A scan
 * of /proc at the start, then the kernel's fork and exec records of the
 * sampler's own BPF object loaded in its host-wide mode (no sampling
 * program attached): an exec'd program is looked at a few times while the
 * dynamic loader maps it, a child forked by a known Python at once. Target
 * detection is record's (target.c); exits are found by a liveness check
 * (the pid gone, or reused: its start time differs).
 */
#define _GNU_SOURCE
#include "discovery.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../target/pyversion.h"
#include "../common/gp_clock.h"

/* Small: fork and exec records only. */
#define DISC_RINGBUF_BYTES (256u << 10)
#define LIVENESS_INTERVAL_NS (1000ULL * 1000 * 1000)
#define MS (1000ULL * 1000)

/*
 * When a pending process is looked at, counted from its exec or fork: the
 * dynamic loader maps libpython within milliseconds, an embedding program
 * may dlopen it later; the last look is final (not Python: forgotten).
 */
static const uint64_t probe_after_ns[] = { 2 * MS, 20 * MS, 100 * MS, 500 * MS, 2000 * MS };
#define NPROBES (sizeof(probe_after_ns) / sizeof(probe_after_ns[0]))

struct gp_disc_proc *gp_discovery_find(struct gp_discovery *d, pid_t pid)
{
	struct gp_disc_proc *p;

	HASH_FIND_INT(d->by_pid, &pid, p);
	return p;
}

/* Field 22 of /proc/PID/stat (clock ticks since boot); 0 if gone. */
static uint64_t start_ticks(pid_t pid)
{
	char path[64], buf[1024], *s;
	unsigned long long v = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (gp_read_proc(path, buf, sizeof(buf)) < 0)
		return 0;
	/* After "(comm)", which may hold spaces and parentheses: field 3 on. */
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
				"%*d %*d %*d %*d %llu",
			 &v) != 1)
		return 0;
	return v;
}

static const char *after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

/* A 64-hex-digit container id at s, ended by '.', '/', '\n' or the end. */
static bool container_id(const char *s, char *buf, size_t len)
{
	int n = 0;

	while (isxdigit((unsigned char)s[n]))
		n++;
	if (n != 64 || (s[n] && s[n] != '.' && s[n] != '/' && s[n] != '\n'))
		return false;
	snprintf(buf, len, "%.12s", s);
	return true;
}

/* A name up to '.', '/' or the line's end, systemd's \x2d escapes undone. */
static void unit_name(const char *s, const char *stop, char *buf, size_t len)
{
	size_t o = 0;

	while (*s && !strchr(stop, *s) && *s != '\n' && o + 1 < len) {
		if (!strncmp(s, "\\x2d", 4)) {
			buf[o++] = '-';
			s += 4;
			continue;
		}
		buf[o++] = *s++;
	}
	buf[o] = '\0';
}

/* One path component of a cgroup path. */
static bool container_in(const char *c, char *buf, size_t len)
{
	static const char *const id_prefixes[] = {
		"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-",
	};
	const char *v;

	for (size_t i = 0; i < sizeof(id_prefixes) / sizeof(id_prefixes[0]); i++)
		if ((v = after(c, id_prefixes[i])) && container_id(v, buf, len))
			return true;
	/* cgroupfs drivers: /docker/ID, /kubepods/.../ID, /lxc/NAME. */
	if (container_id(c, buf, len))
		return true;
	if ((v = after(c, "machine-")) && strstr(v, ".scope")) {
		unit_name(v, "/", buf, len);
		buf[strlen(buf) > 6 ? strlen(buf) - 6 : 0] = '\0'; /* ".scope" */
		return buf[0] != '\0';
	}
	if ((v = after(c, "lxc.payload.")) != NULL) {
		unit_name(v, "/", buf, len);
		return buf[0] != '\0';
	}
	return false;
}

void gp_container_from_cgroup(const char *cgroup, char *buf, size_t len)
{
	const char *line = cgroup;

	buf[0] = '\0';
	/* "0::/path" (v2) or "N:controllers:/path" (v1): the first path that names one. */
	while (line && *line) {
		const char *path = strchr(line, ':');

		path = path ? strchr(path + 1, ':') : NULL;
		for (const char *c = path ? path + 1 : NULL; c && *c && *c != '\n';) {
			if (*c == '/') {
				if (!strncmp(c, "/lxc/", 5)) {
					unit_name(c + 5, "/", buf, len);
					if (buf[0])
						return;
				}
				c++;
				continue;
			}
			if (container_in(c, buf, len))
				return;
			c += strcspn(c, "/\n");
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
}

static void read_container(pid_t pid, char *buf, size_t len)
{
	char path[64], text[4096];

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (gp_read_proc(path, text, sizeof(text)) < 0) {
		buf[0] = '\0';
		return;
	}
	gp_container_from_cgroup(text, buf, len);
}

static struct gp_disc_proc *add(struct gp_discovery *d, pid_t pid, uint64_t now_ns)
{
	struct gp_disc_proc *p = gp_discovery_find(d, pid);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return NULL;
		p->pid = pid;
		HASH_ADD_INT(d->by_pid, pid, p);
	}
	p->verdict = GP_DISC_PENDING;
	p->probes = 0;
	p->announced = false;
	p->reason = NULL;
	p->why[0] = p->version[0] = '\0';
	p->next_probe_ns = now_ns + probe_after_ns[0];
	p->start_ticks = start_ticks(pid);
	return p;
}

static void forget(struct gp_discovery *d, struct gp_disc_proc *p)
{
	HASH_DEL(d->by_pid, p);
	free(p);
}

/* The label value of a refusal, from target.c's exit code. */
static const char *reason_for(int rc)
{
	switch (rc) {
	case GP_EXIT_UNSUPPORTED:
		return "unsupported_version";
	case GP_EXIT_PERMISSION:
		return "permission";
	default:
		return "unreadable";
	}
}

/* One look at a pending process; final: the verdict is taken now. */
static void probe(struct gp_discovery *d, struct gp_disc_proc *p, bool final, uint64_t now_ns)
{
	struct gp_target t;
	int rc;

	d->probes++;
	rc = gp_target_probe(p->pid, &t, final, p->why, sizeof(p->why));
	p->probes++;
	if (rc == GP_TARGET_NOT_YET) {
		if ((size_t)p->probes >= NPROBES) {
			forget(d, p);
			return;
		}
		p->next_probe_ns = now_ns + probe_after_ns[p->probes] - probe_after_ns[p->probes - 1];
		return;
	}
	if (rc == GP_EXIT_NOT_PYTHON || rc == GP_EXIT_TARGET_GONE || rc == GP_EXIT_NO_PROCESS) {
		forget(d, p);
		return;
	}
	snprintf(p->comm, sizeof(p->comm), "%s", t.comm);
	snprintf(p->version, sizeof(p->version), "%s", t.version);
	read_container(p->pid, p->container, sizeof(p->container));
	if (rc) {
		p->verdict = GP_DISC_UNSUPPORTED;
		p->reason = reason_for(rc);
		return;
	}
	p->verdict = GP_DISC_PYTHON;
	p->t = t;
	/* t.layout pointed into the probe's copy: its own row now. */
	if (t.layout == &t.live)
		p->t.layout = &p->t.live;
	p->why[0] = '\0';
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct gp_discovery *d = ctx;
	const struct gp_proc_event *e = data;
	struct gp_disc_proc *p;

	if (size < sizeof(*e))
		return 0;
	d->events++;
	switch (e->type) {
	case GP_EV_EXEC:
		/* A new program: Python's or not, looked at from scratch. */
		p = gp_discovery_find(d, (pid_t)e->pid);
		if (p && p->announced && d->gone)
			d->gone(d->ctx, p->pid);
		if (!add(d, (pid_t)e->pid, d->now_ns))
			return -ENOMEM;
		break;
	case GP_EV_FORK:
		/*
		 * A fork copies its parent's program: only the children of a
		 * Python, or of a program still being looked at (a Python that
		 * forks its workers right after it started), are looked at.
		 */
		p = gp_discovery_find(d, (pid_t)e->ppid);
		if (p && !gp_discovery_find(d, (pid_t)e->pid) && !add(d, (pid_t)e->pid, d->now_ns))
			return -ENOMEM;
		break;
	default:
		break;
	}
	return 0;
}

/* Every process already running: one final look each. */
static void scan_proc(struct gp_discovery *d, uint64_t now_ns)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();

	if (!dir) {
		gp_warn("cannot list /proc: %s; only processes started from now on are found",
			strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		char *end, link[64], exe[8];
		long pid = strtol(de->d_name, &end, 10);
		struct gp_disc_proc *p;

		if (*end || pid <= 0 || pid == self)
			continue;
		/* Kernel threads have no executable: not even a map to read. */
		snprintf(link, sizeof(link), "/proc/%ld/exe", pid);
		if (readlink(link, exe, sizeof(exe)) < 0)
			continue;
		p = add(d, (pid_t)pid, now_ns);
		if (p)
			probe(d, p, true, now_ns);
	}
	closedir(dir);
}

int gp_discovery_start(struct gp_discovery *d, const char *btf_path)
{
	struct gp_bpf_config cfg = {
		.btf_path = btf_path,
		/* Any row: no program that reads Python memory is attached. */
		.layout = &gp_py_layouts[0],
		.rate_hz = 1,
		.max_frames = GP_MAX_FRAMES,
		.ringbuf_bytes = DISC_RINGBUF_BYTES,
		.host_procs = true,
	};
	int rc;

	memset(d, 0, sizeof(*d));
	rc = gp_bpf_load(&d->b, &cfg);
	/* Attached before the scan: a process started meanwhile is not missed. */
	if (!rc)
		rc = gp_bpf_attach_procs(&d->b);
	if (rc)
		return rc;
	d->rb = ring_buffer__new(gp_bpf_ringbuf_fd(&d->b), on_event, d, NULL);
	if (!d->rb) {
		gp_error("cannot open the discovery ring buffer: %s", strerror(errno));
		return GP_EXIT_FAILURE;
	}
	scan_proc(d, gp_mono_ns());
	return 0;
}

void gp_discovery_free(struct gp_discovery *d)
{
	struct gp_disc_proc *p, *tmp;

	ring_buffer__free(d->rb);
	if (d->b.skel)
		gp_bpf_destroy(&d->b);
	HASH_ITER(hh, d->by_pid, p, tmp) {
		forget(d, p);
	}
	memset(d, 0, sizeof(*d));
}

/* Exited, or the pid now belongs to another process. */
static void check_alive(struct gp_discovery *d)
{
	struct gp_disc_proc *p, *tmp;

	HASH_ITER(hh, d->by_pid, p, tmp) {
		uint64_t st = start_ticks(p->pid);

		if (st && st == p->start_ticks)
			continue;
		if (p->announced && d->gone)
			d->gone(d->ctx, p->pid);
		forget(d, p);
	}
}

void gp_discovery_tick(struct gp_discovery *d, uint64_t now_ns,
		       bool (*found)(void *ctx, struct gp_disc_proc *p),
		       void (*gone)(void *ctx, pid_t pid), void *ctx)
{
	struct gp_disc_proc *p, *tmp;
	uint64_t c[GP_CNT__MAX];

	d->now_ns = now_ns;
	d->gone = gone;
	d->ctx = ctx;
	ring_buffer__consume(d->rb);
	gp_bpf_counters(&d->b, c);
	d->lost_events = c[GP_CNT_RB_FULL];
	if (now_ns >= d->next_liveness_ns) {
		check_alive(d);
		d->next_liveness_ns = now_ns + LIVENESS_INTERVAL_NS;
	}
	HASH_ITER(hh, d->by_pid, p, tmp) {
		if (p->verdict == GP_DISC_PENDING && now_ns >= p->next_probe_ns)
			probe(d, p, (size_t)p->probes + 1 >= NPROBES, now_ns);
	}
	HASH_ITER(hh, d->by_pid, p, tmp) {
		if (p->verdict == GP_DISC_PENDING || p->announced)
			continue;
		p->announced = !found || found(ctx, p);
	}
	d->gone = NULL;
}

void gp_discovery_recheck(struct gp_discovery *d, pid_t pid, uint64_t now_ns)
{
	struct gp_disc_proc *p = gp_discovery_find(d, pid);

	if (p && p->verdict == GP_DISC_PENDING)
		return;
	add(d, pid, now_ns);
}

void gp_discovery_refuse(struct gp_discovery *d, pid_t pid, const char *reason,
			 const char *why)
{
	struct gp_disc_proc *p = gp_discovery_find(d, pid);

	if (!p)
		return;
	p->verdict = GP_DISC_UNSUPPORTED;
	p->reason = reason;
	snprintf(p->why, sizeof(p->why), "%s", why);
}
