-- OpenID Connect Back-Channel Logout 1.0. A browser session has a stable, public id (sid)
-- that ID tokens carry; the grants a session started remember it, so when the session ends
-- (signed out, ended from the security page or by an admin) each app it signed into that
-- registered a back-channel logout URI is sent a signed logout token. Deliveries wait in a
-- bounded queue and are retried with growing delays, claimed one at a time so several
-- instances never send the same one twice at once.
ALTER TABLE sessions ADD COLUMN sid TEXT;
ALTER TABLE grants ADD COLUMN sid TEXT;
CREATE INDEX grants_sid ON grants(sid);
ALTER TABLE apps ADD COLUMN backchannel_logout_uri TEXT;

CREATE TABLE logout_deliveries (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    sub             TEXT NOT NULL,
    sid             TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    outcome         TEXT,
    last_error      TEXT
);
CREATE INDEX logout_deliveries_due ON logout_deliveries(finished_at, next_attempt_at);
CREATE INDEX logout_deliveries_client ON logout_deliveries(client_id, finished_at);
