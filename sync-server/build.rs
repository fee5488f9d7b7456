//! Builds head office's pages (`ui/`, second entry) into `ui/dist-office` and the storefront
//! (third entry) into `ui/dist-shop` when they are missing or older than their sources, so that
//! `cargo run -p sync-server` on a fresh clone serves them; `src/http/pages.rs` embeds both
//! folders. Without Node.js the server is built with pages that say what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        std::fs::read_dir(path).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
    } else {
        meta.modified().ok()
    }
}

fn npm(ui: &Path, args: &[&str]) -> bool {
    Command::new("npm").args(args).current_dir(ui).status().is_ok_and(|s| s.success())
}

/// One set of pages: its built folder, the npm script that builds it, what it is built from,
/// the environment variable naming the folder to `pages.rs`, and who it is for.
struct Entry {
    dist: &'static str,
    script: &'static str,
    sources: [&'static str; 5],
    env: &'static str,
    title: &'static str,
}

const ENTRIES: [Entry; 2] = [
    Entry {
        dist: "dist-office",
        script: "build:office",
        sources: ["office.html", "src", "package.json", "package-lock.json", "vite.office.config.ts"],
        env: "CAISSE_OFFICE_DIR",
        title: "Head office's pages",
    },
    Entry {
        dist: "dist-shop",
        script: "build:shop",
        sources: ["shop.html", "src", "package.json", "package-lock.json", "vite.shop.config.ts"],
        env: "CAISSE_SHOP_DIR",
        title: "The storefront",
    },
];

fn build(ui: &Path, entry: &Entry) {
    let dist = ui.join(entry.dist);
    for source in entry.sources {
        println!("cargo:rerun-if-changed={}", ui.join(source).display());
    }
    println!("cargo:rerun-if-changed={}", dist.join("index.html").display());
    let built = newest(&dist.join("index.html"));
    let changed = entry.sources.iter().filter_map(|s| newest(&ui.join(s))).max();
    let stale = match (built, changed) {
        (Some(built), Some(changed)) => changed > built,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if stale && std::env::var_os("CAISSE_SKIP_UI_BUILD").is_none() && ui.join("package.json").exists() {
        let installed = ui.join("node_modules").join(".package-lock.json").exists()
            || npm(ui, &["install", "--no-audit", "--no-fund", "--loglevel=error"]);
        if !(installed && npm(ui, &["run", entry.script, "--silent"])) {
            println!(
                "cargo:warning={} were not built (Node.js 20 and npm are needed): the server shows a page saying so",
                entry.title
            );
        }
    }
    let folder = if dist.join("index.html").exists() {
        dist
    } else {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(entry.dist);
        std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
        std::fs::write(
            out.join("index.html"),
            format!(
                "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Caisse</title>\
                 <h1>{} were not built</h1><p>Install Node.js 20 or newer with npm, then \
                 rebuild the server (<code>cargo build -p sync-server</code>). The API works without them.</p></html>",
                entry.title
            ),
        )
        .expect("OUT_DIR is writable");
        out
    };
    println!("cargo:rustc-env={}={}", entry.env, folder.display());
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let ui = manifest.join("..").join("ui");
    println!("cargo:rerun-if-env-changed=CAISSE_SKIP_UI_BUILD");
    for entry in &ENTRIES {
        build(&ui, entry);
    }
}
