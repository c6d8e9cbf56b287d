/*
 * fleet.c -- the pools a run's [fleet:NAME] sections select.
 *
 * Each fleet is observed by listing: one ManagedClusters_List per
 * subscription (or _ListByResourceGroup when the fleet names an exact
 * resource group), every nextLink followed, so the read requests grow with
 * pages, not with clusters.  The listing already holds every cluster's
 * agentPoolProfiles, tags and auto-upgrade profile: the run observes a
 * fleet's pools from it and sends no GET per cluster (run.c asks
 * fleet_cluster).
 *
 * Memory (issue 16).  A listing is ARM's clusters as struct arm_cluster,
 * 1.6 KB an agent pool (ids, etags and names at their longest): 16 MB at
 * 10,000 pools, held through the run.  Each page of a listing is packed
 * as it arrives (arm_cluster_list_each) -- what selection and observation
 * read, as NUL-terminated strings one after the other, about 150 bytes a
 * pool -- and freed; selection and fleet_cluster unpack one cluster at a
 * time into the view's scratch arm_cluster (the agent pools' ids and
 * etags left "": nothing here or in run.c reads them).  So a fleet run
 * holds one page of clusters whole, while it is read.
 *
 * Selected pools become ordinary pools of the run: a copy of the
 * configuration gets one struct pool_conf each, keyed by fleet_key (unique
 * among the configuration's keys: a key that two pools would share, or
 * that an explicit [pool:NAME] has, gets the hashed form).  A pool the
 * store knows of the fleet (pools.fleet) that the listing no longer shows,
 * or that no longer matches, stays in the run as fleet_missing: recorded
 * missing, its snapshots under retention.  When a listing fails, the
 * fleet's known pools of that subscription fail with its status and the
 * other fleets go on.
 */

#include "job/run/fleet.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db_fleet.h"
#include "job/azure/arm.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/fleet.h"

struct fleet_listed {
	char sub[64];
	char rg[91];
	const char *name; /* in packed */
	char *packed; /* the cluster (pack_cluster), malloc'd */
};

/* One listing: a subscription, or one resource group of it. */
struct scope {
	const char *sub;
	const char *rg; /* NULL: the whole subscription */
	int failed;
	size_t err; /* index into errors when failed */
};

/* A selected pool, before it becomes a pool_conf. */
struct pick {
	size_t fleet;
	char sub[64], rg[91], cluster[64], nodepool[13];
	char plain[128];
	int hashed;
};

static int
listed_cmp(const void *a, const void *b)
{
	const struct fleet_listed *x = a, *y = b;
	int c = strcasecmp(x->sub, y->sub);

	if (c == 0)
		c = strcasecmp(x->rg, y->rg);
	if (c == 0)
		c = strcasecmp(x->name, y->name);
	return c;
}

/* The subscription and resource group of an ARM id. */
static int
id_parts(const char *id, char *sub, size_t sublen, char *rg, size_t rglen)
{
	const char *s = strcasestr(id, "/subscriptions/");
	const char *g = strcasestr(id, "/resourceGroups/");
	const char *e;

	if (s == NULL || g == NULL)
		return -1;
	s += strlen("/subscriptions/");
	g += strlen("/resourceGroups/");
	e = strchr(s, '/');
	if (e == NULL || (size_t)(e - s) >= sublen)
		return -1;
	memcpy(sub, s, (size_t)(e - s));
	sub[e - s] = '\0';
	e = strchr(g, '/');
	if (e == NULL || (size_t)(e - g) >= rglen)
		return -1;
	memcpy(rg, g, (size_t)(e - g));
	rg[e - g] = '\0';
	return 0;
}

/* ---- a listed cluster, packed ---- */

/* A growing run of NUL-terminated strings. */
struct packer {
	char *buf;
	size_t len, cap;
	int failed;
};

static void
put_str(struct packer *pk, const char *s)
{
	size_t n = strlen(s) + 1;

	if (pk->failed)
		return;
	if (pk->len + n > pk->cap) {
		size_t cap = pk->cap ? pk->cap : 256;
		char *g;

		while (pk->len + n > cap)
			cap *= 2;
		g = realloc(pk->buf, cap);
		if (g == NULL) {
			pk->failed = 1;
			return;
		}
		pk->buf = g;
		pk->cap = cap;
	}
	memcpy(pk->buf + pk->len, s, n);
	pk->len += n;
}

static void
put_num(struct packer *pk, long long n)
{
	char b[32];

	snprintf(b, sizeof(b), "%lld", n);
	put_str(pk, b);
}

/*
 * Cluster ${c} as strings, in the order unpack_cluster reads them: its
 * name first (fleet_listed.name), then its fields, tags and agent pools
 * (without their ids and etags).  Malloc'd, exactly as long as it is;
 * NULL when out of memory.
 */
static char *
pack_cluster(const struct arm_cluster *c)
{
	struct packer pk;
	char *out;

	memset(&pk, 0, sizeof(pk));
	put_str(&pk, c->name);
	put_str(&pk, c->id);
	put_str(&pk, c->location);
	put_str(&pk, c->kubernetes_version);
	put_str(&pk, c->current_kubernetes_version);
	put_str(&pk, c->provisioning_state);
	put_num(&pk, c->has_auto_upgrade);
	put_str(&pk, c->upgrade_channel);
	put_str(&pk, c->node_os_channel);
	put_num(&pk, (long long)c->ntags);
	for (size_t i = 0; i < c->ntags; i++) {
		put_str(&pk, c->tags[i].key);
		put_str(&pk, c->tags[i].value);
	}
	put_num(&pk, (long long)c->npools);
	for (size_t i = 0; i < c->npools; i++) {
		const struct arm_agent_pool *a = &c->pools[i];

		put_str(&pk, a->name);
		put_str(&pk, a->node_image_version);
		put_str(&pk, a->orchestrator_version);
		put_str(&pk, a->current_orchestrator_version);
		put_str(&pk, a->vm_size);
		put_str(&pk, a->os_type);
		put_str(&pk, a->os_sku);
		put_str(&pk, a->mode);
		put_str(&pk, a->provisioning_state);
		put_str(&pk, a->creation_source_id);
		put_num(&pk, a->enable_fips);
		put_num(&pk, a->count);
	}
	if (pk.failed) {
		free(pk.buf);
		return NULL;
	}
	out = realloc(pk.buf, pk.len);
	return out != NULL ? out : pk.buf;
}

/* The next string of a packed cluster, copied into ${dst}. */
static void
get_str(const char **cur, char *dst, size_t len)
{
	util_strlcpy(dst, *cur, len);
	*cur += strlen(*cur) + 1;
}

static long long
get_num(const char **cur)
{
	long long n = strtoll(*cur, NULL, 10);

	*cur += strlen(*cur) + 1;
	return n;
}

/*
 * The cluster ${packed} holds, into the view's scratch (valid until the
 * next call).  NULL when out of memory.
 */
static const struct arm_cluster *
unpack_cluster(const struct fleet_view *v, const char *packed)
{
	struct arm_cluster *c = v->scratch;
	const char *cur = packed;
	size_t ntags, npools;

	if (c == NULL)
		return NULL;
	arm_cluster_free(c);
	memset(c, 0, sizeof(*c));
	get_str(&cur, c->name, sizeof(c->name));
	get_str(&cur, c->id, sizeof(c->id));
	get_str(&cur, c->location, sizeof(c->location));
	get_str(&cur, c->kubernetes_version, sizeof(c->kubernetes_version));
	get_str(&cur, c->current_kubernetes_version,
	    sizeof(c->current_kubernetes_version));
	get_str(&cur, c->provisioning_state, sizeof(c->provisioning_state));
	c->has_auto_upgrade = (int)get_num(&cur);
	get_str(&cur, c->upgrade_channel, sizeof(c->upgrade_channel));
	get_str(&cur, c->node_os_channel, sizeof(c->node_os_channel));
	ntags = (size_t)get_num(&cur);
	if (ntags > 0) {
		c->tags = calloc(ntags, sizeof(*c->tags));
		if (c->tags == NULL)
			return NULL;
	}
	for (size_t i = 0; i < ntags; i++) {
		get_str(&cur, c->tags[i].key, sizeof(c->tags[i].key));
		get_str(&cur, c->tags[i].value, sizeof(c->tags[i].value));
	}
	c->ntags = ntags;
	npools = (size_t)get_num(&cur);
	if (npools > 0) {
		c->pools = calloc(npools, sizeof(*c->pools));
		if (c->pools == NULL)
			return NULL;
	}
	for (size_t i = 0; i < npools; i++) {
		struct arm_agent_pool *a = &c->pools[i];

		get_str(&cur, a->name, sizeof(a->name));
		get_str(
		    &cur, a->node_image_version, sizeof(a->node_image_version));
		get_str(&cur, a->orchestrator_version,
		    sizeof(a->orchestrator_version));
		get_str(&cur, a->current_orchestrator_version,
		    sizeof(a->current_orchestrator_version));
		get_str(&cur, a->vm_size, sizeof(a->vm_size));
		get_str(&cur, a->os_type, sizeof(a->os_type));
		get_str(&cur, a->os_sku, sizeof(a->os_sku));
		get_str(&cur, a->mode, sizeof(a->mode));
		get_str(
		    &cur, a->provisioning_state, sizeof(a->provisioning_state));
		get_str(
		    &cur, a->creation_source_id, sizeof(a->creation_source_id));
		a->enable_fips = (int)get_num(&cur);
		a->count = (int)get_num(&cur);
	}
	c->npools = npools;
	return c;
}

void
fleet_view_free(struct fleet_view *v)
{
	if (v == NULL)
		return;
	if (v->cfg != NULL) {
		free(v->cfg->pools);
		free(v->cfg);
	}
	for (size_t i = 0; v->listed != NULL && i < v->nlisted; i++)
		free(v->listed[i].packed);
	arm_cluster_free(v->scratch);
	free(v->scratch);
	free(v->nlists);
	free(v->listed);
	for (size_t i = 0; v->errors != NULL && i < v->nscopes; i++)
		free(v->errors[i]);
	free(v->errors);
	memset(v, 0, sizeof(*v));
}

const struct arm_cluster *
fleet_cluster(const struct fleet_view *v, const char *sub, const char *rg,
    const char *cluster)
{
	struct fleet_listed key, *hit;

	if (v == NULL || v->nlisted == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	util_strlcpy(key.sub, sub, sizeof(key.sub));
	util_strlcpy(key.rg, rg, sizeof(key.rg));
	key.name = cluster;
	hit = bsearch(
	    &key, v->listed, v->nlisted, sizeof(*v->listed), listed_cmp);
	if (hit == NULL)
		return NULL;
	return unpack_cluster(v, hit->packed); /* NULL: out of memory */
}

/* The scope fleet ${f} reads subscription ${sub} through. */
static const char *
scope_rg(const struct fleet_conf *f)
{
	return f->resource_group[0] != '\0' &&
	        !fleet_has_glob(f->resource_group)
	    ? f->resource_group
	    : NULL;
}

static int
scope_find(const struct scope *sc, size_t n, const char *sub, const char *rg)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(sc[i].sub, sub) == 0 &&
		    ((rg == NULL && sc[i].rg == NULL) ||
		        (rg != NULL && sc[i].rg != NULL &&
		            strcasecmp(sc[i].rg, rg) == 0)))
			return (int)i;
	return -1;
}

static const struct pool_conf *
explicit_pool(const struct config *cfg, const char *sub, const char *rg,
    const char *cluster, const char *nodepool)
{
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];

		if (strcasecmp(pc->subscription, sub) == 0 &&
		    strcasecmp(pc->resource_group, rg) == 0 &&
		    strcasecmp(pc->cluster, cluster) == 0 &&
		    strcasecmp(pc->nodepool, nodepool) == 0)
			return pc;
	}
	return NULL;
}

/* A new pool of fleet ${f} in ${v}->cfg. */
static struct pool_conf *
add_pool(struct config *c, const struct fleet_conf *f, const char *key,
    const char *sub, const char *rg, const char *cluster, const char *np)
{
	struct pool_conf *pc = &c->pools[c->npools++];

	memset(pc, 0, sizeof(*pc));
	util_strlcpy(pc->key, key, sizeof(pc->key));
	util_strlcpy(pc->subscription, sub, sizeof(pc->subscription));
	util_strlcpy(pc->resource_group, rg, sizeof(pc->resource_group));
	util_strlcpy(pc->cluster, cluster, sizeof(pc->cluster));
	util_strlcpy(pc->nodepool, np, sizeof(pc->nodepool));
	util_strlcpy(pc->policy_name, f->policy_name, sizeof(pc->policy_name));
	util_strlcpy(pc->fleet, f->name, sizeof(pc->fleet));
	pc->policy = &f->policy;
	return pc;
}

static int
pick_cmp(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	return strcmp(x->plain, y->plain);
}

/* Does key ${k} name an explicit pool? */
static int
explicit_key(const struct config *cfg, const char *k)
{
	return config_find_pool(cfg, k) != NULL;
}

/*
 * The pools of every fleet: ${picks} (selected now) and the store's rows
 * not among them.  ${scopes} NULL: no listing (fleet_from_store).
 */
static const char refused_msg[] =
    "refused this run: the fleet would select more than max_fleet_pools";

static int
build(const struct config *cfg, struct db *db, struct pick *picks,
    size_t npicks, const struct scope *scopes, size_t nscopes,
    const int *refused, struct fleet_view *out)
{
	struct db_fleet_pool **rows;
	size_t *nrows, total = cfg->npools + npicks;
	struct config *c;
	int rc = -1;

	rows = calloc(cfg->nfleets ? cfg->nfleets : 1, sizeof(*rows));
	nrows = calloc(cfg->nfleets ? cfg->nfleets : 1, sizeof(*nrows));
	if (rows == NULL || nrows == NULL)
		goto done;
	for (size_t i = 0; i < cfg->nfleets; i++) {
		if (db_fleet_pools(
		        db, cfg->fleets[i].name, &rows[i], &nrows[i]))
			goto done;
		total += nrows[i];
	}
	c = malloc(sizeof(*c));
	if (c == NULL)
		goto done;
	*c = *cfg;
	c->pools = calloc(total ? total : 1, sizeof(*c->pools));
	if (c->pools == NULL) {
		free(c);
		goto done;
	}
	if (cfg->npools > 0) /* a configuration of fleets alone has none */
		memcpy(c->pools, cfg->pools, cfg->npools * sizeof(*c->pools));
	out->cfg = c;

	/* Keys: the plain form unless it is taken (by an explicit pool or
	 * another selected pool); then every claimant gets the hashed form. */
	if (npicks > 0) /* picks is NULL when nothing was selected */
		qsort(picks, npicks, sizeof(*picks), pick_cmp);
	for (size_t i = 0; i < npicks; i++) {
		int dup =
		    (i > 0 &&
		        strcmp(picks[i - 1].plain, picks[i].plain) == 0) ||
		    (i + 1 < npicks &&
		        strcmp(picks[i + 1].plain, picks[i].plain) == 0);
		char key[64];

		picks[i].hashed = dup || explicit_key(cfg, picks[i].plain);
		fleet_key(cfg->fleets[picks[i].fleet].name, picks[i].sub,
		    picks[i].rg, picks[i].cluster, picks[i].nodepool,
		    picks[i].hashed, key, sizeof(key));
		add_pool(c, &cfg->fleets[picks[i].fleet], key, picks[i].sub,
		    picks[i].rg, picks[i].cluster, picks[i].nodepool);
	}

	/* The store's pools of each fleet that this run did not select. */
	for (size_t i = 0; i < cfg->nfleets; i++) {
		const struct fleet_conf *f = &cfg->fleets[i];

		for (size_t j = 0; j < nrows[i]; j++) {
			const struct db_fleet_pool *row = &rows[i][j];
			struct pool_conf *pc;
			int s;

			if (config_find_pool(c, row->key) != NULL)
				continue; /* selected again, or explicit */
			pc = add_pool(c, f, row->key, row->subscription,
			    row->resource_group, row->cluster, row->nodepool);
			if (scopes == NULL)
				continue;
			if (refused != NULL && refused[i]) {
				pc->fleet_error = refused_msg;
				continue;
			}
			s = scope_find(
			    scopes, nscopes, row->subscription, scope_rg(f));
			if (s >= 0 && scopes[s].failed)
				pc->fleet_error = out->errors[scopes[s].err];
			else
				pc->fleet_missing = 1;
		}
	}
	rc = 0;
done:
	for (size_t i = 0; rows != NULL && i < cfg->nfleets; i++)
		free(rows[i]);
	free(rows);
	free(nrows);
	if (rc != 0)
		log_err(NULL, "could not gather the fleets' pools");
	return rc;
}

int
fleet_from_store(
    const struct config *cfg, struct db *db, struct fleet_view *out)
{
	memset(out, 0, sizeof(*out));
	return build(cfg, db, NULL, 0, NULL, 0, NULL, out);
}

int
fleet_adopt_stored(struct config **cfg, struct db *db)
{
	struct fleet_view v;
	struct config *c;

	if ((*cfg)->nfleets == 0)
		return 0;
	if (fleet_from_store(*cfg, db, &v))
		return -1;
	c = v.cfg;
	v.cfg = NULL;
	fleet_view_free(&v);
	/* The copy owns all but the old pools now: the policies and fleets
	 * its pools point at, the pool index, the loaded zone. */
	(*cfg)->policies = NULL;
	(*cfg)->pool_policies = NULL;
	(*cfg)->fleets = NULL;
	(*cfg)->pool_order = NULL;
	(*cfg)->tz = NULL;
	config_free(*cfg);
	*cfg = c;
	return 0;
}

/* The selections of fleet ${fi} over one listing, appended to ${*picks}. */
static int
select_pools(const struct config *cfg, size_t fi, const struct arm_cluster *cl,
    size_t n, int report, struct pick **picks, size_t *npicks, size_t *cap,
    size_t *count)
{
	const struct fleet_conf *f = &cfg->fleets[fi];
	const char *keys[ARM_MAX_TAGS * 4], *vals[ARM_MAX_TAGS * 4];

	for (size_t i = 0; i < n; i++) {
		char sub[64], rg[91];
		struct fleet_candidate cand;
		size_t nt = 0;

		if (id_parts(cl[i].id, sub, sizeof(sub), rg, sizeof(rg)))
			continue;
		for (size_t t = 0;
		     t < cl[i].ntags && nt < sizeof(keys) / sizeof(keys[0]);
		     t++) {
			keys[nt] = cl[i].tags[t].key;
			vals[nt++] = cl[i].tags[t].value;
		}
		memset(&cand, 0, sizeof(cand));
		cand.subscription = sub;
		cand.resource_group = rg;
		cand.cluster = cl[i].name;
		cand.tag_keys = keys;
		cand.tag_values = vals;
		cand.ntags = nt;
		for (size_t j = 0; j < cl[i].npools; j++) {
			const struct arm_agent_pool *ap = &cl[i].pools[j];
			const struct pool_conf *ex;
			struct pick *pk;
			int taken = 0;

			cand.nodepool = ap->name;
			cand.mode = ap->mode;
			cand.os_type = ap->os_type;
			if (!fleet_match(f, &cand))
				continue;
			(*count)++;
			ex = explicit_pool(cfg, sub, rg, cl[i].name, ap->name);
			if (ex != NULL) {
				if (report)
					log_warn(NULL,
					    "[fleet:%s] also selects %s/%s/%s "
					    "of subscription %s; [pool:%s] "
					    "names it and wins",
					    f->name, rg, cl[i].name, ap->name,
					    sub, ex->key);
				continue;
			}
			/* Two fleets: the first in the file has it. */
			for (size_t k = 0; k < *npicks && !taken; k++) {
				pk = &(*picks)[k];
				if (pk->fleet != fi &&
				    strcasecmp(pk->sub, sub) == 0 &&
				    strcasecmp(pk->rg, rg) == 0 &&
				    strcasecmp(pk->cluster, cl[i].name) == 0 &&
				    strcasecmp(pk->nodepool, ap->name) == 0)
					taken = 1;
			}
			if (taken) {
				if (report)
					log_warn(NULL,
					    "[fleet:%s] also selects %s/%s/%s, "
					    "which an earlier fleet has",
					    f->name, rg, cl[i].name, ap->name);
				continue;
			}
			if (*npicks == *cap) {
				size_t nc = *cap ? *cap * 2 : 256;
				struct pick *g =
				    realloc(*picks, nc * sizeof(**picks));

				if (g == NULL)
					return -1;
				*picks = g;
				*cap = nc;
			}
			pk = &(*picks)[(*npicks)++];
			memset(pk, 0, sizeof(*pk));
			pk->fleet = fi;
			util_strlcpy(pk->sub, sub, sizeof(pk->sub));
			util_strlcpy(pk->rg, rg, sizeof(pk->rg));
			util_strlcpy(
			    pk->cluster, cl[i].name, sizeof(pk->cluster));
			util_strlcpy(
			    pk->nodepool, ap->name, sizeof(pk->nodepool));
			fleet_key(f->name, sub, rg, cl[i].name, ap->name, 0,
			    pk->plain, sizeof(pk->plain));
		}
	}
	return 0;
}

/*
 * Pack the ${n} clusters of one listing ${got} into ${v}->listed (those
 * whose id names no subscription and group are no one's: left out) and
 * free ${got}.  ${*added}: how many.  0, or -1 when out of memory.
 */
static int
add_listing(
    struct fleet_view *v, struct arm_cluster *got, size_t n, size_t *added)
{
	struct fleet_listed *grown;
	int rc = -1;

	*added = 0;
	if (n > 0) {
		grown = realloc(v->listed, (v->nlisted + n) * sizeof(*grown));
		if (grown == NULL)
			goto done;
		v->listed = grown;
	}
	for (size_t i = 0; i < n; i++) {
		struct fleet_listed *l = &v->listed[v->nlisted];

		if (id_parts(got[i].id, l->sub, sizeof(l->sub), l->rg,
		        sizeof(l->rg)))
			continue;
		l->packed = pack_cluster(&got[i]);
		if (l->packed == NULL)
			goto done;
		l->name = l->packed; /* its first string */
		v->nlisted++;
		(*added)++;
	}
	rc = 0;
done:
	for (size_t i = 0; i < n; i++)
		arm_cluster_free(&got[i]);
	free(got);
	return rc;
}

/* One scope's listing, page by page (arm_cluster_list_each). */
struct listing {
	struct fleet_view *v;
	size_t added;
};

static int
listing_page(void *arg, struct arm_cluster *c, size_t n)
{
	struct listing *ls = arg;
	size_t added;

	if (add_listing(ls->v, c, n, &added) != 0)
		return -1;
	ls->added += added;
	return 0;
}

int
fleet_expand(const struct config *cfg, struct arm *arm, struct db *db,
    int report, struct fleet_view *out)
{
	struct scope *sc = NULL;
	size_t nsc = 0, total = 0, off, npicks = 0, cap = 0;
	struct pick *picks = NULL;
	int *refused = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	refused = calloc(cfg->nfleets ? cfg->nfleets : 1, sizeof(*refused));
	if (refused == NULL)
		goto done;
	for (size_t i = 0; i < cfg->nfleets; i++)
		total += cfg->fleets[i].nsubscriptions;
	sc = calloc(total ? total : 1, sizeof(*sc));
	if (sc == NULL)
		goto done;
	for (size_t i = 0; i < cfg->nfleets; i++) {
		const struct fleet_conf *f = &cfg->fleets[i];

		for (size_t j = 0; j < f->nsubscriptions; j++) {
			if (scope_find(
			        sc, nsc, f->subscriptions[j], scope_rg(f)) >= 0)
				continue;
			sc[nsc].sub = f->subscriptions[j];
			sc[nsc++].rg = scope_rg(f);
		}
	}
	out->nscopes = nsc;
	out->nlists = calloc(nsc ? nsc : 1, sizeof(*out->nlists));
	out->errors = calloc(nsc ? nsc : 1, sizeof(*out->errors));
	if (out->nlists == NULL || out->errors == NULL)
		goto done;

	out->scratch = calloc(1, sizeof(*out->scratch));
	if (out->scratch == NULL)
		goto done;

	/* One listing per scope, every page, packed as it arrives. */
	for (size_t i = 0; i < nsc; i++) {
		struct listing ls = {out, 0};
		struct arm_error e;
		size_t n = 0, pages = 0, before = out->nlisted;
		char why[700];

		if (arm_cluster_list_each(arm, NULL, sc[i].sub, sc[i].rg,
		        listing_page, &ls, &n, &pages, &e)) {
			/* None of a failed listing is shown: its pages
			 * before the failure go. */
			while (out->nlisted > before)
				free(out->listed[--out->nlisted].packed);
			arm_error_describe(&e, why, sizeof(why));
			sc[i].failed = 1;
			sc[i].err = i;
			if (asprintf(&out->errors[i],
			        "cannot list the managed clusters of "
			        "subscription %s%s%s: %s",
			        sc[i].sub, sc[i].rg ? ", resource group " : "",
			        sc[i].rg ? sc[i].rg : "", why) < 0) {
				out->errors[i] = NULL;
				goto done;
			}
			log_err(NULL,
			    "%s; the fleets over it fail, the rest go on",
			    out->errors[i]);
			out->failed = 1;
			continue;
		}
		out->pages += pages;
		out->nlists[i] = ls.added;
	}

	/* Each fleet over its scopes. */
	for (size_t fi = 0; fi < cfg->nfleets; fi++) {
		const struct fleet_conf *f = &cfg->fleets[fi];
		size_t count = 0, before = npicks;
		int failed = 0;

		for (size_t j = 0; j < f->nsubscriptions; j++) {
			int s = scope_find(
			    sc, nsc, f->subscriptions[j], scope_rg(f));

			if (s < 0 || sc[s].failed) {
				failed = 1;
				continue;
			}
			off = 0;
			for (int k = 0; k < s; k++)
				off += out->nlists[k];
			for (size_t k = off; k < off + out->nlists[s]; k++) {
				const struct fleet_listed *l = &out->listed[k];
				const struct arm_cluster *cl =
				    unpack_cluster(out, l->packed);

				if (cl == NULL ||
				    select_pools(cfg, fi, cl, 1, report, &picks,
				        &npicks, &cap, &count))
					goto done;
			}
		}
		if (count > (size_t)cfg->max_fleet_pools) {
			log_err(NULL,
			    "[fleet:%s] (%s line %d) would select %zu pools, "
			    "more than max_fleet_pools (%d); refused: none of "
			    "its pools is covered this run",
			    f->name, cfg->path, f->line, count,
			    cfg->max_fleet_pools);
			npicks = before;
			out->failed = 1;
			refused[fi] = 1;
		} else if (count == 0 && !failed) {
			log_warn(NULL,
			    "[fleet:%s] (%s line %d) selects no pool "
			    "(resource_group %s, cluster %s, nodepool %s%s)",
			    f->name, cfg->path, f->line,
			    f->resource_group[0] ? f->resource_group : "*",
			    f->cluster[0] ? f->cluster : "*",
			    f->nodepool[0] ? f->nodepool : "*",
			    f->ntags || f->mode[0] || f->os_type[0]
			        ? ", with its tag/mode/os_type filters"
			        : "");
		}
	}
	/* The index run.c observes through (fleet_cluster). */
	qsort(out->listed, out->nlisted, sizeof(*out->listed), listed_cmp);
	rc = build(cfg, db, picks, npicks, sc, nsc, refused, out);
done:
	free(refused);
	free(picks);
	free(sc);
	if (rc != 0 && out->cfg == NULL)
		log_err(NULL, "fleets: out of memory or the store failed");
	return rc;
}
