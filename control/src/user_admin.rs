//! The Users page and `/users`: admins list, create and change users (role, scope of groups,
//! disabled, password). Every change is one audited transaction; passwords are hashed before
//! it begins (argon2 is slow, the write lock is shared) and never reach the audit trail.
//! There is always at least one enabled admin: demoting or disabling the last one is refused
//! (checked inside the write transaction, so two admins demoting each other cannot both win).

use crate::entity::user;
use crate::users::{
    hash_password, insert_user, stored_groups, Action, Grant, NewPassword, NewUserSpec, Role, UserPatch, UserView,
    Username,
};
use crate::{audit, Control, ControlError, CurrentUser};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;

fn view(model: &user::Model) -> Result<UserView, ControlError> {
    let grant = model.grant()?;
    Ok(UserView {
        username: model.username.clone(),
        role: grant.role,
        groups: grant.groups,
        disabled: model.disabled,
        created_at: model.created_at.to_rfc3339(),
    })
}

/// What the audit trail keeps of a user: never the password, only whether it changed.
#[derive(Serialize)]
struct Audited<'a> {
    role: Role,
    groups: &'a Option<Vec<String>>,
    disabled: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    password_changed: bool,
}

fn audited(view: &UserView, password_changed: bool) -> Audited<'_> {
    Audited { role: view.role, groups: &view.groups, disabled: view.disabled, password_changed }
}

/// A grant from the JSON's role and groups; a scope only for developers.
fn parse_grant(role: &str, groups: Option<&[String]>) -> Result<Grant, ControlError> {
    let role = Role::parse(role).map_err(|m| ControlError::field("role", m))?;
    let groups = domain::roles::parse_scope(groups).map_err(|e| ControlError::Validation(vec![e]))?;
    if groups.is_some() && role != Role::Developer {
        return Err(ControlError::field("groups", "only a developer is scoped to groups; leave it out or null"));
    }
    Ok(Grant { role, groups })
}

/// The field errors of a refused part of a new user.
fn field_errors(error: ControlError) -> Vec<domain::FieldError> {
    match error {
        ControlError::Validation(errors) => errors,
        other => vec![domain::FieldError::new("form", other.to_string())],
    }
}

/// Whether an enabled admin other than `except` exists.
async fn another_admin(db: &impl ConnectionTrait, except: i32) -> Result<bool, ControlError> {
    let others = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Admin.as_str()))
        .filter(user::Column::Disabled.eq(false))
        .filter(user::Column::Id.ne(except))
        .count(db)
        .await?;
    Ok(others > 0)
}

impl Control {
    /// `GET /users`, the Users page: every user, by name.
    pub async fn list_users(&self, actor: &CurrentUser) -> Result<Vec<UserView>, ControlError> {
        actor.require(Action::ManageUsers)?;
        let rows = user::Entity::find().order_by_asc(user::Column::Username).all(self.db()).await?;
        rows.iter().map(view).collect()
    }

    /// `POST /users`: a new user with a role (and a developer's groups).
    pub async fn add_user(&self, spec: &NewUserSpec, actor: &CurrentUser) -> Result<UserView, ControlError> {
        actor.require(Action::ManageUsers)?;
        let mut errors = Vec::new();
        let username = Username::parse(&spec.username).map_err(|e| errors.push(e)).ok();
        let password = NewPassword::parse(&spec.password).map_err(|e| errors.push(e)).ok();
        let grant = parse_grant(&spec.role, spec.groups.as_deref()).map_err(|e| errors.push(e)).ok();
        let (Some(username), Some(password), Some(grant)) = (username, password, grant) else {
            return Err(ControlError::Validation(errors.into_iter().flat_map(field_errors).collect()));
        };
        let hash = hash_password(password).await?;
        let txn = self.begin_write().await?;
        if user::Entity::find().filter(user::Column::Username.eq(username.as_str())).one(&txn).await?.is_some() {
            return Err(ControlError::field("username", format!("user `{}` already exists", username.as_str())));
        }
        let model = insert_user(&txn, &username, hash, &grant).await?;
        let created = view(&model)?;
        let after = audited(&created, false);
        audit::record(&txn, actor, "user.create", "user", &created.username, None::<&()>, Some(&after)).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// `PATCH /users/{username}`: changes a user's role, groups, disabled flag or password.
    /// A new password or disabling ends the user's sessions (their stamp no longer matches,
    /// or the user is disabled) and a disabled user's tokens stop working.
    pub async fn update_user(
        &self,
        username: &str,
        patch: &UserPatch,
        actor: &CurrentUser,
    ) -> Result<UserView, ControlError> {
        actor.require(Action::ManageUsers)?;
        let hash = match &patch.password {
            Some(raw) => Some(hash_password(NewPassword::parse(raw)?).await?),
            None => None,
        };
        let txn = self.begin_write().await?;
        let model = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("user `{username}`")))?;
        let before = view(&model)?;
        let role = patch.role.as_deref().unwrap_or(before.role.as_str());
        let groups = match &patch.groups {
            Some(groups) => groups.clone(),
            // A role change away from developer drops the scope; otherwise it stays.
            None if Role::parse(role).ok() == Some(Role::Developer) => before.groups.clone(),
            None => None,
        };
        let grant = parse_grant(role, groups.as_deref())?;
        let disabled = patch.disabled.unwrap_or(before.disabled);
        let stays_admin = grant.role == Role::Admin && !disabled;
        if before.role == Role::Admin && !before.disabled && !stays_admin && !another_admin(&txn, model.id).await? {
            return Err(ControlError::Conflict(format!(
                "`{username}` is the last enabled admin: make another user admin first"
            )));
        }
        let mut active: user::ActiveModel = model.into();
        active.role = Set(grant.role.as_str().to_owned());
        active.groups = Set(stored_groups(&grant));
        active.disabled = Set(disabled);
        if let Some(hash) = hash {
            active.password_hash = Set(hash);
        }
        active.updated_at = Set(chrono::Utc::now());
        let updated = view(&active.update(&txn).await?)?;
        let (old, new) = (audited(&before, false), audited(&updated, patch.password.is_some()));
        audit::record(&txn, actor, "user.update", "user", username, Some(&old), Some(&new)).await?;
        txn.commit().await?;
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn spec(username: &str, role: &str, groups: Option<&[&str]>) -> NewUserSpec {
        NewUserSpec {
            username: username.into(),
            password: "long enough password".into(),
            role: role.into(),
            groups: groups.map(|g| g.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[tokio::test]
    async fn admins_add_users_with_roles_and_others_may_not() {
        let (control, _dir) = testing::control().await;
        control.ensure_admin(Some("admin-password")).await.expect("admin");
        let admin = testing::admin();
        let dev = control.add_user(&spec("dev", "developer", Some(&["petstore"])), &admin).await.expect("dev");
        assert_eq!((dev.role, dev.groups.as_deref()), (Role::Developer, Some(&["petstore".to_string()][..])));
        let client = std::net::IpAddr::from([127, 0, 0, 1]);
        let acting = control.login("dev", "long enough password", client).await.expect("login");
        assert_eq!(acting.grant.role, Role::Developer);
        let refused = control.add_user(&spec("x", "admin", None), &acting).await.expect_err("refused");
        assert!(matches!(refused, ControlError::Forbidden(_)), "{refused}");
        assert!(matches!(control.list_users(&acting).await, Err(ControlError::Forbidden(_))));
        // Every field named at once.
        let bad = NewUserSpec { username: "a b".into(), password: "short".into(), role: "root".into(), groups: None };
        let ControlError::Validation(errors) = control.add_user(&bad, &admin).await.expect_err("invalid") else {
            panic!("validation")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "password", "role"]);
        let scoped_admin = spec("y", "admin", Some(&["petstore"]));
        assert!(control.add_user(&scoped_admin, &admin).await.expect_err("admin scope").to_string().contains("groups"));
        let taken = control.add_user(&spec("dev", "viewer", None), &admin).await.expect_err("taken");
        assert!(taken.to_string().contains("username"), "{taken}");
        let names: Vec<_> = control.list_users(&admin).await.expect("list").into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["admin", "dev"]);
    }

    #[tokio::test]
    async fn the_last_enabled_admin_stays_and_disabled_users_cannot_log_in() {
        let (control, _dir) = testing::control().await;
        control.ensure_admin(Some("admin-password")).await.expect("admin");
        let admin = testing::admin();
        let demote = UserPatch { role: Some("viewer".into()), ..Default::default() };
        let refused = control.update_user("admin", &demote, &admin).await.expect_err("last admin");
        assert!(matches!(refused, ControlError::Conflict(_)), "{refused}");
        let disable = UserPatch { disabled: Some(true), ..Default::default() };
        assert!(control.update_user("admin", &disable, &admin).await.is_err());
        control.add_user(&spec("second", "admin", None), &admin).await.expect("second admin");
        let demoted = control.update_user("admin", &demote, &admin).await.expect("now allowed");
        assert_eq!(demoted.role, Role::Viewer);
        let client = std::net::IpAddr::from([127, 0, 0, 1]);
        let stamp = control.session_stamp(2).await.expect("stamp");
        assert!(control.session_user(2, stamp.as_deref()).await.expect("session").is_some());
        let token = control.create_token("ci", "second").await.expect("token");
        // `second` is now the last admin: disabling it is refused; make `admin` admin again.
        assert!(control.update_user("second", &disable, &admin).await.is_err());
        let promote = UserPatch { role: Some("admin".into()), ..Default::default() };
        control.update_user("admin", &promote, &admin).await.expect("promote");
        control.update_user("second", &disable, &admin).await.expect("disable");
        let login = control.login("second", "long enough password", client).await.expect_err("disabled");
        assert!(login.to_string().contains("disabled"), "{login}");
        assert!(control.session_user(2, stamp.as_deref()).await.expect("session").is_none(), "session ended");
        assert!(matches!(control.authenticate_token(&token).await, Err(ControlError::Unauthenticated)));
        // A password reset; the audit trail never holds the password.
        let reset = UserPatch { password: Some("another long password".into()), ..Default::default() };
        control.update_user("admin", &reset, &admin).await.expect("reset");
        assert!(control.login("admin", "another long password", client).await.is_ok());
        let audit = control.audit(&Default::default()).await.expect("audit");
        let text = serde_json::to_string(&audit).expect("json");
        assert!(!text.contains("another long password") && text.contains("password_changed"), "{text}");
    }

    #[tokio::test]
    async fn admins_demoting_each_other_at_once_leave_one_admin() {
        let (control, _dir) = testing::control().await;
        control.ensure_admin(Some("admin-password")).await.expect("admin");
        let admin = testing::admin();
        control.add_user(&spec("second", "admin", None), &admin).await.expect("second");
        let demote = UserPatch { role: Some("developer".into()), ..Default::default() };
        let (a, b) =
            tokio::join!(control.update_user("admin", &demote, &admin), control.update_user("second", &demote, &admin));
        assert!(a.is_ok() != b.is_ok(), "exactly one demotion wins: {a:?} {b:?}");
        let admins = control.list_users(&admin).await.expect("list").iter().filter(|u| u.role == Role::Admin).count();
        assert_eq!(admins, 1);
    }
}
