//! Pages of the product list: head office's list and the shop's searches, in SKU order with
//! keyset pagination (`after`).
//!
//! On PostgreSQL, pages asked for at the same moment are read together: a few readers each
//! take every page waiting, and read those of the same filters with one statement, each page
//! a `LATERAL` subquery over a JSON list of the pages. A reader that finds one page waiting
//! reads it at once, alone in its list: nothing waits to gather a batch. One statement per page
//! cost a round trip with wake-ups on both sides and the database's per-statement work each
//! time; read together, 16 pages cost the database less than 5 read apart (BENCHMARKS.md).
//! Nothing is kept between requests: each page is read in a statement that starts after it
//! was asked for.
//!
//! SQLite is in the process (no round trip), so there each page is read alone, as is a page
//! looked up by barcode on either engine (an exact lookup, best planned for its own value).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use shared_model::catalogue::ProductInfo;
use shared_model::{Barcode, Money};
use sqlx::{PgPool, Row};
use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Error, ProductQuery, ProductRow, Result, ShopFilter};
use crate::db::{Db, Value, bind_all, parse};

/// Readers of pages on PostgreSQL: at most this many statements of pages at once, each on a
/// connection of the pool.
const READERS: usize = 4;
/// Most pages one statement reads.
const MOST_PAGES: usize = 32;
/// Pages waiting for a reader, past which a request waits to queue.
const QUEUE: usize = 1_024;

/// The columns of a listed product, the same inside a page's subquery and outside it.
const COLUMNS: &str =
    "p.sku, p.name, p.category, p.price_cents, p.tax_class, p.reorder_threshold, p.active, p.codes";

/// Reads pages of the product list (one per process, shared by the handlers).
#[derive(Debug)]
pub struct Listing {
    db: Db,
    /// `None` when there are no readers: SQLite, or a URL the native driver cannot read.
    queue: OnceLock<Option<mpsc::Sender<Wanted>>>,
    counts: Arc<Counts>,
}

/// How many statements read how many pages (tests and metrics).
#[derive(Debug, Default)]
pub struct Counts {
    pub statements: AtomicU64,
    pub pages: AtomicU64,
}

/// A page asked for, and where its answer goes.
#[derive(Debug)]
struct Wanted {
    page: Page,
    answer: oneshot::Sender<Result<Vec<ProductInfo>>>,
}

/// A page, checked: its filters, as a statement binds them or a JSON list carries them.
#[derive(Debug, Clone, Serialize)]
struct Page {
    after: String,
    lim: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    #[serde(skip)]
    on_sale_only: bool,
    /// Never read together: an exact lookup is best planned for its own value.
    #[serde(skip)]
    barcode: Option<String>,
}

/// Which filters a page has: pages of one shape share a statement.
type Shape = (bool, bool, bool, bool, bool);

/// A value the filters refer to: a bound parameter, or a field of the JSON list.
#[derive(Debug, Clone, Copy)]
enum Field {
    After,
    Pattern,
    Category,
    Barcode,
    Min,
    Max,
}

impl Page {
    fn new(query: &ProductQuery, filter: ShopFilter) -> Result<Page> {
        let limit = query.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(Error::Malformed {
                field: "limit",
                detail: "limit must be between 1 and 500".into(),
            });
        }
        let barcode = match query.barcode.as_deref() {
            Some(code) => Some(
                Barcode::parse(code)
                    .map_err(|e| Error::Malformed { field: "barcode", detail: e.to_string() })?
                    .to_string(),
            ),
            None => None,
        };
        Ok(Page {
            after: query.after.clone().unwrap_or_default(),
            lim: i64::from(limit),
            pattern: query.q.as_deref().map(|q| format!("%{}%", shared_model::text::fold(q.trim()))),
            category: query.category.clone().filter(|c| !c.is_empty()),
            min: filter.min_price.map(Money::as_cents),
            max: filter.max_price.map(Money::as_cents),
            on_sale_only: filter.on_sale_only,
            barcode,
        })
    }

    fn shape(&self) -> Shape {
        (
            self.pattern.is_some(),
            self.category.is_some(),
            self.min.is_some(),
            self.max.is_some(),
            self.on_sale_only,
        )
    }

    /// The page's conditions on `products p`, each value written by `value`.
    ///
    /// Only the filters a page has are written, so each combination is a statement of its own
    /// that PostgreSQL plans once and keeps. Written as `$n = '' OR …`, one statement for all,
    /// it was planned again at every execution: a third of the database's time on this read.
    fn conditions(&self, mut value: impl FnMut(Field) -> String) -> String {
        let mut sql = format!("p.sku > {}", value(Field::After));
        if self.pattern.is_some() {
            let pattern = value(Field::Pattern);
            let _ = write!(sql, " AND (p.folded LIKE {pattern} OR lower(p.sku) LIKE {pattern})");
        }
        if self.category.is_some() {
            let _ = write!(sql, " AND p.category = {}", value(Field::Category));
        }
        if self.barcode.is_some() {
            let _ = write!(
                sql,
                " AND p.sku IN (SELECT b.sku FROM barcodes b WHERE b.code = {})",
                value(Field::Barcode)
            );
        }
        if self.min.is_some() {
            let _ = write!(sql, " AND p.price_cents >= {}", value(Field::Min));
        }
        if self.max.is_some() {
            let _ = write!(sql, " AND p.price_cents <= {}", value(Field::Max));
        }
        if self.on_sale_only {
            sql.push_str(" AND p.active = 1");
        }
        sql
    }

    fn value(&self, field: Field) -> Value {
        let text = |v: &Option<String>| Value::from(v.clone().unwrap_or_default());
        match field {
            Field::After => self.after.clone().into(),
            Field::Pattern => text(&self.pattern),
            Field::Category => text(&self.category),
            Field::Barcode => text(&self.barcode),
            Field::Min => self.min.unwrap_or(i64::MIN).into(),
            Field::Max => self.max.unwrap_or(i64::MAX).into(),
        }
    }
}

impl Listing {
    pub fn new(db: Db) -> Listing {
        Listing { db, queue: OnceLock::new(), counts: Arc::default() }
    }

    /// How many statements have read how many pages, since this listing was made.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Products in SKU order, filtered; keyset pagination with `after`.
    #[tracing::instrument(skip_all)]
    pub async fn products(&self, query: &ProductQuery) -> Result<Vec<ProductInfo>> {
        self.search(query, ShopFilter::default()).await
    }

    /// Products in SKU order, filtered by `query` and `filter`.
    #[tracing::instrument(skip_all)]
    pub async fn search(&self, query: &ProductQuery, filter: ShopFilter) -> Result<Vec<ProductInfo>> {
        let page = Page::new(query, filter)?;
        let queue = if page.barcode.is_some() { None } else { self.queue() };
        let Some(queue) = queue else {
            return read_alone(&self.db, &page, &self.counts).await;
        };
        let (answer, answered) = oneshot::channel();
        queue
            .send(Wanted { page, answer })
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("the product list's readers have stopped")))?;
        answered.await.map_err(|_| Error::Internal(anyhow::anyhow!("a product list reader stopped")))?
    }

    /// The readers' queue, started at the first page asked for (in the runtime that serves);
    /// `None` on SQLite.
    fn queue(&self) -> Option<&mpsc::Sender<Wanted>> {
        self.queue
            .get_or_init(|| {
                // A connection per reader, of the driver's own: the Any layer's row conversion
                // was a fifth of the server's time on this read.
                let pool = self.db.native_postgres(READERS as u32)?;
                let (sender, receiver) = mpsc::channel(QUEUE);
                let receiver = Arc::new(Mutex::new(receiver));
                for _ in 0..READERS {
                    tokio::spawn(read_waiting(pool.clone(), receiver.clone(), self.counts.clone()));
                }
                Some(sender)
            })
            .as_ref()
    }
}

/// A reader: takes every page waiting (up to [`MOST_PAGES`]), reads them, and again, until
/// the listing is dropped.
async fn read_waiting(pool: PgPool, queue: Arc<Mutex<mpsc::Receiver<Wanted>>>, counts: Arc<Counts>) {
    loop {
        let taken = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            let mut taken = vec![first];
            while taken.len() < MOST_PAGES
                && let Ok(next) = queue.try_recv()
            {
                taken.push(next);
            }
            taken
        };
        let mut by_shape: BTreeMap<Shape, Vec<Wanted>> = BTreeMap::new();
        for wanted in taken.into_iter().filter(|w| !w.answer.is_closed()) {
            by_shape.entry(wanted.page.shape()).or_default().push(wanted);
        }
        for (_, group) in by_shape {
            read_together(&pool, group, &counts).await;
        }
    }
}

/// One page, with a statement of its own.
async fn read_alone(db: &Db, page: &Page, counts: &Counts) -> Result<Vec<ProductInfo>> {
    let mut values = Vec::new();
    let conditions = page.conditions(|field| {
        values.push(page.value(field));
        format!("${}", values.len())
    });
    values.push(page.lim.into());
    let sql =
        format!("SELECT {COLUMNS} FROM products p WHERE {conditions} ORDER BY p.sku LIMIT ${}", values.len());
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values).fetch_all(db.pool()).await?;
    tally(counts, 1);
    rows.iter()
        .map(|row| sqlx::FromRow::from_row(row).and_then(ListedRow::into_domain))
        .collect::<sqlx::Result<_>>()
        .map_err(Error::from)
}

/// Pages of one shape (one page, when it came alone), with one statement; each answer goes to
/// its page's request.
async fn read_together(pool: &PgPool, group: Vec<Wanted>, counts: &Counts) {
    let conditions = group[0].page.conditions(|field| {
        match field {
            Field::After => "q.after",
            Field::Pattern => "q.pattern",
            Field::Category => "q.category",
            Field::Barcode => unreachable!("a barcode's page is read alone"),
            Field::Min => "q.min",
            Field::Max => "q.max",
        }
        .to_owned()
    });
    let sql = format!(
        "SELECT q.n, {COLUMNS}
         FROM json_to_recordset($1::json)
              AS q(n BIGINT, after TEXT, lim BIGINT, pattern TEXT, category TEXT, min BIGINT, max BIGINT)
         CROSS JOIN LATERAL
              (SELECT {COLUMNS} FROM products p WHERE {conditions} ORDER BY p.sku LIMIT q.lim) p
         ORDER BY q.n, p.sku"
    );
    #[derive(Serialize)]
    struct Numbered<'a> {
        n: usize,
        #[serde(flatten)]
        page: &'a Page,
    }
    let list: Vec<Numbered> = group.iter().enumerate().map(|(n, w)| Numbered { n, page: &w.page }).collect();
    let read = async {
        let list = serde_json::to_string(&list).map_err(|e| Error::Internal(e.into()))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(list).fetch_all(pool).await?;
        let mut pages: Vec<Vec<ProductInfo>> = group.iter().map(|_| Vec::new()).collect();
        for row in &rows {
            let n: i64 = row.try_get("n")?;
            let product = sqlx::FromRow::from_row(row).and_then(ListedRow::into_domain)?;
            let page = usize::try_from(n).ok().and_then(|n| pages.get_mut(n));
            page.ok_or_else(|| {
                Error::Internal(anyhow::anyhow!("a row for page {n}, which was not asked for"))
            })?
            .push(product);
        }
        Ok::<_, Error>(pages)
    };
    match read.await {
        Ok(pages) => {
            tally(counts, group.len());
            for (wanted, page) in group.into_iter().zip(pages) {
                let _ = wanted.answer.send(Ok(page));
            }
        }
        Err(e) => {
            // The error cannot be cloned: each page gets its text.
            tracing::error!(error = %e, pages = group.len(), "reading pages of the product list");
            for wanted in group {
                let _ = wanted
                    .answer
                    .send(Err(Error::Internal(anyhow::anyhow!("reading the product list: {e}"))));
            }
        }
    }
}

/// A product with its barcodes in one text, space-separated in code order.
#[derive(Debug, sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    product: ProductRow,
    codes: String,
}

impl ListedRow {
    fn into_domain(self) -> sqlx::Result<ProductInfo> {
        let sku = self.product.sku()?;
        let barcodes = self
            .codes
            .split_whitespace()
            .map(|code| parse("barcodes.code", code))
            .collect::<sqlx::Result<_>>()?;
        self.product.into_domain(&mut BTreeMap::from([(sku, barcodes)]))
    }
}

fn tally(counts: &Counts, pages: usize) {
    counts.statements.fetch_add(1, Ordering::Relaxed);
    counts.pages.fetch_add(pages as u64, Ordering::Relaxed);
    metrics::histogram!("caisse_catalogue_pages_per_statement").record(pages as f64);
}
