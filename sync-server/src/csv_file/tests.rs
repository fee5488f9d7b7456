//! Reading files as Excel writes them, and refusals that name their line.

use super::*;

const COLUMNS: &[Column] = &[
    Column { name: "sku", aliases: &["code"], required: true },
    Column { name: "price", aliases: &["prix"], required: false },
];

#[test]
fn a_french_excel_file_is_read_with_its_bom_and_semicolons() {
    let file = "\u{feff}Code;Prix\r\nA-1;12,99\r\n\r\nB-2;\"3,50\"\r\n";
    let mut table = Table::open(file.as_bytes(), COLUMNS).unwrap();
    let mut errors = Errors::default();
    let rows = table.batch(&mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    let cells: Vec<_> = rows.iter().map(|r| (r.line, table.cell(r, "price").unwrap())).collect();
    assert_eq!(cells, [(2, "12,99"), (4, "3,50")]);
    assert_eq!(decimal_point("12,99"), "12.99");
    assert_eq!(decimal_point("1.299,00"), "1.299,00", "a thousands separator is left to be refused");
}

#[test]
fn an_unknown_or_missing_column_is_refused_on_line_one() {
    let Err(ImportError::Invalid(errors)) = Table::open("prix,colour\n".as_bytes(), COLUMNS) else {
        panic!("accepted")
    };
    let said: Vec<String> = errors.listed.iter().map(ToString::to_string).collect();
    assert_eq!(
        said,
        [
            "Line 1, column colour: unknown column; the columns are sku, price.",
            "Line 1, column sku: this column is required and missing from the header."
        ]
    );
}

#[test]
fn a_row_with_a_cell_too_many_names_its_line() {
    let mut table = Table::open("sku,price\nA,1\nB,2,3\n".as_bytes(), COLUMNS).unwrap();
    let mut errors = Errors::default();
    assert_eq!(table.batch(&mut errors).len(), 1);
    assert_eq!(errors.listed[0].to_string(), "Line 3: the row has 3 cells and the header 2.");
}
