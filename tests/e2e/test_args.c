/*
 * test_args.c -- DESIGN.md section 3's argument rules, end to end: every
 * usage line that `aksnap COMMAND --help` prints works as printed, and in
 * every order a GNU user would type it (options first, operands first,
 * options between operands, global options before or after the command,
 * "--" before the operands, --name=value), with the same result.
 *
 * "The same result" is read from the parse itself: with -vv every command
 * traces what its arguments came to (global options, its options in
 * order, its operands in order), and each order must give exactly the
 * trace that the usage line means.  The commands really run, against the
 * ARM emulator and a store with history, so "accepted" also means the
 * command's own operand checks pass: no usage error, the same exit code in
 * every order.
 *
 * Usage lines are read from --help, not listed here: a command or option
 * added later is tested the day it is documented.  A placeholder this file
 * has no value for fails the test, naming it.
 *
 * The same fleet (one pool key longer than 20 characters) also shows the
 * tables of list, history, plan, explain, baseline and drift: every cell
 * under its header, and no line wider than 80 at COLUMNS=80.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

#define FLEET "tests/armemu/fleet-demo.json"
#define T0 "2026-11-10T03:00:00Z"
#define T1 "2026-11-12T03:00:00Z"
#define SNAP_SS "aksnap-aks-staging-system-20261110T0200Z"
/* Longer than the 20 characters tables once gave a pool key. */
#define LONG_KEY "staging-system-of-the-west-region"
#define USAGE_PREFIX "usage: aksnap [-c FILE] [-v|-vv] [--json] "

static const char *const INI =
    "\n[policy:default]\nschedule = 0 2 * * *\n"
    "snapshot_when = changed\npromote_after = never\n"
    "\n[pool:" LONG_KEY "]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = system\n"
    "\n[pool:staging-user]\nresource_group = rg-staging\n"
    "cluster = aks-staging\nnodepool = user\n"
    "\n[fleet:none]\ncluster = none-*\n";

#define MAXW 64

/* One concrete command line: its words, and which are operands. */
struct form {
	char cmd[32];
	char *opt[MAXW]; /* "--name" */
	char *val[MAXW]; /* its value, or NULL */
	size_t nopt;
	char *operand[MAXW];
	size_t noperand;
};

struct fx {
	struct harness h;
	int backups; /* db backup FILE: a new file each time */
};

static int
setup(void **state)
{
	static const char *const args[] = {
	    "--fleet", FLEET, "--retry-after", "0", NULL};
	struct fx *f = calloc(1, sizeof(*f));
	json_t *clock;

	if (f == NULL || harness_init(&f->h, args, INI) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	clock = emu_post(
	    f->h.emu, "/_armemu/clock", "{\"now\":\"" T0 "\",\"frozen\":true}");
	if (clock == NULL)
		return -1;
	json_decref(clock);
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
must_run(struct fx *f, struct run_result *r, const char *const *argv)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(harness_run_aksnap(r, argv), 0);
	(void)f;
}

static void
copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	assert_int_equal(fclose(out), 0);
	fclose(in);
}

/*
 * The store as seed() left it, and no backup file, before each order: a
 * command that changes the store (snapshot, pin, promote, db backup) must
 * meet the same state every time for its exit code to be comparable.
 */
static void
restore_store(struct fx *f)
{
	char db[4096], saved[4096], side[4200];

	snprintf(db, sizeof(db), "%s/aksnap.db", f->h.dir);
	snprintf(saved, sizeof(saved), "%s/seed.db", f->h.dir);
	snprintf(side, sizeof(side), "%s-wal", db);
	(void)unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	(void)unlink(side);
	copy_file(saved, db);
	for (int i = 0; i < f->backups; i++) {
		snprintf(side, sizeof(side), "%s/backup-%d.db", f->h.dir, i);
		(void)unlink(side);
	}
}

/* History to point at: one run, so SNAPSHOT and POOL exist. */
static void
seed(struct fx *f)
{
	const char *argv[] = {"-c", f->h.config, "run", "--as-of", T0, NULL};
	char db[4096], saved[4096];
	struct run_result r;

	must_run(f, &r, argv);
	harness_expect_exit(&r, 0);
	run_result_free(&r);
	snprintf(db, sizeof(db), "%s/aksnap.db", f->h.dir);
	snprintf(saved, sizeof(saved), "%s/seed.db", f->h.dir);
	copy_file(db, saved);
}

/* A value for a placeholder, by the option it follows (or none). */
static const char *
placeholder_value(
    struct fx *f, const char *opt, const char *ph, int nth, const char *line)
{
	static const char *const pools[] = {LONG_KEY, "staging-user"};
	static char file[4096];
	const char *bar = strchr(ph, '|');

	if (bar != NULL) {
		/* table|json|env|tfvars: the first choice. */
		static char choice[64];
		size_t n = (size_t)(bar - ph);

		if (n >= sizeof(choice))
			n = sizeof(choice) - 1;
		memcpy(choice, ph, n);
		choice[n] = '\0';
		return choice;
	}
	if (strcmp(ph, "POOL") == 0 ||
	    (strcmp(ph, "NAME") == 0 && opt != NULL &&
	        strcmp(opt, "--pool") == 0))
		return pools[nth % 2];
	if (strcmp(ph, "NAME") == 0 && opt != NULL &&
	    strcmp(opt, "--channel") == 0)
		return "stable";
	if (strcmp(ph, "NAME") == 0 && opt != NULL &&
	    strcmp(opt, "--new-cluster") == 0)
		return "aks-new";
	if (strcmp(ph, "SNAPSHOT") == 0)
		return SNAP_SS;
	if (strcmp(ph, "TIME") == 0)
		return T0;
	if (strcmp(ph, "NEWPOOL") == 0)
		return "np1";
	if (strcmp(ph, "N") == 0)
		return "1";
	if (strcmp(ph, "DURATION") == 0)
		return "10m";
	if (strcmp(ph, "RG") == 0)
		return "rg-staging";
	if (strcmp(ph, "SUBSCRIPTION") == 0)
		return HARNESS_SUBSCRIPTION;
	if (strcmp(ph, "NAME") == 0 && opt != NULL &&
	    strcmp(opt, "--fleet") == 0)
		return "none";
	if (strcmp(ph, "CHANNEL") == 0 && opt != NULL &&
	    strcmp(opt, "--node-os-channel") == 0)
		return "None";
	if (strcmp(ph, "FILE") == 0) {
		snprintf(file, sizeof(file), "%s/backup-%d.db", f->h.dir,
		    f->backups++);
		return file;
	}
	fail_msg("test_args: no value for placeholder '%s'%s%s in \"%s\": "
	         "add one to placeholder_value()",
	    ph, opt != NULL ? " of " : "", opt != NULL ? opt : "", line);
	return NULL;
}

static int
is_placeholder(const char *w)
{
	if (strchr(w, '|') != NULL)
		return 1;
	for (; *w != '\0' && strcmp(w, "...") != 0; w++)
		if ((*w < 'A' || *w > 'Z') && (*w < '0' || *w > '9') &&
		    *w != '_')
			return 0;
	return 1;
}

static void
form_free(struct form *fm)
{
	for (size_t i = 0; i < fm->nopt; i++) {
		free(fm->opt[i]);
		free(fm->val[i]);
	}
	for (size_t i = 0; i < fm->noperand; i++)
		free(fm->operand[i]);
	memset(fm, 0, sizeof(*fm));
}

/*
 * One usage form ("promote SNAPSHOT [--channel NAME] [--as-of TIME]")
 * made concrete: every optional group taken, "X..." taken twice.
 */
static void
form_parse(struct fx *f, const char *line, struct form *fm)
{
	char *copy = strdup(line), *save = NULL, *w;
	char *words[MAXW] = {NULL};
	size_t n = 0, npool = 0;

	assert_non_null(copy);
	memset(fm, 0, sizeof(*fm));
	for (w = strtok_r(copy, " \t\n", &save); w != NULL && n < MAXW;
	     w = strtok_r(NULL, " \t\n", &save)) {
		char *d = w;

		/* Brackets only say "optional": every group is taken. */
		for (char *s = w; *s != '\0'; s++)
			if (*s != '[' && *s != ']')
				*d++ = *s;
		*d = '\0';
		if (w[0] != '\0')
			words[n++] = w;
	}
	assert_true(n > 0);
	snprintf(fm->cmd, sizeof(fm->cmd), "%s", words[0]);
	for (size_t i = 1; i < n; i++) {
		char word[256], *dots;
		int reps = 1;

		snprintf(word, sizeof(word), "%s", words[i]);
		dots = strstr(word, "...");
		if (dots != NULL) {
			*dots = '\0';
			reps = 2;
		}
		if (strncmp(word, "--", 2) == 0) {
			char *value = NULL;

			if (i + 1 < n && is_placeholder(words[i + 1]) &&
			    strncmp(words[i + 1], "--", 2) != 0) {
				value = words[++i];
				if (strstr(value, "...") != NULL) {
					*strstr(value, "...") = '\0';
					reps = 2;
				}
			}
			for (int k = 0; k < reps; k++) {
				const char *v = value == NULL
				    ? NULL
				    : placeholder_value(
				          f, word, value, (int)npool++, line);

				fm->opt[fm->nopt] = strdup(word);
				fm->val[fm->nopt] =
				    v != NULL ? strdup(v) : NULL;
				fm->nopt++;
			}
		} else if (is_placeholder(word)) {
			for (int k = 0; k < reps; k++)
				fm->operand[fm->noperand++] = strdup(
				    placeholder_value(f, NULL, word, k, line));
		} else {
			/* A subcommand word: check, migrate, backup. */
			fm->operand[fm->noperand++] = strdup(word);
		}
	}
	free(copy);
}

/* The trace the form must give: see trace_parse in job/cmd/cli.c. */
static void
form_trace(const struct fx *f, const struct form *fm, char *out, size_t size)
{
	size_t len = (size_t)snprintf(out, size,
	    "aksnap: %s: arguments: config='%s' json=1 verbosity=2 options:",
	    fm->cmd, f->h.config);

	for (size_t i = 0; i < fm->nopt; i++)
		len += (size_t)snprintf(out + len, size - len, " %s%s%s%s",
		    fm->opt[i], fm->val[i] ? "='" : "",
		    fm->val[i] ? fm->val[i] : "", fm->val[i] ? "'" : "");
	len += (size_t)snprintf(out + len, size - len, " operands:");
	for (size_t i = 0; i < fm->noperand; i++)
		len += (size_t)snprintf(
		    out + len, size - len, " '%s'", fm->operand[i]);
}

enum order {
	ORDER_AS_PRINTED, /* globals, command, options, operands */
	ORDER_OPERANDS_FIRST, /* command, operands, options, globals */
	ORDER_INTERLEAVED, /* operand, option, operand, ...; -v split */
	ORDER_DASHDASH, /* options as --name=value, "--", operands */
	ORDER_COUNT
};

static const char *const order_names[] = {
    "as printed", "operands first", "interleaved", "-- and --name=value"};

/* Words of ${fm} in ${order}; pointers into ${fm}, ${f} and ${buf}. */
static size_t
form_argv(const struct fx *f, const struct form *fm, enum order order,
    const char **argv, char buf[][512])
{
	size_t n = 0, o = 0, p = 0;

	switch (order) {
	case ORDER_AS_PRINTED:
		argv[n++] = "-c";
		argv[n++] = f->h.config;
		argv[n++] = "-vv";
		argv[n++] = "--json";
		argv[n++] = fm->cmd;
		for (o = 0; o < fm->nopt; o++) {
			argv[n++] = fm->opt[o];
			if (fm->val[o] != NULL)
				argv[n++] = fm->val[o];
		}
		for (p = 0; p < fm->noperand; p++)
			argv[n++] = fm->operand[p];
		break;
	case ORDER_OPERANDS_FIRST:
		argv[n++] = fm->cmd;
		for (p = 0; p < fm->noperand; p++)
			argv[n++] = fm->operand[p];
		for (o = 0; o < fm->nopt; o++) {
			argv[n++] = fm->opt[o];
			if (fm->val[o] != NULL)
				argv[n++] = fm->val[o];
		}
		argv[n++] = "--json";
		argv[n++] = "--config";
		argv[n++] = f->h.config;
		argv[n++] = "-vv";
		break;
	case ORDER_INTERLEAVED: {
		int placed = 0;

		argv[n++] = "-v";
		argv[n++] = fm->cmd;
		while (o < fm->nopt || p < fm->noperand) {
			if (p < fm->noperand)
				argv[n++] = fm->operand[p++];
			if (!placed) {
				argv[n++] = "-c";
				argv[n++] = f->h.config;
				placed = 1;
			}
			if (o < fm->nopt) {
				argv[n++] = fm->opt[o];
				if (fm->val[o] != NULL)
					argv[n++] = fm->val[o];
				o++;
			}
		}
		if (!placed) {
			argv[n++] = "-c";
			argv[n++] = f->h.config;
		}
		argv[n++] = "--json";
		argv[n++] = "-v";
		break;
	}
	case ORDER_DASHDASH:
		argv[n++] = "--json";
		argv[n++] = fm->cmd;
		snprintf(buf[0], 512, "--config=%s", f->h.config);
		argv[n++] = buf[0];
		argv[n++] = "-v";
		for (o = 0; o < fm->nopt; o++) {
			if (fm->val[o] != NULL) {
				snprintf(buf[1 + o], 512, "%s=%s", fm->opt[o],
				    fm->val[o]);
				argv[n++] = buf[1 + o];
			} else {
				argv[n++] = fm->opt[o];
			}
		}
		argv[n++] = "-v";
		argv[n++] = "--";
		for (p = 0; p < fm->noperand; p++)
			argv[n++] = fm->operand[p];
		break;
	default:
		break;
	}
	argv[n] = NULL;
	return n;
}

/* The trace line of ${err}, copied into ${out} (empty when absent). */
static void
find_trace(const char *err, const char *cmd, char *out, size_t size)
{
	char head[64];
	const char *s, *e;
	size_t len;

	snprintf(head, sizeof(head), "aksnap: %s: arguments: ", cmd);
	out[0] = '\0';
	s = strstr(err, head);
	if (s == NULL)
		return;
	e = strchr(s, '\n');
	len = e != NULL ? (size_t)(e - s) : strlen(s);
	if (len >= size)
		len = size - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

/* Run one form in every order; each must give ${want} and one exit code. */
static void
check_form(struct fx *f, const char *line, const struct form *fm)
{
	char want[4096], got[4096], words[MAXW + 2][512], shown[4096];
	const char *argv[2 * MAXW + 16];
	int first_exit = -1;

	form_trace(f, fm, want, sizeof(want));
	for (int order = 0; order < ORDER_COUNT; order++) {
		struct run_result r;
		size_t n, len = 0;

		n = form_argv(f, fm, (enum order)order, argv, words);
		for (size_t i = 0; i < n && len < sizeof(shown); i++)
			len += (size_t)snprintf(
			    shown + len, sizeof(shown) - len, " %s", argv[i]);
		restore_store(f);
		must_run(f, &r, argv);
		find_trace(r.err, fm->cmd, got, sizeof(got));
		if (strstr(r.err, "try 'aksnap") != NULL ||
		    strcmp(got, want) != 0)
			fail_msg("\"%s\" (%s):\n  aksnap%s\n  exit %d\n  want "
			         "%s\n  got  %s\n  stderr: %s",
			    line, order_names[order], shown, r.exit_code, want,
			    got[0] ? got : "(no trace)", r.err);
		if (first_exit < 0)
			first_exit = r.exit_code;
		else if (r.exit_code != first_exit)
			fail_msg("\"%s\" (%s): exit %d, %d as printed\n  "
			         "aksnap%s\n  stderr: %s",
			    line, order_names[order], r.exit_code, first_exit,
			    shown, r.err);
		run_result_free(&r);
	}
}

/* The command names, from `aksnap --help`'s list. */
static size_t
command_names(char names[][32], size_t max)
{
	const char *argv[] = {"--help", NULL};
	struct run_result r;
	const char *s;
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap(&r, argv), 0);
	harness_expect_exit(&r, 0);
	s = strstr(r.out, "\nCommands:\n");
	assert_non_null(s);
	s += strlen("\nCommands:\n");
	while (*s == ' ' && n < max) {
		while (*s == ' ')
			s++;
		/* Continuation lines ("      [--dry-run] ...") name none. */
		if (sscanf(s, "%31[a-z-]", names[n]) == 1)
			n++;
		s = strchr(s, '\n');
		if (s == NULL)
			break;
		s++;
	}
	run_result_free(&r);
	return n;
}

/*
 * The usage forms of one command's --help: the "usage:" line and its
 * indented continuations, split at " | CMD " (db migrate | db status).
 */
static size_t
usage_forms(const char *cmd, char forms[][1024], size_t max)
{
	const char *argv[] = {cmd, "--help", NULL};
	struct run_result r;
	char all[1024], sep[64];
	const char *s, *e;
	size_t n = 0, len = 0;
	char *cur, *next;

	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap(&r, argv), 0);
	harness_expect_exit(&r, 0);
	s = strstr(r.out, USAGE_PREFIX);
	if (s == NULL)
		fail_msg(
		    "%s --help: no '%s' line:\n%s", cmd, USAGE_PREFIX, r.out);
	s += strlen(USAGE_PREFIX);
	for (;;) {
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		len += (size_t)snprintf(
		    all + len, sizeof(all) - len, "%.*s ", (int)(e - s), s);
		if (*e == '\0' || (e[1] != ' ' && e[1] != '\t'))
			break;
		s = e + 1;
	}
	run_result_free(&r);
	snprintf(sep, sizeof(sep), " | %s ", cmd);
	for (cur = all; cur != NULL && n < max; cur = next) {
		next = strstr(cur, sep);
		if (next != NULL) {
			*next = '\0';
			next += 3;
		}
		snprintf(forms[n++], 1024, "%s", cur);
	}
	return n;
}

static void
test_args_every_usage_line_in_every_order(void **state)
{
	struct fx *f = *state;
	char names[64][32], forms[8][1024];
	size_t ncmd, nform, tested = 0;

	seed(f);
	ncmd = command_names(names, 64);
	assert_true(ncmd >= 18);
	for (size_t c = 0; c < ncmd; c++) {
		nform = usage_forms(names[c], forms, 8);
		for (size_t i = 0; i < nform; i++) {
			struct form fm;

			form_parse(f, forms[i], &fm);
			assert_string_equal(fm.cmd, names[c]);
			check_form(f, forms[i], &fm);
			form_free(&fm);
			tested++;
		}
	}
	/* db has three forms, every other command at least one. */
	assert_true(tested >= ncmd + 2);
}

/* Unknown options name the command and the option, exit 2. */
static void
test_args_unknown_option_names_command_and_option(void **state)
{
	static const char *const cases[][5] = {
	    {"list", "--foo", NULL, NULL,
	        "aksnap: list: unknown option '--foo'"},
	    {"list", "--foo=bar", NULL, NULL,
	        "aksnap: list: unknown option '--foo'"},
	    {"promote", "x", "--chanel", "stable",
	        "aksnap: promote: unknown option '--chanel'"},
	    {"run", "-x", NULL, NULL, "aksnap: run: unknown option '-x'"},
	    {"run", "--pool", NULL, NULL,
	        "aksnap: run: option '--pool' needs a value"},
	    {"plan", "--json=yes", NULL, NULL,
	        "aksnap: plan: option '--json' takes no value"},
	    {"config", "check", "-c", NULL,
	        "aksnap: config: option '-c' needs a value"},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[8] = {"-c", f->h.config, NULL};
		struct run_result r;
		size_t n = 2;

		for (size_t j = 0; j < 4 && cases[i][j] != NULL; j++)
			argv[n++] = cases[i][j];
		argv[n] = NULL;
		must_run(f, &r, argv);
		if (r.exit_code != 2 || strstr(r.err, cases[i][4]) == NULL ||
		    strstr(r.err, "try 'aksnap") == NULL)
			fail_msg("%s %s: exit %d, stderr: %s", cases[i][0],
			    cases[i][1], r.exit_code, r.err);
		run_result_free(&r);
	}
}

/*
 * "--" ends the options: a word after it that looks like an option is an
 * operand (here an unknown pool, named as such); and the permutation does
 * not depend on $POSIXLY_CORRECT, which turns glibc's own off.
 */
static void
test_args_dashdash_and_posixly_correct(void **state)
{
	struct fx *f = *state;
	const char *dd[] = {"-c", f->h.config, "list", "--", "--json", NULL};
	const char *late[] = {
	    "list", LONG_KEY, "--json", "-c", f->h.config, NULL};
	const char *const env[] = {"POSIXLY_CORRECT=1", NULL};
	struct run_result r;
	json_error_t e;
	json_t *doc;

	seed(f);
	must_run(f, &r, dd);
	harness_expect_exit(&r, 2);
	harness_expect_in(r.err, "unknown pool '--json'");
	run_result_free(&r);

	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap_env(&r, late, env), 0);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, &e);
	if (doc == NULL)
		fail_msg("not JSON: %s\n%s", e.text, r.out);
	assert_int_equal(json_array_size(json_object_get(doc, "snapshots")), 1);
	json_decref(doc);
	run_result_free(&r);
}

/* aksnap -c CONFIG ${words}, with COLUMNS=${columns} (NULL: unset). */
static char *
table_of(struct fx *f, const char *columns, const char *const *words)
{
	const char *argv[16] = {"-c", f->h.config};
	char env[32];
	const char *envs[] = {env, NULL};
	struct run_result r;
	size_t n = 2;
	char *out;

	for (size_t i = 0; words[i] != NULL; i++)
		argv[n++] = words[i];
	argv[n] = NULL;
	if (columns != NULL)
		snprintf(env, sizeof(env), "COLUMNS=%s", columns);
	else
		snprintf(env, sizeof(env), "COLUMNS");
	memset(&r, 0, sizeof(r));
	assert_int_equal(harness_run_aksnap_env(&r, argv, envs), 0);
	harness_expect_exit(&r, 0);
	out = strdup(r.out);
	run_result_free(&r);
	return out;
}

/*
 * In ${text}, the table whose header line starts with ${first}: each
 * header after the first starts at a column where every row has two
 * spaces and then a character.  Return how many headers there are.
 */
static size_t
check_aligned(const char *text, const char *first, const char *what)
{
	const char *hdr = strstr(text, first), *row;
	size_t starts[16], n = 1, hlen;

	assert_non_null(hdr);
	hlen = strcspn(hdr, "\n");
	starts[0] = 0;
	for (size_t i = 2; i < hlen && n < 16; i++)
		if (hdr[i - 1] == ' ' && hdr[i - 2] == ' ' && hdr[i] != ' ')
			starts[n++] = i;
	for (row = hdr + hlen + 1; *row != '\0' && *row != '\n';
	     row += strcspn(row, "\n") + 1) {
		size_t len = strcspn(row, "\n");

		if (row[0] == ' ' && len > starts[1] && row[starts[1]] == ' ')
			continue; /* a wrapped continuation line */
		for (size_t k = 1; k < n; k++)
			if (len <= starts[k] || row[starts[k] - 1] != ' ' ||
			    row[starts[k] - 2] != ' ' || row[starts[k]] == ' ')
				fail_msg("%s: column %zu (at %zu) shifted in "
				         "\"%.*s\"\nunder \"%.*s\"",
				    what, k, starts[k], (int)len, row,
				    (int)hlen, hdr);
	}
	return n;
}

static void
check_width(const char *text, size_t max, const char *what)
{
	for (const char *l = text; *l != '\0'; l += strcspn(l, "\n") + 1) {
		size_t len = strcspn(l, "\n");

		/* explain's key/value block names the ARM id whole. */
		if (strncmp(l, "arm id ", 7) == 0)
			continue;
		if (len > max)
			fail_msg("%s: a %zu-character line at COLUMNS=%zu: "
			         "%.*s",
			    what, len, max, (int)len, l);
		if (l[len] == '\0')
			break;
	}
}

static void
test_tables_long_pool_keys_shift_nothing_and_fit_80(void **state)
{
	static const char *const plan_at[] = {"plan", "--as-of", T1, NULL};
	static const char *const list[] = {"list", NULL};
	static const char *const history[] = {"history", NULL};
	static const char *const explain[] = {"explain", SNAP_SS, NULL};
	static const char *const baseline[] = {"baseline", NULL};
	static const char *const drift[] = {"drift", NULL};
	static const struct {
		const char *const *words;
		const char *header;
		size_t columns; /* in a pipe */
		const char *header80; /* at COLUMNS=80 */
	} cases[] = {
	    {list, "POOL  ", 8, "SNAPSHOT  "},
	    {history, "POOL  ", 10, "POOL  "},
	    {plan_at, "POOL  ", 4, "POOL  "},
	    {explain, "AT  ", 6, "AT  "},
	    {baseline, "POOL  ", 7, "POOL  "},
	    {drift, "POOL  ", 8, "POOL  "},
	};
	struct fx *f = *state;
	char *out;

	seed(f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *what = cases[i].words[0];

		out = table_of(f, NULL, cases[i].words);
		if (strstr(out, LONG_KEY) == NULL &&
		    strcmp(what, "explain") != 0)
			fail_msg("%s: no %s in\n%s", what, LONG_KEY, out);
		assert_int_equal(check_aligned(out, cases[i].header, what),
		    cases[i].columns);
		free(out);

		out = table_of(f, "80", cases[i].words);
		check_width(out, 80, what);
		assert_true(check_aligned(out, cases[i].header80, what) >= 2);
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_args_every_usage_line_in_every_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_args_unknown_option_names_command_and_option, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        test_args_dashdash_and_posixly_correct, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tables_long_pool_keys_shift_nothing_and_fit_80, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
