-- Passkeys (WebAuthn, issue 12): several per user, each named. The credential (public key,
-- counter, flags) is kept as webauthn-rs serializes it; its id is unique across users (a
-- credential registered to one account is never registered to another). The counter only
-- grows (a lower one says the authenticator was cloned); synced says the credential is
-- backed up by its provider (RFC 8176 calls it software-secured, swk, not hwk).
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    credential    TEXT NOT NULL,
    counter       BIGINT NOT NULL DEFAULT 0,
    synced        BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);
