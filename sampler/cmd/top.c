// SPDX-License-Identifier: BSD-2-Clause
/*
 * top.c — the `top` command: a live view over the one sampler. It polls
 * the session (record/session.c) and, every interval, turns what the live
 * profile gained into rows (account/toptable.c) and draws them with
 * ncurses. q, Ctrl-C, SIGTERM, SIGHUP and the target's exit end it, and the
 * terminal is restored on each of them (the session's signal handlers only
 * set a flag, so endwin runs in this loop). Without a terminal on stdout
 * it prints one plain table per interval instead.
 */
#define _GNU_SOURCE
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "../account/toptable.h"
#include "../account/wallclock.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../record/privileges.h"
#include "../record/session.h"
#include "../target/target.h"
#include "../../output/text.h"
#include "../common/gp_clock.h"

/* Rows printed without a terminal. */
#define PLAIN_ROWS 25

struct top {
	struct gp_options *o;
	struct gp_target *t;
	struct gp_session *s;
	struct gp_top_table table;
	struct gp_session_view view;
	bool curses;
	bool paused;
	uint64_t lost_before;
	uint64_t samples_before;
	uint64_t interval_lost, interval_samples;
	/* Wall mode: GIL contention (wall time in which a thread waited). */
	uint64_t contended_before, contention_at;
	double contention_pct;     /* of the last interval; < 0 before one ran */
};

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *sort_name(enum gp_top_sort s)
{
	static const char *const names[] = { "own", "total", "holding", "waiting", "name" };

	return names[s];
}

/* "func (file:line)" without the line: a function's name and where it is. */
static void func_text(const struct gp_profile *p, uint32_t func, char *buf, size_t len)
{
	const struct gp_function *f = gp_func(p, func);
	char *clean = gp_text_clean(f->name), *file = gp_text_clean(gp_basename(f->filename));

	if (file && file[0] && f->kind != GP_FUNC_MARKER)
		snprintf(buf, len, "%s (%s)", clean ? clean : "", file);
	else
		snprintf(buf, len, "%s", clean ? clean : "");
	free(clean);
	free(file);
}

static void thread_text(const struct gp_profile *p, uint32_t idx, char *buf, size_t len)
{
	const struct gp_thread *th = idx < p->nthreads ? p->threads[idx] : NULL;
	char *name = th ? gp_text_clean(th->name) : NULL;

	snprintf(buf, len, "%d %s", th ? (int)th->tid : 0, name ? name : "");
	free(name);
}

/* The threads holding and waiting for the GIL in the interval, by share. */
static void gil_line(const struct top *tp, char *buf, size_t len)
{
	const struct gp_profile *p = tp->view.prof;
	const struct gp_top_table *t = &tp->table;
	size_t used = 0;

	buf[0] = '\0';
	for (int state = GP_STATE_HOLDING; state <= GP_STATE_WAITING; state++) {
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s:",
					 state == GP_STATE_HOLDING ? "" : "   ",
					 state == GP_STATE_HOLDING ? "holding" : "waiting");
		for (size_t i = 0; i < t->nthreads && i < p->nthreads && used < len; i++) {
			char who[96];

			if (pct(t->threads[i].state_ns[state], t->threads[i].ns) < 5)
				continue;
			thread_text(p, (uint32_t)i, who, sizeof(who));
			used += (size_t)snprintf(buf + used, len - used, " %s (%.0f%%)", who,
						 pct(t->threads[i].state_ns[state], t->threads[i].ns));
		}
	}
}

/* The share of the last interval's wall time in which some thread waited. */
static void contention_line(const struct top *tp, char *buf, size_t len)
{
	if (!tp->view.wallclock)
		snprintf(buf, len, "GIL contention: measured in wall mode only");
	else if (tp->contention_pct < 0)
		snprintf(buf, len, "GIL contention: after the first interval");
	else
		snprintf(buf, len, "GIL contention: %.1f%% of the last interval (some thread waited for the GIL)",
			 tp->contention_pct);
}

/* The header lines and the rows, to a line printer (ncurses or stdio). */
static void render(const struct top *tp, int width, int height,
		   void (*line)(void *ctx, int y, bool bold, const char *text), void *ctx)
{
	const struct gp_top_table *t = &tp->table;
	const struct gp_profile *p = tp->view.prof;
	char buf[1024], name[512], who[96];
	int y = 0;

	snprintf(buf, sizeof(buf),
		 "gil-prof top: process %d (%s, Python %s)  %zu threads  %u Hz  %s mode  "
		 "%.0fs%s",
		 (int)tp->t->pid, tp->t->comm, tp->t->version, tp->view.nthreads,
		 tp->o->rate_hz, gp_mode_name(tp->o->mode), tp->view.elapsed_ns / 1e9,
		 tp->paused ? "  [paused]" : "");
	line(ctx, y++, true, buf);
	snprintf(buf, sizeof(buf),
		 "samples %" PRIu64 " (%" PRIu64 " in the last interval), lost %" PRIu64
		 "  GIL: %.1f%% of the time held, %.1f%% waited for%s",
		 tp->view.samples, tp->interval_samples, tp->view.lost,
		 pct(t->state_ns[GP_STATE_HOLDING], t->ns), pct(t->state_ns[GP_STATE_WAITING], t->ns),
		 t->idle ? "" : " (idle time hidden)");
	line(ctx, y++, false, buf);
	contention_line(tp, buf, sizeof(buf));
	line(ctx, y++, false, buf);
	gil_line(tp, buf, sizeof(buf));
	line(ctx, y++, false, buf);
	snprintf(buf, sizeof(buf), "sort: %s   keys: o t h w n sort, i idle, T threads, p pause, q quit",
		 sort_name(t->sort));
	line(ctx, y++, false, buf);
	line(ctx, y++, false, "");
	snprintf(buf, sizeof(buf), "%6s %6s %8s %8s  %s", "own%", "total%", "holding", "waiting",
		 t->per_thread ? "thread  function" : "function");
	line(ctx, y++, true, buf);
	for (size_t i = 0; i < t->nrows && y < height; i++) {
		const struct gp_top_row *r = &t->rows[i];

		func_text(p, r->func, name, sizeof(name));
		who[0] = '\0';
		if (t->per_thread) {
			thread_text(p, r->thread, who, sizeof(who) - 2);
			strcat(who, "  ");
		}
		snprintf(buf, sizeof(buf), "%6.1f %6.1f %7.0f%% %7.0f%%  %s%s", pct(r->own_ns, t->ns),
			 pct(r->total_ns, t->ns), pct(r->state_ns[GP_STATE_HOLDING], r->total_ns),
			 pct(r->state_ns[GP_STATE_WAITING], r->total_ns), who, name);
		if (width > 0 && (int)strlen(buf) > width)
			buf[width] = '\0';
		line(ctx, y++, false, buf);
	}
}

static void curses_line(void *ctx, int y, bool bold, const char *text)
{
	(void)ctx;
	if (bold)
		attron(A_BOLD);
	mvaddnstr(y, 0, text, COLS);
	if (bold)
		attroff(A_BOLD);
}

static void plain_line(void *ctx, int y, bool bold, const char *text)
{
	(void)y;
	(void)bold;
	fprintf(ctx, "%s\n", text);
}

static void draw(struct top *tp)
{
	if (tp->curses) {
		erase();
		render(tp, COLS, LINES, curses_line, NULL);
		refresh();
		return;
	}
	render(tp, 0, PLAIN_ROWS + 7, plain_line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* A new interval: what the profile gained since the last one. */
static int refresh_table(struct top *tp)
{
	uint64_t now = gp_mono_ns(), contended;

	gp_session_peek(tp->s, &tp->view);
	tp->interval_samples = tp->view.samples - tp->samples_before;
	tp->samples_before = tp->view.samples;
	/* The same sweep as the report's and the agent's contention. */
	if (tp->view.wallclock) {
		contended = gp_wall_contended_now(tp->view.wallclock, now);
		if (tp->contention_at && now > tp->contention_at)
			tp->contention_pct =
				contended > tp->contended_before
					? pct(contended - tp->contended_before, now - tp->contention_at)
					: 0.0;
		if (tp->contention_pct > 100.0)
			tp->contention_pct = 100.0;
		tp->contended_before = contended;
		tp->contention_at = now;
	}
	if (gp_top_update(&tp->table, tp->view.prof)) {
		gp_error("out of memory");
		return GP_EXIT_FAILURE;
	}
	return 0;
}

/* A key: true when the view changed. */
static bool key(struct top *tp, int ch)
{
	static const struct {
		int ch;
		enum gp_top_sort sort;
	} sorts[] = { { 'o', GP_TOP_OWN }, { 't', GP_TOP_TOTAL }, { 'h', GP_TOP_HOLDING },
		      { 'w', GP_TOP_WAITING }, { 'n', GP_TOP_NAME } };

	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		if (ch != sorts[i].ch)
			continue;
		tp->table.sort = sorts[i].sort;
		gp_top_sort(&tp->table, tp->view.prof);
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		gp_session_request_stop(tp->s);
		return false;
	case 'i':
		tp->table.idle = !tp->table.idle;
		return true;
	case 'T':
		tp->table.per_thread = !tp->table.per_thread;
		return true;
	case 'p':
		tp->paused = !tp->paused;
		return true;
	case KEY_RESIZE:
		return true;
	default:
		return false;
	}
}

static int loop(struct top *tp)
{
	uint64_t next = gp_mono_ns() + tp->o->interval_ns;
	int rc = 0;

	while (!rc && !gp_session_poll(tp->s, 50)) {
		bool redraw = false;
		int ch;

		while (tp->curses && (ch = getch()) != ERR)
			redraw |= key(tp, ch);
		if (gp_mono_ns() >= next) {
			next += tp->o->interval_ns;
			if (!tp->paused) {
				rc = refresh_table(tp);
				redraw = true;
			}
		}
		/* A changed setting applies to the next interval; show it now. */
		if (redraw && !rc)
			draw(tp);
	}
	return rc;
}

static void start_curses(struct top *tp)
{
	tp->curses = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	if (!tp->curses)
		return;
	initscr();
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
}

int gp_cmd_top(struct gp_options *o)
{
	struct gp_session_result res;
	struct gp_profile prof;
	struct gp_target t;
	struct top tp = { .o = o, .t = &t, .contention_pct = -1 };
	int rc;

	rc = gp_require_privileges();
	if (rc)
		return rc;
	rc = o->command ? gp_target_launch(o->command, &t) : gp_target_attach(o->pid, &t);
	if (rc) {
		gp_target_close(&t);
		return rc;
	}
	gp_profile_init(&prof);
	gp_top_init(&tp.table);
	rc = gp_session_start(o, &t, &prof, &tp.s);
	if (rc) {
		gp_target_abandon(&t);
		goto out;
	}
	if (o->subprocesses)
		gp_session_add_descendants(tp.s);
	start_curses(&tp);
	gp_session_peek(tp.s, &tp.view);
	draw(&tp);
	rc = loop(&tp);
	if (tp.curses)
		endwin();
	if (gp_session_stop(tp.s, &res) && !rc)
		rc = GP_EXIT_FAILURE;
	if (res.reason == GP_STOP_TARGET_EXIT)
		gp_note("process %d exited", (int)t.pid);
out:
	gp_session_free(tp.s);
	gp_top_free(&tp.table);
	gp_profile_free(&prof);
	gp_target_close(&t);
	return rc;
}
