-- 0028_partial_run_last.sql -- each mode's newest finished partial run
-- in one row, so that the textfile's
-- aksnap_last_partial_run_timestamp_seconds costs a seek, not a walk
-- back over every full run since the last partial one (issue 16: every
-- command's cost independent of the store's age; 56 page reads and 1.6
-- ms of a run over 1,000 pools on a year of hourly runs, growing by a
-- run an hour).
--
--   partial_run_last  per mode: the run that db_partial_run_last
--                     answers, the newest by (started_at, id) of that
--                     mode's finished runs that are not in full_runs (a
--                     mode with none has no row), and the one it
--                     named before (prev_id; 0: none, NULL: not known).
--
-- A run is partial when it finishes (finished_at set) without a
-- full_runs row.  A full run finishes first and adds its full_runs row
-- after, with the textfile (run.c: the textfile describes the finished
-- run), so each full run is named here for a moment: its full_runs row
-- gives the row back its previous run, kept for that, without reading
-- the runs (before: a walk back over every run since the last partial
-- one).  The triggers below keep the row, whoever writes: a run that
-- finishes partial raises its mode's row when it is newer; a full_runs
-- row added for the run the row names restores the previous one when
-- it is known, else recomputes the mode from runs_by_mode, as the
-- reader did before; a full_runs row removed, or a run's mode or start
-- changed (aksnap does neither), recomputes the modes concerned.
-- `db check` compares every mode's row with the runs (db/db_check.c).

CREATE TABLE partial_run_last (
	mode    TEXT PRIMARY KEY,
	run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	prev_id INTEGER
) WITHOUT ROWID;

INSERT INTO partial_run_last (mode, run_id, prev_id)
SELECT m.mode, (SELECT r.id FROM runs r INDEXED BY runs_by_mode
    WHERE r.mode = m.mode AND r.finished_at IS NOT NULL AND NOT EXISTS
    (SELECT 1 FROM full_runs f WHERE f.run_id = r.id)
    ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS id, NULL
FROM (SELECT DISTINCT mode FROM runs) m WHERE id IS NOT NULL;

CREATE TRIGGER partial_run_finish AFTER UPDATE OF finished_at ON runs
WHEN new.finished_at IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM full_runs WHERE run_id = new.id)
BEGIN
	INSERT INTO partial_run_last (mode, run_id, prev_id)
	VALUES (new.mode, new.id, 0)
	ON CONFLICT (mode) DO UPDATE SET run_id = excluded.run_id,
	    prev_id = run_id
	WHERE run_id <> excluded.run_id
	  AND (SELECT started_at, id FROM runs WHERE id = excluded.run_id) >
	      (SELECT started_at, id FROM runs
	        WHERE id = partial_run_last.run_id);
END;

-- The run named here gains a full_runs row: it was not partial.  The
-- run named before it, when known and still not full (0: none); else the
-- mode's newest partial one from the index (asked only when the row
-- still names the run: the walk is a result of a one-row query that the
-- guard filters), or none.
CREATE TRIGGER partial_run_full_insert AFTER INSERT ON full_runs
WHEN EXISTS (SELECT 1 FROM partial_run_last WHERE run_id = new.run_id)
BEGIN
	DELETE FROM partial_run_last
	 WHERE run_id = new.run_id AND prev_id = 0;
	UPDATE partial_run_last SET run_id = prev_id, prev_id = NULL
	 WHERE run_id = new.run_id AND prev_id > 0
	   AND NOT EXISTS (SELECT 1 FROM full_runs f
	                    WHERE f.run_id = partial_run_last.prev_id);
	INSERT INTO partial_run_last (mode, run_id, prev_id)
	SELECT m, id, NULL FROM (SELECT m, (SELECT r.id FROM runs r
	    INDEXED BY runs_by_mode WHERE r.mode = m
	      AND r.finished_at IS NOT NULL
	      AND NOT EXISTS (SELECT 1 FROM full_runs f WHERE f.run_id = r.id)
	    ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS id
	  FROM (SELECT mode AS m FROM runs WHERE id = new.run_id)
	  WHERE EXISTS (SELECT 1 FROM partial_run_last
	                 WHERE run_id = new.run_id))
	 WHERE id IS NOT NULL
	ON CONFLICT (mode) DO UPDATE SET run_id = excluded.run_id,
	    prev_id = NULL;
	DELETE FROM partial_run_last WHERE run_id = new.run_id;
END;

-- A finished run that loses its full_runs row is partial.
CREATE TRIGGER partial_run_full_delete AFTER DELETE ON full_runs
WHEN (SELECT finished_at FROM runs WHERE id = old.run_id) IS NOT NULL
BEGIN
	INSERT INTO partial_run_last (mode, run_id, prev_id)
	SELECT mode, id, NULL FROM runs WHERE id = old.run_id
	ON CONFLICT (mode) DO UPDATE SET run_id = excluded.run_id,
	    prev_id = NULL
	WHERE (SELECT started_at, id FROM runs WHERE id = excluded.run_id) >
	      (SELECT started_at, id FROM runs
	        WHERE id = partial_run_last.run_id);
END;

-- A run's mode or start changed: both modes' rows again, from the index.
CREATE TRIGGER partial_run_moved AFTER UPDATE OF mode, started_at ON runs
WHEN old.mode IS NOT new.mode OR old.started_at IS NOT new.started_at
BEGIN
	DELETE FROM partial_run_last WHERE mode IN (old.mode, new.mode);
	INSERT INTO partial_run_last (mode, run_id, prev_id)
	SELECT m.mode, (SELECT r.id FROM runs r INDEXED BY runs_by_mode
	    WHERE r.mode = m.mode AND r.finished_at IS NOT NULL AND NOT EXISTS
	    (SELECT 1 FROM full_runs f WHERE f.run_id = r.id)
	    ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS id, NULL
	FROM (SELECT old.mode AS mode UNION SELECT new.mode) m
	WHERE id IS NOT NULL;
END;
