// SPDX-License-Identifier: BSD-2-Clause
/*
 * flamegraph.c — a self-contained interactive flame graph, as an SVG file
 * or an HTML page: every frame drawn here (so it renders anywhere, even
 * without scripts), with output/flamegraph.js embedded for zoom, search and
 * details. No network, no external file.
 *
 * Root at the bottom, one row per stack depth: "all", the threads, then
 * the Python (and native) frames. Width is samples; a frame is coloured by
 * the GIL state most of its samples were in (the tooltip gives the split),
 * in a hue per state and a shade per function name.
 *
 * When threads waited for the GIL, the blame view follows below (see
 * put_blame): the stacks of the threads that held it meanwhile.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "blameview.h"
#include "flamegraph.h"
#include "flametree.h"
#include "output.h"
#include "text.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

#define SVG_WIDTH 1200
#define XPAD 10
#define FRAME_H 16
#define FONT_PX 12
#define CHAR_W 7.2        /* monospace at 12 px: 0.6 em */
#define TOP 78            /* title, subtitle, legend */
#define BOTTOM 28         /* details line */
#define MIN_WIDTH 0.1     /* narrower frames are not drawn (flamegraph.pl's default) */
#define LABEL_MAX 4096
#define BLAME_GAP 44      /* between the flame graph and the blame view: its title */

/* Catches any script error or console complaint before the main script runs. */
static const char error_hook[] =
	"(function () {\n"
	"\tvar root = document.getElementById(\"gp-flamegraph\");\n"
	"\tfunction note(text) {\n"
	"\t\troot.setAttribute(\"data-gp-errors\",\n"
	"\t\t\t(root.getAttribute(\"data-gp-errors\") || \"\") + text + \"\\n\");\n"
	"\t}\n"
	"\twindow.addEventListener(\"error\", function (e) { note(e.message || \"error\"); });\n"
	"\twindow.addEventListener(\"unhandledrejection\", function (e) {\n"
	"\t\tnote(\"unhandled rejection: \" + e.reason);\n"
	"\t});\n"
	"\t[\"error\", \"warn\"].forEach(function (level) {\n"
	"\t\tvar orig = console[level];\n"
	"\t\tconsole[level] = function () {\n"
	"\t\t\tnote(level + \": \" + Array.prototype.join.call(arguments, \" \"));\n"
	"\t\t\treturn orig.apply(console, arguments);\n"
	"\t\t};\n"
	"\t});\n"
	"})();\n";

static const char style[] =
	"text { font-family: monospace; font-size: 12px; fill: #000; }\n"
	"#gp-title { font-size: 17px; }\n"
	"#gp-subtitle, #gp-details, #gp-matched { fill: #444; }\n"
	".btn { cursor: pointer; fill: #1a4f9c; text-decoration: underline; }\n"
	".btn.on { font-weight: bold; }\n"
	".f { cursor: pointer; }\n"
	".f text { pointer-events: none; }\n"
	".f:hover rect { stroke: #000; stroke-width: 0.6; }\n"
	".f.a rect { opacity: 0.5; }\n"
	".f.m rect { fill: rgb(230, 0, 230); }\n"
	".b text { pointer-events: none; }\n"
	".b:hover rect { stroke: #000; stroke-width: 0.6; }\n";

struct rgb {
	int r, g, b;
};

/* Base colour and the variation a name adds, per GIL state; grey stays grey. */
static const struct {
	struct rgb base, spread;
	int grey;
	const char *legend;
} palette[GP_STATE__MAX] = {
	[GP_STATE_NONE] = { { 205, 0, 0 }, { 50, 230, 55 }, 0, "on CPU (GIL state not recorded)" },
	[GP_STATE_HOLDING] = { { 215, 70, 30 }, { 40, 70, 30 }, 0, "holding the GIL" },
	[GP_STATE_WAITING] = { { 60, 110, 200 }, { 40, 60, 55 }, 0, "waiting for the GIL" },
	[GP_STATE_RELEASED] = { { 60, 170, 70 }, { 50, 60, 50 }, 0, "running without the GIL" },
	[GP_STATE_IDLE] = { { 160, 160, 160 }, { 50, 50, 50 }, 1, "idle" },
	[GP_STATE_NOGIL] = { { 150, 90, 200 }, { 50, 50, 40 }, 0, "no GIL (free-threaded)" },
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The blame view: holders on CPU in the holding reds, asleep holding the GIL in purple. */
static const struct rgb asleep_base = { 120, 50, 180 }, asleep_spread = { 50, 40, 50 };

static const char *blame_state_name(int s)
{
	return s == GP_BLAME_STATE_ASLEEP ? "asleep holding the GIL" : "holding on CPU";
}

static struct rgb colour(const struct fg_tree *t, uint32_t i, const char *label, bool blame)
{
	const struct fg_node *n = &t->nodes[i];
	enum gp_gil_state s = fg_node_state(n);
	uint32_t h = hash(label);
	double v1 = (h & 0xff) / 255.0, v2 = ((h >> 8) & 0xff) / 255.0,
	       v3 = ((h >> 16) & 0xff) / 255.0;
	struct rgb c;

	if (blame && s == GP_BLAME_STATE_ASLEEP && n->kind == FG_FRAME)
		return (struct rgb){ asleep_base.r + (int)(asleep_spread.r * v1),
				     asleep_base.g + (int)(asleep_spread.g * v2),
				     asleep_base.b + (int)(asleep_spread.b * v3) };
	if (n->kind != FG_FRAME || gp_func(t->p, gp_loc(t->p, n->key)->func)->kind ==
					   GP_FUNC_MARKER)
		return (struct rgb){ 200 + (int)(20 * v1), 200 + (int)(20 * v1), 190 };
	if (palette[s].grey)
		v2 = v3 = v1;
	c.r = palette[s].base.r + (int)(palette[s].spread.r * v1);
	c.g = palette[s].base.g + (int)(palette[s].spread.g * v2);
	c.b = palette[s].base.b + (int)(palette[s].spread.b * v3);
	return c;
}

static size_t code_points(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/*
 * The clean UTF-8 label cut to what fits in width pixels: whole, or its
 * first max - 2 characters and "..". flamegraph.js cuts the same way.
 */
static void put_fitted(FILE *out, const char *label, double width)
{
	long max = (long)((width - 6) / CHAR_W);
	char buf[LABEL_MAX];
	size_t at = 0;
	long n = 0;

	if (max < 3)
		return;
	if ((long)code_points(label) <= max) {
		gp_xml_put(out, label);
		return;
	}
	for (const char *p = label; *p && at < sizeof(buf) - 3; p++) {
		if (((unsigned char)*p & 0xC0) != 0x80 && ++n > max - 2)
			break;
		buf[at++] = *p;
	}
	memcpy(buf + at, "..", 3);
	gp_xml_put(out, buf);
}

static void put_state_split(FILE *out, const struct fg_node *n, bool blame)
{
	const char *sep = "\n";

	for (int s = GP_STATE_NONE + 1; s < GP_STATE__MAX; s++) {
		if (!n->state[s])
			continue;
		fprintf(out, "%s%s %.1f%%", sep, blame ? blame_state_name(s) : gp_state_name(s),
			100.0 * n->state[s] / n->total);
		sep = ", ";
	}
}

struct canvas {
	const struct fg_tree *t;
	FILE *out;
	double scale;          /* pixels per sample */
	int height;
	int base;              /* bottom edge of the root row */
	bool blame;            /* the blame view: static frames (class "b"), its own colours */
};

static int node_y(const struct canvas *c, uint32_t depth)
{
	return c->base - (int)(depth + 1) * FRAME_H;
}

static void put_node(const struct canvas *c, uint32_t i)
{
	const struct fg_node *n = &c->t->nodes[i];
	double x = XPAD + n->x * c->scale, w = n->total * c->scale;
	char buf[160], *label = gp_text_clean(fg_node_label(c->t, i, buf, sizeof(buf)));
	struct rgb rgb;
	FILE *out = c->out;

	if (!label)
		return;
	rgb = colour(c->t, i, label, c->blame);
	fprintf(out,
		"<g class=\"%s\" data-x=\"%" PRIu64 "\" data-w=\"%" PRIu64 "\" data-d=\"%u\" "
		"data-s=\"%s\" data-l=\"",
		c->blame ? "b" : "f", n->x, n->total, n->depth,
		c->blame ? (fg_node_state(n) == GP_BLAME_STATE_ASLEEP ? "asleep" : "holding")
			 : gp_state_name(fg_node_state(n)));
	gp_xml_put(out, label);
	fputs("\"><title>", out);
	gp_xml_put(out, fg_node_title(c->t, i, buf, sizeof(buf)));
	fprintf(out, c->blame ? "\n%" PRIu64 " waiting samples caused, %.2f%%"
			      : "\n%" PRIu64 " samples, %.2f%%",
		n->total, 100.0 * n->total / c->t->nodes[0].total);
	put_state_split(out, n, c->blame);
	fprintf(out,
		"</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
		"fill=\"rgb(%d,%d,%d)\"/><text x=\"%.2f\" y=\"%d\">",
		x, node_y(c, n->depth), w, FRAME_H - 1, rgb.r, rgb.g, rgb.b, x + 3,
		node_y(c, n->depth) + FRAME_H - 4);
	put_fitted(out, label, w);
	fputs("</text></g>\n", out);
	free(label);
}

/* Frames at least MIN_WIDTH wide (a child is never wider than its parent). */
static void put_nodes(const struct canvas *c)
{
	for (uint32_t i = 0; i < c->t->n; i++)
		if (c->t->nodes[i].total * c->scale >= MIN_WIDTH)
			put_node(c, i);
}

static uint32_t drawn_depth(const struct canvas *c)
{
	uint32_t d = 0;

	for (uint32_t i = 0; i < c->t->n; i++)
		if (c->t->nodes[i].total * c->scale >= MIN_WIDTH && c->t->nodes[i].depth > d)
			d = c->t->nodes[i].depth;
	return d;
}

static void put_title(FILE *out, const struct gp_profile *p)
{
	fputs("gil-prof: ", out);
	gp_xml_put(out, p->comm[0] ? p->comm : "python");
	fprintf(out, " (pid %d)", (int)p->pid);
}

static void put_header(const struct canvas *c)
{
	const struct gp_profile *p = c->t->p;
	const struct fg_node *root = &c->t->nodes[0];
	FILE *out = c->out;
	int x = XPAD;

	fprintf(out, "<text id=\"gp-title\" x=\"%d\" y=\"24\" text-anchor=\"middle\">",
		SVG_WIDTH / 2);
	put_title(out, p);
	fprintf(out,
		"</text>\n<text id=\"gp-subtitle\" x=\"%d\" y=\"44\" text-anchor=\"middle\">"
		"Python %s \xc2\xb7 %" PRIu64 " samples (%" PRIu64 " lost) at %u Hz per thread "
		"\xc2\xb7 %.1f s \xc2\xb7 gil-prof " GP_VERSION "</text>\n",
		SVG_WIDTH / 2, p->python_version, p->samples, p->lost, p->rate_hz,
		p->duration_ns / 1e9);
	/* Legend: the states present, with their share of all samples. */
	for (int s = 0; s < GP_STATE__MAX; s++) {
		if (!root->state[s])
			continue;
		fprintf(out,
			"<g class=\"legend\" data-s=\"%s\"><rect x=\"%d\" y=\"56\" width=\"12\" "
			"height=\"12\" fill=\"rgb(%d,%d,%d)\"/><text x=\"%d\" y=\"66\">%s %.1f%%"
			"</text></g>\n",
			gp_state_name(s), x, palette[s].base.r + palette[s].spread.r / 2,
			palette[s].base.g + palette[s].spread.g / 2,
			palette[s].base.b + palette[s].spread.b / 2, x + 16, palette[s].legend,
			100.0 * root->state[s] / root->total);
		x += 16 + (int)((strlen(palette[s].legend) + 8) * CHAR_W) + 14;
	}
	fprintf(out,
		"<text id=\"gp-reset\" class=\"btn\" x=\"%d\" y=\"24\" style=\"display:none\">"
		"Reset Zoom</text>\n"
		"<text id=\"gp-search\" class=\"btn\" x=\"%d\" y=\"24\" text-anchor=\"end\">"
		"Search</text>\n"
		"<text id=\"gp-matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"></text>\n"
		"<text id=\"gp-details\" x=\"%d\" y=\"%d\"> </text>\n",
		XPAD, SVG_WIDTH - XPAD, SVG_WIDTH - XPAD, c->height - 9, XPAD, c->height - 9);
}

/*
 * The blame view, below the flame graph: who held the GIL while others
 * waited, the holders' stacks weighted by the waiting they caused. Drawn
 * static (flamegraph.js zooms and searches the flame graph only); every
 * frame has its tooltip.
 */
static void put_blame(struct canvas *c, uint32_t depth)
{
	uint64_t total = c->t->nodes[0].total;

	fprintf(c->out,
		"<text id=\"gp-blame-title\" x=\"%d\" y=\"%d\">Who held the GIL while others "
		"waited: %" PRIu64 " waiting samples, by the holder&#8217;s stack "
		"(red: holding it on CPU; purple: asleep holding it)</text>\n<g id=\"gp-blame\">\n",
		XPAD, c->base - (int)(depth + 1) * FRAME_H - 12, total);
	put_nodes(c);
	fputs("</g>\n", c->out);
}

static int put_svg(const struct fg_tree *t, const struct fg_tree *tb, FILE *out,
		   const char *width_attr)
{
	const uint64_t total = t->nodes[0].total;
	struct canvas c = { t, out, 0, 0, 0, false };
	struct canvas cb = { tb, out, 0, 0, 0, true };
	uint32_t depth_b = 0;

	c.scale = total ? (double)(SVG_WIDTH - 2 * XPAD) / total : 0;
	c.base = TOP + (int)(drawn_depth(&c) + 1) * FRAME_H;
	c.height = c.base + BOTTOM;
	if (tb && tb->nodes[0].total) {
		cb.scale = (double)(SVG_WIDTH - 2 * XPAD) / tb->nodes[0].total;
		depth_b = drawn_depth(&cb);
		cb.base = c.base + BLAME_GAP + (int)(depth_b + 1) * FRAME_H;
		c.height = cb.height = cb.base + BOTTOM;
	}
	fprintf(out,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"gp-flamegraph\" version=\"1.1\" "
		"width=\"%s\" viewBox=\"0 0 %d %d\" data-width=\"%d\" data-xpad=\"%d\" "
		"data-charw=\"%.1f\" data-total=\"%" PRIu64 "\">\n"
		"<style>\n%s</style>\n<script><![CDATA[\n%s]]></script>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f4\"/>\n",
		width_attr, SVG_WIDTH, c.height, SVG_WIDTH - 2 * XPAD, XPAD, CHAR_W, total, style,
		error_hook);
	put_header(&c);
	fputs("<g id=\"gp-frames\">\n", out);
	if (total)
		put_nodes(&c);
	fputs("</g>\n", out);
	if (cb.base)
		put_blame(&cb, depth_b);
	fputs("<script><![CDATA[\n", out);
	fwrite(gp_flamegraph_js, 1, gp_flamegraph_js_len, out);
	fputs("]]></script>\n</svg>\n", out);
	return ferror(out) ? -1 : 0;
}

static int write_flamegraph(const struct gp_profile *p, FILE *out, int html)
{
	struct fg_tree t, tb, *blame = NULL;
	struct gp_blame_view bv;
	int rc;

	if (fg_tree_build(&t, p))
		return -1;
	fg_tree_layout(&t);
	/* The blame view, when some thread waited for the GIL. */
	if (gp_blame_view_build(&bv, p)) {
		fg_tree_free(&t);
		return -1;
	}
	if (bv.view.nstacks) {
		if (fg_tree_build(&tb, &bv.view)) {
			gp_blame_view_free(&bv);
			fg_tree_free(&t);
			return -1;
		}
		fg_tree_layout(&tb);
		blame = &tb;
	}
	if (html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<title>",
		      out);
		put_title(out, p);
		fputs("</title>\n<style>\nbody { margin: 0; font-family: sans-serif; }\n"
		      "#gp-bar { padding: 6px 10px; }\n#gp-search-input { width: 28em; }\n"
		      "</style>\n</head>\n<body>\n<div id=\"gp-bar\"><input id=\"gp-search-input\" "
		      "type=\"search\" placeholder=\"Search frames (regular expression)\" "
		      "aria-label=\"Search frames\"></div>\n",
		      out);
		rc = put_svg(&t, blame, out, "100%");
		fputs("</body>\n</html>\n", out);
	} else {
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n", out);
		rc = put_svg(&t, blame, out, "1200");
	}
	if (blame)
		fg_tree_free(blame);
	gp_blame_view_free(&bv);
	fg_tree_free(&t);
	if (rc || ferror(out)) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int gp_write_svg(const struct gp_profile *p, FILE *out)
{
	return write_flamegraph(p, out, 0);
}

int gp_write_html(const struct gp_profile *p, FILE *out)
{
	return write_flamegraph(p, out, 1);
}
