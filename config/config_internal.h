#ifndef AKSNAP_CONFIG_INTERNAL_H
#define AKSNAP_CONFIG_INTERNAL_H

/*
 * config_internal.h -- what the files of config/ share; never included
 * outside config/ (config/config.h is the public header).
 *
 *   read.c     the file, line by line, into sections, errors by line
 *   keys.c     the key table, each value's parsing, checks and text
 *   resolve.c  defaults, [policy:*] inheritance, pools and fleets
 *   print.c    `config check`: the resolved configuration as INI or JSON
 *   env.c      the credentials' environment (struct auth_inputs)
 *   fleet.c    the selector keys of [fleet:NAME]
 */

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

/* Sections remember which keys they hold in a 64-bit mask. */
#define CONFIG_MAX_KEYS 64

enum scope {
	SCOPE_GLOBAL, /* [aksnap] */
	SCOPE_POLICY, /* [policy:NAME], and overrides in [pool:NAME] */
	SCOPE_POOL, /* [pool:NAME] only */
};

enum vtype {
	VT_STRING,
	VT_INT, /* int field, [min, max] */
	VT_DURATION, /* long long seconds, [min, max] */
	VT_PROMOTE, /* a duration or "never" (PROMOTE_NEVER) */
	VT_BOOL, /* int field 0/1; no key uses it yet */
	VT_AUTH,
	VT_WHEN,
	VT_LADDER, /* struct ladder: "canary:1d stable:7d" */
	VT_NOT_BOOL, /* int field, the boolean's negation (enabled -> paused) */
};

/* What a string value must look like. */
enum check {
	CK_NONE,
	CK_FILE, /* an existing regular file (ca_file) */
	CK_UUID,
	CK_TENANT, /* a UUID or a domain */
	CK_URL_TLS, /* https://, or http:// to a loopback host */
	CK_URL, /* http:// or https:// */
	CK_API_VERSION,
	CK_PREFIX,
	CK_TIMEZONE,
	CK_SCHEDULE,
	CK_NAME, /* policy names, channels */
	CK_RESOURCE_GROUP,
	CK_CLUSTER,
	CK_NODEPOOL,
	CK_MSI_RES_ID,
	CK_NOTES, /* a URL template with {path} (https://, or http:// to a
	             loopback host), or "off" */
};

struct key {
	const char *name;
	enum scope scope;
	enum vtype type;
	enum check check;
	size_t off;
	size_t size;
	long long min;
	long long max;
};

/*
 * The key table by name, open-addressed: in each used slot the first row
 * of config_keys with that name, plus one; for that row, the row of the
 * name in each scope, plus one (0: none; "subscription" is a key of two).
 * Built once per load (config_key_hash_init), so a key line costs a hash
 * of its length and three bytes and one memcmp, not a walk of the table.
 */
#define CONFIG_KEY_SLOTS 128
struct key_hash {
	unsigned char slot[CONFIG_KEY_SLOTS];
	unsigned char len[CONFIG_MAX_KEYS]; /* each row's name's length */
	unsigned char row[CONFIG_MAX_KEYS][3]; /* [first row][scope] */
};

enum sect_kind {
	SECT_GLOBAL,
	SECT_POLICY,
	SECT_POOL,
	SECT_FLEET, /* [fleet:NAME]: selectors in c->fleets[fleet] */
	SECT_IGNORED, /* unknown or duplicate: already reported, keys skipped */
};

/*
 * One section as read: what is needed to check it and to report on it,
 * and nothing more.  A pool's keys go straight into c->pools[idx] and a
 * fleet's selectors into c->fleets[idx]; the policy keys that a section
 * sets (rare in a pool) into ${pol}, allocated at the first one.  So a
 * section of 10,000 costs ~90 bytes, not a whole pool and policy.
 */
struct section {
	const char *title; /* the text between [ and ] (cut at 79 bytes, with
	                      "..."), for messages: in p->titles, or "" */
	struct policy *pol; /* the policy keys set here, over the defaults;
	                       NULL while it sets none (owned) */
	uint64_t seen; /* keys present, valid or not */
	uint64_t set; /* keys with a valid, non-empty value */
	uint64_t bad; /* keys with an invalid value (reported) */
	size_t idx; /* SECT_POOL: c->pools; SECT_FLEET: c->fleets;
	               SECT_POLICY: c->policies (once resolved) */
	uint32_t kl; /* where each key was set: p->keylines[kl, kl + nkl) */
	uint32_t nkl;
	int line;
	enum sect_kind kind;
	unsigned char nameoff; /* NAME of [policy:NAME] / [pool:NAME] /
	                          [fleet:NAME]: section_name() */
};

/* The sections' titles, packed in blocks that live as long as the parse
 * (a title inline cost each of 10,000 sections 80 bytes, most unused). */
struct title_block {
	struct title_block *next;
	size_t used, cap;
	char text[];
};

/* The line that set key ${key} (a row of config_keys) of a section.  A
 * section's keys are read together, so each section's rows are one run of
 * p->keylines. */
struct keyline {
	int line;
	unsigned key;
};

/* section_name(s): NAME of [kind:NAME], or "" ([aksnap], or a bad name). */
static inline const char *
section_name(const struct section *s)
{
	return s->title + s->nameoff;
}

struct cerr {
	int line;
	size_t seq;
	char *text;
};

/*
 * A set of rows -- sections, pools -- by a key that is never written out
 * (rows.c): each slot holds a row number plus one (0: empty) and the
 * row's hash; the caller decides when two rows are the same.
 */
struct row_set {
	uint32_t *slot;
	uint32_t *hash; /* the low 32 bits of each row's hash */
	size_t cap, n;
	size_t probes; /* slots passed over by config_rows_add: how clustered
	                  the set is (tests) */
};

struct parse {
	const char *path;
	struct config *c;

	struct section *sects;
	size_t nsects;
	size_t sectcap;
	struct title_block *titles; /* the sections' titles, newest first */
	long cur; /* index of the current section; -1 before the first */

	struct cerr *errs;
	size_t nerrs;
	size_t errcap;
	int oom;

	/* The reader's state: the file read a chunk at a time (read.c). */
	int fd;
	char *chunk; /* CONFIG_CHUNK bytes, and room for a NUL after them */
	size_t pos, len; /* what is read but not yet a line: chunk[pos, len) */
	int eof; /* read(2) said end of file, or failed (then rerr) */
	int rerr; /* the errno of a failed read(2), else 0 */
	int nul; /* a NUL byte was read: from then on a line ends at its
	            first, as getline()'s did as a C string */
	int dropping; /* the line being read is longer than a chunk: dropped */
	int lineno;
	int refused; /* the first line whose key ini_cb() refused, or 0 */

	/* Sections by kind and name (without case), to find repeats in
	 * O(1). */
	struct row_set sections;

	struct key_hash keys; /* config_keys by scope and name */

	struct keyline *keylines; /* every section's, in file order */
	size_t nkeylines;
	size_t keylinecap;
	size_t poolcap; /* c->pools' room while the file is read */
};

/* The keys, one row each (keys.c), and how many. */
extern const struct key config_keys[];
extern const size_t config_nkeys;

/* keys.c */

/*
 * config_parse_value(k, v, base, why, whylen):
 * Parse ${v} for key ${k} into the field at ${base} + offset.  0, or -1
 * with what was expected in ${why} (the field is then left alone).
 */
int config_parse_value(
    const struct key *k, const char *v, char *base, char *why, size_t whylen);

/* config_key_find(name, scope, idx): the key and its row in ${*idx}, or
 * NULL. */
const struct key *config_key_find(
    const char *name, enum scope scope, size_t *idx);

/* config_key_hash_init(kh): every row of config_keys into ${kh}. */
void config_key_hash_init(struct key_hash *kh);

/* config_key_hash_find(kh, name, scope, idx): config_key_find through
 * ${kh}: the key and its row in ${*idx}, or NULL. */
const struct key *config_key_hash_find(
    const struct key_hash *kh, const char *name, enum scope scope, size_t *idx);

/* config_key_name(kh, name, len): the first row of config_keys named
 * ${name} (${len} bytes) in any scope, or -1 when no key is. */
int config_key_name(const struct key_hash *kh, const char *name, size_t len);

/* config_key_scoped(kh, name, scope, idx): the key of scope ${scope}
 * among those named as row ${name} (config_key_name(); -1 is fine), its
 * row in ${*idx}; or NULL. */
const struct key *config_key_scoped(
    const struct key_hash *kh, int name, enum scope scope, size_t *idx);

/* config_key_home(name): "; it belongs in [...]" when ${name} is a key of
 * another kind of section, else "". */
const char *config_key_home(const char *name);

/* config_key_index(name, scope): the row of a key that exists. */
size_t config_key_index(const char *name, enum scope scope);

/* config_key_format(k, base, buf, len): the value of ${k} in the struct at
 * ${base}, as it would be written in the file. */
void config_key_format(
    const struct key *k, const char *base, char *buf, size_t len);

/* config_is_name(s): 1 if ${s} is a pool, policy or fleet name (letters,
 * digits, '-', '_', '.', 1-63). */
int config_is_name(const char *s);

/* config_is_name_n(s, n): config_is_name() of the ${n} bytes at ${s}. */
int config_is_name_n(const char *s, size_t n);

/* read.c */

/*
 * config_perr(p, line, s, key, fmt, ...):
 * Record one error, "path:line: [section] key: message".  ${s} and ${key}
 * may be NULL; ${line} 0 means the error is about the whole file.
 */
void config_perr(struct parse *p, int line, const struct section *s,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* config_keyline(p, s, key): the line of ${s} that set the key of row
 * ${key}, or 0 when it is not set there. */
int config_keyline(const struct parse *p, const struct section *s, size_t key);

/* rows.c */

/*
 * config_hash_lower(h, s):
 * ${h} (0 to start) carried over ${s} lower-cased ("C" locale) and one
 * separator: strings equal but for case hash the same.
 */
uint64_t config_hash_lower(uint64_t h, const char *s);

/* config_hash_lower_n(h, s, n): config_hash_lower() of the ${n} bytes at
 * ${s} (none of them NUL). */
uint64_t config_hash_lower_n(uint64_t h, const char *s, size_t n);

/*
 * config_rows_add(rs, hash, row, same, ctx, prev):
 * Add ${row}, whose key hashes to ${hash}, unless a row already in the set
 * is the same (${same}(${ctx}, that row, ${row}) nonzero; the hashes must
 * then be equal).  0 when it was added, 1 when it was there already (that
 * row in ${*prev}), -1 on ENOMEM.
 */
int config_rows_add(struct row_set *rs, uint64_t hash, size_t row,
    int (*same)(const void *ctx, size_t a, size_t b), const void *ctx,
    size_t *prev);

/*
 * config_rows_find(rs, hash, is, ctx, row):
 * 1 with the row in ${*row} that ${is}(${ctx}, row) accepts among those
 * whose hash is ${hash}, or 0.
 */
int config_rows_find(const struct row_set *rs, uint64_t hash,
    int (*is)(const void *ctx, size_t row), const void *ctx, size_t *row);

/* config_rows_reserve(rs, n): room for ${n} rows without growing (a hint):
 * 0, or -1 on ENOMEM. */
int config_rows_reserve(struct row_set *rs, size_t n);

/* config_rows_free(rs): release what ${rs} holds (it is left empty, to be
 * used again or dropped); NULL is fine. */
void config_rows_free(struct row_set *rs);

/* resolve.c */

/* config_defaults(c): the built-in values of every [aksnap] key. */
void config_defaults(struct config *c);

/* config_policy_defaults(pol): the built-in values of every policy key. */
void config_policy_defaults(struct policy *pol);

/*
 * config_resolve(p):
 * After the whole file is read: build the policies and pools, apply the
 * defaults, and run the checks that span sections.  0, or -1 when out of
 * memory (errors are recorded with config_perr).
 */
int config_resolve(struct parse *p);

/* env.c */

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

/* fleet.c */

/*
 * config_fleet_add(c, name, line, idx):
 * Append an empty [fleet:${name}] to ${c}->fleets; its index in ${*idx}.
 * 0, or -1 when out of memory.
 */
int config_fleet_add(struct config *c, const char *name, int line, size_t *idx);

/*
 * config_fleet_key(f, name, value, why, whylen):
 * A selector key of a fleet section: 0 taken, -1 wrong (why in ${why}),
 * 1 not a selector key (a policy key, or unknown: read.c decides).
 */
int config_fleet_key(struct fleet_conf *f, const char *name, const char *value,
    char *why, size_t whylen);

/* config_fleet_print(f, out): the section's header and selector keys. */
void config_fleet_print(const struct fleet_conf *f, FILE *out);

/* config_fleet_json(f): a new object with the fleet's selectors, or NULL. */
json_t *config_fleet_json(const struct fleet_conf *f);

#endif
