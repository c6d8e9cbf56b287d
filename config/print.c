/*
 * print.c -- `config check`: the resolved configuration, printed.
 *
 * As INI text that aksnap reads back ([aksnap], every [policy:*], every
 * [pool:*] with its effective policy, every [fleet:*]) or as one JSON
 * object, both driven by the key table (keys.c); then what a run will sign
 * in with (env.c).  Both are written as they are made: the JSON a pool at
 * a time (job/base/json_stream.h), whatever the number of pools; the text
 * with fputs, and each policy's keys formatted once for all the pools
 * that share it (print_policy).  A secret's
 * value is never read here: secret files show as their path,
 * AZURE_CLIENT_SECRET as "set".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "job/base/json_stream.h"
#include "job/base/json_write.h"

static int
is_secret_path(const struct key *k)
{
	return strcmp(k->name, "client_secret_file") == 0 ||
	    strcmp(k->name, "client_certificate_file") == 0;
}

/* print_keys(out, scope, base): each key of ${scope} in the struct at
 * ${base} as a "name = value" line. */
static void
print_keys(FILE *out, enum scope scope, const char *base)
{
	char v[PATH_MAX];

	for (size_t i = 0; i < config_nkeys; i++) {
		if (config_keys[i].scope != scope)
			continue;
		config_key_format(&config_keys[i], base, v, sizeof(v));
		fputs(config_keys[i].name, out);
		if (v[0] == '\0') {
			fputs(" =\n", out);
			continue;
		}
		fputs(" = ", out);
		fputs(v, out);
		fputs(is_secret_path(&config_keys[i])
		        ? " ; contents not shown\n"
		        : "\n",
		    out);
	}
}

/*
 * The policy keys of the last policy printed, as text: the pools of one
 * [policy:NAME] share one struct policy (resolve.c), so 10,000 pools
 * print one block 10,000 times and format it once.
 */
struct policy_text {
	const struct policy *pol; /* NULL: nothing kept */
	char *text;
	size_t len;
};

/* print_policy(out, pol, pt): ${pol}'s keys, as print_keys prints them,
 * through ${pt}. */
static void
print_policy(FILE *out, const struct policy *pol, struct policy_text *pt)
{
	FILE *m;

	if (pt->pol != pol) {
		free(pt->text);
		pt->text = NULL;
		pt->pol = NULL;
		m = open_memstream(&pt->text, &pt->len);
		if (m == NULL) {
			print_keys(out, SCOPE_POLICY, (const char *)pol);
			return;
		}
		print_keys(m, SCOPE_POLICY, (const char *)pol);
		if (fclose(m) != 0) {
			print_keys(out, SCOPE_POLICY, (const char *)pol);
			return;
		}
		pt->pol = pol;
	}
	fwrite(pt->text, 1, pt->len, out);
}

/* Key ${k}'s value in the struct at ${base}: 'i' an integer in ${*i},
 * 'b' a boolean in ${*i}, else 's' its text in ${v}. */
static int
key_value(const struct key *k, const char *base, int *i, char *v, size_t len)
{
	if (k->type == VT_INT) {
		memcpy(i, base + k->off, sizeof(*i));
		return 'i';
	}
	if (k->type == VT_BOOL || k->type == VT_NOT_BOOL) {
		memcpy(i, base + k->off, sizeof(*i));
		if (k->type == VT_NOT_BOOL)
			*i = !*i;
		return 'b';
	}
	config_key_format(k, base, v, len);
	return 's';
}

static json_t *
json_keys(json_t *o, enum scope scope, const char *base)
{
	char v[PATH_MAX];
	json_t *j;
	int i;

	if (o == NULL)
		return NULL;
	for (size_t n = 0; n < config_nkeys; n++) {
		if (config_keys[n].scope != scope)
			continue;
		switch (key_value(&config_keys[n], base, &i, v, sizeof(v))) {
		case 'i':
			j = json_integer(i);
			break;
		case 'b':
			j = json_boolean(i);
			break;
		default:
			j = json_string(v);
			break;
		}
		json_object_set_new(o, config_keys[n].name, j);
	}
	return o;
}

/* json_keys' members, written (job/base/json_write.h): a pool's, at
 * 10,000 pools, without a tree built and dumped for each. */
static void
write_keys(struct json_write *w, enum scope scope, const char *base)
{
	char v[PATH_MAX];
	int i;

	for (size_t n = 0; n < config_nkeys; n++) {
		if (config_keys[n].scope != scope)
			continue;
		switch (key_value(&config_keys[n], base, &i, v, sizeof(v))) {
		case 'i':
			json_write_int(w, config_keys[n].name, i);
			break;
		case 'b':
			json_write_bool(w, config_keys[n].name, i);
			break;
		default:
			json_write_string(w, config_keys[n].name, v);
			break;
		}
	}
}

void
config_print(const struct config *c, FILE *out, int json)
{
	struct policy_text pt = {NULL, NULL, 0};
	struct auth_inputs *in;
	json_t *arr, *o;

	if (!json) {
		fprintf(
		    out, "; %s, resolved (secrets are not shown)\n", c->path);
		fprintf(out, "[aksnap]\n");
		print_keys(out, SCOPE_GLOBAL, (const char *)c);
		for (size_t i = 0; i < c->npolicies; i++) {
			fprintf(out, "\n[policy:%s]\n", c->policies[i].name);
			print_keys(
			    out, SCOPE_POLICY, (const char *)&c->policies[i]);
		}
		for (size_t i = 0; i < c->npools; i++) {
			const struct pool_conf *pc = &c->pools[i];

			fputs("\n[pool:", out);
			fputs(pc->key, out);
			fputs("]\n", out);
			print_keys(out, SCOPE_POOL, (const char *)pc);
			print_policy(out, pc->policy, &pt);
		}
		free(pt.text);
		for (size_t i = 0; i < c->nfleets; i++) {
			config_fleet_print(&c->fleets[i], out);
			print_keys(out, SCOPE_POLICY,
			    (const char *)&c->fleets[i].policy);
		}
		in = config_auth_inputs(c);
		if (in != NULL)
			config_auth_inputs_print(in, out);
		config_auth_inputs_free(in);
		return;
	}

	/* streamed: the pools a member at a time (json_stream.h), the same
	 * bytes as the whole tree, in the memory of one pool's */
	fputs("{", out);
	json_stream_member(out, "\n", 1, "path", json_string(c->path));
	json_stream_member(out, ",\n", 1, "aksnap",
	    json_keys(json_object(), SCOPE_GLOBAL, (const char *)c));
	arr = json_array();
	for (size_t i = 0; i < c->npolicies; i++) {
		o = json_object();
		if (o == NULL)
			continue;
		json_object_set_new(
		    o, "name", json_string(c->policies[i].name));
		json_array_append_new(arr,
		    json_keys(o, SCOPE_POLICY, (const char *)&c->policies[i]));
	}
	json_stream_member(out, ",\n", 1, "policies", arr);
	fputs(",\n  \"pools\": [", out);
	for (size_t i = 0; i < c->npools; i++) {
		const struct pool_conf *pc = &c->pools[i];
		struct json_write w;

		fputs(i > 0 ? ",\n    " : "\n    ", out);
		json_write_begin(&w, out, 2);
		json_write_string(&w, "pool", pc->key);
		write_keys(&w, SCOPE_POOL, (const char *)pc);
		write_keys(&w, SCOPE_POLICY, (const char *)pc->policy);
		json_write_end(&w);
	}
	json_stream_array_end(out, 1, c->npools);
	arr = json_array();
	for (size_t i = 0; i < c->nfleets; i++) {
		o = config_fleet_json(&c->fleets[i]);
		if (o == NULL)
			continue;
		json_keys(o, SCOPE_POLICY, (const char *)&c->fleets[i].policy);
		json_array_append_new(arr, o);
	}
	json_stream_member(out, ",\n", 1, "fleets", arr);
	in = config_auth_inputs(c);
	if (in != NULL)
		json_stream_member(
		    out, ",\n", 1, "inputs", config_auth_inputs_json(in));
	config_auth_inputs_free(in);
	fputs("\n}\n", out);
}
