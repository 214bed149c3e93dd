//! The apps that may call `auth = app` APIs, as the gateway sees them: credentials looked up
//! by AppKey or AppCode, and each app's authorizations by (API, environment).
//!
//! The table is part of the [`crate::Snapshot`], so a reset secret, a disabled app or a
//! revoked authorization takes effect with the next request, like a release.

use crate::Environment;
use std::collections::HashMap;
use std::sync::Arc;

/// One app's credentials and authorizations.
#[derive(Debug, Clone)]
pub struct AppCredential {
    /// Database id (nonces are remembered per app).
    pub id: i32,
    /// Name, for logs and traces.
    pub name: String,
    /// The id and name as the access log's lines name the app.
    pub label: crate::access_log::Label,
    /// `X-Ca-Key`.
    pub key: String,
    /// The HMAC secret.
    pub secret: String,
    /// The same, as HMAC keys ready to verify with.
    pub secret_key: crate::signature::SecretKey,
    /// The AppCode (`Authorization: APPCODE …`).
    pub code: String,
    /// A disabled app is refused with 403.
    pub enabled: bool,
    /// (API id, environment index) → expiry in epoch ms (`None`: never expires).
    grants: HashMap<(i32, u8), Option<i64>>,
}

/// What an app may do with one API in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Not authorized.
    None,
    /// Authorized until this instant (epoch ms), or for good.
    Until(Option<i64>),
}

impl AppCredential {
    /// An app without authorizations.
    pub fn new(id: i32, name: &str, key: &str, secret: &str, code: &str, enabled: bool) -> AppCredential {
        AppCredential {
            id,
            name: name.to_owned(),
            label: crate::access_log::Label::of(id, name),
            key: key.to_owned(),
            secret: secret.to_owned(),
            secret_key: crate::signature::SecretKey::new(secret),
            code: code.to_owned(),
            enabled,
            grants: HashMap::new(),
        }
    }

    /// Authorizes the app for `api` in `env` until `expires_ms` (epoch ms).
    pub fn authorize(&mut self, api: i32, env: Environment, expires_ms: Option<i64>) {
        self.grants.insert((api, env.index() as u8), expires_ms);
    }

    /// The app's authorization for `api` in `env`.
    pub fn grant(&self, api: i32, env: Environment) -> Grant {
        match self.grants.get(&(api, env.index() as u8)) {
            Some(until) => Grant::Until(*until),
            None => Grant::None,
        }
    }
}

/// Every app, by AppKey and by AppCode.
#[derive(Debug, Default)]
pub struct AppTable {
    by_key: HashMap<String, Arc<AppCredential>>,
    by_code: HashMap<String, Arc<AppCredential>>,
}

impl AppTable {
    /// Indexes `apps`.
    pub fn new(apps: Vec<AppCredential>) -> AppTable {
        let mut table = AppTable::default();
        for app in apps {
            let app = Arc::new(app);
            table.by_key.insert(app.key.clone(), app.clone());
            table.by_code.insert(app.code.clone(), app);
        }
        table
    }

    /// The app with this AppKey.
    pub fn by_key(&self, key: &str) -> Option<&Arc<AppCredential>> {
        self.by_key.get(key)
    }

    /// The app with this AppCode.
    pub fn by_code(&self, code: &str) -> Option<&Arc<AppCredential>> {
        self.by_code.get(code)
    }

    /// How many apps there are.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
