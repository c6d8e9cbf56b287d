/*
 * schedule.c -- cron and @every schedules, and their slots in a time zone.
 *
 * A schedule is parsed once into bit sets (one bit per allowed minute, hour,
 * day of month, month, weekday).  Slots are wall-clock times: a cron slot is
 * a local calendar minute that matches every field, and its instant is found
 * by converting that wall time back to UTC in the pool's time zone.
 *
 * Time zones are loaded once with the configuration (job/base/tz.h) and
 * passed in; this file only asks a zone for the wall time of an instant and
 * the instant of a wall time (tz_resolve: a repeated wall time is its first
 * occurrence, a skipped one the instant the clocks jump).  tz_resolve never
 * decreases as the wall time grows, so searching wall times in order
 * searches slots in order, and two wall times that resolve to the same
 * instant are one slot.  A NULL zone is UTC.
 *
 * The search steps over local days (skipping those whose month, day of
 * month and weekday do not match), then the allowed hours, then the allowed
 * minutes, so even "0 0 29 2 *" costs a few thousand cheap day tests.  It
 * starts a little past the wall time of the boundary instant (by the span of
 * the zone's offsets, so that a fall-back hour is not missed) and gives up
 * after five years.
 */
#include "job/rules/schedule.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/base/tz.h"
#include "job/base/util.h"

#define SECS_PER_DAY 86400LL
/* Searches give up after five years (plus leap days and slack). */
#define SEARCH_DAYS (5 * 366 + 2)
/* Times beyond +-300,000 years are refused rather than overflowed. */
#define TIME_LIMIT 10000000000000LL
/* The longest @every period: ten years (and no overflow in slot sums). */
#define EVERY_MAX (3650 * SECS_PER_DAY)

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static const char *const field_names[5] = {
    "minute", "hour", "day-of-month", "month", "day-of-week"};
static const int field_min[5] = {0, 0, 1, 1, 0};
static const int field_max[5] = {59, 23, 31, 12, 7};
static const char *const month_names[12] = {"jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const wday_names[7] = {
    "sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* Where the parser is, for error messages. */
struct field_ctx {
	const char *expr; /* the whole expression */
	int field; /* 0-4 */
	char *err;
	size_t errlen;
};

static int
field_error(const struct field_ctx *c, const char *at, const char *what)
{
	snprintf(c->err, c->errlen, "field %d (%s), position %zu: %s",
	    c->field + 1, field_names[c->field], (size_t)(at - c->expr) + 1,
	    what);
	return -1;
}

/* A number or (month and weekday fields) a three-letter name. */
static int
field_value(
    const struct field_ctx *c, const char **pp, const char *end, int *out)
{
	const char *p = *pp, *start = *pp;
	char msg[160];
	long long v = 0;

	if (p < end && isdigit((unsigned char)*p)) {
		while (p < end && isdigit((unsigned char)*p)) {
			if (v < 1000000)
				v = v * 10 + (*p - '0');
			p++;
		}
		if (v < field_min[c->field] || v > field_max[c->field]) {
			snprintf(msg, sizeof(msg), "%lld is out of range %d-%d",
			    v, field_min[c->field], field_max[c->field]);
			return field_error(c, start, msg);
		}
		*out = (int)v;
		*pp = p;
		return 0;
	}
	if (p < end && isalpha((unsigned char)*p)) {
		const char *const *names = NULL;
		int nnames = 0, base = 0;

		while (p < end && isalpha((unsigned char)*p))
			p++;
		if (c->field == 3) {
			names = month_names;
			nnames = 12;
			base = 1;
		} else if (c->field == 4) {
			names = wday_names;
			nnames = 7;
		}
		for (int i = 0; i < nnames && p - start == 3; i++) {
			if (strncasecmp(start, names[i], 3) == 0) {
				*out = base + i;
				*pp = p;
				return 0;
			}
		}
		snprintf(msg, sizeof(msg), "unknown name \"%.*s\"",
		    (int)(p - start > 20 ? 20 : p - start), start);
		return field_error(c, start, msg);
	}
	if (p >= end)
		return field_error(c, start, "expected a number");
	snprintf(msg, sizeof(msg), "unexpected '%c', expected a number", *p);
	return field_error(c, start, msg);
}

/*
 * Parse one field, expr[off, off + len), into ${bits}.  Elements: "*",
 * "a", "a-b", each optionally "/step"; "a/step" means "a-max/step" (as in
 * cronie).  Lists join elements with commas.
 */
static int
field_parse(
    const struct field_ctx *c, const char *f, size_t len, uint64_t *bits)
{
	const char *p = f, *end = f + len;
	char msg[160];

	*bits = 0;
	for (;;) {
		const char *elem = p;
		int lo, hi, step = 1, star = 0;

		if (p < end && *p == '*') {
			p++;
			star = 1;
			lo = field_min[c->field];
			/* "*" in day-of-week is 0-6; 7 only by name. */
			hi = c->field == 4 ? 6 : field_max[c->field];
		} else {
			if (p >= end || *p == ',')
				return field_error(c, p, "empty list element");
			if (field_value(c, &p, end, &lo))
				return -1;
			hi = lo;
			if (p < end && *p == '-') {
				p++;
				if (field_value(c, &p, end, &hi))
					return -1;
				if (hi < lo) {
					snprintf(msg, sizeof(msg),
					    "range %d-%d is reversed", lo, hi);
					return field_error(c, elem, msg);
				}
			}
		}
		if (p < end && *p == '/') {
			const char *sp = ++p;
			long long v = 0;

			if (p >= end || !isdigit((unsigned char)*p))
				return field_error(c, sp, "expected a step");
			while (p < end && isdigit((unsigned char)*p)) {
				if (v < 1000000)
					v = v * 10 + (*p - '0');
				p++;
			}
			if (v < 1 || v > field_max[c->field]) {
				snprintf(msg, sizeof(msg),
				    "step %lld is out of range 1-%d", v,
				    field_max[c->field]);
				return field_error(c, sp, msg);
			}
			step = (int)v;
			if (!star && hi == lo)
				hi = field_max[c->field];
		}
		for (int v = lo; v <= hi; v += step)
			*bits |= (uint64_t)1 << v;
		if (p >= end)
			break;
		if (*p != ',') {
			snprintf(msg, sizeof(msg), "unexpected '%c'", *p);
			return field_error(c, p, msg);
		}
		p++;
		if (p >= end)
			return field_error(c, p, "empty list element");
	}
	return 0;
}

static int
parse_keyword(const char *expr, const char *kw, struct schedule *s, char *err,
    size_t errlen)
{
	static const struct {
		const char *name;
		const char *cron;
	} macros[] = {
	    {"@hourly", "0 * * * *"},
	    {"@daily", "0 0 * * *"},
	    {"@midnight", "0 0 * * *"},
	    {"@weekly", "0 0 * * 0"},
	    {"@monthly", "0 0 1 * *"},
	    {"@yearly", "0 0 1 1 *"},
	    {"@annually", "0 0 1 1 *"},
	};
	size_t kwlen = strcspn(kw, " \t");
	const char *rest = kw + kwlen;
	char dur[64];
	size_t dlen;

	rest += strspn(rest, " \t");
	if (kwlen == 6 && strncasecmp(kw, "@every", 6) == 0) {
		dlen = strcspn(rest, " \t");
		if (dlen == 0) {
			snprintf(err, errlen, "@every needs a duration");
			return -1;
		}
		if (rest[dlen + strspn(rest + dlen, " \t")] != '\0') {
			snprintf(err, errlen, "@every takes one duration");
			return -1;
		}
		if (dlen < sizeof(dur)) {
			memcpy(dur, rest, dlen);
			dur[dlen] = '\0';
		}
		if (dlen >= sizeof(dur) ||
		    util_parse_duration(dur, &s->every_secs)) {
			snprintf(err, errlen,
			    "@every: \"%.*s\" is not a duration (e.g. 6h)",
			    (int)(dlen > 32 ? 32 : dlen), rest);
			return -1;
		}
		if (s->every_secs < 60 || s->every_secs > EVERY_MAX) {
			snprintf(err, errlen,
			    "@every: the period must be between 60s and 3650d");
			return -1;
		}
		s->every = 1;
		return 0;
	}
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strlen(macros[i].name) != kwlen ||
		    strncasecmp(kw, macros[i].name, kwlen) != 0)
			continue;
		if (*rest != '\0') {
			snprintf(err, errlen, "%s takes no argument",
			    macros[i].name);
			return -1;
		}
		if (schedule_parse(macros[i].cron, s, err, errlen))
			return -1;
		util_strlcpy(s->text, expr, sizeof(s->text));
		return 0;
	}
	snprintf(err, errlen, "unknown keyword \"%.*s\"",
	    (int)(kwlen > 20 ? 20 : kwlen), kw);
	return -1;
}

int
schedule_parse(const char *expr, struct schedule *out, char *err, size_t errlen)
{
	struct schedule s;
	struct field_ctx c = {expr, 0, err, errlen};
	const char *starts[5], *p;
	size_t lens[5];
	uint64_t bits[5];
	int nfields = 0;

	memset(&s, 0, sizeof(s));
	if (expr == NULL) {
		snprintf(err, errlen, "no schedule");
		return -1;
	}
	if (strlen(expr) >= sizeof(s.text)) {
		snprintf(err, errlen,
		    "schedule is too long (at most %zu bytes)",
		    sizeof(s.text) - 1);
		return -1;
	}
	util_strlcpy(s.text, expr, sizeof(s.text));
	p = expr + strspn(expr, " \t");
	if (*p == '@') {
		if (parse_keyword(expr, p, &s, err, errlen))
			return -1;
		*out = s;
		return 0;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, " \t");

		if (nfields < 5) {
			starts[nfields] = p;
			lens[nfields] = n;
		}
		nfields++;
		p += n;
		p += strspn(p, " \t");
	}
	if (nfields != 5) {
		snprintf(err, errlen, "expected 5 fields, got %d", nfields);
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		c.field = i;
		if (field_parse(&c, starts[i], lens[i], &bits[i]))
			return -1;
	}
	s.minutes = bits[0];
	s.hours = (uint32_t)bits[1];
	s.mdays = (uint32_t)bits[2];
	s.months = (uint16_t)bits[3];
	if (bits[4] & (1u << 7))
		bits[4] = (bits[4] | 1u) & ~(uint64_t)(1u << 7);
	s.wdays = (uint8_t)bits[4];
	/* Restricted means anything but a bare "*" ("*\/2" restricts). */
	s.mday_restricted = !(lens[2] == 1 && starts[2][0] == '*');
	s.wday_restricted = !(lens[4] == 1 && starts[4][0] == '*');
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

static int
day_matches(const struct schedule *s, long long days)
{
	long long y;
	int m, d, md, wd;

	tz_civil_from_days(days, &y, &m, &d);
	if (!(s->months & (1u << m)))
		return 0;
	md = (s->mdays >> d) & 1;
	wd = (s->wdays >> tz_weekday(days)) & 1;
	if (s->mday_restricted && s->wday_restricted)
		return md || wd;
	return md && wd;
}

/* The latest cron slot <= as_of. */
static int
cron_prev(const struct schedule *s, const struct tz *z, long long as_of,
    long long *slot)
{
	long long start, d0, sod;
	int h0, m0;

	start = tz_wall(z, as_of) + tz_offset_span(z);
	d0 = tz_floordiv(start, SECS_PER_DAY);
	sod = start - d0 * SECS_PER_DAY;
	h0 = (int)(sod / 3600);
	m0 = (int)(sod % 3600 / 60);
	for (long long d = d0; d >= d0 - SEARCH_DAYS; d--) {
		if (!day_matches(s, d))
			continue;
		for (int h = (d == d0) ? h0 : 23; h >= 0; h--) {
			if (!((s->hours >> h) & 1))
				continue;
			for (int m = (d == d0 && h == h0) ? m0 : 59; m >= 0;
			     m--) {
				long long r;

				if (!((s->minutes >> m) & 1))
					continue;
				r = tz_resolve(
				    z, d * SECS_PER_DAY + h * 3600 + m * 60);
				if (r <= as_of) {
					*slot = r;
					return 0;
				}
			}
		}
	}
	return -1;
}

/* The earliest cron slot > after. */
static int
cron_next(const struct schedule *s, const struct tz *z, long long after,
    long long *slot)
{
	long long start, d0, sod;
	int h0, m0;

	start = tz_wall(z, after) - tz_offset_span(z);
	d0 = tz_floordiv(start, SECS_PER_DAY);
	sod = start - d0 * SECS_PER_DAY;
	h0 = (int)(sod / 3600);
	m0 = (int)(sod % 3600 / 60);
	for (long long d = d0; d <= d0 + SEARCH_DAYS; d++) {
		if (!day_matches(s, d))
			continue;
		for (int h = (d == d0) ? h0 : 0; h < 24; h++) {
			if (!((s->hours >> h) & 1))
				continue;
			for (int m = (d == d0 && h == h0) ? m0 : 0; m < 60;
			     m++) {
				long long r;

				if (!((s->minutes >> m) & 1))
					continue;
				r = tz_resolve(
				    z, d * SECS_PER_DAY + h * 3600 + m * 60);
				if (r > after) {
					*slot = r;
					return 0;
				}
			}
		}
	}
	return -1;
}

/* dir < 0: latest slot <= t; dir > 0: earliest slot > t. */
static int
find_slot(const struct schedule *s, const struct tz *z, time_t t, int dir,
    time_t *slot)
{
	long long r = 0;
	int rc;

	if ((long long)t > TIME_LIMIT || (long long)t < -TIME_LIMIT)
		return -1;
	if (s->every) {
		long long p = s->every_secs;

		rc = p > 0 ? 0 : -1;
		if (rc == 0)
			r = (tz_floordiv((long long)t, p) + (dir > 0)) * p;
	} else if (dir < 0) {
		rc = cron_prev(s, z, (long long)t, &r);
	} else {
		rc = cron_next(s, z, (long long)t, &r);
	}
	if (rc == 0)
		*slot = (time_t)r;
	return rc;
}

int
schedule_current_slot(
    const struct schedule *s, const struct tz *tz, time_t as_of, time_t *slot)
{
	return find_slot(s, tz, as_of, -1, slot);
}

int
schedule_next_slot(
    const struct schedule *s, const struct tz *tz, time_t after, time_t *slot)
{
	return find_slot(s, tz, after, 1, slot);
}

long long
schedule_interval(const struct schedule *s, const struct tz *tz, time_t as_of)
{
	time_t cur, prev;

	if (schedule_current_slot(s, tz, as_of, &cur))
		return -1;
	if (schedule_current_slot(s, tz, cur - 1, &prev))
		return -1;
	return (long long)(cur - prev);
}
