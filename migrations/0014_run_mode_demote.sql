-- 0014_run_mode_demote.sql -- a demote by hand is recorded as a demote.
--
-- `aksnap demote` came after the runs table, whose CHECK knew no mode
-- 'demote': a demote by hand was recorded as a run of mode 'promote', so
-- `explain`, `report` and `db status` said "promote" for it.  The mode
-- joins the list; rows written before keep the mode they have (a demote
-- then cannot be told from a promote by its runs row alone; its decisions
-- say 'demote').
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt the way
-- https://www.sqlite.org/lang_altertable.html#otheralter describes (the
-- runner has foreign keys off and checks them before its commit).  Ids
-- are kept, so every table that names a run (observations, decisions,
-- conflicts, applies, pool_outcomes, full_runs) still names the same
-- one; no view or trigger names runs; its indexes are recreated
-- (runs_by_mode, and 0013's runs_failed and runs_by_as_of).

CREATE TABLE runs_new (
	id          INTEGER PRIMARY KEY,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	as_of       INTEGER NOT NULL,
	mode        TEXT NOT NULL CHECK (mode IN ('run', 'dry-run', 'plan',
	    'snapshot', 'prune', 'promote', 'demote', 'pin', 'unpin', 'apply',
	    'sync')),
	exit_code   INTEGER,            -- NULL while running (or crashed)
	observed    INTEGER NOT NULL DEFAULT 0,
	taken       INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0,
	deleted     INTEGER NOT NULL DEFAULT 0,
	promoted    INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	pid         INTEGER
);

INSERT INTO runs_new (id, started_at, finished_at, as_of, mode, exit_code,
    observed, taken, skipped, deleted, promoted, failed, pid)
SELECT id, started_at, finished_at, as_of, mode, exit_code, observed, taken,
       skipped, deleted, promoted, failed, pid
  FROM runs;

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

CREATE INDEX runs_by_mode ON runs (mode, started_at);
CREATE INDEX runs_failed ON runs (exit_code) WHERE exit_code > 0;
CREATE INDEX runs_by_as_of ON runs (as_of);
