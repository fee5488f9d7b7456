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

/// Over TLS the server speaks HTTP/2 to a client that offers it by ALPN, as browsers do: a
/// browser's tabs then share one connection, so twelve open pages' event streams and their
/// requests no longer need twelve of the six HTTP/1.1 connections a browser opens to a server.
/// A client that offers only HTTP/1.1 still gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_speaks_http2_so_many_event_streams_share_one_connection() {
    use axum::body::Body;
    use futures_util::StreamExt;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;
    use sync_server::http::events::Topic;

    const PASSWORD: &str = "a long enough password for the test";
    let (ca, chain, key) = certificates();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/server.db", dir.path().display()), 2).await.unwrap();
    sync_server::identity::create_user(&db, "admin", PASSWORD, sync_server::identity::Role::Admin)
        .await
        .unwrap();
    let state = AppState::new(db, Settings::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tls = Tls::from_pem(chain.as_bytes(), key.as_bytes()).unwrap();
    let app = router(state.clone());
    tokio::spawn(sync_server::listener::serve(
        listener,
        app,
        Some(tls),
        Limits::default(),
        std::future::pending(),
    ));

    // A client offering HTTP/2 and HTTP/1.1, as a browser does, is answered in HTTP/2.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap()).unwrap();
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = TcpStream::connect(addr).await.unwrap();
    let server_name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(server_name, tcp).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let request = |method: &str, path: &str, token: Option<&str>, body: Body| {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("https://127.0.0.1:{}{path}", addr.port()))
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.body(body).unwrap()
    };
    let login = serde_json::json!({ "username": "admin", "password": PASSWORD }).to_string();
    let answer =
        sender.send_request(request("POST", "/api/auth/login", None, Body::from(login))).await.unwrap();
    assert_eq!(answer.version(), hyper::Version::HTTP_2);
    assert_eq!(answer.status(), 200);
    let body = axum::body::to_bytes(Body::new(answer.into_body()), 1 << 16).await.unwrap();
    let token =
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"].as_str().unwrap().to_owned();

    // Twelve event streams stay open on the one connection, and a request still gets through.
    let mut streams = Vec::new();
    for _ in 0..12 {
        let answer =
            sender.send_request(request("GET", "/api/events", Some(&token), Body::empty())).await.unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], "text/event-stream");
        streams.push(Body::new(answer.into_body()).into_data_stream());
    }
    let health = sender.send_request(request("GET", "/health", None, Body::empty())).await.unwrap();
    assert_eq!((health.version(), health.status().as_u16()), (hyper::Version::HTTP_2, 200));

    // An announcement reaches every one of them.
    state.events.send(Topic::Sales);
    for stream in &mut streams {
        let mut seen = String::new();
        while !seen.contains("\"sales\"") {
            let chunk = tokio::time::timeout(Duration::from_secs(60), stream.next())
                .await
                .expect("the announcement on every stream")
                .expect("the stream stays open")
                .unwrap();
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.contains("event: change"), "{seen}");
    }

    // A client that offers only HTTP/1.1 (reqwest as built here) is answered in HTTP/1.1.
    let http1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let answer = http1.get(format!("https://{addr}/health")).send().await.unwrap();
    assert_eq!((answer.version(), answer.status()), (reqwest::Version::HTTP_11, reqwest::StatusCode::OK));
}
