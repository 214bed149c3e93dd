//! The most recent requests this node served, for the console's access-log viewer and
//! `GET /access-log`: a bounded ring (the oldest line leaves first), filled after each
//! response and searched newest first. Per node and in memory: a restart empties it.
//!
//! Optionally ([`AccessLog::write_to_file`], `GANTRY_ACCESS_LOG_FILE`) every line also goes
//! to a JSON-lines file, rotated by size (`file.1` … `file.3` kept): a writer thread takes
//! the lines from a bounded queue, so a slow disk never holds a request; when the queue is
//! full the line is dropped and counted ([`AccessLog::dropped`]).

use domain::access::{AccessFilter, AccessLine};
use std::sync::Mutex;

/// Lines kept per node unless configured.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// One answered request, as the log phase hands it over (`crate::phases::log::served`).
#[derive(Debug, Clone)]
pub struct Served {
    pub request_id: crate::request_id::RequestId,
    /// The group's name is the compiled one's, shared: a line costs no copy of it.
    pub group: Option<std::sync::Arc<str>>,
    /// The API's id and name (a copy, inline for most names: sharing the compiled one
    /// would touch each API's count of owners twice, once when the line is kept and once when
    /// it leaves the ring, a cache miss each with 10,000 APIs live).
    pub api: Option<(i32, crate::name::Name)>,
    pub env: Option<domain::Environment>,
    pub method: http::Method,
    /// Inline when short: a copy costs no allocation.
    pub path: crate::name::Name,
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

/// Lines in the order they came, at most a capacity of them. Once full, a new line takes
/// the oldest one's place in memory: the line leaving is read to drop it, so the new one is
/// written where the cache already holds (a queue writing at its tail and reading at its
/// head would miss twice, every request, on a ring larger than the cache).
#[derive(Debug, Default)]
struct Ring {
    lines: Vec<Entry>,
    /// Once full, the oldest line's index (and the next to be replaced); 0 until then.
    oldest: usize,
}

impl Ring {
    fn push(&mut self, entry: Entry, capacity: usize) {
        if self.lines.len() < capacity {
            self.lines.push(entry);
        } else {
            self.lines[self.oldest] = entry;
            self.oldest = (self.oldest + 1) % self.lines.len();
        }
    }

    fn newest_first(&self) -> impl Iterator<Item = &Entry> {
        let (newer, older) = self.lines.split_at(self.oldest);
        newer.iter().rev().chain(older.iter().rev())
    }
}

/// The ring of recent requests.
#[derive(Debug)]
pub struct AccessLog {
    capacity: usize,
    lines: Mutex<Ring>,
    /// The JSON-lines file's queue, when one is configured.
    file: std::sync::OnceLock<std::sync::mpsc::SyncSender<Entry>>,
    dropped: std::sync::atomic::AtomicU64,
}

/// Lines waiting for the file writer at most.
const FILE_QUEUE: usize = 65_536;
/// Rotated files kept beside the current one.
const ROTATED: usize = 3;

impl Default for AccessLog {
    fn default() -> AccessLog {
        AccessLog::with_capacity(DEFAULT_CAPACITY)
    }
}

impl AccessLog {
    /// A ring of at most `capacity` lines.
    pub fn with_capacity(capacity: usize) -> AccessLog {
        AccessLog {
            capacity: capacity.max(1),
            lines: Mutex::default(),
            file: std::sync::OnceLock::new(),
            dropped: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Also writes every line to `path` as JSON lines, rotating when it passes `max_bytes`
    /// (`path.1` is the newest rotated file; three are kept). Refused when the file cannot
    /// be opened for appending, or when a file is already set.
    pub fn write_to_file(&self, path: &std::path::Path, max_bytes: u64) -> std::io::Result<()> {
        let file = open_append(path)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Entry>(FILE_QUEUE);
        self.file
            .set(sender)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::AlreadyExists, "an access-log file is already set"))?;
        let path = path.to_owned();
        std::thread::Builder::new().name("gantry-access-log".into()).spawn(move || {
            write_lines(&path, file, max_bytes.max(1024), &receiver);
        })?;
        Ok(())
    }

    /// Lines the file writer could not keep up with (dropped from the file, kept in the ring).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps the line of a request answered at `time_ms` (Unix milliseconds; the log phase
    /// reads the clock once for the access log and the stats).
    pub fn record_at(&self, time_ms: i64, served: Served) {
        let entry = Entry { time_ms, served };
        if let Some(file) = self.file.get() {
            if file.try_send(entry.clone()).is_err() {
                self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).push(entry, self.capacity);
    }

    /// The newest lines that match `filter`, at most `filter.limit`.
    pub fn search(&self, filter: &AccessFilter) -> Vec<AccessLine> {
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let found: Vec<Entry> =
            lines.newest_first().filter(|entry| matches(entry, filter)).take(filter.limit).cloned().collect();
        drop(lines);
        found.into_iter().map(show).collect()
    }

    /// How many lines are kept.
    pub fn len(&self) -> usize {
        self.lines.lock().unwrap_or_else(|p| p.into_inner()).lines.len()
    }

    /// Whether no line is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn matches(entry: &Entry, filter: &AccessFilter) -> bool {
    let at = entry.time_ms;
    let entry = &entry.served;
    filter.from_ms.is_none_or(|from| at >= from)
        && filter.to_ms.is_none_or(|to| at <= to)
        && filter.request_id.as_deref().is_none_or(|id| entry.request_id.as_str() == id)
        && filter.group.as_deref().is_none_or(|g| entry.group.as_deref() == Some(g))
        && filter.api.as_deref().is_none_or(|a| {
            entry.api.as_ref().is_some_and(|(id, name)| &**name == a || a.parse::<i32>().is_ok_and(|n| n == *id))
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
        request_id: entry.request_id.to_string(),
        group: entry.group.as_deref().map(str::to_owned),
        api_id: entry.api.as_ref().map(|(id, _)| *id),
        api: entry.api.map(|(_, name)| name.to_string()),
        env: entry.env,
        method: entry.method.to_string(),
        path: entry.path.to_string(),
        status: entry.status,
        latency_ms: entry.latency_us as f64 / 1000.0,
        app: entry.app,
        client_ip: entry.client_ip.to_string(),
        node: None,
    }
}

fn open_append(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).append(true).open(path)
}

/// The writer thread: a line per entry, flushed at least every 200 ms, rotated by size.
fn write_lines(
    path: &std::path::Path,
    file: std::fs::File,
    max_bytes: u64,
    receiver: &std::sync::mpsc::Receiver<Entry>,
) {
    use std::io::Write;
    let mut written = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut out = std::io::BufWriter::new(file);
    let mut flushed = std::time::Instant::now();
    let rotated = |n: usize| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        std::path::PathBuf::from(name)
    };
    loop {
        let entry = match receiver.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(entry) => entry,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _ = out.flush();
                continue;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let _ = out.flush();
                return;
            }
        };
        let Ok(mut line) = serde_json::to_vec(&show(entry)) else { continue };
        line.push(b'\n');
        if written > 0 && written + line.len() as u64 > max_bytes {
            let _ = out.flush();
            for n in (1..ROTATED).rev() {
                let _ = std::fs::rename(rotated(n), rotated(n + 1));
            }
            let _ = std::fs::rename(path, rotated(1));
            match open_append(path) {
                Ok(file) => {
                    out = std::io::BufWriter::new(file);
                    written = 0;
                }
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "reopening the access-log file failed");
                    return;
                }
            }
        }
        if out.write_all(&line).is_ok() {
            written += line.len() as u64;
        }
        if flushed.elapsed() >= std::time::Duration::from_millis(200) {
            let _ = out.flush();
            flushed = std::time::Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::AccessQuery;

    fn now_ms() -> i64 {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.map(|d| d.as_millis() as i64).unwrap_or(0)
    }
    use std::net::{IpAddr, Ipv4Addr};

    fn served(n: usize, status: u16) -> Served {
        Served {
            request_id: crate::request_id::RequestId::next(),
            group: Some("shop".into()),
            api: Some((7, "Items".into())),
            env: Some(domain::Environment::Test),
            method: http::Method::GET,
            path: format!("/r{n}").into(),
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
            from: get("from"),
            to: get("to"),
            limit: get("limit"),
            ..Default::default()
        };
        query.parse().expect("a valid filter")
    }

    #[test]
    fn the_newest_matching_lines_come_first_and_the_oldest_leave_first() {
        let log = AccessLog::with_capacity(3);
        let mut ids = Vec::new();
        for n in 0..4 {
            let line = served(n, if n % 2 == 0 { 200 } else { 503 });
            ids.push(line.request_id.to_string());
            log.record_at(now_ms(), line);
        }
        assert_eq!(log.len(), 3, "bounded");
        let all: Vec<String> = log.search(&filter(&[])).into_iter().map(|l| l.path).collect();
        assert_eq!(all, ["/r3", "/r2", "/r1"], "newest first; /r0 left");
        let errors: Vec<String> = log.search(&filter(&[("status", "5xx")])).into_iter().map(|l| l.path).collect();
        assert_eq!(errors, ["/r3", "/r1"]);
        let found = log.search(&filter(&[("request_id", &ids[2])]));
        assert_eq!((found.len(), found[0].path.as_str(), found[0].status), (1, "/r2", 200));
        assert_eq!((found[0].client_ip.as_str(), found[0].latency_ms, found[0].api_id), ("10.0.0.7", 1.5, Some(7)));
        assert!(found[0].time.ends_with('Z'), "{}", found[0].time);
        assert_eq!(log.search(&filter(&[("api", "7")])).len(), 3, "an API by id");
        assert_eq!(log.search(&filter(&[("api", "Items"), ("limit", "2")])).len(), 2, "by name, limited");
        assert!(log.search(&filter(&[("client_ip", "10.0.0.8")])).is_empty());
        assert!(log.search(&filter(&[("from", "2999-01-01T00:00")])).is_empty(), "nothing from the future");
        assert_eq!(log.search(&filter(&[("from", "2000-01-01T00:00"), ("to", "2999-01-01T00:00")])).len(), 3);
        assert!(log.search(&filter(&[("to", "2000-01-01T00:00")])).is_empty());
        // Around the ring more than once: always the newest three, newest first.
        for n in 4..11 {
            log.record_at(now_ms(), served(n, 200));
            let all: Vec<String> = log.search(&filter(&[])).into_iter().map(|l| l.path).collect();
            assert_eq!(all, [format!("/r{n}"), format!("/r{}", n - 1), format!("/r{}", n - 2)]);
            assert_eq!(log.len(), 3);
        }
    }

    #[test]
    fn lines_go_to_a_json_lines_file_that_rotates_by_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("access.jsonl");
        let log = AccessLog::with_capacity(10);
        log.write_to_file(&path, 1024).expect("file");
        assert!(log.write_to_file(&path, 1024).is_err(), "one file per ring");
        for n in 0..20 {
            log.record_at(now_ms(), served(n, 200));
        }
        let rotated = dir.path().join("access.jsonl.1");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
        while !read(&path).contains("\"/r19\"") {
            assert!(std::time::Instant::now() < deadline, "the writer did not catch up");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(rotated.exists(), "rotated past 1 KiB");
        assert!(!dir.path().join("access.jsonl.4").exists(), "three rotated files at most");
        assert!(read(&rotated).lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
        assert!(std::fs::metadata(&path).expect("current").len() <= 1024);
        let last: serde_json::Value = serde_json::from_str(read(&path).lines().last().expect("a line")).expect("JSON");
        assert_eq!((last["path"].as_str(), last["status"].as_u64()), (Some("/r19"), Some(200)));
        assert_eq!(log.dropped(), 0);
        assert!(AccessLog::default().write_to_file(&dir.path().join("missing/dir/x.jsonl"), 1024).is_err());
    }
}
