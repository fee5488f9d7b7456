//! The server's layers, checked on its source: only `src/http/` knows axum, and each table is
//! named in SQL only by the module that owns it (the ownership comments in the migrations).

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn source_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    files
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn only_the_http_layer_knows_axum() {
    for (name, text) in source_files() {
        if name.starts_with("http/") {
            continue;
        }
        let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        for line in code {
            assert!(
                !line.contains("axum") && !line.contains("crate::http") && !line.contains("ApiError"),
                "{name} reaches into the HTTP layer: {line}"
            );
        }
    }
}

#[test]
fn each_table_is_named_only_by_its_owner() {
    let owners: &[(&str, &[&str])] = &[
        ("identity.rs", &["users", "sessions", "registers", "enrolment_codes", "attempt_throttle"]),
        // A folder ending in `/` owns its tables in every file under it.
        ("catalogue/", &["locations", "products", "barcodes", "cashiers"]),
        ("sync.rs", &["records", "dead_letters"]),
        ("feed.rs", &["feed", "feed_clock"]),
        ("inventory.rs", &["stock_levels", "stock_movements"]),
        ("sales.rs", &["sales", "sale_lines", "sale_tenders", "returns", "return_lines", "till_closes"]),
        ("replenishment.rs", &["transfers", "transfer_receipts", "replenishment_requests"]),
        (
            "reporting/",
            &["daily_sales", "daily_products", "report_journal", "report_clock", "report_checkpoint"],
        ),
        ("alerts.rs", &["alerts"]),
        ("shop/accounts.rs", &["customers", "shop_sessions", "shop_refresh_tokens", "shop_keys"]),
        ("shop/cart.rs", &["cart_lines", "carts"]),
        ("shop/checkout.rs", &["checkouts"]),
        ("shop/orders.rs", &["orders"]),
        ("shop/store_returns.rs", &["order_refunds"]),
        ("claims/store.rs", &["claim_events", "claim_clock"]),
        ("claims/refunds.rs", &["claim_refunds"]),
        (
            "claims/projections.rs",
            &[
                "claim_checkpoints",
                "claims_queue",
                "claims_by_shopper",
                "claims_weekly",
                "claims_resolution_times",
            ],
        ),
        ("notify.rs", &["outbox"]),
        ("audit.rs", &["audit_log"]),
        ("gateway/keys.rs", &["api_keys"]),
        ("gateway/limits.rs", &["rate_windows"]),
    ];
    let files = source_files();
    for (owner, tables) in owners {
        for table in *tables {
            for (name, text) in &files {
                if name == owner || (owner.ends_with('/') && name.starts_with(owner)) || name == "db.rs" {
                    continue;
                }
                for keyword in ["FROM", "INTO", "UPDATE", "JOIN"] {
                    let needle = format!("{keyword} {table} ");
                    let at_end = format!("{keyword} {table}\"");
                    let at_line_end = format!("{keyword} {table}\n");
                    assert!(
                        !text.contains(&needle) && !text.contains(&at_end) && !text.contains(&at_line_end),
                        "{name} names {owner}'s table {table} in SQL ({keyword})"
                    );
                }
            }
        }
    }
}
