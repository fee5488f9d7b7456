//! Builds head office's pages (`ui/`, second entry) into `ui/dist-office` when they are missing
//! or older than their sources, so that `cargo run -p sync-server` on a fresh clone serves
//! them; `src/http/pages.rs` embeds the folder. Without Node.js the server is built with a
//! page that says what to install.

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

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let ui = manifest.join("..").join("ui");
    let dist = ui.join("dist-office");
    let sources = ["office.html", "src", "package.json", "package-lock.json", "vite.office.config.ts"];
    for source in sources {
        println!("cargo:rerun-if-changed={}", ui.join(source).display());
    }
    println!("cargo:rerun-if-changed={}", dist.join("index.html").display());
    println!("cargo:rerun-if-env-changed=CAISSE_SKIP_UI_BUILD");
    let built = newest(&dist.join("index.html"));
    let changed = sources.iter().filter_map(|s| newest(&ui.join(s))).max();
    let stale = match (built, changed) {
        (Some(built), Some(changed)) => changed > built,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if stale && std::env::var_os("CAISSE_SKIP_UI_BUILD").is_none() && ui.join("package.json").exists() {
        let installed = ui.join("node_modules").join(".package-lock.json").exists()
            || npm(&ui, &["install", "--no-audit", "--no-fund", "--loglevel=error"]);
        if !(installed && npm(&ui, &["run", "build:office", "--silent"])) {
            println!(
                "cargo:warning=head office's pages were not built (Node.js 20 and npm are needed): the server shows a page saying so"
            );
        }
    }
    let folder = if dist.join("index.html").exists() {
        dist
    } else {
        let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("office");
        std::fs::create_dir_all(&out).expect("OUT_DIR is writable");
        std::fs::write(
            out.join("index.html"),
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Caisse head office</title>\
             <h1>Head office's pages were not built</h1><p>Install Node.js 20 or newer with npm, then \
             rebuild the server (<code>cargo build -p sync-server</code>). The API works without them.</p></html>",
        )
        .expect("OUT_DIR is writable");
        out
    };
    println!("cargo:rustc-env=CAISSE_OFFICE_DIR={}", folder.display());
}
