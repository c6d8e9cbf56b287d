-- 0020_live_list_index.sql -- `aksnap list` reads every pool's live
-- snapshots from one index, without touching the table (issue 16: every
-- read command but `list --all` under 100 ms on a year-old store).
--
-- snapshots_live (0010) held only created_at: `list` seeked the table
-- for each of its rows (130,000 rows, 10,800 page reads on the simulated
-- year at 10,000 pools) and the table layout needed every row in memory
-- before the first could print.  The index is now covering for the
-- columns the table shows, in the order it shows them (created_at, then
-- id, newest first), so db/db_list.c's db_snapshot_lines reads it twice
-- -- once to measure the columns, once to print -- and never the table.
-- Same name, same WHERE (a partial index serves only a query whose WHERE
-- contains it: db_list.c spells it word for word), so every statement
-- that used it still does: `list` (text, --json) over every pool.  Its
-- other columns change with a snapshot's state, channel or pin, which
-- write the row anyway; a run inserts one entry a snapshot taken.
DROP INDEX snapshots_live;
CREATE INDEX snapshots_live ON snapshots (created_at, id, pool_id, name,
    state, node_image_version, kubernetes_version, channel, pinned)
    WHERE state NOT IN ('deleted', 'failed', 'missing');
