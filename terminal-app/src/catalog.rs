//! The register's copy of what head office publishes, kept from pulls so that scanning,
//! searching, signing in and stock lookup all work with no network.

use rusqlite::{Connection, OptionalExtension, Row, params};
use shared_model::catalogue::ProductInfo;
use shared_model::protocol::Change;
use shared_model::{Barcode, Money, Sku, TaxClass};

use crate::error::{RegisterError, Result, corrupt};

/// Applies pulled changes. Each replaces what was held under its key, so applying twice is harmless.
pub fn apply(conn: &Connection, changes: &[Change]) -> Result<()> {
    for change in changes {
        match change {
            Change::Location(l) => {
                let kind = serde_json::to_value(l.kind).map_err(corrupt)?;
                conn.execute(
                    "INSERT INTO locations (code, kind, name, address) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, name = excluded.name, address = excluded.address",
                    params![l.code.as_str(), kind.as_str().unwrap_or_default(), l.name, l.address],
                )?;
            }
            Change::Product(p) => {
                conn.execute(
                    "INSERT INTO products (sku, name, category, price_cents, tax_class, reorder_threshold, active)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (sku) DO UPDATE SET name = excluded.name, category = excluded.category,
                         price_cents = excluded.price_cents, tax_class = excluded.tax_class,
                         reorder_threshold = excluded.reorder_threshold, active = excluded.active",
                    params![
                        p.sku.as_str(),
                        p.name,
                        p.category,
                        p.price.as_cents(),
                        p.tax_class.code(),
                        p.reorder_threshold,
                        p.active
                    ],
                )?;
                conn.execute("DELETE FROM barcodes WHERE sku = ?1", params![p.sku.as_str()])?;
                for code in &p.barcodes {
                    conn.execute(
                        "INSERT INTO barcodes (code, sku) VALUES (?1, ?2) ON CONFLICT (code) DO UPDATE SET sku = excluded.sku",
                        params![code.as_str(), p.sku.as_str()],
                    )?;
                }
            }
            Change::Cashier(c) => {
                conn.execute(
                    "INSERT INTO cashiers (id, name, store, pin_hash, active) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, store = excluded.store,
                         pin_hash = excluded.pin_hash, active = excluded.active",
                    params![
                        c.id.get(),
                        c.name,
                        c.store.as_ref().map(|s| s.to_string()),
                        c.pin_hash,
                        c.active
                    ],
                )?;
            }
            Change::StockLevel(s) => {
                conn.execute(
                    "INSERT INTO stock_levels (location, sku, quantity, as_of_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (location, sku) DO UPDATE SET quantity = excluded.quantity, as_of_ms = excluded.as_of_ms",
                    params![s.location.as_str(), s.sku.as_str(), s.quantity, i64::try_from(s.as_of_ms).map_err(corrupt)?],
                )?;
            }
            Change::Transfer(t) => {
                conn.execute(
                    "INSERT INTO transfers (id, from_loc, lines, shipped_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET from_loc = excluded.from_loc, lines = excluded.lines",
                    params![
                        t.transfer.to_string(),
                        t.from.as_str(),
                        serde_json::to_string(&t.lines).map_err(corrupt)?,
                        i64::try_from(t.shipped_ms).map_err(corrupt)?
                    ],
                )?;
            }
            Change::ReplenishmentDecision(d) => {
                let decision = serde_json::to_value(d.decision).map_err(corrupt)?;
                conn.execute(
                    "INSERT INTO replenishment_decisions (request, decision, transfer, note) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (request) DO UPDATE SET decision = excluded.decision, transfer = excluded.transfer,
                         note = excluded.note",
                    params![
                        d.request.to_string(),
                        decision.as_str().unwrap_or_default(),
                        d.transfer.map(|t| t.to_string()),
                        d.note
                    ],
                )?;
            }
            Change::Chain(chain) => {
                // Where the receipt reads them (`print::receipt_context`); a cleared one goes,
                // so its line leaves the receipt.
                let settings = [
                    ("legal_name", chain.legal_name.as_ref().map(|v| v.as_str())),
                    ("gst_number", chain.gst_number.as_ref().map(|v| v.as_str())),
                    ("qst_number", chain.qst_number.as_ref().map(|v| v.as_str())),
                ];
                for (key, value) in settings {
                    match value {
                        Some(value) => crate::store::set_setting(conn, key, value)?,
                        None => {
                            conn.execute("DELETE FROM settings WHERE key = ?1", params![key])?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn product_of(row: &Row<'_>) -> rusqlite::Result<(String, String, String, i64, String, u32, bool)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
}

fn build(conn: &Connection, raw: (String, String, String, i64, String, u32, bool)) -> Result<ProductInfo> {
    let (sku, name, category, cents, tax, threshold, active) = raw;
    let mut statement = conn.prepare_cached("SELECT code FROM barcodes WHERE sku = ?1 ORDER BY code")?;
    let barcodes = statement
        .query_map(params![sku], |r| r.get::<_, String>(0))?
        .map(|c| Barcode::parse(&c?).map_err(corrupt))
        .collect::<Result<Vec<_>>>()?;
    Ok(ProductInfo {
        sku: Sku::parse(&sku).map_err(corrupt)?,
        name,
        category,
        barcodes,
        price: Money::from_cents(cents).map_err(corrupt)?,
        tax_class: TaxClass::from_code(&tax).ok_or_else(|| corrupt(format!("tax class {tax}")))?,
        reorder_threshold: threshold,
        active,
    })
}

const COLUMNS: &str = "p.sku, p.name, p.category, p.price_cents, p.tax_class, p.reorder_threshold, p.active";

/// The product a scanned or typed code names: a barcode (check digit verified) or a SKU.
pub fn find(conn: &Connection, code: &str) -> Result<ProductInfo> {
    let code = code.trim();
    let by_barcode = match Barcode::parse(code) {
        Ok(barcode) => conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM barcodes b JOIN products p ON p.sku = b.sku WHERE b.code = ?1"
            ))?
            .query_row(params![barcode.as_str()], product_of)
            .optional()?,
        Err(_) => None,
    };
    let raw = match by_barcode {
        Some(raw) => Some(raw),
        None => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM products p WHERE p.sku = ?1"))?
            .query_row(params![code.to_ascii_uppercase()], product_of)
            .optional()?,
    };
    match raw {
        Some(raw) => build(conn, raw),
        None if code.bytes().all(|b| b.is_ascii_digit()) && !code.is_empty() => {
            // A string of digits that is not a valid barcode is a misread, said as such.
            Barcode::parse(code)?;
            Err(RegisterError::UnknownProduct(code.to_owned()))
        }
        None => Err(RegisterError::UnknownProduct(code.to_owned())),
    }
}

/// Products whose name, SKU or category contains `text`, at most `limit`, by name. Case and
/// accents are ignored for every letter, on both sides: `epicerie`, `ÉPICERIE` and `Épicerie`
/// find the same products.
pub fn search(conn: &Connection, text: &str, limit: usize) -> Result<Vec<ProductInfo>> {
    let wanted = fold(text.trim());
    let mut statement = conn.prepare_cached(
        "SELECT p.sku, p.name, p.category FROM products p WHERE p.active = 1 ORDER BY p.name, p.sku",
    )?;
    let mut rows = statement.query([])?;
    let mut skus = Vec::new();
    while skus.len() < limit {
        let Some(row) = rows.next()? else { break };
        let (sku, name, category): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if [&sku, &name, &category].into_iter().any(|field| fold(field).contains(&wanted)) {
            skus.push(sku);
        }
    }
    drop(rows);
    let mut by_sku = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM products p WHERE p.sku = ?1"))?;
    let raws = skus
        .iter()
        .map(|sku| by_sku.query_row(params![sku], product_of))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(|raw| build(conn, raw)).collect()
}

pub use shared_model::text::fold;

/// The name of a store or warehouse, as head office published it.
pub fn location_name(conn: &Connection, code: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT name FROM locations WHERE code = ?1")?
        .query_row(params![code], |r| r.get::<_, String>(0))
        .optional()?)
}

/// The PIN hash and name of an active cashier allowed at `store`.
pub fn cashier(conn: &Connection, id: u32, store: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT name, pin_hash FROM cashiers WHERE id = ?1 AND active = 1 AND (store IS NULL OR store = ?2)",
            params![id, store],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_ignores_case_and_accents_for_every_letter() {
        for (text, folded) in [
            ("Épicerie", "epicerie"),
            ("épicerie", "epicerie"),
            ("ÉPICERIE FINE", "epicerie fine"),
            ("Crème brûlée", "creme brulee"),
            ("Œufs", "oeufs"),
            ("Ça", "ca"),
            ("Straße", "strasse"),
            ("Ñandú", "nandu"),
            ("CAF-ESP-250", "caf-esp-250"),
        ] {
            assert_eq!(fold(text), folded, "{text}");
        }
    }
}
