/*
 * config.c -- read aksnap.ini into a validated, fully resolved struct config.
 *
 * The file is read whole and judged whole: every error found is reported,
 * each as "file:line: [section] key: what was expected", and the load fails
 * if there was any.  A typo must never silently switch retention off, so an
 * unknown section or key is an error, not a warning.
 *
 * inih does the key = value splitting, but the inih that Debian 12 ships
 * (r55, INI_HANDLER_LINENO off) calls the handler without a line number,
 * never for a section header, truncates section names to 49 bytes and
 * lines to 199.  So the file reaches inih through our own reader
 * (ini_parse_stream): the reader counts lines, reads the "[section]" headers
 * itself (so empty, duplicate and long-named sections are seen), reports
 * lines that are neither a header, a comment nor "key = value", and hands
 * inih only key lines, left-trimmed.  A key line too long for inih's buffer
 * is split by the reader with inih's own rules (first '=' or ':', inline
 * comments start at a ';' after whitespace) and handled directly.  Since no
 * line reaches inih indented, inih's multi-line continuation never applies:
 * indentation is insignificant and a value cannot span lines.
 *
 * Keys are described by one table (name, section, type, range, field
 * offset), which drives parsing, policy resolution and printing alike.
 * Resolution happens after the whole file is read, so [policy:*] sections
 * and the [aksnap] defaults may come after the pools that use them: a
 * pool's policy is the built-in defaults, overlaid with the keys set in its
 * [policy:NAME] ("default" when the pool names none and such a section
 * exists), overlaid with the policy keys set in the pool section itself.
 *
 * Secrets: only the paths of secret files are read here (stat, for their
 * permissions); their contents are never opened, printed or logged.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/config_fleet.h"
#include "config/config_internal.h"
#include "job/base/limits.h"
#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"
#include "job/rules/schedule.h"

/* Longest line accepted at all; inih's own buffer is much shorter. */
#define CONFIG_MAX_LINE 4096
/* Counts (keep_*, min_keep, ...) and durations are bounded to catch typos
 * (job/base/limits.h). */
#define COUNT_MAX LIMIT_COUNT
#define DURATION_MAX LIMIT_DURATION

enum scope {
	SCOPE_GLOBAL, /* [aksnap] */
	SCOPE_POLICY, /* [policy:NAME], and overrides in [pool:NAME] */
	SCOPE_POOL, /* [pool:NAME] only */
};

enum vtype {
	VT_STRING,
	VT_INT, /* int field, [min, max] */
	VT_DURATION, /* long long seconds, [min, max] */
	VT_PROMOTE, /* a duration or "never" (PROMOTE_NEVER) */
	VT_BOOL, /* int field 0/1; no key uses it yet */
	VT_AUTH,
	VT_WHEN,
	VT_LADDER, /* struct ladder: "canary:1d stable:7d" */
	VT_NOT_BOOL, /* int field, the boolean's negation (enabled -> paused) */
};

/* What a string value must look like. */
enum check {
	CK_NONE,
	CK_FILE, /* an existing regular file (ca_file) */
	CK_UUID,
	CK_TENANT, /* a UUID or a domain */
	CK_URL_TLS, /* https://, or http:// to a loopback host */
	CK_URL, /* http:// or https:// */
	CK_API_VERSION,
	CK_PREFIX,
	CK_TIMEZONE,
	CK_SCHEDULE,
	CK_NAME, /* policy names, channels */
	CK_RESOURCE_GROUP,
	CK_CLUSTER,
	CK_NODEPOOL,
	CK_MSI_RES_ID,
	CK_NOTES, /* a URL template with {path} (https://, or http:// to a
	             loopback host), or "off" */
};

struct key {
	const char *name;
	enum scope scope;
	enum vtype type;
	enum check check;
	size_t off;
	size_t size;
	long long min;
	long long max;
};

#define G(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define P(f) offsetof(struct policy, f), sizeof(((struct policy *)0)->f)
#define L(f) offsetof(struct pool_conf, f), sizeof(((struct pool_conf *)0)->f)

static const struct key keys[] = {
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

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
/* Sections remember which keys they hold in a 64-bit mask. */
_Static_assert(sizeof(keys) / sizeof(keys[0]) <= 64, "key mask too small");

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

enum sect_kind {
	SECT_GLOBAL,
	SECT_POLICY,
	SECT_POOL,
	SECT_FLEET, /* [fleet:NAME]: selectors in c->fleets[fleet] */
	SECT_IGNORED, /* unknown or duplicate: already reported, keys skipped */
};

struct section {
	enum sect_kind kind;
	char title[80]; /* the text between [ and ], for messages */
	char name[64]; /* NAME of [policy:NAME] / [pool:NAME] */
	int line;
	uint64_t seen; /* keys present, valid or not */
	uint64_t set; /* keys with a valid, non-empty value */
	uint64_t bad; /* keys with an invalid value (reported) */
	int keyline[NKEYS]; /* where each key was set */
	struct policy pol; /* policy keys of a policy or pool section */
	struct pool_conf pool; /* pool keys */
	size_t fleet; /* SECT_FLEET: index into c->fleets */
};

struct cerr {
	int line;
	size_t seq;
	char *text;
};

struct parse {
	const char *path;
	struct config *c;

	struct section *sects;
	size_t nsects;
	size_t sectcap;
	long cur; /* index of the current section; -1 before the first */

	struct cerr *errs;
	size_t nerrs;
	size_t errcap;
	int oom;

	/* The reader's state. */
	FILE *f;
	char *line;
	size_t linecap;
	int lineno;

	/* Sections by kind and name, to find repeats in O(1). */
	struct seen_set *sections;
};

/*
 * A small open-addressing hash set of strings, each with a value (an
 * index).  Repeats of sections and node pools are found with it, so that
 * a configuration of 10,000 pools is checked in linear time, not in
 * 10,000^2 comparisons.
 */
struct seen_set {
	char **keys; /* cap slots, NULL when empty */
	size_t *vals;
	size_t cap, n;
};

static uint64_t
seen_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void
seen_free(struct seen_set *ss)
{
	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->cap; i++)
		free(ss->keys[i]);
	free(ss->keys);
	free(ss->vals);
	free(ss);
}

static int
seen_grow(struct seen_set *ss)
{
	size_t ncap = ss->cap ? ss->cap * 2 : 64;
	char **nk = calloc(ncap, sizeof(*nk));
	size_t *nv = calloc(ncap, sizeof(*nv));

	if (nk == NULL || nv == NULL) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < ss->cap; i++) {
		size_t j;

		if (ss->keys[i] == NULL)
			continue;
		j = seen_hash(ss->keys[i]) & (ncap - 1);
		while (nk[j] != NULL)
			j = (j + 1) & (ncap - 1);
		nk[j] = ss->keys[i];
		nv[j] = ss->vals[i];
	}
	free(ss->keys);
	free(ss->vals);
	ss->keys = nk;
	ss->vals = nv;
	ss->cap = ncap;
	return 0;
}

/*
 * seen_add(ss, key, val, prev):
 * Add ${key} with ${val}.  Return 0 when it was new, 1 when it was there
 * already (its value in ${*prev}; nothing added), -1 on ENOMEM.
 */
static int
seen_add(struct seen_set *ss, const char *key, size_t val, size_t *prev)
{
	size_t j;

	if ((ss->n + 1) * 2 > ss->cap && seen_grow(ss))
		return -1;
	j = seen_hash(key) & (ss->cap - 1);
	while (ss->keys[j] != NULL) {
		if (strcmp(ss->keys[j], key) == 0) {
			*prev = ss->vals[j];
			return 1;
		}
		j = (j + 1) & (ss->cap - 1);
	}
	ss->keys[j] = strdup(key);
	if (ss->keys[j] == NULL)
		return -1;
	ss->vals[j] = val;
	ss->n++;
	return 0;
}

/* seen_find(ss, key, val): 1 with its value, or 0. */
static int
seen_find(const struct seen_set *ss, const char *key, size_t *val)
{
	size_t j;

	if (ss->cap == 0)
		return 0;
	j = seen_hash(key) & (ss->cap - 1);
	while (ss->keys[j] != NULL) {
		if (strcmp(ss->keys[j], key) == 0) {
			*val = ss->vals[j];
			return 1;
		}
		j = (j + 1) & (ss->cap - 1);
	}
	return 0;
}

/* lower(dst, len, fmt, ...): the formatted text, lower-cased. */
static void lower(char *dst, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lower(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
	for (; *dst != '\0'; dst++)
		*dst = (char)tolower((unsigned char)*dst);
}

static void perr(struct parse *p, int line, const struct section *s,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * perr(p, line, s, key, fmt, ...):
 * Record one error, "path:line: [section] key: message".  ${s} and ${key}
 * may be NULL; ${line} 0 means the error is about the whole file.
 */
static void
perr(struct parse *p, int line, const struct section *s, const char *key,
    const char *fmt, ...)
{
	struct buf b;
	struct cerr *ne;
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	buf_init(&b, 4096);
	if (line > 0)
		buf_printf(&b, "%s:%d: ", p->path, line);
	else
		buf_printf(&b, "%s: ", p->path);
	if (s != NULL && key != NULL)
		buf_printf(&b, "[%s] %s: ", s->title, key);
	else if (s != NULL)
		buf_printf(&b, "[%s]: ", s->title);
	else if (key != NULL)
		buf_printf(&b, "%s: ", key);
	buf_printf(&b, "%s", msg);
	if (b.data == NULL)
		goto err0;

	if (p->nerrs == p->errcap) {
		size_t ncap = p->errcap ? p->errcap * 2 : 16;

		ne = realloc(p->errs, ncap * sizeof(*ne));
		if (ne == NULL)
			goto err1;
		p->errs = ne;
		p->errcap = ncap;
	}
	p->errs[p->nerrs].line = line;
	p->errs[p->nerrs].seq = p->nerrs;
	p->errs[p->nerrs].text = b.data;
	p->nerrs++;
	return;

err1:
	buf_free(&b);
err0:
	p->oom = 1;
}

static int
cerr_cmp(const void *a, const void *b)
{
	const struct cerr *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
policy_defaults(struct policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	util_strlcpy(pol->schedule, "0 2 * * *", sizeof(pol->schedule));
	pol->snapshot_when = WHEN_CHANGED;
	pol->keep_last = 3;
	pol->keep_hourly = 0;
	pol->keep_daily = 7;
	pol->keep_weekly = 4;
	pol->keep_monthly = 6;
	pol->keep_yearly = 0;
	pol->keep_within = 2 * 86400;
	pol->min_keep = 2;
	pol->max_delete_per_run = 10;
	pol->promote_after = 7 * 86400;
	util_strlcpy(pol->channel, "stable", sizeof(pol->channel));
	pol->keep_promoted = 2;
	pol->warn_baseline_age = 30 * 86400;
	pol->warn_image_age = 75 * 86400;
	util_strlcpy(pol->release_notes, CONFIG_RELEASE_NOTES_DEFAULT,
	    sizeof(pol->release_notes));
}

static void
config_defaults(struct config *c)
{
	util_strlcpy(
	    c->database, "/var/lib/aksnap/aksnap.db", sizeof(c->database));
	c->auth = AUTH_AUTO;
	util_strlcpy(c->arm_endpoint, "https://management.azure.com",
	    sizeof(c->arm_endpoint));
	util_strlcpy(c->authority_host, CONFIG_AUTHORITY_DEFAULT,
	    sizeof(c->authority_host));
	util_strlcpy(
	    c->imds_endpoint, CONFIG_IMDS_DEFAULT, sizeof(c->imds_endpoint));
	util_strlcpy(c->api_version, "2026-08-01", sizeof(c->api_version));
	c->max_parallel = 8;
	c->max_fleet_pools = LIMIT_FLEET_POOLS;
	c->request_timeout = 60;
	util_strlcpy(c->name_prefix, "aksnap", sizeof(c->name_prefix));
	util_strlcpy(c->timezone, "UTC", sizeof(c->timezone));
}

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

static int
chars_in(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/* Pool keys, policy names, channels: letters digits - _ . up to 63. */
static int
is_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= LIMIT_ARM_NAME && chars_in(s, "-_.");
}

/* ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$ */
static int
is_cluster(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= LIMIT_ARM_NAME && chars_in(s, "-_") &&
	    isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

/* ^[a-z][a-z0-9]{0,11}$ */
static int
is_nodepool(const char *s)
{
	size_t n = strlen(s);

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
is_resource_group(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= LIMIT_ARM_RESOURCE_GROUP &&
	    chars_in(s, "-_.()") && s[n - 1] != '.';
}

/* The prefix starts every snapshot name, which must start alphanumeric. */
static int
is_prefix(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 20 && chars_in(s, "-_") &&
	    isalnum((unsigned char)s[0]);
}

static int
is_tenant(const char *s)
{
	size_t n = strlen(s);

	return is_uuid(s) || (n >= 1 && n <= 127 && chars_in(s, "-."));
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
 * check_shape(k, v, why, whylen):
 * Check a string value against its key's rule.  0, or -1 with what was
 * expected in ${why}.
 */
static int
check_shape(const struct key *k, const char *v, char *why, size_t whylen)
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
		if (is_tenant(v))
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
		if (is_prefix(v))
			return 0;
		snprintf(why, whylen,
		    "expected 1-20 letters, digits, '-' or '_', starting with "
		    "a "
		    "letter or digit (it starts every snapshot name)");
		return -1;
	case CK_TIMEZONE:
		return 0; /* loaded, once, by resolve() */
	case CK_SCHEDULE:
		if (schedule_parse(v, &sched, serr, sizeof(serr)) == 0)
			return 0;
		snprintf(why, whylen,
		    "expected a 5-field cron expression, @hourly, @daily, "
		    "@weekly, @monthly, @yearly or @every DURATION (%s)",
		    serr);
		return -1;
	case CK_NAME:
		if (is_name(v))
			return 0;
		snprintf(why, whylen,
		    "expected 1-63 letters, digits, '-', '_' or '.'");
		return -1;
	case CK_RESOURCE_GROUP:
		if (is_resource_group(v))
			return 0;
		snprintf(why, whylen,
		    "expected a resource group name: 1-90 letters, digits, "
		    "'-', '_', '.', '(' or ')', not ending in '.'");
		return -1;
	case CK_CLUSTER:
		if (is_cluster(v))
			return 0;
		snprintf(why, whylen,
		    "expected a cluster name: 1-63 letters, digits, '-' or "
		    "'_', starting and ending with a letter or digit");
		return -1;
	case CK_NODEPOOL:
		if (is_nodepool(v))
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
 * check_string(k, v, why, whylen):
 * The key's own rule first (its message is the more useful), then the
 * size of the field.
 */
static int
check_string(const struct key *k, const char *v, char *why, size_t whylen)
{
	if (check_shape(k, v, why, whylen) != 0)
		return -1;
	if (strlen(v) >= k->size) {
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
		if (!is_name(item) ||
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
 * parse_value(k, v, base, why, whylen):
 * Parse ${v} for key ${k} into the field at ${base} + offset.  0, or -1
 * with what was expected in ${why} (the field is then left alone).
 */
static int
parse_value(
    const struct key *k, const char *v, char *base, char *why, size_t whylen)
{
	char lo[32], hi[32];
	long long n;
	int b;

	switch (k->type) {
	case VT_STRING:
		if (check_string(k, v, why, whylen) != 0)
			return -1;
		util_strlcpy(base + k->off, v, k->size);
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

static const struct key *
find_key(const char *name, enum scope scope, size_t *idx)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].scope == scope && strcmp(keys[i].name, name) == 0) {
			*idx = i;
			return &keys[i];
		}
	}
	return NULL;
}

/* A hint for a key that exists, but in another kind of section. */
static const char *
key_home(const char *name)
{
	size_t i;

	if (find_key(name, SCOPE_GLOBAL, &i) != NULL)
		return "; it belongs in [aksnap]";
	if (find_key(name, SCOPE_POLICY, &i) != NULL)
		return "; it belongs in [policy:NAME] or [pool:NAME]";
	if (find_key(name, SCOPE_POOL, &i) != NULL)
		return "; it belongs in [pool:NAME]";
	return "";
}

/*
 * on_key(p, name, value):
 * One "name = value" line of the current section (line p->lineno).
 * Return 0, or -1 if it was wrong (the error is recorded).
 */
static int
on_key(struct parse *p, const char *name, const char *value)
{
	struct section *s;
	const struct key *k = NULL;
	size_t idx = 0;
	char *base;
	char why[512];

	if (p->cur < 0) {
		perr(p, p->lineno, NULL, name,
		    "set before any [section]; put it under [aksnap], "
		    "[policy:NAME] or [pool:NAME]");
		return -1;
	}
	s = &p->sects[p->cur];
	switch (s->kind) {
	case SECT_IGNORED:
		return 0; /* the section header is already reported */
	case SECT_GLOBAL:
		k = find_key(name, SCOPE_GLOBAL, &idx);
		break;
	case SECT_POLICY:
		k = find_key(name, SCOPE_POLICY, &idx);
		break;
	case SECT_POOL:
		k = find_key(name, SCOPE_POOL, &idx);
		if (k == NULL)
			k = find_key(name, SCOPE_POLICY, &idx);
		break;
	case SECT_FLEET:
		switch (config_fleet_key(
		    &p->c->fleets[s->fleet], name, value, why, sizeof(why))) {
		case 0:
			return 0;
		case -1:
			perr(p, p->lineno, s, name, "%s", why);
			return -1;
		default:
			break;
		}
		k = find_key(name, SCOPE_POLICY, &idx);
		if (k == NULL && strcmp(name, "policy") == 0)
			k = find_key(name, SCOPE_POOL, &idx);
		break;
	}
	if (k == NULL) {
		perr(p, p->lineno, s, name, "unknown key%s", key_home(name));
		return -1;
	}
	if (s->seen & (1ULL << idx)) {
		perr(p, p->lineno, s, name, "set twice (first on line %d)",
		    s->keyline[idx]);
		return -1;
	}
	s->seen |= 1ULL << idx;
	s->keyline[idx] = p->lineno;

	/* An empty value means "the default" (or "inherit", in a pool). */
	if (value[0] == '\0')
		return 0;

	if (k->scope == SCOPE_GLOBAL)
		base = (char *)p->c;
	else if (k->scope == SCOPE_POLICY)
		base = (char *)&s->pol;
	else
		base = (char *)&s->pool;
	if (parse_value(k, value, base, why, sizeof(why)) != 0) {
		perr(p, p->lineno, s, name, "%s, got \"%.100s\"", why, value);
		s->bad |= 1ULL << idx;
		return -1;
	}
	s->set |= 1ULL << idx;
	return 0;
}

/*
 * ini_cb(user, section, name, value):
 * The boundary with inih, whose handler returns nonzero on success.  The
 * section inih passes is ignored: the reader tracks sections itself.
 */
static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	(void)section;
	return on_key(user, name, value) == 0;
}

/*
 * find_sep(s, chars):
 * inih's rule: the first of ${chars}, or an inline comment (a ';' after
 * whitespace), or the end of ${s}.
 */
static char *
find_sep(char *s, const char *chars)
{
	int was_space = 0;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static char *
lskip(char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

static struct section *
new_section(struct parse *p)
{
	struct section *ns;

	if (p->nsects == p->sectcap) {
		size_t ncap = p->sectcap ? p->sectcap * 2 : 8;

		ns = realloc(p->sects, ncap * sizeof(*ns));
		if (ns == NULL) {
			p->oom = 1;
			p->cur = -1;
			return NULL;
		}
		p->sects = ns;
		p->sectcap = ncap;
	}
	ns = &p->sects[p->nsects];
	memset(ns, 0, sizeof(*ns));
	policy_defaults(&ns->pol);
	p->cur = (long)p->nsects++;
	return ns;
}

/*
 * open_section(p, title):
 * A "[title]" header on line p->lineno: classify it; later keys go to it.
 */
static void
open_section(struct parse *p, const char *title)
{
	struct section *s;
	const char *name = NULL;
	enum sect_kind kind;

	if (strcmp(title, "aksnap") == 0) {
		kind = SECT_GLOBAL;
	} else if (strncmp(title, "policy:", 7) == 0) {
		kind = SECT_POLICY;
		name = title + 7;
	} else if (strncmp(title, "pool:", 5) == 0) {
		kind = SECT_POOL;
		name = title + 5;
	} else if (strncmp(title, "fleet:", 6) == 0) {
		kind = SECT_FLEET;
		name = title + 6;
	} else {
		kind = SECT_IGNORED;
	}

	s = new_section(p);
	if (s == NULL)
		return;
	s->kind = kind;
	s->line = p->lineno;
	util_strlcpy(s->title, title, sizeof(s->title));
	if (strlen(title) >= sizeof(s->title))
		memcpy(s->title + sizeof(s->title) - 4, "...", 4);

	if (kind == SECT_IGNORED) {
		perr(p, p->lineno, s, NULL,
		    "unknown section; expected [aksnap], [policy:NAME], "
		    "[pool:NAME] or [fleet:NAME]");
		return;
	}
	if (name != NULL && !is_name(name)) {
		perr(p, p->lineno, s, NULL,
		    "expected a %s name of 1-63 letters, digits, '-', '_' or "
		    "'.', got \"%.100s\"",
		    kind == SECT_POOL        ? "pool"
		        : kind == SECT_FLEET ? "fleet"
		                             : "policy",
		    name);
		s->kind = SECT_IGNORED;
		return;
	}
	if (name != NULL)
		util_strlcpy(s->name, name, sizeof(s->name));

	/* Pool keys are typed on the command line: compare without case. */
	{
		char key[80];
		size_t first = 0;
		int got;

		if (p->sections == NULL)
			p->sections = calloc(1, sizeof(*p->sections));
		if (p->sections == NULL) {
			p->oom = 1;
			return;
		}
		lower(key, sizeof(key), "%d:%s", (int)kind, s->name);
		got = seen_add(p->sections, key, p->nsects - 1, &first);
		if (got < 0) {
			p->oom = 1;
			return;
		}
		if (got == 1) {
			perr(p, p->lineno, s, NULL,
			    "section repeated (first on line %d); its keys "
			    "are ignored",
			    p->sects[first].line);
			s->kind = SECT_IGNORED;
		}
	}
	if (s->kind == SECT_FLEET &&
	    config_fleet_add(p->c, s->name, s->line, &s->fleet)) {
		p->oom = 1;
		s->kind = SECT_IGNORED;
	}
}

/*
 * classify(p, s, str, num):
 * Look at one line (already trimmed), act on headers and malformed lines,
 * and put into ${str} (inih's buffer of ${num} bytes) what inih should see:
 * the key line, or an empty line.
 */
static void
classify(struct parse *p, char *s, char *str, int num)
{
	struct section *sect;
	char *end, *name, *value;
	size_t n = strlen(s);

	str[0] = '\n';
	str[1] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return;

	if (*s == '[') {
		end = find_sep(s + 1, "]");
		if (*end != ']') {
			perr(p, p->lineno, NULL, NULL,
			    "expected ']' closing the section header");
			/* An ignored section swallows the keys below it. */
			sect = new_section(p);
			if (sect != NULL) {
				sect->kind = SECT_IGNORED;
				sect->line = p->lineno;
			}
			return;
		}
		*end = '\0';
		value = lskip(end + 1);
		if (*value != '\0' && *value != ';' && *value != '#')
			perr(p, p->lineno, NULL, NULL,
			    "unexpected text after the section header");
		name = lskip(s + 1);
		rstrip(name);
		open_section(p, name);
		return;
	}

	end = find_sep(s, "=:");
	if (*end != '=' && *end != ':') {
		perr(p, p->lineno, NULL, NULL,
		    "expected KEY = VALUE, a [section] or a comment, got "
		    "\"%.60s\"",
		    s);
		return;
	}
	if (n + 2 <= (size_t)num) {
		/* Fits: inih splits it and calls ini_cb. */
		memcpy(str, s, n);
		str[n] = '\n';
		str[n + 1] = '\0';
		return;
	}
	/* Too long for inih's buffer: split it the way inih would. */
	*end = '\0';
	name = s;
	rstrip(name);
	value = end + 1;
	end = find_sep(value, NULL);
	*end = '\0';
	value = lskip(value);
	rstrip(value);
	(void)on_key(p, name, value);
}

/*
 * config_reader(str, num, stream):
 * inih's fgets-style reader over p->f; see the essay at the top.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	ssize_t n;
	char *s;

	if (num < 2)
		return NULL;
	n = getline(&p->line, &p->linecap, p->f);
	if (n < 0)
		return NULL;
	p->lineno++;
	s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a UTF-8 byte order mark */
	if (n > CONFIG_MAX_LINE) {
		perr(p, p->lineno, NULL, NULL, "line longer than %d characters",
		    CONFIG_MAX_LINE);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	rstrip(s);
	classify(p, lskip(s), str, num);
	return str;
}

/* Overlay the policy keys set in ${from_set} of ${from} onto ${to}. */
static void
overlay_policy(struct policy *to, const struct policy *from, uint64_t from_set)
{
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].scope != SCOPE_POLICY || !(from_set & (1ULL << i)))
			continue;
		memcpy((char *)to + keys[i].off,
		    (const char *)from + keys[i].off, keys[i].size);
	}
}

static size_t
key_index(const char *name, enum scope scope)
{
	size_t i = 0;

	(void)find_key(name, scope, &i);
	return i;
}

/*
 * ladder_form_clash(p, s):
 * `channels` and `channel`/`promote_after` in one section are two answers
 * to one question: report it at the later line, naming both keys.
 */
static void
ladder_form_clash(struct parse *p, const struct section *s)
{
	size_t kl = key_index("channels", SCOPE_POLICY);
	size_t kc = key_index("channel", SCOPE_POLICY);
	size_t ka = key_index("promote_after", SCOPE_POLICY);
	size_t other;

	if (!(s->seen & (1ULL << kl)) ||
	    !(s->seen & ((1ULL << kc) | (1ULL << ka))))
		return;
	other = (s->seen & (1ULL << kc)) ? kc : ka;
	perr(p,
	    s->keyline[kl] > s->keyline[other] ? s->keyline[kl]
	                                       : s->keyline[other],
	    s, "channels",
	    "set with %s (line %d) in one section; use either channels = "
	    "CHANNEL:SOAK ... (a ladder) or channel + promote_after (one "
	    "rung)",
	    keys[other].name, s->keyline[other]);
}

/*
 * resolve_ladder(pol, ps, s):
 * Fill ${pol}'s ladder once its keys are overlaid: the most specific
 * section that speaks decides the form (the pool ${s}, else its policy
 * ${ps}, which may be NULL).  The one-rung form is channel:promote_after;
 * with a ladder, `channel` (the default of baseline, drift, apply, check
 * and promote) becomes its last rung and promote_after its first soak.
 */
static void
resolve_ladder(
    struct policy *pol, const struct section *ps, const struct section *s)
{
	uint64_t kl = 1ULL << key_index("channels", SCOPE_POLICY);
	uint64_t one = (1ULL << key_index("channel", SCOPE_POLICY)) |
	    (1ULL << key_index("promote_after", SCOPE_POLICY));
	int ladder;

	ladder =
	    (s->set & kl) || (!(s->set & one) && ps != NULL && (ps->set & kl));
	if (ladder && pol->channels.n > 0) {
		const struct rung *last =
		    &pol->channels.rung[pol->channels.n - 1];

		util_strlcpy(pol->channel, last->channel, sizeof(pol->channel));
		pol->promote_after = pol->channels.rung[0].soak;
		return;
	}
	memset(&pol->channels, 0, sizeof(pol->channels));
	pol->channels.n = 1;
	util_strlcpy(pol->channels.rung[0].channel, pol->channel,
	    sizeof(pol->channels.rung[0].channel));
	pol->channels.rung[0].soak = pol->promote_after;
}

static int
keeps_nothing(const struct policy *pol)
{
	return pol->keep_last == 0 && pol->keep_hourly == 0 &&
	    pol->keep_daily == 0 && pol->keep_weekly == 0 &&
	    pol->keep_monthly == 0 && pol->keep_yearly == 0 &&
	    pol->keep_within == 0 && pol->min_keep == 0;
}

static uint64_t
retention_mask(void)
{
	static const char *const names[] = {"keep_last", "keep_hourly",
	    "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly",
	    "keep_within", "min_keep"};
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		m |= 1ULL << key_index(names[i], SCOPE_POLICY);
	return m;
}

/*
 * require(p, s, name):
 * Report the pool key ${name} missing from ${s}, unless its value was
 * there but wrong (that is reported already).
 */
static void
require(struct parse *p, const struct section *s, const char *name)
{
	size_t i = key_index(name, SCOPE_POOL);

	if ((s->set | s->bad) & (1ULL << i))
		return;
	perr(p, s->line, s, name,
	    "missing; every pool needs resource_group, cluster and nodepool");
}

/*
 * check_secret_file(p, s, key, path, line):
 * A secret file must exist, be a regular file and not be accessible by
 * group or other.  Only stat(2): the secret itself is never read here.
 */
static void
check_secret_file(struct parse *p, const struct section *s, const char *key,
    const char *path, int line)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		perr(p, line, s, key, "%s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		perr(p, line, s, key, "%s: not a regular file", path);
		return;
	}
	if ((st.st_mode & 077) != 0)
		perr(p, line, s, key,
		    "%s has mode %04o; a secret must not be readable by group "
		    "or other (chmod 600 %s)",
		    path, (unsigned)(st.st_mode & 07777), path);
}

/*
 * credential(c, field, size, name):
 * systemd's LoadCredential= puts secrets in $CREDENTIALS_DIRECTORY; when
 * the file names none, use the credential ${name} if it is there.
 */
static void
credential(char *field, size_t size, const char *name)
{
	char path[PATH_MAX];

	if (field[0] != '\0' ||
	    !config_credential_path(name, path, sizeof(path)))
		return;
	if (strlen(path) < size)
		util_strlcpy(field, path, size);
}

static void
strip_trailing_slashes(char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		url[--n] = '\0';
}

/*
 * resolve(p):
 * After the whole file is read: build the policies and pools, apply the
 * defaults, and run the checks that span sections.
 */
static int
resolve(struct parse *p)
{
	struct config *c = p->c;
	const struct section *global = NULL;
	const struct section *dflt = NULL;
	uint64_t keepmask = retention_mask();
	size_t np = 0, nl = 0, ip, il;
	size_t k_sub, k_pol, k_secret, k_cert, k_client, k_object, k_msi, k_tz;
	struct seen_set *policies = NULL, *nodepools = NULL;

	k_sub = key_index("subscription", SCOPE_POOL);
	k_pol = key_index("policy", SCOPE_POOL);
	k_secret = key_index("client_secret_file", SCOPE_GLOBAL);
	k_cert = key_index("client_certificate_file", SCOPE_GLOBAL);
	k_client = key_index("client_id", SCOPE_GLOBAL);
	k_object = key_index("object_id", SCOPE_GLOBAL);
	k_msi = key_index("msi_res_id", SCOPE_GLOBAL);
	k_tz = key_index("timezone", SCOPE_GLOBAL);

	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];

		if (s->kind == SECT_GLOBAL)
			global = s;
		else if (s->kind == SECT_POLICY)
			np++;
		else if (s->kind == SECT_POOL)
			nl++;
		if (s->kind == SECT_POLICY && strcmp(s->name, "default") == 0)
			dflt = s;
	}

	/* [aksnap]: what no single key can check alone. */
	if (c->auth == AUTH_AUTO || c->auth == AUTH_CLIENT_SECRET)
		credential(c->client_secret_file, sizeof(c->client_secret_file),
		    "aksnap-client-secret");
	if (c->auth == AUTH_AUTO || c->auth == AUTH_CLIENT_CERTIFICATE)
		credential(c->client_certificate_file,
		    sizeof(c->client_certificate_file),
		    "aksnap-client-certificate");
	if (c->client_secret_file[0] != '\0')
		check_secret_file(p, global, "client_secret_file",
		    c->client_secret_file,
		    global != NULL ? global->keyline[k_secret] : 0);
	if (c->client_certificate_file[0] != '\0')
		check_secret_file(p, global, "client_certificate_file",
		    c->client_certificate_file,
		    global != NULL ? global->keyline[k_cert] : 0);
	if (global != NULL && c->auth == AUTH_MANAGED_IDENTITY) {
		int n = !!(global->set & (1ULL << k_client)) +
		    !!(global->set & (1ULL << k_object)) +
		    !!(global->set & (1ULL << k_msi));

		if (n > 1)
			perr(p, global->line, global, "client_id",
			    "a managed identity is chosen by one of client_id, "
			    "object_id or msi_res_id, not several");
	}
	/* The zone is read here, once; the pure code is handed it. */
	c->tz = tz_load(c->timezone);
	if (c->tz == NULL)
		perr(p, global != NULL ? global->keyline[k_tz] : 0, global,
		    "timezone",
		    "expected an IANA time zone like UTC or Europe/Berlin, "
		    "got \"%.100s\"",
		    c->timezone);
	strip_trailing_slashes(c->arm_endpoint);
	strip_trailing_slashes(c->authority_host);
	strip_trailing_slashes(c->imds_endpoint);

	if (np > 0) {
		c->policies = calloc(np, sizeof(*c->policies));
		if (c->policies == NULL)
			goto oom;
	}
	if (nl > 0) {
		c->pools = calloc(nl, sizeof(*c->pools));
		if (c->pools == NULL)
			goto oom;
	}

	ip = 0;
	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];
		struct policy *pol;

		if (s->kind != SECT_POLICY)
			continue;
		pol = &c->policies[ip++];
		policy_defaults(pol);
		overlay_policy(pol, &s->pol, s->set);
		util_strlcpy(pol->name, s->name, sizeof(pol->name));
		ladder_form_clash(p, s);
		resolve_ladder(pol, NULL, s);
		if (keeps_nothing(pol))
			perr(p, s->line, s, "keep_*",
			    "this policy keeps nothing: keep_last, "
			    "keep_hourly, "
			    "keep_daily, keep_weekly, keep_monthly, "
			    "keep_yearly, keep_within and min_keep are all 0");
	}
	c->npolicies = ip;

	policies = calloc(1, sizeof(*policies));
	nodepools = calloc(1, sizeof(*nodepools));
	if (policies == NULL || nodepools == NULL)
		goto oom;
	for (size_t i = 0; i < p->nsects; i++) {
		size_t prev;

		if (p->sects[i].kind == SECT_POLICY &&
		    seen_add(policies, p->sects[i].name, i, &prev) < 0)
			goto oom;
	}
	il = 0;
	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];
		const struct section *ps = NULL;
		struct pool_conf *pc;

		if (s->kind != SECT_POOL)
			continue;
		pc = &c->pools[il++];
		*pc = s->pool;
		util_strlcpy(pc->key, s->name, sizeof(pc->key));
		pc->line = s->line;

		require(p, s, "resource_group");
		require(p, s, "cluster");
		require(p, s, "nodepool");
		if (pc->subscription[0] == '\0' &&
		    !(s->bad & (1ULL << k_sub))) {
			if (c->subscription[0] == '\0')
				perr(p,
				    (s->seen & (1ULL << k_sub))
				        ? s->keyline[k_sub]
				        : s->line,
				    s, "subscription",
				    "missing, and [aksnap] sets no default "
				    "subscription");
			else
				util_strlcpy(pc->subscription, c->subscription,
				    sizeof(pc->subscription));
		}

		/* The policy: defaults < [policy:NAME] < the pool's keys. */
		if (pc->policy_name[0] != '\0') {
			size_t j;

			if (seen_find(policies, pc->policy_name, &j))
				ps = &p->sects[j];
			if (ps == NULL)
				perr(p, s->keyline[k_pol], s, "policy",
				    "no [policy:%s] section", pc->policy_name);
		} else if (dflt != NULL) {
			ps = dflt;
			util_strlcpy(pc->policy_name, "default",
			    sizeof(pc->policy_name));
		}
		policy_defaults(&pc->policy);
		if (ps != NULL) {
			overlay_policy(&pc->policy, &ps->pol, ps->set);
			util_strlcpy(
			    pc->policy.name, ps->name, sizeof(pc->policy.name));
		}
		overlay_policy(&pc->policy, &s->pol, s->set);
		ladder_form_clash(p, s);
		resolve_ladder(&pc->policy, ps, s);
		/* Reported once at the policy unless the pool changed it. */
		if ((s->set & keepmask) != 0 && keeps_nothing(&pc->policy))
			perr(p, s->line, s, "keep_*",
			    "this pool's policy keeps nothing: keep_last, "
			    "keep_hourly, keep_daily, keep_weekly, "
			    "keep_monthly, keep_yearly, keep_within and "
			    "min_keep are all 0");

		/* ARM names are case-insensitive: one node pool, one entry. */
		if (pc->nodepool[0] != '\0') {
			char key[300];
			size_t j = 0;
			int got;

			lower(key, sizeof(key), "%s/%s/%s/%s", pc->subscription,
			    pc->resource_group, pc->cluster, pc->nodepool);
			got = seen_add(nodepools, key, il - 1, &j);
			if (got < 0)
				goto oom;
			if (got == 1)
				perr(p,
				    s->keyline[key_index(
				        "nodepool", SCOPE_POOL)],
				    s, "nodepool",
				    "the same node pool as [pool:%s] (line "
				    "%d); "
				    "each node pool may be listed once",
				    c->pools[j].key, c->pools[j].line);
		}
	}
	c->npools = il;

	/* [fleet:NAME]: subscriptions and the policy, as a pool's. */
	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];
		const struct section *ps = NULL;
		struct fleet_conf *f;
		size_t j;

		if (s->kind != SECT_FLEET)
			continue;
		f = &c->fleets[s->fleet];
		if (f->nsubscriptions == 0) {
			if (c->subscription[0] == '\0')
				perr(p, s->line, s, "subscription",
				    "missing, and [aksnap] sets no default "
				    "subscription");
			else
				util_strlcpy(f->subscriptions[0],
				    c->subscription,
				    sizeof(f->subscriptions[0]));
			f->nsubscriptions = 1;
		}
		util_strlcpy(f->policy_name, s->pool.policy_name,
		    sizeof(f->policy_name));
		if (f->policy_name[0] != '\0') {
			if (seen_find(policies, f->policy_name, &j))
				ps = &p->sects[j];
			if (ps == NULL)
				perr(p, s->keyline[k_pol], s, "policy",
				    "no [policy:%s] section", f->policy_name);
		} else if (dflt != NULL) {
			ps = dflt;
			util_strlcpy(
			    f->policy_name, "default", sizeof(f->policy_name));
		}
		policy_defaults(&f->policy);
		if (ps != NULL) {
			overlay_policy(&f->policy, &ps->pol, ps->set);
			util_strlcpy(
			    f->policy.name, ps->name, sizeof(f->policy.name));
		}
		overlay_policy(&f->policy, &s->pol, s->set);
		if ((s->set & keepmask) != 0 && keeps_nothing(&f->policy))
			perr(p, s->line, s, "keep_*",
			    "this fleet's policy keeps nothing: keep_last, "
			    "keep_hourly, keep_daily, keep_weekly, "
			    "keep_monthly, keep_yearly, keep_within and "
			    "min_keep are all 0");
	}
	seen_free(policies);
	seen_free(nodepools);
	return 0;

oom:
	seen_free(policies);
	seen_free(nodepools);
	p->oom = 1;
	return -1;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->policies);
	free(c->pools);
	free(c->fleets);
	tz_free(c->tz);
	free(c);
}

/*
 * load(path, out, errs):
 * The work of config_load and config_load_errors: on failure the error
 * lines, sorted by line, end up in ${errs}.
 */
static int
load(const char *path, struct config **out, struct buf *errs)
{
	struct parse p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cur = -1;
	*out = NULL;

	p.c = calloc(1, sizeof(*p.c));
	if (p.c == NULL) {
		buf_printf(errs, "%s: out of memory\n", path);
		return -1;
	}
	config_defaults(p.c);
	if (util_strlcpy(p.c->path, path, sizeof(p.c->path)) >=
	    sizeof(p.c->path)) {
		perr(&p, 0, NULL, NULL, "path too long");
		goto done;
	}

	p.f = fopen(path, "r");
	if (p.f == NULL) {
		perr(&p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		goto done;
	}
	rc = ini_parse_stream(config_reader, &p, ini_cb, &p);
	if (ferror(p.f))
		perr(&p, p.lineno, NULL, NULL, "read error: %s",
		    strerror(errno));
	else if (rc < 0)
		p.oom = 1;
	else if (rc > 0 && p.nerrs == 0)
		perr(&p, rc, NULL, NULL, "syntax error");
	fclose(p.f);
	free(p.line);
	(void)resolve(&p);

done:
	if (p.oom)
		perr(&p, 0, NULL, NULL, "out of memory");
	if (p.nerrs > 0)
		qsort(p.errs, p.nerrs, sizeof(*p.errs), cerr_cmp);
	for (size_t i = 0; i < p.nerrs; i++) {
		buf_printf(errs, "%s\n", p.errs[i].text);
		free(p.errs[i].text);
	}
	free(p.errs);
	free(p.sects);
	seen_free(p.sections);
	if (p.nerrs > 0 || p.oom) {
		config_free(p.c);
		return -1;
	}
	*out = p.c;
	return 0;
}

int
config_load(const char *path, struct config **out)
{
	struct buf errs;
	char *line, *nl;
	int rc;

	buf_init(&errs, 1 << 20);
	rc = load(path, out, &errs);
	for (line = errs.data; line != NULL && *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		log_err(NULL, "%s", line);
	}
	if (rc != 0 && errs.len == 0)
		log_err(NULL, "%s: too many errors", path);
	buf_free(&errs);
	return rc;
}

int
config_load_errors(
    const char *path, struct config **out, char *errs, size_t errslen)
{
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	rc = load(path, out, &b);
	if (errslen > 0)
		util_strlcpy(errs, b.data != NULL ? b.data : "", errslen);
	buf_free(&b);
	return rc;
}

const struct pool_conf *
config_find_pool(const struct config *c, const char *key)
{
	if (c == NULL || key == NULL)
		return NULL;
	for (size_t i = 0; i < c->npools; i++)
		if (strcmp(c->pools[i].key, key) == 0)
			return &c->pools[i];
	return NULL;
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

static void
format_value(const struct key *k, const char *base, char *buf, size_t len)
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

static int
is_secret_path(const struct key *k)
{
	return strcmp(k->name, "client_secret_file") == 0 ||
	    strcmp(k->name, "client_certificate_file") == 0;
}

static void
print_keys(FILE *out, enum scope scope, const char *base)
{
	char v[PATH_MAX];

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].scope != scope)
			continue;
		format_value(&keys[i], base, v, sizeof(v));
		if (v[0] == '\0')
			fprintf(out, "%s =\n", keys[i].name);
		else if (is_secret_path(&keys[i]))
			fprintf(out, "%s = %s ; contents not shown\n",
			    keys[i].name, v);
		else
			fprintf(out, "%s = %s\n", keys[i].name, v);
	}
}

static json_t *
json_keys(json_t *o, enum scope scope, const char *base)
{
	char v[PATH_MAX];
	json_t *j;
	int i;

	if (o == NULL)
		return NULL;
	for (size_t n = 0; n < NKEYS; n++) {
		if (keys[n].scope != scope)
			continue;
		if (keys[n].type == VT_INT) {
			memcpy(&i, base + keys[n].off, sizeof(i));
			j = json_integer(i);
		} else if (keys[n].type == VT_BOOL ||
		    keys[n].type == VT_NOT_BOOL) {
			memcpy(&i, base + keys[n].off, sizeof(i));
			j = json_boolean(keys[n].type == VT_BOOL ? i : !i);
		} else {
			format_value(&keys[n], base, v, sizeof(v));
			j = json_string(v);
		}
		json_object_set_new(o, keys[n].name, j);
	}
	return o;
}

void
config_print(const struct config *c, FILE *out, int json)
{
	struct auth_inputs *in;
	json_t *root, *arr, *o;

	if (!json) {
		fprintf(
		    out, "; %s, resolved (secrets are not shown)\n", c->path);
		fprintf(out, "[aksnap]\n");
		print_keys(out, SCOPE_GLOBAL, (const char *)c);
		for (size_t i = 0; i < c->npolicies; i++) {
			fprintf(out, "\n[policy:%s]\n", c->policies[i].name);
			print_keys(
			    out, SCOPE_POLICY, (const char *)&c->policies[i]);
		}
		for (size_t i = 0; i < c->npools; i++) {
			const struct pool_conf *pc = &c->pools[i];

			fprintf(out, "\n[pool:%s]\n", pc->key);
			print_keys(out, SCOPE_POOL, (const char *)pc);
			print_keys(
			    out, SCOPE_POLICY, (const char *)&pc->policy);
		}
		for (size_t i = 0; i < c->nfleets; i++) {
			config_fleet_print(&c->fleets[i], out);
			print_keys(out, SCOPE_POLICY,
			    (const char *)&c->fleets[i].policy);
		}
		in = config_auth_inputs(c);
		if (in != NULL)
			config_auth_inputs_print(in, out);
		config_auth_inputs_free(in);
		return;
	}

	root = json_object();
	if (root == NULL)
		return;
	json_object_set_new(root, "path", json_string(c->path));
	json_object_set_new(root, "aksnap",
	    json_keys(json_object(), SCOPE_GLOBAL, (const char *)c));
	arr = json_array();
	for (size_t i = 0; i < c->npolicies; i++) {
		o = json_object();
		if (o == NULL)
			continue;
		json_object_set_new(
		    o, "name", json_string(c->policies[i].name));
		json_array_append_new(arr,
		    json_keys(o, SCOPE_POLICY, (const char *)&c->policies[i]));
	}
	json_object_set_new(root, "policies", arr);
	arr = json_array();
	for (size_t i = 0; i < c->npools; i++) {
		const struct pool_conf *pc = &c->pools[i];

		o = json_object();
		if (o == NULL)
			continue;
		json_object_set_new(o, "pool", json_string(pc->key));
		json_keys(o, SCOPE_POOL, (const char *)pc);
		json_keys(o, SCOPE_POLICY, (const char *)&pc->policy);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "pools", arr);
	arr = json_array();
	for (size_t i = 0; i < c->nfleets; i++) {
		o = config_fleet_json(&c->fleets[i]);
		if (o == NULL)
			continue;
		json_keys(o, SCOPE_POLICY, (const char *)&c->fleets[i].policy);
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "fleets", arr);
	in = config_auth_inputs(c);
	if (in != NULL)
		json_object_set_new(
		    root, "inputs", config_auth_inputs_json(in));
	config_auth_inputs_free(in);
	json_dumpf(root, out, JSON_INDENT(2));
	fputc('\n', out);
	json_decref(root);
}
