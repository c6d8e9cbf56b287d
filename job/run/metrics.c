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
		p->failed = m->failed;
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
 * The configured pools, with their ids, last outcomes, newest successes
 * and snapshot counts from the store: one statement over the store's
 * pools in key order (db_metrics_pools), merged into the configuration's
 * sorted by key, and one walk of the snapshots' (pool_id, state) index
 * (db_metrics_snapshot_counts), merged by id, instead of four questions
 * a pool (the counts alone were eight index seeks a pool).
 */
static struct metrics_pool *
pools_from_store(const struct config *cfg, struct db *db)
{
	struct metrics_pool *pools;
	struct merge g;
	struct counting c;

	memset(&g, 0, sizeof(g));
	pools = calloc(cfg->npools ? cfg->npools : 1, sizeof(*pools));
	g.by_key = calloc(cfg->npools ? cfg->npools : 1, sizeof(*g.by_key));
	if (pools == NULL || g.by_key == NULL) {
		log_err(NULL, "metrics: out of memory");
		goto err;
	}
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_conf *pc = &cfg->pools[i];

		pools[i].key = pc->key;
		pools[i].channel = pc->policy->channel;
		pools[i].ladder = &pc->policy->channels;
		g.by_key[i] = &pools[i];
	}
	g.n = cfg->npools;
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
	return pools;
err:
	free(g.by_key);
	free(pools);
	return NULL;
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

/*
 * One series per channel a pool's ladder names whose holder is active:
 * when that snapshot was taken.  A ladder without rungs (a configuration
 * built by hand) falls back to the policy's one channel.
 */
static int
render_channel_holders(FILE *out, struct db *db, const struct metrics_pool *p)
{
	const struct ladder *l = p->ladder;
	int n = l != NULL && l->n > 0 ? l->n : 1;
	char k[160], c[160];

	metrics_escape(p->key, k, sizeof(k));
	for (int r = 0; r < n; r++) {
		const char *ch =
		    l != NULL && l->n > 0 ? l->rung[r].channel : p->channel;
		struct db_snapshot base;
		int got;

		if (ch == NULL || ch[0] == '\0')
			continue;
		if (p->base_known && strcmp(ch, p->channel) == 0) {
			/* the baseline's holder, read for the verdict */
			if (!p->base_active)
				continue;
			base.created_at = p->base_at;
		} else {
			got = db_snapshot_channel(db, p->pool_id, ch, &base);
			if (got < 0)
				return -1;
			if (got == 0 || strcmp(base.state, "active") != 0)
				continue;
		}
		metrics_escape(ch, c, sizeof(c));
		put_pool_series(out, "aksnap_baseline_timestamp_seconds", k,
		    "channel", c, (long long)base.created_at);
	}
	return 0;
}

/*
 * Pool ${p}'s drift verdict, by the rule `drift` and `report` use, from its
 * observation ${o} (${live}: db_observation_latest's answer) and the
 * holder of its baseline channel.  0, or -1 on a store error.
 */
static int
pool_verdict(struct db *db, struct metrics_pool *p,
    const struct db_observation *o, int live)
{
	struct db_snapshot base;
	struct drift_facts f;
	char c[160];
	int have_base = 0;

	memset(&f, 0, sizeof(f));
	memset(&base, 0, sizeof(base));
	if (p->pool_id != 0 && p->channel != NULL && p->channel[0] != '\0') {
		have_base =
		    db_snapshot_channel(db, p->pool_id, p->channel, &base);
		if (have_base < 0)
			return -1;
		have_base = have_base > 0 && strcmp(base.state, "active") == 0;
		/* render_channel_holders prints its time, unread again */
		p->base_known = 1;
		p->base_active = have_base;
		p->base_at = base.created_at;
	}
	f.missing = live > 0 && strcmp(o->provisioning_state, "missing") == 0;
	f.have_live = live > 0 && !f.missing;
	f.have_base = have_base;
	f.live_k8s = o->v.kubernetes_version;
	f.live_image = o->v.node_image_version;
	f.base_k8s = base.v.kubernetes_version;
	f.base_image = base.v.node_image_version;
	if (f.have_live)
		f.channel_undoes = apply_channels_undo_pin(
		    o->upgrade_channel, o->node_os_channel, c, sizeof(c));
	p->verdict = drift_verdict(&f);
	return 0;
}

/*
 * Each pool's channels (when their snapshots were taken, so that a
 * dashboard shows their age as time() minus it: every rung of a ladder,
 * not only the last) and its drift verdict against the baseline (the
 * last rung: pool_verdict, read with the pool's observation for
 * aksnap_pool_info).
 */
static int
render_baselines(
    FILE *out, struct db *db, const struct metrics_pool *pools, size_t n)
{
	char k[160];

	fprintf(out,
	    "# HELP aksnap_baseline_timestamp_seconds When the snapshot "
	    "that holds each channel of the pool's ladder was taken.\n"
	    "# TYPE aksnap_baseline_timestamp_seconds gauge\n");
	for (size_t i = 0; i < n; i++) {
		if (pools[i].pool_id != 0 &&
		    render_channel_holders(out, db, &pools[i]))
			return -1;
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
	return 0;
}

int
metrics_render(FILE *out, const struct config *cfg, struct db *db)
{
	struct metrics_pool *pools;
	size_t n = cfg->npools;
	char k[160], a[300], b[100], c[100], d[100];
	struct line l;
	int rc = -1;

	pools = pools_from_store(cfg, db);
	if (pools == NULL)
		return -1;
	if (render_runs(out, db))
		goto out;
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
		struct db_observation o;
		int got = 0;

		/* The observation read once: its drift verdict too, printed
		 * by render_baselines. */
		memset(&o, 0, sizeof(o));
		if (pools[i].pool_id != 0)
			got = db_observation_latest(db, pools[i].pool_id, &o);
		if (got < 0 || pool_verdict(db, &pools[i], &o, got))
			goto out;
		if (got == 0 || strcmp(o.provisioning_state, "missing") == 0)
			continue;
		metrics_escape(pools[i].key, k, sizeof(k));
		metrics_escape(o.v.node_image_version, a, sizeof(a));
		metrics_escape(o.v.kubernetes_version, b, sizeof(b));
		metrics_escape(o.v.os_sku, c, sizeof(c));
		metrics_escape(o.v.vm_size, d, sizeof(d));
		l.n = 0;
		l_put(&l, "aksnap_pool_info{pool=\"");
		l_put(&l, k);
		l_put(&l, "\",node_image_version=\"");
		l_put(&l, a);
		l_put(&l, "\",kubernetes_version=\"");
		l_put(&l, b);
		l_put(&l, "\",os_sku=\"");
		l_put(&l, c);
		l_put(&l, "\",vm_size=\"");
		l_put(&l, d);
		l_put(&l, "\"}");
		l_end(&l, out, 1);
	}
	if (render_baselines(out, db, pools, n))
		goto out;
	rc = ferror(out) ? -1 : 0;
out:
	free(pools);
	return rc;
}

int
metrics_write(const struct config *cfg, struct db *db)
{
	const char *path = cfg->metrics_file;
	char tmp[PATH_MAX + 16];
	FILE *f;
	int fd;

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
	if (metrics_render(f, cfg, db) || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
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
	return 0;
err0:
	unlink(tmp);
	return -1;
}
