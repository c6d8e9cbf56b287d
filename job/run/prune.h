#ifndef AKSNAP_PRUNE_H
#define AKSNAP_PRUNE_H

/*
 * prune.h -- carry out promotion and retention for pools (DESIGN.md
 * section 6): the pure rules of job/retention.c, applied to the store and
 * to Azure.
 */

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "db/db.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"

/* One thing decided about one snapshot, for the report. */
struct prune_line {
	char snapshot[64];
	char action[16]; /* promote demote keep delete */
	char reasons[256];
};

struct prune_pool {
	const struct pool_conf *pc;
	int64_t pool_id;
	int failed;
	char error[512];
	int deleted;
	int promoted;
	struct prune_line *lines; /* malloc'd; prune_pool_clear frees */
	size_t nlines, cap;
	/*
	 * A dry run's snapshot that the real run would take first: retention
	 * plans with it as an active snapshot created at as_of, so that
	 * `plan` shows what `run` will keep and delete once it exists.
	 * "" when none; never set outside a dry run.
	 */
	char pending[64];
};

struct prune_ctx {
	const struct config *cfg;
	struct db *db;
	struct arm *arm;
	struct http_client *http;
	int64_t run_id;
	time_t as_of;
	int dry_run; /* decide and report; change nothing */
};

/*
 * prune_promote(ctx, p):
 * The soak rule for pool ${p}, rung by rung of its ladder
 * (promotion_plan): each snapshot that should enter a channel is tagged
 * in Azure (aksnap-channel lists every channel it holds, in ladder
 * order), the one it replaces keeps the rest of its list, both recorded.
 * Nothing for a rung whose soak is never, nothing at all for a paused
 * pool (enabled = no).  Failures mark ${p} failed.  0, or -1 on a store
 * error.
 */
int prune_promote(struct prune_ctx *ctx, struct prune_pool *p);

/*
 * prune_promote_snapshot(ctx, p, snap, channel, reason):
 * Make ${snap} (an active snapshot of ${p}) the holder of ${channel}, as
 * prune_promote does, with ${reason} recorded.  0 or -1 (logged; ${p}
 * marked failed).
 */
int prune_promote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel, const char *reason);

/*
 * prune_retain(ctx, pools, n):
 * Retention for each pool: decide keep/delete for its active snapshots
 * (pinned and protected promoted ones set aside), record every decision,
 * write each deletion's intent (state deleting), then send the DELETEs
 * concurrently and record their outcomes: 204/404 missing (gone out of
 * band); 200/202 deleted only when a GET then answers 404; anything else
 * leaves the row deleting for the next run (the pool fails).  0, or -1 on
 * a store error.
 */
int prune_retain(struct prune_ctx *ctx, struct prune_pool *pools, size_t n);

/*
 * prune_demote_snapshot(ctx, p, snap, channel):
 * `aksnap demote`: take ${snap} out of ${channel} (NULL: every channel
 * it holds) by hand.  Each channel falls back to its previous holder
 * that is still active and was never demoted by hand (promotion_fallback),
 * or stays empty until the next promotion.  Azure first: the demoted
 * snapshot's aksnap-channel tag loses the channel (verified PATCH), else
 * nothing changes; the fallback takes the channel only once its tag is
 * verified.  Recorded in the journal; a run never promotes ${snap} again.
 * 0, 1 when it holds no such channel (nothing done), -1 (logged; ${p}
 * says why).
 */
int prune_demote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel);

/* prune_pool_clear(p): free the report lines; NULL is fine. */
void prune_pool_clear(struct prune_pool *p);

#endif
