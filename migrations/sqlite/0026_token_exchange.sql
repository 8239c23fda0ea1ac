-- Token exchange (RFC 8693): the APIs (identifiers, space-separated) an app may exchange a
-- user's access token for; empty for every app until an admin names them.
ALTER TABLE apps ADD COLUMN exchange_audiences TEXT NOT NULL DEFAULT '';
