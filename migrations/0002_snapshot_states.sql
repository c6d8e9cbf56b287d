-- 0002_snapshot_states.sql -- two more snapshot states (DESIGN.md 5, 6).
--
--   unconfirmed  ARM answered the PUT but neither its answer nor a GET
--                showed the snapshot asked for: never the newest active
--                snapshot, never protects or replaces anything, settled
--                by a GET in the next run (active, or failed so the slot
--                is taken again).
--   conflict     a snapshot tagged aksnap-managed that the store cannot
--                prove is its own (sync's foreign finds): reported, never
--                adopted, promoted or deleted.
--
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt the way
-- https://www.sqlite.org/lang_altertable.html#otheralter describes (the
-- runner has foreign keys off and checks them before its commit).  The
-- views name snapshots, so they go first and come back unchanged; every
-- index is recreated, the pending one now covering unconfirmed rows too
-- (reconcile asks for those).

DROP VIEW current_baselines;

CREATE TABLE snapshots_new (
	id                 INTEGER PRIMARY KEY,
	pool_id            INTEGER NOT NULL
	    REFERENCES pools (id) ON DELETE RESTRICT,
	name               TEXT NOT NULL COLLATE NOCASE,
	arm_id             TEXT NOT NULL COLLATE NOCASE,
	slot               INTEGER,          -- NULL: by hand or adopted
	created_at         INTEGER NOT NULL,
	node_image_version TEXT,
	kubernetes_version TEXT,
	os_type            TEXT,
	os_sku             TEXT,
	vm_size            TEXT,
	enable_fips        INTEGER CHECK (enable_fips IN (0, 1)),
	state              TEXT NOT NULL CHECK (state IN ('creating',
	    'unconfirmed', 'active', 'deleting', 'deleted', 'failed',
	    'missing', 'conflict')),
	pinned             INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
	channel            TEXT,             -- NULL when not promoted
	promoted_at        INTEGER,
	demoted_at         INTEGER,
	error              TEXT,
	updated_at         INTEGER NOT NULL,
	UNIQUE (pool_id, name)
);

INSERT INTO snapshots_new (id, pool_id, name, arm_id, slot, created_at,
    node_image_version, kubernetes_version, os_type, os_sku, vm_size,
    enable_fips, state, pinned, channel, promoted_at, demoted_at, error,
    updated_at)
SELECT id, pool_id, name, arm_id, slot, created_at, node_image_version,
       kubernetes_version, os_type, os_sku, vm_size, enable_fips, state,
       pinned, channel, promoted_at, demoted_at, error, updated_at
  FROM snapshots;

DROP TABLE snapshots;
ALTER TABLE snapshots_new RENAME TO snapshots;

-- "snapshots of a pool by time": list, newest_active, retention input.
CREATE INDEX snapshots_by_pool_time ON snapshots (pool_id, created_at);
-- the run's "is this slot due" question
CREATE INDEX snapshots_by_pool_slot ON snapshots (pool_id, slot);
-- `aksnap pin|promote|explain <ref>` by ARM id or name, any pool
CREATE INDEX snapshots_by_arm_id ON snapshots (arm_id);
CREATE INDEX snapshots_by_name ON snapshots (name);
-- reconcile: the few rows a crashed run (or an unverified answer) left
CREATE INDEX snapshots_pending ON snapshots (state)
    WHERE state = 'creating' OR state = 'deleting' OR state = 'unconfirmed';
-- a channel holds one snapshot per pool
CREATE UNIQUE INDEX snapshots_channel ON snapshots (pool_id, channel)
    WHERE channel IS NOT NULL;

-- The snapshot holding each channel of each pool now.
CREATE VIEW current_baselines AS
SELECT p.key AS pool,
       s.channel AS channel,
       s.name AS snapshot,
       s.arm_id AS arm_id,
       s.node_image_version AS node_image_version,
       s.kubernetes_version AS kubernetes_version,
       s.state AS state,
       s.promoted_at AS promoted_at,
       datetime(s.promoted_at, 'unixepoch') AS promoted,
       s.created_at AS created_at,
       datetime(s.created_at, 'unixepoch') AS created
  FROM snapshots s JOIN pools p ON p.id = s.pool_id
 WHERE s.channel IS NOT NULL;
