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

#include "db/db_ladder.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/rules/promotion.h"
#include "job/rules/retention.h"
#include "job/run/changelog.h"

#define TAG_CHANNEL "aksnap-channel"
#define TAG_VALUE_MAX 512 /* "canary,stable,..." */
#define MAX_HOLDERS (LIMIT_KEEP_PROMOTED * (LADDER_MAX + 8))
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

/*
 * The pool's channel history and its active snapshots, in the rules'
 * shapes.  0 or -1 (both freed on failure).
 */
static int
load_ladder(struct prune_ctx *ctx, const struct prune_pool *p,
    struct channel_hold **holds, size_t *nh, struct db_snapshot **list,
    struct promotion_snap **snaps, size_t *n)
{
	*holds = NULL;
	*nh = 0;
	if (db_ladder_holds(ctx->db, p->pool_id, holds, nh))
		return -1;
	if (list == NULL)
		return 0; /* the history alone */
	*list = NULL;
	*snaps = NULL;
	*n = 0;
	if (db_snapshot_list(ctx->db, p->pool_id, "active", list, n))
		goto err;
	if (*n == 0)
		return 0;
	*snaps = calloc(*n, sizeof(**snaps));
	if (*snaps == NULL)
		goto err;
	for (size_t i = 0; i < *n; i++) {
		(*snaps)[i].id = (*list)[i].id;
		(*snaps)[i].created_at = (*list)[i].created_at;
	}
	return 0;
err:
	free(*holds);
	free(*list);
	*holds = NULL;
	*list = NULL;
	*nh = *n = 0;
	return -1;
}

/*
 * Set ${snap}'s aksnap-channel tag to ${value} ("" removes it), verified
 * (arm_snapshot_set_tag).  0, or -1 with the reason in ${why}.
 */
static int
set_channel_tag(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *value, char *why, size_t len)
{
	struct arm_snapshot got;
	struct arm_error e;

	if (arm_snapshot_set_tag(ctx->arm, p->pc->key, snap->arm_id,
	        TAG_CHANNEL, value[0] != '\0' ? value : NULL, &got, &e) == 0)
		return 0;
	arm_error_describe(&e, why, len);
	return -1;
}

int
prune_promote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel, const char *reason)
{
	const struct ladder *l = &p->pc->policy.channels;
	struct channel_hold *holds = NULL;
	struct db_snapshot old;
	char why[700], msg[1024], brings[700], tag[TAG_VALUE_MAX];
	size_t nh = 0;
	int have_old, rc = -1;

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
	if (ctx->dry_run)
		return 0;
	if (load_ladder(ctx, p, &holds, &nh, NULL, NULL, NULL))
		return -1;

	/* Azure first: if the new tag cannot be set, nothing has changed. */
	promotion_tag(l, holds, nh, snap->id, channel, NULL, tag, sizeof(tag));
	if (set_channel_tag(ctx, p, snap, tag, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "promote %s: %s", snap->name, why);
		fail(p, msg);
		goto done;
	}
	/* What it brings in, for `explain` (never fails; before the write
	 * transaction, since it may fetch release notes). */
	changelog_promotion(ctx->db, ctx->http, p->pc->policy.release_notes,
	    have_old ? &old : NULL, snap, brings, sizeof(brings));
	if (db_begin(ctx->db))
		goto done;
	if (db_ladder_enter(ctx->db, snap->id, channel,
	        promotion_rung(l, channel), ctx->as_of)) {
		db_rollback(ctx->db);
		goto done;
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
		goto done;
	}
	p->promoted++;
	log_info(p->pc->key, "promoted %s to channel %s", snap->name, channel);
	rc = 0;

	/* The replaced one keeps the tag of what it still holds. */
	if (have_old)
		promotion_tag(
		    l, holds, nh, old.id, NULL, channel, tag, sizeof(tag));
	if (have_old && strcmp(old.state, "active") == 0 &&
	    set_channel_tag(ctx, p, &old, tag, why, sizeof(why))) {
		/* The store (the source of truth) is right; Azure still shows
		 * the old tag.  Say so; the operator can remove it. */
		snprintf(msg, sizeof(msg),
		    "%s was demoted but its %s tag could not be set to "
		    "\"%s\": %s",
		    old.name, TAG_CHANNEL, tag, why);
		fail(p, msg);
	}
done:
	free(holds);
	return rc;
}

/*
 * Take ${snap} out of ${channel} by hand and let the channel fall back.
 * 0, or -1 (the store unchanged for this channel; ${p} says why).
 */
static int
demote_one(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel)
{
	const struct ladder *l = &p->pc->policy.channels;
	struct channel_hold *holds = NULL;
	struct db_snapshot *list = NULL, fb;
	struct promotion_snap *snaps = NULL;
	char why[700], msg[800], tag[TAG_VALUE_MAX];
	size_t nh = 0, n = 0;
	long long fb_id;
	int have_fb = 0, rc = -1;

	if (load_ladder(ctx, p, &holds, &nh, &list, &snaps, &n))
		return -1;
	fb_id = promotion_fallback(holds, nh, snaps, n, channel, snap->id);
	for (size_t i = 0; i < n && fb_id != 0; i++) {
		if (list[i].id == fb_id) {
			fb = list[i];
			have_fb = 1;
		}
	}
	snprintf(msg, sizeof(msg), "demoted by hand from channel %s", channel);
	add_line(p, snap->name, "demote", msg);
	if (have_fb) {
		snprintf(msg, sizeof(msg),
		    "channel %s falls back to it (%s demoted by hand)", channel,
		    snap->name);
		add_line(p, fb.name, "promote", msg);
	}
	if (ctx->dry_run) {
		rc = 0;
		goto done;
	}

	/* Azure first: the demoted snapshot loses the tag, or nothing
	 * changes.  One that is gone from Azure has no tag to lose. */
	promotion_tag(l, holds, nh, snap->id, NULL, channel, tag, sizeof(tag));
	if (strcmp(snap->state, "active") == 0 &&
	    set_channel_tag(ctx, p, snap, tag, why, sizeof(why))) {
		snprintf(msg, sizeof(msg), "demote %s: %s", snap->name, why);
		fail(p, msg);
		goto done;
	}
	/* The fallback holds the channel only once Azure shows its tag;
	 * otherwise the channel is empty until a run promotes again. */
	if (have_fb) {
		promotion_tag(
		    l, holds, nh, fb.id, channel, NULL, tag, sizeof(tag));
		if (set_channel_tag(ctx, p, &fb, tag, why, sizeof(why))) {
			snprintf(msg, sizeof(msg),
			    "%s could not take channel %s back: %s; the "
			    "channel is empty until the next promotion",
			    fb.name, channel, why);
			fail(p, msg);
			have_fb = 0;
		}
	}
	if (db_begin(ctx->db))
		goto done;
	if (db_ladder_leave(ctx->db, snap->id, channel, ctx->as_of, 1) ||
	    (have_fb &&
	        db_ladder_enter(ctx->db, fb.id, channel,
	            promotion_rung(l, channel), ctx->as_of))) {
		db_rollback(ctx->db);
		goto done;
	}
	if (have_fb)
		snprintf(msg, sizeof(msg),
		    "channel %s: demoted by hand; the channel falls back to "
		    "%s; never promoted again by a run",
		    channel, fb.name);
	else
		snprintf(msg, sizeof(msg),
		    "channel %s: demoted by hand; no earlier holder is left, "
		    "the channel is empty until the next promotion; never "
		    "promoted again by a run",
		    channel);
	decide(ctx, p, snap->id, "demote", msg, NULL);
	if (have_fb) {
		snprintf(msg, sizeof(msg),
		    "channel %s: falls back to it, %s was demoted by hand",
		    channel, snap->name);
		decide(ctx, p, fb.id, "promote", msg, NULL);
	}
	if (db_commit(ctx->db)) {
		db_rollback(ctx->db);
		goto done;
	}
	log_info(p->pc->key, "demoted %s from channel %s%s%s", snap->name,
	    channel, have_fb ? "; it falls back to " : "",
	    have_fb ? fb.name : "");
	rc = 0;
done:
	free(snaps);
	free(list);
	free(holds);
	return rc;
}

int
prune_demote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel)
{
	struct channel_hold *holds = NULL;
	char held[LADDER_MAX + 16][64];
	size_t nh = 0, nheld = 0;
	int rc = 0;

	if (load_ladder(ctx, p, &holds, &nh, NULL, NULL, NULL))
		return -1;
	for (size_t i = 0; i < nh; i++) {
		int dup = 0;

		if (holds[i].snapshot_id != snap->id || holds[i].left_at != 0)
			continue;
		if (channel != NULL && strcmp(holds[i].channel, channel) != 0)
			continue;
		for (size_t k = 0; k < nheld && !dup; k++)
			dup = strcmp(held[k], holds[i].channel) == 0;
		if (!dup && nheld < sizeof(held) / sizeof(held[0]))
			util_strlcpy(
			    held[nheld++], holds[i].channel, sizeof(held[0]));
	}
	free(holds);
	if (nheld == 0)
		return 1;
	for (size_t k = 0; k < nheld && rc == 0; k++)
		rc = demote_one(ctx, p, snap, held[k]);
	return rc;
}

int
prune_promote(struct prune_ctx *ctx, struct prune_pool *p)
{
	const struct policy *pol = &p->pc->policy;
	struct db_snapshot *list = NULL;
	struct promotion_snap *snaps = NULL;
	struct channel_hold *holds = NULL;
	struct promotion_step steps[LADDER_MAX];
	size_t n = 0, nh = 0, nsteps = 0;
	int rc = -1;

	if (pol->paused || pol->channels.n == 0)
		return 0;
	if (load_ladder(ctx, p, &holds, &nh, &list, &snaps, &n))
		return -1;
	promotion_plan(
	    &pol->channels, snaps, n, holds, nh, ctx->as_of, steps, &nsteps);
	rc = 0;
	for (size_t k = 0; k < nsteps && rc == 0 && !p->failed; k++) {
		for (size_t i = 0; i < n; i++) {
			if (list[i].id != steps[k].snapshot_id)
				continue;
			if (prune_promote_snapshot(ctx, p, &list[i],
			        pol->channels.rung[steps[k].rung].channel,
			        steps[k].reason) < 0 &&
			    !p->failed)
				rc = -1;
			break;
		}
	}
	free(holds);
	free(snaps);
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

/*
 * A dry run promoted nothing: add to the pool's channel history
 * ${*holds} the entries the run would make first (promotion_plan over the
 * same snapshots), so that retention protects what the run's would.  The
 * pending snapshot (id -1) is not a candidate: a run takes it after its
 * promotions could have seen it.  0 or -1.
 */
static int
dry_promotions(struct prune_ctx *ctx, const struct prune_pool *p,
    const struct db_snapshot *list, size_t n, struct channel_hold **holds,
    size_t *nh)
{
	const struct ladder *l = &p->pc->policy.channels;
	struct promotion_step steps[LADDER_MAX];
	struct promotion_snap *snaps;
	struct channel_hold *nv;
	size_t ns = 0, nsteps = 0;

	if (l->n == 0)
		return 0;
	snaps = calloc(n + 1, sizeof(*snaps));
	if (snaps == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (list[i].id <= 0)
			continue;
		snaps[ns].id = list[i].id;
		snaps[ns].created_at = list[i].created_at;
		ns++;
	}
	promotion_plan(l, snaps, ns, *holds, *nh, ctx->as_of, steps, &nsteps);
	free(snaps);
	if (nsteps == 0)
		return 0;
	nv = realloc(*holds, (*nh + nsteps) * sizeof(*nv));
	if (nv == NULL)
		return -1;
	*holds = nv;
	for (size_t k = 0; k < nsteps; k++) {
		const char *ch = l->rung[steps[k].rung].channel;
		struct channel_hold *h = &nv[(*nh)++];

		for (size_t i = 0; i + 1 < *nh; i++)
			if (nv[i].left_at == 0 &&
			    strcmp(nv[i].channel, ch) == 0)
				nv[i].left_at = ctx->as_of;
		memset(h, 0, sizeof(*h));
		h->snapshot_id = steps[k].snapshot_id;
		util_strlcpy(h->channel, ch, sizeof(h->channel));
		h->rung = steps[k].rung;
		h->promoted_at = ctx->as_of;
	}
	return 0;
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
	struct channel_hold *holds = NULL;
	size_t n = 0, nh = 0, nholds = 0;
	char err[256], fp[128], reasons[RETENTION_REASONS_MAX], url[1024];
	int rc = -1;

	if (pol->paused)
		return 0; /* enabled = no: nothing is deleted */
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
	/* keep_promoted generations of each channel are set aside. */
	if (db_ladder_holds(ctx->db, p->pool_id, &holds, &nholds))
		goto done;
	if (ctx->dry_run &&
	    dry_promotions(ctx, p, list, n, &holds, &nholds) != 0)
		goto done;
	nh = promotion_protected(
	    holds, nholds, pol->keep_promoted, holders, MAX_HOLDERS);
	(void)retention_mark_promoted(holders, nh, (int)nh, items, n);
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
	free(holds);
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
