//! The chain's locations: stores, logistics, head office and the online shop, saved and looked up.

use std::collections::BTreeSet;

use shared_model::catalogue::LocationInfo;
use shared_model::protocol::Change;
use shared_model::{LocationCode, LocationKind};
use sqlx::AnyConnection;

use crate::db::{Db, corrupt, list_placeholders, parse, placeholder};
use crate::feed::{self, Entry};

fn kind_str(kind: LocationKind) -> &'static str {
    match kind {
        LocationKind::Store => "store",
        LocationKind::Logistics => "logistics",
        LocationKind::HeadOffice => "head_office",
        LocationKind::Online => "online",
    }
}

fn kind_of(text: &str) -> Option<LocationKind> {
    [LocationKind::Store, LocationKind::Logistics, LocationKind::HeadOffice, LocationKind::Online]
        .into_iter()
        .find(|k| kind_str(*k) == text)
}

#[tracing::instrument(skip_all)]
pub async fn save_location(conn: &mut AnyConnection, location: &LocationInfo) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO locations (code, kind, name, address) VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, address = excluded.address",
    )
    .bind(location.code.as_str())
    .bind(kind_str(location.kind))
    .bind(&location.name)
    .bind(&location.address)
    .execute(&mut *conn)
    .await?;
    let entry = Entry {
        kind: "location",
        key: location.code.to_string(),
        audience: None,
        change: Change::Location(location.clone()),
    };
    feed::publish(conn, vec![entry]).await
}

/// A row of `locations`.
#[derive(Debug, sqlx::FromRow)]
struct LocationRow {
    code: String,
    kind: String,
    name: String,
    address: String,
}

impl TryFrom<LocationRow> for LocationInfo {
    type Error = sqlx::Error;

    fn try_from(row: LocationRow) -> sqlx::Result<LocationInfo> {
        Ok(LocationInfo {
            code: parse("locations.code", &row.code)?,
            kind: kind_of(&row.kind)
                .ok_or_else(|| corrupt("locations.kind", format!("{:?} is no kind of location", row.kind)))?,
            name: row.name,
            address: row.address,
        })
    }
}

#[tracing::instrument(skip_all)]
pub async fn locations(db: &Db) -> anyhow::Result<Vec<LocationInfo>> {
    let rows: Vec<LocationRow> =
        sqlx::query_as("SELECT code, kind, name, address FROM locations ORDER BY code")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(LocationInfo::try_from).collect::<sqlx::Result<_>>()?)
}

/// The location of a kind, when there is exactly one (the logistics centre, the online shop).
/// Which of `codes` are locations of the chain.
#[tracing::instrument(skip_all)]
pub async fn known_locations(
    conn: &mut AnyConnection,
    codes: &[&LocationCode],
) -> sqlx::Result<BTreeSet<LocationCode>> {
    let mut known = BTreeSet::new();
    for chunk in codes.chunks(500) {
        let sql = format!(
            "SELECT code FROM locations WHERE code IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
        for code in chunk {
            query = query.bind(code.as_str());
        }
        for code in query.fetch_all(&mut *conn).await? {
            known.insert(parse("locations.code", &code)?);
        }
    }
    Ok(known)
}

/// Whether the chain has any location yet (a fresh database has none).
#[tracing::instrument(skip_all)]
pub async fn has_locations(db: &Db) -> sqlx::Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) AS n FROM locations").fetch_one(db.pool()).await?;
    Ok(count > 0)
}

/// Whether `code` is one of the chain's stores.
#[tracing::instrument(skip_all)]
pub async fn is_store(db: &Db, code: &LocationCode) -> sqlx::Result<bool> {
    Ok(sqlx::query("SELECT code FROM locations WHERE code = $1 AND kind = 'store'")
        .bind(code.as_str())
        .fetch_optional(db.pool())
        .await?
        .is_some())
}

#[tracing::instrument(skip_all)]
pub async fn location_of_kind(db: &Db, kind: LocationKind) -> anyhow::Result<Option<LocationCode>> {
    Ok(locations(db).await?.into_iter().find(|l| l.kind == kind).map(|l| l.code))
}
