#ifndef AKSNAP_DB_POOL_MEMO_H
#define AKSNAP_DB_POOL_MEMO_H

/*
 * db_pool_memo.h -- the pools a run synced last and their ids
 * (migrations/0022_pool_sync_memo.sql), so that a run configured as the
 * last one reads one row instead of the whole pools table.  Used by
 * db_pool_sync_many.
 */

#include <stddef.h>
#include <stdint.h>

#include "job/rules/model.h"

struct db;

/*
 * db_pool_memo_get(db, pcs, n, ids):
 * 1 with ${ids}[0..n) the pools ids of ${pcs}[0..n) when the memo was
 * written for these pools (same keys and places, same order) and no
 * pools row changed since; 0 when not (${ids} untouched); -1 on error
 * (logged).
 */
int db_pool_memo_get(
    struct db *db, const struct pool_conf *const *pcs, size_t n, int64_t *ids);

/*
 * db_pool_memo_put(db, pcs, n, ids):
 * Remember ${ids}[0..n) as the pools ids of ${pcs}[0..n), replacing the
 * memo; call it after the sync, in its transaction.  0, or -1 (logged).
 */
int db_pool_memo_put(struct db *db, const struct pool_conf *const *pcs,
    size_t n, const int64_t *ids);

#endif
