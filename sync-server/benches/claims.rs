//! Claims' event store and read models (issue 14), on SQLite and PostgreSQL: claims filed
//! straight into the event store, then agents' commands (assign, start, resolve, close) run
//! by several agents at once through the same function the HTTP route calls, then the
//! projectors catching up from nothing, then a full replay.
//!
//! `cargo bench -p sync-server --bench claims [sqlite|postgres]`; `BENCH_CLAIMS` sets how many
//! claims (default 20 000), `BENCH_AGENTS` how many agents act at once (default 8).

mod common;

use std::time::Instant;

use common::{fresh_database, percentile};
use sync_server::audit::Actor;
use sync_server::claims::commands::{self, Command};
use sync_server::claims::model::{ClaimLine, Event, Kind, Outcome, Subject};
use sync_server::claims::{projections, store};
use sync_server::db::Db;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn filing(i: usize) -> Event {
    Event::Submitted {
        subject: Subject::Store { receipt: format!("01J{i:023}") },
        store: ["VMTL", "PLAT", "QDS", "MILE", "WMT"][i % 5].into(),
        kind: Kind::ALL[i % Kind::ALL.len()],
        lines: vec![ClaimLine { line: 1, sku: "CAF-ESP-250".into(), quantity: 1 }],
        description: "Le sac est arrivé déchiré.".into(),
        contact_email: None,
        contact_name: String::new(),
        language: "fr".into(),
    }
}

async fn run(engine: &str, claims: usize, agents: usize) {
    let (url, _) = fresh_database(engine).await;
    let db = Db::connect(&url, 16).await.expect("the database");
    sync_server::identity::create_user(
        &db,
        "marie",
        "a long enough password",
        sync_server::identity::Role::Manager,
    )
    .await
    .expect("an agent");
    let system = Actor::system();

    // Filing: one claim per transaction, as the shop's route does.
    let started = Instant::now();
    let mut ids = Vec::with_capacity(claims);
    for i in 0..claims {
        let id = format!("R-B{i:07}");
        let mut tx = db.begin().await.expect("a transaction");
        match store::append(&mut tx, &id, 0, &[filing(i)], &system).await.expect("appended") {
            store::Appended::Done(_) => {}
            store::Appended::Conflict { .. } => panic!("a fresh stream in conflict"),
        }
        tx.commit().await.expect("committed");
        ids.push(id);
    }
    let filed = started.elapsed();
    println!(
        "{engine}: {claims} claims filed one per transaction in {:.1} s ({:.0}/s)",
        filed.as_secs_f64(),
        claims as f64 / filed.as_secs_f64()
    );

    // Agents work through a share of the claims each: four commands per claim.
    let worked = claims.min(4_000);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for agent in 0..agents {
        let db = db.clone();
        let mine: Vec<String> = ids[..worked].iter().skip(agent).step_by(agents).cloned().collect();
        tasks.push(tokio::spawn(async move {
            let marie = Actor::new("marie", Some(format!("bench-{agent}")));
            let mut latencies = Vec::new();
            for id in mine {
                for command in [
                    Command::Assign { agent: "marie".into() },
                    Command::Start,
                    Command::Resolve { outcome: Outcome::Replacement, reason: "damaged in transit".into() },
                    Command::Close,
                ] {
                    let at = Instant::now();
                    commands::act(&db, &marie, &id, None, command, None).await.expect("the command");
                    latencies.push(at.elapsed());
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("an agent"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let ms = |p| percentile(&latencies, p).as_secs_f64() * 1e3;
    println!(
        "{engine}: {} commands by {agents} agents in {:.1} s: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(0.5),
        ms(0.99)
    );

    // The projectors, from nothing to the head.
    let started = Instant::now();
    let applied = projections::catch_up(&db).await.expect("caught up");
    let took = started.elapsed();
    println!(
        "{engine}: projectors caught up on {applied} event applications in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        applied as f64 / took.as_secs_f64()
    );
    let page = projections::queue_search(
        &db,
        &projections::QueueFilter { open: true, limit: 100, ..Default::default() },
    )
    .await
    .expect("the queue");
    let started = Instant::now();
    let queue_reads = 200;
    for _ in 0..queue_reads {
        projections::queue_search(
            &db,
            &projections::QueueFilter {
                open: true,
                kind: Some("delivery".into()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .expect("the queue");
    }
    println!(
        "{engine}: open queue ({} shown, {} behind), 200 searches by kind: {:.2} ms each",
        page.claims.len(),
        page.freshness.behind,
        started.elapsed().as_secs_f64() * 1e3 / f64::from(queue_reads)
    );

    let started = Instant::now();
    let replayed = projections::replay(&db).await.expect("replayed");
    let took = started.elapsed();
    println!(
        "{engine}: replay of every read model: {replayed} event applications in {:.1} s ({:.0}/s)",
        took.as_secs_f64(),
        replayed as f64 / took.as_secs_f64()
    );
    db.close().await;
}

fn main() {
    let claims = env("BENCH_CLAIMS", 20_000);
    let agents = env("BENCH_AGENTS", 8);
    let engines: Vec<String> =
        std::env::args().skip(1).filter(|a| a == "sqlite" || a == "postgres").collect();
    let engines = if engines.is_empty() { vec!["sqlite".to_owned(), "postgres".to_owned()] } else { engines };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    for engine in engines {
        runtime.block_on(run(&engine, claims, agents));
    }
}
