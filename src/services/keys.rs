//! The signing key ring, kept in the database so every instance signs with the same keys.
//! A rotated-in key is published in JWKS before it signs; a retired key stays published
//! until every token it signed has expired.

use jsonwebtoken::{DecodingKey, EncodingKey};
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet};
use serde_json::Value;

use super::{Error, Result, now};
use crate::crypto::master_key::MasterKey;
use crate::crypto::signing;
use crate::domain::TokenLifetimes;
use crate::store::{self, Db, cache::Change, keys::KeyRow};

/// How long a new key is published before it signs: longer than any JWKS cache we
/// advertise and than the ring's refresh interval.
pub const PUBLISH_AHEAD_SECS: i64 = 10 * 60;
/// How long a retired key stays published: the longest access-token lifetime.
pub const KEEP_AFTER_RETIRE_SECS: i64 = TokenLifetimes::ACCESS_BOUNDS.1;

/// One usable key.
pub struct RingKey {
    pub kid: String,
    pub alg: jsonwebtoken::Algorithm,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
}

/// The keys loaded from the database, and the JWKS document they make (`openidconnect`'s
/// typed key set, as its clients parse it).
pub struct KeyRing {
    pub keys: Vec<RingKey>,
    pub jwks: CoreJsonWebKeySet,
    /// The key of the DPoP nonces (derived from the master key: the same on every instance).
    pub nonce_key: [u8; 32],
}

impl KeyRing {
    /// A published key by id (for verifying our own tokens).
    pub fn by_kid(&self, kid: &str) -> Option<&RingKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The published public JWK of key `kid`.
    pub fn public_jwk(&self, kid: &str) -> Option<&CoreJsonWebKey> {
        use openidconnect::JsonWebKey;
        self.jwks
            .keys()
            .iter()
            .find(|k| k.key_id().is_some_and(|id| id.as_str() == kid))
    }

    /// The key of `alg` that signs at `t`: the newest active one.
    pub fn signing_key(&self, t: i64, alg: jsonwebtoken::Algorithm) -> Option<&RingKey> {
        self.keys
            .iter()
            .filter(|k| k.alg == alg && k.activates_at <= t && k.retired_at.is_none_or(|r| r > t))
            .max_by_key(|k| k.activates_at)
    }
}

fn new_row(master: &MasterKey, alg: &str, activates_at: i64) -> Result<KeyRow> {
    let key = signing::generate(alg).map_err(Error::Internal)?;
    Ok(KeyRow {
        kid: key.kid,
        alg: alg.into(),
        private_sealed: master.seal(&key.pkcs8),
        public_jwk: key.public_jwk.to_string(),
        created_at: now(),
        activates_at,
        retired_at: None,
    })
}

fn decoding_key(jwk: &Value) -> Result<DecodingKey> {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone())
        .map_err(|e| Error::failed("reading a public JWK")(e.into()))?;
    DecodingKey::from_jwk(&jwk)
        .map_err(|e| Error::failed("a verification key from its JWK")(e.into()))
}

/// Creates the first key of each algorithm when the ring has none (at start-up).
pub async fn ensure(db: &Db, master: &MasterKey) -> Result<()> {
    for alg in signing::ALGS {
        if store::keys::count(&db.pool, alg).await? == 0 {
            store::keys::insert(&db.pool, &new_row(master, alg, now())?).await?;
            db.changed(&[Change::Keys]).await?;
        }
    }
    Ok(())
}

/// Adds a key of each algorithm that signs from `now + PUBLISH_AHEAD_SECS`, when the
/// current ones retire. Returns the new key ids and when they start signing.
pub async fn rotate(db: &Db, master: &MasterKey) -> Result<(Vec<String>, i64)> {
    let at = now() + PUBLISH_AHEAD_SECS;
    let mut kids = Vec::new();
    let mut tx = db.begin().await?;
    for alg in signing::ALGS {
        let row = new_row(master, alg, at)?;
        store::keys::retire_all(&mut *tx, alg, at).await?;
        store::keys::insert(&mut *tx, &row).await?;
        kids.push(row.kid);
    }
    db.commit(tx, &[Change::Keys]).await?;
    Ok((kids, at))
}

/// Loads the published keys. A key that cannot be opened with this master key is an error:
/// the instance would otherwise publish keys it cannot use.
pub async fn load(db: &Db, master: &MasterKey) -> Result<KeyRing> {
    let rows = store::keys::published(&db.pool, now() - KEEP_AFTER_RETIRE_SECS).await?;
    let mut keys = Vec::new();
    let mut jwks = Vec::new();
    for row in rows {
        let der = master.open(&row.private_sealed).ok_or_else(|| {
            Error::Internal(format!("signing key {} cannot be opened with this master key (LATCHKEY_MASTER_KEY differs?)", row.kid))
        })?;
        let jwk: Value = serde_json::from_str(&row.public_jwk)
            .map_err(|e| Error::failed("reading a stored JWK")(e.into()))?;
        let decoding = decoding_key(&jwk)?;
        jwks.push(
            serde_json::from_value::<CoreJsonWebKey>(jwk)
                .map_err(|e| Error::failed("publishing a signing key")(e.into()))?,
        );
        let alg = if row.alg == signing::RS256 {
            jsonwebtoken::Algorithm::RS256
        } else {
            jsonwebtoken::Algorithm::ES256
        };
        keys.push(RingKey {
            kid: row.kid,
            alg,
            encoding: signing::encoding_key(&row.alg, &der),
            decoding,
            activates_at: row.activates_at,
            retired_at: row.retired_at,
        });
    }
    Ok(KeyRing {
        keys,
        jwks: CoreJsonWebKeySet::new(jwks),
        nonce_key: master.derive("dpop-nonce"),
    })
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn key(kid: &str, activates_at: i64, retired_at: Option<i64>) -> RingKey {
        let k = signing::generate_es256().unwrap();
        RingKey {
            kid: kid.into(),
            alg: jsonwebtoken::Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(&k.pkcs8),
            decoding: decoding_key(&k.public_jwk).unwrap(),
            activates_at,
            retired_at,
        }
    }

    const ES: jsonwebtoken::Algorithm = jsonwebtoken::Algorithm::ES256;

    #[test]
    fn the_newest_active_key_signs() {
        let ring = KeyRing {
            keys: vec![key("old", 0, Some(100)), key("new", 100, None)],
            jwks: CoreJsonWebKeySet::new(Vec::new()),
            nonce_key: [0; 32],
        };
        assert_eq!(ring.signing_key(50, ES).unwrap().kid, "old");
        assert_eq!(ring.signing_key(99, ES).unwrap().kid, "old");
        assert_eq!(ring.signing_key(100, ES).unwrap().kid, "new");
        assert!(
            KeyRing {
                keys: vec![key("future", 100, None)],
                jwks: CoreJsonWebKeySet::new(Vec::new()),
                nonce_key: [0; 32],
            }
            .signing_key(50, ES)
            .is_none()
        );
    }
}
