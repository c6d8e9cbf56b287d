-- 0017_compact_snapshots.sql -- a snapshot's ARM id stored only when it
-- is not the one its name and pool give, and two indexes fewer (issue 16:
-- the store after a simulated year at 10,000 pools under 1 GB).
--
-- Measured on that year (555,750 snapshot rows, 674 bytes a row with 8
-- indexes): the ARM id, 153 bytes, was every row's largest field and
-- the key of its own index (102 MB); yet aksnap names every snapshot it
-- takes in its pool's subscription and resource group
-- (/subscriptions/SUB/resourceGroups/RG/providers/
-- Microsoft.ContainerService/snapshots/NAME, job/azure/arm.c), so the
-- row repeated what its pool and name say.  Now:
--
--   snapshots.arm_id  NULL when it is exactly (byte for byte) that id
--                     built from the pool's subscription and resource
--                     group and the snapshot's name; stored otherwise
--                     (an adopted snapshot from elsewhere).  Every
--                     reader (db/db.c's snapshot columns, `db check`,
--                     sync's owner question, the view current_baselines)
--                     reads coalesce(arm_id, that id): `list`,
--                     `explain`, `--json` show the same id as before.
--   pools_keep_snapshot_arm_ids
--                     a trigger: before a pool's subscription or
--                     resource group changes, its snapshots whose id was
--                     derived get it written out, so a moved pool's old
--                     snapshots keep the id they had.
--   snapshots_keep_arm_id
--                     likewise when a snapshot's pool or name changes
--                     (aksnap never does; a person might).
--   UNIQUE (name, pool_id)
--                     was (pool_id, name): the same rule, and its index
--                     now also finds a snapshot by name over every pool,
--                     which snapshots_by_name (26 MB) did.
--   snapshots_by_arm_id
--                     only the rows that store an id; a lookup by ARM id
--                     seeks it and, for the derived ones, the name (the
--                     id's last segment) in the unique index.
--
-- SQLite cannot drop a NOT NULL or change a UNIQUE constraint, so the
-- table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter;
-- the runner has foreign keys off and checks them before its commit).
-- Ids are kept, so decisions, applies and snapshot_channels still name
-- the same rows; the view goes first and comes back reading the derived
-- id; the other indexes are recreated as they were, and so are 0016's
-- triggers counting snapshots by state (the rows are the same, so
-- row_counts stays true).  The pages the old
-- table held are free pages of the file until `aksnap db vacuum`.

DROP VIEW current_baselines;

CREATE TABLE snapshots_new (
	id                 INTEGER PRIMARY KEY,
	pool_id            INTEGER NOT NULL
	    REFERENCES pools (id) ON DELETE RESTRICT,
	name               TEXT NOT NULL COLLATE NOCASE,
	arm_id             TEXT COLLATE NOCASE,  -- NULL: derived (above)
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
	UNIQUE (name, pool_id)
);

INSERT INTO snapshots_new (id, pool_id, name, arm_id, slot, created_at,
    node_image_version, kubernetes_version, os_type, os_sku, vm_size,
    enable_fips, state, pinned, channel, promoted_at, demoted_at, error,
    updated_at)
SELECT s.id, s.pool_id, s.name,
       nullif(s.arm_id COLLATE BINARY, '/subscriptions/' || p.subscription ||
           '/resourceGroups/' || p.resource_group ||
           '/providers/Microsoft.ContainerService/snapshots/' || s.name),
       s.slot, s.created_at, s.node_image_version, s.kubernetes_version,
       s.os_type, s.os_sku, s.vm_size, s.enable_fips, s.state, s.pinned,
       s.channel, s.promoted_at, s.demoted_at, s.error, s.updated_at
  FROM snapshots s LEFT JOIN pools p ON p.id = s.pool_id
 ORDER BY s.id;

DROP TABLE snapshots;
ALTER TABLE snapshots_new RENAME TO snapshots;

CREATE INDEX snapshots_by_pool_time ON snapshots (pool_id, created_at);
CREATE INDEX snapshots_by_pool_slot ON snapshots (pool_id, slot);
CREATE INDEX snapshots_by_arm_id ON snapshots (arm_id)
    WHERE arm_id IS NOT NULL;
CREATE INDEX snapshots_pending ON snapshots (state)
    WHERE state = 'creating' OR state = 'deleting' OR state = 'unconfirmed';
CREATE INDEX snapshots_live ON snapshots (created_at)
    WHERE state NOT IN ('deleted', 'failed', 'missing');
CREATE INDEX snapshots_by_pool_state ON snapshots (pool_id, state, created_at);
CREATE INDEX snapshots_by_state ON snapshots (state);

CREATE TRIGGER snapshots_count_insert AFTER INSERT ON snapshots
BEGIN
	UPDATE row_counts SET n = n + 1 WHERE name = 'snapshots.' || new.state;
END;
CREATE TRIGGER snapshots_count_delete AFTER DELETE ON snapshots
BEGIN
	UPDATE row_counts SET n = n - 1 WHERE name = 'snapshots.' || old.state;
END;
CREATE TRIGGER snapshots_count_state AFTER UPDATE OF state ON snapshots
WHEN old.state IS NOT new.state
BEGIN
	UPDATE row_counts SET n = n - 1 WHERE name = 'snapshots.' || old.state;
	UPDATE row_counts SET n = n + 1 WHERE name = 'snapshots.' || new.state;
END;

CREATE TRIGGER pools_keep_snapshot_arm_ids
BEFORE UPDATE OF subscription, resource_group ON pools
WHEN OLD.subscription IS NOT NEW.subscription
  OR OLD.resource_group IS NOT NEW.resource_group
BEGIN
    UPDATE snapshots
       SET arm_id = '/subscriptions/' || OLD.subscription ||
           '/resourceGroups/' || OLD.resource_group ||
           '/providers/Microsoft.ContainerService/snapshots/' || name
     WHERE pool_id = OLD.id AND arm_id IS NULL;
END;

CREATE TRIGGER snapshots_keep_arm_id
AFTER UPDATE OF pool_id, name ON snapshots
WHEN NEW.arm_id IS NULL
 AND (OLD.pool_id IS NOT NEW.pool_id OR OLD.name IS NOT NEW.name)
BEGIN
    UPDATE snapshots
       SET arm_id = (SELECT '/subscriptions/' || p.subscription ||
                            '/resourceGroups/' || p.resource_group ||
                            '/providers/Microsoft.ContainerService/'
                            || 'snapshots/' || OLD.name
                       FROM pools p WHERE p.id = OLD.pool_id)
     WHERE id = NEW.id;
END;

CREATE VIEW current_baselines AS
SELECT p.key AS pool,
       h.channel AS channel,
       s.name AS snapshot,
       coalesce(s.arm_id, '/subscriptions/' || sp.subscription ||
           '/resourceGroups/' || sp.resource_group ||
           '/providers/Microsoft.ContainerService/snapshots/' || s.name)
           AS arm_id,
       s.node_image_version AS node_image_version,
       s.kubernetes_version AS kubernetes_version,
       s.state AS state,
       h.promoted_at AS promoted_at,
       datetime(h.promoted_at, 'unixepoch') AS promoted,
       s.created_at AS created_at,
       datetime(s.created_at, 'unixepoch') AS created
  FROM snapshot_channels h
  JOIN snapshots s ON s.id = h.snapshot_id
  JOIN pools p ON p.id = h.pool_id
  JOIN pools sp ON sp.id = s.pool_id
 WHERE h.left_at IS NULL;
