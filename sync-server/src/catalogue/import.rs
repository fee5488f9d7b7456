//! The catalogue as a CSV file: exported a page of products at a time, imported in the two
//! passes of [`crate::csv_file`]. An import writes what a product edit writes (the row, its
//! barcodes, an audit entry per product, the feed for registers), a batch of rows per
//! statement; a product whose row is unchanged is not written, audited nor published again,
//! so importing the same file twice changes nothing the second time.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use shared_model::catalogue::ProductInfo;
use shared_model::protocol::Change;
use shared_model::{Barcode, Sku};
use sqlx::{AnyConnection, FromRow};

use super::fields::{self, Refusal};
use super::{BarcodeRow, Extras, PRODUCT_COLUMNS, ProductDetails, ProductRow, codes_text};
use crate::audit::Actor;
use crate::csv_file::{Column, Errors, ImportError, Importer, Planned, Row, Table, decimal_point};
use crate::db::{Db, Value, from_i64, insert_rows, list_placeholders, now_ms, placeholder};
use crate::feed::{self, Entry};

/// The columns of a catalogue file, in the order exports write them. `sku` to `tax_class` are
/// required; a file without one of the others keeps each product's own (a new product gets no
/// barcodes, threshold 0, active, no description, no maximum).
pub const COLUMNS: &[Column] = &[
    Column { name: "sku", aliases: &["code"], required: true },
    Column { name: "name", aliases: &["nom"], required: true },
    Column { name: "category", aliases: &["catégorie", "categorie"], required: true },
    Column { name: "price", aliases: &["prix"], required: true },
    Column { name: "tax_class", aliases: &["taxe", "classe_taxe"], required: true },
    Column { name: "barcodes", aliases: &["codes_barres", "codes-barres"], required: false },
    Column { name: "reorder_threshold", aliases: &["seuil"], required: false },
    Column { name: "active", aliases: &["actif"], required: false },
    Column { name: "description", aliases: &[], required: false },
    Column { name: "max_level", aliases: &["maximum"], required: false },
];

/// A product's cells, as exports write them and as a preview compares them.
pub fn cells(details: &ProductDetails) -> Vec<String> {
    let p = &details.product;
    vec![
        p.sku.to_string(),
        p.name.clone(),
        p.category.clone(),
        p.price.to_string(),
        p.tax_class.code().to_owned(),
        codes_text(&p.barcodes),
        p.reorder_threshold.to_string(),
        p.active.to_string(),
        details.extras.description.clone(),
        details.extras.max_level.to_string(),
    ]
}

/// Products by SKU with their barcodes and extras, as `conn` sees them.
async fn details_of(conn: &mut AnyConnection, skus: &[&str]) -> sqlx::Result<BTreeMap<Sku, ProductDetails>> {
    let mut found = BTreeMap::new();
    if skus.is_empty() {
        return Ok(found);
    }
    let sign = placeholder(conn);
    let sql = format!(
        "SELECT code, sku FROM barcodes WHERE sku IN ({}) ORDER BY code",
        list_placeholders(sign, 1, skus.len())
    );
    let mut query = sqlx::query_as::<_, BarcodeRow>(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(*sku);
    }
    let mut barcodes: BTreeMap<Sku, Vec<Barcode>> = BTreeMap::new();
    for row in query.fetch_all(&mut *conn).await? {
        let (code, sku) = row.into_domain()?;
        barcodes.entry(sku).or_default().push(code);
    }
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS}, description, max_level FROM products WHERE sku IN ({})",
        list_placeholders(sign, 1, skus.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for sku in skus {
        query = query.bind(*sku);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let description: String = sqlx::Row::try_get(&row, "description")?;
        let max_level: i64 = sqlx::Row::try_get(&row, "max_level")?;
        let product = ProductRow::from_row(&row)?.into_domain(&mut barcodes)?;
        let extras = Extras { description, max_level: from_i64("products.max_level", max_level)? };
        found.insert(product.sku.clone(), ProductDetails { product, extras });
    }
    Ok(found)
}

/// Which product holds each of `codes`, as `conn` sees it.
async fn owners(conn: &mut AnyConnection, codes: &[&str]) -> sqlx::Result<HashMap<String, String>> {
    let mut owners = HashMap::new();
    for chunk in codes.chunks(5_000) {
        let sql = format!(
            "SELECT code, sku FROM barcodes WHERE code IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, BarcodeRow>(sqlx::AssertSqlSafe(sql));
        for code in chunk {
            query = query.bind(*code);
        }
        for row in query.fetch_all(&mut *conn).await? {
            owners.insert(row.code, row.sku);
        }
    }
    Ok(owners)
}

/// A row's cells read, before they meet the product they replace: `None` where the file has no
/// such column.
struct Typed {
    line: u64,
    sku: Sku,
    name: String,
    category: String,
    price: shared_model::Money,
    tax_class: shared_model::TaxClass,
    barcodes: Option<Vec<Barcode>>,
    reorder_threshold: Option<u32>,
    active: Option<bool>,
    description: Option<String>,
    max_level: Option<u32>,
}

/// A whole number in a cell; an empty cell is 0.
fn whole(text: &str, field: &str) -> Result<u32, Refusal> {
    if text.is_empty() {
        return Ok(0);
    }
    text.parse()
        .map_err(|_| Refusal { field: field.to_owned(), reason: format!("{text:?} is not a whole number") })
}

fn flag(text: &str) -> Result<bool, Refusal> {
    match text.to_lowercase().as_str() {
        "true" | "1" | "yes" | "oui" | "vrai" => Ok(true),
        "false" | "0" | "no" | "non" | "faux" => Ok(false),
        _ => Err(Refusal { field: "active".into(), reason: format!("{text:?} is not true or false") }),
    }
}

/// The column a refused field is in (`barcodes[2]` is in `barcodes`).
fn column_of(field: &str) -> &str {
    field.split('[').next().unwrap_or(field)
}

/// Reads a row's cells, or says which is wrong.
fn typed<R: Read>(table: &Table<R>, row: &Row) -> Result<Typed, Refusal> {
    let cell = |column| table.cell(row, column);
    let required = |column| cell(column).unwrap_or_default();
    let sku =
        Sku::parse(required("sku")).map_err(|e| Refusal { field: "sku".into(), reason: e.to_string() })?;
    Ok(Typed {
        line: row.line,
        sku,
        name: fields::name(required("name"))?,
        category: fields::category(required("category"))?,
        price: fields::price(&decimal_point(required("price")))?,
        tax_class: fields::tax_class(required("tax_class"))?,
        barcodes: cell("barcodes")
            .map(|codes| {
                let mut codes = fields::barcodes(codes.split_whitespace().collect::<Vec<_>>().into_iter())?;
                codes.sort();
                Ok::<_, Refusal>(codes)
            })
            .transpose()?,
        reorder_threshold: cell("reorder_threshold")
            .map(|t| whole(t, "reorder_threshold").and_then(fields::reorder_threshold))
            .transpose()?,
        active: cell("active").map(flag).transpose()?,
        description: cell("description").map(str::to_owned),
        max_level: cell("max_level").map(|m| whole(m, "max_level")).transpose()?,
    })
}

/// The product a row makes of `current` (or of nothing, for a new one).
fn merged(row: Typed, current: Option<&ProductDetails>) -> Result<ProductDetails, Refusal> {
    let product = ProductInfo {
        sku: row.sku,
        name: row.name,
        category: row.category,
        price: row.price,
        tax_class: row.tax_class,
        barcodes: row.barcodes.or_else(|| current.map(|c| c.product.barcodes.clone())).unwrap_or_default(),
        reorder_threshold: row
            .reorder_threshold
            .or(current.map(|c| c.product.reorder_threshold))
            .unwrap_or(0),
        active: row.active.or(current.map(|c| c.product.active)).unwrap_or(true),
    };
    product.check().map_err(|(field, e)| Refusal { field: field.into(), reason: e.to_string() })?;
    let description =
        row.description.or_else(|| current.map(|c| c.extras.description.clone())).unwrap_or_default();
    let max_level = row.max_level.or(current.map(|c| c.extras.max_level)).unwrap_or(0);
    let extras = fields::extras(&description, max_level, product.reorder_threshold)?;
    Ok(ProductDetails { product, extras })
}

/// Imports products; see the module's documentation.
#[derive(Debug, Default)]
pub struct Products {
    /// SKU → the line it was first seen on, this pass.
    skus: HashMap<Sku, u64>,
    /// Barcode → the SKU and line that list it, this pass.
    barcodes: HashMap<Barcode, (Sku, u64)>,
}

/// A product a row writes, with what it was.
#[derive(Debug)]
pub struct Write {
    before: Option<ProductDetails>,
    after: ProductDetails,
}

#[async_trait::async_trait]
impl Importer for Products {
    type Item = Write;

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }

    fn start_pass(&mut self) {
        self.skus.clear();
        self.barcodes.clear();
    }

    async fn plan<R: Read + Send + Sync>(
        &mut self,
        conn: &mut AnyConnection,
        table: &Table<R>,
        rows: Vec<Row>,
        errors: &mut Errors,
    ) -> sqlx::Result<Vec<Planned<Write>>> {
        let mut typed_rows = Vec::with_capacity(rows.len());
        for row in &rows {
            match typed(table, row) {
                Ok(t) => match self.skus.get(&t.sku) {
                    Some(first) => {
                        errors.push(row.line, "sku", format!("SKU {} is on line {first} too", t.sku))
                    }
                    None => {
                        self.skus.insert(t.sku.clone(), row.line);
                        typed_rows.push(t);
                    }
                },
                Err(refusal) => errors.push(row.line, column_of(&refusal.field), refusal.reason),
            }
        }
        let skus: Vec<&str> = typed_rows.iter().map(|t| t.sku.as_str()).collect();
        let mut current = details_of(conn, &skus).await?;
        let codes: Vec<&str> =
            typed_rows.iter().flat_map(|t| t.barcodes.iter().flatten()).map(Barcode::as_str).collect();
        let owners = owners(conn, &codes).await?;
        let mut planned = Vec::with_capacity(typed_rows.len());
        for row in typed_rows {
            let line = row.line;
            let before = current.remove(&row.sku);
            let after = match merged(row, before.as_ref()) {
                Ok(after) => after,
                Err(refusal) => {
                    errors.push(line, column_of(&refusal.field), refusal.reason);
                    continue;
                }
            };
            let sku = &after.product.sku;
            let mut refused = false;
            for code in &after.product.barcodes {
                if let Some(other) = owners.get(code.as_str()).filter(|other| *other != sku.as_str()) {
                    errors.push(line, "barcodes", format!("barcode {code} belongs to product {other}"));
                    refused = true;
                } else if let Some((other, at)) = self.barcodes.get(code) {
                    errors.push(
                        line,
                        "barcodes",
                        format!("barcode {code} is given to {other} on line {at} too"),
                    );
                    refused = true;
                } else {
                    self.barcodes.insert(code.clone(), (sku.clone(), line));
                }
            }
            if refused {
                continue;
            }
            planned.push(Planned {
                line,
                key: sku.to_string(),
                before: before.as_ref().map(cells),
                after: cells(&after),
                item: Write { before, after },
            });
        }
        Ok(planned)
    }

    async fn write(
        &mut self,
        tx: &mut crate::db::Tx,
        rows: Vec<Planned<Write>>,
        actor: &Actor,
    ) -> Result<(), ImportError> {
        let writes: Vec<Write> = rows.into_iter().map(|p| p.item).collect();
        write_products(tx, &writes).await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                ImportError::Conflict(
                    "a barcode of the file was just given to another product: nothing was imported; try again"
                        .into(),
                )
            } else {
                e.into()
            }
        })?;
        let changes = writes
            .iter()
            .map(|w| {
                let object = format!("product:{}", w.after.product.sku);
                match &w.before {
                    None => crate::audit::Change::new("product.create", object).after(&w.after),
                    Some(before) => {
                        crate::audit::Change::new("product.update", object).before(before).after(&w.after)
                    }
                }
            })
            .collect();
        crate::audit::record_many(tx, actor, changes).await?;
        // As an edit: what registers do not carry (description, maximum) is not published.
        let entries = writes
            .iter()
            .filter(|w| w.before.as_ref().map(|b| &b.product) != Some(&w.after.product))
            .map(|w| Entry {
                kind: "product",
                key: w.after.product.sku.to_string(),
                audience: None,
                change: Change::Product(w.after.product.clone()),
            })
            .collect();
        // Last in the batch: publishing takes feed positions in this transaction.
        feed::publish(tx, entries).await?;
        Ok(())
    }
}

/// Writes products' rows and barcodes, many per statement.
async fn write_products(conn: &mut AnyConnection, writes: &[Write]) -> sqlx::Result<()> {
    let at = now_ms();
    let rows = writes
        .iter()
        .map(|w| {
            let (p, e) = (&w.after.product, &w.after.extras);
            vec![
                Value::from(p.sku.as_str()),
                p.name.as_str().into(),
                p.category.as_str().into(),
                p.price.as_cents().into(),
                p.tax_class.code().into(),
                i64::from(p.reorder_threshold).into(),
                i64::from(p.active).into(),
                at.into(),
                shared_model::text::fold(&p.name).into(),
                codes_text(&p.barcodes).into(),
                e.description.as_str().into(),
                i64::from(e.max_level).into(),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "products",
        &[
            "sku",
            "name",
            "category",
            "price_cents",
            "tax_class",
            "reorder_threshold",
            "active",
            "updated_ms",
            "folded",
            "codes",
            "description",
            "max_level",
        ],
        rows,
        "ON CONFLICT (sku) DO UPDATE SET name = excluded.name, category = excluded.category, \
         price_cents = excluded.price_cents, tax_class = excluded.tax_class, \
         reorder_threshold = excluded.reorder_threshold, active = excluded.active, \
         updated_ms = excluded.updated_ms, folded = excluded.folded, codes = excluded.codes, \
         description = excluded.description, max_level = excluded.max_level",
    )
    .await?;
    let existing: Vec<&str> =
        writes.iter().filter(|w| w.before.is_some()).map(|w| w.after.product.sku.as_str()).collect();
    for chunk in existing.chunks(5_000) {
        let sql = format!(
            "DELETE FROM barcodes WHERE sku IN ({})",
            list_placeholders(placeholder(conn), 1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for sku in chunk {
            query = query.bind(*sku);
        }
        query.execute(&mut *conn).await?;
    }
    let barcodes = writes
        .iter()
        .flat_map(|w| {
            let sku = w.after.product.sku.as_str();
            w.after.product.barcodes.iter().map(move |b| vec![Value::from(b.as_str()), sku.into()])
        })
        .collect();
    insert_rows(conn, "barcodes", &["code", "sku"], barcodes, "").await
}

/// Imports a catalogue file (see [`crate::csv_file::import`]).
pub async fn import<R, F>(
    db: &Db,
    open: F,
    dry_run: bool,
    actor: &Actor,
) -> Result<crate::csv_file::Report, ImportError>
where
    R: Read + Send + Sync,
    F: Fn() -> std::io::Result<R> + Send + Sync,
{
    crate::csv_file::import(db, &mut Products::default(), open, dry_run, actor).await
}

/// Reads the catalogue a page at a time, as CSV: the whole export never sits in memory.
#[derive(Debug)]
pub struct Export {
    db: Db,
    separator: u8,
    /// The last SKU written; `None` before the first page.
    after: Option<String>,
    done: bool,
}

/// Products per page of an export.
const EXPORT_PAGE: i64 = 1_000;

impl Export {
    pub fn new(db: Db, separator: u8) -> Export {
        Export { db, separator, after: None, done: false }
    }

    /// The next piece of the file (the first holds the header); `None` at the end.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ImportError> {
        if self.done {
            return Ok(None);
        }
        let mut conn = self.db.pool().acquire().await?;
        let skus: Vec<String> =
            sqlx::query_scalar("SELECT sku FROM products WHERE sku > $1 ORDER BY sku LIMIT $2")
                .bind(self.after.clone().unwrap_or_default())
                .bind(EXPORT_PAGE)
                .fetch_all(&mut *conn)
                .await?;
        let first = self.after.is_none();
        self.done = (skus.len() as i64) < EXPORT_PAGE;
        self.after = skus.last().cloned().or(self.after.take()).or(Some(String::new()));
        let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
        let details = details_of(&mut conn, &refs).await?;
        let mut rows: Vec<Vec<String>> = Vec::with_capacity(details.len() + 1);
        if first {
            rows.push(crate::csv_file::header(COLUMNS).into_iter().map(str::to_owned).collect());
        }
        rows.extend(details.values().map(cells));
        let mut piece = if first { crate::csv_file::BOM.to_vec() } else { Vec::new() };
        piece.extend(crate::csv_file::to_csv(self.separator, rows)?);
        Ok(Some(piece))
    }
}
