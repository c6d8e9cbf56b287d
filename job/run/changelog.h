#ifndef AKSNAP_CHANGELOG_H
#define AKSNAP_CHANGELOG_H

/*
 * changelog.h -- what changed between two node images (DESIGN.md section
 * 6, Changes): the Kubernetes and node image versions of two sides (two
 * snapshots, a baseline and a snapshot, a live pool and its baseline) and,
 * when both images' release notes can be had, their difference per
 * section.  Notes come from the store, else are fetched once and kept;
 * without them the versions still compare.
 */

#include <stddef.h>

#include "db/db.h"
#include "job/rules/notes.h"

struct http_client;

struct changelog_side {
	char label[192]; /* "snapshot NAME", "pool KEY (observed ...)" */
	char snapshot[64]; /* "" when the side is not a snapshot */
	char arm_id[LIMIT_ARM_ID];
	struct db_versions v;
	char template[512]; /* release_notes of its pool's policy */
	/* filled by changelog_build */
	int have_notes;
	char notes_path[256]; /* "" when the image cannot be mapped */
	char notes_url[1024];
	char notes_source[16]; /* "store" or "fetched" */
	char notes_why[256]; /* no notes: why, in one line (no URL: it goes
	                        into the journal, which names no host) */
	struct notes notes;
};

struct changelog {
	struct changelog_side old, new;
	int diffed; /* both sides have notes and diff is filled */
	struct notes_diff diff;
};

/*
 * changelog_build(db, http, cl):
 * Load the notes of both sides of ${cl} (old and new filled by the
 * caller): from the store; else, with ${http} (NULL: offline), fetched
 * from the side's template and kept in the store with their SHA-256;
 * then diff them.  Never fails for want of notes: a side without notes
 * says why in notes_why ("release_notes = off", an unpublished family,
 * "not published (HTTP 404)", "unreachable: ..."), and a failed fetch of
 * an image is not retried within the process.  Return 0, or -1 when out
 * of memory.
 */
int changelog_build(
    struct db *db, struct http_client *http, struct changelog *cl);

/*
 * changelog_summary(cl, buf, len):
 * One line for the decision journal: the node image and Kubernetes
 * changes, the kernel, and per section "+added -removed ~changed", or
 * why there are no notes.
 */
void changelog_summary(const struct changelog *cl, char *buf, size_t len);

/*
 * changelog_promotion(db, http, template, old, new, buf, len):
 * The summary a promotion records: what ${new} brings in over ${old},
 * the channel's previous holder (NULL: the channel was empty, and the
 * summary names ${new}'s versions), with notes per ${template}.  Never
 * fails: without notes it says why.
 */
void changelog_promotion(struct db *db, struct http_client *http,
    const char *template, const struct db_snapshot *old,
    const struct db_snapshot *new, char *buf, size_t len);

/* changelog_key_component(n, name, k8s): the version of a key component
 * (containerd, runc from components or packages; kubelet matching the
 * Kubernetes version ${k8s}), or NULL. */
const char *changelog_key_component(
    const struct notes *n, const char *name, const char *k8s);

/* changelog_clear(cl): free the notes and the diff; NULL is fine. */
void changelog_clear(struct changelog *cl);

#endif
