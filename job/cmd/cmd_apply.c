/*
 * cmd_apply.c -- `aksnap apply --channel NAME --to POOL [--from POOL]
 * [--create NEWPOOL [--count N]] [--dry-run] [--as-of TIME]
 * [--timeout DURATION]`: bring a pool to a baseline (DESIGN.md section 6,
 * "Apply").
 *
 * The baseline is the snapshot that pool --from (default: --to itself)
 * holds in the channel.  Usually a staging pool's soaked baseline is
 * applied to a production pool: --from staging-system --to prod-system.
 *
 *   1. the store says which snapshot holds the channel, and its state;
 *   2. Azure is asked for the snapshot (gone: refuse, run `aksnap sync`)
 *      and for the target pool (--create: it must not exist yet);
 *   3. the pure checks of apply_checks.c decide, each with its reason;
 *      any refusal stops here and nothing is sent;
 *   4. the upgrade (or creation) is sent and its long-running operation
 *      followed to the end, honouring Retry-After; then the pool is GET
 *      and must run the snapshot's Kubernetes version and node image (an
 *      operation that "Succeeded" without doing it exits 1, naming both);
 *      the pool's final versions are printed.
 *
 * An upgrade whose Kubernetes version changes PUTs the whole pool back
 * with creationData.sourceResourceId and orchestratorVersion (If-Match its
 * eTag); one that keeps the Kubernetes version takes AKS's node-image path,
 * POST upgradeNodeImageVersion with the AKSSnapshotId header (NOTES.md
 * sections 1.5 and 6.3).  --dry-run does steps 1 to 3 (reads only) and
 * prints the request it would send.
 *
 * Before the checks the target's cluster is read too (its location,
 * control plane version and auto-upgrade channels) with the Kubernetes
 * versions its location offers: the guards of DESIGN.md section 6 (region,
 * supported version, skew, channels, --allow-older for a rollback) are pure
 * checks in apply_checks.c like the others.
 *
 * --new-cluster NAME (with --from, without --to) creates a cluster whose
 * system pool is the baseline: the cluster must not exist; the source
 * pool's cluster gives the rest (arm_cluster_create_body); after the
 * operation the cluster's system pool must run the snapshot's versions.
 *
 * A pool that runs the snapshot's versions already is done: nothing is
 * sent, exit 0, state "unchanged" (what other checks refuse is warned).
 *
 * Exit: 0 done (or the dry run would be sent); 1 refused (with the
 * reasons, nothing sent) or the operation failed (its error code and
 * message); 2 usage; 75 lock held or Azure unreachable before anything
 * was sent.  The store gets a runs row (mode apply); no decision row,
 * since an apply decides nothing about the snapshot's retention.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_channels.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/apply_checks.h"
#include "job/run/run.h"

#define APPLY_DEFAULT_COUNT 3
#define APPLY_DEFAULT_TIMEOUT_S 3600
#define APPLY_POLL_S 30

struct apply_opts {
	const char *channel;
	const char *to;
	const char *from;
	const char *create; /* NULL: upgrade --to */
	int count;
	int dry_run;
	time_t as_of;
	long long timeout_s;
	int json;
	int allow_older; /* --allow-older: a rollback */
	int cross_region; /* --cross-region */
	int ignore_channel; /* --ignore-upgrade-channel */
	const char *new_cluster; /* --new-cluster NAME */
	const char *resource_group; /* --resource-group (new cluster) */
	const char *node_os_channel; /* --node-os-channel (new cluster) */
};

enum apply_kind {
	KIND_UPGRADE,
	KIND_NODE_IMAGE,
	KIND_CREATE,
	KIND_NEW_CLUSTER
};

struct apply {
	struct apply_opts o;
	struct session ss; /* owns cfg, db, lock, http, tokens, arm */
	struct config *cfg;
	const struct pool_conf *to, *from;
	struct db *db;
	int have_run;
	struct db_run rec;
	struct http_client *http;
	struct token_provider *tokens;
	struct arm *arm;
	struct db_snapshot row; /* the channel's snapshot in the store */
	struct arm_snapshot snap; /* the same, as Azure holds it */
	char target_id[512]; /* the pool to upgrade or to create */
	struct arm_agent_pool pool; /* upgrade: the pool as it is */
	char *pool_json; /* upgrade: its GET body */
	struct arm_cluster cluster; /* the target's cluster */
	char *cluster_body; /* --new-cluster: the PUT body */
	const struct arm_k8s_versions *offered; /* in the target's location */
	struct apply_verdict verdict;
	enum apply_kind kind;
	struct arm_agent_pool after;
	char state[16]; /* done refused failed (or would-send) */
	char error[2048]; /* refusal or failure, for --json */
};

static const char *
kind_name(enum apply_kind k)
{
	switch (k) {
	case KIND_UPGRADE:
		return "upgrade";
	case KIND_NODE_IMAGE:
		return "upgrade-node-image";
	case KIND_CREATE:
		return "create";
	case KIND_NEW_CLUSTER:
		return "create-cluster";
	}
	return "?";
}

/* ---- arguments ---- */

/* ARM's pattern for a managed cluster name (DESIGN.md section 4). */
static int
cluster_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len < 1 || len > 63 || !isalnum((unsigned char)n[0]) ||
	    !isalnum((unsigned char)n[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && n[i] != '-' && n[i] != '_')
			return 0;
	return 1;
}

/* The rules of apply --new-cluster's options. */
static int
new_cluster_args(struct apply_opts *o, int count_given)
{
	static const char *const channels[] = {
	    "None", "Unmanaged", "NodeImage", "SecurityPatch", NULL};
	int ok = 0;

	if (o->to != NULL || o->create != NULL || count_given)
		return cli_usage_error("apply",
		    "--new-cluster goes without --to, --create and --count");
	if (o->from == NULL || o->from[0] == '\0')
		return cli_usage_error("apply",
		    "--new-cluster needs --from POOL (whose baseline and "
		    "cluster it copies)");
	if (!cluster_name_ok(o->new_cluster))
		return cli_usage_error("apply",
		    "--new-cluster: '%s' is not a valid cluster name "
		    "(^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$)",
		    o->new_cluster);
	if (o->resource_group != NULL &&
	    (o->resource_group[0] == '\0' || strlen(o->resource_group) > 90))
		return cli_usage_error(
		    "apply", "--resource-group: 1 to 90 characters");
	if (o->allow_older || o->cross_region || o->ignore_channel)
		return cli_usage_error("apply",
		    "--allow-older, --cross-region and "
		    "--ignore-upgrade-channel do not apply to --new-cluster "
		    "(it is made in the snapshot's region)");
	if (o->node_os_channel == NULL)
		o->node_os_channel = "None";
	for (int i = 0; channels[i] != NULL; i++)
		ok |= strcmp(channels[i], o->node_os_channel) == 0;
	if (!ok)
		return cli_usage_error("apply",
		    "--node-os-channel: expected None, Unmanaged, NodeImage "
		    "or SecurityPatch, got '%s'",
		    o->node_os_channel);
	o->to = o->from;
	return EXIT_DONE;
}

/* One option into ${o}.  EXIT_DONE or EXIT_USAGE (said why). */
static int
apply_opt(struct apply_opts *o, int ch, int *count_given)
{
	long long v;

	switch (ch) {
	case 'c':
		o->channel = optarg;
		break;
	case 't':
		o->to = optarg;
		break;
	case 'f':
		o->from = optarg;
		break;
	case 'n':
		o->create = optarg;
		break;
	case 'd':
		o->dry_run = 1;
		break;
	case 'O':
		o->allow_older = 1;
		break;
	case 'R':
		o->cross_region = 1;
		break;
	case 'I':
		o->ignore_channel = 1;
		break;
	case 'C':
		o->new_cluster = optarg;
		break;
	case 'G':
		o->resource_group = optarg;
		break;
	case 'S':
		o->node_os_channel = optarg;
		break;
	case 'N':
		if (util_parse_int(optarg, 1, 1000, &v))
			return cli_usage_error("apply",
			    "--count: expected 1 to 1000 nodes, got '%s'",
			    optarg);
		o->count = (int)v;
		*count_given = 1;
		break;
	case 'a':
		if (util_parse_time(optarg, &o->as_of))
			return cli_usage_error("apply",
			    "--as-of: expected an RFC 3339 time such as "
			    "2026-03-16T03:00:00Z, got '%s'",
			    optarg);
		break;
	case 'T':
		if (util_parse_duration(optarg, &v) || v <= 0 || v > 86400 * 2)
			return cli_usage_error("apply",
			    "--timeout: expected a duration such as 90m (at "
			    "most 2d), got '%s'",
			    optarg);
		o->timeout_s = v;
		break;
	default:
		return EXIT_USAGE; /* cli_getopt said why */
	}
	return EXIT_DONE;
}

/* The options together: what goes with what. */
static int
apply_args_agree(struct apply_opts *o, int count_given)
{
	if (o->channel == NULL || o->channel[0] == '\0')
		return cli_usage_error("apply", "--channel NAME is required");
	if (strlen(o->channel) > 63)
		return cli_usage_error(
		    "apply", "--channel: at most 63 characters");
	if (o->new_cluster != NULL)
		return new_cluster_args(o, count_given);
	if (o->resource_group != NULL || o->node_os_channel != NULL)
		return cli_usage_error("apply",
		    "--resource-group and --node-os-channel go with "
		    "--new-cluster");
	if (o->to == NULL || o->to[0] == '\0')
		return cli_usage_error("apply", "--to POOL is required");
	if (o->create != NULL && !apply_pool_name_ok(o->create))
		return cli_usage_error("apply",
		    "--create: '%s' is not a valid agent pool name "
		    "(^[a-z][a-z0-9]{0,11}$)",
		    o->create);
	if (count_given && o->create == NULL)
		return cli_usage_error("apply", "--count goes with --create");
	if (o->from == NULL)
		o->from = o->to;
	return EXIT_DONE;
}

static int
parse_args(struct cli *cli, int argc, char **argv, struct apply_opts *o)
{
	static const struct option lopts[] = {
	    {"channel", required_argument, NULL, 'c'},
	    {"to", required_argument, NULL, 't'},
	    {"from", required_argument, NULL, 'f'},
	    {"create", required_argument, NULL, 'n'},
	    {"count", required_argument, NULL, 'N'},
	    {"dry-run", no_argument, NULL, 'd'},
	    {"as-of", required_argument, NULL, 'a'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"allow-older", no_argument, NULL, 'O'},
	    {"cross-region", no_argument, NULL, 'R'},
	    {"ignore-upgrade-channel", no_argument, NULL, 'I'},
	    {"new-cluster", required_argument, NULL, 'C'},
	    {"resource-group", required_argument, NULL, 'G'},
	    {"node-os-channel", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int ch, count_given = 0;

	o->count = APPLY_DEFAULT_COUNT;
	o->timeout_s = APPLY_DEFAULT_TIMEOUT_S;
	o->as_of = util_now();
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1)
		if (apply_opt(o, ch, &count_given) != EXIT_DONE)
			return EXIT_USAGE;
	if (optind < argc)
		return cli_usage_error(
		    "apply", "unexpected argument '%s'", argv[optind]);
	return apply_args_agree(o, count_given);
}

/* ---- output ---- */

static json_t *
checks_json(const struct apply_verdict *v)
{
	json_t *arr = json_array();

	for (int i = 0; i < APPLY_CHECK__COUNT; i++) {
		json_t *c = json_object();

		json_object_set_new(c, "check",
		    json_string(apply_check_name((enum apply_check_id)i)));
		json_object_set_new(c, "result",
		    json_string(apply_outcome_name(v->checks[i].outcome)));
		json_object_set_new(
		    c, "reasons", reasons_json(v->checks[i].reason));
		json_array_append_new(arr, c);
	}
	return arr;
}

static void
print_checks(const struct apply_verdict *v)
{
	printf("checks:\n");
	for (int i = 0; i < APPLY_CHECK__COUNT; i++)
		printf("  %-15s %-8s %s\n",
		    apply_check_name((enum apply_check_id)i),
		    apply_outcome_name(v->checks[i].outcome),
		    v->checks[i].reason);
}

/*
 * The request an apply sends: method, URL, headers and body (NULL for the
 * node-image POST).  ${*body} is malloc'd.
 */
static int
build_request(struct apply *a, char *method, size_t mlen, char *url,
    size_t ulen, char *header, size_t hlen, char **body)
{
	char err[256];

	*body = NULL;
	header[0] = '\0';
	switch (a->kind) {
	case KIND_CREATE:
		util_strlcpy(method, "PUT", mlen);
		arm_url(a->arm, a->target_id, "", url, ulen);
		*body = arm_agent_pool_create_body(&a->snap, NULL, a->o.count);
		break;
	case KIND_UPGRADE:
		util_strlcpy(method, "PUT", mlen);
		arm_url(a->arm, a->target_id, "", url, ulen);
		if (a->pool.etag[0] != '\0')
			snprintf(header, hlen, "If-Match: %s", a->pool.etag);
		*body = arm_agent_pool_upgrade_body(a->pool_json, a->snap.id,
		    a->snap.kubernetes_version, err, sizeof(err));
		if (*body == NULL) {
			log_err(
			    a->to->key, "cannot build the request: %s", err);
			return -1;
		}
		break;
	case KIND_NODE_IMAGE:
		util_strlcpy(method, "POST", mlen);
		arm_url(a->arm, a->target_id, "/upgradeNodeImageVersion", url,
		    ulen);
		snprintf(header, hlen, "AKSSnapshotId: %s", a->snap.id);
		return 0;
	case KIND_NEW_CLUSTER:
		util_strlcpy(method, "PUT", mlen);
		arm_url(a->arm, a->target_id, "", url, ulen);
		*body =
		    a->cluster_body != NULL ? strdup(a->cluster_body) : NULL;
		break;
	}
	if (*body == NULL) {
		log_err(a->to->key, "cannot build the request body");
		return -1;
	}
	return 0;
}

/* What the apply makes or changes: the new pool or cluster, or --to. */
static const char *
target_name(const struct apply *a)
{
	if (a->kind == KIND_NEW_CLUSTER)
		return a->o.new_cluster;
	if (a->kind == KIND_CREATE)
		return a->o.create;
	return a->to->key;
}

/* What the pool runs after the apply (or already ran): versions first. */
static const char *
after_k8s(const struct apply *a)
{
	return a->after.current_orchestrator_version[0]
	    ? a->after.current_orchestrator_version
	    : a->after.orchestrator_version;
}

/* The request --dry-run would send, as JSON; ${body} NULL: none. */
static json_t *
request_json(
    const char *method, const char *url, const char *header, const char *body)
{
	json_t *req = json_pack("{s:s,s:s}", "method", method, "url", url);
	json_t *parsed = body != NULL ? json_loads(body, 0, NULL) : NULL;

	if (header[0] != '\0')
		json_object_set_new(req, "headers", json_pack("[s]", header));
	json_object_set_new(req, "body", parsed != NULL ? parsed : json_null());
	return req;
}

/*
 * --json: the one document; ${method} NULL when nothing would be sent.
 * The result is what the pool runs, its versions as every command names
 * them.
 */
static json_t *
report_json(struct apply *a, const char *method, const char *url,
    const char *header, const char *body)
{
	struct db_versions v;
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s,s:b,"
	                        "s:s,s:o}",
	    "pool", a->to->key, "from", a->from->key, "channel", a->o.channel,
	    "snapshot", a->row.name, "arm_id",
	    a->snap.id[0] ? a->snap.id : a->row.arm_id, "target", a->target_id,
	    "snapshot_location", a->snap.location, "target_location",
	    a->cluster.location, "rollback", a->verdict.rollback, "action",
	    kind_name(a->kind), "dry_run", a->o.dry_run, "state", a->state,
	    "checks", checks_json(&a->verdict));

	if (a->error[0] != '\0')
		json_object_set_new(doc, "error", json_string(a->error));
	if (method != NULL)
		json_object_set_new(
		    doc, "request", request_json(method, url, header, body));
	if (strcmp(a->state, "done") == 0 ||
	    strcmp(a->state, "unchanged") == 0) {
		json_t *result = json_object();

		arm_agent_pool_versions(&a->after, &v);
		output_versions_json(result, &v);
		json_object_set_new(result, "provisioning_state",
		    json_string(a->after.provisioning_state));
		json_object_set_new(doc, "result", result);
	}
	return doc;
}

/* --dry-run without --json: the plan, the checks, the request. */
static void
report_dry(struct apply *a, const char *method, const char *url,
    const char *header, const char *body)
{
	printf("apply %s: channel %s snapshot %s (of pool %s) to %s\n",
	    kind_name(a->kind), a->o.channel, a->row.name, a->from->key,
	    target_name(a));
	printf("snapshot: %s\n  Kubernetes %s, node image %s, %s, %s/%s\n",
	    a->snap.id, a->snap.kubernetes_version, a->snap.node_image_version,
	    a->snap.vm_size, a->snap.os_type, a->snap.os_sku);
	printf("locations: snapshot %s, target %s\n",
	    a->snap.location[0] ? a->snap.location : "(unknown)",
	    a->cluster.location[0] ? a->cluster.location : "(unknown)");
	print_checks(&a->verdict);
	if (strcmp(a->state, "unchanged") == 0) {
		printf("already at this baseline: nothing would be sent\n");
		return;
	}
	if (method == NULL) {
		printf("refused: nothing would be sent\n");
		return;
	}
	printf("request (dry run, not sent):\n%s %s\n", method, url);
	if (header[0] != '\0')
		printf("%s\n", header);
	if (body != NULL) {
		json_t *j = json_loads(body, 0, NULL);
		char *s = j != NULL
		    ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
		    : NULL;

		printf("\n%s\n", s != NULL ? s : body);
		free(s);
		json_decref(j);
	}
}

/* The one document (--json) or the lines of text that tell the outcome. */
static void
report(struct apply *a, const char *method, const char *url, const char *header,
    const char *body)
{
	if (a->o.json)
		output_print_json(report_json(a, method, url, header, body));
	else if (a->o.dry_run)
		report_dry(a, method, url, header, body);
	else if (strcmp(a->state, "done") == 0)
		printf("%s: %s %s: Kubernetes %s, node image %s (%s)\n",
		    target_name(a),
		    a->kind == KIND_CREATE || a->kind == KIND_NEW_CLUSTER
		        ? "created from"
		        : "upgraded to",
		    a->row.name, after_k8s(a), a->after.node_image_version,
		    a->after.provisioning_state);
	else if (strcmp(a->state, "unchanged") == 0)
		printf("%s: already at %s: Kubernetes %s, node image %s; "
		       "nothing sent\n",
		    target_name(a), a->row.name, after_k8s(a),
		    a->after.node_image_version);
}

/* ---- the steps ---- */

static int
connect_arm(struct apply *a)
{
	int rc = session_connect(&a->ss);

	a->http = a->ss.http;
	a->tokens = a->ss.tokens;
	a->arm = a->ss.arm;
	return rc;
}

/* The refusal: logged with its reason, kept for --json. */
static int
refuse(struct apply *a, const char *reason)
{
	util_strlcpy(a->state, "refused", sizeof(a->state));
	util_strlcpy(a->error, reason, sizeof(a->error));
	log_err(a->to->key, "apply refused: %s; nothing was sent", reason);
	return EXIT_FAILED;
}

/* Step 1: the channel's snapshot in the store. */
static int
find_baseline(struct apply *a)
{
	struct db_pool p;
	char why[400];
	int got;

	got = db_pool_get(a->db, a->from->key, &p);
	if (got < 0)
		return EXIT_FAILED;
	if (got > 0)
		got = db_snapshot_channel(a->db, p.id, a->o.channel, &a->row);
	if (got < 0)
		return EXIT_FAILED;
	if (got == 0) {
		snprintf(why, sizeof(why),
		    "pool %s has no snapshot in channel "
		    "'%s' (see aksnap baseline; promote one first)",
		    a->from->key, a->o.channel);
		return refuse(a, why);
	}
	return EXIT_DONE;
}

/* Step 2a: the snapshot as Azure holds it. */
static int
fetch_snapshot(struct apply *a)
{
	struct arm_error e;
	char why[700];

	if (arm_snapshot_get(a->arm, a->to->key, a->row.arm_id, &a->snap, &e) ==
	    0)
		return EXIT_DONE;
	if (e.status == 404) {
		snprintf(why, sizeof(why),
		    "snapshot %s is gone from Azure "
		    "(404); run aksnap sync",
		    a->row.name);
		return refuse(a, why);
	}
	snprintf(a->error, sizeof(a->error), "GET snapshot %s: %ld %s: %s",
	    a->row.name, e.status, e.code, e.message);
	util_strlcpy(a->state, "failed", sizeof(a->state));
	if (e.status == 0)
		return http_client_tls_failure(a->http) != NULL ? EXIT_USAGE
		                                                : EXIT_TEMP;
	return EXIT_FAILED;
}

/*
 * GET ${id} (an agent pool) through the transport, keeping the body: the
 * upgrade sends its writable properties back.  Return 0 with ${*status}
 * and ${*body} (malloc'd, NULL unless 200), or -1 when no answer came.
 */
static int
get_pool(struct apply *a, const char *id, long *status, char **body,
    struct arm_error *e)
{
	struct http_request req;
	struct http_response resp;
	char url[1024];
	int rc = -1;

	*body = NULL;
	memset(e, 0, sizeof(*e));
	arm_url(a->arm, id, "", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.auth = 1;
	req.context = a->to->key;
	req.throttle_key = a->to->subscription;
	http_response_init(&resp);
	if (http_do(a->http, &req, &resp) != 0) {
		e->status = 0;
		util_strlcpy(e->message, resp.error, sizeof(e->message));
		goto out;
	}
	*status = resp.status;
	if (resp.status == 200) {
		*body = strdup(resp.body.data != NULL ? resp.body.data : "");
		if (*body == NULL)
			goto out;
	} else {
		arm_error_from_response(&resp, e);
		if (resp.status != 404)
			arm_log_failure(a->to->key, "GET", url, e);
	}
	rc = 0;
out:
	http_response_free(&resp);
	return rc;
}

/* Step 2b: the target pool (upgrade), or its absence (create). */
static int
fetch_target(struct apply *a)
{
	struct arm_error e;
	char err[256], why[700];
	const char *pool_name =
	    a->o.create != NULL ? a->o.create : a->to->nodepool;
	char *body = NULL;
	long status = 0;
	int rc = EXIT_FAILED;

	arm_agent_pool_id(a->to->subscription, a->to->resource_group,
	    a->to->cluster, pool_name, a->target_id, sizeof(a->target_id));
	if (get_pool(a, a->target_id, &status, &body, &e) != 0) {
		snprintf(a->error, sizeof(a->error), "GET agent pool %s: %s",
		    pool_name, e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		return http_client_tls_failure(a->http) != NULL ? EXIT_USAGE
		                                                : EXIT_TEMP;
	}
	if (a->o.create != NULL) {
		if (status == 200) {
			snprintf(why, sizeof(why),
			    "agent pool %s already "
			    "exists in cluster %s",
			    a->o.create, a->to->cluster);
			rc = refuse(a, why);
		} else if (status == 404) {
			rc = EXIT_DONE;
		} else {
			snprintf(a->error, sizeof(a->error),
			    "GET agent pool %s: %ld %s: %s", pool_name, status,
			    e.code, e.message);
			util_strlcpy(a->state, "failed", sizeof(a->state));
		}
		free(body);
		return rc;
	}
	if (status != 200) {
		if (status == 404)
			log_err(a->to->key,
			    "agent pool %s not found in "
			    "cluster %s (404 %s)",
			    pool_name, a->to->cluster, e.code);
		snprintf(a->error, sizeof(a->error),
		    "GET agent pool %s: %ld %s: %s", pool_name, status, e.code,
		    e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		return EXIT_FAILED;
	}
	if (arm_agent_pool_parse(body, &a->pool, err, sizeof(err))) {
		log_err(a->to->key,
		    "GET agent pool %s: 200 but not an agent "
		    "pool: %s",
		    pool_name, err);
		snprintf(a->error, sizeof(a->error),
		    "unreadable agent pool: "
		    "%s",
		    err);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		free(body);
		return EXIT_FAILED;
	}
	a->pool_json = body;
	return EXIT_DONE;
}

/*
 * Step 2c: the target's cluster (location, control plane version,
 * auto-upgrade channels) and the Kubernetes versions its location offers
 * (one GET per location per run, arm_k8s_versions_get).
 */
static int
fetch_cluster(struct apply *a)
{
	struct arm_error e;

	if (arm_cluster_get(a->arm, a->to->key, a->to->subscription,
	        a->to->resource_group, a->to->cluster, &a->cluster, &e) != 0) {
		snprintf(a->error, sizeof(a->error),
		    "GET cluster %s: %ld %s: %s", a->to->cluster, e.status,
		    e.code, e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		return e.status == 0 ? EXIT_TEMP : EXIT_FAILED;
	}
	if (arm_k8s_versions_get(a->arm, a->to->key, a->to->subscription,
	        a->cluster.location, &a->offered, &e) != 0) {
		snprintf(a->error, sizeof(a->error),
		    "GET kubernetesVersions of %s: %ld %s: %s",
		    a->cluster.location, e.status, e.code, e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		return e.status == 0 ? EXIT_TEMP : EXIT_FAILED;
	}
	return EXIT_DONE;
}

/*
 * Step 2 of --new-cluster: the cluster must not exist yet; the source
 * pool's cluster (its GET body) gives what the snapshot does not pin; the
 * snapshot's location must offer its Kubernetes version.  The PUT body is
 * built here, so --dry-run shows exactly what would be sent.
 */
static int
fetch_new_cluster(struct apply *a)
{
	struct arm_error e;
	char src_id[512], err[256], why[700];
	char *src = NULL;
	int rc = EXIT_FAILED, exists = 0;

	snprintf(a->target_id, sizeof(a->target_id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s",
	    a->from->subscription,
	    a->o.resource_group != NULL ? a->o.resource_group
	                                : a->from->resource_group,
	    a->o.new_cluster);
	if (arm_resource_exists(a->arm, a->to->key, a->target_id, &exists, &e))
		goto failed;
	if (exists) {
		snprintf(why, sizeof(why), "cluster %s already exists (%s)",
		    a->o.new_cluster, a->target_id);
		return refuse(a, why);
	}
	snprintf(src_id, sizeof(src_id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s",
	    a->from->subscription, a->from->resource_group, a->from->cluster);
	if (arm_cluster_get_json(a->arm, a->to->key, src_id, &src, &e) != 0)
		goto failed;
	util_strlcpy(
	    a->cluster.location, a->snap.location, sizeof(a->cluster.location));
	if (arm_k8s_versions_get(a->arm, a->to->key, a->from->subscription,
	        a->snap.location, &a->offered, &e) != 0)
		goto failed;
	a->cluster_body = arm_cluster_create_body(src, a->from->nodepool,
	    &a->snap, a->o.new_cluster, a->o.node_os_channel, err, sizeof(err));
	free(src);
	if (a->cluster_body == NULL) {
		log_err(a->to->key, "cannot build the cluster: %s", err);
		snprintf(a->error, sizeof(a->error), "%s", err);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		return EXIT_FAILED;
	}
	return EXIT_DONE;
failed:
	free(src);
	snprintf(a->error, sizeof(a->error), "%ld %s: %s", e.status, e.code,
	    e.message);
	util_strlcpy(a->state, "failed", sizeof(a->state));
	if (e.status == 0)
		rc = EXIT_TEMP;
	return rc;
}

/* What the pure checks compare: the snapshot, the target, the options. */
static void
check_input(
    const struct apply *a, struct apply_check_input *in, const char **offered)
{
	memset(in, 0, sizeof(*in));
	in->snapshot.kubernetes_version = a->snap.kubernetes_version;
	in->snapshot.node_image_version = a->snap.node_image_version;
	in->snapshot.vm_size = a->snap.vm_size;
	in->snapshot.os_type = a->snap.os_type;
	in->snapshot.enable_fips = a->snap.enable_fips;
	/* What runs, not what was asked for. */
	in->target.kubernetes_version =
	    a->pool.current_orchestrator_version[0] != '\0'
	    ? a->pool.current_orchestrator_version
	    : a->pool.orchestrator_version;
	in->target.node_image_version = a->pool.node_image_version;
	in->target.vm_size = a->pool.vm_size;
	in->target.os_type = a->pool.os_type;
	in->target.enable_fips = a->pool.enable_fips;
	in->create = a->o.create != NULL || a->o.new_cluster != NULL;
	in->new_cluster = a->o.new_cluster != NULL;
	in->state = a->row.state;
	in->as_of = a->o.as_of;
	in->snapshot_location = a->snap.location;
	in->target_location = a->cluster.location;
	in->cross_region = a->o.cross_region;
	in->control_plane_version = a->cluster.current_kubernetes_version[0]
	    ? a->cluster.current_kubernetes_version
	    : a->cluster.kubernetes_version;
	in->upgrade_channel = a->cluster.upgrade_channel;
	in->node_os_channel =
	    in->new_cluster ? a->o.node_os_channel : a->cluster.node_os_channel;
	in->ignore_upgrade_channel = a->o.ignore_channel;
	in->allow_older = a->o.allow_older;
	if (a->offered != NULL) {
		for (size_t i = 0;
		     i < a->offered->n && i < ARM_MAX_K8S_VERSIONS; i++)
			offered[i] = a->offered->patches[i];
		in->supported = offered;
		in->nsupported = a->offered->n;
		in->supported_known = 1;
	}
}

/*
 * The pool runs the snapshot's versions already: nothing to send, the
 * apply is done (exit 0, as az and terraform say when nothing changes).
 * What the other checks would refuse is still said, as warnings.
 */
static int
at_baseline(struct apply *a)
{
	for (int i = 0; i < APPLY_CHECK__COUNT; i++)
		if (a->verdict.checks[i].outcome == APPLY_REFUSE)
			log_warn(a->to->key, "%s (%s): %s", a->row.name,
			    apply_check_name((enum apply_check_id)i),
			    a->verdict.checks[i].reason);
	a->after = a->pool;
	util_strlcpy(a->state, "unchanged", sizeof(a->state));
	log_info(a->to->key,
	    "already at %s (Kubernetes %s, node image %s): nothing to send",
	    a->row.name, after_k8s(a), a->after.node_image_version);
	return EXIT_DONE;
}

/* Step 3: the checks; a refusal logs every failing reason. */
static int
check(struct apply *a)
{
	struct apply_check_input in;
	const char *offered[ARM_MAX_K8S_VERSIONS];
	char all[1600];
	size_t off = 0;

	check_input(a, &in, offered);
	apply_checks_run(&in, &a->verdict);
	if (in.new_cluster)
		a->kind = KIND_NEW_CLUSTER;
	else if (in.create)
		a->kind = KIND_CREATE;
	else
		a->kind =
		    a->verdict.node_image_only ? KIND_NODE_IMAGE : KIND_UPGRADE;
	if (a->verdict.at_baseline)
		return at_baseline(a);
	if (!a->verdict.refused)
		return EXIT_DONE;
	all[0] = '\0';
	for (int i = 0; i < APPLY_CHECK__COUNT; i++) {
		const struct apply_check_result *c = &a->verdict.checks[i];
		int w;

		if (c->outcome != APPLY_REFUSE)
			continue;
		log_err(a->to->key, "apply of %s refused (%s): %s", a->row.name,
		    apply_check_name((enum apply_check_id)i), c->reason);
		w = snprintf(all + off, sizeof(all) - off, "%s%s",
		    off > 0 ? "; " : "", c->reason);
		if (w > 0 && (size_t)w < sizeof(all) - off)
			off += (size_t)w;
	}
	util_strlcpy(a->state, "refused", sizeof(a->state));
	util_strlcpy(a->error, all, sizeof(a->error));
	log_err(a->to->key, "nothing was sent");
	return EXIT_FAILED;
}

/*
 * Step 4 of --new-cluster: PUT the cluster, follow its operation, GET it,
 * and hold its system pool to the snapshot: Kubernetes version and node
 * image equal the snapshot's, or exit 1 naming both.
 */
static int
execute_new_cluster(struct apply *a, const struct arm_lro_options *lro)
{
	struct arm_cluster got;
	struct arm_error e;
	const struct arm_agent_pool *sys = NULL;
	const char *k8s;
	char why[600];

	if (arm_cluster_create(a->arm, a->to->key, a->target_id,
	        a->cluster_body, lro, &got, &e) != 0) {
		snprintf(a->error, sizeof(a->error), "%s: %s",
		    e.code[0] != '\0' ? e.code : "error", e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		log_err(a->to->key,
		    "creating cluster %s from %s failed: %s (check the "
		    "cluster's provisioning state; it may exist half-made)",
		    a->o.new_cluster, a->row.name, a->error);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < got.npools; i++)
		if (strcasecmp(got.pools[i].name, a->to->nodepool) == 0)
			sys = &got.pools[i];
	if (sys != NULL)
		a->after = *sys;
	arm_cluster_free(&got);
	k8s = after_k8s(a);
	/* "Succeeded" is ARM's word; the cluster's GET is the proof. */
	if (sys == NULL ||
	    !apply_result_matches(a->snap.kubernetes_version,
	        a->snap.node_image_version, k8s, a->after.node_image_version,
	        why, sizeof(why))) {
		snprintf(a->error, sizeof(a->error),
		    "cluster %s was created but its pool %s does not run "
		    "snapshot %s: %s",
		    a->o.new_cluster, a->to->nodepool, a->row.name,
		    sys == NULL ? "the pool is missing" : why);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		log_err(a->to->key, "not verified: %s", a->error);
		return EXIT_FAILED;
	}
	util_strlcpy(a->state, "done", sizeof(a->state));
	log_info(a->to->key,
	    "cluster %s runs Kubernetes %s, node image %s "
	    "(nodeOSUpgradeChannel "
	    "%s)",
	    a->o.new_cluster, k8s, a->after.node_image_version,
	    a->o.node_os_channel);
	return EXIT_DONE;
}

/* Step 4: send it and follow the operation to its end. */
static int
execute(struct apply *a)
{
	struct arm_lro_options lro;
	struct arm_error e;
	const char *what = target_name(a);
	char why[600];
	int rc;

	memset(&lro, 0, sizeof(lro));
	lro.deadline_s = (int)a->o.timeout_s;
	lro.default_poll_s = APPLY_POLL_S;
	log_info(a->to->key,
	    "%s %s to snapshot %s (Kubernetes %s, node "
	    "image %s); waiting for the operation",
	    kind_name(a->kind), what, a->row.name, a->snap.kubernetes_version,
	    a->snap.node_image_version);
	switch (a->kind) {
	case KIND_CREATE:
		rc = arm_agent_pool_create_from_snapshot(a->arm, a->to->key,
		    a->target_id, &a->snap, NULL, a->o.count, &lro, &a->after,
		    &e);
		break;
	case KIND_NODE_IMAGE:
		rc = arm_agent_pool_upgrade_node_image(a->arm, a->to->key,
		    a->target_id, a->snap.id, &lro, &a->after, &e);
		break;
	case KIND_NEW_CLUSTER:
		return execute_new_cluster(a, &lro);
	default:
		rc = arm_agent_pool_put_from_snapshot(a->arm, a->to->key,
		    a->target_id, &a->pool, &a->snap,
		    a->snap.kubernetes_version, &lro, &a->after, &e);
		break;
	}
	if (rc != 0) {
		/* The arm module logged the call; this says what it means. */
		snprintf(a->error, sizeof(a->error), "%s: %s",
		    e.code[0] != '\0' ? e.code : "error", e.message);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		log_err(a->to->key,
		    "apply of %s to %s failed: %s (the pool "
		    "may be partly changed: check its provisioning state)",
		    a->row.name, what, a->error);
		return EXIT_FAILED;
	}
	/* "Succeeded" is ARM's word; the pool's GET is the proof. */
	if (!apply_result_matches(a->snap.kubernetes_version,
	        a->snap.node_image_version, after_k8s(a),
	        a->after.node_image_version, why, sizeof(why))) {
		snprintf(a->error, sizeof(a->error),
		    "the operation reported Succeeded but %s does not run "
		    "snapshot %s: %s",
		    what, a->row.name, why);
		util_strlcpy(a->state, "failed", sizeof(a->state));
		log_err(a->to->key, "apply of %s to %s not verified: %s",
		    a->row.name, what, a->error);
		return EXIT_FAILED;
	}
	util_strlcpy(a->state, "done", sizeof(a->state));
	log_info(a->to->key, "%s now runs Kubernetes %s, node image %s", what,
	    after_k8s(a), a->after.node_image_version);
	return EXIT_DONE;
}

/*
 * What was done, into the store: an applies row (explain shows it, a
 * rollback as such), and for a configured pool that was upgraded an
 * observation of what it runs now, changed by aksnap, so that the next run
 * does not take aksnap's own change for someone else's.  A failure here
 * is logged; the apply itself is done.
 */
static void
record_apply(struct apply *a)
{
	struct db_apply rec;
	struct db_observation o;
	struct db_versions v;
	struct db_pool p;
	int64_t pool_id = 0;

	memset(&rec, 0, sizeof(rec));
	rec.run_id = a->rec.id;
	rec.snapshot_id = a->row.id;
	util_strlcpy(rec.target, a->target_id, sizeof(rec.target));
	util_strlcpy(rec.kind, kind_name(a->kind), sizeof(rec.kind));
	rec.at = a->o.as_of;
	rec.rollback = a->verdict.rollback;
	rec.cross_region =
	    strcasecmp(a->snap.location, a->cluster.location) != 0;
	util_strlcpy(rec.from.kubernetes_version,
	    a->pool.current_orchestrator_version[0]
	        ? a->pool.current_orchestrator_version
	        : a->pool.orchestrator_version,
	    sizeof(rec.from.kubernetes_version));
	util_strlcpy(rec.from.node_image_version, a->pool.node_image_version,
	    sizeof(rec.from.node_image_version));
	arm_agent_pool_versions(&a->after, &v);
	util_strlcpy(rec.to.kubernetes_version, v.kubernetes_version,
	    sizeof(rec.to.kubernetes_version));
	util_strlcpy(rec.to.node_image_version, v.node_image_version,
	    sizeof(rec.to.node_image_version));
	if (a->kind == KIND_UPGRADE || a->kind == KIND_NODE_IMAGE) {
		if (db_pool_get(a->db, a->to->key, &p) == 1)
			pool_id = p.id;
		else if (db_pool_sync(a->db, a->to, &pool_id) != 0)
			pool_id = 0;
	}
	rec.pool_id = pool_id;
	(void)db_apply_add(a->db, &rec);
	if (pool_id == 0)
		return;
	memset(&o, 0, sizeof(o));
	util_strlcpy(o.upgrade_channel, a->cluster.upgrade_channel,
	    sizeof(o.upgrade_channel));
	util_strlcpy(o.node_os_channel, a->cluster.node_os_channel,
	    sizeof(o.node_os_channel));
	util_strlcpy(o.changed_by, "aksnap", sizeof(o.changed_by));
	(void)db_observation_record(a->db, a->rec.id, pool_id, a->o.as_of, &v,
	    a->after.provisioning_state, &o);
}

static int
apply_run(struct apply *a)
{
	char method[8], url[1024], header[700];
	char *body = NULL;
	int rc;

	rc = find_baseline(a);
	if (rc == EXIT_DONE)
		rc = connect_arm(a);
	if (rc == EXIT_DONE)
		rc = fetch_snapshot(a);
	if (rc == EXIT_DONE && a->o.new_cluster != NULL) {
		rc = fetch_new_cluster(a);
	} else if (rc == EXIT_DONE) {
		rc = fetch_target(a);
		if (rc == EXIT_DONE)
			rc = fetch_cluster(a);
	}
	if (rc == EXIT_DONE)
		rc = check(a);
	if (rc != EXIT_DONE) {
		/* A refusal found by the checks is shown in full. */
		if (a->o.json ||
		    (a->o.dry_run && a->snap.id[0] != '\0' &&
		        strcmp(a->state, "refused") == 0))
			report(a, NULL, NULL, NULL, NULL);
		return rc;
	}
	if (strcmp(a->state, "unchanged") == 0) {
		report(a, NULL, NULL, NULL, NULL);
		return EXIT_DONE;
	}
	if (a->o.dry_run) {
		if (build_request(a, method, sizeof(method), url, sizeof(url),
		        header, sizeof(header), &body))
			return EXIT_FAILED;
		util_strlcpy(a->state, "would-send", sizeof(a->state));
		report(a, method, url, header, body);
		free(body);
		return EXIT_DONE;
	}
	rc = execute(a);
	if (rc == EXIT_DONE)
		record_apply(a);
	report(a, NULL, NULL, NULL, NULL);
	return rc;
}

int
cmd_apply(struct cli *cli, int argc, char **argv)
{
	struct apply a;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_args(cli, argc, argv, &a.o);
	if (rc != EXIT_DONE)
		return rc;
	a.o.json = cli->json;
	a.kind = a.o.create != NULL ? KIND_CREATE : KIND_UPGRADE;
	util_strlcpy(a.state, "failed", sizeof(a.state));
	rc = session_open(&a.ss, cli, 0);
	a.cfg = a.ss.cfg;
	if (rc != EXIT_DONE)
		goto out;
	a.to = config_find_pool(a.cfg, a.o.to);
	a.from = config_find_pool(a.cfg, a.o.from);
	if (a.to == NULL || a.from == NULL) {
		rc = cli_usage_error("apply", "unknown pool '%s' (not in %s)",
		    a.to == NULL ? a.o.to : a.o.from, a.cfg->path);
		goto out;
	}
	/* A dry run reads only: no lock, no migration, no runs row. */
	rc = session_store(&a.ss, a.o.dry_run ? SESSION_STORE : SESSION_WRITE);
	a.db = a.ss.db;
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	if (!a.o.dry_run) {
		if (db_run_start(
		        a.db, util_now(), a.o.as_of, "apply", &a.rec.id))
			goto out;
		a.have_run = 1;
	}
	rc = apply_run(&a);
out:
	if (a.have_run) {
		a.rec.exit_code = rc;
		a.rec.finished_at = util_now();
		a.rec.failed = rc != EXIT_DONE;
		(void)db_run_finish(a.db, &a.rec);
	}
	free(a.pool_json);
	free(a.cluster_body);
	arm_cluster_free(&a.cluster);
	session_close(&a.ss);
	return rc;
}
