/*
 * cmd_changes.c -- `aksnap changes`: what changed between two node images
 * (DESIGN.md section 6, Changes).
 *
 *   changes A B                  snapshot A (old) -> snapshot B (new)
 *   changes A                    A's pool's baseline -> A (what promoting
 *                                A would bring in)
 *   changes --pool P             P's baseline -> P's newest active snapshot
 *   changes --pool P --live      P's baseline -> the pool as Azure shows it
 *                                now (one GET)
 *   --channel NAME               the baseline of NAME (default: the pool's
 *                                policy channel)
 *
 * The top of the answer fits one screen: the Kubernetes and node image
 * version change, kernel, OS release and the components people ask about
 * (containerd, runc, kubelet), then a count per section, then each
 * section's additions, removals and changes.  Release notes are read from
 * the store or fetched once (job/run/changelog.c); without them the
 * command still answers with the versions and says why in one line.
 * The two sides are gathered first (store, then with --live one GET), the
 * notes read or fetched, then the answer rendered as text or one JSON
 * document.  Exit 0 when it answered, 2 for a usage error, an unknown
 * snapshot or pool, or an Azure that cannot be trusted (a TLS certificate
 * or an identity refused), 1 when there is nothing to compare (no
 * baseline) or the store or Azure failed, and the session's codes for the
 * configuration and the store (session.h).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/base/log.h"
#include "job/base/util.h"
#include "job/cmd/cli.h"
#include "job/cmd/lookup.h"
#include "job/cmd/output.h"
#include "job/cmd/session.h"
#include "job/rules/notes.h"
#include "job/rules/versions.h"
#include "job/run/changelog.h"
#include "job/run/run.h"

static const char *const key_components[] = {"containerd", "runc", "kubelet"};
#define NKEY (sizeof(key_components) / sizeof(key_components[0]))

static void
side_template(
    const struct config *cfg, const char *pool_key, struct changelog_side *s)
{
	const struct pool_conf *pc = config_find_pool(cfg, pool_key);

	util_strlcpy(s->template,
	    pc != NULL ? pc->policy->release_notes
	               : CONFIG_RELEASE_NOTES_DEFAULT,
	    sizeof(s->template));
}

static void
side_from_snapshot(const struct config *cfg, const struct db_snapshot *snap,
    const char *role, struct changelog_side *s)
{
	snprintf(s->label, sizeof(s->label), "%s (%s)", snap->name, role);
	util_strlcpy(s->snapshot, snap->name, sizeof(s->snapshot));
	util_strlcpy(s->arm_id, snap->arm_id, sizeof(s->arm_id));
	s->v = snap->v;
	side_template(cfg, snap->pool_key, s);
}

/* ---- rendering ---- */

static void
print_change(const char *what, const char *a, const char *b)
{
	a = lookup_dash(a);
	b = lookup_dash(b);
	if (strcmp(a, b) == 0)
		printf("%-12s %s (unchanged)\n", what, a);
	else
		printf("%-12s %s -> %s\n", what, a, b);
}

static const char *
os_name(const struct changelog_side *s)
{
	return s->have_notes
	    ? notes_find(&s->notes, NOTES_OS_RELEASE, "PRETTY_NAME", NULL)
	    : NULL;
}

static const char *
kernel(const struct changelog_side *s)
{
	return s->have_notes
	    ? notes_find(&s->notes, NOTES_KERNEL, "linux", NULL)
	    : NULL;
}

static const char *
key_version(const struct changelog_side *s, const char *name)
{
	return s->have_notes
	    ? changelog_key_component(&s->notes, name, s->v.kubernetes_version)
	    : NULL;
}

static void
print_notes_line(const char *role, const struct changelog_side *s)
{
	if (s->have_notes)
		printf("%-12s %s (%s)\n", role, s->notes_path, s->notes_source);
	else if (s->notes_url[0] != '\0')
		printf(
		    "%-12s none: %s (%s)\n", role, s->notes_why, s->notes_url);
	else
		printf("%-12s none: %s\n", role, s->notes_why);
}

/* The top of the answer: the sides, the versions, the notes used. */
static void
print_text_head(const char *pool, const struct changelog *cl)
{
	printf("%-12s %s\n", "pool", pool);
	printf("%-12s %s\n", "old", cl->old.label);
	printf("%-12s %s\n", "new", cl->new.label);
	print_change("Kubernetes", cl->old.v.kubernetes_version,
	    cl->new.v.kubernetes_version);
	print_change("node image", cl->old.v.node_image_version,
	    cl->new.v.node_image_version);
	if (cl->diffed) {
		print_change("kernel", kernel(&cl->old), kernel(&cl->new));
		print_change(
		    "OS release", os_name(&cl->old), os_name(&cl->new));
		for (size_t i = 0; i < NKEY; i++) {
			const char *a =
			               key_version(&cl->old, key_components[i]),
			           *b =
			               key_version(&cl->new, key_components[i]);

			if (a != NULL || b != NULL)
				print_change(key_components[i], a, b);
		}
	}
	print_notes_line("old notes", &cl->old);
	print_notes_line("new notes", &cl->new);
}

static void
print_item(const struct notes_change *c)
{
	if (c->old == NULL)
		printf("  + %s %s\n", c->name, lookup_dash(c->new));
	else if (c->new == NULL)
		printf("  - %s %s\n", c->name, lookup_dash(c->old));
	else if (c->old[0] == '\0')
		/* A version added beside the kept ones. */
		printf("  ~ %s also %s\n", c->name, c->new);
	else if (c->new[0] == '\0')
		printf("  ~ %s no longer %s\n", c->name, c->old);
	else
		printf("  ~ %s %s -> %s\n", c->name, c->old, c->new);
}

static void
print_text(const char *pool, const struct changelog *cl)
{
	print_text_head(pool, cl);
	if (!cl->diffed) {
		printf("\nNo release-notes diff: only the versions above "
		       "compare.\n");
		return;
	}
	printf(
	    "\n%-28s %7s %7s %7s\n", "SECTION", "ADDED", "REMOVED", "CHANGED");
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_section_diff *d = &cl->diff.sec[s];

		if (d->compared)
			printf("%-28s %7zu %7zu %7zu\n", notes_section_title(s),
			    d->added, d->removed, d->changed);
		else
			printf("%-28s not compared: %s\n",
			    notes_section_title(s), d->why);
	}
	for (int s = 0; s < NOTES_NSECTIONS; s++) {
		const struct notes_section_diff *d = &cl->diff.sec[s];

		if (!d->compared || d->n == 0)
			continue;
		printf("\n%s: %zu added, %zu removed, %zu changed\n",
		    notes_section_title(s), d->added, d->removed, d->changed);
		for (size_t i = 0; i < d->n; i++)
			print_item(&d->items[i]);
	}
}

static json_t *
json_change(const char *a, const char *b)
{
	json_t *o = json_object();

	json_object_set_new(o, "old", output_json_opt(a));
	json_object_set_new(o, "new", output_json_opt(b));
	json_object_set_new(o, "changed",
	    json_boolean(strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0));
	return o;
}

static json_t *
json_side(const struct changelog_side *s)
{
	json_t *o = json_object(), *n = json_object();

	json_object_set_new(o, "label", json_string(s->label));
	json_object_set_new(o, "snapshot", output_json_opt(s->snapshot));
	json_object_set_new(o, "arm_id", output_json_opt(s->arm_id));
	output_versions_json(o, &s->v);
	json_object_set_new(n, "available", json_boolean(s->have_notes));
	json_object_set_new(n, "path", output_json_opt(s->notes_path));
	json_object_set_new(n, "url", output_json_opt(s->notes_url));
	json_object_set_new(n, "source", output_json_opt(s->notes_source));
	json_object_set_new(n, "reason",
	    s->have_notes ? json_null() : output_json_opt(s->notes_why));
	json_object_set_new(o, "release_notes", n);
	return o;
}

static json_t *
json_item(const struct notes_change *c)
{
	json_t *it = json_object();

	json_object_set_new(it, "change",
	    json_string(c->old == NULL ? "added"
	            : c->new == NULL   ? "removed"
	                               : "changed"));
	json_object_set_new(it, "name", json_string(c->name));
	json_object_set_new(
	    it, "old", c->old != NULL ? json_string(c->old) : json_null());
	json_object_set_new(
	    it, "new", c->new != NULL ? json_string(c->new) : json_null());
	return it;
}

static json_t *
json_section(int s, const struct notes_section_diff *d)
{
	json_t *o = json_object(), *items = json_array();

	json_object_set_new(o, "section", json_string(notes_section_name(s)));
	json_object_set_new(o, "compared", json_boolean(d->compared));
	json_object_set_new(
	    o, "reason", d->compared ? json_null() : json_string(d->why));
	json_object_set_new(o, "added", json_integer((json_int_t)d->added));
	json_object_set_new(o, "removed", json_integer((json_int_t)d->removed));
	json_object_set_new(o, "changed", json_integer((json_int_t)d->changed));
	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(items, json_item(&d->items[i]));
	json_object_set_new(o, "items", items);
	return o;
}

static void
print_json(const char *pool, const struct changelog *cl)
{
	json_t *doc = json_object(), *keys = json_object(), *secs;
	char summary[1024];

	json_object_set_new(doc, "pool", output_json_opt(pool));
	json_object_set_new(doc, "old", json_side(&cl->old));
	json_object_set_new(doc, "new", json_side(&cl->new));
	json_object_set_new(doc, "kubernetes_version",
	    json_change(
	        cl->old.v.kubernetes_version, cl->new.v.kubernetes_version));
	json_object_set_new(doc, "node_image_version",
	    json_change(
	        cl->old.v.node_image_version, cl->new.v.node_image_version));
	json_object_set_new(doc, "notes_compared", json_boolean(cl->diffed));
	json_object_set_new(doc, "kernel",
	    cl->diffed ? json_change(kernel(&cl->old), kernel(&cl->new))
	               : json_null());
	json_object_set_new(doc, "os_release",
	    cl->diffed ? json_change(os_name(&cl->old), os_name(&cl->new))
	               : json_null());
	for (size_t i = 0; cl->diffed && i < NKEY; i++)
		json_object_set_new(keys, key_components[i],
		    json_change(key_version(&cl->old, key_components[i]),
		        key_version(&cl->new, key_components[i])));
	json_object_set_new(doc, "components", keys);
	secs = json_array();
	for (int s = 0; cl->diffed && s < NOTES_NSECTIONS; s++)
		json_array_append_new(secs, json_section(s, &cl->diff.sec[s]));
	json_object_set_new(doc, "sections", secs);
	changelog_summary(cl, summary, sizeof(summary));
	json_object_set_new(doc, "summary", json_string(summary));
	output_print_json(doc);
}

/* ---- gathering ---- */

struct changes {
	const char *pool, *channel, *refs[2];
	int nrefs, live;
	struct session s;
	const struct pool_conf *pc;
	struct db_snapshot a, b; /* the store's sides, old and new */
	struct changelog cl;
};

/* Snapshot ${ref} into ${out}: EXIT_DONE, or 2 (unknown) or 1. */
static int
find_ref(struct changes *c, const char *ref, struct db_snapshot *out)
{
	return lookup_snapshot(c->s.db, "changes", ref, "the store", out);
}

/* The baseline of ${pool_id} in ${channel}: 1, 0 (said why) or -1. */
static int
baseline(struct db *db, const char *pool_key, int64_t pool_id,
    const char *channel, struct db_snapshot *out)
{
	int got = db_snapshot_channel(db, pool_id, channel, out);

	if (got < 0)
		return -1;
	if (got == 0 || strcmp(out->state, "active") != 0) {
		log_err(pool_key, "changes: no active baseline in channel %s",
		    channel);
		return 0;
	}
	return 1;
}

/* The live pool, by one GET: EXIT_DONE, or the exit code. */
static int
live_side(struct changes *c)
{
	const struct pool_conf *pc = c->pc;
	struct changelog_side *s = &c->cl.new;
	struct arm_agent_pool ap;
	struct arm_error e;
	char id[512], why[700];
	int rc = session_connect(&c->s);

	if (rc != EXIT_DONE)
		return rc;
	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s/agentPools/%s",
	    pc->subscription, pc->resource_group, pc->cluster, pc->nodepool);
	memset(&ap, 0, sizeof(ap));
	memset(&e, 0, sizeof(e));
	if (arm_agent_pool_get(c->s.arm, pc->key, id, &ap, &e)) {
		arm_error_describe(&e, why, sizeof(why));
		log_err(pc->key, "changes --live: %s", why);
		/* An untrusted certificate is the configuration's error. */
		return e.status == 0 && session_unanswered(&c->s) == EXIT_USAGE
		    ? EXIT_USAGE
		    : EXIT_FAILED;
	}
	arm_agent_pool_versions(&ap, &s->v);
	snprintf(s->label, sizeof(s->label), "pool %s (live)", pc->key);
	util_strlcpy(s->arm_id, id, sizeof(s->arm_id));
	side_template(c->s.cfg, pc->key, s);
	return EXIT_DONE;
}

/* changes A B: A (old) -> B (new). */
static int
gather_pair(struct changes *c)
{
	int rc = find_ref(c, c->refs[0], &c->a);

	if (rc == EXIT_DONE)
		rc = find_ref(c, c->refs[1], &c->b);
	if (rc != EXIT_DONE)
		return rc;
	side_from_snapshot(c->s.cfg, &c->a, "old", &c->cl.old);
	side_from_snapshot(c->s.cfg, &c->b, "new", &c->cl.new);
	c->pool =
	    strcmp(c->a.pool_key, c->b.pool_key) == 0 ? c->a.pool_key : NULL;
	return EXIT_DONE;
}

/* The new side against a baseline: snapshot A, the live pool, or the
 * pool's newest active snapshot. */
static int
gather_new(struct changes *c, int64_t pool_id)
{
	int got;

	if (c->nrefs == 1) {
		side_from_snapshot(c->s.cfg, &c->b, "new", &c->cl.new);
		return EXIT_DONE;
	}
	if (c->live)
		return live_side(c);
	got = db_snapshot_newest_active(c->s.db, pool_id, &c->b);
	if (got <= 0) {
		if (got == 0)
			log_err(c->pool, "changes: no active snapshot");
		return EXIT_FAILED;
	}
	side_from_snapshot(c->s.cfg, &c->b, "newest snapshot", &c->cl.new);
	return EXIT_DONE;
}

/* changes A, changes --pool P [--live]: the baseline -> the new side. */
static int
gather_baseline(struct changes *c)
{
	struct db_pool prow;
	int64_t pool_id;
	char role[96];
	int rc, got;

	if (c->nrefs == 1) {
		rc = find_ref(c, c->refs[0], &c->b);
		if (rc != EXIT_DONE)
			return rc;
		c->pool = c->b.pool_key;
		pool_id = c->b.pool_id;
		c->pc = config_find_pool(c->s.cfg, c->pool);
	} else {
		got = db_pool_get(c->s.db, c->pc->key, &prow);
		if (got == 0)
			log_err(c->pc->key,
			    "changes: no run has seen this pool yet");
		if (got <= 0)
			return EXIT_FAILED;
		pool_id = prow.id;
	}
	if (c->channel == NULL)
		c->channel = c->pc != NULL ? c->pc->policy->channel : "stable";
	if (baseline(c->s.db, c->pool, pool_id, c->channel, &c->a) <= 0)
		return EXIT_FAILED;
	snprintf(role, sizeof(role), "baseline in %s", c->channel);
	side_from_snapshot(c->s.cfg, &c->a, role, &c->cl.old);
	return gather_new(c, pool_id);
}

/* The release notes of both sides, read from the store or fetched by a
 * client of their own (never the ARM client: no token leaves for them). */
static int
gather_notes(struct changes *c)
{
	struct http_options ho;
	struct http_client *http;
	const struct changelog_side *s;
	int failed;

	run_http_options(c->s.cfg, &ho);
	http = http_client_new(&ho);
	failed = changelog_build(c->s.db, http, &c->cl);
	http_client_free(http);
	if (failed)
		return EXIT_FAILED;
	if (c->cl.diffed)
		return EXIT_DONE;
	/* One line: the versions still compare. */
	s = c->cl.old.have_notes ? &c->cl.new : &c->cl.old;
	log_warn(c->pool,
	    "no release notes for %s: %s%s%s%s; comparing versions only",
	    lookup_dash(s->v.node_image_version), s->notes_why,
	    s->notes_url[0] ? " (" : "", s->notes_url,
	    s->notes_url[0] ? ")" : "");
	return EXIT_DONE;
}

/* ---- the command ---- */

static int
changes_args(struct cli *cli, int argc, char **argv, struct changes *c)
{
	static const struct option lopts[] = {
	    {"pool", required_argument, NULL, 'p'},
	    {"channel", required_argument, NULL, 'c'},
	    {"live", no_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		if (ch == 'p')
			c->pool = optarg;
		else if (ch == 'c')
			c->channel = optarg;
		else if (ch == 'l')
			c->live = 1;
		else
			return EXIT_USAGE;
	}
	for (; optind < argc; optind++) {
		if (c->nrefs == 2)
			return cli_usage_error(
			    "changes", "at most two snapshots");
		c->refs[c->nrefs++] = argv[optind];
	}
	if (c->nrefs == 0 && c->pool == NULL)
		return cli_usage_error(
		    "changes", "name two snapshots, or --pool POOL");
	if (c->nrefs > 0 && (c->pool != NULL || c->live))
		return cli_usage_error(
		    "changes", "give snapshots or --pool [--live], not both");
	if (c->live && c->pool == NULL)
		return cli_usage_error("changes", "--live needs --pool POOL");
	if (c->nrefs == 2 && c->channel != NULL)
		return cli_usage_error("changes",
		    "--channel is for a baseline; two snapshots need none");
	return EXIT_DONE;
}

int
cmd_changes(struct cli *cli, int argc, char **argv)
{
	struct changes c;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = changes_args(cli, argc, argv, &c);
	if (rc != EXIT_DONE)
		return rc;
	rc = session_open(&c.s, cli, 0);
	if (rc != EXIT_DONE)
		goto out;
	if (c.pool != NULL) {
		c.pc = config_find_pool(c.s.cfg, c.pool);
		if (c.pc == NULL) {
			rc = cli_usage_error("changes", "no [pool:%s] in %s",
			    c.pool, c.s.cfg->path);
			goto out;
		}
	}
	/* Migrated, no run lock: it writes only the notes it fetched. */
	rc = session_store(&c.s, SESSION_CACHE);
	/* --live: an identity refused or Entra ID unreachable stops it
	 * first, as it stops a run. */
	if (rc == EXIT_DONE && c.live)
		rc = session_connect(&c.s);
	if (rc == EXIT_DONE)
		rc = c.nrefs == 2 ? gather_pair(&c) : gather_baseline(&c);
	if (rc == EXIT_DONE)
		rc = gather_notes(&c);
	if (rc != EXIT_DONE)
		goto out;
	if (cli->json)
		print_json(c.pool, &c.cl);
	else
		print_text(c.pool != NULL ? c.pool : "-", &c.cl);
out:
	changelog_clear(&c.cl);
	session_close(&c.s);
	return rc;
}
