/*
 * session.c -- open and close what a command needs, in one order, with
 * one set of exit codes (session.h).
 *
 * The order matters: the run lock comes before the store so that two
 * writers never interleave, and the store before ARM so that a store that
 * cannot be written stops the command before anything is sent.
 */
#include "job/cmd/session.h"

#include <string.h>
#include <unistd.h>

#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/exit.h"
#include "job/run/fleet.h"
#include "job/run/run.h"

static int
open_store(struct session *s, unsigned flags)
{
	int locked, rc;

	if (flags & SESSION_WRITE) {
		locked = run_lock(s->cfg, &s->lockfd);
		if (locked != 0)
			return locked > 0 ? EXIT_TEMP : EXIT_USAGE;
	}
	rc = (flags & (SESSION_WRITE | SESSION_CACHE))
	    ? db_open(s->cfg->database, &s->db)
	    : db_open_nomigrate(s->cfg->database, &s->db);
	if (rc == 0)
		return EXIT_DONE;
	/* busy: later; unusable (named): a person; else failed */
	return db_failed_busy()    ? EXIT_TEMP
	    : db_failed_unusable() ? EXIT_USAGE
	                           : EXIT_FAILED;
}

int
session_store(struct session *s, unsigned flags)
{
	int rc = open_store(s, flags);

	if (rc != EXIT_DONE)
		return rc;
	/* A fleet's pools are the ones the store knows. */
	if ((flags & SESSION_FLEETS) && fleet_adopt_stored(&s->cfg, s->db))
		return EXIT_FAILED;
	return EXIT_DONE;
}

int
session_clients(struct session *s)
{
	if (s->arm != NULL)
		return EXIT_DONE;
	if (run_connect(s->cfg, &s->http, &s->tokens, &s->arm)) {
		/* No provider: the identity is misconfigured, nothing sent. */
		return s->http != NULL && s->tokens == NULL ? EXIT_USAGE
		                                            : EXIT_FAILED;
	}
	return EXIT_DONE;
}

int
session_connect(struct session *s)
{
	const char *token;
	int rc;

	if (s->arm != NULL)
		return EXIT_DONE;
	rc = session_clients(s);
	if (rc != EXIT_DONE)
		return rc;
	/* The token first: a refused identity (2) or an unreachable Entra
	 * ID (75) stops the command before any ARM request. */
	if (token_get(s->tokens, 0, &token))
		return token_failure_exit(s->tokens);
	return EXIT_DONE;
}

int
session_open(struct session *s, const struct cli *cli, unsigned flags)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->lockfd = -1;
	if (cli_load_config(cli, &s->cfg))
		return EXIT_USAGE;
	if (flags & (SESSION_STORE | SESSION_WRITE | SESSION_CACHE)) {
		rc = session_store(s, flags);
		if (rc != EXIT_DONE)
			return rc;
	}
	if (flags & SESSION_ARM)
		return session_connect(s);
	return EXIT_DONE;
}

int
session_unanswered(const struct session *s)
{
	/* An untrusted certificate is not temporary (ca_file). */
	return s->http != NULL && http_client_tls_failure(s->http) != NULL
	    ? EXIT_USAGE
	    : EXIT_TEMP;
}

void
session_close(struct session *s)
{
	run_disconnect(s->http, s->tokens, s->arm);
	s->http = NULL;
	s->tokens = NULL;
	s->arm = NULL;
	db_close(s->db);
	s->db = NULL;
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->lockfd = -1;
	config_free(s->cfg);
	s->cfg = NULL;
}
