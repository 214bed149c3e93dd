//! Replay protection: the `X-Ca-Nonce` values seen recently, bounded in memory.
//!
//! A nonce is kept until the request's timestamp leaves the ±15 minute window (after that
//! the timestamp check alone refuses a replay). Entries are 16 bytes of hash plus expiry,
//! so the default bound of one million entries costs a few tens of megabytes at most. When
//! the bound is reached the oldest entries are forgotten first (and a warning logged): a
//! busier gateway should raise the bound.

use rustc_hash::FxHashMap;
use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::Mutex;

/// The nonces seen within the window.
#[derive(Debug)]
pub struct NonceStore {
    capacity: usize,
    hasher: RandomState,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Hash of (app, nonce) → expiry (epoch ms). The keys are already a keyed hash, so the
    /// map needs no second keyed hash of its own.
    seen: FxHashMap<u64, i64>,
    /// Insertion order, for expiry and eviction.
    order: VecDeque<(u64, i64)>,
    warned: bool,
}

impl Default for NonceStore {
    fn default() -> NonceStore {
        NonceStore::with_capacity(1_000_000)
    }
}

impl NonceStore {
    /// A store that remembers at most `capacity` nonces.
    pub fn with_capacity(capacity: usize) -> NonceStore {
        NonceStore { capacity: capacity.max(1), hasher: RandomState::new(), inner: Mutex::new(Inner::default()) }
    }

    /// Records `nonce` for `app` until `expires_ms`; `false` when it was already seen and has
    /// not expired (a replay).
    pub fn first_use(&self, app: i32, nonce: &str, expires_ms: i64, now_ms: i64) -> bool {
        let key = self.hasher.hash_one((app, nonce));
        let mut inner = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(&(front, expiry)) = inner.order.front() {
            if expiry > now_ms && inner.order.len() < self.capacity {
                break;
            }
            if expiry > now_ms && !inner.warned {
                inner.warned = true;
                tracing::warn!(capacity = self.capacity, "nonce store full: forgetting the oldest nonces early");
            }
            inner.order.pop_front();
            if inner.seen.get(&front) == Some(&expiry) {
                inner.seen.remove(&front);
            }
        }
        if inner.seen.get(&key).is_some_and(|&expiry| expiry > now_ms) {
            return false;
        }
        inner.seen.insert(key, expires_ms);
        inner.order.push_back((key, expires_ms));
        true
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.seen.len()).unwrap_or(0)
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_until_it_expires() {
        let store = NonceStore::default();
        assert!(store.first_use(1, "n", 100, 0));
        assert!(!store.first_use(1, "n", 100, 50));
        assert!(store.first_use(2, "n", 100, 50), "nonces are per app");
        assert!(store.first_use(1, "n", 300, 150), "expired entries are forgotten");
        assert!(!store.first_use(1, "n", 300, 160));
    }

    #[test]
    fn the_store_stays_within_its_bound() {
        let store = NonceStore::with_capacity(3);
        for i in 0..10 {
            assert!(store.first_use(1, &i.to_string(), 1_000, 0));
        }
        assert_eq!(store.len(), 3);
        assert!(!store.first_use(1, "9", 1_000, 0), "the newest are kept");
    }
}
