#ifndef AKSNAP_APPLY_CHECKS_H
#define AKSNAP_APPLY_CHECKS_H

/*
 * apply_checks.h -- the refusals of `aksnap apply` (DESIGN.md section 6,
 * "Apply"), decided before anything is sent to Azure.
 *
 * Pure: the caller passes the snapshot (as Azure holds it, and its state
 * in the store), the target pool (as Azure holds it) and the time; the
 * answer is one result per check, each with its reason.  Nothing here
 * reads the clock, the store or the network.
 */

#include <stddef.h>
#include <time.h>

/* AKS supports node images for 90 days after their release. */
#define APPLY_IMAGE_WINDOW_DAYS 90

/*
 * apply_vm_family(vm_size, out, len):
 * The VM family of an Azure size name, as Azure's quota families count
 * it: the name without "Standard_"/"Basic_", without its vCPU count (the
 * first run of digits, and a constrained-core "-N" after it), lower case.
 * Standard_D4s_v5 and Standard_D8s_v5 -> "ds_v5"; Standard_D4ds_v5 ->
 * "dds_v5"; Standard_E4s_v5 -> "es_v5"; Standard_DS2_v2 -> "ds_v2";
 * Standard_E4-2s_v5 -> "es_v5".  Return 0, or -1 when ${vm_size} holds no
 * vCPU count or does not fit ${len}.
 */
int apply_vm_family(const char *vm_size, char *out, size_t len);

/*
 * apply_image_date(node_image_version, date, revision):
 * The release date inside a node image version: "...-YYYYMM.DD.R" (Linux
 * images since 2022, e.g. AKSUbuntu-2204gen2containerd-202611.01.0),
 * "...-YYYY.MM.DD" (older ones) or, for AKSWindows-*, a last component
 * "YYMMDD".  ${*date} gets that day at 00:00 UTC, ${*revision} the number
 * after the day (0 when none).  Return 0, or -1 when no valid date is
 * found (the string is otherwise opaque: NOTES.md warns its shape varies).
 */
int apply_image_date(
    const char *node_image_version, time_t *date, long *revision);

/* The versions of one side of an apply; "" (never NULL) when unknown. */
struct apply_side {
	const char *kubernetes_version;
	const char *node_image_version;
	const char *vm_size;
	const char *os_type;
	int enable_fips;
};

struct apply_check_input {
	struct apply_side snapshot; /* as Azure holds it */
	struct apply_side target; /* the pool as Azure holds it; ignored
	                           * when create */
	int create; /* --create: a new pool, no target */
	const char *state; /* the snapshot's state in the store */
	time_t as_of; /* "now" */
	/* More apply guards (DESIGN.md section 6); NULL or "" = unknown */
	const char *snapshot_location; /* the snapshot's region */
	const char *target_location; /* the target cluster's region */
	int cross_region; /* --cross-region */
	/* the patch versions AKS offers in target_location (kubernetesVersions)
	 */
	const char *const *supported;
	size_t nsupported;
	int supported_known; /* 0: the list was not read (the check refuses) */
	const char *control_plane_version; /* the target cluster's */
	int new_cluster; /* --new-cluster: the control plane is the snapshot's
	                  */
	const char *upgrade_channel; /* the target cluster's autoUpgradeProfile
	                              */
	const char *node_os_channel;
	int ignore_upgrade_channel; /* --ignore-upgrade-channel */
	int allow_older; /* --allow-older: an older snapshot is a rollback */
};

enum apply_check_id {
	APPLY_CHECK_STATE = 0, /* the store row is active */
	APPLY_CHECK_OS, /* same osType */
	APPLY_CHECK_FIPS, /* same enableFIPS */
	APPLY_CHECK_FAMILY, /* same VM family */
	APPLY_CHECK_NEWER, /* newer than the pool, older in nothing */
	APPLY_CHECK_WINDOW, /* node image within AKS's 90-day window */
	APPLY_CHECK_REGION, /* same location, or --cross-region */
	APPLY_CHECK_SUPPORTED, /* Kubernetes version offered there */
	APPLY_CHECK_SKEW, /* within the control plane's version skew */
	APPLY_CHECK_CHANNEL, /* no auto-upgrade channel undoes the pin */
	APPLY_CHECK__COUNT
};

enum apply_outcome {
	APPLY_PASS = 0,
	APPLY_REFUSE,
	APPLY_NOT_APPLICABLE, /* e.g. VM family for --create */
};

struct apply_check_result {
	enum apply_outcome outcome;
	char reason[320];
};

struct apply_verdict {
	struct apply_check_result checks[APPLY_CHECK__COUNT];
	int refused; /* any check refused */
	int node_image_only; /* upgrade with the same Kubernetes version: the
	                      * node-image path (upgradeNodeImageVersion with
	                      * AKSSnapshotId), NOTES.md sections 1.5, 6.3 */
	int rollback; /* --allow-older let an older node image through */
	int at_baseline; /* upgrade: the pool runs the snapshot's Kubernetes
	                  * version and node image already (nothing to send) */
};

/*
 * apply_check_name(id): "state", "os-type", "fips", "vm-family", "newer",
 * "image-age", "region", "k8s-supported", "k8s-skew", "upgrade-channel".
 */
const char *apply_check_name(enum apply_check_id id);

/* apply_outcome_name(o): "ok", "refused", "n/a". */
const char *apply_outcome_name(enum apply_outcome o);

/*
 * apply_checks_run(in, out):
 * Run every check on ${in} and fill ${out}: each check's outcome and
 * reason (passes say why too), refused = any refusal, node_image_only
 * for an upgrade whose Kubernetes versions are equal.
 *   state:     the snapshot must be "active" in the store.
 *   os-type:   the snapshot's osType equals the pool's (upgrade only).
 *   fips:      the snapshot's enableFIPS equals the pool's (upgrade only:
 *              FIPS pools need FIPS node images, and AKS cannot switch it).
 *   vm-family: apply_vm_family of both sizes are equal (upgrade only).
 *   newer:     (upgrade only) Kubernetes not older (apply_kube_cmp) and
 *              node image not older (apply_image_date, then revision),
 *              and at least one of them newer.  Equal in both is no
 *              refusal: the check passes, "already at this baseline", and
 *              verdict.at_baseline is set (apply has nothing to send).
 *              An unreadable version refuses.
 *   image-age: the snapshot's node image date is at most
 *              APPLY_IMAGE_WINDOW_DAYS days before ${as_of}; unreadable
 *              refuses.
 */
void apply_checks_run(
    const struct apply_check_input *in, struct apply_verdict *out);
/*
 * The guards of DESIGN.md section 6 ("More apply guards", "Auto-upgrade
 * channels"), run by apply_checks_run too; each refusal names both values:
 *   newer (changed): with ${allow_older}, a node image older than the
 *              pool's passes as a rollback (verdict.rollback); an older
 *              Kubernetes version is still refused (AKS never downgrades
 *              a pool's Kubernetes).
 *   region:    snapshot and target in the same location
 *              (case-insensitive), or ${cross_region}; unknown refuses.
 *   k8s-supported: the snapshot's Kubernetes version is one of
 *              ${supported} (x.y.z, or its x.y a listed minor).
 *   k8s-skew:  the snapshot's Kubernetes minor is not above the control
 *              plane's, and at most apply_skew_minors(control plane) below
 *              it (n/a for a new cluster: it takes the snapshot's).
 *   upgrade-channel: apply_channels_undo_pin() is 0, or
 *              ${ignore_upgrade_channel} (then it passes, saying so).
 */

/*
 * apply_skew_minors(control_plane_version):
 * How many minors an agent pool may lag its control plane: 3 from 1.28 on,
 * 2 before (NOTES.md section 8.3).
 */
int apply_skew_minors(const char *control_plane_version);

/*
 * apply_channels_undo_pin(upgrade_channel, node_os_channel, why, len):
 * Pure: 1 when a cluster's autoUpgradeProfile would move its pools off a
 * pinned node image: nodeOSUpgradeChannel NodeImage or SecurityPatch, or
 * an upgradeChannel other than none (NOTES.md section 8.2); ${why} then
 * names the channel, its value and the fix ("set nodeOSUpgradeChannel to
 * None or Unmanaged", "set upgradeChannel to none").  0 otherwise (""
 * and NULL are "not set"), with ${why} saying what the channels are.
 * ${why} NULL: only the answer (drift asks it of 10,000 pools, whose
 * message was most of the cost).
 */
int apply_channels_undo_pin(const char *upgrade_channel,
    const char *node_os_channel, char *why, size_t len);

/*
 * apply_result_matches(want_k8s, want_image, got_k8s, got_image, why, len):
 * After the operation succeeded: 1 when the pool, as a GET shows it, runs
 * the snapshot's Kubernetes version ${want_k8s} (compared numerically
 * with ${got_k8s}, its currentOrchestratorVersion, else its
 * orchestratorVersion) and node image ${want_image} (exactly).  Else 0
 * with both sides of what differs in ${why} ("expected ..., got ...").
 */
int apply_result_matches(const char *want_k8s, const char *want_image,
    const char *got_k8s, const char *got_image, char *why, size_t len);

/*
 * apply_pool_name_ok(name):
 * 1 when ${name} is a valid agent pool name (^[a-z][a-z0-9]{0,11}$).
 */
int apply_pool_name_ok(const char *name);

#endif
