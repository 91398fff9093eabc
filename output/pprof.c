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

enum { VAL_SAMPLES, VAL_WALL, VAL_CPU, NVALUES };
enum { LABEL_THREAD_ID, LABEL_THREAD_NAME, LABEL_GIL_STATE, LABEL_GC, LABEL_PID, LABEL_PROCESS,
       NLABELS };
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
	PbFunction *funcs, **func_ptrs;
	PbLocation *locs, **loc_ptrs;
	PbLine *lines, **line_ptrs;
	PbMapping *maps, **map_ptrs;
	PbSample *samples, **sample_ptrs;
	PbLabel *labels, **label_ptrs;
	uint64_t *loc_ids;
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
	for (int i = 0; i < NVALUES; i++)
		b->type_ptrs[i] = &b->types[i];
	b->msg.n_sample_type = NVALUES;
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

	b->funcs = calloc(n ? n : 1, sizeof(*b->funcs));
	b->func_ptrs = calloc(n ? n : 1, sizeof(*b->func_ptrs));
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
	b->msg.n_function = n;
	b->msg.function = b->func_ptrs;
	return 0;
}

static int add_locations(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t n = p->nlocations, k = n ? n : 1;

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

static void add_labels(struct pprof_build *b, const struct gp_stack *s, PbSample *ps,
		       PbLabel *labels, PbLabel **ptrs)
{
	const struct gp_thread *t = b->p->threads[s->thread];
	size_t n = 0;

	num_label(&labels[n], b->key[LABEL_THREAD_ID], t->tid);
	n++;
	if (t->name[0]) {
		str_label(&labels[n], b->key[LABEL_THREAD_NAME], str_id(&b->st, t->name));
		n++;
	}
	if (s->state != GP_STATE_NONE && s->state < GP_STATE__MAX) {
		str_label(&labels[n], b->key[LABEL_GIL_STATE], b->state_name[s->state]);
		n++;
	}
	if (s->gc) {
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

static int add_samples(struct pprof_build *b)
{
	const struct gp_profile *p = b->p;
	size_t n = p->nstacks, k = n ? n : 1, frames = 0, ns = 0;

	b->samples = calloc(k, sizeof(*b->samples));
	b->sample_ptrs = calloc(k, sizeof(*b->sample_ptrs));
	b->values = calloc(k * NVALUES, sizeof(*b->values));
	b->labels = calloc(k * NLABELS, sizeof(*b->labels));
	b->label_ptrs = calloc(k * NLABELS, sizeof(*b->label_ptrs));
	b->loc_ids = calloc(count_frames(p) + 1, sizeof(*b->loc_ids));
	if (!b->samples || !b->sample_ptrs || !b->values || !b->labels || !b->label_ptrs ||
	    !b->loc_ids)
		return -1;
	b->key[LABEL_THREAD_ID] = str_id(&b->st, "thread_id");
	b->key[LABEL_THREAD_NAME] = str_id(&b->st, "thread_name");
	b->key[LABEL_GIL_STATE] = str_id(&b->st, "gil_state");
	b->key[LABEL_GC] = str_id(&b->st, "gc");
	b->key[LABEL_PID] = str_id(&b->st, "pid");
	b->key[LABEL_PROCESS] = str_id(&b->st, "process");
	for (int st = 0; st < GP_STATE__MAX; st++)
		b->state_name[st] = str_id(&b->st, gp_state_name(st));
	for (size_t i = 0; i < n; i++) {
		const struct gp_stack *s = p->stacks[i];
		PbSample *ps = &b->samples[ns];
		int64_t *v = &b->values[ns * NVALUES];

		if (!s->samples && !s->wall_ns)
			continue;
		perftools__profiles__sample__init(ps);
		ps->location_id = &b->loc_ids[frames];
		/* The model is root first; pprof wants the leaf first. */
		for (uint32_t j = s->n; j-- > 0;)
			b->loc_ids[frames++] = s->locs[j];
		ps->n_location_id = s->n;
		v[VAL_SAMPLES] = (int64_t)s->samples;
		v[VAL_WALL] = (int64_t)s->wall_ns;
		v[VAL_CPU] = (int64_t)s->cpu_ns;
		ps->n_value = NVALUES;
		ps->value = v;
		add_labels(b, s, ps, &b->labels[ns * NLABELS], &b->label_ptrs[ns * NLABELS]);
		b->sample_ptrs[ns++] = ps;
	}
	b->msg.n_sample = ns;
	b->msg.sample = b->sample_ptrs;
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
