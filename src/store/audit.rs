use serde::Serialize;
use sqlx::{AnyExecutor, Row};

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub org_id: Option<String>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_label: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

/// Most records one INSERT statement carries (14 parameters each).
const INSERT_ROWS: usize = 64;

/// The hash that chains `a` to `prev` (hex SHA-256 of the canonical JSON of both).
pub fn chain_hash(prev: &str, a: &AuditRow) -> String {
    use sha2::{Digest, Sha256};
    let canonical = serde_json::json!([
        prev,
        a.at,
        a.org_id,
        a.actor_type,
        a.actor_id,
        a.actor_label,
        a.action,
        a.object_type,
        a.object_id,
        a.outcome,
        a.ip,
        a.user_agent,
        a.detail
    ]);
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Appends records, each chained to the previous one of its organization. Must run in a
/// transaction: each chain's head is locked (a write) before it is read, so concurrent
/// writers, on any instance, append one after the other.
pub async fn insert(conn: &mut sqlx::AnyConnection, rows: &[AuditRow]) -> Result<(), sqlx::Error> {
    let mut chains: Vec<&str> = rows
        .iter()
        .map(|r| r.org_id.as_deref().unwrap_or(""))
        .collect();
    chains.sort_unstable();
    chains.dedup();
    for chain in chains {
        sqlx::query("INSERT INTO audit_heads (chain, last_hash) VALUES ($1, '') ON CONFLICT (chain) DO NOTHING")
            .bind(chain)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE audit_heads SET chain = chain WHERE chain = $1")
            .bind(chain)
            .execute(&mut *conn)
            .await?;
        let mut prev: String = sqlx::query("SELECT last_hash FROM audit_heads WHERE chain = $1")
            .bind(chain)
            .fetch_one(&mut *conn)
            .await?
            .try_get("last_hash")?;
        let mut links = Vec::new();
        for a in rows
            .iter()
            .filter(|r| r.org_id.as_deref().unwrap_or("") == chain)
        {
            let hash = chain_hash(&prev, a);
            links.push((a, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        // Many rows per statement: a busy token endpoint writes a whole batch at once.
        for part in links.chunks(INSERT_ROWS) {
            let values: Vec<String> = (0..part.len())
                .map(|i| {
                    let n: Vec<String> = (1..=14).map(|k| format!("${}", i * 14 + k)).collect();
                    format!("({})", n.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_events (at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, prev_hash, hash) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (a, prev, hash) in part {
                q = q
                    .bind(a.at)
                    .bind(&a.org_id)
                    .bind(&a.actor_type)
                    .bind(&a.actor_id)
                    .bind(&a.actor_label)
                    .bind(&a.action)
                    .bind(&a.object_type)
                    .bind(&a.object_id)
                    .bind(&a.outcome)
                    .bind(&a.ip)
                    .bind(&a.user_agent)
                    .bind(&a.detail)
                    .bind(prev)
                    .bind(hash);
            }
            q.execute(&mut *conn).await?;
        }
        sqlx::query("UPDATE audit_heads SET last_hash = $1 WHERE chain = $2")
            .bind(&prev)
            .bind(chain)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One link of a chain as stored, for verification.
pub struct Link {
    pub row: AuditRow,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// The records of one chain (`''` for no organization) after `after_id`, oldest first.
pub async fn chain_page<'c>(
    e: impl AnyExecutor<'c>,
    chain: &str,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Link>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, prev_hash, hash \
         FROM audit_events WHERE COALESCE(org_id, '') = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(chain)
    .bind(after_id)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Link {
                row: row_from(r)?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        })
        .collect()
}

/// The last hash of a chain, if it has one.
pub async fn head<'c>(e: impl AnyExecutor<'c>, chain: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT last_hash FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_optional(e)
        .await?
        .map(|r| r.try_get("last_hash"))
        .transpose()
}

/// The chains there are: every organization with records, and `''`.
pub async fn chains<'c>(e: impl AnyExecutor<'c>) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT COALESCE(org_id, '') AS chain FROM audit_events ORDER BY chain",
    )
    .fetch_all(e)
    .await?;
    rows.iter().map(|r| r.try_get("chain")).collect()
}

fn row_from(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        org_id: r.try_get("org_id")?,
        actor_type: r.try_get("actor_type")?,
        actor_id: r.try_get("actor_id")?,
        actor_label: r.try_get("actor_label")?,
        action: r.try_get("action")?,
        object_type: r.try_get("object_type")?,
        object_id: r.try_get("object_id")?,
        outcome: r.try_get("outcome")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        detail: r.try_get("detail")?,
    })
}

/// The newest records of one organization, newest first.
pub async fn list<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail \
         FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.iter().map(row_from).collect()
}
