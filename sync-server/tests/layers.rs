//! The server's layers, checked on its source:
//! - only `src/http/` knows axum;
//! - each table is named in SQL only by the module that owns it (the ownership comments in the
//!   migrations), and every table has an owner;
//! - the database level (`db/`, the clock, leases, commit order) uses no context;
//! - the contexts form a DAG in the order of [`LEVELS`]: a module uses only modules below it;
//! - no two files import each other in a circle (a folder's `mod.rs` and its own files aside);
//! - no file is over 500 lines unless its `//!` doc says why.

use std::collections::{BTreeMap, BTreeSet};
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
    files.sort();
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

/// Who owns which table. A folder ending in `/` owns its tables in every file under it.
const OWNERS: &[(&str, &[&str])] = &[
    ("identity/", &["users", "sessions", "registers", "enrolment_codes", "attempt_throttle"]),
    ("catalogue/", &["locations", "products", "barcodes", "cashiers"]),
    ("chain.rs", &["chain_settings"]),
    ("sync/", &["records", "dead_letters"]),
    ("feed.rs", &["feed", "feed_clock"]),
    ("inventory/", &["stock_levels", "stock_movements"]),
    ("sales.rs", &["sales", "sale_lines", "sale_tenders", "returns", "return_lines", "till_closes"]),
    (
        "replenishment.rs",
        &[
            "transfers",
            "transfer_receipts",
            "replenishment_requests",
            "replenishment_numbers",
            "transfer_numbers",
        ],
    ),
    ("reporting/", &["daily_sales", "daily_products", "report_journal", "report_clock", "report_checkpoint"]),
    ("alerts.rs", &["alerts"]),
    ("shop/accounts.rs", &["customers", "shop_sessions", "shop_refresh_tokens", "shop_keys"]),
    ("shop/cart.rs", &["cart_lines", "carts"]),
    ("shop/checkout.rs", &["checkouts"]),
    ("shop/orders.rs", &["orders"]),
    ("refunds/", &["order_refunds", "claim_refunds"]),
    ("claims/store.rs", &["claim_events", "claim_clock"]),
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
    ("notify/outbox.rs", &["outbox"]),
    ("audit/", &["audit_log"]),
    ("gateway/keys.rs", &["api_keys"]),
    ("gateway/limits.rs", &["rate_windows"]),
];

/// Whether `file` is `owner` or in it: a folder (`catalogue/`) holds every file under it, and
/// a module's file (`replenishment.rs`) the files of its submodules (`replenishment/views.rs`).
fn owns(owner: &str, file: &str) -> bool {
    let folder =
        if owner.ends_with('/') { owner.to_owned() } else { format!("{}/", owner.trim_end_matches(".rs")) };
    file == owner || file.starts_with(&folder)
}

#[test]
fn each_table_is_named_only_by_its_owner() {
    let files = source_files();
    for (owner, tables) in OWNERS {
        for table in *tables {
            for (name, text) in &files {
                if owns(owner, name) || name.starts_with("db/") {
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

#[test]
fn every_table_has_an_owner_that_exists() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (owner, _) in OWNERS {
        assert!(src.join(owner).exists(), "the owner table names {owner}, which is not in src/");
    }
    let owned: BTreeSet<&str> = OWNERS.iter().flat_map(|(_, tables)| tables.iter().copied()).collect();
    for engine in ["server-sqlite", "server-postgres"] {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(engine);
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let sql = std::fs::read_to_string(&path).unwrap();
            for piece in sql.split("CREATE TABLE").skip(1) {
                let piece = piece.trim_start().trim_start_matches("IF NOT EXISTS").trim_start();
                let table: String = piece.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                assert!(
                    owned.contains(table.as_str()),
                    "{} creates table {table}, which no module owns: add it to OWNERS (and the README)",
                    path.display()
                );
            }
        }
    }
}

/// The database level: the handle and what every context may build on. It uses no context.
const DB_LEVEL: &[&str] = &["db", "clock", "lease", "commit_order"];

/// The other modules from the bottom up. A module uses (`crate::x`) only the database level
/// and modules on lower levels; modules on one level know nothing of each other.
const LEVELS: &[&[&str]] = &[
    // Nothing but the database: what a context records or asks for.
    &["network", "payments", "alerts", "audit", "feed"],
    &["sales", "notify", "csv_file", "chain", "refunds"],
    &["catalogue"],
    &["inventory", "identity"],
    &["gateway", "replenishment", "reporting", "opening_stock"],
    &["shop", "dashboard", "demo"],
    // The register's push applies its records to the contexts below it.
    &["sync"],
    &["claims"],
];

/// On top: they may use anything.
const TOP: &[&str] = &["http", "lib", "main", "bin"];

/// A use of another module: the line, and the module path it names.
struct Use {
    line: String,
    path: Vec<String>,
}

/// The code of a file without its comments (doc comments included) and string literals, so
/// that `crate::x` in prose or SQL is no use.
fn code_of(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_string = false;
    for line in text.lines() {
        let mut out = String::new();
        let mut chars = line.chars().peekable();
        let mut previous = ' ';
        while let Some(c) = chars.next() {
            if in_string {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    in_string = false;
                }
                continue;
            }
            if c == '/' && chars.peek() == Some(&'/') {
                break;
            }
            // A char literal '"' opens no string.
            if c == '"' && !(previous == '\'' && chars.peek() == Some(&'\'')) {
                in_string = true;
                out.push_str("\"\"");
                continue;
            }
            out.push(c);
            previous = c;
        }
        lines.push(out);
    }
    lines
}

/// Every path a `use` tree names: `crate::{a, b::{c, d}}` gives `crate::a`, `crate::b::c`,
/// `crate::b::d`.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> =
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap()];
        let mut depth = 0;
        let mut start = 0;
        let base: Vec<String> = prefix.iter().cloned().chain(head).collect();
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&base, &inner[start..], out);
    } else if !tree.is_empty() {
        let tree = tree.split(" as ").next().unwrap();
        let mut path = prefix.to_vec();
        path.extend(
            tree.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "self").map(str::to_owned),
        );
        out.push(path);
    }
}

/// The uses of `crate::…`, `super::…` and `self::…` paths in a file, in `use` items and inline.
/// A file's unit tests (`#[cfg(test)] mod tests`, at its end) are no part of its layer.
fn uses_of(text: &str) -> Vec<Use> {
    let text = text.split("\n#[cfg(test)]\nmod tests").next().unwrap();
    let code = code_of(text);
    let mut found = Vec::new();
    let mut statement = String::new();
    let mut first = String::new();
    for line in &code {
        let trimmed = line.trim();
        if statement.is_empty()
            && (trimmed.starts_with("use ")
                || trimmed.starts_with("pub use ")
                || trimmed.starts_with("pub(crate) use ")
                || trimmed.starts_with("pub(super) use "))
        {
            first = trimmed.to_owned();
        }
        if !first.is_empty() {
            statement.push_str(trimmed);
            statement.push(' ');
            if trimmed.ends_with(';') {
                let tree = statement.split_once("use ").unwrap().1.trim().trim_end_matches(';');
                let mut paths = Vec::new();
                expand(&[], tree, &mut paths);
                for path in paths {
                    if matches!(path.first().map(String::as_str), Some("crate" | "super" | "self")) {
                        found.push(Use { line: first.clone(), path });
                    }
                }
                statement.clear();
                first.clear();
            }
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            if at > 0 && line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &line[at..];
            let path: Vec<String> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            found.push(Use { line: trimmed.to_owned(), path });
        }
        for (at, _) in line.match_indices("super::") {
            if at > 0 && line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: Vec<String> = line[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            found.push(Use { line: trimmed.to_owned(), path });
        }
    }
    found
}

/// The module a file is: `sync/push.rs` is `sync::push`, `sync/mod.rs` is `sync`, `lib.rs` the root.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".rs");
    let mut path: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if path.last().is_some_and(|p| p == "mod" || p == "lib") {
        path.pop();
    }
    path
}

/// A use's module path from the crate's root.
fn absolute(file: &str, path: &[String]) -> Vec<String> {
    let mut here = module_of(file);
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            here.clear();
            rest = &rest[1..];
        }
        _ => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        here.pop();
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
    }
    here.extend(rest.iter().cloned());
    here
}

/// The file that holds the deepest module of `path` (which may end in an item's name).
fn file_of(files: &BTreeSet<String>, path: &[String]) -> Option<String> {
    let mut found = None;
    let mut folder = String::new();
    for segment in path {
        let file = format!("{folder}{segment}.rs");
        let module = format!("{folder}{segment}/mod.rs");
        if files.contains(&file) {
            found = Some(file);
        } else if files.contains(&module) {
            found = Some(module);
        } else {
            break;
        }
        folder = format!("{folder}{segment}/");
    }
    found
}

/// The top module a file belongs to: `sync/push.rs` → `sync`, `bin/x.rs` → `bin`.
fn top_of(file: &str) -> String {
    file.split('/').next().unwrap().trim_end_matches(".rs").to_owned()
}

#[test]
fn the_database_level_uses_no_context() {
    for (name, text) in source_files() {
        let top = top_of(&name);
        if !DB_LEVEL.contains(&top.as_str()) {
            continue;
        }
        for used in uses_of(&text) {
            let module = absolute(&name, &used.path);
            let Some(other) = module.first() else { continue };
            assert!(
                *other == top || DB_LEVEL.contains(&other.as_str()),
                "{name} is on the database level but uses crate::{other}, a module above it: {}",
                used.line
            );
        }
    }
}

#[test]
fn the_contexts_form_a_dag_in_the_declared_order() {
    let level_of = |module: &str| LEVELS.iter().position(|level| level.contains(&module));
    for (name, text) in source_files() {
        let top = top_of(&name);
        if TOP.contains(&top.as_str()) || DB_LEVEL.contains(&top.as_str()) {
            continue;
        }
        let Some(mine) = level_of(&top) else {
            panic!("{name}: the module {top} is on no level; add it to LEVELS in tests/layers.rs")
        };
        for used in uses_of(&text) {
            let module = absolute(&name, &used.path);
            let Some(other) = module.first() else { continue };
            if *other == top || DB_LEVEL.contains(&other.as_str()) {
                continue;
            }
            let allowed = level_of(other).is_some_and(|theirs| theirs < mine);
            assert!(
                allowed,
                "{name} uses crate::{other}, which is not below {top} in LEVELS (tests/layers.rs): {}",
                used.line
            );
        }
    }
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let sources = source_files();
    let files: BTreeSet<String> = sources.iter().map(|(name, _)| name.clone()).collect();
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (name, text) in &sources {
        for used in uses_of(text) {
            let Some(target) = file_of(&files, &absolute(name, &used.path)) else { continue };
            // A folder's files reach its `mod.rs` (their `super`) for the folder's shared
            // types, and its `mod.rs` re-exports them: no circle of concern.
            let folder = target.trim_end_matches("mod.rs");
            if target == *name
                || (target.ends_with("mod.rs") && name.starts_with(folder))
                || target == "lib.rs"
            {
                continue;
            }
            edges.entry(name.clone()).or_default().entry(target).or_insert(used.line);
        }
    }
    if let Some((circle, line)) = a_circle(&edges) {
        panic!("files import each other in a circle: {} (the last use: {line})", circle.join(" -> "));
    }
}

/// A path of `edges` back to where it started, and the use that closes it: searched from each
/// file, depth first.
fn a_circle(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Option<(Vec<String>, String)> {
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, trail)) = stack.pop() {
            for (next, line) in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let mut circle = trail.clone();
                    circle.push(next.clone());
                    return Some((circle, line.clone()));
                }
                if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    None
}

/// What a file over [`MAX_LINES`] says in its first lines, in its `//!` doc, to be let be.
const LONGER_BECAUSE: &str = "//! Longer than 500 lines because";
const MAX_LINES: usize = 500;

#[test]
fn no_file_is_over_500_lines_unless_it_says_why() {
    for (name, text) in source_files() {
        let lines = text.lines().count();
        if lines <= MAX_LINES {
            continue;
        }
        let says_why =
            text.lines().take_while(|l| l.starts_with("//!")).any(|l| l.starts_with(LONGER_BECAUSE));
        assert!(
            says_why,
            "{name} has {lines} lines: split it by concern, or say why in its doc, on a line starting \
             `{LONGER_BECAUSE}`"
        );
    }
}

#[test]
fn the_checks_see_what_they_look_for() {
    // A check that finds nothing to look at passes whatever the code does.
    let uses = uses_of(
        "use crate::{db::{Db, now_ms}, feed};\n// crate::http in a comment\nlet s = \"crate::http\";\nx(crate::alerts::raise);\nuse super::Error;\n",
    );
    let paths: Vec<String> = uses.iter().map(|u| u.path.join("::")).collect();
    assert_eq!(
        paths,
        ["crate::db::Db", "crate::db::now_ms", "crate::feed", "crate::alerts::raise", "super::Error"]
    );
    assert_eq!(absolute("sync/push.rs", &uses[4].path), ["sync", "Error"]);
    assert_eq!(absolute("sync/mod.rs", &["super".into(), "db".into()]), ["db"]);
    let files: BTreeSet<String> = ["sync/mod.rs", "sync/push.rs", "db/mod.rs"].map(str::to_owned).into();
    assert_eq!(
        file_of(&files, &["sync".into(), "push".into(), "push".into()]).as_deref(),
        Some("sync/push.rs")
    );
    assert_eq!(file_of(&files, &["sync".into(), "Error".into()]).as_deref(), Some("sync/mod.rs"));
    let edge =
        |from: &str, to: &str| (from.to_owned(), BTreeMap::from([(to.to_owned(), format!("use {to}"))]));
    let circle = BTreeMap::from([edge("a.rs", "b.rs"), edge("b.rs", "c.rs"), edge("c.rs", "a.rs")]);
    assert_eq!(a_circle(&circle).unwrap().0, ["a.rs", "b.rs", "c.rs", "a.rs"]);
    let line = BTreeMap::from([edge("a.rs", "b.rs"), edge("b.rs", "c.rs")]);
    assert!(a_circle(&line).is_none());
    let sources = source_files();
    assert!(sources.iter().any(|(name, _)| name == "sync/mod.rs"));
    assert!(sources.iter().any(|(name, text)| name.starts_with("sync/") && text.contains("crate::db")));
}
