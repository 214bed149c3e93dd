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
    pub limit: Option<String>,
}

impl AccessQuery {
    /// The filter, or every field that is wrong, named.
    pub fn parse(&self) -> Result<AccessFilter, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = |field: &str, value: &Option<String>, errors: &mut Vec<FieldError>| -> Option<String> {
            let value = value.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            if value.chars().count() > 200 {
                errors.push(FieldError::new(field, "at most 200 characters"));
                return None;
            }
            Some(value.to_owned())
        };
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
            Ok(AccessFilter { request_id, group, api, env, status, app, client_ip, limit })
        } else {
            Err(errors)
        }
    }
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
            limit: get("limit"),
        }
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
