//! A serial scanner on a pseudo-terminal pair: bursts, scans split across writes, two scans
//! in one write, garbage, and an unplug followed by a replug on the same path. `TTYPort::pair`
//! is not thread safe, so every case runs in this one test, in order.

#![cfg(unix)]

use std::io::Write;
use std::time::Duration;

use hardware::scan::{Scan, ScanError};
use hardware::serial::{Event, SerialConfig, SerialScanner};
use serialport::{SerialPort, TTYPort};
use shared_model::Barcode;

/// Polls until an event that is not a connection change arrives.
fn next_scan(scanner: &mut SerialScanner) -> Result<Scan, ScanError> {
    for _ in 0..100 {
        match scanner.next(Duration::from_millis(50)) {
            Some(Event::Scanned(scan)) => return scan,
            Some(Event::Connected) | None => {}
            Some(Event::Disconnected) => panic!("unexpected disconnection"),
        }
    }
    panic!("no scan arrived");
}

fn product(code: &str) -> Result<Scan, ScanError> {
    Ok(Scan::Product(Barcode::parse(code).unwrap()))
}

#[test]
fn a_serial_scanner_frames_scans_and_survives_unplugging() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("scanner");
    let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();

    let mut config = SerialConfig::new(&link);
    config.suffix = None;
    let mut scanner = SerialScanner::new(config);

    master.write_all(b"4006381333931\r").unwrap();
    assert_eq!(next_scan(&mut scanner), product("4006381333931"));

    // A scan split across writes, ended by CRLF.
    master.write_all(b"03600").unwrap();
    master.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    master.write_all(b"0291452\r\n").unwrap();
    assert_eq!(next_scan(&mut scanner), product("0036000291452"));

    // Two scans in one write stay two scans, in order.
    master.write_all(b"96385074\nCAF-ESP-250\n").unwrap();
    assert_eq!(next_scan(&mut scanner), product("96385074"));
    assert!(matches!(next_scan(&mut scanner), Ok(Scan::Sku(_))));

    // Garbage and a bad check digit are bad scans, never another product.
    master.write_all(b"\xff\xfe\x01\r").unwrap();
    assert!(next_scan(&mut scanner).is_err());
    master.write_all(b"4006381333932\r").unwrap();
    assert!(matches!(next_scan(&mut scanner), Err(ScanError::Bad(..))));

    // Unplugged halfway through a scan: the half is dropped.
    master.write_all(b"40063").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    drop(master);
    drop(slave);
    let mut disconnected = false;
    for _ in 0..100 {
        if scanner.next(Duration::from_millis(50)) == Some(Event::Disconnected) {
            disconnected = true;
            break;
        }
    }
    assert!(disconnected && !scanner.is_connected());

    // Plugged back in (a new device behind the same path): scanning goes on, no restart.
    let (mut master, slave) = TTYPort::pair().unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();
    master.write_all(b"81333931\r").unwrap();
    // The tail of the scan cut by the unplug is not a scan of its own: it fails its check.
    let tail = next_scan(&mut scanner);
    assert!(tail.is_err(), "{tail:?}");
    master.write_all(b"96385074\r").unwrap();
    assert_eq!(next_scan(&mut scanner), product("96385074"));
    assert!(scanner.is_connected());
}
