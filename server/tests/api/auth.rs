//! Logging in and out of the console, and what an anonymous visitor may see.

use crate::helpers::{browser, location, spawn_app, ADMIN_PASSWORD};
use leptos::server_fn::ServerFn;

#[tokio::test]
async fn a_page_without_login_redirects_to_the_login_page() {
    let app = spawn_app().await;
    let response = app.get("/groups").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response).as_deref(), Some("/login"));
    let login = app.get("/login").await;
    assert_eq!(login.status(), 200);
    assert!(login.text().await.expect("body").contains("Log in to the console"));
}

#[tokio::test]
async fn the_right_password_lands_on_api_groups() {
    let app = spawn_app().await;
    let response = app.post_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response).as_deref(), Some("/groups"));
    let cookie = response.headers().get("set-cookie").expect("session cookie").to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");

    let page = app.get("/groups").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(html.contains("<h1>API Groups</h1>"), "{html}");
    assert!(html.contains(r#"<span class="username">admin</span>"#), "{html}");
}

#[tokio::test]
async fn a_wrong_password_or_user_goes_back_to_login_with_the_same_message() {
    let app = spawn_app().await;
    for (user, password) in [("admin", "not-the-password"), ("nobody", ADMIN_PASSWORD)] {
        let response = app.post_login(user, password).await;
        // The same message for both; the username is kept in the form.
        assert_eq!(location(&response), Some(format!("/login?error=1&username={user}")));
        assert_eq!(location(&app.get("/groups").await).as_deref(), Some("/login"));
    }
    let page = app.get("/login?error=1").await.text().await.expect("body");
    assert!(page.contains("Invalid username or password."));
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    assert_eq!(app.get("/groups").await.status(), 200);
    let response = app.client.post(app.url("/auth/logout")).send().await.expect("logout");
    assert_eq!(location(&response).as_deref(), Some("/login"));
    assert_eq!(location(&app.get("/groups").await).as_deref(), Some("/login"));
}

#[tokio::test]
async fn a_logged_in_user_visiting_login_goes_to_api_groups() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    assert_eq!(location(&app.get("/login").await).as_deref(), Some("/groups"));
}

#[tokio::test]
async fn server_functions_need_a_session() {
    let app = spawn_app().await;
    let path = app::api::ListGroups::PATH;
    let anonymous = browser().post(app.url(path)).send().await.expect("request");
    assert_eq!(anonymous.status(), 401);

    app.login_as_admin().await;
    let logged_in = app.client.post(app.url(path)).send().await.expect("request");
    assert_eq!(logged_in.status(), 200);
    assert_eq!(logged_in.text().await.expect("body"), "[]");
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = crate::helpers::spawn_app_on(dir.path(), ADMIN_PASSWORD).await;
    first.login_as_admin().await;
    let client = first.client.clone();
    let url = first.console.clone();
    first.stop().await;

    let second = crate::helpers::spawn_app_on(dir.path(), ADMIN_PASSWORD).await;
    // Same cookie jar, new port: the cookie is scoped to the host, not the port.
    let page = client.get(format!("{}/groups", second.console)).send().await.expect("request");
    assert_eq!(page.status(), 200, "session from {url} should still be valid");
}

// Multi-threaded: 30 logins really arrive at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_logins_are_refused_with_429_and_retry_after() {
    let app = spawn_app().await;
    let url = app.url("/auth/login");
    let attempts: Vec<_> = (0..30)
        .map(|i| {
            let url = url.clone();
            // Spellings of one user are one budget.
            let username = if i % 2 == 0 { "admin" } else { " Admin " };
            tokio::spawn(async move {
                let client =
                    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
                let response = client
                    .post(url)
                    .form(&[("username", username), ("password", "wrong")])
                    .send()
                    .await
                    .expect("login");
                let retry = response.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_owned());
                (response.status().as_u16(), retry, response.text().await.expect("body"))
            })
        })
        .collect();
    let (mut refused, mut longest) = (0, 0);
    for attempt in attempts {
        let (status, retry, body) = attempt.await.expect("task");
        match status {
            303 => {}
            429 => {
                refused += 1;
                let seconds: u64 = retry.expect("Retry-After").parse().expect("seconds");
                assert!((1..=8).contains(&seconds), "{seconds}");
                assert!(body.contains("Try again in"), "{body}");
                longest = longest.max(seconds);
            }
            other => panic!("a login answered {other}: {body}"),
        }
    }
    // Three are free; a slow machine may admit one or two more as the first waits pass.
    assert!(refused >= 20, "only {refused} of 30 parallel wrong logins were refused");
    // After the wait it was told, the right password gets in.
    tokio::time::sleep(std::time::Duration::from_secs(longest)).await;
    let response = app.post_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(location(&response), Some("/groups".to_owned()), "{}", response.status());
}

#[tokio::test]
async fn a_cross_site_write_with_the_session_cookie_is_refused() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let url = app.url("/api/admin/v1/groups");
    let group = |name: &str| serde_json::json!({"name": name, "subdomain": name});
    for (header, value) in [
        ("origin", "http://evil.localhost:9999".to_owned()),
        ("origin", format!("http://shop.{}", app.console.trim_start_matches("http://"))),
        ("sec-fetch-site", "same-site".to_owned()),
    ] {
        let response =
            app.client.post(&url).header(header, value.as_str()).json(&group("evil")).send().await.expect("send");
        assert_eq!(response.status(), 403, "{header}: {value}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["code"], "Forbidden");
    }
    // A cross-site logout (a form post) is refused too.
    let response = app
        .client
        .post(app.url("/auth/logout"))
        .header("origin", "http://evil.localhost:9999")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 403);
    // The console's own page may.
    let response = app
        .client
        .post(&url)
        .header("origin", app.console.as_str())
        .header("sec-fetch-site", "same-origin")
        .json(&group("mine"))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
}

#[tokio::test]
async fn a_password_reset_ends_the_users_sessions() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let groups = app.url("/api/admin/v1/groups");
    assert_eq!(app.client.get(&groups).send().await.expect("get").status(), 200);
    let password = control::users::NewPassword::parse("a-new-password-1").expect("password");
    app.control.reset_password("admin", password).await.expect("reset");
    assert_eq!(app.client.get(&groups).send().await.expect("get").status(), 401, "the old session still works");
    assert_eq!(location(&app.get("/groups").await), Some("/login".to_owned()));
    // A new login with the new password works.
    let response = app.post_login("admin", "a-new-password-1").await;
    assert_eq!(location(&response), Some("/groups".to_owned()));
    assert_eq!(app.client.get(&groups).send().await.expect("get").status(), 200);
}

#[tokio::test]
async fn tokens_are_listed_created_with_an_expiry_and_revoked_over_rest() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let (status, created) = rest.post("/tokens", serde_json::json!({"name": "deploy", "expires_in_days": 30})).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().expect("shown once").to_owned();
    assert!(created["expires_at"].is_string());
    let (status, body) = rest.post("/tokens", serde_json::json!({"name": "x", "expires_in_days": 0})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("expires_in_days")), "{body}");

    // The new token works; the list never shows a token.
    let with =
        |token: &str| reqwest::Client::new().get(app.url("/api/admin/v1/groups")).bearer_auth(token.to_owned()).send();
    assert_eq!(with(&token).await.expect("send").status(), 200);
    let (status, list) = rest.get("/tokens").await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains("gty_"), "{list}");
    let listed = list.as_array().expect("list").iter().find(|t| t["name"] == "deploy").expect("listed").clone();
    assert!(listed["last_used_at"].is_string(), "{listed}");

    // Revoked: refused at once.
    let id = listed["id"].as_i64().expect("id");
    assert_eq!(rest.delete(&format!("/tokens/{id}")).await.0, 204);
    assert_eq!(with(&token).await.expect("send").status(), 401);
    assert_eq!(rest.delete(&format!("/tokens/{id}")).await.0, 404);
}
