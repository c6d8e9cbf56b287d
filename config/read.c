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
 * Each key's value is parsed by keys.c into its section; once the whole
 * file is read, resolve.c builds the configuration from the sections.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"

/* Longest line accepted at all; inih's own buffer is much shorter. */
#define CONFIG_MAX_LINE 4096

void
config_seen_free(struct seen_set *ss)
{
	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->cap; i++)
		free(ss->keys[i]);
	free(ss->keys);
	free(ss->vals);
	free(ss);
}

static int
seen_grow(struct seen_set *ss)
{
	size_t ncap = ss->cap ? ss->cap * 2 : 64;
	char **nk = calloc(ncap, sizeof(*nk));
	size_t *nv = calloc(ncap, sizeof(*nv));

	if (nk == NULL || nv == NULL) {
		free(nk);
		free(nv);
		return -1;
	}
	for (size_t i = 0; i < ss->cap; i++) {
		size_t j;

		if (ss->keys[i] == NULL)
			continue;
		j = util_fnv1a64(ss->keys[i]) & (ncap - 1);
		while (nk[j] != NULL)
			j = (j + 1) & (ncap - 1);
		nk[j] = ss->keys[i];
		nv[j] = ss->vals[i];
	}
	free(ss->keys);
	free(ss->vals);
	ss->keys = nk;
	ss->vals = nv;
	ss->cap = ncap;
	return 0;
}

/*
 * config_seen_add(ss, key, val, prev):
 * Add ${key} with ${val}.  Return 0 when it was new, 1 when it was there
 * already (its value in ${*prev}; nothing added), -1 on ENOMEM.
 */
int
config_seen_add(struct seen_set *ss, const char *key, size_t val, size_t *prev)
{
	size_t j;

	if ((ss->n + 1) * 2 > ss->cap && seen_grow(ss))
		return -1;
	j = util_fnv1a64(key) & (ss->cap - 1);
	while (ss->keys[j] != NULL) {
		if (strcmp(ss->keys[j], key) == 0) {
			*prev = ss->vals[j];
			return 1;
		}
		j = (j + 1) & (ss->cap - 1);
	}
	ss->keys[j] = strdup(key);
	if (ss->keys[j] == NULL)
		return -1;
	ss->vals[j] = val;
	ss->n++;
	return 0;
}

int
config_seen_reserve(struct seen_set *ss, size_t n)
{
	size_t cap = 64;

	if (ss->n > 0)
		return 0;
	while ((n + 1) * 2 > cap)
		cap *= 2;
	if (cap <= ss->cap)
		return 0;
	free(ss->keys);
	free(ss->vals);
	ss->keys = calloc(cap, sizeof(*ss->keys));
	ss->vals = calloc(cap, sizeof(*ss->vals));
	ss->cap = cap;
	if (ss->keys == NULL || ss->vals == NULL) {
		free(ss->keys);
		free(ss->vals);
		ss->keys = NULL;
		ss->vals = NULL;
		ss->cap = 0;
		return -1;
	}
	return 0;
}

/* config_seen_find(ss, key, val): 1 with its value, or 0. */
int
config_seen_find(const struct seen_set *ss, const char *key, size_t *val)
{
	size_t j;

	if (ss->cap == 0)
		return 0;
	j = util_fnv1a64(key) & (ss->cap - 1);
	while (ss->keys[j] != NULL) {
		if (strcmp(ss->keys[j], key) == 0) {
			*val = ss->vals[j];
			return 1;
		}
		j = (j + 1) & (ss->cap - 1);
	}
	return 0;
}

void
config_lower(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, len, fmt, ap);
	va_end(ap);
	for (; *dst != '\0'; dst++)
		*dst = (char)tolower((unsigned char)*dst);
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
	if (s != NULL && key != NULL)
		buf_printf(&b, "[%s] %s: ", s->title, key);
	else if (s != NULL)
		buf_printf(&b, "[%s]: ", s->title);
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
		k = config_key_find(name, SCOPE_POOL, &idx);
		if (k == NULL)
			k = config_key_find(name, SCOPE_POLICY, &idx);
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
	int was_space = 0;

	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	    !(was_space && *s == ';')) {
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
	util_strlcpy(c->pools[s->idx].key, section_name(s),
	    sizeof(c->pools[s->idx].key));
	c->pools[s->idx].line = s->line;
	return 0;
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
	util_strlcpy(s->title, title, sizeof(s->title));
	if (strlen(title) >= sizeof(s->title))
		memcpy(s->title + sizeof(s->title) - 4, "...", 4);
	s->nameoff = (unsigned char)strlen(s->title); /* "" until checked */

	if (kind == SECT_IGNORED) {
		config_perr(p, p->lineno, s, NULL,
		    "unknown section; expected [aksnap], [policy:NAME], "
		    "[pool:NAME] or [fleet:NAME]");
		return;
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
		return;
	}
	if (name != NULL) /* a name is at most 63: the title holds it */
		s->nameoff = (unsigned char)(name - title);

	/* Pool keys are typed on the command line: compare without case. */
	{
		char key[80];
		size_t first = 0;
		int got;

		if (p->sections == NULL)
			p->sections = calloc(1, sizeof(*p->sections));
		if (p->sections == NULL) {
			p->oom = 1;
			return;
		}
		config_lower(
		    key, sizeof(key), "%d:%s", (int)kind, section_name(s));
		got = config_seen_add(p->sections, key, p->nsects - 1, &first);
		if (got < 0) {
			p->oom = 1;
			return;
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
	        config_fleet_add(p->c, section_name(s), s->line, &s->idx)) ||
	    (s->kind == SECT_POOL && add_pool(p, s))) {
		p->oom = 1;
		s->kind = SECT_IGNORED;
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
 * reserve_sections(p):
 * The set of section names sized for the file at the start, from its
 * size (a [pool:NAME] section and its keys are 80 bytes or more), so
 * that 10,000 sections are not rehashed at each doubling on the way.
 * Only a hint: the set still grows past it.
 */
static void
reserve_sections(struct parse *p)
{
	struct stat st;

	if (fstat(fileno(p->f), &st) != 0 || st.st_size <= 0)
		return;
	p->sections = calloc(1, sizeof(*p->sections));
	if (p->sections != NULL)
		(void)config_seen_reserve(p->sections,
		    (size_t)(st.st_size < (1 << 26) ? st.st_size : (1 << 26)) /
		        64);
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
	reserve_sections(&p);
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
	for (size_t i = 0; i < p.nsects; i++)
		free(p.sects[i].pol);
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
