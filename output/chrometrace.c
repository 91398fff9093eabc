// SPDX-License-Identifier: BSD-2-Clause
/*
 * chrometrace.c — the GIL timeline as Chrome Trace Event JSON, which the
 * Perfetto UI (ui.perfetto.dev) and chrome://tracing open:
 *
 *   {"traceEvents": [...], "otherData": {...}}
 *
 *   - metadata (ph "M"): process_name, and per thread thread_name and
 *     thread_sort_index (threads in the order they were first seen);
 *   - per thread, one complete event (ph "X") per interval in a GIL state,
 *     named "holding", "waiting", "released" or "idle" (cat "gil"). A
 *     thread is in one state at a time, so its slices never overlap:
 *     Perfetto's rule that slices on a thread track nest is kept;
 *   - an instant (ph "i", thread scope, on the acquiring thread) per GIL
 *     hand-off, with args from/to (tid and name) and the acquiring
 *     thread's Python stack, innermost frame first;
 *   - a counter (ph "C") "GIL waiters": threads waiting for the GIL;
 *   - a track of its own, "GIL" (on top), with one slice per holding
 *     interval named after the holder: one holder at a time, so its
 *     slices never overlap either. Its tid is past the kernel's largest
 *     possible thread id, so it is no real thread's.
 *
 * ts and dur are microseconds (the format's unit) from the start of the
 * recording, with three decimals: the nanoseconds measured, exactly, so
 * that one slice's end is the next one's start. Events are written one at
 * a time: the document is never held in memory whole.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "jsonout.h"
#include "output.h"
#include "text.h"
#include "../sampler/account/profile.h"
#include "../sampler/account/timeline.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

/* PID_MAX_LIMIT is 4194304 (1 << 22): no thread has a larger id. */
#define GIL_TRACK_TID ((1 << 22) + 1)

struct writer {
	const struct gp_profile *p;
	const struct gp_timeline *tl;
	FILE *out;
	bool first;
};

/* Microseconds from the start, from ns: "12.345" exactly. */
static struct json_object *usec(uint64_t ns)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 ".%03u", ns / 1000, (unsigned int)(ns % 1000));
	return json_object_new_double_s((double)ns / 1e3, buf);
}

static uint64_t rel(const struct writer *w, uint64_t ts)
{
	return ts > w->tl->t0 ? ts - w->tl->t0 : 0;
}

/* Write one event (built without error if ok) and free it. */
static int put_event(struct writer *w, struct json_object *ev, bool ok)
{
	const char *text = NULL;
	size_t len;
	int rc = -1;

	if (ev && ok)
		text = json_object_to_json_string_length(
			ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text && fputs(w->first ? "\n" : ",\n", w->out) != EOF &&
	    fwrite(text, 1, len, w->out) == len)
		rc = 0;
	else
		errno = text ? EIO : ENOMEM;
	w->first = false;
	json_object_put(ev);
	return rc;
}

/*
 * {"name": name, "ph": ph, "pid": pid, "tid": tid, "args": {}}; *args is
 * the (borrowed) args object for the caller to fill. NULL on ENOMEM.
 */
static struct json_object *event(const struct writer *w, const char *name, const char *ph,
				 pid_t tid, struct json_object **args)
{
	struct json_object *o = json_object_new_object();

	*args = json_object_new_object();
	if (!o || gp_json_put(o, "args", *args) ||
	    gp_json_put(o, "name", json_object_new_string(name)) ||
	    gp_json_put(o, "ph", json_object_new_string(ph)) ||
	    gp_json_put(o, "pid", json_object_new_int((int)w->p->pid)) ||
	    gp_json_put(o, "tid", json_object_new_int((int)tid))) {
		if (!o)
			json_object_put(*args);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* A metadata event: name with args {key: val}. */
static int metadata(struct writer *w, const char *name, pid_t tid, const char *key,
		    struct json_object *val)
{
	struct json_object *args, *ev = event(w, name, "M", tid, &args);

	if (!ev) {
		json_object_put(val);
		return put_event(w, NULL, false);
	}
	return put_event(w, ev, !gp_json_put(args, key, val));
}

static void thread_label(const struct gp_thread *t, char *buf, size_t len)
{
	if (t->name[0])
		snprintf(buf, len, "%s", t->name);
	else
		snprintf(buf, len, "thread %d", (int)t->tid);
}

static int put_metadata(struct writer *w)
{
	char name[160];

	snprintf(name, sizeof(name), "%s (pid %d, Python %s)", w->p->comm[0] ? w->p->comm : "python",
		 (int)w->p->pid, w->p->python_version);
	if (metadata(w, "process_name", w->p->pid, "name", gp_json_str(name)))
		return -1;
	if (w->tl && (metadata(w, "thread_name", GIL_TRACK_TID, "name", gp_json_str("GIL")) ||
		      metadata(w, "thread_sort_index", GIL_TRACK_TID, "sort_index",
			       json_object_new_int(-1))))
		return -1;
	for (size_t i = 0; i < w->p->nthreads; i++) {
		const struct gp_thread *t = w->p->threads[i];

		thread_label(t, name, sizeof(name));
		if (metadata(w, "thread_name", t->tid, "name", gp_json_str(name)) ||
		    metadata(w, "thread_sort_index", t->tid, "sort_index",
			     json_object_new_int((int)i)))
			return -1;
	}
	return 0;
}

/* "func (file.py:12)", as in the flame graph's tooltips. */
static struct json_object *frame_text(const struct gp_profile *p, uint32_t loc)
{
	char *s = gp_frame_text(p, gp_loc(p, loc), true);
	struct json_object *o = s ? json_object_new_string(s) : NULL;

	free(s);
	return o;
}

/* A stack as an array of frames, innermost first (as a traceback reads up). */
static struct json_object *stack_array(const struct writer *w, uint32_t id)
{
	const struct gp_tl_stack *s = gp_tl_stack(w->tl, id);
	struct json_object *arr = json_object_new_array();

	for (uint32_t k = s ? s->n : 0; arr && k-- > 0;) {
		if (gp_json_append(arr, frame_text(w->p, s->locs[k]))) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static int put_slice(struct writer *w, const struct gp_tl_slice *s)
{
	const char *state = gp_state_name((enum gp_gil_state)s->state);
	struct json_object *args, *ev = event(w, state, "X", w->p->threads[s->thread]->tid, &args);

	return put_event(w, ev,
			 ev && !gp_json_put(ev, "cat", json_object_new_string("gil")) &&
				 !gp_json_put(ev, "ts", usec(rel(w, s->start))) &&
				 !gp_json_put(ev, "dur", usec(s->end - s->start)) &&
				 !gp_json_put(args, "gil_state", json_object_new_string(state)));
}

/* A holding interval again, on the GIL's own track, named after its holder. */
static int put_held(struct writer *w, const struct gp_tl_slice *s)
{
	const struct gp_thread *t = w->p->threads[s->thread];
	struct json_object *args, *ev;
	char name[96];

	if (t->name[0])
		snprintf(name, sizeof(name), "%s (%d)", t->name, (int)t->tid);
	else
		thread_label(t, name, sizeof(name));
	ev = event(w, name, "X", GIL_TRACK_TID, &args);
	return put_event(w, ev,
			 ev && !gp_json_put(ev, "cat", json_object_new_string("gil")) &&
				 !gp_json_put(ev, "ts", usec(rel(w, s->start))) &&
				 !gp_json_put(ev, "dur", usec(s->end - s->start)) &&
				 !gp_json_put(args, "holder_tid", json_object_new_int((int)t->tid)));
}

static int put_thread_ref(const struct writer *w, struct json_object *args, const char *key,
			  uint32_t idx)
{
	const struct gp_thread *t = w->p->threads[idx];
	char name[96], tid_key[32];

	thread_label(t, name, sizeof(name));
	snprintf(tid_key, sizeof(tid_key), "%s_tid", key);
	return gp_json_put(args, tid_key, json_object_new_int((int)t->tid)) ||
	       gp_json_put(args, key, gp_json_str(name));
}

static int put_handoff(struct writer *w, const struct gp_tl_handoff *h)
{
	struct json_object *args, *ev = event(w, "GIL hand-off", "i", w->p->threads[h->to]->tid,
					      &args);

	return put_event(w, ev,
			 ev && !gp_json_put(ev, "cat", json_object_new_string("gil")) &&
				 !gp_json_put(ev, "s", json_object_new_string("t")) &&
				 !gp_json_put(ev, "ts", usec(rel(w, h->ts))) &&
				 !put_thread_ref(w, args, "from", h->from) &&
				 !put_thread_ref(w, args, "to", h->to) &&
				 !gp_json_put(args, "stack", stack_array(w, h->stack)));
}

static int put_waiters(struct writer *w, const struct gp_tl_waiters *c)
{
	struct json_object *args, *ev = event(w, "GIL waiters", "C", w->p->pid, &args);

	return put_event(w, ev,
			 ev && !gp_json_put(ev, "ts", usec(rel(w, c->ts))) &&
				 !gp_json_put(args, "waiting", json_object_new_int((int)c->n)));
}

static struct json_object *other_data(const struct writer *w)
{
	struct json_object *o = json_object_new_object();
	const struct gp_timeline *tl = w->tl;

	if (!o || gp_json_put(o, "exporter", json_object_new_string("gil-prof@" GP_VERSION)) ||
	    gp_json_put(o, "pid", json_object_new_int((int)w->p->pid)) ||
	    gp_json_put(o, "python", gp_json_str(w->p->python_version)) ||
	    gp_json_put(o, "start_unix_ns", json_object_new_int64((int64_t)w->p->start_unix_ns)) ||
	    gp_json_put(o, "gil_events", json_object_new_string(tl ? tl->source : "none")) ||
	    (tl && gp_json_put(o, "duration_us", usec(tl->t_end - tl->t0))) ||
	    (tl && gp_json_put(o, "truncated", json_object_new_boolean(tl->truncated))) ||
	    (tl && gp_json_put(o, "ended_at_exec", json_object_new_boolean(tl->exec_cut))) ||
	    (tl && gp_json_put(o, "missed_releases",
			       json_object_new_int64((int64_t)tl->missed_releases))) ||
	    (tl && gp_json_put(o, "missed_acquires",
			       json_object_new_int64((int64_t)tl->missed_acquires)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int put_timeline(struct writer *w)
{
	const struct gp_timeline *tl = w->tl;

	for (size_t i = 0; i < tl->nslices; i++)
		if (put_slice(w, &tl->slices[i]) ||
		    (tl->slices[i].state == GP_STATE_HOLDING && put_held(w, &tl->slices[i])))
			return -1;
	for (size_t i = 0; i < tl->nhandoffs; i++)
		if (put_handoff(w, &tl->handoffs[i]))
			return -1;
	for (size_t i = 0; i < tl->nwaiters; i++)
		if (put_waiters(w, &tl->waiters[i]))
			return -1;
	return 0;
}

int gp_write_chrometrace(const struct gp_profile *p, FILE *out)
{
	/* An estimated timeline is the report's, never drawn as if traced. */
	struct writer w = { .p = p,
			    .tl = p->timeline && !p->timeline->estimated ? p->timeline : NULL,
			    .out = out,
			    .first = true };
	struct json_object *other;
	const char *text;

	if (fputs("{\"traceEvents\":[", out) == EOF || put_metadata(&w) ||
	    (w.tl && put_timeline(&w)))
		return -1;
	other = other_data(&w);
	if (!other) {
		errno = ENOMEM;
		return -1;
	}
	text = json_object_to_json_string_ext(other, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fprintf(out, "\n],\n\"otherData\":%s}\n", text) < 0) {
		json_object_put(other);
		errno = text ? EIO : ENOMEM;
		return -1;
	}
	json_object_put(other);
	return ferror(out) ? -1 : 0;
}
