//! The access log as `GET /access-log` shows it: one line per request a gateway node
//! served recently, and the filter, parsed from the query string.

use crate::error::FieldError;
use crate::Environment;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One request, as the access log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessLine {
    /// When the response was sent (RFC 3339, milliseconds).
    pub time: String,
    /// The `X-Ca-Request-Id` the caller received.
    pub request_id: String,
    pub group: Option<String>,
    pub api: Option<String>,
    /// The API's id (to open it in the Debug API).
    pub api_id: Option<i32>,
    pub env: Option<Environment>,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// From the request's first byte read to the response head sent.
    pub latency_ms: f64,
    /// The calling app, when it authenticated.
    pub app: Option<String>,
    /// The caller's address as traffic policies judge it.
    pub client_ip: String,
    /// The gateway node that served it (a console searches every node).
    #[serde(default)]
    pub node: Option<String>,
}

/// `GET /access-log`: the newest matching lines of every gateway node, and the nodes that
/// did not answer (their lines are missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AccessLogView {
    pub items: Vec<AccessLine>,
    #[serde(default)]
    pub unreachable: Vec<String>,
}

/// A status filter: one status, or a class (`4xx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusFilter {
    Exact(u16),
    Class(u16),
}

impl StatusFilter {
    /// Whether `status` passes.
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusFilter::Exact(wanted) => status == wanted,
            StatusFilter::Class(class) => status / 100 == class,
        }
    }
}

/// What to look for; every field set must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessFilter {
    pub request_id: Option<String>,
    pub group: Option<String>,
    pub api: Option<String>,
    pub env: Option<Environment>,
    pub status: Option<StatusFilter>,
    pub app: Option<String>,
    pub client_ip: Option<IpAddr>,
    /// Answered at or after this time (Unix milliseconds).
    pub from_ms: Option<i64>,
    /// Answered at or before this time (Unix milliseconds).
    pub to_ms: Option<i64>,
    /// Most lines returned, newest first (1–1000).
    pub limit: usize,
}

/// The default and the largest number of lines an answer holds.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// `GET /access-log`'s query string, before it is parsed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessQuery {
    pub request_id: Option<String>,
    pub group: Option<String>,
    pub api: Option<String>,
    pub env: Option<String>,
    pub status: Option<String>,
    pub app: Option<String>,
    pub client_ip: Option<String>,
    /// RFC 3339, or a date and time without an offset (UTC), as the console's fields send.
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
}

impl AccessQuery {
    /// The query string that asks another node the same (`request_id=…&limit=…`).
    pub fn to_query_string(&self) -> String {
        let fields = [
            ("request_id", &self.request_id),
            ("group", &self.group),
            ("api", &self.api),
            ("env", &self.env),
            ("status", &self.status),
            ("app", &self.app),
            ("client_ip", &self.client_ip),
            ("from", &self.from),
            ("to", &self.to),
            ("limit", &self.limit),
        ];
        fields
            .iter()
            .filter_map(|(name, value)| value.as_deref().map(|v| format!("{name}={}", encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The filter, or every field that is wrong, named.
    pub fn parse(&self) -> Result<AccessFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = query_text;
        let request_id = text("request_id", &self.request_id, &mut errors);
        let group = text("group", &self.group, &mut errors);
        let api = text("api", &self.api, &mut errors);
        let app = text("app", &self.app, &mut errors);
        let env = match text("env", &self.env, &mut errors) {
            None => None,
            Some(raw) => match raw.parse::<Environment>() {
                Ok(env) => Some(env),
                Err(_) => {
                    errors.push(FieldError::new("env", "use test, pre or prod"));
                    None
                }
            },
        };
        let status = match text("status", &self.status, &mut errors) {
            None => None,
            Some(raw) => match parse_status(&raw) {
                Some(status) => Some(status),
                None => {
                    errors.push(FieldError::new("status", "a status from 100 to 599, or a class such as 4xx"));
                    None
                }
            },
        };
        let client_ip = match text("client_ip", &self.client_ip, &mut errors) {
            None => None,
            Some(raw) => match raw.parse::<IpAddr>() {
                Ok(ip) => Some(ip),
                Err(_) => {
                    errors.push(FieldError::new("client_ip", "an IPv4 or IPv6 address"));
                    None
                }
            },
        };
        let (from_ms, to_ms) = query_window(&self.from, &self.to, &mut errors);
        let limit = match text("limit", &self.limit, &mut errors) {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new("limit", format!("a number from 1 to {MAX_LIMIT}")));
                    DEFAULT_LIMIT
                }
            },
        };
        if errors.is_empty() {
            Ok(AccessFilter { request_id, group, api, env, status, app, client_ip, from_ms, to_ms, limit })
        } else {
            Err(errors)
        }
    }
}

/// A text field of a query string: trimmed, empty as absent, at most 200 characters.
pub(crate) fn query_text(field: &str, value: &Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > 200 {
        errors.push(FieldError::new(field, "at most 200 characters"));
        return None;
    }
    Some(value.to_owned())
}

/// The `from` and `to` fields of a query string as Unix milliseconds ([`parse_time_ms`]),
/// each wrong one named, and `to` before `from` refused.
pub(crate) fn query_window(
    from: &Option<String>,
    to: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> (Option<i64>, Option<i64>) {
    let mut time = |field: &str, value: &Option<String>| {
        let raw = query_text(field, value, errors)?;
        let parsed = parse_time_ms(&raw);
        if parsed.is_none() {
            errors.push(FieldError::new(field, "a time such as 2026-11-27T21:50:00Z (UTC when no offset is given)"));
        }
        parsed
    };
    let (from_ms, to_ms) = (time("from", from), time("to", to));
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if to < from {
            errors.push(FieldError::new("to", "must not be before from"));
        }
    }
    (from_ms, to_ms)
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Unix milliseconds of `raw`: RFC 3339 (`2026-11-27T21:50:00Z`, `…+01:00`, fractions of a
/// second), or a date and a time without an offset (`2026-11-27T21:50`, taken as UTC: what a
/// `datetime-local` field sends). `None` for anything else, including impossible dates.
pub fn parse_time_ms(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if !raw.is_ascii() || raw.len() < 16 {
        return None;
    }
    let (date, rest) = raw.split_at(10);
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let number = |text: &str, digits: usize| -> Option<i64> {
        (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    };
    let mut ymd = date.split('-');
    let (year, month, day) = (number(ymd.next()?, 4)?, number(ymd.next()?, 2)?, number(ymd.next()?, 2)?);
    let (time, offset_minutes) = match rest.strip_suffix(['Z', 'z']) {
        Some(time) => (time, 0),
        None => match rest.len().checked_sub(6).map(|at| rest.split_at(at)) {
            Some((time, offset)) if offset.starts_with(['+', '-']) && offset.as_bytes()[3] == b':' => {
                let minutes = number(&offset[1..3], 2)? * 60 + number(&offset[4..6], 2)?;
                (time, if offset.starts_with('-') { -minutes } else { minutes })
            }
            _ => (rest, 0),
        },
    };
    let mut hms = time.split(':');
    let (hour, minute) = (number(hms.next()?, 2)?, number(hms.next()?, 2)?);
    let (second, millis) = match hms.next() {
        None => (0, 0),
        Some(seconds) => {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            if !fraction.bytes().all(|b| b.is_ascii_digit()) || fraction.len() > 9 {
                return None;
            }
            let millis = format!("{fraction:0<3}")[..3].parse::<i64>().ok()?;
            (number(whole, 2)?, millis)
        }
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if hms.next().is_some() || day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(((days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60) * 1_000) + millis)
}

fn parse_status(raw: &str) -> Option<StatusFilter> {
    let lower = raw.to_ascii_lowercase();
    if let Some(prefix) = lower.strip_suffix("xx") {
        return match prefix.parse::<u16>() {
            Ok(class @ 1..=5) if prefix.len() == 1 => Some(StatusFilter::Class(class)),
            _ => None,
        };
    }
    match lower.parse::<u16>() {
        Ok(status @ 100..=599) => Some(StatusFilter::Exact(status)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> AccessQuery {
        let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        AccessQuery {
            request_id: get("request_id"),
            group: get("group"),
            api: get("api"),
            env: get("env"),
            status: get("status"),
            app: get("app"),
            client_ip: get("client_ip"),
            from: get("from"),
            to: get("to"),
            limit: get("limit"),
        }
    }

    #[test]
    fn a_query_is_passed_on_encoded() {
        let q = query(&[("group", "a&b=c"), ("status", "5xx"), ("from", "2026-11-27T21:50:00+01:00")]);
        assert_eq!(q.to_query_string(), "group=a%26b%3Dc&status=5xx&from=2026-11-27T21%3A50%3A00%2B01%3A00");
        assert_eq!(query(&[]).to_query_string(), "");
    }

    #[test]
    fn times_parse_as_rfc_3339_or_as_utc_without_an_offset() {
        let at = 1_795_816_200_000; // 2026-11-27T21:50:00Z
        for raw in [
            "2026-11-27T21:50:00Z",
            "2026-11-27T21:50",
            "2026-11-27 21:50:00",
            "2026-11-27T22:50:00+01:00",
            "2026-11-27T21:20:00-00:30",
        ] {
            assert_eq!(parse_time_ms(raw), Some(at), "{raw}");
        }
        assert_eq!(parse_time_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time_ms("2024-02-29T23:59:59.123456Z"), Some(1_709_251_199_123));
        for hostile in [
            "yesterday",
            "2026-11-27",
            "2026-13-01T00:00",
            "2025-02-29T00:00",
            "2026-11-27T24:00",
            "2026-11-27T21:50:00+0100",
            "２０２６-11-27T21:50",
            "2026-11-27T21:50:00.x",
        ] {
            assert_eq!(parse_time_ms(hostile), None, "{hostile}");
        }
        let filter = query(&[("from", "2026-11-27T21:50"), ("to", "2026-11-27T22:00")]).parse().expect("times");
        assert_eq!((filter.from_ms, filter.to_ms), (Some(at), Some(at + 600_000)));
        let errors = query(&[("from", "2026-11-27T22:00"), ("to", "2026-11-27T21:50")]).parse().expect_err("reversed");
        assert_eq!(errors[0].field, "to");
        let errors = query(&[("from", "soon")]).parse().expect_err("not a time");
        assert_eq!(errors[0].field, "from");
    }

    #[test]
    fn filters_parse_and_every_wrong_field_is_named() {
        let filter =
            query(&[("status", "5xx"), ("env", "prod"), ("client_ip", "::1"), ("limit", "5")]).parse().expect("valid");
        assert_eq!(filter.status, Some(StatusFilter::Class(5)));
        assert!(filter.status.expect("status").matches(503) && !filter.status.expect("status").matches(404));
        assert_eq!((filter.env, filter.limit), (Some(Environment::Prod), 5));
        assert_eq!(query(&[]).parse().expect("empty").limit, DEFAULT_LIMIT);
        assert_eq!(query(&[("status", "404")]).parse().expect("exact").status, Some(StatusFilter::Exact(404)));
        let errors = query(&[("status", "9xx"), ("env", "staging"), ("client_ip", "nope"), ("limit", "0")])
            .parse()
            .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["env", "status", "client_ip", "limit"]);
        assert!(query(&[("status", "600")]).parse().is_err());
        assert!(query(&[("limit", "1001")]).parse().is_err());
        assert!(query(&[("group", &"g".repeat(201))]).parse().is_err());
    }
}
