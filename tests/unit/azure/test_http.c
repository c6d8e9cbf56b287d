/*
 * test_http.c -- the transport's pure rules (retry set, backoff, Retry-After,
 * URL policy, redaction) and its behaviour against a tiny scripted HTTP
 * server on 127.0.0.1 that answers each connection with the next canned
 * response (or drops it).  The emulator end-to-end tests cover the rest.
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "job/azure/http.h"
#include "job/base/log.h"
#include "job/base/util.h"

/* ------------------------------------------------------------------ */

static void
test_http_retries_exactly_the_transient_statuses(void **state)
{
	static const long yes[] = {408, 429, 500, 502, 503, 504};
	static const long no[] = {
	    200, 201, 204, 400, 401, 403, 404, 409, 412, 501, 505};

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(http_retryable_status(yes[i]), 1);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(http_retryable_status(no[i]), 0);
}

static void
test_http_backoff_doubles_with_jitter_and_is_capped(void **state)
{
	struct http_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.base_delay_ms = 800;
	o.max_delay_ms = 60000;
	/* jitter x[0.8, 1.3) */
	assert_int_equal(http_backoff_ms(&o, 1, -1, 0.0), 640);
	assert_in_range(http_backoff_ms(&o, 1, -1, 0.999), 1035, 1040);
	assert_int_equal(http_backoff_ms(&o, 2, -1, 0.0), 1280);
	assert_int_equal(http_backoff_ms(&o, 3, -1, 0.0), 2560);
	assert_in_range(http_backoff_ms(&o, 3, -1, 0.999), 4150, 4160);
	for (int a = 1; a < 60; a++) {
		int64_t lo = http_backoff_ms(&o, a, -1, 0.0);
		int64_t hi = http_backoff_ms(&o, a, -1, 0.999);

		assert_true(lo <= hi);
		assert_true(hi <= 60000);
		if (a > 1)
			assert_true(lo >= http_backoff_ms(&o, a - 1, -1, 0.0));
	}
	assert_int_equal(http_backoff_ms(&o, 40, -1, 0.999), 60000);
	/* NULL options mean the defaults (base 800). */
	assert_int_equal(http_backoff_ms(NULL, 1, -1, 0.0), 640);
}

static void
test_http_backoff_uses_retry_after_when_given(void **state)
{
	(void)state;
	assert_int_equal(http_backoff_ms(NULL, 1, 7000, 0.5), 7000);
	assert_int_equal(http_backoff_ms(NULL, 4, 0, 0.999), 0);
}

static void
test_http_parses_retry_after_seconds(void **state)
{
	int64_t ms = -1;

	(void)state;
	assert_int_equal(http_parse_retry_after("120", 0, &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(http_parse_retry_after(" 0 ", 0, &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(http_parse_retry_after("-5", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after("1.5", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after("soon", 0, &ms), -1);
	assert_int_equal(http_parse_retry_after("", 0, &ms), -1);
}

static void
test_http_parses_retry_after_http_date(void **state)
{
	struct tm tm;
	time_t now;
	int64_t ms = -1;

	(void)state;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 2026 - 1900;
	tm.tm_mon = 9;
	tm.tm_mday = 21;
	tm.tm_hour = 7;
	tm.tm_min = 27;
	now = timegm(&tm);
	assert_int_equal(
	    http_parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now, &ms),
	    0);
	assert_int_equal(ms, 60000);
	/* A date in the past means: now. */
	assert_int_equal(
	    http_parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now, &ms),
	    0);
	assert_int_equal(ms, 0);
	assert_int_equal(http_parse_retry_after(
	                     "Wed, 21 Oct 2026 07:28:00 GMT junk", now, &ms),
	    -1);
}

static void
test_http_url_policy_refuses_plain_http_off_loopback(void **state)
{
	char err[256];

	(void)state;
	assert_int_equal(http_url_allowed("https://management.azure.com/x", 0,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(
	    http_url_allowed("http://127.0.0.1:8080/x", 0, err, sizeof(err)),
	    0);
	assert_int_equal(
	    http_url_allowed("http://127.1.2.3/x", 0, err, sizeof(err)), 0);
	assert_int_equal(
	    http_url_allowed("http://localhost:9/x", 0, err, sizeof(err)), 0);
	assert_int_equal(
	    http_url_allowed("http://[::1]:9/x", 0, err, sizeof(err)), 0);
	assert_int_equal(http_url_allowed("http://management.azure.com/x", 0,
	                     err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "management.azure.com"));
	assert_int_equal(
	    http_url_allowed("http://127.evil.example/x", 0, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    http_url_allowed("http://169.254.169.254/m", 0, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    http_url_allowed("http://169.254.169.254/m", 1, err, sizeof(err)),
	    0);
	assert_int_equal(
	    http_url_allowed("ftp://127.0.0.1/x", 1, err, sizeof(err)), -1);
	assert_int_equal(
	    http_url_allowed("not a url", 0, err, sizeof(err)), -1);
	assert_int_equal(http_url_allowed("", 0, err, sizeof(err)), -1);
}

static char *
redact(const char *s, const char *secret)
{
	const char *secrets[1] = {secret};

	return http_redact(s, strlen(s), secrets, secret != NULL ? 1 : 0);
}

static void
test_http_redact_blanks_authorization_and_bearer(void **state)
{
	char *r;

	(void)state;
	r = redact("> GET /x | Authorization: Bearer eyJabc.def.ghi | Accept: "
	           "application/json",
	    NULL);
	assert_null(strstr(r, "eyJabc"));
	assert_non_null(strstr(r, "Authorization: [redacted]"));
	free(r);
	r = redact("token Bearer eyJabc.def, next", NULL);
	assert_null(strstr(r, "eyJabc"));
	assert_non_null(strstr(r, "Bearer [redacted], next"));
	free(r);
}

static void
test_http_redact_blanks_secret_fields_and_listed_strings(void **state)
{
	char *r;

	(void)state;
	r = redact("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
	           "\"access_token\" : \"AT-123\\\"x\",\"ok\":1}",
	    NULL);
	assert_null(strstr(r, "AT-123"));
	assert_non_null(strstr(r, "\"expires_in\":3599"));
	assert_non_null(strstr(r, "\"ok\":1"));
	free(r);
	r = redact("{\"accessToken\":\"cli-tok\",\"expires_on\":1}", NULL);
	assert_null(strstr(r, "cli-tok"));
	free(r);
	r = redact("grant_type=client_credentials&client_id=abc&client_secret="
	           "s3cr%2Bt&scope=x",
	    NULL);
	assert_null(strstr(r, "s3cr"));
	assert_non_null(strstr(r, "client_id=abc"));
	assert_non_null(strstr(r, "&scope=x"));
	free(r);
	r = redact("client_assertion=eyJhead.eyJbody.sig&client_id=a", NULL);
	assert_null(strstr(r, "eyJhead"));
	free(r);
	r = redact("the secret is hunter2, really hunter2", "hunter2");
	assert_null(strstr(r, "hunter2"));
	assert_string_equal(r, "the secret is [redacted], really [redacted]");
	free(r);
	r = redact("nothing to hide", "");
	assert_string_equal(r, "nothing to hide");
	free(r);
}

/* ------------------------------------------------------------------
 * A scripted server: connection k gets script[k] ("DROP" closes it).
 */

#define MAX_SCRIPT 16

struct server {
	int fd;
	int port;
	pthread_t thread;
	const char *script[MAX_SCRIPT];
	size_t nscript;
	size_t served;
	size_t accepted; /* connections accepted (atomic: read by the test) */
	char last_request[8192];
	char auth_seen[MAX_SCRIPT][128];
	char crid_seen[MAX_SCRIPT][64];
};

static void
header_value(const char *req, const char *name, char *out, size_t len)
{
	const char *p = strcasestr(req, name);

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"), p);
}

static void *
server_main(void *arg)
{
	struct server *s = arg;

	while (s->served < s->nscript) {
		char req[8192];
		size_t got = 0;
		int fd = accept(s->fd, NULL, NULL);
		const char *resp;

		if (fd < 0)
			break;
		__atomic_add_fetch(&s->accepted, 1, __ATOMIC_SEQ_CST);
		while (got < sizeof(req) - 1) {
			ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);

			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL) {
				char cl[32];
				const char *hend = strstr(req, "\r\n\r\n") + 4;

				header_value(
				    req, "Content-Length:", cl, sizeof(cl));
				if ((size_t)(req + got - hend) >=
				    (size_t)atol(cl))
					break;
			}
		}
		req[got] = '\0';
		memcpy(s->last_request, req, sizeof(req));
		header_value(req, "Authorization:", s->auth_seen[s->served],
		    sizeof(s->auth_seen[0]));
		header_value(req,
		    "x-ms-client-request-id:", s->crid_seen[s->served],
		    sizeof(s->crid_seen[0]));
		resp = s->script[s->served++];
		if (strcmp(resp, "DROP") != 0) {
			size_t off = 0, len = strlen(resp);

			while (off < len) {
				ssize_t n = write(fd, resp + off, len - off);

				if (n <= 0)
					break;
				off += (size_t)n;
			}
		}
		close(fd);
	}
	return NULL;
}

static struct server *
server_start(const char *const *script)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int one = 1;

	assert_non_null(s);
	while (script[s->nscript] != NULL)
		s->script[s->nscript] = script[s->nscript], s->nscript++;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void
server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
	free(s);
}

static struct http_client *
fast_client(int max_attempts, size_t max_body)
{
	struct http_options o;

	memset(&o, 0, sizeof(o));
	o.base_delay_ms = 1;
	o.max_delay_ms = 5;
	o.max_attempts = max_attempts;
	o.max_body = max_body;
	o.timeout_s = 10;
	return http_client_new(&o);
}

static void
url_for(const struct server *s, char *out, size_t len)
{
	snprintf(out, len, "http://127.0.0.1:%d/x?api-version=1", s->port);
}

#define OK_200 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
#define S_429                                                                  \
	"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\n"                 \
	"x-ms-request-id: rid-429\r\nContent-Length: 0\r\n\r\n"
#define S_500                                                                  \
	"HTTP/1.1 500 Internal Server Error\r\nx-ms-request-id: rid-500\r\n"   \
	"x-ms-correlation-request-id: cid-500\r\nContent-Length: 7\r\n\r\n"    \
	"{\"e\":1}"

static void
test_http_retries_429_and_sends_fresh_request_ids(void **state)
{
	const char *script[] = {S_429, "DROP", OK_200, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.attempts, 3);
	assert_string_equal(resp.body.data, "{}");
	assert_string_equal(resp.client_request_id, s->crid_seen[2]);
	assert_int_not_equal(strcmp(s->crid_seen[0], s->crid_seen[1]), 0);
	assert_int_not_equal(strcmp(s->crid_seen[1], s->crid_seen[2]), 0);
	assert_int_equal(strlen(s->crid_seen[0]), 36);
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

static void
test_http_gives_up_after_max_attempts_with_last_status(void **state)
{
	const char *script[] = {S_500, S_500, S_500, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(3, 0);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "PUT";
	req.url = url;
	req.body = "{\"a\":1}";
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), 0);
	assert_int_equal(resp.status, 500);
	assert_int_equal(resp.attempts, 3);
	assert_string_equal(resp.request_id, "rid-500");
	assert_string_equal(resp.correlation_id, "cid-500");
	assert_int_equal(s->served, 3);
	assert_non_null(strstr(s->last_request, "PUT /x?api-version=1"));
	assert_non_null(strstr(s->last_request, "{\"a\":1}"));
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

static void
test_http_does_not_retry_other_4xx(void **state)
{
	const char *script[] = {
	    "HTTP/1.1 409 Conflict\r\nContent-Length: 0\r\n\r\n", NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "DELETE";
	req.url = url;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), 0);
	assert_int_equal(resp.status, 409);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(s->served, 1);
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

static void
test_http_refuses_retry_after_beyond_the_budget(void **state)
{
	const char *script[] = {"HTTP/1.1 503 Busy\r\nRetry-After: 3600\r\n"
	                        "Content-Length: 0\r\n\r\n",
	    NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), 0);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(resp.retry_after_ms, 3600000);
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

static void
test_http_body_over_the_cap_is_an_error(void **state)
{
	const char *script[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789012345678901234567890123456789",
	    NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 64);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), -1);
	assert_non_null(strstr(resp.error, "larger than 64 bytes"));
	assert_int_equal(resp.attempts, 1);
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

struct fake_tokens {
	int calls, forced;
	const char *tok;
};

static int
fake_token(void *ctx, int force, const char **token)
{
	struct fake_tokens *t = ctx;

	t->calls++;
	if (force) {
		t->forced++;
		t->tok = "fresh-token";
	}
	*token = t->tok;
	return 0;
}

static void
test_http_401_refreshes_the_token_once(void **state)
{
	const char *script[] = {
	    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
	    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct fake_tokens ft = {0, 0, "stale-token"};
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	http_client_set_token_source(c, fake_token, &ft);
	url_for(s, url, sizeof(url));
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.auth = 1;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), 0);
	assert_int_equal(resp.status, 401);
	assert_int_equal(ft.forced, 1);
	assert_int_equal(s->served, 2);
	assert_string_equal(s->auth_seen[0], "Bearer stale-token");
	assert_string_equal(s->auth_seen[1], "Bearer fresh-token");
	http_response_free(&resp);
	http_client_free(c);
	server_stop(s);
}

static void
test_http_connection_refused_is_retried_then_fails(void **state)
{
	const char *script[] = {NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(3, 0);
	struct http_request req;
	struct http_response resp;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	server_stop(s); /* nothing listens on the port now */
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), -1);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.attempts, 3);
	assert_true(resp.error[0] != '\0');
	http_response_free(&resp);
	http_client_free(c);
}

static void
test_http_refused_url_makes_no_attempt(void **state)
{
	struct http_client *c = fast_client(3, 0);
	struct http_request req;
	struct http_response resp;

	(void)state;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = "http://192.0.2.1/x";
	http_response_init(&resp);
	assert_int_equal(http_do(c, &req, &resp), -1);
	assert_int_equal(resp.attempts, 0);
	assert_non_null(strstr(resp.error, "plain http"));
	http_response_free(&resp);
	http_client_free(c);
}

struct batch_seen {
	int rc[8];
	long status[8];
	int calls;
};

static void
batch_done(void *ctx, size_t i, int rc)
{
	struct batch_seen *b = ctx;

	b->rc[i] = rc;
	b->calls++;
	(void)b;
}

static void
test_http_batch_runs_every_request_with_retries(void **state)
{
	const char *script[] = {S_429, OK_200, OK_200, OK_200, OK_200, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request reqs[4];
	struct http_response resps[4];
	struct batch_seen seen;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(reqs, 0, sizeof(reqs));
	memset(&seen, 0, sizeof(seen));
	for (int i = 0; i < 4; i++) {
		reqs[i].method = "GET";
		reqs[i].url = url;
		reqs[i].throttle_key = "sub-1";
	}
	assert_int_equal(
	    http_batch(c, reqs, resps, 4, 2, batch_done, &seen), 0);
	assert_int_equal(seen.calls, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(seen.rc[i], 0);
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	assert_int_equal(s->served, 5);
	http_client_free(c);
	server_stop(s);
}

struct early_seen {
	struct server *s;
	int calls;
	size_t accepted_in_first; /* connections the server had, in cb 0 */
};

/* Request 0's callback waits (up to 5 s) for request 1's connection. */
static void
early_done(void *ctx, size_t i, int rc)
{
	struct early_seen *e = ctx;

	assert_int_equal(rc, 0);
	e->calls++;
	if (i != 0)
		return;
	for (int k = 0; k < 500; k++) {
		e->accepted_in_first =
		    __atomic_load_n(&e->s->accepted, __ATOMIC_SEQ_CST);
		if (e->accepted_in_first >= 2)
			break;
		util_sleep_ms(10);
	}
}

/*
 * A freed slot is refilled before the finished request's callback runs:
 * with one request in flight at most, request 1 is already on its way
 * (its connection accepted by the server) while request 0's callback
 * works, so a callback's CPU does not hold the next request back.
 */
static void
test_http_batch_sends_the_next_request_before_a_callback(void **state)
{
	const char *script[] = {OK_200, OK_200, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request reqs[2];
	struct http_response resps[2];
	struct early_seen e;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(reqs, 0, sizeof(reqs));
	memset(&e, 0, sizeof(e));
	e.s = s;
	for (int i = 0; i < 2; i++) {
		reqs[i].method = "GET";
		reqs[i].url = url;
		reqs[i].throttle_key = "sub-1";
	}
	assert_int_equal(http_batch(c, reqs, resps, 2, 1, early_done, &e), 0);
	assert_int_equal(e.calls, 2);
	assert_int_equal(e.accepted_in_first, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	http_client_free(c);
	server_stop(s);
}

struct held_seen {
	struct http_client *c;
	struct http_response *resps;
	int calls[3];
	int released[3]; /* http_batch_release's answers */
};

/* Request 0 releases slot 1; slot 1, once answered, is sent once more;
 * slot 2 is never released. */
static void
held_done(void *ctx, size_t i, int rc)
{
	struct held_seen *h = ctx;

	assert_int_equal(rc, 0);
	h->calls[i]++;
	http_response_free(&h->resps[i]);
	if (i == 0) {
		h->released[0] = http_batch_release(h->c, 1);
		/* In flight already: refused. */
		h->released[2] = http_batch_release(h->c, 1);
	} else if (i == 1 && h->calls[1] == 1) {
		h->released[1] = http_batch_release(h->c, 1);
	}
}

/*
 * Held requests wait for http_batch_release; a finished one released again
 * is sent again (a reused slot); one never released is dropped once
 * nothing else is left: never sent, no callback, and the batch ends.
 */
static void
test_http_batch_sends_held_requests_only_when_released(void **state)
{
	const char *script[] = {OK_200, OK_200, OK_200, OK_200, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct http_request reqs[3];
	struct http_response resps[3];
	struct held_seen h;
	char url[128];

	(void)state;
	url_for(s, url, sizeof(url));
	memset(reqs, 0, sizeof(reqs));
	memset(&h, 0, sizeof(h));
	h.c = c;
	h.resps = resps;
	for (int i = 0; i < 3; i++) {
		reqs[i].method = "GET";
		reqs[i].url = url;
		reqs[i].throttle_key = "sub-1";
		reqs[i].held = i > 0;
	}
	/* Outside a batch there is nothing to release. */
	assert_int_equal(http_batch_release(c, 1), -1);
	assert_int_equal(http_batch(c, reqs, resps, 3, 2, held_done, &h), 0);
	assert_int_equal(h.calls[0], 1);
	assert_int_equal(h.calls[1], 2);
	assert_int_equal(h.calls[2], 0);
	assert_int_equal(h.released[0], 0);
	assert_int_equal(h.released[1], 0);
	assert_int_equal(h.released[2], -1);
	assert_int_equal(s->served, 3);
	http_client_free(c);
	server_stop(s);
}

struct queued_seen {
	struct http_client *c;
	struct http_response *resps;
	int calls[2];
	int rcs[2];
	int released; /* http_batch_release(c, 1) from request 0's callback */
};

/* Request 0's callback releases slot 1, whose own callback is still to
 * run. */
static void
queued_done(void *ctx, size_t i, int rc)
{
	struct queued_seen *q = ctx;

	q->calls[i]++;
	q->rcs[i] = rc;
	if (i == 0)
		q->released = http_batch_release(q->c, 1);
	http_response_free(&q->resps[i]);
}

/* Two requests that end at once (no token source: neither is sent), so
 * that both callbacks are queued when the first runs. */
static void
batch_of_two_queued(struct queued_seen *q)
{
	struct http_request reqs[2];
	struct http_response resps[2];

	memset(reqs, 0, sizeof(reqs));
	memset(q, 0, sizeof(*q));
	q->c = fast_client(5, 0);
	q->resps = resps;
	for (int i = 0; i < 2; i++) {
		reqs[i].method = "GET";
		reqs[i].url = "https://127.0.0.1:9/x";
		reqs[i].auth = 1;
		reqs[i].throttle_key = "sub-1";
	}
	assert_int_equal(
	    http_batch(q->c, reqs, resps, 2, 2, queued_done, q), 0);
	http_client_free(q->c);
}

/*
 * A slot whose done callback is still queued cannot be released: that
 * would wipe its response before the callback reads it and run its
 * callback twice.  Refused (-1, each callback once, with its own rc); in
 * a debug build (make SAN=1: AKSNAP_DEBUG) an assertion stops the
 * process, tried in a child.
 */
static void
test_http_batch_release_refuses_a_slot_whose_callback_is_queued(void **state)
{
	struct queued_seen q;

	(void)state;
#ifdef AKSNAP_DEBUG
	{
		pid_t pid = fork();
		int st = 0;

		assert_true(pid >= 0);
		if (pid == 0) {
			batch_of_two_queued(&q);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGABRT);
	}
#else
	batch_of_two_queued(&q);
	assert_int_equal(q.released, -1);
	assert_int_equal(q.calls[0], 1);
	assert_int_equal(q.calls[1], 1);
	assert_int_equal(q.rcs[0], -1);
	assert_int_equal(q.rcs[1], -1);
#endif
}

/* A token source that owns its token as token.c does: a refresh frees
 * the one handed out before. */
struct owned_tokens {
	int forced;
	char *tok;
};

static int
owned_token(void *ctx, int force, const char **token)
{
	struct owned_tokens *t = ctx;

	if (force || t->tok == NULL) {
		char *old = t->tok;

		t->tok = strdup(force ? "fresh-token-2" : "stale-token-1");
		assert_non_null(t->tok);
		t->forced += force != 0;
		free(old);
	}
	*token = t->tok;
	return 0;
}

struct trace_seen {
	int lines, leaked;
};

static void
trace_sink(void *ctx, const char *line)
{
	struct trace_seen *t = ctx;

	t->lines++;
	if (strstr(line, "stale-token-1") != NULL ||
	    strstr(line, "fresh-token-2") != NULL)
		t->leaked++;
}

/*
 * Two requests in flight with one token; the first's 401 makes the source
 * refresh it (and free the old one) before the second's answer comes: the
 * second's -vv trace is still redacted with the token it sent, its own
 * copy (the sanitizer build caught a read of the freed token here).
 */
static void
test_http_batch_trace_after_another_requests_refresh(void **state)
{
	const char *script[] = {
	    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n", OK_200,
	    OK_200, NULL};
	struct server *s = server_start(script);
	struct http_client *c = fast_client(5, 0);
	struct owned_tokens ot = {0, NULL};
	struct trace_seen seen = {0, 0};
	struct http_request reqs[2];
	struct http_response resps[2];
	struct batch_seen done;
	char url[128];

	(void)state;
	http_client_set_token_source(c, owned_token, &ot);
	url_for(s, url, sizeof(url));
	memset(reqs, 0, sizeof(reqs));
	memset(&done, 0, sizeof(done));
	for (int i = 0; i < 2; i++) {
		reqs[i].method = "GET";
		reqs[i].url = url;
		reqs[i].auth = 1;
	}
	log_init(2);
	log_set_sink(trace_sink, &seen);
	assert_int_equal(
	    http_batch(c, reqs, resps, 2, 2, batch_done, &done), 0);
	log_set_sink(NULL, NULL);
	log_init(0);
	assert_int_equal(done.calls, 2);
	assert_int_equal(ot.forced, 1);
	assert_int_equal(s->served, 3);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(resps[i].status, 200);
		http_response_free(&resps[i]);
	}
	assert_true(seen.lines > 0);
	assert_int_equal(seen.leaked, 0);
	http_client_free(c);
	server_stop(s);
	free(ot.tok);
}

static int
quiet(void **state)
{
	(void)state;
	log_init(0);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_retries_exactly_the_transient_statuses),
	    cmocka_unit_test(
	        test_http_backoff_doubles_with_jitter_and_is_capped),
	    cmocka_unit_test(test_http_backoff_uses_retry_after_when_given),
	    cmocka_unit_test(test_http_parses_retry_after_seconds),
	    cmocka_unit_test(test_http_parses_retry_after_http_date),
	    cmocka_unit_test(
	        test_http_url_policy_refuses_plain_http_off_loopback),
	    cmocka_unit_test(test_http_redact_blanks_authorization_and_bearer),
	    cmocka_unit_test(
	        test_http_redact_blanks_secret_fields_and_listed_strings),
	    cmocka_unit_test(test_http_retries_429_and_sends_fresh_request_ids),
	    cmocka_unit_test(
	        test_http_gives_up_after_max_attempts_with_last_status),
	    cmocka_unit_test(test_http_does_not_retry_other_4xx),
	    cmocka_unit_test(test_http_refuses_retry_after_beyond_the_budget),
	    cmocka_unit_test(test_http_body_over_the_cap_is_an_error),
	    cmocka_unit_test(test_http_401_refreshes_the_token_once),
	    cmocka_unit_test(
	        test_http_batch_trace_after_another_requests_refresh),
	    cmocka_unit_test(
	        test_http_connection_refused_is_retried_then_fails),
	    cmocka_unit_test(test_http_refused_url_makes_no_attempt),
	    cmocka_unit_test(
	        test_http_batch_release_refuses_a_slot_whose_callback_is_queued),
	    cmocka_unit_test(test_http_batch_runs_every_request_with_retries),
	    cmocka_unit_test(
	        test_http_batch_sends_the_next_request_before_a_callback),
	    cmocka_unit_test(
	        test_http_batch_sends_held_requests_only_when_released),
	};

	return cmocka_run_group_tests(tests, quiet, NULL);
}
