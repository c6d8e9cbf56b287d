-- 0012_observation_intervals.sql -- observations as intervals (issue 16,
-- DESIGN.md 5: "an observation row is written when a pool's observed state
-- differs from its last one (the last one's last_seen moves on
-- otherwise)").
--
-- Until now every run added one row per pool: the store grew with runs x
-- pools.  A row is now one interval of equal observations of a pool:
--
--   observed_at, run_id     the first observation of the interval (first
--                           seen, and the run that saw it)
--   last_seen, last_run_id  the last one (last seen, and its run)
--   seen                    how many observations the interval holds
--
-- Two observations are equal when every fact a row records is: node image,
-- Kubernetes version, OS type and SKU, VM size, FIPS, provisioningState
-- (an Upgrading pool is a fact drift and check show, so it is a row of its
-- own even though it is no *change* for `history --changes`), and the
-- cluster's upgrade_channel and node_os_channel; NULL and '' compare
-- equal.  changed_by says how the pool came into the interval's state: an
-- observation that carries one (aksnap's own apply, or a version change)
-- always begins a row, so no changed_by is ever folded away.  db_channels.c
-- (db_observation_record) is the one writer of the rule.
--
-- `changed` (0011) keeps its meaning and its trigger: a row is a change
-- when its versions, FIPS or missing-ness differ from the row before it.
-- With one row per interval, most rows are changes; those that are not
-- (a provisioningState or channel of its own) stay out of `history
-- --changes`, which still reads only the partial index
-- observations_changes.
--
-- Existing stores: each pool's runs of consecutive equal observations (by
-- observed_at, then id, the order history always used) collapse into their
-- first row, which takes the last one's time and run and the count.  The
-- first row of a run is the one `changed` marked and the one `history
-- --changes` showed, so that command's output (ids included) is unchanged;
-- `history` shows each interval once with its first and last sighting.

ALTER TABLE observations ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE observations ADD COLUMN last_run_id INTEGER
    REFERENCES runs (id) ON DELETE SET NULL;
ALTER TABLE observations ADD COLUMN seen INTEGER NOT NULL DEFAULT 1
    CHECK (seen >= 1);

-- Each row, and whether it begins an interval (differs from the row before).
CREATE TEMP TABLE obs_start AS
SELECT c.id AS id, c.pool_id AS pool_id, c.observed_at AS observed_at,
       c.run_id AS run_id,
       (p.id IS NULL
        OR c.changed_by IS NOT NULL
        OR coalesce(p.node_image_version, '') <> coalesce(c.node_image_version, '')
        OR coalesce(p.kubernetes_version, '') <> coalesce(c.kubernetes_version, '')
        OR coalesce(p.os_type, '') <> coalesce(c.os_type, '')
        OR coalesce(p.os_sku, '') <> coalesce(c.os_sku, '')
        OR coalesce(p.vm_size, '') <> coalesce(c.vm_size, '')
        OR coalesce(p.enable_fips, -1) <> coalesce(c.enable_fips, -1)
        OR p.provisioning_state <> c.provisioning_state
        OR coalesce(p.upgrade_channel, '') <> coalesce(c.upgrade_channel, '')
        OR coalesce(p.node_os_channel, '') <> coalesce(c.node_os_channel, ''))
           AS starts
  FROM (SELECT id, LAG(id) OVER (PARTITION BY pool_id
                                 ORDER BY observed_at, id) AS prev_id
          FROM observations) w
  JOIN observations c ON c.id = w.id
  LEFT JOIN observations p ON p.id = w.prev_id;

-- Each row's interval: the number of starts up to it, in the pool's order.
CREATE TEMP TABLE obs_group AS
SELECT id, pool_id, observed_at, run_id,
       sum(starts) OVER (PARTITION BY pool_id ORDER BY observed_at, id
                         ROWS UNBOUNDED PRECEDING) AS grp
  FROM obs_start;

-- Each row with its interval's first row, last time, last run and size.
CREATE TEMP TABLE obs_span (
	id       INTEGER PRIMARY KEY,
	first_id INTEGER NOT NULL,
	last_at  INTEGER NOT NULL,
	last_run INTEGER,
	n        INTEGER NOT NULL
);
INSERT INTO obs_span
SELECT id,
       first_value(id) OVER g,
       last_value(observed_at) OVER g,
       last_value(run_id) OVER g,
       count(*) OVER g
  FROM obs_group
WINDOW g AS (PARTITION BY pool_id, grp ORDER BY observed_at, id
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

DELETE FROM observations
 WHERE id IN (SELECT id FROM obs_span WHERE first_id <> id);

UPDATE observations
   SET (last_seen, last_run_id, seen) =
       (SELECT s.last_at, s.last_run, s.n FROM obs_span s
         WHERE s.id = observations.id);

DROP TABLE obs_span;
DROP TABLE obs_group;
DROP TABLE obs_start;

-- For people who open the file with sqlite3(1): each row that changed the
-- pool's versions (the first of a pool counts), with the row before it.
-- previous_observed_at is the last time the previous state was seen, as
-- it always was (the observation just before the change).
DROP VIEW version_changes;
CREATE VIEW version_changes AS
SELECT p.key AS pool,
       o.observed_at AS observed_at,
       datetime(o.observed_at, 'unixepoch') AS observed,
       o.last_seen AS last_seen,
       datetime(o.last_seen, 'unixepoch') AS last_seen_utc,
       o.seen AS seen,
       o.prev_last_seen AS previous_observed_at,
       datetime(o.prev_last_seen, 'unixepoch') AS previous_observed,
       o.prev_node_image_version AS previous_node_image_version,
       o.node_image_version AS node_image_version,
       o.prev_kubernetes_version AS previous_kubernetes_version,
       o.kubernetes_version AS kubernetes_version,
       o.prev_os_sku AS previous_os_sku,
       o.os_sku AS os_sku,
       o.prev_vm_size AS previous_vm_size,
       o.vm_size AS vm_size,
       o.prev_enable_fips AS previous_enable_fips,
       o.enable_fips AS enable_fips,
       o.prev_provisioning_state AS previous_provisioning_state,
       o.provisioning_state AS provisioning_state,
       o.changed_by AS changed_by
  FROM (SELECT x.*,
               LAG(x.last_seen) OVER w AS prev_last_seen,
               LAG(x.node_image_version) OVER w AS prev_node_image_version,
               LAG(x.kubernetes_version) OVER w AS prev_kubernetes_version,
               LAG(x.os_sku) OVER w AS prev_os_sku,
               LAG(x.vm_size) OVER w AS prev_vm_size,
               LAG(x.enable_fips) OVER w AS prev_enable_fips,
               LAG(x.provisioning_state) OVER w AS prev_provisioning_state
          FROM observations x
        WINDOW w AS (PARTITION BY x.pool_id ORDER BY x.observed_at, x.id)) o
  JOIN pools p ON p.id = o.pool_id
 WHERE o.changed = 1;

-- The pool's state now and since when, one row per pool.
CREATE VIEW current_observations AS
SELECT p.key AS pool,
       o.node_image_version AS node_image_version,
       o.kubernetes_version AS kubernetes_version,
       o.os_sku AS os_sku,
       o.vm_size AS vm_size,
       o.enable_fips AS enable_fips,
       o.provisioning_state AS provisioning_state,
       o.upgrade_channel AS upgrade_channel,
       o.node_os_channel AS node_os_channel,
       o.observed_at AS since,
       datetime(o.observed_at, 'unixepoch') AS since_utc,
       o.last_seen AS last_seen,
       datetime(o.last_seen, 'unixepoch') AS last_seen_utc,
       o.seen AS seen
  FROM pools p
  JOIN observations o ON o.id = (SELECT q.id FROM observations q
                                  WHERE q.pool_id = p.id
                                  ORDER BY q.observed_at DESC, q.id DESC
                                  LIMIT 1);
