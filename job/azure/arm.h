#ifndef AKSNAP_ARM_H
#define AKSNAP_ARM_H

/*
 * arm.h -- Azure Resource Manager operations aksnap needs, in typed
 * structs (DESIGN.md section 7, ../shared/azure-api/NOTES.md).
 *
 * Two layers: pure builders and parsers (URLs, request bodies, response
 * bodies -> structs, error bodies), exported so tests check them against
 * the official examples and so the run can batch requests through
 * http_batch; and blocking operations built on http_do for the one-off
 * commands (snapshot get/put/patch/delete/list, agent pool get/list/put,
 * upgradeNodeImageVersion, long-running operation polling).
 *
 * Every failing operation fills a struct arm_error and logs once:
 * "<context>: <METHOD> <url>: <status> <code>: <message> (x-ms-request-id
 * ..., x-ms-correlation-request-id ...)".  A body that is not JSON (a
 * gateway's HTML) is an error naming the status and its first bytes.
 */

#include <stddef.h>
#include <time.h>

#include "job/azure/http.h"
#include "job/base/limits.h"

struct arm;

struct arm_error {
	long status; /* HTTP status, 0 when none was received */
	char code[128]; /* error.code, or "" */
	char message[512]; /* error.message, or the body's first bytes, or a
	                      transport error */
	char target[128];
	char request_id[128]; /* x-ms-request-id */
	char correlation_id[128]; /* x-ms-correlation-request-id */
};

struct arm_agent_pool {
	char name[64];
	char id[LIMIT_ARM_ID];
	char node_image_version[128];
	char orchestrator_version[32];
	char current_orchestrator_version[32];
	char vm_size[64];
	char os_type[16];
	char os_sku[32]; /* "osSKU" on agent pools */
	char mode[16];
	char provisioning_state[32];
	char creation_source_id[LIMIT_ARM_ID]; /* creationData.sourceResourceId,
	                                          "" */
	int enable_fips;
	int count;
	char etag[128]; /* properties.eTag, "" (added: If-Match) */
};

struct arm_cluster {
	char id[LIMIT_ARM_ID];
	char name[64];
	char location[64];
	char kubernetes_version[32];
	char current_kubernetes_version[32];
	char provisioning_state[32];
	struct arm_agent_pool *pools; /* agentPoolProfiles, malloc'd */
	size_t npools;
	/*
	 * properties.autoUpgradeProfile (DESIGN.md section 6, Auto-upgrade
	 * channels): has_auto_upgrade 0 when the cluster has none (old
	 * clusters); each channel "" when absent or null.
	 */
	int has_auto_upgrade;
	char upgrade_channel[32];
	char node_os_channel[32];
	struct arm_tag *tags; /* the cluster's tags, malloc'd */
	size_t ntags;
};

struct arm_tag {
	char key[128];
	char value[256];
};

#define ARM_MAX_TAGS 32

struct arm_snapshot {
	char id[LIMIT_ARM_ID];
	char name[64];
	char location[64];
	char
	    source_id[LIMIT_ARM_ID]; /* properties.creationData.sourceResourceId
	                              */
	char kubernetes_version[32];
	char node_image_version[128];
	char os_type[16];
	char os_sku[32]; /* "osSku" on snapshots */
	char vm_size[64];
	int enable_fips;
	time_t created_at; /* systemData.createdAt, 0 if absent */
	struct arm_tag tags[ARM_MAX_TAGS];
	size_t ntags;
	/*
	 * (added) 1 when some tag did not fit (more than ARM_MAX_TAGS, or a key
	 * or value too long) and was left out of tags[]: a PATCH built from
	 * tags[] would then drop it.  Use arm_snapshot_set_tag instead.
	 */
	int tags_incomplete;
};

/* arm_new(http, endpoint, api_version): NULL on ENOMEM.  arm_free(NULL) is
 * fine. */
struct arm *arm_new(
    struct http_client *http, const char *endpoint, const char *api_version);
void arm_free(struct arm *arm);
struct http_client *arm_http(struct arm *arm);

/* ---- pure builders ---- */

/* arm_agent_pool_id(sub, rg, cluster, pool, out, len): the pool's ARM id. */
void arm_agent_pool_id(const char *sub, const char *rg, const char *cluster,
    const char *pool, char *out, size_t len);
/* arm_snapshot_id(sub, rg, name, out, len). */
void arm_snapshot_id(
    const char *sub, const char *rg, const char *name, char *out, size_t len);
/* arm_url(arm, resource_id, suffix, out, len): endpoint + id + suffix +
 * ?api-version=. */
void arm_url(const struct arm *arm, const char *resource_id, const char *suffix,
    char *out, size_t len);
/* arm_cluster_url(arm, sub, rg, cluster, out, len). */
void arm_cluster_url(const struct arm *arm, const char *sub, const char *rg,
    const char *cluster, char *out, size_t len);

/*
 * arm_snapshot_put_body(location, source_id, tags, ntags):
 * The Snapshots_CreateOrUpdate body (malloc'd JSON text; caller frees).
 */
char *arm_snapshot_put_body(const char *location, const char *source_id,
    const struct arm_tag *tags, size_t ntags);
/*
 * arm_snapshot_confirms(got, want_id, source_id, why, len):
 * Pure: 1 when ${got} (a PUT's answer, or a GET's) shows the snapshot
 * ${want_id} taken of the agent pool ${source_id}: the id (and name) it
 * gives are the ones asked for, its creationData.sourceResourceId is that
 * pool (ARM ids compare case-insensitively) and it carries
 * nodeImageVersion and kubernetesVersion.  Else 0 with what is wrong in
 * ${why} (DESIGN.md section 6, Verification).
 */
int arm_snapshot_confirms(const struct arm_snapshot *got, const char *want_id,
    const char *source_id, char *why, size_t len);
/*
 * arm_snapshot_has_tag(s, key, value):
 * Pure: 1 when ${s} carries tag ${key} (case-insensitive name) with
 * exactly ${value}, or, ${value} NULL, does not carry ${key} at all.
 */
int arm_snapshot_has_tag(
    const struct arm_snapshot *s, const char *key, const char *value);
/* arm_tags_body(tags, ntags): {"tags":{...}} for PATCH (malloc'd). */
char *arm_tags_body(const struct arm_tag *tags, size_t ntags);

/* ---- pure parsers: 0, or -1 with the reason in err ---- */

int arm_cluster_parse(
    const char *body, struct arm_cluster *out, char *err, size_t errlen);
void arm_cluster_free(struct arm_cluster *c); /* frees c->pools only */
int arm_agent_pool_parse(
    const char *body, struct arm_agent_pool *out, char *err, size_t errlen);
int arm_snapshot_parse(
    const char *body, struct arm_snapshot *out, char *err, size_t errlen);
/*
 * arm_snapshot_list_parse(body, out, n, next_link, err, errlen):
 * One page of a list: ${*out} malloc'd array (caller frees), ${*next_link}
 * malloc'd or NULL.
 */
int arm_snapshot_list_parse(const char *body, struct arm_snapshot **out,
    size_t *n, char **next_link, char *err, size_t errlen);
/*
 * arm_agent_pool_list_parse(body, out, n, next_link, err, errlen):
 * (added) One page of AgentPools_List, as arm_snapshot_list_parse.
 */
int arm_agent_pool_list_parse(const char *body, struct arm_agent_pool **out,
    size_t *n, char **next_link, char *err, size_t errlen);
/*
 * arm_operation_status_parse(body, status, len, op_err, err, errlen):
 * (added) An Azure-AsyncOperation status body (OperationStatusResult):
 * ${status} gets "status" ("InProgress", "Succeeded", ...); ${op_err}
 * (may be NULL) gets "error".code/.message/.target when present.  0, or
 * -1 when the body is not such an object (reason in err).
 */
int arm_operation_status_parse(const char *body, char *status, size_t len,
    struct arm_error *op_err, char *err, size_t errlen);
/*
 * arm_url_same_origin(arm, url, err, errlen):
 * (added) 0 when ${url} has the endpoint's scheme, host and port (so a
 * nextLink or polling URL may receive our token), else -1 with the reason.
 */
int arm_url_same_origin(
    const struct arm *arm, const char *url, char *err, size_t errlen);
/*
 * arm_agent_pool_create_body(snapshot, orchestrator_version, count):
 * (added) AgentPools_CreateOrUpdate body for a new pool built from
 * ${snapshot}: count, creationData.sourceResourceId = snapshot id,
 * enableFIPS, orchestratorVersion (NULL = the snapshot's
 * kubernetesVersion; "" is sent as "" and lets AKS choose), osType,
 * osSKU (from the snapshot's osSku), vmSize (each left out when "").
 * Malloc'd JSON; NULL on ENOMEM or invalid UTF-8.
 */
char *arm_agent_pool_create_body(const struct arm_snapshot *snapshot,
    const char *orchestrator_version, int count);
/*
 * arm_agent_pool_upgrade_body(pool_json, snapshot_id, orchestrator_version,
 *     err, errlen):
 * (added) The PUT body that upgrades an existing pool to a snapshot: the
 * writable properties of ${pool_json} (an AgentPools_Get body) sent back
 * unchanged, read-only ones dropped (provisioningState,
 * currentOrchestratorVersion, nodeImageVersion, eTag, status, ...), with
 * orchestratorVersion and creationData.sourceResourceId replaced.
 * Malloc'd JSON, or NULL with the reason in err.
 */
char *arm_agent_pool_upgrade_body(const char *pool_json,
    const char *snapshot_id, const char *orchestrator_version, char *err,
    size_t errlen);
/* arm_error_from_response(resp, out): fill out from status, headers, body (JSON
 * or not). */
void arm_error_from_response(
    const struct http_response *resp, struct arm_error *out);
/* arm_tag_get(s, key): the tag's value or NULL. */
const char *arm_tag_get(const struct arm_snapshot *s, const char *key);
/*
 * arm_error_describe(e, out, len):
 * One line for a pool's error record: "<status> <code>: <message>
 * (x-ms-request-id ...)", or "no answer from ARM: <why>".
 */
void arm_error_describe(const struct arm_error *e, char *out, size_t len);
/* arm_log_failure(context, method, url, e): the one log line for a failure. */
void arm_log_failure(const char *context, const char *method, const char *url,
    const struct arm_error *e);

/* ---- blocking operations: 0, or -1 with *err filled (and logged) ---- */

int arm_cluster_get(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, const char *cluster, struct arm_cluster *out,
    struct arm_error *err);
/*
 * arm_cluster_list(arm, ctx, sub, rg, out, n, pages, err):
 * ManagedClusters_List (rg NULL) or _ListByResourceGroup, following every
 * nextLink; ${*out} malloc'd (arm_cluster_free each, then free), ${*pages}
 * the pages read.  0, or -1 with ${err} filled and logged.
 */
int arm_cluster_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, struct arm_cluster **out, size_t *n, size_t *pages,
    struct arm_error *err);
/*
 * arm_cluster_list_each(arm, ctx, sub, rg, each, arg, n, pages, err):
 * As arm_cluster_list, a page at a time: ${each}(${arg}, clusters, count)
 * is handed each page's clusters and owns them (arm_cluster_free each,
 * then free), before the next page is read, so that a listing costs one
 * page's memory.  ${each} returns 0, or -1 to stop (out of memory).
 * ${*n}: the clusters handed over.  0, or -1 with ${err} filled and
 * logged.
 */
int arm_cluster_list_each(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, int (*each)(void *arg, struct arm_cluster *c, size_t n),
    void *arg, size_t *n, size_t *pages, struct arm_error *err);
int arm_agent_pool_get(struct arm *arm, const char *ctx, const char *pool_id,
    struct arm_agent_pool *out, struct arm_error *err);
/* arm_agent_pool_list(arm, ctx, sub, rg, cluster, out, n, err): follows
 * nextLink. */
int arm_agent_pool_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, const char *cluster, struct arm_agent_pool **out, size_t *n,
    struct arm_error *err);
int arm_snapshot_get(struct arm *arm, const char *ctx, const char *snapshot_id,
    struct arm_snapshot *out, struct arm_error *err);
int arm_snapshot_put(struct arm *arm, const char *ctx, const char *snapshot_id,
    const char *location, const char *source_id, const struct arm_tag *tags,
    size_t ntags, struct arm_snapshot *out, struct arm_error *err);
int arm_snapshot_patch_tags(struct arm *arm, const char *ctx,
    const char *snapshot_id, const struct arm_tag *tags, size_t ntags,
    struct arm_snapshot *out, struct arm_error *err);
/* arm_snapshot_delete: 200 and 204 both mean ARM took the DELETE (*existed
 * says which; may be NULL); a 200 is not verified here. */
int arm_snapshot_delete(struct arm *arm, const char *ctx,
    const char *snapshot_id, int *existed, struct arm_error *err);
/*
 * arm_snapshot_set_tag(arm, ctx, snapshot_id, key, value, out, err):
 * (added) Set tag ${key} to ${value} (NULL: remove it) without losing the
 * snapshot's other tags, whatever their number or length: GET the
 * snapshot, change its tags object, PATCH it back.  Verified: done only
 * when the PATCH's answer, or else a GET, shows the tag as asked;
 * otherwise -1 with ${err} code "TagNotApplied", the PATCH's status and
 * request id (logged with the URL).  ${out} may be NULL.
 */
int arm_snapshot_set_tag(struct arm *arm, const char *ctx,
    const char *snapshot_id, const char *key, const char *value,
    struct arm_snapshot *out, struct arm_error *err);
/*
 * One tag write of arm_snapshot_set_tags: the snapshot, the tag and its
 * value in; rc and err out.
 */
struct arm_tag_write {
	const char *ctx; /* pool key, for log lines and errors */
	const char
	    *throttle_key; /* the subscription (NULL: one shared bound) */
	const char *snapshot_id;
	const char *key;
	const char *value; /* NULL: remove the tag */
	struct arm_snapshot *out; /* NULL, or what Azure showed when verified */
	int rc; /* 0: Azure shows the tag as asked; -1: ${err} says why */
	struct arm_error err;
};

/*
 * arm_snapshot_set_tags(arm, w, n, max_parallel):
 * The ${n} writes of ${w}, each as arm_snapshot_set_tag (GET, PATCH,
 * verified by the answer or a GET), concurrently: at most ${max_parallel}
 * requests in flight per throttle_key.  Each write's outcome is in its rc
 * and err (failures logged naming pool, URL, status and request id).
 * 0, or -1 when the batch could not run at all (every write failed).
 */
int arm_snapshot_set_tags(
    struct arm *arm, struct arm_tag_write *w, size_t n, int max_parallel);
/*
 * arm_snapshot_list(arm, ctx, sub, rg, out, n, err):
 * By resource group (${rg} non-NULL) or subscription, following nextLink.
 */
int arm_snapshot_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, struct arm_snapshot **out, size_t *n,
    struct arm_error *err);

/*
 * A NULL options pointer, or a field <= 0, means the default.  Retry-After
 * of the last response wins over default_poll_s (Retry-After: 0 polls
 * again at once).
 */
struct arm_lro_options {
	int deadline_s; /* give up after; default 3600 */
	int default_poll_s; /* when no Retry-After; default 30 (tests set 1) */
};

/*
 * arm_agent_pool_put_from_snapshot(arm, ctx, pool_id, base, snapshot_id,
 *     orchestrator_version, lro, out, err):
 * PUT the agent pool ${pool_id} with creationData.sourceResourceId =
 * ${snapshot_id} and orchestratorVersion, starting from ${base} (the pool
 * as fetched, for an upgrade: its other properties are sent back
 * unchanged) or NULL (create: vmSize/osType/osSKU/count from the
 * snapshot's values given in ${base_new}).  Then wait for the long-running
 * operation (Azure-AsyncOperation, else Location, else provisioningState,
 * honouring Retry-After) and GET the final pool into ${out}.  A failed
 * operation's error is reported in ${err} (code and message).
 */
int arm_agent_pool_put_from_snapshot(struct arm *arm, const char *ctx,
    const char *pool_id, const struct arm_agent_pool *base,
    const struct arm_snapshot *snapshot, const char *orchestrator_version,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err);
/*
 * Notes on arm_agent_pool_put_from_snapshot (added):
 * - With ${base}: the pool is GET again right before the PUT so that every
 *   writable property (labels, taints, autoscaler, upgrade settings, ...)
 *   is sent back as it is (arm_agent_pool_upgrade_body), and the PUT
 *   carries "If-Match: <base->etag>" (else the fresh GET's eTag) so that a
 *   pool changed since the caller looked at it is not overwritten: ARM then
 *   answers 412 and the call fails.
 * - Without ${base}: arm_agent_pool_create_body with count 3.
 * - ${orchestrator_version} NULL means the snapshot's kubernetesVersion.
 */
/*
 * arm_agent_pool_create_from_snapshot(arm, ctx, pool_id, snapshot,
 *     orchestrator_version, count, lro, out, err):
 * (added) Create pool ${pool_id} from ${snapshot} with ${count} nodes
 * (arm_agent_pool_create_body), wait for the LRO, GET it into ${out}.
 */
int arm_agent_pool_create_from_snapshot(struct arm *arm, const char *ctx,
    const char *pool_id, const struct arm_snapshot *snapshot,
    const char *orchestrator_version, int count,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err);
/* arm_agent_pool_upgrade_node_image(...): POST upgradeNodeImageVersion with
 * AKSSnapshotId (NULL = latest), LRO. */
int arm_agent_pool_upgrade_node_image(struct arm *arm, const char *ctx,
    const char *pool_id, const char *snapshot_id,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err);

/*
 * The Kubernetes versions AKS offers in one location
 * (ManagedClusters_ListKubernetesVersions, NOTES.md section 8.1): every
 * patch version x.y.z of every minor the answer lists.
 */
#define ARM_MAX_K8S_VERSIONS 256
struct arm_k8s_versions {
	char location[64];
	char patches[ARM_MAX_K8S_VERSIONS][32];
	size_t n;
};

/*
 * arm_k8s_versions_parse(body, out, err, errlen):
 * Pure: the {"values": [{"version", "patchVersions": {x.y.z: ...}}]}
 * answer into ${out} (location left as it is).  0, or -1 with the reason
 * (not JSON, no "values" array, more than ARM_MAX_K8S_VERSIONS patches).
 */
int arm_k8s_versions_parse(
    const char *body, struct arm_k8s_versions *out, char *err, size_t errlen);
/*
 * arm_k8s_versions_get(arm, ctx, sub, location, out, err):
 * GET .../locations/{location}/kubernetesVersions, once per location for
 * the life of ${arm} (one run): later calls for the same location
 * (case-insensitive) answer from the first one's copy.  ${*out} points
 * into ${arm}'s cache: valid until the next call of this function (or
 * arm_free).  0, or -1 with ${err}.
 */
int arm_k8s_versions_get(struct arm *arm, const char *ctx, const char *sub,
    const char *location, const struct arm_k8s_versions **out,
    struct arm_error *err);
/*
 * arm_k8s_versions_has(v, version):
 * Pure: 1 when ${version} (x.y.z) is one of ${v}'s patches, or (x.y) the
 * minor of one of them.
 */
int arm_k8s_versions_has(const struct arm_k8s_versions *v, const char *version);

/*
 * arm_cluster_dns_prefix(name, out, len):
 * Pure: a managed cluster's dnsPrefix derived from its name: lower-case
 * letters and digits, every other run of characters one '-', no '-' at
 * either end, at most 54 characters.  0, or -1 when nothing is left.
 */
int arm_cluster_dns_prefix(const char *name, char *out, size_t len);
/*
 * arm_cluster_create_body(source_cluster_json, pool, snap, name,
 *     node_os_channel, err, errlen):
 * Pure: the ManagedClusters_CreateOrUpdate body that creates cluster
 * ${name} from snapshot ${snap} (ManagedClustersCreate_Snapshot.json is
 * the shape): location = the snapshot's; kubernetesVersion = the
 * snapshot's; dnsPrefix = arm_cluster_dns_prefix(name); one System agent
 * pool profile named as agent pool ${pool} of the source cluster, with its
 * vmSize and count, the snapshot's osType and enableFIPS, and
 * creationData.sourceResourceId = the snapshot; networkProfile and
 * identity type (with user-assigned ids) and enableRBAC from the source
 * cluster's GET body ${source_cluster_json}, without what ARM computes or
 * what names the source's own resources; autoUpgradeProfile
 * {upgradeChannel none, nodeOSUpgradeChannel ${node_os_channel} or
 * "None"}.  Malloc'd JSON, or NULL with the reason in ${err}.
 */
char *arm_cluster_create_body(const char *source_cluster_json, const char *pool,
    const struct arm_snapshot *snap, const char *name,
    const char *node_os_channel, char *err, size_t errlen);
/*
 * arm_cluster_get_json(arm, ctx, cluster_id, body, err):
 * GET a managed cluster and keep its body (malloc'd in ${*body}).  0, or
 * -1 with ${err} filled and logged.
 */
int arm_cluster_get_json(struct arm *arm, const char *ctx,
    const char *cluster_id, char **body, struct arm_error *err);
/*
 * arm_resource_exists(arm, ctx, id, exists, err):
 * GET ${id}: ${*exists} 1 on 200, 0 on 404 (not logged: an answer, not a
 * failure).  0, or -1 with ${err} on any other answer.
 */
int arm_resource_exists(struct arm *arm, const char *ctx, const char *id,
    int *exists, struct arm_error *err);
/*
 * arm_cluster_create(arm, ctx, cluster_id, body, lro, out, err):
 * PUT ${body} to ${cluster_id} (a long-running operation, followed as an
 * agent pool's: Azure-AsyncOperation, else Location, else
 * provisioningState), then GET the cluster into ${out} (free with
 * arm_cluster_free).  0, or -1 with ${err} (the operation's own error when
 * it failed).
 */
int arm_cluster_create(struct arm *arm, const char *ctx, const char *cluster_id,
    const char *body, const struct arm_lro_options *lro,
    struct arm_cluster *out, struct arm_error *err);

struct db_versions;

/*
 * arm_agent_pool_versions(a, v), arm_snapshot_versions(s, v):
 * The versions a node pool runs (the Kubernetes version is
 * currentOrchestratorVersion, what runs, falling back to
 * orchestratorVersion, what was asked for), or a snapshot pins, as the
 * store records them.
 */
void arm_agent_pool_versions(
    const struct arm_agent_pool *a, struct db_versions *v);
void arm_snapshot_versions(const struct arm_snapshot *s, struct db_versions *v);

#endif
