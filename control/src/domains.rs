//! Custom domains: extra host names a group answers on, optionally pinned to one
//! environment. Adding or removing one takes effect in the gateway at once.

use crate::entity::{custom_domain, domain_certificate};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser};
use domain::group::DomainSpec;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

fn view(model: custom_domain::Model) -> Result<DomainSpec, ControlError> {
    let environment = model.pinned()?;
    Ok(DomainSpec { host: model.host, environment, certificate: None })
}

impl Control {
    /// The group's custom domains, by host, each with its certificate if it has one.
    pub async fn list_domains(&self, group: &str) -> Result<Vec<DomainSpec>, ControlError> {
        let group = self.find_group(group).await?;
        let rows = custom_domain::Entity::find()
            .filter(custom_domain::Column::GroupId.eq(group.id))
            .order_by_asc(custom_domain::Column::Host)
            .all(self.db())
            .await?;
        let mut certificates = self.certificate_views(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        rows.into_iter()
            .map(|row| {
                let certificate = certificates.remove(&row.id);
                view(row).map(|spec| DomainSpec { certificate, ..spec })
            })
            .collect()
    }

    /// Binds a host name to the group; a host already bound anywhere is refused.
    pub async fn add_domain(
        &self,
        group: &str,
        spec: &DomainSpec,
        actor: &CurrentUser,
    ) -> Result<DomainSpec, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        if spec.host.ends_with(&format!(".{}", self.base_domain)) || spec.host == self.base_domain {
            return Err(ControlError::field(
                "host",
                format!("hosts under `{}` are groups' subdomains", self.base_domain),
            ));
        }
        let txn = self.begin_write().await?;
        if custom_domain::Entity::find().filter(custom_domain::Column::Host.eq(&spec.host)).one(&txn).await?.is_some() {
            return Err(ControlError::field("host", format!("`{}` is already bound to a group", spec.host)));
        }
        custom_domain::ActiveModel {
            group_id: Set(group.id),
            host: Set(spec.host.clone()),
            environment: Set(spec.environment.map(|e| e.as_str().to_owned())),
            created_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record_in(
            &txn,
            actor,
            Some(&group.name),
            "domain.add",
            "domain",
            &spec.host,
            None::<&DomainSpec>,
            Some(&spec),
        )
        .await?;
        self.commit_live(txn, Refresh::Group(group.id)).await?;
        Ok(spec)
    }

    /// Unbinds a host name from the group.
    pub async fn remove_domain(&self, group: &str, host: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let host = host.trim().to_ascii_lowercase();
        let txn = self.begin_write().await?;
        let found = custom_domain::Entity::find()
            .filter(custom_domain::Column::GroupId.eq(group.id))
            .filter(custom_domain::Column::Host.eq(&host))
            .one(&txn)
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("custom domain `{host}`")))?;
        let before = view(found.clone())?;
        // Its certificate goes with it, in the same transaction.
        let had_certificate = domain_certificate::Entity::delete_many()
            .filter(domain_certificate::Column::DomainId.eq(found.id))
            .exec(&txn)
            .await?
            .rows_affected
            > 0;
        custom_domain::Entity::delete_by_id(found.id).exec(&txn).await?;
        audit::record_in(
            &txn,
            actor,
            Some(&group.name),
            "domain.remove",
            "domain",
            &host,
            Some(&before),
            None::<&DomainSpec>,
        )
        .await?;
        let mut changes = vec![Refresh::Group(group.id)];
        if had_certificate {
            changes.push(Refresh::Certificates);
        }
        self.commit_changes(txn, changes).await.map(|_| ())
    }
}
