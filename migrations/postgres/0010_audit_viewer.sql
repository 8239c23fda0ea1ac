-- The audit viewer: each record names the app and the user it concerns (derived from its
-- actor, object and detail when written), so the viewer filters on indexed columns.
-- Organizations keep records for a number of days; a purge leaves a checkpoint (the hash of
-- the last record removed) from which the remaining chain still verifies.
ALTER TABLE audit_events ADD COLUMN app_id TEXT;
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
UPDATE audit_events SET app_id = object_id WHERE object_type = 'app';
UPDATE audit_events SET app_id = actor_id WHERE app_id IS NULL AND actor_type = 'app';
UPDATE audit_events SET user_id = object_id WHERE object_type = 'user';
UPDATE audit_events SET user_id = actor_id WHERE user_id IS NULL AND actor_type = 'user';
-- The viewer lists newest first by time (then id): each filter has an index that ends in
-- (at, id), so a page is an index range read however wide the time range. The user indexes
-- are partial: the busiest records (an app's own token requests) concern no user and cost
-- them nothing.
CREATE INDEX audit_events_at ON audit_events(org_id, at, id);
CREATE INDEX audit_events_app ON audit_events(org_id, app_id, at, id);
CREATE INDEX audit_events_user ON audit_events(org_id, user_id, at, id) WHERE user_id IS NOT NULL;
CREATE INDEX audit_events_actor ON audit_events(org_id, actor_id, at, id) WHERE actor_type = 'user';
CREATE INDEX audit_events_action ON audit_events(org_id, action, at, id);

ALTER TABLE organizations ADD COLUMN audit_retention_days BIGINT NOT NULL DEFAULT 365;

CREATE TABLE audit_checkpoints (
    chain       TEXT PRIMARY KEY,
    upto_id     BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    purged      BIGINT NOT NULL,
    at          BIGINT NOT NULL
);
