/*
 * test_json_write.c -- job/base/json_write.c writes what jansson dumps:
 * the same object built as a tree and dumped through json_stream_member
 * (the fleet-wide commands' members before json_write) and written with
 * json_write give the same bytes, for every escape jansson makes, UTF-8
 * text, an empty and a nested object, nesting levels, integers, and a
 * text that is not UTF-8 (the member left out, as jansson leaves it);
 * and a text longer than the write buffer; json_write_quoted, one string
 * written by hand (report --json), escaped as jansson's dump escapes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "job/base/json_stream.h"
#include "job/base/json_write.h"

static const char *const texts[] = {
    "plain",
    "",
    "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f",
    "\x01\x02\x1f\x7f control",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", /* é € 😀 */
    "bad \xff byte", /* not UTF-8 */
    "overlong \xc0\xaf",
    "surrogate \xed\xa0\x80",
    "cut \xe2\x82",
    /* what needs escaping, or is not ASCII, in each byte of a word of
     * eight after a plain one (json_write reads eight bytes a step) */
    "/subscriptions/rg\"x",
    "01234567\\9abcdef",
    "0123456789abcde\x1f",
    "0123456789\x7f bcdefghij",
    "01234567\xc3\xa9 after",
    "012345678\xff not UTF-8",
    "0123456789abcdef0123456789abcdef",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* 9,000 x: more than struct json_write's buffer holds. */
static const char *
long_text(void)
{
	static char text[9001];

	if (text[0] == '\0')
		memset(text, 'x', sizeof(text) - 1);
	return text;
}

/* The object for case ${c}: every text, then a nested object (empty for
 * odd ${c}), integers and booleans, built with jansson. */
static json_t *
tree(int c)
{
	json_t *o = json_object(), *in = json_object();
	char name[16];

	for (size_t i = 0; i < NTEXTS; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		json_object_set_new(o, name, json_string(texts[i]));
	}
	json_object_set_new(o, "null", json_null());
	/* a name to escape; a plain text longer than json_write's buffer */
	json_object_set_new(o, "na\"me\t", json_string(long_text()));
	if (c % 2 == 0) {
		json_object_set_new(in, "n", json_integer(-1234567890123LL));
		json_object_set_new(in, "deeper", json_object());
		json_object_set_new(in, "yes", json_true());
	}
	json_object_set_new(o, "in", in);
	json_object_set_new(o, "no", json_false());
	json_object_set_new(o, "zero", json_integer(0));
	return o;
}

/* The same object for case ${c}, written. */
static void
written(int c, FILE *out, int depth)
{
	struct json_write w;
	char name[16];

	json_write_begin(&w, out, depth);
	for (size_t i = 0; i < NTEXTS; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		json_write_string(&w, name, texts[i]);
	}
	json_write_null(&w, "null");
	json_write_string(&w, "na\"me\t", long_text());
	json_write_object(&w, "in");
	if (c % 2 == 0) {
		json_write_int(&w, "n", -1234567890123LL);
		json_write_object(&w, "deeper");
		json_write_end(&w);
		json_write_bool(&w, "yes", 1);
	}
	json_write_end(&w);
	json_write_bool(&w, "no", 0);
	json_write_int(&w, "zero", 0);
	json_write_end(&w);
}

static void
test_json_write_is_what_jansson_dumps(void **state)
{
	(void)state;
	/* 40: an indent deeper than json_write writes at once */
	for (int depth = 0; depth < 41; depth += depth < 3 ? 1 : 37) {
		for (int c = 0; c < 2; c++) {
			char *want = NULL, *got = NULL;
			size_t wlen = 0, glen = 0;
			FILE *fw = open_memstream(&want, &wlen);
			FILE *fg = open_memstream(&got, &glen);

			assert_non_null(fw);
			assert_non_null(fg);
			assert_int_equal(
			    json_stream_member(fw, "", depth, NULL, tree(c)),
			    0);
			fprintf(fg, "%*s", depth * 2, "");
			written(c, fg, depth);
			fclose(fw);
			fclose(fg);
			if (strcmp(want, got) != 0)
				fail_msg("depth %d case %d:\n%s\n---\n%s",
				    depth, c, want, got);
			free(want);
			free(got);
		}
	}
}

/* A member longer than the struct's buffer, and many members. */
static void
test_json_write_long_text(void **state)
{
	char *big = malloc(3 * sizeof(((struct json_write *)0)->buf));
	char *want = NULL, *got = NULL;
	size_t n = 3 * sizeof(((struct json_write *)0)->buf) - 1, wlen, glen;
	FILE *fw = open_memstream(&want, &wlen);
	FILE *fg = open_memstream(&got, &glen);
	json_t *o = json_object();
	struct json_write w;
	char name[16];

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	fputs("  ", fg); /* json_stream_member's indent at depth 1 */
	json_write_begin(&w, fg, 1);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		json_object_set_new(o, name, json_string(i == 7 ? big : name));
		json_write_string(&w, name, i == 7 ? big : name);
	}
	json_write_end(&w);
	assert_int_equal(json_stream_member(fw, "", 1, NULL, o), 0);
	fclose(fw);
	fclose(fg);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(big);
}

/*
 * Plain names of every length up to 40 (json_write copies those of at
 * most 32 with fixed copies), 500 of them an object (26 of one byte) (more than
 * the buffer holds: it is written out with a member at each of its places near
 * its end), at depths where the indent is written at once and not.
 */
static void
test_json_write_names_of_every_length(void **state)
{
	static const int depths[] = {0, 1, 30, 31, 40};

	(void)state;
	for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++)
		for (size_t len = 1; len <= 40; len++) {
			json_t *o = json_object();
			char *want = NULL, *got = NULL;
			size_t wlen = 0, glen = 0;
			FILE *fw = open_memstream(&want, &wlen);
			FILE *fg = open_memstream(&got, &glen);
			struct json_write w;
			char name[48];

			assert_non_null(fw);
			assert_non_null(fg);
			fprintf(fg, "%*s", depths[d] * 2, "");
			json_write_begin(&w, fg, depths[d]);
			/* each name its own: i in its last two letters */
			for (int i = 0; i < (len == 1 ? 26 : 500); i++) {
				for (size_t k = 0; k < len; k++)
					name[k] = (char)('a' + k % 26);
				name[len - 1] = (char)('a' + i % 26);
				if (len > 1)
					name[len - 2] = (char)('a' + i / 26);
				name[len] = '\0';
				json_object_set_new(o, name, json_string("v"));
				json_write_string(&w, name, "v");
			}
			json_write_end(&w);
			assert_int_equal(
			    json_stream_member(fw, "", depths[d], NULL, o), 0);
			fclose(fw);
			fclose(fg);
			if (strcmp(want, got) != 0)
				fail_msg("depth %d, names of %zu bytes:\n%.300s"
				         "\n---\n%.300s",
				    depths[d], len, want, got);
			free(want);
			free(got);
		}
}

/*
 * A byte to escape (or not ASCII) at every place of a text of every
 * length up to 40, in a member's value and (ASCII: a name is aksnap's
 * own) in its name: json_write tests sixteen bytes a step, or eight, or
 * the last ones again, and what any of them holds decides.
 */
static int quoted_as_jansson(const char *t, size_t n);

static void
test_json_write_escapes_at_every_place(void **state)
{
	static const char odd[] = {'"', '\\', '\x1f', '\x7f', '\x01', '\xff'};
	char text[48];

	(void)state;
	for (size_t len = 1; len <= 40; len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < sizeof(odd); k++) {
				json_t *o = json_object();
				char *want = NULL, *got = NULL;
				size_t wlen = 0, glen = 0;
				FILE *fw = open_memstream(&want, &wlen);
				FILE *fg = open_memstream(&got, &glen);
				struct json_write w;

				assert_non_null(fw);
				assert_non_null(fg);
				for (size_t i = 0; i < len; i++)
					text[i] = (char)('a' + i % 26);
				text[at] = odd[k];
				text[len] = '\0';
				(void)quoted_as_jansson(text, len);
				json_object_set_new(o, "v", json_string(text));
				json_write_begin(&w, fg, 0);
				json_write_string(&w, "v", text);
				if (odd[k] != '\xff') {
					json_object_set_new(
					    o, text, json_string("name"));
					json_write_string(&w, text, "name");
				}
				json_write_end(&w);
				assert_int_equal(
				    json_stream_member(fw, "", 0, NULL, o), 0);
				fclose(fw);
				fclose(fg);
				if (strcmp(want, got) != 0)
					fail_msg("length %zu, byte %d at %zu:\n"
					         "%s\n---\n%s",
					    len, odd[k], at, want, got);
				free(want);
				free(got);
			}
}

static void
test_json_write_utf8(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTEXTS; i++) {
		json_t *j = json_string(texts[i]);

		assert_int_equal(json_write_utf8(texts[i]), j != NULL);
		json_decref(j);
	}
	assert_true(json_write_utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_false(json_write_utf8("\xf4\x90\x80\x80")); /* above it */
}

/* ${t}[0..n) by json_write_quoted, by json_write_quote_mem (the same
 * bytes, whatever they are) and by jansson's json_dumps of json_stringn:
 * the same bytes.  0, or 1 when jansson takes no such string (not
 * UTF-8). */
static int
quoted_as_jansson(const char *t, size_t n)
{
	char *want, *got = NULL, *mem = malloc(6 * n + 2);
	size_t glen = 0, mlen;
	json_t *j = json_stringn(t, n);
	FILE *f;

	assert_non_null(mem);
	f = open_memstream(&got, &glen);
	assert_non_null(f);
	json_write_quoted(f, t, n);
	assert_int_equal(fclose(f), 0);
	mlen = json_write_quote_mem(mem, t, n);
	assert_int_equal(mlen, glen);
	assert_memory_equal(mem, got, glen);
	free(mem);
	if (j == NULL) {
		free(got);
		return 1;
	}
	want = json_dumps(j, JSON_ENCODE_ANY);
	assert_non_null(want);
	assert_string_equal(got, want);
	free(want);
	free(got);
	json_decref(j);
	return 0;
}

/* json_write_quoted: each text, whole and cut short, as jansson writes it
 * (upper-case \u00XX included); a string longer than the write buffer. */
static void
test_json_write_quoted_is_what_jansson_dumps(void **state)
{
	char *big = malloc(20001);
	int skipped = 0;

	(void)state;
	for (size_t i = 0; i < NTEXTS; i++) {
		size_t n = strlen(texts[i]);

		skipped += quoted_as_jansson(texts[i], n);
		if (n > 3)
			skipped += quoted_as_jansson(texts[i], n - 2);
	}
	/* not UTF-8: "bad", "surrogate" and the \xff after eight bytes whole
	 * and cut, "overlong" and "cut" whole, the emoji cut in two */
	assert_int_equal(skipped, 9);
	assert_non_null(big);
	memset(big, 'x', 20000);
	big[20000] = '\0';
	big[9000] = '\n';
	big[15000] = '\x01';
	assert_int_equal(quoted_as_jansson(big, 20000), 0);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_write_is_what_jansson_dumps),
	    cmocka_unit_test(test_json_write_long_text),
	    cmocka_unit_test(test_json_write_names_of_every_length),
	    cmocka_unit_test(test_json_write_escapes_at_every_place),
	    cmocka_unit_test(test_json_write_utf8),
	    cmocka_unit_test(test_json_write_quoted_is_what_jansson_dumps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
