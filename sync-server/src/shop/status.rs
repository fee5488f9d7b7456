//! The words an order's status and a checkout's step are stored and sent as, and the moves
//! between them: the one place that says which move is allowed.
//!
//! ```text
//! pending_payment ─paid→ paid ─picked→ picked ─shipped→ shipped ─delivered→ delivered
//!        │                 │
//!        └──→ cancelled ←──┴── cancelling (the shopper cancelled: refund under way)
//! ```

use serde::{Deserialize, Serialize};

/// An online order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Ordered, its units reserved; the processor's answer is not in yet.
    PendingPayment,
    Paid,
    Picked,
    Shipped,
    Delivered,
    /// The shopper cancelled a paid order: its refund is being asked for.
    Cancelling,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Picked,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelling,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Picked => "picked",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelling => "cancelling",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// The status stored or sent as `text`; `None` for any other word.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Every word, for a message that lists them.
    pub fn words() -> String {
        OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
    }

    /// Whether an order may move from this status to `to`.
    pub fn may_become(self, to: OrderStatus) -> bool {
        use OrderStatus as S;
        matches!(
            (self, to),
            (S::PendingPayment, S::Paid | S::Cancelled)
                | (S::Paid, S::Picked | S::Cancelling)
                | (S::Picked, S::Shipped)
                | (S::Shipped, S::Delivered)
                | (S::Cancelling, S::Cancelled)
        )
    }

    /// The steps of its delivery logistics may mark next: picked, shipped, delivered.
    pub fn next_steps(self) -> Vec<OrderStatus> {
        [OrderStatus::Picked, OrderStatus::Shipped, OrderStatus::Delivered]
            .into_iter()
            .filter(|to| self.may_become(*to))
            .collect()
    }

    /// The status an order must be in to be marked `self`, for a delivery step; `None` when
    /// `self` is not a delivery step.
    pub fn delivery_step_from(self) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|from| from.next_steps().contains(&self))
    }

    /// Whether the order has reached the shopper, so its goods may come back to a store.
    pub fn is_returnable(self) -> bool {
        matches!(self, OrderStatus::Shipped | OrderStatus::Delivered)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a checkout saga stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStep {
    /// Reserved and ordered; the payment is being taken.
    Ordered,
    Confirmed,
    /// Given up: the order cancelled, its reservation released.
    Cancelled,
    /// Refused before anything was reserved (kept so its key answers the same again).
    Refused,
}

impl CheckoutStep {
    pub const ALL: [CheckoutStep; 4] =
        [CheckoutStep::Ordered, CheckoutStep::Confirmed, CheckoutStep::Cancelled, CheckoutStep::Refused];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutStep::Ordered => "ordered",
            CheckoutStep::Confirmed => "confirmed",
            CheckoutStep::Cancelled => "cancelled",
            CheckoutStep::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Option<CheckoutStep> {
        CheckoutStep::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a checkout may move from this step to `to` (a refused one is written refused).
    pub fn may_become(self, to: CheckoutStep) -> bool {
        matches!((self, to), (CheckoutStep::Ordered, CheckoutStep::Confirmed | CheckoutStep::Cancelled))
    }
}

impl std::fmt::Display for CheckoutStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_reads_back_as_written_and_nothing_else_reads() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for step in CheckoutStep::ALL {
            assert_eq!(CheckoutStep::parse(step.as_str()), Some(step));
            assert_eq!(serde_json::to_value(step).unwrap(), step.as_str());
        }
        assert_eq!(OrderStatus::parse("refunded"), None);
        assert_eq!(OrderStatus::parse("Paid"), None);
        assert_eq!(CheckoutStep::parse("paid"), None);
        assert!(serde_json::from_str::<OrderStatus>("\"lost\"").is_err());
    }

    #[test]
    fn delivery_goes_one_step_at_a_time_from_paid() {
        use OrderStatus as S;
        let next: Vec<(S, Vec<S>)> = S::ALL.into_iter().map(|s| (s, s.next_steps())).collect();
        assert_eq!(
            next,
            [
                (S::PendingPayment, vec![]),
                (S::Paid, vec![S::Picked]),
                (S::Picked, vec![S::Shipped]),
                (S::Shipped, vec![S::Delivered]),
                (S::Delivered, vec![]),
                (S::Cancelling, vec![]),
                (S::Cancelled, vec![]),
            ]
        );
        assert_eq!(S::Shipped.delivery_step_from(), Some(S::Picked));
        assert_eq!(S::Cancelled.delivery_step_from(), None);
        assert!(!S::Delivered.may_become(S::Cancelled), "a delivered order comes back through a store");
    }

    #[test]
    fn a_checkout_ends_once() {
        for from in CheckoutStep::ALL {
            for to in CheckoutStep::ALL {
                assert_eq!(
                    from.may_become(to),
                    from == CheckoutStep::Ordered
                        && matches!(to, CheckoutStep::Confirmed | CheckoutStep::Cancelled)
                );
            }
        }
    }
}
