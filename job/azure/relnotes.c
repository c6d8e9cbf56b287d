/*
 * relnotes.c -- fetch a release-notes file.
 *
 * AgentBaker's notes are plain text on raw.githubusercontent.com; any
 * mirror that serves the same tree works (the `release_notes` template).
 * One GET, without the ARM bearer token (it must never leave for another
 * host) and without retries: without notes, `changes` still shows the
 * version change, so a slow or absent server costs one attempt, not a
 * backoff ladder.  The body is capped; a 200 whose body is over the cap
 * is refused, never cut.
 */
#include "job/azure/relnotes.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/azure/http.h"

int
relnotes_fetch(struct http_client *http, const char *url, size_t max,
    char **body, size_t *len, char *why, size_t whylen)
{
	struct http_request req;
	struct http_response resp;
	int rc = -1;

	*body = NULL;
	*len = 0;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers[0] = "Accept: text/plain";
	req.no_retry = 1;
	req.quiet = 1;
	req.context = "release notes";
	req.max_body = max;
	http_response_init(&resp);
	if (http_do(http, &req, &resp)) {
		if (resp.body.overflow)
			snprintf(why, whylen, "larger than %zu bytes", max);
		else
			snprintf(why, whylen, "unreachable: %s", resp.error);
		goto done;
	}
	if (resp.status == 404) {
		snprintf(why, whylen, "not published (HTTP 404)");
		goto done;
	}
	if (resp.status != 200) {
		snprintf(why, whylen, "HTTP %ld", resp.status);
		goto done;
	}
	*body = malloc(resp.body.len + 1);
	if (*body == NULL) {
		snprintf(why, whylen, "out of memory");
		goto done;
	}
	if (resp.body.len > 0)
		memcpy(*body, resp.body.data, resp.body.len);
	(*body)[resp.body.len] = '\0';
	*len = resp.body.len;
	rc = 0;
done:
	http_response_free(&resp);
	return rc;
}

void
relnotes_sha256(const void *p, size_t n, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hex[0] = '\0';
	if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) != 1)
		return;
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}
