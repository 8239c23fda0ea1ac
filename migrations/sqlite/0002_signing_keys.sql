-- The signing key ring, shared by every instance. Private keys are sealed with the master key.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    alg             TEXT NOT NULL,
    private_sealed  TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    activates_at    INTEGER NOT NULL,
    retired_at      INTEGER
);
