//! Users and roles: every REST endpoint refuses (403) exactly the roles its documented rule
//! leaves out; the Users REST; a developer's real release loop outside Production; a
//! viewer's console writes refused; disabled users locked out.

use crate::helpers::{spawn_app, RestClient};
use reqwest::Method;
use serde_json::json;

/// Who calls, and the group its scope holds (`None`: every group).
struct Caller {
    name: &'static str,
    role: &'static str,
    groups: Option<&'static [&'static str]>,
}

/// The callers the matrix tries. Path parameters name a group that does not exist
/// (`ghost`), so an allowed call is a 404 or 422 and changes nothing.
const CALLERS: [Caller; 5] = [
    Caller { name: "viewer", role: "viewer", groups: None },
    Caller { name: "dev", role: "developer", groups: None },
    Caller { name: "scoped", role: "developer", groups: Some(&["ghost"]) },
    Caller { name: "elsewhere", role: "developer", groups: Some(&["elsewhere"]) },
    Caller { name: "boss", role: "admin", groups: None },
];

/// Whether `caller` may call an endpoint whose documented role is `rule`, with the path's
/// environment `env`.
fn allowed(rule: &str, caller: &Caller, env: &str) -> bool {
    let (role, ghost) = (caller.role, caller.groups.is_none_or(|g| g.contains(&"ghost")));
    match rule {
        "viewer" => true,
        "admin" => role == "admin",
        "developer" => role == "admin" || role == "developer",
        "developer (of every group)" => role == "admin" || (role == "developer" && caller.groups.is_none()),
        "developer (of this group)" => role == "admin" || (role == "developer" && ghost),
        "developer (of this group) for test and pre; admin for prod" => {
            role == "admin" || (role == "developer" && ghost && env != "prod")
        }
        other => panic!("a documented role the test does not know: {other}"),
    }
}

/// The path with every `{param}` filled: the group `ghost`, the environment `env`, numbers
/// for ids.
fn filled(path: &str, env: &str) -> String {
    path.split('/')
        .map(|part| match part {
            "{group}" => "ghost".to_owned(),
            "{env}" => env.to_owned(),
            "{id}" => "987654".to_owned(),
            "{language}" => "python".to_owned(),
            p if p.starts_with('{') => "ghost".to_owned(),
            p => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_endpoint_refuses_exactly_the_roles_its_rule_leaves_out() {
    let app = spawn_app().await;
    let admin = app.rest().await;
    let mut clients = Vec::new();
    for caller in &CALLERS {
        let body = json!({"username": caller.name, "password": "long enough password", "role": caller.role, "groups": caller.groups});
        let (status, answer) = admin.post("/users", body).await;
        assert_eq!(status, 201, "{answer}");
        let token = app.control.create_token("matrix", caller.name).await.expect("token");
        clients.push(RestClient::new(&app.console, &token));
    }
    let (status, doc) = admin.get("/openapi.json").await;
    assert_eq!(status, 200);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let rule =
                operation["x-gantry-role"].as_str().unwrap_or_else(|| panic!("{method} {path}: no x-gantry-role"));
            let envs: &[&str] = if path.contains("{env}") { &["test", "prod"] } else { &["test"] };
            for env in envs {
                let url = filled(path, env);
                for (caller, client) in CALLERS.iter().zip(&clients) {
                    let body = (method != Method::GET && method != Method::DELETE).then(|| "{}".to_owned());
                    let (status, answer) = client.send_text(method.clone(), &url, body).await;
                    let want = allowed(rule, caller, env);
                    assert_eq!(status != 403, want, "{method} {url} as {} ({rule}): {status} {answer}", caller.name);
                    assert!(status < 500, "{method} {url} as {}: {status} {answer}", caller.name);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 300, "the document lists every endpoint ({checked} calls)");
}

#[tokio::test]
async fn users_are_listed_created_and_changed_over_rest_by_admins_only() {
    let app = spawn_app().await;
    let admin = app.rest().await;
    let (status, created) = admin
        .post(
            "/users",
            json!({"username": "ann", "password": "long enough password", "role": "developer", "groups": ["petstore"]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["groups"], json!(["petstore"]));
    assert!(created.get("password").is_none() && created.get("password_hash").is_none(), "{created}");
    // Every broken field named.
    let (status, answer) = admin.post("/users", json!({"username": "", "password": "x", "role": "root"})).await;
    assert_eq!(status, 422);
    let fields: Vec<_> = answer["errors"].as_array().expect("errors").iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("username"), json!("password"), json!("role")], "{answer}");
    let (status, answer) =
        admin.post("/users", json!({"username": "ann", "password": "long enough password", "role": "viewer"})).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("username")), "taken: {answer}");
    // Scope widened to every group, then the role changed.
    let (status, patched) = admin.send(Method::PATCH, "/users/ann", Some(json!({"groups": null}))).await;
    assert_eq!((status, patched["groups"].clone(), patched["role"].clone()), (200, json!(null), json!("developer")));
    let (status, patched) = admin.send(Method::PATCH, "/users/ann", Some(json!({"role": "viewer"}))).await;
    assert_eq!((status, patched["role"].clone()), (200, json!("viewer")));
    let (status, _) = admin.send(Method::PATCH, "/users/nobody", Some(json!({"role": "viewer"}))).await;
    assert_eq!(status, 404);
    // The last admin stays.
    let (status, answer) = admin.send(Method::PATCH, "/users/admin", Some(json!({"disabled": true}))).await;
    assert_eq!(status, 409, "{answer}");
    let (status, list) = admin.get("/users").await;
    assert_eq!((status, list["total"].clone()), (200, json!(2)));
    // A token acting as the viewer has the viewer's role.
    let token = app.control.create_token("ann", "ann").await.expect("token");
    let ann = RestClient::new(&app.console, &token);
    let (status, answer) = ann.get("/users").await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().expect("message").contains("admin"), "{answer}");
    // Disabled: the token stops working at once; logging in says why, after the password.
    let (status, _) = admin.send(Method::PATCH, "/users/ann", Some(json!({"disabled": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(ann.get("/groups").await.0, 401);
    let refused = app.post_login("ann", "wrong password!").await;
    assert_eq!(crate::helpers::location(&refused).as_deref(), Some("/login?error=1&username=ann"));
    let refused = app.post_login("ann", "long enough password").await;
    assert_eq!(crate::helpers::location(&refused).as_deref(), Some("/login?error=disabled&username=ann"));
    let page = app.get("/login?error=disabled&username=ann").await.text().await.expect("page");
    assert!(page.contains("This user is disabled"), "{page}");
    // The audit log holds both changes, never the password.
    let (_, audit) = admin.get("/audit?action=user").await;
    let text = audit.to_string();
    assert!(audit["total"].as_u64().expect("total") >= 4, "{audit}");
    assert!(!text.contains("long enough password"), "{text}");
}

#[tokio::test]
async fn a_developer_builds_and_releases_outside_production_and_an_admin_releases_production() {
    let app = spawn_app().await;
    let admin = app.rest().await;
    admin.create_group("petstore").await;
    admin.create_group("orders").await;
    let (status, _) = admin
        .post(
            "/users",
            json!({"username": "dev", "password": "long enough password", "role": "developer", "groups": ["petstore"]}),
        )
        .await;
    assert_eq!(status, 201);
    let dev = RestClient::new(&app.console, &app.control.create_token("dev", "dev").await.expect("token"));
    let api =
        json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": "hi"}}});
    dev.create_api("petstore", api.clone()).await;
    let (status, answer) = dev.post("/groups/orders/apis", api.clone()).await;
    assert_eq!(status, 403, "outside the scope: {answer}");
    let release = json!({"version": {"label": "1.0.0"}, "backend": {"type": "mock"}});
    let (status, answer) = dev.post("/groups/petstore/deployments/test/draft", release.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let served = app.call_gateway(Method::GET, "petstore.localhost", "TEST", "/hello").await;
    assert_eq!(served.status(), 200);
    let (status, answer) =
        dev.put("/groups/petstore/deployments/prod", json!({"version": "1.0.0", "backend": {"type": "mock"}})).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().expect("message").contains("Production"), "{answer}");
    assert_eq!(dev.delete("/groups/petstore/deployments/test").await.0, 204, "off-line in Test");
    let (status, answer) =
        admin.put("/groups/petstore/deployments/prod", json!({"version": "1.0.0", "backend": {"type": "mock"}})).await;
    assert_eq!(status, 200, "{answer}");
    let served = app.call_gateway(Method::GET, "petstore.localhost", "RELEASE", "/hello").await;
    assert_eq!(served.status(), 200);
    // Nothing the refused calls touched changed: orders has no APIs, prod history one event.
    let (_, apis) = admin.get("/groups/orders/apis").await;
    assert_eq!(apis["total"], json!(0));
    // The scoped developer reads other groups and may not create groups or apps.
    assert_eq!(dev.get("/groups/orders").await.0, 200);
    assert_eq!(dev.post("/groups", json!({"name": "new", "subdomain": "new"})).await.0, 403);
    assert_eq!(dev.post("/apps", json!({"name": "web"})).await.0, 403);
}

#[tokio::test]
async fn a_viewer_reads_in_the_console_but_its_server_function_writes_are_refused() {
    use leptos::server_fn::ServerFn;
    let app = spawn_app().await;
    let admin = app.rest().await;
    admin.create_group("petstore").await;
    let (status, _) =
        admin.post("/users", json!({"username": "val", "password": "long enough password", "role": "viewer"})).await;
    assert_eq!(status, 201);
    let response = app.post_login("val", "long enough password").await;
    assert_eq!(crate::helpers::location(&response).as_deref(), Some("/groups"));
    let page = app.get("/groups/petstore").await.text().await.expect("page");
    assert!(page.contains("Viewer"), "the role is shown");
    assert!(!page.contains(">Release<"), "no Release button for a viewer");
    // The same page for an admin has it (so the check above can fail).
    let admin_browser = crate::helpers::browser();
    let login = admin_browser
        .post(app.url("/auth/login"))
        .form(&[("username", "admin"), ("password", crate::helpers::ADMIN_PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 303);
    let admin_page = admin_browser.get(app.url("/groups/petstore")).send().await.expect("page");
    assert!(admin_page.text().await.expect("page").contains(">Release<"), "an admin's page has Release");
    let write = app
        .client
        .post(app.url(app::api::DeleteGroup::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=petstore")
        .send()
        .await
        .expect("server fn");
    assert_eq!(write.status(), 403, "{}", write.text().await.unwrap_or_default());
    assert_eq!(admin.get("/groups/petstore").await.0, 200, "still there");
    let read = app.client.post(app.url(app::api::ListGroups::PATH)).send().await.expect("server fn");
    assert_eq!(read.status(), 200);
    let users = app.client.post(app.url(app::api::ListUsers::PATH)).send().await.expect("server fn");
    assert_eq!(users.status(), 403);
}
