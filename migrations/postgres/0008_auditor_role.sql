-- The auditor role: reads everything, the audit log included, and changes nothing.
ALTER TABLE memberships DROP CONSTRAINT memberships_role_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_role_check CHECK (role IN ('admin', 'auditor', 'member'));
