//! A batch's rows go into a table in one statement per table: `VALUES` on SQLite, `unnest` of
//! one array literal per column on PostgreSQL (`db::rows_source`). Whatever a text holds must
//! come back as it went in, and numbers, nulls and the statement's own clauses must behave as
//! a `VALUES` list would.

mod common;

use common::{Engine, TestDb};
use sync_server::db::{Db, Value, insert_rows};

/// Texts that an array literal could mistake for its own syntax, or that a careless quoting
/// would change.
fn awkward() -> Vec<String> {
    [
        "",
        "NULL",
        "null",
        "\"",
        "\\",
        "\\\"",
        "a,b",
        "{1,2}",
        "{",
        "}",
        " padded ",
        "tab\there",
        "new\nline",
        "Café crème « 250 g »",
        "'single'",
        "$1::text",
        "🧾",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

async fn texts_numbers_and_nulls_come_back_as_they_went_in(engine: Engine) {
    let test = TestDb::new(engine).await;
    let db = Db::connect(&test.url, 4).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    sqlx::query("CREATE TABLE batch_probe (n BIGINT PRIMARY KEY, t TEXT, i BIGINT, flag BIGINT)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let texts = awkward();
    let mut rows: Vec<Vec<Value>> = texts
        .iter()
        .enumerate()
        .map(|(n, t)| {
            vec![
                Value::Int(n as i64),
                Value::Text(t.clone()),
                Value::Int(i64::MIN + n as i64),
                Value::Bool(n % 2 == 0),
            ]
        })
        .collect();
    // A null of each kind, and a long batch past any VALUES list's parameter limit.
    rows.push(vec![Value::Int(1_000), Value::NullText, Value::NullInt, Value::Bool(false)]);
    for n in 2_000..12_000 {
        rows.push(vec![
            Value::Int(n),
            Value::Text(format!("row {n}")),
            Value::Int(i64::MAX),
            Value::Bool(true),
        ]);
    }
    insert_rows(&mut tx, "batch_probe", &["n", "t", "i", "flag"], rows, "").await.unwrap();

    let back: Vec<(i64, Option<String>, Option<i64>, i64)> =
        sqlx::query_as("SELECT n, t, i, flag FROM batch_probe WHERE n < 2000 ORDER BY n")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
    let mut expected: Vec<(i64, Option<String>, Option<i64>, i64)> = texts
        .iter()
        .enumerate()
        .map(|(n, t)| (n as i64, Some(t.clone()), Some(i64::MIN + n as i64), i64::from(n % 2 == 0)))
        .collect();
    expected.push((1_000, None, None, 0));
    assert_eq!(back, expected);
    let (count, sum): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), CAST(SUM(flag) AS BIGINT) FROM batch_probe WHERE n >= 2000 AND i = 9223372036854775807")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!((count, sum), (10_000, 10_000));

    // The suffix applies to every row as it would to a VALUES list: the clashing ones are skipped.
    let again = vec![
        vec![Value::Int(0), Value::Text("clash".into()), Value::Int(0), Value::Bool(true)],
        vec![Value::Int(99_999), Value::Text("new".into()), Value::Int(0), Value::Bool(true)],
    ];
    insert_rows(&mut tx, "batch_probe", &["n", "t", "i", "flag"], again, "ON CONFLICT (n) DO NOTHING")
        .await
        .unwrap();
    let (first, new): (String, String) = sqlx::query_as(
        "SELECT (SELECT t FROM batch_probe WHERE n = 0), (SELECT t FROM batch_probe WHERE n = 99999)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((first.as_str(), new.as_str()), ("", "new"));
    tx.rollback().await.unwrap();
    db.close().await;
    test.drop_database().await;
}

on_both_engines!(texts_numbers_and_nulls_come_back_as_they_went_in);
