/*
 * test_arm_cluster.c -- the managed cluster PUT that creates a cluster
 * from a snapshot (job/azure/arm_cluster.c), field by field against the
 * official example ManagedClustersCreate_Snapshot.json in
 * tests/fixtures/azure-api/examples (or $AZURE_API_DIR/examples).
 *
 * The source cluster is the example's own 200 answer (a cluster as ARM
 * returns it), so what the body takes over, and what it must leave out
 * (computed fields, the source's own outbound IPs), is checked on the
 * shapes ARM really uses.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "job/azure/arm.h"
#include "job/base/util.h"

#define SNAP_ID                                                                \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"  \
	"rg1/providers/Microsoft.ContainerService/snapshots/snapshot1"

static json_t *
load_example(const char *name)
{
	const char *base = getenv("AZURE_API_DIR");
	char path[2048];
	json_error_t jerr;
	json_t *root;

	snprintf(path, sizeof(path), "%s/examples/%s",
	    base != NULL && base[0] != '\0' ? base : "tests/fixtures/azure-api",
	    name);
	root = json_load_file(path, 0, &jerr);
	if (root == NULL)
		fail_msg("%s: %s (run from the repository root, or set "
		         "AZURE_API_DIR)",
		    path, jerr.text);
	return root;
}

static void
snapshot1(struct arm_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	util_strlcpy(s->id, SNAP_ID, sizeof(s->id));
	util_strlcpy(s->name, "snapshot1", sizeof(s->name));
	util_strlcpy(s->location, "location1", sizeof(s->location));
	util_strlcpy(
	    s->kubernetes_version, "1.9.6", sizeof(s->kubernetes_version));
	util_strlcpy(s->node_image_version, "AKSUbuntu-1604-2020.03.11",
	    sizeof(s->node_image_version));
	util_strlcpy(s->os_type, "Linux", sizeof(s->os_type));
	util_strlcpy(s->vm_size, "Standard_DS2_v2", sizeof(s->vm_size));
	s->enable_fips = 1;
}

static int
same_type(json_t *a, json_t *b)
{
	if (json_is_boolean(a))
		return json_is_boolean(b);
	return json_typeof(a) == json_typeof(b);
}

/*
 * Every member of ${got} is in ${want} with the same JSON type (arrays:
 * against the example's first item), except the paths in ${extra}.
 * Return how many differ.
 */
static int
shape_within(
    json_t *want, json_t *got, const char *where, const char *const *extra)
{
	const char *k;
	json_t *v;
	char sub[512];
	int bad = 0;

	for (size_t i = 0; extra[i] != NULL; i++)
		if (strcmp(extra[i], where) == 0)
			return 0;
	if (want == NULL || !same_type(want, got)) {
		print_message("%s: %s\n", where,
		    want == NULL ? "not in the example" : "type differs");
		return 1;
	}
	if (json_is_object(got)) {
		json_object_foreach(got, k, v)
		{
			snprintf(sub, sizeof(sub), "%s.%s", where, k);
			bad += shape_within(
			    json_object_get(want, k), v, sub, extra);
		}
	} else if (json_is_array(got)) {
		size_t i;

		json_array_foreach(got, i, v)
		{
			snprintf(sub, sizeof(sub), "%s[]", where);
			bad += shape_within(
			    json_array_get(want, 0), v, sub, extra);
		}
	}
	return bad;
}

static const char *
jstr(json_t *root, const char *path)
{
	char key[256], *save = NULL, *t;
	json_t *cur = root;

	snprintf(key, sizeof(key), "%s", path);
	for (t = strtok_r(key, ".", &save); t != NULL && cur != NULL;
	     t = strtok_r(NULL, ".", &save)) {
		if (strcmp(t, "0") == 0)
			cur = json_array_get(cur, 0);
		else
			cur = json_object_get(cur, t);
	}
	return json_string_value(cur);
}

static json_t *
jget(json_t *root, const char *path)
{
	char key[256], *save = NULL, *t;
	json_t *cur = root;

	snprintf(key, sizeof(key), "%s", path);
	for (t = strtok_r(key, ".", &save); t != NULL && cur != NULL;
	     t = strtok_r(NULL, ".", &save)) {
		if (strcmp(t, "0") == 0)
			cur = json_array_get(cur, 0);
		else
			cur = json_object_get(cur, t);
	}
	return cur;
}

/* Add to ${dst} the members of ${src} it lacks, at every depth. */
static void
merge_missing(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);

		if (d == NULL)
			json_object_set_new(dst, k, json_deep_copy(v));
		else if (json_is_object(d) && json_is_object(v))
			merge_missing(d, v);
	}
}

static void
test_cluster_body_has_the_official_example_shape(void **state)
{
	static const char *const extra[] = {
	    "body.properties.autoUpgradeProfile", NULL};
	json_t *ex, *want, *got;
	struct arm_snapshot s;
	char *source, *body, err[256];

	(void)state;
	ex = load_example("ManagedClustersCreate_Snapshot.json");
	/* The example's request; a writable field it leaves out (the
	 * network's CIDRs, say) is known by its answer's shape. */
	want = json_deep_copy(
	    json_object_get(json_object_get(ex, "parameters"), "parameters"));
	merge_missing(want,
	    json_object_get(
	        json_object_get(json_object_get(ex, "responses"), "201"),
	        "body"));
	source = json_dumps(
	    json_object_get(
	        json_object_get(json_object_get(ex, "responses"), "200"),
	        "body"),
	    JSON_COMPACT);
	snapshot1(&s);
	body = arm_cluster_create_body(
	    source, "nodepool1", &s, "Cluster_Name.1", NULL, err, sizeof(err));
	assert_non_null(body);
	got = json_loads(body, 0, NULL);
	assert_non_null(got);
	/* Every field sent is the example's, with its type; only the
	 * channels (which the example leaves to AKS) are added. */
	assert_int_equal(shape_within(want, got, "body", extra), 0);

	/* The snapshot pins the pool, the version and the place. */
	assert_string_equal(jstr(got, "location"), "location1");
	assert_string_equal(jstr(got, "properties.kubernetesVersion"), "1.9.6");
	assert_string_equal(jstr(got,
	                        "properties.agentPoolProfiles.0."
	                        "creationData.sourceResourceId"),
	    SNAP_ID);
	assert_true(json_is_true(
	    jget(got, "properties.agentPoolProfiles.0.enableFIPS")));
	assert_string_equal(
	    jstr(got, "properties.agentPoolProfiles.0.osType"), "Linux");
	assert_string_equal(
	    jstr(got, "properties.agentPoolProfiles.0.mode"), "System");
	assert_string_equal(jstr(got, "properties.agentPoolProfiles.0.type"),
	    "VirtualMachineScaleSets");
	/* The source cluster gives the pool's size and count ... */
	assert_string_equal(
	    jstr(got, "properties.agentPoolProfiles.0.name"), "nodepool1");
	assert_string_equal(jstr(got, "properties.agentPoolProfiles.0.vmSize"),
	    "Standard_DS2_v2");
	assert_int_equal(json_integer_value(
	                     jget(got, "properties.agentPoolProfiles.0.count")),
	    3);
	assert_int_equal(
	    json_array_size(jget(got, "properties.agentPoolProfiles")), 1);
	/* ... and its network profile, without what ARM computed or what
	 * names the source's own resources. */
	assert_string_equal(jstr(got, "properties.networkProfile.outboundType"),
	    "loadBalancer");
	assert_string_equal(
	    jstr(got, "properties.networkProfile.networkPlugin"), "kubenet");
	assert_int_equal(json_integer_value(jget(got,
	                     "properties.networkProfile.loadBalancerProfile."
	                     "managedOutboundIPs.count")),
	    2);
	assert_null(jget(got,
	    "properties.networkProfile.loadBalancerProfile."
	    "effectiveOutboundIPs"));
	assert_null(jget(got, "properties.networkProfile.podCidrs"));
	assert_null(jget(got, "properties.fqdn"));
	assert_null(jget(got, "properties.nodeResourceGroup"));
	assert_null(jget(got, "properties.servicePrincipalProfile"));
	assert_true(json_is_true(jget(got, "properties.enableRBAC")));
	/* dnsPrefix from the name; pinned unless told otherwise. */
	assert_string_equal(
	    jstr(got, "properties.dnsPrefix"), "cluster-name-1");
	assert_string_equal(
	    jstr(got, "properties.autoUpgradeProfile.nodeOSUpgradeChannel"),
	    "None");
	assert_string_equal(
	    jstr(got, "properties.autoUpgradeProfile.upgradeChannel"), "none");
	json_decref(got);
	free(body);

	body = arm_cluster_create_body(
	    source, "nodepool1", &s, "c2", "Unmanaged", err, sizeof(err));
	got = json_loads(body, 0, NULL);
	assert_string_equal(
	    jstr(got, "properties.autoUpgradeProfile.nodeOSUpgradeChannel"),
	    "Unmanaged");
	json_decref(got);
	free(body);
	/* A pool the source cluster does not have is an error. */
	assert_null(arm_cluster_create_body(
	    source, "nope", &s, "c3", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "nope"));
	free(source);
	json_decref(want);
	json_decref(ex);
}

static void
test_cluster_identity_type_and_user_assigned_ids_are_kept(void **state)
{
	const char *source =
	    "{\"identity\":{\"type\":\"UserAssigned\",\"principalId\":\"p\","
	    "\"userAssignedIdentities\":{\"/subscriptions/s/resourceGroups/"
	    "g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	    "id1\":{\"clientId\":\"c\",\"principalId\":\"p\"}}},"
	    "\"properties\":{\"agentPoolProfiles\":[{\"name\":\"system\","
	    "\"vmSize\":\"Standard_D4s_v5\"}]}}";
	struct arm_snapshot s;
	char *body, err[256];
	json_t *got, *ids;

	(void)state;
	snapshot1(&s);
	body = arm_cluster_create_body(
	    source, "system", &s, "c", NULL, err, sizeof(err));
	assert_non_null(body);
	got = json_loads(body, 0, NULL);
	assert_string_equal(jstr(got, "identity.type"), "UserAssigned");
	assert_null(jget(got, "identity.principalId"));
	ids = jget(got, "identity.userAssignedIdentities");
	assert_int_equal(json_object_size(ids), 1);
	assert_int_equal(json_object_size(json_object_get(ids,
	                     "/subscriptions/s/resourceGroups/g/providers/"
	                     "Microsoft.ManagedIdentity/"
	                     "userAssignedIdentities/id1")),
	    0);
	/* No count in the source: AKS's usual 3. */
	assert_int_equal(json_integer_value(
	                     jget(got, "properties.agentPoolProfiles.0.count")),
	    3);
	json_decref(got);
	free(body);
}

static void
test_cluster_dns_prefix_from_name(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(
	    arm_cluster_dns_prefix("aks-copy", out, sizeof(out)), 0);
	assert_string_equal(out, "aks-copy");
	assert_int_equal(
	    arm_cluster_dns_prefix("AKS_Prod__2", out, sizeof(out)), 0);
	assert_string_equal(out, "aks-prod-2");
	assert_int_equal(arm_cluster_dns_prefix("_x_", out, sizeof(out)), 0);
	assert_string_equal(out, "x");
	assert_int_equal(arm_cluster_dns_prefix("__", out, sizeof(out)), -1);
	assert_int_equal(arm_cluster_dns_prefix(
	                     "a0123456789012345678901234567890123456789012345"
	                     "6789012345",
	                     out, sizeof(out)),
	    0);
	assert_int_equal(strlen(out), 54);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cluster_body_has_the_official_example_shape),
	    cmocka_unit_test(
	        test_cluster_identity_type_and_user_assigned_ids_are_kept),
	    cmocka_unit_test(test_cluster_dns_prefix_from_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
