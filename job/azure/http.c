/*
 * http.c -- the HTTP transport: the only file that includes curl.
 *
 * A client owns a small pool of curl easy handles.  curl_easy_perform keeps
 * a handle's connections alive between calls, so the pool hands a request
 * the idle handle that last talked to the same scheme://host:port: that is
 * the "one reusable handle per host" that gives keep-alive (and HTTP/2 when
 * the server offers it over TLS).  A pool rather than one handle because a
 * batch keeps many transfers in flight at once.  Requests never nest: the
 * token source (job/azure/token.c) fetches tokens through a client of its
 * own, so a token refreshed in the middle of a request or a batch never
 * re-enters this client (http_batch refuses to be re-entered all the
 * same).  DNS answers and TLS sessions are shared between the handles
 * through a CURLSH.
 *
 * http_batch runs many requests at once through one curl multi handle that
 * lives as long as the client (so its connection cache survives between
 * batches).  Each request carries its own state (attempt, waited time, the
 * earliest time it may be sent again), so a request waiting out a
 * Retry-After never blocks the others.  Requests that share a throttle_key
 * (a subscription: ARM's limits are per subscription) form a group with
 * its own queue: at most max_inflight of a group are in flight (and at
 * most BATCH_MAX_TOTAL in all), a 429 holds back every new request of
 * that group until its Retry-After passes, and a nearly exhausted ARM rate
 * limit halves how many of that group may be in flight -- while the other
 * groups go on at full speed.  Scheduling costs O(groups) per wake-up, not
 * O(requests), so a batch of 10,000 costs no more per request than one of
 * 100; the per-request state is small, and the curl handles (at most the
 * batch's bound) are reused, keeping their connections alive.
 *
 * Both paths share one decision function (attempt_outcome): which results
 * are final, which are retried and after how long, and when a 401 asks for a
 * fresh token.  Nothing here parses ARM's JSON; callers judge statuses and
 * bodies.  With -vv each request and response is traced through
 * http_redact, which blanks the Authorization header, bearer tokens, known
 * secret fields and every string the request lists in redact[].
 *
 * Not thread-safe: one thread uses a client at a time; concurrency comes
 * from http_batch.
 */
#include "job/azure/http.h"

#include <assert.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "job/base/limits.h"
#include "job/base/log.h"

#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_CONNECT_TIMEOUT_S 10
#define DEFAULT_MAX_BODY LIMIT_HTTP_BODY
#define DEFAULT_MAX_ATTEMPTS LIMIT_HTTP_ATTEMPTS
#define DEFAULT_MAX_TOTAL_WAIT_MS LIMIT_HTTP_TOTAL_WAIT_MS
#define DEFAULT_BASE_DELAY_MS 800
#define DEFAULT_MAX_DELAY_MS 60000

#define TRACE_BODY_MAX 2048 /* -vv shows this much of a body */
#define ERROR_BODY_MAX 200 /* a give-up line shows this much */
#define RATELIMIT_LOW 10 /* remaining ARM quota that halves concurrency */
/*
 * http_batch: max_inflight bounds each throttle key (subscription); this
 * bounds the whole batch, so that hundreds of subscriptions do not open
 * thousands of connections (and file descriptors) at once.
 */
#define BATCH_MAX_TOTAL LIMIT_BATCH_INFLIGHT

/*
 * A caller's misuse that the code refuses with a defined answer (-1, and
 * nothing changed) also stops a debug build (make SAN=1 defines
 * AKSNAP_DEBUG) at once, where the tests would otherwise read on.
 */
#ifdef AKSNAP_DEBUG
#define DEBUG_ASSERT(e) assert(e)
#else
#define DEBUG_ASSERT(e) ((void)0)
#endif

/*
 * Extra CA bundles: with an OpenSSL libcurl, CURLOPT_CAINFO replaces the
 * default bundle instead of adding to it.  So when ca_file is set we point
 * CAINFO at it and CAPATH at the system's hashed certificate directory,
 * which OpenSSL consults as well: both the extra CA and the system roots
 * are trusted.
 */
#define SYSTEM_CA_PATH "/etc/ssl/certs"

struct pooled {
	CURL *easy;
	char origin[300]; /* scheme://host:port it last served */
	int busy;
};

/*
 * The requests of one throttle_key (a subscription) in one http_batch:
 * they share a bound on how many are in flight, and slow down together.
 */
struct throttle {
	const char *key; /* the requests' own string; NULL: those without */
	int64_t blocked_until; /* monotonic ms; 0 = not blocked */
	int allowance; /* in flight at most; halves on low quota */
	int inflight;
	size_t *queue; /* first attempts, in request order (slice of order) */
	size_t qlen, qhead;
	size_t *retry; /* requests waiting out a backoff; malloc'd */
	size_t nretry, retry_cap;
};

struct batch;

struct http_client {
	struct http_options opts;
	CURLSH *share;
	CURLM *multi;
	int in_batch;
	struct batch
	    *batch; /* the running http_batch, for http_batch_release */
	struct pooled *pool;
	size_t npool;
	int (*token_get)(void *ctx, int force_refresh, const char **token);
	void *token_ctx;
	unsigned token_gen; /* bumped by every forced refresh */
	char tls_host[256]; /* first host whose certificate did not verify */
};

/* One request in flight (http_do or one slot of http_batch). */
struct xfer {
	struct http_client *c;
	const struct http_request *req;
	struct http_response *resp;
	CURL *easy; /* from the pool; never a pointer into it (it moves) */
	struct curl_slist *headers;
	/* the bearer token sent, for redaction: a copy, since a refresh
	 * forced by another request frees the source's while this one is
	 * still in flight (its trace redacts after the refresh) */
	char *token;
	unsigned token_gen;
	int refreshed; /* the one 401 refresh has been used */
	int attempt; /* attempts started */
	int64_t waited_ms; /* sum of backoff waits so far */
	int64_t not_before; /* batch: monotonic ms before which not to send */
	int state; /* batch: XFER_* */
	int result; /* batch: the rc its done callback is to be given */
	int queued; /* batch: XFER_DONE, its callback still in b->finished */
	struct throttle *throttle;
	char errbuf[CURL_ERROR_SIZE];
};

enum { XFER_PENDING, XFER_ACTIVE, XFER_DONE, XFER_HELD };

enum outcome {
	OUT_DONE, /* an HTTP response the caller judges: rc 0 */
	OUT_FAIL, /* no usable response: rc -1 */
	OUT_RETRY, /* wait *delay_ms, then try again */
	OUT_REFRESH, /* 401: get a fresh token, then try again at once */
};

static int curl_ready;

static int64_t
opt_or(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

static void
options_resolve(struct http_options *o, const struct http_options *in)
{
	memset(o, 0, sizeof(*o));
	if (in != NULL)
		*o = *in;
	o->timeout_s = opt_or(o->timeout_s, DEFAULT_TIMEOUT_S);
	o->connect_timeout_s =
	    opt_or(o->connect_timeout_s, DEFAULT_CONNECT_TIMEOUT_S);
	if (o->connect_timeout_s > o->timeout_s)
		o->connect_timeout_s = o->timeout_s;
	if (o->ca_file != NULL && o->ca_file[0] == '\0')
		o->ca_file = NULL;
	o->max_body = o->max_body > 0 ? o->max_body : DEFAULT_MAX_BODY;
	o->max_attempts =
	    o->max_attempts > 0 ? o->max_attempts : DEFAULT_MAX_ATTEMPTS;
	o->max_total_wait_ms =
	    opt_or(o->max_total_wait_ms, DEFAULT_MAX_TOTAL_WAIT_MS);
	o->base_delay_ms = opt_or(o->base_delay_ms, DEFAULT_BASE_DELAY_MS);
	o->max_delay_ms = opt_or(o->max_delay_ms, DEFAULT_MAX_DELAY_MS);
}

/* ---------------------------------------------------------------------
 * Pure helpers
 */

int
http_retryable_status(long status)
{
	switch (status) {
	case 408:
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		return 0;
	}
}

int
http_parse_retry_after(const char *value, time_t now, int64_t *out_ms)
{
	/* IMF-fixdate first, then the two obsolete forms RFC 9110 allows. */
	static const char *formats[] = {
	    "%a, %d %b %Y %H:%M:%S GMT",
	    "%A, %d-%b-%y %H:%M:%S GMT",
	    "%a %b %d %H:%M:%S %Y",
	};
	const char *p = value;
	long long secs;

	if (value == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		char num[32];
		size_t n = 0;

		while (n < sizeof(num) - 1 && isdigit((unsigned char)p[n])) {
			num[n] = p[n];
			n++;
		}
		num[n] = '\0';
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' ||
		    util_parse_int(num, 0, INT64_MAX / 1000, &secs) != 0)
			return -1;
		*out_ms = (int64_t)secs * 1000;
		return 0;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm;
		const char *end;
		time_t t;

		memset(&tm, 0, sizeof(tm));
		end = strptime(p, formats[i], &tm);
		if (end == NULL)
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0')
			continue;
		t = timegm(&tm);
		if (t == (time_t)-1)
			continue;
		*out_ms = t > now ? (int64_t)(t - now) * 1000 : 0;
		return 0;
	}
	return -1;
}

int64_t
http_backoff_ms(const struct http_options *opts, int attempt,
    int64_t retry_after_ms, double rnd)
{
	struct http_options o;
	double d;

	if (retry_after_ms >= 0)
		return retry_after_ms;
	options_resolve(&o, opts);
	if (attempt < 1)
		attempt = 1;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	d = (double)o.base_delay_ms;
	for (int i = 1; i < attempt && d < (double)o.max_delay_ms; i++)
		d *= 2;
	d *= 0.8 + 0.5 * rnd; /* jitter x[0.8, 1.3) as the Azure SDKs do */
	if (d > (double)o.max_delay_ms)
		d = (double)o.max_delay_ms;
	return (int64_t)d;
}

static int
host_is_loopback(const char *host)
{
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return 1;
	/* 127.0.0.0/8, written as a dotted quad. */
	if (strncmp(host, "127.", 4) == 0) {
		int dots = 0;

		for (const char *p = host; *p != '\0'; p++) {
			if (*p == '.')
				dots++;
			else if (!isdigit((unsigned char)*p))
				return 0;
		}
		return dots == 3;
	}
	return 0;
}

int
http_url_allowed(const char *url, int allow_plain, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (url == NULL || url[0] == '\0') {
		snprintf(err, errlen, "empty URL");
		return -1;
	}
	u = curl_url();
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "not a valid URL");
		goto done;
	}
	if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
	} else if (strcasecmp(scheme, "http") == 0) {
		if (allow_plain || host_is_loopback(host))
			rc = 0;
		else
			snprintf(err, errlen,
			    "plain http:// refused for non-loopback host %s "
			    "(use https://)",
			    host);
	} else {
		snprintf(err, errlen, "scheme %s not supported", scheme);
	}
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* The origin (scheme://host:port) a URL talks to, for the handle pool. */
static void
url_origin(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL) {
		util_strlcpy(out, url, outlen);
		return;
	}
	p += 3;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

/* ---------------------------------------------------------------------
 * Redaction
 */

static const char *const secret_json_fields[] = {
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "accessToken",
    "refreshToken",
};

static const char *const secret_form_fields[] = {
    "client_secret=",
    "client_assertion=",
    "access_token=",
};

#define REDACTED "[redacted]"

/*
 * The end of a JSON string value starting at ${p} (just after its opening
 * quote): the closing quote, or the end of the text.
 */
static const char *
json_string_end(const char *p, const char *end)
{
	while (p < end && *p != '"') {
		if (*p == '\\' && p + 1 < end)
			p++;
		p++;
	}
	return p;
}

/*
 * http_redact(text, len, secrets, nsecrets):
 * A malloc'd, NUL-terminated copy of ${text} (${len} bytes) in which
 * "Authorization:" header values, "Bearer <token>", the values of JSON
 * fields and form fields that hold secrets, and every occurrence of the
 * non-empty strings in ${secrets} are replaced by "[redacted]".  NULL on
 * ENOMEM.
 */
char *
http_redact(
    const char *text, size_t len, const char *const *secrets, size_t nsecrets)
{
	struct buf out;
	const char *p = text, *end = text + len;

	buf_init(&out, (size_t)-1 / 2);
	if (buf_append(&out, "", 0) != 0)
		return NULL;
	while (p < end) {
		size_t skip = 0;

		/* Literal secrets, longest risk first: they may sit anywhere.
		 */
		for (size_t i = 0; i < nsecrets && skip == 0; i++) {
			size_t sl;

			if (secrets[i] == NULL || secrets[i][0] == '\0')
				continue;
			sl = strlen(secrets[i]);
			if (sl <= (size_t)(end - p) &&
			    memcmp(p, secrets[i], sl) == 0) {
				buf_append(&out, REDACTED, strlen(REDACTED));
				skip = sl;
			}
		}
		if (skip > 0) {
			p += skip;
			continue;
		}
		/* Authorization: <anything up to the end of the line> */
		if ((size_t)(end - p) >= 14 &&
		    strncasecmp(p, "Authorization:", 14) == 0) {
			const char *e = p + 14;

			while (e < end && *e != '\r' && *e != '\n')
				e++;
			buf_append(&out, "Authorization: " REDACTED,
			    strlen("Authorization: " REDACTED));
			p = e;
			continue;
		}
		/* Bearer <token> */
		if ((size_t)(end - p) >= 7 &&
		    strncasecmp(p, "Bearer ", 7) == 0) {
			const char *e = p + 7;

			while (e < end && !isspace((unsigned char)*e) &&
			    *e != '"' && *e != ',' && *e != '&')
				e++;
			buf_append(&out, "Bearer " REDACTED,
			    strlen("Bearer " REDACTED));
			p = e;
			continue;
		}
		/* "field" : "value" */
		if (*p == '"') {
			for (size_t i = 0; i < sizeof(secret_json_fields) /
			         sizeof(secret_json_fields[0]);
			     i++) {
				const char *f = secret_json_fields[i];
				size_t fl = strlen(f);
				const char *e = p + 1 + fl;

				if ((size_t)(end - p) < fl + 2 ||
				    memcmp(p + 1, f, fl) != 0 || *e != '"')
					continue;
				e++;
				while (e < end && isspace((unsigned char)*e))
					e++;
				if (e >= end || *e != ':')
					continue;
				e++;
				while (e < end && isspace((unsigned char)*e))
					e++;
				if (e >= end || *e != '"')
					continue;
				e++;
				buf_append(&out, p, (size_t)(e - p));
				buf_append(&out, REDACTED, strlen(REDACTED));
				p = json_string_end(e, end);
				skip = 1;
				break;
			}
			if (skip)
				continue;
		}
		/* client_secret=value (form bodies), at a field boundary */
		if (p == text || p[-1] == '&' || p[-1] == '?' ||
		    isspace((unsigned char)p[-1])) {
			for (size_t i = 0; i < sizeof(secret_form_fields) /
			         sizeof(secret_form_fields[0]);
			     i++) {
				const char *f = secret_form_fields[i];
				size_t fl = strlen(f);
				const char *e = p + fl;

				if ((size_t)(end - p) < fl ||
				    memcmp(p, f, fl) != 0)
					continue;
				while (e < end && *e != '&' &&
				    !isspace((unsigned char)*e))
					e++;
				buf_append(&out, p, fl);
				buf_append(&out, REDACTED, strlen(REDACTED));
				p = e;
				skip = 1;
				break;
			}
			if (skip)
				continue;
		}
		buf_append(&out, p, 1);
		p++;
	}
	return out.data;
}

/* ---------------------------------------------------------------------
 * Responses
 */

void
http_response_init(struct http_response *r)
{
	if (r == NULL)
		return;
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, DEFAULT_MAX_BODY);
	r->retry_after_ms = -1;
	r->ratelimit_remaining = -1;
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	free(r->async_operation);
	free(r->location);
	http_response_init(r);
}

/* Clear what one attempt fills, keeping attempts and the client id. */
static void
response_reset(struct http_response *r, size_t max_body)
{
	int attempts = r->attempts;
	char crid[sizeof(r->client_request_id)];

	memcpy(crid, r->client_request_id, sizeof(crid));
	http_response_free(r);
	buf_init(&r->body, max_body);
	r->attempts = attempts;
	memcpy(r->client_request_id, crid, sizeof(crid));
}

/* ---------------------------------------------------------------------
 * Client and handle pool
 */

struct http_client *
http_client_new(const struct http_options *opts)
{
	struct http_client *c;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_err(NULL, "http: curl_global_init failed");
			return NULL;
		}
		curl_ready = 1;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_err(NULL, "http: out of memory");
		return NULL;
	}
	options_resolve(&c->opts, opts);
	c->share = curl_share_init();
	if (c->share == NULL) {
		log_err(NULL, "http: curl_share_init failed");
		free(c);
		return NULL;
	}
	/* Single-threaded use: no lock callbacks needed. */
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(
	    c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return c;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->npool; i++)
		curl_easy_cleanup(c->pool[i].easy);
	free(c->pool);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	curl_share_cleanup(c->share);
	free(c);
}

void
http_client_set_token_source(struct http_client *c,
    int (*get)(void *ctx, int force_refresh, const char **token), void *ctx)
{
	c->token_get = get;
	c->token_ctx = ctx;
}

/*
 * An idle handle for ${url}: preferably the one that last served its
 * origin (its connection is still open), else any idle one, else a new one.
 */
static CURL *
pool_acquire(struct http_client *c, const char *url)
{
	char origin[300];
	struct pooled *pick = NULL, *np;

	url_origin(url, origin, sizeof(origin));
	for (size_t i = 0; i < c->npool; i++) {
		struct pooled *h = &c->pool[i];

		if (h->busy)
			continue;
		if (strcmp(h->origin, origin) == 0) {
			pick = h;
			break;
		}
		if (pick == NULL)
			pick = h;
	}
	if (pick == NULL) {
		CURL *e = curl_easy_init();

		if (e == NULL)
			return NULL;
		np = realloc(c->pool, (c->npool + 1) * sizeof(*np));
		if (np == NULL) {
			curl_easy_cleanup(e);
			return NULL;
		}
		c->pool = np;
		pick = &c->pool[c->npool++];
		memset(pick, 0, sizeof(*pick));
		pick->easy = e;
	}
	pick->busy = 1;
	util_strlcpy(pick->origin, origin, sizeof(pick->origin));
	return pick->easy;
}

/*
 * The pool array may be realloc'd while handles are busy (a batch acquires
 * one per transfer it starts): so xfers hold the CURL pointer and the slot
 * is found again by it.
 */
static void
pool_release(struct http_client *c, CURL *easy)
{
	for (size_t i = 0; i < c->npool; i++) {
		if (c->pool[i].easy == easy) {
			c->pool[i].busy = 0;
			return;
		}
	}
}

/* ---------------------------------------------------------------------
 * One attempt
 */

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;

	/* Returning short aborts the transfer: over the cap is an error. */
	if (buf_append(&x->resp->body, data, n) != 0)
		return 0;
	return n;
}

static char *
dup_trimmed(const char *v, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, v, n);
	s[n] = '\0';
	return s;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	struct http_response *r = x->resp;
	size_t n = size * nmemb, nl;
	const char *colon, *v, *e;
	char tmp[64];

	/* A new status line (e.g. after 100 Continue) starts afresh. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->request_id[0] = r->correlation_id[0] = '\0';
		free(r->async_operation);
		free(r->location);
		r->async_operation = r->location = NULL;
		r->retry_after_ms = -1;
		r->ratelimit_remaining = -1;
		return n;
	}
	colon = memchr(data, ':', n);
	if (colon == NULL)
		return n;
	nl = (size_t)(colon - data);
	v = colon + 1;
	e = data + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v &&
	    (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;

#define IS(name) (nl == strlen(name) && strncasecmp(data, name, nl) == 0)
	if (IS("x-ms-request-id")) {
		size_t k = (size_t)(e - v);

		if (k >= sizeof(r->request_id))
			k = sizeof(r->request_id) - 1;
		memcpy(r->request_id, v, k);
		r->request_id[k] = '\0';
	} else if (IS("x-ms-correlation-request-id")) {
		size_t k = (size_t)(e - v);

		if (k >= sizeof(r->correlation_id))
			k = sizeof(r->correlation_id) - 1;
		memcpy(r->correlation_id, v, k);
		r->correlation_id[k] = '\0';
	} else if (IS("Azure-AsyncOperation")) {
		free(r->async_operation);
		r->async_operation = dup_trimmed(v, (size_t)(e - v));
	} else if (IS("Location")) {
		free(r->location);
		r->location = dup_trimmed(v, (size_t)(e - v));
	} else if (IS("x-ms-retry-after-ms") || IS("retry-after-ms")) {
		long long ms;
		size_t k = (size_t)(e - v);

		/* Milliseconds are more precise than Retry-After: they win. */
		if (k < sizeof(tmp)) {
			memcpy(tmp, v, k);
			tmp[k] = '\0';
			if (util_parse_int(tmp, 0, INT64_MAX, &ms) == 0)
				r->retry_after_ms = ms;
		}
	} else if (IS("Retry-After")) {
		int64_t ms;
		char *s = dup_trimmed(v, (size_t)(e - v));

		if (s != NULL && r->retry_after_ms < 0 &&
		    http_parse_retry_after(s, util_now(), &ms) == 0)
			r->retry_after_ms = ms;
		free(s);
	} else if (IS("x-ms-ratelimit-remaining-subscription-reads") ||
	    IS("x-ms-ratelimit-remaining-subscription-writes") ||
	    IS("x-ms-ratelimit-remaining-subscription-deletes")) {
		long long left;
		size_t k = (size_t)(e - v);

		if (k < sizeof(tmp)) {
			memcpy(tmp, v, k);
			tmp[k] = '\0';
			if (util_parse_int(tmp, 0, LONG_MAX, &left) == 0 &&
			    (r->ratelimit_remaining < 0 ||
			        left < r->ratelimit_remaining))
				r->ratelimit_remaining = (long)left;
		}
	}
#undef IS
	return n;
}

static void
wipe_headers(struct curl_slist *h)
{
	/* The list holds the bearer token: clear it before it is freed. */
	for (struct curl_slist *p = h; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static int
add_header(struct curl_slist **list, const char *h)
{
	struct curl_slist *n = curl_slist_append(*list, h);

	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

/* A traced body, cut at TRACE_BODY_MAX. */
static void
trace_body(struct buf *t, const char *sep, const char *body, size_t len)
{
	buf_printf(t, "%s%.*s%s", sep,
	    (int)(len > TRACE_BODY_MAX ? TRACE_BODY_MAX : len), body,
	    len > TRACE_BODY_MAX ? "..." : "");
}

/*
 * Log the trace line ${t} at debug level with every secret of ${x} (the
 * request's redactions and its bearer token) redacted; free ${t}.
 */
static void
trace_emit(const struct xfer *x, struct buf *t)
{
	const struct http_request *req = x->req;
	const char *secrets[HTTP_MAX_REDACT + 1];
	size_t ns = 0;
	char *red;

	for (size_t i = 0; i < HTTP_MAX_REDACT; i++)
		if (req->redact[i] != NULL)
			secrets[ns++] = req->redact[i];
	if (x->token != NULL)
		secrets[ns++] = x->token;
	red =
	    t->data != NULL ? http_redact(t->data, t->len, secrets, ns) : NULL;
	if (red != NULL)
		log_debug(req->context, "http: %s", red);
	free(red);
	buf_free(t);
}

static void
trace_request(const struct xfer *x)
{
	const struct http_request *req = x->req;
	struct buf t;

	buf_init(&t, 64 * 1024);
	buf_printf(&t, "> %s %s (attempt %d, client-request-id %s)",
	    req->method, req->url, x->resp->attempts,
	    x->resp->client_request_id);
	for (struct curl_slist *h = x->headers; h != NULL; h = h->next)
		if (strcmp(h->data, "Expect:") != 0)
			buf_printf(&t, " | %s", h->data);
	if (req->body != NULL)
		trace_body(&t, " | body: ", req->body, strlen(req->body));
	trace_emit(x, &t);
}

static void
trace_response(const struct xfer *x)
{
	const struct http_request *req = x->req;
	const struct http_response *r = x->resp;
	struct buf t;

	buf_init(&t, 64 * 1024);
	buf_printf(&t, "< %ld %s %s (x-ms-request-id %s, correlation %s",
	    r->status, req->method, req->url,
	    r->request_id[0] ? r->request_id : "-",
	    r->correlation_id[0] ? r->correlation_id : "-");
	if (r->retry_after_ms >= 0)
		buf_printf(
		    &t, ", retry-after %lld ms", (long long)r->retry_after_ms);
	if (r->ratelimit_remaining >= 0)
		buf_printf(
		    &t, ", ratelimit-remaining %ld", r->ratelimit_remaining);
	if (r->async_operation != NULL)
		buf_printf(&t, ", azure-asyncoperation %s", r->async_operation);
	if (r->location != NULL)
		buf_printf(&t, ", location %s", r->location);
	buf_printf(&t, ") body %zu bytes", r->body.len);
	if (r->body.len > 0)
		trace_body(&t, ": ", r->body.data, r->body.len);
	trace_emit(x, &t);
}

/* ${x}'s copy of its bearer token, wiped and freed. */
static void
token_drop(struct xfer *x)
{
	if (x->token == NULL)
		return;
	explicit_bzero(x->token, strlen(x->token));
	free(x->token);
	x->token = NULL;
}

/*
 * Prepare ${x} for its next attempt: a handle, a fresh client request id,
 * the headers (with a token when req->auth), the options.  Return 0, or -1
 * with resp->error set (a refused URL, no token, ENOMEM).
 */
static int
attempt_prepare(struct xfer *x)
{
	struct http_client *c = x->c;
	const struct http_request *req = x->req;
	struct http_response *r = x->resp;
	const struct http_options *o = &c->opts;
	char line[128];
	CURL *e;
	const char *tok = NULL;
	int plain_ok = req->allow_plain_http;

	response_reset(r, req->max_body > 0 ? req->max_body : o->max_body);
	wipe_headers(x->headers);
	x->headers = NULL;
	token_drop(x);
	if (http_url_allowed(req->url, plain_ok, r->error, sizeof(r->error)))
		return -1;

	if (req->auth) {
		if (c->token_get == NULL) {
			snprintf(r->error, sizeof(r->error),
			    "no token source for an authenticated request");
			return -1;
		}
		x->token_gen = c->token_gen;
		/* The source may perform its own request on this client. */
		if (c->token_get(c->token_ctx, 0, &tok) != 0 || tok == NULL) {
			snprintf(r->error, sizeof(r->error),
			    "could not get a token");
			return -1;
		}
		x->token = strdup(tok);
		if (x->token == NULL) {
			snprintf(r->error, sizeof(r->error), "out of memory");
			return -1;
		}
	}

	util_uuid4(r->client_request_id);
	r->attempts++;
	x->attempt++;

	snprintf(line, sizeof(line), "x-ms-client-request-id: %s",
	    r->client_request_id);
	if (add_header(&x->headers, line) ||
	    add_header(&x->headers, "x-ms-return-client-request-id: true") ||
	    add_header(&x->headers, "Accept: application/json") ||
	    /* No "Expect: 100-continue" round trip for bodies. */
	    add_header(&x->headers, "Expect:"))
		goto nomem;
	if (req->body != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s",
		    req->content_type != NULL ? req->content_type
		                              : "application/json");
		if (add_header(&x->headers, line))
			goto nomem;
	}
	for (size_t i = 0; i < HTTP_MAX_HEADERS && req->headers[i] != NULL; i++)
		if (add_header(&x->headers, req->headers[i]))
			goto nomem;
	if (x->token != NULL) {
		struct buf auth;
		int bad;

		buf_init(&auth, 64 * 1024);
		bad = buf_printf(&auth, "Authorization: Bearer %s", x->token) ||
		    add_header(&x->headers, auth.data);
		if (auth.data != NULL)
			explicit_bzero(auth.data, auth.len);
		buf_free(&auth);
		if (bad)
			goto nomem;
	}

	if (x->easy == NULL) {
		x->easy = pool_acquire(c, req->url);
		if (x->easy == NULL)
			goto nomem;
	}
	e = x->easy;
	/* Reset keeps the handle's live connections and caches. */
	curl_easy_reset(e);
	x->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_SHARE, c->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* ARM does not redirect; following could leak Authorization. */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_s * 1000));
	curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->connect_timeout_s * 1000));
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, SYSTEM_CA_PATH);
	}
	/* IMDS and the loopback emulator must never go through a proxy. */
	if (strncasecmp(req->url, "http://", 7) == 0)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "aksnap");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (req->body != NULL) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)strlen(req->body));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		} else if (strcmp(req->method, "DELETE") != 0) {
			/* POST/PUT without a body: Content-Length: 0. */
			curl_easy_setopt(
			    e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		}
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (log_verbosity() >= 2)
		trace_request(x);
	return 0;

nomem:
	snprintf(r->error, sizeof(r->error), "out of memory");
	return -1;
}

static int
retryable_curl_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
		return 1;
	default:
		return 0;
	}
}

/*
 * The curl codes that mean "the peer's certificate (or our CA bundle) did
 * not verify": no retry makes them pass, and the fix is the operator's
 * (ca_file), so they are configuration errors (DESIGN.md section 7).
 */
static int
tls_verify_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION: /* = the old CURLE_SSL_CACERT */
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
		return 1;
	default:
		return 0;
	}
}

/* "host" of "scheme://host:port/path" (userinfo dropped), for messages. */
static void
url_host(const char *url, char *out, size_t outlen)
{
	char origin[300];
	const char *h, *at;
	size_t n;

	url_origin(url, origin, sizeof(origin));
	h = strstr(origin, "://");
	h = h != NULL ? h + 3 : origin;
	at = strchr(h, '@');
	if (at != NULL)
		h = at + 1;
	n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, h, n);
	out[n] = '\0';
}

/* Log a certificate that did not verify, once per client, with the fix. */
static void
log_tls_failure(struct xfer *x)
{
	struct http_client *c = x->c;
	const struct http_request *req = x->req;
	char host[256];

	x->resp->tls_unverified = 1;
	url_host(req->url, host, sizeof(host));
	if (c->tls_host[0] == '\0')
		util_strlcpy(c->tls_host, host, sizeof(c->tls_host));
	if (c->opts.ca_file != NULL)
		log_err(req->context,
		    "http: %s %s: the TLS certificate of %s did not verify "
		    "against ca_file %s and the system's CAs (%s); a "
		    "configuration error: set ca_file in [aksnap] to the CA "
		    "bundle that signs %s",
		    req->method, req->url, host, c->opts.ca_file,
		    x->resp->error, host);
	else
		log_err(req->context,
		    "http: %s %s: the TLS certificate of %s did not verify "
		    "against the system's CAs (%s); a configuration error: "
		    "set ca_file in [aksnap] to the CA bundle that signs %s",
		    req->method, req->url, host, x->resp->error, host);
}

const char *
http_client_tls_failure(const struct http_client *c)
{
	return c != NULL && c->tls_host[0] != '\0' ? c->tls_host : NULL;
}

/* The first bytes of a body for a log line, secrets blanked. */
static char *
body_head(const struct xfer *x)
{
	const struct buf *b = &x->resp->body;
	const char *secrets[HTTP_MAX_REDACT + 1];
	size_t ns = 0, n = b->len > ERROR_BODY_MAX ? ERROR_BODY_MAX : b->len;

	for (size_t i = 0; i < HTTP_MAX_REDACT; i++)
		if (x->req->redact[i] != NULL)
			secrets[ns++] = x->req->redact[i];
	if (x->token != NULL)
		secrets[ns++] = x->token;
	return http_redact(n > 0 ? b->data : "", n, secrets, ns);
}

static void
log_give_up(const struct xfer *x, const char *why)
{
	const struct http_response *r = x->resp;
	char *head = body_head(x);

	log_err(x->req->context,
	    "http: giving up on %s %s after %d attempt%s (%s): HTTP %ld, "
	    "x-ms-request-id %s, x-ms-correlation-request-id %s, "
	    "x-ms-client-request-id %s: %s",
	    x->req->method, x->req->url, r->attempts,
	    r->attempts == 1 ? "" : "s", why, r->status,
	    r->request_id[0] ? r->request_id : "-",
	    r->correlation_id[0] ? r->correlation_id : "-",
	    r->client_request_id, head != NULL && head[0] ? head : "(no body)");
	free(head);
}

static double
random_unit(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)rand();
	return (double)v / 4294967296.0;
}

/*
 * Judge the attempt that ended with ${rc}: final, retry (with *delay_ms) or
 * refresh the token.  Logs retries (-v) and final failures.
 *
 * Retry covers every method: ARM's PUT, PATCH and DELETE are idempotent,
 * and the POSTs we send (token requests, upgradeNodeImageVersion) are safe
 * to repeat after 408/429/5xx, which mean the request was not processed.
 */
static enum outcome
attempt_outcome(struct xfer *x, CURLcode rc, int64_t *delay_ms)
{
	struct http_client *c = x->c;
	const struct http_request *req = x->req;
	struct http_response *r = x->resp;
	const struct http_options *o = &c->opts;
	CURL *e = x->easy;
	int64_t delay, ra;
	char what[96];
	long status = 0;

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK)
		r->status = status;
	if (log_verbosity() >= 2 && rc == CURLE_OK)
		trace_response(x);

	if (rc == CURLE_WRITE_ERROR && r->body.overflow) {
		r->status = status;
		snprintf(r->error, sizeof(r->error),
		    "response body larger than %zu bytes", r->body.max);
		/* A probe's caller reports the failure its own way. */
		log_msg(req->quiet ? LOG_LVL_INFO : LOG_LVL_ERR, req->context,
		    "http: %s %s: %s (HTTP %ld, x-ms-request-id %s)",
		    req->method, req->url, r->error, status,
		    r->request_id[0] ? r->request_id : "-");
		return OUT_FAIL;
	}
	if (rc != CURLE_OK) {
		r->status = 0;
		snprintf(r->error, sizeof(r->error), "%s",
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		if (tls_verify_error(rc)) {
			log_tls_failure(x);
			return OUT_FAIL;
		}
		if (req->no_retry || !retryable_curl_error(rc) ||
		    x->attempt >= o->max_attempts) {
			/* A probe's caller says what a missing peer means. */
			log_msg(req->quiet ? LOG_LVL_INFO : LOG_LVL_ERR,
			    req->context,
			    "http: %s %s failed after %d attempt%s: %s "
			    "(x-ms-client-request-id %s)",
			    req->method, req->url, r->attempts,
			    r->attempts == 1 ? "" : "s", r->error,
			    r->client_request_id);
			return OUT_FAIL;
		}
		snprintf(what, sizeof(what), "%s", curl_easy_strerror(rc));
		ra = -1;
	} else if (status == 401 && req->auth && !x->refreshed &&
	    c->token_get != NULL) {
		x->refreshed = 1;
		log_info(req->context,
		    "http: %s %s: 401, refreshing the token and retrying once",
		    req->method, req->url);
		return OUT_REFRESH;
	} else if (http_retryable_status(status) && !req->no_retry) {
		if (x->attempt >= o->max_attempts) {
			snprintf(what, sizeof(what), "%d attempts allowed",
			    o->max_attempts);
			log_give_up(x, what);
			return OUT_DONE;
		}
		snprintf(what, sizeof(what), "%ld", status);
		ra = r->retry_after_ms;
	} else {
		return OUT_DONE;
	}

	delay = http_backoff_ms(o, x->attempt, ra, random_unit());
	if (x->waited_ms + delay > o->max_total_wait_ms) {
		char why[160];

		snprintf(why, sizeof(why),
		    "%s wait of %.1f s would exceed the %.1f s retry budget",
		    ra >= 0 ? "the server's" : "a", (double)delay / 1000,
		    (double)o->max_total_wait_ms / 1000);
		if (rc != CURLE_OK) {
			log_err(req->context,
			    "http: %s %s failed after %d attempt%s: %s (%s)",
			    req->method, req->url, r->attempts,
			    r->attempts == 1 ? "" : "s", r->error, why);
			return OUT_FAIL;
		}
		log_give_up(x, why);
		return OUT_DONE;
	}
	x->waited_ms += delay;
	log_info(req->context,
	    "http: retrying %s %s after %.1f s (%s, attempt %d/%d)",
	    req->method, req->url, (double)delay / 1000, what, x->attempt + 1,
	    o->max_attempts);
	*delay_ms = delay;
	return OUT_RETRY;
}

/*
 * A 401 asks for a fresh token, once.  If another request already forced a
 * refresh since this one took its token, the current token is new enough.
 */
static int
refresh_token(struct xfer *x)
{
	struct http_client *c = x->c;
	const char *tok = NULL;

	if (x->token_gen != c->token_gen)
		return 0;
	c->token_gen++;
	if (c->token_get(c->token_ctx, 1, &tok) != 0) {
		snprintf(x->resp->error, sizeof(x->resp->error),
		    "could not refresh the token after a 401");
		return -1;
	}
	return 0;
}

static void
xfer_release(struct xfer *x)
{
	if (x->easy != NULL) {
		/* Drop the pointer to the header list freed below. */
		curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
		pool_release(x->c, x->easy);
		x->easy = NULL;
	}
	wipe_headers(x->headers);
	x->headers = NULL;
	token_drop(x);
}

static void
xfer_init(struct xfer *x, struct http_client *c, const struct http_request *req,
    struct http_response *resp)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->req = req;
	x->resp = resp;
	http_response_init(resp);
	resp->body.max = req->max_body > 0 ? req->max_body : c->opts.max_body;
}

static void
log_prepare_failure(const struct xfer *x)
{
	log_err(x->req->context, "http: %s %s: %s", x->req->method,
	    x->req->url != NULL ? x->req->url : "(null)", x->resp->error);
}

/* ---------------------------------------------------------------------
 * http_do
 */

int
http_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp)
{
	struct xfer x;
	int ret = -1;

	xfer_init(&x, c, req, resp);
	for (;;) {
		enum outcome out;
		int64_t delay = 0;
		CURLcode rc;

		if (attempt_prepare(&x) != 0) {
			log_prepare_failure(&x);
			break;
		}
		rc = curl_easy_perform(x.easy);
		out = attempt_outcome(&x, rc, &delay);
		if (out == OUT_DONE) {
			ret = 0;
			break;
		}
		if (out == OUT_FAIL)
			break;
		if (out == OUT_REFRESH) {
			if (refresh_token(&x) != 0) {
				log_prepare_failure(&x);
				break;
			}
			continue;
		}
		util_sleep_ms(delay);
	}
	xfer_release(&x);
	return ret;
}

/* ---------------------------------------------------------------------
 * http_batch
 */

#define NO_XFER ((size_t)-1)

struct batch {
	struct http_client *c;
	struct xfer *xs;
	const struct http_request *reqs;
	struct http_response *resps;
	size_t n;
	size_t nheld; /* requests in XFER_HELD */
	size_t sent; /* requests whose done callback ran (a reused one counts
	                each time) */
	int max_total; /* in flight over every group */
	int active;
	size_t done_count;
	struct throttle *groups;
	size_t ngroups;
	size_t *order; /* request indices grouped by throttle key */
	size_t rr; /* the group served first by the next pass */
	long new_conns; /* connections opened (curl's NUM_CONNECTS) */
	int max_active;
	/*
	 * Finished requests whose done callback has not run yet, in the order
	 * they finished (a ring of n: a request finishes again only after it
	 * was released, which its callback or a later one does).  Callbacks
	 * run after the freed slots were refilled and the new requests sent,
	 * so a callback's CPU does not hold the next request back.
	 */
	size_t *finished;
	size_t fhead, flen;
	void (*done)(void *ctx, size_t i, int rc);
	void *ctx;
};

static int
same_key(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Sort the requests into groups by throttle key, each group a slice of
 * b->order in request order.  0, or -1 on ENOMEM.
 */
static int
batch_group(struct batch *b, const struct http_request *reqs, int max_inflight)
{
	size_t *gi = NULL, *fill = NULL, cap = 0, last = 0;
	struct throttle *g;
	int rc = -1;

	gi = malloc((b->n > 0 ? b->n : 1) * sizeof(*gi));
	b->order = malloc((b->n > 0 ? b->n : 1) * sizeof(*b->order));
	if (gi == NULL || b->order == NULL)
		goto done;
	for (size_t i = 0; i < b->n; i++) {
		const char *key = reqs[i].throttle_key;
		size_t k = b->ngroups;

		/* Requests usually come clustered by key: try the last first.
		 */
		if (b->ngroups > 0 && same_key(b->groups[last].key, key))
			k = last;
		for (size_t j = 0; k == b->ngroups && j < b->ngroups; j++)
			if (same_key(b->groups[j].key, key))
				k = j;
		if (k == b->ngroups) {
			if (b->ngroups == cap) {
				size_t ncap = cap ? cap * 2 : 4;

				g = realloc(b->groups, ncap * sizeof(*g));
				if (g == NULL)
					goto done;
				b->groups = g;
				cap = ncap;
			}
			g = &b->groups[b->ngroups++];
			memset(g, 0, sizeof(*g));
			g->key = key;
			g->allowance = max_inflight;
		}
		if (!reqs[i].held)
			b->groups[k].qlen++;
		gi[i] = last = k;
	}
	/* Counting sort: each group's queue is a slice of order. */
	fill = calloc(b->ngroups > 0 ? b->ngroups : 1, sizeof(*fill));
	if (fill == NULL)
		goto done;
	for (size_t k = 0, off = 0; k < b->ngroups; k++) {
		b->groups[k].queue = b->order + off;
		off += b->groups[k].qlen;
	}
	for (size_t i = 0; i < b->n; i++) {
		g = &b->groups[gi[i]];
		if (!reqs[i].held)
			g->queue[fill[gi[i]]++] = i;
		b->xs[i].throttle = g;
	}
	rc = 0;
done:
	free(fill);
	free(gi);
	return rc;
}

/* After a response: a 429 blocks the group; low quota halves its allowance. */
static void
throttle_note(struct throttle *t, const struct http_response *r,
    const char *ctx, int64_t now, int64_t delay)
{
	if (t == NULL || t->key == NULL)
		return;
	if (r->status == 429) {
		if (t->blocked_until <= now)
			log_info(ctx,
			    "http: subscription %s throttled, slowing down: "
			    "its requests wait %.1f s (429); other "
			    "subscriptions go on",
			    t->key, (double)delay / 1000);
		if (now + delay > t->blocked_until)
			t->blocked_until = now + delay;
	}
	if (r->ratelimit_remaining >= 0 &&
	    r->ratelimit_remaining < RATELIMIT_LOW && t->allowance > 1) {
		t->allowance /= 2;
		log_info(ctx,
		    "http: subscription %s has %ld requests of quota left, "
		    "%d in flight at most",
		    t->key, r->ratelimit_remaining, t->allowance);
	}
}

/* Request i has ended with ${rc}: its handle back, counted as done. */
static void
batch_end(struct batch *b, size_t i, int rc)
{
	struct xfer *x = &b->xs[i];

	xfer_release(x);
	x->state = XFER_DONE;
	x->result = rc;
	b->done_count++;
	b->sent++;
}

/* Request i has ended: its callback queued for batch_drain. */
static void
batch_finish(struct batch *b, size_t i, int rc)
{
	batch_end(b, i, rc);
	b->xs[i].queued = 1;
	b->finished[(b->fhead + b->flen) % b->n] = i;
	b->flen++;
}

/* Run the done callbacks of the requests that finished, oldest first (a
 * callback may release requests and finish none itself). */
static void
batch_drain(struct batch *b)
{
	while (b->flen > 0) {
		size_t i = b->finished[b->fhead];

		b->fhead = (b->fhead + 1) % b->n;
		b->flen--;
		b->xs[i].queued = 0;
		b->done(b->ctx, i, b->xs[i].result);
	}
}

/* Start request i now; 0, or -1 when it finished at once (failed). */
static int
batch_start(struct batch *b, size_t i)
{
	struct xfer *x = &b->xs[i];

	if (attempt_prepare(x) != 0) {
		log_prepare_failure(x);
		batch_finish(b, i, -1);
		return -1;
	}
	if (curl_multi_add_handle(b->c->multi, x->easy) != CURLM_OK) {
		snprintf(x->resp->error, sizeof(x->resp->error),
		    "curl_multi_add_handle failed");
		log_prepare_failure(x);
		batch_finish(b, i, -1);
		return -1;
	}
	x->state = XFER_ACTIVE;
	b->active++;
	if (b->active > b->max_active)
		b->max_active = b->active;
	x->throttle->inflight++;
	return 0;
}

/*
 * The request group ${g} sends next: a retry whose wait is over (the
 * earliest), else its next first attempt; NO_XFER when none may go now
 * (*next lowered to the ms until a retry is due).
 */
static size_t
group_next(struct batch *b, struct throttle *g, int64_t now, int64_t *next)
{
	size_t pick = g->nretry;

	for (size_t k = 0; k < g->nretry; k++) {
		int64_t nb = b->xs[g->retry[k]].not_before;

		if (nb > now) {
			if (*next < 0 || nb - now < *next)
				*next = nb - now;
			continue;
		}
		if (pick == g->nretry || nb < b->xs[g->retry[pick]].not_before)
			pick = k;
	}
	if (pick < g->nretry) {
		size_t i = g->retry[pick];

		g->retry[pick] = g->retry[--g->nretry];
		return i;
	}
	if (g->qhead < g->qlen)
		return g->queue[g->qhead++];
	return NO_XFER;
}

/*
 * Start whatever may start: one request per group per pass, round robin,
 * until every group is at its bound, blocked or empty, or the batch is at
 * its own bound.  Return the ms until a blocked group or a retry may go
 * (-1: only a finishing request can make room).
 */
static int64_t
batch_schedule(struct batch *b)
{
	int64_t now = util_monotonic_ms(), next = -1;
	int progress = 1;

	while (progress && b->active < b->max_total) {
		progress = 0;
		for (size_t k = 0; k < b->ngroups; k++) {
			struct throttle *g =
			    &b->groups[(b->rr + k) % b->ngroups];
			size_t i;

			if (b->active >= b->max_total)
				break;
			if (g->inflight >= g->allowance)
				continue; /* a finish will wake us */
			if (g->blocked_until > now) {
				if (g->qhead < g->qlen || g->nretry > 0) {
					int64_t w = g->blocked_until - now;

					if (next < 0 || w < next)
						next = w;
				}
				continue;
			}
			i = group_next(b, g, now, &next);
			if (i == NO_XFER)
				continue;
			batch_start(b, i);
			progress = 1;
		}
		if (b->ngroups > 0)
			b->rr = (b->rr + 1) % b->ngroups;
	}
	return next;
}

/* Put request i back in its group's retry list.  0, or -1 on ENOMEM. */
static int
batch_requeue(struct batch *b, size_t i)
{
	struct throttle *g = b->xs[i].throttle;

	if (g->nretry == g->retry_cap) {
		size_t ncap = g->retry_cap ? g->retry_cap * 2 : 8;
		size_t *nr = realloc(g->retry, ncap * sizeof(*nr));

		if (nr == NULL)
			return -1;
		g->retry = nr;
		g->retry_cap = ncap;
	}
	g->retry[g->nretry++] = i;
	b->xs[i].state = XFER_PENDING;
	return 0;
}

static void
batch_complete(struct batch *b, CURL *e, CURLcode rc)
{
	struct xfer *x;
	char *priv = NULL;
	enum outcome out;
	int64_t delay = 0;
	long conns = 0;
	size_t i;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK)
		b->new_conns += conns;
	curl_multi_remove_handle(b->c->multi, e);
	if (priv == NULL)
		return;
	x = (struct xfer *)(void *)priv;
	i = (size_t)(x - b->xs);
	b->active--;
	x->throttle->inflight--;
	out = attempt_outcome(x, rc, &delay);
	throttle_note(x->throttle, x->resp, x->req->context,
	    util_monotonic_ms(), out == OUT_RETRY ? delay : 0);
	switch (out) {
	case OUT_DONE:
		batch_finish(b, i, 0);
		break;
	case OUT_FAIL:
		batch_finish(b, i, -1);
		break;
	case OUT_REFRESH:
		if (refresh_token(x) != 0) {
			log_prepare_failure(x);
			batch_finish(b, i, -1);
			break;
		}
		x->not_before = 0;
		if (batch_requeue(b, i) != 0) {
			snprintf(x->resp->error, sizeof(x->resp->error),
			    "out of memory");
			batch_finish(b, i, -1);
		}
		break;
	case OUT_RETRY:
		x->not_before = util_monotonic_ms() + delay;
		if (batch_requeue(b, i) != 0) {
			snprintf(x->resp->error, sizeof(x->resp->error),
			    "out of memory");
			batch_finish(b, i, -1);
		}
		break;
	}
}

/* The batch's bound over all groups: max_inflight each, within reason. */
static int
batch_total(size_t ngroups, int max_inflight)
{
	long long total = (long long)ngroups * max_inflight;

	if (total > BATCH_MAX_TOTAL)
		total = max_inflight > BATCH_MAX_TOTAL ? max_inflight
		                                       : BATCH_MAX_TOTAL;
	return total > 0 ? (int)total : 1;
}

int
http_batch_release(struct http_client *c, size_t i)
{
	struct batch *b = c->batch;
	struct throttle *g;
	struct xfer *x;

	if (b == NULL || i >= b->n)
		return -1;
	x = &b->xs[i];
	if (x->state != XFER_HELD && x->state != XFER_DONE)
		return -1;
	/*
	 * Finished, but its done callback has not run: reusing the slot now
	 * would wipe resps[i] before the callback reads it, and the slot
	 * would finish again and be in the ring twice (its callback twice,
	 * the ring of n overrun).  A caller's bug: refused.
	 */
	if (x->queued) {
		log_err(x->req->context,
		    "http: request %zu released before its done callback ran; "
		    "refused",
		    i);
		DEBUG_ASSERT(!x->queued);
		return -1;
	}
	if (x->state == XFER_HELD)
		b->nheld--;
	else
		b->done_count--;
	g = x->throttle;
	xfer_init(x, c, &b->reqs[i], &b->resps[i]);
	x->throttle = g;
	x->not_before = 0;
	if (batch_requeue(b, i) != 0) { /* a retry's place: it goes first */
		snprintf(
		    x->resp->error, sizeof(x->resp->error), "out of memory");
		/* ended here, its callback at once, as the caller expects */
		batch_end(b, i, -1);
		b->done(b->ctx, i, -1);
		return -1;
	}
	return 0;
}

/* Nothing is in flight or waiting, so nothing can release a held request
 * any more: drop them (never sent, no callback). */
static void
batch_drop_held(struct batch *b)
{
	for (size_t i = 0; i < b->n && b->nheld > 0; i++) {
		if (b->xs[i].state != XFER_HELD)
			continue;
		b->xs[i].state = XFER_DONE;
		b->nheld--;
		b->done_count++;
	}
}

int
http_batch(struct http_client *c, const struct http_request *reqs,
    struct http_response *resps, size_t n, int max_inflight,
    void (*done)(void *ctx, size_t i, int rc), void *ctx)
{
	struct batch *b;
	int64_t started = util_monotonic_ms();
	int ret = -1;

	if (c->in_batch) {
		log_err(NULL, "http: http_batch called from inside a batch");
		return -1;
	}
	if (c->multi == NULL) {
		c->multi = curl_multi_init();
		if (c->multi == NULL) {
			log_err(NULL, "http: curl_multi_init failed");
			return -1;
		}
	}
	if (max_inflight < 1)
		max_inflight = 1;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		log_err(NULL, "http: out of memory");
		return -1;
	}
	b->c = c;
	b->reqs = reqs;
	b->resps = resps;
	b->n = n;
	b->done = done;
	b->ctx = ctx;
	b->xs = calloc(n > 0 ? n : 1, sizeof(*b->xs));
	b->finished = calloc(n > 0 ? n : 1, sizeof(*b->finished));
	if (b->xs == NULL || b->finished == NULL ||
	    batch_group(b, reqs, max_inflight) != 0) {
		log_err(NULL, "http: out of memory");
		goto out;
	}
	b->max_total = batch_total(b->ngroups, max_inflight);
	/*
	 * Every group talks to the same host (ARM): curl's per-host bound
	 * must not be the smaller one, and its connection cache keeps one
	 * connection per request in flight alive for the next request.
	 */
	curl_multi_setopt(
	    c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)b->max_total);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)b->max_total);
	for (size_t i = 0; i < n; i++) {
		struct throttle *g = b->xs[i].throttle;

		xfer_init(&b->xs[i], c, &reqs[i], &resps[i]);
		b->xs[i].state = reqs[i].held ? XFER_HELD : XFER_PENDING;
		b->xs[i].throttle = g;
		if (reqs[i].held)
			b->nheld++;
	}

	c->in_batch = 1;
	c->batch = b;
	for (int fresh = 0;;) {
		int64_t next;
		int running = 0, left = 0, finished = 0, timeout = 1000;
		long curl_to = -1;
		CURLMsg *m;

		batch_drain(b);
		if (b->done_count >= n)
			break;
		next = batch_schedule(b);
		if (b->flen > 0)
			continue; /* a request failed to start: its callback */
		if (b->done_count >= n)
			break;
		if (b->active == 0 && next < 0 &&
		    b->done_count + b->nheld >= n) {
			batch_drop_held(b);
			break;
		}
		if (b->active > 0) {
			/* (not again right after the refill's perform: it
			 * read whatever had come, and nothing waited since) */
			if (!fresh &&
			    curl_multi_perform(c->multi, &running) !=
			        CURLM_OK) {
				log_err(
				    NULL, "http: curl_multi_perform failed");
				break;
			}
			fresh = 0;
			while ((m = curl_multi_info_read(c->multi, &left)) !=
			    NULL) {
				if (m->msg != CURLMSG_DONE)
					continue;
				batch_complete(
				    b, m->easy_handle, m->data.result);
				finished = 1;
			}
		}
		if (finished) {
			/* A slot is free: the next requests go out before
			 * the callbacks run (at the top of the loop). */
			int was = b->active;

			(void)batch_schedule(b);
			if (b->active > was) {
				if (curl_multi_perform(c->multi, &running) !=
				    CURLM_OK) {
					log_err(NULL,
					    "http: curl_multi_perform failed");
					break;
				}
				fresh = 1;
			}
			continue;
		}
		if (b->active > 0) {
			curl_multi_timeout(c->multi, &curl_to);
			if (curl_to >= 0 && curl_to < timeout)
				timeout = (int)curl_to;
		}
		if (next >= 0 && next < timeout)
			timeout = (int)next;
		if (b->active > 0)
			curl_multi_poll(c->multi, NULL, 0, timeout, NULL);
		else
			util_sleep_ms(timeout > 0 ? timeout : 1);
	}
	batch_drain(b); /* after a failure of curl: what did finish */
	if (b->done_count >= n)
		ret = 0;
	c->in_batch = 0;
	c->batch = NULL;
	if (b->sent > 0)
		log_info(NULL,
		    "http: %zu request%s in %.2f s over %zu subscription%s, "
		    "%d in flight at most (bound %d each, %d in all), %ld new "
		    "connection%s",
		    b->sent, b->sent == 1 ? "" : "s",
		    (double)(util_monotonic_ms() - started) / 1000, b->ngroups,
		    b->ngroups == 1 ? "" : "s", b->max_active, max_inflight,
		    b->max_total, b->new_conns, b->new_conns == 1 ? "" : "s");

	/* After a failure of curl itself: end what is left. */
	for (size_t i = 0; i < n; i++) {
		if (b->xs[i].state == XFER_ACTIVE)
			curl_multi_remove_handle(c->multi, b->xs[i].easy);
		if (b->xs[i].state != XFER_DONE)
			xfer_release(&b->xs[i]);
	}
out:
	for (size_t k = 0; k < b->ngroups; k++)
		free(b->groups[k].retry);
	free(b->groups);
	free(b->order);
	free(b->finished);
	free(b->xs);
	free(b);
	return ret;
}
