//! Phase 4: for `auth = app` APIs, the caller proves it is an app (AppCode or X-Ca
//! signature: timestamp, nonce, HMAC), and the app must be enabled and authorised for the
//! API in this environment. The clock is the caller's argument ([`Credentials::now_ms`]),
//! so every time rule is tested without waiting.

use crate::apps::{AppCredential, AppTable, Grant};
use crate::compiled::CompiledApi;
use crate::context::{AuthMethod, RequestContext};
use crate::error::AuthFailure;
use crate::signature::{self, SignatureMethod};
use crate::{Environment, GatewayError};
use domain::api::AuthType;
use http::{header, HeaderMap, HeaderName};

/// What the authenticate phase needs of a request.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// Its query parameters (decoded).
    pub query: &'a [(String, String)],
    /// Its body, when it was read (a form body or a `Content-MD5` to check); `None` when it
    /// streams.
    pub body: Option<&'a [u8]>,
    /// The gateway's clock (epoch ms).
    pub now_ms: i64,
}

/// Whether the authenticate phase must see the body: a signed request to an `auth = app`
/// API whose body is a form (its fields are signed) or carries `Content-MD5`.
pub fn authenticate_reads_body(api: &CompiledApi, headers: &HeaderMap) -> bool {
    api.auth == AuthType::App
        && headers.contains_key(signature::X_CA_SIGNATURE)
        && (headers.contains_key(signature::CONTENT_MD5)
            || signature::is_form(headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")))
}

fn appcode(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    (value.len() >= 8 && value[..8].eq_ignore_ascii_case("APPCODE ")).then(|| value[8..].trim())
}

/// The query parameter an AppCode may come in (Alibaba's name, matched exactly).
pub const APPCODE_QUERY: &str = "AppCode";

/// The AppCode of the query string, for an API that takes one there: the first
/// `AppCode` parameter (every one is removed before the backend call).
fn query_appcode<'q>(api: &CompiledApi, query: &'q [(String, String)]) -> Option<&'q str> {
    if !api.appcode_in_query {
        return None;
    }
    query.iter().find(|(name, _)| name == APPCODE_QUERY).map(|(_, code)| code.trim())
}

/// How much of [`authenticate`] to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Everything that does not need the body: the app (by AppCode or AppKey), enabled and
    /// authorised, the timestamp, the nonce's presence and the signed-header rules. Run
    /// before a body is read, so only a caller who could be authorised makes the gateway
    /// buffer anything.
    BeforeBody,
    /// All of it: also `Content-MD5`, the signature itself, and the nonce recorded.
    Full,
}

/// A verified signed request's nonce, to record (once per cluster) before the request goes
/// on: [`crate::shared::SharedState::first_use`], then [`Replay::refused`] when it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The app's database id (nonces are per app).
    pub app: i32,
    pub nonce: String,
    /// When the request's timestamp leaves the window (epoch ms): the nonce is kept until then.
    pub expires_ms: i64,
}

impl Replay {
    /// The refusal of a nonce already used.
    pub fn refused(&self) -> GatewayError {
        GatewayError::Auth(AuthFailure::InvalidNonce, format!("X-Ca-Nonce `{}` was already used", self.nonce))
    }
}

/// Phase 4: for `auth = app` APIs, the caller proves it is an app, by AppCode or X-Ca
/// signature, and the app must be enabled and authorized for the API in this environment.
/// A signed request that passes [`Check::Full`] returns its nonce, which the caller records.
pub fn authenticate(
    ctx: &mut RequestContext,
    api: &CompiledApi,
    apps: &AppTable,
    request: Credentials<'_>,
    check: Check,
) -> Result<Option<Replay>, GatewayError> {
    if api.auth != AuthType::App {
        ctx.auth = Some(AuthMethod::None);
        return Ok(None);
    }
    let headers = request.headers;
    // A signed request's nonce, recorded only once the app is known to be enabled and
    // authorised: a disabled or unauthorised app must not be able to fill the store.
    let mut replay: Option<SignedNonce<'_>> = None;
    let app = if let Some(code) = appcode(headers).or_else(|| query_appcode(api, request.query)) {
        ctx.auth = Some(AuthMethod::AppCode);
        apps.by_code(code).ok_or_else(|| GatewayError::Auth(AuthFailure::InvalidAppCode, "Invalid AppCode".into()))?
    } else if let Some(key) = headers.get(signature::X_CA_KEY) {
        ctx.auth = Some(AuthMethod::Signature);
        let key = key.to_str().unwrap_or("");
        let app = apps
            .by_key(key)
            .ok_or_else(|| GatewayError::Auth(AuthFailure::InvalidAppKey, format!("Invalid AppKey `{key}`")))?;
        replay = check_signature(ctx, app, request, check)?;
        app
    } else {
        return Err(GatewayError::Auth(
            AuthFailure::MissingCredentials,
            "this API needs an app: send `Authorization: APPCODE <code>` (or `?AppCode=<code>`) or sign the request (X-Ca-Key, X-Ca-Signature)"
                .into(),
        ));
    };
    ctx.app = Some(app.clone());
    if !app.enabled {
        return Err(GatewayError::Auth(AuthFailure::AppDisabled, format!("app `{}` is disabled", app.name)));
    }
    let env = ctx.environment.unwrap_or(Environment::Prod);
    match app.grant(api.id, env) {
        Grant::None => {
            return Err(GatewayError::Auth(
                AuthFailure::Unauthorized,
                format!("app `{}` is not authorized for API `{}` in {}", app.name, api.name, env.label()),
            ))
        }
        Grant::Until(Some(expires)) if expires <= request.now_ms => {
            return Err(GatewayError::Auth(
                AuthFailure::AuthorizationExpired,
                format!("app `{}`'s authorization for API `{}` in {} has expired", app.name, api.name, env.label()),
            ))
        }
        Grant::Until(_) => {}
    }
    Ok(replay.map(|SignedNonce { nonce, timestamp }| Replay {
        app: app.id,
        nonce: nonce.to_owned(),
        expires_ms: timestamp.saturating_add(signature::MAX_SKEW_MS),
    }))
}

/// The nonce of a request whose signature was verified, and its timestamp.
#[derive(Debug, Clone, Copy)]
struct SignedNonce<'a> {
    nonce: &'a str,
    timestamp: i64,
}

/// Verifies an X-Ca signature; returns the nonce to record once the app may call.
/// `X-Ca-Timestamp` and `X-Ca-Nonce` must be among the signed headers: unsigned, a captured
/// signature would replay forever with a fresh timestamp and nonce.
fn check_signature<'a>(
    ctx: &mut RequestContext,
    app: &AppCredential,
    request: Credentials<'a>,
    check: Check,
) -> Result<Option<SignedNonce<'a>>, GatewayError> {
    let headers = request.headers;
    let text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let fail = |failure: AuthFailure, message: String| Err(GatewayError::Auth(failure, message));
    let Some(given) = text(signature::X_CA_SIGNATURE) else {
        return fail(AuthFailure::MissingCredentials, "X-Ca-Key needs an X-Ca-Signature".into());
    };
    let method = SignatureMethod::parse(text(signature::X_CA_SIGNATURE_METHOD))
        .map_err(|message| GatewayError::Auth(AuthFailure::InvalidSignature, message))?;
    let timestamp = text(signature::X_CA_TIMESTAMP).and_then(|t| t.trim().parse::<i64>().ok());
    let Some(timestamp) = timestamp.filter(|t| request.now_ms.abs_diff(*t) <= signature::MAX_SKEW_MS.unsigned_abs())
    else {
        return fail(
            AuthFailure::InvalidTimestamp,
            "X-Ca-Timestamp must be the time of the request in epoch milliseconds, within 15 minutes".into(),
        );
    };
    let form = signature::is_form(text(header::CONTENT_TYPE).unwrap_or(""));
    let mut params = request.query.to_vec();
    if let (true, Some(body)) = (form, request.body) {
        params.extend(form_urlencoded::parse(body).into_owned());
    }
    let Some(nonce) = text(signature::X_CA_NONCE).map(str::trim).filter(|n| !n.is_empty()) else {
        return fail(AuthFailure::InvalidNonce, "X-Ca-Nonce is required (a value unique within 15 minutes)".into());
    };
    let signed = signature::signed_header_names(headers);
    for (required, shown) in [(signature::X_CA_TIMESTAMP, "X-Ca-Timestamp"), (signature::X_CA_NONCE, "X-Ca-Nonce")] {
        if !signed.iter().any(|name| name == required.as_str()) {
            return fail(
                AuthFailure::InvalidSignature,
                format!("{shown} must be signed: list it in X-Ca-Signature-Headers"),
            );
        }
    }
    // The StringToSign must tell requests apart: a header given twice signs only its first
    // value (a backend may read the other), and a decoded `&`, or `=` in a name, in a
    // parameter makes two different queries sign alike (`a=1%26b%3D2` and `a=1&b=2`).
    let lines = [header::ACCEPT, signature::CONTENT_MD5, header::CONTENT_TYPE, header::DATE];
    let repeated = lines
        .iter()
        .map(|name| name.as_str())
        .chain(signed.iter().map(String::as_str))
        .find(|name| headers.get_all(*name).iter().nth(1).is_some());
    if let Some(name) = repeated {
        return fail(AuthFailure::InvalidSignature, format!("the signed header `{name}` is given more than once"));
    }
    if let Some((key, _)) = params.iter().find(|(k, v)| k.contains(['&', '=']) || v.contains('&')) {
        return fail(
            AuthFailure::InvalidSignature,
            format!(
                "the signed parameter `{key}` holds `&` (or `=` in its name), which the signature cannot tell apart"
            ),
        );
    }
    if check == Check::BeforeBody {
        return Ok(None);
    }
    if let (Some(md5), Some(body)) = (text(signature::CONTENT_MD5), request.body) {
        if !form && md5.trim() != signature::content_md5(body) {
            return fail(AuthFailure::InvalidContentMd5, "Content-MD5 does not match the body".into());
        }
    }
    let server = signature::string_to_sign(ctx.method.as_str(), headers, &signed, &ctx.path, &params);
    if !app.secret_key.verify(method, &server, given) {
        ctx.string_to_sign = Some(server.clone());
        return fail(AuthFailure::InvalidSignature, format!("Invalid Signature, Server StringToSign:`{server}`"));
    }
    Ok(Some(SignedNonce { nonce, timestamp }))
}

/// Removes the caller's gateway credentials: an AppCode and the X-Ca signature headers; and
/// `X-Ca-Key` unless a verified signature made it the calling app's key (sent beside an
/// AppCode, or to an anonymous API, it is only a claim).
pub fn strip_credentials(headers: &mut HeaderMap, signed: bool) {
    if appcode(headers).is_some() {
        headers.remove(header::AUTHORIZATION);
    }
    let remove: Vec<HeaderName> = headers
        .keys()
        .filter(|n| n.as_str().starts_with("x-ca-signature") || (!signed && *n == signature::X_CA_KEY))
        .cloned()
        .collect();
    for name in remove {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::Target;
    use crate::nonce::NonceStore;
    use crate::signature::{Signer, Unsigned};
    use http::{HeaderValue, Method};
    use std::net::{IpAddr, Ipv4Addr};

    const NOW: i64 = 1_800_000_000_000;
    const HOUR: i64 = 3_600_000;

    fn api(auth: &str) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "pets", "auth": auth, "request": {"method": "GET", "path": "/pets"}
        }))
        .expect("spec");
        CompiledApi::compile(7, &spec.validate().expect("valid"), Target::Mock).expect("compile")
    }

    /// One app `web`, authorised for API 7 in Test until `expires`.
    fn apps(enabled: bool, expires: Option<i64>) -> AppTable {
        let mut app = AppCredential::new(1, "web", "key1", "secret1", "code1", enabled);
        app.authorize(7, Environment::Test, expires);
        AppTable::new(vec![app])
    }

    fn signed(timestamp_ms: i64, nonce: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let signer = Signer { key: "key1".into(), secret: "secret1".into(), method: SignatureMethod::HmacSha256 };
        let request = Unsigned { method: "GET", path: "/pets", query: &[], body: b"", timestamp_ms, nonce };
        signer.sign(request, &mut headers).expect("sign");
        headers
    }

    fn appcode(code: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("APPCODE {code}")).expect("value"));
        headers
    }

    /// Runs both checks at `now_ms` as the server does; the failure code, or the method.
    fn check_at(
        api: &CompiledApi,
        apps: &AppTable,
        nonces: &NonceStore,
        headers: &HeaderMap,
        now_ms: i64,
    ) -> Result<AuthMethod, AuthFailure> {
        let peer = IpAddr::V4(Ipv4Addr::LOCALHOST).into();
        let mut ctx = RequestContext::new(Method::GET, "/pets", headers, &peer);
        ctx.environment = Some(Environment::Test);
        let credentials = Credentials { headers, query: &[], body: None, now_ms };
        let outcome = authenticate(&mut ctx, api, apps, credentials, Check::BeforeBody)
            .and_then(|_| authenticate(&mut ctx, api, apps, credentials, Check::Full))
            .and_then(|replay| match replay {
                Some(r) if !nonces.first_use(r.app, &r.nonce, r.expires_ms, now_ms) => Err(r.refused()),
                _ => Ok(()),
            });
        match outcome {
            Ok(()) => Ok(ctx.auth.expect("noted")),
            Err(GatewayError::Auth(failure, _)) => Err(failure),
            Err(other) => panic!("not an authentication failure: {other:?}"),
        }
    }

    #[test]
    fn anonymous_apis_let_everyone_through() {
        let nonces = NonceStore::default();
        assert_eq!(check_at(&api("none"), &apps(true, None), &nonces, &HeaderMap::new(), NOW), Ok(AuthMethod::None));
    }

    #[test]
    fn an_authorization_expires_at_its_instant() {
        let (api, nonces) = (api("app"), NonceStore::default());
        let apps = apps(true, Some(NOW + HOUR));
        assert_eq!(check_at(&api, &apps, &nonces, &appcode("code1"), NOW + HOUR - 1), Ok(AuthMethod::AppCode));
        assert_eq!(
            check_at(&api, &apps, &nonces, &appcode("code1"), NOW + HOUR),
            Err(AuthFailure::AuthorizationExpired)
        );
        let signed_late = signed(NOW + HOUR + 1, "n-late");
        assert_eq!(
            check_at(&api, &apps, &nonces, &signed_late, NOW + HOUR + 1),
            Err(AuthFailure::AuthorizationExpired)
        );
    }

    #[test]
    fn timestamps_are_accepted_within_fifteen_minutes_either_way() {
        let (api, apps, nonces) = (api("app"), apps(true, None), NonceStore::default());
        let skew = signature::MAX_SKEW_MS;
        assert_eq!(check_at(&api, &apps, &nonces, &signed(NOW - skew, "a"), NOW), Ok(AuthMethod::Signature));
        assert_eq!(check_at(&api, &apps, &nonces, &signed(NOW + skew, "b"), NOW), Ok(AuthMethod::Signature));
        assert_eq!(
            check_at(&api, &apps, &nonces, &signed(NOW - skew - 1, "c"), NOW),
            Err(AuthFailure::InvalidTimestamp)
        );
        assert_eq!(
            check_at(&api, &apps, &nonces, &signed(NOW + skew + 1, "d"), NOW),
            Err(AuthFailure::InvalidTimestamp)
        );
        assert_eq!(check_at(&api, &apps, &nonces, &signed(i64::MIN, "e"), NOW), Err(AuthFailure::InvalidTimestamp));
    }

    #[test]
    fn a_nonce_is_used_once_and_only_after_the_app_is_let_in() {
        let (api, nonces) = (api("app"), NonceStore::default());
        let request = signed(NOW, "once");
        assert_eq!(check_at(&api, &apps(false, None), &nonces, &request, NOW), Err(AuthFailure::AppDisabled));
        assert!(nonces.is_empty(), "a disabled app does not fill the nonce store");
        let enabled = apps(true, None);
        assert_eq!(check_at(&api, &enabled, &nonces, &request, NOW), Ok(AuthMethod::Signature));
        assert_eq!(check_at(&api, &enabled, &nonces, &request, NOW + 1), Err(AuthFailure::InvalidNonce));
    }

    #[test]
    fn wrong_or_missing_credentials_are_told_apart() {
        let (api, apps, nonces) = (api("app"), apps(true, None), NonceStore::default());
        assert_eq!(check_at(&api, &apps, &nonces, &HeaderMap::new(), NOW), Err(AuthFailure::MissingCredentials));
        assert_eq!(check_at(&api, &apps, &nonces, &appcode("nope"), NOW), Err(AuthFailure::InvalidAppCode));
        let mut forged = signed(NOW, "f");
        forged.insert(signature::X_CA_SIGNATURE, HeaderValue::from_static("AAAA"));
        assert_eq!(check_at(&api, &apps, &nonces, &forged, NOW), Err(AuthFailure::InvalidSignature));
        let mut other_key = signed(NOW, "g");
        other_key.insert(signature::X_CA_KEY, HeaderValue::from_static("key2"));
        assert_eq!(check_at(&api, &apps, &nonces, &other_key, NOW), Err(AuthFailure::InvalidAppKey));
    }

    #[test]
    fn an_appcode_in_the_query_counts_unless_the_api_takes_the_header_only() {
        let query = vec![("q".to_owned(), "1".to_owned()), (APPCODE_QUERY.to_owned(), " code1 ".to_owned())];
        assert_eq!(query_appcode(&api("app"), &query), Some("code1"));
        let lower = vec![("appcode".to_owned(), "code1".to_owned())];
        assert_eq!(query_appcode(&api("app"), &lower), None, "the name is matched exactly");
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "pets", "auth": "app", "appcode": "header", "request": {"method": "GET", "path": "/pets"}
        }))
        .expect("spec");
        let header_only = CompiledApi::compile(7, &spec.validate().expect("valid"), Target::Mock).expect("compile");
        assert_eq!(query_appcode(&header_only, &query), None);
        assert!(!api("none").appcode_in_query, "an anonymous API has no AppCode to take");
    }

    #[test]
    fn credentials_are_stripped_but_a_verified_key_is_kept() {
        let mut headers = signed(NOW, "s");
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("APPCODE code1"));
        strip_credentials(&mut headers, true);
        assert!(headers.contains_key(signature::X_CA_KEY));
        assert!(!headers.contains_key(header::AUTHORIZATION));
        assert!(!headers.keys().any(|n| n.as_str().starts_with("x-ca-signature")));
        strip_credentials(&mut headers, false);
        assert!(!headers.contains_key(signature::X_CA_KEY), "an unverified key is only a claim");
    }
}
