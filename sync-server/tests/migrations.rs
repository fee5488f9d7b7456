//! The two server migration folders describe one schema: file for file, they must be the same
//! but for the first comment line and how an auto-increment key is spelt. A migration added to
//! one folder and forgotten in the other, or changed differently, fails here.

use std::collections::BTreeSet;
use std::path::Path;

fn folder(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(name)
}

fn files(name: &str) -> BTreeSet<String> {
    std::fs::read_dir(folder(name))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.ends_with(".sql"))
        .collect()
}

/// The line after which a file may differ between engines: what only one engine can say
/// (a trigger's body) comes last, below it.
const ENGINE_SPECIFIC: &str = "-- Engine-specific below this line.";

/// The text with the engines' one spelling difference made the same, without its first line
/// (which names its own engine) and without its engine-specific tail.
fn normalised(text: &str) -> String {
    text.lines()
        .skip(1)
        .take_while(|line| *line != ENGINE_SPECIFIC)
        .map(|line| {
            line.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "<auto-increment key>")
                .replace("BIGSERIAL PRIMARY KEY", "<auto-increment key>")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sqlite_and_postgresql_migrations_match_file_for_file() {
    let (sqlite, postgres) = (files("server-sqlite"), files("server-postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "the two folders hold different migrations");
    for file in &sqlite {
        let read = |engine: &str| std::fs::read_to_string(folder(engine).join(file)).unwrap();
        let (a, b) = (normalised(&read("server-sqlite")), normalised(&read("server-postgres")));
        if a != b {
            let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).map_or(0, |i| i + 2);
            panic!("{file} differs between the engines from line {line}");
        }
    }
}

#[test]
fn the_normalisation_catches_a_difference() {
    let sqlite = "-- SQLite\nCREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT);";
    let postgres = "-- PostgreSQL\nCREATE TABLE t (id BIGSERIAL PRIMARY KEY, a TEXT);";
    assert_eq!(normalised(sqlite), normalised(postgres));
    assert_ne!(
        normalised(sqlite),
        normalised("-- PostgreSQL\nCREATE TABLE t (id BIGSERIAL PRIMARY KEY, b TEXT);")
    );
}
