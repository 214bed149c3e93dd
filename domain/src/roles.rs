//! Who may do what: the three roles, an optional scope of groups, and the one rule
//! ([`Grant::allows`]) that the control services enforce, the REST guard checks before a body
//! is read, and the console consults to hide what a user cannot do.
//!
//! - **admin**: everything, users included.
//! - **developer**: groups, APIs, versions, releases to Test and Pre-release, apps, backend
//!   services, policies. A developer *scoped* to groups (`["petstore"]`) may change only
//!   those groups and is a viewer elsewhere; creating groups and changing what every group
//!   shares (apps, backend services, policies) needs a developer of every group.
//! - **viewer**: reads everything but secrets; the Debug API on Test only.
//!
//! Production (release, switch, off-line) is admins' alone; a developer may *request* a
//! Production change of its groups, which an admin other than the requester approves.

use crate::environment::Environment;
use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads, and the Debug API on Test.
    Viewer,
    /// Builds and releases outside Production.
    Developer,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Developer, Role::Admin];

    /// The stored and JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Developer => "developer",
            Role::Admin => "admin",
        }
    }

    /// The name shown in the console.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Developer => "Developer",
            Role::Admin => "Admin",
        }
    }

    /// Parses a stored or sent role name.
    pub fn parse(raw: &str) -> Result<Role, String> {
        match raw.trim() {
            "admin" => Ok(Role::Admin),
            "developer" => Ok(Role::Developer),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("must be `admin`, `developer` or `viewer`, not `{}`", other.escape_debug())),
        }
    }
}

/// The most groups one user may be scoped to.
pub const MAX_SCOPED_GROUPS: usize = 100;

/// A role and the groups it holds in (`None`: every group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// What the user may do.
    pub role: Role,
    /// Where: the groups a developer may change; `None` for all of them. Ignored for
    /// admins (always everything) and viewers (nothing to change).
    pub groups: Option<Vec<String>>,
}

/// Something a user wants to do; [`Grant::allows`] judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Read anything that is not a secret.
    Read,
    /// Change a group or what lives in it (APIs, versions, domains, certificates, imports,
    /// policy bindings there).
    EditGroup(&'a str),
    /// Create a group.
    CreateGroup,
    /// Release, switch or take off-line in an environment of a group.
    Deploy(&'a str, Environment),
    /// Change what every group shares: apps, authorizations, backend services, policies.
    EditShared,
    /// See an app's AppSecret or AppCode.
    RevealSecret,
    /// Send a Debug API call in an environment.
    Debug(Environment),
    /// Create, change or disable users; see and revoke everybody's tokens.
    ManageUsers,
    /// Ask for a Production change in a group (an admin approves it).
    RequestDeploy(&'a str),
    /// Approve or reject someone else's request.
    Approve,
    /// Apply a configuration file (each change in it is checked again as its own action).
    ApplyConfig,
}

impl Grant {
    /// An admin of everything.
    pub fn admin() -> Grant {
        Grant { role: Role::Admin, groups: None }
    }

    /// Whether a developer's scope covers `group`.
    fn covers(&self, group: &str) -> bool {
        self.groups.as_ref().is_none_or(|groups| groups.iter().any(|g| g == group))
    }

    /// Whether this grant allows `action`.
    pub fn allows(&self, action: Action<'_>) -> bool {
        match (self.role, action) {
            (Role::Admin, _) | (_, Action::Read) => true,
            (Role::Viewer, Action::Debug(env)) => env == Environment::Test,
            (Role::Viewer, _) => false,
            (Role::Developer, Action::EditGroup(group)) => self.covers(group),
            (Role::Developer, Action::Deploy(group, env)) => env != Environment::Prod && self.covers(group),
            (Role::Developer, Action::CreateGroup | Action::EditShared) => self.groups.is_none(),
            (Role::Developer, Action::RevealSecret | Action::Debug(_) | Action::ApplyConfig) => true,
            (Role::Developer, Action::RequestDeploy(group)) => self.covers(group),
            (Role::Developer, Action::ManageUsers | Action::Approve) => false,
        }
    }

    /// `Ok` when allowed; otherwise the sentence a refusal (403) carries.
    pub fn check(&self, action: Action<'_>) -> Result<(), String> {
        if self.allows(action) {
            return Ok(());
        }
        let role = self.role.as_str();
        Err(match action {
            Action::Read => unreachable!("everyone reads"),
            Action::EditGroup(group) => format!("a {role} may not change group `{group}`"),
            Action::CreateGroup => format!("a {role}{} may not create groups", self.scoped()),
            Action::Deploy(_, Environment::Prod) => {
                "only an admin may release, switch or take off-line in Production".to_owned()
            }
            Action::Deploy(group, env) => {
                format!("a {role} may not change what group `{group}` serves in {}", env.label())
            }
            Action::EditShared => {
                format!("a {role}{} may not change apps, backend services or policies", self.scoped())
            }
            Action::RevealSecret => format!("a {role} may not see app secrets"),
            Action::Debug(_) => format!("a {role} may call the Debug API on Test only"),
            Action::ManageUsers => "only an admin may manage users and others' tokens".to_owned(),
            Action::RequestDeploy(group) => format!("a {role} may not request changes of group `{group}`"),
            Action::Approve => "only an admin may approve or reject requests".to_owned(),
            Action::ApplyConfig => format!("a {role} may not apply configuration files"),
        })
    }

    fn scoped(&self) -> &'static str {
        if self.role == Role::Developer && self.groups.is_some() {
            " scoped to groups"
        } else {
            ""
        }
    }
}

/// Parses a scope sent as JSON: `null` (every group) or a list of group names, each checked
/// as a group name, without repeats, at most [`MAX_SCOPED_GROUPS`].
pub fn parse_scope(raw: Option<&[String]>) -> Result<Option<Vec<String>>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.len() > MAX_SCOPED_GROUPS {
        return Err(FieldError::new("groups", format!("may list at most {MAX_SCOPED_GROUPS} groups")));
    }
    let mut groups = Vec::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let name = crate::names::group_name(name).map_err(|m| FieldError::new(format!("groups[{i}]"), m))?;
        if !groups.contains(&name) {
            groups.push(name);
        }
    }
    if groups.is_empty() {
        return Err(FieldError::new("groups", "must name at least one group, or be null for every group"));
    }
    groups.sort();
    Ok(Some(groups))
}

/// The logged-in user as the console frame shows it (and hides what the role cannot do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub grant: Grant,
    /// Whether Production changes need an approved request (`GANTRY_PRODUCTION_APPROVAL`).
    pub production_approval: bool,
}

impl Me {
    /// Whether this user may release, switch or take off-line `group` in `env` directly.
    pub fn may_deploy(&self, group: &str, env: Environment) -> bool {
        self.grant.allows(Action::Deploy(group, env)) && !(self.production_approval && env == Environment::Prod)
    }

    /// Whether this user changes `env` of `group` through a request (Production, when it may
    /// not change it directly).
    pub fn may_request(&self, group: &str, env: Environment) -> bool {
        env == Environment::Prod && self.grant.allows(Action::RequestDeploy(group)) && !self.may_deploy(group, env)
    }
}

/// A user as the Users page and `GET /users` show it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    /// The groups a developer is scoped to; `null` for every group.
    pub groups: Option<Vec<String>>,
    pub disabled: bool,
    pub created_at: String,
}

/// `POST /users`: a new user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUserSpec {
    pub username: String,
    pub password: String,
    pub role: String,
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `PATCH /users/{username}`: what to change; absent fields stay as they are. `groups`
/// present and `null` means every group (a JSON `null` and an absent field differ).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, with = "present")]
    pub groups: Option<Option<Vec<String>>>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `Some(None)` for a field sent as `null`, `None` for a field left out.
mod present {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Vec<String>>>, D::Error> {
        Option::<Vec<String>>::deserialize(d).map(Some)
    }

    pub fn serialize<S: Serializer>(value: &Option<Option<Vec<String>>>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Environment::{Pre, Prod, Test};

    fn grant(role: Role, groups: Option<&[&str]>) -> Grant {
        Grant { role, groups: groups.map(|g| g.iter().map(|s| s.to_string()).collect()) }
    }

    #[test]
    fn each_role_may_do_what_its_description_says() {
        let admin = Grant::admin();
        let dev = grant(Role::Developer, None);
        let scoped = grant(Role::Developer, Some(&["petstore"]));
        let viewer = grant(Role::Viewer, None);
        let all = [
            Action::Read,
            Action::EditGroup("petstore"),
            Action::EditGroup("other"),
            Action::CreateGroup,
            Action::Deploy("petstore", Test),
            Action::Deploy("petstore", Pre),
            Action::Deploy("petstore", Prod),
            Action::Deploy("other", Test),
            Action::EditShared,
            Action::RevealSecret,
            Action::Debug(Test),
            Action::Debug(Prod),
            Action::ManageUsers,
            Action::RequestDeploy("petstore"),
            Action::RequestDeploy("other"),
            Action::Approve,
            Action::ApplyConfig,
        ];
        let table: [(&Grant, [bool; 17]); 4] = [
            (&admin, [true; 17]),
            (
                &dev,
                [
                    true, true, true, true, true, true, false, true, true, true, true, true, false, true, true, false,
                    true,
                ],
            ),
            (
                &scoped,
                [
                    true, true, false, false, true, true, false, false, false, true, true, true, false, true, false,
                    false, true,
                ],
            ),
            (
                &viewer,
                [
                    true, false, false, false, false, false, false, false, false, false, true, false, false, false,
                    false, false, false,
                ],
            ),
        ];
        for (grant, expected) in table {
            for (action, want) in all.iter().zip(expected) {
                assert_eq!(grant.allows(*action), want, "{grant:?} {action:?}");
                assert_eq!(grant.check(*action).is_ok(), want, "{grant:?} {action:?}");
            }
        }
        assert!(viewer.check(Action::Debug(Prod)).expect_err("refused").contains("Test only"));
        assert!(dev.check(Action::Deploy("petstore", Prod)).expect_err("refused").contains("only an admin"));
    }

    #[test]
    fn roles_and_scopes_parse_strictly() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::parse("Admin").is_err());
        assert_eq!(parse_scope(None), Ok(None));
        let scope = parse_scope(Some(&["b".into(), "a".into(), "b".into()])).expect("valid");
        assert_eq!(scope, Some(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(parse_scope(Some(&[])).expect_err("empty").field, "groups");
        assert_eq!(parse_scope(Some(&["bad name!".into()])).expect_err("bad").field, "groups[0]");
        let many: Vec<String> = (0..=MAX_SCOPED_GROUPS).map(|i| format!("g{i}")).collect();
        assert_eq!(parse_scope(Some(&many)).expect_err("too many").field, "groups");
    }

    #[test]
    fn a_patch_tells_null_groups_from_absent_ones() {
        let absent: UserPatch = serde_json::from_str(r#"{"role":"viewer"}"#).expect("json");
        assert_eq!(absent.groups, None);
        let null: UserPatch = serde_json::from_str(r#"{"groups":null}"#).expect("json");
        assert_eq!(null.groups, Some(None));
        let some: UserPatch = serde_json::from_str(r#"{"groups":["a"]}"#).expect("json");
        assert_eq!(some.groups, Some(Some(vec!["a".into()])));
    }
}
