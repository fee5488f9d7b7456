//! Caisse's head-office server: registers push the records they made and pull catalogue and
//! stock changes; head office reads reports, alerts and sync health.
//!
//! | module | owns |
//! |---|---|
//! | [`sync`] | push and pull, the record set, dead letters |
//! | [`feed`] | the change feed registers pull, and why its cursor never skips |
//! | [`catalogue`] | locations, products, barcodes, cashiers |
//! | [`chain`] | the chain's legal name and GST and QST numbers, for receipts |
//! | [`inventory`] | stock movements and levels |
//! | [`opening_stock`] | stock levels as a CSV file: export, and import as opening counts |
//! | [`csv_file`] | nothing: reading and writing the CSV files head office imports and exports, in two passes |
//! | [`sales`] | the sales ledger: sales, returns, till closes |
//! | [`reporting`] | daily totals, the consolidated report |
//! | [`replenishment`] | store requests, logistics decisions, transfers |
//! | [`alerts`] | what head office should look at |
//! | [`dashboard`] | nothing: it puts the other contexts' figures side by side for head office |
//! | [`identity`] | head-office users, sessions, registers and enrolment |
//! | [`shop`] | the online shop: customers, carts, the checkout saga, orders, payments |
//! | [`claims`] | after-sales claims: the event store, commands, refunds, read models and their projectors |
//! | [`refunds`] | refunds owed to shoppers' cards (store returns of online orders, claims), asked of the processor once |
//! | [`payments`] | nothing: the card processor's client, charges and refunds under idempotency keys |
//! | [`notify`] | the outbox of messages to customers, and their delivery by email |
//! | [`audit`] | head office's audit trail, hash-chained under a key kept outside the database |
//! | [`gateway`] | API keys for integrations, rate limits counted in memory (across instances by HAProxy) |
//! | [`http`] | the only part that knows axum: router, middleware, extractors, problems, each context's routes, health, metrics, OpenAPI, the pages, live events |
//! | [`listener`] (in `http/`) | connections: TLS, the connection cap, header and handshake deadlines |
//! | [`db`] | the one place where SQLite and PostgreSQL differ |
//! | [`network`] | nothing: which network a client's address stands for, as sign-in throttles and rate limits count it |
//! | [`clock`] | nothing: the time leases, lockouts and expiries are decided by, which tests move |
//! | [`lease`] | nothing: background work claimed by a lease, so one instance does it at a time |
//! | [`commit_order`] | nothing: positions readers follow in commit order, with no row every writer takes |
//!
//! The modules form layers (`tests/layers.rs` holds the order): the database level (`db`,
//! `clock`, `lease`, `commit_order`) uses no context, and a context uses only those below it.
//! A module reaches another only through its functions, never by reading its tables. The
//! contexts know nothing of HTTP: they take plain values and answer their own error, which
//! `http/` turns into a problem.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod alerts;
pub mod audit;
pub mod catalogue;
pub mod chain;
pub mod claims;
pub mod clock;
pub mod commit_order;
pub mod csv_file;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod feed;
pub mod gateway;
pub mod http;
pub mod identity;
pub mod inventory;
pub mod lease;
pub mod network;
pub mod notify;
pub mod opening_stock;
pub mod payments;
pub mod refunds;
pub mod replenishment;
pub mod reporting;
pub mod sales;
pub mod shop;
pub mod sync;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

pub use db::Db;
pub use http::{AppState, Settings, listener, router};

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    pub admin_password: Option<String>,
    pub max_connections: u32,
    pub settings: Settings,
    /// Serve HTTPS with this certificate; plain HTTP without.
    pub tls: Option<listener::Tls>,
    pub limits: listener::Limits,
    /// Head office's audit key (kept outside the database).
    pub audit_key: audit::KeySetting,
}

/// Connects, migrates, loads the demo chain if asked and the database is empty, then serves
/// until SIGTERM or Ctrl-C, finishing the requests under way.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, config.max_connections).await?;
    let key = audit::open_key(&config.audit_key, &config.database_url, &db, true).await?;
    let db = db.with_audit_key(key);
    audit::seal(&db).await?;
    catalogue::fold_old_names(&db).await?;
    if config.demo {
        if demo::is_loaded(&db).await? {
            println!("Demo chain already loaded in {}.", config.database_url);
        } else {
            let loaded = demo::load(&db).await?;
            println!(
                "Loaded the demo chain: {} locations, {} products, {} cashiers.",
                loaded.locations,
                loaded.products,
                loaded.cashiers.len()
            );
            println!("Cashiers (number, name, store, PIN):");
            for (id, name, store, pin) in &loaded.cashiers {
                println!("  {id}  {name:<20} {store:<5} {pin}");
            }
        }
    }
    if let Some(password) = identity::ensure_first_admin(&db, config.admin_password.clone()).await? {
        println!("Head office: user admin, password {password} (shown once: change it or keep it safe)");
    }
    if config.demo {
        let codes = demo::codes_for_unenrolled(&db).await?;
        if !codes.fresh.is_empty() {
            println!("Enrolment codes (one per register, valid 24 hours):");
            for (register, code) in &codes.fresh {
                println!("  {register:<8} {code}");
            }
        }
        if !codes.live.is_empty() {
            println!(
                "Registers still holding a code from an earlier start (a new one replaces it: POST /api/registers/ID/enrolment-code): {}",
                codes.live.join(", ")
            );
        }
    }
    let mut settings = config.settings;
    match &settings.mail {
        http::Mail::Folder { path, .. } => {
            println!("Customers' emails: written to {} (one .eml file per message)", path.display());
        }
        http::Mail::Smtp { url, .. } => {
            // The URL may hold a password: only its host is shown.
            let host = url
                .rsplit('@')
                .next()
                .unwrap_or(url)
                .trim_start_matches("smtp://")
                .trim_start_matches("smtps://");
            println!("Customers' emails: sent through the SMTP server at {host}");
        }
        http::Mail::Off => println!(
            "Customers' emails: kept in the outbox (start with --smtp-url or --mail-folder to send them)"
        ),
    }
    settings.secure_cookies |= config.tls.is_some();
    if settings.payment_url.is_none() && config.demo {
        // The demo pays through the local processor, in this process, in test mode.
        let processor =
            TcpListener::bind("127.0.0.1:0").await.context("cannot start the local card processor")?;
        let url = format!("http://{}", processor.local_addr()?);
        println!("Card processor: the local one at {url} (test mode: card 4242 4242 4242 4242 is approved)");
        tokio::spawn(http::processor::serve(processor, std::time::Duration::from_secs(60)));
        settings.payment_url = Some(url);
    }
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    println!("Caisse sync server listening on {scheme}://{address}");
    tracing::info!(%address, scheme, "listening");
    let state = AppState::new(db.clone(), settings);
    // Sagas a crash left unfinished are resumed now and then every few seconds.
    let recovery = shop::recovery::spawn(state.shop.clone(), db.clone());
    // Refunds owed for store returns and claims are asked of the processor the same way.
    let refunds = refunds::spawn(state.refunds.clone(), db.clone());
    let projectors = claims::projections::spawn(
        db.clone(),
        state.wake.projectors.clone(),
        std::time::Duration::from_secs(1),
    );
    // Daily totals follow the journal a batch at a time; a report folds what is left first.
    let totals = reporting::journal::spawn(db.clone(), std::time::Duration::from_millis(250));
    let mail =
        state.delivery.clone().map(|delivery| notify::spawn(db.clone(), delivery, state.wake.mail.clone()));
    match audit::verify(&db).await {
        Ok(v) if v.broken.is_none() => {
            // The head, to write down elsewhere (also at GET /api/audit/head).
            tracing::info!(
                entries = v.entries,
                head_seq = v.head_seq,
                head_hash = v.head_hash,
                "audit trail holds"
            )
        }
        Ok(v) => {
            tracing::error!(broken = ?v.broken, "the audit trail is broken: run `sync-server audit verify`")
        }
        Err(e) => tracing::error!(error = %e, "the audit trail could not be read"),
    }
    // Expired sign-in throttles are swept by every instance now and then (a delete of rows
    // nobody reads: two instances doing it at once do no harm).
    // The rate limits' buckets back to a fresh state are forgotten every minute.
    let retention =
        gateway::limits::spawn_retention(state.limiter.clone(), std::time::Duration::from_secs(60));
    let sweeper = tokio::spawn({
        let db = db.clone();
        async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                every.tick().await;
                if let Err(e) = identity::sweep_attempts(&db).await {
                    tracing::warn!(error = %e, "expired sign-in and enrolment throttles could not be swept");
                }
            }
        }
    });
    // Other instances' changes reach this one's pages, and clear its catalogue cache.
    let relay = state.events.relay(db.clone(), {
        let cache = state.catalogue_cache.clone();
        move |topic| {
            if topic.is_none_or(|t| t == http::events::Topic::Catalogue) {
                cache.clear();
            }
        }
    });
    let events = state.events.clone();
    let readiness = state.readiness.clone();
    let drain = state.settings.drain;
    let shutdown = async move {
        shutdown.await;
        // The load balancer's checks see 503 and send no new request; those under way, and
        // any that arrive before it notices, are still answered.
        readiness.drain();
        if !drain.is_zero() {
            tracing::info!(seconds = drain.as_secs_f64(), "draining: /health answers 503");
            tokio::time::sleep(drain).await;
        }
        // Open pages' event streams would otherwise keep the graceful shutdown waiting.
        events.close();
    };
    let app = router(state);
    listener::serve(listener, app, config.tls, config.limits, shutdown).await?;
    recovery.abort();
    refunds.abort();
    projectors.abort();
    totals.abort();
    sweeper.abort();
    retention.abort();
    relay.abort();
    if let Some(mail) = mail {
        mail.abort();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: a SIGTERM sent the moment the server says it is listening must
/// already be caught, not kill the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutting down");
    }
}
