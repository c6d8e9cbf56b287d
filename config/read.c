/*
 * read.c -- read aksnap.ini into sections, and load a struct config.
 *
 * The file is read whole and judged whole: every error found is reported,
 * each as "file:line: [section] key: what was expected", and the load fails
 * if there was any.  A typo must never silently switch retention off, so an
 * unknown section or key is an error, not a warning.
 *
 * inih does the key = value splitting, but the inih that Debian 12 ships
 * (r55, INI_HANDLER_LINENO off) calls the handler without a line number,
 * never for a section header, truncates section names to 49 bytes and
 * lines to 199.  So the file reaches inih through our own reader
 * (ini_parse_stream): the reader counts lines, reads the "[section]" headers
 * itself (so empty, duplicate and long-named sections are seen), reports
 * lines that are neither a header, a comment nor "key = value", and hands
 * inih only key lines, left-trimmed.  A key line too long for inih's buffer
 * is split by the reader with inih's own rules (first '=' or ':', inline
 * comments start at a ';' after whitespace) and handled directly.  Since no
 * line reaches inih indented, inih's multi-line continuation never applies:
 * indentation is insignificant and a value cannot span lines.
 *
 * Each key's value is parsed by keys.c straight to where it ends up: a
 * pool's keys into its c->pools entry, [aksnap]'s into the config, a
 * fleet's selectors into its c->fleets entry, and the policy keys a
 * section sets into a struct policy of the section's own, made at the
 * first.  A section itself keeps only what the checks and messages need
 * (which keys, on which lines), so 10,000 pools are read in one pass over
 * a few MB, not 2.3 KB a section.  Once the whole file is read, resolve.c
 * builds the configuration from the sections.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"
#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"

/* Longest line accepted at all; inih's own buffer is much shorter. */
#define CONFIG_MAX_LINE 4096

static int seen_grow(struct seen_set *ss, size_t ncap);

struct seen_set *
config_seen_new(seen_key_fn key_of, const void *ctx, size_t n)
{
	struct seen_set *ss = calloc(1, sizeof(*ss));
	size_t cap = 64;

	if (ss == NULL)
		return NULL;
	ss->key_of = key_of;
	ss->ctx = ctx;
	while (cap < 2 * (n + 1))
		cap *= 2;
	if (seen_grow(ss, cap)) {
		free(ss);
		return NULL;
	}
	return ss;
}

void
config_seen_free(struct seen_set *ss)
{
	if (ss == NULL)
		return;
	free(ss->hashes);
	free(ss->vals);
	free(ss);
}

/* seen_grow(ss, ncap): rehash into ${ncap} slots, a power of 2. */
static int
seen_grow(struct seen_set *ss, size_t ncap)
{
	uint32_t *nh = calloc(ncap, sizeof(*nh));
	uint32_t *nv = calloc(ncap, sizeof(*nv));

	if (nh == NULL || nv == NULL) {
		free(nh);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < ss->cap; i++) {
		size_t j;

		if (ss->vals[i] == 0)
			continue;
		j = ss->hashes[i] & (ncap - 1);
		while (nv[j] != 0)
			j = (j + 1) & (ncap - 1);
		nh[j] = ss->hashes[i];
		nv[j] = ss->vals[i];
	}
	free(ss->hashes);
	free(ss->vals);
	ss->hashes = nh;
	ss->vals = nv;
	ss->cap = ncap;
	return 0;
}

/*
 * seen_slot(ss, key, h):
 * The slot of ${key} (hash ${h}) in ${ss}, or the empty slot where it
 * would go.  ${ss}->cap > 0.
 */
static size_t
seen_slot(const struct seen_set *ss, const char *key, uint32_t h)
{
	size_t j = h & (ss->cap - 1);
	char buf[320];

	while (ss->vals[j] != 0) {
		if (ss->hashes[j] == h &&
		    strcmp(
		        ss->key_of(ss->ctx, ss->vals[j] - 1, buf, sizeof(buf)),
		        key) == 0)
			return j;
		j = (j + 1) & (ss->cap - 1);
	}
	return j;
}

/*
 * config_seen_add(ss, key, val, prev):
 * Add ${key} with ${val}.  Return 0 when it was new, 1 when it was there
 * already (its value in ${*prev}; nothing added), -1 on ENOMEM.
 */
int
config_seen_add(struct seen_set *ss, const char *key, size_t val, size_t *prev)
{
	uint32_t h = (uint32_t)util_fnv1a64(key);
	size_t j;

	if (val >= UINT32_MAX)
		return -1;
	if ((ss->n + 1) * 2 > ss->cap && seen_grow(ss, ss->cap * 2))
		return -1;
	j = seen_slot(ss, key, h);
	if (ss->vals[j] != 0) {
		*prev = ss->vals[j] - 1;
		return 1;
	}
	ss->hashes[j] = h;
	ss->vals[j] = (uint32_t)val + 1;
	ss->n++;
	return 0;
}

/* config_seen_find(ss, key, val): 1 with its value, or 0. */
int
config_seen_find(const struct seen_set *ss, const char *key, size_t *val)
{
	size_t j;

	if (ss->cap == 0)
		return 0;
	j = seen_slot(ss, key, (uint32_t)util_fnv1a64(key));
	if (ss->vals[j] == 0)
		return 0;
	*val = ss->vals[j] - 1;
	return 1;
}

/*
 * config_lower_join(dst, len, sep, parts, n):
 * The ${n} strings of ${parts} joined by ${sep}, lower-cased (ASCII),
 * truncated to fit ${len} > 0.
 */
void
config_lower_join(
    char *dst, size_t len, char sep, const char *const *parts, size_t n)
{
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && used + 1 < len)
			dst[used++] = sep;
		for (const char *s = parts[i]; *s != '\0' && used + 1 < len;
		     s++) {
			unsigned char ch = (unsigned char)*s;

			dst[used++] =
			    (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
		}
	}
	dst[used] = '\0';
}

/*
 * config_perr(p, line, s, key, fmt, ...):
 * Record one error, "path:line: [section] key: message".  ${s} and ${key}
 * may be NULL; ${line} 0 means the error is about the whole file.
 */
void
config_perr(struct parse *p, int line, const struct section *s, const char *key,
    const char *fmt, ...)
{
	struct buf b;
	struct cerr *ne;
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	buf_init(&b, 4096);
	if (line > 0)
		buf_printf(&b, "%s:%d: ", p->path, line);
	else
		buf_printf(&b, "%s: ", p->path);
	if (s != NULL && s->title == NULL && s->kind == SECT_POOL)
		buf_printf(&b, "[pool:%s]", section_name(p, s));
	else if (s != NULL)
		buf_printf(&b, "[%s]", s->title != NULL ? s->title : "");
	if (s != NULL && key != NULL)
		buf_printf(&b, " %s: ", key);
	else if (s != NULL)
		buf_printf(&b, ": ");
	else if (key != NULL)
		buf_printf(&b, "%s: ", key);
	buf_printf(&b, "%s", msg);
	if (b.data == NULL)
		goto err0;

	if (p->nerrs == p->errcap) {
		size_t ncap = p->errcap ? p->errcap * 2 : 16;

		ne = realloc(p->errs, ncap * sizeof(*ne));
		if (ne == NULL)
			goto err1;
		p->errs = ne;
		p->errcap = ncap;
	}
	p->errs[p->nerrs].line = line;
	p->errs[p->nerrs].seq = p->nerrs;
	p->errs[p->nerrs].text = b.data;
	p->nerrs++;
	return;

err1:
	buf_free(&b);
err0:
	p->oom = 1;
}

static int
cerr_cmp(const void *a, const void *b)
{
	const struct cerr *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * config_keyline(p, s, key):
 * The line of ${s} that set the key of row ${key}, or 0.
 */
int
config_keyline(const struct parse *p, const struct section *s, size_t key)
{
	for (size_t i = s->kl; i < s->kl + s->nkl; i++)
		if (p->keylines[i].key == key)
			return p->keylines[i].line;
	return 0;
}

/* add_keyline(p, key): key row ${key} is set on line p->lineno of the
 * current section.  0, or -1 when out of memory. */
static int
add_keyline(struct parse *p, size_t key)
{
	if (p->nkeylines == p->keylinecap) {
		size_t ncap = p->keylinecap ? p->keylinecap * 2 : 64;
		struct keyline *nk = realloc(p->keylines, ncap * sizeof(*nk));

		if (nk == NULL) {
			p->oom = 1;
			return -1;
		}
		p->keylines = nk;
		p->keylinecap = ncap;
	}
	p->keylines[p->nkeylines].line = p->lineno;
	p->keylines[p->nkeylines].key = (unsigned)key;
	p->nkeylines++;
	return 0;
}

/*
 * on_key(p, name, value):
 * One "name = value" line of the current section (line p->lineno).
 * Return 0, or -1 if it was wrong (the error is recorded).
 */
static int
on_key(struct parse *p, const char *name, const char *value)
{
	struct section *s;
	const struct key *k = NULL;
	struct pool_conf fleetpool;
	size_t idx = 0;
	char *base;
	char why[512];

	if (p->cur < 0) {
		config_perr(p, p->lineno, NULL, name,
		    "set before any [section]; put it under [aksnap], "
		    "[policy:NAME] or [pool:NAME]");
		return -1;
	}
	s = &p->sects[p->cur];
	switch (s->kind) {
	case SECT_IGNORED:
		return 0; /* the section header is already reported */
	case SECT_GLOBAL:
		k = config_key_find(name, SCOPE_GLOBAL, &idx);
		break;
	case SECT_POLICY:
		k = config_key_find(name, SCOPE_POLICY, &idx);
		break;
	case SECT_POOL:
		/* Pools list their keys alike: try the row after the last. */
		idx = p->keyhint;
		if (idx < config_nkeys &&
		    (config_keys[idx].scope == SCOPE_POOL ||
		        config_keys[idx].scope == SCOPE_POLICY) &&
		    strcmp(config_keys[idx].name, name) == 0)
			k = &config_keys[idx];
		if (k == NULL)
			k = config_key_find(name, SCOPE_POOL, &idx);
		if (k == NULL)
			k = config_key_find(name, SCOPE_POLICY, &idx);
		p->keyhint = idx + 1;
		break;
	case SECT_FLEET:
		switch (config_fleet_key(
		    &p->c->fleets[s->idx], name, value, why, sizeof(why))) {
		case 0:
			return 0;
		case -1:
			config_perr(p, p->lineno, s, name, "%s", why);
			return -1;
		default:
			break;
		}
		k = config_key_find(name, SCOPE_POLICY, &idx);
		if (k == NULL && strcmp(name, "policy") == 0)
			k = config_key_find(name, SCOPE_POOL, &idx);
		break;
	}
	if (k == NULL) {
		config_perr(p, p->lineno, s, name, "unknown key%s",
		    config_key_home(name));
		return -1;
	}
	if (s->seen & (1ULL << idx)) {
		config_perr(p, p->lineno, s, name,
		    "set twice (first on line %d)", config_keyline(p, s, idx));
		return -1;
	}
	if (add_keyline(p, idx))
		return -1;
	s->seen |= 1ULL << idx;
	s->nkl++;

	/* An empty value means "the default" (or "inherit", in a pool). */
	if (value[0] == '\0')
		return 0;

	if (k->scope == SCOPE_GLOBAL) {
		base = (char *)p->c;
	} else if (k->scope == SCOPE_POLICY) {
		if (s->pol == NULL) {
			s->pol = malloc(sizeof(*s->pol));
			if (s->pol == NULL) {
				p->oom = 1;
				return -1;
			}
			config_policy_defaults(s->pol);
		}
		base = (char *)s->pol;
	} else if (s->kind == SECT_POOL) {
		base = (char *)&p->c->pools[s->idx];
	} else {
		/* A fleet's one pool key, policy: into its policy_name. */
		memset(&fleetpool, 0, sizeof(fleetpool));
		base = (char *)&fleetpool;
	}
	if (config_parse_value(k, value, base, why, sizeof(why)) != 0) {
		config_perr(
		    p, p->lineno, s, name, "%s, got \"%.100s\"", why, value);
		s->bad |= 1ULL << idx;
		return -1;
	}
	if (base == (char *)&fleetpool)
		util_strlcpy(p->c->fleets[s->idx].policy_name,
		    fleetpool.policy_name,
		    sizeof(p->c->fleets[s->idx].policy_name));
	s->set |= 1ULL << idx;
	return 0;
}

/*
 * ini_cb(user, section, name, value):
 * The boundary with inih, whose handler returns nonzero on success.  The
 * section inih passes is ignored: the reader tracks sections itself.
 */
static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	(void)section;
	return on_key(user, name, value) == 0;
}

/*
 * find_sep(s, chars):
 * inih's rule: the first of ${chars}, or an inline comment (a ';' after
 * whitespace), or the end of ${s}.
 */
static char *
find_sep(char *s, const char *chars)
{
	char c0 = chars != NULL ? chars[0] : '\0';
	char c1 = chars != NULL && c0 != '\0' ? chars[1] : '\0';
	int was_space = 0;

	/* chars has at most two: "=:" or "]" (a strchr a byte cost most of
	 * reading a large file). */
	while (
	    *s != '\0' && *s != c0 && *s != c1 && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static char *
lskip(char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

static struct section *
new_section(struct parse *p)
{
	struct section *ns;

	if (p->nsects == p->sectcap) {
		size_t ncap = p->sectcap ? p->sectcap * 2 : 8;

		ns = realloc(p->sects, ncap * sizeof(*ns));
		if (ns == NULL) {
			p->oom = 1;
			p->cur = -1;
			return NULL;
		}
		p->sects = ns;
		p->sectcap = ncap;
	}
	ns = &p->sects[p->nsects];
	memset(ns, 0, sizeof(*ns));
	ns->kl = p->nkeylines;
	p->cur = (long)p->nsects++;
	return ns;
}

/*
 * add_pool(p, s):
 * Give pool section ${s} its c->pools entry, where its keys are read.
 * 0, or -1 when out of memory.
 */
static int
add_pool(struct parse *p, struct section *s)
{
	struct config *c = p->c;

	if (c->npools == p->poolcap) {
		size_t ncap = p->poolcap ? p->poolcap * 2 : 8;
		struct pool_conf *np = realloc(c->pools, ncap * sizeof(*np));

		if (np == NULL)
			return -1;
		c->pools = np;
		p->poolcap = ncap;
	}
	s->idx = c->npools++;
	memset(&c->pools[s->idx], 0, sizeof(c->pools[s->idx]));
	util_strlcpy(c->pools[s->idx].key, section_name(p, s),
	    sizeof(c->pools[s->idx].key));
	c->pools[s->idx].line = s->line;
	return 0;
}

/* section_key(p, i, buf, len): p->sects[i] as the repeats are found,
 * "KIND:name" lower-cased (pool keys are typed without case). */
static const char *
section_key(const void *ctx, size_t i, char *buf, size_t len)
{
	const struct parse *p = ctx;
	const struct section *s = &p->sects[i];
	char digit[2] = {(char)('0' + (int)s->kind), '\0'};
	const char *parts[2] = {digit, section_name(p, s)};

	config_lower_join(buf, len, ':', parts, 2);
	return buf;
}

/*
 * open_section(p, title):
 * A "[title]" header on line p->lineno: classify it; later keys go to it.
 */
static void
open_section(struct parse *p, const char *title)
{
	struct section *s;
	const char *name = NULL;
	enum sect_kind kind;
	char tbuf[80];

	if (strcmp(title, "aksnap") == 0) {
		kind = SECT_GLOBAL;
	} else if (strncmp(title, "policy:", 7) == 0) {
		kind = SECT_POLICY;
		name = title + 7;
	} else if (strncmp(title, "pool:", 5) == 0) {
		kind = SECT_POOL;
		name = title + 5;
	} else if (strncmp(title, "fleet:", 6) == 0) {
		kind = SECT_FLEET;
		name = title + 6;
	} else {
		kind = SECT_IGNORED;
	}

	s = new_section(p);
	if (s == NULL)
		return;
	s->kind = kind;
	s->line = p->lineno;
	/* The title is this buffer until the end, then a copy unless the
	 * section is a pool (its key is its name). */
	util_strlcpy(tbuf, title, sizeof(tbuf));
	if (strlen(title) >= sizeof(tbuf))
		memcpy(tbuf + sizeof(tbuf) - 4, "...", 4);
	s->title = tbuf;
	s->nameoff = (unsigned char)strlen(tbuf); /* "" until checked */

	if (kind == SECT_IGNORED) {
		config_perr(p, p->lineno, s, NULL,
		    "unknown section; expected [aksnap], [policy:NAME], "
		    "[pool:NAME] or [fleet:NAME]");
		goto done;
	}
	if (name != NULL && !config_is_name(name)) {
		config_perr(p, p->lineno, s, NULL,
		    "expected a %s name of 1-63 letters, digits, '-', '_' or "
		    "'.', got \"%.100s\"",
		    kind == SECT_POOL        ? "pool"
		        : kind == SECT_FLEET ? "fleet"
		                             : "policy",
		    name);
		s->kind = SECT_IGNORED;
		goto done;
	}
	if (name != NULL) /* a name is at most 63: the title holds it */
		s->nameoff = (unsigned char)(name - title);

	/* Pool keys are typed on the command line: compare without case. */
	{
		char key[80];
		size_t first = 0;
		int got;

		if (p->sections == NULL)
			p->sections = config_seen_new(section_key, p, 0);
		if (p->sections == NULL) {
			p->oom = 1;
			goto done;
		}
		(void)section_key(p, p->nsects - 1, key, sizeof(key));
		got = config_seen_add(p->sections, key, p->nsects - 1, &first);
		if (got < 0) {
			p->oom = 1;
			goto done;
		}
		if (got == 1) {
			config_perr(p, p->lineno, s, NULL,
			    "section repeated (first on line %d); its keys "
			    "are ignored",
			    p->sects[first].line);
			s->kind = SECT_IGNORED;
		}
	}
	if ((s->kind == SECT_FLEET &&
	        config_fleet_add(p->c, section_name(p, s), s->line, &s->idx)) ||
	    (s->kind == SECT_POOL && add_pool(p, s))) {
		p->oom = 1;
		s->kind = SECT_IGNORED;
	}
done:
	s->title = NULL;
	if (s->kind != SECT_POOL) {
		s->title = strdup(tbuf);
		if (s->title == NULL)
			p->oom = 1;
	}
}

/*
 * classify(p, s, str, num):
 * Look at one line (already trimmed), act on headers and malformed lines,
 * and put into ${str} (inih's buffer of ${num} bytes) what inih should see:
 * the key line, or an empty line.
 */
static void
classify(struct parse *p, char *s, char *str, int num)
{
	struct section *sect;
	char *end, *name, *value;
	size_t n = strlen(s);

	str[0] = '\n';
	str[1] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return;

	if (*s == '[') {
		end = find_sep(s + 1, "]");
		if (*end != ']') {
			config_perr(p, p->lineno, NULL, NULL,
			    "expected ']' closing the section header");
			/* An ignored section swallows the keys below it. */
			sect = new_section(p);
			if (sect != NULL) {
				sect->kind = SECT_IGNORED;
				sect->line = p->lineno;
			}
			return;
		}
		*end = '\0';
		value = lskip(end + 1);
		if (*value != '\0' && *value != ';' && *value != '#')
			config_perr(p, p->lineno, NULL, NULL,
			    "unexpected text after the section header");
		name = lskip(s + 1);
		rstrip(name);
		open_section(p, name);
		return;
	}

	end = find_sep(s, "=:");
	if (*end != '=' && *end != ':') {
		config_perr(p, p->lineno, NULL, NULL,
		    "expected KEY = VALUE, a [section] or a comment, got "
		    "\"%.60s\"",
		    s);
		return;
	}
	if (n + 2 <= (size_t)num) {
		/* Fits: inih splits it and calls ini_cb. */
		memcpy(str, s, n);
		str[n] = '\n';
		str[n + 1] = '\0';
		return;
	}
	/* Too long for inih's buffer: split it the way inih would. */
	*end = '\0';
	name = s;
	rstrip(name);
	value = end + 1;
	end = find_sep(value, NULL);
	*end = '\0';
	value = lskip(value);
	rstrip(value);
	(void)on_key(p, name, value);
}

/*
 * config_reader(str, num, stream):
 * inih's fgets-style reader over p->f; see the essay at the top.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	ssize_t n;
	char *s;

	if (num < 2)
		return NULL;
	n = getline(&p->line, &p->linecap, p->f);
	if (n < 0)
		return NULL;
	p->lineno++;
	s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a UTF-8 byte order mark */
	if (n > CONFIG_MAX_LINE) {
		config_perr(p, p->lineno, NULL, NULL,
		    "line longer than %d characters", CONFIG_MAX_LINE);
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	rstrip(s);
	classify(p, lskip(s), str, num);
	return str;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->policies);
	free(c->pool_policies);
	free(c->pools);
	free(c->pool_order);
	free(c->fleets);
	tz_free(c->tz);
	free(c);
}

/*
 * load(path, out, errs):
 * The work of config_load and config_load_errors: on failure the error
 * lines, sorted by line, end up in ${errs}.
 */
static int
load(const char *path, struct config **out, struct buf *errs)
{
	struct parse p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cur = -1;
	*out = NULL;

	p.c = calloc(1, sizeof(*p.c));
	if (p.c == NULL) {
		buf_printf(errs, "%s: out of memory\n", path);
		return -1;
	}
	config_defaults(p.c);
	if (util_strlcpy(p.c->path, path, sizeof(p.c->path)) >=
	    sizeof(p.c->path)) {
		config_perr(&p, 0, NULL, NULL, "path too long");
		goto done;
	}

	p.f = fopen(path, "r");
	if (p.f == NULL) {
		config_perr(
		    &p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		goto done;
	}
	rc = ini_parse_stream(config_reader, &p, ini_cb, &p);
	if (ferror(p.f))
		config_perr(&p, p.lineno, NULL, NULL, "read error: %s",
		    strerror(errno));
	else if (rc < 0)
		p.oom = 1;
	else if (rc > 0 && p.nerrs == 0)
		config_perr(&p, rc, NULL, NULL, "syntax error");
	fclose(p.f);
	free(p.line);
	(void)config_resolve(&p);

done:
	if (p.oom)
		config_perr(&p, 0, NULL, NULL, "out of memory");
	if (p.nerrs > 0)
		qsort(p.errs, p.nerrs, sizeof(*p.errs), cerr_cmp);
	for (size_t i = 0; i < p.nerrs; i++) {
		buf_printf(errs, "%s\n", p.errs[i].text);
		free(p.errs[i].text);
	}
	free(p.errs);
	for (size_t i = 0; i < p.nsects; i++) {
		free(p.sects[i].pol);
		free(p.sects[i].title);
	}
	free(p.sects);
	free(p.keylines);
	config_seen_free(p.sections);
	if (p.nerrs > 0 || p.oom) {
		config_free(p.c);
		return -1;
	}
	*out = p.c;
	return 0;
}

int
config_load(const char *path, struct config **out)
{
	struct buf errs;
	char *line, *nl;
	int rc;

	buf_init(&errs, 1 << 20);
	rc = load(path, out, &errs);
	for (line = errs.data; line != NULL && *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		log_err(NULL, "%s", line);
	}
	if (rc != 0 && errs.len == 0)
		log_err(NULL, "%s: too many errors", path);
	buf_free(&errs);
	return rc;
}

int
config_load_errors(
    const char *path, struct config **out, char *errs, size_t errslen)
{
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	rc = load(path, out, &b);
	if (errslen > 0)
		util_strlcpy(errs, b.data != NULL ? b.data : "", errslen);
	buf_free(&b);
	return rc;
}

/*
 * config_find_pool(c, key):
 * A binary search of the pools read from the file (pool_order), then a
 * look at any that were added after it (a run's fleet pools).
 */
const struct pool_conf *
config_find_pool(const struct config *c, const char *key)
{
	size_t lo = 0, hi;

	if (c == NULL || key == NULL)
		return NULL;
	hi = c->pool_order != NULL ? c->nordered : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pool_conf *pc = &c->pools[c->pool_order[mid]];
		int cmp = strcmp(key, pc->key);

		if (cmp == 0)
			return pc;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (size_t i = c->pool_order != NULL ? c->nordered : 0; i < c->npools;
	     i++)
		if (strcmp(c->pools[i].key, key) == 0)
			return &c->pools[i];
	return NULL;
}
