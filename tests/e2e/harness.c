/*
 * harness.c -- start the emulator, drive its control API, run aksnap.
 *
 * A black-box driver: it knows the emulator's command line and control API
 * and aksnap's command line and configuration file, nothing of either's
 * internals.  Child processes are started with fork/exec; their output is
 * drained from pipes with poll(2) so a chatty child never blocks on a full
 * pipe.  The control API is called with libcurl; certificate checks are off
 * for it because the harness does not know a TLS test's CA (tests that
 * exercise TLS do their own requests).
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <setjmp.h> /* cmocka.h needs these three first */
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tests/e2e/harness.h"

extern char **environ;

struct emu {
	pid_t pid;
	int port;
	char url[64];
};

struct membuf {
	char *data;
	size_t len;
	size_t cap;
};

/* Grows geometrically: a command printing 20 MB, read 8 KiB at a time,
 * would otherwise copy its output thousands of times (ASan's realloc
 * always moves). */
static int
membuf_add(struct membuf *m, const void *p, size_t n)
{
	if (m->len + n + 1 > m->cap) {
		size_t cap = m->cap > 0 ? m->cap : 8192;
		char *d;

		while (cap < m->len + n + 1)
			cap *= 2;
		d = realloc(m->data, cap);
		if (d == NULL)
			return -1;
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, p, n);
	m->len += n;
	m->data[m->len] = '\0';
	return 0;
}

static const char *
armemu_bin(void)
{
	const char *b = getenv("ARMEMU_BIN");

	return (b != NULL && *b != '\0') ? b : "tests/armemu/armemu";
}

struct emu *
emu_start(const char *const *extra_args)
{
	struct emu *e;
	const char *argv[64];
	int fds[2], n = 0, i, tls = 0;
	char line[32];
	size_t got = 0;
	pid_t pid;

	argv[n++] = armemu_bin();
	argv[n++] = "--port";
	argv[n++] = "0";
	for (i = 0; extra_args != NULL && extra_args[i] != NULL && n < 62;
	     i++) {
		if (strcmp(extra_args[i], "--tls-cert") == 0)
			tls = 1;
		argv[n++] = extra_args[i];
	}
	argv[n] = NULL;
	if (pipe(fds) != 0) {
		fprintf(stderr, "harness: pipe: %s\n", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		/*
		 * Die with the test: a test that fails before its teardown
		 * must not leave an emulator holding the test runner's
		 * stderr (CI would wait on it forever).
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(127);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], (char *const *)argv);
		fprintf(
		    stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	/* The first line of stdout is the port. */
	while (got + 1 < sizeof(line)) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, 20000) <= 0)
			break;
		r = read(fds[0], line + got, 1);
		if (r <= 0)
			break;
		got++;
		if (line[got - 1] == '\n')
			break;
	}
	line[got] = '\0';
	close(fds[0]);
	if (got == 0 || atoi(line) <= 0) {
		fprintf(
		    stderr, "harness: %s did not print its port\n", argv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return NULL;
	}
	e->pid = pid;
	e->port = atoi(line);
	snprintf(e->url, sizeof(e->url), "%s://127.0.0.1:%d",
	    tls ? "https" : "http", e->port);
	return e;
}

void
emu_stop(struct emu *e)
{
	int i, status;

	if (e == NULL)
		return;
	kill(e->pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(e->pid, &status, WNOHANG) == e->pid)
			break;
		usleep(50000);
	}
	if (i == 200) {
		fprintf(stderr, "harness: emulator did not stop; killing\n");
		kill(e->pid, SIGKILL);
		waitpid(e->pid, &status, 0);
	}
	free(e);
}

const char *
emu_url(const struct emu *e)
{
	return e->url;
}

int
emu_port(const struct emu *e)
{
	return e->port;
}

int
emu_pid(const struct emu *e)
{
	return (int)e->pid;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *ud)
{
	return membuf_add(ud, p, size * n) == 0 ? size * n : 0;
}

/* One control-API call; return the body (caller frees) and the status. */
static char *
control_call(struct emu *e, const char *method, const char *path,
    const char *body, long *status)
{
	CURL *c;
	struct membuf m = {NULL, 0, 0};
	struct curl_slist *h = NULL;
	char url[1024];
	CURLcode rc;

	*status = -1;
	c = curl_easy_init();
	if (c == NULL)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", e->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else
		fprintf(stderr, "harness: %s %s: %s\n", method, url,
		    curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(m.data);
		return NULL;
	}
	if (m.data == NULL)
		m.data = strdup("");
	return m.data;
}

static json_t *
control_json(
    struct emu *e, const char *method, const char *path, const char *body)
{
	long status;
	char *out = control_call(e, method, path, body, &status);
	json_t *j;

	if (out == NULL)
		return NULL;
	if (status >= 400) {
		fprintf(stderr, "harness: %s %s: HTTP %ld: %s\n", method, path,
		    status, out);
		free(out);
		return NULL;
	}
	j = json_loads(out, 0, NULL);
	free(out);
	return j;
}

json_t *
emu_get(struct emu *e, const char *path)
{
	return control_json(e, "GET", path, NULL);
}

json_t *
emu_post(struct emu *e, const char *path, const char *json_body)
{
	return control_json(e, "POST", path, json_body ? json_body : "{}");
}

int
emu_delete(struct emu *e, const char *path)
{
	long status;
	char *out = control_call(e, "DELETE", path, NULL, &status);

	if (out == NULL)
		return -1;
	free(out);
	return (int)status;
}

long
emu_counter(struct emu *e, const char *key)
{
	json_t *j = emu_get(e, "/_armemu/counters");
	long n;

	if (j == NULL)
		return -1;
	n = (long)json_integer_value(json_object_get(j, key));
	json_decref(j);
	return n;
}

int
emu_snapshot_tag(
    struct emu *e, const char *name, const char *key, char *buf, size_t len)
{
	json_t *st = emu_get(e, "/_armemu/state"), *s;
	size_t i;
	int found = -1;

	buf[0] = '\0';
	json_array_foreach(json_object_get(st, "snapshots"), i, s)
	{
		const char *v;

		if (strcmp(json_string_value(json_object_get(s, "name")),
		        name) != 0)
			continue;
		found = 0;
		v = json_string_value(
		    json_object_get(json_object_get(s, "tags"), key));
		snprintf(buf, len, "%s", v != NULL ? v : "");
	}
	json_decref(st);
	return found;
}

void
emu_reset_counters(struct emu *e)
{
	json_decref(emu_post(e, "/_armemu/reset-counters", NULL));
}

/* POST /_armemu/clock {"now": ${rfc3339}}, with "frozen": true when
 * ${freeze} (without it the clock keeps whether it was frozen). */
static int
emu_clock(struct emu *e, const char *rfc3339, int freeze)
{
	json_t *body = freeze
	    ? json_pack("{s:s,s:b}", "now", rfc3339, "frozen", 1)
	    : json_pack("{s:s}", "now", rfc3339);
	char *s = json_dumps(body, JSON_COMPACT);
	json_t *j = s ? emu_post(e, "/_armemu/clock", s) : NULL;
	int rc = j ? 0 : -1;

	json_decref(j);
	json_decref(body);
	free(s);
	return rc;
}

int
emu_set_clock(struct emu *e, const char *rfc3339)
{
	return emu_clock(e, rfc3339, 0);
}

int
emu_freeze_clock(struct emu *e, const char *rfc3339)
{
	return emu_clock(e, rfc3339, 1);
}

int
emu_fault(struct emu *e, const char *json)
{
	json_t *j = emu_post(e, "/_armemu/faults", json);
	int id = j ? (int)json_integer_value(json_object_get(j, "id")) : -1;

	json_decref(j);
	return id > 0 ? id : -1;
}

int
emu_clear_faults(struct emu *e)
{
	return emu_delete(e, "/_armemu/faults") == 200 ? 0 : -1;
}

int
harness_write_file(const char *path, const char *content, int mode)
{
	int fd;
	size_t len = strlen(content), off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, content + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	return close(fd);
fail:
	fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
	close(fd);
	return -1;
}

char *
harness_tmpdir(void)
{
	char tmpl[] = "/tmp/aksnap-e2e-XXXXXX";

	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		return NULL;
	}
	return strdup(tmpl);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
harness_rmrf(const char *dir)
{
	if (dir == NULL)
		return 0;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* environ with ${extra} applied ("N=V" sets, "N" unsets); caller frees. */
static char **
make_env(const char *const *extra)
{
	size_t n = 0, i, j, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		;
	env = calloc(n + i + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (j = 0; j < n; j++) {
		size_t nl = strcspn(environ[j], "=");
		int overridden = 0;

		for (i = 0; extra != NULL && extra[i] != NULL; i++) {
			size_t el = strcspn(extra[i], "=");

			if (el == nl && strncmp(extra[i], environ[j], nl) == 0)
				overridden = 1;
		}
		if (!overridden)
			env[k++] = environ[j];
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		if (strchr(extra[i], '=') != NULL)
			env[k++] = (char *)extra[i];
	env[k] = NULL;
	return env;
}

static int
run_argv(struct run_result *r, const char **argv, const char *const *extra_env)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, status, open_fds;
	struct membuf mo = {NULL, 0, 0}, me = {NULL, 0, 0};
	char **env;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	env = make_env(extra_env);
	if (env == NULL)
		return -1;
	if (pipe(out) != 0 || pipe(err) != 0) {
		fprintf(stderr, "harness: pipe: %s\n", strerror(errno));
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execvpe(argv[0], (char *const *)argv, env);
		fprintf(
		    stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;
	open_fds = 2;
	while (open_fds > 0) {
		struct pollfd p[2] = {{.fd = out[0], .events = POLLIN},
		    {.fd = err[0], .events = POLLIN}};
		int i;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char buf[8192];
			ssize_t n;

			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n > 0) {
				membuf_add(i == 0 ? &mo : &me, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(p[i].fd);
				if (i == 0)
					out[0] = -1;
				else
					err[0] = -1;
				open_fds--;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->exit_code = 128 + WTERMSIG(status);
	r->out = mo.data ? mo.data : strdup("");
	r->err = me.data ? me.data : strdup("");
	free(env);
	return 0;
fail:
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[0] >= 0)
		close(err[0]);
	if (err[1] >= 0)
		close(err[1]);
	free(env);
	return -1;
}

int
harness_run(
    struct run_result *r, const char *const *argv, const char *const *extra_env)
{
	size_t n = 0;
	const char **a;
	int rc;

	while (argv[n] != NULL)
		n++;
	a = calloc(n + 1, sizeof(*a));
	if (a == NULL)
		return -1;
	memcpy(a, argv, n * sizeof(*a));
	rc = run_argv(r, a, extra_env);
	free(a);
	return rc;
}

/*
 * The tests never reach the Internet: aksnap's only non-loopback default
 * (release_notes, AgentBaker on GitHub, fetched when a promotion records
 * its changelog) goes to a dead loopback proxy, while loopback hosts (the
 * emulator, over http or https) bypass it.  ${extra} still wins.  The
 * array is malloc'd; its strings are static or ${extra}'s.
 */
static const char **
offline_env(const char *const *extra)
{
	static const char *const offline[] = {"https_proxy=http://127.0.0.1:9",
	    "HTTPS_PROXY=http://127.0.0.1:9",
	    "no_proxy=127.0.0.1,localhost,::1",
	    "NO_PROXY=127.0.0.1,localhost,::1", NULL};
	const char **env;
	size_t n = 0, k = 0;

	while (extra != NULL && extra[n] != NULL)
		n++;
	env = calloc(n + 5, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (size_t i = 0; offline[i] != NULL; i++) {
		size_t nl = strcspn(offline[i], "=");
		int given = 0;

		for (size_t j = 0; j < n; j++)
			if (strcspn(extra[j], "=") == nl &&
			    strncmp(extra[j], offline[i], nl) == 0)
				given = 1;
		if (!given)
			env[k++] = offline[i];
	}
	for (size_t j = 0; j < n; j++)
		env[k++] = extra[j];
	return env;
}

/*
 * The argv that starts aksnap: the words of $AKSNAP_WRAPPER, $AKSNAP_BIN
 * (default ./aksnap), then ${argv}.  ${a} has room for 66 + n pointers;
 * ${*words} (the wrapper's copy, caller frees) holds the wrapper's words.
 */
static const char **
aksnap_argv(const char *const *argv, char **words)
{
	const char *bin = getenv("AKSNAP_BIN");
	const char *wrap = getenv("AKSNAP_WRAPPER");
	char *save = NULL, *w;
	const char **a;
	size_t n = 0, k = 0;

	*words = NULL;
	if (bin == NULL || *bin == '\0')
		bin = "./aksnap";
	while (argv != NULL && argv[n] != NULL)
		n++;
	a = calloc(n + 66, sizeof(*a));
	if (a == NULL)
		return NULL;
	if (wrap != NULL && *wrap != '\0') {
		*words = strdup(wrap);
		for (w = *words ? strtok_r(*words, " \t", &save) : NULL;
		     w != NULL && k < 64; w = strtok_r(NULL, " \t", &save))
			a[k++] = w;
	}
	a[k++] = bin;
	memcpy(a + k, argv, n * sizeof(*a));
	return a;
}

int
harness_run_aksnap_env(
    struct run_result *r, const char *const *argv, const char *const *extra_env)
{
	char *words = NULL;
	const char **a = aksnap_argv(argv, &words);
	const char **env;
	int rc;

	if (a == NULL)
		return -1;
	env = offline_env(extra_env);
	rc = env != NULL ? run_argv(r, a, env) : -1;
	free(env);
	free(a);
	free(words);
	return rc;
}

int
harness_run_aksnap(struct run_result *r, const char *const *argv_after_program)
{
	return harness_run_aksnap_env(r, argv_after_program, NULL);
}

void
run_result_free(struct run_result *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	r->out = NULL;
	r->err = NULL;
}

char *
harness_config(const char *dir, struct emu *e, const char *extra_ini)
{
	char secret[4096], path[4096], *ini = NULL;
	int n;

	snprintf(secret, sizeof(secret), "%s/secret", dir);
	snprintf(path, sizeof(path), "%s/aksnap.ini", dir);
	if (harness_write_file(secret, HARNESS_CLIENT_SECRET, 0600) != 0)
		return NULL;
	n = asprintf(&ini,
	    "; written by tests/e2e/harness.c\n"
	    "[aksnap]\n"
	    "database = %s/aksnap.db\n"
	    "subscription = " HARNESS_SUBSCRIPTION "\n"
	    "auth = client-secret\n"
	    "tenant = " HARNESS_TENANT "\n"
	    "client_id = " HARNESS_CLIENT_ID "\n"
	    "client_secret_file = %s\n"
	    "arm_endpoint = %s\n"
	    "authority_host = %s\n"
	    "imds_endpoint = %s\n"
	    "metrics_file = %s/aksnap.prom\n"
	    "%s",
	    dir, secret, e->url, e->url, e->url, dir,
	    extra_ini ? extra_ini : "");
	if (n < 0)
		return NULL;
	if (harness_write_file(path, ini, 0600) != 0) {
		free(ini);
		return NULL;
	}
	free(ini);
	return strdup(path);
}

int
harness_aksnapv(struct run_result *r, const char *config, va_list ap)
{
	const char *argv[32];
	const char *a;
	size_t n = 0;

	if (config != NULL) {
		argv[n++] = "-c";
		argv[n++] = config;
	}
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = a;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	if (harness_run_aksnap(r, argv) != 0) {
		fail_msg("harness: aksnap could not be started");
		return -1;
	}
	return 0;
}

void
harness_store_channel(struct harness *h, const char *pool, const char *name,
    char *buf, size_t len)
{
	struct run_result r;
	json_t *doc, *s;
	size_t i;

	harness_aksnap(h, &r, "--json", "list", pool, NULL);
	harness_expect_exit(&r, 0);
	doc = json_loads(r.out, 0, NULL);
	run_result_free(&r);
	assert_non_null(doc);
	buf[0] = '\0';
	json_array_foreach(json_object_get(doc, "snapshots"), i, s)
	{
		const char *c;

		if (strcmp(json_string_value(json_object_get(s, "snapshot")),
		        name) != 0)
			continue;
		c = json_string_value(json_object_get(s, "channel"));
		snprintf(buf, len, "%s", c != NULL ? c : "");
	}
	json_decref(doc);
}

void
harness_expect_exit(const struct run_result *r, int code)
{
	if (r->exit_code != code)
		fail_msg("exit %d, want %d\nstdout:\n%s\nstderr:\n%s",
		    r->exit_code, code, r->out, r->err);
}

void
harness_expect_in(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected '%s' in:\n%s", needle, hay);
}

const char *
harness_reasons(json_t *o)
{
	static char buf[8192];
	json_t *arr = json_object_get(o, "reasons");
	size_t i, used = 0;
	json_t *v;

	buf[0] = '\0';
	if (!json_is_array(arr))
		fail_msg("\"reasons\" is not an array");
	json_array_foreach(arr, i, v)
	{
		int w;

		if (!json_is_string(v))
			fail_msg("\"reasons\"[%zu] is not a string", i);
		w = snprintf(buf + used, sizeof(buf) - used, "%s%s",
		    i > 0 ? "; " : "", json_string_value(v));
		if (w < 0 || (size_t)w >= sizeof(buf) - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

int
harness_aksnapl(struct run_result *r, const char *config, ...)
{
	va_list ap;
	int rc;

	va_start(ap, config);
	rc = harness_aksnapv(r, config, ap);
	va_end(ap);
	return rc;
}

/* ---- the fixture ---- */

int
harness_open_dir(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->dir = harness_tmpdir();
	if (h->dir == NULL)
		return -1;
	if (asprintf(&h->store, "%s/aksnap.db", h->dir) < 0) {
		h->store = NULL;
		harness_fini(h);
		return -1;
	}
	return 0;
}

int
harness_start(
    struct harness *h, const char *const *emu_args, const char *extra_ini)
{
	int no_emu = emu_args != NULL && emu_args[0] != NULL &&
	    strcmp(emu_args[0], HARNESS_NO_EMU) == 0;

	if (!no_emu) {
		h->emu = emu_start(emu_args);
		if (h->emu == NULL)
			goto fail;
		h->config = harness_config(h->dir, h->emu, extra_ini);
		if (h->config == NULL)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "harness: the fixture could not be set up\n");
	harness_fini(h);
	return -1;
}

int
harness_init(
    struct harness *h, const char *const *emu_args, const char *extra_ini)
{
	if (harness_open_dir(h) != 0)
		return -1;
	return harness_start(h, emu_args, extra_ini);
}

void
harness_fini(struct harness *h)
{
	if (h == NULL)
		return;
	emu_stop(h->emu);
	if (h->dir != NULL)
		harness_rmrf(h->dir);
	free(h->dir);
	free(h->config);
	free(h->store);
	memset(h, 0, sizeof(*h));
}

struct harness *
harness_new(const char *const *emu_args, const char *extra_ini)
{
	struct harness *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	if (harness_init(h, emu_args, extra_ini) != 0) {
		free(h);
		return NULL;
	}
	return h;
}

void
harness_free(struct harness *h)
{
	harness_fini(h);
	free(h);
}

int
harness_setenv(struct harness *h, const char *name_value)
{
	size_t nl = strcspn(name_value, "="), n = 0;

	for (; h->env[n] != NULL; n++) {
		if (strcspn(h->env[n], "=") == nl &&
		    strncmp(h->env[n], name_value, nl) == 0) {
			h->env[n] = name_value;
			return 0;
		}
	}
	if (n >= HARNESS_MAX_ENV)
		return -1;
	h->env[n] = name_value;
	return 0;
}

/* "-c CONFIG" (when the fixture has one) and the words of ${ap}, into
 * ${argv} (32 slots, NULL-terminated). */
static void
fixture_argv(const struct harness *h, const char **argv, va_list ap)
{
	const char *a;
	size_t n = 0;

	if (h->config != NULL) {
		argv[n++] = "-c";
		argv[n++] = h->config;
	}
	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		argv[n++] = a;
	argv[n] = NULL;
}

int
harness_aksnap_argv(
    struct harness *h, struct run_result *r, const char *const *words)
{
	const char *argv[32];
	size_t n = 0;

	if (h->config != NULL) {
		argv[n++] = "-c";
		argv[n++] = h->config;
	}
	for (size_t i = 0; words[i] != NULL && n < 31; i++)
		argv[n++] = words[i];
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	if (harness_run_aksnap_env(r, argv, h->env) != 0) {
		fail_msg("harness: aksnap could not be started");
		return -1;
	}
	return 0;
}

int
harness_aksnap_va(struct harness *h, struct run_result *r, va_list ap)
{
	const char *words[32];
	const char *a;
	size_t n = 0;

	while ((a = va_arg(ap, const char *)) != NULL && n < 31)
		words[n++] = a;
	words[n] = NULL;
	return harness_aksnap_argv(h, r, words);
}

int
harness_aksnap(struct harness *h, struct run_result *r, ...)
{
	va_list ap;
	int rc;

	va_start(ap, r);
	rc = harness_aksnap_va(h, r, ap);
	va_end(ap);
	return rc;
}

/*
 * Fork and exec aksnap with ${words} in ${h}'s environment, stdin from
 * /dev/null and stdout, stderr on ${out_fd}, ${err_fd}; in the child,
 * ${tty} (when >= 0) becomes the controlling terminal of a new session.
 * The child's pid, or -1.
 */
static pid_t
spawn_aksnap(const struct harness *h, const char **words, int out_fd,
    int err_fd, int tty)
{
	char *wrap_words = NULL;
	const char **a = aksnap_argv(words, &wrap_words);
	const char **extra = offline_env(h->env);
	char **env = extra != NULL ? make_env(extra) : NULL;
	pid_t pid = -1;

	if (a == NULL || env == NULL)
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (tty >= 0) {
			setsid();
			(void)ioctl(tty, TIOCSCTTY, 0);
		}
		dup2(devnull, 0);
		dup2(out_fd, 1);
		dup2(err_fd, 2);
		execvpe(a[0], (char *const *)a, env);
		_exit(127);
	}
out:
	free(env);
	free(extra);
	free(a);
	free(wrap_words);
	return pid;
}

int
harness_aksnap_start(struct harness *h, struct harness_bg *bg, ...)
{
	const char *argv[32];
	int o, e;
	va_list ap;

	memset(bg, 0, sizeof(*bg));
	bg->pid = -1;
	va_start(ap, bg);
	fixture_argv(h, argv, ap);
	va_end(ap);
	snprintf(bg->out, sizeof(bg->out), "%s.out", h->dir);
	snprintf(bg->err, sizeof(bg->err), "%s.err", h->dir);
	o = open(bg->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	e = open(bg->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (o >= 0 && e >= 0)
		bg->pid = spawn_aksnap(h, argv, o, e, -1);
	if (o >= 0)
		close(o);
	if (e >= 0)
		close(e);
	return bg->pid > 0 ? 0 : -1;
}

/* The whole of ${path} (malloc'd, NUL-terminated; "" when unreadable). */
static char *
slurp_file(const char *path)
{
	struct membuf m = {NULL, 0, 0};
	char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || membuf_add(&m, buf, (size_t)n) != 0)
			break;
	}
	if (fd >= 0)
		close(fd);
	return m.data != NULL ? m.data : strdup("");
}

int
harness_aksnap_wait(
    struct harness_bg *bg, struct run_result *r, long *maxrss_kb)
{
	struct rusage ru;
	int status = 0;
	pid_t got;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	if (bg->pid <= 0)
		return -1;
	while ((got = wait4(bg->pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	if (got != bg->pid)
		return -1;
	bg->pid = -1;
	if (WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->exit_code = 128 + WTERMSIG(status);
	if (maxrss_kb != NULL)
		*maxrss_kb = ru.ru_maxrss;
	r->out = slurp_file(bg->out);
	r->err = slurp_file(bg->err);
	unlink(bg->out);
	unlink(bg->err);
	return 0;
}

int
harness_aksnap_tty(
    struct harness *h, struct run_result *r, int cols, const char *const *words)
{
	struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
	struct harness th = *h;
	struct membuf m = {NULL, 0, 0};
	const char *argv[32];
	int master = -1, slave = -1, devnull, status = 0;
	size_t n = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	if (h->config != NULL) {
		argv[n++] = "-c";
		argv[n++] = h->config;
	}
	for (size_t i = 0; words[i] != NULL && n < 31; i++)
		argv[n++] = words[i];
	argv[n] = NULL;
	/* A terminal's environment, then the fixture's (which wins). */
	memset(th.env, 0, sizeof(th.env));
	th.env[0] = "TERM=xterm";
	th.env[1] = "JOURNAL_STREAM";
	for (size_t i = 0; h->env[i] != NULL; i++)
		if (harness_setenv(&th, h->env[i]) != 0)
			return -1;
	if (openpty(&master, &slave, NULL, NULL, &ws) != 0)
		return -1;
	devnull = open("/dev/null", O_WRONLY);
	pid =
	    devnull >= 0 ? spawn_aksnap(&th, argv, devnull, slave, slave) : -1;
	if (devnull >= 0)
		close(devnull);
	close(slave);
	if (pid < 0) {
		close(master);
		return -1;
	}
	for (;;) {
		char buf[8192];
		ssize_t got = read(master, buf, sizeof(buf));

		if (got > 0) {
			membuf_add(&m, buf, (size_t)got);
			continue;
		}
		if (got < 0 && errno == EINTR)
			continue;
		break; /* EIO: the terminal's last writer is gone */
	}
	close(master);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		r->exit_code = 128 + WTERMSIG(status);
	r->out = strdup("");
	r->err = m.data != NULL ? m.data : strdup("");
	return 0;
}

int
harness_rss_measurable(void)
{
	const char *bin = getenv("AKSNAP_BIN");
	const char *wrap = getenv("AKSNAP_WRAPPER");

	return (wrap == NULL || wrap[0] == '\0') &&
	    (bin == NULL || strstr(bin, "build-san") == NULL);
}
