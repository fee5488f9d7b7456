//! Claims' side of the refunds they decide (kept and asked for by [`crate::refunds`]). One
//! about an online order is owed to the shopper's card until the processor confirms it; one
//! about a receipt is paid at the store's counter.
//!
//! The row is written by the resolution's transaction, keyed by the resolution (claim and
//! version), and that key is the idempotency key the processor sees. Once the processor has
//! answered, [`ClaimCreditor`] appends it to the claim as `refund_sent` or `refund_failed`
//! (see [`super::commands::record_refund`]).

use super::purchase;
use crate::db::Db;
use crate::refunds::{Creditor, Due};

/// What the refunds loop asks of claims.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimCreditor;

#[async_trait::async_trait]
impl Creditor for ClaimCreditor {
    async fn payment_of(&self, db: &Db, number: i64) -> anyhow::Result<Option<String>> {
        let mut conn = db.pool().acquire().await?;
        Ok(purchase::of_order(&mut conn, number).await?.and_then(|p| p.payment))
    }

    async fn record(&self, db: &Db, due: &Due, outcome: Result<String, String>) -> anyhow::Result<()> {
        super::commands::record_refund(db, due, outcome)
            .await
            .map_err(|e| anyhow::anyhow!("claim {}: {e}", due.origin))
    }
}
