/*
 * versions.c -- ordering Kubernetes and node image versions.
 *
 * Kubernetes: up to three dot-separated whole numbers, compared one by
 * one.  Node images: the suffix after the last '-' is split on '.' into
 * digit runs; the width of the first run tells the form (6 digits:
 * YYYYMM.DD.build, 4 digits: YYYY.MM.DD).  Both give a calendar date
 * (checked: a month 1-12, a day that exists) and a build number, and that
 * pair is the order.  Nothing here reads the clock or allocates.
 */
#include "job/rules/versions.h"

#include <string.h>

#include "job/base/util.h"
#include "job/rules/model.h"

/*
 * Read a run of decimal digits at ${*p} (at most 9), advance ${*p} past
 * it, return its value and store its width in ${*width}; -1 when there is
 * no digit or the run is too long.
 */
static long
digits(const char **p, int *width)
{
	long v = 0;
	int w = 0;

	while (**p >= '0' && **p <= '9') {
		if (w == 9)
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
		w++;
	}
	*width = w;
	return w == 0 ? -1 : v;
}

int
versions_k8s_parse(const char *s, long out[3])
{
	const char *p = s;
	int w, i;

	if (s == NULL)
		return -1;
	if (*p == 'v' || *p == 'V')
		p++;
	out[0] = out[1] = out[2] = 0;
	for (i = 0; i < 3; i++) {
		out[i] = digits(&p, &w);
		if (out[i] < 0)
			return -1;
		if (*p == '\0')
			break;
		if (*p != '.' || i == 2)
			return -1;
		p++;
	}
	/* "1" alone is not a version; "1.30" is. */
	return i >= 1 ? 0 : -1;
}

static int
cmp_long(long a, long b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

int
versions_k8s_compare(const char *a, const char *b, int *cmp)
{
	long va[3], vb[3];

	if (versions_k8s_parse(a, va) || versions_k8s_parse(b, vb))
		return -1;
	*cmp = 0;
	for (int i = 0; i < 3 && *cmp == 0; i++)
		*cmp = cmp_long(va[i], vb[i]);
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
valid_date(int y, int m, int d)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1)
		return 0;
	return d <= mdays[m - 1] + (m == 2 && leap(y));
}

int
versions_image_parse(const char *image, struct versions_image *out)
{
	const char *p, *dash;
	long part[3];
	int width[3], n = 0;

	if (image == NULL)
		return -1;
	dash = strrchr(image, '-');
	p = dash != NULL ? dash + 1 : image;
	while (n < 3) {
		part[n] = digits(&p, &width[n]);
		if (part[n] < 0)
			return -1;
		n++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return -1;
		p++;
	}
	if (*p != '\0' || n != 3)
		return -1;
	if (width[0] == 6 && width[1] == 2) {
		/* 202611.01.0: YYYYMM.DD.build */
		out->year = (int)(part[0] / 100);
		out->month = (int)(part[0] % 100);
		out->day = (int)part[1];
		out->build = part[2];
	} else if (width[0] == 4 && width[1] == 2 && width[2] == 2) {
		/* 2021.09.11: YYYY.MM.DD */
		out->year = (int)part[0];
		out->month = (int)part[1];
		out->day = (int)part[2];
		out->build = 0;
	} else {
		return -1;
	}
	if (!valid_date(out->year, out->month, out->day))
		return -1;
	return 0;
}

int
versions_image_date(const char *image, time_t *out)
{
	struct versions_image v;
	long long days;
	int y, m;

	if (versions_image_parse(image, &v))
		return -1;
	/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
	 * days_from_civil), so no time zone is involved. */
	y = v.year - (v.month <= 2);
	m = v.month;
	{
		long long era = y / 400;
		long long yoe = y - era * 400;
		long long doy =
		    (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + v.day - 1;
		long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = era * 146097 + doe - 719468;
	}
	*out = (time_t)(days * 86400);
	return 0;
}

int
versions_image_compare(const char *a, const char *b, int *cmp)
{
	struct versions_image va, vb;

	if (versions_image_parse(a, &va) || versions_image_parse(b, &vb))
		return -1;
	*cmp = cmp_long(va.year, vb.year);
	if (*cmp == 0)
		*cmp = cmp_long(va.month, vb.month);
	if (*cmp == 0)
		*cmp = cmp_long(va.day, vb.day);
	if (*cmp == 0)
		*cmp = cmp_long(va.build, vb.build);
	return 0;
}

enum versions_drift
versions_drift(const char *live_k8s, const char *live_image,
    const char *base_k8s, const char *base_image)
{
	int k8s_same = strcmp(live_k8s, base_k8s) == 0;
	int image_same = strcmp(live_image, base_image) == 0;
	int cmp;

	if (k8s_same && image_same)
		return VERSIONS_IN_BASELINE;
	if (!k8s_same) {
		if (versions_k8s_compare(live_k8s, base_k8s, &cmp))
			return VERSIONS_DIFFERS;
		if (cmp != 0)
			return cmp > 0 ? VERSIONS_AHEAD : VERSIONS_BEHIND;
		/* "v1.30.5" and "1.30.5": the same version. */
		if (image_same)
			return VERSIONS_IN_BASELINE;
	}
	if (versions_image_compare(live_image, base_image, &cmp) || cmp == 0)
		return VERSIONS_DIFFERS;
	return cmp > 0 ? VERSIONS_AHEAD : VERSIONS_BEHIND;
}

const char *
versions_drift_name(enum versions_drift d)
{
	switch (d) {
	case VERSIONS_IN_BASELINE:
		return "in-baseline";
	case VERSIONS_AHEAD:
		return "ahead";
	case VERSIONS_BEHIND:
		return "behind";
	case VERSIONS_DIFFERS:
		return "differs";
	}
	return "differs";
}
