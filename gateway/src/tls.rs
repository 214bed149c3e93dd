//! HTTPS for callers: the certificates of custom domains ([`CertificateTable`], compiled
//! into each [`crate::snapshot::Snapshot`]), the SNI resolver that picks one at every
//! handshake ([`SniResolver`]: the host's own certificate, else the default one for
//! `*.{base domain}`), and the rustls configuration with ALPN `h2` and `http/1.1`.
//!
//! A replaced certificate is in the next snapshot, so the next handshake uses it; a
//! connection already open keeps the session it negotiated.

use rustc_hash::FxHashMap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
pub use rustls::sign::CertifiedKey;
use std::sync::Arc;

/// The crypto provider of every caller-facing TLS session (ring, like the backend side).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Custom domains' certificates by host name (lower case).
#[derive(Debug, Default, Clone)]
pub struct CertificateTable {
    by_host: FxHashMap<String, Arc<CertifiedKey>>,
}

impl CertificateTable {
    /// Adds (or replaces) the certificate of `host`.
    pub fn insert(&mut self, host: &str, key: Arc<CertifiedKey>) {
        self.by_host.insert(host.to_ascii_lowercase(), key);
    }

    /// The certificate of `host` (lower case), if it has one.
    pub fn get(&self, host: &str) -> Option<&Arc<CertifiedKey>> {
        self.by_host.get(host)
    }

    /// How many hosts have a certificate.
    pub fn len(&self) -> usize {
        self.by_host.len()
    }

    /// Whether no host has one.
    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }
}

/// Why a PEM certificate chain and key cannot serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPairError {
    /// The chain: no certificate, or unreadable PEM.
    Certificate(String),
    /// The key: none, unreadable, unsupported, or not the leaf's.
    Key(String),
}

/// Parses a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or
/// SEC1) into what a handshake uses, checking that the key is the leaf's.
pub fn certified_key(cert_pem: &str, key_pem: &str) -> Result<CertifiedKey, KeyPairError> {
    let chain = certificates(cert_pem)?;
    let certified = CertifiedKey::new(chain, signing_key(key_pem)?);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(KeyPairError::Key("the private key does not match the certificate".into()))
        }
        Err(e) => Err(KeyPairError::Key(format!("the private key cannot be checked against the certificate: {e}"))),
    }
}

/// The certificates of a PEM chain, in order; refuses a chain with none.
pub fn certificates(cert_pem: &str) -> Result<Vec<CertificateDer<'static>>, KeyPairError> {
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| KeyPairError::Certificate(format!("not a readable PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(KeyPairError::Certificate("no `BEGIN CERTIFICATE` block found".into()));
    }
    Ok(chain)
}

/// Parses a PEM private key (PKCS#8, PKCS#1 or SEC1) and loads it for signing.
pub fn signing_key(key_pem: &str) -> Result<Arc<dyn rustls::sign::SigningKey>, KeyPairError> {
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .map_err(|e| KeyPairError::Key(format!("not a readable PEM private key: {e}")))?
        .ok_or_else(|| KeyPairError::Key("no `BEGIN … PRIVATE KEY` block found".into()))?;
    provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| KeyPairError::Key(format!("the private key cannot be used: {e}")))
}

/// Whether the leaf certificate `leaf` is valid for host name `host` (its DNS SANs, with
/// one-label wildcards; the subject's common name is not consulted, as browsers do).
pub fn covers(leaf: &CertificateDer<'_>, host: &str) -> bool {
    let Ok(parsed) = rustls::server::ParsedCertificate::try_from(leaf) else { return false };
    let Ok(name) = rustls::pki_types::ServerName::try_from(host) else { return false };
    rustls::client::verify_server_name(&parsed, &name).is_ok()
}

/// Where the resolver finds a host's own certificate at each handshake: the live snapshot
/// (`crate::snapshot::SnapshotHandle` implements it).
pub trait CertificateSource: Send + Sync + std::fmt::Debug {
    /// The certificate of `host` (lower case), if it has one.
    fn certificate(&self, host: &str) -> Option<Arc<CertifiedKey>>;
}

/// Picks the certificate for each handshake: the SNI host's own, else the default.
#[derive(Debug)]
pub struct SniResolver {
    source: Box<dyn CertificateSource>,
    default: Arc<CertifiedKey>,
}

impl SniResolver {
    /// A resolver over `source`, with `default` for every other name (and for clients that
    /// send none).
    pub fn new(source: impl CertificateSource + 'static, default: Arc<CertifiedKey>) -> SniResolver {
        SniResolver { source: Box::new(source), default }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(name) = hello.server_name() {
            // rustls hands over a validated DNS name; custom domains are stored lower-case.
            if let Some(key) = self.source.certificate(&name.to_ascii_lowercase()) {
                return Some(key);
            }
        }
        Some(self.default.clone())
    }
}

/// The server configuration of the HTTPS listener: TLS 1.2 and 1.3, no client
/// certificates, ALPN `h2` then `http/1.1`.
pub fn server_config(resolver: Arc<SniResolver>) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert =
            rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params").self_signed(&key).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    #[test]
    fn a_key_pair_loads_and_a_foreign_key_is_refused() {
        let (cert, key) = pair("a.example.test");
        assert!(certified_key(&cert, &key).is_ok());
        let (_, other) = pair("a.example.test");
        assert_eq!(
            certified_key(&cert, &other).err(),
            Some(KeyPairError::Key("the private key does not match the certificate".into()))
        );
        assert!(matches!(certified_key("", &key), Err(KeyPairError::Certificate(_))));
        assert!(matches!(certified_key(&cert, "-----BEGIN NOTHING-----"), Err(KeyPairError::Key(_))));
        assert!(matches!(certified_key(&key, &key), Err(KeyPairError::Certificate(_))));
    }
}
