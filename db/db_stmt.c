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
 * a store has a few dozen distinct statements.  A run asks them about
 * every pool, and the texts are long (an observation's columns, a
 * snapshot's ARM id derived in SQL): hashing a text each time was 1.1 %
 * of a steady run's instructions (callgrind, 1,000 pools).  So the hash
 * of the texts last asked for is remembered by the address of the text
 * (a memo; the text is still compared in full, and a memo that misses
 * only costs the hash), and each statement lent out is remembered with
 * its hash until it is done, newest last (usually the one done next), so
 * that db_stmt_done finds its entry without a walk of the table.
 *
 * The row helpers below are the one place a query of db/ is bound,
 * stepped and failed: a caller names its SQL, what it asks (for the
 * error message), its values (DB_ARGS) and a row reader; the helper
 * binds, steps once (db_get_one), to the end (db_each_row), into an array
 * (db_get_all) or to done (db_exec), and logs an error once through
 * db_fail.  db.c's table of statements uses the same steppers
 * (db_step_one, db_step_each, db_step_all) on its own statements, so
 * the get-one-row-by-key and step-loop code of every file is this code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"
#include "job/base/log.h"
#include "job/base/util.h"

struct stmt_entry {
	char *sql; /* NULL: an empty slot */
	uint32_t hash;
	sqlite3_stmt *s;
	int lent; /* handed out and not yet done */
};

#define MEMO 64 /* texts whose hash is remembered, by address */
#define OUT 16 /* lent statements remembered with their hash */

struct db_stmts {
	struct stmt_entry *e;
	size_t cap, n; /* cap a power of two */
	struct {
		const char *sql;
		uint32_t hash;
	} memo[MEMO];
	struct {
		sqlite3_stmt *s;
		uint32_t hash;
	} out[OUT];
	int nout;
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

/*
 * The entry of ${sql}, or the empty slot it would take, and its hash in
 * ${h}: the memo's when the text at that address was hashed before,
 * else FNV-1a, remembered.  A memo's hash finds only an entry whose text
 * is ${sql} (slot compares the whole text); one finding none may be of
 * another text once at that address (a buffer used again), so the text
 * is hashed again.
 */
static struct stmt_entry *
find(struct db_stmts *c, const char *sql, uint32_t *h)
{
	size_t m = ((uintptr_t)sql >> 3) & (MEMO - 1);
	int memo = c->memo[m].sql == sql;
	struct stmt_entry *e;

	*h = memo ? c->memo[m].hash : util_fnv1a32(sql);
	e = slot(c, sql, *h);
	if (e->sql == NULL && memo) {
		*h = util_fnv1a32(sql);
		e = slot(c, sql, *h);
	}
	c->memo[m].sql = sql;
	c->memo[m].hash = *h;
	return e;
}

/* Remember ${s} lent with the hash ${h} (forgotten when there are many). */
static void
lend(struct db_stmts *c, sqlite3_stmt *s, uint32_t h)
{
	if (c->nout < OUT) {
		c->out[c->nout].s = s;
		c->out[c->nout].hash = h;
		c->nout++;
	}
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
	uint32_t h;

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			goto fresh;
		*cp = c;
	}
	if ((c->n + 1) * 2 > c->cap && grow(c))
		goto fresh;
	e = find(c, sql, &h);
	if (e->sql != NULL && !e->lent) {
		e->lent = 1;
		lend(c, e->s, h);
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
	lend(c, s, h);
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
 * found by the pointer, not by sqlite3_sql's text, which need not be
 * byte for byte the text it was prepared from.  A statement remembered
 * as lent is looked for from its hash's slot on (entries never move but
 * when the table grows, which keeps every entry on its hash's chain);
 * any other (or one not met there), over the whole table (a few dozen
 * slots).
 */
static struct stmt_entry *
entry_of(struct db_stmts *c, sqlite3_stmt *s)
{
	size_t i;
	int k;

	if (c == NULL)
		return NULL;
	for (k = c->nout - 1; k >= 0 && c->out[k].s != s; k--)
		;
	if (k >= 0) {
		i = c->out[k].hash & (c->cap - 1);
		memmove(&c->out[k], &c->out[k + 1],
		    (size_t)(c->nout - k - 1) * sizeof(c->out[0]));
		c->nout--;
		for (; c->e[i].sql != NULL; i = (i + 1) & (c->cap - 1))
			if (c->e[i].s == s)
				return &c->e[i];
	}
	for (i = 0; i < c->cap; i++)
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

/* ---- the row helpers (db_internal.h) ---- */

/* Bind ${a} to ?1..?n of ${s}.  0, or -1 logged naming ${what}. */
static int
bind_args(struct db *db, sqlite3_stmt *s, const char *what, struct db_args a)
{
	int b = SQLITE_OK;

	for (int i = 0; i < a.n && b == SQLITE_OK; i++) {
		const struct db_arg *v = &a.v[i];

		switch (v->kind) {
		case DB_ARG_INT:
			b = sqlite3_bind_int64(s, i + 1, v->i);
			break;
		case DB_ARG_OPT_INT:
			b = v->i != 0 ? sqlite3_bind_int64(s, i + 1, v->i)
			              : sqlite3_bind_null(s, i + 1);
			break;
		case DB_ARG_OPT:
			b = db_bind_opt(s, i + 1, v->t);
			break;
		case DB_ARG_TEXT:
			b = v->t != NULL ? sqlite3_bind_text(s, i + 1, v->t, -1,
			                       SQLITE_TRANSIENT)
			                 : sqlite3_bind_null(s, i + 1);
			break;
		case DB_ARG_BLOB:
			b = sqlite3_bind_blob(s, i + 1,
			    v->t != NULL ? v->t : "", (int)v->i,
			    SQLITE_TRANSIENT);
			break;
		case DB_ARG_SKIP:
			break;
		}
	}
	return b == SQLITE_OK ? 0 : db_fail(db, what);
}

int
db_step_one(struct db *db, sqlite3_stmt *s, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	int rc;

	if (bind_args(db, s, what, args))
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_fail(db, what);
	if (row != NULL && row(ctx, s) < 0)
		return -1;
	return 1;
}

int
db_step_each(struct db *db, sqlite3_stmt *s, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	int rc, stop;

	if (bind_args(db, s, what, args))
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		stop = row(ctx, s);
		if (stop != 0)
			return stop < 0 ? -1 : 1;
	}
	if (rc != SQLITE_DONE)
		return db_fail(db, what);
	return 0;
}

/* db_step_all's array and the caller's reader (db_step_each's ${ctx}). */
struct all_ctx {
	struct db *db;
	const char *what;
	db_row_fn *row;
	struct db_rows *rows;
};

/* One more element at the end of the array, read by the caller's row. */
static int
all_row(void *ctx, sqlite3_stmt *s)
{
	struct all_ctx *a = ctx;
	struct db_rows *o = a->rows;
	unsigned char *e;

	if (o->n == o->cap) {
		size_t ncap = o->cap != 0 ? o->cap * 2 : 16;
		void *nv = realloc(o->v, ncap * o->size);

		if (nv == NULL) {
			log_err(NULL, "%s: %s: out of memory",
			    db_path_of(a->db), a->what);
			return -1;
		}
		o->v = nv;
		o->cap = ncap;
	}
	e = (unsigned char *)o->v + o->n * o->size;
	memset(e, 0, o->size);
	if (a->row(e, s) < 0)
		return -1;
	o->n++;
	return 0;
}

int
db_step_all(struct db *db, sqlite3_stmt *s, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	struct db_rows *rows = ctx;
	struct all_ctx a = {db, what, row, rows};

	if (db_step_each(db, s, what, args, all_row, &a) < 0) {
		free(rows->v);
		rows->v = NULL;
		rows->n = rows->cap = 0;
		return -1;
	}
	return 0;
}

int
db_ask(struct db *db, const char *sql, db_step_fn *step, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	sqlite3_stmt *s = db_stmt(db, sql, what);
	int rc;

	if (s == NULL)
		return -1;
	rc = step(db, s, what, args, row, ctx);
	db_stmt_done(db, s);
	return rc;
}

int
db_get_one(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	return db_ask(db, sql, db_step_one, what, args, row, ctx);
}

int
db_each_row(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	return db_ask(db, sql, db_step_each, what, args, row, ctx);
}

int
db_get_all(struct db *db, const char *sql, const char *what,
    struct db_args args, db_row_fn *row, struct db_rows *rows)
{
	return db_ask(db, sql, db_step_all, what, args, row, rows);
}

int
db_exec(struct db *db, const char *sql, const char *what, struct db_args args)
{
	return db_ask(db, sql, db_step_one, what, args, NULL, NULL) < 0 ? -1
	                                                                : 0;
}

int
db_row_int64(void *ctx, sqlite3_stmt *s)
{
	*(int64_t *)ctx = sqlite3_column_int64(s, 0);
	return 0;
}

int
db_row_text(void *ctx, sqlite3_stmt *s)
{
	struct db_text *t = ctx;

	db_col_text(s, 0, t->buf, t->len);
	return 0;
}

/* ${id} in decimal on ${f}: by hand, fprintf's parsing of its format
 * was most of the array's cost at 10,000 pools. */
static void
put_id(FILE *f, int64_t id)
{
	char digits[24];
	size_t n = sizeof(digits);
	uint64_t v = id < 0 ? 0 - (uint64_t)id : (uint64_t)id;

	do
		digits[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (id < 0)
		digits[--n] = '-';
	fwrite(digits + n, 1, sizeof(digits) - n, f);
}

int
db_pools_json(const int64_t *ids, const char *const *channels, size_t n,
    const char *channel, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);
	int bad, first = 1;

	if (f == NULL) {
		log_err(NULL, "store: out of memory");
		return -1;
	}
	/* the stream is this function's alone: no lock a character */
	(void)__fsetlocking(f, FSETLOCKING_BYCALLER);
	putc('[', f);
	for (size_t k = 0; k < n; k++) {
		if (channel != NULL && strcmp(channels[k], channel) != 0)
			continue;
		if (!first)
			putc(',', f);
		first = 0;
		put_id(f, ids[k]);
	}
	putc(']', f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		log_err(NULL, "store: out of memory");
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
