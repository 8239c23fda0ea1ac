-- Business groups and environments (Anypoint's contexts). The organization is the root
-- business group: its id is the root's id, so a group's parent_id is the organization's id
-- for the groups right below the root. Every group, the root included, has environments.
CREATE TABLE business_groups (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    parent_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX business_groups_org ON business_groups(org_id);

CREATE TABLE environments (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('production', 'sandbox', 'design')),
    created_at  BIGINT NOT NULL,
    UNIQUE (group_id, name)
);
CREATE INDEX environments_org ON environments(org_id);
INSERT INTO environments (id, org_id, group_id, name, kind, created_at)
    SELECT 'env-' || id || '-production', id, id, 'Production', 'production', created_at FROM organizations;
INSERT INTO environments (id, org_id, group_id, name, kind, created_at)
    SELECT 'env-' || id || '-sandbox', id, id, 'Sandbox', 'sandbox', created_at FROM organizations;

-- Where an app lives: a business group (NULL: the root) and, optionally, one environment.
ALTER TABLE apps ADD COLUMN group_id TEXT;
ALTER TABLE apps ADD COLUMN env_id TEXT;

-- An own-behalf app's scopes hold only where assigned: in a business group (env_id '': the
-- group as a whole, its environments and the groups below it) or in one environment.
CREATE TABLE scope_assignments (
    client_id  TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    env_id     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (client_id, scope, group_id, env_id)
);
CREATE INDEX scope_assignments_place ON scope_assignments(group_id, env_id);

-- A user's role in a business group (inherited by the groups below unless overridden) or in
-- one environment. The membership's role is the role at the root.
CREATE TABLE group_roles (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL,
    env_id      TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'auditor', 'member')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, env_id, user_id)
);
CREATE INDEX group_roles_user ON group_roles(org_id, user_id);

-- What own-behalf apps were allowed held in the whole organization: so it stays.
INSERT INTO scope_assignments (client_id, scope, group_id, env_id)
    SELECT DISTINCT a.client_id, s.word, a.org_id, ''
    FROM apps a, regexp_split_to_table(a.scopes, '\s+') AS s(word)
    WHERE a.kind = 'own-behalf' AND s.word <> '';
