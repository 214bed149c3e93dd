//! Cluster mode: the change log every node follows, and the node registry.
//!
//! - Every committed change to what is live bumps `config_revision` and writes what it
//!   changed to `config_changes` in the same transaction (`Control::commit_changes`); on
//!   PostgreSQL the transaction also sends `NOTIFY gantry_config`, which PostgreSQL delivers
//!   at commit.
//! - [`follow`]: each node's loop. Woken by that notification (PostgreSQL), by the node's
//!   own commits, and at least every poll interval, it reads the changes after the revision
//!   it applied and recompiles only what they name (everything, when the log has a gap),
//!   then records the revision in its `nodes` row. A node that cannot reach the database
//!   keeps serving its last snapshot, says so ([`SyncStatus`]: health, metric, log) and
//!   catches up when it can.
//! - [`NodeIdentity`]: a process's registration; heartbeats every [`HEARTBEAT`];
//!   `Control::nodes` lists every node with its lag and whether it is stale.
//! - `Control::rollout`: after a change, waits (briefly) until every live gateway node
//!   has applied it and says which have not.

use crate::entity::{config_change, node};
use crate::revision::Refresh;
use crate::{Control, ControlError};
use domain::cluster::{NodeView, NodesView, Role, Rollout};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Set, Statement};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The PostgreSQL notification channel of committed changes.
pub const CHANNEL: &str = "gantry_config";
/// How often a node says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// A node without a heartbeat for this long is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(5);
/// How long release, switch and off-line wait for the other gateway nodes.
pub const ROLLOUT_WAIT: Duration = Duration::from_secs(2);
/// Changes kept in the log; a node further behind recompiles everything.
const KEEP_CHANGES: i64 = 10_000;
/// Nodes not heard of for this long leave the list.
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Who this process is in the cluster.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    /// Random at every start.
    pub id: String,
    pub role: Role,
    /// Where it serves (its gateway's address, or its console's for a console node).
    pub address: String,
    /// A gateway node's admin address, where the console reads its access log.
    pub admin_address: Option<String>,
    pub version: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

impl NodeIdentity {
    /// A new identity for a process starting now.
    pub fn new(role: Role, address: String) -> NodeIdentity {
        NodeIdentity {
            id: format!("{}-{}", role.as_str(), &uuid_like()[..12]),
            role,
            address,
            admin_address: None,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: chrono::Utc::now(),
        }
    }
}

fn uuid_like() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// How this node's copy of the configuration is doing (health, metrics).
#[derive(Debug, Default)]
pub struct SyncStatus {
    applied: AtomicI64,
    database_down: AtomicBool,
}

impl SyncStatus {
    /// The `config_revision` this node has applied.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Relaxed)
    }

    /// Whether the last attempt to reach the database failed.
    pub fn database_down(&self) -> bool {
        self.database_down.load(Ordering::Relaxed)
    }
}

impl Control {
    /// Bumps `config_revision` and logs `changes` under the new revision, in `txn` (and on
    /// PostgreSQL queues the notification sent at commit). Returns the new revision.
    pub(crate) async fn log_change(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        changes: &[Refresh],
    ) -> Result<i64, ControlError> {
        crate::revision::bump_revision(txn).await?;
        let revision = crate::entity::config_revision::Entity::find_by_id(1).one(txn).await?.map(|r| r.revision);
        let revision = revision.ok_or_else(|| ControlError::Internal("config_revision has no row".into()))?;
        let json = serde_json::to_string(changes).map_err(|e| ControlError::Internal(e.to_string()))?;
        config_change::Entity::insert(config_change::ActiveModel {
            revision: Set(revision),
            changes: Set(json),
            created_at: Set(chrono::Utc::now()),
        })
        .exec(txn)
        .await?;
        if revision % 100 == 0 {
            config_change::Entity::delete_many()
                .filter(config_change::Column::Revision.lte(revision - KEEP_CHANGES))
                .exec(txn)
                .await?;
        }
        if txn.get_database_backend() == DbBackend::Postgres {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), revision.to_string().into()],
            ))
            .await?;
        }
        Ok(revision)
    }

    /// Brings this node's snapshot from revision `applied` to the current one: recompiles
    /// what the logged changes name (skipping those this process already applied itself),
    /// or everything when the log does not reach back to `applied`. Returns the revision now
    /// applied.
    pub async fn catch_up(&self, applied: i64) -> Result<i64, ControlError> {
        let current = self.config_revision().await?;
        if current == applied {
            return Ok(applied);
        }
        let changes = config_change::Entity::find()
            .filter(config_change::Column::Revision.gt(applied))
            .filter(config_change::Column::Revision.lte(current))
            .order_by_asc(config_change::Column::Revision)
            .all(self.db())
            .await?;
        let complete = current > applied && changes.len() as i64 == current - applied;
        if !complete {
            tracing::info!(applied, current, "the change log does not reach back far enough: recompiling everything");
            self.refresh_gateway().await?;
            return Ok(current);
        }
        let mut todo: Vec<Refresh> = Vec::new();
        {
            let mut local = self.local_changes.lock().unwrap_or_else(|p| p.into_inner());
            for change in &changes {
                if local.remove(&change.revision) {
                    continue;
                }
                let refreshes: Vec<Refresh> = serde_json::from_str(&change.changes)
                    .map_err(|e| crate::entity::unreadable("config change", change.revision, e))?;
                for refresh in refreshes {
                    if !todo.contains(&refresh) {
                        todo.push(refresh);
                    }
                }
            }
        }
        for refresh in todo {
            self.apply_refresh(refresh).await?;
        }
        Ok(current)
    }

    /// Registers this process as a node (a fresh row; nodes unheard of for a day are
    /// forgotten).
    pub async fn register_node(&self, me: &NodeIdentity, applied: i64) -> Result<(), ControlError> {
        node::Entity::delete_many()
            .filter(node::Column::LastHeartbeat.lt(chrono::Utc::now() - FORGET_AFTER))
            .exec(self.db())
            .await?;
        let now = chrono::Utc::now();
        node::Entity::insert(node::ActiveModel {
            id: Set(me.id.clone()),
            role: Set(me.role.as_str().to_owned()),
            address: Set(me.address.clone()),
            version: Set(me.version.clone()),
            started_at: Set(me.started_at),
            applied_revision: Set(applied),
            last_heartbeat: Set(now),
            admin_address: Set(me.admin_address.clone()),
        })
        .on_conflict(
            OnConflict::column(node::Column::Id)
                .update_columns([
                    node::Column::AppliedRevision,
                    node::Column::LastHeartbeat,
                    node::Column::AdminAddress,
                ])
                .to_owned(),
        )
        .exec(self.db())
        .await?;
        Ok(())
    }

    /// Says this node is alive and serves `applied`.
    pub async fn heartbeat(&self, me: &NodeIdentity, applied: i64) -> Result<(), ControlError> {
        let updated = node::Entity::update_many()
            .col_expr(node::Column::AppliedRevision, applied.into())
            .col_expr(node::Column::LastHeartbeat, chrono::Utc::now().into())
            .filter(node::Column::Id.eq(me.id.as_str()))
            .exec(self.db())
            .await?;
        if updated.rows_affected == 0 {
            // Forgotten while cut off for a day, or the table was emptied: register again.
            self.register_node(me, applied).await?;
        }
        Ok(())
    }

    /// Marks this node stopped: its heartbeat is set far in the past, so it shows as stale
    /// at once (a graceful stop; a killed node goes stale when its heartbeats stop).
    pub async fn leave(&self, me: &NodeIdentity) -> Result<(), ControlError> {
        node::Entity::update_many()
            .col_expr(node::Column::LastHeartbeat, (chrono::Utc::now() - FORGET_AFTER / 2).into())
            .filter(node::Column::Id.eq(me.id.as_str()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Every registered node, with its lag behind the current revision and whether it is
    /// stale (`GET /nodes`, the Gateway Nodes page).
    pub async fn nodes(&self) -> Result<NodesView, ControlError> {
        let current_revision = self.config_revision().await?;
        let now = chrono::Utc::now();
        let stale_after = chrono::TimeDelta::from_std(STALE_AFTER).unwrap_or_default();
        let rows = node::Entity::find()
            .order_by_asc(node::Column::Role)
            .order_by_asc(node::Column::StartedAt)
            .all(self.db())
            .await?;
        let items = rows
            .into_iter()
            .map(|row| NodeView {
                role: row.role.parse().unwrap_or(Role::All),
                lag: (current_revision - row.applied_revision).max(0),
                stale: now - row.last_heartbeat > stale_after,
                started_at: row.started_at.to_rfc3339(),
                last_heartbeat: row.last_heartbeat.to_rfc3339(),
                applied_revision: row.applied_revision,
                id: row.id,
                address: row.address,
                version: row.version,
            })
            .collect();
        Ok(NodesView { current_revision, stale_after_s: STALE_AFTER.as_secs(), items })
    }

    /// The admin addresses of the other live gateway nodes (their id and address).
    pub(crate) async fn gateway_admins(&self) -> Result<Vec<(String, std::net::SocketAddr)>, ControlError> {
        let me = self.node.as_ref().map(|n| n.id.clone());
        let fresh = chrono::Utc::now() - chrono::TimeDelta::from_std(STALE_AFTER).unwrap_or_default();
        let rows = node::Entity::find()
            .filter(node::Column::Role.eq(Role::Gateway.as_str()))
            .filter(node::Column::LastHeartbeat.gt(fresh))
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter(|row| Some(&row.id) != me.as_ref())
            .filter_map(|row| Some((row.id, row.admin_address?.parse().ok()?)))
            .collect())
    }

    /// Waits up to [`ROLLOUT_WAIT`] until every live (not stale) gateway node has applied
    /// `revision`, and says which have and which have not. This node counts as applied: it
    /// recompiled before answering.
    pub async fn rollout(&self, revision: i64) -> Rollout {
        let me = self.node.as_ref().map(|n| n.id.clone());
        let deadline = tokio::time::Instant::now() + ROLLOUT_WAIT;
        loop {
            let nodes = match self.nodes().await {
                Ok(nodes) => nodes.items,
                Err(error) => {
                    tracing::warn!(%error, "reading the nodes for a roll-out");
                    Vec::new()
                }
            };
            let mut rollout = Rollout { revision, ..Rollout::default() };
            for node in nodes.into_iter().filter(|n| n.role.serves_gateway() && !n.stale) {
                if Some(&node.id) == me.as_ref() || node.applied_revision >= revision {
                    rollout.applied.push(node.id);
                } else {
                    rollout.pending.push(node.id);
                }
            }
            if rollout.pending.is_empty() || tokio::time::Instant::now() >= deadline {
                return rollout;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Follows the change log until `stop` resolves: see the module's documentation. `listen`
/// is the PostgreSQL URL to `LISTEN` on (None on SQLite: polling and own commits only).
pub async fn follow(
    control: Control,
    me: NodeIdentity,
    status: Arc<SyncStatus>,
    listen: Option<String>,
    poll: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let wake = control.changed.clone();
    let listener = listen.map(|url| tokio::spawn(listen_for_changes(url, wake.clone())));
    let mut applied = control.snapshots().current().revision;
    status.applied.store(applied, Ordering::Relaxed);
    if let Err(error) = control.register_node(&me, applied).await {
        tracing::error!(%error, "registering this node failed; retrying with the heartbeats");
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut poller = tokio::time::interval(poll);
    poller.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        let beat = tokio::select! {
            () = &mut stop => break,
            () = wake.notified() => false,
            _ = poller.tick() => false,
            _ = heartbeat.tick() => true,
        };
        let result = match control.catch_up(applied).await {
            Ok(now) if now != applied => {
                applied = now;
                status.applied.store(applied, Ordering::Relaxed);
                control.heartbeat(&me, applied).await
            }
            Ok(_) if beat => control.heartbeat(&me, applied).await,
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => {
                if status.database_down.swap(false, Ordering::Relaxed) {
                    tracing::info!(revision = applied, "the database is reachable again; caught up");
                }
            }
            Err(error) => {
                if !status.database_down.swap(true, Ordering::Relaxed) {
                    tracing::error!(%error, revision = applied, "cannot reach the database: serving the last snapshot");
                }
            }
        }
    }
    if let Some(listener) = listener {
        listener.abort();
    }
}

/// `LISTEN gantry_config`, waking the follower at each notification; reconnects after a
/// second when the connection drops (the poll covers what is missed meanwhile).
async fn listen_for_changes(url: String, wake: Arc<tokio::sync::Notify>) {
    use sea_orm::sqlx::postgres::PgListener;
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => wake.notify_one(),
                        // The connection dropped: whatever was missed is caught up now.
                        Ok(None) => wake.notify_one(),
                        Err(error) => {
                            tracing::debug!(%error, "LISTEN connection lost");
                            break;
                        }
                    }
                },
                Err(error) => tracing::debug!(%error, "LISTEN failed"),
            },
            Err(error) => tracing::debug!(%error, "LISTEN connection failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
