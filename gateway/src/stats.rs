//! Traffic per minute, kept in memory until the node writes it to the store: per group,
//! API, environment and version the [`Counts`] of the minute so far, and per backend origin
//! its calls and failures. The log phase hands each answered request over as a [`Sample`];
//! the server's flusher takes what changed every few seconds ([`StatsCollector::take`]) and
//! writes it (`control::stats`). A minute's entry holds the whole minute so far, so each write
//! replaces the row it wrote before; a minute leaves memory once it is over and written.
//!
//! Series exist only for configured things (a request that resolves no group is not
//! counted here), so a caller cannot grow this map beyond the configuration's size.
//!
//! A routed request reaches its API's series through the compiled API ([`StatsSlot`]), with
//! no lookup in a map as large as the number of APIs (with 10,000 APIs live that lookup was
//! several cache misses per request); each series has its own lock. Requests that matched
//! no API are counted in a map under the collector's lock. Backend calls are counted per
//! thread ([`BACKEND_SHARDS`] maps, each under its own lock, a thread always using the same
//! one): a routed request takes no lock that every request takes, or that the flusher holds
//! while it takes every series; [`StatsCollector::take`] adds the threads' counts up.
//!
//! A series does not count a request into its minute at once: it notes the request's few
//! numbers in a small array beside its lock ([`PENDING`] of them, 16 bytes each) and adds
//! them to the minute's [`Counts`] and latency sketch together, when the array is full, the
//! minute changes or the flusher takes the series. With traffic spread over 10,000 APIs,
//! every line of memory a request touches in its series is a cache miss; the minute's
//! counters and its sketch's tree are several lines, the array one or two, and a batch of
//! sketch inserts into the same tree misses once (`bench/results/scale_cache.md`).
//!
//! A series also counts its requests by status since it began ([`StatsCollector::requests_by_api`]):
//! the metrics' `gantry_requests_total` of routed requests is read from here, counted with
//! each batch, so a request touches no counter of its own for the metrics (with 10,000 APIs
//! that was one more line, and a locked add, per request). These counts outlive the series:
//! a series that leaves memory hands them to the collector, and a series made again for
//! the same API, environment and version takes them back. While collection is off, a
//! series still counts these (and nothing else).

use domain::stats::{BackendCounts, Counts, LatencySketch, SeriesKey, StatsBatch, UpstreamFailure};
use domain::Environment;
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// One answered request, as the stats see it.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub group_id: i32,
    /// `-1`: no API matched.
    pub api_id: i32,
    pub env: Environment,
    pub version: &'a str,
    pub status: u16,
    pub latency_us: u64,
    pub bytes: u64,
    /// The backend origin called, if one was.
    pub backend: Option<&'a Arc<str>>,
    pub failure: Option<UpstreamFailure>,
    /// The routed API's slot, if one was routed.
    pub slot: Option<&'a StatsSlot>,
    /// The group's and API's names (kept by a series when it is made, for the metrics).
    pub names: (&'a str, &'a str),
}

/// Requests by status, the usual few inline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statuses(smallvec::SmallVec<[(u16, u64); 4]>);

impl Statuses {
    fn add(&mut self, status: u16, count: u64) {
        match self.0.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += count,
            None => self.0.push((status, count)),
        }
    }

    /// `(status, requests)`, in the order first seen.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.0.iter().copied()
    }
}

/// One routed API's requests by status in one environment and version, since this node
/// started (for the metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequests {
    pub group: Box<str>,
    pub api_id: i32,
    pub api: Box<str>,
    pub env: Environment,
    pub version: Box<str>,
    pub statuses: Statuses,
}

/// Where a compiled API keeps its [`Series`] once its first request is counted.
#[derive(Default, Clone)]
pub struct StatsSlot(OnceLock<Arc<Series>>);

impl std::fmt::Debug for StatsSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatsSlot")
    }
}

/// How many requests a series notes before it counts them into their minute.
pub const PENDING: usize = 24;

/// One API's minutes in one environment and version (usually the current one, and the
/// previous one until it is written).
///
/// Laid out for the request's path: with the allocation on a line of its own, the lock,
/// what the series is and how many requests it has noted share one cache line, and a
/// request writes one more (its [`Noted`] entry).
#[repr(align(64))]
pub struct Series {
    tallies: Mutex<Tallies>,
}

/// A series' requests: those noted and not yet counted, then the minutes they are counted in.
/// `repr(C)`: the fields a request reads first, in this order (the lock's data follows the
/// lock itself).
#[repr(C)]
struct Tallies {
    pending_len: u8,
    env: Environment,
    group_id: i32,
    api_id: i32,
    /// The minute the noted requests fall in, in minutes since the epoch.
    pending_minute: i32,
    /// Inline for the usual label: comparing it with a sample's reads no other allocation.
    version: crate::name::Name,
    pending: [Noted; PENDING],
    /// Inline for the usual one or two minutes, in the series' own allocation.
    minutes: smallvec::SmallVec<[(i64, Entry<Counts>); 2]>,
    /// Requests counted so far, by status (for the metrics).
    statuses: Statuses,
    /// The group's and API's names when the series was made.
    names: Names,
}

/// What a series notes of one request until it counts it: 16 bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Noted {
    bytes: u64,
    status: u16,
    latency_bin: Option<u16>,
    failure: Option<UpstreamFailure>,
}

impl Series {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tallies> {
        self.tallies.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Tallies {
    fn is(&self, sample: &Sample<'_>) -> bool {
        self.api_id == sample.api_id
            && self.group_id == sample.group_id
            && self.env == sample.env
            && self.version == sample.version
    }

    /// Notes one request answered in the minute starting at `minute` (Unix seconds),
    /// counting those noted before it first when the array is full or they fall in another
    /// minute.
    fn note(&mut self, minute: i64, sample: &Sample<'_>) {
        let minute = i32::try_from(minute.div_euclid(60)).unwrap_or(i32::MAX);
        if self.pending_len as usize == PENDING || (self.pending_len > 0 && self.pending_minute != minute) {
            self.count_pending();
        }
        self.pending_minute = minute;
        self.pending[self.pending_len as usize] = Noted {
            bytes: sample.bytes,
            status: sample.status,
            latency_bin: LatencySketch::bin_of(sample.latency_us),
            failure: sample.failure,
        };
        self.pending_len += 1;
    }

    /// Counts the noted requests into their minute's entry (made if it is new).
    fn count_pending(&mut self) {
        if self.pending_len == 0 {
            return;
        }
        let minute = i64::from(self.pending_minute) * 60;
        let index = match self.minutes.iter().rposition(|(m, _)| *m == minute) {
            Some(index) => index,
            None => {
                self.minutes.push((minute, Entry::default()));
                self.minutes.len() - 1
            }
        };
        let entry = &mut self.minutes[index].1;
        for noted in &self.pending[..self.pending_len as usize] {
            entry.value.add_binned(noted.status, noted.latency_bin, noted.bytes, noted.failure);
            self.statuses.add(noted.status, 1);
        }
        entry.dirty = true;
        self.pending_len = 0;
    }
}

/// (minute, group, API, environment) → the versions served under it. Usually one.
type Key = (i64, i32, i32, Environment);

/// (group, API, environment, version): what a series counts.
type SeriesId = (i32, i32, Environment, Box<str>);

/// The group's and API's names a series was made with (boxed: read only for the metrics).
type Names = Box<(Box<str>, Box<str>)>;

#[derive(Default)]
struct Entry<T> {
    value: T,
    dirty: bool,
}

#[derive(Default)]
struct State {
    /// Requests no API was routed for.
    series: HashMap<Key, Vec<(Box<str>, Entry<Counts>)>>,
    /// The series compiled APIs reach through their slots, by (group, API, environment,
    /// version); one leaves once no compiled API holds it and it has nothing left to write.
    slotted: HashMap<SeriesId, Arc<Series>>,
    /// What series that left counted by status, until one is made again for their key.
    retired: HashMap<SeriesId, (Names, Statuses)>,
}

/// One thread's backend calls, keyed by the minute and the origin's address: origins are
/// interned (one `Arc` per origin, `gateway::peer::Origin`), and the value holds a clone, so
/// the address stays that origin's while any map holds it (no string hashed per request).
type Backends = HashMap<(i64, usize), (Arc<str>, Entry<BackendCounts>)>;

/// How many maps backend calls are counted in; a thread uses the one its first call was
/// given (threads past this many share them).
pub const BACKEND_SHARDS: usize = 16;

/// One of the maps, on cache lines of its own: two threads' locks on one line would pass
/// it from core to core as one shared lock does (128 bytes: x86 fetches lines in pairs).
#[derive(Default)]
#[repr(align(128))]
struct BackendShard(Mutex<Backends>);

impl BackendShard {
    fn lock(&self) -> std::sync::MutexGuard<'_, Backends> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// This thread's map of backend calls.
fn backend_shard() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % BACKEND_SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// The minute series of one node.
pub struct StatsCollector {
    enabled: AtomicBool,
    state: Mutex<State>,
    backends: [BackendShard; BACKEND_SHARDS],
}

impl Default for StatsCollector {
    fn default() -> StatsCollector {
        StatsCollector {
            enabled: AtomicBool::new(true),
            state: Mutex::default(),
            backends: std::array::from_fn(|_| BackendShard::default()),
        }
    }
}

impl std::fmt::Debug for StatsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatsCollector")
    }
}

/// The minute `unix_seconds` falls in (its start).
pub fn minute_of(unix_seconds: i64) -> i64 {
    unix_seconds - unix_seconds.rem_euclid(60)
}

impl StatsCollector {
    /// Turns collection on or off (`GANTRY_STATS`); off, [`StatsCollector::record`] returns at once.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether samples are kept.
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Counts one request answered at `unix_seconds` (the log phase reads the clock once for
    /// the stats and the access log). While collection is off, only a routed request's
    /// status is counted, for the metrics.
    pub fn record_at(&self, unix_seconds: i64, sample: Sample<'_>) {
        let enabled = self.enabled();
        if !enabled && sample.api_id < 0 {
            return;
        }
        let minute = minute_of(unix_seconds);
        let count = |tallies: &mut Tallies| match enabled {
            true => tallies.note(minute, &sample),
            false => tallies.statuses.add(sample.status, 1),
        };
        // A routed API's series: through its slot, or (a slot that is not this sample's, or
        // none) found by its key. The map below is for requests no API was routed for, so a
        // key is never counted in two places. (No series is locked while the state is: the
        // flusher locks them in the other order.)
        let mut counted = false;
        if let Some(slot) = sample.slot {
            let mut tallies = slot.0.get_or_init(|| self.series_for(&sample)).lock();
            if tallies.is(&sample) {
                count(&mut tallies);
                counted = true;
            }
        }
        if !counted && sample.api_id >= 0 {
            count(&mut self.series_for(&sample).lock());
            counted = true;
        }
        if enabled && !counted {
            self.record_unrouted(minute, &sample);
        }
        if let (true, Some(origin)) = (enabled, sample.backend) {
            self.record_backend(minute, origin, sample.failure);
        }
    }

    /// The registered series of `sample`'s API, environment and version (registered now if
    /// it is the first).
    fn series_for(&self, sample: &Sample<'_>) -> Arc<Series> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = &mut *state;
        let key = (sample.group_id, sample.api_id, sample.env, Box::<str>::from(sample.version));
        let retired = &mut state.retired;
        state
            .slotted
            .entry(key)
            .or_insert_with_key(|key| {
                let (names, statuses) = retired
                    .remove(key)
                    .unwrap_or_else(|| (Box::new((sample.names.0.into(), sample.names.1.into())), Statuses::default()));
                Arc::new(Series {
                    tallies: Mutex::new(Tallies {
                        pending_len: 0,
                        env: sample.env,
                        group_id: sample.group_id,
                        api_id: sample.api_id,
                        pending_minute: 0,
                        version: sample.version.into(),
                        pending: [Noted::default(); PENDING],
                        minutes: smallvec::SmallVec::new(),
                        statuses,
                        names,
                    }),
                })
            })
            .clone()
    }

    /// Counts a sample no API was routed for.
    fn record_unrouted(&self, minute: i64, sample: &Sample<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let versions = state.series.entry((minute, sample.group_id, sample.api_id, sample.env)).or_default();
        let index = match versions.iter().position(|(version, _)| &**version == sample.version) {
            Some(index) => index,
            None => {
                versions.push((sample.version.into(), Entry::default()));
                versions.len() - 1
            }
        };
        let entry = &mut versions[index].1;
        entry.value.add(sample.status, sample.latency_us, sample.bytes, sample.failure);
        entry.dirty = true;
    }

    /// Counts a call to `origin` in this thread's map.
    fn record_backend(&self, minute: i64, origin: &Arc<str>, failure: Option<UpstreamFailure>) {
        let mut backends = self.backends[backend_shard()].lock();
        let key = (minute, Arc::as_ptr(origin) as *const u8 as usize);
        let (_, entry) = backends.entry(key).or_insert_with(|| (origin.clone(), Entry::default()));
        entry.value.add(failure);
        entry.dirty = true;
    }

    /// Each origin's minutes changed since the last take, whole: a minute's count on every
    /// thread, added up. Minutes over before `keep_from` leave memory.
    fn take_backends(&self, keep_from: i64) -> Vec<((i64, String), BackendCounts)> {
        let mut minutes: HashMap<(i64, usize), (Arc<str>, BackendCounts, bool)> = HashMap::default();
        for backends in &self.backends {
            let mut backends = backends.lock();
            for (key, (origin, entry)) in backends.iter_mut() {
                let (_, total, dirty) =
                    minutes.entry(*key).or_insert_with(|| (origin.clone(), BackendCounts::default(), false));
                total.merge(&entry.value);
                *dirty |= std::mem::take(&mut entry.dirty);
            }
            backends.retain(|key, _| key.0 >= keep_from);
        }
        minutes
            .into_iter()
            .filter(|(_, (_, _, dirty))| *dirty)
            .map(|((start, _), (origin, total, _))| ((start, origin.to_string()), total))
            .collect()
    }

    /// What changed since the last call (each entry whole), as of `unix_seconds`; minutes
    /// over before the previous one leave memory once taken.
    pub fn take(&self, unix_seconds: i64) -> StatsBatch {
        let keep_from = minute_of(unix_seconds) - 60;
        let mut batch = StatsBatch::default();
        let mut locked = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for (&(start, group_id, api_id, env), versions) in locked.series.iter_mut() {
            for (version, entry) in versions.iter_mut().filter(|(_, e)| e.dirty) {
                entry.dirty = false;
                let key = SeriesKey { start, group_id, api_id, env, version: version.to_string() };
                batch.series.push((key, entry.value.clone()));
            }
        }
        locked.series.retain(|key, _| key.0 >= keep_from);
        let state = &mut *locked;
        let retired = &mut state.retired;
        state.slotted.retain(|key, series| {
            let mut guard = series.lock();
            let tallies = &mut *guard;
            tallies.count_pending();
            for (start, entry) in tallies.minutes.iter_mut().filter(|(_, e)| e.dirty) {
                entry.dirty = false;
                let key = SeriesKey {
                    start: *start,
                    group_id: tallies.group_id,
                    api_id: tallies.api_id,
                    env: tallies.env,
                    version: tallies.version.to_string(),
                };
                batch.series.push((key, entry.value.clone()));
            }
            tallies.minutes.retain(|(start, _)| *start >= keep_from);
            // Held by a compiled API still, or with a minute to write again.
            let keep = !tallies.minutes.is_empty() || Arc::strong_count(series) > 1;
            if !keep {
                let statuses = std::mem::take(&mut tallies.statuses);
                retired.insert(key.clone(), (tallies.names.clone(), statuses));
            }
            drop(guard);
            keep
        });
        drop(locked);
        batch.backends = self.take_backends(keep_from);
        batch
    }

    /// Puts back a batch that could not be written: its entries are written at the next
    /// [`StatsCollector::take`] (those still in memory; a minute already gone is dropped).
    pub fn requeue(&self, batch: &StatsBatch) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in &batch.series {
            let slotted = (key.group_id, key.api_id, key.env, Box::<str>::from(key.version.as_str()));
            if let Some(series) = state.slotted.get(&slotted) {
                let mut tallies = series.lock();
                for (_, entry) in tallies.minutes.iter_mut().filter(|(start, _)| *start == key.start) {
                    entry.dirty = true;
                }
            }
            if let Some(versions) = state.series.get_mut(&(key.start, key.group_id, key.api_id, key.env)) {
                for (_, entry) in versions.iter_mut().filter(|(v, _)| **v == *key.version) {
                    entry.dirty = true;
                }
            }
        }
        drop(state);
        // Marked in one thread's map: the take adds up every map's count of the minute.
        for ((start, origin), _) in &batch.backends {
            for backends in &self.backends {
                let mut backends = backends.lock();
                let found = backends.iter_mut().find(|((s, _), (o, _))| s == start && **o == **origin);
                if let Some((_, (_, entry))) = found {
                    entry.dirty = true;
                    break;
                }
            }
        }
    }

    /// Every routed API's requests by status, in each environment and version, since this
    /// node started (requests noted and not yet counted included).
    pub fn requests_by_api(&self) -> Vec<ApiRequests> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let requests = |(_, api_id, env, version): &SeriesId, names: &(Box<str>, Box<str>), statuses| ApiRequests {
            group: names.0.clone(),
            api_id: *api_id,
            api: names.1.clone(),
            env: *env,
            version: version.clone(),
            statuses,
        };
        let mut all: Vec<ApiRequests> =
            state.retired.iter().map(|(key, (names, statuses))| requests(key, names, statuses.clone())).collect();
        for (key, series) in &state.slotted {
            let mut tallies = series.lock();
            tallies.count_pending();
            all.push(requests(key, &tallies.names, tallies.statuses.clone()));
        }
        all
    }

    /// How many series minutes are in memory (those with requests noted and not yet
    /// counted included).
    pub fn len(&self) -> usize {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let slotted: usize = state
            .slotted
            .values()
            .map(|s| {
                let mut tallies = s.lock();
                tallies.count_pending();
                tallies.minutes.len()
            })
            .sum();
        state.series.values().map(Vec::len).sum::<usize>() + slotted
    }

    /// Whether no series is in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(api_id: i32, version: &str, status: u16) -> Sample<'_> {
        Sample {
            group_id: 1,
            api_id,
            env: Environment::Test,
            version,
            status,
            latency_us: 1_000,
            bytes: 2,
            backend: None,
            failure: None,
            slot: None,
            names: ("petstore", "Get pet"),
        }
    }

    #[test]
    fn minutes_are_counted_whole_and_leave_once_over_and_taken() {
        let stats = StatsCollector::default();
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        stats.record_at(t + 1, sample(7, "v1", 200));
        stats.record_at(t + 2, sample(7, "v1", 500));
        stats.record_at(t + 3, sample(7, "v2", 200));
        let batch = stats.take(t + 5);
        assert_eq!(batch.series.len(), 2);
        let v1 = batch.series.iter().find(|(k, _)| k.version == "v1").expect("v1");
        assert_eq!((v1.0.start, v1.1.requests, v1.1.status_5xx), (t, 2, 1));
        // Nothing changed: nothing to write.
        assert!(stats.take(t + 6).is_empty());
        // A later request: the whole minute again (a write replaces the row).
        stats.record_at(t + 7, sample(7, "v1", 200));
        let batch = stats.take(t + 8);
        assert_eq!(batch.series.len(), 1);
        assert_eq!(batch.series[0].1.requests, 3);
        // Requeued after a failed write: taken again.
        stats.requeue(&batch);
        assert_eq!(stats.take(t + 9).series.len(), 1);
        // Two minutes on, the old minute is gone.
        stats.record_at(t + 125, sample(7, "v1", 200));
        let batch = stats.take(t + 125);
        assert_eq!(batch.series.len(), 1);
        assert_eq!(stats.len(), 1);
    }

    #[test]
    fn an_apis_slot_counts_its_own_series_once_and_the_series_leaves_after_its_api() {
        let stats = StatsCollector::default();
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        let slot = StatsSlot::default();
        stats.record_at(t + 1, Sample { slot: Some(&slot), ..sample(7, "v1", 200) });
        stats.record_at(t + 2, Sample { slot: Some(&slot), ..sample(7, "v1", 500) });
        // The same key without a slot, or through another API's slot, counts in the same
        // series (one row per key and minute: a second would overwrite the first).
        stats.record_at(t + 3, sample(7, "v1", 200));
        stats.record_at(t + 4, Sample { slot: Some(&slot), ..sample(7, "v2", 200) });
        stats.record_at(t + 5, Sample { slot: Some(&slot), ..sample(-1, "v1", 404) });
        let batch = stats.take(t + 5);
        let mut rows: Vec<(i32, &str, u64, u64)> =
            batch.series.iter().map(|(k, c)| (k.api_id, k.version.as_str(), c.requests, c.status_5xx)).collect();
        rows.sort();
        assert_eq!(rows, [(-1, "v1", 1, 0), (7, "v1", 3, 1), (7, "v2", 1, 0)]);
        // Requeued: the slot's series is taken again, whole.
        stats.requeue(&batch);
        let again = stats.take(t + 6);
        assert_eq!(again.series.len(), 3);
        assert!(stats.take(t + 7).is_empty());
        // The next minute: a new row; the old minute leaves once over and taken.
        stats.record_at(t + 61, Sample { slot: Some(&slot), ..sample(7, "v1", 200) });
        let batch = stats.take(t + 125);
        assert_eq!(batch.series.len(), 1);
        assert_eq!((batch.series[0].0.start, batch.series[0].1.requests), (t + 60, 1));
        // Its API gone (the slot dropped) and nothing left to write: the series leaves.
        drop(slot);
        assert!(stats.take(t + 200).is_empty());
        assert_eq!(stats.len(), 0);
        assert!(stats.state.lock().expect("state").slotted.is_empty());
    }

    #[test]
    fn noted_requests_count_as_if_each_were_counted_at_once() {
        // Requests through a slot, over two minutes and a take in the middle of a batch,
        // against the same requests added one by one to Counts.
        let stats = StatsCollector::default();
        let slot = StatsSlot::default();
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        let mut expected: std::collections::BTreeMap<i64, Counts> = Default::default();
        let mut taken: std::collections::BTreeMap<i64, Counts> = Default::default();
        let mut seed = 7u64;
        for n in 0..(5 * PENDING as i64 + 3) {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let at = t + n * 90 / (5 * PENDING as i64 + 3);
            let status = [200, 201, 304, 404, 502, 504][(seed >> 33) as usize % 6];
            let failure = match status {
                502 => Some(UpstreamFailure::Error),
                504 => Some(UpstreamFailure::Timeout),
                _ => None,
            };
            // Latencies from 0 (counted apart) to hours.
            let latency_us = match n % 7 {
                0 => 0,
                1 => 3 * 3_600_000_000 + seed % 1_000_000_000,
                _ => (seed >> 40) % 3_000_000,
            };
            let sample =
                Sample { slot: Some(&slot), status, failure, latency_us, bytes: seed >> 50, ..sample(7, "v1", 0) };
            stats.record_at(at, sample);
            expected.entry(minute_of(at)).or_default().add(status, latency_us, sample.bytes, failure);
            if n == 2 * PENDING as i64 + 5 {
                for (key, counts) in stats.take(at).series {
                    taken.insert(key.start, counts);
                }
            }
        }
        for (key, counts) in stats.take(t + 90).series {
            taken.insert(key.start, counts);
        }
        assert_eq!(taken.len(), 2);
        assert_eq!(taken, expected);
    }

    #[test]
    fn requests_noted_on_several_threads_while_the_flusher_takes_are_all_counted() {
        let stats = Arc::new(StatsCollector::default());
        let slot = Arc::new(StatsSlot::default());
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (stats, slot) = (stats.clone(), slot.clone());
                std::thread::spawn(move || {
                    for n in 0..5_000u64 {
                        stats.record_at(t + 1, Sample { slot: Some(&slot), latency_us: n, ..sample(7, "v1", 200) });
                    }
                })
            })
            .collect();
        // The flusher takes meanwhile; each take holds the minute so far, whole.
        let mut last = Counts::default();
        let take = |last: &mut Counts| {
            if let Some((_, counts)) = stats.take(t + 2).series.pop() {
                assert!(counts.requests >= last.requests, "a minute never shrinks");
                assert_eq!(counts.latency.count(), counts.requests, "each request once in the sketch");
                *last = counts;
            }
        };
        while workers.iter().any(|w| !w.is_finished()) {
            take(&mut last);
        }
        for worker in workers {
            worker.join().expect("worker");
        }
        take(&mut last);
        assert_eq!((last.requests, last.status_2xx, last.latency.count()), (20_000, 20_000, 20_000));
    }

    #[test]
    fn a_routed_call_is_counted_while_the_flusher_holds_the_collectors_state() {
        // `take` holds the state while it takes every series (milliseconds, with 10,000 APIs
        // live): a routed request's count, its backend call's included, does not wait for it.
        let stats = StatsCollector::default();
        let slot = StatsSlot::default();
        let origin: Arc<str> = "http://127.0.0.1:9".into();
        let t = 1_700_000_040;
        let call = || Sample { slot: Some(&slot), backend: Some(&origin), ..sample(7, "v1", 200) };
        stats.record_at(t, call());
        let state = stats.state.lock().expect("state");
        let (done, counted) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                stats.record_at(t + 1, call());
                done.send(()).expect("send");
            });
            let waited = counted.recv_timeout(std::time::Duration::from_secs(10));
            drop(state);
            assert!(waited.is_ok(), "the request waited for the flusher's lock");
        });
        let batch = stats.take(t + 2);
        assert_eq!(
            batch.backends,
            vec![((minute_of(t), origin.to_string()), BackendCounts { requests: 2, ..BackendCounts::default() })]
        );
    }

    #[test]
    fn each_backend_map_lies_on_cache_lines_of_its_own() {
        let stats = StatsCollector::default();
        let at = |n: usize| &stats.backends[n] as *const BackendShard as usize;
        assert_eq!(at(0) % 128, 0);
        assert!(at(1) - at(0) >= 128, "two maps' locks share a pair of lines");
    }

    #[test]
    fn backend_calls_counted_on_several_threads_are_taken_whole_once_per_minute() {
        let stats = Arc::new(StatsCollector::default());
        let origin: Arc<str> = "http://127.0.0.1:9".into();
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (stats, origin) = (stats.clone(), origin.clone());
                std::thread::spawn(move || {
                    let slot = StatsSlot::default();
                    for n in 0..5_000u64 {
                        let failure = (n % 10 == 0).then_some(UpstreamFailure::Timeout);
                        stats.record_at(
                            t + 1,
                            Sample { slot: Some(&slot), backend: Some(&origin), failure, ..sample(7, "v1", 200) },
                        );
                    }
                })
            })
            .collect();
        // Each take has one entry for the origin's minute: the minute so far, on every thread.
        let mut last = BackendCounts::default();
        let mut take = || {
            let batch = stats.take(t + 2);
            assert!(batch.backends.len() <= 1, "one entry per origin and minute: {:?}", batch.backends);
            if let Some((_, counts)) = batch.backends.into_iter().next() {
                assert!(counts.requests >= last.requests, "a minute never shrinks");
                last = counts;
            }
        };
        while workers.iter().any(|w| !w.is_finished()) {
            take();
        }
        for worker in workers {
            worker.join().expect("worker");
        }
        take();
        assert_eq!(last, BackendCounts { requests: 20_000, upstream_errors: 0, timeouts: 2_000 });
        // Written, the minute is not taken again until a call changes it; requeued, it is.
        assert!(stats.take(t + 3).backends.is_empty());
        let batch = StatsBatch { backends: vec![((t, origin.to_string()), last)], ..StatsBatch::default() };
        stats.requeue(&batch);
        assert_eq!(stats.take(t + 3).backends, batch.backends);
        // Over and taken, it leaves memory: requeued then, there is nothing to take.
        assert!(stats.take(t + 180).backends.is_empty());
        stats.requeue(&batch);
        assert!(stats.take(t + 180).backends.is_empty(), "the minute left memory");
    }

    #[test]
    fn a_request_reads_its_series_lock_and_identity_from_one_cache_line() {
        let stats = StatsCollector::default();
        let series = stats.series_for(&sample(7, "a-version-label", 200));
        let start = Arc::as_ptr(&series) as usize;
        assert_eq!(start % 64, 0, "the series starts a cache line");
        let tallies = series.lock();
        let end = (&tallies.version as *const crate::name::Name as usize) + std::mem::size_of::<crate::name::Name>();
        assert!(end - start <= 64, "lock, identity and count end at byte {} of the series", end - start);
        assert_eq!(std::mem::size_of::<Noted>(), 16);
    }

    #[test]
    fn backends_count_calls_and_failures_and_off_counts_nothing() {
        let stats = StatsCollector::default();
        let origin: Arc<str> = "http://127.0.0.1:9".into();
        let t = 1_700_000_040;
        for failure in [None, Some(UpstreamFailure::Error), Some(UpstreamFailure::Timeout)] {
            stats.record_at(t, Sample { backend: Some(&origin), failure, ..sample(7, "v1", 200) });
        }
        let batch = stats.take(t);
        assert_eq!(
            batch.backends,
            vec![((minute_of(t), origin.to_string()), BackendCounts { requests: 3, upstream_errors: 1, timeouts: 1 })]
        );
        stats.set_enabled(false);
        stats.record_at(t + 1, sample(7, "v1", 200));
        stats.record_at(t + 1, sample(-1, "v1", 404));
        assert!(stats.take(t).is_empty());
        // Off, a routed request is still counted by status for the metrics (nothing else).
        let by_api = stats.requests_by_api();
        assert_eq!(by_api.len(), 1);
        assert_eq!(by_api[0].statuses.iter().collect::<Vec<_>>(), [(200, 4)]);
    }

    #[test]
    fn requests_by_status_outlive_their_series_and_include_those_noted() {
        let stats = StatsCollector::default();
        let t = 1_700_000_000 - 1_700_000_000 % 60;
        let slot = StatsSlot::default();
        for status in [200, 200, 404, 201, 202, 203, 203] {
            stats.record_at(t + 1, Sample { slot: Some(&slot), ..sample(7, "v1", status) });
        }
        stats.record_at(t + 2, sample(8, "v1", 500));
        let counts = |stats: &StatsCollector| {
            let mut all: Vec<(i32, &'static str, Vec<(u16, u64)>)> = stats
                .requests_by_api()
                .into_iter()
                .map(|a| {
                    assert_eq!(
                        (&*a.group, &*a.api, a.env, &*a.version),
                        ("petstore", "Get pet", Environment::Test, "v1")
                    );
                    let mut statuses: Vec<(u16, u64)> = a.statuses.iter().collect();
                    statuses.sort();
                    (a.api_id, "v1", statuses)
                })
                .collect();
            all.sort();
            all
        };
        // Noted and not yet counted into a minute: counted when asked.
        let expected =
            vec![(7, "v1", vec![(200, 2), (201, 1), (202, 1), (203, 2), (404, 1)]), (8, "v1", vec![(500, 1)])];
        assert_eq!(counts(&stats), expected);
        // The API gone and its minutes written: the series leaves memory, its counts stay.
        drop(slot);
        let _ = stats.take(t + 200);
        assert!(stats.state.lock().expect("state").slotted.is_empty());
        assert_eq!(counts(&stats), expected);
        // The same API, environment and version again: the counts go on from there.
        let slot = StatsSlot::default();
        stats.record_at(t + 201, Sample { slot: Some(&slot), ..sample(7, "v1", 200) });
        assert_eq!(counts(&stats)[0], (7, "v1", vec![(200, 3), (201, 1), (202, 1), (203, 2), (404, 1)]));
        assert_eq!(stats.state.lock().expect("state").retired.len(), 1, "api 8 is still retired, 7 is back");
    }
}
