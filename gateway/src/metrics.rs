//! Request metrics in Prometheus' text format: requests by group, environment, version, API
//! and status; a latency histogram per group, environment and version; upstream errors;
//! each backend target's state, load and connections ([`crate::peer::render_metrics`]).
//! The version label is the live version's (`-` before one is resolved), so Prometheus
//! users can compare versions across a release.
//!
//! The hot path takes a read lock to find its series and bumps atomics; the write lock is
//! taken only the first time a series is seen. A routed request's count by status is not
//! kept here: its API's stats series counts it with the minute's traffic
//! ([`crate::stats::StatsCollector::requests_by_api`]), so with 10,000 APIs live a request
//! touches no per-API counter of the metrics (that was one more cache miss, and a locked
//! add, per request). Those counts outlive recompiles (kept by group, environment, version
//! and API id).

use rustc_hash::FxHashMap as HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Each bucket counts the requests that fell in it alone (one atomic add per request); the
/// rendering sums them into Prometheus' cumulative buckets.
#[derive(Default)]
struct Histogram {
    labels: String,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Series are keyed by ids (no allocation per request; configured ids and backend statuses,
/// so a fast non-keyed hash is safe); their labels live in the value.
/// The version is keyed by its hash (no allocation per request), its text kept in the labels.
type RequestKey = (i32, u8, u64, i32, u16);
type LatencyKey = (i32, u8, u64);

fn version_hash(version: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(version)
}

/// A counter and the labels it is rendered with.
#[derive(Default)]
struct Counter {
    labels: String,
    value: AtomicU64,
}

/// What a request is counted under.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    /// Group id and name (`-1`, `-` when unresolved).
    pub group: (i32, &'a str),
    /// Environment index and name.
    pub environment: (u8, &'a str),
    /// The live version's label (`-` when unresolved).
    pub version: &'a str,
    /// API id and name.
    pub api: (i32, &'a str),
}

/// The gateway's counters; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Metrics {
    requests: Arc<RwLock<HashMap<RequestKey, Arc<Counter>>>>,
    latency: Arc<RwLock<HashMap<LatencyKey, Arc<Histogram>>>>,
    upstream_errors: Arc<RwLock<HashMap<(String, String), Arc<AtomicU64>>>>,
    /// The most recent requests, for the access-log viewer.
    access: Arc<crate::access_log::AccessLog>,
    /// Traffic per minute, for the console's charts.
    stats: Arc<crate::stats::StatsCollector>,
}

impl Metrics {
    /// Counters whose access-log ring keeps at most `lines` lines (at least one).
    pub fn with_access_lines(lines: usize) -> Metrics {
        Metrics { access: Arc::new(crate::access_log::AccessLog::with_capacity(lines)), ..Metrics::default() }
    }

    /// The most recent requests this node served (the control plane searches the same ring).
    pub fn access_log(&self) -> &Arc<crate::access_log::AccessLog> {
        &self.access
    }

    /// This node's traffic per minute (the server's flusher writes it to the store).
    pub fn stats(&self) -> &Arc<crate::stats::StatsCollector> {
        &self.stats
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Runs `bump` on the series for `key`, made with `new` the first time it is seen.
fn series<K: std::hash::Hash + Eq + Clone, V>(
    map: &RwLock<HashMap<K, Arc<V>>>,
    key: &K,
    new: impl FnOnce() -> V,
    bump: impl FnOnce(&V),
) {
    if let Some(found) = map.read().unwrap_or_else(|p| p.into_inner()).get(key) {
        return bump(found);
    }
    bump(map.write().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_insert_with(|| Arc::new(new())));
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Counts one finished request's latency, and its status unless it was `routed` to an
    /// API (whose stats series counts it: [`crate::stats::StatsCollector::record_at`]).
    pub fn record(&self, labels: Labels<'_>, routed: bool, status: u16, elapsed: Duration) {
        if !routed {
            self.record_unrouted(labels, status);
        }
        self.record_latency(labels, elapsed);
    }

    fn record_unrouted(&self, labels: Labels<'_>, status: u16) {
        let Labels { group, environment, api, version } = labels;
        let key = (group.0, environment.0, version_hash(version), api.0, status);
        let new_counter = || Counter {
            labels: format!(
                "group=\"{}\",environment=\"{}\",version=\"{}\",api=\"{}\",status=\"{status}\"",
                escape(group.1),
                escape(environment.1),
                escape(version),
                escape(api.1)
            ),
            value: AtomicU64::new(0),
        };
        series(&self.requests, &key, new_counter, |counter| {
            counter.value.fetch_add(1, Ordering::Relaxed);
        });
    }

    fn record_latency(&self, labels: Labels<'_>, elapsed: Duration) {
        let Labels { group, environment, version, .. } = labels;
        let new_histogram = || Histogram {
            labels: format!(
                "group=\"{}\",environment=\"{}\",version=\"{}\"",
                escape(group.1),
                escape(environment.1),
                escape(version)
            ),
            ..Histogram::default()
        };
        let seconds = elapsed.as_secs_f64();
        series(&self.latency, &(group.0, environment.0, version_hash(version)), new_histogram, |histogram| {
            if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
                histogram.buckets[bucket].fetch_add(1, Ordering::Relaxed);
            }
            histogram.count.fetch_add(1, Ordering::Relaxed);
            histogram.sum_micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        });
    }

    /// Counts a backend that failed or timed out.
    pub fn record_upstream_error(&self, group: &str, kind: &str) {
        series(&self.upstream_errors, &(group.to_owned(), kind.to_owned()), AtomicU64::default, |count| {
            count.fetch_add(1, Ordering::Relaxed);
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP gantry_requests_total Requests the gateway answered.\n# TYPE gantry_requests_total counter\n",
        );
        let mut counters: Vec<(String, u64)> = self
            .requests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|c| (c.labels.clone(), c.value.load(Ordering::Relaxed)))
            .collect();
        for api in self.stats.requests_by_api() {
            for (status, count) in api.statuses.iter() {
                let labels = format!(
                    "group=\"{}\",environment=\"{}\",version=\"{}\",api=\"{}\",status=\"{status}\"",
                    escape(&api.group),
                    escape(api.env.as_str()),
                    escape(&api.version),
                    escape(&api.api)
                );
                counters.push((labels, count));
            }
        }
        counters.sort();
        for (labels, value) in counters {
            let _ = writeln!(out, "gantry_requests_total{{{labels}}} {value}");
        }
        out.push_str("# HELP gantry_request_duration_seconds Time from request to response head.\n# TYPE gantry_request_duration_seconds histogram\n");
        let latency = self.latency.read().unwrap_or_else(|p| p.into_inner());
        let mut histograms: Vec<_> = latency.values().collect();
        histograms.sort_by(|a, b| a.labels.cmp(&b.labels));
        for h in histograms {
            let labels = &h.labels;
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(out, "gantry_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
            }
            let count = h.count.load(Ordering::Relaxed);
            let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "gantry_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "gantry_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "gantry_request_duration_seconds_count{{{labels}}} {count}");
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
        crate::peer::render_metrics(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Sample, StatsSlot};

    /// Counts an answered request the way the server does: its stats series, then the metrics.
    fn answer(metrics: &Metrics, labels: Labels<'_>, slot: Option<&StatsSlot>, status: u16, ms: u64) {
        let sample = Sample {
            group_id: labels.group.0,
            api_id: labels.api.0,
            env: domain::Environment::Test,
            version: labels.version,
            status,
            latency_us: ms * 1000,
            bytes: 0,
            backend: None,
            failure: None,
            slot,
            names: (labels.group.1, labels.api.1),
        };
        metrics.stats().record_at(1_700_000_000, sample);
        metrics.record(labels, labels.api.0 >= 0, status, Duration::from_millis(ms));
    }

    #[test]
    fn renders_counters_histograms_and_errors() {
        let metrics = Metrics::default();
        let labels = Labels { group: (1, "petstore"), environment: (0, "test"), api: (7, "Get pet"), version: "v1" };
        let slot = StatsSlot::default();
        answer(&metrics, labels, Some(&slot), 200, 3);
        // A recompiled API (a new slot) goes on counting in the same series.
        answer(&metrics, labels, Some(&StatsSlot::default()), 200, 30);
        answer(&metrics, labels, Some(&slot), 404, 1);
        // More statuses than a series holds inline.
        for status in [201, 202, 203] {
            answer(&metrics, labels, Some(&slot), status, 1);
        }
        answer(&metrics, labels, Some(&slot), 203, 1);
        let unrouted = Labels { group: (1, "petstore"), environment: (0, "test"), api: (-1, "-"), version: "v1" };
        answer(&metrics, unrouted, None, 404, 1);
        metrics.record_upstream_error("petstore", "timeout");
        let text = metrics.render();
        assert!(
            text.contains(r#"gantry_requests_total{group="petstore",environment="test",version="v1",api="Get pet",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gantry_request_duration_seconds_bucket{group="petstore",environment="test",version="v1",le="0.005"} 7"#
            ),
            "{text}"
        );
        // Cumulative: the 1 ms requests are in every bucket from 1 ms up, the 3 ms one from 5 ms, the
        // 30 ms one from 50 ms.
        assert!(
            text.contains(r#"gantry_request_duration_seconds_bucket{group="petstore",environment="test",version="v1",le="0.05"} 8"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gantry_request_duration_seconds_bucket{group="petstore",environment="test",version="v1",le="0.0005"} 0"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gantry_request_duration_seconds_count{group="petstore",environment="test",version="v1"} 8"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"gantry_upstream_errors_total{group="petstore",kind="timeout"} 1"#), "{text}");
        assert!(
            text.contains(r#"gantry_requests_total{group="petstore",environment="test",version="v1",api="Get pet",status="404"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"gantry_requests_total{group="petstore",environment="test",version="v1",api="-",status="404"} 1"#
            ),
            "{text}"
        );
        for (status, count) in [(200, 2), (404, 1), (201, 1), (202, 1), (203, 2)] {
            let line = format!(
                r#"gantry_requests_total{{group="petstore",environment="test",version="v1",api="Get pet",status="{status}"}} {count}"#
            );
            assert!(text.contains(&line), "{line} in {text}");
        }
    }
}
