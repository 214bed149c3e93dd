//! The `gantry` binary as a user runs it: help, migrate, first start, restart after
//! `kill -9`, and graceful shutdown on SIGTERM.

use crate::helpers::{browser, location};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const GANTRY: &str = env!("CARGO_BIN_EXE_gantry");

/// A `gantry serve` child process and the addresses it logged.
struct Running {
    child: Child,
    console: String,
    /// The "Gantry is listening" line.
    listening: String,
    lines: mpsc::Receiver<String>,
}

impl Running {
    /// A `name=value` field of the listening line.
    fn field(&self, name: &str) -> Option<String> {
        field(&self.listening, name)
    }
}

/// A `name=value` field of `line`.
fn field(line: &str, name: &str) -> Option<String> {
    Some(line.split(&format!(" {name}=")).nth(1)?.split_whitespace().next()?.to_owned())
}

fn gantry(data_dir: &Path) -> Command {
    let mut command = Command::new(GANTRY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GANTRY_DATA_DIR", data_dir)
        .env("GANTRY_CONSOLE_ADDR", "127.0.0.1:0")
        .env("GANTRY_GATEWAY_ADDR", "127.0.0.1:0")
        .env("GANTRY_GATEWAY_TLS_ADDR", "127.0.0.1:0");
    command
}

fn serve(data_dir: &Path, admin_password: &str) -> Running {
    serve_with(data_dir, admin_password, &[])
}

/// [`serve`] with more settings.
fn serve_with(data_dir: &Path, admin_password: &str, settings: &[(&str, &str)]) -> Running {
    let mut command = gantry(data_dir);
    for (name, value) in settings {
        command.env(name, value);
    }
    let mut child = command
        .env("GANTRY_ADMIN_PASSWORD", admin_password)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start gantry");
    let stdout = child.stdout.take().expect("stdout");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let listening = loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("gantry did not report its addresses");
        if line.contains("Gantry is listening") {
            break line;
        }
    };
    let console = format!("http://{}", field(&listening, "console").expect("console="));
    Running { child, console, listening, lines }
}

/// The status of the REST health check with `token`.
async fn health(console: &str, token: &str) -> u16 {
    let response =
        browser().get(format!("{console}/api/admin/v1/health")).bearer_auth(token).send().await.expect("health");
    response.status().as_u16()
}

async fn login_status(console: &str, password: &str) -> Option<String> {
    let response = browser()
        .post(format!("{console}/auth/login"))
        .form(&[("username", "admin"), ("password", password)])
        .send()
        .await
        .expect("login");
    location(&response)
}

/// The settings table of the README: `(variable, flag)` per row (`None`: no flag).
fn readme_settings() -> Vec<(String, Option<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let variable = cells.get(1)?.strip_prefix("`GANTRY_")?.strip_suffix('`')?;
            let flag = cells.get(2).and_then(|f| f.strip_prefix('`')?.strip_suffix('`')).map(str::to_owned);
            Some((format!("GANTRY_{variable}"), flag))
        })
        .collect()
}

#[test]
fn help_documents_every_setting_of_the_readme_and_no_other() {
    let output = Command::new(GANTRY).arg("--help").output().expect("run --help");
    let help = String::from_utf8_lossy(&output.stdout);
    let settings = readme_settings();
    assert!(settings.len() >= 19, "the README's settings table was not found: {settings:?}");
    for (variable, flag) in &settings {
        assert!(help.contains(variable.as_str()), "--help does not mention {variable}:\n{help}");
        if let Some(flag) = flag {
            assert!(help.contains(flag.as_str()), "--help does not list {flag} ({variable}):\n{help}");
        }
    }
    // And every variable --help names is in the README's table.
    for word in help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("GANTRY_") {
            assert!(settings.iter().any(|(v, _)| v == word), "{word} is in --help but not in the README's table");
        }
    }
    for command in ["serve", "migrate", "admin", "token"] {
        assert!(help.contains(command), "--help does not list `{command}`:\n{help}");
    }
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = gantry(dir.path()).arg("migrate").output().expect("run migrate");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("gantry.db").exists());
}

#[tokio::test]
async fn kill_9_and_restart_lose_nothing_and_keep_the_admin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut first = serve(dir.path(), "first-password");
    assert_eq!(login_status(&first.console, "first-password").await.as_deref(), Some("/groups"));

    // A token made by the CLI while the server runs (a second process on the same store).
    let output = gantry(dir.path()).args(["token", "create", "--name", "ci"]).output().expect("token create");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(token.starts_with("gty_"), "{token}");

    first.child.kill().expect("kill -9");
    first.child.wait().expect("reap");

    let mut second = serve(dir.path(), "second-password");
    assert_eq!(login_status(&second.console, "first-password").await.as_deref(), Some("/groups"));
    assert_eq!(
        login_status(&second.console, "second-password").await.as_deref(),
        Some("/login?error=1&username=admin")
    );
    assert_eq!(health(&second.console, &token).await, 200);

    // `token list` shows it (never the token), `token revoke` stops it at once.
    let output = gantry(dir.path()).args(["token", "list"]).output().expect("token list");
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success() && listed.contains(" ci ") && !listed.contains("gty_"), "{listed}");
    let id = listed.lines().nth(1).and_then(|l| l.split_whitespace().next()).expect("an id").to_owned();
    let output = gantry(dir.path()).args(["token", "revoke", "--id", &id]).output().expect("token revoke");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(health(&second.console, &token).await, 401, "a revoked token is refused");
    second.child.kill().expect("kill");
    second.child.wait().expect("reap");
}

#[tokio::test]
async fn one_worker_thread_serves_the_console_and_the_gateway_on_the_current_thread_scheduler() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut running = serve_with(dir.path(), "one-thread-password", &[("GANTRY_WORKER_THREADS", "1")]);
    let line = &running.listening;
    assert_eq!(running.field("scheduler").as_deref(), Some("current-thread"), "{line}");
    assert_eq!(running.field("workers").as_deref(), Some("1"), "{line}");
    assert_eq!(login_status(&running.console, "one-thread-password").await.as_deref(), Some("/groups"));
    // The gateway answers on the same thread: a host no group has is its 404, not a stall.
    let gateway = running.field("gateway").expect("gateway=");
    let response = reqwest::Client::new()
        .get(format!("http://{gateway}/anything"))
        .header("host", "nobody.localhost")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("gateway request");
    assert_eq!(response.status().as_u16(), 404);
    assert!(response.headers().contains_key("x-ca-request-id"));
    running.child.kill().expect("kill");
    running.child.wait().expect("reap");

    // Zero threads is refused, naming the setting.
    let output = gantry(dir.path()).env("GANTRY_WORKER_THREADS", "0").output().expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("--worker-threads"), "{stderr}");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut running = serve(dir.path(), "some-password");
    let status = Command::new("kill").args(["-TERM", &running.child.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success());
    let mut stopped = false;
    while let Ok(line) = running.lines.recv_timeout(Duration::from_secs(30)) {
        stopped |= line.contains("stopped");
    }
    let exit = running.child.wait().expect("wait");
    assert!(exit.success(), "exit status {exit}");
    assert!(stopped, "no `stopped` log line");
}

#[test]
fn admin_reset_password_changes_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created =
        gantry(dir.path()).args(["admin", "create", "--username", "ops", "--password", "ops-password"]).output();
    assert!(created.expect("admin create").status.success());
    let reset = gantry(dir.path()).args(["admin", "reset-password", "--username", "ops"]).output().expect("reset");
    assert!(reset.status.success());
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(stdout.contains("password: "), "{stdout}");
    let short =
        gantry(dir.path()).args(["admin", "reset-password", "--username", "ops", "--password", "short"]).output();
    let short = short.expect("reset");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"), "the error names the field");
}
