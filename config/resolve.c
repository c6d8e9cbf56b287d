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
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	if (!(s->seen & (1ULL << kl)) ||
	    !(s->seen & ((1ULL << kc) | (1ULL << ka))))
		return;
	other = (s->seen & (1ULL << kc)) ? kc : ka;
	config_perr(p,
	    s->keyline[kl] > s->keyline[other] ? s->keyline[kl]
	                                       : s->keyline[other],
	    s, "channels",
	    "set with %s (line %d) in one section; use either channels = "
	    "CHANNEL:SOAK ... (a ladder) or channel + promote_after (one "
	    "rung)",
	    config_keys[other].name, s->keyline[other]);
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
	uint64_t kl = 1ULL << config_key_index("channels", SCOPE_POLICY);
	uint64_t one = (1ULL << config_key_index("channel", SCOPE_POLICY)) |
	    (1ULL << config_key_index("promote_after", SCOPE_POLICY));
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
		m |= 1ULL << config_key_index(names[i], SCOPE_POLICY);
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
	size_t i = config_key_index(name, SCOPE_POOL);

	if ((s->set | s->bad) & (1ULL << i))
		return;
	config_perr(p, s->line, s, name,
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

/*
 * config_resolve(p):
 * After the whole file is read: build the policies and pools, apply the
 * defaults, and run the checks that span sections.
 */
int
config_resolve(struct parse *p)
{
	struct config *c = p->c;
	const struct section *global = NULL;
	const struct section *dflt = NULL;
	uint64_t keepmask = retention_mask();
	size_t np = 0, nl = 0, ip, il;
	size_t k_sub, k_pol, k_secret, k_cert, k_client, k_object, k_msi, k_tz;
	struct seen_set *policies = NULL, *nodepools = NULL;

	k_sub = config_key_index("subscription", SCOPE_POOL);
	k_pol = config_key_index("policy", SCOPE_POOL);
	k_secret = config_key_index("client_secret_file", SCOPE_GLOBAL);
	k_cert = config_key_index("client_certificate_file", SCOPE_GLOBAL);
	k_client = config_key_index("client_id", SCOPE_GLOBAL);
	k_object = config_key_index("object_id", SCOPE_GLOBAL);
	k_msi = config_key_index("msi_res_id", SCOPE_GLOBAL);
	k_tz = config_key_index("timezone", SCOPE_GLOBAL);

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
			config_perr(p, global->line, global, "client_id",
			    "a managed identity is chosen by one of client_id, "
			    "object_id or msi_res_id, not several");
	}
	/* The zone is read here, once; the pure code is handed it. */
	c->tz = tz_load(c->timezone);
	if (c->tz == NULL)
		config_perr(p, global != NULL ? global->keyline[k_tz] : 0,
		    global, "timezone",
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
		config_policy_defaults(pol);
		overlay_policy(pol, &s->pool.policy, s->set);
		util_strlcpy(pol->name, s->name, sizeof(pol->name));
		ladder_form_clash(p, s);
		resolve_ladder(pol, NULL, s);
		if (keeps_nothing(pol))
			config_perr(p, s->line, s, "keep_*",
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
		    config_seen_add(policies, p->sects[i].name, i, &prev) < 0)
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
				config_perr(p,
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

			if (config_seen_find(policies, pc->policy_name, &j))
				ps = &p->sects[j];
			if (ps == NULL)
				config_perr(p, s->keyline[k_pol], s, "policy",
				    "no [policy:%s] section", pc->policy_name);
		} else if (dflt != NULL) {
			ps = dflt;
			util_strlcpy(pc->policy_name, "default",
			    sizeof(pc->policy_name));
		}
		config_policy_defaults(&pc->policy);
		if (ps != NULL) {
			overlay_policy(&pc->policy, &ps->pool.policy, ps->set);
			util_strlcpy(
			    pc->policy.name, ps->name, sizeof(pc->policy.name));
		}
		overlay_policy(&pc->policy, &s->pool.policy, s->set);
		ladder_form_clash(p, s);
		resolve_ladder(&pc->policy, ps, s);
		/* Reported once at the policy unless the pool changed it. */
		if ((s->set & keepmask) != 0 && keeps_nothing(&pc->policy))
			config_perr(p, s->line, s, "keep_*",
			    "this pool's policy keeps nothing: keep_last, "
			    "keep_hourly, keep_daily, keep_weekly, "
			    "keep_monthly, keep_yearly, keep_within and "
			    "min_keep are all 0");

		/* ARM names are case-insensitive: one node pool, one entry. */
		if (pc->nodepool[0] != '\0') {
			char key[300];
			size_t j = 0;
			int got;

			config_lower(key, sizeof(key), "%s/%s/%s/%s",
			    pc->subscription, pc->resource_group, pc->cluster,
			    pc->nodepool);
			got = config_seen_add(nodepools, key, il - 1, &j);
			if (got < 0)
				goto oom;
			if (got == 1)
				config_perr(p,
				    s->keyline[config_key_index(
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
				config_perr(p, s->line, s, "subscription",
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
			if (config_seen_find(policies, f->policy_name, &j))
				ps = &p->sects[j];
			if (ps == NULL)
				config_perr(p, s->keyline[k_pol], s, "policy",
				    "no [policy:%s] section", f->policy_name);
		} else if (dflt != NULL) {
			ps = dflt;
			util_strlcpy(
			    f->policy_name, "default", sizeof(f->policy_name));
		}
		config_policy_defaults(&f->policy);
		if (ps != NULL) {
			overlay_policy(&f->policy, &ps->pool.policy, ps->set);
			util_strlcpy(
			    f->policy.name, ps->name, sizeof(f->policy.name));
		}
		overlay_policy(&f->policy, &s->pool.policy, s->set);
		if ((s->set & keepmask) != 0 && keeps_nothing(&f->policy))
			config_perr(p, s->line, s, "keep_*",
			    "this fleet's policy keeps nothing: keep_last, "
			    "keep_hourly, keep_daily, keep_weekly, "
			    "keep_monthly, keep_yearly, keep_within and "
			    "min_keep are all 0");
	}
	config_seen_free(policies);
	config_seen_free(nodepools);
	return 0;

oom:
	config_seen_free(policies);
	config_seen_free(nodepools);
	p->oom = 1;
	return -1;
}
