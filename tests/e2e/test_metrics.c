/*
 * test_metrics.c -- the Prometheus textfile stays whole (issue 14): after
 * a full run, `snapshot POOL`, `run --pool P` and `prune POOL` it still
 * describes every configured pool, rendered from the store; the last full
 * run's timestamp is kept apart from the single-pool commands'; a pool's
 * failure survives a later command that did not touch it.
 *
 * Every file written is read by a Prometheus text-format parser here
 * (every line: HELP, TYPE, sample syntax, label escaping, one TYPE before
 * a family's samples, no series twice), and, where promtool is installed,
 * by `promtool check metrics` too; without promtool that part is reported
 * as not run on stdout, never skipped silently.
 */
#include <ctype.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define T0 "2026-11-10T03:00:00Z"
#define T0_S 1794279600LL
#define T1 "2026-11-11T03:00:00Z"
#define T1_S 1794366000LL
#define T2 "2026-11-12T03:00:00Z"
#define T2_S 1794452400LL
#define T0_LATER                                                               \
	"2026-11-10T04:00:00Z" /* T0's slot again: every pool skips            \
	                        */

static const char *const POOLS[] = {"staging-system", "staging-user",
    "prod-system", "prod-batch", "edge-system", NULL};

static const char *const INI =
    "\n[policy:default]\nschedule = 0 2 * * *\n"
    "snapshot_when = always\npromote_after = never\nkeep_last = 1\n"
    "min_keep = 1\n"
    "\n[pool:staging-system]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\n"
    "\n[pool:prod-system]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = system\n"
    "\n[pool:prod-batch]\nresource_group = rg-prod\n"
    "cluster = aks-prod\nnodepool = batch\n"
    "\n[pool:edge-system]\nresource_group = rg-prod\n"
    "cluster = aks-edge\nnodepool = system\n";

/* ---- a Prometheus text-format (0.0.4) reader ---- */

#define MAX_SERIES 512

struct series {
	char name[128];
	char labels[512]; /* canonical: a="x",b="y" (unescaped values) */
	double value;
};

struct family {
	char name[128];
	char type[16];
	int help, samples;
};

struct metrics {
	struct series s[MAX_SERIES];
	size_t n;
	struct family f[64];
	size_t nf;
	char error[512];
};

static int
name_char(int c, int first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

static int
bad(struct metrics *m, int line, const char *why, const char *text)
{
	snprintf(
	    m->error, sizeof(m->error), "line %d: %s: \"%s\"", line, why, text);
	return -1;
}

static struct family *
family_of(struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nf; i++)
		if (strcmp(m->f[i].name, name) == 0)
			return &m->f[i];
	return NULL;
}

/* Read a metric or label name at *p; its length, 0 if none. */
static size_t
read_name(const char *p, char *out, size_t size, int label)
{
	size_t n = 0;

	while (name_char((unsigned char)p[n], n == 0) &&
	    !(label && p[n] == ':') && n + 1 < size) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
	return n;
}

/*
 * parse_metrics(text, m): every line of ${text} must be a comment (HELP
 * or TYPE, each once per family and before its samples), a sample, or
 * empty.  0, or -1 with m->error naming the line.
 */
static int
parse_metrics(const char *text, struct metrics *m)
{
	const char *p = text;
	char last_family[128] = "";
	int ln = 0;

	memset(m, 0, sizeof(*m));
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		char line[2048], name[128], *q, *end;
		struct family *f;
		struct series *s;
		size_t len;

		ln++;
		if (eol == NULL)
			return bad(m, ln, "no newline at the end", p);
		len = (size_t)(eol - p);
		if (len >= sizeof(line))
			return bad(m, ln, "line too long", "");
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol + 1;
		if (len == 0)
			continue;
		if (line[0] == '#') {
			int is_help = strncmp(line, "# HELP ", 7) == 0;
			int is_type = strncmp(line, "# TYPE ", 7) == 0;

			if (!is_help && !is_type)
				continue; /* a plain comment */
			q = line + 7;
			if (read_name(q, name, sizeof(name), 0) == 0)
				return bad(m, ln, "no metric name", line);
			q += strlen(name);
			if (*q != ' ')
				return bad(
				    m, ln, "no text after the name", line);
			f = family_of(m, name);
			if (f == NULL) {
				if (m->nf == sizeof(m->f) / sizeof(m->f[0]))
					return bad(m, ln, "too many", line);
				f = &m->f[m->nf++];
				snprintf(f->name, sizeof(f->name), "%s", name);
			}
			if (f->samples > 0)
				return bad(
				    m, ln, "HELP/TYPE after samples", line);
			if (is_help) {
				if (f->help++)
					return bad(m, ln, "second HELP", line);
				continue;
			}
			if (f->type[0] != '\0')
				return bad(m, ln, "second TYPE", line);
			q++;
			if (strcmp(q, "counter") != 0 &&
			    strcmp(q, "gauge") != 0 &&
			    strcmp(q, "histogram") != 0 &&
			    strcmp(q, "summary") != 0 &&
			    strcmp(q, "untyped") != 0)
				return bad(m, ln, "unknown type", line);
			snprintf(f->type, sizeof(f->type), "%s", q);
			continue;
		}
		/* A sample: name{label="value",...} value */
		if (m->n == MAX_SERIES)
			return bad(m, ln, "too many samples", line);
		s = &m->s[m->n];
		memset(s, 0, sizeof(*s));
		q = line;
		if (read_name(q, s->name, sizeof(s->name), 0) == 0)
			return bad(m, ln, "no metric name", line);
		q += strlen(s->name);
		f = family_of(m, s->name);
		if (f == NULL || f->type[0] == '\0')
			return bad(m, ln, "sample without a TYPE", line);
		if (strcmp(last_family, s->name) != 0 && f->samples > 0)
			return bad(
			    m, ln, "family's samples not together", line);
		snprintf(last_family, sizeof(last_family), "%s", s->name);
		if (*q == '{') {
			size_t o = 0;

			q++;
			while (*q != '}') {
				char lname[128];

				if (read_name(q, lname, sizeof(lname), 1) == 0)
					return bad(
					    m, ln, "bad label name", line);
				q += strlen(lname);
				if (q[0] != '=' || q[1] != '"')
					return bad(
					    m, ln, "label without =\"", line);
				q += 2;
				o += (size_t)snprintf(s->labels + o,
				    sizeof(s->labels) - o, "%s%s=\"",
				    o ? "," : "", lname);
				while (*q != '"') {
					char c = *q;

					if (c == '\0')
						return bad(m, ln,
						    "unterminated label value",
						    line);
					if (c == '\\') {
						q++;
						if (*q == 'n')
							c = '\n';
						else if (*q == '\\' ||
						    *q == '"')
							c = *q;
						else
							return bad(m, ln,
							    "bad escape", line);
					}
					if (o + 2 < sizeof(s->labels))
						s->labels[o++] = c;
					q++;
				}
				q++;
				o += (size_t)snprintf(
				    s->labels + o, sizeof(s->labels) - o, "\"");
				if (*q == ',')
					q++;
				else if (*q != '}')
					return bad(m, ln,
					    "expected , or } after a label",
					    line);
			}
			q++;
		}
		if (*q != ' ')
			return bad(m, ln, "no space before the value", line);
		q++;
		s->value = strtod(q, &end);
		if (end == q)
			return bad(m, ln, "value is not a number", line);
		if (*end == ' ') {
			/* An optional timestamp (ms). */
			(void)strtoll(end + 1, &end, 10);
		}
		if (*end != '\0')
			return bad(m, ln, "junk after the value", line);
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->s[i].name, s->name) == 0 &&
			    strcmp(m->s[i].labels, s->labels) == 0)
				return bad(m, ln, "series twice", line);
		f->samples++;
		m->n++;
	}
	return 0;
}

/* The value of name{labels}; fails the test when absent. */
static double
value_of(const struct metrics *m, const char *name, const char *labels)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i].name, name) == 0 &&
		    strcmp(m->s[i].labels, labels) == 0)
			return m->s[i].value;
	fail_msg("no series %s{%s}", name, labels);
	return 0;
}

static int
has_pool(const struct metrics *m, const char *name, const char *pool)
{
	char want[128];

	snprintf(want, sizeof(want), "pool=\"%s\"", pool);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->s[i].name, name) == 0 &&
		    strncmp(m->s[i].labels, want, strlen(want)) == 0 &&
		    (m->s[i].labels[strlen(want)] == '\0' ||
		        m->s[i].labels[strlen(want)] == ','))
			return 1;
	return 0;
}

/* ---- the fixture ---- */

struct fx {
	struct harness h;
	char prom[4096];
	int promtool_runs;
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || harness_init(&f->h, args, INI) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	snprintf(f->prom, sizeof(f->prom), "%s/aksnap.prom", f->h.dir);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	if (f != NULL)
		harness_fini(&f->h);
	free(f);
	return 0;
}

static void
set_clock(struct fx *f, const char *at)
{
	char body[128];
	json_t *j;

	snprintf(body, sizeof(body), "{\"now\":\"%s\",\"frozen\":true}", at);
	j = emu_post(f->h.emu, "/_armemu/clock", body);
	assert_non_null(j);
	json_decref(j);
}

/* aksnap -c CONFIG WORDS...; its exit code must be ${expect}. */
static void
aksnap(struct fx *f, int expect, ...)
{
	struct run_result r;
	va_list ap;

	va_start(ap, expect);
	assert_int_equal(harness_aksnap_va(&f->h, &r, ap), 0);
	va_end(ap);
	harness_expect_exit(&r, expect);
	run_result_free(&r);
}

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* promtool check metrics, where installed; said on stdout either way. */
static void
promtool_check(struct fx *f, const char *after)
{
	const char *which[] = {
	    "sh", "-c", "command -v promtool >/dev/null", NULL};
	const char *check[] = {
	    "sh", "-c", "promtool check metrics < \"$0\"", f->prom, NULL};
	struct run_result r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run(&r, which, NULL), 0);
	if (r.exit_code != 0) {
		printf("promtool check metrics (after %s): not run, promtool "
		       "is not installed (the parser check ran)\n",
		    after);
		run_result_free(&r);
		return;
	}
	run_result_free(&r);
	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run(&r, check, NULL), 0);
	if (r.exit_code != 0)
		fail_msg("promtool check metrics (after %s): exit %d\n%s%s",
		    after, r.exit_code, r.out, r.err);
	run_result_free(&r);
	f->promtool_runs++;
}

/*
 * Read the file after ${after}: it parses, and every per-pool family names
 * every configured pool (pool_info: every pool observed at least once).
 */
static void
read_whole(struct fx *f, const char *after, struct metrics *m)
{
	static const char *const per_pool[] = {
	    "aksnap_last_success_timestamp_seconds", "aksnap_pool_failed",
	    "aksnap_snapshots", "aksnap_pool_info", NULL};
	char *text = slurp(f->prom);

	if (parse_metrics(text, m) != 0)
		fail_msg("after %s: %s\n%s", after, m->error, text);
	free(text);
	for (size_t i = 0; per_pool[i] != NULL; i++)
		for (size_t p = 0; POOLS[p] != NULL; p++)
			if (!has_pool(m, per_pool[i], POOLS[p]))
				fail_msg("after %s: %s has no series for "
				         "pool %s",
				    after, per_pool[i], POOLS[p]);
	/* Eight snapshot states a pool, whatever the command touched. */
	for (size_t i = 0; i < m->nf; i++)
		if (strcmp(m->f[i].name, "aksnap_snapshots") == 0)
			assert_int_equal(m->f[i].samples % 5, 0);
	promtool_check(f, after);
}

/* ---- tests ---- */

/* The reader itself: what it must refuse, and escapes it must undo. */
static void
test_metrics_parser_checks_every_line(void **state)
{
	static const char *const refused[] = {
	    "x 1\n", /* no TYPE */
	    "# TYPE x gauge\nx{a=\"1\"} one\n",
	    "# TYPE x gauge\nx{a=\"1} 1\n",
	    "# TYPE x gauge\nx{a=\"\\t\"} 1\n",
	    "# TYPE x gauge\nx{1a=\"1\"} 1\n",
	    "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
	    "# TYPE x gauge\n# TYPE x counter\nx 1\n",
	    "# TYPE x gauge\nx 1\n# HELP x late\n",
	    "# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 1\n",
	    "# TYPE x gauge\nx 1",
	    "# TYPE x gauge\nx 1 2 3\n",
	    "# TYPE x sometimes\nx 1\n",
	    NULL,
	};
	struct metrics *m = calloc(1, sizeof(*m));

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; refused[i] != NULL; i++)
		if (parse_metrics(refused[i], m) == 0)
			fail_msg("accepted: %s", refused[i]);
	assert_int_equal(parse_metrics("# HELP x h\n# TYPE x gauge\n"
	                               "x{a=\"q\\\"b\\\\s\\nn\",b=\"\"} "
	                               "1.5 1700000000000\n",
	                     m),
	    0);
	assert_int_equal(m->n, 1);
	assert_string_equal(m->s[0].labels, "a=\"q\"b\\s\nn\",b=\"\"");
	assert_true(m->s[0].value == 1.5);
	free(m);
}

static void
test_metrics_describe_every_pool_whatever_the_command(void **state)
{
	struct fx *f = *state;
	struct metrics *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	/* prod-batch's first snapshot PUT is refused: it fails at T0. */
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/"
	                "aksnap-aks-prod-batch-*\",\"action\":\"status\","
	                "\"status\":400,\"error_code\":\"InvalidParameter\","
	                "\"count\":1}") > 0);
	set_clock(f, T0);
	aksnap(f, 1, "run", "--as-of", T0, NULL);
	read_whole(f, "the full run", m);
	assert_true(value_of(m, "aksnap_last_run_timestamp_seconds", "") ==
	    (double)T0_S);
	assert_true(
	    value_of(m, "aksnap_pool_failed", "pool=\"prod-batch\"") == 1);
	assert_true(
	    value_of(m, "aksnap_pool_failed", "pool=\"staging-user\"") == 0);
	assert_true(value_of(m, "aksnap_last_partial_run_timestamp_seconds",
	                "mode=\"snapshot\"") == 0);

	/* One pool by hand: every pool stays; the full run's time stays. */
	aksnap(f, 0, "snapshot", "staging-user", NULL);
	read_whole(f, "snapshot staging-user", m);
	assert_true(value_of(m, "aksnap_last_run_timestamp_seconds", "") ==
	    (double)T0_S);
	assert_true(value_of(m, "aksnap_last_partial_run_timestamp_seconds",
	                "mode=\"snapshot\"") > (double)T0_S);
	/* prod-batch's failure is the store's, not this process's. */
	assert_true(
	    value_of(m, "aksnap_pool_failed", "pool=\"prod-batch\"") == 1);
	assert_true(value_of(m, "aksnap_snapshots",
	                "pool=\"staging-user\",state=\"active\"") == 2);
	assert_true(value_of(m, "aksnap_snapshots",
	                "pool=\"staging-system\",state=\"active\"") == 1);

	set_clock(f, T1);
	aksnap(f, 0, "run", "--pool", "prod-batch", "--as-of", T1, NULL);
	read_whole(f, "run --pool prod-batch", m);
	assert_true(value_of(m, "aksnap_last_run_timestamp_seconds", "") ==
	    (double)T0_S);
	assert_true(value_of(m, "aksnap_last_partial_run_timestamp_seconds",
	                "mode=\"run\"") == (double)T1_S);
	assert_true(
	    value_of(m, "aksnap_pool_failed", "pool=\"prod-batch\"") == 0);
	assert_true(value_of(m, "aksnap_last_success_timestamp_seconds",
	                "pool=\"staging-system\"") == (double)T0_S);

	aksnap(f, 0, "prune", "staging-user", "--as-of", T1, NULL);
	read_whole(f, "prune staging-user", m);
	assert_true(value_of(m, "aksnap_last_partial_run_timestamp_seconds",
	                "mode=\"prune\"") == (double)T1_S);
	assert_true(value_of(m, "aksnap_last_run_timestamp_seconds", "") ==
	    (double)T0_S);

	set_clock(f, T2);
	aksnap(f, 0, "run", "--as-of", T2, NULL);
	read_whole(f, "the second full run", m);
	assert_true(value_of(m, "aksnap_last_run_timestamp_seconds", "") ==
	    (double)T2_S);
	assert_true(value_of(m, "aksnap_last_partial_run_timestamp_seconds",
	                "mode=\"run\"") == (double)T1_S);
	printf(
	    "promtool check metrics ran on %d of 5 files\n", f->promtool_runs);
	free(m);
}

/* The one integer ${query} answers on the store. */
static long long
store_int(struct fx *f, const char *query)
{
	char path[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	snprintf(path, sizeof(path), "%s/aksnap.db", f->h.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* ${text} without its sample of ${name} (no labels). */
static void
drop_sample(char *text, const char *name)
{
	char want[128], *at, *nl;

	snprintf(want, sizeof(want), "\n%s ", name);
	at = strstr(text, want);
	nl = at != NULL ? strchr(at + 1, '\n') : NULL;

	assert_non_null(nl);
	memmove(at, nl, strlen(nl) + 1);
}

/*
 * A plain run carries out a pool's retention and reads its figures as
 * soon as its slot is recorded (a skip: in its cluster's GET callback; a
 * snapshot taken: in its PUT's), while the other requests are in flight;
 * a run with a report (-v) does both at the end.  In T0's slot again,
 * after a new node image on aks-prod (its pools' new versions are
 * recorded in their GET's callback; prod-batch, whose PUT was refused at
 * T0, takes its snapshot now) and with aks-edge's GET refused
 * (edge-system fails), both write the same text but for the run's
 * duration and the count of failed runs (one more).  The plain run wrote
 * the settled pools' outcomes in the batch, the failed one's at the end:
 * every pool's is this run's.
 */
static void
test_metrics_a_plain_run_writes_what_a_reported_run_writes(void **state)
{
	struct fx *f = *state;
	struct metrics *m = calloc(1, sizeof(*m));
	char *plain, *reported, *old_image;
	const char *info = "aksnap_pool_info{pool=\"prod-system\","
	                   "node_image_version=\"";

	assert_non_null(m);
	assert_true(emu_fault(f->h.emu,
	                "{\"method\":\"PUT\",\"path\":\"*/snapshots/"
	                "aksnap-aks-prod-batch-*\",\"action\":\"status\","
	                "\"status\":400,\"error_code\":\"InvalidParameter\","
	                "\"count\":1}") > 0);
	set_clock(f, T0);
	aksnap(f, 1, "run", "--as-of", T0, NULL);
	plain = slurp(f->prom);
	assert_non_null(strstr(plain, info));
	old_image = strdup(strstr(plain, info) + strlen(info));
	assert_non_null(old_image);
	*strchr(old_image, '"') = '\0';
	free(plain);
	json_decref(emu_post(
	    f->h.emu, "/_armemu/release", "{\"cluster\":\"aks-prod\"}"));
	set_clock(f, T0_LATER);
	assert_true(
	    emu_fault(f->h.emu,
	        "{\"method\":\"GET\",\"path\":\"*/managedClusters/"
	        "aks-edge\",\"action\":\"status\",\"status\":400,"
	        "\"error_code\":\"InvalidParameter\",\"count\":-1}") > 0);
	aksnap(f, 1, "run", "--as-of", T0_LATER, NULL);
	read_whole(f, "the plain run", m);
	assert_int_equal(store_int(f,
	                     "SELECT count(*) FROM pool_outcomes WHERE run_id "
	                     "= (SELECT max(id) FROM runs) AND failed = 0"),
	    4);
	assert_int_equal(
	    store_int(f,
	        "SELECT count(*) FROM pool_outcomes o JOIN pools p "
	        "ON p.id = o.pool_id WHERE p.key = 'edge-system' "
	        "AND o.failed = 1 AND o.run_id = (SELECT max(id) "
	        "FROM runs)"),
	    1);
	assert_true(
	    value_of(m, "aksnap_pool_failed", "pool=\"edge-system\"") == 1);
	/* prod-batch's snapshot, kept by the retention its PUT's answer
	 * carried out */
	assert_true(value_of(m, "aksnap_snapshots",
	                "pool=\"prod-batch\",state=\"active\"") == 1);
	assert_int_equal(store_int(f,
	                     "SELECT count(*) FROM decisions d JOIN pools p ON "
	                     "p.id = d.pool_id WHERE p.key = 'prod-batch' AND "
	                     "d.action = 'keep' AND d.last_run_id = (SELECT "
	                     "max(id) FROM runs)"),
	    1);
	plain = slurp(f->prom);
	/* read after the pool's observation was recorded */
	assert_non_null(strstr(plain, info));
	assert_true(strncmp(strstr(plain, info) + strlen(info), old_image,
	                strlen(old_image)) != 0);
	aksnap(f, 1, "-v", "run", "--as-of", T0_LATER, NULL);
	reported = slurp(f->prom);
	assert_non_null(strstr(plain, "\naksnap_run_failures_total 2\n"));
	assert_non_null(strstr(reported, "\naksnap_run_failures_total 3\n"));
	for (int k = 0; k < 2; k++) {
		drop_sample(
		    k ? plain : reported, "aksnap_run_duration_seconds");
		drop_sample(k ? plain : reported, "aksnap_run_failures_total");
	}
	assert_string_equal(plain, reported);
	free(old_image);
	free(plain);
	free(reported);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_parser_checks_every_line),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_describe_every_pool_whatever_the_command, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_metrics_a_plain_run_writes_what_a_reported_run_writes,
	        setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
