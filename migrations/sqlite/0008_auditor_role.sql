-- The auditor role: reads everything, the audit log included, and changes nothing.
-- SQLite cannot alter a CHECK constraint: the table is rebuilt (nothing references it).
CREATE TABLE memberships_new (
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'auditor', 'member')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
INSERT INTO memberships_new (org_id, user_id, role, created_at)
    SELECT org_id, user_id, role, created_at FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE INDEX memberships_user ON memberships(user_id);
