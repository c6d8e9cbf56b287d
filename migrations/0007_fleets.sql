-- 0007_fleets.sql -- fleets by selector (DESIGN.md 4, [fleet:NAME]).
--
--   pools.fleet  the [fleet:NAME] that selected the pool; NULL for a pool
--                of an explicit [pool:NAME] section.  A fleet's pool that
--                is no longer selected (or whose cluster is gone) keeps
--                its row: later runs record it missing and retention goes
--                on over its snapshots.

ALTER TABLE pools ADD COLUMN fleet TEXT;
CREATE INDEX pools_fleet ON pools (fleet) WHERE fleet IS NOT NULL;
