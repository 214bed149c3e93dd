//! A request's id: a per-process random prefix and a counter, in hex (`prefix-counter`),
//! made without a system call or an allocation; returned as `X-Ca-Request-Id`, sent to
//! backends and kept inline in the access log's lines.

use http::HeaderValue;

/// A request id: a per-process random prefix and a counter, in hex (`prefix-counter`).
#[derive(Clone, Copy)]
pub struct RequestId([u8; 33]);

impl RequestId {
    /// A new id, unique across restarts.
    pub fn next() -> RequestId {
        next_request_id()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("hex digits and a dash")
    }

    /// The id's bytes (hex digits and a dash).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id as a header value.
    pub fn header(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).expect("hex digits and a dash")
    }
}

impl std::ops::Deref for RequestId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request id unique across restarts without a system call per request: a random
/// per-process prefix and a counter.
fn next_request_id() -> RequestId {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<[u8; 16]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hex = |value: u64| {
        let mut digits = [0u8; 16];
        for (i, digit) in digits.iter_mut().enumerate() {
            *digit = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
        }
        digits
    };
    // The prefix's digits are written once per process.
    let prefix = PREFIX.get_or_init(|| hex(uuid::Uuid::new_v4().as_u64_pair().0));
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'-'; 33];
    id[..16].copy_from_slice(prefix);
    id[17..].copy_from_slice(&hex(counter));
    RequestId(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_process_prefix_and_a_counter_in_hex() {
        let (a, b) = (RequestId::next(), RequestId::next());
        let (prefix_a, counter_a) = a.as_str().split_once('-').expect("a dash");
        let (prefix_b, counter_b) = b.as_str().split_once('-').expect("a dash");
        assert_eq!(prefix_a, prefix_b, "one prefix per process");
        for part in [prefix_a, counter_a, counter_b] {
            assert_eq!(part.len(), 16);
            assert!(part.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)), "{part}");
        }
        let (n_a, n_b) =
            (u64::from_str_radix(counter_a, 16).expect("hex"), u64::from_str_radix(counter_b, 16).expect("hex"));
        assert!(n_b > n_a, "the counter goes up: {a} then {b}");
        assert_eq!(a.header().as_bytes(), a.as_bytes());
    }
}
