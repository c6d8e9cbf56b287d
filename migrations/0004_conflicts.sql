-- 0004_conflicts.sql -- the foreign snapshots sync found (DESIGN.md 6,
-- Ownership).
--
-- A snapshot tagged aksnap-managed that this store cannot prove is its own
-- (not in the store, and not the deterministic name of a configured pool
-- and slot with matching aksnap-pool/aksnap-slot tags and source pool) is
-- a conflict: `sync` records it here, `check` reports it (WARNING) without
-- calling ARM, and nothing ever adopts, re-tags, promotes or deletes it.
--
-- Why a table of their own and not rows of snapshots in state 'conflict':
--   - snapshots.pool_id is NOT NULL, and a foreign snapshot often belongs
--     to no pool configured here (another store's pool, a pool key renamed
--     away): there is no honest pool to attach it to;
--   - every query that acts (retention, promotion, the newest active
--     snapshot, the slot rule, list, explain) reads snapshots: keeping the
--     foreign ones out of that table keeps them out of every action by
--     construction, not by a state filter each query must remember.
-- The state 'conflict' (0002) stays for a row of this store whose Azure
-- tags came to name another owner.
--
-- A sync that lists a subscription replaces that subscription's rows
-- (run_id = the sync's runs row; rows it did not see again are deleted),
-- so the table holds what Azure held at the last successful listing.

CREATE TABLE conflicts (
	id           INTEGER PRIMARY KEY,
	arm_id       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name         TEXT NOT NULL COLLATE NOCASE,
	subscription TEXT NOT NULL COLLATE NOCASE,
	pool_tag     TEXT,                    -- its aksnap-pool tag, as found
	source_id    TEXT COLLATE NOCASE,     -- creationData.sourceResourceId
	reason       TEXT NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL
);
-- sync: forget a subscription's rows its listing no longer shows
CREATE INDEX conflicts_by_subscription ON conflicts (subscription, run_id);
