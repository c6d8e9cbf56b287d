/*
 * log.c -- the one place that writes diagnostics.
 *
 * A cron job is silent on success: only errors and warnings reach stderr
 * unless -v.  Each event is one line so that journald, syslog and grep see
 * whole events; the line is assembled first and written with one write(2)
 * so that concurrent threads never interleave inside a line.
 */
#include "job/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int verbosity;
static int journal;
static void (*sink)(void *, const char *);
static void *sink_ctx;
static void (*before)(void *);
static void *before_ctx;

void
log_init(int v)
{
	const char *js = getenv("JOURNAL_STREAM");

	verbosity = v;
	journal = (js != NULL && js[0] != '\0');
}

int
log_verbosity(void)
{
	return verbosity;
}

void
log_set_sink(void (*fn)(void *ctx, const char *line), void *ctx)
{
	sink = fn;
	sink_ctx = ctx;
}

void
log_msg(enum log_level level, const char *pool, const char *fmt, ...)
{
	char line[4096];
	size_t len = 0;
	va_list ap;
	int n;

	if (level == LOG_LVL_INFO && verbosity < 1)
		return;
	if (level == LOG_LVL_DEBUG && verbosity < 2)
		return;

	if (journal && sink == NULL) {
		n = snprintf(line, sizeof(line), "<%d>", (int)level);
		len = (size_t)n;
	}
	if (pool != NULL && pool[0] != '\0')
		n = snprintf(
		    line + len, sizeof(line) - len, "aksnap: %s: ", pool);
	else
		n = snprintf(line + len, sizeof(line) - len, "aksnap: ");
	len += (size_t)n;

	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len += (size_t)n;
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2; /* truncated: keep the newline */
	while (len > 0 && line[len - 1] == '\n')
		len--;
	/* One event, one line: fold embedded newlines (e.g. from a body). */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len] = '\0';

	if (sink != NULL) {
		sink(sink_ctx, line);
		return;
	}
	line[len++] = '\n';
	if (before != NULL)
		before(before_ctx);
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void
log_set_before_write(void (*fn)(void *ctx), void *ctx)
{
	before = fn;
	before_ctx = ctx;
}
