//! Users: the first admin, password changes, and login.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults, OWASP's recommended
//! parameters) on the blocking pool. A login for an unknown user still verifies against a
//! dummy hash, so timing does not reveal which usernames exist; the error never says which
//! part was wrong.

use crate::entity::user;
use crate::{Control, ControlError};
use argon2::password_hash::SaltString;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
pub use domain::roles::{Action, Grant, NewUserSpec, Role, UserPatch, UserView};
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::OnceLock;

/// The username the first start creates.
pub const ADMIN_USERNAME: &str = "admin";

/// A logged-in user, as the edges carry it in request extensions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    /// Database id.
    pub id: i32,
    /// Login name.
    pub username: String,
    /// The client address of the request acting (the audit log records it).
    pub address: Option<String>,
    /// The user's role and the groups it holds in.
    pub grant: Grant,
}

impl CurrentUser {
    /// `Ok` when this user may do `action`; otherwise 403 with the reason. Every service
    /// that changes something calls this first, so the console and REST refuse alike.
    pub fn require(&self, action: Action<'_>) -> Result<(), ControlError> {
        self.grant.check(action).map_err(ControlError::Forbidden)
    }
}

impl TryFrom<user::Model> for CurrentUser {
    type Error = ControlError;

    fn try_from(model: user::Model) -> Result<CurrentUser, ControlError> {
        let grant = model.grant()?;
        Ok(CurrentUser { id: model.id, username: model.username, address: None, grant })
    }
}

/// A valid username: 1 to 64 letters, digits, `.`, `_` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Parses a username, naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<Username, ControlError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 64 {
            return Err(ControlError::field("username", "must be 1 to 64 characters"));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            return Err(ControlError::field("username", "may contain only letters, digits, '.', '_' and '-'"));
        }
        Ok(Username(raw.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password good enough to set: 8 to 1024 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

impl NewPassword {
    /// Parses a new password, naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<NewPassword, ControlError> {
        let chars = raw.chars().count();
        if chars < 8 {
            return Err(ControlError::field("password", "must be at least 8 characters"));
        }
        if chars > 1024 {
            return Err(ControlError::field("password", "must be at most 1024 characters"));
        }
        Ok(NewPassword(raw.to_owned()))
    }

    /// A random 20-character password, for a first start without one configured.
    pub fn generate() -> NewPassword {
        NewPassword(Alphanumeric.sample_string(&mut rand::rng(), 20))
    }

    /// The password, to show once.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// What [`Control::ensure_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Users exist already; nothing changed.
    Existing,
    /// `admin` was created with the configured password.
    Created,
    /// `admin` was created with this random password (print it once).
    CreatedWithGeneratedPassword(String),
}

/// A fingerprint of a user's credentials (not the hash itself, which a session must not
/// carry): the first 8 bytes of the SHA-256 of the password hash, as hex.
fn credential_stamp(model: &user::Model) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(model.password_hash.as_bytes())[..8])
}

/// The scope column of a grant: a JSON list for a scoped developer, `NULL` otherwise.
pub(crate) fn stored_groups(grant: &Grant) -> Option<String> {
    match (grant.role, &grant.groups) {
        (Role::Developer, Some(groups)) => serde_json::to_string(groups).ok(),
        _ => None,
    }
}

/// Inserts a user row with an already hashed password (the one insert of `create_user` and
/// the Users page's `add_user`).
pub(crate) async fn insert_user(
    db: &impl sea_orm::ConnectionTrait,
    username: &Username,
    password_hash: String,
    grant: &Grant,
) -> Result<user::Model, ControlError> {
    let now = chrono::Utc::now();
    let model = user::ActiveModel {
        username: Set(username.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        role: Set(grant.role.as_str().to_owned()),
        groups: Set(stored_groups(grant)),
        disabled: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model)
}

/// A fresh 16-byte random salt.
fn new_salt() -> Result<SaltString, ControlError> {
    SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())
        .map_err(|e| ControlError::Internal(format!("salt encoding failed: {e}")))
}

pub(crate) async fn hash_password(password: NewPassword) -> Result<String, ControlError> {
    tokio::task::spawn_blocking(move || {
        let salt = new_salt()?;
        Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| ControlError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| ControlError::Internal(format!("password hashing task failed: {e}")))?
}

/// A hash of nothing in particular, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let Ok(salt) = new_salt() else { return String::new() };
        Argon2::default()
            .hash_password(b"not a password anyone has", &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

impl Control {
    /// On an empty store, creates `admin` with `password`, or with a random one that the
    /// caller must show once. Never touches an existing store.
    pub async fn ensure_admin(&self, password: Option<&str>) -> Result<AdminBootstrap, ControlError> {
        if user::Entity::find().count(self.db()).await? > 0 {
            return Ok(AdminBootstrap::Existing);
        }
        let (password, outcome) = match password {
            Some(raw) => (NewPassword::parse(raw)?, AdminBootstrap::Created),
            None => {
                let generated = NewPassword::generate();
                let shown = generated.reveal().to_owned();
                (generated, AdminBootstrap::CreatedWithGeneratedPassword(shown))
            }
        };
        let username = Username::parse(ADMIN_USERNAME)?;
        self.create_user(&username, password, &Grant::admin()).await?;
        Ok(outcome)
    }

    /// Creates a user with `grant`; a taken username is a conflict. The command line's
    /// `gantry admin create` and the first start call this directly; the Users page and
    /// `POST /users` go through [`Control::add_user`].
    pub async fn create_user(
        &self,
        username: &Username,
        password: NewPassword,
        grant: &Grant,
    ) -> Result<CurrentUser, ControlError> {
        if self.find_user(username.as_str()).await?.is_some() {
            return Err(ControlError::Conflict(format!("user `{}` already exists", username.as_str())));
        }
        let hash = hash_password(password).await?;
        insert_user(self.db(), username, hash, grant).await?.try_into()
    }

    /// Sets a new password for an existing user.
    pub async fn reset_password(&self, username: &str, password: NewPassword) -> Result<(), ControlError> {
        let model =
            self.find_user(username).await?.ok_or_else(|| ControlError::NotFound(format!("user `{username}`")))?;
        let mut active: user::ActiveModel = model.into();
        active.password_hash = Set(hash_password(password).await?);
        active.updated_at = Set(chrono::Utc::now());
        active.update(self.db()).await?;
        Ok(())
    }

    /// Checks a username and password. An attempt the throttle refuses is a
    /// [`ControlError::TooManyAttempts`] at once; at most one password check per core runs at
    /// a time (argon2 is meant to be slow), the others wait their turn.
    pub async fn login(&self, username: &str, password: &str, client: IpAddr) -> Result<CurrentUser, ControlError> {
        let username = username.trim();
        self.throttle.admit(username, client).map_err(|wait| ControlError::TooManyAttempts {
            retry_after_s: wait.as_secs_f64().ceil().max(1.0) as u64,
        })?;
        let found = self.find_user(username).await?;
        let hash = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| dummy_hash().to_owned());
        let valid = {
            let _slot = self.password_checks.acquire().await.map_err(|e| ControlError::Internal(e.to_string()))?;
            verify_password(password.to_owned(), hash).await
        };
        match found {
            Some(user) if valid => {
                self.throttle.record_success(username, client);
                if user.disabled {
                    tracing::info!(username, %client, "login of a disabled user refused");
                    return Err(ControlError::Forbidden(format!("user `{username}` is disabled")));
                }
                user.try_into()
            }
            _ => {
                tracing::info!(username, %client, "failed login");
                Err(ControlError::InvalidCredentials)
            }
        }
    }

    /// The stamp a new session of user `id` keeps: a fingerprint of the user's password
    /// hash, so that a new password ends every session made with the old one.
    pub async fn session_stamp(&self, id: i32) -> Result<Option<String>, ControlError> {
        Ok(user::Entity::find_by_id(id).one(self.db()).await?.map(|model| credential_stamp(&model)))
    }

    /// The user of a session: `None` when the user is gone or disabled, or its password
    /// changed since the session began (its `stamp` no longer matches).
    pub async fn session_user(&self, id: i32, stamp: Option<&str>) -> Result<Option<CurrentUser>, ControlError> {
        let Some(model) = user::Entity::find_by_id(id).one(self.db()).await? else { return Ok(None) };
        if model.disabled || stamp != Some(credential_stamp(&model).as_str()) {
            return Ok(None);
        }
        model.try_into().map(Some)
    }

    /// The user with this id, if it still exists.
    pub async fn user(&self, id: i32) -> Result<Option<CurrentUser>, ControlError> {
        user::Entity::find_by_id(id).one(self.db()).await?.map(TryInto::try_into).transpose()
    }

    /// The user a command-line tool acts as (`gantry config apply --user U`): refused when
    /// unknown or disabled.
    pub async fn acting_user(&self, username: &str, address: &str) -> Result<CurrentUser, ControlError> {
        let model =
            self.find_user(username).await?.ok_or_else(|| ControlError::NotFound(format!("user `{username}`")))?;
        if model.disabled {
            return Err(ControlError::Forbidden(format!("user `{username}` is disabled")));
        }
        let mut user: CurrentUser = model.try_into()?;
        user.address = Some(address.to_owned());
        Ok(user)
    }

    pub(crate) async fn find_user(&self, username: &str) -> Result<Option<user::Model>, ControlError> {
        Ok(user::Entity::find().filter(user::Column::Username.eq(username)).one(self.db()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    async fn control() -> (Control, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let control = Control::open(&crate::db::sqlite_url(dir.path())).await.expect("open");
        (control, dir)
    }

    #[test]
    fn usernames_and_passwords_follow_their_rules() {
        assert!(Username::parse("admin").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("white space").is_err());
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("long enough").is_ok());
        assert_eq!(NewPassword::generate().reveal().len(), 20);
    }

    #[tokio::test]
    async fn the_first_start_creates_admin_and_the_second_changes_nothing() {
        let (control, _dir) = control().await;
        assert_eq!(control.ensure_admin(Some("first-password")).await.expect("first"), AdminBootstrap::Created);
        assert_eq!(control.ensure_admin(Some("other-password")).await.expect("second"), AdminBootstrap::Existing);
        assert!(control.login("admin", "first-password", CLIENT).await.is_ok());
        assert!(control.login("admin", "other-password", CLIENT).await.is_err());
    }

    #[tokio::test]
    async fn without_a_configured_password_a_random_one_is_generated() {
        let (control, _dir) = control().await;
        let AdminBootstrap::CreatedWithGeneratedPassword(password) = control.ensure_admin(None).await.expect("create")
        else {
            panic!("expected a generated password");
        };
        assert!(control.login("admin", &password, CLIENT).await.is_ok());
    }

    #[tokio::test]
    async fn wrong_user_and_wrong_password_fail_the_same_way() {
        let (control, _dir) = control().await;
        control.ensure_admin(Some("right-password")).await.expect("create");
        let wrong_password = control.login("admin", "wrong-password", CLIENT).await.expect_err("wrong password");
        let wrong_user = control.login("nobody", "right-password", CLIENT).await.expect_err("wrong user");
        assert_eq!(wrong_password.to_string(), wrong_user.to_string());
    }

    #[tokio::test]
    async fn reset_password_replaces_the_old_one() {
        let (control, _dir) = control().await;
        control.ensure_admin(Some("old-password")).await.expect("create");
        control.reset_password("admin", NewPassword::parse("new-password").expect("valid")).await.expect("reset");
        assert!(control.login("admin", "old-password", CLIENT).await.is_err());
        assert!(control.login("admin", "new-password", CLIENT).await.is_ok());
    }
}
