//! SDK & Docs and OpenAPI: generated SDKs run against the live gateway, export → import →
//! export round trip, and a real-world document imported with its unsupported parts listed.

use crate::apps::signed_petstore;
use crate::helpers::{spawn_app, TestApp};
use serde_json::{json, Value};
use std::process::Command;

async fn text(app: &TestApp, token_rest: &crate::helpers::RestClient, path: &str) -> (u16, String) {
    let _ = app;
    let (status, body) = token_rest.send_text(reqwest::Method::GET, path, None).await;
    (status, body)
}

/// A `fetch` for the TypeScript SDK in Node that sends the `Host` header (Node's own fetch will
/// not) taken from a `HOST` constant the runner defines.
const VIA_HOST: &str = r#"const viaHost = (url, init) => new Promise((resolve, reject) => {
  const request = http.request(url, { method: init.method, headers: { ...init.headers, host: HOST } }, (response) => {
    let body = '';
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve({ status: response.statusCode, headers: { forEach: (f) => Object.entries(response.headers).forEach(([k, v]) => f(String(v), k)) }, text: async () => body }));
  });
  request.on('error', reject);
  if (init.body) request.write(init.body);
  request.end();
});"#;

/// Writes `source` to `dir/sdk.ts` and compiles it to `dir/sdk.js` with `tsc --strict`,
/// failing with the compiler's output and the source.
fn compile_typescript(dir: &std::path::Path, source: &str) {
    std::fs::write(dir.join("sdk.ts"), source).expect("write");
    let tsc = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/node_modules/typescript/bin/tsc");
    let compiled = Command::new("node")
        .args([tsc, "--strict", "--target", "es2022", "--module", "commonjs", "--lib", "es2022,dom", "--outDir"])
        .arg(dir)
        .arg(dir.join("sdk.ts"))
        .output()
        .expect("tsc runs (scripts/test.sh installs it with the browser tests)");
    assert!(
        compiled.status.success(),
        "{}{}\n{source}",
        String::from_utf8_lossy(&compiled.stdout),
        String::from_utf8_lossy(&compiled.stderr)
    );
}

// Multi-threaded: the SDKs run as blocking child processes while the server answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_typescript_sdks_call_the_live_gateway() {
    let app = spawn_app().await;
    let (rest, web, _) = signed_petstore(&app).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = app.gateway.clone();
    let (key, secret) = (web["app_key"].as_str().expect("key"), web["app_secret"].as_str().expect("secret"));

    let (status, python) = text(&app, &rest, "/groups/petstore/sdk/test/python").await;
    assert_eq!(status, 200, "{python}");
    std::fs::write(dir.path().join("petstore_sdk.py"), &python).expect("write");
    let script = format!(
        r#"
import sys
sys.path.insert(0, {dir:?})
from petstore_sdk import Client
good = Client(base_url={gateway:?}, host="petstore.localhost", app_key={key:?}, app_secret={secret:?})
bad = Client(base_url={gateway:?}, host="petstore.localhost", app_key={key:?}, app_secret="wrong")
print(good.pets().status, good.form().status, good.json().status, bad.pets().status, bad.pets().headers.get("x-ca-error-code"))
"#,
        dir = dir.path().display().to_string(),
    );
    let output = Command::new("python3").arg("-c").arg(script).output().expect("python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "200 200 200 401 InvalidSignature");

    let (status, typescript) = text(&app, &rest, "/groups/petstore/sdk/test/typescript").await;
    assert_eq!(status, 200, "{typescript}");
    compile_typescript(dir.path(), &typescript);
    let runner = format!(
        r#"
const http = require('http');
const HOST = 'petstore.localhost';
const {{ Client }} = require({sdk:?});
{via_host}
(async () => {{
  const good = new Client({{ baseUrl: {gateway:?}, appKey: {key:?}, appSecret: {secret:?}, fetch: viaHost }});
  const bad = new Client({{ baseUrl: {gateway:?}, appKey: {key:?}, appSecret: 'wrong', fetch: viaHost }});
  const failed = await bad.pets();
  console.log((await good.pets()).status, (await good.form()).status, failed.status, failed.headers['x-ca-error-code']);
}})().catch((e) => {{ console.error(e); process.exit(1); }});
"#,
        sdk = dir.path().join("sdk.js").display().to_string(),
        via_host = VIA_HOST,
    );
    let output = Command::new("node").arg("-e").arg(runner).output().expect("node");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "200 200 401 InvalidSignature");

    let (status, markdown) = text(&app, &rest, "/groups/petstore/docs/test?format=markdown").await;
    assert_eq!(status, 200);
    assert!(
        markdown.contains("## Pets") && markdown.contains("X-Ca-Stage: TEST") && markdown.contains("InvalidSignature")
    );
    // Every refusal a caller can meet is in the table, those of traffic policies and
    // backends with several targets included.
    for row in
        ["| `Throttled` | 429 |", "| `IpDenied` | 403 |", "| `NoHealthyUpstream` | 503 |", "| `UpstreamBusy` | 503 |"]
    {
        assert!(markdown.contains(row), "{row}: {markdown}");
    }
    let (status, html) = text(&app, &rest, "/groups/petstore/docs/test?format=html").await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<h2>Pets</h2>"));
    let (status, _) = text(&app, &rest, "/groups/petstore/docs/prod").await;
    assert_eq!(status, 422, "nothing is live in Production");
}

/// The document without what legitimately differs between groups.
fn comparable(mut document: Value) -> Value {
    document["info"] = Value::Null;
    document["servers"] = Value::Null;
    document["x-gantry-group"] = Value::Null;
    document
}

#[tokio::test]
async fn export_import_export_gives_the_same_document() {
    let app = spawn_app().await;
    let (rest, _, _) = signed_petstore(&app).await;
    let api = json!({"name": "Find pets", "description": "by tag", "request": {"method": "GET", "path": "/pets/find/{tag}", "mode": "mapping",
        "params": [{"name": "tag", "in": "path"}, {"name": "limit", "in": "query", "type": "int", "default": "10", "constraints": {"min": 1, "max": 100}},
                   {"name": "x-trace", "in": "header"}]},
        "backend": {"unified": false, "type": "mock", "mock": {"status": 200, "body": "[]"}},
        "response": {"content_type": "application/json", "success_example": "[]"}});
    assert_eq!(rest.post("/groups/petstore/apis", api).await.0, 201);
    let (status, first) = rest.get("/groups/petstore/openapi?source=draft").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["openapi"], "3.1.0");
    // An AppCode goes in the header or, unless the API says header only, the query string.
    assert_eq!(
        first["paths"]["/pets"]["get"]["security"],
        json!([{"AppCode": []}, {"AppCodeQuery": []}, {"XCaSignature": []}])
    );
    assert_eq!(first["components"]["securitySchemes"]["AppCodeQuery"]["in"], "query");
    assert_eq!(first["components"]["securitySchemes"]["AppCodeQuery"]["name"], "AppCode");
    let header_only = json!({"name": "Header only", "auth": "app", "appcode": "header", "request": {"method": "GET", "path": "/strict"},
        "backend": {"unified": false, "type": "mock"}});
    let (status, strict) = rest.post("/groups/petstore/apis", header_only).await;
    assert_eq!(status, 201, "{strict}");
    let (_, with_strict) = rest.get("/groups/petstore/openapi?source=draft").await;
    assert_eq!(with_strict["paths"]["/strict"]["get"]["security"], json!([{"AppCode": []}, {"XCaSignature": []}]));
    assert_eq!(rest.delete(&format!("/groups/petstore/apis/{}", strict["id"])).await.0, 204);

    rest.create_group("copy").await;
    let (status, preview) = rest.send_raw("/groups/copy/import?dry_run=true", first.to_string()).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!((preview["add"].as_array().expect("add").len(), preview["applied"].as_bool()), (4, Some(false)));
    assert_eq!(rest.get("/groups/copy/apis").await.1["total"], 0, "a dry run changes nothing");
    let (status, report) = rest.send_raw("/groups/copy/import", first.to_string()).await;
    assert_eq!((status, report["applied"].as_bool()), (200, Some(true)), "{report}");
    let (_, second) = rest.get("/groups/copy/openapi?source=draft").await;
    assert_eq!(comparable(first.clone()), comparable(second));

    // Importing again overwrites instead of duplicating; YAML works too.
    let (_, yaml) = rest.send_text(reqwest::Method::GET, "/groups/petstore/openapi?format=yaml", None).await;
    let (status, again) = rest.send_raw("/groups/copy/import?dry_run=true", yaml).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (again["add"].as_array().map(Vec::len), again["overwrite"].as_array().map(Vec::len)),
        (Some(0), Some(4))
    );
}

#[tokio::test]
async fn a_real_world_document_imports_with_its_unsupported_parts_listed() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("readme").await;
    let document = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/readme-openapi.json"))
        .expect("test data");
    let (status, preview) = rest.send_raw("/groups/readme/import?dry_run=true", document.clone()).await;
    assert_eq!(status, 200, "{preview}");
    let added = preview["add"].as_array().expect("add").len();
    let skipped = preview["skip"].as_array().expect("skip").len();
    assert_eq!(added + skipped, 54, "every operation is accounted for: {preview}");
    assert!(added >= 40, "most operations import: {preview}");
    let unsupported: Vec<&str> =
        preview["unsupported"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    assert!(unsupported.iter().any(|u| u.contains("multipart/form-data")), "{unsupported:?}");
    assert!(unsupported.iter().any(|u| u.contains("servers")), "{unsupported:?}");
    let (status, report) = rest.send_raw("/groups/readme/import", document).await;
    assert_eq!(status, 200);
    let (_, apis) = rest.get("/groups/readme/apis?per_page=200").await;
    assert_eq!(apis["total"].as_u64(), Some(report["add"].as_array().expect("add").len() as u64));
    let (status, body) = rest.send_raw("/groups/readme/import", "not: [an openapi".into()).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("document")));
}

#[tokio::test]
async fn an_imported_group_released_with_mock_answers_each_operations_example() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("zoo").await;
    let document = json!({"openapi": "3.1.0", "info": {"title": "Zoo", "version": "1"}, "paths": {
        "/animals": {"post": {"summary": "Add animal", "responses": {"201": {"description": "made",
            "content": {"application/json": {"example": {"id": 7, "name": "Rex"}}}}}}},
        "/ping": {"get": {"summary": "Ping", "responses": {"200": {"description": "ok",
            "content": {"text/plain": {"examples": {"one": {"value": "pong"}}}}}}}},
    }});
    let (status, report) = rest.send_raw("/groups/zoo/import", document.to_string()).await;
    assert_eq!((status, report["applied"].as_bool()), (200, Some(true)), "{report}");
    rest.freeze("zoo", "1").await;
    let (status, body) =
        rest.put("/groups/zoo/deployments/test", json!({"version": "1", "backend": {"type": "mock"}})).await;
    assert_eq!(status, 200, "{body}");
    let made = reqwest::Client::new()
        .post(format!("{}/animals", app.gateway))
        .header("host", "zoo.localhost")
        .header("x-ca-stage", "TEST")
        .send()
        .await
        .expect("gateway");
    assert_eq!(made.status(), 201);
    assert_eq!(made.headers()["content-type"], "application/json");
    assert_eq!(made.json::<Value>().await.expect("json"), json!({"id": 7, "name": "Rex"}));
    let ping = app.call_gateway(reqwest::Method::GET, "zoo.localhost", "TEST", "/ping").await;
    assert_eq!(ping.headers()["content-type"], "text/plain");
    assert_eq!(ping.text().await.expect("text"), "pong");
}

/// Group `hostile`, live in Test on Mock backends, whose APIs are named, pathed, described
/// and defaulted the way an attacker (or an unlucky user) would.
async fn hostile_group(app: &TestApp) -> crate::helpers::RestClient {
    let rest = app.rest().await;
    rest.create_group("hostile").await;
    let mock = json!({"unified": false, "type": "mock", "mock": {"body": "ok"}});
    let apis = [
        // Closes a `/** */` comment and runs code as a class field on `new Client()`.
        json!({"name": "for", "request": {"method": "GET", "path": "/x*/pwned=console.log(1);/*y", "params": [
            {"name": "headers", "in": "query", "default": "a\u{200b}b\"\\'"},
            {"name": "class", "in": "query"}]}, "backend": mock}),
        json!({"name": "class", "description": "*/ \"\"\" <script>alert(1)</script> [x](javascript:alert(1))",
            "request": {"method": "GET", "path": "/with/{default}", "params": [{"name": "default", "in": "path"}]},
            "backend": mock}),
        json!({"name": "x\u{2028}y */ \"\"\" \\N{ ${a} `b`", "request": {"method": "POST", "path": "/send", "params": [
            {"name": "str", "in": "header"}, {"name": "self", "in": "form"}, {"name": "urllib", "in": "query"}]},
            "backend": mock}),
    ];
    for api in apis {
        let (status, body) = rest.post("/groups/hostile/apis", api).await;
        assert_eq!(status, 201, "{body}");
    }
    rest.freeze("hostile", "1").await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/hostile/deployments/test", release).await.0, 200);
    rest
}

// Multi-threaded: the SDKs run as blocking child processes while the server answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdks_of_hostile_names_compile_run_and_run_nothing_else() {
    let app = spawn_app().await;
    let rest = hostile_group(&app).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = app.gateway.clone();

    let (status, python) = text(&app, &rest, "/groups/hostile/sdk/test/python").await;
    assert_eq!(status, 200, "{python}");
    std::fs::write(dir.path().join("hostile_sdk.py"), &python).expect("write");
    let script = format!(
        r#"
import inspect, sys
sys.path.insert(0, {dir:?})
from hostile_sdk import Client
client = Client(base_url={gateway:?}, host="hostile.localhost")
out = []
for name, method in inspect.getmembers(Client, inspect.isfunction):
    if name.startswith("_"):
        continue
    required = [p for p in inspect.signature(method).parameters.values() if p.name != "self" and p.default is inspect.Parameter.empty]
    out.append("%s=%d" % (name, getattr(client, name)(*["v"] * len(required)).status))
print(" ".join(sorted(out)))
"#,
        dir = dir.path().display().to_string(),
    );
    let output = Command::new("python3").arg("-c").arg(script).output().expect("python3");
    assert!(output.status.success(), "{}\n{python}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.trim(), "p_class=200 p_for=200 x_y_n_a_b=200", "{python}");

    let (status, typescript) = text(&app, &rest, "/groups/hostile/sdk/test/typescript").await;
    assert_eq!(status, 200, "{typescript}");
    compile_typescript(dir.path(), &typescript);
    let runner = format!(
        r#"
const http = require('http');
const HOST = 'hostile.localhost';
const logged = [];
console.log = (...args) => logged.push(args.join(' '));
const {{ Client }} = require({sdk:?});
{via_host}
(async () => {{
  const client = new Client({{ baseUrl: {gateway:?}, fetch: viaHost }});
  const names = Object.getOwnPropertyNames(Client.prototype).filter((n) => !['constructor', 'send', 'sign'].includes(n)).sort();
  const out = [];
  for (const name of names) out.push(name + '=' + (await client[name]({{ default: 'v' }})).status);
  process.stdout.write(out.join(' ') + ' logged=' + logged.length + ' fields=' + Object.keys(client).filter((k) => k !== 'options').length + '\n');
}})().catch((e) => {{ process.stderr.write(String(e)); process.exit(1); }});
"#,
        sdk = dir.path().join("sdk.js").display().to_string(),
        via_host = VIA_HOST,
    );
    let output = Command::new("node").arg("-e").arg(runner).output().expect("node");
    assert!(output.status.success(), "{}\n{typescript}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.ends_with("logged=0 fields=0\n"), "generated code ran something: {stdout}\n{typescript}");
    assert_eq!(stdout.matches("=200").count(), 3, "{stdout}");

    // The HTML docs show the hostile text, never render it.
    let (status, html) = text(&app, &rest, "/groups/hostile/docs/test?format=html").await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("javascript:"), "a javascript: link survived: {html}");
}

/// An OpenAPI document of one operation carrying `api` whole in `x-gantry-api`.
fn gantry_document(api: &Value) -> String {
    let path = api["request"]["path"].as_str().expect("path");
    let method = api["request"]["method"].as_str().expect("method").to_ascii_lowercase();
    json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
           "paths": {path: {method: {"x-gantry-api": api}}}})
    .to_string()
}

#[tokio::test]
async fn an_import_shows_what_it_trusts_and_weakens_and_applies_all_or_nothing() {
    let app = spawn_app().await;
    let (rest, _, _) = signed_petstore(&app).await;
    let (_, apis) = rest.get("/groups/petstore/apis").await;
    let pets = apis["items"].as_array().expect("items").iter().find(|a| a["name"] == "Pets").expect("Pets").clone();
    assert_eq!(pets["auth"], "app");
    // The same route, now open to anyone and run by a function.
    let mut open = pets.clone();
    for field in ["id", "updated_at", "updated_by"] {
        open.as_object_mut().expect("object").remove(field);
    }
    open["auth"] = json!("none");
    open["backend"] = json!({"unified": false, "type": "function",
        "function": {"code": "export default function handler(req) { return { status: 200, body: 'mine' }; }"}});
    let (status, preview) = rest.send_raw("/groups/petstore/import?dry_run=true", gantry_document(&open)).await;
    assert_eq!(status, 200, "{preview}");
    let item = &preview["overwrite"][0];
    let details = item["details"].to_string();
    assert!(details.contains("auth: none") && details.contains("backend: function"), "{item}");
    let warnings = item["warnings"].to_string();
    assert!(warnings.contains("drops app authentication") && warnings.contains("replaces the backend"), "{item}");

    // A document with one API whose function does not compile imports nothing.
    let (_, before) = rest.get("/groups/petstore/apis").await;
    let broken = json!({"name": "Broken", "request": {"method": "GET", "path": "/broken"},
        "backend": {"unified": false, "type": "function", "function": {"code": "export default function handler( {"}}});
    let fine = json!({"name": "Fine", "request": {"method": "GET", "path": "/fine"},
        "backend": {"unified": false, "type": "mock", "mock": {"body": "ok"}}});
    let document = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
        "/fine": {"get": {"x-gantry-api": fine}}, "/broken": {"get": {"x-gantry-api": broken}}}});
    let (status, body) = rest.send_raw("/groups/petstore/import", document.to_string()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("GET /broken"), "the error names the API: {body}");
    let (_, after) = rest.get("/groups/petstore/apis").await;
    assert_eq!(before["total"], after["total"], "nothing was imported");
}

#[tokio::test]
async fn a_yaml_alias_bomb_is_refused_at_once_naming_the_limit() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("bomb").await;
    let mut yaml = String::from(
        "openapi: 3.0.0\nl0: &l0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for level in 1..12 {
        yaml.push_str(&format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 9].join(", ")));
    }
    let started = std::time::Instant::now();
    let (status, body) = rest.send_raw("/groups/bomb/import?dry_run=true", yaml).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("document")), "{body}");
    assert!(body.to_string().contains("200000 values"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The server is still there.
    assert_eq!(rest.get("/groups").await.0, 200);
}
