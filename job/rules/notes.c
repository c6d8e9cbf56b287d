/*
 * notes.c -- node image release notes: path, parse, diff.
 *
 * Where.  AgentBaker publishes one text file per Linux and Windows node
 * image build under vhdbuilder/release-notes/<family>/<variant>/.  The
 * image version AKS reports names the build: "AKSUbuntu-2204gen2TL
 * containerd-202608.20.0" is <prefix>-<sku>-<version>.  The folder comes
 * from the SKU by the rules of ../shared/azure-api/NOTES.md 8.5 (Ubuntu:
 * gen2 moves out as the middle folder, the rest is lower-cased; Azure
 * Linux: V3 joins the family; Windows: the SKU is the folder), and only
 * folders AgentBaker publishes are accepted: a variant we do not know is
 * said to be unknown, not guessed at.  Azure Linux 2 and CBL-Mariner notes
 * were deleted from AgentBaker, so their images have none.
 *
 * What.  The notes are the build log of the image, and their shape has
 * changed over the years ("docker images pre-pulled:" became "images
 * pre-pulled:", os-release appeared, CSE components appeared).  So the
 * parser looks for the headings it knows, one line at a time, and reads
 * each section in the one form it knows; a section whose heading is there
 * but whose lines are not in that form, or that the file stops inside, is
 * unreadable, with the line that says why.  A file that stops before its
 * "Install completed successfully" line is cut off, and a section it never
 * reached is unreadable too (not absent: it may well exist).
 *
 * What changed.  Items are (name, version); a name may come with several
 * versions (the cached kubelets), so two sides are compared name by name
 * as version sets: what only the new side has is added, what only the old
 * side has removed, and a name on both sides with different sets changed,
 * listing the versions that differ.
 */
#include "job/rules/notes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 4096

static const char *const section_names[NOTES_NSECTIONS] = {
    "components", "images", "packages", "kernel", "os_release"};
static const char *const section_titles[NOTES_NSECTIONS] = {"components",
    "pre-pulled container images", "installed packages", "kernel",
    "OS release"};

const char *
notes_section_name(enum notes_section s)
{
	return (unsigned)s < NOTES_NSECTIONS ? section_names[s] : "?";
}

const char *
notes_section_title(enum notes_section s)
{
	return (unsigned)s < NOTES_NSECTIONS ? section_titles[s] : "?";
}

/* ---- where: image version -> path ---- */

static const char *const ubuntu_gen1[] = {"2004fipscontainerd",
    "2204containerd", "2204fipscontainerd", "2404containerd", NULL};
static const char *const ubuntu_gen2[] = {"2004cvmcontainerd",
    "2004fipscontainerd", "2204arm64containerd", "2204containerd",
    "2204fipscontainerd", "2204fipstlcontainerd", "2204tlcontainerd",
    "2404arm64containerd", "2404containerd", "2404cvmcontainerd",
    "2404tlcontainerd", "2604minimalcontainerd", "2604minimalarm64containerd",
    NULL};
static const char *const azurelinux_v3[] = {"gen1", "gen1fips", "gen2",
    "gen2arm64", "gen2arm64fips", "gen2fips", "gen2kata", "gen2tl", "cvmgen2",
    "osguardgen2fipstl", NULL};
static const char *const azure_container_linux[] = {
    "gen2tl", "arm64gen2tl", NULL};
static const char *const flatcar[] = {"gen2", "gen2arm64", NULL};
static const char *const windows[] = {"2019-containerd", "2022-containerd",
    "2022-containerd-gen2", "2025", "2025-gen2", "23H2", "23H2-gen2", NULL};

static int
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A run of digits of length ${n} (0: at least one) at ${s}; its end. */
static const char *
digits(const char *s, size_t n)
{
	size_t i = 0;

	while (isdigit((unsigned char)s[i]))
		i++;
	if (i == 0 || (n != 0 && i != n))
		return NULL;
	return s + i;
}

/* YYYYMM.DD.N or YYYY.MM.DD (Linux builds). */
static int
linux_version_ok(const char *v)
{
	const char *p = digits(v, 6);

	if (p != NULL && *p == '.' && (p = digits(p + 1, 2)) != NULL &&
	    *p == '.' && (p = digits(p + 1, 0)) != NULL && *p == '\0')
		return 1;
	p = digits(v, 4);
	return p != NULL && *p == '.' && (p = digits(p + 1, 2)) != NULL &&
	    *p == '.' && (p = digits(p + 1, 2)) != NULL && *p == '\0';
}

/* <build>.<revision>.<yymmdd> (Windows builds). */
static int
windows_version_ok(const char *v)
{
	const char *p = digits(v, 0);

	return p != NULL && *p == '.' && (p = digits(p + 1, 0)) != NULL &&
	    *p == '.' && (p = digits(p + 1, 6)) != NULL && *p == '\0';
}

int
notes_path(
    const char *image, char *path, size_t pathlen, char *why, size_t whylen)
{
	char prefix[64], sku[96], version[64], variant[96];
	const char *dash1, *dashn, *gen;
	size_t n;
	int w;

	why[0] = '\0';
	if (path != NULL && pathlen > 0)
		path[0] = '\0';
	if (image == NULL || image[0] == '\0') {
		snprintf(why, whylen, "no node image version");
		return -1;
	}
	for (const char *p = image; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
		    *p != '_') {
			snprintf(why, whylen,
			    "'%.80s' is not a node image version", image);
			return -1;
		}
	}
	dash1 = strchr(image, '-');
	dashn = strrchr(image, '-');
	if (dash1 == NULL || dash1 == dashn ||
	    (size_t)(dash1 - image) >= sizeof(prefix) ||
	    (size_t)(dashn - dash1 - 1) >= sizeof(sku) ||
	    strlen(dashn + 1) >= sizeof(version)) {
		snprintf(why, whylen,
		    "'%.80s' is not a node image version "
		    "(<prefix>-<sku>-<version>)",
		    image);
		return -1;
	}
	memcpy(prefix, image, (size_t)(dash1 - image));
	prefix[dash1 - image] = '\0';
	memcpy(sku, dash1 + 1, (size_t)(dashn - dash1 - 1));
	sku[dashn - dash1 - 1] = '\0';
	snprintf(version, sizeof(version), "%s", dashn + 1);

	if (strcmp(prefix, "AKSWindows") == 0) {
		if (!windows_version_ok(version))
			goto badversion;
		if (!in_list(windows, sku)) {
			snprintf(why, whylen,
			    "no release notes are published for Windows "
			    "variant %s",
			    sku);
			return -1;
		}
		w = snprintf(path, pathlen, "AKSWindows/%s/%s", sku, version);
		goto done;
	}
	if (!linux_version_ok(version))
		goto badversion;
	if (strcmp(prefix, "AKSCBLMariner") == 0 ||
	    strcmp(prefix, "AKSMariner") == 0) {
		snprintf(why, whylen,
		    "CBL-Mariner release notes are no longer published "
		    "(AgentBaker removed them)");
		return -1;
	}
	if (strcmp(prefix, "AKSAzureLinux") == 0) {
		if (strncasecmp(sku, "V2", 2) == 0) {
			snprintf(why, whylen,
			    "Azure Linux 2 release notes are no longer "
			    "published (AgentBaker removed them)");
			return -1;
		}
		if (strncasecmp(sku, "V3", 2) != 0) {
			snprintf(why, whylen,
			    "unknown Azure Linux version in '%s'", sku);
			return -1;
		}
		snprintf(variant, sizeof(variant), "%s", sku + 2);
		lower(variant);
		if (!in_list(azurelinux_v3, variant)) {
			snprintf(why, whylen,
			    "no release notes are published for Azure Linux "
			    "3 variant %s",
			    sku);
			return -1;
		}
		w = snprintf(
		    path, pathlen, "AKSAzureLinuxV3/%s/%s", variant, version);
		goto done;
	}
	if (strcmp(prefix, "AKSAzureContainerLinux") == 0 ||
	    strcmp(prefix, "AKSFlatcar") == 0) {
		const char *const *list =
		    prefix[3] == 'F' ? flatcar : azure_container_linux;

		snprintf(variant, sizeof(variant), "%s", sku);
		lower(variant);
		if (!in_list(list, variant)) {
			snprintf(why, whylen,
			    "no release notes are published for %s variant "
			    "%s",
			    prefix, sku);
			return -1;
		}
		w = snprintf(
		    path, pathlen, "%s/%s/%s", prefix, variant, version);
		goto done;
	}
	if (strcmp(prefix, "AKSUbuntu") == 0) {
		snprintf(variant, sizeof(variant), "%s", sku);
		lower(variant);
		gen = strstr(variant, "gen2");
		if (gen != NULL) {
			n = strlen(gen + 4);
			memmove((char *)gen, gen + 4, n + 1);
		}
		if (strstr(variant, "gen") != NULL ||
		    !in_list(
		        gen != NULL ? ubuntu_gen2 : ubuntu_gen1, variant)) {
			snprintf(why, whylen,
			    "no release notes are published for Ubuntu "
			    "variant %s",
			    sku);
			return -1;
		}
		w = snprintf(path, pathlen, "AKSUbuntu/%s/%s/%s",
		    gen != NULL ? "gen2" : "gen1", variant, version);
		goto done;
	}
	snprintf(why, whylen, "unknown node image family %s", prefix);
	return -1;

done:
	if (w < 0 || (size_t)w >= pathlen) {
		snprintf(why, whylen, "release-notes path too long");
		return -1;
	}
	return 0;

badversion:
	snprintf(why, whylen, "'%s' in %.80s is not a %s build version",
	    version, image,
	    strcmp(prefix, "AKSWindows") == 0 ? "Windows" : "Linux");
	return -1;
}

int
notes_url(const char *template, const char *path, char *out, size_t outlen)
{
	const char *p = strstr(template, "{path}");
	int w;

	if (p == NULL)
		return -1;
	w = snprintf(out, outlen, "%.*s%s%s", (int)(p - template), template,
	    path, p + 6);
	return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

/* ---- what: parse ---- */

static int
part_add(struct notes_part *pt, const char *name, size_t nlen,
    const char *version, size_t vlen)
{
	struct notes_item *it;

	if (pt->n == pt->cap) {
		size_t ncap = pt->cap ? pt->cap * 2 : 64;
		struct notes_item *ni = realloc(pt->items, ncap * sizeof(*ni));

		if (ni == NULL)
			return -1;
		pt->items = ni;
		pt->cap = ncap;
	}
	it = &pt->items[pt->n];
	it->name = strndup(name, nlen);
	it->version = strndup(version, vlen);
	if (it->name == NULL || it->version == NULL) {
		free(it->name);
		free(it->version);
		return -1;
	}
	pt->n++;
	return 0;
}

static void
part_clear(struct notes_part *pt)
{
	for (size_t i = 0; i < pt->n; i++) {
		free(pt->items[i].name);
		free(pt->items[i].version);
	}
	free(pt->items);
	memset(pt, 0, sizeof(*pt));
}

void
notes_clear(struct notes *n)
{
	if (n == NULL)
		return;
	for (int s = 0; s < NOTES_NSECTIONS; s++)
		part_clear(&n->part[s]);
	n->complete = 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct notes_item *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->version, y->version);
}

/* Sort and drop exact duplicates (notes list some components twice). */
static void
part_sort(struct notes_part *pt)
{
	size_t w = 0;

	if (pt->n == 0)
		return;
	qsort(pt->items, pt->n, sizeof(*pt->items), item_cmp);
	for (size_t i = 0; i < pt->n; i++) {
		if (w > 0 && item_cmp(&pt->items[w - 1], &pt->items[i]) == 0) {
			free(pt->items[i].name);
			free(pt->items[i].version);
			continue;
		}
		pt->items[w++] = pt->items[i];
	}
	pt->n = w;
}

static const char *
trim_left(const char *s, const char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *
trim_right(const char *s, const char *end)
{
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	return end;
}

static int
starts(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(end - s) >= n && memcmp(s, prefix, n) == 0;
}

static int
ends(const char *s, const char *end, const char *suffix)
{
	size_t n = strlen(suffix);

	return (size_t)(end - s) >= n && memcmp(end - n, suffix, n) == 0;
}

static const char *
find(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (const char *p = s; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

static const char *
rfind_char(const char *s, const char *end, char c)
{
	for (const char *p = end; p > s; p--)
		if (p[-1] == c)
			return p - 1;
	return NULL;
}

static int
has_space(const char *s, const char *end)
{
	for (; s < end; s++)
		if (isspace((unsigned char)*s))
			return 1;
	return 0;
}

/* "registry/repo:tag" or "repo@sha256:..." -> name, tag. */
static int
split_image(const char *s, const char *end, const char **sep)
{
	const char *at = find(s, end, "@"), *slash, *colon;

	if (has_space(s, end))
		return 0;
	if (at != NULL && at > s && at + 1 < end) {
		*sep = at;
		return 1;
	}
	slash = rfind_char(s, end, '/');
	colon = rfind_char(slash != NULL ? slash : s, end, ':');
	if (colon != NULL && colon > s && colon + 1 < end) {
		*sep = colon;
		return 1;
	}
	return 0;
}

static int
add_image(struct notes_part *pt, const char *s, const char *end)
{
	const char *sep;

	if (split_image(s, end, &sep))
		return part_add(
		    pt, s, (size_t)(sep - s), sep + 1, (size_t)(end - sep - 1));
	return part_add(pt, s, (size_t)(end - s), "", 0);
}

/*
 * A component line, after "- ": "runc version 1.4.3-ubuntu22.04u2",
 * "nvidia-grid-driver=570.211.01-2026...", "bpftrace v0.9.4", an image
 * reference, or a bare name ("cached kubelet binary at /opt/bin/...").
 */
static int
add_component(struct notes_part *pt, const char *s, const char *end)
{
	const char *p = find(s, end, " version "), *eq, *sp;

	if (p != NULL && p > s) {
		const char *v = trim_left(p + 9, end);

		return part_add(pt, s, (size_t)(trim_right(s, p) - s), v,
		    (size_t)(end - v));
	}
	eq = find(s, end, "=");
	if (eq != NULL && eq > s && !has_space(s, eq) && eq + 1 < end)
		return part_add(
		    pt, s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1));
	if (!has_space(s, end) && find(s, end, "/") != NULL)
		return add_image(pt, s, end);
	sp = rfind_char(s, end, ' ');
	if (sp != NULL && sp > s && sp + 1 < end &&
	    (isdigit((unsigned char)sp[1]) ||
	        (sp[1] == 'v' && sp + 2 < end &&
	            isdigit((unsigned char)sp[2]))))
		return part_add(pt, s, (size_t)(trim_right(s, sp) - s), sp + 1,
		    (size_t)(end - sp - 1));
	return part_add(pt, s, (size_t)(end - s), "", 0);
}

static const char *const rpm_arches[] = {".x86_64", ".aarch64", ".noarch",
    ".i686", ".armv7hl", ".ppc64le", ".s390x", NULL};

/*
 * A package line: apt ("name/suite,now VERSION ARCH [flags]") or rpm
 * ("name-version-release[.arch]").  1 when added, 0 when the line is in
 * neither form, -1 on ENOMEM.
 */
static int
add_package(struct notes_part *pt, const char *s, const char *end)
{
	const char *slash, *sp, *v, *vend, *d1, *d2;

	sp = s;
	while (sp < end && !isspace((unsigned char)*sp))
		sp++;
	slash = find(s, sp, "/");
	if (sp < end && slash != NULL && slash > s) {
		v = trim_left(sp, end);
		vend = v;
		while (vend < end && !isspace((unsigned char)*vend))
			vend++;
		if (vend == v || vend == end)
			return 0; /* no version, or no arch after it */
		return part_add(pt, s, (size_t)(slash - s), v,
		           (size_t)(vend - v)) == 0
		    ? 1
		    : -1;
	}
	if (sp != end)
		return 0;
	vend = end;
	for (size_t i = 0; rpm_arches[i] != NULL; i++) {
		if (ends(s, end, rpm_arches[i])) {
			vend = end - strlen(rpm_arches[i]);
			break;
		}
	}
	d2 = rfind_char(s, vend, '-');
	if (d2 == NULL || d2 + 1 >= vend)
		return 0;
	d1 = rfind_char(s, d2, '-');
	if (d1 == NULL || d1 == s || d1 + 1 >= d2)
		return 0;
	return part_add(pt, s, (size_t)(d1 - s), d1 + 1,
	           (size_t)(vend - d1 - 1)) == 0
	    ? 1
	    : -1;
}

enum mode {
	M_NONE,
	M_COMPONENTS,
	M_IMAGES,
	M_PACKAGES,
	M_OS_RELEASE,
	M_KERNEL,
};

struct parse {
	struct notes *n;
	enum mode mode;
	int seen[NOTES_NSECTIONS]; /* heading found */
	int bad_line[NOTES_NSECTIONS]; /* first line not understood */
	int closed[NOTES_NSECTIONS]; /* its end was seen */
};

static void
set_unreadable(struct notes_part *pt, const char *why)
{
	if (pt->state == NOTES_UNREADABLE)
		return;
	pt->state = NOTES_UNREADABLE;
	snprintf(pt->why, sizeof(pt->why), "%s", why);
}

/* A heading line; 1 when it was one (the mode is set). */
static int
heading(struct parse *ps, const char *s, const char *end)
{
	if (starts(s, end, "Components downloaded in this VHD build") ||
	    starts(s, end, "Components installed at node provisioning time")) {
		ps->mode = M_COMPONENTS;
		ps->seen[NOTES_COMPONENTS] = 1;
		ps->closed[NOTES_COMPONENTS] = 0;
		return 1;
	}
	if (ends(s, end, "images pre-pulled:")) {
		ps->mode = M_IMAGES;
		ps->seen[NOTES_IMAGES] = 1;
		ps->closed[NOTES_IMAGES] = 0;
		return 1;
	}
	if (starts(s, end, "=== Installed Packages Begin")) {
		ps->mode = M_PACKAGES;
		ps->seen[NOTES_PACKAGES] = 1;
		return 1;
	}
	if (starts(s, end, "=== os-release Begin")) {
		ps->mode = M_OS_RELEASE;
		ps->seen[NOTES_OS_RELEASE] = 1;
		return 1;
	}
	if (starts(s, end, "Using kernel:")) {
		ps->mode = M_KERNEL;
		ps->seen[NOTES_KERNEL] = 1;
		return 1;
	}
	if (starts(s, end, "Install completed successfully"))
		ps->n->complete = 1;
	return 0;
}

static int
parse_line(struct parse *ps, const char *s, const char *end, int lineno)
{
	struct notes *n = ps->n;
	const char *t, *eq;
	int got;

	switch (ps->mode) {
	case M_COMPONENTS:
	case M_IMAGES:
		t = trim_left(s, end);
		if (t < end && *t == '-' && t > s) {
			enum notes_section sec = ps->mode == M_COMPONENTS
			    ? NOTES_COMPONENTS
			    : NOTES_IMAGES;

			t = trim_left(t + 1, end);
			end = trim_right(t, end);
			if (t == end)
				return 0;
			return sec == NOTES_COMPONENTS
			    ? add_component(&n->part[sec], t, end)
			    : add_image(&n->part[sec], t, end);
		}
		/* Any other line ends the list. */
		ps->closed[ps->mode == M_COMPONENTS ? NOTES_COMPONENTS
		                                    : NOTES_IMAGES] = 1;
		ps->mode = M_NONE;
		(void)heading(ps, s, end);
		return 0;
	case M_PACKAGES:
		if (starts(s, end, "=== Installed Packages End")) {
			ps->closed[NOTES_PACKAGES] = 1;
			ps->mode = M_NONE;
			return 0;
		}
		if (s == end || starts(s, end, "Listing...") ||
		    starts(s, end, "WARNING:"))
			return 0;
		got = add_package(&n->part[NOTES_PACKAGES], s, end);
		if (got < 0)
			return -1;
		if (got == 0 && ps->bad_line[NOTES_PACKAGES] == 0)
			ps->bad_line[NOTES_PACKAGES] = lineno;
		return 0;
	case M_OS_RELEASE:
		if (starts(s, end, "=== os-release End")) {
			ps->closed[NOTES_OS_RELEASE] = 1;
			ps->mode = M_NONE;
			return 0;
		}
		if (s == end)
			return 0;
		eq = find(s, end, "=");
		if (eq == NULL || eq == s || has_space(s, eq)) {
			if (ps->bad_line[NOTES_OS_RELEASE] == 0)
				ps->bad_line[NOTES_OS_RELEASE] = lineno;
			return 0;
		}
		t = eq + 1;
		if (end - t >= 2 && (*t == '"' || *t == '\'') &&
		    end[-1] == *t) {
			t++;
			end--;
		}
		return part_add(&n->part[NOTES_OS_RELEASE], s, (size_t)(eq - s),
		    t, (size_t)(end - t));
	case M_KERNEL:
		if (s == end)
			return 0;
		ps->mode = M_NONE;
		if (starts(s, end, "Linux version ")) {
			t = s + 14;
			eq = t;
			while (eq < end && !isspace((unsigned char)*eq))
				eq++;
			if (eq > t) {
				ps->closed[NOTES_KERNEL] = 1;
				return part_add(&n->part[NOTES_KERNEL], "linux",
				    5, t, (size_t)(eq - t));
			}
		}
		ps->bad_line[NOTES_KERNEL] = lineno;
		ps->closed[NOTES_KERNEL] = 1;
		(void)heading(ps, s, end);
		return 0;
	case M_NONE:
		(void)heading(ps, s, end);
		return 0;
	}
	return 0;
}

int
notes_parse(const char *text, size_t len, struct notes *out)
{
	struct parse ps;
	const char *p = text, *end = text + len, *nl, *le;
	int lineno = 0;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.n = out;
	if (len > 0 && memchr(text, '\0', len) != NULL) {
		for (int s = 0; s < NOTES_NSECTIONS; s++)
			set_unreadable(&out->part[s], "not text (NUL bytes)");
		return 0;
	}
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		le = nl != NULL ? nl : end;
		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le - p <= LINE_MAX_LEN &&
		    parse_line(&ps, p, le, lineno) < 0) {
			notes_clear(out);
			return -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	/* A list at the very end of the file ends with it. */
	if (ps.mode == M_COMPONENTS && out->complete)
		ps.closed[NOTES_COMPONENTS] = 1;
	if (ps.mode == M_IMAGES && out->complete)
		ps.closed[NOTES_IMAGES] = 1;

	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		struct notes_part *pt = &out->part[s];

		part_sort(pt);
		if (!ps.seen[s]) {
			if (out->complete) {
				pt->state = NOTES_ABSENT;
				snprintf(pt->why, sizeof(pt->why),
				    "these notes have no %s section",
				    section_titles[s]);
			} else {
				set_unreadable(pt,
				    "the notes stop before this section "
				    "(cut off?)");
			}
			continue;
		}
		if (!ps.closed[s]) {
			set_unreadable(
			    pt, "the notes end inside this section (cut off?)");
			continue;
		}
		if (ps.bad_line[s] != 0) {
			char why[160];

			snprintf(why, sizeof(why),
			    "line %d is not in a form this version of aksnap "
			    "reads",
			    ps.bad_line[s]);
			set_unreadable(pt, why);
			continue;
		}
		if (s == NOTES_KERNEL && pt->n == 0) {
			set_unreadable(pt, "no kernel version");
			continue;
		}
		pt->state = NOTES_OK;
	}
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		struct notes_part *pt = &out->part[s];

		/* Half-read items must not pass for the section. */
		if (pt->state == NOTES_OK)
			continue;
		for (size_t i = 0; i < pt->n; i++) {
			free(pt->items[i].name);
			free(pt->items[i].version);
		}
		free(pt->items);
		pt->items = NULL;
		pt->n = pt->cap = 0;
	}
	return 0;
}

int
notes_usable(const struct notes *n)
{
	for (int s = 0; s < NOTES_NSECTIONS; s++)
		if (n->part[s].state == NOTES_OK)
			return 1;
	return 0;
}

const char *
notes_find(const struct notes *n, enum notes_section s, const char *name,
    const char *prefix)
{
	const struct notes_part *pt;

	if ((unsigned)s >= NOTES_NSECTIONS)
		return NULL;
	pt = &n->part[s];
	if (pt->state != NOTES_OK)
		return NULL;
	for (size_t i = 0; i < pt->n; i++) {
		if (strcmp(pt->items[i].name, name) != 0)
			continue;
		if (prefix == NULL ||
		    strncmp(pt->items[i].version, prefix, strlen(prefix)) == 0)
			return pt->items[i].version;
	}
	return NULL;
}

/* ---- what changed ---- */

static int
diff_add(struct notes_section_diff *d, const char *name, char *old, char *new)
{
	struct notes_change *c;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 32;
		struct notes_change *nc = realloc(d->items, ncap * sizeof(*nc));

		if (nc == NULL)
			goto nomem;
		d->items = nc;
		d->cap = ncap;
	}
	c = &d->items[d->n];
	c->name = strdup(name);
	if (c->name == NULL)
		goto nomem;
	c->old = old;
	c->new = new;
	d->n++;
	if (old == NULL)
		d->added++;
	else if (new == NULL)
		d->removed++;
	else
		d->changed++;
	return 0;
nomem:
	free(old);
	free(new);
	return -1;
}

/*
 * The versions of items[from..to) not in other[ofrom..oto) (both sorted
 * by version within a name), ", "-joined, malloc'd; "" when none.
 */
static char *
only_in(const struct notes_item *items, size_t from, size_t to,
    const struct notes_item *other, size_t ofrom, size_t oto)
{
	size_t len = 1, j;
	char *s;

	for (size_t i = from; i < to; i++)
		len += strlen(items[i].version) + 2;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (size_t i = from; i < to; i++) {
		for (j = ofrom; j < oto; j++)
			if (strcmp(items[i].version, other[j].version) == 0)
				break;
		if (j < oto)
			continue;
		if (s[0] != '\0')
			strcat(s, ", ");
		strcat(s, items[i].version);
	}
	return s;
}

static size_t
name_end(const struct notes_item *items, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && strcmp(items[j].name, items[i].name) == 0)
		j++;
	return j;
}

static int
diff_section(const struct notes_part *a, const struct notes_part *b,
    struct notes_section_diff *d)
{
	size_t i = 0, j = 0;

	while (i < a->n || j < b->n) {
		int c;
		size_t ie, je;
		char *o, *nw;

		if (i >= a->n)
			c = 1;
		else if (j >= b->n)
			c = -1;
		else
			c = strcmp(a->items[i].name, b->items[j].name);
		if (c < 0) {
			ie = name_end(a->items, a->n, i);
			o = only_in(a->items, i, ie, NULL, 0, 0);
			if (o == NULL || diff_add(d, a->items[i].name, o, NULL))
				return -1;
			i = ie;
			continue;
		}
		if (c > 0) {
			je = name_end(b->items, b->n, j);
			nw = only_in(b->items, j, je, NULL, 0, 0);
			if (nw == NULL ||
			    diff_add(d, b->items[j].name, NULL, nw))
				return -1;
			j = je;
			continue;
		}
		ie = name_end(a->items, a->n, i);
		je = name_end(b->items, b->n, j);
		o = only_in(a->items, i, ie, b->items, j, je);
		nw = only_in(b->items, j, je, a->items, i, ie);
		if (o == NULL || nw == NULL) {
			free(o);
			free(nw);
			return -1;
		}
		if (o[0] == '\0' && nw[0] == '\0') {
			free(o);
			free(nw);
		} else if (diff_add(d, a->items[i].name, o, nw)) {
			return -1;
		}
		i = ie;
		j = je;
	}
	return 0;
}

int
notes_diff(const struct notes *a, const struct notes *b, struct notes_diff *out)
{
	memset(out, 0, sizeof(*out));
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_part *pa = &a->part[s], *pb = &b->part[s];
		struct notes_section_diff *d = &out->sec[s];

		if (pa->state != NOTES_OK || pb->state != NOTES_OK) {
			const struct notes_part *bad =
			    pa->state != NOTES_OK ? pa : pb;

			snprintf(d->why, sizeof(d->why), "%s notes: %s",
			    bad == pa ? "old" : "new", bad->why);
			continue;
		}
		d->compared = 1;
		if (diff_section(pa, pb, d)) {
			notes_diff_clear(out);
			return -1;
		}
	}
	return 0;
}

void
notes_diff_clear(struct notes_diff *d)
{
	if (d == NULL)
		return;
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		struct notes_section_diff *sd = &d->sec[s];

		for (size_t i = 0; i < sd->n; i++) {
			free(sd->items[i].name);
			free(sd->items[i].old);
			free(sd->items[i].new);
		}
		free(sd->items);
		memset(sd, 0, sizeof(*sd));
	}
}
