/*
 * arm_cluster.c -- the body of a managed cluster PUT that creates a
 * cluster from a node pool snapshot (DESIGN.md section 6, "Create a
 * cluster from a snapshot"; the shape of the official example
 * ManagedClustersCreate_Snapshot.json).
 *
 * Pure: the source cluster's GET body and the snapshot go in, JSON text
 * comes out.  The new cluster's system pool is built from the snapshot
 * (creationData.sourceResourceId, and the snapshot's Kubernetes version
 * for the control plane), in the snapshot's location; what a snapshot
 * does not pin (VM size and count of the pool, the network profile, the
 * identity type, RBAC) is taken from the source cluster, leaving out
 * everything ARM computes or that names the source's own resources
 * (effective outbound IPs, FQDNs, node resource group).  A new cluster
 * defaults to nodeOSUpgradeChannel NodeImage, which would move it off the
 * baseline within a week, so the body always says which channel it wants.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/azure/arm.h"
#include "job/base/util.h"

/* networkProfile members a new cluster may take over as they are. */
static const char *const net_copy[] = {"networkPlugin", "networkPluginMode",
    "networkPolicy", "networkDataplane", "networkMode", "podCidr",
    "serviceCidr", "dnsServiceIP", "outboundType", "loadBalancerSku",
    "ipFamilies", NULL};
/* loadBalancerProfile members (not the source's own IPs). */
static const char *const lb_copy[] = {"managedOutboundIPs",
    "allocatedOutboundPorts", "idleTimeoutInMinutes", NULL};

static void
copy_members(json_t *dst, json_t *src, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		json_t *v = json_object_get(src, names[i]);

		if (v != NULL && !json_is_null(v))
			json_object_set_new(dst, names[i], json_deep_copy(v));
	}
}

static void
seterr(char *err, size_t errlen, const char *msg, const char *arg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s%s", msg, arg != NULL ? arg : "");
}

int
arm_cluster_dns_prefix(const char *name, char *out, size_t len)
{
	size_t n = 0;

	if (len < 2)
		return -1;
	for (const char *p = name; *p != '\0' && n < 54 && n + 1 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c))
			out[n++] = (char)tolower(c);
		else if (n > 0 && out[n - 1] != '-')
			out[n++] = '-';
	}
	while (n > 0 && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	/* it must start with a letter or digit: it does, or it is empty */
	return n == 0 ? -1 : 0;
}

static json_t *
network_profile(json_t *src)
{
	json_t *net = json_object(), *lb = json_object();

	copy_members(net, src, net_copy);
	copy_members(lb, json_object_get(src, "loadBalancerProfile"), lb_copy);
	if (json_object_size(lb) > 0)
		json_object_set_new(net, "loadBalancerProfile", lb);
	else
		json_decref(lb);
	return net;
}

/* The identity's type, and for user-assigned ones their ids. */
static json_t *
identity(json_t *src)
{
	const char *type = json_string_value(json_object_get(src, "type"));
	json_t *ids, *out;
	const char *k;
	json_t *v;

	if (type == NULL)
		return NULL;
	out = json_pack("{s:s}", "type", type);
	ids = json_object_get(src, "userAssignedIdentities");
	if (out != NULL && json_is_object(ids) && json_object_size(ids) > 0) {
		json_t *copy = json_object();

		json_object_foreach(ids, k, v)
		{
			(void)v;
			json_object_set_new(copy, k, json_object());
		}
		json_object_set_new(out, "userAssignedIdentities", copy);
	}
	return out;
}

char *
arm_cluster_create_body(const char *source_cluster_json, const char *pool,
    const struct arm_snapshot *snap, const char *name,
    const char *node_os_channel, char *err, size_t errlen)
{
	json_t *src = NULL, *sprops, *profiles, *sp = NULL, *root = NULL;
	json_t *props, *ap, *id, *v;
	json_error_t jerr;
	char dns[64];
	char *out = NULL;
	size_t i;

	src = json_loads(
	    source_cluster_json != NULL ? source_cluster_json : "", 0, &jerr);
	sprops = json_object_get(src, "properties");
	if (!json_is_object(sprops)) {
		seterr(
		    err, errlen, "the source cluster has no properties", NULL);
		goto out;
	}
	profiles = json_object_get(sprops, "agentPoolProfiles");
	json_array_foreach(profiles, i, v)
	{
		const char *n = json_string_value(json_object_get(v, "name"));

		if (n != NULL && strcasecmp(n, pool) == 0)
			sp = v;
	}
	if (sp == NULL) {
		seterr(
		    err, errlen, "the source cluster has no agent pool ", pool);
		goto out;
	}
	if (arm_cluster_dns_prefix(name, dns, sizeof(dns)) != 0) {
		seterr(err, errlen, "no DNS prefix can be made of ", name);
		goto out;
	}
	ap = json_pack("{s:s,s:s,s:s,s:O*,s:s,s:s,s:b,s:{s:s}}", "name",
	    json_string_value(json_object_get(sp, "name")), "mode", "System",
	    "type", "VirtualMachineScaleSets", "count",
	    json_object_get(sp, "count"), "vmSize",
	    json_string_value(json_object_get(sp, "vmSize")) != NULL
	        ? json_string_value(json_object_get(sp, "vmSize"))
	        : snap->vm_size,
	    "osType", snap->os_type[0] != '\0' ? snap->os_type : "Linux",
	    "enableFIPS", snap->enable_fips, "creationData", "sourceResourceId",
	    snap->id);
	if (ap == NULL) {
		seterr(
		    err, errlen, "cannot build the agent pool profile", NULL);
		goto out;
	}
	if (json_object_get(ap, "count") == NULL ||
	    json_is_null(json_object_get(ap, "count")))
		json_object_set_new(ap, "count", json_integer(3));
	props = json_pack("{s:s,s:s,s:[o],s:o,s:{s:s,s:s}}",
	    "kubernetesVersion", snap->kubernetes_version, "dnsPrefix", dns,
	    "agentPoolProfiles", ap, "networkProfile",
	    network_profile(json_object_get(sprops, "networkProfile")),
	    "autoUpgradeProfile", "upgradeChannel", "none",
	    "nodeOSUpgradeChannel",
	    node_os_channel != NULL && node_os_channel[0] != '\0'
	        ? node_os_channel
	        : "None");
	if (props == NULL) {
		seterr(
		    err, errlen, "cannot build the cluster properties", NULL);
		goto out;
	}
	v = json_object_get(sprops, "enableRBAC");
	if (json_is_boolean(v))
		json_object_set_new(props, "enableRBAC", json_copy(v));
	root = json_pack(
	    "{s:s,s:o}", "location", snap->location, "properties", props);
	id = identity(json_object_get(src, "identity"));
	if (root != NULL && id != NULL)
		json_object_set_new(root, "identity", id);
	else
		json_decref(id);
	if (root != NULL)
		out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (out == NULL)
		seterr(err, errlen, "cannot render the cluster body", NULL);
out:
	json_decref(root);
	json_decref(src);
	return out;
}
