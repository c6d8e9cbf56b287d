#ifndef AKSNAP_INTERP_H
#define AKSNAP_INTERP_H

/*
 * interp.h -- the one interpreter of the pools' action lists
 * (job/rules/actions.h), and the one place that knows whether a command
 * carries a list out (`run`, `snapshot`, `prune`) or only reports it
 * (`plan`, `run --dry-run`, `prune --dry-run`).
 */

#include <stddef.h>

#include "job/rules/actions.h"

enum interp_mode {
	INTERP_CARRY = 0, /* run, snapshot, prune, promote, demote */
	INTERP_REPORT, /* plan, run --dry-run, prune --dry-run */
};

/*
 * What an interpreter hands each action to: the caller's (job/run/run.c
 * for the slot's entry, job/run/prune.c for promotion and retention, a
 * unit test's fakes).  ${arg} is the interpreter's, ${pool} the list's.
 */
struct interp_sinks {
	/* ${a}'s report line, in either mode; NULL: none. */
	void (*line)(void *arg, void *pool, const struct action *a);
	/* Carry ${a} out (INTERP_CARRY only): write the store, call ARM or
	 * queue the call.  0, or -1 (the store failed: stop). */
	int (*carry)(void *arg, void *pool, const struct action *a);
};

struct interp {
	enum interp_mode mode;
	const struct interp_sinks *sinks;
	void *arg;
};

/*
 * interp_list(it, pool, v, n):
 * Interpret the ${n} actions ${v} of ${pool}'s list, in order: each one's
 * report line (sinks->line), then, when ${it->mode} is INTERP_CARRY, the
 * action carried out (sinks->carry).  A report prints the same lines
 * whether the list was carried out or not.  0, or -1 when a carry failed
 * (the actions after it are left alone).
 */
int interp_list(
    const struct interp *it, void *pool, const struct action *v, size_t n);

/*
 * interp_writes(mode):
 * Does a command in ${mode} write the store and send what changes Azure?
 * For the writes no list holds -- reconcile, observations of pools gone
 * from a fleet, the metrics -- which a report-only command leaves alone
 * like the lists' own.
 */
int interp_writes(enum interp_mode mode);

#endif
