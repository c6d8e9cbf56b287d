#ifndef AKSNAP_HARNESS_H
#define AKSNAP_HARNESS_H

/*
 * harness.h -- the black-box driver every end-to-end test uses: one
 * fixture (struct harness, below) and one way to start aksnap
 * (harness_aksnap and its background and terminal forms).
 *
 * It starts the ARM + token emulator (tests/armemu, path from $ARMEMU_BIN)
 * on an ephemeral loopback port, drives its control API under /_armemu/
 * with libcurl + jansson, writes an aksnap.ini that points aksnap at the
 * emulator, and runs the aksnap binary ($AKSNAP_BIN, prefixed by the words
 * of $AKSNAP_WRAPPER when set, e.g. valgrind) capturing its stdout and
 * stderr completely.  It knows nothing of aksnap's internals.
 *
 * Emulator defaults that a harness-started emulator (no flags) accepts and
 * that harness_config() writes:
 *   tenant        HARNESS_TENANT
 *   client id     HARNESS_CLIENT_ID
 *   client secret HARNESS_CLIENT_SECRET
 * The emulator's token check uses real time, its resources a simulated
 * clock (emu_set_clock), so `aksnap --as-of` never breaks a token.
 */

#include <jansson.h>
#include <stdarg.h>

#define HARNESS_TENANT "00000000-0000-0000-0000-0000000000aa"
#define HARNESS_CLIENT_ID "00000000-0000-0000-0000-0000000000bb"
#define HARNESS_CLIENT_SECRET "armemu-test-secret"
#define HARNESS_SUBSCRIPTION "00000000-0000-0000-0000-000000000001"

struct emu;

/*
 * emu_start(extra_args):
 * Start $ARMEMU_BIN --port 0 followed by ${extra_args} (NULL-terminated
 * array, or NULL for none), read the port from its first stdout line and
 * return a handle, or NULL on failure (logged).  The emulator's stderr is
 * inherited.
 */
struct emu *emu_start(const char *const *extra_args);

/* emu_stop(e): SIGTERM, wait for it, free.  NULL is fine. */
void emu_stop(struct emu *e);

/* emu_url(e): "http://127.0.0.1:PORT" (or https:// when started with TLS). */
const char *emu_url(const struct emu *e);

/* emu_port(e): the port it listens on. */
int emu_port(const struct emu *e);

/* emu_pid(e): its process id. */
int emu_pid(const struct emu *e);

/*
 * emu_get(e, path), emu_post(e, path, json_body):
 * Call the control API (${path} starts with "/_armemu/"; any path works).
 * Return the parsed JSON answer (caller json_decref's it), or NULL on a
 * transport error, a status >= 400 or a body that is not JSON.  A POST
 * with a NULL body sends "{}".
 */
json_t *emu_get(struct emu *e, const char *path);
json_t *emu_post(struct emu *e, const char *path, const char *json_body);

/* emu_delete(e, path): DELETE; return the HTTP status, or -1. */
int emu_delete(struct emu *e, const char *path);

/*
 * emu_counter(e, key):
 * The value of ${key} in GET /_armemu/counters, e.g. "PUT snapshots.put"
 * or "PUT snapshots.put 201"; 0 when absent, -1 on error.
 */
long emu_counter(struct emu *e, const char *key);

/*
 * emu_snapshot_tag(e, name, key, buf, len):
 * Tag ${key} of the snapshot named ${name} in the emulator's state into
 * ${buf} ("" when it has no such tag).  0, or -1 when the emulator holds
 * no snapshot of that name.
 */
int emu_snapshot_tag(
    struct emu *e, const char *name, const char *key, char *buf, size_t len);

/* emu_reset_counters(e): POST /_armemu/reset-counters (counters + log). */
void emu_reset_counters(struct emu *e);

/* emu_set_clock(e, rfc3339): set the simulated clock; it runs on with
 * real time unless emu_freeze_clock stopped it.  0 or -1. */
int emu_set_clock(struct emu *e, const char *rfc3339);

/*
 * emu_freeze_clock(e, rfc3339): set the simulated clock and stop it there,
 * so that every snapshot created until the next call gets exactly this
 * createdAt, however slowly aksnap runs (under valgrind a run takes
 * seconds, and a snapshot created at T+3s has not soaked 1d at T+1d).
 * 0 or -1.
 */
int emu_freeze_clock(struct emu *e, const char *rfc3339);

/*
 * emu_fault(e, json):
 * POST /_armemu/faults with ${json}; return the rule's id, or -1.
 */
int emu_fault(struct emu *e, const char *json);

/* emu_clear_faults(e): DELETE /_armemu/faults.  0 or -1. */
int emu_clear_faults(struct emu *e);

/*
 * harness_write_file(path, content, mode):
 * Create or truncate ${path} with ${content} and permissions ${mode}.
 * 0 or -1.
 */
int harness_write_file(const char *path, const char *content, int mode);

/* harness_tmpdir(): a fresh directory under /tmp (caller frees the name). */
char *harness_tmpdir(void);

/* harness_rmrf(dir): remove ${dir} and everything under it.  0 or -1. */
int harness_rmrf(const char *dir);

struct run_result {
	int exit_code; /* exit status, or 128 + signal number */
	char *out; /* all of stdout, NUL-terminated */
	char *err; /* all of stderr, NUL-terminated */
};

/*
 * harness_run_aksnap(r, argv_after_program):
 * Run $AKSNAP_BIN (prefixed by the words of $AKSNAP_WRAPPER) with the
 * NULL-terminated ${argv_after_program}, the caller's environment, stdin
 * from /dev/null; capture stdout and stderr fully and wait for exit.
 * Return 0 when it ran (whatever its exit code, in ${r}), -1 when it could
 * not be started.  Free ${r} with run_result_free.  aksnap never reaches
 * the Internet from a test: https_proxy points at a dead loopback port
 * and no_proxy exempts loopback hosts (a test's own env wins).
 */
int harness_run_aksnap(
    struct run_result *r, const char *const *argv_after_program);

/*
 * harness_run_aksnap_env(r, argv, extra_env):
 * The same, with the NAME=VALUE strings of ${extra_env} (NULL-terminated)
 * added to (or replacing in) the environment; "NAME" alone unsets NAME.
 */
int harness_run_aksnap_env(struct run_result *r, const char *const *argv,
    const char *const *extra_env);

/*
 * harness_run(r, argv, extra_env):
 * Run any program (${argv}[0] searched in PATH) the same way, without the
 * wrapper.
 */
int harness_run(struct run_result *r, const char *const *argv,
    const char *const *extra_env);

/*
 * harness_aksnapv(r, config, ap):
 * harness_run_aksnap with "-c ${config}" (when not NULL) followed by the
 * NULL-terminated words of ${ap} (at most 29).  ${r} is cleared first.
 * For a configuration other than a fixture's (struct harness below);
 * when aksnap cannot be started, the test fails (cmocka).
 */
int harness_aksnapv(struct run_result *r, const char *config, va_list ap);
/* harness_aksnapl(r, config, arg, ..., NULL): harness_aksnapv's variadic
 * form. */
int harness_aksnapl(struct run_result *r, const char *config, ...);

/*
 * harness_expect_exit(r, code), harness_expect_in(hay, needle):
 * cmocka assertions that print what aksnap said when they fail.
 */
void harness_expect_exit(const struct run_result *r, int code);

/*
 * harness_store_channel(h, pool, name, buf, len):
 * The channels snapshot ${name} of ${pool} holds in the store, as
 * `aksnap --json list POOL` shows them, into ${buf} ("" when none or not
 * listed).  Fails the test when list does not exit 0.
 */
struct harness;
void harness_store_channel(struct harness *h, const char *pool,
    const char *name, char *buf, size_t len);
void harness_expect_in(const char *hay, const char *needle);

/*
 * harness_reasons(o):
 * The "reasons" member of the JSON object ${o}, which must be an array of
 * strings (DESIGN.md section 3; the test fails otherwise), joined with
 * "; " into a buffer that lives until the next call.
 */
const char *harness_reasons(json_t *o);

/* run_result_free(r): free the captured output.  NULL is fine. */
void run_result_free(struct run_result *r);

/*
 * harness_config(dir, e, extra_ini):
 * Write ${dir}/aksnap.ini: [aksnap] with database = ${dir}/aksnap.db,
 * subscription = HARNESS_SUBSCRIPTION, auth = client-secret, tenant and
 * client_id = the emulator defaults, client_secret_file = ${dir}/secret
 * (mode 0600), arm_endpoint = authority_host = the emulator's URL,
 * imds_endpoint = the emulator's URL, metrics_file = ${dir}/aksnap.prom;
 * then ${extra_ini} verbatim (may be NULL; it may add keys to [aksnap]
 * only if it starts with no section header).  Return the path of the
 * file (caller frees), or NULL.
 */
char *harness_config(const char *dir, struct emu *e, const char *extra_ini);

/*
 * struct harness -- one end-to-end test's fixture: every e2e test sets up
 * and tears down its world through it, and starts aksnap through
 * harness_aksnap (or its background and terminal forms below).
 */
#define HARNESS_MAX_ENV 16

struct harness {
	struct emu *emu; /* NULL when made without an emulator */
	char *dir; /* a fresh directory under /tmp, removed at the end */
	char *config; /* ${dir}/aksnap.ini (NULL without an emulator) */
	char *store; /* ${dir}/aksnap.db, the configuration's database */
	/* "NAME=VALUE" (or "NAME": unset) for every aksnap the fixture
	 * starts, in order; set with harness_setenv */
	const char *env[HARNESS_MAX_ENV + 1];
};

/*
 * harness_init(h, emu_args, extra_ini):
 * harness_open_dir then harness_start: the fixture of a test that writes
 * nothing before the emulator starts.  0, or -1 with ${h} released.
 */
#define HARNESS_NO_EMU "harness:no-emulator"
int harness_init(
    struct harness *h, const char *const *emu_args, const char *extra_ini);

/*
 * harness_open_dir(h):
 * Zero ${h}, make its fresh directory and name its store.  A test writes
 * what the emulator reads (a fleet file, release notes) there, then calls
 * harness_start.  0, or -1 (logged).
 */
int harness_open_dir(struct harness *h);

/*
 * harness_start(h, emu_args, extra_ini):
 * Start the emulator with ${emu_args} (as emu_start; the NULL-terminated
 * array { HARNESS_NO_EMU, NULL } starts none) and, with one, write
 * ${h}->config by harness_config(dir, emu, ${extra_ini}).  0, or -1 with
 * ${h} released (logged).
 */
int harness_start(
    struct harness *h, const char *const *emu_args, const char *extra_ini);

/* harness_fini(h): stop the emulator, remove the directory, free.  NULL
 * and a zeroed ${h} are fine; ${h} is zeroed after. */
void harness_fini(struct harness *h);

/*
 * harness_new(emu_args, extra_ini), harness_free(h):
 * harness_init into a new allocation (NULL on failure) and its undoing;
 * the cmocka setup and teardown of a test whose fixture is the harness
 * alone.  harness_free(NULL) is fine.
 */
struct harness *harness_new(const char *const *emu_args, const char *extra_ini);
void harness_free(struct harness *h);

/*
 * harness_setenv(h, name_value):
 * Add "NAME=VALUE" (or "NAME", to unset it) to every later aksnap run of
 * ${h}; the string must live while aksnap runs from ${h}.  A name
 * given twice: the last wins.
 * 0, or -1 when HARNESS_MAX_ENV are set already.
 */
int harness_setenv(struct harness *h, const char *name_value);

/*
 * harness_aksnap(h, r, word, ..., NULL):
 * Run aksnap (harness_run_aksnap_env: $AKSNAP_BIN behind
 * $AKSNAP_WRAPPER, offline) with "-c ${h}->config" (when not NULL), then
 * the words (at most 28), in ${h}'s environment; ${r} gets its exit
 * code, stdout and stderr (free with run_result_free).  0 when it ran;
 * when it could not start, the test fails (cmocka) and -1.
 */
int harness_aksnap(struct harness *h, struct run_result *r, ...);

/* harness_aksnap_va(h, r, ap): harness_aksnap with a va_list. */
int harness_aksnap_va(struct harness *h, struct run_result *r, va_list ap);

/* harness_aksnap_argv(h, r, words): harness_aksnap with a NULL-terminated
 * array of words (at most 28). */
int harness_aksnap_argv(
    struct harness *h, struct run_result *r, const char *const *words);

/*
 * struct harness_bg -- an aksnap running in the background, started by
 * harness_aksnap_start, its stdout and stderr going to files beside the
 * test directory (so that a full store's disk cannot lose them).
 */
struct harness_bg {
	int pid;
	char out[4200], err[4200];
};

/*
 * harness_aksnap_start(h, bg, word, ..., NULL):
 * Start aksnap as harness_aksnap does, without waiting for it.  0, or -1
 * when it could not start.  Finish with harness_aksnap_wait.
 */
int harness_aksnap_start(struct harness *h, struct harness_bg *bg, ...);

/*
 * harness_aksnap_wait(bg, r, maxrss_kb):
 * Wait for ${bg} to end; ${r} gets its exit code (128 + signal), stdout
 * and stderr, and ${maxrss_kb} (when not NULL) its peak resident set in
 * KiB.  The output files are removed.  0, or -1.
 */
int harness_aksnap_wait(
    struct harness_bg *bg, struct run_result *r, long *maxrss_kb);

/*
 * harness_aksnap_tty(h, r, cols, words):
 * Run aksnap as harness_aksnap_argv does, but with stderr on a terminal
 * of ${cols} columns (its own session; TERM=xterm and JOURNAL_STREAM
 * unset unless the fixture's environment says otherwise; stdin and
 * stdout /dev/null); ${r}->err gets what the terminal showed, ${r}->out
 * "".  0, or -1.
 */
int harness_aksnap_tty(struct harness *h, struct run_result *r, int cols,
    const char *const *words);

/* harness_rss_measurable(): whether a child's peak RSS means anything:
 * not under valgrind ($AKSNAP_WRAPPER) or ASan (a build-san binary). */
int harness_rss_measurable(void);

#endif
