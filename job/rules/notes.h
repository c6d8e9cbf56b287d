#ifndef AKSNAP_NOTES_H
#define AKSNAP_NOTES_H

/*
 * notes.h -- AKS node image release notes (AgentBaker's
 * vhdbuilder/release-notes/<family>/<variant>/<version>.txt): where the
 * notes of an image version live, what they say, and what changed between
 * two of them (DESIGN.md section 6, Changes).  Pure: text in, structs out.
 *
 * A notes file is read into five sections, each a list of (name, version)
 * items:
 *   components  "  - containerd version 1.7.34-ubuntu22.04u2" and friends
 *   images      "  - mcr.microsoft.com/oss/v2/kubernetes/pause:3.10.2"
 *   packages    apt ("curl/jammy,now 7.81.0-1ubuntu1.26 amd64 [...]") or
 *               rpm ("runc-1.3.6-1.azl3.x86_64") lines
 *   kernel      one item, "linux" = "5.15.0-1118-azure"
 *   os_release  the KEY=value lines of /etc/os-release
 * A section is NOTES_OK, NOTES_ABSENT (the file has no such section: older
 * notes lack some) or NOTES_UNREADABLE (it is there but cut off or in a
 * form this parser does not know): what cannot be read is said, never
 * guessed.
 */

#include <stddef.h>

enum notes_section {
	NOTES_COMPONENTS = 0,
	NOTES_IMAGES,
	NOTES_PACKAGES,
	NOTES_KERNEL,
	NOTES_OS_RELEASE,
	NOTES_NSECTIONS,
};

enum notes_state {
	NOTES_ABSENT = 0,
	NOTES_OK,
	NOTES_UNREADABLE,
};

struct notes_item {
	char *name;
	char *version; /* "" when the line names no version */
};

struct notes_part {
	enum notes_state state;
	char why[160]; /* ABSENT/UNREADABLE: the reason; "" when OK */
	struct notes_item *items; /* sorted by name, then version */
	size_t n, cap;
};

struct notes {
	struct notes_part part[NOTES_NSECTIONS];
	int complete; /* the "Install completed successfully" line was seen */
};

/* notes_section_name(s): "components", "images", "packages", "kernel",
 * "os_release" (the JSON names); notes_section_title(s): for people. */
const char *notes_section_name(enum notes_section s);
const char *notes_section_title(enum notes_section s);

/*
 * notes_path(image, path, pathlen, why, whylen):
 * The release-notes path of node image version ${image} relative to
 * vhdbuilder/release-notes/, without ".txt": e.g.
 * "AKSUbuntu-2204gen2containerd-202608.20.0" ->
 * "AKSUbuntu/gen2/2204containerd/202608.20.0".  Return 0, or -1 with the
 * reason in ${why}: a family whose notes are not published (Azure Linux 2,
 * CBL-Mariner), a variant without a notes folder, or a string that is not
 * a node image version.  Only folders AgentBaker publishes are mapped.
 */
int notes_path(
    const char *image, char *path, size_t pathlen, char *why, size_t whylen);

/*
 * notes_url(template, path, out, outlen):
 * ${template} with its "{path}" replaced by ${path}.  0, or -1 when the
 * template has no {path} or the result does not fit.
 */
int notes_url(const char *template, const char *path, char *out, size_t outlen);

/*
 * notes_parse(text, len, out):
 * Read ${len} bytes of notes into ${out} (caller releases it with
 * notes_clear).  Return 0 (each section's state says what was read), or
 * -1 when out of memory (${out} is then cleared).
 */
int notes_parse(const char *text, size_t len, struct notes *out);

/* notes_clear(n): free what notes_parse allocated; NULL is fine. */
void notes_clear(struct notes *n);

/*
 * notes_usable(n):
 * 1 when at least one section was read (the text is release notes).
 */
int notes_usable(const struct notes *n);

/*
 * notes_find(n, s, name, prefix):
 * The version of the first item named ${name} (case-sensitive) in section
 * ${s} whose version starts with ${prefix} (NULL: any), or NULL.
 */
const char *notes_find(const struct notes *n, enum notes_section s,
    const char *name, const char *prefix);

/* One difference: added (old NULL), removed (new NULL) or changed. */
struct notes_change {
	char *name;
	char *old; /* the versions only the old side has, ", "-joined */
	char *new; /* the versions only the new side has */
};

struct notes_section_diff {
	int compared; /* 0: one side could not be read (see why) */
	char why[200];
	size_t added, removed, changed;
	struct notes_change *items; /* by name */
	size_t n, cap;
};

struct notes_diff {
	struct notes_section_diff sec[NOTES_NSECTIONS];
};

/*
 * notes_diff(a, b, out):
 * What changed from ${a} (old) to ${b} (new), per section: names only in
 * ${b} are added, only in ${a} removed, in both with other versions
 * changed (a name listed with several versions, as cached kubelets are,
 * is compared as a set).  A section not NOTES_OK on either side is not
 * compared, with the reason.  Return 0, or -1 when out of memory (${out}
 * cleared).  Release with notes_diff_clear.
 */
int notes_diff(
    const struct notes *a, const struct notes *b, struct notes_diff *out);

/* notes_diff_clear(d): free; NULL is fine. */
void notes_diff_clear(struct notes_diff *d);

#endif
