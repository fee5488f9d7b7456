//! A claim as its events make it, and the rules of its lifecycle. Pure: no database, no clock
//! (times come with the events), so the rules are tested on their own and replay is exact.
//!
//! ```text
//! submitted ─assign→ assigned ─start→ in_progress ─resolve→ resolved ─close→ closed
//!     │                  │                 │                              ↑       │
//!     └──────────────────┴─────reject──────┴──→ rejected ────close────────┘       │
//!                                        reopen (within 30 days of closing) ←─────┘
//! ```
//! A claim may be (re)assigned in any open state. Reopening brings it back to `assigned` when
//! it had an agent, to `submitted` otherwise.

use serde::{Deserialize, Serialize};

/// How long after closing a claim may be reopened.
pub const REOPEN_WITHIN_MS: i64 = 30 * 24 * 3600 * 1000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DamagedItem,
    MissingItem,
    WrongCharge,
    Delivery,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 5] =
        [Kind::DamagedItem, Kind::MissingItem, Kind::WrongCharge, Kind::Delivery, Kind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DamagedItem => "damaged_item",
            Kind::MissingItem => "missing_item",
            Kind::WrongCharge => "wrong_charge",
            Kind::Delivery => "delivery",
            Kind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Assigned,
    InProgress,
    Resolved,
    Rejected,
    Closed,
}

impl State {
    pub const ALL: [State; 6] = [
        State::Submitted,
        State::Assigned,
        State::InProgress,
        State::Resolved,
        State::Rejected,
        State::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Assigned => "assigned",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Rejected => "rejected",
            State::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        matches!(self, State::Submitted | State::Assigned | State::InProgress)
    }
}

/// What a resolution gives the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    /// Money back: to the card for an online order (through the processor), at the store for
    /// a receipt.
    Refund {
        amount_cents: i64,
    },
    Replacement,
    StoreCredit {
        amount_cents: i64,
    },
    Nothing,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Refund { .. } => "refund",
            Outcome::Replacement => "replacement",
            Outcome::StoreCredit { .. } => "store_credit",
            Outcome::Nothing => "nothing",
        }
    }

    pub fn refund_cents(self) -> i64 {
        match self {
            Outcome::Refund { amount_cents } => amount_cents,
            _ => 0,
        }
    }
}

/// One line of the order or receipt that a claim is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimLine {
    /// The line's number in the order or on the receipt, counted from 1 as the register
    /// counts them (events of formats 1 and 2 counted from 0: [`super::store::upcast`]).
    /// Shown as `line_number`, the name filings use; stored events may say `line`.
    #[serde(rename = "line_number", alias = "line")]
    pub line: u32,
    pub sku: String,
    pub quantity: u32,
}

/// What a claim is about: an online order (filed by its shopper) or a store receipt (filed by
/// head office for the customer at the counter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Subject {
    Online { order: i64, customer: i64 },
    Store { receipt: String },
}

/// The events of a claim. Their data is JSON in the store; [`super::store::upcast`] brings
/// older formats of it up to these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Event {
    Submitted {
        subject: Subject,
        /// The location whose sale it is: the online channel, or the receipt's store.
        store: String,
        kind: Kind,
        lines: Vec<ClaimLine>,
        description: String,
        /// Where to write to the customer (a shopper's account address, or the address given
        /// at the counter); none: the customer is not written to.
        contact_email: Option<String>,
        contact_name: String,
        /// fr or en. Added in format 2: format 1 events are read as French.
        language: String,
    },
    Assigned {
        agent: String,
    },
    Started,
    Resolved {
        outcome: Outcome,
        reason: String,
    },
    Rejected {
        reason: String,
    },
    /// The processor confirmed a refund decided by a resolution.
    RefundSent {
        refund_id: String,
        amount_cents: i64,
    },
    /// The processor refused a refund: a person must look. What it was for is no longer
    /// counted as refunded, so the claim may be resolved with a refund again after reopening.
    RefundFailed {
        reason: String,
        #[serde(default)]
        amount_cents: i64,
    },
    Closed,
    Reopened {
        reason: String,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Submitted { .. } => "submitted",
            Event::Assigned { .. } => "assigned",
            Event::Started => "started",
            Event::Resolved { .. } => "resolved",
            Event::Rejected { .. } => "rejected",
            Event::RefundSent { .. } => "refund_sent",
            Event::RefundFailed { .. } => "refund_failed",
            Event::Closed => "closed",
            Event::Reopened { .. } => "reopened",
        }
    }
}

/// A claim, folded from its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Claim {
    pub id: String,
    /// How many events it has: the version a command expects.
    pub version: i64,
    pub state: State,
    pub subject: Subject,
    pub store: String,
    pub kind: Kind,
    pub lines: Vec<ClaimLine>,
    pub description: String,
    pub contact_email: Option<String>,
    pub contact_name: String,
    pub language: String,
    pub assignee: Option<String>,
    pub outcome: Option<Outcome>,
    pub reason: Option<String>,
    /// Refunds decided on this claim, and those the processor confirmed.
    pub refunded_cents: i64,
    pub refund_sent_cents: i64,
    pub filed_ms: i64,
    pub updated_ms: i64,
    pub closed_ms: Option<i64>,
}

impl Claim {
    /// The claim its first event starts.
    pub fn start(id: &str, event: &Event, at_ms: i64) -> Option<Claim> {
        let Event::Submitted {
            subject,
            store,
            kind,
            lines,
            description,
            contact_email,
            contact_name,
            language,
        } = event
        else {
            return None;
        };
        Some(Claim {
            id: id.to_owned(),
            version: 1,
            state: State::Submitted,
            subject: subject.clone(),
            store: store.clone(),
            kind: *kind,
            lines: lines.clone(),
            description: description.clone(),
            contact_email: contact_email.clone(),
            contact_name: contact_name.clone(),
            language: language.clone(),
            assignee: None,
            outcome: None,
            reason: None,
            refunded_cents: 0,
            refund_sent_cents: 0,
            filed_ms: at_ms,
            updated_ms: at_ms,
            closed_ms: None,
        })
    }

    /// The claim after `event`. Events are facts: applying one never fails.
    pub fn apply(&mut self, event: &Event, at_ms: i64) {
        self.version += 1;
        self.updated_ms = at_ms;
        match event {
            Event::Submitted { .. } => {}
            Event::Assigned { agent } => {
                self.assignee = Some(agent.clone());
                if self.state == State::Submitted {
                    self.state = State::Assigned;
                }
            }
            Event::Started => self.state = State::InProgress,
            Event::Resolved { outcome, reason } => {
                self.state = State::Resolved;
                self.outcome = Some(*outcome);
                self.reason = Some(reason.clone());
                self.refunded_cents = self.refunded_cents.saturating_add(outcome.refund_cents());
            }
            Event::Rejected { reason } => {
                self.state = State::Rejected;
                self.outcome = None;
                self.reason = Some(reason.clone());
            }
            Event::RefundSent { amount_cents, .. } => {
                self.refund_sent_cents = self.refund_sent_cents.saturating_add(*amount_cents);
            }
            Event::RefundFailed { amount_cents, .. } => {
                self.refunded_cents = self.refunded_cents.saturating_sub(*amount_cents);
            }
            Event::Closed => {
                self.state = State::Closed;
                self.closed_ms = Some(at_ms);
            }
            Event::Reopened { .. } => {
                self.state = if self.assignee.is_some() { State::Assigned } else { State::Submitted };
                self.closed_ms = None;
                self.outcome = None;
            }
        }
    }

    /// The commands its state allows now (`at_ms`), as the claim's page offers them.
    pub fn allowed(&self, at_ms: i64) -> Vec<&'static str> {
        Action::ALL.into_iter().filter(|a| self.check(*a, at_ms).is_ok()).map(Action::as_str).collect()
    }

    /// Whether `action` may happen to the claim now: an error names the state and the action.
    pub fn check(&self, action: Action, at_ms: i64) -> Result<(), Refused> {
        let allowed = match action {
            Action::Assign => self.state.is_open(),
            Action::Start => self.state == State::Assigned,
            Action::Resolve => self.state == State::InProgress,
            Action::Reject => self.state.is_open(),
            Action::Close => matches!(self.state, State::Resolved | State::Rejected),
            Action::Reopen => {
                self.state == State::Closed
                    && self.closed_ms.is_some_and(|closed| at_ms.saturating_sub(closed) <= REOPEN_WITHIN_MS)
            }
        };
        if allowed {
            return Ok(());
        }
        let detail = if action == Action::Reopen && self.state == State::Closed {
            format!("claim {} was closed more than 30 days ago: it cannot be reopened", self.id)
        } else {
            format!("claim {} is {}: it cannot be {}", self.id, self.state.as_str(), action.past())
        };
        Err(Refused { state: self.state, action, detail })
    }
}

/// What an agent or a shopper may do to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Assign,
    Start,
    Resolve,
    Reject,
    Close,
    Reopen,
}

impl Action {
    pub const ALL: [Action; 6] =
        [Action::Assign, Action::Start, Action::Resolve, Action::Reject, Action::Close, Action::Reopen];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::Start => "start",
            Action::Resolve => "resolve",
            Action::Reject => "reject",
            Action::Close => "close",
            Action::Reopen => "reopen",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Action::Assign => "assigned",
            Action::Start => "started",
            Action::Resolve => "resolved",
            Action::Reject => "rejected",
            Action::Close => "closed",
            Action::Reopen => "reopened",
        }
    }
}

/// A transition the claim's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refused {
    pub state: State,
    pub action: Action,
    pub detail: String,
}

/// Folds a stream's events (with their times) into its claim; `None` for an empty stream.
pub fn fold<'a>(id: &str, events: impl IntoIterator<Item = (&'a Event, i64)>) -> Option<Claim> {
    let mut events = events.into_iter();
    let (first, at) = events.next()?;
    let mut claim = Claim::start(id, first, at)?;
    for (event, at) in events {
        claim.apply(event, at);
    }
    Some(claim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted() -> Event {
        Event::Submitted {
            subject: Subject::Online { order: 7, customer: 1 },
            store: "WEB".into(),
            kind: Kind::DamagedItem,
            lines: vec![ClaimLine { line: 1, sku: "CAF-ESP-250".into(), quantity: 1 }],
            description: "the bag was torn".into(),
            contact_email: Some("lea@example.com".into()),
            contact_name: "Léa".into(),
            language: "fr".into(),
        }
    }

    #[test]
    fn the_lifecycle_goes_through_its_states_in_order() {
        let mut claim = Claim::start("R-1", &submitted(), 0).unwrap();
        assert_eq!(claim.allowed(0), ["assign", "reject"]);
        claim.apply(&Event::Assigned { agent: "marie".into() }, 1);
        assert_eq!(claim.state, State::Assigned);
        assert!(claim.check(Action::Resolve, 1).is_err());
        claim.apply(&Event::Started, 2);
        assert_eq!(claim.allowed(2), ["assign", "resolve", "reject"]);
        claim.apply(
            &Event::Resolved { outcome: Outcome::Refund { amount_cents: 500 }, reason: "torn".into() },
            3,
        );
        assert_eq!(claim.refunded_cents, 500);
        assert_eq!(claim.allowed(3), ["close"]);
        claim.apply(&Event::Closed, 4);
        assert_eq!(claim.allowed(4), ["reopen"]);
        assert_eq!(claim.version, 5);
    }

    #[test]
    fn a_refund_the_processor_refused_no_longer_counts_as_refunded() {
        let mut claim = Claim::start("R-1", &submitted(), 0).unwrap();
        claim.apply(&Event::Assigned { agent: "marie".into() }, 1);
        claim.apply(&Event::Started, 2);
        claim.apply(
            &Event::Resolved { outcome: Outcome::Refund { amount_cents: 500 }, reason: "torn".into() },
            3,
        );
        claim.apply(&Event::RefundFailed { reason: "card closed".into(), amount_cents: 500 }, 4);
        assert_eq!((claim.refunded_cents, claim.refund_sent_cents), (0, 0));
        assert_eq!(claim.state, State::Resolved);
    }

    #[test]
    fn a_refused_transition_names_the_state_and_the_action() {
        let claim = Claim::start("R-1", &submitted(), 0).unwrap();
        let refused = claim.check(Action::Close, 0).unwrap_err();
        assert_eq!(refused.detail, "claim R-1 is submitted: it cannot be closed");
    }

    #[test]
    fn reopening_is_allowed_for_thirty_days_after_closing() {
        let mut claim = Claim::start("R-1", &submitted(), 0).unwrap();
        claim.apply(&Event::Rejected { reason: "no proof".into() }, 1);
        claim.apply(&Event::Closed, 10);
        assert!(claim.check(Action::Reopen, 10 + REOPEN_WITHIN_MS).is_ok());
        let late = claim.check(Action::Reopen, 11 + REOPEN_WITHIN_MS).unwrap_err();
        assert!(late.detail.contains("more than 30 days"), "{late}");
        claim.apply(&Event::Reopened { reason: "new photos".into() }, 20);
        assert_eq!(claim.state, State::Submitted);
    }
}
