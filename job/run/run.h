#ifndef AKSNAP_RUN_H
#define AKSNAP_RUN_H

/*
 * run.h -- one run of the job (DESIGN.md section 2): load, lock, open the
 * store, reconcile, observe, plan, apply, report.
 */

#include <time.h>

#include "config/config.h"

enum run_mode {
	RUN_SCHEDULED = 0, /* aksnap run */
	RUN_DRY, /* aksnap run --dry-run, aksnap plan */
	RUN_SNAPSHOT, /* aksnap snapshot POOL... */
	RUN_PRUNE, /* aksnap prune [POOL...]: retention only */
};

struct run_options {
	enum run_mode mode;
	time_t as_of; /* --as-of, or the clock */
	const char **pools; /* --pool NAME... / snapshot POOL... (NULL-ended),
	                       or NULL = all */
	int json; /* --json summary */
	int dry_run; /* with RUN_PRUNE: decide, change nothing */
};

struct db;
struct http_client;
struct token_provider;
struct arm;

/*
 * What a run is handed by its command (job/cmd/session.c), which opened
 * them and closes them after: the store, open for writing (migrated,
 * checked) under the run lock, and the Azure clients, no token asked yet
 * -- the run asks for the first one after its runs row is written, so
 * that a refused identity is on record.
 */
struct run_handles {
	struct db *db;
	struct http_client *http;
	struct token_provider *tokens;
	struct arm *arm;
};

/*
 * run_pools_known(cfg, pools):
 * Does ${cfg} name every pool of the NULL-ended ${pools} (NULL: all)?  0,
 * or -1 naming the first unknown one (logged): a usage error (2), found
 * before the run lock is taken.
 */
int run_pools_known(const struct config *cfg, const char **pools);

/*
 * run_execute(cfg, opts, h):
 * Do one run over the pools of ${cfg} selected by ${opts}, with the
 * store and clients of ${h} (borrowed).  Return the exit code (DESIGN.md
 * section 3): 0 all done, 1 a pool failed, 2 usage (unknown pool of a
 * fleet, identity refused), 75 Azure unreachable before anything started.
 */
int run_execute(const struct config *cfg, const struct run_options *opts,
    const struct run_handles *h);

/*
 * run_lock(cfg, fd):
 * Take the run lock (flock on "<database>.lock", non-blocking).  0 with the
 * descriptor (close it to release), 1 when another process holds it, -1
 * on error (logged).
 */
int run_lock(const struct config *cfg, int *fd);

struct http_options;

/*
 * run_http_options(cfg, ho):
 * The HTTP client options every client of a run uses (timeout, ca_file);
 * ${ho} borrows ${cfg}'s strings.
 */
void run_http_options(const struct config *cfg, struct http_options *ho);

/*
 * run_token_provider(cfg):
 * A token provider for ${cfg}'s identity, with its own HTTP client made
 * from run_http_options (token_provider_new).  NULL on failure (logged).
 */
struct token_provider *run_token_provider(const struct config *cfg);

/*
 * run_connect(cfg, http, tokens, arm):
 * The Azure side of a command: an HTTP client with cfg's timeouts and CA,
 * the token provider for cfg's auth wired to it, and an ARM client.  0,
 * or -1 (logged; ${*tokens} NULL when the credentials are unusable).
 * Release with run_disconnect (NULL-safe) in either case.
 */
int run_connect(const struct config *cfg, struct http_client **http,
    struct token_provider **tokens, struct arm **arm);
void run_disconnect(
    struct http_client *http, struct token_provider *tokens, struct arm *arm);

#endif
