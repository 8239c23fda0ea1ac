-- Organizations, users, memberships, connected apps, secrets, audit, sessions, throttling.
-- Times are Unix seconds (BIGINT); booleans are 0/1; lists are space- or newline-separated text.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE apps (
    client_id          TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('on-behalf-of-user', 'own-behalf')),
    grant_types        TEXT NOT NULL,
    redirect_uris      TEXT NOT NULL,
    website_url        TEXT,
    audience           TEXT NOT NULL CHECK (audience IN ('internal', 'everyone')),
    scopes             TEXT NOT NULL,
    access_token_ttl   BIGINT NOT NULL,
    refresh_token_ttl  BIGINT NOT NULL,
    enabled            BIGINT NOT NULL,
    owner_id           TEXT REFERENCES users(id) ON DELETE SET NULL,
    public_client      BIGINT NOT NULL,
    public_keys        TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE client_secrets (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    digest        TEXT NOT NULL UNIQUE,
    hint          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX client_secrets_client ON client_secrets(client_id);

CREATE TABLE audit_events (
    id           BIGSERIAL PRIMARY KEY,
    at           BIGINT NOT NULL,
    org_id       TEXT,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT,
    actor_label  TEXT,
    action       TEXT NOT NULL,
    object_type  TEXT,
    object_id    TEXT,
    outcome      TEXT NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    detail       TEXT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(org_id, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    data         TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE login_throttle (
    key            TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    last_failure   BIGINT NOT NULL
);
