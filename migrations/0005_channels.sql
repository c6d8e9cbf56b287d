-- 0005_channels.sql -- auto-upgrade channels and who changed a pool
-- (DESIGN.md 6, Auto-upgrade channels, More apply guards).
--
--   observations.upgrade_channel, .node_os_channel
--                the cluster's autoUpgradeProfile when the pool was
--                observed; NULL when the cluster had none (old clusters)
--                or the field was absent.
--   observations.changed_by
--                on an observation whose node image or Kubernetes version
--                differs from the pool's previous one: 'aksnap' (aksnap's
--                own apply recorded it), 'auto-upgrade' (the cluster's
--                channels explain it) or 'outside' (anyone else); NULL
--                when nothing changed or nothing was known before.
--   applies      every apply aksnap carried out (upgrade, node-image
--                upgrade, pool or cluster creation): which snapshot, onto
--                what, from and to which versions, and whether it was a
--                rollback (--allow-older) or crossed regions; `explain`
--                shows them.  A table of its own: decisions are about
--                retention and promotion, and their CHECK stays as it is.

ALTER TABLE observations ADD COLUMN upgrade_channel TEXT;
ALTER TABLE observations ADD COLUMN node_os_channel TEXT;
ALTER TABLE observations ADD COLUMN changed_by TEXT
    CHECK (changed_by IN ('aksnap', 'auto-upgrade', 'outside'));

CREATE TABLE applies (
	id                      INTEGER PRIMARY KEY,
	run_id                  INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	snapshot_id             INTEGER
	    REFERENCES snapshots (id) ON DELETE SET NULL,
	pool_id                 INTEGER REFERENCES pools (id) ON DELETE SET NULL,
	target                  TEXT NOT NULL COLLATE NOCASE,  -- ARM id
	kind                    TEXT NOT NULL CHECK (kind IN ('upgrade',
	    'upgrade-node-image', 'create', 'create-cluster')),
	at                      INTEGER NOT NULL,
	rollback                INTEGER NOT NULL DEFAULT 0
	    CHECK (rollback IN (0, 1)),
	cross_region            INTEGER NOT NULL DEFAULT 0
	    CHECK (cross_region IN (0, 1)),
	from_kubernetes_version TEXT,
	from_node_image_version TEXT,
	kubernetes_version      TEXT,
	node_image_version      TEXT
);
-- `explain SNAPSHOT`: the applies of one snapshot
CREATE INDEX applies_by_snapshot ON applies (snapshot_id, at);
