//! The rules a product's fields obey, whoever types them: a JSON body (`POST /api/products`)
//! or a row of an imported file. Each refusal names the field and says why in one sentence.

use shared_model::catalogue::MAX_BARCODES;
use shared_model::{Barcode, Money, TaxClass};

use super::{Extras, MAX_DESCRIPTION};

/// A field refused: which (`barcodes[2]`, `price`…), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub field: String,
    pub reason: String,
}

fn refuse(field: impl Into<String>, reason: impl std::fmt::Display) -> Refusal {
    Refusal { field: field.into(), reason: reason.to_string() }
}

pub type Checked<T> = Result<T, Refusal>;

pub fn name(text: &str) -> Checked<String> {
    let name = text.trim().to_owned();
    if name.is_empty() || name.chars().count() > shared_model::sale::MAX_DESCRIPTION {
        return Err(refuse("name", "a product name has 1 to 80 characters"));
    }
    Ok(name)
}

pub fn category(text: &str) -> Checked<String> {
    let category = text.trim().to_owned();
    if category.is_empty() || category.chars().count() > 40 {
        return Err(refuse("category", "a category has 1 to 40 characters"));
    }
    Ok(category)
}

/// Barcodes, each checked, none listed twice.
pub fn barcodes<'a>(codes: impl ExactSizeIterator<Item = &'a str>) -> Checked<Vec<Barcode>> {
    if codes.len() > MAX_BARCODES {
        return Err(refuse("barcodes", format!("a product has at most {MAX_BARCODES} barcodes")));
    }
    let barcodes = codes
        .enumerate()
        .map(|(i, code)| Barcode::parse(code).map_err(|e| refuse(format!("barcodes[{i}]"), e)))
        .collect::<Checked<Vec<_>>>()?;
    if let Some(twice) = (1..barcodes.len()).find(|&i| barcodes[..i].contains(&barcodes[i])) {
        return Err(refuse(
            format!("barcodes[{twice}]"),
            format!("barcode {} is listed twice", barcodes[twice]),
        ));
    }
    Ok(barcodes)
}

pub fn price(text: &str) -> Checked<Money> {
    let price = Money::parse(text).map_err(|e| refuse("price", e))?;
    if price < Money::ZERO || price > Money::cents(100_000_000) {
        return Err(refuse("price", "a price is between 0.00 and 1000000.00"));
    }
    Ok(price)
}

pub fn tax_class(text: &str) -> Checked<TaxClass> {
    TaxClass::from_code(text.trim())
        .ok_or_else(|| refuse("tax_class", "tax_class is standard, zero_rated or gst_only"))
}

pub fn reorder_threshold(threshold: u32) -> Checked<u32> {
    if threshold > 100_000 {
        return Err(refuse("reorder_threshold", "reorder_threshold is at most 100000"));
    }
    Ok(threshold)
}

/// The description (trimmed) and maximum of a product whose threshold is `threshold`.
pub fn extras(description: &str, max_level: u32, threshold: u32) -> Checked<Extras> {
    let description = description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(refuse("description", format!("a description has at most {MAX_DESCRIPTION} characters")));
    }
    if max_level > 1_000_000 {
        return Err(refuse("max_level", "max_level is at most 1000000"));
    }
    if max_level != 0 && max_level < threshold {
        return Err(refuse("max_level", "the maximum is below the reorder threshold (0 means no maximum)"));
    }
    Ok(Extras { description, max_level })
}
