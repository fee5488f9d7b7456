//! The pull cursor never skips or repeats a change that commits late: many writers hold their
//! versions open for a while before committing (some publish twice in one transaction, some
//! roll back), in random order, while a reader pulls continuously. On PostgreSQL the writers
//! share no row: the test also checks that none of them waits on a lock.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Engine, TestDb};
use rand::Rng;
use shared_model::protocol::{Change, Cursor, StockLevel};
use shared_model::{LocationCode, Sku};
use sync_server::db::Db;
use sync_server::feed::{self, Entry};

// Four workers: the writers race one another on the runtime, not only in the database.
on_both_engines!(
    worker_threads = 4;
    cursor_skips_nothing_under_concurrent_writers,
    event_positions_skip_nothing_under_concurrent_appends,
);

const WRITERS: usize = 16;
const WRITES: usize = 20;

/// Sessions of the test's database waiting on a row (or a row's transaction) or on an advisory
/// lock: what writers sharing a row would show. Waits to extend a table's file (`extend`), which
/// any concurrent inserts into one table may meet now and then, are not counted.
const LOCK_WAITS: &str = "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database()
     AND wait_event_type = 'Lock'";

/// Adds the lock waits seen now to `seen` (by wait event); answers how many were on rows.
async fn sample_lock_waits(db: &Db, seen: &mut std::collections::BTreeMap<String, i64>) -> i64 {
    let events: Vec<Option<String>> = sqlx::query_scalar(LOCK_WAITS).fetch_all(db.pool()).await.unwrap();
    let mut on_rows = 0;
    for event in events.into_iter().flatten() {
        if ["transactionid", "tuple", "advisory"].contains(&event.as_str()) {
            on_rows += 1;
        }
        *seen.entry(event).or_default() += 1;
    }
    on_rows
}

/// Whether writer `w`'s `i`th transaction rolls back instead of committing.
fn rolls_back(w: usize, i: usize) -> bool {
    (w + i) % 7 == 3
}

async fn cursor_skips_nothing_under_concurrent_writers(engine: Engine) {
    let test_db = TestDb::new(engine).await;
    let db = Db::connect(&test_db.url, 24).await.unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let mut tx = db.begin().await.unwrap();
                    let change = |key: &str| {
                        Change::StockLevel(StockLevel {
                            location: LocationCode::parse("S1").unwrap(),
                            sku: Sku::parse(key).unwrap(),
                            quantity: 1,
                            as_of_ms: 0,
                        })
                    };
                    let key = format!("W{w}-{i}");
                    let entry =
                        |key: String| Entry { kind: "stock", change: change(&key), key, audience: None };
                    feed::publish(&mut tx, vec![entry(key.clone())]).await.unwrap();
                    // A second publication in the same transaction: a new key, and the first one
                    // again (it moves to a later version, still once in the feed).
                    if i % 3 == 0 {
                        feed::publish(&mut tx, vec![entry(format!("{key}-B")), entry(key.clone())])
                            .await
                            .unwrap();
                    }
                    // The dangerous window: a version is taken, the commit has not happened yet.
                    let pause = rand::rng().random_range(0..8);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    if rolls_back(w, i) {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                    }
                }
            })
        })
        .collect();

    let mut seen = BTreeSet::new();
    let mut cursor = Cursor::default();
    let mut reads = 0;
    let mut lock_waits = 0;
    let mut wait_events = std::collections::BTreeMap::new();
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let page = feed::read(&db, "S1", cursor, 7).await.unwrap();
        assert!(page.next >= cursor, "the cursor went back from {cursor:?} to {:?}", page.next);
        if engine == Engine::Postgres {
            lock_waits += sample_lock_waits(&db, &mut wait_events).await;
        }
        for change in page.changes {
            if let Change::StockLevel(level) = change {
                assert!(seen.insert(level.sku.to_string()), "{} seen twice", level.sku);
            }
        }
        cursor = page.next;
        reads += 1;
        if done && !page.more {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let expected: BTreeSet<String> = (0..WRITERS)
        .flat_map(|w| {
            (0..WRITES).filter(move |i| !rolls_back(w, *i)).flat_map(move |i| {
                let key = format!("W{w}-{i}");
                if i % 3 == 0 { vec![format!("{key}-B"), key] } else { vec![key] }
            })
        })
        .collect();
    assert_eq!(
        lock_waits, 0,
        "writers waited on rows' locks while publishing; all lock waits: {wait_events:?}"
    );
    assert_eq!(
        seen,
        expected,
        "after {reads} reads the cursor skipped {:?}",
        expected.difference(&seen).collect::<Vec<_>>()
    );
    db.close().await;
    test_db.drop_database().await;
}

/// The claims' event log, read by position as its projectors do: appends to many streams at
/// once, pausing before they commit, never make a reader skip or repeat an event, and never
/// wait for each other.
async fn event_positions_skip_nothing_under_concurrent_appends(engine: Engine) {
    use sync_server::audit::Actor;
    use sync_server::claims::model::Event;
    use sync_server::claims::store::{self, Appended};
    let test_db = TestDb::new(engine).await;
    let db = Db::connect(&test_db.url, 24).await.unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let mut tx = db.begin().await.unwrap();
                    let stream = format!("R-W{w}-{i}");
                    let events = [Event::Started, Event::Assigned { agent: format!("agent{w}") }];
                    let appended =
                        store::append(&mut tx, &stream, 0, &events, &Actor::system()).await.unwrap();
                    assert!(matches!(appended, Appended::Done(_)));
                    let pause = rand::rng().random_range(0..8);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    if rolls_back(w, i) {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                    }
                }
            })
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut position = 0;
    let mut lock_waits = 0;
    let mut wait_events = std::collections::BTreeMap::new();
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let mut conn = db.pool().acquire().await.unwrap();
        let events = store::after(&mut conn, position, 7).await.unwrap();
        if engine == Engine::Postgres {
            lock_waits += sample_lock_waits(&db, &mut wait_events).await;
        }
        drop(conn);
        for event in &events {
            assert!(event.position > position, "position {} after {position}", event.position);
            position = event.position;
            assert!(
                seen.insert((event.stream.clone(), event.version)),
                "{} {} seen twice",
                event.stream,
                event.version
            );
        }
        if done && events.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let expected: BTreeSet<(String, i64)> = (0..WRITERS)
        .flat_map(|w| (0..WRITES).filter(move |i| !rolls_back(w, *i)).map(move |i| format!("R-W{w}-{i}")))
        .flat_map(|stream| [(stream.clone(), 1), (stream, 2)])
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        lock_waits, 0,
        "appends to different claims waited on rows' locks; all lock waits: {wait_events:?}"
    );
    db.close().await;
    test_db.drop_database().await;
}
