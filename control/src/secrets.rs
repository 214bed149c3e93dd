//! Secrets at rest: private keys of custom domains' certificates are sealed with
//! ChaCha20-Poly1305 under a 32-byte key the database never holds (a setting, or a key file
//! in the data directory; see `server::config`). A sealed value is
//! `v1:` + hex(nonce ‖ ciphertext ‖ tag), and its row's identity (the host name) is the
//! associated data, so a sealed key copied onto another row does not open.

use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};

/// The key that seals and opens secrets.
pub struct SecretKey(LessSafeKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Why a sealed value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a sealed secret does not open with this instance's secret key (was the key changed?)")]
pub struct Unsealable;

impl SecretKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> SecretKey {
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, bytes).expect("32 bytes is a ChaCha20-Poly1305 key");
        SecretKey(LessSafeKey::new(unbound))
    }

    /// A key from 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<SecretKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "the secret key must be 64 hex digits".to_owned())?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| "the secret key must be 64 hex digits".to_owned())?;
        Ok(SecretKey::from_bytes(&bytes))
    }

    /// A new random key, as 64 hex digits (for a key file).
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// Seals `secret`, bound to `context` (e.g. the host name).
    pub fn seal(&self, secret: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut sealed = secret.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut sealed)
            .expect("sealing fails only past 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("v1:{}", hex::encode(out))
    }

    /// Opens a value made by [`SecretKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, Unsealable> {
        let raw = sealed.strip_prefix("v1:").and_then(|h| hex::decode(h).ok()).ok_or(Unsealable)?;
        if raw.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut buffer = rest.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buffer).map_err(|_| Unsealable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let key = SecretKey::from_hex(&SecretKey::generate_hex()).expect("key");
        let sealed = key.seal(b"-----BEGIN PRIVATE KEY-----", "api.example.com");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(key.open(&sealed, "api.example.com").expect("opens"), b"-----BEGIN PRIVATE KEY-----");
        assert_eq!(key.open(&sealed, "other.example.com"), Err(Unsealable));
        let other = SecretKey::from_hex(&SecretKey::generate_hex()).expect("key");
        assert_eq!(other.open(&sealed, "api.example.com"), Err(Unsealable));
        // Two seals of one secret differ (fresh nonce).
        assert_ne!(sealed, key.seal(b"-----BEGIN PRIVATE KEY-----", "api.example.com"));
        // Tampering and garbage are refused, never a panic.
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(key.open(std::str::from_utf8(&tampered).expect("hex"), "api.example.com"), Err(Unsealable));
        for junk in ["", "v1:", "v1:zz", "v2:00", "v1:0011"] {
            assert_eq!(key.open(junk, "api.example.com"), Err(Unsealable));
        }
    }

    #[test]
    fn a_key_must_be_64_hex_digits() {
        assert!(SecretKey::from_hex(&"ab".repeat(32)).is_ok());
        assert!(SecretKey::from_hex(&"ab".repeat(31)).is_err());
        assert!(SecretKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(SecretKey::from_hex("").is_err());
    }
}
