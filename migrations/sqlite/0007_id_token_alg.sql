-- The algorithm of an app's ID tokens (OIDC `id_token_signed_response_alg`): RS256, the
-- default OpenID Connect gives clients, or ES256.
ALTER TABLE apps ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT 'RS256';
