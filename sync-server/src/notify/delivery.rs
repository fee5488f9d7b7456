//! The sender: claims what is due from the outbox, hands it to the mailer, and retries with
//! backoff; in the background, at once when woken.

use std::sync::Arc;
use std::time::Duration;

use super::mailer::{Mailer, SendError};
use super::outbox;
use crate::db::Db;

/// How delivery retries.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub mailer: Arc<dyn Mailer>,
    /// The first wait after a failure; each next one is twice as long.
    pub retry_first: Duration,
    /// The longest wait between two attempts.
    pub retry_most: Duration,
    /// How long an attempt may take before another instance may take the message over.
    pub lease: Duration,
    /// How often the outbox is looked at when nothing wakes the sender.
    pub every: Duration,
}

impl Delivery {
    pub fn new(mailer: Arc<dyn Mailer>) -> Delivery {
        Delivery {
            mailer,
            retry_first: Duration::from_secs(5),
            retry_most: Duration::from_secs(15 * 60),
            lease: Duration::from_secs(60),
            every: Duration::from_secs(2),
        }
    }

    /// The wait after the `attempts`-th failed attempt.
    pub fn backoff(&self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        self.retry_first.saturating_mul(1 << doublings).min(self.retry_most)
    }
}
/// What a round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: u32,
    /// Tried again later.
    pub deferred: u32,
    /// Given up.
    pub failed: u32,
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Sends every message due; safe from any number of instances at once. Stops at the first
/// transient failure: the mail server is likely down for the others too.
pub async fn deliver_due(db: &Db, delivery: &Delivery) -> sqlx::Result<Delivered> {
    let mut done = Delivered::default();
    while let Some(message) = outbox::claim_due(db, db.now_ms(), ms(delivery.lease)).await? {
        match delivery.mailer.send(&message).await {
            Ok(()) => {
                outbox::mark_sent(db, &message.id).await?;
                metrics::counter!("caisse_mail_sent_total").increment(1);
                done.sent += 1;
            }
            Err(SendError::Transient(why)) => {
                let wait = ms(delivery.backoff(message.attempts));
                tracing::warn!(
                    message = message.id,
                    attempts = message.attempts,
                    why,
                    "mail not sent: tried again later"
                );
                let mut tx = db.begin().await?;
                outbox::defer(&mut tx, &message.id, db.now_ms().saturating_add(wait), why).await?;
                tx.commit().await?;
                metrics::counter!("caisse_mail_deferred_total").increment(1);
                done.deferred += 1;
                break;
            }
            Err(SendError::Permanent(why)) => {
                tracing::error!(message = message.id, why, "mail refused: given up");
                let mut tx = db.begin().await?;
                // Never due again: given up, head office told in the same transaction.
                outbox::defer(&mut tx, &message.id, i64::MAX, format!("given up: {why}")).await?;
                let alert = crate::alerts::Alert {
                    message: format!(
                        "the message {} to {} was refused: {why}",
                        message.id, message.recipient
                    ),
                    ..crate::alerts::Alert::default()
                }
                .says("mail_refused", &[("recipient", &message.recipient), ("reason", &why)]);
                crate::alerts::raise(&mut tx, crate::alerts::Kind::MailFailed, &message.id, alert).await?;
                tx.commit().await?;
                done.failed += 1;
            }
        }
    }
    Ok(done)
}

/// Delivers in the background: at once when `wake` is notified, and every `delivery.every`.
pub fn spawn(db: Db, delivery: Delivery, wake: Arc<tokio::sync::Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = deliver_due(&db, &delivery).await {
                tracing::error!(error = %e, "delivering mail failed: tried again shortly");
            }
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(delivery.every) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Outgoing;

    #[test]
    fn waits_double_up_to_the_ceiling() {
        #[derive(Debug)]
        struct Nowhere;
        #[async_trait::async_trait]
        impl Mailer for Nowhere {
            async fn send(&self, _: &Outgoing) -> Result<(), SendError> {
                Err(SendError::Transient("nowhere".into()))
            }
        }
        let mut delivery = Delivery::new(Arc::new(Nowhere));
        delivery.retry_first = Duration::from_secs(1);
        delivery.retry_most = Duration::from_secs(10);
        let waits: Vec<u64> = (1..=6).map(|a| delivery.backoff(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
        assert_eq!(delivery.backoff(i64::MAX).as_secs(), 10);
    }
}
