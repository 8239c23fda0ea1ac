-- Post-logout redirect URIs are registered apart from the authorization redirect URIs
-- (OpenID Connect RP-Initiated Logout §3.1): logout follows only these, and only with an
-- ID token of the app as hint.
ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
-- The absolute lifetime of a user's grant to the app: past it, refresh tokens stop working
-- and the user signs in again, however often the grant was refreshed (365 days by default).
ALTER TABLE apps ADD COLUMN grant_ttl INTEGER NOT NULL DEFAULT 31536000;
