-- Sign-in beyond one password (issue 12): second factors, the organization's MFA policy,
-- what a grant's sign-in used (amr), verified addresses and single-use e-mailed links.

-- optional | admins | everyone
ALTER TABLE organizations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'optional';

-- When the user proved they receive mail at their address (a link they opened).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;

-- A portal session lives while it carries the user's current epoch: a password reset (and
-- "sign out everywhere", an admin ending the user's sessions) moves it on.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;

-- The authentication methods of the sign-in behind a grant (RFC 8176, space-separated).
ALTER TABLE grants ADD COLUMN amr TEXT;

-- One authenticator app per user. The secret is sealed with the master key; a code's time
-- step is accepted once (last_step only grows).
CREATE TABLE totp_factors (
    user_id       TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- Single-use recovery codes, stored as digests.
CREATE TABLE recovery_codes (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest   TEXT NOT NULL,
    used_at  BIGINT,
    PRIMARY KEY (user_id, digest)
);

-- Links sent by e-mail (password reset, address verification, invitation): the digest of
-- a random token, single-use, short-lived.
CREATE TABLE email_links (
    digest      TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('reset', 'verify', 'invite')),
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX email_links_user ON email_links(user_id, purpose);

-- Whose a portal session is, from where, since and until when it was seen: the user's
-- Security page lists them ("sign out" each, or everywhere else), and an admin ends them.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN signed_in_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id) WHERE user_id IS NOT NULL;
