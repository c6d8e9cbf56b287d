#ifndef AKSNAP_TZ_H
#define AKSNAP_TZ_H

/*
 * tz.h -- IANA time zones read from the system tz database, once.
 *
 * A zone is loaded when the configuration is loaded (tz_load) and then
 * handed, read-only, to the pure code that needs wall-clock time: schedule
 * slots, retention periods, the report's local times.  A loaded zone is
 * immutable, so any number of threads may query it; nothing here caches,
 * locks or reads a file after tz_load.  Every query takes NULL as UTC.
 *
 * Also the calendar arithmetic both the zones and the schedules use
 * (proleptic Gregorian, days since 1970-01-01).
 */

#include <stddef.h>
#include <time.h>

struct tz;

/*
 * tz_load(name):
 * Load the zone ${name} (e.g. "Europe/Berlin") from $TZDIR, or
 * /usr/share/zoneinfo when TZDIR is unset.  "UTC" needs no file.  A name
 * must be relative, without "..", of letters, digits and "/_-+.".  Return
 * the zone (the caller frees it with tz_free), or NULL if ${name} is NULL,
 * empty, not such a name, or not a readable TZif file.
 */
struct tz *tz_load(const char *name);

/*
 * tz_parse(name, data, len):
 * The zone in the TZif bytes ${data}[0..${len}) (RFC 8536), named ${name}.
 * Return it (freed with tz_free), or NULL if the data is not a well-formed
 * TZif file.  tz_load reads a file and calls this.
 */
struct tz *tz_parse(const char *name, const void *data, size_t len);

/* tz_free(z): free ${z}; NULL does nothing. */
void tz_free(struct tz *z);

/* tz_name(z): the name ${z} was loaded as ("UTC" for NULL). */
const char *tz_name(const struct tz *z);

/*
 * tz_localtime(z, t, out):
 * Break ${t} down into local wall time in ${z}: tm_year, tm_mon, tm_mday,
 * tm_hour, tm_min, tm_sec, tm_wday, tm_yday, tm_isdst and tm_gmtoff.
 * Return 0, or -1 if ${t} is beyond +-300,000 years.
 */
int tz_localtime(const struct tz *z, time_t t, struct tm *out);

/*
 * tz_wall(z, t):
 * The wall time of instant ${t} in ${z}, as seconds since the epoch read
 * as if UTC (t plus the UTC offset in force at t).
 */
long long tz_wall(const struct tz *z, long long t);

/*
 * tz_resolve(z, w):
 * The instant of wall time ${w} (as tz_wall counts it): its first
 * occurrence when the wall time repeats (fall back), or the instant the
 * clocks jump when it falls into a gap (spring forward).  Never decreases
 * as ${w} grows.
 */
long long tz_resolve(const struct tz *z, long long w);

/*
 * tz_offset_span(z):
 * The largest UTC offset of ${z} minus its smallest, in seconds: how far a
 * wall-time search must start beyond an instant not to miss a repeated
 * hour.
 */
long tz_offset_span(const struct tz *z);

/* Calendar arithmetic (days since 1970-01-01, proleptic Gregorian). */

/* tz_floordiv(a, b): ${a} / ${b} rounded towards minus infinity (b > 0). */
long long tz_floordiv(long long a, long long b);

/* tz_days_from_civil(y, m, d): the day number of ${y}-${m}-${d}. */
long long tz_days_from_civil(long long y, int m, int d);

/* tz_civil_from_days(days, y, m, d): the date of day number ${days}. */
void tz_civil_from_days(long long days, long long *y, int *m, int *d);

/* tz_weekday(days): the weekday of day number ${days}, Sunday = 0. */
int tz_weekday(long long days);

#endif
