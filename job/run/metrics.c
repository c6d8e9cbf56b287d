/*
 * metrics.c -- the run's numbers as a Prometheus textfile.
 *
 * node_exporter reads the file whenever it is scraped, so it must never be
 * seen half-written: it is written to a temporary file beside it and
 * renamed over the old one (rename(2) is atomic within a directory).
 * Everything comes from the store, not from this process: a command that
 * touched one pool (`snapshot POOL`, `run --pool`, `prune POOL`) still
 * writes every configured pool's series, so per-pool alerts never see a
 * series vanish.  The scheduled job's time and duration are those of the
 * last run over every pool (full_runs); the single-pool commands' times
 * have their own metric, so they cannot hide a scheduled job that stopped.
 *
 * A run does not wait for its last answer to read the store (issue 16:
 * at 10,000 pools the reads were 60-80 ms after the last answer): its
 * metrics_set is filled as the run goes, each pool's figures read as soon
 * as nothing in the run will write its rows again (a skipped pool once
 * its retention is carried out, in its cluster's GET callback), its
 * outcome given once committed; at the end only what is missing is read,
 * pool by pool, or from the whole store at once (db_metrics_pools, one
 * walk of the counts) when some pool's outcome is not known.  Both ways
 * give the same text (test_metrics: test_metrics_set_read_early_writes_
 * the_same_text; e2e: a plain run against a reported one).
 */
#include "job/run/metrics.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db_metrics.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"

void
metrics_escape(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			out[o++] = '\\';
			out[o++] = *in;
		} else if (*in == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

/*
 * A series' line, built in place and written with one fwrite: printf's
 * format parsing was most of the textfile's own CPU at 10,000 pools
 * (120,000 lines).  Each label value is at most its escape buffer
 * (metrics_escape), so a line fits; l_put cuts one that would not.
 */
struct line {
	char b[1024];
	size_t n;
};

static void
l_put(struct line *l, const char *s)
{
	size_t k = strlen(s), room = sizeof(l->b) - 32 - l->n;

	if (k > room)
		k = room;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

/* " ${v}\n" ends the line, which is written. */
static void
l_end(struct line *l, FILE *out, long long v)
{
	unsigned long long u =
	    v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char d[24];
	int i = 0;

	do
		d[i++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	l->b[l->n++] = ' ';
	if (v < 0)
		l->b[l->n++] = '-';
	while (i > 0)
		l->b[l->n++] = d[--i];
	l->b[l->n++] = '\n';
	(void)fwrite(l->b, 1, l->n, out);
	l->n = 0;
}

/* ${name}{pool="${k}"} ${v} (${label} NULL, ${value} unused), or
 * ${name}{pool="${k}",${label}="${value}"} ${v} (${k} and ${value} escaped
 * already). */
static void
put_pool_series(FILE *out, const char *name, const char *k, const char *label,
    const char *value, long long v)
{
	struct line l;

	l.n = 0;
	l_put(&l, name);
	l_put(&l, "{pool=\"");
	l_put(&l, k);
	if (label != NULL) {
		l_put(&l, "\",");
		l_put(&l, label);
		l_put(&l, "=\"");
		l_put(&l, value);
	}
	l_put(&l, "\"}");
	l_end(&l, out, v);
}

/*
 * One configured pool as the renderer sees it, read from the store.  What
 * the later sections print is kept as it was read (a run reads its pools
 * while its requests are in flight: metrics_set_read), not as lines: the
 * label text of aksnap_pool_info is held once for every pool that runs the
 * same versions (struct strings).
 */
#define K_OUTCOME 1 /* pool_id and failed */
#define K_SUMS 2 /* last_success and counts */
#define K_DETAILS 4 /* info, verdict, held */

struct metrics_pool {
	const char *key;
	int64_t pool_id; /* 0: never recorded in the store */
	const char *channel; /* the policy's baseline channel (NULL: none) */
	const struct ladder *ladder; /* its channels, first rung first (NULL
	                                or no rung: ${channel} alone) */
	time_t last_success; /* newest snapshot taken or slot skipped */
	long long counts[DB_SNAPSHOT_NSTATES]; /* snapshots per state */
	const char *verdict; /* drift's, a static string */
	const char *info; /* aksnap_pool_info's labels after the pool's
	                     (interned), NULL: no series */
	time_t held_at[LADDER_MAX]; /* when rung r's holder was taken */
	unsigned held; /* bit r: rung r's holder is active */
	unsigned char known; /* K_*: what is read */
	unsigned char failed; /* failed in the last run that acted on it */
};

/* Distinct strings, each held once (open addressing, grown at half). */
struct strings {
	char **v;
	size_t cap, n;
};

struct metrics_set {
	const struct config *cfg;
	struct metrics_pool *pools; /* cfg->pools' order */
	size_t n;
	struct strings info;
};

/* ${s} held in ${set} (its own copy), or NULL when out of memory. */
static const char *
strings_add(struct strings *set, const char *s)
{
	size_t i;

	if (2 * (set->n + 1) > set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		char **v = calloc(cap, sizeof(*v));

		if (v == NULL)
			return NULL;
		for (size_t k = 0; k < set->cap; k++) {
			if (set->v[k] == NULL)
				continue;
			i = util_fnv1a64(set->v[k]) & (cap - 1);
			while (v[i] != NULL)
				i = (i + 1) & (cap - 1);
			v[i] = set->v[k];
		}
		free(set->v);
		set->v = v;
		set->cap = cap;
	}
	i = util_fnv1a64(s) & (set->cap - 1);
	while (set->v[i] != NULL) {
		if (strcmp(set->v[i], s) == 0)
			return set->v[i];
		i = (i + 1) & (set->cap - 1);
	}
	set->v[i] = strdup(s);
	if (set->v[i] == NULL)
		return NULL;
	set->n++;
	return set->v[i];
}

static void
strings_free(struct strings *set)
{
	for (size_t k = 0; k < set->cap; k++)
		free(set->v[k]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int
by_key_cmp(const void *a, const void *b)
{
	const struct metrics_pool *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

/* Merging the store's pools (key order) into the configured ones. */
struct merge {
	struct metrics_pool **by_key; /* the configured pools, by key */
	size_t n, next;
};

static int
merge_pool(void *vctx, const struct db_metrics_pool *m)
{
	struct merge *g = vctx;

	while (g->next < g->n && strcmp(g->by_key[g->next]->key, m->key) < 0)
		g->next++;
	for (; g->next < g->n && strcmp(g->by_key[g->next]->key, m->key) == 0;
	     g->next++) {
		struct metrics_pool *p = g->by_key[g->next];

		p->pool_id = m->pool_id;
		p->failed = m->failed != 0;
		p->last_success = m->last_success;
	}
	return 0;
}

static int
by_id_cmp(const void *a, const void *b)
{
	const struct metrics_pool *const *x = a, *const *y = b;

	return (*x)->pool_id < (*y)->pool_id ? -1
	    : (*x)->pool_id > (*y)->pool_id  ? 1
	                                     : 0;
}

/* The configured pools by store id, for the counts (db_metrics_snapshot_
 * counts' rows come in pool id order). */
struct counting {
	struct metrics_pool **by_id;
	size_t n, next;
};

static int
count_pool(void *vctx, int64_t pool_id, int state, long long n)
{
	struct counting *g = vctx;

	while (g->next < g->n && g->by_id[g->next]->pool_id < pool_id)
		g->next++;
	/* Two sections naming one store pool: both counted. */
	for (size_t i = g->next; i < g->n && g->by_id[i]->pool_id == pool_id;
	     i++)
		g->by_id[i]->counts[state] = n;
	return 0;
}

/*
 * Every configured pool's id, last outcome, newest success and snapshot
 * counts from the store: one statement over the store's pools in key
 * order (db_metrics_pools), merged into the configuration's sorted by
 * key, and one walk of the snapshots' (pool_id, state) index
 * (db_metrics_snapshot_counts), merged by id, instead of four questions
 * a pool (the counts alone were eight index seeks a pool).
 */
static int
sums_from_store(struct metrics_set *ms, struct db *db)
{
	struct merge g;
	struct counting c;

	memset(&g, 0, sizeof(g));
	g.by_key = calloc(ms->n ? ms->n : 1, sizeof(*g.by_key));
	if (g.by_key == NULL) {
		log_err(NULL, "metrics: out of memory");
		return -1;
	}
	for (size_t i = 0; i < ms->n; i++) {
		struct metrics_pool *p = &ms->pools[i];

		p->pool_id = 0;
		p->failed = 0;
		p->last_success = 0;
		memset(p->counts, 0, sizeof(p->counts));
		p->known |= K_OUTCOME | K_SUMS;
		g.by_key[i] = p;
	}
	g.n = ms->n;
	qsort(g.by_key, g.n, sizeof(*g.by_key), by_key_cmp);
	if (db_metrics_pools(db, merge_pool, &g))
		goto err;
	/* The same array by store id (pools never recorded, id 0, first). */
	qsort(g.by_key, g.n, sizeof(*g.by_key), by_id_cmp);
	c.by_id = g.by_key;
	c.n = g.n;
	c.next = 0;
	while (c.next < c.n && c.by_id[c.next]->pool_id == 0)
		c.next++;
	if (db_metrics_snapshot_counts(db, count_pool, &c))
		goto err;
	free(g.by_key);
	return 0;
err:
	free(g.by_key);
	return -1;
}

/* Pool ${p}'s newest success and counts, by its id: the same answers as
 * sums_from_store's for one pool (test_db checks the two agree). */
static int
sums_of_pool(struct db *db, struct metrics_pool *p)
{
	p->last_success = 0;
	memset(p->counts, 0, sizeof(p->counts));
	if (p->pool_id != 0 &&
	    (db_pool_last_success(db, p->pool_id, &p->last_success) ||
	        db_pool_snapshot_counts(db, p->pool_id, p->counts)))
		return -1;
	p->known |= K_SUMS;
	return 0;
}

/* The series about runs: the last full run, the partial ones, failures. */
static int
render_runs(FILE *out, struct db *db)
{
	static const char *const partial[] = {"run", "snapshot", "prune"};
	long long failures = 0;
	int64_t duration_ms = 0;
	time_t as_of = 0;

	if (db_full_run_last(db, &as_of, &duration_ms) < 0 ||
	    db_runs_failed(db, &failures))
		return -1;
	fprintf(out,
	    "# HELP aksnap_last_run_timestamp_seconds When the last run "
	    "over every configured pool started (as_of).\n"
	    "# TYPE aksnap_last_run_timestamp_seconds gauge\n"
	    "aksnap_last_run_timestamp_seconds %lld\n",
	    (long long)as_of);
	fprintf(out,
	    "# HELP aksnap_run_duration_seconds How long the last run "
	    "over every configured pool took.\n"
	    "# TYPE aksnap_run_duration_seconds gauge\n"
	    "aksnap_run_duration_seconds %lld.%03lld\n",
	    (long long)(duration_ms / 1000), (long long)(duration_ms % 1000));
	fprintf(out,
	    "# HELP aksnap_last_partial_run_timestamp_seconds When a "
	    "command over some pools (run --pool, snapshot, prune) last "
	    "ran (as_of; 0: never).\n"
	    "# TYPE aksnap_last_partial_run_timestamp_seconds gauge\n");
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		if (db_partial_run_last(db, partial[i], &as_of) < 0)
			return -1;
		fprintf(out,
		    "aksnap_last_partial_run_timestamp_seconds{mode=\"%s\"} "
		    "%lld\n",
		    partial[i], (long long)as_of);
	}
	fprintf(out,
	    "# HELP aksnap_run_failures_total Runs that ended with "
	    "at least one failed pool.\n"
	    "# TYPE aksnap_run_failures_total counter\n"
	    "aksnap_run_failures_total %lld\n",
	    failures);
	return 0;
}

/* The channel of rung ${r} of pool ${p}'s ladder; a ladder without rungs
 * (a configuration built by hand) falls back to the policy's one channel.
 * NULL or "": none. */
static const char *
rung_channel(const struct metrics_pool *p, int r)
{
	const struct ladder *l = p->ladder;

	return l != NULL && l->n > 0 ? l->rung[r].channel : p->channel;
}

static int
rungs(const struct metrics_pool *p)
{
	const struct ladder *l = p->ladder;
	int n = l != NULL && l->n > 0 ? l->n : 1;

	return n < LADDER_MAX ? n : LADDER_MAX;
}

/* 1 when the comma-separated ${list} names ${ch}. */
static int
in_list(const char *list, const char *ch)
{
	size_t n = strlen(ch);

	for (const char *c = list; c != NULL && *c != '\0';) {
		const char *end = strchr(c, ',');
		size_t k = end != NULL ? (size_t)(end - c) : strlen(c);

		if (k == n && strncmp(c, ch, n) == 0)
			return 1;
		c = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* read_holders' walk of the pool's holders: the newest holder of each
 * channel counts (there is one). */
struct holders {
	struct metrics_pool *p;
	struct db_holder base;
	int have_base;
};

static int
holder(void *ctx, const char *channels, const struct db_holder *h)
{
	struct holders *w = ctx;
	struct metrics_pool *p = w->p;

	if (!w->have_base && p->channel != NULL && p->channel[0] != '\0' &&
	    in_list(channels, p->channel)) {
		w->base = *h;
		w->have_base = 1;
	}
	for (int r = 0; r < rungs(p); r++) {
		const char *ch = rung_channel(p, r);

		if (ch == NULL || ch[0] == '\0' || (p->held & (1U << r)) ||
		    !in_list(channels, ch))
			continue;
		p->held_at[r] = h->created_at;
		p->held |= 1U << r;
	}
	return 0;
}

/*
 * Pool ${p}'s channel holders (one series per channel its ladder names
 * whose holder is active: when that snapshot was taken) and its drift
 * verdict, by the rule `drift` and `report` use, from its observation
 * ${o} (${live}: db_observation_latest's answer) and the holder of its
 * baseline channel, read once for both.  The holders are read in one walk
 * of the pool's active snapshots (db_pool_holders), from the index page
 * the run has read for its newest one: not from the rows of
 * snapshot_channels and snapshots, two page reads a channel on a year's
 * store, nor from the pool's channel entries, which grow with its age
 * (issue 16).  0, or -1 on a store error.
 */
static int
read_holders(struct db *db, struct metrics_pool *p,
    const struct db_observation *o, int live)
{
	struct holders w;
	struct drift_facts f;
	char c[160];

	memset(&f, 0, sizeof(f));
	memset(&w, 0, sizeof(w));
	w.p = p;
	p->held = 0;
	if (p->pool_id != 0 && db_pool_holders(db, p->pool_id, holder, &w))
		return -1;
	f.missing = live > 0 && strcmp(o->provisioning_state, "missing") == 0;
	f.have_live = live > 0 && !f.missing;
	f.have_base = w.have_base;
	f.live_k8s = o->v.kubernetes_version;
	f.live_image = o->v.node_image_version;
	f.base_k8s = w.base.kubernetes_version;
	f.base_image = w.base.node_image_version;
	if (f.have_live)
		f.channel_undoes = apply_channels_undo_pin(
		    o->upgrade_channel, o->node_os_channel, c, sizeof(c));
	p->verdict = drift_verdict(&f);
	return 0;
}

/* Pool ${p}'s last observation (aksnap_pool_info's labels), channel
 * holders and verdict.  0, or -1 on a store error or out of memory. */
static int
read_details(struct metrics_set *ms, struct db *db, struct metrics_pool *p)
{
	struct db_observation o;
	char a[300], b[100], c[100], d[100];
	struct line l;
	int got = 0;

	memset(&o, 0, sizeof(o));
	if (p->pool_id != 0)
		got = db_observation_latest(db, p->pool_id, &o);
	if (got < 0 || read_holders(db, p, &o, got))
		return -1;
	p->info = NULL;
	if (got > 0 && strcmp(o.provisioning_state, "missing") != 0) {
		metrics_escape(o.v.node_image_version, a, sizeof(a));
		metrics_escape(o.v.kubernetes_version, b, sizeof(b));
		metrics_escape(o.v.os_sku, c, sizeof(c));
		metrics_escape(o.v.vm_size, d, sizeof(d));
		l.n = 0;
		l_put(&l, "\",node_image_version=\"");
		l_put(&l, a);
		l_put(&l, "\",kubernetes_version=\"");
		l_put(&l, b);
		l_put(&l, "\",os_sku=\"");
		l_put(&l, c);
		l_put(&l, "\",vm_size=\"");
		l_put(&l, d);
		l_put(&l, "\"}");
		l.b[l.n] = '\0';
		p->info = strings_add(&ms->info, l.b);
		if (p->info == NULL) {
			log_err(NULL, "metrics: out of memory");
			return -1;
		}
	}
	p->known |= K_DETAILS;
	return 0;
}

/* Everything ${ms} does not know yet, from the store. */
static int
read_rest(struct metrics_set *ms, struct db *db)
{
	size_t outcomes = 0;

	for (size_t i = 0; i < ms->n; i++)
		if (ms->pools[i].known & K_OUTCOME)
			outcomes++;
	/* Some pool's id or outcome unknown: the whole store at once. */
	if (outcomes < ms->n && sums_from_store(ms, db))
		return -1;
	for (size_t i = 0; i < ms->n; i++) {
		struct metrics_pool *p = &ms->pools[i];

		if (!(p->known & K_SUMS) && sums_of_pool(db, p))
			return -1;
		if (!(p->known & K_DETAILS) && read_details(ms, db, p))
			return -1;
	}
	return 0;
}

/* The text of ${ms}, every pool known. */
static int
render_set(FILE *out, const struct metrics_set *ms, struct db *db)
{
	const struct metrics_pool *pools = ms->pools;
	size_t n = ms->n;
	char k[160], c[160];
	struct line l;

	if (render_runs(out, db))
		return -1;
	fprintf(out,
	    "# HELP aksnap_last_success_timestamp_seconds Newest "
	    "snapshot taken or slot skipped, per pool.\n"
	    "# TYPE aksnap_last_success_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_escape(pools[i].key, k, sizeof(k));
		put_pool_series(out, "aksnap_last_success_timestamp_seconds", k,
		    NULL, "", (long long)pools[i].last_success);
	}
	fprintf(out,
	    "# HELP aksnap_pool_failed 1 when the pool failed in the "
	    "last run, snapshot or prune that acted on it.\n"
	    "# TYPE aksnap_pool_failed gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_escape(pools[i].key, k, sizeof(k));
		put_pool_series(out, "aksnap_pool_failed", k, NULL, "",
		    pools[i].failed ? 1 : 0);
	}
	fprintf(out,
	    "# HELP aksnap_snapshots Snapshots in the store, per "
	    "pool and state.\n"
	    "# TYPE aksnap_snapshots gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_escape(pools[i].key, k, sizeof(k));
		for (size_t s = 0; db_snapshot_states[s] != NULL; s++)
			put_pool_series(out, "aksnap_snapshots", k, "state",
			    db_snapshot_states[s], pools[i].counts[s]);
	}
	fprintf(out,
	    "# HELP aksnap_pool_info Versions the pool ran when last "
	    "observed.\n"
	    "# TYPE aksnap_pool_info gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (pools[i].info == NULL)
			continue;
		metrics_escape(pools[i].key, k, sizeof(k));
		l.n = 0;
		l_put(&l, "aksnap_pool_info{pool=\"");
		l_put(&l, k);
		l_put(&l, pools[i].info);
		l_end(&l, out, 1);
	}
	fprintf(out,
	    "# HELP aksnap_baseline_timestamp_seconds When the snapshot "
	    "that holds each channel of the pool's ladder was taken.\n"
	    "# TYPE aksnap_baseline_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (pools[i].held == 0)
			continue;
		metrics_escape(pools[i].key, k, sizeof(k));
		for (int r = 0; r < rungs(&pools[i]); r++) {
			if (!(pools[i].held & (1U << r)))
				continue;
			metrics_escape(
			    rung_channel(&pools[i], r), c, sizeof(c));
			put_pool_series(out,
			    "aksnap_baseline_timestamp_seconds", k, "channel",
			    c, (long long)pools[i].held_at[r]);
		}
	}
	fprintf(out,
	    "# HELP aksnap_pool_drift 1 for the pool's drift verdict (as "
	    "'aksnap drift' gives it).\n"
	    "# TYPE aksnap_pool_drift gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_escape(pools[i].key, k, sizeof(k));
		put_pool_series(out, "aksnap_pool_drift", k, "verdict",
		    pools[i].verdict, 1);
	}
	return ferror(out) ? -1 : 0;
}

struct metrics_set *
metrics_set_new(const struct config *cfg)
{
	struct metrics_set *ms = calloc(1, sizeof(*ms));

	if (ms == NULL)
		return NULL;
	ms->cfg = cfg;
	ms->n = cfg->npools;
	ms->pools = calloc(ms->n ? ms->n : 1, sizeof(*ms->pools));
	if (ms->pools == NULL) {
		free(ms);
		return NULL;
	}
	for (size_t i = 0; i < ms->n; i++) {
		const struct pool_conf *pc = &cfg->pools[i];

		ms->pools[i].key = pc->key;
		ms->pools[i].channel = pc->policy->channel;
		ms->pools[i].ladder = &pc->policy->channels;
	}
	return ms;
}

/* ${pc}'s pool in ${ms}, or NULL when not one of its configuration's. */
static struct metrics_pool *
pool_of(struct metrics_set *ms, const struct pool_conf *pc)
{
	if (ms == NULL || pc < ms->cfg->pools || pc >= ms->cfg->pools + ms->n)
		return NULL;
	return &ms->pools[pc - ms->cfg->pools];
}

int
metrics_set_read(struct metrics_set *ms, struct db *db,
    const struct pool_conf *pc, int64_t pool_id)
{
	struct metrics_pool *p = pool_of(ms, pc);

	if (p == NULL)
		return -1;
	p->pool_id = pool_id;
	p->known &= ~(K_SUMS | K_DETAILS);
	if (sums_of_pool(db, p) || read_details(ms, db, p)) {
		p->known &= ~(K_SUMS | K_DETAILS);
		return -1;
	}
	return 0;
}

void
metrics_set_outcome(struct metrics_set *ms, const struct pool_conf *pc,
    int64_t pool_id, int failed)
{
	struct metrics_pool *p = pool_of(ms, pc);

	if (p == NULL)
		return;
	if (p->pool_id != pool_id)
		p->known = 0; /* read under another id: read again */
	p->pool_id = pool_id;
	p->failed = failed != 0;
	p->known |= K_OUTCOME;
}

void
metrics_set_free(struct metrics_set *ms)
{
	if (ms == NULL)
		return;
	strings_free(&ms->info);
	free(ms->pools);
	free(ms);
}

/* metrics_render for set ${ms}: what it does not know read first. */
static int
set_render(FILE *out, struct metrics_set *ms, struct db *db)
{
	if (read_rest(ms, db))
		return -1;
	return render_set(out, ms, db);
}

int
metrics_render(FILE *out, const struct config *cfg, struct db *db)
{
	struct metrics_set *ms = metrics_set_new(cfg);
	int rc;

	if (ms == NULL) {
		log_err(NULL, "metrics: out of memory");
		return -1;
	}
	rc = set_render(out, ms, db);
	metrics_set_free(ms);
	return rc;
}

int
metrics_write(const struct config *cfg, struct db *db)
{
	struct metrics_set *ms = metrics_set_new(cfg);
	int rc;

	if (ms == NULL) {
		log_err(NULL, "metrics: out of memory");
		return -1;
	}
	rc = metrics_set_write(ms, db);
	metrics_set_free(ms);
	return rc;
}

#define METRICS_WRITE_BUF (64 * 1024)

int
metrics_set_write(struct metrics_set *ms, struct db *db)
{
	const char *path = ms->cfg->metrics_file;
	char tmp[PATH_MAX + 16];
	char *buf = NULL;
	FILE *f;
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		close(fd);
		goto err0;
	}
	/* 10,000 pools are about 8 MiB of text: written 64 KiB at a time,
	 * not in stdio's 4 KiB (2,000 write(2) calls after the last answer). */
	buf = malloc(METRICS_WRITE_BUF);
	if (buf != NULL)
		(void)setvbuf(f, buf, _IOFBF, METRICS_WRITE_BUF);
	if (set_render(f, ms, db) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		log_err(NULL, "metrics: writing %s failed", tmp);
		fclose(f);
		goto err0;
	}
	/* node_exporter runs as another user: the file is world-readable. */
	(void)fchmod(fileno(f), 0644);
	if (fclose(f) != 0) {
		log_err(NULL, "metrics: %s: %s", tmp, strerror(errno));
		goto err0;
	}
	if (rename(tmp, path) != 0) {
		log_err(
		    NULL, "metrics: rename to %s: %s", path, strerror(errno));
		goto err0;
	}
	rc = 0;
err0:
	if (rc != 0)
		unlink(tmp);
	free(buf); /* the stream using it is closed */
	return rc;
}
