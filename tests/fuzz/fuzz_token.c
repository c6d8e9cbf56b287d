/*
 * fuzz_token.c -- token endpoint answers: AAD v2, IMDS, the Azure CLI, and
 * their error bodies.
 *
 * Each input is parsed by token_parse_response (at a fixed "now") and
 * described by token_describe_error.  A token that is returned must be
 * exactly the body's access_token (or accessToken) -- the parser must
 * neither cut nor invent one -- and an error reason must never carry the
 * token.  "Carry" is judged by difference: the reason is computed again for
 * the same body with the token replaced, and the token's text counts as
 * leaked only if it disappears with the token (a token "expires_i" is
 * found in the fixed text "no usable expires_in" either way).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/azure/token.h"
#include "tests/fuzz/fuzz.h"

#define NOW ((time_t)1774747800) /* 2026-03-29T01:30:00Z */

/* body_token(body): the access token the body carries (malloc'd) or NULL. */
static char *
body_token(const char *body, int *has_error)
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

/*
 * leaked(body, err, want): 1 when the reason ${err} holds the token ${want}
 * because of the token: the reason for ${body} with its token replaced
 * does not hold that text.
 */
static int
leaked(const char *body, const char *err, const char *want)
{
	static const char repl[] = "\x01";
	json_t *root;
	const char *key;
	char *other = NULL, *tok2 = NULL, err2[512];
	time_t exp2;
	int rc = 0;

	if (want == NULL || want[0] == '\0' || strstr(err, want) == NULL ||
	    strstr(repl, want) != NULL)
		return 0;
	root = json_loads(body, 0, NULL);
	if (!json_is_object(root))
		goto done;
	key = json_object_get(root, "access_token") != NULL ? "access_token"
	                                                    : "accessToken";
	if (json_object_set_new(root, key, json_string(repl)) != 0)
		goto done;
	other = json_dumps(root, JSON_PRESERVE_ORDER);
	if (other == NULL)
		goto done;
	err2[0] = '\0';
	(void)token_parse_response(
	    other, NOW, &tok2, &exp2, err2, sizeof(err2));
	rc = strstr(err2, want) == NULL;
done:
	free(tok2);
	free(other);
	json_decref(root);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
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
		if (leaked(body, err, want))
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
