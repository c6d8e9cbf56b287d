-- 0021_report_event_indexes.sql -- `aksnap report`'s summary counts a
-- pool's promotions and failures from indexes alone (issue 16: every read
-- command but `list --all` under 100 ms on a year-old store).
--
-- decisions_events_by_pool_time (0013) held every action a timeline
-- marks in one partial index on (pool_id, last_at): counting a pool's
-- promotions and failures in the report's window read each entry's row
-- for its action (263,100 rows, 270 ms of report's 460 on the simulated
-- year at 10,000 pools).  A wider index with the action in its key
-- (the reverted first 0021) grew it 48.4 -> 70.6 MiB and the year's
-- store over 1 GB.  The same entries split by action into three partial
-- indexes cost what the one did (31.6 + 16.8 + 0.03 MiB against 48.4 on
-- that store) and the counts become count(*) over an index range: the
-- partial index of one action is its own count.  db/db_report.c's
-- queries repeat each WHERE word for word (a partial index serves only a
-- query whose WHERE contains it): the marks (`report --json`, --html)
-- read the three, the summary the last two.  No other statement read
-- decisions_events_by_pool_time.
DROP INDEX decisions_events_by_pool_time;
CREATE INDEX decisions_marks_by_pool_time ON decision_rows (pool_id, last_at)
    WHERE action IN ('create', 'demote', 'delete', 'pin', 'unpin',
        'missing', 'adopt');
CREATE INDEX decisions_promotions_by_pool_time
    ON decision_rows (pool_id, last_at) WHERE action = 'promote';
CREATE INDEX decisions_failures_by_pool_time
    ON decision_rows (pool_id, last_at) WHERE action = 'fail';
