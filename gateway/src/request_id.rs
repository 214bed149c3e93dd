//! A request's id: a per-process random prefix and a counter, in hex (`prefix-counter`),
//! made without a system call or an allocation; returned as `X-Ca-Request-Id`, sent to
//! backends and kept inline in the access log's lines.

use http::HeaderValue;

/// A request id: a per-process random prefix and a counter, in hex (`prefix-counter`).
#[derive(Clone, Copy)]
pub struct RequestId {
    text: [u8; 33],
    /// The counter the text ends with (the access log keeps only this).
    counter: u64,
}

impl RequestId {
    /// A new id, unique across restarts.
    pub fn next() -> RequestId {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        RequestId::from_counter(COUNTER.fetch_add(1, Ordering::Relaxed))
    }

    /// This process's id with `counter` (an id it made, again, from what the access log kept).
    pub fn from_counter(counter: u64) -> RequestId {
        let mut text = [b'-'; 33];
        text[..16].copy_from_slice(prefix());
        text[17..].copy_from_slice(&hex(counter));
        RequestId { text, counter }
    }

    /// The counter of `id` when it is one of this process's ids (its prefix, a dash and
    /// 16 lower-case hex digits); `None` for anything else.
    pub fn counter_of(id: &str) -> Option<u64> {
        let (prefix_text, counter) = id.split_once('-')?;
        let lower_hex = |s: &str| s.len() == 16 && s.bytes().all(|c| HEX.contains(&c));
        if prefix_text.as_bytes() != prefix() || !lower_hex(counter) {
            return None;
        }
        u64::from_str_radix(counter, 16).ok()
    }

    /// The counter the id ends with.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).expect("hex digits and a dash")
    }

    /// The id's bytes (hex digits and a dash).
    pub fn as_bytes(&self) -> &[u8] {
        &self.text
    }

    /// The id as a header value.
    pub fn header(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.text).expect("hex digits and a dash")
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

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `value` as 16 hex digits.
fn hex(value: u64) -> [u8; 16] {
    let mut digits = [0u8; 16];
    for (i, digit) in digits.iter_mut().enumerate() {
        *digit = HEX[((value >> (60 - 4 * i)) & 0xf) as usize];
    }
    digits
}

/// The process's random prefix, so ids are unique across restarts without a system call per
/// request; its digits are written once per process.
fn prefix() -> &'static [u8; 16] {
    static PREFIX: std::sync::OnceLock<[u8; 16]> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| hex(uuid::Uuid::new_v4().as_u64_pair().0))
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
        assert_eq!(b.counter(), n_b);
    }

    #[test]
    fn an_id_comes_back_from_its_counter_and_only_this_process_ids_have_one() {
        let id = RequestId::next();
        assert_eq!(RequestId::counter_of(id.as_str()), Some(id.counter()));
        assert_eq!(RequestId::from_counter(id.counter()).as_str(), id.as_str());
        let (prefix, counter) = id.as_str().split_once('-').expect("a dash");
        let other = if prefix.starts_with('0') { "1" } else { "0" };
        for foreign in [
            format!("{other}{}-{counter}", &prefix[1..]),
            format!("{prefix}-{}", counter.to_uppercase().replace('0', "A")),
            format!("{prefix}-{}", &counter[1..]),
            format!("{prefix}-{counter}0"),
            format!("{prefix}{counter}"),
            format!("{prefix}-+{}", &counter[1..]),
            String::new(),
        ] {
            assert_eq!(RequestId::counter_of(&foreign), None, "{foreign:?}");
        }
    }
}
