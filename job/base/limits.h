#ifndef AKSNAP_LIMITS_H
#define AKSNAP_LIMITS_H

/*
 * limits.h -- every bound aksnap enforces, named once.
 *
 * ARM's own name rules (DESIGN.md section 4), the caps that keep a broken
 * or hostile answer from costing unbounded memory, the retry budget, and
 * the bounds on configuration values that catch typos.  A limit that two
 * modules must agree on (the promoted history retention reads and the
 * keep_promoted that config accepts) is one name here, so they cannot
 * drift apart.
 */

/* ARM names: snapshot and cluster names, and the pool keys and channel
 * names that end up in them (^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$). */
#define LIMIT_ARM_NAME 63
/* ARM resource ids (/subscriptions/.../agentPools/NAME) as we hold them,
 * with their NUL: a longer id from ARM does not fit and is refused. */
#define LIMIT_ARM_ID 512
/* Agent pool names: ^[a-z][a-z0-9]{0,11}$. */
#define LIMIT_ARM_NODEPOOL 12
/* Resource group names: ^[-\w\._\(\)]+$, 1-90. */
#define LIMIT_ARM_RESOURCE_GROUP 90

/* ARM lists: pages followed per list, and items per page (and agent pools
 * per cluster); more is refused as a broken answer. */
#define LIMIT_LIST_PAGES 10000
#define LIMIT_LIST_PAGE_ITEMS 2000

/* HTTP: the largest response body read, attempts per request, the total
 * time one request may spend waiting to be retried, and requests in flight
 * in one batch across every subscription. */
#define LIMIT_HTTP_BODY (4u * 1024 * 1024)
#define LIMIT_HTTP_ATTEMPTS 5
#define LIMIT_HTTP_TOTAL_WAIT_MS 120000
#define LIMIT_BATCH_INFLIGHT 256
/* IMDS's own retry rules: attempts per token, and the first wait (doubled
 * each time) when IMDS sends no Retry-After. */
#define LIMIT_IMDS_ATTEMPTS 5
#define LIMIT_IMDS_BASE_DELAY_MS 2000

/* Configuration: max_parallel's ceiling; counts (keep_*, min_keep,
 * max_delete_per_run) and durations, bounded to catch typos. */
#define LIMIT_MAX_PARALLEL LIMIT_BATCH_INFLIGHT
#define LIMIT_COUNT 100000
#define LIMIT_DURATION (36500LL * 86400) /* 100 years */

/* Promoted generations a channel protects (keep_promoted), and so the
 * promoted history retention reads per pool and channel. */
#define LIMIT_KEEP_PROMOTED 64

/* Pools one [fleet:NAME] may select (max_fleet_pools: its default and its
 * ceiling); a fleet that would select more refuses with the count. */
#define LIMIT_FLEET_POOLS 10000
#define LIMIT_FLEET_POOLS_MAX 1000000

#endif
