#ifndef AKSNAP_CONFIG_H
#define AKSNAP_CONFIG_H

/*
 * config.h -- the resolved configuration (aksnap.ini, DESIGN.md section 4).
 *
 * Plain structs with fixed-size strings: the configuration is loaded once,
 * validated whole, and then only read.  Every [pool:*] points at its
 * fully resolved policy (defaults < [policy:NAME] < keys set in the pool):
 * pools that set no policy key share their [policy:NAME]'s (10,000 pools,
 * one struct policy), a pool that sets some has its own.
 */

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "job/base/limits.h"
#include "job/base/tz.h"
#include "job/rules/fleet.h"
#include "job/rules/model.h"

#define CONFIG_DEFAULT_PATH "/etc/aksnap/aksnap.ini"

/* The public cloud's endpoints: the defaults of authority_host and
 * imds_endpoint. */
#define CONFIG_AUTHORITY_DEFAULT "https://login.microsoftonline.com"
#define CONFIG_IMDS_DEFAULT "http://169.254.169.254"

/* Where `changes` reads node image release notes (DESIGN.md 4, 6). */
#define CONFIG_RELEASE_NOTES_DEFAULT                                           \
	"https://raw.githubusercontent.com/Azure/AgentBaker/master/"           \
	"vhdbuilder/release-notes/{path}.txt"

struct config {
	char path[PATH_MAX]; /* the file it came from */
	char database[PATH_MAX]; /* default /var/lib/aksnap/aksnap.db */
	char subscription[64];
	enum auth_kind auth;
	char tenant[128];
	char client_id[128];
	char object_id[128]; /* managed identity: user-assigned by object id */
	char msi_res_id[LIMIT_ARM_ID]; /* managed identity: user-assigned by ARM
	                                  id */
	char client_secret_file[PATH_MAX];
	char client_certificate_file[PATH_MAX];
	char arm_endpoint[256]; /* default https://management.azure.com */
	char
	    authority_host[256]; /* default https://login.microsoftonline.com */
	char imds_endpoint[256]; /* default http://169.254.169.254 */
	char api_version[32]; /* default 2026-08-01 */
	char ca_file[PATH_MAX];
	int max_parallel; /* default 8, 1..256 */
	long long request_timeout; /* seconds, default 60 */
	char metrics_file[PATH_MAX];
	char name_prefix[32]; /* default "aksnap" */
	char timezone[64]; /* default "UTC" */
	struct tz *tz; /* that zone, loaded once with the file (owned) */

	struct policy *policies; /* [policy:NAME], in file order */
	size_t npolicies;
	struct policy *pool_policies; /* the built-in defaults, then one for
	                                 each pool that sets policy keys */
	size_t npool_policies;
	struct pool_conf *pools;
	size_t npools;
	size_t *pool_order; /* pools[0, nordered) by key: config_find_pool */
	size_t nordered;
	struct fleet_conf *fleets; /* [fleet:NAME], in file order */
	size_t nfleets;
	int max_fleet_pools; /* default LIMIT_FLEET_POOLS */
};

/*
 * config_load(path, out):
 * Parse and validate ${path}.  On success return a new config (free with
 * config_free) in ${*out} and 0.  On failure log every error found -- each
 * names "file:line: [section] key: what was expected" -- and return -1.
 */
int config_load(const char *path, struct config **out);

/*
 * config_load_errors(path, out, errs, errslen):
 * As config_load, but the error lines (newline-separated) are written into
 * ${errs} instead of being logged.  For tests and `config check`.
 */
int config_load_errors(
    const char *path, struct config **out, char *errs, size_t errslen);

/* config_free(c): release; NULL is fine. */
void config_free(struct config *c);

/* config_find_pool(c, key): the pool named ${key}, or NULL. */
const struct pool_conf *config_find_pool(
    const struct config *c, const char *key);

/*
 * config_print(c, out, json):
 * Print the resolved configuration (secrets masked: a secret's value is never
 * read here, only file paths are shown) as INI-like text or one JSON object,
 * then what a run will sign in with (config_auth_inputs): comment lines
 * after the text, "inputs" in the JSON; AZURE_CLIENT_SECRET only as "set".
 */
void config_print(const struct config *c, FILE *out, int json);

/*
 * config_auth_inputs(c):
 * What a token provider made now from ${c} would use: the configuration's
 * auth values merged with the environment (AZURE_*, CREDENTIALS_DIRECTORY,
 * the az on PATH), each with its source (config/env.c has the rules).
 * The only place aksnap reads those variables.  Return a new struct (free
 * with config_auth_inputs_free: the copied AZURE_CLIENT_SECRET is wiped),
 * or NULL when out of memory.
 */
struct auth_inputs *config_auth_inputs(const struct config *c);

/* config_auth_inputs_free(in): wipe and release; NULL is fine. */
void config_auth_inputs_free(struct auth_inputs *in);

/*
 * config_fleet_overlaps(c, out):
 * Print one line to ${out} for each [pool:NAME] that a [fleet:NAME] selects
 * by names alone (its globs match the pool's names and it filters on no
 * tag, mode or OS): the explicit section wins.  Return how many.
 */
int config_fleet_overlaps(const struct config *c, FILE *out);

/* config_auth_name(kind): "auto", "managed-identity", ... */
const char *config_auth_name(enum auth_kind kind);

#endif
