#ifndef AKSNAP_CONFIG_INTERNAL_H
#define AKSNAP_CONFIG_INTERNAL_H

/*
 * config_internal.h -- what the files of config/ share and nothing outside
 * config/ includes.
 */

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "job/rules/model.h"

/*
 * config_credential_path(name, path, len):
 * systemd's LoadCredential= puts secrets in $CREDENTIALS_DIRECTORY (an
 * absolute path): 1 with "$CREDENTIALS_DIRECTORY/${name}" in ${path} when
 * that file exists, else 0.  (env.c)
 */
int config_credential_path(const char *name, char *path, size_t len);

/*
 * config_auth_inputs_print(in, out):
 * ${in} as comment lines ("; name value (from source)"), the client
 * secret only as "set (from ...)".  (env.c)
 */
void config_auth_inputs_print(const struct auth_inputs *in, FILE *out);

/* config_auth_inputs_json(in): the same as a JSON object.  (env.c) */
json_t *config_auth_inputs_json(const struct auth_inputs *in);

#endif
