/*
 * metrics.c -- the run's numbers as a Prometheus textfile.
 *
 * node_exporter reads the file whenever it is scraped, so it must never be
 * seen half-written: it is written to a temporary file beside it and
 * renamed over the old one (rename(2) is atomic within a directory).
 * Counts that must survive across runs (failures, last success) come from
 * the store, not from this process.
 */
#include "job/run/metrics.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job/base/log.h"
#include "job/base/util.h"

void
metrics_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

int
metrics_render(FILE *out, struct db *db, const struct db_run *run,
    const struct metrics_pool *pools, size_t n, double duration_s)
{
	long long failures = 0;
	char k[160], a[300], b[100], c[100], d[100];

	if (db_runs_failed(db, &failures))
		return -1;
	fprintf(out,
	    "# HELP aksnap_last_run_timestamp_seconds When the last "
	    "run started (as_of).\n"
	    "# TYPE aksnap_last_run_timestamp_seconds gauge\n"
	    "aksnap_last_run_timestamp_seconds %lld\n",
	    (long long)run->as_of);
	fprintf(out,
	    "# HELP aksnap_run_duration_seconds How long the last "
	    "run took.\n"
	    "# TYPE aksnap_run_duration_seconds gauge\n"
	    "aksnap_run_duration_seconds %.3f\n",
	    duration_s);
	fprintf(out,
	    "# HELP aksnap_run_failures_total Runs that ended with "
	    "at least one failed pool.\n"
	    "# TYPE aksnap_run_failures_total counter\n"
	    "aksnap_run_failures_total %lld\n",
	    failures);
	fprintf(out,
	    "# HELP aksnap_last_success_timestamp_seconds Newest "
	    "snapshot taken or slot skipped, per pool.\n"
	    "# TYPE aksnap_last_success_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		time_t at = 0;

		if (db_pool_last_success(db, pools[i].pool_id, &at))
			return -1;
		metrics_escape(pools[i].key, k, sizeof(k));
		fprintf(out,
		    "aksnap_last_success_timestamp_seconds{pool=\"%s\"} %lld\n",
		    k, (long long)at);
	}
	fprintf(out,
	    "# HELP aksnap_pool_failed 1 when the pool failed in the "
	    "last run.\n"
	    "# TYPE aksnap_pool_failed gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_escape(pools[i].key, k, sizeof(k));
		fprintf(out, "aksnap_pool_failed{pool=\"%s\"} %d\n", k,
		    pools[i].failed ? 1 : 0);
	}
	fprintf(out,
	    "# HELP aksnap_snapshots Snapshots in the store, per "
	    "pool and state.\n"
	    "# TYPE aksnap_snapshots gauge\n");
	for (size_t i = 0; i < n; i++) {
		long long counts[DB_SNAPSHOT_NSTATES];

		memset(counts, 0, sizeof(counts));
		if (db_pool_snapshot_counts(db, pools[i].pool_id, counts))
			return -1;
		metrics_escape(pools[i].key, k, sizeof(k));
		for (size_t s = 0; db_snapshot_states[s] != NULL; s++)
			fprintf(out,
			    "aksnap_snapshots{pool=\"%s\",state=\"%s\"} %lld\n",
			    k, db_snapshot_states[s], counts[s]);
	}
	fprintf(out,
	    "# HELP aksnap_pool_info Versions the pool ran when last "
	    "observed.\n"
	    "# TYPE aksnap_pool_info gauge\n");
	for (size_t i = 0; i < n; i++) {
		const struct db_versions *v = pools[i].live;

		if (!pools[i].observed || v == NULL)
			continue;
		metrics_escape(pools[i].key, k, sizeof(k));
		metrics_escape(v->node_image_version, a, sizeof(a));
		metrics_escape(v->kubernetes_version, b, sizeof(b));
		metrics_escape(v->os_sku, c, sizeof(c));
		metrics_escape(v->vm_size, d, sizeof(d));
		fprintf(out,
		    "aksnap_pool_info{pool=\"%s\",node_image_version=\"%s\","
		    "kubernetes_version=\"%s\",os_sku=\"%s\",vm_size=\"%s\"} "
		    "1\n",
		    k, a, b, c, d);
	}
	return ferror(out) ? -1 : 0;
}

int
metrics_write(const char *path, struct db *db, const struct db_run *run,
    const struct metrics_pool *pools, size_t n, double duration_s)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		close(fd);
		goto err0;
	}
	if (metrics_render(f, db, run, pools, n, duration_s) ||
	    fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_err(NULL, "metrics: writing %s failed", tmp);
		fclose(f);
		goto err0;
	}
	/* node_exporter runs as another user: the file is world-readable. */
	(void)fchmod(fileno(f), 0644);
	if (fclose(f) != 0) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		goto err0;
	}
	if (rename(tmp, path) != 0) {
		log_err(
		    NULL, "metrics: rename to %s: %s", path, strerror(errno));
		goto err0;
	}
	return 0;
err0:
	unlink(tmp);
	return -1;
}
