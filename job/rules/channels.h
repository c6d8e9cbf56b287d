#ifndef AKSNAP_CHANNELS_H
#define AKSNAP_CHANNELS_H

/*
 * channels.h -- who changed a pool's node image or Kubernetes version,
 * read from the cluster's auto-upgrade channels (DESIGN.md section 6,
 * Auto-upgrade channels; NOTES.md section 8.2).  Pure.
 */

/* One observation of a pool, as far as this rule needs it. */
struct channels_seen {
	const char *kubernetes_version; /* "" or NULL: unknown */
	const char *node_image_version;
	const char *upgrade_channel; /* "" or NULL: not set */
	const char *node_os_channel;
};

/*
 * channels_changed_by(prev, cur):
 * NULL when ${cur} runs the same node image and Kubernetes version as
 * ${prev} (or either is unknown).  Otherwise "auto-upgrade" when the
 * channels of either observation explain the change -- a new node image
 * with the same Kubernetes: nodeOSUpgradeChannel NodeImage or
 * SecurityPatch, or any upgradeChannel but none; a new Kubernetes
 * version: upgradeChannel patch, stable or rapid -- and "outside" when
 * they do not.  ("aksnap" is recorded by aksnap's own apply, which knows.)
 */
const char *channels_changed_by(
    const struct channels_seen *prev, const struct channels_seen *cur);

#endif
