/*
 * cmd_explain.c -- explain SNAPSHOT: its state and every decision taken
 * about it, with reasons (and the applies that used it).  Reads the store
 * only (no lock, never migrated); the decisions and applies are rendered
 * as the store hands them over, as table rows or JSON objects.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/db_channels.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"

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

		json_object_set_new(o, "run", output_json_id(d->run_id));
		json_object_set_new(o, "mode", output_json_opt(run_mode));
		json_object_set_new(o, "at", output_json_time(d->at));
		json_object_set_new(o, "slot", output_json_time(d->slot));
		json_object_set_new(o, "action", json_string(d->action));
		json_object_set_new(o, "reasons", reasons_json(d->reasons));
		json_object_set_new(
		    o, "fingerprint", output_json_opt(d->fingerprint));
		if (ranged) {
			json_object_set_new(
			    o, "last_run", output_json_id(d->last_run_id));
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
	return table_add(ctx->tab, at, run, lookup_dash(run_mode), d->action,
	    lookup_dash(d->fingerprint), lookup_dash(d->reasons));
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

		json_object_set_new(o, "run", output_json_id(a->run_id));
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
		    a->from.node_image_version,
		    lookup_dash(a->to.node_image_version),
		    lookup_dash(a->from.kubernetes_version),
		    lookup_dash(a->to.kubernetes_version),
		    a->rollback ? " (older: --allow-older)" : "");
	else
		printf("    made on node image %s, Kubernetes %s\n",
		    lookup_dash(a->to.node_image_version),
		    lookup_dash(a->to.kubernetes_version));
	return 0;
}

/* --json: the snapshot, its decisions and its applies.  0, or -1. */
static int
explain_json(struct db *db, const struct db_snapshot *s)
{
	json_t *doc = json_object(), *arr = json_array();
	struct explain_ctx ctx = {arr, NULL};
	struct apply_ctx actx = {NULL, 0};

	if (db_decision_explain(db, s, explain_row, &ctx)) {
		json_decref(arr);
		json_decref(doc);
		return -1;
	}
	json_object_set_new(doc, "snapshot", output_snapshot_json(s));
	json_object_set_new(doc, "decisions", arr);
	actx.arr = json_array();
	json_object_set_new(doc, "applies", actx.arr);
	if (db_apply_list(db, s->id, explain_apply, &actx)) {
		json_decref(doc);
		return -1;
	}
	output_print_json(doc);
	return 0;
}

/* The snapshot itself, one field a line. */
static void
print_snapshot(const struct db_snapshot *s)
{
	char t1[32], t2[32];

	printf("snapshot    %s (#%lld)\n", s->name, (long long)s->id);
	printf("pool        %s\n", s->pool_key);
	printf("arm id      %s\n", s->arm_id);
	printf("state       %s%s%s\n", s->state, s->error[0] ? ": " : "",
	    s->error);
	output_time(s->slot, t1, sizeof(t1));
	output_time(s->created_at, t2, sizeof(t2));
	printf(
	    "slot        %s\n", s->slot != 0 ? t1 : "- (by hand or adopted)");
	printf("created     %s\n", t2);
	printf("node image  %s\n", lookup_dash(s->v.node_image_version));
	printf("kubernetes  %s\n", lookup_dash(s->v.kubernetes_version));
	printf("os          %s %s, %s, FIPS %s\n", lookup_dash(s->v.os_type),
	    lookup_dash(s->v.os_sku), lookup_dash(s->v.vm_size),
	    s->v.enable_fips ? "on" : "off");
	output_time(s->promoted_at, t1, sizeof(t1));
	output_time(s->demoted_at, t2, sizeof(t2));
	if (s->channel[0] != '\0')
		printf("channel     %s (promoted %s)\n", s->channel, t1);
	else if (s->demoted_at != 0)
		printf("channel     - (promoted %s, replaced %s)\n", t1, t2);
	else
		printf("channel     -\n");
	printf("pinned      %s\n\n", s->pinned ? "yes" : "no");
}

/* The text: the snapshot, the decisions' table, the applies.  0, or -1. */
static int
explain_text(struct db *db, const struct db_snapshot *s)
{
	struct explain_ctx ctx = {NULL, NULL};
	struct apply_ctx actx = {NULL, 0};
	int rc = 0;

	print_snapshot(s);
	ctx.tab = table_new(
	    explain_cols, sizeof(explain_cols) / sizeof(explain_cols[0]));
	if (ctx.tab == NULL || db_decision_explain(db, s, explain_row, &ctx))
		rc = -1;
	else
		table_print(ctx.tab, stdout);
	table_free(ctx.tab);
	if (rc == 0 && db_apply_list(db, s->id, explain_apply, &actx))
		rc = -1;
	return rc;
}

int
cmd_explain(struct cli *cli, int argc, char **argv)
{
	const char *ref = NULL;
	struct session ss;
	struct db_snapshot s;
	int rc;

	rc = cli_one_operand(
	    cli, argc, argv, "one SNAPSHOT (name, ARM id or number)", &ref);
	if (rc != EXIT_DONE)
		return rc;
	rc = session_open(&ss, cli, SESSION_STORE);
	if (rc == EXIT_DONE)
		rc = lookup_snapshot(
		    ss.db, "explain", ref, ss.cfg->database, &s);
	if (rc == EXIT_DONE &&
	    (cli->json ? explain_json(ss.db, &s) : explain_text(ss.db, &s)))
		rc = EXIT_FAILED;
	session_close(&ss);
	return rc;
}
