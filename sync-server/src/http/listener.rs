//! Accepting connections: plain HTTP, or HTTPS with rustls when given a certificate, with the
//! limits a server facing a store's network needs and `axum::serve` does not set.
//!
//! - **A cap on open connections**, and a smaller one per address (a whole IPv6 /64 counts as
//!   one address). Past either, a new connection is closed at once: 1,500 clients each sending
//!   half a header once held that many sockets (and their buffers) for good, and 1,100 idle
//!   sockets from one machine once refused every register's push.
//! - **A deadline for a connection's first request head**, whatever protocol it speaks: a
//!   socket that sends nothing, or only HTTP/2's preface, is closed once it passes. Hyper's
//!   header read timeout alone does not cover it: the server reads the first bytes to tell
//!   HTTP/1 from HTTP/2 before hyper's HTTP/1 timer exists, and HTTP/2 has no such timer.
//! - **An idle deadline**: a connection with no request under way for that long is closed
//!   gracefully (a request in flight, a live event stream included, keeps it open), and closed
//!   outright if the client does not let it end within a few seconds.
//! - **A deadline for the TLS handshake.**
//! - **The peer's address** on every request ([`PeerAddr`]), for throttling sign-ins and
//!   enrolment attempts per address.
//!
//! Plain HTTP stays for loopback and for running behind a TLS-terminating proxy; registers on
//! a store's network reach head office over HTTPS.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long requests under way may take to finish once the server is stopping.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long a connection asked to close (idle, or the server stopping with nothing under way)
/// may take to do so before it is dropped: an HTTP/2 client that never answers the closing
/// ping must not hold its socket.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// How many connections, and how long a client may take to say what it wants.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Most connections open at once from one address (an IPv6 /64 is one address); 0 for no
    /// cap. Behind a load balancer every connection comes from it: list it in
    /// `trusted_proxies`, which the cap leaves alone.
    pub max_connections_per_address: usize,
    /// Addresses the per-address cap does not apply to (the load balancer).
    pub trusted_proxies: Vec<IpAddr>,
    /// From the connection (or the end of the previous request) to the end of a request's head.
    pub header_timeout: Duration,
    /// How long a connection that has served a request may stay with none under way.
    pub idle_timeout: Duration,
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1_024,
            max_connections_per_address: 256,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
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
    let total = u32::try_from(limits.max_connections.max(1)).unwrap_or(u32::MAX);
    let slots = Arc::new(Semaphore::new(total as usize));
    let per_address = PerAddress::new(limits.max_connections_per_address, &limits.trusted_proxies);
    let acceptor = tls.map(|tls| TlsAcceptor::from(tls.0));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .keep_alive_interval(Some(limits.idle_timeout))
        .keep_alive_timeout(CLOSE_GRACE);
    let (stopping, stop) = watch::channel(false);
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
        let Some(from_address) = per_address.admit(peer.ip()) else {
            metrics::counter!("caisse_connections_refused_total", "why" => "per_address").increment(1);
            drop(stream);
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("caisse_connections_refused_total", "why" => "total").increment(1);
            drop(stream);
            continue;
        };
        let activity = Arc::new(Activity::default());
        let service = hyper::service::service_fn({
            let (app, activity) = (app.clone(), activity.clone());
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                let under_way = activity.begin();
                let answer = app.clone().oneshot(request.map(Body::new));
                async move {
                    let response = answer.await?;
                    // The request counts as under way until its answer's body is sent (or
                    // dropped): an event stream keeps its connection open however long it lasts.
                    Ok::<_, std::convert::Infallible>(
                        response.map(|body| Body::new(Tracked { body, _under_way: under_way })),
                    )
                }
            }
        });
        let (builder, acceptor, stop, limits) =
            (builder.clone(), acceptor.clone(), stop.clone(), limits.clone());
        tokio::spawn(async move {
            let _held = (slot, from_address);
            match acceptor {
                None => serve_one(&builder, stream, service, activity, &limits, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_one(&builder, stream, service, activity, &limits, stop).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Requests under way get this long to finish; a connection that will not end (a client
    // that stopped reading) must not keep the process from stopping. Every connection holds a
    // slot until it ends: having them all back means every connection is closed.
    if tokio::time::timeout(SHUTDOWN_GRACE + CLOSE_GRACE, slots.acquire_many(total)).await.is_err() {
        tracing::warn!(
            "connections still open {} s after shutdown began: closing them",
            (SHUTDOWN_GRACE + CLOSE_GRACE).as_secs()
        );
    }
    Ok(())
}

/// Serves one connection until it ends, closing it when it has been silent or idle too long,
/// or when the server stops.
async fn serve_one<I, S>(
    builder: &auto::Builder<TokioExecutor>,
    stream: I,
    service: S,
    activity: Arc<Activity>,
    limits: &Limits,
    mut stop: watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = axum::response::Response> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    // When the connection was asked to close, and by when it must have.
    let mut closing: Option<Instant> = None;
    loop {
        let deadline = closing.unwrap_or_else(|| activity.deadline(limits));
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if closing.is_none() => {
                if changed.is_err() || *stop.borrow() {
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Instant::now() + SHUTDOWN_GRACE);
                }
            }
            () = tokio::time::sleep_until(deadline) => {
                if closing.is_some() {
                    tracing::debug!("connection did not close in time: dropped");
                    return;
                }
                if activity.deadline(limits) <= Instant::now() {
                    metrics::counter!("caisse_connections_idle_closed_total").increment(1);
                    connection.as_mut().graceful_shutdown();
                    closing = Some(Instant::now() + CLOSE_GRACE);
                }
            }
        }
    }
}

/// What a connection is doing: how many of its requests are under way, and since when it has
/// had none.
#[derive(Debug)]
struct Activity {
    under_way: AtomicUsize,
    served: AtomicBool,
    idle_since: Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            under_way: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: Mutex::new(Instant::now()),
        }
    }
}

impl Activity {
    fn begin(self: &Arc<Self>) -> UnderWay {
        self.served.store(true, Ordering::Relaxed);
        self.under_way.fetch_add(1, Ordering::AcqRel);
        UnderWay(self.clone())
    }

    /// When the connection is to be closed if nothing happens before: never while a request
    /// is under way (looked at again after an idle period), else the end of its silence.
    fn deadline(&self, limits: &Limits) -> Instant {
        let idle_since = *self.idle_since.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.under_way.load(Ordering::Acquire) > 0 {
            return Instant::now() + limits.idle_timeout;
        }
        // Before its first request a connection has the header deadline to send one.
        let allowed =
            if self.served.load(Ordering::Relaxed) { limits.idle_timeout } else { limits.header_timeout };
        idle_since + allowed
    }
}

/// A request under way; when dropped (its answer sent or abandoned), the connection's idle
/// time starts again if it was the last.
struct UnderWay(Arc<Activity>);

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut idle_since = self.0.idle_since.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.0.under_way.fetch_sub(1, Ordering::AcqRel) == 1 {
            *idle_since = Instant::now();
        }
    }
}

/// An answer's body that keeps its request counted as under way until it is done.
struct Tracked {
    body: Body,
    _under_way: UnderWay,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Open connections counted per address, with a cap.
#[derive(Clone)]
struct PerAddress {
    cap: usize,
    exempt: Arc<[IpAddr]>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    fn new(cap: usize, exempt: &[IpAddr]) -> PerAddress {
        PerAddress { cap, exempt: exempt.iter().map(|a| address_key(*a)).collect(), open: Arc::default() }
    }

    /// A place for a connection from `address`, held until dropped; `None` past the cap.
    fn admit(&self, address: IpAddr) -> Option<FromAddress> {
        let key = address_key(address);
        if self.cap == 0 || self.exempt.contains(&key) {
            return Some(FromAddress(None));
        }
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(FromAddress(Some((self.clone(), key))))
    }
}

/// A connection's place in its address's count.
struct FromAddress(Option<(PerAddress, IpAddr)>);

impl Drop for FromAddress {
    fn drop(&mut self) {
        if let Some((per_address, key)) = self.0.take() {
            let mut open = per_address.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(count) = open.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// The address a connection is counted under: an IPv4 address (also when written as IPv6), or
/// an IPv6 address's /64, which one subscriber usually holds whole.
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                ))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_by_ipv4_address_and_ipv6_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(address_key(mapped), "10.0.0.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn the_per_address_cap_counts_open_connections_and_frees_them() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let per_address = PerAddress::new(2, &[proxy]);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let first = per_address.admit(one).unwrap();
        let _second = per_address.admit(one).unwrap();
        assert!(per_address.admit(one).is_none());
        assert!(per_address.admit("192.0.2.2".parse().unwrap()).is_some());
        drop(first);
        assert!(per_address.admit(one).is_some());
        // The load balancer is not capped.
        let held: Vec<_> = (0..10).map(|_| per_address.admit(proxy).unwrap()).collect();
        assert_eq!(held.len(), 10);
    }
}
