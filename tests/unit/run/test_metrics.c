/*
 * test_metrics.c -- the Prometheus textfile (job/run/metrics.c) rendered
 * from a store filled through db/'s own API and a configuration read by
 * config/, checked line by line: every family's HELP and TYPE, each
 * pool's series whatever it has recorded, one baseline series per
 * channel of a ladder (not only the last rung's), the label escaping,
 * and metrics_write's atomic, world-readable file.  `promtool check
 * metrics` reads the same text where it is installed (CI installs it;
 * under CI its absence fails).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "db/db_check.h"
#include "db/db_ladder.h"
#include "db/db_metrics.h"
#include "job/base/util.h"
#include "job/run/metrics.h"

#define DAY 86400
#define T0 1793415600 /* 2026-10-31T03:00:00Z */

/* Two pools: one on a two-rung ladder, one on the default policy; a
 * third is configured but never recorded in the store. */
static const char *const INI =
    "[aksnap]\n"
    "database = %s/aksnap.db\n"
    "subscription = 00000000-0000-0000-0000-000000000001\n"
    "auth = client-secret\n"
    "tenant = 00000000-0000-0000-0000-0000000000aa\n"
    "client_id = 00000000-0000-0000-0000-0000000000bb\n"
    "client_secret_file = %s/secret\n"
    "metrics_file = %s/aksnap.prom\n"
    "\n[policy:ladder]\n"
    "channels = canary:1d stable:7d\n"
    "\n[pool:laddered]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = system\npolicy = ladder\n"
    "\n[pool:plain]\nresource_group = rg-1\ncluster = aks-1\n"
    "nodepool = user\n"
    "\n[pool:unseen]\nresource_group = rg-2\ncluster = aks-2\n"
    "nodepool = system\n";

struct fx {
	char dir[64];
	char path[128];
	struct db *db;
	struct config *cfg;
	char *text; /* the last render */
};

static void
write_file(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(content, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[160], *ini = NULL;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_metrics.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/secret", f->dir);
	write_file(path, "not-a-secret");
	if (chmod(path, 0600) != 0)
		return -1;
	if (asprintf(&ini, INI, f->dir, f->dir, f->dir) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/aksnap.ini", f->dir);
	write_file(path, ini);
	free(ini);
	if (config_load(path, &f->cfg) != 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/aksnap.db", f->dir);
	if (db_open(f->path, &f->db))
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[160];

	db_close(f->db);
	config_free(f->cfg);
	free(f->text);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const struct pool_conf *
pool_conf(struct fx *f, const char *key)
{
	for (size_t i = 0; i < f->cfg->npools; i++)
		if (strcmp(f->cfg->pools[i].key, key) == 0)
			return &f->cfg->pools[i];
	fail_msg("no pool %s in the configuration", key);
	return NULL;
}

static int64_t
pool_id(struct fx *f, const char *key)
{
	int64_t id = 0;

	assert_int_equal(db_pool_sync(f->db, pool_conf(f, key), &id), 0);
	return id;
}

static void
versions(struct db_versions *v, const char *image)
{
	memset(v, 0, sizeof(*v));
	util_strlcpy(
	    v->node_image_version, image, sizeof(v->node_image_version));
	util_strlcpy(
	    v->kubernetes_version, "1.30.5", sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, "Linux", sizeof(v->os_type));
	util_strlcpy(v->os_sku, "Ubuntu", sizeof(v->os_sku));
	util_strlcpy(v->vm_size, "Standard_D4s_v5", sizeof(v->vm_size));
}

/* An active snapshot of ${pool} taken at ${at} with image ${image}. */
static int64_t
snapshot(
    struct fx *f, int64_t pool, const char *name, const char *image, time_t at)
{
	struct db_versions v;
	char arm[256];
	int64_t id = 0;

	versions(&v, image);
	snprintf(arm, sizeof(arm),
	    "/subscriptions/00000000-0000-0000-0000-000000000001/"
	    "resourceGroups/rg-1/providers/Microsoft.ContainerService/"
	    "snapshots/%s",
	    name);
	assert_int_equal(
	    db_snapshot_intent(f->db, pool, name, arm, at, at, &id), 0);
	assert_int_equal(db_snapshot_set_active(f->db, id, at, &v), 0);
	return id;
}

static void
observe(struct fx *f, int64_t run, int64_t pool, const char *image, time_t at)
{
	struct db_versions v;

	versions(&v, image);
	assert_int_equal(
	    db_observation_add(f->db, run, pool, at, &v, "Succeeded"), 0);
}

/* A finished run over every pool, as run.c records it. */
static int64_t
full_run(struct fx *f, time_t as_of, int exit_code, int64_t duration_ms)
{
	struct db_run r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_run_start(f->db, as_of, as_of, "run", &r.id), 0);
	r.finished_at = as_of + 1;
	r.exit_code = exit_code;
	assert_int_equal(db_run_finish(f->db, &r), 0);
	assert_int_equal(db_full_run_add(f->db, r.id, duration_ms), 0);
	return r.id;
}

static const char *
render(struct fx *f)
{
	size_t len = 0;
	FILE *out;

	free(f->text);
	f->text = NULL;
	out = open_memstream(&f->text, &len);
	assert_non_null(out);
	assert_int_equal(metrics_render(out, f->cfg, f->db), 0);
	assert_int_equal(fclose(out), 0);
	return f->text;
}

/* ${text} holds the line ${line}. */
static void
expect_line(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("no line %s in\n%s", line, text);
}

/* A run of ${mode} started at ${started} as of ${as_of}, finished unless
 * ${open}, over some pools. */
static int64_t
partial_run(
    struct fx *f, const char *mode, time_t started, time_t as_of, int open)
{
	struct db_run r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(db_run_start(f->db, started, as_of, mode, &r.id), 0);
	if (!open) {
		r.finished_at = started + 1;
		assert_int_equal(db_run_finish(f->db, &r), 0);
	}
	return r.id;
}

/*
 * The last full run and each mode's last partial one are the newest
 * finished by start, whatever their ids and as_of say and however many
 * runs came before: a clock set back makes a later run start earlier,
 * a run still going (or killed) is not one.
 */
static void
test_metrics_last_runs_by_start(void **state)
{
	struct fx *f = *state;
	int64_t back;
	const char *got;

	for (int i = 0; i < 300; i++)
		(void)full_run(f, T0 + i * 3600, 0, 1000 + i);
	(void)partial_run(f, "run", T0 + 10 * 3600 + 5, T0 + 7, 0);
	(void)partial_run(f, "snapshot", T0 + 20 * 3600, T0 + 8, 0);
	(void)partial_run(f, "snapshot", T0 + 400 * 3600, T0 + 9, 1);
	(void)partial_run(f, "prune", T0 + 30 * 3600, T0 + 10, 0);
	/* a full run with a newer id but an older start (clock set back) */
	back = full_run(f, T0 + 5 * 3600 + 1, 0, 77);
	assert_true(back > 300);
	/* an unfinished run of mode run, newest by start */
	(void)partial_run(f, "run", T0 + 500 * 3600, T0 + 11, 1);
	got = render(f);
	expect_line(got, "aksnap_last_run_timestamp_seconds 1794492000\n");
	expect_line(got, "aksnap_run_duration_seconds 1.299\n");
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"run\"} "
	    "1793415607\n");
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"snapshot\"} "
	    "1793415608\n");
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"prune\"} "
	    "1793415610\n");

	/* full runs as run.c writes them (full_runs before the finish)
	 * are not partial; a run --pool after them is (0028 keeps each
	 * mode's one row: what db check compares with the runs) */
	for (int i = 0; i < 3; i++) {
		struct db_run r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(db_run_start(f->db, T0 + (600 + i) * 3600,
		                     T0 + (600 + i) * 3600, "run", &r.id),
		    0);
		assert_int_equal(db_full_run_add(f->db, r.id, 5), 0);
		r.finished_at = T0 + (600 + i) * 3600 + 1;
		assert_int_equal(db_run_finish(f->db, &r), 0);
	}
	got = render(f);
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"run\"} "
	    "1793415607\n");
	(void)partial_run(f, "run", T0 + 700 * 3600, T0 + 12, 0);
	got = render(f);
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"run\"} "
	    "1793415612\n");
	/* two full runs that both finish before either adds its full_runs
	 * row: the row no longer knows the one before (a walk finds it) */
	{
		struct db_run a, b;

		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		assert_int_equal(db_run_start(f->db, T0 + 800 * 3600,
		                     T0 + 800 * 3600, "run", &a.id),
		    0);
		assert_int_equal(db_run_start(f->db, T0 + 801 * 3600,
		                     T0 + 801 * 3600, "run", &b.id),
		    0);
		a.finished_at = T0 + 802 * 3600;
		b.finished_at = T0 + 802 * 3600;
		assert_int_equal(db_run_finish(f->db, &a), 0);
		assert_int_equal(db_run_finish(f->db, &b), 0);
		assert_int_equal(db_full_run_add(f->db, a.id, 5), 0);
		assert_int_equal(db_full_run_add(f->db, b.id, 5), 0);
	}
	got = render(f);
	expect_line(got,
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"run\"} "
	    "1793415612\n");
	{
		struct db_check_report cr;

		assert_int_equal(db_check_full(f->db, &cr), 0);
		assert_int_equal(cr.n, 0);
		db_check_report_free(&cr);
	}
}

/* Every line of ${text} that starts with ${prefix}, in order, joined. */
static const char *
lines_with(const char *text, const char *prefix)
{
	static char buf[8192];
	size_t n = strlen(prefix), o = 0;
	const char *p = text;

	buf[0] = '\0';
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		if (strncmp(p, prefix, n) == 0) {
			assert_true(o + len < sizeof(buf));
			memcpy(buf + o, p, len);
			o += len;
			buf[o] = '\0';
		}
		p += len;
	}
	return buf;
}

/*
 * The ladder's bug: only the last rung's holder was exported.  A is
 * taken, enters canary, then stable; B, taken a week later, replaces it
 * in canary.  Both channels have a series, each with its holder's time;
 * the plain pool's one channel still has its own.
 */
static void
test_metrics_ladder_exports_every_channel(void **state)
{
	struct fx *f = *state;
	int64_t lad = pool_id(f, "laddered"), plain = pool_id(f, "plain");
	int64_t a, b, p;
	char want[1024];

	a = snapshot(f, lad, "aksnap-aks-1-system-a", "img-a", T0);
	b = snapshot(f, lad, "aksnap-aks-1-system-b", "img-b", T0 + 7 * DAY);
	p = snapshot(f, plain, "aksnap-aks-1-user-a", "img-a", T0 + DAY);
	assert_int_equal(db_ladder_enter(f->db, a, "canary", 0, T0 + DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, a, "stable", 1, T0 + 8 * DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, b, "canary", 0, T0 + 8 * DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, p, "stable", 0, T0 + 8 * DAY), 0);

	render(f);
	snprintf(want, sizeof(want),
	    "aksnap_baseline_timestamp_seconds{pool=\"laddered\","
	    "channel=\"canary\"} %lld\n"
	    "aksnap_baseline_timestamp_seconds{pool=\"laddered\","
	    "channel=\"stable\"} %lld\n"
	    "aksnap_baseline_timestamp_seconds{pool=\"plain\","
	    "channel=\"stable\"} %lld\n",
	    (long long)(T0 + 7 * DAY), (long long)T0, (long long)(T0 + DAY));
	assert_string_equal(
	    lines_with(f->text, "aksnap_baseline_timestamp_seconds{"), want);
}

/* A channel whose holder is no longer active has no series. */
static void
test_metrics_ladder_skips_a_channel_without_active_holder(void **state)
{
	struct fx *f = *state;
	int64_t lad = pool_id(f, "laddered"), a;
	char want[256];

	a = snapshot(f, lad, "aksnap-aks-1-system-a", "img-a", T0);
	assert_int_equal(db_ladder_enter(f->db, a, "canary", 0, T0 + DAY), 0);
	render(f);
	snprintf(want, sizeof(want),
	    "aksnap_baseline_timestamp_seconds{pool=\"laddered\","
	    "channel=\"canary\"} %lld\n",
	    (long long)T0);
	assert_string_equal(
	    lines_with(f->text, "aksnap_baseline_timestamp_seconds{"), want);
	assert_int_equal(db_snapshot_set_state(f->db, a, "deleted", NULL), 0);
	render(f);
	assert_string_equal(
	    lines_with(f->text, "aksnap_baseline_timestamp_seconds{"), "");
}

/*
 * The whole text for a known store, line by line: a full run that
 * failed, the plain pool observed and snapshotted and in stable, the
 * laddered pool failed in that run, the unseen pool never recorded.
 */
static void
test_metrics_render_line_by_line(void **state)
{
	struct fx *f = *state;
	int64_t lad = pool_id(f, "laddered"), plain = pool_id(f, "plain");
	int64_t run, p;
	char want[8192];
	const char *got;
	char *save = NULL, *gl, *wl, *gcopy, *wcopy;
	int line = 0;

	run = full_run(f, T0 + DAY, 1, 12345);
	observe(f, run, plain, "AKSUbuntu-2204gen2containerd-202610.01.0",
	    T0 + DAY);
	observe(
	    f, run, lad, "AKSUbuntu-2204gen2containerd-202610.01.0", T0 + DAY);
	p = snapshot(f, plain, "aksnap-aks-1-user-a",
	    "AKSUbuntu-2204gen2containerd-202610.01.0", T0);
	assert_int_equal(db_ladder_enter(f->db, p, "stable", 0, T0 + DAY), 0);
	assert_int_equal(db_pool_outcome_set(f->db, lad, run, T0 + DAY, 1), 0);
	assert_int_equal(
	    db_pool_outcome_set(f->db, plain, run, T0 + DAY, 0), 0);

	got = render(f);
	snprintf(want, sizeof(want),
	    "# HELP aksnap_last_run_timestamp_seconds When the last run over "
	    "every configured pool started (as_of).\n"
	    "# TYPE aksnap_last_run_timestamp_seconds gauge\n"
	    "aksnap_last_run_timestamp_seconds %lld\n"
	    "# HELP aksnap_run_duration_seconds How long the last run over "
	    "every configured pool took.\n"
	    "# TYPE aksnap_run_duration_seconds gauge\n"
	    "aksnap_run_duration_seconds 12.345\n"
	    "# HELP aksnap_last_partial_run_timestamp_seconds When a command "
	    "over some pools (run --pool, snapshot, prune) last ran (as_of; "
	    "0: never).\n"
	    "# TYPE aksnap_last_partial_run_timestamp_seconds gauge\n"
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"run\"} 0\n"
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"snapshot\"} 0\n"
	    "aksnap_last_partial_run_timestamp_seconds{mode=\"prune\"} 0\n"
	    "# HELP aksnap_run_failures_total Runs that ended with at least "
	    "one failed pool.\n"
	    "# TYPE aksnap_run_failures_total counter\n"
	    "aksnap_run_failures_total 1\n"
	    "# HELP aksnap_last_success_timestamp_seconds Newest snapshot "
	    "taken or slot skipped, per pool.\n"
	    "# TYPE aksnap_last_success_timestamp_seconds gauge\n"
	    "aksnap_last_success_timestamp_seconds{pool=\"laddered\"} 0\n"
	    "aksnap_last_success_timestamp_seconds{pool=\"plain\"} %lld\n"
	    "aksnap_last_success_timestamp_seconds{pool=\"unseen\"} 0\n"
	    "# HELP aksnap_pool_failed 1 when the pool failed in the last "
	    "run, snapshot or prune that acted on it.\n"
	    "# TYPE aksnap_pool_failed gauge\n"
	    "aksnap_pool_failed{pool=\"laddered\"} 1\n"
	    "aksnap_pool_failed{pool=\"plain\"} 0\n"
	    "aksnap_pool_failed{pool=\"unseen\"} 0\n"
	    "# HELP aksnap_snapshots Snapshots in the store, per pool and "
	    "state.\n"
	    "# TYPE aksnap_snapshots gauge\n"
	    "%s%s%s"
	    "# HELP aksnap_pool_info Versions the pool ran when last "
	    "observed.\n"
	    "# TYPE aksnap_pool_info gauge\n"
	    "aksnap_pool_info{pool=\"laddered\",node_image_version=\""
	    "AKSUbuntu-2204gen2containerd-202610.01.0\",kubernetes_version=\""
	    "1.30.5\",os_sku=\"Ubuntu\",vm_size=\"Standard_D4s_v5\"} 1\n"
	    "aksnap_pool_info{pool=\"plain\",node_image_version=\""
	    "AKSUbuntu-2204gen2containerd-202610.01.0\",kubernetes_version=\""
	    "1.30.5\",os_sku=\"Ubuntu\",vm_size=\"Standard_D4s_v5\"} 1\n"
	    "# HELP aksnap_baseline_timestamp_seconds When the snapshot that "
	    "holds each channel of the pool's ladder was taken.\n"
	    "# TYPE aksnap_baseline_timestamp_seconds gauge\n"
	    "aksnap_baseline_timestamp_seconds{pool=\"plain\","
	    "channel=\"stable\"} %lld\n"
	    "# HELP aksnap_pool_drift 1 for the pool's drift verdict (as "
	    "'aksnap drift' gives it).\n"
	    "# TYPE aksnap_pool_drift gauge\n"
	    "aksnap_pool_drift{pool=\"laddered\",verdict=\"no-baseline\"} 1\n"
	    "aksnap_pool_drift{pool=\"plain\",verdict=\"in-baseline\"} 1\n"
	    "aksnap_pool_drift{pool=\"unseen\",verdict=\"unknown\"} 1\n",
	    (long long)(T0 + DAY), (long long)T0,
	    "aksnap_snapshots{pool=\"laddered\",state=\"creating\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"active\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"deleting\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"deleted\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"failed\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"missing\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"unconfirmed\"} 0\n"
	    "aksnap_snapshots{pool=\"laddered\",state=\"conflict\"} 0\n",
	    "aksnap_snapshots{pool=\"plain\",state=\"creating\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"active\"} 1\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"deleting\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"deleted\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"failed\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"missing\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"unconfirmed\"} 0\n"
	    "aksnap_snapshots{pool=\"plain\",state=\"conflict\"} 0\n",
	    "aksnap_snapshots{pool=\"unseen\",state=\"creating\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"active\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"deleting\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"deleted\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"failed\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"missing\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"unconfirmed\"} 0\n"
	    "aksnap_snapshots{pool=\"unseen\",state=\"conflict\"} 0\n",
	    (long long)T0);

	/* Line by line, so that a failure names the first line that
	 * differs. */
	gcopy = strdup(got);
	wcopy = strdup(want);
	assert_non_null(gcopy);
	assert_non_null(wcopy);
	gl = strtok_r(gcopy, "\n", &save);
	for (wl = wcopy; wl != NULL && *wl != '\0'; line++) {
		char *nl = strchr(wl, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (gl == NULL)
			fail_msg("line %d: missing, want: %s", line + 1, wl);
		if (strcmp(gl, wl) != 0)
			fail_msg(
			    "line %d:\n got: %s\nwant: %s", line + 1, gl, wl);
		gl = strtok_r(NULL, "\n", &save);
		wl = nl != NULL ? nl + 1 : NULL;
	}
	if (gl != NULL)
		fail_msg("line %d: unexpected: %s", line + 1, gl);
	free(gcopy);
	free(wcopy);
}

/* promtool check metrics over a rendered store (CI: must be installed). */
static void
test_metrics_promtool_accepts_the_text(void **state)
{
	struct fx *f = *state;
	int64_t lad = pool_id(f, "laddered"), plain = pool_id(f, "plain");
	int64_t run, a, b;
	char path[160], cmd[512];
	const char *ci = getenv("CI");
	int rc;

	run = full_run(f, T0 + 8 * DAY, 0, 2500);
	observe(f, run, lad, "img-b", T0 + 8 * DAY);
	observe(f, run, plain, "img-a", T0 + 8 * DAY);
	a = snapshot(f, lad, "aksnap-aks-1-system-a", "img-a", T0);
	b = snapshot(f, lad, "aksnap-aks-1-system-b", "img-b", T0 + 7 * DAY);
	assert_int_equal(db_ladder_enter(f->db, a, "canary", 0, T0 + DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, a, "stable", 1, T0 + 8 * DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, b, "canary", 0, T0 + 8 * DAY), 0);
	assert_int_equal(metrics_write(f->cfg, f->db), 0);

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		if (ci != NULL && ci[0] != '\0')
			fail_msg("promtool is not installed (CI installs "
			         "prometheus: .ci/run)");
		printf("promtool check metrics: not run, promtool not "
		       "installed\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/aksnap.prom", f->dir);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
}

/*
 * metrics_write: the file appears whole (no temporary left beside it),
 * world-readable for node_exporter, with what metrics_render says.
 */
static void
test_metrics_write_is_atomic_and_readable(void **state)
{
	struct fx *f = *state;
	char path[160], buf[16384];
	struct stat st;
	struct dirent *de;
	DIR *d;
	FILE *in;
	size_t n;
	int files = 0;

	full_run(f, T0, 0, 1000);
	assert_int_equal(metrics_write(f->cfg, f->db), 0);
	snprintf(path, sizeof(path), "%s/aksnap.prom", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	in = fopen(path, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf) - 1, in);
	buf[n] = '\0';
	fclose(in);
	assert_string_equal(buf, render(f));
	d = opendir(f->dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "aksnap.prom", 11) == 0)
			files++;
	closedir(d);
	assert_int_equal(files, 1);
}

/* The file metrics_set_write wrote, whole. */
static char *
read_prom(struct fx *f)
{
	char path[160], *buf;
	FILE *in;
	size_t n;

	snprintf(path, sizeof(path), "%s/aksnap.prom", f->dir);
	in = fopen(path, "r");
	assert_non_null(in);
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, in);
	buf[n] = '\0';
	fclose(in);
	return buf;
}

/* A store with a bit of everything: a failed full run, observations,
 * holders of both rungs of the ladder and of the plain pool's channel,
 * the outcomes; the unseen pool recorded, nothing else. */
static void
fill(struct fx *f, int64_t lad, int64_t plain)
{
	int64_t run, a, p;

	run = full_run(f, T0 + DAY, 1, 12345);
	observe(f, run, plain, "img-b", T0 + DAY);
	observe(f, run, lad, "img-a", T0 + DAY);
	a = snapshot(f, lad, "aksnap-aks-1-system-a", "img-a", T0);
	p = snapshot(f, plain, "aksnap-aks-1-user-a", "img-b", T0);
	assert_int_equal(db_ladder_enter(f->db, a, "canary", 0, T0 + DAY), 0);
	assert_int_equal(
	    db_ladder_enter(f->db, a, "stable", 1, T0 + 2 * DAY), 0);
	assert_int_equal(db_ladder_enter(f->db, p, "stable", 0, T0 + DAY), 0);
	assert_int_equal(db_pool_outcome_set(f->db, lad, run, T0 + DAY, 1), 0);
	assert_int_equal(
	    db_pool_outcome_set(f->db, plain, run, T0 + DAY, 0), 0);
}

/*
 * A run's set: figures read early (metrics_set_read) and outcomes given
 * (metrics_set_outcome) write exactly metrics_render's text, whether the
 * rest is read pool by pool (every outcome given) or from the whole store
 * (one not given); a pool read under another id is read again.
 */
static void
test_metrics_set_read_early_writes_the_same_text(void **state)
{
	struct fx *f = *state;
	int64_t lad = pool_id(f, "laddered"), plain = pool_id(f, "plain");
	int64_t unseen = pool_id(f, "unseen");
	struct metrics_set *ms;
	char *got;

	fill(f, lad, plain);
	render(f);
	for (int whole = 0; whole < 2; whole++) {
		ms = metrics_set_new(f->cfg);
		assert_non_null(ms);
		assert_int_equal(
		    metrics_set_read(ms, f->db, pool_conf(f, "laddered"), lad),
		    0);
		/* read under a wrong id, then told the right one */
		assert_int_equal(
		    metrics_set_read(ms, f->db, pool_conf(f, "plain"), unseen),
		    0);
		metrics_set_outcome(ms, pool_conf(f, "plain"), plain, 0);
		metrics_set_outcome(ms, pool_conf(f, "laddered"), lad, 1);
		if (!whole)
			metrics_set_outcome(
			    ms, pool_conf(f, "unseen"), unseen, 0);
		assert_int_equal(metrics_set_write(ms, f->db), 0);
		metrics_set_free(ms);
		got = read_prom(f);
		assert_string_equal(got, f->text);
		free(got);
	}
	metrics_set_free(NULL);
}

/* A metrics_file in a directory that does not exist: -1, nothing left. */
static void
test_metrics_write_fails_cleanly(void **state)
{
	struct fx *f = *state;

	snprintf(f->cfg->metrics_file, sizeof(f->cfg->metrics_file),
	    "%s/no/such/dir/aksnap.prom", f->dir);
	assert_int_equal(metrics_write(f->cfg, f->db), -1);
}

static void
test_metrics_escape_label_values(void **state)
{
	char out[64];

	(void)state;
	metrics_escape("a\"b\\c\nd", out, sizeof(out));
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	/* Truncated, never with a dangling backslash. */
	metrics_escape("\"\"\"\"", out, 6);
	assert_string_equal(out, "\\\"\\\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_metrics_ladder_exports_every_channel, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_ladder_skips_a_channel_without_active_holder,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_render_line_by_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_promtool_accepts_the_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_write_is_atomic_and_readable, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_write_fails_cleanly, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_set_read_early_writes_the_same_text, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_last_runs_by_start, setup, teardown),
	    cmocka_unit_test(test_metrics_escape_label_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
