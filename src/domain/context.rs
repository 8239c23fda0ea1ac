//! Business groups and environments: the contexts in which a permission holds.
//!
//! An organization is a tree of business groups whose root is the organization itself (the
//! root's id is the organization's id). Each group, the root included, has environments
//! (Production, Sandbox, Design). A *place* is a group, or one environment of a group.
//!
//! The rule, for both users' roles and own-behalf apps' scope assignments: what is granted
//! in a group holds in that group, in each of its environments and in every group below it
//! (and their environments); what is granted in an environment holds in that environment
//! only. For a user the most specific grant wins (an environment's role, else the nearest
//! group's going up, else the membership's role at the root), except that an admin of a
//! group is an admin everywhere below it; an app holds a scope where any of its
//! assignments of that scope holds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::FieldError;
use super::role::Role;

/// How many levels of business groups may stand below the root.
pub const MAX_DEPTH: usize = 6;

/// The kinds of environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvKind {
    Production,
    Sandbox,
    Design,
}

impl EnvKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Production => "production",
            EnvKind::Sandbox => "sandbox",
            EnvKind::Design => "design",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "production" => Ok(EnvKind::Production),
            "sandbox" => Ok(EnvKind::Sandbox),
            "design" => Ok(EnvKind::Design),
            _ => Err(FieldError::new(
                "type",
                "must be production, sandbox or design",
            )),
        }
    }
}

/// The environments every new business group starts with.
pub const FIRST_ENVIRONMENTS: [(&str, EnvKind); 2] = [
    ("Production", EnvKind::Production),
    ("Sandbox", EnvKind::Sandbox),
];

/// A business group, or one of its environments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Place {
    pub group: String,
    pub env: Option<String>,
}

impl Place {
    pub fn group(group: &str) -> Self {
        Self {
            group: group.to_string(),
            env: None,
        }
    }

    pub fn env(group: &str, env: &str) -> Self {
        Self {
            group: group.to_string(),
            env: Some(env.to_string()),
        }
    }
}

/// An organization's business groups as a tree: each group's parent (the root has none).
#[derive(Debug, Clone)]
pub struct Tree {
    root: String,
    parents: HashMap<String, String>,
    /// Each environment's group.
    envs: HashMap<String, String>,
}

impl Tree {
    /// The tree of `root` from `(group, parent)` pairs and `(environment, group)` pairs.
    pub fn new(
        root: &str,
        groups: impl IntoIterator<Item = (String, String)>,
        envs: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            root: root.to_string(),
            parents: groups.into_iter().collect(),
            envs: envs.into_iter().collect(),
        }
    }

    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn has_group(&self, id: &str) -> bool {
        id == self.root || self.parents.contains_key(id)
    }

    /// The group of an environment of this tree.
    pub fn group_of_env(&self, env: &str) -> Option<&str> {
        self.envs.get(env).map(String::as_str)
    }

    /// Whether `place` names a group of this tree and, if it names one, an environment of
    /// that very group.
    pub fn has(&self, place: &Place) -> bool {
        self.has_group(&place.group)
            && place
                .env
                .as_deref()
                .is_none_or(|e| self.group_of_env(e) == Some(place.group.as_str()))
    }

    /// `id`, its parent, and so on up to the root (bounded, so a damaged tree cannot loop).
    pub fn chain<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        let mut chain = vec![id];
        let mut at = id;
        while let Some(parent) = self.parents.get(at) {
            if chain.len() > MAX_DEPTH + 1 || chain.contains(&parent.as_str()) {
                break;
            }
            chain.push(parent);
            at = parent;
        }
        chain
    }

    /// Whether `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        self.has_group(id) && self.chain(id).contains(&ancestor)
    }

    /// How far below the root `id` stands (the root: 0).
    pub fn depth(&self, id: &str) -> usize {
        self.chain(id).len() - 1
    }

    /// The groups directly below `id`.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a str> {
        self.parents
            .iter()
            .filter(move |(_, p)| p.as_str() == id)
            .map(|(g, _)| g.as_str())
    }

    /// How many levels lie below `id` (a leaf: 0).
    pub fn height(&self, id: &str) -> usize {
        self.parents
            .keys()
            .filter(|g| g.as_str() != id && self.is_within(g, id))
            .map(|g| self.depth(g) - self.depth(id))
            .max()
            .unwrap_or(0)
    }

    /// Every group, the root first.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.root.as_str()).chain(self.parents.keys().map(String::as_str))
    }

    /// Every place of the tree: each group, then each environment.
    pub fn places(&self) -> Vec<Place> {
        let mut places: Vec<Place> = self.groups().map(Place::group).collect();
        places.extend(self.envs.iter().map(|(e, g)| Place::env(g, e)));
        places
    }

    /// Whether a new group may stand below `parent`.
    pub fn check_new(&self, parent: &str) -> Result<(), FieldError> {
        if !self.has_group(parent) {
            return Err(FieldError::new(
                "parent",
                "is not a business group of this organization",
            ));
        }
        if self.depth(parent) + 1 > MAX_DEPTH {
            return Err(FieldError::new(
                "parent",
                format!(
                    "is too deep: business groups stand at most {MAX_DEPTH} levels below the organization"
                ),
            ));
        }
        Ok(())
    }

    /// Whether `id` may move below `parent`: never the root, never below itself or one of
    /// its own descendants, never deeper than the limit with everything below it.
    pub fn check_move(&self, id: &str, parent: &str) -> Result<(), FieldError> {
        if id == self.root {
            return Err(FieldError::new(
                "parent",
                "the organization itself cannot move",
            ));
        }
        if !self.has_group(id) {
            return Err(FieldError::new(
                "group",
                "is not a business group of this organization",
            ));
        }
        if !self.has_group(parent) {
            return Err(FieldError::new(
                "parent",
                "is not a business group of this organization",
            ));
        }
        if self.is_within(parent, id) {
            return Err(FieldError::new(
                "parent",
                "is the group itself or one of the groups below it",
            ));
        }
        if self.depth(parent) + 1 + self.height(id) > MAX_DEPTH {
            return Err(FieldError::new(
                "parent",
                format!(
                    "is too deep: with the groups below it, this group would stand more than {MAX_DEPTH} levels below the organization"
                ),
            ));
        }
        Ok(())
    }

    /// Whether something granted at `granted` holds at `at`.
    pub fn holds(&self, granted: &Place, at: &Place) -> bool {
        match &granted.env {
            Some(env) => at.env.as_ref() == Some(env) && at.group == granted.group,
            None => self.is_within(&at.group, &granted.group),
        }
    }

    /// A user's role at `at`: the role of the environment, else of the nearest group going
    /// up, else `root` (the membership's). An admin of a group stays an admin everywhere
    /// below it: an override below may raise a role or lower an auditor's, never take an
    /// admin's power away (so a group's admin cannot demote the organization's admins, or
    /// their own parent group's, inside their group).
    pub fn role_at(&self, root: Role, roles: &[(Place, Role)], at: &Place) -> Role {
        // The organization-wide role is the membership's alone.
        let roles: Vec<&(Place, Role)> = roles
            .iter()
            .filter(|(p, _)| !(p.group == self.root && p.env.is_none()))
            .collect();
        let chain = self.chain(&at.group);
        let admin_above = root == Role::Admin
            || roles.iter().any(|(p, r)| {
                *r == Role::Admin && p.env.is_none() && chain.contains(&p.group.as_str())
            });
        if admin_above {
            return Role::Admin;
        }
        if at.env.is_some()
            && let Some((_, r)) = roles.iter().find(|(p, _)| p == at)
        {
            return *r;
        }
        for g in chain {
            if let Some((_, r)) = roles.iter().find(|(p, _)| p.env.is_none() && p.group == g) {
                return *r;
            }
        }
        root
    }

    /// The scopes an own-behalf app holds at `at`: those with an assignment that holds there.
    pub fn assigned_at<'a>(&self, assignments: &'a [(String, Place)], at: &Place) -> Vec<&'a str> {
        let mut held: Vec<&str> = Vec::new();
        for (scope, place) in assignments {
            if self.holds(place, at) && !held.contains(&scope.as_str()) {
                held.push(scope);
            }
        }
        held
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::role::{PLATFORM, effective_scopes};

    /// org ─ payments ─ cards
    ///     └ retail
    fn tree() -> Tree {
        Tree::new(
            "org",
            [
                ("payments".to_string(), "org".to_string()),
                ("cards".to_string(), "payments".to_string()),
                ("retail".to_string(), "org".to_string()),
            ],
            [
                ("org-prod".to_string(), "org".to_string()),
                ("pay-prod".to_string(), "payments".to_string()),
                ("pay-sbx".to_string(), "payments".to_string()),
                ("cards-sbx".to_string(), "cards".to_string()),
                ("retail-sbx".to_string(), "retail".to_string()),
            ],
        )
    }

    #[test]
    fn the_tree_knows_its_places() {
        let t = tree();
        assert_eq!(t.chain("cards"), vec!["cards", "payments", "org"]);
        assert!(t.is_within("cards", "org") && t.is_within("cards", "payments"));
        assert!(!t.is_within("retail", "payments") && !t.is_within("payments", "cards"));
        assert!(!t.is_within("elsewhere", "org"));
        assert_eq!((t.depth("org"), t.depth("cards")), (0, 2));
        assert_eq!(
            (t.height("org"), t.height("payments"), t.height("cards")),
            (2, 1, 0)
        );
        assert!(t.has(&Place::env("payments", "pay-sbx")));
        // An environment of another group, or of nobody, is no place of this group.
        assert!(!t.has(&Place::env("retail", "pay-sbx")));
        assert!(!t.has(&Place::env("payments", "other-org-env")));
        assert!(!t.has(&Place::group("other-org-group")));
        assert_eq!(t.places().len(), 4 + 5);
    }

    #[test]
    fn moves_never_go_below_themselves_or_too_deep() {
        let t = tree();
        assert!(t.check_move("retail", "cards").is_ok());
        assert!(t.check_move("payments", "cards").is_err());
        assert!(t.check_move("payments", "payments").is_err());
        assert!(t.check_move("org", "retail").is_err());
        assert!(t.check_move("payments", "nowhere").is_err());
        assert!(t.check_new("cards").is_ok() && t.check_new("nowhere").is_err());
        // A chain at the limit: nothing more below it, and no subtree moves under it.
        let mut groups = vec![("g1".to_string(), "org".to_string())];
        for i in 2..=MAX_DEPTH {
            groups.push((format!("g{i}"), format!("g{}", i - 1)));
        }
        groups.push(("h1".to_string(), "org".to_string()));
        groups.push(("h2".to_string(), "h1".to_string()));
        let deep = Tree::new("org", groups, []);
        let last = format!("g{MAX_DEPTH}");
        assert!(deep.check_new(&last).is_err());
        assert!(deep.check_new(&format!("g{}", MAX_DEPTH - 1)).is_ok());
        assert!(
            deep.check_move("h1", &format!("g{}", MAX_DEPTH - 2))
                .is_ok()
        );
        assert!(
            deep.check_move("h1", &format!("g{}", MAX_DEPTH - 1))
                .is_err()
        );
    }

    /// The rule with its context column: what is granted where, asked where → holds?
    #[test]
    fn a_grant_holds_in_its_group_below_it_and_in_its_environment_only() {
        let t = tree();
        let g = Place::group;
        let e = Place::env;
        let table: &[(Place, Place, bool)] = &[
            (g("org"), g("cards"), true),
            (g("org"), e("payments", "pay-sbx"), true),
            (g("payments"), g("payments"), true),
            (g("payments"), e("payments", "pay-prod"), true),
            (g("payments"), g("cards"), true),
            (g("payments"), e("cards", "cards-sbx"), true),
            (g("payments"), g("org"), false),
            (g("payments"), g("retail"), false),
            (g("cards"), g("payments"), false),
            (e("payments", "pay-sbx"), e("payments", "pay-sbx"), true),
            (e("payments", "pay-sbx"), e("payments", "pay-prod"), false),
            (e("payments", "pay-sbx"), g("payments"), false),
            (e("payments", "pay-sbx"), g("cards"), false),
        ];
        for (granted, at, expected) in table {
            assert_eq!(t.holds(granted, at), *expected, "{granted:?} at {at:?}");
        }
    }

    #[test]
    fn the_most_specific_role_wins() {
        let t = tree();
        let roles = vec![
            (Place::group("payments"), Role::Admin),
            (Place::group("cards"), Role::Member),
            (Place::env("payments", "pay-prod"), Role::Auditor),
        ];
        let at = |p: Place| t.role_at(Role::Member, &roles, &p);
        assert_eq!(at(Place::group("org")), Role::Member);
        assert_eq!(at(Place::group("payments")), Role::Admin);
        assert_eq!(at(Place::env("payments", "pay-sbx")), Role::Admin);
        // An admin of Payments stays an admin below it, whatever is set below.
        assert_eq!(at(Place::env("payments", "pay-prod")), Role::Admin);
        assert_eq!(at(Place::group("cards")), Role::Admin);
        assert_eq!(at(Place::env("cards", "cards-sbx")), Role::Admin);
        assert_eq!(at(Place::group("retail")), Role::Member);
        // Below an auditor's group, an override lowers or raises; the most specific wins.
        let roles = vec![
            (Place::group("payments"), Role::Auditor),
            (Place::group("cards"), Role::Member),
            (Place::env("payments", "pay-prod"), Role::Admin),
        ];
        let at = |p: Place| t.role_at(Role::Member, &roles, &p);
        assert_eq!(at(Place::group("payments")), Role::Auditor);
        assert_eq!(at(Place::env("payments", "pay-sbx")), Role::Auditor);
        assert_eq!(at(Place::env("payments", "pay-prod")), Role::Admin);
        assert_eq!(at(Place::group("cards")), Role::Member);
        // The organization's admins are admins everywhere.
        assert_eq!(
            t.role_at(Role::Admin, &roles, &Place::group("cards")),
            Role::Admin
        );
        // A role "in the organization" other than the membership's counts for nothing.
        let at_root = vec![(Place::group("org"), Role::Admin)];
        assert_eq!(
            t.role_at(Role::Member, &at_root, &Place::group("cards")),
            Role::Member
        );
        assert_eq!(
            t.role_at(Role::Member, &at_root, &Place::group("org")),
            Role::Member
        );
    }

    /// The effective-scope rule in context, as a table: an own-behalf app with
    /// `manage:apps` in Sandbox of Payments and `read:apps` in Payments as a whole.
    #[test]
    fn an_app_holds_its_scopes_only_where_assigned() {
        let t = tree();
        let assigned = vec![
            ("manage:apps".to_string(), Place::env("payments", "pay-sbx")),
            ("read:apps".to_string(), Place::group("payments")),
        ];
        let table: &[(Place, &str, &str)] = &[
            (
                Place::env("payments", "pay-sbx"),
                "full",
                "read:apps manage:apps",
            ),
            (
                Place::env("payments", "pay-sbx"),
                "manage:apps",
                "manage:apps",
            ),
            (Place::env("payments", "pay-prod"), "full", "read:apps"),
            (Place::group("payments"), "full", "read:apps"),
            (Place::group("cards"), "read:apps manage:apps", "read:apps"),
            (Place::group("retail"), "full", ""),
            (Place::group("org"), "full", ""),
        ];
        for (at, token, expected) in table {
            let held = t.assigned_at(&assigned, at);
            let mut got = effective_scopes(token, &held);
            got.sort_by_key(|p| PLATFORM.iter().position(|q| q == p));
            assert_eq!(&got.join(" "), expected, "{token} at {at:?}");
        }
    }
}
