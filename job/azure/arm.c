/*
 * arm.c -- Azure Resource Manager operations, JSON in and out.
 *
 * The only place (with token.c and the CLI's output) that speaks JSON, and
 * the only place that knows ARM's shapes.  The file has two halves.
 *
 * The pure half builds URLs and request bodies and parses response bodies
 * into the fixed-size structs of arm.h.  Every read-only field is optional
 * (older api-versions lack some); a field that does not fit its struct
 * member is an error when it identifies something (ids, names, locations,
 * versions, VM sizes, eTags: a truncated id would silently point elsewhere)
 * and is cut when it only describes (osType, mode, provisioningState).
 * Error bodies come in three shapes (ARM's {"error":{code,message}}, some
 * RPs' top-level {code,message}, Entra/IMDS's {"error","error_description"})
 * and sometimes not as JSON at all (a gateway's HTML page): every one ends
 * as a struct arm_error, the last with its first bytes as the message.
 *
 * The blocking half runs one operation through http_do (which retries
 * throttling and transient failures) and judges the status.  Lists follow
 * nextLink; long-running operations poll Azure-AsyncOperation, else
 * Location, else the resource's provisioningState, waiting Retry-After (or
 * the caller's default) between polls until a deadline, then GET the
 * resource.  A nextLink or polling URL is used as given but only when it
 * points at the configured endpoint's origin: our bearer token is never
 * sent to another host.  Each failure fills a struct arm_error and is
 * logged once by arm_log_failure; transport failures (no HTTP response) are
 * already logged by http_do with the same context and are not logged again.
 */
#include "job/azure/arm.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/model.h"

#define ARM_DEFAULT_API_VERSION "2026-08-01"
#define ARM_MAX_PAGES LIMIT_LIST_PAGES
#define ARM_MAX_PAGE_ITEMS LIMIT_LIST_PAGE_ITEMS
#define ARM_SNIPPET 120
#define ARM_DEFAULT_DEADLINE_S 3600
#define ARM_DEFAULT_POLL_S 30
#define ARM_DEFAULT_POOL_COUNT 3

struct arm {
	struct http_client *http;
	char *endpoint; /* no trailing slash */
	char *api_version;
	/* kubernetesVersions answers, one per location, for this run */
	struct arm_k8s_versions *k8s;
	size_t nk8s;
};

/* Read-only AgentPool properties never sent back on a PUT. */
static const char *const pool_read_only[] = {
    "provisioningState",
    "currentOrchestratorVersion",
    "nodeImageVersion",
    "eTag",
    "status",
    "virtualMachineNodesStatus",
    NULL,
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- construction ---- */

struct arm *
arm_new(struct http_client *http, const char *endpoint, const char *api_version)
{
	struct arm *arm;
	size_t len;

	arm = calloc(1, sizeof(*arm));
	if (arm == NULL)
		goto err0;
	arm->http = http;
	arm->endpoint = strdup(endpoint != NULL ? endpoint : "");
	if (arm->endpoint == NULL)
		goto err1;
	len = strlen(arm->endpoint);
	while (len > 0 && arm->endpoint[len - 1] == '/')
		arm->endpoint[--len] = '\0';
	arm->api_version = strdup(api_version != NULL && api_version[0] != '\0'
	        ? api_version
	        : ARM_DEFAULT_API_VERSION);
	if (arm->api_version == NULL)
		goto err1;
	return arm;

err1:
	arm_free(arm);
err0:
	return NULL;
}

void
arm_free(struct arm *arm)
{
	if (arm == NULL)
		return;
	free(arm->endpoint);
	free(arm->api_version);
	free(arm->k8s);
	free(arm);
}

struct http_client *
arm_http(struct arm *arm)
{
	return arm->http;
}

/* ---- URLs ---- */

void
arm_agent_pool_id(const char *sub, const char *rg, const char *cluster,
    const char *pool, char *out, size_t len)
{
	snprintf(out, len,
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s/agentPools/%s",
	    sub, rg, cluster, pool);
}

void
arm_snapshot_id(
    const char *sub, const char *rg, const char *name, char *out, size_t len)
{
	snprintf(out, len,
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/snapshots/%s",
	    sub, rg, name);
}

void
arm_url(const struct arm *arm, const char *resource_id, const char *suffix,
    char *out, size_t len)
{
	snprintf(out, len, "%s%s%s?api-version=%s", arm->endpoint, resource_id,
	    suffix != NULL ? suffix : "", arm->api_version);
}

void
arm_cluster_url(const struct arm *arm, const char *sub, const char *rg,
    const char *cluster, char *out, size_t len)
{
	char id[1024];

	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s",
	    sub, rg, cluster);
	arm_url(arm, id, "", out, len);
}

/* url_for(arm, id, suffix): arm_url into a malloc'd string, or NULL. */
static char *
url_for(const struct arm *arm, const char *id, const char *suffix)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s?api-version=%s", arm->endpoint, id,
	        suffix != NULL ? suffix : "", arm->api_version) < 0)
		return NULL;
	return s;
}

/* origin_len(url): length of "scheme://authority", or 0 if none. */
static size_t
origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (p == NULL || p == url)
		return 0;
	p += 3;
	p += strcspn(p, "/?#");
	return (size_t)(p - url);
}

int
arm_url_same_origin(
    const struct arm *arm, const char *url, char *err, size_t errlen)
{
	size_t el = origin_len(arm->endpoint), ul;

	if (url == NULL || url[0] == '\0') {
		seterr(err, errlen, "empty URL");
		return -1;
	}
	ul = origin_len(url);
	if (el == 0 || ul != el || strncasecmp(arm->endpoint, url, el) != 0) {
		seterr(err, errlen,
		    "refusing URL %.*s: not on the ARM endpoint %s (the token "
		    "is never sent elsewhere)",
		    (int)(ul > 0 ? ul : strlen(url)), url, arm->endpoint);
		return -1;
	}
	return 0;
}

/* ---- JSON helpers ---- */

enum fit { FIT_STRICT, FIT_TRUNCATE };

/*
 * json_str(obj, key, dst, len, fit, err, errlen):
 * Copy string member ${key} of ${obj} into ${dst}; absent or null gives "".
 * Under FIT_STRICT a value that is not a string or does not fit is an
 * error; under FIT_TRUNCATE it is ignored or cut.
 */
static int
json_str(const json_t *obj, const char *key, char *dst, size_t len,
    enum fit fit, char *err, size_t errlen)
{
	json_t *v;
	size_t n;

	dst[0] = '\0';
	if (!json_is_object(obj))
		return 0;
	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		if (fit == FIT_TRUNCATE)
			return 0;
		seterr(err, errlen, "field \"%s\" is not a string", key);
		return -1;
	}
	n = util_strlcpy(dst, json_string_value(v), len);
	if (n >= len && fit == FIT_STRICT) {
		dst[0] = '\0';
		seterr(err, errlen,
		    "field \"%s\" is too long (%zu bytes, at most %zu)", key, n,
		    len - 1);
		return -1;
	}
	return 0;
}

static int
json_bool(const json_t *obj, const char *key)
{
	return json_is_object(obj) && json_is_true(json_object_get(obj, key));
}

static int
json_int(const json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	json_int_t i;

	if (!json_is_integer(v))
		return 0;
	i = json_integer_value(v);
	if (i < 0 || i > INT32_MAX)
		return 0;
	return (int)i;
}

static json_t *
json_obj(const json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

/* fold(dst, len, src, n): the first bytes of a body, on one printable line. */
static void
fold(char *dst, size_t len, const char *src, size_t n)
{
	size_t i, o = 0;
	int space = 0;

	if (len == 0)
		return;
	for (i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\0')
			break;
		if (isspace(c) || iscntrl(c)) {
			space = 1;
			continue;
		}
		if (space && o > 0 && o + 2 < len)
			dst[o++] = ' ';
		space = 0;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/* parse_object(body, len, err, errlen): a JSON object, or NULL with the reason.
 */
static json_t *
parse_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char snip[ARM_SNIPPET + 1];

	if (body == NULL || len == 0) {
		seterr(err, errlen, "empty response body");
		return NULL;
	}
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		fold(snip, sizeof(snip), body, len);
		seterr(err, errlen, "response is not JSON (%s): %s", jerr.text,
		    snip);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		seterr(err, errlen, "response is not a JSON object");
		return NULL;
	}
	return root;
}

/* ---- builders ---- */

static json_t *
tags_object(const struct arm_tag *tags, size_t ntags)
{
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < ntags; i++) {
		if (json_object_set_new(
		        o, tags[i].key, json_string(tags[i].value)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* dump(root): compact JSON text (malloc'd), releasing ${root}; NULL on failure.
 */
static char *
dump(json_t *root)
{
	char *s;

	if (root == NULL)
		return NULL;
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}

/* creation_data(id): {"sourceResourceId": id}, or NULL. */
static json_t *
creation_data(const char *id)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	if (json_object_set_new(o, "sourceResourceId", json_string(id)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
arm_snapshot_put_body(const char *location, const char *source_id,
    const struct arm_tag *tags, size_t ntags)
{
	json_t *root = json_object(), *props = json_object();
	int bad = 0;

	if (root == NULL || props == NULL) {
		json_decref(props);
		json_decref(root);
		return NULL;
	}
	bad |= json_object_set_new(root, "location", json_string(location));
	bad |= json_object_set_new(root, "tags", tags_object(tags, ntags));
	bad |= json_object_set_new(
	    props, "creationData", creation_data(source_id));
	/* The swagger's only value (and its default), sent as az does. */
	bad |=
	    json_object_set_new(props, "snapshotType", json_string("NodePool"));
	bad |= json_object_set_new(root, "properties", props);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return dump(root);
}

/* The last segment of an ARM id ("" when none). */
static const char *
id_name(const char *id)
{
	const char *slash = strrchr(id, '/');

	return slash != NULL ? slash + 1 : id;
}

int
arm_snapshot_confirms(const struct arm_snapshot *got, const char *want_id,
    const char *source_id, char *why, size_t len)
{
	const char *want_name = id_name(want_id);

	if (got->id[0] == '\0' && got->name[0] == '\0') {
		snprintf(why, len, "it names no snapshot");
		return 0;
	}
	/* ARM ids and names compare case-insensitively */
	if (got->id[0] != '\0' && strcasecmp(got->id, want_id) != 0) {
		snprintf(
		    why, len, "it names snapshot %s, not %s", got->id, want_id);
		return 0;
	}
	if (got->name[0] != '\0' && strcasecmp(got->name, want_name) != 0) {
		snprintf(why, len, "it names snapshot %s, not %s", got->name,
		    want_name);
		return 0;
	}
	if (strcasecmp(got->source_id, source_id) != 0) {
		snprintf(why, len, "its source is %s, not the pool %s",
		    got->source_id[0] != '\0' ? got->source_id : "missing",
		    source_id);
		return 0;
	}
	if (got->node_image_version[0] == '\0' ||
	    got->kubernetes_version[0] == '\0') {
		snprintf(why, len, "it lacks %s",
		    got->node_image_version[0] == '\0' ? "nodeImageVersion"
		                                       : "kubernetesVersion");
		return 0;
	}
	return 1;
}

int
arm_snapshot_has_tag(
    const struct arm_snapshot *s, const char *key, const char *value)
{
	const char *v = arm_tag_get(s, key);

	if (value == NULL)
		return v == NULL;
	return v != NULL && strcmp(v, value) == 0;
}

char *
arm_tags_body(const struct arm_tag *tags, size_t ntags)
{
	json_t *root = json_object();

	if (root == NULL)
		return NULL;
	if (json_object_set_new(root, "tags", tags_object(tags, ntags)) != 0) {
		json_decref(root);
		return NULL;
	}
	return dump(root);
}

char *
arm_agent_pool_create_body(const struct arm_snapshot *snapshot,
    const char *orchestrator_version, int count)
{
	json_t *root = json_object(), *props = json_object();
	const char *ov = orchestrator_version != NULL
	    ? orchestrator_version
	    : snapshot->kubernetes_version;
	int bad = 0;

	if (root == NULL || props == NULL) {
		json_decref(props);
		json_decref(root);
		return NULL;
	}
	bad |= json_object_set_new(props, "count", json_integer(count));
	bad |= json_object_set_new(
	    props, "creationData", creation_data(snapshot->id));
	bad |= json_object_set_new(
	    props, "enableFIPS", json_boolean(snapshot->enable_fips));
	bad |=
	    json_object_set_new(props, "orchestratorVersion", json_string(ov));
	if (snapshot->os_type[0] != '\0')
		bad |= json_object_set_new(
		    props, "osType", json_string(snapshot->os_type));
	/* snapshots say osSku, agent pools osSKU */
	if (snapshot->os_sku[0] != '\0')
		bad |= json_object_set_new(
		    props, "osSKU", json_string(snapshot->os_sku));
	if (snapshot->vm_size[0] != '\0')
		bad |= json_object_set_new(
		    props, "vmSize", json_string(snapshot->vm_size));
	bad |= json_object_set_new(root, "properties", props);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return dump(root);
}

char *
arm_agent_pool_upgrade_body(const char *pool_json, const char *snapshot_id,
    const char *orchestrator_version, char *err, size_t errlen)
{
	json_t *pool, *props, *root = NULL;
	size_t i;
	int bad = 0;
	char *s;

	pool = parse_object(
	    pool_json, pool_json != NULL ? strlen(pool_json) : 0, err, errlen);
	if (pool == NULL)
		goto err0;
	props = json_obj(pool, "properties");
	if (props == NULL) {
		seterr(err, errlen, "agent pool has no properties object");
		goto err1;
	}
	props = json_deep_copy(props);
	root = json_object();
	if (props == NULL || root == NULL) {
		json_decref(props);
		seterr(err, errlen, "out of memory");
		goto err1;
	}
	for (i = 0; pool_read_only[i] != NULL; i++)
		json_object_del(props, pool_read_only[i]);
	bad |= json_object_set_new(
	    props, "orchestratorVersion", json_string(orchestrator_version));
	bad |= json_object_set_new(
	    props, "creationData", creation_data(snapshot_id));
	bad |= json_object_set_new(root, "properties", props);
	if (bad) {
		seterr(err, errlen, "cannot build the agent pool body");
		goto err1;
	}
	json_decref(pool);
	s = dump(root);
	if (s == NULL)
		seterr(err, errlen, "out of memory");
	return s;

err1:
	json_decref(root);
	json_decref(pool);
err0:
	return NULL;
}

/* ---- parsers ---- */

/* pool_props(p, out, err, errlen): the agent pool properties object ${p}. */
static int
pool_props(
    const json_t *p, struct arm_agent_pool *out, char *err, size_t errlen)
{
	if (json_str(p, "nodeImageVersion", out->node_image_version,
	        sizeof(out->node_image_version), FIT_STRICT, err, errlen) ||
	    json_str(p, "orchestratorVersion", out->orchestrator_version,
	        sizeof(out->orchestrator_version), FIT_STRICT, err, errlen) ||
	    json_str(p, "currentOrchestratorVersion",
	        out->current_orchestrator_version,
	        sizeof(out->current_orchestrator_version), FIT_STRICT, err,
	        errlen) ||
	    json_str(p, "vmSize", out->vm_size, sizeof(out->vm_size),
	        FIT_STRICT, err, errlen) ||
	    json_str(p, "eTag", out->etag, sizeof(out->etag), FIT_STRICT, err,
	        errlen) ||
	    json_str(json_obj(p, "creationData"), "sourceResourceId",
	        out->creation_source_id, sizeof(out->creation_source_id),
	        FIT_STRICT, err, errlen))
		return -1;
	json_str(p, "osType", out->os_type, sizeof(out->os_type), FIT_TRUNCATE,
	    NULL, 0);
	json_str(p, "osSKU", out->os_sku, sizeof(out->os_sku), FIT_TRUNCATE,
	    NULL, 0);
	json_str(
	    p, "mode", out->mode, sizeof(out->mode), FIT_TRUNCATE, NULL, 0);
	json_str(p, "provisioningState", out->provisioning_state,
	    sizeof(out->provisioning_state), FIT_TRUNCATE, NULL, 0);
	out->enable_fips = json_bool(p, "enableFIPS");
	out->count = json_int(p, "count");
	return 0;
}

/* pool_from(o, out, err, errlen): an AgentPool resource object. */
static int
pool_from(const json_t *o, struct arm_agent_pool *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (json_str(o, "name", out->name, sizeof(out->name), FIT_STRICT, err,
	        errlen) ||
	    json_str(
	        o, "id", out->id, sizeof(out->id), FIT_STRICT, err, errlen))
		return -1;
	return pool_props(json_obj(o, "properties"), out, err, errlen);
}

int
arm_agent_pool_parse(
    const char *body, struct arm_agent_pool *out, char *err, size_t errlen)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = parse_object(body, body != NULL ? strlen(body) : 0, err, errlen);
	if (root == NULL)
		return -1;
	rc = pool_from(root, out, err, errlen);
	json_decref(root);
	return rc;
}

void
arm_cluster_free(struct arm_cluster *c)
{
	if (c == NULL)
		return;
	free(c->pools);
	c->pools = NULL;
	c->npools = 0;
	free(c->tags);
	c->tags = NULL;
	c->ntags = 0;
}

/* cluster_tags(o, out, err, errlen): the cluster's tags, malloc'd. */
static int
cluster_tags(const json_t *o, struct arm_cluster *out, char *err, size_t errlen)
{
	json_t *tags = json_obj(o, "tags"), *v;
	const char *key;
	size_t n = json_is_object(tags) ? json_object_size(tags) : 0;

	if (n == 0)
		return 0;
	/* Azure allows 50 tags a resource. */
	if (n > ARM_MAX_PAGE_ITEMS) {
		seterr(err, errlen, "the cluster has %zu tags, more than %d", n,
		    ARM_MAX_PAGE_ITEMS);
		return -1;
	}
	out->tags = calloc(n, sizeof(*out->tags));
	if (out->tags == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	json_object_foreach(tags, key, v)
	{
		struct arm_tag *t;

		if (!json_is_string(v))
			continue;
		t = &out->tags[out->ntags++];
		util_strlcpy(t->key, key, sizeof(t->key));
		util_strlcpy(t->value, json_string_value(v), sizeof(t->value));
	}
	return 0;
}

/*
 * cluster_from(root, out, err, errlen): a ManagedCluster resource object
 * into the struct arm_cluster ${out} (void: the parser of parse_with and
 * list_page).
 */
static int
cluster_from(const json_t *root, void *vout, char *err, size_t errlen)
{
	struct arm_cluster *out = vout;
	json_t *props, *profiles;
	size_t i, n;
	char e[256];

	memset(out, 0, sizeof(*out));
	props = json_obj(root, "properties");
	if (json_str(root, "id", out->id, sizeof(out->id), FIT_STRICT, err,
	        errlen) ||
	    json_str(root, "name", out->name, sizeof(out->name), FIT_STRICT,
	        err, errlen) ||
	    json_str(root, "location", out->location, sizeof(out->location),
	        FIT_STRICT, err, errlen) ||
	    json_str(props, "kubernetesVersion", out->kubernetes_version,
	        sizeof(out->kubernetes_version), FIT_STRICT, err, errlen) ||
	    json_str(props, "currentKubernetesVersion",
	        out->current_kubernetes_version,
	        sizeof(out->current_kubernetes_version), FIT_STRICT, err,
	        errlen))
		goto err0;
	json_str(props, "provisioningState", out->provisioning_state,
	    sizeof(out->provisioning_state), FIT_TRUNCATE, NULL, 0);
	if (json_obj(props, "autoUpgradeProfile") != NULL) {
		json_t *au = json_obj(props, "autoUpgradeProfile");

		out->has_auto_upgrade = 1;
		json_str(au, "upgradeChannel", out->upgrade_channel,
		    sizeof(out->upgrade_channel), FIT_TRUNCATE, NULL, 0);
		json_str(au, "nodeOSUpgradeChannel", out->node_os_channel,
		    sizeof(out->node_os_channel), FIT_TRUNCATE, NULL, 0);
	}
	profiles =
	    props != NULL ? json_object_get(props, "agentPoolProfiles") : NULL;
	if (profiles != NULL && !json_is_null(profiles) &&
	    !json_is_array(profiles)) {
		seterr(err, errlen, "agentPoolProfiles is not an array");
		goto err0;
	}
	n = json_is_array(profiles) ? json_array_size(profiles) : 0;
	/* AKS allows 100 node pools a cluster. */
	if (n > ARM_MAX_PAGE_ITEMS) {
		seterr(err, errlen,
		    "agentPoolProfiles holds %zu pools, more "
		    "than %d",
		    n, ARM_MAX_PAGE_ITEMS);
		goto err0;
	}
	if (n > 0) {
		out->pools = calloc(n, sizeof(*out->pools));
		if (out->pools == NULL) {
			seterr(err, errlen, "out of memory");
			goto err0;
		}
	}
	for (i = 0; i < n; i++) {
		json_t *p = json_array_get(profiles, i);
		struct arm_agent_pool *ap = &out->pools[i];

		if (!json_is_object(p) ||
		    json_str(p, "name", ap->name, sizeof(ap->name), FIT_STRICT,
		        e, sizeof(e)) ||
		    pool_props(p, ap, e, sizeof(e))) {
			seterr(err, errlen, "agentPoolProfiles[%zu]: %s", i,
			    json_is_object(p) ? e : "not an object");
			goto err1;
		}
		/* profiles carry no id: derive it from the cluster's */
		if (out->id[0] != '\0' &&
		    (size_t)snprintf(ap->id, sizeof(ap->id), "%s/agentPools/%s",
		        out->id, ap->name) >= sizeof(ap->id)) {
			seterr(err, errlen,
			    "agentPoolProfiles[%zu]: id too long", i);
			goto err1;
		}
		out->npools++;
	}
	if (cluster_tags(root, out, err, errlen))
		goto err1;
	return 0;

err1:
	arm_cluster_free(out);
err0:
	return -1;
}

/*
 * One JSON object ${body} into ${out} (${size} bytes, zeroed first) with
 * ${from}: the shared shape of arm_cluster_parse and arm_snapshot_parse.
 */
static int
parse_with(const char *body, void *out, size_t size,
    int (*from)(const json_t *, void *, char *, size_t), char *err,
    size_t errlen)
{
	json_t *root;
	int rc;

	memset(out, 0, size);
	root = parse_object(body, body != NULL ? strlen(body) : 0, err, errlen);
	if (root == NULL)
		return -1;
	rc = from(root, out, err, errlen);
	json_decref(root);
	return rc;
}

int
arm_cluster_parse(
    const char *body, struct arm_cluster *out, char *err, size_t errlen)
{
	return parse_with(body, out, sizeof(*out), cluster_from, err, errlen);
}

/* snapshot_from(o, out, err, errlen): a Snapshot resource object into
 * the struct arm_snapshot ${out}. */
static int
snapshot_from(const json_t *o, void *vout, char *err, size_t errlen)
{
	struct arm_snapshot *out = vout;
	json_t *props = json_obj(o, "properties"), *tags;
	char created[64];
	const char *key;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (json_str(
	        o, "id", out->id, sizeof(out->id), FIT_STRICT, err, errlen) ||
	    json_str(o, "name", out->name, sizeof(out->name), FIT_STRICT, err,
	        errlen) ||
	    json_str(o, "location", out->location, sizeof(out->location),
	        FIT_STRICT, err, errlen) ||
	    json_str(json_obj(props, "creationData"), "sourceResourceId",
	        out->source_id, sizeof(out->source_id), FIT_STRICT, err,
	        errlen) ||
	    json_str(props, "kubernetesVersion", out->kubernetes_version,
	        sizeof(out->kubernetes_version), FIT_STRICT, err, errlen) ||
	    json_str(props, "nodeImageVersion", out->node_image_version,
	        sizeof(out->node_image_version), FIT_STRICT, err, errlen) ||
	    json_str(props, "vmSize", out->vm_size, sizeof(out->vm_size),
	        FIT_STRICT, err, errlen))
		return -1;
	json_str(props, "osType", out->os_type, sizeof(out->os_type),
	    FIT_TRUNCATE, NULL, 0);
	json_str(props, "osSku", out->os_sku, sizeof(out->os_sku), FIT_TRUNCATE,
	    NULL, 0);
	out->enable_fips = json_bool(props, "enableFIPS");
	json_str(json_obj(o, "systemData"), "createdAt", created,
	    sizeof(created), FIT_TRUNCATE, NULL, 0);
	if (created[0] != '\0' && util_parse_time(created, &out->created_at))
		out->created_at = 0;
	tags = json_obj(o, "tags");
	json_object_foreach(tags, key, v)
	{
		struct arm_tag *t;

		/* a tag that does not fit is left out, never cut */
		if (!json_is_string(v) || out->ntags == ARM_MAX_TAGS ||
		    strlen(key) >= sizeof(t->key) ||
		    strlen(json_string_value(v)) >= sizeof(t->value)) {
			out->tags_incomplete = 1;
			continue;
		}
		t = &out->tags[out->ntags++];
		util_strlcpy(t->key, key, sizeof(t->key));
		util_strlcpy(t->value, json_string_value(v), sizeof(t->value));
	}
	return 0;
}

int
arm_snapshot_parse(
    const char *body, struct arm_snapshot *out, char *err, size_t errlen)
{
	return parse_with(body, out, sizeof(*out), snapshot_from, err, errlen);
}

/*
 * list_page(body, elem_size, parse_one, out, n, next_link, err, errlen):
 * One page {"value":[...], "nextLink": "..."} into a malloc'd array.
 */
static int
list_page(const char *body, size_t elem_size,
    int (*parse_one)(const json_t *, void *, char *, size_t), void **out,
    size_t *n, char **next_link, char *err, size_t errlen)
{
	json_t *root, *value, *nl;
	char *arr = NULL;
	size_t i, count;
	char e[256];

	*out = NULL;
	*n = 0;
	*next_link = NULL;
	root = parse_object(body, body != NULL ? strlen(body) : 0, err, errlen);
	if (root == NULL)
		goto err0;
	value = json_object_get(root, "value");
	if (!json_is_array(value)) {
		seterr(err, errlen, "list has no \"value\" array");
		goto err1;
	}
	count = json_array_size(value);
	/*
	 * ARM pages hold at most 1,000 items; a page of a million empty
	 * objects (a few MiB of "{}," under the body cap) would otherwise
	 * cost gigabytes of structs.
	 */
	if (count > ARM_MAX_PAGE_ITEMS) {
		seterr(err, errlen, "list page holds %zu items, more than %d",
		    count, ARM_MAX_PAGE_ITEMS);
		goto err1;
	}
	if (count > 0) {
		arr = calloc(count, elem_size);
		if (arr == NULL) {
			seterr(err, errlen, "out of memory");
			goto err1;
		}
	}
	for (i = 0; i < count; i++) {
		json_t *item = json_array_get(value, i);

		if (!json_is_object(item)) {
			seterr(err, errlen, "value[%zu]: not an object", i);
			goto err2;
		}
		if (parse_one(item, arr + i * elem_size, e, sizeof(e))) {
			seterr(err, errlen, "value[%zu]: %s", i, e);
			goto err2;
		}
	}
	nl = json_object_get(root, "nextLink");
	if (json_is_string(nl) && json_string_value(nl)[0] != '\0') {
		*next_link = strdup(json_string_value(nl));
		if (*next_link == NULL) {
			seterr(err, errlen, "out of memory");
			goto err2;
		}
	}
	json_decref(root);
	*out = arr;
	*n = count;
	return 0;

err2:
	free(arr);
err1:
	json_decref(root);
err0:
	return -1;
}

static int
pool_one(const json_t *o, void *out, char *err, size_t errlen)
{
	return pool_from(o, out, err, errlen);
}

int
arm_snapshot_list_parse(const char *body, struct arm_snapshot **out, size_t *n,
    char **next_link, char *err, size_t errlen)
{
	void *arr;
	int rc;

	rc = list_page(body, sizeof(**out), snapshot_from, &arr, n, next_link,
	    err, errlen);
	*out = arr;
	return rc;
}

int
arm_agent_pool_list_parse(const char *body, struct arm_agent_pool **out,
    size_t *n, char **next_link, char *err, size_t errlen)
{
	void *arr;
	int rc;

	rc = list_page(
	    body, sizeof(**out), pool_one, &arr, n, next_link, err, errlen);
	*out = arr;
	return rc;
}

/* error_detail(e, out): code/message/target of an ErrorDetail object. */
static void
error_detail(const json_t *e, struct arm_error *out)
{
	json_t *details = json_object_get(e, "details"), *d;
	char dc[128], dm[256];
	size_t len;

	json_str(
	    e, "code", out->code, sizeof(out->code), FIT_TRUNCATE, NULL, 0);
	json_str(e, "message", out->message, sizeof(out->message), FIT_TRUNCATE,
	    NULL, 0);
	json_str(e, "target", out->target, sizeof(out->target), FIT_TRUNCATE,
	    NULL, 0);
	/* AKS often puts the actual cause in the first detail */
	d = json_is_array(details) ? json_array_get(details, 0) : NULL;
	if (!json_is_object(d))
		return;
	json_str(d, "code", dc, sizeof(dc), FIT_TRUNCATE, NULL, 0);
	json_str(d, "message", dm, sizeof(dm), FIT_TRUNCATE, NULL, 0);
	if (dc[0] == '\0' && dm[0] == '\0')
		return;
	len = strlen(out->message);
	snprintf(out->message + len, sizeof(out->message) - len,
	    "%s(detail %s%s%s)", len > 0 ? " " : "", dc,
	    dc[0] != '\0' && dm[0] != '\0' ? ": " : "", dm);
}

int
arm_operation_status_parse(const char *body, char *status, size_t len,
    struct arm_error *op_err, char *err, size_t errlen)
{
	json_t *root, *e;

	status[0] = '\0';
	root = parse_object(body, body != NULL ? strlen(body) : 0, err, errlen);
	if (root == NULL)
		return -1;
	json_str(root, "status", status, len, FIT_TRUNCATE, NULL, 0);
	if (status[0] == '\0') {
		seterr(err, errlen, "operation status has no \"status\"");
		json_decref(root);
		return -1;
	}
	e = json_obj(root, "error");
	if (op_err != NULL && e != NULL)
		error_detail(e, op_err);
	json_decref(root);
	return 0;
}

void
arm_error_from_response(const struct http_response *resp, struct arm_error *out)
{
	const char *body = resp->body.data;
	size_t len = resp->body.data != NULL ? resp->body.len : 0;
	json_t *root = NULL, *e;
	char snip[ARM_SNIPPET + 1];

	memset(out, 0, sizeof(*out));
	out->status = resp->status;
	util_strlcpy(
	    out->request_id, resp->request_id, sizeof(out->request_id));
	util_strlcpy(out->correlation_id, resp->correlation_id,
	    sizeof(out->correlation_id));
	if (resp->status == 0) {
		util_strlcpy(out->message,
		    resp->error[0] != '\0' ? resp->error : "no response",
		    sizeof(out->message));
		return;
	}
	while (len > 0 && isspace((unsigned char)*body)) {
		body++;
		len--;
	}
	if (len == 0) {
		util_strlcpy(
		    out->message, "empty response body", sizeof(out->message));
		return;
	}
	root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		fold(snip, sizeof(snip), body, len);
		snprintf(out->message, sizeof(out->message),
		    "non-JSON response%s: %s", body[0] == '<' ? " (HTML?)" : "",
		    snip);
		json_decref(root);
		return;
	}
	e = json_object_get(root, "error");
	if (json_is_object(e)) {
		/* ARM: {"error":{"code","message","target","details"}} */
		error_detail(e, out);
	} else if (json_is_string(e)) {
		/* Entra ID / IMDS: {"error":"x","error_description":"y"} */
		json_str(root, "error", out->code, sizeof(out->code),
		    FIT_TRUNCATE, NULL, 0);
		json_str(root, "error_description", out->message,
		    sizeof(out->message), FIT_TRUNCATE, NULL, 0);
	} else {
		/* some RPs: {"code","message"} at the top */
		error_detail(root, out);
	}
	if (out->code[0] == '\0' && out->message[0] == '\0') {
		fold(snip, sizeof(snip), body, len);
		snprintf(out->message, sizeof(out->message),
		    "unrecognised error body: %s", snip);
	}
	json_decref(root);
}

const char *
arm_tag_get(const struct arm_snapshot *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->ntags; i++) {
		/* ARM tag names are case-insensitive */
		if (strcasecmp(s->tags[i].key, key) == 0)
			return s->tags[i].value;
	}
	return NULL;
}

void
arm_error_describe(const struct arm_error *e, char *out, size_t len)
{
	if (e->status == 0)
		snprintf(out, len, "no answer from ARM: %s", e->message);
	else
		snprintf(out, len, "%ld %s: %s (x-ms-request-id %s)", e->status,
		    e->code[0] != '\0' ? e->code : "error", e->message,
		    e->request_id[0] != '\0' ? e->request_id : "-");
}

void
arm_log_failure(const char *context, const char *method, const char *url,
    const struct arm_error *e)
{
	char status[32], ids[320];

	if (e->status > 0)
		snprintf(status, sizeof(status), "%ld", e->status);
	else
		util_strlcpy(status, "no response", sizeof(status));
	ids[0] = '\0';
	if (e->request_id[0] != '\0' || e->correlation_id[0] != '\0')
		snprintf(ids, sizeof(ids),
		    " (x-ms-request-id %s, x-ms-correlation-request-id %s)",
		    e->request_id[0] != '\0' ? e->request_id : "-",
		    e->correlation_id[0] != '\0' ? e->correlation_id : "-");
	log_err(context, "%s %s: %s %s%s%s%s", method, url, status, e->code,
	    e->code[0] != '\0' ? ": " : "", e->message, ids);
}

/* ---- blocking operations ---- */

static void
error_clear(struct arm_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/* fail_local(ctx, method, url, err, fmt, ...): an error found here, logged. */
static int fail_local(const char *ctx, const char *method, const char *url,
    const struct http_response *resp, struct arm_error *err, const char *fmt,
    ...) __attribute__((format(printf, 6, 7)));

static int
fail_local(const char *ctx, const char *method, const char *url,
    const struct http_response *resp, struct arm_error *err, const char *fmt,
    ...)
{
	va_list ap;

	memset(err, 0, sizeof(*err));
	if (resp != NULL) {
		err->status = resp->status;
		util_strlcpy(
		    err->request_id, resp->request_id, sizeof(err->request_id));
		util_strlcpy(err->correlation_id, resp->correlation_id,
		    sizeof(err->correlation_id));
	}
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	arm_log_failure(ctx, method, url, err);
	return -1;
}

/*
 * call(arm, ctx, method, url, body, headers, ok, resp, err):
 * Perform one request with the bearer token.  Return 0 when the status is
 * one of the 0-terminated ${ok} (${resp} filled; caller frees it), else -1
 * with ${err} filled and logged (${resp} freed).
 */
static int
call(struct arm *arm, const char *ctx, const char *method, const char *url,
    const char *body, const char *const *headers, const long *ok,
    struct http_response *resp, struct arm_error *err)
{
	struct http_request req;
	size_t i;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.auth = 1;
	req.context = ctx;
	for (i = 0;
	     headers != NULL && headers[i] != NULL && i + 1 < HTTP_MAX_HEADERS;
	     i++)
		req.headers[i] = headers[i];
	http_response_init(resp);
	if (http_do(arm->http, &req, resp) != 0) {
		/*
		 * No usable response (connection failure, refused URL, body
		 * over the cap): http_do has logged it with ctx, method, URL.
		 */
		memset(err, 0, sizeof(*err));
		err->status = resp->status;
		util_strlcpy(err->message,
		    resp->error[0] != '\0' ? resp->error : "no response",
		    sizeof(err->message));
		util_strlcpy(
		    err->request_id, resp->request_id, sizeof(err->request_id));
		util_strlcpy(err->correlation_id, resp->correlation_id,
		    sizeof(err->correlation_id));
		http_response_free(resp);
		return -1;
	}
	for (i = 0; ok[i] != 0; i++) {
		if (resp->status == ok[i]) {
			log_debug(ctx, "%s %s: %ld", method, url, resp->status);
			return 0;
		}
	}
	arm_error_from_response(resp, err);
	arm_log_failure(ctx, method, url, err);
	http_response_free(resp);
	return -1;
}

static const long ok_200[] = {200, 0};
static const long ok_put[] = {200, 201, 0};
static const long ok_lro_put[] = {200, 201, 202, 0};
static const long ok_lro_post[] = {200, 202, 0};
static const long ok_delete[] = {200, 204, 0};
static const long ok_location_poll[] = {200, 201, 202, 204, 0};

static const char *
body_of(const struct http_response *resp)
{
	return resp->body.data != NULL && resp->body.len > 0 ? resp->body.data
	                                                     : "";
}

/* parse_fail(ctx, method, url, resp, reason, err): a 2xx we cannot read. */
static int
parse_fail(const char *ctx, const char *method, const char *url,
    const struct http_response *resp, const char *reason, struct arm_error *err)
{
	return fail_local(
	    ctx, method, url, resp, err, "unreadable response: %s", reason);
}

/* get_resource(arm, ctx, id, resp, url, err): GET id; ${*url} malloc'd. */
static int
get_resource(struct arm *arm, const char *ctx, const char *id,
    struct http_response *resp, char **url, struct arm_error *err)
{
	*url = url_for(arm, id, "");
	if (*url == NULL)
		return fail_local(ctx, "GET", id, NULL, err, "out of memory");
	if (call(arm, ctx, "GET", *url, NULL, NULL, ok_200, resp, err)) {
		free(*url);
		*url = NULL;
		return -1;
	}
	return 0;
}

/* The typed parsers, as get_parsed takes them. */
static int
parse_cluster_v(const char *body, void *out, char *err, size_t errlen)
{
	return arm_cluster_parse(body, out, err, errlen);
}

static int
parse_agent_pool_v(const char *body, void *out, char *err, size_t errlen)
{
	return arm_agent_pool_parse(body, out, err, errlen);
}

static int
parse_snapshot_v(const char *body, void *out, char *err, size_t errlen)
{
	return arm_snapshot_parse(body, out, err, errlen);
}

/*
 * get_parsed(arm, ctx, id, parse, out, err):
 * GET the resource ${id} and parse its body into ${out}.  0, or -1 with
 * ${err} filled (and logged once).
 */
static int
get_parsed(struct arm *arm, const char *ctx, const char *id,
    int (*parse)(const char *, void *, char *, size_t), void *out,
    struct arm_error *err)
{
	struct http_response resp;
	char reason[256];
	char *url = NULL;
	int rc = -1;

	error_clear(err);
	if (get_resource(arm, ctx, id, &resp, &url, err))
		return -1;
	if (parse(body_of(&resp), out, reason, sizeof(reason)))
		parse_fail(ctx, "GET", url, &resp, reason, err);
	else
		rc = 0;
	http_response_free(&resp);
	free(url);
	return rc;
}

int
arm_cluster_get(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, const char *cluster, struct arm_cluster *out,
    struct arm_error *err)
{
	char id[1024];

	memset(out, 0, sizeof(*out));
	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s",
	    sub, rg, cluster);
	return get_parsed(arm, ctx, id, parse_cluster_v, out, err);
}

int
arm_agent_pool_get(struct arm *arm, const char *ctx, const char *pool_id,
    struct arm_agent_pool *out, struct arm_error *err)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(arm, ctx, pool_id, parse_agent_pool_v, out, err);
}

int
arm_snapshot_get(struct arm *arm, const char *ctx, const char *snapshot_id,
    struct arm_snapshot *out, struct arm_error *err)
{
	memset(out, 0, sizeof(*out));
	return get_parsed(arm, ctx, snapshot_id, parse_snapshot_v, out, err);
}

/*
 * send_snapshot(arm, ctx, method, id, body, out, err):
 * PUT or PATCH a snapshot and parse the answer into ${out} (may be NULL).
 */
static int
send_snapshot(struct arm *arm, const char *ctx, const char *method,
    const char *id, const char *body, struct arm_snapshot *out,
    struct arm_error *err)
{
	struct http_response resp;
	struct arm_snapshot tmp;
	char reason[256];
	char *url;
	int rc = -1;

	url = url_for(arm, id, "");
	if (url == NULL || body == NULL) {
		fail_local(ctx, method, id, NULL, err, "out of memory");
		goto err0;
	}
	if (call(arm, ctx, method, url, body, NULL,
	        strcmp(method, "PUT") == 0 ? ok_put : ok_200, &resp, err))
		goto err0;
	if (arm_snapshot_parse(body_of(&resp), out != NULL ? out : &tmp, reason,
	        sizeof(reason))) {
		parse_fail(ctx, method, url, &resp, reason, err);
		goto err1;
	}
	rc = 0;
err1:
	http_response_free(&resp);
err0:
	free(url);
	return rc;
}

int
arm_snapshot_put(struct arm *arm, const char *ctx, const char *snapshot_id,
    const char *location, const char *source_id, const struct arm_tag *tags,
    size_t ntags, struct arm_snapshot *out, struct arm_error *err)
{
	char *body;
	int rc;

	error_clear(err);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	body = arm_snapshot_put_body(location, source_id, tags, ntags);
	rc = send_snapshot(arm, ctx, "PUT", snapshot_id, body, out, err);
	free(body);
	return rc;
}

int
arm_snapshot_patch_tags(struct arm *arm, const char *ctx,
    const char *snapshot_id, const struct arm_tag *tags, size_t ntags,
    struct arm_snapshot *out, struct arm_error *err)
{
	char *body;
	int rc;

	error_clear(err);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	body = arm_tags_body(tags, ntags);
	rc = send_snapshot(arm, ctx, "PATCH", snapshot_id, body, out, err);
	free(body);
	return rc;
}

/*
 * ---- tag writes, verified, many at a time ----
 *
 * Each write is GET (the snapshot's tags as Azure holds them), PATCH (the
 * same tags with ${key} set or removed: a PATCH replaces the whole tags
 * object), and -- only when the PATCH's answer does not show the tag as
 * asked -- a GET that decides.  The writes go through one http_batch,
 * each request slot reused for its write's next step (http_batch_release),
 * so that at most max_parallel of them are in flight per subscription and
 * a write's next step goes ahead of writes not yet started.
 */

enum tagw_step { TAGW_GET, TAGW_PATCH, TAGW_VERIFY };

struct tagw {
	enum tagw_step step;
	int ended; /* tagw_end was called */
	char *url, *body;
	struct http_response patch; /* the PATCH's status and ids, no body */
};

struct tagw_batch {
	struct arm *arm;
	struct arm_tag_write *w;
	struct http_request *reqs;
	struct http_response *resps;
	struct tagw *st;
	struct arm_snapshot scratch; /* an answer, parsed to be judged */
};

/*
 * The PATCH body for a GET answer ${got}: its tags with ${key} set to
 * ${value} (NULL: every spelling removed).  malloc'd, or NULL with the
 * reason in ${why}.
 */
static char *
tag_patch_body(
    const char *got, const char *key, const char *value, char *why, size_t len)
{
	json_t *root, *tags, *patch = NULL;
	char *body = NULL;

	root = parse_object(got, strlen(got), why, len);
	if (root == NULL)
		return NULL;
	tags = json_obj(root, "tags");
	tags = tags != NULL ? json_copy(tags) : json_object();
	patch = json_object();
	if (tags == NULL || patch == NULL ||
	    json_object_set_new(patch, "tags", tags) != 0) {
		snprintf(why, len, "out of memory");
		goto out;
	}
	if (value == NULL) {
		const char *k;
		json_t *v, *tmp;

		/* tag names are case-insensitive: remove every spelling */
		json_object_foreach_safe(tags, tmp, k, v)
		{
			(void)v;
			if (strcasecmp(k, key) == 0)
				json_object_del(tags, k);
		}
	} else if (json_object_set_new(tags, key, json_string(value)) != 0) {
		snprintf(why, len, "tag %s: invalid key or value", key);
		goto out;
	}
	body = json_dumps(patch, JSON_COMPACT);
	if (body == NULL)
		snprintf(why, len, "out of memory");
out:
	json_decref(patch);
	json_decref(root);
	return body;
}

/* Write ${i} is over: ${rc} 0 (verified) or -1 (w->err filled). */
static void
tagw_end(struct tagw_batch *tb, size_t i, int rc)
{
	struct tagw *t = &tb->st[i];

	t->ended = 1;
	tb->w[i].rc = rc;
	if (rc == 0 && tb->w[i].out != NULL)
		*tb->w[i].out = tb->scratch;
	free(t->body);
	t->body = NULL;
	tb->reqs[i].body = NULL;
}

/* Send write ${i}'s next step, ${method} (with t->body for a PATCH). */
static void
tagw_next(
    struct tagw_batch *tb, size_t i, enum tagw_step step, const char *method)
{
	struct tagw *t = &tb->st[i];
	struct arm_tag_write *w = &tb->w[i];

	t->step = step;
	tb->reqs[i].method = method;
	tb->reqs[i].body = step == TAGW_PATCH ? t->body : NULL;
	/* (a release that fails may have called tagw_done already) */
	if (http_batch_release(tb->arm->http, i) != 0 && !t->ended) {
		fail_local(
		    w->ctx, method, t->url, NULL, &w->err, "could not be sent");
		tagw_end(tb, i, -1);
	}
}

/*
 * Did request ${i} answer 200?  Otherwise w->err says what it did
 * answer (logged), as call() would.
 */
static int
tagw_ok(struct tagw_batch *tb, size_t i, int rc)
{
	struct http_response *resp = &tb->resps[i];
	struct arm_tag_write *w = &tb->w[i];

	if (rc == 0 && resp->status == 200) {
		log_debug(w->ctx, "%s %s: %ld", tb->reqs[i].method,
		    tb->reqs[i].url, resp->status);
		return 1;
	}
	if (rc != 0) {
		memset(&w->err, 0, sizeof(w->err));
		w->err.status = resp->status;
		util_strlcpy(w->err.message,
		    resp->error[0] != '\0' ? resp->error : "no response",
		    sizeof(w->err.message));
		util_strlcpy(w->err.request_id, resp->request_id,
		    sizeof(w->err.request_id));
		util_strlcpy(w->err.correlation_id, resp->correlation_id,
		    sizeof(w->err.correlation_id));
		return 0;
	}
	arm_error_from_response(resp, &w->err);
	arm_log_failure(w->ctx, tb->reqs[i].method, tb->reqs[i].url, &w->err);
	return 0;
}

/* The PATCH answered and neither it nor the GET shows the tag:
 * TagNotApplied, with the PATCH's status and ids (logged). */
static void
tagw_not_applied(struct tagw_batch *tb, size_t i)
{
	struct tagw *t = &tb->st[i];
	struct arm_tag_write *w = &tb->w[i];
	struct arm_error *e = &w->err;

	memset(e, 0, sizeof(*e));
	e->status = t->patch.status;
	util_strlcpy(e->code, "TagNotApplied", sizeof(e->code));
	util_strlcpy(e->request_id, t->patch.request_id, sizeof(e->request_id));
	util_strlcpy(e->correlation_id, t->patch.correlation_id,
	    sizeof(e->correlation_id));
	if (w->value != NULL)
		snprintf(e->message, sizeof(e->message),
		    "answered %ld but neither the answer nor a GET carries "
		    "tag %s=%s",
		    t->patch.status, w->key, w->value);
	else
		snprintf(e->message, sizeof(e->message),
		    "answered %ld but the answer and a GET still carry tag %s",
		    t->patch.status, w->key);
	arm_log_failure(w->ctx, "PATCH", t->url, e);
	tagw_end(tb, i, -1);
}

static void
tagw_done(void *vctx, size_t i, int rc)
{
	struct tagw_batch *tb = vctx;
	struct tagw *t = &tb->st[i];
	struct arm_tag_write *w = &tb->w[i];
	struct http_response *resp = &tb->resps[i];
	char why[256];
	int ok = tagw_ok(tb, i, rc);

	switch (t->step) {
	case TAGW_GET:
		if (!ok) {
			tagw_end(tb, i, -1);
			break;
		}
		t->body = tag_patch_body(
		    body_of(resp), w->key, w->value, why, sizeof(why));
		if (t->body == NULL) {
			parse_fail(w->ctx, "GET", t->url, resp, why, &w->err);
			tagw_end(tb, i, -1);
			break;
		}
		http_response_free(resp);
		tagw_next(tb, i, TAGW_PATCH, "PATCH");
		return;
	case TAGW_PATCH:
		if (!ok) {
			tagw_end(tb, i, -1);
			break;
		}
		if (arm_snapshot_parse(
		        body_of(resp), &tb->scratch, why, sizeof(why))) {
			parse_fail(w->ctx, "PATCH", t->url, resp, why, &w->err);
			tagw_end(tb, i, -1);
			break;
		}
		if (arm_snapshot_has_tag(&tb->scratch, w->key, w->value)) {
			tagw_end(tb, i, 0);
			break;
		}
		/* The answer may be stale or partial: a GET decides. */
		t->patch.status = resp->status;
		util_strlcpy(t->patch.request_id, resp->request_id,
		    sizeof(t->patch.request_id));
		util_strlcpy(t->patch.correlation_id, resp->correlation_id,
		    sizeof(t->patch.correlation_id));
		http_response_free(resp);
		tagw_next(tb, i, TAGW_VERIFY, "GET");
		return;
	case TAGW_VERIFY:
		if (ok &&
		    arm_snapshot_parse(
		        body_of(resp), &tb->scratch, why, sizeof(why)) == 0 &&
		    arm_snapshot_has_tag(&tb->scratch, w->key, w->value))
			tagw_end(tb, i, 0);
		else
			tagw_not_applied(tb, i);
		break;
	}
	http_response_free(resp);
}

int
arm_snapshot_set_tags(
    struct arm *arm, struct arm_tag_write *w, size_t n, int max_parallel)
{
	struct tagw_batch *tb;
	size_t i;
	int rc = -1;

	for (i = 0; i < n; i++) {
		error_clear(&w[i].err);
		w[i].rc = -1;
		if (w[i].out != NULL)
			memset(w[i].out, 0, sizeof(*w[i].out));
	}
	if (n == 0)
		return 0;
	tb = calloc(1, sizeof(*tb));
	if (tb == NULL)
		goto nomem;
	tb->arm = arm;
	tb->w = w;
	tb->reqs = calloc(n, sizeof(*tb->reqs));
	tb->resps = calloc(n, sizeof(*tb->resps));
	tb->st = calloc(n, sizeof(*tb->st));
	if (tb->reqs == NULL || tb->resps == NULL || tb->st == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		tb->st[i].url = url_for(arm, w[i].snapshot_id, "");
		if (tb->st[i].url == NULL)
			goto out;
		tb->st[i].step = TAGW_GET;
		tb->reqs[i].method = "GET";
		tb->reqs[i].url = tb->st[i].url;
		tb->reqs[i].auth = 1;
		tb->reqs[i].context = w[i].ctx;
		tb->reqs[i].throttle_key = w[i].throttle_key;
		http_response_init(&tb->resps[i]);
	}
	rc = http_batch(
	    arm->http, tb->reqs, tb->resps, n, max_parallel, tagw_done, tb);
out:
	for (i = 0; tb->st != NULL && i < n; i++) {
		free(tb->st[i].url);
		free(tb->st[i].body);
	}
	free(tb->st);
	free(tb->resps);
	free(tb->reqs);
	free(tb);
	if (rc == 0)
		return 0;
nomem:
	for (i = 0; i < n; i++)
		if (w[i].rc != 0 && w[i].err.message[0] == '\0')
			fail_local(w[i].ctx, "PATCH", w[i].snapshot_id, NULL,
			    &w[i].err, "out of memory");
	return -1;
}

int
arm_snapshot_set_tag(struct arm *arm, const char *ctx, const char *snapshot_id,
    const char *key, const char *value, struct arm_snapshot *out,
    struct arm_error *err)
{
	struct arm_tag_write w;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.snapshot_id = snapshot_id;
	w.key = key;
	w.value = value;
	w.out = out;
	(void)arm_snapshot_set_tags(arm, &w, 1, 1);
	*err = w.err;
	return w.rc;
}

int
arm_snapshot_delete(struct arm *arm, const char *ctx, const char *snapshot_id,
    int *existed, struct arm_error *err)
{
	struct http_response resp;
	char *url;
	int rc = -1;

	error_clear(err);
	url = url_for(arm, snapshot_id, "");
	if (url == NULL) {
		fail_local(
		    ctx, "DELETE", snapshot_id, NULL, err, "out of memory");
		goto err0;
	}
	if (call(arm, ctx, "DELETE", url, NULL, NULL, ok_delete, &resp, err))
		goto err0;
	/* 200 "Resource deleted successfully", 204 "Resource does not exist" */
	if (existed != NULL)
		*existed = (resp.status == 200);
	http_response_free(&resp);
	rc = 0;
err0:
	free(url);
	return rc;
}

/* A list's pages handed over one by one (arm_cluster_list_each). */
struct list_sink {
	int (*each)(void *arg, void *items, size_t n);
	void *arg;
};

/*
 * list_all(arm, ctx, first_url, page, elem_size, out, n, err):
 * GET ${first_url} and every nextLink after it (same origin only, at most
 * ARM_MAX_PAGES pages), appending each page's items to ${*out}; with a
 * ${sink} (list_all_n), handing each page's items to it instead.
 */
static int
list_all_n(struct arm *arm, const char *ctx, char *first_url,
    int (*page)(const char *, void **, size_t *, char **, char *, size_t),
    size_t elem_size, void **out, size_t *n, size_t *npages,
    const struct list_sink *sink, struct arm_error *err)
{
	struct http_response resp;
	char *url = first_url, *next = NULL, *all = NULL;
	char reason[512];
	size_t total = 0, pages;
	void *items;
	size_t nitems;

	*out = NULL;
	*n = 0;
	for (pages = 0; url != NULL; pages++) {
		if (pages == ARM_MAX_PAGES) {
			fail_local(ctx, "GET", url, NULL, err,
			    "more than %d pages: nextLink loop?",
			    ARM_MAX_PAGES);
			goto err1;
		}
		if (call(arm, ctx, "GET", url, NULL, NULL, ok_200, &resp, err))
			goto err1;
		if (page(body_of(&resp), &items, &nitems, &next, reason,
		        sizeof(reason))) {
			parse_fail(ctx, "GET", url, &resp, reason, err);
			http_response_free(&resp);
			goto err1;
		}
		if (sink != NULL) {
			/* The sink owns the items, kept or not. */
			if (sink->each(sink->arg, items, nitems) != 0) {
				fail_local(ctx, "GET", url, NULL, err,
				    "out of memory");
				http_response_free(&resp);
				goto err1;
			}
			items = NULL;
			total += nitems;
		} else if (nitems > 0) {
			char *grown =
			    realloc(all, (total + nitems) * elem_size);

			if (grown == NULL) {
				free(items);
				fail_local(ctx, "GET", url, NULL, err,
				    "out of memory");
				http_response_free(&resp);
				goto err1;
			}
			all = grown;
			memcpy(
			    all + total * elem_size, items, nitems * elem_size);
			total += nitems;
		}
		free(items);
		if (next != NULL &&
		    arm_url_same_origin(arm, next, reason, sizeof(reason))) {
			fail_local(ctx, "GET", url, &resp, err, "nextLink: %s",
			    reason);
			http_response_free(&resp);
			goto err1;
		}
		http_response_free(&resp);
		if (url != first_url)
			free(url);
		url = next;
		next = NULL;
	}
	*out = all;
	*n = total;
	if (npages != NULL)
		*npages = pages;
	return 0;

err1:
	free(next);
	if (url != first_url)
		free(url);
	free(all);
	return -1;
}

static int
list_all(struct arm *arm, const char *ctx, char *first_url,
    int (*page)(const char *, void **, size_t *, char **, char *, size_t),
    size_t elem_size, void **out, size_t *n, struct arm_error *err)
{
	return list_all_n(
	    arm, ctx, first_url, page, elem_size, out, n, NULL, NULL, err);
}

static int
snapshot_page(const char *body, void **out, size_t *n, char **next, char *err,
    size_t errlen)
{
	struct arm_snapshot *arr;
	int rc;

	rc = arm_snapshot_list_parse(body, &arr, n, next, err, errlen);
	*out = arr;
	return rc;
}

static int
pool_page(const char *body, void **out, size_t *n, char **next, char *err,
    size_t errlen)
{
	struct arm_agent_pool *arr;
	int rc;

	rc = arm_agent_pool_list_parse(body, &arr, n, next, err, errlen);
	*out = arr;
	return rc;
}

static int
cluster_page(const char *body, void **out, size_t *n, char **next, char *err,
    size_t errlen)
{
	return list_page(body, sizeof(struct arm_cluster), cluster_from, out, n,
	    next, err, errlen);
}

/*
 * Every page of a Microsoft.ContainerService ${type} list ("snapshots",
 * "managedClusters") of subscription ${sub}, or of resource group ${rg}
 * when not NULL; ${npages} (may be NULL) counts the pages read.
 */
static int
list_provider(struct arm *arm, const char *ctx, const char *sub, const char *rg,
    const char *type,
    int (*page)(const char *, void **, size_t *, char **, char *, size_t),
    size_t elem_size, void **out, size_t *n, size_t *npages,
    const struct list_sink *sink, struct arm_error *err)
{
	char id[1024];
	char *url;
	int rc;

	error_clear(err);
	*out = NULL;
	*n = 0;
	if (rg != NULL)
		snprintf(id, sizeof(id),
		    "/subscriptions/%s/resourceGroups/%s/providers/"
		    "Microsoft.ContainerService/%s",
		    sub, rg, type);
	else
		snprintf(id, sizeof(id),
		    "/subscriptions/%s/providers/Microsoft.ContainerService/%s",
		    sub, type);
	url = url_for(arm, id, "");
	if (url == NULL)
		return fail_local(ctx, "GET", id, NULL, err, "out of memory");
	rc = list_all_n(
	    arm, ctx, url, page, elem_size, out, n, npages, sink, err);
	free(url);
	return rc;
}

int
arm_cluster_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, struct arm_cluster **out, size_t *n, size_t *pages,
    struct arm_error *err)
{
	void *arr = NULL;
	int rc = list_provider(arm, ctx, sub, rg, "managedClusters",
	    cluster_page, sizeof(**out), &arr, n, pages, NULL, err);

	*out = arr;
	return rc;
}

/* arm_cluster_list_each's caller, as a list_sink sees it. */
struct cluster_sink {
	int (*each)(void *arg, struct arm_cluster *c, size_t n);
	void *arg;
};

static int
cluster_sink_each(void *arg, void *items, size_t n)
{
	struct cluster_sink *cs = arg;

	return cs->each(cs->arg, items, n);
}

int
arm_cluster_list_each(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, int (*each)(void *arg, struct arm_cluster *c, size_t n),
    void *arg, size_t *n, size_t *pages, struct arm_error *err)
{
	struct cluster_sink cs = {each, arg};
	struct list_sink sink = {cluster_sink_each, &cs};
	void *none = NULL;

	return list_provider(arm, ctx, sub, rg, "managedClusters", cluster_page,
	    sizeof(struct arm_cluster), &none, n, pages, &sink, err);
}

int
arm_agent_pool_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, const char *cluster, struct arm_agent_pool **out, size_t *n,
    struct arm_error *err)
{
	char id[1024];
	char *url;
	void *arr = NULL;
	int rc;

	error_clear(err);
	*out = NULL;
	*n = 0;
	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s",
	    sub, rg, cluster);
	url = url_for(arm, id, "/agentPools");
	if (url == NULL)
		return fail_local(ctx, "GET", id, NULL, err, "out of memory");
	rc = list_all(arm, ctx, url, pool_page, sizeof(**out), &arr, n, err);
	free(url);
	*out = arr;
	return rc;
}

int
arm_snapshot_list(struct arm *arm, const char *ctx, const char *sub,
    const char *rg, struct arm_snapshot **out, size_t *n, struct arm_error *err)
{
	void *arr = NULL;
	int rc = list_provider(arm, ctx, sub, rg, "snapshots", snapshot_page,
	    sizeof(**out), &arr, n, NULL, NULL, err);

	*out = arr;
	return rc;
}

/* ---- long-running operations ---- */

enum lro_state { LRO_RUNNING, LRO_SUCCEEDED, LRO_FAILED };

/* terminal(s): ARM's terminal states; anything else is still running. */
static enum lro_state
terminal(const char *s)
{
	if (strcasecmp(s, "Succeeded") == 0)
		return LRO_SUCCEEDED;
	if (strcasecmp(s, "Failed") == 0 || strcasecmp(s, "Canceled") == 0 ||
	    strcasecmp(s, "Cancelled") == 0)
		return LRO_FAILED;
	return LRO_RUNNING;
}

/* provisioning_state(body, out, len): properties.provisioningState, or "". */
static void
provisioning_state(const char *body, char *out, size_t len)
{
	json_t *root = json_loads(body, 0, NULL);

	out[0] = '\0';
	json_str(json_obj(root, "properties"), "provisioningState", out, len,
	    FIT_TRUNCATE, NULL, 0);
	json_decref(root);
}

static int64_t
next_delay_ms(const struct http_response *resp, int default_poll_s)
{
	if (resp->retry_after_ms >= 0)
		return resp->retry_after_ms;
	return (int64_t)default_poll_s * 1000;
}

/*
 * lro_wait(arm, ctx, method, url, resource_url, first, lro, err):
 * Wait for the operation started by ${method} ${url}, whose first response
 * is ${first}, to finish.  Return 0 when it succeeded, or -1 with ${err}
 * filled and logged (the operation's own error when it failed).
 */
static int
lro_wait(struct arm *arm, const char *ctx, const char *method, const char *url,
    const char *resource_url, const struct http_response *first,
    const struct arm_lro_options *lro, struct arm_error *err)
{
	enum { BY_ASYNC, BY_LOCATION, BY_STATE } mode;
	int deadline_s = ARM_DEFAULT_DEADLINE_S, poll_s = ARM_DEFAULT_POLL_S;
	struct http_response resp;
	const char *poll_url;
	char state[64], reason[512];
	int64_t deadline, delay, now;
	int polls = 0;

	if (lro != NULL && lro->deadline_s > 0)
		deadline_s = lro->deadline_s;
	if (lro != NULL && lro->default_poll_s > 0)
		poll_s = lro->default_poll_s;
	deadline = util_monotonic_ms() + (int64_t)deadline_s * 1000;

	if (first->async_operation != NULL &&
	    first->async_operation[0] != '\0') {
		mode = BY_ASYNC;
		poll_url = first->async_operation;
	} else if (first->location != NULL && first->location[0] != '\0') {
		mode = BY_LOCATION;
		poll_url = first->location;
	} else {
		/* no header: the resource's provisioningState tells */
		mode = BY_STATE;
		poll_url = resource_url;
		provisioning_state(body_of(first), state, sizeof(state));
		if (state[0] == '\0' || terminal(state) == LRO_SUCCEEDED)
			return 0;
		if (terminal(state) == LRO_FAILED)
			return fail_local(ctx, method, url, first, err,
			    "provisioningState %s", state);
	}
	if (arm_url_same_origin(arm, poll_url, reason, sizeof(reason)))
		return fail_local(
		    ctx, method, url, first, err, "polling URL: %s", reason);
	delay = next_delay_ms(first, poll_s);

	for (;;) {
		now = util_monotonic_ms();
		if (now >= deadline)
			return fail_local(ctx, method, url, NULL, err,
			    "operation still running after %d s (%d polls of "
			    "%s)",
			    deadline_s, polls, poll_url);
		util_sleep_ms(delay < deadline - now ? delay : deadline - now);
		polls++;
		if (call(arm, ctx, "GET", poll_url, NULL, NULL,
		        mode == BY_LOCATION ? ok_location_poll : ok_200, &resp,
		        err))
			return -1;
		if (mode == BY_LOCATION) {
			if (resp.status != 202) {
				http_response_free(&resp);
				return 0;
			}
		} else if (mode == BY_ASYNC) {
			struct arm_error op;

			memset(&op, 0, sizeof(op));
			if (arm_operation_status_parse(body_of(&resp), state,
			        sizeof(state), &op, reason, sizeof(reason))) {
				parse_fail(
				    ctx, "GET", poll_url, &resp, reason, err);
				http_response_free(&resp);
				return -1;
			}
			if (terminal(state) == LRO_SUCCEEDED) {
				http_response_free(&resp);
				return 0;
			}
			if (terminal(state) == LRO_FAILED) {
				*err = op;
				err->status = resp.status;
				util_strlcpy(err->request_id, resp.request_id,
				    sizeof(err->request_id));
				util_strlcpy(err->correlation_id,
				    resp.correlation_id,
				    sizeof(err->correlation_id));
				if (err->code[0] == '\0')
					util_strlcpy(err->code, state,
					    sizeof(err->code));
				if (err->message[0] == '\0')
					snprintf(err->message,
					    sizeof(err->message),
					    "operation %s", state);
				arm_log_failure(ctx, method, url, err);
				http_response_free(&resp);
				return -1;
			}
		} else {
			provisioning_state(
			    body_of(&resp), state, sizeof(state));
			if (terminal(state) == LRO_SUCCEEDED ||
			    state[0] == '\0') {
				http_response_free(&resp);
				return 0;
			}
			if (terminal(state) == LRO_FAILED) {
				fail_local(ctx, method, url, &resp, err,
				    "provisioningState %s", state);
				http_response_free(&resp);
				return -1;
			}
		}
		delay = next_delay_ms(&resp, poll_s);
		http_response_free(&resp);
	}
}

/*
 * pool_lro(arm, ctx, method, pool_id, suffix, body, headers, ok, lro, out,
 *     err):
 * Start an agent pool operation, wait for it, GET the pool into ${out}.
 */
static int
pool_lro(struct arm *arm, const char *ctx, const char *method,
    const char *pool_id, const char *suffix, const char *body,
    const char *const *headers, const long *ok,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err)
{
	struct http_response resp;
	char *url = NULL, *pool_url = NULL;
	int rc = -1;

	url = url_for(arm, pool_id, suffix);
	pool_url = url_for(arm, pool_id, "");
	if (url == NULL || pool_url == NULL) {
		fail_local(ctx, method, pool_id, NULL, err, "out of memory");
		goto err0;
	}
	if (call(arm, ctx, method, url, body, headers, ok, &resp, err))
		goto err0;
	if (lro_wait(arm, ctx, method, url, pool_url, &resp, lro, err))
		goto err1;
	rc = arm_agent_pool_get(arm, ctx, pool_id, out, err);
err1:
	http_response_free(&resp);
err0:
	free(pool_url);
	free(url);
	return rc;
}

/* header_value_ok(v): no CR, LF or other control byte (header injection). */
static int
header_value_ok(const char *v)
{
	for (; *v != '\0'; v++) {
		if (iscntrl((unsigned char)*v))
			return 0;
	}
	return 1;
}

int
arm_agent_pool_create_from_snapshot(struct arm *arm, const char *ctx,
    const char *pool_id, const struct arm_snapshot *snapshot,
    const char *orchestrator_version, int count,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err)
{
	char *body;
	int rc;

	error_clear(err);
	memset(out, 0, sizeof(*out));
	body =
	    arm_agent_pool_create_body(snapshot, orchestrator_version, count);
	if (body == NULL)
		return fail_local(ctx, "PUT", pool_id, NULL, err,
		    "cannot build the agent pool body");
	rc = pool_lro(arm, ctx, "PUT", pool_id, "", body, NULL, ok_lro_put, lro,
	    out, err);
	free(body);
	return rc;
}

int
arm_agent_pool_put_from_snapshot(struct arm *arm, const char *ctx,
    const char *pool_id, const struct arm_agent_pool *base,
    const struct arm_snapshot *snapshot, const char *orchestrator_version,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err)
{
	struct http_response resp;
	struct arm_agent_pool fresh;
	const char *ov = orchestrator_version != NULL
	    ? orchestrator_version
	    : snapshot->kubernetes_version;
	const char *headers[2] = {NULL, NULL};
	char reason[256], if_match[160];
	char *url = NULL, *body = NULL;
	int rc = -1;

	if (base == NULL)
		return arm_agent_pool_create_from_snapshot(arm, ctx, pool_id,
		    snapshot, orchestrator_version, ARM_DEFAULT_POOL_COUNT, lro,
		    out, err);
	error_clear(err);
	memset(out, 0, sizeof(*out));
	/* the whole pool as ARM has it now: every writable property goes back
	 */
	if (get_resource(arm, ctx, pool_id, &resp, &url, err))
		goto err0;
	if (arm_agent_pool_parse(
	        body_of(&resp), &fresh, reason, sizeof(reason))) {
		parse_fail(ctx, "GET", url, &resp, reason, err);
		goto err1;
	}
	body = arm_agent_pool_upgrade_body(
	    body_of(&resp), snapshot->id, ov, reason, sizeof(reason));
	if (body == NULL) {
		fail_local(ctx, "PUT", url, NULL, err, "%s", reason);
		goto err1;
	}
	/* optimistic concurrency: the pool the caller decided on, or newer */
	if (base->etag[0] != '\0' || fresh.etag[0] != '\0') {
		const char *etag =
		    base->etag[0] != '\0' ? base->etag : fresh.etag;

		if (!header_value_ok(etag)) {
			fail_local(ctx, "PUT", url, NULL, err, "invalid eTag");
			goto err1;
		}
		snprintf(if_match, sizeof(if_match), "If-Match: %s", etag);
		headers[0] = if_match;
	}
	rc = pool_lro(arm, ctx, "PUT", pool_id, "", body, headers, ok_lro_put,
	    lro, out, err);
err1:
	free(body);
	http_response_free(&resp);
	free(url);
err0:
	return rc;
}

int
arm_agent_pool_upgrade_node_image(struct arm *arm, const char *ctx,
    const char *pool_id, const char *snapshot_id,
    const struct arm_lro_options *lro, struct arm_agent_pool *out,
    struct arm_error *err)
{
	const char *headers[2] = {NULL, NULL};
	char *hdr = NULL;
	int rc;

	error_clear(err);
	memset(out, 0, sizeof(*out));
	if (snapshot_id != NULL && snapshot_id[0] != '\0') {
		if (!header_value_ok(snapshot_id))
			return fail_local(ctx, "POST", pool_id, NULL, err,
			    "invalid snapshot id");
		/* not in the swagger: what az aks nodepool upgrade sends */
		if (asprintf(&hdr, "AKSSnapshotId: %s", snapshot_id) < 0)
			return fail_local(
			    ctx, "POST", pool_id, NULL, err, "out of memory");
		headers[0] = hdr;
	}
	rc = pool_lro(arm, ctx, "POST", pool_id, "/upgradeNodeImageVersion",
	    NULL, headers, ok_lro_post, lro, out, err);
	free(hdr);
	return rc;
}

void
arm_agent_pool_versions(const struct arm_agent_pool *a, struct db_versions *v)
{
	memset(v, 0, sizeof(*v));
	util_strlcpy(v->node_image_version, a->node_image_version,
	    sizeof(v->node_image_version));
	util_strlcpy(v->kubernetes_version,
	    a->current_orchestrator_version[0] != '\0'
	        ? a->current_orchestrator_version
	        : a->orchestrator_version,
	    sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, a->os_type, sizeof(v->os_type));
	util_strlcpy(v->os_sku, a->os_sku, sizeof(v->os_sku));
	util_strlcpy(v->vm_size, a->vm_size, sizeof(v->vm_size));
	v->enable_fips = a->enable_fips;
}

void
arm_snapshot_versions(const struct arm_snapshot *s, struct db_versions *v)
{
	memset(v, 0, sizeof(*v));
	util_strlcpy(v->node_image_version, s->node_image_version,
	    sizeof(v->node_image_version));
	util_strlcpy(v->kubernetes_version, s->kubernetes_version,
	    sizeof(v->kubernetes_version));
	util_strlcpy(v->os_type, s->os_type, sizeof(v->os_type));
	util_strlcpy(v->os_sku, s->os_sku, sizeof(v->os_sku));
	util_strlcpy(v->vm_size, s->vm_size, sizeof(v->vm_size));
	v->enable_fips = s->enable_fips;
}

/* ---- Kubernetes versions a location offers ---- */

int
arm_k8s_versions_parse(
    const char *body, struct arm_k8s_versions *out, char *err, size_t errlen)
{
	json_t *root, *values, *e, *pv, *x;
	const char *k;
	size_t i;

	out->n = 0;
	root = parse_object(body, body != NULL ? strlen(body) : 0, err, errlen);
	if (root == NULL)
		return -1;
	/* "values", not "value", and no nextLink (NOTES.md 8.1). */
	values = json_object_get(root, "values");
	if (!json_is_array(values)) {
		seterr(err, errlen, "no \"values\" array");
		json_decref(root);
		return -1;
	}
	json_array_foreach(values, i, e)
	{
		pv = json_obj(e, "patchVersions");
		json_object_foreach(pv, k, x)
		{
			(void)x;
			if (out->n == ARM_MAX_K8S_VERSIONS) {
				seterr(err, errlen, "more than %d versions",
				    ARM_MAX_K8S_VERSIONS);
				json_decref(root);
				return -1;
			}
			if (util_strlcpy(out->patches[out->n], k,
			        sizeof(out->patches[0])) <
			    sizeof(out->patches[0]))
				out->n++;
		}
	}
	json_decref(root);
	return 0;
}

static int
parse_k8s_versions_v(const char *body, void *out, char *err, size_t errlen)
{
	return arm_k8s_versions_parse(body, out, err, errlen);
}

int
arm_k8s_versions_get(struct arm *arm, const char *ctx, const char *sub,
    const char *location, const struct arm_k8s_versions **out,
    struct arm_error *err)
{
	struct arm_k8s_versions *n;
	char id[512];

	for (size_t i = 0; i < arm->nk8s; i++) {
		if (strcasecmp(arm->k8s[i].location, location) == 0) {
			*out = &arm->k8s[i];
			return 0;
		}
	}
	n = realloc(arm->k8s, (arm->nk8s + 1) * sizeof(*arm->k8s));
	if (n == NULL) {
		error_clear(err);
		util_strlcpy(
		    err->message, "out of memory", sizeof(err->message));
		return -1;
	}
	arm->k8s = n;
	memset(&n[arm->nk8s], 0, sizeof(*n));
	snprintf(id, sizeof(id),
	    "/subscriptions/%s/providers/Microsoft.ContainerService/"
	    "locations/%s/kubernetesVersions",
	    sub, location);
	if (get_parsed(arm, ctx, id, parse_k8s_versions_v, &n[arm->nk8s], err))
		return -1;
	util_strlcpy(
	    n[arm->nk8s].location, location, sizeof(n[arm->nk8s].location));
	*out = &n[arm->nk8s++];
	return 0;
}

int
arm_k8s_versions_has(const struct arm_k8s_versions *v, const char *version)
{
	size_t vl = strlen(version);
	int dots = 0;

	for (size_t i = 0; i < vl; i++)
		dots += version[i] == '.';
	for (size_t i = 0; i < v->n; i++) {
		if (strcmp(v->patches[i], version) == 0)
			return 1;
		/* x.y: the minor of x.y.z */
		if (dots == 1 && strncmp(v->patches[i], version, vl) == 0 &&
		    v->patches[i][vl] == '.')
			return 1;
	}
	return 0;
}

/* ---- managed cluster creation ---- */

int
arm_cluster_get_json(struct arm *arm, const char *ctx, const char *cluster_id,
    char **body, struct arm_error *err)
{
	struct http_response resp;
	char *url = NULL;

	*body = NULL;
	error_clear(err);
	if (get_resource(arm, ctx, cluster_id, &resp, &url, err))
		return -1;
	*body = strdup(body_of(&resp));
	http_response_free(&resp);
	free(url);
	if (*body == NULL)
		return fail_local(
		    ctx, "GET", cluster_id, NULL, err, "out of memory");
	return 0;
}

int
arm_cluster_create(struct arm *arm, const char *ctx, const char *cluster_id,
    const char *body, const struct arm_lro_options *lro,
    struct arm_cluster *out, struct arm_error *err)
{
	struct http_response resp;
	char *url;
	char reason[256];
	char *got = NULL;
	int rc = -1;

	error_clear(err);
	memset(out, 0, sizeof(*out));
	url = url_for(arm, cluster_id, "");
	if (url == NULL)
		return fail_local(
		    ctx, "PUT", cluster_id, NULL, err, "out of memory");
	if (call(arm, ctx, "PUT", url, body, NULL, ok_lro_put, &resp, err))
		goto err0;
	if (lro_wait(arm, ctx, "PUT", url, url, &resp, lro, err))
		goto err1;
	if (arm_cluster_get_json(arm, ctx, cluster_id, &got, err))
		goto err1;
	if (arm_cluster_parse(got, out, reason, sizeof(reason))) {
		fail_local(ctx, "GET", url, NULL, err, "unreadable cluster: %s",
		    reason);
		goto err1;
	}
	rc = 0;
err1:
	free(got);
	http_response_free(&resp);
err0:
	free(url);
	return rc;
}

int
arm_resource_exists(struct arm *arm, const char *ctx, const char *id,
    int *exists, struct arm_error *err)
{
	static const long ok_200_404[] = {200, 404, 0};
	struct http_response resp;
	char *url;
	int rc;

	error_clear(err);
	url = url_for(arm, id, "");
	if (url == NULL)
		return fail_local(ctx, "GET", id, NULL, err, "out of memory");
	rc = call(arm, ctx, "GET", url, NULL, NULL, ok_200_404, &resp, err);
	if (rc == 0) {
		*exists = resp.status == 200;
		http_response_free(&resp);
	}
	free(url);
	return rc;
}
