//! A server on a fresh database, on a loopback port, with helpers that speak the sync
//! protocol the way a register does.

#![allow(dead_code)]

pub mod shop;
pub mod smtp;

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::Value;
use shared_model::catalogue::LocationInfo;
use shared_model::protocol::{Change, Cursor, Message, PullRequest, PullResponse, PushBatch, PushResponse};
use shared_model::{LocationCode, LocationKind, Record, RegisterId};
use sqlx::Row;
use sync_server::clock::Clock;
use sync_server::db::Db;
use sync_server::identity::{self, Role};
use sync_server::{AppState, Settings, catalogue, router};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("CAISSE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database for one test: a file in a temporary folder, or a PostgreSQL database of its own.
pub struct TestDb {
    pub url: String,
    pub engine: Engine,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}/server.db", dir.path().display());
                TestDb { url, engine, _dir: Some(dir), pg_name: None }
            }
            Engine::Postgres => {
                let name = format!("caisse_t_{}", uuid::Uuid::now_v7().simple());
                admin_execute(&format!("CREATE DATABASE {name}")).await;
                let base = postgres_admin_url();
                let (root, _) = base.rsplit_once('/').expect("a database URL");
                TestDb { url: format!("{root}/{name}"), engine, _dir: None, pg_name: Some(name) }
            }
        }
    }

    pub async fn drop_database(&self) {
        if let Some(name) = &self.pg_name {
            admin_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

async fn admin_execute(sql: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&postgres_admin_url())
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (set CAISSE_TEST_POSTGRES to use another)");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.expect(sql);
}

pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub db: Db,
    pub http: reqwest::Client,
    pub test_db: TestDb,
    pub admin: String,
    /// What the handlers share (the password slots, to look at in tests).
    pub state: AppState,
    /// The server's clock, which the test moves to end a lease, a lockout or an expiry.
    pub clock: Clock,
    server: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(engine: Engine) -> TestServer {
        Self::start_with(engine, Settings::default()).await
    }

    /// A server with the test chain: stores S1 to S4, the logistics centre LOG, the test
    /// catalogue, no opening stock, and an admin user.
    pub async fn start_with(engine: Engine, settings: Settings) -> TestServer {
        let test_db = TestDb::new(engine).await;
        let clock = Clock::manual();
        let db = Db::connect(&test_db.url, 8).await.expect("the test database").with_clock(clock.clone());
        let mut tx = db.begin().await.expect("a transaction");
        for (code, kind) in [
            ("S1", LocationKind::Store),
            ("S2", LocationKind::Store),
            ("S3", LocationKind::Store),
            ("S4", LocationKind::Store),
            ("LOG", LocationKind::Logistics),
        ] {
            let info = LocationInfo {
                code: LocationCode::parse(code).unwrap(),
                kind,
                name: code.into(),
                address: "Montréal".into(),
            };
            catalogue::save_location(&mut tx, &info).await.unwrap();
        }
        for product in shared_model::testing::catalogue() {
            catalogue::write_product(&mut tx, &product).await.unwrap();
        }
        tx.commit().await.unwrap();
        identity::create_user(&db, "admin", ADMIN_PASSWORD, Role::Admin).await.unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(db.clone(), settings);
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            let limits = sync_server::listener::Limits::default();
            sync_server::listener::serve(listener, app, None, limits, std::future::pending()).await.unwrap();
        });
        let http = reqwest::Client::new();
        let base = format!("http://{addr}");
        let admin = login(&http, &base, "admin", ADMIN_PASSWORD).await;
        TestServer { base, addr, db, http, test_db, admin, state, clock, server }
    }

    pub async fn finish(self) {
        self.server.abort();
        self.db.close().await;
        self.test_db.drop_database().await;
    }

    /// Adds and enrols a register; returns its device secret.
    pub async fn enrol(&self, register: &RegisterId) -> String {
        identity::add_register(&self.db, register).await.unwrap();
        let code = identity::issue_enrolment_code(&self.db, register).await.unwrap();
        let response = self
            .http
            .post(format!("{}/api/registers/enrol", self.base))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["register"], register.as_str());
        body["secret"].as_str().unwrap().to_owned()
    }

    pub async fn push_raw(&self, secret: &str, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}/api/sync/push", self.base))
            .bearer_auth(secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Pushes records as a register does; panics unless the server answers 200.
    pub async fn push(&self, secret: &str, records: &[Record]) -> PushResponse {
        let response = self.push_raw(secret, batch_of(records)).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        PushResponse::decode(text.as_bytes()).unwrap()
    }

    pub async fn pull(&self, secret: &str, cursor: Cursor) -> PullResponse {
        let body = PullRequest { cursor, limit: 1_000 }.encode();
        let response = self
            .http
            .post(format!("{}/api/sync/pull", self.base))
            .bearer_auth(secret)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        PullResponse::decode(&response.bytes().await.unwrap()).unwrap()
    }

    /// Every change after `cursor`, following `more`; and the last cursor.
    pub async fn pull_all(&self, secret: &str, mut cursor: Cursor) -> (Vec<Change>, Cursor) {
        let mut changes = Vec::new();
        loop {
            let page = self.pull(secret, cursor).await;
            changes.extend(page.changes);
            cursor = page.next;
            if !page.more {
                return (changes, cursor);
            }
        }
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.admin).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// GETs `path` with no credentials (the OpenAPI document, the shop's catalogue) as JSON;
    /// panics unless the server answers 200.
    pub async fn get_public_json(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Puts `units` of `sku` on the shelf at `location` (an opening count), published to the feed.
    pub async fn seed_stock(&self, location: &str, sku: &str, units: i64) {
        let mut tx = self.db.begin().await.unwrap();
        let moves = [sync_server::inventory::Move {
            location: LocationCode::parse(location).unwrap(),
            sku: shared_model::Sku::parse(sku).unwrap(),
            delta: units,
            kind: "opening",
            record_id: None,
        }];
        let entries = sync_server::inventory::apply(&mut tx, &moves).await.unwrap();
        sync_server::feed::publish(&mut tx, entries).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
            .fetch_one(self.db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }

    /// Everything the ledger holds, to compare before and after something that must change nothing.
    pub async fn snapshot(&self) -> Value {
        let stock = self.get_json("/api/stock").await;
        let report = self.get_json("/api/reports/sales?from=2000-01-01&to=2100-01-01&top=1000").await;
        let ledger = sync_server::sales::ledger_by_store(&self.db).await.unwrap();
        let alerts = self.get_json("/api/alerts?open=false").await;
        serde_json::json!({
            "records": self.count("records").await,
            "movements": self.count("stock_movements").await,
            "sales": self.count("sales").await,
            "returns": self.count("returns").await,
            "stock": stock.as_array().unwrap().iter().map(|l| (l["location"].clone(), l["sku"].clone(), l["quantity"].clone())).collect::<Vec<_>>(),
            "report": report,
            "ledger": serde_json::to_value(ledger).unwrap(),
            "alerts": alerts.as_array().unwrap().len(),
        })
    }
}

pub async fn login(http: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

pub fn batch_of(records: &[Record]) -> String {
    let raw = records.iter().map(|r| serde_json::value::RawValue::from_string(r.encode()).unwrap()).collect();
    PushBatch { records: raw }.encode()
}

/// Asserts an RFC 9457 problem with this status, and returns its body.
pub async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

/// Runs each scenario once on SQLite and once on PostgreSQL, as `sqlite::NAME` and
/// `postgres::NAME`: `on_both_engines!(a, b)` on a two-worker runtime;
/// `on_both_engines!(worker_threads = 4; a, b)` on a bigger one (for scenarios that race
/// writers); `on_both_engines!(blocking; a)` for scenarios that run their own runtime (a
/// proptest), called as plain functions.
#[macro_export]
macro_rules! on_both_engines {
    (blocking; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::common::Engine::Sqlite)
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::common::Engine::Postgres)
                }
            )*
        }
    };
    (worker_threads = $threads:literal; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    super::$name($crate::common::Engine::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $name() {
                    super::$name($crate::common::Engine::Postgres).await
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        $crate::on_both_engines!(worker_threads = 2; $($name),*);
    };
}

/// The value at `path` (object keys, or array indices written as numbers) of a JSON value.
pub fn at_path<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |v, key| match v {
        Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        other => &mut other[key.as_str()],
    })
}
