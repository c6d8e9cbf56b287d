/*
 * cmd_sync.c -- `aksnap sync [--dry-run]`: reconcile the store with what
 * Azure holds (DESIGN.md section 3).
 *
 * The store is the only record of aksnap's snapshots, and it can fall
 * behind Azure: a database restored from last week's backup lacks the
 * snapshots taken since; a snapshot deleted by hand (or with its resource
 * group) still looks active.  sync lists the snapshots of every
 * subscription that holds a configured pool (following nextLink) and:
 *
 *   - adopts each snapshot tagged aksnap-managed=true that the store
 *     lacks and that proves to be this store's (DESIGN.md section 6,
 *     Ownership): its aksnap-pool tag names a configured pool, its
 *     source is that pool, its aksnap-slot tag is a time, and its ARM id
 *     is the deterministic name of that pool and slot (plan.c) in the
 *     pool's resource group.  State active, its versions and creation
 *     time from Azure, its channel from aksnap-channel; one "adopt"
 *     decision each.  A snapshot marked missing that Azure lists again
 *     becomes active again (also an "adopt" decision).
 *   - reports every other snapshot tagged aksnap-managed that the store
 *     lacks as a conflict -- a foreign name, a foreign source, another
 *     pool key's tag (a renamed key, another store's pool), no slot -- and
 *     records it in the conflicts table (db_conflict.h) for `check`.  A
 *     conflict is never adopted, re-tagged, promoted or deleted, and a
 *     run refuses to PUT its name.  A snapshot the store holds under a
 *     pool this configuration lacks (a renamed pool key) is left as it
 *     is: it is this store's, and nothing acts on it.  A row of this store
 *     whose snapshot Azure now tags for another pool key (another store
 *     re-tagged it) goes to state conflict: retention, promotion and
 *     apply never act on it again.
 *   - marks "missing" each active store row that the listing lacks, once
 *     a GET by id has answered 404: ARM listings are eventually consistent
 *     (NOTES.md section 4.2 -- a list once missed a snapshot that GET
 *     returned), so a listing alone never condemns a snapshot.  A row left
 *     "deleting" whose GET answers 404 is settled as deleted.
 *
 * Snapshots without the managed tag are never adopted, changed or
 * counted as ours.  Conflicts found in a subscription replace those
 * recorded for it by the last sync.  A subscription whose listing fails is
 * skipped whole: nothing of its pools is marked missing on the word of a failed
 * list.
 * --dry-run reads the same (Azure included) and records nothing.
 *
 * Exit: 0 done; 1 a listing, GET or store write failed (the rest was
 * done); 2 usage; 75 lock held or Azure unreachable before anything.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_conflict.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/base/log.h"
#include "job/base/reasons.h"
#include "job/base/table.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/plan.h"
#include "job/rules/versions.h"

#define TAG_MANAGED "aksnap-managed"
#define TAG_POOL "aksnap-pool"
#define TAG_SLOT "aksnap-slot"
#define TAG_CHANNEL "aksnap-channel"

struct sync_pool {
	const struct pool_conf *pc;
	int64_t pool_id; /* 0: not in the store (dry run of a new store) */
	char arm_id[512];
	int listed; /* its subscription's listing succeeded */
};

/* One line of the report: something sync did (or would do). */
struct sync_item {
	const char *pool;
	char snapshot[64];
	char arm_id[512];
	const char *action; /* adopt, missing, deleted, conflict, unconfirmed */
	char reasons[320];
	char channel[64];
	time_t slot;
	struct db_versions v;
};

struct sync {
	const struct cli *cli;
	int dry_run;
	struct session ss; /* owns cfg, db and the lock */
	struct config *cfg;
	struct db *db;
	struct db_run rec;
	int have_run;
	struct http_client *http; /* the session's, once connected */
	struct arm *arm;
	struct sync_pool *pools;
	size_t npools;
	struct arm_snapshot *listed; /* every subscription's, concatenated */
	size_t nlisted;
	const char **ids; /* listed ARM ids, sorted case-insensitively */
	struct sync_item *items;
	size_t nitems, capitems;
	int adopted, missing, deleted, unchanged, conflicts, foreign, failed;
	int reached_arm;
	int in_tx;
};

/* ---- small helpers ---- */

static struct sync_item *
add_item(struct sync *s, const char *pool, const char *action, const char *name,
    const char *arm_id)
{
	struct sync_item *it;

	if (s->nitems == s->capitems) {
		size_t cap = s->capitems ? s->capitems * 2 : 16;
		struct sync_item *n = realloc(s->items, cap * sizeof(*n));

		if (n == NULL)
			return NULL;
		s->items = n;
		s->capitems = cap;
	}
	it = &s->items[s->nitems++];
	memset(it, 0, sizeof(*it));
	it->pool = pool;
	it->action = action;
	util_strlcpy(it->snapshot, name, sizeof(it->snapshot));
	util_strlcpy(it->arm_id, arm_id, sizeof(it->arm_id));
	return it;
}

static void
record(struct sync *s, int64_t pool_id, int64_t snap_id, time_t slot,
    const char *action, const char *reasons)
{
	struct db_decision d;

	memset(&d, 0, sizeof(d));
	d.run_id = s->rec.id;
	d.pool_id = pool_id;
	d.snapshot_id = snap_id;
	d.at = util_now();
	d.slot = slot;
	util_strlcpy(d.action, action, sizeof(d.action));
	util_strlcpy(d.reasons, reasons, sizeof(d.reasons));
	if (db_decision_add(s->db, &d))
		s->failed++;
}

static void
tx_begin(struct sync *s)
{
	if (!s->dry_run && !s->in_tx && db_begin(s->db) == 0)
		s->in_tx = 1;
}

static void
tx_end(struct sync *s)
{
	if (!s->in_tx)
		return;
	if (db_commit(s->db)) {
		db_rollback(s->db);
		s->failed++;
	}
	s->in_tx = 0;
}

static struct sync_pool *
pool_by_key(struct sync *s, const char *key)
{
	for (size_t i = 0; i < s->npools; i++)
		if (strcmp(s->pools[i].pc->key, key) == 0)
			return &s->pools[i];
	return NULL;
}

static int
idcmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static int
is_listed(const struct sync *s, const char *arm_id)
{
	return s->nlisted > 0 &&
	    bsearch(&arm_id, s->ids, s->nlisted, sizeof(*s->ids), idcmp) !=
	    NULL;
}

/* ---- setup ---- */

/* ARM through the session, the token first (session_connect); with no
 * pool there is nothing to list and nothing is asked of Entra ID. */
static int
connect_arm(struct sync *s)
{
	int rc;

	if (s->cfg->npools == 0)
		return EXIT_DONE;
	rc = session_connect(&s->ss);
	s->http = s->ss.http;
	s->arm = s->ss.arm;
	return rc;
}

static int
load_pools(struct sync *s)
{
	s->pools =
	    calloc(s->cfg->npools ? s->cfg->npools : 1, sizeof(*s->pools));
	if (s->pools == NULL)
		return -1;
	tx_begin(s);
	for (size_t i = 0; i < s->cfg->npools; i++) {
		struct sync_pool *p = &s->pools[i];
		struct db_pool row;
		int got;

		p->pc = &s->cfg->pools[i];
		arm_agent_pool_id(p->pc->subscription, p->pc->resource_group,
		    p->pc->cluster, p->pc->nodepool, p->arm_id,
		    sizeof(p->arm_id));
		if (!s->dry_run) {
			if (db_pool_sync(s->db, p->pc, &p->pool_id))
				return -1;
			continue;
		}
		got = db_pool_get(s->db, p->pc->key, &row);
		if (got < 0)
			return -1;
		p->pool_id = got ? row.id : 0;
	}
	tx_end(s);
	s->npools = s->cfg->npools;
	return 0;
}

/* ---- list ---- */

/* Each subscription of a configured pool, once (ids are case-insensitive). */
static int
list_all(struct sync *s)
{
	for (size_t i = 0; i < s->npools; i++) {
		const char *sub = s->pools[i].pc->subscription;
		struct arm_snapshot *page = NULL, *grown;
		struct arm_error e;
		size_t n = 0;
		int seen = 0;

		for (size_t j = 0; j < i; j++)
			if (strcasecmp(s->pools[j].pc->subscription, sub) == 0)
				seen = 1;
		if (seen)
			continue;
		if (arm_snapshot_list(s->arm, NULL, sub, NULL, &page, &n, &e)) {
			/* A 429 or 5xx until the retries ran out is ARM
			 * unavailable, as no answer is (75, not 1). */
			if (e.status != 0 && !http_retryable_status(e.status))
				s->reached_arm = 1;
			log_err(NULL,
			    "subscription %s: listing snapshots "
			    "failed; nothing of its pools is marked missing",
			    sub);
			s->failed++;
			free(page);
			continue;
		}
		s->reached_arm = 1;
		for (size_t j = 0; j < s->npools; j++)
			if (strcasecmp(s->pools[j].pc->subscription, sub) == 0)
				s->pools[j].listed = 1;
		if (n == 0) {
			free(page);
			continue;
		}
		grown = realloc(s->listed, (s->nlisted + n) * sizeof(*grown));
		if (grown == NULL) {
			free(page);
			return -1;
		}
		s->listed = grown;
		memcpy(s->listed + s->nlisted, page, n * sizeof(*page));
		s->nlisted += n;
		free(page);
		log_info(
		    NULL, "subscription %s: %zu snapshot(s) listed", sub, n);
	}
	s->ids = calloc(s->nlisted ? s->nlisted : 1, sizeof(*s->ids));
	if (s->ids == NULL)
		return -1;
	for (size_t i = 0; i < s->nlisted; i++)
		s->ids[i] = s->listed[i].id;
	qsort(s->ids, s->nlisted, sizeof(*s->ids), idcmp);
	return 0;
}

/* ---- adopt ---- */

/* Newest first: when two carry one channel tag, the newer keeps it. */
static int
newest_first(const void *a, const void *b)
{
	const struct arm_snapshot *x = a, *y = b;

	return (x->created_at < y->created_at) -
	    (x->created_at > y->created_at);
}

/* Is ${channel} free for ${p} (in the store, and among this sync's
 * adoptions)? */
static int
channel_free(struct sync *s, const struct sync_pool *p, const char *channel)
{
	struct db_snapshot holder;
	int got;

	for (size_t i = 0; i < s->nitems; i++)
		if (s->items[i].pool == p->pc->key &&
		    strcmp(s->items[i].action, "adopt") == 0 &&
		    strcmp(s->items[i].channel, channel) == 0)
			return 0;
	if (p->pool_id == 0)
		return 1;
	got = db_snapshot_channel(s->db, p->pool_id, channel, &holder);
	return got == 0;
}

static void
adopt_one(struct sync *s, struct sync_pool *p, const struct arm_snapshot *a)
{
	struct db_snapshot row;
	struct sync_item *it;
	const char *slot = arm_tag_get(a, TAG_SLOT);
	const char *channel = arm_tag_get(a, TAG_CHANNEL);
	int64_t id = 0;

	memset(&row, 0, sizeof(row));
	util_strlcpy(row.name, a->name, sizeof(row.name));
	util_strlcpy(row.arm_id, a->id, sizeof(row.arm_id));
	/* prove_ours() parsed it already. */
	if (slot == NULL || util_parse_time(slot, &row.slot) != 0)
		row.slot = 0;
	row.created_at = a->created_at;
	arm_snapshot_versions(a, &row.v);
	util_strlcpy(row.state, "active", sizeof(row.state));
	if (channel != NULL && channel[0] != '\0') {
		if (channel_free(s, p, channel))
			util_strlcpy(row.channel, channel, sizeof(row.channel));
		else
			log_warn(p->pc->key,
			    "%s: tagged %s=%s but the pool "
			    "already has a snapshot in that channel; adopted "
			    "without it",
			    a->name, TAG_CHANNEL, channel);
	}
	it = add_item(s, p->pc->key, "adopt", a->name, a->id);
	if (it == NULL) {
		s->failed++;
		return;
	}
	util_strlcpy(it->reasons,
	    "tagged aksnap-managed=true in Azure, absent from the store; "
	    "the name, tags and source of this pool's slot",
	    sizeof(it->reasons));
	util_strlcpy(it->channel, row.channel, sizeof(it->channel));
	it->slot = row.slot;
	it->v = row.v;
	s->adopted++;
	if (s->dry_run)
		return;
	if (db_snapshot_adopt(s->db, p->pool_id, &row, &id)) {
		it->action = "fail";
		s->adopted--;
		s->failed++;
		return;
	}
	record(s, p->pool_id, id, row.slot, "adopt", it->reasons);
	log_info(p->pc->key, "%s: adopted (%s, Kubernetes %s%s%s)", a->name,
	    row.v.node_image_version, row.v.kubernetes_version,
	    row.channel[0] ? ", channel " : "", row.channel);
}

/* A row marked missing that Azure lists again: it was not lost after all. */
static void
revive_one(struct sync *s, struct sync_pool *p, const struct arm_snapshot *a,
    const struct db_snapshot *row, const char *why)
{
	struct sync_item *it;
	struct db_versions v;

	it = add_item(s, p->pc->key, "adopt", row->name, row->arm_id);
	if (it == NULL) {
		s->failed++;
		return;
	}
	util_strlcpy(it->reasons, why, sizeof(it->reasons));
	arm_snapshot_versions(a, &v);
	it->v = v;
	it->slot = row->slot;
	util_strlcpy(it->channel, row->channel, sizeof(it->channel));
	s->adopted++;
	if (s->dry_run)
		return;
	if (db_snapshot_set_active(s->db, row->id, a->created_at, &v)) {
		it->action = "fail";
		s->adopted--;
		s->failed++;
		return;
	}
	record(s, p->pool_id, row->id, row->slot, "adopt", it->reasons);
	log_info(p->pc->key, "%s: active again (%s)", row->name, why);
}

static struct sync_pool *
pool_by_id(struct sync *s, int64_t id)
{
	for (size_t i = 0; i < s->npools; i++)
		if (s->pools[i].pool_id == id && id != 0)
			return &s->pools[i];
	return NULL;
}

/*
 * Does ${a} (tagged aksnap-managed, not in the store) prove to be this
 * store's?  1 with its pool in ${*pp}; 0 with the reason it does not in
 * ${why}.  DESIGN.md section 6, Ownership.
 */
static int
prove_ours(struct sync *s, const struct arm_snapshot *a, struct sync_pool **pp,
    char *why, size_t len)
{
	const char *key = arm_tag_get(a, TAG_POOL);
	const char *slot = arm_tag_get(a, TAG_SLOT);
	struct sync_pool *p;
	char name[64], id[512], when[32];
	time_t t;

	*pp = NULL;
	if (key == NULL || key[0] == '\0') {
		snprintf(why, len, "no %s tag", TAG_POOL);
		return 0;
	}
	p = pool_by_key(s, key);
	if (p == NULL) {
		snprintf(why, len,
		    "tagged for pool '%s', which this configuration lacks "
		    "(another store's, or a renamed pool key)",
		    key);
		return 0;
	}
	if (strcasecmp(a->source_id, p->arm_id) != 0) {
		snprintf(why, len,
		    "tagged for pool '%s' but taken from %s, not from that "
		    "pool",
		    key, a->source_id[0] ? a->source_id : "an unknown source");
		return 0;
	}
	if (slot == NULL || util_parse_time(slot, &t) != 0) {
		snprintf(why, len,
		    "tagged for pool '%s' without a valid %s tag", key,
		    TAG_SLOT);
		return 0;
	}
	plan_snapshot_name(
	    s->cfg->name_prefix, p->pc->cluster, p->pc->nodepool, t, name);
	arm_snapshot_id(
	    p->pc->subscription, p->pc->resource_group, name, id, sizeof(id));
	if (strcasecmp(a->id, id) != 0) {
		util_format_time(t, when, sizeof(when));
		snprintf(why, len,
		    "tagged for pool '%s' but named %s, not %s (the name of "
		    "its slot %s)",
		    key, a->name, name, when);
		return 0;
	}
	*pp = p;
	return 1;
}

/* "/subscriptions/<sub>/..." -> <sub> (or "" when not such an id). */
static void
subscription_of(const char *arm_id, char *out, size_t len)
{
	const char *p = arm_id;
	size_t n;

	out[0] = '\0';
	if (strncasecmp(p, "/subscriptions/", 15) != 0)
		return;
	p += 15;
	n = strcspn(p, "/");
	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ${a} is tagged as aksnap's but not this store's: report and record. */
static void
conflict_one(struct sync *s, const struct arm_snapshot *a, const char *why)
{
	const char *key = arm_tag_get(a, TAG_POOL);
	struct db_conflict c;
	struct sync_item *it;

	it = add_item(
	    s, key != NULL && key[0] ? key : "-", "conflict", a->name, a->id);
	if (it == NULL) {
		s->failed++;
		return;
	}
	util_strlcpy(it->reasons, why, sizeof(it->reasons));
	arm_snapshot_versions(a, &it->v);
	s->conflicts++;
	log_warn(NULL,
	    "%s: tagged aksnap-managed but not this store's: %s; never "
	    "touched",
	    a->name, why);
	if (s->dry_run)
		return;
	memset(&c, 0, sizeof(c));
	util_strlcpy(c.arm_id, a->id, sizeof(c.arm_id));
	util_strlcpy(c.name, a->name, sizeof(c.name));
	subscription_of(a->id, c.subscription, sizeof(c.subscription));
	util_strlcpy(c.pool_tag, key != NULL ? key : "", sizeof(c.pool_tag));
	util_strlcpy(c.source_id, a->source_id, sizeof(c.source_id));
	util_strlcpy(c.reason, why, sizeof(c.reason));
	if (db_conflict_seen(s->db, s->rec.id, &c, util_now())) {
		it->action = "fail";
		s->failed++;
	}
}

/*
 * A row of this store whose snapshot Azure now tags for another pool key
 * (re-tagged by another store, or by hand): 1 with the reason in ${why}.
 * Rows already settled (deleted, failed) or already in conflict are left.
 */
/* Does ${a}'s aksnap-pool tag name pool ${key}? */
static int
tagged_for(const struct arm_snapshot *a, const char *key)
{
	const char *tag = arm_tag_get(a, TAG_POOL);

	return tag != NULL && strcmp(tag, key) == 0;
}

static int
claimed_by_another(const struct arm_snapshot *a, const struct db_snapshot *row,
    char *why, size_t len)
{
	const char *key = arm_tag_get(a, TAG_POOL);

	if (strcmp(row->state, "active") != 0 &&
	    strcmp(row->state, "missing") != 0)
		return 0;
	if (tagged_for(a, row->pool_key))
		return 0;
	snprintf(why, len,
	    "in the store as pool %s's, but Azure tags it for %s%s%s now "
	    "(re-tagged by another store?)",
	    row->pool_key, key != NULL ? "pool '" : "no pool",
	    key != NULL ? key : "", key != NULL ? "'" : "");
	return 1;
}

/*
 * ${row} is this store's, but Azure says another owns it now: state
 * conflict, which retention, promotion and apply never act on.
 */
static void
conflict_row(struct sync *s, struct sync_pool *p, const struct arm_snapshot *a,
    const struct db_snapshot *row, const char *why)
{
	struct sync_item *it;

	it = add_item(s, p->pc->key, "conflict", row->name, row->arm_id);
	if (it == NULL) {
		s->failed++;
		return;
	}
	util_strlcpy(it->reasons, why, sizeof(it->reasons));
	arm_snapshot_versions(a, &it->v);
	it->slot = row->slot;
	util_strlcpy(it->channel, row->channel, sizeof(it->channel));
	s->conflicts++;
	log_warn(p->pc->key, "%s: %s; never touched again", row->name, why);
	if (s->dry_run)
		return;
	if (db_snapshot_set_state(s->db, row->id, "conflict", why)) {
		it->action = "fail";
		s->failed++;
	}
}

/* Forget the conflicts of each listed subscription this sync did not see. */
static void
forget_gone_conflicts(struct sync *s)
{
	if (s->dry_run)
		return;
	tx_begin(s);
	for (size_t i = 0; i < s->npools; i++) {
		const char *sub = s->pools[i].pc->subscription;
		int seen = 0;

		if (!s->pools[i].listed)
			continue;
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(s->pools[j].pc->subscription, sub) == 0)
				seen = 1;
		if (!seen && db_conflict_forget_unseen(s->db, sub, s->rec.id))
			s->failed++;
	}
	tx_end(s);
}

static void
adopt_all(struct sync *s)
{
	qsort(s->listed, s->nlisted, sizeof(*s->listed), newest_first);
	/* The ids point into listed[]: sort them again after the move. */
	for (size_t i = 0; i < s->nlisted; i++)
		s->ids[i] = s->listed[i].id;
	qsort(s->ids, s->nlisted, sizeof(*s->ids), idcmp);

	tx_begin(s);
	for (size_t i = 0; i < s->nlisted; i++) {
		const struct arm_snapshot *a = &s->listed[i];
		const char *managed = arm_tag_get(a, TAG_MANAGED);
		struct sync_pool *p;
		struct db_snapshot row;
		char why[320];
		int got;

		if (managed == NULL || strcasecmp(managed, "true") != 0) {
			s->foreign++;
			continue;
		}
		got = db_snapshot_find(s->db, a->id, &row);
		if (got < 0) {
			s->failed++;
			continue;
		}
		if (got > 0) {
			/* In the store: this store's own. */
			p = pool_by_id(s, row.pool_id);
			if (p == NULL) {
				log_info(NULL,
				    "%s: in the store under pool '%s', which "
				    "this configuration lacks; left as it is",
				    a->name, row.pool_key);
				s->unchanged++;
			} else if (claimed_by_another(
			               a, &row, why, sizeof(why))) {
				conflict_row(s, p, a, &row, why);
			} else if (strcmp(row.state, "missing") == 0) {
				revive_one(s, p, a, &row,
				    "marked missing, but Azure lists it again");
			} else if (strcmp(row.state, "conflict") == 0 &&
			    tagged_for(a, row.pool_key)) {
				/* The tags name this pool again (fixed). */
				revive_one(s, p, a, &row,
				    "in conflict, but Azure tags it for this "
				    "pool again");
			} else {
				s->unchanged++;
			}
			continue;
		}
		if (prove_ours(s, a, &p, why, sizeof(why)))
			adopt_one(s, p, a);
		else
			conflict_one(s, a, why);
	}
	tx_end(s);
}

/* ---- missing ---- */

/*
 * GET the snapshot by id.  Return 1 when it exists, 0 on 404 (with the
 * request id in ${rid}), -1 when no answer says either (logged).
 */
static int
confirm(
    struct sync *s, const char *ctx, const char *arm_id, char *rid, size_t rlen)
{
	struct http_request req;
	struct http_response resp;
	struct arm_error e;
	char url[1024];
	int rc = -1;

	arm_url(s->arm, arm_id, "", url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.auth = 1;
	req.context = ctx;
	http_response_init(&resp);
	if (http_do(s->http, &req, &resp) != 0)
		goto out;
	util_strlcpy(rid, resp.request_id, rlen);
	if (resp.status == 200)
		rc = 1;
	else if (resp.status == 404)
		rc = 0;
	else {
		arm_error_from_response(&resp, &e);
		arm_log_failure(ctx, "GET", url, &e);
	}
out:
	http_response_free(&resp);
	return rc;
}

static void
missing_row(struct sync *s, struct sync_pool *p, const struct db_snapshot *r)
{
	struct sync_item *it;
	const char *to =
	    strcmp(r->state, "deleting") == 0 ? "deleted" : "missing";
	char rid[128], why[320];
	int got;

	rid[0] = '\0';
	got = confirm(s, p->pc->key, r->arm_id, rid, sizeof(rid));
	if (got > 0) {
		log_warn(p->pc->key,
		    "%s: not in Azure's listing, but GET "
		    "finds it (listings are eventually consistent); kept",
		    r->name);
		s->unchanged++;
		return;
	}
	it = add_item(
	    s, p->pc->key, got < 0 ? "unconfirmed" : to, r->name, r->arm_id);
	if (it == NULL) {
		s->failed++;
		return;
	}
	it->v = r->v;
	it->slot = r->slot;
	util_strlcpy(it->channel, r->channel, sizeof(it->channel));
	if (got < 0) {
		util_strlcpy(it->reasons,
		    "not in Azure's listing, and GET did "
		    "not answer; left as it is",
		    sizeof(it->reasons));
		s->failed++;
		return;
	}
	snprintf(why, sizeof(why),
	    "not in Azure's listing, and GET answers "
	    "404 (x-ms-request-id %s)",
	    rid[0] ? rid : "-");
	util_strlcpy(it->reasons, why, sizeof(it->reasons));
	if (strcmp(to, "missing") == 0)
		s->missing++;
	else
		s->deleted++;
	if (s->dry_run)
		return;
	if (db_snapshot_set_state(
	        s->db, r->id, to, strcmp(to, "missing") == 0 ? why : NULL)) {
		it->action = "fail";
		s->failed++;
		return;
	}
	/* A finished delete is not news: only a loss is a decision. */
	if (strcmp(to, "missing") == 0)
		record(s, p->pool_id, r->id, r->slot, "missing", why);
	log_info(p->pc->key, "%s: %s (%s)", r->name, to, why);
}

static void
missing_all(struct sync *s)
{
	static const char *const states[] = {"active", "deleting"};

	for (size_t i = 0; i < s->npools; i++) {
		struct sync_pool *p = &s->pools[i];

		if (!p->listed || p->pool_id == 0)
			continue;
		for (size_t k = 0; k < 2; k++) {
			struct db_snapshot *rows = NULL;
			size_t n = 0;

			if (db_snapshot_list(
			        s->db, p->pool_id, states[k], &rows, &n)) {
				s->failed++;
				continue;
			}
			tx_begin(s);
			for (size_t j = 0; j < n; j++) {
				if (is_listed(s, rows[j].arm_id))
					continue;
				missing_row(s, p, &rows[j]);
			}
			tx_end(s);
			free(rows);
		}
	}
}

/* ---- report ---- */

static void
print_report(const struct sync *s)
{
	if (s->cli->json) {
		json_t *doc = json_object(), *arr = json_array();

		json_object_set_new(doc, "dry_run", json_boolean(s->dry_run));
		for (size_t i = 0; i < s->nitems; i++) {
			const struct sync_item *it = &s->items[i];
			json_t *o = json_object();
			char t[32];

			json_object_set_new(o, "pool", json_string(it->pool));
			json_object_set_new(
			    o, "snapshot", json_string(it->snapshot));
			json_object_set_new(
			    o, "arm_id", json_string(it->arm_id));
			json_object_set_new(
			    o, "action", json_string(it->action));
			json_object_set_new(
			    o, "reasons", reasons_json(it->reasons));
			if (it->slot != 0) {
				util_format_time(it->slot, t, sizeof(t));
				json_object_set_new(o, "slot", json_string(t));
			} else {
				json_object_set_new(o, "slot", json_null());
			}
			output_versions_json(o, &it->v);
			json_object_set_new(o, "channel",
			    it->channel[0] ? json_string(it->channel)
			                   : json_null());
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "snapshots", arr);
		json_object_set_new(doc, "adopted", json_integer(s->adopted));
		json_object_set_new(doc, "missing", json_integer(s->missing));
		json_object_set_new(doc, "deleted", json_integer(s->deleted));
		json_object_set_new(
		    doc, "unchanged", json_integer(s->unchanged));
		json_object_set_new(
		    doc, "conflicts", json_integer(s->conflicts));
		json_object_set_new(doc, "foreign", json_integer(s->foreign));
		json_object_set_new(doc, "failed", json_integer(s->failed));
		output_print_json(doc);
		return;
	}
	if (s->nitems > 0) {
		/* At 80 columns the pool goes (the name holds it), then the
		 * reason wraps. */
		static const struct table_col cols[] = {
		    {"ACTION", 0, 0},
		    {"POOL", 1, 0},
		    {"SNAPSHOT", 0, 0},
		    {"REASON", 0, 1},
		};
		struct table *tab =
		    table_new(cols, sizeof(cols) / sizeof(cols[0]));

		for (size_t i = 0; tab != NULL && i < s->nitems; i++) {
			const struct sync_item *it = &s->items[i];

			(void)table_add(tab, it->action, it->pool, it->snapshot,
			    it->reasons);
		}
		if (tab != NULL)
			table_print(tab, stdout);
		table_free(tab);
		printf("\n");
	}
	printf("%sadopted %d, missing %d, deleted %d, unchanged %d, "
	       "conflicts %d, foreign %d, failed %d\n",
	    s->dry_run ? "dry run, nothing recorded: would have " : "",
	    s->adopted, s->missing, s->deleted, s->unchanged, s->conflicts,
	    s->foreign, s->failed);
}

/* ---- the command ---- */

static int
sync_run(struct sync *s)
{
	int rc;

	if (load_pools(s))
		return EXIT_FAILED;
	rc = connect_arm(s);
	if (rc != EXIT_DONE)
		return rc;
	if (list_all(s))
		return EXIT_FAILED;
	if (s->npools > 0 && !s->reached_arm) {
		log_err(NULL,
		    "ARM at %s did not answer, or only with temporary "
		    "errors; nothing done",
		    s->cfg->arm_endpoint);
		/* An untrusted certificate is not temporary (ca_file). */
		return http_client_tls_failure(s->http) != NULL ? EXIT_USAGE
		                                                : EXIT_TEMP;
	}
	adopt_all(s);
	forget_gone_conflicts(s);
	missing_all(s);
	print_report(s);
	return s->failed > 0 ? EXIT_FAILED : EXIT_DONE;
}

int
cmd_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	struct sync s;
	int ch, rc = EXIT_FAILED;

	memset(&s, 0, sizeof(s));
	s.cli = cli;
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'n':
			s.dry_run = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(
		    "sync", "unexpected argument '%s'", argv[optind]);
	/* A dry run reads only: no lock, no migration, no runs row. */
	rc =
	    session_open(&s.ss, cli, s.dry_run ? SESSION_STORE : SESSION_WRITE);
	s.cfg = s.ss.cfg;
	s.db = s.ss.db;
	if (rc != EXIT_DONE)
		goto out;
	rc = EXIT_FAILED;
	if (!s.dry_run) {
		if (db_run_start(
		        s.db, util_now(), util_now(), "sync", &s.rec.id))
			goto out;
		s.have_run = 1;
	}
	rc = sync_run(&s);
out:
	if (s.in_tx)
		db_rollback(s.db);
	if (s.have_run) {
		s.rec.exit_code = rc;
		s.rec.finished_at = util_now();
		s.rec.observed = (int)(s.nlisted - (size_t)s.foreign);
		s.rec.failed = s.failed;
		(void)db_run_finish(s.db, &s.rec);
	}
	free(s.items);
	free(s.ids);
	free(s.listed);
	free(s.pools);
	session_close(&s.ss);
	return rc;
}
