//! The security review's items, each held by a test against the real server: keys at rest
//! and in every output, one account never reading another's data, no user-chosen upstream
//! host, size limits answered in the envelope, and no HTTP admin surface.

use crate::helpers::{Holder, SimApp, TestApp};
use asa_model::Credits;
use asa_model::KeyKind;
use asa_server::Config;

/// A server whose SQLite file sits in a folder the test can read afterwards.
async fn app_with_db(dir: &tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> SimApp {
    let db = dir.path().join("asa.db");
    SimApp::spawn_with(move |c| {
        c.database_url = format!("sqlite://{}", db.display());
        tweak(c);
    })
    .await
}

/// Every byte the database keeps on disk (main file, WAL, shared memory), as lossy text.
fn database_bytes(dir: &tempfile::TempDir) -> String {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("asa.db") {
            all.extend(std::fs::read(&path).unwrap());
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

/// The part of a key after its public short prefix: what must never be shown or kept.
fn secret_part(key: &str) -> &str {
    &key[9 + 12..]
}

#[tokio::test]
async fn a_key_is_kept_only_as_its_hash_and_never_in_traces_or_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let sim = app_with_db(&dir, |c| c.admin.token = "op-secret-token".into()).await;
    let app = &sim.app;
    let h = app.account("custom", 1000, KeyKind::Live).await;
    // A billed fetch, a refusal and a trace read, with the key in each of its three places.
    let ok = app
        .get(&format!(
            "/api/v1/amazon/product?query=B000LQXC2Q&api_key={}",
            h.key
        ))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let refused = app
        .send(
            app.client
                .get(format!("{}/api/v1/amazon/product?query=nope", app.base))
                .header("X-API-Key", &h.key),
        )
        .await;
    refused.assert_envelope("invalid_params");
    let id = ok.header("x-request-id").unwrap();
    let trace = app.get_as(&h.key, &format!("/api/v1/requests/{id}")).await;
    assert_eq!(trace.status, 200, "{}", trace.text);
    assert!(!trace.text.contains(secret_part(&h.key)), "{}", trace.text);
    assert!(!refused.text.contains(secret_part(&h.key)));

    let metrics = app.metrics().await;
    assert_eq!(metrics.status, 200);
    assert!(!metrics.text.contains(secret_part(&h.key)));

    // At rest: the SHA-256 of the key is there, the key itself is nowhere on disk.
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.path().join("asa.db").display()))
            .await
            .unwrap();
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE id = ?")
        .bind(&h.key_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 64, "{stored}");
    assert_ne!(stored, h.key);
    assert!(!stored.contains(secret_part(&h.key)));
    pool.close().await;
    assert!(!database_bytes(&dir).contains(secret_part(&h.key)));
}

#[tokio::test]
async fn refusals_never_echo_the_presented_key() {
    let app = TestApp::spawn().await;
    let unknown = format!("asa_live_{}", "Zq7".repeat(11).get(..32).unwrap());
    let malformed = "asa_live_not-a-valid-secret-but-long-enough-to-see";
    for (key, code) in [
        (unknown.as_str(), "unauthorized"),
        (malformed, "unauthorized"),
    ] {
        for a in [
            app.get_as(key, "/api/v1/account").await,
            app.get(&format!("/api/v1/account?api_key={key}")).await,
        ] {
            a.assert_envelope(code);
            assert!(!a.text.contains(&key[9..]), "{}", a.text);
        }
    }
    let h = app.account("free", 0, KeyKind::Live).await;
    let rotated = app.store.revoke_key(&h.key_id.clone()).await.unwrap();
    assert!(rotated.revoked_at.is_some());
    let a = app.get_as(&h.key, "/api/v1/account").await;
    a.assert_envelope("revoked");
    assert!(!a.text.contains(secret_part(&h.key)));
}

/// Two accounts; each made one request. Returns their holders and request ids.
async fn two_accounts(app: &TestApp) -> [(Holder, String); 2] {
    let mut out = Vec::new();
    for _ in 0..2 {
        let h = app.account("free", 0, KeyKind::Live).await;
        // Refused at the parameter step: traced and counted in usage, nothing fetched.
        let a = app.get_as(&h.key, "/api/v1/amazon/product?query=bad").await;
        a.assert_envelope("invalid_params");
        let id = a.header("x-request-id").unwrap().to_string();
        out.push((h, id));
    }
    let [a, b]: [(Holder, String); 2] = out.try_into().ok().unwrap();
    [a, b]
}

#[tokio::test]
async fn no_account_reads_another_accounts_traces() {
    let app = TestApp::spawn().await;
    let [(a, a_req), (b, b_req)] = two_accounts(&app).await;
    // Each reads its own.
    assert_eq!(
        app.get_as(&a.key, &format!("/api/v1/requests/{a_req}"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get_as(&b.key, &format!("/api/v1/requests/{b_req}"))
            .await
            .status,
        200
    );
    // Another's trace answers exactly like one that never existed.
    let foreign = app
        .get_as(&b.key, &format!("/api/v1/requests/{a_req}"))
        .await;
    foreign.assert_envelope("not_found");
    let missing = app
        .get_as(&b.key, "/api/v1/requests/req_000000000000")
        .await;
    missing.assert_envelope("not_found");
    assert_eq!(
        foreign.body["message"]
            .as_str()
            .unwrap()
            .replace(&a_req, "ID"),
        missing.body["message"]
            .as_str()
            .unwrap()
            .replace("req_000000000000", "ID")
    );
}

#[tokio::test]
async fn the_account_page_shows_only_the_callers_account_usage_and_key() {
    let app = TestApp::spawn().await;
    let two = two_accounts(&app).await;
    let [(a, _), (b, _)] = &two;
    let a_prefix = &a.key[9..21];
    let b_prefix = &b.key[9..21];
    // Reading a trace writes every queued trace first, A's included.
    let b_req = &two[1].1;
    assert_eq!(
        app.get_as(&b.key, &format!("/api/v1/requests/{b_req}"))
            .await
            .status,
        200
    );
    let page = app.get_as(&b.key, "/api/v1/account").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.body["account_id"], b.account_id.as_str());
    assert_eq!(page.body["key"]["id"], b.key_id.as_str());
    assert_eq!(page.body["key"]["short_prefix"], b_prefix);
    // B's usage counts B's requests only (its trace read may not be written yet).
    let total = page.body["usage"]["total"]["requests"].as_i64().unwrap();
    assert!((1..=2).contains(&total), "{}", page.text);
    let by_key = page.body["usage"]["by_key"].as_array().unwrap();
    assert!(
        by_key.iter().all(|k| k["key_prefix"] == b_prefix),
        "{by_key:?}"
    );
    assert!(!page.text.contains(a_prefix));
    assert!(!page.text.contains(a.account_id.as_str()));
    assert!(!page.text.contains(a.key_id.as_str()));
    // The account id is not a parameter: asking for A's gets B's page all the same.
    let asked = app
        .get_as(
            &b.key,
            &format!("/api/v1/account?account_id={}", a.account_id),
        )
        .await;
    assert_eq!(asked.body["account_id"], b.account_id.as_str());
}

#[tokio::test]
async fn a_product_url_on_any_other_host_is_refused_before_any_fetch() {
    let sim = SimApp::spawn().await;
    let app = &sim.app;
    let h = app.account("custom", 1000, KeyKind::Live).await;
    for url in [
        "https://evil.example/dp/B000LQXC2Q",
        "http://127.0.0.1:1/dp/B000LQXC2Q",
        "http://169.254.169.254/dp/B000LQXC2Q",
        "https://www.amazon.de@evil.example/dp/B000LQXC2Q",
        "https://amazon.de.evil.example/dp/B000LQXC2Q",
        "https://notamazon.de/dp/B000LQXC2Q",
        "https://evil.example/www.amazon.de/dp/B000LQXC2Q",
        "file:///etc/amazon.de/dp/B000LQXC2Q",
    ] {
        let q: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
        let a = app
            .get_as(&h.key, &format!("/api/v1/amazon/product?query={q}"))
            .await;
        a.assert_envelope("invalid_params");
        assert!(a.header("asa-attempts").is_none(), "{url} was fetched");
    }
    // Nor does `domain` take a host: only the marketplace table's TLDs.
    for domain in ["evil.example", "de.evil.example", "127.0.0.1", "de/../x"] {
        let d: String = url::form_urlencoded::byte_serialize(domain.as_bytes()).collect();
        let a = app
            .get_as(
                &h.key,
                &format!("/api/v1/amazon/search?query=usb&domain={d}"),
            )
            .await;
        a.assert_envelope("invalid_params");
        assert!(a.body["message"].as_str().unwrap().contains("`domain`"));
    }
    // The account paid nothing for any of it.
    assert_eq!(app.credits(&h.account_id).await.0, Credits(1000));
}

#[tokio::test]
async fn oversized_query_and_body_are_refused_in_the_envelope() {
    let app = TestApp::spawn_with(|c| {
        c.max_query_bytes = 2048;
        c.max_body_bytes = 1024;
    })
    .await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let long = "a".repeat(4096);
    let a = app
        .get_as(&h.key, &format!("/api/v1/amazon/search?query={long}"))
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("query string"));
    // Checked before the key: an oversized query costs no key lookup and no trace.
    app.get(&format!("/api/v1/account?x={long}"))
        .await
        .assert_envelope("invalid_params");
    // A body streamed without a length is cut at the limit all the same.
    let chunks = futures::stream::iter(
        (0..8).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'x'; 512]))),
    );
    let a = app
        .send(
            app.client
                .post(format!("{}/api/v1/amazon/batch", app.base))
                .bearer_auth(&h.key)
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("`body`"));
}

#[tokio::test]
async fn oversized_headers_are_refused_in_the_envelope() {
    let app = TestApp::spawn().await;
    let h = app.account("free", 0, KeyKind::Live).await;
    let a = app
        .send(
            app.client
                .get(format!("{}/api/v1/account", app.base))
                .bearer_auth(&h.key)
                .header("X-Padding", "p".repeat(32 * 1024)),
        )
        .await;
    a.assert_envelope("invalid_params");
    assert!(a.body["message"].as_str().unwrap().contains("headers"));
}

#[tokio::test]
async fn there_is_no_admin_api_over_http() {
    // Operators administer with `asa admin` on the database; the listener serves no
    // admin route under any usual name, with or without a key.
    let app = TestApp::spawn().await;
    let h = app.account("custom", 0, KeyKind::Live).await;
    for path in [
        "/admin",
        "/admin/accounts",
        "/api/v1/admin/accounts",
        "/api/v1/accounts",
        "/api/v1/keys",
        &format!("/api/v1/accounts/{}", h.account_id),
        &format!("/api/v1/keys/{}", h.key_id),
    ] {
        app.get_as(&h.key, path).await.assert_envelope("not_found");
        app.send(app.client.post(format!("{}{path}", app.base)).body("{}"))
            .await
            .assert_envelope("not_found");
    }
}
