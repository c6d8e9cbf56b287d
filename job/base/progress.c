/*
 * progress.c -- the run's one-line display on a terminal.
 *
 * A 400-pool run takes tens of seconds; on a terminal, silence looks like
 * a hang.  The line is written to standard error as "\r<text>\033[K" (back
 * to the start, text, erase the rest), cut to the terminal's width so that
 * it never wraps (a wrapped line cannot be rewritten with "\r"), and
 * erased with "\r\033[K" at the end.  Where no one watches (a pipe, a
 * file, the journal, cron) nothing is written at all: those readers get
 * one line an event from log.c and nothing else.
 */
#include "job/base/progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "job/base/log.h"
#include "job/base/util.h"

#define REDRAW_MS 100

static int
wanted(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	const char *term = getenv("TERM");

	if (!isatty(STDERR_FILENO))
		return 0;
	if (js != NULL && js[0] != '\0')
		return 0;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return 0;
	return log_verbosity() == 0;
}

/* A log line is about to be written: get out of its way. */
static void
clear_for_log(void *ctx)
{
	progress_clear(ctx);
}

void
progress_init(struct progress *pg, size_t clusters)
{
	memset(pg, 0, sizeof(*pg));
	pg->on = wanted();
	pg->clusters = clusters;
	pg->phase = "observing";
	if (pg->on)
		log_set_before_write(clear_for_log, pg);
}

/* The terminal's width, or 80 when it does not say. */
static size_t
width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

void
progress_draw(struct progress *pg, int force)
{
	char line[256];
	size_t len, cols;
	int64_t now;
	int n;

	if (!pg->on)
		return;
	now = util_monotonic_ms();
	/* Once erased (for a log line), drawn again whatever the time. */
	if (!force && pg->drawn && now - pg->last_ms < REDRAW_MS)
		return;
	pg->last_ms = now;
	n = snprintf(line, sizeof(line),
	    "aksnap: clusters %zu/%zu observed, snapshots %zu taken, %zu "
	    "skipped, %zu failed (%s)",
	    pg->clusters_done, pg->clusters, pg->taken, pg->skipped, pg->failed,
	    pg->phase);
	if (n < 0)
		return;
	len = strlen(line);
	cols = width();
	/* Never into the last column: some terminals wrap there. */
	if (cols > 1 && len > cols - 1)
		len = cols - 1;
	fprintf(stderr, "\r%.*s\033[K", (int)len, line);
	fflush(stderr);
	pg->drawn = 1;
}

void
progress_clear(struct progress *pg)
{
	if (!pg->on || !pg->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	pg->drawn = 0;
}

void
progress_end(struct progress *pg)
{
	progress_clear(pg);
	if (pg->on)
		log_set_before_write(NULL, NULL);
	pg->on = 0;
}
