//! tower-sessions store on our own database, so any instance serves any session.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::{self, Db};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// What the session's data says about whose it is and from where (the keys the web layer
/// writes at sign-in and as the session is seen).
fn facts(record: &Record) -> store::sessions::Facts {
    let text = |k: &str| {
        record
            .data
            .get(k)
            .and_then(|v| v.as_str())
            .map(|s| s.chars().take(300).collect::<String>())
    };
    let number = |k: &str| record.data.get(k).and_then(|v| v.as_i64());
    store::sessions::Facts {
        user_id: text("user_id"),
        ip: text("ip"),
        user_agent: text("user_agent"),
        signed_in_at: number("auth_time"),
        last_seen_at: number("last_seen"),
        sid: text("sid"),
    }
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let data = encode(record)?;
            let expires = record.expiry_date.unix_timestamp();
            let id = record.id.to_string();
            if store::sessions::create(&self.db.pool, &id, &data, expires, &facts(record))
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        store::sessions::save(
            &self.db.pool,
            &record.id.to_string(),
            &data,
            record.expiry_date.unix_timestamp(),
            &facts(record),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        match store::sessions::load(&self.db.pool, &id.to_string(), now)
            .await
            .map_err(backend)?
        {
            Some(data) => serde_json::from_str(&data)
                .map(Some)
                .map_err(|e| session_store::Error::Decode(e.to_string())),
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        store::sessions::delete(&self.db.pool, &id.to_string())
            .await
            .map_err(backend)
    }
}
