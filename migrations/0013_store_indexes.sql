-- 0013_store_indexes.sql -- the questions `check`, the metrics and the
-- run ask of every pool answered from indexes (issue 16; found by `make
-- bench`'s simulated year: 10,000 pools, 555,750 snapshots, 8.1 million
-- decisions).
--
--   snapshots_by_pool_state   a pool's snapshots by state, newest last:
--                             its count by state (the metrics, `check`)
--                             reads the index alone, its last success
--                             and newest active snapshot are one seek;
--                             before, every snapshot row the pool ever
--                             had was read, deleted ones included.
--   snapshots_by_state        the snapshots in one state over every pool
--                             (`check`'s conflicts, reconcile's pending
--                             rows): was a scan of the whole table for
--                             any state the partial snapshots_pending
--                             does not cover.
--   decisions_skip_by_pool_time
--                             a pool's newest skip (its last success),
--                             one seek (action in the key: the index
--                             covers the query): was every skip range
--                             of the pool.
--   runs_failed               how many runs failed (the metrics): was a
--                             scan of every run ever recorded.
CREATE INDEX snapshots_by_pool_state ON snapshots (pool_id, state, created_at);
CREATE INDEX snapshots_by_state ON snapshots (state);
CREATE INDEX decisions_skip_by_pool_time
    ON decisions (pool_id, action, last_at) WHERE action = 'skip';
CREATE INDEX runs_failed ON runs (exit_code) WHERE exit_code > 0;

-- `report`: a pool's events (what it took, promoted, demoted, deleted,
-- failed) since the month began, and the runs since then.  Were every
-- decision the pool ever had (812 a year for a daily pool with a ladder,
-- most of them keeps) and every run ever recorded (8,760 a year).  The
-- WHERE is spelled as db/db_report.c's query spells it, which is what lets
-- SQLite use the partial index; keeps and skips stay out of it.
CREATE INDEX decisions_events_by_pool_time ON decisions (pool_id, last_at)
    WHERE action IN ('create', 'promote', 'demote', 'delete', 'pin',
        'unpin', 'fail', 'missing', 'adopt');
CREATE INDEX runs_by_as_of ON runs (as_of);
