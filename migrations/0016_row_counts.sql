-- 0016_row_counts.sql -- `db status` reads its counts, it does not count.
--
-- `db status` answered with count(*) over every table: on a year's store
-- (8 million decisions, half a million observations and snapshots) that
-- read every page of the largest index, hundreds of milliseconds, and
-- more every year.  The tables that grow with the store's age keep their
-- row counts here, moved by the triggers below in the transaction that
-- inserts or deletes the row (decisions: the rows of decision_rows, which
-- the view decisions shows one for one, 0015) (a run inserts a row only when something
-- changed, DESIGN.md section 5, so the cost is a few UPDATEs of this
-- small table per run).  Snapshots are counted by state ('snapshots.'
-- and the state): their total is the sum.  pools and runs stay counted
-- with count(*): a row per pool and per run, a few hundred pages.
--
-- A migration that rebuilds observations, decision_rows or snapshots
-- (CREATE new, INSERT SELECT, DROP, RENAME) drops these triggers with the
-- old table: it must create them again, and leave the counts true (the
-- INSERTs below show how to count).  `db check` compares every
-- count here with count(*) (db/db_check.c).

CREATE TABLE row_counts (
	name TEXT PRIMARY KEY,
	n    INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO row_counts (name, n)
    SELECT 'observations', count(*) FROM observations;
INSERT INTO row_counts (name, n)
    SELECT 'decisions', count(*) FROM decision_rows;
INSERT INTO row_counts (name, n)
    SELECT 'snapshots.' || s.state, (SELECT count(*) FROM snapshots
        WHERE state = s.state)
    FROM (SELECT 'creating' AS state UNION ALL SELECT 'unconfirmed'
        UNION ALL SELECT 'active' UNION ALL SELECT 'deleting'
        UNION ALL SELECT 'deleted' UNION ALL SELECT 'failed'
        UNION ALL SELECT 'missing' UNION ALL SELECT 'conflict') s;

CREATE TRIGGER observations_count_insert AFTER INSERT ON observations
BEGIN
	UPDATE row_counts SET n = n + 1 WHERE name = 'observations';
END;
CREATE TRIGGER observations_count_delete AFTER DELETE ON observations
BEGIN
	UPDATE row_counts SET n = n - 1 WHERE name = 'observations';
END;
CREATE TRIGGER decisions_count_insert AFTER INSERT ON decision_rows
BEGIN
	UPDATE row_counts SET n = n + 1 WHERE name = 'decisions';
END;
CREATE TRIGGER decisions_count_delete AFTER DELETE ON decision_rows
BEGIN
	UPDATE row_counts SET n = n - 1 WHERE name = 'decisions';
END;
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
