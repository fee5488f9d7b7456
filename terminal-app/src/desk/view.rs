//! What the screen shows: every answer of the [`Desk`](super::Desk) is one of these, serialised
//! as JSON for the window. Amounts are in cents.

use serde::{Deserialize, Serialize};
use shared_model::sale::Discount;

use super::settings::Settings;

/// Everything the screen shows, sent after every action.
#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub identity: Option<IdentityView>,
    pub cashier: Option<CashierView>,
    pub sync: SyncView,
    pub cart: CartView,
    pub payment: PaymentView,
    pub last_sale: Option<LastSale>,
    pub parked: Vec<ParkedView>,
    pub settings: Settings,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityView {
    pub register: String,
    pub store: String,
    pub store_name: String,
    pub server: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CashierView {
    pub id: u32,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncView {
    pub online: bool,
    pub pending: u64,
    pub oldest_pending_ms: Option<u64>,
    pub last_sync_ms: Option<u64>,
    pub rejected: Vec<RejectedView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedView {
    pub seq: u64,
    pub kind: String,
    pub reason: String,
}

/// Amounts are in cents.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CartView {
    pub lines: Vec<LineView>,
    pub gross: i64,
    pub discounts: i64,
    pub net: i64,
    pub gst: i64,
    pub qst: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineView {
    pub index: usize,
    pub sku: String,
    pub description: String,
    pub quantity: u32,
    pub unit_price: i64,
    /// "10%" or the amount in cents, as the cashier entered it.
    pub discount_percent_bp: Option<u32>,
    pub discount_amount: Option<i64>,
    pub discount: i64,
    pub total: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PaymentView {
    pub tenders: Vec<TenderView>,
    pub paid: i64,
    /// Still owed (before cash rounding); zero or less once the tenders cover the sale.
    pub balance: i64,
    /// What settles the balance in cash, rounded to the nickel.
    pub cash_balance: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenderView {
    pub kind: &'static str,
    pub amount: i64,
}

/// The sale just completed: what the customer is told and whether the receipt printed.
#[derive(Debug, Clone, Serialize)]
pub struct LastSale {
    pub id: String,
    pub total: i64,
    pub paid: i64,
    pub change: i64,
    pub rounding: i64,
    pub printed: bool,
    pub print_error: Option<String>,
}

/// What a tender did, said outright: the sale is still owed something, or it is complete.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Tendered {
    /// The tender is kept; `balance` (cents) is still owed.
    BalanceDue { balance: i64, view: View },
    /// The tenders covered the sale: it is recorded, and here is what the customer is told.
    Completed { sale: LastSale, view: View },
}

impl Tendered {
    /// The sale this tender completed, if it did.
    pub fn completed(&self) -> Option<&LastSale> {
        match self {
            Tendered::Completed { sale, .. } => Some(sale),
            Tendered::BalanceDue { .. } => None,
        }
    }

    pub fn view(&self) -> &View {
        match self {
            Tendered::BalanceDue { view, .. } | Tendered::Completed { view, .. } => view,
        }
    }

    pub fn into_view(self) -> View {
        match self {
            Tendered::BalanceDue { view, .. } | Tendered::Completed { view, .. } => view,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ParkedView {
    pub id: i64,
    pub at_ms: u64,
    pub lines: usize,
    pub total: i64,
}

/// One key the scan field saw: the character (`"Enter"` for Enter) and when, in milliseconds
/// on the screen's own clock.
#[derive(Debug, Clone, Deserialize)]
pub struct Key {
    pub key: String,
    pub at_ms: f64,
}

/// What a burst of keys in the scan field did.
#[derive(Debug, Clone, Serialize)]
pub struct ScanOutcome {
    /// A scanner read a code, and the line it made (or the error it met).
    pub scanned: Option<String>,
    /// Text a person typed and confirmed with Enter: a code added by hand, or else a search.
    pub typed: Option<String>,
    /// What stays in the scan field (typed without Enter).
    pub leftover: String,
    /// Products matching typed text that is not a code.
    pub found: Vec<ProductView>,
    pub view: View,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProductView {
    pub sku: String,
    pub name: String,
    pub category: String,
    pub barcode: Option<String>,
    pub price: i64,
    pub active: bool,
}

impl From<shared_model::catalogue::ProductInfo> for ProductView {
    fn from(p: shared_model::catalogue::ProductInfo) -> ProductView {
        ProductView {
            sku: p.sku.to_string(),
            name: p.name,
            category: p.category,
            barcode: p.barcodes.first().map(|b| b.to_string()),
            price: p.price.as_cents(),
            active: p.active,
        }
    }
}

/// A sale looked up for a return: each line with what is left to return.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnLookup {
    pub id: String,
    /// Set for an online order (`W-123`): its refund goes back to its card from head office,
    /// so the screen offers no refund method.
    pub online_order: Option<String>,
    pub store: String,
    pub business_day: String,
    pub lines: Vec<ReturnLineView>,
    pub total: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnLineView {
    pub index: u16,
    pub description: String,
    pub sold: u32,
    pub returned: u32,
    pub returnable: u32,
    pub total: i64,
}

/// One line the cashier picked for a return.
#[derive(Debug, Clone, Deserialize)]
pub struct ReturnPick {
    pub index: u16,
    pub quantity: u32,
    #[serde(default = "yes")]
    pub restock: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize)]
pub struct ReturnDone {
    pub id: String,
    pub refund: i64,
    pub refund_to: String,
    pub printed: bool,
    pub print_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StockView {
    pub product: ProductView,
    pub figures: Vec<StockFigureView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StockFigureView {
    pub location: String,
    pub quantity: i64,
    pub as_of_ms: Option<u64>,
    pub this_store: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransferView {
    pub id: String,
    pub from: String,
    pub lines: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZView {
    pub business_day: String,
    pub sales_count: u32,
    pub returns_count: u32,
    pub tenders: Vec<ZTenderView>,
    pub opening_float: i64,
    pub expected_cash: i64,
    pub counted_cash: Option<i64>,
    /// Counted less expected, when counted.
    pub over_short: Option<i64>,
    pub closed: bool,
    /// The report as the receipt prints it, in the receipt's language.
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZTenderView {
    pub kind: &'static str,
    pub taken: i64,
    pub refunded: i64,
}

pub(super) fn cart_view(cart: &crate::sale::CartView) -> CartView {
    CartView {
        lines: cart
            .lines
            .iter()
            .enumerate()
            .map(|(index, (line, amounts))| LineView {
                index,
                sku: line.sku.to_string(),
                description: line.description.clone(),
                quantity: line.quantity.get(),
                unit_price: line.unit_price.as_cents(),
                discount_percent_bp: match line.discount {
                    Some(Discount::Percent(p)) => Some(p.basis_points()),
                    _ => None,
                },
                discount_amount: match line.discount {
                    Some(Discount::Amount(a)) => Some(a.as_cents()),
                    _ => None,
                },
                discount: amounts.discount.as_cents(),
                total: amounts.total.as_cents(),
            })
            .collect(),
        gross: cart.quote.gross.as_cents(),
        discounts: cart.quote.discounts.as_cents(),
        net: cart.quote.net.as_cents(),
        gst: cart.quote.gst.as_cents(),
        qst: cart.quote.qst.as_cents(),
        total: cart.quote.total.as_cents(),
    }
}
