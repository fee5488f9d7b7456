//! What a claim is about, read from the contexts that own it: an online order from the shop, a
//! receipt from the sales ledger; and how much may still be refunded of it.

use shared_model::RecordId;
use sqlx::AnyConnection;

use super::model::ClaimLine;
use super::{Error, Result};
use crate::refunds;

/// One line of the purchase. Lines are numbered from 1, as the register prints and counts
/// them; the sales ledger and the order store index them from 0.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub sku: String,
    pub quantity: i64,
    /// What was paid for the whole line, taxes included.
    pub paid: i64,
    /// Units of it brought back to a store.
    pub returned: i64,
}

/// An order or a receipt, as a claim weighs it.
#[derive(Debug, Clone)]
pub(super) struct Purchase {
    /// Lines by their number in the order or on the receipt, from 1.
    pub lines: std::collections::BTreeMap<u32, Line>,
    /// What was paid in all.
    pub total: i64,
    /// What was already given back or is owed, by any path: a cancellation, store returns,
    /// refunds decided on claims.
    pub refunded: i64,
    /// The receipt's store (for an order: the caller's online channel).
    pub store: Option<String>,
    pub customer: Option<i64>,
    /// The processor's charge (online orders).
    pub payment: Option<String>,
    /// The order's status (online orders).
    pub status: Option<String>,
}

/// Online order `number`.
pub(super) async fn of_order(conn: &mut AnyConnection, number: i64) -> sqlx::Result<Option<Purchase>> {
    let Some(order) = crate::shop::orders::for_claim(conn, number).await? else { return Ok(None) };
    let returned = crate::sales::returned_of_order(conn, number).await?;
    let lines = (0_u32..)
        .zip(&order.lines)
        .map(|(i, line)| {
            let units = u16::try_from(i).ok().and_then(|i| returned.get(&i)).copied().unwrap_or(0);
            (
                i + 1,
                Line {
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    paid: line.total_cents,
                    returned: units,
                },
            )
        })
        .collect();
    let cancelled = if order.refund_id.is_some() { order.total_cents } else { 0 };
    let owed = refunds::owed_of_order(conn, number).await?;
    let refunded = cancelled.checked_add(owed).ok_or_else(|| {
        crate::db::corrupt("order_refunds.amount", format!("the refunds of order {number} overflow"))
    })?;
    Ok(Some(Purchase {
        lines,
        total: order.total_cents,
        refunded,
        store: None,
        customer: Some(order.customer),
        payment: order.payment_id.clone(),
        status: Some(order.status.to_string()),
    }))
}

/// The sale of receipt `receipt`.
pub(super) async fn of_receipt(
    conn: &mut AnyConnection,
    receipt: &RecordId,
) -> sqlx::Result<Option<Purchase>> {
    let Some(sale) = crate::sales::receipt(conn, receipt).await? else { return Ok(None) };
    let returned = crate::sales::returned_of_sale(conn, receipt).await?;
    let mut lines = std::collections::BTreeMap::new();
    for line in &sale.lines {
        let index = crate::db::from_i64::<u32>("sale_lines.line_no", line.line_no)?;
        let units = u16::try_from(index).ok().and_then(|n| returned.get(&n)).copied().unwrap_or(0);
        let number = index.checked_add(1).ok_or_else(|| {
            crate::db::corrupt("sale_lines.line_no", format!("line {index} of {receipt} is past counting"))
        })?;
        lines.insert(
            number,
            Line { sku: line.sku.clone(), quantity: line.quantity, paid: line.paid, returned: units },
        );
    }
    let total =
        sale.lines.iter().try_fold(0_i64, |sum, l| sum.checked_add(l.paid)).ok_or_else(|| {
            crate::db::corrupt("sale_lines.paid", format!("the lines of {receipt} overflow"))
        })?;
    // Store returns pay back at the till: what they gave is counted through the units above.
    let refunded = refunds::owed_of_receipt(conn, &receipt.to_string()).await?;
    Ok(Some(Purchase {
        lines,
        total,
        refunded,
        store: Some(sale.store),
        customer: None,
        payment: None,
        status: None,
    }))
}

/// A line the customer names: its number (from 1) and how many units.
#[derive(Debug, Clone, Copy)]
pub struct LineInput {
    pub line: u32,
    pub quantity: u32,
}

/// The claim's lines, checked against the purchase: each names a line it has, once, for at
/// most the units it sold.
pub(super) fn claim_lines(purchase: &Purchase, input: &[LineInput]) -> Result<Vec<ClaimLine>> {
    if input.is_empty() {
        return Err(Error::invalid("lines", "name at least one line of the purchase"));
    }
    if input.len() > 100 {
        return Err(Error::invalid("lines", "at most 100 lines"));
    }
    let mut lines = Vec::with_capacity(input.len());
    for (i, asked) in input.iter().enumerate() {
        if asked.line == 0 {
            // Lines were counted from 0 before: say so rather than claim the wrong line.
            return Err(Error::invalid(
                format!("lines[{i}].line_number"),
                "lines are counted from 1, as on the receipt: the first line is 1",
            ));
        }
        let Some(line) = purchase.lines.get(&asked.line) else {
            return Err(Error::invalid(
                format!("lines[{i}].line_number"),
                format!("the purchase has no line {}", asked.line),
            ));
        };
        if input[..i].iter().any(|other| other.line == asked.line) {
            return Err(Error::invalid(
                format!("lines[{i}].line_number"),
                format!("line {} is named twice", asked.line),
            ));
        }
        if asked.quantity == 0 || i64::from(asked.quantity) > line.quantity {
            return Err(Error::invalid(
                format!("lines[{i}].quantity"),
                format!("line {} sold {} unit(s): claim 1 to {}", asked.line, line.quantity, line.quantity),
            ));
        }
        lines.push(ClaimLine { line: asked.line, sku: line.sku.clone(), quantity: asked.quantity });
    }
    Ok(lines)
}

/// The most a refund on a claim may still give back: what was paid for its lines (the units
/// still kept by the customer), less what the claim already refunded, and never more than
/// what is left of the purchase once every other refund and return is counted. Checked
/// throughout: `None` when the purchase's amounts overflow (they never should).
pub(super) fn refund_cap(purchase: &Purchase, lines: &[ClaimLine], refunded_on_claim: i64) -> Option<i64> {
    let mut for_lines = 0_i64;
    for claimed in lines {
        let Some(line) = purchase.lines.get(&claimed.line) else { continue };
        if line.quantity <= 0 {
            continue;
        }
        let kept = line.quantity.checked_sub(line.returned)?.max(0);
        let units = i64::from(claimed.quantity).min(kept);
        // Rounded down: a cent that cannot be split stays with the chain, never paid twice.
        for_lines = for_lines.checked_add(line.paid.checked_mul(units)? / line.quantity)?;
    }
    let left = purchase.total.checked_sub(purchase.refunded)?;
    Some(for_lines.checked_sub(refunded_on_claim)?.min(left).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase() -> Purchase {
        let mut lines = std::collections::BTreeMap::new();
        lines.insert(1, Line { sku: "A".into(), quantity: 3, paid: 3_000, returned: 1 });
        lines.insert(2, Line { sku: "B".into(), quantity: 1, paid: 1_001, returned: 0 });
        Purchase {
            lines,
            total: 4_001,
            refunded: 1_000,
            store: None,
            customer: None,
            payment: None,
            status: None,
        }
    }

    #[test]
    fn the_cap_counts_kept_units_earlier_refunds_and_what_is_left() {
        let p = purchase();
        let line = |line, quantity, sku: &str| ClaimLine { line, sku: sku.into(), quantity };
        // Three units claimed, one already returned: two are paid back at most.
        assert_eq!(refund_cap(&p, &[line(1, 3, "A")], 0), Some(2_000));
        assert_eq!(refund_cap(&p, &[line(1, 3, "A")], 1_500), Some(500));
        // Both lines: 3 001 for the lines, but only 3 001 left of the purchase.
        assert_eq!(refund_cap(&p, &[line(1, 2, "A"), line(2, 1, "B")], 0), Some(3_001));
        let mut spent = p.clone();
        spent.refunded = 4_001;
        assert_eq!(refund_cap(&spent, &[line(2, 1, "B")], 0), Some(0));
    }

    #[test]
    fn amounts_that_overflow_give_no_cap_instead_of_wrapping() {
        let mut p = purchase();
        p.lines.get_mut(&1).unwrap().paid = i64::MAX;
        let line = ClaimLine { line: 1, sku: "A".into(), quantity: 2 };
        assert_eq!(refund_cap(&p, std::slice::from_ref(&line), 0), None);
        let mut p = purchase();
        p.refunded = i64::MIN;
        assert_eq!(refund_cap(&p, &[line], 0), None);
    }

    #[test]
    fn lines_must_exist_once_within_what_was_sold() {
        let p = purchase();
        let input = |line, quantity| LineInput { line, quantity };
        assert_eq!(claim_lines(&p, &[input(1, 3)]).unwrap()[0].sku, "A");
        let field = |r: Result<Vec<ClaimLine>>| match r {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(claim_lines(&p, &[input(3, 1)])), "lines[0].line_number");
        // The old count from 0 is refused, not read as another line.
        assert_eq!(field(claim_lines(&p, &[input(1, 1), input(0, 1)])), "lines[1].line_number");
        assert_eq!(field(claim_lines(&p, &[input(1, 1), input(1, 1)])), "lines[1].line_number");
        assert_eq!(field(claim_lines(&p, &[input(2, 2)])), "lines[0].quantity");
        assert_eq!(field(claim_lines(&p, &[])), "lines");
    }
}
