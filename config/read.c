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
 * inih only key lines, trimmed.  A key line too long for inih's buffer is
 * split by the reader with inih's own rules (first '=' or ':', inline
 * comments start at a ';' after whitespace) and handled directly.  Since
 * no line reaches inih indented, inih's multi-line continuation never
 * applies: indentation is insignificant and a value cannot span lines.
 *
 * inih's line numbers are not ours: it is handed line 1 whatever that is
 * (an empty line for a header or comment), so that its rule for a byte
 * order mark on its line 1 applies to the file's line 1 alone, and after
 * it only the key lines (10,000 pools are 50,000 lines, 30,000 of them
 * keys).  Its one use of a number, the first line it found wrong, is
 * line 1 (that mark's case) or the line whose key ini_cb() refused.
 *
 * The file is read 64 KiB at a time (read(2)), its lines found with
 * memchr(), not a getline() a line through stdio (7 M of the 84 M
 * instructions that loading 10,000 pools took).
 * A line still ends at a NUL byte as getline()'s C string did.
 *
 * (During issue 16 the reader split every key line itself, a third fewer
 * instructions for 10,000 pools, about 8 ms; DESIGN.md names inih as the
 * INI parser and the package depends on it, so inih splits them again.)
 *
 * Each key's value is parsed by keys.c into its section; once the whole
 * file is read, resolve.c builds the configuration from the sections.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config_internal.h"
#include "job/base/log.h"
#include "job/base/tz.h"
#include "job/base/util.h"

/* Longest line accepted at all; inih's own buffer is much shorter. */
#define CONFIG_MAX_LINE 4096

/* The file is read this much at a time (a line must fit, newline and
 * all): 10,000 pools are 13 reads, not a getline() a line. */
#define CONFIG_CHUNK 65536
_Static_assert(CONFIG_CHUNK > CONFIG_MAX_LINE, "a line must fit a chunk");

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
	int named;
	char *base;
	char why[512];

	if (p->cur < 0) {
		config_perr(p, p->lineno, NULL, name,
		    "set before any [section]; put it under [aksnap], "
		    "[policy:NAME] or [pool:NAME]");
		return -1;
	}
	s = &p->sects[p->cur];
	if (s->kind == SECT_IGNORED)
		return 0; /* the section header is already reported */
	if (s->kind == SECT_FLEET) {
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
	}
	named = config_key_name(&p->keys, name, strlen(name));
	switch (s->kind) {
	case SECT_IGNORED:
		break;
	case SECT_GLOBAL:
		k = config_key_scoped(&p->keys, named, SCOPE_GLOBAL, &idx);
		break;
	case SECT_POLICY:
		k = config_key_scoped(&p->keys, named, SCOPE_POLICY, &idx);
		break;
	case SECT_POOL:
		k = config_key_scoped(&p->keys, named, SCOPE_POOL, &idx);
		if (k == NULL)
			k = config_key_scoped(
			    &p->keys, named, SCOPE_POLICY, &idx);
		break;
	case SECT_FLEET:
		k = config_key_scoped(&p->keys, named, SCOPE_POLICY, &idx);
		if (k == NULL && strcmp(name, "policy") == 0)
			k = config_key_scoped(
			    &p->keys, named, SCOPE_POOL, &idx);
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
 * add_pool(p, s, namelen):
 * Give pool section ${s}, whose name is ${namelen} bytes, its c->pools
 * entry, where its keys are read.  0, or -1 when out of memory.
 */
static int
add_pool(struct parse *p, struct section *s, size_t namelen)
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
	memcpy(c->pools[s->idx].key, section_name(s), namelen); /* at most 63 */
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
 * keep_title(p, title, n):
 * ${title} (${n} bytes), cut at TITLE_MAX bytes (its last three then
 * "..."), copied into p->titles; "" when out of memory (p->oom set).
 */
static const char *
keep_title(struct parse *p, const char *title, size_t n)
{
	struct title_block *b = p->titles;
	size_t keep = n > TITLE_MAX ? TITLE_MAX : n;
	char *t;

	if (b == NULL || b->cap - b->used < keep + 1) {
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
	memcpy(t, title, keep);
	t[keep] = '\0';
	if (n > TITLE_MAX)
		memcpy(t + TITLE_MAX - 3, "...", 4);
	b->used += keep + 1;
	return t;
}

/*
 * open_section(p, title, n):
 * A "[title]" header (${n} bytes) on line p->lineno: classify it; later
 * keys go to it.
 */
static void
open_section(struct parse *p, const char *title, size_t n)
{
	struct section *s;
	const char *name = NULL;
	size_t namelen = 0;
	enum sect_kind kind;

	if (n == 6 && memcmp(title, "aksnap", 6) == 0) {
		kind = SECT_GLOBAL;
	} else if (n >= 7 && memcmp(title, "policy:", 7) == 0) {
		kind = SECT_POLICY;
		name = title + 7;
	} else if (n >= 5 && memcmp(title, "pool:", 5) == 0) {
		kind = SECT_POOL;
		name = title + 5;
	} else if (n >= 6 && memcmp(title, "fleet:", 6) == 0) {
		kind = SECT_FLEET;
		name = title + 6;
	} else {
		kind = SECT_IGNORED;
	}
	if (name != NULL)
		namelen = n - (size_t)(name - title);

	s = new_section(p);
	if (s == NULL)
		return;
	s->kind = kind;
	s->line = p->lineno;
	s->title = keep_title(p, title, n);
	/* "" until checked (and when out of memory) */
	s->nameoff = (unsigned char)(*s->title == '\0' ? 0
	        : n > TITLE_MAX                        ? TITLE_MAX
	                                               : n);

	if (kind == SECT_IGNORED) {
		config_perr(p, p->lineno, s, NULL,
		    "unknown section; expected [aksnap], [policy:NAME], "
		    "[pool:NAME] or [fleet:NAME]");
		return;
	}
	if (name != NULL && !config_is_name_n(name, namelen)) {
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
	if (name != NULL && *s->title != '\0') /* a name is at most 63: the
	                                           title holds it */
		s->nameoff = (unsigned char)(name - title);
	else
		namelen = 0;

	/* Pool keys are typed on the command line: compare without case. */
	{
		size_t first = 0;
		int got;

		got = config_rows_add(&p->sections,
		    config_hash_lower_n(
		        (uint64_t)kind + 1, section_name(s), namelen),
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
	    (s->kind == SECT_POOL && add_pool(p, s, namelen))) {
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
 * classify(p, s, n, str, num):
 * One line ${s} of ${n} bytes (already trimmed): a header, a key, a
 * comment, or wrong.  Acts on headers and wrong lines, and puts into
 * ${str} (inih's buffer of ${num} bytes) what inih should see: the key
 * line, or an empty line.  1 when that is a key line for inih, else 0.
 */
static int
classify(struct parse *p, char *s, size_t n, char *str, int num)
{
	struct section *sect;
	char *end, *name, *value;

	str[0] = '\n';
	str[1] = '\0';
	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;

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
			return 0;
		}
		*end = '\0';
		value = lskip(end + 1);
		if (*value != '\0' && *value != ';' && *value != '#')
			config_perr(p, p->lineno, NULL, NULL,
			    "unexpected text after the section header");
		name = lskip(s + 1);
		while (end > name && is_space((unsigned char)end[-1]))
			*--end = '\0';
		open_section(p, name, (size_t)(end - name));
		return 0;
	}

	end = find_sep(s, "=:;");
	if (*end != '=' && *end != ':') {
		config_perr(p, p->lineno, NULL, NULL,
		    "expected KEY = VALUE, a [section] or a comment, got "
		    "\"%.60s\"",
		    s);
		return 0;
	}
	if (n + 2 <= (size_t)num) {
		/* Fits: inih splits it and calls ini_cb(). */
		memcpy(str, s, n);
		str[n] = '\n';
		str[n + 1] = '\0';
		return 1;
	}
	/* Too long for inih's buffer: split it the way inih would. */
	split_key(p, s, end);
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
	struct parse *p = user;

	(void)section;
	if (on_key(p, name, value) == 0)
		return 1;
	if (p->refused == 0)
		p->refused = p->lineno;
	return 0;
}

/*
 * next_line(p, line, len, raw):
 * The next line of the file: ${*line}, ${*len} bytes without its newline
 * (the byte after them may be written), and in ${*raw} the bytes
 * getline() would have counted (its newline in; more than CONFIG_MAX_LINE
 * for a line longer than a chunk, whose text is dropped).  0, or -1 at
 * the end of the file (or at a read error: p->rerr).
 */
static int
next_line(struct parse *p, char **line, size_t *len, size_t *raw)
{
	for (;;) {
		char *start = p->chunk + p->pos;
		size_t left = p->len - p->pos;
		char *nl = left > 0 ? memchr(start, '\n', left) : NULL;
		ssize_t got;

		if (nl != NULL || (p->eof && (left > 0 || p->dropping))) {
			*line = start;
			*len = nl != NULL ? (size_t)(nl - start) : left;
			*raw = *len + (nl != NULL);
			p->pos += *raw;
			if (p->dropping) {
				*raw = (size_t)CONFIG_MAX_LINE + 1;
				p->dropping = 0;
			}
			return 0;
		}
		if (p->eof)
			return -1;
		if (p->pos > 0) { /* a line begun: to the chunk's start */
			memmove(p->chunk, start, left);
			p->len = left;
			p->pos = 0;
		}
		if (p->len == CONFIG_CHUNK) { /* no line is that long */
			p->dropping = 1;
			p->len = 0;
		}
		got = read(p->fd, p->chunk + p->len, CONFIG_CHUNK - p->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			p->rerr = got < 0 ? errno : 0;
			p->eof = 1;
			continue;
		}
		if (!p->nul && memchr(p->chunk + p->len, '\0', (size_t)got))
			p->nul = 1;
		p->len += (size_t)got;
	}
}

/*
 * config_reader(str, num, stream):
 * inih's fgets-style reader over the file (p->fd): each line through
 * classify(), a key line handed to inih; see the essay at the top.  Line
 * 1 is always handed (as an empty line when it is no key line), so that
 * inih's own byte order mark rule applies to it and to no other line;
 * from then on inih sees only key lines.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	char *s;
	size_t n, raw;
	int key;

	if (num < 2)
		return NULL;
	do {
		if (next_line(p, &s, &n, &raw) != 0)
			return NULL;
		p->lineno++;
		if (p->nul)
			n = strnlen(s, n);
		if (p->lineno == 1 && n >= 3 &&
		    memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3; /* a UTF-8 byte order mark */
			n -= 3;
		}
		if (raw > CONFIG_MAX_LINE) {
			config_perr(p, p->lineno, NULL, NULL,
			    "line longer than %d characters", CONFIG_MAX_LINE);
			str[0] = '\n';
			str[1] = '\0';
			key = 0;
			continue;
		}
		while (n > 0 && is_space((unsigned char)s[n - 1]))
			n--;
		s[n] = '\0';
		while (is_space((unsigned char)*s)) {
			s++;
			n--;
		}
		key = classify(p, s, n, str, num);
	} while (!key && p->lineno > 1);
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

	if (fstat(p->fd, &st) != 0 || st.st_size <= 0)
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

	p.fd = open(path, O_RDONLY);
	if (p.fd < 0) {
		config_perr(
		    &p, 0, NULL, NULL, "cannot open: %s", strerror(errno));
		goto done;
	}
	p.chunk = malloc(CONFIG_CHUNK + 1);
	if (p.chunk == NULL) {
		p.oom = 1;
		close(p.fd);
		goto done;
	}
	reserve(&p);
	rc = ini_parse_stream(config_reader, &p, ini_cb, &p);
	if (p.rerr != 0)
		config_perr(&p, p.lineno, NULL, NULL, "read error: %s",
		    strerror(p.rerr));
	else if (rc < 0)
		p.oom = 1;
	else if (rc > 0 && p.nerrs == 0) /* inih's line 1 is ours; it sees
	                                    no other line but key lines */
		config_perr(
		    &p, rc == 1 ? 1 : p.refused, NULL, NULL, "syntax error");
	close(p.fd);
	free(p.chunk);
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
