//! The one loop that asks the card processor for every refund owed, store returns' and
//! claims' alike: safe from any number of instances at once, since each refund is claimed by a
//! lease ([`crate::lease`]) and asked under its own idempotency key.

use shared_model::Money;

use super::{Creditor, Due, Kind, Result, Settler, owed};
use crate::db::Db;
use crate::payments::PaymentError;

/// What a settling round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    pub refunded: u32,
    pub failed: u32,
    /// The processor gave no answer: asked again after a lease.
    pub waiting: u32,
}

/// Asks the processor for every refund owed and not being asked, of every kind.
#[tracing::instrument(skip_all)]
pub async fn settle_due(settler: &Settler, db: &Db) -> Result<Settled> {
    settle_kinds(settler, db, &[Kind::Return, Kind::Claim]).await
}

/// Asks the processor for the refunds owed of `kinds` only: a request that decided a claim's
/// refund settles claims without waiting behind, or being stopped by, the store returns.
/// Within a kind it stops at the first refund the processor cannot answer for (it is likely
/// down for that kind's others too) and goes on to the next kind, so one kind never holds up
/// another.
#[tracing::instrument(skip_all)]
pub async fn settle_kinds(settler: &Settler, db: &Db, kinds: &[Kind]) -> Result<Settled> {
    let mut done = Settled::default();
    let lease =
        crate::db::to_i64("the refund lease", settler.lease.as_millis()).map_err(sqlx::Error::from)?;
    for &kind in kinds {
        let creditor = settler.creditor(kind);
        while let Some(due) = owed::claim_due(db, kind, db.now_ms(), lease).await? {
            let Some(outcome) = ask(settler, creditor, db, &due).await? else {
                done.waiting += 1;
                break;
            };
            if outcome.is_ok() {
                done.refunded += 1;
            } else {
                done.failed += 1;
            }
            creditor.record(db, &due, outcome).await?;
        }
    }
    Ok(done)
}

/// The processor's answer for `due`, or `None` when it cannot say yet.
async fn ask(
    settler: &Settler,
    creditor: &dyn Creditor,
    db: &Db,
    due: &Due,
) -> Result<Option<Result<String, String>>> {
    let payment = match due.order_number {
        Some(number) => creditor.payment_of(db, number).await?,
        None => None,
    };
    let Some(payment) = payment else {
        return Ok(Some(Err("the order has no payment to refund".to_owned())));
    };
    let amount = Money::from_cents(due.amount).map_err(|e| anyhow::anyhow!("refund {}: {e}", due.key))?;
    match settler.gateway.refund(&due.idempotency_key(), &payment, amount).await {
        Ok(id) => Ok(Some(Ok(id))),
        Err(PaymentError::Ambiguous(why)) => {
            tracing::warn!(refund = due.key, why, "refund not confirmed: asked again after the lease");
            Ok(None)
        }
        Err(PaymentError::Refused(why)) => Ok(Some(Err(why))),
    }
}

/// Runs [`settle_due`] every `settler.every` until the process ends.
pub fn spawn(settler: Settler, db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(settler.every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match settle_due(&settler, &db).await {
                Ok(done) if done != Settled::default() => tracing::info!(?done, "refunds settled"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "settling refunds failed"),
            }
        }
    })
}
