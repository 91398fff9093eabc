// SPDX-License-Identifier: BSD-2-Clause
/* Aggregation, the folded writer and atomic output files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "output.h"
#include "profile.h"
#include "writer_text.h"

static char *folded_text(const struct gp_profile *p)
{
	return writer_text(gp_write_folded, p);
}

static void build(struct gp_profile *p)
{
	uint32_t fa, fb, fm, la, lb, lb2, lm, stack[3];
	struct gp_thread *t1, *t2;

	gp_profile_init(p);
	fa = gp_profile_function(p, GP_FUNC_PYTHON, "main", "main", "app.py", 1);
	fb = gp_profile_function(p, GP_FUNC_PYTHON, "Worker.run", "run", "app.py", 10);
	fm = gp_profile_function(p, GP_FUNC_MARKER, "[truncated]", NULL, "", 0);
	assert_int_equal(gp_profile_function(p, GP_FUNC_PYTHON, "main", "main", "app.py", 1), fa);
	la = gp_profile_location(p, fa, 5, 0, 0);
	lb = gp_profile_location(p, fb, 12, 0, 0);
	lb2 = gp_profile_location(p, fb, 13, 0, 0);
	lm = gp_profile_location(p, fm, 0, 0, 0);
	assert_int_equal(gp_profile_location(p, fb, 12, 0, 0), lb);
	assert_int_not_equal(lb, lb2);
	t1 = gp_profile_thread(p, 100, 100);
	snprintf(t1->name, sizeof(t1->name), "python3");
	t2 = gp_profile_thread(p, 100, 101);
	assert_ptr_equal(gp_profile_thread(p, 100, 101), t2);

	stack[0] = la;
	stack[1] = lb;
	assert_int_equal(gp_profile_add(p, t1->idx, GP_STATE_NONE, false, stack, 2, 1, 10, 10), 0);
	assert_int_equal(gp_profile_add(p, t1->idx, GP_STATE_NONE, false, stack, 2, 2, 20, 20), 0);
	stack[1] = lb2;
	assert_int_equal(gp_profile_add(p, t1->idx, GP_STATE_NONE, false, stack, 2, 1, 10, 10), 0);
	stack[0] = lm;
	stack[1] = la;
	stack[2] = lb;
	assert_int_equal(gp_profile_add(p, t2->idx, GP_STATE_WAITING, false, stack, 3, 4, 40, 0), 0);
	gp_profile_sort_stacks(p);
}

static void test_aggregation(void **state)
{
	struct gp_profile p;

	(void)state;
	build(&p);
	assert_int_equal(p.nstacks, 3);
	assert_int_equal(p.samples, 8);
	assert_int_equal(p.threads[0]->samples[GP_STATE_NONE], 4);
	assert_int_equal(p.threads[1]->samples[GP_STATE_WAITING], 4);
	/* sorted: thread 0 first, most samples first */
	assert_int_equal(p.stacks[0]->samples, 3);
	assert_int_equal(p.stacks[0]->wall_ns, 30);
	gp_profile_free(&p);
}

static void test_folded_text(void **state)
{
	struct gp_profile p;
	char *text;

	(void)state;
	build(&p);
	text = folded_text(&p);
	assert_string_equal(text,
			    "thread (100 python3);main (app.py:5);Worker.run (app.py:12) 3\n"
			    "thread (100 python3);main (app.py:5);Worker.run (app.py:13) 1\n"
			    "thread (101);gil:waiting;[truncated];main (app.py:5);"
			    "Worker.run (app.py:12) 4\n");
	free(text);
	gp_profile_free(&p);
}

static void test_folded_escapes_separators(void **state)
{
	struct gp_profile p;
	uint32_t f, l;
	struct gp_thread *t;
	char *text;

	(void)state;
	gp_profile_init(&p);
	f = gp_profile_function(&p, GP_FUNC_PYTHON, "a;b\nc", "x", "we;ird.py", 1);
	l = gp_profile_location(&p, f, 3, 0, 0);
	t = gp_profile_thread(&p, 1, 2);
	snprintf(t->name, sizeof(t->name), "th;read");
	gp_profile_add(&p, t->idx, GP_STATE_NONE, false, &l, 1, 1, 0, 0);
	text = folded_text(&p);
	assert_string_equal(text, "thread (2 th:read);a:b c (we:ird.py:3) 1\n");
	free(text);
	gp_profile_free(&p);
}

/* A sample taken during a collection gets a [gc] leaf: its own line. */
static void test_folded_gc_leaf(void **state)
{
	struct gp_profile p;
	char *text;

	(void)state;
	build(&p);
	gp_profile_add(&p, 1, GP_STATE_WAITING, true, p.stacks[2]->locs, p.stacks[2]->n, 2, 0, 0);
	gp_profile_sort_stacks(&p);
	text = folded_text(&p);
	assert_non_null(strstr(text, "thread (101);gil:waiting;[truncated];main (app.py:5);"
				     "Worker.run (app.py:12) 4\n"
				     "thread (101);gil:waiting;[truncated];main (app.py:5);"
				     "Worker.run (app.py:12);[gc] 2\n"));
	free(text);
	gp_profile_free(&p);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/gp-unit-XXXXXX", path[128], why[256], line[256];
	struct gp_profile p;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	build(&p);
	snprintf(path, sizeof(path), "%s/out.folded", dir);
	assert_int_equal(gp_output_check(path, why, sizeof(why)), 0);
	assert_int_equal(gp_output_write(&p, path, GP_FORMAT_FOLDED), 0);
	assert_int_equal(count_entries(dir), 1); /* no temporary left behind */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	f = fopen(path, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_non_null(strstr(line, "Worker.run (app.py:12) 3"));

	/* missing directory, a directory as path: refused up front */
	snprintf(path, sizeof(path), "%s/nope/out.folded", dir);
	assert_int_equal(gp_output_check(path, why, sizeof(why)), -1);
	assert_int_equal(gp_output_write(&p, path, GP_FORMAT_FOLDED), -1);
	assert_int_equal(gp_output_check(dir, why, sizeof(why)), -1);
	assert_int_equal(count_entries(dir), 1);

	unlink(path);
	snprintf(path, sizeof(path), "%s/out.folded", dir);
	unlink(path);
	rmdir(dir);
	gp_profile_free(&p);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int written;

static void count_written(const char *path)
{
	(void)path;
	written++;
}

static void test_split_files(void **state)
{
	char dir[] = "/tmp/gp-unit-XXXXXX", path[128], failed[256];
	const char *states[] = { "holding", "waiting", "released", "idle", "none" };
	struct gp_profile p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	build(&p); /* thread 100: no state ("none"), thread 101: waiting */
	snprintf(path, sizeof(path), "%s/out.folded", dir);
	written = 0;
	assert_int_equal(gp_output_write_split(&p, path, GP_FORMAT_FOLDED, count_written, failed,
					       sizeof(failed)),
			 0);
	assert_int_equal(written, 5);
	assert_int_equal(count_entries(dir), 5);
	snprintf(path, sizeof(path), "%s/out.waiting.folded", dir);
	assert_string_equal(slurp(path), "thread (101);gil:waiting;[truncated];main (app.py:5);"
					 "Worker.run (app.py:12) 4\n");
	snprintf(path, sizeof(path), "%s/out.holding.folded", dir);
	assert_string_equal(slurp(path), "");
	snprintf(path, sizeof(path), "%s/out.none.folded", dir);
	assert_non_null(strstr(slurp(path), "thread (100 python3);main (app.py:5)"));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(path, sizeof(path), "%s/out.%s.folded", dir, states[i]);
		assert_int_equal(unlink(path), 0);
	}
	/* no known extension: the state goes at the end */
	snprintf(path, sizeof(path), "%s/prof", dir);
	assert_int_equal(gp_output_write_split(&p, path, GP_FORMAT_FOLDED, NULL, failed,
					       sizeof(failed)),
			 0);
	snprintf(path, sizeof(path), "%s/prof.idle", dir);
	assert_int_equal(unlink(path), 0);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(path, sizeof(path), "%s/prof.%s", dir, states[i]);
		unlink(path);
	}
	assert_int_equal(count_entries(dir), 0);
	rmdir(dir);
	gp_profile_free(&p);
}

static void test_formats(void **state)
{
	(void)state;
	assert_int_equal(gp_format_from_path("a/b.folded"), GP_FORMAT_FOLDED);
	assert_int_equal(gp_format_from_path("b.txt"), GP_FORMAT_FOLDED);
	assert_int_equal(gp_format_from_path(".folded"), GP_FORMAT_NONE);
	assert_int_equal(gp_format_from_path("b.svg.bak"), GP_FORMAT_NONE);
	assert_int_equal(gp_format_from_name("folded"), GP_FORMAT_FOLDED);
	assert_int_equal(gp_format_from_name("Folded"), GP_FORMAT_NONE);
	assert_string_equal(gp_format_extension(GP_FORMAT_FOLDED), ".folded");
	assert_int_equal(gp_format_from_path("x.report"), GP_FORMAT_REPORT);
	assert_int_equal(gp_format_from_name("report"), GP_FORMAT_REPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregation),
		cmocka_unit_test(test_folded_text),
		cmocka_unit_test(test_folded_escapes_separators),
		cmocka_unit_test(test_folded_gc_leaf),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_split_files),
		cmocka_unit_test(test_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
