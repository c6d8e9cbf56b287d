-- 0011_observation_changes.sql -- `history --changes` from an index
-- (issue 16).
--
-- An observation is a change when it differs from the pool's previous one
-- (by observed_at, then id) in a version field or FIPS, or the pool going
-- missing or coming back; a pool's first observation is one.  A change of
-- ARM's provisioningState alone (Upgrading) is not.  NULL and '' compare
-- equal, as they always did (the rule was db.c's obs_changed until now,
-- and is the version_changes view's).
--
-- Until now `history --changes` read every observation of every pool and
-- compared each with the one before, in C: its cost grew with runs x
-- pools.  The answer is now stored: `changed` is set when a row is
-- inserted (the trigger below, for every writer), and read through the
-- partial index observations_changes, so the query reads only the rows it
-- prints.  The trigger also re-decides the row after the new one, in case
-- a row is inserted before the pool's newest (a run --as-of in the past):
-- the stored answer then stays exactly the comparison with the true
-- predecessor.  A window function (LAG) would need no column but reads,
-- and buffers, every observation of the pool at every query.
--
-- Existing rows are decided once, here, by the same rule.

ALTER TABLE observations ADD COLUMN changed INTEGER NOT NULL DEFAULT 0
    CHECK (changed IN (0, 1));

UPDATE observations SET changed = 1 WHERE id IN (
    SELECT c.id
    FROM (SELECT id, LAG(id) OVER (PARTITION BY pool_id
                                   ORDER BY observed_at, id) AS prev_id
          FROM observations) w
    JOIN observations c ON c.id = w.id
    LEFT JOIN observations p ON p.id = w.prev_id
    WHERE p.id IS NULL
       OR coalesce(p.node_image_version, '') <> coalesce(c.node_image_version, '')
       OR coalesce(p.kubernetes_version, '') <> coalesce(c.kubernetes_version, '')
       OR coalesce(p.os_type, '') <> coalesce(c.os_type, '')
       OR coalesce(p.os_sku, '') <> coalesce(c.os_sku, '')
       OR coalesce(p.vm_size, '') <> coalesce(c.vm_size, '')
       OR coalesce(p.enable_fips, 0) <> coalesce(c.enable_fips, 0)
       OR (p.provisioning_state = 'missing') <> (c.provisioning_state = 'missing'));

-- `history --changes`: a pool's changes by time, and nothing else.
CREATE INDEX observations_changes ON observations (pool_id, observed_at)
    WHERE changed = 1;

CREATE TRIGGER observations_changed AFTER INSERT ON observations
BEGIN
    -- the new row against its predecessor (none: a change)
    UPDATE observations SET changed = NOT EXISTS (
        SELECT 1 FROM observations p
        WHERE p.id = (SELECT q.id FROM observations q
                      WHERE q.pool_id = NEW.pool_id
                        AND q.observed_at <= NEW.observed_at
                        AND q.id <> NEW.id
                      ORDER BY q.observed_at DESC, q.id DESC LIMIT 1)
          AND coalesce(p.node_image_version, '') = coalesce(NEW.node_image_version, '')
          AND coalesce(p.kubernetes_version, '') = coalesce(NEW.kubernetes_version, '')
          AND coalesce(p.os_type, '') = coalesce(NEW.os_type, '')
          AND coalesce(p.os_sku, '') = coalesce(NEW.os_sku, '')
          AND coalesce(p.vm_size, '') = coalesce(NEW.vm_size, '')
          AND coalesce(p.enable_fips, 0) = coalesce(NEW.enable_fips, 0)
          AND (p.provisioning_state = 'missing') = (NEW.provisioning_state = 'missing'))
    WHERE id = NEW.id;
    -- the row after it, if it was inserted in the past, against it
    UPDATE observations SET changed = NOT (
            coalesce(node_image_version, '') = coalesce(NEW.node_image_version, '')
        AND coalesce(kubernetes_version, '') = coalesce(NEW.kubernetes_version, '')
        AND coalesce(os_type, '') = coalesce(NEW.os_type, '')
        AND coalesce(os_sku, '') = coalesce(NEW.os_sku, '')
        AND coalesce(vm_size, '') = coalesce(NEW.vm_size, '')
        AND coalesce(enable_fips, 0) = coalesce(NEW.enable_fips, 0)
        AND (provisioning_state = 'missing') = (NEW.provisioning_state = 'missing'))
    WHERE id = (SELECT q.id FROM observations q
                WHERE q.pool_id = NEW.pool_id
                  AND q.observed_at > NEW.observed_at
                ORDER BY q.observed_at, q.id LIMIT 1);
END;
