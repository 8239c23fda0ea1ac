//! Audit events: written in the same transaction as the change they record, or, for the
//! protocol endpoints' high rates, through the group-commit writer `AuditLog`.

use serde_json::Value;

use super::principal::{Principal, READ_APPS, READ_AUDIT};
use crate::domain::audit::{AuditFilter, EXPORT_MAX};
use crate::domain::context::Place;
use crate::domain::views::{AuditChoices, AuditPage, AuditView, HourCount, OrgActivity};
use crate::store::{
    self, Db,
    audit::{AuditRow, PlaceMatch},
};

/// Who did something.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// A signed-in user (admin portal, login page).
    User { id: String, email: String },
    /// Someone not yet identified (a failed login).
    Anonymous,
    /// The command line on the server.
    Cli,
    /// The server itself (bootstrap).
    System,
    /// A connected app, by its client id (token requests).
    App { client_id: String },
    /// An app registering itself, or managing its registration (RFC 7591/7592), by the
    /// initial access token that allowed it.
    Registration { token_id: String },
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<String>, Option<String>) {
        match self {
            Actor::User { id, email } => ("user", Some(id.clone()), Some(email.clone())),
            Actor::Anonymous => ("anonymous", None, None),
            Actor::Cli => ("cli", None, Some("cli".into())),
            Actor::System => ("system", None, Some("system".into())),
            Actor::App { client_id } => ("app", Some(client_id.clone()), Some(client_id.clone())),
            Actor::Registration { token_id } => (
                "registration",
                Some(token_id.clone()),
                Some("dynamic registration".into()),
            ),
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The actor of a call and where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            meta: RequestMeta::default(),
        }
    }

    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            meta: RequestMeta::default(),
        }
    }
}

/// One event to record.
pub struct Event<'a> {
    pub org_id: Option<&'a str>,
    pub action: &'static str,
    pub object: (&'static str, &'a str),
    pub success: bool,
    pub detail: Value,
}

const MAX_UA: usize = 300;

/// Appends an event to its organization's chain, inside the caller's transaction.
pub async fn record(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    ev: Event<'_>,
) -> Result<(), sqlx::Error> {
    store::audit::insert(conn, &[row_of(caller, ev)]).await
}

/// Appends an event in a transaction of its own.
pub async fn record_alone(db: &Db, caller: &Caller, ev: Event<'_>) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    record(&mut tx, caller, ev).await?;
    tx.commit().await
}

/// What `verify` found in one chain.
#[derive(Debug, serde::Serialize)]
pub struct ChainReport {
    /// The organization id ('' for records of no organization).
    pub chain: String,
    pub records: u64,
    /// Where the chain first breaks: `record N` (changed, inserted or a record before it
    /// removed), or `end` (the newest records were removed). None when intact.
    pub first_broken: Option<String>,
}

/// Recomputes every chain (or `org_id`'s) and reports the first broken link of each.
/// Records written before the chain existed (no hash) are skipped.
pub async fn verify(db: &Db, org_id: Option<&str>) -> super::Result<Vec<ChainReport>> {
    let chains = match org_id {
        Some(o) => vec![o.to_string()],
        None => store::audit::chains(&db.pool).await?,
    };
    let mut reports = Vec::new();
    for chain in chains {
        // A purged chain starts again at its checkpoint: the hash of the last record removed.
        let start = store::audit::checkpoint(&db.pool, &chain).await?;
        let (mut prev, mut after) = start.map_or((String::new(), 0), |c| (c.hash, c.upto_id));
        let (mut records, mut broken) = (0u64, None);
        'pages: loop {
            let page = store::audit::chain_page(&db.pool, &chain, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.row.id;
            for link in page {
                let Some(hash) = link.hash else { continue };
                records += 1;
                if link.prev_hash.as_deref() != Some(prev.as_str())
                    || store::audit::chain_hash(&prev, &link.row) != hash
                {
                    broken = Some(format!("record {}", link.row.id));
                    break 'pages;
                }
                prev = hash;
            }
        }
        if broken.is_none() {
            let head = store::audit::head(&db.pool, &chain).await?;
            if head.is_some_and(|h| h != prev) {
                broken = Some("end".into());
            }
        }
        reports.push(ChainReport {
            chain,
            records,
            first_broken: broken,
        });
    }
    Ok(reports)
}

fn row_of(caller: &Caller, ev: Event<'_>) -> AuditRow {
    let (actor_type, actor_id, actor_label) = caller.actor.parts();
    // The app and the user the record concerns, for the viewer's filters.
    let app_id = match (ev.object, &caller.actor) {
        (("app", id), _) => Some(id.to_string()),
        (_, Actor::App { client_id }) => Some(client_id.clone()),
        _ => None,
    };
    let user_id = match (ev.object, ev.detail.get("user_id").and_then(Value::as_str)) {
        (("user", id), _) => Some(id.to_string()),
        (_, Some(id)) => Some(id.to_string()),
        _ => match &caller.actor {
            Actor::User { id, .. } => Some(id.clone()),
            _ => None,
        },
    };
    // The place it concerns, as its detail names it (the hash covers the detail).
    let text = |key: &str| {
        ev.detail
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    AuditRow {
        app_id,
        user_id,
        group_id: text("business_group"),
        env_id: text("environment"),
        id: 0,
        at: super::now(),
        org_id: ev.org_id.map(str::to_string),
        actor_type: actor_type.to_string(),
        actor_id,
        actor_label,
        action: ev.action.to_string(),
        object_type: Some(ev.object.0.to_string()),
        object_id: Some(ev.object.1.to_string()),
        outcome: if ev.success { "success" } else { "failure" }.to_string(),
        ip: caller.meta.ip.clone(),
        user_agent: caller
            .meta
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(MAX_UA).collect()),
        detail: ev.detail.to_string(),
    }
}

/// Most records one transaction carries.
const MAX_BATCH: usize = 1024;

/// A record to write and whom to tell; no record: a flush, answered once everything queued
/// before it is committed.
type Pending = (Option<AuditRow>, tokio::sync::oneshot::Sender<bool>);

/// The audit writer of the protocol endpoints (group commit): one task writes every record
/// that arrived while the previous transaction committed, in one transaction, then answers
/// each caller. A caller goes on only once its record is committed, so nothing acknowledged
/// is lost, and a busy endpoint costs one commit per batch, not per request.
#[derive(Clone, Debug)]
pub struct AuditLog {
    queue: tokio::sync::mpsc::Sender<Pending>,
}

impl AuditLog {
    pub fn start(db: Db) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::channel::<Pending>(8 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                metrics::gauge!("latchkey_audit_queue_depth").set(rx.len() as f64);
                let started = std::time::Instant::now();
                let ok = match write_batch(&db, &batch).await {
                    Ok(()) => {
                        metrics::histogram!("latchkey_audit_commit_seconds")
                            .record(started.elapsed().as_secs_f64());
                        metrics::histogram!("latchkey_audit_batch_records")
                            .record(batch.len() as f64);
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, records = batch.len(), "audit write failed");
                        false
                    }
                };
                for (_, done) in batch.drain(..) {
                    let _ = done.send(ok);
                }
            }
        });
        Self { queue }
    }

    /// Records an event; `Err` when it could not be committed.
    pub async fn record(&self, caller: &Caller, ev: Event<'_>) -> super::Result<()> {
        let failed = || super::Error::Internal("the audit log is unavailable".into());
        let (done, committed) = tokio::sync::oneshot::channel();
        self.queue
            .send((Some(row_of(caller, ev)), done))
            .await
            .map_err(|_| failed())?;
        match committed.await {
            Ok(true) => Ok(()),
            _ => Err(failed()),
        }
    }

    /// Waits until every record queued so far is committed (graceful shutdown).
    pub async fn flush(&self) -> bool {
        let (done, committed) = tokio::sync::oneshot::channel();
        if self.queue.send((None, done)).await.is_err() {
            return false;
        }
        committed.await.unwrap_or(false)
    }
}

async fn write_batch(db: &Db, batch: &[Pending]) -> Result<(), sqlx::Error> {
    let rows: Vec<AuditRow> = batch.iter().filter_map(|(row, _)| row.clone()).collect();
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    store::audit::insert(&mut tx, &rows).await?;
    tx.commit().await
}

fn view(
    r: AuditRow,
    apps: &std::collections::HashMap<String, String>,
    users: &std::collections::HashMap<String, String>,
) -> AuditView {
    AuditView {
        id: r.id,
        at: r.at,
        actor: r
            .actor_label
            .or_else(|| r.actor_id.clone())
            .unwrap_or_else(|| r.actor_type.clone()),
        actor_id: r.actor_id,
        actor_type: r.actor_type,
        action_words: crate::domain::audit::action_words(&r.action),
        action: r.action,
        object: format!(
            "{} {}",
            r.object_type.unwrap_or_default(),
            r.object_id.unwrap_or_default()
        )
        .trim()
        .to_string(),
        outcome: r.outcome,
        ip: r.ip,
        user_agent: r.user_agent,
        detail: r.detail,
        app_name: r.app_id.as_ref().and_then(|id| apps.get(id).cloned()),
        app_id: r.app_id,
        user_name: r.user_id.as_ref().and_then(|id| users.get(id).cloned()),
        user_id: r.user_id,
    }
}

/// Where the principal reads: the whole organization (`read:audit` there), or, with a
/// business group or environment in the filter, that place (`read:audit` there: a group's
/// auditors and admins read their subtree) with which records concern it. A place of
/// another organization is not found.
async fn readable<'p>(
    db: &Db,
    p: &'p Principal,
    f: &AuditFilter,
) -> super::Result<(&'p str, Option<PlaceMatch>)> {
    if f.business_group.is_none() && f.environment.is_none() {
        return Ok((p.act(READ_AUDIT)?.org_id, None));
    }
    let reach = p.reach(db).await?;
    let group = match (&f.business_group, &f.environment) {
        (Some(g), _) => g.clone(),
        (None, Some(e)) => reach
            .tree
            .group_of_env(e)
            .ok_or(super::Error::NotFound)?
            .to_string(),
        (None, None) => reach.tree.root().to_string(),
    };
    let place = Place {
        group,
        env: f.environment.clone(),
    };
    let org_id = reach.act(p, READ_AUDIT, place.clone())?.org_id;
    if place.env.is_none() && place.group == reach.tree.root() {
        return Ok((org_id, None));
    }
    let groups: Vec<String> = reach
        .tree
        .groups()
        .filter(|g| reach.tree.is_within(g, &place.group))
        .map(str::to_string)
        .collect();
    let apps = store::apps::all(&db.pool, org_id)
        .await?
        .into_iter()
        .filter(|a| {
            let home = a.place();
            match &place.env {
                Some(env) => home.env.as_ref() == Some(env),
                None => groups.contains(&home.group),
            }
        })
        .map(|a| a.client_id.to_string())
        .collect();
    Ok((
        org_id,
        Some(PlaceMatch {
            groups,
            env: place.env,
            apps,
        }),
    ))
}

/// One page of an organization's records matching the filter, newest first, and the
/// cursor of the next (older) page when there is one.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn search(db: &Db, p: &Principal, f: &AuditFilter) -> super::Result<AuditPage> {
    let (org_id, place) = readable(db, p, f).await?;
    let mut rows = store::audit::search(&db.pool, org_id, f, place.as_ref(), f.limit + 1).await?;
    let more = rows.len() as i64 > f.limit;
    rows.truncate(f.limit as usize);
    let ids = |f: fn(&AuditRow) -> &Option<String>| {
        let mut v: Vec<String> = rows.iter().filter_map(|r| f(r).clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (apps, users) =
        store::audit::names(&db.pool, &ids(|r| &r.app_id), &ids(|r| &r.user_id)).await?;
    Ok(AuditPage {
        next: if more {
            rows.last().map(|r| r.id)
        } else {
            None
        },
        items: rows.into_iter().map(|r| view(r, &apps, &users)).collect(),
    })
}

/// The organization's apps and users by name, for the viewer's filters.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn choices(db: &Db, p: &Principal) -> super::Result<AuditChoices> {
    let org_id = p.act(READ_AUDIT)?.org_id;
    let groups = super::contexts::groups_where(db, p, READ_AUDIT).await?;
    let mut apps: Vec<(String, String)> = store::apps::all(&db.pool, org_id)
        .await?
        .into_iter()
        .map(|a| (a.client_id.to_string(), a.name))
        .collect();
    apps.sort_by_key(|a| a.1.to_lowercase());
    let users = store::users::members(&db.pool, org_id)
        .await?
        .into_iter()
        .map(|m| {
            let label = crate::domain::views::person_label(&m.name, &m.email);
            (m.user_id.to_string(), label)
        })
        .collect();
    Ok(AuditChoices {
        apps,
        users,
        groups,
    })
}

/// Every record matching the filter (newest first, at most `EXPORT_MAX`), read in pages.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn export(db: &Db, p: &Principal, f: &AuditFilter) -> super::Result<Vec<AuditRow>> {
    let (org_id, place) = readable(db, p, f).await?;
    const CHUNK: i64 = 2000;
    let mut f = f.clone();
    let mut out = Vec::new();
    loop {
        let page = store::audit::search(&db.pool, org_id, &f, place.as_ref(), CHUNK).await?;
        let done = (page.len() as i64) < CHUNK;
        f.before = page.last().map(|r| r.id);
        out.extend(page);
        if done || out.len() >= EXPORT_MAX {
            out.truncate(EXPORT_MAX);
            return Ok(out);
        }
    }
}

/// The formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

impl ExportFormat {
    pub fn parse(raw: &str) -> Result<Self, crate::domain::FieldError> {
        match raw {
            "" | "csv" => Ok(Self::Csv),
            "ndjson" => Ok(Self::Ndjson),
            _ => Err(crate::domain::FieldError::new(
                "format",
                "must be csv or ndjson",
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Ndjson => "application/x-ndjson",
        }
    }

    /// The records as CSV with a header line, or as one JSON object per line.
    pub fn encode(self, rows: &[AuditRow]) -> super::Result<Vec<u8>> {
        let failed = |e: &dyn std::fmt::Display| {
            super::Error::failed("encoding the export")(e.to_string().into())
        };
        match self {
            Self::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in rows {
                    w.serialize(r).map_err(|e| failed(&e))?;
                }
                let plain = w.into_inner().map_err(|e| failed(&e))?;
                // Every cell again, made inert for spreadsheets (OWASP CSV injection).
                let mut read = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(plain.as_slice());
                let mut w = csv::Writer::from_writer(Vec::new());
                for record in read.records() {
                    let record = record.map_err(|e| failed(&e))?;
                    w.write_record(record.iter().map(|c| inert_cell(c).into_owned()))
                        .map_err(|e| failed(&e))?;
                }
                w.into_inner().map_err(|e| failed(&e))
            }
            Self::Ndjson => {
                let mut out = Vec::new();
                for r in rows {
                    serde_json::to_writer(&mut out, r).map_err(|e| failed(&e))?;
                    out.push(b'\n');
                }
                Ok(out)
            }
        }
    }
}

/// A CSV cell a spreadsheet will not run: one that starts like a formula (`=`, `+`, `-`,
/// `@`, a tab or a carriage return) is prefixed with an apostrophe.
pub fn inert_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The hours of the chart on an app's page: the last 7 days.
pub const CHART_HOURS: i64 = 7 * 24;

/// Tokens issued and refused per hour for one app over the last 7 days, oldest first,
/// every hour present (zero when nothing happened).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn token_chart(db: &Db, p: &Principal, client_id: &str) -> super::Result<Vec<HourCount>> {
    let org_id = super::apps::at_app(db, p, READ_APPS, client_id)
        .await?
        .org_id;
    hours(db, org_id, Some(client_id)).await
}

/// The first hour of the charts.
fn chart_start() -> i64 {
    let this_hour = super::now() / 3600 * 3600;
    this_hour - (CHART_HOURS - 1) * 3600
}

/// Tokens issued and refused per hour over the last 7 days, of one app or (None) all.
async fn hours(db: &Db, org_id: &str, client_id: Option<&str>) -> super::Result<Vec<HourCount>> {
    let first = chart_start();
    let counts = store::audit::token_hours(&db.pool, org_id, client_id, first).await?;
    Ok((0..CHART_HOURS)
        .map(|i| {
            let hour = first + i * 3600;
            let (issued, refused) = counts
                .iter()
                .find(|(h, _, _)| *h == hour)
                .map_or((0, 0), |(_, i, r)| (*i, *r));
            HourCount {
                hour,
                issued,
                refused,
            }
        })
        .collect())
}

/// The organization's token activity over the last 7 days: per hour, refusals by reason
/// and the ten busiest apps.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn org_activity(db: &Db, p: &Principal) -> super::Result<OrgActivity> {
    use crate::domain::audit::REFUSALS;
    let org_id = p.act(READ_APPS)?.org_id;
    let since = chart_start();
    let hours = hours(db, org_id, None).await?;
    let codes: Vec<&str> = REFUSALS.iter().map(|(c, _)| *c).collect();
    let mut refusals: Vec<(String, String, i64)> =
        store::audit::refusals(&db.pool, org_id, since, &codes)
            .await?
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(code, n)| {
                let words = REFUSALS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or(code.clone(), |(_, w)| (*w).to_string());
                (code, words, n)
            })
            .collect();
    refusals.sort_by_key(|r| std::cmp::Reverse(r.2));
    let busiest = store::audit::busiest_apps(&db.pool, org_id, since, 10).await?;
    let ids: Vec<String> = busiest.iter().map(|(id, ..)| id.clone()).collect();
    let (names, _) = store::audit::names(&db.pool, &ids, &[]).await?;
    let apps = busiest
        .into_iter()
        .map(|(id, issued, refused)| {
            let name = names.get(&id).cloned().unwrap_or_else(|| id.clone());
            (id, name, issued, refused)
        })
        .collect();
    Ok(OrgActivity {
        hours,
        refusals,
        apps,
    })
}

/// Removes the records older than each organization's retention, leaving a checkpoint
/// from which the chain still verifies, and records the purge itself. Returns the number
/// of records removed per organization that had any.
pub async fn purge_expired(db: &Db, caller: &Caller) -> super::Result<Vec<(String, i64)>> {
    let t = super::now();
    let mut purged = Vec::new();
    for (org_id, days) in store::orgs::retentions(&db.pool).await? {
        let mut tx = db.begin().await?;
        let removed = store::audit::purge(&mut tx, &org_id, t - days * 86_400, t).await?;
        if removed > 0 {
            record(
                &mut tx,
                caller,
                Event {
                    org_id: Some(&org_id),
                    action: "audit.purged",
                    object: ("org", &org_id),
                    success: true,
                    detail: serde_json::json!({ "removed": removed, "retention_days": days }),
                },
            )
            .await?;
            purged.push((org_id, removed));
        }
        tx.commit().await?;
    }
    Ok(purged)
}
