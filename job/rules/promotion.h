#ifndef AKSNAP_PROMOTION_H
#define AKSNAP_PROMOTION_H

/*
 * promotion.h -- channel ladders (DESIGN.md section 6, Promotion and
 * Ladders): which snapshot enters which channel of one pool, which ones
 * keep_promoted protects, where a channel falls back when one is demoted
 * by hand, and what the aksnap-channel tag of a snapshot says.
 *
 * Pure: the caller brings the pool's ladder, its active snapshots and its
 * channel history (struct channel_hold, as the store keeps it) and the
 * time; nothing here reads the clock, the store or the network.
 */

#include <stddef.h>
#include <time.h>

#include "job/rules/model.h"

/* One active snapshot of the pool (unconfirmed ones are never given). */
struct promotion_snap {
	long long id;
	time_t created_at;
};

/* One promotion a run should make. */
struct promotion_step {
	int rung; /* index in the ladder */
	long long snapshot_id;
	long long replaces; /* the channel's holder now; 0: none */
	char reason[200];
};

/*
 * promotion_plan(l, snaps, n, holds, nh, as_of, out, nout):
 * Decide, rung by rung, which snapshot should hold each channel of ${l}
 * at ${as_of}: rung 0 the newest of ${snaps} at least its soak old, rung
 * i > 0 the newest that entered rung i-1 at least its soak ago (whether
 * or not it still holds rung i-1: a newer snapshot there never starves
 * the next rung).  A snapshot ever demoted by hand is never chosen; a
 * holder is never replaced by an older snapshot; a rung whose soak is
 * PROMOTE_NEVER is left to hand.  A promotion in rung i counts as an
 * entry at ${as_of} for rung i+1.  Fills ${out} (room for ${l}->n steps)
 * and ${*nout}.
 */
void promotion_plan(const struct ladder *l, const struct promotion_snap *snaps,
    size_t n, const struct channel_hold *holds, size_t nh, time_t as_of,
    struct promotion_step *out, size_t *nout);

/*
 * promotion_demoted(holds, nh, id): 1 if snapshot ${id} was ever demoted
 * by hand (from any channel).
 */
int promotion_demoted(
    const struct channel_hold *holds, size_t nh, long long id);

/*
 * promotion_fallback(holds, nh, snaps, n, channel, demoted):
 * The snapshot ${channel} falls back to when its holder ${demoted} is
 * demoted by hand: its previous holder, newest entry first, that is still
 * active (in ${snaps}) and was never demoted by hand.  0 when none (the
 * channel stays empty until the next promotion).
 */
long long promotion_fallback(const struct channel_hold *holds, size_t nh,
    const struct promotion_snap *snaps, size_t n, const char *channel,
    long long demoted);

/*
 * promotion_protected(holds, nh, keep_promoted, ids, max):
 * The snapshots retention must keep: per channel, the holders of its
 * last ${keep_promoted} generations (at least the holder now, at most
 * LIMIT_KEEP_PROMOTED: the range config accepts), entries ended by a hand
 * demotion not counted.  Writes at most ${max} distinct
 * ids into ${ids}; returns how many.
 */
size_t promotion_protected(const struct channel_hold *holds, size_t nh,
    int keep_promoted, long long *ids, size_t max);

/*
 * promotion_tag(l, holds, nh, id, add, drop, out, len):
 * The aksnap-channel tag value of snapshot ${id} once it enters ${add}
 * and leaves ${drop} (either may be NULL): every channel it then holds,
 * in ladder order (channels outside the ladder after, in order of
 * entry), comma-separated.  "" when it holds none (remove the tag).
 */
void promotion_tag(const struct ladder *l, const struct channel_hold *holds,
    size_t nh, long long id, const char *add, const char *drop, char *out,
    size_t len);

/* promotion_rung(l, channel): its index in ${l}, or LADDER_MAX if none. */
int promotion_rung(const struct ladder *l, const char *channel);

#endif
