//! The sync client: enrolment, push and pull over HTTPS (or plain HTTP on loopback or behind a
//! TLS proxy), with timeouts so a dead network never hangs the till. It trusts the system's root
//! certificates and, for a chain that runs its own certificate authority, the CA given at
//! enrolment. What to do with the answers (marking records held or rejected, applying changes)
//! is the register's, in `lib.rs`.

use std::path::Path;
use std::time::Duration;

use shared_model::protocol::{
    Cursor, Message, PullRequest, PullResponse, PushBatch, PushRefused, PushResponse,
};
pub use shared_model::protocol::{Enrolment, Refusal, SaleForReturn as RemoteSale};

use crate::error::{RegisterError, Result};

/// How a push went.
#[derive(Debug)]
pub enum Pushed {
    Held(PushResponse),
    /// The batch was refused; these records are why, the others may be pushed again.
    /// Also what head office holds of this register.
    Refused(Vec<Refusal>, u64),
}

/// How a register reaches head office: HTTP in production ([`Client`]); a simulated, faulty
/// network in the deterministic simulation.
pub trait Transport {
    fn push(&mut self, secret: &str, records: Vec<String>) -> Result<Pushed>;
    fn pull(&mut self, secret: &str, cursor: Cursor, limit: u32) -> Result<PullResponse>;
}

impl Transport for Client {
    fn push(&mut self, secret: &str, records: Vec<String>) -> Result<Pushed> {
        Client::push(self, secret, records)
    }

    fn pull(&mut self, secret: &str, cursor: Cursor, limit: u32) -> Result<PullResponse> {
        Client::pull(self, secret, cursor, limit)
    }
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    base: String,
}

/// What a failed request means for the till: head office's certificate is not trusted, or it
/// cannot be reached (and the sync retries).
fn offline(e: reqwest::Error) -> RegisterError {
    let e = e.without_url();
    let mut cause: &(dyn std::error::Error + 'static) = &e;
    let mut root = None;
    loop {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
                    RegisterError::Untrusted("its issuer is unknown to this register".to_owned())
                }
                rustls::Error::InvalidCertificate(why) => RegisterError::Untrusted(why.to_string()),
                other => RegisterError::Offline(format!("{e}: TLS: {other}")),
            };
        }
        // An I/O error shows its inner error but does not give it as its source: the TLS
        // error hides there.
        let next = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
        match next {
            Some(next) => {
                root = Some(next);
                cause = next;
            }
            None => break,
        }
    }
    match root {
        Some(root) => RegisterError::Offline(format!("{e}: {root}")),
        None => RegisterError::Offline(e.to_string()),
    }
}

/// The certificates in a PEM file, as the HTTP client takes them; at least one.
fn ca_certificates(pem: &[u8]) -> Result<Vec<reqwest::Certificate>> {
    let not_pem = || {
        RegisterError::CaFile(
            "the CA certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        )
    };
    let certificates = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| not_pem())?;
    if certificates.is_empty() {
        return Err(not_pem());
    }
    Ok(certificates)
}

/// Reads the CA certificate (PEM) of a chain that runs its own certificate authority, as given
/// at enrolment, and checks that it is one.
pub fn read_ca_file(path: &Path) -> Result<Vec<u8>> {
    let pem = std::fs::read(path)
        .map_err(|e| RegisterError::CaFile(format!("the CA file {} cannot be read: {e}", path.display())))?;
    if std::str::from_utf8(&pem).is_err() || ca_certificates(&pem).is_err() {
        return Err(RegisterError::CaFile(format!(
            "the CA file {} is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(pem)
}

fn problem_detail(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

/// What an answer that is not a success means for the till. A 5xx (head office, or a proxy in
/// front of it, cannot serve now: 500, 502, 503, 504) is head office out of reach, retried like
/// a dead network; only a 4xx is head office refusing.
fn not_served(status: reqwest::StatusCode, text: &str) -> RegisterError {
    if status.is_server_error() {
        RegisterError::Offline(format!("head office answered {status}: {}", problem_detail(text)))
    } else {
        RegisterError::Refused(problem_detail(text))
    }
}

impl Client {
    /// A client that trusts the system's root certificates.
    pub fn new(base: &str) -> Result<Client> {
        Client::with_ca(base, None)
    }

    /// A client that also trusts the certificates in `ca_pem` (PEM): the CA of a chain that
    /// runs its own.
    pub fn with_ca(base: &str, ca_pem: Option<&[u8]>) -> Result<Client> {
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30));
        if let Some(pem) = ca_pem {
            for certificate in ca_certificates(pem)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().map_err(|e| match ca_pem {
            Some(_) => RegisterError::CaFile(format!("the CA certificate cannot be used: {e}")),
            None => offline(e),
        })?;
        Ok(Client { http, base: base.trim_end_matches('/').to_owned() })
    }

    pub fn enrol(&self, code: &str) -> Result<Enrolment> {
        let response = self
            .http
            .post(format!("{}/api/registers/enrol", self.base))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .map_err(offline)?;
        let status = response.status();
        let text = response.text().map_err(offline)?;
        if !status.is_success() {
            return Err(not_served(status, &text));
        }
        serde_json::from_str(&text).map_err(|e| RegisterError::Refused(e.to_string()))
    }

    pub fn push(&self, secret: &str, records: Vec<String>) -> Result<Pushed> {
        let raw = records
            .into_iter()
            .map(|r| serde_json::value::RawValue::from_string(r).map_err(crate::error::corrupt))
            .collect::<Result<Vec<_>>>()?;
        let body = PushBatch { records: raw }.encode();
        let response = self
            .http
            .post(format!("{}/api/sync/push", self.base))
            .bearer_auth(secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .map_err(offline)?;
        let status = response.status();
        let bytes = response.bytes().map_err(offline)?;
        if status.is_success() {
            return PushResponse::decode(&bytes)
                .map(Pushed::Held)
                .map_err(|e| RegisterError::Refused(e.to_string()));
        }
        let text = String::from_utf8_lossy(&bytes);
        if status == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
            // The problem's own members (type, title, detail…) sit beside these.
            if let Ok(answer) = serde_json::from_str::<PushRefused>(&text)
                && !answer.refused.is_empty()
            {
                return Ok(Pushed::Refused(answer.refused, answer.holds));
            }
        }
        Err(not_served(status, &text))
    }

    pub fn pull(&self, secret: &str, cursor: Cursor, limit: u32) -> Result<PullResponse> {
        let response = self
            .http
            .post(format!("{}/api/sync/pull", self.base))
            .bearer_auth(secret)
            .body(PullRequest { cursor, limit }.encode())
            .send()
            .map_err(offline)?;
        let status = response.status();
        let bytes = response.bytes().map_err(offline)?;
        if !status.is_success() {
            return Err(not_served(status, &String::from_utf8_lossy(&bytes)));
        }
        PullResponse::decode(&bytes).map_err(|e| RegisterError::Refused(e.to_string()))
    }
}

impl Client {
    /// Looks a sale up at head office by its id or its receipt's short number; `None` when
    /// head office does not have it.
    pub fn sale(&self, secret: &str, key: &crate::returns::SaleKey) -> Result<Option<RemoteSale>> {
        // Both forms are letters, digits and dashes: nothing to escape in a path.
        self.find(secret, &format!("/api/sync/sales/{key}"))
    }

    /// An online order with what came back of it; `None` when head office has no such order.
    pub fn order(
        &self,
        secret: &str,
        number: shared_model::OrderNumber,
    ) -> Result<Option<shared_model::protocol::OrderForReturn>> {
        self.find(secret, &format!("/api/sync/orders/{}", number.get()))
    }

    /// GETs `path` as this register: its answer, or `None` on a 404.
    fn find<T: serde::de::DeserializeOwned>(&self, secret: &str, path: &str) -> Result<Option<T>> {
        let response =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(secret).send().map_err(offline)?;
        let status = response.status();
        let text = response.text().map_err(offline)?;
        match status {
            s if s.is_success() => {
                serde_json::from_str(&text).map(Some).map_err(|e| RegisterError::Refused(e.to_string()))
            }
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            _ => Err(not_served(status, &text)),
        }
    }
}

/// When to try again after a failed sync: exponential from `base`, capped at `cap`, with
/// jitter (each delay is drawn between half and all of its step) so that a store's registers
/// do not all hammer head office the moment it comes back.
#[derive(Debug, Clone)]
pub struct Backoff {
    base_ms: u64,
    cap_ms: u64,
    failures: u32,
}

impl Backoff {
    pub fn new(base_ms: u64, cap_ms: u64) -> Backoff {
        Backoff { base_ms: base_ms.max(1), cap_ms: cap_ms.max(base_ms), failures: 0 }
    }

    /// The next delay after a failure, in milliseconds.
    pub fn failed(&mut self) -> u64 {
        let step = self.base_ms.saturating_mul(1u64 << self.failures.min(20)).min(self.cap_ms);
        self.failures = self.failures.saturating_add(1);
        rand::Rng::random_range(&mut rand::rng(), step / 2..=step)
    }

    /// A success: the next failure starts again from `base`.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::{Backoff, Client};
    use crate::error::RegisterError;

    /// A server that answers every request with `status` and `body`, on a loopback port.
    fn answering(status: &'static str, body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://{address}")
    }

    #[test]
    fn head_office_out_of_reach_is_offline_never_a_refusal() {
        for status in
            ["500 Internal Server Error", "502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout"]
        {
            let client = Client::new(&answering(status, r#"{"detail":"busy"}"#)).unwrap();
            let pushed = client.push("secret", Vec::new());
            assert!(matches!(pushed, Err(RegisterError::Offline(_))), "{status}: {pushed:?}");
            let pulled = client.pull("secret", shared_model::protocol::Cursor(0), 10);
            assert!(matches!(pulled, Err(RegisterError::Offline(_))), "{status}: {pulled:?}");
            let enrolled = client.enrol("ABCD-EFGH");
            assert!(matches!(enrolled, Err(RegisterError::Offline(_))), "{status}: {enrolled:?}");
        }
        // Nobody listening at all.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let client = Client::new(&format!("http://{closed}")).unwrap();
        assert!(matches!(client.push("secret", Vec::new()), Err(RegisterError::Offline(_))));
        // A 4xx is head office refusing.
        let client = Client::new(&answering("401 Unauthorized", r#"{"detail":"revoked"}"#)).unwrap();
        assert!(
            matches!(client.push("secret", Vec::new()), Err(RegisterError::Refused(d)) if d == "revoked")
        );
    }

    #[test]
    fn a_refused_push_names_its_records_and_codes() {
        let body = r#"{"type":"https://caisse.example/problems/invalid","title":"t","status":422,"detail":"d","field":"records[0].record.id","refused":[{"index":0,"code":"seq_taken","id":null,"seq":4,"field":"records[0].record.id","reason":"held"}],"holds":3}"#;
        let client = Client::new(&answering("422 Unprocessable Entity", body)).unwrap();
        match client.push("secret", Vec::new()).unwrap() {
            super::Pushed::Refused(refused, holds) => {
                assert_eq!(holds, 3);
                assert_eq!(refused[0].code, shared_model::protocol::RefusalCode::SeqTaken);
                assert_eq!(refused[0].seq, Some(4));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter_and_resets() {
        let mut backoff = Backoff::new(500, 30_000);
        let delays: Vec<u64> = (0..10).map(|_| backoff.failed()).collect();
        for (i, delay) in delays.iter().enumerate() {
            let step = (500u64 << i).min(30_000);
            assert!((step / 2..=step).contains(delay), "failure {i}: {delay} not in {}..={step}", step / 2);
        }
        backoff.succeeded();
        assert!(backoff.failed() <= 500);
    }
}
