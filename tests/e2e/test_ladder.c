/*
 * test_ladder.c -- channel ladders, demote and pause end to end against
 * the ARM emulator (DESIGN.md section 6, Ladders and Pause): weeks of
 * daily `run --as-of` with node image releases, the aksnap-channel tag in
 * Azure listing every channel a snapshot holds, `demote` by hand and the
 * fallback, a paused pool observed and nothing else, and the
 * configuration errors.
 */
#include <jansson.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define DAY 86400
#define POOL "staging-system"

static const char *const LADDER_INI =
    "\n[policy:ladder]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = changed\n"
    "keep_last = 10\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"
    "keep_within = 0\nmin_keep = 1\n"
    "channels = canary:1d stable:7d\n"
    "keep_promoted = 1\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\npolicy = ladder\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\npolicy = ladder\n"
    "enabled = no\n";

struct fx {
	struct harness h;
	time_t t0; /* a Monday, 02:00 UTC: the schedule's slot */
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || harness_init(&f->h, args, LADDER_INI) != 0) {
		free(f);
		return -1;
	}
	util_parse_time("2026-11-09T02:00:00Z", &f->t0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL)
		harness_fini(&f->h);
	free(f);
	return 0;
}

/* Azure's createdAt is exactly as_of: the emulator's clock is frozen. */
static void
at(struct fx *f, time_t t, char *as_of, size_t len)
{
	char body[96];

	util_format_time(t, as_of, len);
	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", as_of);
	json_decref(emu_post(f->h.emu, "/_armemu/clock", body));
}

/* `run --as-of` day ${d}; a new image for the staging pool first when
 * ${release}. */
static void
run_day(struct fx *f, int d, int release)
{
	struct run_result r;
	char as_of[32];

	at(f, f->t0 + (time_t)d * DAY, as_of, sizeof(as_of));
	if (release)
		json_decref(emu_post(f->h.emu, "/_armemu/release",
		    "{\"cluster\":\"aks-staging\",\"pool\":\"system\"}"));
	harness_aksnap(&f->h, &r, "run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
}

/* The aksnap-channel tag of snapshot ${name} in Azure ("" when none). */
static void
azure_tag(struct fx *f, const char *name, char *buf, size_t len)
{
	if (emu_snapshot_tag(f->h.emu, name, "aksnap-channel", buf, len) != 0)
		fail_msg("%s is not in Azure", name);
}

/* The snapshot of pool ${POOL} taken on day ${d}: its name. */
static void
name_of_day(struct fx *f, int d, char *buf, size_t len)
{
	char slot[32], compact[32];
	size_t k = 0;

	util_format_time(f->t0 + (time_t)d * DAY, slot, sizeof(slot));
	/* 2026-11-09T02:00:00Z -> 20261109T0200Z */
	for (const char *p = slot; *p != '\0' && k < 15; p++) {
		if (*p == '-' || *p == ':')
			continue;
		compact[k++] = *p;
	}
	compact[13] = 'Z';
	compact[14] = '\0';
	snprintf(buf, len, "aksnap-aks-staging-system-%s", compact);
}

/* The store's channel list of ${name} ("" when none). */
static void
store_channel(struct fx *f, const char *name, char *buf, size_t len)
{
	harness_store_channel(&f->h, POOL, name, buf, len);
}

/* Store and Azure both say ${name} holds ${want}. */
static void
expect_channels(struct fx *f, const char *name, const char *want)
{
	char got[128];

	store_channel(f, name, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg(
		    "store: %s holds \"%s\", want \"%s\"", name, got, want);
	azure_tag(f, name, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("Azure: %s is tagged aksnap-channel=\"%s\", want "
		         "\"%s\"",
		    name, got, want);
}

/* When ${name} entered ${channel} (from the store), 0 if never. */
static time_t
entered(struct fx *f, const char *name, const char *channel)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	time_t t = 0;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT min(h.promoted_at) FROM snapshot_channels "
	                     "h JOIN snapshots s ON s.id = h.snapshot_id "
	                     "WHERE s.name = ?1 AND h.channel = ?2",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = (time_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return t;
}

/*
 * Five weeks of daily runs, a new image in weeks 0, 2, 3 and 4: each
 * snapshot enters canary a day after it was taken and stable a week after
 * that, even when a newer one took canary meanwhile; while one snapshot
 * holds both, Azure says so (aksnap-channel=canary,stable); baseline
 * answers for either channel.
 */
static void
test_ladder_two_rungs_over_weeks(void **state)
{
	struct fx *f = *state;
	static const int releases[] = {0, 14, 21, 28};
	char s[4][96], text[256];
	struct run_result r;

	for (int d = 0; d <= 36; d++) {
		int rel = 0;

		for (size_t k = 0; k < 4; k++)
			rel |= releases[k] == d;
		run_day(f, d, rel);
		if (d == 1) {
			name_of_day(f, 0, s[0], sizeof(s[0]));
			expect_channels(f, s[0], "canary");
		}
		if (d == 8) /* stable a week after canary: both held */
			expect_channels(f, s[0], "canary,stable");
		if (d == 15) {
			name_of_day(f, 14, s[1], sizeof(s[1]));
			expect_channels(f, s[0], "stable");
			expect_channels(f, s[1], "canary");
		}
		if (d == 22) {
			/* s1 went to stable as s2 took canary, the same run */
			name_of_day(f, 21, s[2], sizeof(s[2]));
			expect_channels(f, s[0], "");
			expect_channels(f, s[1], "stable");
			expect_channels(f, s[2], "canary");
		}
	}
	name_of_day(f, 28, s[3], sizeof(s[3]));
	for (int k = 0; k < 4; k++) {
		time_t created = f->t0 + (time_t)releases[k] * DAY;

		assert_int_equal(entered(f, s[k], "canary"), created + DAY);
		assert_int_equal(entered(f, s[k], "stable"), created + 8 * DAY);
	}
	expect_channels(f, s[3], "canary,stable");

	harness_aksnap(&f->h, &r, "baseline", "--channel", "canary", "--format",
	    "env", NULL);
	harness_expect_exit(&r, 0);
	snprintf(text, sizeof(text), "snapshots/%s", s[3]);
	harness_expect_in(r.out, text);
	run_result_free(&r);
	/* the default channel is the ladder's last rung */
	harness_aksnap(&f->h, &r, "baseline", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "stable");
	harness_expect_in(r.out, s[3]);
	run_result_free(&r);
}

/*
 * `demote` by hand: the canary falls back to its previous holder (tag
 * moved in Azure with verified PATCHes, journal entries that explain
 * shows), the demoted snapshot never returns to any channel in later
 * runs, and only snapshots the store holds can be demoted.
 */
static void
test_ladder_demote_falls_back_and_never_returns(void **state)
{
	struct fx *f = *state;
	char s0[96], s1[96], s2[96], as_of[32];
	struct run_result r;
	long patches;

	for (int d = 0; d <= 8; d++)
		run_day(f, d, d == 0 || d == 7);
	name_of_day(f, 0, s0, sizeof(s0));
	name_of_day(f, 7, s1, sizeof(s1));
	expect_channels(f, s0, "stable");
	expect_channels(f, s1, "canary");

	emu_reset_counters(f->h.emu);
	at(f, f->t0 + 8 * DAY + 3600, as_of, sizeof(as_of));
	harness_aksnap(&f->h, &r, "demote", s1, "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "demote");
	harness_expect_in(r.out, s0);
	run_result_free(&r);
	/* one PATCH for each of the two snapshots, nothing else written */
	patches = emu_counter(f->h.emu, "PATCH snapshots.patch");
	assert_int_equal(patches, 2);
	assert_int_equal(emu_counter(f->h.emu, "PUT snapshots.put"), 0);
	assert_int_equal(emu_counter(f->h.emu, "DELETE snapshots.delete"), 0);
	expect_channels(f, s1, "");
	expect_channels(f, s0, "canary,stable");

	harness_aksnap(&f->h, &r, "explain", s1, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "demoted by hand");
	harness_expect_in(r.out, "falls back to");
	run_result_free(&r);
	/* recorded as a run of its own mode, not as a promote */
	harness_aksnap(&f->h, &r, "db", "status", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "(demote, exit 0)");
	run_result_free(&r);

	/* it holds nothing now: a second demote is a usage error */
	harness_aksnap(&f->h, &r, "demote", s1, NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "holds no channel");
	run_result_free(&r);
	/* not in the store (the foreign golden snapshot): never touched */
	emu_reset_counters(f->h.emu);
	harness_aksnap(&f->h, &r, "demote", "golden-2026q3", NULL);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "no snapshot 'golden-2026q3' in the store");
	run_result_free(&r);
	assert_int_equal(emu_counter(f->h.emu, "PATCH snapshots.patch"), 0);

	/* weeks later: s1 never came back; a newer image climbs as usual */
	for (int d = 9; d <= 24; d++) {
		run_day(f, d, d == 14);
		expect_channels(f, s1, "");
	}
	name_of_day(f, 14, s2, sizeof(s2));
	assert_int_equal(entered(f, s1, "stable"), 0);
	expect_channels(f, s2, "canary,stable");

	/* promote by hand still may bring it back */
	harness_aksnap(&f->h, &r, "promote", s1, "--channel", "canary", NULL);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	expect_channels(f, s1, "canary");
}

/*
 * enabled = no: the paused pool is observed each run (history has it)
 * and nothing else: no snapshot PUT for it, no skip recorded; plan says
 * why; check lists it as PAUSED, not CRITICAL for having no snapshot.
 */
static void
test_ladder_paused_pool_is_observed_only(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	char as_of[32];

	emu_reset_counters(f->h.emu);
	run_day(f, 0, 0);
	run_day(f, 1, 0);
	/* one snapshot: the staging pool's; none of prod-batch */
	assert_int_equal(emu_counter(f->h.emu, "PUT snapshots.put"), 1);

	harness_aksnap(&f->h, &r, "history", "prod-batch", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "AKSUbuntu-2204gen2containerd-202610.14.0");
	run_result_free(&r);
	harness_aksnap(&f->h, &r, "--json", "list", "prod-batch", NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "\"snapshots\": []");
	run_result_free(&r);

	at(f, f->t0 + 2 * DAY, as_of, sizeof(as_of));
	harness_aksnap(&f->h, &r, "plan", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "paused: enabled = no");
	run_result_free(&r);
	harness_aksnap(&f->h, &r, "prune", "--dry-run", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "paused: enabled = no");
	run_result_free(&r);

	harness_aksnap(&f->h, &r, "check", "--as-of", as_of, NULL);
	harness_expect_exit(&r, 0);
	harness_expect_in(r.out, "AKSNAP OK - 2 pools (1 paused)");
	harness_expect_in(r.out, "PAUSED: prod-batch: enabled = no");
	if (strstr(r.out, "CRITICAL: prod-batch") != NULL)
		fail_msg("a paused pool is not critical:\n%s", r.out);
	run_result_free(&r);
}

/* Both forms in one section: exit 2 naming file:line and key. */
static void
test_ladder_both_forms_in_one_section_is_a_config_error(void **state)
{
	struct fx *f = *state;
	struct run_result r;
	char *cfg, want[4200];

	cfg = harness_config(f->h.dir, f->h.emu,
	    "\n[policy:mixed]\n"
	    "channel = stable\n"
	    "channels = canary:1d stable:7d\n"
	    "\n[pool:a]\nresource_group = rg-staging\n"
	    "cluster = aks-staging\nnodepool = system\npolicy = mixed\n");
	assert_non_null(cfg);
	harness_aksnapl(&r, cfg, "config", "check", NULL);
	harness_expect_exit(&r, 2);
	/* harness_config's [aksnap] ends on line 12; a blank, the policy */
	snprintf(want, sizeof(want),
	    "%s:16: [policy:mixed] channels: set with channel (line 15)", cfg);
	harness_expect_in(r.err, want);
	run_result_free(&r);
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_ladder_two_rungs_over_weeks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ladder_demote_falls_back_and_never_returns, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ladder_paused_pool_is_observed_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ladder_both_forms_in_one_section_is_a_config_error, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
