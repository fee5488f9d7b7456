//! What an attacker's review found in sign-in, sign-up and enrolment (issue 24), each run on
//! SQLite and on PostgreSQL: a guesser cannot lock someone else out, only a campaign from
//! many addresses locks an account (and head office hears of it), sign-up does not say who
//! has an account, weak passwords are refused with zxcvbn's reason, an IPv6 site rotating its
//! /64s is counted as one, expired throttles are swept, and a register's wrong codes hold up
//! only that register from that address. Sessions, access tokens and refresh tokens end when
//! the server's clock says they do.
//!
//! Requests come from 127.0.0.1, a trusted proxy here, so each names the client it stands
//! for in `X-Forwarded-For`. Waits are ended by moving the server's clock, never slept out.

mod common;

use std::time::Duration;

use common::{ADMIN_PASSWORD, Engine, TestServer, problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared_model::testing::register_of;
use sync_server::Settings;
use sync_server::gateway::limits::{self, Bucket, Policy};
use sync_server::http::gateway::Gateway;
use sync_server::identity::{self, Role};

on_both_engines!(
    failures_from_other_addresses_never_stop_the_right_password,
    only_a_campaign_locks_an_account_and_head_office_is_told,
    sign_up_says_the_same_for_a_taken_address_and_tells_its_owner,
    guessable_passwords_are_refused_with_the_reason,
    an_ipv6_site_rotating_its_64s_is_counted_as_one,
    expired_throttles_are_swept,
    wrong_codes_hold_up_one_register_from_one_address,
    sessions_and_tokens_end_when_the_server_s_clock_says,
);

/// A server behind a proxy at 127.0.0.1: each request names its client in `X-Forwarded-For`.
async fn behind_a_proxy(engine: Engine) -> TestServer {
    let gateway = Gateway { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Gateway::default() };
    TestServer::start_with(engine, Settings { gateway, ..Settings::default() }).await
}

async fn sign_in_from(server: &TestServer, from: &str, username: &str, password: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/auth/login", server.base))
        .header("x-forwarded-for", from)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

async fn alerts_of_kind(server: &TestServer, kind: &str) -> Vec<Value> {
    let alerts = server.get_json("/api/alerts?open=false").await;
    alerts.as_array().unwrap().iter().filter(|a| a["kind"] == kind).cloned().collect()
}

async fn failures_from_other_addresses_never_stop_the_right_password(engine: Engine) {
    let server = behind_a_proxy(engine).await;
    let guesser = "198.51.100.1";
    // Four addresses each guess admin's password five times: twenty failures, four times what
    // used to lock the account for everyone.
    for n in (2..=4).chain([1]) {
        for _ in 0..identity::PER_PAIR.free {
            let answer = sign_in_from(&server, &format!("198.51.100.{n}"), "admin", "a wrong guess").await;
            problem(answer, StatusCode::UNAUTHORIZED).await;
        }
    }
    // The guesser's own next attempts wait, longer after each failure: even the right password.
    // (The first wait, a second, runs from the last failure: it is looked at right after it.)
    let mut waits = Vec::new();
    for _ in 0..3 {
        let held = sign_in_from(&server, guesser, "admin", ADMIN_PASSWORD).await;
        let wait = retry_after(&held);
        waits.push(wait);
        let body = problem(held, StatusCode::TOO_MANY_REQUESTS).await;
        assert!(body["detail"].as_str().unwrap().contains("from this address"), "{body}");
        server.clock.advance(Duration::from_secs(wait));
        let answer = sign_in_from(&server, guesser, "admin", "another wrong guess").await;
        problem(answer, StatusCode::UNAUTHORIZED).await;
    }
    assert_eq!(waits, [1, 2, 4]);
    // The right password from anywhere else goes through at once.
    let answer = sign_in_from(&server, "203.0.113.50", "admin", ADMIN_PASSWORD).await;
    assert_eq!(answer.status(), StatusCode::OK);
    // Once the wait is over, the right password from there works, and forgets the failures.
    let wait = retry_after(&sign_in_from(&server, guesser, "admin", ADMIN_PASSWORD).await);
    assert_eq!(wait, 8, "the next wait doubles again");
    server.clock.advance(Duration::from_secs(wait));
    assert_eq!(sign_in_from(&server, guesser, "admin", ADMIN_PASSWORD).await.status(), StatusCode::OK);
    let answer = sign_in_from(&server, guesser, "admin", "a wrong guess").await;
    problem(answer, StatusCode::UNAUTHORIZED).await;
    assert!(alerts_of_kind(&server, "account_locked").await.is_empty());
    server.finish().await;
}

async fn only_a_campaign_locks_an_account_and_head_office_is_told(engine: Engine) {
    let server = behind_a_proxy(engine).await;
    identity::create_user(&server.db, "marie", "marie's long password", Role::Manager).await.unwrap();
    let campaign = identity::PER_ACCOUNT.failures;
    let per_address = identity::PER_PAIR.free;
    // A hundred wrong guesses, five from each of twenty addresses: none of them is held up.
    for i in 0..campaign {
        let from = format!("198.51.100.{}", i / per_address + 1);
        let answer = sign_in_from(&server, &from, "marie", "a wrong guess").await;
        problem(answer, StatusCode::UNAUTHORIZED).await;
        if i == campaign - 2 {
            // One short of the campaign: nothing locked, nobody alerted.
            assert!(alerts_of_kind(&server, "account_locked").await.is_empty());
        }
    }
    // Now the account is locked, even for the right password from a fresh address…
    let held = sign_in_from(&server, "203.0.113.50", "marie", "marie's long password").await;
    let wait = retry_after(&held);
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait} s");
    let body = problem(held, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["detail"].as_str().unwrap().contains("for this account"), "{body}");
    // …other accounts are not…
    assert_eq!(sign_in_from(&server, "203.0.113.50", "admin", ADMIN_PASSWORD).await.status(), StatusCode::OK);
    // …and head office is told.
    let alerts = alerts_of_kind(&server, "account_locked").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["subject"], "user:marie");
    assert!(alerts[0]["resolved_ms"].is_null());
    assert!(alerts[0]["message"].as_str().unwrap().contains("100 failed sign-ins"), "{alerts:?}");
    // An admin who gives marie a new password lifts the lock and closes the alert.
    let reset = server
        .http
        .post(format!("{}/api/users/marie/password", server.base))
        .bearer_auth(&server.admin)
        .json(&json!({ "new_password": "another long password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let answer = sign_in_from(&server, "203.0.113.50", "marie", "another long password").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(!alerts_of_kind(&server, "account_locked").await[0]["resolved_ms"].is_null());
    server.finish().await;
}

async fn sign_up(server: &TestServer, body: Value) -> reqwest::Response {
    server.http.post(format!("{}/api/shop/accounts", server.base)).json(&body).send().await.unwrap()
}

/// The messages in the outbox, as (recipient, subject).
async fn outbox(server: &TestServer) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, subject FROM outbox ORDER BY created_ms, id")
        .fetch_all(server.db.pool())
        .await
        .unwrap()
}

/// A value's shape: its keys, recursively, with every value blanked.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(fields) => fields.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
        _ => Value::Null,
    }
}

async fn sign_up_says_the_same_for_a_taken_address_and_tells_its_owner(engine: Engine) {
    let server = TestServer::start(engine).await;
    let new = sign_up(
        &server,
        json!({ "email": "ana@example.com", "name": "Ana", "password": "a long enough password" }),
    )
    .await;
    let (new_status, new_body): (StatusCode, Value) = (new.status(), new.json().await.unwrap());
    assert_eq!(new_status, StatusCode::CREATED, "{new_body}");
    assert!(outbox(&server).await.is_empty(), "a new address is sent nothing");

    // Someone tries the same address (another case, another name and password).
    let taken = sign_up(
        &server,
        json!({ "email": "ANA@example.com", "name": "Mallory", "password": "another long password", "language": "en" }),
    )
    .await;
    let (taken_status, taken_body): (StatusCode, Value) = (taken.status(), taken.json().await.unwrap());
    assert_eq!(taken_status, new_status);
    assert_eq!(shape(&taken_body), shape(&new_body));
    assert_eq!(taken_body, new_body, "the very same answer");
    // The owner is told, in their own language, and only once a day however often it is tried.
    sign_up(&server, json!({ "email": "ana@example.com", "name": "M", "password": "another long password" }))
        .await;
    assert_eq!(outbox(&server).await, [("ana@example.com".to_owned(), "Votre compte Caisse".to_owned())]);
    // The account is unchanged: the owner's password works, the other one does not.
    let sign_in = |password: &'static str| {
        server
            .http
            .post(format!("{}/api/shop/sessions", server.base))
            .json(&json!({ "email": "ana@example.com", "password": password }))
            .send()
    };
    assert_eq!(sign_in("a long enough password").await.unwrap().status(), StatusCode::OK);
    problem(sign_in("another long password").await.unwrap(), StatusCode::UNAUTHORIZED).await;
    server.finish().await;
}

async fn guessable_passwords_are_refused_with_the_reason(engine: Engine) {
    let server = TestServer::start(engine).await;
    let refused = |response: reqwest::Response, field: &'static str| async move {
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["field"], field, "{body}");
        let detail = body["detail"].as_str().unwrap().to_owned();
        assert!(detail.starts_with("this password is too easy to guess"), "{detail}");
        // One sentence: zxcvbn's warning and advice joined, no full stop inside.
        assert!(!detail.trim_end_matches('.').contains(". "), "{detail}");
        detail
    };
    // Shoppers.
    let detail = refused(
        sign_up(&server, json!({ "email": "bob@example.com", "name": "Bob", "password": "password1234" }))
            .await,
        "password",
    )
    .await;
    assert!(detail.contains("common password"), "{detail}");
    let detail = refused(
        sign_up(&server, json!({ "email": "bob@example.com", "name": "Bob", "password": "aaaaaaaaaaaa" }))
            .await,
        "password",
    )
    .await;
    assert!(detail.contains("repeats"), "{detail}");
    // The shopper's own name and address count as guessable: fine for Bob, not for Zéphyrine.
    let own = "zephyrinequillfeather";
    refused(
        sign_up(
            &server,
            json!({ "email": "zephyrine.quillfeather@example.com", "name": "Zephyrine Quillfeather", "password": own }),
        )
        .await,
        "password",
    )
    .await;
    let fine = sign_up(&server, json!({ "email": "bob@example.com", "name": "Bob", "password": own })).await;
    assert_eq!(fine.status(), StatusCode::CREATED);

    // Head office: a new account, a reset, one's own change.
    let post = |path: &str, body: Value| {
        server.http.post(format!("{}{path}", server.base)).bearer_auth(&server.admin).json(&body).send()
    };
    let new_user =
        |password: &str| json!({ "username": "quillfeather", "role": "manager", "password": password });
    refused(post("/api/users", new_user("password1234")).await.unwrap(), "password").await;
    refused(post("/api/users", new_user("quillfeather2031!")).await.unwrap(), "password").await;
    assert_eq!(
        post("/api/users", new_user("a long enough password")).await.unwrap().status(),
        StatusCode::CREATED
    );
    refused(
        post("/api/users/quillfeather/password", json!({ "new_password": "aaaaaaaaaaaa" })).await.unwrap(),
        "new_password",
    )
    .await;
    refused(
        post(
            "/api/auth/password",
            json!({ "current_password": ADMIN_PASSWORD, "new_password": "password1234" }),
        )
        .await
        .unwrap(),
        "new_password",
    )
    .await;
    // And the first admin's password, when one is given at the first start.
    let empty = common::TestDb::new(engine).await;
    let db = sync_server::Db::connect(&empty.url, 2).await.unwrap();
    let error = identity::ensure_first_admin(&db, Some("password1234".into())).await.unwrap_err();
    assert!(error.to_string().contains("too easy to guess"), "{error}");
    db.close().await;
    empty.drop_database().await;
    server.finish().await;
}

async fn an_ipv6_site_rotating_its_64s_is_counted_as_one(engine: Engine) {
    let server = TestServer::start(engine).await;
    let policy = Policy::new(2, 0);
    // A client of one /48 moves to a new /64 for every request: each /64 is fresh, but the
    // site's allowance (four /64s' worth) runs out all the same.
    let mut allowed = 0;
    for subnet in 0..20 {
        let address = format!("2001:db8:7:{subnet:x}::1").parse().unwrap();
        let quota = server.state.limiter.hit(&Bucket::SignInFrom(address), policy);
        if quota.allowed {
            allowed += 1;
        } else {
            assert_eq!(quota.limit, policy.per_minute * limits::SITE_SHARE);
        }
    }
    assert_eq!(allowed, policy.per_minute * limits::SITE_SHARE);
    // Another site is not held up by it, nor is an IPv4 client.
    for address in ["2001:db8:8::1", "203.0.113.9"] {
        let quota = server.state.limiter.hit(&Bucket::SignInFrom(address.parse().unwrap()), policy);
        assert!(quota.allowed, "{address}");
    }
    server.finish().await;
}

async fn throttle_rows(server: &TestServer) -> i64 {
    server.count("attempt_throttle").await
}

async fn expired_throttles_are_swept(engine: Engine) {
    let server = behind_a_proxy(engine).await;
    // A failed sign-in leaves throttle rows: the pair's, the address's, the account's.
    let answer = sign_in_from(&server, "198.51.100.7", "admin", "a wrong guess").await;
    problem(answer, StatusCode::UNAUTHORIZED).await;
    let fresh = throttle_rows(&server).await;
    assert!(fresh >= 3, "{fresh}");
    // Thousands more from long ago, whose windows closed and locks passed.
    sqlx::query(
        "INSERT INTO attempt_throttle (key, failures, window_start_ms, locked_until_ms, expires_ms)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
         SELECT 'sign-in:old-' || CAST(i AS TEXT), 3, 1000, 2000, 2000 FROM n",
    )
    .execute(server.db.pool())
    .await
    .unwrap();
    // And one guesser whose window closed long ago but whose lock still runs: kept.
    sqlx::query(
        "INSERT INTO attempt_throttle (key, failures, window_start_ms, locked_until_ms, expires_ms)
         VALUES ('sign-in:still-locked', 30, 1000, $1, $1)",
    )
    .bind(server.clock.now_ms() + 60_000)
    .execute(server.db.pool())
    .await
    .unwrap();
    assert_eq!(identity::sweep_attempts(&server.db).await.unwrap(), 2500);
    assert_eq!(throttle_rows(&server).await, fresh + 1);
    // The rows a failure writes say when they may go: once their window has closed.
    let left: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT key, window_start_ms, expires_ms FROM attempt_throttle WHERE key LIKE '%198.51.100.7'",
    )
    .fetch_all(server.db.pool())
    .await
    .unwrap();
    assert_eq!(left.len(), 2, "{left:?}");
    for (key, start, expires) in left {
        assert!(expires >= start + 15 * 60_000, "{key}: {start} {expires}");
    }
    server.finish().await;
}

async fn enrol(server: &TestServer, register: &str, code: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/registers/enrol", server.base))
        .json(&json!({ "code": code, "register": register }))
        .send()
        .await
        .unwrap()
}

async fn wrong_codes_hold_up_one_register_from_one_address(engine: Engine) {
    let server = TestServer::start(engine).await;
    let (a, b) = (register_of(0), register_of(1));
    for register in [&a, &b] {
        identity::add_register(&server.db, register).await.unwrap();
    }
    let code_a = identity::issue_enrolment_code(&server.db, &a).await.unwrap();
    let code_b = identity::issue_enrolment_code(&server.db, &b).await.unwrap();
    // B's code named as A's is refused like a wrong one (and counted against A).
    let refused = problem(enrol(&server, a.as_str(), &code_b).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["field"], "code");
    for _ in 1..identity::PER_ENROLLER.free {
        problem(enrol(&server, a.as_str(), "ABCD-EFGH").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // A is held up from this address, for seconds to minutes, not an hour: even its right code.
    let held = enrol(&server, a.as_str(), &code_a).await;
    let first = retry_after(&held);
    assert!((1..=30).contains(&first), "{first} s");
    problem(held, StatusCode::TOO_MANY_REQUESTS).await;
    // B's right code from the same address goes through at once.
    let enrolled = enrol(&server, b.as_str(), &code_b).await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    let enrolled: Value = enrolled.json().await.unwrap();
    assert_eq!(enrolled["register"], b.as_str());
    // Each further wrong code for A doubles its wait, up to a quarter of an hour.
    server.clock.advance(Duration::from_secs(first));
    problem(enrol(&server, a.as_str(), "ABCD-EFGH").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    let second = retry_after(&enrol(&server, a.as_str(), &code_a).await);
    assert!((31..=60).contains(&second), "{second} s");
    assert_eq!(identity::PER_ENROLLER.wait_ms(1_000), 15 * 60_000);
    // Once the wait is over, A's right code enrols it.
    server.clock.advance(Duration::from_secs(second));
    let enrolled = enrol(&server, a.as_str(), &code_a).await;
    assert_eq!(enrolled.status(), StatusCode::OK);
    // A register's name that is not one is refused as such.
    let body =
        problem(enrol(&server, "not a register", "ABCD-EFGH").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["field"], "register");
    server.finish().await;
}

async fn sessions_and_tokens_end_when_the_server_s_clock_says(engine: Engine) {
    let server = TestServer::start(engine).await;
    let shopper = common::shop::sign_up_and_in(&server, "ana@example.com").await;
    let me = |token: String, path: &'static str| {
        let request = server.http.get(format!("{}{path}", server.base)).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(me(server.admin.clone(), "/api/auth/me").await.status(), StatusCode::OK);
    assert_eq!(me(shopper.access.clone(), "/api/shop/me").await.status(), StatusCode::OK);
    // A shopper's access token lasts a quarter of an hour; a new one comes from the refresh token.
    server.clock.advance(Duration::from_secs(15 * 60));
    let expired = problem(me(shopper.access.clone(), "/api/shop/me").await, StatusCode::UNAUTHORIZED).await;
    assert!(expired["detail"].as_str().unwrap().contains("expired"), "{expired}");
    let refreshed = server
        .http
        .post(format!("{}/api/shop/sessions/refresh", server.base))
        .json(&json!({ "refresh_token": shopper.refresh }))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let access = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(access, "/api/shop/me").await.status(), StatusCode::OK);
    // A head-office session lasts twelve hours.
    server.clock.advance(Duration::from_secs(12 * 3_600 - 15 * 60));
    let expired = problem(me(server.admin.clone(), "/api/auth/me").await, StatusCode::UNAUTHORIZED).await;
    assert!(expired["detail"].as_str().unwrap().contains("expired"), "{expired}");
    // A refresh token lasts thirty days.
    server.clock.advance(Duration::from_secs(30 * 24 * 3_600));
    let refresh = refreshed["refresh_token"].as_str().unwrap();
    let refused = server
        .http
        .post(format!("{}/api/shop/sessions/refresh", server.base))
        .json(&json!({ "refresh_token": refresh }))
        .send()
        .await
        .unwrap();
    problem(refused, StatusCode::UNAUTHORIZED).await;
    server.finish().await;
}
