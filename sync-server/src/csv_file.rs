//! CSV files head office imports and exports (the catalogue, opening stock): reading them in
//! batches of rows, whatever their size, and the two passes every import makes.
//!
//! # The format
//!
//! UTF-8, with or without a byte-order mark; a header row naming the columns (in any order,
//! case ignored, English or French names); comma or semicolon between cells, as Excel writes
//! it in English or in French, told apart on the header line. Exports write the same format,
//! so an export edited and imported again changes only what was edited.
//!
//! # Two passes
//!
//! An import reads its file twice. The first pass checks every row against the rules and
//! against the database as it stands, and counts what would change; it writes nothing, and a
//! preview (`dry_run`) stops there. If any row is refused, nothing is written and every
//! refusal (up to [`MAX_ERRORS`]) names its line and column. The second pass reads the file
//! again and writes, batch by batch, inside **one transaction**: an import is all or nothing,
//! so a failure half-way (a disk full, a barcode taken by a concurrent edit) leaves the
//! catalogue as it was, and registers never see half a file. The price is that, on SQLite, the
//! import holds the writer's turn for its few seconds, and on PostgreSQL that pulls wait up
//! to five seconds for it (`commit_order::wait_past`) before they deliver what came before.
//! Memory stays bounded by a batch ([`BATCH`] rows) plus one key per row (to refuse a key
//! listed twice), never the file.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use serde::Serialize;

use crate::audit::Actor;
use crate::db::Db;

/// Rows read, checked and written together.
pub const BATCH: usize = 1_000;
/// Refusals listed at most; past them they are only counted.
pub const MAX_ERRORS: usize = 100;
/// Changed rows a preview shows.
pub const PREVIEW_ROWS: usize = 20;
/// Longest header line read before the separator is decided.
const MAX_HEADER: u64 = 64 * 1024;

/// A column of a file: its name in exports, and the names an import also accepts.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Whether every file must have it.
    pub required: bool,
}

/// A row refused: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line of the file, the header being line 1.
    pub line: u64,
    /// The column at fault (its name in the header), or empty for the row as a whole.
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "Line {}: {}.", self.line, self.reason)
        } else {
            write!(f, "Line {}, column {}: {}.", self.line, self.column, self.reason)
        }
    }
}

/// The refusals of one file: the first [`MAX_ERRORS`], and how many in all.
#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct Errors {
    pub listed: Vec<RowError>,
    pub total: u64,
}

impl Errors {
    pub fn push(&mut self, line: u64, column: &str, reason: impl std::fmt::Display) {
        self.total += 1;
        if self.listed.len() < MAX_ERRORS {
            self.listed.push(RowError { line, column: column.to_owned(), reason: reason.to_string() });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows refused (or a header that cannot be read).
    #[error("{} row(s) refused; the first: {}", .0.total, .0.listed.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Errors),
    /// The file cannot be read.
    #[error("the file cannot be read: {0}")]
    Io(#[from] std::io::Error),
    /// A concurrent write got in the way (a barcode just given to another product): nothing
    /// was imported, and the same file may be imported again.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One row as read: its line and its cells.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    record: csv::StringRecord,
}

/// A file being read: its separator, where each known column is, and the reader.
pub struct Table<R: Read> {
    reader: csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<R>>>,
    /// Known column name → index in the file.
    at: HashMap<&'static str, usize>,
    width: usize,
}

impl<R: Read> std::fmt::Debug for Table<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("at", &self.at).field("width", &self.width).finish()
    }
}

/// The separator the header line uses: a semicolon when it has more semicolons than commas
/// (Excel in French), a comma otherwise.
fn separator_of(header: &[u8]) -> u8 {
    let count = |sep: u8| header.iter().filter(|b| **b == sep).count();
    if count(b';') > count(b',') { b';' } else { b',' }
}

impl<R: Read> Table<R> {
    /// Reads the header and maps it to `columns`; a header that cannot be used is an error on
    /// line 1.
    pub fn open(input: R, columns: &[Column]) -> Result<Table<R>, ImportError> {
        let mut input = BufReader::with_capacity(64 * 1024, input);
        let mut header = Vec::new();
        (&mut input).take(MAX_HEADER).read_until(b'\n', &mut header)?;
        if header.starts_with(b"\xEF\xBB\xBF") {
            header.drain(..3);
        }
        let separator = separator_of(&header);
        // Records end at `\n` alone: with the default terminator, csv counts a `\r\n` (how
        // Excel ends lines) as no line at all, and refusals named the wrong line. A `\r` left
        // at the end of the last cell is trimmed with the other spaces.
        let mut reader = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .delimiter(separator)
            .flexible(true)
            .has_headers(true)
            .from_reader(std::io::Cursor::new(header).chain(input));
        let mut errors = Errors::default();
        let names = match reader.headers() {
            Ok(names) => names.clone(),
            Err(e) => {
                errors.push(1, "", format!("the header row cannot be read: {e}"));
                return Err(ImportError::Invalid(errors));
            }
        };
        let mut at = HashMap::new();
        for (index, name) in names.iter().enumerate() {
            let wanted = name.trim().to_lowercase();
            match columns.iter().find(|c| c.name == wanted || c.aliases.contains(&wanted.as_str())) {
                Some(column) if at.contains_key(column.name) => {
                    errors.push(1, name, format!("column {} is in the header twice", column.name));
                }
                Some(column) => {
                    at.insert(column.name, index);
                }
                None => {
                    let known: Vec<&str> = columns.iter().map(|c| c.name).collect();
                    errors.push(1, name, format!("unknown column; the columns are {}", known.join(", ")));
                }
            }
        }
        for column in columns.iter().filter(|c| c.required && !at.contains_key(c.name)) {
            errors.push(1, column.name, "this column is required and missing from the header");
        }
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }
        Ok(Table { reader, at, width: names.len() })
    }

    /// The next rows, at most [`BATCH`]; none at the end. A row that cannot be read (not
    /// UTF-8, not as many cells as the header) is refused into `errors` and skipped.
    pub fn batch(&mut self, errors: &mut Errors) -> Vec<Row> {
        let mut rows = Vec::with_capacity(BATCH);
        while rows.len() < BATCH {
            let mut record = csv::StringRecord::new();
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                // A blank line, or one of empty cells (Excel writes `;;;` for a blank row).
                Ok(true) if record.iter().all(|cell| cell.trim().is_empty()) => {}
                Ok(true) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    if record.len() != self.width {
                        errors.push(
                            line,
                            "",
                            format!("the row has {} cells and the header {}", record.len(), self.width),
                        );
                    } else {
                        rows.push(Row { line, record });
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    errors.push(line, "", format!("the row cannot be read: {}", e.kind_text()));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                }
            }
        }
        rows
    }

    /// The cell of `column` in `row`, trimmed; `None` when the file has no such column.
    pub fn cell<'r>(&self, row: &'r Row, column: &str) -> Option<&'r str> {
        self.at.get(column).and_then(|&i| row.record.get(i)).map(str::trim)
    }

    /// Whether the file has `column`.
    pub fn has(&self, column: &str) -> bool {
        self.at.contains_key(column)
    }
}

/// The short reason of a CSV error, without the position the caller reports itself.
trait KindText {
    fn kind_text(&self) -> String;
}

impl KindText for csv::Error {
    fn kind_text(&self) -> String {
        match self.kind() {
            csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text (save the file as CSV UTF-8)".to_owned(),
            _ => self.to_string(),
        }
    }
}

/// A row an import would write: where it is, its key, and its cells before and after (as the
/// export writes them), `before` being `None` for something new.
#[derive(Debug, Clone)]
pub struct Planned<T> {
    pub line: u64,
    pub key: String,
    pub before: Option<Vec<String>>,
    pub after: Vec<String>,
    pub item: T,
}

impl<T> Planned<T> {
    pub fn changes(&self) -> bool {
        self.before.as_ref() != Some(&self.after)
    }
}

/// One cell a row changes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CellChange {
    pub column: String,
    /// Empty for something new.
    pub before: String,
    pub after: String,
}

/// A row that changes something, as a preview shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangedRow {
    pub line: u64,
    /// The SKU, or `LOCATION/SKU` for stock.
    pub key: String,
    /// `new` or `changed`.
    pub status: &'static str,
    pub cells: Vec<CellChange>,
}

/// What an import did, or would do (`imported` false: a preview).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub rows: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// The first changed rows, in file order.
    pub first_changes: Vec<ChangedRow>,
    pub imported: bool,
}

impl Report {
    fn count<T>(&mut self, planned: &Planned<T>, columns: &[Column]) {
        self.rows += 1;
        let status = match &planned.before {
            None => "new",
            Some(before) if *before == planned.after => {
                self.unchanged += 1;
                return;
            }
            Some(_) => "changed",
        };
        if status == "new" {
            self.new += 1;
        } else {
            self.changed += 1;
        }
        if self.first_changes.len() < PREVIEW_ROWS {
            let before = planned.before.clone().unwrap_or_else(|| vec![String::new(); planned.after.len()]);
            let cells = columns
                .iter()
                .zip(before.into_iter().zip(planned.after.iter()))
                .filter(|(_, (b, a))| b != *a)
                .map(|(c, (before, after))| CellChange {
                    column: c.name.to_owned(),
                    before,
                    after: after.clone(),
                })
                .collect();
            self.first_changes.push(ChangedRow {
                line: planned.line,
                key: planned.key.clone(),
                status,
                cells,
            });
        }
    }
}

/// What is imported: its columns, how a batch of rows is checked against the database, and
/// how the rows that change something are written.
#[async_trait::async_trait]
pub trait Importer: Send {
    type Item: Send + Sync;

    fn columns(&self) -> &'static [Column];

    /// Forgets the keys seen: a pass starts.
    fn start_pass(&mut self);

    /// Checks `rows` against the rules and the database seen through `conn`, refusing into
    /// `errors`; answers the rows that pass, with their cells before and after.
    async fn plan<R: Read + Send + Sync>(
        &mut self,
        conn: &mut sqlx::AnyConnection,
        table: &Table<R>,
        rows: Vec<Row>,
        errors: &mut Errors,
    ) -> sqlx::Result<Vec<Planned<Self::Item>>>;

    /// Writes the rows of a batch that change something, in the import's transaction.
    async fn write(
        &mut self,
        tx: &mut crate::db::Tx,
        rows: Vec<Planned<Self::Item>>,
        actor: &Actor,
    ) -> Result<(), ImportError>;
}

/// Imports what `open` reads (it is called once per pass), or only checks it and says what
/// would change when `dry_run`. See the module's documentation for the two passes.
pub async fn import<I, R, F>(
    db: &Db,
    importer: &mut I,
    open: F,
    dry_run: bool,
    actor: &Actor,
) -> Result<Report, ImportError>
where
    I: Importer,
    R: Read + Send + Sync,
    F: Fn() -> std::io::Result<R> + Send + Sync,
{
    let columns = importer.columns();
    let mut report = Report::default();
    let mut errors = Errors::default();
    {
        let mut table = Table::open(open()?, columns)?;
        let mut conn = db.pool().acquire().await?;
        importer.start_pass();
        loop {
            let rows = table.batch(&mut errors);
            if rows.is_empty() {
                break;
            }
            for planned in importer.plan(&mut conn, &table, rows, &mut errors).await? {
                report.count(&planned, columns);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    if dry_run {
        return Ok(report);
    }
    if report.new + report.changed == 0 {
        report.imported = true;
        return Ok(report);
    }
    let mut table = Table::open(open()?, columns)?;
    importer.start_pass();
    let mut tx = db.begin().await?;
    loop {
        let rows = table.batch(&mut errors);
        if rows.is_empty() {
            break;
        }
        // Checked again in the transaction: the database may have changed since the first pass.
        let planned = importer.plan(&mut tx, &table, rows, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }
        let changed: Vec<_> = planned.into_iter().filter(Planned::changes).collect();
        if !changed.is_empty() {
            importer.write(&mut tx, changed, actor).await?;
        }
    }
    tx.commit().await?;
    report.imported = true;
    Ok(report)
}

/// What an export starts with: the byte-order mark, so that Excel reads the accents.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV writer in the files' format, `separator` between cells.
pub fn writer(separator: u8) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().delimiter(separator).from_writer(Vec::with_capacity(64 * 1024))
}

/// Rows written into CSV text.
pub fn to_csv(separator: u8, rows: impl IntoIterator<Item = Vec<String>>) -> std::io::Result<Vec<u8>> {
    let mut out = writer(separator);
    for row in rows {
        out.write_record(&row)?;
    }
    out.into_inner().map_err(|e| e.into_error())
}

/// The header row of `columns`.
pub fn header(columns: &[Column]) -> Vec<&'static str> {
    columns.iter().map(|c| c.name).collect()
}

/// An amount typed with a decimal comma (`12,99`, as French Excel writes it) or point.
pub fn decimal_point(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('.') && text.matches(',').count() == 1 {
        text.replace(',', ".").into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests;
