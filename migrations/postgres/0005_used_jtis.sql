-- Assertion ids (RFC 7523 `jti`) already used, per client, until the assertion expires.
CREATE TABLE used_jtis (
    key         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX used_jtis_expiry ON used_jtis(expires_at);
