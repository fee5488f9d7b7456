//! The claims' commands: filing a claim, and each step of its lifecycle.
//!
//! Every command runs the same way, in one transaction: read the claim's events and fold them;
//! refuse a caller who read an older version ([`Error::Stale`]) or a transition the state does
//! not allow ([`Error::Refused`]); append the new events at the version read (a racer that
//! appended meanwhile makes this a [`Error::Stale`] too, and nothing is written); then write
//! what follows from them in the same transaction: the refund owed, the customer's message,
//! head office's audit entry. Two agents acting at once on one claim: one wins, the other is
//! told to reload.

use shared_model::{Money, RecordId};
use sqlx::AnyConnection;

use super::model::{Action, Claim, Event, Kind, Outcome, Subject, fold};
use super::purchase::{self, LineInput};
use super::store::{self, Appended, EventView};
use super::{Error, Result};
use crate::audit::{self, Actor};
use crate::db::{Db, Tx, lock_keys, now_ms};
use crate::notify::{self, Language, Notice, Recipient, Remedy};
use crate::refunds::{Due, Payee, owed};
use crate::shop::Shop;

/// Longest description of a claim, and of a reason.
pub const MAX_DESCRIPTION: usize = 2_000;
pub const MAX_REASON: usize = 500;

/// What a customer says when filing.
#[derive(Debug, Clone)]
pub struct Filing {
    pub kind: Kind,
    pub lines: Vec<LineInput>,
    pub description: String,
}

/// What an agent (or, to reopen, a shopper) does to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Assign { agent: String },
    Start,
    Resolve { outcome: Outcome, reason: String },
    Reject { reason: String },
    Close,
    Reopen { reason: String },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Assign { .. } => Action::Assign,
            Command::Start => Action::Start,
            Command::Resolve { .. } => Action::Resolve,
            Command::Reject { .. } => Action::Reject,
            Command::Close => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
        }
    }
}

fn check_text(field: &str, text: &str, most: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, format!("{field} is required")));
    }
    if text.chars().count() > most {
        return Err(Error::invalid(field, format!("{field} has at most {most} characters")));
    }
    Ok(text.to_owned())
}

/// A claim's reference, as a customer reads it on the phone: R- and eight characters without
/// look-alikes.
fn new_id() -> String {
    format!("R-{}", crate::identity::new_enrolment_code())
}

/// A claim and its history.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ClaimDetail {
    #[serde(flatten)]
    pub claim: Claim,
    pub events: Vec<EventView>,
    /// The commands the claim's state allows now.
    pub allowed: Vec<&'static str>,
    /// A store receipt's number as printed (`VMTL-01-000123`); none for an online order.
    pub receipt_number: Option<String>,
}

/// Reads claim `id` (for a shopper, only one of their own).
pub async fn get(db: &Db, id: &str, shopper: Option<i64>) -> Result<ClaimDetail> {
    let mut conn = db.pool().acquire().await?;
    let events = store::load(&mut conn, id).await?;
    let claim = fold(id, events.iter().map(|e| (&e.event, e.at_ms)))
        .filter(|c| shopper.is_none_or(|customer| owned_by(c, customer)))
        .ok_or_else(|| Error::NotFound(format!("no claim {id}")))?;
    let allowed = match shopper {
        Some(_) => claim.allowed(now_ms()).into_iter().filter(|a| *a == "reopen").collect(),
        None => claim.allowed(now_ms()),
    };
    drop(conn);
    let receipt_number = match &claim.subject {
        Subject::Store { receipt } => {
            crate::sync::receipt_numbers(db, std::slice::from_ref(receipt)).await?.remove(receipt)
        }
        Subject::Online { .. } => None,
    }
    .map(String::from);
    Ok(ClaimDetail { claim, events: events.iter().map(EventView::from).collect(), allowed, receipt_number })
}

fn owned_by(claim: &Claim, customer: i64) -> bool {
    matches!(claim.subject, Subject::Online { customer: c, .. } if c == customer)
}

/// Appends the first event of a new claim under a fresh reference.
async fn append_new(tx: &mut Tx, event: &Event, actor: &Actor) -> Result<(String, Vec<store::Stored>)> {
    // A reference already taken (one chance in a trillion) is drawn again.
    for _ in 0..5 {
        let id = new_id();
        if let Appended::Done(stored) = store::append(tx, &id, 0, std::slice::from_ref(event), actor).await? {
            return Ok((id, stored));
        }
    }
    Err(Error::Internal(anyhow::anyhow!("no free claim reference after five draws")))
}

/// A shopper files a claim about one of their online orders.
#[tracing::instrument(skip_all)]
pub async fn file_online(
    shop: &Shop,
    db: &Db,
    customer: i64,
    order: i64,
    filing: Filing,
    request_id: Option<String>,
) -> Result<ClaimDetail> {
    let description = check_text("description", &filing.description, MAX_DESCRIPTION)?;
    let store = shop.channel(db).await?.to_string();
    let mut tx = db.begin().await?;
    let purchase = purchase::of_order(&mut tx, order)
        .await?
        .filter(|p| p.customer == Some(customer))
        .ok_or_else(|| Error::NotFound(format!("you have no order {order}")))?;
    let status = purchase.status.clone().unwrap_or_default();
    if !["paid", "picked", "shipped", "delivered"].contains(&status.as_str()) {
        return Err(Error::Conflict(format!(
            "order {order} is {status}: only a paid order can be claimed about"
        )));
    }
    let lines = purchase::claim_lines(&purchase, &filing.lines)?;
    let contact = crate::shop::accounts::contact(&mut tx, customer).await?;
    let event = Event::Submitted {
        subject: Subject::Online { order, customer },
        store,
        kind: filing.kind,
        lines,
        description,
        contact_email: contact.as_ref().map(|c| c.email.clone()),
        contact_name: contact.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
        language: contact.as_ref().map_or(Language::Fr, |c| c.language).as_str().to_owned(),
    };
    let actor = Actor::new(format!("customer:{customer}"), request_id);
    let (id, stored) = append_new(&mut tx, &event, &actor).await?;
    let claim = fold(&id, stored.iter().map(|e| (&e.event, e.at_ms)))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a new claim without its filing")))?;
    tell(&mut tx, &claim, &format!("claim-{id}-received"), Notice::ClaimReceived { claim: id.clone() })
        .await?;
    tx.commit().await?;
    get(db, &id, Some(customer)).await
}

/// Head office files a claim for a customer at the counter, about a receipt.
#[tracing::instrument(skip_all)]
pub async fn file_for_receipt(
    db: &Db,
    actor: &Actor,
    receipt: &RecordId,
    filing: Filing,
    contact: Option<Recipient>,
) -> Result<ClaimDetail> {
    let description = check_text("description", &filing.description, MAX_DESCRIPTION)?;
    let mut tx = db.begin().await?;
    let purchase = purchase::of_receipt(&mut tx, receipt)
        .await?
        .ok_or_else(|| Error::NotFound(format!("head office has no sale with receipt {receipt} (yet)")))?;
    let lines = purchase::claim_lines(&purchase, &filing.lines)?;
    let event = Event::Submitted {
        subject: Subject::Store { receipt: receipt.to_string() },
        store: purchase.store.clone().unwrap_or_default(),
        kind: filing.kind,
        lines,
        description,
        contact_email: contact.as_ref().map(|c| c.email.clone()),
        contact_name: contact.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
        language: contact.as_ref().map_or(Language::Fr, |c| c.language).as_str().to_owned(),
    };
    let (id, stored) = append_new(&mut tx, &event, actor).await?;
    let claim = fold(&id, stored.iter().map(|e| (&e.event, e.at_ms)))
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a new claim without its filing")))?;
    tell(&mut tx, &claim, &format!("claim-{id}-received"), Notice::ClaimReceived { claim: id.clone() })
        .await?;
    audit::record(
        &mut tx,
        actor,
        audit::Change::new("claim.file", format!("claim:{id}")).after(summary(&claim)),
    )
    .await?;
    tx.commit().await?;
    get(db, &id, None).await
}

/// What the audit trail keeps of a claim before and after a command.
fn summary(claim: &Claim) -> serde_json::Value {
    serde_json::json!({
        "state": claim.state,
        "version": claim.version,
        "assignee": claim.assignee,
        "outcome": claim.outcome,
        "reason": claim.reason,
        "refunded_cents": claim.refunded_cents,
        "refund_sent_cents": claim.refund_sent_cents,
    })
}

/// Writes `notice` to the claim's customer, if they gave an address.
async fn tell(conn: &mut AnyConnection, claim: &Claim, message: &str, notice: Notice) -> sqlx::Result<()> {
    let Some(email) = claim.contact_email.clone() else { return Ok(()) };
    let to = Recipient {
        email,
        name: claim.contact_name.clone(),
        language: Language::parse(&claim.language).unwrap_or(Language::Fr),
    };
    notify::enqueue(conn, message, &to, &notice).await
}

fn money(cents: i64) -> Result<Money> {
    Money::from_cents(cents).map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))
}

/// Runs `command` on claim `id`, read by the caller at `expected` (the version it holds, if
/// any). A shopper (`shopper`) may only reopen one of their own claims. Answers the claim after.
#[tracing::instrument(skip_all, fields(claim = id, action = command.action().as_str()))]
pub async fn act(
    db: &Db,
    actor: &Actor,
    id: &str,
    expected: Option<i64>,
    command: Command,
    shopper: Option<i64>,
) -> Result<ClaimDetail> {
    let action = command.action();
    let command = match command {
        Command::Resolve { outcome, reason } => {
            let reason = check_text("reason", &reason, MAX_REASON)?;
            match outcome {
                Outcome::Refund { amount_cents } | Outcome::StoreCredit { amount_cents }
                    if amount_cents <= 0 =>
                {
                    return Err(Error::invalid("outcome.amount_cents", "an amount is more than zero"));
                }
                _ => {}
            }
            Command::Resolve { outcome, reason }
        }
        Command::Reject { reason } => Command::Reject { reason: check_text("reason", &reason, MAX_REASON)? },
        Command::Reopen { reason } => Command::Reopen { reason: check_text("reason", &reason, MAX_REASON)? },
        Command::Assign { agent } => {
            let agent = agent.trim().to_owned();
            let known = crate::identity::accounts(db)
                .await
                .map_err(|e| Error::Internal(anyhow::anyhow!("{e}")))?
                .into_iter()
                .any(|a| a.username == agent && !a.disabled);
            if !known {
                return Err(Error::invalid(
                    "agent",
                    format!("{agent:?} is not an enabled head-office account"),
                ));
            }
            Command::Assign { agent }
        }
        other => other,
    };
    if shopper.is_some() && action != Action::Reopen {
        return Err(Error::Forbidden("a shopper may only reopen their claim".into()));
    }
    let mut tx = db.begin().await?;
    let history = store::load(&mut tx, id).await?;
    let claim = fold(id, history.iter().map(|e| (&e.event, e.at_ms)))
        .filter(|c| shopper.is_none_or(|customer| owned_by(c, customer)))
        .ok_or_else(|| Error::NotFound(format!("no claim {id}")))?;
    if let Some(expected) = expected.filter(|e| *e != claim.version) {
        return Err(Error::Stale { id: id.to_owned(), expected, current: claim.version });
    }
    claim.check(action, now_ms()).map_err(Error::Refused)?;
    // A refund or a store credit is weighed against everything else given back of the purchase,
    // under the lock store returns of the same order take: never more than was paid.
    let mut owed = None;
    if let Command::Resolve {
        outcome: outcome @ (Outcome::Refund { amount_cents } | Outcome::StoreCredit { amount_cents }),
        ..
    } = &command
    {
        let (purchase, payee) = match &claim.subject {
            Subject::Online { order, .. } => {
                lock_keys(&mut tx, &[format!("order:{order}")]).await?;
                (purchase::of_order(&mut tx, *order).await?, Payee::Order(*order))
            }
            Subject::Store { receipt } => {
                lock_keys(&mut tx, &[format!("receipt:{receipt}")]).await?;
                let record = crate::db::parse::<RecordId>("claim_events.data", receipt)?;
                (purchase::of_receipt(&mut tx, &record).await?, Payee::Receipt(receipt.clone()))
            }
        };
        let purchase =
            purchase.ok_or_else(|| Error::Conflict("the purchase of this claim is gone".into()))?;
        let cap = purchase::refund_cap(&purchase, &claim.lines, claim.refunded_cents).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("the amounts of the purchase of claim {id} overflow"))
        })?;
        if *amount_cents > cap {
            let what =
                if matches!(outcome, Outcome::Refund { .. }) { "refunded" } else { "given as store credit" };
            return Err(Error::invalid(
                "outcome.amount_cents",
                format!(
                    "at most {} can be {what} on this claim: what was paid for its lines, less what was already refunded or returned",
                    money(cap)?
                ),
            ));
        }
        if matches!(outcome, Outcome::Refund { .. }) {
            owed = Some((payee, *amount_cents));
        }
    }
    let event = match command {
        Command::Assign { agent } => Event::Assigned { agent },
        Command::Start => Event::Started,
        Command::Resolve { outcome, reason } => Event::Resolved { outcome, reason },
        Command::Reject { reason } => Event::Rejected { reason },
        Command::Close => Event::Closed,
        Command::Reopen { reason } => Event::Reopened { reason },
    };
    let stored = match store::append(&mut tx, id, claim.version, std::slice::from_ref(&event), actor).await? {
        Appended::Done(stored) => stored,
        Appended::Conflict { current } => {
            return Err(Error::Stale { id: id.to_owned(), expected: claim.version, current });
        }
    };
    let mut after = claim.clone();
    for e in &stored {
        after.apply(&e.event, e.at_ms);
    }
    let message = format!("claim-{id}-v{}", after.version);
    if let Some((payee, amount)) = owed {
        owed::owe_claim(&mut tx, &message, id, &payee, amount, now_ms()).await?;
    }
    match &event {
        Event::Resolved { outcome, .. } => {
            let remedy = match *outcome {
                Outcome::Refund { amount_cents } => Remedy::Refund(money(amount_cents)?),
                Outcome::Replacement => Remedy::Replacement,
                Outcome::StoreCredit { amount_cents } => Remedy::StoreCredit(money(amount_cents)?),
                Outcome::Nothing => Remedy::Nothing,
            };
            tell(&mut tx, &after, &message, Notice::ClaimResolved { claim: id.to_owned(), remedy }).await?;
        }
        Event::Rejected { reason } => {
            tell(
                &mut tx,
                &after,
                &message,
                Notice::ClaimRejected { claim: id.to_owned(), reason: reason.clone() },
            )
            .await?;
        }
        _ => {}
    }
    if shopper.is_none() {
        let change = audit::Change::new(audit_action(action), format!("claim:{id}"))
            .before(summary(&claim))
            .after(summary(&after));
        audit::record(&mut tx, actor, change).await?;
    }
    tx.commit().await?;
    get(db, id, shopper).await
}

fn audit_action(action: Action) -> &'static str {
    match action {
        Action::Assign => "claim.assign",
        Action::Start => "claim.start",
        Action::Resolve => "claim.resolve",
        Action::Reject => "claim.reject",
        Action::Close => "claim.close",
        Action::Reopen => "claim.reopen",
    }
}

/// Records what the processor answered for a refund owed: on the claim (`refund_sent` or
/// `refund_failed`), in the customer's mail, in the audit trail, with the refund's row, in one
/// transaction. A command racing on the claim makes this read the claim again.
pub(super) async fn record_refund(db: &Db, due: &Due, outcome: Result<String, String>) -> Result<()> {
    let actor = Actor::system();
    for _ in 0..10 {
        let mut tx = db.begin().await?;
        if !owed::settle(&mut tx, due, &outcome, db.now_ms()).await? {
            // Another instance recorded it.
            tx.rollback().await?;
            return Ok(());
        }
        let history = store::load(&mut tx, &due.origin).await?;
        let claim = fold(&due.origin, history.iter().map(|e| (&e.event, e.at_ms)))
            .ok_or_else(|| Error::NotFound(format!("no claim {}", due.origin)))?;
        let event = match &outcome {
            Ok(refund_id) => Event::RefundSent { refund_id: refund_id.clone(), amount_cents: due.amount },
            Err(reason) => Event::RefundFailed { reason: reason.clone(), amount_cents: due.amount },
        };
        let stored =
            match store::append(&mut tx, &due.origin, claim.version, std::slice::from_ref(&event), &actor)
                .await?
            {
                Appended::Done(stored) => stored,
                Appended::Conflict { .. } => {
                    tx.rollback().await?;
                    continue;
                }
            };
        let mut after = claim.clone();
        for e in &stored {
            after.apply(&e.event, e.at_ms);
        }
        match &outcome {
            Ok(_) => {
                let notice = Notice::RefundSent { claim: due.origin.clone(), amount: money(due.amount)? };
                tell(&mut tx, &after, &format!("{}-sent", due.key), notice).await?;
            }
            Err(reason) => {
                let alert = crate::alerts::Alert {
                    message: format!(
                        "the refund of {} on claim {} was refused by the card processor: {reason}",
                        money(due.amount)?,
                        due.origin
                    ),
                    ..crate::alerts::Alert::default()
                }
                .says(
                    "claim_refund_refused",
                    &[("cents", &due.amount), ("claim", &due.origin), ("reason", reason)],
                );
                crate::alerts::raise(&mut tx, crate::alerts::Kind::RefundFailed, &due.key, alert).await?;
            }
        }
        let change = audit::Change::new("claim.refund", format!("claim:{}", due.origin))
            .before(summary(&claim))
            .after(serde_json::json!({ "refund": due.key, "amount_cents": due.amount, "result": outcome.clone() }));
        audit::record(&mut tx, &actor, change).await?;
        tx.commit().await?;
        return Ok(());
    }
    // Left pending: the next settling round asks the processor again (same key, same refund).
    tracing::warn!(claim = due.origin, "the claim kept changing: its refund is recorded on a later round");
    Ok(())
}
