#ifndef ARMEMU_H
#define ARMEMU_H

/*
 * armemu.h -- the pieces of the ARM + token emulator shared between its
 * files: the in-memory fleet (subscriptions, resource groups, clusters,
 * agent pools, snapshots, long-running operations), the issued tokens,
 * the request context a route handler answers into, and small helpers.
 *
 * One global mutex (emu.lock) guards every piece of state; route handlers
 * run with it held and never sleep while holding it.  The emulator is a
 * test tool, so it does not link the aksnap library: its helpers live in
 * emuutil.c.
 */

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define EMU_DEFAULT_TENANT "00000000-0000-0000-0000-0000000000aa"
#define EMU_DEFAULT_CLIENT_ID "00000000-0000-0000-0000-0000000000bb"
#define EMU_DEFAULT_CLIENT_SECRET "armemu-test-secret"
#define EMU_RESOURCE "https://management.azure.com/"
#define EMU_SCOPE "https://management.azure.com/.default"
#define EMU_MAX_BODY (4 * 1024 * 1024)
#define EMU_MAX_HEADERS 12

struct pool {
	char name[16];
	char mode[16];
	int count;
	char vm_size[64];
	char os_type[16];
	char os_sku[32];
	char orchestrator_version[24];
	char current_orchestrator_version[24];
	char node_image_version[96];
	char latest_image[96]; /* newest released image for this pool */
	char provisioning_state[40];
	char etag[16];
	int enable_fips;
	int busy; /* set by the control API: writes get 409 */
	char op_id[40]; /* operation in progress, "" when none */
	char *source_id; /* creationData.sourceResourceId or NULL */
	json_t *extra; /* other properties echoed from a PUT, or NULL */
};

struct cluster {
	char sub[64];
	char rg[96];
	char name[64];
	char location[48];
	char kubernetes_version[24];
	char provisioning_state[40];
	char etag[16];
	int deleted;
	struct pool *pools;
	size_t npools;
	json_t *tags; /* or NULL */
	json_t *extra; /* properties echoed from a cluster PUT, or NULL */
	json_t *sku; /* or NULL */
	/* autoUpgradeProfile; has_auto 0 = the cluster has none (old) */
	int has_auto;
	char upgrade_channel[24]; /* "" = not set */
	char node_os_channel[24]; /* "" = not set */
};

struct rgroup {
	char sub[64];
	char name[96];
	char location[48];
};

struct snapshot {
	uint64_t seq; /* creation order; list paging key */
	char sub[64];
	char rg[96];
	char name[64];
	char location[48];
	char *source_id;
	char kubernetes_version[24];
	char node_image_version[96];
	char os_type[16];
	char os_sku[32];
	char vm_size[64];
	int enable_fips;
	char created_at[40];
	char created_by[128];
	char created_by_type[24];
	char modified_at[40];
	json_t *tags; /* always an object */
};

enum op_kind {
	OP_POOL_PUT,
	OP_POOL_UPGRADE_IMAGE,
	OP_POOL_DELETE,
	OP_CLUSTER_PUT,
	OP_CONTROL_BUSY,
};

struct operation {
	char id[40];
	char location[48];
	char sub[64];
	char rg[96];
	char cluster[64];
	char pool[16];
	enum op_kind kind;
	int polls; /* status polls answered so far */
	int done; /* 0 running, 1 succeeded, 2 failed */
	int fail; /* end in Failed (an lro_fail fault matched) */
	int noop; /* end in Succeeded having changed nothing (lro_noop) */
	char fail_code[64];
	char start_time[40];
	char end_time[40];
	/* what the pool becomes on success */
	char new_orchestrator[24];
	char new_image[96];
	char *new_source; /* NULL: keep */
};

enum route_kind {
	R_NONE,
	R_TOKEN_V2,
	R_TOKEN_IMDS,
	R_CLUSTERS_LIST_SUB,
	R_CLUSTERS_LIST_RG,
	R_CLUSTER,
	R_POOLS_LIST,
	R_POOL,
	R_POOL_UPGRADE,
	R_CLUSTER_OP,
	R_SNAPS_LIST_SUB,
	R_SNAPS_LIST_RG,
	R_SNAP,
	R_OP_STATUS,
	R_OP_RESULT,
	R_KUBERNETES_VERSIONS,
};

/* A request path taken apart (pointers into the split path). */
struct route {
	enum route_kind kind;
	const char *tenant, *sub, *rg, *cluster, *pool, *snap, *loc, *opid;
	char name[48]; /* counter name, e.g. "snapshots.put" */
};

/* One request as a route handler sees it and answers it. */
struct ctx {
	const char *method;
	const char *path;
	const char *api_version; /* NULL when absent */
	const char *body; /* NUL-terminated, may be "" */
	size_t body_len;
	char base[300]; /* scheme://host[:port] the client used */
	void *conn; /* struct MHD_Connection * */
	int lro_fail; /* a fault said: fail the operation this starts */
	char lro_fail_code[64];
	/*
	 * A lying fault (put_empty, put_other, delete_noop, patch_noop,
	 * lro_noop): the route answers as if it did its work but does not;
	 * "" when none.  lie_name: put_other's name for the answer.
	 */
	char lie[16];
	char lie_name[128];
	/* the answer */
	int status;
	json_t *json; /* body, or NULL */
	char *raw; /* pre-rendered body (malloc), or NULL */
	const char *content_type;
	char route[64];
	char sub[64]; /* for the rate-limit headers, "" if none */
	int nheaders;
	char hname[EMU_MAX_HEADERS][48];
	char *hvalue[EMU_MAX_HEADERS];
};

struct token {
	char value[72];
	time_t expires; /* real time */
	char identity[128];
	char identity_type[24];
};

struct ratelimit {
	char sub[64];
	long remaining;
};

/* --lro-headers: which headers announce a long-running operation. */
enum lro_mode {
	LRO_BOTH, /* Azure-AsyncOperation (+ Location where ARM sends it) */
	LRO_LOCATION, /* Location only: poll operationresults */
	LRO_NONE, /* none: GETs of the pool advance it */
};

struct emu_config {
	int port;
	const char *fleet_file;
	int gen_clusters, gen_pools, gen_subs;
	int token_ttl;
	const char *client_id;
	const char *client_secret;
	const char *client_cert;
	const char *federated_token_file;
	const char *tenant;
	int page_size;
	int lro_polls;
	enum lro_mode lro_headers; /* --lro-headers */
	int retry_after;
	const char *tls_cert;
	const char *tls_key;
	const char *log_file;
	int threads;
	int log_cap;
	const char *notes_dir; /* --notes-dir: release notes under /_notes/ */
};

struct emu_state {
	pthread_mutex_t lock;
	struct emu_config cfg;
	int tls;
	/* fleet */
	char (*subs)[64];
	size_t nsubs;
	struct rgroup *rgs;
	size_t nrgs;
	struct cluster **clusters;
	size_t nclusters;
	struct snapshot **snaps;
	size_t nsnaps;
	uint64_t snap_seq;
	struct operation **ops;
	size_t nops;
	/* tokens */
	struct token *tokens;
	size_t ntokens;
	/* client certificate (EVP_PKEY *) and its x5t */
	void *cert_pkey;
	char cert_x5t[64];
	/* simulated clock: sim = real + offset, or frozen at frozen_at */
	double clock_offset;
	int clock_frozen;
	double frozen_at;
	struct ratelimit *ratelimits;
	size_t nratelimits;
};

extern struct emu_state emu;

/* emuutil.c */
void emu_uuid(char out[37]);
double emu_real_now(void);
double emu_sim_now(void); /* caller holds emu.lock */
int64_t emu_mono_ms(void);
void emu_format_time(double t, int frac_digits, char *buf, size_t len);
int emu_parse_time(const char *s, double *out);
int emu_parse_duration(const char *s, long long *out);
int emu_b64url_decode(
    const char *in, size_t inlen, unsigned char **out, size_t *outlen);
void emu_b64url_encode(
    const unsigned char *in, size_t inlen, char *out, size_t outlen);
char *emu_form_value(const char *body, const char *key);
int emu_name_ok(const char *name);
int emu_pool_name_ok(const char *name);
void emu_bump_image(const char *cur, char *out, size_t len);
void emu_random_hex(char *out, size_t nbytes);
char *emu_strdup(const char *s);

/* main.c: answering */
void ctx_header(struct ctx *c, const char *name, const char *value);
const char *ctx_query(struct ctx *c, const char *key);
const char *ctx_request_header(struct ctx *c, const char *name);
void ctx_json(struct ctx *c, int status, json_t *body);
void ctx_arm_error(struct ctx *c, int status, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/* arm.c: fleet and ARM routes */
int fleet_load(const char *path);
int fleet_generate(int clusters, int pools, int subs);
int fleet_add_snapshot_json(json_t *s, char *err, size_t errlen);
void route_classify(const char *method, char **seg, int nseg, struct route *r);
void arm_dispatch(struct ctx *c, const struct route *r);
json_t *state_dump(void);
int control_release(json_t *req, char *err, size_t errlen, int *npools);
int control_busy(
    json_t *req, char *err, size_t errlen, char *opid, size_t opidlen);
int control_cluster_delete(json_t *req, char *err, size_t errlen);
int control_auto_upgrade_profile(json_t *req, char *err, size_t errlen);
int control_weekly_upgrade(
    json_t *req, char *err, size_t errlen, int *released, int *reimaged);
void fleet_free(void);

/* kversions.c: the Kubernetes versions offered per location */
int kv_setup(void); /* the built-in default list; 0 or -1 */
int kv_add_default(const char *version); /* x.y.z into the default list */
/* Replace ${location}'s list with ${versions} (array of x.y.z) and the
 * minors ${preview} (array or NULL) flags.  0, or -1 with ${err}. */
int kv_set(const char *location, json_t *versions, json_t *preview, char *err,
    size_t errlen);
int kv_load_fleet(json_t *map); /* {"location": [x.y.z, ...]} */
int kv_supported(const char *location, const char *version);
/* The newest patch of ${version}'s minor in ${location}, or NULL. */
const char *kv_newest_patch(const char *location, const char *version);
json_t *kv_json(const char *location); /* {"values": [...]} */
void kv_free(void);

/* notes.c: GET /_notes/PATH, a file of --notes-dir as text/plain */
void notes_serve(struct ctx *c, const char *url);

/* token.c */
int token_setup(char *err, size_t errlen);
void token_v2(struct ctx *c, const char *tenant);
void token_imds(struct ctx *c);
/* token_check(c): 0 when the request carries a valid bearer token, else
 * answers 401 into ${c} and returns -1.  ${who}/${who_type} get the
 * identity. */
int token_check(
    struct ctx *c, char *who, size_t wholen, char *who_type, size_t typelen);
void token_expire_all(void);
/* token_list(): every token issued and still remembered, expired ones
 * too, as a JSON array of strings (the leak checks of the tests). */
json_t *token_list(void);
void token_free(void);

#endif
