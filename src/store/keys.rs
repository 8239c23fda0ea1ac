use sqlx::{AnyExecutor, Row};

#[derive(Debug, Clone)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_sealed: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, k: &KeyRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_sealed, public_jwk, created_at, activates_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&k.kid)
    .bind(&k.alg)
    .bind(&k.private_sealed)
    .bind(&k.public_jwk)
    .bind(k.created_at)
    .bind(k.activates_at)
    .bind(k.retired_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Keys not retired before `since`, oldest first.
pub async fn published<'c>(
    e: impl AnyExecutor<'c>,
    since: i64,
) -> Result<Vec<KeyRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kid, alg, private_sealed, public_jwk, created_at, activates_at, retired_at FROM signing_keys \
         WHERE retired_at IS NULL OR retired_at > $1 ORDER BY activates_at, kid",
    )
    .bind(since)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(KeyRow {
                kid: r.try_get("kid")?,
                alg: r.try_get("alg")?,
                private_sealed: r.try_get("private_sealed")?,
                public_jwk: r.try_get("public_jwk")?,
                created_at: r.try_get("created_at")?,
                activates_at: r.try_get("activates_at")?,
                retired_at: r.try_get("retired_at")?,
            })
        })
        .collect()
}

/// How many keys of `alg` the ring has ever had.
pub async fn count<'c>(e: impl AnyExecutor<'c>, alg: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM signing_keys WHERE alg = $1")
        .bind(alg)
        .fetch_one(e)
        .await?
        .try_get("n")
}

/// Retires, at `at`, every key of `alg` that is not retired yet.
pub async fn retire_all<'c>(
    e: impl AnyExecutor<'c>,
    alg: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE alg = $2 AND retired_at IS NULL")
        .bind(at)
        .bind(alg)
        .execute(e)
        .await?;
    Ok(())
}
