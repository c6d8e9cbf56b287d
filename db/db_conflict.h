#ifndef AKSNAP_DB_CONFLICT_H
#define AKSNAP_DB_CONFLICT_H

/*
 * db_conflict.h -- ownership in the store (DESIGN.md section 6): the
 * foreign snapshots `sync` found tagged aksnap-managed (table conflicts,
 * migration 0004), and whose a snapshot name is before a run PUTs it.
 * Same conventions as db.h: 0/-1, lookups 1/0/-1, errors logged.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct db;

struct db_conflict {
	int64_t id;
	char arm_id[512];
	char name[64];
	char subscription[64];
	char pool_tag[64]; /* its aksnap-pool tag; "" when absent */
	char source_id[512]; /* creationData.sourceResourceId; "" */
	char reason[320]; /* why it is not this store's */
	time_t first_seen, last_seen;
};

/*
 * db_conflict_seen(db, run_id, c, now):
 * Record that the sync ${run_id} found ${c} at ${now}: insert it, or
 * refresh the row of the same ARM id (its first_seen kept).  0/-1.
 */
int db_conflict_seen(
    struct db *db, int64_t run_id, const struct db_conflict *c, time_t now);

/*
 * db_conflict_forget_unseen(db, subscription, run_id):
 * Delete the conflicts of ${subscription} that the sync ${run_id} did not
 * see (gone from Azure, or no longer foreign).  0/-1.
 */
int db_conflict_forget_unseen(
    struct db *db, const char *subscription, int64_t run_id);

/*
 * db_conflict_list(db, out, n):
 * Every recorded conflict, by name.  ${*out} malloc'd (caller frees; NULL
 * when none).  0/-1.
 */
int db_conflict_list(struct db *db, struct db_conflict **out, size_t *n);

/*
 * db_snapshot_owner(db, arm_id, pool_id, why, len):
 * May pool ${pool_id} PUT the snapshot ${arm_id}?  1 when it is another's
 * -- a row of another pool of this store (a pool key renamed?), or a
 * recorded conflict (another store's) -- with the reason in ${why}; 0 when
 * it is free or already this pool's; -1 on error.
 */
int db_snapshot_owner(
    struct db *db, const char *arm_id, int64_t pool_id, char *why, size_t len);

#endif
