-- 0029_open_marks_index.sql -- the summary of `report` finds a pool's
-- open promotions and failures without reading its other open ranges
-- (issue 16: every read command under 100 ms on a year's store).
--
--   decision_open_marks  the open ranges (0018) that promote or fail, by
--                        pool and end: none for most pools.  db_report's
--                        SUM_OPEN read every open range of every pool
--                        instead -- a live snapshot's keep is one, so 14
--                        a pool after a year, 140,000 on the year's
--                        store at 10,000 pools: 30 of `report`'s 95 ms.
--                        With the index, 3 ms.
--
-- The WHERE is the query's, word for word (SQLite uses a partial index
-- only when the query's terms imply its own).  A promotion's range is
-- open only until the snapshot's next decision (a keep), so the index
-- holds a few rows at any time: on the year's store, one page.

CREATE INDEX decision_open_marks ON decision_open (pool_id, last_at)
    WHERE action IN ('promote', 'fail');
