/*
 * benchtool.c -- the helpers `make bench` (tests/bench/bench.sh) needs.
 *
 * Not part of aksnap and not built by the Makefile: bench.sh compiles it
 * against build/libaksnap.a.  Eight subcommands:
 *
 *   benchtool exec OUT PROG ARGS...
 *       Run PROG (stdout and stderr to /dev/null), wait for it with wait4()
 *       and write "wall_s user_s sys_s maxrss_kb exit" into OUT: the
 *       numbers of that process alone, from the kernel, with no dependency
 *       on /usr/bin/time.
 *   benchtool genstore DB POOLS OBS SNAPS
 *       Fill DB (already migrated by `aksnap db migrate`) with POOLS pools
 *       named p1..pPOOLS, OBS observations and SNAPS snapshots of each,
 *       as hourly runs would have left them: observations interleaved by
 *       run (so one pool's rows are spread over the whole file, as in
 *       life), the newest snapshots active, older ones deleted.
 *   benchtool year CONFIG DAYS
 *       A simulated year: DAYS days of hourly runs over CONFIG's pools,
 *       written through the run's own db_* functions (cmd_year below).
 *   benchtool widen SRC DST CLUSTERS FACTOR
 *       DST gets SRC's year FACTOR times over (cmd_widen below).
 *   benchtool tables DB
 *       Rows and bytes of each table with its indexes (dbstat).
 *   benchtool fleet DB CLUSTERS OUT
 *       An armemu fleet file agreeing with the year's store.
 *   benchtool present DB CLUSTERS
 *       Cut DB (a copy of the year's store) to its present: the first
 *       CLUSTERS clusters' pools, their live snapshots and channel
 *       holders and last observations, nothing of their past (CLUSTERS
 *       1000000: every stored pool's present).
 *   benchtool plans DB
 *       EXPLAIN QUERY PLAN of the store's hot queries (db_query_plan).
 *   benchtool retention CONFIG POOL N ROUNDS
 *       Time retention_plan() over N hourly snapshots of POOL's policy,
 *       ROUNDS times; print the median and the fastest, in ms, and how
 *       many are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "db/db.h"
#include "db/db_ladder.h"
#include "db/db_metrics.h"
#include "db/migrations.h"
#include "job/base/util.h"
#include "job/rules/plan.h"
#include "job/rules/promotion.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: benchtool exec OUT PROG ARGS...\n"
	    "       benchtool genstore DB POOLS OBS SNAPS\n"
	    "       benchtool year CONFIG DAYS\n"
	    "       benchtool widen SRC DST CLUSTERS FACTOR\n"
	    "       benchtool tables DB\n"
	    "       benchtool fleet DB CLUSTERS OUT\n"
	    "       benchtool present DB CLUSTERS\n"
	    "       benchtool plans DB\n"
	    "       benchtool retention CONFIG POOL N ROUNDS\n");
	return 2;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmd_exec(int argc, char **argv)
{
	struct rusage ru;
	double t0, wall;
	int status = 0, code;
	pid_t pid;
	FILE *f;

	if (argc < 2)
		return usage();
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	wall = now_s() - t0;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	f = fopen(argv[0], "w");
	if (f == NULL) {
		perror(argv[0]);
		return 1;
	}
	fprintf(f, "%.3f %.3f %.3f %ld %d\n", wall,
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	    ru.ru_maxrss, code);
	fclose(f);
	return 0;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "benchtool: %s\n  in: %.200s\n", err, sql);
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Run ${sql} (sqlite3_mprintf's, freed here; NULL: out of memory) on the
 * database file ${path}.  0, or 1 (said on stderr). */
static int
exec_on(const char *path, char *sql)
{
	sqlite3 *db = NULL;
	int rc = 1;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fprintf(
		    stderr, "benchtool: %s: %s\n", path, sqlite3_errmsg(db));
	else if (sql != NULL && exec_sql(db, sql) == 0)
		rc = 0;
	sqlite3_free(sql);
	sqlite3_close(db);
	return rc;
}

/*
 * The generated store.  Times: run r (1..OBS) at BASE + r hours; snapshot
 * k (1..SNAPS) of a pool taken by run r = k * OBS / SNAPS.
 */
#define BASE_TIME 1767225600LL /* 2026-01-01T00:00:00Z */
#define SUB "00000000-0000-0000-0000-000000000001"

static int
cmd_genstore(int argc, char **argv)
{
	long long pools, obs, snaps;

	if (argc != 4 || util_parse_int(argv[1], 1, 1000000, &pools) ||
	    util_parse_int(argv[2], 1, 100000, &obs) ||
	    util_parse_int(argv[3], 1, 100000, &snaps))
		return usage();
	return exec_on(argv[0],
	    sqlite3_mprintf(
	        "PRAGMA journal_mode = WAL;"
	        "PRAGMA synchronous = OFF;"
	        "PRAGMA foreign_keys = OFF;"
	        "BEGIN;"
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
	        "n "
	        "  WHERE i < %lld) "
	        "INSERT INTO pools (id, key, subscription, resource_group, "
	        "  cluster, nodepool, arm_id, location, created_at, "
	        "updated_at) "
	        "SELECT i, 'p' || i, '" SUB "', 'rg-' || ((i - 1) / 100 + 1), "
	        "  'aks-' || ((i - 1) / 10 + 1), 'pool' || ((i - 1) %% 10), "
	        "  '/subscriptions/" SUB "/resourceGroups/rg-' || "
	        "  ((i - 1) / 100 + 1) || "
	        "'/providers/Microsoft.ContainerService/"
	        "managedClusters/aks-' || ((i - 1) / 10 + 1) || "
	        "'/agentPools/pool' "
	        "  || ((i - 1) %% 10), 'westeurope', %lld, %lld FROM n;"
	        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM "
	        "n "
	        "  WHERE i < %lld) "
	        "INSERT INTO runs (id, started_at, finished_at, as_of, mode, "
	        "  exit_code, observed) "
	        "SELECT i, %lld + i * 3600, %lld + i * 3600 + 30, %lld + i * "
	        "3600, "
	        "  'run', 0, %lld FROM n;"
	        /* Intervals (migration 0012): a row a pool and node image
	         * (a new one every 168 runs), first and last seen; by week,
	         * then pool, as runs write them. */
	        "INSERT INTO observations (pool_id, run_id, observed_at, "
	        "  last_run_id, last_seen, seen, "
	        "  node_image_version, kubernetes_version, os_type, os_sku, "
	        "  vm_size, enable_fips, provisioning_state) "
	        "SELECT p.id, w.first, w.t0, w.last, w.t1, w.n, "
	        "  'AKSUbuntu-2204gen2containerd-2026' || "
	        "  printf('%%02d.%%02d', w.g %% 12 + 1, w.g %% 28 + 1)"
	        "  || '.0', '1.30.5', 'Linux', 'Ubuntu', 'Standard_D4s_v5', 0, "
	        "  'Succeeded' FROM (SELECT id / 168 AS g, min(id) AS first, "
	        "  max(id) AS last, min(as_of) AS t0, max(as_of) AS t1, "
	        "  count(*) AS n FROM runs GROUP BY id / 168) w, pools p "
	        "ORDER BY w.g, p.id;"
	        "WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM "
	        "k "
	        "  WHERE j < %lld) "
	        "INSERT INTO snapshots (pool_id, name, arm_id, slot, "
	        "created_at, "
	        "  node_image_version, kubernetes_version, os_type, os_sku, "
	        "  vm_size, enable_fips, state, updated_at) "
	        "SELECT p.id, 'aksnap-' || p.cluster || '-' || p.nodepool || "
	        "'-' "
	        "  || strftime('%%Y%%m%%dT%%H%%MZ', t, 'unixepoch'), "
	        "  '/subscriptions/" SUB
	        "/resourceGroups/' || p.resource_group || "
	        "  '/providers/Microsoft.ContainerService/snapshots/aksnap-' "
	        "|| "
	        "  p.cluster || '-' || p.nodepool || '-' || "
	        "  strftime('%%Y%%m%%dT%%H%%MZ', t, 'unixepoch'), t, t, "
	        "  'AKSUbuntu-2204gen2containerd-202611.01.0', '1.30.5', "
	        "'Linux', "
	        "  'Ubuntu', 'Standard_D4s_v5', 0, "
	        "  CASE WHEN j > %lld - 15 THEN 'active' ELSE 'deleted' END, t "
	        "FROM (SELECT j, %lld + (j * %lld / %lld) * 3600 AS t FROM k), "
	        "  pools p ORDER BY j, p.id;"
	        /* No ANALYZE: aksnap never runs it, so neither does its store.
	         */
	        "COMMIT;",
	        pools, BASE_TIME, BASE_TIME, obs, BASE_TIME, BASE_TIME,
	        BASE_TIME, pools, snaps, snaps, BASE_TIME, obs, snaps));
}

/*
 * benchtool year CONFIG DAYS: a simulated year (DAYS days) of hourly runs
 * over every pool of CONFIG, written into CONFIG's database through the
 * same db_* functions `aksnap run` uses (db_open, so the store has the
 * schema of this build and whatever it records -- observations as
 * intervals, decisions as run ranges -- is what the run would record).
 *
 * Simulated life, deterministic (no random numbers: pool i's events are
 * offsets of i):
 *   - one runs row (and full_runs row) every hour, as the timer would;
 *   - the pool's work happens at its schedule's slot (the policy's
 *     `schedule`, e.g. daily at 02:00): observe, take the slot's snapshot
 *     (snapshot_when = always) or record a skip (changed, nothing
 *     changed), promote along the policy's ladder (promotion_plan),
 *     retention over its active snapshots (retention_plan, keep_* as
 *     configured; deletions recorded deleting, then deleted);
 *   - a new node image every week per pool (on day (i mod 7) of the
 *     week), Kubernetes upgrades on days 60, 170 and 280 (staggered by
 *     i mod 14 days), one PUT in 500 failing (recorded failed, retried
 *     and taken by the next hour's run).
 * The hours in between change nothing: they would only extend
 * observation and decision ranges (no row: tests/unit/test_db.c
 * test_db_unchanged_run_adds_no_rows), so they are written as their runs
 * rows alone.  Prints the simulated runs and the rows written.
 */

#define YEAR_SUB "00000000-0000-0000-0000-000000000001"
/*
 * The simulated days end at 2027-01-01T00:00:00Z whatever their number, so
 * a shorter store (BENCH_YEAR_DAYS=30: the bench's "age" section) ends on
 * the year's last day: its last month is the year's, with less before it.
 */
#define YEAR_END 1798761600LL
/*
 * Promotion and retention are planned as of the end of the slot's hour:
 * what the hourly runs after the slot would do (a soak or a keep_within
 * that ends at 02:00:40 is acted on at 03:00) is done at the slot's run,
 * so the hours in between are truly unchanged (year_unchanged checks).
 */
#define YEAR_LATE 3599

struct year_pool {
	const struct pool_conf *pc;
	int64_t id;
	struct schedule sched;
	time_t next; /* its next slot */
	int image, k8s; /* generation counters */
};

static void
year_versions(const struct year_pool *yp, struct db_versions *v)
{
	static const char *const k8s[] = {
	    "1.31.7", "1.32.4", "1.33.2", "1.34.1"};

	memset(v, 0, sizeof(*v));
	snprintf(v->node_image_version, sizeof(v->node_image_version),
	    "AKSUbuntu-2204gen2containerd-2026%02d.%02d.%d",
	    yp->image / 4 % 12 + 1, yp->image % 4 * 7 + 1, yp->image % 3);
	util_strlcpy(v->kubernetes_version, k8s[yp->k8s % 4],
	    sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, "Linux", sizeof(v->os_type));
	util_strlcpy(v->os_sku, "Ubuntu", sizeof(v->os_sku));
	util_strlcpy(v->vm_size, "Standard_D4s_v5", sizeof(v->vm_size));
}

static int
year_decide(struct db *db, int64_t run, const struct year_pool *yp,
    int64_t snap, time_t at, time_t slot, const char *action,
    const char *reasons, const char *fp)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = run;
	d.pool_id = yp->id;
	d.snapshot_id = snap;
	d.at = at;
	d.slot = slot;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, reasons, sizeof(d.reasons));
	if (fp != NULL)
		util_strlcpy(d.fingerprint, fp, sizeof(d.fingerprint));
	return db_decision_add(db, &d);
}

/* Take the slot's snapshot (or skip it); a PUT in 500 fails first. */
static int
year_take(struct db *db, const struct config *cfg, int64_t run,
    struct year_pool *yp, time_t at, time_t slot, long long nth,
    const struct db_versions *v, int *failed)
{
	struct db_snapshot newest;
	char name[64], arm_id[512], slot_text[32], why[256];
	int64_t snap = 0;
	int have;

	util_format_time(slot, slot_text, sizeof(slot_text));
	have = db_snapshot_newest_active(db, yp->id, &newest);
	if (have < 0)
		return -1;
	if (yp->pc->policy->snapshot_when == WHEN_CHANGED && have &&
	    plan_versions_equal(v, &newest.v)) {
		snprintf(why, sizeof(why),
		    "unchanged since %s (%s, Kubernetes %s)", newest.name,
		    v->node_image_version, v->kubernetes_version);
		return year_decide(db, run, yp, 0, at, slot, "skip", why, NULL);
	}
	plan_snapshot_name(
	    cfg->name_prefix, yp->pc->cluster, yp->pc->nodepool, slot, name);
	snprintf(arm_id, sizeof(arm_id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/snapshots/%s",
	    yp->pc->subscription, yp->pc->resource_group, name);
	if (db_snapshot_intent(db, yp->id, name, arm_id, slot, at, &snap))
		return -1;
	if (nth % 500 == 499 && !*failed) {
		*failed = 1;
		snprintf(why, sizeof(why),
		    "PUT snapshot: 429 TooManyRequests (x-ms-request-id "
		    "%08llx-0000-0000-0000-000000000000): too many requests",
		    nth);
		if (db_snapshot_set_state(db, snap, "failed", why))
			return -1;
		return year_decide(
		    db, run, yp, snap, at, slot, "fail", why, NULL);
	}
	*failed = 0;
	if (db_snapshot_set_active(db, snap, at + 40, v))
		return -1;
	snprintf(why, sizeof(why),
	    have ? "slot %s due (snapshot_when = always)"
	         : "slot %s due; first snapshot of the pool",
	    slot_text);
	return year_decide(db, run, yp, snap, at, slot, "create", why, NULL);
}

/* Promotion along the ladder, as prune_promote records it. */
static int
year_promote(struct db *db, int64_t run, const struct year_pool *yp, time_t at,
    const struct db_snapshot *list, size_t n)
{
	const struct ladder *l = &yp->pc->policy->channels;
	struct db_snapshot old;
	struct promotion_snap *snaps = NULL;
	struct channel_hold *holds = NULL;
	struct promotion_step steps[LADDER_MAX];
	size_t nh = 0, ns = 0;
	char msg[1024];
	int rc = -1, have_old;

	if (l->n == 0)
		return 0;
	if (db_ladder_holds(db, yp->id, &holds, &nh))
		goto out;
	snaps = calloc(n + 1, sizeof(*snaps));
	if (snaps == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		snaps[i].id = list[i].id;
		snaps[i].created_at = list[i].created_at;
	}
	/* As the hourly runs until the next slot would: the latest one. */
	promotion_plan(l, snaps, n, holds, nh, at + YEAR_LATE, steps, &ns);
	for (size_t k = 0; k < ns; k++) {
		const char *ch = l->rung[steps[k].rung].channel;
		const struct db_snapshot *s = NULL;

		for (size_t i = 0; i < n; i++)
			if (list[i].id == steps[k].snapshot_id)
				s = &list[i];
		if (s == NULL)
			continue;
		have_old = db_snapshot_channel(db, yp->id, ch, &old);
		if (have_old < 0 ||
		    db_ladder_enter(db, s->id, ch, steps[k].rung, at))
			goto out;
		snprintf(msg, sizeof(msg),
		    "channel %s: %s; brings %s (Kubernetes %s) over %s: "
		    "node image release notes summarized, 3 CVE fixes, "
		    "containerd and kernel updates",
		    ch, steps[k].reason, s->v.node_image_version,
		    s->v.kubernetes_version,
		    have_old ? old.v.node_image_version : "nothing");
		if (year_decide(
		        db, run, yp, s->id, at, 0, "promote", msg, NULL))
			goto out;
		if (have_old) {
			snprintf(msg, sizeof(msg), "channel %s: replaced by %s",
			    ch, s->name);
			if (year_decide(db, run, yp, old.id, at, 0, "demote",
			        msg, NULL))
				goto out;
		}
	}
	rc = 0;
out:
	free(snaps);
	free(holds);
	return rc;
}

/* Retention, as prune_retain records it (the DELETEs all succeed). */
static int
year_retain(struct db *db, const struct config *cfg, int64_t run,
    const struct year_pool *yp, time_t at, const struct db_snapshot *list,
    size_t n, long long *deleted)
{
	const struct policy *pol = yp->pc->policy;
	struct retention_item *items = NULL;
	struct retention_decision *out = NULL;
	struct channel_hold *holds = NULL;
	long long holders[64];
	size_t nh = 0, nholds = 0;
	char err[256], fp[128], reasons[RETENTION_REASONS_MAX];
	int rc = -1;

	if (n == 0)
		return 0;
	items = calloc(n, sizeof(*items));
	out = calloc(n, sizeof(*out));
	if (items == NULL || out == NULL ||
	    db_ladder_holds(db, yp->id, &holds, &nholds))
		goto done;
	for (size_t i = 0; i < n; i++) {
		items[i].id = list[i].id;
		items[i].created_at = list[i].created_at;
		items[i].pinned = list[i].pinned;
	}
	nh = promotion_protected(holds, nholds, pol->keep_promoted, holders,
	    sizeof(holders) / sizeof(holders[0]));
	(void)retention_mark_promoted(holders, nh, (int)nh, items, n);
	if (retention_plan(items, n, pol, cfg->tz, at + YEAR_LATE, out, err,
	        sizeof(err))) {
		fprintf(stderr, "benchtool: retention: %s\n", err);
		goto done;
	}
	retention_policy_fingerprint(pol, fp, sizeof(fp));
	for (size_t i = 0; i < n; i++) {
		if (out[i].keep) {
			retention_reasons_format(
			    out[i].reasons, reasons, sizeof(reasons));
			if (year_decide(db, run, yp, list[i].id, at, 0, "keep",
			        reasons, fp))
				goto done;
			continue;
		}
		if (db_snapshot_set_state(db, list[i].id, "deleting", NULL) ||
		    year_decide(db, run, yp, list[i].id, at, 0, "delete",
		        "no rule keeps it", fp) ||
		    db_snapshot_set_state(db, list[i].id, "deleted", NULL))
			goto done;
		(*deleted)++;
	}
	rc = 0;
done:
	free(holds);
	free(out);
	free(items);
	return rc;
}

/*
 * The pool's work in a run that reaches its slot: observe, take, promote,
 * retain, its outcome.  0/-1.
 */
static int
year_pool_run(struct db *db, const struct config *cfg, int64_t run,
    struct year_pool *yp, time_t at, time_t slot, long long *nth, int *failing,
    long long *deleted)
{
	struct db_snapshot *list = NULL;
	struct db_versions v;
	size_t n = 0;
	int rc = -1;

	year_versions(yp, &v);
	if (db_observation_add(db, run, yp->id, at, &v, "Succeeded") ||
	    year_take(db, cfg, run, yp, at, slot, (*nth)++, &v, failing))
		goto out;
	if (!*failing &&
	    (db_snapshot_list(db, yp->id, "active", &list, &n) ||
	        year_promote(db, run, yp, at, list, n) ||
	        year_retain(db, cfg, run, yp, at, list, n, deleted)))
		goto out;
	rc = db_pool_outcome_set(db, yp->id, run, at, *failing);
out:
	free(list);
	return rc;
}

/*
 * year_unchanged(db, cfg, pools, n, at):
 * One more hourly run at ${at}, between two slots: every pool observed as
 * it is, its ladder and retention decided again.  Print how many rows it
 * added to observations and decisions; 0 when none, 1 when some (the
 * hours the year skipped would then not be unchanged), -1 on error.
 */
static int
year_unchanged(struct db *db, const struct config *cfg, struct year_pool *pools,
    size_t n, time_t at)
{
	struct db_counts before, after;
	struct db_snapshot *list = NULL;
	long long deleted = 0;
	int64_t run = 0;
	size_t ns = 0;

	if (db_counts(db, &before) || db_begin(db) ||
	    db_run_start(db, at, at, "run", &run))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct db_versions v;

		year_versions(&pools[i], &v);
		if (db_observation_add(
		        db, run, pools[i].id, at, &v, "Succeeded") ||
		    db_snapshot_list(db, pools[i].id, "active", &list, &ns) ||
		    year_promote(
		        db, run, &pools[i], at - YEAR_LATE, list, ns) ||
		    year_retain(db, cfg, run, &pools[i], at - YEAR_LATE, list,
		        ns, &deleted))
			goto fail;
		free(list);
		list = NULL;
	}
	if (db_commit(db) || db_counts(db, &after))
		goto fail;
	printf("unchanged run: %lld observation rows, %lld decision rows, "
	       "%lld deletions added\n",
	    after.observations - before.observations,
	    after.decisions - before.decisions, deleted);
	return after.observations != before.observations ||
	    after.decisions != before.decisions || deleted != 0;
fail:
	free(list);
	(void)db_rollback(db);
	return -1;
}

static int
cmd_year(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct year_pool *pools = NULL;
	struct db_counts c;
	int *failing = NULL;
	long long days, nth = 0, deleted = 0, runs = 0;
	time_t start;
	char err[256];
	int rc = 1;

	if (argc != 2 || util_parse_int(argv[1], 1, 3660, &days))
		return usage();
	start = (time_t)(YEAR_END - days * 24 * 3600);
	if (config_load(argv[0], &cfg) != 0)
		return 1;
	if (db_open(cfg->database, &db) != 0)
		goto out;
	pools = calloc(cfg->npools + 1, sizeof(*pools));
	failing = calloc(cfg->npools + 1, sizeof(*failing));
	if (pools == NULL || failing == NULL)
		goto out;
	if (db_begin(db))
		goto out;
	for (size_t i = 0; i < cfg->npools; i++) {
		pools[i].pc = &cfg->pools[i];
		if (db_pool_sync(db, pools[i].pc, &pools[i].id) ||
		    db_pool_set_location(db, pools[i].id, "westeurope"))
			goto out;
		if (schedule_parse(pools[i].pc->policy->schedule,
		        &pools[i].sched, err, sizeof(err))) {
			fprintf(stderr, "benchtool: %s: %s\n", pools[i].pc->key,
			    err);
			goto out;
		}
		if (schedule_next_slot(
		        &pools[i].sched, cfg->tz, start - 1, &pools[i].next))
			goto out;
	}
	if (db_commit(db))
		goto out;
	for (long long h = 0; h < days * 24; h++) {
		time_t at = start + (time_t)(h * 3600);
		long long day = h / 24;
		struct db_run rec;
		int64_t run = 0;

		/* One transaction a simulated day (the file is the same). */
		if ((h % 24 == 0 && db_begin(db)) ||
		    db_run_start(db, at, at, "run", &run))
			goto out;
		memset(&rec, 0, sizeof(rec));
		rec.id = run;
		rec.started_at = at;
		rec.finished_at = at + 30;
		rec.as_of = at;
		for (size_t i = 0; i < cfg->npools; i++) {
			struct year_pool *yp = &pools[i];
			time_t slot = 0;

			if (at < yp->next && !failing[i])
				continue; /* not its slot's hour */
			if (schedule_current_slot(
			        &yp->sched, cfg->tz, at, &slot) ||
			    schedule_next_slot(
			        &yp->sched, cfg->tz, at, &yp->next))
				goto out;
			/* This run reaches the pool's slot: its life moves on.
			 */
			if (!failing[i]) {
				if ((day + (long long)i) % 7 == 0)
					yp->image++;
				if (day == 60 + (long long)i % 14 ||
				    day == 170 + (long long)i % 14 ||
				    day == 280 + (long long)i % 14)
					yp->k8s++;
			}
			rec.observed++;
			if (year_pool_run(db, cfg, run, yp, at, slot, &nth,
			        &failing[i], &deleted))
				goto out;
			rec.taken += !failing[i];
			rec.failed += failing[i];
		}
		rec.exit_code = rec.failed > 0;
		if (db_run_finish(db, &rec) ||
		    db_full_run_add(db, run, 30000) ||
		    ((h % 24 == 23 || h == days * 24 - 1) && db_commit(db)))
			goto out;
		runs++;
		if (h % (24 * 30) == 0)
			fprintf(stderr, "benchtool: year: day %lld\n", day);
	}
	if (db_counts(db, &c))
		goto out;
	if (year_unchanged(db, cfg, pools, cfg->npools,
	        start + (time_t)((days - 1) * 24 * 3600 + 7 * 3600)) != 0)
		goto out;
	printf("runs %lld pools %lld observations %lld snapshots %lld "
	       "decisions %lld deleted %lld\n",
	    runs, c.pools, c.observations, c.snapshots, c.decisions, deleted);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "benchtool: year: failed\n");
	free(failing);
	free(pools);
	db_close(db);
	config_free(cfg);
	return rc;
}

/*
 * benchtool widen SRC DST CLUSTERS FACTOR: DST (a store just made by
 * `aksnap db migrate`) receives SRC's year FACTOR times over.  SRC was
 * written by `benchtool year` for CLUSTERS clusters of bench.sh's shape
 * (cluster aks-N in rg-((N-1)/10+1)); copy k of pool aks-N-poolJ is
 * aks-(N+k*CLUSTERS)-poolJ, its rows those of the original with ids,
 * names, ARM ids and reasons renamed.  Rows are inserted interleaved
 * (row by row, copy by copy), so the file is laid out as a fleet
 * FACTOR times larger would have written it, run by run.  Runs are the
 * fleet's, shared: copied once, and so are decision texts (0015: a
 * reasons text holds its pool's key as char(1), so a copy's reads as
 * its own).  The rows themselves are the ones the
 * run's db_* functions wrote; nothing is invented.  The open ends of
 * decision ranges (decision_open, 0018; a pool-level one has snapshot
 * 0) and the retention memos (0023) are copied as the year left them:
 * until session 9 the ranges were closed first, which a store of real
 * runs never does, and a run on the copy then found every skipped
 * slot in a closed range (decisions_by_pool_last_slot, a seek of the
 * year's largest index) rather than in its open one.
 */
static const char *const widen_ids[] = {
    "id", "pool_id", "snapshot_id", "decision_id", NULL};
static const char *const widen_text[] = {
    "key", "arm_id", "name", "reasons", "error", "target", NULL};

static int
in_list(const char *const *list, const char *v)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

static int
widen_table(
    sqlite3 *db, const char *table, long long clusters, long long factor)
{
	sqlite3_stmt *st = NULL;
	char *cols = NULL, *exprs = NULL, *sql = NULL;
	int rc = -1;

	sql = sqlite3_mprintf("PRAGMA s.table_info(%Q)", table);
	if (sql == NULL || sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		goto out;
	cols = sqlite3_mprintf("%s", "");
	exprs = sqlite3_mprintf("%s", "");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(st, 1);
		char *e, *nc, *ne;

		if (in_list(widen_ids, c))
			e = sqlite3_mprintf(
			    "CASE WHEN t.%s IS NULL THEN NULL WHEN t.%s = 0 "
			    "THEN 0 ELSE (t.%s - 1) * %lld + t.k + 1 END",
			    c, c, c, factor);
		else if (strcmp(table, "pools") == 0 &&
		    strcmp(c, "cluster") == 0)
			e = sqlite3_mprintf("'aks-' || m");
		else if (strcmp(table, "pools") == 0 &&
		    strcmp(c, "resource_group") == 0)
			e = sqlite3_mprintf("'rg-' || ((m - 1) / 10 + 1)");
		else if (in_list(widen_text, c))
			e = sqlite3_mprintf(
			    "replace(replace(replace(t.%s, 'aks-' || n || '-', "
			    "'aks-' || m || '-'), 'aks-' || n || '/', 'aks-' "
			    "|| "
			    "m || '/'), '/' || rg || '/', '/rg-' || ((m - 1) / "
			    "10 + 1) || '/')",
			    c);
		else
			e = sqlite3_mprintf("t.%s", c);
		nc = sqlite3_mprintf("%s%s%s", cols, cols[0] ? ", " : "", c);
		ne = sqlite3_mprintf("%s%s%s", exprs, exprs[0] ? ", " : "", e);
		sqlite3_free(e);
		sqlite3_free(cols);
		sqlite3_free(exprs);
		cols = nc;
		exprs = ne;
	}
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_free(sql);
	sql = sqlite3_mprintf(
	    "WITH RECURSIVE c(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM c "
	    "WHERE k + 1 < %lld) "
	    "INSERT INTO main.%s (%s) SELECT %s FROM (SELECT t.*, "
	    "CAST(substr(p.cluster, 5) AS INTEGER) AS n, "
	    "CAST(substr(p.cluster, 5) AS INTEGER) + c.k * %lld AS m, "
	    "p.resource_group AS rg, c.k AS k FROM s.%s t "
	    "JOIN s.pools p ON p.id = %s, c ORDER BY %s, c.k) t",
	    factor, table, cols, exprs, clusters, table,
	    strcmp(table, "pools") == 0 ? "t.id" : "t.pool_id",
	    /* WITHOUT ROWID (0018): its key */
	    strcmp(table, "decision_open") == 0 ? "t.pool_id, t.snapshot_id"
	                                        : "t.rowid");
	if (sql == NULL || exec_sql(db, sql) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	sqlite3_free(cols);
	sqlite3_free(exprs);
	return rc;
}

static int
cmd_widen(int argc, char **argv)
{
	static const char *const tables[] = {"pools", "snapshots",
	    "observations", "decision_rows", "snapshot_channels",
	    "pool_outcomes", "applies", "decision_open", "pool_retain_memo",
	    NULL};
	long long clusters, factor;
	sqlite3 *db = NULL;
	char *sql = NULL;
	int rc = 1;

	if (argc != 4 || util_parse_int(argv[2], 1, 1000000, &clusters) ||
	    util_parse_int(argv[3], 1, 1000, &factor))
		return usage();
	if (sqlite3_open(argv[1], &db) != SQLITE_OK)
		goto out;
	sql = sqlite3_mprintf("ATTACH %Q AS s", argv[0]);
	if (sql == NULL || exec_sql(db, sql) ||
	    exec_sql(db,
	        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; BEGIN;"
	        "INSERT INTO main.runs SELECT * FROM s.runs;"
	        "INSERT INTO main.full_runs SELECT * FROM s.full_runs;"
	        "INSERT INTO main.decision_texts SELECT * FROM "
	        "s.decision_texts;"))
		goto out;
	for (size_t i = 0; tables[i] != NULL; i++)
		if (widen_table(db, tables[i], clusters, factor))
			goto out;
	if (exec_sql(db, "COMMIT"))
		goto out;
	rc = 0;
out:
	sqlite3_free(sql);
	sqlite3_close(db);
	return rc;
}

/*
 * benchtool tables DB: each table's rows and bytes (its own pages and its
 * indexes', from SQLite's dbstat), largest first, then the file's total.
 */
static int
cmd_tables(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL, *cnt = NULL;
	int rc = 1;

	if (argc != 1)
		return usage();
	if (sqlite3_open_v2(argv[0], &db, SQLITE_OPEN_READONLY, NULL) !=
	        SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	        "SELECT m.tbl_name, sum(d.pgsize), "
	        "sum(CASE WHEN m.type = 'table' THEN d.pgsize ELSE 0 END) "
	        "FROM dbstat d JOIN sqlite_master m ON m.name = d.name "
	        "GROUP BY m.tbl_name ORDER BY 2 DESC",
	        -1, &st, NULL) != SQLITE_OK) {
		fprintf(
		    stderr, "benchtool: %s: %s\n", argv[0], sqlite3_errmsg(db));
		goto out;
	}
	printf("| table | rows | MB (with indexes) | MB (table alone) | "
	       "bytes a row |\n|---|---:|---:|---:|---:|\n");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		long long bytes = sqlite3_column_int64(st, 1);
		long long own = sqlite3_column_int64(st, 2);
		long long rows = 0;
		char *sql = sqlite3_mprintf("SELECT count(*) FROM %Q", t);

		if (sql != NULL &&
		    sqlite3_prepare_v2(db, sql, -1, &cnt, NULL) == SQLITE_OK &&
		    sqlite3_step(cnt) == SQLITE_ROW)
			rows = sqlite3_column_int64(cnt, 0);
		sqlite3_finalize(cnt);
		cnt = NULL;
		sqlite3_free(sql);
		if (strncmp(t, "sqlite_", 7) == 0)
			continue;
		printf("| %s | %lld | %.1f | %.1f | %s%.0f |\n", t, rows,
		    (double)bytes / 1e6, (double)own / 1e6, rows ? "" : "-",
		    rows ? (double)bytes / (double)rows : 0.0);
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/*
 * benchtool fleet DB CLUSTERS OUT: an armemu fleet file (--fleet) for the
 * first CLUSTERS clusters of a year's store: each pool as the store last
 * observed it, and every snapshot the store holds active for them (tags
 * as aksnap wrote them, aksnap-channel with the channels each holds), so
 * that a run on that store meets an Azure that agrees with it --
 * promotions tag snapshots that exist, retention deletes them -- and a
 * run on an empty store meets the same Azure.
 */
static json_t *
fleet_object(json_t *parent, const char *key, const char *name)
{
	json_t *arr = json_object_get(parent, key), *o;
	size_t i;

	json_array_foreach(arr, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "name")),
		        name) == 0)
			return o;
	}
	o = json_pack("{s:s}", "name", name);
	json_array_append_new(arr, o);
	return o;
}

static int
cmd_fleet(int argc, char **argv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *doc = NULL, *sub, *snaps;
	long long clusters;
	int rc = 1;

	if (argc != 3 || util_parse_int(argv[1], 1, 1000000, &clusters))
		return usage();
	if (sqlite3_open_v2(argv[0], &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		goto out;
	doc = json_pack("{s:[{s:s,s:[]}],s:[]}", "subscriptions", "id", SUB,
	    "resourceGroups", "snapshots");
	sub = json_array_get(json_object_get(doc, "subscriptions"), 0);
	snaps = json_object_get(doc, "snapshots");
	if (sqlite3_prepare_v2(db,
	        "SELECT p.resource_group, p.cluster, p.nodepool, "
	        "o.node_image_version, o.kubernetes_version FROM pools p "
	        "JOIN observations o ON o.id = (SELECT id FROM observations "
	        "WHERE pool_id = p.id ORDER BY observed_at DESC LIMIT 1) "
	        "WHERE CAST(substr(p.cluster, 5) AS INTEGER) <= ?1 "
	        "ORDER BY CAST(substr(p.cluster, 5) AS INTEGER), p.nodepool",
	        -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, clusters);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *rg = (const char *)sqlite3_column_text(st, 0);
		const char *cl = (const char *)sqlite3_column_text(st, 1);
		const char *np = (const char *)sqlite3_column_text(st, 2);
		const char *ni = (const char *)sqlite3_column_text(st, 3);
		const char *kv = (const char *)sqlite3_column_text(st, 4);
		json_t *g = fleet_object(sub, "resourceGroups", rg), *c;

		if (json_object_get(g, "clusters") == NULL)
			json_object_set_new(g, "clusters", json_array());
		json_object_set_new(g, "location", json_string("westeurope"));
		c = fleet_object(g, "clusters", cl);
		if (json_object_get(c, "agentPools") == NULL) {
			json_object_set_new(c, "agentPools", json_array());
			json_object_set_new(
			    c, "kubernetesVersion", json_string(kv));
		}
		json_array_append_new(json_object_get(c, "agentPools"),
		    json_pack("{s:s,s:s,s:s}", "name", np,
		        "orchestratorVersion", kv, "nodeImageVersion", ni));
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db,
	        "SELECT s.name, p.resource_group, p.arm_id, p.key, s.slot, "
	        "s.kubernetes_version, s.node_image_version, s.created_at, "
	        "s.channel FROM snapshots s JOIN pools p ON p.id = s.pool_id "
	        "WHERE s.state NOT IN ('deleted', 'failed', 'missing') "
	        "AND CAST(substr(p.cluster, 5) AS INTEGER) <= ?1",
	        -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, clusters);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *ch = (const char *)sqlite3_column_text(st, 8);
		char slot[32], created[32];
		json_t *snap;

		util_format_time(
		    (time_t)sqlite3_column_int64(st, 4), slot, sizeof(slot));
		util_format_time((time_t)sqlite3_column_int64(st, 7), created,
		    sizeof(created));
		snap = json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},"
		                 "s:{s:{s:s},s:s,s:s,s:s,s:s,s:s,s:b},"
		                 "s:{s:s,s:s,s:s}}",
		    "name", sqlite3_column_text(st, 0), "subscription", SUB,
		    "resourceGroup", sqlite3_column_text(st, 1), "location",
		    "westeurope", "tags", "aksnap-managed", "true",
		    "aksnap-pool", sqlite3_column_text(st, 3), "aksnap-slot",
		    slot, "properties", "creationData", "sourceResourceId",
		    sqlite3_column_text(st, 2), "kubernetesVersion",
		    sqlite3_column_text(st, 5), "nodeImageVersion",
		    sqlite3_column_text(st, 6), "osType", "Linux", "osSku",
		    "Ubuntu", "vmSize", "Standard_D4s_v5", "enableFIPS", 0,
		    "systemData", "createdAt", created, "createdBy", "aksnap",
		    "createdByType", "Application");
		/* the channels it holds, as the run tagged it */
		if (snap != NULL && ch != NULL && ch[0] != '\0')
			json_object_set_new(json_object_get(snap, "tags"),
			    "aksnap-channel", json_string(ch));
		json_array_append_new(snaps, snap);
	}
	if (json_dump_file(doc, argv[2], JSON_COMPACT) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "benchtool: fleet: %s\n",
		    db != NULL ? sqlite3_errmsg(db) : "cannot open");
	sqlite3_finalize(st);
	sqlite3_close(db);
	json_decref(doc);
	return rc;
}

/*
 * benchtool present DB CLUSTERS: what a store holding the year's present
 * and none of its past looks like -- the pools of the first CLUSTERS
 * clusters, their active snapshots, the channel entries a run reads
 * (the holders', the active snapshots', each channel's newest four),
 * each pool's last observation; no decision, no run, no other deleted
 * snapshot or channel entry.  A run over those pools on it meets the same Azure
 * and does the same work as on the year's store (the same snapshots to
 * keep, the same holders): what differs is the year's past.  Works on a
 * copy (DB is rewritten, then vacuumed) migrated by this build.
 */
static int
cmd_present(int argc, char **argv)
{
	long long clusters;

	if (argc != 2 || util_parse_int(argv[1], 1, 1000000, &clusters))
		return usage();
	return exec_on(argv[0],
	    sqlite3_mprintf(
	        "PRAGMA foreign_keys = OFF;"
	        "BEGIN;"
	        "CREATE TEMP TABLE gone AS SELECT id FROM pools "
	        "  WHERE CAST(substr(cluster, 5) AS INTEGER) > %lld;"
	        "DELETE FROM decision_open;"
	        "DELETE FROM decision_rows;"
	        "DELETE FROM decision_texts;"
	        "DELETE FROM applies;"
	        "DELETE FROM conflicts;"
	        /* the entries a run reads (db_ladder_holds_live): the
	         * holders', the active snapshots', each channel's newest */
	        "DELETE FROM snapshot_channels WHERE pool_id IN "
	        "  (SELECT id FROM gone) OR NOT (left_at IS NULL "
	        "  OR snapshot_id IN (SELECT id FROM snapshots "
	        "    WHERE state = 'active') "
	        "  OR id IN (SELECT id FROM (SELECT id, row_number() OVER "
	        "    (PARTITION BY pool_id, channel ORDER BY promoted_at DESC, "
	        "    id DESC) AS k FROM snapshot_channels) WHERE k <= 4));"
	        "DELETE FROM snapshots WHERE pool_id IN (SELECT id FROM gone) "
	        "  OR (state <> 'active' AND id NOT IN "
	        "    (SELECT snapshot_id FROM snapshot_channels));"
	        "DELETE FROM observations WHERE pool_id IN "
	        "  (SELECT id FROM gone) "
	        "  OR id NOT IN (SELECT max(id) FROM observations "
	        "    GROUP BY pool_id);"
	        "UPDATE observations SET run_id = NULL, last_run_id = NULL;"
	        "DELETE FROM pool_outcomes;"
	        "DELETE FROM full_runs;"
	        "DELETE FROM runs;"
	        "DELETE FROM partial_run_last;"
	        /* the per-pool rows triggers keep (foreign keys are off:
	         * no cascade) */
	        "DELETE FROM pool_retain_memo WHERE pool_id IN "
	        "  (SELECT id FROM gone);"
	        "DELETE FROM pool_success WHERE pool_id IN "
	        "  (SELECT id FROM gone);"
	        "DELETE FROM pool_present WHERE pool_id IN "
	        "  (SELECT id FROM gone);"
	        "DELETE FROM pool_snapshot_counts WHERE pool_id IN "
	        "  (SELECT id FROM gone);"
	        "DELETE FROM pools WHERE id IN (SELECT id FROM gone);"
	        "COMMIT;"
	        "VACUUM;",
	        clusters));
}

static int
cmd_plans(int argc, char **argv)
{
	static const char *const names[] = {"history", "list", "list_state",
	    "newest_active", "slot_taken", "latest"};
	struct db *db = NULL;
	char buf[2048];

	if (argc != 1)
		return usage();
	if (db_open_nomigrate(argv[0], &db) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (db_query_plan(db, names[i], buf, sizeof(buf)) != 0) {
			db_close(db);
			return 1;
		}
		printf("%s:\n%s%s", names[i], buf,
		    buf[0] != '\0' && buf[strlen(buf) - 1] != '\n' ? "\n" : "");
	}
	db_close(db);
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmd_retention(int argc, char **argv)
{
	struct config *cfg = NULL;
	const struct pool_conf *pc;
	struct retention_item *items = NULL;
	struct retention_decision *out = NULL;
	double *ms = NULL;
	long long n, rounds;
	size_t kept = 0;
	time_t as_of = (time_t)(BASE_TIME + 20000LL * 3600);
	char err[256];
	int rc = 1;

	if (argc != 4 || util_parse_int(argv[2], 1, 10000000, &n) ||
	    util_parse_int(argv[3], 1, 1000, &rounds))
		return usage();
	if (config_load(argv[0], &cfg) != 0)
		return 1;
	pc = config_find_pool(cfg, argv[1]);
	items = calloc((size_t)n, sizeof(*items));
	out = calloc((size_t)n, sizeof(*out));
	ms = calloc((size_t)rounds, sizeof(*ms));
	if (pc == NULL || items == NULL || out == NULL || ms == NULL) {
		fprintf(stderr, "benchtool: no pool %s, or out of memory\n",
		    argv[1]);
		goto done;
	}
	/* Hourly snapshots up to as_of, newest first as the store lists. */
	for (long long i = 0; i < n; i++) {
		items[i].id = n - i;
		items[i].created_at = as_of - (time_t)(i * 3600);
	}
	for (long long r = 0; r < rounds; r++) {
		double t0 = now_s();

		if (retention_plan(items, (size_t)n, pc->policy, cfg->tz, as_of,
		        out, err, sizeof(err)) != 0) {
			fprintf(stderr, "benchtool: retention: %s\n", err);
			goto done;
		}
		ms[r] = (now_s() - t0) * 1000;
	}
	for (long long i = 0; i < n; i++)
		kept += out[i].keep != 0;
	qsort(ms, (size_t)rounds, sizeof(*ms), dbl_cmp);
	printf("%.2f %.2f %zu\n", ms[rounds / 2], ms[0], kept);
	rc = 0;
done:
	free(ms);
	free(out);
	free(items);
	config_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "exec") == 0)
		return cmd_exec(argc - 2, argv + 2);
	if (strcmp(argv[1], "genstore") == 0)
		return cmd_genstore(argc - 2, argv + 2);
	if (strcmp(argv[1], "year") == 0)
		return cmd_year(argc - 2, argv + 2);
	if (strcmp(argv[1], "widen") == 0)
		return cmd_widen(argc - 2, argv + 2);
	if (strcmp(argv[1], "tables") == 0)
		return cmd_tables(argc - 2, argv + 2);
	if (strcmp(argv[1], "fleet") == 0)
		return cmd_fleet(argc - 2, argv + 2);
	if (strcmp(argv[1], "present") == 0)
		return cmd_present(argc - 2, argv + 2);
	if (strcmp(argv[1], "plans") == 0)
		return cmd_plans(argc - 2, argv + 2);
	if (strcmp(argv[1], "retention") == 0)
		return cmd_retention(argc - 2, argv + 2);
	return usage();
}
