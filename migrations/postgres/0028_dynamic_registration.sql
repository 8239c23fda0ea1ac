-- Dynamic client registration (RFC 7591) and management (RFC 7592). An organization's admin
-- issues initial access tokens: each allows a number of registrations until it expires,
-- into the organization or one of its business groups, of apps with at most its scopes
-- and grant types. A registered app remembers the token it came by and keeps the digest
-- of its registration access token (read, update, delete its own registration).
CREATE TABLE initial_access_tokens (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id    TEXT,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    uses_left   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX initial_access_tokens_org ON initial_access_tokens(org_id);

ALTER TABLE apps ADD COLUMN registered_by TEXT;
ALTER TABLE apps ADD COLUMN registration_digest TEXT;
