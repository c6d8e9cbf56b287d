/*
 * cmd_check.c -- check [--as-of TIME]: a Nagios/Icinga plugin over the
 * store (it never calls ARM): one status line with performance data, then
 * one line per problem.
 */
#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_conflict.h"
#include "db/db_list.h"
#include "db/db_reads.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/azure/token.h"
#include "job/base/json_stream.h"
#include "job/base/json_write.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/apply_checks.h"
#include "job/rules/drift.h"
#include "job/rules/retention.h"
#include "job/rules/schedule.h"
#include "job/rules/versions.h"
#include "job/run/run.h"
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct problem {
	int level; /* CHECK_WARNING or CHECK_CRITICAL */
	char pool[64];
	char text[400];
	/* where it is listed: by the position of what it is about (the
	 * last run, a pool's in the configuration, the conflicts), then as
	 * found (the pools are read in the store's order): problems_sort */
	size_t at;
};

struct check_state {
	struct problem *p;
	size_t n, cap;
	size_t at; /* the position of what is being checked (problem.at) */
	int critical, warning, paused;
	/* for the summary and the performance data */
	long long oldest_success_age, oldest_baseline_age;
	time_t newest_snapshot;
	/* read once for every pool (db_reads.h) */
	struct db_pool_ids *ids;
	struct db_snapshot *pending; /* by pool id, as check_pending lists */
	size_t npending, pending_cap;
	/* schedule_interval of the schedules last seen: a fleet's pools
	 * share a few, and each asked afresh was a twentieth of check's
	 * instructions at 10,000 pools */
	struct {
		const char *schedule;
		long long interval;
	} memo[8];
	size_t nmemo;
};

/* Not a Nagios status: a paused pool (enabled = no) is listed as such and
 * neither raises nor lowers the status. */
#define CHECK_PAUSED 4

static void problem_add(struct check_state *cs, int level, const char *pool,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem_add(
    struct check_state *cs, int level, const char *pool, const char *fmt, ...)
{
	va_list ap;

	if (level == CHECK_CRITICAL)
		cs->critical++;
	else if (level == CHECK_PAUSED)
		cs->paused++;
	else
		cs->warning++;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 16;
		struct problem *np = realloc(cs->p, cap * sizeof(*np));

		if (np == NULL)
			return; /* counted, not described */
		cs->p = np;
		cs->cap = cap;
	}
	cs->p[cs->n].level = level;
	cs->p[cs->n].at = cs->at;
	util_strlcpy(cs->p[cs->n].pool, pool != NULL ? pool : "",
	    sizeof(cs->p[cs->n].pool));
	va_start(ap, fmt);
	vsnprintf(cs->p[cs->n].text, sizeof(cs->p[cs->n].text), fmt, ap);
	va_end(ap);
	cs->n++;
}

static const char *const check_names[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN", "PAUSED"};

/* The one-line UNKNOWN answer (config or store unreadable, no run yet). */
static int
check_unknown(const struct cli *cli, const char *why)
{
	if (cli->json) {
		json_t *doc = json_object();

		json_object_set_new(doc, "status", json_string("UNKNOWN"));
		json_object_set_new(
		    doc, "exit_code", json_integer(CHECK_UNKNOWN));
		json_object_set_new(doc, "summary", json_string(why));
		json_object_set_new(doc, "problems", json_array());
		output_print_json(doc);
	} else {
		printf("AKSNAP UNKNOWN - %s\n", why);
	}
	return CHECK_UNKNOWN;
}

/*
 * A pool with a baseline on a cluster whose auto-upgrade channels would
 * undo it (as the last observation saw them): WARNING naming the cluster,
 * the channel and the fix.  0 or -1.
 */
static void
check_channels(const struct pool_conf *pc, const struct db_pool_read *r,
    struct check_state *cs)
{
	const struct db_observation *o = &r->obs;
	char why[256];

	/* the reason only when there is one to show */
	if (r->have_obs &&
	    apply_channels_undo_pin(
	        o->upgrade_channel, o->node_os_channel, NULL, 0) &&
	    apply_channels_undo_pin(
	        o->upgrade_channel, o->node_os_channel, why, sizeof(why)))
		problem_add(cs, CHECK_WARNING, pc->key,
		    "cluster %s will move the pool off its baseline: %s",
		    pc->cluster, why);
}

/* The checks of one pool (DESIGN.md section 3, `check`). */
/* Keep ${snap}, a snapshot left pending, in cs->pending.  0/-1. */
static int
pending_add(void *ctx, const struct db_snapshot *snap)
{
	struct check_state *cs = ctx;
	void *p;

	if (cs->npending == cs->pending_cap) {
		cs->pending_cap =
		    cs->pending_cap != 0 ? cs->pending_cap * 2 : 8;
		p = realloc(
		    cs->pending, cs->pending_cap * sizeof(*cs->pending));
		if (p == NULL)
			return -1;
		cs->pending = p;
	}
	cs->pending[cs->npending++] = *snap;
	return 0;
}

/*
 * A WARNING per snapshot that Azure has not shown done (DESIGN.md section
 * 6, Verification): `unconfirmed` (a PUT whose answer and GET did not show
 * it) and `deleting` (a DELETE not yet shown gone).  The next run settles
 * both; until then the store cannot prove what Azure holds.  From
 * cs->pending, read once for every pool (gather).
 */
static void
check_pending(
    const struct pool_conf *pc, int64_t pool_id, struct check_state *cs)
{
	size_t lo = 0, hi = cs->npending;

	/* the pool's first: cs->pending is by pool id */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cs->pending[mid].pool_id < pool_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < cs->npending && cs->pending[lo].pool_id == pool_id; lo++) {
		const struct db_snapshot *snap = &cs->pending[lo];
		int del = strcmp(snap->state, "deleting") == 0;

		problem_add(cs, CHECK_WARNING, pc->key, "snapshot %s is %s: %s",
		    snap->name, snap->state,
		    del ? "Azure has not shown it deleted; the next run "
		          "deletes it again"
		        : "Azure has not shown it taken; the next run "
		          "settles it by GET");
	}
}

/*
 * A fleet's pool no longer selected, or gone: said, not judged.  1 when
 * it is (nothing more to check), 0 else, -1 on a store error.
 */
static int
check_missing(const struct pool_conf *pc, const struct db_pool_read *r,
    struct check_state *cs)
{
	char a[32];

	if (pc->fleet[0] == '\0')
		return 0;
	if (!r->have_obs || strcmp(r->obs.provisioning_state, "missing") != 0)
		return 0;
	util_format_time(r->obs.observed_at, a, sizeof(a));
	problem_add(cs, CHECK_WARNING, pc->key,
	    "missing since %s: [fleet:%s] no longer selects it, or its "
	    "cluster or node pool is gone; its snapshots stay under retention "
	    "(never the newest)",
	    a, pc->fleet);
	return 1;
}

/* schedule_interval of ${schedule} at ${as_of} (-1: none, or it does not
 * parse), remembered in cs->memo. */
static long long
check_interval(struct check_state *cs, const struct config *cfg,
    const char *schedule, time_t as_of)
{
	const size_t nmemo = sizeof(cs->memo) / sizeof(cs->memo[0]);
	struct schedule sched;
	char err[256];
	long long interval = -1;
	size_t slot;

	for (size_t i = 0; i < nmemo && i < cs->nmemo; i++)
		if (strcmp(cs->memo[i].schedule, schedule) == 0)
			return cs->memo[i].interval;
	if (schedule_parse(schedule, &sched, err, sizeof(err)) == 0)
		interval = schedule_interval(&sched, cfg->tz, as_of);
	slot = cs->nmemo++ % nmemo;
	cs->memo[slot].schedule = schedule;
	cs->memo[slot].interval = interval;
	return interval;
}

/*
 * Staleness: a success (snapshot taken, or slot skipped because nothing
 * changed) within twice the schedule's interval; the newest snapshot for
 * the summary; the rows left pending.  0 or -1.
 */
static void
check_stale(const struct config *cfg, const struct pool_conf *pc,
    const struct db_pool_read *r, time_t as_of, struct check_state *cs)
{
	const struct policy *pol = pc->policy;
	char a[32], b[32];
	long long interval = check_interval(cs, cfg, pol->schedule, as_of), age;
	time_t last = r->last_success;

	if (last == 0) {
		problem_add(
		    cs, CHECK_CRITICAL, pc->key, "no successful snapshot yet");
	} else {
		age = as_of > last ? (long long)(as_of - last) : 0;
		if (age > cs->oldest_success_age)
			cs->oldest_success_age = age;
		if (interval > 0 && age > 2 * interval) {
			lookup_age(age, a, sizeof(a));
			util_format_duration(2 * interval, b, sizeof(b));
			problem_add(cs, CHECK_CRITICAL, pc->key,
			    "no successful snapshot for %s (schedule '%s' "
			    "allows %s)",
			    a, pol->schedule, b);
		}
	}
	if (r->have_newest && r->newest.created_at > cs->newest_snapshot)
		cs->newest_snapshot = r->newest.created_at;
	check_pending(pc, r->pool_id, cs);
}

/*
 * The baseline: still there, not too old, its image still within what
 * AKS supports, no auto-upgrade channel undoing it.  0 or -1.
 */
static void
check_baseline(const struct pool_conf *pc, const struct db_pool_read *r,
    time_t as_of, struct check_state *cs)
{
	const struct policy *pol = pc->policy;
	const struct db_snapshot *s = &r->base;
	char a[32], b[32];
	long long age;
	time_t image_date;

	if (!r->have_base)
		return;
	if (strcmp(s->state, "active") != 0) {
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline %s of channel %s is %s", s->name, pol->channel,
		    s->state);
		return;
	}
	check_channels(pc, r, cs);
	age = as_of > s->created_at ? (long long)(as_of - s->created_at) : 0;
	if (age > cs->oldest_baseline_age)
		cs->oldest_baseline_age = age;
	if (pol->warn_baseline_age > 0 && age > pol->warn_baseline_age) {
		lookup_age(age, a, sizeof(a));
		util_format_duration(pol->warn_baseline_age, b, sizeof(b));
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline %s of channel %s is %s old (warn_baseline_age "
		    "%s)",
		    s->name, pol->channel, a, b);
	}
	if (pol->warn_image_age > 0 &&
	    versions_image_date(s->v.node_image_version, &image_date) == 0 &&
	    as_of - image_date > pol->warn_image_age) {
		lookup_age((long long)(as_of - image_date), a, sizeof(a));
		util_format_duration(pol->warn_image_age, b, sizeof(b));
		problem_add(cs, CHECK_WARNING, pc->key,
		    "baseline node image %s is %s old (warn_image_age %s; AKS "
		    "supports a node image for 90 days)",
		    s->v.node_image_version, a, b);
	}
}

/* The checks of the pool ${pc}, its facts ${r} (NULL: not read, the
 * pool paused or not in the store). */
static void
check_pool(const struct config *cfg, const struct pool_conf *pc,
    const struct db_pool_read *r, time_t as_of, struct check_state *cs)
{
	if (pc->policy->paused) {
		/* Observed only, by choice: not stale, nothing missing. */
		problem_add(cs, CHECK_PAUSED, pc->key,
		    "enabled = no: observed only; nothing is taken, promoted "
		    "or deleted");
		return;
	}
	if (r == NULL) {
		problem_add(cs, CHECK_WARNING, pc->key,
		    "not yet seen by a run (added to the configuration "
		    "since?)");
		return;
	}
	if (check_missing(pc, r, cs))
		return;
	check_stale(cfg, pc, r, as_of, cs);
	check_baseline(pc, r, as_of, cs);
}

/*
 * One WARNING per conflict `sync` recorded (DESIGN.md section 6,
 * Ownership): a snapshot tagged aksnap-managed that this store does not
 * own.  From the store alone: check never calls ARM.  0 or -1.
 */
static int
check_conflicts(struct db *db, struct check_state *cs)
{
	struct db_conflict *c = NULL;
	size_t n = 0;

	if (db_conflict_list(db, &c, &n))
		return -1;
	struct db_snapshot *rows = NULL;
	size_t nrows = 0;

	for (size_t i = 0; i < n; i++)
		problem_add(cs, CHECK_WARNING, c[i].pool_tag,
		    "conflict: snapshot %s is tagged aksnap-managed but is not "
		    "this store's (%s); never touched (sync)",
		    c[i].name, c[i].reason);
	free(c);
	/* Rows of this store that Azure now tags for another owner. */
	if (db_snapshot_list(db, 0, "conflict", &rows, &nrows))
		return -1;
	for (size_t i = 0; i < nrows; i++)
		problem_add(cs, CHECK_WARNING, rows[i].pool_key,
		    "conflict: snapshot %s: %s; never touched (sync)",
		    rows[i].name, rows[i].error);
	free(rows);
	return 0;
}

static int
parse_args(struct cli *cli, int argc, char **argv, time_t *as_of)
{
	static const struct option lopts[] = {
	    {"as-of", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*as_of = util_now();
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		if (ch != 'a')
			return -1;
		if (util_parse_time(optarg, as_of)) {
			(void)cli_usage_error("check",
			    "--as-of: expected an RFC 3339 time, got '%s'",
			    optarg);
			return -1;
		}
	}
	if (optind < argc) {
		(void)cli_usage_error(
		    "check", "unexpected argument '%s'", argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * cs->p in the order they are listed: by at (each below ${nat}), then as
 * found.  A counting sort on at, which keeps the order found, then each
 * problem moved to its place in the array itself, cycle by cycle: where
 * qsort's merge sort copied each 480-byte problem a dozen times (a ninth
 * of check's instructions at 10,000 problems), and a sorted copy would
 * hold them twice (5 MiB more at 10,000).  0, or -1 when out of memory
 * (logged).
 */
static int
problems_sort(struct check_state *cs, size_t nat)
{
	struct problem tmp;
	size_t *first, *to;

	if (cs->n < 2)
		return 0;
	first = calloc(nat + 1, sizeof(*first));
	to = calloc(cs->n, sizeof(*to));
	if (first == NULL || to == NULL) {
		free(first);
		free(to);
		log_err(NULL, "check: out of memory");
		return -1;
	}
	for (size_t i = 0; i < cs->n; i++)
		first[cs->p[i].at + 1]++;
	for (size_t a = 0; a < nat; a++)
		first[a + 1] += first[a];
	for (size_t i = 0; i < cs->n; i++)
		to[i] = first[cs->p[i].at]++;
	for (size_t i = 0; i < cs->n; i++) {
		while (to[i] != i) {
			size_t j = to[i];

			tmp = cs->p[j];
			cs->p[j] = cs->p[i];
			cs->p[i] = tmp;
			to[i] = to[j];
			to[j] = j;
		}
	}
	free(first);
	free(to);
	return 0;
}

/* What check_pools' walk needs in db_pools_read's callback. */
struct check_walk {
	const struct config *cfg;
	const size_t *pos; /* the walk's k-th pool: configuration's position */
	time_t as_of;
	struct check_state *cs;
};

static int
check_one(void *ctx, size_t k, const struct db_pool_read *r)
{
	struct check_walk *w = ctx;
	size_t i = w->pos[k];

	w->cs->at = 1 + i;
	check_pool(w->cfg, &w->cfg->pools[i], r, w->as_of, w->cs);
	return 0;
}

/*
 * Every pool's problems: the stored pools not paused read in the store's
 * order (db_pool_ids_order: each page read once; the configuration's
 * order read a page again for every ~200 pools at 10,000), each fact by
 * one statement for the whole fleet (db_pools_read); listed in the
 * configuration's order.  0/-1.
 */
static int
check_pools(struct db *db, const struct config *cfg, time_t as_of,
    struct check_state *cs)
{
	size_t n = cfg->npools, m = 0, *order = calloc(n + 1, sizeof(*order));
	int64_t *pool_ids = calloc(n + 1, sizeof(*pool_ids));
	int64_t *stored = calloc(n + 1, sizeof(*stored));
	const char **channels = calloc(n + 1, sizeof(*channels));
	size_t *pos = calloc(n + 1, sizeof(*pos));
	struct check_walk w = {cfg, pos, as_of, cs};
	int rc = -1;

	if (order == NULL || pool_ids == NULL || stored == NULL ||
	    channels == NULL || pos == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		pool_ids[i] = db_pool_ids_find(cs->ids, cfg->pools[i].key);
	if (db_pool_ids_order(pool_ids, n, order))
		goto out;
	for (size_t k = 0; k < n; k++) {
		const struct pool_conf *pc = &cfg->pools[order[k]];

		if (pool_ids[order[k]] == 0 || pc->policy->paused) {
			cs->at = 1 + order[k];
			check_pool(cfg, pc, NULL, as_of, cs);
			continue;
		}
		pos[m] = order[k];
		stored[m] = pool_ids[order[k]];
		channels[m++] = pc->policy->channel;
	}
	if (db_pools_read(db, stored, channels, m,
	        DB_POOL_OBS | DB_POOL_NEWEST_AT | DB_POOL_BASELINE |
	            DB_POOL_SUCCESS | DB_POOL_BRIEF,
	        check_one, &w))
		goto out;
	cs->at = 1 + n;
	rc = 0;
out:
	free(order);
	free(pool_ids);
	free(stored);
	free(channels);
	free(pos);
	return rc;
}

/*
 * Every problem the store shows: the last run, each pool, the conflicts,
 * listed in that order.  0, or -1 with why the store could not tell in
 * ${why}.
 */
static int
gather(struct db *db, const struct config *cfg, time_t as_of,
    struct check_state *cs, char *why, size_t len)
{
	struct db_run last;
	char at[32];
	int got;

	if (db_read_begin(db) || db_pool_ids_load(db, &cs->ids) ||
	    db_snapshot_pending_each(db, pending_add, cs))
		goto err;
	got = db_run_last(db, "run", &last);
	if (got <= 0) {
		snprintf(why, len,
		    got < 0 ? "cannot read the runs of %s"
		            : "no run recorded yet in %s",
		    cfg->database);
		return -1;
	}
	if (last.exit_code != 0) {
		output_time(last.started_at, at, sizeof(at));
		problem_add(cs, CHECK_CRITICAL, NULL,
		    "the last run (#%lld, started %s) exited %d%s",
		    (long long)last.id, at, last.exit_code,
		    last.failed > 0 ? " (a pool failed)" : "");
	}
	if (check_pools(db, cfg, as_of, cs))
		goto err;
	/* Ownership: what the last sync found tagged as ours but is not. */
	if (check_conflicts(db, cs))
		goto err;
	if (problems_sort(cs, cfg->npools + 2))
		goto err;
	return 0;
err:
	snprintf(why, len, "cannot read the store %s", cfg->database);
	return -1;
}

/* The status line's text: the first problem of the status's level. */
static void
summarize(const struct check_state *cs, int rc, size_t npools, time_t as_of,
    char *summary, size_t len)
{
	char age[32], newest[64];
	size_t first;

	if (cs->newest_snapshot != 0) {
		lookup_age(
		    (long long)(as_of - cs->newest_snapshot), age, sizeof(age));
		snprintf(newest, sizeof(newest), "newest snapshot %s ago", age);
	} else {
		snprintf(newest, sizeof(newest), "no snapshot yet");
	}
	for (first = 0; first < cs->n; first++)
		if (cs->p[first].level == rc)
			break;
	if (rc == CHECK_OK && cs->paused > 0)
		snprintf(summary, len, "%zu pools (%d paused), %s", npools,
		    cs->paused, newest);
	else if (rc == CHECK_OK)
		snprintf(summary, len, "%zu pools, %s", npools, newest);
	else if (first < cs->n)
		snprintf(summary, len,
		    "%s%s%s%s (%d critical, %d warning, %zu "
		    "pools)",
		    cs->p[first].pool, cs->p[first].pool[0] ? ": " : "",
		    cs->p[first].text,
		    cs->critical + cs->warning > 1 ? " and more" : "",
		    cs->critical, cs->warning, npools);
	else /* out of memory describing them */
		snprintf(summary, len, "%d critical, %d warning, %zu pools",
		    cs->critical, cs->warning, npools);
}

/*
 * The document json_dumps(JSON_INDENT(2) | JSON_PRESERVE_ORDER) printed
 * of the tree render_json built, written as it goes (json_write.h): the
 * tree of 10,000 problems, packed, dumped and freed, was a third of
 * check --json's instructions at 10,000 pools.  As jansson, a member
 * whose text is not valid UTF-8 is left out (the summary, cut at its
 * buffer's end), and so is a problem whose pool or message is not
 * (json_pack failed, and the array took nothing).
 */
static void
render_json(const struct check_state *cs, int rc, const char *summary,
    size_t npools, time_t as_of)
{
	FILE *out = stdout;
	char at[32];
	size_t n = 0;

	fprintf(out, "{\n  \"status\": \"%s\",\n  \"exit_code\": %d",
	    check_names[rc], rc);
	if (json_write_utf8(summary)) {
		fputs(",\n  \"summary\": ", out);
		json_write_quoted(out, summary, strlen(summary));
	}
	if (as_of != 0) {
		util_format_time(as_of, at, sizeof(at));
		fprintf(out, ",\n  \"as_of\": \"%s\"", at);
	} else {
		fputs(",\n  \"as_of\": null", out);
	}
	fprintf(out,
	    ",\n  \"pools\": %zu,\n  \"critical\": %d,\n  \"warning\": %d,"
	    "\n  \"paused\": %d,\n  \"oldest_success_age\": %lld,"
	    "\n  \"oldest_baseline_age\": %lld,\n  \"problems\": [",
	    npools, cs->critical, cs->warning, cs->paused,
	    cs->oldest_success_age, cs->oldest_baseline_age);
	for (size_t i = 0; i < cs->n; i++) {
		const struct problem *p = &cs->p[i];
		struct json_write w;

		if (!json_write_utf8(p->pool) || !json_write_utf8(p->text))
			continue;
		fputs(n++ == 0 ? "\n    " : ",\n    ", out);
		json_write_begin(&w, out, 2);
		json_write_string(&w, "level", check_names[p->level]);
		json_write_opt(&w, "pool", p->pool);
		json_write_string(&w, "message", p->text);
		json_write_end(&w);
	}
	json_stream_array_end(out, 1, n);
	fputs("\n}\n", out);
}

/* Nagios: the status line with perfdata, then the long output. */
static void
render_nagios(
    const struct check_state *cs, int rc, const char *summary, size_t npools)
{
	printf("AKSNAP %s - %s | pools=%zu critical=%d warning=%d "
	       "oldest_success_age=%llds oldest_baseline_age=%llds "
	       "paused=%d\n",
	    check_names[rc], summary, npools, cs->critical, cs->warning,
	    cs->oldest_success_age, cs->oldest_baseline_age, cs->paused);
	for (size_t i = 0; i < cs->n; i++)
		printf("%s: %s%s%s\n", check_names[cs->p[i].level],
		    cs->p[i].pool, cs->p[i].pool[0] ? ": " : "", cs->p[i].text);
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check_state cs;
	struct session ss;
	time_t as_of;
	char why[PATH_MAX + 128], summary[512];
	int rc;

	memset(&cs, 0, sizeof(cs));
	if (parse_args(cli, argc, argv, &as_of))
		return CHECK_UNKNOWN;
	output_buffered();
	rc = session_open(&ss, cli, 0);
	if (rc != EXIT_DONE) {
		snprintf(why, sizeof(why), "configuration %s is not valid",
		    cli->config_path);
		rc = check_unknown(cli, why);
		goto out;
	}
	if (session_store(&ss, SESSION_STORE | SESSION_FLEETS) != EXIT_DONE) {
		/* The store open, its fleets' pools not read. */
		if (ss.db != NULL)
			snprintf(
			    why, sizeof(why), "cannot read the fleets' pools");
		else
			snprintf(why, sizeof(why), "cannot read the store %s",
			    ss.cfg->database);
		rc = check_unknown(cli, why);
		goto out;
	}
	if (gather(ss.db, ss.cfg, as_of, &cs, why, sizeof(why))) {
		rc = check_unknown(cli, why);
		goto out;
	}
	rc = cs.critical > 0 ? CHECK_CRITICAL
	    : cs.warning > 0 ? CHECK_WARNING
	                     : CHECK_OK;
	summarize(&cs, rc, ss.cfg->npools, as_of, summary, sizeof(summary));
	if (cli->json)
		render_json(&cs, rc, summary, ss.cfg->npools, as_of);
	else
		render_nagios(&cs, rc, summary, ss.cfg->npools);
out:
	db_read_end(ss.db);
	db_pool_ids_free(cs.ids);
	free(cs.pending);
	free(cs.p);
	session_close(&ss);
	return rc;
}
