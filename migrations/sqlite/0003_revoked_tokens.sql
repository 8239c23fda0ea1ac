-- Access tokens revoked before their expiry (RFC 7009); kept until they would have expired.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);
