/*
 * rows.c -- sets of rows (sections, pools) by a key that is never built.
 *
 * A repeated section ([pool:A] twice, or [pool:a] and [POOL:A]) and a node
 * pool listed twice (subscription/resource group/cluster/node pool, in any
 * case) are found with a hash set.  Writing each key out as a lower-cased
 * string and keeping a copy of it cost a format, a malloc and a free per
 * section and per pool: with 10,000 pools that was a third of the load.
 * Here the set holds only row numbers and their hashes; the caller hashes
 * a row (config_hash_lower) and says when two rows are the same, straight
 * from the sections and pools it already has.  The [policy:NAME] sections
 * that pools name are found the same way (config_rows_find).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

uint64_t
config_hash_lower(uint64_t h, const char *s)
{
	if (h == 0)
		h = FNV_OFFSET;
	for (; *s != '\0'; s++) {
		unsigned ch = (unsigned char)*s;

		ch += (unsigned)(ch - 'A' < 26u) << 5; /* 'A'-'Z' to 'a'-'z' */
		h = (h ^ ch) * FNV_PRIME;
	}
	/* A separator, so that ("ab", "c") and ("a", "bc") differ. */
	return (h ^ 0x1f) * FNV_PRIME;
}

void
config_rows_free(struct row_set *rs)
{
	if (rs == NULL)
		return;
	free(rs->slot);
	free(rs->hash);
	memset(rs, 0, sizeof(*rs));
}

/* rows_resize(rs, cap): ${cap} slots (a power of two), every row moved. */
static int
rows_resize(struct row_set *rs, size_t cap)
{
	uint32_t *ns = calloc(cap, sizeof(*ns));
	uint32_t *nh = calloc(cap, sizeof(*nh));

	if (ns == NULL || nh == NULL) {
		free(ns);
		free(nh);
		return -1;
	}
	for (size_t i = 0; i < rs->cap; i++) {
		size_t j;

		if (rs->slot[i] == 0)
			continue;
		j = rs->hash[i] & (cap - 1);
		while (ns[j] != 0)
			j = (j + 1) & (cap - 1);
		ns[j] = rs->slot[i];
		nh[j] = rs->hash[i];
	}
	free(rs->slot);
	free(rs->hash);
	rs->slot = ns;
	rs->hash = nh;
	rs->cap = cap;
	return 0;
}

int
config_rows_reserve(struct row_set *rs, size_t n)
{
	size_t cap = 64;

	while ((n + 1) * 2 > cap)
		cap *= 2;
	if (cap <= rs->cap)
		return 0;
	return rows_resize(rs, cap);
}

int
config_rows_find(const struct row_set *rs, uint64_t hash,
    int (*is)(const void *ctx, size_t row), const void *ctx, size_t *row)
{
	uint32_t h = (uint32_t)hash;
	size_t j;

	if (rs->cap == 0)
		return 0;
	for (j = h & (rs->cap - 1); rs->slot[j] != 0;
	     j = (j + 1) & (rs->cap - 1)) {
		if (rs->hash[j] == h && is(ctx, rs->slot[j] - 1)) {
			*row = rs->slot[j] - 1;
			return 1;
		}
	}
	return 0;
}

int
config_rows_add(struct row_set *rs, uint64_t hash, size_t row,
    int (*same)(const void *ctx, size_t a, size_t b), const void *ctx,
    size_t *prev)
{
	uint32_t h = (uint32_t)hash;
	size_t j;

	if (row >= UINT32_MAX)
		return -1;
	if ((rs->n + 1) * 2 > rs->cap &&
	    rows_resize(rs, rs->cap ? rs->cap * 2 : 64))
		return -1;
	j = h & (rs->cap - 1);
	while (rs->slot[j] != 0) {
		if (rs->hash[j] == h && same(ctx, rs->slot[j] - 1, row)) {
			*prev = rs->slot[j] - 1;
			return 1;
		}
		j = (j + 1) & (rs->cap - 1);
		rs->probes++;
	}
	rs->slot[j] = (uint32_t)row + 1;
	rs->hash[j] = h;
	rs->n++;
	return 0;
}
