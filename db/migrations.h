#ifndef AKSNAP_MIGRATIONS_H
#define AKSNAP_MIGRATIONS_H

/*
 * migrations.h -- the schema migrations compiled into the binary.
 *
 * tools/embed-migrations.sh turns migrations/NNNN_slug.sql into
 * build/gen/migrations.c: one entry per file, in file-name order, whose
 * version is NNNN (the schema version the file brings the store to).  The
 * runner in db/db.c applies each entry above the store's user_version in
 * its own transaction together with the user_version bump.
 */

#include <stddef.h>

struct db;

struct migration {
	int version; /* NNNN: the user_version after this migration */
	const char *name; /* "NNNN_slug", for messages */
	const char *sql; /* statements, no BEGIN/COMMIT */
};

/* The table, ascending by version; generated. */
extern const struct migration migrations[];
extern const size_t migrations_count;

/*
 * db_open_with_migrations(path, m, n, out):
 * db_open with the ${n} migrations ${m} (ascending versions) instead of the
 * compiled-in table: the seam the tests use to build stores at older
 * versions and to make a migration fail halfway.  Same contract as db_open.
 */
int db_open_with_migrations(
    const char *path, const struct migration *m, size_t n, struct db **out);

/*
 * db_query_plan(db, name, buf, len):
 * EXPLAIN QUERY PLAN of the store's query ${name} ("history",
 * "history_changes", "latest", "list", "list_state", "newest_active",
 * "slot_taken", "find_name", "find_arm_id", "channel", "decisions",
 * "last_decision", "last_decision_pool"): one detail line a step, into ${buf}.
 * For the tests that keep the hot queries on their indexes.  0/-1.
 */
int db_query_plan(struct db *db, const char *name, char *buf, size_t len);

/*
 * db_pragma_int(db, name, out):
 * The connection's PRAGMA ${name} ("cache_size", "mmap_size",
 * "synchronous", "foreign_keys"), for the tests that hold db_open to the
 * settings db.c's essay chooses.  0/-1.
 */
int db_pragma_int(struct db *db, const char *name, long long *out);

#endif
