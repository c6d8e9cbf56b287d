/*
 * resolve.c -- from the sections read to the resolved struct config.
 *
 * Resolution happens after the whole file is read, so [policy:*] sections
 * and the [aksnap] defaults may come after the pools that use them: a
 * pool's policy is the built-in defaults, overlaid with the keys set in its
 * [policy:NAME] ("default" when the pool names none and such a section
 * exists), overlaid with the policy keys set in the pool section itself;
 * a [fleet:NAME]'s the same way.  The checks that span sections are made
 * here (a node pool listed twice, a policy that keeps nothing, a ladder
 * written both ways), and the time zone is loaded, once.
 *
 * Secrets: only the paths of secret files are read here (stat, for their
 * permissions); their contents are never opened, printed or logged.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "job/base/limits.h"
#include "job/base/tz.h"
#include "job/base/util.h"

void
config_policy_defaults(struct policy *pol)
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

void
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

/* Overlay the policy keys set in ${from_set} of ${from} onto ${to}. */
static void
overlay_policy(struct policy *to, const struct policy *from, uint64_t from_set)
{
	if (from == NULL) /* the section sets no policy key */
		return;
	for (size_t i = 0; i < config_nkeys; i++) {
		if (config_keys[i].scope != SCOPE_POLICY ||
		    !(from_set & (1ULL << i)))
			continue;
		memcpy((char *)to + config_keys[i].off,
		    (const char *)from + config_keys[i].off,
		    config_keys[i].size);
	}
}

/*
 * ladder_form_clash(p, s):
 * `channels` and `channel`/`promote_after` in one section are two answers
 * to one question: report it at the later line, naming both keys.
 */
static void
ladder_form_clash(struct parse *p, const struct section *s)
{
	size_t kl = config_key_index("channels", SCOPE_POLICY);
	size_t kc = config_key_index("channel", SCOPE_POLICY);
	size_t ka = config_key_index("promote_after", SCOPE_POLICY);
	size_t other;

	int ll, lo;

	if (!(s->seen & (1ULL << kl)) ||
	    !(s->seen & ((1ULL << kc) | (1ULL << ka))))
		return;
	other = (s->seen & (1ULL << kc)) ? kc : ka;
	ll = config_keyline(p, s, kl);
	lo = config_keyline(p, s, other);
	config_perr(p, ll > lo ? ll : lo, s, "channels",
	    "set with %s (line %d) in one section; use either channels = "
	    "CHANNEL:SOAK ... (a ladder) or channel + promote_after (one "
	    "rung)",
	    config_keys[other].name, lo);
}

/*
 * resolve_ladder(pol, ps_set, s_set):
 * Fill ${pol}'s ladder once its keys are overlaid: the most specific
 * section that speaks decides the form (the pool, whose keys set are
 * ${s_set}, else its policy's, ${ps_set}; 0 for none).  The one-rung form
 * is channel:promote_after; with a ladder, `channel` (the default of
 * baseline, drift, apply, check and promote) becomes its last rung and
 * promote_after its first soak.
 */
static void
resolve_ladder(struct policy *pol, uint64_t ps_set, uint64_t s_set)
{
	uint64_t kl = 1ULL << config_key_index("channels", SCOPE_POLICY);
	uint64_t one = (1ULL << config_key_index("channel", SCOPE_POLICY)) |
	    (1ULL << config_key_index("promote_after", SCOPE_POLICY));
	int ladder;

	ladder = (s_set & kl) || (!(s_set & one) && (ps_set & kl));
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
		m |= 1ULL << config_key_index(names[i], SCOPE_POLICY);
	return m;
}

/*
 * require(p, s, i):
 * Report the pool key of row ${i} missing from ${s}, unless its value was
 * there but wrong (that is reported already).
 */
static void
require(struct parse *p, const struct section *s, size_t i)
{
	if ((s->set | s->bad) & (1ULL << i))
		return;
	config_perr(p, s->line, s, config_keys[i].name,
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
		config_perr(p, line, s, key, "%s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		config_perr(p, line, s, key, "%s: not a regular file", path);
		return;
	}
	if ((st.st_mode & 077) != 0)
		config_perr(p, line, s, key,
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

/* What the resolution steps share: the policy sections by name, the key
 * rows looked up once. */
struct resolving {
	struct parse *p;
	const struct section *global; /* [aksnap], or NULL */
	const struct section *dflt; /* [policy:default], or NULL */
	struct row_set policies; /* [policy:NAME] sections by NAME */
	uint64_t keepmask;
	uint64_t polmask; /* every policy key */
	size_t sublen; /* [aksnap]'s subscription's length */
	uint64_t subhash; /* its config_hash_lower(), which each pool that
	                     takes it has too */
	size_t k_pol, k_sub, k_rg, k_cluster, k_np;
	size_t nown; /* c->pool_policies used */
};

/* The line of [aksnap]'s key ${name}, or 0. */
static int
global_line(const struct resolving *r, const char *name)
{
	if (r->global == NULL)
		return 0;
	return config_keyline(
	    r->p, r->global, config_key_index(name, SCOPE_GLOBAL));
}

/* [aksnap]: what no single key can check alone; the zone, loaded once. */
static void
resolve_global(struct resolving *r)
{
	struct parse *p = r->p;
	struct config *c = p->c;
	const struct section *g = r->global;

	if (c->auth == AUTH_AUTO || c->auth == AUTH_CLIENT_SECRET)
		credential(c->client_secret_file, sizeof(c->client_secret_file),
		    "aksnap-client-secret");
	if (c->auth == AUTH_AUTO || c->auth == AUTH_CLIENT_CERTIFICATE)
		credential(c->client_certificate_file,
		    sizeof(c->client_certificate_file),
		    "aksnap-client-certificate");
	if (c->client_secret_file[0] != '\0')
		check_secret_file(p, g, "client_secret_file",
		    c->client_secret_file,
		    global_line(r, "client_secret_file"));
	if (c->client_certificate_file[0] != '\0')
		check_secret_file(p, g, "client_certificate_file",
		    c->client_certificate_file,
		    global_line(r, "client_certificate_file"));
	if (g != NULL && c->auth == AUTH_MANAGED_IDENTITY) {
		static const char *const ids[] = {
		    "client_id", "object_id", "msi_res_id"};
		int n = 0;

		for (size_t i = 0; i < 3; i++)
			n += !!(g->set &
			    (1ULL << config_key_index(ids[i], SCOPE_GLOBAL)));
		if (n > 1)
			config_perr(p, g->line, g, "client_id",
			    "a managed identity is chosen by one of client_id, "
			    "object_id or msi_res_id, not several");
	}
	/* The zone is read here, once; the pure code is handed it. */
	c->tz = tz_load(c->timezone);
	if (c->tz == NULL)
		config_perr(p, global_line(r, "timezone"), g, "timezone",
		    "expected an IANA time zone like UTC or Europe/Berlin, "
		    "got \"%.100s\"",
		    c->timezone);
	strip_trailing_slashes(c->arm_endpoint);
	strip_trailing_slashes(c->authority_host);
	strip_trailing_slashes(c->imds_endpoint);
}

/* same_name(ctx, a, b): sections ${a} and ${b} of the parse ${ctx} have
 * one name, case and all. */
static int
same_name(const void *ctx, size_t a, size_t b)
{
	const struct parse *p = ctx;

	return strcmp(section_name(&p->sects[a]), section_name(&p->sects[b])) ==
	    0;
}

/* A name looked for among the sections of a parse (is_named). */
struct named {
	const struct parse *p;
	const char *name;
};

/* is_named(ctx, row): section ${row} is named ${ctx}'s name exactly. */
static int
is_named(const void *ctx, size_t row)
{
	const struct named *n = ctx;

	return strcmp(section_name(&n->p->sects[row]), n->name) == 0;
}

/* Every [policy:NAME]: the defaults overlaid with its keys.  0 or -1. */
static int
resolve_policies(struct resolving *r, size_t np)
{
	struct parse *p = r->p;
	struct config *c = p->c;
	size_t ip = 0, prev;

	if (np > 0) {
		c->policies = calloc(np, sizeof(*c->policies));
		if (c->policies == NULL)
			return -1;
	}
	for (size_t i = 0; i < p->nsects; i++) {
		struct section *s = &p->sects[i];
		struct policy *pol;

		if (s->kind != SECT_POLICY)
			continue;
		if (config_rows_add(&r->policies,
		        config_hash_lower(0, section_name(s)), i, same_name, p,
		        &prev) < 0)
			return -1;
		s->idx = ip;
		pol = &c->policies[ip++];
		config_policy_defaults(pol);
		overlay_policy(pol, s->pol, s->set);
		util_strlcpy(pol->name, section_name(s), sizeof(pol->name));
		ladder_form_clash(p, s);
		resolve_ladder(pol, 0, s->set);
		if (keeps_nothing(pol))
			config_perr(p, s->line, s, "keep_*",
			    "this policy keeps nothing: keep_last, "
			    "keep_hourly, "
			    "keep_daily, keep_weekly, keep_monthly, "
			    "keep_yearly, keep_within and min_keep are all 0");
	}
	c->npolicies = ip;
	return 0;
}

/*
 * section_policy(r, s, name, namelen):
 * The [policy:NAME] section that pool or fleet section ${s} names in
 * ${name} (or, when it names none, [policy:default] if there is one:
 * then ${name} becomes "default"), or NULL for the built-in defaults.
 */
static const struct section *
section_policy(const struct resolving *r, const struct section *s, char *name,
    size_t namelen)
{
	struct parse *p = r->p;
	const struct section *ps = NULL;
	struct named want;
	size_t j;

	if (name[0] != '\0') {
		want.p = p;
		want.name = name;
		if (config_rows_find(&r->policies, config_hash_lower(0, name),
		        is_named, &want, &j))
			ps = &p->sects[j];
		if (ps == NULL)
			config_perr(p, config_keyline(p, s, r->k_pol), s,
			    "policy", "no [policy:%s] section", name);
	} else if (r->dflt != NULL) {
		ps = r->dflt;
		if (namelen >= sizeof("default"))
			memcpy(name, "default", sizeof("default"));
		else
			util_strlcpy(name, "default", namelen);
	}
	return ps;
}

/*
 * own_policy(out, ps, s):
 * The policy of a section ${s} that sets policy keys: the defaults < its
 * [policy:NAME] ${ps} (NULL: none) < ${s}'s own keys.
 */
static void
own_policy(
    struct policy *out, const struct section *ps, const struct section *s)
{
	config_policy_defaults(out);
	if (ps != NULL) {
		overlay_policy(out, ps->pol, ps->set);
		util_strlcpy(out->name, section_name(ps), sizeof(out->name));
	}
	overlay_policy(out, s->pol, s->set);
}

/* A section's subscription, else [aksnap]'s into ${dst}; an error when
 * neither is set, at ${line}.  1 when [aksnap]'s was taken, else 0. */
static int
default_subscription(const struct resolving *r, const struct section *s,
    int line, char *dst, size_t len)
{
	const struct config *c = r->p->c;

	if (c->subscription[0] == '\0') {
		config_perr(r->p, line, s, "subscription",
		    "missing, and [aksnap] sets no default subscription");
		return 0;
	}
	if (r->sublen < len)
		memcpy(dst, c->subscription, r->sublen + 1);
	else
		util_strlcpy(dst, c->subscription, len);
	return 1;
}

/* nodepool_hash(r, pc, dflt): the hash of ${pc}'s node pool, without
 * case; ${dflt} when its subscription is [aksnap]'s, hashed once. */
static uint64_t
nodepool_hash(const struct resolving *r, const struct pool_conf *pc, int dflt)
{
	uint64_t h = dflt ? r->subhash : config_hash_lower(0, pc->subscription);

	h = config_hash_lower(h, pc->resource_group);
	h = config_hash_lower(h, pc->cluster);
	return config_hash_lower(h, pc->nodepool);
}

/* same_nodepool(ctx, a, b): pools ${a} and ${b} of the config ${ctx} name
 * one node pool: subscription, resource group, cluster and node pool
 * equal but for case (none of them can hold a '/', so this is the
 * "sub/rg/cluster/nodepool" key compared lower-cased). */
static int
same_nodepool(const void *ctx, size_t a, size_t b)
{
	const struct config *c = ctx;
	const struct pool_conf *x = &c->pools[a], *y = &c->pools[b];

	return strcasecmp(x->nodepool, y->nodepool) == 0 &&
	    strcasecmp(x->cluster, y->cluster) == 0 &&
	    strcasecmp(x->resource_group, y->resource_group) == 0 &&
	    strcasecmp(x->subscription, y->subscription) == 0;
}

/*
 * resolve_pool(r, s, nodepools):
 * Pool section ${s}, read into c->pools[s->idx]: the subscription, the
 * policy (shared with its [policy:NAME] when the pool sets no policy key),
 * the checks; repeats found in ${nodepools}.  0 or -1.
 */
static int
resolve_pool(
    struct resolving *r, const struct section *s, struct row_set *nodepools)
{
	struct parse *p = r->p;
	struct config *c = p->c;
	struct pool_conf *pc = &c->pools[s->idx];
	const struct section *ps;
	int dflt = 0;

	require(p, s, r->k_rg);
	require(p, s, r->k_cluster);
	require(p, s, r->k_np);
	if (pc->subscription[0] == '\0' && !(s->bad & (1ULL << r->k_sub)))
		dflt = default_subscription(r, s,
		    (s->seen & (1ULL << r->k_sub))
		        ? config_keyline(p, s, r->k_sub)
		        : s->line,
		    pc->subscription, sizeof(pc->subscription));

	/* The policy: defaults < [policy:NAME] < the pool's keys. */
	ps = section_policy(r, s, pc->policy_name, sizeof(pc->policy_name));
	if ((s->set & r->polmask) == 0) {
		pc->policy =
		    ps != NULL ? &c->policies[ps->idx] : &c->pool_policies[0];
	} else {
		struct policy *own = &c->pool_policies[r->nown++];

		own_policy(own, ps, s);
		ladder_form_clash(p, s);
		resolve_ladder(own, ps != NULL ? ps->set : 0, s->set);
		pc->policy = own;
	}
	/* Reported once at the policy unless the pool changed it. */
	if ((s->set & r->keepmask) != 0 && keeps_nothing(pc->policy))
		config_perr(p, s->line, s, "keep_*",
		    "this pool's policy keeps nothing: keep_last, "
		    "keep_hourly, keep_daily, keep_weekly, "
		    "keep_monthly, keep_yearly, keep_within and "
		    "min_keep are all 0");

	/* ARM names are case-insensitive: one node pool, one entry. */
	if (pc->nodepool[0] != '\0') {
		size_t j = 0;
		int got;

		got = config_rows_add(nodepools, nodepool_hash(r, pc, dflt),
		    s->idx, same_nodepool, c, &j);
		if (got < 0)
			return -1;
		if (got == 1)
			config_perr(p, config_keyline(p, s, r->k_np), s,
			    "nodepool",
			    "the same node pool as [pool:%s] (line "
			    "%d); "
			    "each node pool may be listed once",
			    c->pools[j].key, c->pools[j].line);
	}
	return 0;
}

/*
 * A pool as the pools are sorted by key: the key's first eight bytes as
 * a number, big-endian (so numbers compare as strcmp() compares their
 * bytes; a key is zero after its end, add_pool()), and its index.  Most
 * keys differ in those bytes, and their compare is inline, not a
 * strcmp() called through qsort().
 */
struct by_key {
	uint64_t head;
	size_t idx;
};

_Static_assert(sizeof(((struct pool_conf *)0)->key) >= 8,
    "a key's head is eight bytes of it");

/* key_before(c, a, b): pool ${a}'s key sorts before ${b}'s. */
static inline int
key_before(
    const struct config *c, const struct by_key *a, const struct by_key *b)
{
	if (a->head != b->head)
		return a->head < b->head;
	return strcmp(c->pools[a->idx].key + 8, c->pools[b->idx].key + 8) < 0;
}

/* sort_by_key(c, a, tmp, n): the ${n} pools of ${a} by key, a merge sort
 * with room ${tmp} of ${n}; the sorted array returned (${a} or ${tmp}). */
static struct by_key *
sort_by_key(
    const struct config *c, struct by_key *a, struct by_key *tmp, size_t n)
{
	for (size_t w = 1; w < n; w *= 2) {
		struct by_key *t;

		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				tmp[k++] = key_before(c, &a[j], &a[i]) ? a[j++]
				                                       : a[i++];
			while (i < mid)
				tmp[k++] = a[i++];
			while (j < hi)
				tmp[k++] = a[j++];
		}
		t = a;
		a = tmp;
		tmp = t;
	}
	return a;
}

/* c->pool_order: the pools' indices by key.  0 or -1. */
static int
order_pools(struct config *c)
{
	struct by_key *by, *sorted;

	by = malloc(2 * c->npools * sizeof(*by));
	c->pool_order = malloc(c->npools * sizeof(*c->pool_order));
	if (by == NULL || c->pool_order == NULL) {
		free(by);
		return -1;
	}
	for (size_t i = 0; i < c->npools; i++) {
		uint64_t head;

		memcpy(&head, c->pools[i].key, sizeof(head));
		by[i].head = be64toh(head);
		by[i].idx = i;
	}
	sorted = sort_by_key(c, by, by + c->npools, c->npools);
	for (size_t i = 0; i < c->npools; i++)
		c->pool_order[i] = sorted[i].idx;
	free(by);
	c->nordered = c->npools;
	return 0;
}

/*
 * resolve_pools(r, nown):
 * Every [pool:NAME], in file order, with room for ${nown} policies of
 * pools that set policy keys; then the pools by key for
 * config_find_pool.  0 or -1.
 */
static int
resolve_pools(struct resolving *r, size_t nown)
{
	struct parse *p = r->p;
	struct config *c = p->c;
	struct row_set nodepools;
	int rc = 0;

	/* The built-in defaults, which pools naming no policy share. */
	c->pool_policies = calloc(1 + nown, sizeof(*c->pool_policies));
	if (c->pool_policies == NULL)
		return -1;
	config_policy_defaults(&c->pool_policies[0]);
	resolve_ladder(&c->pool_policies[0], 0, 0);
	r->nown = 1;
	memset(&nodepools, 0, sizeof(nodepools));
	if (config_rows_reserve(&nodepools, c->npools))
		return -1;
	for (size_t i = 0; i < p->nsects && rc == 0; i++) {
		if (p->sects[i].kind != SECT_POOL)
			continue;
		rc = resolve_pool(r, &p->sects[i], &nodepools);
	}
	c->npool_policies = r->nown;
	config_rows_free(&nodepools);
	if (rc == 0 && c->npools == 0) { /* the room reserved for none */
		free(c->pools);
		c->pools = NULL;
	}
	if (rc != 0 || c->npools == 0)
		return rc;

	/* The room left from reading, given back. */
	{
		struct pool_conf *np =
		    realloc(c->pools, c->npools * sizeof(*c->pools));

		if (np != NULL)
			c->pools = np;
	}
	return order_pools(c);
}

/* [fleet:NAME]: subscriptions and the policy, as a pool's. */
static void
resolve_fleets(struct resolving *r)
{
	struct parse *p = r->p;
	struct config *c = p->c;

	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];
		const struct section *ps;
		struct fleet_conf *f;

		if (s->kind != SECT_FLEET)
			continue;
		f = &c->fleets[s->idx];
		if (f->nsubscriptions == 0) {
			(void)default_subscription(r, s, s->line,
			    f->subscriptions[0], sizeof(f->subscriptions[0]));
			f->nsubscriptions = 1;
		}
		ps = section_policy(
		    r, s, f->policy_name, sizeof(f->policy_name));
		own_policy(&f->policy, ps, s);
		/* The ladder as a pool's: a fleet's pools promote too. */
		ladder_form_clash(p, s);
		resolve_ladder(&f->policy, ps != NULL ? ps->set : 0, s->set);
		if ((s->set & r->keepmask) != 0 && keeps_nothing(&f->policy))
			config_perr(p, s->line, s, "keep_*",
			    "this fleet's policy keeps nothing: keep_last, "
			    "keep_hourly, keep_daily, keep_weekly, "
			    "keep_monthly, keep_yearly, keep_within and "
			    "min_keep are all 0");
	}
}

/*
 * config_resolve(p):
 * After the whole file is read: build the policies and pools, apply the
 * defaults, and run the checks that span sections.
 */
int
config_resolve(struct parse *p)
{
	struct resolving r;
	size_t np = 0, nown = 0;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.sublen = strlen(p->c->subscription);
	r.subhash = config_hash_lower_n(0, p->c->subscription, r.sublen);
	r.keepmask = retention_mask();
	for (size_t i = 0; i < config_nkeys; i++)
		if (config_keys[i].scope == SCOPE_POLICY)
			r.polmask |= 1ULL << i;
	r.k_pol = config_key_index("policy", SCOPE_POOL);
	r.k_sub = config_key_index("subscription", SCOPE_POOL);
	r.k_rg = config_key_index("resource_group", SCOPE_POOL);
	r.k_cluster = config_key_index("cluster", SCOPE_POOL);
	r.k_np = config_key_index("nodepool", SCOPE_POOL);
	for (size_t i = 0; i < p->nsects; i++) {
		const struct section *s = &p->sects[i];

		if (s->kind == SECT_GLOBAL)
			r.global = s;
		else if (s->kind == SECT_POLICY)
			np++;
		else if (s->kind == SECT_POOL && (s->set & r.polmask) != 0)
			nown++;
		if (s->kind == SECT_POLICY &&
		    strcmp(section_name(s), "default") == 0)
			r.dflt = s;
	}
	resolve_global(&r);
	if (resolve_policies(&r, np) || resolve_pools(&r, nown))
		rc = -1;
	else
		resolve_fleets(&r);
	config_rows_free(&r.policies);
	if (rc != 0)
		p->oom = 1;
	return rc;
}
