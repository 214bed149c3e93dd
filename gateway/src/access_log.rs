//! The most recent requests this node served, for the console's access-log viewer and
//! `GET /access-log`: a bounded ring (the oldest line leaves first), filled after each
//! response and searched newest first. Per node and in memory: a restart empties it.
//!
//! A kept line is one 64-byte cache line ([`Line`]): the request id as its counter (the
//! prefix is the process's own), the group, API and app as [`Label`]s (numbers given when a
//! version or an app table is compiled), and the method and path in a byte ring of their own,
//! written in order. A request so writes about one and a third cache lines no cache holds,
//! where a line of owned fields (192 bytes) wrote three; see docs/decisions.md.
//!
//! Optionally ([`AccessLog::write_to_file`], `GANTRY_ACCESS_LOG_FILE`) every line also goes
//! to a JSON-lines file, rotated by size (`file.1` … `file.3` kept): a writer thread takes
//! the lines from a bounded queue, so a slow disk never holds a request; when the queue is
//! full the line is dropped and counted ([`AccessLog::dropped`]).

use crate::request_id::RequestId;
use domain::access::{AccessFilter, AccessLine};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

/// Lines kept per node unless configured.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Bytes of method and path text kept per line on average (the text ring holds this many
/// times the line count, and 64 KiB at least): a burst of longer paths makes the oldest
/// lines' paths unknown (shown as `…`) before the lines themselves leave.
pub const TEXT_BYTES_PER_LINE: usize = 64;

/// A line keeps at most this much of its path; a longer one is cut (at a character) and
/// shown ending in `…`.
pub const MAX_TEXT_BYTES: usize = 4096;

/// A group, API or app as the access log names it: the number of its (id, name) in the
/// process's table of labels, given when a version or the app table is compiled, so a
/// request copies four bytes and shares nothing. The table keeps every (id, name) it was
/// given for the process's life (an operator's renames, not callers, make it grow), so a
/// line shows the name its request was served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(u32);

impl Label {
    /// No group, API or app.
    pub const NONE: Label = Label(u32::MAX);

    /// The label of `(id, name)`: the same number for the same pair, every time.
    pub fn of(id: i32, name: &str) -> Label {
        let known = |table: &Labels| {
            let ids = table.numbers.get(name)?;
            ids.iter().find(|(known, _)| *known == id).map(|(_, label)| *label)
        };
        if let Some(found) = known(&labels().read().unwrap_or_else(|p| p.into_inner())) {
            return found;
        }
        let mut table = labels().write().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = known(&table) {
            return found;
        }
        let label = match u32::try_from(table.names.len()) {
            Ok(number) if number != u32::MAX => Label(number),
            _ => return Label::NONE,
        };
        let name: Arc<str> = name.into();
        table.names.push((id, name.clone()));
        table.numbers.entry(name).or_default().push((id, label));
        label
    }

    /// The `(id, name)` this label stands for; `None` for [`Label::NONE`].
    pub fn get(self) -> Option<(i32, Arc<str>)> {
        let table = labels().read().unwrap_or_else(|p| p.into_inner());
        table.names.get(self.0 as usize).cloned()
    }

    /// Every label whose `(id, name)` `wanted` accepts, in order (for a search's filter).
    fn matching(wanted: impl Fn(i32, &str) -> bool) -> Vec<Label> {
        let table = labels().read().unwrap_or_else(|p| p.into_inner());
        let numbers = table.names.iter().enumerate().filter(|(_, (id, name))| wanted(*id, name));
        numbers.map(|(n, _)| Label(n as u32)).collect()
    }
}

/// The process's labels: by number, and by name and id to give the same number again.
#[derive(Default)]
struct Labels {
    names: Vec<(i32, Arc<str>)>,
    numbers: std::collections::HashMap<Arc<str>, Vec<(i32, Label)>>,
}

fn labels() -> &'static RwLock<Labels> {
    static LABELS: std::sync::OnceLock<RwLock<Labels>> = std::sync::OnceLock::new();
    LABELS.get_or_init(RwLock::default)
}

/// One answered request, as the log phase hands it over (`crate::phases::log::served`):
/// borrowed from the request's context, copied into the ring.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub request_id: RequestId,
    pub group: Label,
    pub api: Label,
    pub app: Label,
    pub env: Option<domain::Environment>,
    pub method: &'a http::Method,
    pub path: &'a str,
    pub status: u16,
    pub latency_us: u64,
    pub client_ip: IpAddr,
}

/// A kept line: one cache line, written where the line it replaces was (so a full ring's
/// write finds nothing to drop and reads nothing first).
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Line {
    /// When the response was sent, Unix milliseconds.
    time_ms: i64,
    /// The request id's counter ([`RequestId::from_counter`] gives the id back).
    request: u64,
    /// Where the line's text starts in the text ring: the bytes written to it before.
    text_at: u64,
    /// The caller's address, IPv4 as mapped IPv6 ([`Line::V4`] tells them apart).
    client_ip: [u8; 16],
    /// Microseconds, at most `u32::MAX` (71 minutes).
    latency_us: u32,
    group: Label,
    api: Label,
    app: Label,
    status: u16,
    /// The text's length: the method (when not one of [`METHODS`]) and a space, then the path.
    text_len: u16,
    /// 0 for none, else [`domain::Environment::index`] + 1.
    env: u8,
    /// 1 + the method's index in [`METHODS`]; 0: another method, written before the path.
    method: u8,
    /// [`Line::V4`], [`Line::CUT`].
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Line>() == 64, "a line is one cache line");

impl Line {
    /// The caller's address is IPv4.
    const V4: u8 = 1;
    /// The path was longer than [`MAX_TEXT_BYTES`] and is cut.
    const CUT: u8 = 2;
}

/// The methods a line keeps as a number.
const METHODS: [http::Method; 9] = [
    http::Method::GET,
    http::Method::POST,
    http::Method::PUT,
    http::Method::DELETE,
    http::Method::HEAD,
    http::Method::OPTIONS,
    http::Method::PATCH,
    http::Method::TRACE,
    http::Method::CONNECT,
];

/// The lines in the order they came, at most a capacity of them, and their text. Once full,
/// a new line takes the oldest one's place in memory.
#[derive(Debug, Default)]
struct Ring {
    lines: Vec<Line>,
    /// Once full, the oldest line's index (and the next to be replaced); 0 until then.
    oldest: usize,
    /// The lines' text, written in order and wrapping at its capacity.
    text: Vec<u8>,
    /// Text bytes ever written (where the next line's text starts).
    written: u64,
}

impl Ring {
    fn push(&mut self, line: Line, capacity: usize) {
        if self.lines.len() < capacity {
            self.lines.push(line);
        } else {
            self.lines[self.oldest] = line;
            self.oldest = (self.oldest + 1) % self.lines.len();
        }
    }

    /// Appends `bytes` to the text ring of `capacity` bytes.
    fn write_text(&mut self, mut bytes: &[u8], capacity: usize) {
        while !bytes.is_empty() {
            let at = (self.written % capacity as u64) as usize;
            let n = bytes.len().min(capacity - at);
            if at == self.text.len() {
                self.text.extend_from_slice(&bytes[..n]);
            } else {
                self.text[at..at + n].copy_from_slice(&bytes[..n]);
            }
            self.written += n as u64;
            bytes = &bytes[n..];
        }
    }

    /// A line's text, unless later lines' text has been written over it.
    fn text(&self, line: &Line, capacity: usize) -> Option<Vec<u8>> {
        let len = usize::from(line.text_len);
        if self.written - line.text_at > capacity as u64 {
            return None;
        }
        let at = (line.text_at % capacity as u64) as usize;
        let first = len.min(capacity - at);
        let mut text = Vec::with_capacity(len);
        text.extend_from_slice(&self.text[at..at + first]);
        text.extend_from_slice(&self.text[..len - first]);
        Some(text)
    }

    fn newest_first(&self) -> impl Iterator<Item = &Line> {
        let (newer, older) = self.lines.split_at(self.oldest);
        newer.iter().rev().chain(older.iter().rev())
    }
}

/// A line taken out of the ring with its text (`None` once written over).
type Taken = (Line, Option<Vec<u8>>);

/// The ring of recent requests.
#[derive(Debug)]
pub struct AccessLog {
    capacity: usize,
    /// The text ring's size in bytes.
    text_capacity: usize,
    lines: Mutex<Ring>,
    /// The JSON-lines file's queue, when one is configured.
    file: std::sync::OnceLock<std::sync::mpsc::SyncSender<Taken>>,
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
        let capacity = capacity.max(1);
        let text_capacity = capacity.saturating_mul(TEXT_BYTES_PER_LINE).max(64 * 1024);
        // Reserved up front (address space only: the pages come as lines are written), so
        // filling the ring never copies it under the lock, as growing by doubling would.
        let ring =
            Ring { lines: Vec::with_capacity(capacity), text: Vec::with_capacity(text_capacity), ..Ring::default() };
        AccessLog {
            capacity,
            text_capacity,
            lines: Mutex::new(ring),
            file: std::sync::OnceLock::new(),
            dropped: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Also writes every line to `path` as JSON lines, rotating when it passes `max_bytes`
    /// (`path.1` is the newest rotated file; three are kept). Refused when the file cannot
    /// be opened for appending, or when a file is already set.
    pub fn write_to_file(&self, path: &std::path::Path, max_bytes: u64) -> std::io::Result<()> {
        let file = open_append(path)?;
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Taken>(FILE_QUEUE);
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
    pub fn record_at(&self, time_ms: i64, served: Served<'_>) {
        let method = METHODS.iter().position(|m| m == served.method);
        // Another method goes into the text before the path, and a space.
        let (other, other_cut) = cut(if method.is_none() { served.method.as_str() } else { "" }, MAX_TEXT_BYTES - 1);
        let (path, path_cut) = cut(served.path, MAX_TEXT_BYTES - 1 - other.len());
        let text = [other.as_bytes(), if other.is_empty() { b"" } else { b" " }, path.as_bytes()];
        let (client_ip, v4) = address(served.client_ip);
        let mut line = Line {
            time_ms,
            request: served.request_id.counter(),
            text_at: 0,
            client_ip,
            latency_us: u32::try_from(served.latency_us).unwrap_or(u32::MAX),
            group: served.group,
            api: served.api,
            app: served.app,
            status: served.status,
            text_len: 0,
            env: env_byte(served.env),
            method: method.map_or(0, |n| n as u8 + 1),
            flags: if v4 { Line::V4 } else { 0 } | if other_cut || path_cut { Line::CUT } else { 0 },
        };
        let mut ring = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        line.text_at = ring.written;
        for part in text {
            ring.write_text(part, self.text_capacity);
        }
        line.text_len = (ring.written - line.text_at) as u16;
        ring.push(line, self.capacity);
        drop(ring);
        if let Some(file) = self.file.get() {
            if file.try_send((line, Some(text.concat()))).is_err() {
                self.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// The newest lines that match `filter`, at most `filter.limit`.
    pub fn search(&self, filter: &AccessFilter) -> Vec<AccessLine> {
        let wanted = Wanted::of(filter);
        let ring = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let found: Vec<Taken> = ring
            .newest_first()
            .filter(|line| wanted.matches(line))
            .take(filter.limit)
            .map(|line| (*line, ring.text(line, self.text_capacity)))
            .collect();
        drop(ring);
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

/// An address as a line keeps it: IPv4 as mapped IPv6, and whether it was IPv4.
fn address(ip: IpAddr) -> ([u8; 16], bool) {
    match ip {
        IpAddr::V4(v4) => (v4.to_ipv6_mapped().octets(), true),
        IpAddr::V6(v6) => (v6.octets(), false),
    }
}

/// An environment as a line keeps it: 0 for none, else its index + 1.
fn env_byte(env: Option<domain::Environment>) -> u8 {
    env.map_or(0, |e| e.index() as u8 + 1)
}

/// `path` cut to at most `max` bytes at a character, and whether it was cut.
fn cut(path: &str, max: usize) -> (&str, bool) {
    if path.len() <= max {
        return (path, false);
    }
    let mut end = max;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    (&path[..end], true)
}

/// A filter in the ring's terms: names as the labels that carry them, a request id as its
/// counter (`None` inside: nothing can match).
struct Wanted<'a> {
    filter: &'a AccessFilter,
    request: Option<Option<u64>>,
    group: Option<Vec<Label>>,
    api: Option<Vec<Label>>,
    app: Option<Vec<Label>>,
    env: Option<u8>,
    client_ip: Option<([u8; 16], bool)>,
}

impl Wanted<'_> {
    fn of(filter: &AccessFilter) -> Wanted<'_> {
        Wanted {
            filter,
            request: filter.request_id.as_deref().map(RequestId::counter_of),
            group: filter.group.as_deref().map(|g| Label::matching(|_, name| name == g)),
            api: filter.api.as_deref().map(|a| {
                let id = a.parse::<i32>().ok();
                Label::matching(|api_id, name| name == a || id == Some(api_id))
            }),
            app: filter.app.as_deref().map(|a| Label::matching(|_, name| name == a)),
            env: filter.env.map(|e| env_byte(Some(e))),
            client_ip: filter.client_ip.map(address),
        }
    }

    fn matches(&self, line: &Line) -> bool {
        let among = |labels: &Option<Vec<Label>>, label: Label| {
            labels.as_ref().is_none_or(|labels| labels.binary_search(&label).is_ok())
        };
        self.filter.from_ms.is_none_or(|from| line.time_ms >= from)
            && self.filter.to_ms.is_none_or(|to| line.time_ms <= to)
            && self.request.is_none_or(|counter| counter == Some(line.request))
            && among(&self.group, line.group)
            && among(&self.api, line.api)
            && among(&self.app, line.app)
            && self.env.is_none_or(|env| line.env == env)
            && self.filter.status.is_none_or(|s| s.matches(line.status))
            && self.client_ip.is_none_or(|(ip, v4)| line.client_ip == ip && (line.flags & Line::V4 != 0) == v4)
    }
}

fn show((line, text): Taken) -> AccessLine {
    let time = chrono::DateTime::from_timestamp_millis(line.time_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let text = text.map(|t| String::from_utf8_lossy(&t).into_owned());
    let (method, path) = match (line.method.checked_sub(1), text) {
        (Some(n), text) => (METHODS[usize::from(n)].to_string(), text),
        (None, Some(text)) => match text.split_once(' ') {
            Some((method, path)) => (method.to_owned(), Some(path.to_owned())),
            None => (text, None),
        },
        (None, None) => ("…".to_owned(), None),
    };
    let path = match path {
        Some(path) if line.flags & Line::CUT != 0 => path + "…",
        Some(path) => path,
        None => "…".to_owned(),
    };
    let client_ip = std::net::Ipv6Addr::from(line.client_ip);
    let client_ip = match (line.flags & Line::V4 != 0, client_ip.to_ipv4_mapped()) {
        (true, Some(v4)) => IpAddr::V4(v4),
        _ => IpAddr::V6(client_ip),
    };
    let group = line.group.get();
    let api = line.api.get();
    AccessLine {
        time,
        request_id: RequestId::from_counter(line.request).to_string(),
        group: group.map(|(_, name)| name.to_string()),
        api_id: api.as_ref().map(|(id, _)| *id),
        api: api.map(|(_, name)| name.to_string()),
        env: line.env.checked_sub(1).and_then(|n| domain::Environment::ALL.get(usize::from(n)).copied()),
        method,
        path,
        status: line.status,
        latency_ms: f64::from(line.latency_us) / 1000.0,
        app: line.app.get().map(|(_, name)| name.to_string()),
        client_ip: client_ip.to_string(),
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
    receiver: &std::sync::mpsc::Receiver<Taken>,
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

    static GET: http::Method = http::Method::GET;

    fn served(path: &str, status: u16) -> Served<'_> {
        Served {
            request_id: crate::request_id::RequestId::next(),
            group: Label::of(3, "shop"),
            api: Label::of(7, "Items"),
            app: Label::NONE,
            env: Some(domain::Environment::Test),
            method: &GET,
            path,
            status,
            latency_us: 1500,
            client_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)),
        }
    }

    fn paths(log: &AccessLog) -> Vec<String> {
        log.search(&filter(&[("limit", "1000")])).into_iter().map(|l| l.path).collect()
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
            let path = format!("/r{n}");
            let line = served(&path, if n % 2 == 0 { 200 } else { 503 });
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
            log.record_at(now_ms(), served(&format!("/r{n}"), 200));
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
            log.record_at(now_ms(), served(&format!("/r{n}"), 200));
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

    #[test]
    fn a_line_keeps_its_names_as_they_were_and_is_found_by_them() {
        let log = AccessLog::with_capacity(10);
        let (old, new, other) = (Label::of(901, "Orders"), Label::of(901, "Orders v2"), Label::of(902, "Orders"));
        assert_eq!(Label::of(901, "Orders"), old, "one label per (id, name)");
        assert!(old != new && old != other && new != other);
        let app = Label::of(55, "mobile");
        let post = http::Method::POST;
        let v6: IpAddr = "2001:db8::7".parse().expect("address");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().expect("address");
        for (api, app, client_ip) in [(old, Label::NONE, v6), (new, app, mapped), (other, app, v6)] {
            log.record_at(now_ms(), Served { api, app, client_ip, method: &post, ..served("/orders", 201) });
        }
        let lines = log.search(&filter(&[]));
        let shown: Vec<_> = lines.iter().map(|l| (l.api_id, l.api.as_deref(), l.app.as_deref())).collect();
        assert_eq!(
            shown,
            [
                (Some(902), Some("Orders"), Some("mobile")),
                (Some(901), Some("Orders v2"), Some("mobile")),
                (Some(901), Some("Orders"), None)
            ],
            "newest first, each line with the names it was served under"
        );
        assert_eq!((lines[0].method.as_str(), lines[0].group.as_deref(), lines[0].status), ("POST", Some("shop"), 201));
        assert_eq!((lines[1].client_ip.as_str(), lines[0].client_ip.as_str()), ("::ffff:10.0.0.7", "2001:db8::7"));
        assert_eq!(log.search(&filter(&[("api", "901")])).len(), 2, "by id: both names");
        assert_eq!(log.search(&filter(&[("api", "Orders")])).len(), 2, "by name: both ids");
        assert_eq!(log.search(&filter(&[("api", "Orders v2")])).len(), 1);
        assert!(log.search(&filter(&[("api", "Nothing of the kind")])).is_empty());
        assert_eq!(log.search(&filter(&[("client_ip", "2001:db8::7")])).len(), 2);
        assert!(log.search(&filter(&[("client_ip", "10.0.0.7")])).is_empty(), "IPv4 is not its mapped IPv6");
        let by = |field: fn(&mut AccessQuery) -> &mut Option<String>, value: &str| {
            let mut query = AccessQuery::default();
            *field(&mut query) = Some(value.to_owned());
            log.search(&query.parse().expect("a valid filter")).len()
        };
        assert_eq!(by(|q| &mut q.app, "mobile"), 2);
        assert_eq!(by(|q| &mut q.group, "shop"), 3);
        assert_eq!(by(|q| &mut q.group, "Orders"), 0, "an API's name is not a group's");
        let id = log.search(&filter(&[]))[1].request_id.clone();
        assert_eq!(log.search(&filter(&[("request_id", &id)]))[0].api.as_deref(), Some("Orders v2"));
        let (prefix, counter) = id.split_once('-').expect("a dash");
        let foreign = format!("{}{}-{counter}", if prefix.starts_with('f') { "e" } else { "f" }, &prefix[1..]);
        assert!(log.search(&filter(&[("request_id", &foreign)])).is_empty(), "another process's id with this counter");
        assert!(log.search(&filter(&[("request_id", "not-an-id")])).is_empty());
    }

    #[test]
    fn other_methods_and_long_paths_are_kept_cut_and_the_oldest_text_goes_first() {
        let log = AccessLog::with_capacity(1000);
        assert_eq!(log.text_capacity, 64 * 1024, "at least 64 KiB of text");
        let purge = http::Method::from_bytes(b"PURGE").expect("a method");
        log.record_at(now_ms(), Served { method: &purge, ..served("/cache/x", 200) });
        let line = &log.search(&filter(&[]))[0];
        assert_eq!((line.method.as_str(), line.path.as_str()), ("PURGE", "/cache/x"));

        // A path past MAX_TEXT_BYTES is cut at a character and shown ending in "…".
        let long = format!("/x{}", "é".repeat(MAX_TEXT_BYTES));
        log.record_at(now_ms(), served(&long, 200));
        let path = &log.search(&filter(&[]))[0].path;
        assert!(path.ends_with('…') && long.starts_with(path.trim_end_matches('…')), "cut, marked");
        assert_eq!(path.trim_end_matches('…').len(), MAX_TEXT_BYTES - 2, "a whole character less than the limit");
        // An absurd method is cut too, and the line keeps its place.
        let huge = http::Method::from_bytes("X".repeat(3 * MAX_TEXT_BYTES).as_bytes()).expect("a method");
        log.record_at(now_ms(), Served { method: &huge, ..served("/after-a-huge-method", 200) });
        let line = &log.search(&filter(&[]))[0];
        assert!(line.method.len() < MAX_TEXT_BYTES && line.method.bytes().all(|b| b == b'X'), "{}", line.method.len());
        assert!(line.path.ends_with('…'));

        // Long paths fill the text ring; once round it, each line's text comes back whole
        // (including the one that wraps at its end) or not at all.
        let mut written = Vec::new();
        for n in 0..40 {
            let path = format!("/{n:02}/{}", "a".repeat(3000 + n * 17));
            log.record_at(now_ms(), served(&path, 200));
            written.push(path);
            let shown = paths(&log);
            for (shown, wrote) in shown.iter().zip(written.iter().rev()) {
                assert!(shown == wrote || shown == "…", "line {n}: {} bytes shown", shown.len());
            }
            assert_eq!(&shown[0], written.last().expect("one"), "the newest text is always whole");
        }
        let shown = paths(&log);
        let whole = shown.iter().take_while(|p| *p != "…").count();
        let kept: usize = written.iter().rev().take(whole).map(|p| p.len()).sum();
        assert!(whole >= 15 && kept <= 64 * 1024, "{whole} whole paths, {kept} bytes");
        assert!(shown[whole..].iter().all(|p| p == "…"), "the older text went first, in order");
        assert_eq!(shown.len(), 43, "every line is kept, with or without its text");
    }

    #[test]
    fn filling_the_ring_never_moves_it() {
        let log = AccessLog::with_capacity(5000);
        let at = |log: &AccessLog| {
            let ring = log.lines.lock().expect("lock");
            (ring.lines.as_ptr() as usize, ring.text.as_ptr() as usize)
        };
        let before = at(&log);
        for n in 0..6000 {
            log.record_at(now_ms(), served(&format!("/{n}/{}", "p".repeat(n % 200)), 200));
        }
        assert_eq!(at(&log), before, "reserved up front: no copy under the lock while it fills");
        assert_eq!(log.len(), 5000);
    }
}
