/*
 * json_write.c -- JSON objects written member after member, as jansson
 * would dump them (json_write.h).
 *
 * jansson's layout with JSON_INDENT(2): an object's first member after
 * "{\n", each next after ",\n", each indented two spaces deeper than the
 * object; the closing "}" on a line of its own at the object's indent,
 * or right after "{" when there are no members.  Its escapes: \" \\ \b
 * \f \n \r \t, \uXXXX (upper-case hex) for the other control characters;
 * everything else, UTF-8 included, as is.
 *
 * The text is gathered in the struct and written with one fwrite at the
 * outermost object's end: stdio takes the stream's lock on every call,
 * and a call a token was a third of the writing.
 */
#include "job/base/json_write.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Append ${len} bytes at ${p} to the text. */
static void
put(struct json_write *w, const char *p, size_t len)
{
	if (w->len + len > sizeof(w->buf)) {
		fwrite(w->buf, 1, w->len, w->out);
		w->len = 0;
		if (len > sizeof(w->buf)) {
			fwrite(p, 1, len, w->out);
			return;
		}
	}
	memcpy(w->buf + w->len, p, len);
	w->len += len;
}

static void
put_text(struct json_write *w, const char *s)
{
	put(w, s, strlen(s));
}

static void
indent(struct json_write *w, int n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		int k =
		    n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;

		put(w, spaces, (size_t)k);
		n -= k;
	}
}

/* The escape of control character ${c} into ${esc} (room for 7). */
static const char *
escape(unsigned char c, char *esc)
{
	static const char hex[] = "0123456789ABCDEF";

	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		memcpy(esc, "\\u00", 4);
		esc[4] = hex[c >> 4];
		esc[5] = hex[c & 15];
		esc[6] = '\0';
		return esc;
	}
}

/*
 * Whether ${s}[0..n) is plain: ASCII without a byte to escape (a control
 * character, " or \\), valid UTF-8 that is written as is.  Most of a
 * fleet-wide document's strings are (ARM ids, names, versions), and
 * nearly every byte of drift --json went through here: sixteen bytes a
 * step in a vector (GCC's and clang's vector extension: SSE2 or NEON),
 * each byte >= 0x80 or < 0x20 (as a signed byte, below 0x20), '"' or
 * '\\' marked at once; the last bytes as sixteen (or eight, or four)
 * over bytes already seen, or padded with 'a'.  Byte loops cost drift --json a
 * fifth of its instructions, and eight bytes a step a tenth.  0 sends a string
 * down those loops, which decide.
 */
#define BYTES(c) ((uint64_t)0x0101010101010101u * (c))
#define ZERO_BYTE(x) (((x)-BYTES(1)) & ~(x)&BYTES(0x80))

typedef signed char bytes16 __attribute__((vector_size(16)));

static int
plain8(uint64_t x)
{
	return ((x | ((x - BYTES(0x20)) & ~x) | ZERO_BYTE(x ^ BYTES('"')) |
	            ZERO_BYTE(x ^ BYTES('\\'))) &
	           BYTES(0x80)) == 0;
}

static int
plain16(const char *s)
{
	bytes16 x, bad;
	uint64_t half[2];

	memcpy(&x, s, sizeof(x));
	bad = (bytes16)((x < 0x20) | (x == '"') | (x == '\\'));
	memcpy(half, &bad, sizeof(half));
	return (half[0] | half[1]) == 0;
}

static inline __attribute__((always_inline)) int
plain(const char *s, size_t n)
{
	uint64_t x, y;
	size_t i = 0;

	if (n < 8) {
		uint32_t a, b;

		if (n < 4) {
			x = BYTES('a');
			for (i = 0; i < n; i++)
				x = x << 8 | (unsigned char)s[i];
			return plain8(x);
		}
		/* the first four and the last four (a member's name: a
		 * fixed copy, not memcpy's call for n bytes) */
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		return plain8((uint64_t)a | (uint64_t)b << 32);
	}
	if (n < 16) {
		memcpy(&x, s, 8);
		memcpy(&y, s + n - 8, 8);
		return plain8(x) && plain8(y);
	}
	for (; i + 16 <= n; i += 16)
		if (!plain16(s + i))
			return 0;
	return i == n || plain16(s + n - 16);
}

/* ${s}[0..n) as a JSON string, quoted and escaped, through ${out}. */
static void
quoted_to(void (*out)(void *ctx, const char *p, size_t len), void *ctx,
    const char *s, size_t n)
{
	const char *run = s, *end = s + n;
	char esc[8];

	out(ctx, "\"", 1);
	if (plain(s, n)) {
		out(ctx, s, n);
		out(ctx, "\"", 1);
		return;
	}
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		out(ctx, run, (size_t)(s - run));
		e = escape(c, esc);
		out(ctx, e, strlen(e));
		run = s + 1;
	}
	out(ctx, run, (size_t)(s - run));
	out(ctx, "\"", 1);
}

static void
put_cb(void *ctx, const char *p, size_t len)
{
	put(ctx, p, len);
}

static void
file_cb(void *ctx, const char *p, size_t len)
{
	if (len > 0)
		fwrite(p, 1, len, ctx);
}

static void
quoted_n(struct json_write *w, const char *s, size_t n)
{
	quoted_to(put_cb, w, s, n);
}

void
json_write_quoted(FILE *f, const char *s, size_t n)
{
	quoted_to(file_cb, f, s, n);
}

size_t
json_write_quote_mem(char *dst, const char *s, size_t n)
{
	const char *run = s, *end = s + n;
	char *o = dst, esc[8];

	*o++ = '"';
	if (plain(s, n)) {
		memcpy(o, s, n);
		o[n] = '"';
		return n + 2;
	}
	for (; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e;
		size_t k;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		memcpy(o, run, (size_t)(s - run));
		o += s - run;
		e = escape(c, esc);
		k = strlen(e);
		memcpy(o, e, k);
		o += k;
		run = s + 1;
	}
	memcpy(o, run, (size_t)(end - run));
	o += end - run;
	*o++ = '"';
	return (size_t)(o - dst);
}

int
json_write_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned long cp;
		int n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xC2 && *p <= 0xDF) {
			n = 1;
			cp = *p & 0x1F;
		} else if (*p >= 0xE0 && *p <= 0xEF) {
			n = 2;
			cp = *p & 0x0F;
		} else if (*p >= 0xF0 && *p <= 0xF4) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* ${n} bytes (at most 32) from ${src} to ${dst}: two fixed copies that
 * overlap, not memcpy's call for a length it must look at. */
static inline __attribute__((always_inline)) void
copy_short(char *dst, const char *src, size_t n)
{
	if (n >= 16) {
		memcpy(dst, src, 16);
		memcpy(dst + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		memcpy(dst, src, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		memcpy(dst, src, 4);
		memcpy(dst + n - 4, src + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/*
 * The separator, indent and name of the next member of the innermost
 * object.  A plain name (every one aksnap writes) of at most 32 bytes
 * within the usual depth goes in with fixed copies into the text: the
 * separator and the deepest indent whatever the depth (the text's room
 * for them asked first), the name as copy_short's two -- where the
 * pieces one put each were most of drift --json's writing (37 members a
 * pool), and memcpy's calls for their lengths a fifth of a member.
 */
static void
member(struct json_write *w, const char *name, size_t n)
{
	/* ",\n" and the deepest indent written at once */
	static const char lead[] = ",\n                                "
	                           "                                ";
	size_t in = 2 * (size_t)(w->depth + 1);
	int first = w->n[w->level]++ == 0;
	size_t sep = first ? 1 : 2, need = sep + in + n + 4;
	char *p;

	if (in > sizeof(lead) - 3 || n > 32 || !plain(name, n)) {
		put_text(w, first ? "\n" : ",\n");
		indent(w, (int)in);
		quoted_n(w, name, n);
		put(w, ": ", 2);
		return;
	}
	/* room for the whole lead, and the name */
	if (w->len + sizeof(lead) - 1 + 32 + 4 > sizeof(w->buf)) {
		fwrite(w->buf, 1, w->len, w->out);
		w->len = 0;
	}
	p = w->buf + w->len;
	/* the whole lead (from lead + 1, its NUL last): what is past the
	 * indent is written over */
	memcpy(p, lead + (first ? 1 : 0), sizeof(lead) - 1);
	p += sep + in;
	*p++ = '"';
	copy_short(p, name, n);
	p += n;
	memcpy(p, "\": ", 3);
	w->len += need;
}

void
json_write_begin(struct json_write *w, FILE *out, int depth)
{
	w->out = out;
	w->depth = depth;
	w->level = 0;
	w->n[0] = 0;
	w->len = 0;
	put(w, "{", 1);
}

void
json_write_string_n(
    struct json_write *w, const char *name, size_t nlen, const char *v)
{
	size_t n;

	if (v == NULL) {
		json_write_null_n(w, name, nlen);
		return;
	}
	n = strlen(v);
	if (plain(v, n)) { /* valid UTF-8, nothing to escape */
		member(w, name, nlen);
		if (n + 2 > sizeof(w->buf)) {
			quoted_n(w, v, n);
			return;
		}
		if (w->len + n + 2 > sizeof(w->buf)) {
			fwrite(w->buf, 1, w->len, w->out);
			w->len = 0;
		}
		w->buf[w->len] = '"';
		memcpy(w->buf + w->len + 1, v, n);
		w->buf[w->len + 1 + n] = '"';
		w->len += n + 2;
		return;
	}
	if (!json_write_utf8(v))
		return;
	member(w, name, nlen);
	quoted_n(w, v, n);
}

void
json_write_opt_n(
    struct json_write *w, const char *name, size_t nlen, const char *v)
{
	json_write_string_n(
	    w, name, nlen, v != NULL && v[0] != '\0' ? v : NULL);
}

void
json_write_null_n(struct json_write *w, const char *name, size_t nlen)
{
	member(w, name, nlen);
	put(w, "null", 4);
}

void
json_write_bool_n(struct json_write *w, const char *name, size_t nlen, int v)
{
	member(w, name, nlen);
	put_text(w, v ? "true" : "false");
}

void
json_write_int_n(
    struct json_write *w, const char *name, size_t nlen, long long v)
{
	char num[32];
	int len = snprintf(num, sizeof(num), "%lld", v);

	member(w, name, nlen);
	put(w, num, (size_t)len);
}

void
json_write_object_n(struct json_write *w, const char *name, size_t nlen)
{
	member(w, name, nlen);
	put(w, "{", 1);
	if (w->level + 1 < JSON_WRITE_DEPTH) {
		w->level++;
		w->n[w->level] = 0;
	}
	w->depth++;
}

void
json_write_end(struct json_write *w)
{
	int outermost = w->level == 0;

	if (w->n[w->level] > 0) {
		put(w, "\n", 1);
		indent(w, 2 * w->depth);
	}
	put(w, "}", 1);
	if (w->level > 0)
		w->level--;
	w->depth--;
	if (outermost) {
		fwrite(w->buf, 1, w->len, w->out);
		w->len = 0;
	}
}
