/*
 * prune.c -- promotion and retention, applied.
 *
 * The rules live in job/retention.c and are pure; this file brings them
 * the store's view of a pool and carries out what they decide, in the
 * order DESIGN.md section 6 asks for: promotion first (so a snapshot that
 * has just soaked is never pruned by the same run), then retention.
 *
 * Deletion follows the same intent-first discipline as creation: the row
 * goes to "deleting" (committed) before the DELETE leaves, and Azure
 * settles it.  204 and 404 mean it was already gone, which is recorded as
 * "missing", never as our deletion.  A 200 (or 202) is only ARM's word:
 * a GET of each such snapshot follows (one concurrent batch), and only a
 * 404 there records it "deleted"; a snapshot the GET still finds stays
 * "deleting", the pool fails, and the next run's reconcile deletes it
 * again (DESIGN.md section 6, Verification).  Only rows
 * in the store are ever considered, and the store only holds snapshots
 * aksnap created with the aksnap-managed tag (or that `sync` adopted
 * because they carry it), so nothing else in a subscription is touched.
 *
 * Keep decisions are recorded when they change (new snapshot, other
 * reasons, other policy), not on every hourly run, so that `explain`
 * stays readable and the store does not grow with every run.
 */
#include "job/run/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/retention.h"
#include "job/run/changelog.h"

#define TAG_CHANNEL "aksnap-channel"
#define MAX_HOLDERS LIMIT_KEEP_PROMOTED
#define CLOCK_SLACK 900 /* seconds a run may take to create its snapshots */

void
prune_pool_clear(struct prune_pool *p)
{
	if (p == NULL)
		return;
	free(p->lines);
	p->lines = NULL;
	p->nlines = p->cap = 0;
}

static void
add_line(struct prune_pool *p, const char *snap, const char *action,
    const char *reasons)
{
	struct prune_line *l;

	if (p->nlines == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct prune_line *n = realloc(p->lines, ncap * sizeof(*n));

		if (n == NULL)
			return;
		p->lines = n;
		p->cap = ncap;
	}
	l = &p->lines[p->nlines++];
	util_strlcpy(l->snapshot, snap, sizeof(l->snapshot));
	util_strlcpy(l->action, action, sizeof(l->action));
	util_strlcpy(l->reasons, reasons, sizeof(l->reasons));
}

static void
fail(struct prune_pool *p, const char *msg)
{
	p->failed = 1;
	if (p->error[0] == '\0')
		util_strlcpy(p->error, msg, sizeof(p->error));
}

static void
decide(struct prune_ctx *ctx, struct prune_pool *p, int64_t snap_id,
    const char *action, const char *reasons, const char *fingerprint)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = ctx->run_id;
	d.pool_id = p->pool_id;
	d.snapshot_id = snap_id;
	d.at = ctx->as_of;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, reasons, sizeof(d.reasons));
	if (fingerprint != NULL)
		util_strlcpy(d.fingerprint, fingerprint, sizeof(d.fingerprint));
	(void)db_decision_add(ctx->db, &d);
}

int
prune_promote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel, const char *reason)
{
	struct db_snapshot old;
	struct arm_snapshot got;
	struct arm_error e;
	char why[700], msg[1024], brings[700];
	int have_old;

	have_old = db_snapshot_channel(ctx->db, p->pool_id, channel, &old);
	if (have_old < 0)
		return -1;
	if (have_old && old.id == snap->id)
		return 0;
	add_line(p, snap->name, "promote", reason);
	if (have_old) {
		snprintf(msg, sizeof(msg), "replaced by %s in channel %s",
		    snap->name, channel);
		add_line(p, old.name, "demote", msg);
	}
	if (ctx->dry_run) {
		p->dry_promoted = snap->id;
		return 0;
	}

	/* Azure first: if the new tag cannot be set, nothing has changed. */
	if (arm_snapshot_set_tag(ctx->arm, p->pc->key, snap->arm_id,
	        TAG_CHANNEL, channel, &got, &e)) {
		arm_error_describe(&e, why, sizeof(why));
		snprintf(msg, sizeof(msg), "promote %s: %s", snap->name, why);
		fail(p, msg);
		return -1;
	}
	/* What it brings in, for `explain` (never fails; before the write
	 * transaction, since it may fetch release notes). */
	changelog_promotion(ctx->db, ctx->http, p->pc->policy.release_notes,
	    have_old ? &old : NULL, snap, brings, sizeof(brings));
	if (db_begin(ctx->db))
		return -1;
	if (db_snapshot_set_channel(ctx->db, snap->id, channel, ctx->as_of)) {
		db_rollback(ctx->db);
		return -1;
	}
	snprintf(
	    msg, sizeof(msg), "channel %s: %s; %s", channel, reason, brings);
	decide(ctx, p, snap->id, "promote", msg, NULL);
	if (have_old) {
		snprintf(msg, sizeof(msg), "channel %s: replaced by %s",
		    channel, snap->name);
		decide(ctx, p, old.id, "demote", msg, NULL);
	}
	if (db_commit(ctx->db)) {
		db_rollback(ctx->db);
		return -1;
	}
	p->promoted++;
	log_info(p->pc->key, "promoted %s to channel %s", snap->name, channel);

	if (have_old && strcmp(old.state, "active") == 0 &&
	    arm_snapshot_set_tag(ctx->arm, p->pc->key, old.arm_id, TAG_CHANNEL,
	        NULL, &got, &e)) {
		/* The store (the source of truth) is right; Azure still shows
		 * the old tag.  Say so; the operator can remove it. */
		arm_error_describe(&e, why, sizeof(why));
		snprintf(msg, sizeof(msg),
		    "%s was demoted but its %s tag could not be removed: %s",
		    old.name, TAG_CHANNEL, why);
		fail(p, msg);
	}
	return 0;
}

int
prune_promote(struct prune_ctx *ctx, struct prune_pool *p)
{
	const struct policy *pol = &p->pc->policy;
	struct db_snapshot *list = NULL, cur;
	struct retention_item *items = NULL;
	long long pick = 0;
	size_t n = 0;
	int have_cur, rc = -1;
	char reason[256], age[32];

	if (pol->promote_after < 0)
		return 0;
	if (db_snapshot_list(ctx->db, p->pool_id, "active", &list, &n))
		return -1;
	if (n == 0) {
		rc = 0;
		goto done;
	}
	items = calloc(n, sizeof(*items));
	if (items == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		items[i].id = list[i].id;
		items[i].created_at = list[i].created_at;
		items[i].pinned = list[i].pinned;
	}
	have_cur = db_snapshot_channel(ctx->db, p->pool_id, pol->channel, &cur);
	if (have_cur < 0)
		goto done;
	if (retention_promotion_pick(items, n, pol->promote_after, ctx->as_of,
	        have_cur ? cur.id : 0, &pick) != 1) {
		rc = 0;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].id != pick)
			continue;
		util_format_duration(pol->promote_after, age, sizeof(age));
		snprintf(reason, sizeof(reason),
		    "newest snapshot soaked promote_after = %s", age);
		rc = prune_promote_snapshot(
		         ctx, p, &list[i], pol->channel, reason) < 0 &&
		        !p->failed
		    ? -1
		    : 0;
		goto done;
	}
	rc = 0;
done:
	free(items);
	free(list);
	return rc;
}

/* ---- retention ---- */

struct del {
	struct prune_pool *p;
	int64_t snap_id;
	char name[64];
	char *url; /* malloc'd: a fleet may queue thousands */
	int confirm; /* ARM said 200/202: a GET must show it gone */
	long status; /* the DELETE's answer */
	char request_id[64]; /* its x-ms-request-id */
};

struct del_ctx {
	struct prune_ctx *ctx;
	struct del *dels;
	struct http_response *resps;
};

static void
delete_done(void *vctx, size_t i, int rc)
{
	struct del_ctx *dc = vctx;
	struct prune_ctx *ctx = dc->ctx;
	struct del *d = &dc->dels[i];
	struct http_response *resp = &dc->resps[i];
	struct arm_error e;
	char why[700], msg[800];

	if (rc == 0 && (resp->status == 200 || resp->status == 202)) {
		/* ARM's word only: confirm_deletes asks with a GET. */
		d->confirm = 1;
		d->status = resp->status;
		util_strlcpy(
		    d->request_id, resp->request_id, sizeof(d->request_id));
		goto out;
	}
	if (rc == 0 && (resp->status == 204 || resp->status == 404)) {
		snprintf(msg, sizeof(msg),
		    "already gone from Azure when retention deleted it (%ld)",
		    resp->status);
		(void)db_snapshot_set_state(
		    ctx->db, d->snap_id, "missing", msg);
		decide(ctx, d->p, d->snap_id, "missing", msg, NULL);
		log_warn(d->p->pc->key, "%s was deleted out of band", d->name);
		goto out;
	}
	arm_error_from_response(resp, &e);
	if (rc != 0)
		util_strlcpy(e.message, resp->error, sizeof(e.message));
	arm_log_failure(d->p->pc->key, "DELETE", d->url, &e);
	arm_error_describe(&e, why, sizeof(why));
	snprintf(msg, sizeof(msg), "DELETE %s: %s", d->name, why);
	fail(d->p, msg);
	if (rc == 0 && !http_retryable_status(resp->status)) {
		/* Refused (a lock, a policy): it still exists; back to
		 * retention's care, with the reason. */
		(void)db_snapshot_set_state(ctx->db, d->snap_id, "active", why);
	}
	/* Otherwise it stays "deleting": the next run asks Azure. */
out:
	http_response_free(resp);
}

static void
confirm_done(void *vctx, size_t i, int rc)
{
	struct del_ctx *dc = vctx;
	struct prune_ctx *ctx = dc->ctx;
	struct del *d = &dc->dels[i];
	struct http_response *resp = &dc->resps[i];
	struct arm_error e;
	char why[700], msg[1200];

	if (rc == 0 && resp->status == 404) {
		(void)db_snapshot_set_state(
		    ctx->db, d->snap_id, "deleted", NULL);
		d->p->deleted++;
		log_info(d->p->pc->key, "deleted %s", d->name);
		goto out;
	}
	if (rc == 0 && resp->status == 200) {
		snprintf(why, sizeof(why),
		    "a GET still finds it (x-ms-request-id %s)",
		    resp->request_id);
	} else {
		arm_error_from_response(resp, &e);
		if (rc != 0)
			util_strlcpy(e.message, resp->error, sizeof(e.message));
		arm_error_describe(&e, why, sizeof(why));
		util_strlcpy(msg, why, sizeof(msg));
		snprintf(why, sizeof(why),
		    "the GET that should confirm it "
		    "failed: %s",
		    msg);
	}
	snprintf(msg, sizeof(msg),
	    "DELETE %s: %ld (x-ms-request-id %s) but %s; it stays deleting "
	    "and the next run deletes it again",
	    d->url, d->status, d->request_id, why);
	log_err(d->p->pc->key, "%s", msg);
	(void)db_snapshot_set_state(ctx->db, d->snap_id, "deleting", msg);
	snprintf(
	    msg, sizeof(msg), "DELETE %s: %ld but %s", d->name, d->status, why);
	fail(d->p, msg);
out:
	http_response_free(resp);
}

/*
 * ARM answered 200/202 to the DELETEs marked confirm: GET each (one
 * concurrent batch) and record "deleted" only where the GET answers 404.
 * 0 or -1.
 */
static int
confirm_deletes(struct prune_ctx *ctx, struct del *dels, size_t ndels)
{
	struct http_request *reqs = NULL;
	struct http_response *resps = NULL;
	struct del *sub = NULL;
	struct del_ctx dc;
	size_t n = 0;
	int rc = -1;

	for (size_t i = 0; i < ndels; i++)
		n += dels[i].confirm;
	if (n == 0)
		return 0;
	reqs = calloc(n, sizeof(*reqs));
	resps = calloc(n, sizeof(*resps));
	sub = calloc(n, sizeof(*sub));
	if (reqs == NULL || resps == NULL || sub == NULL)
		goto done;
	n = 0;
	for (size_t i = 0; i < ndels; i++) {
		if (!dels[i].confirm)
			continue;
		sub[n] = dels[i];
		reqs[n].method = "GET";
		reqs[n].url = dels[i].url;
		reqs[n].auth = 1;
		reqs[n].context = dels[i].p->pc->key;
		reqs[n].throttle_key = dels[i].p->pc->subscription;
		http_response_init(&resps[n]);
		n++;
	}
	dc.ctx = ctx;
	dc.dels = sub;
	dc.resps = resps;
	if (db_begin(ctx->db))
		goto done;
	rc = http_batch(ctx->http, reqs, resps, n, ctx->cfg->max_parallel,
	    confirm_done, &dc);
	if (db_commit(ctx->db)) {
		db_rollback(ctx->db);
		rc = -1;
	}
done:
	free(sub);
	free(resps);
	free(reqs);
	return rc;
}

/* Decide one pool; queue its deletions in ${dels}. */
static int
retain_pool(struct prune_ctx *ctx, struct prune_pool *p, struct del **dels,
    size_t *ndels, size_t *cap)
{
	const struct policy *pol = &p->pc->policy;
	struct db_snapshot *list = NULL;
	struct retention_item *items = NULL;
	struct retention_decision *out = NULL;
	time_t as_of = ctx->as_of;
	long long holders[MAX_HOLDERS];
	int64_t hid[MAX_HOLDERS];
	size_t n = 0, nh = 0;
	char err[256], fp[128], reasons[RETENTION_REASONS_MAX], url[1024];
	int rc = -1;

	if (db_snapshot_list(ctx->db, p->pool_id, "active", &list, &n))
		return -1;
	if (ctx->dry_run && p->pending[0] != '\0') {
		/* The snapshot the run would take before retention. */
		struct db_snapshot *nl = realloc(list, (n + 1) * sizeof(*nl));

		if (nl == NULL)
			goto done;
		list = nl;
		memset(&list[n], 0, sizeof(list[n]));
		list[n].id = -1; /* not in the store: never recorded */
		list[n].created_at = ctx->as_of;
		util_strlcpy(list[n].name, p->pending, sizeof(list[n].name));
		n++;
	}
	if (n == 0)
		return 0;
	items = calloc(n, sizeof(*items));
	out = calloc(n, sizeof(*out));
	if (items == NULL || out == NULL)
		goto done;
	for (size_t i = 0; i < n; i++) {
		items[i].id = list[i].id;
		items[i].created_at = list[i].created_at;
		items[i].pinned = list[i].pinned;
		/*
		 * as_of is when the run started; a snapshot this run just
		 * took carries Azure's creation time, a moment later.  That
		 * is not the clock error the guard is for (a clock hours or
		 * days behind), so plan as of that moment.
		 */
		if (list[i].created_at > as_of &&
		    list[i].created_at <= ctx->as_of + CLOCK_SLACK)
			as_of = list[i].created_at;
	}
	if (db_promoted_history(ctx->db, p->pool_id, hid, MAX_HOLDERS, &nh))
		goto done;
	for (size_t i = 0; i < nh; i++)
		holders[i] = hid[i];
	if (ctx->dry_run && p->dry_promoted != 0) {
		/* The holder the run would have made first: the newest. */
		if (nh == MAX_HOLDERS)
			nh--;
		memmove(holders + 1, holders, nh * sizeof(holders[0]));
		holders[0] = p->dry_promoted;
		nh++;
	}
	(void)retention_mark_promoted(
	    holders, nh, pol->keep_promoted, items, n);
	if (retention_plan(items, n, pol, ctx->cfg->timezone, as_of, out, err,
	        sizeof(err))) {
		log_err(p->pc->key, "retention: %s", err);
		fail(p, err);
		rc = 0;
		goto done;
	}
	retention_policy_fingerprint(pol, fp, sizeof(fp));
	for (size_t i = 0; i < n; i++) {
		if (out[i].keep) {
			retention_reasons_format(
			    out[i].reasons, reasons, sizeof(reasons));
			add_line(p, list[i].name, "keep", reasons);
			if (ctx->dry_run)
				continue;
			/* the same keep as last run extends its run range */
			decide(ctx, p, list[i].id, "keep", reasons, fp);
			continue;
		}
		add_line(p, list[i].name, "delete", "no rule keeps it");
		if (ctx->dry_run)
			continue;
		if (*ndels == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			struct del *nd = realloc(*dels, ncap * sizeof(*nd));

			if (nd == NULL)
				goto done;
			*dels = nd;
			*cap = ncap;
		}
		arm_url(ctx->arm, list[i].arm_id, "", url, sizeof(url));
		(*dels)[*ndels].url = strdup(url);
		if ((*dels)[*ndels].url == NULL)
			goto done;
		if (db_snapshot_set_state(
		        ctx->db, list[i].id, "deleting", NULL)) {
			free((*dels)[*ndels].url);
			goto done;
		}
		decide(ctx, p, list[i].id, "delete", "no rule keeps it", fp);
		(*dels)[*ndels].p = p;
		(*dels)[*ndels].snap_id = list[i].id;
		util_strlcpy((*dels)[*ndels].name, list[i].name,
		    sizeof((*dels)[*ndels].name));
		(*ndels)++;
	}
	rc = 0;
done:
	free(out);
	free(items);
	free(list);
	return rc;
}

int
prune_retain(struct prune_ctx *ctx, struct prune_pool *pools, size_t n)
{
	struct del *dels = NULL;
	struct http_request *reqs = NULL;
	struct http_response *resps = NULL;
	struct del_ctx dc;
	size_t ndels = 0, cap = 0;
	int rc = -1;

	/* 1. Decide every pool, intents committed before any DELETE. */
	if (!ctx->dry_run && db_begin(ctx->db))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (retain_pool(ctx, &pools[i], &dels, &ndels, &cap)) {
			if (!ctx->dry_run)
				db_rollback(ctx->db);
			goto done;
		}
	}
	if (!ctx->dry_run && db_commit(ctx->db)) {
		db_rollback(ctx->db);
		goto done;
	}
	if (ndels == 0) {
		rc = 0;
		goto done;
	}

	/* 2. The DELETEs, concurrently; each outcome settles its row. */
	reqs = calloc(ndels, sizeof(*reqs));
	resps = calloc(ndels, sizeof(*resps));
	if (reqs == NULL || resps == NULL)
		goto done;
	for (size_t i = 0; i < ndels; i++) {
		reqs[i].method = "DELETE";
		reqs[i].url = dels[i].url;
		reqs[i].auth = 1;
		reqs[i].context = dels[i].p->pc->key;
		reqs[i].throttle_key = dels[i].p->pc->subscription;
		http_response_init(&resps[i]);
	}
	dc.ctx = ctx;
	dc.dels = dels;
	dc.resps = resps;
	if (db_begin(ctx->db))
		goto done;
	rc = http_batch(ctx->http, reqs, resps, ndels, ctx->cfg->max_parallel,
	    delete_done, &dc);
	if (db_commit(ctx->db)) {
		db_rollback(ctx->db);
		rc = -1;
	}
	/* 3. What ARM said it deleted, confirmed by a GET each. */
	if (rc == 0)
		rc = confirm_deletes(ctx, dels, ndels);
done:
	for (size_t i = 0; i < ndels; i++)
		free(dels[i].url);
	free(resps);
	free(reqs);
	free(dels);
	return rc;
}
