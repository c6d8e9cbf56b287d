/*
 * tz.c -- IANA time zones: TZif files (RFC 8536) and their POSIX footers.
 *
 * Zones come from the system tz database (TZif files under
 * /usr/share/zoneinfo, or $TZDIR), parsed here rather than through
 * setenv("TZ") + localtime_r: that would change process-wide state under a
 * run whose pools proceed in parallel.  We read the 64-bit (v2+) section --
 * transition instants and their UTC offsets -- and the POSIX TZ footer
 * ("CET-1CEST,M3.5.0,M10.5.0/3"), which gives the rule for every instant
 * after the last listed transition; slim tzdata files stop listing
 * transitions early, so future dates depend on the footer.  Leap-second
 * records ("right/" zones) are ignored: our times are POSIX times.
 *
 * A zone is read once, by tz_load when the configuration is loaded, and is
 * immutable afterwards: the pure code (schedule, retention, the report)
 * receives it and only queries it, so there is no cache and no lock.
 *
 * Wall time to UTC (tz_resolve) is the delicate part.  A wall time w is
 * valid at instant t when t + offset(t) == w.  The candidates are w minus
 * each offset in force near w; the earliest valid one is the first
 * occurrence (fall back: the repeated hour is one slot, at its first
 * occurrence).  When none is valid, w lies in a spring-forward gap and the
 * answer is the instant the clocks jump, found by bisection (02:30 in
 * Europe/Berlin on the spring-forward day resolves to 03:00 CEST).
 * tz_resolve never decreases as w grows.
 */
#include "job/base/tz.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/base/util.h"

#define SECS_PER_DAY 86400LL
/* Times beyond +-300,000 years are refused rather than overflowed. */
#define TIME_LIMIT 10000000000000LL
#define TZ_FILE_MAX (1024 * 1024)
#define TZ_NAME_MAX 128

/* Floor division, for times before the epoch. */
long long
tz_floordiv(long long a, long long b)
{
	long long q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
long long
tz_days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
tz_civil_from_days(long long days, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp, z = days + 719468;

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
int
tz_weekday(long long days)
{
	return (int)((days % 7 + 11) % 7);
}

/* A POSIX TZ date rule: "Jn", "n" or "Mm.w.d", plus a time of day. */
struct tz_rule {
	char kind; /* 'J', 'D' (zero-based day), 'M' */
	int day; /* J: 1-365, D: 0-365, M: weekday 0-6 */
	int week; /* M: 1-5 */
	int month; /* M: 1-12 */
	long secs; /* local time of day; may be negative or past 24h */
};

struct tz {
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
/* NULL, for the queries, is this zone. */
static const struct tz tz_utc = {
    .name = "UTC", .offs = utc_offs, .isdst = utc_isdst, .ntypes = 1};

void
tz_free(struct tz *z)
{
	if (z == NULL)
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
		days = tz_days_from_civil(y, 1, 1) + r->day - 1;
		if (is_leap(y) && r->day >= 60)
			days++;
		break;
	case 'D':
		days = tz_days_from_civil(y, 1, 1) + r->day;
		break;
	default: {
		long long first = tz_days_from_civil(y, r->month, 1);
		int d = 1 + (r->day - tz_weekday(first) + 7) % 7 +
		    (r->week - 1) * 7;

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
footer_offset(const struct tz *z, long long t, int *isdst)
{
	long long y, s, e;
	int m, d, dst;

	*isdst = 0;
	if (!z->has_dst)
		return z->std_off;
	tz_civil_from_days(
	    tz_floordiv(t + z->std_off, SECS_PER_DAY), &y, &m, &d);
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
zone_offset(const struct tz *z, long long t, int *isdst)
{
	size_t lo, hi;
	int dummy;

	if (isdst == NULL)
		isdst = &dummy;
	if (z == NULL)
		z = &tz_utc;
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

long long
tz_wall(const struct tz *z, long long t)
{
	return t + zone_offset(z, t, NULL);
}

long long
tz_resolve(const struct tz *z, long long w)
{
	long long lo, hi, best = 0, a, b;
	long cand[4];
	int found = 0;

	if (z == NULL)
		z = &tz_utc;
	lo = w - z->max_off;
	hi = w - z->min_off;

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

		if (tz_wall(z, mid) > w)
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
posix_tz(const char *s, struct tz *z)
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
tzif_parse(const unsigned char *data, size_t len, struct tz *z)
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

struct tz *
tz_parse(const char *name, const void *data, size_t len)
{
	struct tz *z;

	z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	util_strlcpy(z->name, name, sizeof(z->name));
	if (tzif_parse((const unsigned char *)data, len, z)) {
		tz_free(z);
		return NULL;
	}
	return z;
}

/* UTC as a zone of its own, so that every loaded zone is freed alike. */
static struct tz *
utc_new(void)
{
	struct tz *z;

	z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	*z = tz_utc;
	z->offs = calloc(1, sizeof(*z->offs));
	z->isdst = calloc(1, 1);
	if (z->offs == NULL || z->isdst == NULL) {
		tz_free(z);
		return NULL;
	}
	return z;
}

struct tz *
tz_load(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[4096], err[256];
	char *data = NULL;
	size_t len = 0;
	struct tz *z;

	if (name == NULL || !tz_name_ok(name))
		return NULL;
	if (strcmp(name, "UTC") == 0)
		return utc_new();
	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return NULL;
	if (util_read_file(path, TZ_FILE_MAX, &data, &len, err, sizeof(err)))
		return NULL;
	z = tz_parse(name, data, len);
	free(data);
	return z;
}

const char *
tz_name(const struct tz *z)
{
	return z == NULL ? tz_utc.name : z->name;
}

long
tz_offset_span(const struct tz *z)
{
	if (z == NULL)
		return 0;
	return z->max_off - z->min_off;
}

int
tz_localtime(const struct tz *z, time_t t, struct tm *out)
{
	long long w, days, y;
	long off;
	int isdst, m, d, sod;

	if ((long long)t > TIME_LIMIT || (long long)t < -TIME_LIMIT)
		return -1;
	off = zone_offset(z, (long long)t, &isdst);
	w = (long long)t + off;
	days = tz_floordiv(w, SECS_PER_DAY);
	sod = (int)(w - days * SECS_PER_DAY);
	tz_civil_from_days(days, &y, &m, &d);
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(y - 1900);
	out->tm_mon = m - 1;
	out->tm_mday = d;
	out->tm_hour = sod / 3600;
	out->tm_min = sod % 3600 / 60;
	out->tm_sec = sod % 60;
	out->tm_wday = tz_weekday(days);
	out->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
	out->tm_isdst = isdst;
	out->tm_gmtoff = off;
	return 0;
}
