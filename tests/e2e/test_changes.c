/*
 * test_changes.c -- `aksnap changes` and the changelog promotion records,
 * end to end (issue 13): the emulator serves real AgentBaker release
 * notes (tests/fixtures/release-notes) under /_notes/ over loopback
 * http, plus a cut-off copy and one over the size cap made here.
 *
 * The staging cluster's system pool is put on real Ubuntu image versions
 * whose notes are in the fixtures (202608.14.0, then 202608.20.0: two
 * consecutive builds of one variant), snapshotted with `aksnap run
 * --as-of`, and compared.  Each test counts the notes requests the
 * emulator saw, so "fetched once per image version" is a number.
 */
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define FIXTURES "tests/fixtures/release-notes"
#define VARIANT "AKSUbuntu/gen2/2204containerd"
#define UBUNTU "AKSUbuntu-2204gen2containerd-"
#define T1 "2026-11-02T03:00:00Z"
#define T2 "2026-11-03T03:00:00Z"
#define S1 "aksnap-aks-staging-system-20261102T0200Z"
#define S2 "aksnap-aks-staging-system-20261103T0200Z"
#define U1 "aksnap-aks-staging-user-20261102T0200Z"
#define U2 "aksnap-aks-staging-user-20261103T0200Z"
#define UNREACHABLE "http://127.0.0.1:1/{path}.txt"
#define CAP 1048576 /* RELNOTES_MAX_BYTES */

#define POOLS                                                                  \
	"\n[pool:staging-system]\nresource_group = rg-staging\n"               \
	"cluster = aks-staging\nnodepool = system\n"                           \
	"\n[pool:staging-user]\nresource_group = rg-staging\n"                 \
	"cluster = aks-staging\nnodepool = user\n"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("fixture %s missing", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
put(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/*
 * The notes the emulator serves: the real fixtures, 202608.21.0 = the
 * first half of 202608.20.0 (cut off inside the package list), and
 * 202608.22.0 = 202608.20.0 repeated past the cap.
 */
static void
make_notes(const char *dir)
{
	char d[4096], p[4096], *text, *big;
	size_t len, n = 0;

	snprintf(d, sizeof(d), "mkdir -p %s/notes/" VARIANT, dir);
	assert_int_equal(system(d), 0);
	snprintf(d, sizeof(d), "%s/notes/" VARIANT, dir);
	text = slurp(FIXTURES "/" VARIANT "/202608.14.0.txt", &len);
	snprintf(p, sizeof(p), "%s/202608.14.0.txt", d);
	put(p, text, len);
	free(text);
	text = slurp(FIXTURES "/" VARIANT "/202608.20.0.txt", &len);
	snprintf(p, sizeof(p), "%s/202608.20.0.txt", d);
	put(p, text, len);
	snprintf(p, sizeof(p), "%s/202608.21.0.txt", d);
	put(p, text, len / 2);
	big = malloc(CAP + 2 * len);
	assert_non_null(big);
	while (n <= CAP) {
		memcpy(big + n, text, len);
		n += len;
	}
	snprintf(p, sizeof(p), "%s/202608.22.0.txt", d);
	put(p, big, n);
	free(big);
	free(text);
}

static void
write_config(struct harness *f, const char *template)
{
	char ini[2048], url[512];

	if (template == NULL) {
		snprintf(
		    url, sizeof(url), "%s/_notes/{path}.txt", emu_url(f->emu));
		template = url;
	}
	snprintf(ini, sizeof(ini),
	    "\n[policy:default]\nschedule = 0 2 * * *\n"
	    "snapshot_when = changed\npromote_after = never\n"
	    "release_notes = %s\n" POOLS,
	    template);
	free(f->config);
	f->config = harness_config(f->dir, f->emu, ini);
	assert_non_null(f->config);
}

static int
setup(void **state)
{
	struct harness *f = calloc(1, sizeof(*f));
	char notes[4096];
	const char *args[] = {
	    "--fleet", FLEET, "--retry-after", "0", "--notes-dir", notes, NULL};

	if (f == NULL || harness_open_dir(f) != 0) {
		free(f);
		return -1;
	}
	make_notes(f->dir);
	snprintf(notes, sizeof(notes), "%s/notes", f->dir);
	if (harness_start(f, args, NULL) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	write_config(f, NULL);
	return 0;
}

static int
teardown(void **state)
{
	harness_free(*state);
	return 0;
}

static void
set_image(struct harness *f, const char *pool, const char *image)
{
	char body[512];
	json_t *j;

	if (image != NULL)
		snprintf(body, sizeof(body),
		    "{\"resourceGroup\":\"rg-staging\",\"cluster\":"
		    "\"aks-staging\",\"pool\":\"%s\",\"nodeImageVersion\":"
		    "\"%s\"}",
		    pool, image);
	else
		snprintf(body, sizeof(body),
		    "{\"resourceGroup\":\"rg-staging\",\"cluster\":"
		    "\"aks-staging\",\"pool\":\"%s\"}",
		    pool);
	j = emu_post(f->emu, "/_armemu/release", body);
	assert_non_null(j);
	json_decref(j);
}

static void
run_at(struct harness *f, const char *as_of)
{
	struct run_result r;

	assert_int_equal(emu_set_clock(f->emu, as_of), 0);
	harness_aksnap(f, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

static void
promote(struct harness *f, const char *snap)
{
	struct run_result r;

	harness_aksnap(f, &r, "promote", snap, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

/*
 * staging-system on 202608.14.0 at T1 (snapshot S1, promoted to stable),
 * then on ${version} at T2 (snapshot S2).
 */
static void
two_snapshots(struct harness *f, const char *version)
{
	char image[128];

	set_image(f, "system", UBUNTU "202608.14.0");
	run_at(f, T1);
	promote(f, S1);
	snprintf(image, sizeof(image), UBUNTU "%s", version);
	set_image(f, "system", image);
	run_at(f, T2);
}

static json_t *
changes_json(struct harness *f, const char *a, const char *b, const char *c)
{
	struct run_result r;
	json_error_t e;
	json_t *doc;

	harness_aksnap(f, &r, "--json", "changes", a, b, c, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, &e);
	if (doc == NULL)
		fail_msg("not JSON (%s):\n%s", e.text, r.out);
	run_result_free(&r);
	return doc;
}

/* The value at a dotted ${path} ("old.release_notes.path"), or NULL. */
static json_t *
get(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_object_get(o, path);
}

static const char *
str(json_t *o, const char *path)
{
	return json_string_value(get(o, path));
}

static json_t *
section(json_t *doc, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(doc, "sections"), i, s)
	{
		if (strcmp(str(s, "section"), name) == 0)
			return s;
	}
	fail_msg("no section %s", name);
	return NULL;
}

static json_t *
item(json_t *sec, const char *name)
{
	size_t i;
	json_t *it;

	json_array_foreach(json_object_get(sec, "items"), i, it)
	{
		if (strcmp(str(it, "name"), name) == 0)
			return it;
	}
	return NULL;
}

static long long
kept_notes(struct harness *f)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(
	        db, "SELECT count(*) FROM release_notes", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static int
count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- the tests ---- */

static void
test_changes_diffs_two_real_consecutive_notes(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc, *sec, *it;

	two_snapshots(f, "202608.20.0");
	emu_reset_counters(f->emu);
	doc = changes_json(f, "--pool", "staging-system", NULL);
	assert_string_equal(str(doc, "old.snapshot"), S1);
	assert_string_equal(str(doc, "new.snapshot"), S2);
	assert_string_equal(
	    str(doc, "node_image_version.old"), UBUNTU "202608.14.0");
	assert_string_equal(
	    str(doc, "node_image_version.new"), UBUNTU "202608.20.0");
	assert_true(json_is_true(get(doc, "node_image_version.changed")));
	assert_true(json_is_false(get(doc, "kubernetes_version.changed")));
	assert_true(json_is_true(json_object_get(doc, "notes_compared")));
	/* Both builds run kernel 5.15.0-1118-azure. */
	assert_string_equal(str(doc, "kernel.new"), "5.15.0-1118-azure");
	assert_true(json_is_false(get(doc, "kernel.changed")));
	assert_string_equal(
	    str(doc, "components.containerd.new"), "1.7.34-ubuntu22.04u2");
	assert_string_equal(
	    str(doc, "old.release_notes.path"), VARIANT "/202608.14.0");
	assert_string_equal(str(doc, "new.release_notes.source"), "fetched");
	sec = section(doc, "components");
	assert_true(json_is_true(json_object_get(sec, "compared")));
	it = item(sec, "ig");
	assert_non_null(it);
	assert_string_equal(str(it, "change"), "changed");
	assert_string_equal(str(it, "old"), "0.54.1-ubuntu22.04u6");
	assert_string_equal(str(it, "new"), "0.55.0-ubuntu22.04u2");
	assert_true(json_integer_value(json_object_get(sec, "changed")) >= 3);
	sec = section(doc, "images");
	assert_non_null(
	    item(sec, "mcr.microsoft.com/containernetworking/v2/azure-cni"));
	sec = section(doc, "packages");
	it = item(sec, "curl");
	assert_non_null(it);
	assert_string_equal(str(it, "new"), "7.81.0-1ubuntu1.26");
	json_decref(doc);
	/* One fetch per image version, both kept. */
	assert_int_equal(emu_counter(f->emu, "GET notes.get 200"), 2);
	assert_int_equal(kept_notes(f), 2);

	/* Again, by snapshot names: from the store, nothing fetched. */
	harness_aksnap(f, &r, "changes", S1, S2, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out,
	    "node image   " UBUNTU "202608.14.0 -> " UBUNTU "202608.20.0");
	harness_expect_in(r.out, "kernel       5.15.0-1118-azure (unchanged)");
	harness_expect_in(r.out,
	    "~ ig 0.54.1-ubuntu22.04u6 -> "
	    "0.55.0-ubuntu22.04u2");
	harness_expect_in(r.out, VARIANT "/202608.20.0 (store)");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 2);

	/* Offline: the kept notes still answer. */
	write_config(f, UNREACHABLE);
	doc = changes_json(f, "--pool", "staging-system", NULL);
	assert_true(json_is_true(json_object_get(doc, "notes_compared")));
	assert_string_equal(str(doc, "old.release_notes.source"), "store");
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 2);
}

static void
test_changes_without_a_server_shows_versions_only(void **state)
{
	struct harness *f = *state;
	struct run_result r;
	json_t *doc;

	write_config(f, UNREACHABLE);
	two_snapshots(f, "202608.20.0");
	harness_aksnap(f, &r, "changes", "--pool", "staging-system", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out,
	    "node image   " UBUNTU "202608.14.0 -> " UBUNTU "202608.20.0");
	harness_expect_in(r.out, "No release-notes diff");
	/* One line says why. */
	assert_int_equal(count_lines(r.err, "aksnap:"), 1);
	harness_expect_in(r.err, "no release notes for " UBUNTU "202608.14.0");
	harness_expect_in(r.err, "unreachable");
	run_result_free(&r);
	doc = changes_json(f, "--pool", "staging-system", NULL);
	assert_true(json_is_false(json_object_get(doc, "notes_compared")));
	assert_non_null(
	    strstr(str(doc, "new.release_notes.reason"), "unreachable"));
	assert_true(json_is_null(json_object_get(doc, "kernel")));
	json_decref(doc);
	assert_int_equal(kept_notes(f), 0);
}

static void
test_changes_says_an_unpublished_family_has_no_notes(void **state)
{
	struct harness *f = *state;
	json_t *doc;

	/* staging-user runs Azure Linux 2 (AKSAzureLinux-V2gen2-...). */
	run_at(f, T1);
	promote(f, U1);
	set_image(f, "user", NULL);
	run_at(f, T2);
	emu_reset_counters(f->emu);
	doc = changes_json(f, "--pool", "staging-user", NULL);
	assert_string_equal(str(doc, "new.snapshot"), U2);
	assert_true(json_is_true(get(doc, "node_image_version.changed")));
	assert_true(json_is_false(json_object_get(doc, "notes_compared")));
	assert_non_null(strstr(str(doc, "old.release_notes.reason"),
	    "Azure Linux 2 release notes are no longer published"));
	assert_true(json_is_null(get(doc, "old.release_notes.path")));
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 0);
}

static void
test_changes_reports_a_cut_off_file_and_does_not_keep_it(void **state)
{
	struct harness *f = *state;
	json_t *doc, *sec;

	two_snapshots(f, "202608.21.0");
	emu_reset_counters(f->emu);
	doc = changes_json(f, "--pool", "staging-system", NULL);
	assert_true(json_is_true(json_object_get(doc, "notes_compared")));
	sec = section(doc, "components");
	assert_true(json_is_true(json_object_get(sec, "compared")));
	sec = section(doc, "packages");
	assert_true(json_is_false(json_object_get(sec, "compared")));
	assert_non_null(strstr(str(sec, "reason"), "cut off"));
	assert_int_equal(json_array_size(json_object_get(sec, "items")), 0);
	sec = section(doc, "kernel");
	assert_true(json_is_false(json_object_get(sec, "compared")));
	json_decref(doc);
	/* The complete notes are kept, the cut-off ones asked for again. */
	assert_int_equal(kept_notes(f), 1);
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 2);
	json_decref(changes_json(f, "--pool", "staging-system", NULL));
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 3);
}

static void
test_changes_refuses_notes_over_the_cap(void **state)
{
	struct harness *f = *state;
	json_t *doc;

	two_snapshots(f, "202608.22.0");
	doc = changes_json(f, "--pool", "staging-system", NULL);
	assert_true(json_is_false(json_object_get(doc, "notes_compared")));
	assert_non_null(strstr(
	    str(doc, "new.release_notes.reason"), "larger than 1048576 bytes"));
	assert_true(json_is_true(get(doc, "old.release_notes.available")));
	json_decref(doc);
	assert_int_equal(kept_notes(f), 1);
}

static void
test_changes_with_release_notes_off_fetches_nothing(void **state)
{
	struct harness *f = *state;
	json_t *doc;

	write_config(f, "off");
	two_snapshots(f, "202608.20.0");
	emu_reset_counters(f->emu);
	doc = changes_json(f, S1, S2, NULL);
	assert_true(json_is_false(json_object_get(doc, "notes_compared")));
	assert_string_equal(
	    str(doc, "old.release_notes.reason"), "release_notes = off");
	assert_string_equal(
	    str(doc, "node_image_version.new"), UBUNTU "202608.20.0");
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET notes.get"), 0);
}

static void
test_changes_live_compares_the_pool_as_azure_shows_it(void **state)
{
	struct harness *f = *state;
	json_t *doc;

	set_image(f, "system", UBUNTU "202608.14.0");
	run_at(f, T1);
	promote(f, S1);
	set_image(f, "system", UBUNTU "202608.20.0");
	emu_reset_counters(f->emu);
	doc = changes_json(f, "--pool", "staging-system", "--live");
	assert_string_equal(
	    str(doc, "new.label"), "pool staging-system (live)");
	assert_true(json_is_null(get(doc, "new.snapshot")));
	assert_string_equal(
	    str(doc, "node_image_version.new"), UBUNTU "202608.20.0");
	assert_true(json_is_true(json_object_get(doc, "notes_compared")));
	json_decref(doc);
	assert_int_equal(emu_counter(f->emu, "GET agentPools.get"), 1);
}

static void
test_changes_usage_errors(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	harness_aksnap(f, &r, "changes", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "changes", "--live", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "changes", "--pool", "nosuchpool", NULL);
	harness_expect_exit(&r, 2);
	run_result_free(&r);
	harness_aksnap(f, &r, "changes", "nosuch1", "nosuch2", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "no snapshot 'nosuch1'");
	run_result_free(&r);
	/* A pool without a baseline has nothing to compare. */
	run_at(f, T1);
	harness_aksnap(f, &r, "changes", "--pool", "staging-system", NULL);
	harness_expect_exit(&r, 1);
	harness_expect_in(r.err, "no active baseline in channel stable");
	run_result_free(&r);
}

static void
test_release_notes_key_is_checked(void **state)
{
	struct harness *f = *state;
	struct run_result r;

	write_config(f, "http://example.com/{path}.txt");
	harness_aksnap(f, &r, "config", "check", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "release_notes");
	harness_expect_in(r.err, "loopback");
	run_result_free(&r);
	write_config(f, "https://example.com/notes.txt");
	harness_aksnap(f, &r, "config", "check", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "{path}");
	run_result_free(&r);
}

/* How the promote decision of ${snap} reads in `explain --json`. */
static char *
promote_reasons(struct harness *f, const char *snap)
{
	struct run_result r;
	json_t *doc, *d;
	size_t i;
	char *out = NULL;

	harness_aksnap(f, &r, "--json", "explain", snap, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	assert_non_null(doc);
	json_array_foreach(json_object_get(doc, "decisions"), i, d)
	{
		json_t *rs = json_object_get(d, "reasons"), *one;
		size_t j, len = 1;

		if (strcmp(str(d, "action"), "promote") != 0)
			continue;
		/* reasons: an array (DESIGN.md 3); joined here to search. */
		assert_true(json_is_array(rs));
		json_array_foreach(rs, j, one)
		{
			len += strlen(json_string_value(one)) + 2;
		}
		free(out);
		out = calloc(1, len);
		assert_non_null(out);
		json_array_foreach(rs, j, one)
		{
			if (j > 0)
				strcat(out, "; ");
			strcat(out, json_string_value(one));
		}
	}
	json_decref(doc);
	run_result_free(&r);
	assert_non_null(out);
	return out;
}

static void
test_promotion_records_what_the_snapshot_brings_in(void **state)
{
	struct harness *f = *state;
	char *why;

	two_snapshots(f, "202608.20.0");
	why = promote_reasons(f, S1);
	harness_expect_in(why,
	    "first in the channel: node image " UBUNTU
	    "202608.14.0, Kubernetes 1.30.5");
	free(why);
	emu_reset_counters(f->emu);
	promote(f, S2);
	assert_int_equal(emu_counter(f->emu, "GET notes.get 200"), 2);
	why = promote_reasons(f, S2);
	harness_expect_in(why, "promoted by hand");
	harness_expect_in(
	    why, "node image " UBUNTU "202608.14.0 -> 202608.20.0");
	harness_expect_in(why, "Kubernetes 1.30.5 (unchanged)");
	harness_expect_in(why, "kernel 5.15.0-1118-azure (unchanged)");
	harness_expect_in(why, "components +");
	harness_expect_in(why, "packages +");
	free(why);
}

static void
test_promotion_without_notes_records_the_versions(void **state)
{
	struct harness *f = *state;
	char *why;

	write_config(f, UNREACHABLE);
	two_snapshots(f, "202608.20.0");
	promote(f, S2);
	why = promote_reasons(f, S2);
	harness_expect_in(
	    why, "node image " UBUNTU "202608.14.0 -> 202608.20.0");
	harness_expect_in(why, "no release notes:");
	harness_expect_in(why, "unreachable");
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_changes_diffs_two_real_consecutive_notes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_without_a_server_shows_versions_only, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_says_an_unpublished_family_has_no_notes, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_reports_a_cut_off_file_and_does_not_keep_it, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_refuses_notes_over_the_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_with_release_notes_off_fetches_nothing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_live_compares_the_pool_as_azure_shows_it, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changes_usage_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_release_notes_key_is_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_promotion_records_what_the_snapshot_brings_in, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_promotion_without_notes_records_the_versions, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
