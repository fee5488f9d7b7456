//! What a cashier or a script types, read the same way everywhere: the screen model
//! ([`crate::desk`]) and the CLI (through clap's `value_parser`s) both parse through these
//! functions, so `12,50` is twelve dollars fifty at the window and on the command line alike.
//!
//! Each parser answers an [`InputError`] naming the field at fault and saying, in a sentence,
//! what was expected.

use std::str::FromStr;

use shared_model::returns::ReturnReason;
use shared_model::sale::Discount;
use shared_model::stock::AdjustmentReason;
use shared_model::tender::ApprovalCode;
use shared_model::{LocationCode, Money, Percent, RecordId, Tender};

use crate::returns::RefundTo;

/// Text that does not say what its field needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    /// The field at fault, as the screen names it.
    pub field: &'static str,
    pub message: String,
}

impl InputError {
    pub fn new(field: &'static str, message: impl Into<String>) -> InputError {
        InputError { field, message: message.into() }
    }

    /// The same error, for another field.
    pub fn at(self, field: &'static str) -> InputError {
        InputError { field, ..self }
    }
}

pub type Parsed<T> = std::result::Result<T, InputError>;

/// An amount: `12.50`, `12,50`, `12`, `$12.50`. Never rounded: three decimals are refused.
pub fn money(text: &str) -> Parsed<Money> {
    Money::parse(text.trim().replace(',', ".").as_str())
        .map_err(|_| InputError::new("amount", format!("{:?} is not an amount like 12.34", text.trim())))
}

/// An amount that may be negative or zero is still an amount; a tender or a discount must be more.
fn positive(text: &str) -> Parsed<Money> {
    let amount = money(text)?;
    if amount.is_negative() {
        return Err(InputError::new("amount", format!("{:?} is less than nothing", text.trim())));
    }
    Ok(amount)
}

/// A receipt's long number: its record id, as printed under its QR code.
pub fn receipt(text: &str) -> Parsed<RecordId> {
    RecordId::parse(text.trim()).map_err(|_| {
        let reason = if shared_model::ReceiptNumber::parse(text).is_ok() {
            "is a receipt's short number: type the long one, printed under its QR code"
        } else {
            "is not a receipt number"
        };
        InputError::new("receipt", format!("{:?} {reason}", text.trim()))
    })
}

/// What a return is taken against: a receipt's long number (its record id, under the QR
/// code) or its short one (`VMTL-01-000123`), or an online order's (`W-123`).
pub fn receipt_code(text: &str) -> Parsed<crate::returns::ReceiptCode> {
    use crate::returns::{ReceiptCode, SaleKey};
    if let Ok(id) = RecordId::parse(text.trim()) {
        return Ok(ReceiptCode::Sale(SaleKey::Id(id)));
    }
    if let Ok(number) = shared_model::ReceiptNumber::parse(text) {
        return Ok(ReceiptCode::Sale(SaleKey::Number(number)));
    }
    shared_model::OrderNumber::parse(text).map(ReceiptCode::Order).map_err(|_| {
        InputError::new(
            "receipt",
            format!(
                "{:?} is neither a receipt number (VMTL-01-000123, or the long one under its QR code) nor an online order's number (W-123)",
                text.trim()
            ),
        )
    })
}

/// How a refund is paid: `cash`, `debit` or `credit`.
pub fn refund_method(text: &str) -> Parsed<RefundTo> {
    match text.trim() {
        "cash" => Ok(RefundTo::Cash),
        "debit" => Ok(RefundTo::Debit),
        "credit" => Ok(RefundTo::Credit),
        other => Err(InputError::new("refund_to", format!("{other:?} is not cash, debit or credit"))),
    }
}

/// `defective`, `changed_mind`, `wrong_item`, `damaged_in_transit` or `other`.
pub fn return_reason(text: &str) -> Parsed<ReturnReason> {
    serde_json::from_value(serde_json::json!(text.trim())).map_err(|_| {
        InputError::new(
            "reason",
            format!(
                "{:?} is not a return reason: use defective, changed_mind, wrong_item, damaged_in_transit or other",
                text.trim()
            ),
        )
    })
}

/// `damaged`, `theft`, `expired`, `found`, `correction` or `internal_use`.
pub fn adjustment_reason(text: &str) -> Parsed<AdjustmentReason> {
    serde_json::from_value(serde_json::json!(text.trim())).map_err(|_| {
        InputError::new(
            "reason",
            format!(
                "{:?} is not an adjustment reason: use damaged, theft, expired, found, correction or internal_use",
                text.trim()
            ),
        )
    })
}

/// `10%` or an amount like `2.50`; empty takes the discount off.
pub fn discount(text: &str) -> Parsed<Option<Discount>> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else if text.ends_with('%') {
        Ok(Some(Discount::Percent(
            Percent::parse(&text.replace(',', "."))
                .map_err(|e| InputError::new("discount", e.to_string()))?,
        )))
    } else {
        Ok(Some(Discount::Amount(positive(text).map_err(|e| e.at("discount"))?)))
    }
}

/// A store's code, like `VMTL` (any case).
pub fn store(text: &str) -> Parsed<LocationCode> {
    let code = text.trim().to_uppercase();
    LocationCode::parse(&code)
        .map_err(|_| InputError::new("store", format!("{code:?} is not a store code like VMTL")))
}

/// A cashier's number.
pub fn cashier(text: &str) -> Parsed<u32> {
    text.trim()
        .parse()
        .map_err(|_| InputError::new("cashier", format!("{:?} is not a cashier number", text.trim())))
}

/// A transfer's number, as logistics printed it on the delivery slip.
pub fn transfer(text: &str) -> Parsed<uuid::Uuid> {
    uuid::Uuid::parse_str(text.trim())
        .map_err(|_| InputError::new("transfer", format!("{:?} is not a transfer number", text.trim())))
}

/// `CODE` or `CODE:QUANTITY`: a barcode or SKU and how many (one when not said).
pub fn item(text: &str) -> Parsed<(String, u32)> {
    let text = text.trim();
    let (code, quantity) = match text.rsplit_once(':') {
        Some((code, n)) => (
            code,
            // Zero parses: the sale refuses it, saying what quantities may be.
            n.trim()
                .parse()
                .map_err(|_| InputError::new("quantity", format!("{n:?} in {text:?} is not a quantity")))?,
        ),
        None => (text, 1),
    };
    if code.trim().is_empty() {
        return Err(InputError::new("code", format!("{text:?} names no product")));
    }
    Ok((code.trim().to_owned(), quantity))
}

/// How a customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenderKind {
    Cash,
    Debit,
    Credit,
}

/// `cash`, `debit` or `credit`.
pub fn tender_kind(text: &str) -> Parsed<TenderKind> {
    match text.trim() {
        "cash" => Ok(TenderKind::Cash),
        "debit" => Ok(TenderKind::Debit),
        "credit" => Ok(TenderKind::Credit),
        other => {
            Err(InputError::new("kind", format!("{other:?} is not a tender: use cash, debit or credit")))
        }
    }
}

/// A tender as offered, before the balance is known: no amount means "the balance" (cash
/// rounded to the nickel). A credit tender carries the terminal's approval code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenderEntry {
    Cash(Option<Money>),
    Debit(Option<Money>),
    Credit(Option<Money>, ApprovalCode),
}

impl TenderEntry {
    /// The screen's three fields: a kind, an amount (empty for the balance) and, for credit, an
    /// approval code.
    pub fn from_fields(kind: &str, amount: &str, approval: &str) -> Parsed<TenderEntry> {
        let kind = tender_kind(kind)?;
        let amount = Some(amount.trim()).filter(|a| !a.is_empty()).map(positive).transpose()?;
        Ok(match kind {
            TenderKind::Cash => TenderEntry::Cash(amount),
            TenderKind::Debit => TenderEntry::Debit(amount),
            TenderKind::Credit => TenderEntry::Credit(
                amount,
                ApprovalCode::parse(approval).map_err(|e| InputError::new("approval", e.to_string()))?,
            ),
        })
    }

    pub fn kind(&self) -> TenderKind {
        match self {
            TenderEntry::Cash(_) => TenderKind::Cash,
            TenderEntry::Debit(_) => TenderKind::Debit,
            TenderEntry::Credit(..) => TenderKind::Credit,
        }
    }

    /// The tender, given what is still owed.
    pub fn tender(&self, balance: Money) -> Tender {
        let balance = if balance.is_negative() { Money::ZERO } else { balance };
        match self {
            TenderEntry::Cash(amount) => {
                Tender::Cash { amount: amount.unwrap_or_else(|| balance.round_cash()) }
            }
            TenderEntry::Debit(amount) => Tender::Debit { amount: amount.unwrap_or(balance) },
            TenderEntry::Credit(amount, approval) => {
                Tender::Credit { amount: amount.unwrap_or(balance), approval: approval.clone() }
            }
        }
    }
}

/// The command line's form: `cash`, `cash:AMOUNT`, `debit`, `debit:AMOUNT`,
/// `credit:APPROVAL` or `credit:AMOUNT:APPROVAL`.
impl FromStr for TenderEntry {
    type Err = InputError;

    fn from_str(text: &str) -> Parsed<TenderEntry> {
        let parts: Vec<&str> = text.trim().split(':').collect();
        match parts.as_slice() {
            [kind] | [kind, _] if tender_kind(kind)? != TenderKind::Credit => {
                TenderEntry::from_fields(kind, parts.get(1).copied().unwrap_or(""), "")
            }
            [kind] => Err(InputError::new(
                "approval",
                format!("{kind:?}: a credit tender needs its approval code, like credit:25.00:A1B2C3"),
            )),
            [kind, approval] => TenderEntry::from_fields(kind, "", approval),
            [kind, amount, approval] if tender_kind(kind)? == TenderKind::Credit => {
                TenderEntry::from_fields(kind, amount, approval)
            }
            _ => Err(InputError::new(
                "tender",
                format!(
                    "{text:?} is not cash[:AMOUNT], debit[:AMOUNT] or credit[:AMOUNT]:APPROVAL",
                    text = text.trim()
                ),
            )),
        }
    }
}

/// For clap: `--tender` values.
pub fn tender(text: &str) -> Parsed<TenderEntry> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_with_a_point_or_a_comma_mean_the_same() {
        for (text, cents) in [("12.50", 1250), ("12,50", 1250), (" 12 ", 1200), ("$7,5", 750), ("0,05", 5)] {
            assert_eq!(money(text).unwrap().as_cents(), cents, "{text}");
        }
        for bad in ["douze", "12.345", "12,345", "", "1.2.3"] {
            let e = money(bad).unwrap_err();
            assert_eq!(e.field, "amount", "{bad}");
            assert!(e.message.contains("is not an amount"), "{bad}: {e}");
        }
    }

    #[test]
    fn receipts_methods_and_reasons() {
        let id = "01900000-0000-7000-8000-000000000001";
        assert_eq!(receipt(&format!(" {id} ")).unwrap().to_string(), id);
        assert_eq!(receipt("not-a-receipt").unwrap_err().field, "receipt");
        use crate::returns::{ReceiptCode, SaleKey};
        assert!(matches!(receipt_code(id).unwrap(), ReceiptCode::Sale(SaleKey::Id(_))));
        match receipt_code(" vmtl-01-000123 ").unwrap() {
            ReceiptCode::Sale(SaleKey::Number(n)) => assert_eq!(n.to_string(), "VMTL-01-000123"),
            other => panic!("read as {other:?}"),
        }
        assert!(receipt("VMTL-01-000123").unwrap_err().message.contains("under its QR code"));
        assert!(matches!(receipt_code(" w-12 ").unwrap(), ReceiptCode::Order(n) if n.get() == 12));
        assert_eq!(receipt_code("W-0").unwrap_err().field, "receipt");
        assert_eq!(receipt_code("not-a-receipt").unwrap_err().field, "receipt");
        assert_eq!(refund_method("debit").unwrap(), RefundTo::Debit);
        assert_eq!(refund_method("cheque").unwrap_err().field, "refund_to");
        assert_eq!(return_reason("changed_mind").unwrap(), ReturnReason::ChangedMind);
        assert_eq!(return_reason("bored").unwrap_err().field, "reason");
        assert_eq!(adjustment_reason("internal_use").unwrap(), AdjustmentReason::InternalUse);
        assert!(adjustment_reason("lost").is_err());
        assert_eq!(store(" plat ").unwrap().as_str(), "PLAT");
        assert_eq!(store("no store").unwrap_err().field, "store");
        assert_eq!(cashier(" 7 ").unwrap(), 7);
        assert!(transfer("nope").is_err());
    }

    #[test]
    fn items_and_discounts() {
        assert_eq!(item("CAF-ESP-250:3").unwrap(), ("CAF-ESP-250".to_owned(), 3));
        assert_eq!(item("0012345678905").unwrap(), ("0012345678905".to_owned(), 1));
        assert_eq!(item("CAF:zero").unwrap_err().field, "quantity");
        assert_eq!(item("CAF:-1").unwrap_err().field, "quantity");
        assert_eq!(item(":2").unwrap_err().field, "code");
        assert_eq!(discount("").unwrap(), None);
        assert_eq!(discount("10%").unwrap(), Some(Discount::Percent(Percent::parse("10").unwrap())));
        assert_eq!(discount("2,50").unwrap(), Some(Discount::Amount(Money::cents(250))));
        assert_eq!(discount("-2").unwrap_err().field, "discount");
        assert_eq!(discount("much").unwrap_err().field, "discount");
    }

    #[test]
    fn tenders_from_the_screen_and_the_command_line_agree() {
        let balance = Money::cents(1_862);
        for (cli, (kind, amount, approval)) in [
            ("cash", ("cash", "", "")),
            ("cash:20,00", ("cash", "20.00", "")),
            ("debit", ("debit", "", "")),
            ("debit:5", ("debit", "5", "")),
            ("credit:A1B2C3", ("credit", "", "A1B2C3")),
            ("credit:10,00:A1B2C3", ("credit", "10.00", "A1B2C3")),
        ] {
            let parsed: TenderEntry = cli.parse().unwrap();
            assert_eq!(parsed, TenderEntry::from_fields(kind, amount, approval).unwrap(), "{cli}");
        }
        assert_eq!(tender("cash").unwrap().tender(balance), Tender::Cash { amount: Money::cents(1_860) });
        assert_eq!(tender("debit").unwrap().tender(balance), Tender::Debit { amount: balance });
        assert_eq!(
            tender("cash:20,00").unwrap().tender(balance),
            Tender::Cash { amount: Money::cents(2_000) }
        );
        assert_eq!(tender("credit").unwrap_err().field, "approval");
        assert_eq!(tender("cheque:5").unwrap_err().field, "kind");
        assert_eq!(tender("debit:douze").unwrap_err().field, "amount");
        assert_eq!(tender("debit:1:2:3").unwrap_err().field, "tender");
        assert_eq!(TenderEntry::from_fields("credit", "", " ").unwrap_err().field, "approval");
        assert_eq!(TenderEntry::from_fields("cash", "-5", "").unwrap_err().field, "amount");
    }
}
