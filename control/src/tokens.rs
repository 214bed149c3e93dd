//! Bearer tokens for the admin REST API. A token is shown once when created; the store keeps
//! only its SHA-256, so a leaked database does not leak usable tokens. A token may expire, is
//! listed (never shown again) and revoked; its `last_used_at` is written at most once a
//! minute, not on every request.

use crate::entity::{api_token, user};
use crate::users::Action;
use crate::{Control, ControlError, CurrentUser};
pub use domain::views::{NewToken, TokenSpec, TokenView};
use rand::Rng;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

/// Every token starts with this, so it is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "gty_";

/// The longest a token may be made to last, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// Uses within this long of the last recorded one are not written again.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token's name: 1 to 100 characters.
fn parse_name(raw: &str) -> Result<String, ControlError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ControlError::field("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn view(model: &api_token::Model, owner: &str) -> TokenView {
    TokenView {
        id: model.id,
        name: model.name.clone(),
        user: owner.to_owned(),
        created_at: model.created_at.to_rfc3339(),
        last_used_at: model.last_used_at.map(|t| t.to_rfc3339()),
        expires_at: model.expires_at.map(|t| t.to_rfc3339()),
        expired: model.expires_at.is_some_and(|t| t <= chrono::Utc::now()),
    }
}

impl Control {
    /// Creates a token for `username` that never expires and returns it; it cannot be shown
    /// again.
    pub async fn create_token(&self, name: &str, username: &str) -> Result<String, ControlError> {
        let spec = TokenSpec { name: name.to_owned(), expires_in_days: None };
        Ok(self.issue_token(&spec, username).await?.token)
    }

    /// Creates a token for `username` as `spec` says; the answer holds the token, once (the
    /// command line's `gantry token create`; the console and REST call
    /// [`Control::issue_token_as`]).
    pub async fn issue_token(&self, spec: &TokenSpec, username: &str) -> Result<NewToken, ControlError> {
        self.insert_token(self.db(), spec, username).await
    }

    /// Creates a token acting as `actor`, audited (`token.create`, never the token).
    pub async fn issue_token_as(&self, spec: &TokenSpec, actor: &CurrentUser) -> Result<NewToken, ControlError> {
        let txn = self.begin_write().await?;
        let created = self.insert_token(&txn, spec, &actor.username).await?;
        let id = created.view.id.to_string();
        crate::audit::record(&txn, actor, "token.create", "token", &id, None::<&()>, Some(&created.view)).await?;
        txn.commit().await?;
        Ok(created)
    }

    async fn insert_token(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        spec: &TokenSpec,
        username: &str,
    ) -> Result<NewToken, ControlError> {
        let name = parse_name(&spec.name)?;
        let expires_at = match spec.expires_in_days {
            None => None,
            Some(days @ 1..=MAX_TOKEN_DAYS) => Some(chrono::Utc::now() + chrono::TimeDelta::days(i64::from(days))),
            Some(_) => {
                return Err(ControlError::field(
                    "expires_in_days",
                    format!("must be 1 to {MAX_TOKEN_DAYS} days, or left out for a token that does not expire"),
                ))
            }
        };
        let owner = user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(db)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("user `{username}`")))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(rand::rng().random::<[u8; 32]>()));
        let model = api_token::ActiveModel {
            name: Set(name),
            token_hash: Set(token_hash(&token)),
            user_id: Set(owner.id),
            created_at: Set(chrono::Utc::now()),
            last_used_at: Set(None),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(NewToken { view: view(&model, &owner.username), token })
    }

    /// Every token, newest first (never the tokens themselves).
    pub async fn list_tokens(&self) -> Result<Vec<TokenView>, ControlError> {
        let rows = api_token::Entity::find()
            .find_also_related(user::Entity)
            .order_by_desc(api_token::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows.iter().map(|(token, owner)| view(token, owner.as_ref().map_or("?", |o| o.username.as_str()))).collect())
    }

    /// The tokens `actor` may see: everybody's for an admin, its own for anyone else.
    pub async fn tokens_of(&self, actor: &CurrentUser) -> Result<Vec<TokenView>, ControlError> {
        let all = self.list_tokens().await?;
        if actor.grant.allows(Action::ManageUsers) {
            return Ok(all);
        }
        Ok(all.into_iter().filter(|token| token.user == actor.username).collect())
    }

    /// Revokes a token as `actor`: an admin any, anyone else only its own (another user's
    /// token is "not found", so ids of others' tokens are not confirmed).
    /// Audited (`token.revoke`).
    pub async fn revoke_token_as(&self, id: i32, actor: &CurrentUser) -> Result<(), ControlError> {
        let txn = self.begin_write().await?;
        let found = api_token::Entity::find_by_id(id).one(&txn).await?;
        let found = found
            .filter(|t| t.user_id == actor.id || actor.grant.allows(Action::ManageUsers))
            .ok_or_else(|| ControlError::NotFound(format!("token {id}")))?;
        let before = serde_json::json!({"name": found.name, "user_id": found.user_id});
        api_token::Entity::delete_by_id(id).exec(&txn).await?;
        crate::audit::record(&txn, actor, "token.revoke", "token", &id.to_string(), Some(&before), None::<&()>).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Revokes a token: it stops working at once (the command line's `gantry token revoke`;
    /// the console and REST call [`Control::revoke_token_as`]).
    pub async fn revoke_token(&self, id: i32) -> Result<(), ControlError> {
        let done = api_token::Entity::delete_by_id(id).exec(self.db()).await?;
        if done.rows_affected == 0 {
            return Err(ControlError::NotFound(format!("token {id}")));
        }
        Ok(())
    }

    /// The user a bearer token belongs to, if the token exists and has not expired.
    pub async fn authenticate_token(&self, token: &str) -> Result<CurrentUser, ControlError> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(ControlError::Unauthenticated);
        }
        let (found, owner) = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(token)))
            .find_also_related(user::Entity)
            .one(self.db())
            .await?
            .ok_or(ControlError::Unauthenticated)?;
        let owner = owner.filter(|owner| !owner.disabled).ok_or(ControlError::Unauthenticated)?;
        let now = chrono::Utc::now();
        if found.expires_at.is_some_and(|at| at <= now) {
            return Err(ControlError::Unauthenticated);
        }
        // One write a minute per token at most: a busy script does not write on every call.
        if found.last_used_at.is_none_or(|at| now - at >= LAST_USED_RESOLUTION) {
            let mut active: api_token::ActiveModel = found.into();
            active.last_used_at = Set(Some(now));
            active.update(self.db()).await?;
        }
        owner.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn control() -> (Control, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let control = Control::open(&crate::db::sqlite_url(dir.path())).await.expect("open");
        control.ensure_admin(Some("password-1")).await.expect("admin");
        (control, dir)
    }

    #[tokio::test]
    async fn a_created_token_authenticates_its_owner_and_others_do_not() {
        let (control, _dir) = control().await;
        let token = control.create_token("ci", "admin").await.expect("token");
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(control.authenticate_token(&token).await.expect("valid").username, "admin");
        let forged = format!("{TOKEN_PREFIX}{}", "0".repeat(64));
        assert!(matches!(control.authenticate_token(&forged).await, Err(ControlError::Unauthenticated)));
        assert!(matches!(control.create_token("", "admin").await, Err(ControlError::Validation(_))));
        assert!(matches!(control.create_token("x", "nobody").await, Err(ControlError::NotFound(_))));
    }

    #[tokio::test]
    async fn tokens_are_listed_expire_and_are_revoked() {
        let (control, _dir) = control().await;
        let spec = TokenSpec { name: "week".into(), expires_in_days: Some(7) };
        let week = control.issue_token(&spec, "admin").await.expect("token");
        assert!(week.view.expires_at.is_some() && !week.view.expired);
        let listed = control.list_tokens().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].name.as_str(), listed[0].user.as_str()), ("week", "admin"));
        assert!(!serde_json::to_string(&listed).expect("json").contains(&week.token), "never listed");
        for days in [0, MAX_TOKEN_DAYS + 1] {
            let bad = TokenSpec { name: "x".into(), expires_in_days: Some(days) };
            let error = control.issue_token(&bad, "admin").await.expect_err("refused");
            assert!(error.to_string().contains("expires_in_days"), "{error}");
        }
        // Expired: refused.
        let mut active: api_token::ActiveModel =
            api_token::Entity::find_by_id(week.view.id).one(control.db()).await.expect("find").expect("row").into();
        active.expires_at = Set(Some(chrono::Utc::now() - chrono::TimeDelta::seconds(1)));
        active.update(control.db()).await.expect("update");
        assert!(matches!(control.authenticate_token(&week.token).await, Err(ControlError::Unauthenticated)));
        assert!(control.list_tokens().await.expect("list")[0].expired);
        // Revoked: refused, and gone from the list.
        let forever = control.create_token("forever", "admin").await.expect("token");
        let id = control.list_tokens().await.expect("list")[0].id;
        control.authenticate_token(&forever).await.expect("valid");
        control.revoke_token(id).await.expect("revoke");
        assert!(matches!(control.authenticate_token(&forever).await, Err(ControlError::Unauthenticated)));
        assert!(matches!(control.revoke_token(id).await, Err(ControlError::NotFound(_))));
    }

    #[tokio::test]
    async fn last_used_is_written_at_most_once_a_minute() {
        let (control, _dir) = control().await;
        let token = control.create_token("busy", "admin").await.expect("token");
        control.authenticate_token(&token).await.expect("first use");
        let first = control.list_tokens().await.expect("list")[0].last_used_at.clone().expect("recorded");
        for _ in 0..5 {
            control.authenticate_token(&token).await.expect("use");
        }
        assert_eq!(control.list_tokens().await.expect("list")[0].last_used_at, Some(first), "not rewritten");
    }

    #[tokio::test]
    async fn console_tokens_are_audited_and_only_their_owner_or_an_admin_sees_and_revokes_them() {
        let (control, _dir) = control().await;
        let admin = crate::testing::admin();
        let spec = crate::users::NewUserSpec {
            username: "dev".into(),
            password: "long enough password".into(),
            role: "developer".into(),
            groups: None,
        };
        control.add_user(&spec, &admin).await.expect("dev");
        let client = std::net::IpAddr::from([127, 0, 0, 1]);
        let dev = control.login("dev", "long enough password", client).await.expect("login");
        let named = |name: &str| TokenSpec { name: name.into(), expires_in_days: None };
        let mine = control.issue_token_as(&named("mine"), &dev).await.expect("mine");
        let theirs = control.issue_token_as(&named("admins"), &admin).await.expect("admin's");
        let seen: Vec<_> = control.tokens_of(&dev).await.expect("list").into_iter().map(|t| t.name).collect();
        assert_eq!(seen, ["mine"]);
        assert_eq!(control.tokens_of(&admin).await.expect("list").len(), 2);
        let refused = control.revoke_token_as(theirs.view.id, &dev).await.expect_err("not its own");
        assert!(matches!(refused, ControlError::NotFound(_)), "{refused}");
        control.authenticate_token(&theirs.token).await.expect("still valid");
        control.revoke_token_as(mine.view.id, &dev).await.expect("own");
        assert!(matches!(control.authenticate_token(&mine.token).await, Err(ControlError::Unauthenticated)));
        let audit =
            control.audit(&domain::audit::AuditQuery { action: Some("token".into()), ..Default::default() }).await;
        let audit = audit.expect("audit");
        let actions: Vec<_> = audit.items.iter().map(|i| i.action.as_str()).collect();
        assert_eq!(actions, ["token.revoke", "token.create", "token.create"]);
        let text = serde_json::to_string(&audit).expect("json");
        assert!(!text.contains(&mine.token) && !text.contains(&theirs.token), "no token in the audit log");
    }
}
