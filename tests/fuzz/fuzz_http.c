/*
 * fuzz_http.c -- the two things job/http.c reads from the wire without
 * curl's help: Retry-After values, and every traced request and response
 * as it passes through http_redact.
 *
 * http_parse_retry_after gets the whole input and its first line (a header
 * value is one line); what it accepts must be a wait of zero or more.
 * http_redact gets the input as a length-bounded buffer (an exact-size
 * copy, so ASan sees any read past ${len}; NULs replaced) with two known
 * secrets in its list; neither may survive into the output, and the output
 * must be a NUL-terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/azure/http.h"
#include "tests/fuzz/fuzz.h"

#define NOW ((time_t)1774747800) /* 2026-03-29T01:30:00Z */

/*
 * The secrets hold no character of "[redacted]" or of the redaction rules'
 * fixed text, so the output can contain them only if a secret leaked.
 */
static const char *const secrets[] = {
    "hunter2-SECRET",
    NULL,
    "",
    "eyJ0eXAiOiJKV1Q.fuzz.SIG",
};
#define NSECRETS (sizeof(secrets) / sizeof(secrets[0]))

static void
check_retry_after(const char *value)
{
	int64_t ms = -1;

	if (http_parse_retry_after(value, NOW, &ms) == 0 && ms < 0)
		fuzz_fail("fuzz_http", "negative Retry-After accepted");
}

static void
check_redact(const uint8_t *data, size_t size)
{
	char *text, *out;

	/* exactly ${size} bytes, never NUL-terminated */
	text = malloc(size > 0 ? size : 1);
	if (text == NULL)
		fuzz_fail("fuzz_http", "out of memory");
	/*
	 * NULs become \x01: the output's length is not returned, so the leak
	 * check reads it as a C string and must see all of it.
	 */
	for (size_t i = 0; i < size; i++)
		text[i] = data[i] != '\0' ? (char)data[i] : '\x01';
	out = http_redact(text, size, secrets, NSECRETS);
	if (out == NULL)
		fuzz_fail("fuzz_http", "http_redact returned NULL");
	for (size_t i = 0; i < NSECRETS; i++) {
		if (secrets[i] == NULL || secrets[i][0] == '\0')
			continue;
		if (strstr(out, secrets[i]) != NULL)
			fuzz_fail("fuzz_http", "a secret survived http_redact");
	}
	free(out);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *nl;

	fuzz_quiet();
	s = fuzz_strndup(data, size);
	check_retry_after(s);
	nl = strpbrk(s, "\r\n");
	if (nl != NULL) {
		*nl = '\0';
		check_retry_after(s);
	}
	free(s);
	check_redact(data, size);
	return 0;
}
