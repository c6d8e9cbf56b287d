#ifndef AKSNAP_SESSION_H
#define AKSNAP_SESSION_H

/*
 * session.h -- what a command holds between its arguments and its exit:
 * the configuration, the run lock, the store and, when it talks to Azure,
 * the HTTP client, token provider and ARM client.  Written once here so
 * that every command opens and closes them in the same order, with the
 * same exit codes (DESIGN.md section 3):
 *
 *   configuration unreadable or invalid     2
 *   run lock held by another aksnap         75
 *   store locked by another process         75
 *   store unusable as it is (unwritable
 *   directory, unsound, foreign, newer)      2
 *   anything else (a full disk, ...)         1
 *   identity refused before any request     2
 */

#include "config/config.h"
#include "db/db.h"
#include "job/cmd/cli.h"

struct http_client;
struct token_provider;
struct arm;

enum session_flags {
	SESSION_STORE = 1 << 0, /* open the store as it is (reads only) */
	SESSION_WRITE = 1 << 1, /* take the run lock, open and migrate */
	SESSION_ARM = 1 << 2, /* HTTP client, tokens, ARM client */
	SESSION_CACHE = 1 << 3, /* open and migrate, no run lock: the
	                           command writes only a cache (changes'
	                           release notes) or migrates (`db
	                           migrate`), never a decision */
	SESSION_FLEETS = 1 << 4, /* with a store: the pools it knows of the
	                            fleets join cfg (fleet_adopt_stored) */
};

struct session {
	struct config *cfg;
	struct db *db;
	int lockfd; /* -1 when not held */
	struct http_client *http;
	struct token_provider *tokens;
	struct arm *arm;
};

/*
 * session_open(s, cli, flags):
 * Fill ${s}: load the configuration ${cli} names, then as ${flags} ask
 * open the store (read-only use, never migrated), or take the run lock and
 * open the store for writing (migrated, checked sound), or open it for a
 * cache without the lock; add the fleets' stored pools; then connect to
 * ARM.  A store that cannot be opened exits the same whichever way it is
 * opened: 75 busy, 2 unusable, 1 else.  Return EXIT_DONE, or the exit
 * code the command should return (the reason is logged); either way
 * session_close(${s}) releases what was taken.
 */
int session_open(struct session *s, const struct cli *cli, unsigned flags);

/*
 * session_store(s, flags):
 * Open the store of a session opened with flags 0 (a command that checks
 * its operands against the configuration first): SESSION_STORE,
 * SESSION_WRITE or SESSION_CACHE, and SESSION_FLEETS, as in session_open.
 * EXIT_DONE or the exit code.
 */
int session_store(struct session *s, unsigned flags);

/*
 * session_connect(s):
 * Connect an open session to ARM (SESSION_ARM does it in session_open; a
 * command that reads first calls it when it needs Azure) and fetch the
 * first token, so that a refused identity (2) or an unreachable Entra ID
 * (75) stops the command before any ARM request.  EXIT_DONE or the exit
 * code.
 */
int session_connect(struct session *s);

/*
 * session_clients(s):
 * Connect an open session to ARM as session_connect does, but ask no
 * token: the command asks for the first one itself (token_get), when it
 * wants a refused identity on its own record (`run` writes its runs row
 * first).  EXIT_DONE, 2 when the credentials are unusable, or 1.
 */
int session_clients(struct session *s);

/*
 * session_unanswered(s):
 * The exit code of a command none of whose ARM requests was answered: 2
 * when a TLS certificate did not verify (set ca_file: tomorrow fails the
 * same way; logged naming the host), else 75 (try later).
 */
int session_unanswered(const struct session *s);

/* session_close(s): release everything, in reverse order; idempotent. */
void session_close(struct session *s);

#endif
