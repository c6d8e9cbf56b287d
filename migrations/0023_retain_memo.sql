-- 0023_retain_memo.sql -- a run that finds a pool as the last one left
-- it extends the pool's keep decisions in one statement instead of
-- loading its snapshots and channel history and deciding again (issue
-- 16: `run` on a year's store within 10 % of an empty one).
--
-- An hourly run of a daily schedule finds most pools as it left them: no
-- snapshot taken, promoted, pinned or deleted, no channel entered or
-- left, nothing decided otherwise.  Retention and promotion are pure
-- (job/rules/actions.c): the same inputs at a time before their horizon
-- (actions_horizon: the first time any rule could compare otherwise)
-- give the same list, keep for keep, reasons included.  Until this
-- migration every such run still read the pool's active snapshots and
-- channel entries and re-decided each (about 13 a pool after months of
-- runs: most of a year-old store's run).
--
--   pool_retain_memo  one row a pool whose last list was keeps only
--                     (job/run/prune.c, prune_pool_now): a digest of
--                     what the store does not hold (the policy's
--                     retention and ladder, the time zone, the rules'
--                     version), the time it was decided at, its horizon
--                     (never more than a day later) and how many keeps
--                     it made (the pool's active snapshots, each with
--                     its decision open in decision_open).
--
-- A later run at a time from as_of up to the horizon, with the same
-- digest, extends those open keep decisions in one UPDATE
-- (db_retain_memo_hit) and checks it extended as many as the memo made.
-- The memo holds only while the store's inputs are as that run left
-- them: the triggers below delete the pool's memo on any snapshot
-- inserted or deleted or changed in what the rules read (pool, name,
-- creation, state, pin), any channel entry inserted, deleted or changed,
-- any open decision opened, closed or changed (another command decided
-- otherwise), and any change of the pool's key (decision texts are
-- interned with it).  A later migration that rebuilds one of these
-- tables must recreate its triggers and empty the memo.
--
-- decision_open is rebuilt first, without the foreign key on last_run_id
-- (0018): every extension of an open range sets that column, and SQLite
-- checks the key in runs for each row it changes, two thirds of the
-- UPDATE's cost (5 against 15 us a pool of 13 keeps, measured on the
-- year's store).  aksnap never deletes a run, and the key was never
-- enforced for a row written before foreign keys were on; a range's run
-- is checked when the range closes, where decision_rows.last_run_id
-- keeps its key.  Its triggers, the two on snapshots that name it and
-- the view decisions are recreated as 0018 wrote them.
DROP VIEW decisions;
DROP TRIGGER decision_open_snapshot_deleted;
DROP TRIGGER decision_open_snapshot_removed;

CREATE TABLE decision_open_new (
	pool_id        INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	snapshot_id    INTEGER NOT NULL, -- 0: the pool's pool-level decisions
	decision_id    INTEGER NOT NULL,
	action         TEXT NOT NULL,
	reasons_id     INTEGER,
	fingerprint_id INTEGER,
	slot           INTEGER, -- the range's first slot, as decision_rows
	last_run_id    INTEGER, -- a runs id (no foreign key: above)
	last_at        INTEGER NOT NULL,
	last_slot      INTEGER,
	PRIMARY KEY (pool_id, snapshot_id)
) WITHOUT ROWID;
INSERT INTO decision_open_new SELECT pool_id, snapshot_id, decision_id,
    action, reasons_id, fingerprint_id, slot, last_run_id, last_at,
    last_slot FROM decision_open;
DROP TABLE decision_open;
ALTER TABLE decision_open_new RENAME TO decision_open;

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

CREATE TRIGGER decision_open_snapshot_removed AFTER DELETE ON snapshots
BEGIN
	DELETE FROM decision_open
	 WHERE pool_id = old.pool_id AND snapshot_id IN (0, old.id);
END;

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

CREATE TABLE pool_retain_memo (
	pool_id INTEGER PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
	digest  INTEGER NOT NULL,
	as_of   INTEGER NOT NULL,
	until   INTEGER NOT NULL,
	keeps   INTEGER NOT NULL
);

CREATE TRIGGER retain_memo_snapshot_insert AFTER INSERT ON snapshots
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_snapshot_delete AFTER DELETE ON snapshots
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER retain_memo_snapshot_update
AFTER UPDATE OF pool_id, name, created_at, state, pinned ON snapshots
WHEN old.pool_id IS NOT new.pool_id OR old.name IS NOT new.name OR
    old.created_at IS NOT new.created_at OR old.state IS NOT new.state OR
    old.pinned IS NOT new.pinned
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_channel_insert AFTER INSERT ON snapshot_channels
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_channel_delete AFTER DELETE ON snapshot_channels
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER retain_memo_channel_update AFTER UPDATE ON snapshot_channels
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_open_insert AFTER INSERT ON decision_open
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = new.pool_id;
END;

CREATE TRIGGER retain_memo_open_delete AFTER DELETE ON decision_open
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = old.pool_id;
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
	DELETE FROM pool_retain_memo WHERE pool_id IN (old.pool_id, new.pool_id);
END;

CREATE TRIGGER retain_memo_pool_key AFTER UPDATE OF key ON pools
WHEN old.key IS NOT new.key
BEGIN
	DELETE FROM pool_retain_memo WHERE pool_id = old.id;
END;
