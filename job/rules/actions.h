#ifndef AKSNAP_ACTIONS_H
#define AKSNAP_ACTIONS_H

/*
 * actions.h -- what a run does to one pool, as a list of actions with
 * reasons (DESIGN.md sections 1, 2 and 6): first the slot's entry (the
 * snapshot it takes, or why not: actions_slot), then promotion and
 * retention (actions_pool).  Pure: the caller brings the pool's policy,
 * what it runs, its snapshots and channel history as the store holds
 * them, and the time; the list -- one a pool, built per slice of pools
 * (job/run/run.c) -- is what `plan` prints and what `run` carries out, in
 * order, through the one interpreter (job/run/interp.c): the slot's entry
 * in the run's batch (job/run/run.c), the rest after it (job/run/prune.c).
 */

#include <stddef.h>
#include <time.h>

#include "job/rules/model.h"
#include "job/rules/plan.h"

struct tz;

enum action_kind {
	ACTION_PROMOTE, /* the snapshot enters channel */
	ACTION_DEMOTE, /* it leaves channel: replaced by the promote before */
	ACTION_KEEP, /* retention keeps it (reasons say which rules) */
	ACTION_DELETE, /* retention deletes it */
	ACTION_FAIL, /* the slot or retention cannot be decided (reasons):
	                the pool fails */
	ACTION_CREATE, /* the slot's snapshot is taken (snapshot: its name) */
	ACTION_SKIP, /* none is taken: snapshot_when = changed, unchanged */
	ACTION_NONE, /* none is due: the slot is taken already */
	ACTION_PAUSED, /* enabled = no: the pool is observed only */
};

/* The snapshot id of the one the create stage takes, not yet stored. */
#define ACTION_PENDING_ID (-1LL)

struct action {
	enum action_kind kind;
	long long snapshot_id; /* 0 for ACTION_FAIL */
	char snapshot[64]; /* its name; "" for ACTION_FAIL */
	char channel[64]; /* ACTION_PROMOTE, ACTION_DEMOTE; else "" */
	char reasons[256];
	time_t slot; /* the slot's entry (actions_slot): its slot; else 0 */
};

/* A growable list; zero it to start, action_list_free to release. */
struct action_list {
	struct action *v;
	size_t n, cap;
};

/* One snapshot of the pool, as the caller loaded it. */
struct action_snap {
	long long id; /* the store's id, or ACTION_PENDING_ID */
	char name[64];
	time_t created_at;
	int pinned;
	int active; /* 0: a channel holder no longer active, named only */
	int fresh; /* taken by this run: never promoted by the same run */
};

struct actions_input {
	const struct policy *policy;
	const struct tz
	    *tz; /* retention's periods (loaded, job/base/tz.h); NULL is UTC */
	time_t as_of;
	int promote; /* 0: retention only (`prune`) */
	const struct action_snap *snaps; /* active ones, and holders */
	size_t nsnaps;
	const struct channel_hold *holds; /* the pool's channel history */
	size_t nholds;
	/*
	 * The pool's slot entry (actions_slot), the list's first, or NULL
	 * (`prune`, `demote`).  A create makes its snapshot fresh: the
	 * pending one (id ACTION_PENDING_ID: `plan`, `run --dry-run`, not
	 * taken yet) goes before ${snaps}, created at as_of; a taken one
	 * (its store id) is the one of ${snaps} with that id.  Not a
	 * pointer into the list actions_pool appends to.
	 */
	const struct action *slot;
};

/*
 * actions_pool(in, out):
 * Append to ${out} what a run at ${in->as_of} does to the pool: a copy of
 * its slot entry ${in->slot} first, when it has one; then nothing more
 * when it is paused; else, when ${in->promote}, the promotions of its
 * ladder (promotion_plan over its active snapshots but the fresh ones),
 * each ACTION_PROMOTE followed by the ACTION_DEMOTE of the holder it
 * replaces; then retention (retention_plan) over its active snapshots,
 * fresh ones included, with the last keep_promoted holders of each channel
 * -- as they stand once those promotions are made -- set aside: one
 * ACTION_KEEP or ACTION_DELETE for each, in the order of ${in->snaps}, or
 * a single ACTION_FAIL when retention cannot decide.  A snapshot created
 * less than a quarter of an hour after as_of (this run's own, Azure's
 * clock) moves retention's as_of to its creation.  0, or -1 when out of
 * memory (${out} then holds what was appended so far).
 */
int actions_pool(const struct actions_input *in, struct action_list *out);

/*
 * actions_horizon(in):
 * The first time after ${in->as_of} at which actions_pool(${in}) at a
 * later time could list otherwise: for every time from ${in->as_of} up to
 * (not including) the one returned, the same snapshots, channel history,
 * policy, time zone, promote flag and a slot entry that takes no snapshot
 * make the same promotions and retention, action for action, reasons
 * included.  Every comparison the rules make with the time is of an
 * input's time (a creation, an entry into or exit from a channel) plus a
 * duration of the policy (keep_within, a rung's soak, promote_after, the
 * quarter of an hour Azure's clock may run ahead) or nothing, so the
 * earliest such sum later than as_of (or one second after it, for a
 * strict comparison) bounds them all; TIME_HORIZON_NONE when nothing
 * compares.  Conservative: the list may well stay the same longer.
 * Used by job/run/prune.c to let a run that finds nothing changed since
 * the last one extend its keep decisions without deciding again.
 */
#define TIME_HORIZON_NONE ((time_t)0x7fffffffffffffffLL)
time_t actions_horizon(const struct actions_input *in);

/*
 * actions_slot(in, prefix, out):
 * Append to ${out} the slot's entry of the pool ${in} describes: whether
 * a run at ${in->slot} takes a snapshot (plan_decide, names from
 * ${prefix}): one ACTION_CREATE naming it (id ACTION_PENDING_ID), or the
 * ACTION_SKIP, ACTION_NONE, ACTION_PAUSED or ACTION_FAIL that says why
 * not, each with its reasons and slot.  Promotion and retention follow
 * it (actions_pool) once the snapshot exists.  0, or -1 when out of
 * memory.
 */
int actions_slot(
    const struct plan_input *in, const char *prefix, struct action_list *out);

/*
 * actions_demote(in, id, channel, out):
 * `aksnap demote`: take snapshot ${id} (one of ${in->snaps}) out of
 * ${channel} by hand, or out of every channel it holds when ${channel}
 * is NULL.  For each such channel, in order of entry, append its
 * ACTION_DEMOTE, then -- when the channel falls back to an earlier
 * holder still active and never demoted by hand (promotion_fallback) --
 * that holder's ACTION_PROMOTE.  ${in->snaps} names every holder.
 * Returns how many channels (0: it holds none, nothing appended), or -1
 * (out of memory).
 */
int actions_demote(const struct actions_input *in, long long id,
    const char *channel, struct action_list *out);

/* action_kind_name(k): "promote", "demote", "keep", "delete", "fail",
 * "create", "skip", "none", "paused". */
const char *action_kind_name(enum action_kind k);

/* action_list_free(l): release ${l}'s array and zero it; NULL is fine. */
void action_list_free(struct action_list *l);

#endif
