/*
 * fleet.c -- the selector keys of [fleet:NAME] (DESIGN.md section 4).
 *
 * A fleet section holds the keys a pool section names a pool by, as shell
 * globs, plus filters on the cluster's tags and the pool's mode and OS;
 * its policy keys are a pool's and read.c reads them.  Here each
 * selector is checked for shape and stored in the fleet; which pools it
 * selects is decided at run time (job/run/fleet.c) from ARM's listing.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "job/base/limits.h"
#include "job/base/util.h"

enum {
	SEL_SUBSCRIPTION = 1 << 0,
	SEL_RESOURCE_GROUP = 1 << 1,
	SEL_CLUSTER = 1 << 2,
	SEL_NODEPOOL = 1 << 3,
	SEL_MODE = 1 << 4,
	SEL_OS_TYPE = 1 << 5,
};

int
config_fleet_add(struct config *c, const char *name, int line, size_t *idx)
{
	struct fleet_conf *grown;

	grown = realloc(c->fleets, (c->nfleets + 1) * sizeof(*c->fleets));
	if (grown == NULL)
		return -1;
	c->fleets = grown;
	memset(&c->fleets[c->nfleets], 0, sizeof(c->fleets[0]));
	util_strlcpy(c->fleets[c->nfleets].name, name,
	    sizeof(c->fleets[c->nfleets].name));
	c->fleets[c->nfleets].line = line;
	*idx = c->nfleets++;
	return 0;
}

/* A subscription id: 8-4-4-4-12 hex digits. */
static int
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* A glob over ARM names: printable, no spaces, fits ${size}. */
static int
glob_ok(const char *v, size_t size, char *why, size_t whylen)
{
	if (strlen(v) >= size) {
		snprintf(why, whylen,
		    "expected a pattern of at most %zu "
		    "characters",
		    size - 1);
		return -1;
	}
	for (const char *q = v; *q != '\0'; q++) {
		if (!isgraph((unsigned char)*q)) {
			snprintf(why, whylen,
			    "expected a shell glob (letters, digits, - _ . ( ) "
			    "and * ? [ ]), got \"%.100s\"",
			    v);
			return -1;
		}
	}
	return 0;
}

static int
once(struct fleet_conf *f, int bit, char *why, size_t whylen)
{
	if (f->selectors_seen & bit) {
		snprintf(why, whylen, "set twice in this section");
		return -1;
	}
	f->selectors_seen |= bit;
	return 0;
}

static int
subscriptions(struct fleet_conf *f, const char *v, char *why, size_t whylen)
{
	char copy[4096], *save = NULL;

	util_strlcpy(copy, v, sizeof(copy));
	for (char *t = strtok_r(copy, " \t,", &save); t != NULL;
	     t = strtok_r(NULL, " \t,", &save)) {
		if (!is_uuid(t)) {
			snprintf(why, whylen,
			    "expected subscription ids (8-4-4-4-12 hex "
			    "digits) separated by spaces, got \"%.100s\"",
			    t);
			return -1;
		}
		if (f->nsubscriptions == FLEET_MAX_SUBSCRIPTIONS) {
			snprintf(why, whylen, "more than %d subscriptions",
			    FLEET_MAX_SUBSCRIPTIONS);
			return -1;
		}
		util_strlcpy(f->subscriptions[f->nsubscriptions++], t,
		    sizeof(f->subscriptions[0]));
	}
	return 0;
}

static int
tag(struct fleet_conf *f, const char *v, char *why, size_t whylen)
{
	const char *eq = strchr(v, '=');
	size_t klen;

	if (eq == NULL || eq == v) {
		snprintf(why, whylen,
		    "expected KEY=VALUE (a tag on the cluster; VALUE may be "
		    "a glob)");
		return -1;
	}
	klen = (size_t)(eq - v);
	if (klen >= sizeof(f->tag_keys[0]) ||
	    strlen(eq + 1) >= sizeof(f->tag_values[0])) {
		snprintf(why, whylen, "tag key or value too long");
		return -1;
	}
	if (f->ntags == FLEET_MAX_TAGS) {
		snprintf(why, whylen, "more than %d tag lines", FLEET_MAX_TAGS);
		return -1;
	}
	memcpy(f->tag_keys[f->ntags], v, klen);
	f->tag_keys[f->ntags][klen] = '\0';
	util_strlcpy(f->tag_values[f->ntags], eq + 1, sizeof(f->tag_values[0]));
	f->ntags++;
	return 0;
}

/* One of ${names} (any case), stored as spelled in ${names}. */
static int
one_of(char *dst, size_t size, const char *v, const char *a, const char *b,
    char *why, size_t whylen)
{
	if (strcasecmp(v, a) == 0) {
		util_strlcpy(dst, a, size);
		return 0;
	}
	if (strcasecmp(v, b) == 0) {
		util_strlcpy(dst, b, size);
		return 0;
	}
	snprintf(why, whylen, "expected %s or %s, got \"%.100s\"", a, b, v);
	return -1;
}

int
config_fleet_key(struct fleet_conf *f, const char *name, const char *value,
    char *why, size_t whylen)
{
	if (strcmp(name, "tag") == 0)
		return value[0] == '\0' ? 0 : tag(f, value, why, whylen);
	if (strcmp(name, "subscription") == 0) {
		if (once(f, SEL_SUBSCRIPTION, why, whylen))
			return -1;
		return subscriptions(f, value, why, whylen);
	}
	if (strcmp(name, "resource_group") == 0) {
		if (once(f, SEL_RESOURCE_GROUP, why, whylen) ||
		    glob_ok(value, sizeof(f->resource_group), why, whylen))
			return -1;
		util_strlcpy(
		    f->resource_group, value, sizeof(f->resource_group));
		return 0;
	}
	if (strcmp(name, "cluster") == 0) {
		if (once(f, SEL_CLUSTER, why, whylen) ||
		    glob_ok(value, sizeof(f->cluster), why, whylen))
			return -1;
		util_strlcpy(f->cluster, value, sizeof(f->cluster));
		return 0;
	}
	if (strcmp(name, "nodepool") == 0) {
		if (once(f, SEL_NODEPOOL, why, whylen) ||
		    glob_ok(value, sizeof(f->nodepool), why, whylen))
			return -1;
		util_strlcpy(f->nodepool, value, sizeof(f->nodepool));
		return 0;
	}
	if (strcmp(name, "mode") == 0) {
		if (once(f, SEL_MODE, why, whylen))
			return -1;
		return value[0] == '\0'
		    ? 0
		    : one_of(f->mode, sizeof(f->mode), value, "System", "User",
		          why, whylen);
	}
	if (strcmp(name, "os_type") == 0) {
		if (once(f, SEL_OS_TYPE, why, whylen))
			return -1;
		return value[0] == '\0'
		    ? 0
		    : one_of(f->os_type, sizeof(f->os_type), value, "Linux",
		          "Windows", why, whylen);
	}
	return 1;
}

/* The glob or "*" when the selector is unset. */
static const char *
or_all(const char *s)
{
	return s[0] != '\0' ? s : "*";
}

void
config_fleet_print(const struct fleet_conf *f, FILE *out)
{
	fprintf(out, "\n[fleet:%s]\nsubscription =", f->name);
	for (size_t i = 0; i < f->nsubscriptions; i++)
		fprintf(out, " %s", f->subscriptions[i]);
	fprintf(out, "\nresource_group = %s\ncluster = %s\nnodepool = %s\n",
	    or_all(f->resource_group), or_all(f->cluster), or_all(f->nodepool));
	for (size_t i = 0; i < f->ntags; i++)
		fprintf(out, "tag = %s=%s\n", f->tag_keys[i], f->tag_values[i]);
	if (f->mode[0] != '\0')
		fprintf(out, "mode = %s\n", f->mode);
	if (f->os_type[0] != '\0')
		fprintf(out, "os_type = %s\n", f->os_type);
	if (f->policy_name[0] != '\0')
		fprintf(out, "policy = %s\n", f->policy_name);
}

json_t *
config_fleet_json(const struct fleet_conf *f)
{
	json_t *o = json_object(), *subs = json_array(), *tags = json_object();

	if (o == NULL || subs == NULL || tags == NULL) {
		json_decref(o);
		json_decref(subs);
		json_decref(tags);
		return NULL;
	}
	for (size_t i = 0; i < f->nsubscriptions; i++)
		json_array_append_new(subs, json_string(f->subscriptions[i]));
	for (size_t i = 0; i < f->ntags; i++)
		json_object_set_new(
		    tags, f->tag_keys[i], json_string(f->tag_values[i]));
	json_object_set_new(o, "fleet", json_string(f->name));
	json_object_set_new(o, "subscriptions", subs);
	json_object_set_new(
	    o, "resource_group", json_string(or_all(f->resource_group)));
	json_object_set_new(o, "cluster", json_string(or_all(f->cluster)));
	json_object_set_new(o, "nodepool", json_string(or_all(f->nodepool)));
	json_object_set_new(o, "tags", tags);
	json_object_set_new(
	    o, "mode", f->mode[0] != '\0' ? json_string(f->mode) : json_null());
	json_object_set_new(o, "os_type",
	    f->os_type[0] != '\0' ? json_string(f->os_type) : json_null());
	json_object_set_new(o, "policy_name",
	    f->policy_name[0] != '\0' ? json_string(f->policy_name)
	                              : json_null());
	return o;
}

int
config_fleet_overlaps(const struct config *c, FILE *out)
{
	int n = 0;

	for (size_t i = 0; i < c->nfleets; i++) {
		const struct fleet_conf *f = &c->fleets[i];

		/* Tags, mode and OS are known only to ARM: plan says. */
		if (f->ntags > 0 || f->mode[0] != '\0' || f->os_type[0] != '\0')
			continue;
		for (size_t j = 0; j < c->npools; j++) {
			const struct pool_conf *pc = &c->pools[j];
			struct fleet_candidate cand;
			int in_sub = 0;

			for (size_t k = 0; k < f->nsubscriptions; k++)
				if (strcasecmp(f->subscriptions[k],
				        pc->subscription) == 0)
					in_sub = 1;
			memset(&cand, 0, sizeof(cand));
			cand.resource_group = pc->resource_group;
			cand.cluster = pc->cluster;
			cand.nodepool = pc->nodepool;
			if (!in_sub || !fleet_match(f, &cand))
				continue;
			fprintf(out,
			    "%s:%d: warning: [fleet:%s] also selects [pool:%s] "
			    "(%s/%s/%s); [pool:%s] wins\n",
			    c->path, f->line, f->name, pc->key,
			    pc->resource_group, pc->cluster, pc->nodepool,
			    pc->key);
			n++;
		}
	}
	return n;
}
