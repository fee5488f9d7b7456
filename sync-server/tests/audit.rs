//! The audit trail against someone who can write to the database but does not hold head
//! office's key (issue 24), each run on SQLite and on PostgreSQL: an entry edited with every
//! later hash recomputed, plainly or under another key, is named; the database refuses UPDATE
//! and DELETE; entries from before the key are sealed under it; the head is served to admins.

mod common;

use common::{Engine, TestServer, login, problem};
use reqwest::StatusCode;
use serde_json::Value;
use sync_server::audit::{self, Actor, AuditKey, Change, Entry, KEYED, KeySetting, UNKEYED};
use sync_server::db::Db;
use sync_server::identity::{self, Role};

on_both_engines!(
    an_edit_with_every_later_hash_recomputed_without_the_key_is_named,
    the_database_refuses_to_update_or_delete_an_entry,
    entries_from_before_the_key_are_sealed_under_it,
    the_head_is_the_last_entry_and_only_an_admin_reads_it,
);

const COLUMNS: &str =
    "seq, at_ms, actor, action, object, request_id, before_state, after_state, prev_hash, hash, alg";

/// Head office changes `count` products' prices, one entry each.
async fn actions(db: &Db, count: usize) {
    for n in 0..count {
        let mut tx = db.begin().await.unwrap();
        let change = Change::new("product.update", format!("product:SKU-{n}"))
            .before(serde_json::json!({ "price_cents": 1000 }))
            .after(serde_json::json!({ "price_cents": 1000 + n }));
        audit::record(&mut tx, &Actor::new("marie", Some(format!("r-{n}"))), change).await.unwrap();
        tx.commit().await.unwrap();
    }
}

async fn entries(db: &Db) -> Vec<Entry> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq")))
        .fetch_all(db.pool())
        .await
        .unwrap()
}

/// What an attacker with the database's owner rights does first: drop the triggers that refuse
/// changes to the trail.
async fn drop_triggers(db: &Db) {
    let statements: &[&str] = match db.engine() {
        sync_server::db::Engine::Sqlite => {
            &["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]
        }
        sync_server::db::Engine::Postgres => &["DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log"],
    };
    for statement in statements {
        sqlx::query(*statement).execute(db.pool()).await.unwrap();
    }
}

/// Rewrites the entries numbered in `seqs` as given by `edit`, each one's link and hash remade
/// by `hash` (and its `alg` set to `alg`), so that their links all hold.
async fn rewrite(
    db: &Db,
    seqs: impl std::ops::RangeBounds<i64>,
    alg: &str,
    edit: impl Fn(&mut Entry),
    hash: impl Fn(&Entry) -> String,
) {
    let mut prev: Option<String> = None;
    for mut entry in entries(db).await {
        if !seqs.contains(&entry.seq) {
            prev = Some(entry.hash);
            continue;
        }
        edit(&mut entry);
        entry.prev_hash = prev.clone().unwrap_or_else(|| audit::GENESIS.to_owned());
        entry.alg = alg.to_owned();
        entry.hash = hash(&entry);
        sqlx::query("UPDATE audit_log SET actor = $1, prev_hash = $2, hash = $3, alg = $4 WHERE seq = $5")
            .bind(&entry.actor)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .bind(&entry.alg)
            .bind(entry.seq)
            .execute(db.pool())
            .await
            .unwrap();
        prev = Some(entry.hash);
    }
}

fn mallory(entry: &mut Entry) {
    if entry.seq == 2 {
        entry.actor = "mallory".into();
    }
}

async fn an_edit_with_every_later_hash_recomputed_without_the_key_is_named(engine: Engine) {
    let server = TestServer::start(engine).await;
    let db = &server.db;
    actions(db, 5).await;
    let holds = audit::verify(db).await.unwrap();
    assert_eq!((holds.entries, holds.broken.clone()), (5, None));
    assert!(entries(db).await.iter().all(|e| e.alg == KEYED));
    drop_triggers(db).await;

    // Entry 2 edited, then every hash from it on remade with plain SHA-256: every link holds,
    // but no hash is a MAC under head office's key.
    rewrite(db, 2.., KEYED, mallory, audit::unkeyed_hash_of).await;
    let broken = audit::verify(db).await.unwrap().broken.expect("a plain SHA-256 chain is caught");
    assert_eq!(broken.seq, 2, "{}", broken.reason);
    assert!(broken.reason.contains("edited"), "{}", broken.reason);

    // The same, the entries also claiming to be from before the key.
    rewrite(db, 2.., UNKEYED, mallory, audit::unkeyed_hash_of).await;
    let broken = audit::verify(db).await.unwrap().broken.expect("unkeyed entries after a keyed one");
    assert_eq!(broken.seq, 2, "{}", broken.reason);
    assert!(broken.reason.contains("without the key"), "{}", broken.reason);

    // Remade as MACs under another key.
    let wrong = AuditKey::random();
    rewrite(db, 2.., KEYED, mallory, |e| audit::keyed_hash_of(&wrong, e)).await;
    let broken = audit::verify(db).await.unwrap().broken.expect("a MAC under another key is caught");
    assert_eq!(broken.seq, 2, "{}", broken.reason);
    assert!(broken.reason.contains("edited"), "{}", broken.reason);

    // The whole trail rewritten as from before the key: nothing keyed seals it.
    rewrite(db, 1.., UNKEYED, mallory, audit::unkeyed_hash_of).await;
    let broken = audit::verify(db).await.unwrap().broken.expect("an unsealed trail");
    assert!(broken.reason.contains("seals them"), "{}", broken.reason);

    // Only head office's key remakes a chain that holds (the forger above is sound).
    let key = db.audit_key().clone();
    rewrite(db, 1.., KEYED, mallory, |e| audit::keyed_hash_of(&key, e)).await;
    let holds = audit::verify(db).await.unwrap();
    assert_eq!((holds.entries, holds.broken), (5, None));
    server.finish().await;
}

async fn the_database_refuses_to_update_or_delete_an_entry(engine: Engine) {
    let server = TestServer::start(engine).await;
    let db = &server.db;
    actions(db, 3).await;
    let before = entries(db).await;
    let update = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").execute(db.pool()).await;
    assert!(update.is_err(), "an entry was updated");
    let update_all = sqlx::query("UPDATE audit_log SET at_ms = at_ms + 1").execute(db.pool()).await;
    assert!(update_all.is_err(), "entries were updated");
    let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 3").execute(db.pool()).await;
    assert!(delete.is_err(), "an entry was deleted");
    let delete_all = sqlx::query("DELETE FROM audit_log").execute(db.pool()).await;
    assert!(delete_all.is_err(), "the trail was emptied");
    if engine == Engine::Postgres {
        let truncate = sqlx::query("TRUNCATE audit_log").execute(db.pool()).await;
        assert!(truncate.is_err(), "the trail was truncated");
    }
    assert_eq!(entries(db).await, before);
    // Appending still works.
    actions(db, 1).await;
    assert_eq!(audit::verify(db).await.unwrap().entries, 4);
    server.finish().await;
}

async fn entries_from_before_the_key_are_sealed_under_it(engine: Engine) {
    let server = TestServer::start(engine).await;
    let db = &server.db;
    // Three entries as the server wrote them before migration 0009: plain SHA-256.
    let mut prev = audit::GENESIS.to_owned();
    for seq in 1..=3 {
        let mut entry = Entry {
            seq,
            at_ms: 1_700_000_000_000 + seq,
            actor: "marie".into(),
            action: "user.create".into(),
            object: format!("user:u{seq}"),
            request_id: None,
            before_state: None,
            after_state: Some("{}".into()),
            prev_hash: prev.clone(),
            hash: String::new(),
            alg: UNKEYED.into(),
        };
        entry.hash = audit::unkeyed_hash_of(&entry);
        let mut conn = db.pool().acquire().await.unwrap();
        audit::insert_raw(&mut conn, &entry).await.unwrap();
        prev = entry.hash;
    }
    let unsealed = audit::verify(db).await.unwrap().broken.expect("nothing keyed vouches for them yet");
    assert!(unsealed.reason.contains("start the server once"), "{}", unsealed.reason);

    // The first start with a key seals them: a keyed entry whose MAC covers their head.
    let seal = audit::seal(db).await.unwrap().expect("a seal");
    assert_eq!((seal.seq, seal.action.as_str(), seal.alg.as_str()), (4, audit::SEALED, KEYED));
    assert_eq!(seal.prev_hash, prev);
    assert_eq!(audit::seal(db).await.unwrap(), None, "sealed once");
    actions(db, 1).await;
    let holds = audit::verify(db).await.unwrap();
    assert_eq!((holds.entries, holds.broken), (5, None));

    // From now on an old entry cannot be changed either: the seal's link no longer holds.
    drop_triggers(db).await;
    rewrite(db, 1..=3, UNKEYED, |e| e.actor = "mallory".into(), audit::unkeyed_hash_of).await;
    let broken = audit::verify(db).await.unwrap().broken.expect("the rewrite is caught");
    assert_eq!(broken.seq, 4, "{}", broken.reason);
    server.finish().await;
}

async fn the_head_is_the_last_entry_and_only_an_admin_reads_it(engine: Engine) {
    let server = TestServer::start(engine).await;
    let get = |token: String| {
        let request = server.http.get(format!("{}/api/audit/head", server.base)).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    let empty: Value = get(server.admin.clone()).await.json().await.unwrap();
    assert_eq!(empty, serde_json::json!({ "seq": 0, "hash": audit::GENESIS, "at_ms": 0 }));

    actions(&server.db, 3).await;
    let response = get(server.admin.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let head: Value = response.json().await.unwrap();
    let last = entries(&server.db).await.pop().unwrap();
    assert_eq!(head, serde_json::json!({ "seq": 3, "hash": last.hash, "at_ms": last.at_ms }));
    let verified = audit::verify(&server.db).await.unwrap();
    assert_eq!((verified.head_seq, verified.head_hash), (3, last.hash));

    identity::create_user(&server.db, "marie", "a long enough password", Role::Manager).await.unwrap();
    let marie = login(&server.http, &server.base, "marie", "a long enough password").await;
    problem(get(marie).await, StatusCode::FORBIDDEN).await;
    let anonymous = server.http.get(format!("{}/api/audit/head", server.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // The document declares the route, its answer and its refusals.
    let doc: Value = server.get_public_json("/api/openapi.json").await;
    let route = &doc["paths"]["/api/audit/head"]["get"];
    for status in ["200", "401", "403"] {
        assert!(route["responses"][status].is_object(), "{status} missing: {route}");
    }
    assert!(doc["components"]["schemas"]["Head"]["properties"]["hash"].is_object(), "{route}");
    server.finish().await;
}

/// With no setting, the key is a file of its own beside the SQLite database, readable by its
/// owner only, made at the first start and read at the next; a configured file that is missing,
/// or a lost default file once keyed entries exist, stops the start.
#[tokio::test]
async fn the_key_lives_in_a_file_outside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/server.db", dir.path().display());
    let path = dir.path().join("server.db.audit-key");
    assert_eq!(audit::default_key_path(&url), path);
    let db = Db::connect(&url, 2).await.unwrap();
    let missing = audit::open_key(&KeySetting::Beside, &url, &db, false).await.unwrap_err();
    assert!(format!("{missing:#}").contains("no audit key file"), "{missing:#}");
    let key = audit::open_key(&KeySetting::Beside, &url, &db, true).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!format!("{key:?}").contains(text.trim()), "the key prints itself");
    let again = audit::open_key(&KeySetting::Beside, &url, &db, true).await.unwrap();
    assert_eq!(format!("{again:?}"), format!("{key:?}"));
    let db = db.with_audit_key(key);
    actions(&db, 2).await;

    let configured = audit::open_key(&KeySetting::File(path.clone()), &url, &db, true).await.unwrap();
    assert_eq!(configured.id(), db.audit_key().id());
    let gone = dir.path().join("elsewhere.key");
    let error = audit::open_key(&KeySetting::File(gone), &url, &db, true).await.unwrap_err();
    assert!(format!("{error:#}").contains("cannot read the audit key file"), "{error:#}");

    std::fs::remove_file(&path).unwrap();
    let error = audit::open_key(&KeySetting::Beside, &url, &db, true).await.unwrap_err();
    assert!(format!("{error:#}").contains("holds 2 entries made with a key"), "{error:#}");
    assert!(!path.exists(), "no new key was made over keyed entries");
    db.close().await;

    // Instances starting at once on a new database agree on one key.
    let url = format!("sqlite://{}/other.db", dir.path().display());
    let db = Db::connect(&url, 4).await.unwrap();
    let keys =
        futures_util::future::join_all((0..8).map(|_| audit::open_key(&KeySetting::Beside, &url, &db, true)))
            .await;
    let ids: std::collections::BTreeSet<String> = keys.into_iter().map(|k| k.unwrap().id()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("other.db.new-"));
    assert_eq!(files.count(), 0, "a draft key was left behind");
    db.close().await;
}
