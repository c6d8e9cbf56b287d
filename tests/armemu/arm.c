/*
 * arm.c -- the emulated fleet and the ARM routes that serve it.
 *
 * State is plain C structs (a 10,000-pool fleet takes a few megabytes):
 * subscriptions, resource groups, clusters that own their agent pools,
 * snapshots kept in creation order (their sequence number is the paging
 * key, so a deletion between two pages loses nothing), and the long-running
 * operations.  JSON is built per answer from the structs and never kept.
 *
 * Behaviour follows ../shared/azure-api (NOTES.md and the official
 * examples): snapshot PUT/GET/PATCH/DELETE are synchronous and a PUT copies
 * the source pool's current versions; agent pool PUT, DELETE and
 * upgradeNodeImageVersion are long-running: the first answer carries
 * Azure-AsyncOperation (and Location where ARM sends it) and Retry-After,
 * the operation answers InProgress for --lro-polls polls and then ends,
 * changing the pool.  --lro-headers location sends only Location (poll
 * operationresults: 202 until done); --lro-headers none sends neither, and
 * each GET of the pool then counts as a poll (its provisioningState stays
 * Upgrading/Updating/Creating until the operation ends).  While a pool has an
 * operation in progress, writes to it (and snapshots of it) get 409
 * OperationNotAllowed.  Names compare case-insensitively, as ARM does.  Every
 * function here runs with emu.lock held.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "armemu.h"

#define MSCS "Microsoft.ContainerService"
#define DEFAULT_IMAGE "AKSUbuntu-2204gen2containerd-202611.01.0"
#define NOT_FOUND_FIX                                                          \
	"For more details please go to https://aka.ms/ARMResourceNotFoundFix"
#define BUSY_MSG                                                               \
	"Operation is not allowed: Another operation (Updating) is in "        \
	"progress, please wait for it to finish before starting a new "        \
	"operation. See https://aka.ms/aks-pending-operation"

/* ------------------------------------------------------------------ */
/* lookups                                                            */

static int
sub_known(const char *sub)
{
	size_t i;

	for (i = 0; i < emu.nsubs; i++)
		if (strcasecmp(emu.subs[i], sub) == 0)
			return 1;
	return 0;
}

static int
sub_add(const char *sub)
{
	char(*n)[64];

	if (sub_known(sub))
		return 0;
	n = realloc(emu.subs, (emu.nsubs + 1) * sizeof(*emu.subs));
	if (n == NULL)
		return -1;
	emu.subs = n;
	snprintf(emu.subs[emu.nsubs++], 64, "%s", sub);
	return 0;
}

static struct rgroup *
rg_find(const char *sub, const char *rg)
{
	size_t i;

	for (i = 0; i < emu.nrgs; i++)
		if (strcasecmp(emu.rgs[i].sub, sub) == 0 &&
		    strcasecmp(emu.rgs[i].name, rg) == 0)
			return &emu.rgs[i];
	return NULL;
}

static int
rg_add(const char *sub, const char *rg, const char *location)
{
	struct rgroup *n;

	if (rg_find(sub, rg) != NULL)
		return 0;
	if (sub_add(sub) != 0)
		return -1;
	n = realloc(emu.rgs, (emu.nrgs + 1) * sizeof(*emu.rgs));
	if (n == NULL)
		return -1;
	emu.rgs = n;
	memset(&n[emu.nrgs], 0, sizeof(*n));
	snprintf(n[emu.nrgs].sub, sizeof(n->sub), "%s", sub);
	snprintf(n[emu.nrgs].name, sizeof(n->name), "%s", rg);
	snprintf(n[emu.nrgs].location, sizeof(n->location), "%s", location);
	emu.nrgs++;
	return 0;
}

static struct cluster *
cluster_find(const char *sub, const char *rg, const char *name)
{
	size_t i;

	for (i = 0; i < emu.nclusters; i++) {
		struct cluster *c = emu.clusters[i];

		if (!c->deleted && strcasecmp(c->name, name) == 0 &&
		    strcasecmp(c->rg, rg) == 0 && strcasecmp(c->sub, sub) == 0)
			return c;
	}
	return NULL;
}

static struct pool *
pool_find(struct cluster *c, const char *name)
{
	size_t i;

	if (c == NULL)
		return NULL;
	for (i = 0; i < c->npools; i++)
		if (strcasecmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

static size_t
snap_index(const char *sub, const char *rg, const char *name)
{
	size_t i;

	for (i = 0; i < emu.nsnaps; i++) {
		struct snapshot *s = emu.snaps[i];

		if (strcasecmp(s->name, name) == 0 &&
		    strcasecmp(s->rg, rg) == 0 && strcasecmp(s->sub, sub) == 0)
			return i;
	}
	return (size_t)-1;
}

static struct snapshot *
snap_find(const char *sub, const char *rg, const char *name)
{
	size_t i = snap_index(sub, rg, name);

	return i == (size_t)-1 ? NULL : emu.snaps[i];
}

static struct operation *
op_find(const char *id)
{
	size_t i;

	for (i = 0; i < emu.nops; i++)
		if (strcasecmp(emu.ops[i]->id, id) == 0)
			return emu.ops[i];
	return NULL;
}

/*
 * Split an ARM id "/subscriptions/S/resourceGroups/RG/providers/
 * Microsoft.ContainerService/<type>/N[/<child>/M]" into its parts.
 * ${buf} holds the copy the pointers point into.  0 or -1.
 */
static int
parse_id(const char *id, char *buf, size_t buflen, const char *type,
    const char *child, const char **sub, const char **rg, const char **name,
    const char **childname)
{
	char *seg[12], *save = NULL, *t;
	int n = 0, want = child ? 10 : 8;

	if (id == NULL || strlen(id) >= buflen)
		return -1;
	snprintf(buf, buflen, "%s", id);
	for (t = strtok_r(buf, "/", &save); t != NULL && n < 12;
	     t = strtok_r(NULL, "/", &save))
		seg[n++] = t;
	if (n != want || strcasecmp(seg[0], "subscriptions") != 0 ||
	    strcasecmp(seg[2], "resourceGroups") != 0 ||
	    strcasecmp(seg[4], "providers") != 0 ||
	    strcasecmp(seg[5], MSCS) != 0 || strcasecmp(seg[6], type) != 0)
		return -1;
	if (child != NULL && strcasecmp(seg[8], child) != 0)
		return -1;
	*sub = seg[1];
	*rg = seg[3];
	*name = seg[7];
	if (child != NULL)
		*childname = seg[9];
	return 0;
}

/* ------------------------------------------------------------------ */
/* rendering                                                          */

static void
new_etag(char *etag)
{
	emu_random_hex(etag, 7);
}

static void
sim_time(char *buf, size_t len)
{
	emu_format_time(emu_sim_now(), 7, buf, len);
}

/* Copy ${src}'s members into ${dst} (deep: answers share nothing with state).
 */
static void
merge_copy(json_t *dst, json_t *src)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v)
	{
		json_t *d = json_object_get(dst, k);

		/* Objects merge, so an echoed networkProfile keeps the
		 * fields ARM computes. */
		if (json_is_object(d) && json_is_object(v))
			merge_copy(d, v);
		else
			json_object_set_new(dst, k, json_deep_copy(v));
	}
}

static json_t *
pool_props(const struct cluster *c, const struct pool *p, int in_cluster)
{
	json_t *o = json_object();

	(void)c;
	json_object_set_new(o, "maxPods", json_integer(110));
	json_object_set_new(
	    o, "upgradeSettings", json_pack("{s:s}", "maxSurge", "10%"));
	json_object_set_new(o, "type", json_string("VirtualMachineScaleSets"));
	if (in_cluster)
		json_object_set_new(
		    o, "availabilityZones", json_pack("[sss]", "1", "2", "3"));
	json_object_set_new(o, "enableNodePublicIP", json_false());

	if (p->extra != NULL)
		merge_copy(o, p->extra);
	json_object_set_new(o, "count", json_integer(p->count));
	json_object_set_new(o, "vmSize", json_string(p->vm_size));
	json_object_set_new(o, "osType", json_string(p->os_type));
	if (p->os_sku[0] != '\0')
		json_object_set_new(o, "osSKU", json_string(p->os_sku));
	json_object_set_new(o, "mode", json_string(p->mode));
	json_object_set_new(
	    o, "orchestratorVersion", json_string(p->orchestrator_version));
	json_object_set_new(o, "currentOrchestratorVersion",
	    json_string(p->current_orchestrator_version));
	json_object_set_new(
	    o, "nodeImageVersion", json_string(p->node_image_version));
	json_object_set_new(o, "enableFIPS", json_boolean(p->enable_fips));
	json_object_set_new(
	    o, "provisioningState", json_string(p->provisioning_state));
	json_object_set_new(o, "eTag", json_string(p->etag));
	if (p->source_id != NULL)
		json_object_set_new(o, "creationData",
		    json_pack("{s:s}", "sourceResourceId", p->source_id));
	return o;
}

static json_t *
pool_json(const struct cluster *c, const struct pool *p)
{
	char id[512];

	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/" MSCS
	    "/managedClusters/%s/agentPools/%s",
	    c->sub, c->rg, c->name, p->name);
	return json_pack("{s:s,s:s,s:s,s:o}", "id", id, "name", p->name, "type",
	    MSCS "/managedClusters/agentPools", "properties",
	    pool_props(c, p, 0));
}

static json_t *
cluster_json(const struct cluster *c)
{
	char id[512], buf[512];
	json_t *props, *profiles, *net;
	size_t i;

	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/" MSCS
	    "/managedClusters/%s",
	    c->sub, c->rg, c->name);
	props = json_object();
	snprintf(buf, sizeof(buf), "%s-dns", c->name);
	json_object_set_new(props, "dnsPrefix", json_string(buf));
	snprintf(buf, sizeof(buf), "%s-dns-00000000.hcp.%s.azmk8s.io", c->name,
	    c->location);
	json_object_set_new(props, "fqdn", json_string(buf));
	snprintf(buf, sizeof(buf), "%s-dns-00000000.portal.hcp.%s.azmk8s.io",
	    c->name, c->location);
	json_object_set_new(props, "azurePortalFQDN", json_string(buf));
	json_object_set_new(props, "enableRBAC", json_true());
	json_object_set_new(props, "maxAgentPools", json_integer(100));
	snprintf(buf, sizeof(buf), "MC_%s_%s_%s", c->rg, c->name, c->location);
	json_object_set_new(props, "nodeResourceGroup", json_string(buf));
	json_object_set_new(props, "linuxProfile",
	    json_pack("{s:s,s:{s:[{s:s}]}}", "adminUsername", "azureuser",
	        "ssh", "publicKeys", "keyData",
	        "ssh-rsa AAAAB3NzaC1yc2E armemu"));
	json_object_set_new(props, "servicePrincipalProfile",
	    json_pack("{s:s}", "clientId", "msi"));
	snprintf(buf, sizeof(buf),
	    "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Compute/diskEncryptionSets/des-%s",
	    c->sub, c->rg, c->name);
	json_object_set_new(props, "diskEncryptionSetID", json_string(buf));
	snprintf(buf, sizeof(buf),
	    "/subscriptions/%s/resourceGroups/MC_%s_%s_%s/providers/"
	    "Microsoft.Network/publicIPAddresses/outbound-ip",
	    c->sub, c->rg, c->name, c->location);
	net = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:[s],s:[s],"
	                "s:{s:{s:i},s:[{s:s}],s:{s:[{s:s}]},s:i,s:i}}",
	    "networkPlugin", "kubenet", "podCidr", "10.244.0.0/16",
	    "serviceCidr", "10.0.0.0/16", "dnsServiceIP", "10.0.0.10",
	    "outboundType", "loadBalancer", "loadBalancerSku", "standard",
	    "podCidrs", "10.244.0.0/16", "serviceCidrs", "10.0.0.0/16",
	    "ipFamilies", "IPv4", "loadBalancerProfile", "managedOutboundIPs",
	    "count", 1, "effectiveOutboundIPs", "id", buf, "outboundIPs",
	    "publicIPs", "id", buf, "allocatedOutboundPorts", 0,
	    "idleTimeoutInMinutes", 30);
	json_object_set_new(props, "networkProfile", net);
	json_object_set_new(props, "upgradeSettings",
	    json_pack("{s:{s:b,s:s}}", "overrideSettings", "forceUpgrade", 0,
	        "until", "2026-01-01T00:00:00Z"));
	if (c->extra != NULL)
		merge_copy(props, c->extra);
	json_object_set_new(
	    props, "kubernetesVersion", json_string(c->kubernetes_version));
	json_object_set_new(props, "currentKubernetesVersion",
	    json_string(c->kubernetes_version));
	json_object_set_new(
	    props, "provisioningState", json_string(c->provisioning_state));
	if (c->has_auto) {
		json_t *a = json_object();

		/* upgradeChannel is left out when never set, as AKS does. */
		if (c->upgrade_channel[0] != '\0')
			json_object_set_new(a, "upgradeChannel",
			    json_string(c->upgrade_channel));
		if (c->node_os_channel[0] != '\0')
			json_object_set_new(a, "nodeOSUpgradeChannel",
			    json_string(c->node_os_channel));
		json_object_set_new(props, "autoUpgradeProfile", a);
	}
	profiles = json_array();
	for (i = 0; i < c->npools; i++) {
		json_t *pp = pool_props(c, &c->pools[i], 1);

		json_object_set_new(pp, "name", json_string(c->pools[i].name));
		json_array_append_new(profiles, pp);
	}
	json_object_set_new(props, "agentPoolProfiles", profiles);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", id, "name",
	    c->name, "type", MSCS "/managedClusters", "location", c->location,
	    "eTag", c->etag, "tags",
	    c->tags ? json_deep_copy(c->tags) : json_object(), "sku",
	    c->sku ? json_deep_copy(c->sku)
	           : json_pack("{s:s,s:s}", "name", "Base", "tier", "Free"),
	    "properties", props);
}

static json_t *
snap_json(const struct snapshot *s)
{
	char id[512];
	json_t *props;

	snprintf(id, sizeof(id),
	    "/subscriptions/%s/resourceGroups/%s/providers/" MSCS
	    "/snapshots/%s",
	    s->sub, s->rg, s->name);
	props = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "snapshotType",
	    "NodePool", "kubernetesVersion", s->kubernetes_version,
	    "nodeImageVersion", s->node_image_version, "osType", s->os_type,
	    "osSku", s->os_sku, "vmSize", s->vm_size, "enableFIPS",
	    s->enable_fips);
	json_object_set_new(props, "creationData",
	    json_pack(
	        "{s:s}", "sourceResourceId", s->source_id ? s->source_id : ""));
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:o,s:o,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "id", id,
	    "name", s->name, "type", MSCS "/snapshots", "location", s->location,
	    "tags", json_deep_copy(s->tags), "properties", props, "systemData",
	    "createdAt", s->created_at, "createdBy", s->created_by,
	    "createdByType", s->created_by_type, "lastModifiedAt",
	    s->modified_at[0] ? s->modified_at : s->created_at,
	    "lastModifiedBy", s->created_by, "lastModifiedByType",
	    s->created_by_type);
}

/* ------------------------------------------------------------------ */
/* fleet                                                              */

static void
pool_defaults(struct pool *p, const char *name, int first, const char *k8s)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->mode, sizeof(p->mode), "%s", first ? "System" : "User");
	p->count = 3;
	snprintf(p->vm_size, sizeof(p->vm_size), "Standard_D4s_v5");
	snprintf(p->os_type, sizeof(p->os_type), "Linux");
	snprintf(p->os_sku, sizeof(p->os_sku), "Ubuntu");
	snprintf(p->orchestrator_version, sizeof(p->orchestrator_version), "%s",
	    k8s);
	snprintf(p->current_orchestrator_version,
	    sizeof(p->current_orchestrator_version), "%s", k8s);
	snprintf(p->node_image_version, sizeof(p->node_image_version),
	    DEFAULT_IMAGE);
	snprintf(p->latest_image, sizeof(p->latest_image), DEFAULT_IMAGE);
	snprintf(
	    p->provisioning_state, sizeof(p->provisioning_state), "Succeeded");
	new_etag(p->etag);
}

static void
pool_release(struct pool *p)
{
	free(p->source_id);
	json_decref(p->extra);
	p->source_id = NULL;
	p->extra = NULL;
}

static void
cluster_free(struct cluster *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->npools; i++)
		pool_release(&c->pools[i]);
	free(c->pools);
	json_decref(c->tags);
	json_decref(c->extra);
	json_decref(c->sku);
	free(c);
}

static struct cluster *
cluster_new(const char *sub, const char *rg, const char *name,
    const char *location, const char *k8s, size_t npools)
{
	struct cluster *c, **n;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	if (npools > 0) {
		c->pools = calloc(npools, sizeof(*c->pools));
		if (c->pools == NULL) {
			free(c);
			return NULL;
		}
	}
	n = realloc(emu.clusters, (emu.nclusters + 1) * sizeof(*emu.clusters));
	if (n == NULL) {
		free(c->pools);
		free(c);
		return NULL;
	}
	emu.clusters = n;
	emu.clusters[emu.nclusters++] = c;
	snprintf(c->sub, sizeof(c->sub), "%s", sub);
	snprintf(c->rg, sizeof(c->rg), "%s", rg);
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->location, sizeof(c->location), "%s", location);
	snprintf(
	    c->kubernetes_version, sizeof(c->kubernetes_version), "%s", k8s);
	snprintf(
	    c->provisioning_state, sizeof(c->provisioning_state), "Succeeded");
	new_etag(c->etag);
	return c;
}

static const char *
jstr(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* ${dst} = string member ${key} of ${o} when it is a non-empty string. */
static void
set_from(char *dst, size_t len, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v != NULL && *v != '\0')
		snprintf(dst, len, "%s", v);
}

static int
load_pool(struct cluster *c, struct pool *p, json_t *jp, int first)
{
	const char *name = jstr(jp, "name", NULL);
	json_t *v;

	if (name == NULL || !emu_pool_name_ok(name)) {
		fprintf(stderr,
		    "armemu: fleet: cluster %s: bad pool name '%s'\n", c->name,
		    name ? name : "");
		return -1;
	}
	pool_defaults(p, name, first, c->kubernetes_version);
	/* Each given field replaces its default (never snprintf a buffer
	 * into itself). */
	set_from(p->mode, sizeof(p->mode), jp, "mode");
	if ((v = json_object_get(jp, "count")) != NULL)
		p->count = (int)json_integer_value(v);
	set_from(p->vm_size, sizeof(p->vm_size), jp, "vmSize");
	set_from(p->os_type, sizeof(p->os_type), jp, "osType");
	set_from(p->os_sku, sizeof(p->os_sku), jp, "osSKU");
	set_from(p->os_sku, sizeof(p->os_sku), jp, "osSku");
	/* "osSku": null: a pool ARM shows without one (its examples do). */
	if (json_is_null(json_object_get(jp, "osSku")))
		p->os_sku[0] = '\0';
	set_from(p->orchestrator_version, sizeof(p->orchestrator_version), jp,
	    "orchestratorVersion");
	snprintf(p->current_orchestrator_version,
	    sizeof(p->current_orchestrator_version), "%s",
	    p->orchestrator_version);
	set_from(p->current_orchestrator_version,
	    sizeof(p->current_orchestrator_version), jp,
	    "currentOrchestratorVersion");
	set_from(p->node_image_version, sizeof(p->node_image_version), jp,
	    "nodeImageVersion");
	snprintf(p->latest_image, sizeof(p->latest_image), "%s",
	    p->node_image_version);
	set_from(p->latest_image, sizeof(p->latest_image), jp,
	    "latestNodeImageVersion");
	set_from(p->provisioning_state, sizeof(p->provisioning_state), jp,
	    "provisioningState");
	p->enable_fips = json_is_true(json_object_get(jp, "enableFIPS"));
	return 0;
}

/*
 * Take ${prof} (an autoUpgradeProfile object, or NULL) into ${c}: the
 * fields it names replace the cluster's; a cluster given none keeps none.
 */
static void
cluster_set_auto(struct cluster *c, json_t *prof)
{
	json_t *v;

	if (!json_is_object(prof))
		return;
	c->has_auto = 1;
	v = json_object_get(prof, "upgradeChannel");
	if (json_is_string(v))
		snprintf(c->upgrade_channel, sizeof(c->upgrade_channel), "%s",
		    json_string_value(v));
	else if (json_is_null(v))
		c->upgrade_channel[0] = '\0';
	v = json_object_get(prof, "nodeOSUpgradeChannel");
	if (json_is_string(v))
		snprintf(c->node_os_channel, sizeof(c->node_os_channel), "%s",
		    json_string_value(v));
	else if (json_is_null(v))
		c->node_os_channel[0] = '\0';
}

int
fleet_add_snapshot_json(json_t *s, char *err, size_t errlen)
{
	const char *name = jstr(s, "name", NULL);
	const char *sub = jstr(s, "subscription", NULL);
	const char *rg = jstr(s, "resourceGroup", NULL);
	json_t *props = json_object_get(s, "properties");
	json_t *sys = json_object_get(s, "systemData");
	json_t *tags = json_object_get(s, "tags");
	struct snapshot *sn, **n;
	char buf[512];
	const char *isub, *irg, *iname;

	if (name == NULL && jstr(s, "id", NULL) != NULL &&
	    parse_id(jstr(s, "id", NULL), buf, sizeof(buf), "snapshots", NULL,
	        &isub, &irg, &iname, NULL) == 0) {
		name = iname;
		if (sub == NULL)
			sub = isub;
		if (rg == NULL)
			rg = irg;
	} else if (jstr(s, "id", NULL) != NULL &&
	    parse_id(jstr(s, "id", NULL), buf, sizeof(buf), "snapshots", NULL,
	        &isub, &irg, &iname, NULL) == 0) {
		if (sub == NULL)
			sub = isub;
		if (rg == NULL)
			rg = irg;
	}
	if (name == NULL || !emu_name_ok(name) || sub == NULL || rg == NULL) {
		snprintf(err, errlen,
		    "snapshot needs a valid name, "
		    "subscription and resourceGroup");
		return -1;
	}
	if (snap_find(sub, rg, name) != NULL) {
		snprintf(err, errlen, "snapshot %s/%s exists", rg, name);
		return -1;
	}
	if (rg_add(sub, rg, jstr(s, "location", "westeurope")) != 0)
		goto nomem;
	sn = calloc(1, sizeof(*sn));
	if (sn == NULL)
		goto nomem;
	n = realloc(emu.snaps, (emu.nsnaps + 1) * sizeof(*emu.snaps));
	if (n == NULL) {
		free(sn);
		goto nomem;
	}
	emu.snaps = n;
	emu.snaps[emu.nsnaps++] = sn;
	sn->seq = ++emu.snap_seq;
	snprintf(sn->sub, sizeof(sn->sub), "%s", sub);
	snprintf(sn->rg, sizeof(sn->rg), "%s", rg);
	snprintf(sn->name, sizeof(sn->name), "%s", name);
	snprintf(sn->location, sizeof(sn->location), "%s",
	    jstr(s, "location", "westeurope"));
	sn->source_id = emu_strdup(jstr(
	    json_object_get(props, "creationData"), "sourceResourceId", ""));
	snprintf(sn->kubernetes_version, sizeof(sn->kubernetes_version), "%s",
	    jstr(props, "kubernetesVersion", "1.30.5"));
	snprintf(sn->node_image_version, sizeof(sn->node_image_version), "%s",
	    jstr(props, "nodeImageVersion", DEFAULT_IMAGE));
	snprintf(sn->os_type, sizeof(sn->os_type), "%s",
	    jstr(props, "osType", "Linux"));
	snprintf(sn->os_sku, sizeof(sn->os_sku), "%s",
	    jstr(props, "osSku", "Ubuntu"));
	snprintf(sn->vm_size, sizeof(sn->vm_size), "%s",
	    jstr(props, "vmSize", "Standard_D4s_v5"));
	sn->enable_fips = json_is_true(json_object_get(props, "enableFIPS"));
	sim_time(buf, sizeof(buf));
	snprintf(sn->created_at, sizeof(sn->created_at), "%s",
	    jstr(sys, "createdAt", buf));
	snprintf(sn->created_by, sizeof(sn->created_by), "%s",
	    jstr(sys, "createdBy", "someone@example.com"));
	snprintf(sn->created_by_type, sizeof(sn->created_by_type), "%s",
	    jstr(sys, "createdByType", "User"));
	sn->tags = json_is_object(tags) ? json_deep_copy(tags) : json_object();
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
fleet_load(const char *path)
{
	json_error_t jerr;
	json_t *root, *subs, *js, *jr, *jc, *jp, *snaps;
	size_t i, j, k, l;
	char err[256];

	root = json_load_file(path, 0, &jerr);
	if (root == NULL) {
		fprintf(
		    stderr, "armemu: %s:%d: %s\n", path, jerr.line, jerr.text);
		return -1;
	}
	subs = json_object_get(root, "subscriptions");
	json_array_foreach(subs, i, js)
	{
		const char *sub = jstr(js, "id", NULL);

		if (sub == NULL || sub_add(sub) != 0)
			goto bad;
		json_array_foreach(json_object_get(js, "resourceGroups"), j, jr)
		{
			const char *rg = jstr(jr, "name", NULL);
			const char *rloc = jstr(jr, "location", "westeurope");

			if (rg == NULL || rg_add(sub, rg, rloc) != 0)
				goto bad;
			json_array_foreach(
			    json_object_get(jr, "clusters"), k, jc)
			{
				const char *cname = jstr(jc, "name", NULL);
				json_t *pools =
				    json_object_get(jc, "agentPools");
				struct cluster *c;

				if (cname == NULL || !emu_name_ok(cname))
					goto bad;
				c = cluster_new(sub, rg, cname,
				    jstr(jc, "location", rloc),
				    jstr(jc, "kubernetesVersion", "1.30.5"),
				    json_array_size(pools));
				if (c == NULL)
					goto bad;
				if (json_is_object(json_object_get(jc, "tags")))
					c->tags = json_deep_copy(
					    json_object_get(jc, "tags"));
				cluster_set_auto(c,
				    json_object_get(jc, "autoUpgradeProfile"));
				kv_add_default(c->kubernetes_version);
				json_array_foreach(pools, l, jp)
				{
					if (load_pool(c, &c->pools[c->npools],
					        jp, l == 0) != 0)
						goto bad;
					kv_add_default(
					    c->pools[c->npools]
					        .current_orchestrator_version);
					c->npools++;
				}
			}
		}
	}
	snaps = json_object_get(root, "snapshots");
	json_array_foreach(snaps, i, js)
	{
		if (fleet_add_snapshot_json(js, err, sizeof(err)) != 0) {
			fprintf(stderr, "armemu: %s: snapshot %zu: %s\n", path,
			    i, err);
			json_decref(root);
			return -1;
		}
		kv_add_default(emu.snaps[emu.nsnaps - 1]->kubernetes_version);
	}
	if (kv_load_fleet(json_object_get(root, "kubernetesVersions")) != 0) {
		json_decref(root);
		return -1;
	}
	json_decref(root);
	return 0;
bad:
	fprintf(stderr,
	    "armemu: %s: invalid fleet (see tests/armemu/README.md)\n", path);
	json_decref(root);
	return -1;
}

int
fleet_generate(int nclusters, int npools, int nsubs)
{
	static const char *locs[] = {
	    "westeurope", "northeurope", "eastus", "westus2"};
	static const char *k8s[] = {"1.29.9", "1.30.5", "1.31.2"};
	static const char *dates[] = {
	    "202610.14.0", "202610.21.0", "202610.28.0", "202611.04.0"};
	static const char *sizes[] = {
	    "Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5"};
	char sub[64], rg[32], name[32], pname[16];
	int i, j;

	for (i = 1; i <= nsubs; i++) {
		snprintf(sub, sizeof(sub), "00000000-0000-0000-0000-%012d", i);
		if (sub_add(sub) != 0)
			return -1;
	}
	for (i = 1; i <= nclusters; i++) {
		struct cluster *c;

		snprintf(sub, sizeof(sub), "00000000-0000-0000-0000-%012d",
		    (i - 1) % nsubs + 1);
		snprintf(rg, sizeof(rg), "rg-%d", (i - 1) / 10 + 1);
		snprintf(name, sizeof(name), "aks-%d", i);
		if (rg_add(sub, rg, locs[i % 4]) != 0)
			return -1;
		c = cluster_new(
		    sub, rg, name, locs[i % 4], k8s[i % 3], (size_t)npools);
		if (c == NULL)
			return -1;
		for (j = 0; j < npools; j++) {
			struct pool *p = &c->pools[j];
			const char *d = dates[(i + j) % 4];

			snprintf(pname, sizeof(pname), "pool%d", j);
			pool_defaults(p, pname, j == 0, c->kubernetes_version);
			if ((i * npools + j) % 7 == 6) {
				snprintf(
				    p->os_sku, sizeof(p->os_sku), "AzureLinux");
				snprintf(p->node_image_version,
				    sizeof(p->node_image_version),
				    "AKSAzureLinux-V2gen2-%s", d);
			} else {
				snprintf(p->node_image_version,
				    sizeof(p->node_image_version),
				    "AKSUbuntu-2204gen2containerd-%s", d);
			}
			snprintf(p->latest_image, sizeof(p->latest_image), "%s",
			    p->node_image_version);
			snprintf(p->vm_size, sizeof(p->vm_size), "%s",
			    sizes[(i + j) % 3]);
			p->enable_fips = (j == 2 && i % 2 == 1);
			c->npools++;
		}
	}
	return 0;
}

static void
snap_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	free(s->source_id);
	json_decref(s->tags);
	free(s);
}

void
fleet_free(void)
{
	size_t i;

	for (i = 0; i < emu.nclusters; i++)
		cluster_free(emu.clusters[i]);
	free(emu.clusters);
	for (i = 0; i < emu.nsnaps; i++)
		snap_free(emu.snaps[i]);
	free(emu.snaps);
	for (i = 0; i < emu.nops; i++) {
		free(emu.ops[i]->new_source);
		free(emu.ops[i]);
	}
	free(emu.ops);
	free(emu.subs);
	free(emu.rgs);
}

/* ------------------------------------------------------------------ */
/* operations                                                         */

static struct operation *
op_new(const struct cluster *c, const char *pool, enum op_kind kind,
    const char *id)
{
	struct operation *op, **n;

	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return NULL;
	n = realloc(emu.ops, (emu.nops + 1) * sizeof(*emu.ops));
	if (n == NULL) {
		free(op);
		return NULL;
	}
	emu.ops = n;
	emu.ops[emu.nops++] = op;
	if (id != NULL && *id != '\0')
		snprintf(op->id, sizeof(op->id), "%s", id);
	else
		emu_uuid(op->id);
	snprintf(op->location, sizeof(op->location), "%s", c->location);
	snprintf(op->sub, sizeof(op->sub), "%s", c->sub);
	snprintf(op->rg, sizeof(op->rg), "%s", c->rg);
	snprintf(op->cluster, sizeof(op->cluster), "%s", c->name);
	snprintf(op->pool, sizeof(op->pool), "%s", pool ? pool : "");
	op->kind = kind;
	sim_time(op->start_time, sizeof(op->start_time));
	return op;
}

static void
op_finish(struct operation *op)
{
	struct cluster *c = cluster_find(op->sub, op->rg, op->cluster);
	struct pool *p = pool_find(c, op->pool);
	size_t i;

	if (op->done)
		return;
	op->done = op->fail ? 2 : 1;
	sim_time(op->end_time, sizeof(op->end_time));
	if (op->kind == OP_CLUSTER_PUT && c != NULL) {
		snprintf(c->provisioning_state, sizeof(c->provisioning_state),
		    "%s", op->fail ? "Failed" : "Succeeded");
		for (i = 0; i < c->npools; i++) {
			if (strcmp(c->pools[i].op_id, op->id) == 0) {
				c->pools[i].op_id[0] = '\0';
				snprintf(c->pools[i].provisioning_state,
				    sizeof(c->pools[i].provisioning_state),
				    "%s", op->fail ? "Failed" : "Succeeded");
			}
		}
		return;
	}
	if (p == NULL)
		return;
	p->op_id[0] = '\0';
	if (op->kind == OP_CONTROL_BUSY)
		p->busy = 0;
	if (op->fail) {
		snprintf(p->provisioning_state, sizeof(p->provisioning_state),
		    "Failed");
		return;
	}
	if (op->noop) {
		/* lro_noop: "Succeeded", and the pool is as it was. */
		snprintf(p->provisioning_state, sizeof(p->provisioning_state),
		    "Succeeded");
		new_etag(p->etag);
		return;
	}
	if (op->kind == OP_POOL_DELETE) {
		size_t idx = (size_t)(p - c->pools);

		pool_release(p);
		memmove(&c->pools[idx], &c->pools[idx + 1],
		    (c->npools - idx - 1) * sizeof(*c->pools));
		c->npools--;
		return;
	}
	if (op->new_orchestrator[0] != '\0') {
		snprintf(p->orchestrator_version,
		    sizeof(p->orchestrator_version), "%s",
		    op->new_orchestrator);
		snprintf(p->current_orchestrator_version,
		    sizeof(p->current_orchestrator_version), "%s",
		    op->new_orchestrator);
	}
	if (op->new_image[0] != '\0')
		snprintf(p->node_image_version, sizeof(p->node_image_version),
		    "%s", op->new_image);
	if (op->new_source != NULL) {
		free(p->source_id);
		p->source_id = emu_strdup(op->new_source);
	}
	snprintf(
	    p->provisioning_state, sizeof(p->provisioning_state), "Succeeded");
	new_etag(p->etag);
}

/* Start ${op}: done at once with --lro-polls 0. */
static void
op_started(struct ctx *c, struct operation *op)
{
	if (strcmp(c->lie, "lro_noop") == 0 && op->kind != OP_POOL_DELETE)
		op->noop = 1;
	if (c->lro_fail) {
		op->fail = 1;
		snprintf(op->fail_code, sizeof(op->fail_code), "%s",
		    c->lro_fail_code[0] ? c->lro_fail_code
		                        : "ReconcileAgentPoolError");
	}
	if (emu.cfg.lro_polls == 0 && op->kind != OP_CONTROL_BUSY)
		op_finish(op);
}

static void
lro_headers(struct ctx *c, const struct operation *op, int with_location)
{
	char url[1024], ra[16];
	const char *api = c->api_version ? c->api_version : "2026-08-01";

	if (emu.cfg.lro_headers == LRO_NONE)
		return;
	if (emu.cfg.lro_headers == LRO_LOCATION) {
		with_location = 1;
	} else {
		snprintf(url, sizeof(url),
		    "%s/providers/" MSCS
		    "/locations/%s/operations/%s?api-version=%s",
		    c->base, op->location, op->id, api);
		ctx_header(c, "Azure-AsyncOperation", url);
	}
	if (with_location) {
		snprintf(url, sizeof(url),
		    "%s/subscriptions/%s/providers/" MSCS
		    "/locations/%s/operationresults/%s?api-version=%s",
		    c->base, op->sub, op->location, op->id, api);
		ctx_header(c, "Location", url);
	}
	snprintf(ra, sizeof(ra), "%d", emu.cfg.retry_after);
	ctx_header(c, "Retry-After", ra);
}

/* Count one poll; end the operation after --lro-polls of them. */
static void
op_poll(struct operation *op)
{
	if (op->done || op->kind == OP_CONTROL_BUSY)
		return;
	if (op->polls >= emu.cfg.lro_polls)
		op_finish(op);
	else
		op->polls++;
}

static json_t *
op_json(const struct operation *op, const char *id)
{
	json_t *o;
	int pct;

	o = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "name", op->id, "status",
	    op->done == 0 ? "InProgress"
	                  : (op->done == 1 ? "Succeeded" : "Failed"),
	    "startTime", op->start_time);
	pct =
	    op->done ? 100 : (int)(100.0 * op->polls / (emu.cfg.lro_polls + 1));
	json_object_set_new(o, "percentComplete", json_integer(pct));
	if (op->done)
		json_object_set_new(o, "endTime", json_string(op->end_time));
	if (op->done == 2)
		json_object_set_new(o, "error",
		    json_pack("{s:s,s:s}", "code", op->fail_code, "message",
		        "The operation failed (injected by armemu)."));
	return o;
}

/* ------------------------------------------------------------------ */
/* routes                                                             */

static int
ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static void
route_name(struct route *r, const char *method, const char *res)
{
	char m[16];
	size_t i;

	for (i = 0; method[i] != '\0' && i + 1 < sizeof(m); i++)
		m[i] = (char)tolower((unsigned char)method[i]);
	m[i] = '\0';
	snprintf(r->name, sizeof(r->name), "%s.%s", res, m);
}

void
route_classify(const char *method, char **seg, int n, struct route *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = R_NONE;
	snprintf(r->name, sizeof(r->name), "unknown");
	if (n == 4 && ieq(seg[1], "oauth2") && ieq(seg[2], "v2.0") &&
	    ieq(seg[3], "token")) {
		r->kind = R_TOKEN_V2;
		r->tenant = seg[0];
		snprintf(r->name, sizeof(r->name), "token.v2");
		return;
	}
	if (n == 4 && ieq(seg[0], "metadata") && ieq(seg[1], "identity") &&
	    ieq(seg[2], "oauth2") && ieq(seg[3], "token")) {
		r->kind = R_TOKEN_IMDS;
		snprintf(r->name, sizeof(r->name), "token.imds");
		return;
	}
	if (n == 6 && ieq(seg[0], "providers") && ieq(seg[1], MSCS) &&
	    ieq(seg[2], "locations") && ieq(seg[4], "operations")) {
		r->kind = R_OP_STATUS;
		r->loc = seg[3];
		r->opid = seg[5];
		snprintf(r->name, sizeof(r->name), "operations.get");
		return;
	}
	if (n < 2 || !ieq(seg[0], "subscriptions"))
		return;
	r->sub = seg[1];
	if (n >= 5 && ieq(seg[2], "providers") && ieq(seg[3], MSCS)) {
		if (n == 5 && ieq(seg[4], "managedClusters")) {
			r->kind = R_CLUSTERS_LIST_SUB;
			snprintf(
			    r->name, sizeof(r->name), "managedClusters.list");
		} else if (n == 5 && ieq(seg[4], "snapshots")) {
			r->kind = R_SNAPS_LIST_SUB;
			snprintf(r->name, sizeof(r->name), "snapshots.list");
		} else if (n == 8 && ieq(seg[4], "locations") &&
		    ieq(seg[6], "operationresults")) {
			r->kind = R_OP_RESULT;
			r->loc = seg[5];
			r->opid = seg[7];
			snprintf(
			    r->name, sizeof(r->name), "operationresults.get");
		} else if (n == 7 && ieq(seg[4], "locations") &&
		    ieq(seg[6], "kubernetesVersions")) {
			r->kind = R_KUBERNETES_VERSIONS;
			r->loc = seg[5];
			snprintf(r->name, sizeof(r->name),
			    "kubernetesVersions.list");
		} else if (n == 8 && ieq(seg[4], "locations") &&
		    ieq(seg[6], "operations")) {
			r->kind = R_OP_STATUS;
			r->loc = seg[5];
			r->opid = seg[7];
			snprintf(r->name, sizeof(r->name), "operations.get");
		}
		return;
	}
	if (n < 7 || !ieq(seg[2], "resourceGroups") ||
	    !ieq(seg[4], "providers") || !ieq(seg[5], MSCS))
		return;
	r->rg = seg[3];
	if (n == 7 && ieq(seg[6], "managedClusters")) {
		r->kind = R_CLUSTERS_LIST_RG;
		snprintf(r->name, sizeof(r->name), "managedClusters.list");
	} else if (n == 7 && ieq(seg[6], "snapshots")) {
		r->kind = R_SNAPS_LIST_RG;
		snprintf(r->name, sizeof(r->name), "snapshots.list");
	} else if (n == 8 && ieq(seg[6], "snapshots")) {
		r->kind = R_SNAP;
		r->snap = seg[7];
		route_name(r, method, "snapshots");
	} else if (n >= 8 && ieq(seg[6], "managedClusters")) {
		r->cluster = seg[7];
		if (n == 8) {
			r->kind = R_CLUSTER;
			route_name(r, method, "managedClusters");
		} else if (n == 9 && ieq(seg[8], "agentPools")) {
			r->kind = R_POOLS_LIST;
			snprintf(r->name, sizeof(r->name), "agentPools.list");
		} else if (n == 10 && ieq(seg[8], "agentPools")) {
			r->kind = R_POOL;
			r->pool = seg[9];
			route_name(r, method, "agentPools");
		} else if (n == 10 && ieq(seg[8], "operations")) {
			r->kind = R_CLUSTER_OP;
			r->opid = seg[9];
			snprintf(r->name, sizeof(r->name), "operations.get");
		} else if (n == 11 && ieq(seg[8], "agentPools") &&
		    ieq(seg[10], "upgradeNodeImageVersion")) {
			r->kind = R_POOL_UPGRADE;
			r->pool = seg[9];
			snprintf(r->name, sizeof(r->name),
			    "agentPools.upgradeNodeImageVersion");
		} else if (n == 12 && ieq(seg[8], "agentPools") &&
		    ieq(seg[10], "operations")) {
			r->kind = R_CLUSTER_OP;
			r->pool = seg[9];
			r->opid = seg[11];
			snprintf(r->name, sizeof(r->name), "operations.get");
		}
	}
}

/* YYYY-MM-DD or YYYY-MM-DD-preview, not older than ${min}. */
static int
api_version_ok(const char *v, const char *min)
{
	size_t i;

	if (strlen(v) != 10 &&
	    !(strlen(v) == 18 && strcmp(v + 10, "-preview") == 0))
		return 0;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (v[i] != '-')
				return 0;
		} else if (!isdigit((unsigned char)v[i])) {
			return 0;
		}
	}
	return strncmp(v, min, 10) >= 0;
}

static void
not_found(struct ctx *c, const char *type, const char *name, const char *rg)
{
	ctx_arm_error(c, 404, "ResourceNotFound",
	    "The Resource '" MSCS "/%s/%s' under resource group '%s' was not "
	    "found. " NOT_FOUND_FIX,
	    type, name, rg);
}

static json_t *
parse_body(struct ctx *c)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(c->body, c->body_len, 0, &jerr);
	if (!json_is_object(j)) {
		json_decref(j);
		ctx_arm_error(c, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be "
		    "deserialized: '%s'.",
		    jerr.text);
		return NULL;
	}
	return j;
}

static int
pool_is_busy(const struct pool *p)
{
	return p->busy || p->op_id[0] != '\0';
}

/* Next-page link: the same path with $skipToken. */
static void
set_next_link(struct ctx *c, json_t *out, unsigned long long token)
{
	char url[2048];

	snprintf(url, sizeof(url), "%s%s?api-version=%s&$skipToken=emu%llx",
	    c->base, c->path, c->api_version, token);
	json_object_set_new(out, "nextLink", json_string(url));
}

static unsigned long long
skip_token(struct ctx *c)
{
	const char *t = ctx_query(c, "$skipToken");

	if (t == NULL || strncmp(t, "emu", 3) != 0)
		return 0;
	return strtoull(t + 3, NULL, 16);
}

static void
list_clusters(struct ctx *c, const struct route *r)
{
	json_t *out = json_object(), *value = json_array();
	size_t i = (size_t)skip_token(c);
	int n = 0;

	for (; i < emu.nclusters; i++) {
		struct cluster *cl = emu.clusters[i];

		if (cl->deleted || strcasecmp(cl->sub, r->sub) != 0 ||
		    (r->rg != NULL && strcasecmp(cl->rg, r->rg) != 0))
			continue;
		if (n == emu.cfg.page_size) {
			set_next_link(c, out, i);
			break;
		}
		json_array_append_new(value, cluster_json(cl));
		n++;
	}
	json_object_set_new(out, "value", value);
	ctx_json(c, 200, out);
}

static void
list_snaps(struct ctx *c, const struct route *r)
{
	json_t *out = json_object(), *value = json_array();
	unsigned long long after = skip_token(c);
	size_t i;
	int n = 0;

	for (i = 0; i < emu.nsnaps; i++) {
		struct snapshot *s = emu.snaps[i];

		if (s->seq <= after || strcasecmp(s->sub, r->sub) != 0 ||
		    (r->rg != NULL && strcasecmp(s->rg, r->rg) != 0))
			continue;
		if (n == emu.cfg.page_size) {
			/* The token is the last snapshot given. */
			set_next_link(c, out, after);
			break;
		}
		json_array_append_new(value, snap_json(s));
		after = s->seq;
		n++;
	}
	json_object_set_new(out, "value", value);
	ctx_json(c, 200, out);
}

/*
 * The put_other lie: 201 with the body of another snapshot (the rule's
 * name, default "<asked>-other"): the one of that name in the resource
 * group if there is one, else what the PUT would have made under that
 * name.  Nothing is created.
 */
static void
put_other(struct ctx *c, const struct route *r, const struct pool *p,
    const char *loc, const char *src)
{
	struct snapshot tmp, *other;
	char name[192];

	if (c->lie_name[0] != '\0')
		snprintf(name, sizeof(name), "%s", c->lie_name);
	else
		snprintf(name, sizeof(name), "%s-other", r->snap);
	other = snap_find(r->sub, r->rg, name);
	if (other != NULL) {
		ctx_json(c, 201, snap_json(other));
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	snprintf(tmp.sub, sizeof(tmp.sub), "%s", r->sub);
	snprintf(tmp.rg, sizeof(tmp.rg), "%s", r->rg);
	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	snprintf(tmp.location, sizeof(tmp.location), "%s", loc);
	tmp.source_id = (char *)src;
	snprintf(tmp.kubernetes_version, sizeof(tmp.kubernetes_version), "%s",
	    p->current_orchestrator_version);
	snprintf(tmp.node_image_version, sizeof(tmp.node_image_version), "%s",
	    p->node_image_version);
	snprintf(tmp.os_type, sizeof(tmp.os_type), "%s", p->os_type);
	snprintf(tmp.os_sku, sizeof(tmp.os_sku), "%s", p->os_sku);
	snprintf(tmp.vm_size, sizeof(tmp.vm_size), "%s", p->vm_size);
	tmp.enable_fips = p->enable_fips;
	sim_time(tmp.created_at, sizeof(tmp.created_at));
	tmp.tags = json_object();
	ctx_json(c, 201, snap_json(&tmp));
	json_decref(tmp.tags);
}

static void
snapshot_put(
    struct ctx *c, const struct route *r, const char *who, const char *who_type)
{
	json_t *body, *tags, *cd, *st;
	const char *loc, *src, *psub, *prg, *pcl, *ppool;
	char idbuf[600];
	struct cluster *cl;
	struct pool *p;
	struct snapshot *s, **n;
	int created = 0;

	if (!emu_name_ok(r->snap)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value of parameter resourceName '%s' is invalid: it "
		    "must match '^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}"
		    "[a-zA-Z0-9]$'.",
		    r->snap);
		return;
	}
	body = parse_body(c);
	if (body == NULL)
		return;
	loc = json_string_value(json_object_get(body, "location"));
	tags = json_object_get(body, "tags");
	cd = json_object_get(
	    json_object_get(body, "properties"), "creationData");
	src = json_string_value(json_object_get(cd, "sourceResourceId"));
	if (loc == NULL || *loc == '\0') {
		ctx_arm_error(c, 400, "LocationRequired",
		    "The location property is required for this definition.");
		goto out;
	}
	if (tags != NULL && !json_is_object(tags) && !json_is_null(tags)) {
		ctx_arm_error(c, 400, "InvalidRequestContent",
		    "tags must be an object of strings.");
		goto out;
	}
	if (src == NULL || *src == '\0') {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value of parameter "
		    "properties.creationData.sourceResourceId is required.");
		goto out;
	}
	st = json_object_get(
	    json_object_get(body, "properties"), "snapshotType");
	if (st != NULL &&
	    (!json_is_string(st) ||
	        strcasecmp(json_string_value(st), "NodePool") != 0)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value of properties.snapshotType is invalid: the only "
		    "value is 'NodePool'.");
		goto out;
	}
	if (parse_id(src, idbuf, sizeof(idbuf), "managedClusters", "agentPools",
	        &psub, &prg, &pcl, &ppool) != 0) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value '%s' of properties.creationData."
		    "sourceResourceId is not an agent pool resource id.",
		    src);
		goto out;
	}
	cl = cluster_find(psub, prg, pcl);
	p = pool_find(cl, ppool);
	if (p == NULL) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The source agent pool '%s' of "
		    "properties.creationData.sourceResourceId was not found.",
		    src);
		goto out;
	}
	if (strcasecmp(cl->location, loc) != 0) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The snapshot location '%s' must be the same as the source "
		    "node pool's location '%s'.",
		    loc, cl->location);
		goto out;
	}
	if (pool_is_busy(p)) {
		ctx_arm_error(c, 409, "OperationNotAllowed", BUSY_MSG);
		goto out;
	}
	if (strcmp(c->lie, "put_empty") == 0) {
		/* A broken gateway's "Created" with nothing behind it. */
		ctx_json(c, 201, json_object());
		goto out;
	}
	if (strcmp(c->lie, "put_other") == 0) {
		put_other(c, r, p, loc, src);
		goto out;
	}
	s = snap_find(r->sub, r->rg, r->snap);
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		n = s ? realloc(emu.snaps, (emu.nsnaps + 1) * sizeof(*n))
		      : NULL;
		if (n == NULL) {
			free(s);
			ctx_arm_error(
			    c, 500, "InternalServerError", "out of memory");
			goto out;
		}
		emu.snaps = n;
		emu.snaps[emu.nsnaps++] = s;
		s->seq = ++emu.snap_seq;
		snprintf(s->sub, sizeof(s->sub), "%s", r->sub);
		snprintf(s->rg, sizeof(s->rg), "%s", r->rg);
		snprintf(s->name, sizeof(s->name), "%s", r->snap);
		snprintf(s->location, sizeof(s->location), "%s", loc);
		s->source_id = emu_strdup(src);
		snprintf(s->kubernetes_version, sizeof(s->kubernetes_version),
		    "%s", p->current_orchestrator_version);
		snprintf(s->node_image_version, sizeof(s->node_image_version),
		    "%s", p->node_image_version);
		snprintf(s->os_type, sizeof(s->os_type), "%s", p->os_type);
		snprintf(s->os_sku, sizeof(s->os_sku), "%s", p->os_sku);
		snprintf(s->vm_size, sizeof(s->vm_size), "%s", p->vm_size);
		s->enable_fips = p->enable_fips;
		sim_time(s->created_at, sizeof(s->created_at));
		snprintf(s->created_by, sizeof(s->created_by), "%s", who);
		snprintf(s->created_by_type, sizeof(s->created_by_type), "%s",
		    who_type);
		s->tags = json_object();
		created = 1;
	} else {
		/* A PUT to an existing name keeps its versions and createdAt.
		 */
		sim_time(s->modified_at, sizeof(s->modified_at));
	}
	json_decref(s->tags);
	s->tags = json_is_object(tags) ? json_deep_copy(tags) : json_object();
	ctx_json(c, created ? 201 : 200, snap_json(s));
out:
	json_decref(body);
}

static void
route_snapshot(
    struct ctx *c, const struct route *r, const char *who, const char *who_type)
{
	struct snapshot *s = snap_find(r->sub, r->rg, r->snap);
	json_t *body, *tags;

	if (strcmp(c->method, "PUT") == 0) {
		snapshot_put(c, r, who, who_type);
	} else if (strcmp(c->method, "GET") == 0) {
		if (s == NULL)
			not_found(c, "snapshots", r->snap, r->rg);
		else
			ctx_json(c, 200, snap_json(s));
	} else if (strcmp(c->method, "PATCH") == 0) {
		if (s == NULL) {
			not_found(c, "snapshots", r->snap, r->rg);
			return;
		}
		body = parse_body(c);
		if (body == NULL)
			return;
		tags = json_object_get(body, "tags");
		if (tags != NULL && !json_is_object(tags)) {
			ctx_arm_error(c, 400, "InvalidRequestContent",
			    "tags must be an object of strings.");
			json_decref(body);
			return;
		}
		if (strcmp(c->lie, "patch_noop") == 0) {
			/* 200 and the snapshot as it was: the tags asked
			 * for were dropped. */
			ctx_json(c, 200, snap_json(s));
			json_decref(body);
			return;
		}
		json_decref(s->tags);
		s->tags = tags ? json_deep_copy(tags) : json_object();
		sim_time(s->modified_at, sizeof(s->modified_at));
		ctx_json(c, 200, snap_json(s));
		json_decref(body);
	} else if (strcmp(c->method, "DELETE") == 0) {
		size_t i = snap_index(r->sub, r->rg, r->snap);

		if (strcmp(c->lie, "delete_noop") == 0) {
			c->status = 200; /* "deleted", and nothing was */
			return;
		}
		if (i == (size_t)-1) {
			c->status = 204;
			return;
		}
		snap_free(emu.snaps[i]);
		memmove(&emu.snaps[i], &emu.snaps[i + 1],
		    (emu.nsnaps - i - 1) * sizeof(*emu.snaps));
		emu.nsnaps--;
		c->status = 200;
	} else {
		ctx_arm_error(c, 405, "HttpMethodNotSupported",
		    "The http method '%s' is not supported for snapshots.",
		    c->method);
	}
}

/* Same VM family: the size with its first run of digits removed. */
static void
vm_family(const char *size, char *out, size_t len)
{
	size_t i = 0, n = 0;

	while (
	    size[i] != '\0' && !isdigit((unsigned char)size[i]) && n + 1 < len)
		out[n++] = (char)tolower((unsigned char)size[i++]);
	while (isdigit((unsigned char)size[i]))
		i++;
	while (size[i] != '\0' && n + 1 < len)
		out[n++] = (char)tolower((unsigned char)size[i++]);
	out[n] = '\0';
}

static int
version_ok(const char *v)
{
	int a, b, cc, k = 0;

	if (sscanf(v, "%d.%d.%d%n", &a, &b, &cc, &k) == 3 && v[k] == '\0')
		return 1;
	k = 0;
	return sscanf(v, "%d.%d%n", &a, &b, &k) == 2 && v[k] == '\0';
}

static const char *const pool_modeled[] = {"count", "vmSize", "osType", "osSKU",
    "mode", "orchestratorVersion", "currentOrchestratorVersion",
    "nodeImageVersion", "enableFIPS", "creationData", "provisioningState",
    "eTag", "name", NULL};

static json_t *
extra_props(json_t *props, const char *const *modeled)
{
	json_t *x = json_deep_copy(props);
	size_t i;

	if (x == NULL)
		return NULL;
	for (i = 0; modeled[i] != NULL; i++)
		json_object_del(x, modeled[i]);
	if (json_object_size(x) == 0) {
		json_decref(x);
		return NULL;
	}
	return x;
}

/* Resolve a snapshot id for an agent pool; answers the error itself. */
static struct snapshot *
source_snapshot(struct ctx *c, const char *id)
{
	char buf[600];
	const char *s, *g, *n;
	struct snapshot *sn;

	if (parse_id(id, buf, sizeof(buf), "snapshots", NULL, &s, &g, &n,
	        NULL) != 0) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value '%s' of creationData.sourceResourceId is not a "
		    "snapshot resource id.",
		    id);
		return NULL;
	}
	sn = snap_find(s, g, n);
	if (sn == NULL)
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The snapshot '%s' of creationData.sourceResourceId was "
		    "not found.",
		    id);
	return sn;
}

/*
 * A pool (or cluster) built from a snapshot must use a VM of the
 * snapshot's family (DOC-SNAP, Limitations); AKS refuses it otherwise.
 * Answers the 400 itself.
 */
static int
family_ok(struct ctx *c, const struct snapshot *sn, const char *vm)
{
	char fam1[64], fam2[64];

	vm_family(sn->vm_size, fam1, sizeof(fam1));
	vm_family(vm, fam2, sizeof(fam2));
	if (strcmp(fam1, fam2) == 0)
		return 1;
	ctx_arm_error(c, 400, "InvalidParameter",
	    "The VM size '%s' is not in the same family as the snapshot's VM "
	    "size '%s'.",
	    vm, sn->vm_size);
	return 0;
}

static void
version_unsupported(struct ctx *c, const char *code, const char *v)
{
	ctx_arm_error(c, 400, code,
	    "Version %s is not supported in this region. Please use [az aks "
	    "get-versions] command to get the supported version list in this "
	    "region. For more information, please check "
	    "https://aka.ms/supported-version-list",
	    v);
}

static int
minor_of(const char *v, int *major, int *minor)
{
	return sscanf(v, "%d.%d", major, minor) == 2 ? 0 : -1;
}

/*
 * An agent pool's version: offered in the cluster's location, not above
 * the control plane's minor, and not more minors below it than the skew
 * policy allows (three from 1.28 on, two before).  Answers the 400 itself.
 */
static int
pool_version_ok(struct ctx *c, const struct cluster *cl, const char *v)
{
	int pm, pn, cm, cn, skew;

	if (!kv_supported(cl->location, v)) {
		version_unsupported(c, "AgentPoolK8sVersionNotSupported", v);
		return 0;
	}
	if (minor_of(v, &pm, &pn) != 0 ||
	    minor_of(cl->kubernetes_version, &cm, &cn) != 0)
		return 1;
	skew = (cm == 1 && cn >= 28) ? 3 : 2;
	if (pm != cm || pn > cn || pn < cn - skew) {
		ctx_arm_error(c, 400, "NodePoolMcVersionIncompatible",
		    "Node pool version %s and control plane version %s are "
		    "incompatible. Minor version of node pool cannot be more "
		    "than %d versions less than control plane's version. Minor "
		    "version of node pool version %d bigger than control plane "
		    "version %d.",
		    v, cl->kubernetes_version, skew, pn, cn);
		return 0;
	}
	return 1;
}

static void
pool_put(struct ctx *c, struct cluster *cl, const struct route *r)
{
	json_t *body, *props, *v;
	const char *src, *orch, *vm;
	struct snapshot *sn = NULL;
	struct pool *p, *np;
	struct operation *op;
	char newimg[96] = "", neworch[24] = "";
	int created = 0;

	if (!emu_pool_name_ok(r->pool)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value of parameter agentPoolName '%s' is invalid: it "
		    "must match '^[a-z][a-z0-9]{0,11}$'.",
		    r->pool);
		return;
	}
	body = parse_body(c);
	if (body == NULL)
		return;
	props = json_object_get(body, "properties");
	if (!json_is_object(props)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The request body must have properties.");
		goto out;
	}
	src = json_string_value(json_object_get(
	    json_object_get(props, "creationData"), "sourceResourceId"));
	orch = json_string_value(json_object_get(props, "orchestratorVersion"));
	vm = json_string_value(json_object_get(props, "vmSize"));
	p = pool_find(cl, r->pool);
	if (p != NULL && pool_is_busy(p)) {
		ctx_arm_error(c, 409, "OperationNotAllowed", BUSY_MSG);
		goto out;
	}
	if (src != NULL && *src != '\0') {
		sn = source_snapshot(c, src);
		if (sn == NULL)
			goto out;
		if (!family_ok(c, sn, vm ? vm : (p ? p->vm_size : sn->vm_size)))
			goto out;
		snprintf(newimg, sizeof(newimg), "%s", sn->node_image_version);
	}
	if (orch != NULL && *orch != '\0') {
		if (!version_ok(orch)) {
			ctx_arm_error(c, 400, "InvalidParameter",
			    "The value of orchestratorVersion '%s' is invalid.",
			    orch);
			goto out;
		}
		snprintf(neworch, sizeof(neworch), "%s", orch);
	} else if (sn != NULL) {
		snprintf(
		    neworch, sizeof(neworch), "%s", sn->kubernetes_version);
	}
	if (neworch[0] != '\0' &&
	    (p == NULL ||
	        strcmp(neworch, p->current_orchestrator_version) != 0) &&
	    !pool_version_ok(c, cl, neworch))
		goto out;
	if (p == NULL) {
		np = realloc(cl->pools, (cl->npools + 1) * sizeof(*cl->pools));
		if (np == NULL) {
			ctx_arm_error(
			    c, 500, "InternalServerError", "out of memory");
			goto out;
		}
		cl->pools = np;
		p = &cl->pools[cl->npools++];
		pool_defaults(p, r->pool, cl->npools == 1,
		    neworch[0] ? neworch : cl->kubernetes_version);
		snprintf(p->mode, sizeof(p->mode), "User");
		if (cl->npools > 1)
			snprintf(p->latest_image, sizeof(p->latest_image), "%s",
			    cl->pools[0].latest_image);
		snprintf(p->node_image_version, sizeof(p->node_image_version),
		    "%s", newimg[0] ? newimg : p->latest_image);
		if (strcmp(c->lie, "lro_noop") == 0) {
			/* Made as if no snapshot had been asked for. */
			snprintf(p->node_image_version,
			    sizeof(p->node_image_version), "%s",
			    p->latest_image);
			snprintf(p->orchestrator_version,
			    sizeof(p->orchestrator_version), "%s",
			    cl->kubernetes_version);
			snprintf(p->current_orchestrator_version,
			    sizeof(p->current_orchestrator_version), "%s",
			    cl->kubernetes_version);
		}
		if (sn != NULL) {
			snprintf(
			    p->vm_size, sizeof(p->vm_size), "%s", sn->vm_size);
			snprintf(
			    p->os_type, sizeof(p->os_type), "%s", sn->os_type);
			snprintf(
			    p->os_sku, sizeof(p->os_sku), "%s", sn->os_sku);
			p->enable_fips = sn->enable_fips;
			p->source_id = emu_strdup(src);
		}
		created = 1;
	}
	if ((v = json_object_get(props, "count")) != NULL)
		p->count = (int)json_integer_value(v);
	if (created && vm != NULL)
		snprintf(p->vm_size, sizeof(p->vm_size), "%s", vm);
	if ((v = json_object_get(props, "mode")) != NULL && json_is_string(v))
		snprintf(p->mode, sizeof(p->mode), "%s", json_string_value(v));
	if (created && (v = json_object_get(props, "osType")) != NULL &&
	    json_is_string(v))
		snprintf(
		    p->os_type, sizeof(p->os_type), "%s", json_string_value(v));
	if (created && (v = json_object_get(props, "osSKU")) != NULL &&
	    json_is_string(v))
		snprintf(
		    p->os_sku, sizeof(p->os_sku), "%s", json_string_value(v));
	if (created && (v = json_object_get(props, "enableFIPS")) != NULL)
		p->enable_fips = json_is_true(v);
	json_decref(p->extra);
	p->extra = extra_props(props, pool_modeled);
	op = op_new(cl, p->name, OP_POOL_PUT, NULL);
	if (op == NULL) {
		ctx_arm_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	if (created) {
		snprintf(op->new_image, sizeof(op->new_image), "%s",
		    p->node_image_version);
		snprintf(p->provisioning_state, sizeof(p->provisioning_state),
		    "Creating");
	} else {
		if (newimg[0] == '\0' && neworch[0] != '\0' &&
		    strcmp(neworch, p->current_orchestrator_version) != 0)
			snprintf(newimg, sizeof(newimg), "%s", p->latest_image);
		snprintf(op->new_image, sizeof(op->new_image), "%s", newimg);
		snprintf(op->new_orchestrator, sizeof(op->new_orchestrator),
		    "%s", neworch);
		if (sn != NULL)
			op->new_source = emu_strdup(src);
		snprintf(p->provisioning_state, sizeof(p->provisioning_state),
		    "%s",
		    (sn != NULL ||
		        (neworch[0] != '\0' &&
		            strcmp(neworch, p->current_orchestrator_version) !=
		                0))
		        ? "Upgrading"
		        : "Updating");
		if (neworch[0] != '\0' && strcmp(c->lie, "lro_noop") != 0)
			snprintf(p->orchestrator_version,
			    sizeof(p->orchestrator_version), "%s", neworch);
	}
	snprintf(p->op_id, sizeof(p->op_id), "%s", op->id);
	new_etag(p->etag);
	ctx_json(c, created ? 201 : 200, pool_json(cl, p));
	lro_headers(c, op, 0);
	op_started(c, op);
out:
	json_decref(body);
}

static void
pool_upgrade_image(struct ctx *c, struct cluster *cl, struct pool *p)
{
	const char *sid = ctx_request_header(c, "AKSSnapshotId");
	struct snapshot *sn = NULL;
	struct operation *op;
	const char *target;

	if (pool_is_busy(p)) {
		ctx_arm_error(c, 409, "OperationNotAllowed", BUSY_MSG);
		return;
	}
	if (sid != NULL && *sid != '\0') {
		sn = source_snapshot(c, sid);
		if (sn == NULL || !family_ok(c, sn, p->vm_size))
			return;
		target = sn->node_image_version;
	} else {
		target = p->latest_image;
	}
	if (sn == NULL && strcmp(target, p->node_image_version) == 0) {
		c->status = 200; /* already on the latest image */
		return;
	}
	op = op_new(cl, p->name, OP_POOL_UPGRADE_IMAGE, NULL);
	if (op == NULL) {
		ctx_arm_error(c, 500, "InternalServerError", "out of memory");
		return;
	}
	snprintf(op->new_image, sizeof(op->new_image), "%s", target);
	if (sn != NULL)
		op->new_source = emu_strdup(sid);
	snprintf(p->op_id, sizeof(p->op_id), "%s", op->id);
	snprintf(p->provisioning_state, sizeof(p->provisioning_state),
	    "UpgradingNodeImageVersion");
	ctx_json(c, 202, pool_json(cl, p));
	lro_headers(c, op, 1);
	op_started(c, op);
}

static void
pool_delete(struct ctx *c, struct cluster *cl, struct pool *p)
{
	struct operation *op;

	if (p == NULL) {
		c->status = 204;
		return;
	}
	if (pool_is_busy(p)) {
		ctx_arm_error(c, 409, "OperationNotAllowed", BUSY_MSG);
		return;
	}
	op = op_new(cl, p->name, OP_POOL_DELETE, NULL);
	if (op == NULL) {
		ctx_arm_error(c, 500, "InternalServerError", "out of memory");
		return;
	}
	snprintf(p->op_id, sizeof(p->op_id), "%s", op->id);
	snprintf(
	    p->provisioning_state, sizeof(p->provisioning_state), "Deleting");
	c->status = 202;
	lro_headers(c, op, 1);
	op_started(c, op);
}

static const char *const cluster_modeled[] = {"agentPoolProfiles",
    "kubernetesVersion", "currentKubernetesVersion", "provisioningState",
    "autoUpgradeProfile", NULL};

static int
one_of(const char *v, const char *const *allowed)
{
	size_t i;

	for (i = 0; allowed[i] != NULL; i++)
		if (strcasecmp(v, allowed[i]) == 0)
			return 1;
	return 0;
}

/* The enums of ManagedClusterAutoUpgradeProfile; answers 400 itself. */
static int
auto_profile_ok(struct ctx *c, json_t *prof)
{
	static const char *const up[] = {
	    "rapid", "stable", "patch", "node-image", "none", NULL};
	static const char *const os[] = {
	    "None", "Unmanaged", "NodeImage", "SecurityPatch", NULL};
	const char *u, *o;

	if (prof == NULL || json_is_null(prof))
		return 1;
	if (!json_is_object(prof)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "properties.autoUpgradeProfile must be an object.");
		return 0;
	}
	u = json_string_value(json_object_get(prof, "upgradeChannel"));
	o = json_string_value(json_object_get(prof, "nodeOSUpgradeChannel"));
	if (u != NULL && !one_of(u, up)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value '%s' of properties.autoUpgradeProfile."
		    "upgradeChannel is not one of rapid, stable, patch, "
		    "node-image, none.",
		    u);
		return 0;
	}
	if (o != NULL && !one_of(o, os)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value '%s' of properties.autoUpgradeProfile."
		    "nodeOSUpgradeChannel is not one of None, Unmanaged, "
		    "NodeImage, SecurityPatch.",
		    o);
		return 0;
	}
	return 1;
}

/* A new cluster's version must be offered in its location. */
static int
version_for_new_cluster(struct ctx *c, const char *loc, const char *k8s)
{
	if (k8s == NULL || kv_supported(loc, k8s))
		return 1;
	version_unsupported(c, "K8sVersionNotSupported", k8s);
	return 0;
}

/* Each profile built from a snapshot has a VM size of the snapshot's
 * family. */
static int
profiles_family_ok(struct ctx *c, json_t *profiles)
{
	json_t *jp;
	size_t i;

	json_array_foreach(profiles, i, jp)
	{
		const char *src = json_string_value(json_object_get(
		    json_object_get(jp, "creationData"), "sourceResourceId"));
		const char *vm = jstr(jp, "vmSize", NULL);
		struct snapshot *sn;

		if (src == NULL || *src == '\0')
			continue;
		sn = source_snapshot(c, src);
		if (sn == NULL)
			return 0;
		if (vm != NULL && !family_ok(c, sn, vm))
			return 0;
	}
	return 1;
}

static void
cluster_put(struct ctx *c, const struct route *r, struct cluster *cl)
{
	json_t *body, *props, *profiles, *jp, *x, *v;
	const char *loc, *k8s;
	struct operation *op;
	size_t i;
	int created = 0;

	if (!emu_name_ok(r->cluster)) {
		ctx_arm_error(c, 400, "InvalidParameter",
		    "The value of parameter resourceName '%s' is invalid.",
		    r->cluster);
		return;
	}
	body = parse_body(c);
	if (body == NULL)
		return;
	props = json_object_get(body, "properties");
	loc = json_string_value(json_object_get(body, "location"));
	k8s = json_string_value(json_object_get(props, "kubernetesVersion"));
	profiles = json_object_get(props, "agentPoolProfiles");
	if (loc == NULL || *loc == '\0') {
		ctx_arm_error(c, 400, "LocationRequired",
		    "The location property is required for this definition.");
		goto out;
	}
	if (!auto_profile_ok(c, json_object_get(props, "autoUpgradeProfile")))
		goto out;
	if (cl != NULL) {
		for (i = 0; i < cl->npools; i++) {
			if (pool_is_busy(&cl->pools[i])) {
				ctx_arm_error(
				    c, 409, "OperationNotAllowed", BUSY_MSG);
				goto out;
			}
		}
	} else {
		struct snapshot *sn0 = NULL;
		const char *src0;

		if (json_array_size(profiles) == 0) {
			ctx_arm_error(c, 400, "InvalidParameter",
			    "properties.agentPoolProfiles must hold at least "
			    "one agent pool.");
			goto out;
		}
		src0 = json_string_value(
		    json_object_get(json_object_get(json_array_get(profiles, 0),
		                        "creationData"),
		        "sourceResourceId"));
		if (src0 != NULL && *src0 != '\0') {
			sn0 = source_snapshot(c, src0);
			if (sn0 == NULL)
				goto out;
		}
		if (!version_for_new_cluster(c, loc,
		        (k8s && *k8s) ? k8s
		                      : (sn0 ? sn0->kubernetes_version : NULL)))
			goto out;
		if (!profiles_family_ok(c, profiles))
			goto out;
		cl = cluster_new(r->sub, r->rg, r->cluster, loc,
		    (k8s && *k8s) ? k8s
		                  : (sn0 ? sn0->kubernetes_version : "1.30.5"),
		    json_array_size(profiles));
		if (cl == NULL) {
			ctx_arm_error(
			    c, 500, "InternalServerError", "out of memory");
			goto out;
		}
		/* A new cluster's node OS channel defaults to NodeImage
		 * (any api-version since 2022-06-01), upgradeChannel to none
		 * (left out of the answer). */
		cl->has_auto = 1;
		snprintf(cl->node_os_channel, sizeof(cl->node_os_channel),
		    "NodeImage");
		json_array_foreach(profiles, i, jp)
		{
			struct pool *p = &cl->pools[cl->npools];
			const char *pname = jstr(jp, "name", "");
			const char *src = json_string_value(
			    json_object_get(json_object_get(jp, "creationData"),
			        "sourceResourceId"));
			struct snapshot *sn = NULL;

			if (!emu_pool_name_ok(pname))
				continue;
			if (load_pool(cl, p, jp, i == 0) != 0)
				continue;
			if (src != NULL && *src != '\0') {
				char b[600];
				const char *s, *g, *n;

				if (parse_id(src, b, sizeof(b), "snapshots",
				        NULL, &s, &g, &n, NULL) == 0)
					sn = snap_find(s, g, n);
			}
			/* lro_noop: made as if no snapshot had been asked
			 * for (the latest image). */
			if (sn != NULL && strcmp(c->lie, "lro_noop") != 0) {
				snprintf(p->node_image_version,
				    sizeof(p->node_image_version), "%s",
				    sn->node_image_version);
				snprintf(p->os_sku, sizeof(p->os_sku), "%s",
				    sn->os_sku);
				p->source_id = emu_strdup(src);
			}
			snprintf(p->provisioning_state,
			    sizeof(p->provisioning_state), "Creating");
			p->extra = extra_props(jp, pool_modeled);
			cl->npools++;
		}
		created = 1;
	}
	if (k8s != NULL && *k8s != '\0')
		snprintf(cl->kubernetes_version, sizeof(cl->kubernetes_version),
		    "%s", k8s);
	cluster_set_auto(cl, json_object_get(props, "autoUpgradeProfile"));
	if ((v = json_object_get(body, "tags")) != NULL && json_is_object(v)) {
		json_decref(cl->tags);
		cl->tags = json_deep_copy(v);
	}
	if ((v = json_object_get(body, "sku")) != NULL && json_is_object(v)) {
		json_decref(cl->sku);
		cl->sku = json_deep_copy(v);
	}
	/* Echo the other properties, without the secrets ARM never returns. */
	x = json_is_object(props) ? extra_props(props, cluster_modeled) : NULL;
	json_object_del(
	    json_object_get(x, "servicePrincipalProfile"), "secret");
	json_object_del(json_object_get(x, "windowsProfile"), "adminPassword");
	json_decref(cl->extra);
	cl->extra = x;
	op = op_new(cl, NULL, OP_CLUSTER_PUT, NULL);
	if (op == NULL) {
		ctx_arm_error(c, 500, "InternalServerError", "out of memory");
		goto out;
	}
	snprintf(cl->provisioning_state, sizeof(cl->provisioning_state), "%s",
	    created ? "Creating" : "Updating");
	for (i = 0; created && i < cl->npools; i++)
		snprintf(cl->pools[i].op_id, sizeof(cl->pools[i].op_id), "%s",
		    op->id);
	new_etag(cl->etag);
	ctx_json(c, created ? 201 : 200, cluster_json(cl));
	lro_headers(c, op, 0);
	op_started(c, op);
out:
	json_decref(body);
}

static void
route_op(struct ctx *c, const struct route *r)
{
	struct operation *op = op_find(r->opid);
	char id[512], ra[16];

	if (op == NULL) {
		ctx_arm_error(c, 404, "NotFound",
		    "The operation '%s' was not found.", r->opid);
		return;
	}
	op_poll(op);
	if (r->kind == R_CLUSTER_OP)
		snprintf(id, sizeof(id),
		    "/subscriptions/%s/resourceGroups/%s/providers/" MSCS
		    "/managedClusters/%s/operations/%s",
		    op->sub, op->rg, op->cluster, op->id);
	else
		snprintf(id, sizeof(id),
		    "/providers/" MSCS "/locations/%s/operations/%s",
		    op->location, op->id);
	if (r->kind == R_OP_RESULT) {
		struct cluster *cl;
		struct pool *p;

		if (op->done == 0) {
			char url[1024];

			snprintf(url, sizeof(url), "%s%s?api-version=%s",
			    c->base, c->path, c->api_version);
			c->status = 202;
			ctx_header(c, "Location", url);
		} else if (op->done == 2) {
			ctx_arm_error(c, 400, op->fail_code,
			    "The operation failed (injected by armemu).");
		} else {
			cl = cluster_find(op->sub, op->rg, op->cluster);
			p = pool_find(cl, op->pool);
			if (op->kind == OP_POOL_DELETE || cl == NULL)
				c->status = 204;
			else if (p != NULL)
				ctx_json(c, 200, pool_json(cl, p));
			else
				ctx_json(c, 200, cluster_json(cl));
		}
	} else {
		ctx_json(c, 200, op_json(op, id));
	}
	if (op->done == 0) {
		snprintf(ra, sizeof(ra), "%d", emu.cfg.retry_after);
		ctx_header(c, "Retry-After", ra);
	}
}

/*
 * With --lro-headers none the client can only watch the pool, so each GET
 * of a pool counts as one poll of the operation it is running (which may
 * end it: a finished delete leaves ${*pp} NULL).
 */
static void
pool_get_advance(struct cluster *cl, struct pool **pp)
{
	struct operation *op;
	char name[16];

	if (emu.cfg.lro_headers != LRO_NONE || (*pp)->op_id[0] == '\0')
		return;
	op = op_find((*pp)->op_id);
	if (op == NULL)
		return;
	snprintf(name, sizeof(name), "%s", (*pp)->name);
	op_poll(op);
	*pp = pool_find(cl, name);
}

void
arm_dispatch(struct ctx *c, const struct route *r)
{
	char who[128], who_type[24];
	struct cluster *cl;
	struct pool *p;
	const char *minv = "2021-08-01";

	if (r->kind == R_NONE) {
		ctx_arm_error(c, 404, "NotFound",
		    "No HTTP resource was found that matches the request URI "
		    "'%s'.",
		    c->path);
		return;
	}
	if (token_check(c, who, sizeof(who), who_type, sizeof(who_type)) != 0)
		return;
	if (r->kind == R_OP_STATUS || r->kind == R_OP_RESULT)
		minv = "2015-01-01";
	if (c->api_version == NULL || *c->api_version == '\0') {
		ctx_arm_error(c, 400, "MissingApiVersionParameter",
		    "The api-version query parameter (?api-version=) is "
		    "required for all requests.");
		return;
	}
	if (!api_version_ok(c->api_version, minv)) {
		ctx_arm_error(c, 400, "InvalidApiVersionParameter",
		    "The api-version '%s' is invalid. The supported versions "
		    "are '2026-08-01,2026-07-02-preview,...,2021-08-01'.",
		    c->api_version);
		return;
	}
	if (r->sub != NULL) {
		snprintf(c->sub, sizeof(c->sub), "%s", r->sub);
		if (!sub_known(r->sub)) {
			ctx_arm_error(c, 404, "SubscriptionNotFound",
			    "The subscription '%s' could not be found.",
			    r->sub);
			return;
		}
	}
	if (r->rg != NULL && rg_find(r->sub, r->rg) == NULL) {
		ctx_arm_error(c, 404, "ResourceGroupNotFound",
		    "Resource group '%s' could not be found.", r->rg);
		return;
	}
	switch (r->kind) {
	case R_CLUSTERS_LIST_SUB:
	case R_CLUSTERS_LIST_RG:
		if (strcmp(c->method, "GET") != 0)
			break;
		list_clusters(c, r);
		return;
	case R_SNAPS_LIST_SUB:
	case R_SNAPS_LIST_RG:
		if (strcmp(c->method, "GET") != 0)
			break;
		list_snaps(c, r);
		return;
	case R_SNAP:
		route_snapshot(c, r, who, who_type);
		return;
	case R_KUBERNETES_VERSIONS:
		if (strcmp(c->method, "GET") != 0)
			break;
		ctx_json(c, 200, kv_json(r->loc));
		return;
	case R_OP_STATUS:
	case R_OP_RESULT:
	case R_CLUSTER_OP:
		if (strcmp(c->method, "GET") != 0)
			break;
		route_op(c, r);
		return;
	default:
		break;
	}
	cl = r->cluster ? cluster_find(r->sub, r->rg, r->cluster) : NULL;
	if (r->kind == R_CLUSTER && strcmp(c->method, "PUT") == 0) {
		cluster_put(c, r, cl);
		return;
	}
	if (cl == NULL && r->cluster != NULL) {
		not_found(c, "managedClusters", r->cluster, r->rg);
		return;
	}
	p = r->pool ? pool_find(cl, r->pool) : NULL;
	if (r->kind == R_CLUSTER && strcmp(c->method, "GET") == 0) {
		ctx_json(c, 200, cluster_json(cl));
		return;
	}
	if (r->kind == R_POOLS_LIST && strcmp(c->method, "GET") == 0) {
		json_t *v = json_array();
		size_t i;

		for (i = 0; i < cl->npools; i++)
			json_array_append_new(v, pool_json(cl, &cl->pools[i]));
		ctx_json(c, 200, json_pack("{s:o}", "value", v));
		return;
	}
	if (r->kind == R_POOL && strcmp(c->method, "PUT") == 0) {
		pool_put(c, cl, r);
		return;
	}
	if (r->kind == R_POOL && strcmp(c->method, "DELETE") == 0) {
		pool_delete(c, cl, p);
		return;
	}
	if (r->kind == R_POOL || r->kind == R_POOL_UPGRADE) {
		char nm[200];

		if (p == NULL) {
			snprintf(nm, sizeof(nm), "%s/agentPools/%s", cl->name,
			    r->pool);
			not_found(c, "managedClusters", nm, r->rg);
			return;
		}
		if (r->kind == R_POOL && strcmp(c->method, "GET") == 0) {
			pool_get_advance(cl, &p);
			if (p == NULL) {
				snprintf(nm, sizeof(nm), "%s/agentPools/%s",
				    cl->name, r->pool);
				not_found(c, "managedClusters", nm, r->rg);
				return;
			}
			ctx_json(c, 200, pool_json(cl, p));
			return;
		}
		if (r->kind == R_POOL_UPGRADE &&
		    strcmp(c->method, "POST") == 0) {
			pool_upgrade_image(c, cl, p);
			return;
		}
	}
	ctx_arm_error(c, 405, "HttpMethodNotSupported",
	    "The http method '%s' is not supported for this resource.",
	    c->method);
}

/* ------------------------------------------------------------------ */
/* control                                                            */

json_t *
state_dump(void)
{
	json_t *pools = json_array(), *snaps = json_array(),
	       *ops = json_array();
	json_t *clusters = json_array();
	size_t i, j;
	char now[40];

	for (i = 0; i < emu.nclusters; i++) {
		struct cluster *c = emu.clusters[i];

		if (c->deleted)
			continue;
		json_array_append_new(clusters,
		    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s?,s:s?}",
		        "subscription", c->sub, "resourceGroup", c->rg, "name",
		        c->name, "location", c->location, "kubernetesVersion",
		        c->kubernetes_version, "provisioningState",
		        c->provisioning_state, "pools", (json_int_t)c->npools,
		        "upgradeChannel",
		        c->upgrade_channel[0] ? c->upgrade_channel : NULL,
		        "nodeOSUpgradeChannel",
		        c->node_os_channel[0] ? c->node_os_channel : NULL));
		for (j = 0; j < c->npools; j++) {
			struct pool *p = &c->pools[j];
			char id[512];

			snprintf(id, sizeof(id),
			    "/subscriptions/%s/resourceGroups/%s/"
			    "providers/" MSCS
			    "/managedClusters/%s/agentPools/%s",
			    c->sub, c->rg, c->name, p->name);
			json_array_append_new(pools,
			    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
			              "s:s,s:s,s:s,s:s,s:i,s:b,s:s,s:b,s:s,"
			              "s:s}",
			        "id", id, "subscription", c->sub,
			        "resourceGroup", c->rg, "cluster", c->name,
			        "name", p->name, "location", c->location,
			        "orchestratorVersion", p->orchestrator_version,
			        "currentOrchestratorVersion",
			        p->current_orchestrator_version,
			        "nodeImageVersion", p->node_image_version,
			        "latestNodeImageVersion", p->latest_image,
			        "osType", p->os_type, "osSku", p->os_sku,
			        "vmSize", p->vm_size, "count", p->count,
			        "enableFIPS", p->enable_fips,
			        "provisioningState", p->provisioning_state,
			        "busy", pool_is_busy(p), "operationId",
			        p->op_id, "sourceResourceId",
			        p->source_id ? p->source_id : ""));
		}
	}
	for (i = 0; i < emu.nsnaps; i++) {
		json_t *s = snap_json(emu.snaps[i]);

		json_object_set_new(
		    s, "subscription", json_string(emu.snaps[i]->sub));
		json_object_set_new(
		    s, "resourceGroup", json_string(emu.snaps[i]->rg));
		json_object_set_new(
		    s, "createdAt", json_string(emu.snaps[i]->created_at));
		json_array_append_new(snaps, s);
	}
	for (i = 0; i < emu.nops; i++) {
		struct operation *op = emu.ops[i];

		json_array_append_new(ops,
		    json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}", "id", op->id,
		        "cluster", op->cluster, "pool", op->pool, "status",
		        op->done == 0
		            ? "InProgress"
		            : (op->done == 1 ? "Succeeded" : "Failed"),
		        "polls", op->polls, "startTime", op->start_time));
	}
	emu_format_time(emu_sim_now(), 3, now, sizeof(now));
	return json_pack("{s:s,s:o,s:o,s:o,s:o}", "now", now, "clusters",
	    clusters, "pools", pools, "snapshots", snaps, "operations", ops);
}

static int
sel_match(json_t *req, const char *key, const char *value)
{
	const char *s = json_string_value(json_object_get(req, key));

	return s == NULL || strcasecmp(s, value) == 0;
}

int
control_release(json_t *req, char *err, size_t errlen, int *npools)
{
	const char *img =
	    json_string_value(json_object_get(req, "nodeImageVersion"));
	const char *k8s =
	    json_string_value(json_object_get(req, "kubernetesVersion"));
	json_t *apply = json_object_get(req, "apply");
	int do_apply = apply == NULL || json_is_true(apply);
	size_t i, j;

	if (k8s != NULL && !version_ok(k8s)) {
		snprintf(
		    err, errlen, "kubernetesVersion '%s' is not X.Y.Z", k8s);
		return -1;
	}
	*npools = 0;
	for (i = 0; i < emu.nclusters; i++) {
		struct cluster *c = emu.clusters[i];

		if (c->deleted || !sel_match(req, "subscription", c->sub) ||
		    !sel_match(req, "resourceGroup", c->rg) ||
		    !sel_match(req, "cluster", c->name))
			continue;
		for (j = 0; j < c->npools; j++) {
			struct pool *p = &c->pools[j];
			char next[96];

			if (!sel_match(req, "pool", p->name))
				continue;
			if (img != NULL)
				snprintf(next, sizeof(next), "%s", img);
			else
				emu_bump_image(
				    p->latest_image, next, sizeof(next));
			snprintf(p->latest_image, sizeof(p->latest_image), "%s",
			    next);
			if (do_apply) {
				snprintf(p->node_image_version,
				    sizeof(p->node_image_version), "%s", next);
				if (k8s != NULL) {
					snprintf(p->orchestrator_version,
					    sizeof(p->orchestrator_version),
					    "%s", k8s);
					snprintf(
					    p->current_orchestrator_version,
					    sizeof(
					        p->current_orchestrator_version),
					    "%s", k8s);
					if (strcmp(k8s, c->kubernetes_version) >
					    0)
						snprintf(c->kubernetes_version,
						    sizeof(
						        c->kubernetes_version),
						    "%s", k8s);
				}
				new_etag(p->etag);
			}
			(*npools)++;
		}
	}
	if (*npools == 0) {
		snprintf(err, errlen, "no pool matches");
		return -1;
	}
	return 0;
}

static struct cluster *
control_cluster(json_t *req, char *err, size_t errlen)
{
	const char *sub =
	    json_string_value(json_object_get(req, "subscription"));
	const char *rg =
	    json_string_value(json_object_get(req, "resourceGroup"));
	const char *name = json_string_value(json_object_get(req, "cluster"));
	size_t i;

	for (i = 0; i < emu.nclusters && name != NULL; i++) {
		struct cluster *c = emu.clusters[i];

		if (!c->deleted && strcasecmp(c->name, name) == 0 &&
		    (rg == NULL || strcasecmp(c->rg, rg) == 0) &&
		    (sub == NULL || strcasecmp(c->sub, sub) == 0))
			return c;
	}
	snprintf(
	    err, errlen, "no cluster %s", name ? name : "(cluster missing)");
	return NULL;
}

int
control_busy(json_t *req, char *err, size_t errlen, char *opid, size_t opidlen)
{
	struct cluster *c = control_cluster(req, err, errlen);
	const char *pname = json_string_value(json_object_get(req, "pool"));
	json_t *busy = json_object_get(req, "busy");
	struct pool *p;
	struct operation *op;

	if (c == NULL)
		return -1;
	p = pool_find(c, pname ? pname : "");
	if (p == NULL) {
		snprintf(err, errlen, "no pool %s in %s", pname ? pname : "",
		    c->name);
		return -1;
	}
	if (busy == NULL || json_is_true(busy)) {
		op = op_new(c, p->name, OP_CONTROL_BUSY,
		    json_string_value(json_object_get(req, "operationId")));
		if (op == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		p->busy = 1;
		snprintf(p->op_id, sizeof(p->op_id), "%s", op->id);
		snprintf(p->provisioning_state, sizeof(p->provisioning_state),
		    "Updating");
		snprintf(opid, opidlen, "%s", op->id);
		return 0;
	}
	op = p->op_id[0] ? op_find(p->op_id) : NULL;
	snprintf(opid, opidlen, "%s", p->op_id);
	if (op != NULL)
		op_finish(op);
	p->busy = 0;
	p->op_id[0] = '\0';
	snprintf(
	    p->provisioning_state, sizeof(p->provisioning_state), "Succeeded");
	return 0;
}

int
control_cluster_delete(json_t *req, char *err, size_t errlen)
{
	struct cluster *c = control_cluster(req, err, errlen);

	if (c == NULL)
		return -1;
	c->deleted = 1;
	return 0;
}

int
control_auto_upgrade_profile(json_t *req, char *err, size_t errlen)
{
	struct cluster *c = control_cluster(req, err, errlen);
	json_t *prof = json_object();
	int rc = 0;

	if (c == NULL) {
		json_decref(prof);
		return -1;
	}
	if (json_object_get(req, "upgradeChannel") != NULL)
		json_object_set(prof, "upgradeChannel",
		    json_object_get(req, "upgradeChannel"));
	if (json_object_get(req, "nodeOSUpgradeChannel") != NULL)
		json_object_set(prof, "nodeOSUpgradeChannel",
		    json_object_get(req, "nodeOSUpgradeChannel"));
	if (json_is_true(json_object_get(req, "remove"))) {
		c->has_auto = 0;
		c->upgrade_channel[0] = '\0';
		c->node_os_channel[0] = '\0';
	} else if (json_object_size(prof) == 0) {
		snprintf(err, errlen,
		    "give upgradeChannel and/or nodeOSUpgradeChannel, or "
		    "remove: true");
		rc = -1;
	} else {
		cluster_set_auto(c, prof);
		new_etag(c->etag);
	}
	json_decref(prof);
	return rc;
}

/* Does this cluster's profile re-image its nodes on the weekly run? */
static int
channel_reimages(const struct cluster *c)
{
	if (!c->has_auto)
		return 0;
	if (strcasecmp(c->node_os_channel, "NodeImage") == 0 ||
	    strcasecmp(c->node_os_channel, "SecurityPatch") == 0)
		return 1;
	return c->upgrade_channel[0] != '\0' &&
	    strcasecmp(c->upgrade_channel, "none") != 0;
}

/* upgradeChannel patch|stable|rapid: the newest patch of the minor. */
static void
channel_moves_kubernetes(struct cluster *c)
{
	const char *to;
	size_t j;

	if (!c->has_auto || c->upgrade_channel[0] == '\0' ||
	    strcasecmp(c->upgrade_channel, "none") == 0 ||
	    strcasecmp(c->upgrade_channel, "node-image") == 0)
		return;
	to = kv_newest_patch(c->location, c->kubernetes_version);
	if (to == NULL || strcmp(to, c->kubernetes_version) == 0)
		return;
	snprintf(
	    c->kubernetes_version, sizeof(c->kubernetes_version), "%s", to);
	for (j = 0; j < c->npools; j++) {
		struct pool *p = &c->pools[j];
		const char *pt = kv_newest_patch(
		    c->location, p->current_orchestrator_version);

		if (pt == NULL)
			continue;
		snprintf(p->orchestrator_version,
		    sizeof(p->orchestrator_version), "%s", pt);
		snprintf(p->current_orchestrator_version,
		    sizeof(p->current_orchestrator_version), "%s", pt);
	}
}

int
control_weekly_upgrade(
    json_t *req, char *err, size_t errlen, int *released, int *reimaged)
{
	const char *img =
	    json_string_value(json_object_get(req, "nodeImageVersion"));
	json_t *rel = json_object_get(req, "release");
	int do_release = rel == NULL || json_is_true(rel);
	size_t i, j;

	*released = 0;
	*reimaged = 0;
	for (i = 0; i < emu.nclusters; i++) {
		struct cluster *c = emu.clusters[i];
		int moves;

		if (c->deleted || !sel_match(req, "subscription", c->sub) ||
		    !sel_match(req, "resourceGroup", c->rg) ||
		    !sel_match(req, "cluster", c->name))
			continue;
		moves = channel_reimages(c);
		if (moves)
			channel_moves_kubernetes(c);
		for (j = 0; j < c->npools; j++) {
			struct pool *p = &c->pools[j];

			if (!sel_match(req, "pool", p->name))
				continue;
			if (do_release) {
				char next[96];

				if (img != NULL)
					snprintf(next, sizeof(next), "%s", img);
				else
					emu_bump_image(p->latest_image, next,
					    sizeof(next));
				snprintf(p->latest_image,
				    sizeof(p->latest_image), "%s", next);
				(*released)++;
			}
			/* A pool busy with an operation is re-imaged next
			 * week, as a maintenance window would skip it. */
			if (!moves || pool_is_busy(p) ||
			    strcmp(p->node_image_version, p->latest_image) == 0)
				continue;
			snprintf(p->node_image_version,
			    sizeof(p->node_image_version), "%s",
			    p->latest_image);
			new_etag(p->etag);
			(*reimaged)++;
		}
	}
	if (*released == 0 && *reimaged == 0 && do_release) {
		snprintf(err, errlen, "no pool matches");
		return -1;
	}
	return 0;
}
