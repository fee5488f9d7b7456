//! A sync server for register tests, in a runtime of its own, that a test can stop and start
//! again on the same port and database.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::mpsc;

use shared_model::RegisterId;
use sqlx::Row;
use sync_server::db::Db;
use sync_server::{AppState, Settings, demo, identity, router};

/// A sync server in a runtime of its own, which the test can stop and start again on the same
/// port and database.
pub struct Server {
    pub runtime: tokio::runtime::Runtime,
    pub db: Db,
    addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> (Server, Vec<(u32, String, String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let url = format!("sqlite://{}/server.db", dir.path().display());
        let (db, cashiers) = runtime.block_on(async {
            let db = Db::connect(&url, 4).await.unwrap();
            let loaded = demo::load(&db).await.unwrap();
            (db, loaded.cashiers)
        });
        let addr = runtime.block_on(async {
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
        });
        let mut server = Server { runtime, db, addr, task: None, _dir: dir };
        server.up();
        (server, cashiers)
    }

    pub fn up(&mut self) {
        let (ready, wait) = mpsc::channel();
        let (db, addr) = (self.db.clone(), self.addr);
        self.task = Some(self.runtime.spawn(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            ready.send(()).unwrap();
            axum::serve(listener, router(AppState::new(db, Settings::default()))).await.unwrap();
        }));
        wait.recv().unwrap();
    }

    pub fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = self.runtime.block_on(task);
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn code_for(&self, register: &str) -> String {
        let id = RegisterId::parse(register).unwrap();
        self.runtime.block_on(identity::issue_enrolment_code(&self.db, &id)).unwrap()
    }

    pub fn sales_at(&self, store: &str) -> (i64, i64) {
        self.runtime.block_on(async {
            let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(total), 0) AS BIGINT) AS t FROM sales WHERE store = $1")
                .bind(store)
                .fetch_one(self.db.pool())
                .await
                .unwrap();
            (row.try_get("n").unwrap(), row.try_get("t").unwrap())
        })
    }
}
