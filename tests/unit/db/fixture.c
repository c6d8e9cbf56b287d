/*
 * fixture.c -- the store floor's unit-test fixture (fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/log.h"
#include "job/base/util.h"
#include "tests/unit/db/fixture.h"

static void
capture(void *ctx, const char *line)
{
	struct fx *f = ctx;
	int n;

	n = snprintf(
	    f->log + f->loglen, sizeof(f->log) - f->loglen, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(f->log) - f->loglen)
		f->loglen += (size_t)n;
}

int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_db.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/aksnap.db", f->dir);
	log_set_sink(capture, f);
	*state = f;
	return 0;
}

int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];

	db_close(f->db);
	log_set_sink(NULL, NULL);
	/* A test may have made the directory immutable (chattr +i). */
	snprintf(cmd, sizeof(cmd), "chattr -i %s 2>/dev/null; rm -rf %s",
	    f->dir, f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

void
clear_log(struct fx *f)
{
	f->log[0] = '\0';
	f->loglen = 0;
}

void
assert_logged(struct fx *f, const char *what)
{
	if (strstr(f->log, what) == NULL)
		fail_msg("log lacks \"%s\"; it holds:\n%s", what, f->log);
}

void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *c = NULL;
	char *err = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	rc = sqlite3_exec(c, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(c);
}

sqlite3 *
raw_lock(const char *path)
{
	sqlite3 *c = NULL;

	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(c, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	return c;
}

void
raw_unlock(sqlite3 *c)
{
	assert_int_equal(
	    sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(c);
}

long long
raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *c = NULL;
	long long v = -999;

	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(c);
	return v;
}

void
raw_text(const char *path, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	sqlite3 *c = NULL;

	buf[0] = '\0';
	assert_int_equal(sqlite3_open(path, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		util_strlcpy(buf, (const char *)sqlite3_column_text(s, 0), len);
	sqlite3_finalize(s);
	sqlite3_close(c);
}

struct db_versions
ver(const char *image, const char *k8s, int fips)
{
	struct db_versions v;

	memset(&v, 0, sizeof(v));
	util_strlcpy(v.node_image_version, image, sizeof(v.node_image_version));
	util_strlcpy(v.kubernetes_version, k8s, sizeof(v.kubernetes_version));
	util_strlcpy(v.os_type, "Linux", sizeof(v.os_type));
	util_strlcpy(v.os_sku, "Ubuntu", sizeof(v.os_sku));
	util_strlcpy(v.vm_size, "Standard_D4s_v5", sizeof(v.vm_size));
	v.enable_fips = fips;
	return v;
}

void
add_decision(struct db *db, int64_t run, int64_t pool, int64_t snap, time_t at,
    time_t slot, const char *action, const char *reasons,
    const char *fingerprint)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = run;
	d.pool_id = pool;
	d.snapshot_id = snap;
	d.at = at;
	d.slot = slot;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, reasons, sizeof(d.reasons));
	util_strlcpy(d.fingerprint, fingerprint, sizeof(d.fingerprint));
	assert_int_equal(db_decision_add(db, &d), 0);
}
