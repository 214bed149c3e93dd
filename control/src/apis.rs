//! A group's working draft of APIs. Saving validates the whole definition (`domain::api`),
//! keeps names unique in the group and refuses route conflicts, naming both APIs. Editing the
//! draft changes nothing that is live: only releasing a version does.

use crate::entity::api;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser, FieldError};
use domain::api::{ApiSpec, ValidApi};
pub use domain::views::{ApiPage, ApiQuery, ApiSort, ApiView};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// The view of a stored API.
fn api_view(model: api::Model) -> Result<ApiView, ControlError> {
    let spec = model.spec()?;
    Ok(ApiView { id: model.id, spec, updated_at: model.updated_at.to_rfc3339(), updated_by: model.updated_by })
}

/// A Function backend's code must compile and export its handler; the error names the line
/// and column.
fn check_function(spec: &ApiSpec) -> Result<(), ControlError> {
    let backend = &spec.backend;
    if !backend.unified && backend.kind == domain::api::BackendType::Function {
        gateway::function::check(&backend.function.code)
            .map_err(|m| ControlError::field("backend.function.code", m))?;
    }
    Ok(())
}

impl Control {
    /// One page of a group's APIs matching `query`.
    pub async fn list_apis(&self, group: &str, query: &ApiQuery) -> Result<ApiPage, ControlError> {
        let group = self.find_group(group).await?;
        let per_page = query.per_page.clamp(1, 200);
        let page = std::cmp::max(query.page, 1);
        let mut select = api::Entity::find().filter(api::Column::GroupId.eq(group.id));
        let q = query.q.trim().to_lowercase();
        if !q.is_empty() {
            let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            let lower = |col: api::Column| Expr::expr(Func::lower(Expr::col(col)));
            select = select.filter(
                lower(api::Column::Name)
                    .like(LikeExpr::new(&pattern).escape('\\'))
                    .or(lower(api::Column::Path).like(LikeExpr::new(&pattern).escape('\\'))),
            );
        }
        let total = select.clone().count(self.db()).await?;
        let order = if query.desc { Order::Desc } else { Order::Asc };
        let by_name = Expr::expr(Func::lower(Expr::col(api::Column::Name)));
        select = match query.sort {
            ApiSort::Name => select,
            ApiSort::Method => select.order_by(api::Column::Method, order.clone()),
            ApiSort::Path => select.order_by(api::Column::Path, order.clone()),
            ApiSort::Updated => select.order_by(api::Column::UpdatedAt, order.clone()),
        };
        let name_order = if query.sort == ApiSort::Name { order } else { Order::Asc };
        let rows = select
            .order_by(by_name, name_order)
            .order_by_asc(api::Column::Id)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .all(self.db())
            .await?;
        let items = rows.into_iter().map(api_view).collect::<Result<_, _>>()?;
        Ok(ApiPage { items, total, page, per_page })
    }

    /// One API of a group's draft.
    pub async fn get_api(&self, group: &str, id: i32) -> Result<ApiView, ControlError> {
        let group = self.find_group(group).await?;
        api_view(self.find_api(group.id, id).await?)
    }

    async fn find_api(&self, group_id: i32, id: i32) -> Result<api::Model, ControlError> {
        find_api_in(self.db(), group_id, id).await
    }

    /// Refuses a name another API of the group has, or a route a router could not tell
    /// apart from another API's (the error names both).
    async fn check_api_fits(
        db: &impl ConnectionTrait,
        group_id: i32,
        spec: &ApiSpec,
        except: Option<i32>,
    ) -> Result<(), ControlError> {
        let others: Vec<(i32, String, String, String)> = api::Entity::find()
            .select_only()
            .columns([api::Column::Id, api::Column::Name, api::Column::Method, api::Column::Path])
            .filter(api::Column::GroupId.eq(group_id))
            .into_tuple()
            .all(db)
            .await?;
        let mut errors = Vec::new();
        for (id, name, method, path) in others.into_iter().filter(|(id, ..)| Some(*id) != except) {
            if name == spec.name {
                errors.push(FieldError::new("name", format!("an API named `{name}` already exists in this group")));
            }
            let other = ApiSpec {
                request: domain::api::RequestSpec { method: method.clone(), path: path.clone(), ..Default::default() },
                ..Default::default()
            };
            if spec.route_conflicts(&other) && !errors.iter().any(|e: &FieldError| e.field == "request.path") {
                errors.push(FieldError::new(
                    "request.path",
                    format!(
                        "`{}` ({} {}) conflicts with API `{name}` ({method} {path}) (id {id}): both would match the same requests",
                        spec.name, spec.request.method, spec.request.path
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ControlError::Validation(errors))
        }
    }

    /// Adds an API to a group's draft.
    pub async fn create_api(&self, group: &str, spec: &ApiSpec, actor: &CurrentUser) -> Result<ApiView, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        check_function(&spec)?;
        let txn = self.begin_write().await?;
        let model = insert_api(&txn, &group, &spec, actor).await?;
        txn.commit().await?;
        api_view(model)
    }

    /// Replaces an API's definition in the draft.
    pub async fn update_api(
        &self,
        group: &str,
        id: i32,
        spec: &ApiSpec,
        actor: &CurrentUser,
    ) -> Result<ApiView, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        check_function(&spec)?;
        let txn = self.begin_write().await?;
        let model = replace_api(&txn, &group, id, &spec, actor).await?;
        txn.commit().await?;
        api_view(model)
    }

    /// Removes an API from the draft (versions that contain it keep it).
    pub async fn delete_api(&self, group: &str, id: i32, actor: &CurrentUser) -> Result<(), ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let current = self.find_api(group.id, id).await?;
        let before = api_view(current)?.spec;
        let txn = self.begin_write().await?;
        api::Entity::delete_by_id(id).exec(&txn).await?;
        let entity = format!("{}/{}", group.name, id);
        audit::record(&txn, actor, "api.delete", "api", &entity, Some(&before), None::<&ApiSpec>).await?;
        txn.commit().await?;
        Ok(())
    }
}

pub(crate) async fn find_api_in(db: &impl ConnectionTrait, group_id: i32, id: i32) -> Result<api::Model, ControlError> {
    api::Entity::find_by_id(id)
        .filter(api::Column::GroupId.eq(group_id))
        .one(db)
        .await?
        .ok_or_else(|| ControlError::NotFound(format!("API {id}")))
}

/// Inserts a validated API into the draft within `txn`, after checking its name and route
/// against the draft as `txn` sees it (so two writers cannot both take one name).
pub(crate) async fn insert_api(
    txn: &DatabaseTransaction,
    group: &crate::entity::api_group::Model,
    spec: &ValidApi,
    actor: &CurrentUser,
) -> Result<api::Model, ControlError> {
    Control::check_api_fits(txn, group.id, spec, None).await?;
    let now = chrono::Utc::now();
    let model = api::ActiveModel {
        group_id: Set(group.id),
        name: Set(spec.name.clone()),
        method: Set(spec.request.method.clone()),
        path: Set(spec.request.path.clone()),
        definition: Set(to_json(spec)?),
        created_at: Set(now),
        updated_at: Set(now),
        updated_by: Set(actor.username.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let id = format!("{}/{}", group.name, model.id);
    audit::record(txn, actor, "api.create", "api", &id, None::<&ApiSpec>, Some(spec)).await?;
    Ok(model)
}

/// Replaces API `id`'s definition with a validated one within `txn` (checked like
/// [`insert_api`]).
pub(crate) async fn replace_api(
    txn: &DatabaseTransaction,
    group: &crate::entity::api_group::Model,
    id: i32,
    spec: &ValidApi,
    actor: &CurrentUser,
) -> Result<api::Model, ControlError> {
    let current = find_api_in(txn, group.id, id).await?;
    Control::check_api_fits(txn, group.id, spec, Some(id)).await?;
    let before = api_view(current.clone())?.spec;
    let mut active: api::ActiveModel = current.into();
    active.name = Set(spec.name.clone());
    active.method = Set(spec.request.method.clone());
    active.path = Set(spec.request.path.clone());
    active.definition = Set(to_json(spec)?);
    active.updated_at = Set(chrono::Utc::now());
    active.updated_by = Set(actor.username.clone());
    let model = active.update(txn).await?;
    let entity = format!("{}/{}", group.name, id);
    audit::record(txn, actor, "api.update", "api", &entity, Some(&before), Some(spec)).await?;
    Ok(model)
}

/// A Function backend's code must compile: for imports, which apply many APIs at once.
pub(crate) fn check_function_code(spec: &ApiSpec) -> Result<(), ControlError> {
    check_function(spec)
}

fn to_json(spec: &ApiSpec) -> Result<serde_json::Value, ControlError> {
    serde_json::to_value(spec).map_err(|e| ControlError::Internal(format!("API definition: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entity::audit_event;
    use crate::testing::{admin, control};
    use domain::group::GroupSpec;

    async fn with_group() -> (Control, tempfile::TempDir) {
        let (control, dir) = control().await;
        let group = GroupSpec { name: "petstore".into(), subdomain: "pets".into(), description: String::new() };
        control.create_group(&group, &admin()).await.expect("group");
        (control, dir)
    }

    fn api(name: &str, method: &str, path: &str) -> ApiSpec {
        serde_json::from_value(serde_json::json!({"name": name, "request": {"method": method, "path": path}}))
            .expect("spec")
    }

    fn errors(error: ControlError) -> Vec<FieldError> {
        match error {
            ControlError::Validation(errors) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn create_read_update_delete() {
        let (control, _dir) = with_group().await;
        let created =
            control.create_api("petstore", &api("Get pet", "get", "/pets/{petId}"), &admin()).await.expect("create");
        assert_eq!(created.spec.request.method, "GET");
        let mut changed = created.spec.clone();
        changed.description = "Returns one pet".into();
        let updated = control.update_api("petstore", created.id, &changed, &admin()).await.expect("update");
        assert_eq!(updated.id, created.id);
        assert_eq!(control.get_api("petstore", created.id).await.expect("get").spec.description, "Returns one pet");
        control.delete_api("petstore", created.id, &admin()).await.expect("delete");
        assert!(matches!(control.get_api("petstore", created.id).await, Err(ControlError::NotFound(_))));

        let actions: Vec<String> =
            audit_event::Entity::find().all(control.db()).await.expect("audit").into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["group.create", "api.create", "api.update", "api.delete"]);
    }

    #[tokio::test]
    async fn invalid_definitions_are_refused_and_nothing_is_saved() {
        let (control, _dir) = with_group().await;
        let error =
            control.create_api("petstore", &api("Get pet", "GET", "pets/{id"), &admin()).await.expect_err("bad");
        assert_eq!(errors(error)[0].field, "request.path");
        assert_eq!(control.list_apis("petstore", &ApiQuery::default()).await.expect("list").total, 0);
    }

    #[tokio::test]
    async fn route_conflicts_name_both_apis() {
        let (control, _dir) = with_group().await;
        control.create_api("petstore", &api("Get pet", "GET", "/pets/{id}"), &admin()).await.expect("first");
        let error = control
            .create_api("petstore", &api("Fetch pet", "GET", "/pets/{petId}"), &admin())
            .await
            .expect_err("conflict");
        let error = &errors(error)[0];
        assert_eq!(error.field, "request.path");
        assert!(error.message.contains("Fetch pet") && error.message.contains("Get pet"), "{}", error.message);
        control.create_api("petstore", &api("Add pet", "POST", "/pets/{petId}"), &admin()).await.expect("other method");
        let error =
            control.create_api("petstore", &api("Get pet", "GET", "/stores"), &admin()).await.expect_err("name");
        assert_eq!(errors(error)[0].field, "name");
    }

    #[tokio::test]
    async fn an_api_may_keep_its_own_route_when_edited() {
        let (control, _dir) = with_group().await;
        let created =
            control.create_api("petstore", &api("Get pet", "GET", "/pets/{id}"), &admin()).await.expect("create");
        control.update_api("petstore", created.id, &created.spec, &admin()).await.expect("same route");
    }

    #[tokio::test]
    async fn search_and_paging() {
        let (control, _dir) = with_group().await;
        for i in 0..25 {
            let spec = api(&format!("api-{i:02}"), "GET", &format!("/items/n{i}"));
            control.create_api("petstore", &spec, &admin()).await.expect("create");
        }
        control.create_api("petstore", &api("Find_Pets", "GET", "/pets"), &admin()).await.expect("create");
        let page2 = control
            .list_apis("petstore", &ApiQuery { page: 2, per_page: 10, ..Default::default() })
            .await
            .expect("page");
        assert_eq!(page2.total, 26);
        assert_eq!(page2.items.len(), 10);
        assert_eq!(page2.items[0].spec.name, "api-10");
        // Sorted by path, Z to A: `/pets` comes after every `/items/…`, so first.
        let by_path_desc = ApiQuery { sort: ApiSort::Path, desc: true, per_page: 3, ..Default::default() };
        let names: Vec<String> = control
            .list_apis("petstore", &by_path_desc)
            .await
            .expect("sorted")
            .items
            .into_iter()
            .map(|a| a.spec.name)
            .collect();
        assert_eq!(names, ["Find_Pets", "api-09", "api-08"]);
        let by_name_desc = ApiQuery { desc: true, per_page: 1, ..Default::default() };
        assert_eq!(control.list_apis("petstore", &by_name_desc).await.expect("sorted").items[0].spec.name, "Find_Pets");
        let by_path =
            control.list_apis("petstore", &ApiQuery { q: "/ITEMS/n1".into(), ..Default::default() }).await.expect("q");
        assert_eq!(by_path.total, 11, "n1 and n10-n19");
        let by_name =
            control.list_apis("petstore", &ApiQuery { q: "find_".into(), ..Default::default() }).await.expect("q");
        assert_eq!(by_name.total, 1);
        let literal =
            control.list_apis("petstore", &ApiQuery { q: "i_".into(), ..Default::default() }).await.expect("q");
        assert_eq!(literal.total, 0, "_ is a literal, not a wildcard");
    }

    #[tokio::test]
    async fn unknown_groups_are_not_found() {
        let (control, _dir) = with_group().await;
        assert!(matches!(control.list_apis("nope", &ApiQuery::default()).await, Err(ControlError::NotFound(_))));
    }
}
