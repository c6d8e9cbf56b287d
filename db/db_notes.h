#ifndef AKSNAP_DB_NOTES_H
#define AKSNAP_DB_NOTES_H

/*
 * db_notes.h -- node image release notes kept in the store (table
 * release_notes, migrations/0006): fetched once per image version, then
 * read offline by `changes` and by promotion.
 */

#include <stddef.h>
#include <time.h>

#include "db/db.h"

struct db_notes {
	char node_image_version[128];
	char path[256]; /* AgentBaker's <family>/<variant>/<version> */
	char url[1024]; /* where it was fetched from */
	time_t fetched_at;
	char sha256[65]; /* hex, of body */
	char *body; /* malloc'd, NUL-terminated; db_notes_clear frees */
	size_t size;
};

/*
 * db_notes_get(db, image, out):
 * The kept notes of node image version ${image}: 1 with ${out} filled
 * (release with db_notes_clear), 0 when none are kept, -1 on a store
 * error (logged).
 */
int db_notes_get(struct db *db, const char *image, struct db_notes *out);

/*
 * db_notes_put(db, n):
 * Keep ${n} (replacing what was kept for its image version).  0 or -1
 * (logged).
 */
int db_notes_put(struct db *db, const struct db_notes *n);

/* db_notes_count(db, n): how many image versions have notes kept.  0/-1. */
int db_notes_count(struct db *db, long long *n);

/* db_notes_clear(n): free the body; NULL is fine. */
void db_notes_clear(struct db_notes *n);

#endif
