//! The X-Ca request signature (DESIGN.md, "Signature"), compatible with Alibaba Cloud API
//! Gateway's so that its published client SDKs work unchanged: the StringToSign, the HMAC,
//! and a [`Signer`] for Gantry's own clients (the Debug API page, generated SDKs, tests).
//!
//! ```text
//! StringToSign = METHOD "\n" Accept "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//!                Headers Url
//! Headers      = for each signed header, sorted by name: lowercase-name ":" value "\n"
//! Url          = path, then "?" and query + form params sorted by key, "k=v" joined by "&"
//!                (a key with an empty value is written alone); the path alone if none
//! Signature    = Base64(HMAC(app_secret, StringToSign))
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::{header, HeaderMap, HeaderName, HeaderValue};

/// `X-Ca-Key`: the calling app's AppKey.
pub const X_CA_KEY: HeaderName = HeaderName::from_static("x-ca-key");
/// `X-Ca-Signature`.
pub const X_CA_SIGNATURE: HeaderName = HeaderName::from_static("x-ca-signature");
/// `Content-MD5`.
pub const CONTENT_MD5: HeaderName = HeaderName::from_static("content-md5");
/// `X-Ca-Signature-Headers`.
pub const X_CA_SIGNATURE_HEADERS: HeaderName = HeaderName::from_static("x-ca-signature-headers");
/// `X-Ca-Signature-Method`.
pub const X_CA_SIGNATURE_METHOD: HeaderName = HeaderName::from_static("x-ca-signature-method");
/// `X-Ca-Timestamp`.
pub const X_CA_TIMESTAMP: HeaderName = HeaderName::from_static("x-ca-timestamp");
/// `X-Ca-Nonce`.
pub const X_CA_NONCE: HeaderName = HeaderName::from_static("x-ca-nonce");

/// How far `X-Ca-Timestamp` may be from the gateway's clock, either way.
pub const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// Headers that have their own line in the StringToSign (or are the signature itself) and so
/// are never part of its `Headers` block.
const NOT_IN_HEADERS: [&str; 7] =
    ["x-ca-signature", "x-ca-signature-headers", "accept", "content-md5", "content-type", "date", "host"];

/// The HMAC used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureMethod {
    /// `HmacSHA256`, the default.
    #[default]
    HmacSha256,
    /// `HmacSHA1`.
    HmacSha1,
}

impl SignatureMethod {
    /// Parses `X-Ca-Signature-Method` (absent means `HmacSHA256`; case is ignored).
    pub fn parse(raw: Option<&str>) -> Result<SignatureMethod, String> {
        match raw.map(str::trim) {
            None | Some("") => Ok(SignatureMethod::HmacSha256),
            Some(m) if m.eq_ignore_ascii_case("HmacSHA256") => Ok(SignatureMethod::HmacSha256),
            Some(m) if m.eq_ignore_ascii_case("HmacSHA1") => Ok(SignatureMethod::HmacSha1),
            Some(m) => Err(format!("X-Ca-Signature-Method `{m}` is not HmacSHA256 or HmacSHA1")),
        }
    }

    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha256 => "HmacSHA256",
            SignatureMethod::HmacSha1 => "HmacSHA1",
        }
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: impl http::header::AsHeaderName) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The signed header names a request declares in `X-Ca-Signature-Headers`, lower-case,
/// sorted, without duplicates and without the headers that have their own line.
pub fn signed_header_names(headers: &HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = header_text(headers, X_CA_SIGNATURE_HEADERS)
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty() && !NOT_IN_HEADERS.contains(&n.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The StringToSign of a request. `params` are the query parameters and, for a form body,
/// the form fields (decoded); `signed` the lower-case names of the signed headers.
pub fn string_to_sign(
    method: &str,
    headers: &HeaderMap,
    signed: &[String],
    path: &str,
    params: &[(String, String)],
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(&method.to_ascii_uppercase());
    out.push('\n');
    for name in [header::ACCEPT, CONTENT_MD5, header::CONTENT_TYPE, header::DATE] {
        out.push_str(header_text(headers, name));
        out.push('\n');
    }
    for name in signed {
        out.push_str(name);
        out.push(':');
        out.push_str(header_text(headers, name.as_str()));
        out.push('\n');
    }
    out.push_str(path);
    if !params.is_empty() {
        let mut sorted: Vec<&(String, String)> = params.iter().collect();
        sorted.sort();
        out.push('?');
        for (i, (key, value)) in sorted.into_iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(key);
            if !value.is_empty() {
                out.push('=');
                out.push_str(value);
            }
        }
    }
    out
}

fn mac_bytes(secret: &str, method: SignatureMethod, text: &str) -> Vec<u8> {
    match method {
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    }
}

/// `Base64(HMAC(secret, string_to_sign))`.
pub fn sign(secret: &str, method: SignatureMethod, string_to_sign: &str) -> String {
    STANDARD.encode(mac_bytes(secret, method, string_to_sign))
}

/// An app secret as HMAC keys, set up once per app: an HMAC otherwise hashes the key's two
/// padded blocks again for every request.
#[derive(Clone)]
pub struct SecretKey {
    sha256: Hmac<sha2::Sha256>,
    sha1: Hmac<sha1::Sha1>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The keys for `secret`.
    pub fn new(secret: &str) -> SecretKey {
        SecretKey {
            sha256: Hmac::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length"),
            sha1: Hmac::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length"),
        }
    }

    /// Whether `signature` (Base64) is the HMAC of `string_to_sign`, compared in constant time.
    pub fn verify(&self, method: SignatureMethod, string_to_sign: &str, signature: &str) -> bool {
        let Ok(given) = STANDARD.decode(signature.trim()) else { return false };
        match method {
            SignatureMethod::HmacSha256 => {
                let mut mac = self.sha256.clone();
                mac.update(string_to_sign.as_bytes());
                mac.verify_slice(&given).is_ok()
            }
            SignatureMethod::HmacSha1 => {
                let mut mac = self.sha1.clone();
                mac.update(string_to_sign.as_bytes());
                mac.verify_slice(&given).is_ok()
            }
        }
    }
}

/// `Base64(MD5(body))`, the `Content-MD5` of a non-form body.
pub fn content_md5(body: &[u8]) -> String {
    use md5::Digest as _;
    STANDARD.encode(md5::Md5::digest(body))
}

/// Whether a `Content-Type` is a form (whose fields are signed as parameters).
pub fn is_form(content_type: &str) -> bool {
    content_type.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
}

/// Signs requests as an app: the client half of the scheme.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The app's AppKey (`X-Ca-Key`).
    pub key: String,
    /// The app's AppSecret.
    pub secret: String,
    /// The HMAC to use.
    pub method: SignatureMethod,
}

/// A request to sign: everything the StringToSign covers.
#[derive(Debug, Clone, Copy)]
pub struct Unsigned<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, as sent (no query).
    pub path: &'a str,
    /// Query parameters (decoded).
    pub query: &'a [(String, String)],
    /// The body: form fields are signed as parameters, any other body through `Content-MD5`.
    pub body: &'a [u8],
    /// When the request is signed (epoch milliseconds).
    pub timestamp_ms: i64,
    /// A value never used before within 15 minutes.
    pub nonce: &'a str,
}

impl Signer {
    /// Adds `X-Ca-Key`, `X-Ca-Timestamp`, `X-Ca-Nonce`, `X-Ca-Signature-Method`,
    /// `X-Ca-Signature-Headers`, `Content-MD5` (a non-empty, non-form body) and
    /// `X-Ca-Signature` to `headers`, and returns the StringToSign. Headers already in
    /// `headers` that start with `x-ca-` are signed too.
    pub fn sign(&self, request: Unsigned<'_>, headers: &mut HeaderMap) -> Result<String, String> {
        let value = |v: &str| HeaderValue::from_str(v).map_err(|e| format!("header value `{v}`: {e}"));
        headers.insert(X_CA_KEY, value(&self.key)?);
        headers.insert(X_CA_TIMESTAMP, HeaderValue::from(request.timestamp_ms));
        headers.insert(X_CA_NONCE, value(request.nonce)?);
        headers.insert(X_CA_SIGNATURE_METHOD, HeaderValue::from_static(self.method.as_str()));
        let form = is_form(header_text(headers, header::CONTENT_TYPE));
        let mut params: Vec<(String, String)> = request.query.to_vec();
        if form {
            params.extend(form_urlencoded::parse(request.body).into_owned());
        } else if !request.body.is_empty() {
            headers.insert(CONTENT_MD5, value(&content_md5(request.body))?);
        }
        headers.remove(X_CA_SIGNATURE);
        let mut signed: Vec<String> = headers
            .keys()
            .map(|n| n.as_str().to_owned())
            .filter(|n| n.starts_with("x-ca-") && !NOT_IN_HEADERS.contains(&n.as_str()))
            .collect();
        signed.sort();
        signed.dedup();
        headers.insert(X_CA_SIGNATURE_HEADERS, value(&signed.join(","))?);
        let text = string_to_sign(request.method, headers, &signed, request.path, &params);
        headers.insert(X_CA_SIGNATURE, value(&sign(&self.secret, self.method, &text))?);
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn the_string_to_sign_follows_the_documented_layout() {
        let h = headers(&[
            ("accept", "application/json"),
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("x-ca-key", "k1"),
            ("x-ca-timestamp", "1700000000000"),
            ("x-ca-signature-headers", "X-Ca-Timestamp,x-ca-key,Accept"),
        ]);
        let signed = signed_header_names(&h);
        assert_eq!(signed, ["x-ca-key", "x-ca-timestamp"]);
        let params = vec![("b".into(), "2".into()), ("a".into(), "".into()), ("c".into(), "x y".into())];
        let text = string_to_sign("post", &h, &signed, "/pets/1", &params);
        assert_eq!(
            text,
            "POST\napplication/json\n\napplication/x-www-form-urlencoded; charset=utf-8\n\n\
             x-ca-key:k1\nx-ca-timestamp:1700000000000\n/pets/1?a&b=2&c=x y"
        );
        assert_eq!(string_to_sign("GET", &HeaderMap::new(), &[], "/", &[]), "GET\n\n\n\n\n/");
    }

    #[test]
    fn hmac_matches_known_vectors() {
        // RFC 4231 test case 2 and RFC 2202 test case 2 ("Jefe").
        let sha256 = sign("Jefe", SignatureMethod::HmacSha256, "what do ya want for nothing?");
        assert_eq!(sha256, STANDARD.encode(hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")));
        let sha1 = sign("Jefe", SignatureMethod::HmacSha1, "what do ya want for nothing?");
        assert_eq!(sha1, STANDARD.encode(hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")));
        assert!(SecretKey::new("Jefe").verify(SignatureMethod::HmacSha256, "what do ya want for nothing?", &sha256));
        assert!(!SecretKey::new("jefe").verify(SignatureMethod::HmacSha256, "what do ya want for nothing?", &sha256));
        assert!(!SecretKey::new("Jefe").verify(
            SignatureMethod::HmacSha256,
            "what do ya want for nothing?",
            "not base64!"
        ));
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
    }

    #[test]
    fn a_signed_request_verifies_against_the_servers_string_to_sign() {
        let signer = Signer { key: "key".into(), secret: "secret".into(), method: SignatureMethod::HmacSha1 };
        let mut h = headers(&[("content-type", "application/json"), ("x-ca-stage", "TEST")]);
        let query = vec![("q".to_owned(), "1".to_owned())];
        let request = Unsigned { method: "PUT", path: "/a", query: &query, body: b"{}", timestamp_ms: 5, nonce: "n-1" };
        let client_text = signer.sign(request, &mut h).expect("sign");
        assert_eq!(h["x-ca-signature-headers"], "x-ca-key,x-ca-nonce,x-ca-signature-method,x-ca-stage,x-ca-timestamp");
        let server_text = string_to_sign("PUT", &h, &signed_header_names(&h), "/a", &query);
        assert_eq!(client_text, server_text);
        assert!(server_text.contains(&content_md5(b"{}")));
        let method = SignatureMethod::parse(h.get("x-ca-signature-method").and_then(|v| v.to_str().ok()));
        assert_eq!(method, Ok(SignatureMethod::HmacSha1));
        assert!(SecretKey::new("secret").verify(
            SignatureMethod::HmacSha1,
            &server_text,
            h["x-ca-signature"].to_str().expect("ascii")
        ));
        assert!(SignatureMethod::parse(Some("md5")).is_err());
    }
}
