//! Bearer tokens for the admin REST API. A token is shown once when created; the store keeps
//! only its SHA-256, so a leaked database does not leak usable tokens.

use crate::entity::{api_token, user};
use crate::{Control, ControlError, CurrentUser};
use rand::Rng;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

/// Every token starts with this, so it is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "gty_";

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

impl Control {
    /// Creates a token for `username` and returns it; it cannot be shown again.
    pub async fn create_token(&self, name: &str, username: &str) -> Result<String, ControlError> {
        let name = parse_name(name)?;
        let owner =
            self.find_user(username).await?.ok_or_else(|| ControlError::NotFound(format!("user `{username}`")))?;
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(rand::rng().random::<[u8; 32]>()));
        api_token::ActiveModel {
            name: Set(name),
            token_hash: Set(token_hash(&token)),
            user_id: Set(owner.id),
            created_at: Set(chrono::Utc::now()),
            last_used_at: Set(None),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(token)
    }

    /// The user a bearer token belongs to.
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
        let owner = owner.ok_or(ControlError::Unauthenticated)?;
        let mut active: api_token::ActiveModel = found.into();
        active.last_used_at = Set(Some(chrono::Utc::now()));
        active.update(self.db()).await?;
        Ok(owner.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_created_token_authenticates_its_owner_and_others_do_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let control = Control::open(&crate::db::sqlite_url(dir.path())).await.expect("open");
        control.ensure_admin(Some("password-1")).await.expect("admin");
        let token = control.create_token("ci", "admin").await.expect("token");
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(control.authenticate_token(&token).await.expect("valid").username, "admin");
        let forged = format!("{TOKEN_PREFIX}{}", "0".repeat(64));
        assert!(matches!(control.authenticate_token(&forged).await, Err(ControlError::Unauthenticated)));
        assert!(matches!(control.create_token("", "admin").await, Err(ControlError::Validation(_))));
        assert!(matches!(control.create_token("x", "nobody").await, Err(ControlError::NotFound(_))));
    }
}
