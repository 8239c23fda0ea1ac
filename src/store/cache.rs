//! The hot path's memory: apps by client id (with their secrets' digests), grants, members,
//! external-app policies and approvals, and the set of revoked access tokens. Each map is
//! bounded, and each entry is dropped when what it holds changes, on any instance.
//!
//! Coherence, rule by rule:
//! - A write names what it changed (`Change`) when it commits (`Db::commit`, `Db::changed`).
//!   This instance forgets those entries at once, so it reads its own writes.
//! - On PostgreSQL the change is also sent with `NOTIFY` inside the writing transaction, so
//!   every instance hears it exactly when it is committed (and never for a rolled-back write).
//! - Each instance listens on a connection of its own. While that connection is down the
//!   cache is bypassed (every read goes to the database); once it is back, the cache starts
//!   empty, so nothing missed meanwhile is ever served.
//! - A read that started before an invalidation never leaves what it read behind (the epoch
//!   check in `through`).
//! - Entries also expire after `MAX_AGE`: the bound on anything the rules above cannot see,
//!   such as a command-line process writing to the SQLite file of a running server.
//!
//! On SQLite (one process) the cache is live from the start and invalidation is in-process.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::apps::{App, SecretRow};
use super::contexts::{EnvRow, GroupRow};
use super::grants::Grant;
use super::users::Member;
use super::{Backend, Db};
use crate::domain::Role;
use crate::domain::ScopeSet;
use crate::domain::context::{Place, Tree};

/// The PostgreSQL channel the instances tell each other their changes on.
pub const CHANNEL: &str = "latchkey_cache";
/// The `application_name` of each instance's listening connection.
pub const LISTENER_NAME: &str = "latchkey-cache-listener";
/// The longest an entry is served without being read again.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Entries per map (apps, grants, members...).
const CAPACITY: usize = 50_000;
/// Revoked, unexpired access tokens held in memory; past this, each check asks the database.
const MAX_REVOKED: usize = 200_000;

/// What a committed write changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An app: its settings, state, secrets or keys, or its deletion.
    App(String),
    /// One grant (revoked).
    Grant(String),
    /// Any number of grants at once (an app's, a member's, an organization's).
    Grants,
    /// A user's memberships: joined, left, role changed, deleted.
    User(String),
    /// An organization's external-app policy, its approvals or its connected-apps switch.
    Policy(String),
    /// An access token revoked, until it expires anyway.
    Revoked { jti: String, expires_at: i64 },
    /// The signing key ring.
    Keys,
    /// An organization's business groups, environments or roles given in them.
    Tree(String),
}

impl Change {
    /// One line of a notification's payload.
    pub fn encode(&self) -> String {
        match self {
            Change::App(id) => format!("a:{id}"),
            Change::Grant(id) => format!("g:{id}"),
            Change::Grants => "G".into(),
            Change::User(id) => format!("u:{id}"),
            Change::Policy(org) => format!("p:{org}"),
            Change::Revoked { jti, expires_at } => format!("r:{expires_at}:{jti}"),
            Change::Keys => "k".into(),
            Change::Tree(org) => format!("t:{org}"),
        }
    }

    /// Reads one line of a payload; `None` for anything else (another version's line).
    pub fn decode(line: &str) -> Option<Self> {
        let (tag, rest) = line.split_once(':').unwrap_or((line, ""));
        let id = || (!rest.is_empty()).then(|| rest.to_string());
        Some(match tag {
            "a" => Change::App(id()?),
            "g" => Change::Grant(id()?),
            "G" => Change::Grants,
            "u" => Change::User(id()?),
            "p" => Change::Policy(id()?),
            "r" => {
                let (exp, jti) = rest.split_once(':')?;
                Change::Revoked {
                    jti: (!jti.is_empty()).then(|| jti.to_string())?,
                    expires_at: exp.parse().ok()?,
                }
            }
            "k" => Change::Keys,
            "t" => Change::Tree(id()?),
            _ => return None,
        })
    }
}

/// The payloads announcing `changes`, each under PostgreSQL's 8,000-byte limit.
pub fn payloads(changes: &[Change]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in changes {
        let line = c.encode();
        if !cur.is_empty() && cur.len() + line.len() + 1 > 7_000 {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(&line);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[derive(Clone)]
struct Entry<V> {
    value: V,
    at: Instant,
}

type Map<V> = quick_cache::sync::Cache<String, Entry<V>>;

pub type AppEntry = Arc<(App, Vec<SecretRow>)>;

/// An organization's tree of business groups, with the groups and environments as stored.
pub type TreeEntry = Arc<(Tree, Vec<GroupRow>, Vec<EnvRow>)>;

#[derive(Default)]
struct Revoked {
    jtis: HashMap<String, i64>,
    /// Whether `jtis` holds every revoked, unexpired token (else the database is asked).
    complete: bool,
}

/// The cache of one instance (see the module's rules).
pub struct Cache {
    live: AtomicBool,
    epoch: AtomicU64,
    restarts: AtomicU64,
    apps: Map<Option<AppEntry>>,
    /// An own-behalf app's scope assignments (changed with `Change::App`).
    assignments: Map<Arc<Vec<(String, Place)>>>,
    grants: Map<Option<Arc<Grant>>>,
    members: Map<Option<Arc<Member>>>,
    memberships: Map<Arc<Vec<(String, String)>>>,
    policies: Map<Option<Arc<str>>>,
    /// Whether an organization's connected apps are on (changed with `Change::Policy`).
    apps_on: Map<bool>,
    /// An organization's multi-factor policy (changed with `Change::Policy`).
    mfa: Map<crate::domain::mfa::MfaPolicy>,
    approvals: Map<Option<ScopeSet>>,
    /// Each organization's tree (changed with `Change::Tree`).
    trees: Map<TreeEntry>,
    /// A user's roles in the business groups of an organization, by `org\nuser` (changed
    /// with `Change::Tree` of the organization and `Change::User` of the user).
    roles: Map<Arc<Vec<(Place, Role)>>>,
    revoked: RwLock<Revoked>,
    keys: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("live", &self.live.load(SeqCst))
            .field("apps", &self.apps.len())
            .field("grants", &self.grants.len())
            .finish_non_exhaustive()
    }
}

impl Default for Cache {
    fn default() -> Self {
        Self {
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            apps: Map::new(CAPACITY),
            assignments: Map::new(CAPACITY),
            grants: Map::new(CAPACITY),
            members: Map::new(CAPACITY),
            memberships: Map::new(CAPACITY),
            policies: Map::new(CAPACITY),
            apps_on: Map::new(CAPACITY),
            mfa: Map::new(CAPACITY),
            approvals: Map::new(CAPACITY),
            trees: Map::new(CAPACITY),
            roles: Map::new(CAPACITY),
            revoked: RwLock::new(Revoked::default()),
            keys: tokio::sync::watch::channel(0).0,
        }
    }
}

fn pair(a: &str, b: &str) -> String {
    format!("{a}\n{b}")
}

impl Cache {
    /// Whether entries are being served (false until the listener is connected, and while
    /// it is not).
    pub fn is_live(&self) -> bool {
        self.live.load(SeqCst)
    }

    /// How many times the cache started over (a (re)connection of the listener).
    pub fn restarts(&self) -> u64 {
        self.restarts.load(SeqCst)
    }

    /// A receiver told each time the key ring changes (or may have, after a reconnection).
    pub fn keys_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.keys.subscribe()
    }

    /// Reads `key` of `map`, or loads it and keeps it unless an invalidation came meanwhile.
    async fn through<V, F, Fut>(
        &self,
        map: &Map<V>,
        name: &'static str,
        key: String,
        load: F,
    ) -> Result<V, sqlx::Error>
    where
        V: Clone,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, sqlx::Error>>,
    {
        if self.is_live()
            && let Some(e) = map.get(&key)
            && e.at.elapsed() < MAX_AGE
        {
            metrics::counter!("latchkey_cache_hits_total", "cache" => name).increment(1);
            return Ok(e.value);
        }
        metrics::counter!("latchkey_cache_misses_total", "cache" => name).increment(1);
        let epoch = self.epoch.load(SeqCst);
        let value = load().await?;
        if self.is_live() && self.epoch.load(SeqCst) == epoch {
            map.insert(
                key.clone(),
                Entry {
                    value: value.clone(),
                    at: Instant::now(),
                },
            );
            // An invalidation between the check and the insert bumped the epoch first:
            // take the entry out again (the invalidation may have run before the insert).
            if self.epoch.load(SeqCst) != epoch {
                map.remove(&key);
            }
        }
        Ok(value)
    }

    /// Forgets what `change` names (and, for a revocation, remembers the token).
    pub fn apply(&self, change: &Change) {
        self.epoch.fetch_add(1, SeqCst);
        let kind = match change {
            Change::App(id) => {
                self.apps.remove(id);
                self.assignments.remove(id);
                "app"
            }
            Change::Grant(id) => {
                self.grants.remove(id);
                "grant"
            }
            Change::Grants => {
                self.grants.clear();
                "grants"
            }
            Change::User(id) => {
                self.memberships.remove(id);
                let suffix = format!("\n{id}");
                self.members.retain(|k, _| !k.ends_with(&suffix));
                self.roles.retain(|k, _| !k.ends_with(&suffix));
                "user"
            }
            Change::Policy(org) => {
                self.policies.remove(org);
                self.apps_on.remove(org);
                self.mfa.remove(org);
                let prefix = format!("{org}\n");
                self.approvals.retain(|k, _| !k.starts_with(&prefix));
                "policy"
            }
            Change::Revoked { jti, expires_at } => {
                let mut r = self
                    .revoked
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                r.jtis.insert(jti.clone(), *expires_at);
                if r.jtis.len() > MAX_REVOKED {
                    r.jtis.clear();
                    r.complete = false;
                }
                "revoked"
            }
            Change::Keys => {
                self.keys.send_modify(|v| *v += 1);
                "keys"
            }
            Change::Tree(org) => {
                self.trees.remove(org);
                let prefix = format!("{org}\n");
                self.roles.retain(|k, _| !k.starts_with(&prefix));
                "tree"
            }
        };
        metrics::counter!("latchkey_cache_invalidations_total", "change" => kind).increment(1);
    }

    /// Stops serving entries (the listener lost its connection).
    fn suspend(&self) {
        self.live.store(false, SeqCst);
        self.epoch.fetch_add(1, SeqCst);
    }

    /// Starts over empty and serves again: everything is read anew, the revoked tokens are
    /// loaded, and the key ring is reloaded.
    async fn restart(&self, db: &Db) {
        self.epoch.fetch_add(1, SeqCst);
        self.apps.clear();
        self.assignments.clear();
        self.grants.clear();
        self.members.clear();
        self.memberships.clear();
        self.policies.clear();
        self.apps_on.clear();
        self.mfa.clear();
        self.approvals.clear();
        self.trees.clear();
        self.roles.clear();
        self.revoked
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .complete = false;
        self.live.store(true, SeqCst);
        self.restarts.fetch_add(1, SeqCst);
        self.keys.send_modify(|v| *v += 1);
        metrics::counter!("latchkey_cache_restarts_total").increment(1);
        self.load_revoked(db).await;
    }

    /// Loads every revoked, unexpired token (adding to what notifications brought meanwhile)
    /// and forgets the expired ones; the set is complete only if it was all read.
    pub async fn load_revoked(&self, db: &Db) {
        let t = time::OffsetDateTime::now_utc().unix_timestamp();
        match super::tokens::revoked_since(&db.pool, t, MAX_REVOKED as i64 + 1).await {
            Ok(rows) => {
                let mut r = self.revoked.write().unwrap_or_else(|p| p.into_inner());
                r.jtis.retain(|_, exp| *exp > t);
                let fits = rows.len() <= MAX_REVOKED;
                if fits {
                    r.jtis.extend(rows);
                }
                r.complete = fits && r.jtis.len() <= MAX_REVOKED;
                if !r.complete {
                    r.jtis.clear();
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "loading revoked tokens; asking the database meanwhile")
            }
        }
    }
}

impl Db {
    /// Makes the cache serve: at once on SQLite; on PostgreSQL once the listener is
    /// connected (and only while it is). Processes that do not call this (the command line)
    /// read the database every time.
    pub async fn start_cache(&self) {
        match self.backend {
            Backend::Sqlite => self.cache.restart(self).await,
            Backend::Postgres => spawn_listener(self.clone()),
        }
    }

    /// Commits `tx` and announces `changes`: on PostgreSQL in the transaction itself (so other
    /// instances hear it exactly when it is committed), here at once after the commit.
    pub async fn commit(&self, mut tx: super::Tx, changes: &[Change]) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            for payload in payloads(changes) {
                notify(&mut *tx, payload).await?;
            }
        }
        tx.commit().await?;
        for c in changes {
            self.cache.apply(c);
        }
        Ok(())
    }

    /// Announces `changes` of a write committed outside a transaction.
    pub async fn changed(&self, changes: &[Change]) -> Result<(), sqlx::Error> {
        for c in changes {
            self.cache.apply(c);
        }
        if self.backend == Backend::Postgres {
            for payload in payloads(changes) {
                notify(&self.pool, payload).await?;
            }
        }
        Ok(())
    }

    /// An app by client id, with its secrets.
    pub async fn app_with_secrets(&self, client_id: &str) -> Result<Option<AppEntry>, sqlx::Error> {
        if client_id.is_empty() || client_id.len() > 200 {
            return Ok(None);
        }
        let found = self
            .cache
            .through(&self.cache.apps, "apps", client_id.to_string(), || async {
                Ok(super::apps::find_with_secrets(&self.pool, client_id)
                    .await?
                    .map(Arc::new))
            })
            .await?;
        // Unknown ids are not kept (the map would fill with strangers' guesses).
        if found.is_none() {
            self.cache.apps.remove(client_id);
        }
        Ok(found)
    }

    /// An organization's tree of business groups and environments.
    pub async fn tree(&self, org_id: &str) -> Result<TreeEntry, sqlx::Error> {
        self.cache
            .through(&self.cache.trees, "trees", org_id.to_string(), || async {
                let mut conn = self.pool.acquire().await?;
                Ok(Arc::new(super::contexts::tree(&mut conn, org_id).await?))
            })
            .await
    }

    /// A user's roles in the business groups and environments of an organization.
    pub async fn roles(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Arc<Vec<(Place, Role)>>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.roles,
                "roles",
                pair(org_id, user_id),
                || async {
                    Ok(Arc::new(
                        super::contexts::roles_of(&self.pool, org_id, user_id).await?,
                    ))
                },
            )
            .await
    }

    /// An own-behalf app's scope assignments: where each of its scopes holds.
    pub async fn assignments(
        &self,
        client_id: &str,
    ) -> Result<Arc<Vec<(String, Place)>>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.assignments,
                "assignments",
                client_id.to_string(),
                || async {
                    Ok(Arc::new(
                        super::contexts::assignments(&self.pool, client_id).await?,
                    ))
                },
            )
            .await
    }

    /// An app by client id.
    pub async fn app(&self, client_id: &str) -> Result<Option<App>, sqlx::Error> {
        Ok(self.app_with_secrets(client_id).await?.map(|e| e.0.clone()))
    }

    /// A grant by id.
    pub async fn grant(&self, id: &str) -> Result<Option<Arc<Grant>>, sqlx::Error> {
        let found = self
            .cache
            .through(&self.cache.grants, "grants", id.to_string(), || async {
                Ok(super::grants::get(&self.pool, id).await?.map(Arc::new))
            })
            .await?;
        if found.is_none() {
            self.cache.grants.remove(id);
        }
        Ok(found)
    }

    /// The member `user_id` of `org_id`, if they belong to it.
    pub async fn member(
        &self,
        org_id: &str,
        user_id: &str,
    ) -> Result<Option<Arc<Member>>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.members,
                "members",
                pair(org_id, user_id),
                || async {
                    Ok(super::users::member(&self.pool, org_id, user_id)
                        .await?
                        .map(Arc::new))
                },
            )
            .await
    }

    /// The organizations a user belongs to, with their role (admin memberships first).
    pub async fn memberships(
        &self,
        user_id: &str,
    ) -> Result<Arc<Vec<(String, String)>>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.memberships,
                "memberships",
                user_id.to_string(),
                || async {
                    Ok(Arc::new(
                        super::users::memberships_of(&self.pool, user_id).await?,
                    ))
                },
            )
            .await
    }

    /// Whether connected apps work in `org_id` (its switch): checked with every token.
    pub async fn apps_on(&self, org_id: &str) -> Result<bool, sqlx::Error> {
        self.cache
            .through(&self.cache.apps_on, "orgs", org_id.to_string(), || async {
                super::orgs::apps_enabled(&self.pool, org_id).await
            })
            .await
    }

    /// An organization's multi-factor policy: checked with every portal request.
    pub async fn mfa_policy(
        &self,
        org_id: &str,
    ) -> Result<crate::domain::mfa::MfaPolicy, sqlx::Error> {
        self.cache
            .through(&self.cache.mfa, "orgs", org_id.to_string(), || async {
                super::orgs::mfa_policy(&self.pool, org_id).await
            })
            .await
    }

    /// An organization's external-app policy, as stored.
    pub async fn policy(&self, org_id: &str) -> Result<Option<Arc<str>>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.policies,
                "policies",
                org_id.to_string(),
                || async {
                    Ok(super::policy::policy(&self.pool, org_id)
                        .await?
                        .map(Arc::from))
                },
            )
            .await
    }

    /// The scopes `org_id` approved for `client_id`, if it did.
    pub async fn approved(
        &self,
        org_id: &str,
        client_id: &str,
    ) -> Result<Option<ScopeSet>, sqlx::Error> {
        self.cache
            .through(
                &self.cache.approvals,
                "approvals",
                pair(org_id, client_id),
                || async { super::policy::approved(&self.pool, org_id, client_id).await },
            )
            .await
    }

    /// Whether the access token `jti` was revoked.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, sqlx::Error> {
        if self.cache.is_live() {
            let r = self.cache.revoked.read().unwrap_or_else(|p| p.into_inner());
            if r.complete {
                metrics::counter!("latchkey_cache_hits_total", "cache" => "revoked").increment(1);
                return Ok(r.jtis.contains_key(jti));
            }
        }
        metrics::counter!("latchkey_cache_misses_total", "cache" => "revoked").increment(1);
        super::tokens::is_revoked(&self.pool, jti).await
    }
}

/// Sends one notification on `CHANNEL` (delivered when the transaction of `e`, if any,
/// commits).
async fn notify<'c>(e: impl sqlx::AnyExecutor<'c>, payload: String) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(e)
        .await?;
    Ok(())
}

/// Listens for other instances' changes, and starts the cache over after every
/// (re)connection; while disconnected the cache is bypassed.
fn spawn_listener(db: Db) {
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(100);
        loop {
            let connected = async {
                use std::str::FromStr;
                let options = sqlx::postgres::PgConnectOptions::from_str(&db.url)?
                    .application_name(LISTENER_NAME);
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await?;
                let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.ignore_pool_close_event(true);
                listener.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>((listener, pool))
            }
            .await;
            let (mut listener, _pool) = match connected {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cache listener cannot connect; reading the database meanwhile");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            wait = Duration::from_millis(100);
            db.cache.restart(&db).await;
            tracing::info!("cache listener connected; cache serving");
            // `None` or an error: the connection is gone.
            while let Ok(Some(n)) = listener.try_recv().await {
                for line in n.payload().lines() {
                    if let Some(c) = Change::decode(line) {
                        db.cache.apply(&c);
                    }
                }
            }
            db.cache.suspend();
            tracing::warn!(
                "cache listener lost its connection; reading the database until it is back"
            );
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip() {
        let all = [
            Change::App("lk_abc".into()),
            Change::Grant("g1".into()),
            Change::Grants,
            Change::User("u1".into()),
            Change::Policy("o1".into()),
            Change::Revoked {
                jti: "j:with:colons".into(),
                expires_at: 17,
            },
            Change::Keys,
            Change::Tree("o1".into()),
        ];
        for c in &all {
            assert_eq!(Change::decode(&c.encode()).as_ref(), Some(c));
        }
        for bad in ["", "a:", "x:1", "r:1", "r:x:j", "r:1:", "t:"] {
            assert_eq!(Change::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn payloads_stay_under_the_limit() {
        let many: Vec<Change> = (0..2_000)
            .map(|i| Change::Grant(format!("grant-{i:08}")))
            .collect();
        let p = payloads(&many);
        assert!(p.len() > 1);
        assert!(p.iter().all(|s| s.len() < 8_000));
        let lines: usize = p.iter().map(|s| s.lines().count()).sum();
        assert_eq!(lines, 2_000);
    }

    #[tokio::test]
    async fn a_read_overtaken_by_an_invalidation_is_not_kept() {
        let cache = Cache::default();
        cache.live.store(true, SeqCst);
        let v = cache
            .through(&cache.policies, "policies", "o".into(), || async {
                // The write and its invalidation land while this read is in flight.
                cache.apply(&Change::Policy("o".into()));
                Ok(Some(Arc::from("old")))
            })
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("old"));
        assert!(cache.policies.get("o").is_none());
        // A read with no invalidation in flight is kept, and served.
        cache
            .through(&cache.policies, "policies", "o".into(), || async {
                Ok(Some(Arc::from("new")))
            })
            .await
            .unwrap();
        let again = cache
            .through(&cache.policies, "policies", "o".into(), || async {
                Ok(None)
            })
            .await
            .unwrap();
        assert_eq!(again.as_deref(), Some("new"));
    }

    #[tokio::test]
    async fn nothing_is_served_while_suspended() {
        let cache = Cache::default();
        cache.live.store(true, SeqCst);
        cache
            .through(&cache.policies, "policies", "o".into(), || async {
                Ok(Some(Arc::from("a")))
            })
            .await
            .unwrap();
        cache.suspend();
        let v = cache
            .through(&cache.policies, "policies", "o".into(), || async {
                Ok(Some(Arc::from("b")))
            })
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("b"));
    }
}
