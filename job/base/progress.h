#ifndef AKSNAP_PROGRESS_H
#define AKSNAP_PROGRESS_H

/*
 * progress.h -- one status line on a terminal while a run works through
 * many pools, rewritten in place and cleared at the end.
 *
 * Only for a person watching: it is shown when standard error is a
 * terminal, and never under systemd (JOURNAL_STREAM), cron (no terminal),
 * with TERM=dumb, or with -v (whose log lines it would tear).
 */

#include <stddef.h>
#include <stdint.h>

struct progress {
	int on; /* drawing at all */
	int drawn; /* a line is on the screen */
	int64_t last_ms; /* when it was last drawn */
	size_t clusters, clusters_done;
	size_t taken, skipped, failed;
	const char *phase; /* "observing", "snapshotting", "pruning" */
};

/*
 * progress_init(pg, clusters):
 * Decide whether ${pg} draws (see above) and zero its counts; ${clusters}
 * is how many clusters the run observes.
 */
void progress_init(struct progress *pg, size_t clusters);

/*
 * progress_draw(pg, force):
 * Redraw the line from ${pg}'s counts: at most ten times a second unless
 * ${force}.  Nothing when ${pg} is off.
 */
void progress_draw(struct progress *pg, int force);

/*
 * progress_clear(pg):
 * Erase the line, if drawn, so that what follows starts on a clean line
 * (log lines do this themselves while ${pg} is on).
 */
void progress_clear(struct progress *pg);

/*
 * progress_end(pg):
 * Erase the line and stop: log lines no longer call back into ${pg}.
 */
void progress_end(struct progress *pg);

#endif
