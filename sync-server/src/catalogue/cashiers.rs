//! Cashiers and their PINs, saved and published to their store's registers.

use shared_model::LocationCode;
use shared_model::catalogue::CashierInfo;
use shared_model::protocol::Change;
use sqlx::AnyConnection;

use crate::db::{Db, parse};
use crate::feed::{self, Entry};

#[tracing::instrument(skip_all)]
pub async fn save_cashier(conn: &mut AnyConnection, cashier: &CashierInfo) -> sqlx::Result<()> {
    // The store the cashier had (`Some(None)`: every store), if the cashier existed.
    let previous: Option<Option<LocationCode>> =
        sqlx::query_scalar::<_, Option<String>>("SELECT store FROM cashiers WHERE id = $1")
            .bind(i64::from(cashier.id.get()))
            .fetch_optional(&mut *conn)
            .await?
            .map(|store| store.map(|s| parse("cashiers.store", &s)).transpose())
            .transpose()?;
    sqlx::query(
        "INSERT INTO cashiers (id, name, store, pin_hash, active) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, store = excluded.store,
             pin_hash = excluded.pin_hash, active = excluded.active",
    )
    .bind(i64::from(cashier.id.get()))
    .bind(&cashier.name)
    .bind(cashier.store.as_ref().map(|s| s.to_string()))
    .bind(&cashier.pin_hash)
    .bind(i64::from(cashier.active))
    .execute(&mut *conn)
    .await?;
    let entry = |info: CashierInfo, store: Option<LocationCode>| Entry {
        kind: "cashier",
        key: format!("{}@{}", info.id, store.as_ref().map_or("*", LocationCode::as_str)),
        audience: store,
        change: Change::Cashier(info),
    };
    let current = cashier.store.clone();
    let mut entries = Vec::new();
    if let Some(old) = previous.filter(|old| *old != current) {
        entries.push(entry(CashierInfo { active: false, ..cashier.clone() }, old));
    }
    entries.push(entry(cashier.clone(), current));
    feed::publish(conn, entries).await
}

/// Creates or replaces a cashier, and publishes it to the registers of its store.
#[tracing::instrument(skip_all)]
pub async fn put_cashier(db: &Db, cashier: &CashierInfo) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    save_cashier(&mut tx, cashier).await?;
    tx.commit().await
}
