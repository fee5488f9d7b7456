//! A product saved: its row, its barcodes and its extras written in one transaction, audited,
//! and published to the feed for registers.

use shared_model::catalogue::ProductInfo;
use shared_model::protocol::Change;
use shared_model::{Barcode, Sku};
use sqlx::AnyConnection;

use crate::db::{Db, Value, insert_rows, list_placeholders, now_ms, placeholder};
use crate::feed::{self, Entry};

use super::products::{BarcodeRow, Extras, ProductDetails, product_in};
use super::{Error, Result};

/// Creates a product (`create`) or replaces one, with its barcodes, and publishes it.
/// Creating is a plain insert: of two requests racing to create one SKU, the database lets one
/// in and the other gets a conflict; an existence check before an upsert would let both
/// through on PostgreSQL. Replacing is an update that finds no row when the product does not
/// exist. A barcode another product holds is a conflict.
#[tracing::instrument(skip_all)]
pub async fn save_product(db: &Db, product: &ProductInfo, create: bool) -> Result<()> {
    save_product_with(db, product, None, create, &crate::audit::Actor::system()).await
}

/// Like [`save_product`], and sets the product's [`Extras`] too when given (otherwise a new
/// product has none and an edited one keeps its own). The change, with the product before and
/// after, goes in the audit trail under `actor`.
#[tracing::instrument(skip_all)]
pub async fn save_product_with(
    db: &Db,
    product: &ProductInfo,
    extras: Option<&Extras>,
    create: bool,
    actor: &crate::audit::Actor,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let before = if create { None } else { details_in(&mut tx, &product.sku).await? };
    // A change registers do not carry (the description, the maximum) is not published: the
    // registers would download the product again for nothing, and its reach would start over.
    let unchanged = !create && product_in(&mut tx, &product.sku).await?.as_ref() == Some(product);
    if create {
        insert_product(&mut tx, product).await.map_err(|e| {
            if crate::db::is_unique_violation(&e) {
                Error::Conflict(format!("product {} already exists", product.sku))
            } else {
                e.into()
            }
        })?;
    } else if !update_product_row(&mut tx, product).await? {
        return Err(Error::NotFound(format!("no product {}", product.sku)));
    }
    if !product.barcodes.is_empty() {
        let sign = placeholder(&tx);
        let sql = format!(
            "SELECT code, sku FROM barcodes WHERE sku <> {} AND code IN ({})",
            list_placeholders(sign, 1, 1),
            list_placeholders(sign, 2, product.barcodes.len())
        );
        let mut query = sqlx::query_as::<_, BarcodeRow>(sqlx::AssertSqlSafe(sql)).bind(product.sku.as_str());
        for code in &product.barcodes {
            query = query.bind(code.as_str());
        }
        if let Some(row) = query.fetch_optional(&mut *tx).await? {
            let (code, other) = row.into_domain()?;
            // The code is one of the product's (the query asked for those alone).
            let field = product
                .barcodes
                .iter()
                .position(|b| *b == code)
                .map_or_else(|| "barcodes".to_owned(), |index| format!("barcodes[{index}]"));
            return Err(Error::Conflict(format!(
                "barcode {code} ({field}) already belongs to product {other}"
            )));
        }
    }
    // A racing write of the same barcode can still hit the unique key: a conflict too.
    replace_barcodes(&mut tx, product).await.map_err(|e| {
        if crate::db::is_unique_violation(&e) {
            Error::Conflict(format!(
                "one of the barcodes of product {} was just given to another product",
                product.sku
            ))
        } else {
            e.into()
        }
    })?;
    if let Some(extras) = extras {
        sqlx::query("UPDATE products SET description = $1, max_level = $2 WHERE sku = $3")
            .bind(extras.description.as_str())
            .bind(i64::from(extras.max_level))
            .bind(product.sku.as_str())
            .execute(&mut *tx)
            .await?;
    }
    let after = details_in(&mut tx, &product.sku).await?;
    let action = if create { "product.create" } else { "product.update" };
    let mut change = crate::audit::Change::new(action, format!("product:{}", product.sku)).after(&after);
    if let Some(before) = &before {
        change = change.before(before);
    }
    crate::audit::record(&mut tx, actor, change).await?;
    // Last: publishing holds the feed's clock until the commit.
    if !unchanged {
        publish_product(&mut tx, product).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A product and its extras, in the caller's transaction.
async fn details_in(conn: &mut AnyConnection, sku: &Sku) -> Result<Option<ProductDetails>> {
    let Some(product) = product_in(conn, sku).await? else { return Ok(None) };
    let extras: Option<(String, i64)> =
        sqlx::query_as("SELECT description, max_level FROM products WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *conn)
            .await?;
    let (description, max_level) = extras.unwrap_or_default();
    Ok(Some(ProductDetails {
        product,
        extras: Extras { description, max_level: crate::db::from_i64("products.max_level", max_level)? },
    }))
}

/// Binds a product's row as `$1` (SKU) to `$10` (its barcodes), the order both the insert and
/// the update use.
fn with_product<'q>(query: crate::db::Query<'q>, product: &'q ProductInfo) -> crate::db::Query<'q> {
    query
        .bind(product.sku.as_str())
        .bind(product.name.as_str())
        .bind(product.category.as_str())
        .bind(product.price.as_cents())
        .bind(product.tax_class.code())
        .bind(i64::from(product.reorder_threshold))
        .bind(i64::from(product.active))
        .bind(now_ms())
        .bind(shared_model::text::fold(&product.name))
        .bind(codes_text(&product.barcodes))
}

/// A product's barcodes as its row keeps them: space-separated, in code order.
pub(super) fn codes_text(barcodes: &[Barcode]) -> String {
    let mut codes: Vec<&str> = barcodes.iter().map(Barcode::as_str).collect();
    codes.sort_unstable();
    codes.join(" ")
}

/// Inserts a new product's row; a unique violation when the SKU exists.
#[tracing::instrument(skip_all)]
async fn insert_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    let insert = sqlx::query(
        "INSERT INTO products (sku, name, category, price_cents, tax_class, reorder_threshold, active, updated_ms, folded, codes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    );
    with_product(insert, product).execute(&mut *conn).await?;
    Ok(())
}

/// Replaces an existing product's row; false when there is none.
#[tracing::instrument(skip_all)]
async fn update_product_row(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<bool> {
    let update = sqlx::query(
        "UPDATE products SET name = $2, category = $3, price_cents = $4, tax_class = $5,
             reorder_threshold = $6, active = $7, updated_ms = $8, folded = $9, codes = $10
         WHERE sku = $1",
    );
    let done = with_product(update, product).execute(&mut *conn).await?;
    Ok(done.rows_affected() > 0)
}

#[tracing::instrument(skip_all)]
async fn replace_barcodes(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM barcodes WHERE sku = $1").bind(product.sku.as_str()).execute(&mut *conn).await?;
    let rows =
        product.barcodes.iter().map(|b| vec![Value::from(b.as_str()), product.sku.as_str().into()]).collect();
    insert_rows(conn, "barcodes", &["code", "sku"], rows, "").await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
async fn publish_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    let entry = Entry {
        kind: "product",
        key: product.sku.to_string(),
        audience: None,
        change: Change::Product(product.clone()),
    };
    feed::publish(conn, vec![entry]).await
}

/// Writes a new product without the checks of [`save_product`] (loading the demo chain or a
/// test's catalogue into an empty database).
#[tracing::instrument(skip_all)]
pub async fn write_product(conn: &mut AnyConnection, product: &ProductInfo) -> sqlx::Result<()> {
    insert_product(conn, product).await?;
    replace_barcodes(conn, product).await?;
    publish_product(conn, product).await
}

/// Fills in the search form of product names written before there was one (a database made
/// before migration 0003); answers how many.
#[tracing::instrument(skip_all)]
pub async fn fold_old_names(db: &Db) -> sqlx::Result<usize> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT sku, name FROM products WHERE folded = ''").fetch_all(db.pool()).await?;
    for (sku, name) in &rows {
        db.write(
            sqlx::query("UPDATE products SET folded = $1 WHERE sku = $2")
                .bind(shared_model::text::fold(name))
                .bind(sku.as_str()),
        )
        .await?;
    }
    Ok(rows.len())
}
