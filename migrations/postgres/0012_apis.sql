-- Custom APIs (resource servers) an organization registers: the identifier its tokens carry
-- as audience (RFC 8707 resource), and the scopes it defines, one per line with its plain
-- words ("orders:read Read your orders").
CREATE TABLE apis (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    identifier  TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX apis_org ON apis(org_id);
