-- An organization's own OpenID Connect provider (issue 12): its people sign in there and
-- come back signed in here. One per organization.
CREATE TABLE identity_providers (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    -- Sealed with the master key.
    client_secret  TEXT NOT NULL,
    -- The e-mail domains the admin declared the organization's (space-separated); each
    -- belongs to one provider only.
    domains        TEXT NOT NULL,
    -- jit: a new address gets an account with default_role; link: existing members only.
    provisioning   TEXT NOT NULL CHECK (provisioning IN ('jit', 'link')),
    default_role   TEXT NOT NULL,
    -- Members with an address in the domains must sign in through the provider.
    required       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);

-- Who an upstream subject is here.
CREATE TABLE external_identities (
    provider_id  TEXT NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX external_identities_user ON external_identities(user_id);
