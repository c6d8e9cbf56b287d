/*
 * db_notes.c -- the release_notes table: one row per node image version
 * whose notes were fetched.  Notes are read a handful of times per
 * command, never in a loop over a fleet; the statements come from the
 * connection's cache (db_stmt) like every other topic file's.
 */
#include "db/db_notes.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

/* A release_notes row into the struct db_notes ${ctx} (its body a copy). */
static int
row_notes(void *ctx, sqlite3_stmt *s)
{
	struct db_notes *out = ctx;
	const void *blob;
	int n;

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
		return -1;
	if (n > 0)
		memcpy(out->body, blob, (size_t)n);
	out->body[n] = '\0';
	out->size = (size_t)n;
	return 0;
}

int
db_notes_get(struct db *db, const char *image, struct db_notes *out)
{
	memset(out, 0, sizeof(*out));
	return db_get_one(db,
	    "SELECT node_image_version, path, url, fetched_at, sha256, "
	    "body FROM release_notes WHERE node_image_version = ?1",
	    "read release notes", DB_ARGS(DB_TEXT(image)), row_notes, out);
}

int
db_notes_put(struct db *db, const struct db_notes *n)
{
	return db_exec(db,
	    "INSERT INTO release_notes (node_image_version, path, url, "
	    "fetched_at, sha256, size, body) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7) ON CONFLICT (node_image_version) DO UPDATE SET "
	    "path = excluded.path, url = excluded.url, fetched_at = "
	    "excluded.fetched_at, sha256 = excluded.sha256, size = "
	    "excluded.size, body = excluded.body",
	    "keep release notes",
	    DB_ARGS(DB_TEXT(n->node_image_version), DB_TEXT(n->path),
	        DB_TEXT(n->url), DB_INT(n->fetched_at), DB_TEXT(n->sha256),
	        DB_INT(n->size), DB_BLOB(n->body, n->size)));
}

int
db_notes_count(struct db *db, long long *n)
{
	int64_t v = 0;

	*n = 0;
	if (db_get_one(db, "SELECT count(*) FROM release_notes",
	        "count release notes", DB_NO_ARGS, db_row_int64, &v) != 1)
		return -1;
	*n = (long long)v;
	return 0;
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
