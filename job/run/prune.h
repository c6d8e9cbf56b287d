#ifndef AKSNAP_PRUNE_H
#define AKSNAP_PRUNE_H

/*
 * prune.h -- promotion and retention for pools (DESIGN.md section 6): the
 * action lists of job/rules/actions.c, loaded from the store and carried
 * out against the store and Azure; promotion and demotion by hand.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "db/db.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/rules/actions.h"
#include "job/run/interp.h"

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
	 * The pool's slot entry, the first of its list (has_slot; not for
	 * `prune`): its create names the snapshot the run took (its store
	 * id), or, not carried out, would take (ACTION_PENDING_ID), which
	 * promotion and retention count as fresh (actions_pool).
	 */
	struct action slot;
	int has_slot;
	int settled; /* prune_pool_now carried its list out: prune_pools
	                skips it */
};

struct prune_ctx {
	const struct config *cfg;
	struct db *db;
	struct arm *arm;
	struct http_client *http;
	int64_t run_id;
	time_t as_of;
	enum interp_mode mode; /* INTERP_REPORT: the lists are reported,
	                          nothing is carried out (job/run/interp.h) */
};

/*
 * prune_plan(ctx, p, promote, out):
 * Pool ${p}'s list: its slot entry (${p->slot}, when ${p->has_slot}),
 * then its promotion and retention as the store holds it now (its active
 * snapshots, its channel history, its holders' names), decided by
 * actions_pool at ${ctx->as_of} (promotions only when ${promote}), and
 * appended to ${out}.  Writes nothing.  0, or -1 on a store error.
 */
int prune_plan(struct prune_ctx *ctx, const struct prune_pool *p, int promote,
    struct action_list *out);

/*
 * prune_pools(ctx, pools, n, promote):
 * Decide each of the ${n} pools' lists (prune_plan), then hand what
 * follows each one's slot entry to the interpreter (job/run/interp.h), in
 * order.  With ${ctx->mode} INTERP_REPORT each action becomes a report
 * line and nothing else happens.  Otherwise each action becomes a line as
 * it is carried out: a promotion is tagged in Azure
 * (aksnap-channel lists every channel a snapshot holds, in ladder order,
 * verified), the holder it replaces keeps the rest of its list, both
 * recorded; then, in one transaction per call, every keep is recorded and
 * every deletion's intent written (state deleting), and the DELETEs go
 * concurrently, each outcome recorded: 204/404 missing (gone out of
 * band); 200/202 deleted only when a GET then answers 404; anything else
 * leaves the row deleting for the next run (the pool fails).  A pool
 * whose promotion failed deletes nothing in this call.  An ACTION_FAIL
 * fails its pool.  0, or -1 on a store error.
 */
int prune_pools(
    struct prune_ctx *ctx, struct prune_pool *pools, size_t n, int promote);

/*
 * prune_pool_now(ctx, p, promote):
 * Pool ${p}'s list decided as prune_pools decides it, and carried out at
 * once when it sends nothing -- keeps only, no promotion, no deletion --
 * so that a run does a pool's retention while its other GETs are still
 * in flight (a pool that takes no snapshot has its inputs final once
 * its plan is recorded).  The keeps are written in the caller's
 * transaction.  In a run, a pool whose slot entry takes no snapshot and
 * whose retention memo holds (db/db_retain_memo.h: nothing the list
 * depends on changed, and the time is before the list's horizon) has its
 * keeps extended from the memo, nothing loaded or decided; a list of
 * keeps only, decided, writes the memo.  1 when carried out (${p}->settled:
 * prune_pools then skips it), 0 when left for prune_pools (also when
 * ${ctx->mode} only reports: the report wants the lines at the pool's slice),
 * -1 on a store error.
 */
int prune_pool_now(struct prune_ctx *ctx, struct prune_pool *p, int promote);

/*
 * prune_promote_snapshot(ctx, p, snap, channel, reason):
 * Make ${snap} (an active snapshot of ${p}) the holder of ${channel}, as
 * a run's promotion does, with ${reason} recorded: Azure's tag first
 * (verified), then the store; the holder it replaces keeps the rest of
 * its tag.  Adds no report line.  0 or -1 (logged; ${p} marked failed
 * when Azure refused, not when the store failed).
 */
int prune_promote_snapshot(struct prune_ctx *ctx, struct prune_pool *p,
    const struct db_snapshot *snap, const char *channel, const char *reason);

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

/*
 * prune_lines_json(p):
 * ${p}'s report lines as a JSON array of {snapshot, action, reasons},
 * reasons an array (reasons_json), as `run --json` and `demote --json`
 * print them (${p} NULL: none).  A new reference.
 */
json_t *prune_lines_json(const struct prune_pool *p);

#endif
