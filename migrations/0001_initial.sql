-- 0001_initial.sql -- the first schema of the aksnap store (DESIGN.md 5).
--
-- Applied by db/db.c inside one transaction together with its
-- PRAGMA user_version (and, on a new file, application_id); so no
-- BEGIN/COMMIT here.  Never edit this file once released: add 0002_*.sql.
--
-- Times are Unix seconds (UTC) in INTEGER columns; NULL means unset.
-- ARM names and ids are case-insensitive in Azure, so they are compared
-- with COLLATE NOCASE here too.
--
-- ON DELETE, chosen per edge: aksnap never deletes pools or runs itself;
-- if an operator does by hand, derived rows (observations, decisions) go
-- with their pool, run references become NULL (the history stays), and a
-- pool that still has snapshot rows cannot be deleted at all (RESTRICT):
-- those rows are the only record of resources that may exist in Azure.

CREATE TABLE pools (
	id             INTEGER PRIMARY KEY,
	key            TEXT NOT NULL UNIQUE,
	subscription   TEXT NOT NULL,
	resource_group TEXT NOT NULL,
	cluster        TEXT NOT NULL,
	nodepool       TEXT NOT NULL,
	arm_id         TEXT NOT NULL COLLATE NOCASE,
	location       TEXT,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);

CREATE TABLE runs (
	id          INTEGER PRIMARY KEY,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER,
	as_of       INTEGER NOT NULL,
	mode        TEXT NOT NULL CHECK (mode IN ('run', 'dry-run', 'plan',
	    'snapshot', 'prune', 'promote', 'pin', 'unpin', 'apply', 'sync')),
	exit_code   INTEGER,            -- NULL while running (or crashed)
	observed    INTEGER NOT NULL DEFAULT 0,
	taken       INTEGER NOT NULL DEFAULT 0,
	skipped     INTEGER NOT NULL DEFAULT 0,
	deleted     INTEGER NOT NULL DEFAULT 0,
	promoted    INTEGER NOT NULL DEFAULT 0,
	failed      INTEGER NOT NULL DEFAULT 0,
	pid         INTEGER
);
CREATE INDEX runs_by_mode ON runs (mode, started_at);

CREATE TABLE observations (
	id                 INTEGER PRIMARY KEY,
	pool_id            INTEGER NOT NULL
	    REFERENCES pools (id) ON DELETE CASCADE,
	run_id             INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	observed_at        INTEGER NOT NULL,
	-- the version fields are NULL when the pool was not found
	node_image_version TEXT,
	kubernetes_version TEXT,
	os_type            TEXT,
	os_sku             TEXT,
	vm_size            TEXT,
	enable_fips        INTEGER CHECK (enable_fips IN (0, 1)),
	provisioning_state TEXT NOT NULL     -- ARM's, or 'missing'
);
-- "observations of a pool by time": history, latest, version_changes.
CREATE INDEX observations_by_pool_time ON observations (pool_id, observed_at);

CREATE TABLE snapshots (
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
	state              TEXT NOT NULL CHECK (state IN ('creating', 'active',
	    'deleting', 'deleted', 'failed', 'missing')),
	pinned             INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
	channel            TEXT,             -- NULL when not promoted
	promoted_at        INTEGER,
	demoted_at         INTEGER,
	error              TEXT,
	updated_at         INTEGER NOT NULL,
	UNIQUE (pool_id, name)
);
-- "snapshots of a pool by time": list, newest_active, retention input.
CREATE INDEX snapshots_by_pool_time ON snapshots (pool_id, created_at);
-- the run's "is this slot due" question
CREATE INDEX snapshots_by_pool_slot ON snapshots (pool_id, slot);
-- `aksnap pin|promote|explain <ref>` by ARM id or name, any pool
CREATE INDEX snapshots_by_arm_id ON snapshots (arm_id);
CREATE INDEX snapshots_by_name ON snapshots (name);
-- reconcile: the few rows a crashed run left half-done
CREATE INDEX snapshots_pending ON snapshots (state)
    WHERE state = 'creating' OR state = 'deleting';
-- a channel holds one snapshot per pool
CREATE UNIQUE INDEX snapshots_channel ON snapshots (pool_id, channel)
    WHERE channel IS NOT NULL;

CREATE TABLE decisions (
	id          INTEGER PRIMARY KEY,
	run_id      INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	pool_id     INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	snapshot_id INTEGER REFERENCES snapshots (id) ON DELETE SET NULL,
	at          INTEGER NOT NULL,
	slot        INTEGER,
	action      TEXT NOT NULL CHECK (action IN ('create', 'skip', 'keep',
	    'delete', 'promote', 'demote', 'pin', 'unpin', 'fail', 'adopt',
	    'missing')),
	reasons     TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL DEFAULT ''   -- of the policy that decided
);
CREATE INDEX decisions_by_snapshot ON decisions (snapshot_id, at);
CREATE INDEX decisions_by_pool_slot ON decisions (pool_id, slot, action);

-- For people who open the file with sqlite3(1).

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

-- Each observation whose versions differ from the pool's previous one (the
-- first observation of a pool counts as a change), with both sides.
CREATE VIEW version_changes AS
SELECT p.key AS pool,
       o.observed_at AS observed_at,
       datetime(o.observed_at, 'unixepoch') AS observed,
       o.prev_observed_at AS previous_observed_at,
       datetime(o.prev_observed_at, 'unixepoch') AS previous_observed,
       o.prev_node_image_version AS previous_node_image_version,
       o.node_image_version AS node_image_version,
       o.prev_kubernetes_version AS previous_kubernetes_version,
       o.kubernetes_version AS kubernetes_version,
       o.prev_os_sku AS previous_os_sku,
       o.os_sku AS os_sku,
       o.prev_vm_size AS previous_vm_size,
       o.vm_size AS vm_size,
       o.prev_enable_fips AS previous_enable_fips,
       o.enable_fips AS enable_fips,
       o.prev_provisioning_state AS previous_provisioning_state,
       o.provisioning_state AS provisioning_state
  FROM (SELECT x.*,
               LAG(x.id) OVER w AS prev_id,
               LAG(x.observed_at) OVER w AS prev_observed_at,
               LAG(x.node_image_version) OVER w AS prev_node_image_version,
               LAG(x.kubernetes_version) OVER w AS prev_kubernetes_version,
               LAG(x.os_type) OVER w AS prev_os_type,
               LAG(x.os_sku) OVER w AS prev_os_sku,
               LAG(x.vm_size) OVER w AS prev_vm_size,
               LAG(x.enable_fips) OVER w AS prev_enable_fips,
               LAG(x.provisioning_state) OVER w AS prev_provisioning_state
          FROM observations x
        WINDOW w AS (PARTITION BY x.pool_id ORDER BY x.observed_at, x.id)) o
  JOIN pools p ON p.id = o.pool_id
 WHERE o.prev_id IS NULL
    OR o.node_image_version IS NOT o.prev_node_image_version
    OR o.kubernetes_version IS NOT o.prev_kubernetes_version
    OR o.os_type IS NOT o.prev_os_type
    OR o.os_sku IS NOT o.prev_os_sku
    OR o.vm_size IS NOT o.prev_vm_size
    OR o.enable_fips IS NOT o.prev_enable_fips
    OR (o.provisioning_state = 'missing')
       IS NOT (o.prev_provisioning_state = 'missing');
