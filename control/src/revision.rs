//! `config_revision`: one counter, bumped in the same transaction as every change to what
//! the gateway serves (releases, switches, off-lines, backend service URLs, apps, policies,
//! groups, domains, certificates), and the gateway snapshot's own revision, so `/health` can
//! tell whether the gateway serves the latest. [`Control::commit_changes`] (and
//! `commit_live` for one change) is the one way such a change ends: bump and log it
//! (`crate::cluster`), commit, then recompile what it touched and swap it in; other nodes
//! follow the log.

use crate::entity::config_revision;
use crate::{Control, ControlError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};

/// What a committed change makes the gateway recompile (logged as JSON in
/// `config_changes`: `{"group":3}`, `{"service_users":"billing"}`, `"apps"`, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Refresh {
    /// One group's deployments and hosts.
    Group(i32),
    /// Every group with a live API that uses this backend service (found after the commit).
    ServiceUsers(String),
    /// The app table (credentials and authorizations).
    Apps,
    /// The traffic policy table.
    Policies,
    /// The custom domains' certificates.
    Certificates,
}

/// Bumps `config_revision` inside the caller's transaction.
pub(crate) async fn bump_revision(db: &impl ConnectionTrait) -> Result<(), ControlError> {
    config_revision::Entity::update_many()
        .col_expr(config_revision::Column::Revision, Expr::col(config_revision::Column::Revision).add(1))
        .filter(config_revision::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

impl Control {
    /// The current `config_revision` (bumped by every change to what is live).
    pub async fn config_revision(&self) -> Result<i64, ControlError> {
        let row = config_revision::Entity::find_by_id(1).one(self.db()).await?;
        Ok(row.map(|r| r.revision).unwrap_or(0))
    }

    /// Ends a change to what the gateway serves: bumps `config_revision` in `txn`, commits,
    /// and only then recompiles what `refresh` names and swaps it in. A failure before the
    /// commit leaves everything as it was, served as before.
    pub(crate) async fn commit_live(&self, txn: DatabaseTransaction, refresh: Refresh) -> Result<(), ControlError> {
        self.commit_changes(txn, vec![refresh]).await.map(|_| ())
    }

    /// [`Control::commit_live`] for a change that touched several things; returns the
    /// revision it committed as.
    pub(crate) async fn commit_changes(
        &self,
        txn: DatabaseTransaction,
        changes: Vec<Refresh>,
    ) -> Result<i64, ControlError> {
        if let crate::db::Db::Apply(scope) = self.db() {
            // A step of a configuration file: release the savepoint; the file's transaction
            // logs, commits and recompiles everything at its end (revision 0: nothing to wait for).
            txn.commit().await?;
            scope.defer(changes);
            return Ok(0);
        }
        let revision = self.log_change(&txn, &changes).await?;
        // Marked before the commit, so this node's follower never recompiles it a second time.
        self.mark_local(revision);
        if let Err(error) = txn.commit().await {
            self.local_changes.lock().unwrap_or_else(|p| p.into_inner()).remove(&revision);
            return Err(error.into());
        }
        let mut result = Ok(());
        for refresh in changes {
            if let Err(error) = self.apply_refresh(refresh).await {
                result = Err(error);
            }
        }
        self.changed.notify_one();
        result.map(|()| revision)
    }

    fn mark_local(&self, revision: i64) {
        let mut local = self.local_changes.lock().unwrap_or_else(|p| p.into_inner());
        local.insert(revision);
        // A process without a follower (tests, tools) never drains it.
        while local.len() > 10_000 {
            local.pop_first();
        }
    }

    /// Recompiles what `refresh` names and swaps it in.
    pub(crate) async fn apply_refresh(&self, refresh: Refresh) -> Result<(), ControlError> {
        match refresh {
            Refresh::Group(group) => self.refresh_group(group).await,
            Refresh::ServiceUsers(service) => {
                let (_, groups) = self.live_users(&service).await?;
                for group in groups {
                    self.refresh_group(group).await?;
                }
                Ok(())
            }
            Refresh::Apps => self.refresh_apps().await,
            Refresh::Policies => self.refresh_policies().await,
            Refresh::Certificates => self.refresh_certificates().await,
        }
    }
}
