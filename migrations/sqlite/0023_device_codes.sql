-- The device authorization grant (RFC 8628). The device code is stored as its SHA-256 digest
-- (the device holds the value); the user code is short, typed by a person, unique while it
-- may be typed. A code waits (pending), is answered (approved with its grant, or denied),
-- and is spent once (used). Polls are paced by compare-and-set on last_polled_at.
CREATE TABLE device_codes (
    id              TEXT PRIMARY KEY,
    digest          TEXT NOT NULL UNIQUE,
    user_code       TEXT NOT NULL UNIQUE,
    client_id       TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scopes          TEXT NOT NULL,
    status          TEXT NOT NULL,
    poll_interval   INTEGER NOT NULL,
    last_polled_at  INTEGER,
    grant_id        TEXT REFERENCES grants(id) ON DELETE CASCADE,
    user_id         TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);
CREATE INDEX device_codes_expiry ON device_codes(expires_at);
