/*
 * lookup.c -- what the record's commands (pin, explain, baseline, drift,
 * check, changes) look up the same way: a snapshot by name, id or number,
 * a pool's usable baseline, a pool's store id; and how they print a blank
 * and an age.
 */
#include "job/cmd/lookup.h"

#include <stdio.h>
#include <string.h>

#include "job/base/exit.h"
#include "job/base/log.h"

const char *
lookup_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* A rough age for people: "45s", "17m", "3h", "12d". */
void
lookup_age(long long secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, len, "%llds", secs);
	else if (secs < 2 * 3600)
		snprintf(buf, len, "%lldm", secs / 60);
	else if (secs < 2 * 86400)
		snprintf(buf, len, "%lldh", secs / 3600);
	else
		snprintf(buf, len, "%lldd", secs / 86400);
}

/*
 * Find SNAPSHOT (name, ARM id or number) in the store.  Return EXIT_DONE,
 * EXIT_USAGE when there is no such snapshot, EXIT_FAILED on a store error.
 */
int
lookup_snapshot(struct db *db, const char *cmd, const char *ref,
    const char *path, struct db_snapshot *out)
{
	int got = db_snapshot_find(db, ref, out);

	if (got < 0)
		return EXIT_FAILED;
	if (got == 0) {
		log_err(NULL,
		    "%s: no snapshot '%s' in %s (give its name, ARM id "
		    "or number from 'aksnap list')",
		    cmd, ref, path);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

/*
 * The usable baseline of pool ${pool_id} in ${channel}: 1 and ${*out}
 * when the channel holds an active snapshot, 0 when it holds none (or one
 * that is not active; said once on stderr), -1 on a store error.
 */
int
lookup_baseline(struct db *db, const char *pool_key, int64_t pool_id,
    const char *channel, struct db_snapshot *out)
{
	int got;

	if (pool_id <= 0)
		return 0;
	got = db_snapshot_channel(db, pool_id, channel, out);
	if (got <= 0)
		return got;
	return lookup_baseline_usable(pool_key, channel, got, out);
}

int
lookup_baseline_usable(const char *pool_key, const char *channel, int held,
    const struct db_snapshot *snap)
{
	if (!held)
		return 0;
	if (strcmp(snap->state, "active") != 0) {
		log_warn(pool_key,
		    "baseline %s of channel %s is %s in the store; not used",
		    snap->name, channel, snap->state);
		return 0;
	}
	return 1;
}

/* The store id of a configured pool; 0 when no run has seen it yet. */
int
lookup_pool_id(struct db *db, const char *key, int64_t *id)
{
	struct db_pool p;
	int got = db_pool_get(db, key, &p);

	*id = got > 0 ? p.id : 0;
	return got < 0 ? -1 : 0;
}
