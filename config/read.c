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
 * inih only key lines, left-trimmed, one for one (so inih's line numbers
 * are ours).  A key line too long for inih's buffer is split by the reader
 * with inih's own rules (first '=' or ':', inline comments start at a ';'
 * after whitespace) and handled directly.  Since no line reaches inih
 * indented, inih's multi-line continuation never applies: indentation is
 * insignificant and a value cannot span lines.
 *
 * (During issue 16 the reader split every key line itself, a third fewer
 * instructions for 10,000 pools, about 8 ms; DESIGN.md names inih as the
 * INI parser and the package depends on it, so inih splits them again.)
 *
 * Each key's value is parsed by keys.c into its section; once the whole
 * file is read, resolve.c builds the configuration from the sections.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "config/config_internal.h"
#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"

/* Longest line accepted at all; inih's own buffer is much shorter. */
#define CONFIG_MAX_LINE 4096

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
		k = config_key_hash_find(&p->keys, name, SCOPE_GLOBAL, &idx);
		break;
	case SECT_POLICY:
		k = config_key_hash_find(&p->keys, name, SCOPE_POLICY, &idx);
		break;
	case SECT_POOL:
		k = config_key_hash_find(&p->keys, name, SCOPE_POOL, &idx);
		if (k == NULL)
			k = config_key_hash_find(
			    &p->keys, name, SCOPE_POLICY, &idx);
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
		k = config_key_hash_find(&p->keys, name, SCOPE_POLICY, &idx);
		if (k == NULL && strcmp(name, "policy") == 0)
			k = config_key_hash_find(
			    &p->keys, name, SCOPE_POOL, &idx);
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
 * is_space(c): isspace() of the "C" locale, which aksnap never leaves (and
 * inih's own rules are written in): no call per character.
 */
static int
is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * find_sep(s, stop):
 * inih's rule: the first of the characters before the ';' in ${stop}, or
 * an inline comment (a ';' after whitespace), or the end of ${s}.  ${stop}
 * ends in ';' ("=:;", "];" or ";"), so that strcspn() does the scan.
 */
static char *
find_sep(char *s, const char *stop)
{
	char *q = s;

	for (;;) {
		q += strcspn(q, stop);
		if (*q != ';' || (q > s && is_space((unsigned char)q[-1])))
			return q;
		q++; /* a ';' inside a word */
	}
}

static void
rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && is_space((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static char *
lskip(char *s)
{
	while (*s != '\0' && is_space((unsigned char)*s))
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
	ns->title = "";
	ns->kl = (uint32_t)p->nkeylines;
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

/* same_section(ctx, a, b): sections ${a} and ${b} of the parse ${ctx} are
 * of one kind and named alike but for case. */
static int
same_section(const void *ctx, size_t a, size_t b)
{
	const struct parse *p = ctx;

	return p->sects[a].kind == p->sects[b].kind &&
	    strcasecmp(
	        section_name(&p->sects[a]), section_name(&p->sects[b])) == 0;
}

/* Titles are cut to this, "..." included, as when each had 80 bytes. */
#define TITLE_MAX 79

/*
 * keep_title(p, title):
 * ${title}, cut at TITLE_MAX bytes (its last three then "..."), copied
 * into p->titles; "" when out of memory (p->oom set).
 */
static const char *
keep_title(struct parse *p, const char *title)
{
	struct title_block *b = p->titles;
	size_t n = strlen(title);
	char *t;

	if (n > TITLE_MAX)
		n = TITLE_MAX;
	if (b == NULL || b->cap - b->used < n + 1) {
		b = malloc(sizeof(*b) + 65536);
		if (b == NULL) {
			p->oom = 1;
			return "";
		}
		b->next = p->titles;
		b->used = 0;
		b->cap = 65536;
		p->titles = b;
	}
	t = b->text + b->used;
	memcpy(t, title, n);
	t[n] = '\0';
	if (strlen(title) > TITLE_MAX)
		memcpy(t + TITLE_MAX - 3, "...", 4);
	b->used += n + 1;
	return t;
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
	s->title = keep_title(p, title);
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
		size_t first = 0;
		int got;

		got = config_rows_add(&p->sections,
		    config_hash_lower((uint64_t)kind + 1, section_name(s)),
		    p->nsects - 1, same_section, p, &first);
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
 * split_key(p, s, end):
 * Key line ${s}, whose '=' or ':' is at ${end}: name and value split and
 * trimmed as inih would, and handed to on_key().
 */
static void
split_key(struct parse *p, char *s, char *end)
{
	char *value;

	*end = '\0';
	rstrip(s);
	value = end + 1;
	end = find_sep(value, ";");
	*end = '\0';
	value = lskip(value);
	rstrip(value);
	(void)on_key(p, s, value);
}

/*
 * classify(p, s, str, num):
 * One line (already trimmed): a header, a key, a comment, or wrong.  Acts
 * on headers and wrong lines, and puts into ${str} (inih's buffer of
 * ${num} bytes) what inih should see: the key line, or an empty line.
 */
static void
classify(struct parse *p, char *s, char *str, int num)
{
	struct section *sect;
	char *end, *name, *value;
	size_t n;

	str[0] = '\n';
	str[1] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return;

	if (*s == '[') {
		end = find_sep(s + 1, "];");
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

	end = find_sep(s, "=:;");
	if (*end != '=' && *end != ':') {
		config_perr(p, p->lineno, NULL, NULL,
		    "expected KEY = VALUE, a [section] or a comment, got "
		    "\"%.60s\"",
		    s);
		return;
	}
	n = strlen(s);
	if (n + 2 <= (size_t)num) {
		/* Fits: inih splits it and calls ini_cb(). */
		memcpy(str, s, n);
		str[n] = '\n';
		str[n + 1] = '\0';
		return;
	}
	/* Too long for inih's buffer: split it the way inih would. */
	split_key(p, s, end);
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
 * config_reader(str, num, stream):
 * inih's fgets-style reader over p->f, a line of the file a call through
 * classify(); see the essay at the top.
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
 * huge_pages(mem, len):
 * Ask for transparent huge pages under the 2 MiB-aligned part of
 * [${mem}, ${mem} + ${len}): 10,000 pools fill 5 MB, 1,270 page faults
 * of 4 KiB (on a virtual machine, a third of the load's CPU) or 3 of
 * 2 MiB.  Only advice: without THP in "madvise" (or "always") mode it
 * changes nothing.
 */
static void
huge_pages(void *mem, size_t len)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)mem + huge - 1) & ~(huge - 1);
	uintptr_t e = ((uintptr_t)mem + len) & ~(huge - 1);

	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/*
 * reserve(p):
 * Room for the sections, their key lines, their pools and the set of
 * their names, sized at the start from the file's size (a [pool:NAME]
 * section and its keys are 64 bytes or more, a key line 21 or more), so
 * that 10,000 sections are neither copied nor rehashed at each doubling
 * on the way.  Only a hint: room not used is never touched, and each
 * still grows past it.
 */
static void
reserve(struct parse *p)
{
	struct stat st;
	size_t n;

	if (fstat(fileno(p->f), &st) != 0 || st.st_size <= 0)
		return;
	n = (size_t)(st.st_size < (1 << 26) ? st.st_size : (1 << 26)) / 64;
	(void)config_rows_reserve(&p->sections, n);
	p->sects = malloc(n * sizeof(*p->sects));
	p->sectcap = p->sects != NULL ? n : 0;
	p->keylines = malloc(3 * n * sizeof(*p->keylines));
	p->keylinecap = p->keylines != NULL ? 3 * n : 0;
	p->c->pools = malloc(n * sizeof(*p->c->pools));
	p->poolcap = p->c->pools != NULL ? n : 0;
	if (p->c->pools != NULL)
		huge_pages(p->c->pools, n * sizeof(*p->c->pools));
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
	config_key_hash_init(&p.keys);
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
	reserve(&p);
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
	while (p.titles != NULL) {
		struct title_block *next = p.titles->next;

		free(p.titles);
		p.titles = next;
	}
	free(p.keylines);
	config_rows_free(&p.sections);
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
