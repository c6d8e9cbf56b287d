/*
 * main.c -- armemu: a stand-in for Azure Resource Manager and the token
 * endpoints, for aksnap's tests, `make demo` and `make bench`.
 *
 * The HTTP side is libmicrohttpd with one thread per connection, so an
 * injected latency (a plain sleep in the handler, taken without the state
 * lock) delays only its own request: a thousand concurrent requests with
 * 50 ms latency finish together.  Each request is taken apart into a route
 * (route_classify, arm.c), matched against the fault rules, then answered
 * by the token endpoints (token.c) or the ARM routes (arm.c) under the one
 * state lock.  Every answer gets ARM's tracing headers, is counted per
 * route and status, and is appended to a capped in-memory request log.
 *
 * The control API under /_armemu/ needs no token, is never faulted, and is
 * neither counted nor logged, so a test can read counters without moving
 * them.  `armemu --help` documents the flags and the control API.
 */

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "armemu.h"

struct emu_state emu = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A fault rule: what to match and what to do. */
struct fault {
	int id;
	char method[16]; /* "" = any */
	char path[512]; /* fnmatch glob over the path, "" = any */
	char action[16]; /* status latency drop garbage truncated lro_fail omit
	                    put_empty put_other delete_noop patch_noop lro_noop
	                  */
	int status;
	int retry_after; /* -1: no header */
	char error_code[64];
	char message[256];
	char name[128]; /* omit: glob over the names left out of "value";
	                   put_other: the name the answer gives */
	long latency_ms;
	long count; /* remaining matches, -1 unlimited */
	double probability;
	long hits;
};

struct logent {
	uint64_t seq;
	double time;
	int64_t time_ms;
	int64_t duration_ms;
	char method[12];
	char *path;
	char *query;
	int status;
	char client_request_id[80];
	char request_id[37];
	char route[64];
};

struct counter {
	char *key;
	long n;
};

/* Per-connection request state between libmicrohttpd's callbacks. */
struct request {
	char *body;
	size_t len;
	size_t cap;
	int too_big;
	int tracked; /* counted in in_flight (until answered) */
	int64_t start_ms;
};

static struct fault *faults;
static size_t nfaults;
static int next_fault_id = 1;
static struct counter *counters;
static size_t ncounters;
static struct logent *reqlog;
static size_t log_head, log_len;
static uint64_t log_seq;
static long in_flight, max_in_flight, total_requests;
static int64_t start_ms;
static FILE *log_fp;

static const char *const usage_text[] = {
    "usage: armemu [--port N] [--fleet FILE | --generate C:P[:S]] [options]\n"
    "\n",
    "A stand-in for Azure Resource Manager (Microsoft.ContainerService "
    "managed\n"
    "clusters, agent pools, node pool snapshots, long-running operations) and\n"
    "the Entra ID / IMDS token endpoints.  Binds 127.0.0.1 only; prints the\n"
    "chosen port alone on the first line of stdout; stops on SIGTERM/SIGINT.\n"
    "\n",
    "Flags:\n"
    "  --port N              port to listen on; 0 (default) = ephemeral\n"
    "  --fleet FILE          load the fleet (JSON, see "
    "tests/armemu/README.md)\n"
    "  --generate C:P[:S]    generate C clusters with P pools each over S\n"
    "                        subscriptions (default 1).  Names: subscriptions\n"
    "                        00000000-0000-0000-0000-00000000000N (N = 1..S,\n"
    "                        12 digits), cluster i (1..C) is aks-i in rg-R "
    "with\n"
    "                        R = (i-1)/10+1, subscription ((i-1) mod S)+1, "
    "location\n"
    "                        westeurope/northeurope/eastus/westus2 by i mod "
    "4;\n"
    "                        pools pool0 (System) .. pool<P-1> (User); "
    "Kubernetes\n"
    "                        1.29.9/1.30.5/1.31.2 by i mod 3; node images\n"
    "                        AKSUbuntu-2204gen2containerd-2026MM.DD.0 (every "
    "7th\n"
    "                        pool AzureLinux: AKSAzureLinux-V2gen2-...), VM "
    "sizes\n"
    "                        Standard_D2s_v5/D4s_v5/D8s_v5, FIPS on pool2 of "
    "odd\n"
    "                        clusters.  Every name and version is "
    "deterministic.\n"
    "  --token-ttl SECONDS   lifetime of issued tokens (default 3600)\n"
    "  --tenant ID           accepted tenant (default " EMU_DEFAULT_TENANT ")\n"
    "  --client-id ID        accepted client id (default " EMU_DEFAULT_CLIENT_ID
    ")\n"
    "  --client-secret S     accepted client secret "
    "(default " EMU_DEFAULT_CLIENT_SECRET ")\n"
    "  --client-cert PEM     certificate whose key verifies client assertions\n"
    "                        (RS256 JWT; header x5t = base64url SHA-1 "
    "thumbprint;\n"
    "                        aud = the token URL, iss = sub = client id, "
    "exp/nbf)\n"
    "  --federated-token-file FILE\n"
    "                        workload identity: a client_assertion equal to "
    "the\n"
    "                        file's content (read at each request) is "
    "accepted\n"
    "  --page-size N         list page size (default 100); pages link by "
    "nextLink\n"
    "  --lro-polls N         status polls that answer InProgress before the\n"
    "                        operation ends (default 2; 0 = done at once)\n"
    "  --lro-headers MODE    how long-running answers point at the operation:\n"
    "                        both (default): Azure-AsyncOperation (and\n"
    "                        Location on DELETE and upgradeNodeImageVersion);\n"
    "                        location: Location only (operationresults: 202\n"
    "                        with Retry-After while running, then 200/204);\n"
    "                        none: no header; the pool's provisioningState\n"
    "                        stays Creating/Updating/Upgrading.. and each GET\n"
    "                        of the pool counts as one poll\n"
    "  --retry-after N       Retry-After seconds on long-running answers "
    "(default 1)\n"
    "  --tls-cert PEM --tls-key PEM\n"
    "                        serve HTTPS with this certificate and key\n"
    "  --log FILE            append one line per request (time method path "
    "status\n"
    "                        route client-request-id request-id)\n"
    "  --threads N           use a pool of N threads instead of one thread "
    "per\n"
    "                        connection (then latency faults block a worker)\n"
    "  --log-cap N           keep the last N requests in memory (default "
    "200000)\n",
    "  --notes-dir DIR       serve node image release notes: GET "
    "/_notes/PATH\n"
    "                        answers DIR/PATH as text/plain (404 when "
    "absent);\n"
    "                        counted as notes.get and faultable like ARM\n"
    "  --help                this text\n"
    "\n",
    "Token endpoints:\n"
    "  POST /{tenant}/oauth2/v2.0/token   form: "
    "grant_type=client_credentials,\n"
    "       client_id, scope=https://management.azure.com/.default, and\n"
    "       client_secret or client_assertion_type=urn:ietf:params:oauth:\n"
    "       client-assertion-type:jwt-bearer + client_assertion\n"
    "  GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=\n"
    "       https://management.azure.com/  (header Metadata: true required)\n"
    "  Tokens expire by REAL time (not the simulated clock), so --as-of runs\n"
    "  keep working.  ARM calls need Authorization: Bearer <issued token>.\n"
    "\n",
    "ARM routes (api-version required; >= 2021-08-01, YYYY-MM-DD[-preview]):\n"
    "  GET  "
    "/subscriptions/S[/resourceGroups/RG]/providers/Microsoft.ContainerService/"
    "managedClusters\n"
    "  GET|PUT .../managedClusters/C\n"
    "  GET  .../managedClusters/C/agentPools\n"
    "  GET|PUT|DELETE .../managedClusters/C/agentPools/P   (PUT, DELETE: LRO)\n"
    "  POST .../agentPools/P/upgradeNodeImageVersion (LRO; honours "
    "AKSSnapshotId)\n"
    "  GET  .../managedClusters/C/operations/ID (preview operation status)\n"
    "  GET  "
    "/subscriptions/S/providers/Microsoft.ContainerService/locations/L/"
    "kubernetesVersions\n"
    "  GET  "
    "/subscriptions/S[/resourceGroups/RG]/providers/Microsoft.ContainerService/"
    "snapshots\n"
    "  GET|PUT|PATCH|DELETE "
    ".../resourceGroups/RG/providers/Microsoft.ContainerService/snapshots/N\n"
    "  GET  /providers/Microsoft.ContainerService/locations/L/operations/ID\n"
    "  GET  "
    "/subscriptions/S/providers/Microsoft.ContainerService/locations/L/"
    "operationresults/ID\n"
    "  Counter route names: token.v2 token.imds managedClusters.list\n"
    "  managedClusters.get managedClusters.put agentPools.list agentPools.get\n"
    "  agentPools.put agentPools.delete agentPools.upgradeNodeImageVersion\n"
    "  snapshots.list snapshots.get snapshots.put snapshots.patch\n"
    "  snapshots.delete operations.get operationresults.get\n"
    "  kubernetesVersions.list unknown\n"
    "\n",
    "Control API (no auth, never faulted, not counted or logged):\n"
    "  GET  /_armemu/state          pools (versions, provisioningState, busy) "
    "and\n"
    "                               snapshots (id, name, tags, properties, "
    "createdAt)\n"
    "  GET  /_armemu/requests[?since=SEQ]  request log: seq, time (RFC 3339, "
    "ms,\n"
    "                               real clock), time_ms (monotonic ms since "
    "start),\n"
    "                               duration_ms, method, path, query, status "
    "(0 =\n"
    "                               dropped), client_request_id, request_id, "
    "route\n"
    "  GET  /_armemu/counters       {\"METHOD route\": n, \"METHOD route "
    "STATUS\": n}\n"
    "  GET  /_armemu/stats          in_flight, max_in_flight, requests, "
    "rss_kb\n"
    "  POST /_armemu/reset-counters clear counters, request log, "
    "max_in_flight\n"
    "  GET  /_armemu/clock          {\"now\": ..., \"frozen\": bool}\n"
    "  POST /_armemu/clock          {\"now\":\"RFC3339\"} | "
    "{\"advance\":\"1d\"}\n"
    "                               [, \"frozen\": true]  (\"real\": true "
    "resets)\n"
    "  POST /_armemu/release        {\"subscription\"?, \"resourceGroup\"?,\n"
    "                               \"cluster\"?, \"pool\"?, "
    "\"nodeImageVersion\"?,\n"
    "                               \"kubernetesVersion\"?, \"apply\"?: true}\n"
    "                               omitted selectors match all; omitted image "
    "=\n"
    "                               each pool's image one week newer; "
    "apply=false\n"
    "                               only makes it the latest "
    "(upgradeNodeImageVersion)\n"
    "  POST /_armemu/faults         {\"method\"?, \"path\"? (glob), "
    "\"action\":\n"
    "                               "
    "status|latency|drop|garbage|truncated|lro_fail|omit|\n"
    "                               "
    "put_empty|put_other|delete_noop|patch_noop|lro_noop,\n"
    "                               \"status\"?, \"retry_after\"?, "
    "\"error_code\"?,\n"
    "                               \"message\"?, \"latency_ms\"?, "
    "\"count\"?,\n"
    "                               \"probability\"?, \"name\"?}  -> {\"id\": "
    "n}; count "
    "defaults\n"
    "                               to 1, or unlimited (-1) with a "
    "probability;\n"
    "                               omit: a list answer leaves out of "
    "\"value\" the\n"
    "                               items whose name matches the \"name\" "
    "glob\n"
    "                               (GET by id still finds them)\n"
    "                               lies (answer as if done, do nothing):\n"
    "                               put_empty: snapshot PUT 201 {} and "
    "nothing made\n"
    "                               put_other: snapshot PUT 201 naming "
    "\"name\"\n"
    "                               (default <asked>-other), nothing made\n"
    "                               delete_noop: snapshot DELETE 200, "
    "nothing deleted\n"
    "                               patch_noop: snapshot PATCH 200, tags "
    "unchanged\n"
    "                               lro_noop: agent pool PUT or "
    "upgradeNodeImageVersion\n"
    "                               ends Succeeded with the pool's "
    "versions unchanged\n"
    "                               (a created pool: latest image, "
    "cluster's version)\n"
    "  GET  /_armemu/faults         the rules and their hits\n"
    "  DELETE /_armemu/faults[/ID]  remove all rules (or one)\n"
    "  POST /_armemu/snapshots      add a foreign snapshot (GET shape plus\n"
    "                               \"subscription\", \"resourceGroup\")\n"
    "  POST /_armemu/pools/busy     {\"subscription\"?, \"resourceGroup\", "
    "\"cluster\",\n"
    "                               \"pool\", \"busy\": bool, "
    "\"operationId\"?}\n"
    "                               writes to a busy pool get 409\n"
    "  POST /_armemu/clusters/delete {\"subscription\"?, \"resourceGroup\", "
    "\"cluster\"}\n",
    "  POST /_armemu/clusters/auto-upgrade-profile {\"subscription\"?,\n"
    "                               \"resourceGroup\"?, \"cluster\", "
    "\"upgradeChannel\"?,\n"
    "                               \"nodeOSUpgradeChannel\"?, \"remove\"?}\n",
    /* split: C99 guarantees string literals of 4095 bytes */
    "  POST /_armemu/auto-upgrade   the weekly upgrade: {selectors as "
    "release,\n"
    "                               \"nodeImageVersion\"?, \"release\"?: "
    "true}\n"
    "                               releases a newer image to every matching "
    "pool;\n"
    "                               pools of clusters whose channels re-image "
    "take it\n"
    "                               -> {\"released\": n, \"reimaged\": m}\n"
    "  POST /_armemu/kubernetes-versions {\"location\", \"versions\": "
    "[x.y.z...],\n"
    "                               \"preview\"?: [x.y...]} replaces that "
    "location's list\n"
    "  POST /_armemu/tokens/expire  every issued token is expired now\n"
    "  GET  /_armemu/tokens         {\"tokens\": [every token issued, expired "
    "too]}\n"
    "  POST /_armemu/ratelimit      {\"subscription\", \"remaining\"}: the "
    "value of\n"
    "                               x-ms-ratelimit-remaining-subscription-* "
    "(counts\n"
    "                               down per request; -1 = back to the "
    "default)\n",
};

static void
usage(FILE *out)
{
	size_t i;

	for (i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++)
		fputs(usage_text[i], out);
}

/* ------------------------------------------------------------------ */
/* answering                                                          */

void
ctx_header(struct ctx *c, const char *name, const char *value)
{
	if (c->nheaders >= EMU_MAX_HEADERS)
		return;
	snprintf(c->hname[c->nheaders], sizeof(c->hname[0]), "%s", name);
	c->hvalue[c->nheaders] = emu_strdup(value);
	c->nheaders++;
}

const char *
ctx_query(struct ctx *c, const char *key)
{
	return MHD_lookup_connection_value(
	    (struct MHD_Connection *)c->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *
ctx_request_header(struct ctx *c, const char *name)
{
	return MHD_lookup_connection_value(
	    (struct MHD_Connection *)c->conn, MHD_HEADER_KIND, name);
}

void
ctx_json(struct ctx *c, int status, json_t *body)
{
	c->status = status;
	json_decref(c->json);
	c->json = body;
}

void
ctx_arm_error(struct ctx *c, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx_json(c, status,
	    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

/* ------------------------------------------------------------------ */
/* counters and the request log (emu.lock held)                       */

static void
counter_add(const char *key)
{
	size_t i;
	struct counter *n;

	for (i = 0; i < ncounters; i++) {
		if (strcmp(counters[i].key, key) == 0) {
			counters[i].n++;
			return;
		}
	}
	n = realloc(counters, (ncounters + 1) * sizeof(*counters));
	if (n == NULL)
		return;
	counters = n;
	counters[ncounters].key = strdup(key);
	if (counters[ncounters].key == NULL)
		return;
	counters[ncounters].n = 1;
	ncounters++;
}

static void
logent_clear(struct logent *e)
{
	free(e->path);
	free(e->query);
	e->path = NULL;
	e->query = NULL;
}

static void
log_reset(void)
{
	size_t i;

	for (i = 0; i < log_len; i++)
		logent_clear(&reqlog[(log_head + i) % (size_t)emu.cfg.log_cap]);
	log_head = 0;
	log_len = 0;
}

static void
log_add(const struct ctx *c, const char *method, const char *query,
    const char *crid, const char *rid, int64_t t0)
{
	struct logent *e;
	size_t cap = (size_t)emu.cfg.log_cap;
	char when[40];

	if (reqlog == NULL) {
		reqlog = calloc(cap, sizeof(*reqlog));
		if (reqlog == NULL)
			return;
	}
	if (log_len == cap) {
		logent_clear(&reqlog[log_head]);
		log_head = (log_head + 1) % cap;
		log_len--;
	}
	e = &reqlog[(log_head + log_len) % cap];
	log_len++;
	e->seq = ++log_seq;
	e->time = emu_real_now();
	e->time_ms = emu_mono_ms() - start_ms;
	e->duration_ms = emu_mono_ms() - t0;
	snprintf(e->method, sizeof(e->method), "%s", method);
	e->path = emu_strdup(c->path);
	e->query = emu_strdup(query);
	e->status = c->status;
	snprintf(e->client_request_id, sizeof(e->client_request_id), "%s",
	    crid ? crid : "");
	snprintf(e->request_id, sizeof(e->request_id), "%s", rid);
	snprintf(e->route, sizeof(e->route), "%s", c->route);
	if (log_fp != NULL) {
		emu_format_time(e->time, 3, when, sizeof(when));
		fprintf(log_fp, "%s %s %s %d %s %s %s\n", when, method, c->path,
		    c->status, c->route, crid ? crid : "-", rid);
		fflush(log_fp);
	}
}

/* ------------------------------------------------------------------ */
/* faults                                                             */

/*
 * Find the first rule matching this request that fires (count left and
 * the probability roll); copy it to ${out}.  emu.lock held.
 */
static int
fault_match(const char *method, const char *path, struct fault *out)
{
	size_t i;

	for (i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];

		if (f->count == 0)
			continue;
		if (f->method[0] != '\0' && strcasecmp(f->method, method) != 0)
			continue;
		if (f->path[0] != '\0' &&
		    fnmatch(f->path, path, FNM_CASEFOLD) != 0)
			continue;
		if (f->probability > 0 && f->probability < 1 &&
		    drand48() >= f->probability)
			continue;
		if (f->count > 0)
			f->count--;
		f->hits++;
		*out = *f;
		return 1;
	}
	return 0;
}

static const char *
default_code(int status)
{
	switch (status) {
	case 400:
		return "BadRequest";
	case 401:
		return "InvalidAuthenticationToken";
	case 403:
		return "AuthorizationFailed";
	case 404:
		return "NotFound";
	case 408:
		return "RequestTimeout";
	case 409:
		return "Conflict";
	case 429:
		return "TooManyRequests";
	case 500:
		return "InternalServerError";
	case 502:
		return "BadGateway";
	case 503:
		return "ServiceUnavailable";
	case 504:
		return "GatewayTimeout";
	default:
		return "Error";
	}
}

/*
 * The "omit" fault: drop from a list answer's "value" the items whose
 * name matches ${glob} (an eventually consistent listing that has not
 * caught up yet).  Anything but a 200 list answer is left alone.
 */
static void
omit_items(struct ctx *c, const char *glob)
{
	json_t *value, *item;
	const char *name;
	size_t i;

	if (c->status != 200 || c->json == NULL)
		return;
	value = json_object_get(c->json, "value");
	if (!json_is_array(value))
		return;
	i = 0;
	while (i < json_array_size(value)) {
		item = json_array_get(value, i);
		name = json_string_value(json_object_get(item, "name"));
		if (name != NULL && fnmatch(glob, name, FNM_CASEFOLD) == 0)
			json_array_remove(value, i);
		else
			i++;
	}
}

static void
fault_answer(struct ctx *c, const struct fault *f, const struct route *r)
{
	char ra[32];

	if (strcmp(f->action, "garbage") == 0) {
		c->status = f->status > 0 ? f->status : 200;
		c->raw = strdup("<html><head><title>502 Bad Gateway</title>"
		                "</head><body>502 Bad Gateway</body></html>\n");
		c->content_type = "text/html";
		return;
	}
	if (strcmp(f->action, "truncated") == 0) {
		c->status = f->status > 0 ? f->status : 200;
		c->raw = strdup("{\"value\":[{\"name\":\"snap");
		return;
	}
	/* status */
	if (r->kind == R_TOKEN_V2 || r->kind == R_TOKEN_IMDS) {
		ctx_json(c, f->status,
		    json_pack("{s:s,s:s}", "error",
		        f->error_code[0] ? f->error_code
		                         : "temporarily_unavailable",
		        "error_description",
		        f->message[0] ? f->message
		                      : "AADSTS50196: injected by armemu"));
	} else {
		ctx_arm_error(c, f->status,
		    f->error_code[0] ? f->error_code : default_code(f->status),
		    "%s",
		    f->message[0] ? f->message
		                  : "Injected by an armemu fault rule.");
	}
	if (f->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", f->retry_after);
		ctx_header(c, "Retry-After", ra);
	}
}

static json_t *
fault_json(const struct fault *f)
{
	return json_pack("{s:i,s:s,s:s,s:s,s:i,s:i,s:s,s:s,s:I,s:I,s:f,s:I}",
	    "id", f->id, "method", f->method, "path", f->path, "action",
	    f->action, "status", f->status, "retry_after", f->retry_after,
	    "error_code", f->error_code, "name", f->name, "latency_ms",
	    (json_int_t)f->latency_ms, "count", (json_int_t)f->count,
	    "probability", f->probability, "hits", (json_int_t)f->hits);
}

/*
 * The lying faults: the route answers as if it had done its work and does
 * not (arm.c reads ctx.lie).  A request they do not fit is answered
 * normally.
 */
static int
is_lie(const char *action)
{
	return strcmp(action, "put_empty") == 0 ||
	    strcmp(action, "put_other") == 0 ||
	    strcmp(action, "delete_noop") == 0 ||
	    strcmp(action, "patch_noop") == 0 ||
	    strcmp(action, "lro_noop") == 0;
}

static int
fault_add(json_t *j, char *err, size_t errlen)
{
	struct fault f, *n;
	json_t *v;
	const char *s;

	memset(&f, 0, sizeof(f));
	f.retry_after = -1;
	f.count = 1;
	if ((s = json_string_value(json_object_get(j, "method"))) != NULL)
		snprintf(f.method, sizeof(f.method), "%s", s);
	if ((s = json_string_value(json_object_get(j, "path"))) != NULL)
		snprintf(f.path, sizeof(f.path), "%s", s);
	s = json_string_value(json_object_get(j, "action"));
	snprintf(f.action, sizeof(f.action), "%s", s ? s : "status");
	if (strcmp(f.action, "status") != 0 &&
	    strcmp(f.action, "latency") != 0 && strcmp(f.action, "drop") != 0 &&
	    strcmp(f.action, "garbage") != 0 &&
	    strcmp(f.action, "truncated") != 0 &&
	    strcmp(f.action, "lro_fail") != 0 &&
	    strcmp(f.action, "omit") != 0 && !is_lie(f.action)) {
		snprintf(err, errlen, "unknown action '%s'", f.action);
		return -1;
	}
	f.status = (int)json_integer_value(json_object_get(j, "status"));
	if (strcmp(f.action, "status") == 0 &&
	    (f.status < 100 || f.status > 599)) {
		snprintf(err, errlen, "action status needs a status 100..599");
		return -1;
	}
	if ((v = json_object_get(j, "retry_after")) != NULL)
		f.retry_after = (int)json_integer_value(v);
	if ((s = json_string_value(json_object_get(j, "error_code"))) != NULL)
		snprintf(f.error_code, sizeof(f.error_code), "%s", s);
	if ((s = json_string_value(json_object_get(j, "message"))) != NULL)
		snprintf(f.message, sizeof(f.message), "%s", s);
	if ((s = json_string_value(json_object_get(j, "name"))) != NULL)
		snprintf(f.name, sizeof(f.name), "%s", s);
	if (strcmp(f.action, "omit") == 0 && f.name[0] == '\0') {
		snprintf(err, errlen, "action omit needs a name glob");
		return -1;
	}
	f.latency_ms =
	    (long)json_integer_value(json_object_get(j, "latency_ms"));
	if (strcmp(f.action, "latency") == 0 && f.latency_ms <= 0) {
		snprintf(err, errlen, "action latency needs latency_ms > 0");
		return -1;
	}
	if ((v = json_object_get(j, "probability")) != NULL) {
		f.probability = json_number_value(v);
		f.count = -1;
	}
	if ((v = json_object_get(j, "count")) != NULL)
		f.count = (long)json_integer_value(v);
	if (f.count == 0)
		f.count = -1;
	n = realloc(faults, (nfaults + 1) * sizeof(*faults));
	if (n == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	faults = n;
	f.id = next_fault_id++;
	faults[nfaults++] = f;
	return f.id;
}

/* ------------------------------------------------------------------ */
/* the control API                                                    */

static long
rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = atol(line + 6);
			break;
		}
	}
	fclose(fp);
	return kb;
}

static json_t *
requests_json(uint64_t since)
{
	json_t *a = json_array();
	size_t i;
	char when[40];

	for (i = 0; i < log_len; i++) {
		struct logent *e =
		    &reqlog[(log_head + i) % (size_t)emu.cfg.log_cap];

		if (e->seq <= since)
			continue;
		emu_format_time(e->time, 3, when, sizeof(when));
		json_array_append_new(a,
		    json_pack("{s:I,s:s,s:I,s:I,s:s,s:s,s:s,s:i,s:s,s:s,s:s}",
		        "seq", (json_int_t)e->seq, "time", when, "time_ms",
		        (json_int_t)e->time_ms, "duration_ms",
		        (json_int_t)e->duration_ms, "method", e->method, "path",
		        e->path ? e->path : "", "query",
		        e->query ? e->query : "", "status", e->status,
		        "client_request_id", e->client_request_id, "request_id",
		        e->request_id, "route", e->route));
	}
	return a;
}

static void
control_clock(struct ctx *c, json_t *j)
{
	const char *now = json_string_value(json_object_get(j, "now"));
	const char *adv = json_string_value(json_object_get(j, "advance"));
	json_t *frozen = json_object_get(j, "frozen");
	double t, cur = emu_sim_now();
	long long secs;
	char buf[40];

	if (json_is_true(json_object_get(j, "real"))) {
		emu.clock_offset = 0;
		emu.clock_frozen = 0;
		cur = emu_real_now();
	}
	if (now != NULL) {
		if (emu_parse_time(now, &t) != 0) {
			ctx_arm_error(c, 400, "InvalidParameter",
			    "now: not an RFC 3339 time: %s", now);
			return;
		}
		cur = t;
	}
	if (adv != NULL) {
		if (emu_parse_duration(adv, &secs) != 0) {
			ctx_arm_error(c, 400, "InvalidParameter",
			    "advance: not a duration: %s", adv);
			return;
		}
		cur += (double)secs;
	}
	if (frozen != NULL)
		emu.clock_frozen = json_is_true(frozen);
	if (emu.clock_frozen)
		emu.frozen_at = cur;
	else
		emu.clock_offset = cur - emu_real_now();
	emu_format_time(emu_sim_now(), 3, buf, sizeof(buf));
	ctx_json(c, 200,
	    json_pack("{s:s,s:b}", "now", buf, "frozen", emu.clock_frozen));
}

static void
control_ratelimit(struct ctx *c, json_t *j)
{
	const char *sub = json_string_value(json_object_get(j, "subscription"));
	long rem = (long)json_integer_value(json_object_get(j, "remaining"));
	size_t i;
	struct ratelimit *n;

	if (sub == NULL) {
		ctx_arm_error(
		    c, 400, "InvalidParameter", "subscription missing");
		return;
	}
	for (i = 0; i < emu.nratelimits; i++) {
		if (strcasecmp(emu.ratelimits[i].sub, sub) == 0) {
			emu.ratelimits[i].remaining = rem;
			ctx_json(c, 200, json_object());
			return;
		}
	}
	n = realloc(emu.ratelimits, (emu.nratelimits + 1) * sizeof(*n));
	if (n == NULL) {
		ctx_arm_error(c, 500, "InternalServerError", "out of memory");
		return;
	}
	emu.ratelimits = n;
	snprintf(n[emu.nratelimits].sub, sizeof(n->sub), "%s", sub);
	n[emu.nratelimits].remaining = rem;
	emu.nratelimits++;
	ctx_json(c, 200, json_object());
}

/* Answer a /_armemu/ request.  emu.lock held. */
static void
control(struct ctx *c)
{
	const char *p = c->path + strlen("/_armemu/");
	const char *m = c->method;
	json_t *j = NULL;
	json_error_t jerr;
	char err[256] = "";
	size_t i;

	snprintf(c->route, sizeof(c->route), "control");
	if (strcmp(m, "POST") == 0) {
		j = json_loadb(c->body_len ? c->body : "{}",
		    c->body_len ? c->body_len : 2, 0, &jerr);
		if (!json_is_object(j)) {
			ctx_arm_error(c, 400, "InvalidRequestContent",
			    "control body is not a JSON object: %s", jerr.text);
			json_decref(j);
			return;
		}
	}
	if (strcmp(m, "GET") == 0 && strcmp(p, "state") == 0) {
		ctx_json(c, 200, state_dump());
	} else if (strcmp(m, "GET") == 0 && strcmp(p, "requests") == 0) {
		const char *since = ctx_query(c, "since");

		ctx_json(c, 200,
		    requests_json(since ? strtoull(since, NULL, 10) : 0));
	} else if (strcmp(m, "GET") == 0 && strcmp(p, "counters") == 0) {
		json_t *o = json_object();

		for (i = 0; i < ncounters; i++)
			json_object_set_new(
			    o, counters[i].key, json_integer(counters[i].n));
		ctx_json(c, 200, o);
	} else if (strcmp(m, "GET") == 0 && strcmp(p, "stats") == 0) {
		ctx_json(c, 200,
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "in_flight",
		        (json_int_t)in_flight, "max_in_flight",
		        (json_int_t)max_in_flight, "requests",
		        (json_int_t)total_requests, "rss_kb",
		        (json_int_t)rss_kb(), "pools_total", (json_int_t)0,
		        "snapshots", (json_int_t)emu.nsnaps));
		{
			size_t k, np = 0;

			for (k = 0; k < emu.nclusters; k++)
				if (!emu.clusters[k]->deleted)
					np += emu.clusters[k]->npools;
			json_object_set_new(c->json, "pools_total",
			    json_integer((json_int_t)np));
		}
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "reset-counters") == 0) {
		for (i = 0; i < ncounters; i++)
			free(counters[i].key);
		free(counters);
		counters = NULL;
		ncounters = 0;
		log_reset();
		max_in_flight = in_flight;
		total_requests = 0;
		ctx_json(c, 200, json_object());
	} else if (strcmp(p, "clock") == 0) {
		if (strcmp(m, "POST") == 0) {
			control_clock(c, j);
		} else {
			char buf[40];

			emu_format_time(emu_sim_now(), 3, buf, sizeof(buf));
			ctx_json(c, 200,
			    json_pack("{s:s,s:b}", "now", buf, "frozen",
			        emu.clock_frozen));
		}
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "release") == 0) {
		int n = 0;

		if (control_release(j, err, sizeof(err), &n) != 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 200, json_pack("{s:i}", "pools", n));
	} else if (strcmp(p, "faults") == 0 && strcmp(m, "POST") == 0) {
		int id = fault_add(j, err, sizeof(err));

		if (id < 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 200, json_pack("{s:i}", "id", id));
	} else if (strcmp(p, "faults") == 0 && strcmp(m, "GET") == 0) {
		json_t *a = json_array();

		for (i = 0; i < nfaults; i++)
			json_array_append_new(a, fault_json(&faults[i]));
		ctx_json(c, 200, a);
	} else if (strcmp(p, "faults") == 0 && strcmp(m, "DELETE") == 0) {
		free(faults);
		faults = NULL;
		nfaults = 0;
		ctx_json(c, 200, json_object());
	} else if (strncmp(p, "faults/", 7) == 0 && strcmp(m, "DELETE") == 0) {
		int id = atoi(p + 7), found = 0;

		for (i = 0; i < nfaults; i++) {
			if (faults[i].id == id) {
				memmove(&faults[i], &faults[i + 1],
				    (nfaults - i - 1) * sizeof(*faults));
				nfaults--;
				found = 1;
				break;
			}
		}
		if (found)
			ctx_json(c, 200, json_object());
		else
			ctx_arm_error(c, 404, "NotFound", "no fault %d", id);
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "snapshots") == 0) {
		if (fleet_add_snapshot_json(j, err, sizeof(err)) != 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 201, json_object());
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "pools/busy") == 0) {
		char opid[40] = "";

		if (control_busy(j, err, sizeof(err), opid, sizeof(opid)) != 0)
			ctx_arm_error(c, 404, "NotFound", "%s", err);
		else
			ctx_json(
			    c, 200, json_pack("{s:s}", "operationId", opid));
	} else if (strcmp(m, "POST") == 0 &&
	    strcmp(p, "clusters/delete") == 0) {
		if (control_cluster_delete(j, err, sizeof(err)) != 0)
			ctx_arm_error(c, 404, "NotFound", "%s", err);
		else
			ctx_json(c, 200, json_object());
	} else if (strcmp(m, "POST") == 0 &&
	    strcmp(p, "clusters/auto-upgrade-profile") == 0) {
		if (control_auto_upgrade_profile(j, err, sizeof(err)) != 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 200, json_object());
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "auto-upgrade") == 0) {
		int rel = 0, reimaged = 0;

		if (control_weekly_upgrade(
		        j, err, sizeof(err), &rel, &reimaged) != 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 200,
			    json_pack("{s:i,s:i}", "released", rel, "reimaged",
			        reimaged));
	} else if (strcmp(m, "POST") == 0 &&
	    strcmp(p, "kubernetes-versions") == 0) {
		if (kv_set(json_string_value(json_object_get(j, "location")),
		        json_object_get(j, "versions"),
		        json_object_get(j, "preview"), err, sizeof(err)) != 0)
			ctx_arm_error(c, 400, "InvalidParameter", "%s", err);
		else
			ctx_json(c, 200, json_object());
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "tokens/expire") == 0) {
		token_expire_all();
		ctx_json(c, 200, json_object());
	} else if (strcmp(m, "GET") == 0 && strcmp(p, "tokens") == 0) {
		ctx_json(c, 200, json_pack("{s:o}", "tokens", token_list()));
	} else if (strcmp(m, "POST") == 0 && strcmp(p, "ratelimit") == 0) {
		control_ratelimit(c, j);
	} else if (strcmp(m, "GET") == 0 && strcmp(p, "health") == 0) {
		ctx_json(c, 200, json_pack("{s:s}", "status", "ok"));
	} else {
		ctx_arm_error(c, 404, "NotFound", "no control endpoint %s %s",
		    m, c->path);
	}
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* the request handler                                                */

static int
split_path(char *path, char **seg, int max)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(path, "/", &save); t != NULL && n < max;
	     t = strtok_r(NULL, "/", &save))
		seg[n++] = t;
	return n;
}

static enum MHD_Result
query_cat(
    void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	char *q = cls;
	size_t len = strlen(q);

	(void)kind;
	snprintf(q + len, 2048 - len, "%s%s=%s", len ? "&" : "", key,
	    value ? value : "");
	return MHD_YES;
}

static void
add_ratelimit_headers(struct ctx *c)
{
	long reads = 11999, writes = 1199, deletes = 14999;
	size_t i;
	char buf[32];

	for (i = 0; i < emu.nratelimits; i++) {
		if (strcasecmp(emu.ratelimits[i].sub, c->sub) == 0 &&
		    emu.ratelimits[i].remaining >= 0) {
			reads = writes = deletes = emu.ratelimits[i].remaining;
			if (emu.ratelimits[i].remaining > 0)
				emu.ratelimits[i].remaining--;
		}
	}
	if (strcmp(c->method, "GET") == 0) {
		snprintf(buf, sizeof(buf), "%ld", reads);
		ctx_header(
		    c, "x-ms-ratelimit-remaining-subscription-reads", buf);
	} else if (strcmp(c->method, "DELETE") == 0) {
		snprintf(buf, sizeof(buf), "%ld", deletes);
		ctx_header(
		    c, "x-ms-ratelimit-remaining-subscription-deletes", buf);
	} else {
		snprintf(buf, sizeof(buf), "%ld", writes);
		ctx_header(
		    c, "x-ms-ratelimit-remaining-subscription-writes", buf);
	}
}

static enum MHD_Result
answer(struct MHD_Connection *conn, struct request *rq, const char *url,
    const char *method)
{
	struct ctx c;
	struct route r;
	struct fault f;
	char *pathcopy = NULL, *seg[24];
	int nseg, is_control, is_notes, faulted = 0, i;
	char rid[37], corr[37], query[2048] = "", when[40];
	const char *crid, *ccorr, *host;
	struct MHD_Response *resp = NULL;
	char *out = NULL;
	size_t outlen = 0;
	enum MHD_Result ret;

	memset(&c, 0, sizeof(c));
	c.method = method;
	c.path = url;
	c.conn = conn;
	c.body = rq->body ? rq->body : "";
	c.body_len = rq->len;
	c.content_type = "application/json; charset=utf-8";
	c.api_version = MHD_lookup_connection_value(
	    conn, MHD_GET_ARGUMENT_KIND, "api-version");
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (host == NULL || strchr(host, '/') != NULL)
		host = "127.0.0.1";
	snprintf(c.base, sizeof(c.base), "%s://%s", emu.tls ? "https" : "http",
	    host);
	MHD_get_connection_values(
	    conn, MHD_GET_ARGUMENT_KIND, query_cat, query);
	crid = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, "x-ms-client-request-id");
	ccorr = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, "x-ms-correlation-request-id");
	emu_uuid(rid);
	emu_uuid(corr);

	pathcopy = strdup(url);
	if (pathcopy == NULL)
		return MHD_NO;
	nseg = split_path(pathcopy, seg, 24);
	is_control = nseg >= 1 && strcmp(seg[0], "_armemu") == 0;
	memset(&r, 0, sizeof(r));
	if (!is_control)
		route_classify(method, seg, nseg, &r);
	is_notes = !is_control && nseg >= 1 && strcmp(seg[0], "_notes") == 0;
	if (is_notes)
		snprintf(r.name, sizeof(r.name), "notes.get");

	pthread_mutex_lock(&emu.lock);
	if (!is_control)
		faulted = fault_match(method, url, &f);
	pthread_mutex_unlock(&emu.lock);

	if (faulted && f.latency_ms > 0)
		usleep((useconds_t)f.latency_ms * 1000);

	pthread_mutex_lock(&emu.lock);
	snprintf(c.route, sizeof(c.route), "%s", r.name);
	if (rq->too_big) {
		ctx_arm_error(&c, 413, "RequestEntityTooLarge",
		    "The request body is larger than %d bytes.", EMU_MAX_BODY);
	} else if (is_control) {
		control(&c);
	} else if (faulted && strcmp(f.action, "drop") == 0) {
		c.status = 0;
	} else if (faulted &&
	    (strcmp(f.action, "status") == 0 ||
	        strcmp(f.action, "garbage") == 0 ||
	        strcmp(f.action, "truncated") == 0)) {
		fault_answer(&c, &f, &r);
	} else {
		if (faulted && strcmp(f.action, "lro_fail") == 0) {
			c.lro_fail = 1;
			snprintf(c.lro_fail_code, sizeof(c.lro_fail_code), "%s",
			    f.error_code);
		}
		if (faulted && is_lie(f.action)) {
			snprintf(c.lie, sizeof(c.lie), "%s", f.action);
			snprintf(c.lie_name, sizeof(c.lie_name), "%s", f.name);
		}
		if (is_notes)
			notes_serve(&c, url);
		else if (r.kind == R_TOKEN_V2)
			token_v2(&c, r.tenant);
		else if (r.kind == R_TOKEN_IMDS)
			token_imds(&c);
		else
			arm_dispatch(&c, &r);
		if (faulted && strcmp(f.action, "omit") == 0)
			omit_items(&c, f.name);
	}
	if (c.status == 0 && !(faulted && strcmp(f.action, "drop") == 0))
		ctx_arm_error(&c, 500, "InternalServerError", "no answer");
	if (!is_control) {
		char key[128];

		if (c.sub[0] != '\0')
			add_ratelimit_headers(&c);
		snprintf(key, sizeof(key), "%s %s", method, c.route);
		counter_add(key);
		snprintf(
		    key, sizeof(key), "%s %s %d", method, c.route, c.status);
		counter_add(key);
		total_requests++;
		log_add(&c, method, query, crid, rid, rq->start_ms);
	}
	/*
	 * Out of in_flight once answered, before the answer is sent: the
	 * client may read it and send its next request before `completed`
	 * runs (a thread descheduled under load), and a count up to then
	 * would hold requests the client no longer has in flight.  Counted
	 * from the first byte to here, a request is in flight for less time
	 * than the client sees, so max_in_flight never exceeds the client's
	 * own bound.
	 */
	if (rq->tracked) {
		in_flight--;
		rq->tracked = 0;
	}
	pthread_mutex_unlock(&emu.lock);
	free(pathcopy);

	if (c.status == 0) {
		ret = MHD_NO; /* the "drop" fault: close without an answer */
		goto done;
	}
	if (c.raw != NULL) {
		out = c.raw;
		c.raw = NULL;
		outlen = strlen(out);
	} else if (c.json != NULL) {
		out = json_dumps(c.json, JSON_COMPACT);
		outlen = out ? strlen(out) : 0;
	}
	resp = MHD_create_response_from_buffer(outlen, out ? out : (char *)"",
	    out ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		free(out);
		ret = MHD_NO;
		goto done;
	}
	if (outlen > 0 || c.status != 204)
		MHD_add_response_header(resp, "Content-Type", c.content_type);
	MHD_add_response_header(resp, "x-ms-request-id", rid);
	MHD_add_response_header(
	    resp, "x-ms-correlation-request-id", ccorr ? ccorr : corr);
	if (crid != NULL)
		MHD_add_response_header(resp, "x-ms-client-request-id", crid);
	emu_format_time(emu_real_now(), 0, when, sizeof(when));
	{
		char routing[96];

		snprintf(routing, sizeof(routing), "LOCAL:%s:%s", when, rid);
		MHD_add_response_header(
		    resp, "x-ms-routing-request-id", routing);
	}
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	for (i = 0; i < c.nheaders; i++)
		MHD_add_response_header(resp, c.hname[i], c.hvalue[i]);
	ret = MHD_queue_response(conn, (unsigned)c.status, resp);
	MHD_destroy_response(resp);
done:
	for (i = 0; i < c.nheaders; i++)
		free(c.hvalue[i]);
	json_decref(c.json);
	free(c.raw);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)version;
	if (rq == NULL) {
		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		rq->start_ms = emu_mono_ms();
		*con_cls = rq;
		if (strncmp(url, "/_armemu/", 9) != 0) {
			pthread_mutex_lock(&emu.lock);
			rq->tracked = 1;
			in_flight++;
			if (in_flight > max_in_flight)
				max_in_flight = in_flight;
			pthread_mutex_unlock(&emu.lock);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (rq->too_big || rq->len + n > EMU_MAX_BODY) {
			rq->too_big = 1;
			return MHD_YES;
		}
		if (rq->len + n + 1 > rq->cap) {
			size_t cap = (rq->len + n + 1) * 2;
			char *nb = realloc(rq->body, cap);

			if (nb == NULL)
				return MHD_NO;
			rq->body = nb;
			rq->cap = cap;
		}
		memcpy(rq->body + rq->len, upload_data, n);
		rq->len += n;
		rq->body[rq->len] = '\0';
		return MHD_YES;
	}
	return answer(conn, rq, url, method);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq == NULL)
		return;
	if (rq->tracked) {
		pthread_mutex_lock(&emu.lock);
		in_flight--;
		pthread_mutex_unlock(&emu.lock);
	}
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* libmicrohttpd's messages, marked as ours. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* A "drop" fault closes the connection on purpose. */
	if (strstr(msg, "Application reported internal error") != NULL)
		return;
	fprintf(stderr, "armemu: libmicrohttpd: %s\n", msg);
}

/* ------------------------------------------------------------------ */
/* main                                                               */

static int
int_arg(const char *flag, const char *v, int min, int max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < min || n > max) {
		fprintf(stderr,
		    "armemu: %s: expected a number %d..%d, got '%s'\n", flag,
		    min, max, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	int i;

	emu.cfg.token_ttl = 3600;
	emu.cfg.client_id = EMU_DEFAULT_CLIENT_ID;
	emu.cfg.client_secret = EMU_DEFAULT_CLIENT_SECRET;
	emu.cfg.tenant = EMU_DEFAULT_TENANT;
	emu.cfg.page_size = 100;
	emu.cfg.lro_polls = 2;
	emu.cfg.retry_after = 1;
	emu.cfg.log_cap = 200000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (v == NULL) {
			fprintf(stderr,
			    "armemu: %s: missing value (or unknown "
			    "flag); see --help\n",
			    a);
			return -1;
		}
		i++;
		if (strcmp(a, "--port") == 0) {
			if (int_arg(a, v, 0, 65535, &emu.cfg.port) != 0)
				return -1;
		} else if (strcmp(a, "--fleet") == 0) {
			emu.cfg.fleet_file = v;
		} else if (strcmp(a, "--generate") == 0) {
			int c = 0, p = 0, s = 1, n;

			n = sscanf(v, "%d:%d:%d", &c, &p, &s);
			if (n < 2 || c < 1 || p < 1 || p > 100 || s < 1 ||
			    c > 1000000) {
				fprintf(stderr,
				    "armemu: --generate: expected "
				    "CLUSTERS:POOLS[:SUBS], got "
				    "'%s'\n",
				    v);
				return -1;
			}
			emu.cfg.gen_clusters = c;
			emu.cfg.gen_pools = p;
			emu.cfg.gen_subs = s;
		} else if (strcmp(a, "--token-ttl") == 0) {
			if (int_arg(a, v, 1, 86400 * 365, &emu.cfg.token_ttl) !=
			    0)
				return -1;
		} else if (strcmp(a, "--client-id") == 0) {
			emu.cfg.client_id = v;
		} else if (strcmp(a, "--client-secret") == 0) {
			emu.cfg.client_secret = v;
		} else if (strcmp(a, "--client-cert") == 0) {
			emu.cfg.client_cert = v;
		} else if (strcmp(a, "--federated-token-file") == 0) {
			emu.cfg.federated_token_file = v;
		} else if (strcmp(a, "--tenant") == 0) {
			emu.cfg.tenant = v;
		} else if (strcmp(a, "--page-size") == 0) {
			if (int_arg(a, v, 1, 100000, &emu.cfg.page_size) != 0)
				return -1;
		} else if (strcmp(a, "--lro-polls") == 0) {
			if (int_arg(a, v, 0, 1000, &emu.cfg.lro_polls) != 0)
				return -1;
		} else if (strcmp(a, "--lro-headers") == 0) {
			if (strcmp(v, "both") == 0) {
				emu.cfg.lro_headers = LRO_BOTH;
			} else if (strcmp(v, "location") == 0) {
				emu.cfg.lro_headers = LRO_LOCATION;
			} else if (strcmp(v, "none") == 0) {
				emu.cfg.lro_headers = LRO_NONE;
			} else {
				fprintf(stderr,
				    "armemu: --lro-headers: expected both, "
				    "location or none, got '%s'\n",
				    v);
				return -1;
			}
		} else if (strcmp(a, "--retry-after") == 0) {
			if (int_arg(a, v, 0, 3600, &emu.cfg.retry_after) != 0)
				return -1;
		} else if (strcmp(a, "--tls-cert") == 0) {
			emu.cfg.tls_cert = v;
		} else if (strcmp(a, "--tls-key") == 0) {
			emu.cfg.tls_key = v;
		} else if (strcmp(a, "--log") == 0) {
			emu.cfg.log_file = v;
		} else if (strcmp(a, "--threads") == 0) {
			if (int_arg(a, v, 1, 1024, &emu.cfg.threads) != 0)
				return -1;
		} else if (strcmp(a, "--notes-dir") == 0) {
			emu.cfg.notes_dir = v;
		} else if (strcmp(a, "--log-cap") == 0) {
			if (int_arg(a, v, 1, 10000000, &emu.cfg.log_cap) != 0)
				return -1;
		} else {
			fprintf(
			    stderr, "armemu: unknown flag %s; see --help\n", a);
			return -1;
		}
	}
	if ((emu.cfg.tls_cert == NULL) != (emu.cfg.tls_key == NULL)) {
		fprintf(
		    stderr, "armemu: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if (emu.cfg.fleet_file != NULL && emu.cfg.gen_clusters > 0) {
		fprintf(stderr,
		    "armemu: --fleet and --generate exclude each "
		    "other\n");
		return -1;
	}
	return 0;
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0) {
		data = malloc((size_t)n + 1);
		if (data != NULL &&
		    fread(data, 1, (size_t)n, fp) != (size_t)n) {
			free(data);
			data = NULL;
		}
		if (data != NULL)
			data[n] = '\0';
	}
	fclose(fp);
	return data;
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sa;
	unsigned int flags;
	const union MHD_DaemonInfo *info;
	char err[256];
	char *cert = NULL, *key = NULL;
	sigset_t set;
	int sig, rc = 1;
	size_t i;

	if (parse_args(argc, argv) != 0)
		return 2;
	start_ms = emu_mono_ms();
	srand48((long)emu_mono_ms());
	signal(SIGPIPE, SIG_IGN);
	if (kv_setup() != 0)
		return 1;
	if (emu.cfg.fleet_file != NULL) {
		if (fleet_load(emu.cfg.fleet_file) != 0)
			return 1;
	} else if (emu.cfg.gen_clusters > 0) {
		if (fleet_generate(emu.cfg.gen_clusters, emu.cfg.gen_pools,
		        emu.cfg.gen_subs) != 0)
			return 1;
	}
	if (token_setup(err, sizeof(err)) != 0) {
		fprintf(stderr, "armemu: %s\n", err);
		goto out;
	}
	if (emu.cfg.log_file != NULL) {
		log_fp = fopen(emu.cfg.log_file, "a");
		if (log_fp == NULL) {
			fprintf(stderr, "armemu: %s: %s\n", emu.cfg.log_file,
			    strerror(errno));
			goto out;
		}
	}

	/* Block the stop signals in every thread; main waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)emu.cfg.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (emu.cfg.threads > 0)
		flags |= MHD_USE_EPOLL;
	else
		flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	if (emu.cfg.tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			fprintf(
			    stderr, "armemu: this libmicrohttpd has no TLS\n");
			goto out;
		}
		cert = slurp(emu.cfg.tls_cert);
		key = slurp(emu.cfg.tls_key);
		if (cert == NULL || key == NULL) {
			fprintf(stderr, "armemu: cannot read %s or %s\n",
			    emu.cfg.tls_cert, emu.cfg.tls_key);
			goto out;
		}
		flags |= MHD_USE_TLS;
		emu.tls = 1;
	}
	{
		struct MHD_OptionItem opts[12];
		int n = 0;

		opts[n++] =
		    (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &sa};
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_CONNECTION_LIMIT, 8000, NULL};
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL};
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_CONNECTION_TIMEOUT, 120, NULL};
		opts[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_THREAD_STACK_SIZE, 512 * 1024, NULL};
		if (emu.cfg.threads > 0)
			opts[n++] = (struct MHD_OptionItem){
			    MHD_OPTION_THREAD_POOL_SIZE, emu.cfg.threads, NULL};
		if (emu.tls) {
			opts[n++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
			opts[n++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_KEY, 0, key};
		}
		opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
		d = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (d == NULL) {
		fprintf(stderr, "armemu: cannot listen on 127.0.0.1:%d\n",
		    emu.cfg.port);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", info ? (unsigned)info->port : (unsigned)emu.cfg.port);
	fflush(stdout);

	for (;;) {
		if (sigwait(&set, &sig) == 0 &&
		    (sig == SIGTERM || sig == SIGINT))
			break;
	}
	MHD_stop_daemon(d);
	rc = 0;
out:
	free(cert);
	free(key);
	if (log_fp != NULL)
		fclose(log_fp);
	log_reset();
	free(reqlog);
	for (i = 0; i < ncounters; i++)
		free(counters[i].key);
	free(counters);
	free(faults);
	free(emu.ratelimits);
	token_free();
	fleet_free();
	kv_free();
	return rc;
}
