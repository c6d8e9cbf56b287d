#ifndef AKSNAP_RELNOTES_H
#define AKSNAP_RELNOTES_H

/*
 * relnotes.h -- fetching one node image's release notes over HTTP(S)
 * (DESIGN.md section 6, Changes), through the run's HTTP client: its
 * proxy and CA settings, its TLS rules (plain http:// only to loopback).
 */

#include <stddef.h>

struct http_client;

/* The largest notes file accepted.  Real ones are about 100 KiB. */
#define RELNOTES_MAX_BYTES (1024u * 1024)

/*
 * relnotes_fetch(http, url, max, body, len, why, whylen):
 * GET ${url} once (no Authorization header, no retry: notes are a
 * best-effort addition and a later command tries again) with a body cap
 * of ${max} bytes.  Return 0 with the malloc'd, NUL-terminated body in
 * ${*body} (caller frees) and its length, or -1 with one line in ${why}:
 * "not published (HTTP 404)", the HTTP status, "unreachable: ...",
 * "larger than N bytes".  Logs only at -v.
 */
int relnotes_fetch(struct http_client *http, const char *url, size_t max,
    char **body, size_t *len, char *why, size_t whylen);

/* relnotes_sha256(p, n, hex): SHA-256 of ${n} bytes at ${p}, lower-case hex
 * into ${hex} (65 bytes). */
void relnotes_sha256(const void *p, size_t n, char hex[65]);

#endif
