//! The optional SSRF guard: address ranges a backend may not be (or resolve to), such as the
//! cloud metadata service (`169.254.169.254`), loopback, or the console's own network.
//!
//! Off by default (an operator lists ranges with `GANTRY_BLOCKED_BACKEND_RANGES`). When on,
//! the gateway resolves a backend's host itself, refuses the connection if *any* address it
//! resolves to is in a listed range, and connects to the addresses it checked (so a DNS answer
//! that changes between the check and the connect cannot slip through). The control plane
//! uses the same check to refuse a release or a Debug API call with a clear message first.

use std::net::{IpAddr, SocketAddr};

pub use domain::policy::IpRange;

/// The ranges backends may not reach; empty means the guard is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressGuard {
    blocked: Vec<IpRange>,
}

impl AddressGuard {
    /// Parses a comma-separated list of ranges; an empty list turns the guard off.
    pub fn parse(list: &str) -> Result<AddressGuard, String> {
        let blocked =
            list.split(',').filter(|r| !r.trim().is_empty()).map(IpRange::parse).collect::<Result<Vec<_>, _>>()?;
        Ok(AddressGuard { blocked })
    }

    /// Whether any range is listed.
    pub fn is_on(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// The listed range `ip` is in, if any.
    pub fn blocks(&self, ip: IpAddr) -> Option<IpRange> {
        self.blocked.iter().copied().find(|range| range.contains(ip))
    }

    /// Resolves `host:port` and returns its addresses, or why the guard refuses them (any
    /// one in a listed range refuses all).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("`{host}` does not resolve: {e}"))?
                .collect(),
        };
        for address in &addresses {
            if let Some(range) = self.blocks(address.ip()) {
                return Err(format!(
                    "`{host}` is {}, in the blocked range {range} (GANTRY_BLOCKED_BACKEND_RANGES)",
                    address.ip()
                ));
            }
        }
        if addresses.is_empty() {
            return Err(format!("`{host}` does not resolve to any address"));
        }
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_contain_what_they_should() {
        let metadata = IpRange::parse("169.254.0.0/16").expect("range");
        assert!(metadata.contains("169.254.169.254".parse().expect("ip")));
        assert!(!metadata.contains("169.255.0.1".parse().expect("ip")));
        assert!(metadata.contains("::ffff:169.254.169.254".parse().expect("mapped")), "IPv4-mapped IPv6");
        let one = IpRange::parse("::1").expect("single");
        assert!(one.contains("::1".parse().expect("ip")) && !one.contains("::2".parse().expect("ip")));
        assert!(IpRange::parse("0.0.0.0/0").expect("all").contains("8.8.8.8".parse().expect("ip")));
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129"] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn names_are_resolved_and_checked() {
        let guard = AddressGuard::parse("127.0.0.0/8, ::1/128").expect("list");
        assert!(guard.is_on());
        let refused = guard.resolve("localhost", 80).await.expect_err("loopback");
        assert!(refused.contains("blocked range"), "{refused}");
        assert!(guard.resolve("192.0.2.1", 80).await.is_ok());
        assert!(!AddressGuard::parse(" ").expect("empty").is_on());
    }
}
