//! The most recent requests this node served, for the console's access-log viewer and
//! `GET /access-log`: a bounded ring (the oldest line leaves first), filled after each
//! response and searched newest first. Per node and in memory: a restart empties it.

use domain::access::{AccessFilter, AccessLine};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Lines kept per node unless configured.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// One answered request, as the log phase hands it over (`crate::phases::log::served`).
#[derive(Debug, Clone)]
pub struct Served {
    pub request_id: String,
    pub group: Option<String>,
    /// The API's id and name.
    pub api: Option<(i32, String)>,
    pub env: Option<domain::Environment>,
    pub method: http::Method,
    pub path: String,
    pub status: u16,
    pub latency_us: u64,
    pub app: Option<String>,
    pub client_ip: std::net::IpAddr,
}

/// A kept line: the request and when it was answered (text only when shown).
#[derive(Debug, Clone)]
struct Entry {
    time_ms: i64,
    served: Served,
}

/// The ring of recent requests.
#[derive(Debug)]
pub struct AccessLog {
    capacity: usize,
    lines: Mutex<VecDeque<Entry>>,
}

impl Default for AccessLog {
    fn default() -> AccessLog {
        AccessLog::with_capacity(DEFAULT_CAPACITY)
    }
}

impl AccessLog {
    /// A ring of at most `capacity` lines.
    pub fn with_capacity(capacity: usize) -> AccessLog {
        AccessLog { capacity: capacity.max(1), lines: Mutex::new(VecDeque::new()) }
    }

    /// Keeps the line of an answered request.
    pub fn record(&self, served: Served) {
        let entry = Entry { time_ms: now_ms(), served };
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() >= self.capacity {
            lines.pop_front();
        }
        lines.push_back(entry);
    }

    /// The newest lines that match `filter`, at most `filter.limit`.
    pub fn search(&self, filter: &AccessFilter) -> Vec<AccessLine> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let found: Vec<Entry> =
            lines.iter().rev().filter(|entry| matches(entry, filter)).take(filter.limit).cloned().collect();
        drop(lines);
        found.into_iter().map(show).collect()
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no line is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn matches(entry: &Entry, filter: &AccessFilter) -> bool {
    let entry = &entry.served;
    filter.request_id.as_deref().is_none_or(|id| entry.request_id == id)
        && filter.group.as_deref().is_none_or(|g| entry.group.as_deref() == Some(g))
        && filter.api.as_deref().is_none_or(|a| {
            entry.api.as_ref().is_some_and(|(id, name)| name == a || a.parse::<i32>().is_ok_and(|n| n == *id))
        })
        && filter.env.is_none_or(|e| entry.env == Some(e))
        && filter.status.is_none_or(|s| s.matches(entry.status))
        && filter.app.as_deref().is_none_or(|a| entry.app.as_deref() == Some(a))
        && filter.client_ip.is_none_or(|ip| entry.client_ip == ip)
}

fn show(Entry { time_ms, served: entry }: Entry) -> AccessLine {
    let time = chrono::DateTime::from_timestamp_millis(time_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    AccessLine {
        time,
        request_id: entry.request_id,
        group: entry.group,
        api_id: entry.api.as_ref().map(|(id, _)| *id),
        api: entry.api.map(|(_, name)| name),
        env: entry.env,
        method: entry.method.to_string(),
        path: entry.path,
        status: entry.status,
        latency_ms: entry.latency_us as f64 / 1000.0,
        app: entry.app,
        client_ip: entry.client_ip.to_string(),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::AccessQuery;
    use std::net::{IpAddr, Ipv4Addr};

    fn served(n: usize, status: u16) -> Served {
        Served {
            request_id: format!("id-{n}"),
            group: Some("shop".into()),
            api: Some((7, "Items".into())),
            env: Some(domain::Environment::Test),
            method: http::Method::GET,
            path: format!("/r{n}"),
            status,
            latency_us: 1500,
            app: None,
            client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
        }
    }

    fn filter(pairs: &[(&str, &str)]) -> AccessFilter {
        let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        let query = AccessQuery {
            request_id: get("request_id"),
            api: get("api"),
            status: get("status"),
            client_ip: get("client_ip"),
            limit: get("limit"),
            ..Default::default()
        };
        query.parse().expect("a valid filter")
    }

    #[test]
    fn the_newest_matching_lines_come_first_and_the_oldest_leave_first() {
        let log = AccessLog::with_capacity(3);
        for n in 0..4 {
            log.record(served(n, if n % 2 == 0 { 200 } else { 503 }));
        }
        assert_eq!(log.len(), 3, "bounded");
        let all: Vec<String> = log.search(&filter(&[])).into_iter().map(|l| l.path).collect();
        assert_eq!(all, ["/r3", "/r2", "/r1"], "newest first; /r0 left");
        let errors: Vec<String> = log.search(&filter(&[("status", "5xx")])).into_iter().map(|l| l.path).collect();
        assert_eq!(errors, ["/r3", "/r1"]);
        let found = log.search(&filter(&[("request_id", "id-2")]));
        assert_eq!((found.len(), found[0].path.as_str(), found[0].status), (1, "/r2", 200));
        assert_eq!((found[0].client_ip.as_str(), found[0].latency_ms, found[0].api_id), ("10.0.0.7", 1.5, Some(7)));
        assert!(found[0].time.ends_with('Z'), "{}", found[0].time);
        assert_eq!(log.search(&filter(&[("api", "7")])).len(), 3, "an API by id");
        assert_eq!(log.search(&filter(&[("api", "Items"), ("limit", "2")])).len(), 2, "by name, limited");
        assert!(log.search(&filter(&[("client_ip", "10.0.0.8")])).is_empty());
    }
}
