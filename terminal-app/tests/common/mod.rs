//! A sync server for register tests, in a runtime of its own, that a test can stop and start
//! again on the same port and database; over plain HTTP, or HTTPS with a certificate from a
//! certificate authority the test makes, as a chain running its own CA would.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use shared_model::RegisterId;
use sqlx::Row;
use sync_server::db::Db;
use sync_server::listener::{Limits, Tls};
use sync_server::{AppState, Settings, demo, identity, router};

/// A sync server in a runtime of its own, which the test can stop and start again on the same
/// port and database.
pub struct Server {
    pub runtime: tokio::runtime::Runtime,
    pub db: Db,
    addr: SocketAddr,
    tls: Option<(Tls, String)>,
    task: Option<(tokio::task::JoinHandle<()>, tokio::sync::oneshot::Sender<()>)>,
    _dir: tempfile::TempDir,
}

/// A certificate authority and a server certificate it signed for `127.0.0.1` and `localhost`:
/// the CA's certificate, the server's chain and its key, in PEM.
pub fn certificates() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Caisse test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "head office");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &*ca).unwrap();
    (ca.pem(), format!("{}{}", cert.pem(), ca.pem()), key.serialize_pem())
}

impl Server {
    /// Head office over plain HTTP.
    pub fn start() -> (Server, Vec<(u32, String, String, String)>) {
        Server::start_with(None)
    }

    /// Head office over HTTPS, with a certificate from a CA of the test's own: see
    /// [`Server::ca_pem`].
    pub fn start_tls() -> (Server, Vec<(u32, String, String, String)>) {
        let (ca, chain, key) = certificates();
        let tls = Tls::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
        Server::start_with(Some((tls, ca)))
    }

    fn start_with(tls: Option<(Tls, String)>) -> (Server, Vec<(u32, String, String, String)>) {
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
        let mut server = Server { runtime, db, addr, tls, task: None, _dir: dir };
        server.up();
        (server, cashiers)
    }

    pub fn up(&mut self) {
        let (ready, wait) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (db, addr) = (self.db.clone(), self.addr);
        let tls = self.tls.as_ref().map(|(tls, _)| tls.clone());
        let task = self.runtime.spawn(async move {
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            ready.send(()).unwrap();
            let app = router(AppState::new(db, Settings::default()));
            let shutdown = async move {
                let _ = stopped.await;
            };
            sync_server::listener::serve(listener, app, tls, Limits::default(), shutdown).await.unwrap();
        });
        self.task = Some((task, stop));
        wait.recv().unwrap();
    }

    pub fn down(&mut self) {
        if let Some((mut task, stop)) = self.task.take() {
            let _ = stop.send(());
            // Requests under way finish; a connection that lingers is cut.
            let finished = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), &mut task).await });
            if finished.is_err() {
                task.abort();
                let _ = self.runtime.block_on(task);
            }
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The certificate of the CA that signed this server's certificate, in PEM.
    pub fn ca_pem(&self) -> &str {
        &self.tls.as_ref().expect("an HTTPS server").1
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
