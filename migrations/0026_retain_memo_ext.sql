-- 0026_retain_memo_ext.sql -- a run that finds a pool's retention memo
-- holding (0023) writes one row, not one a keep (issue 16: `run` on a
-- year's store within 10 % of an empty one).
--
-- With 0023 such a run still extended each open keep of the pool in
-- decision_open: about 13 rows a pool after months of runs against one
-- on a new store, 45 M of a 1,000-pool run's 552 M instructions on the
-- year's store (callgrind).  Now the memo carries the extension:
--
--   pool_retain_memo.ext_run_id, ext_at  the run and time every open
--                  keep of the pool (a decision_open row of a snapshot,
--                  action keep) has reached through the memo, NULL when
--                  none.
--
-- An open keep's true end is its own (decision_open) or, when the
-- extension's run is later than its own last run, the extension's run
-- and the later of the two times, as db_decision_add's extension of the
-- same decision (ST_DEC_SAME) would have written it.  That is exact: the
-- extension grows only while the memo holds, and while it holds the
-- pool's open keeps are the ones the memo was written with, each last
-- extended by the run that wrote it (any decision opened, closed or
-- changed invalidates the memo); a keep opened or extended later has a
-- later run.  Every reader and writer of an open keep's end applies it:
-- the view decisions and the trigger decision_open_close (recreated
-- below), and ST_DEC_SAME (db/db.c), whose time must not fall behind
-- the extension's.  A memo no longer holding keeps its extension: the
-- triggers of 0023 now set its horizon to 0 instead of deleting it, and
-- db_retain_memo_put writes the extension into the pool's open keeps
-- before it writes the next memo.
ALTER TABLE pool_retain_memo ADD COLUMN ext_run_id INTEGER;
ALTER TABLE pool_retain_memo ADD COLUMN ext_at INTEGER;

DROP TRIGGER retain_memo_snapshot_insert;
DROP TRIGGER retain_memo_snapshot_delete;
DROP TRIGGER retain_memo_snapshot_update;
DROP TRIGGER retain_memo_channel_insert;
DROP TRIGGER retain_memo_channel_delete;
DROP TRIGGER retain_memo_channel_update;
DROP TRIGGER retain_memo_open_insert;
DROP TRIGGER retain_memo_open_delete;
DROP TRIGGER retain_memo_open_update;
DROP TRIGGER retain_memo_pool_key;

CREATE TRIGGER retain_memo_snapshot_insert AFTER INSERT ON snapshots
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_snapshot_delete AFTER DELETE ON snapshots
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER retain_memo_snapshot_update
AFTER UPDATE OF pool_id, name, created_at, state, pinned ON snapshots
WHEN old.pool_id IS NOT new.pool_id OR old.name IS NOT new.name OR
    old.created_at IS NOT new.created_at OR old.state IS NOT new.state OR
    old.pinned IS NOT new.pinned
BEGIN
	UPDATE pool_retain_memo SET until = 0
	 WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_channel_insert AFTER INSERT ON snapshot_channels
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_channel_delete AFTER DELETE ON snapshot_channels
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER retain_memo_channel_update AFTER UPDATE ON snapshot_channels
BEGIN
	UPDATE pool_retain_memo SET until = 0
	 WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_open_insert AFTER INSERT ON decision_open
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_open_delete AFTER DELETE ON decision_open
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER retain_memo_open_update
AFTER UPDATE OF pool_id, snapshot_id, decision_id, action, reasons_id,
    fingerprint_id ON decision_open
WHEN old.pool_id IS NOT new.pool_id OR
    old.snapshot_id IS NOT new.snapshot_id OR
    old.decision_id IS NOT new.decision_id OR old.action IS NOT new.action OR
    old.reasons_id IS NOT new.reasons_id OR
    old.fingerprint_id IS NOT new.fingerprint_id
BEGIN
	UPDATE pool_retain_memo SET until = 0
	 WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_pool_key AFTER UPDATE OF key ON pools
WHEN old.key IS NOT new.key
BEGIN
	UPDATE pool_retain_memo SET until = 0 WHERE pool_id = old.id;
END;

-- a closed keep's end: its own, or its pool's memo extension when that
-- is of a later run
DROP TRIGGER decision_open_close;
CREATE TRIGGER decision_open_close AFTER DELETE ON decision_open
BEGIN
	UPDATE decision_rows SET
	    last_run_id = coalesce((SELECT m.ext_run_id FROM pool_retain_memo m
	        WHERE m.pool_id = old.pool_id AND old.action = 'keep' AND
	        old.snapshot_id > 0 AND
	        m.ext_run_id > coalesce(old.last_run_id, 0)), old.last_run_id),
	    last_at = max(old.last_at, coalesce((SELECT m.ext_at
	        FROM pool_retain_memo m WHERE m.pool_id = old.pool_id AND
	        old.action = 'keep' AND old.snapshot_id > 0 AND
	        m.ext_run_id > coalesce(old.last_run_id, 0)), old.last_at)),
	    last_slot = old.last_slot
	 WHERE id = old.decision_id;
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
            WHEN m.ext_run_id > coalesce(o.last_run_id, 0)
            THEN m.ext_run_id
            ELSE o.last_run_id END AS last_run_id,
       CASE WHEN o.decision_id IS NULL THEN d.last_at
            WHEN m.ext_run_id > coalesce(o.last_run_id, 0)
            THEN max(o.last_at, m.ext_at)
            ELSE o.last_at END AS last_at,
       CASE WHEN o.decision_id IS NULL THEN d.last_slot
            ELSE o.last_slot END AS last_slot
  FROM decision_rows d
  LEFT JOIN decision_open o
    ON o.pool_id = d.pool_id AND o.snapshot_id = coalesce(d.snapshot_id, 0)
   AND o.decision_id = d.id
  LEFT JOIN pool_retain_memo m
    ON m.pool_id = o.pool_id AND o.action = 'keep' AND o.snapshot_id > 0;
