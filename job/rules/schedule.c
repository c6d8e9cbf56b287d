/*
 * schedule.c -- cron and @every schedules, and their slots in a time zone.
 *
 * A schedule is parsed once into bit sets (one bit per allowed minute, hour,
 * day of month, month, weekday).  Slots are wall-clock times: a cron slot is
 * a local calendar minute that matches every field, and its instant is found
 * by converting that wall time back to UTC in the pool's time zone.
 *
 * Time zones come from the system tz database (TZif files under
 * /usr/share/zoneinfo, or $TZDIR), parsed here rather than through
 * setenv("TZ") + localtime_r: that would change process-wide state under a
 * run whose pools proceed in parallel.  We read the 64-bit (v2+) section --
 * transition instants and their UTC offsets -- and the POSIX TZ footer
 * ("CET-1CEST,M3.5.0,M10.5.0/3"), which gives the rule for every instant
 * after the last listed transition; slim tzdata files stop listing
 * transitions early, so future dates depend on the footer.  Loaded zones are
 * immutable and kept in a small mutex-guarded cache for the process's
 * lifetime.  Leap-second records ("right/" zones) are ignored: our times are
 * POSIX times.
 *
 * Wall time to UTC (resolve) is the delicate part.  A wall time w is valid
 * at instant t when t + offset(t) == w.  The candidates are w minus each
 * offset in force near w; the earliest valid one is the first occurrence
 * (fall back: the repeated hour is one slot, at its first occurrence).  When
 * none is valid, w lies in a spring-forward gap and the slot is the instant
 * the clocks jump, found by bisection (02:30 in Europe/Berlin on the
 * spring-forward day resolves to 03:00 CEST).  resolve() never decreases as
 * w grows, so searching wall times in order searches slots in order, and
 * two wall times that resolve to the same instant are one slot.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/base/util.h"

#define SECS_PER_DAY 86400LL
/* Searches give up after five years (plus leap days and slack). */
#define SEARCH_DAYS (5 * 366 + 2)
/* Times beyond +-300,000 years are refused rather than overflowed. */
#define TIME_LIMIT 10000000000000LL
#define TZ_FILE_MAX (1024 * 1024)
#define TZ_NAME_MAX 128
#define ZONE_CACHE_MAX 32
/* The longest @every period: ten years (and no overflow in slot sums). */
#define EVERY_MAX (3650 * SECS_PER_DAY)

/* Floor division, for times before the epoch. */
static long long
floordiv(long long a, long long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(long long y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m == 2 && is_leap(y)) ? 29 : mdays[m - 1];
}

/* Weekday (0 = Sunday) of a day number; 1970-01-01 was a Thursday. */
static int
weekday(long long days)
{
	return (int)((days % 7 + 11) % 7);
}

/* ------------------------------------------------------------------ */
/* Time zones                                                          */
/* ------------------------------------------------------------------ */

/* A POSIX TZ date rule: "Jn", "n" or "Mm.w.d", plus a time of day. */
struct tz_rule {
	char kind; /* 'J', 'D' (zero-based day), 'M' */
	int day; /* J: 1-365, D: 0-365, M: weekday 0-6 */
	int week; /* M: 1-5 */
	int month; /* M: 1-12 */
	long secs; /* local time of day; may be negative or past 24h */
};

struct zone {
	char name[TZ_NAME_MAX];
	long long *trans; /* transition instants, ascending */
	unsigned char *idx; /* type of each transition */
	size_t ntrans;
	long *offs; /* UTC offset of each type, seconds east */
	unsigned char *isdst; /* per type */
	size_t ntypes;
	int has_footer; /* a POSIX rule follows the last transition */
	long std_off, dst_off; /* footer offsets, seconds east */
	int has_dst;
	struct tz_rule start, end;
	long min_off, max_off; /* over every type and the footer */
};

static long utc_offs[1] = {0};
static unsigned char utc_isdst[1] = {0};
static struct zone zone_utc = {
    .name = "UTC", .offs = utc_offs, .isdst = utc_isdst, .ntypes = 1};

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct zone *zone_cache[ZONE_CACHE_MAX];
static size_t zone_ncache;

static void
zone_free(struct zone *z)
{
	if (z == NULL || z == &zone_utc)
		return;
	free(z->trans);
	free(z->idx);
	free(z->offs);
	free(z->isdst);
	free(z);
}

/* The instant, in year ${y}, at which rule ${r} fires (local, as UTC). */
static long long
rule_wall(long long y, const struct tz_rule *r)
{
	long long days;

	switch (r->kind) {
	case 'J':
		days = days_from_civil(y, 1, 1) + r->day - 1;
		if (is_leap(y) && r->day >= 60)
			days++;
		break;
	case 'D':
		days = days_from_civil(y, 1, 1) + r->day;
		break;
	default: {
		long long first = days_from_civil(y, r->month, 1);
		int d =
		    1 + (r->day - weekday(first) + 7) % 7 + (r->week - 1) * 7;

		while (d > month_days(y, r->month))
			d -= 7;
		days = first + d - 1;
		break;
	}
	}
	return days * SECS_PER_DAY + r->secs;
}

/* The footer rule's offset at ${t}. */
static long
footer_offset(const struct zone *z, long long t, int *isdst)
{
	long long y, s, e;
	int m, d, dst;

	*isdst = 0;
	if (!z->has_dst)
		return z->std_off;
	civil_from_days(floordiv(t + z->std_off, SECS_PER_DAY), &y, &m, &d);
	/* The start time is given in standard time, the end in DST. */
	s = rule_wall(y, &z->start) - z->std_off;
	e = rule_wall(y, &z->end) - z->dst_off;
	if (s < e)
		dst = t >= s && t < e;
	else
		dst = !(t >= e && t < s);
	*isdst = dst;
	return dst ? z->dst_off : z->std_off;
}

/* The UTC offset in force at instant ${t}. */
static long
zone_offset(const struct zone *z, long long t, int *isdst)
{
	size_t lo, hi;
	int dummy;

	if (isdst == NULL)
		isdst = &dummy;
	if (z->ntrans == 0 || t < z->trans[0]) {
		if (z->ntrans == 0 && z->has_footer)
			return footer_offset(z, t, isdst);
		/* RFC 8536: type 0 applies before the first transition. */
		*isdst = z->isdst[0];
		return z->offs[0];
	}
	if (t >= z->trans[z->ntrans - 1] && z->has_footer)
		return footer_offset(z, t, isdst);
	lo = 0;
	hi = z->ntrans; /* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*isdst = z->isdst[z->idx[lo]];
	return z->offs[z->idx[lo]];
}

static long long
wall_of(const struct zone *z, long long t)
{
	return t + zone_offset(z, t, NULL);
}

/*
 * The slot instant of wall time ${w} (seconds since the epoch, as if UTC):
 * its first occurrence, or the end of the gap it falls into.
 */
static long long
resolve(const struct zone *z, long long w)
{
	long long lo = w - z->max_off, hi = w - z->min_off;
	long long best = 0, a, b;
	long cand[4];
	int found = 0;

	cand[0] = zone_offset(z, lo, NULL);
	cand[1] = zone_offset(z, hi, NULL);
	cand[2] = zone_offset(z, w - cand[0], NULL);
	cand[3] = zone_offset(z, w - cand[1], NULL);
	for (int i = 0; i < 4; i++) {
		long long t = w - cand[i];

		if (zone_offset(z, t, NULL) != cand[i])
			continue;
		if (!found || t < best)
			best = t;
		found = 1;
	}
	if (found)
		return best;
	/*
	 * A gap: bisect for the first instant whose wall time is past ${w}.
	 * wall(lo) <= w since offset(lo) <= max_off; wall(hi + 1) > w since
	 * offset(hi + 1) >= min_off.
	 */
	a = lo;
	b = hi + 1;
	while (b - a > 1) {
		long long mid = a + (b - a) / 2;

		if (wall_of(z, mid) > w)
			b = mid;
		else
			a = mid;
	}
	return b;
}

/* Parse [+-]hh[:mm[:ss]] (hours up to 167, RFC 8536) into seconds. */
static int
posix_hms(const char **pp, long *out)
{
	const char *p = *pp;
	long sign = 1, h = 0, m = 0, s = 0;
	int n = 0;

	if (*p == '+' || *p == '-') {
		sign = (*p == '-') ? -1 : 1;
		p++;
	}
	while (isdigit((unsigned char)*p) && n < 3) {
		h = h * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || h > 167)
		return -1;
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)p[0]) ||
		    !isdigit((unsigned char)p[1]))
			return -1;
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':') {
			p++;
			if (!isdigit((unsigned char)p[0]) ||
			    !isdigit((unsigned char)p[1]))
				return -1;
			s = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
	}
	if (m > 59 || s > 59)
		return -1;
	*out = sign * (h * 3600 + m * 60 + s);
	*pp = p;
	return 0;
}

/* Skip a zone abbreviation: "CET" or "<+0330>". */
static int
posix_name(const char **pp)
{
	const char *p = *pp;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p != '>')
			return -1;
		p++;
	} else {
		while (isalpha((unsigned char)*p))
			p++;
		if (p == *pp)
			return -1;
	}
	*pp = p;
	return 0;
}

static int
posix_number(const char **pp, int min, int max, int *out)
{
	const char *p = *pp;
	int v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	*pp = p;
	return 0;
}

static int
posix_rule(const char **pp, struct tz_rule *r)
{
	const char *p = *pp;

	memset(r, 0, sizeof(*r));
	r->secs = 7200;
	if (*p == 'J') {
		p++;
		r->kind = 'J';
		if (posix_number(&p, 1, 365, &r->day))
			return -1;
	} else if (*p == 'M') {
		p++;
		r->kind = 'M';
		if (posix_number(&p, 1, 12, &r->month) || *p++ != '.' ||
		    posix_number(&p, 1, 5, &r->week) || *p++ != '.' ||
		    posix_number(&p, 0, 6, &r->day))
			return -1;
	} else {
		r->kind = 'D';
		if (posix_number(&p, 0, 365, &r->day))
			return -1;
	}
	if (*p == '/') {
		p++;
		if (posix_hms(&p, &r->secs))
			return -1;
	}
	*pp = p;
	return 0;
}

/* Parse the TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3". */
static int
posix_tz(const char *s, struct zone *z)
{
	const char *p = s;
	long off;

	if (posix_name(&p) || posix_hms(&p, &off))
		return -1;
	z->std_off = -off; /* POSIX offsets count west of Greenwich */
	z->dst_off = z->std_off;
	if (*p == '\0')
		return 0;
	if (posix_name(&p))
		return -1;
	z->has_dst = 1;
	z->dst_off = z->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if (posix_hms(&p, &off))
			return -1;
		z->dst_off = -off;
	}
	if (*p == '\0') {
		/* No rule: POSIX leaves it to the implementation; US rules. */
		z->start = (struct tz_rule){'M', 0, 2, 3, 7200};
		z->end = (struct tz_rule){'M', 0, 1, 11, 7200};
		return 0;
	}
	if (*p++ != ',' || posix_rule(&p, &z->start) || *p++ != ',' ||
	    posix_rule(&p, &z->end) || *p != '\0')
		return -1;
	return 0;
}

static unsigned long
be32(const unsigned char *p)
{
	return ((unsigned long)p[0] << 24) | ((unsigned long)p[1] << 16) |
	    ((unsigned long)p[2] << 8) | (unsigned long)p[3];
}

static long long
be64(const unsigned char *p)
{
	unsigned long long v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (long long)v;
}

/* Parse a TZif file (RFC 8536) into ${z}.  0 or -1. */
static int
tzif_parse(const unsigned char *data, size_t len, struct zone *z)
{
	const unsigned char *p = data, *end = data + len;
	unsigned long cnt[6]; /* isut, isstd, leap, time, type, char */
	size_t tsize = 4, need;
	int version;

	if (len < 44 || memcmp(data, "TZif", 4) != 0)
		return -1;
	version = data[4];
	for (int pass = 0; pass < 2; pass++) {
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			return -1;
		for (int i = 0; i < 6; i++)
			cnt[i] = be32(p + 20 + 4 * i);
		p += 44;
		if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 ||
		    cnt[5] > 100000 || cnt[2] > 100000 || cnt[0] > 256 ||
		    cnt[1] > 256)
			return -1;
		need = cnt[3] * tsize + cnt[3] + cnt[4] * 6 + cnt[5] +
		    cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
		if ((size_t)(end - p) < need)
			return -1;
		if (pass == 0 && version >= '2') {
			p += need; /* skip the 32-bit data */
			tsize = 8;
			continue;
		}
		break;
	}
	z->ntrans = cnt[3];
	z->ntypes = cnt[4];
	z->trans = calloc(z->ntrans + 1, sizeof(*z->trans));
	z->idx = calloc(z->ntrans + 1, 1);
	z->offs = calloc(z->ntypes, sizeof(*z->offs));
	z->isdst = calloc(z->ntypes, 1);
	if (z->trans == NULL || z->idx == NULL || z->offs == NULL ||
	    z->isdst == NULL)
		return -1;
	for (size_t i = 0; i < z->ntrans; i++) {
		if (tsize == 8)
			z->trans[i] = be64(p + 8 * i);
		else
			z->trans[i] = (long long)(int32_t)be32(p + 4 * i);
		if (i > 0 && z->trans[i] <= z->trans[i - 1])
			return -1;
	}
	p += z->ntrans * tsize;
	for (size_t i = 0; i < z->ntrans; i++) {
		z->idx[i] = p[i];
		if (p[i] >= z->ntypes)
			return -1;
	}
	p += z->ntrans;
	for (size_t i = 0; i < z->ntypes; i++) {
		long off = (long)(int32_t)be32(p + 6 * i);

		if (off < -26 * 3600 || off > 26 * 3600)
			return -1;
		z->offs[i] = off;
		z->isdst[i] = p[6 * i + 4] != 0;
	}
	p += z->ntypes * 6 + cnt[5] + cnt[2] * (tsize + 4) + cnt[1] + cnt[0];
	if (tsize == 8 && p < end && *p == '\n') {
		const unsigned char *nl =
		    memchr(p + 1, '\n', (size_t)(end - p - 1));
		char footer[128];
		size_t flen;

		if (nl == NULL)
			return -1;
		flen = (size_t)(nl - p - 1);
		if (flen > 0) {
			if (flen >= sizeof(footer))
				return -1;
			memcpy(footer, p + 1, flen);
			footer[flen] = '\0';
			if (posix_tz(footer, z))
				return -1;
			z->has_footer = 1;
		}
	}
	z->min_off = z->max_off = z->offs[0];
	for (size_t i = 0; i < z->ntypes; i++) {
		if (z->offs[i] < z->min_off)
			z->min_off = z->offs[i];
		if (z->offs[i] > z->max_off)
			z->max_off = z->offs[i];
	}
	if (z->has_footer) {
		long o[2] = {z->std_off, z->dst_off};

		for (int i = 0; i < 2; i++) {
			if (o[i] < -26 * 3600 || o[i] > 26 * 3600)
				return -1;
			if (o[i] < z->min_off)
				z->min_off = o[i];
			if (o[i] > z->max_off)
				z->max_off = o[i];
		}
	}
	return 0;
}

/* A name we are willing to look up under the zoneinfo directory. */
static int
tz_name_ok(const char *tz)
{
	size_t n = strlen(tz);

	if (n == 0 || n >= TZ_NAME_MAX || tz[0] == '/' || strstr(tz, "..") ||
	    tz[n - 1] == '/')
		return 0;
	for (const char *p = tz; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("/_-+.", *p) == NULL)
			return 0;
	}
	return 1;
}

static struct zone *
zone_load(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[4096], err[256];
	char *data = NULL;
	size_t len = 0;
	struct zone *z;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, tz) >=
	    sizeof(path))
		return NULL;
	if (util_read_file(path, TZ_FILE_MAX, &data, &len, err, sizeof(err)))
		return NULL;
	z = calloc(1, sizeof(*z));
	if (z == NULL)
		goto err0;
	util_strlcpy(z->name, tz, sizeof(z->name));
	if (tzif_parse((const unsigned char *)data, len, z))
		goto err1;
	free(data);
	return z;

err1:
	zone_free(z);
err0:
	free(data);
	return NULL;
}

/*
 * The zone named ${tz}, or NULL.  Zones are cached; when the cache is full
 * the zone is returned with ${*owned} set and the caller frees it.
 */
static struct zone *
zone_get(const char *tz, int *owned)
{
	struct zone *z = NULL;

	*owned = 0;
	if (tz == NULL || *tz == '\0' || strcmp(tz, "UTC") == 0)
		return &zone_utc;
	if (!tz_name_ok(tz))
		return NULL;
	pthread_mutex_lock(&zone_lock);
	for (size_t i = 0; i < zone_ncache; i++) {
		if (strcmp(zone_cache[i]->name, tz) == 0) {
			z = zone_cache[i];
			break;
		}
	}
	pthread_mutex_unlock(&zone_lock);
	if (z != NULL)
		return z;

	z = zone_load(tz);
	if (z == NULL)
		return NULL;
	pthread_mutex_lock(&zone_lock);
	for (size_t i = 0; i < zone_ncache; i++) {
		if (strcmp(zone_cache[i]->name, tz) == 0) {
			/* Another thread loaded it meanwhile. */
			zone_free(z);
			z = zone_cache[i];
			pthread_mutex_unlock(&zone_lock);
			return z;
		}
	}
	if (zone_ncache < ZONE_CACHE_MAX)
		zone_cache[zone_ncache++] = z;
	else
		*owned = 1;
	pthread_mutex_unlock(&zone_lock);
	return z;
}

static void
zone_put(struct zone *z, int owned)
{
	if (owned)
		zone_free(z);
}

int
schedule_tz_valid(const char *tz)
{
	struct zone *z;
	int owned;

	if (tz == NULL || *tz == '\0')
		return 0;
	z = zone_get(tz, &owned);
	if (z == NULL)
		return 0;
	zone_put(z, owned);
	return 1;
}

int
schedule_tz_localtime(const char *tz, time_t t, struct tm *out)
{
	struct zone *z;
	long long w, days, y;
	long off;
	int owned, isdst, m, d, sod;

	if ((long long)t > TIME_LIMIT || (long long)t < -TIME_LIMIT)
		return -1;
	z = zone_get(tz, &owned);
	if (z == NULL)
		return -1;
	off = zone_offset(z, (long long)t, &isdst);
	zone_put(z, owned);
	w = (long long)t + off;
	days = floordiv(w, SECS_PER_DAY);
	sod = (int)(w - days * SECS_PER_DAY);
	civil_from_days(days, &y, &m, &d);
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(y - 1900);
	out->tm_mon = m - 1;
	out->tm_mday = d;
	out->tm_hour = sod / 3600;
	out->tm_min = sod % 3600 / 60;
	out->tm_sec = sod % 60;
	out->tm_wday = weekday(days);
	out->tm_yday = (int)(days - days_from_civil(y, 1, 1));
	out->tm_isdst = isdst;
	out->tm_gmtoff = off;
	return 0;
}

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

	civil_from_days(days, &y, &m, &d);
	if (!(s->months & (1u << m)))
		return 0;
	md = (s->mdays >> d) & 1;
	wd = (s->wdays >> weekday(days)) & 1;
	if (s->mday_restricted && s->wday_restricted)
		return md || wd;
	return md && wd;
}

/* The latest cron slot <= as_of. */
static int
cron_prev(const struct schedule *s, const struct zone *z, long long as_of,
    long long *slot)
{
	long long start, d0, sod;
	int h0, m0;

	start = wall_of(z, as_of) + (z->max_off - z->min_off);
	d0 = floordiv(start, SECS_PER_DAY);
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
				r = resolve(
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
cron_next(const struct schedule *s, const struct zone *z, long long after,
    long long *slot)
{
	long long start, d0, sod;
	int h0, m0;

	start = wall_of(z, after) - (z->max_off - z->min_off);
	d0 = floordiv(start, SECS_PER_DAY);
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
				r = resolve(
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
find_slot(
    const struct schedule *s, const char *tz, time_t t, int dir, time_t *slot)
{
	struct zone *z;
	long long r = 0;
	int owned, rc;

	if ((long long)t > TIME_LIMIT || (long long)t < -TIME_LIMIT)
		return -1;
	z = zone_get(tz, &owned);
	if (z == NULL)
		return -1;
	if (s->every) {
		long long p = s->every_secs;

		rc = p > 0 ? 0 : -1;
		if (rc == 0)
			r = (floordiv((long long)t, p) + (dir > 0)) * p;
	} else if (dir < 0) {
		rc = cron_prev(s, z, (long long)t, &r);
	} else {
		rc = cron_next(s, z, (long long)t, &r);
	}
	zone_put(z, owned);
	if (rc == 0)
		*slot = (time_t)r;
	return rc;
}

int
schedule_current_slot(
    const struct schedule *s, const char *tz, time_t as_of, time_t *slot)
{
	return find_slot(s, tz, as_of, -1, slot);
}

int
schedule_next_slot(
    const struct schedule *s, const char *tz, time_t after, time_t *slot)
{
	return find_slot(s, tz, after, 1, slot);
}

long long
schedule_interval(const struct schedule *s, const char *tz, time_t as_of)
{
	time_t cur, prev;

	if (schedule_current_slot(s, tz, as_of, &cur))
		return -1;
	if (schedule_current_slot(s, tz, cur - 1, &prev))
		return -1;
	return (long long)(cur - prev);
}
