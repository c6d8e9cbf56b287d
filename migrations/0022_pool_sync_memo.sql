-- 0022_pool_sync_memo.sql -- a run whose configured pools are those it
-- synced last reads their ids from one row instead of every pools row
-- (issue 16: the 1 %-changed steady run; at 10,000 pools reading and
-- matching the pools table was about a quarter of the CPU a run spent
-- before its first ARM request).
--
--   pool_sync_memo  at most one row: a 128-bit digest of the pools a
--                   run configured (key, subscription, resource group,
--                   cluster and node pool of each, in the run's order,
--                   and their number) and their pools ids in that order
--                   (little-endian 64-bit integers), written by
--                   db_pool_sync_many after it synced them.
--
-- The memo holds only while the pools rows are as that sync left them:
-- any row inserted or deleted, or any change to a column the sync
-- compares (or to the id), deletes it (the triggers below), whoever
-- makes it.  A later migration that rebuilds pools must delete the memo
-- and recreate these triggers.
CREATE TABLE pool_sync_memo (
	one    INTEGER PRIMARY KEY CHECK (one = 1),
	digest BLOB NOT NULL,
	ids    BLOB NOT NULL
);

CREATE TRIGGER pools_memo_insert AFTER INSERT ON pools
BEGIN
	DELETE FROM pool_sync_memo;
END;

CREATE TRIGGER pools_memo_delete AFTER DELETE ON pools
BEGIN
	DELETE FROM pool_sync_memo;
END;

CREATE TRIGGER pools_memo_update
AFTER UPDATE OF id, key, subscription, resource_group, cluster, nodepool,
    arm_id ON pools
BEGIN
	DELETE FROM pool_sync_memo;
END;
