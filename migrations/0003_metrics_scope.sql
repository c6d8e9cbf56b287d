-- 0003_metrics_scope.sql -- what the Prometheus textfile needs to describe
-- every configured pool from the store, whatever subset of pools the
-- command that writes it touched (issue 14: `snapshot POOL`, `run --pool`,
-- `prune POOL` must not drop the other pools' series).
--
--   pool_outcomes  each pool's latest outcome: did it fail in the last
--                  run, snapshot or prune that acted on it
--                  (aksnap_pool_failed{pool}).
--   full_runs      the runs that covered every configured pool (a `run`
--                  without --pool), with their duration: the scheduled
--                  job's aksnap_last_run_timestamp_seconds and
--                  aksnap_run_duration_seconds are kept apart from the
--                  single-pool commands'.
--
-- Tables of their own rather than columns of runs, so that a later
-- rebuild of runs (to change its CHECK) cannot drop them by omission.

CREATE TABLE pool_outcomes (
	pool_id INTEGER PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
	run_id  INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	at      INTEGER NOT NULL,            -- the run's as_of
	failed  INTEGER NOT NULL CHECK (failed IN (0, 1))
);

CREATE TABLE full_runs (
	run_id      INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	duration_ms INTEGER NOT NULL
);
