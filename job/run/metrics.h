#ifndef AKSNAP_METRICS_H
#define AKSNAP_METRICS_H

/*
 * metrics.h -- the Prometheus textfile (node_exporter's textfile collector)
 * written at the end of each run, snapshot and prune when metrics_file is
 * set.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "db/db.h"

/* One configured pool as the renderer sees it (read from the store). */
struct metrics_pool {
	const char *key;
	int64_t pool_id; /* 0: never recorded in the store */
	int failed; /* failed in the last run that acted on it */
	const char *channel; /* the policy's baseline channel (NULL: none) */
	const struct ladder *ladder; /* its channels, first rung first (NULL
	                                or no rung: ${channel} alone) */
	time_t last_success; /* newest snapshot taken or slot skipped */
	long long counts[DB_SNAPSHOT_NSTATES]; /* snapshots per state */
	const char *verdict; /* drift's, a static string */
	int base_known; /* the holder of ${channel} was read (pool_verdict): */
	int base_active; /* it is an active snapshot */
	time_t base_at; /* taken then */
};

/*
 * metrics_write(cfg, db):
 * Write ${cfg}->metrics_file atomically (a temporary file in the same
 * directory, fsync, rename), describing every pool of ${cfg} from the
 * store ${db}, whatever pools the calling command touched:
 * aksnap_last_run_timestamp_seconds and aksnap_run_duration_seconds (the
 * last run over every configured pool), aksnap_last_partial_run_timestamp_
 * seconds{mode} (run --pool, snapshot, prune), aksnap_run_failures_total,
 * aksnap_last_success_timestamp_seconds{pool}, aksnap_pool_failed{pool},
 * aksnap_snapshots{pool,state}, aksnap_pool_info{pool,node_image_version,
 * kubernetes_version,os_sku,vm_size}, aksnap_baseline_timestamp_seconds
 * {pool,channel} (when the snapshot holding each channel of its ladder
 * was taken: one series per channel),
 * aksnap_pool_drift{pool,verdict} (drift's verdict).  0, or -1 (logged).
 */
int metrics_write(const struct config *cfg, struct db *db);

/*
 * metrics_render(out, cfg, db):
 * The same text, to a stream.  0 or -1.
 */
int metrics_render(FILE *out, const struct config *cfg, struct db *db);

/* metrics_escape(in, out, len): a label value with \ " and newline escaped. */
void metrics_escape(const char *in, char *out, size_t len);

#endif
