//! Messages to customers: an order confirmed, shipped or refunded; a claim received, resolved or
//! rejected; a refund sent.
//!
//! A change writes its message to the outbox in its own transaction ([`enqueue`]), so a change
//! that commits always has its message and one that rolls back has none. [`deliver_due`] sends
//! what is waiting, at least once: a failed attempt is tried again later, each wait twice the
//! one before up to a ceiling, and a message whose acceptance was lost on the way may be sent a
//! second time. Each message's id is made from the change it tells of, so the same change
//! never writes two messages, and it travels as the email's `Message-ID`, which mail systems
//! deduplicate by: the customer sees each message once.
//!
//! Messages go out over SMTP ([`SmtpMailer`], by `lettre`) or, for the demo and for a machine
//! with no mail server, into a folder, one `.eml` file per message id ([`FolderMailer`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use shared_model::Money;
use sqlx::{AnyConnection, FromRow};

use crate::db::{Db, now_ms};

/// The language a customer reads their messages in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Language> {
        match text {
            "fr" => Some(Language::Fr),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: String,
    pub name: String,
    pub language: Language,
}

/// An amount as a customer reads it: "12,99 $" in French, "$12.99" in English.
fn dollars(amount: Money, fr: bool) -> String {
    if fr { format!("{} $", amount.to_string().replace('.', ",")) } else { format!("${amount}") }
}

/// What a resolved claim gives the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    Refund(Money),
    Replacement,
    StoreCredit(Money),
    Nothing,
}

impl Remedy {
    fn describe(self, fr: bool) -> String {
        match (self, fr) {
            (Remedy::Refund(amount), true) => {
                format!("un remboursement de {} sur votre carte", dollars(amount, true))
            }
            (Remedy::Refund(amount), false) => format!("a refund of {} to your card", dollars(amount, false)),
            (Remedy::Replacement, true) => "un article de remplacement vous sera envoyé".into(),
            (Remedy::Replacement, false) => "a replacement item will be sent to you".into(),
            (Remedy::StoreCredit(amount), true) => {
                format!("un crédit de {} en magasin", dollars(amount, true))
            }
            (Remedy::StoreCredit(amount), false) => format!("a store credit of {}", dollars(amount, false)),
            (Remedy::Nothing, true) => "aucune compensation n'est due".into(),
            (Remedy::Nothing, false) => "no compensation is due".into(),
        }
    }
}

/// What a customer is told of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    OrderConfirmed {
        order: i64,
        total: Money,
    },
    OrderShipped {
        order: i64,
    },
    OrderRefunded {
        order: i64,
        amount: Money,
    },
    ClaimReceived {
        claim: String,
    },
    ClaimResolved {
        claim: String,
        remedy: Remedy,
    },
    ClaimRejected {
        claim: String,
        reason: String,
    },
    RefundSent {
        claim: String,
        amount: Money,
    },
    /// Someone signed up with the address of an existing account: its owner is told here,
    /// never the person signing up (who might be guessing which addresses have accounts).
    SignUpWithYourAddress,
}

impl Notice {
    /// Subject and body in `language`, addressed to `name`.
    pub fn render(&self, language: Language, name: &str) -> (String, String) {
        let fr = language == Language::Fr;
        let money = |amount: &Money| dollars(*amount, fr);
        let (subject, text) = match self {
            Notice::OrderConfirmed { order, total } => (
                if fr {
                    format!("Commande W-{order} confirmée")
                } else {
                    format!("Order W-{order} confirmed")
                },
                if fr {
                    format!(
                        "Nous avons bien reçu votre paiement de {}. Votre commande W-{order} sera préparée sous peu.",
                        money(total)
                    )
                } else {
                    format!(
                        "We received your payment of {}. Your order W-{order} will be prepared shortly.",
                        money(total)
                    )
                },
            ),
            Notice::OrderShipped { order } => (
                if fr {
                    format!("Commande W-{order} expédiée")
                } else {
                    format!("Order W-{order} shipped")
                },
                if fr {
                    format!("Votre commande W-{order} a quitté notre centre de distribution.")
                } else {
                    format!("Your order W-{order} has left our distribution centre.")
                },
            ),
            Notice::OrderRefunded { order, amount } => (
                if fr {
                    format!("Remboursement de la commande W-{order}")
                } else {
                    format!("Refund for order W-{order}")
                },
                if fr {
                    format!(
                        "Nous avons remboursé {} sur la carte utilisée pour la commande W-{order}.",
                        money(amount)
                    )
                } else {
                    format!("We refunded {} to the card used for order W-{order}.", money(amount))
                },
            ),
            Notice::ClaimReceived { claim } => (
                if fr { format!("Réclamation {claim} reçue") } else { format!("Claim {claim} received") },
                if fr {
                    format!(
                        "Nous avons bien reçu votre réclamation {claim}. Un agent l'examinera et vous répondra."
                    )
                } else {
                    format!("We received your claim {claim}. An agent will look into it and answer you.")
                },
            ),
            Notice::ClaimResolved { claim, remedy } => (
                if fr { format!("Réclamation {claim} résolue") } else { format!("Claim {claim} resolved") },
                if fr {
                    format!("Votre réclamation {claim} est résolue : {}.", remedy.describe(true))
                } else {
                    format!("Your claim {claim} is resolved: {}.", remedy.describe(false))
                },
            ),
            Notice::ClaimRejected { claim, reason } => (
                if fr { format!("Réclamation {claim}") } else { format!("Claim {claim}") },
                if fr {
                    format!("Nous ne pouvons pas donner suite à votre réclamation {claim} : {reason}")
                } else {
                    format!("We cannot act on your claim {claim}: {reason}")
                },
            ),
            Notice::RefundSent { claim, amount } => (
                if fr {
                    format!("Remboursement de {} envoyé", money(amount))
                } else {
                    format!("Refund of {} sent", money(amount))
                },
                if fr {
                    format!(
                        "Le remboursement de {} pour votre réclamation {claim} a été envoyé à votre carte.",
                        money(amount)
                    )
                } else {
                    format!("The refund of {} for your claim {claim} was sent to your card.", money(amount))
                },
            ),
            Notice::SignUpWithYourAddress => (
                if fr { "Votre compte Caisse".to_owned() } else { "Your Caisse account".to_owned() },
                if fr {
                    "Quelqu'un a voulu ouvrir un compte avec votre adresse, qui en a déjà un. Si c'était vous, \
                     connectez-vous avec votre mot de passe ; sinon, vous n'avez rien à faire : votre compte \
                     n'a pas changé."
                        .to_owned()
                } else {
                    "Someone tried to open an account with your address, which already has one. If it was you, \
                     sign in with your password; if not, there is nothing to do: your account has not changed."
                        .to_owned()
                },
            ),
        };
        let body = if fr {
            format!("Bonjour {name},\n\n{text}\n\nL'équipe Caisse\n")
        } else {
            format!("Hello {name},\n\n{text}\n\nThe Caisse team\n")
        };
        (subject, body)
    }
}

/// Writes the message telling `to` of `notice` to the outbox, in the caller's transaction.
/// `id` names the change (`order-12-shipped`, `claim-R-…-v3`): writing it again does nothing.
pub async fn enqueue(
    conn: &mut AnyConnection,
    id: &str,
    to: &Recipient,
    notice: &Notice,
) -> sqlx::Result<()> {
    let (subject, body) = notice.render(to.language, &to.name);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, recipient, language, subject, body, created_ms, attempts, next_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(&to.email)
    .bind(to.language.as_str())
    .bind(subject)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message in the outbox.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct Outgoing {
    pub id: String,
    pub recipient: String,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub created_ms: i64,
    pub attempts: i64,
    pub next_ms: i64,
    pub sent_ms: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str =
    "id, recipient, language, subject, body, created_ms, attempts, next_ms, sent_ms, last_error";

/// Why a message did not go out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Try again later: the server is down, busy, or did not answer.
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (the address is refused): given up, head office told.
    #[error("{0}")]
    Permanent(String),
}

/// Where messages go.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError>;
}

/// The email a message becomes.
fn email(from: &Mailbox, message: &Outgoing) -> Result<Message, SendError> {
    let to: Mailbox = message
        .recipient
        .parse()
        .map_err(|e| SendError::Permanent(format!("the address {} is refused: {e}", message.recipient)))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message.subject.clone())
        .message_id(Some(format!("<{}@caisse>", message.id)))
        .header(ContentType::TEXT_PLAIN)
        .body(message.body.clone())
        .map_err(|e| SendError::Permanent(format!("the message cannot be written: {e}")))
}

/// Sends over SMTP.
#[derive(Debug, Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `url` (`smtp://host:port`, `smtps://user:password@host`, or
    /// `smtp://host?tls=required` for STARTTLS), sending as `from`.
    pub fn new(url: &str, from: &str, timeout: Duration) -> anyhow::Result<SmtpMailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("the SMTP URL {url:?} is refused: {e}"))?
            .timeout(Some(timeout))
            .build();
        let from =
            from.parse().map_err(|e| anyhow::anyhow!("the sender address {from:?} is refused: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError> {
        let email = email(&self.from, message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}

/// Writes each message to `folder/<id>.eml`: the demo's mailbox. Writing one again replaces
/// its file, so a retried message is still there once.
#[derive(Debug, Clone)]
pub struct FolderMailer {
    folder: PathBuf,
    from: Mailbox,
}

impl FolderMailer {
    pub fn new(folder: PathBuf, from: &str) -> anyhow::Result<FolderMailer> {
        std::fs::create_dir_all(&folder)
            .map_err(|e| anyhow::anyhow!("cannot create the mail folder {}: {e}", folder.display()))?;
        let from =
            from.parse().map_err(|e| anyhow::anyhow!("the sender address {from:?} is refused: {e}"))?;
        Ok(FolderMailer { folder, from })
    }
}

#[async_trait::async_trait]
impl Mailer for FolderMailer {
    async fn send(&self, message: &Outgoing) -> Result<(), SendError> {
        let email = email(&self.from, message)?;
        // Written beside and renamed, so a reader never sees half a message.
        let file = self.folder.join(format!("{}.eml", message.id));
        let part = self.folder.join(format!(".{}.eml.part", message.id));
        tokio::fs::write(&part, email.formatted())
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", part.display())))?;
        tokio::fs::rename(&part, &file)
            .await
            .map_err(|e| SendError::Transient(format!("cannot write {}: {e}", file.display())))
    }
}

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

/// Claims one message due for an attempt: its next attempt is pushed a lease away, so no other
/// instance sends it meanwhile.
async fn claim_due(db: &Db, lease_ms: i64) -> sqlx::Result<Option<Outgoing>> {
    let now = now_ms();
    let mut tx = db.begin().await?;
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET next_ms = $1, attempts = attempts + 1 WHERE id = (
             SELECT id FROM outbox WHERE sent_ms IS NULL AND next_ms <= $2 ORDER BY next_ms, id LIMIT 1
         ) AND sent_ms IS NULL AND next_ms <= $2
         RETURNING {COLUMNS}"
    )))
    .bind(now + lease_ms)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
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
    while let Some(message) = claim_due(db, ms(delivery.lease)).await? {
        match delivery.mailer.send(&message).await {
            Ok(()) => {
                db.write(
                    sqlx::query("UPDATE outbox SET sent_ms = $1, last_error = NULL WHERE id = $2")
                        .bind(now_ms())
                        .bind(&message.id),
                )
                .await?;
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
                db.write(
                    sqlx::query(
                        "UPDATE outbox SET next_ms = $1, last_error = $2 WHERE id = $3 AND sent_ms IS NULL",
                    )
                    .bind(now_ms().saturating_add(wait))
                    .bind(why)
                    .bind(&message.id),
                )
                .await?;
                metrics::counter!("caisse_mail_deferred_total").increment(1);
                done.deferred += 1;
                break;
            }
            Err(SendError::Permanent(why)) => {
                tracing::error!(message = message.id, why, "mail refused: given up");
                let mut tx = db.begin().await?;
                sqlx::query(
                    "UPDATE outbox SET next_ms = $1, last_error = $2 WHERE id = $3 AND sent_ms IS NULL",
                )
                .bind(i64::MAX)
                .bind(format!("given up: {why}"))
                .bind(&message.id)
                .execute(&mut *tx)
                .await?;
                let alert = crate::alerts::Alert {
                    message: format!(
                        "the message {} to {} was refused: {why}",
                        message.id, message.recipient
                    ),
                    ..crate::alerts::Alert::default()
                };
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

/// Messages, newest first: what head office sees of the outbox.
pub async fn recent(db: &Db, recipient: Option<&str>, limit: u32) -> sqlx::Result<Vec<Outgoing>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outbox WHERE ($1 = '' OR recipient = $1) ORDER BY created_ms DESC, id LIMIT $2"
    )))
    .bind(recipient.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn amounts_read_as_each_language_writes_them() {
        let amount = Money::from_cents(1_299).unwrap();
        let (fr, _) = Notice::RefundSent { claim: "R-1".into(), amount }.render(Language::Fr, "Léa");
        let (en, _) = Notice::RefundSent { claim: "R-1".into(), amount }.render(Language::En, "Léa");
        assert_eq!(fr, "Remboursement de 12,99 $ envoyé");
        assert_eq!(en, "Refund of $12.99 sent");
    }

    #[test]
    fn each_notice_speaks_both_languages() {
        let notices = [
            Notice::OrderConfirmed { order: 7, total: Money::from_cents(1_234).unwrap() },
            Notice::OrderShipped { order: 7 },
            Notice::OrderRefunded { order: 7, amount: Money::from_cents(500).unwrap() },
            Notice::ClaimReceived { claim: "R-ABCD-EFGH".into() },
            Notice::ClaimResolved { claim: "R-ABCD-EFGH".into(), remedy: Remedy::Replacement },
            Notice::ClaimRejected { claim: "R-ABCD-EFGH".into(), reason: "out of warranty".into() },
            Notice::RefundSent { claim: "R-ABCD-EFGH".into(), amount: Money::from_cents(500).unwrap() },
        ];
        for notice in notices {
            let (fr_subject, fr_body) = notice.render(Language::Fr, "Léa");
            let (en_subject, en_body) = notice.render(Language::En, "Léa");
            assert_ne!(fr_subject, en_subject);
            assert!(fr_body.starts_with("Bonjour Léa") && en_body.starts_with("Hello Léa"));
        }
    }
}
