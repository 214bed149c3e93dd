//! Slows down password guessing: each failed login for a username, and each from a client
//! address, makes the next attempt for that key wait longer (after a few free tries), up to a
//! cap. A success clears the keys. Entries expire after a quiet period and the table is
//! bounded, so an attacker cannot grow it without limit.

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
    [format!("user:{}", username.to_lowercase()), format!("addr:{client}")]
}

impl LoginThrottle {
    /// How long an attempt for `username` from `client` must wait first.
    pub fn delay(&self, username: &str, client: IpAddr) -> Duration {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys(username, client)
            .iter()
            .filter_map(|key| entries.get(key))
            .filter(|entry| now.duration_since(entry.last) < FORGET_AFTER)
            .map(|entry| delay_after(entry.failures))
            .max()
            .unwrap_or(Duration::ZERO)
    }

    /// Counts a failed attempt.
    pub fn record_failure(&self, username: &str, client: IpAddr) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
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
        for key in keys(username, client) {
            let entry = entries.entry(key).or_insert(Entry { failures: 0, last: now });
            if now.duration_since(entry.last) >= FORGET_AFTER {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            entry.last = now;
        }
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
    fn failures_slow_down_the_user_from_any_address_and_the_address_for_any_user() {
        let throttle = LoginThrottle::default();
        for _ in 0..4 {
            throttle.record_failure("admin", HOME);
        }
        assert_eq!(throttle.delay("admin", OTHER), BASE_DELAY * 2);
        assert_eq!(throttle.delay("someone", HOME), BASE_DELAY * 2);
        assert_eq!(throttle.delay("someone", OTHER), Duration::ZERO);
    }

    #[test]
    fn usernames_are_counted_case_insensitively() {
        let throttle = LoginThrottle::default();
        for _ in 0..3 {
            throttle.record_failure("Admin", OTHER);
        }
        assert_eq!(throttle.delay("admin", HOME), BASE_DELAY);
    }

    #[test]
    fn success_clears_the_counters() {
        let throttle = LoginThrottle::default();
        for _ in 0..5 {
            throttle.record_failure("admin", HOME);
        }
        throttle.record_success("admin", HOME);
        assert_eq!(throttle.delay("admin", HOME), Duration::ZERO);
    }
}
