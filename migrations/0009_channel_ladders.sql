-- 0009_channel_ladders.sql -- a snapshot may hold several channels
-- (DESIGN.md section 6, Ladders: `channels = canary:1d stable:7d`).
--
--   snapshot_channels  one row each time a snapshot entered a channel of
--                      its pool: when (promoted_at), its rung in the
--                      ladder (for ordering the aksnap-channel tag), and
--                      when and how it left (left_at; left_how
--                      'replaced' by the next holder, or 'demoted' by
--                      hand).  The holder of a channel is the row with
--                      left_at NULL (one per pool and channel, by index).
--                      A ladder's soak is counted from promoted_at of the
--                      previous rung; keep_promoted counts generations
--                      per channel; a snapshot with a 'demoted' row is
--                      never promoted again by a run.
--
-- snapshots.channel stays, now the list of channels the snapshot holds
-- in ladder order ("canary,stable"), kept by db/ for `list` and the
-- views; promoted_at is its latest entry, demoted_at its latest exit.
-- The unique index on snapshots.channel goes (the table holds the rule).
--
-- Conversion: every holder today becomes a holding row; every snapshot
-- that was promoted and replaced becomes a left row, its channel taken
-- from its last promotion's journal entry ("channel NAME: ...").

CREATE TABLE snapshot_channels (
	id          INTEGER PRIMARY KEY,
	pool_id     INTEGER NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
	snapshot_id INTEGER NOT NULL
	    REFERENCES snapshots (id) ON DELETE CASCADE,
	channel     TEXT NOT NULL,
	rung        INTEGER NOT NULL DEFAULT 0,
	promoted_at INTEGER NOT NULL,
	left_at     INTEGER,
	left_how    TEXT CHECK (left_how IN ('replaced', 'demoted')),
	CHECK ((left_at IS NULL) = (left_how IS NULL))
);
-- a channel holds one snapshot per pool
CREATE UNIQUE INDEX snapshot_channels_holder
    ON snapshot_channels (pool_id, channel) WHERE left_at IS NULL;
-- a pool's ladder history (promotion input, keep_promoted, fallback)
CREATE INDEX snapshot_channels_by_pool
    ON snapshot_channels (pool_id, channel, promoted_at);
-- what a snapshot holds (its tag, list, demote)
CREATE INDEX snapshot_channels_by_snapshot
    ON snapshot_channels (snapshot_id);

INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, rung,
    promoted_at)
SELECT pool_id, id, channel, 0, coalesce(promoted_at, updated_at)
  FROM snapshots WHERE channel IS NOT NULL;

INSERT INTO snapshot_channels (pool_id, snapshot_id, channel, rung,
    promoted_at, left_at, left_how)
SELECT s.pool_id, s.id,
       coalesce((SELECT substr(d.reasons, 9,
                        instr(substr(d.reasons, 9), ':') - 1)
                   FROM decisions d
                  WHERE d.snapshot_id = s.id AND d.action = 'promote'
                    AND d.reasons LIKE 'channel %:%'
                  ORDER BY d.at DESC, d.id DESC LIMIT 1), 'stable'),
       0, s.promoted_at, coalesce(s.demoted_at, s.promoted_at), 'replaced'
  FROM snapshots s
 WHERE s.channel IS NULL AND s.promoted_at IS NOT NULL;

DROP INDEX snapshots_channel;

-- The snapshot holding each channel of each pool now (one row a channel).
DROP VIEW current_baselines;
CREATE VIEW current_baselines AS
SELECT p.key AS pool,
       h.channel AS channel,
       s.name AS snapshot,
       s.arm_id AS arm_id,
       s.node_image_version AS node_image_version,
       s.kubernetes_version AS kubernetes_version,
       s.state AS state,
       h.promoted_at AS promoted_at,
       datetime(h.promoted_at, 'unixepoch') AS promoted,
       s.created_at AS created_at,
       datetime(s.created_at, 'unixepoch') AS created
  FROM snapshot_channels h
  JOIN snapshots s ON s.id = h.snapshot_id
  JOIN pools p ON p.id = h.pool_id
 WHERE h.left_at IS NULL;
