/*
 * kversions.c -- the Kubernetes versions AKS offers in each location.
 *
 * ARM answers GET .../locations/{location}/kubernetesVersions with one
 * entry per minor version, each listing its patch versions and their
 * upgrade paths (the later patches of the same minor and the patches of
 * the next minor: a control plane never skips a minor), as the official
 * example KubernetesVersions_List.json shows.  A version is "supported in
 * that location" when its x.y.z is one of those patches (or its x.y one of
 * the minors).
 *
 * The catalogue is a list of patch versions per location.  Locations that
 * were never set use the default list: a built-in handful of recent
 * versions plus every version the fleet file names (a running fleet is on
 * supported versions).  The fleet file ("kubernetesVersions":
 * {"location": [x.y.z, ...]} or {"location": {"versions": [...],
 * "preview": [x.y, ...]}}) or the control API replace one location's list, so
 * a test can make a version unsupported in one region.  Every function here
 * runs with emu.lock held.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "armemu.h"

struct kv_list {
	char location[48]; /* "" = the default list */
	char (*v)[24]; /* patch versions x.y.z */
	size_t n;
	char (*preview)[16]; /* minors flagged isPreview */
	size_t npreview;
};

static struct kv_list *kv;
static size_t nkv;

static const char *const builtin[] = {"1.29.9", "1.29.12", "1.30.5", "1.30.9",
    "1.31.2", "1.31.5", "1.32.0", NULL};
static const char *const builtin_preview[] = {"1.32", NULL};

/* Parse x.y[.z]; z = -1 when absent.  0 or -1. */
static int
parse_version(const char *s, int *x, int *y, int *z)
{
	int k = 0;

	*z = -1;
	if (sscanf(s, "%d.%d.%d%n", x, y, z, &k) == 3 && s[k] == '\0')
		return 0;
	k = 0;
	*z = -1;
	if (sscanf(s, "%d.%d%n", x, y, &k) == 2 && s[k] == '\0')
		return 0;
	return -1;
}

static int
cmp_version(const void *a, const void *b)
{
	int ax, ay, az, bx, by, bz;

	if (parse_version(a, &ax, &ay, &az) != 0 ||
	    parse_version(b, &bx, &by, &bz) != 0)
		return strcmp(a, b);
	if (ax != bx)
		return ax < bx ? -1 : 1;
	if (ay != by)
		return ay < by ? -1 : 1;
	return az < bz ? -1 : (az > bz ? 1 : 0);
}

static struct kv_list *
kv_find(const char *location)
{
	size_t i;

	for (i = 0; i < nkv; i++)
		if (strcasecmp(kv[i].location, location) == 0)
			return &kv[i];
	return NULL;
}

static struct kv_list *
kv_get_or_add(const char *location)
{
	struct kv_list *l = kv_find(location), *n;

	if (l != NULL)
		return l;
	n = realloc(kv, (nkv + 1) * sizeof(*kv));
	if (n == NULL)
		return NULL;
	kv = n;
	l = &kv[nkv++];
	memset(l, 0, sizeof(*l));
	snprintf(l->location, sizeof(l->location), "%s", location);
	return l;
}

static int
list_has(const struct kv_list *l, const char *v)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], v) == 0)
			return 1;
	return 0;
}

static int
list_add(struct kv_list *l, const char *v)
{
	char(*n)[24];
	int x, y, z;

	if (parse_version(v, &x, &y, &z) != 0 || z < 0 || strlen(v) >= 24)
		return -1;
	if (list_has(l, v))
		return 0;
	n = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	if (n == NULL)
		return -1;
	l->v = n;
	snprintf(l->v[l->n++], 24, "%s", v);
	qsort(l->v, l->n, sizeof(*l->v), cmp_version);
	return 0;
}

static int
preview_add(struct kv_list *l, const char *minor)
{
	char(*n)[16];

	if (strlen(minor) >= 16)
		return -1;
	n = realloc(l->preview, (l->npreview + 1) * sizeof(*l->preview));
	if (n == NULL)
		return -1;
	l->preview = n;
	snprintf(l->preview[l->npreview++], 16, "%s", minor);
	return 0;
}

static void
list_clear(struct kv_list *l)
{
	free(l->v);
	free(l->preview);
	l->v = NULL;
	l->preview = NULL;
	l->n = 0;
	l->npreview = 0;
}

/* The list that serves ${location}. */
static const struct kv_list *
kv_for(const char *location)
{
	const struct kv_list *l = kv_find(location ? location : "");

	return l != NULL ? l : kv_find("");
}

int
kv_setup(void)
{
	struct kv_list *l = kv_get_or_add("");
	size_t i;

	if (l == NULL)
		return -1;
	for (i = 0; builtin[i] != NULL; i++)
		if (list_add(l, builtin[i]) != 0)
			return -1;
	for (i = 0; builtin_preview[i] != NULL; i++)
		if (preview_add(l, builtin_preview[i]) != 0)
			return -1;
	return 0;
}

int
kv_add_default(const char *version)
{
	struct kv_list *l = kv_get_or_add("");
	int x, y, z;

	if (l == NULL)
		return -1;
	/* Only full x.y.z versions name a patch; others are ignored. */
	if (version == NULL || parse_version(version, &x, &y, &z) != 0 || z < 0)
		return 0;
	return list_add(l, version);
}

int
kv_set(const char *location, json_t *versions, json_t *preview, char *err,
    size_t errlen)
{
	struct kv_list *l;
	json_t *x;
	size_t i;
	int a, b, c;

	if (location == NULL || *location == '\0' ||
	    strlen(location) >= sizeof(l->location)) {
		snprintf(err, errlen, "location is required");
		return -1;
	}
	if (!json_is_array(versions)) {
		snprintf(err, errlen, "versions must be an array of x.y.z");
		return -1;
	}
	json_array_foreach(versions, i, x)
	{
		const char *s = json_string_value(x);

		if (s == NULL || parse_version(s, &a, &b, &c) != 0 || c < 0) {
			snprintf(err, errlen, "version %zu is not x.y.z", i);
			return -1;
		}
	}
	l = kv_get_or_add(location);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list_clear(l);
	json_array_foreach(versions, i, x)
	{
		if (list_add(l, json_string_value(x)) != 0)
			goto nomem;
	}
	json_array_foreach(preview, i, x)
	{
		if (json_is_string(x) &&
		    preview_add(l, json_string_value(x)) != 0)
			goto nomem;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
kv_load_fleet(json_t *map)
{
	const char *loc;
	json_t *v;
	char err[128];

	json_object_foreach(map, loc, v)
	{
		json_t *vers =
		    json_is_object(v) ? json_object_get(v, "versions") : v;
		json_t *prev =
		    json_is_object(v) ? json_object_get(v, "preview") : NULL;

		if (kv_set(loc, vers, prev, err, sizeof(err)) != 0) {
			fprintf(stderr,
			    "armemu: fleet: kubernetesVersions %s: "
			    "%s\n",
			    loc, err);
			return -1;
		}
	}
	return 0;
}

int
kv_supported(const char *location, const char *version)
{
	const struct kv_list *l = kv_for(location);
	int x, y, z, a, b, c;
	size_t i;

	if (l == NULL || parse_version(version, &x, &y, &z) != 0)
		return 0;
	for (i = 0; i < l->n; i++) {
		if (parse_version(l->v[i], &a, &b, &c) != 0)
			continue;
		if (a == x && b == y && (z < 0 || c == z))
			return 1;
	}
	return 0;
}

const char *
kv_newest_patch(const char *location, const char *version)
{
	const struct kv_list *l = kv_for(location);
	const char *best = NULL;
	int x, y, z, a, b, c;
	size_t i;

	if (l == NULL || parse_version(version, &x, &y, &z) != 0)
		return NULL;
	for (i = 0; i < l->n; i++)
		if (parse_version(l->v[i], &a, &b, &c) == 0 && a == x && b == y)
			best = l->v[i]; /* sorted ascending */
	return best;
}

static int
is_preview(const struct kv_list *l, const char *minor)
{
	size_t i;

	for (i = 0; i < l->npreview; i++)
		if (strcmp(l->preview[i], minor) == 0)
			return 1;
	return 0;
}

json_t *
kv_json(const char *location)
{
	const struct kv_list *l = kv_for(location);
	json_t *values = json_array(), *entry = NULL, *patches = NULL;
	char minor[16] = "", m[16], dflt[16] = "";
	size_t i, j;
	int x, y, z, a, b, c;

	if (l == NULL)
		return json_pack("{s:o}", "values", values);
	/* isDefault: the newest minor but one that is not in preview. */
	{
		char last[16] = "", prev[16] = "";

		for (i = 0; i < l->n; i++) {
			if (parse_version(l->v[i], &x, &y, &z) != 0)
				continue;
			snprintf(m, sizeof(m), "%d.%d", x, y);
			if (is_preview(l, m) || strcmp(m, last) == 0)
				continue;
			snprintf(prev, sizeof(prev), "%s", last);
			snprintf(last, sizeof(last), "%s", m);
		}
		snprintf(dflt, sizeof(dflt), "%s", prev[0] ? prev : last);
	}
	for (i = 0; i < l->n; i++) {
		json_t *upgrades = json_array();

		if (parse_version(l->v[i], &x, &y, &z) != 0)
			continue;
		snprintf(m, sizeof(m), "%d.%d", x, y);
		if (strcmp(m, minor) != 0) {
			snprintf(minor, sizeof(minor), "%s", m);
			patches = json_object();
			entry = json_pack("{s:{s:[s]},s:o,s:s}", "capabilities",
			    "supportPlan", "KubernetesOfficial",
			    "patchVersions", patches, "version", m);
			if (strcmp(m, dflt) == 0)
				json_object_set_new(
				    entry, "isDefault", json_true());
			if (is_preview(l, m))
				json_object_set_new(
				    entry, "isPreview", json_true());
			json_array_append_new(values, entry);
		}
		/* Later patches of this minor, and the next minor's. */
		for (j = i + 1; j < l->n; j++) {
			if (parse_version(l->v[j], &a, &b, &c) != 0)
				continue;
			if (a == x && (b == y || b == y + 1))
				json_array_append_new(
				    upgrades, json_string(l->v[j]));
		}
		json_object_set_new(
		    patches, l->v[i], json_pack("{s:o}", "upgrades", upgrades));
	}
	return json_pack("{s:o}", "values", values);
}

void
kv_free(void)
{
	size_t i;

	for (i = 0; i < nkv; i++)
		list_clear(&kv[i]);
	free(kv);
	kv = NULL;
	nkv = 0;
}
