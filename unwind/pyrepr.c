// SPDX-License-Identifier: BSD-2-Clause
/*
 * pyrepr.c — repr() of objects read from a target's memory (pyrepr.h).
 * The type is known by its tp_name, every offset comes from the version's
 * layout rows, and every read is bounded: a corrupt object gives a short,
 * marked text, never a loop or a crash.
 */
#include "pyrepr.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr.h"
#include "../sampler/target/pyversion.h"

struct out {
	char *buf;
	size_t len, used;
};

static void put(struct out *o, const char *s, size_t n)
{
	size_t room = o->len - 1 - o->used;

	if (n > room) {
		n = room;
		/* Never end inside a UTF-8 sequence. */
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(o->buf + o->used, s, n);
	o->used += n;
	o->buf[o->used] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	puts_(o, tmp);
}

static int read_u64(const struct gp_pyobj *r, uint64_t addr, uint64_t *v)
{
	return gp_mem_read_u64(&r->mem, addr, v);
}

static int read_s64(const struct gp_pyobj *r, uint64_t addr, int64_t *v)
{
	return gp_mem_read(&r->mem, addr, v, sizeof(*v));
}

/* tp_name of obj's type, cut to len; -1 if unreadable. */
static int type_name(const struct gp_pyobj *r, uint64_t obj, char *name, size_t len)
{
	uint64_t type, p;
	size_t i;

	if (read_u64(r, obj + (uint64_t)r->O->ob_type, &type) || !type ||
	    read_u64(r, type + (uint64_t)r->O->type_name, &p) || !p)
		return -1;
	/* Byte by byte up to the NUL: the name may end near an unmapped page. */
	for (i = 0; i + 1 < len; i++) {
		if (gp_mem_read(&r->mem, p + i, &name[i], 1))
			return -1;
		if (!name[i])
			return 0;
	}
	name[i] = '\0';
	return 0;
}

static void other(struct out *o, const char *type, uint64_t obj)
{
	const char *dot = strrchr(type, '.');

	putf(o, "<%s at 0x%" PRIx64 ">", dot ? dot + 1 : type, obj);
}

/* --- int ------------------------------------------------------------------- */

/* The digits and sign of an int; -1 if unreadable or too large. */
static int long_digits(const struct gp_pyobj *r, uint64_t obj, uint32_t **digits, size_t *n,
		       int *sign)
{
	const struct py_objlayout *O = r->O;
	int64_t size;

	if (read_s64(r, obj + (uint64_t)O->long_size, &size))
		return -1;
	if (O->long_sign_mask) { /* 3.12+: lv_tag = ndigits << shift | sign */
		uint64_t tag = (uint64_t)size;

		*sign = (tag & (uint64_t)O->long_sign_mask) == 1 ? 0
			: (tag & (uint64_t)O->long_sign_mask) == 2 ? -1
								     : 1;
		*n = (size_t)(tag >> O->long_tag_shift);
	} else {
		*sign = size < 0 ? -1 : size > 0;
		*n = (size_t)(size < 0 ? -size : size);
	}
	if (*sign == 0)
		*n = 0;
	if (*n > GP_REPR_INT_DIGITS)
		return -2;
	*digits = malloc((*n ? *n : 1) * sizeof(**digits));
	if (!*digits)
		return -1;
	if (*n && gp_mem_read(&r->mem, obj + (uint64_t)O->long_digit, *digits,
			      *n * sizeof(**digits))) {
		free(*digits);
		return -1;
	}
	return 0;
}

/* Decimal of digits[0..n) (base 2^bits, least significant first), in place. */
static char *to_decimal(uint32_t *digits, size_t n, int bits, size_t *ndec)
{
	size_t cap = n * 10 + 2, len = 0;
	char *dec = malloc(cap);
	uint32_t mask = (1u << bits) - 1;

	if (!dec)
		return NULL;
	/* Divide by 10^9 until zero: nine decimal digits per round. */
	while (n) {
		uint64_t rem = 0;

		for (size_t i = n; i-- > 0;) {
			uint64_t cur = (rem << bits) | (digits[i] & mask);

			digits[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (n && !digits[n - 1])
			n--;
		for (int k = 0; k < 9 && len + 1 < cap; k++) {
			dec[len++] = (char)('0' + rem % 10);
			rem /= 10;
			if (!n && !rem)
				break;
		}
	}
	if (!len)
		dec[len++] = '0';
	/* Least significant first: reverse. */
	for (size_t i = 0; i < len / 2; i++) {
		char c = dec[i];

		dec[i] = dec[len - 1 - i];
		dec[len - 1 - i] = c;
	}
	dec[len] = '\0';
	*ndec = len;
	return dec;
}

static void repr_int(const struct gp_pyobj *r, uint64_t obj, struct out *o, bool is_bool)
{
	uint32_t *digits = NULL;
	size_t n, ndec;
	char *dec;
	int sign, rc = long_digits(r, obj, &digits, &n, &sign);

	if (rc == -2) {
		putf(o, "<int of %zu digits (about %zu decimal) at 0x%" PRIx64 ">", n,
		     (size_t)(n * r->O->long_digit_bits * 0.30103) + 1, obj);
		return;
	}
	if (rc) {
		putf(o, "<int, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	if (is_bool) {
		puts_(o, n ? "True" : "False");
		free(digits);
		return;
	}
	dec = to_decimal(digits, n, r->O->long_digit_bits, &ndec);
	free(digits);
	if (!dec) {
		puts_(o, "<int>");
		return;
	}
	if (sign < 0)
		puts_(o, "-");
	if (ndec > GP_REPR_INT_CHARS) {
		put(o, dec, GP_REPR_INT_CHARS);
		putf(o, "... (%zu digits)", ndec);
	} else {
		puts_(o, dec);
	}
	free(dec);
}

/* --- float, str, bytes ------------------------------------------------------ */

static void repr_float(const struct gp_pyobj *r, uint64_t obj, struct out *o)
{
	char tmp[40];
	double v;

	if (gp_mem_read(&r->mem, obj + (uint64_t)r->O->float_value, &v, sizeof(v))) {
		putf(o, "<float, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	if (isnan(v) || isinf(v)) {
		puts_(o, isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
		return;
	}
	/* Python's repr: the shortest text that reads back as the same double. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	puts_(o, tmp);
	if (!strpbrk(tmp, ".e"))
		puts_(o, ".0");
}

/* One character of a quoted literal, escaped as repr() does for ASCII. */
static void put_escaped(struct out *o, unsigned char c, char quote, bool bytes)
{
	if (c == '\\' || c == (unsigned char)quote)
		putf(o, "\\%c", c);
	else if (c == '\n')
		puts_(o, "\\n");
	else if (c == '\r')
		puts_(o, "\\r");
	else if (c == '\t')
		puts_(o, "\\t");
	else if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80))
		putf(o, "\\x%02x", c);
	else
		put(o, (const char *)&c, 1);
}

static void quoted(struct out *o, const char *s, size_t n, bool bytes, uint64_t total)
{
	char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

	if (bytes)
		puts_(o, "b");
	put(o, &quote, 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!bytes && c >= 0x80) {
			size_t k = 1;

			while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
				k++;
			put(o, s + i, k);
			i += k - 1;
			continue;
		}
		put_escaped(o, c, quote, bytes);
	}
	if (total > GP_REPR_STR_CHARS)
		puts_(o, "...");
	put(o, &quote, 1);
	if (total > GP_REPR_STR_CHARS)
		putf(o, " (%" PRIu64 " %s)", total, bytes ? "bytes" : "chars");
}

static void repr_str(const struct gp_pyobj *r, uint64_t obj, struct out *o)
{
	char utf8[GP_REPR_STR_CHARS * 4 + 1];
	uint64_t total;
	size_t n = 0, chars = 0;

	if (read_u64(r, obj + (uint64_t)r->L->str_length, &total) ||
	    gp_read_pystr(r->L, &r->mem, obj, utf8, sizeof(utf8))) {
		putf(o, "<str, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	/* The first GP_REPR_STR_CHARS characters. */
	while (utf8[n] && chars < GP_REPR_STR_CHARS) {
		n++;
		while (((unsigned char)utf8[n] & 0xc0) == 0x80)
			n++;
		chars++;
	}
	quoted(o, utf8, n, false, total);
}

static void repr_bytes(const struct gp_pyobj *r, uint64_t obj, struct out *o)
{
	char data[GP_REPR_STR_CHARS];
	int64_t size;
	size_t n;

	if (read_s64(r, obj + (uint64_t)r->L->bytes_size, &size) || size < 0) {
		putf(o, "<bytes, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	n = size > GP_REPR_STR_CHARS ? GP_REPR_STR_CHARS : (size_t)size;
	if (gp_mem_read(&r->mem, obj + (uint64_t)r->L->bytes_data, data, n)) {
		putf(o, "<bytes, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	quoted(o, data, n, true, (uint64_t)size);
}

/* --- containers ------------------------------------------------------------- */

static void repr_at(const struct gp_pyobj *r, uint64_t obj, struct out *o, int depth);

static void more(struct out *o, uint64_t shown, uint64_t total)
{
	if (total > shown)
		putf(o, "%s... (%" PRIu64 " items)", shown ? ", " : "", total);
}

/* tuple and list: n items in an array at items. */
static void repr_seq(const struct gp_pyobj *r, uint64_t items, int64_t n, const char *open,
		     const char *close, struct out *o, int depth)
{
	uint64_t shown = 0;

	puts_(o, open);
	for (int64_t i = 0; i < n && shown < GP_REPR_ITEMS; i++, shown++) {
		uint64_t item;

		if (i)
			puts_(o, ", ");
		if (read_u64(r, items + 8 * (uint64_t)i, &item) || !item) {
			puts_(o, "<unreadable>");
			continue;
		}
		repr_at(r, item, o, depth + 1);
	}
	more(o, shown, (uint64_t)n);
	if (n == 1 && !strcmp(open, "("))
		puts_(o, ",");
	puts_(o, close);
}

static void repr_tuple_list(const struct gp_pyobj *r, uint64_t obj, bool list, struct out *o,
			    int depth)
{
	uint64_t items = obj + (uint64_t)r->O->tuple_items;
	int64_t n;

	if (read_s64(r, obj + (uint64_t)r->O->var_size, &n) || n < 0 ||
	    (list && read_u64(r, obj + (uint64_t)r->O->list_items, &items))) {
		putf(o, "<%s, unreadable, at 0x%" PRIx64 ">", list ? "list" : "tuple", obj);
		return;
	}
	if (depth >= GP_REPR_DEPTH && n) {
		puts_(o, list ? "[...]" : "(...)");
		return;
	}
	repr_seq(r, items, n, list ? "[" : "(", list ? "]" : ")", o, depth);
}

struct dict_walk {
	const struct gp_pyobj *r;
	struct out *o;
	int depth;
	uint64_t shown;
};

static int dict_item(uint64_t key, uint64_t value, void *ctx)
{
	struct dict_walk *w = ctx;

	if (w->shown == GP_REPR_ITEMS)
		return 1;
	if (w->shown++)
		puts_(w->o, ", ");
	repr_at(w->r, key, w->o, w->depth + 1);
	puts_(w->o, ": ");
	repr_at(w->r, value, w->o, w->depth + 1);
	return 0;
}

static void repr_dict(const struct gp_pyobj *r, uint64_t obj, struct out *o, int depth)
{
	struct dict_walk w = { r, o, depth, 0 };
	int64_t used = 0;

	if (read_s64(r, obj + (uint64_t)r->O->dict_used, &used) || used < 0) {
		putf(o, "<dict, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	/*
	 * Not "&& used": the walk goes by the keys table, not by ma_used, so a
	 * hostile dict claiming no items could still recurse (into itself)
	 * without end.
	 */
	if (depth >= GP_REPR_DEPTH) {
		puts_(o, used ? "{...}" : "{}");
		return;
	}
	puts_(o, "{");
	if (gp_pydict_each(r, obj, dict_item, &w) < 0 && !w.shown)
		puts_(o, "<unreadable>");
	more(o, w.shown, used > 0 ? (uint64_t)used : 0);
	puts_(o, "}");
}

static void repr_set(const struct gp_pyobj *r, uint64_t obj, bool frozen, struct out *o,
		     int depth)
{
	const struct py_objlayout *O = r->O;
	uint64_t mask, table, shown = 0, dummy = 0;
	int64_t used;

	if (read_u64(r, obj + (uint64_t)O->set_mask, &mask) ||
	    read_s64(r, obj + (uint64_t)O->set_used, &used) ||
	    read_u64(r, obj + (uint64_t)O->set_table, &table) || used < 0 ||
	    mask > GP_DICT_MAX_ENTRIES) {
		putf(o, "<set, unreadable, at 0x%" PRIx64 ">", obj);
		return;
	}
	if (!used) {
		puts_(o, frozen ? "frozenset()" : "set()");
		return;
	}
	if (frozen)
		puts_(o, "frozenset(");
	if (depth >= GP_REPR_DEPTH) {
		puts_(o, "{...}");
	} else {
		puts_(o, "{");
		for (uint64_t i = 0; i <= mask && shown < GP_REPR_ITEMS; i++) {
			uint64_t key;

			if (read_u64(r, table + i * (uint64_t)O->set_entry_size +
						(uint64_t)O->set_entry_key,
				     &key))
				break;
			if (!key)
				continue;
			/* Deleted entries hold the dummy key: the one object seen
			 * in a slot that is not an item; told by its type name. */
			if (key == dummy)
				continue;
			{
				char name[64];

				if (type_name(r, key, name, sizeof(name)) == 0 &&
				    !strcmp(name, "<dummy key> type")) {
					dummy = key;
					continue;
				}
			}
			if (shown++)
				puts_(o, ", ");
			repr_at(r, key, o, depth + 1);
		}
		more(o, shown, (uint64_t)used);
		puts_(o, "}");
	}
	if (frozen)
		puts_(o, ")");
}

static void repr_at(const struct gp_pyobj *r, uint64_t obj, struct out *o, int depth)
{
	char type[64];

	if (!obj || type_name(r, obj, type, sizeof(type))) {
		putf(o, "<unreadable at 0x%" PRIx64 ">", obj);
		return;
	}
	if (!strcmp(type, "NoneType"))
		puts_(o, "None");
	else if (!strcmp(type, "bool"))
		repr_int(r, obj, o, true);
	else if (!strcmp(type, "int"))
		repr_int(r, obj, o, false);
	else if (!strcmp(type, "float"))
		repr_float(r, obj, o);
	else if (!strcmp(type, "str"))
		repr_str(r, obj, o);
	else if (!strcmp(type, "bytes"))
		repr_bytes(r, obj, o);
	else if (!strcmp(type, "tuple") || !strcmp(type, "list"))
		repr_tuple_list(r, obj, type[0] == 'l', o, depth);
	else if (!strcmp(type, "dict"))
		repr_dict(r, obj, o, depth);
	else if (!strcmp(type, "set") || !strcmp(type, "frozenset"))
		repr_set(r, obj, type[0] == 'f', o, depth);
	else
		other(o, type, obj);
}

int gp_pyrepr(const struct gp_pyobj *r, uint64_t obj, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };
	char type[64];

	if (!len)
		return -1;
	buf[0] = '\0';
	if (!obj || type_name(r, obj, type, sizeof(type))) {
		putf(&o, "<unreadable at 0x%" PRIx64 ">", obj);
		return -1;
	}
	repr_at(r, obj, &o, 0);
	return 0;
}
