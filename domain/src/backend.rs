//! Backend addresses and the numeric bounds of backend settings.

use std::fmt;

/// `http://` or `https://`, a host, an optional port; no path, query, fragment or user info
/// (the backend path is a separate field, so one address serves many APIs).
/// Its fields are private: a `BackendAddress` only exists as [`BackendAddress::parse`] made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendAddress {
    tls: bool,
    host: String,
    port: Option<u16>,
}

impl BackendAddress {
    /// Parses an address, naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<BackendAddress, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        let (tls, rest) = if let Some(rest) = raw.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = raw.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(format!("`{raw}` must start with http:// or https://"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('@') {
            return Err("must not contain user info (user:password@)".into());
        }
        if rest.contains('/') {
            return Err("must not contain a path: put it in the backend path".into());
        }
        if rest.contains('?') || rest.contains('#') {
            return Err("must not contain a query or fragment".into());
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or("unclosed `[` in an IPv6 address")?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("expected `:port` after `]`")?),
            };
            (host.to_owned(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty() {
            return Err("has no host".into());
        }
        let host_ok = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':';
        if !host.chars().all(host_ok) {
            return Err(format!("`{host}` is not a valid host name"));
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("`{p}` is not a port (1-65535)")),
                Ok(port) => Some(port),
            },
        };
        Ok(BackendAddress { tls, host: host.to_ascii_lowercase(), port })
    }

    /// `true` for https.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Host name or IP literal, lower-case (an IPv6 address without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port to connect to.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 443 } else { 80 })
    }

    /// `host[:port]` as a URL and a `Host` header write it (an IPv6 host in brackets).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        }
    }
}

impl fmt::Display for BackendAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority())
    }
}

/// Bounds of a backend request timeout, in milliseconds.
pub const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=300_000;
/// The timeout when none is set.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Bounds of a Function's CPU time, in milliseconds.
pub const FUNCTION_TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1..=30_000;
/// A Function's time limit when none is set.
pub const DEFAULT_FUNCTION_TIMEOUT_MS: u64 = 3_000;

/// Checks a timeout against `bounds`.
pub fn timeout(ms: u64, bounds: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    if bounds.contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("must be between {} and {} ms", bounds.start(), bounds.end()))
    }
}

/// Checks a mock response status (100-599).
pub fn mock_status(status: u16) -> Result<u16, String> {
    if (100..=599).contains(&status) {
        Ok(status)
    } else {
        Err(format!("{status} is not an HTTP status (100-599)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        let a = BackendAddress::parse("http://api.example.com").expect("plain");
        assert_eq!((a.tls, a.host.as_str(), a.effective_port()), (false, "api.example.com", 80));
        let b = BackendAddress::parse("https://10.0.0.5:8443/").expect("port and trailing slash");
        assert_eq!((b.tls, b.port), (true, Some(8443)));
        assert_eq!(b.to_string(), "https://10.0.0.5:8443");
        let c = BackendAddress::parse("http://[::1]:9000").expect("v6");
        assert_eq!(c.host, "::1");
        assert_eq!(c.to_string(), "http://[::1]:9000");
    }

    #[test]
    fn scheme_is_required() {
        assert!(BackendAddress::parse("api.example.com").expect_err("no scheme").contains("http://"));
        assert!(BackendAddress::parse("ftp://x").is_err());
    }

    #[test]
    fn no_path_query_or_user_info() {
        assert!(BackendAddress::parse("http://x/v1").expect_err("path").contains("path"));
        assert!(BackendAddress::parse("http://x?a=1").is_err());
        assert!(BackendAddress::parse("http://u:p@x").expect_err("userinfo").contains("user info"));
    }

    #[test]
    fn bad_hosts_and_ports() {
        assert!(BackendAddress::parse("http://").is_err());
        assert!(BackendAddress::parse("http://x:0").is_err());
        assert!(BackendAddress::parse("http://x:70000").is_err());
        assert!(BackendAddress::parse("http://x:abc").is_err());
        assert!(BackendAddress::parse("http://bad_host!").is_err());
    }

    #[test]
    fn bounds() {
        assert!(timeout(0, TIMEOUT_MS).is_err());
        assert!(timeout(10_000, TIMEOUT_MS).is_ok());
        assert!(timeout(300_001, TIMEOUT_MS).is_err());
        assert!(mock_status(99).is_err());
        assert!(mock_status(200).is_ok());
        assert!(mock_status(600).is_err());
    }
}
