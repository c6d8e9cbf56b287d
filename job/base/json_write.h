#ifndef AKSNAP_JSON_WRITE_H
#define AKSNAP_JSON_WRITE_H

/*
 * json_write.h -- a JSON object written straight to a stream, member
 * after member, byte for byte as jansson's json_dumps with JSON_INDENT(2)
 * | JSON_PRESERVE_ORDER prints the same object (json_stream.h's members)
 * -- without building the tree, dumping it to a string and re-indenting
 * it: what a fleet-wide command's 10,000 members cost most of (config
 * check --json: 840 M instructions of 1,200 M at 10,000 pools).
 *
 *   struct json_write w;
 *   json_write_begin(&w, out, depth);    "{" of an object nested depth deep
 *   json_write_string(&w, "pool", key);  "pool": "..."
 *   json_write_object(&w, "live");       "live": { ... nested
 *   json_write_end(&w);                  its "}"
 *   json_write_end(&w);                  the first object's "}"
 *
 * As jansson: members indented two spaces a level, "{}" for an empty
 * object, strings escaped as json_dumps escapes them (" \ and control
 * characters; UTF-8 as is), and a member whose text is not valid UTF-8
 * left out, as json_object_set_new leaves out json_string's NULL.
 */

#include <stdio.h>
#include <string.h>

#define JSON_WRITE_DEPTH 8 /* objects open at once */

struct json_write {
	FILE *out;
	int depth; /* the innermost open object's */
	int level; /* objects open, less one */
	int n[JSON_WRITE_DEPTH]; /* members written in each */
	/* the text, until the outermost object's end writes it with one
	 * fwrite (stdio locks the stream on every call); a text that
	 * outgrows it is written as it goes */
	size_t len;
	char buf[8192];
};

/* json_write_begin(w, out, depth): write "{", an object nested ${depth}
 * levels deep in the document (its members indented 2 (depth + 1)). */
void json_write_begin(struct json_write *w, FILE *out, int depth);

/*
 * Each member's writer takes its name's length (json_write_*_n, the
 * name ${nlen} bytes): the inline json_write_* below pass strlen's,
 * which the compiler knows for a literal name -- every name but a few
 * -- where strlen's call was a tenth of a member.
 */
void json_write_string_n(
    struct json_write *w, const char *name, size_t nlen, const char *v);
void json_write_opt_n(
    struct json_write *w, const char *name, size_t nlen, const char *v);
void json_write_null_n(struct json_write *w, const char *name, size_t nlen);
void json_write_bool_n(
    struct json_write *w, const char *name, size_t nlen, int v);
void json_write_int_n(
    struct json_write *w, const char *name, size_t nlen, long long v);
void json_write_object_n(struct json_write *w, const char *name, size_t nlen);

/* json_write_string(w, name, v): "name": "v", or null for a NULL ${v}. */
static inline void
json_write_string(struct json_write *w, const char *name, const char *v)
{
	json_write_string_n(w, name, strlen(name), v);
}

/* json_write_opt(w, name, v): as output_json_opt, "" as null. */
static inline void
json_write_opt(struct json_write *w, const char *name, const char *v)
{
	json_write_opt_n(w, name, strlen(name), v);
}

/* json_write_null, json_write_bool, json_write_int: null, true/false, an
 * integer. */
static inline void
json_write_null(struct json_write *w, const char *name)
{
	json_write_null_n(w, name, strlen(name));
}

static inline void
json_write_bool(struct json_write *w, const char *name, int v)
{
	json_write_bool_n(w, name, strlen(name), v);
}

static inline void
json_write_int(struct json_write *w, const char *name, long long v)
{
	json_write_int_n(w, name, strlen(name), v);
}

/* json_write_object(w, name): "name": { -- an object member, open until
 * its json_write_end (at most JSON_WRITE_DEPTH open at once). */
static inline void
json_write_object(struct json_write *w, const char *name)
{
	json_write_object_n(w, name, strlen(name));
}

/* json_write_end(w): close the innermost open object; the outermost's
 * end writes the text out. */
void json_write_end(struct json_write *w);

/* json_write_quoted(f, s, n): ${s}[0..n) written on ${f} as one JSON
 * string, escaped as the members' strings are (jansson's escapes): for a
 * document written by hand, not by members (report --json). */
void json_write_quoted(FILE *f, const char *s, size_t n);

/* json_write_quote_mem(dst, s, n): the same string put at ${dst}, which
 * has room for 6 * n + 2 bytes; its length (report --json's elements,
 * put together in memory). */
size_t json_write_quote_mem(char *dst, const char *s, size_t n);

/* json_write_utf8(s): whether ${s} is text jansson takes (valid UTF-8,
 * no code point above U+10FFFF, no surrogate, no overlong form). */
int json_write_utf8(const char *s);

#endif
