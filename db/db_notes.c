/*
 * db_notes.c -- the release_notes table: one row per node image version
 * whose notes were fetched.  Statements are prepared per call: notes are
 * read a handful of times per command, never in a loop over a fleet.
 */
#include "db/db_notes.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/util.h"

int
db_notes_get(struct db *db, const char *image, struct db_notes *out)
{
	sqlite3 *c = db_sqlite(db);
	sqlite3_stmt *s = NULL;
	const void *blob;
	int rc, n, found = -1;

	memset(out, 0, sizeof(*out));
	if (sqlite3_prepare_v2(c,
	        "SELECT node_image_version, path, url, fetched_at, sha256, "
	        "body FROM release_notes WHERE node_image_version = ?1",
	        -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "read release notes");
	sqlite3_bind_text(s, 1, image, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		found = 0;
		goto done;
	}
	if (rc != SQLITE_ROW) {
		db_fail(db, "read release notes");
		goto done;
	}
	db_col_text(
	    s, 0, out->node_image_version, sizeof(out->node_image_version));
	db_col_text(s, 1, out->path, sizeof(out->path));
	db_col_text(s, 2, out->url, sizeof(out->url));
	out->fetched_at = (time_t)sqlite3_column_int64(s, 3);
	db_col_text(s, 4, out->sha256, sizeof(out->sha256));
	blob = sqlite3_column_blob(s, 5);
	n = sqlite3_column_bytes(s, 5);
	out->body = malloc((size_t)n + 1);
	if (out->body == NULL)
		goto done;
	if (n > 0)
		memcpy(out->body, blob, (size_t)n);
	out->body[n] = '\0';
	out->size = (size_t)n;
	found = 1;
done:
	sqlite3_finalize(s);
	return found;
}

int
db_notes_put(struct db *db, const struct db_notes *n)
{
	sqlite3 *c = db_sqlite(db);
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(c,
	        "INSERT INTO release_notes (node_image_version, path, url, "
	        "fetched_at, sha256, size, body) VALUES (?1, ?2, ?3, ?4, ?5, "
	        "?6, ?7) ON CONFLICT (node_image_version) DO UPDATE SET "
	        "path = excluded.path, url = excluded.url, fetched_at = "
	        "excluded.fetched_at, sha256 = excluded.sha256, size = "
	        "excluded.size, body = excluded.body",
	        -1, &s, NULL) != SQLITE_OK)
		return db_fail(db, "keep release notes");
	sqlite3_bind_text(s, 1, n->node_image_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, n->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, n->url, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)n->fetched_at);
	sqlite3_bind_text(s, 5, n->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)n->size);
	sqlite3_bind_blob(
	    s, 7, n->body != NULL ? n->body : "", (int)n->size, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		db_fail(db, "keep release notes");
	else
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

int
db_notes_count(struct db *db, long long *n)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	*n = 0;
	if (sqlite3_prepare_v2(db_sqlite(db),
	        "SELECT count(*) FROM release_notes", -1, &s,
	        NULL) != SQLITE_OK)
		return db_fail(db, "count release notes");
	if (sqlite3_step(s) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		db_fail(db, "count release notes");
	}
	sqlite3_finalize(s);
	return rc;
}

void
db_notes_clear(struct db_notes *n)
{
	if (n == NULL)
		return;
	free(n->body);
	n->body = NULL;
	n->size = 0;
}
