//! Stock levels as a CSV file (`location, sku, quantity`): exported a page at a time, and
//! imported as counts, in the two passes of [`crate::csv_file`].
//!
//! A row says how many units a location holds. Importing it records an `opening` movement of
//! the difference from the level it finds (in the import's transaction), through the same
//! ledger as every other movement, so a level stays its opening stock plus its movements
//! (DESIGN.md §4, invariant 2), registers get the new level through the feed, and alerts are
//! raised or resolved as for any move. A row that matches the level moves nothing: the same
//! file imported twice changes nothing the second time. A sale pushed between the file's
//! count and its import is still counted after it, as it happened after the count.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;

use shared_model::{LocationCode, Sku};
use sqlx::AnyConnection;

use crate::audit::Actor;
use crate::csv_file::{Column, Errors, ImportError, Importer, Planned, Report, Row, Table};
use crate::db::Db;
use crate::inventory::{self, Move};

pub const COLUMNS: &[Column] = &[
    Column { name: "location", aliases: &["lieu", "magasin", "emplacement"], required: true },
    Column { name: "sku", aliases: &["code"], required: true },
    Column { name: "quantity", aliases: &["quantité", "quantite", "qté", "qte"], required: true },
];

/// Most units a row may set.
pub const MAX_QUANTITY: i64 = 10_000_000;

/// Imports stock levels; see the module's documentation.
#[derive(Debug, Default)]
pub struct Levels {
    /// (location, SKU) → the line it was first seen on, this pass.
    seen: HashMap<(LocationCode, Sku), u64>,
}

/// A level a row sets: where, and from what to what.
#[derive(Debug)]
pub struct Set {
    location: LocationCode,
    sku: Sku,
    before: i64,
    after: i64,
}

#[async_trait::async_trait]
impl Importer for Levels {
    type Item = Set;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn start_pass(&mut self) {
        self.seen.clear();
    }

    async fn plan<R: Read + Send + Sync>(
        &mut self,
        conn: &mut AnyConnection,
        table: &Table<R>,
        rows: Vec<Row>,
        errors: &mut Errors,
    ) -> sqlx::Result<Vec<Planned<Set>>> {
        let mut typed = Vec::with_capacity(rows.len());
        for row in &rows {
            let cell = |column| table.cell(row, column).unwrap_or_default();
            let location = match LocationCode::parse(cell("location")) {
                Ok(location) => location,
                Err(e) => {
                    errors.push(row.line, "location", e);
                    continue;
                }
            };
            let sku = match Sku::parse(cell("sku")) {
                Ok(sku) => sku,
                Err(e) => {
                    errors.push(row.line, "sku", e);
                    continue;
                }
            };
            let quantity = match cell("quantity").parse::<i64>() {
                Ok(q) if (-MAX_QUANTITY..=MAX_QUANTITY).contains(&q) => q,
                _ => {
                    let reason = format!(
                        "{:?} is not a whole number of units (at most {MAX_QUANTITY})",
                        cell("quantity")
                    );
                    errors.push(row.line, "quantity", reason);
                    continue;
                }
            };
            let key = (location, sku);
            if let Some(first) = self.seen.get(&key) {
                errors.push(row.line, "sku", format!("{} at {} is on line {first} too", key.1, key.0));
                continue;
            }
            self.seen.insert(key.clone(), row.line);
            typed.push((row.line, key, quantity));
        }
        let codes: BTreeSet<&LocationCode> = typed.iter().map(|(_, (l, _), _)| l).collect();
        let codes: Vec<&LocationCode> = codes.into_iter().collect();
        let known_locations = crate::catalogue::known_locations(conn, &codes).await?;
        let skus: BTreeSet<&str> = typed.iter().map(|(_, (_, s), _)| s.as_str()).collect();
        let skus: Vec<&str> = skus.into_iter().collect();
        let known_skus = crate::catalogue::existing_skus(conn, &skus).await?;
        let levels = inventory::levels_in(conn, &skus).await?;
        let mut planned = Vec::with_capacity(typed.len());
        for (line, (location, sku), quantity) in typed {
            if !known_locations.contains(&location) {
                errors.push(line, "location", format!("the chain has no location {location}"));
                continue;
            }
            if !known_skus.contains(sku.as_str()) {
                errors.push(line, "sku", format!("the catalogue has no product {sku}"));
                continue;
            }
            let before = levels.get(&(location.to_string(), sku.to_string())).copied();
            let cells = |q: i64| vec![location.to_string(), sku.to_string(), q.to_string()];
            planned.push(Planned {
                line,
                key: format!("{location}/{sku}"),
                before: before.map(cells),
                after: cells(quantity),
                item: Set { before: before.unwrap_or(0), after: quantity, location, sku },
            });
        }
        Ok(planned)
    }

    async fn write(
        &mut self,
        tx: &mut crate::db::Tx,
        rows: Vec<Planned<Set>>,
        actor: &Actor,
    ) -> Result<(), ImportError> {
        let sets: Vec<Set> = rows.into_iter().map(|p| p.item).collect();
        let moves: Vec<Move> = sets
            .iter()
            .map(|s| Move {
                location: s.location.clone(),
                sku: s.sku.clone(),
                delta: s.after - s.before,
                kind: "opening",
                record_id: None,
            })
            .collect();
        let entries = inventory::apply(tx, &moves).await?;
        let changes = sets
            .iter()
            .map(|s| {
                crate::audit::Change::new("stock.set", format!("stock:{}/{}", s.location, s.sku))
                    .before(serde_json::json!({ "quantity": s.before }))
                    .after(serde_json::json!({ "quantity": s.after }))
            })
            .collect();
        crate::audit::record_many(tx, actor, changes).await?;
        crate::feed::publish(tx, entries).await?;
        Ok(())
    }
}

/// Imports a stock file (see [`crate::csv_file::import`]).
pub async fn import<R, F>(db: &Db, open: F, dry_run: bool, actor: &Actor) -> Result<Report, ImportError>
where
    R: Read + Send + Sync,
    F: Fn() -> std::io::Result<R> + Send + Sync,
{
    crate::csv_file::import(db, &mut Levels::default(), open, dry_run, actor).await
}

/// Reads every level a page at a time, as CSV.
#[derive(Debug)]
pub struct Export {
    db: Db,
    separator: u8,
    /// The last (location, SKU) written; `None` before the first page.
    after: Option<(String, String)>,
    done: bool,
}

const EXPORT_PAGE: i64 = 5_000;

impl Export {
    pub fn new(db: Db, separator: u8) -> Export {
        Export { db, separator, after: None, done: false }
    }

    /// The next piece of the file (the first holds the header); `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ImportError> {
        if self.done {
            return Ok(None);
        }
        let first = self.after.is_none();
        let after = self.after.clone().unwrap_or_default();
        let page = inventory::levels_page(&self.db, (&after.0, &after.1), EXPORT_PAGE).await?;
        self.done = (page.len() as i64) < EXPORT_PAGE;
        self.after = Some(page.last().map(|(l, s, _)| (l.clone(), s.clone())).unwrap_or(after));
        let mut rows: Vec<Vec<String>> = Vec::with_capacity(page.len() + 1);
        if first {
            rows.push(crate::csv_file::header(COLUMNS).into_iter().map(str::to_owned).collect());
        }
        rows.extend(page.into_iter().map(|(l, s, q)| vec![l, s, q.to_string()]));
        let mut piece = if first { crate::csv_file::BOM.to_vec() } else { Vec::new() };
        piece.extend(crate::csv_file::to_csv(self.separator, rows)?);
        Ok(Some(piece))
    }
}
