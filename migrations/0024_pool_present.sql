-- 0024_pool_present.sql -- each pool's newest observation and newest
-- active snapshot named in one small row, so that the commands that read
-- every pool (drift, check, report) find them without a seek of the
-- observations' and snapshots' indexes a pool (issue 16: every read
-- command under 100 ms on a year's store at 10,000 pools).
--
--   pool_present  one row a pool that has an observation or an active
--                 snapshot: the id of its newest observation (by
--                 observed_at, then id: db_observation_latest's) and of
--                 its newest active snapshot (by created_at, then id:
--                 db_snapshot_newest_active's), NULL when it has none.
--
-- Those indexes hold a row a pool a day (observations_by_pool_time,
-- snapshots_by_pool_state): after a year a seek for each of 10,000 pools
-- read a leaf page for every two to four pools, 3,700 and 2,500 page
-- reads, most of drift's system time.  The 10,000 rows here fit about 40
-- pages.
--
-- The triggers below keep both ids whoever writes: an observation
-- inserted (in the past too), deleted or moved (pool, observed_at); a
-- snapshot inserted or deleted active, or whose pool, state or creation
-- time changes while it is or becomes active.  A run's usual writes fire
-- none of them: a pool seen as it was extends its interval (last_seen,
-- seen), and only a change or a snapshot taken or deleted writes what
-- they watch.  A later migration that rebuilds observations or snapshots
-- must recreate these triggers and fill the table again.
CREATE TABLE pool_present (
	pool_id   INTEGER PRIMARY KEY REFERENCES pools (id) ON DELETE CASCADE,
	obs_id    INTEGER, -- observations.id, NULL: none
	newest_id INTEGER  -- snapshots.id, NULL: none active
);

INSERT INTO pool_present (pool_id, obs_id, newest_id)
SELECT p.id,
    (SELECT q.id FROM observations q WHERE q.pool_id = p.id
      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1),
    (SELECT a.id FROM snapshots a WHERE a.pool_id = p.id
        AND a.state = 'active'
      ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
FROM pools p
WHERE EXISTS (SELECT 1 FROM observations q WHERE q.pool_id = p.id)
   OR EXISTS (SELECT 1 FROM snapshots a WHERE a.pool_id = p.id
                 AND a.state = 'active');

CREATE TRIGGER pool_present_obs_insert AFTER INSERT ON observations
BEGIN
	INSERT INTO pool_present (pool_id, obs_id)
	VALUES (NEW.pool_id,
	    (SELECT q.id FROM observations q WHERE q.pool_id = NEW.pool_id
	      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1))
	ON CONFLICT (pool_id) DO UPDATE SET obs_id = excluded.obs_id;
END;

CREATE TRIGGER pool_present_obs_delete AFTER DELETE ON observations
BEGIN
	UPDATE pool_present SET obs_id =
	    (SELECT q.id FROM observations q WHERE q.pool_id = OLD.pool_id
	      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1)
	 WHERE pool_id = OLD.pool_id;
END;

CREATE TRIGGER pool_present_obs_update
AFTER UPDATE OF pool_id, observed_at ON observations
WHEN OLD.pool_id IS NOT NEW.pool_id OR OLD.observed_at IS NOT NEW.observed_at
BEGIN
	UPDATE pool_present SET obs_id =
	    (SELECT q.id FROM observations q WHERE q.pool_id = OLD.pool_id
	      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1)
	 WHERE pool_id = OLD.pool_id;
	INSERT INTO pool_present (pool_id, obs_id)
	VALUES (NEW.pool_id,
	    (SELECT q.id FROM observations q WHERE q.pool_id = NEW.pool_id
	      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1))
	ON CONFLICT (pool_id) DO UPDATE SET obs_id = excluded.obs_id;
END;

CREATE TRIGGER pool_present_snap_insert AFTER INSERT ON snapshots
WHEN NEW.state = 'active'
BEGIN
	INSERT INTO pool_present (pool_id, newest_id)
	VALUES (NEW.pool_id,
	    (SELECT a.id FROM snapshots a WHERE a.pool_id = NEW.pool_id
	        AND a.state = 'active'
	      ORDER BY a.created_at DESC, a.id DESC LIMIT 1))
	ON CONFLICT (pool_id) DO UPDATE SET newest_id = excluded.newest_id;
END;

CREATE TRIGGER pool_present_snap_delete AFTER DELETE ON snapshots
WHEN OLD.state = 'active'
BEGIN
	UPDATE pool_present SET newest_id =
	    (SELECT a.id FROM snapshots a WHERE a.pool_id = OLD.pool_id
	        AND a.state = 'active'
	      ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
	 WHERE pool_id = OLD.pool_id;
END;

CREATE TRIGGER pool_present_snap_update
AFTER UPDATE OF pool_id, state, created_at ON snapshots
WHEN (OLD.state = 'active' OR NEW.state = 'active')
 AND (OLD.pool_id IS NOT NEW.pool_id OR OLD.state IS NOT NEW.state
      OR OLD.created_at IS NOT NEW.created_at)
BEGIN
	UPDATE pool_present SET newest_id =
	    (SELECT a.id FROM snapshots a WHERE a.pool_id = OLD.pool_id
	        AND a.state = 'active'
	      ORDER BY a.created_at DESC, a.id DESC LIMIT 1)
	 WHERE pool_id = OLD.pool_id;
	INSERT INTO pool_present (pool_id, newest_id)
	VALUES (NEW.pool_id,
	    (SELECT a.id FROM snapshots a WHERE a.pool_id = NEW.pool_id
	        AND a.state = 'active'
	      ORDER BY a.created_at DESC, a.id DESC LIMIT 1))
	ON CONFLICT (pool_id) DO UPDATE SET newest_id = excluded.newest_id;
END;
