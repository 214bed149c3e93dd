//! A group's working draft of APIs. Saving validates the whole definition (`domain::api`),
//! keeps names unique in the group and refuses route conflicts, naming both APIs. Editing the
//! draft changes nothing that is live: only releasing a version does.

use crate::entity::api;
use crate::users::Action;
use crate::{audit, Control, ControlError, CurrentUser, FieldError};
use domain::api::{ApiSpec, Clashes, ValidApi};
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
        check_apis_fit(db, group_id, &[(except, spec)]).await.map_err(|(_, error)| error)
    }

    /// Adds an API to a group's draft.
    pub async fn create_api(&self, group: &str, spec: &ApiSpec, actor: &CurrentUser) -> Result<ApiView, ControlError> {
        actor.require(Action::EditGroup(group))?;
        let group = self.find_group(group).await?;
        let spec = spec.validate().map_err(ControlError::Validation)?;
        check_function(&spec)?;
        let txn = self.begin_write().await?;
        let model = insert_api(&txn, &group, &spec, actor, Fit::Check).await?;
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
        let model = replace_api(&txn, &group, id, &spec, actor, Fit::Check).await?;
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

/// Whether [`insert_api`] and [`replace_api`] check their API against the draft, or the
/// caller checked all it writes in the same transaction with [`check_apis_fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    Check,
    CheckedTogether,
}

/// Checks APIs written together (`(Some(id), spec)` replaces API `id`, `(None, spec)` adds
/// one) against the rest of the draft as `db` sees it and against each other, reading the
/// draft once: the first that does not fit comes back with its index and the refusal
/// [`Control::check_api_fits`] gives (a failed read of the draft, with no index). Each API
/// is looked up by name and route shape ([`Clashes`]), not compared with every other (an
/// import of 1,000 APIs into a group of 9,000 made ten million comparisons in its write
/// transaction). One API id written twice is refused: the second would undo the first.
pub(crate) async fn check_apis_fit(
    db: &impl ConnectionTrait,
    group_id: i32,
    writes: &[(Option<i32>, &ApiSpec)],
) -> Result<(), (Option<usize>, ControlError)> {
    let others: Vec<(i32, String, String, String)> = api::Entity::find()
        .select_only()
        .columns([api::Column::Id, api::Column::Name, api::Column::Method, api::Column::Path])
        .filter(api::Column::GroupId.eq(group_id))
        .into_tuple()
        .all(db)
        .await
        .map_err(|e| (None, e.into()))?;
    let replaced: std::collections::HashSet<i32> = writes.iter().filter_map(|(id, _)| *id).collect();
    // The draft's APIs that stay, then each written one once it fits: (id, name, method,
    // path), indexed in `clashes` by their place here.
    let mut fitted: Vec<(Option<i32>, String, String, String)> = others
        .into_iter()
        .filter(|(id, ..)| !replaced.contains(id))
        .map(|(id, name, method, path)| (Some(id), name, method, path))
        .collect();
    let mut clashes = Clashes::new();
    for (index, (_, name, method, path)) in fitted.iter().enumerate() {
        clashes.add(index, name, domain::HttpMethod::stored(method), path);
    }
    let mut written = std::collections::HashSet::new();
    for (at, (id, spec)) in writes.iter().enumerate() {
        if let Some(id) = id.filter(|id| !written.insert(*id)) {
            let message = format!("API id {id} is written twice in one change: the second would undo the first");
            return Err((Some(at), ControlError::Validation(vec![FieldError::new("id", message)])));
        }
        let mut errors = Vec::new();
        if let Some(other) = clashes.same_name(&spec.name, None) {
            let name = &fitted[other].1;
            errors.push(FieldError::new("name", format!("an API named `{name}` already exists in this group")));
        }
        if let Some(other) = clashes.same_route(spec.method(), &spec.request.path, None) {
            let (other_id, name, method, path) = &fitted[other];
            let other_id = other_id.map(|id| format!(" (id {id})")).unwrap_or_default();
            errors.push(FieldError::new(
                "request.path",
                format!(
                    "`{}` ({} {}) conflicts with API `{name}` ({method} {path}){other_id}: both would match the same requests",
                    spec.name, spec.request.method, spec.request.path
                ),
            ));
        }
        if !errors.is_empty() {
            return Err((Some(at), ControlError::Validation(errors)));
        }
        clashes.add(fitted.len(), &spec.name, spec.method(), &spec.request.path);
        fitted.push((*id, spec.name.clone(), spec.request.method.clone(), spec.request.path.clone()));
    }
    Ok(())
}

pub(crate) async fn find_api_in(db: &impl ConnectionTrait, group_id: i32, id: i32) -> Result<api::Model, ControlError> {
    api::Entity::find_by_id(id)
        .filter(api::Column::GroupId.eq(group_id))
        .one(db)
        .await?
        .ok_or_else(|| ControlError::NotFound(format!("API {id}")))
}

/// Inserts a validated API into the draft within `txn`, after checking its name and route
/// against the draft as `txn` sees it (so two writers cannot both take one name), unless
/// `fit` says the caller checked it already, in `txn`.
pub(crate) async fn insert_api(
    txn: &DatabaseTransaction,
    group: &crate::entity::api_group::Model,
    spec: &ValidApi,
    actor: &CurrentUser,
    fit: Fit,
) -> Result<api::Model, ControlError> {
    if fit == Fit::Check {
        Control::check_api_fits(txn, group.id, spec, None).await?;
    }
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
    fit: Fit,
) -> Result<api::Model, ControlError> {
    let current = find_api_in(txn, group.id, id).await?;
    if fit == Fit::Check {
        Control::check_api_fits(txn, group.id, spec, Some(id)).await?;
    }
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

    /// An import's plan: overwrites by name or by method and path, skips what clashes with
    /// the draft or with an earlier operation of the document, naming the other API; the
    /// rest is applied in one transaction.
    #[tokio::test]
    async fn an_import_overwrites_and_skips_what_clashes_naming_the_other_api() {
        let (control, _dir) = with_group().await;
        for spec in [api("Get pet", "GET", "/pets/{id}"), api("List", "GET", "/pets"), api("Any", "ANY", "/any/{x}")] {
            control.create_api("petstore", &spec, &admin()).await.expect("create");
        }
        let operations = [
            // Overwrites "Get pet" by name, moving it.
            ("/pets/{id}/v2", "get", api("Get pet", "GET", "/pets/{id}/v2")),
            // Overwrites "List" by method and path, renaming it.
            ("/pets", "get", api("List pets", "GET", "/pets")),
            // Clashes with the draft's "Any" (ANY overlaps POST).
            ("/any/{y}", "post", api("Post any", "POST", "/any/{y}")),
            // Clashes with the first operation (same shape, same method).
            ("/pets/{petId}/v2", "get", api("Fetch pet", "GET", "/pets/{petId}/v2")),
            // New.
            ("/stores", "get", api("Stores", "GET", "/stores")),
        ];
        let mut paths = serde_json::Map::new();
        for (path, method, spec) in &operations {
            let entry = paths.entry(path.to_string()).or_insert_with(|| serde_json::json!({}));
            entry[*method] = serde_json::json!({"x-gantry-api": spec});
        }
        let document = serde_json::json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths});
        let report = control.import_openapi("petstore", &document.to_string(), false, &admin()).await.expect("import");
        let names = |items: &[domain::import::ImportItem]| items.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&report.overwrite), ["List pets", "Get pet"], "in the order of the paths");
        assert_eq!(names(&report.add), ["Stores"]);
        let skipped: Vec<String> = report.skip.iter().map(|s| format!("{}: {}", s.operation, s.reason)).collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped.iter().any(|s| s.contains("POST /any/{y}") && s.contains("API `Any` (ANY /any/{x})")),
            "{skipped:?}"
        );
        assert!(
            skipped.iter().any(|s| s.contains("/pets/{petId}/v2") && s.contains("API `Get pet` (GET /pets/{id}/v2)")),
            "{skipped:?}"
        );
        assert!(report.applied);
        let page = control.list_apis("petstore", &Default::default()).await.expect("list");
        let mut routes: Vec<String> = page
            .items
            .iter()
            .map(|a| format!("{} {} {}", a.spec.name, a.spec.request.method, a.spec.request.path))
            .collect();
        routes.sort();
        assert_eq!(
            routes,
            ["Any ANY /any/{x}", "Get pet GET /pets/{id}/v2", "List pets GET /pets", "Stores GET /stores"]
        );
    }

    /// Two operations that would overwrite the same draft API (one by name, one by method and
    /// path) do not both apply, the last silently winning: the first overwrites it, the
    /// second is skipped naming both.
    #[tokio::test]
    async fn an_import_overwrites_a_draft_api_once() {
        let (control, _dir) = with_group().await;
        control.create_api("petstore", &api("Get pet", "GET", "/pets/{id}"), &admin()).await.expect("create");
        let document = serde_json::json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
            // By name, moving it.
            "/pets/{id}/v2": {"get": {"x-gantry-api": api("Get pet", "GET", "/pets/{id}/v2")}},
            // By method and path, renaming it.
            "/pets/{id}": {"get": {"x-gantry-api": api("Fetch pet", "GET", "/pets/{id}")}},
        }});
        for dry_run in [true, false] {
            let report =
                control.import_openapi("petstore", &document.to_string(), dry_run, &admin()).await.expect("import");
            let names: Vec<&str> = report.overwrite.iter().map(|i| i.name.as_str()).collect();
            assert_eq!(names.len(), 1, "one overwrite of `Get pet`: {names:?}");
            assert!(report.add.is_empty(), "{:?}", report.add);
            let skipped: Vec<String> = report.skip.iter().map(|s| format!("{}: {}", s.operation, s.reason)).collect();
            assert_eq!(skipped.len(), 1, "{skipped:?}");
            assert!(skipped[0].contains("API `Get pet` (GET /pets/{id})"), "{skipped:?}");
            assert!(
                skipped[0].contains(&format!("`{}`", names[0])),
                "names the operation that overwrites it: {skipped:?}"
            );
        }
        let page = control.list_apis("petstore", &Default::default()).await.expect("list");
        assert_eq!(page.items.len(), 1);
        // The routes are taken in the order of the paths, sorted: `/pets/{id}` comes first.
        let kept = &page.items[0].spec;
        assert_eq!(format!("{} {} {}", kept.name, kept.request.method, kept.request.path), "Fetch pet GET /pets/{id}");
    }

    /// APIs written together are checked against the draft as the transaction sees it and
    /// against each other: an API replaced frees its name and route; the first that does not
    /// fit is named by its index, with the refusal a single API gets.
    #[tokio::test]
    async fn apis_written_together_fit_the_draft_and_each_other() {
        let (control, _dir) = with_group().await;
        let pet = control.create_api("petstore", &api("Get pet", "GET", "/pets/{id}"), &admin()).await.expect("create");
        control.create_api("petstore", &api("Stores", "GET", "/stores"), &admin()).await.expect("create");
        let group = control.find_group("petstore").await.expect("group").id;
        let moved = api("Get pet", "GET", "/pets/{id}/v2");
        let taker = api("Fetch pet", "GET", "/pets/{petId}");
        // The replaced API's old route is free for another.
        check_apis_fit(control.db(), group, &[(Some(pet.id), &moved), (None, &taker)]).await.expect("fits");
        // Without the move, the route is taken: the second write is refused, naming both.
        let (at, error) = check_apis_fit(control.db(), group, &[(None, &api("New", "GET", "/new")), (None, &taker)])
            .await
            .expect_err("route taken");
        let error = &errors(error)[0];
        assert_eq!((at, error.field.as_str()), (Some(1), "request.path"));
        assert!(
            error.message.contains("Fetch pet") && error.message.contains(&format!("(id {})", pet.id)),
            "{}",
            error.message
        );
        // Two writes that clash with each other.
        let (at, error) =
            check_apis_fit(control.db(), group, &[(None, &api("A", "GET", "/a")), (None, &api("A", "POST", "/b"))])
                .await
                .expect_err("same name");
        assert_eq!((at, errors(error)[0].field.as_str()), (Some(1), "name"));
        let (at, _) = check_apis_fit(control.db(), group, &[(None, &api("Stores", "POST", "/other"))])
            .await
            .expect_err("the draft's name");
        assert_eq!(at, Some(0));
        // One API replaced twice: the second write would silently undo the first.
        let (at, error) = check_apis_fit(
            control.db(),
            group,
            &[(Some(pet.id), &moved), (Some(pet.id), &api("Renamed", "GET", "/renamed"))],
        )
        .await
        .expect_err("written twice");
        let error = &errors(error)[0];
        assert_eq!((at, error.field.as_str()), (Some(1), "id"));
        assert!(error.message.contains(&format!("API id {}", pet.id)), "{}", error.message);
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
