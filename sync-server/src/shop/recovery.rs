//! Sagas a crash left unfinished, taken over and finished: at start, then every
//! [`super::Settings::sweep_every`].
//!
//! A checkout belongs to the request that started it until its lease runs out. Past that, one
//! instance claims it by a conditional update of the lease (of several instances racing for
//! it, one wins) and asks the processor what became of its charge: charged, it is confirmed;
//! declined or never charged, it is cancelled and its reservation released; no answer, it is
//! left for the next round. So a reservation outlives an abandoned checkout by one lease at
//! most, and a checkout never ends with money taken and no order, or an order and no money.
//! Cancellations left between the refund and the books are finished the same way. Refunds
//! owed for store returns and claims are asked for by [`crate::refunds`]' own loop.

use std::sync::Arc;

use super::checkout::{self, Decision};
use super::{Result, Shop};
use crate::db::Db;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub confirmed: u32,
    pub cancelled: u32,
    pub waiting: u32,
    pub cancellations: u32,
}

/// Finishes every checkout and cancellation whose lease has run out; answers what it did.
#[tracing::instrument(skip_all)]
pub async fn round(shop: &Shop, db: &Db) -> Result<Round> {
    let mut done = Round::default();
    let lease = shop.settings.lease_ms()?;
    while let Some(id) = checkout::claim_expired(db, db.now_ms(), lease).await? {
        match checkout::decide(shop.gateway.find_charge(&id).await) {
            Decision::Confirm(payment) => {
                checkout::confirm(shop, db, &id, &payment).await?;
                done.confirmed += 1;
            }
            Decision::Cancel(failure) => {
                checkout::cancel(db, &id, &failure).await?;
                done.cancelled += 1;
            }
            Decision::Wait => {
                done.waiting += 1;
                // The processor cannot answer: leave the rest for the next round.
                break;
            }
        }
    }
    while let Some(number) = super::orders::claim_stuck_cancellation(db, db.now_ms(), lease).await? {
        // One refused refund (alerted) must not hold back the others.
        match super::orders::finish_cancel(shop, db, number).await {
            Ok(()) => done.cancellations += 1,
            Err(e) => tracing::error!(number, error = %e, "cancellation not finished"),
        }
    }
    if done != Round::default() {
        tracing::info!(?done, "recovery round");
    }
    Ok(done)
}

/// Runs [`round`] now and then every `sweep_every` until the process ends.
pub fn spawn(shop: Arc<Shop>, db: Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(shop.settings.sweep_every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = round(&shop, &db).await {
                tracing::error!(error = %e, "recovery round failed");
            }
        }
    })
}
