/*
 * env.c -- the environment a run's credentials come from, read in one place.
 *
 * The Azure SDKs' variables (AZURE_TENANT_ID, AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
 * AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST,
 * AZURE_POD_IDENTITY_AUTHORITY_HOST), systemd's CREDENTIALS_DIRECTORY and
 * the az that PATH finds are read here and nowhere else: config_auth_inputs
 * merges them with the configuration into struct auth_inputs, which the
 * token provider is built from (job/run/run.c) and `config check` prints
 * (config_auth_inputs_print).  So what check shows is what a run uses.
 *
 * The rules (DESIGN.md 4): a value set in aksnap.ini wins and the
 * environment fills the blanks -- a default authority_host counts as blank;
 * AZURE_CLIENT_ID is not used when object_id or msi_res_id choose the
 * managed identity -- except AZURE_POD_IDENTITY_AUTHORITY_HOST, which
 * overrides imds_endpoint.  A client secret comes from client_secret_file,
 * else $CREDENTIALS_DIRECTORY/aksnap-client-secret, else
 * AZURE_CLIENT_SECRET.  The secret's value is copied for the provider only
 * and wiped when freed; what is printed is "set (from ...)".
 */
#include "config/config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "job/base/util.h"

#define ENV_SECRET "AZURE_CLIENT_SECRET"

/* Set ${in} to ${value} from ${source}; an empty or NULL value is unset. */
static int
input_set(struct auth_input *in, const char *value, const char *source)
{
	if (value == NULL || value[0] == '\0')
		return 0;
	util_strlcpy(in->value, value, sizeof(in->value));
	util_strlcpy(in->source, source, sizeof(in->source));
	return 1;
}

/* ${in} from the configuration's ${value}, else the variable ${var}. */
static void
input_or_env(struct auth_input *in, const char *value, const char *var)
{
	char source[64];

	if (input_set(in, value, "aksnap.ini"))
		return;
	if (var == NULL)
		return;
	snprintf(source, sizeof(source), "env %s", var);
	(void)input_set(in, getenv(var), source);
}

/* strip trailing slashes, as the configuration does for its URLs */
static void
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
}

int
config_credential_path(const char *name, char *path, size_t len)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;
	int n;

	if (dir == NULL || dir[0] != '/')
		return 0;
	n = snprintf(path, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return 0;
	return stat(path, &st) == 0;
}

/*
 * A secret or certificate file: aksnap.ini's (which config_load already
 * filled from the credential when the file named none), else the
 * credential ${cred}, else the variable ${var} (may be NULL).
 */
static void
input_file(
    struct auth_input *in, const char *value, const char *cred, const char *var)
{
	char path[PATH_MAX], source[64];
	int have = config_credential_path(cred, path, sizeof(path));

	snprintf(source, sizeof(source), "credential %s", cred);
	if (value != NULL && value[0] != '\0') {
		(void)input_set(in, value,
		    have && strcmp(value, path) == 0 ? source : "aksnap.ini");
		return;
	}
	if (have) {
		(void)input_set(in, path, source);
		return;
	}
	if (var != NULL)
		input_or_env(in, NULL, var);
}

/* The first executable ${name} on PATH into ${in}. */
static void
input_on_path(struct auth_input *in, const char *name)
{
	const char *path = getenv("PATH");
	char full[PATH_MAX];

	if (path == NULL)
		return;
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		if (n > 0 &&
		    (size_t)snprintf(full, sizeof(full), "%.*s/%s", (int)n,
		        path, name) < sizeof(full) &&
		    access(full, X_OK) == 0) {
			(void)input_set(in, full, "PATH");
			return;
		}
		path += n;
		if (*path == ':')
			path++;
	}
}

struct auth_inputs *
config_auth_inputs(const struct config *c)
{
	struct auth_inputs *in;
	const char *secret;

	in = calloc(1, sizeof(*in));
	if (in == NULL)
		return NULL;
	in->auth = c->auth;
	input_or_env(&in->tenant, c->tenant, "AZURE_TENANT_ID");
	(void)input_set(&in->object_id, c->object_id, "aksnap.ini");
	(void)input_set(&in->msi_res_id, c->msi_res_id, "aksnap.ini");
	/* A user-assigned identity chosen by object or ARM id has no
	 * client id. */
	input_or_env(&in->client_id, c->client_id,
	    in->object_id.value[0] == '\0' && in->msi_res_id.value[0] == '\0'
	        ? "AZURE_CLIENT_ID"
	        : NULL);
	input_file(&in->client_secret_file, c->client_secret_file,
	    "aksnap-client-secret", NULL);
	secret = getenv(ENV_SECRET);
	if (in->client_secret_file.value[0] == '\0' && secret != NULL &&
	    secret[0] != '\0') {
		in->secret = strdup(secret);
		if (in->secret == NULL) {
			config_auth_inputs_free(in);
			return NULL;
		}
		(void)input_set(&in->client_secret, "set", "env " ENV_SECRET);
	}
	input_file(&in->client_certificate_file, c->client_certificate_file,
	    "aksnap-client-certificate", "AZURE_CLIENT_CERTIFICATE_PATH");
	input_or_env(
	    &in->federated_token_file, NULL, "AZURE_FEDERATED_TOKEN_FILE");

	/* The default authority_host counts as blank. */
	if (strcmp(c->authority_host, CONFIG_AUTHORITY_DEFAULT) != 0)
		(void)input_set(
		    &in->authority_host, c->authority_host, "aksnap.ini");
	if (in->authority_host.value[0] == '\0')
		input_or_env(&in->authority_host, NULL, "AZURE_AUTHORITY_HOST");
	if (in->authority_host.value[0] == '\0')
		(void)input_set(
		    &in->authority_host, CONFIG_AUTHORITY_DEFAULT, "default");
	strip_slashes(in->authority_host.value);

	/* AKS pod identity overrides imds_endpoint. */
	input_or_env(
	    &in->imds_endpoint, NULL, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
	if (in->imds_endpoint.value[0] == '\0')
		(void)input_set(&in->imds_endpoint, c->imds_endpoint,
		    strcmp(c->imds_endpoint, CONFIG_IMDS_DEFAULT) == 0
		        ? "default"
		        : "aksnap.ini");
	if (in->imds_endpoint.value[0] == '\0')
		(void)input_set(
		    &in->imds_endpoint, CONFIG_IMDS_DEFAULT, "default");
	strip_slashes(in->imds_endpoint.value);

	input_on_path(&in->az, "az");
	return in;
}

void
config_auth_inputs_free(struct auth_inputs *in)
{
	if (in == NULL)
		return;
	if (in->secret != NULL) {
		explicit_bzero(in->secret, strlen(in->secret));
		free(in->secret);
	}
	explicit_bzero(in, sizeof(*in));
	free(in);
}

/* The inputs in the order printed, with the names printed. */
static const struct {
	const char *name;
	size_t off;
} printed[] = {
    {"tenant", offsetof(struct auth_inputs, tenant)},
    {"client_id", offsetof(struct auth_inputs, client_id)},
    {"object_id", offsetof(struct auth_inputs, object_id)},
    {"msi_res_id", offsetof(struct auth_inputs, msi_res_id)},
    {"client_secret_file", offsetof(struct auth_inputs, client_secret_file)},
    {"client_secret", offsetof(struct auth_inputs, client_secret)},
    {"client_certificate_file",
        offsetof(struct auth_inputs, client_certificate_file)},
    {"federated_token_file",
        offsetof(struct auth_inputs, federated_token_file)},
    {"authority_host", offsetof(struct auth_inputs, authority_host)},
    {"imds_endpoint", offsetof(struct auth_inputs, imds_endpoint)},
    {"az", offsetof(struct auth_inputs, az)},
};

static const struct auth_input *
printed_input(const struct auth_inputs *in, size_t i)
{
	return (const struct auth_input *)(const void *)((const char *)in +
	    printed[i].off);
}

void
config_auth_inputs_print(const struct auth_inputs *in, FILE *out)
{
	fprintf(out,
	    "\n; what a run will use to sign in (auth = %s), and where each "
	    "comes from\n",
	    config_auth_name(in->auth));
	for (size_t i = 0; i < sizeof(printed) / sizeof(printed[0]); i++) {
		const struct auth_input *v = printed_input(in, i);

		if (v->value[0] == '\0')
			fprintf(out, ";   %-24s -\n", printed[i].name);
		else if (v == &in->client_secret)
			fprintf(out, ";   %-24s set (from %s)\n",
			    printed[i].name, v->source);
		else if (strcmp(v->source, "default") == 0)
			fprintf(out, ";   %-24s %s (default)\n",
			    printed[i].name, v->value);
		else
			fprintf(out, ";   %-24s %s (from %s)\n",
			    printed[i].name, v->value, v->source);
	}
}

json_t *
config_auth_inputs_json(const struct auth_inputs *in)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "auth", json_string(config_auth_name(in->auth)));
	for (size_t i = 0; i < sizeof(printed) / sizeof(printed[0]); i++) {
		const struct auth_input *v = printed_input(in, i);
		json_t *e;

		if (v->value[0] == '\0') {
			json_object_set_new(o, printed[i].name, json_null());
			continue;
		}
		e = json_object();
		if (e == NULL)
			continue;
		if (v == &in->client_secret)
			json_object_set_new(e, "set", json_true());
		else
			json_object_set_new(e, "value", json_string(v->value));
		json_object_set_new(e, "source", json_string(v->source));
		json_object_set_new(o, printed[i].name, e);
	}
	return o;
}
