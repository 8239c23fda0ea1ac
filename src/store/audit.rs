use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use crate::domain::audit::{ActionMatch, AuditFilter};

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    /// Unix seconds; exported as ISO 8601 (`2026-11-26T10:30:15Z`).
    #[serde(serialize_with = "iso8601")]
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
    /// The app the record concerns (derived from actor and object; not part of the hash).
    pub app_id: Option<String>,
    /// The user the record concerns.
    pub user_id: Option<String>,
    /// The business group and environment the record concerns (from the detail's
    /// `business_group` and `environment`; not part of the hash, the detail is).
    pub group_id: Option<String>,
    pub env_id: Option<String>,
}

/// Which records a business group or environment filter keeps: those that name one of
/// `groups` (the group and those below it) or `env`, and those of the apps living there.
#[derive(Debug, Clone, Default)]
pub struct PlaceMatch {
    pub groups: Vec<String>,
    pub env: Option<String>,
    pub apps: Vec<String>,
}

fn iso8601<S: serde::Serializer>(at: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::domain::when::iso8601(*at))
}

/// The columns of one record as inserted.
const INSERT_COLS: usize = 18;
/// Most records one INSERT statement carries.
const INSERT_ROWS: usize = 50;

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
                    let n: Vec<String> = (1..=INSERT_COLS)
                        .map(|k| format!("${}", i * INSERT_COLS + k))
                        .collect();
                    format!("({})", n.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_events (at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, app_id, user_id, group_id, env_id, prev_hash, hash) VALUES {}",
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
                    .bind(&a.app_id)
                    .bind(&a.user_id)
                    .bind(&a.group_id)
                    .bind(&a.env_id)
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
        "SELECT id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, app_id, user_id, group_id, env_id, prev_hash, hash \
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
        app_id: r.try_get("app_id")?,
        user_id: r.try_get("user_id")?,
        group_id: r.try_get("group_id")?,
        env_id: r.try_get("env_id")?,
    })
}

const COLUMNS: &str = "id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail, app_id, user_id, group_id, env_id";

enum Arg {
    Int(i64),
    Text(String),
}

/// A query being built: its text and its arguments, numbered as they are added.
struct Query {
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    /// Appends `part`, whose `?` stands for `arg`.
    fn cond(&mut self, part: &str, arg: Arg) {
        self.args.push(arg);
        self.sql
            .push_str(&part.replace('?', &format!("${}", self.args.len())));
    }

    /// Appends ` OR column IN (…)` (` AND (column IN (…)` when `first`); nothing for none.
    fn any_of(&mut self, column: &str, values: &[String], first: bool) {
        for (i, v) in values.iter().enumerate() {
            let open = match (i, first) {
                (0, true) => format!(" AND ({column} IN (?"),
                (0, false) => format!(" OR {column} IN (?"),
                _ => ", ?".to_string(),
            };
            self.cond(&open, Arg::Text(v.clone()));
        }
        if !values.is_empty() {
            self.sql.push(')');
        }
    }
}

/// One organization's records matching `f` (and `place`), newest first (by time, then id),
/// older than the cursor `f.before`, at most `limit`. Each filter is served by an index
/// ending in (at, id), so a page reads an index range whatever the filter's width.
pub async fn search<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    f: &AuditFilter,
    place: Option<&PlaceMatch>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let mut q = Query {
        sql: format!("SELECT {COLUMNS} FROM audit_events WHERE org_id = $1"),
        args: vec![Arg::Text(org_id.to_string())],
    };
    if let Some(t) = f.from {
        q.cond(" AND at >= ?", Arg::Int(t));
    }
    if let Some(t) = f.to {
        q.cond(" AND at < ?", Arg::Int(t));
    }
    if let Some(app) = &f.app {
        q.cond(" AND app_id = ?", Arg::Text(app.clone()));
    }
    if let Some(user) = &f.user {
        // Records about the user, and records of what the user did.
        q.cond(" AND (user_id = ?", Arg::Text(user.clone()));
        q.cond(
            " OR (actor_type = 'user' AND actor_id = ?))",
            Arg::Text(user.clone()),
        );
    }
    if let Some(place) = place {
        let (column, values) = match &place.env {
            Some(env) => ("env_id", std::slice::from_ref(env)),
            None => ("group_id", place.groups.as_slice()),
        };
        if values.is_empty() && place.apps.is_empty() {
            q.sql.push_str(" AND 1 = 0");
        } else {
            q.any_of(column, values, true);
            q.any_of("app_id", &place.apps, values.is_empty());
            q.sql.push(')');
        }
    }
    match &f.action {
        Some(ActionMatch::Exact(a)) => q.cond(" AND action = ?", Arg::Text(a.clone())),
        // A family is matched on the time index (the action index would sort every match).
        Some(ActionMatch::Prefix(p)) => q.cond(
            &format!(" AND substr(action, 1, {}) = ?", p.chars().count()),
            Arg::Text(p.clone()),
        ),
        None => {}
    }
    if let Some(ok) = f.success {
        q.cond(
            " AND outcome = ?",
            Arg::Text(if ok { "success" } else { "failure" }.into()),
        );
    }
    if let Some(b) = f.before {
        // Older than the cursor's record: earlier, or as early and written before it (a row
        // comparison, which both databases read as one index range).
        q.cond(
            " AND (at, id) < ((SELECT c.at FROM audit_events c WHERE c.id = ? AND c.org_id = $1), ?)",
            Arg::Int(b),
        );
    }
    q.cond(" ORDER BY at DESC, id DESC LIMIT ?", Arg::Int(limit));
    let mut query = sqlx::query(&q.sql);
    for a in q.args {
        query = match a {
            Arg::Int(n) => query.bind(n),
            Arg::Text(t) => query.bind(t),
        };
    }
    let rows = query.fetch_all(e).await?;
    rows.iter().map(row_from).collect()
}

/// Token issuance per hour of one app since `since`: (hour start, issued, refused).
pub async fn token_hours<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: Option<&str>,
    since: i64,
) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    // One app's chart reads the app index; the organization's the time index.
    let app = if client_id.is_some() {
        "AND app_id = $3"
    } else {
        ""
    };
    let sql = format!(
        "SELECT (at / 3600) * 3600 AS hour, \
                SUM(CASE WHEN action = 'token.issued' THEN 1 ELSE 0 END) AS issued, \
                SUM(CASE WHEN action = 'token.refused' THEN 1 ELSE 0 END) AS refused \
         FROM audit_events WHERE org_id = $1 AND at >= $2 {app} \
           AND action IN ('token.issued', 'token.refused') \
         GROUP BY (at / 3600) * 3600 ORDER BY hour"
    );
    let mut q = sqlx::query(&sql).bind(org_id).bind(since);
    if let Some(id) = client_id {
        q = q.bind(id);
    }
    let rows = q.fetch_all(e).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64, _>("hour")?,
                r.try_get::<i64, _>("issued")?,
                r.try_get::<i64, _>("refused")?,
            ))
        })
        .collect()
}

/// Tokens issued to `client_id` of `org_id` since `day` and since `week` (`day >= week`),
/// counted from the `audit_events_app_action` index alone.
pub async fn tokens_issued<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
    day: i64,
    week: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let r = sqlx::query(
        "SELECT COUNT(CASE WHEN at >= $3 THEN 1 END) AS day, COUNT(*) AS week FROM audit_events \
         WHERE org_id = $1 AND app_id = $2 AND action = 'token.issued' AND at >= $4",
    )
    .bind(org_id)
    .bind(client_id)
    .bind(day)
    .bind(week)
    .fetch_one(e)
    .await?;
    Ok((r.try_get("day")?, r.try_get("week")?))
}

/// Token refusals of `org_id` since `since`, counted per OAuth error code of `codes`
/// (matched in the stored detail, as serde writes it: `"error":"invalid_client"`).
pub async fn refusals<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    since: i64,
    codes: &[&str],
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let sums: Vec<String> = (0..codes.len())
        .map(|i| {
            format!(
                "SUM(CASE WHEN detail LIKE ${} THEN 1 ELSE 0 END) AS c{i}",
                i + 3
            )
        })
        .collect();
    let sql = format!(
        "SELECT {} FROM audit_events WHERE org_id = $1 AND at >= $2 AND action = 'token.refused'",
        sums.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(org_id).bind(since);
    for code in codes {
        q = q.bind(format!("%\"error\":\"{code}\"%"));
    }
    let row = q.fetch_one(e).await?;
    codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // SUM over no rows is NULL.
            let n: Option<i64> = row.try_get(format!("c{i}").as_str())?;
            Ok(((*c).to_string(), n.unwrap_or(0)))
        })
        .collect()
}

/// The apps of `org_id` with the most token requests since `since`: (client id, issued,
/// refused), busiest first.
pub async fn busiest_apps<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT app_id, \
                SUM(CASE WHEN action = 'token.issued' THEN 1 ELSE 0 END) AS issued, \
                SUM(CASE WHEN action = 'token.refused' THEN 1 ELSE 0 END) AS refused \
         FROM audit_events WHERE org_id = $1 AND at >= $2 AND app_id IS NOT NULL \
           AND action IN ('token.issued', 'token.refused') \
         GROUP BY app_id ORDER BY COUNT(*) DESC, app_id LIMIT $3",
    )
    .bind(org_id)
    .bind(since)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("app_id")?,
                r.try_get::<i64, _>("issued")?,
                r.try_get::<i64, _>("refused")?,
            ))
        })
        .collect()
}

/// Where a purged chain starts again: the hash of the last record removed.
#[derive(Debug, Clone, Serialize)]
pub struct Checkpoint {
    pub upto_id: i64,
    pub hash: String,
    pub purged: i64,
    pub at: i64,
}

pub async fn checkpoint<'c>(
    e: impl AnyExecutor<'c>,
    chain: &str,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    let row =
        sqlx::query("SELECT upto_id, hash, purged, at FROM audit_checkpoints WHERE chain = $1")
            .bind(chain)
            .fetch_optional(e)
            .await?;
    row.map(|r| {
        Ok(Checkpoint {
            upto_id: r.try_get("upto_id")?,
            hash: r.try_get("hash")?,
            purged: r.try_get("purged")?,
            at: r.try_get("at")?,
        })
    })
    .transpose()
}

/// Removes the records of one organization written before `cutoff`, oldest first, and
/// moves its checkpoint to the last one removed. Must run in a transaction: the chain's
/// head is locked first, as writers do. Returns how many records were removed.
pub async fn purge(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    cutoff: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("UPDATE audit_heads SET chain = chain WHERE chain = $1")
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    // Records are appended in id order; `at` may step back by a few milliseconds between
    // writers, so the purge removes a prefix of ids: those up to the newest record before
    // the cutoff that has no newer-id record after the cutoff before it.
    let upto: Option<i64> = sqlx::query(
        "SELECT MAX(id) AS upto FROM audit_events WHERE org_id = $1 AND at < $2 \
           AND id < COALESCE((SELECT MIN(id) FROM audit_events WHERE org_id = $1 AND at >= $2), 9223372036854775807)",
    )
    .bind(org_id)
    .bind(cutoff)
    .fetch_one(&mut *conn)
    .await?
    .try_get("upto")?;
    let Some(upto) = upto else { return Ok(0) };
    let last = sqlx::query("SELECT hash FROM audit_events WHERE id = $1")
        .bind(upto)
        .fetch_one(&mut *conn)
        .await?;
    let hash: Option<String> = last.try_get("hash")?;
    let removed = sqlx::query("DELETE FROM audit_events WHERE org_id = $1 AND id <= $2")
        .bind(org_id)
        .bind(upto)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    let before = checkpoint(&mut *conn, org_id).await?;
    sqlx::query(
        "INSERT INTO audit_checkpoints (chain, upto_id, hash, purged, at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (chain) DO UPDATE SET upto_id = excluded.upto_id, hash = excluded.hash, purged = excluded.purged, at = excluded.at",
    )
    .bind(org_id)
    .bind(upto)
    .bind(hash.unwrap_or_default())
    .bind(before.map_or(0, |c| c.purged) + removed)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(removed)
}

/// The names of the apps (by client id) and users (by id, as `name <email>`) that some
/// records concern, for the viewer to show names instead of ids.
pub async fn names(
    pool: &sqlx::AnyPool,
    app_ids: &[String],
    user_ids: &[String],
) -> Result<
    (
        std::collections::HashMap<String, String>,
        std::collections::HashMap<String, String>,
    ),
    sqlx::Error,
> {
    fn placeholders(n: usize) -> String {
        (1..=n)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
    let mut apps = std::collections::HashMap::new();
    if !app_ids.is_empty() {
        let sql = format!(
            "SELECT client_id, name FROM apps WHERE client_id IN ({})",
            placeholders(app_ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in app_ids {
            q = q.bind(id);
        }
        for r in q.fetch_all(pool).await? {
            apps.insert(r.try_get("client_id")?, r.try_get("name")?);
        }
    }
    let mut users = std::collections::HashMap::new();
    if !user_ids.is_empty() {
        let sql = format!(
            "SELECT id, name, email FROM users WHERE id IN ({})",
            placeholders(user_ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in user_ids {
            q = q.bind(id);
        }
        for r in q.fetch_all(pool).await? {
            let (name, email): (String, String) = (r.try_get("name")?, r.try_get("email")?);
            users.insert(
                r.try_get("id")?,
                crate::domain::views::person_label(&name, &email),
            );
        }
    }
    Ok((apps, users))
}
