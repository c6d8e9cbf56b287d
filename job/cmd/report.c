/*
 * report.c -- gather `aksnap report` from the store, and its JSON form.
 *
 * The report speaks for the store's own time: the as_of of the newest
 * scheduled run, not the clock of the machine that renders it, so the
 * same store always gives the same page (a demo's simulated month, a
 * copy of production's store on a laptop).  The window is 30 days back
 * from there unless --since says otherwise.
 *
 * Its pools are the configuration's (the fleet; --pool may also name a
 * pool the configuration no longer has, whose record the store keeps),
 * in the order of subscription, resource group, cluster and key, so a
 * cluster's pools are adjacent.  Per pool it reads what `history
 * --changes`, `list`, `drift` and `explain` read -- the observations
 * that changed something (with the one in force when the window opens),
 * the active snapshots, the baseline and the journal -- and turns the
 * journal into marks: taken, promoted (with its soak: from being taken,
 * or from entering a channel before, for a ladder), demoted, pruned,
 * pinned, failed.  The verdict is drift's own (job/rules/drift.c).  A
 * promotion's channel is not a journal column: it is the "channel NAME:"
 * that every promotion's reasons start with.
 *
 * Every form starts with a summary of every pool, so nothing is written
 * until every pool has been read once: report_gather reads of every pool
 * at once what the summary counts (db_report_sums: a few statements and
 * one a channel, whatever the number of pools -- its newest observation,
 * then its baseline and the journal's counts, which SQLite counts on
 * one-action indexes: not its snapshots, nor its window of observations,
 * which the page reads for its legend as it writes the pools: the
 * legend follows the matrix, written after every pool has been read)
 * and keeps only that (struct pool_sum, ~300 bytes; judged from those
 * facts by the rules pool_read applies, sum_judge),
 * in the store's order (db_pool_ids_order: a run wrote their rows in id
 * order, so each page is read once; the report's order read a page again
 * every few hundred pools at 10,000, 332,109 page reads of ~24,000 pages)
 * and counts them in the report's, which orders the names the summary
 * lists.  The forms then read each pool again, once, in the same order
 * (report_pool_read: the marks' read counts the journal too), write it
 * into temporary files and drop it, and copy the files' texts out in the
 * report's order (report_pools_spooled, job/base/reorder.h): memory holds
 * one pool (and the summaries, the clusters' counts and the summary's
 * lists of names); each read is a handful of index seeks.
 */
#include "job/cmd/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db_reads.h"
#include "db/db_report.h"
#include "job/base/json_write.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/reorder.h"
#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/cmd/output.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/schedule.h"

#define REPORT_DEFAULT_WINDOW (30LL * 86400)

const char *const report_verdicts[REPORT_NVERDICTS + 1] = {"in-baseline",
    "ahead", "behind", "differs", "no-baseline", "missing", "unknown",
    "channel-will-drift", NULL};

/* A pool of the report: configured (pc), or only in the store (stored,
 * named by --pool); the names it is ordered by point into either. */
struct report_item {
	const struct pool_conf *pc;
	const struct db_pool *stored;
	const char *subscription, *resource_group, *cluster, *key;
};

void
report_format_local(time_t t, const struct tz *tz, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0) {
		util_strlcpy(buf, "-", len);
		return;
	}
	if (tz_localtime(tz, t, &tm) != 0) {
		util_format_time(t, buf, len);
		return;
	}
	/* the digits by hand where snprintf would print four and twos (the
	 * page formats two a mark: 1.65 G instructions at 10,000 pools) */
	if (len >= 17 && tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900 &&
	    tm.tm_mon >= 0 && tm.tm_mon <= 98 && tm.tm_mday >= 0 &&
	    tm.tm_mday <= 99 && tm.tm_hour >= 0 && tm.tm_hour <= 99 &&
	    tm.tm_min >= 0 && tm.tm_min <= 99) {
		int y = tm.tm_year + 1900, two[4];

		two[0] = tm.tm_mon + 1;
		two[1] = tm.tm_mday;
		two[2] = tm.tm_hour;
		two[3] = tm.tm_min;
		buf[0] = (char)('0' + y / 1000);
		buf[1] = (char)('0' + y / 100 % 10);
		buf[2] = (char)('0' + y / 10 % 10);
		buf[3] = (char)('0' + y % 10);
		for (int i = 0; i < 4; i++) {
			buf[4 + 3 * i] = "-- :"[i];
			buf[5 + 3 * i] = (char)('0' + two[i] / 10);
			buf[6 + 3 * i] = (char)('0' + two[i] % 10);
		}
		buf[16] = '\0';
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

const char *
report_changed_by(const struct db_observation *o)
{
	return o->changed_by;
}

/* Names as people sort them: aks-2 before aks-10 (ARM's names are
 * case-insensitive, so equal ignoring case is equal). */
static int
name_order(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0 ? 0 : strverscmp(a, b);
}

static int
item_order(const void *va, const void *vb)
{
	const struct report_item *a = va, *b = vb;
	int c;

	c = name_order(a->subscription, b->subscription);
	if (c == 0)
		c = name_order(a->resource_group, b->resource_group);
	if (c == 0)
		c = name_order(a->cluster, b->cluster);
	if (c == 0)
		c = strverscmp(a->key, b->key);
	return c;
}

/* Whether ${n} items are in report order already (a configuration is
 * mostly written in it: one pass, where qsort compared each item some
 * thirteen times at 10,000, 35 M instructions).  Keys are distinct, so
 * the order is total and qsort would give the same. */
static int
items_sorted(const struct report_item *items, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (item_order(&items[k - 1], &items[k]) >= 0)
			return 0;
	return 1;
}

/* Whether two pools are in one managed cluster. */
static int
item_cluster_same(const struct report_item *a, const struct report_item *b)
{
	return strcasecmp(a->subscription, b->subscription) == 0 &&
	    strcasecmp(a->resource_group, b->resource_group) == 0 &&
	    strcasecmp(a->cluster, b->cluster) == 0;
}

void
report_pool_clear(struct report_pool *rp)
{
	free(rp->obs);
	free(rp->marks);
	rp->obs = NULL;
	rp->marks = NULL;
	rp->nobs = rp->nmarks = 0;
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	db_report_close(r->q);
	json_decref(r->old_keys);
	json_decref(r->reimage_keys);
	free(r->clusters);
	free(r->failed_runs);
	free(r->items);
	free(r->extra);
	free(r->order);
	free(r->ids);
	free(r);
}

/* ---- growing arrays ---- */

static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	void *p;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap != 0 ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * size);
	if (p == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

struct obs_ctx {
	struct report_pool *rp;
	size_t cap;
};

static int
obs_add(void *vctx, const struct db_observation *o)
{
	struct obs_ctx *c = vctx;
	struct report_pool *rp = c->rp;

	if (grow((void **)&rp->obs, &c->cap, rp->nobs + 1, sizeof(*rp->obs)))
		return -1;
	rp->obs[rp->nobs++] = *o;
	return 0;
}

/* ---- marks ---- */

struct mark_ctx {
	struct report_pool *rp;
	size_t cap;
	int failed;
	size_t promotions, failures; /* promote and fail entries */
};

static const char *
mark_kind(const char *action)
{
	static const char *const map[][2] = {{"create", "taken"},
	    {"promote", "promoted"}, {"demote", "demoted"},
	    {"delete", "pruned"}, {"pin", "pinned"}, {"unpin", "unpinned"},
	    {"fail", "failed"}, {"missing", "missing"}, {"adopt", "adopted"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(action, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

/* "channel NAME: ..." -> NAME (promotions and demotions say so). */
static void
reasons_channel(const char *reasons, char *buf, size_t len)
{
	const char *p, *end;

	buf[0] = '\0';
	if (strncmp(reasons, "channel ", 8) != 0)
		return;
	p = reasons + 8;
	end = strchr(p, ':');
	if (end == NULL || end == p || (size_t)(end - p) >= len)
		return;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
}

static int
mark_add(void *vctx, const struct db_report_event *e)
{
	struct mark_ctx *c = vctx;
	struct report_pool *rp = c->rp;
	struct report_mark *m;
	const char *kind = mark_kind(e->action);

	/* the entries the summary counts (db_report_sums), counted here */
	c->promotions += strcmp(e->action, "promote") == 0;
	c->failures += strcmp(e->action, "fail") == 0;
	if (kind == NULL)
		return 0;
	if (grow((void **)&rp->marks, &c->cap, rp->nmarks + 1,
	        sizeof(*rp->marks))) {
		c->failed = 1;
		return -1;
	}
	m = &rp->marks[rp->nmarks++];
	memset(m, 0, sizeof(*m));
	m->at = e->at;
	m->kind = kind;
	m->soak = -1;
	util_strlcpy(m->snapshot, e->snapshot, sizeof(m->snapshot));
	util_strlcpy(m->reasons, e->reasons, sizeof(m->reasons));
	util_strlcpy(m->mode, e->run_mode, sizeof(m->mode));
	if (strcmp(kind, "promoted") == 0 || strcmp(kind, "demoted") == 0)
		reasons_channel(e->reasons, m->channel, sizeof(m->channel));
	if (strcmp(kind, "promoted") == 0) {
		time_t from = 0;

		/* A ladder: soaked since it entered the rung before. */
		for (size_t i = rp->nmarks - 1; i-- > 0;)
			if (strcmp(rp->marks[i].kind, "promoted") == 0 &&
			    strcmp(rp->marks[i].snapshot, m->snapshot) == 0 &&
			    strcmp(rp->marks[i].channel, m->channel) != 0) {
				from = rp->marks[i].at;
				break;
			}
		if (from == 0 && e->snapshot_id != 0)
			from = e->snapshot_created;
		if (from != 0 && e->at >= from)
			m->soak = (long long)(e->at - from);
		if (m->channel[0] == '\0')
			util_strlcpy(
			    m->channel, rp->channel, sizeof(m->channel));
	}
	return 0;
}

/* ---- one pool ---- */

/*
 * Whether the cluster's auto-upgrade channels, as the newest observation
 * saw them, will re-image the pool (apply's and drift's rule); for a
 * pool with a baseline, say which channel and the fix.
 */
static int
pool_will_reimage(struct report_pool *rp)
{
	char why[256];
	int undoes;

	rp->will_reimage[0] = '\0';
	if (!rp->have_live)
		return 0;
	undoes = apply_channels_undo_pin(rp->live.upgrade_channel,
	    rp->live.node_os_channel, why, sizeof(why));
	if (undoes && rp->have_base)
		util_strlcpy(rp->will_reimage, why, sizeof(rp->will_reimage));
	return undoes;
}

/* Where the pool has been since the window began, and is now (its
 * newest observation from ${facts}, db_pools_read's, when not NULL).
 * 0/-1. */
static int
gather_observations(struct db *db, const struct report *r,
    const struct db_pool_read *facts, struct report_pool *rp)
{
	struct db_observation before;
	struct obs_ctx oc = {rp, 0};
	int got;

	got = db_report_observation_before(db, rp->p.id, r->since, &before);
	if (got < 0)
		return -1;
	if (got > 0 && obs_add(&oc, &before))
		return -1;
	if (db_history(db, rp->p.id, r->since, 1, obs_add, &oc))
		return -1;
	if (facts != NULL) {
		got = facts->have_obs;
		if (got)
			rp->live = facts->obs;
	} else {
		got = db_observation_latest(db, rp->p.id, &rp->live);
		if (got < 0)
			return -1;
	}
	rp->have_live =
	    got > 0 && strcmp(rp->live.provisioning_state, "missing") != 0;
	return 0;
}

/* The age at the report's as_of of what was created at ${t} (0 for
 * later). */
static long long
age_at(const struct report *r, time_t t)
{
	return r->as_of > t ? (long long)(r->as_of - t) : 0;
}

/* The age of the pool's baseline ${rp}->base, and whether it is older
 * than its policy warns of. */
static void
baseline_age(const struct report *r, struct report_pool *rp)
{
	rp->baseline_age = age_at(r, rp->base.created_at);
	rp->baseline_old = rp->warn_baseline_age > 0 &&
	    rp->baseline_age > rp->warn_baseline_age;
}

/*
 * The pool's active snapshots counted on their covering index (not read
 * a row each: 1.2 G instructions of report --json at 10,000 pools), its
 * newest, and the channel's baseline with its age (those two from
 * ${facts}, db_pools_read's, when not NULL).  0/-1.
 */
static int
gather_snapshots(struct db *db, const struct report *r,
    const struct db_pool_read *facts, struct report_pool *rp)
{
	int got;

	if (db_report_snapshot_counts(
	        r->q, rp->p.id, &rp->nsnapshots, &rp->npinned))
		return -1;
	if (rp->nsnapshots > 0) {
		got = facts != NULL
		    ? facts->have_newest
		    : db_snapshot_newest_active(db, rp->p.id, &rp->newest);
		if (got < 0)
			return -1;
		if (facts != NULL && got)
			rp->newest = facts->newest;
		rp->have_newest = got > 0;
	}
	if (rp->channel[0] != '\0') {
		got = facts != NULL
		    ? facts->have_base
		    : db_snapshot_channel(db, rp->p.id, rp->channel, &rp->base);
		if (got < 0)
			return -1;
		if (facts != NULL && got)
			rp->base = facts->base;
		/* One that is gone from Azure is no usable baseline. */
		rp->have_base =
		    got > 0 && strcmp(rp->base.state, "active") == 0;
	}
	if (rp->have_base)
		baseline_age(r, rp);
	return 0;
}

/*
 * Where a live pool stands against its baseline (drift_verdict): pool
 * ${seen} by a run, its newest observation ${observed} (of a pool gone
 * missing when ${missing}: no live versions), its versions and its
 * baseline's (NULL for none).  Shared by pool_read and the summary
 * (sum_judge), which must give the same verdict.
 */
static const char *
verdict_of(int seen, int observed, int missing, const char *live_image,
    const char *live_k8s, const struct db_versions *base, int channel_undoes)
{
	struct drift_facts f;

	memset(&f, 0, sizeof(f));
	f.missing = seen && observed && missing;
	f.have_live = observed && !missing;
	f.have_base = base != NULL;
	f.live_k8s = live_k8s;
	f.live_image = live_image;
	f.base_k8s = base != NULL ? base->kubernetes_version : "";
	f.base_image = base != NULL ? base->node_image_version : "";
	f.channel_undoes = channel_undoes;
	return drift_verdict(&f);
}

/* Where the live pool stands against its baseline (verdict_of). */
static void
pool_verdict(struct report_pool *rp, int channel_undoes)
{
	int missing = strcmp(rp->live.provisioning_state, "missing") == 0;

	rp->verdict =
	    verdict_of(rp->p.id != 0, rp->have_live || missing, missing,
	        rp->live.v.node_image_version, rp->live.v.kubernetes_version,
	        rp->have_base ? &rp->base.v : NULL, channel_undoes);
}

/* The pool's row: the store's, or (never seen by a run) the
 * configuration's names with id 0.  0/-1. */
static int
pool_row(struct report *r, const struct report_item *it, struct db_pool *p)
{
	const struct pool_conf *pc = it->pc;
	int got;

	if (it->stored != NULL) {
		*p = *it->stored;
		return 0;
	}
	got = db_pool_get(r->db, pc->key, p);
	if (got < 0)
		return -1;
	if (got > 0)
		return 0;
	memset(p, 0, sizeof(*p));
	util_strlcpy(p->key, pc->key, sizeof(p->key));
	util_strlcpy(
	    p->subscription, pc->subscription, sizeof(p->subscription));
	util_strlcpy(
	    p->resource_group, pc->resource_group, sizeof(p->resource_group));
	util_strlcpy(p->cluster, pc->cluster, sizeof(p->cluster));
	util_strlcpy(p->nodepool, pc->nodepool, sizeof(p->nodepool));
	return 0;
}

/* The pool's channel (--channel, else its policy's) and warning age
 * into ${rp}, from item ${it}. */
static void
pool_policy(const struct report *r, const struct report_item *it,
    struct report_pool *rp)
{
	const struct pool_conf *pc = it->pc;

	rp->configured = pc != NULL;
	if (r->channel[0] != '\0')
		util_strlcpy(rp->channel, r->channel, sizeof(rp->channel));
	else if (pc != NULL)
		util_strlcpy(
		    rp->channel, pc->policy->channel, sizeof(rp->channel));
	rp->warn_baseline_age = pc != NULL ? pc->policy->warn_baseline_age : 0;
	rp->baseline_age = -1;
}

/*
 * Read pool ${i} into ${rp}, with ${marks} its marks.  The marks' read
 * counts the promotions and failures as it goes (the summary's counts
 * are of the entries db_report_events gives): one seek of the journal,
 * not two.  0/-1.
 */
static int
pool_read(struct report *r, size_t i, int marks,
    const struct db_pool_read *facts, struct report_pool *rp)
{
	const struct report_item *it = &r->items[i];
	struct mark_ctx mc;
	int undoes = 0;

	memset(rp, 0, sizeof(*rp));
	if (pool_row(r, it, &rp->p))
		return -1;
	pool_policy(r, it, rp);
	if (rp->p.id != 0) {
		if (gather_observations(r->db, r, facts, rp) ||
		    gather_snapshots(r->db, r, facts, rp))
			return -1;
		if (marks) {
			memset(&mc, 0, sizeof(mc));
			mc.rp = rp;
			if (db_report_events(r->q, rp->p.id, rp->p.key,
			        r->since, mark_add, &mc) ||
			    mc.failed)
				return -1;
			rp->promotions = mc.promotions;
			rp->failures = mc.failures;
		}
		undoes = pool_will_reimage(rp);
	}
	pool_verdict(rp, undoes);
	return 0;
}

int
report_pool_read(struct report *r, size_t i, int marks, struct report_pool *rp)
{
	return pool_read(r, i, marks, NULL, rp);
}

/* ---- the summary ---- */

struct runs_ctx {
	struct report *r;
	size_t cap;
};

static int
run_add(void *vctx, const struct db_run *run)
{
	struct runs_ctx *c = vctx;
	struct report *r = c->r;

	r->nruns++;
	if (run->exit_code <= 0)
		return 0;
	if (grow((void **)&r->failed_runs, &c->cap, r->nfailed_runs + 1,
	        sizeof(*r->failed_runs)))
		return -1;
	r->failed_runs[r->nfailed_runs++] = *run;
	return 0;
}

static int
wanted(const struct report_options *opt, const char *key)
{
	if (opt->pools == NULL || opt->npools == 0)
		return 1;
	for (size_t i = 0; i < opt->npools; i++)
		if (strcmp(opt->pools[i], key) == 0)
			return 1;
	return 0;
}

/* The report's frame: time zone, store, as_of and the window.  0/-1. */
static int
report_window(struct db *db, const struct config *cfg,
    const struct report_options *opt, struct report *r)
{
	r->tz = cfg->tz;
	util_strlcpy(r->timezone, tz_name(cfg->tz), sizeof(r->timezone));
	util_strlcpy(r->database, cfg->database, sizeof(r->database));
	if (db_report_as_of(db, &r->as_of))
		return -1;
	if (r->as_of == 0)
		r->as_of = util_now();
	if (opt->since != 0)
		r->since = opt->since;
	else
		r->since = r->as_of -
		    (time_t)(opt->since_ago > 0 ? opt->since_ago
		                                : REPORT_DEFAULT_WINDOW);
	return 0;
}

/*
 * Each pool asked for must be known to the configuration or the store;
 * those only the store knows are kept in r->extra (once each).  0, -2
 * (an unknown one, logged), -1.
 */
static int
pools_known(struct db *db, const struct config *cfg,
    const struct report_options *opt, struct report *r)
{
	struct db_pool p;
	int got, dup;

	if (opt->npools == 0)
		return 0;
	r->extra = calloc(opt->npools, sizeof(*r->extra));
	if (r->extra == NULL)
		return -1;
	for (size_t i = 0; i < opt->npools; i++) {
		if (config_find_pool(cfg, opt->pools[i]) != NULL)
			continue;
		got = db_pool_get(db, opt->pools[i], &p);
		if (got < 0)
			return -1;
		if (got == 0) {
			log_err(NULL,
			    "report: unknown pool '%s' (not in %s nor in %s)",
			    opt->pools[i], cfg->path, cfg->database);
			return -2;
		}
		dup = 0;
		for (size_t j = 0; j < r->nextra && !dup; j++)
			dup = strcmp(r->extra[j].key, p.key) == 0;
		if (!dup)
			r->extra[r->nextra++] = p;
	}
	return 0;
}

/*
 * The pools of the report, as asked (--pool), in report order, and the
 * clusters they make.  0/-1.
 */
static int
list_pools(const struct config *cfg, const struct report_options *opt,
    struct report *r)
{
	struct report_item *it;

	r->items = calloc(cfg->npools + r->nextra + 1, sizeof(*r->items));
	if (r->items == NULL)
		return -1;
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];

		if (!wanted(opt, pc->key))
			continue;
		it = &r->items[r->npools++];
		it->pc = pc;
		it->subscription = pc->subscription;
		it->resource_group = pc->resource_group;
		it->cluster = pc->cluster;
		it->key = pc->key;
	}
	for (size_t i = 0; i < r->nextra; i++) {
		it = &r->items[r->npools++];
		it->stored = &r->extra[i];
		it->subscription = r->extra[i].subscription;
		it->resource_group = r->extra[i].resource_group;
		it->cluster = r->extra[i].cluster;
		it->key = r->extra[i].key;
	}
	if (!items_sorted(r->items, r->npools))
		qsort(r->items, r->npools, sizeof(*r->items), item_order);
	for (size_t i = 0; i < r->npools; i++)
		if (i == 0 ||
		    !item_cluster_same(&r->items[i - 1], &r->items[i]))
			r->nclusters++;
	r->clusters = calloc(r->nclusters + 1, sizeof(*r->clusters));
	if (r->clusters == NULL)
		return -1;
	for (size_t i = 0, c = 0; i < r->npools; i++) {
		if (i > 0 && !item_cluster_same(&r->items[i - 1], &r->items[i]))
			c++;
		if (r->clusters[c].n++ == 0)
			r->clusters[c].first = i;
	}
	return 0;
}

/* Name pool ${key} on summary card ${which} (0 old baselines, 1 to be
 * re-imaged with ${title}, 2 failing ${failures} times), the first
 * REPORT_NAMED of each. */
static void
name_pool(struct report *r, int which, size_t count, const char *key,
    const char *title, size_t failures)
{
	struct report_named *n;

	if (count > REPORT_NAMED)
		return;
	n = &r->named[which][count - 1];
	util_strlcpy(n->key, key, sizeof(n->key));
	if (which == 1)
		util_strlcpy(n->title, title, sizeof(n->title));
	n->failures = failures;
}

/*
 * What the summary counts of one pool: read in a statement and one a
 * channel for every pool (db_report_sums), counted in the report's order
 * (count_pool), which orders the names it lists.  The re-image title is
 * made again from the cluster's channels for the few pools named.
 */
struct pool_sum {
	unsigned char verdict; /* report_verdicts' index */
	unsigned char seen, baseline_old, reimage;
	unsigned char observed, missing; /* a newest observation; "missing" */
	unsigned char judged; /* verdict set (with the baseline) */
	size_t promotions, failures;
	char upgrade_channel[32], node_os_channel[32];
	char live_image[128], live_k8s[32]; /* the newest observation's */
};

/* report_verdicts' index of ${verdict}, or REPORT_NVERDICTS. */
static size_t
verdict_index(const char *verdict)
{
	size_t v;

	for (v = 0; v < REPORT_NVERDICTS; v++)
		if (strcmp(verdict, report_verdicts[v]) == 0)
			break;
	return v;
}

/* Whether a cluster's channels ${up} and ${os} undo a pinned image
 * (apply_channels_undo_pin), asked once for each run of equal channels
 * (a fleet's pools mostly have the same: none). */
struct undo_memo {
	int set, undoes;
	char up[32], os[32];
};

static int
undo_memo_ask(struct undo_memo *m, const char *up, const char *os)
{
	if (!m->set || strcmp(m->up, up) != 0 || strcmp(m->os, os) != 0) {
		util_strlcpy(m->up, up, sizeof(m->up));
		util_strlcpy(m->os, os, sizeof(m->os));
		m->undoes = apply_channels_undo_pin(up, os, NULL, 0);
		m->set = 1;
	}
	return m->undoes;
}

/*
 * Judge pool ${i} of summary ${ps} against its baseline ${base} (NULL:
 * the store holds none in its channel) as pool_read does, from the
 * summary's few facts (no struct report_pool: 4.4 KB cleared and filled
 * a pool was 46 M instructions at 10,000): its verdict, whether its
 * baseline is old and its cluster's channels will re-image it.  0/-1
 * (logged).
 */
static int
sum_judge(struct report *r, size_t i, struct pool_sum *ps,
    const struct db_snapshot *base, struct undo_memo *memo)
{
	const struct report_item *it = &r->items[i];
	const char *channel = r->channel[0] != '\0' ? r->channel
	    : it->pc != NULL                        ? it->pc->policy->channel
	                                            : "";
	long long warn = it->pc != NULL ? it->pc->policy->warn_baseline_age : 0;
	const char *verdict;
	int have_live = ps->observed && !ps->missing, undoes = 0;
	size_t v;

	/* One that is gone from Azure is no usable baseline. */
	if (base != NULL &&
	    (channel[0] == '\0' || strcmp(base->state, "active") != 0))
		base = NULL;
	if (ps->seen && have_live)
		undoes = undo_memo_ask(
		    memo, ps->upgrade_channel, ps->node_os_channel);
	verdict =
	    verdict_of(ps->seen, ps->observed, ps->missing, ps->live_image,
	        ps->live_k8s, base != NULL ? &base->v : NULL, undoes);
	v = verdict_index(verdict);
	if (v == REPORT_NVERDICTS) {
		log_err(
		    NULL, "report: %s: unknown verdict '%s'", it->key, verdict);
		return -1;
	}
	ps->verdict = (unsigned char)v;
	if (base != NULL) {
		ps->baseline_old =
		    warn > 0 && age_at(r, base->created_at) > warn;
		/* will_reimage: a baseline the channels undo */
		ps->reimage = undoes != 0;
	}
	ps->judged = 1;
	return 0;
}

/* db_report_sums' rows into the pools' summaries. */
struct sums_ctx {
	struct report *r;
	struct pool_sum *sums;
	const size_t *order; /* db_report_sums' k -> the report's i */
	struct undo_memo memo;
};

static int
sum_add(void *vctx, const struct db_report_sum *e)
{
	struct sums_ctx *c = vctx;
	size_t i = c->order[e->k];
	struct pool_sum *ps = &c->sums[i];

	switch (e->kind) {
	case DB_REPORT_SUM_LIVE:
		ps->observed = 1;
		ps->missing =
		    strcmp(e->live.provisioning_state, "missing") == 0;
		util_strlcpy(ps->live_image, e->live.v.node_image_version,
		    sizeof(ps->live_image));
		util_strlcpy(ps->live_k8s, e->live.v.kubernetes_version,
		    sizeof(ps->live_k8s));
		util_strlcpy(ps->upgrade_channel, e->live.upgrade_channel,
		    sizeof(ps->upgrade_channel));
		util_strlcpy(ps->node_os_channel, e->live.node_os_channel,
		    sizeof(ps->node_os_channel));
		return 0;
	default: /* after every live row */
		ps->promotions = e->promotions;
		ps->failures = e->failures;
		return sum_judge(
		    c->r, i, ps, e->have_base ? &e->base : NULL, &c->memo);
	}
}

/* Count pool ${key} of cluster ${c}, its summary ${ps}, into the
 * summary.  0/-1. */
static int
count_pool(struct report *r, struct report_cluster *c, const char *key,
    const struct pool_sum *ps)
{
	size_t v = ps->verdict;
	char why[256];

	if (r->verdicts[v]++ == 0)
		r->verdict_order[r->nverdict_order++] = (unsigned char)v;
	c->verdicts[v]++;
	if (v != 0) {
		r->drifting++;
		c->drifting++;
	}
	c->promotions += ps->promotions;
	r->promotions += ps->promotions;
	r->nseen += ps->seen;
	if (ps->baseline_old) {
		name_pool(r, 0, ++r->baselines_old, key, "", ps->failures);
		if (json_array_append_new(r->old_keys, json_string(key)))
			return -1;
	}
	if (ps->reimage) {
		(void)apply_channels_undo_pin(
		    ps->upgrade_channel, ps->node_os_channel, why, sizeof(why));
		name_pool(r, 1, ++r->will_reimage, key, why, ps->failures);
		if (json_array_append_new(r->reimage_keys, json_string(key)))
			return -1;
	}
	if (ps->failures > 0)
		name_pool(r, 2, ++r->failing, key, "", ps->failures);
	return 0;
}

/*
 * Every pool's summary: its newest observation, baseline and counts read
 * for every pool at once (db_report_sums: a statement and one a channel,
 * in the store's order, each page read once), counted in the report's.
 * The store's order (db_pool_ids_order) is kept in r->order for
 * report_pools_spooled.  0/-1.
 */
static int
report_sums(struct report *r)
{
	struct db_pool_ids *ids = NULL;
	struct pool_sum *sums = calloc(r->npools + 1, sizeof(*sums));
	size_t *order = calloc(r->npools + 1, sizeof(*order));
	int64_t *pool_ids = calloc(r->npools + 1, sizeof(*pool_ids));
	int64_t *stored = calloc(r->npools + 1, sizeof(*stored));
	const char **channels = calloc(r->npools + 1, sizeof(*channels));
	struct sums_ctx sc;
	size_t nstored = 0;
	int rc = -1;

	r->order = order;
	r->ids = pool_ids;
	if (sums == NULL || order == NULL || pool_ids == NULL ||
	    stored == NULL || channels == NULL || db_pool_ids_load(r->db, &ids))
		goto out;
	for (size_t i = 0; i < r->npools; i++)
		pool_ids[i] = r->items[i].stored != NULL
		    ? r->items[i].stored->id
		    : db_pool_ids_find(ids, r->items[i].key);
	if (db_pool_ids_order(pool_ids, r->npools, order))
		goto out;
	/* the stored ones come first, by id */
	for (; nstored < r->npools && pool_ids[order[nstored]] != 0;
	     nstored++) {
		const struct report_item *it = &r->items[order[nstored]];

		stored[nstored] = pool_ids[order[nstored]];
		sums[order[nstored]].seen = 1;
		channels[nstored] = r->channel[0] != '\0' ? r->channel
		    : it->pc != NULL ? it->pc->policy->channel
		                     : "";
	}
	memset(&sc, 0, sizeof(sc));
	sc.r = r;
	sc.sums = sums;
	sc.order = order;
	if (db_report_sums(
	        r->q, r->since, stored, channels, nstored, sum_add, &sc))
		goto out;
	for (size_t i = 0; i < r->npools; i++)
		if (!sums[i].judged &&
		    sum_judge(r, i, &sums[i], NULL, &sc.memo))
			goto out;
	for (size_t c = 0; c < r->nclusters; c++) {
		struct report_cluster *cl = &r->clusters[c];

		for (size_t i = cl->first; i < cl->first + cl->n; i++)
			if (count_pool(r, cl, r->items[i].key, &sums[i]))
				goto out;
	}
	rc = 0;
out:
	db_pool_ids_free(ids);
	free(sums);
	free(stored);
	free(channels);
	return rc;
}

int
report_gather(struct db *db, const struct config *cfg,
    const struct report_options *opt, struct report **out)
{
	struct report *r;
	struct runs_ctx rc_ctx;
	int rc = -1;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->db = db;
	r->cfg = cfg;
	if (opt->channel != NULL)
		util_strlcpy(r->channel, opt->channel, sizeof(r->channel));
	r->old_keys = json_array();
	r->reimage_keys = json_array();
	if (r->old_keys == NULL || r->reimage_keys == NULL ||
	    db_report_open(db, &r->q) || report_window(db, cfg, opt, r))
		goto out;
	rc = pools_known(db, cfg, opt, r);
	if (rc != 0)
		goto out;
	rc = -1;
	if (list_pools(cfg, opt, r))
		goto out;
	if (report_sums(r))
		goto out;
	rc_ctx.r = r;
	rc_ctx.cap = 0;
	if (db_report_runs(db, r->since, run_add, &rc_ctx))
		goto out;
	*out = r;
	r = NULL;
	rc = 0;
out:
	report_free(r);
	return rc;
}

/* ---- every pool, in the store's order ---- */

/* report_pools_spooled's walk: each pool rendered as db_pools_read
 * gives its facts. */
struct spool {
	struct report *r;
	size_t nparts;
	struct reorder *ro[REPORT_SPOOL_PARTS];
	int (*render)(void *ctx, FILE *const *parts, size_t i,
	    const struct report_pool *rp);
	void *ctx;
	struct report_pool rp;
};

/* Pool k of the store's order, its facts ${facts}, rendered.  0/-1. */
static int
spool_pool(void *vctx, size_t k, const struct db_pool_read *facts)
{
	struct spool *sp = vctx;
	struct report *r = sp->r;
	size_t i = r->order[k];
	FILE *t[REPORT_SPOOL_PARTS] = {NULL};
	int failed;

	for (size_t p = 0; p < sp->nparts; p++)
		t[p] = reorder_begin(sp->ro[p], i);
	failed = pool_read(r, i, 1, facts, &sp->rp) ||
	    sp->render(sp->ctx, t, i, &sp->rp) != 0;
	report_pool_clear(&sp->rp);
	for (size_t p = 0; p < sp->nparts && !failed; p++)
		failed = reorder_end(sp->ro[p], i);
	return failed ? -1 : 0;
}

/*
 * Every pool's newest observation, newest active snapshot and baseline
 * come from db_pools_read, a statement a fact (and one a channel) stepped
 * pool after pool in the store's order, not three statements a pool
 * (their bind, step and reset: 540 M instructions at 10,000 pools); the
 * window's observations, the counts and the marks are still a pool's
 * own seeks.
 */
int
report_pools_spooled(struct report *r, size_t nparts,
    int (*render)(
        void *ctx, FILE *const *parts, size_t i, const struct report_pool *rp),
    int (*before)(void *ctx, size_t part, FILE *out), void *ctx,
    FILE *const *outs)
{
	struct spool *sp = NULL;
	int64_t *ids = NULL;
	const char **channels = NULL;
	int rc = -1;

	if (nparts == 0 || nparts > REPORT_SPOOL_PARTS)
		return -1;
	sp = calloc(1, sizeof(*sp));
	ids = calloc(r->npools + 1, sizeof(*ids));
	channels = calloc(r->npools + 1, sizeof(*channels));
	if (sp == NULL || ids == NULL || channels == NULL) {
		log_err(NULL, "report: out of memory");
		goto out;
	}
	sp->r = r;
	sp->nparts = nparts;
	sp->render = render;
	sp->ctx = ctx;
	for (size_t p = 0; p < nparts; p++) {
		sp->ro[p] = reorder_new(r->npools);
		if (sp->ro[p] == NULL)
			goto out;
	}
	for (size_t k = 0; k < r->npools; k++) {
		const struct report_item *it = &r->items[r->order[k]];

		ids[k] = r->ids[r->order[k]];
		channels[k] = r->channel[0] != '\0' ? r->channel
		    : it->pc != NULL                ? it->pc->policy->channel
		                                    : "";
	}
	if (r->npools > 0 &&
	    db_pools_read(r->db, ids, channels, r->npools,
	        DB_POOL_OBS | DB_POOL_NEWEST | DB_POOL_BASELINE, spool_pool,
	        sp) != 0)
		goto out;
	for (size_t p = 0; p < nparts; p++) {
		if (before != NULL && before(ctx, p, outs[p]) != 0)
			goto out;
		for (size_t i = 0; i < r->npools; i++)
			if (reorder_copy(sp->ro[p], i, outs[p]))
				goto out;
	}
	rc = 0;
out:
	for (size_t p = 0; sp != NULL && p < nparts; p++)
		reorder_free(sp->ro[p]);
	free(sp);
	free(ids);
	free(channels);
	return rc;
}

/* ---- JSON ---- */

/*
 * The pools' elements are written as they are read, by hand: jansson
 * would build ~300 objects a pool (13 MB a second of output went to
 * building and freeing them) only to print them.  What jansson's dump
 * prints is kept: the same members in the same order, strings escaped
 * as it escapes them ('"', '\\', control characters: json_write_quoted's
 * escapes), compact.  A pool's element is put together in memory
 * (struct jbuf, as large as the largest pool's) and written with one
 * fwrite: stdio's call and lock a string, and printf's parse a number,
 * were half of the elements' instructions (2.25 G at 10,000 pools).
 */
/* A time's RFC 3339 text (jtime's cache: the pools' times repeat, a
 * run's marks share its time). */
#define JTIME_SLOTS 256
struct jtime_slot {
	time_t t;
	size_t len; /* 0: empty */
	char text[32];
};

struct jbuf {
	char *p;
	size_t len, cap;
	int failed; /* out of memory: the element is lost, -1 at its end */
	struct jtime_slot times[JTIME_SLOTS];
};

/* Room for ${n} more bytes in ${b}.  0/-1 (failed set). */
static int
jroom(struct jbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->len + n <= b->cap)
		return 0;
	if (b->failed)
		return -1;
	cap = b->cap != 0 ? b->cap : 16384;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		log_err(NULL, "report: out of memory");
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
jput(struct jbuf *b, const char *s, size_t n)
{
	if (jroom(b, n) == 0) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

/* A literal's bytes (not its NUL). */
#define JLIT(b, lit) jput((b), (lit), sizeof(lit) - 1)

static void
jchar(struct jbuf *b, char c)
{
	if (jroom(b, 1) == 0)
		b->p[b->len++] = c;
}

/* ${s}[0..n) as a JSON string, quoted and escaped as json_write_quoted
 * writes it (tests/unit/cmd/test_report.c compares every byte). */
static void
jquoted(struct jbuf *b, const char *s, size_t n)
{
	/* at most 6 bytes a byte, and the quotes */
	if (jroom(b, 6 * n + 2) == 0)
		b->len += json_write_quote_mem(b->p + b->len, s, n);
}

/* An integer in decimal, as printf's %lld. */
static void
jint(struct jbuf *b, long long v)
{
	char digits[UTIL_LLD_MAX];

	jput(b, digits, util_format_lld(v, digits));
}

/* ${key} (a literal, with its comma and colon), then the string ${s}. */
#define jstr(b, key, s) jstr_((b), (key), sizeof(key) - 1, (s))
static void
jstr_(struct jbuf *b, const char *key, size_t klen, const char *s)
{
	jput(b, key, klen);
	jquoted(b, s, strlen(s));
}

/* As jstr; null for "" (output_json_opt). */
#define jopt(b, key, s) jopt_((b), (key), sizeof(key) - 1, (s))
static void
jopt_(struct jbuf *b, const char *key, size_t klen, const char *s)
{
	jput(b, key, klen);
	if (s[0] == '\0')
		JLIT(b, "null");
	else
		jquoted(b, s, strlen(s));
}

/* As jstr, the time ${t} in RFC 3339; null for 0 (output_json_time). */
#define jtime(b, key, t) jtime_((b), (key), sizeof(key) - 1, (t))
static void
jtime_(struct jbuf *b, const char *key, size_t klen, time_t t)
{
	struct jtime_slot *c = &b->times[(uint64_t)t % JTIME_SLOTS];

	jput(b, key, klen);
	if (t == 0) {
		JLIT(b, "null");
		return;
	}
	if (c->len == 0 || c->t != t) {
		c->text[0] = '"';
		util_format_time(t, c->text + 1, sizeof(c->text) - 2);
		c->len = strlen(c->text);
		c->text[c->len++] = '"';
		c->t = t;
	}
	jput(b, c->text, c->len);
}

/* true or false */
static void
jbool(struct jbuf *b, int v)
{
	if (v)
		JLIT(b, "true");
	else
		JLIT(b, "false");
}

/* A version set's members (output_versions_json). */
static void
jversions(struct jbuf *b, const struct db_versions *v)
{
	jopt(b, ",\"node_image_version\":", v->node_image_version);
	jopt(b, ",\"kubernetes_version\":", v->kubernetes_version);
	jopt(b, ",\"os_type\":", v->os_type);
	jopt(b, ",\"os_sku\":", v->os_sku);
	jopt(b, ",\"vm_size\":", v->vm_size);
	JLIT(b, ",\"enable_fips\":");
	jbool(b, v->enable_fips);
}

/* A snapshot's members, without the closing brace. */
static void
snap_json(struct jbuf *b, const struct db_snapshot *s)
{
	jstr(b, "{\"snapshot\":", s->name);
	jstr(b, ",\"arm_id\":", s->arm_id);
	jversions(b, &s->v);
	jtime(b, ",\"created_at\":", s->created_at);
	jopt(b, ",\"channel\":", s->channel);
	jtime(b, ",\"promoted_at\":", s->promoted_at);
	JLIT(b, ",\"pinned\":");
	jbool(b, s->pinned);
}

static void
obs_json(struct jbuf *b, const struct db_observation *o)
{
	static const struct db_versions none;
	int missing = strcmp(o->provisioning_state, "missing") == 0;

	/* an interval (0012): seen unchanged from observed_at until
	 * last_seen, by so many runs */
	jtime(b, "{\"observed_at\":", o->observed_at);
	jtime(b, ",\"last_seen\":", o->last_seen);
	JLIT(b, ",\"seen\":");
	jint(b, o->seen);
	jopt(b, ",\"provisioning_state\":", o->provisioning_state);
	/* A missing pool runs nothing: its versions are null. */
	jversions(b, missing ? &none : &o->v);
	jopt(b, ",\"changed_by\":", report_changed_by(o));
	jopt(b, ",\"upgrade_channel\":", o->upgrade_channel);
	jopt(b, ",\"node_os_channel\":", o->node_os_channel);
	jchar(b, '}');
}

/* The reasons of a mark being written (reasons_each). */
struct reasons_out {
	struct jbuf *b;
	size_t n;
};

/* A reason, an element of "reasons". */
static int
reason_json(void *ctx, const char *p, size_t n)
{
	struct reasons_out *ro = ctx;

	if (ro->n++ > 0)
		jchar(ro->b, ',');
	jquoted(ro->b, p, n);
	return 0;
}

static void
mark_json(struct jbuf *b, const struct report_mark *m)
{
	struct reasons_out ro;

	jtime(b, "{\"at\":", m->at);
	jstr(b, ",\"kind\":", m->kind);
	jopt(b, ",\"snapshot\":", m->snapshot);
	jopt(b, ",\"channel\":", m->channel);
	JLIT(b, ",\"soak_seconds\":");
	if (m->soak >= 0)
		jint(b, m->soak);
	else
		JLIT(b, "null");
	JLIT(b, ",\"reasons\":[");
	ro.b = b;
	ro.n = 0;
	(void)reasons_each(m->reasons, reason_json, &ro);
	jopt(b, "],\"mode\":", m->mode);
	jchar(b, '}');
}

static void
pool_json(struct jbuf *b, const struct report_pool *rp)
{
	jstr(b, "{\"pool\":", rp->p.key);
	jopt(b, ",\"subscription\":", rp->p.subscription);
	jopt(b, ",\"resource_group\":", rp->p.resource_group);
	jopt(b, ",\"cluster\":", rp->p.cluster);
	jopt(b, ",\"nodepool\":", rp->p.nodepool);
	jopt(b, ",\"location\":", rp->p.location);
	JLIT(b, ",\"configured\":");
	jbool(b, rp->configured);
	JLIT(b, ",\"seen\":");
	jbool(b, rp->p.id != 0);
	jopt(b, ",\"channel\":", rp->channel);
	jstr(b, ",\"verdict\":", rp->verdict);
	JLIT(b, ",\"live\":");
	if (rp->have_live)
		obs_json(b, &rp->live);
	else
		JLIT(b, "null");
	JLIT(b, ",\"baseline\":");
	if (rp->have_base) {
		snap_json(b, &rp->base);
		JLIT(b, ",\"age_seconds\":");
		jint(b, rp->baseline_age);
		JLIT(b, ",\"older_than_warning\":");
		jbool(b, rp->baseline_old);
		jchar(b, '}');
	} else {
		JLIT(b, "null");
	}
	JLIT(b, ",\"newest\":");
	if (rp->have_newest) {
		snap_json(b, &rp->newest);
		jchar(b, '}');
	} else {
		JLIT(b, "null");
	}
	JLIT(b, ",\"active_snapshots\":");
	jint(b, (long long)rp->nsnapshots);
	JLIT(b, ",\"pinned_snapshots\":");
	jint(b, (long long)rp->npinned);
	jopt(b, ",\"will_reimage\":", rp->will_reimage);
	JLIT(b, ",\"observations\":[");
	for (size_t i = 0; i < rp->nobs; i++) {
		if (i > 0)
			jchar(b, ',');
		obs_json(b, &rp->obs[i]);
	}
	JLIT(b, "],\"marks\":[");
	for (size_t i = 0; i < rp->nmarks; i++) {
		if (i > 0)
			jchar(b, ',');
		mark_json(b, &rp->marks[i]);
	}
	JLIT(b, "]}");
}

static json_t *
summary_json(const struct report *r)
{
	json_t *sum = json_object(), *verdicts = json_object();

	json_object_set_new(sum, "pools", json_integer((json_int_t)r->npools));
	json_object_set_new(
	    sum, "clusters", json_integer((json_int_t)r->nclusters));
	for (size_t k = 0; k < r->nverdict_order; k++) {
		size_t v = r->verdict_order[k];

		json_object_set_new(verdicts, report_verdicts[v],
		    json_integer((json_int_t)r->verdicts[v]));
	}
	json_object_set_new(sum, "verdicts", verdicts);
	json_object_set(sum, "baselines_older_than_warning", r->old_keys);
	json_object_set(sum, "will_reimage", r->reimage_keys);
	json_object_set_new(sum, "runs", json_integer((json_int_t)r->nruns));
	json_object_set_new(
	    sum, "failed_runs", json_integer((json_int_t)r->nfailed_runs));
	json_object_set_new(
	    sum, "promotions", json_integer((json_int_t)r->promotions));
	return sum;
}

static json_t *
failed_runs_json(const struct report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->nfailed_runs; i++) {
		const struct db_run *run = &r->failed_runs[i];
		json_t *j = json_object();

		json_object_set_new(j, "run", json_integer(run->id));
		json_object_set_new(j, "mode", json_string(run->mode));
		json_object_set_new(j, "as_of", output_json_time(run->as_of));
		json_object_set_new(
		    j, "started_at", output_json_time(run->started_at));
		json_object_set_new(
		    j, "exit_code", json_integer(run->exit_code));
		json_object_set_new(
		    j, "failed_pools", json_integer(run->failed));
		json_array_append_new(arr, j);
	}
	return arr;
}

/* Pool ${i}'s element of "pools", a line (report_pools_spooled), put
 * together in the struct jbuf ${ctx}. */
static int
pool_member(
    void *ctx, FILE *const *parts, size_t i, const struct report_pool *rp)
{
	struct jbuf *b = ctx;

	b->len = 0;
	if (i > 0)
		jchar(b, ',');
	jchar(b, '\n');
	pool_json(b, rp);
	if (b->failed)
		return -1;
	return fwrite(b->p, 1, b->len, parts[0]) != b->len ? -1 : 0;
}

/* ${v} compact, taken.  0/-1. */
static int
dump_compact(FILE *out, json_t *v)
{
	int rc = v != NULL
	    ? json_dumpf(
	          v, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
	    : -1;

	json_decref(v);
	return rc;
}

int
report_json(FILE *out, struct report *r)
{
	struct jbuf *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL) {
		log_err(NULL, "report: out of memory");
		return -1;
	}
	JLIT(b, "{");
	jtime(b, "\"as_of\":", r->as_of);
	jtime(b, ",\"since\":", r->since);
	jstr(b, ",\"timezone\":", r->timezone);
	JLIT(b, ",\"summary\":");
	if (b->failed || fwrite(b->p, 1, b->len, out) != b->len ||
	    dump_compact(out, summary_json(r))) {
		free(b->p);
		free(b);
		return -1;
	}
	fputs(",\"pools\":[", out);
	rc = report_pools_spooled(r, 1, pool_member, NULL, b, &out);
	free(b->p);
	free(b);
	if (rc)
		return -1;
	fputs(
	    r->npools > 0 ? "\n],\"failed_runs\":" : "],\"failed_runs\":", out);
	if (dump_compact(out, failed_runs_json(r)))
		return -1;
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}
