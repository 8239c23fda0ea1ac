-- Client secret expiry and app usage (issue 11). The hourly job records each secret's
-- "expires soon" and "expired" audit events once, marking the secret in the same
-- transaction (several instances may run it: only the one whose mark lands records it);
-- changing the expiry clears the marks.
ALTER TABLE client_secrets ADD COLUMN expiry_warned_at BIGINT;
ALTER TABLE client_secrets ADD COLUMN expired_noted_at BIGINT;
CREATE INDEX client_secrets_expiry ON client_secrets(expires_at) WHERE expires_at IS NOT NULL;
-- The tokens issued to one app in the last 24 hours and 7 days, counted from this index
-- alone (the app page and the API's app read them on every view).
CREATE INDEX audit_events_app_action ON audit_events(org_id, app_id, action, at);
