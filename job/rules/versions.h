#ifndef AKSNAP_VERSIONS_H
#define AKSNAP_VERSIONS_H

/*
 * versions.h -- ordering the version strings AKS reports, for `drift`,
 * `check` and `baseline` (DESIGN.md section 3).
 *
 * Kubernetes versions are "major.minor.patch" and compare numerically.
 * Node image versions are opaque strings, but every Linux image name ends
 * in a date-like suffix: "AKSUbuntu-2204gen2containerd-202611.01.0" (the
 * current form, YYYYMM.DD.build) or "AKSUbuntu-1804gen2containerd-
 * 2021.09.11" (the older form, YYYY.MM.DD).  Both read as a date plus a
 * build number; images compare by that, never by their OS prefix.  A
 * string that fits neither form (Windows images) has no order.  Pure.
 */

#include <time.h>

struct db_versions;

/*
 * versions_k8s_parse(s, out):
 * Parse a Kubernetes version "1.30.5" (a leading "v" and a missing patch,
 * "1.30", are accepted) into ${out}[0..2].  Return 0, or -1.
 */
int versions_k8s_parse(const char *s, long out[3]);

/*
 * versions_k8s_compare(a, b, cmp):
 * Set ${*cmp} to -1, 0 or 1 as ${a} is older than, equal to or newer than
 * ${b}, numerically.  Return 0, or -1 when either does not parse.
 */
int versions_k8s_compare(const char *a, const char *b, int *cmp);

struct versions_image {
	int year, month, day; /* the release date of the image */
	long build; /* the number after the date; 0 in the older form */
};

/*
 * versions_image_parse(image, out):
 * Read the date suffix of a node image version (the text after its last
 * '-', or the whole string when there is none) into ${out}.  Return 0, or
 * -1 when it is neither YYYYMM.DD.N nor YYYY.MM.DD (or not a real date).
 */
int versions_image_parse(const char *image, struct versions_image *out);

/*
 * versions_image_date(image, out):
 * The release date of ${image} as a time (00:00 UTC that day).  0 or -1
 * as versions_image_parse.
 */
int versions_image_date(const char *image, time_t *out);

/*
 * versions_image_compare(a, b, cmp):
 * Order two node image versions by date, then build number: ${*cmp} -1, 0
 * or 1.  Return 0, or -1 when either has no date suffix.  Two different
 * images of the same date and build (different OS) compare equal.
 */
int versions_image_compare(const char *a, const char *b, int *cmp);

enum versions_drift {
	VERSIONS_IN_BASELINE = 0, /* same Kubernetes version and node image */
	VERSIONS_AHEAD, /* live is newer than the baseline */
	VERSIONS_BEHIND, /* live is older than the baseline */
	VERSIONS_DIFFERS, /* different, but no order (unparseable, other OS) */
};

/*
 * versions_drift(live_k8s, live_image, base_k8s, base_image):
 * Where a live pool stands against its baseline.  Equal strings (both
 * versions) are in-baseline.  Otherwise the Kubernetes versions decide
 * when they differ; when they are equal, the node images do.  A side that
 * cannot be ordered gives VERSIONS_DIFFERS.
 */
enum versions_drift versions_drift(const char *live_k8s, const char *live_image,
    const char *base_k8s, const char *base_image);

/* versions_drift_name(d): "in-baseline", "ahead", "behind", "differs". */
const char *versions_drift_name(enum versions_drift d);

#endif
