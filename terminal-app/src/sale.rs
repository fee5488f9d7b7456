//! The sale flow: a cart of lines built by scanning or typing codes, with quantities and
//! discounts, parked and resumed, then completed with its tenders. Completing writes the sale
//! and its record in one durable transaction; only then is the sale complete and its receipt
//! printable.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use shared_model::sale::{Discount, LineAmounts, Quote, Sale, SaleLine};
use shared_model::{Money, Quantity, Record, RecordBody, Tender};

use crate::error::{RegisterError, Result, corrupt};
use crate::{Register, catalog, journal};

/// The sale being rung up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<SaleLine>,
}

/// A cart with its figures, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartView {
    pub lines: Vec<(SaleLine, LineAmounts)>,
    pub quote: Quote,
}

/// A completed sale: what the receipt needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub record: Record,
    pub sale: Sale,
}

impl Register {
    fn load_cart(&self, id: i64) -> Result<Option<Cart>> {
        let content: Option<String> = self
            .conn
            .query_row("SELECT content FROM carts WHERE id = ?1", params![id], |r| r.get(0))
            .optional()?;
        content.map(|c| serde_json::from_str(&c).map_err(corrupt)).transpose()
    }

    /// The cart lives in the database, so a crash or a restart mid-sale loses nothing.
    fn save_cart(&self, cart: &Cart) -> Result<CartView> {
        let content = serde_json::to_string(cart).map_err(corrupt)?;
        self.conn.execute(
            "INSERT INTO carts (id, cashier, content) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET cashier = excluded.cashier, content = excluded.content",
            params![self.cart_slot, self.cashier.as_ref().map(|(id, _)| id.get()), content],
        )?;
        view(cart)
    }

    pub fn cart(&self) -> Result<CartView> {
        view(&self.load_cart(self.cart_slot)?.unwrap_or_default())
    }

    /// Adds a product by barcode or SKU. Scanning a product already on an undiscounted line
    /// adds to that line.
    pub fn add_item(&mut self, code: &str, quantity: u32) -> Result<CartView> {
        self.signed_in()?;
        let quantity = Quantity::new(quantity)?;
        let product = catalog::find(&self.conn, code)?;
        if !product.active {
            return Err(RegisterError::Retired(product.sku.to_string()));
        }
        let mut cart = self.load_cart(self.cart_slot)?.unwrap_or_default();
        match cart.lines.iter_mut().find(|l| l.sku == product.sku && l.discount.is_none()) {
            Some(line) => line.quantity = Quantity::new(line.quantity.get() + quantity.get())?,
            None => cart.lines.push(SaleLine {
                sku: product.sku.clone(),
                description: product.name.chars().take(shared_model::sale::MAX_DESCRIPTION).collect(),
                barcode: product.barcodes.first().cloned(),
                unit_price: product.price,
                quantity,
                tax_class: product.tax_class,
                discount: None,
            }),
        }
        self.save_cart(&cart)
    }

    /// Adds what a scanner sent: a product barcode, a SKU in Code 128, or a variable-measure
    /// label. A label's item `2X IIIII` is sold as the product `PLU-2XIIIII`: a price label
    /// sets the line's price; a weight label prices it by the kilogram. A bad scan adds nothing.
    pub fn add_scan(&mut self, raw: &str) -> Result<CartView> {
        let scan = hardware::scan::read(raw, &hardware::scan::VariableMeasure::default())
            .map_err(|e| RegisterError::Rejected(e.to_string()))?;
        self.add_read(scan)
    }

    /// Adds what a scanner read (a serial scanner hands over codes already read).
    pub fn add_read(&mut self, scan: hardware::scan::Scan) -> Result<CartView> {
        use hardware::scan::{Measure, Scan};
        match scan {
            Scan::Product(barcode) => self.add_item(barcode.as_str(), 1),
            Scan::Sku(sku) => self.add_item(sku.as_str(), 1),
            Scan::Measured { item, measure, barcode } => {
                self.signed_in()?;
                let product = catalog::find(&self.conn, &format!("PLU-{item}"))?;
                let (price, description) = match measure {
                    Measure::Price(price) => (price, product.name.clone()),
                    Measure::Grams(grams) => (
                        product.price.mul_div(i64::from(grams), 1_000),
                        format!("{} {}.{:03} kg", product.name, grams / 1_000, grams % 1_000),
                    ),
                };
                let mut cart = self.load_cart(self.cart_slot)?.unwrap_or_default();
                cart.lines.push(SaleLine {
                    sku: product.sku,
                    description: description.chars().take(shared_model::sale::MAX_DESCRIPTION).collect(),
                    barcode: Some(barcode),
                    unit_price: price,
                    quantity: Quantity::ONE,
                    tax_class: product.tax_class,
                    discount: None,
                });
                self.save_cart(&cart)
            }
        }
    }

    fn edit_line(&mut self, index: usize, edit: impl FnOnce(&mut Cart) -> Result<()>) -> Result<CartView> {
        self.signed_in()?;
        let mut cart = self.load_cart(self.cart_slot)?.unwrap_or_default();
        if index >= cart.lines.len() {
            return Err(RegisterError::NoSuchLine(index + 1));
        }
        edit(&mut cart)?;
        self.save_cart(&cart)
    }

    pub fn set_quantity(&mut self, index: usize, quantity: u32) -> Result<CartView> {
        let quantity = Quantity::new(quantity)?;
        self.edit_line(index, |cart| {
            cart.lines[index].quantity = quantity;
            Ok(())
        })
    }

    /// Sets or clears a line's discount; one that exceeds the line is refused.
    pub fn set_discount(&mut self, index: usize, discount: Option<Discount>) -> Result<CartView> {
        self.edit_line(index, |cart| {
            let mut line = cart.lines[index].clone();
            line.discount = discount;
            line.amounts()?;
            cart.lines[index] = line;
            Ok(())
        })
    }

    pub fn remove_line(&mut self, index: usize) -> Result<CartView> {
        self.edit_line(index, |cart| {
            cart.lines.remove(index);
            Ok(())
        })
    }

    /// Empties the cart without recording anything.
    pub fn void(&mut self) -> Result<()> {
        self.conn.execute("DELETE FROM carts WHERE id = ?1", params![self.cart_slot])?;
        Ok(())
    }

    /// Sets the current sale aside; returns its number for [`Register::resume`]: positive, even
    /// when the only other cart is the CLI's (slot -1).
    pub fn park(&mut self) -> Result<i64> {
        self.signed_in()?;
        let cart = self
            .load_cart(self.cart_slot)?
            .filter(|c| !c.lines.is_empty())
            .ok_or(RegisterError::EmptySale)?;
        let tx = crate::store::write(&self.conn)?;
        tx.execute(
            "INSERT INTO carts (id, cashier, parked_ms, content) VALUES ((SELECT MAX(COALESCE(MAX(id), 0), 0) + 1 FROM carts), ?1, ?2, ?3)",
            params![
                self.cashier.as_ref().map(|(id, _)| id.get()),
                i64::try_from(self.clock.now_ms()).map_err(corrupt)?,
                serde_json::to_string(&cart).map_err(corrupt)?
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute("DELETE FROM carts WHERE id = ?1", params![self.cart_slot])?;
        tx.commit()?;
        Ok(id)
    }

    /// Parked sales: number, when, line count, total.
    pub fn parked(&self) -> Result<Vec<(i64, u64, usize, Money)>> {
        let mut statement =
            self.conn.prepare("SELECT id, parked_ms, content FROM carts WHERE id > 0 ORDER BY id")?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)))?;
        rows.map(|row| {
            let (id, at, content) = row?;
            let cart: Cart = serde_json::from_str(&content).map_err(corrupt)?;
            Ok((id, u64::try_from(at).unwrap_or(0), cart.lines.len(), Quote::of(&cart.lines)?.total))
        })
        .collect()
    }

    /// Brings a parked sale back; the current one, if any, must be empty. Moving it is one
    /// transaction: a crash halfway never loses the parked sale.
    pub fn resume(&mut self, id: i64) -> Result<CartView> {
        self.signed_in()?;
        let tx = crate::store::write(&self.conn)?;
        if load_cart(&tx, self.cart_slot)?.is_some_and(|c| !c.lines.is_empty()) {
            return Err(RegisterError::Rejected("park or finish the current sale first".into()));
        }
        let cart = load_cart(&tx, id)?.filter(|_| id > 0).ok_or(RegisterError::NoSuchParkedSale(id))?;
        tx.execute("DELETE FROM carts WHERE id = ?1", params![id])?;
        tx.execute(
            "INSERT INTO carts (id, cashier, content) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET cashier = excluded.cashier, content = excluded.content, parked_ms = NULL",
            params![self.cart_slot, self.cashier.as_ref().map(|(c, _)| c.get()), serde_json::to_string(&cart).map_err(corrupt)?],
        )?;
        tx.commit()?;
        view(&cart)
    }

    /// Completes the current sale with its tenders: the sale and its record are written in one
    /// transaction, durably, and the cart is emptied. A payment that does not settle changes nothing.
    pub fn complete_sale(&mut self, tenders: Vec<Tender>) -> Result<Completed> {
        let cashier = self.signed_in()?;
        let identity = self.identity()?;
        let tx = crate::store::write(&self.conn)?;
        // The cart is read under the write lock: a line added by another process cannot slip
        // in between reading it and clearing it.
        let cart = load_cart(&tx, self.cart_slot)?
            .filter(|c| !c.lines.is_empty())
            .ok_or(RegisterError::EmptySale)?;
        let now = self.clock.now_ms();
        let sale = Sale::complete(business_day(now), cashier, cart.lines, tenders, None)?;
        let record = journal::append(
            &tx,
            self.clock.as_ref(),
            &identity.register,
            &identity.store,
            RecordBody::Sale(sale.clone()),
        )?;
        tx.execute("DELETE FROM carts WHERE id = ?1", params![self.cart_slot])?;
        tx.commit()?;
        Ok(Completed { record, sale })
    }
}

fn load_cart(conn: &rusqlite::Connection, id: i64) -> Result<Option<Cart>> {
    let content: Option<String> =
        conn.query_row("SELECT content FROM carts WHERE id = ?1", params![id], |r| r.get(0)).optional()?;
    content.map(|c| serde_json::from_str(&c).map_err(corrupt)).transpose()
}

fn view(cart: &Cart) -> Result<CartView> {
    let lines = cart.lines.iter().map(|l| Ok((l.clone(), l.amounts()?))).collect::<Result<Vec<_>>>()?;
    Ok(CartView { quote: Quote::of(&cart.lines)?, lines })
}

/// The store's trading day: the register's local calendar date.
pub fn business_day(now_ms: u64) -> chrono::NaiveDate {
    let ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&chrono::Local).date_naive())
        .unwrap_or_default()
}
