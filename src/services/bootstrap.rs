//! First start: an organization and its first admin, so a fresh install can be used at once.

use secrecy::{ExposeSecret, SecretString};

use super::{Principal, Result};
use crate::store::{self, Db};

/// What bootstrap did, for the start-up log.
pub enum Bootstrapped {
    AlreadyInitialised,
    Created {
        org_id: String,
        email: String,
        generated_password: Option<SecretString>,
    },
}

/// Creates the first organization and admin when there are no users yet. Without a
/// password given, a strong one is generated and returned to be printed once.
pub async fn ensure_admin(
    db: &Db,
    org_name: &str,
    email: &str,
    password: Option<SecretString>,
) -> Result<Bootstrapped> {
    if store::users::count(&db.pool).await? > 0 {
        return Ok(Bootstrapped::AlreadyInitialised);
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| SecretString::from(crate::crypto::random_token(18)));
    let org = super::orgs::create(db, &Principal::system(None), org_name).await?;
    let user = super::users::create(
        db,
        &Principal::system(Some(&org.id)),
        email,
        "Administrator",
        "admin",
        password.clone(),
    )
    .await?;
    Ok(Bootstrapped::Created {
        org_id: org.id,
        email: user.email,
        generated_password: generated
            .then(|| SecretString::from(password.expose_secret().to_string())),
    })
}
