//! What became of a refund owed, as stored and as sent on the wire.

use serde::{Deserialize, Serialize};

/// A refund's status. Only a `pending` refund moves, once, to `refunded` or `failed`; the
/// others are written as they end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Owed to the card: the processor is (still) to be asked.
    Pending,
    /// The processor confirmed it.
    Refunded,
    /// The processor refused it: head office is alerted.
    Failed,
    /// Nothing owed: the return could not be honoured (alerted).
    Refused,
    /// Paid at the store's counter (a claim about a receipt): nothing for the processor.
    AtStore,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 5] = [
        RefundStatus::Pending,
        RefundStatus::Refunded,
        RefundStatus::Failed,
        RefundStatus::Refused,
        RefundStatus::AtStore,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Refunded => "refunded",
            RefundStatus::Failed => "failed",
            RefundStatus::Refused => "refused",
            RefundStatus::AtStore => "at_store",
        }
    }

    /// The status stored as `text`; `None` for any other word.
    pub fn parse(text: &str) -> Option<RefundStatus> {
        RefundStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a refund may move from this status to `next`: the one place that says so.
    pub fn may_become(self, next: RefundStatus) -> bool {
        matches!((self, next), (RefundStatus::Pending, RefundStatus::Refunded | RefundStatus::Failed))
    }

    /// Whether the refund counts against what is left to refund of its order: owed or paid.
    pub fn counts(self) -> bool {
        matches!(self, RefundStatus::Pending | RefundStatus::Refunded)
    }
}

impl std::fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_reads_back_as_written_and_nothing_else_reads() {
        for status in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(RefundStatus::parse("Pending"), None);
        assert_eq!(RefundStatus::parse(""), None);
    }

    #[test]
    fn only_a_pending_refund_moves_and_only_to_an_end() {
        let moves: Vec<(RefundStatus, RefundStatus)> = RefundStatus::ALL
            .into_iter()
            .flat_map(|a| RefundStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| a.may_become(*b))
            .collect();
        assert_eq!(
            moves,
            [(RefundStatus::Pending, RefundStatus::Refunded), (RefundStatus::Pending, RefundStatus::Failed)]
        );
    }
}
