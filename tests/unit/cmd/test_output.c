/*
 * test_output.c -- the shapes every command prints (job/cmd/output.c):
 * times as RFC 3339 UTC or "-" / null when unknown, null for a missing
 * string, a snapshot's fields named and ordered as DESIGN.md section 3
 * gives them, and one indented JSON document on stdout with the key
 * order kept.  Pure: no store, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job/base/util.h"
#include "job/cmd/output.h"

#define T0 1793415600 /* 2026-10-31T03:00:00Z */

static void
test_output_time_is_rfc3339_or_dash(void **state)
{
	char buf[32];

	(void)state;
	output_time(T0, buf, sizeof(buf));
	assert_string_equal(buf, "2026-10-31T03:00:00Z");
	output_time(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
}

static void
test_output_json_time_is_string_or_null(void **state)
{
	json_t *t;

	(void)state;
	t = output_json_time(T0);
	assert_true(json_is_string(t));
	assert_string_equal(json_string_value(t), "2026-10-31T03:00:00Z");
	json_decref(t);
	t = output_json_time(0);
	assert_true(json_is_null(t));
	json_decref(t);
}

static void
test_output_json_opt_is_null_for_empty(void **state)
{
	json_t *s;

	(void)state;
	s = output_json_opt("stable");
	assert_string_equal(json_string_value(s), "stable");
	json_decref(s);
	s = output_json_opt("");
	assert_true(json_is_null(s));
	json_decref(s);
	s = output_json_opt(NULL);
	assert_true(json_is_null(s));
	json_decref(s);
}

static void
test_output_json_id_is_null_for_none(void **state)
{
	json_t *v;

	(void)state;
	v = output_json_id(42);
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);
	v = output_json_id(0);
	assert_true(json_is_null(v));
	json_decref(v);
}

/* The keys of ${o} in order, joined with ",". */
static const char *
keys(json_t *o)
{
	static char buf[1024];
	const char *k;
	json_t *v;

	buf[0] = '\0';
	json_object_foreach(o, k, v)
	{
		(void)v;
		if (buf[0] != '\0')
			strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, k, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static void
versions(struct db_versions *v)
{
	memset(v, 0, sizeof(*v));
	util_strlcpy(v->node_image_version,
	    "AKSUbuntu-2204gen2containerd-202610.01.0",
	    sizeof(v->node_image_version));
	util_strlcpy(
	    v->kubernetes_version, "1.30.5", sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, "Linux", sizeof(v->os_type));
	util_strlcpy(v->vm_size, "Standard_D4s_v5", sizeof(v->vm_size));
	v->enable_fips = 1;
}

static void
test_output_versions_json_names_and_nulls(void **state)
{
	struct db_versions v;
	json_t *o = json_object();

	(void)state;
	versions(&v);
	output_versions_json(o, &v);
	assert_string_equal(keys(o),
	    "node_image_version,kubernetes_version,os_type,os_sku,vm_size,"
	    "enable_fips");
	assert_string_equal(
	    json_string_value(json_object_get(o, "node_image_version")),
	    "AKSUbuntu-2204gen2containerd-202610.01.0");
	assert_string_equal(
	    json_string_value(json_object_get(o, "kubernetes_version")),
	    "1.30.5");
	/* os_sku unknown: null, not "" */
	assert_true(json_is_null(json_object_get(o, "os_sku")));
	assert_true(json_is_true(json_object_get(o, "enable_fips")));
	json_decref(o);
}

static void
snapshot(struct db_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->id = 42;
	s->pool_id = 7;
	util_strlcpy(s->pool_key, "staging-system", sizeof(s->pool_key));
	util_strlcpy(s->name, "aksnap-aks-staging-system-20261031T0200Z",
	    sizeof(s->name));
	util_strlcpy(s->arm_id,
	    "/subscriptions/00000000-0000-0000-0000-000000000001/"
	    "resourceGroups/rg-staging/providers/"
	    "Microsoft.ContainerService/snapshots/"
	    "aksnap-aks-staging-system-20261031T0200Z",
	    sizeof(s->arm_id));
	s->slot = T0 - 3600;
	s->created_at = T0;
	versions(&s->v);
	util_strlcpy(s->state, "active", sizeof(s->state));
}

static void
test_output_snapshot_json_every_field_in_order(void **state)
{
	struct db_snapshot s;
	json_t *o;

	(void)state;
	snapshot(&s);
	s.pinned = 1;
	util_strlcpy(s.channel, "canary,stable", sizeof(s.channel));
	s.promoted_at = T0 + 86400;
	util_strlcpy(s.error, "Conflict: busy", sizeof(s.error));
	o = output_snapshot_json(&s);
	assert_string_equal(keys(o),
	    "id,pool,snapshot,arm_id,slot,created_at,state,"
	    "node_image_version,kubernetes_version,os_type,os_sku,vm_size,"
	    "enable_fips,channel,promoted_at,demoted_at,pinned,error");
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 42);
	assert_string_equal(
	    json_string_value(json_object_get(o, "pool")), "staging-system");
	assert_string_equal(json_string_value(json_object_get(o, "snapshot")),
	    "aksnap-aks-staging-system-20261031T0200Z");
	assert_string_equal(json_string_value(json_object_get(o, "slot")),
	    "2026-10-31T02:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "created_at")),
	    "2026-10-31T03:00:00Z");
	assert_string_equal(
	    json_string_value(json_object_get(o, "state")), "active");
	assert_string_equal(
	    json_string_value(json_object_get(o, "channel")), "canary,stable");
	assert_string_equal(
	    json_string_value(json_object_get(o, "promoted_at")),
	    "2026-11-01T03:00:00Z");
	assert_true(json_is_null(json_object_get(o, "demoted_at")));
	assert_true(json_is_true(json_object_get(o, "pinned")));
	assert_string_equal(
	    json_string_value(json_object_get(o, "error")), "Conflict: busy");
	json_decref(o);
}

/* Nothing known: null for every time and string, never "" or 0. */
static void
test_output_snapshot_json_unknown_is_null(void **state)
{
	struct db_snapshot s;
	json_t *o;

	(void)state;
	snapshot(&s);
	s.slot = 0;
	memset(&s.v, 0, sizeof(s.v));
	o = output_snapshot_json(&s);
	assert_true(json_is_null(json_object_get(o, "slot")));
	assert_true(json_is_null(json_object_get(o, "channel")));
	assert_true(json_is_null(json_object_get(o, "promoted_at")));
	assert_true(json_is_null(json_object_get(o, "error")));
	assert_true(json_is_null(json_object_get(o, "node_image_version")));
	assert_true(json_is_false(json_object_get(o, "enable_fips")));
	assert_true(json_is_false(json_object_get(o, "pinned")));
	json_decref(o);
}

/* stdout while ${fn} runs, as a string (caller frees). */
static char *
capture_stdout(void (*fn)(json_t *), json_t *arg)
{
	char path[] = "/tmp/test_output.XXXXXX";
	int fd = mkstemp(path), saved;
	char *text = NULL;
	long len;
	FILE *in;

	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDOUT_FILENO) >= 0);
	fn(arg);
	fflush(stdout);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	close(fd);
	in = fopen(path, "r");
	assert_non_null(in);
	fseek(in, 0, SEEK_END);
	len = ftell(in);
	rewind(in);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, in), (size_t)len);
	fclose(in);
	unlink(path);
	return text;
}

static void
test_output_print_json_indented_in_order(void **state)
{
	json_t *doc = json_object();
	char *out;

	(void)state;
	json_object_set_new(doc, "zeta", json_integer(1));
	json_object_set_new(doc, "alpha", output_json_time(0));
	json_object_set_new(doc, "mid", json_string("x"));
	out = capture_stdout(output_print_json, doc); /* takes doc */
	assert_string_equal(out,
	    "{\n  \"zeta\": 1,\n  \"alpha\": null,\n  \"mid\": \"x\"\n}\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_time_is_rfc3339_or_dash),
	    cmocka_unit_test(test_output_json_time_is_string_or_null),
	    cmocka_unit_test(test_output_json_opt_is_null_for_empty),
	    cmocka_unit_test(test_output_json_id_is_null_for_none),
	    cmocka_unit_test(test_output_versions_json_names_and_nulls),
	    cmocka_unit_test(test_output_snapshot_json_every_field_in_order),
	    cmocka_unit_test(test_output_snapshot_json_unknown_is_null),
	    cmocka_unit_test(test_output_print_json_indented_in_order),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
