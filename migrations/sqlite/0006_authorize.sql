-- The authorization-code flow. A pending authorization request waits server-side (never in
-- the URL) while the user signs in and consents; consents are remembered per user and app;
-- codes are stored as SHA-256 digests, single use, bound to client, redirect URI and PKCE.
CREATE TABLE auth_requests (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    request     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX auth_requests_expiry ON auth_requests(expires_at);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client ON consents(client_id);

CREATE TABLE auth_codes (
    digest          TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    nonce           TEXT,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
CREATE INDEX auth_codes_expiry ON auth_codes(expires_at);

-- When the user last proved who they are (OIDC auth_time), for ID tokens of the grant.
ALTER TABLE grants ADD COLUMN auth_time INTEGER;
