/*
 * test_table.c -- job/base/table.c: columns as wide as their content (a
 * pool key longer than 20 characters shifts nothing), and at $COLUMNS the
 * least important columns dropped, then the last one wrapped under itself;
 * into a file without $COLUMNS, every column whole; a spooled table (a
 * fleet's report) and a streamed one (list, history) print the same and
 * hold no row in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/table.h"

static const struct table_col cols[] = {
    {"POOL", 0, 0},
    {"ACTION", 0, 0},
    {"SNAPSHOT", 1, 0},
    {"REASON", 0, 1},
};

#define LONG_KEY "staging-system-of-the-west-region"
#define SNAP "aksnap-aks-staging-system-20261110T0200Z"
#define REASON                                                                 \
	"unchanged since aksnap-aks-staging-system-20261110T0200Z "            \
	"(AKSUbuntu-2204gen2containerd-202611.01.0, Kubernetes 1.30.5)"

/* The three rows, as table_add takes them. */
static const char *const rows[3][4] = {
    {"a", "create", SNAP, "slot due"},
    {LONG_KEY, "skip", NULL, REASON},
    {"", "keep", SNAP, "last,daily"},
};

enum mode { MEMORY, SPOOLED, STREAMED };

/* Print a table of the three rows to a string (caller frees): held in
 * memory, SPOOLED through table_spool, or STREAMED (table_measure every
 * row, then table_print_head and table_print_row each): no row held. */
static char *
render_as(const char *columns, enum mode mode)
{
	struct table *t = table_new(cols, 4);
	FILE *f = tmpfile();
	char *buf;
	long n;

	assert_non_null(t);
	assert_non_null(f);
	if (mode == SPOOLED)
		assert_int_equal(table_spool(t), 0);
	if (columns != NULL)
		setenv("COLUMNS", columns, 1);
	else
		unsetenv("COLUMNS");
	for (size_t r = 0; r < 3; r++)
		if (mode == STREAMED)
			assert_int_equal(
			    table_measure(t, rows[r][0], rows[r][1], rows[r][2],
			        rows[r][3]),
			    0);
		else
			assert_int_equal(table_add(t, rows[r][0], rows[r][1],
			                     rows[r][2], rows[r][3]),
			    0);
	assert_int_equal(table_rows_in_memory(t), mode == MEMORY ? 3 : 0);
	if (mode == STREAMED) {
		table_print_head(t, f);
		for (size_t r = 0; r < 3; r++)
			table_print_row(t, f, rows[r][0], rows[r][1],
			    rows[r][2], rows[r][3]);
	} else {
		table_print(t, f);
	}
	table_free(t);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static char *
render(const char *columns)
{
	return render_as(columns, MEMORY);
}

/* Where ${word} starts in line ${n} (0-based) of ${text}; -1 if absent. */
static int
column_of(const char *text, int n, const char *word)
{
	const char *line = text, *hit, *eol;

	for (int i = 0; i < n; i++) {
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	eol = strchr(line, '\n');
	hit = strstr(line, word);
	if (hit == NULL || (eol != NULL && hit > eol))
		return -1;
	return (int)(hit - line);
}

static void
test_table_columns_fit_their_content(void **state)
{
	char *out = render(NULL);
	int action = column_of(out, 0, "ACTION");

	(void)state;
	/* Every row's second column starts where its header does. */
	assert_int_equal(action, (int)strlen(LONG_KEY) + 2);
	assert_int_equal(column_of(out, 1, "create"), action);
	assert_int_equal(column_of(out, 2, "skip"), action);
	assert_int_equal(column_of(out, 3, "keep"), action);
	assert_int_equal(
	    column_of(out, 0, "REASON"), column_of(out, 2, "unchanged"));
	/* No width limit into a file: nothing dropped or wrapped. */
	{
		const char *l2 = strstr(out, "\n" LONG_KEY) + 1;
		int snap = column_of(out, 0, "SNAPSHOT");

		assert_memory_equal(l2 + snap, "- ", 2);
	}
	assert_non_null(strstr(out, REASON "\n"));
	/* An empty cell stays empty (NULL printed "-" above). */
	{
		const char *l3 = strstr(out, "\n" LONG_KEY);

		l3 = strchr(l3 + 1, '\n') + 1;
		assert_int_equal((int)strspn(l3, " "), action);
	}
	free(out);
}

static void
test_table_drops_then_wraps_at_columns(void **state)
{
	char *out = render("80"), *line, *save = NULL;
	int reason;

	(void)state;
	assert_null(strstr(out, "SNAPSHOT"));
	reason = column_of(out, 0, "REASON");
	assert_true(reason > 0);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) > 80)
			fail_msg("%zu > 80: %s", strlen(line), line);
		/* Continuation lines start under the REASON column. */
		if (line[0] == ' ' && strspn(line, " ") != (size_t)reason &&
		    strstr(line, "keep") == NULL)
			fail_msg("continuation not under REASON: %s", line);
	}
	free(out);

	/* Wide enough: every column, no wrapping. */
	out = render("300");
	assert_non_null(strstr(out, "SNAPSHOT"));
	assert_non_null(strstr(out, REASON "\n"));
	free(out);
}

/*
 * A spooled table (a fleet's report) and a streamed one (`list`,
 * `history`: measured on a first pass over the store, each row printed as
 * the second reads it) hold no row in memory and print exactly what the
 * same table in memory prints, at any width.
 */
static void
test_table_spooled_and_streamed_print_the_same(void **state)
{
	static const char *const widths[] = {NULL, "80", "40", "300"};

	(void)state;
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		char *mem = render_as(widths[i], MEMORY);
		char *spooled = render_as(widths[i], SPOOLED);
		char *streamed = render_as(widths[i], STREAMED);

		assert_string_equal(spooled, mem);
		assert_string_equal(streamed, mem);
		free(mem);
		free(spooled);
		free(streamed);
	}
	/* Spooling is decided before the first row. */
	{
		struct table *t = table_new(cols, 4);

		assert_non_null(t);
		assert_int_equal(table_add(t, "a", "b", "c", "d"), 0);
		assert_int_equal(table_spool(t), -1);
		assert_int_equal(table_rows_in_memory(t), 1);
		table_free(t);
	}
}

/* ${t}'s output (table_print, else head and ${n} rows of row_i) as a
 * string (caller frees). */
static char *
print_to_string(struct table *t, size_t n, int rows_too)
{
	char *buf = NULL, key[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (!rows_too) {
		table_print(t, f);
	} else {
		table_print_head(t, f);
		for (size_t r = 0; r < n; r++) {
			snprintf(
			    key, sizeof(key), "pool-%zu", r * 7919 % 100003);
			table_print_row(t, f, key, "keep", NULL, "x");
		}
	}
	fclose(f);
	return buf;
}

/* ${mem} and ${sp} print the same; both freed. */
static void
assert_prints_the_same(struct table *mem, struct table *sp)
{
	char *a = print_to_string(mem, 0, 0), *b = print_to_string(sp, 0, 0);

	assert_string_equal(a, b);
	free(a);
	free(b);
	table_free(mem);
	table_free(sp);
}

/*
 * table_spool_upto (`list`, `history`: the rows spooled as one read of the
 * store measures them): 20,000 rows, one with a cell longer than the
 * spool's read buffer, print exactly as in memory; past the bound the
 * rows are measured only, and printed again by the caller at the widths
 * of every row, the dropped ones too.
 */
static void
test_table_spool_upto_prints_once_or_measures(void **state)
{
	const size_t n = 20000, long_row = 12345;
	struct table *mem = table_new(cols, 4), *sp = table_new(cols, 4),
	             *small = table_new(cols, 4);
	char *long_cell = malloc(100001), key[32];
	char *a, *b, *c;

	(void)state;
	unsetenv("COLUMNS");
	assert_non_null(long_cell);
	memset(long_cell, 'r', 100000);
	long_cell[100000] = '\0';
	assert_int_equal(table_spool_upto(sp, 64 << 20), 0);
	assert_int_equal(table_spool_upto(small, 4096), 0);
	for (size_t r = 0; r < n; r++) {
		const char *reason = r == long_row ? long_cell : "x";

		snprintf(key, sizeof(key), "pool-%zu", r * 7919 % 100003);
		assert_int_equal(table_add(mem, key, "keep", NULL, reason), 0);
		assert_int_equal(table_add(sp, key, "keep", NULL, reason), 0);
		assert_int_equal(table_add(small, key, "keep", NULL, "x"), 0);
	}
	assert_int_equal(table_rows_in_memory(sp), 0);
	assert_int_equal(table_rows_in_memory(small), 0);
	assert_int_equal(table_spool_complete(sp), 1);
	assert_int_equal(table_spool_complete(small), 0);
	a = print_to_string(mem, 0, 0);
	b = print_to_string(sp, 0, 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(b, long_cell));
	free(a);
	free(b);
	/* past 4 KiB: nothing held, every row measured */
	c = print_to_string(small, n, 1);
	{
		struct table *ref = table_new(cols, 4);

		for (size_t r = 0; r < n; r++) {
			snprintf(
			    key, sizeof(key), "pool-%zu", r * 7919 % 100003);
			assert_int_equal(
			    table_add(ref, key, "keep", NULL, "x"), 0);
		}
		a = print_to_string(ref, 0, 0);
		assert_string_equal(c, a);
		free(a);
		table_free(ref);
	}
	free(c);
	table_free(mem);
	table_free(sp);
	table_free(small);
	free(long_cell);
}

/*
 * A bounded spool past half of its bound keeps each cell as what it
 * adds to the row before's (table.c's essay): 30,000 rows of a history
 * (a pool's key for 50 rows, times a day apart, versions that change in
 * their middle, longer or shorter, and now and then a cell longer than
 * the spool's read buffer, then one that differs from it in its middle)
 * that spell more than twice BOUND whole are held in it, and print
 * exactly as in memory.
 */
#define BOUND (5 << 18) /* 1.25 MiB */

static void
test_table_spool_upto_shares_what_rows_repeat(void **state)
{
	const size_t n = 30000;
	struct table *mem = table_new(cols, 4), *sp = table_new(cols, 4);
	char *long_cell = malloc(70001), *long_too = malloc(70001), key[32],
	     at[32], image[64];
	size_t whole = 0;

	(void)state;
	unsetenv("COLUMNS");
	assert_non_null(long_cell);
	assert_non_null(long_too);
	memset(long_cell, 'r', 70000);
	long_cell[70000] = '\0';
	/* the same but in its middle: more to share than a count holds */
	memcpy(long_too, long_cell, 70001);
	long_too[35000] = 's';
	assert_int_equal(table_spool_upto(sp, BOUND), 0);
	for (size_t r = 0; r < n; r++) {
		const char *reason = r % 10007 == 5000 ? long_cell
		    : r % 10007 == 5001                ? long_too
		                                       : image;

		snprintf(key, sizeof(key), "aks-%zu-pool%zu", r / 50, r % 7);
		snprintf(at, sizeof(at), "20%02zu-%02zu-%02zuT02:00:00Z",
		    26 + r / 5000, 1 + r / 28 % 12, 1 + r % 28);
		/* the middle's length changes, the suffix stays */
		snprintf(image, sizeof(image),
		    "AKSUbuntu-2204gen2-%zu-containerd-2026.%zu", r * 37 % 1000,
		    r / 3000);
		whole += strlen(key) + strlen(at) + 5 + strlen(reason) + 4;
		assert_int_equal(table_add(mem, key, at, "keep", reason), 0);
		assert_int_equal(table_add(sp, key, at, "keep", reason), 0);
	}
	/* whole, they would need twice the bound */
	assert_true(whole > 2 * BOUND);
	assert_int_equal(table_rows_in_memory(sp), 0);
	assert_int_equal(table_spool_complete(sp), 1);
	assert_prints_the_same(mem, sp);
	free(long_cell);
	free(long_too);
}

/*
 * A large bound (`history`'s 256 MiB) keeps cells whole for its first
 * 16 MiB only, not for half of it: 24 MiB of rows that repeat their
 * neighbours take little more than 16 MiB, and print as in memory.
 */
static void
test_table_spool_upto_shares_past_16_mib(void **state)
{
	const size_t mib = 1024 * 1024;
	struct table *mem = table_new(cols, 4), *sp = table_new(cols, 4);
	char key[32], at[32], image[96];
	size_t whole = 0, r = 0;

	(void)state;
	unsetenv("COLUMNS");
	assert_int_equal(table_spool_upto(sp, 256 * mib), 0);
	while (whole < 24 * mib) {
		snprintf(key, sizeof(key), "aks-%zu-pool%zu", r / 50, r % 7);
		snprintf(at, sizeof(at), "2026-%02zu-%02zuT02:00:00Z",
		    1 + r / 28 % 12, 1 + r % 28);
		snprintf(image, sizeof(image),
		    "AKSUbuntu-2204gen2containerd-202612.%02zu.0 1.33.%zu "
		    "a reason that repeats",
		    r / 700 % 100, r / 9000);
		whole += strlen(key) + strlen(at) + 4 + strlen(image) + 4;
		assert_int_equal(table_add(mem, key, at, "keep", image), 0);
		assert_int_equal(table_add(sp, key, at, "keep", image), 0);
		r++;
	}
	assert_int_equal(table_spool_complete(sp), 1);
	assert_true(table_spool_bytes(sp) > 16 * mib);
	/* kept whole up to 128 MiB, they would take all 24 */
	assert_true(table_spool_bytes(sp) < 18 * mib);
	assert_prints_the_same(mem, sp);
}

/*
 * Streamed rows (table_measure, then table_print_row) in the layout
 * measured: a cell within its column padded to it, one wider than was
 * measured printed whole, the row's next cells after it (table.h).
 */
static void
test_table_row_wider_than_measured_is_printed_whole(void **state)
{
	struct table *t = table_new(cols, 4);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	unsetenv("COLUMNS");
	assert_non_null(t);
	assert_non_null(f);
	assert_int_equal(table_measure(t, "a", "keep", "s", "r"), 0);
	table_print_head(t, f);
	table_print_row(t, f, "a", "keep", "s", "r");
	table_print_row(t, f, "pool-too-long", "keep", NULL, "r");
	table_print_row(t, f, "b", "delete-too", "s", "a longer reason");
	fclose(f);
	assert_string_equal(buf,
	    "POOL  ACTION  SNAPSHOT  REASON\n"
	    "a     keep    s         r\n"
	    "pool-too-long  keep    -         r\n"
	    "b     delete-too  s         a longer reason\n");
	free(buf);
	table_free(t);
}

/*
 * table_add_n (the cells as arrays, with their lengths) keeps what
 * table_add keeps, in memory and spooled; and table_print's rows, which
 * go by write(2) to a file's descriptor when no column wraps, come
 * after what the stream held before and before what it writes after.
 */
static void
test_table_add_n_prints_as_table_add_in_order(void **state)
{
	static const char *const widths[] = {NULL, "80", "300"};

	(void)state;
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		char *want = render_as(widths[i], MEMORY);

		for (int spooled = 0; spooled < 2; spooled++) {
			struct table *t = table_new(cols, 4);
			FILE *f = tmpfile();
			char *buf;
			long n;

			assert_non_null(t);
			assert_non_null(f);
			if (spooled)
				assert_int_equal(table_spool(t), 0);
			for (size_t r = 0; r < 3; r++) {
				const char *cell[4];
				size_t len[4];

				for (size_t c = 0; c < 4; c++) {
					cell[c] = rows[r][c] != NULL
					    ? rows[r][c]
					    : "-";
					len[c] = strlen(cell[c]);
				}
				assert_int_equal(table_add_n(t, cell, len), 0);
			}
			assert_int_equal(
			    table_rows_in_memory(t), spooled ? 0 : 3);
			fputs("before\n", f);
			table_print(t, f);
			fputs("after\n", f);
			table_free(t);
			n = ftell(f);
			rewind(f);
			buf = calloc(1, (size_t)n + 1);
			assert_non_null(buf);
			assert_int_equal(
			    fread(buf, 1, (size_t)n, f), (size_t)n);
			fclose(f);
			assert_int_equal(strncmp(buf, "before\n", 7), 0);
			assert_string_equal(buf + 7 + strlen(want), "after\n");
			buf[7 + strlen(want)] = '\0';
			assert_string_equal(buf + 7, want);
			free(buf);
		}
		free(want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_columns_fit_their_content),
	    cmocka_unit_test(test_table_drops_then_wraps_at_columns),
	    cmocka_unit_test(test_table_spooled_and_streamed_print_the_same),
	    cmocka_unit_test(test_table_spool_upto_prints_once_or_measures),
	    cmocka_unit_test(test_table_spool_upto_shares_what_rows_repeat),
	    cmocka_unit_test(test_table_spool_upto_shares_past_16_mib),
	    cmocka_unit_test(
	        test_table_row_wider_than_measured_is_printed_whole),
	    cmocka_unit_test(test_table_add_n_prints_as_table_add_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
