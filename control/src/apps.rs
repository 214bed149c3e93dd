//! Apps and authorizations: who may call `auth = app` APIs, where, and until when.
//!
//! Every change commits in one transaction with its audit event and a `config_revision`
//! bump, then the gateway's app table is recompiled and swapped in, so a reset secret, a
//! disabled app or a revoked authorization holds from the next request on.

use crate::entity::{api, api_group, app, authorization};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::app::{AppPatch, AppSpec, AppView, AuthorizationView, AuthorizeSpec, Credential};
use gateway::apps::{AppCredential, AppTable};
use rand::Rng;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

/// A random credential: `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill(buffer.as_mut_slice());
    hex::encode(buffer)
}

/// Reads an expiry: RFC 3339, or `YYYY-MM-DDTHH:MM[:SS]` (what a browser's date-time
/// field sends) taken as UTC. It must lie in the future.
pub fn parse_expiry(raw: Option<&str>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ControlError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let parsed = DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|n| n.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map(|n| n.and_utc()))
        .map_err(|_| {
            ControlError::field("expires_at", "must be a date and time such as 2027-01-31T18:00 (UTC), or RFC 3339")
        })?;
    if parsed <= now {
        return Err(ControlError::field("expires_at", "must be in the future"));
    }
    Ok(Some(parsed))
}

fn view(model: &app::Model, authorizations: u64, with_secret: bool) -> AppView {
    AppView {
        id: model.id,
        name: model.name.clone(),
        description: model.description.clone(),
        app_key: model.app_key.clone(),
        app_secret: with_secret.then(|| model.app_secret.clone()),
        app_code: with_secret.then(|| model.app_code.clone()),
        enabled: model.enabled,
        authorizations,
        created_at: model.created_at.to_rfc3339(),
    }
}

impl Control {
    async fn find_app(&self, db: &impl ConnectionTrait, name: &str) -> Result<app::Model, ControlError> {
        app::Entity::find()
            .filter(app::Column::Name.eq(name.trim()))
            .one(db)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("app `{}`", name.trim())))
    }

    async fn authorization_count(&self, app_id: i32) -> Result<u64, ControlError> {
        Ok(authorization::Entity::find().filter(authorization::Column::AppId.eq(app_id)).count(self.db()).await?)
    }

    /// Every app, by name; secrets left out.
    pub async fn list_apps(&self) -> Result<Vec<AppView>, ControlError> {
        let apps = app::Entity::find().order_by_asc(app::Column::Name).all(self.db()).await?;
        let mut views = Vec::with_capacity(apps.len());
        for model in &apps {
            views.push(view(model, self.authorization_count(model.id).await?, false));
        }
        Ok(views)
    }

    /// One app; its AppSecret and AppCode only when `with_secret` (the console's **Reveal**).
    pub async fn get_app(&self, name: &str, with_secret: bool) -> Result<AppView, ControlError> {
        let model = self.find_app(self.db(), name).await?;
        Ok(view(&model, self.authorization_count(model.id).await?, with_secret))
    }

    /// One app with its AppSecret and AppCode (the **Reveal** button, `?reveal=true`):
    /// developers and admins only.
    pub async fn reveal_app(&self, name: &str, actor: &CurrentUser) -> Result<AppView, ControlError> {
        actor.require(Action::RevealSecret)?;
        self.get_app(name, true).await
    }

    /// Creates an app with a new AppKey, AppSecret and AppCode; the answer includes the secret.
    pub async fn create_app(&self, spec: &AppSpec, actor: &CurrentUser) -> Result<AppView, ControlError> {
        actor.require(Action::EditShared)?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        let txn = self.begin_write().await?;
        if app::Entity::find().filter(app::Column::Name.eq(&spec.name)).one(&txn).await?.is_some() {
            return Err(ControlError::field("name", format!("an app named `{}` already exists", spec.name)));
        }
        let now = Utc::now();
        let model = app::ActiveModel {
            name: Set(spec.name.clone()),
            description: Set(spec.description.clone()),
            app_key: Set(random_hex(8)),
            app_secret: Set(random_hex(16)),
            app_code: Set(random_hex(16)),
            enabled: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(&txn, actor, "app.create", "app", &spec.name, None::<&AppSpec>, Some(&spec)).await?;
        self.commit_live(txn, Refresh::Apps).await?;
        Ok(view(&model, 0, true))
    }

    /// Renames, describes, enables or disables an app.
    pub async fn update_app(&self, name: &str, patch: &AppPatch, actor: &CurrentUser) -> Result<AppView, ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let before = self.find_app(&txn, name).await?;
        let spec = AppSpec {
            name: patch.name.clone().unwrap_or_else(|| before.name.clone()),
            description: patch.description.clone().unwrap_or_else(|| before.description.clone()),
        }
        .validate()
        .map_err(ControlError::Validation)?;
        if spec.name != before.name
            && app::Entity::find().filter(app::Column::Name.eq(&spec.name)).one(&txn).await?.is_some()
        {
            return Err(ControlError::field("name", format!("an app named `{}` already exists", spec.name)));
        }
        let mut active: app::ActiveModel = before.clone().into();
        active.name = Set(spec.name.clone());
        active.description = Set(spec.description.clone());
        if let Some(enabled) = patch.enabled {
            active.enabled = Set(enabled);
        }
        active.updated_at = Set(Utc::now());
        let after = active.update(&txn).await?;
        let summary =
            |m: &app::Model| serde_json::json!({"name": m.name, "description": m.description, "enabled": m.enabled});
        audit::record(&txn, actor, "app.update", "app", &after.name, Some(&summary(&before)), Some(&summary(&after)))
            .await?;
        self.commit_live(txn, Refresh::Apps).await?;
        Ok(view(&after, self.authorization_count(after.id).await?, false))
    }

    /// Replaces the AppSecret or the AppCode; the old one stops working at once. The answer
    /// includes the new secret.
    pub async fn reset_credential(
        &self,
        name: &str,
        credential: Credential,
        actor: &CurrentUser,
    ) -> Result<AppView, ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let before = self.find_app(&txn, name).await?;
        let mut active: app::ActiveModel = before.clone().into();
        let action = match credential {
            Credential::Secret => {
                active.app_secret = Set(random_hex(16));
                "app.reset_secret"
            }
            Credential::Code => {
                active.app_code = Set(random_hex(16));
                "app.reset_code"
            }
        };
        active.updated_at = Set(Utc::now());
        let after = active.update(&txn).await?;
        audit::record(&txn, actor, action, "app", &after.name, None::<&()>, None::<&()>).await?;
        self.commit_live(txn, Refresh::Apps).await?;
        Ok(view(&after, self.authorization_count(after.id).await?, true))
    }

    /// Sets an app's AppKey, AppSecret and AppCode to given values (a configuration file
    /// exported with its secrets, moving apps between instances). Each is 8 to 64 letters,
    /// digits, `-` or `_`; an AppKey another app holds is refused. The audit event names the
    /// app, never the values.
    pub async fn set_credentials(
        &self,
        name: &str,
        credentials: &crate::config::Credentials,
        actor: &CurrentUser,
    ) -> Result<AppView, ControlError> {
        actor.require(Action::EditShared)?;
        actor.require(Action::RevealSecret)?;
        let mut errors = Vec::new();
        for (field, value) in [
            ("app_key", &credentials.app_key),
            ("app_secret", &credentials.app_secret),
            ("app_code", &credentials.app_code),
        ] {
            let fits = (8..=64).contains(&value.len())
                && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !fits {
                errors.push(crate::FieldError::new(field, "must be 8 to 64 letters, digits, `-` or `_`"));
            }
        }
        if !errors.is_empty() {
            return Err(ControlError::Validation(errors));
        }
        let txn = self.begin_write().await?;
        let before = self.find_app(&txn, name).await?;
        let taken = app::Entity::find()
            .filter(app::Column::AppKey.eq(&credentials.app_key))
            .filter(app::Column::Id.ne(before.id))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(ControlError::field("app_key", "another app has this AppKey"));
        }
        let mut active: app::ActiveModel = before.into();
        active.app_key = Set(credentials.app_key.clone());
        active.app_secret = Set(credentials.app_secret.clone());
        active.app_code = Set(credentials.app_code.clone());
        active.updated_at = Set(Utc::now());
        let after = active.update(&txn).await?;
        audit::record(&txn, actor, "app.set_credentials", "app", &after.name, None::<&()>, None::<&()>).await?;
        self.commit_live(txn, Refresh::Apps).await?;
        Ok(view(&after, self.authorization_count(after.id).await?, true))
    }

    /// Deletes an app and its authorizations.
    pub async fn delete_app(&self, name: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let model = self.find_app(&txn, name).await?;
        authorization::Entity::delete_many().filter(authorization::Column::AppId.eq(model.id)).exec(&txn).await?;
        app::Entity::delete_by_id(model.id).exec(&txn).await?;
        let summary = serde_json::json!({"name": model.name, "description": model.description});
        audit::record(&txn, actor, "app.delete", "app", &model.name, Some(&summary), None::<&()>).await?;
        self.commit_live(txn, Refresh::Apps).await
    }

    /// Authorizes an app for APIs of one group in one environment (granting again replaces
    /// the expiry). Returns the app's authorizations.
    pub async fn authorize(
        &self,
        app_name: &str,
        spec: &AuthorizeSpec,
        actor: &CurrentUser,
    ) -> Result<Vec<AuthorizationView>, ControlError> {
        actor.require(Action::EditShared)?;
        let env = spec.validate().map_err(ControlError::Validation)?;
        let expires_at = parse_expiry(spec.expires_at.as_deref(), Utc::now())?;
        let group = self
            .find_group(spec.group.trim())
            .await
            .map_err(|_| ControlError::field("group", format!("no API group is named `{}`", spec.group.trim())))?;
        let txn = self.begin_write().await?;
        let target = self.find_app(&txn, app_name).await?;
        let found = api::Entity::find()
            .filter(api::Column::GroupId.eq(group.id))
            .filter(api::Column::Id.is_in(spec.apis.clone()))
            .all(&txn)
            .await?;
        if let Some(missing) = spec.apis.iter().find(|id| !found.iter().any(|a| a.id == **id)) {
            return Err(ControlError::field("apis", format!("API {missing} is not in group `{}`", group.name)));
        }
        for api in &found {
            grant(&txn, target.id, api.id, env, expires_at).await?;
        }
        let after = serde_json::json!({
            "group": group.name, "apis": spec.apis, "env": env, "expires_at": expires_at.map(|e| e.to_rfc3339()),
        });
        audit::record(&txn, actor, "app.authorize", "app", &target.name, None::<&()>, Some(&after)).await?;
        self.commit_live(txn, Refresh::Apps).await?;
        self.list_authorizations(&target.name).await
    }

    /// Authorizes several apps for one API in one environment, in one transaction (the
    /// API page's **Authorize**): every app must exist, or none is authorized. Granting an
    /// app again replaces its expiry. Returns the API's authorizations.
    pub async fn authorize_apps(
        &self,
        group: &str,
        api_id: i32,
        spec: &domain::app::ApiAuthorizeSpec,
        actor: &CurrentUser,
    ) -> Result<Vec<AuthorizationView>, ControlError> {
        actor.require(Action::EditShared)?;
        let env = spec.validate().map_err(ControlError::Validation)?;
        let expires_at = parse_expiry(spec.expires_at.as_deref(), Utc::now())?;
        let group_model = self.find_group(group).await?;
        let txn = self.begin_write().await?;
        let found = api::Entity::find_by_id(api_id)
            .filter(api::Column::GroupId.eq(group_model.id))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("API {api_id} of group `{}`", group_model.name)))?;
        let mut targets = Vec::new();
        for name in &spec.apps {
            let target = self.find_app(&txn, name.trim()).await.map_err(|e| match e {
                ControlError::NotFound(_) => ControlError::field("apps", format!("no app is named `{}`", name.trim())),
                other => other,
            })?;
            targets.push(target);
        }
        for target in &targets {
            grant(&txn, target.id, found.id, env, expires_at).await?;
            let after = serde_json::json!({
                "group": group_model.name, "apis": [found.id], "env": env, "expires_at": expires_at.map(|e| e.to_rfc3339()),
            });
            audit::record(&txn, actor, "app.authorize", "app", &target.name, None::<&()>, Some(&after)).await?;
        }
        self.commit_live(txn, Refresh::Apps).await?;
        self.api_authorizations(&group_model.name, found.id).await
    }

    /// Revokes one of an app's authorizations (by id).
    pub async fn revoke(&self, app_name: &str, id: i32, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditShared)?;
        let txn = self.begin_write().await?;
        let target = self.find_app(&txn, app_name).await?;
        let found = authorization::Entity::find_by_id(id)
            .filter(authorization::Column::AppId.eq(target.id))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("authorization {id} of app `{}`", target.name)))?;
        authorization::Entity::delete_by_id(found.id).exec(&txn).await?;
        let before = serde_json::json!({"api": found.api_id, "env": found.environment});
        audit::record(&txn, actor, "app.revoke", "app", &target.name, Some(&before), None::<&()>).await?;
        self.commit_live(txn, Refresh::Apps).await
    }

    /// An app's authorizations, by group, API and environment.
    pub async fn list_authorizations(&self, app_name: &str) -> Result<Vec<AuthorizationView>, ControlError> {
        let target = self.find_app(self.db(), app_name).await?;
        let rows =
            authorization::Entity::find().filter(authorization::Column::AppId.eq(target.id)).all(self.db()).await?;
        self.authorization_views(rows).await
    }

    /// The apps authorized for one API of a group's draft.
    pub async fn api_authorizations(&self, group: &str, api_id: i32) -> Result<Vec<AuthorizationView>, ControlError> {
        let group = self.find_group(group).await?;
        api::Entity::find_by_id(api_id)
            .filter(api::Column::GroupId.eq(group.id))
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("API {api_id} in group `{}`", group.name)))?;
        let rows = authorization::Entity::find().filter(authorization::Column::ApiId.eq(api_id)).all(self.db()).await?;
        self.authorization_views(rows).await
    }

    async fn authorization_views(
        &self,
        rows: Vec<authorization::Model>,
    ) -> Result<Vec<AuthorizationView>, ControlError> {
        let ids = |f: fn(&authorization::Model) -> i32| rows.iter().map(f).collect::<Vec<_>>();
        let apps: HashMap<i32, app::Model> = app::Entity::find()
            .filter(app::Column::Id.is_in(ids(|r| r.app_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let apis: HashMap<i32, api::Model> = api::Entity::find()
            .filter(api::Column::Id.is_in(ids(|r| r.api_id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let groups: HashMap<i32, String> = api_group::Entity::find()
            .filter(api_group::Column::Id.is_in(apis.values().map(|a| a.group_id).collect::<Vec<_>>()))
            .all(self.db())
            .await?
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        let now = Utc::now();
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let (Some(app), Some(api)) = (apps.get(&row.app_id), apis.get(&row.api_id)) else { continue };
            let env = row.environment()?;
            views.push(AuthorizationView {
                id: row.id,
                app: app.name.clone(),
                group: groups.get(&api.group_id).cloned().unwrap_or_default(),
                api_id: api.id,
                api_name: api.name.clone(),
                api_route: format!("{} {}", api.method, api.path),
                env,
                expires_at: row.expires_at.map(|e| e.to_rfc3339()),
                expired: row.expires_at.is_some_and(|e| e <= now),
                created_at: row.created_at.to_rfc3339(),
            });
        }
        views.sort_by(|a, b| (&a.group, &a.api_name, a.env).cmp(&(&b.group, &b.api_name, b.env)));
        Ok(views)
    }

    /// The gateway's view of every app and its authorizations.
    pub(crate) async fn compile_apps(&self) -> Result<AppTable, ControlError> {
        let mut apps: HashMap<i32, AppCredential> = app::Entity::find()
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.id, AppCredential::new(m.id, &m.name, &m.app_key, &m.app_secret, &m.app_code, m.enabled)))
            .collect();
        for row in authorization::Entity::find().all(self.db()).await? {
            let Some(app) = apps.get_mut(&row.app_id) else { continue };
            let Ok(env) = row.environment() else { continue };
            app.authorize(row.api_id, env, row.expires_at.map(|e| e.timestamp_millis()));
        }
        Ok(AppTable::new(apps.into_values().collect()))
    }

    /// Recompiles the app table and swaps it in, sharing every group.
    pub(crate) async fn refresh_apps(&self) -> Result<(), ControlError> {
        let _guard = self.gateway_lock.lock().await;
        let revision = self.config_revision().await?;
        let apps = self.compile_apps().await?;
        let snapshot = self.snapshots.current().with_apps(apps, revision);
        self.snapshots.swap(snapshot);
        Ok(())
    }
}

/// Authorizes one app for one API in one environment inside `txn`; granting again replaces
/// the expiry.
async fn grant(
    txn: &sea_orm::DatabaseTransaction,
    app_id: i32,
    api_id: i32,
    env: domain::Environment,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), ControlError> {
    authorization::Entity::insert(authorization::ActiveModel {
        app_id: Set(app_id),
        api_id: Set(api_id),
        environment: Set(env.as_str().to_owned()),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            authorization::Column::AppId,
            authorization::Column::ApiId,
            authorization::Column::Environment,
        ])
        .update_columns([authorization::Column::ExpiresAt, authorization::Column::CreatedAt])
        .to_owned(),
    )
    .exec(txn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{admin, control};
    use domain::Environment;

    /// 40 writers at once on SQLite: each waits for the write lock instead of failing with
    /// `database is locked` (a deferred transaction that read first cannot be retried).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forty_parallel_creates_all_land() {
        let (control, _dir) = control().await;
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let control = control.clone();
                tokio::spawn(async move {
                    let spec = AppSpec { name: format!("app-{i}"), ..Default::default() };
                    control.create_app(&spec, &admin()).await
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("every create lands");
        }
        assert_eq!(control.list_apps().await.expect("list").len(), 40);
    }
    use domain::api::ApiSpec;
    use domain::group::GroupSpec;
    use gateway::apps::Grant;

    async fn with_app() -> (Control, tempfile::TempDir, i32, AppView) {
        let (control, dir) = control().await;
        let group = GroupSpec { name: "petstore".into(), subdomain: "petstore".into(), description: String::new() };
        control.create_group(&group, &admin()).await.expect("group");
        let spec: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "Pets", "auth": "app", "request": {"method": "GET", "path": "/pets"}
        }))
        .expect("spec");
        let api = control.create_api("petstore", &spec, &admin()).await.expect("api");
        let app = control.create_app(&AppSpec { name: "web".into(), description: String::new() }, &admin()).await;
        (control, dir, api.id, app.expect("app"))
    }

    fn authorize_spec(api: i32, expires_at: Option<&str>) -> AuthorizeSpec {
        AuthorizeSpec {
            group: "petstore".into(),
            apis: vec![api],
            env: "test".into(),
            expires_at: expires_at.map(Into::into),
        }
    }

    #[tokio::test]
    async fn apps_get_fresh_credentials_and_the_gateway_sees_every_change() {
        let (control, _dir, api, app) = with_app().await;
        let secret = app.app_secret.clone().expect("the new secret is shown once");
        let first_code = app.app_code.clone().expect("the new AppCode is shown once");
        assert_eq!((app.app_key.len(), secret.len(), first_code.len()), (16, 32, 32));
        let listed = &control.list_apps().await.expect("list")[0];
        assert_eq!((&listed.app_secret, &listed.app_code), (&None, &None), "lists leave the secret and the code out");
        let shown = control.get_app("web", false).await.expect("get");
        assert_eq!((shown.app_secret, shown.app_code), (None, None), "only a reveal shows them");
        let revealed = control.get_app("web", true).await.expect("reveal");
        assert_eq!(revealed.app_code.as_deref(), Some(first_code.as_str()));
        let revision = control.config_revision().await.expect("revision");

        control.authorize("web", &authorize_spec(api, None), &admin()).await.expect("authorize");
        let snapshot = control.snapshots().current();
        let seen = snapshot.apps().by_key(&app.app_key).expect("in the gateway");
        assert_eq!(seen.grant(api, Environment::Test), Grant::Until(None));
        assert_eq!(seen.grant(api, Environment::Prod), Grant::None);

        let reset = control.reset_credential("web", Credential::Secret, &admin()).await.expect("reset");
        assert_ne!(reset.app_secret, Some(secret));
        assert_eq!(
            control.snapshots().current().apps().by_key(&app.app_key).expect("app").secret,
            reset.app_secret.expect("shown")
        );
        let code = control.reset_credential("web", Credential::Code, &admin()).await.expect("reset code").app_code;
        let code = code.expect("a reset shows the new code");
        assert!(control.snapshots().current().apps().by_code(&first_code).is_none(), "the old code stops at once");
        assert!(control.snapshots().current().apps().by_code(&code).is_some());

        let disabled = AppPatch { enabled: Some(false), ..Default::default() };
        control.update_app("web", &disabled, &admin()).await.expect("disable");
        assert!(!control.snapshots().current().apps().by_code(&code).expect("app").enabled);
        assert_eq!(control.config_revision().await.expect("revision"), revision + 4);

        let id = control.list_authorizations("web").await.expect("list")[0].id;
        control.revoke("web", id, &admin()).await.expect("revoke");
        let snapshot = control.snapshots().current();
        assert_eq!(snapshot.apps().by_code(&code).expect("app").grant(api, Environment::Test), Grant::None);
    }

    #[tokio::test]
    async fn bad_authorizations_name_the_field_and_change_nothing() {
        let (control, _dir, api, _app) = with_app().await;
        let revision = control.config_revision().await.expect("revision");
        let field = |e: ControlError| match e {
            ControlError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other}"),
        };
        let past = control.authorize("web", &authorize_spec(api, Some("2001-01-01T00:00")), &admin()).await;
        assert_eq!(field(past.expect_err("past")), "expires_at");
        let garbage = control.authorize("web", &authorize_spec(api, Some("next tuesday")), &admin()).await;
        assert_eq!(field(garbage.expect_err("garbage")), "expires_at");
        let other = control.authorize("web", &authorize_spec(api + 100, None), &admin()).await;
        assert_eq!(field(other.expect_err("unknown API")), "apis");
        let mut no_group = authorize_spec(api, None);
        no_group.group = "nope".into();
        assert_eq!(field(control.authorize("web", &no_group, &admin()).await.expect_err("group")), "group");
        let taken = control.create_app(&AppSpec { name: "web".into(), description: String::new() }, &admin()).await;
        assert_eq!(field(taken.expect_err("taken")), "name");
        assert_eq!(control.config_revision().await.expect("revision"), revision);
        assert!(control.list_authorizations("web").await.expect("list").is_empty());

        let until = (Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M").to_string();
        let granted = control.authorize("web", &authorize_spec(api, Some(&until)), &admin()).await.expect("ok");
        assert_eq!(granted.len(), 1);
        assert!(granted[0].expires_at.as_deref().is_some_and(|e| e.starts_with(&until)));
        // The gateway gets the same instant, in epoch milliseconds (phases::auth tests when it
        // takes effect, with an injected clock).
        let until_ms = chrono::NaiveDateTime::parse_from_str(&until, "%Y-%m-%dT%H:%M").expect("until").and_utc();
        let seen = control.snapshots().current();
        let grant = seen.apps().by_code(&control.get_app("web", true).await.expect("app").app_code.expect("code"));
        assert_eq!(grant.expect("app").grant(api, Environment::Test), Grant::Until(Some(until_ms.timestamp_millis())));
        let again = control.authorize("web", &authorize_spec(api, None), &admin()).await.expect("again");
        assert_eq!((again.len(), again[0].expires_at.clone()), (1, None), "granting again replaces the expiry");
        assert_eq!(control.api_authorizations("petstore", api).await.expect("by API")[0].app, "web");
    }
}
