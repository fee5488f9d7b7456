//! The register's database holds its device secret and the cashiers' PIN hashes: on Unix the
//! file and its WAL and shared-memory siblings are readable by the register's account only, and
//! so is the folder the register creates for them.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use shared_model::RegisterId;
use terminal_app::Register;
use terminal_app::desk::Desk;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn with_siblings(path: &Path) -> [PathBuf; 3] {
    let sibling = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), sibling("-wal"), sibling("-shm")]
}

#[test]
fn the_database_and_its_folder_are_private_to_the_registers_account() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("caisse").join("till");
    let path = folder.join("register.db");
    let mut till = Register::open(&path).unwrap();
    till.enrol_offline("https://caisse.example", &RegisterId::parse("VMTL-01").unwrap(), "device secret")
        .unwrap();
    for file in with_siblings(&path) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(folder.parent().unwrap()), 0o700);

    // Files an older version left readable by everyone (the till still running meanwhile) are
    // tightened when the register opens them.
    for file in with_siblings(&path) {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let again = Register::open(&path).unwrap();
    assert_eq!(again.identity().unwrap().register.as_str(), "VMTL-01");
    for file in with_siblings(&path) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop((till, again));

    // A folder the store made itself keeps its mode; the screen's folder is created private.
    let chosen = dir.path().join("chosen");
    std::fs::create_dir(&chosen).unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o750)).unwrap();
    drop(Register::open(chosen.join("register.db")).unwrap());
    assert_eq!(mode(&chosen), 0o750);
    assert_eq!(mode(&chosen.join("register.db")), 0o600);
    let desk = Desk::open(dir.path().join("screen")).unwrap();
    assert_eq!(mode(&desk.database()), 0o600);
    assert_eq!(mode(&dir.path().join("screen")), 0o700);
}
