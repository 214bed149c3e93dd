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
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let prefix = *PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut id = [b'-'; 33];
    for i in 0..16 {
        let shift = 60 - 4 * i;
        id[i] = HEX[((prefix >> shift) & 0xf) as usize];
        id[17 + i] = HEX[((counter >> shift) & 0xf) as usize];
    }
    RequestId(id)
}
