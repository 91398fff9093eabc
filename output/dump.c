// SPDX-License-Identifier: BSD-2-Clause
/*
 * dump.c — `gil-prof dump`'s two forms: text for a person (one block per
 * thread: the GIL state and what it waits in, then its stack innermost
 * first), and one JSON document for scripts, laid out as
 * output/dump.schema.json says.
 */
#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "../bpf/gilprof.h"
#include "jsonout.h"
#include "text.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

const char *gp_wait_name(enum gp_wait_kind k)
{
	static const char *const names[GP_WAIT__MAX] = {
		[GP_WAIT_NONE] = "none",     [GP_WAIT_GIL] = "gil",       [GP_WAIT_LOCK] = "lock",
		[GP_WAIT_SELECT] = "select", [GP_WAIT_POLL] = "poll",     [GP_WAIT_EPOLL] = "epoll",
		[GP_WAIT_SLEEP] = "sleep",   [GP_WAIT_READ] = "read",     [GP_WAIT_WRITE] = "write",
		[GP_WAIT_ACCEPT] = "accept", [GP_WAIT_CONNECT] = "connect",
		[GP_WAIT_CHILD] = "child",   [GP_WAIT_SIGNAL] = "signal", [GP_WAIT_OTHER] = "other",
	};

	return k < GP_WAIT__MAX && names[k] ? names[k] : "other";
}

/* What a person reads for each kind of wait. */
static const char *wait_text(enum gp_wait_kind k)
{
	static const char *const texts[GP_WAIT__MAX] = {
		[GP_WAIT_GIL] = "the GIL",
		[GP_WAIT_LOCK] = "a lock or condition",
		[GP_WAIT_SELECT] = "select",
		[GP_WAIT_POLL] = "poll",
		[GP_WAIT_EPOLL] = "epoll",
		[GP_WAIT_SLEEP] = "sleep",
		[GP_WAIT_READ] = "I/O (read)",
		[GP_WAIT_WRITE] = "I/O (write)",
		[GP_WAIT_ACCEPT] = "accept",
		[GP_WAIT_CONNECT] = "connect",
		[GP_WAIT_CHILD] = "a child process",
		[GP_WAIT_SIGNAL] = "a signal",
		[GP_WAIT_OTHER] = "the kernel",
	};

	return k < GP_WAIT__MAX && texts[k] ? texts[k] : "the kernel";
}

static const struct gp_dump_thread *find_thread(const struct gp_dump *d, pid_t tid)
{
	for (size_t i = 0; i < d->nthreads; i++)
		if (d->threads[i].tid == tid)
			return &d->threads[i];
	return NULL;
}

/* Why a stack ends early, or NULL when it is whole. */
static const char *walk_end_text(uint16_t end)
{
	switch (end) {
	case GP_WALK_COMPLETE:
	case GP_WALK_NO_FRAME:
		return NULL;
	case GP_WALK_READ_FAULT:
		return "stack cut: frame memory unreadable (changing while read)";
	case GP_WALK_BAD_CODE:
		return "stack cut: garbage frames";
	case GP_WALK_LOOP:
		return "stack cut: the frame chain loops";
	case GP_WALK_NO_BASE:
		return "stack cut: the frame chain ends before the thread's base frame";
	default:
		return "truncated: deeper than the sampler's frame limit";
	}
}

static void put_state(const struct gp_dump *d, const struct gp_dump_thread *th, FILE *out)
{
	const struct gp_dump_thread *h;

	switch (th->state) {
	case GP_STATE_HOLDING:
		fputs("holding the GIL", out);
		break;
	case GP_STATE_WAITING:
		fputs("waiting for the GIL", out);
		h = th->holder ? find_thread(d, th->holder) : NULL;
		if (h) {
			char *name = gp_text_clean(h->name);

			fprintf(out, " held by thread %d \"%s\"", (int)h->tid, name ? name : "");
			free(name);
		}
		break;
	case GP_STATE_RELEASED:
		fputs("running without the GIL", out);
		break;
	case GP_STATE_IDLE:
		fputs("idle (released the GIL)", out);
		break;
	default:
		fputs(th->seen ? "GIL state unknown" : "not seen by the sampler", out);
		break;
	}
	if (th->on_cpu)
		fputs(", on CPU", out);
	else if (th->wait != GP_WAIT_NONE)
		fprintf(out, ", waits in %s", wait_text(th->wait));
	if (!th->on_cpu && (th->syscall[0] || th->wchan[0])) {
		fputs(" (", out);
		if (th->syscall[0])
			fprintf(out, "%s", th->syscall);
		if (th->syscall[0] && th->wchan[0])
			fputs(", ", out);
		if (th->wchan[0])
			fprintf(out, "%s", th->wchan);
		fputc(')', out);
	}
}

/* --locals: a frame's variables under it, marked argument or local. */
static void put_vars(const struct gp_pyframe_vars *f, FILE *out)
{
	for (size_t k = 0; f && k < f->n; k++)
		fprintf(out, "        %-8s %s = %s\n", gp_var_kind_name(f->v[k].kind), f->v[k].name,
			f->v[k].repr);
	if (f && f->cut)
		fprintf(out, "        ... (%zu more variables not read)\n", f->cut);
}

static int put_frames(const struct gp_dump *d, const struct gp_dump_thread *th, FILE *out)
{
	const char *cut = walk_end_text(th->walk_end);

	for (size_t k = 0; k < th->nkernel; k++)
		fprintf(out, "    [kernel] %s\n", th->kernel[k]);
	for (uint32_t i = th->n; i-- > 0;) {
		char *text = gp_frame_text(d->prof, gp_loc(d->prof, th->locs[i]), true);

		if (!text)
			return -1;
		fprintf(out, "    %s\n", text);
		free(text);
		put_vars(th->vars ? th->vars[i] : NULL, out);
	}
	if (cut)
		fprintf(out, "    [%s]\n", cut);
	else if (!th->n && th->seen)
		fputs("    (no Python frame)\n", out);
	return 0;
}

static void put_process(const struct gp_dump *d, pid_t pid, FILE *out)
{
	const struct gp_process *pr = gp_profile_find_process(d->prof, pid);
	size_t n = 0;
	char *cmd;

	for (size_t i = 0; i < d->nthreads; i++)
		n += d->threads[i].pid == pid;
	cmd = gp_text_clean(pr && pr->cmdline[0] ? pr->cmdline : pr ? pr->comm : "");
	fprintf(out, "Process %d: %s\n", (int)pid, cmd ? cmd : "");
	free(cmd);
	fprintf(out, "Python %s, %zu thread%s%s\n", d->prof->python_version, n, n == 1 ? "" : "s",
		d->paused ? ", paused while read"
			  : ", not paused (each stack is exact; threads read moments apart)");
}

int gp_dump_write_text(const struct gp_dump *d, FILE *out)
{
	pid_t last = 0;

	for (size_t i = 0; i < d->nthreads; i++) {
		const struct gp_dump_thread *th = &d->threads[i];
		char *name = gp_text_clean(th->name);

		if (th->pid != last) {
			if (last)
				fputc('\n', out);
			put_process(d, th->pid, out);
			last = th->pid;
		}
		fprintf(out, "\nThread %d \"%s\": ", (int)th->tid, name ? name : "");
		free(name);
		put_state(d, th, out);
		fputc('\n', out);
		if (put_frames(d, th, out))
			return -1;
	}
	return fflush(out) || ferror(out) ? -1 : 0;
}

/* --- JSON ------------------------------------------------------------------ */

/* obj[key] = val, or null when there is none (want false). 0 or -1. */
static int put_opt(struct json_object *obj, const char *key, bool want,
		   struct json_object *(*make)(const void *), const void *arg)
{
	if (!want)
		return json_object_object_add(obj, key, NULL) ? -1 : 0;
	return gp_json_put(obj, key, make(arg));
}

static struct json_object *mk_int(const void *v)
{
	return json_object_new_int64(*(const int64_t *)v);
}

static struct json_object *mk_str(const void *v)
{
	return gp_json_str(v);
}

static const char *frame_kind(uint8_t kind)
{
	switch (kind) {
	case GP_FUNC_NATIVE:
		return "native";
	case GP_FUNC_KERNEL:
		return "kernel";
	case GP_FUNC_MARKER:
		return "marker";
	default:
		return "python";
	}
}

static struct json_object *json_vars(const struct gp_pyframe_vars *f)
{
	struct json_object *a = json_object_new_array();

	for (size_t k = 0; a && k < f->n; k++) {
		struct json_object *v = json_object_new_object();

		if (gp_json_append(a, v) ||
		    gp_json_put(v, "name", gp_json_str(f->v[k].name)) ||
		    gp_json_put(v, "kind", json_object_new_string(gp_var_kind_name(f->v[k].kind))) ||
		    gp_json_put(v, "repr", gp_json_str(f->v[k].repr))) {
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *json_frame(const struct gp_profile *p, uint32_t loc,
				      const struct gp_pyframe_vars *vars)
{
	const struct gp_location *l = gp_loc(p, loc);
	const struct gp_function *f = gp_func(p, l->func);
	const char *file = gp_loc_file(p, l);
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (gp_json_put(o, "kind", json_object_new_string(frame_kind(f->kind))) ||
	    gp_json_put(o, "function", gp_json_str(f->name)) ||
	    gp_json_put(o, "file", gp_json_str(file)) ||
	    put_opt(o, "line", l->line > 0, mk_int, &(int64_t){ l->line }) ||
	    (l->address &&
	     gp_json_put(o, "address", json_object_new_int64((int64_t)l->address))) ||
	    (vars && gp_json_put(o, "locals", json_vars(vars))) ||
	    (vars && vars->cut &&
	     gp_json_put(o, "locals_cut", json_object_new_int64((int64_t)vars->cut)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_kernel_frame(const char *text)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (gp_json_put(o, "kind", json_object_new_string("kernel")) ||
	    gp_json_put(o, "function", gp_json_str(text)) ||
	    gp_json_put(o, "file", json_object_new_string("")) ||
	    put_opt(o, "line", false, NULL, NULL)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_stack(const struct gp_dump *d, const struct gp_dump_thread *th)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t k = 0; k < th->nkernel; k++)
		if (gp_json_append(a, json_kernel_frame(th->kernel[k])))
			goto fail;
	for (uint32_t i = th->n; i-- > 0;)
		if (gp_json_append(a, json_frame(d->prof, th->locs[i], th->vars ? th->vars[i] : NULL)))
			goto fail;
	return a;
fail:
	json_object_put(a);
	return NULL;
}

static struct json_object *json_waits(const struct gp_dump_thread *th)
{
	struct json_object *o;

	o = json_object_new_object();
	if (!o)
		return NULL;
	if (gp_json_put(o, "kind", json_object_new_string(gp_wait_name(th->wait))) ||
	    put_opt(o, "syscall", th->syscall[0], mk_str, th->syscall) ||
	    put_opt(o, "wchan", th->wchan[0], mk_str, th->wchan) ||
	    (th->futex && gp_json_put(o, "futex", json_object_new_int64((int64_t)th->futex)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *json_state(const struct gp_dump_thread *th)
{
	switch (th->state) {
	case GP_STATE_HOLDING:
		return "holding";
	case GP_STATE_WAITING:
		return "waiting";
	case GP_STATE_RELEASED:
		return "released";
	case GP_STATE_IDLE:
		return "idle";
	default:
		return "unknown";
	}
}

static struct json_object *json_thread(const struct gp_dump *d, const struct gp_dump_thread *th)
{
	struct json_object *o = json_object_new_object();
	const char *cut = walk_end_text(th->walk_end);
	char sched[2] = { th->sched ? th->sched : '?', 0 };
	bool waits = !th->on_cpu && th->wait != GP_WAIT_NONE;

	if (!o)
		return NULL;
	if (gp_json_put(o, "tid", json_object_new_int(th->tid)) ||
	    gp_json_put(o, "name", gp_json_str(th->name)) ||
	    gp_json_put(o, "gil", json_object_new_string(json_state(th))) ||
	    put_opt(o, "gil_holder", th->holder, mk_int, &(int64_t){ th->holder }) ||
	    gp_json_put(o, "on_cpu", json_object_new_boolean(th->on_cpu)) ||
	    gp_json_put(o, "seen", json_object_new_boolean(th->seen)) ||
	    gp_json_put(o, "sched_state", json_object_new_string(sched)) ||
	    (waits ? gp_json_put(o, "waits_in", json_waits(th))
		   : put_opt(o, "waits_in", false, NULL, NULL)) ||
	    put_opt(o, "stack_cut", cut, mk_str, cut) ||
	    gp_json_put(o, "frames", json_stack(d, th))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_process(const struct gp_dump *d, pid_t pid)
{
	const struct gp_process *pr = gp_profile_find_process(d->prof, pid);
	struct json_object *o = json_object_new_object(), *threads = json_object_new_array();

	if (!o || !threads)
		goto fail;
	for (size_t i = 0; i < d->nthreads; i++)
		if (d->threads[i].pid == pid && gp_json_append(threads, json_thread(d, &d->threads[i])))
			goto fail;
	if (gp_json_put(o, "pid", json_object_new_int(pid)) ||
	    put_opt(o, "ppid", pr && pr->ppid, mk_int, &(int64_t){ pr ? pr->ppid : 0 }) ||
	    gp_json_put(o, "command", gp_json_str(pr ? pr->cmdline : "")) ||
	    gp_json_put(o, "threads", threads)) {
		threads = NULL;
		goto fail;
	}
	return o;
fail:
	json_object_put(threads);
	json_object_put(o);
	return NULL;
}

int gp_dump_write_json(const struct gp_dump *d, FILE *out)
{
	struct json_object *doc = json_object_new_object(), *procs = json_object_new_array();
	pid_t last = 0;
	int rc = -1;

	if (!doc || !procs)
		goto out;
	for (size_t i = 0; i < d->nthreads; i++) {
		if (d->threads[i].pid == last)
			continue;
		last = d->threads[i].pid;
		if (gp_json_append(procs, json_process(d, last)))
			goto out;
	}
	if (gp_json_put(doc, "gil_prof", json_object_new_string(GP_VERSION)) ||
	    gp_json_put(doc, "pid", json_object_new_int(d->pid)) ||
	    gp_json_put(doc, "python_version", gp_json_str(d->prof->python_version)) ||
	    gp_json_put(doc, "paused", json_object_new_boolean(d->paused)) ||
	    gp_json_put(doc, "processes", procs)) {
		procs = NULL;
		goto out;
	}
	procs = NULL;
	fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
	      out);
	fputc('\n', out);
	rc = fflush(out) || ferror(out) ? -1 : 0;
out:
	json_object_put(procs);
	json_object_put(doc);
	return rc;
}
