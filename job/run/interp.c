/*
 * interp.c -- the one interpreter of the pools' action lists.
 *
 * A pool's list (job/rules/actions.h) is decided by pure code: its slot's
 * entry (create, or why not), then its promotions and retention.  `plan`,
 * `run --dry-run` and `prune --dry-run` print it; `run` and `prune` print
 * it and carry it out.  Nothing but this file tells the two apart: each
 * action goes to the same report line in either mode, and to the carrying
 * sink only when the command carries out -- so what `plan` prints is what
 * `run` does, action for action, and no code below the list asks "is
 * this a dry run?".  The sinks do the work: job/run/run.c writes the
 * slot entry's decision and intent and queues its PUT, job/run/prune.c
 * tags, records and deletes; both batch what they send across the pools
 * of a slice, so the interpreter is called per pool and per stage, in the
 * list's order.
 */
#include "job/run/interp.h"

int
interp_list(
    const struct interp *it, void *pool, const struct action *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (it->sinks->line != NULL)
			it->sinks->line(it->arg, pool, &v[i]);
		if (it->mode == INTERP_CARRY && it->sinks->carry != NULL &&
		    it->sinks->carry(it->arg, pool, &v[i]) != 0)
			return -1;
	}
	return 0;
}

int
interp_writes(enum interp_mode mode)
{
	return mode == INTERP_CARRY;
}
