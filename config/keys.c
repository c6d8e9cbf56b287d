/*
 * keys.c -- the keys of aksnap.ini: one table, and what each value may be.
 *
 * Keys are described by one table (name, section, type, range, field
 * offset), which drives parsing (read.c), policy resolution (resolve.c)
 * and printing (print.c) alike.  Here each value is parsed into its field
 * and checked for the shape ARM or we require (UUIDs, ARM names, URLs --
 * https://, or http:// only to a loopback host -- schedules, ladders), and
 * turned back into the text it would be written as.  A time zone is only
 * named here; resolve.c loads it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "job/base/limits.h"
#include "job/base/util.h"
#include "job/rules/schedule.h"

/* Counts (keep_*, min_keep, ...) and durations are bounded to catch typos
 * (job/base/limits.h). */
#define COUNT_MAX LIMIT_COUNT
#define DURATION_MAX LIMIT_DURATION

#define G(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define P(f) offsetof(struct policy, f), sizeof(((struct policy *)0)->f)
#define L(f) offsetof(struct pool_conf, f), sizeof(((struct pool_conf *)0)->f)

const struct key config_keys[] = {
    {"database", SCOPE_GLOBAL, VT_STRING, CK_NONE, G(database), 0, 0},
    {"subscription", SCOPE_GLOBAL, VT_STRING, CK_UUID, G(subscription), 0, 0},
    {"auth", SCOPE_GLOBAL, VT_AUTH, CK_NONE, G(auth), 0, 0},
    {"tenant", SCOPE_GLOBAL, VT_STRING, CK_TENANT, G(tenant), 0, 0},
    {"client_id", SCOPE_GLOBAL, VT_STRING, CK_UUID, G(client_id), 0, 0},
    {"object_id", SCOPE_GLOBAL, VT_STRING, CK_UUID, G(object_id), 0, 0},
    {"msi_res_id", SCOPE_GLOBAL, VT_STRING, CK_MSI_RES_ID, G(msi_res_id), 0, 0},
    {"client_secret_file", SCOPE_GLOBAL, VT_STRING, CK_NONE,
        G(client_secret_file), 0, 0},
    {"client_certificate_file", SCOPE_GLOBAL, VT_STRING, CK_NONE,
        G(client_certificate_file), 0, 0},
    {"arm_endpoint", SCOPE_GLOBAL, VT_STRING, CK_URL_TLS, G(arm_endpoint), 0,
        0},
    {"authority_host", SCOPE_GLOBAL, VT_STRING, CK_URL_TLS, G(authority_host),
        0, 0},
    {"imds_endpoint", SCOPE_GLOBAL, VT_STRING, CK_URL, G(imds_endpoint), 0, 0},
    {"api_version", SCOPE_GLOBAL, VT_STRING, CK_API_VERSION, G(api_version), 0,
        0},
    {"ca_file", SCOPE_GLOBAL, VT_STRING, CK_FILE, G(ca_file), 0, 0},
    {"max_parallel", SCOPE_GLOBAL, VT_INT, CK_NONE, G(max_parallel), 1,
        LIMIT_MAX_PARALLEL},
    {"request_timeout", SCOPE_GLOBAL, VT_DURATION, CK_NONE, G(request_timeout),
        1, 3600},
    {"metrics_file", SCOPE_GLOBAL, VT_STRING, CK_NONE, G(metrics_file), 0, 0},
    {"name_prefix", SCOPE_GLOBAL, VT_STRING, CK_PREFIX, G(name_prefix), 0, 0},
    {"timezone", SCOPE_GLOBAL, VT_STRING, CK_TIMEZONE, G(timezone), 0, 0},
    {"max_fleet_pools", SCOPE_GLOBAL, VT_INT, CK_NONE, G(max_fleet_pools), 1,
        LIMIT_FLEET_POOLS_MAX},

    {"schedule", SCOPE_POLICY, VT_STRING, CK_SCHEDULE, P(schedule), 0, 0},
    {"snapshot_when", SCOPE_POLICY, VT_WHEN, CK_NONE, P(snapshot_when), 0, 0},
    {"keep_last", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_last), 0, COUNT_MAX},
    {"keep_hourly", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_hourly), 0,
        COUNT_MAX},
    {"keep_daily", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_daily), 0, COUNT_MAX},
    {"keep_weekly", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_weekly), 0,
        COUNT_MAX},
    {"keep_monthly", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_monthly), 0,
        COUNT_MAX},
    {"keep_yearly", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_yearly), 0,
        COUNT_MAX},
    {"keep_within", SCOPE_POLICY, VT_DURATION, CK_NONE, P(keep_within), 0,
        DURATION_MAX},
    {"min_keep", SCOPE_POLICY, VT_INT, CK_NONE, P(min_keep), 0, COUNT_MAX},
    {"max_delete_per_run", SCOPE_POLICY, VT_INT, CK_NONE, P(max_delete_per_run),
        0, COUNT_MAX},
    {"promote_after", SCOPE_POLICY, VT_PROMOTE, CK_NONE, P(promote_after), 0,
        DURATION_MAX},
    {"channel", SCOPE_POLICY, VT_STRING, CK_NAME, P(channel), 0, 0},
    {"keep_promoted", SCOPE_POLICY, VT_INT, CK_NONE, P(keep_promoted), 0,
        LIMIT_KEEP_PROMOTED},
    {"warn_baseline_age", SCOPE_POLICY, VT_DURATION, CK_NONE,
        P(warn_baseline_age), 0, DURATION_MAX},
    {"warn_image_age", SCOPE_POLICY, VT_DURATION, CK_NONE, P(warn_image_age), 0,
        DURATION_MAX},
    {"release_notes", SCOPE_POLICY, VT_STRING, CK_NOTES, P(release_notes), 0,
        0},
    {"channels", SCOPE_POLICY, VT_LADDER, CK_NONE, P(channels), 0,
        DURATION_MAX},
    {"enabled", SCOPE_POLICY, VT_NOT_BOOL, CK_NONE, P(paused), 0, 0},

    {"subscription", SCOPE_POOL, VT_STRING, CK_UUID, L(subscription), 0, 0},
    {"resource_group", SCOPE_POOL, VT_STRING, CK_RESOURCE_GROUP,
        L(resource_group), 0, 0},
    {"cluster", SCOPE_POOL, VT_STRING, CK_CLUSTER, L(cluster), 0, 0},
    {"nodepool", SCOPE_POOL, VT_STRING, CK_NODEPOOL, L(nodepool), 0, 0},
    {"policy", SCOPE_POOL, VT_STRING, CK_NAME, L(policy_name), 0, 0},
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_MAX_KEYS,
    "key mask too small");

static const char *const auth_names[] = {
    [AUTH_AUTO] = "auto",
    [AUTH_MANAGED_IDENTITY] = "managed-identity",
    [AUTH_CLIENT_SECRET] = "client-secret",
    [AUTH_CLIENT_CERTIFICATE] = "client-certificate",
    [AUTH_WORKLOAD_IDENTITY] = "workload-identity",
    [AUTH_AZURE_CLI] = "azure-cli",
};
#define NAUTH (sizeof(auth_names) / sizeof(auth_names[0]))

static const char *const when_names[] = {
    [WHEN_ALWAYS] = "always",
    [WHEN_CHANGED] = "changed",
};

/* Name checks: each returns 1 if ${s} has the shape ARM (or we) require. */

static int
is_uuid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return i == 36;
}

/* is_alnum(c): isalnum() of the "C" locale (aksnap never leaves it),
 * without a call per character. */
static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') ||
	    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/*
 * A set of ASCII bytes as 128 bits, byte c in word c >> 6: a name's bytes
 * are each tested with a shift, not looked for in a list of extras.
 */
struct cset {
	uint64_t w[2];
};

/* CSET_W0(c), CSET_W1(c): byte ${c} (a constant) in a cset's words. */
#define CSET_W0(c) ((c) < 64 ? 1ULL << ((c)&63) : 0)
#define CSET_W1(c) ((c) >= 64 ? 1ULL << ((c)&63) : 0)
#define CSET_ALNUM_W0 0x03ff000000000000ULL /* '0'-'9' */
#define CSET_ALNUM_W1 0x07fffffe07fffffeULL /* 'A'-'Z', 'a'-'z' */

/* The letters and digits and, as named, what each kind of name adds. */
static const struct cset cs_name = {{/* - _ . */
    CSET_ALNUM_W0 | CSET_W0('-') | CSET_W0('_') | CSET_W0('.'),
    CSET_ALNUM_W1 | CSET_W1('-') | CSET_W1('_') | CSET_W1('.')}};
static const struct cset cs_cluster = {{/* - _ */
    CSET_ALNUM_W0 | CSET_W0('-') | CSET_W0('_'),
    CSET_ALNUM_W1 | CSET_W1('-') | CSET_W1('_')}};
static const struct cset cs_group = {{/* - _ . ( ) */
    CSET_ALNUM_W0 | CSET_W0('-') | CSET_W0('_') | CSET_W0('.') | CSET_W0('(') |
        CSET_W0(')'),
    CSET_ALNUM_W1 | CSET_W1('-') | CSET_W1('_') | CSET_W1('.') | CSET_W1('(') |
        CSET_W1(')')}};
static const struct cset cs_domain = {{/* - . */
    CSET_ALNUM_W0 | CSET_W0('-') | CSET_W0('.'),
    CSET_ALNUM_W1 | CSET_W1('-') | CSET_W1('.')}};

/* chars_in(s, n, set): each of the ${n} bytes of ${s} is in ${set}. */
static inline int
chars_in(const char *s, size_t n, const struct cset *set)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c = (unsigned char)s[i];

		if (c >= 128 || !((set->w[c >> 6] >> (c & 63)) & 1))
			return 0;
	}
	return 1;
}

/* Pool keys, policy names, channels: letters digits - _ . up to 63. */
int
config_is_name(const char *s)
{
	return config_is_name_n(s, strlen(s));
}

int
config_is_name_n(const char *s, size_t n)
{
	return n >= 1 && n <= LIMIT_ARM_NAME && chars_in(s, n, &cs_name);
}

/* ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$ */
static int
is_cluster(const char *s, size_t n)
{
	return n >= 1 && n <= LIMIT_ARM_NAME && chars_in(s, n, &cs_cluster) &&
	    is_alnum((unsigned char)s[0]) && is_alnum((unsigned char)s[n - 1]);
}

/* ^[a-z][a-z0-9]{0,11}$ */
static int
is_nodepool(const char *s, size_t n)
{
	if (n < 1 || n > LIMIT_ARM_NODEPOOL || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/*
 * ^[-\w\._\(\)]+$, 1-90, and ARM also refuses a trailing period.  \w is
 * taken as ASCII: the field is sized for 90 bytes.
 */
static int
is_resource_group(const char *s, size_t n)
{
	return n >= 1 && n <= LIMIT_ARM_RESOURCE_GROUP &&
	    chars_in(s, n, &cs_group) && s[n - 1] != '.';
}

/* The prefix starts every snapshot name, which must start alphanumeric. */
static int
is_prefix(const char *s, size_t n)
{
	return n >= 1 && n <= 20 && chars_in(s, n, &cs_cluster) &&
	    is_alnum((unsigned char)s[0]);
}

static int
is_tenant(const char *s, size_t n)
{
	return is_uuid(s) || (n >= 1 && n <= 127 && chars_in(s, n, &cs_domain));
}

/* 2026-08-01 or 2026-08-01-preview */
static int
is_api_version(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	size_t i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
		                    : s[i] != shape[i])
			return 0;
	}
	return s[i] == '\0' || strcmp(s + i, "-preview") == 0;
}

static int
is_msi_res_id(const char *s)
{
	const char *prov =
	    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/";
	const char *q;

	if (strncasecmp(s, "/subscriptions/", 15) != 0)
		return 0;
	for (q = s; *q != '\0'; q++)
		if (isspace((unsigned char)*q))
			return 0;
	q = strcasestr(s, prov);
	return q != NULL && q[strlen(prov)] != '\0';
}

static int
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[256];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n >= 2 && n < sizeof(h) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		if (inet_pton(AF_INET6, h, &a6) == 1)
			return IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/*
 * check_url(s, tls, why, whylen):
 * 0 if ${s} is an http(s) URL with a host; with ${tls}, plain http only to
 * a loopback host.  Otherwise -1 and what was expected in ${why}.
 */
static int
check_url(const char *s, int tls, char *why, size_t whylen)
{
	const char *h, *end;
	char host[256];
	int plain;

	for (h = s; *h != '\0'; h++) {
		if (isspace((unsigned char)*h) || !isprint((unsigned char)*h))
			goto bad;
	}
	if (strncasecmp(s, "https://", 8) == 0) {
		plain = 0;
		h = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		plain = 1;
		h = s + 7;
	} else {
		goto bad;
	}
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL)
			goto bad;
		end++;
	} else {
		end = h + strcspn(h, ":/?#");
	}
	if (end == h || (size_t)(end - h) >= sizeof(host) ||
	    strchr("/:?#", *end) == NULL)
		goto bad;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	if (strchr(host, '@') != NULL)
		goto bad;
	if (tls && plain && !host_is_loopback(host)) {
		snprintf(why, whylen,
		    "expected an https:// URL (plain http:// only to a "
		    "loopback host: 127.0.0.0/8, [::1], localhost)");
		return -1;
	}
	return 0;

bad:
	snprintf(why, whylen, "expected an %s URL with a host",
	    tls ? "https://" : "http:// or https://");
	return -1;
}

/*
 * check_shape(k, v, n, why, whylen):
 * Check a string value (${n} bytes) against its key's rule.  0, or -1
 * with what was expected in ${why}.
 */
static int
check_shape(
    const struct key *k, const char *v, size_t n, char *why, size_t whylen)
{
	struct schedule sched;
	struct stat st;
	char serr[256];

	switch (k->check) {
	case CK_NONE:
		return 0;
	case CK_FILE:
		if (stat(v, &st) != 0) {
			snprintf(why, whylen, "%s: %s", v, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, whylen, "%s: not a regular file", v);
			return -1;
		}
		return 0;
	case CK_UUID:
		if (is_uuid(v))
			return 0;
		snprintf(why, whylen,
		    "expected a UUID like "
		    "00000000-0000-0000-0000-000000000000");
		return -1;
	case CK_TENANT:
		if (is_tenant(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected a tenant id (a UUID) or a domain name");
		return -1;
	case CK_URL_TLS:
		return check_url(v, 1, why, whylen);
	case CK_URL:
		return check_url(v, 0, why, whylen);
	case CK_NOTES:
		if (strcmp(v, "off") == 0)
			return 0;
		if (strstr(v, "{path}") == NULL) {
			snprintf(why, whylen,
			    "expected a URL template holding {path} (e.g. "
			    "%s), or off",
			    CONFIG_RELEASE_NOTES_DEFAULT);
			return -1;
		}
		return check_url(v, 1, why, whylen);
	case CK_API_VERSION:
		if (is_api_version(v))
			return 0;
		snprintf(why, whylen,
		    "expected an API version like 2026-08-01 or "
		    "2026-08-01-preview");
		return -1;
	case CK_PREFIX:
		if (is_prefix(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected 1-20 letters, digits, '-' or '_', starting with "
		    "a "
		    "letter or digit (it starts every snapshot name)");
		return -1;
	case CK_TIMEZONE:
		return 0; /* loaded, once, by config_resolve() */
	case CK_SCHEDULE:
		if (schedule_parse(v, &sched, serr, sizeof(serr)) == 0)
			return 0;
		snprintf(why, whylen,
		    "expected a 5-field cron expression, @hourly, @daily, "
		    "@weekly, @monthly, @yearly or @every DURATION (%s)",
		    serr);
		return -1;
	case CK_NAME:
		if (config_is_name_n(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected 1-63 letters, digits, '-', '_' or '.'");
		return -1;
	case CK_RESOURCE_GROUP:
		if (is_resource_group(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected a resource group name: 1-90 letters, digits, "
		    "'-', '_', '.', '(' or ')', not ending in '.'");
		return -1;
	case CK_CLUSTER:
		if (is_cluster(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected a cluster name: 1-63 letters, digits, '-' or "
		    "'_', starting and ending with a letter or digit");
		return -1;
	case CK_NODEPOOL:
		if (is_nodepool(v, n))
			return 0;
		snprintf(why, whylen,
		    "expected an agent pool name: a lower-case letter, then "
		    "up to 11 lower-case letters or digits");
		return -1;
	case CK_MSI_RES_ID:
		if (is_msi_res_id(v))
			return 0;
		snprintf(why, whylen,
		    "expected the ARM id of a user-assigned identity, "
		    "/subscriptions/.../providers/Microsoft.ManagedIdentity/"
		    "userAssignedIdentities/NAME");
		return -1;
	}
	return 0;
}

/*
 * check_string(k, v, n, why, whylen):
 * The key's own rule first (its message is the more useful), then the
 * size of the field.
 */
static int
check_string(
    const struct key *k, const char *v, size_t n, char *why, size_t whylen)
{
	if (check_shape(k, v, n, why, whylen) != 0)
		return -1;
	if (n >= k->size) {
		snprintf(why, whylen, "expected at most %zu characters",
		    k->size - 1);
		return -1;
	}
	return 0;
}

/*
 * parse_ladder(v, out, max, why, whylen):
 * "canary:1d stable:7d": one to LADDER_MAX rungs NAME:DURATION (or
 * NAME:never), names as channels are named, each once.  0, or -1 with
 * what was expected in ${why} (${out} is then left alone).
 */
static int
parse_ladder(
    const char *v, struct ladder *out, long long max, char *why, size_t whylen)
{
	struct ladder l;
	char item[160], hi[32];
	const char *q = v;
	long long n;

	memset(&l, 0, sizeof(l));
	util_format_duration(max, hi, sizeof(hi));
	for (;;) {
		size_t len;
		char *colon;

		while (*q == ' ' || *q == '\t' || *q == ',')
			q++;
		if (*q == '\0')
			break;
		len = strcspn(q, " \t,");
		if (len >= sizeof(item))
			len = sizeof(item) - 1;
		memcpy(item, q, len);
		item[len] = '\0';
		q += strcspn(q, " \t,");
		colon = strchr(item, ':');
		if (l.n == LADDER_MAX) {
			snprintf(why, whylen, "expected at most %d rungs",
			    LADDER_MAX);
			return -1;
		}
		if (colon == NULL) {
			snprintf(why, whylen,
			    "expected rungs CHANNEL:SOAK like "
			    "\"canary:1d stable:7d\" (\"%.60s\" has no soak)",
			    item);
			return -1;
		}
		*colon = '\0';
		if (!config_is_name(item) ||
		    strlen(item) >= sizeof(l.rung[0].channel)) {
			snprintf(why, whylen,
			    "channel \"%.60s\": expected letters, digits, - _ "
			    "and ., at most 63",
			    item);
			return -1;
		}
		if (strcasecmp(colon + 1, "never") == 0) {
			n = PROMOTE_NEVER;
		} else if (util_parse_duration(colon + 1, &n) != 0 || n < 0 ||
		    n > max) {
			snprintf(why, whylen,
			    "channel %s: expected a soak like 90s, 15m, 6h, "
			    "2d or 1w, up to %s, or never",
			    item, hi);
			return -1;
		}
		for (int i = 0; i < l.n; i++) {
			if (strcmp(l.rung[i].channel, item) == 0) {
				snprintf(why, whylen,
				    "channel %s appears twice", item);
				return -1;
			}
		}
		util_strlcpy(
		    l.rung[l.n].channel, item, sizeof(l.rung[l.n].channel));
		l.rung[l.n].soak = n;
		l.n++;
	}
	if (l.n == 0) {
		snprintf(why, whylen,
		    "expected rungs CHANNEL:SOAK like \"canary:1d stable:7d\"");
		return -1;
	}
	*out = l;
	return 0;
}

/*
 * config_parse_value(k, v, base, why, whylen):
 * Parse ${v} for key ${k} into the field at ${base} + offset.  0, or -1
 * with what was expected in ${why} (the field is then left alone).
 */
int
config_parse_value(
    const struct key *k, const char *v, char *base, char *why, size_t whylen)
{
	char lo[32], hi[32];
	long long n;
	size_t len;
	int b;

	switch (k->type) {
	case VT_STRING:
		len = strlen(v);
		if (check_string(k, v, len, why, whylen) != 0)
			return -1;
		memcpy(base + k->off, v, len + 1); /* it fits: checked */
		return 0;
	case VT_INT:
		if (util_parse_int(v, k->min, k->max, &n) != 0) {
			snprintf(why, whylen,
			    "expected a whole number %lld-%lld", k->min,
			    k->max);
			return -1;
		}
		*(int *)(void *)(base + k->off) = (int)n;
		return 0;
	case VT_PROMOTE:
		if (strcasecmp(v, "never") == 0) {
			*(long long *)(void *)(base + k->off) = PROMOTE_NEVER;
			return 0;
		}
		/* FALLTHROUGH */
	case VT_DURATION:
		if (util_parse_duration(v, &n) != 0 || n < k->min ||
		    n > k->max) {
			util_format_duration(k->min, lo, sizeof(lo));
			util_format_duration(k->max, hi, sizeof(hi));
			snprintf(why, whylen,
			    "expected a duration like 90s, 15m, 6h, 2d or 1w, "
			    "from %s to %s%s",
			    lo, hi, k->type == VT_PROMOTE ? ", or never" : "");
			return -1;
		}
		*(long long *)(void *)(base + k->off) = n;
		return 0;
	case VT_BOOL:
	case VT_NOT_BOOL:
		if (util_parse_bool(v, &b) != 0) {
			snprintf(why, whylen,
			    "expected yes, no, true, false, on, off, 1 or 0");
			return -1;
		}
		*(int *)(void *)(base + k->off) = k->type == VT_BOOL ? b : !b;
		return 0;
	case VT_AUTH:
		for (size_t i = 0; i < NAUTH; i++) {
			if (strcmp(v, auth_names[i]) == 0) {
				*(enum auth_kind *)(void *)(base + k->off) =
				    (enum auth_kind)i;
				return 0;
			}
		}
		snprintf(why, whylen,
		    "expected auto, managed-identity, client-secret, "
		    "client-certificate, workload-identity or azure-cli");
		return -1;
	case VT_WHEN:
		if (strcmp(v, "always") == 0 || strcmp(v, "changed") == 0) {
			*(enum snapshot_when *)(void *)(base + k->off) =
			    v[0] == 'a' ? WHEN_ALWAYS : WHEN_CHANGED;
			return 0;
		}
		snprintf(why, whylen, "expected always or changed");
		return -1;
	case VT_LADDER:
		return parse_ladder(v, (struct ladder *)(void *)(base + k->off),
		    k->max, why, whylen);
	}
	return -1;
}

const struct key *
config_key_find(const char *name, enum scope scope, size_t *idx)
{
	for (size_t i = 0; i < config_nkeys; i++) {
		if (config_keys[i].scope == scope &&
		    strcmp(config_keys[i].name, name) == 0) {
			*idx = i;
			return &config_keys[i];
		}
	}
	return NULL;
}

/*
 * key_slot(name, len): where the search for a name of ${len} bytes starts:
 * its length and three of its bytes, which tell every name of the table
 * apart (each has a slot of its own: one compare a key line).
 */
static size_t
key_slot(const char *name, size_t len)
{
	size_t h = len;

	if (len > 0)
		h += ((size_t)(unsigned char)name[0] << 6) +
		    ((size_t)(unsigned char)name[len - 1] << 5) +
		    (unsigned char)name[len / 2];
	return h & (CONFIG_KEY_SLOTS - 1);
}

_Static_assert(CONFIG_MAX_KEYS * 2 <= CONFIG_KEY_SLOTS,
    "key hash too small for the key mask");

void
config_key_hash_init(struct key_hash *kh)
{
	memset(kh, 0, sizeof(*kh));
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct key *k = &config_keys[i];
		size_t len = strlen(k->name);
		int first = config_key_name(kh, k->name, len);

		kh->len[i] = (unsigned char)len;
		if (first < 0) {
			size_t j = key_slot(k->name, len);

			while (kh->slot[j] != 0)
				j = (j + 1) & (CONFIG_KEY_SLOTS - 1);
			kh->slot[j] = (unsigned char)(i + 1);
			first = (int)i;
		}
		if (kh->row[first][k->scope] == 0)
			kh->row[first][k->scope] = (unsigned char)(i + 1);
	}
}

int
config_key_name(const struct key_hash *kh, const char *name, size_t len)
{
	size_t j = key_slot(name, len);

	for (; kh->slot[j] != 0; j = (j + 1) & (CONFIG_KEY_SLOTS - 1)) {
		size_t i = (size_t)kh->slot[j] - 1;

		if (kh->len[i] == len &&
		    memcmp(config_keys[i].name, name, len) == 0)
			return (int)i;
	}
	return -1;
}

const struct key *
config_key_scoped(
    const struct key_hash *kh, int name, enum scope scope, size_t *idx)
{
	size_t i;

	if (name < 0 || kh->row[name][scope] == 0)
		return NULL;
	i = (size_t)kh->row[name][scope] - 1;
	*idx = i;
	return &config_keys[i];
}

const struct key *
config_key_hash_find(
    const struct key_hash *kh, const char *name, enum scope scope, size_t *idx)
{
	return config_key_scoped(
	    kh, config_key_name(kh, name, strlen(name)), scope, idx);
}

/* A hint for a key that exists, but in another kind of section. */
const char *
config_key_home(const char *name)
{
	size_t i;

	if (config_key_find(name, SCOPE_GLOBAL, &i) != NULL)
		return "; it belongs in [aksnap]";
	if (config_key_find(name, SCOPE_POLICY, &i) != NULL)
		return "; it belongs in [policy:NAME] or [pool:NAME]";
	if (config_key_find(name, SCOPE_POOL, &i) != NULL)
		return "; it belongs in [pool:NAME]";
	return "";
}

size_t
config_key_index(const char *name, enum scope scope)
{
	size_t i = 0;

	(void)config_key_find(name, scope, &i);
	return i;
}

const char *
config_auth_name(enum auth_kind kind)
{
	if ((size_t)kind >= NAUTH)
		return "unknown";
	return auth_names[kind];
}

/* The value of key ${k} in the struct at ${base}, as written in the file. */
/* "canary:1d stable:7d" */
static void
format_ladder(const struct ladder *l, char *buf, size_t len)
{
	char d[32];
	size_t used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < l->n && used < len; i++) {
		if (l->rung[i].soak == PROMOTE_NEVER)
			util_strlcpy(d, "never", sizeof(d));
		else
			util_format_duration(l->rung[i].soak, d, sizeof(d));
		used += (size_t)snprintf(buf + used, len - used, "%s%s:%s",
		    i > 0 ? " " : "", l->rung[i].channel, d);
	}
}

void
config_key_format(const struct key *k, const char *base, char *buf, size_t len)
{
	const void *f = base + k->off;
	long long ll;
	int i;

	switch (k->type) {
	case VT_STRING:
		util_strlcpy(buf, f, len);
		return;
	case VT_INT:
	case VT_BOOL:
	case VT_NOT_BOOL:
		memcpy(&i, f, sizeof(i));
		if (k->type == VT_NOT_BOOL)
			i = !i;
		if (k->type != VT_INT)
			util_strlcpy(buf, i ? "yes" : "no", len);
		else
			snprintf(buf, len, "%d", i);
		return;
	case VT_PROMOTE:
	case VT_DURATION:
		memcpy(&ll, f, sizeof(ll));
		if (k->type == VT_PROMOTE && ll == PROMOTE_NEVER)
			util_strlcpy(buf, "never", len);
		else
			util_format_duration(ll, buf, len);
		return;
	case VT_AUTH:
		util_strlcpy(
		    buf, config_auth_name(*(const enum auth_kind *)f), len);
		return;
	case VT_WHEN:
		util_strlcpy(buf,
		    when_names[*(const enum snapshot_when *)f == WHEN_ALWAYS
		            ? WHEN_ALWAYS
		            : WHEN_CHANGED],
		    len);
		return;
	case VT_LADDER:
		format_ladder((const struct ladder *)f, buf, len);
		return;
	}
}
