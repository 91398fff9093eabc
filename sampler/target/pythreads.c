// SPDX-License-Identifier: BSD-2-Clause
/*
 * pythreads.c — thread names as Python knows them ("MainThread",
 * "worker-1", whatever Thread(name=...) or t.name = ... said), read from
 * the target's threading._active without running anything in it.
 *
 *   _PyRuntime -> main interpreter -> sys.modules["threading"].__dict__
 *   ["_active"] -> each Thread's _name and _native_id
 *
 * Layouts of dicts, instance attributes and ints come from the version's
 * py_objlayout row. Reads are bounded (unwind/pyobj.c); anything that does
 * not look right leaves the name unknown, and /proc's comm is used.
 */
#define _GNU_SOURCE
#include "pythreads.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/pystr.h"

void gp_pythreads_init(struct gp_pythreads *pt, const struct py_layout *L,
		       const struct py_objlayout *O, struct gp_mem mem, uint64_t runtime)
{
	memset(pt, 0, sizeof(*pt));
	pt->r.L = L;
	pt->r.O = O;
	pt->r.mem = mem;
	pt->runtime = runtime;
}

void gp_pythreads_free(struct gp_pythreads *pt)
{
	free(pt->v);
	pt->v = NULL;
	pt->n = 0;
}

/* threading._active, through sys.modules of the main interpreter. */
static uint64_t find_active(const struct gp_pythreads *pt)
{
	const struct gp_pyobj *r = &pt->r;
	uint64_t interp, modules, threading, mdict, active;

	if (gp_mem_read_u64(&r->mem, pt->runtime + r->L->rt_interp_main, &interp) || !interp ||
	    gp_mem_read_u64(&r->mem, interp + r->O->interp_modules, &modules) ||
	    !gp_pyobj_type_is(r, modules, "dict"))
		return 0;
	threading = gp_pydict_get(r, modules, "threading");
	if (!gp_pyobj_type_is(r, threading, "module") ||
	    gp_mem_read_u64(&r->mem, threading + r->O->module_dict, &mdict) ||
	    !gp_pyobj_type_is(r, mdict, "dict"))
		return 0;
	active = gp_pydict_get(r, mdict, "_active");
	return gp_pyobj_type_is(r, active, "dict") ? active : 0;
}

struct collect {
	const struct gp_pyobj *r;
	struct gp_pythread *v;
	size_t n;
};

static int collect_thread(uint64_t key, uint64_t thread, void *ctx)
{
	struct collect *c = ctx;
	struct gp_pythread *t = &c->v[c->n];
	uint64_t name = gp_pyobj_attr(c->r, thread, "_name");

	(void)key;
	if (c->n == GP_PYTHREADS_MAX)
		return 1;
	if (!gp_pyobj_type_is(c->r, name, "str") ||
	    gp_read_pystr(c->r->L, &c->r->mem, name, t->name, sizeof(t->name)) || !t->name[0])
		return 0;
	/* None until the thread has started: nothing to name yet. */
	if (gp_pylong(c->r, gp_pyobj_attr(c->r, thread, "_native_id"), &t->native_id))
		return 0;
	c->n++;
	return 0;
}

int gp_pythreads_refresh(struct gp_pythreads *pt)
{
	struct collect c = { &pt->r, NULL, 0 };

	if (!pt->r.O || !pt->runtime)
		return -1;
	/* The dict object lives as long as the module: look it up once. */
	if (!gp_pyobj_type_is(&pt->r, pt->active, "dict"))
		pt->active = find_active(pt);
	if (!pt->active)
		return -1;
	c.v = calloc(GP_PYTHREADS_MAX, sizeof(*c.v));
	if (!c.v)
		return -1;
	if (gp_pydict_each(&pt->r, pt->active, collect_thread, &c)) {
		free(c.v);
		pt->active = 0;
		return -1;
	}
	free(pt->v);
	pt->v = c.v;
	pt->n = c.n;
	return 0;
}

const char *gp_pythreads_name(const struct gp_pythreads *pt, int64_t native_id)
{
	for (size_t i = 0; i < pt->n; i++)
		if (pt->v[i].native_id == native_id)
			return pt->v[i].name;
	return NULL;
}

int64_t gp_ns_tid(pid_t pid, pid_t tid)
{
	char path[64], line[256];
	int64_t id = tid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		line[strcspn(line, "\n")] = '\0';
		last = strrchr(line, '\t');
		if (last && sscanf(last + 1, "%" SCNd64, &id) != 1)
			id = tid;
		break;
	}
	fclose(f);
	return id;
}
