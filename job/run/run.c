/*
 * run.c -- one run of the job: the data flow of DESIGN.md section 2.
 *
 *   load -> lock -> open store -> reconcile -> observe -> plan -> apply
 *   -> report
 *
 * Everything that talks to ARM goes through http_batch so that the waits
 * of many pools overlap (bounded by max_parallel); the store is written by
 * this thread only, as each answer arrives.  The rules that make a crash
 * harmless:
 *   - the intent (a snapshots row in state "creating", with the
 *     deterministic name of the slot) is committed before the PUT is sent;
 *   - the next run's reconcile GETs every row left "creating",
 *     "unconfirmed" or "deleting" and settles it from what Azure holds
 *     (a snapshot still there after a DELETE is deleted again);
 *   - nothing is recorded as done until Azure shows it done: a PUT's
 *     answer must name the snapshot asked for, of this pool, with its
 *     versions (arm_snapshot_confirms), else a GET decides, else the row
 *     is "unconfirmed" -- never the newest active snapshot, so it
 *     protects and replaces nothing -- and the pool fails this run;
 *   - a rerun in the same slot PUTs the same name, which ARM treats as an
 *     update of the same snapshot, never a second one.
 * One pool's failure is recorded against that pool and never stops the
 * others; the exit code says whether any failed.
 *
 * Fleet scale (DESIGN.md, issue 7).  A run makes one GET per cluster, one
 * PUT per snapshot, and nothing else on the way: the pools of a cluster
 * share its GET, and each pool is planned -- and its intent written -- in
 * the GET's callback, while the other GETs are still in flight, so the
 * store's work overlaps the waits on ARM.  Memory is bounded by keeping
 * per-pool state small (error texts are allocated only on failure) and by
 * sending the PUTs, and running retention, in slices of a few thousand,
 * each slice's buffers freed before the next; the report is streamed, each
 * pool's lines printed (or spooled) and freed as its slice ends.
 */
#include "job/run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_conflict.h"
#include "db/db_fleet.h"
#include "db/db_metrics.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/exit.h"
#include "job/base/log.h"
#include "job/base/progress.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/rules/actions.h"
#include "job/rules/channels.h"
#include "job/rules/plan.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
#include "job/run/fleet.h"
#include "job/run/interp.h"
#include "job/run/metrics.h"
#include "job/run/prune.h"

#define TAG_MANAGED "aksnap-managed"
#define PAUSED_REASON "paused: enabled = no (nothing is deleted)"
#define TAG_POOL "aksnap-pool"
#define TAG_SLOT "aksnap-slot"

/*
 * The plan of one pool as the run keeps it: plan_result's fixed buffers
 * (320 bytes) cut to their text's length.
 */
struct pool_plan {
	enum plan_action action;
	time_t slot;
	char *name; /* malloc'd: the snapshot name, or NULL */
	char *reason; /* malloc'd, or NULL (out of memory: "") */
};

/*
 * What one pool goes through in a run.  Kept small, a fleet has thousands
 * (about 120 bytes and the plan's two strings): the schedule is parsed when
 * planned (struct run keeps the last one), the location is the cluster's,
 * the versions the pool runs are one of the run's distinct ones
 * (version_set), the newest active snapshot is read from the store when
 * planned, and the retention state (struct prune_pool) exists only while
 * the pool's retention slice is worked.
 */
struct pool_run {
	const struct pool_conf *pc;
	struct cluster_group *cg; /* its cluster (group_pools) */
	int64_t pool_id;
	const struct db_versions *live; /* observed: in run.versions */
	char *observe_error; /* malloc'd when not observed, else NULL */
	struct pool_plan plan;
	int64_t snap_id; /* the intent's row; 0: none written */
	char *unconfirmed; /* malloc'd: why the PUT's answer did not show the
	                      snapshot (a GET decides), else NULL */
	char *error; /* malloc'd when failed, else NULL */
	struct prune_pool *pr; /* during its retention slice, else NULL */
	struct pool_run *next_in_cluster;
	struct pool_run *next_put; /* waiting for a PUT slot (observe) */
	unsigned observed : 1;
	unsigned failed : 1;
	unsigned taken : 1;
	unsigned retained : 1; /* retention carried out by retain_now */
	unsigned outcome : 1; /* its outcome (not failed) written early
	                         (read_figures) */
};

/*
 * The distinct version tuples the run's pools were seen running, each
 * held once: a fleet runs a few node images on a few Kubernetes versions,
 * not one of each a pool.  Open addressing, grown at half full.
 */
struct version_set {
	struct db_versions **v;
	size_t cap, n;
};

/* The pools of one managed cluster share one GET. */
struct cluster_group {
	const char *subscription, *resource_group, *cluster;
	struct pool_run *first;
	char location[64]; /* the cluster's, from the observe GET */
	char *url; /* its GET's, malloc'd */
};

struct run {
	const struct config *cfg;
	const struct run_options *opts;
	struct db *db;
	struct http_client *http;
	struct token_provider *tokens;
	struct arm *arm;
	struct pool_run *pools;
	size_t npools;
	struct version_set versions; /* the pools' live versions */
	const char *sched_text; /* the schedule sched holds parsed */
	struct schedule sched;
	struct pool_run **by_id; /* pools sorted by pool_id (reconcile) */
	struct cluster_group *groups;
	size_t ngroups;
	struct fleet_view fleets; /* the fleets' pools and listings */
	struct db_run rec;
	int64_t started_ms;
	int pending_writes; /* outcomes written in the current transaction */
	size_t puts_sent; /* snapshot PUTs handed to the batch */
	int write_failed; /* a grouped commit failed: send nothing more */
	int reached_arm; /* ARM answered other than a temporary error */
	int dry; /* plan only: the report's form (what is carried out is
	            the interpreter's, mode) */
	enum interp_mode mode; /* the lists' interpreter's (interp.h) */
	int counted; /* count_failures ran: pools[].failed is final */
	size_t reported; /* pools[] before this one are reported */
	struct table *report; /* the text report, spooled */
	int json_open; /* the JSON report's head is out */
	size_t json_pools; /* elements of its "pools" out */
	struct progress progress; /* the line on a terminal */
	struct prune_ctx pctx; /* promotion and retention (run_prune_ctx) */
	int metrics_wanted; /* the run writes the textfile */
	struct metrics_set *metrics; /* its figures, read as each pool is
	                                done (plan_group), or NULL */
};

/*
 * Retention's pools go in slices: each slice's buffers are freed (and its
 * pools reported) before the next, so a fleet's peak memory does not grow
 * with it.  The PUTs go through a few reused slots (observe).
 */
#define RETAIN_SLICE 256

int
run_lock(const struct config *cfg, int *fd)
{
	char path[PATH_MAX + 8];
	int f;

	snprintf(path, sizeof(path), "%s.lock", cfg->database);
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0) {
		log_err(NULL,
		    "%s: cannot open the run lock (%s): the store's directory "
		    "must be writable; nothing done",
		    path, strerror(errno));
		return -1;
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(f);
		if (e == EWOULDBLOCK) {
			log_warn(NULL,
			    "another aksnap holds the run lock %s; "
			    "nothing done",
			    path);
			return 1;
		}
		log_err(NULL, "%s: flock: %s", path, strerror(e));
		return -1;
	}
	*fd = f;
	return 0;
}

void
run_http_options(const struct config *cfg, struct http_options *ho)
{
	memset(ho, 0, sizeof(*ho));
	ho->timeout_s = cfg->request_timeout;
	ho->ca_file = cfg->ca_file[0] != '\0' ? cfg->ca_file : NULL;
}

struct token_provider *
run_token_provider(const struct config *cfg)
{
	struct auth_inputs *in;
	struct token_provider *tp;
	struct http_options ho;

	/* The environment is read there, once, as `config check` shows it. */
	in = config_auth_inputs(cfg);
	if (in == NULL) {
		log_err(NULL, "out of memory");
		return NULL;
	}
	run_http_options(cfg, &ho);
	tp = token_provider_new(in, &ho);
	config_auth_inputs_free(in);
	return tp;
}

int
run_connect(const struct config *cfg, struct http_client **http,
    struct token_provider **tokens, struct arm **arm)
{
	struct http_options ho;

	*http = NULL;
	*tokens = NULL;
	*arm = NULL;
	run_http_options(cfg, &ho);
	*http = http_client_new(&ho);
	if (*http == NULL)
		return -1;
	*tokens = run_token_provider(cfg);
	if (*tokens == NULL)
		return -1;
	http_client_set_token_source(*http, token_source_cb, *tokens);
	*arm = arm_new(*http, cfg->arm_endpoint, cfg->api_version);
	return *arm == NULL ? -1 : 0;
}

void
run_disconnect(
    struct http_client *http, struct token_provider *tokens, struct arm *arm)
{
	arm_free(arm);
	token_provider_free(tokens);
	http_client_free(http);
}

static const char *
mode_name(enum run_mode m)
{
	switch (m) {
	case RUN_SCHEDULED:
		return "run";
	case RUN_DRY:
		return "dry-run";
	case RUN_SNAPSHOT:
		return "snapshot";
	case RUN_PRUNE:
		return "prune";
	}
	return "run";
}

/* Group writes into transactions: crash-safe (intents are already
 * committed) and far cheaper than one commit per row.  A store that
 * cannot begin one (locked by another process past busy_timeout, disk
 * full, I/O error) fails the run as a whole: each further write would
 * wait out busy_timeout again, and nothing may be sent to Azure that
 * the store cannot record. */
static void
write_begin(struct run *r)
{
	if (r->pending_writes != 0 || r->write_failed)
		return;
	if (db_begin(r->db) == 0)
		r->pending_writes = 1;
	else
		r->write_failed = 1;
}

static void
write_flush(struct run *r, int force)
{
	if (r->pending_writes == 0)
		return;
	if (force || ++r->pending_writes > 256) {
		if (db_commit(r->db)) {
			db_rollback(r->db);
			r->write_failed = 1;
		}
		r->pending_writes = 0;
	}
}

/* The context promotion and retention work in, filled in for this run. */
static struct prune_ctx *
run_prune_ctx(struct run *r)
{
	struct prune_ctx *pc = &r->pctx;

	pc->cfg = r->cfg;
	pc->db = r->db;
	pc->arm = r->arm;
	pc->http = r->http;
	pc->run_id = r->rec.id;
	pc->as_of = r->opts->as_of;
	pc->mode = r->mode;
	return pc;
}

static void
record_decision(struct run *r, struct pool_run *p, int64_t snap_id, time_t slot,
    const char *action, const char *reasons)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = r->rec.id;
	d.pool_id = p->pool_id;
	d.snapshot_id = snap_id;
	d.at = r->opts->as_of;
	d.slot = slot;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, reasons, sizeof(d.reasons));
	(void)db_decision_add(r->db, &d);
}

/* The pool failed: ${fmt} with one string.  The first failure's text stays. */
static void
pool_fail(struct pool_run *p, const char *fmt, const char *what)
{
	p->failed = 1;
	if (p->error == NULL && asprintf(&p->error, fmt, what) < 0)
		p->error = NULL;
}

/* Why the pool was not observed (a malloc'd copy; the first one stays). */
static void
set_observe_error(struct pool_run *p, const char *fmt, ...)
{
	va_list ap;

	if (p->observe_error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&p->observe_error, fmt, ap) < 0)
		p->observe_error = NULL;
	va_end(ap);
}

static const char *
pool_error(const struct pool_run *p)
{
	return p->error != NULL ? p->error : "failed";
}

/* ---- the versions pools run ---- */

static uint64_t
version_hash(const struct db_versions *v)
{
	const char *f[] = {v->node_image_version, v->kubernetes_version,
	    v->os_type, v->os_sku, v->vm_size};
	uint64_t h = (uint64_t)v->enable_fips;

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = h * 1099511628211ULL ^ util_fnv1a64(f[i]);
	return h;
}

static int
version_equal(const struct db_versions *a, const struct db_versions *b)
{
	return strcmp(a->node_image_version, b->node_image_version) == 0 &&
	    strcmp(a->kubernetes_version, b->kubernetes_version) == 0 &&
	    strcmp(a->os_type, b->os_type) == 0 &&
	    strcmp(a->os_sku, b->os_sku) == 0 &&
	    strcmp(a->vm_size, b->vm_size) == 0 &&
	    a->enable_fips == b->enable_fips;
}

/* ${v} as held once in ${set}; NULL when out of memory. */
static const struct db_versions *
version_set_add(struct version_set *set, const struct db_versions *v)
{
	size_t i;

	if (2 * (set->n + 1) > set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		struct db_versions **nv = calloc(cap, sizeof(*nv));

		if (nv == NULL)
			return NULL;
		for (size_t k = 0; k < set->cap; k++) {
			if (set->v[k] == NULL)
				continue;
			i = version_hash(set->v[k]) & (cap - 1);
			while (nv[i] != NULL)
				i = (i + 1) & (cap - 1);
			nv[i] = set->v[k];
		}
		free(set->v);
		set->v = nv;
		set->cap = cap;
	}
	i = version_hash(v) & (set->cap - 1);
	for (; set->v[i] != NULL; i = (i + 1) & (set->cap - 1))
		if (version_equal(set->v[i], v))
			return set->v[i];
	set->v[i] = malloc(sizeof(*v));
	if (set->v[i] == NULL)
		return NULL;
	*set->v[i] = *v;
	set->n++;
	return set->v[i];
}

static void
version_set_free(struct version_set *set)
{
	for (size_t k = 0; k < set->cap; k++)
		free(set->v[k]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* ---- setup ---- */

int
run_pools_known(const struct config *cfg, const char **pools)
{
	for (size_t i = 0; pools != NULL && pools[i] != NULL; i++) {
		if (config_find_pool(cfg, pools[i]) == NULL) {
			log_err(NULL, "unknown pool '%s' (not in %s)", pools[i],
			    cfg->path);
			return -1;
		}
	}
	return 0;
}

static int
select_pools(struct run *r)
{
	const struct config *cfg = r->cfg;
	const char **sel = r->opts->pools;
	size_t n = 0;

	if (run_pools_known(cfg, sel))
		return -1;
	r->pools = calloc(cfg->npools ? cfg->npools : 1, sizeof(*r->pools));
	if (r->pools == NULL)
		return -1;
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];
		int wanted = (sel == NULL);

		for (size_t j = 0; sel != NULL && sel[j] != NULL; j++)
			if (strcmp(sel[j], pc->key) == 0)
				wanted = 1;
		if (!wanted)
			continue;
		r->pools[n++].pc = pc;
	}
	r->npools = n;
	return 0;
}

static int
group_cmp(const void *a, const void *b)
{
	const struct pool_run *const *x = a, *const *y = b;
	int c;

	c = strcasecmp((*x)->pc->subscription, (*y)->pc->subscription);
	if (c == 0)
		c = strcasecmp(
		    (*x)->pc->resource_group, (*y)->pc->resource_group);
	if (c == 0)
		c = strcasecmp((*x)->pc->cluster, (*y)->pc->cluster);
	return c;
}

/* Sort pools by cluster (ARM names are case-insensitive) and chain them. */
static int
group_pools(struct run *r)
{
	struct pool_run **v;
	size_t g = 0;

	if (r->npools == 0)
		return 0;
	v = calloc(r->npools, sizeof(*v));
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < r->npools; i++)
		v[i] = &r->pools[i];
	qsort(v, r->npools, sizeof(*v), group_cmp);
	/* A group holds a URL: allocate one per cluster, not per pool. */
	for (size_t i = 0; i < r->npools; i++)
		if (i == 0 || group_cmp(&v[i - 1], &v[i]) != 0)
			g++;
	r->groups = calloc(g, sizeof(*r->groups));
	if (r->groups == NULL) {
		free(v);
		return -1;
	}
	r->ngroups = g;
	g = 0;
	for (size_t i = 0; i < r->npools; i++) {
		if (i == 0 || group_cmp(&v[i - 1], &v[i]) != 0) {
			struct cluster_group *cg = &r->groups[g++];
			char url[1024];

			cg->subscription = v[i]->pc->subscription;
			cg->resource_group = v[i]->pc->resource_group;
			cg->cluster = v[i]->pc->cluster;
			arm_cluster_url(r->arm, cg->subscription,
			    cg->resource_group, cg->cluster, url, sizeof(url));
			cg->url = strdup(url);
			if (cg->url == NULL) {
				free(v);
				return -1;
			}
		}
		v[i]->cg = &r->groups[g - 1];
		v[i]->next_in_cluster = r->groups[g - 1].first;
		r->groups[g - 1].first = v[i];
	}
	free(v);
	return 0;
}

static int
pool_id_cmp(const void *a, const void *b)
{
	const struct pool_run *const *x = a, *const *y = b;

	return (*x)->pool_id < (*y)->pool_id ? -1
	    : (*x)->pool_id > (*y)->pool_id  ? 1
	                                     : 0;
}

static struct pool_run *
pool_by_id(struct run *r, int64_t id)
{
	struct pool_run key, *kp = &key, **hit;

	key.pool_id = id;
	hit = bsearch(&kp, r->by_id, r->npools, sizeof(*r->by_id), pool_id_cmp);
	return hit != NULL ? *hit : NULL;
}

static int
sync_pools(struct run *r)
{
	const struct pool_conf **pcs;
	int64_t *ids;
	int bad;

	if (db_begin(r->db))
		return -1;
	/* One read of the pools table, not one a pool (db_pool_sync_many). */
	pcs = calloc(r->npools ? r->npools : 1, sizeof(*pcs));
	ids = calloc(r->npools ? r->npools : 1, sizeof(*ids));
	for (size_t i = 0; pcs != NULL && i < r->npools; i++)
		pcs[i] = r->pools[i].pc;
	bad = pcs == NULL || ids == NULL ||
	    db_pool_sync_many(r->db, pcs, r->npools, ids);
	for (size_t i = 0; !bad && i < r->npools; i++)
		r->pools[i].pool_id = ids[i];
	free(pcs);
	free(ids);
	if (bad)
		goto fail;
	for (size_t i = 0; i < r->npools; i++) {
		struct pool_run *p = &r->pools[i];

		if (p->pc->fleet[0] != '\0' &&
		    db_pool_set_fleet(r->db, p->pool_id, p->pc->fleet))
			goto fail;
	}
	if (db_commit(r->db))
		return -1;
	/* reconcile finds a row's pool by its id. */
	r->by_id = calloc(r->npools ? r->npools : 1, sizeof(*r->by_id));
	if (r->by_id == NULL)
		return -1;
	for (size_t i = 0; i < r->npools; i++)
		r->by_id[i] = &r->pools[i];
	qsort(r->by_id, r->npools, sizeof(*r->by_id), pool_id_cmp);
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

/* ---- reconcile ---- */

/* The ARM ids of pool ${p} and of the snapshot ${name} of it. */
static void
pool_ids(const struct pool_run *p, const char *name, char *pool_id, size_t plen,
    char *snap_id, size_t slen)
{
	arm_agent_pool_id(p->pc->subscription, p->pc->resource_group,
	    p->pc->cluster, p->pc->nodepool, pool_id, plen);
	if (snap_id != NULL)
		arm_snapshot_id(p->pc->subscription, p->pc->resource_group,
		    name, snap_id, slen);
}

/*
 * A row left "deleting": ask Azure.  Gone (404): deleted.  Still there:
 * DELETE it again, and record it deleted only when that answers 204/404
 * or a GET then answers 404.  0 settled, 1 left for the next run.
 */
static int
reconcile_delete(struct run *r, struct pool_run *p, const struct db_snapshot *s)
{
	struct arm_snapshot got;
	struct arm_error e;
	int existed = 0, rc;

	rc = arm_snapshot_get(r->arm, p->pc->key, s->arm_id, &got, &e);
	if (rc != 0 && e.status != 404) {
		if (e.status != 0)
			r->reached_arm = 1;
		return 1; /* still unknown: the next run asks again */
	}
	r->reached_arm = 1;
	if (rc == 0) {
		/* Still there: retention decided it, so delete it again. */
		if (arm_snapshot_delete(
		        r->arm, p->pc->key, s->arm_id, &existed, &e) != 0) {
			if (e.status != 404)
				return 1;
		} else if (existed) {
			/* 200 is ARM's word; a GET's 404 is the proof. */
			rc = arm_snapshot_get(
			    r->arm, p->pc->key, s->arm_id, &got, &e);
			if (rc == 0) {
				log_warn(p->pc->key,
				    "%s: DELETE answered 200 but a GET still "
				    "finds it; the next run tries again",
				    s->name);
				(void)db_snapshot_set_state(r->db, s->id,
				    "deleting",
				    "DELETE answered 200 but a GET still finds "
				    "it");
				return 1;
			}
			if (e.status != 404)
				return 1;
		}
	}
	(void)db_snapshot_set_state(r->db, s->id, "deleted", NULL);
	r->rec.deleted++;
	log_info(p->pc->key,
	    "%s: settled as deleted (left deleting by an earlier run)",
	    s->name);
	return 0;
}

/*
 * Settle one row left "creating" (a crash) or "unconfirmed" (an answer
 * that did not show it) by a GET: active when Azure shows this snapshot
 * of this pool with its versions; failed when it does not exist, so the
 * slot is due again and this run's plan takes it; unconfirmed when it
 * exists but is not what was asked for.  0 settled, 1 left for later.
 */
static int
reconcile_one(struct run *r, struct pool_run *p, const struct db_snapshot *s)
{
	struct arm_snapshot got;
	struct arm_error e;
	char src[512], why[700], msg[800];

	if (strcmp(s->state, "deleting") == 0)
		return reconcile_delete(r, p, s);
	pool_ids(p, s->name, src, sizeof(src), NULL, 0);
	if (arm_snapshot_get(r->arm, p->pc->key, s->arm_id, &got, &e) == 0) {
		struct db_versions v;

		r->reached_arm = 1;
		if (!arm_snapshot_confirms(
		        &got, s->arm_id, src, why, sizeof(why))) {
			snprintf(msg, sizeof(msg),
			    "a GET finds %s but %s; left unconfirmed", s->name,
			    why);
			log_warn(p->pc->key, "%s", msg);
			(void)db_snapshot_set_state(
			    r->db, s->id, "unconfirmed", msg);
			return 1;
		}
		arm_snapshot_versions(&got, &v);
		if (db_snapshot_set_active(r->db, s->id,
		        got.created_at ? got.created_at : s->created_at,
		        &v) == 0)
			log_info(p->pc->key,
			    "%s: settled as active (left %s "
			    "by an earlier run)",
			    s->name, s->state);
		return 0;
	}
	if (e.status == 404) {
		r->reached_arm = 1;
		snprintf(why, sizeof(why),
		    "not found in Azure when the next run looked (left %s; "
		    "404, x-ms-request-id %s)",
		    s->state, e.request_id);
		(void)db_snapshot_set_state(r->db, s->id, "failed", why);
		log_info(p->pc->key,
		    "%s: settled as failed (left %s by an earlier run; not "
		    "in Azure): its slot is due again",
		    s->name, s->state);
		return 0;
	}
	/* Still unknown: leave it for the next run. */
	if (e.status != 0)
		r->reached_arm = 1;
	return 1;
}

/*
 * A previous run died between writing an intent and recording its
 * outcome, or Azure's answer did not show what it said it did.  Ask Azure
 * what became of each such snapshot and settle the row.  The store is
 * asked once per state (its partial index holds only such rows), not once
 * per pool.
 */
static int
reconcile(struct run *r)
{
	static const char *const states[] = {
	    "creating", "unconfirmed", "deleting"};
	int unsettled = 0;

	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		struct db_snapshot *list = NULL;
		size_t n = 0;

		if (db_snapshot_list(r->db, 0, states[k], &list, &n))
			return -1;
		for (size_t j = 0; j < n; j++) {
			struct pool_run *p = pool_by_id(r, list[j].pool_id);

			/* Pools not in this run wait for a run that has them.
			 */
			if (p != NULL)
				unsettled += reconcile_one(r, p, &list[j]);
		}
		free(list);
	}
	if (unsettled > 0)
		log_warn(NULL,
		    "%d snapshot(s) left by an earlier run could "
		    "not be settled yet; the next run tries again",
		    unsettled);
	return 0;
}

/* ---- observe: one cluster's answer ---- */

/*
 * Record what pool ${p} runs, with its cluster's auto-upgrade channels and,
 * when its node image or Kubernetes version moved since the observation in
 * force at the run's as-of (the last one, unless --as-of is in the past),
 * who moved it (channels_changed_by; aksnap's own applies record
 * themselves).
 */
static void
record_observation(struct run *r, struct pool_run *p,
    const struct arm_cluster *cl, const struct db_versions *live,
    const char *provisioning_state)
{
	struct db_observation cur;
	struct db_obs_in_force f;
	struct channels_seen a, b;
	const char *by = NULL;

	memset(&cur, 0, sizeof(cur));
	util_strlcpy(cur.upgrade_channel, cl->upgrade_channel,
	    sizeof(cur.upgrade_channel));
	util_strlcpy(cur.node_os_channel, cl->node_os_channel,
	    sizeof(cur.node_os_channel));
	/* One read: the interval in force serves the comparison and the
	 * write. */
	if (db_observation_in_force(r->db, p->pool_id, r->opts->as_of, live,
	        provisioning_state, &cur, &f))
		return;
	if (f.found && strcmp(f.row.provisioning_state, "missing") != 0) {
		a = (struct channels_seen){f.row.v.kubernetes_version,
		    f.row.v.node_image_version, f.row.upgrade_channel,
		    f.row.node_os_channel};
		b = (struct channels_seen){live->kubernetes_version,
		    live->node_image_version, cur.upgrade_channel,
		    cur.node_os_channel};
		by = channels_changed_by(&a, &b);
	}
	if (by != NULL)
		util_strlcpy(cur.changed_by, by, sizeof(cur.changed_by));
	(void)db_observation_record_in_force(r->db, r->rec.id, p->pool_id,
	    r->opts->as_of, live, provisioning_state, &cur, &f);
}

static void observe_cluster(
    struct run *r, struct cluster_group *cg, const struct arm_cluster *cl);

static void
observe_group(struct run *r, struct cluster_group *cg,
    const struct http_response *resp, int rc)
{
	struct arm_cluster cl;
	struct arm_error e;
	char err[256], why[600];

	memset(&cl, 0, sizeof(cl));
	/* A gateway that answers every GET with 503 (or 429) after all the
	 * retries is as unavailable as one that does not answer: when no
	 * cluster got another answer, the run is temporary (75). */
	if (rc == 0 && !http_retryable_status(resp->status))
		r->reached_arm = 1;
	if (rc != 0 || resp->status != 200) {
		arm_error_from_response(resp, &e);
		if (rc != 0)
			util_strlcpy(e.message, resp->error, sizeof(e.message));
		arm_error_describe(&e, why, sizeof(why));
		/* Every pool of the cluster failed: each says so. */
		for (struct pool_run *p = cg->first; p != NULL;
		     p = p->next_in_cluster) {
			arm_log_failure(p->pc->key, "GET", cg->url, &e);
			if (e.status == 404) {
				set_observe_error(p,
				    "cluster %s not found (%s)", p->pc->cluster,
				    why);
				/* The cluster is gone: that is an
				 * observation too. */
				(void)db_observation_add(r->db, r->rec.id,
				    p->pool_id, r->opts->as_of, NULL,
				    "missing");
			} else {
				set_observe_error(p, "GET cluster %s: %s",
				    p->pc->cluster, why);
			}
		}
		return;
	}
	if (arm_cluster_parse(resp->body.data, &cl, err, sizeof(err))) {
		log_err(cg->first->pc->key,
		    "GET %s: 200 but the body is not a managed cluster: %s "
		    "(x-ms-request-id %s)",
		    cg->url, err, resp->request_id);
		for (struct pool_run *p = cg->first; p != NULL;
		     p = p->next_in_cluster)
			set_observe_error(
			    p, "unreadable cluster answer: %s", err);
		return;
	}
	observe_cluster(r, cg, &cl);
	arm_cluster_free(&cl);
}

/*
 * A fleet's pool that is not observed this run: its listing failed (the
 * pool fails), or the fleet no longer selects it or its cluster is gone
 * (recorded missing once, then left to retention).  1 when ${p} is such a
 * pool.
 */
static int
fleet_unobserved(struct run *r, struct pool_run *p)
{
	struct db_observation last;

	if (p->pc->fleet_error != NULL) {
		set_observe_error(
		    p, "[fleet:%s]: %s", p->pc->fleet, p->pc->fleet_error);
		return 1;
	}
	if (!p->pc->fleet_missing)
		return 0;
	set_observe_error(p,
	    "missing: [fleet:%s] no longer selects it (or its cluster or "
	    "node pool is gone)",
	    p->pc->fleet);
	/* An observation, not an action of the pool's list: written when
	 * the lists are carried out. */
	if (interp_writes(r->mode) &&
	    (db_observation_latest(r->db, p->pool_id, &last) != 1 ||
	        strcmp(last.provisioning_state, "missing") != 0))
		(void)db_observation_add(r->db, r->rec.id, p->pool_id,
		    r->opts->as_of, NULL, "missing");
	return 1;
}

/* What cluster ${cl} shows of the pools of group ${cg}. */
static void
observe_cluster(
    struct run *r, struct cluster_group *cg, const struct arm_cluster *cl)
{
	for (struct pool_run *p = cg->first; p != NULL;
	     p = p->next_in_cluster) {
		const struct arm_agent_pool *ap = NULL;
		struct db_versions live;

		if (fleet_unobserved(r, p))
			continue;

		for (size_t i = 0; i < cl->npools; i++)
			if (strcasecmp(cl->pools[i].name, p->pc->nodepool) == 0)
				ap = &cl->pools[i];
		util_strlcpy(cg->location, cl->location, sizeof(cg->location));
		(void)db_pool_set_location(r->db, p->pool_id, cl->location);
		if (ap == NULL) {
			set_observe_error(p,
			    "node pool %s not found in cluster %s",
			    p->pc->nodepool, p->pc->cluster);
			log_err(p->pc->key, "%s", p->observe_error);
			(void)db_observation_add(r->db, r->rec.id, p->pool_id,
			    r->opts->as_of, NULL, "missing");
			continue;
		}
		arm_agent_pool_versions(ap, &live);
		p->live = version_set_add(&r->versions, &live);
		if (p->live == NULL) {
			set_observe_error(p, "%s", "out of memory");
			continue;
		}
		p->observed = 1;
		r->rec.observed++;
		record_observation(r, p, cl, &live, ap->provisioning_state);
	}
}

/* ---- plan ---- */

/*
 * Pool ${p}'s plan becomes ${action} in ${slot}, with the snapshot ${name}
 * (NULL or "": none) and ${reason}, each copied to its length.  Out of
 * memory, a create fails (it has no name to send).
 */
static void
plan_keep(struct pool_run *p, enum plan_action action, time_t slot,
    const char *name, const char *reason)
{
	char *n = NULL, *why = strdup(reason);

	if (name != NULL && name[0] != '\0') {
		n = strdup(name);
		if (n == NULL && action == PLAN_CREATE)
			action = PLAN_FAIL;
	}
	free(p->plan.name);
	free(p->plan.reason);
	p->plan.action = action;
	p->plan.slot = slot;
	p->plan.name = n;
	p->plan.reason = why;
}

/* The plan's reason ("" when it could not be kept). */
static const char *
plan_reason(const struct pool_run *p)
{
	return p->plan.reason != NULL ? p->plan.reason : "";
}

/* The create of ${p} fails the plan with ${fmt} and one string. */
static void
plan_refuse(struct pool_run *p, const char *fmt, const char *what)
{
	char msg[600];

	snprintf(msg, sizeof(msg), fmt, what);
	plan_keep(p, PLAN_FAIL, p->plan.slot, p->plan.name, msg);
}

/*
 * Can the create that pool ${p}'s plan holds be sent?  Not without the
 * cluster's location (the PUT's body names it), nor when its name is
 * another's: a PUT would take it over (re-tag it as this pool's) --
 * another pool of this store (a renamed pool key), or a snapshot sync
 * found and recorded as a conflict.  Either turns the plan into a
 * failure with the reason, read from the store only, so that `plan`
 * shows what `run` then meets.
 */
static void
plan_create_check(struct run *r, struct pool_run *p)
{
	char arm_id[512], why[400], msg[600];

	if (p->cg->location[0] == '\0') {
		plan_refuse(p, "%s", "cluster location unknown");
		return;
	}
	arm_snapshot_id(p->pc->subscription, p->pc->resource_group,
	    p->plan.name, arm_id, sizeof(arm_id));
	switch (
	    db_snapshot_owner(r->db, arm_id, p->pool_id, why, sizeof(why))) {
	case 0:
		return;
	case 1:
		snprintf(msg, sizeof(msg),
		    "%s exists in Azure and is %s; not taken over",
		    p->plan.name, why);
		log_err(p->pc->key, "%s", msg);
		plan_refuse(p, "%s", msg);
		return;
	default:
		plan_refuse(p,
		    "could not look up the owner of %s (see the log)",
		    p->plan.name);
		return;
	}
}

/* The slot's entry ${a} of pool ${p}'s action list, as the pool keeps it
 * until the entry is carried out (carry_out_slot) and reported. */
static void
keep_slot_entry(struct pool_run *p, const struct action *a)
{
	enum plan_action action = PLAN_FAIL;

	if (a->kind == ACTION_CREATE)
		action = PLAN_CREATE;
	else if (a->kind == ACTION_SKIP)
		action = PLAN_SKIP;
	else if (a->kind == ACTION_NONE)
		action = PLAN_NONE;
	else if (a->kind == ACTION_PAUSED)
		action = PLAN_PAUSED;
	plan_keep(p, action, a->slot, a->snapshot, a->reasons);
}

/*
 * Decide what pool ${p} needs in this slot: the first entry of its action
 * list (actions_slot), from the store only, for `plan` and `run` alike.
 * 0, or -1 on a store error (or out of memory).
 */
static int
plan_pool(struct run *r, struct pool_run *p)
{
	const char *text = p->pc->policy->schedule;
	struct plan_input in;
	struct action_list l;
	struct db_snapshot newest;
	char err[256];
	int taken, got;

	memset(&in, 0, sizeof(in));
	in.pool = p->pc;
	in.force = (r->opts->mode == RUN_SNAPSHOT);
	/* Pools of one policy share a schedule: parsed once a run of them. */
	if (r->sched_text == NULL || strcmp(r->sched_text, text) != 0) {
		r->sched_text = NULL;
		if (schedule_parse(text, &r->sched, err, sizeof(err))) {
			/* config_load validated it; this cannot happen. */
			plan_keep(p, PLAN_FAIL, 0, NULL, err);
			return 0;
		}
		r->sched_text = text;
	}
	if (plan_slot(&r->sched, r->cfg->tz, r->opts->as_of, in.force, &in.slot,
	        err, sizeof(err))) {
		plan_keep(p, PLAN_FAIL, 0, NULL, err);
		return 0;
	}
	taken = db_slot_taken(r->db, p->pool_id, in.slot);
	if (taken < 0)
		return -1;
	/*
	 * The newest active snapshot, as reconcile left it: plan_decide
	 * compares with it only in a slot not yet taken, so a pool whose
	 * slot is done -- 23 of an hourly schedule's 24 runs of a daily
	 * one -- reads no page of its snapshots here (issue 16: a leaf of
	 * snapshots_active_rows a pool on a year's store).
	 */
	got = taken ? 0 : db_snapshot_newest_active(r->db, p->pool_id, &newest);
	if (got < 0)
		return -1;
	in.slot_taken = taken;
	in.observed = p->observed;
	in.observe_error = p->observe_error;
	if (p->live != NULL)
		in.live = *p->live;
	in.have_newest = got;
	if (got) {
		in.newest = newest.v;
		in.newest_name = newest.name;
	}
	memset(&l, 0, sizeof(l));
	if (actions_slot(&in, r->cfg->name_prefix, &l)) {
		action_list_free(&l);
		return -1;
	}
	keep_slot_entry(p, &l.v[0]);
	action_list_free(&l);
	if (p->plan.action == PLAN_CREATE)
		plan_create_check(r, p);
	return 0;
}

/*
 * Pool ${p}'s slot entry as its list holds it (the first action), from
 * what the pool keeps of it (plan_keep).  A create names the snapshot the
 * run took (its store id), or, in a run that only reports, the one it
 * would take (pending); in a run whose PUT did not take it, none.
 */
static void
slot_entry(const struct run *r, const struct pool_run *p, struct action *a)
{
	static const enum action_kind kinds[] = {
	    [PLAN_NONE] = ACTION_NONE,
	    [PLAN_CREATE] = ACTION_CREATE,
	    [PLAN_SKIP] = ACTION_SKIP,
	    [PLAN_FAIL] = ACTION_FAIL,
	    [PLAN_PAUSED] = ACTION_PAUSED,
	};

	a->kind = kinds[p->plan.action];
	a->snapshot_id = 0;
	if (a->kind == ACTION_CREATE && p->taken)
		a->snapshot_id = p->snap_id;
	else if (a->kind == ACTION_CREATE && !interp_writes(r->mode))
		a->snapshot_id = ACTION_PENDING_ID;
	util_strlcpy(a->snapshot, p->plan.name != NULL ? p->plan.name : "",
	    sizeof(a->snapshot));
	a->channel[0] = '\0';
	util_strlcpy(a->reasons, plan_reason(p), sizeof(a->reasons));
	a->slot = p->plan.slot;
}

/* ---- observe and apply: one batch ---- */

/*
 * The GETs and the PUTs go in one http_batch, so that a cluster's PUTs
 * start as soon as its GET has answered and its pools' intents are
 * committed, not after the last GET: the waits overlap, and the run ends
 * when the last request does.  The PUTs go through slots: max_parallel
 * held requests a subscription (a lane), each reused, PUT after PUT, by
 * the next pool of its lane waiting for one (http_batch_release); a
 * slot's body and URL are freed as its answer is recorded, so the memory
 * is that of the slots, not of the fleet.  Slots never needed are
 * dropped by the batch when nothing else is left.
 */

/* One PUT slot: the pool it carries now (NULL: free) and its buffers. */
struct put_slot {
	struct pool_run *p;
	char *body, *url;
};

/* The PUT slots of one subscription and the pools waiting for one. */
struct put_lane {
	const char *subscription;
	size_t *free; /* slot request indices, a stack */
	size_t nfree;
	struct pool_run *head, *tail; /* waiting, in order */
};

struct batch_ctx {
	struct run *r;
	struct http_request *reqs;
	struct http_response *resps;
	size_t nget; /* requests [0, nget) are GETs, the rest PUT slots */
	size_t *gi; /* request i < nget is group gi[i]'s GET */
	size_t gets_done;
	struct put_slot *slots; /* slot of request nget + k */
	struct put_lane *lanes;
	size_t nlanes;
	int running; /* inside http_batch: slots go by http_batch_release */
	int stopped; /* the store failed: no PUT is sent any more */
};

/*
 * Does group ${cg} need its GET?  Not when a fleet's listing showed the
 * cluster, nor when every pool of it is a fleet's pool not observed.
 */
static int
group_needs_get(struct run *r, struct cluster_group *cg)
{
	if (fleet_cluster(&r->fleets, cg->subscription, cg->resource_group,
	        cg->cluster) != NULL)
		return 0;
	for (struct pool_run *p = cg->first; p != NULL; p = p->next_in_cluster)
		if (!p->pc->fleet_missing && p->pc->fleet_error == NULL)
			return 1;
	return 0;
}

static struct put_lane *
lane_of(struct batch_ctx *ctx, const char *subscription)
{
	for (size_t k = 0; k < ctx->nlanes; k++)
		if (strcmp(ctx->lanes[k].subscription, subscription) == 0)
			return &ctx->lanes[k];
	return NULL;
}

/* Build the PUT of pool ${p} into ${req} (body and URL malloc'd). */
static int
put_request(struct run *r, struct pool_run *p, struct http_request *req,
    char **body, char **url)
{
	struct arm_tag tags[3];
	char slot[32], pool_id[512], snap_id[512], u[1024];

	pool_ids(p, p->plan.name, pool_id, sizeof(pool_id), snap_id,
	    sizeof(snap_id));
	util_format_time(p->plan.slot, slot, sizeof(slot));
	memset(tags, 0, sizeof(tags));
	util_strlcpy(tags[0].key, TAG_MANAGED, sizeof(tags[0].key));
	util_strlcpy(tags[0].value, "true", sizeof(tags[0].value));
	util_strlcpy(tags[1].key, TAG_POOL, sizeof(tags[1].key));
	util_strlcpy(tags[1].value, p->pc->key, sizeof(tags[1].value));
	util_strlcpy(tags[2].key, TAG_SLOT, sizeof(tags[2].key));
	util_strlcpy(tags[2].value, slot, sizeof(tags[2].value));
	*body = arm_snapshot_put_body(p->cg->location, pool_id, tags, 3);
	arm_url(r->arm, snap_id, "", u, sizeof(u));
	*url = strdup(u);
	if (*body == NULL || *url == NULL)
		return -1;
	req->method = "PUT";
	req->url = *url;
	req->body = *body;
	req->auth = 1;
	req->context = p->pc->key;
	req->throttle_key = p->pc->subscription;
	return 0;
}

/*
 * Give the pools waiting for a PUT the free slots of their lanes.  Their
 * intents are committed first: nothing is sent that the store has not
 * recorded.
 */
static void
dispatch(struct batch_ctx *ctx)
{
	struct run *r = ctx->r;
	int flushed = 0;

	for (size_t k = 0; k < ctx->nlanes; k++) {
		struct put_lane *l = &ctx->lanes[k];

		while (l->head != NULL && l->nfree > 0 && !ctx->stopped) {
			struct pool_run *p = l->head;
			size_t i = l->free[l->nfree - 1];
			struct put_slot *sl = &ctx->slots[i - ctx->nget];

			if (!flushed) {
				write_flush(r, 1);
				flushed = 1;
			}
			if (r->write_failed) {
				ctx->stopped = 1;
				break;
			}
			l->head = p->next_put;
			if (l->head == NULL)
				l->tail = NULL;
			if (put_request(r, p, &ctx->reqs[i], &sl->body,
			        &sl->url) != 0) {
				free(sl->body);
				free(sl->url);
				sl->body = sl->url = NULL;
				pool_fail(
				    p, "%s", "out of memory building the PUT");
				continue;
			}
			l->nfree--;
			sl->p = p;
			r->puts_sent++;
			if (!ctx->running)
				ctx->reqs[i].held = 0;
			else if (http_batch_release(r->http, i) != 0)
				ctx->stopped = 1; /* cannot happen */
		}
	}
}

/* Pool ${p}'s intent is written: it waits for a PUT slot of its lane. */
static void
queue_put(struct batch_ctx *ctx, struct pool_run *p)
{
	struct put_lane *l = lane_of(ctx, p->pc->subscription);

	if (l == NULL)
		return; /* every pool's subscription has a lane */
	p->next_put = NULL;
	if (l->tail != NULL)
		l->tail->next_put = p;
	else
		l->head = p;
	l->tail = p;
}

/*
 * The slot entry's sink (the interpreter calls it only when the run
 * carries its lists out): a skip is recorded; a create's intent (the
 * snapshot row in state creating) and decision are written, and its PUT
 * queued in observe's batch; a fail is recorded.  Failures are the
 * pool's.  ${arg} is observe's batch, or one with no request (a fail
 * needs none).  Nothing here decides: plan_pool did, for `plan` and
 * `run` alike.  0, or -1 when the store failed.
 */
static int
carry_slot(void *arg, void *pool, const struct action *a)
{
	struct batch_ctx *ctx = arg;
	struct run *r = ctx->r;
	struct pool_run *p = pool;
	/* the entry's reasons are cut to its 256 bytes; the pool keeps
	 * them whole (a refused create names why, at length) */
	const char *why = plan_reason(p);
	char arm_id[512];

	write_begin(r);
	if (r->write_failed)
		return -1;
	switch (a->kind) {
	case ACTION_SKIP:
		record_decision(r, p, 0, a->slot, "skip", why);
		r->rec.skipped++;
		return 0;
	case ACTION_FAIL:
		record_decision(r, p, 0, a->slot, "fail", why);
		return 0;
	case ACTION_CREATE:
		break;
	default:
		return 0;
	}
	arm_snapshot_id(p->pc->subscription, p->pc->resource_group, a->snapshot,
	    arm_id, sizeof(arm_id));
	if (db_snapshot_intent(r->db, p->pool_id, a->snapshot, arm_id, a->slot,
	        r->opts->as_of, &p->snap_id)) {
		p->snap_id = 0;
		pool_fail(p,
		    "could not record the intent to create %s (see "
		    "the log)",
		    a->snapshot);
		return 0;
	}
	record_decision(r, p, p->snap_id, a->slot, "create", why);
	if (ctx->reqs != NULL && !p->failed)
		queue_put(ctx, p);
	return 0;
}

static const struct interp_sinks slot_sinks = {NULL, carry_slot};

/*
 * A run's pool that takes no snapshot (its slot skipped, or taken
 * already: 23 of a daily schedule's 24 hourly runs) has the inputs of its
 * promotion and retention final once its plan is recorded, and one that
 * takes one once its PUT's answer shows the snapshot taken (put_done; the
 * snapshot is fresh, slot_entry): its list is decided now, while the
 * other requests are in flight, and carried out when it sends nothing
 * (keeps only: prune_pool_now); the rest waits for promote_and_retain.
 * Only without a report (a plain run, as the timer starts it): the lines
 * a report prints are kept until the pool's slice is reported, and
 * keeping every pool's would make the run's memory grow with the fleet.
 * `snapshot` does not prune; `plan` decides at the end
 * (the same lists: nothing between changes a skipped pool's store).
 */
static int report_wanted(const struct run *r);

static void
retain_now(struct run *r, struct pool_run *p)
{
	struct prune_pool pr;
	int got;

	if (report_wanted(r) || r->opts->mode != RUN_SCHEDULED ||
	    r->write_failed || !p->observed || p->failed ||
	    !(p->plan.action == PLAN_SKIP || p->plan.action == PLAN_NONE ||
	        (p->plan.action == PLAN_CREATE && p->taken)))
		return;
	memset(&pr, 0, sizeof(pr));
	pr.pc = p->pc;
	pr.pool_id = p->pool_id;
	pr.has_slot = 1;
	slot_entry(r, p, &pr.slot);
	got = prune_pool_now(run_prune_ctx(r), &pr, 1);
	if (got < 0)
		r->write_failed = 1;
	p->retained = got == 1;
	prune_pool_clear(&pr); /* no report to print its lines */
}

/*
 * Pool ${p}'s slot entry (the first of its action list, plan_pool), to
 * the interpreter (job/run/interp.c), which alone knows whether the run
 * carries it out or only reports it: in this batch, as its cluster
 * answered, for an observed pool's skip or create (carry_slot: its PUT
 * goes in this batch, then put_done and confirm_put verify it).  A fail
 * waits until ARM is known to answer (record_plan_failures).
 */
static void
carry_out_slot(struct batch_ctx *ctx, struct pool_run *p)
{
	struct interp it = {ctx->r->mode, &slot_sinks, ctx};
	struct action a;

	if (!p->observed || p->plan.action == PLAN_FAIL)
		return;
	slot_entry(ctx->r, p, &a);
	(void)interp_list(&it, p, &a, 1);
}

/*
 * Pool ${p} is done with: nothing in this run writes its rows again, and
 * it has not failed.  For the textfile, its outcome is written now, in
 * the batch's transaction (write_metrics writes only the others'; a run
 * that stops before it counts its failures writes every pool's again, as
 * failed), and its figures are read.  The set is made when the first
 * pool is done, not before the first request (a fleet's is a few MiB to
 * clear).  Out of memory or on a store error, what is missing is read at
 * the end.
 */
static void
read_figures(struct run *r, struct pool_run *p)
{
	if (!r->metrics_wanted || r->write_failed || r->rec.id <= 0)
		return;
	if (db_pool_outcome_set(r->db, p->pool_id, r->rec.id, r->rec.as_of, 0))
		return;
	p->outcome = 1;
	if (r->metrics == NULL)
		r->metrics = metrics_set_new(r->cfg);
	if (r->metrics != NULL)
		(void)metrics_set_read(r->metrics, r->db, p->pc, p->pool_id);
}

/* Plan and record the pools of group ${cg}, observed or not; queue their
 * PUTs. */
static void
plan_group(struct batch_ctx *ctx, struct cluster_group *cg)
{
	struct run *r = ctx->r;

	for (struct pool_run *p = cg->first; p != NULL;
	     p = p->next_in_cluster) {
		if (plan_pool(r, p) != 0) {
			r->write_failed = 1;
			continue;
		}
		carry_out_slot(ctx, p);
		retain_now(r, p);
		if (p->retained)
			read_figures(r, p);
		if (p->plan.action == PLAN_SKIP)
			r->progress.skipped++;
		else if (p->plan.action == PLAN_FAIL || p->failed)
			r->progress.failed++;
	}
	write_flush(r, 0);
	r->progress.clusters_done++;
	progress_draw(&r->progress, 0);
	dispatch(ctx);
}

/* One cluster answered: record what its pools run, plan them, write their
 * decisions and intents, and send their PUTs, while the other GETs are in
 * flight. */
static void
observe_done(struct batch_ctx *ctx, size_t i, int rc)
{
	struct run *r = ctx->r;
	struct cluster_group *cg = &r->groups[ctx->gi[i]];

	ctx->gets_done++;
	write_begin(r);
	if (r->write_failed) {
		/* The store failed: this run records (and sends) nothing
		 * more; observe() says so once. */
		http_response_free(&ctx->resps[i]);
		ctx->stopped = 1;
		return;
	}
	observe_group(r, cg, &ctx->resps[i], rc);
	http_response_free(&ctx->resps[i]);
	plan_group(ctx, cg);
}

/* The PUT (or its GET) showed snapshot ${s} of pool ${p}: record it. */
static void
record_taken(struct run *r, struct pool_run *p, const struct arm_snapshot *s)
{
	struct db_versions v;

	arm_snapshot_versions(s, &v);
	if (db_snapshot_set_active(r->db, p->snap_id,
	        s->created_at ? s->created_at : r->opts->as_of, &v) == 0) {
		p->taken = 1;
		r->rec.taken++;
		log_info(p->pc->key, "snapshot %s taken (%s, Kubernetes %s)",
		    p->plan.name, v.node_image_version, v.kubernetes_version);
	}
}

/*
 * A PUT whose answer did not show the snapshot: GET it.  Shown (this
 * snapshot of this pool, with its versions): taken.  Otherwise the row is
 * "unconfirmed" -- never the newest active snapshot, settled by the next
 * run's reconcile -- and the pool fails with the PUT's URL, status and
 * request id.
 */
static void
confirm_put(struct run *r, struct pool_run *p)
{
	struct arm_snapshot got;
	struct arm_error e;
	char src[512], want[512], why[700], msg[1600];

	pool_ids(p, p->plan.name, src, sizeof(src), want, sizeof(want));
	if (arm_snapshot_get(r->arm, p->pc->key, want, &got, &e) == 0) {
		if (arm_snapshot_confirms(&got, want, src, why, sizeof(why))) {
			write_begin(r);
			record_taken(r, p, &got);
			write_flush(r, 1);
			free(p->unconfirmed);
			p->unconfirmed = NULL;
			return;
		}
	} else if (e.status == 404) {
		snprintf(why, sizeof(why),
		    "a GET does not find it (404, x-ms-request-id %s)",
		    e.request_id);
	} else {
		arm_error_describe(&e, msg, sizeof(msg));
		snprintf(why, sizeof(why), "the GET failed: %s", msg);
	}
	snprintf(msg, sizeof(msg),
	    "%s; nor does a GET show it: %s; recorded unconfirmed, "
	    "the next run settles it",
	    p->unconfirmed, why);
	log_err(p->pc->key, "%s", msg);
	write_begin(r);
	(void)db_snapshot_set_state(r->db, p->snap_id, "unconfirmed", msg);
	record_decision(r, p, p->snap_id, p->plan.slot, "fail", msg);
	write_flush(r, 1);
	pool_fail(p, "snapshot not confirmed: %s", msg);
}

/* A PUT answered: record its outcome, free its slot, fill it again. */
static void
put_done(struct batch_ctx *ctx, size_t i, int rc)
{
	struct run *r = ctx->r;
	struct put_slot *sl = &ctx->slots[i - ctx->nget];
	struct pool_run *p = sl->p;
	struct http_response *resp = &ctx->resps[i];
	struct arm_snapshot s;
	struct arm_error e;
	char err[256], why[600];

	if (rc == 0)
		r->reached_arm = 1;
	write_begin(r);
	if (rc == 0 && (resp->status == 200 || resp->status == 201)) {
		char src[512], want[512];

		pool_ids(p, p->plan.name, src, sizeof(src), want, sizeof(want));
		if (arm_snapshot_parse(resp->body.data, &s, err, sizeof(err)) ==
		        0 &&
		    arm_snapshot_confirms(&s, want, src, err, sizeof(err))) {
			record_taken(r, p, &s);
			goto out;
		}
		/* ARM's word does not show it: a GET decides, after the
		 * batch (confirm_put). */
		if (asprintf(&p->unconfirmed,
		        "PUT %s answered %ld (x-ms-request-id %s) but %s",
		        sl->url, resp->status, resp->request_id, err) < 0)
			p->unconfirmed = NULL;
		goto out;
	}
	arm_error_from_response(resp, &e);
	if (rc != 0)
		util_strlcpy(e.message, resp->error, sizeof(e.message));
	arm_log_failure(p->pc->key, "PUT", sl->url, &e);
	arm_error_describe(&e, why, sizeof(why));
	if (rc != 0 || http_retryable_status(resp->status)) {
		/* It may or may not have been created: keep "creating" and
		 * let reconcile ask. */
		pool_fail(p, "PUT snapshot: %s", why);
	} else {
		/* A definite refusal (4xx): nothing was created. */
		(void)db_snapshot_set_state(r->db, p->snap_id, "failed", why);
		pool_fail(p, "PUT snapshot: %s", why);
	}
	record_decision(r, p, p->snap_id, p->plan.slot, "fail", why);
out:
	if (p->taken) {
		/* Its promotion and retention, and its figures, now. */
		retain_now(r, p);
		if (p->retained)
			read_figures(r, p);
	}
	write_flush(r, 0);
	http_response_free(resp);
	free(sl->body);
	free(sl->url);
	memset(sl, 0, sizeof(*sl));
	{
		struct put_lane *l = lane_of(ctx, p->pc->subscription);

		if (l != NULL)
			l->free[l->nfree++] = i;
	}
	r->progress.taken = (size_t)r->rec.taken;
	if (p->failed)
		r->progress.failed++;
	progress_draw(&r->progress, 0);
	if (r->write_failed)
		ctx->stopped = 1;
	dispatch(ctx);
}

static void
batch_done(void *vctx, size_t i, int rc)
{
	struct batch_ctx *ctx = vctx;

	if (i < ctx->nget)
		observe_done(ctx, i, rc);
	else
		put_done(ctx, i, rc);
}

/* The lanes: one a subscription of the run's clusters, with its slots
 * (requests [first, first + per) of the batch). */
static int
make_lanes(struct batch_ctx *ctx, size_t first, size_t per)
{
	struct run *r = ctx->r;

	ctx->lanes = calloc(r->ngroups ? r->ngroups : 1, sizeof(*ctx->lanes));
	if (ctx->lanes == NULL)
		return -1;
	for (size_t g = 0; g < r->ngroups; g++) {
		const char *sub = r->groups[g].subscription;
		struct put_lane *l;

		if (lane_of(ctx, sub) != NULL)
			continue;
		l = &ctx->lanes[ctx->nlanes];
		l->subscription = sub;
		l->free = calloc(per, sizeof(*l->free));
		if (l->free == NULL)
			return -1;
		for (size_t k = 0; k < per; k++) {
			size_t i = first + ctx->nlanes * per + k;
			struct http_request *req = &ctx->reqs[i];

			req->held = 1;
			req->method = "PUT";
			req->auth = 1;
			req->throttle_key = sub;
			http_response_init(&ctx->resps[i]);
			/* Taken from the top: the lowest index first. */
			l->free[per - 1 - k] = i;
		}
		l->nfree = per;
		ctx->nlanes++;
	}
	return 0;
}

static void
batch_ctx_free(struct batch_ctx *ctx, size_t nslots)
{
	for (size_t k = 0; ctx->slots != NULL && k < nslots; k++) {
		free(ctx->slots[k].body);
		free(ctx->slots[k].url);
	}
	for (size_t k = 0; k < ctx->nlanes; k++)
		free(ctx->lanes[k].free);
	free(ctx->lanes);
	free(ctx->slots);
	free(ctx->reqs);
	free(ctx->resps);
	free(ctx->gi);
}

/*
 * One GET per cluster and one PUT per snapshot, concurrently, in one
 * batch: each GET's answer observes, plans and records its pools, and
 * their PUTs go as soon as their intents are committed.  PUTs whose
 * answer did not show the snapshot are confirmed by a GET afterwards.
 * 0, or -1 when the batch could not run or the store failed (then no
 * more is sent: intents may be missing).
 */
static int
observe(struct run *r)
{
	struct batch_ctx ctx;
	size_t n = 0, per = 0, nslots = 0;
	int rc = 0;

	if (r->ngroups == 0)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.r = r;
	/* PUT slots only when the creates are carried out (the interpreter
	 * queues them, carry_slot). */
	if (interp_writes(r->mode)) {
		/* Enough slots to keep every request of a subscription's
		 * bound a PUT. */
		per = (size_t)(r->cfg->max_parallel > 0 ? r->cfg->max_parallel
		                                        : 1);
	}
	/* One lane a subscription: the groups are sorted by it, so each
	 * comes in one run of groups (this counts runs, at least as many). */
	for (size_t g = 0; per > 0 && g < r->ngroups; g++)
		if (g == 0 ||
		    strcmp(r->groups[g - 1].subscription,
		        r->groups[g].subscription) != 0)
			nslots += per;
	ctx.reqs = calloc(r->ngroups + nslots, sizeof(*ctx.reqs));
	ctx.resps = calloc(r->ngroups + nslots, sizeof(*ctx.resps));
	ctx.gi = calloc(r->ngroups, sizeof(*ctx.gi));
	ctx.slots = calloc(nslots ? nslots : 1, sizeof(*ctx.slots));
	if (ctx.reqs == NULL || ctx.resps == NULL || ctx.gi == NULL ||
	    ctx.slots == NULL) {
		batch_ctx_free(&ctx, 0);
		return -1;
	}
	for (size_t i = 0; i < r->ngroups; i++) {
		struct cluster_group *cg = &r->groups[i];

		if (!group_needs_get(r, cg))
			continue;
		ctx.reqs[n].method = "GET";
		ctx.reqs[n].url = cg->url;
		ctx.reqs[n].auth = 1;
		ctx.reqs[n].context = cg->first->pc->key;
		ctx.reqs[n].throttle_key = cg->subscription;
		http_response_init(&ctx.resps[n]);
		ctx.gi[n++] = i;
	}
	ctx.nget = n;
	if (per > 0 && make_lanes(&ctx, n, per) != 0) {
		batch_ctx_free(&ctx, nslots);
		return -1;
	}
	/* The clusters a fleet's listing showed (ARM answered), and those
	 * with no pool to observe: planned now, their PUTs first in line. */
	for (size_t i = 0; i < r->ngroups; i++) {
		struct cluster_group *cg = &r->groups[i];
		const struct arm_cluster *listed;

		if (group_needs_get(r, cg))
			continue;
		write_begin(r);
		if (r->write_failed)
			continue;
		listed = fleet_cluster(&r->fleets, cg->subscription,
		    cg->resource_group, cg->cluster);
		if (listed != NULL) {
			r->reached_arm = 1;
			observe_cluster(r, cg, listed);
		} else {
			for (struct pool_run *p = cg->first; p != NULL;
			     p = p->next_in_cluster)
				(void)fleet_unobserved(r, p);
		}
		plan_group(&ctx, cg);
	}
	write_flush(r, 1);
	ctx.running = 1;
	/* Only the lanes' slots: the rest of the bound is not requests. */
	if (n + ctx.nlanes * per > 0 && !r->write_failed)
		rc = http_batch(r->http, ctx.reqs, ctx.resps,
		    n + ctx.nlanes * per, r->cfg->max_parallel, batch_done,
		    &ctx);
	ctx.running = 0;
	write_flush(r, 1);
	batch_ctx_free(&ctx, nslots);
	if (rc == 0 && r->write_failed) {
		if (r->puts_sent == 0)
			log_err(NULL,
			    "the store failed while planning (see above); "
			    "nothing is sent to Azure this run");
		else
			log_err(NULL,
			    "the store failed while recording snapshots (see "
			    "above); nothing more is sent to Azure this run");
		rc = -1;
	}
	/* The PUTs whose answer did not show their snapshot. */
	for (size_t i = 0; rc == 0 && i < r->npools; i++)
		if (r->pools[i].unconfirmed != NULL)
			confirm_put(r, &r->pools[i]);
	return rc;
}

/* ---- report ---- */

/*
 * The report is streamed: each pool is reported once it is done (at the
 * end of its retention slice, or at the end of the run when there is no
 * retention), its lines freed at once, so that a report over a fleet
 * costs no memory per pool.  --json goes straight to standard output, one
 * element of "pools" a pool, in the layout json_dumps(JSON_INDENT(2))
 * gives the whole document; the table goes to a spooled table
 * (table_spool) that prints at the end with its columns as wide as their
 * widest cell.  Both print what they printed when every pool's lines were
 * kept until the end.
 */
static int
report_wanted(const struct run *r)
{
	return r->dry || r->opts->json || log_verbosity() > 0;
}

/* The columns of the text report. */
static const struct table_col plan_cols[] = {
    /* At 80 columns the snapshot name goes before the reason wraps. */
    {"POOL", 0, 0},
    {"ACTION", 0, 0},
    {"SNAPSHOT", 1, 0},
    {"REASON", 0, 1},
};

/* What count_failures decides for one pool: its plan's or retention's
 * failure is the pool's. */
static void
settle_pool(struct pool_run *p)
{
	if (p->plan.action == PLAN_FAIL && !p->failed)
		pool_fail(p, "%s", plan_reason(p));
	if (p->pr != NULL && p->pr->failed && !p->failed)
		pool_fail(p, "%s", p->pr->error);
}

static json_t *
pool_json(const struct run *r, const struct pool_run *p)
{
	int prune_only = (r->opts->mode == RUN_PRUNE);
	json_t *o = json_object();
	char slot[32];

	json_object_set_new(o, "pool", json_string(p->pc->key));
	if (!prune_only) {
		util_format_time(p->plan.slot, slot, sizeof(slot));
		json_object_set_new(
		    o, "action", json_string(plan_action_name(p->plan.action)));
		json_object_set_new(o, "slot", json_string(slot));
		json_object_set_new(o, "snapshot",
		    p->plan.name != NULL ? json_string(p->plan.name)
		                         : json_null());
		json_object_set_new(o, "reasons", reasons_json(plan_reason(p)));
	} else if (p->pc->policy->paused) {
		json_object_set_new(o, "action", json_string("paused"));
		json_object_set_new(o, "reasons", reasons_json(PAUSED_REASON));
	}
	if (p->observed) {
		json_object_set_new(o, "node_image_version",
		    json_string(p->live->node_image_version));
		json_object_set_new(o, "kubernetes_version",
		    json_string(p->live->kubernetes_version));
	}
	if (!r->dry) {
		json_object_set_new(o, "state",
		    json_string(p->failed ? "failed"
		            : p->taken    ? "active"
		                          : "unchanged"));
		if (p->failed)
			json_object_set_new(
			    o, "error", json_string(pool_error(p)));
	}
	json_object_set_new(o, "snapshots", prune_lines_json(p->pr));
	return o;
}

/* Write ${text} with ${indent} spaces before each of its lines. */
static void
put_indented(const char *text, int indent)
{
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t n = nl != NULL ? (size_t)(nl - text) + 1 : strlen(text);

		printf("%*s", indent, "");
		fwrite(text, 1, n, stdout);
		text += n;
	}
}

/* The JSON report's first lines, up to "pools": ${open} ("[" or "[]"). */
static void
report_json_head(struct run *r, const char *open)
{
	json_t *as_of;
	char t[32];
	char *s;

	util_format_time(r->opts->as_of, t, sizeof(t));
	as_of = json_string(t);
	s = as_of != NULL ? json_dumps(as_of, JSON_ENCODE_ANY) : NULL;
	json_decref(as_of);
	printf("{\n  \"as_of\": %s,\n  \"dry_run\": %s,\n  \"pools\": %s",
	    s != NULL ? s : "null", r->dry ? "true" : "false", open);
	free(s);
}

/* One pool's element of the JSON report; the head first. */
static void
report_json_pool(struct run *r, const struct pool_run *p)
{
	json_t *o = pool_json(r, p);
	char *s;

	if (!r->json_open) {
		report_json_head(r, "[");
		r->json_open = 1;
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	printf("%s\n", r->json_pools++ > 0 ? "," : "");
	if (s != NULL)
		put_indented(s, 4);
	free(s);
}

/* The end of the JSON report: the counts. */
static void
report_json_end(struct run *r)
{
	if (!r->json_open) {
		report_json_head(r, "[]");
	} else {
		printf("\n  ]");
	}
	printf(",\n  \"observed\": %d,\n  \"taken\": %d,\n  \"skipped\": %d,\n"
	       "  \"promoted\": %d,\n  \"deleted\": %d,\n  \"failed\": %d\n}\n",
	    r->rec.observed, r->rec.taken, r->rec.skipped, r->rec.promoted,
	    r->rec.deleted, r->rec.failed);
	fflush(stdout);
	r->json_open = 0;
}

/* One pool's rows of the text report. */
static void
report_table_pool(struct run *r, const struct pool_run *p)
{
	const char *action = plan_action_name(p->plan.action);
	const char *key = p->pc->key;
	struct table *tab = r->report;

	if (!r->dry && p->failed) {
		(void)table_add(
		    tab, key, "FAILED", p->plan.name, pool_error(p));
		key = "";
	} else if (r->opts->mode != RUN_PRUNE) {
		(void)table_add(tab, key, action, p->plan.name, plan_reason(p));
		key = "";
	} else if (p->pc->policy->paused) {
		printf(
		    "%-24s %-8s %-52s %s\n", key, "paused", "-", PAUSED_REASON);
		key = "";
	}
	for (size_t j = 0; p->pr != NULL && j < p->pr->nlines; j++) {
		const struct prune_line *l = &p->pr->lines[j];

		/* A run reports what it changed; keeps are for plan,
		 * prune --dry-run and -v. */
		if (!r->dry && log_verbosity() == 0 &&
		    strcmp(l->action, "keep") == 0)
			continue;
		(void)table_add(tab, key, l->action, l->snapshot, l->reasons);
		key = "";
	}
}

/*
 * Report the pools before ${upto} not yet reported (they are done) and
 * free their lines.  Without a report, only the lines are freed.
 */
static void
report_pools(struct run *r, size_t upto)
{
	for (; r->reported < upto; r->reported++) {
		struct pool_run *p = &r->pools[r->reported];

		if (report_wanted(r)) {
			settle_pool(p);
			if (r->opts->json) {
				progress_clear(&r->progress);
				report_json_pool(r, p);
			} else {
				if (r->report == NULL) {
					r->report = table_new(plan_cols,
					    sizeof(plan_cols) /
					        sizeof(plan_cols[0]));
					if (r->report != NULL)
						(void)table_spool(r->report);
				}
				if (r->report != NULL)
					report_table_pool(r, p);
			}
		}
		prune_pool_clear(p->pr);
	}
}

/* The end of the report, once the run's counts are final. */
static void
report_end(struct run *r)
{
	if (!report_wanted(r))
		return;
	report_pools(r, r->npools);
	if (r->opts->json) {
		report_json_end(r);
		return;
	}
	if (r->report != NULL)
		table_print(r->report, stdout);
	table_free(r->report);
	r->report = NULL;
	if (!r->dry)
		printf("\n%d observed, %d taken, %d skipped, %d promoted, "
		       "%d deleted, %d failed\n",
		    r->rec.observed, r->rec.taken, r->rec.skipped,
		    r->rec.promoted, r->rec.deleted, r->rec.failed);
}

static void
count_failures(struct run *r)
{
	r->rec.failed = 0;
	r->counted = 1;
	for (size_t i = 0; i < r->npools; i++) {
		struct pool_run *p = &r->pools[i];

		settle_pool(p);
		if (p->failed)
			r->rec.failed++;
	}
	/* A fleet refused or not listed fails the run even with no pool. */
	if (r->fleets.failed && r->rec.failed == 0)
		r->rec.failed = 1;
}

/*
 * Promotion, then retention (DESIGN.md section 6: a snapshot that has just
 * soaked is never pruned by the same run).  Each pool's whole list -- its
 * slot entry, carried out already in observe's batch, then promotion and
 * retention -- is built for RETAIN_SLICE pools at a time, through one
 * slice's struct prune_pool, and what follows the slot entry is
 * interpreted (prune_pools); the pools of a slice are settled and
 * reported (and their lists and lines freed) as it ends, so no more than
 * a slice's lists are ever held.
 */
static int
promote_and_retain(struct run *r)
{
	struct prune_ctx *pc = run_prune_ctx(r);
	struct prune_pool *prs;
	int rc = 0;

	prs = calloc(RETAIN_SLICE, sizeof(*prs));
	if (prs == NULL) {
		log_err(NULL, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < r->npools && rc == 0; i += RETAIN_SLICE) {
		size_t n = r->npools - i;

		if (n > RETAIN_SLICE)
			n = RETAIN_SLICE;
		memset(prs, 0, n * sizeof(*prs));
		for (size_t k = 0; k < n; k++) {
			struct pool_run *p = &r->pools[i + k];
			struct prune_pool *pr = &prs[k];

			pr->pc = p->pc;
			pr->pool_id = p->pool_id;
			/* Carried out as its GET or PUT answered (retain_now):
			 * no list to build. */
			pr->settled = p->retained;
			p->pr = pr;
			if (pr->settled)
				continue;
			/* Its list starts with its slot entry (not `prune`'s):
			 * the snapshot it took, or would take, is fresh for
			 * promotion and retention, so plan and run list the
			 * same. */
			pr->has_slot = r->opts->mode != RUN_PRUNE;
			if (pr->has_slot)
				slot_entry(r, p, &pr->slot);
		}
		rc = prune_pools(pc, prs, n, r->opts->mode != RUN_PRUNE);
		for (size_t k = 0; k < n; k++) {
			r->rec.deleted += prs[k].deleted;
			r->rec.promoted += prs[k].promoted;
			/* Retention's failure is the pool's (count_failures
			 * comes after the slice is gone). */
			settle_pool(&r->pools[i + k]);
		}
		if (rc == 0)
			report_pools(r, i + n); /* these pools are done */
		for (size_t k = 0; k < n; k++) {
			prune_pool_clear(&prs[k]);
			r->pools[i + k].pr = NULL;
		}
	}
	free(prs);
	return rc;
}

/* The plan's failures (pools not observed, creates refused) are carried
 * out too, once ARM is known to answer: recorded as decisions, so that
 * `explain` and the store show why a slot was not taken. */
static void
record_plan_failures(struct run *r)
{
	struct batch_ctx none = {.r = r}; /* a fail sends nothing */
	struct interp it = {r->mode, &slot_sinks, &none};
	struct action a;

	for (size_t i = 0; i < r->npools && !r->write_failed; i++) {
		struct pool_run *p = &r->pools[i];

		if (p->plan.action != PLAN_FAIL)
			continue;
		slot_entry(r, p, &a);
		(void)interp_list(&it, p, &a, 1);
	}
	write_flush(r, 1);
}

/* The textfile: from the figures read during the run, what is missing
 * read now (metrics_set_write); without them, or when a grouped commit
 * failed (what was read may have been rolled back), all from the store. */
static int
write_textfile(struct run *r)
{
	if (r->metrics != NULL && !r->write_failed)
		return metrics_set_write(r->metrics, r->db);
	return metrics_write(r->cfg, r->db);
}

/* Pool ${i}'s outcome is in the store already: written early
 * (read_figures), committed, and still what it is (not failed). */
static int
outcome_written(const struct run *r, size_t i)
{
	const struct pool_run *p = &r->pools[i];

	return p->outcome && !r->write_failed && r->counted && !p->failed;
}

/*
 * What the metrics file is rendered from (it describes every configured
 * pool from the store, whatever this run touched): each touched pool's
 * outcome, and whether this run covered every pool.  A run that stopped
 * before it counted its failures failed for every pool it was about.
 */
static void
write_metrics(struct run *r)
{
	int full = r->opts->mode == RUN_SCHEDULED && r->opts->pools == NULL;

	if (r->rec.id > 0 && db_begin(r->db) == 0) {
		int bad = 0;

		for (size_t i = 0; i < r->npools && !bad; i++)
			if (r->pools[i].pool_id > 0 && !outcome_written(r, i))
				bad = db_pool_outcome_set(r->db,
				    r->pools[i].pool_id, r->rec.id,
				    r->rec.as_of,
				    r->pools[i].failed || !r->counted);
		if (!bad && full)
			bad = db_full_run_add(r->db, r->rec.id,
			    util_monotonic_ms() - r->started_ms);
		if (bad || db_commit(r->db)) {
			db_rollback(r->db);
		} else {
			/* What the store now holds: not read again. */
			for (size_t i = 0; i < r->npools; i++)
				if (r->pools[i].pool_id > 0)
					metrics_set_outcome(r->metrics,
					    r->pools[i].pc, r->pools[i].pool_id,
					    r->pools[i].failed || !r->counted);
		}
	}
	/* Its reads (four a pool) in one transaction: one lock, not a lock
	 * and an unlock (two fcntl calls) a statement. */
	if (db_begin(r->db) == 0) {
		(void)write_textfile(r);
		if (db_commit(r->db))
			db_rollback(r->db);
	} else {
		(void)write_textfile(r);
	}
}

int
run_execute(const struct config *cfg, const struct run_options *opts,
    const struct run_handles *h)
{
	struct run r;
	const char *token;
	int rc = EXIT_FAILED;
	int dry = (opts->mode == RUN_DRY || opts->dry_run);

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.opts = opts;
	r.started_ms = util_monotonic_ms();
	r.dry = dry;
	/* The one place a run's mode is set: the interpreter's. */
	r.mode = dry ? INTERP_REPORT : INTERP_CARRY;
	r.rec.exit_code = -1;
	r.rec.as_of = opts->as_of;
	util_strlcpy(r.rec.mode, mode_name(opts->mode), sizeof(r.rec.mode));

	r.db = h->db;
	r.http = h->http;
	r.tokens = h->tokens;
	r.arm = h->arm;
	/* A fleet's pools are known once its clusters are listed. */
	if (cfg->nfleets == 0 && select_pools(&r)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (db_run_start(
	        r.db, util_now(), opts->as_of, r.rec.mode, &r.rec.id)) {
		if (db_failed_busy())
			rc = EXIT_TEMP; /* nothing started: try later */
		goto out;
	}
	if (cfg->nfleets > 0) {
		if (token_get(r.tokens, 0, &token)) {
			rc = token_failure_exit(r.tokens);
			goto finish;
		}
		if (fleet_expand(cfg, r.arm, r.db, dry || log_verbosity() > 0,
		        &r.fleets))
			goto finish;
		r.cfg = r.fleets.cfg;
		if (select_pools(&r)) {
			rc = EXIT_USAGE;
			goto finish;
		}
	}
	if (group_pools(&r) || sync_pools(&r))
		goto finish;
	/* The metrics describe the store a run leaves (no list holds
	 * them); each pool's figures are read once the run is done with it,
	 * while the requests of others are in flight (read_figures). */
	r.metrics_wanted =
	    interp_writes(r.mode) && cfg->metrics_file[0] != '\0';
	progress_init(&r.progress, r.ngroups);
	progress_draw(&r.progress, 1);

	/* One token for the run; failing here means nothing has started. */
	if (r.npools > 0 && token_get(r.tokens, 0, &token)) {
		rc = token_failure_exit(r.tokens);
		goto finish;
	}
	/* Reconcile settles earlier runs' intents from Azure: store writes
	 * no list holds, left alone by a run that only reports. */
	if (interp_writes(r.mode) && reconcile(&r))
		goto finish;
	if (opts->mode != RUN_PRUNE) {
		if (observe(&r)) {
			/* Only GETs were sent: a store locked by another
			 * process is a reason to try later. */
			if (db_failed_busy() && r.puts_sent == 0)
				rc = EXIT_TEMP;
			goto finish;
		}
		if (r.ngroups > 0 && !r.reached_arm) {
			log_err(NULL,
			    "ARM at %s did not answer, or only with "
			    "temporary errors; nothing done",
			    cfg->arm_endpoint);
			/* An untrusted certificate is not temporary (ca_file).
			 */
			rc = http_client_tls_failure(r.http) != NULL
			    ? EXIT_USAGE
			    : EXIT_TEMP;
			goto finish;
		}
		/* observe() planned each pool as its cluster answered, and
		 * sent its PUT. */
		record_plan_failures(&r);
	}
	/* `aksnap snapshot` takes snapshots; it does not prune. */
	if (opts->mode != RUN_SNAPSHOT) {
		r.progress.phase = "pruning";
		progress_draw(&r.progress, 1);
		if (promote_and_retain(&r))
			goto finish;
	}
	progress_end(&r.progress);
	count_failures(&r);
	rc = r.rec.failed > 0 ? EXIT_FAILED : EXIT_DONE;
	report_end(&r);

finish:
	progress_end(&r.progress);
	/* A JSON report begun stays one document. */
	if (r.json_open)
		report_json_end(&r);
	r.rec.exit_code = rc;
	r.rec.finished_at = util_now();
	(void)db_run_finish(r.db, &r.rec);
	/* The metrics describe the store a run leaves (no list holds them). */
	if (interp_writes(r.mode) && cfg->metrics_file[0] != '\0')
		write_metrics(&r);
out:
	for (size_t i = 0; i < r.npools; i++) {
		free(r.pools[i].observe_error);
		free(r.pools[i].error);
		free(r.pools[i].unconfirmed);
		free(r.pools[i].plan.name);
		free(r.pools[i].plan.reason);
	}
	table_free(r.report);
	free(r.by_id);
	version_set_free(&r.versions);
	for (size_t i = 0; r.groups != NULL && i < r.ngroups; i++)
		free(r.groups[i].url);
	free(r.groups);
	free(r.pools);
	metrics_set_free(r.metrics);
	fleet_view_free(&r.fleets);
	return rc;
}
