//! Accepting connections: plain HTTP, or HTTPS with rustls when given a certificate, with the
//! limits a server facing a store's network needs and `axum::serve` does not set.
//!
//! - **A cap on open connections.** Past it a new connection is closed at once: 1,500 clients
//!   each sending half a header once held that many sockets (and their buffers) for good.
//! - **A deadline for the request head** (hyper's header read timeout) and for the TLS
//!   handshake: a client that connects and then dawdles is dropped, and its slot freed.
//! - **The peer's address** on every request ([`PeerAddr`]), for throttling sign-ins and
//!   enrolment attempts per address.
//!
//! Plain HTTP stays for loopback and for running behind a TLS-terminating proxy; registers on
//! a store's network reach head office over HTTPS.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long requests under way may take to finish once the server is stopping.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How many connections, and how long a client may take to say what it wants.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    /// From the connection (or the end of the previous request) to the end of a request's head.
    pub header_timeout: Duration,
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1_024,
            header_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// A server certificate chain and its key, ready to accept TLS connections.
#[derive(Clone)]
pub struct Tls(Arc<ServerConfig>);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl Tls {
    /// From PEM: the certificate chain (leaf first) and the private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> anyhow::Result<Tls> {
        let certs = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .context("the certificate file is not PEM")?;
        anyhow::ensure!(!certs.is_empty(), "the certificate file holds no certificate");
        let key = PrivateKeyDer::from_pem_slice(key).context("the key file holds no PEM private key")?;
        // The provider is named, not taken from the process default: two TLS stacks in one
        // binary (ring and aws-lc) would make the default ambiguous.
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .context("TLS protocol versions")?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .context("the key does not match the certificate")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls(Arc::new(config)))
    }

    pub fn from_files(cert_chain: &Path, key: &Path) -> anyhow::Result<Tls> {
        let read =
            |path: &Path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
        Self::from_pem(&read(cert_chain)?, &read(key)?)
    }
}

/// The address a request came from, as the connection saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests under way
/// finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Tls>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let acceptor = tls.map(|tls| TlsAcceptor::from(tls.0));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // pause briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("caisse_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let service = hyper::service::service_fn({
            let app = app.clone();
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            }
        });
        let (builder, acceptor, watcher) = (builder.clone(), acceptor.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _slot = slot;
            match acceptor {
                None => serve_one(&builder, stream, service, watcher).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_one(&builder, stream, service, watcher).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    // Requests under way get this long to finish; a connection that will not end (a client
    // that stopped reading) must not keep the process from stopping.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            "connections still open {} s after shutdown began: closing them",
            SHUTDOWN_GRACE.as_secs()
        );
    }
    Ok(())
}

async fn serve_one<I, S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: I,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = axum::response::Response> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
