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
 * Exit 0 when it answered, 2 for a usage error or an unknown snapshot or
 * pool, 1 when there is nothing to compare (no baseline) or the store or
 * Azure failed.
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
#include "job/cmd/output.h"
#include "job/rules/notes.h"
#include "job/rules/versions.h"
#include "job/run/changelog.h"
#include "job/run/run.h"

static const char *const key_components[] = {"containerd", "runc", "kubelet"};
#define NKEY (sizeof(key_components) / sizeof(key_components[0]))

static const char *
dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
side_template(
    const struct config *cfg, const char *pool_key, struct changelog_side *s)
{
	const struct pool_conf *pc = config_find_pool(cfg, pool_key);

	util_strlcpy(s->template,
	    pc != NULL ? pc->policy.release_notes
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
	a = dash(a);
	b = dash(b);
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

static void
print_text(const char *pool, const struct changelog *cl)
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
		for (size_t i = 0; i < d->n; i++) {
			const struct notes_change *c = &d->items[i];

			if (c->old == NULL)
				printf("  + %s %s\n", c->name, dash(c->new));
			else if (c->new == NULL)
				printf("  - %s %s\n", c->name, dash(c->old));
			else if (c->old[0] == '\0')
				/* A version added beside the kept ones. */
				printf("  ~ %s also %s\n", c->name, c->new);
			else if (c->new[0] == '\0')
				printf(
				    "  ~ %s no longer %s\n", c->name, c->old);
			else
				printf("  ~ %s %s -> %s\n", c->name, c->old,
				    c->new);
		}
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
	for (int s = 0; cl->diffed && s < NOTES_NSECTIONS; s++) {
		const struct notes_section_diff *d = &cl->diff.sec[s];
		json_t *o = json_object(), *items = json_array();

		json_object_set_new(
		    o, "section", json_string(notes_section_name(s)));
		json_object_set_new(o, "compared", json_boolean(d->compared));
		json_object_set_new(o, "reason",
		    d->compared ? json_null() : json_string(d->why));
		json_object_set_new(
		    o, "added", json_integer((json_int_t)d->added));
		json_object_set_new(
		    o, "removed", json_integer((json_int_t)d->removed));
		json_object_set_new(
		    o, "changed", json_integer((json_int_t)d->changed));
		for (size_t i = 0; i < d->n; i++) {
			const struct notes_change *c = &d->items[i];
			json_t *it = json_object();

			json_object_set_new(it, "change",
			    json_string(c->old == NULL ? "added"
			            : c->new == NULL   ? "removed"
			                               : "changed"));
			json_object_set_new(it, "name", json_string(c->name));
			json_object_set_new(it, "old",
			    c->old != NULL ? json_string(c->old) : json_null());
			json_object_set_new(it, "new",
			    c->new != NULL ? json_string(c->new) : json_null());
			json_array_append_new(items, it);
		}
		json_object_set_new(o, "items", items);
		json_array_append_new(secs, o);
	}
	json_object_set_new(doc, "sections", secs);
	changelog_summary(cl, summary, sizeof(summary));
	json_object_set_new(doc, "summary", json_string(summary));
	output_print_json(doc);
}

/* ---- gathering ---- */

static int
find_snap(struct db *db, const char *ref, struct db_snapshot *out)
{
	int got = db_snapshot_find(db, ref, out);

	if (got == 0)
		log_err(NULL,
		    "changes: no snapshot '%s' in the store (give its name, "
		    "ARM id or number from 'aksnap list')",
		    ref);
	return got;
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

/* The live pool, by one GET: 0, or -1 with the exit code in ${*rc}. */
static int
live_side(const struct config *cfg, const struct pool_conf *pc,
    struct changelog_side *s, int *rc)
{
	struct http_client *http = NULL;
	struct token_provider *tokens = NULL;
	struct arm *arm = NULL;
	struct arm_agent_pool ap;
	struct arm_error e;
	char id[512], why[700];
	int out = -1;

	*rc = EXIT_FAILED;
	if (run_connect(cfg, &http, &tokens, &arm)) {
		if (tokens == NULL && http != NULL)
			*rc = EXIT_USAGE;
		goto done;
	}
	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.ContainerService/managedClusters/%s/agentPools/%s",
	    pc->subscription, pc->resource_group, pc->cluster, pc->nodepool);
	memset(&ap, 0, sizeof(ap));
	memset(&e, 0, sizeof(e));
	if (arm_agent_pool_get(arm, pc->key, id, &ap, &e)) {
		arm_error_describe(&e, why, sizeof(why));
		log_err(pc->key, "changes --live: %s", why);
		goto done;
	}
	arm_agent_pool_versions(&ap, &s->v);
	snprintf(s->label, sizeof(s->label), "pool %s (live)", pc->key);
	util_strlcpy(s->arm_id, id, sizeof(s->arm_id));
	side_template(cfg, pc->key, s);
	out = 0;
done:
	run_disconnect(http, tokens, arm);
	return out;
}

int
cmd_changes(struct cli *cli, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"pool", required_argument, NULL, 'p'},
	    {"channel", required_argument, NULL, 'c'},
	    {"live", no_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct config *cfg = NULL;
	struct db *db = NULL;
	struct http_client *http = NULL;
	struct http_options ho;
	struct changelog cl;
	struct db_snapshot a, b;
	struct db_pool prow;
	const struct pool_conf *pc = NULL;
	const char *pool = NULL, *channel = NULL, *refs[2] = {NULL, NULL};
	char role[96];
	int ch, live = 0, nrefs = 0, rc = EXIT_USAGE, got;

	memset(&cl, 0, sizeof(cl));
	while ((ch = cli_getopt(cli, argc, argv, lopts)) != -1) {
		switch (ch) {
		case 'p':
			pool = optarg;
			break;
		case 'c':
			channel = optarg;
			break;
		case 'l':
			live = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (nrefs == 2)
			return cli_usage_error(
			    "changes", "at most two snapshots");
		refs[nrefs++] = argv[optind];
	}
	if (nrefs == 0 && pool == NULL)
		return cli_usage_error(
		    "changes", "name two snapshots, or --pool POOL");
	if (nrefs > 0 && (pool != NULL || live))
		return cli_usage_error(
		    "changes", "give snapshots or --pool [--live], not both");
	if (live && pool == NULL)
		return cli_usage_error("changes", "--live needs --pool POOL");
	if (nrefs == 2 && channel != NULL)
		return cli_usage_error("changes",
		    "--channel is for a baseline; two snapshots "
		    "need none");
	if (cli_load_config(cli, &cfg))
		return EXIT_USAGE;
	if (pool != NULL) {
		pc = config_find_pool(cfg, pool);
		if (pc == NULL) {
			rc = cli_usage_error(
			    "changes", "no [pool:%s] in %s", pool, cfg->path);
			goto out;
		}
	}
	rc = EXIT_FAILED;
	if (db_open(cfg->database, &db))
		goto out;

	if (nrefs == 2) {
		got = find_snap(db, refs[0], &a);
		if (got > 0)
			got = find_snap(db, refs[1], &b);
		if (got <= 0) {
			rc = got == 0 ? EXIT_USAGE : EXIT_FAILED;
			goto out;
		}
		side_from_snapshot(cfg, &a, "old", &cl.old);
		side_from_snapshot(cfg, &b, "new", &cl.new);
		pool = strcmp(a.pool_key, b.pool_key) == 0 ? a.pool_key : NULL;
	} else {
		int64_t pool_id;

		if (nrefs == 1) {
			got = find_snap(db, refs[0], &b);
			if (got <= 0) {
				rc = got == 0 ? EXIT_USAGE : EXIT_FAILED;
				goto out;
			}
			pool = b.pool_key;
			pool_id = b.pool_id;
			pc = config_find_pool(cfg, pool);
		} else {
			got = db_pool_get(db, pc->key, &prow);
			if (got < 0)
				goto out;
			if (got == 0) {
				log_err(pc->key,
				    "changes: no run has seen this pool yet");
				goto out;
			}
			pool_id = prow.id;
		}
		if (channel == NULL)
			channel = pc != NULL ? pc->policy.channel : "stable";
		got = baseline(db, pool, pool_id, channel, &a);
		if (got <= 0)
			goto out;
		snprintf(role, sizeof(role), "baseline in %s", channel);
		side_from_snapshot(cfg, &a, role, &cl.old);
		if (nrefs == 1) {
			side_from_snapshot(cfg, &b, "new", &cl.new);
		} else if (live) {
			if (live_side(cfg, pc, &cl.new, &rc))
				goto out;
			rc = EXIT_FAILED;
		} else {
			got = db_snapshot_newest_active(db, pool_id, &b);
			if (got <= 0) {
				if (got == 0)
					log_err(pool,
					    "changes: no active snapshot");
				goto out;
			}
			side_from_snapshot(cfg, &b, "newest snapshot", &cl.new);
		}
	}

	memset(&ho, 0, sizeof(ho));
	ho.timeout_s = cfg->request_timeout;
	ho.ca_file = cfg->ca_file[0] != '\0' ? cfg->ca_file : NULL;
	http = http_client_new(&ho);
	if (changelog_build(db, http, &cl))
		goto out;
	if (!cl.diffed) {
		/* One line: the versions still compare. */
		const struct changelog_side *s =
		    cl.old.have_notes ? &cl.new : &cl.old;

		log_warn(pool,
		    "no release notes for %s: %s%s%s%s; comparing versions "
		    "only",
		    dash(s->v.node_image_version), s->notes_why,
		    s->notes_url[0] ? " (" : "", s->notes_url,
		    s->notes_url[0] ? ")" : "");
	}
	if (cli->json)
		print_json(pool, &cl);
	else
		print_text(pool != NULL ? pool : "-", &cl);
	rc = EXIT_DONE;
out:
	changelog_clear(&cl);
	http_client_free(http);
	db_close(db);
	config_free(cfg);
	return rc;
}
