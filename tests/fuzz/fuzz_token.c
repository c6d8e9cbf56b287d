/*
 * fuzz_token.c -- token endpoint answers: AAD v2, IMDS, the Azure CLI, and
 * their error bodies.
 *
 * Each input is parsed by token_parse_response (at a fixed "now") and
 * described by token_describe_error.  A token that is returned must be
 * exactly the body's access_token (or accessToken) -- the parser must
 * neither cut nor invent one -- and an error reason must never carry the
 * token, unless the body itself put that text in its error fields.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/token.h"
#include "tests/fuzz/fuzz.h"

#define NOW ((time_t)1774747800) /* 2026-03-29T01:30:00Z */

/* body_token(body): the access token the body carries (malloc'd) or NULL. */
static char *body_token(const char *body, int *has_error)
{
	json_t *root, *tok;
	char *s = NULL;

	*has_error = 0;
	root = json_loads(body, 0, NULL);
	if (!json_is_object(root))
		goto done;
	*has_error = json_object_get(root, "error") != NULL;
	tok = json_object_get(root, "access_token");
	if (tok == NULL)
		tok = json_object_get(root, "accessToken");
	if (json_is_string(tok))
		s = strdup(json_string_value(tok));
done:
	json_decref(root);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body, *want, *token = NULL, err[512], desc[512];
	time_t exp = 0;
	int has_error;

	fuzz_quiet();
	body = fuzz_strndup(data, size);
	want = body_token(body, &has_error);

	err[0] = '\0';
	if (token_parse_response(body, NOW, &token, &exp, err, sizeof(err)) ==
	    0) {
		if (token == NULL || want == NULL || strcmp(token, want) != 0)
			fuzz_fail("fuzz_token", "token is not access_token");
		if (has_error)
			fuzz_fail("fuzz_token", "accepted an error body");
	} else {
		if (token != NULL)
			fuzz_fail("fuzz_token", "failure left a token");
		if (err[0] == '\0')
			fuzz_fail("fuzz_token", "failure without a reason");
		if (!has_error && want != NULL && strlen(want) >= 8 &&
		    strstr(err, want) != NULL)
			fuzz_fail("fuzz_token", "the reason holds the token");
	}
	free(token);

	desc[0] = 'x';
	token_describe_error(body, desc, sizeof(desc));
	if (desc[0] != '\0' && !has_error)
		fuzz_fail("fuzz_token", "described a body with no error");

	free(want);
	free(body);
	return 0;
}
