//! The catalogue and opening stock as CSV files (issue 29), each run on SQLite and on
//! PostgreSQL: a large file with one bad row imports nothing and names the row; the same file
//! twice changes nothing; Excel in French (semicolons, decimal commas, a byte-order mark);
//! export, edit, import round trips; and registers pull what an import wrote.

mod common;

use common::{Engine, TestServer, problem};
use reqwest::StatusCode;
use serde_json::Value;
use shared_model::protocol::{Change, Cursor};
use shared_model::testing::register_of;
use sync_server::identity::{self, Role};

on_both_engines!(
    a_large_file_with_one_bad_row_imports_nothing_and_the_same_file_twice_changes_nothing,
    a_french_excel_file_is_previewed_then_imported,
    export_edit_import_round_trips_products_and_stock,
    registers_pull_what_an_import_wrote,
);

const HEADER: &str =
    "sku,name,category,price,tax_class,barcodes,reorder_threshold,active,description,max_level\n";

/// A catalogue file of `n` products `IMP-00000`…, every tenth with a barcode.
fn catalogue_file(n: usize) -> String {
    let mut file = String::from(HEADER);
    for i in 0..n {
        let barcode = if i % 10 == 0 {
            shared_model::Barcode::with_check_digit(&format!("77{i:010}")).unwrap().to_string()
        } else {
            String::new()
        };
        file.push_str(&format!(
            "IMP-{i:05},Produit importé {i},Import,{}.{:02},standard,{barcode},5,true,\"Lot, {i}\",0\n",
            i % 500,
            i % 100
        ));
    }
    file
}

async fn post_csv(server: &TestServer, token: &str, path: &str, body: String) -> reqwest::Response {
    server
        .http
        .post(format!("{}{path}", server.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn imported(server: &TestServer, path: &str, body: String) -> Value {
    let response = post_csv(server, &server.admin, path, body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn export(server: &TestServer, path: &str) -> String {
    let response =
        server.http.get(format!("{}{path}", server.base)).bearer_auth(&server.admin).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    response.text().await.unwrap()
}

async fn feed_version(server: &TestServer) -> i64 {
    sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM feed")
        .fetch_one(server.db.pool())
        .await
        .unwrap()
        .unwrap_or(0)
}

fn counts(report: &Value) -> (u64, u64, u64) {
    let n = |k: &str| report[k].as_u64().unwrap();
    (n("new"), n("changed"), n("unchanged"))
}

async fn a_large_file_with_one_bad_row_imports_nothing_and_the_same_file_twice_changes_nothing(
    engine: Engine,
) {
    let server = TestServer::start(engine).await;
    let good = catalogue_file(10_000);
    // Line 1 is the header: product 6 000 is on line 6 002.
    let bad = good.replacen(
        "IMP-06000,Produit importé 6000,Import,0.00",
        "IMP-06000,Produit importé 6000,Import,douze",
        1,
    );
    assert_ne!(bad, good);
    let (products, audit, version) =
        (server.count("products").await, server.count("audit_log").await, feed_version(&server).await);

    let refused = problem(
        post_csv(&server, &server.admin, "/api/products/import", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["error_count"], 1, "{refused}");
    assert_eq!(
        (refused["errors"][0]["line"].as_u64(), refused["errors"][0]["column"].as_str()),
        (Some(6_002), Some("price"))
    );
    assert_eq!(refused["field"], "price");
    assert_eq!(
        (server.count("products").await, server.count("audit_log").await, feed_version(&server).await),
        (products, audit, version),
        "a refused file writes nothing"
    );

    let first = imported(&server, "/api/products/import", good.clone()).await;
    assert_eq!((counts(&first), first["imported"].as_bool()), ((10_000, 0, 0), Some(true)));
    assert_eq!(server.count("products").await, products + 10_000);
    assert_eq!(server.count("audit_log").await, audit + 10_000, "one audit entry per product, as an edit");
    let after_first = feed_version(&server).await;
    assert!(after_first > version);
    let product = server.get_json("/api/products/IMP-00010").await;
    let barcode = shared_model::Barcode::with_check_digit("770000000010").unwrap().to_string();
    assert_eq!(
        (product["price"].as_i64(), product["barcodes"][0].as_str()),
        (Some(1_010), Some(barcode.as_str()))
    );

    let second = imported(&server, "/api/products/import", good).await;
    assert_eq!(counts(&second), (0, 0, 10_000));
    assert_eq!(feed_version(&server).await, after_first, "nothing published again");
    assert_eq!(server.count("audit_log").await, audit + 10_000);
    server.finish().await;
}

async fn a_french_excel_file_is_previewed_then_imported(engine: Engine) {
    let server = TestServer::start(engine).await;
    let bag = shared_model::testing::catalogue()[0].clone();
    let file = format!(
        "\u{feff}Code;Nom;Catégorie;Prix;Taxe;Codes-barres\r\n\
         FR-001;Tourtière;Boulangerie;12,99;zero_rated;{}\r\n\
         {};{};{};\"4,25\";{};\r\n",
        shared_model::Barcode::with_check_digit("062000000001").unwrap(),
        bag.sku,
        bag.name,
        bag.category,
        bag.tax_class.code()
    );
    let version = feed_version(&server).await;
    let preview = imported(&server, "/api/products/import?dry_run=true", file.clone()).await;
    assert_eq!((counts(&preview), preview["imported"].as_bool()), ((1, 1, 0), Some(false)));
    let changed = &preview["first_changes"][1];
    assert_eq!(
        (changed["line"].as_u64(), changed["key"].as_str(), changed["status"].as_str()),
        (Some(3), Some(bag.sku.as_str()), Some("changed"))
    );
    let cells: Vec<(&str, &str)> = changed["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["column"].as_str().unwrap(), c["after"].as_str().unwrap()))
        .collect();
    assert_eq!(cells, [("price", "4.25"), ("barcodes", "")]);
    assert_eq!(feed_version(&server).await, version, "a preview writes nothing");
    let absent = server.http.get(format!("{}/api/products/FR-001", server.base)).send().await.unwrap();
    assert_eq!(absent.status(), StatusCode::NOT_FOUND, "not there yet");

    // Only head office's managers and admins import, as they edit products.
    identity::create_user(&server.db, "luc", "a long enough password", Role::Logistics).await.unwrap();
    let luc = common::login(&server.http, &server.base, "luc", "a long enough password").await;
    problem(post_csv(&server, &luc, "/api/products/import", file.clone()).await, StatusCode::FORBIDDEN).await;

    let done = imported(&server, "/api/products/import", file).await;
    assert_eq!(counts(&done), (1, 1, 0));
    let tourtiere = server.get_json("/api/products/FR-001").await;
    assert_eq!(
        (tourtiere["name"].as_str(), tourtiere["price"].as_i64(), tourtiere["tax_class"].as_str()),
        (Some("Tourtière"), Some(1_299), Some("zero_rated"))
    );
    let bag_now = server.get_json(&format!("/api/products/{}", bag.sku)).await;
    assert_eq!(bag_now["price"], 425);
    server.finish().await;
}

async fn export_edit_import_round_trips_products_and_stock(engine: Engine) {
    let server = TestServer::start(engine).await;
    imported(&server, "/api/products/import", catalogue_file(1_500)).await;
    let exported = export(&server, "/api/products/export").await;
    assert!(exported.starts_with('\u{feff}'));
    assert_eq!(exported.lines().count(), 1 + 1_500 + shared_model::testing::catalogue().len());
    let again = imported(&server, "/api/products/import", exported.clone()).await;
    assert_eq!(counts(&again), (0, 0, exported.lines().count() as u64 - 1), "an export imports as it is");

    let edited = exported.replacen(
        "IMP-00042,Produit importé 42,Import,42.42",
        "IMP-00042,Produit importé 42,Import,43.00",
        1,
    );
    assert_ne!(edited, exported);
    let report = imported(&server, "/api/products/import", edited.clone()).await;
    assert_eq!(counts(&report).1, 1);
    assert_eq!(report["first_changes"][0]["cells"][0]["before"], "42.42");
    assert_eq!(export(&server, "/api/products/export").await, edited, "byte for byte");
    let semicolons = export(&server, "/api/products/export?separator=semicolon").await;
    assert_eq!(
        counts(&imported(&server, "/api/products/import", semicolons).await).2,
        exported.lines().count() as u64 - 1
    );

    server.seed_stock("S1", "IMP-00001", 7).await;
    server.seed_stock("LOG", "IMP-00002", 30).await;
    let stock = export(&server, "/api/stock/export").await;
    assert_eq!(stock, "\u{feff}location,sku,quantity\nLOG,IMP-00002,30\nS1,IMP-00001,7\n");
    assert_eq!(counts(&imported(&server, "/api/stock/import", stock.clone()).await), (0, 0, 2));
    let counted = format!("{}S2,IMP-00001,4\n", stock.replace("S1,IMP-00001,7", "S1,IMP-00001,5"));
    let movements = server.count("stock_movements").await;
    assert_eq!(counts(&imported(&server, "/api/stock/import", counted.clone()).await), (1, 1, 1));
    assert_eq!(server.count("stock_movements").await, movements + 2, "the differences, as opening movements");
    assert_eq!(export(&server, "/api/stock/export").await, counted);
    let unknown = problem(
        post_csv(
            &server,
            &server.admin,
            "/api/stock/import",
            "location;sku;quantity\nS9;IMP-00001;3\nS1;NOPE-1;2\n".into(),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let said: Vec<(u64, &str)> = unknown["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(said, [(2, "location"), (3, "sku")]);

    let doc = server.get_public_json("/api/openapi.json").await;
    for path in ["/api/products/import", "/api/products/export", "/api/stock/import", "/api/stock/export"] {
        assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }
    server.finish().await;
}

async fn registers_pull_what_an_import_wrote(engine: Engine) {
    let server = TestServer::start(engine).await;
    let secret = server.enrol(&register_of(0)).await;
    let (_, cursor) = server.pull_all(&secret, Cursor::default()).await;
    imported(&server, "/api/products/import", catalogue_file(1_200)).await;
    let (changes, cursor) = server.pull_all(&secret, cursor).await;
    let products: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Product(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(products.len(), 1_200);
    assert!(products.iter().any(|p| p.sku.as_str() == "IMP-00777" && p.price.as_cents() == 27_777));
    imported(&server, "/api/products/import", catalogue_file(1_200)).await;
    let (changes, _) = server.pull_all(&secret, cursor).await;
    assert!(changes.is_empty(), "an unchanged import sends registers nothing: {}", changes.len());
    server.finish().await;
}
