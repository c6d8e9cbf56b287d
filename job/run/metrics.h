#ifndef AKSNAP_METRICS_H
#define AKSNAP_METRICS_H

/*
 * metrics.h -- the Prometheus textfile (node_exporter's textfile collector)
 * written at the end of each run when metrics_file is set.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db/db.h"

struct metrics_pool {
	const char *key;
	int64_t pool_id;
	int failed; /* failed in this run */
	int observed; /* live holds this run's observation */
	const struct db_versions *live;
};

/*
 * metrics_write(path, db, run, pools, n, duration_s):
 * Write the textfile atomically (a temporary file in the same directory,
 * fsync, rename): aksnap_last_run_timestamp_seconds,
 * aksnap_last_success_timestamp_seconds{pool}, aksnap_snapshots{pool,state},
 * aksnap_run_failures_total, aksnap_run_duration_seconds,
 * aksnap_pool_failed{pool}, aksnap_pool_info{pool,node_image_version,
 * kubernetes_version,...}.  0, or -1 (logged).
 */
int metrics_write(const char *path, struct db *db, const struct db_run *run,
    const struct metrics_pool *pools, size_t n, double duration_s);

/*
 * metrics_render(out, db, run, pools, n, duration_s):
 * The same text, to a stream (for tests).  0 or -1.
 */
int metrics_render(FILE *out, struct db *db, const struct db_run *run,
    const struct metrics_pool *pools, size_t n, double duration_s);

/* metrics_escape(in, out, len): a label value with \ " and newline escaped. */
void metrics_escape(const char *in, char *out, size_t len);

#endif
