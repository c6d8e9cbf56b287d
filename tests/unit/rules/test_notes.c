/*
 * test_notes.c -- node image release notes: the path of an image's notes,
 * reading real notes (tests/fixtures/release-notes, published AgentBaker
 * files) and cut-off or foreign ones, and what changed between two.
 *
 * Fixtures are read from the repository root (the tests' working
 * directory); a missing fixture fails the test.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "job/base/util.h"
#include "job/rules/notes.h"

#define FIXTURES "tests/fixtures/release-notes"
#define UBUNTU_OLD FIXTURES "/AKSUbuntu/gen2/2204containerd/202608.14.0.txt"
#define UBUNTU_NEW FIXTURES "/AKSUbuntu/gen2/2204containerd/202608.20.0.txt"
#define AZL3 FIXTURES "/AKSAzureLinuxV3/gen2/202608.20.0.txt"

static char *
slurp(const char *path, size_t *len)
{
	char *buf = NULL, err[256];

	if (util_read_file(path, 16u << 20, &buf, len, err, sizeof(err)))
		fail_msg("fixture %s: %s", path, err);
	return buf;
}

static void
parse_file(const char *path, struct notes *n)
{
	size_t len;
	char *text = slurp(path, &len);

	assert_int_equal(notes_parse(text, len, n), 0);
	free(text);
}

static const struct notes_change *
change_of(const struct notes_diff *d, enum notes_section s, const char *name)
{
	for (size_t i = 0; i < d->sec[s].n; i++)
		if (strcmp(d->sec[s].items[i].name, name) == 0)
			return &d->sec[s].items[i];
	return NULL;
}

/* ---- path ---- */

static void
expect_path(const char *image, const char *path)
{
	char got[256], why[256];

	if (notes_path(image, got, sizeof(got), why, sizeof(why)) != 0)
		fail_msg("%s: not mapped: %s", image, why);
	assert_string_equal(got, path);
}

static void
expect_no_path(const char *image, const char *reason)
{
	char got[256], why[256];

	assert_int_equal(
	    notes_path(image, got, sizeof(got), why, sizeof(why)), -1);
	if (strstr(why, reason) == NULL)
		fail_msg("%s: reason '%s' lacks '%s'", image, why, reason);
}

/*
 * The image version AKS reports for a notes file's path: the inverse of
 * the documented rule, written out separately so the test does not
 * restate the code.
 */
static void
image_of_path(const char *rel, char *out, size_t len)
{
	char fam[64], a[64], b[64], c[64];
	int n = sscanf(rel, "%63[^/]/%63[^/]/%63[^/]/%63[^/]", fam, a, b, c);

	if (n == 4 && strcmp(fam, "AKSUbuntu") == 0) {
		/* AKSUbuntu/<gen>/<variant>/<v>.txt */
		char variant[64];
		size_t digits = strspn(b, "0123456789");

		c[strlen(c) - 4] = '\0';
		snprintf(variant, sizeof(variant), "%.*s%s%s", (int)digits, b,
		    strcmp(a, "gen2") == 0 ? "gen2" : "", b + digits);
		snprintf(out, len, "AKSUbuntu-%s-%s", variant, c);
		return;
	}
	if (n == 3 && strcmp(fam, "AKSAzureLinuxV3") == 0) {
		b[strlen(b) - 4] = '\0';
		snprintf(out, len, "AKSAzureLinux-V3%s-%s", a, b);
		return;
	}
	fail_msg("fixture %s: no image name rule in this test", rel);
}

static size_t
walk(const char *dir, const char *rel, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		fail_msg("fixture folder %s missing", dir);
	while ((e = readdir(d)) != NULL) {
		char path[1024], r[512];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(
		    r, sizeof(r), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode))
			n += walk(path, r, names + n, max - n);
		else if (strlen(r) > 4 &&
		    strcmp(r + strlen(r) - 4, ".txt") == 0 && n < max)
			snprintf(names[n++], 256, "%s", r);
	}
	closedir(d);
	return n;
}

static void
test_notes_path_maps_every_fixture_file(void **state)
{
	static char names[64][256];
	size_t n;

	(void)state;
	n = walk(FIXTURES, "", names, 64);
	/* The three published files SOURCES.md lists. */
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		char image[256], want[256];

		image_of_path(names[i], image, sizeof(image));
		snprintf(want, sizeof(want), "%.*s", (int)strlen(names[i]) - 4,
		    names[i]);
		expect_path(image, want);
	}
}

static void
test_notes_path_maps_published_variants(void **state)
{
	(void)state;
	/* The examples of ../shared/azure-api/NOTES.md 8.5. */
	expect_path("AKSUbuntu-2204gen2containerd-202606.26.0",
	    "AKSUbuntu/gen2/2204containerd/202606.26.0");
	expect_path("AKSUbuntu-2204containerd-202606.26.0",
	    "AKSUbuntu/gen1/2204containerd/202606.26.0");
	expect_path("AKSUbuntu-2204gen2arm64containerd-202608.20.0",
	    "AKSUbuntu/gen2/2204arm64containerd/202608.20.0");
	expect_path("AKSUbuntu-2204gen2fipscontainerd-202608.20.0",
	    "AKSUbuntu/gen2/2204fipscontainerd/202608.20.0");
	expect_path("AKSUbuntu-2204gen2TLcontainerd-202608.20.0",
	    "AKSUbuntu/gen2/2204tlcontainerd/202608.20.0");
	expect_path("AKSUbuntu-2204fipscontainerd-202608.20.0",
	    "AKSUbuntu/gen1/2204fipscontainerd/202608.20.0");
	expect_path("AKSUbuntu-2404gen2containerd-202608.20.0",
	    "AKSUbuntu/gen2/2404containerd/202608.20.0");
	expect_path("AKSUbuntu-2404gen2arm64containerd-202608.20.0",
	    "AKSUbuntu/gen2/2404arm64containerd/202608.20.0");
	expect_path("AKSAzureLinux-V3gen2-202606.26.0",
	    "AKSAzureLinuxV3/gen2/202606.26.0");
	expect_path("AKSAzureLinux-V3gen2arm64-202608.20.0",
	    "AKSAzureLinuxV3/gen2arm64/202608.20.0");
	expect_path("AKSAzureLinux-V3gen2fips-202608.20.0",
	    "AKSAzureLinuxV3/gen2fips/202608.20.0");
	expect_path("AKSAzureLinux-V3gen1-202608.20.0",
	    "AKSAzureLinuxV3/gen1/202608.20.0");
	expect_path("AKSAzureLinux-V3gen2TL-202608.20.0",
	    "AKSAzureLinuxV3/gen2tl/202608.20.0");
	expect_path("AKSWindows-2022-containerd-20348.2527.240710",
	    "AKSWindows/2022-containerd/20348.2527.240710");
	expect_path("AKSWindows-2022-containerd-gen2-20348.2527.240710",
	    "AKSWindows/2022-containerd-gen2/20348.2527.240710");
	expect_path("AKSWindows-2019-containerd-17763.6054.240710",
	    "AKSWindows/2019-containerd/17763.6054.240710");
	/* The older date form. */
	expect_path("AKSUbuntu-2204gen2containerd-2022.10.03",
	    "AKSUbuntu/gen2/2204containerd/2022.10.03");
}

static void
test_notes_path_says_why_when_unpublished(void **state)
{
	(void)state;
	expect_no_path("AKSAzureLinux-V2gen2-202610.28.0", "Azure Linux 2");
	expect_no_path(
	    "AKSAzureLinux-V2gen2arm64-202610.28.0", "Azure Linux 2");
	expect_no_path("AKSCBLMariner-V2gen2-202308.01.0", "CBL-Mariner");
	expect_no_path(
	    "AKSUbuntu-1804gen2containerd-2022.10.03", "Ubuntu variant");
	expect_no_path("AKSUbuntu-2204gen2weirdcontainerd-202608.20.0",
	    "Ubuntu variant 2204gen2weirdcontainerd");
	expect_no_path("AKSAzureLinux-V3gen9-202608.20.0", "Azure Linux 3");
	expect_no_path("AKSWindows-2016-20348.2527.240710", "Windows variant");
	expect_no_path("AKSWindows-2022-containerd-202608.20.0", "Windows");
	expect_no_path("AKSUbuntu-2204gen2containerd-latest", "Linux build");
	expect_no_path(
	    "AKSFooOS-gen2-202608.20.0", "unknown node image family");
	expect_no_path("", "no node image version");
	expect_no_path("AKSUbuntu", "not a node image version");
	expect_no_path("AKSUbuntu-2204gen2containerd-../../etc", "not a node");
	expect_no_path("a/b-c-202608.20.0", "not a node image version");
}

static void
test_notes_url_fills_the_template(void **state)
{
	char url[512];

	(void)state;
	assert_int_equal(
	    notes_url("https://raw.githubusercontent.com/Azure/AgentBaker/"
	              "master/vhdbuilder/release-notes/{path}.txt",
	        "AKSUbuntu/gen2/2204containerd/202608.20.0", url, sizeof(url)),
	    0);
	assert_string_equal(url,
	    "https://raw.githubusercontent.com/Azure/AgentBaker/master/"
	    "vhdbuilder/release-notes/AKSUbuntu/gen2/2204containerd/"
	    "202608.20.0.txt");
	assert_int_equal(
	    notes_url("https://x/notes", "a", url, sizeof(url)), -1);
	assert_int_equal(notes_url("https://x/{path}", "abc", url, 10), -1);
}

/* ---- parse ---- */

static void
test_notes_parse_reads_every_section_of_real_ubuntu_notes(void **state)
{
	struct notes n;

	(void)state;
	parse_file(UBUNTU_NEW, &n);
	assert_true(n.complete);
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		if (n.part[s].state != NOTES_OK)
			fail_msg(
			    "%s: %s", notes_section_name(s), n.part[s].why);
	}
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "containerd", NULL),
	    "1.7.34-ubuntu22.04u2");
	assert_string_equal(notes_find(&n, NOTES_COMPONENTS, "runc", NULL),
	    "1.4.3-ubuntu22.04u2");
	/* Several versions of one name; a prefix picks one. */
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "kubelet", "1.35.7"),
	    "1.35.7-ubuntu22.04u2");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "nvidia-grid-driver", NULL),
	    "570.211.01-20260522192315");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "bpftrace", NULL), "v0.9.4");
	assert_string_equal(
	    notes_find(&n, NOTES_IMAGES,
	        "mcr.microsoft.com/oss/v2/kubernetes/pause", "3.10"),
	    "3.10.2");
	assert_string_equal(
	    notes_find(&n, NOTES_PACKAGES, "curl", NULL), "7.81.0-1ubuntu1.26");
	assert_string_equal(
	    notes_find(&n, NOTES_PACKAGES, "acr-mirror", NULL), "1.0.0-1");
	assert_string_equal(
	    notes_find(&n, NOTES_KERNEL, "linux", NULL), "5.15.0-1118-azure");
	assert_string_equal(
	    notes_find(&n, NOTES_OS_RELEASE, "PRETTY_NAME", NULL),
	    "Ubuntu 22.04.5 LTS");
	/* 945 lines: a sanity bound on what was read, not an exact count. */
	assert_true(n.part[NOTES_PACKAGES].n > 500);
	assert_true(n.part[NOTES_IMAGES].n > 60);
	assert_int_equal(n.part[NOTES_KERNEL].n, 1);
	notes_clear(&n);
}

static void
test_notes_parse_reads_real_azure_linux_notes(void **state)
{
	struct notes n;

	(void)state;
	parse_file(AZL3, &n);
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		if (n.part[s].state != NOTES_OK)
			fail_msg(
			    "%s: %s", notes_section_name(s), n.part[s].why);
	}
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "containerd", NULL),
	    "2.2.4-6.azl3");
	/* rpm lines: name-version-release.arch */
	assert_string_equal(
	    notes_find(&n, NOTES_PACKAGES, "runc", NULL), "1.3.6-1.azl3");
	assert_string_equal(
	    notes_find(&n, NOTES_PACKAGES, "perl-Text-Tabs+Wrap", NULL),
	    "2021.0814-514.azl3");
	assert_string_equal(notes_find(&n, NOTES_PACKAGES, "gpg-pubkey", NULL),
	    "3135ce90-5e6fda74");
	assert_string_equal(
	    notes_find(&n, NOTES_KERNEL, "linux", NULL), "6.6.150.1-1.azl3");
	assert_string_equal(
	    notes_find(&n, NOTES_OS_RELEASE, "VERSION", NULL), "3.0.20260809");
	notes_clear(&n);
}

/* The first ${frac} of a fixture, cut in the middle of a line. */
static void
parse_cut(const char *path, double frac, struct notes *n)
{
	size_t len;
	char *text = slurp(path, &len);

	assert_int_equal(notes_parse(text, (size_t)(len * frac) + 3, n), 0);
	free(text);
}

static void
test_notes_parse_reports_cut_off_sections(void **state)
{
	struct notes n;

	(void)state;
	/* Halfway: inside the package list. */
	parse_cut(UBUNTU_NEW, 0.5, &n);
	assert_false(n.complete);
	assert_int_equal(n.part[NOTES_COMPONENTS].state, NOTES_OK);
	assert_int_equal(n.part[NOTES_IMAGES].state, NOTES_OK);
	assert_int_equal(n.part[NOTES_PACKAGES].state, NOTES_UNREADABLE);
	assert_int_equal(n.part[NOTES_PACKAGES].n, 0);
	assert_non_null(strstr(n.part[NOTES_PACKAGES].why, "cut off"));
	assert_int_equal(n.part[NOTES_KERNEL].state, NOTES_UNREADABLE);
	assert_non_null(strstr(n.part[NOTES_KERNEL].why, "stop before"));
	assert_int_equal(n.part[NOTES_OS_RELEASE].state, NOTES_UNREADABLE);
	assert_true(notes_usable(&n));
	notes_clear(&n);

	/* Inside the first list: nothing can be trusted. */
	parse_cut(UBUNTU_NEW, 0.01, &n);
	assert_int_equal(n.part[NOTES_COMPONENTS].state, NOTES_UNREADABLE);
	assert_non_null(strstr(n.part[NOTES_COMPONENTS].why, "end inside"));
	assert_false(notes_usable(&n));
	notes_clear(&n);
}

static void
test_notes_parse_refuses_what_is_not_notes(void **state)
{
	static const char html[] =
	    "<!DOCTYPE html><html><body><h1>404: Not Found</h1>"
	    "</body></html>\n";
	static const char nul[] = "Starting build on\0\0\0garbage";
	struct notes n;

	(void)state;
	assert_int_equal(notes_parse(html, sizeof(html) - 1, &n), 0);
	assert_false(notes_usable(&n));
	notes_clear(&n);
	assert_int_equal(notes_parse(nul, sizeof(nul) - 1, &n), 0);
	assert_false(notes_usable(&n));
	assert_non_null(strstr(n.part[NOTES_PACKAGES].why, "NUL"));
	notes_clear(&n);
	assert_int_equal(notes_parse("", 0, &n), 0);
	assert_false(notes_usable(&n));
	notes_clear(&n);
}

static void
test_notes_parse_reads_the_older_form(void **state)
{
	/* The 2021 shape (AKSUbuntu/gen2/1804/2021.09.11.txt): "docker
	 * images pre-pulled", bare component names, no os-release. */
	static const char old[] =
	    "Starting build on  Sat Sep 11 03:05:42 UTC 2021\n"
	    "Components downloaded in this VHD build (some of the below "
	    "components might get deleted during cluster provisioning if they "
	    "are not needed):\n"
	    "  - apache2-utils\n"
	    "  - blobfuse=1.3.7\n"
	    "  - moby v19.03.14\n"
	    "  - runc version 1.0.0-rc95\n"
	    "  - [cached] runc 1.0.0-rc92\n"
	    "docker images pre-pulled:\n"
	    "  - mcr.microsoft.com/oss/kubernetes/pause:3.5\n"
	    "  - nginx:1.13.12-alpine\n"
	    "kubelet/kubectl downloaded:\n"
	    "-rwxr-xr-x 1 root root 114080872 Aug 17 02:18 /usr/local/bin/x\n"
	    "=== Installed Packages Begin\n"
	    "Listing...\n"
	    "acl/bionic,now 2.2.52-3build1 amd64 [installed,automatic]\n"
	    "=== Installed Packages End\n"
	    "Using kernel:\n"
	    "Linux version 5.4.0-1055-azure (buildd@lcy01-amd64-025) (gcc)\n"
	    "Install completed successfully on  Sat Sep 11 03:26:09 UTC 2021\n";
	struct notes n;

	(void)state;
	assert_int_equal(notes_parse(old, sizeof(old) - 1, &n), 0);
	assert_int_equal(n.part[NOTES_COMPONENTS].state, NOTES_OK);
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "apache2-utils", NULL), "");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "blobfuse", NULL), "1.3.7");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "moby", NULL), "v19.03.14");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "[cached] runc", NULL),
	    "1.0.0-rc92");
	assert_string_equal(
	    notes_find(&n, NOTES_IMAGES, "nginx", NULL), "1.13.12-alpine");
	assert_string_equal(
	    notes_find(&n, NOTES_PACKAGES, "acl", NULL), "2.2.52-3build1");
	assert_string_equal(
	    notes_find(&n, NOTES_KERNEL, "linux", NULL), "5.4.0-1055-azure");
	assert_int_equal(n.part[NOTES_OS_RELEASE].state, NOTES_ABSENT);
	notes_clear(&n);
}

static void
test_notes_parse_refuses_a_package_line_it_does_not_know(void **state)
{
	static const char text[] =
	    "=== Installed Packages Begin\n"
	    "acl/bionic,now 2.2.52-3build1 amd64 [installed,automatic]\n"
	    "ii  acl  2.2.52  amd64  access control list utilities\n"
	    "=== Installed Packages End\n"
	    "Install completed successfully on  Sat Sep 11 03:26:09 UTC 2021\n";
	struct notes n;

	(void)state;
	assert_int_equal(notes_parse(text, sizeof(text) - 1, &n), 0);
	assert_int_equal(n.part[NOTES_PACKAGES].state, NOTES_UNREADABLE);
	assert_non_null(strstr(n.part[NOTES_PACKAGES].why, "line 3"));
	assert_int_equal(n.part[NOTES_PACKAGES].n, 0);
	assert_int_equal(n.part[NOTES_COMPONENTS].state, NOTES_ABSENT);
	notes_clear(&n);
}

static void
test_notes_parse_trims_list_lines(void **state)
{
	/* Trailing blanks are not part of a version; a line that ends in
	 * one must not be read past (fuzz corpus: crash-component-...). */
	static const char text[] =
	    "Components downloaded in this VHD build:\n"
	    "  - runc version 1.2.3   \n"
	    "  - moby v20.10 \t\n"
	    "images pre-pulled:\n"
	    "  - mcr.microsoft.com/oss/kubernetes/pause:3.6  \n"
	    "Install completed successfully on  Sat Sep 11 03:26:09 UTC 2021\n"
	    "Components downloaded in this VHD build:\n"
	    "  - bpftrace ";
	struct notes n;

	(void)state;
	assert_int_equal(notes_parse(text, sizeof(text) - 1, &n), 0);
	assert_int_equal(n.part[NOTES_COMPONENTS].state, NOTES_OK);
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "runc", NULL), "1.2.3");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "moby", NULL), "v20.10");
	assert_string_equal(
	    notes_find(&n, NOTES_COMPONENTS, "bpftrace", NULL), "");
	assert_string_equal(notes_find(&n, NOTES_IMAGES,
	                        "mcr.microsoft.com/oss/kubernetes/pause", NULL),
	    "3.6");
	notes_clear(&n);
}

/* ---- diff ---- */

static void
test_notes_diff_of_consecutive_ubuntu_builds(void **state)
{
	struct notes a, b;
	struct notes_diff d;
	const struct notes_change *c;

	(void)state;
	parse_file(UBUNTU_OLD, &a);
	parse_file(UBUNTU_NEW, &b);
	assert_int_equal(notes_diff(&a, &b, &d), 0);
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_section_diff *sd = &d.sec[s];

		assert_true(sd->compared);
		assert_int_equal(sd->added + sd->removed + sd->changed, sd->n);
	}
	/* Both builds run kernel 5.15.0-1118-azure (SOURCES.md). */
	assert_int_equal(d.sec[NOTES_KERNEL].n, 0);
	c = change_of(&d, NOTES_COMPONENTS, "ig");
	assert_non_null(c);
	assert_string_equal(c->old, "0.54.1-ubuntu22.04u6");
	assert_string_equal(c->new, "0.55.0-ubuntu22.04u2");
	c = change_of(&d, NOTES_COMPONENTS, "blobfuse2");
	assert_non_null(c);
	assert_string_equal(c->old, "2.5.4");
	assert_string_equal(c->new, "2.5.5");
	c = change_of(&d, NOTES_IMAGES,
	    "mcr.microsoft.com/containernetworking/v2/azure-cni");
	assert_non_null(c);
	assert_string_equal(c->old, "v1.8.11");
	assert_string_equal(c->new, "v1.8.12");
	/* A name that gains one version beside the kept ones. */
	c = change_of(&d, NOTES_IMAGES,
	    "mcr.microsoft.com/containernetworking/cilium/cilium-distroless");
	assert_non_null(c);
	assert_non_null(strstr(c->new, "v1.18.12-260811"));
	assert_true(d.sec[NOTES_PACKAGES].n > 0);
	/* Unchanged items are not listed. */
	assert_null(change_of(&d, NOTES_COMPONENTS, "oras"));
	notes_diff_clear(&d);

	/* The same notes on both sides: nothing changed. */
	assert_int_equal(notes_diff(&b, &b, &d), 0);
	for (int s = 0; s < NOTES_NSECTIONS; s++)
		assert_int_equal(d.sec[s].n, 0);
	notes_diff_clear(&d);
	notes_clear(&a);
	notes_clear(&b);
}

static void
test_notes_diff_across_families_adds_and_removes(void **state)
{
	struct notes a, b;
	struct notes_diff d;
	const struct notes_change *c;

	(void)state;
	parse_file(UBUNTU_NEW, &a);
	parse_file(AZL3, &b);
	assert_int_equal(notes_diff(&a, &b, &d), 0);
	c = change_of(&d, NOTES_KERNEL, "linux");
	assert_non_null(c);
	assert_string_equal(c->old, "5.15.0-1118-azure");
	assert_string_equal(c->new, "6.6.150.1-1.azl3");
	c = change_of(&d, NOTES_OS_RELEASE, "UBUNTU_CODENAME");
	assert_non_null(c);
	assert_null(c->new); /* removed */
	c = change_of(&d, NOTES_OS_RELEASE, "ANSI_COLOR");
	assert_non_null(c);
	assert_null(c->old); /* added */
	assert_true(d.sec[NOTES_PACKAGES].added > 100);
	assert_true(d.sec[NOTES_PACKAGES].removed > 100);
	notes_diff_clear(&d);
	notes_clear(&a);
	notes_clear(&b);
}

static void
test_notes_diff_does_not_compare_an_unreadable_side(void **state)
{
	struct notes a, b;
	struct notes_diff d;

	(void)state;
	parse_file(UBUNTU_OLD, &a);
	parse_cut(UBUNTU_NEW, 0.5, &b);
	assert_int_equal(notes_diff(&a, &b, &d), 0);
	assert_true(d.sec[NOTES_COMPONENTS].compared);
	assert_false(d.sec[NOTES_PACKAGES].compared);
	assert_int_equal(d.sec[NOTES_PACKAGES].n, 0);
	assert_non_null(strstr(d.sec[NOTES_PACKAGES].why, "new notes:"));
	assert_false(d.sec[NOTES_KERNEL].compared);
	notes_diff_clear(&d);
	notes_diff_clear(NULL);
	notes_clear(&a);
	notes_clear(&b);
	notes_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_notes_path_maps_every_fixture_file),
	    cmocka_unit_test(test_notes_path_maps_published_variants),
	    cmocka_unit_test(test_notes_path_says_why_when_unpublished),
	    cmocka_unit_test(test_notes_url_fills_the_template),
	    cmocka_unit_test(
	        test_notes_parse_reads_every_section_of_real_ubuntu_notes),
	    cmocka_unit_test(test_notes_parse_reads_real_azure_linux_notes),
	    cmocka_unit_test(test_notes_parse_reports_cut_off_sections),
	    cmocka_unit_test(test_notes_parse_refuses_what_is_not_notes),
	    cmocka_unit_test(test_notes_parse_reads_the_older_form),
	    cmocka_unit_test(
	        test_notes_parse_refuses_a_package_line_it_does_not_know),
	    cmocka_unit_test(test_notes_parse_trims_list_lines),
	    cmocka_unit_test(test_notes_diff_of_consecutive_ubuntu_builds),
	    cmocka_unit_test(test_notes_diff_across_families_adds_and_removes),
	    cmocka_unit_test(
	        test_notes_diff_does_not_compare_an_unreadable_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
