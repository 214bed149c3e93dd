//! Traffic over time, as Gantry keeps it and the console charts it: per minute, per group,
//! API, environment and version, the requests by status class, upstream failures, bytes and
//! a latency sketch ([`LatencySketch`]); per backend origin, the calls and their failures.
//!
//! - [`LatencySketch`]: a DDSketch (relative accuracy [`RELATIVE_ACCURACY`]): mergeable, so
//!   minutes roll up into hours and nodes into a cluster without losing the percentiles'
//!   guarantee.
//! - [`Counts`] and [`StatsBatch`]: what a gateway node hands the store (cumulative per
//!   minute, written in batches).
//! - [`StatsQuery`] → [`StatsFilter`]: `GET /groups/{group}/stats`'s query string, parsed.
//! - [`StatsView`], [`GroupOverview`], [`BackendHealth`]: what the console and REST show.

use crate::error::FieldError;
use crate::Environment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every percentile a [`LatencySketch`] reports is within this fraction of a true value of
/// the recorded data (DDSketch's guarantee: for a quantile `q`, the estimate `e` of the true
/// `x` satisfies `|e - x| <= RELATIVE_ACCURACY * x`).
pub const RELATIVE_ACCURACY: f64 = 0.01;

/// γ = (1 + α) / (1 − α).
fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// ln γ, written out: the hot path divides by it once per request.
const LN_GAMMA: f64 = 0.020000666706669435;

/// Bin indices stay within this range (1 µs to far beyond any timeout).
const MAX_INDEX: i32 = 2_000;
/// The most bins an encoded sketch may have.
const MAX_BINS: usize = 4_096;

/// A latency distribution in microseconds: logarithmic bins of ratio γ, so a value is
/// represented within ±α of itself; two sketches merge by adding bins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencySketch {
    /// Values below 1 µs.
    zeros: u64,
    /// Bin index → count.
    bins: BTreeMap<i32, u64>,
}

impl LatencySketch {
    /// Records one latency.
    pub fn add_micros(&mut self, micros: u64) {
        self.add_bin(LatencySketch::bin_of(micros));
    }

    /// The bin a latency of `micros` falls in; `None` below 1 µs (counted apart). With
    /// [`LatencySketch::add_bin`], a latency can be noted in two bytes and recorded later.
    pub fn bin_of(micros: u64) -> Option<u16> {
        if micros == 0 {
            return None;
        }
        let index = ((micros as f64).ln() / LN_GAMMA).ceil() as i32;
        // Within 0..=MAX_INDEX (2,000) once clamped.
        Some(index.clamp(0, MAX_INDEX) as u16)
    }

    /// Records one latency given as its [`LatencySketch::bin_of`].
    pub fn add_bin(&mut self, bin: Option<u16>) {
        match bin {
            None => self.zeros += 1,
            Some(index) => *self.bins.entry(i32::from(index).min(MAX_INDEX)).or_default() += 1,
        }
    }

    /// Adds `other`'s values.
    pub fn merge(&mut self, other: &LatencySketch) {
        self.zeros += other.zeros;
        for (index, count) in &other.bins {
            *self.bins.entry(*index).or_default() += count;
        }
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.zeros + self.bins.values().sum::<u64>()
    }

    /// The `q` quantile (0–1) in milliseconds, or `None` without values.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * (count - 1) as f64).floor() as u64;
        if rank < self.zeros {
            return Some(0.0);
        }
        let mut seen = self.zeros;
        let gamma = gamma();
        for (index, n) in &self.bins {
            seen += n;
            if seen > rank {
                // The bin holds (γ^(i-1), γ^i]; this point is within α of both ends.
                let micros = 2.0 * gamma.powi(*index) / (gamma + 1.0);
                return Some(micros / 1000.0);
            }
        }
        None
    }

    /// The sketch as stored: `zeros;index:count,index:count`. Written digit by digit into
    /// one string: a node flushes a sketch per API every few seconds (10,000 of them with
    /// 10,000 APIs in use), and `format!` per bin was half the flush's time.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(4 + 12 * self.bins.len());
        push_decimal(&mut out, self.zeros);
        out.push(';');
        for (n, (index, count)) in self.bins.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            if *index < 0 {
                out.push('-');
            }
            push_decimal(&mut out, u64::from(index.unsigned_abs()));
            out.push(':');
            push_decimal(&mut out, *count);
        }
        out
    }

    /// Reads [`LatencySketch::encode`]'s form, refusing anything else.
    pub fn decode(text: &str) -> Result<LatencySketch, String> {
        let (zeros, bins) = text.split_once(';').ok_or("a latency sketch has the form `zeros;index:count,...`")?;
        let zeros = zeros.parse::<u64>().map_err(|_| format!("`{zeros}` is not a count"))?;
        let mut sketch = LatencySketch { zeros, bins: BTreeMap::new() };
        for bin in bins.split(',').filter(|b| !b.is_empty()) {
            let (index, count) = bin.split_once(':').ok_or_else(|| format!("bin `{bin}` is not `index:count`"))?;
            let index = index.parse::<i32>().ok().filter(|i| (0..=MAX_INDEX).contains(i));
            let count = count.parse::<u64>().ok();
            match (index, count) {
                (Some(index), Some(count)) => *sketch.bins.entry(index).or_default() += count,
                _ => return Err(format!("bin `{bin}` is out of range")),
            }
            if sketch.bins.len() > MAX_BINS {
                return Err("too many bins".into());
            }
        }
        Ok(sketch)
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Why a backend call failed, for the backend's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// Refused, reset, TLS failure, malformed answer (502).
    Error,
    /// No answer within the API's timeout (504).
    Timeout,
}

/// One series' traffic in one minute (or hour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    /// 1xx and 2xx (a WebSocket's 101 is a success).
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// Backends that failed (502).
    pub upstream_errors: u64,
    /// Backends that did not answer in time (504).
    pub timeouts: u64,
    /// Response body bytes (those known up front).
    pub bytes_out: u64,
    pub latency: LatencySketch,
}

impl Counts {
    /// Counts one answered request.
    pub fn add(&mut self, status: u16, latency_us: u64, bytes: u64, failure: Option<UpstreamFailure>) {
        self.add_binned(status, LatencySketch::bin_of(latency_us), bytes, failure);
    }

    /// Counts one answered request whose latency is given as its [`LatencySketch::bin_of`].
    pub fn add_binned(&mut self, status: u16, latency_bin: Option<u16>, bytes: u64, failure: Option<UpstreamFailure>) {
        self.requests += 1;
        match status {
            0..=299 => self.status_2xx += 1,
            300..=399 => self.status_3xx += 1,
            400..=499 => self.status_4xx += 1,
            _ => self.status_5xx += 1,
        }
        match failure {
            Some(UpstreamFailure::Error) => self.upstream_errors += 1,
            Some(UpstreamFailure::Timeout) => self.timeouts += 1,
            None => {}
        }
        self.bytes_out += bytes;
        self.latency.add_bin(latency_bin);
    }

    /// Adds `other`.
    pub fn merge(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.status_2xx += other.status_2xx;
        self.status_3xx += other.status_3xx;
        self.status_4xx += other.status_4xx;
        self.status_5xx += other.status_5xx;
        self.upstream_errors += other.upstream_errors;
        self.timeouts += other.timeouts;
        self.bytes_out += other.bytes_out;
        self.latency.merge(&other.latency);
    }
}

/// What one series is: the minute (Unix seconds of its start), group, API (`-1`: requests
/// of the group no API matched), environment and the live version's label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    pub start: i64,
    pub group_id: i32,
    pub api_id: i32,
    pub env: Environment,
    pub version: String,
}

/// One backend origin's calls in one minute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendCounts {
    pub requests: u64,
    pub upstream_errors: u64,
    pub timeouts: u64,
}

impl BackendCounts {
    /// Counts one call, failed as `failure` if it did.
    pub fn add(&mut self, failure: Option<UpstreamFailure>) {
        self.requests += 1;
        match failure {
            Some(UpstreamFailure::Error) => self.upstream_errors += 1,
            Some(UpstreamFailure::Timeout) => self.timeouts += 1,
            None => {}
        }
    }

    /// Adds `other`.
    pub fn merge(&mut self, other: &BackendCounts) {
        self.requests += other.requests;
        self.upstream_errors += other.upstream_errors;
        self.timeouts += other.timeouts;
    }
}

/// A node's traffic since its last write: each entry holds the whole minute so far (a write
/// replaces the row, so a batch written twice counts once).
#[derive(Debug, Clone, Default)]
pub struct StatsBatch {
    pub series: Vec<(SeriesKey, Counts)>,
    /// (minute start, `scheme://host:port`) → calls.
    pub backends: Vec<((i64, String), BackendCounts)>,
}

impl StatsBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty() && self.backends.is_empty()
    }
}

/// The chart ranges the console offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StatsRange {
    #[default]
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
    #[serde(rename = "7d")]
    Week,
}

impl StatsRange {
    pub const ALL: [StatsRange; 3] = [StatsRange::Hour, StatsRange::Day, StatsRange::Week];

    /// `1h`, `24h`, `7d`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatsRange::Hour => "1h",
            StatsRange::Day => "24h",
            StatsRange::Week => "7d",
        }
    }

    /// What the picker shows.
    pub fn label(self) -> &'static str {
        match self {
            StatsRange::Hour => "Last hour",
            StatsRange::Day => "Last 24 hours",
            StatsRange::Week => "Last 7 days",
        }
    }

    /// The range's length in seconds.
    pub fn seconds(self) -> i64 {
        match self {
            StatsRange::Hour => 3_600,
            StatsRange::Day => 86_400,
            StatsRange::Week => 7 * 86_400,
        }
    }

    /// One chart point per this many seconds (60, 96 or 168 points).
    pub fn bucket_seconds(self) -> i64 {
        match self {
            StatsRange::Hour => 60,
            StatsRange::Day => 900,
            StatsRange::Week => 3_600,
        }
    }
}

impl std::str::FromStr for StatsRange {
    type Err = String;
    fn from_str(raw: &str) -> Result<StatsRange, String> {
        StatsRange::ALL.into_iter().find(|r| r.as_str() == raw).ok_or_else(|| "use 1h, 24h or 7d".to_owned())
    }
}

/// `GET /groups/{group}/stats`'s query string, before it is parsed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsQuery {
    pub env: Option<String>,
    pub api: Option<String>,
    pub range: Option<String>,
}

/// What to chart: one environment or all, one API or the whole group, over a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsFilter {
    pub env: Option<Environment>,
    pub api: Option<i32>,
    pub range: StatsRange,
}

impl StatsQuery {
    /// The filter, or every field that is wrong, named.
    pub fn parse(&self) -> Result<StatsFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let given =
            |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let env = match given(&self.env).as_deref() {
            None | Some("all") => None,
            Some(raw) => match raw.parse::<Environment>() {
                Ok(env) => Some(env),
                Err(_) => {
                    errors.push(FieldError::new("env", "use test, pre, prod or all"));
                    None
                }
            },
        };
        let api = match given(&self.api) {
            None => None,
            Some(raw) => match raw.parse::<i32>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.push(FieldError::new("api", "an API id (a positive number)"));
                    None
                }
            },
        };
        let range = match given(&self.range) {
            None => StatsRange::default(),
            Some(raw) => raw.parse().unwrap_or_else(|message: String| {
                errors.push(FieldError::new("range", message));
                StatsRange::default()
            }),
        };
        if errors.is_empty() {
            Ok(StatsFilter { env, api, range })
        } else {
            Err(errors)
        }
    }
}

/// One chart point: the traffic of `bucket_seconds` from `start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsBucket {
    /// RFC 3339.
    pub start: String,
    /// The same as Unix seconds.
    pub start_unix: i64,
    pub requests: u64,
    pub status_2xx: u64,
    pub status_3xx: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    pub upstream_errors: u64,
    pub timeouts: u64,
    pub bytes_out: u64,
    /// Latency percentiles (`null` without requests), within [`RELATIVE_ACCURACY`].
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

impl StatsBucket {
    /// The point for `counts` from `start_unix` (`start` as RFC 3339).
    pub fn new(start: String, start_unix: i64, counts: &Counts) -> StatsBucket {
        StatsBucket {
            start,
            start_unix,
            requests: counts.requests,
            status_2xx: counts.status_2xx,
            status_3xx: counts.status_3xx,
            status_4xx: counts.status_4xx,
            status_5xx: counts.status_5xx,
            upstream_errors: counts.upstream_errors,
            timeouts: counts.timeouts,
            bytes_out: counts.bytes_out,
            p50_ms: counts.latency.quantile_ms(0.50),
            p95_ms: counts.latency.quantile_ms(0.95),
            p99_ms: counts.latency.quantile_ms(0.99),
        }
    }
}

/// A release, switch or off-line within the range: a marker on the charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsEvent {
    /// RFC 3339.
    pub time: String,
    pub time_unix: i64,
    pub env: Environment,
    /// `release`, `switch` or `offline`.
    pub action: String,
    /// The version live after it (`None` after an off-line).
    pub version: Option<String>,
}

/// `GET /groups/{group}/stats`: the points of one API or the whole group, and the
/// deployment events of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsView {
    pub range: StatsRange,
    pub env: Option<Environment>,
    pub api: Option<i32>,
    pub bucket_seconds: i64,
    pub buckets: Vec<StatsBucket>,
    pub events: Vec<StatsEvent>,
    /// The versions that answered in the range, most requests first (at most
    /// [`MAX_VERSION_LINES`]; the rest summed as [`OTHER_VERSIONS`]): one line each on the
    /// charts, so a canary and its live version can be told apart.
    #[serde(default)]
    pub versions: Vec<VersionSeries>,
}

/// The most versions drawn as lines of their own.
pub const MAX_VERSION_LINES: usize = 6;

/// The version recorded for a request no version answered (no deployment live for the
/// environment it asked for): the gateway writes it, the Monitoring pages name it.
pub const NO_VERSION: &str = "-";

/// The label of the versions past [`MAX_VERSION_LINES`], summed.
pub const OTHER_VERSIONS: &str = "other versions";

/// One version's traffic over the range: totals, and one point per bucket of the view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSeries {
    /// The version label; `-` for requests no version served (nothing live).
    pub version: String,
    pub requests: u64,
    pub status_5xx: u64,
    pub p99_ms: Option<f64>,
    /// Aligned with the view's `buckets`.
    pub points: Vec<VersionPoint>,
}

/// One version's traffic in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionPoint {
    pub requests: u64,
    pub status_5xx: u64,
    /// `None` without requests.
    pub p99_ms: Option<f64>,
}

impl VersionSeries {
    /// The series of `version` from its counts per bucket.
    pub fn new(version: String, buckets: &[Counts]) -> VersionSeries {
        let mut total = Counts::default();
        buckets.iter().for_each(|c| total.merge(c));
        VersionSeries {
            version,
            requests: total.requests,
            status_5xx: total.status_5xx,
            p99_ms: total.latency.quantile_ms(0.99),
            points: buckets
                .iter()
                .map(|c| VersionPoint {
                    requests: c.requests,
                    status_5xx: c.status_5xx,
                    p99_ms: c.latency.quantile_ms(0.99),
                })
                .collect(),
        }
    }

    /// The series of every version in `per_version` (counts per bucket), most requests
    /// first; past [`MAX_VERSION_LINES`] the rest are summed as [`OTHER_VERSIONS`].
    pub fn all(per_version: BTreeMap<String, Vec<Counts>>) -> Vec<VersionSeries> {
        let mut ranked: Vec<(u64, String, Vec<Counts>)> = per_version
            .into_iter()
            .map(|(v, buckets)| (buckets.iter().map(|c| c.requests).sum(), v, buckets))
            .collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let rest = match ranked.len() > MAX_VERSION_LINES {
            true => ranked.split_off(MAX_VERSION_LINES - 1),
            false => Vec::new(),
        };
        let mut series: Vec<VersionSeries> =
            ranked.into_iter().map(|(_, version, buckets)| VersionSeries::new(version, &buckets)).collect();
        if let Some((_, _, first)) = rest.first() {
            let mut sum = vec![Counts::default(); first.len()];
            for (_, _, buckets) in &rest {
                sum.iter_mut().zip(buckets).for_each(|(s, c)| s.merge(c));
            }
            series.push(VersionSeries::new(OTHER_VERSIONS.to_owned(), &sum));
        }
        series
    }
}

impl StatsView {
    /// The range's totals.
    pub fn total_requests(&self) -> u64 {
        self.buckets.iter().map(|b| b.requests).sum()
    }
}

/// One API's traffic over a range (the group overview's table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTraffic {
    /// `None`: requests no API matched.
    pub api_id: Option<i32>,
    pub api: String,
    pub requests: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// 5xx per request (0–1).
    pub error_rate: f64,
    pub p99_ms: Option<f64>,
}

/// A group's traffic over a range: the group's points and every API's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupOverview {
    pub stats: StatsView,
    /// Most requests first.
    pub apis: Vec<ApiTraffic>,
}

impl GroupOverview {
    /// The `n` APIs with the highest p99.
    pub fn slowest(&self, n: usize) -> Vec<ApiTraffic> {
        let mut apis: Vec<ApiTraffic> = self.apis.iter().filter(|a| a.p99_ms.is_some()).cloned().collect();
        apis.sort_by(|a, b| b.p99_ms.partial_cmp(&a.p99_ms).unwrap_or(std::cmp::Ordering::Equal));
        apis.truncate(n);
        apis
    }
}

/// A backend origin's recent calls (the Backend Services page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendHealth {
    /// `scheme://host:port`.
    pub origin: String,
    /// Over this many minutes.
    pub minutes: u32,
    pub requests: u64,
    pub upstream_errors: u64,
    pub timeouts: u64,
    /// The target's state on the node that answered (`healthy`, `ejected` by failures, `down`
    /// by the active health check); `None` when that node has not compiled it.
    #[serde(default)]
    pub state: Option<String>,
}

impl BackendHealth {
    /// No calls yet.
    pub fn empty(origin: String, minutes: u32) -> BackendHealth {
        BackendHealth { origin, minutes, requests: 0, upstream_errors: 0, timeouts: 0, state: None }
    }

    /// Failed calls (errors and timeouts) per call, 0–1.
    pub fn failure_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            (self.upstream_errors + self.timeouts) as f64 / self.requests as f64
        }
    }
}

/// The origin (`scheme://host:port`, the port always written) of a service URL or backend
/// address, the key [`BackendHealth`] is kept under; `None` when it is not http(s).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    Some(if has_port { format!("{scheme}://{authority}") } else { format!("{scheme}://{authority}:{default_port}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The true `q` quantile as the sketch defines rank: the value at `floor(q * (n - 1))`.
    fn true_quantile(sorted: &[u64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize] as f64 / 1000.0
    }

    #[test]
    fn percentiles_are_within_the_documented_relative_error() {
        // A spread of latencies from 50 µs to 3 s (a deterministic pseudo-random walk).
        let mut values = Vec::new();
        let mut x: u64 = 12345;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let exponent = (x >> 33) % 1_000; // 0..1000 → 50 µs · 10^(0..4.8)
            values.push((50.0 * 10f64.powf(exponent as f64 / 208.0)) as u64);
        }
        let mut sketch = LatencySketch::default();
        for v in &values {
            sketch.add_micros(*v);
        }
        values.sort_unstable();
        for q in [0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0] {
            let truth = true_quantile(&values, q);
            let estimate = sketch.quantile_ms(q).expect("values");
            assert!((estimate - truth).abs() <= RELATIVE_ACCURACY * truth + 1e-9, "q={q}: {estimate} vs {truth}");
        }
        assert_eq!(sketch.count(), 20_000);
        assert_eq!(LatencySketch::default().quantile_ms(0.5), None);
    }

    #[test]
    fn the_written_out_logarithm_is_gammas() {
        assert!((LN_GAMMA - gamma().ln()).abs() < 1e-15);
    }

    #[test]
    fn merged_sketches_equal_one_sketch_of_everything_and_survive_encoding() {
        let (mut a, mut b, mut all) = (LatencySketch::default(), LatencySketch::default(), LatencySketch::default());
        for v in [0, 1, 5, 900, 12_000, 250_000] {
            a.add_micros(v);
            all.add_micros(v);
        }
        for v in [3, 900, 7_000_000] {
            b.add_micros(v);
            all.add_micros(v);
        }
        a.merge(&b);
        assert_eq!(a, all);
        assert_eq!(LatencySketch::decode(&all.encode()).expect("decodes"), all);
        assert_eq!(LatencySketch::decode("0;").expect("empty"), LatencySketch::default());
        for hostile in ["", "x;1:1", "1;1", "1;-5:1", "1;999999:1", "1;1:x", "1;1:18446744073709551616"] {
            assert!(LatencySketch::decode(hostile).is_err(), "{hostile}");
        }
    }

    proptest::proptest! {
        /// The digit-by-digit encoding is the one `format!` writes, for any bins and counts
        /// (including the extremes), and decodes back to the same sketch.
        #[test]
        fn the_encoding_is_formats_and_decodes_back(
            zeros in proptest::prelude::any::<u64>(),
            bins in proptest::collection::btree_map(0..=MAX_INDEX, proptest::prelude::any::<u64>(), 0..40),
        ) {
            let sketch = LatencySketch { zeros, bins };
            let bins: Vec<String> = sketch.bins.iter().map(|(i, n)| format!("{i}:{n}")).collect();
            proptest::prop_assert_eq!(sketch.encode(), format!("{};{}", sketch.zeros, bins.join(",")));
            proptest::prop_assert_eq!(LatencySketch::decode(&sketch.encode()).expect("decodes"), sketch);
        }
    }

    #[test]
    fn counts_sort_statuses_into_classes() {
        let mut counts = Counts::default();
        counts.add(200, 1_000, 10, None);
        counts.add(101, 1_000, 0, None);
        counts.add(302, 1_000, 0, None);
        counts.add(404, 1_000, 5, None);
        counts.add(502, 1_000, 0, Some(UpstreamFailure::Error));
        counts.add(504, 1_000, 0, Some(UpstreamFailure::Timeout));
        assert_eq!(
            (counts.requests, counts.status_2xx, counts.status_3xx, counts.status_4xx, counts.status_5xx),
            (6, 2, 1, 1, 2)
        );
        assert_eq!((counts.upstream_errors, counts.timeouts, counts.bytes_out), (1, 1, 15));
        let mut twice = counts.clone();
        twice.merge(&counts);
        assert_eq!((twice.requests, twice.latency.count()), (12, 12));
    }

    #[test]
    fn queries_parse_and_every_wrong_field_is_named() {
        let q = |env: &str, api: &str, range: &str| StatsQuery {
            env: Some(env.into()),
            api: Some(api.into()),
            range: Some(range.into()),
        };
        let filter = q("prod", "7", "24h").parse().expect("valid");
        assert_eq!(filter, StatsFilter { env: Some(Environment::Prod), api: Some(7), range: StatsRange::Day });
        let all = StatsQuery::default().parse().expect("defaults");
        assert_eq!(all, StatsFilter { env: None, api: None, range: StatsRange::Hour });
        assert_eq!(q("all", "", "7d").parse().expect("all").env, None);
        let errors = q("staging", "-1", "1y").parse().expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["env", "api", "range"]);
    }

    #[test]
    fn origins_always_name_the_port() {
        assert_eq!(origin_of("http://127.0.0.1:9000/base").as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(origin_of("https://Backend.example").as_deref(), Some("https://backend.example:443"));
        assert_eq!(origin_of("http://[::1]/x").as_deref(), Some("http://[::1]:80"));
        assert_eq!(origin_of("http://[::1]:81").as_deref(), Some("http://[::1]:81"));
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("http://user@x"), None);
    }

    #[test]
    fn versions_are_ranked_by_requests_and_the_tail_is_summed_as_one_line() {
        let bucket = |n: u64, failed: u64| {
            let mut counts = Counts::default();
            (0..n).for_each(|_| counts.add(200, 1_000, 0, None));
            (0..failed).for_each(|_| counts.add(503, 9_000, 0, None));
            counts
        };
        let mut per_version = BTreeMap::new();
        for (i, version) in ["1.0.0", "1.1.0", "a", "b", "c", "d", "e", "f"].iter().enumerate() {
            let n = 100 - i as u64 * 10;
            per_version.insert(version.to_string(), vec![bucket(n, 0), Counts::default(), bucket(1, 1)]);
        }
        let series = VersionSeries::all(per_version);
        assert_eq!(series.len(), MAX_VERSION_LINES);
        let names: Vec<&str> = series.iter().map(|s| s.version.as_str()).collect();
        assert_eq!(names, ["1.0.0", "1.1.0", "a", "b", "c", OTHER_VERSIONS]);
        assert_eq!((series[0].requests, series[0].status_5xx), (102, 1));
        assert_eq!(series[0].points.len(), 3, "one point per bucket");
        assert_eq!(series[0].points[1], VersionPoint { requests: 0, status_5xx: 0, p99_ms: None });
        // d, e and f: 50 + 40 + 30 requests, and 2 each in the last bucket.
        assert_eq!(series[5].requests, 120 + 6);
        assert_eq!(series[5].points[2].requests, 6);
        assert!(series[5].points[2].p99_ms.is_some_and(|p| p > 8.0), "the 503s were slow");
        // Few versions: each its own line.
        let two = VersionSeries::all(BTreeMap::from([
            ("x".to_owned(), vec![bucket(1, 0)]),
            ("y".to_owned(), vec![bucket(3, 0)]),
        ]));
        assert_eq!(two.iter().map(|s| s.version.as_str()).collect::<Vec<_>>(), ["y", "x"]);
    }
}
