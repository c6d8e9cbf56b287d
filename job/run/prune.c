/*
 * prune.c -- promotion and retention, carried out.
 *
 * The decisions are job/rules/actions.c's, pure: this file loads what it
 * needs from the store (the pool's active snapshots, its channel history,
 * the names of its holders), asks actions_pool for the pool's list -- its
 * slot entry first, as the run kept it -- and hands what follows the
 * slot entry to the one interpreter (job/run/interp.c), with the sinks
 * below.  `plan`, `run --dry-run` and `prune --dry-run` get the list's
 * lines and nothing else; `run` and `prune` get the same lines and the
 * list carried out in its order -- promotions first (so a snapshot that
 * has just soaked is never pruned by the same run, DESIGN.md section 6),
 * then retention.  Nothing here asks which: the interpreter calls the
 * carrying sink or does not.  Nothing below the list decides anything; a
 * pool whose promotion failed stops there, since the rest of its list
 * counted on that promotion.
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
#include "db/db_retain_memo.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/base/version.h"
#include "job/rules/actions.h"
#include "job/rules/promotion.h"
#include "job/rules/retention.h"
#include "job/run/changelog.h"

#define TAG_CHANNEL "aksnap-channel"
#define TAG_VALUE_MAX 512 /* "canary,stable,..." */

void
prune_pool_clear(struct prune_pool *p)
{
	if (p == NULL)
		return;
	free(p->lines);
	p->lines = NULL;
	p->nlines = p->cap = 0;
}

json_t *
prune_lines_json(const struct prune_pool *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; p != NULL && i < p->nlines; i++)
		json_array_append_new(arr,
		    json_pack("{s:s,s:s,s:o}", "snapshot", p->lines[i].snapshot,
		        "action", p->lines[i].action, "reasons",
		        reasons_json(p->lines[i].reasons)));
	return arr;
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

/* ---- promotion: Azure's tags first, many pools at a time ---- */

/*
 * Promotions are carried out in chunks of at most PROMO_CHUNK (one per
 * pool in a chunk): the new holders' tags in one concurrent batch, the
 * verified ones recorded in one transaction, then the replaced holders'
 * tags in a second batch.  The bound keeps the memory that of a chunk,
 * not of the fleet, while max_parallel requests a subscription are in
 * flight.
 */
#define PROMO_CHUNK 256

enum promo_state {
	PROMO_READY, /* loaded: the new holder's tag goes next */
	PROMO_NOTHING, /* it holds the channel already */
	PROMO_REFUSED, /* Azure did not take the tag: the pool failed */
	PROMO_TAGGED, /* Azure shows the tag: the store records it next */
	PROMO_RECORDED /* in the store; the replaced holder's tag next */
};

/* One promotion: ${snap} of ${p} into ${channel}. */
struct promo {
	struct prune_pool *p;
	const char *channel, *reason;
	struct db_snapshot snap, old; /* old: the holder it replaces */
	int have_old;
	enum promo_state state;
	char tag[TAG_VALUE_MAX]; /* snap's aksnap-channel once promoted */
	char old_tag[TAG_VALUE_MAX]; /* old's, once replaced */
};

/*
 * The channel's holder now and the two tags: PROMO_READY, PROMO_NOTHING,
 * or -1 on a store error.
 */
static int
promo_load(struct prune_ctx *ctx, struct promo *m)
{
	const struct ladder *l = &m->p->pc->policy->channels;
	struct channel_hold *holds = NULL;
	size_t nh = 0;

	m->have_old =
	    db_snapshot_channel(ctx->db, m->p->pool_id, m->channel, &m->old);
	if (m->have_old < 0)
		return -1;
	if (m->have_old && m->old.id == m->snap.id)
		return PROMO_NOTHING;
	if (db_ladder_holds_live(ctx->db, m->p->pool_id,
	        m->p->pc->policy->keep_promoted, &holds, &nh))
		return -1;
	promotion_tag(
	    l, holds, nh, m->snap.id, m->channel, NULL, m->tag, sizeof(m->tag));
	/* The replaced one keeps the tag of what it still holds. */
	if (m->have_old)
		promotion_tag(l, holds, nh, m->old.id, NULL, m->channel,
		    m->old_tag, sizeof(m->old_tag));
	free(holds);
	return PROMO_READY;
}

/*
 * The aksnap-channel tags of one stage, in one batch: the new holders'
 * of the promotions PROMO_READY (!${replaced}: verified ones become
 * PROMO_TAGGED, the others fail their pool) or the replaced holders' of
 * those PROMO_RECORDED (${replaced}: a failure fails the pool, the store
 * stays as recorded).  0 or -1 (out of memory).
 */
static int
promo_tags(struct prune_ctx *ctx, struct promo *m, size_t n, int replaced)
{
	struct arm_tag_write *w;
	size_t *of, nw = 0;
	char why[700], msg[1024];

	w = calloc(n, sizeof(*w));
	of = calloc(n, sizeof(*of));
	if (w == NULL || of == NULL) {
		free(w);
		free(of);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		const struct db_snapshot *s = replaced ? &m[k].old : &m[k].snap;
		const char *tag = replaced ? m[k].old_tag : m[k].tag;

		if (m[k].state != (replaced ? PROMO_RECORDED : PROMO_READY))
			continue;
		/* one gone from Azure has no tag to lose */
		if (replaced &&
		    (!m[k].have_old || strcmp(m[k].old.state, "active") != 0))
			continue;
		w[nw].ctx = m[k].p->pc->key;
		w[nw].throttle_key = m[k].p->pc->subscription;
		w[nw].snapshot_id = s->arm_id;
		w[nw].key = TAG_CHANNEL;
		w[nw].value = tag[0] != '\0' ? tag : NULL;
		of[nw++] = k;
	}
	(void)arm_snapshot_set_tags(ctx->arm, w, nw, ctx->cfg->max_parallel);
	for (size_t j = 0; j < nw; j++) {
		struct promo *x = &m[of[j]];

		if (w[j].rc == 0) {
			if (!replaced)
				x->state = PROMO_TAGGED;
			continue;
		}
		arm_error_describe(&w[j].err, why, sizeof(why));
		if (!replaced) {
			/* Azure first: nothing has changed. */
			x->state = PROMO_REFUSED;
			snprintf(msg, sizeof(msg), "promote %s: %s",
			    x->snap.name, why);
		} else {
			/* The store (the source of truth) is right; Azure
			 * still shows the old tag.  Say so; the operator can
			 * remove it. */
			snprintf(msg, sizeof(msg),
			    "%s was demoted but its %s tag could not be set "
			    "to \"%s\": %s",
			    x->old.name, TAG_CHANNEL, x->old_tag, why);
		}
		fail(x->p, msg);
	}
	free(w);
	free(of);
	return 0;
}

/*
 * Record the promotions PROMO_TAGGED (and the demotions of the holders
 * they replace) in one transaction; they become PROMO_RECORDED.  0 or -1
 * (the store unchanged).
 */
static int
promo_record(struct prune_ctx *ctx, struct promo *m, size_t n)
{
	char(*brings)[700];
	char msg[1024];
	int rc = -1;

	brings = calloc(n, sizeof(*brings));
	if (brings == NULL)
		return -1;
	/* What each brings in, for `explain` (never fails; before the write
	 * transaction, since it may fetch release notes). */
	for (size_t k = 0; k < n; k++)
		if (m[k].state == PROMO_TAGGED)
			changelog_promotion(ctx->db, ctx->http,
			    m[k].p->pc->policy->release_notes,
			    m[k].have_old ? &m[k].old : NULL, &m[k].snap,
			    brings[k], sizeof(brings[k]));
	if (db_begin(ctx->db))
		goto done;
	for (size_t k = 0; k < n; k++) {
		struct promo *x = &m[k];

		if (x->state != PROMO_TAGGED)
			continue;
		if (db_ladder_enter(ctx->db, x->snap.id, x->channel,
		        promotion_rung(&x->p->pc->policy->channels, x->channel),
		        ctx->as_of)) {
			db_rollback(ctx->db);
			goto done;
		}
		snprintf(msg, sizeof(msg), "channel %s: %s; %s", x->channel,
		    x->reason, brings[k]);
		decide(ctx, x->p, x->snap.id, "promote", msg, NULL);
		if (x->have_old) {
			snprintf(msg, sizeof(msg), "channel %s: replaced by %s",
			    x->channel, x->snap.name);
			decide(ctx, x->p, x->old.id, "demote", msg, NULL);
		}
	}
	if (db_commit(ctx->db)) {
		db_rollback(ctx->db);
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		if (m[k].state != PROMO_TAGGED)
			continue;
		m[k].state = PROMO_RECORDED;
		m[k].p->promoted++;
		log_info(m[k].p->pc->key, "promoted %s to channel %s",
		    m[k].snap.name, m[k].channel);
	}
	rc = 0;
done:
	free(brings);
	return rc;
}

/*
 * Carry out the ${n} promotions of ${m} (their snap, p, channel and
 * reason set; one per pool): Azure's tag first (verified), then the
 * store, then the replaced holders' tags.  0, or -1 on a store error.
 */
static int
promo_carry(struct prune_ctx *ctx, struct promo *m, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		int got = promo_load(ctx, &m[k]);

		if (got < 0)
			return -1;
		m[k].state = (enum promo_state)got;
	}
	if (promo_tags(ctx, m, n, 0) || promo_record(ctx, m, n))
		return -1;
	return promo_tags(ctx, m, n, 1);
}

int
prune_promote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel, const char *reason)
{
	struct promo *m = calloc(1, sizeof(*m));
	int rc = -1;

	if (m == NULL)
		return -1;
	m->p = p;
	m->snap = *snap;
	m->channel = channel;
	m->reason = reason;
	if (promo_carry(ctx, m, 1) == 0 &&
	    (m->state == PROMO_NOTHING || m->state == PROMO_RECORDED))
		rc = 0;
	free(m);
	return rc;
}

/*
 * Pool ${p}'s snapshots as actions_pool wants them: its active ones
 * (newest first), then the channel holders no longer active, named.  0
 * or -1 (both freed on failure).
 */
static int
load_snaps(struct prune_ctx *ctx, const struct prune_pool *p,
    const struct channel_hold *holds, size_t nh, struct action_snap **out,
    size_t *n)
{
	struct db_snapshot *list = NULL, one;
	struct action_snap *v;
	size_t nl = 0, k = 0;

	*out = NULL;
	*n = 0;
	if (db_snapshot_list(ctx->db, p->pool_id, "active", &list, &nl))
		return -1;
	v = calloc(nl + nh + 1, sizeof(*v));
	if (v == NULL) {
		free(list);
		return -1;
	}
	for (size_t i = 0; i < nl; i++, k++) {
		v[k].id = list[i].id;
		util_strlcpy(v[k].name, list[i].name, sizeof(v[k].name));
		v[k].created_at = list[i].created_at;
		v[k].pinned = list[i].pinned;
		v[k].active = 1;
	}
	free(list);
	for (size_t i = 0; i < nh; i++) {
		int known = 0, got;

		if (holds[i].left_at != 0)
			continue;
		for (size_t j = 0; j < k && !known; j++)
			known = v[j].id == holds[i].snapshot_id;
		if (known)
			continue;
		got = db_snapshot_get(ctx->db, holds[i].snapshot_id, &one);
		if (got < 0) {
			free(v);
			return -1;
		}
		v[k].id = holds[i].snapshot_id;
		if (got == 1)
			util_strlcpy(v[k].name, one.name, sizeof(v[k].name));
		else
			snprintf(v[k].name, sizeof(v[k].name), "#%lld",
			    holds[i].snapshot_id);
		v[k].created_at = got == 1 ? one.created_at : 0;
		k++;
	}
	*out = v;
	*n = k;
	return 0;
}

static void
add_action_line(struct prune_pool *p, const struct action *a)
{
	if (a->kind != ACTION_FAIL)
		add_line(p, a->snapshot, action_kind_name(a->kind), a->reasons);
}

/*
 * Take ${snap} out of ${channel} by hand and let the channel fall back
 * to ${fb_act}'s snapshot (NULL: none), as actions_demote listed.
 * 0, or -1 (the store unchanged for this channel; ${p} says why).
 */
static int
demote_one(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel,
    const struct action *fb_act)
{
	const struct ladder *l = &p->pc->policy->channels;
	struct channel_hold *holds = NULL;
	struct db_snapshot fb;
	char why[700], msg[800], tag[TAG_VALUE_MAX];
	size_t nh = 0;
	int have_fb = 0, rc = -1;

	if (db_ladder_holds(ctx->db, p->pool_id, &holds, &nh))
		return -1;
	if (fb_act != NULL) {
		have_fb = db_snapshot_get(ctx->db, fb_act->snapshot_id, &fb);
		if (have_fb < 0)
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
	free(holds);
	return rc;
}

/*
 * Pool ${p}'s input to the action rules as the store holds it now: its
 * channel history in ${*holds} and its snapshots in ${*snaps} (the
 * caller frees both, also on failure), ${in} pointing at them.  0 or -1.
 */
static int
load_input(struct prune_ctx *ctx, const struct prune_pool *p,
    struct actions_input *in, struct channel_hold **holds,
    struct action_snap **snaps)
{
	size_t nh = 0, n = 0;

	*holds = NULL;
	*snaps = NULL;
	/* what the rules read of its history: index seeks, whatever the
	 * store's age */
	if (db_ladder_holds_live(
	        ctx->db, p->pool_id, p->pc->policy->keep_promoted, holds, &nh))
		return -1;
	if (load_snaps(ctx, p, *holds, nh, snaps, &n))
		return -1;
	memset(in, 0, sizeof(*in));
	in->policy = p->pc->policy;
	in->tz = ctx->cfg->tz;
	in->as_of = ctx->as_of;
	in->snaps = *snaps;
	in->nsnaps = n;
	in->holds = *holds;
	in->nholds = nh;
	return 0;
}

int
prune_demote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel)
{
	struct actions_input in;
	struct action_list l = {NULL, 0, 0};
	struct channel_hold *holds;
	struct action_snap *snaps;
	int got, rc = -1;

	if (load_input(ctx, p, &in, &holds, &snaps))
		goto done;
	got = actions_demote(&in, snap->id, channel, &l);
	if (got <= 0) {
		rc = got == 0 ? 1 : -1;
		goto done;
	}
	/* Each channel: its demotion, then the fallback's promotion. */
	rc = 0;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		const struct action *fb = NULL;

		if (l.v[i].kind != ACTION_DEMOTE)
			continue;
		add_action_line(p, &l.v[i]);
		if (i + 1 < l.n && l.v[i + 1].kind == ACTION_PROMOTE) {
			fb = &l.v[i + 1];
			add_action_line(p, fb);
		}
		rc = demote_one(ctx, p, snap, l.v[i].channel, fb);
	}
done:
	action_list_free(&l);
	free(snaps);
	free(holds);
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

/* ---- the action list: loaded, decided, carried out ---- */

/*
 * prune_plan's list, and, when ${until} is not NULL, its horizon
 * (actions_horizon; the time itself for a paused pool).
 */
static int
plan_until(struct prune_ctx *ctx, const struct prune_pool *p, int promote,
    struct action_list *out, time_t *until)
{
	struct actions_input in;
	struct channel_hold *holds = NULL;
	struct action_snap *snaps = NULL;
	int rc = -1;

	if (until != NULL)
		*until = ctx->as_of;

	if (p->pc->policy->paused) {
		/* observed only: its slot entry says so, nothing follows */
		memset(&in, 0, sizeof(in));
		in.policy = p->pc->policy;
		in.slot = p->has_slot ? &p->slot : NULL;
		return actions_pool(&in, out);
	}
	if (load_input(ctx, p, &in, &holds, &snaps))
		goto done;
	in.promote = promote;
	in.slot = p->has_slot ? &p->slot : NULL;
	rc = actions_pool(&in, out);
	if (rc == 0 && until != NULL)
		*until = actions_horizon(&in);
done:
	free(snaps);
	free(holds);
	return rc;
}

int
prune_plan(struct prune_ctx *ctx, const struct prune_pool *p, int promote,
    struct action_list *out)
{
	return plan_until(ctx, p, promote, out, NULL);
}

/*
 * What the interpreter's sinks carry the lists of a call out into: the
 * promotions of a round, a chunk at a time; retention's writes, in one
 * transaction (begun at its first write, unless the caller's is open);
 * the DELETEs, queued for one concurrent batch.
 */
struct carry {
	struct prune_ctx *ctx;
	struct interp it;
	struct promo *m; /* PROMO_CHUNK of them, at the first promotion */
	size_t nm;
	int in_tx;
	struct del *dels;
	size_t ndels, cap;
	const struct policy *fp_of; /* fp is this policy's fingerprint */
	char fp[128];
};

/* Each action's report line; a fail fails the pool, in either mode. */
static void
sink_line(void *arg, void *pool, const struct action *a)
{
	struct prune_pool *p = pool;

	(void)arg;
	add_action_line(p, a);
	if (a->kind == ACTION_FAIL)
		fail(p, a->reasons);
}

/* The promotion ${a} of ${p}, queued in the chunk (carried out when it is
 * full).  0 or -1. */
static int
queue_promotion(struct carry *c, struct prune_pool *p, const struct action *a)
{
	struct promo *m;

	if (c->m == NULL) {
		c->m = calloc(PROMO_CHUNK, sizeof(*c->m));
		if (c->m == NULL)
			return -1;
	}
	m = &c->m[c->nm];
	memset(m, 0, sizeof(*m));
	m->p = p;
	m->channel = a->channel;
	m->reason = a->reasons;
	if (db_snapshot_get(c->ctx->db, a->snapshot_id, &m->snap) != 1)
		return -1;
	if (++c->nm < PROMO_CHUNK)
		return 0;
	c->nm = 0;
	return promo_carry(c->ctx, c->m, PROMO_CHUNK);
}

/* Retention's deletion ${a} of ${p}: its intent (state deleting) and
 * decision written, its DELETE queued.  0 or -1. */
static int
queue_delete(struct carry *c, struct prune_pool *p, const struct action *a)
{
	struct prune_ctx *ctx = c->ctx;
	struct db_snapshot snap;
	char url[1024];
	struct del *d;

	if (db_snapshot_get(ctx->db, a->snapshot_id, &snap) != 1)
		return -1;
	if (c->ndels == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;
		struct del *nd = realloc(c->dels, ncap * sizeof(*nd));

		if (nd == NULL)
			return -1;
		c->dels = nd;
		c->cap = ncap;
	}
	d = &c->dels[c->ndels];
	memset(d, 0, sizeof(*d));
	arm_url(ctx->arm, snap.arm_id, "", url, sizeof(url));
	d->url = strdup(url);
	if (d->url == NULL)
		return -1;
	if (db_snapshot_set_state(ctx->db, snap.id, "deleting", NULL)) {
		free(d->url);
		return -1;
	}
	decide(ctx, p, snap.id, "delete", a->reasons, c->fp);
	d->p = p;
	d->snap_id = snap.id;
	util_strlcpy(d->name, snap.name, sizeof(d->name));
	c->ndels++;
	return 0;
}

/* Carry out one action of a pool's promotion or retention.  0 or -1. */
static int
sink_carry(void *arg, void *pool, const struct action *a)
{
	struct carry *c = arg;
	struct prune_pool *p = pool;

	switch (a->kind) {
	case ACTION_PROMOTE:
		return queue_promotion(c, p, a);
	case ACTION_DEMOTE:
		return 0; /* the promotion before it replaces the holder */
	case ACTION_FAIL:
		log_err(p->pc->key, "retention: %s", a->reasons);
		return 0;
	case ACTION_KEEP:
	case ACTION_DELETE:
		break;
	default:
		return 0; /* the slot's entry: carried out in the run's batch */
	}
	if (!c->in_tx) {
		if (db_begin(c->ctx->db))
			return -1;
		c->in_tx = 1;
	}
	if (c->fp_of != p->pc->policy) {
		retention_policy_fingerprint(
		    p->pc->policy, c->fp, sizeof(c->fp));
		c->fp_of = p->pc->policy;
	}
	if (a->kind == ACTION_DELETE)
		return queue_delete(c, p, a);
	/* the same keep as last run extends its run range */
	decide(c->ctx, p, a->snapshot_id, "keep", a->reasons, c->fp);
	return 0;
}

static const struct interp_sinks prune_sinks = {sink_line, sink_carry};

/* ${c} for a call in ${ctx} (carry_free releases it). */
static void
carry_init(struct carry *c, struct prune_ctx *ctx)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->it.mode = ctx->mode;
	c->it.sinks = &prune_sinks;
	c->it.arg = c;
}

static void
carry_free(struct carry *c)
{
	if (c->in_tx)
		db_rollback(c->ctx->db); /* not committed: a failure */
	for (size_t i = 0; i < c->ndels; i++)
		free(c->dels[i].url);
	free(c->dels);
	free(c->m);
}

/*
 * Interpret the promotions at the head of each pool's list from
 * ${from}[i] on (each ACTION_PROMOTE with the ACTION_DEMOTE lines after
 * it): every pool's first one, then every pool's second one, ..., the
 * chunks carried out as they fill and at the end of each round; a pool
 * stops at its first failure.  ${from}[i] becomes the index of the first
 * action of ${lists}[i] after them.  0, or -1 on a store error.
 */
static int
carry_promotions(struct carry *c, struct prune_pool *pools,
    const struct action_list *lists, size_t *from, size_t n)
{
	int more = 1;

	while (more) {
		more = 0;
		for (size_t i = 0; i < n; i++) {
			const struct action_list *l = &lists[i];
			size_t k = from[i], e = k + 1;

			if (pools[i].failed || k >= l->n ||
			    l->v[k].kind != ACTION_PROMOTE)
				continue;
			while (e < l->n && l->v[e].kind == ACTION_DEMOTE)
				e++;
			from[i] = e;
			more = 1;
			if (interp_list(&c->it, &pools[i], &l->v[k], e - k))
				return -1;
		}
		if (c->nm > 0 && promo_carry(c->ctx, c->m, c->nm))
			return -1;
		c->nm = 0;
	}
	return 0;
}

/* Send the queued DELETEs, concurrently, and settle each row.  0 or -1. */
static int
send_deletes(struct prune_ctx *ctx, struct del *dels, size_t ndels)
{
	struct http_request *reqs = NULL;
	struct http_response *resps = NULL;
	struct del_ctx dc;
	int rc = -1;

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
	/* What ARM said it deleted, confirmed by a GET each. */
	if (rc == 0)
		rc = confirm_deletes(ctx, dels, ndels);
done:
	free(resps);
	free(reqs);
	return rc;
}

/* The first action of ${p}'s list ${l} after its slot entry. */
static size_t
after_slot(const struct prune_pool *p, const struct action_list *l)
{
	return p->has_slot && l->n > 0 ? 1 : 0;
}

/*
 * The digest of what pool ${p}'s list depends on beyond the store and the
 * time (db_retain_memo.h): the rules' version, retention's fingerprint,
 * the ladder, the time zone and ${promote}.  A change to job/rules that
 * can change a list for the same inputs bumps RULES_VERSION, so that no
 * memo written before it holds after an upgrade.
 */
#define RULES_VERSION "actions 1"

static uint64_t
memo_digest(
    const struct prune_ctx *ctx, const struct prune_pool *p, int promote)
{
	const struct policy *pol = p->pc->policy;
	char buf[2048];
	size_t used;

	used = (size_t)snprintf(buf, sizeof(buf), "%s/%s/%s/%d/%lld/%s/%d",
	    RULES_VERSION, AKSNAP_VERSION, tz_name(ctx->cfg->tz), promote,
	    pol->promote_after, pol->channel, pol->paused);
	retention_policy_fingerprint(pol, buf + used, sizeof(buf) - used);
	for (int r = 0; r < pol->channels.n && r < LADDER_MAX; r++) {
		used = strlen(buf);
		snprintf(buf + used, sizeof(buf) - used, "/%s:%lld",
		    pol->channels.rung[r].channel, pol->channels.rung[r].soak);
	}
	return util_fnv1a64(buf);
}

/*
 * Whether pool ${p}'s list may come from, and go to, its memo: carried
 * out in a run (a run id to extend the keeps to), not paused, and a slot
 * entry that takes no snapshot (a fresh one is never promoted by its own
 * run: the next run's list may differ).
 */
static int
memo_usable(const struct prune_ctx *ctx, const struct prune_pool *p)
{
	return ctx->run_id > 0 && !p->pc->policy->paused && p->has_slot &&
	    (p->slot.kind == ACTION_NONE || p->slot.kind == ACTION_SKIP);
}

/* A memo holds a day at most: whatever its horizon, retention is decided
 * afresh at least daily. */
#define MEMO_MAX_AGE 86400

int
prune_pool_now(struct prune_ctx *ctx, struct prune_pool *p, int promote)
{
	struct action_list l = {NULL, 0, 0};
	struct carry c;
	size_t from;
	uint64_t digest = 0;
	time_t until = 0;
	int rc = 0, memo;

	if (!interp_writes(ctx->mode) || p->settled)
		return 0;
	memo = memo_usable(ctx, p);
	if (memo) {
		/* nothing changed since a list of keeps: extend them */
		digest = memo_digest(ctx, p, promote);
		rc = db_retain_memo_hit(
		    ctx->db, p->pool_id, digest, ctx->as_of, ctx->run_id);
		if (rc != 0) {
			if (rc == 1)
				p->settled = 1;
			return rc;
		}
	}
	carry_init(&c, ctx);
	if (plan_until(ctx, p, promote, &l, memo ? &until : NULL)) {
		rc = -1;
		goto done;
	}
	from = after_slot(p, &l);
	for (size_t i = from; i < l.n; i++)
		if (l.v[i].kind != ACTION_KEEP)
			goto done; /* it sends or fails: prune_pools' part */
	c.in_tx = 1; /* the caller's */
	rc = from < l.n ? interp_list(&c.it, p, &l.v[from], l.n - from) : 0;
	c.in_tx = 0;
	if (rc == 0 && memo && until > ctx->as_of) {
		if (until - ctx->as_of > MEMO_MAX_AGE)
			until = ctx->as_of + MEMO_MAX_AGE;
		if (db_retain_memo_put(ctx->db, p->pool_id, digest, ctx->as_of,
		        until, ctx->run_id, l.n - from) < 0)
			rc = -1;
	}
	if (rc == 0) {
		p->settled = 1;
		rc = 1;
	}
done:
	carry_free(&c);
	action_list_free(&l);
	return rc;
}

int
prune_pools(
    struct prune_ctx *ctx, struct prune_pool *pools, size_t n, int promote)
{
	struct action_list *lists;
	struct carry c;
	size_t *from = NULL;
	int rc = -1;

	carry_init(&c, ctx);
	lists = calloc(n + 1, sizeof(*lists));
	from = calloc(n + 1, sizeof(*from));
	if (lists == NULL || from == NULL)
		goto done;
	/* 1. Decide every pool from the store as it is now (but those
	 * prune_pool_now carried out). */
	for (size_t i = 0; i < n; i++) {
		if (pools[i].settled)
			continue;
		if (prune_plan(ctx, &pools[i], promote, &lists[i]))
			goto done;
		from[i] = after_slot(&pools[i], &lists[i]);
	}
	/* 2. Promotions: Azure's tag first, then the store. */
	if (carry_promotions(&c, pools, lists, from, n))
		goto done;
	/* 3. Retention, its intents committed before any DELETE.  A pool
	 * whose promotion failed deletes nothing this run: its list counted
	 * on a channel history the store does not hold. */
	for (size_t i = 0; i < n; i++) {
		if (pools[i].failed || from[i] >= lists[i].n)
			continue;
		if (interp_list(&c.it, &pools[i], &lists[i].v[from[i]],
		        lists[i].n - from[i]))
			goto done;
		action_list_free(&lists[i]); /* interpreted */
	}
	if (c.in_tx) {
		c.in_tx = 0;
		if (db_commit(ctx->db)) {
			db_rollback(ctx->db);
			goto done;
		}
	}
	/* 4. The DELETEs, concurrently; each outcome settles its row. */
	rc = c.ndels > 0 ? send_deletes(ctx, c.dels, c.ndels) : 0;
done:
	carry_free(&c);
	for (size_t i = 0; lists != NULL && i < n; i++)
		action_list_free(&lists[i]);
	free(lists);
	free(from);
	return rc;
}
