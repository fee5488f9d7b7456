//! Helpers for Caisse's end-to-end tests: the built binaries, and a TCP proxy that injects the
//! faults of a store's network between registers and head office.

#![forbid(unsafe_code)]

pub mod browser;
pub mod shop;
pub mod till;
pub mod window;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where cargo put this workspace's binaries (`target/debug` next to this test's executable).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/debug");
    let path = dir.join(name);
    assert!(path.exists(), "{} is not built: run `cargo build --workspace --bins` first", path.display());
    path
}

/// The head-office admin password the tests start the server with.
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// Signs in to head office's API as `username`; answers the bearer token.
pub async fn sign_in(http: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("head office answers");
    assert!(response.status().is_success(), "signing in as {username}: {}", response.status());
    let session: serde_json::Value = response.json().await.expect("a session");
    session["token"].as_str().expect("a token").to_owned()
}

/// A port free on loopback now (the server binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port()
}

/// Head office as a real process: the built `sync-server` on loopback, with the demo chain.
#[derive(Debug)]
pub struct HeadOffice {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub database_url: String,
    /// Cashier number and PIN for each store, from the demo's first start.
    pub cashiers: BTreeMap<String, (u32, String)>,
    pub codes: BTreeMap<String, String>,
    /// Settings given as environment variables, kept for restarts.
    pub env: Vec<(String, String)>,
}

impl HeadOffice {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the server in `dir` on `port` and reads the demo's cashiers and codes.
    pub fn start(dir: &Path, database_url: &str, port: u16) -> HeadOffice {
        Self::start_with(dir, database_url, port, &[])
    }

    /// [`HeadOffice::start`] with settings in environment variables (`CAISSE_PAYMENT_URL`…).
    pub fn start_with(dir: &Path, database_url: &str, port: u16, env: &[(&str, &str)]) -> HeadOffice {
        let env: Vec<(String, String)> =
            env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let (child, lines) = spawn_server(dir, database_url, port, &env);
        let (cashiers, codes) = demo_credentials(&lines);
        HeadOffice {
            child,
            port,
            dir: dir.to_owned(),
            database_url: database_url.to_owned(),
            cashiers,
            codes,
            env,
        }
    }

    /// SIGKILL: no graceful shutdown, as a power cut.
    pub fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful anything
        let _ = self.child.wait();
    }

    pub fn restart(&mut self) {
        self.child = spawn_server(&self.dir, &self.database_url, self.port, &self.env).0;
    }
}

/// A test that fails midway still stops its head office.
impl Drop for HeadOffice {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The demo's first cashier of each store (number, PIN) and the registers' enrolment codes,
/// from what the server printed on its first start.
pub fn demo_credentials(lines: &[String]) -> (BTreeMap<String, (u32, String)>, BTreeMap<String, String>) {
    let mut cashiers = BTreeMap::new();
    let mut codes = BTreeMap::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 4 && words[0].parse::<u32>().is_ok() {
            let (store, pin) = (words[words.len() - 2], words[words.len() - 1]);
            cashiers.entry(store.to_owned()).or_insert((words[0].parse().unwrap_or(0), pin.to_owned()));
        }
        if words.len() == 2 && words[0].contains('-') && words[1].len() == 9 {
            codes.insert(words[0].to_owned(), words[1].to_owned());
        }
    }
    assert_eq!(codes.len(), 12, "{lines:?}");
    (cashiers, codes)
}

fn spawn_server(dir: &Path, database_url: &str, port: u16, env: &[(String, String)]) -> (Child, Vec<String>) {
    let mut child = Command::new(binary("sync-server"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // Every shopper and register of a test comes from loopback, one address: its sign-in
        // limit would stop a test of something else (a test of the limit sets its own).
        .env("CAISSE_SIGN_INS_PER_MINUTE", "10000")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("DATABASE_URL", database_url)
        .env("CAISSE_LOG", "warn")
        .env("CAISSE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).expect("a line") > 0, "the server stopped: {lines:?}");
        let done = line.contains("listening on");
        lines.push(line.trim_end().to_owned());
        if done {
            break;
        }
    }
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    (child, lines)
}

/// A PostgreSQL database of a test's own, made fresh from `CAISSE_TEST_POSTGRES`'s server and
/// dropped when the test ends (passing or not).
#[derive(Debug)]
pub struct ScratchPostgres {
    pub url: String,
    admin: String,
    name: String,
}

impl ScratchPostgres {
    pub fn new(prefix: &str) -> ScratchPostgres {
        let admin = std::env::var("CAISSE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let (root, _) = admin.rsplit_once('/').expect("a database URL");
        let name = format!("caisse_t_{prefix}_{}", std::process::id());
        let scratch = ScratchPostgres { url: format!("{root}/{name}"), admin, name };
        scratch.psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", scratch.name));
        scratch.psql(&format!("CREATE DATABASE {}", scratch.name));
        scratch
    }

    fn psql(&self, sql: &str) {
        let status = Command::new("psql").arg(&self.admin).args(["-qc", sql]).status().expect("psql");
        assert!(status.success(), "{sql}");
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        self.psql(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// Runs the register's CLI on the till in `dir` with `args` (and settings in `env`): whether it
/// succeeded, and what it printed on both streams.
pub fn register_cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (bool, String) {
    let output = Command::new(binary("caisse-register"))
        .arg("--data-dir")
        .arg(dir)
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("the CLI runs");
    (
        output.status.success(),
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    )
}

/// The local card processor as a process of its own (it outlives head office's kills).
#[derive(Debug)]
pub struct Processor {
    pub child: Child,
    pub url: String,
}

impl Processor {
    /// Starts `caisse-processor` on a free loopback port; a hanging card's answer is held `hang_seconds`.
    pub fn start(hang_seconds: u64) -> Processor {
        let mut child = Command::new(binary("caisse-processor"))
            .args(["--listen", "127.0.0.1:0", "--hang-seconds", &hang_seconds.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the processor starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        out.read_line(&mut line).expect("a line");
        let url = line.trim().strip_prefix("listening on ").expect("the processor's address").to_owned();
        std::thread::spawn(move || for _ in out.lines() {});
        Processor { child, url }
    }
}

impl Drop for Processor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the proxy does to the connections it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Everything goes through.
    Clean = 0,
    /// The store's link is down: connections are refused at once.
    Down = 1,
    /// Connections are dropped, delayed, duplicated or cut in the middle of the answer.
    Faulty = 2,
}

/// A TCP proxy in front of head office, with a switchable fault mode.
#[derive(Debug)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
    injected: Arc<Injected>,
    runtime: tokio::runtime::Runtime,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let mode = Arc::new(AtomicU8::new(Mode::Clean as u8));
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("a port");
        let addr = listener.local_addr().expect("an address");
        let shared = mode.clone();
        let injected = Arc::new(Injected::default());
        let counts = injected.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = shared.load(Ordering::SeqCst);
                tokio::spawn(carry(client, upstream, mode, counts.clone()));
            }
        });
        FaultProxy { addr, mode, injected, runtime }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    /// Faults injected so far: refused, delayed, duplicated, cut.
    pub fn injected(&self) -> [u64; 4] {
        let i = &self.injected;
        [&i.refused, &i.delayed, &i.duplicated, &i.cut].map(|c| c.load(Ordering::SeqCst))
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// How many of each fault the proxy injected.
#[derive(Debug, Default)]
pub struct Injected {
    pub refused: AtomicU64,
    pub delayed: AtomicU64,
    pub duplicated: AtomicU64,
    pub cut: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    Refuse,
    Delay(u64),
    Duplicate,
    Cut(usize),
}

async fn carry(client: TcpStream, upstream: SocketAddr, mode: u8, injected: Arc<Injected>) {
    let fault = {
        let mut rng = rand::rng();
        match mode {
            1 => Fault::Refuse,
            2 => match rng.random_range(0..100) {
                0..15 => Fault::Refuse,
                15..30 => Fault::Delay(rng.random_range(100..600)),
                30..45 => Fault::Duplicate,
                45..60 => Fault::Cut(rng.random_range(1..300)),
                _ => Fault::None,
            },
            _ => Fault::None,
        }
    };
    let counter = match fault {
        Fault::Refuse if mode == Mode::Faulty as u8 => Some(&injected.refused),
        Fault::Delay(_) => Some(&injected.delayed),
        Fault::Duplicate => Some(&injected.duplicated),
        Fault::Cut(_) => Some(&injected.cut),
        _ => None,
    };
    if let Some(counter) = counter {
        counter.fetch_add(1, Ordering::SeqCst);
    }
    if let Fault::Refuse = fault {
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    if let Fault::Delay(ms) = fault {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let sent = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let recording = sent.clone();
    let forward = tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    recording.lock().await.extend_from_slice(&buffer[..n]);
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_write.shutdown().await;
    });
    let mut buffer = vec![0u8; 64 * 1024];
    let mut answered = 0usize;
    loop {
        let n = match server_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if answered == 0 && matches!(fault, Fault::Duplicate) {
            // The request arrives twice: replay what the client sent on a second connection.
            let copy = sent.lock().await.clone();
            tokio::spawn(async move {
                if let Ok(mut again) = TcpStream::connect(upstream).await {
                    let _ = again.write_all(&copy).await;
                    let mut sink = vec![0u8; 64 * 1024];
                    let _ = tokio::time::timeout(Duration::from_secs(10), async {
                        while matches!(again.read(&mut sink).await, Ok(n) if n > 0) {}
                    })
                    .await;
                }
            });
        }
        let keep = match fault {
            Fault::Cut(limit) => n.min(limit.saturating_sub(answered)),
            _ => n,
        };
        if client_write.write_all(&buffer[..keep]).await.is_err() {
            break;
        }
        answered += keep;
        if let Fault::Cut(limit) = fault
            && answered >= limit
        {
            break; // cut in the middle of the answer
        }
    }
    forward.abort();
}
