//! API groups: create, edit, delete, list. Names and subdomains are unique; a group with a
//! live deployment cannot be deleted.

use crate::entity::{api, api_group, deployment};
use crate::revision::Refresh;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser, FieldError};
use domain::group::GroupSpec;
pub use domain::views::GroupView;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

/// The view of a stored group.
fn group_view(model: api_group::Model, api_count: u64) -> GroupView {
    GroupView {
        id: model.id,
        name: model.name,
        subdomain: model.subdomain,
        description: model.description,
        api_count,
        updated_at: model.updated_at.to_rfc3339(),
    }
}

impl Control {
    pub(crate) async fn find_group(&self, name: &str) -> Result<api_group::Model, ControlError> {
        api_group::Entity::find()
            .filter(api_group::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(|| ControlError::NotFound(format!("API group `{name}`")))
    }

    async fn api_count(&self, group_id: i32) -> Result<u64, ControlError> {
        Ok(api::Entity::find().filter(api::Column::GroupId.eq(group_id)).count(self.db()).await?)
    }

    /// Refuses a name or subdomain another group (other than `except`) already has.
    async fn check_group_unique(&self, spec: &GroupSpec, except: Option<i32>) -> Result<(), ControlError> {
        let mut errors = Vec::new();
        let others = api_group::Entity::find()
            .filter(api_group::Column::Name.eq(&spec.name).or(api_group::Column::Subdomain.eq(&spec.subdomain)))
            .all(self.db())
            .await?;
        for other in others.iter().filter(|g| Some(g.id) != except) {
            if other.name == spec.name {
                errors.push(FieldError::new("name", format!("a group named `{}` already exists", spec.name)));
            }
            if other.subdomain == spec.subdomain {
                errors.push(FieldError::new(
                    "subdomain",
                    format!("`{}` is already the subdomain of group `{}`", spec.subdomain, other.name),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ControlError::Validation(errors))
        }
    }

    /// Every group, by name.
    pub async fn list_groups(&self) -> Result<Vec<GroupView>, ControlError> {
        let groups = api_group::Entity::find().order_by_asc(api_group::Column::Name).all(self.db()).await?;
        let mut views = Vec::with_capacity(groups.len());
        for group in groups {
            let count = self.api_count(group.id).await?;
            views.push(group_view(group, count));
        }
        Ok(views)
    }

    /// One group by name.
    pub async fn get_group(&self, name: &str) -> Result<GroupView, ControlError> {
        let group = self.find_group(name).await?;
        let count = self.api_count(group.id).await?;
        Ok(group_view(group, count))
    }

    /// Creates a group.
    pub async fn create_group(&self, spec: &GroupSpec, actor: &CurrentUser) -> Result<GroupView, ControlError> {
        actor.require(Action::CreateGroup)?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        self.check_group_unique(&spec, None).await?;
        let now = chrono::Utc::now();
        let txn = self.begin_write().await?;
        let model = api_group::ActiveModel {
            name: Set(spec.name.clone()),
            subdomain: Set(spec.subdomain.clone()),
            description: Set(spec.description.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(&txn, actor, "group.create", "group", &model.name, None::<&GroupSpec>, Some(&spec)).await?;
        // Its host answers at once (with "nothing … is live" until a release).
        self.commit_live(txn, Refresh::Group(model.id)).await?;
        Ok(group_view(model, 0))
    }

    /// Changes a group's name, subdomain or description.
    pub async fn update_group(
        &self,
        name: &str,
        spec: &GroupSpec,
        actor: &CurrentUser,
    ) -> Result<GroupView, ControlError> {
        actor.require(Action::EditGroup(name))?;
        let current = self.find_group(name).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        self.check_group_unique(&spec, Some(current.id)).await?;
        let before = group_view(current.clone(), 0).spec();
        let txn = self.begin_write().await?;
        let mut active: api_group::ActiveModel = current.into();
        active.name = Set(spec.name.clone());
        active.subdomain = Set(spec.subdomain.clone());
        active.description = Set(spec.description.clone());
        active.updated_at = Set(chrono::Utc::now());
        let model = active.update(&txn).await?;
        audit::record(&txn, actor, "group.update", "group", &model.name, Some(&before), Some(&spec)).await?;
        // A new subdomain moves the group's live APIs to the new host at once.
        self.commit_live(txn, Refresh::Group(model.id)).await?;
        let count = self.api_count(model.id).await?;
        Ok(group_view(model, count))
    }

    /// Deletes a group and its draft, versions and history; refused while anything is live.
    pub async fn delete_group(&self, name: &str, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditGroup(name))?;
        let group = self.find_group(name).await?;
        let txn = self.begin_write().await?;
        let live: Vec<String> = deployment::Entity::find()
            .filter(deployment::Column::GroupId.eq(group.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|d| {
                d.environment.parse::<domain::Environment>().map(|e| e.label().to_owned()).unwrap_or(d.environment)
            })
            .collect();
        if !live.is_empty() {
            return Err(ControlError::Conflict(format!(
                "group `{name}` is live in {}: take it off-line there before deleting it",
                live.join(", ")
            )));
        }
        let before = group_view(group.clone(), 0).spec();
        api_group::Entity::delete_by_id(group.id).exec(&txn).await?;
        audit::record(&txn, actor, "group.delete", "group", name, Some(&before), None::<&GroupSpec>).await?;
        self.commit_live(txn, Refresh::Group(group.id)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{admin, control};
    use sea_orm::{ConnectionTrait, Statement};

    fn spec(name: &str, subdomain: &str) -> GroupSpec {
        GroupSpec { name: name.into(), subdomain: subdomain.into(), description: String::new() }
    }

    fn fields(error: ControlError) -> Vec<String> {
        match error {
            ControlError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn names_and_subdomains_are_unique() {
        let (control, _dir) = control().await;
        control.create_group(&spec("petstore", "pets"), &admin()).await.expect("create");
        let error = control.create_group(&spec("petstore", "pets"), &admin()).await.expect_err("duplicate");
        assert_eq!(fields(error), ["name", "subdomain"]);
        let other = control.create_group(&spec("other", "other"), &admin()).await.expect("create");
        let error = control.update_group(&other.name, &spec("other", "pets"), &admin()).await.expect_err("taken");
        assert_eq!(fields(error), ["subdomain"]);
        let renamed = control.update_group("other", &spec("renamed", "other2"), &admin()).await.expect("rename");
        assert_eq!(renamed.subdomain, "other2");
        assert_eq!(control.list_groups().await.expect("list").len(), 2);
    }

    #[tokio::test]
    async fn invalid_input_changes_nothing() {
        let (control, _dir) = control().await;
        let error = control.create_group(&spec("", "bad.label"), &admin()).await.expect_err("invalid");
        assert_eq!(fields(error), ["name", "subdomain"]);
        assert!(control.list_groups().await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn a_live_group_cannot_be_deleted() {
        let (control, _dir) = control().await;
        let group = control.create_group(&spec("petstore", "pets"), &admin()).await.expect("create");
        let db = control.db();
        for sql in [
            format!("INSERT INTO versions (group_id, label, description, content_hash, snapshot, created_at, created_by) VALUES ({}, '1.0.0', '', 'h', '[]', '2026-01-01T00:00:00Z', 'admin')", group.id),
            format!("INSERT INTO deployments (group_id, environment, version_id, backend, released_at, released_by, note) VALUES ({}, 'test', 1, '{{}}', '2026-01-01T00:00:00Z', 'admin', '')", group.id),
        ] {
            db.execute_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("insert");
        }
        let error = control.delete_group("petstore", &admin()).await.expect_err("live");
        assert!(error.to_string().contains("live in Test"), "{error}");
        db.execute_raw(Statement::from_string(db.get_database_backend(), "DELETE FROM deployments".to_owned()))
            .await
            .expect("off-line");
        control.delete_group("petstore", &admin()).await.expect("delete");
        assert!(matches!(control.get_group("petstore").await, Err(ControlError::NotFound(_))));
    }
}
