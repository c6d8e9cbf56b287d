/*
 * cmd_pin.c -- pin | unpin SNAPSHOT: take a snapshot out of retention, or
 * give it back.
 *
 * The only writers among the record's commands: they take the run lock (so
 * they never race a run that is deciding retention), flip the flag and
 * record a decision under a runs row of their own, all in one transaction.
 */
#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_conflict.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
#include "job/run/fleet.h"
#include "job/run/run.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/*
 * Flip the flag and record the decision, in one transaction, under a runs
 * row of mode ${cmd}.  0 done, -1 not (logged; the runs row says so).
 */
static int
pin_record(struct session *ss, const char *cmd, int pin,
    const struct db_snapshot *snap)
{
	const struct pool_conf *pc;
	struct db_decision d;
	struct db_run run;
	time_t now = util_now();
	int rc = -1;

	memset(&run, 0, sizeof(run));
	util_strlcpy(run.mode, cmd, sizeof(run.mode));
	if (db_run_start(ss->db, now, now, cmd, &run.id))
		return -1;
	run.exit_code = EXIT_FAILED;
	if (db_begin(ss->db))
		goto finish;
	memset(&d, 0, sizeof(d));
	d.run_id = run.id;
	d.pool_id = snap->pool_id;
	d.snapshot_id = snap->id;
	d.at = now;
	util_strlcpy(d.action, cmd, sizeof(d.action));
	util_strlcpy(d.reasons,
	    pin ? "pinned by hand: kept whatever retention says"
	        : "unpinned by hand: retention decides again",
	    sizeof(d.reasons));
	pc = config_find_pool(ss->cfg, snap->pool_key);
	if (pc != NULL)
		retention_policy_fingerprint(
		    pc->policy, d.fingerprint, sizeof(d.fingerprint));
	if (db_snapshot_set_pinned(ss->db, snap->id, pin) ||
	    db_decision_add(ss->db, &d) || db_commit(ss->db)) {
		(void)db_rollback(ss->db);
		goto finish;
	}
	run.exit_code = EXIT_DONE;
	rc = 0;
finish:
	run.finished_at = util_now();
	(void)db_run_finish(ss->db, &run);
	return rc;
}

/* The snapshot as it is now: JSON (changed or not), or a line if changed. */
static void
pin_print(const struct cli *cli, const char *cmd, int pin,
    const struct db_snapshot *snap, int changed)
{
	if (cli->json) {
		json_t *doc = output_snapshot_json(snap);

		json_object_set_new(doc, "action", json_string(cmd));
		json_object_set_new(doc, "changed", json_boolean(changed));
		output_print_json(doc);
	} else if (changed) {
		printf("%s %s (pool %s)\n", pin ? "pinned" : "unpinned",
		    snap->name, snap->pool_key);
	}
}

static int
pin_set(struct cli *cli, int argc, char **argv, int pin)
{
	const char *cmd = pin ? "pin" : "unpin";
	const char *ref = NULL;
	struct session ss;
	struct db_snapshot snap;
	int rc;

	rc = cli_one_operand(
	    cli, argc, argv, "one SNAPSHOT (name, ARM id or number)", &ref);
	if (rc != EXIT_DONE)
		return rc;
	/* The run lock: never race a run deciding retention. */
	rc = session_open(&ss, cli, SESSION_WRITE);
	if (rc == EXIT_DONE)
		rc = lookup_snapshot(ss.db, cmd, ref, ss.cfg->database, &snap);
	if (rc != EXIT_DONE)
		goto out;
	if (pin &&
	    (strcmp(snap.state, "deleting") == 0 ||
	        strcmp(snap.state, "deleted") == 0 ||
	        strcmp(snap.state, "failed") == 0)) {
		log_err(snap.pool_key, "%s: snapshot %s is %s; nothing to pin",
		    cmd, snap.name, snap.state);
		rc = EXIT_USAGE;
		goto out;
	}
	if (snap.pinned == pin) {
		log_info(snap.pool_key, "%s: %s is already %s", cmd, snap.name,
		    pin ? "pinned" : "not pinned");
		pin_print(cli, cmd, pin, &snap, 0);
	} else if (pin_record(&ss, cmd, pin, &snap) == 0) {
		snap.pinned = pin;
		pin_print(cli, cmd, pin, &snap, 1);
	} else {
		rc = EXIT_FAILED;
	}
out:
	session_close(&ss);
	return rc;
}

int
cmd_pin(struct cli *cli, int argc, char **argv)
{
	return pin_set(cli, argc, argv, 1);
}

int
cmd_unpin(struct cli *cli, int argc, char **argv)
{
	return pin_set(cli, argc, argv, 0);
}
