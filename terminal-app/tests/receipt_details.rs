//! The chain's legal name and GST and QST numbers, set at head office, land in every
//! register's settings store with its next pull, where its receipts read them.

mod common;

use common::Server;
use shared_model::chain::{ChainInfo, GstNumber, LegalName};
use sync_server::audit::Actor;
use terminal_app::Register;

fn settings_of(dir: &std::path::Path, keys: &[&str]) -> Vec<Option<String>> {
    let conn = rusqlite::Connection::open(dir.join("till.db")).unwrap();
    keys.iter().map(|key| terminal_app::store::setting(&conn, key).unwrap()).collect()
}

#[test]
fn a_register_keeps_the_chain_s_receipt_details_as_head_office_sets_them() {
    let (server, _) = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let mut till = Register::open(dir.path().join("till.db")).unwrap();
    till.enrol(&server.url(), &server.code_for("PLAT-01")).unwrap();
    till.sync_once().unwrap();
    let keys = ["legal_name", "gst_number", "qst_number"];
    // The demo chain's, pulled with the catalogue.
    let demo = server.runtime.block_on(sync_server::chain::settings(&server.db)).unwrap();
    let expected: Vec<Option<String>> = vec![
        demo.legal_name.as_ref().map(|v| v.to_string()),
        demo.gst_number.as_ref().map(|v| v.to_string()),
        demo.qst_number.as_ref().map(|v| v.to_string()),
    ];
    assert!(expected.iter().all(Option::is_some), "the demo sets all three: {expected:?}");
    assert_eq!(settings_of(dir.path(), &keys), expected);

    // Head office changes the name and drops the QST number: the next pull says so.
    let changed = ChainInfo {
        legal_name: Some(LegalName::parse("Caisse Québec inc.").unwrap()),
        gst_number: Some(GstNumber::parse("987654321 rt 0002").unwrap()),
        qst_number: None,
    };
    server.runtime.block_on(sync_server::chain::set(&server.db, &changed, &Actor::system())).unwrap();
    till.sync_once().unwrap();
    assert_eq!(
        settings_of(dir.path(), &keys),
        vec![Some("Caisse Québec inc.".to_owned()), Some("987654321 RT 0002".to_owned()), None]
    );
}
