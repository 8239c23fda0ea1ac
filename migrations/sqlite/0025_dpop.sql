-- DPoP (RFC 9449): an app may require sender-constrained tokens; an authorization request
-- may name the key its code must be redeemed with (dpop_jkt); a public client's refresh
-- token is bound to the key that obtained it (jkt, the RFC 7638 thumbprint).
ALTER TABLE apps ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;
