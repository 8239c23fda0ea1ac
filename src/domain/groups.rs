//! What the portal's business-group pages and an app's "Scopes in context" tab show, as
//! the services answer it (shared by server and browser), and the rule that turns the Add
//! Scopes dialog's three steps (scopes, business groups, environments) into assignments.

use serde::{Deserialize, Serialize};

use super::context::EnvKind;
use super::{FieldError, FieldErrors};

/// An environment of a group, with how many apps live in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvEntry {
    pub id: String,
    pub name: String,
    pub kind: EnvKind,
    pub apps: usize,
}

/// A business group as the groups page lists it (the organization itself is the root).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupEntry {
    pub id: String,
    pub name: String,
    /// None for the organization itself.
    pub parent_id: Option<String>,
    /// Levels below the organization (the organization: 0).
    pub depth: usize,
    pub environments: Vec<EnvEntry>,
    /// Apps that live in the group (in it or one of its environments).
    pub apps: usize,
    /// Groups directly below it.
    pub children: usize,
    /// Whether the principal may move or delete it (it needs the permission at the parent;
    /// the organization itself never moves).
    pub may_move: bool,
}

/// The places of a business-group select, as (value, label): each group indented by its
/// depth, then each of its environments (`group/env`); the organization itself only
/// `with_root`, named so.
pub fn place_choices(groups: &[GroupEntry], with_root: bool) -> Vec<(String, String)> {
    let indent = |n: usize| "\u{2003}".repeat(n);
    groups
        .iter()
        .flat_map(|g| {
            let mut opts = Vec::new();
            if !g.is_root() {
                opts.push((g.id.clone(), format!("{}{}", indent(g.depth), g.name)));
            } else if with_root {
                opts.push((
                    g.id.clone(),
                    format!("{} itself (in no business group)", g.name),
                ));
            }
            opts.extend(g.environments.iter().map(|e| {
                (
                    format!("{}/{}", g.id, e.id),
                    format!("{}{} · {}", indent(g.depth + 1), g.name, e.name),
                )
            }));
            opts
        })
        .collect()
}

impl GroupEntry {
    pub fn is_root(&self) -> bool {
        self.parent_id.is_none()
    }

    /// Empty: nothing stands in the way of deleting it.
    pub fn is_empty(&self) -> bool {
        self.apps == 0 && self.children == 0
    }
}

/// A user's role in a group, or in one of its environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleHolder {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub environment: Option<String>,
    pub environment_name: Option<String>,
    pub role: String,
}

/// A member of the organization, to be picked by name or e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberChoice {
    pub user_id: String,
    pub email: String,
    pub name: String,
}

/// One group's page: the group, where it may move, and the roles given in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub group: GroupEntry,
    pub parent_name: Option<String>,
    /// The groups it may move below (those the principal manages, never itself or one
    /// below it), the root first.
    pub parents: Vec<GroupEntry>,
    pub roles: Vec<RoleHolder>,
    /// Whether the principal may give and take back roles here.
    pub may_manage_users: bool,
    /// The organization's members to pick from (when roles may be given).
    pub members: Vec<MemberChoice>,
}

/// A place, named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaceName {
    pub group_id: String,
    pub group_name: String,
    pub env_id: Option<String>,
    pub env_name: Option<String>,
}

/// One scope assigned to an own-behalf app at a place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedScope {
    pub scope: String,
    pub place: PlaceName,
}

/// A group where the principal may assign an app's scopes, with the environments there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignGroup {
    pub id: String,
    pub name: String,
    pub depth: usize,
    /// The group as a whole may be assigned (not only some of its environments).
    pub whole: bool,
    pub environments: Vec<EnvEntry>,
}

/// An app's "Scopes in context" tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppContexts {
    pub own_behalf: bool,
    /// Where the app lives.
    pub home: PlaceName,
    /// The scopes the app is allowed (what may be assigned).
    pub scopes: Vec<String>,
    pub assignments: Vec<PlacedScope>,
    /// Where the principal may assign (within where the app lives), the tree's order.
    pub groups: Vec<AssignGroup>,
}

/// The Add Scopes dialog's answer: the scopes, the groups, and for each group either all
/// of it (`modes[g<group>] = "all"`, the default) or some of its environments
/// (`modes[g<group>] = "some"`, with `envs` holding `group/env`). The key is the group's id
/// after a `g`: a form key that starts with a digit would be read as a list index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddScopes {
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub modes: std::collections::HashMap<String, String>,
    #[serde(default)]
    pub envs: Vec<String>,
}

/// The (scope, group, environment) triples the three steps mean, or the steps to correct
/// (`scopes`, `groups`, `environments`), each said once. Unknown groups and environments
/// are the service's to refuse.
pub fn assignments_of_steps(
    steps: &AddScopes,
) -> Result<Vec<(String, String, Option<String>)>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let scopes: Vec<&str> = unique(steps.scopes.iter().map(|s| s.trim()));
    let groups: Vec<&str> = unique(steps.groups.iter().map(|s| s.trim()));
    if scopes.is_empty() {
        errors.push("scopes", "pick at least one scope");
    }
    if groups.is_empty() {
        errors.push("groups", "pick at least one business group");
    }
    let mut places: Vec<(String, Option<String>)> = Vec::new();
    let mut without_env = Vec::new();
    for g in &groups {
        let some = steps.modes.get(&mode_key(g)).is_some_and(|m| m == "some");
        if !some {
            places.push((g.to_string(), None));
            continue;
        }
        let envs: Vec<&str> = unique(steps.envs.iter().filter_map(|pair| {
            pair.split_once('/')
                .filter(|(pg, e)| pg == g && !e.is_empty())
                .map(|(_, e)| e)
        }));
        if envs.is_empty() {
            without_env.push(*g);
        }
        places.extend(
            envs.into_iter()
                .map(|e| (g.to_string(), Some(e.to_string()))),
        );
    }
    if !without_env.is_empty() {
        errors.0.push(FieldError::new(
            "environments",
            "pick at least one environment of each group set to “some environments”, or choose the whole group",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(scopes
        .iter()
        .flat_map(|s| {
            places
                .iter()
                .map(move |(g, e)| (s.to_string(), g.clone(), e.clone()))
        })
        .collect())
}

/// The key of a group's answer in [`AddScopes::modes`].
pub fn mode_key(group: &str) -> String {
    format!("g{group}")
}

fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !i.is_empty() && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn steps(scopes: &[&str], groups: &[&str], modes: &[(&str, &str)], envs: &[&str]) -> AddScopes {
        AddScopes {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            modes: modes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            envs: envs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn group(id: &str, parent: Option<&str>, depth: usize, envs: &[&str]) -> GroupEntry {
        GroupEntry {
            id: id.into(),
            name: id.to_uppercase(),
            parent_id: parent.map(str::to_string),
            depth,
            environments: envs
                .iter()
                .map(|e| EnvEntry {
                    id: e.to_string(),
                    name: e.to_uppercase(),
                    kind: EnvKind::Sandbox,
                    apps: 0,
                })
                .collect(),
            apps: 0,
            children: 0,
            may_move: false,
        }
    }

    #[test]
    fn place_choices_list_groups_then_their_environments() {
        let tree = [
            group("org", None, 0, &["osbx"]),
            group("pay", Some("org"), 1, &["psbx"]),
        ];
        let values = |with_root| {
            place_choices(&tree, with_root)
                .into_iter()
                .map(|(v, _)| v)
                .collect::<Vec<_>>()
        };
        assert_eq!(values(true), ["org", "org/osbx", "pay", "pay/psbx"]);
        assert_eq!(values(false), ["org/osbx", "pay", "pay/psbx"]);
        let labels: Vec<String> = place_choices(&tree, true)
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(labels[0], "ORG itself (in no business group)");
        assert_eq!(labels[2], "\u{2003}PAY");
        assert_eq!(labels[3], "\u{2003}\u{2003}PAY · PSBX");
    }

    #[test]
    fn three_steps_become_assignments() {
        // The whole group by default; some environments only where asked.
        let got = assignments_of_steps(&steps(
            &["read:apps", "orders:read", "read:apps"],
            &["g1", "g2"],
            &[("gg2", "some")],
            &["g2/sbx", "g1/prod", "g2/sbx", "g2/des"],
        ))
        .unwrap();
        let want = |s: &str, g: &str, e: Option<&str>| {
            (s.to_string(), g.to_string(), e.map(str::to_string))
        };
        assert_eq!(
            got,
            vec![
                want("read:apps", "g1", None),
                want("read:apps", "g2", Some("sbx")),
                want("read:apps", "g2", Some("des")),
                want("orders:read", "g1", None),
                want("orders:read", "g2", Some("sbx")),
                want("orders:read", "g2", Some("des")),
            ]
        );
        // An environment of a group not chosen is not assigned.
        let got = assignments_of_steps(&steps(
            &["a"],
            &["g1"],
            &[("gg1", "some")],
            &["g1/e", "g9/x"],
        ))
        .unwrap();
        assert_eq!(got, vec![want("a", "g1", Some("e"))]);
    }

    #[test]
    fn each_missing_step_is_named() {
        let e = assignments_of_steps(&steps(&[], &[], &[], &[])).unwrap_err();
        assert!(e.for_field("scopes").is_some() && e.for_field("groups").is_some());
        let e = assignments_of_steps(&steps(&["a"], &["g1"], &[("gg1", "some")], &["g1/"]))
            .unwrap_err();
        assert!(e.for_field("environments").is_some(), "{e}");
        assert_eq!(e.0.len(), 1);
    }
}
