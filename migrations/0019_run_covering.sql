-- 0019_run_covering.sql -- a run reads a pool's present from a few
-- index pages, not from rows scattered over the store's past (issue 16:
-- `run` on a year's store within 10 % of a store holding only its
-- present).
--
-- A run asks of every pool: its active snapshots (all their columns),
-- the channel entries of those snapshots and of the channels' holders,
-- each channel's newest entries, whether the slot is taken (a snapshot
-- of the slot not failed, a skip range over it), and the metrics count
-- every stored pool's snapshots by state.  Each answer was a seek in a
-- (pool_id, ...) index followed by a visit of every row it names, and
-- those rows were written over months: on the year's store (884 MiB,
-- 10,000 pools) one run over 1,000 pools missed the page cache 21,206
-- times for the channel entries (1,033 on the present alone), 13,983
-- for the active snapshots (2,839), 3,537 for slot-taken (308) and 3,196
-- for the counts, which walked every snapshot row ever written.
--
--   snapshots_active_rows      the active snapshots, every column a
--                              run reads (SNAP_COLS but the pool's key),
--                              by pool and age, id as a column so that
--                              "newest first, then id" needs no sort:
--                              db/db.c's ST_SNAP_LIST_POOL_ACTIVE and
--                              ST_SNAP_NEWEST_ACTIVE.  Partial: the rows
--                              of the present (13 a pool on the year).
--   snapshot_channels_by_pool  now also the entry's id, snapshot,
--                              rung and exit: a pool's whole channel
--                              history is a page or two of this index
--                              (db/db_ladder.c's db_ladder_holds_live,
--                              which names the pool in its WHERE now,
--                              db_ladder_holds and the channel walk).
--   snapshots_by_pool_slot     now (pool_id, slot, state): "a snapshot
--                              of this slot, not failed" without the row
--                              (ST_SLOT_TAKEN).
--   decisions_by_pool_last_slot  now (pool_id, last_slot, slot, action)
--                              where action = 'skip': "a skip range over
--                              this slot" without the row (ST_SLOT_TAKEN;
--                              the action too: SQLite reads a column the
--                              index's WHERE names from the row).
--   pool_snapshot_counts       every pool's snapshots by state, kept by
--                              the triggers below as row_counts (0016)
--                              keeps the table's: the metrics read
--                              10,000 pools x a few states, not the
--                              half million rows of a year
--                              (db/db_metrics.c's
--                              db_metrics_snapshot_counts).  A count
--                              that reaches 0 stays, as 0; readers skip
--                              it.  `db check` compares every row with
--                              count(*) (db/db_check.c).
--
-- A migration that rebuilds snapshots (CREATE new, INSERT SELECT, DROP,
-- RENAME) drops these triggers with the old table: it must create them
-- again and leave the counts true.
--
-- Cost, the year's store: the migration builds four indexes over half a
-- million snapshots and a million channel entries (seconds, see the
-- commit) and adds about 30 MiB; a run writes the entries of the rows it
-- changes, as for any index.

CREATE INDEX snapshots_active_rows ON snapshots (pool_id, created_at, id,
    name, arm_id, slot, node_image_version, kubernetes_version, os_type,
    os_sku, vm_size, enable_fips, state, pinned, channel, promoted_at,
    demoted_at, error) WHERE state = 'active';

DROP INDEX snapshot_channels_by_pool;
CREATE INDEX snapshot_channels_by_pool ON snapshot_channels (pool_id,
    channel, promoted_at, id, snapshot_id, rung, left_at, left_how);

DROP INDEX snapshots_by_pool_slot;
CREATE INDEX snapshots_by_pool_slot ON snapshots (pool_id, slot, state);

DROP INDEX decisions_by_pool_last_slot;
CREATE INDEX decisions_by_pool_last_slot
    ON decision_rows (pool_id, last_slot, slot, action) WHERE action = 'skip';

CREATE TABLE pool_snapshot_counts (
	pool_id INTEGER NOT NULL,
	state   TEXT NOT NULL,
	n       INTEGER NOT NULL,
	PRIMARY KEY (pool_id, state)
) WITHOUT ROWID;

INSERT INTO pool_snapshot_counts (pool_id, state, n)
    SELECT pool_id, state, count(*) FROM snapshots
     GROUP BY pool_id, state;

CREATE TRIGGER pool_snapshot_counts_insert AFTER INSERT ON snapshots
BEGIN
	INSERT INTO pool_snapshot_counts (pool_id, state, n)
	    VALUES (new.pool_id, new.state, 1)
	    ON CONFLICT (pool_id, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER pool_snapshot_counts_delete AFTER DELETE ON snapshots
BEGIN
	UPDATE pool_snapshot_counts SET n = n - 1
	 WHERE pool_id = old.pool_id AND state = old.state;
END;

CREATE TRIGGER pool_snapshot_counts_update
AFTER UPDATE OF pool_id, state ON snapshots
WHEN old.state IS NOT new.state OR old.pool_id IS NOT new.pool_id
BEGIN
	UPDATE pool_snapshot_counts SET n = n - 1
	 WHERE pool_id = old.pool_id AND state = old.state;
	INSERT INTO pool_snapshot_counts (pool_id, state, n)
	    VALUES (new.pool_id, new.state, 1)
	    ON CONFLICT (pool_id, state) DO UPDATE SET n = n + 1;
END;
