/*
 * test_reasons.c -- job/base/reasons.c: a stored reasons string becomes
 * the array --json shows, without cutting a reason's own commas.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/reasons.h"

/* ${joined} splits into exactly the NULL-ended ${want}. */
static void
expect(const char *joined, const char *const *want)
{
	json_t *arr = reasons_json(joined);
	size_t n = 0;

	assert_non_null(arr);
	assert_true(json_is_array(arr));
	while (want[n] != NULL) {
		const char *got = json_string_value(json_array_get(arr, n));

		if (got == NULL || strcmp(got, want[n]) != 0)
			fail_msg("'%s': item %zu is '%s', want '%s'", joined, n,
			    got != NULL ? got : "(none)", want[n]);
		n++;
	}
	assert_int_equal(json_array_size(arr), n);
	json_decref(arr);
}

static void
test_reasons_retention_words_split_on_commas(void **state)
{
	static const char *const w[] = {
	    "last", "daily", "weekly", "monthly", "within", NULL};

	(void)state;
	expect("last,daily,weekly,monthly,within", w);
}

static void
test_reasons_plan_parts_split_on_semicolons(void **state)
{
	static const char *const w[] = {"slot 2026-11-05T02:00:00Z due",
	    "changed: node image A -> B", NULL};

	(void)state;
	expect("slot 2026-11-05T02:00:00Z due; changed: node image A -> B", w);
}

static void
test_reasons_keep_a_reasons_own_commas(void **state)
{
	static const char *const w[] = {
	    "unchanged since s1 (AKSUbuntu-2204, Kubernetes 1.30.5)", NULL};
	static const char *const w2[] = {"promoted", "kept", "last", NULL};

	(void)state;
	expect("unchanged since s1 (AKSUbuntu-2204, Kubernetes 1.30.5)", w);
	expect("promoted; kept; last", w2);
}

static void
test_reasons_empty_and_null_give_empty_array(void **state)
{
	static const char *const none[] = {NULL};

	(void)state;
	expect("", none);
	expect(NULL, none);
	expect(" ; ,", none);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reasons_retention_words_split_on_commas),
	    cmocka_unit_test(test_reasons_plan_parts_split_on_semicolons),
	    cmocka_unit_test(test_reasons_keep_a_reasons_own_commas),
	    cmocka_unit_test(test_reasons_empty_and_null_give_empty_array),
	};

	return cmocka_run_group_tests_name("reasons", tests, NULL, NULL);
}
