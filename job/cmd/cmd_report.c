/*
 * cmd_report.c -- what operators ask of the record between runs:
 *
 *   pin | unpin SNAPSHOT       take a snapshot out of retention, or give it
 * back explain SNAPSHOT           its state and every decision taken about it
 *   baseline [--channel NAME] [--format table|json|env|tfvars]
 *   drift [--refresh] [--channel NAME]
 *   check [--as-of TIME]       a Nagios/Icinga plugin
 *
 * pin and unpin are the only writers: they take the run lock (so they
 * never race a run that is deciding retention), flip the flag and record
 * a decision under a runs row of their own, all in one transaction.  The
 * others open the store without migrating and change nothing; only
 * `drift --refresh` talks to Azure (one GET per managed cluster, and the
 * answer is shown, not recorded: recording observations is the run's job).
 *
 * A baseline is the snapshot that holds a pool's channel (its policy's
 * `channel`, or --channel).  One whose row is no longer active (deleted,
 * missing in Azure) is not a usable baseline: it is reported as none,
 * with a warning, so no script builds a pool from a snapshot that is gone.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
#include "job/cmd/output.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
#include "job/run/fleet.h"
#include "job/run/run.h"

/* ---- shared helpers ---- */

static const char *
dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

/* A rough age for people: "45s", "17m", "3h", "12d". */
static void
fmt_age(long long secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%llds", secs);
	else if (secs < 2 * 3600)
		snprintf(buf, len, "%lldm", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%lldh", secs / 3600);
	else
		snprintf(buf, len, "%lldd", secs / 86400);
}

/*
 * Find SNAPSHOT (name, ARM id or number) in the store.  Return EXIT_DONE,
 * EXIT_USAGE when there is no such snapshot, EXIT_FAILED on a store error.
 */
static int
find_snapshot(struct db *db, const char *cmd, const char *ref, const char *path,
    struct db_snapshot *out)
{
	int got = db_snapshot_find(db, ref, out);

	if (got < 0)
		return EXIT_FAILED;
	if (got == 0) {
		log_err(NULL,
		    "%s: no snapshot '%s' in %s (give its name, ARM id "
		    "or number from 'aksnap list')",
		    cmd, ref, path);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

/*
 * The usable baseline of pool ${pool_id} in ${channel}: 1 and ${*out}
 * when the channel holds an active snapshot, 0 when it holds none (or one
 * that is not active; said once on stderr), -1 on a store error.
 */
static int
baseline_of(struct db *db, const char *pool_key, int64_t pool_id,
    const char *channel, struct db_snapshot *out)
{
	int got;

	if (pool_id <= 0)
		return 0;
	got = db_snapshot_channel(db, pool_id, channel, out);
	if (got <= 0)
		return got;
	if (strcmp(out->state, "active") != 0) {
		log_warn(pool_key,
		    "baseline %s of channel %s is %s in the store; not used",
		    out->name, channel, out->state);
		return 0;
	}
	return 1;
}

/* The store id of a configured pool; 0 when no run has seen it yet. */
static int
pool_id_of(struct db *db, const char *key, int64_t *id)
{
	struct db_pool p;
	int got = db_pool_get(db, key, &p);

	*id = got > 0 ? p.id : 0;
	return got < 0 ? -1 : 0;
}

/* ---- pin / unpin ---- */

static int
pin_set(struct cli *cli, int argc, char **argv, int pin)
{
	const char *cmd = pin ? "pin" : "unpin";
	const struct pool_conf *pc;
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct db_snapshot snap;
	struct db_decision d;
	struct db_run run;
	time_t now = util_now();
	int lockfd = -1, locked, rc = EXIT_FAILED, changed = 0;

	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 2)
		return cli_usage_error(
		    cmd, "expected one SNAPSHOT (name, ARM id or number)");
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	locked = run_lock(cfg, &lockfd);
	if (locked != 0) {
		rc = locked > 0 ? EXIT_TEMP : EXIT_USAGE;
		goto out;
	}
	if (db_open(cfg->database, &db)) {
		/* busy: later; unusable (named): a person; else failed */
		rc = db_failed_busy()      ? EXIT_TEMP
		    : db_failed_unusable() ? EXIT_USAGE
		                           : EXIT_FAILED;
		goto out;
	}
	rc = find_snapshot(db, cmd, argv[1], cfg->database, &snap);
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
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
		rc = EXIT_DONE;
		goto print;
	}

	memset(&run, 0, sizeof(run));
	util_strlcpy(run.mode, cmd, sizeof(run.mode));
	if (db_run_start(db, now, now, cmd, &run.id))
		goto out;
	run.exit_code = EXIT_FAILED;
	if (db_begin(db))
		goto finish;
	memset(&d, 0, sizeof(d));
	d.run_id = run.id;
	d.pool_id = snap.pool_id;
	d.snapshot_id = snap.id;
	d.at = now;
	util_strlcpy(d.action, cmd, sizeof(d.action));
	util_strlcpy(d.reasons,
	    pin ? "pinned by hand: kept whatever retention says"
	        : "unpinned by hand: retention decides again",
	    sizeof(d.reasons));
	pc = config_find_pool(cfg, snap.pool_key);
	if (pc != NULL)
		retention_policy_fingerprint(
		    &pc->policy, d.fingerprint, sizeof(d.fingerprint));
	if (db_snapshot_set_pinned(db, snap.id, pin) ||
	    db_decision_add(db, &d) || db_commit(db)) {
		(void)db_rollback(db);
		goto finish;
	}
	snap.pinned = pin;
	changed = 1;
	run.exit_code = EXIT_DONE;
finish:
	run.finished_at = util_now();
	(void)db_run_finish(db, &run);
	if (!changed)
		goto out;
	rc = EXIT_DONE;
print:
	if (cli->json) {
		json_t *doc = output_snapshot_json(&snap);

		json_object_set_new(doc, "action", json_string(cmd));
		json_object_set_new(doc, "changed", json_boolean(changed));
		output_print_json(doc);
	} else if (changed) {
		printf("%s %s (pool %s)\n", pin ? "pinned" : "unpinned",
		    snap.name, snap.pool_key);
	}
out:
	db_close(db);
	if (lockfd >= 0)
		close(lockfd);
	config_free(cfg);
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

/* ---- explain ---- */

/* At 80 columns the reasons wrap once the policy, mode and run are gone. */
static const struct table_col explain_cols[] = {
    {"AT", 0, 0},
    {"RUN", 2, 0},
    {"MODE", 3, 0},
    {"ACTION", 0, 0},
    {"POLICY", 4, 0},
    {"REASONS", 0, 1},
};

struct explain_ctx {
	json_t *arr; /* --json */
	struct table *tab; /* else */
};

static int
explain_row(void *vctx, const struct db_decision *d, const char *run_mode)
{
	struct explain_ctx *ctx = vctx;
	json_t *arr = ctx->arr;
	char at[72], run[48];
	/* A decision that held over several runs shows its range (first ..
	 * last); one taken once reads as it always did. */
	int ranged = d->last_run_id != d->run_id || d->last_at != d->at;

	if (arr != NULL) {
		json_t *o = json_object();

		json_object_set_new(o, "run",
		    d->run_id != 0 ? json_integer(d->run_id) : json_null());
		json_object_set_new(o, "mode", output_json_opt(run_mode));
		json_object_set_new(o, "at", output_json_time(d->at));
		json_object_set_new(o, "slot", output_json_time(d->slot));
		json_object_set_new(o, "action", json_string(d->action));
		json_object_set_new(o, "reasons", reasons_json(d->reasons));
		json_object_set_new(
		    o, "fingerprint", output_json_opt(d->fingerprint));
		if (ranged) {
			json_object_set_new(o, "last_run",
			    d->last_run_id != 0 ? json_integer(d->last_run_id)
			                        : json_null());
			json_object_set_new(
			    o, "last_at", output_json_time(d->last_at));
		}
		json_array_append_new(arr, o);
		return 0;
	}
	output_time(d->at, at, sizeof(at));
	if (ranged) {
		size_t n = strlen(at);

		util_strlcpy(at + n, " .. ", sizeof(at) - n);
		n = strlen(at);
		output_time(d->last_at, at + n, sizeof(at) - n);
		snprintf(run, sizeof(run), "%lld-%lld", (long long)d->run_id,
		    (long long)d->last_run_id);
	} else {
		snprintf(run, sizeof(run), "%lld", (long long)d->run_id);
	}
	return table_add(ctx->tab, at, run, dash(run_mode), d->action,
	    dash(d->fingerprint), dash(d->reasons));
}

/* One apply of the snapshot: a JSON object, or a line of text. */
struct apply_ctx {
	json_t *arr; /* --json */
	int n; /* lines printed */
};

static int
explain_apply(void *vctx, const struct db_apply *a)
{
	struct apply_ctx *ctx = vctx;
	json_t *arr = ctx->arr;
	char at[32];

	if (arr != NULL) {
		json_t *o = json_object();

		json_object_set_new(o, "run",
		    a->run_id != 0 ? json_integer(a->run_id) : json_null());
		json_object_set_new(o, "at", output_json_time(a->at));
		json_object_set_new(o, "action", json_string(a->kind));
		json_object_set_new(o, "target", json_string(a->target));
		json_object_set_new(o, "rollback", json_boolean(a->rollback));
		json_object_set_new(
		    o, "cross_region", json_boolean(a->cross_region));
		json_object_set_new(o, "from",
		    json_pack("{s:o,s:o}", "kubernetes_version",
		        output_json_opt(a->from.kubernetes_version),
		        "node_image_version",
		        output_json_opt(a->from.node_image_version)));
		json_object_set_new(o, "to",
		    json_pack("{s:o,s:o}", "kubernetes_version",
		        output_json_opt(a->to.kubernetes_version),
		        "node_image_version",
		        output_json_opt(a->to.node_image_version)));
		json_array_append_new(arr, o);
		return 0;
	}
	if (ctx->n++ == 0)
		printf("\napplied:\n");
	output_time(a->at, at, sizeof(at));
	printf("%s  %s%s (run %lld) %s\n", at, a->rollback ? "rollback, " : "",
	    a->kind, (long long)a->run_id, a->target);
	if (a->from.node_image_version[0] != '\0')
		printf("    node image %s -> %s, Kubernetes %s -> %s%s\n",
		    a->from.node_image_version, dash(a->to.node_image_version),
		    dash(a->from.kubernetes_version),
		    dash(a->to.kubernetes_version),
		    a->rollback ? " (older: --allow-older)" : "");
	else
		printf("    made on node image %s, Kubernetes %s\n",
		    dash(a->to.node_image_version),
		    dash(a->to.kubernetes_version));
	return 0;
}

int
cmd_explain(struct cli *cli, int argc, char **argv)
{
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct db_snapshot s;
	struct explain_ctx ctx = {NULL, NULL};
	struct apply_ctx actx = {NULL, 0};
	json_t *arr = NULL;
	char t1[32], t2[32];
	int rc;

	if (cli_operands(cli, argc, argv))
		return EXIT_USAGE;
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 2)
		return cli_usage_error("explain",
		    "expected one SNAPSHOT (name, ARM id or number)");
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	rc = EXIT_FAILED;
	if (db_open_nomigrate(cfg->database, &db))
		goto out;
	rc = find_snapshot(db, "explain", argv[1], cfg->database, &s);
	if (rc != EXIT_DONE)
		goto out;
	if (cli->json) {
		json_t *doc = json_object();

		arr = json_array();
		ctx.arr = arr;
		if (db_decision_explain(db, &s, explain_row, &ctx)) {
			json_decref(arr);
			json_decref(doc);
			rc = EXIT_FAILED;
			goto out;
		}
		json_object_set_new(doc, "snapshot", output_snapshot_json(&s));
		json_object_set_new(doc, "decisions", arr);
		actx.arr = json_array();
		json_object_set_new(doc, "applies", actx.arr);
		if (db_apply_list(db, s.id, explain_apply, &actx)) {
			json_decref(doc);
			rc = EXIT_FAILED;
			goto out;
		}
		output_print_json(doc);
		goto out;
	}

	printf("snapshot    %s (#%lld)\n", s.name, (long long)s.id);
	printf("pool        %s\n", s.pool_key);
	printf("arm id      %s\n", s.arm_id);
	printf(
	    "state       %s%s%s\n", s.state, s.error[0] ? ": " : "", s.error);
	output_time(s.slot, t1, sizeof(t1));
	output_time(s.created_at, t2, sizeof(t2));
	printf("slot        %s\n", s.slot != 0 ? t1 : "- (by hand or adopted)");
	printf("created     %s\n", t2);
	printf("node image  %s\n", dash(s.v.node_image_version));
	printf("kubernetes  %s\n", dash(s.v.kubernetes_version));
	printf("os          %s %s, %s, FIPS %s\n", dash(s.v.os_type),
	    dash(s.v.os_sku), dash(s.v.vm_size),
	    s.v.enable_fips ? "on" : "off");
	output_time(s.promoted_at, t1, sizeof(t1));
	output_time(s.demoted_at, t2, sizeof(t2));
	if (s.channel[0] != '\0')
		printf("channel     %s (promoted %s)\n", s.channel, t1);
	else if (s.demoted_at != 0)
		printf("channel     - (promoted %s, replaced %s)\n", t1, t2);
	else
		printf("channel     -\n");
	printf("pinned      %s\n\n", s.pinned ? "yes" : "no");
	ctx.tab = table_new(
	    explain_cols, sizeof(explain_cols) / sizeof(explain_cols[0]));
	if (ctx.tab == NULL || db_decision_explain(db, &s, explain_row, &ctx))
		rc = EXIT_FAILED;
	else
		table_print(ctx.tab, stdout);
	table_free(ctx.tab);
	if (rc == EXIT_DONE && db_apply_list(db, s.id, explain_apply, &actx))
		rc = EXIT_FAILED;
out:
	db_close(db);
	config_free(cfg);
	return rc;
}

/* ---- baseline ---- */

enum baseline_format { FMT_TABLE, FMT_JSON, FMT_ENV, FMT_TFVARS };

/* AKSNAP_BASELINE_<KEY>: the pool key upper-cased, non-alnum as '_'. */
static void
env_name(const char *key, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "AKSNAP_BASELINE_");

	for (const char *p = key; *p != '\0' && n + 1 < len; p++)
		buf[n++] = isalnum((unsigned char)*p)
		    ? (char)toupper((unsigned char)*p)
		    : '_';
	buf[n < len ? n : len - 1] = '\0';
}

/* A value safe for sh, systemd EnvironmentFile= and docker --env-file:
 * bare when it holds only [A-Za-z0-9/._:-], else single-quoted for sh.
 * (A resource group may hold parentheses.) */
static void
print_env_value(const char *v)
{
	if (v[strspn(v,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789/._:-")] == '\0') {
		printf("%s\n", v);
		return;
	}
	putchar('\'');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*p);
	}
	puts("'");
}

/* An HCL string literal: quotes, backslashes and "${" / "%{" escaped. */
static void
print_hcl_string(const char *v)
{
	putchar('"');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar(*p);
		if ((*p == '$' || *p == '%') && p[1] == '{')
			putchar(*p); /* $${ and %%{ are literal */
	}
	putchar('"');
}

int
cmd_baseline(struct cli *cli, int argc, char **argv)
{
	/* At 80 columns: pool, channel and snapshot; the ARM id goes first. */
	static const struct table_col baseline_cols[] = {
	    {"POOL", 0, 0},
	    {"CHANNEL", 3, 0},
	    {"SNAPSHOT", 0, 0},
	    {"NODE IMAGE", 1, 0},
	    {"K8S", 2, 0},
	    {"PROMOTED", 4, 0},
	    {"ARM ID", 5, 0},
	};
	struct table *tab = NULL;
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	enum baseline_format fmt = FMT_TABLE;
	int fmt_given = 0;
	const char *channel = NULL;
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct db_snapshot *base = NULL;
	int *have = NULL;
	json_t *arr = NULL;
	size_t width = 0;
	int ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "baseline", "--channel: expected a name");
			channel = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				fmt = FMT_JSON;
			else if (strcmp(optarg, "env") == 0)
				fmt = FMT_ENV;
			else if (strcmp(optarg, "tfvars") == 0)
				fmt = FMT_TFVARS;
			else if (strcmp(optarg, "table") == 0)
				fmt = FMT_TABLE;
			else
				return cli_usage_error("baseline",
				    "--format: expected table, json, env or "
				    "tfvars, got '%s'",
				    optarg);
			fmt_given = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (!fmt_given && cli->json)
		fmt = FMT_JSON;
	if (optind < argc)
		return cli_usage_error(
		    "baseline", "unexpected argument '%s'", argv[optind]);
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	rc = EXIT_FAILED;
	if (db_open_nomigrate(cfg->database, &db) ||
	    fleet_adopt_stored(&cfg, db))
		goto out;
	base = calloc(cfg->npools + 1, sizeof(*base));
	have = calloc(cfg->npools + 1, sizeof(*have));
	if (base == NULL || have == NULL)
		goto out;
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];
		int64_t pool_id;

		if (pool_id_of(db, pc->key, &pool_id))
			goto out;
		have[i] = baseline_of(db, pc->key, pool_id,
		    channel != NULL ? channel : pc->policy.channel, &base[i]);
		if (have[i] < 0)
			goto out;
		if (strlen(pc->key) > width)
			width = strlen(pc->key);
	}
	rc = EXIT_DONE;

	switch (fmt) {
	case FMT_JSON: {
		json_t *doc = json_object();

		arr = json_array();
		json_object_set_new(doc, "channel", output_json_opt(channel));
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];
			const struct db_snapshot *b = have[i] ? &base[i] : NULL;
			json_t *o = json_object();

			json_object_set_new(o, "pool", json_string(pc->key));
			json_object_set_new(o, "channel",
			    json_string(channel != NULL ? channel
			                                : pc->policy.channel));
			json_object_set_new(o, "snapshot",
			    b ? json_string(b->name) : json_null());
			json_object_set_new(o, "arm_id",
			    b ? json_string(b->arm_id) : json_null());
			json_object_set_new(o, "node_image_version",
			    b ? output_json_opt(b->v.node_image_version)
			      : json_null());
			json_object_set_new(o, "kubernetes_version",
			    b ? output_json_opt(b->v.kubernetes_version)
			      : json_null());
			json_object_set_new(o, "promoted_at",
			    b ? output_json_time(b->promoted_at) : json_null());
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "baselines", arr);
		output_print_json(doc);
		break;
	}
	case FMT_ENV:
		/* Pools without a baseline get no line: an unset variable
		 * is what a script tests for. */
		for (size_t i = 0; i < cfg->npools; i++) {
			char name[96];

			if (!have[i])
				continue;
			env_name(cfg->pools[i].key, name, sizeof(name));
			printf("%s=", name);
			print_env_value(base[i].arm_id);
		}
		break;
	case FMT_TFVARS:
		printf("aksnap_baselines = {\n");
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];

			if (!have[i]) {
				printf("  # %s: no baseline in channel %s\n",
				    pc->key,
				    channel != NULL ? channel
				                    : pc->policy.channel);
				continue;
			}
			printf("  ");
			print_hcl_string(pc->key);
			printf("%*s = ", (int)(width - strlen(pc->key)), "");
			print_hcl_string(base[i].arm_id);
			putchar('\n');
		}
		printf("}\n");
		break;
	case FMT_TABLE:
		tab = table_new(baseline_cols,
		    sizeof(baseline_cols) / sizeof(baseline_cols[0]));
		if (tab == NULL) {
			rc = EXIT_FAILED;
			break;
		}
		for (size_t i = 0; i < cfg->npools; i++) {
			const struct pool_conf *pc = &cfg->pools[i];
			const char *chan =
			    channel != NULL ? channel : pc->policy.channel;
			char promoted[32];

			if (!have[i]) {
				(void)table_add(tab, pc->key, chan, "(none)",
				    "-", "-", "-", "-");
				continue;
			}
			output_time(
			    base[i].promoted_at, promoted, sizeof(promoted));
			(void)table_add(tab, pc->key, chan, base[i].name,
			    dash(base[i].v.node_image_version),
			    dash(base[i].v.kubernetes_version), promoted,
			    base[i].arm_id);
		}
		table_print(tab, stdout);
		table_free(tab);
		break;
	}
out:
	free(base);
	free(have);
	db_close(db);
	config_free(cfg);
	return rc;
}

/* ---- drift ---- */

struct drift_row {
	const struct pool_conf *pc;
	const char *channel;
	int64_t pool_id; /* 0: not in the store yet */
	int have_live;
	int missing; /* the cluster or the node pool is gone */
	time_t observed_at;
	struct db_versions live;
	char provisioning_state[32];
	char error[256]; /* --refresh failed for this pool */
	int have_base, have_newest;
	struct db_snapshot base, newest;
	const char *verdict;
	/* the cluster's autoUpgradeProfile, as last seen ("": none) */
	char upgrade_channel[32], node_os_channel[32];
};

static int
same_cluster(const struct pool_conf *a, const struct pool_conf *b)
{
	return strcasecmp(a->subscription, b->subscription) == 0 &&
	    strcasecmp(a->resource_group, b->resource_group) == 0 &&
	    strcasecmp(a->cluster, b->cluster) == 0;
}

/*
 * --refresh: one GET per managed cluster, its answer spread over the rows
 * of its pools.  Return 0, with ${*some_failed} set when a GET failed
 * (those rows say why; a 404 is an answer: the pools are missing), or -1
 * with the exit code in ${*code} when nothing could be asked (no client,
 * no token).
 */
static int
drift_refresh(const struct config *cfg, struct drift_row *rows, size_t n,
    int *some_failed, int *code)
{
	struct http_options ho;
	struct http_client *http = NULL;
	struct token_provider *tokens = NULL;
	struct arm *arm = NULL;
	const char *token;
	int rc = -1;

	*some_failed = 0;
	*code = EXIT_FAILED;
	memset(&ho, 0, sizeof(ho));
	ho.timeout_s = cfg->request_timeout;
	ho.ca_file = cfg->ca_file[0] != '\0' ? cfg->ca_file : NULL;
	http = http_client_new(&ho);
	if (http == NULL)
		goto out;
	tokens = run_token_provider(cfg);
	if (tokens == NULL) {
		*code = EXIT_USAGE;
		goto out;
	}
	http_client_set_token_source(http, token_source_cb, tokens);
	arm = arm_new(http, cfg->arm_endpoint, cfg->api_version);
	if (arm == NULL)
		goto out;
	if (n > 0 && token_get(tokens, 0, &token)) {
		*code = token_failure_exit(tokens);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct arm_cluster cl;
		struct arm_error e;
		int got;

		/* A cluster already asked for an earlier pool. */
		for (size_t j = 0; j < i; j++)
			if (same_cluster(rows[j].pc, rows[i].pc))
				goto next;
		memset(&cl, 0, sizeof(cl));
		memset(&e, 0, sizeof(e));
		got = arm_cluster_get(arm, rows[i].pc->key,
		    rows[i].pc->subscription, rows[i].pc->resource_group,
		    rows[i].pc->cluster, &cl, &e);
		for (size_t k = i; k < n; k++) {
			struct drift_row *r = &rows[k];
			const struct arm_agent_pool *ap = NULL;

			if (!same_cluster(rows[i].pc, r->pc))
				continue;
			r->observed_at = util_now();
			if (got != 0 && e.status == 404) {
				r->missing = 1;
				util_strlcpy(r->provisioning_state, "missing",
				    sizeof(r->provisioning_state));
				continue;
			}
			if (got != 0) {
				snprintf(r->error, sizeof(r->error),
				    "GET cluster %s: %ld %s %s", r->pc->cluster,
				    e.status, e.code, e.message);
				*some_failed = 1;
				continue;
			}
			for (size_t p = 0; p < cl.npools; p++)
				if (strcasecmp(
				        cl.pools[p].name, r->pc->nodepool) == 0)
					ap = &cl.pools[p];
			if (ap == NULL) {
				r->missing = 1;
				util_strlcpy(r->provisioning_state, "missing",
				    sizeof(r->provisioning_state));
				continue;
			}
			arm_agent_pool_versions(ap, &r->live);
			util_strlcpy(r->provisioning_state,
			    ap->provisioning_state,
			    sizeof(r->provisioning_state));
			util_strlcpy(r->upgrade_channel, cl.upgrade_channel,
			    sizeof(r->upgrade_channel));
			util_strlcpy(r->node_os_channel, cl.node_os_channel,
			    sizeof(r->node_os_channel));
			r->have_live = 1;
		}
		arm_cluster_free(&cl);
	next:;
	}
	rc = 0;
out:
	arm_free(arm);
	token_provider_free(tokens);
	http_client_free(http);
	return rc;
}

static const char *
drift_verdict_of(const struct drift_row *r)
{
	char why[256];
	struct drift_facts f = {r->error[0] != '\0', r->missing, r->have_live,
	    r->have_base, r->live.kubernetes_version,
	    r->live.node_image_version, r->base.v.kubernetes_version,
	    r->base.v.node_image_version,
	    apply_channels_undo_pin(
	        r->upgrade_channel, r->node_os_channel, why, sizeof(why))};

	return drift_verdict(&f);
}

static json_t *
versions_json(const struct db_snapshot *s, int baseline)
{
	json_t *o = json_object();

	json_object_set_new(o, "snapshot", json_string(s->name));
	json_object_set_new(o, "arm_id", json_string(s->arm_id));
	json_object_set_new(
	    o, "node_image_version", output_json_opt(s->v.node_image_version));
	json_object_set_new(
	    o, "kubernetes_version", output_json_opt(s->v.kubernetes_version));
	json_object_set_new(o, "created_at", output_json_time(s->created_at));
	if (baseline)
		json_object_set_new(
		    o, "promoted_at", output_json_time(s->promoted_at));
	return o;
}

static void
drift_print(const struct drift_row *rows, size_t n, int json, int refreshed)
{
	/* At 80 columns: the verdict, the live image if it fits, then the
	 * others. */
	static const struct table_col drift_cols[] = {
	    {"POOL", 0, 0},
	    {"VERDICT", 0, 0},
	    {"LIVE IMAGE", 1, 0},
	    {"K8S", 4, 0},
	    {"BASELINE IMAGE", 2, 0},
	    {"K8S", 5, 0},
	    {"NEWEST SNAPSHOT IMAGE", 3, 0},
	    {"K8S", 6, 0},
	};
	struct table *tab;
	if (json) {
		json_t *doc = json_object(), *arr = json_array();

		json_object_set_new(doc, "refreshed", json_boolean(refreshed));
		for (size_t i = 0; i < n; i++) {
			const struct drift_row *r = &rows[i];
			json_t *o = json_object(), *live = json_null();

			if (r->have_live || r->missing) {
				live = json_object();
				json_object_set_new(live, "observed_at",
				    output_json_time(r->observed_at));
				json_object_set_new(live, "provisioning_state",
				    output_json_opt(r->provisioning_state));
				json_object_set_new(live, "node_image_version",
				    r->have_live
				        ? json_string(
				              r->live.node_image_version)
				        : json_null());
				json_object_set_new(live, "kubernetes_version",
				    r->have_live
				        ? json_string(
				              r->live.kubernetes_version)
				        : json_null());
			}
			json_object_set_new(o, "pool", json_string(r->pc->key));
			json_object_set_new(
			    o, "channel", json_string(r->channel));
			json_object_set_new(
			    o, "verdict", json_string(r->verdict));
			if (r->have_live) {
				char why[256];
				int undoes =
				    apply_channels_undo_pin(r->upgrade_channel,
				        r->node_os_channel, why, sizeof(why));

				json_object_set_new(live, "upgrade_channel",
				    output_json_opt(r->upgrade_channel));
				json_object_set_new(live, "node_os_channel",
				    output_json_opt(r->node_os_channel));
				json_object_set_new(live, "channel_will_drift",
				    json_boolean(undoes));
				if (undoes)
					json_object_set_new(
					    live, "channel", json_string(why));
			}
			json_object_set_new(o, "live", live);
			json_object_set_new(o, "baseline",
			    r->have_base ? versions_json(&r->base, 1)
			                 : json_null());
			json_object_set_new(o, "newest",
			    r->have_newest ? versions_json(&r->newest, 0)
			                   : json_null());
			if (r->error[0] != '\0')
				json_object_set_new(
				    o, "error", json_string(r->error));
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "pools", arr);
		output_print_json(doc);
		return;
	}
	tab = table_new(drift_cols, sizeof(drift_cols) / sizeof(drift_cols[0]));
	if (tab == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct drift_row *r = &rows[i];

		(void)table_add(tab, r->pc->key, r->verdict,
		    r->have_live ? r->live.node_image_version
		                 : (r->missing ? "(missing)" : "-"),
		    r->have_live ? r->live.kubernetes_version : "-",
		    r->have_base ? dash(r->base.v.node_image_version) : "-",
		    r->have_base ? dash(r->base.v.kubernetes_version) : "-",
		    r->have_newest ? dash(r->newest.v.node_image_version) : "-",
		    r->have_newest ? dash(r->newest.v.kubernetes_version)
		                   : "-");
	}
	table_print(tab, stdout);
	table_free(tab);
	for (size_t i = 0; i < n; i++)
		if (rows[i].error[0] != '\0')
			printf("%s: %s\n", rows[i].pc->key, rows[i].error);
}

int
cmd_drift(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"refresh", no_argument, NULL, 'r'},
	    {"channel", required_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct drift_row *rows = NULL;
	const char *channel = NULL;
	int refresh = 0, failed = 0, ch, rc;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'r':
			refresh = 1;
			break;
		case 'c':
			if (optarg[0] == '\0')
				return cli_usage_error(
				    "drift", "--channel: expected a name");
			channel = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "drift", "unexpected argument '%s'", argv[optind]);
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	rc = EXIT_FAILED;
	if (db_open_nomigrate(cfg->database, &db) ||
	    fleet_adopt_stored(&cfg, db))
		goto out;
	rows = calloc(cfg->npools + 1, sizeof(*rows));
	if (rows == NULL)
		goto out;
	for (size_t i = 0; i < cfg->npools; i++) {
		struct drift_row *r = &rows[i];
		struct db_observation o;
		int got;

		r->pc = &cfg->pools[i];
		r->channel = channel != NULL ? channel : r->pc->policy.channel;
		if (pool_id_of(db, r->pc->key, &r->pool_id))
			goto out;
		if (r->pool_id == 0)
			continue;
		r->have_base = baseline_of(
		    db, r->pc->key, r->pool_id, r->channel, &r->base);
		r->have_newest =
		    db_snapshot_newest_active(db, r->pool_id, &r->newest);
		got = refresh ? 0 : db_observation_latest(db, r->pool_id, &o);
		if (r->have_base < 0 || r->have_newest < 0 || got < 0)
			goto out;
		if (got == 0)
			continue;
		r->observed_at = o.observed_at;
		util_strlcpy(r->provisioning_state, o.provisioning_state,
		    sizeof(r->provisioning_state));
		if (strcmp(o.provisioning_state, "missing") == 0) {
			r->missing = 1;
		} else {
			r->live = o.v;
			r->have_live = 1;
			util_strlcpy(r->upgrade_channel, o.upgrade_channel,
			    sizeof(r->upgrade_channel));
			util_strlcpy(r->node_os_channel, o.node_os_channel,
			    sizeof(r->node_os_channel));
		}
	}
	rc = EXIT_DONE;
	if (refresh) {
		if (drift_refresh(cfg, rows, cfg->npools, &failed, &rc))
			goto out;
		rc = failed ? EXIT_FAILED : EXIT_DONE;
	}
	for (size_t i = 0; i < cfg->npools; i++)
		rows[i].verdict = drift_verdict_of(&rows[i]);
	drift_print(rows, cfg->npools, cli->json, refresh);
out:
	free(rows);
	db_close(db);
	config_free(cfg);
	return rc;
}

/* ---- check ---- */

struct problem {
	int level; /* CHECK_WARNING or CHECK_CRITICAL */
	char pool[64];
	char text[400];
};

struct check_state {
	struct problem *p;
	size_t n, cap;
	int critical, warning, paused;
};

/* Not a Nagios status: a paused pool (enabled = no) is listed as such and
 * neither raises nor lowers the status. */
#define CHECK_PAUSED 4

static void problem_add(struct check_state *cs, int level, const char *pool,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem_add(
    struct check_state *cs, int level, const char *pool, const char *fmt, ...)
{
	va_list ap;

	if (level == CHECK_CRITICAL)
		cs->critical++;
	else if (level == CHECK_PAUSED)
		cs->paused++;
	else
		cs->warning++;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 16;
		struct problem *np = realloc(cs->p, cap * sizeof(*np));

		if (np == NULL)
			return; /* counted, not described */
		cs->p = np;
		cs->cap = cap;
	}
	cs->p[cs->n].level = level;
	util_strlcpy(cs->p[cs->n].pool, pool != NULL ? pool : "",
	    sizeof(cs->p[cs->n].pool));
	va_start(ap, fmt);
	vsnprintf(cs->p[cs->n].text, sizeof(cs->p[cs->n].text), fmt, ap);
	va_end(ap);
	cs->n++;
}

static const char *const check_names[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN", "PAUSED"};

/* The one-line UNKNOWN answer (config or store unreadable, no run yet). */
static int
check_unknown(const struct cli *cli, const char *why)
{
	if (cli->json) {
		json_t *doc = json_object();

		json_object_set_new(doc, "status", json_string("UNKNOWN"));
		json_object_set_new(
		    doc, "exit_code", json_integer(CHECK_UNKNOWN));
		json_object_set_new(doc, "summary", json_string(why));
		json_object_set_new(doc, "problems", json_array());
		output_print_json(doc);
	} else {
		printf("AKSNAP UNKNOWN - %s\n", why);
	}
	return CHECK_UNKNOWN;
}

/*
 * A pool with a baseline on a cluster whose auto-upgrade channels would
 * undo it (as the last observation saw them): WARNING naming the cluster,
 * the channel and the fix.  0 or -1.
 */
static int
check_channels(struct db *db, const struct pool_conf *pc, int64_t pool_id,
    struct check_state *cs)
{
	struct db_observation o;
	char why[256];
	int got = db_observation_latest(db, pool_id, &o);

	if (got < 0)
		return -1;
	if (got > 0 &&
	    apply_channels_undo_pin(
	        o.upgrade_channel, o.node_os_channel, why, sizeof(why)))
		problem_add(cs, CHECK_WARNING, pc->key,
		    "cluster %s will move the pool off its baseline: %s",
		    pc->cluster, why);
	return 0;
}

/* The checks of one pool (DESIGN.md section 3, `check`). */
/*
 * A WARNING per snapshot that Azure has not shown done (DESIGN.md section
 * 6, Verification): `unconfirmed` (a PUT whose answer and GET did not show
 * it) and `deleting` (a DELETE not yet shown gone).  The next run settles
 * both; until then the store cannot prove what Azure holds.  0 or -1.
 */
static int
check_pending(struct db *db, const struct pool_conf *pc, int64_t pool_id,
    struct check_state *cs)
{
	static const struct {
		const char *state, *what;
	} kinds[] = {
	    {"unconfirmed",
	        "Azure has not shown it taken; the next run "
	        "settles it by GET"},
	    {"deleting",
	        "Azure has not shown it deleted; the next run "
	        "deletes it again"},
	};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct db_snapshot *list = NULL;
		size_t n = 0;

		if (db_snapshot_list(db, pool_id, kinds[k].state, &list, &n))
			return -1;
		for (size_t i = 0; i < n; i++)
			problem_add(cs, CHECK_WARNING, pc->key,
			    "snapshot %s is %s: %s", list[i].name,
			    kinds[k].state, kinds[k].what);
		free(list);
	}
	return 0;
}

static int
check_pool(struct db *db, const struct config *cfg, const struct pool_conf *pc,
    time_t as_of, struct check_state *cs, long long *oldest_success_age,
    time_t *newest_snapshot, long long *oldest_baseline_age)
{
	const struct policy *pol = &pc->policy;
	struct schedule sched;
	struct db_snapshot s;
	char err[256], a[32], b[32];
	long long interval, age;
	time_t last = 0, image_date;
	int64_t pool_id;
	int got;

	if (pol->paused) {
		/* Observed only, by choice: not stale, nothing missing. */
		problem_add(cs, CHECK_PAUSED, pc->key,
		    "enabled = no: observed only; nothing is taken, promoted "
		    "or deleted");
		return 0;
	}
	if (pool_id_of(db, pc->key, &pool_id))
		return -1;
	if (pool_id == 0) {
		problem_add(cs, CHECK_WARNING, pc->key,
		    "not yet seen by a run (added to the configuration "
		    "since?)");
		return 0;
	}
	/* A fleet's pool no longer selected, or gone: said, not judged. */
	if (pc->fleet[0] != '\0') {
		struct db_observation o;

		got = db_observation_latest(db, pool_id, &o);
		if (got < 0)
			return -1;
		if (got == 1 && strcmp(o.provisioning_state, "missing") == 0) {
			util_format_time(o.observed_at, a, sizeof(a));
			problem_add(cs, CHECK_WARNING, pc->key,
			    "missing since %s: [fleet:%s] no longer selects "
			    "it, or its cluster or node pool is gone; its "
			    "snapshots stay under retention (never the "
			    "newest)",
			    a, pc->fleet);
			return 0;
		}
	}

	/* Staleness: a success (snapshot taken, or slot skipped because
	 * nothing changed) within twice the schedule's interval. */
	if (db_pool_last_success(db, pool_id, &last))
		return -1;
	if (schedule_parse(pol->schedule, &sched, err, sizeof(err)) == 0)
		interval = schedule_interval(&sched, cfg->timezone, as_of);
	else
		interval = -1;
	if (last == 0) {
		problem_add(
		    cs, CHECK_CRITICAL, pc->key, "no successful snapshot yet");
	} else {
		age = as_of > last ? (long long)(as_of - last) : 0;
		if (age > *oldest_success_age)
			*oldest_success_age = age;
		if (interval > 0 && age > 2 * interval) {
			fmt_age(age, a, sizeof(a));
			util_format_duration(2 * interval, b, sizeof(b));
			problem_add(cs, CHECK_CRITICAL, pc->key,
			    "no successful snapshot for %s (schedule '%s' "
			    "allows %s)",
			    a, pol->schedule, b);
		}
	}
	got = db_snapshot_newest_active(db, pool_id, &s);
	if (got < 0)
		return -1;
	if (got > 0 && s.created_at > *newest_snapshot)
		*newest_snapshot = s.created_at;
	if (check_pending(db, pc, pool_id, cs))
		return -1;

	/* The baseline: still there, not too old, its image still within
	 * what AKS supports. */
	got = db_snapshot_channel(db, pool_id, pol->channel, &s);
	if (got <= 0)
		return got;
	if (strcmp(s.state, "active") != 0) {
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline %s of channel %s is %s", s.name, pol->channel,
		    s.state);
		return 0;
	}
	if (check_channels(db, pc, pool_id, cs) != 0)
		return -1;
	age = as_of > s.created_at ? (long long)(as_of - s.created_at) : 0;
	if (age > *oldest_baseline_age)
		*oldest_baseline_age = age;
	if (pol->warn_baseline_age > 0 && age > pol->warn_baseline_age) {
		fmt_age(age, a, sizeof(a));
		util_format_duration(pol->warn_baseline_age, b, sizeof(b));
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline %s of channel %s is %s old (warn_baseline_age "
		    "%s)",
		    s.name, pol->channel, a, b);
	}
	if (pol->warn_image_age > 0 &&
	    versions_image_date(s.v.node_image_version, &image_date) == 0 &&
	    as_of - image_date > pol->warn_image_age) {
		fmt_age((long long)(as_of - image_date), a, sizeof(a));
		util_format_duration(pol->warn_image_age, b, sizeof(b));
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline node image %s is %s old (warn_image_age %s; AKS "
		    "supports a node image for 90 days)",
		    s.v.node_image_version, a, b);
	}
	return 0;
}

/*
 * One WARNING per conflict `sync` recorded (DESIGN.md section 6,
 * Ownership): a snapshot tagged aksnap-managed that this store does not
 * own.  From the store alone: check never calls ARM.  0 or -1.
 */
static int
check_conflicts(struct db *db, struct check_state *cs)
{
	struct db_conflict *c = NULL;
	size_t n = 0;

	if (db_conflict_list(db, &c, &n))
		return -1;
	struct db_snapshot *rows = NULL;
	size_t nrows = 0;

	for (size_t i = 0; i < n; i++)
		problem_add(cs, CHECK_WARNING, c[i].pool_tag,
		    "conflict: snapshot %s is tagged aksnap-managed but is not "
		    "this store's (%s); never touched (sync)",
		    c[i].name, c[i].reason);
	free(c);
	/* Rows of this store that Azure now tags for another owner. */
	if (db_snapshot_list(db, 0, "conflict", &rows, &nrows))
		return -1;
	for (size_t i = 0; i < nrows; i++)
		problem_add(cs, CHECK_WARNING, rows[i].pool_key,
		    "conflict: snapshot %s: %s; never touched (sync)",
		    rows[i].name, rows[i].error);
	free(rows);
	return 0;
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"as-of", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct check_state cs;
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct db_run last;
	long long oldest_success = 0, oldest_baseline = 0;
	time_t as_of = util_now(), newest = 0;
	size_t first;
	char why[PATH_MAX + 128], summary[512], age[32], perf[256];
	int ch, got, rc = CHECK_UNKNOWN;

	memset(&cs, 0, sizeof(cs));
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'a':
			if (util_parse_time(optarg, &as_of)) {
				(void)cli_usage_error("check",
				    "--as-of: expected an RFC 3339 time, got "
				    "'%s'",
				    optarg);
				return CHECK_UNKNOWN;
			}
			break;
		default:
			return CHECK_UNKNOWN;
		}
	}
	if (optind < argc) {
		(void)cli_usage_error(
		    "check", "unexpected argument '%s'", argv[optind]);
		return CHECK_UNKNOWN;
	}
	if (cli_load_config(cli, &cfg)) {
		snprintf(why, sizeof(why), "configuration %s is not valid",
		    cli->config_path);
		return check_unknown(cli, why);
	}
	if (db_open_nomigrate(cfg->database, &db)) {
		snprintf(why, sizeof(why), "cannot read the store %s",
		    cfg->database);
		rc = check_unknown(cli, why);
		goto out;
	}
	if (fleet_adopt_stored(&cfg, db)) {
		rc = check_unknown(cli, "cannot read the fleets' pools");
		goto out;
	}
	got = db_run_last(db, "run", &last);
	if (got <= 0) {
		snprintf(why, sizeof(why),
		    got < 0 ? "cannot read the runs of %s"
		            : "no run recorded yet in %s",
		    cfg->database);
		rc = check_unknown(cli, why);
		goto out;
	}
	if (last.exit_code != 0) {
		output_time(last.started_at, age, sizeof(age));
		problem_add(&cs, CHECK_CRITICAL, NULL,
		    "the last run (#%lld, started %s) exited %d%s",
		    (long long)last.id, age, last.exit_code,
		    last.failed > 0 ? " (a pool failed)" : "");
	}
	for (size_t i = 0; i < cfg->npools; i++) {
		if (check_pool(db, cfg, &cfg->pools[i], as_of, &cs,
		        &oldest_success, &newest, &oldest_baseline)) {
			snprintf(why, sizeof(why), "cannot read the store %s",
			    cfg->database);
			rc = check_unknown(cli, why);
			goto out;
		}
	}

	/* Ownership: what the last sync found tagged as ours but is not. */
	if (check_conflicts(db, &cs)) {
		snprintf(why, sizeof(why), "cannot read the store %s",
		    cfg->database);
		rc = check_unknown(cli, why);
		goto out;
	}

	rc = cs.critical > 0 ? CHECK_CRITICAL
	    : cs.warning > 0 ? CHECK_WARNING
	                     : CHECK_OK;
	if (newest != 0) {
		fmt_age((long long)(as_of - newest), age, sizeof(age));
		snprintf(why, sizeof(why), "newest snapshot %s ago", age);
	} else {
		snprintf(why, sizeof(why), "no snapshot yet");
	}
	/* The status line names the first problem of the status's level. */
	for (first = 0; first < cs.n; first++)
		if (cs.p[first].level == rc)
			break;
	if (rc == CHECK_OK && cs.paused > 0)
		snprintf(summary, sizeof(summary), "%zu pools (%d paused), %s",
		    cfg->npools, cs.paused, why);
	else if (rc == CHECK_OK)
		snprintf(summary, sizeof(summary), "%zu pools, %s", cfg->npools,
		    why);
	else if (first < cs.n)
		snprintf(summary, sizeof(summary),
		    "%s%s%s%s (%d critical, %d warning, %zu pools)",
		    cs.p[first].pool, cs.p[first].pool[0] ? ": " : "",
		    cs.p[first].text,
		    cs.critical + cs.warning > 1 ? " and more" : "",
		    cs.critical, cs.warning, cfg->npools);
	else /* out of memory describing them */
		snprintf(summary, sizeof(summary),
		    "%d critical, %d warning, %zu pools", cs.critical,
		    cs.warning, cfg->npools);
	snprintf(perf, sizeof(perf),
	    "pools=%zu critical=%d warning=%d oldest_success_age=%llds "
	    "oldest_baseline_age=%llds paused=%d",
	    cfg->npools, cs.critical, cs.warning, oldest_success,
	    oldest_baseline, cs.paused);

	if (cli->json) {
		json_t *doc = json_object(), *arr = json_array();

		for (size_t i = 0; i < cs.n; i++) {
			json_t *o = json_object();

			json_object_set_new(o, "level",
			    json_string(check_names[cs.p[i].level]));
			json_object_set_new(
			    o, "pool", output_json_opt(cs.p[i].pool));
			json_object_set_new(
			    o, "message", json_string(cs.p[i].text));
			json_array_append_new(arr, o);
		}
		json_object_set_new(
		    doc, "status", json_string(check_names[rc]));
		json_object_set_new(doc, "exit_code", json_integer(rc));
		json_object_set_new(doc, "summary", json_string(summary));
		json_object_set_new(doc, "as_of", output_json_time(as_of));
		json_object_set_new(
		    doc, "pools", json_integer((json_int_t)cfg->npools));
		json_object_set_new(doc, "critical", json_integer(cs.critical));
		json_object_set_new(doc, "warning", json_integer(cs.warning));
		json_object_set_new(doc, "paused", json_integer(cs.paused));
		json_object_set_new(
		    doc, "oldest_success_age", json_integer(oldest_success));
		json_object_set_new(
		    doc, "oldest_baseline_age", json_integer(oldest_baseline));
		json_object_set_new(doc, "problems", arr);
		output_print_json(doc);
		goto out;
	}
	/* Nagios: the status line with perfdata, then the long output. */
	printf("AKSNAP %s - %s | %s\n", check_names[rc], summary, perf);
	for (size_t i = 0; i < cs.n; i++)
		printf("%s: %s%s%s\n", check_names[cs.p[i].level], cs.p[i].pool,
		    cs.p[i].pool[0] ? ": " : "", cs.p[i].text);
out:
	free(cs.p);
	db_close(db);
	config_free(cfg);
	return rc;
}
