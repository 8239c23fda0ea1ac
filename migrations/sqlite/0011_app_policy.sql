-- External-app policy per organization: 'unrestricted' (its users may authorize any app
-- open to everyone) or 'restricted' (only the apps its admins approved, each with the
-- scopes they chose).
ALTER TABLE organizations ADD COLUMN app_policy TEXT NOT NULL DEFAULT 'unrestricted'
    CHECK (app_policy IN ('unrestricted', 'restricted'));

CREATE TABLE app_allowlist (
    org_id       TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scopes       TEXT NOT NULL,
    approved_by  TEXT,
    approved_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, client_id)
);
CREATE INDEX app_allowlist_client ON app_allowlist(client_id);
CREATE INDEX grants_org_client ON grants(org_id, client_id);
