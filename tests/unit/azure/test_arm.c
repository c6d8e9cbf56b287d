/*
 * test_arm.c -- the pure half of job/arm.c against the official examples.
 *
 * Every response body of every example in tests/fixtures/azure-api/examples
 * (or $AZURE_API_DIR/examples) is parsed into the structs and the fields
 * the job uses are checked by value; the request bodies aksnap builds are
 * compared with the examples' request parameters with json_equal.  Error
 * bodies of every shape (and of no shape: HTML, empty, cut short) give a
 * sensible struct arm_error.  No network: the blocking half is exercised
 * end to end against the emulator (tests/e2e/test_arm.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "job/base/log.h"
#include "job/base/util.h"

#define SUB "00000000-0000-0000-0000-000000000000"
#define POOL0_ID                                                               \
	"/subscriptions/" SUB "/resourceGroups/rg1/providers/"                 \
	"Microsoft.ContainerService/managedClusters/cluster1/agentPools/pool0"
#define SNAP1_ID                                                               \
	"/subscriptions/" SUB "/resourceGroups/rg1/providers/"                 \
	"Microsoft.ContainerService/snapshots/snapshot1"
#define CLUSTER1_ID                                                            \
	"/subscriptions/" SUB "/resourceGroups/rg1/providers/"                 \
	"Microsoft.ContainerService/managedClusters/clustername1"
#define CREATED_AT 1628540003 /* 2021-08-09T20:13:23Z */

static char examples[1024];

static int
have_examples(void)
{
	const char *base = getenv("AZURE_API_DIR");
	struct stat st;

	snprintf(examples, sizeof(examples), "%s/examples",
	    base != NULL && base[0] != '\0' ? base
	                                    : "tests/fixtures/azure-api");
	return stat(examples, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A missing fixture is a failure, never a skip. */
#define NEED_EXAMPLES()                                                        \
	do {                                                                   \
		if (!have_examples())                                          \
			fail_msg("examples not found at %s (run from the "     \
			         "repository root, or set AZURE_API_DIR)",     \
			    examples);                                         \
	} while (0)

static json_t *
load_example(const char *name)
{
	char path[1400];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", examples, name);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("%s: %s", path, jerr.text);
	return root;
}

/* body_text(ex, code): responses.<code>.body as JSON text (caller frees). */
static char *
body_text(const json_t *ex, const char *code)
{
	json_t *body = json_object_get(
	    json_object_get(json_object_get(ex, "responses"), code), "body");

	assert_non_null(body);
	return json_dumps(body, JSON_COMPACT);
}

static json_t *
request_params(const json_t *ex)
{
	json_t *p =
	    json_object_get(json_object_get(ex, "parameters"), "parameters");

	assert_non_null(p);
	return p;
}

static void
assert_json_text_equal(const char *text, const json_t *want)
{
	json_t *got = json_loads(text, 0, NULL);

	assert_non_null(got);
	if (!json_equal(got, want)) {
		char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		print_error("want %s\n got  %s\n", w, g);
		free(w);
		free(g);
		json_decref(got);
		fail();
	}
	json_decref(got);
}

static void
check_example_snapshot(const struct arm_snapshot *s)
{
	assert_string_equal(s->id, SNAP1_ID);
	assert_string_equal(s->name, "snapshot1");
	assert_string_equal(s->location, "westus");
	assert_string_equal(s->source_id, POOL0_ID);
	assert_string_equal(s->kubernetes_version, "1.20.5");
	assert_string_equal(
	    s->node_image_version, "AKSUbuntu-1804gen2containerd-2021.09.11");
	assert_string_equal(s->os_type, "Linux");
	assert_string_equal(s->os_sku, "Ubuntu");
	assert_string_equal(s->vm_size, "Standard_D2s_v3");
	assert_int_equal(s->enable_fips, 0);
	assert_int_equal((long long)s->created_at, CREATED_AT);
	assert_int_equal(s->tags_incomplete, 0);
}

/* ---- response bodies of the examples ---- */

static void
test_arm_snapshot_create_and_get_examples_parse_by_value(void **state)
{
	const char *files[] = {"SnapshotsCreate.json", "SnapshotsGet.json"};
	const char *codes[] = {"200", "201"};
	size_t f, c;

	(void)state;
	NEED_EXAMPLES();
	for (f = 0; f < 2; f++) {
		json_t *ex = load_example(files[f]);

		for (c = 0; c < 2; c++) {
			struct arm_snapshot s;
			char err[256] = "";
			char *body;

			if (json_object_get(json_object_get(ex, "responses"),
			        codes[c]) == NULL)
				continue;
			body = body_text(ex, codes[c]);
			assert_int_equal(
			    arm_snapshot_parse(body, &s, err, sizeof(err)), 0);
			check_example_snapshot(&s);
			assert_int_equal(s.ntags, 2);
			assert_string_equal(arm_tag_get(&s, "key1"), "val1");
			assert_string_equal(arm_tag_get(&s, "KEY2"), "val2");
			assert_null(arm_tag_get(&s, "key3"));
			free(body);
		}
		json_decref(ex);
	}
}

static void
test_arm_snapshot_update_tags_example_parses_new_tags(void **state)
{
	struct arm_snapshot s;
	char err[256] = "";
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("SnapshotsUpdateTags.json");
	body = body_text(ex, "200");
	assert_int_equal(arm_snapshot_parse(body, &s, err, sizeof(err)), 0);
	check_example_snapshot(&s);
	assert_int_equal(s.ntags, 2);
	assert_string_equal(arm_tag_get(&s, "key2"), "new-val2");
	assert_string_equal(arm_tag_get(&s, "key3"), "val3");
	assert_null(arm_tag_get(&s, "key1"));
	free(body);
	json_decref(ex);
}

static void
test_arm_snapshot_list_examples_parse_value_and_next_link(void **state)
{
	const char *files[] = {
	    "SnapshotsList.json", "SnapshotsListByResourceGroup.json"};
	size_t f;

	(void)state;
	NEED_EXAMPLES();
	for (f = 0; f < 2; f++) {
		json_t *ex = load_example(files[f]), *page;
		struct arm_snapshot *arr = NULL;
		char *next = NULL, *body;
		char err[256] = "";
		size_t n = 0;

		body = body_text(ex, "200");
		assert_int_equal(arm_snapshot_list_parse(
		                     body, &arr, &n, &next, err, sizeof(err)),
		    0);
		assert_int_equal(n, 1);
		assert_null(next);
		check_example_snapshot(&arr[0]);
		free(arr);
		free(body);

		/* the same page with a nextLink: returned as is */
		page = json_object_get(
		    json_object_get(json_object_get(ex, "responses"), "200"),
		    "body");
		json_object_set_new(page, "nextLink",
		    json_string("https://management.azure.com/subscriptions/"
		                "x/providers/Microsoft.ContainerService/"
		                "snapshots?api-version=2026-08-01&"
		                "$skipToken=abc"));
		body = json_dumps(page, JSON_COMPACT);
		assert_int_equal(arm_snapshot_list_parse(
		                     body, &arr, &n, &next, err, sizeof(err)),
		    0);
		assert_int_equal(n, 1);
		assert_non_null(next);
		assert_non_null(strstr(next, "$skipToken=abc"));
		free(next);
		free(arr);
		free(body);

		/* an empty nextLink means the last page */
		json_object_set_new(page, "nextLink", json_string(""));
		body = json_dumps(page, JSON_COMPACT);
		assert_int_equal(arm_snapshot_list_parse(
		                     body, &arr, &n, &next, err, sizeof(err)),
		    0);
		assert_null(next);
		free(arr);
		free(body);
		json_decref(ex);
	}
}

static void
test_arm_snapshot_list_without_value_is_an_error(void **state)
{
	struct arm_snapshot *arr = (struct arm_snapshot *)1;
	char *next = (char *)1;
	char err[256] = "";
	size_t n = 7;

	(void)state;
	assert_int_equal(arm_snapshot_list_parse("{\"nextLink\":\"x\"}", &arr,
	                     &n, &next, err, sizeof(err)),
	    -1);
	assert_null(arr);
	assert_null(next);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "value"));
	assert_int_equal(arm_snapshot_list_parse("{\"value\":[]}", &arr, &n,
	                     &next, err, sizeof(err)),
	    0);
	assert_int_equal(n, 0);
	assert_null(arr);
	assert_null(next);
	assert_int_equal(arm_snapshot_list_parse("{\"value\":[{\"id\":5}]}",
	                     &arr, &n, &next, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "value[0]"));
}

static void
test_arm_cluster_get_example_fills_every_agent_pool(void **state)
{
	struct arm_cluster c;
	char err[256] = "";
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("ManagedClustersGet.json");
	body = body_text(ex, "200");
	assert_int_equal(arm_cluster_parse(body, &c, err, sizeof(err)), 0);
	assert_string_equal(c.id, CLUSTER1_ID);
	assert_string_equal(c.name, "clustername1");
	assert_string_equal(c.location, "location1");
	assert_string_equal(c.kubernetes_version, "1.9.6");
	assert_string_equal(c.current_kubernetes_version, "1.9.6");
	assert_string_equal(c.provisioning_state, "Succeeded");
	assert_int_equal(c.npools, 1);
	assert_string_equal(c.pools[0].name, "nodepool1");
	assert_string_equal(c.pools[0].id, CLUSTER1_ID "/agentPools/nodepool1");
	assert_string_equal(
	    c.pools[0].node_image_version, "AKSUbuntu:1604:2020.03.11");
	assert_string_equal(c.pools[0].orchestrator_version, "1.9.6");
	assert_string_equal(c.pools[0].current_orchestrator_version, "1.9.6");
	assert_string_equal(c.pools[0].vm_size, "Standard_DS1_v2");
	assert_string_equal(c.pools[0].os_type, "Linux");
	assert_string_equal(c.pools[0].os_sku, "");
	assert_string_equal(c.pools[0].provisioning_state, "Succeeded");
	assert_string_equal(c.pools[0].etag, "nvewbvoi");
	assert_int_equal(c.pools[0].count, 3);
	assert_int_equal(c.pools[0].enable_fips, 0);
	arm_cluster_free(&c);
	assert_null(c.pools);
	free(body);
	json_decref(ex);

	/* a cluster created from a snapshot: mode, FIPS, creationData */
	ex = load_example("ManagedClustersCreate_Snapshot.json");
	body = body_text(ex, "200");
	assert_int_equal(arm_cluster_parse(body, &c, err, sizeof(err)), 0);
	assert_int_equal(c.npools, 1);
	assert_string_equal(c.pools[0].mode, "System");
	assert_int_equal(c.pools[0].enable_fips, 1);
	assert_string_equal(c.pools[0].vm_size, "Standard_DS2_v2");
	assert_string_equal(c.pools[0].creation_source_id, SNAP1_ID);
	arm_cluster_free(&c);
	free(body);
	json_decref(ex);
	arm_cluster_free(NULL);
}

static void
test_arm_agent_pool_get_and_list_examples_parse(void **state)
{
	struct arm_agent_pool p, *arr = NULL;
	char err[256] = "", *next = NULL;
	json_t *ex;
	char *body;
	size_t n = 0;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("AgentPoolsGet.json");
	body = body_text(ex, "200");
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_string_equal(p.name, "agentpool1");
	assert_string_equal(p.id, CLUSTER1_ID "/agentPools/agentpool1");
	assert_string_equal(p.node_image_version, "AKSUbuntu:1604:2020.03.11");
	assert_string_equal(p.orchestrator_version, "1.9.6");
	assert_string_equal(p.current_orchestrator_version, "1.9.6");
	assert_string_equal(p.vm_size, "Standard_DS1_v2");
	assert_string_equal(p.os_type, "Linux");
	assert_string_equal(p.provisioning_state, "Succeeded");
	assert_string_equal(p.etag, "ebwiyfneowv");
	assert_string_equal(p.creation_source_id, "");
	assert_int_equal(p.count, 3);
	free(body);
	json_decref(ex);

	ex = load_example("AgentPoolsList.json");
	body = body_text(ex, "200");
	assert_int_equal(
	    arm_agent_pool_list_parse(body, &arr, &n, &next, err, sizeof(err)),
	    0);
	assert_int_equal(n, 1);
	assert_null(next);
	assert_string_equal(arr[0].name, "agentpool1");
	assert_string_equal(arr[0].etag, "ewnfuib");
	assert_string_equal(arr[0].current_orchestrator_version, "1.9.6");
	assert_string_equal(arr[0].vm_size, "Standard_DS1_v2");
	free(arr);
	free(body);
	json_decref(ex);
}

static void
test_arm_agent_pool_create_examples_parse(void **state)
{
	struct arm_agent_pool p;
	char err[256] = "";
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("AgentPoolsCreate_Snapshot.json");
	body = body_text(ex, "201");
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_string_equal(p.provisioning_state, "Creating");
	assert_string_equal(p.creation_source_id, SNAP1_ID);
	assert_string_equal(p.orchestrator_version, "1.19.6");
	assert_string_equal(p.vm_size, "Standard_DS2_v2");
	assert_int_equal(p.enable_fips, 1);
	assert_int_equal(p.count, 3);
	free(body);
	body = body_text(ex, "200");
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_string_equal(p.provisioning_state, "Succeeded");
	assert_string_equal(p.current_orchestrator_version, "1.19.6");
	free(body);
	json_decref(ex);

	ex = load_example("AgentPoolsCreate_Update.json");
	body = body_text(ex, "200");
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_string_equal(p.mode, "User");
	assert_string_equal(p.vm_size, "Standard_DS1_v2");
	assert_string_equal(p.node_image_version, "AKSUbuntu:1604:2020.03.11");
	free(body);
	json_decref(ex);
}

static void
test_arm_upgrade_node_image_example_202_body_and_header(void **state)
{
	struct arm_agent_pool p;
	struct arm *prod, *local;
	char err[512] = "";
	const char *async;
	json_t *ex, *r202;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("AgentPoolsUpgradeNodeImageVersion.json");
	r202 = json_object_get(json_object_get(ex, "responses"), "202");
	body = body_text(ex, "202");
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_string_equal(p.provisioning_state, "UpgradingNodeImageVersion");
	assert_string_equal(p.node_image_version, "AKSUbuntu-1604-2020.03.11");
	free(body);

	/* the example's only header: the operation to poll, on ARM's host */
	async = json_string_value(json_object_get(
	    json_object_get(r202, "headers"), "Azure-AsyncOperation"));
	assert_non_null(async);
	prod = arm_new(NULL, "https://management.azure.com/", "2026-08-01");
	local = arm_new(NULL, "http://127.0.0.1:8080", "2026-08-01");
	assert_int_equal(arm_url_same_origin(prod, async, err, sizeof(err)), 0);
	assert_int_equal(
	    arm_url_same_origin(local, async, err, sizeof(err)), -1);
	arm_free(prod);
	arm_free(local);
	/* 200 carries no body: nothing to parse */
	assert_null(json_object_get(
	    json_object_get(json_object_get(ex, "responses"), "200"), "body"));
	json_decref(ex);
}

static void
test_arm_operation_status_example_is_in_progress(void **state)
{
	struct arm_error op;
	char status[64], err[256] = "";
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("2026-07-02-preview/OperationStatusResultGet.json");
	body = body_text(ex, "200");
	memset(&op, 0, sizeof(op));
	assert_int_equal(arm_operation_status_parse(body, status,
	                     sizeof(status), &op, err, sizeof(err)),
	    0);
	assert_string_equal(status, "InProgress");
	assert_string_equal(op.code, "");
	free(body);
	json_decref(ex);

	assert_int_equal(
	    arm_operation_status_parse("{\"status\":\"Failed\",\"error\":{"
	                               "\"code\":\"VMExtensionError\","
	                               "\"message\":\"boom\"}}",
	        status, sizeof(status), &op, err, sizeof(err)),
	    0);
	assert_string_equal(status, "Failed");
	assert_string_equal(op.code, "VMExtensionError");
	assert_string_equal(op.message, "boom");
	assert_int_equal(arm_operation_status_parse("{\"percentComplete\":1}",
	                     status, sizeof(status), NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(arm_operation_status_parse("<html>", status,
	                     sizeof(status), NULL, err, sizeof(err)),
	    -1);
}

/*
 * Every response body of every example file parses with the parser of its
 * operationId; an operation we do not know fails the test, so a new
 * example is never silently ignored.
 */
static int
parse_by_operation(const char *op, const char *body, char *err, size_t len)
{
	union {
		struct arm_snapshot s;
		struct arm_agent_pool p;
		struct arm_cluster c;
	} u;
	void *arr = NULL;
	char *next = NULL, status[64];
	size_t n;
	int rc;

	if (strncmp(op, "Snapshots_List", 14) == 0) {
		struct arm_snapshot *a = NULL;

		rc = arm_snapshot_list_parse(body, &a, &n, &next, err, len);
		arr = a;
	} else if (strncmp(op, "Snapshots_", 10) == 0) {
		rc = arm_snapshot_parse(body, &u.s, err, len);
	} else if (strcmp(op, "AgentPools_List") == 0) {
		struct arm_agent_pool *a = NULL;

		rc = arm_agent_pool_list_parse(body, &a, &n, &next, err, len);
		arr = a;
	} else if (strncmp(op, "AgentPools_", 11) == 0) {
		rc = arm_agent_pool_parse(body, &u.p, err, len);
	} else if (strcmp(op, "ManagedClusters_List") == 0) {
		json_t *root = json_loads(body, 0, NULL), *v;
		size_t i;

		rc = root != NULL ? 0 : -1;
		json_array_foreach(json_object_get(root, "value"), i, v)
		{
			char *one = json_dumps(v, JSON_COMPACT);

			rc |= arm_cluster_parse(one, &u.c, err, len);
			if (rc == 0) {
				assert_string_equal(u.c.location, "location1");
				assert_int_equal(u.c.npools, 1);
				assert_string_equal(
				    u.c.pools[0].etag, "byuefvwi");
			}
			arm_cluster_free(&u.c);
			free(one);
		}
		json_decref(root);
	} else if (strncmp(op, "ManagedClusters_", 16) == 0) {
		rc = arm_cluster_parse(body, &u.c, err, len);
		if (rc == 0)
			arm_cluster_free(&u.c);
	} else if (strcmp(op, "OperationStatusResult_Get") == 0) {
		rc = arm_operation_status_parse(
		    body, status, sizeof(status), NULL, err, len);
	} else {
		snprintf(err, len, "no parser for operation %s", op);
		rc = -1;
	}
	free(arr);
	free(next);
	return rc;
}

static int
parse_dir(const char *dir)
{
	struct dirent *d;
	DIR *dp;
	int parsed = 0;

	dp = opendir(dir);
	assert_non_null(dp);
	while ((d = readdir(dp)) != NULL) {
		char path[2048];
		struct stat st;
		const char *key, *op;
		json_t *ex, *resp;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			parsed += parse_dir(path);
			continue;
		}
		if (strlen(d->d_name) < 5 ||
		    strcmp(d->d_name + strlen(d->d_name) - 5, ".json") != 0)
			continue;
		ex = json_load_file(path, 0, NULL);
		assert_non_null(ex);
		op = json_string_value(json_object_get(ex, "operationId"));
		assert_non_null(op);
		json_object_foreach(json_object_get(ex, "responses"), key, resp)
		{
			json_t *b = json_object_get(resp, "body");
			char err[512] = "";
			char *text;

			if (b == NULL)
				continue;
			text = json_dumps(b, JSON_COMPACT);
			if (parse_by_operation(op, text, err, sizeof(err)) != 0)
				fail_msg("%s %s: %s", d->d_name, key, err);
			free(text);
			parsed++;
		}
		json_decref(ex);
	}
	closedir(dp);
	return parsed;
}

static void
test_arm_every_example_response_body_parses(void **state)
{
	(void)state;
	NEED_EXAMPLES();
	/* 15 stable examples + 1 preview hold 18 bodies at the time of writing
	 */
	assert_true(parse_dir(examples) >= 18);
}

/* ---- request bodies against the examples' parameters ---- */

static void
test_arm_snapshot_put_body_matches_create_example(void **state)
{
	struct arm_tag tags[2];
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	memset(tags, 0, sizeof(tags));
	strcpy(tags[0].key, "key1");
	strcpy(tags[0].value, "val1");
	strcpy(tags[1].key, "key2");
	strcpy(tags[1].value, "val2");
	ex = load_example("SnapshotsCreate.json");
	body = arm_snapshot_put_body("westus", POOL0_ID, tags, 2);
	assert_non_null(body);
	/* The example leaves out snapshotType (its default, and the only
	 * value, NodePool); DESIGN.md section 7 sends it. */
	json_object_set_new(json_object_get(request_params(ex), "properties"),
	    "snapshotType", json_string("NodePool"));
	assert_json_text_equal(body, request_params(ex));
	free(body);
	json_decref(ex);

	/* no tags: an empty object, never a missing or null field */
	body = arm_snapshot_put_body("westus", POOL0_ID, NULL, 0);
	assert_non_null(strstr(body, "\"tags\":{}"));
	free(body);
}

/* ---- verification: what was asked against what was answered ---- */

static void
test_arm_snapshot_confirms_only_the_snapshot_asked_for(void **state)
{
	json_t *ex;
	struct arm_snapshot s, t;
	char err[256], why[512], *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("SnapshotsCreate.json");
	body = body_text(ex, "201");
	assert_int_equal(arm_snapshot_parse(body, &s, err, sizeof(err)), 0);
	free(body);
	json_decref(ex);

	/* The official answer confirms it; ARM ids are case-insensitive. */
	assert_int_equal(
	    arm_snapshot_confirms(&s, SNAP1_ID, POOL0_ID, why, sizeof(why)), 1);
	assert_int_equal(arm_snapshot_confirms(&s,
	                     "/subscriptions/00000000-0000-0000-0000-"
	                     "000000000000/resourcegroups/RG1/providers/"
	                     "Microsoft.ContainerService/snapshots/SNAPSHOT1",
	                     POOL0_ID, why, sizeof(why)),
	    1);

	/* A 201 with {}: parses, confirms nothing. */
	assert_int_equal(arm_snapshot_parse("{}", &t, err, sizeof(err)), 0);
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	assert_string_equal(why, "it names no snapshot");

	/* Another snapshot's answer. */
	t = s;
	util_strlcpy(t.name, "snapshot2", sizeof(t.name));
	util_strlcpy(t.id, SNAP1_ID, sizeof(t.id));
	strcpy(strrchr(t.id, '/') + 1, "snapshot2");
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "snapshot2"));
	/* ... even when only its name says so */
	t = s;
	util_strlcpy(t.name, "snapshot2", sizeof(t.name));
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	/* ... a name alone that is right is enough */
	t = s;
	t.id[0] = '\0';
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 1);

	/* Another pool's snapshot, or none. */
	t = s;
	strcpy(strrchr(t.source_id, '/') + 1, "pool1");
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "pool1"));
	t.source_id[0] = '\0';
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);

	/* Without the versions it is no proof. */
	t = s;
	t.node_image_version[0] = '\0';
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "nodeImageVersion"));
	t = s;
	t.kubernetes_version[0] = '\0';
	assert_int_equal(
	    arm_snapshot_confirms(&t, SNAP1_ID, POOL0_ID, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "kubernetesVersion"));
}

static void
test_arm_snapshot_has_tag_as_asked(void **state)
{
	struct arm_snapshot s;
	char err[256];

	(void)state;
	assert_int_equal(arm_snapshot_parse("{\"tags\":{\"Aksnap-Channel\":"
	                                    "\"stable\",\"x\":\"y\"}}",
	                     &s, err, sizeof(err)),
	    0);
	assert_int_equal(
	    arm_snapshot_has_tag(&s, "aksnap-channel", "stable"), 1);
	assert_int_equal(
	    arm_snapshot_has_tag(&s, "aksnap-channel", "canary"), 0);
	assert_int_equal(arm_snapshot_has_tag(&s, "aksnap-channel", NULL), 0);
	assert_int_equal(arm_snapshot_has_tag(&s, "aksnap-pool", NULL), 1);
	assert_int_equal(arm_snapshot_has_tag(&s, "aksnap-pool", "p"), 0);
}

static void
test_arm_tags_body_matches_update_tags_example(void **state)
{
	struct arm_tag tags[2];
	json_t *ex;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	memset(tags, 0, sizeof(tags));
	strcpy(tags[0].key, "key2");
	strcpy(tags[0].value, "new-val2");
	strcpy(tags[1].key, "key3");
	strcpy(tags[1].value, "val3");
	ex = load_example("SnapshotsUpdateTags.json");
	body = arm_tags_body(tags, 2);
	assert_non_null(body);
	assert_json_text_equal(body, request_params(ex));
	free(body);
	json_decref(ex);
}

static void
test_arm_agent_pool_create_body_matches_snapshot_example(void **state)
{
	struct arm_snapshot s;
	json_t *ex, *want;
	char *body;

	(void)state;
	NEED_EXAMPLES();
	memset(&s, 0, sizeof(s));
	strcpy(s.id, SNAP1_ID);
	strcpy(s.kubernetes_version, "1.19.6");
	strcpy(s.os_type, "Linux");
	strcpy(s.vm_size, "Standard_DS2_v2");
	s.enable_fips = 1;
	ex = load_example("AgentPoolsCreate_Snapshot.json");
	body = arm_agent_pool_create_body(&s, "", 3);
	assert_non_null(body);
	assert_json_text_equal(body, request_params(ex));
	free(body);

	/* osSku (snapshot) becomes osSKU (pool); NULL version = snapshot's */
	strcpy(s.os_sku, "Ubuntu");
	want = json_deep_copy(request_params(ex));
	json_object_set_new(json_object_get(want, "properties"), "osSKU",
	    json_string("Ubuntu"));
	json_object_set_new(json_object_get(want, "properties"),
	    "orchestratorVersion", json_string("1.19.6"));
	json_object_set_new(
	    json_object_get(want, "properties"), "count", json_integer(5));
	body = arm_agent_pool_create_body(&s, NULL, 5);
	assert_json_text_equal(body, want);
	free(body);
	json_decref(want);
	json_decref(ex);
}

static void
test_arm_agent_pool_upgrade_body_keeps_writable_drops_read_only(void **state)
{
	char err[256] = "";
	json_t *ex, *got, *props;
	char *pool, *body;

	(void)state;
	NEED_EXAMPLES();
	ex = load_example("AgentPoolsGet.json");
	pool = body_text(ex, "200");
	body = arm_agent_pool_upgrade_body(
	    pool, SNAP1_ID, "1.20.5", err, sizeof(err));
	assert_non_null(body);
	got = json_loads(body, 0, NULL);
	assert_non_null(got);
	/* only properties: id and name are read-only */
	assert_int_equal(json_object_size(got), 1);
	props = json_object_get(got, "properties");
	assert_string_equal(
	    json_string_value(json_object_get(props, "orchestratorVersion")),
	    "1.20.5");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(props, "creationData"), "sourceResourceId")),
	    SNAP1_ID);
	assert_int_equal(
	    json_integer_value(json_object_get(props, "count")), 3);
	assert_int_equal(
	    json_integer_value(json_object_get(props, "maxPods")), 110);
	assert_string_equal(json_string_value(json_object_get(props, "vmSize")),
	    "Standard_DS1_v2");
	assert_string_equal(
	    json_string_value(json_object_get(props, "osType")), "Linux");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(props, "upgradeSettings"), "maxSurge")),
	    "33%");
	assert_null(json_object_get(props, "provisioningState"));
	assert_null(json_object_get(props, "currentOrchestratorVersion"));
	assert_null(json_object_get(props, "nodeImageVersion"));
	assert_null(json_object_get(props, "eTag"));
	json_decref(got);
	free(body);
	free(pool);
	json_decref(ex);

	assert_null(arm_agent_pool_upgrade_body(
	    "{\"name\":\"x\"}", SNAP1_ID, "1.20.5", err, sizeof(err)));
	assert_non_null(strstr(err, "properties"));
	assert_null(arm_agent_pool_upgrade_body(
	    "<html>", SNAP1_ID, "1.20.5", err, sizeof(err)));
	assert_null(arm_agent_pool_upgrade_body(
	    NULL, SNAP1_ID, "1.20.5", err, sizeof(err)));
}

/* ---- error bodies ---- */

static void
fake_response(struct http_response *r, long status, const char *body)
{
	http_response_init(r);
	r->status = status;
	r->body.max = 1 << 20;
	if (body != NULL)
		assert_int_equal(buf_append(&r->body, body, strlen(body)), 0);
	strcpy(r->request_id, "req-1");
	strcpy(r->correlation_id, "corr-1");
}

static void
test_arm_error_parses_arm_error_body_with_request_ids(void **state)
{
	struct http_response r;
	struct arm_error e;

	(void)state;
	fake_response(&r, 404,
	    "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"The "
	    "Resource 'x' was not found.\",\"target\":\"snapshot1\"}}");
	arm_error_from_response(&r, &e);
	assert_int_equal(e.status, 404);
	assert_string_equal(e.code, "ResourceNotFound");
	assert_string_equal(e.message, "The Resource 'x' was not found.");
	assert_string_equal(e.target, "snapshot1");
	assert_string_equal(e.request_id, "req-1");
	assert_string_equal(e.correlation_id, "corr-1");
	http_response_free(&r);

	/* the first detail carries AKS's actual cause */
	fake_response(&r, 400,
	    "{\"error\":{\"code\":\"InvalidParameter\",\"message\":\"bad\","
	    "\"details\":[{\"code\":\"VMFamilyMismatch\",\"message\":\"D vs "
	    "E\"}]}}");
	arm_error_from_response(&r, &e);
	assert_string_equal(e.code, "InvalidParameter");
	assert_non_null(strstr(e.message, "bad"));
	assert_non_null(strstr(e.message, "VMFamilyMismatch: D vs E"));
	http_response_free(&r);
}

static void
test_arm_error_parses_top_level_and_aad_shapes(void **state)
{
	struct http_response r;
	struct arm_error e;

	(void)state;
	fake_response(&r, 409,
	    "{\"code\":\"OperationNotAllowed\",\"message\":\"Another operation "
	    "(Updating) is in progress\"}");
	arm_error_from_response(&r, &e);
	assert_int_equal(e.status, 409);
	assert_string_equal(e.code, "OperationNotAllowed");
	assert_string_equal(
	    e.message, "Another operation (Updating) is in progress");
	http_response_free(&r);

	fake_response(&r, 401,
	    "{\"error\":\"invalid_client\",\"error_description\":"
	    "\"AADSTS7000215:"
	    " Invalid client secret provided.\",\"error_codes\":[7000215]}");
	arm_error_from_response(&r, &e);
	assert_string_equal(e.code, "invalid_client");
	assert_string_equal(
	    e.message, "AADSTS7000215: Invalid client secret provided.");
	http_response_free(&r);
}

static void
test_arm_error_from_non_json_bodies_names_the_first_bytes(void **state)
{
	struct http_response r;
	struct arm_error e;
	char big[600];

	(void)state;
	fake_response(&r, 502,
	    "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>"
	    "</body></html>");
	arm_error_from_response(&r, &e);
	assert_int_equal(e.status, 502);
	assert_string_equal(e.code, "");
	assert_non_null(strstr(e.message, "non-JSON response"));
	assert_non_null(strstr(e.message, "502 Bad Gateway"));
	assert_null(strchr(e.message, '\n'));
	assert_null(strchr(e.message, '\r'));
	assert_string_equal(e.request_id, "req-1");
	http_response_free(&r);

	/* only the first bytes */
	memset(big, 'x', sizeof(big) - 1);
	big[0] = '<';
	big[sizeof(big) - 1] = '\0';
	fake_response(&r, 503, big);
	arm_error_from_response(&r, &e);
	assert_true(strlen(e.message) < 200);
	http_response_free(&r);

	fake_response(&r, 500, NULL);
	arm_error_from_response(&r, &e);
	assert_int_equal(e.status, 500);
	assert_string_equal(e.message, "empty response body");
	http_response_free(&r);

	fake_response(&r, 500, " \n ");
	arm_error_from_response(&r, &e);
	assert_string_equal(e.message, "empty response body");
	http_response_free(&r);

	fake_response(&r, 500, "{\"error\":{\"code\":\"Internal");
	arm_error_from_response(&r, &e);
	assert_non_null(strstr(e.message, "non-JSON response"));
	assert_non_null(strstr(e.message, "{\"error\":{\"code\":\"Internal"));
	http_response_free(&r);

	fake_response(&r, 500, "[1,2]");
	arm_error_from_response(&r, &e);
	assert_non_null(strstr(e.message, "[1,2]"));
	http_response_free(&r);

	fake_response(&r, 500, "{\"unexpected\":true}");
	arm_error_from_response(&r, &e);
	assert_non_null(strstr(e.message, "unrecognised error body"));
	http_response_free(&r);
}

static void
test_arm_error_without_response_reports_transport_error(void **state)
{
	struct http_response r;
	struct arm_error e;

	(void)state;
	http_response_init(&r);
	strcpy(r.error, "Connection refused");
	arm_error_from_response(&r, &e);
	assert_int_equal(e.status, 0);
	assert_string_equal(e.message, "Connection refused");
	http_response_free(&r);
}

static char logged[2048];

static void
capture(void *ctx, const char *line)
{
	(void)ctx;
	util_strlcpy(logged, line, sizeof(logged));
}

static void
test_arm_log_failure_is_one_line_with_ids(void **state)
{
	struct arm_error e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.status = 409;
	strcpy(e.code, "OperationNotAllowed");
	strcpy(e.message, "busy");
	strcpy(e.request_id, "rid");
	strcpy(e.correlation_id, "cid");
	logged[0] = '\0';
	log_set_sink(capture, NULL);
	arm_log_failure("prod/pool1", "PUT", "https://h/x?api-version=1", &e);
	log_set_sink(NULL, NULL);
	assert_non_null(strstr(logged, "prod/pool1"));
	assert_non_null(strstr(logged,
	    "PUT https://h/x?api-version=1: 409 OperationNotAllowed: busy"));
	assert_non_null(strstr(logged, "x-ms-request-id rid"));
	assert_non_null(strstr(logged, "x-ms-correlation-request-id cid"));
	assert_null(strchr(logged, '\n'));
}

/* ---- URLs ---- */

static void
test_arm_url_strips_trailing_slash_and_adds_api_version(void **state)
{
	struct arm *a, *b;
	char id[512], u1[1024], u2[1024];

	(void)state;
	a = arm_new(NULL, "https://management.azure.com", "2026-08-01");
	b = arm_new(NULL, "https://management.azure.com/", "2026-08-01");
	assert_non_null(a);
	assert_non_null(b);
	arm_snapshot_id(SUB, "rg1", "snapshot1", id, sizeof(id));
	assert_string_equal(id, SNAP1_ID);
	arm_url(a, id, "", u1, sizeof(u1));
	arm_url(b, id, NULL, u2, sizeof(u2));
	assert_string_equal(u1,
	    "https://management.azure.com" SNAP1_ID "?api-version=2026-08-01");
	assert_string_equal(u1, u2);
	arm_agent_pool_id(SUB, "rg1", "cluster1", "pool0", id, sizeof(id));
	assert_string_equal(id, POOL0_ID);
	arm_url(a, id, "/upgradeNodeImageVersion", u1, sizeof(u1));
	assert_string_equal(u1,
	    "https://management.azure.com" POOL0_ID
	    "/upgradeNodeImageVersion?api-version=2026-08-01");
	arm_cluster_url(b, SUB, "rg1", "clustername1", u1, sizeof(u1));
	assert_string_equal(u1,
	    "https://management.azure.com" CLUSTER1_ID
	    "?api-version=2026-08-01");
	arm_free(a);
	arm_free(b);
	arm_free(NULL);
}

static void
test_arm_next_link_on_another_host_is_refused(void **state)
{
	struct arm *a;
	char err[512];

	(void)state;
	a = arm_new(NULL, "https://management.azure.com/", "2026-08-01");
	assert_int_equal(arm_url_same_origin(a,
	                     "https://management.azure.com/subscriptions/x?"
	                     "api-version=1&$skipToken=y",
	                     err, sizeof(err)),
	    0);
	assert_int_equal(
	    arm_url_same_origin(
	        a, "https://MANAGEMENT.azure.com/x", err, sizeof(err)),
	    0);
	assert_int_equal(
	    arm_url_same_origin(a, "https://evil.example/x", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "evil.example"));
	assert_int_equal(arm_url_same_origin(a,
	                     "https://management.azure.com.evil.example/x", err,
	                     sizeof(err)),
	    -1);
	assert_int_equal(arm_url_same_origin(a,
	                     "https://management.azure.com@evil.example/x", err,
	                     sizeof(err)),
	    -1);
	assert_int_equal(
	    arm_url_same_origin(
	        a, "https://management.azure.com:8443/x", err, sizeof(err)),
	    -1);
	assert_int_equal(arm_url_same_origin(a, "http://management.azure.com/x",
	                     err, sizeof(err)),
	    -1);
	assert_int_equal(
	    arm_url_same_origin(a, "/relative/path", err, sizeof(err)), -1);
	assert_int_equal(arm_url_same_origin(a, "", err, sizeof(err)), -1);
	arm_free(a);
}

/* ---- defensive parsing ---- */

static void
test_arm_id_that_does_not_fit_is_an_error_descriptive_field_is_cut(void **state)
{
	struct arm_snapshot s;
	struct arm_agent_pool p;
	char body[4096], longid[700], err[256];

	(void)state;
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"id\":\"/%s\",\"name\":\"s\"}", longid);
	assert_int_equal(arm_snapshot_parse(body, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"id\" is too long"));
	assert_string_equal(s.id, "");

	snprintf(body, sizeof(body),
	    "{\"name\":\"p\",\"properties\":{\"provisioningState\":\"%s\"}}",
	    longid);
	assert_int_equal(arm_agent_pool_parse(body, &p, err, sizeof(err)), 0);
	assert_int_equal(
	    strlen(p.provisioning_state), sizeof(p.provisioning_state) - 1);

	assert_int_equal(arm_agent_pool_parse("{\"name\":\"p\",\"properties\":"
	                                      "{\"orchestratorVersion\":1}}",
	                     &p, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "orchestratorVersion"));
}

static void
test_arm_tags_that_do_not_fit_mark_the_snapshot_incomplete(void **state)
{
	struct arm_snapshot s;
	char body[8192], err[256], longval[400];
	size_t i, o;

	(void)state;
	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	o = (size_t)snprintf(body, sizeof(body),
	    "{\"name\":\"s\",\"tags\":{\"aksnap-managed\":\"true\","
	    "\"long\":\"%s\"}}",
	    longval);
	assert_true(o < sizeof(body));
	assert_int_equal(arm_snapshot_parse(body, &s, err, sizeof(err)), 0);
	assert_int_equal(s.ntags, 1);
	assert_string_equal(arm_tag_get(&s, "aksnap-managed"), "true");
	assert_null(arm_tag_get(&s, "long"));
	assert_int_equal(s.tags_incomplete, 1);

	o = (size_t)snprintf(body, sizeof(body), "{\"name\":\"s\",\"tags\":{");
	for (i = 0; i < ARM_MAX_TAGS + 3; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o,
		    "%s\"k%zu\":\"v\"", i > 0 ? "," : "", i);
	snprintf(body + o, sizeof(body) - o, "}}");
	assert_int_equal(arm_snapshot_parse(body, &s, err, sizeof(err)), 0);
	assert_int_equal(s.ntags, ARM_MAX_TAGS);
	assert_int_equal(s.tags_incomplete, 1);
}

static void
test_arm_parsers_survive_garbage(void **state)
{
	const char *bad[] = {"", "null", "[]", "\"x\"", "{", "<html>",
	    "{\"value\":{}}", "{\"properties\":5}",
	    "{\"properties\":{\"agentPoolProfiles\":{}}}",
	    "{\"properties\":{\"agentPoolProfiles\":[5]}}",
	    "{\"tags\":[],\"systemData\":{\"createdAt\":\"yesterday\"}}"};
	struct arm_snapshot s, *sarr;
	struct arm_agent_pool p, *parr;
	struct arm_cluster c;
	char err[256], *next, status[32];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (arm_snapshot_parse(bad[i], &s, err, sizeof(err)) != 0)
			assert_true(err[0] != '\0');
		if (arm_agent_pool_parse(bad[i], &p, err, sizeof(err)) != 0)
			assert_true(err[0] != '\0');
		if (arm_cluster_parse(bad[i], &c, err, sizeof(err)) == 0)
			arm_cluster_free(&c);
		else
			assert_null(c.pools);
		if (arm_snapshot_list_parse(
		        bad[i], &sarr, &n, &next, err, sizeof(err)) == 0) {
			free(sarr);
			free(next);
		}
		if (arm_agent_pool_list_parse(
		        bad[i], &parr, &n, &next, err, sizeof(err)) == 0) {
			free(parr);
			free(next);
		}
		(void)arm_operation_status_parse(
		    bad[i], status, sizeof(status), NULL, err, sizeof(err));
	}
	assert_int_equal(
	    arm_snapshot_parse("<html>", &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(arm_cluster_parse("{\"properties\":{"
	                                   "\"agentPoolProfiles\":[5]}}",
	                     &c, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "agentPoolProfiles[0]"));
	assert_int_equal(arm_snapshot_parse("{\"systemData\":{\"createdAt\":"
	                                    "\"yesterday\"}}",
	                     &s, err, sizeof(err)),
	    0);
	assert_int_equal((long long)s.created_at, 0);
}

static void
test_arm_list_page_with_too_many_items_is_refused(void **state)
{
	struct arm_snapshot *snaps = NULL;
	char *body, *next = NULL, err[256];
	size_t n = 99, len = 0, items = 3000;

	(void)state;
	body = malloc(items * 3 + 32);
	assert_non_null(body);
	len += (size_t)sprintf(body, "{\"value\":[");
	for (size_t i = 0; i < items; i++)
		len += (size_t)sprintf(body + len, "%s{}", i ? "," : "");
	sprintf(body + len, "]}");
	/* A few KiB of "{}" must not become 3,000 structs of 13 KiB. */
	assert_int_equal(
	    arm_snapshot_list_parse(body, &snaps, &n, &next, err, sizeof(err)),
	    -1);
	assert_null(snaps);
	assert_non_null(strstr(err, "3000 items"));
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_arm_snapshot_create_and_get_examples_parse_by_value),
	    cmocka_unit_test(
	        test_arm_snapshot_update_tags_example_parses_new_tags),
	    cmocka_unit_test(
	        test_arm_snapshot_list_examples_parse_value_and_next_link),
	    cmocka_unit_test(test_arm_snapshot_list_without_value_is_an_error),
	    cmocka_unit_test(
	        test_arm_cluster_get_example_fills_every_agent_pool),
	    cmocka_unit_test(test_arm_agent_pool_get_and_list_examples_parse),
	    cmocka_unit_test(test_arm_agent_pool_create_examples_parse),
	    cmocka_unit_test(
	        test_arm_upgrade_node_image_example_202_body_and_header),
	    cmocka_unit_test(test_arm_operation_status_example_is_in_progress),
	    cmocka_unit_test(test_arm_every_example_response_body_parses),
	    cmocka_unit_test(test_arm_snapshot_put_body_matches_create_example),
	    cmocka_unit_test(
	        test_arm_snapshot_confirms_only_the_snapshot_asked_for),
	    cmocka_unit_test(test_arm_snapshot_has_tag_as_asked),
	    cmocka_unit_test(test_arm_tags_body_matches_update_tags_example),
	    cmocka_unit_test(
	        test_arm_agent_pool_create_body_matches_snapshot_example),
	    cmocka_unit_test(
	        test_arm_agent_pool_upgrade_body_keeps_writable_drops_read_only),
	    cmocka_unit_test(
	        test_arm_error_parses_arm_error_body_with_request_ids),
	    cmocka_unit_test(test_arm_error_parses_top_level_and_aad_shapes),
	    cmocka_unit_test(
	        test_arm_error_from_non_json_bodies_names_the_first_bytes),
	    cmocka_unit_test(
	        test_arm_error_without_response_reports_transport_error),
	    cmocka_unit_test(test_arm_log_failure_is_one_line_with_ids),
	    cmocka_unit_test(
	        test_arm_url_strips_trailing_slash_and_adds_api_version),
	    cmocka_unit_test(test_arm_next_link_on_another_host_is_refused),
	    cmocka_unit_test(
	        test_arm_id_that_does_not_fit_is_an_error_descriptive_field_is_cut),
	    cmocka_unit_test(
	        test_arm_tags_that_do_not_fit_mark_the_snapshot_incomplete),
	    cmocka_unit_test(test_arm_parsers_survive_garbage),
	    cmocka_unit_test(test_arm_list_page_with_too_many_items_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
