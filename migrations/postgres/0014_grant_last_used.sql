-- When an app last got tokens under a grant (code exchange, refresh, password or JWT
-- bearer); NULL until the first. Before this, the last refresh token's creation is the best
-- record there is, and a grant made by a token request was used when it was made.
ALTER TABLE grants ADD COLUMN last_used_at BIGINT;
UPDATE grants SET last_used_at = COALESCE(
    (SELECT MAX(r.created_at) FROM refresh_tokens r WHERE r.grant_id = grants.id),
    CASE WHEN grant_type <> 'authorization_code' THEN created_at END
);
