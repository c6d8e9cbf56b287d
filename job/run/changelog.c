/*
 * changelog.c -- join two node images to their release notes and diff
 * them (the rules are job/rules/notes.c; this file finds the notes).
 *
 * A build's notes never change once published, so each image version's
 * notes are fetched once and kept in the store (db/db_notes.c) with their
 * SHA-256; later commands, and a bastion that has lost its way out, read
 * them from there.  A kept row whose body no longer matches its hash is
 * not trusted and fetched again.  Only complete notes are kept: a file
 * cut off in transit or at the source is used for what it shows this
 * time and asked for again the next.
 *
 * Failing to get notes is never an error of the command that wanted
 * them: each side says why in one line, and the versions still compare.
 * A failed fetch is remembered for the rest of the process, so a run
 * promoting fifty pools onto one unpublished image asks once.
 */
#include "job/run/changelog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_notes.h"
#include "job/azure/relnotes.h"
#include "job/base/log.h"
#include "job/base/util.h"

#define MEMO_MAX 32

static struct {
	char image[128];
	char why[256];
} memo[MEMO_MAX];
static size_t nmemo;

static const char *
memo_find(const char *image)
{
	for (size_t i = 0; i < nmemo; i++)
		if (strcmp(memo[i].image, image) == 0)
			return memo[i].why;
	return NULL;
}

static void
memo_add(const char *image, const char *why)
{
	size_t i = nmemo < MEMO_MAX ? nmemo++ : MEMO_MAX - 1;

	util_strlcpy(memo[i].image, image, sizeof(memo[i].image));
	util_strlcpy(memo[i].why, why, sizeof(memo[i].why));
}

/* Parse ${body}; 0 with s->notes when something could be read. */
static int
take(struct changelog_side *s, const char *body, size_t len)
{
	if (notes_parse(body, len, &s->notes))
		return -1;
	if (!notes_usable(&s->notes)) {
		notes_clear(&s->notes);
		return -1;
	}
	s->have_notes = 1;
	return 0;
}

static void
load_side(struct db *db, struct http_client *http, struct changelog_side *s)
{
	const char *image = s->v.node_image_version, *m;
	struct db_notes kept, put;
	char why[256], hash[65], *body = NULL;
	size_t len = 0;
	int got;

	if (strcmp(s->template, "off") == 0) {
		util_strlcpy(
		    s->notes_why, "release_notes = off", sizeof(s->notes_why));
		return;
	}
	if (notes_path(image, s->notes_path, sizeof(s->notes_path), why,
	        sizeof(why))) {
		s->notes_path[0] = '\0';
		util_strlcpy(s->notes_why, why, sizeof(s->notes_why));
		return;
	}
	if (notes_url(s->template, s->notes_path, s->notes_url,
	        sizeof(s->notes_url))) {
		util_strlcpy(s->notes_why, "release_notes: URL too long",
		    sizeof(s->notes_why));
		return;
	}

	got = db != NULL ? db_notes_get(db, image, &kept) : 0;
	if (got == 1) {
		relnotes_sha256(kept.body, kept.size, hash);
		if (strcmp(hash, kept.sha256) == 0 &&
		    take(s, kept.body, kept.size) == 0) {
			util_strlcpy(
			    s->notes_source, "store", sizeof(s->notes_source));
			db_notes_clear(&kept);
			return;
		}
		log_warn(NULL,
		    "release notes of %s in the store do not match their "
		    "hash; fetching them again",
		    image);
		db_notes_clear(&kept);
	}

	m = memo_find(image);
	if (m != NULL) {
		util_strlcpy(s->notes_why, m, sizeof(s->notes_why));
		return;
	}
	if (http == NULL) {
		snprintf(s->notes_why, sizeof(s->notes_why),
		    "not in the store, and not fetched (offline)");
		return;
	}
	if (relnotes_fetch(http, s->notes_url, RELNOTES_MAX_BYTES, &body, &len,
	        why, sizeof(why))) {
		util_strlcpy(s->notes_why, why, sizeof(s->notes_why));
		memo_add(image, s->notes_why);
		return;
	}
	if (take(s, body, len)) {
		util_strlcpy(s->notes_why,
		    "not release notes (no section could be read)",
		    sizeof(s->notes_why));
		memo_add(image, s->notes_why);
		free(body);
		return;
	}
	util_strlcpy(s->notes_source, "fetched", sizeof(s->notes_source));
	log_info(
	    NULL, "fetched the release notes of %s (%zu bytes)", image, len);
	if (db != NULL && s->notes.complete) {
		memset(&put, 0, sizeof(put));
		util_strlcpy(put.node_image_version, image,
		    sizeof(put.node_image_version));
		util_strlcpy(put.path, s->notes_path, sizeof(put.path));
		util_strlcpy(put.url, s->notes_url, sizeof(put.url));
		put.fetched_at = util_now();
		relnotes_sha256(body, len, put.sha256);
		put.body = body;
		put.size = len;
		(void)db_notes_put(db, &put);
	}
	free(body);
}

int
changelog_build(struct db *db, struct http_client *http, struct changelog *cl)
{
	load_side(db, http, &cl->old);
	load_side(db, http, &cl->new);
	cl->diffed = 0;
	if (cl->old.have_notes && cl->new.have_notes) {
		if (notes_diff(&cl->old.notes, &cl->new.notes, &cl->diff))
			return -1;
		cl->diffed = 1;
	}
	return 0;
}

const char *
changelog_key_component(
    const struct notes *n, const char *name, const char *k8s)
{
	const char *v;
	char prefix[48];

	if (strcmp(name, "kubelet") == 0 || strcmp(name, "kubectl") == 0) {
		if (k8s == NULL || k8s[0] == '\0')
			return NULL;
		snprintf(prefix, sizeof(prefix), "%s-", k8s);
		v = notes_find(n, NOTES_COMPONENTS, name, prefix);
		return v != NULL ? v
		                 : notes_find(n, NOTES_COMPONENTS, name, k8s);
	}
	v = notes_find(n, NOTES_COMPONENTS, name, NULL);
	return v != NULL ? v : notes_find(n, NOTES_PACKAGES, name, NULL);
}

/* "A -> B", or "A (unchanged)"; "-" for an empty side. */
static void
change(char *buf, size_t len, const char *a, const char *b)
{
	a = a != NULL && a[0] != '\0' ? a : "-";
	b = b != NULL && b[0] != '\0' ? b : "-";
	if (strcmp(a, b) == 0)
		snprintf(buf, len, "%s (unchanged)", a);
	else
		snprintf(buf, len, "%s -> %s", a, b);
}

static void
append(char *buf, size_t len, const char *fmt, const char *s)
{
	size_t n = strlen(buf);

	if (n < len)
		snprintf(buf + n, len - n, fmt, s);
}

void
changelog_summary(const struct changelog *cl, char *buf, size_t len)
{
	const char *a = cl->old.v.node_image_version,
	           *b = cl->new.v.node_image_version, *dash;
	char tmp[320], part[96];

	buf[0] = '\0';
	/* Same family: "AKSUbuntu-2204gen2containerd-202608.14.0 ->
	 * 202608.20.0" reads better than the name twice. */
	dash = strrchr(a, '-');
	if (dash != NULL && strcmp(a, b) != 0 &&
	    strncmp(a, b, (size_t)(dash - a + 1)) == 0)
		snprintf(tmp, sizeof(tmp), "%s -> %s", a, b + (dash - a + 1));
	else
		change(tmp, sizeof(tmp), a, b);
	append(buf, len, "node image %s", tmp);
	change(tmp, sizeof(tmp), cl->old.v.kubernetes_version,
	    cl->new.v.kubernetes_version);
	append(buf, len, "; Kubernetes %s", tmp);
	if (!cl->diffed) {
		const struct changelog_side *s =
		    cl->old.have_notes ? &cl->new : &cl->old;

		snprintf(tmp, sizeof(tmp), "%s (%s)", s->notes_why,
		    s == &cl->old ? "old image" : "new image");
		append(buf, len, "; no release notes: %s", tmp);
		return;
	}
	change(tmp, sizeof(tmp),
	    notes_find(&cl->old.notes, NOTES_KERNEL, "linux", NULL),
	    notes_find(&cl->new.notes, NOTES_KERNEL, "linux", NULL));
	append(buf, len, "; kernel %s", tmp);
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_section_diff *d = &cl->diff.sec[s];

		if (s == NOTES_KERNEL)
			continue;
		if (!d->compared)
			snprintf(part, sizeof(part), "%s not compared",
			    notes_section_name(s));
		else
			snprintf(part, sizeof(part), "%s +%zu -%zu ~%zu",
			    notes_section_name(s), d->added, d->removed,
			    d->changed);
		append(buf, len, s == 0 ? "; %s" : ", %s", part);
	}
}

void
changelog_promotion(struct db *db, struct http_client *http,
    const char *template, const struct db_snapshot *old,
    const struct db_snapshot *new, char *buf, size_t len)
{
	struct changelog cl;

	if (old == NULL) {
		snprintf(buf, len,
		    "first in the channel: node image %s, Kubernetes %s",
		    new->v.node_image_version[0] ? new->v.node_image_version
		                                 : "-",
		    new->v.kubernetes_version[0] ? new->v.kubernetes_version
		                                 : "-");
		return;
	}
	memset(&cl, 0, sizeof(cl));
	cl.old.v = old->v;
	cl.new.v = new->v;
	util_strlcpy(cl.old.template, template, sizeof(cl.old.template));
	util_strlcpy(cl.new.template, template, sizeof(cl.new.template));
	if (changelog_build(db, http, &cl) == 0) {
		changelog_summary(&cl, buf, len);
	} else {
		/* Out of memory: the versions alone. */
		cl.diffed = 0;
		util_strlcpy(cl.old.notes_why, "out of memory",
		    sizeof(cl.old.notes_why));
		changelog_summary(&cl, buf, len);
	}
	changelog_clear(&cl);
}

void
changelog_clear(struct changelog *cl)
{
	if (cl == NULL)
		return;
	notes_clear(&cl->old.notes);
	notes_clear(&cl->new.notes);
	notes_diff_clear(&cl->diff);
	cl->diffed = 0;
	cl->old.have_notes = cl->new.have_notes = 0;
}
