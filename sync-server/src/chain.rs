//! The chain's receipt details: its legal name and its GST and QST registration numbers, set
//! at head office (`PUT /api/chain-settings`) and published in the change feed, so that every
//! register prints them, the offline ones once they next pull. Owns `chain_settings`
//! (migration 0013), one row per setting; a setting never set or cleared has no row.

use std::collections::BTreeMap;

use anyhow::Context;
use shared_model::chain::{ChainInfo, GstNumber, LegalName, QstNumber};
use shared_model::protocol::Change;
use sqlx::AnyConnection;

use crate::audit::{self, Actor};
use crate::db::Db;
use crate::feed::{self, Entry};

/// The settings' keys, in the table and in a register's settings store alike.
pub const LEGAL_NAME: &str = "legal_name";
pub const GST_NUMBER: &str = "gst_number";
pub const QST_NUMBER: &str = "qst_number";

/// What is set now.
#[tracing::instrument(skip_all)]
pub async fn settings(db: &Db) -> anyhow::Result<ChainInfo> {
    let mut conn = db.pool().acquire().await?;
    read(&mut conn).await
}

async fn read(conn: &mut AnyConnection) -> anyhow::Result<ChainInfo> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT key, value FROM chain_settings").fetch_all(&mut *conn).await?;
    let rows: BTreeMap<String, String> = rows.into_iter().collect();
    // Every value went through its parser before it was written: one that no longer parses
    // was changed behind the server's back.
    let get = |key: &str| rows.get(key).map(String::as_str);
    Ok(ChainInfo {
        legal_name: get(LEGAL_NAME).map(LegalName::parse).transpose().context("chain_settings.legal_name")?,
        gst_number: get(GST_NUMBER).map(GstNumber::parse).transpose().context("chain_settings.gst_number")?,
        qst_number: get(QST_NUMBER).map(QstNumber::parse).transpose().context("chain_settings.qst_number")?,
    })
}

/// Replaces the chain's settings with `info` (a `None` clears its setting), writes the change
/// with what it replaced to the audit trail under `actor`, and publishes it to every register.
/// Setting what is already set writes nothing.
#[tracing::instrument(skip_all)]
pub async fn set(db: &Db, info: &ChainInfo, actor: &Actor) -> anyhow::Result<ChainInfo> {
    let mut tx = db.begin().await?;
    let before = read(&mut tx).await?;
    if before == *info {
        tx.rollback().await?;
        return Ok(before);
    }
    write(&mut tx, info).await?;
    let change = audit::Change::new("chain.settings", "chain:settings").before(&before).after(info);
    audit::record(&mut tx, actor, change).await?;
    // Last: publishing holds the feed's clock until the commit.
    publish(&mut tx, info).await?;
    tx.commit().await?;
    Ok(info.clone())
}

/// Writes `info` and publishes it, unaudited: loading the demo chain into an empty database.
#[tracing::instrument(skip_all)]
pub async fn load(conn: &mut AnyConnection, info: &ChainInfo) -> sqlx::Result<()> {
    write(conn, info).await?;
    publish(conn, info).await
}

async fn write(conn: &mut AnyConnection, info: &ChainInfo) -> sqlx::Result<()> {
    let values = [
        (LEGAL_NAME, info.legal_name.as_ref().map(LegalName::as_str)),
        (GST_NUMBER, info.gst_number.as_ref().map(GstNumber::as_str)),
        (QST_NUMBER, info.qst_number.as_ref().map(QstNumber::as_str)),
    ];
    for (key, value) in values {
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO chain_settings (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(&mut *conn)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM chain_settings WHERE key = $1").bind(key).execute(&mut *conn).await?
            }
        };
    }
    Ok(())
}

/// One key in the feed: a register that pulls late gets only the latest settings.
async fn publish(conn: &mut AnyConnection, info: &ChainInfo) -> sqlx::Result<()> {
    let entry =
        Entry { kind: "chain", key: "settings".into(), audience: None, change: Change::Chain(info.clone()) };
    feed::publish(conn, vec![entry]).await
}
