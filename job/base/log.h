#ifndef AKSNAP_LOG_H
#define AKSNAP_LOG_H

/*
 * log.h -- one line an event on stderr: "aksnap: <pool>: <message>".
 *
 * Levels follow syslog: errors (3) and warnings (4) are always printed;
 * info (6) only with -v; debug/trace (7) only with -vv.  When stderr is the
 * journal (JOURNAL_STREAM set) each line starts with "<N>" so journald keeps
 * the priority.  Thread-safe: a line is written with one write(2).
 */

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/*
 * log_init(verbosity):
 * 0 = errors and warnings only, 1 = -v (info), 2 = -vv (debug and HTTP
 * traces).  Reads JOURNAL_STREAM once.
 */
void log_init(int verbosity);

/* log_verbosity(): the verbosity given to log_init. */
int log_verbosity(void);

/*
 * log_msg(level, pool, fmt, ...):
 * Print one line at ${level}.  ${pool} may be NULL (no pool part).  A
 * trailing newline in the message is not needed and is dropped.
 */
void log_msg(enum log_level level, const char *pool, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_err(pool, ...) log_msg(LOG_LVL_ERR, (pool), __VA_ARGS__)
#define log_warn(pool, ...) log_msg(LOG_LVL_WARNING, (pool), __VA_ARGS__)
#define log_info(pool, ...) log_msg(LOG_LVL_INFO, (pool), __VA_ARGS__)
#define log_debug(pool, ...) log_msg(LOG_LVL_DEBUG, (pool), __VA_ARGS__)

/*
 * log_set_sink(fn, ctx):
 * Tests only: send every formatted line to ${fn} instead of stderr (NULL
 * restores stderr).
 */
void log_set_sink(void (*fn)(void *ctx, const char *line), void *ctx);

/*
 * log_set_before_write(fn, ctx):
 * Call ${fn}(${ctx}) before each line is written to stderr (the progress
 * display erases itself there); NULL for none.
 */
void log_set_before_write(void (*fn)(void *ctx), void *ctx);

#endif
