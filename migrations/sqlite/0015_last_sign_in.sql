-- When a user last signed in (the users list shows it); NULL until the next sign-in. Before
-- this, the newest successful sign-in in the audit log is the best record there is.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
UPDATE users SET last_sign_in_at = (
    SELECT MAX(a.at) FROM audit_events a
    WHERE a.action = 'login' AND a.outcome = 'success' AND a.actor_type = 'user' AND a.actor_id = users.id
);
