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

#define HASH_SEED 14695981039346656037ULL
#define HASH_MUL 0x9e3779b97f4a7c15ULL

/* lower8(w): the eight bytes of ${w} with 'A'-'Z' made 'a'-'z' ("C"
 * locale), each byte on its own and every other byte left as it was. */
static inline uint64_t
lower8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t low7 = w & (0x7f * ones);
	uint64_t ge_a = low7 + (0x80 - 'A') * ones; /* high bit: >= 'A' */
	uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * ones; /* high bit: > 'Z' */

	return w | ((ge_a & ~gt_z & ~w & (0x80 * ones)) >> 2);
}

/* mix(h, w): ${h} carried over one word ${w}. */
static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_MUL;
	return h ^ (h >> 29);
}

/*
 * A word (eight bytes) a step, lower-cased together, not a byte a step:
 * the node pools of 10,000 pools are 700,000 bytes.  The last bytes are
 * one word read as two overlapping halves (or three bytes), and the
 * length goes in with the end, so that ("ab", "c") and ("a", "bc")
 * differ.
 */
uint64_t
config_hash_lower_n(uint64_t h, const char *s, size_t n)
{
	uint64_t w;

	if (h == 0)
		h = HASH_SEED;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = mix(h, lower8(w));
	}
	if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		w = a | (uint64_t)b << 32;
	} else if (n > 0) {
		w = (uint64_t)(unsigned char)s[0] |
		    (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (uint64_t)(unsigned char)s[n - 1] << 16;
	} else {
		w = 0;
	}
	h = mix(h, lower8(w)) ^ n;
	/* Every bit into the low ones, which pick a row set's slot. */
	h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

uint64_t
config_hash_lower(uint64_t h, const char *s)
{
	return config_hash_lower_n(h, s, strlen(s));
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
