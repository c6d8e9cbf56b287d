-- 0010_live_snapshots.sql -- `aksnap list` without a pool shows the live
-- snapshots (issue 16): those not deleted, failed or missing, newest
-- first.  Without this index that question scans every snapshot row the
-- store ever held; with it, only the live ones in created_at order.  The
-- WHERE is spelled exactly as db/db_list.c's query spells it, which is
-- what lets SQLite use a partial index.  `list --all` still reads the
-- whole table, deliberately.
CREATE INDEX snapshots_live ON snapshots (created_at)
    WHERE state NOT IN ('deleted', 'failed', 'missing');
