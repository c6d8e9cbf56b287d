-- 0008_decision_ranges.sql -- decisions as run ranges (DESIGN.md 5, the
-- growth rule; issue 16).
--
-- A decision about a snapshot (or a pool's decision that names no
-- snapshot: a skip, a failure to observe) that equals the last one about
-- the same thing -- same action, reasons and policy fingerprint -- no
-- longer adds a row: it extends the last row's run range.  A row now
-- reads "from run run_id at `at` (the first run that decided so) to run
-- last_run_id at last_at (the latest one)"; last_slot is the schedule
-- slot of the latest run (slot stays the first one's), so that the slot
-- rule still knows a skipped slot is done.  Hourly runs over an unchanged
-- fleet then add no decision rows at all.
--
-- Existing rows become ranges of one run (last_* = their own run, time
-- and slot).  Older rows are deliberately not merged: each shows its own
-- run and time in `explain` today, and a merge would lose those facts.
-- So a migrated store stops growing from here on, and `explain` prints
-- every old row exactly as before.
--
-- Columns are added rather than the table rebuilt: nothing in the CHECKs
-- changes, and ADD COLUMN keeps every other helper's query on decisions
-- valid.  A pool-level decision (snapshot_id NULL) is found by its own
-- partial index: "the pool's last decision naming no snapshot".

ALTER TABLE decisions ADD COLUMN last_run_id INTEGER
    REFERENCES runs (id) ON DELETE SET NULL;
ALTER TABLE decisions ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE decisions ADD COLUMN last_slot INTEGER;

UPDATE decisions SET last_run_id = run_id, last_at = at, last_slot = slot;

-- db_decision_add: the pool's last decision that names no snapshot.
CREATE INDEX decisions_pool_level ON decisions (pool_id, at)
    WHERE snapshot_id IS NULL;
-- the slot rule: a skip range covers the slots from slot to last_slot.
CREATE INDEX decisions_by_pool_last_slot ON decisions (pool_id, last_slot)
    WHERE action = 'skip';
