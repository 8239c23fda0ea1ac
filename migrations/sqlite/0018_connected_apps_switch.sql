-- An organization's switch for connected apps: off, no app gets a token in it and every
-- token in it is inactive at once; nothing is deleted, and turning it on restores them.
ALTER TABLE organizations ADD COLUMN apps_enabled INTEGER NOT NULL DEFAULT 1;
