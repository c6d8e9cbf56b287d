#ifndef AKSNAP_LOOKUP_H
#define AKSNAP_LOOKUP_H

/*
 * lookup.h -- lookups and small printing helpers shared by the record's
 * commands (job/cmd/cmd_pin.c, cmd_explain.c, cmd_baseline.c,
 * cmd_drift.c, cmd_check.c, cmd_changes.c, cmd_discover.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* lookup_dash(s): ${s}, or "-" when it is NULL or empty. */
const char *lookup_dash(const char *s);

/* lookup_age(secs, buf, len): a rough age for people: "45s", "17m", "3h",
 * "12d" (negative counts as 0). */
void lookup_age(long long secs, char *buf, size_t len);

/*
 * lookup_snapshot(db, cmd, ref, path, out):
 * Find SNAPSHOT ${ref} (name, ARM id or number) in the store at ${path}.
 * Return EXIT_DONE with ${*out}, EXIT_USAGE when there is no such snapshot
 * (said on stderr, naming ${cmd}), EXIT_FAILED on a store error.
 */
int lookup_snapshot(struct db *db, const char *cmd, const char *ref,
    const char *path, struct db_snapshot *out);

/*
 * lookup_baseline(db, pool_key, pool_id, channel, out):
 * The usable baseline of pool ${pool_id} in ${channel}: 1 and ${*out} when
 * the channel holds an active snapshot, 0 when it holds none (or one that
 * is not active; said once on stderr), -1 on a store error.
 */
int lookup_baseline(struct db *db, const char *pool_key, int64_t pool_id,
    const char *channel, struct db_snapshot *out);

/*
 * lookup_baseline_usable(pool_key, channel, held, snap):
 * Whether ${snap}, the snapshot ${channel} holds for pool ${pool_key}
 * (${held} 1, as db_pools_read read it; 0: none), is a usable baseline,
 * as lookup_baseline says: 1 when it is active, else 0 (a held snapshot
 * not active said once on stderr).
 */
int lookup_baseline_usable(const char *pool_key, const char *channel, int held,
    const struct db_snapshot *snap);

/* lookup_pool_id(db, key, id): the store id of a configured pool, 0 when
 * no run has seen it yet.  0, or -1 on a store error. */
int lookup_pool_id(struct db *db, const char *key, int64_t *id);

#endif
