// SPDX-License-Identifier: BSD-2-Clause
/*
 * The writers read back: pprof decoded with protobuf-c, speedscope parsed
 * with json-c, the flame graph's tree and markup; text cleaning; the
 * format table. The real consumers (go tool pprof, Chromium) are run on
 * the same profile by tests/functional/test_outputs.py.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <zlib.h>

#include "flametree.h"
#include "output.h"
#include "profile.h"
#include "profile.pb-c.h"
#include "text.h"
#include "../tools/synthetic_profile.h"

#include "flamegraph.h"

typedef int (*writer_fn)(const struct gp_profile *, FILE *);

static char *write_to_memory(writer_fn w, const struct gp_profile *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(w(p, f), 0);
	fclose(f);
	return buf;
}

/* --- text ----------------------------------------------------------------- */

static void test_text_clean(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d" },
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },                /* invalid byte */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },           /* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd" },     /* truncated sequence */
		{ "tab\there\nnl\x7f", "tab here nl " },
		{ "", "" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = gp_text_clean(cases[i].in);
		assert_non_null(s);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	s = gp_text_clean(NULL);
	assert_string_equal(s, "");
	free(s);
	assert_string_equal(gp_basename("/a/b/c.py"), "c.py");
	assert_string_equal(gp_basename("c.py"), "c.py");
}

static void test_xml_put(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(gp_xml_put(f, "<a href=\"x\">&'\x01\xfe</a>"), 0);
	fclose(f);
	assert_string_equal(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39; \xef\xbf\xbd&lt;/a&gt;");
	free(buf);
}

/* --- format table ------------------------------------------------------- */

static void test_format_table(void **state)
{
	char list[128];

	(void)state;
	assert_int_equal(gp_format_from_path("x.pb.gz"), GP_FORMAT_PPROF);
	assert_int_equal(gp_format_from_path("x.pprof"), GP_FORMAT_PPROF);
	assert_int_equal(gp_format_from_path("x.speedscope.json"), GP_FORMAT_SPEEDSCOPE);
	assert_int_equal(gp_format_from_path("x.speedscope"), GP_FORMAT_SPEEDSCOPE);
	assert_int_equal(gp_format_from_path("x.json"), GP_FORMAT_NONE);
	assert_int_equal(gp_format_from_path("x.gz"), GP_FORMAT_NONE);
	assert_int_equal(gp_format_from_path("dir/x.svg"), GP_FORMAT_SVG);
	assert_int_equal(gp_format_from_path("x.html"), GP_FORMAT_HTML);
	assert_int_equal(gp_format_from_path("x.htm"), GP_FORMAT_HTML);
	assert_int_equal(gp_format_from_path("x.txt"), GP_FORMAT_FOLDED);
	assert_int_equal(gp_format_from_path("gil.trace.json"), GP_FORMAT_CHROMETRACE);
	assert_int_equal(gp_format_from_path("out.blame.folded"), GP_FORMAT_BLAME);
	assert_int_equal(gp_format_from_path("out.folded"), GP_FORMAT_FOLDED);
	assert_int_equal(gp_format_from_name("blame"), GP_FORMAT_BLAME);
	assert_int_equal(gp_format_from_name("chrometrace"), GP_FORMAT_CHROMETRACE);
	assert_int_equal(gp_format_from_name("pprof"), GP_FORMAT_PPROF);
	assert_int_equal(gp_format_from_name("speedscope"), GP_FORMAT_SPEEDSCOPE);
	assert_int_equal(gp_format_from_name("svg"), GP_FORMAT_SVG);
	assert_int_equal(gp_format_from_name("html"), GP_FORMAT_HTML);
	assert_string_equal(gp_format_extension(GP_FORMAT_PPROF), ".pb.gz");
	assert_string_equal(gp_format_extension(GP_FORMAT_DEFAULT), ".svg");
	gp_format_list(list, sizeof(list));
	assert_string_equal(list, "folded, pprof, speedscope, svg, html, report, chrometrace, blame");
	gp_format_list(list, 8); /* truncates, never overflows */
	assert_int_equal(strlen(list), 7);
}

/* --- pprof ----------------------------------------------------------------- */

static uint8_t *gunzip(const uint8_t *in, size_t len, size_t *outlen)
{
	size_t cap = 1 << 20;
	uint8_t *out = malloc(cap);
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static Perftools__Profiles__Profile *decode_pprof(const struct gp_profile *p)
{
	Perftools__Profiles__Profile *msg;
	size_t len, rawlen;
	char *gz = write_to_memory(gp_write_pprof, p, &len);
	uint8_t *raw;

	assert_true(len > 18 && (uint8_t)gz[0] == 0x1f && (uint8_t)gz[1] == 0x8b);
	raw = gunzip((uint8_t *)gz, len, &rawlen);
	msg = perftools__profiles__profile__unpack(NULL, rawlen, raw);
	assert_non_null(msg);
	free(raw);
	free(gz);
	return msg;
}

static const char *pstr(const Perftools__Profiles__Profile *m, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < m->n_string_table);
	return m->string_table[i];
}

static const char *label_str(const Perftools__Profiles__Profile *m,
			     const Perftools__Profiles__Sample *s, const char *key, int64_t *num)
{
	for (size_t i = 0; i < s->n_label; i++) {
		if (strcmp(pstr(m, s->label[i]->key), key))
			continue;
		/* a label is a string or a number, never both */
		assert_false(s->label[i]->str && s->label[i]->num);
		if (num)
			*num = s->label[i]->num;
		return pstr(m, s->label[i]->str);
	}
	return NULL;
}

static const Perftools__Profiles__Function *pfunc(const Perftools__Profiles__Profile *m,
						  uint64_t loc_id)
{
	assert_true(loc_id >= 1 && loc_id <= m->n_location);
	assert_int_equal(m->location[loc_id - 1]->id, loc_id);
	assert_int_equal(m->location[loc_id - 1]->n_line, 1);
	uint64_t fid = m->location[loc_id - 1]->line[0]->function_id;
	assert_true(fid >= 1 && fid <= m->n_function);
	return m->function[fid - 1];
}

static void test_pprof(void **state)
{
	Perftools__Profiles__Profile *m;
	struct gp_profile p;
	int waiting = 0, gc = 0, comments_ok = 0;
	uint64_t total = 0;

	(void)state;
	assert_int_equal(synthetic_profile(&p), 0);
	m = decode_pprof(&p);

	assert_string_equal(m->string_table[0], "");
	assert_int_equal(m->n_sample_type, 3);
	assert_string_equal(pstr(m, m->sample_type[0]->type), "samples");
	assert_string_equal(pstr(m, m->sample_type[0]->unit), "count");
	assert_string_equal(pstr(m, m->sample_type[1]->type), "wall");
	assert_string_equal(pstr(m, m->sample_type[1]->unit), "nanoseconds");
	assert_string_equal(pstr(m, m->sample_type[2]->type), "cpu");
	assert_string_equal(pstr(m, m->default_sample_type), "wall"); /* has off-CPU time */
	assert_string_equal(pstr(m, m->period_type->type), "cpu");
	assert_int_equal(m->period, SYN_PERIOD_NS);
	assert_int_equal(m->time_nanos, p.start_unix_ns);
	assert_int_equal(m->duration_nanos, p.duration_ns);
	for (size_t i = 0; i < m->n_comment; i++) {
		comments_ok += !!strstr(pstr(m, m->comment[i]), "lost samples: 3");
		comments_ok += !!strstr(pstr(m, m->comment[i]), "target exited with status 0");
	}
	assert_int_equal(comments_ok, 2);

	assert_int_equal(m->n_sample, p.nstacks);
	for (size_t i = 0; i < m->n_sample; i++) {
		const Perftools__Profiles__Sample *s = m->sample[i];
		const char *st = label_str(m, s, "gil_state", NULL);
		int64_t tid = 0, gcv = 0;

		assert_int_equal(s->n_value, 3);
		assert_int_equal(s->value[1], s->value[0] * (int64_t)SYN_PERIOD_NS);
		total += (uint64_t)s->value[0];
		assert_non_null(st);
		assert_string_equal(label_str(m, s, "thread_id", &tid), ""); /* numeric */
		assert_true(tid >= 4242 && tid <= 4245);
		if (label_str(m, s, "gc", &gcv)) {
			assert_int_equal(gcv, 1);
			gc += (int)s->value[0];
		}
		if (!strcmp(st, "waiting")) {
			waiting += (int)s->value[0];
			assert_int_equal(s->value[2], 0); /* off CPU */
			assert_string_equal(label_str(m, s, "thread_name", NULL), "worker-1");
			/* leaf first: compute, then Worker.run */
			assert_int_equal(s->n_location_id, 2);
			assert_string_equal(pstr(m, pfunc(m, s->location_id[0])->name), "compute");
			assert_string_equal(pstr(m, pfunc(m, s->location_id[1])->name),
					    "Worker.run");
			assert_string_equal(pstr(m, pfunc(m, s->location_id[1])->system_name),
					    "run");
			assert_int_equal(pfunc(m, s->location_id[1])->start_line, 30);
			assert_int_equal(m->location[s->location_id[0] - 1]->line[0]->line, 52);
		}
		if (tid == 4244) /* invalid UTF-8 in the name arrives cleaned */
			assert_string_equal(label_str(m, s, "thread_name", NULL),
					    "hash\xef\xbf\xbd" "er");
		if (tid == 4245)
			assert_null(label_str(m, s, "thread_name", NULL));
	}
	assert_int_equal(total, p.samples);
	assert_int_equal(waiting, 70);
	assert_int_equal(gc, 20);

	/* the native frame: address and a mapping with file and build-id */
	assert_int_equal(m->n_mapping, 1);
	assert_string_equal(pstr(m, m->mapping[0]->filename),
			    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
	assert_string_equal(pstr(m, m->mapping[0]->build_id),
			    "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c");
	assert_true(m->mapping[0]->has_functions);
	assert_int_equal(m->mapping[0]->memory_start, 0x7f0000000000ULL);
	for (size_t i = 0; i < m->n_location; i++) {
		const Perftools__Profiles__Location *l = m->location[i];

		if (l->address) {
			assert_int_equal(l->address, 0x7f0000012340ULL);
			assert_int_equal(l->mapping_id, 1);
			assert_string_equal(pstr(m, pfunc(m, l->id)->name),
					    "sha256_block_data_order");
		} else {
			assert_int_equal(l->mapping_id, 0);
		}
	}
	/* "<module>": no system name, or pprof would blank the name */
	for (size_t i = 0; i < m->n_function; i++)
		if (!strcmp(pstr(m, m->function[i]->name), "<module>"))
			assert_string_equal(pstr(m, m->function[i]->system_name), "");
	perftools__profiles__profile__free_unpacked(m, NULL);
	gp_profile_free(&p);
}

static void test_pprof_cpu_only_defaults_to_cpu(void **state)
{
	Perftools__Profiles__Profile *m;
	struct gp_profile p;
	struct gp_thread *t;
	uint32_t f, l;

	(void)state;
	gp_profile_init(&p);
	f = gp_profile_function(&p, GP_FUNC_PYTHON, "spin", "spin", "a.py", 1);
	l = gp_profile_location(&p, f, 2, 0, 0);
	t = gp_profile_thread(&p, 10, 10);
	assert_int_equal(gp_profile_add(&p, t->idx, GP_STATE_NONE, false, &l, 1, 3, 30, 30), 0);
	m = decode_pprof(&p);
	assert_string_equal(pstr(m, m->default_sample_type), "cpu");
	assert_int_equal(m->n_sample, 1);
	/* thread_id and pid only: no name, no state, no process (one process) */
	assert_int_equal(m->sample[0]->n_label, 2);
	{
		int64_t pid = 0;

		assert_string_equal(label_str(m, m->sample[0], "pid", &pid), "");
		assert_int_equal(pid, 10);
		assert_null(label_str(m, m->sample[0], "process", NULL));
	}
	perftools__profiles__profile__free_unpacked(m, NULL);
	gp_profile_free(&p);
}

/* --- processes (--subprocesses) ------------------------------------------- */

/* The target (pid 100, two threads) and a child (pid 200), labelled by process. */
static void two_processes(struct gp_profile *p)
{
	uint32_t f = 0, l;
	struct gp_process *pr;
	const pid_t ids[3][2] = { { 100, 100 }, { 100, 101 }, { 200, 200 } };

	gp_profile_init(p);
	p->pid = 100;
	p->multiprocess = true;
	p->gil_tracked = true;
	p->rate_hz = 100;
	p->period_ns = 10000000;
	snprintf(p->comm, sizeof(p->comm), "python3");
	pr = gp_profile_process(p, 100);
	snprintf(pr->cmdline, sizeof(pr->cmdline), "python3 app.py");
	pr = gp_profile_process(p, 200);
	pr->ppid = 100;
	snprintf(pr->comm, sizeof(pr->comm), "python3");
	snprintf(pr->cmdline, sizeof(pr->cmdline), "python3 -c work;\n");
	f = gp_profile_function(p, GP_FUNC_PYTHON, "work", "work", "app.py", 1);
	l = gp_profile_location(p, f, 3, 0, 0);
	for (int i = 0; i < 3; i++) {
		struct gp_thread *t = gp_profile_thread(p, ids[i][0], ids[i][1]);

		assert_int_equal(gp_profile_add(p, t->idx, GP_STATE_HOLDING, false, &l, 1,
						(uint64_t)(i + 1), 1, 1),
				 0);
	}
	gp_profile_sort_stacks(p);
}

static void test_process_labels(void **state)
{
	Perftools__Profiles__Profile *m;
	struct gp_profile p;
	struct fg_tree t;
	char buf[320], *text;
	size_t len;
	uint32_t procs = 0;

	(void)state;
	two_processes(&p);
	gp_profile_process_label(&p, 200, buf, sizeof(buf));
	assert_string_equal(buf, "process 200:\"python3 -c work;\n\"");

	/* folded: py-spy's process frame above the thread, cleaned */
	text = write_to_memory(gp_write_folded, &p, &len);
	assert_non_null(strstr(text, "process 100:\"python3 app.py\";thread (101);gil:holding;"
				     "work (app.py:3) 2\n"));
	assert_non_null(strstr(text, "process 200:\"python3 -c work: \";thread (200);"));
	free(text);

	/* pprof: pid and process labels on every sample */
	m = decode_pprof(&p);
	assert_int_equal(m->n_sample, 3);
	for (size_t i = 0; i < m->n_sample; i++) {
		int64_t pid = 0, tid = 0;

		label_str(m, m->sample[i], "pid", &pid);
		label_str(m, m->sample[i], "thread_id", &tid);
		assert_int_equal(pid, tid == 200 ? 200 : 100);
		assert_string_equal(label_str(m, m->sample[i], "process", NULL),
				    pid == 200 ? "python3 -c work; " : "python3 app.py");
	}
	perftools__profiles__profile__free_unpacked(m, NULL);

	/* speedscope: the process first in each profile's name */
	text = write_to_memory(gp_write_speedscope, &p, &len);
	assert_non_null(strstr(text, "\"process 100:\\\"python3 app.py\\\" Thread 101 [gil: holding]\""));
	free(text);

	/* flame graph: processes between the root and their threads */
	assert_int_equal(fg_tree_build(&t, &p), 0);
	fg_tree_layout(&t);
	for (uint32_t c = t.nodes[0].child; c; c = t.nodes[c].sibling, procs++) {
		uint32_t threads = 0;

		assert_int_equal(t.nodes[c].kind, FG_PROCESS);
		assert_int_equal(t.nodes[c].key, procs ? 200 : 100);
		assert_int_equal(t.nodes[c].total, procs ? 3 : 3);
		for (uint32_t k = t.nodes[c].child; k; k = t.nodes[k].sibling, threads++) {
			assert_int_equal(t.nodes[k].kind, FG_THREAD);
			assert_int_equal(p.threads[t.nodes[k].key]->pid, (pid_t)t.nodes[c].key);
			assert_int_equal(t.nodes[k].depth, 2);
		}
		assert_int_equal(threads, procs ? 1 : 2);
	}
	assert_int_equal(procs, 2);
	assert_string_equal(fg_node_label(&t, t.nodes[0].child, buf, sizeof(buf)),
			    "process 100:\"python3 app.py\"");
	assert_int_equal(t.max_depth, 3); /* all > process > thread > work */
	fg_tree_free(&t);

	/* report: each process's threads under its label */
	text = write_to_memory(gp_write_report, &p, &len);
	assert_non_null(strstr(text, "process 100:\"python3 app.py\"\n100 "));
	assert_non_null(strstr(text, "\n101 "));
	assert_true(strstr(text, "process 200:") < strstr(text, "\n200 "));
	assert_true(strstr(text, "\n101 ") < strstr(text, "process 200:"));
	free(text);
	gp_profile_free(&p);
}

/* --- speedscope ------------------------------------------------------------- */

static struct json_object *key(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("missing key %s", k);
	return v;
}

static void test_speedscope(void **state)
{
	struct json_object *doc, *frames, *profiles;
	struct gp_profile p;
	size_t len, nframes;
	char *text;
	int seen_waiting = 0;

	(void)state;
	assert_int_equal(synthetic_profile(&p), 0);
	text = write_to_memory(gp_write_speedscope, &p, &len);
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	assert_string_equal(json_object_get_string(key(doc, "$schema")),
			    "https://www.speedscope.app/file-format-schema.json");
	assert_string_equal(json_object_get_string(key(doc, "exporter")), "gil-prof@" GP_VERSION);
	frames = key(key(doc, "shared"), "frames");
	nframes = json_object_array_length(frames);
	assert_int_equal(nframes, p.nlocations);
	profiles = key(doc, "profiles");
	/* main: idle + holding; worker: holding + waiting; hasher; anon */
	assert_int_equal(json_object_array_length(profiles), 6);
	for (size_t i = 0; i < json_object_array_length(profiles); i++) {
		struct json_object *pr = json_object_array_get_idx(profiles, i);
		struct json_object *samples = key(pr, "samples"), *weights = key(pr, "weights");
		const char *name = json_object_get_string(key(pr, "name"));
		int64_t sum = 0;

		assert_string_equal(json_object_get_string(key(pr, "type")), "sampled");
		assert_string_equal(json_object_get_string(key(pr, "unit")), "nanoseconds");
		assert_int_equal(json_object_array_length(samples),
				 json_object_array_length(weights));
		for (size_t j = 0; j < json_object_array_length(samples); j++) {
			struct json_object *st = json_object_array_get_idx(samples, j);

			for (size_t k = 0; k < json_object_array_length(st); k++) {
				int64_t fi = json_object_get_int64(json_object_array_get_idx(st, k));

				assert_true(fi >= 0 && (size_t)fi < nframes);
			}
			sum += json_object_get_int64(json_object_array_get_idx(weights, j));
		}
		assert_int_equal(json_object_get_int64(key(pr, "endValue")) -
					 json_object_get_int64(key(pr, "startValue")),
				 sum);
		if (!strcmp(name, "Thread 4243 \"worker-1\" [gil: waiting]")) {
			seen_waiting = 1;
			assert_int_equal(sum, 70 * SYN_PERIOD_NS);
		}
	}
	assert_true(seen_waiting);
	/* frame of the native leaf: its file is the mapping's */
	for (size_t i = 0; i < nframes; i++) {
		struct json_object *fr = json_object_array_get_idx(frames, i), *file;

		if (!strcmp(json_object_get_string(key(fr, "name")), "sha256_block_data_order")) {
			assert_true(json_object_object_get_ex(fr, "file", &file));
			assert_string_equal(json_object_get_string(file),
					    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
		}
	}
	json_object_put(doc);
	free(text);
	gp_profile_free(&p);
}

/* --- flame graph ------------------------------------------------------------ */

static void test_flametree(void **state)
{
	struct gp_profile p;
	struct fg_tree t;
	uint64_t children;
	char buf[160];

	(void)state;
	assert_int_equal(synthetic_profile(&p), 0);
	assert_int_equal(fg_tree_build(&t, &p), 0);
	fg_tree_layout(&t);
	assert_int_equal(t.nodes[0].total, 295);
	assert_int_equal(t.nodes[0].state[GP_STATE_WAITING], 70);
	/* threads in tid order, side by side from x = 0 */
	children = 0;
	for (uint32_t c = t.nodes[0].child; c; c = t.nodes[c].sibling) {
		assert_int_equal(t.nodes[c].kind, FG_THREAD);
		assert_int_equal(t.nodes[c].x, children);
		children += t.nodes[c].total;
	}
	assert_int_equal(children, 295);
	assert_string_equal(fg_node_label(&t, t.nodes[0].child, buf, sizeof(buf)),
			    "thread (4242 MainThread)");
	for (uint32_t i = 1; i < t.n; i++) {
		const struct fg_node *n = &t.nodes[i], *parent = &t.nodes[n->parent];

		/* inside the parent, and no wider */
		assert_true(n->x >= parent->x && n->x + n->total <= parent->x + parent->total);
		assert_int_equal(n->depth, parent->depth + 1);
		if (n->kind == FG_FRAME &&
		    !strcmp(fg_node_label(&t, i, buf, sizeof(buf)), "compute (<kernels> & \"math\".py:52)")) {
			/* 30 holding + 70 waiting: coloured as waiting */
			assert_int_equal(n->total, 100);
			assert_int_equal(fg_node_state(n), GP_STATE_WAITING);
			assert_string_equal(fg_node_title(&t, i, buf, sizeof(buf)),
					    "compute (/srv/<kernels> & \"math\".py:52)");
		}
	}
	assert_int_equal(t.max_depth, 4); /* all > thread > run > checksum > native */
	fg_tree_free(&t);
	gp_profile_free(&p);
}

static void test_flamegraph_svg(void **state)
{
	struct gp_profile p;
	size_t len;
	char *svg;

	(void)state;
	assert_int_equal(synthetic_profile(&p), 0);
	svg = write_to_memory(gp_write_svg, &p, &len);
	assert_true(!strncmp(svg, "<?xml version=\"1.0\"", 19));
	assert_non_null(strstr(svg, "id=\"gp-flamegraph\""));
	assert_non_null(strstr(svg, "data-total=\"295\""));
	/* frames, escaped, with full paths in the tooltip */
	assert_non_null(strstr(svg, "<title>compute (/srv/&lt;kernels&gt; &amp; &quot;math&quot;"
				    ".py:52)\n100 samples, 33.90%\nholding 30.0%, waiting 70.0%"
				    "</title>"));
	assert_non_null(strstr(svg, "data-s=\"waiting\""));
	assert_non_null(strstr(svg, "data-s=\"released\""));
	assert_non_null(strstr(svg, "thread (4244 hash\xef\xbf\xbd" "er)"));
	/* a legend entry per state present */
	assert_non_null(strstr(svg, "<g class=\"legend\" data-s=\"idle\">"));
	assert_non_null(strstr(svg, "waiting for the GIL 23.7%"));
	assert_null(strstr(svg, "<g class=\"legend\" data-s=\"none\">"));
	/* the script, whole, and nothing fetched from anywhere */
	assert_non_null(memmem(svg, len, gp_flamegraph_js, gp_flamegraph_js_len));
	assert_null(memmem(gp_flamegraph_js, gp_flamegraph_js_len, "]]>", 3));
	assert_null(strstr(svg, "https://"));
	assert_null(strstr(svg, "href"));
	free(svg);
	gp_profile_free(&p);
}

static void test_flamegraph_html_and_empty(void **state)
{
	struct gp_profile p;
	size_t len;
	char *html, *svg;

	(void)state;
	assert_int_equal(synthetic_profile(&p), 0);
	html = write_to_memory(gp_write_html, &p, &len);
	assert_true(!strncmp(html, "<!DOCTYPE html>", 15));
	assert_non_null(strstr(html, "<title>gil-prof: python3 (pid 4242)</title>"));
	assert_non_null(strstr(html, "id=\"gp-search-input\""));
	assert_non_null(strstr(html, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"gp-flamegraph\""));
	assert_null(strstr(html, "<?xml"));
	assert_non_null(strstr(html, "</html>\n"));
	free(html);
	gp_profile_free(&p);

	/* nothing recorded: still a complete document, no frames */
	gp_profile_init(&p);
	svg = write_to_memory(gp_write_svg, &p, &len);
	assert_non_null(strstr(svg, "data-total=\"0\""));
	assert_null(strstr(svg, "class=\"f\""));
	assert_non_null(strstr(svg, "</svg>\n"));
	free(svg);
	gp_profile_free(&p);
}

/* Long labels are cut to the frame's width, by characters, never mid-UTF-8. */
static void test_flamegraph_label_fit(void **state)
{
	struct gp_profile p;
	struct gp_thread *t;
	uint32_t f, l[2];
	size_t len;
	char *svg, *at, name[600];

	(void)state;
	gp_profile_init(&p);
	memset(name, 0, sizeof(name));
	for (int i = 0; i < 250; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2); /* 250 x 'é' */
	f = gp_profile_function(&p, GP_FUNC_PYTHON, name, name, "", 1);
	l[0] = gp_profile_location(&p, f, 0, 0, 0);
	t = gp_profile_thread(&p, 1, 1);
	assert_int_equal(gp_profile_add(&p, t->idx, GP_STATE_NONE, false, l, 1, 1, 1, 1), 0);
	svg = write_to_memory(gp_write_svg, &p, &len);
	at = strstr(svg, "\xc3\xa9..</text>");
	assert_non_null(at);
	/* 1180 px at 7.2 px per character: 163 fit; 161 of the label and ".." */
	for (int i = 1; i <= 161; i++)
		assert_memory_equal(at - 2 * (i - 1), "\xc3\xa9", 2);
	assert_memory_equal(at - 2 * 160 - 1, ">", 1);
	free(svg);
	gp_profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_xml_put),
		cmocka_unit_test(test_format_table),
		cmocka_unit_test(test_pprof),
		cmocka_unit_test(test_pprof_cpu_only_defaults_to_cpu),
		cmocka_unit_test(test_process_labels),
		cmocka_unit_test(test_speedscope),
		cmocka_unit_test(test_flametree),
		cmocka_unit_test(test_flamegraph_svg),
		cmocka_unit_test(test_flamegraph_html_and_empty),
		cmocka_unit_test(test_flamegraph_label_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
