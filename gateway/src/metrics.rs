//! Request metrics in Prometheus' text format: requests by group, environment, API and
//! status; a latency histogram per group and environment; upstream errors.
//!
//! The hot path takes a read lock to find its series and bumps atomics; the write lock is
//! taken only the first time a series is seen.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

type RequestKey = (String, String, String, u16);
type LatencyKey = (String, String);

/// The gateway's counters; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Metrics {
    requests: Arc<RwLock<HashMap<RequestKey, Arc<AtomicU64>>>>,
    latency: Arc<RwLock<HashMap<LatencyKey, Arc<Histogram>>>>,
    upstream_errors: Arc<RwLock<HashMap<(String, String), Arc<AtomicU64>>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn series<K: std::hash::Hash + Eq + Clone, V: Default>(map: &RwLock<HashMap<K, Arc<V>>>, key: &K) -> Arc<V> {
    if let Some(found) = map.read().unwrap_or_else(|p| p.into_inner()).get(key) {
        return found.clone();
    }
    map.write().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().clone()
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Counts one finished request.
    pub fn record(&self, group: &str, environment: &str, api: &str, status: u16, elapsed: Duration) {
        let key = (group.to_owned(), environment.to_owned(), api.to_owned(), status);
        series(&self.requests, &key).fetch_add(1, Ordering::Relaxed);
        let histogram = series(&self.latency, &(group.to_owned(), environment.to_owned()));
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&histogram.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        histogram.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a backend that failed or timed out.
    pub fn record_upstream_error(&self, group: &str, kind: &str) {
        series(&self.upstream_errors, &(group.to_owned(), kind.to_owned())).fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP gantry_requests_total Requests the gateway answered.\n# TYPE gantry_requests_total counter\n",
        );
        let requests = self.requests.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = requests.keys().collect();
        keys.sort();
        for key in keys {
            let (group, env, api, status) = key;
            let _ = writeln!(
                out,
                "gantry_requests_total{{group=\"{}\",environment=\"{}\",api=\"{}\",status=\"{status}\"}} {}",
                escape(group),
                escape(env),
                escape(api),
                requests[key].load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP gantry_request_duration_seconds Time from request to response head.\n# TYPE gantry_request_duration_seconds histogram\n");
        let latency = self.latency.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = latency.keys().collect();
        keys.sort();
        for key in keys {
            let (group, env) = (escape(&key.0), escape(&key.1));
            let h = &latency[key];
            for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                let _ = writeln!(
                    out,
                    "gantry_request_duration_seconds_bucket{{group=\"{group}\",environment=\"{env}\",le=\"{bound}\"}} {}",
                    bucket.load(Ordering::Relaxed)
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gantry_request_duration_seconds_bucket{{group=\"{group}\",environment=\"{env}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "gantry_request_duration_seconds_sum{{group=\"{group}\",environment=\"{env}\"}} {}",
                h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "gantry_request_duration_seconds_count{{group=\"{group}\",environment=\"{env}\"}} {count}"
            );
        }
        out.push_str("# HELP gantry_upstream_errors_total Backends that failed (bad_gateway) or timed out (timeout).\n# TYPE gantry_upstream_errors_total counter\n");
        let errors = self.upstream_errors.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = errors.keys().collect();
        keys.sort();
        for key in keys {
            let _ = writeln!(
                out,
                "gantry_upstream_errors_total{{group=\"{}\",kind=\"{}\"}} {}",
                escape(&key.0),
                escape(&key.1),
                errors[key].load(Ordering::Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_errors() {
        let metrics = Metrics::default();
        metrics.record("petstore", "test", "Get pet", 200, Duration::from_millis(3));
        metrics.record("petstore", "test", "Get pet", 200, Duration::from_millis(30));
        metrics.record_upstream_error("petstore", "timeout");
        let text = metrics.render();
        assert!(
            text.contains(r#"gantry_requests_total{group="petstore",environment="test",api="Get pet",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gantry_request_duration_seconds_bucket{group="petstore",environment="test",le="0.005"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"gantry_request_duration_seconds_count{group="petstore",environment="test"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"gantry_upstream_errors_total{group="petstore",kind="timeout"} 1"#), "{text}");
    }
}
