//! The listener's limits and TLS, against a real server on loopback: a flood of clients that
//! send half a header cannot hold the server, and HTTPS works with a chain's own CA.

use std::time::Duration;

use sync_server::db::Db;
use sync_server::listener::{Limits, Tls};
use sync_server::{AppState, Settings, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(tls: Option<Tls>, limits: Limits) -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/server.db", dir.path().display()), 2).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(AppState::new(db, Settings::default()));
    tokio::spawn(sync_server::listener::serve(listener, app, tls, limits, std::future::pending()));
    (addr, dir)
}

/// Reads until the server closes the connection; what it sent before closing.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buffer = [0u8; 1024];
    // A generous bound so that a server that never closes fails the test instead of hanging it.
    let read_all = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read_all).await.expect("the server closed the connection");
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_headers_are_dropped_and_connections_past_the_cap_closed() {
    let limits = Limits { max_connections: 3, header_timeout: Duration::from_secs(1), ..Limits::default() };
    let (addr, _dir) = start(None, limits).await;
    let mut dawdlers = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: caisse\r\nX-Half: ").await.unwrap();
        dawdlers.push(stream);
    }
    // Every slot is taken: the next connection is closed without an answer.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let _ = extra.write_all(b"GET /health HTTP/1.1\r\nHost: caisse\r\n\r\n").await;
    assert!(until_closed(&mut extra).await.is_empty(), "a connection past the cap was served");
    // The dawdlers are dropped once their header deadline passes, with no answer to their request.
    for stream in &mut dawdlers {
        let seen = until_closed(stream).await;
        assert!(!String::from_utf8_lossy(&seen).contains("200 OK"));
    }
    // Their slots are free again.
    let answer = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
}

/// A CA, and a certificate it signed for 127.0.0.1: (CA PEM, chain PEM, key PEM).
fn certificates() -> (String, String, String) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Caisse test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &*ca).unwrap();
    (ca.pem(), format!("{}{}", cert.pem(), ca.pem()), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_chains_own_certificate_authority() {
    let (ca, chain, key) = certificates();
    let tls = Tls::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
    let (addr, _dir) = start(Some(tls), Limits::default()).await;
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let answer = trusting.get(format!("https://{addr}/health")).send().await.unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    // A client that does not trust the chain's CA is refused at the handshake, and plain HTTP
    // to the HTTPS port gets no answer.
    assert!(reqwest::get(format!("https://{addr}/health")).await.is_err());
    assert!(reqwest::get(format!("http://{addr}/health")).await.is_err());
    // A key that is not the certificate's is refused when the server starts.
    let (_, _, other_key) = certificates();
    assert!(Tls::from_pem(chain.as_bytes(), other_key.as_bytes()).is_err());
    assert!(Tls::from_pem(b"not a certificate", key.as_bytes()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_and_bare_http2_prefaces_are_closed_at_the_header_deadline() {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let (addr, _dir) = start(None, limits).await;
    // A socket that sends nothing: the server cannot even tell which protocol it would speak.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // HTTP/2's preface, then its SETTINGS, then no request.
    let mut preface = TcpStream::connect(addr).await.unwrap();
    preface.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    preface.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
    // A client that asked once and then keeps its connection open with nothing to ask.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: caisse\r\n\r\n").await.unwrap();
    assert!(until_closed(&mut silent).await.is_empty());
    until_closed(&mut preface).await;
    let answered = until_closed(&mut idle).await;
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
}
