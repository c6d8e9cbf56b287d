/*
 * fuzz_arm.c -- ARM response bodies, as a hostile or broken endpoint sends
 * them.
 *
 * Every input goes through every pure parser of job/arm.c (cluster, agent
 * pool, snapshot, the two list pages, operation status), through
 * arm_error_from_response as the body of a 400 (length-bounded, not read
 * as a C string), through arm_agent_pool_upgrade_body (which sends a
 * fetched pool back), and through arm_url_same_origin as a nextLink or
 * polling URL.  Checks beyond "no memory error, no leak":
 *
 *   - a failed parse says why;
 *   - a URL accepted as same-origin really starts with the endpoint's
 *     scheme://host and ends the authority there (the token goes to it);
 *   - a parsed snapshot's tags survive arm_tags_body as JSON, exactly.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/azure/arm.h"
#include "job/azure/http.h"
#include "tests/fuzz/fuzz.h"

#define ENDPOINT "https://management.azure.com"
#define SNAPSHOT_ID                                                            \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"  \
	"rg1/providers/Microsoft.ContainerService/snapshots/snapshot1"

static struct arm *arm;

static void
need_reason(const char *what, const char *err)
{
	if (err[0] == '\0')
		fuzz_fail("fuzz_arm", what);
}

/* check_origin(url): arm_url_same_origin accepts only our origin. */
static void
check_origin(const char *url)
{
	char err[512];
	size_t el = strlen(ENDPOINT);

	err[0] = '\0';
	if (arm_url_same_origin(arm, url, err, sizeof(err)) != 0) {
		need_reason("same-origin refusal without a reason", err);
		return;
	}
	if (strncasecmp(url, ENDPOINT, el) != 0 ||
	    (url[el] != '\0' && strchr("/?#", url[el]) == NULL))
		fuzz_fail("fuzz_arm", "a foreign URL passed as same-origin");
}

/* check_tags(s): the tags body holds exactly s's tags. */
static void
check_tags(const struct arm_snapshot *s)
{
	char *body;
	json_t *root, *tags, *v;

	body = arm_tags_body(s->tags, s->ntags);
	if (body == NULL)
		return; /* ENOMEM or invalid UTF-8: allowed to refuse */
	root = json_loads(body, 0, NULL);
	tags = json_object_get(root, "tags");
	if (!json_is_object(tags) || json_object_size(tags) != s->ntags)
		fuzz_fail("fuzz_arm", "arm_tags_body lost or added a tag");
	for (size_t i = 0; i < s->ntags; i++) {
		v = json_object_get(tags, s->tags[i].key);
		if (!json_is_string(v) ||
		    strcmp(json_string_value(v), s->tags[i].value) != 0)
			fuzz_fail("fuzz_arm", "arm_tags_body changed a tag");
	}
	json_decref(root);
	free(body);
}

static void
run_snapshot(const char *body)
{
	struct arm_snapshot snap;
	char err[512], *b;

	err[0] = '\0';
	if (arm_snapshot_parse(body, &snap, err, sizeof(err)) != 0) {
		need_reason("snapshot parse failed without a reason", err);
		return;
	}
	check_tags(&snap);
	for (size_t i = 0; i < snap.ntags; i++)
		(void)arm_tag_get(&snap, snap.tags[i].key);
	b = arm_agent_pool_create_body(&snap, NULL, 3);
	free(b);
	b = arm_snapshot_put_body(
	    snap.location, snap.source_id, snap.tags, snap.ntags);
	free(b);
}

static void
run_lists(const char *body)
{
	struct arm_snapshot *snaps = NULL;
	struct arm_agent_pool *pools = NULL;
	char *next = NULL, err[512];
	size_t n = 0;

	err[0] = '\0';
	if (arm_snapshot_list_parse(
	        body, &snaps, &n, &next, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			check_tags(&snaps[i]);
		if (next != NULL)
			check_origin(next);
	} else {
		need_reason("snapshot list failed without a reason", err);
	}
	free(snaps);
	free(next);
	next = NULL;

	err[0] = '\0';
	if (arm_agent_pool_list_parse(
	        body, &pools, &n, &next, err, sizeof(err)) != 0)
		need_reason("agent pool list failed without a reason", err);
	free(pools);
	free(next);
}

static void
run_error(const uint8_t *data, size_t size)
{
	struct http_response resp;
	struct arm_error e;

	http_response_init(&resp);
	resp.status = 400;
	util_strlcpy(resp.request_id, "fuzz-request", sizeof(resp.request_id));
	if (size > 0 && buf_append(&resp.body, data, size) != 0)
		fuzz_fail("fuzz_arm", "buf_append refused a small body");
	arm_error_from_response(&resp, &e);
	if (e.code[0] == '\0' && e.message[0] == '\0')
		fuzz_fail("fuzz_arm", "an error with neither code nor message");
	http_response_free(&resp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm_cluster cluster;
	struct arm_agent_pool pool;
	struct arm_error op_err;
	char *body, *b, err[512], status[64];

	fuzz_quiet();
	if (arm == NULL) {
		arm = arm_new(NULL, ENDPOINT "/", "2026-08-01");
		if (arm == NULL)
			fuzz_fail("fuzz_arm", "arm_new");
	}
	body = fuzz_strndup(data, size);

	err[0] = '\0';
	if (arm_cluster_parse(body, &cluster, err, sizeof(err)) != 0)
		need_reason("cluster parse failed without a reason", err);
	arm_cluster_free(&cluster);

	err[0] = '\0';
	if (arm_agent_pool_parse(body, &pool, err, sizeof(err)) != 0)
		need_reason("agent pool parse failed without a reason", err);

	run_snapshot(body);
	run_lists(body);

	memset(&op_err, 0, sizeof(op_err));
	err[0] = '\0';
	if (arm_operation_status_parse(
	        body, status, sizeof(status), &op_err, err, sizeof(err)) != 0)
		need_reason("operation status failed without a reason", err);

	err[0] = '\0';
	b = arm_agent_pool_upgrade_body(
	    body, SNAPSHOT_ID, "1.29.2", err, sizeof(err));
	if (b == NULL)
		need_reason("upgrade body failed without a reason", err);
	free(b);

	run_error(data, size);
	check_origin(body);

	free(body);
	return 0;
}
