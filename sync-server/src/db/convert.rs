//! Numbers and text into and out of columns: what does not fit is refused by name, never
//! clamped or read as a default.

/// The largest magnitude a running total at head office may reach (a day's sales of a store
/// in cents, a stock level in units): a thousand billion dollars. Each record is bounded far
/// lower, so only a hostile register gets here; its record is refused instead of overflowing
/// a total. A report adding up more than 92,000 such totals would overflow: it answers 422.
pub const MAX_TOTAL: i64 = 100_000_000_000_000;

/// A total that a record would push past what head office keeps.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TotalOverflow(pub String);

/// Refuses a total past [`MAX_TOTAL`], as a decoding error that the push maps to the record.
pub fn check_total(what: &str, total: i64) -> sqlx::Result<()> {
    if (-MAX_TOTAL..=MAX_TOTAL).contains(&total) {
        Ok(())
    } else {
        Err(sqlx::Error::Decode(Box::new(TotalOverflow(format!(
            "{what} would reach {total}, past the largest total head office keeps ({MAX_TOTAL})"
        )))))
    }
}

/// A number that does not fit a BIGINT column: refused, never clamped to fit.
#[derive(Debug, thiserror::Error)]
#[error("{what} is {value}, past the largest number head office stores ({max})", max = i64::MAX)]
pub struct OutOfRange {
    pub what: &'static str,
    pub value: String,
}

impl From<OutOfRange> for sqlx::Error {
    fn from(error: OutOfRange) -> Self {
        sqlx::Error::Encode(Box::new(error))
    }
}

/// `value` for a BIGINT column, or an error naming `what` when it does not fit. The one
/// conversion of unsigned numbers (counts, seqs, stamps, indexes) into the database.
pub fn to_i64<T>(what: &'static str, value: T) -> Result<i64, OutOfRange>
where
    T: TryInto<i64> + std::fmt::Display + Copy,
{
    value.try_into().map_err(|_| OutOfRange { what, value: value.to_string() })
}

/// A value read back from the database that its type refuses: an id that does not parse, a
/// negative count, a number past the type it stands for. The row is refused, never read as a
/// default; the error names the column.
#[derive(Debug, thiserror::Error)]
#[error("{column} in the database: {reason}")]
pub struct Corrupt {
    pub column: &'static str,
    pub reason: String,
}

/// The decoding error for a value of `column` that its type refuses.
pub fn corrupt(column: &'static str, reason: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(Corrupt { column, reason: reason.to_string() }))
}

/// Parses a text column into its type (`Sku`, `LocationCode`, `RecordId`, …).
pub fn parse<T>(column: &'static str, text: &str) -> sqlx::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e| corrupt(column, e))
}

/// A BIGINT column into the unsigned or narrower number it stands for (a seq, a cursor, a
/// line number), or an error naming the column. The one conversion of numbers out of the
/// database, as [`to_i64`] is the one into it.
pub fn from_i64<T>(column: &'static str, value: i64) -> sqlx::Result<T>
where
    T: TryFrom<i64>,
{
    T::try_from(value)
        .map_err(|_| corrupt(column, format!("{value} does not fit a {}", std::any::type_name::<T>())))
}

#[cfg(test)]
mod tests {
    use super::{from_i64, parse, to_i64};

    #[test]
    fn an_unsigned_number_past_bigint_is_refused_by_name_not_clamped() {
        assert_eq!(to_i64("seq", 42u64).unwrap(), 42);
        assert_eq!(to_i64("seq", i64::MAX.unsigned_abs()).unwrap(), i64::MAX);
        let error = to_i64("hlc.wall_ms", u64::MAX).unwrap_err();
        assert_eq!(error.what, "hlc.wall_ms");
        assert!(error.to_string().contains("18446744073709551615"), "{error}");
        assert_eq!(to_i64("index", 7usize).unwrap(), 7);
    }

    #[test]
    fn a_number_read_back_that_does_not_fit_is_refused_by_name_not_clamped() {
        assert_eq!(from_i64::<u64>("registers.holds", 42).unwrap(), 42);
        assert_eq!(from_i64::<u16>("return_lines.original_line", 7).unwrap(), 7);
        let error = from_i64::<u64>("registers.holds", -1).unwrap_err().to_string();
        assert!(error.contains("registers.holds") && error.contains("-1"), "{error}");
        assert!(from_i64::<u16>("return_lines.original_line", 70_000).is_err());
    }

    #[test]
    fn an_id_read_back_that_does_not_parse_is_refused_by_column() {
        let sku: shared_model::Sku = parse("products.sku", "CAF-ESP-250").unwrap();
        assert_eq!(sku.as_str(), "CAF-ESP-250");
        let error = parse::<shared_model::Sku>("products.sku", "not a sku").unwrap_err();
        assert!(matches!(error, sqlx::Error::Decode(_)), "{error}");
        assert!(error.to_string().contains("products.sku"), "{error}");
    }
}
