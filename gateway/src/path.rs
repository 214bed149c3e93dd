//! One canonical spelling of a request path, decided once before routing.
//!
//! The router compares whole segments, and path parameters are decoded after matching, so a
//! path with two spellings of one segment (`/pets/mine` and `/pets/%6Dine`) could reach a
//! parameter route and skip the literal route's rules. [`normalize`] makes one spelling:
//! - a character that may stand unencoded in a segment (RFC 3986 `pchar`: the unreserved
//!   `A-Z a-z 0-9 - . _ ~`, the sub-delimiters `! $ & ' ( ) * + , ; =`, `:` and `@`) is
//!   written unencoded: `%6D` becomes `m` (§6.2.2.2) and `%3B` becomes `;`;
//! - every other byte is written as an escape with upper-case hex (§6.2.2.1): `%e2` becomes
//!   `%E2`, and a raw non-ASCII byte or `"`, `<`, `{`, `|`… becomes its escape, so `/café`
//!   and `/caf%C3%A9` are one path;
//! - refused (the caller gets 400 `InvalidPath`): an encoded `/` or `\`, NUL and other
//!   control characters (encoded or not), a literal `\`, malformed escapes, and dot-segments
//!   (`.`, `..`, also spelt `%2e%2e`) anywhere in the path.
//!
//! Values put into a backend path are checked by [`backend_segment`]: a dot-segment is
//! refused, and [`crate::phases::SEGMENT`] encodes `/`, `\`, `;` and `%` so a value cannot
//! add segments or Tomcat/Spring path parameters (`;jsessionid=…`).

use std::borrow::Cow;

/// Whether `b` stands unencoded in a canonical segment: RFC 3986's `pchar` less `%`.
const fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'-' | b'.' | b'_' | b'~')
        || matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=')
        || matches!(b, b':' | b'@')
}

/// [`plain`] for every byte, looked up once per byte of every path.
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = plain(b as u8);
        b += 1;
    }
    table
};

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Why a path is refused. Called for every byte of every path: it allocates only for a
/// byte it refuses.
fn refuse_byte(b: u8, encoded: bool) -> Option<String> {
    let what = match b {
        b'/' if encoded => "an encoded `/`",
        b'\\' => "a backslash",
        0x00..=0x1f | 0x7f => "a control character",
        _ => return None,
    };
    let spelt = if encoded { format!("%{b:02X}") } else { format!("{:?}", b as char) };
    let place = if b == b'/' { "a path segment" } else { "a path" };
    Some(format!("{what} ({spelt}) is not allowed in {place}"))
}

fn dot_segment(segment: &[u8]) -> bool {
    segment == b"." || segment == b".."
}

/// The canonical form of a request path (see the module docs), or why it is refused.
/// Borrowed when the path is already canonical, which is the common case.
pub fn normalize(raw: &str) -> Result<Cow<'_, str>, String> {
    let bytes = raw.as_bytes();
    let mut clean = true;
    // Split on bytes: `str::split` with a `char` costs more on short paths.
    for segment in bytes.split(|&b| b == b'/') {
        if dot_segment(segment) {
            return Err(format!("the dot-segment `{}` is not allowed in a path", String::from_utf8_lossy(segment)));
        }
        for &b in segment {
            if PLAIN[b as usize] {
                continue;
            }
            if let Some(reason) = refuse_byte(b, false) {
                return Err(reason);
            }
            clean = false;
        }
    }
    if clean {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut segment_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let decoded = match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(high), Some(low)) => high * 16 + low,
                    _ => return Err("a `%` must be followed by two hex digits".into()),
                };
                if let Some(reason) = refuse_byte(decoded, true) {
                    return Err(reason);
                }
                if PLAIN[decoded as usize] {
                    out.push(decoded as char);
                } else {
                    out.push_str(&format!("%{decoded:02X}"));
                }
                i += 3;
            }
            b'/' => {
                if dot_segment(out[segment_start..].as_bytes()) {
                    return Err(format!("the dot-segment `{}` is not allowed in a path", &out[segment_start..]));
                }
                out.push('/');
                segment_start = out.len();
                i += 1;
            }
            _ if PLAIN[b as usize] => {
                out.push(b as char);
                i += 1;
            }
            _ => {
                // Refused bytes were refused by the scan above; the rest are escaped.
                out.push_str(&format!("%{b:02X}"));
                i += 1;
            }
        }
    }
    if dot_segment(out[segment_start..].as_bytes()) {
        return Err(format!("the dot-segment `{}` is not allowed in a path", &out[segment_start..]));
    }
    Ok(Cow::Owned(out))
}

/// Checks a (decoded) value before it becomes a segment of a backend path.
pub fn backend_segment(name: &str, value: &str) -> Result<(), String> {
    if dot_segment(value.as_bytes()) {
        return Err(format!("`{value}` is not allowed as path parameter `{name}` (a dot-segment)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn canonical_paths_are_borrowed() {
        for path in
            ["/", "/pets", "/pets/mine", "/a/b%20c", "/x/%E2%82%AC", "/pets/mine;x=1", "/files/.hidden", "/a..b"]
        {
            let normalized = normalize(path).expect(path);
            assert_eq!(normalized, path);
        }
        assert!(matches!(normalize("/pets/mine").expect("canonical"), Cow::Borrowed(_)));
    }

    #[test]
    fn unreserved_escapes_are_decoded_and_others_upper_cased() {
        assert_eq!(normalize("/pets/%6Dine").expect("ok"), "/pets/mine");
        assert_eq!(normalize("/pets/%7e%2D%5f%2E1").expect("ok"), "/pets/~-_.1");
        assert_eq!(normalize("/a/b%2fc").unwrap_err(), "an encoded `/` (%2F) is not allowed in a path segment");
        assert_eq!(normalize("/a%20b/%e2%82%ac").expect("ok"), "/a%20b/%E2%82%AC");
        assert_eq!(normalize("/q%3f%23").expect("ok"), "/q%3F%23");
        assert_eq!(normalize("/a%21%3b%3D%40%3a").expect("ok"), "/a!;=@:", "pchar escapes are decoded");
        assert_eq!(normalize("/caf\u{e9}").expect("ok"), "/caf%C3%A9", "raw non-ASCII is escaped");
        assert_eq!(normalize("/a\"b{c}").expect("ok"), "/a%22b%7Bc%7D");
    }

    #[test]
    fn dot_segments_and_dangerous_bytes_are_refused() {
        for path in [
            "/files/../admin",
            "/files/./x",
            "/files/%2e%2e/admin",
            "/files/%2E%2e",
            "/files/.%2e/x",
            "/..",
            "/files/%2e",
            "/a%5cb",
            "/a\\b",
            "/a%00b",
            "/a%0ab",
            "/a%7f",
            "/a\u{1}b",
            "/a%",
            "/a%4",
            "/a%zz",
        ] {
            assert!(normalize(path).is_err(), "{path} should be refused");
        }
    }

    #[test]
    fn backend_values_may_not_be_dot_segments() {
        assert!(backend_segment("id", "..").is_err());
        assert!(backend_segment("id", ".").is_err());
        assert!(backend_segment("id", "...").is_ok());
        assert!(backend_segment("id", "a/b").is_ok(), "a slash is encoded, not refused");
    }

    proptest! {
        /// Any accepted path has one canonical form: normalising it again changes nothing,
        /// and decoding it gives what decoding the original gave.
        #[test]
        fn normalising_is_idempotent_and_keeps_the_meaning(raw in "(/([a-zA-Z0-9._~;=-]|%[0-9a-fA-F]{2}|%|\\\\|\u{1}){0,6}){1,4}") {
            if let Ok(once) = normalize(&raw) {
                let twice = normalize(&once).expect("a canonical path is accepted");
                prop_assert_eq!(twice.as_ref(), once.as_ref());
                let decode = |p: &str| percent_encoding::percent_decode_str(p).collect::<Vec<u8>>();
                prop_assert_eq!(decode(&once), decode(&raw));
                for segment in once.split('/') {
                    prop_assert!(segment != "." && segment != "..");
                }
            }
        }
    }
}
