//! `caisse-processor`: the local card processor in a process of its own, for tests that kill
//! head office while the processor keeps its books, and for trying the shop against a
//! processor that is not inside the server. Prints `listening on http://ADDRESS` once ready.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Caisse's local card processor (test mode: the card number decides the outcome).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:4242")]
    listen: SocketAddr,
    /// Seconds a "hanging" card's answer is held back.
    #[arg(long, default_value_t = 60)]
    hang_seconds: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    sync_server::http::processor::serve(listener, Duration::from_secs(args.hang_seconds)).await?;
    Ok(())
}
