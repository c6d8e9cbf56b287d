-- 0015_compact_decisions.sql -- the decisions table without its repeated
-- texts (issue 16: the store after a simulated year at 10,000 pools under
-- 1 GB; it was 2.0 GB, 1.46 GB of it decisions).
--
-- Measured on that year (8.1 million decision rows, 180 bytes a row with
-- indexes): the policy fingerprint (46 bytes) was the same text in every
-- keep and delete row, 4.8 million of them; a promotion's reasons (the
-- changelog summary, 262 bytes) the same text for every pool that
-- promoted the same release, 1.1 million rows for 488 texts; keep
-- reasons 11 texts over 4.4 million rows; and the texts that name a
-- snapshot (a skip's "unchanged since aksnap-POOL-STAMP (...)", a
-- demote's "replaced by aksnap-POOL-STAMP") differ from pool to pool by
-- the pool's key alone: 1.6 million rows, 1,144 texts once the key is
-- taken out.  Each text now lives once, in decision_texts, and a row
-- names it by id:
--
--   decision_texts  id, text (unique, never ''): a decision's reasons
--                   with every occurrence of its pool's key written as
--                   char(1) (the key is the pool's identity: pools.key
--                   never changes), or a policy fingerprint as it is.
--   decision_rows   the rows, as decisions held them, except:
--     reasons_id      the reasons, in decision_texts; NULL for '';
--     reasons         inline instead, only for a text that holds char(1)
--                     itself (none does that aksnap writes; a message
--                     quoted from elsewhere might);
--     fingerprint_id  the policy fingerprint, in decision_texts; NULL
--                     for '' (the pool-level rows carry none).
--   decisions       a view with decisions' columns as they were (id,
--                   run_id, pool_id, snapshot_id, at, slot, action,
--                   reasons, fingerprint, last_run_id, last_at,
--                   last_slot; reasons and fingerprint '' when empty):
--                   every query of the code, of `db check` and of a
--                   person with sqlite3 reads it unchanged, and SQLite
--                   flattens it into the query, so each one still seeks
--                   the indexes below.  Writes go to decision_rows
--                   (db/db.c's db_decision_add interns as above).
--
-- Indexes: those of decisions that a query uses, on decision_rows, under
-- their names.  decisions_by_pool_slot (pool_id, slot, action: 166 MB on
-- the year, over every row) goes: no query has used it since 0008/0013
-- gave the pool's questions their own partial indexes (every plan is in
-- tests/unit/db's test_db_hot_queries_use_their_indexes).
-- decisions_by_snapshot no longer lists the rows naming no snapshot (the
-- skips; decisions_pool_level has them).
--
-- DESIGN.md 5's growth rule is unchanged: a row when action, reasons or
-- fingerprint change, the run range of the last one grows otherwise.  No
-- fact is lost: every row keeps its id, and its texts read back
-- byte for byte through the view.  The new table and indexes are packed,
-- but the pages the old table held are free pages of the file until
-- `aksnap db vacuum` gives them back to the file system (a migration
-- cannot VACUUM: it runs in a transaction).

CREATE TABLE decision_texts (
	id   INTEGER PRIMARY KEY,
	text TEXT NOT NULL UNIQUE CHECK (text <> '')
);

INSERT INTO decision_texts (text)
SELECT fingerprint FROM decisions WHERE fingerprint <> ''
UNION
SELECT replace(d.reasons, coalesce(p.key, ''), char(1))
  FROM decisions d LEFT JOIN pools p ON p.id = d.pool_id
 WHERE d.reasons <> '' AND instr(d.reasons, char(1)) = 0;

CREATE TABLE decision_rows (
	id             INTEGER PRIMARY KEY,
	run_id         INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	pool_id        INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	snapshot_id    INTEGER REFERENCES snapshots (id) ON DELETE SET NULL,
	at             INTEGER NOT NULL,
	slot           INTEGER,
	action         TEXT NOT NULL CHECK (action IN ('create', 'skip', 'keep',
	    'delete', 'promote', 'demote', 'pin', 'unpin', 'fail', 'adopt',
	    'missing')),
	reasons        TEXT CHECK (reasons <> ''),
	reasons_id     INTEGER REFERENCES decision_texts (id),
	fingerprint_id INTEGER REFERENCES decision_texts (id),
	last_run_id    INTEGER REFERENCES runs (id) ON DELETE SET NULL,
	last_at        INTEGER NOT NULL DEFAULT 0,
	last_slot      INTEGER,
	CHECK (reasons IS NULL OR reasons_id IS NULL)
);

INSERT INTO decision_rows (id, run_id, pool_id, snapshot_id, at, slot,
    action, reasons, reasons_id, fingerprint_id, last_run_id, last_at,
    last_slot)
SELECT d.id, d.run_id, d.pool_id, d.snapshot_id, d.at, d.slot, d.action,
       CASE WHEN instr(d.reasons, char(1)) > 0 THEN d.reasons END,
       (SELECT t.id FROM decision_texts t
         WHERE t.text = replace(d.reasons, coalesce(p.key, ''), char(1))
           AND instr(d.reasons, char(1)) = 0),
       (SELECT t.id FROM decision_texts t WHERE t.text = d.fingerprint),
       d.last_run_id, d.last_at, d.last_slot
  FROM decisions d LEFT JOIN pools p ON p.id = d.pool_id
 ORDER BY d.id;

DROP TABLE decisions;

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
       d.last_run_id AS last_run_id,
       d.last_at AS last_at,
       d.last_slot AS last_slot
  FROM decision_rows d;

CREATE INDEX decisions_by_snapshot ON decision_rows (snapshot_id, at)
    WHERE snapshot_id IS NOT NULL;
CREATE INDEX decisions_pool_level ON decision_rows (pool_id, at)
    WHERE snapshot_id IS NULL;
CREATE INDEX decisions_by_pool_last_slot ON decision_rows (pool_id, last_slot)
    WHERE action = 'skip';
CREATE INDEX decisions_skip_by_pool_time
    ON decision_rows (pool_id, action, last_at) WHERE action = 'skip';
CREATE INDEX decisions_events_by_pool_time ON decision_rows (pool_id, last_at)
    WHERE action IN ('create', 'promote', 'demote', 'delete', 'pin',
        'unpin', 'fail', 'missing', 'adopt');
