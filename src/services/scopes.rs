//! The scope catalogue: every scope an app of the principal's organization may be allowed
//! (the platform's and the organization's own APIs'), with what it means and the app kinds
//! that may hold it (Anypoint's "Scopes documentation"). The rule behind each entry is
//! `domain::scope_catalogue`'s, itself the one validation enforces.

use super::Principal;
use super::principal::Who;
use super::{Error, Result};
use crate::domain::listing::{ListQuery, Listed, apply};
use crate::domain::scope_catalogue;
use crate::domain::views::ScopeView;
use crate::store::{self, Db};

/// The organization the catalogue is read in.
///
/// No platform permission is needed: any member of the organization, and any token of it
/// (whatever its scopes), may read the catalogue. It documents what exists, not what anyone
/// holds: each scope's name, plain words and the name of the API defining it, which the
/// consent page already shows every user asked to approve such a scope (`apis::describe`).
/// It never names an API's identifier, an app or who holds what, and only the principal's
/// own organization's APIs are read: the organization is the one it has proved. Anonymous
/// callers are refused; the operator must name an organization (`--org`).
fn org_of(p: &Principal) -> Result<&str> {
    match (p.who(), p.org_id()) {
        (Who::Anonymous, _) => Err(Error::Unauthenticated),
        (_, Some(org_id)) => Ok(org_id),
        (_, None) => Err(Error::Forbidden(
            "the scope catalogue is an organization's: name one".into(),
        )),
    }
}

/// Every scope of the catalogue: the platform's, then the organization's APIs' (by API
/// name, each in the order it defines them).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn all(db: &Db, p: &Principal) -> Result<Vec<ScopeView>> {
    let org_id = org_of(p)?;
    let apis = store::apis::list(&db.pool, org_id).await?;
    Ok(scope_catalogue::entries(apis.iter().flat_map(|a| {
        a.scope_list()
            .map(move |(name, words)| (a.name.as_str(), name, words))
    })))
}

/// One page of the catalogue, searched (`q` in the name, title, description, product and
/// app kinds) and sorted (`product`, the default, or `name`).
pub async fn catalogue(db: &Db, p: &Principal, q: &ListQuery) -> Result<Listed<ScopeView>> {
    Ok(apply(all(db, p).await?, q))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::services::RequestMeta;

    #[test]
    fn who_may_read_it() {
        let anon = Principal::anonymous(RequestMeta::default());
        assert!(matches!(org_of(&anon), Err(Error::Unauthenticated)));
        assert!(matches!(
            org_of(&Principal::operator()),
            Err(Error::Forbidden(_))
        ));
        assert_eq!(org_of(&Principal::operator_in("org-a")).unwrap(), "org-a");
    }
}
