-- 0021_report_counts.sql -- `report`'s summary counts a pool's
-- promotions and failures of the window from an index alone (issue 16:
-- every read command but `list --all` under 100 ms on a year's store).
--
-- The count read the ids of the pool's events of the window from
-- decisions_events_by_pool_time (pool_id, last_at), then each row of
-- decision_rows for its action: rows written over the window's 30 days,
-- a page a row.  On the year's store (10,000 pools) that was 16,500 of
-- the summary's 20,400 page reads and 300 of its 520 ms of CPU.  The
-- index now holds the action too (same rows, same WHERE: nothing more is
-- written), so db/db_report.c's counts are answered by it and by
-- decision_open's key; the one other statement that uses the index, the
-- report's events (the timelines' marks), uses it as before (its first
-- two columns are the same).

DROP INDEX decisions_events_by_pool_time;
CREATE INDEX decisions_events_by_pool_time
    ON decision_rows (pool_id, last_at, action)
    WHERE action IN ('create', 'promote', 'demote', 'delete', 'pin',
        'unpin', 'fail', 'missing', 'adopt');
