/*
 * test_faults.c -- the end-to-end fault suite (issue 11): every fault the
 * emulator can play, one table row each, and the invariants none of them
 * may break.
 *
 * Each row gets a fresh emulator (tests/fixtures/fleet-faults.json: two
 * clusters, four pools, one foreign snapshot and one foreign snapshot
 * tagged aksnap-managed), a fresh store and three fault-free daily runs,
 * which leave every pool with snapshots and a promoted baseline (b-batch
 * is `snapshot_when = changed` with no promotion).  Then the row's fault
 * is armed, its command (`run`, `apply`, `prune`, `promote`) runs with
 * -vv, and its exit code is checked against DESIGN.md section 3.  The
 * fault is lifted, and a recovery -- the same command again when it was
 * not `run`, then `run` in the same slot -- must exit 0.  Then:
 *
 *   duplicates  two snapshots of one pool and slot, in Azure (emulator
 *               state) or as live rows of the store;
 *   lost        a snapshot aksnap took (createdBy = our client id) that
 *               Azure holds and the store does not hold as `active`;
 *   ghosts      an `active` row that Azure does not hold, or holds with
 *               other versions;
 *   foreign     a PUT, PATCH or DELETE on a snapshot aksnap did not take
 *               (the emulator's request log), or such a snapshot changed;
 *   secrets     the client secret, a bearer token the emulator issued or
 *               a JWT ("eyJ" and base64url) in stdout, stderr (-vv), the
 *               store, its WAL or the metrics file;
 *   pending     rows still creating, deleting or unconfirmed;
 *   missed      a pool due in the slot without an active snapshot of it;
 *   channel     an active snapshot whose aksnap-channel tag in Azure is
 *               not the channel the store gives it;
 *   stray       a write the step sent after the store had failed (rows
 *               that say which methods must not be sent);
 *
 * all must be 0.  The rows' figures are printed as one table on stdout
 * at the end (it goes into the closing note).
 *
 * Faults that must hit aksnap mid-step (SIGKILL, token expiry, a disk
 * that fills, a store that gets locked) hold one request with a latency
 * rule and act while the emulator sleeps on it (those steps run without
 * $AKSNAP_WRAPPER).  The full-disk rows put the whole test directory on
 * a small tmpfs, which needs root (as `make check` runs here).
 *
 * FAULTS_FILTER="*SIGKILL*" runs only the matching rows; FAULTS_LOG=1
 * prints what aksnap said (without the HTTP trace) for every row.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/certs.h"
#include "tests/e2e/harness.h"

#define T13 "2026-11-13T03:00:00Z"
#define T13_LATER "2026-11-13T03:30:00Z"
#define SLOT13 "2026-11-13T02:00:00Z"
#define B_SYSTEM_10 "aksnap-aks-b-system-20261110T0200Z"
#define B_SYSTEM_12 "aksnap-aks-b-system-20261112T0200Z"
#define B_SYSTEM_13 "aksnap-aks-b-system-20261113T0200Z"
#define TMPFS_SIZE "1m"

static const char *const SETUP_DAYS[] = {
    "2026-11-10T03:00:00Z", "2026-11-11T03:00:00Z", "2026-11-12T03:00:00Z"};

/* The foreign snapshots of the fleet file: never to be touched. */
static const char *const FOREIGN[] = {"golden-2026q3", "nightly-b-system"};

/* The pools that take a snapshot in every slot (b-batch: when changed). */
static const char *const ALWAYS_POOLS[] = {"a-system", "a-user", "b-system"};

static const char *const POLICY_INI =
    "%s"
    "\n[policy:default]\n"
    "schedule = 0 2 * * *\n"
    "snapshot_when = always\n"
    "keep_last = %d\nkeep_daily = 0\nkeep_weekly = 0\nkeep_monthly = 0\n"
    "keep_yearly = 0\nkeep_within = 0\nmin_keep = 1\n"
    "max_delete_per_run = 10\n"
    "promote_after = 1d\nchannel = stable\nkeep_promoted = 1\n"
    "\n[pool:a-system]\nresource_group = rg-a\ncluster = aks-a\n"
    "nodepool = system\n"
    "\n[pool:a-user]\nresource_group = rg-a\ncluster = aks-a\n"
    "nodepool = user\n"
    "\n[pool:b-system]\nresource_group = rg-b\ncluster = aks-b\n"
    "nodepool = system\n"
    "\n[pool:b-batch]\nresource_group = rg-b\ncluster = aks-b\n"
    "nodepool = batch\nsnapshot_when = changed\npromote_after = never\n";

enum step { STEP_RUN, STEP_APPLY, STEP_PRUNE, STEP_PROMOTE, STEP_SYNC };

struct fx;

struct fault_case {
	const char *name;
	const char *rules[3]; /* emulator fault rules, armed before the step */
	enum step step;
	int want_exit; /* the step's exit code (DESIGN.md 3) */
	int tmpfs; /* the test directory on a small tmpfs */
	int tls; /* the emulator speaks HTTPS with a test CA's certificate */
	/* methods the step must not send (the store failed before), e.g.
	 * "PATCH DELETE"; NULL: no such rule */
	const char *forbidden;
	const char *says; /* in the step's output, when not NULL */
	/* before the step, after it (lift the fault), and while it runs
	 * (the step then runs in the background; rules[0] holds a request
	 * and ${during} acts once the emulator holds it) */
	void (*prepare)(struct fx *);
	void (*lift)(struct fx *);
	void (*during)(struct fx *, pid_t);
};

struct fx {
	const struct fault_case *c;
	struct harness h;
	int mounted;
	char *all_output; /* every stdout and stderr of every aksnap */
	size_t all_len;
	pid_t holder; /* a process holding the store's write lock */
	int holder_fd; /* write end of its pipe: close to release */
	int lock_fd; /* the run lock, held from here */
	long started_ms;
	int keep_last; /* the policy's */
	char ca[4096]; /* the test CA, when the emulator speaks TLS */
	int trust_ca; /* the config names it in ca_file */
	const char *extra_secret; /* a wrong secret that must not leak */
	int immutable; /* chattr +i on the test directory */
};

struct row {
	const char *name;
	int exit_code, want_exit, recovery_exit;
	long dups, lost, ghosts, foreign, secrets, pending, missed;
	long channels, stray;
	long ms; /* the row's wall time, setup included */
	int passed;
};

#define MAX_ROWS 64
static struct row rows[MAX_ROWS];
static size_t nrows;

/* ---- small helpers ---- */

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
keep_output(struct fx *f, const char *s)
{
	size_t n = strlen(s);
	char *p = realloc(f->all_output, f->all_len + n + 2);

	assert_non_null(p);
	memcpy(p + f->all_len, s, n);
	f->all_len += n;
	p[f->all_len++] = '\n';
	p[f->all_len] = '\0';
	f->all_output = p;
}

/* Run aksnap -c CONFIG with the given words; keep its output; return its
 * exit code. */
static int
aksnap(struct fx *f, ...)
{
	struct run_result r;
	va_list ap;
	int rc, code;

	va_start(ap, f);
	rc = harness_aksnap_va(&f->h, &r, ap);
	va_end(ap);
	assert_int_equal(rc, 0);
	keep_output(f, r.out);
	keep_output(f, r.err);
	code = r.exit_code;
	run_result_free(&r);
	return code;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, fp) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(fp);
	return buf;
}

static void
set_clock(struct fx *f, const char *when)
{
	char body[128];
	json_t *j;

	/* Frozen: snapshots get exactly this createdAt, however slow. */
	snprintf(
	    body, sizeof(body), "{\"now\": \"%s\", \"frozen\": true}", when);
	j = emu_post(f->h.emu, "/_armemu/clock", body);
	assert_non_null(j);
	json_decref(j);
}

/* The config for the fixture's keep_last, with ca_file when it trusts
 * the emulator's test CA; it also (re)writes the right client secret. */
static void
write_config(struct fx *f)
{
	char ini[8192], ca[4200] = "";

	if (f->trust_ca)
		snprintf(ca, sizeof(ca), "ca_file = %s\n", f->ca);
	snprintf(ini, sizeof(ini), POLICY_INI, ca, f->keep_last);
	free(f->h.config);
	f->h.config = harness_config(f->h.dir, f->h.emu, ini);
	assert_non_null(f->h.config);
}

static long
stat_in_flight(struct fx *f)
{
	json_t *st = emu_get(f->h.emu, "/_armemu/stats");
	long n = (long)json_integer_value(json_object_get(st, "in_flight"));

	json_decref(st);
	return n;
}

/* Wait until the first fault rule has fired (the held request is in the
 * emulator), then until it is the only request in flight. */
static void
wait_held(struct fx *f)
{
	int i;

	for (i = 0; i < 400; i++) {
		json_t *rules = emu_get(f->h.emu, "/_armemu/faults");
		json_t *first = json_array_get(json_is_array(rules)
		        ? rules
		        : json_object_get(rules, "faults"),
		    0);
		long hits =
		    (long)json_integer_value(json_object_get(first, "hits"));

		json_decref(rules);
		if (hits > 0)
			break;
		usleep(10 * 1000);
	}
	if (i == 400)
		fail_msg("%s: the held request never came", f->c->name);
	for (i = 0; i < 40 && stat_in_flight(f) > 1; i++)
		usleep(10 * 1000);
}

static void
wait_idle(struct fx *f)
{
	for (int i = 0; i < 400; i++) {
		if (stat_in_flight(f) == 0)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the emulator never went idle");
}

/* ---- interventions ---- */

static void
busy_b_system(struct fx *f, int busy)
{
	char body[256];

	snprintf(body, sizeof(body),
	    "{\"resourceGroup\": \"rg-b\", \"cluster\": \"aks-b\", "
	    "\"pool\": \"system\", \"busy\": %s}",
	    busy ? "true" : "false");
	json_decref(emu_post(f->h.emu, "/_armemu/pools/busy", body));
}

static void
busy_on(struct fx *f)
{
	busy_b_system(f, 1);
}

static void
busy_off(struct fx *f)
{
	busy_b_system(f, 0);
}

static void
run_lock_take(struct fx *f)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/aksnap.db.lock", f->h.dir);
	f->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(f->lock_fd >= 0);
	assert_int_equal(flock(f->lock_fd, LOCK_EX | LOCK_NB), 0);
}

static void
run_lock_release(struct fx *f)
{
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	f->lock_fd = -1;
}

/* Another process takes the store's write lock (BEGIN EXCLUSIVE) and
 * holds it until released. */
static void
store_lock_take(struct fx *f)
{
	int go[2], ready[2];
	char path[4096], c;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *db = NULL;
		int ok;

		close(go[1]);
		close(ready[0]);
		/* Waits for a writer that holds it now (aksnap mid-run). */
		ok = sqlite3_open(path, &db) == SQLITE_OK &&
		    sqlite3_busy_timeout(db, 20000) == SQLITE_OK &&
		    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
		        SQLITE_OK;
		c = ok ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		/* Hold it until the parent closes its end. */
		while (read(go[0], &c, 1) > 0)
			;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_int_equal(c, 'y');
	f->holder = pid;
	f->holder_fd = go[1];
}

static void
store_lock_release(struct fx *f)
{
	if (f->holder <= 0)
		return;
	close(f->holder_fd);
	waitpid(f->holder, NULL, 0);
	f->holder = 0;
	f->holder_fd = -1;
}

/* Take the store's lock while the run waits for its token; give it back
 * once the run has said it found it locked (its first write waited out
 * busy_timeout), so that the rest of the run can record how it ended. */
static void
store_lock_during(struct fx *f, pid_t pid)
{
	char path[4096], *text = NULL;
	size_t len;
	int i;

	(void)pid;
	wait_held(f);
	store_lock_take(f);
	snprintf(path, sizeof(path), "%s.err", f->h.dir);
	for (i = 0; i < 1000; i++) {
		text = slurp(path, &len);
		if (text != NULL && strstr(text, "locked by another process"))
			break;
		free(text);
		text = NULL;
		usleep(20 * 1000);
	}
	free(text);
	if (i == 1000)
		fail_msg("the run never said the store was locked");
	store_lock_release(f);
}

/* Fill the file system of the test directory (a tmpfs) to the last
 * byte. */
static void
disk_fill(struct fx *f)
{
	static char chunk[4096];
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/filler", f->h.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	while (write(fd, chunk, sizeof(chunk)) > 0)
		;
	while (write(fd, chunk, 1) > 0)
		;
	close(fd);
}

static void
disk_free(struct fx *f)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/filler", f->h.dir);
	unlink(path);
}

static void
disk_fill_during(struct fx *f, pid_t pid)
{
	(void)pid;
	wait_held(f);
	disk_fill(f);
}

static void
kill_during(struct fx *f, pid_t pid)
{
	wait_held(f);
	kill(pid, SIGKILL);
}

static void
expire_during(struct fx *f, pid_t pid)
{
	(void)pid;
	wait_held(f);
	json_decref(emu_post(f->h.emu, "/_armemu/tokens/expire", NULL));
}

/* prune rows: the operator tightened the policy (keep_last 2 -> 1). */
static void
tighten(struct fx *f)
{
	f->keep_last = 1;
	write_config(f);
}

/* The emulator's certificate, signed by a CA the config no longer
 * names. */
static void
distrust_ca(struct fx *f)
{
	f->trust_ca = 0;
	write_config(f);
}

static void
trust_ca(struct fx *f)
{
	f->trust_ca = 1;
	write_config(f);
}

static void
chattr(struct fx *f, const char *flag)
{
	const char *argv[] = {"chattr", flag, f->h.dir, NULL};
	struct run_result r;

	assert_int_equal(harness_run(&r, argv, NULL), 0);
	if (r.exit_code != 0)
		fail_msg("chattr %s %s: %s(the row needs a file system with "
		         "the immutable attribute)",
		    flag, f->h.dir, r.err);
	run_result_free(&r);
}

/* The store's directory (lock, WAL) cannot be written, even by root. */
static void
dir_immutable(struct fx *f)
{
	chattr(f, "+i");
	f->immutable = 1;
}

static void
dir_mutable(struct fx *f)
{
	chattr(f, "-i");
	f->immutable = 0;
}

/* A verified backup first (as an operator keeps), then one index page of
 * the store overwritten with junk. */
static void
store_corrupt(struct fx *f)
{
	char db[4096], junk[4096];
	sqlite3 *c = NULL;
	sqlite3_stmt *st = NULL;
	int page = -1, fd;

	snprintf(db, sizeof(db), "%s/backup.db", f->h.dir);
	assert_int_equal(aksnap(f, "db", "backup", db, NULL), 0);
	snprintf(db, sizeof(db), "%s/aksnap.db", f->h.dir);
	assert_int_equal(sqlite3_open(db, &c), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(c,
	                     "SELECT rootpage FROM sqlite_master WHERE name = "
	                     "'decisions_by_snapshot'",
	                     -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		page = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(c);
	assert_true(page > 1);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(db, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk),
	                     (off_t)(page - 1) * (off_t)sizeof(junk)),
	    (ssize_t)sizeof(junk));
	close(fd);
}

/* The operator puts the backup back. */
static void
store_restore(struct fx *f)
{
	char from[4096], to[4096];

	snprintf(from, sizeof(from), "%s/backup.db", f->h.dir);
	snprintf(to, sizeof(to), "%s/aksnap.db-wal", f->h.dir);
	unlink(to);
	snprintf(to, sizeof(to), "%s/aksnap.db-shm", f->h.dir);
	unlink(to);
	snprintf(to, sizeof(to), "%s/aksnap.db", f->h.dir);
	assert_int_equal(rename(from, to), 0);
}

#define WRONG_SECRET "wrong-secret-2c1e9f0a"

/* Entra ID refuses the secret (AADSTS7000215): someone rotated it. */
static void
wrong_secret(struct fx *f)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/secret", f->h.dir);
	assert_int_equal(harness_write_file(path, WRONG_SECRET, 0600), 0);
	f->extra_secret = WRONG_SECRET;
}

/* write_config writes the right secret again. */
static void
right_secret(struct fx *f)
{
	write_config(f);
}

/* ---- the fault table ---- */

/* A fault rule of action ${a} (and more JSON ${more}) on ${m} ${p}; an
 * empty method is any. */
#define RULE(m, p, a, more)                                                    \
	"{\"method\": \"" m "\", \"path\": \"" p "\", \"action\": \"" a        \
	"\"" more "}"
#define STATUS(m, p, st, count)                                                \
	RULE(m, p, "status",                                                   \
	    ", \"status\": " #st ", \"retry_after\": 0, \"count\": " #count)
/* Hold the first matching request 1.5 s: long enough to act in between. */
#define HOLD(m, p) RULE(m, p, "latency", ", \"latency_ms\": 1500, \"count\": 1")

#define SNAPS "*/snapshots/*"
#define SNAPS_OF(pool) "*/snapshots/aksnap-aks-" pool "-*"

static const struct fault_case CASES[] = {
    {.name = "no fault"},
    {.name = "429 Retry-After on snapshot PUTs",
        .rules = {RULE("PUT", SNAPS, "status",
            ", \"status\": 429, \"retry_after\": 1, \"count\": 3")}},
    {.name = "429 Retry-After on the cluster GET",
        .rules = {STATUS("GET", "*/managedClusters/*", 429, 2)}},
    {.name = "500 burst on snapshot PUTs",
        .rules = {STATUS("PUT", SNAPS, 500, 4)}},
    {.name = "502 burst on tag PATCHes",
        .rules = {STATUS("PATCH", SNAPS, 502, 4)}},
    {.name = "503 burst on DELETEs",
        .rules = {STATUS("DELETE", SNAPS, 503, 4)}},
    {.name = "500 storm on one pool's PUT",
        .rules = {STATUS("PUT", SNAPS_OF("b-system"), 500, -1)},
        .want_exit = 1},
    {.name = "502 storm on one pool's PATCHes",
        .rules = {STATUS("PATCH", SNAPS_OF("a-user"), 502, -1)},
        .want_exit = 1},
    {.name = "503 storm on one pool's DELETE",
        .rules = {STATUS("DELETE", SNAPS_OF("a-system"), 503, -1)},
        .want_exit = 1},
    {.name = "503 storm on every ARM call (nothing done)",
        .rules = {STATUS("", "/subscriptions/*", 503, -1)},
        .want_exit = 75,
        .says = "only with temporary errors"},
    {.name = "503 storm on the token endpoint",
        .rules = {STATUS("", "*/oauth2/*", 503, -1)},
        .want_exit = 75},
    {.name = "429 Retry-After from the token endpoint",
        .rules = {STATUS("POST", "*/oauth2/*", 429, 2)}},
    {.name = "HTML 200 body from the token endpoint",
        .rules = {RULE("POST", "*/oauth2/*", "garbage", "")},
        .want_exit = 1,
        .forbidden = "GET PUT PATCH DELETE"},
    {.name = "dropped connection on the cluster GET",
        .rules = {RULE("GET", "*/managedClusters/*", "drop", "")}},
    {.name = "dropped connections on snapshot PUTs",
        .rules = {RULE("PUT", SNAPS, "drop", ", \"count\": 2")}},
    {.name = "dropped connection on a DELETE",
        .rules = {RULE("DELETE", SNAPS, "drop", "")}},
    {.name = "HTML 502 gateway page on snapshot PUTs",
        .rules = {RULE(
            "PUT", SNAPS, "garbage", ", \"status\": 502, \"count\": 2")}},
    {.name = "HTML 200 body on the cluster GET",
        .rules = {RULE("GET", "*/managedClusters/aks-b", "garbage", "")},
        .want_exit = 1},
    {.name = "HTML 200 body on a snapshot PUT",
        .rules = {RULE("PUT", SNAPS_OF("a-user"), "garbage", "")},
        .want_exit = 1},
    {.name = "truncated body on the cluster GET",
        .rules = {RULE("GET", "*/managedClusters/aks-a", "truncated", "")},
        .want_exit = 1},
    {.name = "truncated body on a snapshot PUT",
        .rules = {RULE("PUT", SNAPS_OF("a-user"), "truncated", "")},
        .want_exit = 1},
    {.name = "truncated body on a tag PATCH",
        .rules = {RULE("PATCH", SNAPS, "truncated", "")},
        .want_exit = 1},
    {.name = "token expiry mid-run",
        .rules = {HOLD("PUT", SNAPS_OF("a-system"))},
        .during = expire_during},
    {.name = "409 OperationNotAllowed (busy pool)",
        .want_exit = 1,
        .prepare = busy_on,
        .lift = busy_off},
    {.name = "409 OperationNotAllowed on DELETE",
        .rules = {RULE("DELETE", SNAPS, "status",
            ", \"status\": 409, \"error_code\": \"OperationNotAllowed\", "
            "\"count\": -1")},
        .want_exit = 1},
    {.name = "apply: long-running operation fails",
        .rules = {RULE("POST", "*/upgradeNodeImageVersion", "lro_fail", "")},
        .step = STEP_APPLY,
        .want_exit = 1},
    {.name = "apply: 500 burst on operation polls",
        .rules = {STATUS("GET", "*/operations/*", 500, 2)},
        .step = STEP_APPLY},
    {.name = "prune: 503 storm on DELETEs",
        .rules = {STATUS("DELETE", SNAPS, 503, -1)},
        .step = STEP_PRUNE,
        .want_exit = 1,
        .prepare = tighten},
    {.name = "promote: 502 storm on PATCHes",
        .rules = {STATUS("PATCH", SNAPS, 502, -1)},
        .step = STEP_PROMOTE,
        .want_exit = 1},
    /* ARM that lies: answers as if done and does nothing (DESIGN.md 6,
     * Verification). */
    {.name = "PUT answers 201 {} and makes nothing",
        .rules = {RULE("PUT", SNAPS_OF("b-system"), "put_empty", "")},
        .want_exit = 1},
    {.name = "PUT answers 201 naming another snapshot",
        .rules = {RULE("PUT", SNAPS_OF("b-system"), "put_other", "")},
        .want_exit = 1},
    {.name = "DELETE answers 200 and deletes nothing",
        .rules = {RULE("DELETE", SNAPS_OF("a-system"), "delete_noop", "")},
        .want_exit = 1},
    {.name = "PATCH answers 200 and drops the tag",
        .rules = {RULE("PATCH", SNAPS_OF("a-user"), "patch_noop", "")},
        .want_exit = 1},
    {.name = "apply: operation Succeeded, pool unchanged",
        .rules = {RULE("POST", "*/upgradeNodeImageVersion", "lro_noop", "")},
        .step = STEP_APPLY,
        .want_exit = 1,
        .says = "expected node image"},
    {.name = "SIGKILL while the cluster GET is in flight",
        .rules = {HOLD("GET", "*/managedClusters/aks-b")},
        .want_exit = 137,
        .during = kill_during},
    {.name = "SIGKILL while a snapshot PUT is in flight",
        .rules = {HOLD("PUT", SNAPS_OF("b-system"))},
        .want_exit = 137,
        .during = kill_during},
    {.name = "SIGKILL while a tag PATCH is in flight",
        .rules = {HOLD("PATCH", SNAPS_OF("b-system"))},
        .want_exit = 137,
        .during = kill_during},
    {.name = "SIGKILL while a DELETE is in flight",
        .rules = {HOLD("DELETE", SNAPS_OF("b-system"))},
        .want_exit = 137,
        .during = kill_during},
    /* Verification's own reads (DESIGN.md 6): the GET after a PUT whose
     * answer did not show the snapshot, and the GET after a DELETE. */
    {.name = "SIGKILL while a lying PUT's check GET is in flight",
        .rules = {HOLD("GET", "*/snapshots/" B_SYSTEM_13),
            RULE("PUT", SNAPS_OF("b-system"), "put_empty", "")},
        .want_exit = 137,
        .during = kill_during},
    {.name = "SIGKILL while a DELETE's check GET is in flight",
        .rules = {HOLD("GET", "*/snapshots/" B_SYSTEM_10)},
        .want_exit = 137,
        .during = kill_during},
    {.name = "TLS certificate not trusted (ca_file dropped)",
        .want_exit = 2,
        .tls = 1,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = distrust_ca,
        .lift = trust_ca,
        .says = "ca_file"},
    {.name = "Entra ID refuses the secret (AADSTS7000215)",
        .want_exit = 2,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = wrong_secret,
        .lift = right_secret,
        .says = "AADSTS7000215"},
    /* Ownership (DESIGN.md 6): nightly-b-system is tagged aksnap-managed
     * for b-system, but its name is not one this store gives. */
    {.name = "sync: a foreign snapshot tagged aksnap-managed",
        .step = STEP_SYNC,
        .says = "conflicts 1"},
    {.name = "sync: the list leaves ours out (eventual consistency)",
        .rules = {RULE("GET",
            "*/providers/Microsoft.ContainerService/snapshots", "omit",
            ", \"name\": \"aksnap-*\", \"count\": -1")},
        .step = STEP_SYNC},
    {.name = "sync: 503 storm on the snapshot list",
        .rules = {STATUS("GET",
            "*/providers/Microsoft.ContainerService/snapshots", 503, -1)},
        .step = STEP_SYNC,
        .want_exit = 75},
    {.name = "store corrupt (an index page overwritten)",
        .want_exit = 2,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = store_corrupt,
        .lift = store_restore,
        .says = "integrity check"},
    {.name = "store directory not writable (immutable)",
        .want_exit = 2,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = dir_immutable,
        .lift = dir_mutable,
        .says = "not writable"},
    {.name = "run lock held by another process",
        .want_exit = 75,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = run_lock_take,
        .lift = run_lock_release,
        .says = "lock"},
    {.name = "store locked by another process",
        .want_exit = 75,
        .forbidden = "GET PUT PATCH DELETE",
        .prepare = store_lock_take,
        .lift = store_lock_release,
        .says = "locked by another process"},
    /* aksnap holds the write lock from the first answer of a batch to its
     * end, so another writer gets in only between batches: here, while
     * the run waits for its token. */
    {.name = "store locked after the run started",
        .rules = {HOLD("POST", "*/oauth2/*")},
        .want_exit = 75,
        .forbidden = "PUT PATCH DELETE",
        .lift = store_lock_release,
        .during = store_lock_during,
        .says = "nothing is sent to Azure"},
    {.name = "disk full before the run",
        .want_exit = 1,
        .tmpfs = 1,
        .forbidden = "PUT PATCH DELETE",
        .prepare = disk_fill,
        .lift = disk_free,
        .says = "No space left on device"},
    {.name = "disk fills while a PUT is in flight",
        .rules = {HOLD("PUT", SNAPS_OF("b-system"))},
        .want_exit = 1,
        .tmpfs = 1,
        .forbidden = "PATCH DELETE",
        .lift = disk_free,
        .during = disk_fill_during,
        .says = "nothing more is sent to Azure"},
};

#define NCASES (sizeof(CASES) / sizeof(CASES[0]))

/* ---- fixture ---- */

static int
setup(void **state)
{
	const char *fixtures = getenv("FIXTURES_DIR");
	char fleet[4096];
	char cert[4096], key[4096];
	const char *args[] = {"--fleet", fleet, "--retry-after", "0",
	    "--lro-polls", "1", NULL, NULL, NULL, NULL, NULL};
	const struct fault_case *c = *state;
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->c = c;
	f->started_ms = now_ms();
	f->lock_fd = -1;
	f->holder_fd = -1;
	*state = f;
	if (harness_open_dir(&f->h) != 0)
		return -1;
	if (c->tmpfs) {
		if (mount("aksnap-faults", f->h.dir, "tmpfs", 0,
		        "size=" TMPFS_SIZE ",mode=0700") != 0) {
			fprintf(stderr, "mount tmpfs on %s: %s (needs root)\n",
			    f->h.dir, strerror(errno));
			return -1;
		}
		f->mounted = 1;
	}
	snprintf(fleet, sizeof(fleet), "%s/fleet-faults.json",
	    fixtures != NULL ? fixtures : "tests/fixtures");
	if (c->tls) {
		if (certs_tls_server(f->h.dir, f->ca, cert, key, sizeof(cert)))
			return -1;
		args[6] = "--tls-cert";
		args[7] = cert;
		args[8] = "--tls-key";
		args[9] = key;
	}
	if (access(fleet, R_OK) != 0) {
		fprintf(stderr, "%s: %s\n", fleet, strerror(errno));
		return -1;
	}
	/* The configuration is written by each case (write_config). */
	if (harness_start(&f->h, args, NULL) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_lock_release(f);
	run_lock_release(f);
	if (f->immutable)
		dir_mutable(f);
	emu_stop(f->h.emu);
	f->h.emu = NULL;
	if (f->mounted)
		umount2(f->h.dir, MNT_DETACH);
	harness_fini(&f->h);
	free(f->all_output);
	free(f);
	return 0;
}

/* Three fault-free daily runs: snapshots of every pool and a promoted
 * baseline; the day 10 ones are due for deletion on day 13. */
static void
history(struct fx *f)
{
	f->keep_last = 2;
	f->trust_ca = f->ca[0] != '\0';
	write_config(f);
	for (size_t i = 0; i < sizeof(SETUP_DAYS) / sizeof(SETUP_DAYS[0]);
	     i++) {
		set_clock(f, SETUP_DAYS[i]);
		if (aksnap(f, "run", "--as-of", SETUP_DAYS[i], NULL) != 0)
			fail_msg("setup run %s failed:\n%s", SETUP_DAYS[i],
			    f->all_output);
	}
}

/* The words of a step's command (after -c CONFIG -vv). */
static void
step_argv(enum step s, const char *as_of, const char **argv)
{
	size_t n = 0;

	switch (s) {
	case STEP_RUN:
		argv[n++] = "run";
		argv[n++] = "--as-of";
		argv[n++] = as_of;
		break;
	case STEP_APPLY:
		argv[n++] = "apply";
		argv[n++] = "--channel";
		argv[n++] = "stable";
		argv[n++] = "--from";
		argv[n++] = "a-system";
		argv[n++] = "--to";
		argv[n++] = "b-system";
		argv[n++] = "--as-of";
		argv[n++] = as_of;
		break;
	case STEP_PRUNE:
		argv[n++] = "prune";
		argv[n++] = "--as-of";
		argv[n++] = as_of;
		break;
	case STEP_SYNC:
		argv[n++] = "sync";
		break;
	case STEP_PROMOTE:
		argv[n++] = "promote";
		argv[n++] = "--channel";
		argv[n++] = "stable";
		argv[n++] = B_SYSTEM_12;
		break;
	}
	argv[n] = NULL;
}

static int
run_step(struct fx *f, enum step s, const char *as_of)
{
	const char *w[16];

	step_argv(s, as_of, w);
	return aksnap(f, "-vv", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
	    w[8], w[9], NULL);
}

/* The step in the background (output to files), with ${during} acting
 * on it; return its exit code (128 + signal when killed). */
static int
run_step_during(struct fx *f, enum step s, const char *as_of)
{
	const char *w[16];
	struct harness_bg bg;
	struct run_result r;

	step_argv(s, as_of, w);
	/* Output beside the test directory: a full disk must not lose it. */
	assert_int_equal(
	    harness_aksnap_start(&f->h, &bg, "-vv", w[0], w[1], w[2], w[3],
	        w[4], w[5], w[6], w[7], w[8], w[9], NULL),
	    0);
	f->c->during(f, bg.pid);
	assert_int_equal(harness_aksnap_wait(&bg, &r, NULL), 0);
	keep_output(f, r.out);
	keep_output(f, r.err);
	run_result_free(&r);
	return r.exit_code;
}

/* ---- the invariants ---- */

struct store_row {
	char key[64], name[128], arm_id[512], state[16];
	char image[128], k8s[32], channel[64];
	long long slot; /* -1: NULL */
};

static struct store_row *
store_rows(struct fx *f, size_t *n)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct store_row *rows_out = NULL;
	size_t cap = 0;

	*n = 0;
	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db,
	        /* the ARM id derived when not stored (migration 0016) */
	        "SELECT p.key, s.name, coalesce(s.arm_id, '/subscriptions/' "
	        "|| p.subscription || '/resourceGroups/' || p.resource_group "
	        "|| '/providers/Microsoft.ContainerService/snapshots/' || "
	        "s.name), s.state, "
	        "ifnull(s.node_image_version, ''), "
	        "ifnull(s.kubernetes_version, ''), ifnull(s.slot, -1), "
	        "ifnull(s.channel, '') "
	        "FROM snapshots s JOIN pools p ON p.id = s.pool_id",
	        -1, &st, NULL) != SQLITE_OK)
		fail_msg("store: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct store_row *r;

		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			rows_out = realloc(rows_out, cap * sizeof(*rows_out));
			assert_non_null(rows_out);
		}
		r = &rows_out[(*n)++];
		snprintf(r->key, sizeof(r->key), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(r->name, sizeof(r->name), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(r->arm_id, sizeof(r->arm_id), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		snprintf(r->state, sizeof(r->state), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		snprintf(r->image, sizeof(r->image), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		snprintf(r->k8s, sizeof(r->k8s), "%s",
		    (const char *)sqlite3_column_text(st, 5));
		r->slot = sqlite3_column_int64(st, 6);
		snprintf(r->channel, sizeof(r->channel), "%s",
		    (const char *)sqlite3_column_text(st, 7));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rows_out;
}

static const char *
jstr(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* A snapshot's source pool id, "" when absent. */
static const char *
source_of(json_t *snap)
{
	json_t *cd = json_object_get(
	    json_object_get(snap, "properties"), "creationData");

	return jstr(cd, "sourceResourceId", NULL);
}

static int
is_foreign(const char *name)
{
	for (size_t i = 0; i < sizeof(FOREIGN) / sizeof(FOREIGN[0]); i++)
		if (strcasecmp(name, FOREIGN[i]) == 0)
			return 1;
	return 0;
}

static int
live_state(const char *state)
{
	return strcmp(state, "active") == 0 || strcmp(state, "creating") == 0 ||
	    strcmp(state, "unconfirmed") == 0;
}

static int
pending_state(const char *state)
{
	return strcmp(state, "creating") == 0 ||
	    strcmp(state, "deleting") == 0 || strcmp(state, "unconfirmed") == 0;
}

static time_t
rfc3339(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return timegm(&tm);
}

/* Duplicates, lost records, ghost rows, pending rows and missed slots,
 * from the emulator's state and the store. */
static void
check_books(struct fx *f, struct row *res)
{
	json_t *st = emu_get(f->h.emu, "/_armemu/state"), *snaps, *s, *t;
	struct store_row *sr;
	size_t n, i, j, k;
	long long slot13 = (long long)rfc3339(SLOT13);

	assert_non_null(st);
	snaps = json_object_get(st, "snapshots");
	sr = store_rows(f, &n);

	json_array_foreach(snaps, i, s)
	{
		const char *id = jstr(s, "id", NULL);
		int ours = strcmp(jstr(s, "systemData", "createdBy"),
		               HARNESS_CLIENT_ID) == 0;

		if (!ours)
			continue;
		/* duplicates in Azure: one pool and slot twice */
		json_array_foreach(snaps, j, t)
		{
			if (j <= i ||
			    strcmp(jstr(t, "systemData", "createdBy"),
			        HARNESS_CLIENT_ID) != 0)
				continue;
			if (strcasecmp(source_of(s), source_of(t)) == 0 &&
			    strcmp(jstr(s, "tags", "aksnap-slot"),
			        jstr(t, "tags", "aksnap-slot")) == 0 &&
			    jstr(s, "tags", "aksnap-slot")[0] != '\0') {
				fprintf(stderr,
				    "%s: duplicate in Azure: %s, %s\n",
				    f->c->name, jstr(s, "name", NULL),
				    jstr(t, "name", NULL));
				res->dups++;
			}
		}
		/* lost: Azure holds it, the store does not know it */
		for (k = 0; k < n; k++)
			if (strcasecmp(sr[k].arm_id, id) == 0)
				break;
		if (k == n ||
		    (strcmp(sr[k].state, "active") != 0 &&
		        !pending_state(sr[k].state))) {
			fprintf(stderr, "%s: lost: %s (store: %s)\n",
			    f->c->name, id, k == n ? "no row" : sr[k].state);
			res->lost++;
		}
	}
	for (k = 0; k < n; k++) {
		json_t *found = NULL;

		if (pending_state(sr[k].state)) {
			fprintf(stderr, "%s: pending: %s %s\n", f->c->name,
			    sr[k].name, sr[k].state);
			res->pending++;
		}
		/* duplicates in the store */
		for (j = k + 1; j < n; j++)
			if (sr[k].slot >= 0 && sr[j].slot == sr[k].slot &&
			    strcmp(sr[j].key, sr[k].key) == 0 &&
			    live_state(sr[k].state) &&
			    live_state(sr[j].state)) {
				fprintf(stderr,
				    "%s: duplicate rows: %s, %s (%s)\n",
				    f->c->name, sr[k].name, sr[j].name,
				    sr[k].key);
				res->dups++;
			}
		if (strcmp(sr[k].state, "active") != 0)
			continue;
		/* ghosts: active, but Azure does not hold it (as recorded) */
		json_array_foreach(snaps, i, s)
		{
			if (strcasecmp(jstr(s, "id", NULL), sr[k].arm_id) == 0)
				found = s;
		}
		if (found == NULL ||
		    strcmp(jstr(found, "properties", "nodeImageVersion"),
		        sr[k].image) != 0 ||
		    strcmp(jstr(found, "properties", "kubernetesVersion"),
		        sr[k].k8s) != 0) {
			fprintf(stderr, "%s: ghost row: %s (%s)\n", f->c->name,
			    sr[k].arm_id,
			    found == NULL ? "not in Azure" : "other versions");
			res->ghosts++;
			continue;
		}
		/* the channel the store gives it is the one Azure shows */
		if (strcmp(jstr(found, "tags", "aksnap-channel"),
		        sr[k].channel) != 0) {
			fprintf(stderr,
			    "%s: channel: %s is '%s' in the store, '%s' in "
			    "Azure\n",
			    f->c->name, sr[k].name, sr[k].channel,
			    jstr(found, "tags", "aksnap-channel"));
			res->channels++;
		}
	}
	/* missed: a pool due in the slot has no active snapshot of it */
	for (i = 0; i < sizeof(ALWAYS_POOLS) / sizeof(ALWAYS_POOLS[0]); i++) {
		for (k = 0; k < n; k++)
			if (strcmp(sr[k].key, ALWAYS_POOLS[i]) == 0 &&
			    sr[k].slot == slot13 &&
			    strcmp(sr[k].state, "active") == 0)
				break;
		if (k == n) {
			fprintf(stderr,
			    "%s: missed: %s has no snapshot of %s\n",
			    f->c->name, ALWAYS_POOLS[i], SLOT13);
			res->missed++;
		}
	}
	free(sr);
	json_decref(st);
}

/* Writes to a foreign snapshot in the request log; a foreign snapshot
 * gone or re-tagged. */
static void
check_foreign(struct fx *f, struct row *res)
{
	json_t *log = emu_get(f->h.emu, "/_armemu/requests"), *e, *arr;
	json_t *st = emu_get(f->h.emu, "/_armemu/state"), *s;
	size_t i;
	int seen[2] = {0, 0};

	assert_non_null(log);
	assert_non_null(st);
	arr = json_is_array(log) ? log : json_object_get(log, "requests");
	json_array_foreach(arr, i, e)
	{
		const char *m = jstr(e, "method", NULL);
		const char *p = jstr(e, "path", NULL);
		const char *slash = strrchr(p, '/');

		if (strcmp(m, "GET") == 0 || slash == NULL)
			continue;
		if (strcasestr(p, "/snapshots/") != NULL &&
		    is_foreign(slash + 1)) {
			fprintf(stderr, "%s: foreign touched: %s %s\n",
			    f->c->name, m, p);
			res->foreign++;
		}
	}
	json_array_foreach(json_object_get(st, "snapshots"), i, s)
	{
		const char *name = jstr(s, "name", NULL);

		if (strcmp(name, FOREIGN[0]) == 0) {
			seen[0] = 1;
			if (json_object_size(json_object_get(s, "tags")) != 1 ||
			    strcmp(jstr(s, "tags", "owner"), "platform-team") !=
			        0)
				res->foreign++;
		} else if (strcmp(name, FOREIGN[1]) == 0) {
			seen[1] = 1;
			if (json_object_size(json_object_get(s, "tags")) != 3 ||
			    json_object_get(json_object_get(s, "tags"),
			        "aksnap-channel") != NULL)
				res->foreign++;
		}
	}
	res->foreign += !seen[0] + !seen[1];
	json_decref(log);
	json_decref(st);
}

/* Whether ${p}[0..${len}) begins with ${n} base64url characters. */
static int
base64url_run(const char *p, size_t len, size_t n)
{
	if (len < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
			return 0;
	return 1;
}

static long
count_in(const char *where, const char *hay, size_t len, const char *needle)
{
	long n = 0;
	const char *p = hay;
	size_t nl = strlen(needle);

	if (hay == NULL || nl == 0)
		return 0;
	while (len >= nl) {
		const char *q = memmem(p, len, needle, nl);

		if (q == NULL)
			break;
		len -= (size_t)(q - p) + nl;
		p = q + nl;
		/* a JWT's "eyJ" begins base64url text, not three bytes that
		 * a WAL's checksums or a digest hold by chance */
		if (strcmp(needle, "eyJ") == 0 && !base64url_run(p, len, 16))
			continue;
		fprintf(stderr, "secret '%.12s...' in %s\n", needle, where);
		n++;
	}
	return n;
}

/* The client secret, every token the emulator issued and any JWT, in
 * every output, the store files and the metrics file. */
static long
check_secrets(struct fx *f)
{
	static const char *const files[] = {
	    "aksnap.db", "aksnap.db-wal", "aksnap.prom", NULL};
	json_t *tj = emu_get(f->h.emu, "/_armemu/tokens"), *tok;
	const char *needles[256];
	size_t nn = 0, i;
	long n = 0;

	assert_non_null(tj);
	needles[nn++] = HARNESS_CLIENT_SECRET;
	needles[nn++] = "eyJ";
	if (f->extra_secret != NULL)
		needles[nn++] = f->extra_secret;
	json_array_foreach(json_object_get(tj, "tokens"), i, tok)
	{
		if (nn < sizeof(needles) / sizeof(needles[0]))
			needles[nn++] = json_string_value(tok);
	}
	/* The history's runs got tokens: without them the check is empty. */
	assert_true(nn > 2 + (f->extra_secret != NULL));
	for (i = 0; i < nn; i++)
		n += count_in(
		    "the output", f->all_output, f->all_len, needles[i]);
	for (size_t k = 0; files[k] != NULL; k++) {
		char path[4096], *data;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", f->h.dir, files[k]);
		data = slurp(path, &len);
		for (i = 0; data != NULL && i < nn; i++)
			n += count_in(files[k], data, len, needles[i]);
		free(data);
	}
	json_decref(tj);
	return n;
}

/* ---- the row ---- */

/* The sequence number of the newest request the emulator logged. */
static long long
last_seq(struct fx *f)
{
	json_t *log = emu_get(f->h.emu, "/_armemu/requests"), *arr;
	long long seq;

	assert_non_null(log);
	arr = json_is_array(log) ? log : json_object_get(log, "requests");
	seq = json_integer_value(json_object_get(
	    json_array_get(arr, json_array_size(arr) - 1), "seq"));
	json_decref(log);
	return seq;
}

/* Requests the step sent after ${since} with a method it must not
 * send. */
static long
check_stray(struct fx *f, long long since)
{
	char path[64];
	json_t *log, *e;
	size_t i;
	long n = 0;

	if (f->c->forbidden == NULL)
		return 0;
	snprintf(path, sizeof(path), "/_armemu/requests?since=%lld", since);
	log = emu_get(f->h.emu, path);
	assert_non_null(log);
	json_array_foreach(
	    json_is_array(log) ? log : json_object_get(log, "requests"), i, e)
	{
		const char *m = jstr(e, "method", NULL);
		const char *p = jstr(e, "path", NULL);

		if (strncmp(p, "/subscriptions/", 15) != 0 || m[0] == '\0' ||
		    strstr(f->c->forbidden, m) == NULL)
			continue;
		fprintf(stderr, "%s: sent although it must not: %s %s\n",
		    f->c->name, m, p);
		n++;
	}
	json_decref(log);
	return n;
}

static void
check_rules_fired(struct fx *f)
{
	json_t *rules = emu_get(f->h.emu, "/_armemu/faults"), *r;
	size_t i;

	assert_non_null(rules);
	json_array_foreach(
	    json_is_array(rules) ? rules : json_object_get(rules, "faults"), i,
	    r)
	{
		if (json_integer_value(json_object_get(r, "hits")) < 1)
			fail_msg(
			    "%s: fault rule %zu never fired", f->c->name, i);
	}
	json_decref(rules);
}

/* What aksnap said, without the -vv HTTP trace, on stderr. */
static void
print_log(const struct fx *f)
{
	const char *p = f->all_output;

	fprintf(stderr, "--- %s: what aksnap said (HTTP trace left out):\n",
	    f->c->name);
	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len > 0 && memmem(p, len, "http: >", 7) == NULL &&
		    memmem(p, len, "http: <", 7) == NULL)
			fprintf(stderr, "%.*s\n", (int)len, p);
		p = nl != NULL ? nl + 1 : NULL;
	}
	fprintf(stderr, "---\n");
}

static void
test_fault(void **state)
{
	struct fx *f = *state;
	const struct fault_case *c = f->c;
	struct row *res;
	long secrets_mid;
	long long since;
	size_t said;

	assert_true(nrows < MAX_ROWS);
	res = &rows[nrows++];
	res->ms = -f->started_ms;
	res->name = c->name;
	res->want_exit = c->want_exit;
	res->exit_code = res->recovery_exit = -1;

	history(f);
	set_clock(f, T13);
	for (size_t i = 0; i < 3 && c->rules[i] != NULL; i++)
		assert_true(emu_fault(f->h.emu, c->rules[i]) > 0);
	if (c->prepare != NULL)
		c->prepare(f);
	since = last_seq(f);
	said = f->all_len;
	if (c->during != NULL)
		res->exit_code = run_step_during(f, c->step, T13);
	else
		res->exit_code = run_step(f, c->step, T13);
	/* What the step must tell the operator. */
	if (c->says != NULL && strstr(f->all_output + said, c->says) == NULL) {
		print_log(f);
		fail_msg("%s: the step did not say \"%s\"", c->name, c->says);
	}
	/* Every rule fired: a row whose fault missed would prove nothing. */
	check_rules_fired(f);
	wait_idle(f);
	res->stray = check_stray(f, since);
	/* What a killed run left in the WAL counts too. */
	secrets_mid = check_secrets(f);

	/* Lift the fault, let held requests finish, recover. */
	assert_int_equal(emu_clear_faults(f->h.emu), 0);
	if (c->lift != NULL)
		c->lift(f);
	wait_idle(f);
	res->recovery_exit = 0;
	if (c->step != STEP_RUN && res->exit_code != 0)
		res->recovery_exit = run_step(f, c->step, T13);
	set_clock(f, T13_LATER);
	if (res->recovery_exit == 0)
		res->recovery_exit = run_step(f, STEP_RUN, T13_LATER);

	check_books(f, res);
	check_foreign(f, res);
	res->secrets = secrets_mid + check_secrets(f);
	res->ms += now_ms();
	res->passed = res->exit_code == c->want_exit &&
	    res->recovery_exit == 0 && res->dups == 0 && res->lost == 0 &&
	    res->ghosts == 0 && res->foreign == 0 && res->secrets == 0 &&
	    res->pending == 0 && res->missed == 0 && res->channels == 0 &&
	    res->stray == 0;
	if (!res->passed || getenv("FAULTS_LOG") != NULL) {
		print_log(f);
	}
	if (!res->passed) {
		fail_msg("%s: exit %d (want %d), recovery exit %d, duplicates "
		         "%ld, lost %ld, ghosts %ld, foreign %ld, secrets %ld, "
		         "pending %ld, missed %ld, channels %ld, stray %ld",
		    c->name, res->exit_code, c->want_exit, res->recovery_exit,
		    res->dups, res->lost, res->ghosts, res->foreign,
		    res->secrets, res->pending, res->missed, res->channels,
		    res->stray);
	}
}

static int
print_table(void **state)
{
	(void)state;
	long total = 0;

	printf("\n%-52s %4s %4s %4s %4s %4s %6s %7s %7s %7s %6s %7s %5s "
	       "%6s %s\n",
	    "fault", "exit", "want", "rec", "dup", "lost", "ghosts", "foreign",
	    "secrets", "pending", "missed", "channel", "stray", "ms", "result");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		total += r->ms;
		printf("%-52s %4d %4d %4d %4ld %4ld %6ld %7ld %7ld %7ld %6ld "
		       "%7ld %5ld %6ld %s\n",
		    r->name, r->exit_code, r->want_exit, r->recovery_exit,
		    r->dups, r->lost, r->ghosts, r->foreign, r->secrets,
		    r->pending, r->missed, r->channels, r->stray, r->ms,
		    r->passed ? "ok" : "FAIL");
	}
	printf("%zu faults in %.1f s\n", nrows, (double)total / 1000);
	return 0;
}

/* ---- the checks can fail ---- */

static void
store_sql(struct fx *f, const char *sql)
{
	char path[4096], *err = NULL;
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* A bearer token from the emulator, as anyone with the secret gets one. */
static char *
get_token(struct fx *f)
{
	char form[512], url[256];
	const char *argv[] = {"curl", "-fsS", "-d", form, url, NULL};
	struct run_result r;
	json_t *j;
	char *tok;

	snprintf(form, sizeof(form),
	    "grant_type=client_credentials&client_id=%s&client_secret=%s&"
	    "scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default",
	    HARNESS_CLIENT_ID, HARNESS_CLIENT_SECRET);
	snprintf(url, sizeof(url), "%s/%s/oauth2/v2.0/token", emu_url(f->h.emu),
	    HARNESS_TENANT);
	assert_int_equal(harness_run(&r, argv, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	j = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(j);
	tok = strdup(json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	assert_non_null(tok);
	return tok;
}

/*
 * Each check counts what it must: one of everything is planted after the
 * history, and no day 13 run is made (so all three pools miss the slot).
 */
static void
test_checks_count_planted_faults(void **state)
{
	struct fx *f = *state;
	struct row res;
	char *tok, auth[256], url[1024], path[4096], *prom;
	size_t len;
	const char *del[] = {
	    "curl", "-fsS", "-X", "DELETE", "-H", auth, url, NULL};
	struct run_result r;

	memset(&res, 0, sizeof(res));
	history(f);
	/* duplicate (and lost): a second snapshot of a pool and slot */
	json_decref(emu_post(f->h.emu, "/_armemu/snapshots",
	    "{\"name\": \"copy-of-a-system\", \"subscription\": "
	    "\"" HARNESS_SUBSCRIPTION
	    "\", \"resourceGroup\": \"rg-a\", \"location\": \"westeurope\", "
	    "\"tags\": {\"aksnap-managed\": \"true\", \"aksnap-pool\": "
	    "\"a-system\", \"aksnap-slot\": \"2026-11-11T02:00:00Z\"}, "
	    "\"properties\": {\"creationData\": {\"sourceResourceId\": "
	    "\"/subscriptions/" HARNESS_SUBSCRIPTION "/resourceGroups/rg-a/"
	    "providers/Microsoft.ContainerService/managedClusters/aks-a/"
	    "agentPools/system\"}, \"kubernetesVersion\": \"1.30.5\", "
	    "\"nodeImageVersion\": "
	    "\"AKSUbuntu-2204gen2containerd-202611.01.0\"}, \"systemData\": "
	    "{\"createdAt\": \"2026-11-11T03:00:00Z\", \"createdBy\": "
	    "\"" HARNESS_CLIENT_ID "\"}}"));
	/* lost: a snapshot in Azure whose row is gone */
	store_sql(f,
	    "DELETE FROM snapshots WHERE name = "
	    "'aksnap-aks-b-system-20261110T0200Z'");
	/* ghost: an active row Azure never held */
	store_sql(f,
	    "INSERT INTO snapshots (pool_id, name, arm_id, slot, created_at, "
	    "state, updated_at) SELECT id, 'aksnap-aks-a-user-20261109T0200Z', "
	    "'/subscriptions/" HARNESS_SUBSCRIPTION "/resourceGroups/rg-a/"
	    "providers/Microsoft.ContainerService/snapshots/"
	    "aksnap-aks-a-user-20261109T0200Z', 0, 0, 'active', 0 "
	    "FROM pools WHERE key = 'a-user'");
	/* pending: a row left deleting */
	store_sql(f,
	    "UPDATE snapshots SET state = 'deleting' WHERE name = "
	    "'aksnap-aks-a-user-20261110T0200Z'");
	/* channel: the store forgot the holder Azure shows */
	store_sql(f,
	    "UPDATE snapshots SET channel = NULL WHERE name = "
	    "'aksnap-aks-a-system-20261111T0200Z'");
	/* foreign: one DELETE of the untagged foreign snapshot (logged, and
	 * the snapshot is gone: two) */
	tok = get_token(f);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	snprintf(url, sizeof(url),
	    "%s/subscriptions/" HARNESS_SUBSCRIPTION "/resourceGroups/rg-b/"
	    "providers/Microsoft.ContainerService/snapshots/golden-2026q3"
	    "?api-version=2026-08-01",
	    emu_url(f->h.emu));
	assert_int_equal(harness_run(&r, del, NULL), 0);
	assert_int_equal(r.exit_code, 0);
	run_result_free(&r);
	/* secrets: the token in an output, the client secret in metrics */
	keep_output(f, tok);
	free(tok);
	snprintf(path, sizeof(path), "%s/aksnap.prom", f->h.dir);
	prom = slurp(path, &len);
	assert_non_null(prom);
	assert_int_equal(
	    harness_write_file(path, HARNESS_CLIENT_SECRET, 0644), 0);
	free(prom);

	check_books(f, &res);
	check_foreign(f, &res);
	res.secrets = check_secrets(f);
	assert_int_equal(res.dups, 1);
	assert_int_equal(res.lost, 2); /* the copy and the row deleted */
	assert_int_equal(res.ghosts, 1);
	assert_int_equal(res.pending, 1);
	assert_int_equal(res.channels, 1);
	assert_int_equal(res.missed, 3);
	assert_int_equal(res.foreign, 2);
	assert_int_equal(res.secrets, 2);
}

static const struct fault_case CHECKS = {.name = "checks"};

int
main(void)
{
	struct CMUnitTest tests[NCASES + 1];

	tests[0] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
	    test_checks_count_planted_faults, setup, teardown, (void *)&CHECKS);
	for (size_t i = 0; i < NCASES; i++) {
		tests[i + 1] =
		    (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
		        test_fault, setup, teardown, (void *)&CASES[i]);
		tests[i + 1].name = CASES[i].name;
	}
	/* FAULTS_FILTER="*SIGKILL*" runs some rows only. */
	if (getenv("FAULTS_FILTER") != NULL)
		cmocka_set_test_filter(getenv("FAULTS_FILTER"));
	return _cmocka_run_group_tests(
	    "faults", tests, NCASES + 1, NULL, print_table);
}
