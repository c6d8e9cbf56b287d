/*
 * db_stmt.c -- the statements of db/'s topic files, prepared once per
 * connection (db_internal.h: db_stmt, db_stmt_done).
 *
 * db.c keeps its own statements in a table indexed by an enum; the topic
 * files (db_<topic>.c) write their SQL next to the function that runs it.
 * Preparing that text on every call cost a run over 10,000 pools a third
 * of its CPU (SQLite's parser and code generator, once per pool per
 * question), so the text is the key: the first call prepares it
 * (SQLITE_PREPARE_PERSISTENT), later calls get the same statement back,
 * and db_stmt_done resets it and clears its bindings for the next one.
 *
 * A statement is lent to one caller at a time.  When the cached one is
 * still out -- a row callback asking the same question again -- the
 * caller gets a fresh statement that db_stmt_done finalizes, as the
 * statement was prepared before this cache.  db_close finalizes the whole
 * cache before closing the connection.
 *
 * The table is open addressing on the text's FNV-1a, grown at half full;
 * a store has a few dozen distinct statements.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/util.h"

struct stmt_entry {
	char *sql; /* NULL: an empty slot */
	uint32_t hash;
	sqlite3_stmt *s;
	int lent; /* handed out and not yet done */
};

struct db_stmts {
	struct stmt_entry *e;
	size_t cap, n; /* cap a power of two */
};

/* The slot of ${sql} (its entry, or the empty slot it would take). */
static struct stmt_entry *
slot(struct db_stmts *c, const char *sql, uint32_t h)
{
	size_t i = h & (c->cap - 1);

	while (c->e[i].sql != NULL &&
	    (c->e[i].hash != h || strcmp(c->e[i].sql, sql) != 0))
		i = (i + 1) & (c->cap - 1);
	return &c->e[i];
}

/* Double the table (or make it).  0/-1. */
static int
grow(struct db_stmts *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 64;
	struct stmt_entry *old = c->e, *ne;
	size_t ocap = c->cap;

	ne = calloc(ncap, sizeof(*ne));
	if (ne == NULL)
		return -1;
	c->e = ne;
	c->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].sql != NULL)
			*slot(c, old[i].sql, old[i].hash) = old[i];
	free(old);
	return 0;
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql, const char *what)
{
	struct db_stmts **cp = db_stmts_of(db), *c = *cp;
	struct stmt_entry *e;
	sqlite3_stmt *s = NULL;
	uint32_t h = util_fnv1a32(sql);

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			goto fresh;
		*cp = c;
	}
	if ((c->n + 1) * 2 > c->cap && grow(c))
		goto fresh;
	e = slot(c, sql, h);
	if (e->sql != NULL && !e->lent) {
		e->lent = 1;
		return e->s;
	}
	if (e->sql != NULL)
		goto fresh;
	if (sqlite3_prepare_v3(db_sqlite(db), sql, -1,
	        SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		db_fail(db, what);
		return NULL;
	}
	e->sql = strdup(sql);
	if (e->sql == NULL)
		return s; /* not kept: db_stmt_done finalizes it */
	e->hash = h;
	e->s = s;
	e->lent = 1;
	c->n++;
	return s;
fresh:
	if (sqlite3_prepare_v2(db_sqlite(db), sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		db_fail(db, what);
		return NULL;
	}
	return s;
}

/*
 * The entry holding ${s}, or NULL when ${s} is not one of the cache's:
 * found by the pointer (a few dozen slots), not by sqlite3_sql's text,
 * which need not be byte for byte the text it was prepared from.
 */
static struct stmt_entry *
entry_of(struct db_stmts *c, sqlite3_stmt *s)
{
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < c->cap; i++)
		if (c->e[i].sql != NULL && c->e[i].s == s)
			return &c->e[i];
	return NULL;
}

void
db_stmt_done(struct db *db, sqlite3_stmt *s)
{
	struct stmt_entry *e;

	if (s == NULL)
		return;
	e = entry_of(*db_stmts_of(db), s);
	if (e == NULL) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	e->lent = 0;
}

size_t
db_stmt_count(struct db *db)
{
	struct db_stmts *c = *db_stmts_of(db);

	return c != NULL ? c->n : 0;
}

void
db_stmts_free(struct db_stmts *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->cap; i++) {
		sqlite3_finalize(c->e[i].s);
		free(c->e[i].sql);
	}
	free(c->e);
	free(c);
}
