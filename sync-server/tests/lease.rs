//! Background work claimed by a lease ([`sync_server::lease`]): of instances racing for one
//! row, exactly one wins, and a row whose lease is still running is left to its holder, on
//! both engines. The times are the test's, passed in, so nothing here waits.

mod common;

use common::{Engine, TestDb};
use sync_server::db::Db;
use sync_server::lease::{Lease, Stamp, lease_one};

/// A table of the test's own, so the rule is checked apart from any context's.
async fn jobs(engine: Engine) -> (TestDb, Db) {
    let test_db = TestDb::new(engine).await;
    let db = Db::connect(&test_db.url, 16).await.unwrap();
    sqlx::query(
        "CREATE TABLE lease_jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, until_ms BIGINT NOT NULL,
             touched_ms BIGINT NOT NULL, attempts BIGINT NOT NULL)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    (test_db, db)
}

async fn add(db: &Db, id: &str, state: &str, until_ms: i64, touched_ms: i64) {
    sqlx::query(
        "INSERT INTO lease_jobs (id, state, until_ms, touched_ms, attempts) VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(id)
    .bind(state)
    .bind(until_ms)
    .bind(touched_ms)
    .execute(db.pool())
    .await
    .unwrap();
}

const UNTIL: Lease = Lease {
    table: "lease_jobs",
    key: "id",
    pending: "state = 'open'",
    stamp: Stamp::Until("until_ms"),
    order_by: "until_ms, id",
    also_set: ", attempts = attempts + 1",
};

const SINCE: Lease = Lease {
    table: "lease_jobs",
    key: "id",
    pending: "state = 'open'",
    stamp: Stamp::Since("touched_ms"),
    order_by: "touched_ms, id",
    also_set: "",
};

const NOW: i64 = 1_000_000;
const LEASE: i64 = 30_000;

async fn racing_claimers_never_both_win(engine: Engine) {
    let (test_db, db) = jobs(engine).await;
    for round in 0..5 {
        let id = format!("job-{round}");
        add(&db, &id, "open", NOW - 1, 0).await;
        // Sixteen instances sweep at the same moment for the one expired job.
        let claimers: Vec<_> = (0..16)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { lease_one::<String>(&db, &UNTIL, NOW, LEASE).await.unwrap() })
            })
            .collect();
        let mut winners = Vec::new();
        for claimer in claimers {
            if let Some(won) = claimer.await.unwrap() {
                winners.push(won);
            }
        }
        assert_eq!(winners, std::slice::from_ref(&id), "round {round}: exactly one claimer wins the job");
        let (until, attempts): (i64, i64) =
            sqlx::query_as("SELECT until_ms, attempts FROM lease_jobs WHERE id = $1")
                .bind(&id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!((until, attempts), (NOW + LEASE, 1), "the winner's lease, one attempt counted");
        // Closed, so the next round races for a new job only.
        sqlx::query("UPDATE lease_jobs SET state = 'done' WHERE id = $1")
            .bind(&id)
            .execute(db.pool())
            .await
            .unwrap();
    }
    db.close().await;
    test_db.drop_database().await;
}

async fn a_running_lease_is_left_to_its_holder(engine: Engine) {
    let (test_db, db) = jobs(engine).await;
    // Held until NOW + 1: not claimed at NOW, claimed from NOW + 1.
    add(&db, "held", "open", NOW + 1, 0).await;
    add(&db, "closed", "done", 0, 0).await;
    assert_eq!(lease_one::<String>(&db, &UNTIL, NOW, LEASE).await.unwrap(), None);
    assert_eq!(lease_one::<String>(&db, &UNTIL, NOW + 1, LEASE).await.unwrap().as_deref(), Some("held"));
    // Claimed: its new lease runs LEASE from then, whoever asks meanwhile.
    assert_eq!(lease_one::<String>(&db, &UNTIL, NOW + LEASE, LEASE).await.unwrap(), None);
    assert_eq!(
        lease_one::<String>(&db, &UNTIL, NOW + 1 + LEASE, LEASE).await.unwrap().as_deref(),
        Some("held")
    );

    // Stamped when last touched: free a lease after it, and a claim touches it again.
    sqlx::query("UPDATE lease_jobs SET state = 'done'").execute(db.pool()).await.unwrap();
    add(&db, "touched", "open", 0, NOW).await;
    assert_eq!(lease_one::<String>(&db, &SINCE, NOW + LEASE - 1, LEASE).await.unwrap(), None);
    assert_eq!(
        lease_one::<String>(&db, &SINCE, NOW + LEASE, LEASE).await.unwrap().as_deref(),
        Some("touched")
    );
    assert_eq!(lease_one::<String>(&db, &SINCE, NOW + LEASE, LEASE).await.unwrap(), None);
    assert_eq!(
        lease_one::<String>(&db, &SINCE, NOW + 2 * LEASE, LEASE).await.unwrap().as_deref(),
        Some("touched")
    );
    db.close().await;
    test_db.drop_database().await;
}

async fn the_oldest_free_row_is_taken_first_and_keys_may_be_numbers(engine: Engine) {
    let (test_db, db) = jobs(engine).await;
    add(&db, "b", "open", NOW - 5, 0).await;
    add(&db, "a", "open", NOW - 1, 0).await;
    let first = lease_one::<String>(&db, &UNTIL, NOW, LEASE).await.unwrap();
    let second = lease_one::<String>(&db, &UNTIL, NOW, LEASE).await.unwrap();
    assert_eq!((first.as_deref(), second.as_deref()), (Some("b"), Some("a")));
    assert_eq!(lease_one::<String>(&db, &UNTIL, NOW, LEASE).await.unwrap(), None);

    sqlx::query("CREATE TABLE lease_numbers (number BIGINT PRIMARY KEY, updated_ms BIGINT NOT NULL)")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO lease_numbers (number, updated_ms) VALUES (42, 0)")
        .execute(db.pool())
        .await
        .unwrap();
    let numbers = Lease {
        table: "lease_numbers",
        key: "number",
        pending: "1 = 1",
        stamp: Stamp::Since("updated_ms"),
        order_by: "number",
        also_set: "",
    };
    assert_eq!(lease_one::<i64>(&db, &numbers, NOW, LEASE).await.unwrap(), Some(42));
    db.close().await;
    test_db.drop_database().await;
}

on_both_engines!(
    racing_claimers_never_both_win,
    a_running_lease_is_left_to_its_holder,
    the_oldest_free_row_is_taken_first_and_keys_may_be_numbers,
);
