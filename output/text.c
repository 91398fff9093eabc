// SPDX-License-Identifier: BSD-2-Clause
/*
 * text.c — target-controlled text made safe for UTF-8 formats, and frames
 * as text.
 */
#define _GNU_SOURCE
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../sampler/account/profile.h"

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0 if the byte there starts none.
 */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * The next piece of *p as valid UTF-8 (NULL at the end), advancing *p: a
 * well-formed character as is, a control character as a space, an invalid
 * byte as U+FFFD.
 */
static const char *next_piece(const unsigned char **p, size_t *len)
{
	const unsigned char *s = *p;
	size_t n;

	if (!*s)
		return NULL;
	n = utf8_seq(s);
	if (!n) {
		*p = s + 1;
		*len = 3;
		return replacement;
	}
	*p = s + n;
	*len = n;
	if (n == 1 && (*s < 0x20 || *s == 0x7F))
		return " ";
	return (const char *)s;
}

char *gp_text_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t need = 1, at = 0, len;
	const char *piece;
	char *out;

	while (next_piece(&p, &len))
		need += len;
	out = malloc(need);
	if (!out)
		return NULL;
	p = (const unsigned char *)(s ? s : "");
	while ((piece = next_piece(&p, &len))) {
		memcpy(out + at, piece, len);
		at += len;
	}
	out[at] = '\0';
	return out;
}

static const char *xml_escape(char c)
{
	switch (c) {
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '&':
		return "&amp;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

int gp_xml_put(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *piece, *esc;
	size_t len;

	while ((piece = next_piece(&p, &len))) {
		esc = len == 1 ? xml_escape(piece[0]) : NULL;
		if (esc ? fputs(esc, out) == EOF : fwrite(piece, 1, len, out) != len)
			return -1;
	}
	return 0;
}

const char *gp_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* See text.h. */
char *gp_frame_text(const struct gp_profile *p, const struct gp_location *l, bool full)
{
	const struct gp_function *f = gp_func(p, l->func);
	const char *file = gp_loc_file(p, l);
	char *raw = NULL, *clean;
	int rc;

	if (!full)
		file = gp_basename(file);
	if (f->kind == GP_FUNC_MARKER || !file[0])
		rc = asprintf(&raw, "%s", f->name);
	else if (l->line > 0)
		rc = asprintf(&raw, "%s (%s:%d)", f->name, file, (int)l->line);
	else
		rc = asprintf(&raw, "%s (%s)", f->name, file);
	if (rc < 0)
		return NULL;
	clean = gp_text_clean(raw);
	free(raw);
	return clean;
}
