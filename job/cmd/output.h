#ifndef AKSNAP_OUTPUT_H
#define AKSNAP_OUTPUT_H

/*
 * output.h -- what every command prints the same way: times as RFC 3339
 * (or "-" / null when unknown), one JSON document with stable field
 * names, and a snapshot as DESIGN.md section 3 names its fields.
 */

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "db/db.h"

/*
 * output_buffered(): stdout written 64 KiB at a time, not stdio's 4 KiB,
 * unless it is a terminal (which keeps its line buffering): `list` (20
 * MB) made 4,600 write(2) calls, drift --json (15 MB) 3,800.  Before
 * anything is written to stdout.
 */
void output_buffered(void);

/* output_time(t, buf, len): RFC 3339 UTC, or "-" for 0. */
void output_time(time_t t, char *buf, size_t len);

/* output_json_time(t): a JSON string (RFC 3339), or null for 0. */
json_t *output_json_time(time_t t);

/* output_json_opt(s): a JSON string, or null for NULL or "". */
json_t *output_json_opt(const char *s);

/* output_write_time(w, name, t): output_json_time's member written with
 * json_write (job/base/json_write.h). */
struct json_write;
void output_write_time(struct json_write *w, const char *name, time_t t);

/* output_write_versions(w, v): output_versions_json's members, written. */
void output_write_versions(struct json_write *w, const struct db_versions *v);

/* output_json_id(id): a store id as a JSON integer, or null for 0 (none). */
json_t *output_json_id(long long id);

/* output_print_json(doc): print ${doc} indented, key order kept; takes ${doc}.
 */
void output_print_json(json_t *doc);

/*
 * output_versions_json(o, v):
 * Set ${v}'s fields on the JSON object ${o}, as every command names them:
 * node_image_version, kubernetes_version, os_type, os_sku, vm_size (null
 * when unknown) and enable_fips.  The one place a snapshot's or a pool's
 * versions become JSON.
 */
void output_versions_json(json_t *o, const struct db_versions *v);

/*
 * output_snapshot_json(s):
 * A new JSON object for ${s}: id, pool, snapshot, arm_id, slot,
 * created_at, state, node_image_version, kubernetes_version, os_type,
 * os_sku, vm_size, enable_fips, channel, promoted_at, demoted_at, pinned,
 * and error when there is one.
 */
json_t *output_snapshot_json(const struct db_snapshot *s);

#endif
