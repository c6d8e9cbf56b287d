/*
 * test_reorder.c -- job/base/reorder.c: texts written in one order come
 * back in another, byte for byte (an empty one, one larger than a copy's
 * buffer, one never written), through a copy or a read, also after
 * more is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/reorder.h"

#define BIG (200 * 1024)

/* Item i's text: "item i\n", item 2 empty, item 3 BIG bytes. */
static void
write_item(struct reorder *ro, size_t i, const char *big)
{
	FILE *f = reorder_begin(ro, i);

	if (i == 3)
		fwrite(big, 1, BIG, f);
	else if (i != 2)
		fprintf(f, "item %zu\n", i);
	assert_int_equal(reorder_end(ro, i), 0);
}

static void
test_reorder_gives_back_in_the_order_asked(void **state)
{
	/* written 4, 3, 2, 1, 0 (item 5 never) */
	static const size_t order[] = {4, 3, 2, 1, 0};
	struct reorder *ro = reorder_new(6);
	char *big = malloc(BIG), *out = NULL, *want;
	size_t outlen = 0, len = 99;
	FILE *mem;
	const char *got;

	(void)state;
	assert_non_null(ro);
	assert_non_null(big);
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	for (size_t k = 0; k < 5; k++)
		write_item(ro, order[k], big);

	mem = open_memstream(&out, &outlen);
	assert_non_null(mem);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(reorder_copy(ro, i, mem), 0);
	fclose(mem);
	want = malloc(BIG + 64);
	assert_non_null(want);
	memcpy(want, "item 0\nitem 1\n", 14);
	memcpy(want + 14, big, BIG);
	memcpy(want + 14 + BIG, "item 4\n", 7);
	assert_int_equal(outlen, 14 + BIG + 7);
	assert_memory_equal(out, want, outlen);

	got = reorder_read(ro, 1, &len);
	assert_string_equal(got, "item 1\n");
	assert_int_equal(len, 7);
	got = reorder_read(ro, 2, &len);
	assert_string_equal(got, "");
	assert_int_equal(len, 0);
	got = reorder_read(ro, 3, &len);
	assert_int_equal(len, BIG);
	assert_memory_equal(got, big, BIG);
	/* written after a read: still found */
	write_item(ro, 5, big);
	assert_string_equal(reorder_read(ro, 5, NULL), "item 5\n");
	assert_string_equal(reorder_read(ro, 4, NULL), "item 4\n");

	reorder_free(ro);
	reorder_free(NULL);
	free(out);
	free(want);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reorder_gives_back_in_the_order_asked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
