/*
 * output.c -- the shapes every command prints.
 *
 * Scripts read aksnap's --json output, so a snapshot, a time or a missing
 * value looks the same whichever command prints it: RFC 3339 UTC times,
 * null for what is unknown, DESIGN.md section 3's field names.
 */
#include "job/cmd/output.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "job/base/json_write.h"
#include "job/base/util.h"

void
output_buffered(void)
{
	static char buf[64 * 1024];

	if (!isatty(STDOUT_FILENO))
		(void)setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

void
output_time(time_t t, char *buf, size_t len)
{
	if (t == 0)
		util_strlcpy(buf, "-", len);
	else
		util_format_time(t, buf, len);
}

json_t *
output_json_time(time_t t)
{
	char buf[32];

	if (t == 0)
		return json_null();
	util_format_time(t, buf, sizeof(buf));
	return json_string(buf);
}

void
output_write_time(struct json_write *w, const char *name, time_t t)
{
	char buf[32];

	if (t == 0) {
		json_write_null(w, name);
		return;
	}
	util_format_time(t, buf, sizeof(buf));
	json_write_string(w, name, buf);
}

json_t *
output_json_opt(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
output_json_id(long long id)
{
	return id != 0 ? json_integer(id) : json_null();
}

void
output_print_json(json_t *doc)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(doc);
}

void
output_write_versions(struct json_write *w, const struct db_versions *v)
{
	json_write_opt(w, "node_image_version", v->node_image_version);
	json_write_opt(w, "kubernetes_version", v->kubernetes_version);
	json_write_opt(w, "os_type", v->os_type);
	json_write_opt(w, "os_sku", v->os_sku);
	json_write_opt(w, "vm_size", v->vm_size);
	json_write_bool(w, "enable_fips", v->enable_fips);
}

void
output_versions_json(json_t *o, const struct db_versions *v)
{
	json_object_set_new(
	    o, "node_image_version", output_json_opt(v->node_image_version));
	json_object_set_new(
	    o, "kubernetes_version", output_json_opt(v->kubernetes_version));
	json_object_set_new(o, "os_type", output_json_opt(v->os_type));
	json_object_set_new(o, "os_sku", output_json_opt(v->os_sku));
	json_object_set_new(o, "vm_size", output_json_opt(v->vm_size));
	json_object_set_new(o, "enable_fips", json_boolean(v->enable_fips));
}

json_t *
output_snapshot_json(const struct db_snapshot *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(s->id));
	json_object_set_new(o, "pool", json_string(s->pool_key));
	json_object_set_new(o, "snapshot", json_string(s->name));
	json_object_set_new(o, "arm_id", json_string(s->arm_id));
	json_object_set_new(o, "slot", output_json_time(s->slot));
	json_object_set_new(o, "created_at", output_json_time(s->created_at));
	json_object_set_new(o, "state", json_string(s->state));
	output_versions_json(o, &s->v);
	json_object_set_new(o, "channel", output_json_opt(s->channel));
	json_object_set_new(o, "promoted_at", output_json_time(s->promoted_at));
	json_object_set_new(o, "demoted_at", output_json_time(s->demoted_at));
	json_object_set_new(o, "pinned", json_boolean(s->pinned));
	json_object_set_new(o, "error", output_json_opt(s->error));
	return o;
}
