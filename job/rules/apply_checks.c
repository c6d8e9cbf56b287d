/*
 * apply_checks.c -- may this snapshot be applied to that pool?
 *
 * `aksnap apply` refuses, before it sends anything, what AKS would refuse
 * or what would hurt: a snapshot no longer active in the store, a pool of
 * another OS type or VM family, a snapshot that is not newer than the pool
 * (AKS upgrades only forward), and a node image older than the 90 days
 * AKS supports.  Each check gives its reason, passing or not, so that
 * `apply --dry-run` can show them all.
 *
 * Node image versions are opaque strings whose shape changed over the
 * years (NOTES.md section 3); the only thing read from them is the release
 * date, and a version whose date cannot be found is refused rather than
 * guessed at.
 */
#include "job/rules/apply_checks.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/base/util.h"
#include "job/rules/versions.h"

int
apply_vm_family(const char *vm_size, char *out, size_t len)
{
	const char *p = vm_size;
	size_t n = 0;
	int digits = 0;

	if (strncasecmp(p, "Standard_", 9) == 0)
		p += 9;
	else if (strncasecmp(p, "Basic_", 6) == 0)
		p += 6;
	if (len == 0)
		return -1;
	/* The series letters before the vCPU count. */
	while (*p != '\0' && !isdigit((unsigned char)*p)) {
		if (n + 1 >= len)
			return -1;
		out[n++] = (char)tolower((unsigned char)*p++);
	}
	/* The vCPU count, and a constrained-core count ("E4-2s_v5"). */
	while (isdigit((unsigned char)*p)) {
		p++;
		digits = 1;
	}
	if (!digits || n == 0) {
		out[0] = '\0';
		return -1;
	}
	if (*p == '-' && isdigit((unsigned char)p[1])) {
		p++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	/* Features (s, d, a, ...) and the generation (_v5). */
	while (*p != '\0') {
		if (n + 1 >= len)
			return -1;
		out[n++] = (char)tolower((unsigned char)*p++);
	}
	out[n] = '\0';
	return 0;
}

/* digits_at(s, n): exactly ${n} digits at ${s}, as a number; -1 if not. */
static long
digits_at(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
make_date(long y, long m, long d, time_t *out)
{
	static const int mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm;

	if (y < 2000 || y > 2199 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	*out = timegm(&tm);
	return 0;
}

/* The number after a ".": the image's revision of that day. */
static long
revision_after(const char *p)
{
	if (*p == '.' && isdigit((unsigned char)p[1]))
		return strtol(p + 1, NULL, 10);
	return 0;
}

int
apply_image_date(const char *niv, time_t *date, long *revision)
{
	const char *last;

	for (const char *p = niv; *p != '\0'; p++) {
		long a, b, c;

		/* A date starts a run of digits. */
		if (!isdigit((unsigned char)*p) ||
		    (p > niv && isdigit((unsigned char)p[-1])))
			continue;
		/* YYYYMM.DD */
		a = digits_at(p, 6);
		b = (a >= 0 && p[6] == '.') ? digits_at(p + 7, 2) : -1;
		if (b >= 0 && !isdigit((unsigned char)p[9]) &&
		    make_date(a / 100, a % 100, b, date) == 0) {
			*revision = revision_after(p + 9);
			return 0;
		}
		/* YYYY.MM.DD */
		a = digits_at(p, 4);
		b = (a >= 0 && p[4] == '.') ? digits_at(p + 5, 2) : -1;
		c = (b >= 0 && p[7] == '.') ? digits_at(p + 8, 2) : -1;
		if (c >= 0 && !isdigit((unsigned char)p[10]) &&
		    make_date(a, b, c, date) == 0) {
			*revision = revision_after(p + 10);
			return 0;
		}
	}
	/* Windows: AKSWindows-2022-containerd-20348.2227.240104 */
	last = strrchr(niv, '.');
	if (strncasecmp(niv, "AKSWindows", 10) == 0 && last != NULL &&
	    strlen(last + 1) == 6) {
		long v = digits_at(last + 1, 6);

		if (v >= 0 &&
		    make_date(2000 + v / 10000, v / 100 % 100, v % 100, date) ==
		        0) {
			*revision = 0;
			return 0;
		}
	}
	return -1;
}

const char *
apply_check_name(enum apply_check_id id)
{
	switch (id) {
	case APPLY_CHECK_STATE:
		return "state";
	case APPLY_CHECK_OS:
		return "os-type";
	case APPLY_CHECK_FIPS:
		return "fips";
	case APPLY_CHECK_FAMILY:
		return "vm-family";
	case APPLY_CHECK_NEWER:
		return "newer";
	case APPLY_CHECK_WINDOW:
		return "image-age";
	case APPLY_CHECK_REGION:
		return "region";
	case APPLY_CHECK_SUPPORTED:
		return "k8s-supported";
	case APPLY_CHECK_SKEW:
		return "k8s-skew";
	case APPLY_CHECK_CHANNEL:
		return "upgrade-channel";
	case APPLY_CHECK__COUNT:
		break;
	}
	return "?";
}

const char *
apply_outcome_name(enum apply_outcome o)
{
	switch (o) {
	case APPLY_PASS:
		return "ok";
	case APPLY_REFUSE:
		return "refused";
	case APPLY_NOT_APPLICABLE:
		return "n/a";
	}
	return "?";
}

static void set(struct apply_verdict *v, enum apply_check_id id,
    enum apply_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set(struct apply_verdict *v, enum apply_check_id id, enum apply_outcome o,
    const char *fmt, ...)
{
	va_list ap;

	v->checks[id].outcome = o;
	va_start(ap, fmt);
	vsnprintf(v->checks[id].reason, sizeof(v->checks[id].reason), fmt, ap);
	va_end(ap);
	if (o == APPLY_REFUSE)
		v->refused = 1;
}

static void
check_state(const struct apply_check_input *in, struct apply_verdict *v)
{
	if (in->state != NULL && strcmp(in->state, "active") == 0)
		set(v, APPLY_CHECK_STATE, APPLY_PASS, "snapshot is active");
	else
		set(v, APPLY_CHECK_STATE, APPLY_REFUSE,
		    "snapshot is %s in the store, not active",
		    in->state != NULL && in->state[0] != '\0' ? in->state
		                                              : "unknown");
}

static void
check_os(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *s = in->snapshot.os_type, *t = in->target.os_type;

	if (in->create)
		set(v, APPLY_CHECK_OS, APPLY_NOT_APPLICABLE,
		    "a new pool takes the snapshot's OS type %s",
		    s[0] != '\0' ? s : "(default)");
	else if (s[0] == '\0' || t[0] == '\0' || strcasecmp(s, t) == 0)
		set(v, APPLY_CHECK_OS, APPLY_PASS, "OS type %s",
		    s[0] != '\0'       ? s
		        : t[0] != '\0' ? t
		                       : "(default)");
	else
		set(v, APPLY_CHECK_OS, APPLY_REFUSE,
		    "snapshot is %s but the pool runs %s", s, t);
}

static void
check_fips(const struct apply_check_input *in, struct apply_verdict *v)
{
	int s = in->snapshot.enable_fips != 0, t = in->target.enable_fips != 0;

	if (in->create)
		set(v, APPLY_CHECK_FIPS, APPLY_NOT_APPLICABLE,
		    "a new pool takes the snapshot's FIPS setting (%s)",
		    s ? "on" : "off");
	else if (s == t)
		set(v, APPLY_CHECK_FIPS, APPLY_PASS, "FIPS %s on both",
		    s ? "on" : "off");
	else
		set(v, APPLY_CHECK_FIPS, APPLY_REFUSE,
		    "snapshot has FIPS %s but the pool has FIPS %s",
		    s ? "on" : "off", t ? "on" : "off");
}

static void
check_family(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *s = in->snapshot.vm_size, *t = in->target.vm_size;
	char fs[64], ft[64];

	if (in->create) {
		set(v, APPLY_CHECK_FAMILY, APPLY_NOT_APPLICABLE,
		    "a new pool takes the snapshot's VM size %s", s);
		return;
	}
	if (apply_vm_family(s, fs, sizeof(fs)) != 0) {
		set(v, APPLY_CHECK_FAMILY, APPLY_REFUSE,
		    "cannot read a VM family from the snapshot's VM size "
		    "'%s'",
		    s);
		return;
	}
	if (apply_vm_family(t, ft, sizeof(ft)) != 0) {
		set(v, APPLY_CHECK_FAMILY, APPLY_REFUSE,
		    "cannot read a VM family from the pool's VM size '%s'", t);
		return;
	}
	if (strcmp(fs, ft) == 0)
		set(v, APPLY_CHECK_FAMILY, APPLY_PASS,
		    "snapshot %s and pool %s are both of family %s", s, t, fs);
	else
		set(v, APPLY_CHECK_FAMILY, APPLY_REFUSE,
		    "different VM family: snapshot %s (family %s) vs pool %s "
		    "(family %s)",
		    s, fs, t, ft);
}

static void
check_newer(const struct apply_check_input *in, struct apply_verdict *v)
{
	const struct apply_side *s = &in->snapshot, *t = &in->target;
	time_t ds, dt;
	long rs, rt;
	int k, img;

	if (in->create) {
		set(v, APPLY_CHECK_NEWER, APPLY_NOT_APPLICABLE,
		    "a new pool has no versions to compare");
		return;
	}
	if (versions_k8s_compare(
	        s->kubernetes_version, t->kubernetes_version, &k)) {
		set(v, APPLY_CHECK_NEWER, APPLY_REFUSE,
		    "cannot compare Kubernetes versions '%s' (snapshot) and "
		    "'%s' (pool)",
		    s->kubernetes_version, t->kubernetes_version);
		return;
	}
	if (strcmp(s->node_image_version, t->node_image_version) == 0) {
		img = 0;
	} else if (apply_image_date(s->node_image_version, &ds, &rs) != 0 ||
	    apply_image_date(t->node_image_version, &dt, &rt) != 0) {
		set(v, APPLY_CHECK_NEWER, APPLY_REFUSE,
		    "cannot compare node images '%s' (snapshot) and '%s' "
		    "(pool): no release date found",
		    s->node_image_version, t->node_image_version);
		return;
	} else {
		img = ds < dt ? -1
		    : ds > dt ? 1
		    : rs < rt ? -1
		    : rs > rt ? 1
		              : 0;
	}
	if (k < 0)
		set(v, APPLY_CHECK_NEWER, APPLY_REFUSE,
		    "snapshot's Kubernetes %s is older than the pool's %s%s",
		    s->kubernetes_version, t->kubernetes_version,
		    in->allow_older ? " (AKS never downgrades a pool's "
		                      "Kubernetes, --allow-older or not)"
		                    : "");
	else if (img < 0 && in->allow_older) {
		v->rollback = 1;
		v->node_image_only = (k == 0);
		set(v, APPLY_CHECK_NEWER, APPLY_PASS,
		    "rollback (--allow-older): node image %s -> %s (older), "
		    "Kubernetes %s -> %s",
		    t->node_image_version, s->node_image_version,
		    t->kubernetes_version, s->kubernetes_version);
	} else if (img < 0)
		set(v, APPLY_CHECK_NEWER, APPLY_REFUSE,
		    "snapshot's node image %s is older than the pool's %s "
		    "(a rollback needs --allow-older)",
		    s->node_image_version, t->node_image_version);
	else if (k == 0 && img == 0 &&
	    strcmp(s->node_image_version, t->node_image_version) == 0) {
		/* Nothing to change: the apply is done already. */
		v->at_baseline = 1;
		set(v, APPLY_CHECK_NEWER, APPLY_PASS,
		    "already at this baseline: the pool runs Kubernetes %s "
		    "and node image %s",
		    t->kubernetes_version, t->node_image_version);
	} else if (k == 0 && img == 0)
		set(v, APPLY_CHECK_NEWER, APPLY_REFUSE,
		    "snapshot is not newer than the pool: node images %s and "
		    "%s are of the same release",
		    s->node_image_version, t->node_image_version);
	else {
		v->node_image_only = (k == 0);
		set(v, APPLY_CHECK_NEWER, APPLY_PASS,
		    "Kubernetes %s -> %s, node image %s -> %s",
		    t->kubernetes_version, s->kubernetes_version,
		    t->node_image_version, s->node_image_version);
	}
}

/*
 * Whole days since the release: an image released on 1 November is 90
 * days old for all of 30 January (UTC), and refused from 31 January.
 */
static void
check_window(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *niv = in->snapshot.node_image_version;
	time_t d;
	long rev;
	long long age;
	char day[32];

	if (apply_image_date(niv, &d, &rev) != 0) {
		set(v, APPLY_CHECK_WINDOW, APPLY_REFUSE,
		    "cannot read a release date from node image '%s'", niv);
		return;
	}
	util_format_time(d, day, sizeof(day));
	day[10] = '\0';
	age = in->as_of >= d ? (long long)(in->as_of - d) / 86400 : 0;
	if (age > APPLY_IMAGE_WINDOW_DAYS)
		set(v, APPLY_CHECK_WINDOW, APPLY_REFUSE,
		    "node image %s was released %s, %lld days ago: outside "
		    "AKS's %d-day support window",
		    niv, day, age, APPLY_IMAGE_WINDOW_DAYS);
	else
		set(v, APPLY_CHECK_WINDOW, APPLY_PASS,
		    "node image released %s, %lld days ago, within AKS's "
		    "%d-day window",
		    day, age, APPLY_IMAGE_WINDOW_DAYS);
}

static const char *
or_unknown(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "(unknown)";
}

static void
check_region(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *s = in->snapshot_location, *t = in->target_location;

	if (s == NULL || s[0] == '\0' || t == NULL || t[0] == '\0')
		set(v, APPLY_CHECK_REGION, APPLY_REFUSE,
		    "location unknown: snapshot in %s, target in %s",
		    or_unknown(s), or_unknown(t));
	else if (strcasecmp(s, t) == 0)
		set(v, APPLY_CHECK_REGION, APPLY_PASS,
		    "snapshot and target both in %s", t);
	else if (in->cross_region)
		set(v, APPLY_CHECK_REGION, APPLY_PASS,
		    "snapshot in %s, target in %s (--cross-region)", s, t);
	else
		set(v, APPLY_CHECK_REGION, APPLY_REFUSE,
		    "snapshot in %s, target in %s: another region needs "
		    "--cross-region",
		    s, t);
}

static void
check_supported(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *k = in->snapshot.kubernetes_version;
	const char *loc = or_unknown(in->target_location);
	size_t kl = strlen(k);

	if (!in->supported_known) {
		set(v, APPLY_CHECK_SUPPORTED, APPLY_REFUSE,
		    "the Kubernetes versions offered in %s are unknown", loc);
		return;
	}
	for (size_t i = 0; i < in->nsupported; i++) {
		const char *p = in->supported[i];

		if (strcmp(p, k) == 0 ||
		    (kl > 0 && strncmp(p, k, kl) == 0 && p[kl] == '.' &&
		        strchr(k, '.') == strrchr(k, '.'))) {
			set(v, APPLY_CHECK_SUPPORTED, APPLY_PASS,
			    "Kubernetes %s is offered in %s", k, loc);
			return;
		}
	}
	set(v, APPLY_CHECK_SUPPORTED, APPLY_REFUSE,
	    "snapshot's Kubernetes %s is not offered in %s (%zu versions "
	    "there, e.g. %s)",
	    or_unknown(k), loc, in->nsupported,
	    in->nsupported > 0 ? in->supported[in->nsupported - 1] : "none");
}

int
apply_skew_minors(const char *cp)
{
	int maj = 0, min = 0;

	if (sscanf(cp, "%d.%d", &maj, &min) == 2 &&
	    (maj > 1 || (maj == 1 && min >= 28)))
		return 3;
	return 2;
}

static void
check_skew(const struct apply_check_input *in, struct apply_verdict *v)
{
	const char *k = in->snapshot.kubernetes_version;
	const char *cp = in->control_plane_version;
	int km = 0, kn = 0, cm = 0, cn = 0, skew;

	if (in->new_cluster) {
		set(v, APPLY_CHECK_SKEW, APPLY_NOT_APPLICABLE,
		    "a new cluster's control plane takes the snapshot's "
		    "Kubernetes %s",
		    k);
		return;
	}
	if (cp == NULL || sscanf(cp, "%d.%d", &cm, &cn) != 2 ||
	    sscanf(k, "%d.%d", &km, &kn) != 2) {
		set(v, APPLY_CHECK_SKEW, APPLY_REFUSE,
		    "cannot compare the snapshot's Kubernetes %s with the "
		    "control plane's %s",
		    or_unknown(k), or_unknown(cp));
		return;
	}
	skew = apply_skew_minors(cp);
	if (km != cm || kn > cn)
		set(v, APPLY_CHECK_SKEW, APPLY_REFUSE,
		    "snapshot's Kubernetes %s is newer than the control "
		    "plane's %s (a pool never runs above its control plane)",
		    k, cp);
	else if (kn < cn - skew)
		set(v, APPLY_CHECK_SKEW, APPLY_REFUSE,
		    "snapshot's Kubernetes %s is more than %d minors below the "
		    "control plane's %s",
		    k, skew, cp);
	else
		set(v, APPLY_CHECK_SKEW, APPLY_PASS,
		    "Kubernetes %s with control plane %s (at most %d minors "
		    "behind)",
		    k, cp, skew);
}

int
apply_channels_undo_pin(const char *up, const char *os, char *why, size_t len)
{
	int os_moves = os != NULL &&
	    (strcasecmp(os, "NodeImage") == 0 ||
	        strcasecmp(os, "SecurityPatch") == 0);
	int up_moves =
	    up != NULL && up[0] != '\0' && strcasecmp(up, "none") != 0;

	if (why == NULL)
		return os_moves || up_moves;
	if (os_moves && up_moves)
		snprintf(why, len,
		    "nodeOSUpgradeChannel %s and upgradeChannel %s re-image "
		    "the nodes: set nodeOSUpgradeChannel to None or Unmanaged "
		    "and upgradeChannel to none",
		    os, up);
	else if (os_moves)
		snprintf(why, len,
		    "nodeOSUpgradeChannel %s re-images the nodes weekly: set "
		    "it to None or Unmanaged",
		    os);
	else if (up_moves)
		snprintf(why, len,
		    "upgradeChannel %s upgrades and re-images the nodes: set "
		    "it to none",
		    up);
	else
		snprintf(why, len,
		    "upgradeChannel %s, nodeOSUpgradeChannel %s: neither "
		    "re-images the nodes",
		    up != NULL && up[0] != '\0' ? up : "(none)",
		    os != NULL && os[0] != '\0' ? os : "(none)");
	return os_moves || up_moves;
}

static void
check_channel(const struct apply_check_input *in, struct apply_verdict *v)
{
	char why[256];

	if (in->new_cluster) {
		set(v, APPLY_CHECK_CHANNEL, APPLY_PASS,
		    "the new cluster is created with nodeOSUpgradeChannel %s",
		    or_unknown(in->node_os_channel));
		return;
	}
	if (!apply_channels_undo_pin(
	        in->upgrade_channel, in->node_os_channel, why, sizeof(why)))
		set(v, APPLY_CHECK_CHANNEL, APPLY_PASS, "%s", why);
	else if (in->ignore_upgrade_channel)
		set(v, APPLY_CHECK_CHANNEL, APPLY_PASS,
		    "--ignore-upgrade-channel: %s", why);
	else
		set(v, APPLY_CHECK_CHANNEL, APPLY_REFUSE,
		    "the target cluster would undo the baseline: %s (or pass "
		    "--ignore-upgrade-channel)",
		    why);
}

void
apply_checks_run(const struct apply_check_input *in, struct apply_verdict *out)
{
	memset(out, 0, sizeof(*out));
	check_state(in, out);
	check_os(in, out);
	check_fips(in, out);
	check_family(in, out);
	check_newer(in, out);
	check_window(in, out);
	check_region(in, out);
	check_supported(in, out);
	check_skew(in, out);
	check_channel(in, out);
}

int
apply_result_matches(const char *want_k8s, const char *want_image,
    const char *got_k8s, const char *got_image, char *why, size_t len)
{
	int cmp = 1, k8s_ok, image_ok;

	if (versions_k8s_compare(got_k8s, want_k8s, &cmp) != 0)
		cmp = strcmp(got_k8s, want_k8s);
	k8s_ok = (cmp == 0 && got_k8s[0] != '\0');
	image_ok = strcmp(got_image, want_image) == 0 && got_image[0] != '\0';
	if (k8s_ok && image_ok) {
		snprintf(why, len, "runs Kubernetes %s, node image %s", got_k8s,
		    got_image);
		return 1;
	}
	if (!k8s_ok && !image_ok)
		snprintf(why, len,
		    "expected Kubernetes %s and node image %s, got "
		    "Kubernetes %s and node image %s",
		    want_k8s, want_image, got_k8s[0] ? got_k8s : "(none)",
		    got_image[0] ? got_image : "(none)");
	else if (!k8s_ok)
		snprintf(why, len, "expected Kubernetes %s, got %s", want_k8s,
		    got_k8s[0] ? got_k8s : "(none)");
	else
		snprintf(why, len, "expected node image %s, got %s", want_image,
		    got_image[0] ? got_image : "(none)");
	return 0;
}

int
apply_pool_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 12 || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}
