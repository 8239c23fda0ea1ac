-- First-party apps (issue 11): an admin may mark an internal app acting for users as
-- trusted, so its organization's users are not asked to consent. Never for apps open to
-- everyone (the services refuse it, and changing the audience clears it).
ALTER TABLE apps ADD COLUMN skip_consent BIGINT NOT NULL DEFAULT 0;

-- The business group and environment an audit record concerns, for the viewer's filters.
-- Derived from the record's detail (`business_group`, `environment`), which the hash
-- covers, like app_id and user_id.
ALTER TABLE audit_events ADD COLUMN group_id TEXT;
ALTER TABLE audit_events ADD COLUMN env_id TEXT;
UPDATE audit_events SET group_id = detail::jsonb ->> 'business_group',
                        env_id = detail::jsonb ->> 'environment'
    WHERE detail LIKE '%"business_group"%' AND jsonb_typeof(detail::jsonb -> 'business_group') = 'string';
CREATE INDEX audit_events_group ON audit_events(org_id, group_id, at, id) WHERE group_id IS NOT NULL;

-- Whether a user already holds a live grant of an app (the authorized-apps limit asks it at
-- every authorization): one index range instead of every grant of the user.
CREATE INDEX grants_user_client ON grants(user_id, client_id);
