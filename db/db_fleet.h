#ifndef AKSNAP_DB_FLEET_H
#define AKSNAP_DB_FLEET_H

/*
 * db_fleet.h -- which [fleet:NAME] a pool row belongs to (migration 0007).
 */

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* A pool row a fleet selected in some run. */
struct db_fleet_pool {
	char key[64];
	char subscription[64];
	char resource_group[91];
	char cluster[64];
	char nodepool[13];
};

/*
 * db_pool_set_fleet(db, pool_id, fleet):
 * Record that ${fleet} (NULL: an explicit section) selects pool ${pool_id}.
 * 0, or -1 (logged).
 */
int db_pool_set_fleet(struct db *db, int64_t pool_id, const char *fleet);

/*
 * db_fleet_pools(db, fleet, out, n):
 * Every pool row of ${fleet}, by key; ${*out} malloc'd (free it).
 * 0, or -1 (logged).
 */
int db_fleet_pools(
    struct db *db, const char *fleet, struct db_fleet_pool **out, size_t *n);

#endif
