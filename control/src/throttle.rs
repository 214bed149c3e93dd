//! Refuses password guessing: each login attempt for a username, and each from a client
//! address, counts as a failure from the moment it starts until it succeeds; after a few free
//! attempts a key must wait longer before the next (doubling, up to a cap), and an attempt
//! that comes too soon is refused at once with how long to wait (429 `Retry-After`), not
//! delayed. Counting at the start means parallel guesses are counted too: the fourth of 30
//! simultaneous attempts is already refused. A success clears the keys. Usernames are keyed
//! trimmed and lower-cased, so `" Admin"` is not a fresh budget. Entries expire after a
//! quiet period and the table is bounded, so an attacker cannot grow it without limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before any delay.
const FREE_FAILURES: u32 = 3;
/// Delay after the first counted failure; doubles with each further one.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// The longest delay.
const MAX_DELAY: Duration = Duration::from_secs(8);
/// A key with no failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// Most keys kept at once.
const MAX_KEYS: usize = 50_000;

/// The delay before the next attempt after `failures` consecutive failures.
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    BASE_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
}

/// Failed-login counters keyed by username and by client address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn keys(username: &str, client: IpAddr) -> [String; 2] {
    [format!("user:{}", username.trim().to_lowercase()), format!("addr:{client}")]
}

impl LoginThrottle {
    /// Admits an attempt for `username` from `client`, or says how long to wait before the
    /// next one. An admitted attempt counts as a failure until [`Self::record_success`].
    pub fn admit(&self, username: &str, client: IpAddr) -> Result<(), Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let keys = keys(username, client);
        let wait = keys
            .iter()
            .filter_map(|key| entries.get(key))
            .filter(|entry| now.duration_since(entry.last) < FORGET_AFTER)
            .map(|entry| (entry.last + delay_after(entry.failures)).saturating_duration_since(now))
            .max()
            .unwrap_or(Duration::ZERO);
        if !wait.is_zero() {
            return Err(wait);
        }
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, entry| now.duration_since(entry.last) < FORGET_AFTER);
        }
        if entries.len() >= MAX_KEYS {
            // Still full of recent keys: drop the oldest half rather than grow.
            let mut lasts: Vec<Instant> = entries.values().map(|e| e.last).collect();
            lasts.sort_unstable();
            let cutoff = lasts[lasts.len() / 2];
            entries.retain(|_, entry| entry.last > cutoff);
        }
        for key in keys {
            let entry = entries.entry(key).or_insert(Entry { failures: 0, last: now });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last = now;
        }
        Ok(())
    }

    /// Clears the counters after a successful login.
    pub fn record_success(&self, username: &str, client: IpAddr) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys(username, client) {
            entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

    #[test]
    fn the_first_failures_are_free_then_the_delay_doubles_up_to_a_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), BASE_DELAY);
        assert_eq!(delay_after(4), BASE_DELAY * 2);
        assert_eq!(delay_after(100), MAX_DELAY);
    }

    #[test]
    fn attempts_count_as_they_start_so_parallel_guesses_are_refused() {
        let throttle = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert!(throttle.admit("admin", HOME).is_ok());
        }
        let wait = throttle.admit("admin", HOME).expect_err("the fourth at once is refused");
        assert!(wait > Duration::ZERO && wait <= BASE_DELAY, "{wait:?}");
    }

    #[test]
    fn failures_refuse_the_user_from_any_address_and_the_address_for_any_user() {
        let throttle = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            throttle.admit("admin", HOME).expect("free");
        }
        assert!(throttle.admit("admin", OTHER).is_err());
        assert!(throttle.admit("someone", HOME).is_err());
        assert!(throttle.admit("someone", OTHER).is_ok());
    }

    #[test]
    fn a_username_is_one_key_however_it_is_spelt() {
        let throttle = LoginThrottle::default();
        for spelling in ["admin", " Admin", "ADMIN "] {
            throttle.admit(spelling, OTHER).expect("free");
        }
        assert!(throttle.admit("admin", HOME).is_err(), "three spellings share one budget");
    }

    #[test]
    fn success_clears_the_keys() {
        let throttle = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            throttle.admit("admin", HOME).expect("free");
        }
        throttle.record_success("admin", HOME);
        assert!(throttle.admit("admin", HOME).is_ok());
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = LoginThrottle::default();
        for i in 0..(MAX_KEYS + 10) {
            let _ = throttle.admit(&format!("user{i}"), IpAddr::V4(Ipv4Addr::from(i as u32)));
        }
        assert!(throttle.entries.lock().expect("lock").len() <= MAX_KEYS + 2);
    }
}
