-- 0018_open_decisions.sql -- a decision the same as last run costs no
-- write to decision_rows (issue 16: `run` on a year's store within 10 %
-- of a store holding only its present; the 1 %-changed steady run).
--
-- DESIGN.md 5's growth rule is unchanged: a row when action, reasons or
-- fingerprint change; otherwise the run range of the last one grows
-- (gaps allowed).  What changes is where the growing end of a range is
-- kept.  Until now every run extended each subject's last decision in
-- place (UPDATE decision_rows SET last_run_id, last_at, last_slot): about
-- 13 keep decisions and a pool-level one a pool a run, rows written
-- months apart and so scattered over the whole file.  On the year's
-- store (884 MiB, 10,000 pools) one run over 1,000 pools read 89,029
-- pages and wrote 38,796 for it, against 2,276 and 860 on a store
-- holding only the present; and at 10,000 pools the extensions were
-- about a fifth of the steady run's CPU.
--
--   decision_open  one row per subject (a snapshot, or a pool's
--                  pool-level decisions: snapshot_id 0) whose newest
--                  decision may still grow: the decision's id, what a
--                  new decision is compared with (action and text ids,
--                  as decision_rows holds them), its first slot (a
--                  skip's range covers slot to last_slot: "is this slot
--                  taken" reads no decision_rows row), and the range's
--                  true end (last_run_id, last_at, last_slot).  Keyed by
--                  (pool_id, snapshot_id) WITHOUT ROWID: a pool's open
--                  rows sit together on one page, and the whole table is
--                  the fleet's present (about 14 rows a pool), whatever
--                  the store's age.
--
-- The same decision again is one UPDATE of decision_open
-- (db/db.c's ST_DEC_SAME: the row of the subject whose action and texts
-- match).  A different one closes the open row (DELETE: the trigger
-- decision_open_close below writes its range's end into decision_rows),
-- adds its row and opens it.  While a decision is open its decision_rows
-- row keeps the end it had when it was opened (stale, never later than
-- the true one: ranges only grow): every reader of a range's end must
-- read it from decision_open:
--
--   - the view decisions shows last_run_id, last_at and last_slot of an
--     open row from decision_open (by its key), so `explain`, `history`,
--     `db check` and a person with sqlite3 read what they read before;
--   - the indexed questions on the ends (db/db.c's ST_SLOT_TAKEN and
--     ST_POOL_LAST_SUCCESS, db/db_report.c's events and counts,
--     db/db_metrics.c's last success) read decision_rows through their
--     index, leave out the open rows there (or need not: a maximum, or
--     "at or after" a time, is not changed by an end that is older than
--     the true one), and add decision_open's rows of the pool (one
--     page): each row counted once.
--
-- Measured on the year's store, `run` over 1,000 of its pools, three
-- runs where nothing changed (tests/bench/bench.sh, section yearrun;
-- CPU under load): 1.01 s a run before, 0.68 s after (the same run on
-- the store's present alone: 0.35 and 0.32 s); page reads and writes
-- a run 89,029 and 38,796 before, 60,600 and 1,961 after.  What the
-- year still costs is reading: its snapshots, channel entries and
-- observations are scattered as they were written, and the metrics
-- read all 10,000 pools.
--
-- No row moves: the migration is a CREATE, three triggers and a view,
-- instant on any store (the year's 884 MiB: 0.04 s of CPU).  Subjects are opened lazily: the first time one is decided
-- after the upgrade, db_decision_add finds its last row as before and
-- opens it, with the new end, instead of writing that row.  A decision
-- whose reasons are stored inline (a text holding char(1), 0015) is never
-- opened: the ids cannot tell it apart.
--
-- Rows leave decision_open when a new decision about their subject
-- replaces them, when their snapshot's state becomes 'deleted' (nothing
-- decides about it any more: a deleted snapshot's open row would stay
-- forever) or its row is removed (and then the pool's pool-level range
-- too, see below), and with their pool (ON DELETE CASCADE): each time through the trigger that writes the end back.  A
-- decision about a deleted snapshot after that finds its last row in
-- decision_rows as before, and grows it the same way.

CREATE TABLE decision_open (
	pool_id        INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	snapshot_id    INTEGER NOT NULL, -- 0: the pool's pool-level decisions
	decision_id    INTEGER NOT NULL,
	action         TEXT NOT NULL,
	reasons_id     INTEGER,
	fingerprint_id INTEGER,
	slot           INTEGER, -- the range's first slot, as decision_rows
	last_run_id    INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	last_at        INTEGER NOT NULL,
	last_slot      INTEGER,
	PRIMARY KEY (pool_id, snapshot_id)
) WITHOUT ROWID;

CREATE TRIGGER decision_open_close AFTER DELETE ON decision_open
BEGIN
	UPDATE decision_rows SET last_run_id = old.last_run_id,
	    last_at = old.last_at, last_slot = old.last_slot
	 WHERE id = old.decision_id;
END;

CREATE TRIGGER decision_open_snapshot_deleted
AFTER UPDATE OF state ON snapshots WHEN new.state = 'deleted'
BEGIN
	DELETE FROM decision_open
	 WHERE pool_id = new.pool_id AND snapshot_id = new.id;
END;

-- A removed snapshot's decisions name no snapshot any more (ON DELETE
-- SET NULL): they read as the pool's pool-level ones, and the newest of
-- those may now be one of them.  The pool-level range closes too, so that
-- the next pool-level decision compares with what the rows say, as before.
CREATE TRIGGER decision_open_snapshot_removed AFTER DELETE ON snapshots
BEGIN
	DELETE FROM decision_open
	 WHERE pool_id = old.pool_id AND snapshot_id IN (0, old.id);
END;

DROP VIEW decisions;

CREATE VIEW decisions AS
SELECT d.id AS id,
       d.run_id AS run_id,
       d.pool_id AS pool_id,
       d.snapshot_id AS snapshot_id,
       d.at AS at,
       d.slot AS slot,
       d.action AS action,
       coalesce(d.reasons,
                replace((SELECT t.text FROM decision_texts t
                          WHERE t.id = d.reasons_id), char(1),
                        coalesce((SELECT p.key FROM pools p
                                   WHERE p.id = d.pool_id), '')),
                '') AS reasons,
       coalesce((SELECT t.text FROM decision_texts t
                  WHERE t.id = d.fingerprint_id), '') AS fingerprint,
       CASE WHEN o.decision_id IS NULL THEN d.last_run_id
            ELSE o.last_run_id END AS last_run_id,
       CASE WHEN o.decision_id IS NULL THEN d.last_at
            ELSE o.last_at END AS last_at,
       CASE WHEN o.decision_id IS NULL THEN d.last_slot
            ELSE o.last_slot END AS last_slot
  FROM decision_rows d
  LEFT JOIN decision_open o
    ON o.pool_id = d.pool_id AND o.snapshot_id = coalesce(d.snapshot_id, 0)
   AND o.decision_id = d.id;
