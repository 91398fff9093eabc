// SPDX-License-Identifier: BSD-2-Clause
/*
 * pprof.c — the profile as a gzipped profile.proto message, for `go tool
 * pprof`, speedscope, Pyroscope and Parca.
 *
 * The model is pprof's already: functions, locations and mappings map one to
 * one (same 1-based ids), each distinct stack is one Sample (leaf first)
 * with values [samples, wall ns, cpu ns] and labels thread_id (num),
 * thread_name, gil_state (when known), gc (1 while a collection runs), pid
 * (num) and, with --subprocesses, process (its command line).
 *
 * Who held the GIL (account/blame.h): a waiting stack is split by the
 * holder of its waits, each part labelled gil_holder_tid (num),
 * gil_holder_name and gil_holder_off_cpu (1: the holder was asleep holding
 * it). A fourth sample type, gil_blame (count), is the blame view: each
 * holder's stack as its thread, weighted by the waiting samples it caused
 * (gil_waiter_tid: whose), zero in the other types and they zero in it
 * (`go tool pprof -sample_index=gil_blame`). Present only when some thread
 * waited, so a profile without waiting keeps pprof's three types.
 * Metadata (tool, target, rate, lost samples, how the recording ended)
 * goes into comments. Encoded with protobuf-c from output/profile.proto.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <zlib.h>

#include "output.h"
#include "text.h"
#include "profile.pb-c.h"
#include "../sampler/account/blame.h"
#include "../sampler/account/profile.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__Mapping PbMapping;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;

enum { VAL_SAMPLES, VAL_WALL, VAL_CPU, VAL_BLAME, NVALUES };
enum { LABEL_THREAD_ID, LABEL_THREAD_NAME, LABEL_GIL_STATE, LABEL_GC, LABEL_PID, LABEL_PROCESS,
       LABEL_HOLDER_TID, LABEL_HOLDER_NAME, LABEL_HOLDER_OFF_CPU, LABEL_WAITER_TID, NLABELS };
#define MAX_COMMENTS 24

/* The string table: index 0 is "", every string once. */
struct str_entry {
	char *s;
	int64_t idx;
	UT_hash_handle hh;
};

struct strtab {
	char **v;
	size_t n, cap;
	struct str_entry *index;
	bool failed;            /* allocation failed: the whole write fails */
};

/* Everything the message points into, freed together. */
struct pprof_build {
	const struct gp_profile *p;
	struct strtab st;
	PbProfile msg;
	PbValueType types[NVALUES], *type_ptrs[NVALUES], period_type;
	size_t nvalues;          /* NVALUES with blame entries, else without gil_blame */
	struct gp_blame **by_waiter; /* the profile's blame entries, by waiting stack */
	size_t nblames;
	uint32_t holder_root[2]; /* location ids of "[GIL being handed over]", "[holder unknown]" */
	PbFunction *funcs, **func_ptrs;
	PbLocation *locs, **loc_ptrs;
	PbLine *lines, **line_ptrs;
	PbMapping *maps, **map_ptrs;
	PbSample *samples, **sample_ptrs;
	PbLabel *labels, **label_ptrs;
	uint64_t *loc_ids;
	size_t nframes;          /* loc_ids used */
	int64_t *values;
	int64_t comments[MAX_COMMENTS];
	int64_t key[NLABELS], state_name[GP_STATE__MAX];
};

static int64_t str_id(struct strtab *t, const char *s)
{
	struct str_entry *e;
	char *clean;

	if (t->failed)
		return 0;
	clean = gp_text_clean(s);
	if (!clean)
		goto fail;
	HASH_FIND_STR(t->index, clean, e);
	if (e) {
		free(clean);
		return e->idx;
	}
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		char **nv = realloc(t->v, ncap * sizeof(*nv));

		if (!nv)
			goto fail;
		t->v = nv;
		t->cap = ncap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		goto fail;
	e->s = clean;
	e->idx = (int64_t)t->n;
	t->v[t->n++] = clean;
	HASH_ADD_KEYPTR(hh, t->index, e->s, strlen(e->s), e);
	return e->idx;
fail:
	free(clean);
	t->failed = true;
	return 0;
}

static void strtab_free(struct strtab *t)
{
	struct str_entry *e, *tmp;

	HASH_ITER(hh, t->index, e, tmp) {
		HASH_DEL(t->index, e);
		free(e);
	}
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
}

static void value_type(struct pprof_build *b, PbValueType *vt, const char *type,
		       const char *unit)
{
	perftools__profiles__value_type__init(vt);
	vt->type = str_id(&b->st, type);
	vt->unit = str_id(&b->st, unit);
}

/*
 * Only a profile with off-CPU time (wall mode) defaults to wall time;
 * otherwise every sampled nanosecond was on CPU and "cpu" says so.
 */
static bool has_off_cpu(const struct gp_profile *p)
{
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->wall_ns != p->stacks[i]->cpu_ns)
			return true;
	return false;
}

static void add_header(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;

	value_type(b, &b->types[VAL_SAMPLES], "samples", "count");
	value_type(b, &b->types[VAL_WALL], "wall", "nanoseconds");
	value_type(b, &b->types[VAL_CPU], "cpu", "nanoseconds");
	/* Only a profile that knows who held the GIL has the blame view. */
	value_type(b, &b->types[VAL_BLAME], "gil_blame", "count");
	b->nvalues = b->nblames ? NVALUES : VAL_BLAME;
	for (size_t i = 0; i < b->nvalues; i++)
		b->type_ptrs[i] = &b->types[i];
	b->msg.n_sample_type = b->nvalues;
	b->msg.sample_type = b->type_ptrs;
	/* Samples come from a CPU-clock event at the rate. */
	value_type(b, &b->period_type, "cpu", "nanoseconds");
	b->msg.period_type = &b->period_type;
	b->msg.period = (int64_t)p->period_ns;
	b->msg.time_nanos = (int64_t)p->start_unix_ns;
	b->msg.duration_nanos = (int64_t)p->duration_ns;
	b->msg.default_sample_type = str_id(&b->st, has_off_cpu(p) ? "wall" : "cpu");
}

static void add_comments(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	char line[256];
	size_t n = 0;

	snprintf(line, sizeof(line), "gil-prof %s", GP_VERSION);
	b->comments[n++] = str_id(&b->st, line);
	snprintf(line, sizeof(line), "target: pid %d (%s), Python %s", (int)p->pid, p->comm,
		 p->python_version);
	b->comments[n++] = str_id(&b->st, line);
	snprintf(line, sizeof(line), "rate: %u Hz per thread", p->rate_hz);
	b->comments[n++] = str_id(&b->st, line);
	snprintf(line, sizeof(line), "samples: %" PRIu64 ", lost samples: %" PRIu64, p->samples,
		 p->lost);
	b->comments[n++] = str_id(&b->st, line);
	for (int i = 0; i < p->ncomments && n < MAX_COMMENTS; i++)
		b->comments[n++] = str_id(&b->st, p->comments[i]);
	b->msg.n_comment = n;
	b->msg.comment = b->comments;
}

/*
 * pprof "simplifies" a function name equal to its system name when it looks
 * like demangled C++: it cuts <...> out, so "<module>" or "<lambda>" would
 * show as nothing. A name that differs from its system name is left alone,
 * so such Python functions get no system name (the name says it all).
 */
static const char *system_name(const struct gp_function *f)
{
	const char *n = f->system_name;

	if (f->kind == GP_FUNC_PYTHON && !strcmp(n, f->name) && strpbrk(n, "<>") &&
	    !strstr(n, ".<"))
		return "";
	return n;
}

static int add_functions(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t n = p->nfunctions;

	/* + the blame view's two roots without a stack (see holder_root). */
	b->funcs = calloc(n + 2, sizeof(*b->funcs));
	b->func_ptrs = calloc(n + 2, sizeof(*b->func_ptrs));
	if (!b->funcs || !b->func_ptrs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct gp_function *f = p->functions[i];
		PbFunction *pf = &b->funcs[i];

		perftools__profiles__function__init(pf);
		pf->id = f->id;
		pf->name = str_id(&b->st, f->name);
		pf->system_name = str_id(&b->st, system_name(f));
		pf->filename = str_id(&b->st, f->filename);
		pf->start_line = f->start_line;
		b->func_ptrs[i] = pf;
	}
	for (size_t i = 0; b->nblames && i < 2; i++) {
		PbFunction *pf = &b->funcs[n];

		perftools__profiles__function__init(pf);
		pf->id = ++n;
		pf->name = str_id(&b->st, i ? GP_BLAME_UNKNOWN : GP_BLAME_HANDOFF);
		b->func_ptrs[n - 1] = pf;
	}
	b->msg.n_function = n;
	b->msg.function = b->func_ptrs;
	return 0;
}

static int add_locations(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t n = p->nlocations, k = n + 2;

	b->locs = calloc(k, sizeof(*b->locs));
	b->loc_ptrs = calloc(k, sizeof(*b->loc_ptrs));
	b->lines = calloc(k, sizeof(*b->lines));
	b->line_ptrs = calloc(k, sizeof(*b->line_ptrs));
	if (!b->locs || !b->loc_ptrs || !b->lines || !b->line_ptrs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct gp_location *l = p->locations[i];
		PbLocation *pl = &b->locs[i];

		perftools__profiles__location__init(pl);
		perftools__profiles__line__init(&b->lines[i]);
		pl->id = l->id;
		pl->mapping_id = l->mapping <= p->nmappings ? l->mapping : 0;
		pl->address = l->address;
		b->lines[i].function_id = l->func;
		b->lines[i].line = l->line;
		b->line_ptrs[i] = &b->lines[i];
		pl->n_line = 1;
		pl->line = &b->line_ptrs[i];
		b->loc_ptrs[i] = pl;
	}
	for (size_t i = 0; b->nblames && i < 2; i++) {
		PbLocation *pl = &b->locs[n];

		perftools__profiles__location__init(pl);
		perftools__profiles__line__init(&b->lines[n]);
		pl->id = n + 1;
		b->lines[n].function_id = p->nfunctions + 1 + i;
		b->line_ptrs[n] = &b->lines[n];
		pl->n_line = 1;
		pl->line = &b->line_ptrs[n];
		b->loc_ptrs[n] = pl;
		b->holder_root[i] = (uint32_t)++n;
	}
	b->msg.n_location = n;
	b->msg.location = b->loc_ptrs;
	return 0;
}

static int add_mappings(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t n = p->nmappings;
	bool *lines;

	b->maps = calloc(n ? n : 1, sizeof(*b->maps));
	b->map_ptrs = calloc(n ? n : 1, sizeof(*b->map_ptrs));
	lines = calloc(n + 1, sizeof(*lines));
	if (!b->maps || !b->map_ptrs || !lines) {
		free(lines);
		return -1;
	}
	for (size_t i = 0; i < p->nlocations; i++)
		if (p->locations[i]->mapping <= n && p->locations[i]->line > 0)
			lines[p->locations[i]->mapping] = true;
	for (size_t i = 0; i < n; i++) {
		const struct gp_mapping *m = p->mappings[i];
		PbMapping *pm = &b->maps[i];

		perftools__profiles__mapping__init(pm);
		pm->id = m->id;
		pm->memory_start = m->start;
		pm->memory_limit = m->limit;
		pm->file_offset = m->offset;
		pm->filename = str_id(&b->st, m->filename);
		pm->build_id = str_id(&b->st, m->build_id);
		/* Symbolized by gil-prof already: pprof must not try again. */
		pm->has_functions = true;
		pm->has_filenames = true;
		pm->has_line_numbers = lines[m->id];
		b->map_ptrs[i] = pm;
	}
	free(lines);
	b->msg.n_mapping = n;
	b->msg.mapping = b->map_ptrs;
	return 0;
}

static void str_label(PbLabel *l, int64_t key, int64_t str)
{
	perftools__profiles__label__init(l);
	l->key = key;
	l->str = str;
}

static void num_label(PbLabel *l, int64_t key, int64_t num)
{
	perftools__profiles__label__init(l);
	l->key = key;
	l->num = num;
}

/* The labels every sample has: its thread's, its GIL state, gc, process. */
static size_t thread_labels(struct pprof_build *b, const struct gp_thread *t, int state, bool gc,
			    PbLabel *labels)
{
	size_t n = 0;

	num_label(&labels[n], b->key[LABEL_THREAD_ID], t->tid);
	n++;
	if (t->name[0]) {
		str_label(&labels[n], b->key[LABEL_THREAD_NAME], str_id(&b->st, t->name));
		n++;
	}
	if (state != GP_STATE_NONE && state < GP_STATE__MAX) {
		str_label(&labels[n], b->key[LABEL_GIL_STATE], b->state_name[state]);
		n++;
	}
	if (gc) {
		num_label(&labels[n], b->key[LABEL_GC], 1);
		n++;
	}
	num_label(&labels[n], b->key[LABEL_PID], t->pid);
	n++;
	if (b->p->multiprocess) {
		const struct gp_process *pr = gp_profile_find_process(b->p, t->pid);

		str_label(&labels[n], b->key[LABEL_PROCESS],
			  str_id(&b->st, pr ? (pr->cmdline[0] ? pr->cmdline : pr->comm) : ""));
		n++;
	}
	return n;
}

/* gil_holder_tid / gil_holder_name (/ gil_holder_off_cpu) of a blame holder. */
static size_t holder_labels(struct pprof_build *b, uint32_t holder, bool offcpu,
			    PbLabel *labels)
{
	const struct gp_profile *p = b->p;
	size_t n = 0;

	if (holder == GP_BLAME_NOBODY || !holder || holder > p->nthreads) {
		str_label(&labels[n++], b->key[LABEL_HOLDER_NAME],
			  str_id(&b->st, holder == GP_BLAME_NOBODY ? GP_BLAME_HANDOFF
								   : GP_BLAME_UNKNOWN));
		return n;
	}
	num_label(&labels[n++], b->key[LABEL_HOLDER_TID], p->threads[holder - 1]->tid);
	str_label(&labels[n++], b->key[LABEL_HOLDER_NAME],
		  str_id(&b->st, p->threads[holder - 1]->name));
	if (offcpu)
		num_label(&labels[n++], b->key[LABEL_HOLDER_OFF_CPU], 1);
	return n;
}

/* The next Sample: locs root first, values, labels filled by the caller. */
static PbSample *new_sample(struct pprof_build *b, const uint32_t *locs, uint32_t n,
			    const int64_t *values, PbLabel **labels)
{
	size_t at = b->msg.n_sample;
	PbSample *ps = &b->samples[at];
	int64_t *v = &b->values[at * NVALUES];

	perftools__profiles__sample__init(ps);
	ps->location_id = &b->loc_ids[b->nframes];
	/* The model is root first; pprof wants the leaf first. */
	for (uint32_t j = n; j-- > 0;)
		b->loc_ids[b->nframes++] = locs[j];
	ps->n_location_id = n;
	memcpy(v, values, b->nvalues * sizeof(*v));
	ps->n_value = b->nvalues;
	ps->value = v;
	*labels = &b->labels[at * NLABELS];
	b->sample_ptrs[at] = ps;
	b->msg.n_sample++;
	return ps;
}

static void set_labels(struct pprof_build *b, PbSample *ps, PbLabel *labels, size_t n)
{
	PbLabel **ptrs = &b->label_ptrs[(size_t)(ps - b->samples) * NLABELS];

	for (size_t i = 0; i < n; i++)
		ptrs[i] = &labels[i];
	ps->n_label = n;
	ps->label = ptrs;
}

static size_t count_frames(const struct gp_profile *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		n += p->stacks[i]->n;
	return n;
}

static int cmp_waiter(const void *a, const void *b)
{
	const struct gp_blame *x = *(const struct gp_blame *const *)a;
	const struct gp_blame *y = *(const struct gp_blame *const *)b;

	if (x->waiter != y->waiter)
		return x->waiter < y->waiter ? -1 : 1;
	if (x->holder != y->holder)
		return x->holder < y->holder ? -1 : 1;
	return x->offcpu - y->offcpu;
}

/* The profile's blame entries with samples, sorted by waiting stack then holder. */
static int sort_blames(struct pprof_build *b)
{
	const struct gp_blames *bl = b->p->blames;

	if (!bl || !bl->n)
		return 0;
	b->by_waiter = calloc(bl->n, sizeof(*b->by_waiter));
	if (!b->by_waiter)
		return -1;
	for (size_t i = 0; i < bl->n; i++)
		if (bl->v[i]->samples)
			b->by_waiter[b->nblames++] = bl->v[i];
	qsort(b->by_waiter, b->nblames, sizeof(*b->by_waiter), cmp_waiter);
	return 0;
}

/* First entry of waiting stack s in by_waiter, or nblames. */
static size_t first_of(const struct pprof_build *b, const struct gp_stack *s)
{
	size_t lo = 0, hi = b->nblames;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if ((const void *)b->by_waiter[mid]->waiter < (const void *)s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t part(uint64_t whole, uint64_t num, uint64_t den)
{
	return den ? (int64_t)((unsigned __int128)whole * num / den) : 0;
}

/*
 * A stack's Sample(s). A waiting stack with blame entries is split by
 * holder, each part labelled with its holder (gil_holder_tid, ...): its
 * samples are the holder's share, wall and cpu time in proportion; what
 * no holder record explains stays unlabelled.
 */
static void add_stack(struct pprof_build *b, const struct gp_stack *s)
{
	const struct gp_thread *t = b->p->threads[s->thread];
	uint64_t left = s->samples;
	size_t i = s->state == GP_STATE_WAITING ? first_of(b, s) : b->nblames;
	int64_t v[NVALUES] = { 0 };
	PbLabel *labels;
	PbSample *ps;
	size_t n;

	while (i < b->nblames && b->by_waiter[i]->waiter == s && left) {
		const struct gp_blame *e = b->by_waiter[i];
		uint64_t k = 0;

		for (; i < b->nblames && b->by_waiter[i]->waiter == s &&
		       b->by_waiter[i]->holder == e->holder && b->by_waiter[i]->offcpu == e->offcpu;
		     i++)
			k += b->by_waiter[i]->samples;
		if (k > left)
			k = left;
		v[VAL_SAMPLES] = (int64_t)k;
		v[VAL_WALL] = part(s->wall_ns, k, s->samples);
		v[VAL_CPU] = part(s->cpu_ns, k, s->samples);
		ps = new_sample(b, s->locs, s->n, v, &labels);
		n = thread_labels(b, t, s->state, s->gc, labels);
		n += holder_labels(b, e->holder, e->offcpu, labels + n);
		set_labels(b, ps, labels, n);
		left -= k;
	}
	if (left == s->samples) {
		v[VAL_SAMPLES] = (int64_t)s->samples;
		v[VAL_WALL] = (int64_t)s->wall_ns;
		v[VAL_CPU] = (int64_t)s->cpu_ns;
	} else if (left) {
		v[VAL_SAMPLES] = (int64_t)left;
		v[VAL_WALL] = part(s->wall_ns, left, s->samples);
		v[VAL_CPU] = part(s->cpu_ns, left, s->samples);
	} else {
		return;
	}
	ps = new_sample(b, s->locs, s->n, v, &labels);
	set_labels(b, ps, labels, thread_labels(b, t, s->state, s->gc, labels));
}

/*
 * The blame view (sample type gil_blame): the holder's stack, as the
 * holder's thread holding the GIL, weighted by the waiting samples it
 * caused; gil_waiter_tid says who waited.
 */
static void add_blame(struct pprof_build *b, const struct gp_blame *e)
{
	const struct gp_profile *p = b->p;
	int64_t v[NVALUES] = { 0 };
	PbLabel *labels;
	PbSample *ps;
	size_t n = 0;

	v[VAL_BLAME] = (int64_t)e->samples;
	if (e->holder == GP_BLAME_NOBODY || !e->n)
		ps = new_sample(b, &b->holder_root[e->holder != GP_BLAME_NOBODY], 1, v, &labels);
	else
		ps = new_sample(b, e->locs, e->n, v, &labels);
	if (e->holder && e->holder != GP_BLAME_NOBODY && e->holder <= p->nthreads)
		n = thread_labels(b, p->threads[e->holder - 1], GP_STATE_HOLDING, e->gc, labels);
	n += holder_labels(b, e->holder, e->offcpu, labels + n);
	num_label(&labels[n++], b->key[LABEL_WAITER_TID], p->threads[e->waiter->thread]->tid);
	set_labels(b, ps, labels, n);
}

static int add_samples(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t frames = count_frames(p), k = p->nstacks + 2 * b->nblames + 1;
	static const char *const keys[NLABELS] = {
		[LABEL_THREAD_ID] = "thread_id",         [LABEL_THREAD_NAME] = "thread_name",
		[LABEL_GIL_STATE] = "gil_state",         [LABEL_GC] = "gc",
		[LABEL_PID] = "pid",                     [LABEL_PROCESS] = "process",
		[LABEL_HOLDER_TID] = "gil_holder_tid",   [LABEL_HOLDER_NAME] = "gil_holder_name",
		[LABEL_HOLDER_OFF_CPU] = "gil_holder_off_cpu",
		[LABEL_WAITER_TID] = "gil_waiter_tid",
	};

	for (size_t i = 0; i < b->nblames; i++)
		frames += b->by_waiter[i]->n + b->by_waiter[i]->waiter->n + 1;
	b->samples = calloc(k, sizeof(*b->samples));
	b->sample_ptrs = calloc(k, sizeof(*b->sample_ptrs));
	b->values = calloc(k * NVALUES, sizeof(*b->values));
	b->labels = calloc(k * NLABELS, sizeof(*b->labels));
	b->label_ptrs = calloc(k * NLABELS, sizeof(*b->label_ptrs));
	b->loc_ids = calloc(frames + 1, sizeof(*b->loc_ids));
	if (!b->samples || !b->sample_ptrs || !b->values || !b->labels || !b->label_ptrs ||
	    !b->loc_ids)
		return -1;
	for (int i = 0; i < NLABELS; i++)
		b->key[i] = str_id(&b->st, keys[i]);
	for (int st = 0; st < GP_STATE__MAX; st++)
		b->state_name[st] = str_id(&b->st, gp_state_name(st));
	b->msg.sample = b->sample_ptrs;
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->samples || p->stacks[i]->wall_ns)
			add_stack(b, p->stacks[i]);
	for (size_t i = 0; i < b->nblames; i++)
		add_blame(b, b->by_waiter[i]);
	return 0;
}

static void build_free(struct pprof_build *b)
{
	strtab_free(&b->st);
	free(b->funcs);
	free(b->func_ptrs);
	free(b->locs);
	free(b->loc_ptrs);
	free(b->lines);
	free(b->line_ptrs);
	free(b->maps);
	free(b->map_ptrs);
	free(b->samples);
	free(b->sample_ptrs);
	free(b->labels);
	free(b->label_ptrs);
	free(b->loc_ids);
	free(b->values);
	free(b->by_waiter);
}

/* gzip (RFC 1952) of buf to out. */
static int gzip_write(FILE *out, const uint8_t *buf, size_t len)
{
	unsigned char chunk[64 * 1024];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer around the deflate data. */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	z.next_in = (Bytef *)buf;
	z.avail_in = (uInt)len; /* profiles are far below 4 GiB; checked by the caller */
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR ||
		    fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			deflateEnd(&z);
			errno = zr == Z_STREAM_ERROR ? EINVAL : EIO;
			return -1;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}

static int pack_and_write(const PbProfile *msg, FILE *out)
{
	size_t len = perftools__profiles__profile__get_packed_size(msg);
	uint8_t *buf;
	int rc;

	if (len >= UINT32_MAX) {
		errno = EFBIG;
		return -1;
	}
	buf = malloc(len ? len : 1);
	if (!buf)
		return -1;
	perftools__profiles__profile__pack(msg, buf);
	rc = gzip_write(out, buf, len);
	free(buf);
	return rc;
}

int gp_write_pprof(const struct gp_profile *p, FILE *out)
{
	struct pprof_build b;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	b.p = p;
	perftools__profiles__profile__init(&b.msg);
	str_id(&b.st, ""); /* string_table[0] must be "" */
	if (sort_blames(&b))
		goto out;
	add_header(&b);
	add_comments(&b);
	if (add_functions(&b) || add_locations(&b) || add_mappings(&b) || add_samples(&b))
		goto out;
	if (b.st.failed) {
		errno = ENOMEM;
		goto out;
	}
	b.msg.n_string_table = b.st.n;
	b.msg.string_table = b.st.v;
	rc = pack_and_write(&b.msg, out);
out:
	if (rc && !errno)
		errno = ENOMEM;
	build_free(&b);
	return rc;
}
