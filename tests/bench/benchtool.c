/*
 * benchtool.c -- the helpers `make bench` (tests/bench/bench.sh) needs.
 *
 * Not part of aksnap and not built by the Makefile: bench.sh compiles it
 * against build/libaksnap.a.  Four subcommands:
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
 *   benchtool plans DB
 *       EXPLAIN QUERY PLAN of the store's hot queries (db_query_plan).
 *   benchtool retention CONFIG POOL N ROUNDS
 *       Time retention_plan() over N hourly snapshots of POOL's policy,
 *       ROUNDS times; print the median and the fastest, in ms, and how
 *       many are kept.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "db/migrations.h"
#include "job/base/util.h"
#include "job/rules/retention.h"

static int
usage(void)
{
	fprintf(stderr,
	    "usage: benchtool exec OUT PROG ARGS...\n"
	    "       benchtool genstore DB POOLS OBS SNAPS\n"
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
	sqlite3 *db = NULL;
	char *sql = NULL;
	int rc = 1;

	if (argc != 4 || util_parse_int(argv[1], 1, 1000000, &pools) ||
	    util_parse_int(argv[2], 1, 100000, &obs) ||
	    util_parse_int(argv[3], 1, 100000, &snaps))
		return usage();
	if (sqlite3_open(argv[0], &db) != SQLITE_OK) {
		fprintf(
		    stderr, "benchtool: %s: %s\n", argv[0], sqlite3_errmsg(db));
		goto out;
	}
	sql = sqlite3_mprintf(
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = OFF;"
	    "PRAGMA foreign_keys = OFF;"
	    "BEGIN;"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "  WHERE i < %lld) "
	    "INSERT INTO pools (id, key, subscription, resource_group, "
	    "  cluster, nodepool, arm_id, location, created_at, updated_at) "
	    "SELECT i, 'p' || i, '" SUB "', 'rg-' || ((i - 1) / 100 + 1), "
	    "  'aks-' || ((i - 1) / 10 + 1), 'pool' || ((i - 1) %% 10), "
	    "  '/subscriptions/" SUB "/resourceGroups/rg-' || "
	    "  ((i - 1) / 100 + 1) || '/providers/Microsoft.ContainerService/"
	    "managedClusters/aks-' || ((i - 1) / 10 + 1) || '/agentPools/pool' "
	    "  || ((i - 1) %% 10), 'westeurope', %lld, %lld FROM n;"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "  WHERE i < %lld) "
	    "INSERT INTO runs (id, started_at, finished_at, as_of, mode, "
	    "  exit_code, observed) "
	    "SELECT i, %lld + i * 3600, %lld + i * 3600 + 30, %lld + i * 3600, "
	    "  'run', 0, %lld FROM n;"
	    /* By run, then pool: as runs write them. */
	    "INSERT INTO observations (pool_id, run_id, observed_at, "
	    "  node_image_version, kubernetes_version, os_type, os_sku, "
	    "  vm_size, enable_fips, provisioning_state) "
	    "SELECT p.id, r.id, r.as_of, "
	    "  'AKSUbuntu-2204gen2containerd-2026' || "
	    "  printf('%%02d.%%02d', (r.id / 168) %% 12 + 1, (r.id / 168) %% "
	    "28 + 1)"
	    "  || '.0', '1.30.5', 'Linux', 'Ubuntu', 'Standard_D4s_v5', 0, "
	    "  'Succeeded' FROM runs r, pools p ORDER BY r.id, p.id;"
	    "WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k "
	    "  WHERE j < %lld) "
	    "INSERT INTO snapshots (pool_id, name, arm_id, slot, created_at, "
	    "  node_image_version, kubernetes_version, os_type, os_sku, "
	    "  vm_size, enable_fips, state, updated_at) "
	    "SELECT p.id, 'aksnap-' || p.cluster || '-' || p.nodepool || '-' "
	    "  || strftime('%%Y%%m%%dT%%H%%MZ', t, 'unixepoch'), "
	    "  '/subscriptions/" SUB "/resourceGroups/' || p.resource_group || "
	    "  '/providers/Microsoft.ContainerService/snapshots/aksnap-' || "
	    "  p.cluster || '-' || p.nodepool || '-' || "
	    "  strftime('%%Y%%m%%dT%%H%%MZ', t, 'unixepoch'), t, t, "
	    "  'AKSUbuntu-2204gen2containerd-202611.01.0', '1.30.5', 'Linux', "
	    "  'Ubuntu', 'Standard_D4s_v5', 0, "
	    "  CASE WHEN j > %lld - 15 THEN 'active' ELSE 'deleted' END, t "
	    "FROM (SELECT j, %lld + (j * %lld / %lld) * 3600 AS t FROM k), "
	    "  pools p ORDER BY j, p.id;"
	    /* No ANALYZE: aksnap never runs it, so neither does its store. */
	    "COMMIT;",
	    pools, BASE_TIME, BASE_TIME, obs, BASE_TIME, BASE_TIME, BASE_TIME,
	    pools, snaps, snaps, BASE_TIME, obs, snaps);
	if (sql == NULL || exec_sql(db, sql) != 0)
		goto out;
	rc = 0;
out:
	sqlite3_free(sql);
	sqlite3_close(db);
	return rc;
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

		if (retention_plan(items, (size_t)n, &pc->policy, cfg->tz,
		        as_of, out, err, sizeof(err)) != 0) {
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
	if (strcmp(argv[1], "plans") == 0)
		return cmd_plans(argc - 2, argv + 2);
	if (strcmp(argv[1], "retention") == 0)
		return cmd_retention(argc - 2, argv + 2);
	return usage();
}
