#ifndef AKSNAP_CONFIG_FLEET_H
#define AKSNAP_CONFIG_FLEET_H

/*
 * config_fleet.h -- what config/fleet.c lends config.c: the selector keys
 * of [fleet:NAME] sections.  Never included outside config/.
 */

#include <jansson.h>
#include <stdio.h>

#include "config/config.h"

/*
 * config_fleet_add(c, name, line, idx):
 * Append an empty [fleet:${name}] to ${c}->fleets; its index in ${*idx}.
 * 0, or -1 when out of memory.
 */
int config_fleet_add(struct config *c, const char *name, int line, size_t *idx);

/*
 * config_fleet_key(f, name, value, why, whylen):
 * A selector key of a fleet section: 0 taken, -1 wrong (why in ${why}),
 * 1 not a selector key (a policy key, or unknown: config.c decides).
 */
int config_fleet_key(struct fleet_conf *f, const char *name, const char *value,
    char *why, size_t whylen);

/* config_fleet_print(f, out): the section's header and selector keys. */
void config_fleet_print(const struct fleet_conf *f, FILE *out);

/* config_fleet_json(f): a new object with the fleet's selectors, or NULL. */
json_t *config_fleet_json(const struct fleet_conf *f);

#endif
