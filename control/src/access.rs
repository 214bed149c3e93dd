//! The access log as the console and `GET /access-log` search it: this node's ring of recent
//! requests and, unless this node is a gateway node itself, the rings of every other live
//! gateway node, asked in parallel over their admin addresses (`GET /access-log` there, 2 s
//! each), merged newest first. A node that does not answer is named in `unreachable`; its
//! lines are missing, the others are shown.

use crate::{Control, ControlError};
use domain::access::{AccessLine, AccessLogView, AccessQuery};
use domain::cluster::Role;
use std::time::Duration;

/// How long a console waits for a gateway node's lines.
const ASK_TIMEOUT: Duration = Duration::from_secs(2);
/// The most bytes read from one node's answer (1,000 lines of at most a few hundred bytes).
const ANSWER_LIMIT: usize = 8 * 1024 * 1024;

impl Control {
    /// This node's own lines (a gateway node's admin address answers with these).
    pub fn local_access_log(&self, query: &AccessQuery) -> Result<Vec<AccessLine>, ControlError> {
        let filter = query.parse().map_err(ControlError::Validation)?;
        let me = self.node.as_ref().map(|n| n.id.clone());
        Ok(self.access_log.search(&filter).into_iter().map(|line| AccessLine { node: me.clone(), ..line }).collect())
    }

    /// The newest lines matching `query` across the cluster (`GET /access-log`, the Access
    /// Log page); a wrong filter names its field.
    pub async fn access_log(&self, query: &AccessQuery) -> Result<AccessLogView, ControlError> {
        let filter = query.parse().map_err(ControlError::Validation)?;
        let mut items = self.local_access_log(query)?;
        let mut unreachable = Vec::new();
        let fan_out = self.node.as_ref().is_some_and(|n| n.role != Role::Gateway);
        if fan_out {
            let peers = self.gateway_admins().await?;
            let path = format!("/access-log?{}", query.to_query_string());
            let mut asked = tokio::task::JoinSet::new();
            for (id, address) in peers {
                let path = path.clone();
                asked.spawn(async move { (id, ask(address, &path).await) });
            }
            while let Some(answer) = asked.join_next().await {
                match answer {
                    Ok((_, Ok(lines))) => items.extend(lines),
                    Ok((id, Err(why))) => {
                        tracing::warn!(node = %id, %why, "a gateway node's access log could not be read");
                        unreachable.push(id);
                    }
                    Err(error) => tracing::warn!(%error, "asking a gateway node for its access log"),
                }
            }
        }
        // RFC 3339 times in UTC with milliseconds sort as text.
        items.sort_by(|a, b| b.time.cmp(&a.time));
        items.truncate(filter.limit);
        unreachable.sort();
        Ok(AccessLogView { items, unreachable })
    }
}

/// One gateway node's lines for `path`.
async fn ask(address: std::net::SocketAddr, path: &str) -> Result<Vec<AccessLine>, String> {
    let request = http::Request::get(path)
        .header(http::header::HOST, address.to_string())
        .body(bytes::Bytes::new())
        .map_err(|e| e.to_string())?;
    let answer = gateway::debug::send(address, request, ASK_TIMEOUT, ANSWER_LIMIT).await?;
    if answer.parts.status != http::StatusCode::OK || answer.truncated {
        return Err(format!("answered {}", answer.parts.status));
    }
    let view: AccessLogView = serde_json::from_slice(&answer.body).map_err(|e| format!("unreadable answer: {e}"))?;
    Ok(view.items)
}
