#ifndef AKSNAP_DB_LIST_H
#define AKSNAP_DB_LIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"

/*
 * db_snapshot_each(db, pool_id, all, cb, ctx):
 * Call ${cb} for each snapshot of ${pool_id} (0 = every pool), newest
 * created first, one row at a time (nothing is kept between calls: the
 * struct passed to ${cb} is reused).  Without ${all}, only the live ones:
 * every state but deleted, failed and missing (creating, unconfirmed,
 * active, deleting and conflict still stand for something in Azure or
 * need an operator).  ${cb} returning non-zero stops.  0/-1.
 */
int db_snapshot_each(struct db *db, int64_t pool_id, int all,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx);

/*
 * db_snapshot_each_plan(db, pool_id, all, buf, len):
 * SQLite's query plan of that query, one line per step, into ${buf} (a
 * test seam, like db_query_plan).  0/-1.
 */
int db_snapshot_each_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len);

/*
 * struct db_snapshot_line: the columns `list` shows of a snapshot, as
 * struct db_snapshot holds them: "" for NULL, and cut to the size of its
 * field there (pool_key, name 63 bytes, state 15, node_image_version
 * 127, kubernetes_version 31, channel 63).  The strings are the store's
 * own, valid until the callback returns; each *_len is its strlen.
 */
struct db_snapshot_line {
	const char *pool_key;
	const char *name;
	time_t created_at;
	const char *state;
	const char *node_image_version;
	const char *kubernetes_version;
	const char *channel;
	int pinned;
	size_t pool_key_len, name_len, state_len, node_image_version_len,
	    kubernetes_version_len, channel_len;
};

/*
 * db_snapshot_lines(db, pool_id, all, passes, cb, ctx):
 * db_snapshot_each's rows, only the columns a struct db_snapshot_line
 * holds, read *${passes} times over in one read transaction (the same rows
 * each time, whatever a run writes meanwhile): ${cb} gets the pass (0 to
 * *${passes} - 1) and the row (reused between calls), and may lower
 * *${passes} (a pass held on to what the next would read again).  Every
 * pool's live ones come from the covering index snapshots_live (0020)
 * alone, never the table.  ${cb} returning non-zero stops.  0/-1.
 */
int db_snapshot_lines(struct db *db, int64_t pool_id, int all,
    const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_snapshot_line *l),
    void *ctx);

/* db_snapshot_lines_plan(db, pool_id, all, buf, len): its query plan. */
int db_snapshot_lines_plan(
    struct db *db, int64_t pool_id, int all, char *buf, size_t len);

/*
 * struct db_history_line: the columns `history` shows of an interval, as
 * struct db_observation holds them: "" for NULL, cut to the size of its
 * field there (pool_key 63 bytes, node_image_version 127,
 * kubernetes_version 31, os_sku 31, vm_size 63, provisioning_state 31,
 * changed_by 15).  The strings are the store's own, valid until the
 * callback returns.
 */
struct db_history_line {
	const char *pool_key;
	time_t observed_at, last_seen;
	long long seen;
	const char *node_image_version;
	const char *kubernetes_version;
	const char *os_sku;
	const char *vm_size;
	const char *provisioning_state;
	const char *changed_by;
};

/*
 * db_history_lines(db, pool_id, since, changes_only, passes, cb, ctx):
 * db_history_passes's intervals, only the columns a struct
 * db_history_line holds, in the same order, from the same indexes
 * (where struct db_observation's eighteen columns, copied, were a fifth
 * of `history`'s instructions).  ${cb} returning non-zero stops.  0/-1.
 */
int db_history_lines(struct db *db, int64_t pool_id, time_t since,
    int changes_only, const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_history_line *l), void *ctx);

/* db_history_lines_plan(db, pool_id, changes_only, buf, len): its plan. */
int db_history_lines_plan(
    struct db *db, int64_t pool_id, int changes_only, char *buf, size_t len);

/*
 * db_history_passes(db, pool_id, since, changes_only, passes, cb, ctx):
 * db_history's intervals read *${passes} times over in one read
 * transaction (the same rows each time), ${cb} getting the pass (0 to
 * *${passes} - 1) with each, and lowering *${passes} if it likes, as
 * db_snapshot_lines.  ${cb} returning non-zero stops.  0/-1.
 */
int db_history_passes(struct db *db, int64_t pool_id, time_t since,
    int changes_only, const int *passes,
    int (*cb)(void *ctx, int pass, const struct db_observation *o), void *ctx);

/*
 * db_snapshot_pending_each(db, cb, ctx):
 * Call ${cb} for every snapshot left unconfirmed or deleting, by pool
 * id, a pool's unconfirmed ones before its deleting ones, each newest
 * created first (the order db_snapshot_list gives a pool and a state):
 * a seek of snapshots_by_state a state, whatever the number of pools.  ${cb}
 * returning non-zero stops.  0/-1.
 */
int db_snapshot_pending_each(struct db *db,
    int (*cb)(void *ctx, const struct db_snapshot *s), void *ctx);

/* db_snapshot_pending_plan(db, buf, len): its query plan (db_explain). */
int db_snapshot_pending_plan(struct db *db, char *buf, size_t len);

#endif
