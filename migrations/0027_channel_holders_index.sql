-- 0027_channel_holders_index.sql -- a pool's channel holders from an
-- index of the holders alone (issue 16: `run` on a year's store within
-- 10 % of an empty one).
--
--   snapshots_channel_holders  the active snapshots that hold a channel,
--                              by pool and age, with every column the
--                              textfile reads of them (db_pool_holders
--                              in db/db_metrics.c): two or three rows a
--                              pool, where snapshots_active_rows (0019)
--                              holds every live snapshot of the pool --
--                              thirteen a pool after a year, a leaf page
--                              each.  A run over 1,000 pools of the
--                              year's store read 1,008 leaves of
--                              snapshots_active_rows for them; the
--                              holders of 1,000 pools sit in about 40.
--
-- The WHERE is the query's, word for word (SQLite uses a partial index
-- only when the query's terms imply its own), and state is a column too:
-- the query names it, and an index is covering only when it holds every
-- column the query names.
--
-- Cost, the year's store (10,000 pools, 20,000 holders): about 1.6 MB.

CREATE INDEX snapshots_channel_holders ON snapshots (pool_id, created_at,
    id, channel, node_image_version, kubernetes_version, state)
    WHERE state = 'active' AND channel <> '';
