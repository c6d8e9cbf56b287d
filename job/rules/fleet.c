/*
 * fleet.c -- fleets by selector: does a listed pool match a [fleet:NAME],
 * and which key does it get.
 *
 * A fleet names its pools with shell globs over the names a [pool:NAME]
 * spells out (resource group, cluster, node pool), plus tags on the
 * cluster and the pool's mode and OS.  ARM names are case-insensitive, so
 * the globs are too (FNM_CASEFOLD).  The key of a selected pool must be a
 * valid pool key and stay the same from run to run: it is built from the
 * names alone, never from the order of a listing.
 */

#include <ctype.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "job/base/limits.h"
#include "job/base/util.h"
#include "job/rules/fleet.h"

int
fleet_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* glob(pattern, s): "" matches everything; otherwise fnmatch, no case. */
static int
glob(const char *pattern, const char *s)
{
	if (pattern[0] == '\0')
		return 1;
	return fnmatch(pattern, s != NULL ? s : "", FNM_CASEFOLD) == 0;
}

int
fleet_match(const struct fleet_conf *f, const struct fleet_candidate *c)
{
	if (!glob(f->resource_group, c->resource_group) ||
	    !glob(f->cluster, c->cluster) || !glob(f->nodepool, c->nodepool))
		return 0;
	if (f->mode[0] != '\0' &&
	    (c->mode == NULL || strcasecmp(f->mode, c->mode) != 0))
		return 0;
	if (f->os_type[0] != '\0' &&
	    (c->os_type == NULL || strcasecmp(f->os_type, c->os_type) != 0))
		return 0;
	for (size_t i = 0; i < f->ntags; i++) {
		int found = 0;

		/* ARM tag names are case-insensitive; values are not. */
		for (size_t j = 0; j < c->ntags && !found; j++)
			if (strcasecmp(f->tag_keys[i], c->tag_keys[j]) == 0 &&
			    fnmatch(f->tag_values[i], c->tag_values[j], 0) == 0)
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

/* FNV-1a over ${s}, lower-cased. */
static uint32_t
fnv1a(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)tolower((unsigned char)*s);
		h *= 16777619u;
	}
	return h;
}

void
fleet_key(const char *fleet, const char *sub, const char *rg,
    const char *cluster, const char *nodepool, int hashed, char *out,
    size_t len)
{
	char plain[512];
	size_t n, cut;
	uint32_t h = 2166136261u;

	if (fleet[0] != '\0')
		snprintf(
		    plain, sizeof(plain), "%s-%s-%s", fleet, cluster, nodepool);
	else
		snprintf(plain, sizeof(plain), "%s-%s", cluster, nodepool);
	for (char *q = plain; *q != '\0'; q++) {
		*q = (char)tolower((unsigned char)*q);
		if (!isalnum((unsigned char)*q) && *q != '-' && *q != '_')
			*q = '-';
	}
	n = strlen(plain);
	if (!hashed && n <= LIMIT_ARM_NAME) {
		util_strlcpy(out, plain, len);
		return;
	}
	h = fnv1a(h, fleet);
	h = fnv1a(h, "/");
	h = fnv1a(h, sub);
	h = fnv1a(h, "/");
	h = fnv1a(h, rg);
	h = fnv1a(h, "/");
	h = fnv1a(h, cluster);
	h = fnv1a(h, "/");
	h = fnv1a(h, nodepool);
	cut = LIMIT_ARM_NAME - 9; /* "-" and 8 hex digits */
	if (n > cut)
		plain[cut] = '\0';
	snprintf(out, len, "%s-%08x", plain, (unsigned)h);
}
