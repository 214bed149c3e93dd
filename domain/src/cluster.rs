//! Cluster mode: the roles a Gantry process can take, and the nodes and roll-outs as the
//! console and `GET /nodes` show them.

use serde::{Deserialize, Serialize};

/// What one `gantry serve` process does (`--role`, `GANTRY_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Console, admin REST and gateway in one process (the single-node default).
    #[default]
    All,
    /// Console and admin REST only; never serves the gateway.
    Console,
    /// The gateway only (and health/metrics on the admin address); never writes
    /// configuration and never migrates.
    Gateway,
}

impl Role {
    /// `all`, `console` or `gateway`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::All => "all",
            Role::Console => "console",
            Role::Gateway => "gateway",
        }
    }

    /// Whether this role serves the gateway.
    pub fn serves_gateway(self) -> bool {
        matches!(self, Role::All | Role::Gateway)
    }

    /// Whether this role serves the console and admin REST API.
    pub fn serves_console(self) -> bool {
        matches!(self, Role::All | Role::Console)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(raw: &str) -> Result<Role, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Role::All),
            "console" => Ok(Role::Console),
            "gateway" => Ok(Role::Gateway),
            other => Err(format!("`{other}` is not a role: use all, console or gateway")),
        }
    }
}

/// One registered node, as `GET /nodes` and the Gateway Nodes page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub id: String,
    pub role: Role,
    /// Where its gateway (or, for a console node, its console) listens.
    pub address: String,
    /// Gantry's version on it.
    pub version: String,
    /// RFC 3339.
    pub started_at: String,
    /// The `config_revision` it has applied.
    pub applied_revision: i64,
    /// RFC 3339.
    pub last_heartbeat: String,
    /// Revisions it is behind the current one (0 when in sync).
    pub lag: i64,
    /// No heartbeat for longer than the stale limit: stopped, cut off or hung.
    pub stale: bool,
}

/// `GET /nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodesView {
    pub current_revision: i64,
    /// Seconds without a heartbeat after which a node is stale.
    pub stale_after_s: u64,
    pub items: Vec<NodeView>,
}

/// Which live gateway nodes have applied a change, said by release, switch and off-line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Rollout {
    /// The `config_revision` the change committed as.
    pub revision: i64,
    /// Live gateway nodes serving it (this node included when it serves the gateway).
    pub applied: Vec<String>,
    /// Live gateway nodes that had not applied it when the wait ended.
    pub pending: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_say_what_they_serve() {
        assert_eq!("Gateway".parse::<Role>(), Ok(Role::Gateway));
        assert_eq!(" all ".parse::<Role>(), Ok(Role::All));
        assert!("primary".parse::<Role>().unwrap_err().contains("all, console or gateway"));
        assert!(Role::All.serves_gateway() && Role::All.serves_console());
        assert!(!Role::Console.serves_gateway() && !Role::Gateway.serves_console());
        assert_eq!(serde_json::to_string(&Role::Console).ok().as_deref(), Some("\"console\""));
    }
}
