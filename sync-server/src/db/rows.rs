//! Statements built at run time: placeholders that both engines read, the values bound to
//! them, and many rows in one statement.

use sqlx::{Any, AnyConnection};

/// The placeholder sign for statements built at run time: PostgreSQL numbers them (`$1`);
/// SQLite gets anonymous `?`, bound in order. A numbered SQLite parameter is a *name*, and
/// binding looks each name up by a linear scan (`sqlite3_bind_parameter_name`), which made a
/// 12 000-value insert take 185 ms; anonymous ones bind in constant time.
pub fn placeholder(conn: &AnyConnection) -> char {
    if conn.backend_name() == "SQLite" { '?' } else { '$' }
}

/// `($1, $2, $3), ($4, $5, $6)` (or `(?, ?, ?), …`): placeholders for a multi-row insert of `rows` × `columns`.
pub fn values_placeholders(sign: char, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push(sign);
            if sign == '$' {
                sql.push_str(&(row * columns + column + 1).to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// `$from, $from+1, …` (or `?, ?, …`): a list of `count` placeholders for `IN (…)`.
pub fn list_placeholders(sign: char, from: usize, count: usize) -> String {
    let one = |i: usize| if sign == '$' { format!("${i}") } else { "?".to_owned() };
    (from..from + count).map(one).collect::<Vec<_>>().join(", ")
}

/// Rows per multi-row statement: SQLite binds at most 32 766 values, PostgreSQL 65 535.
/// On PostgreSQL a [`rows_source`] takes any number of rows in one statement.
pub fn rows_per_statement(sign: char, columns: usize, rows: usize) -> usize {
    if sign == '$' { rows.max(1) } else { (30_000 / columns).max(1) }
}

/// Where an `INSERT … SELECT` or a join takes `rows` from: `VALUES (?, ?), (?, ?)` on SQLite;
/// on PostgreSQL `SELECT * FROM unnest($1::bigint[], $2::text[], …)`, one array per column.
/// The PostgreSQL statement's text is the same whatever the batch's size, so each connection
/// parses and plans it once, where a multi-row `VALUES` of thousands of parameters was a new
/// statement for every batch size, and its parameters are a handful instead of thousands.
/// sqlx's `Any` driver binds no arrays: each column is bound as the text of an array literal
/// and cast. A column whose rows mix numbers and text (never in this code) falls back to
/// `VALUES`, which is right on both engines. `rows` must not be empty.
pub fn rows_source(sign: char, rows: &[Vec<Value>]) -> (String, Vec<Value>) {
    let values = || rows.iter().flatten().cloned().collect();
    let columns = rows.first().map_or(0, Vec::len);
    let values_list = || format!("VALUES {}", values_placeholders(sign, rows.len(), columns));
    if sign != '$' {
        return (values_list(), values());
    }
    let kinds: Vec<ArrayKind> = rows[0].iter().map(ArrayKind::of).collect();
    if rows
        .iter()
        .any(|row| row.len() != columns || row.iter().zip(&kinds).any(|(v, k)| ArrayKind::of(v) != *k))
    {
        return (values_list(), values());
    }
    let arrays =
        (0..columns).map(|column| Value::Text(array_literal(rows.iter().map(|row| &row[column])))).collect();
    let casts = kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| format!("${}::{}", i + 1, kind.sql()))
        .collect::<Vec<_>>()
        .join(", ");
    (format!("SELECT * FROM unnest({casts})"), arrays)
}

/// A PostgreSQL array's element type, as [`bind_all`] binds each [`Value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayKind {
    BigInt,
    Text,
}

impl ArrayKind {
    fn of(value: &Value) -> ArrayKind {
        match value {
            Value::Int(_) | Value::Bool(_) | Value::NullInt => ArrayKind::BigInt,
            Value::Text(_) | Value::NullText => ArrayKind::Text,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            ArrayKind::BigInt => "bigint[]",
            ArrayKind::Text => "text[]",
        }
    }
}

/// `{1,NULL,"a \"b\""}`: PostgreSQL's text form of a one-dimensional array. Every text element
/// is quoted, so braces, commas, spaces, an empty string or the word NULL stay what they are;
/// inside quotes only `"` and `\` are escaped.
fn array_literal<'v>(elements: impl Iterator<Item = &'v Value>) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("{");
    for (i, value) in elements.enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            Value::Int(v) => {
                let _ = write!(out, "{v}");
            }
            Value::Bool(v) => out.push(if *v { '1' } else { '0' }),
            Value::NullInt | Value::NullText => out.push_str("NULL"),
            Value::Text(text) => {
                out.push('"');
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

/// A value to bind in a statement built at run time.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    Bool(bool),
    NullInt,
    NullText,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::NullText, Value::Text)
    }
}

pub type Query<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>;

pub fn bind_all(mut query: Query<'_>, values: Vec<Value>) -> Query<'_> {
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Bool(v) => query.bind(i64::from(v)),
            Value::NullInt => query.bind(None::<i64>),
            Value::NullText => query.bind(None::<String>),
        };
    }
    query
}

/// Inserts `rows` into `table` in as few statements as the engines allow.
/// `suffix` follows the VALUES list (an `ON CONFLICT …` clause).
pub async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> sqlx::Result<()> {
    let sign = placeholder(conn);
    for chunk in rows.chunks(rows_per_statement(sign, columns.len(), rows.len())) {
        let (source, values) = rows_source(sign, chunk);
        let sql = format!("INSERT INTO {table} ({}) {source} {suffix}", columns.join(", "));
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), values).execute(&mut *conn).await?;
    }
    Ok(())
}
