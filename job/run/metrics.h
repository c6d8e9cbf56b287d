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

/*
 * A run's textfile, read while the run is under way (issue 16): each
 * pool's figures are read as soon as the run is done with the pool (its
 * GET answered, its slot recorded, its retention carried out), while the
 * other requests are in flight, so that after the last answer only the
 * pools the run changed later are read.  The text is exactly what
 * metrics_write gives for the store the run leaves, provided that the
 * caller reads a pool only when nothing in the run writes its rows after
 * (its outcome apart: metrics_set_outcome).
 */
struct metrics_set;

/*
 * metrics_set_new(cfg):
 * An empty set for the pools of ${cfg} (which must outlive it), nothing
 * read yet.  NULL when out of memory.
 */
struct metrics_set *metrics_set_new(const struct config *cfg);

/*
 * metrics_set_read(ms, db, pc, pool_id):
 * Read now the figures of pool ${pc} (one of ${ms}'s configuration's,
 * store id ${pool_id}) but its outcome: its newest success, snapshot
 * counts, last observation, channel holders and drift verdict.  0, or -1
 * on a store error (logged; the pool is read again by metrics_set_write).
 */
int metrics_set_read(struct metrics_set *ms, struct db *db,
    const struct pool_conf *pc, int64_t pool_id);

/*
 * metrics_set_outcome(ms, pc, pool_id, failed):
 * Pool ${pc}'s outcome as the store now holds it (committed by the
 * caller): store id ${pool_id}, failed or not.
 */
void metrics_set_outcome(struct metrics_set *ms, const struct pool_conf *pc,
    int64_t pool_id, int failed);

/*
 * metrics_set_write(ms, db):
 * metrics_write for ${ms}'s configuration: what was not read before is
 * read now (the whole store at once when some pool's outcome is not
 * known, else pool by pool).  0, or -1 (logged).
 */
int metrics_set_write(struct metrics_set *ms, struct db *db);

/* metrics_set_free(ms): free ${ms}; NULL is a no-op. */
void metrics_set_free(struct metrics_set *ms);

/* metrics_escape(in, out, len): a label value with \ " and newline escaped. */
void metrics_escape(const char *in, char *out, size_t len);

#endif
