/*
 * channels.c -- who changed a pool (channels.h).
 *
 * The channels in force between two observations are not known exactly
 * (a channel changed in between re-images the nodes too), so a change is
 * the auto-upgrade's when the channels of either end would have made it.
 */
#include "job/rules/channels.h"

#include <string.h>
#include <strings.h>

#include "job/rules/apply_checks.h"

static int
known(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
reimages(const struct channels_seen *c)
{
	return apply_channels_undo_pin(
	    c->upgrade_channel, c->node_os_channel, NULL, 0);
}

/* upgradeChannel patch, stable and rapid move Kubernetes versions. */
static int
moves_kubernetes(const struct channels_seen *c)
{
	const char *u = c->upgrade_channel;

	return known(u) &&
	    (strcasecmp(u, "patch") == 0 || strcasecmp(u, "stable") == 0 ||
	        strcasecmp(u, "rapid") == 0);
}

const char *
channels_changed_by(
    const struct channels_seen *prev, const struct channels_seen *cur)
{
	int k8s, img;

	if (!known(prev->kubernetes_version) ||
	    !known(prev->node_image_version) ||
	    !known(cur->kubernetes_version) || !known(cur->node_image_version))
		return NULL;
	k8s = strcmp(prev->kubernetes_version, cur->kubernetes_version) != 0;
	img = strcmp(prev->node_image_version, cur->node_image_version) != 0;
	if (!k8s && !img)
		return NULL;
	if (k8s)
		return moves_kubernetes(prev) || moves_kubernetes(cur)
		    ? "auto-upgrade"
		    : "outside";
	return reimages(prev) || reimages(cur) ? "auto-upgrade" : "outside";
}
