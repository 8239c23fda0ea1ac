-- Tamper-evident audit: each record carries the SHA-256 of its content chained to the
-- previous record of the same organization (`chain` is the organization id, or '' for
-- records of no organization); `audit_heads` holds each chain's last hash, and is locked
-- while a record is appended so chains stay linear across instances.
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE TABLE audit_heads (
    chain      TEXT PRIMARY KEY,
    last_hash  TEXT NOT NULL
);
