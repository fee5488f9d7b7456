//! The real `sync-server` binary: it starts with nothing configured, loads the demo chain once,
//! prints the logins, answers on its port, and stops cleanly on SIGTERM, even with a page's
//! event stream open.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn start(dir: &std::path::Path, port: u16) -> (std::process::Child, Vec<String>) {
    start_logging(dir, port, &[], Stdio::null())
}

/// [`start`] with more arguments, and its log going to `log`.
fn start_logging(
    dir: &std::path::Path,
    port: u16,
    args: &[&str],
    log: impl Into<Stdio>,
) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CAISSE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the server starts");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).expect("a line") == 0 {
            panic!("the server stopped before listening: {lines:?}");
        }
        let listening = line.contains("listening on");
        lines.push(line.trim_end().to_owned());
        if listening {
            break;
        }
    }
    (child, lines)
}

/// Signs in as the admin whose password the server printed on its first start; answers the token.
async fn admin_token(http: &reqwest::Client, base: &str, lines: &[String]) -> String {
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Head office: user admin, password "))
        .and_then(|p| p.split_whitespace().next())
        .expect("the admin login");
    let session: serde_json::Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().expect("a token").to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn stop(child: &mut std::process::Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the server did not stop on SIGTERM");
}

#[tokio::test]
async fn runs_with_nothing_configured_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = start(dir.path(), port);
    assert!(
        lines.iter().any(|l| l.starts_with("Loaded the demo chain: 8 locations, 36 products, 10 cashiers")),
        "{lines:?}"
    );
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Head office: user admin, password "))
        .expect("the admin login");
    let password = password.split_whitespace().next().unwrap().to_owned();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains('-') && l.trim_start().starts_with(['V', 'P', 'Q', 'M', 'W']))
            .count(),
        12,
        "{lines:?}"
    );
    assert!(dir.path().join("data/caisse-server.db").exists());

    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert!(http.get(format!("{base}/health")).send().await.unwrap().status().is_success());
    let login = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": "admin", "password": password }))
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success());
    // A head-office page left open holds an event stream that never ends on its own: SIGTERM
    // still stops the server (it ends the streams), rather than waiting on the page.
    let token: serde_json::Value = login.json().await.unwrap();
    let events = http
        .get(format!("{base}/api/events"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    assert!(stop(&mut child).success());
    drop(events);

    // A second start keeps the data and prints codes only for registers not yet enrolled.
    let (mut child, lines) = start(dir.path(), port);
    assert!(
        lines.iter().any(|l| l == "Demo chain already loaded in sqlite://data/caisse-server.db."),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("Head office: user admin")));
    assert!(stop(&mut child).success());
}

fn tool(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CAISSE_LOG", "warn")
        .output()
        .expect("the tool runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn audit_verify_and_replay_claims_run_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = start(dir.path(), port);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let token = &admin_token(&http, &base, &lines).await;
    for name in ["anne", "bruno"] {
        let created = http
            .post(format!("{base}/api/users"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "username": name, "role": "manager", "password": "a long enough password" }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    }
    assert!(stop(&mut child).success());

    let (holds, out) = tool(dir.path(), &["audit", "verify"]);
    assert!(holds, "{out}");
    assert!(out.starts_with("The audit trail holds: 2 entries"), "{out}");
    let (replayed, out) = tool(dir.path(), &["replay", "claims"]);
    assert!(replayed, "{out}");
    assert!(out.starts_with("Replayed 0 claim events"), "{out}");

    // The key was made beside the database, readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::metadata(dir.path().join("data/caisse-server.db.audit-key")).unwrap();
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }
    // Someone edits the first entry behind the server's back (dropping the trigger that stops it).
    let url = format!("sqlite://{}", dir.path().join("data/caisse-server.db").display());
    let db = sync_server::Db::connect(&url, 1).await.unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(db.pool()).await.unwrap();
    sqlx::query("UPDATE audit_log SET after_state = '{}' WHERE seq = 1").execute(db.pool()).await.unwrap();
    db.close().await;
    let (holds, out) = tool(dir.path(), &["audit", "verify"]);
    assert!(!holds, "a broken chain exits non-zero: {out}");
    assert!(out.contains("broken at entry 1") && out.contains("edited"), "{out}");
}

/// With `--log-json` every line of the log is a JSON object, and a line written while serving
/// a request carries that request's id (the one the client sent, or the one head office made).
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (mut child, lines) = start_logging(dir.path(), port, &["--log-json"], log);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let token = admin_token(&http, &base, &lines).await;
    let created = http
        .post(format!("{base}/api/api-keys"))
        .bearer_auth(&token)
        .header("X-Request-Id", "req-json-log-42")
        .json(&serde_json::json!({ "name": "BI tool", "scopes": ["reports_read"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["x-request-id"], "req-json-log-42");
    assert!(stop(&mut child).success());
    let text = std::fs::read_to_string(&log_path).unwrap();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let created = entries
        .iter()
        .find(|e| e["fields"]["message"] == "API key created")
        .unwrap_or_else(|| panic!("no line says the key was made: {text}"));
    assert_eq!(created["span"]["request_id"], "req-json-log-42", "{created}");
}
