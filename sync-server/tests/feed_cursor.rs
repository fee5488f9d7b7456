//! The pull cursor never skips a change that commits late: writers hold their version open
//! for a while before committing, in random order, while a reader pulls continuously.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{Engine, TestDb};
use rand::Rng;
use shared_model::protocol::{Change, Cursor, StockLevel};
use shared_model::{LocationCode, Sku};
use sync_server::db::Db;
use sync_server::feed::{self, Entry};

const WRITERS: usize = 6;
const WRITES: usize = 20;

async fn cursor_skips_nothing(engine: Engine) {
    let test_db = TestDb::new(engine).await;
    let db = Db::connect(&test_db.url, 16).await.unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let mut tx = db.begin().await.unwrap();
                    let key = format!("W{w}-{i}");
                    let change = Change::StockLevel(StockLevel {
                        location: LocationCode::parse("S1").unwrap(),
                        sku: Sku::parse(&key).unwrap(),
                        quantity: 1,
                        as_of_ms: 0,
                    });
                    feed::publish(&mut tx, vec![Entry { kind: "stock", key, audience: None, change }])
                        .await
                        .unwrap();
                    // The dangerous window: a version is taken, the commit has not happened yet.
                    let pause = rand::rng().random_range(0..8);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();

    let mut seen = BTreeSet::new();
    let mut cursor = Cursor::default();
    let mut reads = 0;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let page = feed::read(&db, "S1", cursor, 7).await.unwrap();
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
    let expected: BTreeSet<String> =
        (0..WRITERS).flat_map(|w| (0..WRITES).map(move |i| format!("W{w}-{i}"))).collect();
    assert_eq!(
        seen,
        expected,
        "after {reads} reads the cursor skipped {:?}",
        expected.difference(&seen).collect::<Vec<_>>()
    );
    db.close().await;
    test_db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_cursor_skips_nothing_under_concurrent_writers() {
    cursor_skips_nothing(Engine::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_cursor_skips_nothing_under_concurrent_writers() {
    cursor_skips_nothing(Engine::Sqlite).await;
}
