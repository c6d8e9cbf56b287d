/*
 * notes.c -- node image release notes, the way raw.githubusercontent.com
 * serves AgentBaker's: GET /_notes/<family>/<variant>/<version>.txt
 * answers the file under --notes-dir as text/plain, 404 "404: Not Found"
 * when there is none.  Paths with "." or ".." segments are refused.  The
 * route is counted (notes.get), logged and faultable like ARM's, so tests
 * can make it slow, drop it or answer 5xx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/armemu/armemu.h"

#define NOTES_MAX (64u << 20)

static void
not_found(struct ctx *c)
{
	c->status = 404;
	c->content_type = "text/plain; charset=utf-8";
	c->raw = emu_strdup("404: Not Found");
}

void
notes_serve(struct ctx *c, const char *url)
{
	const char *rel = url + strlen("/_notes/");
	char path[4096];
	struct stat st;
	FILE *f;
	char *body;
	size_t n;

	if (strcmp(c->method, "GET") != 0) {
		c->status = 405;
		c->content_type = "text/plain; charset=utf-8";
		c->raw = emu_strdup("405: Method Not Allowed");
		return;
	}
	if (emu.cfg.notes_dir == NULL || strncmp(url, "/_notes/", 8) != 0 ||
	    rel[0] == '\0' || strstr(rel, "..") != NULL ||
	    strstr(rel, "/./") != NULL || rel[0] == '/') {
		not_found(c);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", emu.cfg.notes_dir, rel);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > NOTES_MAX) {
		not_found(c);
		return;
	}
	f = fopen(path, "rb");
	body = malloc((size_t)st.st_size + 1);
	if (f == NULL || body == NULL) {
		if (f != NULL)
			fclose(f);
		free(body);
		not_found(c);
		return;
	}
	n = fread(body, 1, (size_t)st.st_size, f);
	fclose(f);
	body[n] = '\0';
	c->status = 200;
	c->content_type = "text/plain; charset=utf-8";
	c->raw = body;
}
