//! Caisse's head-office server: registers push the records they made and pull catalogue and
//! stock changes; head office reads reports, alerts and sync health.
//!
//! | module | owns |
//! |---|---|
//! | [`sync`] | push and pull, the record set, dead letters |
//! | [`feed`] | the change feed registers pull, and why its cursor never skips |
//! | [`catalogue`] | locations, products, barcodes, cashiers |
//! | [`inventory`] | stock movements and levels |
//! | [`sales`] | the sales ledger: sales, returns, till closes |
//! | [`reporting`] | daily totals, the consolidated report |
//! | [`replenishment`] | store requests, logistics decisions, transfers |
//! | [`alerts`] | what head office should look at |
//! | [`identity`] | head-office users, sessions, registers and enrolment |
//! | [`http`] | router, middleware, extractors, health, metrics, OpenAPI |
//! | [`db`] | the one place where SQLite and PostgreSQL differ |
//!
//! A module reaches another only through its functions, never by reading its tables.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

pub mod alerts;
pub mod catalogue;
pub mod db;
pub mod demo;
pub mod error;
pub mod feed;
pub mod http;
pub mod identity;
pub mod inventory;
pub mod replenishment;
pub mod reporting;
pub mod sales;
pub mod sync;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

pub use db::Db;
pub use http::{AppState, Settings, router};

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    pub admin_password: Option<String>,
    pub max_connections: u32,
    pub settings: Settings,
}

/// Connects, migrates, loads the demo chain if asked and the database is empty, then serves
/// until SIGTERM or Ctrl-C, finishing the requests under way.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url, config.max_connections).await?;
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
        if !codes.is_empty() {
            println!("Enrolment codes (one per register, valid 7 days):");
            for (register, code) in codes {
                println!("  {register:<8} {code}");
            }
        }
    }
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    println!("Caisse sync server listening on http://{address}");
    tracing::info!(%address, "listening");
    let app = router(AppState::new(db.clone(), config.settings));
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
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
