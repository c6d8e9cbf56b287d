-- 0025_pool_success.sql -- each pool's newest success kept in one small
-- row, so that the textfile (and every reader of DB_POOL_LAST_SUCCESS)
-- asks one seek of a table of a row a pool instead of four seeks in
-- indexes of the store's whole past (issue 16: `run` on a year's store
-- within 10 % of an empty one; on the year's store those index pages
-- were 1,350 page reads and 57 M instructions of a run over 1,000 pools,
-- 57,000 instructions a pool against 40,000 on an empty store).
--
--   pool_success  per pool: the newest created_at of its snapshots that
--                 were taken (state active, deleting or deleted) and the
--                 newest last_at of its skip ranges as decision_rows holds
--                 them, whichever is later; a pool with neither has no
--                 row (0).  The open skip range's end (0018's
--                 decision_open) is not in it: a run extends that row
--                 every slot, and readers take it from decision_open, a
--                 seek of a page the run reads anyway (DB_POOL_LAST_SUCCESS
--                 in db/db_internal.h).
--
-- The triggers below keep it, whoever writes: a value that enters or
-- grows raises the row (an upsert, max); one that leaves or shrinks (a
-- snapshot no longer taken or moved to another pool, an older
-- created_at, a skip row deleted or changed) recomputes the pool's row
-- from the indexes, as the readers did before.  A run's usual writes fire
-- none of them: a skip extends decision_open, and only a snapshot taken
-- or deleted, or a skip range opened or closed, writes what they watch.
-- `db check` compares every pool's row with the rows (db/db_check.c).  A
-- migration that rebuilds snapshots or decision_rows drops these
-- triggers with the old table: it must create them again and fill the
-- table again.
--
-- Cost, the year's store (schema 22, 10,000 pools): 128 KiB after
-- vacuum (996,405,248 -> 996,536,320 bytes).

CREATE TABLE pool_success (
	pool_id INTEGER PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
	at      INTEGER NOT NULL
);

INSERT INTO pool_success (pool_id, at)
    SELECT id, max(
        coalesce((SELECT max(created_at) FROM snapshots s
                   WHERE s.pool_id = p.id AND s.state IN ('active',
                       'deleting', 'deleted')), 0),
        coalesce((SELECT max(last_at) FROM decision_rows d
                   WHERE d.pool_id = p.id AND d.action = 'skip'), 0)) AS at
      FROM pools p WHERE at > 0;

CREATE TRIGGER pool_success_snapshot_insert AFTER INSERT ON snapshots
WHEN new.state IN ('active', 'deleting', 'deleted')
BEGIN
	INSERT INTO pool_success (pool_id, at) VALUES (new.pool_id, new.created_at)
	    ON CONFLICT (pool_id) DO UPDATE SET at = max(at, excluded.at);
END;

CREATE TRIGGER pool_success_snapshot_raise
AFTER UPDATE OF pool_id, state, created_at ON snapshots
WHEN new.state IN ('active', 'deleting', 'deleted')
 AND (old.state NOT IN ('active', 'deleting', 'deleted')
      OR new.created_at > old.created_at OR new.pool_id IS NOT old.pool_id)
BEGIN
	INSERT INTO pool_success (pool_id, at) VALUES (new.pool_id, new.created_at)
	    ON CONFLICT (pool_id) DO UPDATE SET at = max(at, excluded.at);
END;

CREATE TRIGGER pool_success_snapshot_lower
AFTER UPDATE OF pool_id, state, created_at ON snapshots
WHEN old.state IN ('active', 'deleting', 'deleted')
 AND (new.state NOT IN ('active', 'deleting', 'deleted')
      OR new.created_at < old.created_at OR new.pool_id IS NOT old.pool_id)
BEGIN
	UPDATE pool_success SET at = max(
	    coalesce((SELECT max(created_at) FROM snapshots s
	               WHERE s.pool_id = old.pool_id AND s.state IN ('active',
	                   'deleting', 'deleted')), 0),
	    coalesce((SELECT max(last_at) FROM decision_rows d
	               WHERE d.pool_id = old.pool_id AND d.action = 'skip'), 0))
	 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER pool_success_snapshot_delete AFTER DELETE ON snapshots
WHEN old.state IN ('active', 'deleting', 'deleted')
BEGIN
	UPDATE pool_success SET at = max(
	    coalesce((SELECT max(created_at) FROM snapshots s
	               WHERE s.pool_id = old.pool_id AND s.state IN ('active',
	                   'deleting', 'deleted')), 0),
	    coalesce((SELECT max(last_at) FROM decision_rows d
	               WHERE d.pool_id = old.pool_id AND d.action = 'skip'), 0))
	 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER pool_success_skip_insert AFTER INSERT ON decision_rows
WHEN new.action = 'skip'
BEGIN
	INSERT INTO pool_success (pool_id, at) VALUES (new.pool_id, new.last_at)
	    ON CONFLICT (pool_id) DO UPDATE SET at = max(at, excluded.at);
END;

CREATE TRIGGER pool_success_skip_raise
AFTER UPDATE OF pool_id, action, last_at ON decision_rows
WHEN new.action = 'skip'
 AND (old.action <> 'skip' OR new.last_at > old.last_at
      OR new.pool_id IS NOT old.pool_id)
BEGIN
	INSERT INTO pool_success (pool_id, at) VALUES (new.pool_id, new.last_at)
	    ON CONFLICT (pool_id) DO UPDATE SET at = max(at, excluded.at);
END;

CREATE TRIGGER pool_success_skip_lower
AFTER UPDATE OF pool_id, action, last_at ON decision_rows
WHEN old.action = 'skip'
 AND (new.action <> 'skip' OR new.last_at < old.last_at
      OR new.pool_id IS NOT old.pool_id)
BEGIN
	UPDATE pool_success SET at = max(
	    coalesce((SELECT max(created_at) FROM snapshots s
	               WHERE s.pool_id = old.pool_id AND s.state IN ('active',
	                   'deleting', 'deleted')), 0),
	    coalesce((SELECT max(last_at) FROM decision_rows d
	               WHERE d.pool_id = old.pool_id AND d.action = 'skip'), 0))
	 WHERE pool_id = old.pool_id;
END;

CREATE TRIGGER pool_success_skip_delete AFTER DELETE ON decision_rows
WHEN old.action = 'skip'
BEGIN
	UPDATE pool_success SET at = max(
	    coalesce((SELECT max(created_at) FROM snapshots s
	               WHERE s.pool_id = old.pool_id AND s.state IN ('active',
	                   'deleting', 'deleted')), 0),
	    coalesce((SELECT max(last_at) FROM decision_rows d
	               WHERE d.pool_id = old.pool_id AND d.action = 'skip'), 0))
	 WHERE pool_id = old.pool_id;
END;
