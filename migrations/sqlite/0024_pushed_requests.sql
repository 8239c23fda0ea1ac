-- Pushed authorization requests (RFC 9126): a client posts its authorization request's
-- parameters, checked as the authorization endpoint checks them, and gets a request_uri
-- that names them. The parameters never travel through the browser; the request_uri is
-- short-lived, bound to its client and spent once. An app may require PAR for every
-- authorization request.
CREATE TABLE pushed_requests (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES apps(client_id) ON DELETE CASCADE,
    params      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX pushed_requests_expiry ON pushed_requests(expires_at);

ALTER TABLE apps ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
